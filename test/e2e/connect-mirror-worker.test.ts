/**
 * MirrorMaker 2 as Kafka runs it in Connect: MirrorSourceConnector and MirrorCheckpointConnector
 * created by HTTP POST on a `kcli connect standalone` worker whose own cluster is the target (its
 * bootstrap.servers), with ByteArrayConverter, between two `kcli server start` brokers. The worker's
 * source-task loop (not a test driver) produces the mirrored records, calls commitRecord with each
 * acknowledged record's target offset (the offset syncs) and commits offsets; a kafkajs consumer of
 * group "billing" switched to the target resumes at the translated offsets: never after the source
 * offset, at most offset.lag.max before it. connect-mirror.test.ts checks the connectors' details.
 */
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Admin, LATEST_TIMESTAMP} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {Producer} from '../../src/lib/client/producer.js'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {distBuilt, eventually, http, type Spawned, spawnWorker, workerProperties} from './connect-support.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir} from './harness.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const PER_PARTITION = 100
const OFFSET_LAG_MAX = 10
/** Committed on the source by group billing: mid-partition, end of partition, mid-partition. */
const BILLING = [40n, 100n, 77n]
const BYTES = 'org.apache.kafka.connect.converters.ByteArrayConverter'

describe.skipIf(!distBuilt)('MirrorMaker 2 connectors on a kcli Connect worker', () => {
  const dir = tempDir('kcli-mirror-worker-')
  let src: BrokerProcess
  let dst: BrokerProcess
  let worker: Spawned<{rest: string}> | undefined
  const clients: KafkaClient[] = []
  const client = (b: BrokerProcess) => {
    const c = new KafkaClient({bootstrapServers: parseBootstrapServers(b.bootstrap), clientId: 'mirror-worker-test'})
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    ;[src, dst] = await Promise.all([
      spawnBroker(join(dir, 'src'), {'group.initial.rebalance.delay.ms': '0'}),
      spawnBroker(join(dir, 'dst'), {'group.initial.rebalance.delay.ms': '0', 'auto.create.topics.enable': 'false'}),
    ])
    const srcClient = client(src)
    const admin = new Admin(srcClient)
    expect((await admin.createTopics([{name: 'orders', numPartitions: 3, replicationFactor: 1, configs: {'retention.ms': '86400000'}}]))[0]!.error).toBe('NONE')
    const producer = new Producer(srcClient, {acks: -1, allowAutoTopicCreation: false})
    for (let i = 0; i < 3 * PER_PARTITION; i++) producer.push({topic: 'orders', partition: i % 3, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: 1_700_000_000_000 + i})
    await producer.close()
    await admin.commitOffsets('billing', BILLING.map((offset, partition) => ({topic: 'orders', partition, offset})))
    worker = await spawnWorker(workerProperties(dir, dst.bootstrap, 'mm2', {'key.converter': BYTES, 'value.converter': BYTES}))
  }, 60_000)

  afterAll(async () => {
    await worker?.kill()
    for (const c of clients) await c.close()
    await Promise.all([src?.kill(), dst?.kill()])
    removeDir(dir)
  }, 60_000)

  it('mirrors the topic and translates the group\'s offsets; a switched kafkajs consumer resumes there', async () => {
    const common = {
      'source.cluster.alias': 'src',
      'target.cluster.alias': 'dst',
      'source.cluster.bootstrap.servers': src.bootstrap,
      'target.cluster.bootstrap.servers': dst.bootstrap,
      'key.converter': BYTES,
      'value.converter': BYTES,
      topics: 'orders',
      groups: 'billing',
      'replication.factor': '1',
      'offset-syncs.topic.replication.factor': '1',
      'checkpoints.topic.replication.factor': '1',
      'offset.lag.max': String(OFFSET_LAG_MAX),
      'refresh.topics.interval.seconds': '1',
      'emit.checkpoints.interval.seconds': '1',
      'sync.group.offsets.enabled': 'true',
      'sync.group.offsets.interval.seconds': '1',
      'consumer.poll.timeout.ms': '200',
    }
    const rest = worker!.status.rest
    for (const [name, cls] of [['mm2-source', 'org.apache.kafka.connect.mirror.MirrorSourceConnector'], ['mm2-checkpoint', 'org.apache.kafka.connect.mirror.MirrorCheckpointConnector']] as const) {
      const created = await http('POST', `${rest}/connectors`, {name, config: {'connector.class': cls, 'tasks.max': '1', ...common}})
      expect(created.status, JSON.stringify(created.body)).toBe(201)
    }
    const dstClient = client(dst)
    const dstAdmin = new Admin(dstClient)
    const ends = await eventually(
      async () => (await dstAdmin.listOffsets([0, 1, 2].map((partition) => ({topic: 'src.orders', partition, timestamp: LATEST_TIMESTAMP})))).map((o) => o.offset),
      (o) => o.length === 3 && o.every((x) => x === BigInt(PER_PARTITION)), 40_000, 'src.orders mirrored on the target')
    expect(ends).toEqual([100n, 100n, 100n])
    const status = await http('GET', `${rest}/connectors/mm2-source/status`)
    expect(status.body).toMatchObject({connector: {state: 'RUNNING'}, tasks: [{id: 0, state: 'RUNNING'}]})

    // The checkpoint connector commits the translated offsets to the idle group on the target.
    const translated = await eventually(
      async () => (await dstAdmin.fetchOffsets('billing')).filter((c) => c.topic === 'src.orders' && c.offset >= 0n).sort((a, b) => a.partition - b.partition).map((c) => c.offset),
      (o) => o.length === 3, 40_000, 'billing offsets translated on the target')
    for (const [p, t] of translated.entries()) {
      expect(t).toBeLessThanOrEqual(BILLING[p]!)
      expect(BILLING[p]! - t).toBeLessThanOrEqual(BigInt(OFFSET_LAG_MAX))
    }
    expect(translated[1]).toBe(100n) // a group at the end of a partition resumes exactly there

    const kafka = new Kafka({brokers: [dst.bootstrap], clientId: 'switched', logLevel: logLevel.NOTHING})
    const consumer = kafka.consumer({groupId: 'billing', sessionTimeout: 10_000, heartbeatInterval: 500})
    const seen: Array<{partition: number; offset: number; value: string}> = []
    await consumer.connect()
    try {
      await consumer.subscribe({topics: ['src.orders'], fromBeginning: true})
      await consumer.run({eachMessage: async ({partition, message}) => { seen.push({partition, offset: Number(message.offset), value: message.value!.toString()}) }})
      const expected = translated.reduce((n, t) => n + PER_PARTITION - Number(t), 0)
      await eventually(() => seen.length, (n) => n >= expected, 30_000, 'the switched consumer to read to the end')
    } finally {
      await consumer.disconnect()
    }
    for (let p = 0; p < 3; p++) {
      const t = Number(translated[p]!)
      const mine = seen.filter((s) => s.partition === p)
      expect(mine.map((s) => s.offset)).toEqual(Array.from({length: PER_PARTITION - t}, (_, i) => t + i))
      expect(mine.map((s) => s.value)).toEqual(mine.map((s) => `v${s.offset * 3 + p}`))
    }
  }, 120_000)
})
