/**
 * The compression codecs of RecordBatch v2 (attributes bits 0-2). A compressed
 * batch compresses all its records as one block, placed right after the 61-byte
 * header; the header itself is never compressed.
 *
 * Wire formats, as the Java client and librdkafka write them:
 * - gzip (1): a gzip member (RFC 1952). Java: GZIPOutputStream, level 6 by default.
 * - snappy (2): the Java client writes snappy-java's ("xerial") stream framing:
 *     magic     8 bytes  0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
 *     version   int32    1
 *     compat    int32    1
 *     then blocks, each int32 compressedLength + one raw snappy block of at most 32 KiB input.
 *   librdkafka writes a single raw snappy block (varint uncompressedLength + data)
 *   and reads both; Java reads both too. We read both and write the xerial framing.
 * - lz4 (3): the standard LZ4 frame format (magic 0x184D2204, little-endian),
 *   independent 64 KiB blocks as Java's KafkaLZ4BlockOutputStream writes them.
 *   (The broken header checksum of Kafka < 0.10 applied only to magic 0/1 messages,
 *   which this project does not read.)
 * - zstd (4): standard zstd frames (magic 0xFD2FB528), normally without a content
 *   size since Java and librdkafka compress as a stream.
 *
 * Decompression never trusts the input's size claims blindly: every call takes a
 * maxSize and fails with CorruptRecordError before producing more than that.
 * gzip and snappy are checked exactly (zlib's maxOutputLength; snappy's length
 * prefixes). For lz4 and zstd the frame is walked first to compute an upper bound
 * of the output from its block headers; a frame whose bound exceeds maxSize plus
 * one maximal block is rejected before decompressing, and the result is checked
 * against maxSize afterwards, so at most maxSize + 4 MiB is ever allocated.
 */

import {promisify} from 'node:util'
import {gunzip as gunzipCallback, gzip as gzipCallback} from 'node:zlib'
import {CompressionType, CorruptRecordError} from './batch.js'

const gzip = promisify(gzipCallback)
const gunzip = promisify(gunzipCallback)

// The native codecs are imported on first use: most commands never meet a compressed batch, and
// loading the three addons costs about 30 ms at every start.
let lz4: typeof import('lz4-napi') | undefined
let snappy: typeof import('snappy') | undefined
let zstd: typeof import('@mongodb-js/zstd') | undefined

async function loadCodec(type: CompressionType): Promise<void> {
  if (type === CompressionType.Snappy) snappy ??= await import('snappy')
  else if (type === CompressionType.Lz4) lz4 ??= await import('lz4-napi')
  else if (type === CompressionType.Zstd) zstd ??= await import('@mongodb-js/zstd')
}

/** Default cap on the decompressed size of one batch's records. */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 64 * 1024 * 1024

export interface CompressOptions {
  /** Codec-specific level: gzip 1-9 (default 6), zstd 1-22 (default 3). Ignored by snappy and lz4. */
  level?: number
}

export interface DecompressOptions {
  /** Fail with CorruptRecordError rather than produce more than this many bytes. */
  maxSize?: number
  /** Added to error positions: where `data` starts in the caller's buffer. */
  position?: number
}

/** Compresses `data` with `type` in the format Kafka clients expect. None returns `data` itself. */
export async function compress(type: CompressionType, data: Buffer, options: CompressOptions = {}): Promise<Buffer> {
  await loadCodec(type)
  switch (type) {
    case CompressionType.None:
      return data
    case CompressionType.Gzip:
      return gzip(data, {level: options.level ?? 6})
    case CompressionType.Snappy:
      return snappyXerialCompress(data)
    case CompressionType.Lz4:
      return lz4!.compressFrameSync(data)
    case CompressionType.Zstd:
      return zstd!.compress(data, options.level ?? 3)
    default:
      throw new RangeError(`Unknown compression type id ${type as number}`)
  }
}

/**
 * Decompresses `data`; throws CorruptRecordError for an unknown codec, malformed
 * or truncated input, or output larger than maxSize. None returns `data` itself.
 */
export async function decompress(
  type: CompressionType,
  data: Buffer,
  options: DecompressOptions = {},
): Promise<Buffer> {
  if (type === CompressionType.None) return data
  const maxSize = options.maxSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE
  const position = options.position ?? 0
  await loadCodec(type)
  let output: Buffer
  try {
    switch (type) {
      case CompressionType.Gzip:
        output = await gunzipCapped(data, maxSize)
        break
      case CompressionType.Snappy:
        output = snappyDecompress(data, maxSize)
        break
      case CompressionType.Lz4:
        checkBound('lz4', lz4FrameBound(data), maxSize)
        output = lz4!.decompressFrameSync(data)
        break
      case CompressionType.Zstd:
        checkBound('zstd', zstdFrameBound(data), maxSize)
        output = await zstd!.decompress(data)
        break
      default:
        throw new CodecError(`Unknown compression type id ${type as number}`)
    }
  } catch (error) {
    if (error instanceof CodecError) throw new CorruptRecordError(error.message, position + error.offset)
    throw new CorruptRecordError(`Invalid ${codecName(type)} data: ${(error as Error).message}`, position)
  }
  if (output.length > maxSize) {
    throw new CorruptRecordError(
      `${codecName(type)} data decompresses to ${output.length} bytes, more than the maximum ${maxSize}`,
      position,
    )
  }
  return output
}

export function codecName(type: CompressionType): string {
  return ['none', 'gzip', 'snappy', 'lz4', 'zstd'][type] ?? `codec ${type as number}`
}

/** A problem found while parsing compressed data; `offset` is relative to its start. */
class CodecError extends Error {
  constructor(
    message: string,
    readonly offset = 0,
  ) {
    super(message)
  }
}

/** An upper bound of a frame's decompressed size and the largest block it may contain. */
interface FrameBound {
  bound: number
  maxBlockSize: number
}

function checkBound(codec: string, {bound, maxBlockSize}: FrameBound, maxSize: number): void {
  if (bound > maxSize + maxBlockSize) {
    throw new CodecError(`${codec} frame may decompress to ${bound} bytes, more than the maximum ${maxSize}`)
  }
}

function need(data: Buffer, offset: number, length: number, what: string): void {
  if (data.length - offset < length) throw new CodecError(`Truncated ${what}`, offset)
}

// ---- gzip ----

async function gunzipCapped(data: Buffer, maxSize: number): Promise<Buffer> {
  try {
    return await gunzip(data, {maxOutputLength: Math.max(1, maxSize + 1)})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CodecError(`gzip data decompresses to more than the maximum ${maxSize} bytes`)
    }
    throw error
  }
}

// ---- snappy ----

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_SIZE = 16
const XERIAL_VERSION = 1
const XERIAL_COMPATIBLE_VERSION = 1
/** snappy-java's SnappyOutputStream default block size, as used by the Java client. */
const XERIAL_BLOCK_SIZE = 32 * 1024

function snappyXerialCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.alloc(XERIAL_HEADER_SIZE)]
  XERIAL_MAGIC.copy(parts[0]!)
  parts[0]!.writeInt32BE(XERIAL_VERSION, 8)
  parts[0]!.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12)
  for (let offset = 0; offset < data.length; offset += XERIAL_BLOCK_SIZE) {
    const block = snappy!.compressSync(data.subarray(offset, offset + XERIAL_BLOCK_SIZE))
    const length = Buffer.alloc(4)
    length.writeInt32BE(block.length)
    parts.push(length, block)
  }
  return Buffer.concat(parts)
}

function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_MAGIC.length && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)
}

/** The uncompressed length a raw snappy block declares (its leading varint, at most 32 bits). */
function snappyUncompressedLength(data: Buffer, offset: number, end: number): number {
  let result = 0
  for (let i = 0; i < 5; i++) {
    if (offset + i >= end) throw new CodecError('Truncated snappy block length', offset)
    const byte = data[offset + i]!
    result += (byte & 0x7f) * 2 ** (7 * i)
    if ((byte & 0x80) === 0) return result
  }
  throw new CodecError('Invalid snappy block length varint', offset)
}

function snappyBlock(data: Buffer, offset: number, end: number, expected: number): Buffer {
  const output = snappy!.uncompressSync(data.subarray(offset, end), {asBuffer: true}) as Buffer
  if (output.length !== expected) {
    throw new CodecError(`snappy block decompressed to ${output.length} bytes, expected ${expected}`, offset)
  }
  return output
}

/** Reads raw snappy or the xerial framing; all lengths are checked against maxSize before decompressing. */
function snappyDecompress(data: Buffer, maxSize: number): Buffer {
  if (!isXerialFramed(data)) {
    const length = snappyUncompressedLength(data, 0, data.length)
    if (length > maxSize) throw new CodecError(`snappy block declares ${length} bytes, more than the maximum ${maxSize}`)
    return snappyBlock(data, 0, data.length, length)
  }
  need(data, 0, XERIAL_HEADER_SIZE, 'snappy-java stream header')
  const blocks: {start: number; end: number; length: number}[] = []
  let total = 0
  let offset = XERIAL_HEADER_SIZE
  while (offset < data.length) {
    need(data, offset, 4, 'snappy-java block length')
    const compressedLength = data.readInt32BE(offset)
    const start = offset + 4
    if (compressedLength < 0 || compressedLength > data.length - start) {
      throw new CodecError(`snappy-java block length ${compressedLength} exceeds the remaining ${data.length - start} bytes`, offset)
    }
    const end = start + compressedLength
    const length = snappyUncompressedLength(data, start, end)
    total += length
    if (total > maxSize) throw new CodecError(`snappy-java stream declares more than the maximum ${maxSize} bytes`, offset)
    blocks.push({start, end, length})
    offset = end
  }
  return Buffer.concat(
    blocks.map(({start, end, length}) => snappyBlock(data, start, end, length)),
    total,
  )
}

// ---- lz4 frame ----

const LZ4_MAGIC = 0x184d2204
const SKIPPABLE_MAGIC_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
/** LZ4 can expand one compressed byte into at most 255 output bytes. */
const LZ4_MAX_RATIO = 255

/**
 * Walks LZ4 frames: magic, FLG, BD, [content size u64], [dict id u32], HC,
 * blocks (u32 size, high bit = stored uncompressed; 0 ends the frame; [u32
 * block checksum]), [u32 content checksum]. All little-endian.
 */
function lz4FrameBound(data: Buffer): FrameBound {
  let bound = 0
  let maxBlockSize = 0
  let offset = 0
  if (data.length === 0) throw new CodecError('Empty lz4 data')
  while (offset < data.length) {
    need(data, offset, 4, 'lz4 frame magic')
    const magic = data.readUInt32LE(offset)
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(data, offset + 4, 4, 'lz4 skippable frame')
      offset += 8 + data.readUInt32LE(offset + 4)
      continue
    }
    if (magic !== LZ4_MAGIC) throw new CodecError(`Invalid lz4 frame magic 0x${magic.toString(16)}`, offset)
    need(data, offset + 4, 3, 'lz4 frame descriptor')
    const flg = data[offset + 4]!
    const bd = data[offset + 5]!
    if (flg >> 6 !== 1) throw new CodecError(`Unsupported lz4 frame version ${flg >> 6}`, offset + 4)
    const blockSizeId = (bd >> 4) & 0x07
    if (blockSizeId < 4) throw new CodecError(`Invalid lz4 block size id ${blockSizeId}`, offset + 5)
    const blockMax = 1 << (8 + 2 * blockSizeId)
    const blockChecksum = (flg & 0x10) !== 0
    const hasContentSize = (flg & 0x08) !== 0
    const contentChecksum = (flg & 0x04) !== 0
    let cursor = offset + 6
    let contentSize = -1
    if (hasContentSize) {
      need(data, cursor, 8, 'lz4 content size')
      contentSize = data.readUInt32LE(cursor) + data.readUInt32LE(cursor + 4) * 2 ** 32
      cursor += 8
    }
    if ((flg & 0x01) !== 0) cursor += 4 // dictionary id
    cursor += 1 // header checksum
    let frameBound = 0
    for (;;) {
      need(data, cursor, 4, 'lz4 block')
      const word = data.readUInt32LE(cursor)
      cursor += 4
      if (word === 0) break
      const size = word & 0x7fffffff
      if (size > blockMax) throw new CodecError(`lz4 block of ${size} bytes exceeds the block maximum ${blockMax}`, cursor - 4)
      need(data, cursor, size, 'lz4 block')
      frameBound += (word & 0x80000000) !== 0 ? size : Math.min(blockMax, size * LZ4_MAX_RATIO)
      cursor += size + (blockChecksum ? 4 : 0)
    }
    if (contentChecksum) cursor += 4
    need(data, cursor, 0, 'lz4 frame')
    bound += contentSize >= 0 ? Math.min(contentSize, frameBound) : frameBound
    maxBlockSize = Math.max(maxBlockSize, blockMax)
    offset = cursor
  }
  return {bound, maxBlockSize}
}

// ---- zstd ----

const ZSTD_MAGIC = 0xfd2fb528
const ZSTD_BLOCK_SIZE_MAX = 128 * 1024

/**
 * Walks zstd frames (RFC 8878): magic, Frame_Header_Descriptor, [Window_Descriptor],
 * [Dictionary_ID], [Frame_Content_Size], blocks (3-byte little-endian header:
 * Last_Block, Block_Type raw/RLE/compressed, Block_Size), [4-byte checksum].
 */
function zstdFrameBound(data: Buffer): FrameBound {
  let bound = 0
  let maxBlockSize = 0
  let offset = 0
  if (data.length === 0) throw new CodecError('Empty zstd data')
  while (offset < data.length) {
    need(data, offset, 4, 'zstd frame magic')
    const magic = data.readUInt32LE(offset)
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(data, offset + 4, 4, 'zstd skippable frame')
      offset += 8 + data.readUInt32LE(offset + 4)
      continue
    }
    if (magic !== ZSTD_MAGIC) throw new CodecError(`Invalid zstd frame magic 0x${magic.toString(16)}`, offset)
    need(data, offset + 4, 1, 'zstd frame header')
    const descriptor = data[offset + 4]!
    const contentSizeFlag = descriptor >> 6
    const singleSegment = (descriptor & 0x20) !== 0
    const hasChecksum = (descriptor & 0x04) !== 0
    const dictionaryIdSize = [0, 1, 2, 4][descriptor & 0x03]!
    let cursor = offset + 5
    let windowSize = 0
    if (!singleSegment) {
      need(data, cursor, 1, 'zstd window descriptor')
      const windowDescriptor = data[cursor]!
      const windowBase = 2 ** (10 + (windowDescriptor >> 3))
      windowSize = windowBase + (windowBase / 8) * (windowDescriptor & 0x07)
      cursor += 1
    }
    cursor += dictionaryIdSize
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag]!
    need(data, cursor, contentSizeBytes, 'zstd frame content size')
    let contentSize = -1
    if (contentSizeBytes === 1) contentSize = data[cursor]!
    else if (contentSizeBytes === 2) contentSize = data.readUInt16LE(cursor) + 256
    else if (contentSizeBytes === 4) contentSize = data.readUInt32LE(cursor)
    else if (contentSizeBytes === 8) contentSize = data.readUInt32LE(cursor) + data.readUInt32LE(cursor + 4) * 2 ** 32
    cursor += contentSizeBytes
    if (singleSegment) windowSize = contentSize
    const blockMax = Math.min(windowSize, ZSTD_BLOCK_SIZE_MAX)
    let frameBound = 0
    for (let last = false; !last; ) {
      need(data, cursor, 3, 'zstd block header')
      const header = data[cursor]! | (data[cursor + 1]! << 8) | (data[cursor + 2]! << 16)
      cursor += 3
      last = (header & 1) !== 0
      const blockType = (header >> 1) & 3
      const blockSize = header >>> 3
      if (blockType === 3) throw new CodecError('Reserved zstd block type', cursor - 3)
      if (blockSize > ZSTD_BLOCK_SIZE_MAX) throw new CodecError(`zstd block of ${blockSize} bytes exceeds 128 KiB`, cursor - 3)
      const contentBytes = blockType === 1 ? 1 : blockSize // RLE blocks store one byte
      need(data, cursor, contentBytes, 'zstd block')
      frameBound += blockType === 2 ? blockMax : blockSize
      cursor += contentBytes
    }
    if (hasChecksum) cursor += 4
    need(data, cursor, 0, 'zstd frame checksum')
    bound += contentSize >= 0 ? contentSize : frameBound
    maxBlockSize = Math.max(maxBlockSize, blockMax)
    offset = cursor
  }
  return {bound, maxBlockSize}
}
