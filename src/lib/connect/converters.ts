/**
 * Kafka Connect's converters (org.apache.kafka.connect.storage.Converter): bytes <-> schema and
 * value. StringConverter, ByteArrayConverter and JsonConverter with `schemas.enable` true (the
 * {"schema": ..., "payload": ...} envelope, Kafka's JsonSchema names: type, optional, name,
 * version, doc, default, fields[].field, keys/values) or false (plain JSON, schemaless). Error
 * messages are Kafka's (DataException texts) since they end up in task traces and DLQ headers.
 */
import {DataException, type Schema, Schemas, Struct} from './data.js'

export interface SchemaAndValue {schema: Schema | null; value: unknown}

export interface Converter {
  configure(configs: Record<string, string>, isKey: boolean): void
  fromConnectData(topic: string, schema: Schema | null, value: unknown): Buffer | null
  toConnectData(topic: string, bytes: Buffer | null): SchemaAndValue
}

export class StringConverter implements Converter {
  configure(): void {}
  fromConnectData(_topic: string, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null
    return Buffer.from(typeof value === 'string' ? value : String(value), 'utf8')
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return {schema: Schemas.OPTIONAL_STRING, value: bytes === null ? null : bytes.toString('utf8')}
  }
}

export class ByteArrayConverter implements Converter {
  configure(): void {}
  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema !== null && schema.type !== 'bytes') throw new DataException('Invalid schema type for ByteArrayConverter: ' + schema.type.toUpperCase())
    if (value === null || value === undefined) return null
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    throw new DataException('ByteArrayConverter is not compatible with objects of type ' + typeof value)
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return {schema: Schemas.OPTIONAL_BYTES, value: bytes}
  }
}

export class JsonConverter implements Converter {
  schemasEnable = true
  configure(configs: Record<string, string>): void {
    const v = configs['schemas.enable']
    if (v !== undefined) {
      if (!/^(true|false)$/i.test(v.trim())) throw new DataException(`Invalid value ${v} for configuration schemas.enable: Expected value to be either true or false`)
      this.schemasEnable = v.trim().toLowerCase() === 'true'
    }
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema === null && (value === null || value === undefined)) return null
    const payload = toJsonValue(schema, value)
    const out = this.schemasEnable ? {schema: schema === null ? null : asJsonSchema(schema), payload} : payload
    return Buffer.from(JSON.stringify(out), 'utf8')
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null) return {schema: null, value: null}
    let json: unknown
    try {
      json = JSON.parse(bytes.toString('utf8'))
    } catch (error) {
      throw new DataException('Converting byte[] to Kafka Connect data failed due to serialization error: ' + (error as Error).message)
    }
    if (!this.schemasEnable) return {schema: null, value: schemaless(json)}
    if (json === null || typeof json !== 'object' || Array.isArray(json) || !('schema' in json) || !('payload' in json) || Object.keys(json).length !== 2)
      throw new DataException('JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.')
    const env = json as {schema: unknown; payload: unknown}
    if (env.schema === null) return {schema: null, value: schemaless(env.payload)}
    const schema = asConnectSchema(env.schema)
    return {schema, value: fromJsonValue(schema, env.payload)}
  }
}

/** JsonConverter.asJsonSchema: Connect schema -> the envelope's "schema" object. */
export function asJsonSchema(s: Schema): Record<string, unknown> {
  const o: Record<string, unknown> = {type: s.type}
  if (s.type === 'struct') o.fields = (s.fields ?? []).map(f => ({...asJsonSchema(f.schema), field: f.name}))
  if (s.type === 'array') o.items = asJsonSchema(s.valueSchema!)
  if (s.type === 'map') { o.keys = asJsonSchema(s.keySchema!); o.values = asJsonSchema(s.valueSchema!) }
  o.optional = s.optional
  if (s.name !== undefined) o.name = s.name
  if (s.version !== undefined) o.version = s.version
  if (s.doc !== undefined) o.doc = s.doc
  if (s.parameters !== undefined) o.parameters = s.parameters
  if (s.defaultValue !== undefined) o.default = toJsonValue(s, s.defaultValue)
  return o
}

const TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'float', 'double', 'float32', 'float64', 'boolean', 'string', 'bytes', 'array', 'map', 'struct'])

/** JsonConverter.asConnectSchema: the envelope's "schema" object -> Connect schema. */
export function asConnectSchema(j: unknown): Schema {
  if (j === null || typeof j !== 'object') throw new DataException('Schema must be an object')
  const o = j as Record<string, unknown>
  if (typeof o.type !== 'string') throw new DataException('Schema must contain \'type\' field')
  if (!TYPES.has(o.type)) throw new DataException('Unknown schema type: ' + o.type)
  const type = (o.type === 'float' ? 'float32' : o.type === 'double' ? 'float64' : o.type) as Schema['type']
  const s: Schema = {type, optional: o.optional === true}
  if (type === 'struct') {
    if (!Array.isArray(o.fields)) throw new DataException('Struct schema\'s "fields" argument is not an array.')
    s.fields = (o.fields as Array<Record<string, unknown>>).map((f, index) => {
      if (typeof f.field !== 'string') throw new DataException('Struct schema\'s field name not specified properly: ' + JSON.stringify(f))
      return {name: f.field, index, schema: asConnectSchema(f)}
    })
  }
  if (type === 'array') {
    if (o.items === undefined) throw new DataException('Array schema did not specify the element type')
    s.valueSchema = asConnectSchema(o.items)
  }
  if (type === 'map') { s.keySchema = asConnectSchema(o.keys); s.valueSchema = asConnectSchema(o.values) }
  if (typeof o.name === 'string') s.name = o.name
  if (typeof o.version === 'number') s.version = o.version
  if (typeof o.doc === 'string') s.doc = o.doc
  if (o.parameters && typeof o.parameters === 'object') s.parameters = o.parameters as Record<string, string>
  if (o.default !== undefined && o.default !== null) s.defaultValue = fromJsonValue({...s, defaultValue: undefined}, o.default)
  return s
}

function toJsonValue(schema: Schema | null, value: unknown): unknown {
  if (value === null || value === undefined) {
    if (schema === null) return null
    if (schema.defaultValue !== undefined) return toJsonValue(schema, schema.defaultValue)
    if (schema.optional) return null
    throw new DataException('Conversion error: null value for field that is required and has no default value')
  }
  if (schema === null) return schemalessToJson(value)
  switch (schema.type) {
    case 'bytes': return Buffer.from(value as Uint8Array).toString('base64')
    case 'int64': return typeof value === 'bigint' ? Number(value) : value
    case 'array': return (value as unknown[]).map(v => toJsonValue(schema.valueSchema!, v))
    case 'map': {
      const m = value as Map<unknown, unknown>
      if (schema.keySchema!.type === 'string') return Object.fromEntries([...m].map(([k, v]) => [k, toJsonValue(schema.valueSchema!, v)]))
      return [...m].map(([k, v]) => [toJsonValue(schema.keySchema!, k), toJsonValue(schema.valueSchema!, v)])
    }
    case 'struct': {
      const st = value as Struct
      return Object.fromEntries((schema.fields ?? []).map(f => [f.name, toJsonValue(f.schema, st.get(f.name))]))
    }
    default: return value
  }
}

function schemalessToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (value instanceof Struct) return toJsonValue(value.schema, value)
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), schemalessToJson(v)]))
  if (Array.isArray(value)) return value.map(schemalessToJson)
  if (typeof value === 'bigint') return Number(value)
  return value
}

/** Plain JSON without a schema: objects become maps (as Kafka's schemaless JSON gives java.util.Map). */
function schemaless(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(schemaless)
  if (json !== null && typeof json === 'object') return new Map(Object.entries(json).map(([k, v]) => [k, schemaless(v)]))
  return json
}

function fromJsonValue(schema: Schema, json: unknown): unknown {
  if (json === null || json === undefined) {
    if (schema.defaultValue !== undefined) return schema.defaultValue
    if (schema.optional) return null
    throw new DataException(`Invalid null value for required ${schema.type.toUpperCase()} field`)
  }
  const mismatch = (): never => { throw new DataException(`Invalid value for ${schema.type.toUpperCase()}: ${JSON.stringify(json)}`) }
  switch (schema.type) {
    case 'int8': case 'int16': case 'int32': case 'int64': if (typeof json !== 'number' || !Number.isInteger(json)) mismatch(); return json
    case 'float32': case 'float64': if (typeof json !== 'number') mismatch(); return json
    case 'boolean': if (typeof json !== 'boolean') mismatch(); return json
    case 'string': if (typeof json !== 'string') mismatch(); return json
    case 'bytes': if (typeof json !== 'string') mismatch(); return Buffer.from(json as string, 'base64')
    case 'array': if (!Array.isArray(json)) mismatch(); return (json as unknown[]).map(v => fromJsonValue(schema.valueSchema!, v))
    case 'map': {
      if (schema.keySchema!.type === 'string') {
        if (typeof json !== 'object' || Array.isArray(json)) mismatch()
        return new Map(Object.entries(json as object).map(([k, v]) => [k, fromJsonValue(schema.valueSchema!, v)]))
      }
      if (!Array.isArray(json)) mismatch()
      return new Map((json as unknown[][]).map(([k, v]) => [fromJsonValue(schema.keySchema!, k), fromJsonValue(schema.valueSchema!, v)]))
    }
    case 'struct': {
      if (typeof json !== 'object' || Array.isArray(json)) throw new DataException('Structs should be encoded as JSON objects, but found ' + (Array.isArray(json) ? 'ARRAY' : typeof json))
      const st = new Struct(schema)
      for (const f of schema.fields ?? []) st.put(f.name, fromJsonValue(f.schema, (json as Record<string, unknown>)[f.name]))
      return st
    }
  }
}

/** A converter by Kafka's class name (or simple name), configured from `<prefix>.*` worker/connector configs. */
/**
 * A header's bytes from Connect data, as SimpleHeaderConverter.fromConnectHeader writes them
 * (Values.convertToString): null stays null, bytes stay bytes, strings are UTF-8, numbers and
 * booleans their text, dates ISO 8601 in UTC, maps/arrays/structs compact JSON. The runtime keeps
 * headers as bytes; this is what HeaderFrom uses to make one from a field.
 */
export function headerBytes(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value)
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return Buffer.from(String(value))
  return Buffer.from(value instanceof Date ? value.toISOString() : JSON.stringify(plain(value)), 'utf8')
}

function plain(v: unknown): unknown {
  if (v instanceof Struct) return Object.fromEntries((v.schema.fields ?? []).map(f => [f.name, plain(v.get(f.name))]))
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]))
  if (Array.isArray(v)) return v.map(plain)
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (typeof v === 'bigint') return Number(v)
  return v
}

export function createConverter(className: string, configs: Record<string, string>, isKey: boolean): Converter {
  const simple = className.slice(className.lastIndexOf('.') + 1)
  const c: Converter | undefined = simple === 'StringConverter' ? new StringConverter() : simple === 'ByteArrayConverter' ? new ByteArrayConverter() : simple === 'JsonConverter' ? new JsonConverter() : undefined
  if (!c) throw new DataException(`Class ${className} could not be found.`)
  c.configure(configs, isKey)
  return c
}
