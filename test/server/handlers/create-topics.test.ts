import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../../src/lib/protocol/uuid.js'
import {useBroker} from './helpers.js'

const ctx = useBroker({'num.partitions': '2'})

type Topic = {name: string; numPartitions?: number; replicationFactor?: number; assignments?: Array<{partitionIndex: number; brokerIds: number[]}>; configs?: Array<{name: string; value: string | null}>}

async function create(topics: Topic[], opts: {validateOnly?: boolean; timeoutMs?: number} = {}) {
  const res = await ctx.client.send(ApiKey.CreateTopics, 7, {
    topics: topics.map((t) => ({numPartitions: -1, replicationFactor: -1, assignments: [], configs: [], ...t})),
    timeoutMs: opts.timeoutMs ?? 5000,
    validateOnly: opts.validateOnly ?? false,
  })
  return res.topics.map((t) => [t.name, t.errorCode, t.errorMessage])
}

async function exists(name: string): Promise<boolean> {
  const meta = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name, topicId: ZERO_UUID}], allowAutoTopicCreation: false})
  return meta.topics[0]!.errorCode === ErrorCode.NONE
}

describe('CreateTopics (checks and messages of the KRaft controller)', () => {
  it('creates with the broker defaults for -1 and reports shape, configs and id (v5+)', async () => {
    const res = await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name: 'ct-defaults', numPartitions: -1, replicationFactor: -1, configs: [{name: 'retention.ms', value: '3600000'}]}], timeoutMs: 5000})
    const t = res.topics[0]!
    expect(t).toMatchObject({errorCode: ErrorCode.NONE, numPartitions: 2, replicationFactor: 1})
    expect(t.topicId).not.toBe(ZERO_UUID)
    expect(t.configs!.find((c) => c.name === 'retention.ms')).toMatchObject({value: '3600000', configSource: 1, readOnly: false, isSensitive: false})
  })

  it('answers a topic named twice once, after the others, with "Duplicate topic name."', async () => {
    expect(await create([{name: 'ct-twice'}, {name: 'ct-single'}, {name: 'ct-twice'}])).toEqual([
      ['ct-single', ErrorCode.NONE, null],
      ['ct-twice', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
    ])
    expect(await exists('ct-twice')).toBe(false)
  })

  it('refuses bad partition counts, replication factors and assignments', async () => {
    const one = [{partitionIndex: 0, brokerIds: [1]}]
    const cases: Array<[Topic, number, string]> = [
      [{name: 'ct-zero', numPartitions: 0}, ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.'],
      [{name: 'ct-rf-zero', numPartitions: 0, replicationFactor: 0}, ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.'],
      [{name: 'ct-rf-3', replicationFactor: 3}, ErrorCode.INVALID_REPLICATION_FACTOR, 'Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered.'],
      [{name: 'ct-both-rf', numPartitions: 1, replicationFactor: 1, assignments: one}, ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but replication factor was not set to -1.'],
      [{name: 'ct-both-n', numPartitions: 1, assignments: one}, ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but numPartitions was not set to -1.'],
      [{name: 'ct-gap', assignments: [{partitionIndex: 1, brokerIds: [1]}]}, ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions should be a consecutive 0-based integer sequence'],
      [{name: 'ct-again', assignments: [...one, ...one]}, ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Found multiple manual partition assignments for partition 0'],
      [{name: 'ct-broker-9', assignments: [{partitionIndex: 0, brokerIds: [9]}]}, ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes broker 9, but no such broker is registered.'],
      [{name: 'ct-huge', numPartitions: 2147483647}, ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
    ]
    for (const [topic, code, message] of cases) expect(await create([topic])).toEqual([[topic.name, code, message]])
  })

  it('refuses bad configs with INVALID_CONFIG before looking at the partitions, as Kafka', async () => {
    expect(await create([{name: 'ct-config', numPartitions: 0, configs: [{name: 'no.such.option', value: '1'}]}])).toEqual([['ct-config', ErrorCode.INVALID_CONFIG, 'Unknown topic config name: no.such.option']])
    expect(await create([{name: 'ct-config', configs: [{name: 'retention.ms', value: 'soon'}]}])).toEqual([['ct-config', ErrorCode.INVALID_CONFIG, 'Invalid value soon for configuration retention.ms: Not a number of type LONG']])
    expect(await create([{name: 'ct-config', configs: [{name: 'retention.ms', value: null}, {name: 'segment.ms', value: null}]}])).toEqual([
      ['ct-config', ErrorCode.INVALID_CONFIG, 'Null value not supported for topic configs: retention.ms,segment.ms'],
    ])
    expect(await exists('ct-config')).toBe(false)
  })

  it('answers REQUEST_TIMED_OUT for a timeout of 0 and creates nothing', async () => {
    expect(await create([{name: 'ct-timeout'}], {timeoutMs: 0})).toEqual([['ct-timeout', ErrorCode.REQUEST_TIMED_OUT, null]])
    expect(await exists('ct-timeout')).toBe(false)
  })

  it('refuses __cluster_metadata as Kafka 4.0 does (KAFKA-16975: INVALID_REQUEST)', async () => {
    expect(await create([{name: '__cluster_metadata'}])).toEqual([['__cluster_metadata', ErrorCode.INVALID_REQUEST, 'Creation of internal topic __cluster_metadata is prohibited.']])
  })

  it('validateOnly reports the topic it would create and creates nothing', async () => {
    const res = await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name: 'ct-validate', numPartitions: 3, replicationFactor: 1}], timeoutMs: 5000, validateOnly: true})
    expect(res.topics[0]).toMatchObject({name: 'ct-validate', errorCode: ErrorCode.NONE, numPartitions: 3, replicationFactor: 1})
    expect(await exists('ct-validate')).toBe(false)
  })
})
