/**
 * Issue 13, the first data path of a cluster: three `kcli server start` processes on one etcd.
 * A replication-factor-1 topic is spread over them; each broker opens only the partitions assigned
 * to it and answers NOT_LEADER_OR_FOLLOWER for the others, so kcat (librdkafka) and kafkajs produce
 * to and consume from the leaders, and a kafkajs group finds its coordinator on the broker that
 * leads the group's __consumer_offsets partition. A topic created through one broker is hosted by
 * the others without a restart (the store's watch), and DeleteTopics removes its partition
 * directories on every broker.
 */
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {etcdMissing, startEtcd, type TestEtcd} from './etcd.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir, waitUntil} from './harness.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'
import {kcat, kcatMissing, RawClient} from './peers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

describe.skipIf(etcdMissing !== null || kcatMissing !== null)('a three-broker cluster, replication factor 1', () => {
  let etcd: TestEtcd
  const brokers: BrokerProcess[] = []
  const dirs: string[] = []
  let bootstrap = ''
  const kafka = () => new Kafka({brokers: bootstrap.split(','), clientId: 'cluster-partitions', logLevel: logLevel.NOTHING, retry: {retries: 10, initialRetryTime: 100, maxRetryTime: 1000}})
  const partitionDirs = (topic: string) => dirs.map((d) => readdirSync(d).filter((name) => name.startsWith(`${topic}-`)).sort())

  beforeAll(async () => {
    etcd = await startEtcd()
    for (const nodeId of [1, 2, 3]) {
      const dir = tempDir()
      dirs.push(dir)
      brokers.push(await spawnBroker(dir, {'node.id': String(nodeId), 'metadata.store': `etcd://${etcd.endpoint}/kcli-rf1`, 'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '500', 'offsets.topic.num.partitions': '6', 'group.initial.rebalance.delay.ms': '0'}))
    }
    bootstrap = brokers.map((b) => b.bootstrap).join(',')
  }, 120_000)

  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.kill('SIGTERM')))
    await etcd?.stop()
    for (const d of dirs) removeDir(d)
  })

  it('spreads the partitions, hosts each on its leader only, and answers NOT_LEADER_OR_FOLLOWER elsewhere', async () => {
    const admin = kafka().admin()
    await admin.connect()
    try {
      await admin.createTopics({topics: [{topic: 'spread', numPartitions: 6, replicationFactor: 1}], waitForLeaders: true})
      const [meta] = (await admin.fetchTopicMetadata({topics: ['spread']})).topics
      const leaders = meta!.partitions.sort((a, b) => a.partitionId - b.partitionId).map((p) => p.leader)
      expect(new Set(leaders)).toEqual(new Set([1, 2, 3]))
      // Each broker has exactly the directories of the partitions it leads (created through broker
      // 1's CreateTopics; brokers 2 and 3 learn of them from etcd).
      await waitUntil(() => partitionDirs('spread').every((names, i) => names.length === leaders.filter((l) => l === i + 1).length), 15_000)
      partitionDirs('spread').forEach((names, i) => expect(names).toEqual(leaders.flatMap((l, p) => (l === i + 1 ? [`spread-${p}`] : [])).sort()))
      // Produce v9 to a broker that does not lead partition 0.
      const other = brokers[leaders[0] === 1 ? 1 : 0]!
      const raw = await RawClient.connect(other.port)
      try {
        const records = await buildRecordBatch({records: [{key: null, value: Buffer.from('x'), timestamp: Date.now()}]})
        const response = await raw.request(ApiKey.Produce, 9, {transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{name: 'spread', partitionData: [{index: 0, records}]}]})
        expect(response.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
      } finally {
        raw.close()
      }
    } finally {
      await admin.disconnect()
    }
  }, 60_000)

  it('kcat produces to every leader and reads every record back', async () => {
    const lines = Array.from({length: 600}, (_, i) => `k${i}:v${i}`).join('\n') + '\n'
    await kcat(['-b', bootstrap, '-P', '-t', 'spread', '-K', ':'], {input: lines, timeoutMs: 60_000})
    const out = await kcat(['-b', bootstrap, '-C', '-t', 'spread', '-o', 'beginning', '-e', '-f', '%k:%s\n'], {timeoutMs: 60_000})
    const got = out.stdout.toString().trim().split('\n').sort()
    expect(got).toEqual(Array.from({length: 600}, (_, i) => `k${i}:v${i}`).sort())
  }, 120_000)

  it('a kafkajs group consumes every record through its coordinator, wherever that is', async () => {
    const consumer = kafka().consumer({groupId: 'spread-readers', sessionTimeout: 10_000, maxWaitTimeInMs: 100})
    await consumer.connect()
    const seen = new Set<string>()
    try {
      await consumer.subscribe({topic: 'spread', fromBeginning: true})
      await consumer.run({eachMessage: async ({message}) => void seen.add(message.key!.toString())})
      await waitUntil(() => seen.size === 600, 60_000)
    } finally {
      await consumer.disconnect()
    }
    const admin = kafka().admin()
    await admin.connect()
    try {
      const offsets = await admin.fetchOffsets({groupId: 'spread-readers', topics: ['spread']})
      expect(offsets[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0)).toBe(600)
    } finally {
      await admin.disconnect()
    }
  }, 120_000)

  it('deletes the topic\'s partition directories on every broker', async () => {
    const admin = kafka().admin()
    await admin.connect()
    try {
      await admin.deleteTopics({topics: ['spread']})
    } finally {
      await admin.disconnect()
    }
    await waitUntil(() => partitionDirs('spread').every((names) => names.length === 0), 15_000)
    for (const d of dirs) expect(existsSync(join(d, 'spread-0'))).toBe(false)
  }, 60_000)
})
