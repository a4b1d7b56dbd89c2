/**
 * Single Message Transforms and predicates (org.apache.kafka.connect.transforms), with Kafka's
 * class names, config keys, validation and DataException messages: InsertField, ReplaceField,
 * MaskField, ValueToKey, ExtractField, HoistField, Cast, TimestampConverter (each `$Key`/`$Value`
 * where Kafka has both), RegexRouter, TimestampRouter, Filter, HeaderFrom, DropHeaders; predicates
 * TopicNameMatches, HasHeaderKey, RecordIsTombstone. They are exported as `plugins`; chains are
 * built from a connector config by connector-config.ts's TransformationChain.
 *
 * Records: api.ts's ConnectRecord, a SourceRecord (`partition`, source partition/offset) or a
 * SinkRecord (`kafkaPartition`, `kafkaOffset`); a transform returns a copy with its changes and
 * every other property kept (Kafka's `record.newRecord(...)`), or null to drop the record. Headers
 * are bytes; HeaderFrom converts field values with converters.ts headerBytes(). Schemaless values are Maps (what
 * JsonConverter with schemas.enable=false gives); plain objects are read as well.
 *
 * Logical types: data.ts has none, so values of Kafka's Timestamp/Date/Time schemas are their
 * encoded numbers (epoch ms; days since epoch; ms of the day) — what JsonConverter writes for them.
 * Schemaless timestamps are JS Dates (Kafka: java.util.Date). Date patterns are SimpleDateFormat's
 * in UTC, the letters y M d H m s S Z X and quoted text (others are a ConfigException). ExtractField's
 * `field.syntax.version=V2` paths split on dots (no backtick quoting of names containing dots).
 */
import {ConfigDef, ConfigException, ConnectException, type ConnectRecord, nonEmptyString, type PluginDescriptor, type Predicate, type Transformation} from './api.js'
import {headerBytes} from './converters.js'
import {DataException, type Field, type Schema, type SchemaType, Struct} from './data.js'

const PKG = 'org.apache.kafka.connect.transforms.'
const VERSION = '4.0.0'
export const TIMESTAMP_SCHEMA_NAME = 'org.apache.kafka.connect.data.Timestamp'
export const DATE_SCHEMA_NAME = 'org.apache.kafka.connect.data.Date'
export const TIME_SCHEMA_NAME = 'org.apache.kafka.connect.data.Time'
const MS_PER_DAY = 86_400_000

// --- helpers -----------------------------------------------------------------------------------

type Side = 'Key' | 'Value'

function schemaOf(r: ConnectRecord, side: Side): Schema | null { return (side === 'Key' ? r.keySchema : r.valueSchema) ?? null }
function valueOf(r: ConnectRecord, side: Side): unknown { return (side === 'Key' ? r.key : r.value) ?? null }
function withSide<R extends ConnectRecord>(r: R, side: Side, schema: Schema | null, value: unknown): R {
  return side === 'Key' ? {...r, keySchema: schema, key: value} : {...r, valueSchema: schema, value}
}

function javaClassName(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'string') return 'java.lang.String'
  if (typeof v === 'boolean') return 'java.lang.Boolean'
  if (typeof v === 'number') return Number.isInteger(v) ? 'java.lang.Long' : 'java.lang.Double'
  if (typeof v === 'bigint') return 'java.lang.Long'
  if (v instanceof Uint8Array) return '[B'
  if (v instanceof Map) return 'java.util.HashMap'
  if (Array.isArray(v)) return 'java.util.ArrayList'
  if (v instanceof Date) return 'java.util.Date'
  if (v instanceof Struct) return 'org.apache.kafka.connect.data.Struct'
  return 'java.util.HashMap'
}

/** Requirements.requireStruct / requireStructOrNull. */
function requireStruct(v: unknown, purpose: string): Struct {
  if (!(v instanceof Struct)) throw new DataException(`Only Struct objects supported for [${purpose}], found: ${javaClassName(v)}`)
  return v
}

/** Requirements.requireMap / requireMapOrNull: schemaless values are Maps (plain objects are read as maps). */
function requireMap(v: unknown, purpose: string): Map<string, unknown> {
  if (v instanceof Map) return v as Map<string, unknown>
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Struct) && !(v instanceof Date))
    return new Map(Object.entries(v))
  throw new DataException(`Only Map objects supported in absence of schema for [${purpose}], found: ${javaClassName(v)}`)
}

/** Requirements.requireSinkRecord: the Kafka offset of a sink record. */
function requireSinkRecord(r: ConnectRecord, purpose: string): number {
  if (!('kafkaOffset' in r)) throw new DataException(`Only SinkRecord supported for [${purpose}], found: org.apache.kafka.connect.source.SourceRecord`)
  return r.kafkaOffset
}

/** SinkRecord's kafkaPartition / SourceRecord's partition. */
function partitionOf(r: ConnectRecord): number | null {
  return 'kafkaPartition' in r ? r.kafkaPartition : r.partition ?? null
}

function fieldValue(st: Struct, name: string, replaceNullWithDefault: boolean): unknown {
  const v = st.get(name)
  if ((v === null || v === undefined) && replaceNullWithDefault) return st.field(name).schema.defaultValue ?? null
  return v ?? null
}

function buildStruct(schema: Schema, values: Map<string, unknown>): Struct {
  const st = new Struct(schema)
  for (const f of schema.fields ?? []) if (values.has(f.name)) st.put(f.name, values.get(f.name))
  return st
}

function struct(fields: Array<[string, Schema]>, like: Schema): Schema {
  const s: Schema = {type: 'struct', optional: like.optional, fields: fields.map(([name, schema], index): Field => ({name, index, schema}))}
  if (like.name !== undefined) s.name = like.name
  if (like.version !== undefined) s.version = like.version
  if (like.doc !== undefined) s.doc = like.doc
  return s
}

/** A cache of derived schemas per input schema (Kafka's SynchronizedCache of an LRUCache). */
class SchemaCache {
  private cache = new WeakMap<Schema, Schema>()
  get(s: Schema, make: () => Schema): Schema {
    let out = this.cache.get(s)
    if (!out) { out = make(); this.cache.set(s, out) }
    return out
  }
}

const REPLACE_NULL = {name: 'replace.null.with.default', type: 'BOOLEAN', defaultValue: 'true', importance: 'MEDIUM', documentation: 'Whether to replace fields that have a default value and that are null to the default value.'} as const
const nonEmptyList = (name: string, value: unknown): string | null =>
  Array.isArray(value) && value.length === 0 ? `Invalid value [] for configuration ${name}: Empty list` : null

function oneOf(values: string[], caseInsensitive = false) {
  return (name: string, value: unknown): string | null => {
    const ok = caseInsensitive ? values.some(v => v.toLowerCase() === String(value).toLowerCase()) : values.includes(String(value))
    return ok ? null : `Invalid value ${String(value)} for configuration ${name}: String must be one of${caseInsensitive ? ' (case insensitive)' : ''}: ${values.join(', ')}`
  }
}

const validRegex = (name: string, value: unknown): string | null => {
  try { javaRegex(String(value)); return null } catch (error) {
    return `Invalid value ${String(value)} for configuration ${name}: ${(error as Error).message}`
  }
}

/** A Java regex for Matcher.matches() (the whole string). */
function javaRegex(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'su')
}

/** Matcher.replaceFirst's replacement ($1, ${name}, \$) -> String.replace's. */
function javaReplacement(r: string): string {
  return r.replace(/\\\$|\$\{(\w+)\}|\$/g, m => m === '\\$' ? '$$' : m.startsWith('${') ? `$<${m.slice(2, -1)}>` : '$')
}

abstract class BaseTransformation implements Transformation {
  protected abstract readonly def: ConfigDef
  protected cfg: Record<string, unknown> = {}
  config(): ConfigDef { return this.def }
  configure(props: Record<string, string>): void {
    this.cfg = this.def.parse(props)
    this.init()
  }

  protected init(): void {}
  abstract apply<R extends ConnectRecord>(record: R): R | null
  close(): void {}
}

// --- InsertField -------------------------------------------------------------------------------

const INSERT_FIELD_CONFIG = new ConfigDef()
  .define({name: 'topic.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for Kafka topic. Suffix with ! to make this a required field, or ? to keep it optional (the default).'})
  .define({name: 'partition.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for Kafka partition. Suffix with ! to make this a required field, or ? to keep it optional (the default).'})
  .define({name: 'offset.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for Kafka offset - only applicable to sink connectors.'})
  .define({name: 'timestamp.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for record timestamp. Suffix with ! to make this a required field, or ? to keep it optional (the default).'})
  .define({name: 'static.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for static data field. Suffix with ! to make this a required field, or ? to keep it optional (the default).'})
  .define({name: 'static.value', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Static field value, if field name configured.'})
  .define(REPLACE_NULL)

interface InsertionSpec {name: string; optional: boolean}
function insertionSpec(spec: unknown): InsertionSpec | null {
  if (spec === null || spec === undefined || spec === '') return null
  const s = String(spec)
  if (s.endsWith('?')) return {name: s.slice(0, -1), optional: true}
  if (s.endsWith('!')) return {name: s.slice(0, -1), optional: false}
  return {name: s, optional: true}
}

class InsertField extends BaseTransformation {
  protected readonly def = INSERT_FIELD_CONFIG
  private topic: InsertionSpec | null = null
  private partition: InsertionSpec | null = null
  private offset: InsertionSpec | null = null
  private timestamp: InsertionSpec | null = null
  private staticField: InsertionSpec | null = null
  private staticValue: string | null = null
  private cache = new SchemaCache()
  constructor(private readonly side: Side) { super() }

  protected override init(): void {
    this.topic = insertionSpec(this.cfg['topic.field'])
    this.partition = insertionSpec(this.cfg['partition.field'])
    this.offset = insertionSpec(this.cfg['offset.field'])
    this.timestamp = insertionSpec(this.cfg['timestamp.field'])
    this.staticField = insertionSpec(this.cfg['static.field'])
    this.staticValue = this.cfg['static.value'] as string | null
    if (this.topic === null && this.partition === null && this.offset === null && this.timestamp === null && this.staticField === null)
      throw new ConfigException('No field insertion configured')
    if (this.staticField !== null && this.staticValue === null)
      throw new ConfigException(`Invalid value null for configuration static.value: No value specified for static field: ${this.staticField.name}`)
  }

  private inserts(r: ConnectRecord): Array<[InsertionSpec, Schema, unknown]> {
    const out: Array<[InsertionSpec, Schema, unknown]> = []
    const opt = (s: InsertionSpec, type: SchemaType, name?: string): Schema => ({type, optional: s.optional, ...(name ? {name, version: 1} : {})})
    if (this.topic) out.push([this.topic, opt(this.topic, 'string'), r.topic])
    if (this.partition) out.push([this.partition, opt(this.partition, 'int32'), partitionOf(r)])
    if (this.offset) out.push([this.offset, opt(this.offset, 'int64'), requireSinkRecord(r, 'field insertion')])
    if (this.timestamp) out.push([this.timestamp, opt(this.timestamp, 'int64', TIMESTAMP_SCHEMA_NAME), r.timestamp ?? null])
    if (this.staticField) out.push([this.staticField, opt(this.staticField, 'string'), this.staticValue])
    return out
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = valueOf(r, this.side)
    if (value === null) return r // a tombstone passes unchanged
    const schema = schemaOf(r, this.side)
    const inserts = this.inserts(r)
    if (schema === null) {
      const m = new Map(requireMap(value, 'field insertion'))
      for (const [spec, , v] of inserts) m.set(spec.name, spec === this.timestamp && typeof v === 'number' ? new Date(v) : v)
      return withSide(r, this.side, null, m)
    }
    const st = requireStruct(value, 'field insertion')
    const updated = this.cache.get(st.schema, () => struct([...(st.schema.fields ?? []).map((f): [string, Schema] => [f.name, f.schema]), ...inserts.map(([spec, s]): [string, Schema] => [spec.name, s])], st.schema))
    const values = new Map<string, unknown>()
    for (const f of st.schema.fields ?? []) values.set(f.name, fieldValue(st, f.name, this.cfg['replace.null.with.default'] as boolean))
    for (const [spec, , v] of inserts) values.set(spec.name, v)
    return withSide(r, this.side, updated, buildStruct(updated, values))
  }
}

// --- ReplaceField ------------------------------------------------------------------------------

const renamesValidator = (name: string, value: unknown): string | null => {
  for (const m of value as string[]) if (m.split(':').length !== 2) return `Invalid value ${(value as string[]).join(',')} for configuration ${name}: Invalid rename mapping: ${m}`
  return null
}

const REPLACE_FIELD_CONFIG = new ConfigDef()
  .define({name: 'exclude', type: 'LIST', defaultValue: '', importance: 'MEDIUM', documentation: 'Fields to exclude. This takes precedence over the fields to include.'})
  .define({name: 'include', type: 'LIST', defaultValue: '', importance: 'MEDIUM', documentation: 'Fields to include. If specified, only these fields will be used.'})
  .define({name: 'renames', type: 'LIST', defaultValue: '', importance: 'MEDIUM', documentation: 'Field rename mappings.', validator: renamesValidator})
  .define(REPLACE_NULL)

class ReplaceField extends BaseTransformation {
  protected readonly def = REPLACE_FIELD_CONFIG
  private exclude = new Set<string>()
  private include = new Set<string>()
  private renames = new Map<string, string>()
  private cache = new SchemaCache()
  constructor(private readonly side: Side) { super() }

  protected override init(): void {
    this.exclude = new Set(this.cfg.exclude as string[])
    this.include = new Set(this.cfg.include as string[])
    this.renames = new Map((this.cfg.renames as string[]).map(m => m.split(':') as [string, string]))
  }

  private keep(name: string): boolean { return !this.exclude.has(name) && (this.include.size === 0 || this.include.has(name)) }
  private renamed(name: string): string { return this.renames.get(name) ?? name }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = valueOf(r, this.side)
    if (value === null) return r
    const schema = schemaOf(r, this.side)
    if (schema === null) {
      const out = new Map<string, unknown>()
      for (const [k, v] of requireMap(value, 'field replacement')) if (this.keep(k)) out.set(this.renamed(k), v)
      return withSide(r, this.side, null, out)
    }
    const st = requireStruct(value, 'field replacement')
    const kept = (st.schema.fields ?? []).filter(f => this.keep(f.name))
    const updated = this.cache.get(st.schema, () => struct(kept.map((f): [string, Schema] => [this.renamed(f.name), f.schema]), st.schema))
    const values = new Map<string, unknown>()
    for (const f of kept) values.set(this.renamed(f.name), fieldValue(st, f.name, this.cfg['replace.null.with.default'] as boolean))
    return withSide(r, this.side, updated, buildStruct(updated, values))
  }
}

// --- MaskField ---------------------------------------------------------------------------------

const MASK_FIELD_CONFIG = new ConfigDef()
  .define({name: 'fields', type: 'LIST', importance: 'HIGH', documentation: 'Names of fields to mask.', validator: nonEmptyList})
  .define({name: 'replacement', type: 'STRING', defaultValue: null, importance: 'LOW', documentation: 'Custom value replacement, that will be applied to all \'fields\' values (numeric or non-empty string values only).', validator: (name, v) => v === '' ? `Invalid value  for configuration ${name}: String must be non-empty` : null})
  .define(REPLACE_NULL)

const NUMERIC: ReadonlySet<string> = new Set(['int8', 'int16', 'int32', 'int64', 'float32', 'float64'])

class MaskField extends BaseTransformation {
  protected readonly def = MASK_FIELD_CONFIG
  private fields = new Set<string>()
  constructor(private readonly side: Side) { super() }
  protected override init(): void { this.fields = new Set(this.cfg.fields as string[]) }

  private masked(v: unknown, type: SchemaType | null): unknown {
    if (v === null || v === undefined) return null
    const replacement = this.cfg.replacement as string | null
    const t = type ?? (typeof v === 'number' ? (Number.isInteger(v) ? 'int64' : 'float64') : typeof v === 'bigint' ? 'int64' : typeof v === 'boolean' ? 'boolean' : typeof v === 'string' ? 'string' : v instanceof Map ? 'map' : Array.isArray(v) ? 'array' : v instanceof Uint8Array ? 'bytes' : 'struct')
    if (replacement === null) {
      if (NUMERIC.has(t)) return 0
      switch (t) {
        case 'boolean': return false
        case 'string': return ''
        case 'map': return new Map()
        case 'array': return []
        case 'bytes': return new Uint8Array(0)
        default: throw new DataException(`Cannot mask value of type: ${javaClassName(v)}`)
      }
    }
    if (NUMERIC.has(t)) {
      const n = Number(replacement)
      if (replacement.trim() === '' || Number.isNaN(n) || (!t.startsWith('float') && !Number.isInteger(n)))
        throw new DataException(`Unable to convert ${replacement} (String) to number`)
      return n
    }
    if (t === 'string') return replacement
    throw new DataException(`Cannot mask value of type ${javaClassName(v)} with custom replacement.`)
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = valueOf(r, this.side)
    if (value === null) return r
    const schema = schemaOf(r, this.side)
    if (schema === null) {
      const out = new Map(requireMap(value, 'masking fields'))
      for (const f of this.fields) if (out.has(f)) out.set(f, this.masked(out.get(f), null))
      return withSide(r, this.side, null, out)
    }
    const st = requireStruct(value, 'masking fields')
    const values = new Map<string, unknown>()
    for (const f of st.schema.fields ?? []) {
      const v = fieldValue(st, f.name, this.cfg['replace.null.with.default'] as boolean)
      values.set(f.name, this.fields.has(f.name) ? this.masked(v, f.schema.type) : v)
    }
    return withSide(r, this.side, schema, buildStruct(st.schema, values))
  }
}

// --- ValueToKey --------------------------------------------------------------------------------

const VALUE_TO_KEY_CONFIG = new ConfigDef()
  .define({name: 'fields', type: 'LIST', importance: 'HIGH', documentation: 'Field names on the record value to extract as the record key.', validator: nonEmptyList})
  .define(REPLACE_NULL)

class ValueToKey extends BaseTransformation {
  protected readonly def = VALUE_TO_KEY_CONFIG
  private cache = new SchemaCache()
  apply<R extends ConnectRecord>(r: R): R | null {
    const fields = this.cfg.fields as string[]
    if ((r.valueSchema ?? null) === null) {
      const m = requireMap(r.value ?? null, 'copying fields from value to key')
      return {...r, keySchema: null, key: new Map(fields.map(f => [f, m.get(f) ?? null]))}
    }
    const st = requireStruct(r.value, 'copying fields from value to key')
    const keySchema = this.cache.get(st.schema, () => ({type: 'struct', optional: false, fields: fields.map((name, index) => {
      const f = st.schema.fields?.find(x => x.name === name)
      if (!f) throw new DataException(`Field does not exist: ${name}`)
      return {name, index, schema: f.schema}
    })}))
    const values = new Map(fields.map(f => [f, fieldValue(st, f, this.cfg['replace.null.with.default'] as boolean)]))
    return {...r, keySchema, key: buildStruct(keySchema, values)}
  }
}

// --- ExtractField / HoistField -----------------------------------------------------------------

const EXTRACT_FIELD_CONFIG = new ConfigDef()
  .define({name: 'field', type: 'STRING', importance: 'MEDIUM', documentation: 'Field name to extract.', validator: nonEmptyString})
  .define({name: 'field.syntax.version', type: 'STRING', defaultValue: 'V1', importance: 'HIGH', documentation: 'Defines the version of the syntax to access fields (V1: a top-level name; V2: nested fields with dots).', validator: oneOf(['V1', 'V2'], true)})
  .define(REPLACE_NULL)

class ExtractField extends BaseTransformation {
  protected readonly def = EXTRACT_FIELD_CONFIG
  constructor(private readonly side: Side) { super() }

  private path(): string[] {
    const f = this.cfg.field as string
    return String(this.cfg['field.syntax.version']).toUpperCase() === 'V2' ? f.split('.') : [f]
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const schema = schemaOf(r, this.side)
    let value = valueOf(r, this.side)
    const path = this.path()
    if (schema === null) {
      if (value === null) return withSide(r, this.side, null, null)
      for (const p of path) { if (value === null) break; value = requireMap(value, 'field extraction').get(p) ?? null }
      return withSide(r, this.side, null, value)
    }
    let s: Schema = schema
    for (const p of path) {
      const f = s.fields?.find(x => x.name === p)
      if (s.type !== 'struct' || !f) throw new DataException(`Unknown field: ${this.cfg.field as string}`)
      if (value !== null) value = fieldValue(requireStruct(value, 'field extraction'), p, this.cfg['replace.null.with.default'] as boolean)
      s = f.schema
    }
    return withSide(r, this.side, s, value)
  }
}

const HOIST_FIELD_CONFIG = new ConfigDef()
  .define({name: 'field', type: 'STRING', importance: 'MEDIUM', documentation: 'Field name for the single field that will be created in the resulting Struct or Map.'})

class HoistField extends BaseTransformation {
  protected readonly def = HOIST_FIELD_CONFIG
  private cache = new SchemaCache()
  constructor(private readonly side: Side) { super() }
  apply<R extends ConnectRecord>(r: R): R | null {
    const schema = schemaOf(r, this.side)
    const value = valueOf(r, this.side)
    const field = this.cfg.field as string
    if (schema === null) return withSide(r, this.side, null, new Map([[field, value]]))
    const updated = this.cache.get(schema, () => ({type: 'struct', optional: false, fields: [{name: field, index: 0, schema}]}))
    return withSide(r, this.side, updated, new Struct(updated).put(field, value))
  }
}

// --- Cast --------------------------------------------------------------------------------------

const CAST_TYPES = ['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string'] as const
type CastType = (typeof CAST_TYPES)[number]
const WHOLE_VALUE = '\u0000whole'

function parseCastSpec(list: string[]): Map<string, CastType> {
  const out = new Map<string, CastType>()
  for (const m of list) {
    const parts = m.split(':')
    if (parts.length > 2) throw new ConfigException(`Invalid cast mapping: ${m}`)
    const [field, type] = parts.length === 1 ? [WHOLE_VALUE, parts[0]!] : [parts[0]!, parts[1]!]
    const t = type.trim().toLowerCase()
    if (!(CAST_TYPES as readonly string[]).includes(t)) throw new ConfigException(`Invalid type found in casting spec: ${type.trim()}`)
    if (field === WHOLE_VALUE && list.length > 1) throw new ConfigException('Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec')
    out.set(field, t as CastType)
  }
  return out
}

const CAST_CONFIG = new ConfigDef()
  .define({name: 'spec', type: 'LIST', importance: 'HIGH', documentation: 'List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string.', validator: (name, v) => {
    if ((v as string[]).length === 0) return `Invalid value [] for configuration ${name}: Must specify at least one field to cast.`
    try { parseCastSpec(v as string[]); return null } catch (error) { return `Invalid value ${(v as string[]).join(',')} for configuration ${name}: ${(error as Error).message}` }
  }})
  .define(REPLACE_NULL)

function javaDoubleString(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e7) return n.toFixed(1)
  return String(n)
}

/** Cast.castValueToType: Java's Number narrowing, Boolean.parseBoolean, String.valueOf. */
export function castValue(v: unknown, from: SchemaType | null, to: CastType): unknown {
  if (v === null || v === undefined) return null
  if (v instanceof Date) v = v.getTime()
  if (to === 'string') {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
    if (typeof v === 'number' && (from === 'float32' || from === 'float64' || (from === null && !Number.isInteger(v)))) return javaDoubleString(v)
    return String(v)
  }
  if (to === 'boolean') {
    if (typeof v === 'boolean') return v
    if (typeof v === 'number') return v !== 0
    if (typeof v === 'bigint') return v !== 0n
    if (typeof v === 'string') return v.toLowerCase() === 'true'
    throw new DataException(`Unexpected type in Cast transformation: ${javaClassName(v)}`)
  }
  let n: number
  if (typeof v === 'boolean') n = v ? 1 : 0
  else if (typeof v === 'number') n = v
  else if (typeof v === 'bigint') n = Number(v)
  else if (typeof v === 'string') {
    const t = v.trim()
    n = to.startsWith('float') ? Number(t) : /^[-+]?\d+$/.test(t) ? Number(t) : Number.NaN
    if (t === '' || Number.isNaN(n)) throw new DataException(`Value (${v}) was out of range for requested data type ${to.toUpperCase()}`)
  } else throw new DataException(`Unexpected type in Cast transformation: ${javaClassName(v)}`)
  switch (to) {
    case 'float32': return Math.fround(n)
    case 'float64': return n
    case 'int64': return Number.isFinite(n) ? Math.trunc(n) : 0
    case 'int32': return toInt32(n)
    case 'int16': return (toInt32(n) << 16) >> 16
    case 'int8': return (toInt32(n) << 24) >> 24
  }
}

/** Java's (int) of a double: truncation, saturated at the int range, NaN -> 0; of a long: wrapped. */
function toInt32(n: number): number {
  if (Number.isNaN(n)) return 0
  if (!Number.isInteger(n)) return Math.max(-2147483648, Math.min(2147483647, Math.trunc(n)))
  return Number(BigInt.asIntN(32, BigInt(n)))
}

class Cast extends BaseTransformation {
  protected readonly def = CAST_CONFIG
  private spec = new Map<string, CastType>()
  private cache = new SchemaCache()
  constructor(private readonly side: Side) { super() }
  protected override init(): void { this.spec = parseCastSpec(this.cfg.spec as string[]) }

  apply<R extends ConnectRecord>(r: R): R | null {
    const schema = schemaOf(r, this.side)
    const value = valueOf(r, this.side)
    const whole = this.spec.get(WHOLE_VALUE)
    if (whole) {
      if (schema !== null && !(CAST_TYPES as readonly string[]).includes(schema.type)) throw new DataException(`Cast transformation does not support casting to/from ${schema.type.toUpperCase()}`)
      const out: Schema | null = schema === null ? null : this.cache.get(schema, () => ({type: whole, optional: schema.optional}))
      return withSide(r, this.side, out, castValue(value, schema?.type ?? null, whole))
    }
    if (value === null) return r
    if (schema === null) {
      const out = new Map(requireMap(value, 'cast types'))
      for (const [f, t] of this.spec) if (out.has(f)) out.set(f, castValue(out.get(f), null, t))
      return withSide(r, this.side, null, out)
    }
    const st = requireStruct(value, 'cast types')
    const updated = this.cache.get(st.schema, () => struct((st.schema.fields ?? []).map((f): [string, Schema] => {
      const t = this.spec.get(f.name)
      if (!t) return [f.name, f.schema]
      if (!(CAST_TYPES as readonly string[]).includes(f.schema.type) && f.schema.type !== 'bytes') throw new DataException(`Cast transformation does not support casting to/from ${f.schema.type.toUpperCase()}`)
      return [f.name, {type: t, optional: f.schema.optional}]
    }), st.schema))
    const values = new Map<string, unknown>()
    for (const f of st.schema.fields ?? []) {
      const v = fieldValue(st, f.name, this.cfg['replace.null.with.default'] as boolean)
      const t = this.spec.get(f.name)
      values.set(f.name, t ? castValue(v, f.schema.type, t) : v)
    }
    return withSide(r, this.side, updated, buildStruct(updated, values))
  }
}

// --- SimpleDateFormat (UTC) --------------------------------------------------------------------

type DateToken = {literal: string} | {letter: string; count: number}

function tokenizeDateFormat(pattern: string): DateToken[] {
  const out: DateToken[] = []
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i]!
    if (c === '\'') {
      const end = pattern.indexOf('\'', i + 1)
      if (end === i + 1) { out.push({literal: '\''}); i += 2; continue }
      if (end < 0) throw new ConfigException('Unterminated quote')
      out.push({literal: pattern.slice(i + 1, end)})
      i = end + 1
    } else if (/[a-zA-Z]/.test(c)) {
      if (!'yMdHmsSZX'.includes(c)) throw new ConfigException(`Illegal pattern character '${c}'`)
      let j = i
      while (pattern[j] === c) j++
      out.push({letter: c, count: j - i})
      i = j
    } else {
      out.push({literal: c})
      i++
    }
  }
  return out
}

/** java.text.SimpleDateFormat in UTC, for the letters y M d H m s S Z X. */
export class SimpleDateFormat {
  private readonly tokens: DateToken[]
  constructor(readonly pattern: string) { this.tokens = tokenizeDateFormat(pattern) }

  format(ms: number): string {
    const d = new Date(ms)
    const pad = (n: number, w: number) => String(n).padStart(w, '0')
    return this.tokens.map(t => {
      if ('literal' in t) return t.literal
      switch (t.letter) {
        case 'y': return t.count === 2 ? pad(d.getUTCFullYear() % 100, 2) : pad(d.getUTCFullYear(), t.count)
        case 'M': return pad(d.getUTCMonth() + 1, t.count)
        case 'd': return pad(d.getUTCDate(), t.count)
        case 'H': return pad(d.getUTCHours(), t.count)
        case 'm': return pad(d.getUTCMinutes(), t.count)
        case 's': return pad(d.getUTCSeconds(), t.count)
        case 'S': return pad(d.getUTCMilliseconds(), t.count)
        case 'Z': return '+0000'
        default: return 'Z' // X: UTC is written Z
      }
    }).join('')
  }

  parse(text: string): number {
    const groups: string[] = []
    let re = '^'
    for (const t of this.tokens) {
      if ('literal' in t) { re += t.literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); continue }
      groups.push(t.letter)
      re += t.letter === 'Z' || t.letter === 'X' ? '(Z|[+-]\\d{2}:?\\d{2}|[+-]\\d{2})' : t.count === 1 ? (t.letter === 'y' ? '(\\d{1,9})' : '(\\d{1,3})') : `(\\d{${t.count}})`
    }
    const m = new RegExp(re + '$').exec(text)
    if (!m) throw new DataException(`Could not parse timestamp: value (${text}) does not match pattern (${this.pattern})`)
    const f = {y: 1970, M: 1, d: 1, H: 0, m: 0, s: 0, S: 0, off: 0}
    groups.forEach((g, i) => {
      const v = m[i + 1]!
      if (g === 'Z' || g === 'X') {
        if (v !== 'Z') { const sign = v.startsWith('-') ? -1 : 1; const digits = v.slice(1).replace(':', ''); f.off = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) }
      } else f[g as 'y'] = Number(v)
    })
    return Date.UTC(f.y, f.M - 1, f.d, f.H, f.m, f.s, f.S) - f.off * 60_000
  }
}

// --- TimestampConverter ------------------------------------------------------------------------

const TS_TYPES = ['string', 'unix', 'Date', 'Time', 'Timestamp'] as const
type TsType = (typeof TS_TYPES)[number]

const TIMESTAMP_CONVERTER_CONFIG = new ConfigDef()
  .define({name: 'field', type: 'STRING', defaultValue: '', importance: 'HIGH', documentation: 'The field containing the timestamp, or empty if the entire value is a timestamp'})
  .define({name: 'target.type', type: 'STRING', importance: 'HIGH', documentation: 'The desired timestamp representation: string, unix, Date, Time, or Timestamp', validator: oneOf([...TS_TYPES])})
  .define({name: 'format', type: 'STRING', defaultValue: '', importance: 'MEDIUM', documentation: 'A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.'})
  .define({name: 'unix.precision', type: 'STRING', defaultValue: 'milliseconds', importance: 'LOW', documentation: 'The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.', validator: oneOf(['nanoseconds', 'microseconds', 'milliseconds', 'seconds'])})
  .define(REPLACE_NULL)

const UNIX_FACTOR: Record<string, number> = {seconds: 1000, milliseconds: 1, microseconds: 1 / 1000, nanoseconds: 1 / 1_000_000}

class TimestampConverter extends BaseTransformation {
  protected readonly def = TIMESTAMP_CONVERTER_CONFIG
  private target: TsType = 'unix'
  private format?: SimpleDateFormat
  private cache = new SchemaCache()
  constructor(private readonly side: Side) { super() }

  protected override init(): void {
    this.target = this.cfg['target.type'] as TsType
    const f = this.cfg.format as string
    if (this.target === 'string' && f === '') throw new ConfigException('TimestampConverter requires format option to be specified when using string timestamps')
    if (f !== '') {
      try { this.format = new SimpleDateFormat(f) } catch (error) {
        throw new ConfigException(`TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: ${f}: ${(error as Error).message}`)
      }
    }
  }

  private targetSchema(optional: boolean): Schema {
    switch (this.target) {
      case 'string': return {type: 'string', optional}
      case 'unix': return {type: 'int64', optional}
      case 'Date': return {type: 'int32', optional, name: DATE_SCHEMA_NAME, version: 1}
      case 'Time': return {type: 'int32', optional, name: TIME_SCHEMA_NAME, version: 1}
      case 'Timestamp': return {type: 'int64', optional, name: TIMESTAMP_SCHEMA_NAME, version: 1}
    }
  }

  /** The value as epoch ms, from a schema (logical name or primitive) or, schemaless, from its JS type. */
  private toMillis(v: unknown, schema: Schema | null): number {
    const precision = UNIX_FACTOR[this.cfg['unix.precision'] as string]!
    if (schema !== null) {
      if (schema.name === TIMESTAMP_SCHEMA_NAME) return Number(v)
      if (schema.name === DATE_SCHEMA_NAME) return Number(v) * MS_PER_DAY
      if (schema.name === TIME_SCHEMA_NAME) return Number(v)
      if (schema.type === 'int64') return Math.floor(Number(v) * precision)
      if (schema.type === 'string') return this.parseString(v as string)
      throw new ConnectException(`Schema ${JSON.stringify(schema)} does not correspond to a known timestamp type format`)
    }
    if (v instanceof Date) return v.getTime()
    if (typeof v === 'number' || typeof v === 'bigint') return Math.floor(Number(v) * precision)
    if (typeof v === 'string') return this.parseString(v)
    throw new DataException(`TimestampConverter does not support ${javaClassName(v)} objects as timestamps`)
  }

  private parseString(s: string): number {
    if (!this.format) throw new DataException('TimestampConverter requires format option to be specified when using string timestamps')
    return this.format.parse(s)
  }

  private fromMillis(ms: number, schemaless: boolean): unknown {
    switch (this.target) {
      case 'string': return this.format!.format(ms)
      case 'unix': return Math.floor(ms / UNIX_FACTOR[this.cfg['unix.precision'] as string]!)
      case 'Date': { const day = Math.floor(ms / MS_PER_DAY); return schemaless ? new Date(day * MS_PER_DAY) : day }
      case 'Time': { const t = ((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY; return schemaless ? new Date(t) : t }
      case 'Timestamp': return schemaless ? new Date(ms) : ms
    }
  }

  private convert(v: unknown, schema: Schema | null): unknown {
    if (v === null || v === undefined) return null
    return this.fromMillis(this.toMillis(v, schema), schema === null)
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const schema = schemaOf(r, this.side)
    const value = valueOf(r, this.side)
    const field = this.cfg.field as string
    if (field === '') {
      return withSide(r, this.side, schema === null ? null : this.targetSchema(schema.optional), this.convert(value, schema))
    }
    if (value === null) return r
    if (schema === null) {
      const out = new Map(requireMap(value, 'converting timestamp formats'))
      out.set(field, this.convert(out.get(field) ?? null, null))
      return withSide(r, this.side, null, out)
    }
    const st = requireStruct(value, 'converting timestamp formats')
    const updated = this.cache.get(st.schema, () => struct((st.schema.fields ?? []).map((f): [string, Schema] => [f.name, f.name === field ? this.targetSchema(f.schema.optional) : f.schema]), st.schema))
    const values = new Map<string, unknown>()
    for (const f of st.schema.fields ?? []) {
      const v = fieldValue(st, f.name, this.cfg['replace.null.with.default'] as boolean)
      values.set(f.name, f.name === field ? this.convert(v, f.schema) : v)
    }
    return withSide(r, this.side, updated, buildStruct(updated, values))
  }
}

// --- RegexRouter / TimestampRouter -------------------------------------------------------------

const REGEX_ROUTER_CONFIG = new ConfigDef()
  .define({name: 'regex', type: 'STRING', importance: 'HIGH', documentation: 'Regular expression to use for matching.', validator: validRegex})
  .define({name: 'replacement', type: 'STRING', importance: 'HIGH', documentation: 'Replacement string.'})

class RegexRouter extends BaseTransformation {
  protected readonly def = REGEX_ROUTER_CONFIG
  private regex = /^$/
  private replacement = ''
  protected override init(): void {
    this.regex = javaRegex(this.cfg.regex as string)
    this.replacement = javaReplacement(this.cfg.replacement as string)
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    if (!this.regex.test(r.topic)) return r
    return {...r, topic: r.topic.replace(this.regex, this.replacement)}
  }
}

const TIMESTAMP_ROUTER_CONFIG = new ConfigDef()
  .define({name: 'topic.format', type: 'STRING', defaultValue: '${topic}-${timestamp}', importance: 'HIGH', documentation: 'Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively.', validator: nonEmptyString})
  .define({name: 'timestamp.format', type: 'STRING', defaultValue: 'yyyyMMdd', importance: 'HIGH', documentation: 'Format string for the timestamp that is compatible with java.text.SimpleDateFormat.', validator: nonEmptyString})

class TimestampRouter extends BaseTransformation {
  protected readonly def = TIMESTAMP_ROUTER_CONFIG
  private format = new SimpleDateFormat('yyyyMMdd')
  protected override init(): void { this.format = new SimpleDateFormat(this.cfg['timestamp.format'] as string) }
  apply<R extends ConnectRecord>(r: R): R | null {
    if (r.timestamp === null || r.timestamp === undefined) throw new DataException(`Timestamp missing on record: ${r.topic}`)
    const topic = (this.cfg['topic.format'] as string).replaceAll('${topic}', r.topic).replaceAll('${timestamp}', this.format.format(r.timestamp))
    return {...r, topic}
  }
}

// --- Filter, HeaderFrom, DropHeaders -----------------------------------------------------------

class Filter extends BaseTransformation {
  protected readonly def = new ConfigDef()
  apply<R extends ConnectRecord>(_r: R): R | null { return null }
}

const HEADER_FROM_CONFIG = new ConfigDef()
  .define({name: 'fields', type: 'LIST', importance: 'HIGH', documentation: 'Field names in the record whose values are to be copied or moved to headers.', validator: nonEmptyList})
  .define({name: 'headers', type: 'LIST', importance: 'HIGH', documentation: 'Header names, in the same order as the field names listed in the fields configuration property.', validator: nonEmptyList})
  .define({name: 'operation', type: 'STRING', importance: 'HIGH', documentation: 'Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value).', validator: oneOf(['move', 'copy'])})
  .define(REPLACE_NULL)

class HeaderFrom extends BaseTransformation {
  protected readonly def = HEADER_FROM_CONFIG
  private cache = new SchemaCache()
  constructor(private readonly side: Side) { super() }
  protected override init(): void {
    if ((this.cfg.fields as string[]).length !== (this.cfg.headers as string[]).length)
      throw new ConfigException('\'fields\' config must have the same number of elements as \'headers\' config.')
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const fields = this.cfg.fields as string[]
    const names = this.cfg.headers as string[]
    const move = this.cfg.operation === 'move'
    const schema = schemaOf(r, this.side)
    const value = valueOf(r, this.side)
    const headers = [...(r.headers ?? [])]
    if (schema === null) {
      const m = requireMap(value, 'header ' + (move ? 'move' : 'copy'))
      const out = new Map(m)
      fields.forEach((f, i) => {
        headers.push({key: names[i]!, value: headerBytes(m.get(f) ?? null)})
        if (move) out.delete(f)
      })
      return {...withSide(r, this.side, null, out), headers}
    }
    const st = requireStruct(value, 'header ' + (move ? 'move' : 'copy'))
    fields.forEach((f, i) => headers.push({key: names[i]!, value: headerBytes(fieldValue(st, f, this.cfg['replace.null.with.default'] as boolean))}))
    if (!move) return {...r, headers}
    const removed = new Set(fields)
    const updated = this.cache.get(st.schema, () => struct((st.schema.fields ?? []).filter(f => !removed.has(f.name)).map((f): [string, Schema] => [f.name, f.schema]), st.schema))
    const values = new Map<string, unknown>()
    for (const f of updated.fields ?? []) values.set(f.name, fieldValue(st, f.name, this.cfg['replace.null.with.default'] as boolean))
    return {...withSide(r, this.side, updated, buildStruct(updated, values)), headers}
  }
}

const DROP_HEADERS_CONFIG = new ConfigDef()
  .define({name: 'headers', type: 'LIST', importance: 'HIGH', documentation: 'The name of the headers to be removed.', validator: nonEmptyList})

class DropHeaders extends BaseTransformation {
  protected readonly def = DROP_HEADERS_CONFIG
  apply<R extends ConnectRecord>(r: R): R | null {
    const drop = new Set(this.cfg.headers as string[])
    return {...r, headers: (r.headers ?? []).filter(h => !drop.has(h.key))}
  }
}

// --- predicates --------------------------------------------------------------------------------

abstract class BasePredicate implements Predicate {
  protected abstract readonly def: ConfigDef
  protected cfg: Record<string, unknown> = {}
  config(): ConfigDef { return this.def }
  configure(props: Record<string, string>): void { this.cfg = this.def.parse(props); this.init() }
  protected init(): void {}
  abstract test(r: ConnectRecord): boolean
  close(): void {}
}

class TopicNameMatches extends BasePredicate {
  protected readonly def = new ConfigDef().define({name: 'pattern', type: 'STRING', importance: 'MEDIUM', documentation: 'A Java regular expression for matching against the name of a record\'s topic.', validator: (n, v) => nonEmptyString(n, v) ?? validRegex(n, v)})
  private regex = /^$/
  protected override init(): void { this.regex = javaRegex(this.cfg.pattern as string) }
  test(r: ConnectRecord): boolean { return r.topic !== null && this.regex.test(r.topic) }
}

class HasHeaderKey extends BasePredicate {
  protected readonly def = new ConfigDef().define({name: 'name', type: 'STRING', importance: 'MEDIUM', documentation: 'The header name.', validator: nonEmptyString})
  test(r: ConnectRecord): boolean { return (r.headers ?? []).some(h => h.key === this.cfg.name) }
}

class RecordIsTombstone extends BasePredicate {
  protected readonly def = new ConfigDef()
  test(r: ConnectRecord): boolean { return r.value === null || r.value === undefined }
}

// --- registry and chain ------------------------------------------------------------------------

const TRANSFORMATIONS: Record<string, () => Transformation> = {
  'InsertField$Key': () => new InsertField('Key'), 'InsertField$Value': () => new InsertField('Value'),
  'ReplaceField$Key': () => new ReplaceField('Key'), 'ReplaceField$Value': () => new ReplaceField('Value'),
  'MaskField$Key': () => new MaskField('Key'), 'MaskField$Value': () => new MaskField('Value'),
  'ValueToKey': () => new ValueToKey(),
  'ExtractField$Key': () => new ExtractField('Key'), 'ExtractField$Value': () => new ExtractField('Value'),
  'HoistField$Key': () => new HoistField('Key'), 'HoistField$Value': () => new HoistField('Value'),
  'Cast$Key': () => new Cast('Key'), 'Cast$Value': () => new Cast('Value'),
  'TimestampConverter$Key': () => new TimestampConverter('Key'), 'TimestampConverter$Value': () => new TimestampConverter('Value'),
  'RegexRouter': () => new RegexRouter(),
  'TimestampRouter': () => new TimestampRouter(),
  'Filter': () => new Filter(),
  'HeaderFrom$Key': () => new HeaderFrom('Key'), 'HeaderFrom$Value': () => new HeaderFrom('Value'),
  'DropHeaders': () => new DropHeaders(),
}

const PREDICATES: Record<string, () => Predicate> = {
  TopicNameMatches: () => new TopicNameMatches(),
  HasHeaderKey: () => new HasHeaderKey(),
  RecordIsTombstone: () => new RecordIsTombstone(),
}

/**
 * Every transformation and predicate as a plugin under Kafka's class name (the simple names, e.g.
 * `InsertField$Value`, resolve too); plugins.ts registers them as built-ins, and the runtime's
 * TransformationChain (connector-config.ts) builds chains from them.
 */
export const plugins: PluginDescriptor[] = [
  ...Object.entries(TRANSFORMATIONS).map(([name, create]): PluginDescriptor => ({type: 'transformation', className: PKG + name, version: VERSION, create})),
  ...Object.entries(PREDICATES).map(([name, create]): PluginDescriptor => ({type: 'predicate', className: PKG + 'predicates.' + name, version: VERSION, create})),
]
