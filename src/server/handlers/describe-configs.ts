// DescribeConfigs: v1-4
//
// Behaviour: as Kafka 4.0's ConfigHelper. Topic resources: every topic config with its effective
// value (explicit topic config, else the broker's log.* default, dynamic before static, else
// Kafka's default), its source and, when asked, its synonyms (the topic config, then the broker
// configs it falls back to: dynamic per-broker, dynamic cluster default, static, default — and, as
// in Kafka, only from the first broker synonym on, so retention.ms lists log.retention.hours only
// when log.retention.ms is set too) and documentation (v3+). Broker resources: this broker's id
// gives every broker config (and unknown ones that were set, as sensitive); "" gives the dynamic
// cluster-wide defaults that are set. An empty or null key list means all keys.
// Errors: INVALID_TOPIC_EXCEPTION (illegal topic name), UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST
// (another broker's id, a broker id that is not a number, an unsupported resource type); a
// resource type Kafka does not know fails the whole request with INVALID_REQUEST, as in Kafka.
// BROKER_LOGGER (issue 15): the broker's loggers and levels (src/server/broker-loggers.ts), source
// DYNAMIC_BROKER_LOGGER_CONFIG, for this node's id only.
// Authorization (issue 15): DESCRIBE_CONFIGS on the topic, the group, or the cluster (brokers,
// loggers, client metrics); refused resources answered last with TOPIC_/GROUP_/
// CLUSTER_AUTHORIZATION_FAILED and the error's message, as ConfigHelper.
// Not implemented: CLIENT_METRICS and GROUP resources (INVALID_REQUEST once authorized).
import {BROKER_CONFIGS} from '../../lib/config/broker-configs.js'
import {BROKER_LOGGER_SOURCE, checkLoggerResource, LoggerConfigError, loggerLevels} from '../broker-loggers.js' // broker loggers (issue 15)
import {type ConfigDefinition, ConfigResourceType, type ConfigType} from '../../lib/config/config-def.js'
import {TOPIC_CONFIGS} from '../../lib/config/topic-configs.js'
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ERROR_CODES, ErrorCode, errorByCode} from '../../lib/protocol/generated/errors.js'
import type {BrokerServices} from '../broker-services.js'
import {RESOURCE_TYPE_NAMES} from '../controller/config-manager.js'
import type {TopicMetadata} from '../controller/metadata-store.js'
import {TopicError, validateTopicName} from '../controller/topic-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizeCluster, ResourceType} from './authorize.js'

/** DescribeConfigs' ConfigSource. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const

const CONFIG_TYPE: Record<ConfigType, number> = {boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7, class: 8, password: 9}
const UNKNOWN_CONFIG_TYPE = 0

export interface ConfigEntry {
  name: string
  value: string | null
  readOnly: boolean
  configSource: number
  isSensitive: boolean
  synonyms: Array<{name: string; value: string | null; source: number}>
  configType: number
  documentation: string | null
}

type Synonym = ConfigEntry['synonyms'][number]

/**
 * The broker configs a config falls back to, in order (Kafka's DynamicBrokerConfig.brokerConfigSynonyms):
 * the hours/minutes variants of log.retention.ms and log.roll.ms, the scheduler interval for
 * log.flush.interval.ms.
 */
const BROKER_SYNONYM_GROUPS = [
  ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  ['log.roll.ms', 'log.roll.hours'],
  ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
]

function brokerConfigSynonyms(name: string): string[] {
  if (name === 'log.flush.interval.ms') return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms']
  return BROKER_SYNONYM_GROUPS.find((group) => group.includes(name)) ?? [name]
}

/** The broker config that supplies a topic config's default (Kafka's ServerTopicConfigSynonyms). */
const TOPIC_PRIMARY_SYNONYM: Readonly<Record<string, string>> = {
  'retention.ms': 'log.retention.ms',
  'segment.ms': 'log.roll.ms',
  'segment.jitter.ms': 'log.roll.jitter.ms',
  'flush.ms': 'log.flush.interval.ms',
}

/**
 * Kafka's ConfigHelper.configSynonyms: `name`'s synonyms found in each layer (dynamic per-broker,
 * dynamic default, static, default), dropping those before the first one called `name`.
 */
function brokerSynonyms(broker: BrokerServices, name: string, sensitive: boolean): Synonym[] {
  const names = brokerConfigSynonyms(name)
  const layers: Array<[Readonly<Record<string, string>>, number]> = [
    [broker.metadata.brokerConfigs(broker.nodeId), ConfigSource.DYNAMIC_BROKER_CONFIG],
    [broker.metadata.brokerConfigs(''), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
    [broker.config.explicit, ConfigSource.STATIC_BROKER_CONFIG],
    [BROKER_DEFAULTS, ConfigSource.DEFAULT_CONFIG],
  ]
  const out: Synonym[] = []
  for (const [values, source] of layers) {
    for (const n of names) {
      const value = values[n]
      if (value !== undefined) out.push({name: n, value: sensitive ? null : value, source})
    }
  }
  const first = out.findIndex((s) => s.name === name)
  return first < 0 ? [] : out.slice(first)
}

const BROKER_DEFAULTS: Readonly<Record<string, string>> = Object.fromEntries(
  BROKER_CONFIGS.definitions.filter((d) => d.default !== null).map((d) => [d.name, d.default!]),
)

function wanted(keys: readonly string[] | null, name: string): boolean {
  return keys === null || keys.length === 0 || keys.includes(name)
}

function entry(name: string, def: ConfigDefinition | undefined, value: string | null, synonyms: Synonym[], readOnly: boolean, includeSynonyms: boolean, includeDocumentation: boolean): ConfigEntry {
  // A config Kafka does not know has no type, and Kafka treats it as sensitive.
  const sensitive = def ? (def.sensitive ?? def.type === 'password') : true
  return {
    name,
    value: sensitive ? null : value,
    readOnly,
    configSource: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
    isSensitive: sensitive,
    synonyms: includeSynonyms ? synonyms : [],
    configType: def ? CONFIG_TYPE[def.type] : UNKNOWN_CONFIG_TYPE,
    documentation: includeDocumentation ? (def?.doc ?? null) : null,
  }
}

/** The configs of a topic (or of one about to be created), as DescribeConfigs and CreateTopics v5+ show them. */
export function describeConfigEntries(broker: BrokerServices, topic: Pick<TopicMetadata, 'configs'>, keys: readonly string[] | null, includeSynonyms: boolean, includeDocumentation = false): ConfigEntry[] {
  const effective = broker.topics.effectiveConfigs(topic)
  const out: ConfigEntry[] = []
  for (const def of TOPIC_CONFIGS.definitions) {
    if (!wanted(keys, def.name)) continue
    const sensitive = def.sensitive ?? false
    const synonyms: Synonym[] = []
    const explicit = topic.configs[def.name]
    if (explicit !== undefined) synonyms.push({name: def.name, value: sensitive ? null : explicit, source: ConfigSource.DYNAMIC_TOPIC_CONFIG})
    const primary = TOPIC_PRIMARY_SYNONYM[def.name] ?? def.brokerSynonym
    if (primary) synonyms.push(...brokerSynonyms(broker, primary, sensitive))
    out.push(entry(def.name, def, effective[def.name] ?? def.default, synonyms, false, includeSynonyms, includeDocumentation))
  }
  return out
}

/** A broker's configs (`resourceName` = its id), or the dynamic cluster-wide defaults (`resourceName` = ""). */
export function describeBrokerEntries(broker: BrokerServices, resourceName: string, keys: readonly string[] | null, includeSynonyms: boolean, includeDocumentation: boolean): ConfigEntry[] {
  const dynamicBroker = broker.metadata.brokerConfigs(broker.nodeId)
  const dynamicDefault = broker.metadata.brokerConfigs('')
  const out: ConfigEntry[] = []
  if (resourceName === '') {
    for (const [name, value] of Object.entries(dynamicDefault)) {
      if (!wanted(keys, name)) continue
      const def = BROKER_CONFIGS.get(name)
      const synonyms = brokerSynonyms(broker, name, def ? (def.sensitive ?? false) : true).filter((s) => s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)
      out.push(entry(name, def, value, synonyms, def ? (def.readOnly ?? false) : true, includeSynonyms, includeDocumentation))
    }
    return out
  }
  const names = new Set([...BROKER_CONFIGS.definitions.map((d) => d.name), ...Object.keys(broker.config.explicit), ...Object.keys(dynamicDefault), ...Object.keys(dynamicBroker)])
  for (const name of names) {
    if (!wanted(keys, name)) continue
    const def = BROKER_CONFIGS.get(name)
    const value = dynamicBroker[name] ?? dynamicDefault[name] ?? broker.config.explicit[name] ?? def?.default ?? null
    const synonyms = brokerSynonyms(broker, name, def ? (def.sensitive ?? false) : true)
    out.push(entry(name, def, value, synonyms, def ? (def.readOnly ?? false) : true, includeSynonyms, includeDocumentation))
  }
  return out
}

const KNOWN_RESOURCE_TYPES = new Set<number>([ConfigResourceType.Topic, ConfigResourceType.Broker, ConfigResourceType.BrokerLogger, ConfigResourceType.ClientMetrics, ConfigResourceType.Group])

/**
 * The error message of a result Kafka's ConfigHelper does not set one on (success, unknown topic):
 * the generated DescribeConfigsResult's default for the nullable string, "" (not null), as the
 * recorded Kafka 4.0 answers to kafka-topics --describe show (tool-captures/cluster-tools.jsonl).
 */
const NOT_SET = ''

export const describeConfigs = defineHandler({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 1,
  maxVersion: 4,
  handle(request, ctx) {
    if (request.resources.some((r) => !KNOWN_RESOURCE_TYPES.has(r.resourceType))) {
      // Kafka's authorization step throws for it, failing the whole request.
      const message = ERROR_CODES.find((e) => e.code === ErrorCode.INVALID_REQUEST)!.message
      return {throttleTimeMs: 0, results: request.resources.map((r) => ({resourceType: r.resourceType, resourceName: r.resourceName, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message, configs: []}))}
    }
    const includeDocumentation = ctx.apiVersion >= 3 && request.includeDocumentation
    // Authorization (issue 15), as Kafka's ConfigHelper: DESCRIBE_CONFIGS on the topic, on the group
    // for groups, on the cluster for brokers, loggers and client metrics; the refused resources
    // (TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED with the error's message) after the others.
    const refusal = (r: {resourceType: number; resourceName: string}): number => {
      if (r.resourceType === ConfigResourceType.Topic) return authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, r.resourceName) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED
      if (r.resourceType === ConfigResourceType.Group) return authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.GROUP, r.resourceName) ? ErrorCode.NONE : ErrorCode.GROUP_AUTHORIZATION_FAILED
      return authorizeCluster(ctx, AclOperation.DESCRIBE_CONFIGS) ? ErrorCode.NONE : ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    }
    const refusals = request.resources.map(refusal)
    const refused = request.resources
      .filter((_, i) => refusals[i] !== ErrorCode.NONE)
      .map((r) => {
        const errorCode = refusal(r)
        return {resourceType: r.resourceType, resourceName: r.resourceName, errorCode, errorMessage: errorByCode(errorCode)!.message, configs: []}
      })
    const results = request.resources.filter((_, i) => refusals[i] === ErrorCode.NONE).map((resource) => {
      const base = {resourceType: resource.resourceType, resourceName: resource.resourceName}
      const fail = (errorCode: number, errorMessage: string | null) => ({...base, errorCode, errorMessage, configs: []})
      const name = resource.resourceName
      if (resource.resourceType === ConfigResourceType.Topic) {
        try {
          validateTopicName(name)
        } catch (error) {
          if (error instanceof TopicError) return fail(ErrorCode[error.code], error.kafkaMessage)
          throw error
        }
        const topic = ctx.broker.metadata.topic(name)
        if (!topic) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, NOT_SET)
        return {...base, errorCode: ErrorCode.NONE, errorMessage: NOT_SET, configs: describeConfigEntries(ctx.broker, topic, resource.configurationKeys, request.includeSynonyms, includeDocumentation)}
      }
      if (resource.resourceType === ConfigResourceType.Broker) {
        if (name !== '') {
          if (!/^[+-]?\d{1,10}$/.test(name) || Number(name) > 2147483647 || Number(name) < -2147483648) return fail(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${name}`)
          if (Number(name) !== ctx.broker.nodeId) return fail(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${ctx.broker.nodeId} or empty string, but received ${name}`)
        }
        return {...base, errorCode: ErrorCode.NONE, errorMessage: NOT_SET, configs: describeBrokerEntries(ctx.broker, name, resource.configurationKeys, request.includeSynonyms, includeDocumentation)}
      }
      // ---- broker loggers (issue 15) ----
      if (resource.resourceType === ConfigResourceType.BrokerLogger) {
        try {
          checkLoggerResource(name, ctx.broker.nodeId)
        } catch (error) {
          if (error instanceof LoggerConfigError) return fail(ErrorCode[error.code], error.message)
          throw error
        }
        const configs = loggerLevels(ctx.broker.log)
          .filter((l) => wanted(resource.configurationKeys, l.name))
          .map((l) => ({name: l.name, value: l.level, readOnly: false, configSource: BROKER_LOGGER_SOURCE, isSensitive: false, synonyms: [], configType: 0, documentation: ''}))
        // Kafka answers "" as the message of a successful logger description (security-tools.jsonl run 42).
        return {...base, errorCode: ErrorCode.NONE, errorMessage: '', configs}
      }
      // ---- end broker loggers ----
      return fail(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${RESOURCE_TYPE_NAMES[resource.resourceType]}`)
    })
    return {throttleTimeMs: 0, results: [...results, ...refused]}
  },
})
