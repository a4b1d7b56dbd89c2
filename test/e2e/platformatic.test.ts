/**
 * @platformatic/kafka 1.35 (a current JavaScript client that asks for the newest version of every
 * API it implements: JoinGroup v9, OffsetCommit v9, Fetch v17, Produce v11, ConsumerGroupHeartbeat
 * v1...) against the in-process broker: admin (topics, partitions, configs, offsets, groups),
 * produce (partitions, keys, headers, every codec the client has on this Node, idempotent), a
 * classic consumer group of two members (rebalance on join and leave, committed offsets resume),
 * a KIP-848 group of two members, transactions (commit visible to read_committed, abort not;
 * offsets committed in a transaction), and what it found:
 *
 * - Its transactional producer passes the producer id it got as an idempotent producer to
 *   InitProducerId for a new transactional id; Kafka takes it (the new id's metadata has epoch
 *   -1), kcli answered INVALID_PRODUCER_ID_MAPPING.
 * - Its consumers send a subscription that says version 1 but carries only the version-0 fields
 *   (topics, user data). Kafka reads a subscription's version-0 prefix to learn the topics, so
 *   OffsetDelete of a topic the group does not subscribe to succeeds; kcli failed to parse it and
 *   refused every partition with GROUP_SUBSCRIBED_TO_TOPIC.
 * - OffsetDelete answers every partition asked for (Kafka 4.0): kcli left out those without an
 *   offset, unknown ones too, where Kafka answers NONE and UNKNOWN_TOPIC_OR_PARTITION.
 * - An OffsetCommit whose every partition is rejected (unknown topic or partition) created an
 *   empty group: afterwards ListGroups showed it and OffsetDelete succeeded where Kafka answers
 *   GROUP_ID_NOT_FOUND. A commit to a partition the topic does not have was stored.
 *
 * Every request's API key and version is recorded through the client's diagnostics channel and
 * logged at the end, with the range the broker advertises.
 */
import {
  Admin,
  CompressionAlgorithms,
  compressionsAlgorithms,
  ConfigResourceTypes,
  Consumer,
  type ConsumerOptions,
  connectionsApiChannel,
  FetchIsolationLevels,
  IncrementalAlterConfigOperationTypes,
  ListOffsetTimestamps,
  type Message,
  type MessagesStream,
  Producer,
  type ProducerOptions,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey, apiKeyInfo} from '../../src/lib/protocol/generated/api-keys.js'
import {ConsumerProtocolSubscription} from '../../src/lib/protocol/generated/consumer-protocol-subscription.js'
import {startBroker, type TestBroker} from './harness.js'
import {advertisedApis, RawClient} from './peers.js'
import {waitUntil} from './groups-support.js'

type StringConsumer = Consumer<string, string, string, string>
type StringMessage = Message<string, string, string, string>

/** Every request the client sent: API key -> versions used. */
const used = new Map<number, Set<number>>()
function onApiStart(ctx: unknown): void {
  const {apiKey, apiVersion} = ctx as {apiKey: number; apiVersion: number}
  let versions = used.get(apiKey)
  if (!versions) used.set(apiKey, (versions = new Set()))
  versions.add(apiVersion)
}

describe('@platformatic/kafka 1.35 against the broker', () => {
  let broker: TestBroker
  let admin: Admin
  const closers: Array<() => Promise<void>> = []

  const base = (clientId: string) => ({clientId, bootstrapBrokers: [broker.bootstrap], timeout: 10_000, retries: 2, retryDelay: 100})

  /** Closes `close()`'s client, giving up after 10 s so a stuck close cannot hang the suite. */
  function closer(close: (done: () => void) => void): () => Promise<void> {
    return () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000)
        close(() => {
          clearTimeout(timer)
          resolve()
        })
      })
  }

  function newConsumer(clientId: string, groupId: string, extra: {groupProtocol?: 'consumer'; isolationLevel?: number} = {}): StringConsumer {
    const options: ConsumerOptions<string, string, string, string> = {
      ...base(clientId),
      groupId,
      deserializers: stringDeserializers,
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 300,
      maxWaitTime: 200,
      ...extra,
    }
    const consumer = new Consumer(options)
    closers.push(closer((done) => consumer.close(true, () => done())))
    return consumer
  }

  function newProducer(clientId: string, extra: Partial<ProducerOptions<string, string, string, string>> = {}): Producer<string, string, string, string> {
    const producer = new Producer<string, string, string, string>({...base(clientId), serializers: stringSerializers, ...extra})
    closers.push(closer((done) => producer.close(true, () => done())))
    return producer
  }

  /** Collects what a stream delivers; `take(n)` waits (bounded) until n more have arrived. */
  function collector(stream: MessagesStream<string, string, string, string>) {
    const messages: StringMessage[] = []
    stream.on('data', (m) => messages.push(m))
    return {
      messages,
      async take(n: number, from = 0, timeoutMs = 20_000): Promise<StringMessage[]> {
        await waitUntil(() => (messages.length >= from + n ? true : undefined), timeoutMs, `${n} messages (have ${messages.length - from})`)
        return messages.slice(from, from + n)
      },
    }
  }

  /** A group member consuming `topic` from its committed offsets (earliest without one). */
  async function member(clientId: string, groupId: string, topic: string, extra: {groupProtocol?: 'consumer'} = {}) {
    const consumer = newConsumer(clientId, groupId, extra)
    const stream = await consumer.consume({topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false})
    let fetches = 0
    stream.on('fetch', () => fetches++)
    return {
      consumer,
      received: collector(stream),
      fetches: () => fetches,
      async close() {
        await stream.close()
        await consumer.close()
      },
    }
  }

  /** What two members receive, together, after `produce` (bounded wait for `count`). */
  async function bothReceive(a: Awaited<ReturnType<typeof member>>, b: Awaited<ReturnType<typeof member>>, count: number, produceMore: () => Promise<void>): Promise<StringMessage[]> {
    // The client pushes what a fetch begun before a rebalance returns, for partitions it no
    // longer owns too (it fetches one request at a time per broker): two fetches completed since
    // the group settled mean none from the old generation is in flight when records arrive.
    const [fetchesA, fetchesB] = [a.fetches(), b.fetches()]
    await waitUntil(() => (a.fetches() >= fetchesA + 2 && b.fetches() >= fetchesB + 2 ? true : undefined), 10_000, 'two fetches by each member')
    const [fromA, fromB] = [a.received.messages.length, b.received.messages.length]
    await produceMore()
    const received = () => [...a.received.messages.slice(fromA), ...b.received.messages.slice(fromB)]
    await waitUntil(() => (received().length >= count ? true : undefined), 20_000, `${count} new messages across both members`)
    return received()
  }

  /** The Kafka error names inside a client error (ResponseError / MultipleErrors nest them). */
  function kafkaErrors(error: unknown): string[] {
    const out: string[] = []
    const visit = (e: unknown): void => {
      if (!e || typeof e !== 'object') return
      const r = e as {apiId?: unknown; errors?: unknown[]; cause?: unknown}
      if (typeof r.apiId === 'string') out.push(r.apiId)
      for (const inner of r.errors ?? []) visit(inner)
      visit(r.cause)
    }
    visit(error)
    return out
  }

  async function rejection(p: Promise<unknown>): Promise<string[]> {
    try {
      await p
    } catch (error) {
      return kafkaErrors(error)
    }
    throw new Error('expected the request to fail')
  }

  async function produce(topic: string, count: number, prefix: string, partitions: number): Promise<void> {
    const producer = newProducer(`plt-produce-${prefix}`)
    await producer.send({messages: Array.from({length: count}, (_, i) => ({topic, partition: i % partitions, key: `${prefix}-k${i}`, value: `${prefix}-${i}`}))})
    await producer.close()
  }

  beforeAll(async () => {
    connectionsApiChannel.start.subscribe(onApiStart)
    broker = await startBroker({'group.min.session.timeout.ms': '1000', 'group.consumer.heartbeat.interval.ms': '300'})
    admin = new Admin(base('plt-admin'))
    closers.push(closer((done) => admin.close(() => done())))
  })

  afterAll(async () => {
    for (const close of closers.reverse()) await close()
    connectionsApiChannel.start.unsubscribe(onApiStart)
    if (broker) {
      const advertised = await advertisedApis(broker.port)
      const rows = [...used].sort(([a], [b]) => a - b).map(([key, versions]) => {
        const range = advertised.get(key)
        return `  ${(apiKeyInfo(key)?.name ?? String(key)).padEnd(26)} v${[...versions].sort((a, b) => a - b).join(',v')}  (broker v${range?.minVersion}-v${range?.maxVersion})`
      })
      console.log(`API versions @platformatic/kafka negotiated:\n${rows.join('\n')}`)
      await broker.stop()
    }
  })

  it('admin: creates, lists, describes, alters and deletes topics; lists offsets', async () => {
    const created = await admin.createTopics({topics: ['plt-admin'], partitions: 2, replicas: 1, configs: [{name: 'cleanup.policy', value: 'compact'}]})
    expect(created).toMatchObject([{name: 'plt-admin', partitions: 2, replicas: 1}])
    expect(created[0]!.configuration['cleanup.policy']).toBe('compact')
    expect(await rejection(admin.createTopics({topics: ['plt-admin'], partitions: 1, replicas: 1}))).toContain('TOPIC_ALREADY_EXISTS')
    expect(await admin.listTopics()).toContain('plt-admin')

    await admin.createPartitions({topics: [{name: 'plt-admin', count: 3}]})
    const metadata = await admin.metadata({topics: ['plt-admin'], forceUpdate: true})
    expect(metadata.topics.get('plt-admin')?.partitionsCount).toBe(3)

    await admin.incrementalAlterConfigs({resources: [{resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-admin', configs: [{name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '3600000'}]}]})
    const [described] = await admin.describeConfigs({resources: [{resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-admin', configurationKeys: ['retention.ms', 'cleanup.policy']}]})
    expect(Object.fromEntries(described!.configs.map((c) => [c.name, c.value]))).toEqual({'cleanup.policy': 'compact', 'retention.ms': '3600000'})
    await admin.alterConfigs({resources: [{resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-admin', configs: [{name: 'retention.ms', value: '7200000'}]}]})
    const [after] = await admin.describeConfigs({resources: [{resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-admin', configurationKeys: ['retention.ms', 'cleanup.policy']}]})
    // AlterConfigs replaces the whole set: cleanup.policy falls back to its default.
    expect(Object.fromEntries(after!.configs.map((c) => [c.name, c.value]))).toEqual({'cleanup.policy': 'delete', 'retention.ms': '7200000'})

    await produce('plt-admin', 6, 'admin', 3)
    const listed = await admin.listOffsets({topics: [{name: 'plt-admin', partitions: [0, 1, 2].map((partitionIndex) => ({partitionIndex, timestamp: ListOffsetTimestamps.LATEST}))}]})
    expect(listed[0]!.partitions.map((p) => [p.partitionIndex, p.offset])).toEqual([
      [0, 2n],
      [1, 2n],
      [2, 2n],
    ])
    const earliest = await admin.listOffsets({topics: [{name: 'plt-admin', partitions: [{partitionIndex: 0, timestamp: ListOffsetTimestamps.EARLIEST}]}]})
    expect(earliest[0]!.partitions[0]!.offset).toBe(0n)

    await admin.deleteTopics({topics: ['plt-admin']})
    expect(await admin.listTopics()).not.toContain('plt-admin')
  })

  it('produce: partitions, keys, headers, every codec and an idempotent producer; read back by a consumer', async () => {
    await admin.createTopics({topics: ['plt-produce'], partitions: 3, replicas: 1})
    // zstd needs node:zlib's zstd (Node 22.15+); the client says so rather than sending it.
    const codecs = Object.values(CompressionAlgorithms).filter((c) => compressionsAlgorithms[c].available !== false)
    console.log(`codecs the client can use on Node ${process.versions.node}: ${codecs.join(', ')}`)
    const expected: Array<{partition: number; key: string; value: string; codec: string}> = []
    const producer = newProducer('plt-producer', {idempotent: true})
    for (const codec of codecs) {
      const messages = Array.from({length: 6}, (_, i) => ({topic: 'plt-produce', partition: i % 3, key: `${codec}-k${i}`, value: `${codec}-v${i}`.repeat(20), headers: {codec, index: String(i)}}))
      const result = await producer.send({messages, compression: codec, acks: -1})
      expect(result.offsets?.length).toBeGreaterThan(0)
      for (const m of messages) expected.push({partition: m.partition, key: m.key, value: m.value, codec})
    }
    expect(producer.producerId).toBeGreaterThanOrEqual(0n)
    await producer.close()

    const consumer = newConsumer('plt-reader', 'plt-reader')
    const stream = await consumer.consume({topics: ['plt-produce'], mode: 'earliest', autocommit: false})
    const got = await collector(stream).take(expected.length)
    const seen = got.map((m) => ({partition: m.partition, key: m.key, value: m.value, codec: m.headers.get('codec')!}))
    const order = (a: {partition: number; key: string}, b: {partition: number; key: string}) => a.partition - b.partition || a.key.localeCompare(b.key)
    expect(seen.sort(order)).toEqual([...expected].sort(order))
    for (const m of got) expect(m.headers.get('index')).toBe(m.key.slice(m.key.lastIndexOf('k') + 1))
    await stream.close()
    await consumer.close()
  })

  it('consumer group: two members share the partitions, rebalance on join and leave, committed offsets resume', async () => {
    const topic = 'plt-group'
    const group = 'plt-group'
    await admin.createTopics({topics: [topic], partitions: 4, replicas: 1})
    await produce(topic, 40, 'first', 4)

    const m1 = await member('plt-c1', group, topic)
    const first = await m1.received.take(40)
    expect(new Set(first.map((m) => m.value)).size).toBe(40)
    await m1.consumer.commit({offsets: lastOffsets(first)})

    const m2 = await member('plt-c2', group, topic)
    // Both members settle on one generation with the four partitions split between them.
    await waitUntil(() => (m1.consumer.generationId === m2.consumer.generationId && splitEvenly(m1.consumer, m2.consumer) ? true : undefined), 30_000, 'both members to own partitions in one generation')
    const described = (await admin.describeGroups({groups: [group]})).get(group)!
    expect(described.state).toBe('STABLE')
    expect(described.protocol).toBe('roundrobin')
    expect(described.members.size).toBe(2)

    // Nothing of the first batch again (its offsets were committed), every new one once.
    const second = await bothReceive(m1, m2, 40, () => produce(topic, 40, 'second', 4))
    expect(second.map((m) => m.value).sort()).toEqual(Array.from({length: 40}, (_, i) => `second-${i}`).sort())
    expect(m2.received.messages.length).toBeGreaterThan(0)
    await m1.consumer.commit({offsets: lastOffsets(m1.received.messages.slice(40))})
    await m2.consumer.commit({offsets: lastOffsets(m2.received.messages)})

    // The second member leaves: the first takes every partition back.
    await m2.close()
    await waitUntil(() => (partitionsOf(m1.consumer).join() === '0,1,2,3' ? true : undefined), 30_000, 'the remaining member to own all partitions')
    await m1.close()

    const committed = await admin.listConsumerGroupOffsets({groups: [group]})
    expect(committed[0]!.topics.find((t) => t.name === topic)!.partitions.map((p) => [p.partitionIndex, p.committedOffset]).sort()).toEqual([
      [0, 20n],
      [1, 20n],
      [2, 20n],
      [3, 20n],
    ])
    expect((await admin.describeGroups({groups: [group]})).get(group)!.state).toBe('EMPTY')

    // A new member resumes at the committed offsets: only what was produced after them.
    await produce(topic, 4, 'third', 4)
    const m3 = await member('plt-c3', group, topic)
    expect((await m3.received.take(4)).map((m) => m.value).sort()).toEqual(['third-0', 'third-1', 'third-2', 'third-3'])
    await m3.close()
  })

  it('KIP-848 consumer group (groupProtocol consumer): two members split the partitions and resume at committed offsets', async () => {
    const topic = 'plt-848'
    const group = 'plt-848'
    await admin.createTopics({topics: [topic], partitions: 4, replicas: 1})
    await produce(topic, 8, 'a', 4)
    const m1 = await member('plt-848-1', group, topic, {groupProtocol: 'consumer'})
    await m1.consumer.commit({offsets: lastOffsets(await m1.received.take(8))})
    const m2 = await member('plt-848-2', group, topic, {groupProtocol: 'consumer'})
    await waitUntil(() => (splitEvenly(m1.consumer, m2.consumer) ? true : undefined), 30_000, 'two KIP-848 members with two partitions each')
    expect([...(await admin.listGroups({types: ['consumer']})).values()].find((g) => g.id === group)).toMatchObject({groupType: 'consumer', state: 'STABLE'})
    const second = await bothReceive(m1, m2, 8, () => produce(topic, 8, 'b', 4))
    expect(second.map((m) => m.value).sort()).toEqual(Array.from({length: 8}, (_, i) => `b-${i}`).sort())
    await m1.close()
    await m2.close()
  })

  it('transactions: a committed transaction is visible to read_committed, an aborted one is not; offsets commit with the transaction', async () => {
    const topic = 'plt-txn'
    await admin.createTopics({topics: [topic], partitions: 2, replicas: 1})
    const producer = newProducer('plt-txn', {transactionalId: 'plt-txn', idempotent: true, acks: -1})
    const send = async (prefix: string, end: 'commit' | 'abort') => {
      const tx = await producer.beginTransaction()
      await tx.send({messages: Array.from({length: 4}, (_, i) => ({topic, partition: i % 2, key: `${prefix}${i}`, value: `${prefix}-${i}`}))})
      await (end === 'commit' ? tx.commit() : tx.abort())
    }
    await send('committed', 'commit')
    await send('aborted', 'abort')
    await send('later', 'commit')

    const committedReader = newConsumer('plt-rc', 'plt-rc', {isolationLevel: FetchIsolationLevels.READ_COMMITTED})
    const rc = await committedReader.consume({topics: [topic], mode: 'earliest', autocommit: false, isolationLevel: FetchIsolationLevels.READ_COMMITTED})
    const committed = await collector(rc).take(8)
    expect(committed.map((m) => m.value).sort()).toEqual(['committed-0', 'committed-1', 'committed-2', 'committed-3', 'later-0', 'later-1', 'later-2', 'later-3'])

    const uncommittedReader = newConsumer('plt-ru', 'plt-ru')
    const ru = await uncommittedReader.consume({topics: [topic], mode: 'earliest', autocommit: false, isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED})
    const all = await collector(ru).take(12)
    expect(all.filter((m) => m.value.startsWith('aborted-'))).toHaveLength(4)

    // Consume-transform-produce: the reader's offsets commit inside a transaction.
    const tx = await producer.beginTransaction()
    await tx.addConsumer(committedReader)
    await tx.send({messages: [{topic, partition: 0, key: 'out', value: 'transformed'}]})
    for (const m of committed) await tx.addOffset(m)
    await tx.commit()
    const offsets = await admin.listConsumerGroupOffsets({groups: ['plt-rc']})
    expect(offsets[0]!.topics.find((t) => t.name === topic)!.partitions.map((p) => [p.partitionIndex, p.committedOffset]).sort()).toEqual([
      [0, 8n],
      [1, 8n],
    ])
    // Per partition: 2 committed records + marker, 2 aborted + marker, 2 + marker; partition 0
    // then the transformed record and its marker.
    const lso = await admin.listOffsets({topics: [{name: topic, partitions: [{partitionIndex: 0, timestamp: ListOffsetTimestamps.LATEST}]}], isolationLevel: FetchIsolationLevels.READ_COMMITTED})
    expect(lso[0]!.partitions[0]!.offset).toBe(11n)
    await rc.close()
    await ru.close()
    await producer.close()
  })

  it('OffsetDelete of a topic the group does not subscribe to succeeds though the subscription says v1 with only v0 fields', async () => {
    const group = 'plt-offset-delete'
    await admin.createTopics({topics: ['plt-od-subscribed', 'plt-od-other'], partitions: 1, replicas: 1})
    const consumer = newConsumer('plt-od', group)
    const stream = await consumer.consume({topics: ['plt-od-subscribed'], mode: 'latest', autocommit: false})
    await waitUntil(() => (partitionsOf(consumer).length === 1 ? true : undefined), 20_000, 'the member to be assigned')
    // The member commits for both topics (its generation makes the commit valid for any topic).
    await consumer.commit({
      offsets: [
        {topic: 'plt-od-subscribed', partition: 0, offset: 0n, leaderEpoch: 0},
        {topic: 'plt-od-other', partition: 0, offset: 0n, leaderEpoch: 0},
      ],
    })
    // The premise: the member's subscription declares version 1 and holds exactly version 0's fields.
    const raw = await RawClient.connect(broker.port)
    const [described] = (await raw.request(ApiKey.DescribeGroups, 5, {groups: [group]}).finally(() => raw.close())).groups
    expect(described).toMatchObject({groupState: 'Stable', protocolType: 'consumer', protocolData: 'roundrobin'})
    const metadata = described!.members[0]!.memberMetadata
    expect(metadata.readInt16BE(0)).toBe(1)
    const v0 = ConsumerProtocolSubscription.decode(metadata, 0, 2)
    expect(v0.topics).toEqual(['plt-od-subscribed'])
    expect(metadata.length).toBe(2 + ConsumerProtocolSubscription.encode(v0, 0).length)
    expect(() => ConsumerProtocolSubscription.decode(metadata, 1, 2)).toThrow()

    const deleted = await admin.deleteConsumerGroupOffsets({groupId: group, topics: [{name: 'plt-od-other', partitionIndexes: [0]}]})
    expect(deleted).toEqual([{name: 'plt-od-other', partitionIndexes: [0]}])
    expect(await rejection(admin.deleteConsumerGroupOffsets({groupId: group, topics: [{name: 'plt-od-subscribed', partitionIndexes: [0]}]}))).toContain('GROUP_SUBSCRIBED_TO_TOPIC')
    const left = await admin.listConsumerGroupOffsets({groups: [group]})
    expect(left[0]!.topics.map((t) => t.name)).toEqual(['plt-od-subscribed'])
    // Kafka 4.0 answers every partition asked for: one without an offset NONE, an unknown one
    // UNKNOWN_TOPIC_OR_PARTITION.
    expect(await admin.deleteConsumerGroupOffsets({groupId: group, topics: [{name: 'plt-od-other', partitionIndexes: [0]}]})).toEqual([{name: 'plt-od-other', partitionIndexes: [0]}])
    expect(await rejection(admin.deleteConsumerGroupOffsets({groupId: group, topics: [{name: 'plt-od-other', partitionIndexes: [3]}]}))).toContain('UNKNOWN_TOPIC_OR_PARTITION')
    await stream.close()
    await consumer.close()
  })

  it('an OffsetCommit whose every partition is rejected creates no group', async () => {
    await admin.createTopics({topics: ['plt-no-group'], partitions: 1, replicas: 1})
    const unknownTopic = admin.alterConsumerGroupOffsets({groupId: 'plt-never', topics: [{name: 'plt-missing', partitionOffsets: [{partition: 0, offset: 1n}]}]})
    expect(await rejection(unknownTopic)).toContain('UNKNOWN_TOPIC_OR_PARTITION')
    const unknownPartition = admin.alterConsumerGroupOffsets({groupId: 'plt-never', topics: [{name: 'plt-no-group', partitionOffsets: [{partition: 7, offset: 1n}]}]})
    expect(await rejection(unknownPartition)).toContain('UNKNOWN_TOPIC_OR_PARTITION')

    expect([...(await admin.listGroups()).keys()]).not.toContain('plt-never')
    expect(await rejection(admin.deleteConsumerGroupOffsets({groupId: 'plt-never', topics: [{name: 'plt-no-group', partitionIndexes: [0]}]}))).toContain('GROUP_ID_NOT_FOUND')
    expect((await admin.describeGroups({groups: ['plt-never']})).get('plt-never')?.state).toBe('DEAD')
  })
})

function partitionsOf(consumer: StringConsumer): number[] {
  return (consumer.assignments ?? []).flatMap((a) => a.partitions).sort((a, b) => a - b)
}

/** Two members own two of the four partitions each. */
function splitEvenly(a: StringConsumer, b: StringConsumer): boolean {
  return partitionsOf(a).length === 2 && partitionsOf(b).length === 2 && [...partitionsOf(a), ...partitionsOf(b)].sort().join() === '0,1,2,3'
}

/** The offset to commit per partition: one past the last message seen. */
function lastOffsets(messages: readonly StringMessage[]): Array<{topic: string; partition: number; offset: bigint; leaderEpoch: number}> {
  const last = new Map<string, {topic: string; partition: number; offset: bigint; leaderEpoch: number}>()
  for (const m of messages) {
    const k = `${m.topic}:${m.partition}`
    const prev = last.get(k)
    if (!prev || prev.offset <= m.offset) last.set(k, {topic: m.topic, partition: m.partition, offset: m.offset + 1n, leaderEpoch: 0})
  }
  return [...last.values()]
}
