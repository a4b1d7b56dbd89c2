import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../../src/lib/protocol/uuid.js'
import {useBroker} from './helpers.js'

const ctx = useBroker()

const exists = (name: string) => existsSync(join(ctx.broker.dataDir, `${name}-0`))

describe('DeleteTopics', () => {
  it('deletes topics by name (v1), their metadata and their partition logs', async () => {
    await ctx.createTopic('dt-v1', {numPartitions: 2})
    expect(exists('dt-v1')).toBe(true)
    const res = await ctx.client.send(ApiKey.DeleteTopics, 1, {topicNames: ['dt-v1', 'dt-missing'], timeoutMs: 5000})
    expect(res.responses).toEqual(
      expect.arrayContaining([
        expect.objectContaining({name: 'dt-v1', errorCode: ErrorCode.NONE}),
        expect.objectContaining({name: 'dt-missing', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}),
      ]),
    )
    expect(res.responses).toHaveLength(2)
    const meta = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name: 'dt-v1', topicId: ZERO_UUID}], allowAutoTopicCreation: false})
    expect(meta.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    expect(exists('dt-v1')).toBe(false)
    expect(existsSync(join(ctx.broker.dataDir, 'dt-v1-1'))).toBe(false)
  })

  it('answers every version from 1 to 6, with messages from v5', async () => {
    for (let version = 1; version <= 6; version++) {
      const name = `dt-version-${version}`
      const topicId = await ctx.createTopic(name)
      const body = version >= 6 ? {topics: [{name, topicId: ZERO_UUID}], timeoutMs: 5000} : {topicNames: [name], timeoutMs: 5000}
      const res = await ctx.client.send(ApiKey.DeleteTopics, version, body)
      expect(res.responses).toHaveLength(1)
      expect(res.responses[0]).toMatchObject({name, errorCode: ErrorCode.NONE, errorMessage: null, topicId: version >= 6 ? topicId : ZERO_UUID})
      const missing = await ctx.client.send(ApiKey.DeleteTopics, version, version >= 6 ? {topics: [{name, topicId: ZERO_UUID}], timeoutMs: 5000} : {topicNames: [name], timeoutMs: 5000})
      expect(missing.responses[0]).toMatchObject({name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: version >= 5 ? 'This server does not host this topic-partition.' : null})
    }
  })

  it('deletes by topic id (v6) and names the topic in the answer', async () => {
    const topicId = await ctx.createTopic('dt-by-id')
    const res = await ctx.client.send(ApiKey.DeleteTopics, 6, {topics: [{name: null, topicId}], timeoutMs: 5000})
    expect(res.responses).toEqual([{name: 'dt-by-id', topicId, errorCode: ErrorCode.NONE, errorMessage: null}])
    const again = await ctx.client.send(ApiKey.DeleteTopics, 6, {topics: [{name: null, topicId}], timeoutMs: 5000})
    expect(again.responses).toEqual([{name: null, topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'This server does not host this topic ID.'}])
  })

  it('refuses malformed entries one by one and deletes the rest (KRaft controller messages)', async () => {
    const keepId = await ctx.createTopic('dt-keep')
    await ctx.createTopic('dt-dup')
    await ctx.createTopic('dt-ok')
    const res = await ctx.client.send(ApiKey.DeleteTopics, 6, {
      topics: [
        {name: null, topicId: ZERO_UUID},
        {name: 'dt-keep', topicId: keepId},
        {name: 'dt-dup', topicId: ZERO_UUID},
        {name: 'dt-dup', topicId: ZERO_UUID},
        {name: 'dt-ok', topicId: ZERO_UUID},
      ],
      timeoutMs: 5000,
    })
    expect(res.responses).toHaveLength(4)
    expect(res.responses).toEqual(
      expect.arrayContaining([
        {name: null, topicId: ZERO_UUID, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Neither topic name nor id were specified.'},
        {name: 'dt-keep', topicId: keepId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'You may not specify both topic name and topic id.'},
        {name: 'dt-dup', topicId: ZERO_UUID, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.'},
        expect.objectContaining({name: 'dt-ok', errorCode: ErrorCode.NONE}),
      ]),
    )
    const meta = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name: 'dt-keep', topicId: ZERO_UUID}, {name: 'dt-dup', topicId: ZERO_UUID}, {name: 'dt-ok', topicId: ZERO_UUID}], allowAutoTopicCreation: false})
    expect(meta.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['dt-keep', ErrorCode.NONE],
      ['dt-dup', ErrorCode.NONE],
      ['dt-ok', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ])
  })

  it('refuses a name whose id was also given, and a repeated id', async () => {
    const id = await ctx.createTopic('dt-both-ways')
    const res = await ctx.client.send(ApiKey.DeleteTopics, 6, {topics: [{name: null, topicId: id}, {name: 'dt-both-ways', topicId: ZERO_UUID}], timeoutMs: 5000})
    expect(res.responses).toEqual([{name: 'dt-both-ways', topicId: id, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'The provided topic name maps to an ID that was already supplied.'}])
    const twice = await ctx.client.send(ApiKey.DeleteTopics, 6, {topics: [{name: null, topicId: id}, {name: null, topicId: id}], timeoutMs: 5000})
    expect(twice.responses).toEqual([{name: null, topicId: id, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic id.'}])
    const meta = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name: 'dt-both-ways', topicId: ZERO_UUID}], allowAutoTopicCreation: false})
    expect(meta.topics[0]!.errorCode).toBe(ErrorCode.NONE)
  })

  it('a timeout of 0 is a deadline already passed: REQUEST_TIMED_OUT and nothing deleted', async () => {
    await ctx.createTopic('dt-timeout')
    const res = await ctx.client.send(ApiKey.DeleteTopics, 6, {topics: [{name: 'dt-timeout', topicId: ZERO_UUID}], timeoutMs: 0})
    expect(res.responses).toEqual([{name: 'dt-timeout', topicId: ZERO_UUID, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: null}])
    expect(exists('dt-timeout')).toBe(true)
  })

  it('deletes internal topics, as Kafka 4.0 does', async () => {
    const created = await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name: '__transaction_state', numPartitions: 1, replicationFactor: 1}], timeoutMs: 5000})
    expect([ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS]).toContain(created.topics[0]!.errorCode)
    const res = await ctx.client.send(ApiKey.DeleteTopics, 6, {topics: [{name: '__transaction_state', topicId: ZERO_UUID}], timeoutMs: 5000})
    expect(res.responses[0]).toMatchObject({name: '__transaction_state', errorCode: ErrorCode.NONE})
  })

  it('a deleted topic can be created again, with a new id', async () => {
    const first = await ctx.createTopic('dt-again')
    await ctx.client.send(ApiKey.DeleteTopics, 6, {topics: [{name: 'dt-again', topicId: ZERO_UUID}], timeoutMs: 5000})
    const second = await ctx.createTopic('dt-again')
    expect(second).not.toBe(first)
    expect(exists('dt-again')).toBe(true)
  })

  it('an empty request gets an empty answer', async () => {
    const res = await ctx.client.send(ApiKey.DeleteTopics, 6, {topics: [], timeoutMs: 0})
    expect(res.responses).toEqual([])
  })
})

describe('DeleteTopics with delete.topic.enable=false', () => {
  const disabled = useBroker({'delete.topic.enable': 'false'})

  it('answers INVALID_REQUEST before v3 and TOPIC_DELETION_DISABLED from v3, for every topic', async () => {
    await disabled.client.send(ApiKey.CreateTopics, 7, {topics: [{name: 'kept', numPartitions: 1, replicationFactor: 1}], timeoutMs: 5000})
    const v2 = await disabled.client.send(ApiKey.DeleteTopics, 2, {topicNames: ['kept', 'missing'], timeoutMs: 5000})
    expect(v2.responses.map((r) => [r.name, r.errorCode])).toEqual([
      ['kept', ErrorCode.INVALID_REQUEST],
      ['missing', ErrorCode.INVALID_REQUEST],
    ])
    const v6 = await disabled.client.send(ApiKey.DeleteTopics, 6, {topics: [{name: 'kept', topicId: ZERO_UUID}], timeoutMs: 5000})
    expect(v6.responses).toEqual([{name: 'kept', topicId: ZERO_UUID, errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: null}])
    const meta = await disabled.client.send(ApiKey.Metadata, 12, {topics: [{name: 'kept', topicId: ZERO_UUID}], allowAutoTopicCreation: false})
    expect(meta.topics[0]!.errorCode).toBe(ErrorCode.NONE)
  })
})
