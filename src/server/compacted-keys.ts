/**
 * Kafka's LogValidator rule for compacted topics: every record needs a key, since compaction keeps
 * the latest record per key. Checking it means decoding the records (decompressing if needed),
 * which Kafka also does; only produce requests to compacted topics pay for it.
 */
import {iterateBatches} from '../lib/records/batch.js'
import {decodeRecordBatch} from '../lib/records/record.js'

/** The index (within the request's records) of the first record without a key, or -1. */
export async function firstRecordWithoutKey(records: Buffer): Promise<number> {
  let index = 0
  for (const {position, header} of iterateBatches(records)) {
    if (header.isControl) continue
    const {records: decoded} = await decodeRecordBatch(records.subarray(position, position + header.sizeInBytes))
    for (const r of decoded) {
      if (r.key === null) return index
      index++
    }
  }
  return -1
}

export function isCompactedPolicy(cleanupPolicy: string | undefined): boolean {
  return (cleanupPolicy ?? 'delete').split(',').some((p) => p.trim() === 'compact')
}
