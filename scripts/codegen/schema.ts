/**
 * The schema language of Kafka's message definitions (messages/README.md in the reference):
 * JSON with `//` comments; version ranges "3+", "0-2", "5", "none"; fields with nullable,
 * tagged and flexible version ranges; nested structs and common structs.
 */
import {readFileSync} from 'node:fs'

export interface VersionRange {
  min: number
  /** Inclusive; Infinity for an open range ("3+"). */
  max: number
}

export const NO_VERSIONS: VersionRange = {min: Infinity, max: -Infinity}

export function parseVersions(spec: string | undefined, what: string): VersionRange {
  if (spec === undefined || spec === 'none') return NO_VERSIONS
  let m = /^(\d+)\+$/.exec(spec)
  if (m) return {min: Number(m[1]), max: Infinity}
  m = /^(\d+)-(\d+)$/.exec(spec)
  if (m) return {min: Number(m[1]), max: Number(m[2])}
  m = /^(\d+)$/.exec(spec)
  if (m) return {min: Number(m[1]), max: Number(m[1])}
  throw new Error(`${what}: bad version range ${JSON.stringify(spec)}`)
}

export function isEmpty(r: VersionRange): boolean {
  return r.min > r.max
}

export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  return {min: Math.max(a.min, b.min), max: Math.min(a.max, b.max)}
}

/** True when every version of `inner` is in `outer`. */
export function covers(outer: VersionRange, inner: VersionRange): boolean {
  return isEmpty(inner) || (outer.min <= inner.min && outer.max >= inner.max)
}

export const PRIMITIVE_TYPES = ['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'uuid', 'bytes', 'records'] as const
export type PrimitiveType = (typeof PRIMITIVE_TYPES)[number]

export function isPrimitive(t: string): t is PrimitiveType {
  return (PRIMITIVE_TYPES as readonly string[]).includes(t)
}

export interface FieldSpec {
  name: string
  /** As written: "int32", "[]int32", "[]TopicData", "LeaderIdAndEpoch". */
  type: string
  versions: VersionRange
  nullableVersions: VersionRange
  taggedVersions: VersionRange
  tag: number | undefined
  /** Per-field override of the message's flexible versions (only RequestHeader.ClientId: "none"). */
  flexibleVersions: VersionRange | undefined
  default: string | undefined
  ignorable: boolean
  about: string
  fields: FieldSpec[] | undefined
}

export interface StructSpec {
  name: string
  fields: FieldSpec[]
}

export interface MessageSpec {
  /** The definition's file name without .json. */
  file: string
  name: string
  kind: 'request' | 'response' | 'header' | 'data'
  apiKey: number | undefined
  validVersions: VersionRange
  flexibleVersions: VersionRange
  latestVersionUnstable: boolean
  listeners: string[]
  fields: FieldSpec[]
  commonStructs: StructSpec[]
}

/** Removes `//` comments (outside string literals) so the text parses as JSON. */
export function stripJsonComments(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      out += c
      if (c === '\\') out += text[++i] ?? ''
      else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
      out += c
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else {
      out += c
    }
  }
  return out
}

type RawField = Record<string, unknown> & {name: string; type: string; fields?: RawField[]}

function parseField(raw: RawField, where: string): FieldSpec {
  const what = `${where}.${raw.name}`
  const tag = raw.tag === undefined ? undefined : Number(raw.tag)
  const field: FieldSpec = {
    name: raw.name,
    type: raw.type,
    versions: parseVersions(raw.versions as string, what),
    nullableVersions: parseVersions(raw.nullableVersions as string | undefined, what),
    taggedVersions: parseVersions(raw.taggedVersions as string | undefined, what),
    tag,
    flexibleVersions: raw.flexibleVersions === undefined ? undefined : parseVersions(raw.flexibleVersions as string, what),
    default: raw.default === undefined ? undefined : String(raw.default),
    ignorable: raw.ignorable === true,
    about: String(raw.about ?? ''),
    fields: raw.fields?.map((f) => parseField(f, what)),
  }
  if ((tag === undefined) !== isEmpty(field.taggedVersions)) throw new Error(`${what}: tag and taggedVersions go together`)
  return field
}

export function parseMessage(file: string, text: string): MessageSpec {
  const raw = JSON.parse(stripJsonComments(text)) as Record<string, unknown>
  const name = String(raw.name)
  return {
    file,
    name,
    kind: raw.type as MessageSpec['kind'],
    apiKey: raw.apiKey === undefined ? undefined : Number(raw.apiKey),
    validVersions: parseVersions(raw.validVersions as string, name),
    flexibleVersions: parseVersions(raw.flexibleVersions as string | undefined, name),
    latestVersionUnstable: raw.latestVersionUnstable === true,
    listeners: (raw.listeners as string[] | undefined) ?? [],
    fields: ((raw.fields as RawField[] | undefined) ?? []).map((f) => parseField(f, name)),
    commonStructs: ((raw.commonStructs as Array<{name: string; fields: RawField[]}> | undefined) ?? []).map((s) => ({
      name: s.name,
      fields: s.fields.map((f) => parseField(f, `${name}.${s.name}`)),
    })),
  }
}

export function loadMessage(path: string, file: string): MessageSpec {
  return parseMessage(file, readFileSync(path, 'utf8'))
}
