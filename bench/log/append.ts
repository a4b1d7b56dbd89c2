/**
 * Append throughput: PartitionLog.append of 16 KiB and 1 MiB batches vs raw
 * sequential writes of the same bytes to one file with node:fs/promises,
 * under the same flush policy:
 *   - "no fsync": Kafka's default (flush.messages/flush.ms unset); the raw
 *     writer never fsyncs, the log fsyncs only when it rolls a segment.
 *   - "fsync each": flush.messages=1; the raw writer fsyncs after every write.
 * The two writers run interleaved in ~4 MiB rounds (see interleaved()).
 *
 * Run: npx tsx bench/log/append.ts [totalMiB=1024] [fsyncMiB=64]
 */

import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {NodeFileSystem} from '../../src/server/log/fs.js'
import {DEFAULT_LOG_CONFIG} from '../../src/server/log/log-config.js'
import {PartitionLog} from '../../src/server/log/partition-log.js'
import {fmt, machine, makeBatches, tempDir} from './common.js'

const totalMiB = Number(process.argv[2] ?? 1024)
const fsyncMiB = Number(process.argv[3] ?? 64)

/**
 * Interleaves the two writers in rounds of ~4 MiB (log, raw, log, raw, ...)
 * so that drift in the machine's I/O speed hits both alike; returns the total
 * milliseconds each spent, including a final fsync.
 */
async function interleaved(dir: string, batches: Buffer[], n: number, fsyncEach: boolean): Promise<{rawMs: number; logMs: number}> {
  const logDir = path.join(dir, 'bench-0')
  const log = await PartitionLog.open({
    fs: new NodeFileSystem(),
    dir: logDir,
    config: {...DEFAULT_LOG_CONFIG, flushMessages: fsyncEach ? 1 : Infinity, retentionMs: -1},
  })
  const file = await fsp.open(path.join(dir, 'raw.bin'), 'w')
  const perRound = Math.max(1, Math.floor((4 * 2 ** 20) / batches[0]!.length))
  let rawMs = 0
  let logMs = 0
  let position = 0
  for (let done = 0; done < n; done += perRound) {
    const count = Math.min(perRound, n - done)
    let t = performance.now()
    for (let i = done; i < done + count; i++) await log.append(batches[i % batches.length]!)
    logMs += performance.now() - t
    t = performance.now()
    for (let i = done; i < done + count; i++) {
      const b = batches[i % batches.length]!
      await file.write(b, 0, b.length, position)
      position += b.length
      if (fsyncEach) await file.sync()
    }
    rawMs += performance.now() - t
  }
  let t = performance.now()
  await log.flush()
  logMs += performance.now() - t
  t = performance.now()
  await file.sync()
  rawMs += performance.now() - t
  await file.close()
  await log.close()
  await fsp.rm(logDir, {recursive: true})
  await fsp.rm(path.join(dir, 'raw.bin'))
  return {rawMs, logMs}
}

async function main(): Promise<void> {
  const dir = await tempDir('kcli-bench-append-')
  console.log(`# append benchmark — ${machine()}`)
  console.log('| batch | flush policy | bytes | raw MB/s | log MB/s | log/raw |')
  console.log('|---|---|---|---|---|---|')
  try {
    for (const [label, size] of [['16 KiB', 16 * 1024], ['1 MiB', 1024 * 1024]] as const) {
      const batches = await makeBatches(size > 100_000 ? 8 : 64, size)
      const batchBytes = batches[0]!.length
      for (const fsyncEach of [false, true]) {
        const mib = fsyncEach ? fsyncMiB : totalMiB
        const n = Math.max(1, Math.floor((mib * 2 ** 20) / batchBytes))
        const bytes = n * batchBytes
        const {rawMs, logMs} = await interleaved(dir, batches, n, fsyncEach)
        const rawRate = bytes / 1e6 / (rawMs / 1000)
        const logRate = bytes / 1e6 / (logMs / 1000)
        console.log(`| ${label} (${batchBytes} B) | ${fsyncEach ? 'fsync each (flush.messages=1)' : 'no fsync (default)'} | ${fmt(bytes / 2 ** 20, 0)} MiB | ${fmt(rawRate)} | ${fmt(logRate)} | ${fmt(logRate / rawRate, 2)} |`)
      }
    }
  } finally {
    await fsp.rm(dir, {recursive: true, force: true})
  }
}

await main()
