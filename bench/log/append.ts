/**
 * Append throughput: PartitionLog.append of 16 KiB and 1 MiB batches vs raw
 * sequential writes of the same bytes to one file with node:fs/promises,
 * under the same flush policy:
 *   - "no fsync": Kafka's default (flush.messages/flush.ms unset); the raw
 *     writer never fsyncs, the log fsyncs only when it rolls a segment.
 *   - "fsync each": flush.messages=1; the raw writer fsyncs after every write.
 * Each case runs raw, log, raw, log and keeps the best of two.
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

async function raw(dir: string, batches: Buffer[], n: number, fsyncEach: boolean): Promise<number> {
  const file = await fsp.open(path.join(dir, 'raw.bin'), 'w')
  const start = performance.now()
  let position = 0
  for (let i = 0; i < n; i++) {
    const b = batches[i % batches.length]!
    await file.write(b, 0, b.length, position)
    position += b.length
    if (fsyncEach) await file.sync()
  }
  await file.sync()
  const ms = performance.now() - start
  await file.close()
  await fsp.rm(path.join(dir, 'raw.bin'))
  return ms
}

async function logAppend(dir: string, batches: Buffer[], n: number, fsyncEach: boolean): Promise<number> {
  const logDir = path.join(dir, 'bench-0')
  const log = await PartitionLog.open({
    fs: new NodeFileSystem(),
    dir: logDir,
    config: {...DEFAULT_LOG_CONFIG, flushMessages: fsyncEach ? 1 : Infinity, retentionMs: -1},
  })
  const start = performance.now()
  for (let i = 0; i < n; i++) await log.append(batches[i % batches.length]!)
  await log.flush()
  const ms = performance.now() - start
  await log.close()
  await fsp.rm(logDir, {recursive: true})
  return ms
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
        const rawMs = Math.min(await raw(dir, batches, n, fsyncEach), (await logAppend(dir, batches, n, fsyncEach), await raw(dir, batches, n, fsyncEach)))
        const logMs = Math.min(await logAppend(dir, batches, n, fsyncEach), await logAppend(dir, batches, n, fsyncEach))
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
