/**
 * Acceptance of issue 17's mirror part with real processes: two `kcli server start` brokers (the
 * source cluster "src" and the target "dst"), MirrorSourceConnector/Task and
 * MirrorCheckpointConnector/Task run by a small driver (connect-mirror-support.ts: poll → produce
 * to the target → commitRecord → offsets → commit), and kafkajs 2.2.4 as the consumer that
 * switches clusters.
 *
 * What MM2 guarantees and this test checks: the remote topic src.orders has the source's partition
 * count and its explicitly set configs (minus config.properties.exclude); every record arrives in
 * the same partition, in order, with key, value, headers and timestamp; a task restarted with the
 * committed source offsets continues without duplicates; a consumer of group "billing" switched to
 * the target resumes at the translated offset t of its source offset g: t <= g (it never skips a
 * record) and g - t <= offset.lag.max (it reads again at most that many); t = g when g is at an
 * offset sync, as for a group at the end of a partition (the task syncs the latest offsets at each
 * commit). Partitions added to the source topic are added to the remote topic and mirrored.
 */
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Admin, LATEST_TIMESTAMP} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {Consumer} from '../../src/lib/client/consumer.js'
import {Producer} from '../../src/lib/client/producer.js'
import type {OffsetMap} from '../../src/lib/connect/api.js'
import {MirrorCheckpointConnector, MirrorSourceConnector} from '../../src/lib/connect/mirror/index.js'
import {type MirrorCheckpointTask} from '../../src/lib/connect/mirror/checkpoint.js'
import {type Checkpoint, decodeCheckpoint, decodeOffsetSync, OffsetSyncStore} from '../../src/lib/connect/mirror/offset-syncs.js'
import type {MirrorSourceTask} from '../../src/lib/connect/mirror/source.js'
import type {Record as KRecord} from '../../src/lib/records/record.js'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {SourceTaskDriver} from './connect-mirror-support.js'
import {type BrokerProcess, pollUntil, removeDir, spawnBroker, tempDir} from './harness.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const OFFSET_LAG_MAX = 10
const PER_PARTITION = 100
/** Committed on the source by group billing: mid-partition, end of partition, mid-partition. */
const BILLING = [40n, 100n, 77n]

/** Record i of the source topic: partition i % 3; a tombstone (null value) and a null key now and then. */
const keyOf = (i: number): string | null => (i % 50 === 8 ? null : `k${i}`)
const valueOf = (i: number): string | null => (i % 50 === 7 ? null : `v${i}`)

const client = (b: BrokerProcess) => new KafkaClient({bootstrapServers: parseBootstrapServers(b.bootstrap), clientId: 'mirror-test'})

/** Every record of the partitions from offset 0 to their end. */
async function readAll(c: KafkaClient, topic: string, partitions: number): Promise<KRecord[][]> {
  const admin = new Admin(c)
  const ends = await admin.listOffsets(Array.from({length: partitions}, (_, partition) => ({topic, partition, timestamp: LATEST_TIMESTAMP})))
  const out: KRecord[][] = Array.from({length: partitions}, () => [])
  const consumer = new Consumer(c, {maxWaitMs: 100})
  consumer.assign(ends.map((e) => ({topic, partition: e.partition, offset: 0n})))
  for (const e of ends) if (e.offset === 0n) consumer.pause(topic, e.partition)
  const deadline = Date.now() + 20_000
  for await (const batch of consumer.batches()) {
    out[batch.partition]!.push(...batch.records)
    if (batch.nextOffset >= ends[batch.partition]!.offset) consumer.pause(topic, batch.partition)
    if (Date.now() > deadline) throw new Error(`reading ${topic} took over 20 s`)
  }
  await consumer.close()
  return out
}

describe('mirror connectors between two kcli clusters', () => {
  let src: BrokerProcess
  let dst: BrokerProcess
  const dirs: string[] = []
  let srcClient: KafkaClient
  let dstClient: KafkaClient
  const sourceConnector = new MirrorSourceConnector()
  const checkpointConnector = new MirrorCheckpointConnector()
  const offsets = new Map<string, OffsetMap>()
  let sourceDriver: SourceTaskDriver | undefined
  let checkpointDriver: SourceTaskDriver | undefined
  let props: Record<string, string>

  beforeAll(async () => {
    dirs.push(tempDir('kcli-mirror-src-'), tempDir('kcli-mirror-dst-'))
    ;[src, dst] = await Promise.all([
      spawnBroker(dirs[0]!, {'group.initial.rebalance.delay.ms': '0'}),
      spawnBroker(dirs[1]!, {'group.initial.rebalance.delay.ms': '0', 'auto.create.topics.enable': 'false'}),
    ])
    srcClient = client(src)
    dstClient = client(dst)
    props = {
      'source.cluster.alias': 'src',
      'target.cluster.alias': 'dst',
      'source.cluster.bootstrap.servers': src.bootstrap,
      'target.cluster.bootstrap.servers': dst.bootstrap,
      topics: 'orders',
      'replication.factor': '1',
      'offset-syncs.topic.replication.factor': '1',
      'checkpoints.topic.replication.factor': '1',
      'offset.lag.max': String(OFFSET_LAG_MAX),
      'refresh.topics.interval.seconds': '1',
      'sync.topic.configs.interval.seconds': '1',
      'emit.checkpoints.interval.seconds': '1',
      'sync.group.offsets.enabled': 'true',
      'sync.group.offsets.interval.seconds': '1',
      'consumer.poll.timeout.ms': '200',
    }
  }, 60_000)

  afterAll(async () => {
    await sourceDriver?.close().catch(() => undefined)
    await checkpointDriver?.close().catch(() => undefined)
    await sourceConnector.stop()
    await checkpointConnector.stop()
    await srcClient?.close()
    await dstClient?.close()
    await Promise.all([src?.kill(), dst?.kill()])
    for (const d of dirs) removeDir(d)
  }, 30_000)

  async function produceSource(from: number, to: number): Promise<void> {
    const producer = new Producer(srcClient, {acks: -1, allowAutoTopicCreation: false})
    for (let i = from; i < to; i++) {
      producer.push({topic: 'orders', partition: i % 3, key: keyOf(i) === null ? null : Buffer.from(keyOf(i)!), value: valueOf(i) === null ? null : Buffer.from(valueOf(i)!), headers: [{key: 'h', value: Buffer.from(String(i))}], timestamp: 1_700_000_000_000 + i})
    }
    await producer.close()
  }

  const remoteCount = async (): Promise<number> => {
    const md = await new Admin(dstClient).describeTopics(['src.orders'])
    return md.topics[0]!.errorCode === 0 ? md.topics[0]!.partitions.length : 0
  }

  async function startSourceTask(): Promise<SourceTaskDriver> {
    const task = sourceConnector.createTask() as MirrorSourceTask
    const driver = new SourceTaskDriver(task, dstClient, offsets)
    task.initialize(driver.context())
    await task.start(sourceConnector.taskConfigs(1)[0]!)
    return driver
  }

  it('creates the remote topic with the same partitions and configs, and the offset-syncs topic', async () => {
    const admin = new Admin(srcClient)
    const [created] = await admin.createTopics([{name: 'orders', numPartitions: 3, replicationFactor: 1, configs: {'retention.ms': '86400000', 'max.message.bytes': '200000', 'min.insync.replicas': '1'}}])
    expect(created!.error).toBe('NONE')
    await produceSource(0, 150)
    await sourceConnector.start(props)
    expect(await remoteCount()).toBe(3)
    const [configs] = await new Admin(dstClient).describeConfigs([{type: 'topic', name: 'src.orders'}])
    const set = Object.fromEntries(configs!.configs.filter((c) => c.source === 'DYNAMIC_TOPIC_CONFIG').map((c) => [c.name, c.value]))
    expect(set).toEqual({'retention.ms': '86400000', 'max.message.bytes': '200000'}) // min.insync.replicas is excluded, as MM2's filter does
    const syncs = await admin.describeTopics(['mm2-offset-syncs.dst.internal'])
    expect(syncs.topics[0]!.partitions).toHaveLength(1)
  }, 30_000)

  it('replicates records (key, value, headers, timestamp, same partition) and resumes after a task restart without duplicates', async () => {
    sourceDriver = await startSourceTask()
    await sourceDriver.runUntil(() => sourceDriver!.produced >= 150, 20_000, '150 records mirrored')
    await sourceDriver.close()
    sourceDriver = undefined
    expect(offsets.get(JSON.stringify({cluster: 'src', partition: 0, topic: 'orders'}))).toEqual({offset: 49})

    await produceSource(150, 3 * PER_PARTITION)
    sourceDriver = await startSourceTask()
    await sourceDriver.runUntil(() => sourceDriver!.produced >= 150, 20_000, '150 more records mirrored')
    const [sourceRecords, remoteRecords] = await Promise.all([readAll(srcClient, 'orders', 3), readAll(dstClient, 'src.orders', 3)])
    expect(remoteRecords.flat().filter((r) => r.value === null)).toHaveLength(6)
    expect(remoteRecords.flat().filter((r) => r.key === null)).toHaveLength(6)
    for (let p = 0; p < 3; p++) {
      expect(remoteRecords[p]!.length).toBe(PER_PARTITION)
      const view = (r: KRecord) => ({offset: r.offset, key: r.key?.toString(), value: r.value?.toString(), timestamp: r.timestamp, headers: r.headers.map((h) => [h.key, h.value?.toString()])})
      expect(remoteRecords[p]!.map(view)).toEqual(sourceRecords[p]!.map(view))
    }
  }, 60_000)

  let translated: bigint[] = []

  it('translates the group\'s committed offsets into checkpoints and commits them to the idle group on the target', async () => {
    const srcAdmin = new Admin(srcClient)
    await srcAdmin.commitOffsets('billing', BILLING.map((offset, partition) => ({topic: 'orders', partition, offset, metadata: `m${partition}`})))
    await srcAdmin.commitOffsets('console-consumer-42', [{topic: 'orders', partition: 0, offset: 5n}]) // excluded by groups.exclude

    await checkpointConnector.start(props)
    const task = checkpointConnector.createTask() as MirrorCheckpointTask
    checkpointDriver = new SourceTaskDriver(task, dstClient)
    task.initialize()
    await task.start(checkpointConnector.taskConfigs(1)[0]!)
    const dstAdmin = new Admin(dstClient)
    await checkpointDriver.runUntil(async () => (await dstAdmin.fetchOffsets('billing')).filter((c) => c.offset >= 0n).length === 3, 20_000, 'billing offsets on the target')

    // The translation MM2 defines, from the offset syncs the source task wrote.
    const store = new OffsetSyncStore()
    const [syncRecords] = await readAll(srcClient, 'mm2-offset-syncs.dst.internal', 1)
    for (const r of syncRecords!) store.add(decodeOffsetSync(r.key!, r.value!))
    translated = BILLING.map((g, p) => store.translateDownstream('orders', p, g)!)
    const committed = await dstAdmin.fetchOffsets('billing')
    for (let p = 0; p < 3; p++) {
      const t = translated[p]!
      expect(committed.find((c) => c.topic === 'src.orders' && c.partition === p)!.offset).toBe(t)
      expect(t).toBeLessThanOrEqual(BILLING[p]!)
      expect(BILLING[p]! - t).toBeLessThanOrEqual(BigInt(OFFSET_LAG_MAX))
    }
    expect(translated[1]).toBe(100n) // a group at the end of a partition translates exactly

    const [checkpointRecords] = await readAll(dstClient, 'src.checkpoints.internal', 1)
    const checkpoints: Checkpoint[] = checkpointRecords!.map((r) => decodeCheckpoint(r.key!, r.value!))
    expect(checkpoints.map((c) => c.group)).not.toContain('console-consumer-42')
    const latest = new Map(checkpoints.map((c) => [c.partition, c]))
    expect([...latest.values()].sort((a, b) => a.partition - b.partition)).toEqual(BILLING.map((g, p) => ({group: 'billing', topic: 'src.orders', partition: p, upstreamOffset: g, downstreamOffset: translated[p]!, metadata: `m${p}`})))
  }, 60_000)

  it('a checkpoint task whose offset-syncs topic does not exist fails to start with the reason', async () => {
    const task = checkpointConnector.createTask()
    task.initialize({offsetStorageReader: {offset: () => null}})
    await expect(task.start({...props, 'target.cluster.alias': 'elsewhere', 'task.index': '0', 'task.count': '1'})).rejects.toThrow(/offset-syncs topic mm2-offset-syncs\.elsewhere\.internal: UNKNOWN_TOPIC_OR_PARTITION .*MirrorSourceConnector running/)
    await task.stop()
  }, 30_000)

  it('a kafkajs consumer of the group switched to the target resumes at the translated offsets', async () => {
    const kafka = new Kafka({brokers: [dst.bootstrap], clientId: 'switched', logLevel: logLevel.NOTHING})
    const consumer = kafka.consumer({groupId: 'billing', sessionTimeout: 10_000, heartbeatInterval: 500})
    const seen: Array<{partition: number; offset: number; value: string | null; key: string | null; header: string; timestamp: number}> = []
    await consumer.connect()
    try {
      await consumer.subscribe({topics: ['src.orders'], fromBeginning: true})
      await consumer.run({eachMessage: async ({partition, message}) => { seen.push({partition, offset: Number(message.offset), value: message.value?.toString() ?? null, key: message.key?.toString() ?? null, header: String(message.headers?.h), timestamp: Number(message.timestamp)}) }})
      const expected = translated.reduce((n, t) => n + (PER_PARTITION - Number(t)), 0)
      await pollUntil(async () => seen.length, (n) => n >= expected, 30_000, 'switched consumer to read to the end')
    } finally {
      await consumer.disconnect()
    }
    for (let p = 0; p < 3; p++) {
      const offsetsSeen = seen.filter((s) => s.partition === p).map((s) => s.offset)
      const t = Number(translated[p]!)
      // Exactly the records from the translated offset on, each once: nothing skipped; the records
      // before the source offset read again are the g - t that MM2's translation permits.
      expect(offsetsSeen).toEqual(Array.from({length: PER_PARTITION - t}, (_, i) => t + i))
      // What kafkajs reads on the target is what was produced to the source: key, value, header, timestamp.
      expect(seen.filter((s) => s.partition === p).map(({key, value, header, timestamp}) => ({key, value, header, timestamp})))
        .toEqual(offsetsSeen.map((o) => o * 3 + p).map((i) => ({key: keyOf(i), value: valueOf(i), header: String(i), timestamp: 1_700_000_000_000 + i})))
    }
    // The group's own commits on the target (at the end) are never moved back by later offset syncs.
    const dstAdmin = new Admin(dstClient)
    await pollUntil(async () => (await dstAdmin.fetchOffsets('billing')).map((c) => c.offset), (o) => o.length === 3 && o.every((x) => x === BigInt(PER_PARTITION)), 10_000, 'kafkajs commits at the end')
    const until = Date.now() + 2500 // more than sync.group.offsets.interval.seconds
    await checkpointDriver!.runUntil(() => Date.now() > until, 10_000, 'checkpoint task running on')
    expect((await dstAdmin.fetchOffsets('billing')).map((c) => c.offset)).toEqual([100n, 100n, 100n])
  }, 60_000)

  it('does not commit translated offsets to a group that is active on the target; does once it is empty', async () => {
    await new Admin(srcClient).commitOffsets('billing2', [{topic: 'orders', partition: 0, offset: 100n}])
    const dstAdmin = new Admin(dstClient)
    expect((await dstAdmin.createTopics([{name: 'elsewhere', numPartitions: 1, replicationFactor: 1}]))[0]!.error).toBe('NONE')
    const kafka = new Kafka({brokers: [dst.bootstrap], clientId: 'active', logLevel: logLevel.NOTHING})
    const consumer = kafka.consumer({groupId: 'billing2', sessionTimeout: 10_000, heartbeatInterval: 500})
    await consumer.connect()
    const mirrored = async () => (await dstAdmin.fetchOffsets('billing2')).filter((c) => c.topic === 'src.orders' && c.offset >= 0n)
    try {
      await consumer.subscribe({topics: ['elsewhere']})
      await consumer.run({eachMessage: async () => {}})
      await pollUntil(async () => (await dstAdmin.describeGroups(['billing2']))[0]!.state, (st) => st === 'Stable', 20_000, 'billing2 active on the target')
      const until = Date.now() + 2500 // more than sync.group.offsets.interval.seconds
      await checkpointDriver!.runUntil(() => Date.now() > until, 10_000, 'checkpoint task running on')
      expect(await mirrored()).toEqual([])
    } finally {
      await consumer.disconnect()
    }
    await checkpointDriver!.runUntil(async () => (await mirrored()).length === 1, 10_000, 'billing2 offsets synced once empty')
    expect((await mirrored())[0]!.offset).toBe(100n)
  }, 60_000)

  it('offset-syncs.topic.location=target: syncs on the target, checkpoints read from there', async () => {
    const p2 = {...props, topics: 'payments', groups: 'pay', 'offset-syncs.topic.location': 'target'}
    expect((await new Admin(srcClient).createTopics([{name: 'payments', numPartitions: 1, replicationFactor: 1}]))[0]!.error).toBe('NONE')
    const producer = new Producer(srcClient, {acks: -1})
    for (let i = 0; i < 20; i++) producer.push({topic: 'payments', partition: 0, value: Buffer.from(`pay${i}`)})
    await producer.close()
    await new Admin(srcClient).commitOffsets('pay', [{topic: 'payments', partition: 0, offset: 20n}])
    const connector = new MirrorSourceConnector()
    const checkpoints = new MirrorCheckpointConnector()
    let source: SourceTaskDriver | undefined
    let checkpoint: SourceTaskDriver | undefined
    try {
      await connector.start(p2)
      expect((await new Admin(dstClient).describeTopics(['mm2-offset-syncs.dst.internal'])).topics[0]!.errorCode).toBe(0)
      const task = connector.createTask()
      source = new SourceTaskDriver(task, dstClient)
      task.initialize(source.context())
      await task.start(connector.taskConfigs(1)[0]!)
      await source.runUntil(() => source!.produced >= 20, 20_000, 'payments mirrored')
      await checkpoints.start(p2)
      const ctask = checkpoints.createTask()
      checkpoint = new SourceTaskDriver(ctask, dstClient)
      ctask.initialize(checkpoint.context())
      await ctask.start(checkpoints.taskConfigs(1)[0]!)
      const dstAdmin = new Admin(dstClient)
      await checkpoint.runUntil(async () => (await dstAdmin.fetchOffsets('pay')).some((c) => c.topic === 'src.payments' && c.offset === 20n), 20_000, 'pay offsets on the target')
    } finally {
      await source?.close()
      await checkpoint?.close()
      await connector.stop()
      await checkpoints.stop()
    }
  }, 60_000)

  it('adds partitions and syncs configs when the source topic changes, and mirrors the new partition', async () => {
    const srcAdmin = new Admin(srcClient)
    expect((await srcAdmin.createPartitions([{name: 'orders', count: 4}]))[0]!.error).toBe('NONE')
    expect((await srcAdmin.alterConfigs([{type: 'topic', name: 'orders', set: {'retention.ms': '3600000'}}]))[0]!.error).toBe('NONE')
    await pollUntil(remoteCount, (n) => n === 4, 15_000, 'remote topic grown to 4 partitions')
    await pollUntil(async () => (await new Admin(dstClient).describeConfigs([{type: 'topic', name: 'src.orders', keys: ['retention.ms']}]))[0]!.configs[0]?.value, (v) => v === '3600000', 15_000, 'retention.ms synced')
    await srcClient.refreshMetadata(['orders']) // the client's cached metadata still says 3 partitions
    const producer = new Producer(srcClient, {acks: -1})
    await producer.send({topic: 'orders', partition: 3, key: Buffer.from('new'), value: Buffer.from('p3')})
    await producer.close()
    const before = sourceDriver!.produced
    await sourceDriver!.runUntil(() => sourceDriver!.produced > before, 20_000, 'record of the new partition mirrored')
    const [, , , p3] = await readAll(dstClient, 'src.orders', 4)
    expect(p3!.map((r) => r.value!.toString())).toEqual(['p3'])
    expect((sourceDriver!.task as MirrorSourceTask).assignment()).toContainEqual({topic: 'orders', partition: 3})
  }, 60_000)
})
