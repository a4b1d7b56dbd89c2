/**
 * Kafka Connect's data model (org.apache.kafka.connect.data): schemas (type, optional, name,
 * version, doc, default, fields / keySchema / valueSchema) and structs, the values converters
 * turn bytes into and connectors exchange. Only what the converters and file connectors need:
 * primitive types, bytes, arrays, maps and structs; logical types are left out (not yet).
 */

export type SchemaType = 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string' | 'bytes' | 'array' | 'map' | 'struct'

export interface Field {name: string; index: number; schema: Schema}

export interface Schema {
  type: SchemaType
  optional: boolean
  name?: string
  version?: number
  doc?: string
  defaultValue?: unknown
  parameters?: Record<string, string>
  fields?: Field[]
  keySchema?: Schema
  valueSchema?: Schema
}

export class DataException extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DataException'
  }
}

export const Schemas = {
  STRING: {type: 'string', optional: false} as Schema,
  OPTIONAL_STRING: {type: 'string', optional: true} as Schema,
  BYTES: {type: 'bytes', optional: false} as Schema,
  OPTIONAL_BYTES: {type: 'bytes', optional: true} as Schema,
  INT32: {type: 'int32', optional: false} as Schema,
  INT64: {type: 'int64', optional: false} as Schema,
  BOOLEAN: {type: 'boolean', optional: false} as Schema,
  FLOAT64: {type: 'float64', optional: false} as Schema,
}

/** A Connect Struct: values by field name, checked against its struct schema on put and validate. */
export class Struct {
  private readonly values = new Map<string, unknown>()
  constructor(readonly schema: Schema) {
    if (schema.type !== 'struct') throw new DataException('Not a struct schema: ' + schema.type)
  }

  put(field: string, value: unknown): this {
    const f = this.field(field)
    validateValue(f.schema, value, f.name)
    this.values.set(field, value)
    return this
  }

  get(field: string): unknown {
    const f = this.field(field)
    return this.values.has(field) ? this.values.get(field) : f.schema.defaultValue ?? null
  }

  field(name: string): Field {
    const f = this.schema.fields?.find(x => x.name === name)
    if (!f) throw new DataException(`${name} is not a valid field name`)
    return f
  }

  /** Struct.validate: every required field without a default has a value. */
  validate(): void {
    for (const f of this.schema.fields ?? []) validateValue(f.schema, this.get(f.name), f.name)
  }
}

/** ConnectSchema.validateValue: a value matches its schema (null only when optional or defaulted). */
export function validateValue(schema: Schema, value: unknown, field?: string): void {
  const where = field === undefined ? '' : ` for field: "${field}"`
  if (value === null || value === undefined) {
    if (schema.optional || schema.defaultValue !== undefined) return
    throw new DataException(`Invalid value: null used for required field: "${field ?? 'null'}", schema type: ${schema.type.toUpperCase()}`)
  }
  const bad = (): never => { throw new DataException(`Invalid Java object for schema with type ${schema.type.toUpperCase()}: ${typeof value}${where}`) }
  switch (schema.type) {
    case 'int8': case 'int16': case 'int32': if (typeof value !== 'number' || !Number.isInteger(value)) bad(); break
    case 'int64': if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isInteger(value))) bad(); break
    case 'float32': case 'float64': if (typeof value !== 'number') bad(); break
    case 'boolean': if (typeof value !== 'boolean') bad(); break
    case 'string': if (typeof value !== 'string') bad(); break
    case 'bytes': if (!(value instanceof Uint8Array)) bad(); break
    case 'array': if (!Array.isArray(value)) bad(); for (const v of value as unknown[]) validateValue(schema.valueSchema!, v, field); break
    case 'map': if (!(value instanceof Map)) bad(); break
    case 'struct': if (!(value instanceof Struct)) bad(); (value as Struct).validate(); break
  }
}

/** SchemaBuilder.struct().field(...).build() in one call. */
export function structSchema(fields: Array<[string, Schema]>, opts: {optional?: boolean; name?: string} = {}): Schema {
  return {type: 'struct', optional: opts.optional ?? false, name: opts.name, fields: fields.map(([name, schema], index) => ({name, index, schema}))}
}
