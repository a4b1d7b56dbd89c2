/**
 * Issue 13, metadata on etcd: `kcli server start --metadata etcd://...` processes against a real
 * etcd (Debian's etcd-server). Two brokers form one cluster: one cluster id, both registered with
 * the ports they bound, one controller, seen alike from either broker by kafkajs. Start-up
 * refusals, each exit 1 with one line naming the conflict: etcd unreachable, a node.id that a live
 * broker holds, a data directory of another cluster.
 */
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {etcdMissing, freePort, startEtcd, type TestEtcd} from './etcd.js'
import {type BrokerProcess, removeDir, spawnBroker, startServerSync, tempDir} from './harness.js'

const startSync = (args: string[]) => startServerSync(['--port', '0', '--log-level', 'warn', ...args])

const SHORT_SESSION = {'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '500'}

describe.skipIf(etcdMissing !== null)('brokers with metadata on etcd', () => {
  let etcd: TestEtcd
  const brokers: BrokerProcess[] = []
  const dirs: string[] = []
  const store = () => `etcd://${etcd.endpoint}/kcli-e2e`

  beforeAll(async () => {
    etcd = await startEtcd()
    for (const nodeId of [1, 2]) {
      const dir = tempDir()
      dirs.push(dir)
      brokers.push(await spawnBroker(dir, {'node.id': String(nodeId), 'metadata.store': store(), ...SHORT_SESSION}))
    }
  }, 90_000)

  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.kill('SIGTERM')))
    await etcd?.stop()
    for (const d of dirs) removeDir(d)
  })

  it('form one cluster: the same id, both brokers with their bound ports, one controller, from either broker', async () => {
    const seen = []
    for (const b of brokers) {
      const admin = new Kafka({brokers: [b.bootstrap], clientId: 'cluster-etcd', logLevel: logLevel.NOTHING}).admin()
      await admin.connect()
      try {
        seen.push(await admin.describeCluster())
      } finally {
        await admin.disconnect()
      }
    }
    expect(seen[0]!.clusterId).toBe(seen[1]!.clusterId)
    for (const cluster of seen) {
      expect(cluster.brokers.map((b) => ({nodeId: b.nodeId, port: b.port})).sort((a, b) => a.nodeId - b.nodeId)).toEqual([
        {nodeId: 1, port: brokers[0]!.port},
        {nodeId: 2, port: brokers[1]!.port},
      ])
      expect(cluster.controller).toBe(1)
    }
  }, 30_000)

  it('refuses a node.id that a live broker holds, after a session timeout, naming it', () => {
    const dir = tempDir()
    dirs.push(dir)
    const result = startSync(['--data-dir', dir, '--metadata', store(), '--override', 'node.id=2', '--override', 'broker.session.timeout.ms=3000'])
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(`Error: node.id 2 is already registered by a live broker (127.0.0.1:${brokers[1]!.port}) in /kcli-e2e of etcd at ${etcd.endpoint}: give this broker another node.id\n`)
  }, 60_000)

  it('refuses a data directory that belongs to another cluster, naming both ids', () => {
    // Broker 1's directory, pointed at another prefix: another cluster.
    const result = startSync(['--data-dir', dirs[0]!, '--metadata', `etcd://${etcd.endpoint}/other-cluster`, '--override', 'node.id=1'])
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/^Error: The data directory .* belongs to cluster [\w-]{22}, but the metadata store \(etcd:\/\/.*\/other-cluster\) holds cluster [\w-]{22}: use another data directory or the cluster's metadata store\n$/)
  }, 60_000)

  it('exits 1 naming the endpoint when etcd does not answer', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const port = await freePort()
    const result = startSync(['--data-dir', dir, '--metadata', `etcd://127.0.0.1:${port}`])
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(`Error: Cannot reach etcd at 127.0.0.1:${port} (metadata.store): connection refused (ECONNREFUSED)\n`)
  }, 60_000)

  it('refuses a metadata.store that is not local or etcd://, exit 2 naming the key', () => {
    const result = startSync(['--metadata', 'zk://127.0.0.1:2181'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('metadata.store')
  })
})
