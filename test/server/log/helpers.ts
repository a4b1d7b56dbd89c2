/** Shared helpers for the log tests: temp dirs, batch building, a manual clock. */

import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import {buildRecordBatch, type RecordBatchInput} from '../../../src/lib/records/record.js'
import {iterateBatches} from '../../../src/lib/records/batch.js'
import {DEFAULT_LOG_CONFIG, type Clock, type LogConfig} from '../../../src/server/log/log-config.js'

export async function makeTempDir(prefix = 'kcli-log-'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix))
}

export class ManualClock implements Clock {
  constructor(public time = Date.now()) {}
  now(): number {
    return this.time
  }
  advance(ms: number): void {
    this.time += ms
  }
}

export function testConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return {...DEFAULT_LOG_CONFIG, ...overrides}
}

/** An uncompressed batch of `count` records with values of `valueSize` bytes, timestamps `timestamp`. */
export async function makeBatch(
  count: number,
  opts: {valueSize?: number; timestamp?: number; key?: (i: number) => Buffer | null; seed?: number} & Partial<RecordBatchInput> = {},
): Promise<Buffer> {
  const {valueSize = 10, timestamp = Date.now(), key, seed = 0, ...rest} = opts
  const records = Array.from({length: count}, (_, i) => ({
    timestamp,
    key: key ? key(i) : Buffer.from(`k${seed}-${i}`),
    value: Buffer.alloc(valueSize, (seed + i) % 251),
  }))
  return buildRecordBatch({records, ...rest})
}

/** Splits a buffer of back-to-back batches into per-batch buffers. */
export function splitBatches(buf: Buffer): Buffer[] {
  return [...iterateBatches(buf)].map(({position, header}) => buf.subarray(position, position + header.sizeInBytes))
}

/** Reads every batch from `from` to the log end, across segments. */
export async function readAll(log: {read: (o: number, m: number) => Promise<{records: Buffer; nextOffset: number}>; logEndOffset: number}, from = 0): Promise<Buffer> {
  const parts: Buffer[] = []
  let offset = from
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, 1 << 20)
    if (r.records.length === 0) break
    parts.push(r.records)
    offset = r.nextOffset
  }
  return Buffer.concat(parts)
}
