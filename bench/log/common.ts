/** Shared helpers for the log benchmarks (run with tsx). */

import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import {buildRecordBatch} from '../../src/lib/records/record.js'

export async function tempDir(prefix: string): Promise<string> {
  const base = process.env.KCLI_BENCH_DIR ?? os.tmpdir()
  return fsp.mkdtemp(path.join(base, prefix))
}

/**
 * `count` distinct uncompressed batches of about `batchBytes` bytes, made of
 * 1 KiB records (so a 16 KiB batch holds ~15 records), as a producer would send them.
 */
export async function makeBatches(count: number, batchBytes: number): Promise<Buffer[]> {
  const recordValue = 1000
  const perBatch = Math.max(1, Math.floor((batchBytes - 61) / (recordValue + 20)))
  const batches: Buffer[] = []
  for (let b = 0; b < count; b++) {
    batches.push(
      await buildRecordBatch({
        records: Array.from({length: perBatch}, (_, i) => ({
          timestamp: Date.now(),
          key: Buffer.from(`key-${b}-${i}`),
          value: Buffer.alloc(recordValue, (b * 31 + i) & 0xff),
        })),
      }),
    )
  }
  return batches
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export function fmt(n: number, digits = 1): string {
  return n.toFixed(digits)
}

export function machine(): string {
  const cpus = os.cpus()
  return `${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`
}
