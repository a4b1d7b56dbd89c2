/**
 * Issue 12, partition scale, with kafkajs 2.2.4 against `kcli server start` processes: what makes
 * creating, stopping and restarting thousands of partitions cheap, and that it loses nothing.
 *
 * - A partition nobody wrote to is its directory and partition.metadata, before and after a clean
 *   shutdown: no segment, index, leader-epoch-checkpoint or producer snapshot files (the old code
 *   wrote five files per partition and fsynced each, so 10,000 partitions took 27-44 s to stop).
 * - A restart and clean shutdown rewrite nothing of an unchanged partition (its snapshot and
 *   indexes keep their bytes and times); the records written before are all read back.
 * - SIGKILL right after CreateTopics answered: after a restart every partition is there and takes
 *   records, and a partition written then killed is recovered.
 * The figures are in BENCHMARKS.md (bench/partition-scale/run.ts).
 */
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, describe, expect, it} from 'vitest'
import {type BrokerProcess, removeDir, spawnBroker, tempDir} from './harness.js'
import {kafkajsReadAll} from './peers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const PARTITIONS = 1000
const WRITTEN = [0, 1, 2, 999]

function kafka(bootstrap: string): Kafka {
  return new Kafka({clientId: 'kcli-partition-scale', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 2}, connectionTimeout: 5000, requestTimeout: 60_000})
}

/** Every file of a directory with its size and modification time. */
function snapshotDir(dir: string): Record<string, {size: number; mtimeMs: number}> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => {
    const s = statSync(join(dir, name))
    return [name, {size: s.size, mtimeMs: s.mtimeMs}]
  }))
}

async function produce(bootstrap: string, topic: string, partitions: readonly number[], tag: string): Promise<void> {
  const producer = kafka(bootstrap).producer({allowAutoTopicCreation: false})
  await producer.connect()
  try {
    await producer.send({topic, acks: -1, messages: partitions.flatMap((partition) => [0, 1, 2].map((i) => ({partition, key: `k${i}`, value: `${tag}-${partition}-${i}`})))})
  } finally {
    await producer.disconnect()
  }
}

async function values(bootstrap: string, topic: string, partitions: readonly number[]): Promise<Record<number, string[]>> {
  const read = await kafkajsReadAll(bootstrap, topic, partitions)
  return Object.fromEntries([...read].map(([p, messages]) => [p, messages.map((m) => m.value!.toString())]))
}

async function partitionCount(bootstrap: string, topic: string): Promise<number> {
  const admin = kafka(bootstrap).admin()
  await admin.connect()
  try {
    const {topics} = await admin.fetchTopicMetadata({topics: [topic]})
    return topics[0]!.partitions.filter((p) => p.partitionErrorCode === 0 && p.leader === 1).length
  } finally {
    await admin.disconnect()
  }
}

describe('partition scale (issue 12)', () => {
  const dataDir = tempDir('kcli-e2e-partition-scale-')
  let proc: BrokerProcess | undefined

  afterAll(async () => {
    await proc?.kill('SIGKILL')
    removeDir(dataDir)
  })

  it(`${PARTITIONS} partitions: an unwritten one is its directory and partition.metadata; a restart and clean shutdown rewrite nothing unchanged`, async () => {
    proc = await spawnBroker(dataDir)
    const admin = kafka(proc.bootstrap).admin()
    await admin.connect()
    try {
      expect(await admin.createTopics({topics: [{topic: 'wide', numPartitions: PARTITIONS, replicationFactor: 1}], timeout: 60_000})).toBe(true)
    } finally {
      await admin.disconnect()
    }
    await produce(proc.bootstrap, 'wide', WRITTEN, 'before')
    expect(await proc.kill('SIGTERM')).toBe(0)

    expect(readdirSync(join(dataDir, 'wide-500'))).toEqual(['partition.metadata'])
    expect(readdirSync(join(dataDir, 'wide-0')).sort()).toEqual([
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000000.timeindex',
      '00000000000000000003.snapshot',
      'leader-epoch-checkpoint',
      'partition.metadata',
    ])
    const unwritten = snapshotDir(join(dataDir, 'wide-500'))
    const written = snapshotDir(join(dataDir, 'wide-0'))

    proc = await spawnBroker(dataDir)
    expect(await partitionCount(proc.bootstrap, 'wide')).toBe(PARTITIONS)
    const expected = Object.fromEntries(WRITTEN.map((p) => [p, [0, 1, 2].map((i) => `before-${p}-${i}`)]))
    expect(await values(proc.bootstrap, 'wide', WRITTEN)).toEqual(expected)
    expect(await proc.kill('SIGTERM')).toBe(0)
    expect(snapshotDir(join(dataDir, 'wide-500'))).toEqual(unwritten)
    expect(snapshotDir(join(dataDir, 'wide-0'))).toEqual(written)
  }, 180_000)

  it('SIGKILL right after CreateTopics: every partition is back and takes records; a written one is recovered', async () => {
    proc = await spawnBroker(dataDir)
    const admin = kafka(proc.bootstrap).admin()
    await admin.connect()
    try {
      expect(await admin.createTopics({topics: [{topic: 'fresh', numPartitions: 200, replicationFactor: 1}], timeout: 60_000})).toBe(true)
    } finally {
      await admin.disconnect()
    }
    await proc.kill('SIGKILL')

    proc = await spawnBroker(dataDir)
    expect(await partitionCount(proc.bootstrap, 'fresh')).toBe(200)
    expect(await partitionCount(proc.bootstrap, 'wide')).toBe(PARTITIONS)
    await produce(proc.bootstrap, 'fresh', [0, 199], 'after')
    await proc.kill('SIGKILL')

    proc = await spawnBroker(dataDir)
    expect(await values(proc.bootstrap, 'fresh', [0, 199])).toEqual({0: ['after-0-0', 'after-0-1', 'after-0-2'], 199: ['after-199-0', 'after-199-1', 'after-199-2']})
    expect(await values(proc.bootstrap, 'wide', [0])).toEqual({0: ['before-0-0', 'before-0-1', 'before-0-2']})
    expect(await proc.kill('SIGTERM')).toBe(0)
  }, 180_000)
})
