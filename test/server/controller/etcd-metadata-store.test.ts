/**
 * EtcdMetadataStore against a real etcd (Debian's etcd-server): two brokers' stores on one prefix
 * share the cluster id, see each other, elect one controller and see each other's writes; the
 * controller key moves when its holder's session ends; producer id blocks never overlap under
 * concurrent allocation; partition states are written in batched transactions, each partition its
 * own compare-and-swap; a node.id held by a live broker and an unreachable etcd are refused with
 * messages that name them; another prefix is another cluster.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EtcdMetadataStore} from '../../../src/server/controller/etcd-metadata-store.js'
import {MetadataStoreError} from '../../../src/server/controller/metadata-store.js'
import {parseMetadataStoreLocation} from '../../../src/lib/config/metadata-store-location.js'
import {etcdMissing, freePort, startEtcd, type TestEtcd} from '../../e2e/etcd.js'
import {waitUntil} from '../../e2e/harness.js'

describe('metadata.store values', () => {
  it('parses local and etcd://host:port,...[/prefix], and names what is wrong', () => {
    expect(parseMetadataStoreLocation('')).toEqual({kind: 'local'})
    expect(parseMetadataStoreLocation('local')).toEqual({kind: 'local'})
    expect(parseMetadataStoreLocation('etcd://127.0.0.1:2379')).toEqual({kind: 'etcd', endpoints: ['127.0.0.1:2379'], prefix: '/kcli'})
    expect(parseMetadataStoreLocation('etcd://a:1,b:2/prod/kafka/')).toEqual({kind: 'etcd', endpoints: ['a:1', 'b:2'], prefix: '/prod/kafka'})
    expect(() => parseMetadataStoreLocation('zk://a:1')).toThrow(/must be 'local' or etcd:\/\//)
    expect(() => parseMetadataStoreLocation('etcd://a')).toThrow(/'a' is not host:port/)
    expect(() => parseMetadataStoreLocation('etcd://a:99999')).toThrow(/'a:99999' is not host:port/)
  })
})

describe.skipIf(etcdMissing !== null)('EtcdMetadataStore on a real etcd', () => {
  let etcd: TestEtcd
  const open = (nodeId: number, prefix = '/kcli-test', sessionTimeoutMs = 2000) =>
    EtcdMetadataStore.open({endpoints: [etcd.endpoint], prefix, self: {nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack: null}, sessionTimeoutMs, connectTimeoutMs: 5000})

  beforeAll(async () => {
    etcd = await startEtcd()
  }, 30_000)

  afterAll(async () => {
    await etcd?.stop()
  })

  it('two brokers share the cluster id, see each other and one controller, and read each other\'s writes', async () => {
    const a = await open(1)
    const b = await open(2)
    try {
      expect(b.clusterId).toBe(a.clusterId)
      expect(a.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/)
      await waitUntil(() => a.brokers().length === 2)
      expect(a.brokers().map((x) => x.nodeId)).toEqual([1, 2])
      expect(a.controllerId()).toBe(1)
      expect(b.controllerId()).toBe(1)

      const created = await a.createTopic({name: 'orders', partitions: Array.from({length: 250}, (_, p) => ({partition: p, replicas: [1 + (p % 2)], leader: 1 + (p % 2), leaderEpoch: 0, isr: [1 + (p % 2)]})), configs: {'retention.ms': '1000'}, internal: false})
      expect(a.topic('orders')).toEqual(created)
      await waitUntil(() => b.topic('orders') !== undefined)
      expect(b.topic('orders')).toEqual(created)
      expect(b.topicById(created.topicId)?.name).toBe('orders')
      await expect(b.createTopic({name: 'orders', partitions: [], configs: {}, internal: false})).rejects.toMatchObject({code: 'TOPIC_ALREADY_EXISTS'})

      await b.addPartitions('orders', [{partition: 250, replicas: [2], leader: 2, leaderEpoch: 0, isr: [2]}])
      await b.setTopicConfigs('orders', {'cleanup.policy': 'compact'})
      await waitUntil(() => a.topic('orders')?.partitions.length === 251 && a.topic('orders')?.configs['cleanup.policy'] === 'compact')

      await a.setBrokerConfigs('', {'log.retention.ms': '5'})
      await a.setBrokerConfigs(2, {'log.flush.interval.messages': '7'})
      await waitUntil(() => b.brokerConfigs('')['log.retention.ms'] === '5' && b.brokerConfigs(2)['log.flush.interval.messages'] === '7')

      const credential = {salt: Buffer.from('salt'), iterations: 4096, storedKey: Buffer.from('stored'), serverKey: Buffer.from('server')}
      await a.alterScramCredentials({upsertions: [{user: 'al/ice', mechanism: 'SCRAM-SHA-256', credential}], deletions: []})
      await waitUntil(() => b.scramCredential('al/ice', 'SCRAM-SHA-256') !== undefined)
      expect(b.scramCredentials()).toEqual([{user: 'al/ice', mechanism: 'SCRAM-SHA-256', credential}])

      await b.deleteTopic('orders')
      await waitUntil(() => a.topic('orders') === undefined)
      expect(a.topics()).toEqual([])
    } finally {
      await a.close()
      await b.close()
    }
  }, 30_000)

  it('alterPartitions writes many partitions in batched transactions, each its own compare-and-swap', async () => {
    const a = await open(1, '/kcli-batch')
    const b = await open(2, '/kcli-batch')
    try {
      await waitUntil(() => a.brokers().length === 2)
      await a.createTopic({name: 'many', partitions: Array.from({length: 250}, (_, p) => ({partition: p, replicas: [1, 2], leader: 1, leaderEpoch: 0, isr: [1, 2]})), configs: {}, internal: false})
      await waitUntil(() => b.topic('many') !== undefined)
      // Another broker's change to partition 7 gets there first: whether a's copy has seen it yet
      // (fenced before the transaction) or not (the transaction's compare fails), 7 alone is fenced.
      expect(await b.alterPartition('many', 7, 0, {leader: 1, leaderEpoch: 0, isr: [1]})).toMatchObject({isr: [1], partitionEpoch: 1})
      const writes = Array.from({length: 250}, (_, p) => ({topic: 'many', partition: p, expectedPartitionEpoch: p === 3 ? 5 : 0, next: {leader: 2, leaderEpoch: 1, isr: [2, 1]}}))
      writes.push({topic: 'many', partition: 10, expectedPartitionEpoch: 0, next: {leader: 1, leaderEpoch: 1, isr: [1]}})
      const results = await a.alterPartitions(writes)
      expect(results).toHaveLength(251)
      const fenced = results.flatMap((r, i) => (r === null ? [i] : []))
      // 3: a stale partition epoch; 7: changed by b; 250: partition 10 a second time in one batch.
      expect(fenced).toEqual([3, 7, 250])
      expect(results[0]).toMatchObject({partition: 0, leader: 2, leaderEpoch: 1, isr: [2, 1], partitionEpoch: 1})
      const seen = b.topic('many')!.partitions
      await waitUntil(() => b.topic('many')!.partitions.filter((p) => p.leader === 2).length === 248)
      expect(b.topic('many')!.partitions[7]).toMatchObject({leader: 1, isr: [1]})
      expect(seen).toHaveLength(250)
    } finally {
      await a.close()
      await b.close()
    }
  }, 30_000)

  it('hands out producer id blocks that never overlap under concurrent allocation from two brokers', async () => {
    const a = await open(1, '/kcli-pids')
    const b = await open(2, '/kcli-pids')
    try {
      const firsts = await Promise.all(Array.from({length: 40}, (_, i) => (i % 2 === 0 ? a : b).allocateProducerIds(1000)))
      expect(new Set(firsts).size).toBe(40)
      expect([...firsts].sort((x, y) => x - y)).toEqual(Array.from({length: 40}, (_, i) => i * 1000))
    } finally {
      await a.close()
      await b.close()
    }
  }, 30_000)

  it('moves the controller to another broker when the controller\'s session ends', async () => {
    const a = await open(1, '/kcli-ctl')
    const b = await open(2, '/kcli-ctl')
    try {
      expect(b.controllerId()).toBe(1)
      await a.close()
      await waitUntil(() => b.controllerId() === 2 && b.brokers().length === 1)
    } finally {
      await a.close()
      await b.close()
    }
  }, 30_000)

  it('refuses a node.id that a live broker holds, naming it', async () => {
    const a = await open(5, '/kcli-dup')
    try {
      const started = Date.now()
      await expect(open(5, '/kcli-dup')).rejects.toThrow(/node\.id 5 is already registered by a live broker \(127\.0\.0\.1:9005\)/)
      // It waited for a session timeout first (the holder might have been this broker's previous life).
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500)
    } finally {
      await a.close()
    }
  }, 30_000)

  it('keeps clusters on other prefixes apart', async () => {
    const a = await open(1, '/cluster-a')
    const b = await open(1, '/cluster-b')
    try {
      expect(a.clusterId).not.toBe(b.clusterId)
      await a.createTopic({name: 'only-a', partitions: [], configs: {}, internal: false})
      expect(b.topic('only-a')).toBeUndefined()
    } finally {
      await a.close()
      await b.close()
    }
  }, 30_000)

  it('loses the session when etcd stops answering for a session timeout, and registers again when it is back', async () => {
    const events: string[] = []
    const store = await EtcdMetadataStore.open({
      endpoints: [etcd.endpoint],
      prefix: '/kcli-session',
      self: {nodeId: 3, host: '127.0.0.1', port: 9003, rack: null},
      sessionTimeoutMs: 2000,
      heartbeatIntervalMs: 300,
      connectTimeoutMs: 5000,
      onSessionLost: (reason) => events.push(`lost: ${reason}`),
      onSessionRestored: () => events.push('restored'),
    })
    try {
      expect(store.sessionAlive()).toBe(true)
      etcd.pause()
      try {
        await waitUntil(() => events.length > 0, 10_000)
        expect(store.sessionAlive()).toBe(false)
        expect(events[0]).toMatch(/^lost: no heartbeat answered by etcd for \d+ ms \(broker.session.timeout.ms=2000\)/)
      } finally {
        etcd.resume()
      }
      await waitUntil(() => events.includes('restored'), 20_000)
      expect(store.sessionAlive()).toBe(true)
      await waitUntil(() => store.brokers().some((b) => b.nodeId === 3) && store.controllerId() === 3)
    } finally {
      etcd.resume()
      await store.close()
    }
  }, 40_000)

  it('fails with a message naming the endpoint when etcd does not answer', async () => {
    const port = await freePort()
    const error = await EtcdMetadataStore.open({endpoints: [`127.0.0.1:${port}`], prefix: '/x', self: {nodeId: 1, host: '127.0.0.1', port: 1, rack: null}, sessionTimeoutMs: 2000, connectTimeoutMs: 1500}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MetadataStoreError)
    expect((error as Error).message).toContain(`etcd at 127.0.0.1:${port}`)
  }, 30_000)
})
