/**
 * The connector API (org.apache.kafka.connect.connector / source / sink) in TypeScript: connectors
 * split their config into task configs (taskConfigs(maxTasks)); source tasks poll() records carrying
 * a source partition and source offset (plain JSON maps, as Kafka's), commit() once their records
 * are acknowledged; sink tasks put() records and flush() before their consumer offsets are
 * committed. Config definitions (ConfigDef) validate a connector's config into the per-field
 * results Kafka Connect's config/validate endpoint lists.
 */
import type {Schema} from './data.js'

export type OffsetMap = Record<string, string | number | boolean | null>

/**
 * A record header as the runtime carries it: the bytes of the Kafka record header. Transforms
 * that make headers from Connect data (HeaderFrom) convert with converters.ts headerBytes()
 * (SimpleHeaderConverter's string form).
 */
export interface ConnectHeader {key: string; value: Buffer | null}

export interface SourceRecord {
  sourcePartition: OffsetMap
  sourceOffset: OffsetMap
  topic: string
  partition?: number | null
  keySchema?: Schema | null
  key?: unknown
  valueSchema: Schema | null
  value: unknown
  timestamp?: number | null
  headers?: ConnectHeader[]
}

export interface SinkRecord {
  topic: string
  kafkaPartition: number
  kafkaOffset: number
  keySchema: Schema | null
  key: unknown
  valueSchema: Schema | null
  value: unknown
  timestamp: number | null
  headers?: ConnectHeader[]
}

/** What transformations and predicates see: a source record on its way out, or a sink record on its way in. */
export type ConnectRecord = SourceRecord | SinkRecord

/** What a task may ask of the runtime: the offsets committed for its source partitions. */
export interface SourceTaskContext {
  offsetStorageReader: {offset(partition: OffsetMap): OffsetMap | null}
}

export interface Task {
  version(): string
  start(props: Record<string, string>): void | Promise<void>
  stop(): void | Promise<void>
}

export interface SourceTask extends Task {
  initialize(context: SourceTaskContext): void
  /** Records, or null/[] when none are available now; may wait briefly, must return once stop() is called. */
  poll(): Promise<SourceRecord[] | null>
  /** Called after the offsets of everything polled so far were flushed (optional). */
  commit?(): void | Promise<void>
  /**
   * SourceTask.commitRecord: called once per record after the producer acknowledged it (metadata:
   * where it was written) or after a transform dropped it (metadata null). Optional; the mirror
   * source task needs it for its offset syncs.
   */
  commitRecord?(record: SourceRecord, metadata: {topic: string; partition: number; offset: bigint} | null): void | Promise<void>
}

/** What a sink task may ask of the runtime (Kafka's SinkTaskContext, the part used here). */
export interface SinkTaskContext {
  /** Rewind or skip: consumption of topic-partition resumes at `offset` (call from open() or put()). */
  offset(topic: string, partition: number, offset: number): void
  /** The partitions assigned to the task. */
  assignment(): Array<{topic: string; partition: number}>
}

export interface SinkTask extends Task {
  initialize?(context: SinkTaskContext): void
  /** The partitions just assigned (before records of them are put); the task may seek them through its context. */
  open?(partitions: Array<{topic: string; partition: number}>): void | Promise<void>
  put(records: SinkRecord[]): void | Promise<void>
  /**
   * Make everything put so far durable; the runtime commits the consumer offsets after it returns.
   * `currentOffsets`: key `topic:partition` (':' is not legal in topic names) -> the next offset to
   * consume, i.e. the offset after the last record put.
   */
  flush(currentOffsets: Map<string, number>): void | Promise<void>
}

// --- Single Message Transforms -------------------------------------------------------------------

/**
 * org.apache.kafka.connect.transforms.Transformation: configured with the connector's
 * `transforms.<alias>.*` properties (prefix removed, `type` included), applied in the order of
 * `transforms`; returning null drops the record. The runtime applies a chain to every source
 * record after poll() (before conversion) and to every sink record after conversion (before put()).
 */
export interface Transformation<R extends ConnectRecord = ConnectRecord> {
  configure(props: Record<string, string>): void
  apply(record: R): R | null
  config(): ConfigDef
  close(): void
}

/** org.apache.kafka.connect.transforms.predicates.Predicate: `predicates.<alias>.*`, used by `transforms.<t>.predicate` (+ `.negate`). */
export interface Predicate<R extends ConnectRecord = ConnectRecord> {
  configure(props: Record<string, string>): void
  test(record: R): boolean
  config(): ConfigDef
  close(): void
}

/**
 * A plugin as the worker knows it: what `connector.class`, `transforms.<t>.type`,
 * `predicates.<p>.type` or a converter config names. `className` is the full (Kafka) class name;
 * the simple name (after the last '.') and `aliases` resolve to it too. A plugin package under
 * `plugin.path` exports `plugins: PluginDescriptor[]` (as does src/lib/connect/transforms.ts).
 */
export type PluginDescriptor =
  | {type: 'source'; className: string; version: string; aliases?: string[]; create(): SourceConnector}
  | {type: 'sink'; className: string; version: string; aliases?: string[]; create(): SinkConnector}
  | {type: 'transformation'; className: string; version: string; aliases?: string[]; create(): Transformation}
  | {type: 'predicate'; className: string; version: string; aliases?: string[]; create(): Predicate}

export interface Connector {
  version(): string
  config(): ConfigDef
  start(props: Record<string, string>): void | Promise<void>
  taskConfigs(maxTasks: number): Array<Record<string, string>>
  stop(): void | Promise<void>
  /** Connector.validate: by default config().validate(props). */
  validate?(props: Record<string, string>): ConfigValue[]
}

export interface SourceConnector extends Connector {type: 'source'; createTask(): SourceTask}
export interface SinkConnector extends Connector {type: 'sink'; createTask(): SinkTask}
export type AnyConnector = SourceConnector | SinkConnector

// --- ConfigDef ---------------------------------------------------------------------------------

export type ConfigType = 'STRING' | 'INT' | 'SHORT' | 'LONG' | 'DOUBLE' | 'BOOLEAN' | 'LIST' | 'CLASS' | 'PASSWORD'
export type Importance = 'HIGH' | 'MEDIUM' | 'LOW'
/** A key without default (required). Symbol.for so that plugin packages, which cannot import this module, can use it too. */
export const NO_DEFAULT = Symbol.for('kcli.connect.NO_DEFAULT')

export interface ConfigKey {
  name: string
  type: ConfigType
  defaultValue: string | typeof NO_DEFAULT | null
  importance: Importance
  documentation: string
  group?: string | null
  orderInGroup?: number
  width?: 'NONE' | 'SHORT' | 'MEDIUM' | 'LONG'
  displayName?: string
  dependents?: string[]
  /** Returns an error message for a parsed value, or null when valid (Kafka's Validator). */
  validator?: (name: string, value: unknown) => string | null
}

/** One entry of a config/validate response's "configs": {definition, value}. */
export interface ConfigValue {name: string; value: string | null; recommendedValues: string[]; errors: string[]; visible: boolean}

export class ConfigException extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigException'
  }
}

export class ConfigDef {
  readonly keys = new Map<string, ConfigKey>()

  define(key: Omit<ConfigKey, 'defaultValue'> & {defaultValue?: string | null | typeof NO_DEFAULT}): this {
    if (this.keys.has(key.name)) throw new ConfigException(`Configuration ${key.name} is defined twice.`)
    this.keys.set(key.name, {defaultValue: NO_DEFAULT, group: null, orderInGroup: -1, width: 'NONE', displayName: key.name, dependents: [], ...key})
    return this
  }

  /** ConfigDef.parseType: a string value -> the typed value, or a ConfigException with Kafka's message. */
  static parseType(name: string, value: string, type: ConfigType): unknown {
    const t = value.trim()
    const bad = (expected: string): never => { throw new ConfigException(`Invalid value ${value} for configuration ${name}: ${expected}`) }
    switch (type) {
      case 'BOOLEAN': if (!/^(true|false)$/i.test(t)) bad('Expected value to be either true or false'); return t.toLowerCase() === 'true'
      case 'INT': case 'SHORT': {
        if (!/^[-+]?\d+$/.test(t)) bad('Not a number of type ' + type)
        const n = Number(t)
        const [lo, hi] = type === 'INT' ? [-2147483648, 2147483647] : [-32768, 32767]
        if (n < lo || n > hi) bad('Not a number of type ' + type)
        return n
      }
      case 'LONG': if (!/^[-+]?\d+$/.test(t)) bad('Not a number of type LONG'); return Number(t)
      case 'DOUBLE': if (t === '' || Number.isNaN(Number(t))) bad('Not a number of type DOUBLE'); return Number(t)
      case 'LIST': return t === '' ? [] : t.split(/\s*,\s*/)
      case 'STRING': case 'PASSWORD': return t
      case 'CLASS': return t
    }
  }

  /** ConfigDef.validate: every defined key, with its value and its errors (missing, unparsable, invalid). */
  validate(props: Record<string, string>): ConfigValue[] {
    const out: ConfigValue[] = []
    for (const key of this.keys.values()) {
      const raw = props[key.name]
      const cv: ConfigValue = {name: key.name, value: raw ?? (key.defaultValue === NO_DEFAULT ? null : key.defaultValue), recommendedValues: [], errors: [], visible: true}
      if (raw === undefined && key.defaultValue === NO_DEFAULT) {
        cv.errors.push(`Missing required configuration "${key.name}" which has no default value.`)
      } else if (cv.value !== null) {
        try {
          const parsed = ConfigDef.parseType(key.name, cv.value, key.type)
          const err = key.validator?.(key.name, parsed)
          if (err) cv.errors.push(err)
        } catch (error) {
          cv.errors.push((error as Error).message)
        }
      }
      out.push(cv)
    }
    return out
  }

  /** Parsed values of a valid config; throws the first error otherwise. */
  parse(props: Record<string, string>): Record<string, unknown> {
    const result: Record<string, unknown> = {}
    for (const cv of this.validate(props)) {
      if (cv.errors.length > 0) throw new ConfigException(cv.errors[0])
      const key = this.keys.get(cv.name)!
      result[cv.name] = cv.value === null ? null : ConfigDef.parseType(cv.name, cv.value, key.type)
    }
    return result
  }
}

/** ConfigDef.Range.atLeast. */
export const atLeast = (min: number) => (name: string, value: unknown): string | null =>
  typeof value === 'number' && value < min ? `Invalid value ${value} for configuration ${name}: Value must be at least ${min}` : null

/** ConfigDef.NonEmptyString. */
export const nonEmptyString = (name: string, value: unknown): string | null =>
  typeof value === 'string' && value.length === 0 ? `Invalid value  for configuration ${name}: String must be non-empty` : null

/** org.apache.kafka.connect.errors.ConnectException: what connectors, tasks and the runtime throw for a failure with its reason. */
export class ConnectException extends Error {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'ConnectException'
  }
}

/** org.apache.kafka.connect.errors.RetriableException: the runtime retries the operation within errors.retry.timeout. */
export class RetriableException extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RetriableException'
  }
}
