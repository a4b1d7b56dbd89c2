import {gzipSync} from 'node:zlib'
import {compress as zstdCompress} from '@mongodb-js/zstd'
import {compressFrameSync} from 'lz4-napi'
import {compressSync as snappyCompressSync} from 'snappy'
import {describe, expect, it} from 'vitest'
import {CompressionType, CorruptRecordError} from '../../../src/lib/records/batch.js'
import {compress, decompress} from '../../../src/lib/records/compression.js'

const CODECS = [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd] as const
const MiB = 1024 * 1024

/** Text-like data that compresses moderately, with some random bytes. */
function sample(size: number): Buffer {
  const out = Buffer.alloc(size)
  let seed = 7
  for (let i = 0; i < size; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    out[i] = i % 7 === 0 ? seed & 0xff : 97 + (i % 13)
  }
  return out
}

async function corrupt(promise: Promise<unknown>): Promise<CorruptRecordError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptRecordError)
    return error as CorruptRecordError
  }
  throw new Error('expected a CorruptRecordError')
}

/** An LZ4 frame as Java's KafkaLZ4BlockOutputStream lays it out: FLG 0x60, BD 0x40 (64 KiB), HC 0x82. */
function lz4FrameOfStoredBlocks(blocks: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('04224d18604082', 'hex')]
  for (const block of blocks) {
    const size = Buffer.alloc(4)
    size.writeUInt32LE((block.length | 0x80000000) >>> 0)
    parts.push(size, block)
  }
  parts.push(Buffer.alloc(4)) // end mark
  return Buffer.concat(parts)
}

/** A zstd frame without a content size (as streaming compressors write), window 128 KiB, with the given blocks. */
function zstdFrame(blocks: {type: 'raw' | 'rle'; size: number; byte?: number}[]): Buffer {
  const parts: Buffer[] = [Buffer.from('28b52ffd0038', 'hex')]
  blocks.forEach((block, i) => {
    const last = i === blocks.length - 1 ? 1 : 0
    const header = (block.size << 3) | ((block.type === 'rle' ? 1 : 0) << 1) | last
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]))
    parts.push(block.type === 'rle' ? Buffer.from([block.byte ?? 0x41]) : Buffer.alloc(block.size, block.byte ?? 0x42))
  })
  return Buffer.concat(parts)
}

describe('compress / decompress', () => {
  it.each(CODECS)('codec %i round-trips empty, small and multi-block data', async (type) => {
    for (const size of [0, 1, 1000, 200_000]) {
      const data = sample(size)
      const compressed = await compress(type, data)
      expect(await decompress(type, compressed)).toEqual(data)
    }
  })

  it('None passes data through', async () => {
    const data = Buffer.from('abc')
    expect(await compress(CompressionType.None, data)).toBe(data)
    expect(await decompress(CompressionType.None, data)).toBe(data)
  })

  it('an unknown codec is corrupt', async () => {
    expect((await corrupt(decompress(6 as CompressionType, Buffer.alloc(3)))).message).toMatch(/Unknown compression type id 6/)
  })

  it('reports positions relative to the caller buffer', async () => {
    const error = await corrupt(decompress(CompressionType.Lz4, Buffer.from('nonsense'), {position: 61}))
    expect(error.position).toBe(61)
  })
})

describe('snappy', () => {
  it('writes the snappy-java (xerial) framing with 32 KiB blocks, like the Java client', async () => {
    const data = sample(100_000)
    const out = await compress(CompressionType.Snappy, data)
    expect(out.subarray(0, 16).toString('hex')).toBe('82534e415050590000000001' + '00000001')
    let offset = 16
    const blocks: number[] = []
    while (offset < out.length) {
      const length = out.readInt32BE(offset)
      blocks.push(length)
      offset += 4 + length
    }
    expect(offset).toBe(out.length)
    expect(blocks).toHaveLength(Math.ceil(100_000 / 32_768))
  })

  it('reads raw snappy, as librdkafka writes it', async () => {
    const data = sample(50_000)
    expect(await decompress(CompressionType.Snappy, snappyCompressSync(data))).toEqual(data)
  })

  it('reads a xerial stream built from independent blocks', async () => {
    const a = Buffer.from('first block ')
    const b = Buffer.from('second block')
    const header = Buffer.from('82534e41505059000000000100000001', 'hex')
    const framed = [a, b].map((block) => {
      const compressed = snappyCompressSync(block)
      const length = Buffer.alloc(4)
      length.writeInt32BE(compressed.length)
      return Buffer.concat([length, compressed])
    })
    expect((await decompress(CompressionType.Snappy, Buffer.concat([header, ...framed]))).toString()).toBe(
      'first block second block',
    )
  })

  it('checks declared lengths against maxSize before decompressing', async () => {
    const raw = snappyCompressSync(Buffer.alloc(2 * MiB))
    expect((await corrupt(decompress(CompressionType.Snappy, raw, {maxSize: MiB}))).message).toMatch(/declares 2097152 bytes/)
    const framed = await compress(CompressionType.Snappy, Buffer.alloc(2 * MiB))
    expect((await corrupt(decompress(CompressionType.Snappy, framed, {maxSize: MiB}))).message).toMatch(/more than the maximum/)
    // a raw block claiming 4 GiB in five bytes
    await corrupt(decompress(CompressionType.Snappy, Buffer.from('ffffffff0f00', 'hex')))
  })

  it('rejects a xerial block length beyond the data', async () => {
    const framed = await compress(CompressionType.Snappy, Buffer.from('hello'))
    framed.writeInt32BE(1000, 16)
    expect((await corrupt(decompress(CompressionType.Snappy, framed))).message).toMatch(/block length 1000 exceeds/)
  })
})

describe('lz4', () => {
  it('writes a standard LZ4 frame with independent 64 KiB blocks, as Java does', async () => {
    const out = await compress(CompressionType.Lz4, sample(1000))
    expect(out.subarray(0, 6).toString('hex')).toBe('04224d186040')
  })

  it('reads a frame of stored (uncompressed) blocks', async () => {
    const frame = lz4FrameOfStoredBlocks([Buffer.from('abc'), Buffer.from('def')])
    expect((await decompress(CompressionType.Lz4, frame)).toString()).toBe('abcdef')
  })

  it('rejects a frame that could exceed maxSize before decompressing it, and checks the result', async () => {
    const bomb = compressFrameSync(Buffer.alloc(32 * MiB))
    expect(bomb.length).toBeLessThan(200_000)
    expect((await corrupt(decompress(CompressionType.Lz4, bomb, {maxSize: MiB}))).message).toMatch(/may decompress to/)
    const justOver = compressFrameSync(Buffer.alloc(MiB + 1))
    expect((await corrupt(decompress(CompressionType.Lz4, justOver, {maxSize: MiB}))).message).toMatch(
      /decompresses to 1048577 bytes, more than the maximum 1048576/,
    )
    expect((await decompress(CompressionType.Lz4, justOver, {maxSize: MiB + 1})).length).toBe(MiB + 1)
  })

  it('rejects truncated frames and oversized blocks', async () => {
    const frame = lz4FrameOfStoredBlocks([Buffer.from('abc')])
    expect((await corrupt(decompress(CompressionType.Lz4, frame.subarray(0, frame.length - 2)))).message).toMatch(/Truncated/)
    const oversized = Buffer.from(frame)
    oversized.writeUInt32LE(0x80000000 + 70_000, 7)
    expect((await corrupt(decompress(CompressionType.Lz4, oversized))).message).toMatch(/exceeds the block maximum 65536/)
  })
})

describe('zstd', () => {
  it('reads frames without a content size, as Java and librdkafka write them', async () => {
    const frame = zstdFrame([{type: 'raw', size: 5, byte: 0x61}, {type: 'rle', size: 3, byte: 0x62}])
    expect((await decompress(CompressionType.Zstd, frame)).toString()).toBe('aaaaabbb')
  })

  it('reads concatenated frames', async () => {
    const a = await zstdCompress(Buffer.from('one '), 3)
    const b = await zstdCompress(Buffer.from('two'), 3)
    expect((await decompress(CompressionType.Zstd, Buffer.concat([a, b]))).toString()).toBe('one two')
  })

  it('rejects a run-length bomb from its block headers, before decompressing', async () => {
    const bomb = zstdFrame(Array.from({length: 100}, () => ({type: 'rle' as const, size: 128 * 1024})))
    expect(bomb.length).toBeLessThan(500)
    expect((await corrupt(decompress(CompressionType.Zstd, bomb, {maxSize: MiB}))).message).toMatch(
      /may decompress to 13107200 bytes/,
    )
    expect((await decompress(CompressionType.Zstd, bomb, {maxSize: 13107200})).length).toBe(13107200)
  })

  it('rejects compressed data over maxSize', async () => {
    const big = await zstdCompress(Buffer.alloc(8 * MiB), 3)
    await corrupt(decompress(CompressionType.Zstd, big, {maxSize: MiB}))
  })

  it('rejects reserved block types and truncation', async () => {
    const frame = zstdFrame([{type: 'raw', size: 5}])
    const reserved = Buffer.from(frame)
    reserved[6] |= 0x06
    expect((await corrupt(decompress(CompressionType.Zstd, reserved))).message).toMatch(/Reserved zstd block type/)
    await corrupt(decompress(CompressionType.Zstd, frame.subarray(0, frame.length - 1)))
  })
})

describe('gzip', () => {
  it('caps the output exactly', async () => {
    const data = gzipSync(Buffer.alloc(MiB + 1))
    expect((await corrupt(decompress(CompressionType.Gzip, data, {maxSize: MiB}))).message).toMatch(/more than the maximum/)
    expect((await decompress(CompressionType.Gzip, data, {maxSize: MiB + 1})).length).toBe(MiB + 1)
  })
})

describe('fuzz: damaged compressed data only ever throws CorruptRecordError', () => {
  it.each(CODECS)('codec %i', async (type) => {
    const original = await compress(type, sample(5000))
    let seed = type
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    for (let i = 0; i < 600; i++) {
      let data = Buffer.from(original)
      if (i % 3 === 0) data = data.subarray(0, random(data.length))
      else for (let f = 1 + random(3); f > 0; f--) data[random(data.length)] = random(256)
      try {
        const out = await decompress(type, data, {maxSize: 64 * 1024})
        expect(out.length).toBeLessThanOrEqual(64 * 1024)
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error
      }
    }
  })
})
