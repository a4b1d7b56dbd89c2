/** Deterministic batches shared by crash-writer.ts and crash.test.ts. */

import {CompressionType} from '../../../src/lib/records/batch.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {DEFAULT_LOG_CONFIG, type LogConfig} from '../../../src/server/log/log-config.js'

export const RECORDS_PER_BATCH = 3
const TIMESTAMP = 1_700_000_000_000

export function crashConfig(segmentBytes: number): LogConfig {
  return {...DEFAULT_LOG_CONFIG, segmentBytes, flushMessages: 1, retentionMs: -1, indexIntervalBytes: 512}
}

/** Batch i, as a producer sends it (base offset 0). Sizes vary with i; every 7th is gzip. */
export function crashBatch(i: number): Promise<Buffer> {
  const size = 20 + ((i * 7919) % 600)
  return buildRecordBatch({
    compression: i % 7 === 3 ? CompressionType.Gzip : CompressionType.None,
    records: Array.from({length: RECORDS_PER_BATCH}, (_, r) => ({
      timestamp: TIMESTAMP + i,
      key: Buffer.from(`key-${i}-${r}`),
      value: Buffer.alloc(size, (i + r) & 0xff),
    })),
  })
}
