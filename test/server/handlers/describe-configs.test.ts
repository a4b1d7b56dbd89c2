import {beforeAll, describe, expect, it} from 'vitest'
import {ConfigResourceType} from '../../../src/lib/config/config-def.js'
import {TOPIC_CONFIGS} from '../../../src/lib/config/topic-configs.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {useBroker} from './helpers.js'

const {Topic, Broker} = ConfigResourceType

// Static broker configs as if from server.properties: log.retention.hours (a fallback synonym of
// retention.ms) and log.segment.bytes (the only synonym of segment.bytes).
const ctx = useBroker({'log.retention.hours': '24', 'log.segment.bytes': '2097152'})

beforeAll(async () => {
  await ctx.client.send(ApiKey.CreateTopics, 7, {topics: [{name: 'dc-topic', numPartitions: 1, replicationFactor: 1, configs: [{name: 'cleanup.policy', value: 'compact'}]}], timeoutMs: 5000})
})

async function describeOne(resourceType: number, resourceName: string, configurationKeys: string[] | null, version = 4) {
  const res = await ctx.client.send(ApiKey.DescribeConfigs, version, {resources: [{resourceType, resourceName, configurationKeys}], includeSynonyms: true, includeDocumentation: true})
  return res.results[0]!
}

describe('DescribeConfigs', () => {
  it('lists every topic config for a null or an empty key list', async () => {
    for (const keys of [null, []]) {
      const result = await describeOne(Topic, 'dc-topic', keys)
      expect(result.errorCode).toBe(ErrorCode.NONE)
      // Regression (tool-captures replay): Kafka answers "" here, not null.
      expect(result.errorMessage).toBe('')
      expect(result.configs.map((c) => c.name)).toEqual(TOPIC_CONFIGS.definitions.map((d) => d.name))
    }
  })

  it('gives values, sources and synonyms as Kafka does', async () => {
    const result = await describeOne(Topic, 'dc-topic', ['cleanup.policy', 'retention.ms', 'segment.bytes', 'flush.ms'])
    const byName = Object.fromEntries(result.configs.map((c) => [c.name, c]))
    expect(byName['cleanup.policy']).toMatchObject({
      value: 'compact',
      configSource: 1,
      synonyms: [
        {name: 'cleanup.policy', value: 'compact', source: 1},
        {name: 'log.cleanup.policy', value: 'delete', source: 5},
      ],
      configType: 7,
    })
    // Kafka lists broker synonyms of retention.ms only from log.retention.ms on; the value still
    // follows log.retention.hours.
    expect(byName['retention.ms']).toMatchObject({value: '86400000', configSource: 5, synonyms: []})
    expect(byName['segment.bytes']).toMatchObject({
      value: '2097152',
      configSource: 4,
      synonyms: [
        {name: 'log.segment.bytes', value: '2097152', source: 4},
        {name: 'log.segment.bytes', value: '1073741824', source: 5},
      ],
    })
    expect(byName['flush.ms']).toMatchObject({value: '9223372036854775807', configSource: 5, synonyms: []})
    expect(byName['segment.bytes']!.documentation).toBeTruthy()
  })

  it('answers an unknown topic without a message and an illegal name with INVALID_TOPIC_EXCEPTION', async () => {
    // Kafka's ConfigHelper sets no message here: the generated default, "" (not null).
    expect(await describeOne(Topic, 'dc-missing', null)).toMatchObject({errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: '', configs: []})
    expect(await describeOne(Topic, '', null)).toMatchObject({errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: "Topic name is illegal, it can't be empty"})
  })

  it('describes this broker with every config, read-only where Kafka cannot change it at runtime', async () => {
    const result = await describeOne(Broker, '1', null)
    const byName = Object.fromEntries(result.configs.map((c) => [c.name, c]))
    expect(byName['log.retention.hours']).toMatchObject({value: '24', configSource: 4, readOnly: false, synonyms: [{name: 'log.retention.hours', value: '24', source: 4}, {name: 'log.retention.hours', value: '168', source: 5}]})
    expect(byName['log.retention.ms']).toMatchObject({value: null, configSource: 5, synonyms: []})
    expect(byName['num.partitions']).toMatchObject({value: '1', configSource: 5, readOnly: true})
    expect(byName['listeners']).toMatchObject({readOnly: true, configSource: 4})
  })

  it('describes the cluster-wide default resource ("") as the dynamic defaults that are set: none here', async () => {
    expect(await describeOne(Broker, '', null)).toMatchObject({errorCode: ErrorCode.NONE, configs: []})
  })

  it('refuses other brokers, non-numeric broker names and unsupported resource types per resource', async () => {
    expect(await describeOne(Broker, '2', null)).toMatchObject({errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unexpected broker id, expected 1 or empty string, but received 2'})
    expect(await describeOne(Broker, 'b1', null)).toMatchObject({errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker id must be an integer, but it is: b1'})
    expect(await describeOne(ConfigResourceType.Group, 'g', null)).toMatchObject({errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unsupported resource type: GROUP'})
  })

  it('fails the whole request when a resource type is unknown, as Kafka', async () => {
    const res = await ctx.client.send(ApiKey.DescribeConfigs, 4, {
      resources: [
        {resourceType: Topic, resourceName: 'dc-topic', configurationKeys: null},
        {resourceType: 3, resourceName: 'x', configurationKeys: null},
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    })
    expect(res.results.map((r) => [r.resourceName, r.errorCode, r.configs.length])).toEqual([
      ['dc-topic', ErrorCode.INVALID_REQUEST, 0],
      ['x', ErrorCode.INVALID_REQUEST, 0],
    ])
  })

  it('answers v1 to v4', async () => {
    for (let version = 1; version <= 4; version++) {
      const result = await describeOne(Topic, 'dc-topic', ['cleanup.policy'], version)
      expect(result.configs[0]).toMatchObject({name: 'cleanup.policy', value: 'compact', configSource: 1})
    }
  })
})
