/**
 * `kcli topics describe` on a cluster view with replicas on other brokers (issue 13): Replicas,
 * ISR and Offline columns as kafka-topics.sh --describe shows them ("none" for no leader), the
 * --json fields, and Kafka's filters (--under-replicated-partitions, --unavailable-partitions,
 * --under-min-isr-partitions, --at-min-isr-partitions) over every topic.
 *
 * One in-process broker (node 1) whose store gets two more registrations (brokers 2 and 3, never
 * started); a topic assigned over the three with CreateTopics, then broker 3 leaves.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import TopicsDescribe, {type TopicsDescribeResult} from '../../../src/commands/topics/describe.js'
import ClusterDescribe, {type ClusterDescribeResult} from '../../../src/commands/cluster/describe.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import type {BrokerRegistration, MetadataStore} from '../../../src/server/controller/metadata-store.js'
import {ProtocolClient} from '../../server/handlers/helpers.js'
import {json, kcli, startBroker, type TestBroker} from '../helpers.js'

let broker: TestBroker
let store: MetadataStore
let registered: BrokerRegistration[]

beforeAll(async () => {
  broker = await startBroker()
  store = broker.broker['metadata']!
  // Port 9 (discard): nothing listens there.
  registered = [...store.brokers(), {nodeId: 2, host: '127.0.0.1', port: 9, rack: null}, {nodeId: 3, host: '127.0.0.1', port: 9, rack: null}]
  store.brokers = () => registered
  const client = await ProtocolClient.connect(broker.port)
  try {
    const res = await client.send(ApiKey.CreateTopics, 7, {
      topics: [
        {name: 'rep', numPartitions: -1, replicationFactor: -1, assignments: [{partitionIndex: 0, brokerIds: [1, 2, 3]}, {partitionIndex: 1, brokerIds: [1, 3, 2]}, {partitionIndex: 2, brokerIds: [3, 1, 2]}]},
        {name: 'solo', numPartitions: -1, replicationFactor: -1, assignments: [{partitionIndex: 0, brokerIds: [1]}, {partitionIndex: 1, brokerIds: [1]}]},
      ],
      timeoutMs: 5000,
    })
    expect(res.topics.map((t) => t.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE])
  } finally {
    client.close()
  }
  // Broker 3 leaves; the ISRs of the partitions it followed have shrunk (the leader's doing, in a cluster).
  registered = registered.filter((b) => b.nodeId !== 3)
  const rep = store.topic('rep')!
  rep.partitions[0]!.isr = [1, 2]
  rep.partitions[1]!.isr = [1, 2]
}, 30_000)

afterAll(async () => {
  await broker?.stop()
})

describe('kcli topics describe with replicas on several brokers', () => {
  it('shows Replicas, ISR and Offline per partition, "none" where the leader is gone', async () => {
    const run = await kcli<TopicsDescribeResult>(TopicsDescribe, broker.bootstrap, ['rep'])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^Replication factor: +3$/m)
    expect(run.stdout).toMatch(/^PARTITION +LEADER +EPOCH +REPLICAS +ISR +OFFLINE +EARLIEST +LATEST$/m)
    expect(run.stdout).toMatch(/^ +0 +1 +0 +1,2,3 +1,2 +3 +0 +0$/m)
    expect(run.stdout).toMatch(/^ +1 +1 +0 +1,3,2 +1,2 +3 +0 +0$/m)
    expect(run.stdout).toMatch(/^ +2 +none +0 +3,1,2 +3,1,2 +3 +-1 +-1$/m)
  })

  it('--json carries replicas, isr, offlineReplicas, leader and leaderEpoch', async () => {
    const described = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['rep', '--json']))
    expect(described.topics[0]!.partitions.map(({partition, leader, leaderEpoch, replicas, isr, offlineReplicas}) => ({partition, leader, leaderEpoch, replicas, isr, offlineReplicas}))).toEqual([
      {partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2, 3], isr: [1, 2], offlineReplicas: [3]},
      {partition: 1, leader: 1, leaderEpoch: 0, replicas: [1, 3, 2], isr: [1, 2], offlineReplicas: [3]},
      {partition: 2, leader: -1, leaderEpoch: 0, replicas: [3, 1, 2], isr: [3, 1, 2], offlineReplicas: [3]},
    ])
    expect(described.topics[0]!.partitions[2]).toMatchObject({earliestOffset: -1, latestOffset: -1})
  })

  it('--under-replicated-partitions and --unavailable-partitions keep only those partitions, over every topic', async () => {
    const under = await kcli<TopicsDescribeResult>(TopicsDescribe, broker.bootstrap, ['--under-replicated-partitions'])
    expect(under.exitCode).toBe(0)
    expect(under.stdout.split('\n')[0]).toMatch(/^TOPIC +PARTITION +LEADER +EPOCH +REPLICAS +ISR +OFFLINE +EARLIEST +LATEST$/)
    expect(under.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/ +/).slice(0, 2))).toEqual([
      ['rep', '0'],
      ['rep', '1'],
    ])
    const unavailable = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['--unavailable-partitions', '--json']))
    expect(unavailable.topics.map((t) => [t.name, t.partitions.map((p) => p.partition), t.configs])).toEqual([['rep', [2], []]])
    const both = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['rep', 'solo', '--under-replicated', '--unavailable', '--json']))
    expect(both.topics.map((t) => [t.name, t.partitions.map((p) => p.partition)])).toEqual([['rep', [0, 1, 2]]])
  })

  it('--under-min-isr-partitions and --at-min-isr-partitions compare the ISR with min.insync.replicas', async () => {
    const underMin = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['--under-min-isr-partitions', '--json']))
    expect(underMin.topics.map((t) => [t.name, t.partitions.map((p) => p.partition)])).toEqual([['rep', [2]]])
    const atMin = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['--at-min-isr-partitions', '--json']))
    expect(atMin.topics.map((t) => [t.name, t.partitions.map((p) => p.partition)])).toEqual([['solo', [0, 1]]])
    const none = await kcli<TopicsDescribeResult>(TopicsDescribe, broker.bootstrap, ['rep', '--at-min-isr-partitions'])
    expect(none.exitCode).toBe(0)
    expect(none.stdout).toBe('No partition matches.\n')
  })

  it('describes every topic without a name', async () => {
    const all = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['--json']))
    expect(all.topics.map((t) => t.name)).toEqual(['rep', 'solo'])
  })
})

describe('kcli cluster describe over the same cluster', () => {
  it('counts per broker the replicas, leaders, preferred-leader imbalance, under-replicated and offline partitions', async () => {
    const run = await kcli<ClusterDescribeResult>(ClusterDescribe, broker.bootstrap, ['--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const {health} = json<ClusterDescribeResult>(run)
    // rep-0 and rep-1 (led by 1, ISR 1,2 of 1,2,3 / 1,3,2) are under-replicated; rep-2 (preferred 3) has no leader.
    expect(health).toMatchObject({partitions: 5, underReplicated: 2, offline: 1, reassigning: 0})
    expect(health.brokers).toEqual([
      {broker: 1, live: true, replicas: 5, leaders: 4, preferred: 4, notLedByPreferred: 0, imbalancePercent: 0, underReplicated: 2, offline: 1},
      {broker: 2, live: true, replicas: 3, leaders: 0, preferred: 0, notLedByPreferred: 0, imbalancePercent: 0, underReplicated: 0, offline: 1},
      {broker: 3, live: false, replicas: 3, leaders: 0, preferred: 1, notLedByPreferred: 1, imbalancePercent: 100, underReplicated: 0, offline: 1},
    ])
    const table = await kcli(ClusterDescribe, broker.bootstrap, [])
    expect(table.stdout).toMatch(/^Under-replicated: +2$/m)
    expect(table.stdout).toMatch(/^ID +HOST +PORT +RACK +ROLE +REPLICAS +LEADERS +PREFERRED +IMBALANCE +UNDER-REPLICATED +OFFLINE$/m)
    expect(table.stdout).toMatch(/^ +3 +offline +3 +0 +1 +100% +0 +1$/m)
  })
})
