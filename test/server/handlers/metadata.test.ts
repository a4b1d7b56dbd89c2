import {beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../../src/lib/protocol/uuid.js'
import {useBroker} from './helpers.js'

const ctx = useBroker()

beforeAll(async () => {
  await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name: 'md-topic', numPartitions: 2, replicationFactor: 1}], timeoutMs: 5000})
})

describe('Metadata', () => {
  it('describes a topic named twice once (Kafka takes the names as a set)', async () => {
    const res = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name: 'md-topic', topicId: ZERO_UUID}, {name: 'md-topic', topicId: ZERO_UUID}], allowAutoTopicCreation: false})
    expect(res.topics.map((t) => t.name)).toEqual(['md-topic'])
  })

  it('reports every topic and cluster operation when asked (no authorizer), and the default when not', async () => {
    const asked = await ctx.client.send(ApiKey.Metadata, 10, {topics: [{name: 'md-topic', topicId: ZERO_UUID}, {name: 'md-missing', topicId: ZERO_UUID}], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true})
    expect(asked.topics.map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations])).toEqual([
      ['md-topic', ErrorCode.NONE, 3576],
      ['md-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 3576],
    ])
    expect(asked.clusterAuthorizedOperations).toBe(8096)
    const notAsked = await ctx.client.send(ApiKey.Metadata, 12, {topics: null, allowAutoTopicCreation: false})
    expect(notAsked.topics.every((t) => t.topicAuthorizedOperations === -2147483648)).toBe(true)
  })

  it('marks internal topics as internal, existing or not', async () => {
    const res = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name: '__transaction_state', topicId: ZERO_UUID}], allowAutoTopicCreation: false})
    expect(res.topics[0]).toMatchObject({name: '__transaction_state', isInternal: true})
    expect([ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]).toContain(res.topics[0]!.errorCode)
  })
})

describe('Metadata auto-creation', () => {
  it('never auto-creates __cluster_metadata (KRaft\'s metadata log is not a topic)', async () => {
    const res = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name: '__cluster_metadata', topicId: ZERO_UUID}], allowAutoTopicCreation: true})
    expect(res.topics[0]).toMatchObject({name: '__cluster_metadata', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION})
  })
})
