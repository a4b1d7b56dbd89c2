/**
 * The configuration every connector has besides its own (Kafka's ConnectorConfig, SourceConnectorConfig,
 * SinkConnectorConfig): name, connector.class, tasks.max, converters, the `transforms` and
 * `predicates` chains, error handling; and config/validate's answer in Kafka Connect's JSON shape
 * ({name, error_count, groups, configs: [{definition, value}]}).
 */
import {type AnyConnector, atLeast, ConfigException, type ConfigKey, ConfigDef, type ConfigValue, type ConnectRecord, NO_DEFAULT, type PluginDescriptor, type Predicate, type Transformation} from './api.js'
import {PluginRegistry} from './plugins.js'

const oneOf = (values: string[]) => (name: string, value: unknown): string | null =>
  typeof value === 'string' && !values.includes(value.toLowerCase()) ? `Invalid value ${value} for configuration ${name}: String must be one of: ${values.join(', ')}` : null

export const COMMON_CONFIG = new ConfigDef()
  .define({name: 'name', type: 'STRING', importance: 'HIGH', documentation: 'Globally unique name to use for this connector.', group: 'Common', orderInGroup: 1, width: 'MEDIUM', displayName: 'Connector name'})
  .define({name: 'connector.class', type: 'STRING', importance: 'HIGH', documentation: 'Name or alias of the class for this connector.', group: 'Common', orderInGroup: 2, width: 'LONG', displayName: 'Connector class'})
  .define({name: 'tasks.max', type: 'INT', defaultValue: '1', importance: 'HIGH', documentation: 'Maximum number of tasks to use for this connector.', group: 'Common', orderInGroup: 3, width: 'SHORT', displayName: 'Tasks max', validator: atLeast(1)})
  .define({name: 'key.converter', type: 'CLASS', defaultValue: null, importance: 'LOW', documentation: 'Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.', group: 'Common', orderInGroup: 5, width: 'SHORT', displayName: 'Key converter class'})
  .define({name: 'value.converter', type: 'CLASS', defaultValue: null, importance: 'LOW', documentation: 'Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.', group: 'Common', orderInGroup: 6, width: 'SHORT', displayName: 'Value converter class'})
  .define({name: 'header.converter', type: 'CLASS', defaultValue: null, importance: 'LOW', documentation: 'HeaderConverter class (only the simple header converter is supported).', group: 'Common', orderInGroup: 7, width: 'SHORT', displayName: 'Header converter class'})
  .define({name: 'transforms', type: 'LIST', defaultValue: '', importance: 'LOW', documentation: 'Aliases for the transformations to be applied to records.', group: 'Transforms', orderInGroup: 1, width: 'LONG', displayName: 'Transforms'})
  .define({name: 'predicates', type: 'LIST', defaultValue: '', importance: 'LOW', documentation: 'Aliases for the predicates used by transformations.', group: 'Predicates', orderInGroup: 1, width: 'LONG', displayName: 'Predicates'})
  .define({name: 'errors.retry.timeout', type: 'LONG', defaultValue: '0', importance: 'MEDIUM', documentation: 'The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.', group: 'Error Handling', orderInGroup: 1, width: 'MEDIUM', displayName: 'Retry Timeout for Errors'})
  .define({name: 'errors.retry.delay.max.ms', type: 'LONG', defaultValue: '60000', importance: 'MEDIUM', documentation: 'The maximum duration in milliseconds between consecutive retry attempts.', group: 'Error Handling', orderInGroup: 2, width: 'MEDIUM', displayName: 'Maximum Delay Between Retries for Errors'})
  .define({name: 'errors.tolerance', type: 'STRING', defaultValue: 'none', importance: 'MEDIUM', documentation: "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.", group: 'Error Handling', orderInGroup: 3, width: 'SHORT', displayName: 'Error Tolerance', validator: oneOf(['none', 'all'])})
  .define({name: 'errors.log.enable', type: 'BOOLEAN', defaultValue: 'false', importance: 'MEDIUM', documentation: 'If true, write each error and the details of the failed operation and problematic record to the Connect application log.', group: 'Error Handling', orderInGroup: 4, width: 'SHORT', displayName: 'Log Errors'})
  .define({name: 'errors.log.include.messages', type: 'BOOLEAN', defaultValue: 'false', importance: 'MEDIUM', documentation: 'Whether to include in the log the Connect record that resulted in a failure.', group: 'Error Handling', orderInGroup: 5, width: 'SHORT', displayName: 'Log Error Details'})

export const SINK_CONFIG = new ConfigDef()
  .define({name: 'topics', type: 'LIST', defaultValue: '', importance: 'HIGH', documentation: 'List of topics to consume, separated by commas', group: 'Common', orderInGroup: 4, width: 'LONG', displayName: 'Topics'})
  .define({name: 'topics.regex', type: 'STRING', defaultValue: '', importance: 'HIGH', documentation: 'Regular expression giving topics to consume.', group: 'Common', orderInGroup: 4, width: 'LONG', displayName: 'Topics regex'})
  .define({name: 'errors.deadletterqueue.topic.name', type: 'STRING', defaultValue: '', importance: 'MEDIUM', documentation: 'The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters.', group: 'Error Handling', orderInGroup: 6, width: 'MEDIUM', displayName: 'Dead Letter Queue Topic Name'})
  .define({name: 'errors.deadletterqueue.topic.replication.factor', type: 'SHORT', defaultValue: '3', importance: 'MEDIUM', documentation: 'Replication factor used to create the dead letter queue topic when it doesn\'t already exist.', group: 'Error Handling', orderInGroup: 7, width: 'MEDIUM', displayName: 'Dead Letter Queue Topic Replication Factor'})
  .define({name: 'errors.deadletterqueue.context.headers.enable', type: 'BOOLEAN', defaultValue: 'false', importance: 'MEDIUM', documentation: 'If true, add headers containing error context to the messages written to the dead letter queue.', group: 'Error Handling', orderInGroup: 8, width: 'MEDIUM', displayName: 'Enable Error Context Headers'})

export interface ValidateResponse {
  name: string
  error_count: number
  groups: string[]
  configs: Array<{definition: Record<string, unknown>; value: {name: string; value: string | null; recommended_values: string[]; errors: string[]; visible: boolean}}>
}

/** An error the REST layer answers with this status and Kafka Connect's {error_code, message} body. */
export class ConnectRestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
    this.name = 'ConnectRestError'
  }
}

function definitionOf(key: ConfigKey): Record<string, unknown> {
  return {
    name: key.name, type: key.type, required: key.defaultValue === NO_DEFAULT,
    default_value: key.defaultValue === NO_DEFAULT ? null : key.defaultValue,
    importance: key.importance, documentation: key.documentation, group: key.group ?? null,
    width: key.width ?? 'NONE', display_name: key.displayName ?? key.name, dependents: key.dependents ?? [], order: key.orderInGroup ?? -1,
  }
}

function entries(def: ConfigDef, values: ConfigValue[]): ValidateResponse['configs'] {
  return values.map(v => ({definition: definitionOf(def.keys.get(v.name)!), value: {name: v.name, value: v.value, recommended_values: v.recommendedValues, errors: v.errors, visible: v.visible}}))
}

/** `prefix.*` of props with the prefix removed (AbstractConfig.originalsWithPrefix). */
function withPrefix(props: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(props).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]))
}

/**
 * The entries of one chain member (`transforms.<alias>.` / `predicates.<alias>.`): its type, its
 * plugin's own keys (prefixed, with their errors), for a transformation its `predicate` and
 * `negate`; cross-key checks of the plugin's configure() are reported on the type entry.
 */
function chainEntries(registry: PluginRegistry, props: Record<string, string>, prefix: string, kind: 'transformation' | 'predicate', group: string): ValidateResponse['configs'] {
  const alias = prefix.slice(prefix.indexOf('.') + 1, -1)
  const typeKey = prefix + 'type'
  const def = new ConfigDef().define({name: typeKey, type: 'CLASS', importance: 'HIGH', documentation: `Class for the '${alias}' ${kind}.`, group, orderInGroup: 0, width: 'LONG', displayName: `${kind === 'transformation' ? 'Transformation' : 'Predicate'} type for ${alias}`})
  if (kind === 'transformation') {
    def.define({name: prefix + 'predicate', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'The alias of a predicate used to determine whether to apply this transformation.', group, orderInGroup: 1, width: 'LONG', displayName: `Predicate for ${alias}`})
      .define({name: prefix + 'negate', type: 'BOOLEAN', defaultValue: 'false', importance: 'MEDIUM', documentation: 'Whether the configured predicate should be negated.', group, orderInGroup: 2, width: 'SHORT', displayName: `Negate for ${alias}`})
  }
  const out = entries(def, def.validate(props))
  const typeErrors = out[0]!.value.errors
  if (kind === 'transformation') {
    const p = props[prefix + 'predicate']?.trim()
    const n = props[prefix + 'negate']
    if (p !== undefined && p !== '' && !listValue(props.predicates).includes(p)) out[1]!.value.errors.push(`Invalid value ${p} for configuration ${prefix}predicate: Predicate alias ${p} was not found in 'predicates'`)
    if (n !== undefined && out[2]!.value.errors.length === 0 && (p === undefined || p === '')) out[2]!.value.errors.push(`Invalid value ${n} for configuration ${prefix}negate: negate can only be used with a predicate`)
  }
  const type = props[typeKey]
  if (type === undefined || type.trim() === '') return out
  const plugin = registry.find(type, [kind])
  if (!plugin) {
    typeErrors.push(`Invalid value ${type} for configuration ${typeKey}: Class ${type} could not be found.`)
    return out
  }
  const instance = plugin.create() as Transformation | Predicate
  const own = instance.config()
  const sub = withPrefix(props, prefix)
  const ownEntries = entries(own, own.validate(sub))
  for (const e of ownEntries) {
    const name = String(e.definition.name)
    e.definition.name = prefix + name
    e.definition.group = group
    e.value.name = prefix + name
    e.value.errors = e.value.errors.map(m => m.replaceAll(`configuration ${name}`, `configuration ${prefix + name}`))
    if (!out.some(x => x.value.name === e.value.name)) out.push(e)
  }
  if (ownEntries.every(e => e.value.errors.length === 0)) {
    try { instance.configure(sub) } catch (error) { typeErrors.push((error as Error).message) } finally { instance.close() }
  }
  return out
}

/** Splits a LIST config value as ConfigDef does. */
export function listValue(v: string | undefined): string[] {
  return v === undefined || v.trim() === '' ? [] : v.trim().split(/\s*,\s*/)
}

/**
 * config/validate: the common and type-specific keys, each chain member, then the connector's own
 * keys. Throws ConnectRestError for what Kafka answers with an error status (no connector class:
 * 400 on create; unknown class: 500).
 */
export function validateConnectorConfig(registry: PluginRegistry, props: Record<string, string>): {plugin: PluginDescriptor; response: ValidateResponse} {
  const className = props['connector.class']
  if (className === undefined) throw new ConnectRestError(400, `Connector config ${javaMap(props)} contains no connector type`)
  const plugin = registry.find(className, ['source', 'sink'])
  if (!plugin) throw new ConnectRestError(500, PluginRegistry.unknownConnector(className, registry))
  const groups = ['Common', 'Transforms', 'Predicates', 'Error Handling']
  let configs = entries(COMMON_CONFIG, COMMON_CONFIG.validate(props))
  if (plugin.type === 'sink') {
    const sink = entries(SINK_CONFIG, SINK_CONFIG.validate(props))
    const topics = listValue(props.topics)
    const regex = props['topics.regex'] ?? ''
    const byName = (n: string) => sink.find(e => e.value.name === n)!.value.errors
    if (topics.length > 0 && regex !== '') for (const n of ['topics', 'topics.regex']) byName(n).push('topics and topics.regex are mutually exclusive options, but both are set.')
    if (topics.length === 0 && regex === '') for (const n of ['topics', 'topics.regex']) byName(n).push('Must configure one of topics or topics.regex')
    if (regex !== '') { try { new RegExp(regex) } catch (error) { byName('topics.regex').push(`Invalid value ${regex} for configuration topics.regex: ${(error as Error).message}`) } }
    const dlq = (props['errors.deadletterqueue.topic.name'] ?? '').trim()
    if (dlq !== '' && topics.includes(dlq)) byName('topics').push(`The DLQ topic '${dlq}' may not be included in the list of topics ('topics=[${topics.join(', ')}]') consumed by the connector`)
    configs.splice(3, 0, ...sink)
  }
  for (const key of ['transforms', 'predicates']) {
    const list = listValue(props[key])
    if (list.some((a, i) => list.indexOf(a) !== i)) configs.find(c => c.value.name === key)!.value.errors.push(`Invalid value ${props[key]} for configuration ${key}: Duplicate alias provided.`)
  }
  for (const alias of listValue(props.transforms)) configs.push(...chainEntries(registry, props, `transforms.${alias}.`, 'transformation', `Transforms: ${alias}`))
  for (const alias of listValue(props.predicates)) configs.push(...chainEntries(registry, props, `predicates.${alias}.`, 'predicate', `Predicates: ${alias}`))
  const connector = plugin.create() as AnyConnector
  const own = connector.config()
  const ownValues = connector.validate ? connector.validate(props) : own.validate(props)
  const ownEntries = entries(own, ownValues.filter(v => own.keys.has(v.name)))
  for (const e of ownEntries) if (!configs.some(c => c.value.name === e.value.name)) configs.push(e)
  configs = configs.filter((c, i) => configs.findIndex(x => x.value.name === c.value.name) === i)
  for (const e of ownEntries) if (e.definition.group && !groups.includes(String(e.definition.group))) groups.push(String(e.definition.group))
  for (const c of configs) if (c.definition.group && !groups.includes(String(c.definition.group))) groups.push(String(c.definition.group))
  const error_count = configs.reduce((n, c) => n + c.value.errors.length, 0)
  return {plugin, response: {name: className, error_count, groups, configs}}
}

/** The 400 message create/update answers for an invalid config. */
export function invalidConfigMessage(response: ValidateResponse): string {
  const errors = response.configs.flatMap(c => c.value.errors)
  return `Connector configuration is invalid and contains the following ${errors.length} error(s):\n${errors.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``
}

/** Java's AbstractMap.toString, for messages that quote a config. */
export function javaMap(props: Record<string, string>): string {
  return '{' + Object.entries(props).map(([k, v]) => `${k}=${v}`).join(', ') + '}'
}

// --- the transformation chain ----------------------------------------------------------------------

export interface ChainLink {alias: string; transform: Transformation; predicate?: Predicate; negate: boolean; className: string}

/**
 * The chain of a connector config (Kafka's ConnectorConfig.transformationStages): `transforms`
 * lists aliases in order, each with `transforms.<alias>.type` (a transformation plugin) and its own
 * keys under `transforms.<alias>.`, optionally `transforms.<alias>.predicate` (an alias listed in
 * `predicates`, whose plugin is `predicates.<p>.type`) and `transforms.<alias>.negate`. The runtime
 * applies it link by link (tasks.ts, so that errors.tolerance sees each stage); apply() runs it whole.
 */
export class TransformationChain<R extends ConnectRecord = ConnectRecord> {
  constructor(readonly links: ChainLink[]) {}

  /** Throws a ConfigException for a class that is not there or a config its plugin rejects. */
  static build<R extends ConnectRecord = ConnectRecord>(registry: PluginRegistry, props: Record<string, string>): TransformationChain<R> {
    const predicates = new Map<string, Predicate>()
    const create = (kind: 'transformation' | 'predicate', prefix: string): {plugin: PluginDescriptor; instance: Transformation | Predicate} => {
      const type = props[prefix + 'type'] ?? ''
      const plugin = registry.find(type, [kind])
      if (!plugin) throw new ConfigException(`Invalid value ${type} for configuration ${prefix}type: Class ${type} could not be found.`)
      const instance = plugin.create() as Transformation | Predicate
      instance.configure(withPrefix(props, prefix))
      return {plugin, instance}
    }
    for (const alias of listValue(props.predicates)) predicates.set(alias, create('predicate', `predicates.${alias}.`).instance as Predicate)
    const links: ChainLink[] = []
    for (const alias of listValue(props.transforms)) {
      const prefix = `transforms.${alias}.`
      const {plugin, instance} = create('transformation', prefix)
      const predicateAlias = props[prefix + 'predicate']?.trim()
      const predicate = predicateAlias ? predicates.get(predicateAlias) : undefined
      if (predicateAlias && !predicate) throw new ConfigException(`Invalid value ${predicateAlias} for configuration ${prefix}predicate: Predicate alias ${predicateAlias} was not found in 'predicates'`)
      links.push({alias, className: plugin.className, negate: props[prefix + 'negate']?.trim().toLowerCase() === 'true', predicate, transform: instance as Transformation})
    }
    return new TransformationChain<R>(links)
  }

  get empty(): boolean { return this.links.length === 0 }

  /** One link: the record unchanged when its predicate says so, else the transformation's result. */
  static applyLink<R extends ConnectRecord>(link: ChainLink, record: R): R | null {
    if (link.predicate && link.predicate.test(record) === link.negate) return record
    return link.transform.apply(record) as R | null
  }

  /** The record after every link, or null once one drops it. */
  apply(record: R): R | null {
    let r: R | null = record
    for (const link of this.links) {
      r = TransformationChain.applyLink(link, r)
      if (r === null) return null
    }
    return r
  }

  close(): void {
    const seen = new Set<Predicate>()
    for (const l of this.links) {
      l.transform.close()
      if (l.predicate && !seen.has(l.predicate)) { seen.add(l.predicate); l.predicate.close() }
    }
  }
}
