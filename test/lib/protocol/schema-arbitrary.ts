/**
 * fast-check arbitraries built from Kafka's JSON message definitions (read with the project's own
 * schema parser), independently of the generated code: a value for one message at one version has
 * every field that exists in that version set to a random value, and every other field set to its
 * default, which is what the decoder fills in. Flexible structs sometimes carry unknown tagged
 * fields (tags no field of the struct uses, in ascending order, as a decoder keeps them).
 */
import fc from 'fast-check'
import {isPrimitive, type FieldSpec, type MessageSpec, type PrimitiveType, type VersionRange} from '../../../scripts/codegen/schema.js'

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

export function inRange(r: VersionRange, v: number): boolean {
  return v >= r.min && v <= r.max
}

export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1)
}

export interface ArbitraryOptions {
  /** Longest array at the top level; nested arrays get shorter. */
  maxArrayLength: number
  maxStringLength: number
  maxBytesLength: number
  /** Whether flexible structs sometimes carry unknown tagged fields. */
  unknownTaggedFields: boolean
}

const DEFAULT_OPTIONS: ArbitraryOptions = {maxArrayLength: 3, maxStringLength: 10, maxBytesLength: 24, unknownTaggedFields: true}

type Value = unknown
type Obj = Record<string, Value>

/** One definition's structs (inline and common), by name. */
export class SchemaModel {
  private readonly structs = new Map<string, FieldSpec[]>()
  private readonly cache = new Map<string, fc.Arbitrary<Obj>>()

  constructor(
    readonly spec: MessageSpec,
    private readonly options: ArbitraryOptions = DEFAULT_OPTIONS,
  ) {
    for (const s of spec.commonStructs) this.structs.set(s.name, s.fields)
    const collect = (fields: FieldSpec[]) => {
      for (const f of fields) {
        if (!f.fields) continue
        this.structs.set(f.type.replace(/^\[\]/, ''), f.fields)
        collect(f.fields)
      }
    }
    collect(spec.fields)
    for (const s of spec.commonStructs) collect(s.fields)
  }

  isFlexible(version: number): boolean {
    return inRange(this.spec.flexibleVersions, version)
  }

  structFields(name: string): FieldSpec[] {
    const fields = this.structs.get(name)
    if (!fields) throw new Error(`${this.spec.name}: no struct ${name}`)
    return fields
  }

  /** True when the field is on the wire at this version (as a regular or a tagged field). */
  isPresent(f: FieldSpec, version: number): boolean {
    if (!inRange(f.versions, version)) return false
    if (f.tag === undefined) return true
    return this.isFlexible(version) && inRange(f.taggedVersions, version)
  }

  /** The value the decoder gives a field it did not read (Kafka's defaults, messages/README.md). */
  defaultValue(f: FieldSpec): Value {
    const d = f.default
    if (d === 'null') return null
    if (f.type.startsWith('[]')) return []
    if (!isPrimitive(f.type)) return this.defaultStruct(f.type)
    switch (f.type) {
      case 'bool':
        return d === 'true'
      case 'int64':
        return d === undefined || d === '' ? 0n : BigInt(d)
      case 'string':
        return d ?? ''
      case 'uuid':
        return ZERO_UUID
      case 'bytes':
        return Buffer.alloc(0)
      case 'records':
        return null
      default:
        return d === undefined || d === '' ? 0 : Number(d)
    }
  }

  defaultStruct(name: string): Obj {
    const out: Obj = {}
    for (const f of this.structFields(name)) out[camelCase(f.name)] = this.defaultValue(f)
    return out
  }

  /** Values of the whole message at `version`. */
  message(version: number): fc.Arbitrary<Obj> {
    return this.struct(this.spec.name, this.spec.fields, version, 0)
  }

  /**
   * `taggedStruct`: the value of a tagged struct field. Such a struct is left out of the encoding
   * when its known fields equal their defaults, losing its unknown tagged fields (a known codec
   * bug pinned by roundtrip.test.ts), so those values get no unknown tagged fields here.
   */
  private struct(name: string, fields: FieldSpec[], version: number, depth: number, taggedStruct = false): fc.Arbitrary<Obj> {
    const key = `${name}@${version}@${depth}@${taggedStruct}`
    const cached = this.cache.get(key)
    if (cached) return cached
    const parts: Record<string, fc.Arbitrary<Value>> = {}
    for (const f of fields) {
      parts[camelCase(f.name)] = this.isPresent(f, version) ? this.field(f, version, depth) : fc.constant(this.defaultValue(f))
    }
    let arb: fc.Arbitrary<Obj> = fc.record(parts)
    if (this.isFlexible(version) && this.options.unknownTaggedFields) {
      const used = fields.filter((f) => f.tag !== undefined).map((f) => f.tag!)
      const first = used.length ? Math.max(...used) + 1 : 0
      const unknown = fc
        .uniqueArray(fc.oneof(fc.integer({min: first, max: first + 20}), fc.integer({min: 1000, max: 0xffffffff})), {minLength: 1, maxLength: 3})
        .chain((tags) =>
          fc.tuple(...tags.sort((a, b) => a - b).map((tag) => fc.uint8Array({maxLength: 6}).map((data) => ({tag, data: Buffer.from(data)})))),
        )
      arb = fc.tuple(arb, fc.option(unknown, {freq: 6, nil: undefined})).map(([m, u]) => (u === undefined ? m : {...m, unknownTaggedFields: u}))
    }
    this.cache.set(key, arb)
    return arb
  }

  private field(f: FieldSpec, version: number, depth: number): fc.Arbitrary<Value> {
    const elem = f.type.startsWith('[]') ? f.type.slice(2) : undefined
    let arb: fc.Arbitrary<Value>
    if (elem !== undefined) {
      const element = isPrimitive(elem) ? primitive(elem, this.options) : this.struct(elem, this.structFields(elem), version, depth + 1)
      const maxLength = Math.max(1, this.options.maxArrayLength - depth)
      arb = fc.array(element, {maxLength})
    } else if (isPrimitive(f.type)) {
      arb = primitive(f.type, this.options)
    } else {
      arb = this.struct(f.type, this.structFields(f.type), version, depth + 1, f.tag !== undefined)
    }
    // Now and then the default itself: a tagged field equal to its default is left out of the
    // encoding, and the decoder must give the default back.
    if (f.default !== 'null') {
      const d = this.defaultValue(f)
      arb = fc.oneof({arbitrary: arb, weight: 5}, {arbitrary: fc.constant(d), weight: 1})
    }
    return inRange(f.nullableVersions, version) ? fc.option(arb, {nil: null, freq: 4}) : arb
  }
}

/** Unicode strings (valid code points only: a lone surrogate has no UTF-8 encoding). */
function string(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(fc.string({maxLength}), fc.string({unit: 'binary', maxLength}), fc.string({unit: 'grapheme', maxLength}))
}

export function primitive(t: PrimitiveType, options: ArbitraryOptions = DEFAULT_OPTIONS): fc.Arbitrary<Value> {
  switch (t) {
    case 'bool':
      return fc.boolean()
    case 'int8':
      return fc.integer({min: -128, max: 127})
    case 'int16':
      return fc.integer({min: -32768, max: 32767})
    case 'uint16':
      return fc.integer({min: 0, max: 0xffff})
    case 'int32':
      return fc.integer({min: -(2 ** 31), max: 2 ** 31 - 1})
    case 'uint32':
      return fc.integer({min: 0, max: 0xffffffff})
    case 'int64':
      return fc.bigInt({min: INT64_MIN, max: INT64_MAX})
    case 'float64':
      return fc.double()
    case 'string':
      return string(options.maxStringLength)
    case 'uuid':
      return fc.uint8Array({minLength: 16, maxLength: 16}).map((b) => Buffer.from(b).toString('base64url'))
    case 'bytes':
    case 'records':
      return fc.uint8Array({maxLength: options.maxBytesLength}).map((b) => Buffer.from(b))
  }
}
