/**
 * Issue 14, reassignment (KIP-455) on four `kcli server start` processes: an RF=3 topic on
 * brokers 1-3 moves onto broker 4 and down to RF=2 (AlterPartitionReassignments); while it copies
 * (throttled by follower.replication.throttled.rate) ListPartitionReassignments shows the adding
 * and removing replicas; when the new replicas have joined the ISR the controller completes it —
 * the replica set is the target, the removed brokers delete their copies — and every record is
 * still there. A second reassignment cancelled half-way restores the replicas and removes the
 * partial copy. Bad targets get Kafka's errors and move nothing.
 */
import {existsSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {etcdMissing, startEtcd, type TestEtcd} from './etcd.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir, waitUntil, pollUntil} from './harness.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {kcat, kcatMissing, RawClient} from './peers.js'
import ReassignExecute, {type ReassignExecuteResult} from '../../src/commands/reassign/execute.js'
import ReassignVerify, {type ReassignVerifyResult} from '../../src/commands/reassign/verify.js'
import PreferredElection, {type PreferredElectionResult} from '../../src/commands/preferred-election/index.js'
import ClusterDescribe, {type ClusterDescribeResult} from '../../src/commands/cluster/describe.js'
import TopicsDescribe, {type TopicsDescribeResult} from '../../src/commands/topics/describe.js'
import {json, kcli} from '../commands/helpers.js'

describe.skipIf(etcdMissing !== null || kcatMissing !== null)('reassignment on a four-broker cluster', () => {
  let etcd: TestEtcd
  const brokers = new Map<number, BrokerProcess>()
  const dirs = new Map<number, string>()
  const bootstrap = () => [...brokers.values()].map((b) => b.bootstrap).join(',')

  async function admin<T>(fn: (raw: RawClient) => Promise<T>, nodeId = 1): Promise<T> {
    const raw = await RawClient.connect(brokers.get(nodeId)!.port)
    try {
      return await fn(raw)
    } finally {
      raw.close()
    }
  }

  const metadata = () =>
    admin(async (raw) => {
      const r = await raw.request(ApiKey.Metadata, 12, {topics: [{name: 'move', topicId: 'AAAAAAAAAAAAAAAAAAAAAA'}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      return r.topics[0]!.partitions.map((p) => ({partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes, isr: [...p.isrNodes].sort()})).sort((a, b) => a.partition - b.partition)
    })
  const listReassignments = () => admin(async (raw) => (await raw.request(ApiKey.ListPartitionReassignments, 0, {timeoutMs: 5000, topics: null})).topics)
  const reassign = (partitions: Array<{partitionIndex: number; replicas: number[] | null}>) =>
    admin(async (raw) => (await raw.request(ApiKey.AlterPartitionReassignments, 0, {timeoutMs: 5000, topics: [{name: 'move', partitions}]})).responses[0]!.partitions)
  const setConfigs = (resourceType: number, resourceName: string, configs: Array<{name: string; value: string | null}>) =>
    admin(async (raw) => {
      const r = await raw.request(ApiKey.IncrementalAlterConfigs, 1, {resources: [{resourceType, resourceName, configs: configs.map((c) => ({name: c.name, configOperation: c.value === null ? 1 : 0, value: c.value}))}], validateOnly: false})
      return r.responses[0]!.errorCode
    }, resourceType === 4 ? Number(resourceName) : 1) // a broker's own configs go to that broker, as Kafka requires


  beforeAll(async () => {
    etcd = await startEtcd()
    for (const nodeId of [1, 2, 3, 4]) {
      const dir = tempDir()
      dirs.set(nodeId, dir)
      brokers.set(nodeId, await spawnBroker(dir, {'node.id': String(nodeId), 'metadata.store': `etcd://${etcd.endpoint}/kcli-move`, 'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '500', 'replica.fetch.backoff.ms': '200', 'offsets.topic.num.partitions': '1'}))
    }
    await admin((raw) =>
      raw.request(ApiKey.CreateTopics, 7, {
        topics: [{name: 'move', numPartitions: -1, replicationFactor: -1, assignments: [{partitionIndex: 0, brokerIds: [1, 2, 3]}, {partitionIndex: 1, brokerIds: [2, 3, 1]}], configs: []}],
        timeoutMs: 10_000,
        validateOnly: false,
      }),
    )
    await pollUntil(metadata, (ps) => ps.length === 2 && ps.every((p) => p.isr.length === 3), 30_000)
    // About 2 MB per partition.
    const value = 'x'.repeat(1000)
    const lines = Array.from({length: 4000}, (_, i) => `k${i}:${i}-${value}`).join('\n') + '\n'
    await kcat(['-b', bootstrap(), '-P', '-t', 'move', '-K', ':', '-X', 'acks=all', '-X', 'linger.ms=20'], {input: lines, timeoutMs: 120_000})
  }, 180_000)

  afterAll(async () => {
    await Promise.all([...brokers.values()].map((b) => b.kill('SIGKILL')))
    await etcd?.stop()
    for (const d of dirs.values()) removeDir(d)
  })

  it('refuses bad targets with Kafka\'s errors and moves nothing', async () => {
    const answers = await reassign([
      {partitionIndex: 0, replicas: []},
      {partitionIndex: 1, replicas: [4, 4]},
    ])
    expect(answers.map((a) => a.errorCode)).toEqual([ErrorCode.INVALID_REPLICA_ASSIGNMENT, ErrorCode.INVALID_REPLICA_ASSIGNMENT])
    const unknownBroker = await reassign([{partitionIndex: 0, replicas: [1, 9]}])
    expect(unknownBroker[0]!.errorMessage).toBe('The manual partition assignment includes broker 9, but no such broker is registered.')
    const unknownPartition = await reassign([{partitionIndex: 7, replicas: [1, 2]}])
    expect(unknownPartition[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    const nothingToCancel = await reassign([{partitionIndex: 0, replicas: null}])
    expect(nothingToCancel[0]!.errorCode).toBe(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS)
    expect(await listReassignments()).toEqual([])
    expect((await metadata()).map((p) => p.replicas)).toEqual([[1, 2, 3], [2, 3, 1]])
  }, 60_000)

  it('moves the partitions onto broker 4 with RF 3 -> 2 under a throttle; completion removes the old copies and loses nothing', async () => {
    expect(await setConfigs(4, '4', [{name: 'follower.replication.throttled.rate', value: '1000000'}])).toBe(ErrorCode.NONE)
    expect(await setConfigs(2, 'move', [{name: 'follower.replication.throttled.replicas', value: '*'}])).toBe(ErrorCode.NONE)
    const started = await reassign([
      {partitionIndex: 0, replicas: [4, 1]},
      {partitionIndex: 1, replicas: [4, 2]},
    ])
    expect(started.map((a) => a.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE])
    const inProgress = await listReassignments()
    expect(inProgress).toEqual([
      {
        name: 'move',
        partitions: [
          {partitionIndex: 0, replicas: [4, 1, 2, 3], addingReplicas: [4], removingReplicas: [2, 3]},
          {partitionIndex: 1, replicas: [4, 2, 3, 1], addingReplicas: [4], removingReplicas: [3, 1]},
        ],
      },
    ])
    const done = await pollUntil(metadata, (ps) => ps.every((p) => p.replicas.length === 2), 90_000)
    expect(done.map((p) => p.replicas)).toEqual([[4, 1], [4, 2]])
    expect(done.map((p) => p.isr)).toEqual([[1, 4], [2, 4]])
    expect(await listReassignments()).toEqual([])
    // The brokers that left delete their copies.
    await waitUntil(() => !existsSync(join(dirs.get(2)!, 'move-0')) && !existsSync(join(dirs.get(3)!, 'move-0')) && !existsSync(join(dirs.get(3)!, 'move-1')) && !existsSync(join(dirs.get(1)!, 'move-1')), 15_000)
    const out = await kcat(['-b', bootstrap(), '-C', '-t', 'move', '-o', 'beginning', '-e', '-f', '%k\n'], {timeoutMs: 60_000})
    expect(new Set(out.stdout.toString().trim().split('\n')).size).toBe(4000)
  }, 150_000)

  it('a cancelled reassignment restores the replicas and removes the partial copy', async () => {
    // A crawl (2 KB/s) so that the copy is still going when it is cancelled.
    expect(await setConfigs(4, '3', [{name: 'follower.replication.throttled.rate', value: '2000'}])).toBe(ErrorCode.NONE)
    expect((await reassign([{partitionIndex: 0, replicas: [4, 3]}]))[0]!.errorCode).toBe(ErrorCode.NONE)
    await waitUntil(() => existsSync(join(dirs.get(3)!, 'move-0')), 15_000)
    // While broker 3 catches up, its replica is being added, not missing: not under-replicated (as kafka-topics.sh counts).
    const described = json<TopicsDescribeResult>(await kcli(TopicsDescribe, bootstrap(), ['move', '--json']))
    const moving = described.topics[0]!.partitions[0]!
    expect(moving).toMatchObject({addingReplicas: [3], removingReplicas: [1]})
    expect([...moving.isr].sort()).toEqual([1, 4])
    expect(json<TopicsDescribeResult>(await kcli(TopicsDescribe, bootstrap(), ['--under-replicated-partitions', '--json'])).topics).toEqual([])
    const cluster = json<ClusterDescribeResult>(await kcli(ClusterDescribe, bootstrap(), ['--json']))
    expect(cluster.health).toMatchObject({reassigning: 1, underReplicated: 0, offline: 0})
    expect((await reassign([{partitionIndex: 0, replicas: null}]))[0]!.errorCode).toBe(ErrorCode.NONE)
    const restored = await pollUntil(metadata, (ps) => ps[0]!.replicas.length === 2, 30_000)
    expect(restored[0]!.replicas).toEqual([4, 1])
    expect(await listReassignments()).toEqual([])
    await waitUntil(() => !existsSync(join(dirs.get(3)!, 'move-0')), 15_000)
  }, 90_000)

  it('kcli reassign execute --throttle --wait, verify (removes the throttles) and preferred-election work against the cluster', async () => {
    const dir = tempDir()
    try {
      const plan = join(dir, 'plan.json')
      writeFileSync(plan, JSON.stringify({version: 1, partitions: [{topic: 'move', partition: 1, replicas: [3, 4, 2], log_dirs: ['any', 'any', 'any']}]}))
      const executed = await kcli<ReassignExecuteResult>(ReassignExecute, bootstrap(), ['-f', plan, '--throttle', '1MB/s', '--wait', '--json'])
      expect(executed.exitCode, executed.stderr).toBe(0)
      const verified = json<ReassignVerifyResult>(await kcli(ReassignVerify, bootstrap(), ['-f', plan, '--json']))
      expect(verified.complete).toBe(true)
      expect((await metadata())[1]!.replicas).toEqual([3, 4, 2])
      // The preferred replicas are not the leaders now; an election hands them the leadership, a second one has nothing to do.
      const elected = await kcli<PreferredElectionResult>(PreferredElection, bootstrap(), ['--all', '--json'])
      expect(elected.exitCode, elected.stderr).toBe(0)
      // Both partitions' first replicas (4 for partition 0 since the move above, 3 for partition 1) lead again.
      expect(json<PreferredElectionResult>(elected).partitions.filter((p) => p.topic === 'move').map((p) => [p.partition, p.errorCode])).toEqual([[0, ErrorCode.NONE], [1, ErrorCode.NONE]])
      expect((await metadata()).map((p) => p.leader)).toEqual([4, 3])
      const again = json<PreferredElectionResult>(await kcli(PreferredElection, bootstrap(), ['--all', '--json']))
      expect(again.partitions.filter((p) => p.topic === 'move')).toEqual([])
    } finally {
      removeDir(dir)
    }
  }, 120_000)

  it('a leader-side throttle holds a moving replica back (one fetch, then nothing while spent); lifting it completes the move', async () => {
    // Partition 0 is [4, 1], led by 4 since the election above; broker 2 follows without a follower throttle.
    expect((await metadata())[0]).toMatchObject({replicas: [4, 1], leader: 4})
    expect(await setConfigs(4, '4', [{name: 'leader.replication.throttled.rate', value: '1'}])).toBe(ErrorCode.NONE)
    expect(await setConfigs(2, 'move', [{name: 'leader.replication.throttled.replicas', value: '0:4'}])).toBe(ErrorCode.NONE)
    expect((await reassign([{partitionIndex: 0, replicas: [4, 1, 2]}]))[0]!.errorCode).toBe(ErrorCode.NONE)
    const copy = join(dirs.get(2)!, 'move-0')
    const full = logBytes(join(dirs.get(4)!, 'move-0'))
    await waitUntil(() => existsSync(copy) && logBytes(copy) > 0, 15_000)
    // A second of tokens lets one fetch through (at most replica.fetch.max.bytes, 1 MiB, plus a batch); then the debt at 1 B/s withholds the rest.
    const deadline = Date.now() + 3000
    while (Date.now() < deadline) {
      expect(logBytes(copy)).toBeLessThan(full * 0.8)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect((await listReassignments())[0]!.partitions).toEqual([{partitionIndex: 0, replicas: [4, 1, 2], addingReplicas: [2], removingReplicas: []}])
    expect(await setConfigs(4, '4', [{name: 'leader.replication.throttled.rate', value: null}])).toBe(ErrorCode.NONE)
    const done = await pollUntil(metadata, (ps) => ps[0]!.isr.length === 3, 60_000)
    expect(done[0]!.replicas).toEqual([4, 1, 2])
    expect(await listReassignments()).toEqual([])
    expect(logBytes(copy)).toBe(full)
  }, 120_000)
})

/** The bytes of a partition directory's segment files. */
function logBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)
}
