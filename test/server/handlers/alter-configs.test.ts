import {describe, expect, it} from 'vitest'
import {ConfigResourceType} from '../../../src/lib/config/config-def.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {useBroker} from './helpers.js'

const {Topic, Broker, BrokerLogger} = ConfigResourceType

const ctx = useBroker()

type Resource = {resourceType: number; resourceName: string; configs: Array<{name: string; value: string | null}>}

async function alter(resources: Resource[], opts: {validateOnly?: boolean; version?: number} = {}) {
  const res = await ctx.client.send(ApiKey.AlterConfigs, opts.version ?? 2, {resources, validateOnly: opts.validateOnly ?? false})
  return res.responses.map((r) => ({type: r.resourceType, name: r.resourceName, code: r.errorCode, message: r.errorMessage}))
}

/** Configs set on a resource: name -> [value, source]. */
async function described(resourceType: number, resourceName: string, keys: string[] | null = null) {
  const res = await ctx.client.send(ApiKey.DescribeConfigs, 4, {resources: [{resourceType, resourceName, configurationKeys: keys}], includeSynonyms: true, includeDocumentation: false})
  const result = res.results[0]!
  expect(result.errorCode).toBe(ErrorCode.NONE)
  return Object.fromEntries(result.configs.map((c) => [c.name, [c.value, c.configSource]]))
}

describe('AlterConfigs on topics', () => {
  it('replaces the topic configs: keys left out go back to their defaults (every version)', async () => {
    for (let version = 0; version <= 2; version++) {
      const name = `ac-replace-${version}`
      await ctx.createTopic(name, {configs: [{name: 'cleanup.policy', value: 'compact'}]})
      expect(await alter([{resourceType: Topic, resourceName: name, configs: [{name: 'retention.ms', value: '3600000'}, {name: 'segment.bytes', value: '2097152'}]}], {version})).toEqual([
        {type: Topic, name, code: ErrorCode.NONE, message: null},
      ])
      const configs = await described(Topic, name)
      expect(configs['retention.ms']).toEqual(['3600000', 1])
      expect(configs['segment.bytes']).toEqual(['2097152', 1])
      expect(configs['cleanup.policy']).toEqual(['delete', 5])
    }
  })

  it('gives the open partition log its new configs', async () => {
    await ctx.createTopic('ac-log')
    await alter([{resourceType: Topic, resourceName: 'ac-log', configs: [{name: 'retention.ms', value: '12345'}, {name: 'segment.bytes', value: '1048576'}]}])
    const config = ctx.broker.broker['replicas']!.get('ac-log', 0)!.log.config
    expect(config.retentionMs).toBe(12345)
    expect(config.segmentBytes).toBe(1048576)
  })

  it('refuses bad topic configs with INVALID_CONFIG and Kafka\'s messages, changing nothing', async () => {
    await ctx.createTopic('ac-invalid', {configs: [{name: 'retention.ms', value: '1000'}]})
    const cases: Array<[Array<{name: string; value: string}>, string]> = [
      [[{name: 'retention.ms', value: 'soon'}], 'Invalid value soon for configuration retention.ms: Not a number of type LONG'],
      [[{name: 'no.such.option', value: '1'}], 'Unknown topic config name: no.such.option'],
      [[{name: 'cleanup.policy', value: 'sometimes'}], 'Invalid value sometimes for configuration cleanup.policy: String must be one of: compact, delete'],
      [[{name: 'segment.bytes', value: '1024'}], 'Invalid value 1024 for configuration segment.bytes: Value must be at least 1048576'],
      [[{name: 'min.compaction.lag.ms', value: '10'}, {name: 'max.compaction.lag.ms', value: '5'}], 'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)'],
      [[{name: 'remote.storage.enable', value: 'true'}], 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.'],
    ]
    for (const [configs, message] of cases) {
      expect(await alter([{resourceType: Topic, resourceName: 'ac-invalid', configs}])).toEqual([{type: Topic, name: 'ac-invalid', code: ErrorCode.INVALID_CONFIG, message}])
    }
    expect((await described(Topic, 'ac-invalid'))['retention.ms']).toEqual(['1000', 1])
  })

  it('refuses malformed requests with INVALID_REQUEST', async () => {
    await ctx.createTopic('ac-malformed')
    expect(await alter([{resourceType: Topic, resourceName: 'ac-malformed', configs: [{name: 'retention.ms', value: null}]}])).toEqual([
      {type: Topic, name: 'ac-malformed', code: ErrorCode.INVALID_REQUEST, message: 'Null value not supported for : retention.ms'},
    ])
    expect(
      await alter([
        {
          resourceType: Topic,
          resourceName: 'ac-malformed',
          configs: [
            {name: 'retention.ms', value: '1'},
            {name: 'retention.ms', value: '2'},
          ],
        },
      ]),
    ).toEqual([{type: Topic, name: 'ac-malformed', code: ErrorCode.INVALID_REQUEST, message: 'Error due to duplicate config keys'}])
    const twice = {resourceType: Topic, resourceName: 'ac-malformed', configs: [{name: 'retention.ms', value: '1'}]}
    expect(await alter([twice, twice])).toEqual([
      {type: Topic, name: 'ac-malformed', code: ErrorCode.INVALID_REQUEST, message: 'Each resource must appear at most once.'},
      {type: Topic, name: 'ac-malformed', code: ErrorCode.INVALID_REQUEST, message: 'Each resource must appear at most once.'},
    ])
    expect(await alter([{resourceType: Topic, resourceName: '', configs: []}])).toEqual([{type: Topic, name: '', code: ErrorCode.INVALID_REQUEST, message: 'Default topic resources are not allowed.'}])
    expect(await alter([{resourceType: 7, resourceName: 'x', configs: []}])).toEqual([{type: 7, name: 'x', code: ErrorCode.UNSUPPORTED_VERSION, message: 'Unknown resource type 7.'}])
    expect(await alter([{resourceType: BrokerLogger, resourceName: '1', configs: []}])).toEqual([
      {type: BrokerLogger, name: '1', code: ErrorCode.INVALID_REQUEST, message: 'AlterConfigs is deprecated and does not support the resource type BROKER_LOGGER'},
    ])
  })

  it('answers a topic that does not exist after validating its configs, as Kafka', async () => {
    expect(await alter([{resourceType: Topic, resourceName: 'ac-missing', configs: [{name: 'retention.ms', value: '1'}]}])).toEqual([
      {type: Topic, name: 'ac-missing', code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: "The topic 'ac-missing' does not exist."},
    ])
    expect(await alter([{resourceType: Topic, resourceName: 'ac-missing', configs: [{name: 'retention.ms', value: 'x'}]}])).toEqual([
      {type: Topic, name: 'ac-missing', code: ErrorCode.INVALID_CONFIG, message: 'Invalid value x for configuration retention.ms: Not a number of type LONG'},
    ])
    expect(await alter([{resourceType: Topic, resourceName: 'bad name', configs: []}])).toEqual([
      {type: Topic, name: 'bad name', code: ErrorCode.INVALID_TOPIC_EXCEPTION, message: 'Topic name "bad name" is illegal, it contains a character other than ASCII alphanumerics, \'.\', \'_\' and \'-\''},
    ])
  })

  it('validateOnly checks and changes nothing', async () => {
    await ctx.createTopic('ac-validate')
    expect(await alter([{resourceType: Topic, resourceName: 'ac-validate', configs: [{name: 'retention.ms', value: '5'}]}], {validateOnly: true})).toEqual([
      {type: Topic, name: 'ac-validate', code: ErrorCode.NONE, message: null},
    ])
    expect((await described(Topic, 'ac-validate'))['retention.ms']).toEqual(['604800000', 5])
  })

  it('answers each resource on its own: one failure does not stop the others', async () => {
    await ctx.createTopic('ac-mixed')
    expect(
      await alter([
        {resourceType: Topic, resourceName: 'ac-missing-2', configs: []},
        {resourceType: Topic, resourceName: 'ac-mixed', configs: [{name: 'retention.ms', value: '77'}]},
      ]),
    ).toEqual([
      {type: Topic, name: 'ac-missing-2', code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: "The topic 'ac-missing-2' does not exist."},
      {type: Topic, name: 'ac-mixed', code: ErrorCode.NONE, message: null},
    ])
    expect((await described(Topic, 'ac-mixed'))['retention.ms']).toEqual(['77', 1])
  })

  // Issue 12: Kafka 4.0's ValidList takes the empty list; the log then neither deletes by
  // retention nor compacts (this used to be refused as a value the log could not take).
  it('accepts an empty cleanup.policy: neither deletion nor compaction', async () => {
    await ctx.createTopic('ac-empty-policy')
    expect(await alter([{resourceType: Topic, resourceName: 'ac-empty-policy', configs: [{name: 'cleanup.policy', value: ''}]}])).toEqual([{type: Topic, name: 'ac-empty-policy', code: ErrorCode.NONE, message: null}])
    expect((await described(Topic, 'ac-empty-policy', ['cleanup.policy']))['cleanup.policy']).toEqual(['', 1])
    expect(ctx.broker.broker['replicas']!.get('ac-empty-policy', 0)!.log.config.cleanupPolicy).toBe('')
  })
})

describe('AlterConfigs on brokers', () => {
  it('sets cluster-wide defaults ("") that every topic without its own value follows', async () => {
    await ctx.createTopic('ac-follows')
    await ctx.createTopic('ac-own', {configs: [{name: 'retention.ms', value: '999'}]})
    expect(await alter([{resourceType: Broker, resourceName: '', configs: [{name: 'log.retention.ms', value: '3600000'}]}])).toEqual([{type: Broker, name: '', code: ErrorCode.NONE, message: null}])
    expect(await described(Broker, '')).toEqual({'log.retention.ms': ['3600000', 3]})
    expect((await described(Broker, '1', ['log.retention.ms']))['log.retention.ms']).toEqual(['3600000', 3])
    expect((await described(Topic, 'ac-follows', ['retention.ms']))['retention.ms']).toEqual(['3600000', 3])
    expect((await described(Topic, 'ac-own', ['retention.ms']))['retention.ms']).toEqual(['999', 1])
    expect(ctx.broker.broker['replicas']!.get('ac-follows', 0)!.log.config.retentionMs).toBe(3600000)
    expect(ctx.broker.broker['replicas']!.get('ac-own', 0)!.log.config.retentionMs).toBe(999)
    // Replacing the set with an empty one removes the default again.
    expect(await alter([{resourceType: Broker, resourceName: '', configs: []}])).toEqual([{type: Broker, name: '', code: ErrorCode.NONE, message: null}])
    expect(await described(Broker, '')).toEqual({})
    expect(ctx.broker.broker['replicas']!.get('ac-follows', 0)!.log.config.retentionMs).toBe(604800000)
  })

  it('sets per-broker configs over the cluster default', async () => {
    await ctx.createTopic('ac-per-broker')
    await alter([{resourceType: Broker, resourceName: '', configs: [{name: 'log.segment.bytes', value: '2097152'}]}])
    await alter([{resourceType: Broker, resourceName: '1', configs: [{name: 'log.segment.bytes', value: '3145728'}]}])
    const config = await ctx.client.send(ApiKey.DescribeConfigs, 4, {resources: [{resourceType: Broker, resourceName: '1', configurationKeys: ['log.segment.bytes']}], includeSynonyms: true, includeDocumentation: false})
    expect(config.results[0]!.configs[0]).toMatchObject({
      name: 'log.segment.bytes',
      value: '3145728',
      configSource: 2,
      synonyms: [
        {name: 'log.segment.bytes', value: '3145728', source: 2},
        {name: 'log.segment.bytes', value: '2097152', source: 3},
        {name: 'log.segment.bytes', value: '1073741824', source: 5},
      ],
    })
    expect((await described(Topic, 'ac-per-broker', ['segment.bytes']))['segment.bytes']).toEqual(['3145728', 2])
    await alter([{resourceType: Broker, resourceName: '1', configs: []}])
    await alter([{resourceType: Broker, resourceName: '', configs: []}])
  })

  it('refuses read-only broker configs, bad values and other brokers with INVALID_REQUEST', async () => {
    const cases: Array<[string, Array<{name: string; value: string}>, string]> = [
      ['', [{name: 'num.partitions', value: '3'}], 'Cannot update these configs dynamically: Set(num.partitions)'],
      ['1', [{name: 'log.dirs', value: '/tmp/x'}, {name: 'listeners', value: 'PLAINTEXT://:1'}], 'Cannot update these configs dynamically: Set(log.dirs, listeners)'],
      ['', [{name: 'log.retention.ms', value: 'abc'}], 'Invalid value abc for configuration log.retention.ms: Not a number of type LONG'],
      ['', [{name: 'log.cleanup.policy', value: 'sometimes'}], 'Invalid value sometimes for configuration log.cleanup.policy: String must be one of: compact, delete'],
      ['2', [], 'Unexpected broker id, expected 1, but received 2'],
      ['one', [], 'Node id must be an integer, but it is: one'],
    ]
    for (const [name, configs, message] of cases) {
      expect(await alter([{resourceType: Broker, resourceName: name, configs}])).toEqual([{type: Broker, name, code: ErrorCode.INVALID_REQUEST, message}])
    }
    expect(await described(Broker, '')).toEqual({})
  })

  it('takes an empty log.cleanup.policy as the cluster default, which topics without their own follow', async () => {
    await ctx.createTopic('ac-default-empty-policy')
    expect(await alter([{resourceType: Broker, resourceName: '', configs: [{name: 'log.cleanup.policy', value: ''}]}])).toEqual([{type: Broker, name: '', code: ErrorCode.NONE, message: null}])
    expect(ctx.broker.broker['replicas']!.get('ac-default-empty-policy', 0)!.log.config.cleanupPolicy).toBe('')
    await alter([{resourceType: Broker, resourceName: '', configs: []}])
    expect(ctx.broker.broker['replicas']!.get('ac-default-empty-policy', 0)!.log.config.cleanupPolicy).toBe('delete')
  })

  it('accepts broker config names it does not know, as Kafka, and shows them as sensitive', async () => {
    expect(await alter([{resourceType: Broker, resourceName: '', configs: [{name: 'custom.plugin.setting', value: 'x'}]}])).toEqual([{type: Broker, name: '', code: ErrorCode.NONE, message: null}])
    const res = await ctx.client.send(ApiKey.DescribeConfigs, 4, {resources: [{resourceType: Broker, resourceName: '', configurationKeys: null}], includeSynonyms: false, includeDocumentation: false})
    expect(res.results[0]!.configs).toEqual([expect.objectContaining({name: 'custom.plugin.setting', value: null, isSensitive: true, configType: 0, configSource: 3})])
    await alter([{resourceType: Broker, resourceName: '', configs: []}])
  })

  it('keeps dynamic configs across a restart', async () => {
    await ctx.createTopic('ac-restart')
    await alter([{resourceType: Topic, resourceName: 'ac-restart', configs: [{name: 'retention.ms', value: '4242'}]}])
    await alter([{resourceType: Broker, resourceName: '', configs: [{name: 'log.segment.bytes', value: '2097152'}]}])
    await ctx.restart()
    expect((await described(Topic, 'ac-restart', ['retention.ms']))['retention.ms']).toEqual(['4242', 1])
    expect(await described(Broker, '')).toEqual({'log.segment.bytes': ['2097152', 3]})
    const log = ctx.broker.broker['replicas']!.get('ac-restart', 0)!.log
    expect(log.config.retentionMs).toBe(4242)
    expect(log.config.segmentBytes).toBe(2097152)
    await alter([{resourceType: Broker, resourceName: '', configs: []}])
  })
})
