import {describe, expect, it} from 'vitest'
import {encodeRequest} from '../../../src/lib/protocol/index.js'
import {ProduceRequest} from '../../../src/lib/protocol/generated/produce-request.js'
import {Writer} from '../../../src/lib/protocol/writer.js'

// Writer primitives against bytes computed by hand from the protocol guide's primitive types
// (see reader.test.ts for the encodings), and the zero-copy handling of large byte slices.

const hex = (s: string) => s.replace(/\s+/g, '')
const written = (write: (w: Writer) => void) => {
  const w = new Writer(4) // small, so that the tests also grow the buffer
  write(w)
  return w.toBuffer().toString('hex')
}

describe('Writer', () => {
  it('writes big-endian integers, float64, bool and uuid', () => {
    expect(
      written((w) => {
        w.int8(-1)
        w.int16(-2)
        w.uint16(65535)
        w.int32(-(2 ** 31))
        w.int64(-(2n ** 63n))
        w.int64(2n ** 63n - 1n)
        w.float64(1)
        w.bool(false)
        w.bool(true)
        w.uuid('AAECAwQFBgcICQoLDA0ODw')
      }),
    ).toBe(hex('ff fffe ffff 80000000 8000000000000000 7fffffffffffffff 3ff0000000000000 00 01 000102030405060708090a0b0c0d0e0f'))
  })

  it('refuses a uuid that is not 22 base64url characters of 16 bytes', () => {
    expect(() => written((w) => w.uuid('not a uuid'))).toThrow(TypeError)
    expect(() => written((w) => w.uuid('AAECAwQFBgcICQoLDA0ODw=='))).toThrow(TypeError)
  })

  describe('unsigned varint', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16383, 'ff7f'],
      [16384, '808001'],
      [2 ** 31, '8080808008'],
      [2 ** 32 - 1, 'ffffffff0f'],
    ]
    for (const [value, bytes] of cases) it(`${value} is ${bytes}`, () => expect(written((w) => w.uvarint(value))).toBe(bytes))

    it('refuses values outside 0..2^32-1', () => {
      for (const v of [-1, 2 ** 32, 1.5, Number.NaN]) expect(() => written((w) => w.uvarint(v))).toThrow(RangeError)
    })
  })

  it('writes classic and compact strings with their null markers', () => {
    expect(written((w) => w.string('abc', false))).toBe(hex('0003 616263'))
    expect(written((w) => w.string('abc', true))).toBe(hex('04 616263'))
    expect(written((w) => w.string('é🚀', true))).toBe(hex('07 c3a9 f09f9a80'))
    expect(written((w) => w.string('', true))).toBe('01')
    expect(written((w) => w.nullableString(null, false))).toBe('ffff')
    expect(written((w) => w.nullableString(null, true))).toBe('00')
    expect(() => written((w) => w.string(null as never, true))).toThrow(TypeError)
  })

  it('refuses a string longer than 32767 UTF-8 bytes', () => {
    expect(written((w) => w.string('a'.repeat(32767), false)).slice(0, 4)).toBe('7fff')
    expect(() => written((w) => w.string('a'.repeat(32768), false))).toThrow(RangeError)
    expect(() => written((w) => w.string('é'.repeat(16384), true))).toThrow(RangeError)
  })

  it('writes classic and compact bytes and arrays with their null markers', () => {
    expect(written((w) => w.bytes(Buffer.from([1, 2]), false))).toBe(hex('00000002 0102'))
    expect(written((w) => w.bytes(Buffer.from([1, 2]), true))).toBe(hex('03 0102'))
    expect(written((w) => w.nullableBytes(null, false))).toBe('ffffffff')
    expect(written((w) => w.nullableBytes(null, true))).toBe('00')
    expect(written((w) => w.arrayLength([1, 2, 3], false))).toBe('00000003')
    expect(written((w) => w.arrayLength([], true))).toBe('01')
    expect(written((w) => w.arrayLength(null, false))).toBe('ffffffff')
    expect(written((w) => w.arrayLength(null, true))).toBe('00')
  })

  describe('tagged fields', () => {
    it('writes an empty section as one zero byte', () => {
      expect(written((w) => w.unknownTaggedFields(undefined))).toBe('00')
      expect(written((w) => w.unknownTaggedFields([]))).toBe('00')
      expect(written((w) => w.taggedFields([], undefined))).toBe('00')
    })

    it('merges known and unknown fields in ascending tag order', () => {
      const bytes = written((w) =>
        w.taggedFields(
          [
            [1, (tw) => tw.int8(0x11)],
            [5, (tw) => tw.int16(0x5555)],
          ],
          [
            {tag: 3, data: Buffer.from([0x33])},
            {tag: 200, data: Buffer.from([])},
          ],
        ),
      )
      // count 4; tag 1 size 1; tag 3 size 1; tag 5 size 2; tag 200 (c8 01) size 0.
      expect(bytes).toBe(hex('04 01 01 11 03 01 33 05 02 5555 c801 00'))
    })

    it('writes unknown fields as they were read when there are no known ones', () => {
      expect(written((w) => w.unknownTaggedFields([{tag: 0, data: Buffer.from([0xaa])}, {tag: 128, data: Buffer.from([1, 2])}]))).toBe(
        hex('02 00 01 aa 8001 02 0102'),
      )
    })
  })

  describe('zero copy', () => {
    it('keeps a large byte slice by reference in toChunks()', () => {
      const big = Buffer.alloc(1 << 20, 7)
      const w = new Writer()
      w.int32(1)
      w.bytes(big, false)
      w.int8(2)
      const chunks = w.toChunks()
      expect(chunks).toHaveLength(3)
      expect(chunks[1]).toBe(big)
      expect(chunks[0]!.toString('hex')).toBe(hex('00000001 00100000'))
      expect(chunks[2]!.toString('hex')).toBe('02')
      expect(w.length).toBe(4 + 4 + (1 << 20) + 1)
    })

    it('copies small slices into its own buffer', () => {
      const small = Buffer.alloc(100, 7)
      const w = new Writer()
      w.bytes(small, true)
      const chunks = w.toChunks()
      expect(chunks).toHaveLength(1)
      expect(chunks[0]).not.toBe(small)
      expect(chunks[0]!.buffer).not.toBe(small.buffer)
    })

    it('does not overwrite what it wrote before a large slice', () => {
      const a = Buffer.alloc(20_000, 1)
      const b = Buffer.alloc(30_000, 2)
      const w = new Writer(8)
      w.int32(0x01020304)
      w.raw(a)
      w.int32(0x05060708)
      w.raw(b)
      w.int32(0x090a0b0c)
      const one = w.toBuffer()
      expect(one.length).toBe(12 + 50_000)
      expect(one.subarray(0, 4).toString('hex')).toBe('01020304')
      expect(one.subarray(20_004, 20_008).toString('hex')).toBe('05060708')
      expect(one.subarray(50_008).toString('hex')).toBe('090a0b0c')
      expect(one.subarray(4, 20_004).equals(a)).toBe(true)
    })

    it('sends a Produce request carrying 1 MiB of records without copying them', () => {
      const records = Buffer.alloc(1 << 20, 0x5a)
      const body = {acks: -1, timeoutMs: 30_000, topicData: [{name: 't', partitionData: [{index: 0, records}]}]}
      for (const version of [3, 9]) {
        const chunks = encodeRequest(0, version, 42, 'kcli', body)
        expect(chunks).toContain(records)
        const frame = Buffer.concat(chunks)
        expect(frame.readInt32BE(0)).toBe(frame.length - 4)
        const decoded = ProduceRequest.decode(frame.subarray(4 + (version >= 9 ? 15 : 14)), version)
        expect(decoded.topicData[0]!.partitionData[0]!.records!.equals(records)).toBe(true)
      }
    })
  })
})
