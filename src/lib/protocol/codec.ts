/**
 * Array helpers shared by the generated codecs (src/lib/protocol/generated). An element codec
 * takes the version and the field path so that struct codecs and primitive codecs have one shape.
 */
import type {Reader} from './reader.js'
import type {Writer} from './writer.js'

export type ReadElement<T> = (r: Reader, version: number, field: string) => T
export type WriteElement<T> = (w: Writer, value: T, version: number) => void

export function readArray<T>(
  r: Reader,
  field: string,
  version: number,
  flexible: boolean,
  minElementSize: number,
  readElement: ReadElement<T>,
): T[] {
  const n = r.arrayLength(field, flexible, false, minElementSize)
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(readElement(r, version, field))
  return out
}

export function readNullableArray<T>(
  r: Reader,
  field: string,
  version: number,
  flexible: boolean,
  minElementSize: number,
  readElement: ReadElement<T>,
): T[] | null {
  const n = r.arrayLength(field, flexible, true, minElementSize)
  if (n < 0) return null
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(readElement(r, version, field))
  return out
}

export function writeArray<T>(w: Writer, values: readonly T[] | null, version: number, flexible: boolean, nullable: boolean, writeElement: WriteElement<T>, field: string): void {
  if (values === null && !nullable) throw new TypeError(`${field}: null in a version where the array is not nullable`)
  w.arrayLength(values, flexible)
  if (values) for (const v of values) writeElement(w, v, version)
}

// Element codecs for arrays of primitives ([]int32, []string, ...).
export const readInt8: ReadElement<number> = (r, _v, f) => r.int8(f)
export const readInt16: ReadElement<number> = (r, _v, f) => r.int16(f)
export const readInt32: ReadElement<number> = (r, _v, f) => r.int32(f)
export const readInt64: ReadElement<bigint> = (r, _v, f) => r.int64(f)
export const readUuid: ReadElement<string> = (r, _v, f) => r.uuid(f)
export const readString: ReadElement<string> = (r, _v, f) => r.string(f, false)
export const readCompactString: ReadElement<string> = (r, _v, f) => r.string(f, true)

export const writeInt8: WriteElement<number> = (w, v) => w.int8(v)
export const writeInt16: WriteElement<number> = (w, v) => w.int16(v)
export const writeInt32: WriteElement<number> = (w, v) => w.int32(v)
export const writeInt64: WriteElement<bigint> = (w, v) => w.int64(v)
export const writeUuid: WriteElement<string> = (w, v) => w.uuid(v)
export const writeString: WriteElement<string> = (w, v) => w.string(v, false)
export const writeCompactString: WriteElement<string> = (w, v) => w.string(v, true)

export const NO_KNOWN_TAGS = (): boolean => false

/** A nullable struct field: an int8 presence marker (-1 null, 1 present), then the struct. */
export function readNullableStruct<T>(r: Reader, field: string, version: number, read: (r: Reader, version: number) => T): T | null {
  return r.int8(field) < 0 ? null : read(r, version)
}

export function writeNullableStruct<T>(w: Writer, value: T | null, version: number, write: (w: Writer, v: T, version: number) => void): void {
  if (value === null) {
    w.int8(-1)
  } else {
    w.int8(1)
    write(w, value, version)
  }
}
