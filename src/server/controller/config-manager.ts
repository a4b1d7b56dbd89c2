/**
 * Changes to dynamic configs — topic configs and dynamic broker configs (per broker, and the
 * cluster-wide default under the resource name "") — with Kafka 4.0's checks, order and error
 * messages. The one place AlterConfigs and IncrementalAlterConfigs change configs.
 *
 * Kafka splits the work between the broker that receives the request (ConfigAdminManager:
 * duplicate resources and keys, null values, broker resource names, which broker configs may change
 * at runtime) and the controller (ConfigurationControlManager: applying SET/DELETE/APPEND/SUBTRACT,
 * LogConfig validation of topic configs, existence). Both halves run here, in that order, so each
 * resource gets the error Kafka would give it:
 *
 * - a resource named twice: INVALID_REQUEST "Each resource must appear at most once."
 * - a key named twice: INVALID_REQUEST "Error due to duplicate config keys"
 * - a null value (other than DELETE): INVALID_REQUEST "Null value not supported for : k1, k2"
 * - an unknown resource type: UNSUPPORTED_VERSION "Unknown resource type N." (as ControllerApis)
 * - a broker resource other than "" or this broker's id: INVALID_REQUEST; a read-only broker config:
 *   INVALID_REQUEST "Cannot update these configs dynamically: Set(k)"; a bad broker config value:
 *   INVALID_REQUEST (Kafka wraps the ConfigException, KAFKA-13609)
 * - a bad topic config: INVALID_CONFIG ("Unknown topic config name: k", "Invalid value v for
 *   configuration k: ..."); APPEND/SUBTRACT on a topic config that is not a list: INVALID_CONFIG
 * - a topic that does not exist: UNKNOWN_TOPIC_OR_PARTITION (checked after validation, as Kafka)
 *
 * Unknown broker config names are accepted and stored, as Kafka does; DescribeConfigs shows them
 * as sensitive. Changes run one at a time (like Kafka's single controller thread), so concurrent
 * incremental changes to one resource never lose each other's updates. After a change the open
 * partition logs get their new effective configs.
 */
import {BROKER_CONFIGS} from '../../lib/config/broker-configs.js'
import {ConfigError, ConfigResourceType, parseConfigValue} from '../../lib/config/config-def.js'
import {TOPIC_CONFIGS} from '../../lib/config/topic-configs.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {BrokerServices} from '../broker-services.js'
import {MetadataError, type MetadataStore} from './metadata-store.js'
import {checkLogConfig, TopicError, validateTopicName} from './topic-manager.js'

/** IncrementalAlterConfigs' operation types (Kafka's AlterConfigOp.OpType ids). */
export const ConfigOperation = {SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3} as const
const OPERATION_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'] as const

/** ConfigResource.Type names, for messages. */
export const RESOURCE_TYPE_NAMES: Readonly<Record<number, string>> = {
  [ConfigResourceType.Unknown]: 'UNKNOWN',
  [ConfigResourceType.Topic]: 'TOPIC',
  [ConfigResourceType.Broker]: 'BROKER',
  [ConfigResourceType.BrokerLogger]: 'BROKER_LOGGER',
  [ConfigResourceType.ClientMetrics]: 'CLIENT_METRICS',
  [ConfigResourceType.Group]: 'GROUP',
}

/** Kafka stores config values in records with a 16-bit length. */
const MAX_CONFIG_VALUE_LENGTH = 32767

export interface ConfigChange {
  name: string
  value: string | null
  /** IncrementalAlterConfigs only; AlterConfigs replaces the whole set. */
  configOperation?: number
}

export interface ConfigResourceChange {
  resourceType: number
  resourceName: string
  configs: ConfigChange[]
}

export interface ConfigChangeResult {
  resourceType: number
  resourceName: string
  errorCode: number
  errorMessage: string | null
}

type Services = Pick<BrokerServices, 'nodeId' | 'metadata' | 'topics' | 'replicas'>

class ConfigChangeError extends Error {
  constructor(
    readonly errorCode: number,
    readonly kafkaMessage: string | null,
  ) {
    super(kafkaMessage ?? String(errorCode))
  }
}

const fail = (code: number, message: string | null): never => {
  throw new ConfigChangeError(code, message)
}

/** Java's String.split(","): trailing empty strings dropped, but "" splits into [""]. */
function javaSplit(value: string): string[] {
  const parts = value.split(',')
  if (value === '') return parts
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}

/** Scala's Set.toString, which Kafka's DynamicBrokerConfig puts in its messages. */
function scalaSet(names: string[]): string {
  return `Set(${names.join(', ')})`
}

const managers = new WeakMap<MetadataStore, ConfigManager>()

export class ConfigManager {
  private chain: Promise<unknown> = Promise.resolve()

  constructor(private readonly services: Services) {}

  /** The one ConfigManager of a broker (keyed by its metadata store), so changes serialize. */
  static for(services: Services): ConfigManager {
    let manager = managers.get(services.metadata)
    if (!manager) {
      manager = new ConfigManager(services)
      managers.set(services.metadata, manager)
    }
    return manager
  }

  /** AlterConfigs: each resource's dynamic configs become exactly the given set. */
  alterConfigs(resources: readonly ConfigResourceChange[], validateOnly: boolean): Promise<ConfigChangeResult[]> {
    return this.serialized(() => this.apply(resources, validateOnly, false))
  }

  /** IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on single keys. */
  incrementalAlterConfigs(resources: readonly ConfigResourceChange[], validateOnly: boolean): Promise<ConfigChangeResult[]> {
    return this.serialized(() => this.apply(resources, validateOnly, true))
  }

  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const next = this.chain.then(run, run)
    this.chain = next.catch(() => undefined)
    return next
  }

  private async apply(resources: readonly ConfigResourceChange[], validateOnly: boolean, incremental: boolean): Promise<ConfigChangeResult[]> {
    const seen = new Map<string, number>()
    for (const r of resources) {
      const key = `${r.resourceType}\u0000${r.resourceName}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
    const results: ConfigChangeResult[] = []
    for (const resource of resources) {
      const base = {resourceType: resource.resourceType, resourceName: resource.resourceName}
      try {
        if (seen.get(`${resource.resourceType}\u0000${resource.resourceName}`)! > 1) fail(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.')
        await this.applyOne(resource, validateOnly, incremental)
        results.push({...base, errorCode: ErrorCode.NONE, errorMessage: null})
      } catch (error) {
        if (error instanceof ConfigChangeError) results.push({...base, errorCode: error.errorCode, errorMessage: error.kafkaMessage})
        else if (error instanceof TopicError) results.push({...base, errorCode: ErrorCode[error.code], errorMessage: error.kafkaMessage})
        else throw error
      }
    }
    return results
  }

  private async applyOne(resource: ConfigResourceChange, validateOnly: boolean, incremental: boolean): Promise<void> {
    const names = resource.configs.map((c) => c.name)
    if (new Set(names).size !== names.length) fail(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys')
    const nulls = resource.configs.filter((c) => c.value === null && !(incremental && c.configOperation === ConfigOperation.DELETE)).map((c) => c.name)
    if (nulls.length > 0) fail(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`)
    if (incremental) {
      for (const c of resource.configs) {
        if (OPERATION_NAMES[c.configOperation ?? -1] === undefined) fail(ErrorCode.INVALID_REQUEST, `Unknown operations type ${c.configOperation}`)
      }
    }
    switch (resource.resourceType) {
      case ConfigResourceType.Topic:
        return this.changeTopic(resource, validateOnly, incremental)
      case ConfigResourceType.Broker:
        return this.changeBroker(resource, validateOnly, incremental)
      case ConfigResourceType.BrokerLogger:
        if (!incremental) fail(ErrorCode.INVALID_REQUEST, 'AlterConfigs is deprecated and does not support the resource type BROKER_LOGGER')
        return fail(ErrorCode.INVALID_REQUEST, 'Unsupported resource type: BROKER_LOGGER')
      case ConfigResourceType.ClientMetrics:
      case ConfigResourceType.Group:
        return fail(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${RESOURCE_TYPE_NAMES[resource.resourceType]}`)
      default:
        return fail(ErrorCode.UNSUPPORTED_VERSION, `Unknown resource type ${resource.resourceType}.`)
    }
  }

  /**
   * The configs after the change: AlterConfigs' set replaces them; incremental operations apply to
   * the stored ones (APPEND/SUBTRACT to the default when the key is not set), as Kafka's
   * ConfigurationControlManager does.
   */
  private changed(current: Readonly<Record<string, string>>, resource: ConfigResourceChange, incremental: boolean, listDefault: (name: string) => string | null | undefined): Record<string, string> {
    if (!incremental) return Object.fromEntries(resource.configs.map((c) => [c.name, c.value!]))
    const next: Record<string, string> = {...current}
    for (const c of resource.configs) {
      switch (c.configOperation) {
        case ConfigOperation.SET:
          next[c.name] = c.value!
          break
        case ConfigOperation.DELETE:
          delete next[c.name]
          break
        default: {
          const start = current[c.name] ?? listDefault(c.name) ?? null
          const parts = start === null ? [] : start.split(',').filter((p) => p !== '')
          for (const v of javaSplit(c.value!)) {
            if (c.configOperation === ConfigOperation.APPEND) {
              if (!parts.includes(v)) parts.push(v)
            } else {
              const at = parts.indexOf(v)
              if (at >= 0) parts.splice(at, 1)
            }
          }
          next[c.name] = parts.join(',')
        }
      }
    }
    return next
  }

  private async changeTopic(resource: ConfigResourceChange, validateOnly: boolean, incremental: boolean): Promise<void> {
    const {metadata, topics, replicas} = this.services
    const name = resource.resourceName
    if (incremental) {
      for (const c of resource.configs) {
        if ((c.configOperation === ConfigOperation.APPEND || c.configOperation === ConfigOperation.SUBTRACT) && TOPIC_CONFIGS.get(c.name)?.type !== 'list') {
          fail(ErrorCode.INVALID_CONFIG, `Can't ${OPERATION_NAMES[c.configOperation]} to key ${c.name} because its type is not LIST.`)
        }
      }
    }
    const topic = metadata.topic(name)
    const next = this.changed(topic?.configs ?? {}, resource, incremental, (key) => TOPIC_CONFIGS.get(key)?.default)
    if (Object.values(next).some((v) => v.length > MAX_CONFIG_VALUE_LENGTH)) fail(ErrorCode.INVALID_CONFIG, 'Configuration value is too large.')
    if (name === '') fail(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.')
    validateTopicName(name)
    topics.validateConfigs(next)
    if (!topic) fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`)
    if (validateOnly) return
    try {
      await metadata.setTopicConfigs(name, next)
    } catch (error) {
      if (error instanceof MetadataError && error.code === 'UNKNOWN_TOPIC_OR_PARTITION') fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`)
      throw error
    }
    const updated = metadata.topic(name)
    if (updated) replicas.updateConfigs(updated)
  }

  private async changeBroker(resource: ConfigResourceChange, validateOnly: boolean, incremental: boolean): Promise<void> {
    const {metadata, topics, replicas, nodeId} = this.services
    const name = resource.resourceName
    if (name !== '') {
      if (!/^[+-]?\d{1,10}$/.test(name) || Number(name) > 2147483647 || Number(name) < -2147483648) fail(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${name}`)
      if (Number(name) !== nodeId) fail(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId}, but received ${name}`)
    }
    const target: number | '' = name === '' ? '' : nodeId
    const current = metadata.brokerConfigs(target)
    if (incremental) {
      for (const c of resource.configs) {
        if ((c.configOperation === ConfigOperation.APPEND || c.configOperation === ConfigOperation.SUBTRACT) && BROKER_CONFIGS.get(c.name)?.type !== 'list') {
          fail(ErrorCode.INVALID_REQUEST, `Config value ${c.configOperation === ConfigOperation.APPEND ? 'append' : 'subtract'} is not allowed for config key: ${c.name}`)
        }
      }
    }
    const next = this.changed(current, resource, incremental, (key) => BROKER_CONFIGS.get(key)?.default)
    // What DynamicBrokerConfig.validate sees: the request's configs (AlterConfigs) or the
    // resource's configs after the operations (IncrementalAlterConfigs).
    const checked = incremental ? next : Object.fromEntries(resource.configs.map((c) => [c.name, c.value!]))
    const readOnly = Object.keys(checked).filter((k) => BROKER_CONFIGS.get(k)?.readOnly)
    if (readOnly.length > 0) fail(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: ${scalaSet(readOnly)}`)
    for (const [key, value] of Object.entries(checked)) {
      const def = BROKER_CONFIGS.get(key)
      if (!def) continue
      try {
        parseConfigValue(def, value)
      } catch (error) {
        if (error instanceof ConfigError) fail(ErrorCode.INVALID_REQUEST, error.kafkaMessage)
        throw error
      }
    }
    if (Object.values(next).some((v) => v.length > MAX_CONFIG_VALUE_LENGTH)) fail(ErrorCode.INVALID_CONFIG, 'Configuration value is too large.')
    // Every topic's partition log must be able to take its new effective configs.
    const defaults = target === '' ? topics.topicDefaultsFor(next, metadata.brokerConfigs(nodeId)) : topics.topicDefaultsFor(metadata.brokerConfigs(''), next)
    try {
      checkLogConfig(defaults)
      for (const topic of metadata.topics()) checkLogConfig({...defaults, ...topic.configs})
    } catch (error) {
      if (error instanceof TopicError) fail(ErrorCode.INVALID_REQUEST, error.kafkaMessage)
      throw error
    }
    if (validateOnly) return
    await metadata.setBrokerConfigs(target, next)
    topics.brokerConfigsChanged()
    for (const topic of metadata.topics()) replicas.updateConfigs(topic)
  }
}
