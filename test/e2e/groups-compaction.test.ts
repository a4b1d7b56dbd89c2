/**
 * __consumer_offsets is compacted (cleanup.policy=compact): after more than a segment of commits
 * to the same few partitions, the broker's log cleaner keeps only the latest commit of each key
 * in the inactive segments, and a restarted broker loads the latest offsets from what is left.
 */
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {removeDir, type TestBroker, tempDir} from './harness.js'
import {startGroupBroker, waitUntil} from './groups-support.js'
import {RawClient} from './peers.js'

const SEGMENT_BYTES = 1024 * 1024

function segmentBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0)
}

describe('compaction of __consumer_offsets', () => {
  const dataDir = tempDir('kcli-groups-compaction-')
  let broker: TestBroker | undefined

  afterAll(async () => {
    await broker?.stop({keepData: true})
    removeDir(dataDir)
  })

  it('keeps the latest commit per partition and loads it after a restart', async () => {
    const overrides = {'offsets.topic.num.partitions': '1', 'offsets.topic.segment.bytes': String(SEGMENT_BYTES)}
    broker = await startGroupBroker(overrides, dataDir)
    const admin = new Kafka({brokers: [broker.bootstrap], logLevel: logLevel.NOTHING}).admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'c', numPartitions: 4}]})
    await admin.disconnect()
    const client = await RawClient.connect(broker.port)
    await client.request(ApiKey.FindCoordinator, 3, {key: 'gc', keyType: 0})
    const partitionDir = join(dataDir, '__consumer_offsets-0')
    // Commit until the first segment rolls, then a little more.
    let offset = 0
    while (readdirSync(partitionDir).filter((f) => f.endsWith('.log')).length < 2 || offset % 4000 !== 0) {
      offset++
      const r = await client.request(ApiKey.OffsetCommit, 8, {groupId: 'gc', generationIdOrMemberEpoch: -1, memberId: '', topics: [{name: 'c', partitions: [{partitionIndex: offset % 4, committedOffset: BigInt(offset), committedMetadata: 'x'.repeat(32)}]}]})
      expect(r.topics[0]!.partitions[0]!.errorCode).toBe(0)
      if (offset > 100_000) throw new Error('the segment never rolled')
    }
    client.close()
    const before = segmentBytes(partitionDir)
    expect(before).toBeGreaterThan(SEGMENT_BYTES)
    // The broker's cleaner runs on its own (once a second).
    const after = await waitUntil(() => {
      const size = segmentBytes(partitionDir)
      return size < before / 2 ? size : undefined
    }, 30_000, 'the log cleaner to compact __consumer_offsets-0')
    console.log(`__consumer_offsets-0: ${offset} commits, ${before} bytes before compaction, ${after} after`)
    await broker.stop({keepData: true})
    broker = await startGroupBroker(overrides, dataDir)
    const restarted = new Kafka({brokers: [broker.bootstrap], logLevel: logLevel.NOTHING}).admin()
    await restarted.connect()
    const fetched = await restarted.fetchOffsets({groupId: 'gc', topics: ['c']})
    await restarted.disconnect()
    expect(fetched[0]!.partitions.map((p) => [p.partition, Number(p.offset)]).sort((a, b) => a[0]! - b[0]!)).toEqual([0, 1, 2, 3].map((p) => [p, offset - ((offset - p) % 4 === 0 ? 0 : (offset - p) % 4)]))
  }, 120_000)
})
