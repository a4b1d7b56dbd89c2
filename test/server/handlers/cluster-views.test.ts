/**
 * The cluster views from one broker (issue 13): Metadata, DescribeTopicPartitions and
 * DescribeCluster report every registered broker, the controller, and per partition the replicas,
 * ISR, offline replicas, leader and leader epoch, as Kafka 4.0 does (tool-captures/cluster-tools
 * runs 8, 15 and 22: with broker 3 stopped, offline replicas [3] in replica order; a partition whose
 * leader is gone answers leader -1 with its epoch kept and LEADER_NOT_AVAILABLE in Metadata, NONE
 * in DescribeTopicPartitions).
 *
 * One in-process broker (node 1) on the local store, whose registrations get two more brokers
 * (2 and 3, with racks and a field the etcd store may add) so CreateTopics places over three
 * brokers; then broker 3 leaves, as a broker whose etcd lease ended would.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import type {BrokerRegistration, MetadataStore} from '../../../src/server/controller/metadata-store.js'
import {useBroker} from './helpers.js'

const ctx = useBroker({'broker.rack': 'rack-a'})

// Port 9 (discard): nothing listens there, so nothing can talk to the brokers that are not running.
const two = {nodeId: 2, host: '127.0.0.1', port: 9, rack: 'rack-b', epoch: 12}
const three = {nodeId: 3, host: '127.0.0.1', port: 9, rack: 'rack-c', epoch: 13}
let store: MetadataStore
let registered: BrokerRegistration[]
let original: MetadataStore['brokers']

beforeAll(async () => {
  store = ctx.broker.broker['metadata']!
  original = store.brokers.bind(store)
  registered = [...original(), two, three]
  store.brokers = () => registered
  // A topic whose state the test sets: partition 1 led by broker 3, partition 2 with no leader.
  await store.createTopic({
    name: 'views-offline',
    configs: {},
    internal: false,
    partitions: [
      {partition: 0, replicas: [3, 1, 2], leader: 1, leaderEpoch: 1, isr: [1, 2]},
      {partition: 1, replicas: [3, 2], leader: 3, leaderEpoch: 2, isr: [3]},
      {partition: 2, replicas: [3], leader: -1, leaderEpoch: 4, isr: [3]},
    ],
  })
})

afterAll(() => {
  if (store) store.brokers = original
})

const metadataRequest = (names: string[]) => ({topics: names.map((name) => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'})), allowAutoTopicCreation: false})

describe('cluster views with every broker registered', () => {
  it('CreateTopics places RF 3 over the three brokers, one replica per rack, leaders spread evenly', async () => {
    const res = await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name: 'views-placed', numPartitions: 6, replicationFactor: 3}], timeoutMs: 5000})
    expect(res.topics[0]).toMatchObject({errorCode: ErrorCode.NONE, numPartitions: 6, replicationFactor: 3})
    const md = await ctx.client.send(ApiKey.Metadata, 12, metadataRequest(['views-placed']))
    const partitions = md.topics[0]!.partitions
    expect(partitions).toHaveLength(6)
    const leaders: Record<number, number> = {}
    for (const p of partitions) {
      expect(p.errorCode).toBe(ErrorCode.NONE)
      expect([...p.replicaNodes].sort()).toEqual([1, 2, 3])
      expect(p.isrNodes).toEqual(p.replicaNodes)
      expect(p.leaderId).toBe(p.replicaNodes[0])
      expect(p.offlineReplicas).toEqual([])
      leaders[p.leaderId] = (leaders[p.leaderId] ?? 0) + 1
    }
    expect(leaders).toEqual({1: 2, 2: 2, 3: 2})
  })

  it("refuses RF 4 with Kafka's message", async () => {
    const res = await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name: 'views-rf4', numPartitions: 1, replicationFactor: 4}], timeoutMs: 5000})
    expect(res.topics[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      errorMessage: 'Unable to replicate the partition 4 time(s): The target replication factor of 4 cannot be reached because only 3 broker(s) are registered.',
    })
  })

  it('Metadata and DescribeCluster list every registered broker (this one on the listener used) with racks, and the controller', async () => {
    const md = await ctx.client.send(ApiKey.Metadata, 12, metadataRequest([]))
    expect(md.brokers).toEqual([
      {nodeId: 1, host: '127.0.0.1', port: ctx.broker.port, rack: 'rack-a'},
      {nodeId: 2, host: '127.0.0.1', port: 9, rack: 'rack-b'},
      {nodeId: 3, host: '127.0.0.1', port: 9, rack: 'rack-c'},
    ])
    expect(md.controllerId).toBe(1)
    const dc = await ctx.client.send(ApiKey.DescribeCluster, 2, {includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false})
    expect(dc.controllerId).toBe(1)
    expect(dc.brokers.map((b) => [b.brokerId, b.rack, b.isFenced])).toEqual([
      [1, 'rack-a', false],
      [2, 'rack-b', false],
      [3, 'rack-c', false],
    ])
  })

  it('a leader that is registered is reported as it is; a partition without one gets LEADER_NOT_AVAILABLE', async () => {
    const md = await ctx.client.send(ApiKey.Metadata, 12, metadataRequest(['views-offline']))
    expect(md.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.leaderEpoch, p.replicaNodes, p.isrNodes, p.offlineReplicas])).toEqual([
      [0, ErrorCode.NONE, 1, 1, [3, 1, 2], [1, 2], []],
      [1, ErrorCode.NONE, 3, 2, [3, 2], [3], []],
      [2, ErrorCode.LEADER_NOT_AVAILABLE, -1, 4, [3], [3], []],
    ])
  })
})

describe('cluster views after broker 3 left', () => {
  beforeAll(() => {
    registered = registered.filter((b) => b.nodeId !== 3)
  })

  it('Metadata: offline replicas in replica order, leader -1 with LEADER_NOT_AVAILABLE where the leader is not registered', async () => {
    const md = await ctx.client.send(ApiKey.Metadata, 12, metadataRequest(['views-offline', 'views-placed']))
    expect(md.brokers.map((b) => b.nodeId)).toEqual([1, 2])
    const [offline, placed] = md.topics
    expect(offline!.errorCode).toBe(ErrorCode.NONE)
    expect(offline!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.leaderEpoch, p.replicaNodes, p.isrNodes, p.offlineReplicas])).toEqual([
      [0, ErrorCode.NONE, 1, 1, [3, 1, 2], [1, 2], [3]],
      [1, ErrorCode.LEADER_NOT_AVAILABLE, -1, 2, [3, 2], [3], [3]],
      [2, ErrorCode.LEADER_NOT_AVAILABLE, -1, 4, [3], [3], [3]],
    ])
    for (const p of placed!.partitions) {
      expect(p.offlineReplicas).toEqual([3])
      expect(p.errorCode).toBe(p.replicaNodes[0] === 3 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE)
      expect(p.leaderId).toBe(p.replicaNodes[0] === 3 ? -1 : p.replicaNodes[0])
    }
  })

  it('Metadata v0 lists only registered replicas and answers REPLICA_NOT_AVAILABLE where some are gone', async () => {
    const md = await ctx.client.send(ApiKey.Metadata, 0, {topics: [{name: 'views-offline', topicId: 'AAAAAAAAAAAAAAAAAAAAAA'}], allowAutoTopicCreation: true})
    expect(md.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.replicaNodes, p.isrNodes])).toEqual([
      [0, ErrorCode.REPLICA_NOT_AVAILABLE, 1, [1, 2], [1, 2]],
      [1, ErrorCode.LEADER_NOT_AVAILABLE, -1, [2], []],
      [2, ErrorCode.LEADER_NOT_AVAILABLE, -1, [], []],
    ])
  })

  it('DescribeTopicPartitions: the same partitions, each with error NONE, as Kafka answers', async () => {
    const res = await ctx.client.send(ApiKey.DescribeTopicPartitions, 0, {topics: [{name: 'views-offline'}], responsePartitionLimit: 2000, cursor: null})
    expect(res.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.leaderEpoch, p.replicaNodes, p.isrNodes, p.offlineReplicas, p.eligibleLeaderReplicas, p.lastKnownElr])).toEqual([
      [0, ErrorCode.NONE, 1, 1, [3, 1, 2], [1, 2], [3], [], []],
      [1, ErrorCode.NONE, -1, 2, [3, 2], [3], [3], [], []],
      [2, ErrorCode.NONE, -1, 4, [3], [3], [3], [], []],
    ])
  })

  it('DescribeCluster lists the brokers still registered', async () => {
    const dc = await ctx.client.send(ApiKey.DescribeCluster, 2, {includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false})
    expect(dc.brokers.map((b) => b.brokerId)).toEqual([1, 2])
  })

  it("CreateTopics with RF 3 now fails with Kafka's message; explicit assignments naming broker 3 too", async () => {
    const res = await ctx.client.send(ApiKey.CreateTopics, 7, {
      topics: [
        {name: 'views-rf3', numPartitions: 1, replicationFactor: 3},
        {name: 'views-manual', numPartitions: -1, replicationFactor: -1, assignments: [{partitionIndex: 0, brokerIds: [1, 3]}]},
      ],
      timeoutMs: 5000,
    })
    expect(res.topics.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ['views-rf3', ErrorCode.INVALID_REPLICATION_FACTOR, 'Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.'],
      ['views-manual', ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes broker 3, but no such broker is registered.'],
    ])
    const grow = await ctx.client.send(ApiKey.CreatePartitions, 3, {topics: [{name: 'views-placed', count: 7, assignments: null}], timeoutMs: 5000, validateOnly: true})
    expect(grow.results[0]).toMatchObject({errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.'})
  })
})

describe('cluster views with listeners and restarted leaders', () => {
  beforeAll(async () => {
    // Broker 4 registers its client listener (PLAINTEXT, the one the test uses) apart from its
    // first one; broker 5 only an inter-broker listener, so clients on PLAINTEXT cannot reach it.
    registered = [
      ...registered,
      {nodeId: 4, host: '127.0.0.1', port: 19, rack: null, listeners: [{name: 'REPLICATION', host: '127.0.0.1', port: 19, securityProtocol: 'PLAINTEXT'}, {name: 'PLAINTEXT', host: '127.0.0.1', port: 29, securityProtocol: 'PLAINTEXT'}]},
      {nodeId: 5, host: '127.0.0.1', port: 39, rack: null, listeners: [{name: 'REPLICATION', host: '127.0.0.1', port: 39, securityProtocol: 'PLAINTEXT'}]},
    ]
    await store.createTopic({
      name: 'views-listeners',
      configs: {},
      internal: false,
      partitions: [
        {partition: 0, replicas: [4, 5], leader: 4, leaderEpoch: 0, isr: [4, 5]},
        {partition: 1, replicas: [5, 4], leader: 5, leaderEpoch: 0, isr: [5, 4]},
        // Elected while broker 2 had registration 11; broker 2 is now registration 12 (it restarted).
        {partition: 2, replicas: [2, 1], leader: 2, leaderEpoch: 3, isr: [2, 1], leaderBrokerEpoch: 11},
        {partition: 3, replicas: [1, 2], leader: 2, leaderEpoch: 4, isr: [2, 1], leaderBrokerEpoch: 12},
      ],
    })
  })

  it("advertises each broker on the request's listener and leaves out brokers without it", async () => {
    const md = await ctx.client.send(ApiKey.Metadata, 12, metadataRequest([]))
    expect(md.brokers.map((b) => [b.nodeId, b.port])).toEqual([
      [1, ctx.broker.port],
      [2, 9],
      [4, 29],
    ])
    const dc = await ctx.client.send(ApiKey.DescribeCluster, 2, {includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false})
    expect(dc.brokers.map((b) => [b.brokerId, b.port])).toEqual([
      [1, ctx.broker.port],
      [2, 9],
      [4, 29],
    ])
  })

  it('a leader without the listener: LISTENER_NOT_FOUND (v6+) or LEADER_NOT_AVAILABLE; a restarted leader: LEADER_NOT_AVAILABLE', async () => {
    const rows = (res: {topics: Array<{partitions: Array<{partitionIndex: number; errorCode: number; leaderId: number; offlineReplicas: number[]}>}>}) =>
      res.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.offlineReplicas])
    const v12 = await ctx.client.send(ApiKey.Metadata, 12, metadataRequest(['views-listeners']))
    expect(rows(v12)).toEqual([
      [0, ErrorCode.NONE, 4, [5]],
      [1, ErrorCode.LISTENER_NOT_FOUND, -1, [5]],
      [2, ErrorCode.LEADER_NOT_AVAILABLE, -1, []],
      [3, ErrorCode.NONE, 2, []],
    ])
    const v5 = await ctx.client.send(ApiKey.Metadata, 5, metadataRequest(['views-listeners']))
    expect(rows(v5)[1]).toEqual([1, ErrorCode.LEADER_NOT_AVAILABLE, -1, [5]])
    const dtp = await ctx.client.send(ApiKey.DescribeTopicPartitions, 0, {topics: [{name: 'views-listeners'}], responsePartitionLimit: 2000, cursor: null})
    expect(dtp.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.offlineReplicas])).toEqual([
      [0, ErrorCode.NONE, 4, [5]],
      [1, ErrorCode.NONE, -1, [5]],
      [2, ErrorCode.NONE, -1, []],
      [3, ErrorCode.NONE, 2, []],
    ])
  })

  it('places new replicas on every registered broker but not on one shutting down', async () => {
    registered = registered.map((b) => (b.nodeId === 5 ? {...b, shuttingDown: true} : b))
    const res = await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name: 'views-spread', numPartitions: 8, replicationFactor: 1}], timeoutMs: 5000})
    expect(res.topics[0]!.errorCode).toBe(ErrorCode.NONE)
    const md = await ctx.client.send(ApiKey.Metadata, 12, metadataRequest(['views-spread']))
    expect(new Set(md.topics[0]!.partitions.map((p) => p.replicaNodes[0]))).toEqual(new Set([1, 2, 4]))
  })
})
