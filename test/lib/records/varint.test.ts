import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {CorruptRecordError} from '../../../src/lib/records/batch.js'
import {RecordReader, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong} from '../../../src/lib/records/varint.js'

/** Reference zigzag varint encoder on BigInt (protobuf's definition). */
function reference(value: bigint, bits: bigint): Buffer {
  let raw = BigInt.asUintN(Number(bits), (value << 1n) ^ (value >> (bits - 1n)))
  const bytes: number[] = []
  while (raw >= 0x80n) {
    bytes.push(Number(raw & 0x7fn) | 0x80)
    raw >>= 7n
  }
  bytes.push(Number(raw))
  return Buffer.from(bytes)
}

function encodeVarint(value: number): Buffer {
  const buf = Buffer.alloc(10)
  return buf.subarray(0, writeVarint(buf, 0, value))
}

function encodeVarlong(value: number): Buffer {
  const buf = Buffer.alloc(10)
  return buf.subarray(0, writeVarlong(buf, 0, value))
}

describe('varint (zigzag int32)', () => {
  it.each([
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [300, 'd804'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ])('%i encodes as %s', (value, hex) => {
    expect(encodeVarint(value).toString('hex')).toBe(hex)
    expect(sizeOfVarint(value)).toBe(hex.length / 2)
    expect(new RecordReader(Buffer.from(hex, 'hex'), 0, hex.length / 2).readVarint()).toBe(value)
  })

  it('matches the reference encoding and round-trips for every int32', () => {
    fc.assert(
      fc.property(fc.integer({min: -(2 ** 31), max: 2 ** 31 - 1}), (value) => {
        const bytes = encodeVarint(value)
        expect(bytes).toEqual(reference(BigInt(value), 32n))
        expect(sizeOfVarint(value)).toBe(bytes.length)
        expect(new RecordReader(bytes, 0, bytes.length).readVarint()).toBe(value)
      }),
    )
  })

  it('rejects more than 5 bytes and truncation with CorruptRecordError', () => {
    expect(() => new RecordReader(Buffer.from('ffffffffff01', 'hex'), 0, 6).readVarint()).toThrow(/too long/)
    expect(() => new RecordReader(Buffer.from('ff', 'hex'), 0, 1).readVarint()).toThrow(CorruptRecordError)
  })
})

describe('varlong (zigzag int64, safe integers)', () => {
  it('matches the reference encoding and round-trips for every safe integer', () => {
    const values = fc.oneof(
      fc.integer({min: -(2 ** 31), max: 2 ** 31 - 1}),
      fc.maxSafeInteger(),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 52, -(2 ** 52), 2 ** 31, -(2 ** 31) - 1),
    )
    fc.assert(
      fc.property(values, (value) => {
        const bytes = encodeVarlong(value)
        expect(bytes).toEqual(reference(BigInt(value), 64n))
        expect(sizeOfVarlong(value)).toBe(bytes.length)
        expect(new RecordReader(bytes, 0, bytes.length).readVarlong()).toBe(value)
      }),
      {numRuns: 2000},
    )
  })

  it('rejects values outside the safe integer range, more than 10 bytes and truncation', () => {
    for (const value of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      const bytes = reference(value, 64n)
      expect(() => new RecordReader(bytes, 0, bytes.length).readVarlong()).toThrow(/safe integer range/)
    }
    const long = Buffer.from('ffffffffffffffffffff01', 'hex')
    expect(() => new RecordReader(long, 0, long.length).readVarlong()).toThrow(/too long/)
    expect(() => new RecordReader(Buffer.from('80', 'hex'), 0, 1).readVarlong()).toThrow(CorruptRecordError)
  })
})

describe('RecordReader', () => {
  it('never reads past its end, even when the buffer continues', () => {
    const reader = new RecordReader(Buffer.from('0601020304', 'hex'), 0, 3)
    expect(() => reader.readNullableBytes('key')).toThrow(/Length 3 exceeds the 2 bytes remaining/)
  })

  it('reads -1 as null and rejects other negative lengths', () => {
    expect(new RecordReader(Buffer.from('01', 'hex'), 0, 1).readNullableBytes('key')).toBeNull()
    expect(() => new RecordReader(Buffer.from('03', 'hex'), 0, 1).readNullableBytes('key')).toThrow(/Invalid key length -2/)
  })

  it('reports a fixed position for decompressed data', () => {
    const reader = new RecordReader(Buffer.alloc(0), 0, 0, 1234)
    try {
      reader.readInt8()
      expect.unreachable()
    } catch (error) {
      expect((error as CorruptRecordError).position).toBe(1234)
      expect((error as CorruptRecordError).message).toMatch(/at byte 0 of the decompressed records/)
    }
  })
})
