/**
 * TopicManager's placement over a fake MetadataStore with several registered brokers (racks or
 * not) and a seeded random source: CreateTopics and CreatePartitions place with the striped placer
 * (leaders spread evenly, one replica per rack, no broker twice, every replica in the ISR), a
 * replication factor above the registered brokers gets INVALID_REPLICATION_FACTOR with Kafka's
 * messages (prefixed for CreateTopics, as it is for CreatePartitions), and explicit assignments are
 * checked as Kafka's validateManualPartitionAssignment checks them.
 */
import {describe, expect, it} from 'vitest'
import {resolveBrokerConfig} from '../../../src/lib/config/broker-configs.js'
import type {BrokerRegistration, MetadataStore, PartitionAssignment, TopicMetadata} from '../../../src/server/controller/metadata-store.js'
import {type CreateTopicSpec, TopicError, TopicManager} from '../../../src/server/controller/topic-manager.js'
import type {RandomSource} from '../../../src/server/controller/replica-placer.js'
import type {ReplicaManager} from '../../../src/server/replica-manager.js'

/** The part of a MetadataStore TopicManager uses, in memory. Registrations may carry fields the store adds later (epoch, ...). */
function fakeStore(brokers: Array<BrokerRegistration & Record<string, unknown>>): MetadataStore {
  const topics = new Map<string, TopicMetadata>()
  const store: Partial<MetadataStore> = {
    clusterId: 'test-cluster',
    controllerId: () => brokers[0]?.nodeId ?? -1,
    brokers: () => brokers,
    topics: () => [...topics.values()],
    topic: (name) => topics.get(name),
    brokerConfigs: () => ({}),
    createTopic: async (t) => {
      const created = {...t, topicId: t.topicId ?? `id-${t.name}`}
      topics.set(t.name, created)
      return created
    },
    addPartitions: async (name: string, partitions: PartitionAssignment[]) => {
      const t = topics.get(name)!
      t.partitions.push(...partitions)
      return t
    },
  }
  return store as MetadataStore
}

const noReplicas = {ensurePartitions: async () => {}, deletePartitions: async () => {}} as unknown as ReplicaManager

function seeded(seed: number): RandomSource {
  let a = seed >>> 0
  return (bound) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * bound)
  }
}

const registration = (nodeId: number, rack: string | null = null, shuttingDown = false) => ({nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack, epoch: 1000 + nodeId, ...(shuttingDown ? {shuttingDown} : {})})

function manager(brokers: Array<ReturnType<typeof registration>>, seed = 1, overrides: Record<string, string> = {}) {
  const store = fakeStore(brokers)
  return {store, topics: new TopicManager(store, noReplicas, resolveBrokerConfig({'node.id': String(brokers[0]?.nodeId ?? 1), ...overrides}), seeded(seed))}
}

const spec = (name: string, numPartitions: number, replicationFactor: number, assignments: CreateTopicSpec['assignments'] = []): CreateTopicSpec => ({name, numPartitions, replicationFactor, assignments, configs: {}})

function topicError(fn: () => unknown): TopicError {
  try {
    fn()
  } catch (error) {
    if (error instanceof TopicError) return error
    throw error
  }
  throw new Error('expected a TopicError')
}

async function asyncTopicError(promise: Promise<unknown>): Promise<TopicError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof TopicError) return error
    throw error
  }
  throw new Error('expected a TopicError')
}

function counts(values: number[]): Record<number, number> {
  const out: Record<number, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}

function checkPartitions(partitions: PartitionAssignment[], replicationFactor: number): void {
  partitions.forEach((p, i) => {
    expect(p.partition).toBe(i)
    expect(p.replicas).toHaveLength(replicationFactor)
    expect(new Set(p.replicas).size).toBe(replicationFactor)
    expect(p.leader).toBe(p.replicas[0])
    expect(p.isr).toEqual(p.replicas)
    expect(p.leaderEpoch).toBe(0)
  })
}

describe('TopicManager placement', () => {
  it('spreads the leaders of a new topic evenly over three brokers, every replica once per partition', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const {topics} = manager([registration(1), registration(2), registration(3)], seed)
      const topic = await topics.create(spec('orders', 6, 3))
      checkPartitions(topic.partitions, 3)
      expect(counts(topic.partitions.map((p) => p.leader))).toEqual({1: 2, 2: 2, 3: 2})
      expect(counts(topic.partitions.flatMap((p) => p.replicas))).toEqual({1: 6, 2: 6, 3: 6})
    }
  })

  it('is deterministic for a given random source, and varies with it (randomized start like Kafka)', () => {
    const brokers = [registration(1), registration(2), registration(3), registration(4)]
    const plan = (seed: number) => manager(brokers, seed).topics.plan(spec('t', 8, 2)).partitions.map((p) => p.replicas)
    expect(plan(5)).toEqual(plan(5))
    const distinct = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => JSON.stringify(plan(seed))))
    expect(distinct.size).toBeGreaterThan(1)
  })

  it('puts one replica in each rack with three racks and RF 3', async () => {
    const brokers = [registration(1, 'r1'), registration(2, 'r1'), registration(3, 'r2'), registration(4, 'r2'), registration(5, 'r3'), registration(6, 'r3')]
    const rackOf = new Map(brokers.map((b) => [b.nodeId, b.rack]))
    const {topics} = manager(brokers, 3)
    const topic = await topics.create(spec('racked', 12, 3))
    checkPartitions(topic.partitions, 3)
    for (const p of topic.partitions) expect(new Set(p.replicas.map((id) => rackOf.get(id)))).toEqual(new Set(['r1', 'r2', 'r3']))
    // CreatePartitions keeps the rule.
    const grown = await topics.addPartitions('racked', 18, null, false)
    checkPartitions(grown.partitions, 3)
    for (const p of grown.partitions) expect(new Set(p.replicas.map((id) => rackOf.get(id))).size).toBe(3)
  })

  it('uses default.replication.factor and num.partitions for -1', () => {
    const {topics} = manager([registration(1), registration(2), registration(3)], 1, {'default.replication.factor': '2', 'num.partitions': '4'})
    const planned = topics.plan(spec('defaults', -1, -1))
    checkPartitions(planned.partitions, 2)
    expect(planned.partitions).toHaveLength(4)
  })

  it('CreatePartitions places the new partitions with the topic\'s replication factor, evenly', async () => {
    const {topics} = manager([registration(1), registration(2), registration(3)], 9)
    await topics.create(spec('grow', 3, 2))
    const grown = await topics.addPartitions('grow', 9, null, false)
    checkPartitions(grown.partitions, 2)
    expect(counts(grown.partitions.slice(3).map((p) => p.leader))).toEqual({1: 2, 2: 2, 3: 2})
    const validated = await topics.addPartitions('grow', 12, null, true)
    expect(validated.partitions).toHaveLength(12)
    expect(grown.partitions).toHaveLength(9)
  })

  it("refuses a replication factor above the registered brokers with Kafka's messages", async () => {
    const {topics} = manager([registration(1), registration(2)])
    const created = topicError(() => topics.plan(spec('too-many', 3, 3)))
    expect(created.code).toBe('INVALID_REPLICATION_FACTOR')
    expect(created.kafkaMessage).toBe('Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.')
    const byDefault = topicError(() => manager([registration(1), registration(2)], 1, {'default.replication.factor': '3'}).topics.plan(spec('by-default', 1, -1)))
    expect(byDefault.kafkaMessage).toBe('Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.')
    // RF checked before the size of the operation, as Kafka's placer runs first.
    expect(topicError(() => topics.plan(spec('huge', 20_000, 3))).code).toBe('INVALID_REPLICATION_FACTOR')

    // A topic of RF 3 made while three brokers were registered, grown after one left: the placer's message as it is.
    const three = manager([registration(1), registration(2), registration(3)])
    await three.topics.create(spec('rf3', 1, 3))
    ;(three.store.brokers() as unknown[]).pop()
    const grown = await asyncTopicError(three.topics.addPartitions('rf3', 2, null, false))
    expect(grown.code).toBe('INVALID_REPLICATION_FACTOR')
    expect(grown.kafkaMessage).toBe('The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.')
  })

  it("checks explicit assignments as Kafka's validateManualPartitionAssignment does", async () => {
    const {topics} = manager([registration(1), registration(2), registration(3)])
    const planned = topics.plan(spec('manual', -1, -1, [{partitionIndex: 1, brokerIds: [3, 1]}, {partitionIndex: 0, brokerIds: [2, 3]}]))
    expect(planned.partitions.map((p) => [p.partition, p.replicas, p.leader, p.isr])).toEqual([
      [0, [2, 3], 2, [2, 3]],
      [1, [3, 1], 3, [3, 1]],
    ])
    const cases: Array<[CreateTopicSpec['assignments'], string, string]> = [
      [[{partitionIndex: 0, brokerIds: []}], 'INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes an empty replica list.'],
      [[{partitionIndex: 0, brokerIds: [4, 1]}], 'INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes broker 4, but no such broker is registered.'],
      [[{partitionIndex: 0, brokerIds: [2, 1, 2]}], 'INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes the broker 2 more than once.'],
      [[{partitionIndex: 0, brokerIds: [1, 2]}, {partitionIndex: 1, brokerIds: [3]}], 'INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s).'],
      [[{partitionIndex: 0, brokerIds: [1]}, {partitionIndex: 0, brokerIds: [2]}], 'INVALID_REPLICA_ASSIGNMENT', 'Found multiple manual partition assignments for partition 0'],
      [[{partitionIndex: 0, brokerIds: [1]}, {partitionIndex: 2, brokerIds: [2]}], 'INVALID_REPLICA_ASSIGNMENT', 'partitions should be a consecutive 0-based integer sequence'],
    ]
    for (const [assignments, code, message] of cases) {
      const error = topicError(() => topics.plan(spec('manual', -1, -1, assignments)))
      expect([error.code, error.kafkaMessage]).toEqual([code, message])
    }
    await topics.create(spec('m', 1, 2))
    const wrongRf = await asyncTopicError(topics.addPartitions('m', 2, [[1]], false))
    expect(wrongRf.kafkaMessage).toBe('The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s).')
    const grown = await topics.addPartitions('m', 2, [[3, 2]], false)
    expect(grown.partitions[1]).toMatchObject({partition: 1, replicas: [3, 2], leader: 3, isr: [3, 2]})
  })

  it('places nothing on a broker in controlled shutdown; an explicit assignment may name one, out of the ISR', async () => {
    const {topics} = manager([registration(1), registration(2, null, true), registration(3)], 4)
    const placed = topics.plan(spec('avoid', 10, 2))
    checkPartitions(placed.partitions, 2)
    for (const p of placed.partitions) expect(p.replicas).not.toContain(2)
    expect(topicError(() => topics.plan(spec('three', 1, 3))).kafkaMessage).toBe('Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.')
    const manual = topics.plan(spec('manual', -1, -1, [{partitionIndex: 0, brokerIds: [2, 3]}]))
    expect(manual.partitions[0]).toMatchObject({replicas: [2, 3], leader: 3, isr: [3]})
    const onlyStopping = topicError(() => topics.plan(spec('manual', -1, -1, [{partitionIndex: 0, brokerIds: [3]}, {partitionIndex: 1, brokerIds: [2]}])))
    expect([onlyStopping.code, onlyStopping.kafkaMessage]).toEqual(['INVALID_REPLICA_ASSIGNMENT', 'All brokers specified in the manual partition assignment for partition 1 are fenced or in controlled shutdown.'])
    await topics.create(spec('grow', 1, 1))
    const grown = await asyncTopicError(topics.addPartitions('grow', 2, [[2]], false))
    expect(grown.kafkaMessage).toBe('All brokers specified in the manual partition assignment for partition 1 are fenced or in controlled shutdown.')
  })
})
