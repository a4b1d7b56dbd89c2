import {beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../../src/lib/protocol/uuid.js'
import {useBroker} from './helpers.js'

const ctx = useBroker()
const ids: Record<string, string> = {}

// Three topics, 3 + 1 + 5 partitions; this broker holds no others.
const TOPICS: Array<[string, number]> = [
  ['dtp-a', 3],
  ['dtp-b', 1],
  ['dtp-c', 5],
]

beforeAll(async () => {
  for (const [name, numPartitions] of TOPICS) {
    const res = await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name, numPartitions, replicationFactor: 1}], timeoutMs: 5000})
    ids[name] = res.topics[0]!.topicId
  }
})

type Cursor = {topicName: string; partitionIndex: number} | null

async function describeTopics(topics: string[], responsePartitionLimit: number, cursor: Cursor = null) {
  return ctx.client.send(ApiKey.DescribeTopicPartitions, 0, {topics: topics.map((name) => ({name})), responsePartitionLimit, cursor})
}

const shape = (res: Awaited<ReturnType<typeof describeTopics>>) => ({
  topics: res.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
  next: res.nextCursor && [res.nextCursor.topicName, res.nextCursor.partitionIndex],
})

describe('DescribeTopicPartitions', () => {
  it('describes every topic in name order with partitions, ids and all topic operations', async () => {
    const res = await describeTopics([], 2000)
    expect(shape(res)).toEqual({
      topics: [
        ['dtp-a', 0, [0, 1, 2]],
        ['dtp-b', 0, [0]],
        ['dtp-c', 0, [0, 1, 2, 3, 4]],
      ],
      next: null,
    })
    expect(res.topics[0]).toMatchObject({topicId: ids['dtp-a'], isInternal: false, topicAuthorizedOperations: 3576})
    expect(res.topics[0]!.partitions[1]).toEqual({
      errorCode: 0,
      partitionIndex: 1,
      leaderId: 1,
      leaderEpoch: 0,
      replicaNodes: [1],
      isrNodes: [1],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: [],
    })
  })

  it('pages with the response partition limit and the cursor, each partition exactly once', async () => {
    expect(shape(await describeTopics([], 4))).toEqual({topics: [['dtp-a', 0, [0, 1, 2]], ['dtp-b', 0, [0]]], next: ['dtp-c', 0]})
    expect(shape(await describeTopics([], 2, {topicName: 'dtp-c', partitionIndex: 0}))).toEqual({topics: [['dtp-c', 0, [0, 1]]], next: ['dtp-c', 2]})
    const seen: string[] = []
    let cursor: Cursor = null
    for (let page = 0; page < 20; page++) {
      const res = await describeTopics([], 2, cursor)
      for (const t of res.topics) for (const p of t.partitions) seen.push(`${t.name}-${p.partitionIndex}`)
      cursor = res.nextCursor && {topicName: res.nextCursor.topicName, partitionIndex: res.nextCursor.partitionIndex}
      if (!cursor) break
    }
    expect(seen).toEqual(['dtp-a-0', 'dtp-a-1', 'dtp-a-2', 'dtp-b-0', 'dtp-c-0', 'dtp-c-1', 'dtp-c-2', 'dtp-c-3', 'dtp-c-4'])
  })

  it('takes a limit below 1 as 1', async () => {
    expect(shape(await describeTopics([], 0))).toEqual({topics: [['dtp-a', 0, [0]]], next: ['dtp-a', 1]})
  })

  it('describes named topics; unknown and illegal names get an error and take no room', async () => {
    const res = await describeTopics(['dtp-c', 'dtp-missing', 'bad name', 'dtp-b'], 3)
    expect(shape(res)).toEqual({
      topics: [
        ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION, []],
        ['dtp-b', 0, [0]],
        ['dtp-c', 0, [0, 1]],
      ],
      next: ['dtp-c', 2],
    })
    const rest = await describeTopics(['dtp-c', 'dtp-missing', 'bad name', 'dtp-b'], 3, {topicName: 'dtp-c', partitionIndex: 2})
    // The limit is used up by dtp-c: the cursor points at the next topic, existing or not (as Kafka).
    expect(shape(rest)).toEqual({topics: [['dtp-c', 0, [2, 3, 4]]], next: ['dtp-missing', 0]})
    const last = await describeTopics(['dtp-c', 'dtp-missing', 'bad name', 'dtp-b'], 3, {topicName: 'dtp-missing', partitionIndex: 0})
    expect(shape(last)).toEqual({topics: [['dtp-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []]], next: null})
    expect(last.topics[0]).toMatchObject({topicId: ZERO_UUID, isInternal: false})
  })

  it('refuses a cursor outside the named topics, or a negative cursor partition, for every topic', async () => {
    const outside = await describeTopics(['dtp-a', 'dtp-b'], 10, {topicName: 'dtp-c', partitionIndex: 0})
    expect(outside.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([
      ['dtp-a', ErrorCode.INVALID_REQUEST, 0],
      ['dtp-b', ErrorCode.INVALID_REQUEST, 0],
    ])
    expect(outside.nextCursor).toBeNull()
    const negative = await describeTopics(['dtp-a'], 10, {topicName: 'dtp-a', partitionIndex: -1})
    expect(negative.topics.map((t) => [t.name, t.errorCode])).toEqual([['dtp-a', ErrorCode.INVALID_REQUEST]])
  })
})
