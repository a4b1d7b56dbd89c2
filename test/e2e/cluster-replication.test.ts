/**
 * Issue 13, replication: three `kcli server start` processes on one etcd, a topic with replication
 * factor 3 and min.insync.replicas=2. kcat (librdkafka) produces with acks=all; every replica
 * gets the leader's batches byte for byte (followers fetch with Kafka's protocol), the ISR is all
 * three, and when the leader is SIGKILLed the controller elects another ISR member: every
 * acknowledged record is still there, acks=all writes go on with two replicas, and the killed
 * broker comes back as a follower and rejoins the ISR. With two brokers gone, acks=all is refused
 * with NOT_ENOUGH_REPLICAS (min.insync.replicas=2) while acks=1 is still served.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {etcdMissing, startEtcd, type TestEtcd} from './etcd.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir, waitUntil} from './harness.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../src/lib/protocol/uuid.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'
import {confluentPythonMissing, kcat, kcatMissing, python, RawClient} from './peers.js'
import TopicsDescribe, {type TopicsDescribeResult} from '../../src/commands/topics/describe.js'
import {json, kcli} from '../commands/helpers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

interface PartitionView {
  partitionId: number
  leader: number
  /** The first replica (the placer's choice, random as in Kafka). */
  preferred: number
  /** Sorted. */
  replicas: number[]
  isr: number[]
}

describe.skipIf(etcdMissing !== null || kcatMissing !== null || confluentPythonMissing !== null)('a three-broker cluster, replication factor 3', () => {
  let etcd: TestEtcd
  const brokers = new Map<number, BrokerProcess>()
  const dirs = new Map<number, string>()
  const ports = new Map<number, number>()
  const overrides = (nodeId: number) => ({
    'node.id': String(nodeId),
    'metadata.store': `etcd://${etcd.endpoint}/kcli-rf3`,
    'broker.session.timeout.ms': '3000',
    'broker.heartbeat.interval.ms': '500',
    'replica.lag.time.max.ms': '4000',
    'replica.fetch.backoff.ms': '200',
    'offsets.topic.num.partitions': '3',
    'group.initial.rebalance.delay.ms': '0',
  })
  const bootstrap = () => [...brokers.values()].map((b) => b.bootstrap).join(',')
  const kafka = () => new Kafka({brokers: bootstrap().split(','), clientId: 'cluster-replication', logLevel: logLevel.NOTHING, retry: {retries: 10, initialRetryTime: 100, maxRetryTime: 1000}})

  async function start(nodeId: number): Promise<void> {
    const dir = dirs.get(nodeId) ?? tempDir()
    dirs.set(nodeId, dir)
    const b = await spawnBroker(dir, overrides(nodeId), ports.get(nodeId) ?? 0)
    ports.set(nodeId, b.port)
    brokers.set(nodeId, b)
  }

  async function describeTopic(topic: string): Promise<PartitionView[]> {
    const admin = kafka().admin()
    await admin.connect()
    try {
      const [meta] = (await admin.fetchTopicMetadata({topics: [topic]})).topics
      return meta!.partitions.map((p) => ({partitionId: p.partitionId, leader: p.leader, preferred: p.replicas[0]!, replicas: [...p.replicas].sort(), isr: [...p.isr].sort()})).sort((a, b) => a.partitionId - b.partitionId)
    } finally {
      await admin.disconnect()
    }
  }

  /** Polls the topic's metadata until `condition` holds (deadline `timeoutMs`). */
  async function waitForTopic(topic: string, condition: (partitions: PartitionView[]) => boolean, timeoutMs = 30_000): Promise<PartitionView[]> {
    const deadline = Date.now() + timeoutMs
    let last: PartitionView[] = []
    while (Date.now() < deadline) {
      try {
        last = await describeTopic(topic)
        if (condition(last)) return last
      } catch {
        // a broker just went away: ask again
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`topic ${topic} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(last)}`)
  }

  /** The bytes of a partition's .log segments on one broker, back to back. */
  function logBytes(nodeId: number, topic: string, partition: number): Buffer {
    const dir = join(dirs.get(nodeId)!, `${topic}-${partition}`)
    const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort()
    return Buffer.concat(files.map((f) => readFileSync(join(dir, f))))
  }

  beforeAll(async () => {
    etcd = await startEtcd()
    for (const nodeId of [1, 2, 3]) await start(nodeId)
  }, 120_000)

  afterAll(async () => {
    await Promise.all([...brokers.values()].map((b) => b.kill('SIGKILL')))
    await etcd?.stop()
    for (const d of dirs.values()) removeDir(d)
  })

  const lines = (from: number, to: number) => Array.from({length: to - from}, (_, i) => `k${from + i}:v${from + i}`)

  it('replicates acks=all writes to every replica, byte for byte, with all three in the ISR', async () => {
    const admin = kafka().admin()
    await admin.connect()
    try {
      await admin.createTopics({topics: [{topic: 'rep', numPartitions: 3, replicationFactor: 3, configEntries: [{name: 'min.insync.replicas', value: '2'}]}], waitForLeaders: true})
    } finally {
      await admin.disconnect()
    }
    const created = await waitForTopic('rep', (ps) => ps.length === 3 && ps.every((p) => p.isr.length === 3))
    expect(created.every((p) => p.replicas.join() === '1,2,3')).toBe(true)
    expect(new Set(created.map((p) => p.leader))).toEqual(new Set([1, 2, 3]))
    await kcat(['-b', bootstrap(), '-P', '-t', 'rep', '-K', ':', '-X', 'acks=all'], {input: lines(0, 600).join('\n') + '\n', timeoutMs: 60_000})
    const out = await kcat(['-b', bootstrap(), '-C', '-t', 'rep', '-o', 'beginning', '-e', '-f', '%k:%s\n'], {timeoutMs: 60_000})
    expect(out.stdout.toString().trim().split('\n').sort()).toEqual(lines(0, 600).sort())
    // Followers have the leader's bytes (they fetch continuously; wait for the last fetch).
    for (const p of [0, 1, 2]) {
      await waitUntil(() => {
        const [a, b, c] = [1, 2, 3].map((n) => logBytes(n, 'rep', p))
        return a!.length > 0 && a!.equals(b!) && a!.equals(c!)
      }, 15_000)
    }
  }, 120_000)

  it('refuses a replication factor above the registered brokers with INVALID_REPLICATION_FACTOR', async () => {
    const raw = await RawClient.connect([...brokers.values()][0]!.port)
    try {
      const response = await raw.request(ApiKey.CreateTopics, 7, {topics: [{name: 'too-many', numPartitions: 1, replicationFactor: 4, assignments: [], configs: []}], timeoutMs: 5000, validateOnly: false})
      expect(response.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR)
      expect(response.topics[0]!.errorMessage).toContain('only 3 broker(s) are registered')
    } finally {
      raw.close()
    }
  }, 30_000)

  it('confluent-kafka-python creates an RF=3 topic, sees three replicas and the ISR, and produces (idempotent, acks=all) and consumes', async () => {
    const result = await python<{partitions: Array<{id: number; leader: number; replicas: number[]; isrs: number[]}>; acked: number; read: string[]}>('cluster_rf3.py', [bootstrap(), 'rep-py', '300'], 120_000)
    expect(result.partitions.map((p) => p.replicas)).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]])
    expect(result.partitions.every((p) => p.isrs.length === 3 && p.leader > 0)).toBe(true)
    expect(result.acked).toBe(300)
    expect(result.read).toEqual(Array.from({length: 300}, (_, i) => `py-${i}`).sort())
  }, 150_000)

  it('kafkajs produces with acks=all and reads back; `kcli topics describe --json` shows the replicas, ISR and leaders', async () => {
    const producer = kafka().producer({idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    try {
      await producer.send({topic: 'rep', acks: -1, messages: Array.from({length: 90}, (_, i) => ({key: `js${i}`, value: `js-${i}`}))})
    } finally {
      await producer.disconnect()
    }
    const consumer = kafka().consumer({groupId: 'rep-js', maxWaitTimeInMs: 100})
    const values = new Set<string>()
    await consumer.connect()
    try {
      await consumer.subscribe({topic: 'rep', fromBeginning: true})
      await consumer.run({eachMessage: async ({message}) => void values.add(message.value?.toString() ?? '')})
      await waitUntil(() => [...values].filter((v) => v.startsWith('js-')).length === 90, 60_000)
    } finally {
      await consumer.disconnect()
    }
    const described = await kcli<TopicsDescribeResult>(TopicsDescribe, bootstrap(), ['rep', '--json'])
    expect(described.exitCode).toBe(0)
    const partitions = json<TopicsDescribeResult>(described).topics[0]!.partitions
    expect(partitions.map((p) => [...p.replicas].sort())).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]])
    expect(partitions.every((p) => p.isr.length === 3 && p.leader > 0 && p.offlineReplicas.length === 0)).toBe(true)
  }, 120_000)

  it('fails over to an ISR member when the leader is SIGKILLed, losing no acknowledged record, and the old leader rejoins', async () => {
    const before = await describeTopic('rep')
    const victim = before[0]!.leader
    await brokers.get(victim)!.kill('SIGKILL')
    brokers.delete(victim)
    const after = await waitForTopic('rep', (ps) => ps.every((p) => p.leader !== victim && p.leader >= 0 && !p.isr.includes(victim)))
    expect(after[0]!.isr.length).toBe(2)
    // acks=all goes on with two in-sync replicas (min.insync.replicas=2).
    await kcat(['-b', bootstrap(), '-P', '-t', 'rep', '-K', ':', '-X', 'acks=all'], {input: lines(600, 900).join('\n') + '\n', timeoutMs: 60_000})
    const out = await kcat(['-b', bootstrap(), '-C', '-t', 'rep', '-o', 'beginning', '-e', '-f', '%k:%s\n'], {timeoutMs: 60_000})
    expect(out.stdout.toString().trim().split('\n').filter((l) => l.startsWith('k')).sort()).toEqual(lines(0, 900).sort())
    // The old leader comes back as a follower, truncates to the new leaders' logs and rejoins the ISR.
    await start(victim)
    await waitForTopic('rep', (ps) => ps.every((p) => p.isr.length === 3), 30_000)
    for (const p of [0, 1, 2]) {
      await waitUntil(() => {
        const [a, b, c] = [1, 2, 3].map((n) => logBytes(n, 'rep', p))
        return a!.equals(b!) && a!.equals(c!)
      }, 15_000)
    }
  }, 180_000)

  /** Partition 0's leader and leader epoch, from a Metadata v12 request to `port`. */
  async function leaderOf(port: number, topic: string, partition: number): Promise<{leader: number; leaderEpoch: number; topicId: string}> {
    const raw = await RawClient.connect(port)
    try {
      const response = await raw.request(ApiKey.Metadata, 12, {topics: [{name: topic, topicId: ZERO_UUID}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      const t = response.topics[0]!
      const p = t.partitions.find((x) => x.partitionIndex === partition)!
      return {leader: p.leaderId, leaderEpoch: p.leaderEpoch, topicId: t.topicId}
    } finally {
      raw.close()
    }
  }

  it('answers a replica fetch from a broker that is not a replica, and one at a stale leader epoch, with Kafka\'s errors', async () => {
    const any = [...brokers.values()][0]!
    const {leader, leaderEpoch, topicId} = await leaderOf(any.port, 'rep', 0)
    const follower = [1, 2, 3].find((n) => n !== leader)!
    const raw = await RawClient.connect(brokers.get(leader)!.port)
    try {
      const fetch = async (replicaId: number, currentLeaderEpoch: number) => {
        const response = await raw.request(ApiKey.Fetch, 15, {
          replicaState: {replicaId, replicaEpoch: -1n},
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{topicId, partitions: [{partition: 0, currentLeaderEpoch, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20}]}],
          forgottenTopicsData: [],
          rackId: '',
        })
        return response.responses[0]!.partitions[0]!.errorCode
      }
      expect(await fetch(99, leaderEpoch)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
      expect(await fetch(follower, leaderEpoch - 1)).toBe(ErrorCode.FENCED_LEADER_EPOCH)
      expect(await fetch(follower, leaderEpoch + 1)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH)
    } finally {
      raw.close()
    }
  }, 60_000)

  it('a produce to a follower names the current leader and its endpoint (KIP-951, Produce v10)', async () => {
    const any = [...brokers.values()][0]!
    const {leader, leaderEpoch} = await leaderOf(any.port, 'rep', 0)
    const follower = [1, 2, 3].find((n) => n !== leader)!
    const raw = await RawClient.connect(brokers.get(follower)!.port)
    try {
      const records = await buildRecordBatch({records: [{key: null, value: Buffer.from('x'), timestamp: Date.now()}]})
      const response = await raw.request(ApiKey.Produce, 10, {transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{name: 'rep', partitionData: [{index: 0, records}]}]})
      const p = response.responses[0]!.partitionResponses[0]!
      expect(p.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
      expect(p.currentLeader).toMatchObject({leaderId: leader, leaderEpoch})
      expect(response.nodeEndpoints).toEqual([expect.objectContaining({nodeId: leader, host: '127.0.0.1', port: brokers.get(leader)!.port})])
    } finally {
      raw.close()
    }
  }, 60_000)

  it('a leader paused past its session (SIGSTOP) is replaced, and when it wakes it does not acknowledge an acks=all write', async () => {
    const any = [...brokers.values()][0]!
    const {leader: zombie} = await leaderOf(any.port, 'rep', 0)
    const raw = await RawClient.connect(brokers.get(zombie)!.port)
    try {
      brokers.get(zombie)!.child.kill('SIGSTOP')
      const others = [...brokers.entries()].filter(([n]) => n !== zombie)
      // Another broker is elected (the zombie's session lease expired in etcd).
      const deadline = Date.now() + 30_000
      for (;;) {
        const now = await leaderOf(others[0]![1].port, 'rep', 0).catch(() => undefined)
        if (now && now.leader !== zombie && now.leader >= 0) break
        if (Date.now() > deadline) throw new Error('no new leader elected')
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      const records = await buildRecordBatch({records: [{key: null, value: Buffer.from('zombie'), timestamp: Date.now()}]})
      const answer = raw.request(ApiKey.Produce, 9, {transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{name: 'rep', partitionData: [{index: 0, records}]}]}, 20_000)
      brokers.get(zombie)!.child.kill('SIGCONT')
      const response = await answer
      expect(response.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
    } finally {
      raw.close()
      brokers.get(zombie)!.child.kill('SIGCONT')
    }
    // It rejoins as a follower.
    await waitForTopic('rep', (ps) => ps.every((p) => p.isr.length === 3), 30_000)
    const out = await kcat(['-b', bootstrap(), '-C', '-t', 'rep', '-o', 'beginning', '-e', '-f', '%s\n'], {timeoutMs: 60_000})
    expect(out.stdout.toString()).not.toContain('zombie')
  }, 120_000)

  it('SIGTERM is a controlled shutdown: leadership moves to other in-sync replicas before the broker exits, and it rejoins', async () => {
    const before = await describeTopic('rep')
    const victim = before[0]!.leader
    const exitCode = await brokers.get(victim)!.kill('SIGTERM')
    brokers.delete(victim)
    expect(exitCode).toBe(0)
    // Right after the exit (no session timeout to wait for) nothing is led by it and it is in no ISR.
    const after = await describeTopic('rep')
    expect(after.every((p) => p.leader !== victim && p.leader > 0 && !p.isr.includes(victim))).toBe(true)
    await start(victim)
    await waitForTopic('rep', (ps) => ps.every((p) => p.isr.length === 3), 30_000)
  }, 120_000)

  it('ElectLeaders PREFERRED moves leadership back to the first replicas, then answers as Kafka 4.0 does when nothing needs moving', async () => {
    // After the failovers above, some leaders are not their partition's first replica.
    const elect = async (topicPartitions: Array<{topic: string; partitions: number[]}> | null) => {
      const raw = await RawClient.connect([...brokers.values()][0]!.port)
      try {
        return await raw.request(ApiKey.ElectLeaders, 2, {electionType: 0, topicPartitions, timeoutMs: 15_000})
      } finally {
        raw.close()
      }
    }
    await elect(null)
    const after = await waitForTopic('rep', (ps) => ps.every((p) => p.leader === p.preferred), 15_000)
    // The placer spreads the preferred leaders, so after the election each broker leads one partition.
    expect(after.map((p) => p.leader).sort()).toEqual([1, 2, 3])
    const again = await elect(null)
    expect(again.errorCode).toBe(ErrorCode.NONE)
    expect(again.replicaElectionResults.find((r) => r.topic === 'rep')).toEqual({topic: 'rep', partitionResult: []})
    const named = await elect([{topic: 'rep', partitions: [1]}, {topic: 'nope', partitions: [0]}])
    expect(named.replicaElectionResults).toEqual([
      {topic: 'rep', partitionResult: [{partitionId: 1, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.'}]},
      {topic: 'nope', partitionResult: [{partitionId: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The topic partition does not exist.'}]},
    ])
  }, 60_000)

  it('survives etcd stopping for longer than the session timeout: brokers fence themselves, rejoin, and no acknowledged record is lost', async () => {
    etcd.pause()
    // Within the session timeout (3 s) every broker notices it lost its session and stops leading:
    // writes to its partitions are refused from then on.
    const raws = await Promise.all([...brokers.values()].map((b) => RawClient.connect(b.port)))
    try {
      const records = await buildRecordBatch({records: [{key: null, value: Buffer.from('fenced'), timestamp: Date.now()}]})
      const deadline = Date.now() + 15_000
      for (;;) {
        const answers = await Promise.all(raws.map((raw) => raw.request(ApiKey.Produce, 9, {transactionalId: null, acks: 1, timeoutMs: 2000, topicData: [{name: 'rep', partitionData: [0, 1, 2].map((index) => ({index, records}))}]})))
        const codes = answers.flatMap((r) => r.responses[0]!.partitionResponses.map((p) => p.errorCode))
        if (codes.every((c) => c === ErrorCode.NOT_LEADER_OR_FOLLOWER)) break
        expect(Date.now()).toBeLessThan(deadline)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    } finally {
      for (const raw of raws) raw.close()
      etcd.resume()
    }
    await waitForTopic('rep', (ps) => ps.every((p) => p.leader > 0 && p.isr.length === 3), 60_000)
    await kcat(['-b', bootstrap(), '-P', '-t', 'rep', '-K', ':', '-X', 'acks=all'], {input: lines(900, 1000).join('\n') + '\n', timeoutMs: 60_000})
    const out = await kcat(['-b', bootstrap(), '-C', '-t', 'rep', '-o', 'beginning', '-e', '-f', '%k:%s\n'], {timeoutMs: 60_000})
    expect(out.stdout.toString().trim().split('\n').filter((l) => l.startsWith('k')).sort()).toEqual(lines(0, 1000).sort())
  }, 150_000)

  it('refuses acks=all with NOT_ENOUGH_REPLICAS below min.insync.replicas and still serves acks=1', async () => {
    const [p0] = await describeTopic('rep')
    const leader = p0!.leader
    const others = [1, 2, 3].filter((n) => n !== leader)
    for (const n of others) {
      await brokers.get(n)!.kill('SIGKILL')
      brokers.delete(n)
    }
    await waitForTopic('rep', (ps) => ps[0]!.leader === leader && ps[0]!.isr.length === 1, 30_000)
    const raw = await RawClient.connect(brokers.get(leader)!.port)
    try {
      const produce = async (acks: number) => {
        const records = await buildRecordBatch({records: [{key: null, value: Buffer.from(`acks${acks}`), timestamp: Date.now()}]})
        const response = await raw.request(ApiKey.Produce, 9, {transactionalId: null, acks, timeoutMs: 5000, topicData: [{name: 'rep', partitionData: [{index: 0, records}]}]})
        return response.responses[0]!.partitionResponses[0]!.errorCode
      }
      expect(await produce(-1)).toBe(ErrorCode.NOT_ENOUGH_REPLICAS)
      expect(await produce(1)).toBe(ErrorCode.NONE)
    } finally {
      raw.close()
    }
    for (const n of others) await start(n)
    await waitForTopic('rep', (ps) => ps.every((p) => p.isr.length === 3), 30_000)
  }, 180_000)
})
