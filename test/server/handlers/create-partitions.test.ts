import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../../src/lib/protocol/uuid.js'
import {useBroker} from './helpers.js'

const ctx = useBroker()

async function partitions(name: string) {
  const meta = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name, topicId: ZERO_UUID}], allowAutoTopicCreation: false})
  return meta.topics[0]!.partitions.map((p) => ({partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes}))
}

type Topic = {name: string; count: number; assignments: Array<{brokerIds: number[]}> | null}

async function grow(topics: Topic[], opts: {validateOnly?: boolean; timeoutMs?: number; version?: number} = {}) {
  const res = await ctx.client.send(ApiKey.CreatePartitions, opts.version ?? 3, {topics, timeoutMs: opts.timeoutMs ?? 5000, validateOnly: opts.validateOnly ?? false})
  return res.results
}

describe('CreatePartitions', () => {
  it('grows a topic at every version; the new partitions get logs and a leader', async () => {
    for (let version = 0; version <= 3; version++) {
      const name = `cp-grow-${version}`
      await ctx.createTopic(name)
      const results = await grow([{name, count: 3, assignments: null}], {version})
      expect(results).toEqual([{name, errorCode: ErrorCode.NONE, errorMessage: null}])
      expect(await partitions(name)).toEqual([0, 1, 2].map((p) => ({partition: p, leader: 1, replicas: [1]})))
      expect(existsSync(join(ctx.broker.dataDir, `${name}-2`))).toBe(true)
    }
  })

  it('places new partitions on the brokers of an explicit assignment', async () => {
    await ctx.createTopic('cp-assigned')
    expect(await grow([{name: 'cp-assigned', count: 2, assignments: [{brokerIds: [1]}]}])).toEqual([{name: 'cp-assigned', errorCode: ErrorCode.NONE, errorMessage: null}])
    expect(await partitions('cp-assigned')).toHaveLength(2)
  })

  it('refuses counts that are not an increase, with the KRaft controller messages', async () => {
    await ctx.createTopic('cp-three', {numPartitions: 3})
    expect(await grow([{name: 'cp-three', count: 3, assignments: null}])).toEqual([{name: 'cp-three', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Topic already has 3 partition(s).'}])
    expect(await grow([{name: 'cp-three', count: 2, assignments: null}])).toEqual([
      {name: 'cp-three', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'The topic cp-three currently has 3 partition(s); 2 would not be an increase.'},
    ])
    expect(await partitions('cp-three')).toHaveLength(3)
  })

  it('answers UNKNOWN_TOPIC_OR_PARTITION without a message for a topic that does not exist', async () => {
    expect(await grow([{name: 'cp-missing', count: 2, assignments: null}])).toEqual([{name: 'cp-missing', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null}])
  })

  it('refuses bad assignments with INVALID_REPLICA_ASSIGNMENT', async () => {
    await ctx.createTopic('cp-bad-assignment')
    const cases: Array<[Array<{brokerIds: number[]}>, number, string]> = [
      [[{brokerIds: [1]}], 3, 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.'],
      [[{brokerIds: [1]}, {brokerIds: [1]}], 2, 'Attempted to add 1 additional partition(s), but only 2 assignment(s) were specified.'],
      [[{brokerIds: [7]}], 2, 'The manual partition assignment includes broker 7, but no such broker is registered.'],
      [[{brokerIds: []}], 2, 'The manual partition assignment includes an empty replica list.'],
      [[{brokerIds: [1, 1]}], 2, 'The manual partition assignment includes the broker 1 more than once.'],
    ]
    for (const [assignments, count, message] of cases) {
      expect(await grow([{name: 'cp-bad-assignment', count, assignments}])).toEqual([{name: 'cp-bad-assignment', errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: message}])
    }
    expect(await partitions('cp-bad-assignment')).toHaveLength(1)
  })

  it('validateOnly checks and changes nothing', async () => {
    await ctx.createTopic('cp-validate')
    expect(await grow([{name: 'cp-validate', count: 4, assignments: null}], {validateOnly: true})).toEqual([{name: 'cp-validate', errorCode: ErrorCode.NONE, errorMessage: null}])
    expect(await grow([{name: 'cp-validate', count: 1, assignments: null}], {validateOnly: true})).toEqual([{name: 'cp-validate', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Topic already has 1 partition(s).'}])
    expect(await partitions('cp-validate')).toHaveLength(1)
    expect(existsSync(join(ctx.broker.dataDir, 'cp-validate-1'))).toBe(false)
  })

  it('answers a topic named twice once, with INVALID_REQUEST, and grows the others', async () => {
    await ctx.createTopic('cp-twice')
    await ctx.createTopic('cp-once')
    const results = await grow([
      {name: 'cp-twice', count: 2, assignments: null},
      {name: 'cp-once', count: 2, assignments: null},
      {name: 'cp-twice', count: 3, assignments: null},
    ])
    expect(results).toEqual([
      {name: 'cp-twice', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.'},
      {name: 'cp-once', errorCode: ErrorCode.NONE, errorMessage: null},
    ])
    expect(await partitions('cp-twice')).toHaveLength(1)
    expect(await partitions('cp-once')).toHaveLength(2)
  })

  it('a timeout of 0 is a deadline already passed: REQUEST_TIMED_OUT and nothing added', async () => {
    await ctx.createTopic('cp-timeout')
    expect(await grow([{name: 'cp-timeout', count: 2, assignments: null}], {timeoutMs: 0})).toEqual([{name: 'cp-timeout', errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: null}])
    expect(await partitions('cp-timeout')).toHaveLength(1)
  })

  it('refuses an excessively large increase quickly instead of allocating it', async () => {
    await ctx.createTopic('cp-huge')
    const started = Date.now()
    expect(await grow([{name: 'cp-huge', count: 2147483647, assignments: null}])).toEqual([
      {name: 'cp-huge', errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: 'Unable to perform excessively large batch operation.'},
    ])
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await partitions('cp-huge')).toHaveLength(1)
  })

  it('keeps the grown topic across a restart', async () => {
    await ctx.createTopic('cp-restart')
    await grow([{name: 'cp-restart', count: 4, assignments: null}])
    await ctx.restart()
    expect(await partitions('cp-restart')).toHaveLength(4)
  })
})
