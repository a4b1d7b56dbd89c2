// DescribeConfigs: v1-4
//
// Behaviour: topic resources (explicit topic configs, then the broker's log.* defaults, then
// Kafka's defaults, with each value's source and, when asked, its synonyms and documentation)
// and broker resources (name = node id, or "" for the cluster-wide defaults).
// Errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST (bad resource name or type).
// Not implemented: broker-logger and client-metrics resources (INVALID_REQUEST).
import {BROKER_CONFIGS} from '../../lib/config/broker-configs.js'
import {type ConfigDefinition, ConfigResourceType, type ConfigType} from '../../lib/config/config-def.js'
import {TOPIC_CONFIGS} from '../../lib/config/topic-configs.js'
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {BrokerServices} from '../broker-services.js'
import type {TopicMetadata} from '../controller/metadata-store.js'
import {defineHandler} from './handler.js'

/** DescribeConfigs' ConfigSource. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const

const CONFIG_TYPE: Record<ConfigType, number> = {boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7, class: 8, password: 9}

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

function entry(def: ConfigDefinition, synonyms: ConfigEntry['synonyms'], includeSynonyms: boolean, includeDocumentation: boolean, readOnly: boolean): ConfigEntry {
  const effective = synonyms[0] ?? {value: def.default, source: ConfigSource.DEFAULT_CONFIG}
  return {
    name: def.name,
    value: def.sensitive ? null : effective.value,
    readOnly,
    configSource: effective.source,
    isSensitive: def.sensitive ?? false,
    synonyms: includeSynonyms ? synonyms : [],
    configType: CONFIG_TYPE[def.type],
    documentation: includeDocumentation ? def.doc : null,
  }
}

/** The configs of a topic, in Kafka's precedence order: topic, broker static, default. */
export function describeConfigEntries(broker: BrokerServices, topic: Pick<TopicMetadata, 'configs'>, keys: string[] | null, includeSynonyms: boolean, includeDocumentation = false): ConfigEntry[] {
  const brokerDefaults = broker.config.topicDefaults()
  const out: ConfigEntry[] = []
  for (const def of TOPIC_CONFIGS.definitions) {
    if (keys && !keys.includes(def.name)) continue
    const synonyms: ConfigEntry['synonyms'] = []
    if (topic.configs[def.name] !== undefined) synonyms.push({name: def.name, value: topic.configs[def.name]!, source: ConfigSource.DYNAMIC_TOPIC_CONFIG})
    if (brokerDefaults[def.name] !== undefined) synonyms.push({name: def.brokerSynonym ?? def.name, value: brokerDefaults[def.name]!, source: ConfigSource.STATIC_BROKER_CONFIG})
    if (def.brokerSynonym) synonyms.push({name: def.brokerSynonym, value: def.default, source: ConfigSource.DEFAULT_CONFIG})
    out.push(entry(def, synonyms, includeSynonyms, includeDocumentation, false))
  }
  return out
}

export function describeBrokerEntries(broker: BrokerServices, resourceName: string, keys: string[] | null, includeSynonyms: boolean, includeDocumentation: boolean): ConfigEntry[] {
  const dynamicBroker = resourceName === '' ? {} : broker.metadata.brokerConfigs(broker.nodeId)
  const dynamicDefault = broker.metadata.brokerConfigs('')
  const out: ConfigEntry[] = []
  for (const def of BROKER_CONFIGS.definitions) {
    if (keys && !keys.includes(def.name)) continue
    const synonyms: ConfigEntry['synonyms'] = []
    if (dynamicBroker[def.name] !== undefined) synonyms.push({name: def.name, value: dynamicBroker[def.name]!, source: ConfigSource.DYNAMIC_BROKER_CONFIG})
    if (dynamicDefault[def.name] !== undefined) synonyms.push({name: def.name, value: dynamicDefault[def.name]!, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG})
    if (resourceName !== '' && broker.config.explicit[def.name] !== undefined) synonyms.push({name: def.name, value: broker.config.explicit[def.name]!, source: ConfigSource.STATIC_BROKER_CONFIG})
    if (def.default !== null) synonyms.push({name: def.name, value: def.default, source: ConfigSource.DEFAULT_CONFIG})
    out.push(entry(def, synonyms, includeSynonyms, includeDocumentation, def.readOnly ?? false))
  }
  return out
}

export const describeConfigs = defineHandler({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 1,
  maxVersion: 4,
  handle(request, ctx) {
    const results = request.resources.map((resource) => {
      const base = {resourceType: resource.resourceType, resourceName: resource.resourceName}
      const fail = (errorCode: number, errorMessage: string) => ({...base, errorCode, errorMessage, configs: []})
      const includeDocumentation = ctx.apiVersion >= 3 && request.includeDocumentation
      if (resource.resourceType === ConfigResourceType.Topic) {
        const topic = ctx.broker.metadata.topic(resource.resourceName)
        if (!topic) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${resource.resourceName}' does not exist.`)
        return {...base, errorCode: 0, errorMessage: null, configs: describeConfigEntries(ctx.broker, topic, resource.configurationKeys, request.includeSynonyms, includeDocumentation)}
      }
      if (resource.resourceType === ConfigResourceType.Broker) {
        if (resource.resourceName !== '' && resource.resourceName !== String(ctx.broker.nodeId)) {
          return fail(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${ctx.broker.nodeId} or empty string, but received ${resource.resourceName}`)
        }
        return {...base, errorCode: 0, errorMessage: null, configs: describeBrokerEntries(ctx.broker, resource.resourceName, resource.configurationKeys, request.includeSynonyms, includeDocumentation)}
      }
      return fail(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${resource.resourceType}`)
    })
    return {throttleTimeMs: 0, results}
  },
})
