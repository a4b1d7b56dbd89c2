import {describe, expect, it} from 'vitest'
import {ConfigResourceType} from '../../../src/lib/config/config-def.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {ConfigOperation} from '../../../src/server/controller/config-manager.js'
import {ProtocolClient, useBroker} from './helpers.js'

const {Topic, Broker, BrokerLogger} = ConfigResourceType
const {SET, DELETE, APPEND, SUBTRACT} = ConfigOperation

const ctx = useBroker()

type Op = {name: string; configOperation: number; value: string | null}

async function change(resourceType: number, resourceName: string, configs: Op[], opts: {validateOnly?: boolean; version?: number} = {}) {
  const res = await ctx.client.send(ApiKey.IncrementalAlterConfigs, opts.version ?? 1, {resources: [{resourceType, resourceName, configs}], validateOnly: opts.validateOnly ?? false})
  const r = res.responses[0]!
  return {code: r.errorCode, message: r.errorMessage}
}

const OK = {code: ErrorCode.NONE, message: null}

/** The explicitly set topic configs (source DYNAMIC_TOPIC_CONFIG). */
async function topicConfigs(name: string): Promise<Record<string, string | null>> {
  const res = await ctx.client.send(ApiKey.DescribeConfigs, 4, {resources: [{resourceType: Topic, resourceName: name, configurationKeys: null}], includeSynonyms: false, includeDocumentation: false})
  return Object.fromEntries(res.results[0]!.configs.filter((c) => c.configSource === 1).map((c) => [c.name, c.value]))
}

describe('IncrementalAlterConfigs on topics', () => {
  it('SET and DELETE change single keys and leave the others (v0 and v1)', async () => {
    for (const version of [0, 1]) {
      const name = `iac-set-${version}`
      await ctx.createTopic(name, {configs: [{name: 'retention.ms', value: '1000'}, {name: 'segment.bytes', value: '2097152'}]})
      expect(await change(Topic, name, [{name: 'retention.ms', configOperation: SET, value: '2000'}, {name: 'segment.bytes', configOperation: DELETE, value: null}], {version})).toEqual(OK)
      expect(await topicConfigs(name)).toEqual({'retention.ms': '2000'})
      expect(ctx.broker.broker['replicas']!.get(name, 0)!.log.config.segmentBytes).toBe(1073741824)
    }
  })

  it('APPEND and SUBTRACT work on list configs, starting from the default when unset', async () => {
    await ctx.createTopic('iac-list')
    expect(await change(Topic, 'iac-list', [{name: 'cleanup.policy', configOperation: APPEND, value: 'compact'}])).toEqual(OK)
    expect(await topicConfigs('iac-list')).toEqual({'cleanup.policy': 'delete,compact'})
    expect(await change(Topic, 'iac-list', [{name: 'cleanup.policy', configOperation: APPEND, value: 'compact'}])).toEqual(OK)
    expect(await topicConfigs('iac-list')).toEqual({'cleanup.policy': 'delete,compact'})
    expect(await change(Topic, 'iac-list', [{name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete'}])).toEqual(OK)
    expect(await topicConfigs('iac-list')).toEqual({'cleanup.policy': 'compact'})
    expect(ctx.broker.broker['replicas']!.get('iac-list', 0)!.log.config.cleanupPolicy).toBe('compact')
  })

  // Issue 12: Kafka 4.0's ValidList accepts the empty list, so cleanup.policy can be left empty
  // (neither deletion nor compaction); kcli answered INVALID_CONFIG.
  it('SUBTRACT of the last cleanup.policy value and SET "" leave it empty, described as ""', async () => {
    await ctx.createTopic('iac-empty-subtract', {configs: [{name: 'cleanup.policy', value: 'compact'}]})
    expect(await change(Topic, 'iac-empty-subtract', [{name: 'cleanup.policy', configOperation: SUBTRACT, value: 'compact'}])).toEqual(OK)
    expect(await topicConfigs('iac-empty-subtract')).toEqual({'cleanup.policy': ''})
    expect(ctx.broker.broker['replicas']!.get('iac-empty-subtract', 0)!.log.config.cleanupPolicy).toBe('')
    await ctx.createTopic('iac-empty-set')
    expect(await change(Topic, 'iac-empty-set', [{name: 'cleanup.policy', configOperation: SET, value: ''}])).toEqual(OK)
    expect(await topicConfigs('iac-empty-set')).toEqual({'cleanup.policy': ''})
    // APPEND to the empty list starts from it, not from the default.
    expect(await change(Topic, 'iac-empty-set', [{name: 'cleanup.policy', configOperation: APPEND, value: 'compact'}])).toEqual(OK)
    expect(await topicConfigs('iac-empty-set')).toEqual({'cleanup.policy': 'compact'})
  })

  it('validates list configs as Kafka 4.0: ValidList items, ThrottledReplicaListValidator', async () => {
    await ctx.createTopic('iac-lists')
    const invalid = (value: string, reason: string) => ({code: ErrorCode.INVALID_CONFIG, message: `Invalid value ${value} for configuration cleanup.policy: ${reason}`})
    expect(await change(Topic, 'iac-lists', [{name: 'cleanup.policy', configOperation: SET, value: 'compact,sometimes'}])).toEqual(invalid('sometimes', 'String must be one of: compact, delete'))
    expect(await change(Topic, 'iac-lists', [{name: 'cleanup.policy', configOperation: SET, value: 'compact,'}])).toEqual(invalid('', 'String must be one of: compact, delete'))
    expect(await change(Topic, 'iac-lists', [{name: 'cleanup.policy', configOperation: SET, value: ' compact , delete ,compact'}])).toEqual(OK)
    expect(ctx.broker.broker['replicas']!.get('iac-lists', 0)!.log.config.cleanupPolicy).toBe('compact,delete')
    for (const key of ['leader.replication.throttled.replicas', 'follower.replication.throttled.replicas']) {
      for (const value of ['*', '0:1,1:1', ' 0:1 , 2:1', '', '0:1,,1:1']) expect(await change(Topic, 'iac-lists', [{name: key, configOperation: SET, value}])).toEqual(OK)
      const reason = `${key} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...`
      expect(await change(Topic, 'iac-lists', [{name: key, configOperation: SET, value: '0:1,broker2'}])).toEqual({code: ErrorCode.INVALID_CONFIG, message: `Invalid value [0:1, broker2] for configuration ${key}: ${reason}`})
      expect(await change(Topic, 'iac-lists', [{name: key, configOperation: APPEND, value: '*'}])).toEqual({code: ErrorCode.INVALID_CONFIG, message: `Invalid value [0:1, 1:1, *] for configuration ${key}: ${reason}`})
    }
  })

  it('refuses APPEND/SUBTRACT on a config that is not a list with INVALID_CONFIG', async () => {
    await ctx.createTopic('iac-not-list')
    expect(await change(Topic, 'iac-not-list', [{name: 'retention.ms', configOperation: APPEND, value: '1'}])).toEqual({code: ErrorCode.INVALID_CONFIG, message: "Can't APPEND to key retention.ms because its type is not LIST."})
    expect(await change(Topic, 'iac-not-list', [{name: 'no.such', configOperation: SUBTRACT, value: '1'}])).toEqual({code: ErrorCode.INVALID_CONFIG, message: "Can't SUBTRACT to key no.such because its type is not LIST."})
  })

  it('refuses null values (except for DELETE), unknown operations and bad values', async () => {
    await ctx.createTopic('iac-bad')
    expect(await change(Topic, 'iac-bad', [{name: 'retention.ms', configOperation: SET, value: null}])).toEqual({code: ErrorCode.INVALID_REQUEST, message: 'Null value not supported for : retention.ms'})
    expect(await change(Topic, 'iac-bad', [{name: 'retention.ms', configOperation: 9, value: '1'}])).toEqual({code: ErrorCode.INVALID_REQUEST, message: 'Unknown operations type 9'})
    expect(await change(Topic, 'iac-bad', [{name: 'retention.ms', configOperation: SET, value: '-5'}])).toEqual({code: ErrorCode.INVALID_CONFIG, message: 'Invalid value -5 for configuration retention.ms: Value must be at least -1'})
    expect(await change(Topic, 'iac-bad', [{name: 'flush.mesages', configOperation: SET, value: '1'}])).toEqual({code: ErrorCode.INVALID_CONFIG, message: 'Unknown topic config name: flush.mesages'})
    expect(await change(Topic, 'iac-missing', [{name: 'retention.ms', configOperation: DELETE, value: null}])).toEqual({code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: "The topic 'iac-missing' does not exist."})
    expect(await topicConfigs('iac-bad')).toEqual({})
  })

  it('validateOnly checks and changes nothing', async () => {
    await ctx.createTopic('iac-validate')
    expect(await change(Topic, 'iac-validate', [{name: 'retention.ms', configOperation: SET, value: '5'}], {validateOnly: true})).toEqual(OK)
    expect(await topicConfigs('iac-validate')).toEqual({})
  })

  it('concurrent changes to one topic from many connections all land (changes are serialized)', async () => {
    await ctx.createTopic('iac-concurrent')
    const keys = ['retention.ms', 'segment.ms', 'delete.retention.ms', 'file.delete.delay.ms', 'flush.ms', 'min.compaction.lag.ms', 'segment.jitter.ms', 'message.timestamp.after.max.ms']
    const clients = await Promise.all(keys.map(() => ProtocolClient.connect(ctx.broker.port)))
    try {
      const answers = await Promise.all(
        keys.map((key, i) => clients[i]!.send(ApiKey.IncrementalAlterConfigs, 1, {resources: [{resourceType: Topic, resourceName: 'iac-concurrent', configs: [{name: key, configOperation: SET, value: String(1000 + i)}]}], validateOnly: false})),
      )
      for (const a of answers) expect(a.responses[0]!.errorCode).toBe(ErrorCode.NONE)
    } finally {
      for (const c of clients) c.close()
    }
    expect(await topicConfigs('iac-concurrent')).toEqual(Object.fromEntries(keys.map((k, i) => [k, String(1000 + i)])))
  })
})

describe('IncrementalAlterConfigs on brokers', () => {
  it('SET/APPEND/SUBTRACT/DELETE on the cluster default', async () => {
    expect(await change(Broker, '', [{name: 'log.cleanup.policy', configOperation: APPEND, value: 'compact'}])).toEqual(OK)
    expect(await change(Broker, '', [{name: 'log.retention.ms', configOperation: SET, value: '60000'}])).toEqual(OK)
    let res = await ctx.client.send(ApiKey.DescribeConfigs, 4, {resources: [{resourceType: Broker, resourceName: '', configurationKeys: null}], includeSynonyms: false, includeDocumentation: false})
    expect(Object.fromEntries(res.results[0]!.configs.map((c) => [c.name, c.value]))).toEqual({'log.cleanup.policy': 'delete,compact', 'log.retention.ms': '60000'})
    expect(await change(Broker, '', [{name: 'log.cleanup.policy', configOperation: SUBTRACT, value: 'delete'}, {name: 'log.retention.ms', configOperation: DELETE, value: null}])).toEqual(OK)
    res = await ctx.client.send(ApiKey.DescribeConfigs, 4, {resources: [{resourceType: Broker, resourceName: '', configurationKeys: null}], includeSynonyms: false, includeDocumentation: false})
    expect(Object.fromEntries(res.results[0]!.configs.map((c) => [c.name, c.value]))).toEqual({'log.cleanup.policy': 'compact'})
    expect(await change(Broker, '', [{name: 'log.cleanup.policy', configOperation: DELETE, value: null}])).toEqual(OK)
  })

  it('refuses APPEND on a broker config that is not a list, read-only configs and other brokers with INVALID_REQUEST', async () => {
    expect(await change(Broker, '1', [{name: 'log.retention.ms', configOperation: APPEND, value: '1'}])).toEqual({code: ErrorCode.INVALID_REQUEST, message: 'Config value append is not allowed for config key: log.retention.ms'})
    expect(await change(Broker, '1', [{name: 'auto.create.topics.enable', configOperation: SET, value: 'false'}])).toEqual({code: ErrorCode.INVALID_REQUEST, message: 'Cannot update these configs dynamically: Set(auto.create.topics.enable)'})
    expect(await change(Broker, '7', [])).toEqual({code: ErrorCode.INVALID_REQUEST, message: 'Unexpected broker id, expected 1, but received 7'})
    // Broker loggers (issue 15, test/server/handlers/broker-loggers.test.ts): 'kafka' is not one of kcli's loggers (root and its components).
    expect(await change(BrokerLogger, '1', [{name: 'kafka', configOperation: SET, value: 'DEBUG'}])).toEqual({code: ErrorCode.INVALID_CONFIG, message: 'Logger kafka does not exist!'})
  })
})
