import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {RawClient} from '../../e2e/peers.js'
import {ProtocolClient, useBroker} from './helpers.js'

type Entity = Array<{entityType: string; entityName: string | null}>
type Op = {key: string; value: number; remove: boolean}

describe('DescribeClientQuotas and AlterClientQuotas', () => {
  const fixture = useBroker()
  const alter = (entries: Array<{entity: Entity; ops: Op[]}>, validateOnly = false, version = 1) => fixture.client.send(ApiKey.AlterClientQuotas, version, {entries, validateOnly})
  const describeQuotas = (components: Array<{entityType: string; matchType: number; match: string | null}>, strict = false, version = 1) =>
    fixture.client.send(ApiKey.DescribeClientQuotas, version, {components, strict})
  const setOp = (key: string, value: number): Op => ({key, value, remove: false})
  /** Entries as `type=name/...` -> values, sorted (null names shown as <default>). */
  const shown = (entries: Array<{entity: Entity; values: Array<{key: string; value: number}>}> | null) =>
    Object.fromEntries(
      (entries ?? []).map((e) => [e.entity.map((x) => `${x.entityType}=${x.entityName ?? '<default>'}`).join('/'), Object.fromEntries(e.values.map((v) => [v.key, v.value]))]),
    )

  it('stores quotas per entity and describes them with exact, default and any-name filters (v0 and v1)', async () => {
    const res = await alter([
      {entity: [{entityType: 'user', entityName: 'alice'}], ops: [setOp('producer_byte_rate', 1048576), setOp('request_percentage', 50.5)]},
      {entity: [{entityType: 'user', entityName: 'alice'}, {entityType: 'client-id', entityName: 'app'}], ops: [setOp('consumer_byte_rate', 2048)]},
      {entity: [{entityType: 'user', entityName: null}], ops: [setOp('producer_byte_rate', 4096)]},
      {entity: [{entityType: 'client-id', entityName: null}], ops: [setOp('controller_mutation_rate', 10)]},
      {entity: [{entityType: 'ip', entityName: '10.0.0.1'}], ops: [setOp('connection_creation_rate', 5)]},
    ])
    expect(res.entries.map((e) => [e.errorCode, e.errorMessage])).toEqual(Array(5).fill([ErrorCode.NONE, null]))
    expect(shown((await describeQuotas([{entityType: 'user', matchType: 0, match: 'alice'}])).entries)).toEqual({
      'user=alice': {producer_byte_rate: 1048576, request_percentage: 50.5},
      'user=alice/client-id=app': {consumer_byte_rate: 2048},
    })
    expect(Object.keys(shown((await describeQuotas([{entityType: 'user', matchType: 0, match: 'alice'}], true)).entries))).toEqual(['user=alice'])
    expect(Object.keys(shown((await describeQuotas([{entityType: 'user', matchType: 1, match: null}])).entries))).toEqual(['user=<default>'])
    expect(Object.keys(shown((await describeQuotas([{entityType: 'user', matchType: 2, match: null}], false, 0)).entries)).sort()).toEqual(['user=<default>', 'user=alice', 'user=alice/client-id=app'])
    expect(Object.keys(shown((await describeQuotas([{entityType: 'client-id', matchType: 2, match: null}], true)).entries))).toEqual(['client-id=<default>'])
    expect(Object.keys(shown((await describeQuotas([])).entries))).toHaveLength(5)
    expect(Object.keys(shown((await describeQuotas([], true)).entries))).toHaveLength(0)
  })

  it('removes keys, drops an entity left without any, and validateOnly stores nothing', async () => {
    await alter([{entity: [{entityType: 'user', entityName: 'bob'}], ops: [setOp('producer_byte_rate', 100)]}])
    const checked = await alter([{entity: [{entityType: 'user', entityName: 'bob'}], ops: [setOp('producer_byte_rate', 200)]}], true, 0)
    expect(checked.entries[0]!.errorCode).toBe(ErrorCode.NONE)
    expect(shown((await describeQuotas([{entityType: 'user', matchType: 0, match: 'bob'}])).entries)).toEqual({'user=bob': {producer_byte_rate: 100}})
    await alter([{entity: [{entityType: 'user', entityName: 'bob'}], ops: [{key: 'producer_byte_rate', value: 0, remove: true}, {key: 'consumer_byte_rate', value: 0, remove: true}]}])
    expect(shown((await describeQuotas([{entityType: 'user', matchType: 0, match: 'bob'}])).entries)).toEqual({})
  })

  it.each([
    ['a negative value', [{entityType: 'user', entityName: 'carol'}], [setOp('producer_byte_rate', -1)], 'Quota producer_byte_rate must be greater than 0'],
    ['zero', [{entityType: 'user', entityName: 'carol'}], [setOp('request_percentage', 0)], 'Quota request_percentage must be greater than 0'],
    ['not a number', [{entityType: 'user', entityName: 'carol'}], [setOp('producer_byte_rate', NaN)], 'Quota producer_byte_rate must be greater than 0'],
    ['a fraction of an integral key', [{entityType: 'user', entityName: 'carol'}], [setOp('producer_byte_rate', 1.5)], 'producer_byte_rate cannot be a fractional value.'],
    ['an unknown key', [{entityType: 'user', entityName: 'carol'}], [setOp('bogus_rate', 1)], 'Invalid configuration key bogus_rate'],
    ['an ip key on a user', [{entityType: 'user', entityName: 'carol'}], [setOp('connection_creation_rate', 1)], 'Invalid configuration key connection_creation_rate'],
    ['an unknown entity type', [{entityType: 'group', entityName: 'g'}], [setOp('producer_byte_rate', 1)], 'Unhandled client quota entity type: group'],
    ['an empty entity', [], [setOp('producer_byte_rate', 1)], 'Invalid empty client quota entity'],
    ['an empty name', [{entityType: 'user', entityName: ''}], [setOp('producer_byte_rate', 1)], 'Empty user not supported'],
    ['ip with user', [{entityType: 'user', entityName: 'carol'}, {entityType: 'ip', entityName: '10.0.0.1'}], [setOp('producer_byte_rate', 1)], 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId'],
    ['a key twice', [{entityType: 'user', entityName: 'carol'}], [setOp('producer_byte_rate', 1), setOp('producer_byte_rate', 2)], 'Duplicate quota key producer_byte_rate not updating quota for this entity'],
  ])('refuses %s with INVALID_REQUEST and stores nothing of the entry', async (_what, entity, ops, message) => {
    const res = await alter([
      {entity, ops},
      {entity: [{entityType: 'client-id', entityName: 'fine'}], ops: [setOp('producer_byte_rate', 7)]},
    ])
    expect(res.entries.map((e) => [e.errorCode, e.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, message],
      [ErrorCode.NONE, null],
    ])
    expect(shown((await describeQuotas([{entityType: 'user', matchType: 0, match: 'carol'}])).entries)).toEqual({})
  })

  it.each([
    [[{entityType: 'group', matchType: 0, match: 'x'}], ErrorCode.UNSUPPORTED_VERSION, 'Unsupported entity type group'],
    [[{entityType: '', matchType: 0, match: 'x'}], ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.'],
    [[{entityType: 'user', matchType: 0, match: null}], ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_EXACT, but set match string to null.'],
    [[{entityType: 'user', matchType: 1, match: 'x'}], ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.'],
    [[{entityType: 'user', matchType: 2, match: 'x'}], ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.'],
    [[{entityType: 'user', matchType: 7, match: null}], ErrorCode.INVALID_REQUEST, 'Unknown match type 7'],
    [[{entityType: 'user', matchType: 2, match: null}, {entityType: 'user', matchType: 1, match: null}], ErrorCode.INVALID_REQUEST, 'Entity type user cannot appear more than once in the filter.'],
    [[{entityType: 'ip', matchType: 2, match: null}, {entityType: 'user', matchType: 1, match: null}], ErrorCode.INVALID_REQUEST, 'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.'],
  ])('answers a bad describe filter %j with a request-level error', async (components, code, message) => {
    const res = await describeQuotas(components)
    expect(res).toMatchObject({errorCode: code, errorMessage: message, entries: null})
  })

  it('throttles a producer over its client-id quota: throttle_time_ms in the response, the connection muted for it', async () => {
    await fixture.createTopic('quota-t')
    // The test client's id is kcli-test; its user ANONYMOUS would take the <default> user quota
    // set above first (a user level wins over a client-id one): that one goes.
    await alter([
      {entity: [{entityType: 'user', entityName: null}], ops: [{key: 'producer_byte_rate', value: 0, remove: true}]},
      {entity: [{entityType: 'client-id', entityName: 'kcli-test'}], ops: [setOp('producer_byte_rate', 10_000)]},
    ])
    const client = await ProtocolClient.connect(fixture.broker.port)
    try {
      const records = await buildRecordBatch({records: [{value: Buffer.alloc(150_000, 1)}]})
      const first = await client.send(ApiKey.Produce, 9, {acks: 1, timeoutMs: 5000, topicData: [{name: 'quota-t', partitionData: [{index: 0, records}]}]})
      expect(first.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE)
      // 150 KB over a 10 s window at 10 KB/s: (15,000 - 10,000) / 10,000 * 10 s, about 5 s.
      expect(first.throttleTimeMs).toBeGreaterThan(4000)
      expect(first.throttleTimeMs).toBeLessThan(6000)
      const started = Date.now()
      const next = await client.send(ApiKey.Metadata, 12, {topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      expect(next.brokers).toHaveLength(1)
      // Muted: the next request was read only once the throttle time had passed.
      expect(Date.now() - started).toBeGreaterThan(first.throttleTimeMs - 500)
      // Another client id is not limited.
      const other = await fixture.client.send(ApiKey.ApiVersions, 3, {clientSoftwareName: 'x', clientSoftwareVersion: '1'})
      expect(other.errorCode).toBe(ErrorCode.NONE)
    } finally {
      client.close()
      await alter([{entity: [{entityType: 'client-id', entityName: 'kcli-test'}], ops: [{key: 'producer_byte_rate', value: 0, remove: true}]}])
    }
  }, 20_000)

  it('controller_mutation_rate: strict CreateTopics v6+ refuses topics once the bucket is spent, with THROTTLING_QUOTA_EXCEEDED and throttle_time_ms', async () => {
    // 1 partition/s: a bucket of 11 partitions.
    await alter([{entity: [{entityType: 'client-id', entityName: 'kcli-test'}], ops: [setOp('controller_mutation_rate', 1)]}])
    const client = await ProtocolClient.connect(fixture.broker.port)
    try {
      const topic = (name: string, numPartitions: number) => ({name, numPartitions, replicationFactor: 1, assignments: [], configs: []})
      const res = await client.send(ApiKey.CreateTopics, 7, {topics: [topic('mq-a', 8), topic('mq-b', 8), topic('mq-c', 1)], timeoutMs: 5000, validateOnly: false})
      // a: 11 - 8 = 3 left; b: allowed (the bucket is not below zero yet), 3 - 8 = -5; c: refused.
      expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([
        ['mq-a', ErrorCode.NONE],
        ['mq-b', ErrorCode.NONE],
        ['mq-c', ErrorCode.THROTTLING_QUOTA_EXCEEDED],
      ])
      expect(res.topics[2]!.errorMessage).toBe('The throttling quota has been exceeded.')
      expect(res.throttleTimeMs).toBeGreaterThan(3000)
      expect(res.throttleTimeMs).toBeLessThanOrEqual(5000)
    } finally {
      client.close()
      await alter([{entity: [{entityType: 'client-id', entityName: 'kcli-test'}], ops: [{key: 'controller_mutation_rate', value: 0, remove: true}]}])
    }
  }, 20_000)

  it('request_percentage: a client over its share of request handling time is throttled', async () => {
    // RawClient's client id is kcli-e2e-raw: a share no request can stay under.
    await alter([{entity: [{entityType: 'client-id', entityName: 'kcli-e2e-raw'}], ops: [setOp('request_percentage', 1e-9)]}])
    const raw = await RawClient.connect(fixture.broker.port)
    try {
      const res = await raw.request(ApiKey.Metadata, 12, {topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      expect(res.throttleTimeMs).toBeGreaterThan(0)
    } finally {
      raw.close()
      await alter([{entity: [{entityType: 'client-id', entityName: 'kcli-e2e-raw'}], ops: [{key: 'request_percentage', value: 0, remove: true}]}])
    }
  })

  it('keeps quotas across a restart', async () => {
    await alter([{entity: [{entityType: 'user', entityName: 'dave'}], ops: [setOp('consumer_byte_rate', 999)]}])
    await fixture.restart()
    expect(shown((await describeQuotas([{entityType: 'user', matchType: 0, match: 'dave'}])).entries)).toEqual({'user=dave': {consumer_byte_rate: 999}})
  })
})
