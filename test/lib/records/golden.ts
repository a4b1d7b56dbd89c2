// Locates the partition directory written by Kafka 4.0 in ../shared/kafka-reference (never copied
// into the project). Tests using it skip with a message when it is absent.
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {crc32c} from '@node-rs/crc32'
import {join} from 'node:path'
import {REFERENCE_DIR} from '../protocol/reference.js'

export const GOLDEN_SEGMENTS_DIR = join(REFERENCE_DIR, 'segments/golden-segments-0')
export const GOLDEN_RECORD_COUNT = 18_003
export const goldenAvailable = existsSync(GOLDEN_SEGMENTS_DIR)
export const goldenSkipReason = `golden segments not found at ${GOLDEN_SEGMENTS_DIR}`

/** The .log files of the golden partition, in offset order. */
export function goldenLogs(): {name: string; data: Buffer}[] {
  return readdirSync(GOLDEN_SEGMENTS_DIR)
    .filter((name) => name.endsWith('.log'))
    .sort()
    .map((name) => ({name, data: readFileSync(join(GOLDEN_SEGMENTS_DIR, name))}))
}

export const CAPTURES_DIR = join(REFERENCE_DIR, 'captures')
export const capturesAvailable = existsSync(CAPTURES_DIR)

export interface CapturedBatch {
  /** Capture file without .jsonl: java, kcat, kafkajs. */
  client: string
  api: string
  direction: string
  batch: Buffer
}

/**
 * The RecordBatch v2 bytes inside the recorded Produce and Fetch frames of real clients, found
 * without a protocol decoder: every position whose magic byte is 2, whose batchLength fits in the
 * frame and whose CRC-32C matches.
 */
export function capturedBatches(): CapturedBatch[] {
  const found: CapturedBatch[] = []
  for (const file of readdirSync(CAPTURES_DIR).filter((name) => name.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(join(CAPTURES_DIR, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue
      const frame = JSON.parse(line) as {api: string; direction: string; frameHex: string}
      if (frame.api !== 'Produce' && frame.api !== 'Fetch') continue
      const bytes = Buffer.from(frame.frameHex, 'hex')
      for (let p = 0; p + 61 <= bytes.length; p++) {
        if (bytes[p + 16] !== 2) continue
        const batchLength = bytes.readInt32BE(p + 8)
        if (batchLength < 49 || p + 12 + batchLength > bytes.length) continue
        if (crc32c(bytes.subarray(p + 21, p + 12 + batchLength)) !== bytes.readUInt32BE(p + 17)) continue
        found.push({client: file.replace('.jsonl', ''), api: frame.api, direction: frame.direction, batch: bytes.subarray(p, p + 12 + batchLength)})
        p += 11 + batchLength
      }
    }
  }
  return found
}
