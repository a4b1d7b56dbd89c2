/**
 * Issue 13 acceptance: the exactly-once consume-transform-produce loop of issue 7 (kafkajs,
 * transactions with sendOffsets; test/e2e/transactions-eos-worker.ts) on a three-broker cluster
 * with everything replicated (input, output, __consumer_offsets, __transaction_state: RF=3). While
 * it runs, the broker of its transaction coordinator is SIGKILLed, then the leader of the output
 * partition; each comes back and rejoins the ISR. The output, read with read_committed, holds each
 * input record exactly once.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {etcdMissing, startEtcd, type TestEtcd} from './etcd.js'
import {type BrokerProcess, PROJECT_ROOT, removeDir, spawnBroker, tempDir, pollUntil} from './harness.js'
import {RawClient} from './peers.js'
import {kafkaFor, readValues} from './transactions-support.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../src/lib/protocol/uuid.js'

const INPUT = 'ceos-in'
const OUTPUT = 'ceos-out'
const GROUP = 'ceos-group'
const TRANSACTIONAL_ID = `eos-${GROUP}`
const COUNT = 300

describe.skipIf(etcdMissing !== null)('exactly-once on a replicated cluster through SIGKILLs of the coordinator and of a leader', () => {
  let etcd: TestEtcd
  const brokers = new Map<number, BrokerProcess>()
  const dirs = new Map<number, string>()
  const ports = new Map<number, number>()
  let worker: ChildProcess | undefined
  const alive = () => [...brokers.values()].filter((b) => b.child.exitCode === null && b.child.signalCode === null)
  const bootstrap = () => alive().map((b) => b.bootstrap).join(',')

  async function start(nodeId: number): Promise<void> {
    const dir = dirs.get(nodeId) ?? tempDir()
    dirs.set(nodeId, dir)
    const b = await spawnBroker(
      dir,
      {
        'node.id': String(nodeId),
        'metadata.store': `etcd://${etcd.endpoint}/kcli-eos`,
        'broker.session.timeout.ms': '3000',
        'broker.heartbeat.interval.ms': '500',
        'replica.lag.time.max.ms': '4000',
        'replica.fetch.backoff.ms': '200',
        'offsets.topic.num.partitions': '3',
        'transaction.state.log.num.partitions': '3',
        'group.min.session.timeout.ms': '1000',
        'group.initial.rebalance.delay.ms': '0',
      },
      ports.get(nodeId) ?? 0,
    )
    ports.set(nodeId, b.port)
    brokers.set(nodeId, b)
  }

  async function ask<T>(fn: (raw: RawClient) => Promise<T>): Promise<T> {
    let last: unknown
    for (const b of alive()) {
      try {
        const raw = await RawClient.connect(b.port)
        try {
          return await fn(raw)
        } finally {
          raw.close()
        }
      } catch (error) {
        last = error
      }
    }
    throw last
  }

  const coordinator = () => ask(async (raw) => (await raw.request(ApiKey.FindCoordinator, 3, {key: TRANSACTIONAL_ID, keyType: 1})))
  const partitions = () =>
    ask(async (raw) => {
      const r = await raw.request(ApiKey.Metadata, 12, {topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      return r.topics.flatMap((t) => t.partitions.map((p) => ({topic: t.name, partition: p.partitionIndex, leader: p.leaderId, isr: p.isrNodes.length})))
    })
  const fullIsr = (ps: Array<{isr: number; leader: number}>) => ps.length > 0 && ps.every((p) => p.isr === 3 && p.leader >= 0)

  function startWorker(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test/e2e/transactions-eos-worker.ts'), [...dirs.keys()].map((n) => `127.0.0.1:${ports.get(n)}`).join(','), INPUT, OUTPUT, GROUP], {cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, EOS_DEBUG: '1'}})
    // Each transaction's outcome, shown when the check fails.
    child.stderr!.on('data', (d: Buffer) => workerLog.push(d.toString()))
    worker = child
    // A loop that gave up while brokers were away starts again, as an application's supervisor would.
    child.once('exit', () => {
      if (worker === child && !stopping) startWorker()
    })
  }
  let stopping = false
  const workerLog: string[] = []

  beforeAll(async () => {
    etcd = await startEtcd()
    for (const nodeId of [1, 2, 3]) await start(nodeId)
    await ask((raw) =>
      raw.request(ApiKey.CreateTopics, 7, {
        topics: [
          {name: INPUT, numPartitions: 2, replicationFactor: 3, assignments: [], configs: [{name: 'min.insync.replicas', value: '2'}]},
          {name: OUTPUT, numPartitions: 1, replicationFactor: 3, assignments: [], configs: [{name: 'min.insync.replicas', value: '2'}]},
        ],
        timeoutMs: 10_000,
        validateOnly: false,
      }),
    )
    const producer = kafkaFor(bootstrap()).producer({idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    await producer.send({topic: INPUT, acks: -1, messages: Array.from({length: COUNT}, (_, i) => ({partition: i % 2, value: String(i)}))})
    await producer.disconnect()
  }, 120_000)

  afterAll(async () => {
    stopping = true
    worker?.kill('SIGKILL')
    await Promise.all([...brokers.values()].map((b) => b.kill('SIGKILL')))
    await etcd?.stop()
    for (const d of dirs.values()) removeDir(d)
  })

  async function outputOffset(): Promise<number> {
    return ask(async (raw) => {
      const meta = await raw.request(ApiKey.Metadata, 12, {topics: [{name: OUTPUT, topicId: ZERO_UUID}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      const leader = meta.topics[0]!.partitions[0]!.leaderId
      const b = brokers.get(leader)
      if (!b) return -1
      const c = await RawClient.connect(b.port)
      try {
        const r = await c.request(ApiKey.ListOffsets, 7, {replicaId: -1, isolationLevel: 1, topics: [{name: OUTPUT, partitions: [{partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n}]}]})
        return Number(r.topics[0]!.partitions[0]!.offset)
      } finally {
        c.close()
      }
    })
  }

  it('holds each input record exactly once', async () => {
    await pollUntil(partitions, fullIsr, 30_000, 'full ISR before the run')
    startWorker()
    await pollUntil(outputOffset, (o) => o >= 40, 60_000, 'the loop commits')
    // 1. The transaction coordinator's broker.
    const c = await coordinator()
    expect(c.errorCode).toBe(ErrorCode.NONE)
    await brokers.get(c.nodeId)!.kill('SIGKILL')
    await pollUntil(coordinator, (r) => r.errorCode === ErrorCode.NONE && r.nodeId !== c.nodeId, 30_000, 'the coordinator moves')
    const before = await outputOffset()
    await pollUntil(outputOffset, (o) => o > before + 20, 60_000, 'the loop commits on the new coordinator')
    await start(c.nodeId)
    await pollUntil(partitions, fullIsr, 60_000, 'full ISR after the coordinator came back')
    // 2. The output partition's leader.
    const leader = (await partitions()).find((p) => p.topic === OUTPUT)!.leader
    await brokers.get(leader)!.kill('SIGKILL')
    await pollUntil(partitions, (ps) => ps.some((p) => p.topic === OUTPUT && p.leader >= 0 && p.leader !== leader), 30_000, 'a new output leader')
    await start(leader)
    const out = await readValues(bootstrap(), OUTPUT, {readUncommitted: false, expected: COUNT, timeoutMs: 120_000})
    const counts = new Map<string, number>()
    for (const v of out) counts.set(v, (counts.get(v) ?? 0) + 1)
    const duplicates = [...counts].filter(([, n]) => n > 1)
    const missing = Array.from({length: COUNT}, (_, i) => `out-${i}`).filter((v) => !counts.has(v))
    expect(duplicates, workerLog.join('')).toEqual([])
    expect(missing, workerLog.join('')).toEqual([])
    expect(out).toHaveLength(COUNT)
  }, 300_000)
})
