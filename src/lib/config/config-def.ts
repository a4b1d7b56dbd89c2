/**
 * Typed config definitions in the manner of Kafka's ConfigDef: every config has Kafka's name, a
 * type, a default (as Kafka prints it) and a validator. Values travel as strings, as they do on
 * the wire (CreateTopics, AlterConfigs, DescribeConfigs) and in server.properties; `parse`
 * checks one and returns it typed.
 */

export type ConfigType = 'boolean' | 'int' | 'long' | 'double' | 'string' | 'list' | 'password' | 'class'

/** ConfigResource types as DescribeConfigs numbers them (Kafka's ConfigResource.Type). */
export const ConfigResourceType = {Unknown: 0, Topic: 2, Broker: 4, BrokerLogger: 8, ClientMetrics: 16, Group: 32} as const

export interface ConfigDefinition {
  name: string
  type: ConfigType
  /** The default as Kafka prints it; null when there is none (Kafka prints "null"). */
  default: string | null
  doc: string
  /** Range for numbers (inclusive). */
  min?: number
  max?: number
  /** Allowed values for strings; for lists, allowed elements (Kafka's ValidString / ValidList: an empty list is valid). */
  validValues?: readonly string[]
  /** For lists: Kafka's validator of the whole list, when it is not ValidList; throws ConfigError. */
  validateList?: (name: string, items: readonly string[]) => void
  /** For topic configs: the broker config that supplies the default (DEFAULT_CONFIG synonym). */
  brokerSynonym?: string
  sensitive?: boolean
  readOnly?: boolean
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'

  constructor(readonly key: string, readonly value: string | null, readonly reason: string) {
    super(`Invalid value ${JSON.stringify(value)} for configuration ${key}: ${reason}`)
  }

  /** The message as Kafka's ConfigException words it (the value unquoted), which Kafka's clients show. */
  get kafkaMessage(): string {
    return `Invalid value ${this.value} for configuration ${this.key}: ${this.reason}`
  }
}

const INT_MIN = -2147483648
const INT_MAX = 2147483647
/** Kafka's Long.MAX_VALUE, the usual "never" for time and count limits. */
export const LONG_MAX = '9223372036854775807'

export type ConfigValue = boolean | number | string | string[] | null

/** Checks a value against its definition; returns it typed (longs as numbers; Long.MAX_VALUE is Infinity). */
export function parseConfigValue(def: ConfigDefinition, value: string | null): ConfigValue {
  const fail = (reason: string, shown = value): never => {
    throw new ConfigError(def.name, shown, reason)
  }
  if (value === null) {
    if (def.default !== null) fail('must not be null')
    return null
  }
  const trimmed = value.trim()
  switch (def.type) {
    case 'boolean':
      if (!/^(true|false)$/i.test(trimmed)) fail('Expected value to be either true or false')
      return trimmed.toLowerCase() === 'true'
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(trimmed)) fail(`Not a number of type ${def.type.toUpperCase()}`)
      const big = BigInt(trimmed)
      const [lo, hi] = def.type === 'int' ? [BigInt(INT_MIN), BigInt(INT_MAX)] : [-(2n ** 63n), 2n ** 63n - 1n]
      if (big < lo || big > hi) fail(`Not a number of type ${def.type.toUpperCase()}`)
      const n = trimmed === LONG_MAX ? Infinity : Number(big)
      if (def.min !== undefined && n < def.min) fail(`Value must be at least ${def.min}`)
      if (def.max !== undefined && n > def.max) fail(`Value must be no more than ${def.max}`)
      return n
    }
    case 'double': {
      const n = Number(trimmed)
      if (trimmed === '' || !Number.isFinite(n)) fail('Not a number of type DOUBLE')
      if (def.min !== undefined && n < def.min) fail(`Value must be at least ${def.min}`)
      if (def.max !== undefined && n > def.max) fail(`Value must be no more than ${def.max}`)
      return n
    }
    case 'list': {
      // Kafka's ConfigDef: a blank value is the empty list; otherwise every comma separates two
      // items, so "a,,b" and "a," hold an empty item.
      const items = trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim())
      if (def.validValues) {
        // ValidList names the offending item, not the whole value.
        for (const item of items) if (!def.validValues.includes(item)) fail(`String must be one of: ${def.validValues.join(', ')}`, item)
      }
      def.validateList?.(def.name, items)
      return items
    }
    default:
      if (def.validValues && !def.validValues.includes(trimmed)) fail(`String must be one of: ${def.validValues.join(', ')}`)
      return trimmed
  }
}

/** A set of definitions by name, with validation of whole config maps. */
export class ConfigDefs {
  private readonly byName: ReadonlyMap<string, ConfigDefinition>

  constructor(readonly definitions: readonly ConfigDefinition[]) {
    this.byName = new Map(definitions.map((d) => [d.name, d]))
  }

  get(name: string): ConfigDefinition | undefined {
    return this.byName.get(name)
  }

  has(name: string): boolean {
    return this.byName.has(name)
  }

  /** Validates `configs` (unknown names are an error); throws ConfigError naming the key. */
  validate(configs: Readonly<Record<string, string | null>>): void {
    for (const [key, value] of Object.entries(configs)) {
      const def = this.byName.get(key)
      if (!def) throw new ConfigError(key, value, 'Unknown configuration')
      parseConfigValue(def, value)
    }
  }
}
