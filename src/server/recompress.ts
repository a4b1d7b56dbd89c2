/**
 * Topic-level compression.type (anything but `producer`): batches are rewritten in the topic's
 * codec before they are appended, keeping the producer id, epoch, sequence, transactional flag,
 * timestamps and offsets deltas, as Kafka's LogValidator does. Batches already in the target codec
 * are kept as they are (no decoding).
 */
import {CompressionType, iterateBatches} from '../lib/records/batch.js'
import {buildRecordBatch, decodeRecordBatch} from '../lib/records/record.js'

const CODECS: Record<string, CompressionType> = {
  uncompressed: CompressionType.None,
  gzip: CompressionType.Gzip,
  snappy: CompressionType.Snappy,
  lz4: CompressionType.Lz4,
  zstd: CompressionType.Zstd,
}

/** The codec a topic's compression.type asks for, or undefined for `producer`. */
export function targetCompression(compressionType: string | undefined): CompressionType | undefined {
  return compressionType === undefined || compressionType === 'producer' ? undefined : CODECS[compressionType]
}

export async function recompress(records: Buffer, target: CompressionType, levels: {gzip?: number; zstd?: number; lz4?: number} = {}): Promise<Buffer> {
  const out: Buffer[] = []
  for (const {position, header} of iterateBatches(records)) {
    const bytes = records.subarray(position, position + header.sizeInBytes)
    if (header.compression === target || header.isControl) {
      out.push(bytes)
      continue
    }
    const {records: decoded} = await decodeRecordBatch(bytes)
    const level = target === CompressionType.Gzip ? levels.gzip : target === CompressionType.Zstd ? levels.zstd : target === CompressionType.Lz4 ? levels.lz4 : undefined
    out.push(
      await buildRecordBatch({
        baseOffset: header.baseOffset,
        records: decoded.map((r) => ({offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers})),
        compression: target,
        ...(level !== undefined && level !== -1 ? {compressionLevel: level} : {}),
        producerId: header.producerId,
        producerEpoch: header.producerEpoch,
        baseSequence: header.baseSequence,
        isTransactional: header.isTransactional,
        partitionLeaderEpoch: header.partitionLeaderEpoch,
        timestampType: header.timestampType,
        lastOffsetDelta: header.lastOffsetDelta,
      }),
    )
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out)
}
