import {describe, expect, it} from 'vitest'
import {ProtocolDecodeError} from '../../../src/lib/protocol/errors.js'
import {Reader} from '../../../src/lib/protocol/reader.js'

// Reader primitives against bytes computed by hand from the protocol guide's primitive types:
// INT8..INT64 and FLOAT64 big-endian; UNSIGNED_VARINT 7 bits a byte, low group first, high bit
// set on every byte but the last; STRING = INT16 length + UTF-8, null = -1; COMPACT_STRING =
// UNSIGNED_VARINT (length + 1), null = 0; BYTES = INT32 length; ARRAY = INT32 count, null = -1;
// COMPACT_ARRAY = UNSIGNED_VARINT (count + 1), null = 0; UUID = 16 bytes; a tagged-field section =
// UNSIGNED_VARINT count, then per field UNSIGNED_VARINT tag, UNSIGNED_VARINT size, the bytes.

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const reader = (s: string) => new Reader(hex(s))

function decodeError(f: () => unknown): ProtocolDecodeError {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolDecodeError)
    return e as ProtocolDecodeError
  }
  throw new Error('expected a ProtocolDecodeError')
}

describe('Reader', () => {
  describe('fixed-size integers, float64, bool, uuid', () => {
    it('reads big-endian values', () => {
      const r = reader('ff 7f ff fe ff ff 80000000 7fffffff 8000000000000000 7fffffffffffffff 3ff0000000000000 00 01 02')
      expect(r.int8('a')).toBe(-1)
      expect(r.int8('a')).toBe(127)
      expect(r.int16('a')).toBe(-2)
      expect(r.uint16('a')).toBe(65535)
      expect(r.int32('a')).toBe(-(2 ** 31))
      expect(r.int32('a')).toBe(2 ** 31 - 1)
      expect(r.int64('a')).toBe(-(2n ** 63n))
      expect(r.int64('a')).toBe(2n ** 63n - 1n)
      expect(r.float64('a')).toBe(1)
      expect(r.bool('a')).toBe(false)
      expect(r.bool('a')).toBe(true)
      expect(r.bool('a')).toBe(true) // any non-zero byte, as Kafka's readers
      expect(r.remaining).toBe(0)
    })

    it('reads a uuid as Kafka prints it (base64url, 22 characters)', () => {
      expect(reader('000102030405060708090a0b0c0d0e0f').uuid('id')).toBe('AAECAwQFBgcICQoLDA0ODw')
      expect(reader('00'.repeat(16)).uuid('id')).toBe('AAAAAAAAAAAAAAAAAAAAAA')
    })

    it('fails with the offset and field when the bytes run out', () => {
      const r = reader('00 01 02')
      r.int8('first')
      const e = decodeError(() => r.int32('Message.second'))
      expect(e.offset).toBe(1)
      expect(e.field).toBe('Message.second')
      expect(e.message).toContain('Message.second at offset 1')
    })
  })

  describe('unsigned varint', () => {
    const cases: Array<[string, number]> = [
      ['00', 0],
      ['01', 1],
      ['7f', 127],
      ['80 01', 128],
      ['ac 02', 300],
      ['ff 7f', 16383],
      ['80 80 01', 16384],
      ['ff ff 03', 65535],
      ['ff ff ff ff 07', 2 ** 31 - 1],
      ['80 80 80 80 08', 2 ** 31],
      ['ff ff ff ff 0f', 2 ** 32 - 1],
    ]
    for (const [bytes, value] of cases) {
      it(`${bytes} is ${value}`, () => {
        const r = reader(bytes)
        expect(r.uvarint('v')).toBe(value)
        expect(r.remaining).toBe(0)
      })
    }

    it('accepts a non-minimal encoding, as Kafka does (80 00 is 0)', () => {
      expect(reader('80 00').uvarint('v')).toBe(0)
    })

    it('rejects a 6-byte varint', () => {
      const e = decodeError(() => reader('80 80 80 80 80 00').uvarint('Message.count'))
      expect(e.offset).toBe(0)
      expect(e.field).toBe('Message.count')
    })

    it('rejects a 5-byte varint above 2^32 - 1', () => {
      decodeError(() => reader('ff ff ff ff 1f').uvarint('v'))
      decodeError(() => reader('80 80 80 80 10').uvarint('v'))
    })

    it('rejects a varint cut short', () => {
      const r = reader('00 80 80')
      r.int8('x')
      const e = decodeError(() => r.uvarint('v'))
      expect(e.offset).toBe(1)
    })
  })

  describe('strings', () => {
    it('reads classic and compact strings', () => {
      expect(reader('0003 616263').string('s', false)).toBe('abc')
      expect(reader('04 616263').string('s', true)).toBe('abc')
      expect(reader('0000').string('s', false)).toBe('')
      expect(reader('01').string('s', true)).toBe('')
      // "é" is 2 bytes and "🚀" 4 in UTF-8: lengths count bytes, not characters.
      expect(reader('0006 c3a9 f09f9a80').string('s', false)).toBe('é🚀')
      expect(reader('07 c3a9 f09f9a80').string('s', true)).toBe('é🚀')
    })

    it('reads the null markers of nullable strings', () => {
      expect(reader('ffff').nullableString('s', false)).toBeNull()
      expect(reader('00').nullableString('s', true)).toBeNull()
      expect(reader('0001 78').nullableString('s', false)).toBe('x')
      expect(reader('02 78').nullableString('s', true)).toBe('x')
    })

    it('refuses null where the string is not nullable, and negative lengths', () => {
      expect(decodeError(() => reader('ffff').string('M.name', false)).field).toBe('M.name')
      decodeError(() => reader('00').string('M.name', true))
      decodeError(() => reader('fffe').nullableString('M.name', false))
      decodeError(() => reader('8000').nullableString('M.name', false))
    })

    it('refuses a length past the end', () => {
      const e = decodeError(() => reader('0004 616263').string('M.name', false))
      expect(e.offset).toBe(2)
      decodeError(() => reader('05 616263').string('M.name', true))
      decodeError(() => reader('ffffffff0f').string('M.name', true))
    })
  })

  describe('bytes', () => {
    it('reads classic and compact bytes as slices of the input (no copy)', () => {
      const input = hex('00000003 010203 04 040506')
      const r = new Reader(input)
      const a = r.bytes('b', false)
      const b = r.bytes('b', true)
      expect([...a]).toEqual([1, 2, 3])
      expect([...b]).toEqual([4, 5, 6])
      expect(a.buffer).toBe(input.buffer)
      input[4] = 0x42
      expect(a[0]).toBe(0x42)
    })

    it('reads null markers and refuses them where not nullable', () => {
      expect(reader('ffffffff').nullableBytes('b', false)).toBeNull()
      expect(reader('00').nullableBytes('b', true)).toBeNull()
      decodeError(() => reader('ffffffff').bytes('b', false))
      decodeError(() => reader('00').bytes('b', true))
      decodeError(() => reader('fffffffe').nullableBytes('b', false))
      decodeError(() => reader('80000000').nullableBytes('b', false))
      decodeError(() => reader('7fffffff 00').bytes('b', false))
    })
  })

  describe('array lengths', () => {
    it('reads classic and compact counts and null markers', () => {
      expect(reader('00000002 0000').arrayLength('a', false, false, 1)).toBe(2)
      expect(reader('03 0000').arrayLength('a', true, false, 1)).toBe(2)
      expect(reader('01').arrayLength('a', true, false, 1)).toBe(0)
      expect(reader('ffffffff').arrayLength('a', false, true, 1)).toBe(-1)
      expect(reader('00').arrayLength('a', true, true, 1)).toBe(-1)
    })

    it('refuses null where the array is not nullable, and negative counts', () => {
      decodeError(() => reader('ffffffff').arrayLength('a', false, false, 1))
      decodeError(() => reader('00').arrayLength('a', true, false, 1))
      decodeError(() => reader('fffffffe').arrayLength('a', false, true, 1))
      decodeError(() => reader('80000000').arrayLength('a', false, true, 1))
    })

    it('refuses a count whose smallest elements cannot fit in what is left', () => {
      // Two int32 elements need 8 bytes; 7 are left.
      const e = decodeError(() => reader('00000002 00000000000000').arrayLength('M.ids', false, false, 4))
      expect(e.offset).toBe(0)
      expect(e.field).toBe('M.ids')
      decodeError(() => reader('7fffffff').arrayLength('a', false, false, 1))
      decodeError(() => reader('ffffffff0f').arrayLength('a', true, false, 1))
    })
  })

  describe('tagged fields', () => {
    it('hands known tags to the caller and keeps unknown ones raw, in order', () => {
      // 3 fields: tag 0 (1 byte: 05), tag 2 (2 bytes: aabb), tag 200 (varint c8 01, 0 bytes); then a trailing byte.
      const r = reader('03 00 01 05 02 02 aabb c801 00 ee')
      let known = -1
      const unknown = r.taggedFields('M', (tag, tr) => {
        if (tag !== 0) return false
        known = tr.int8('M.known')
        return true
      })
      expect(known).toBe(5)
      expect(unknown).toEqual([
        {tag: 2, data: hex('aabb')},
        {tag: 200, data: Buffer.alloc(0)},
      ])
      expect(r.int8('after')).toBe(-18)
    })

    it('returns undefined when there are no unknown tags', () => {
      expect(reader('00').taggedFields('M', () => false)).toBeUndefined()
    })

    it('confines a known field to its declared size', () => {
      // Declares 1 byte but the known field reads 4: it must not read past its payload.
      decodeError(() => reader('01 00 01 00000000').taggedFields('M', (_t, tr) => (tr.int32('M.x'), true)))
      // Declares 2 bytes but the known field reads 1.
      decodeError(() => reader('01 00 02 0000').taggedFields('M', (_t, tr) => (tr.int8('M.x'), true)))
    })

    it('refuses a size past the end and a count that cannot be met', () => {
      decodeError(() => reader('01 05 0a 00').taggedFields('M', () => false))
      decodeError(() => reader('ffffffff0f 00 00').taggedFields('M', () => false))
    })
  })
})
