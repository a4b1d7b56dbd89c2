/**
 * Random-offset read latency in a large log vs a 100 MiB log, and restart
 * time of the large log after a clean shutdown and after SIGKILL.
 *
 * Builds two partitions through LogManager with 16 KiB producer batches
 * (default topic config: 1 GiB segments, 4 KiB index interval), then:
 * - reads: `reads` random offsets each, read(offset, 64 KiB) (whole batches,
 *   index lookup + header scan); latency percentiles; warm page cache.
 * - clean restart: LogManager.shutdown() then LogManager.open() (marker present).
 * - SIGKILL restart: a child opens the directory, appends `tail` MiB without
 *   fsync, is SIGKILLed; LogManager.open() then recovers from the checkpointed
 *   recovery point (the whole segment holding it is re-validated, as in Kafka).
 *
 * Run: npx tsx bench/log/large-log.ts [largeGiB=10] [smallMiB=100] [reads=20000]
 */

import {spawn} from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {NodeFileSystem} from '../../src/server/log/fs.js'
import {DEFAULT_LOG_CONFIG} from '../../src/server/log/log-config.js'
import {LogManager} from '../../src/server/log/log-manager.js'
import type {PartitionLog} from '../../src/server/log/partition-log.js'
import {fmt, machine, makeBatches, percentile, tempDir} from './common.js'

const largeGiB = Number(process.argv[2] ?? 10)
const smallMiB = Number(process.argv[3] ?? 100)
const reads = Number(process.argv[4] ?? 20000)
const config = {...DEFAULT_LOG_CONFIG, retentionMs: -1}

function open(dataDir: string): Promise<LogManager> {
  return LogManager.open({fs: new NodeFileSystem(), dataDir, configFor: () => config, cleaner: false})
}

async function fill(log: PartitionLog, bytes: number, batches: Buffer[]): Promise<number> {
  const start = performance.now()
  let written = 0
  for (let i = 0; written < bytes; i++) {
    const b = batches[i % batches.length]!
    await log.append(b)
    written += b.length
  }
  return performance.now() - start
}

type Latency = {p50: number; p99: number; mean: number}

function summarize(times: number[]): Latency {
  times.sort((a, b) => a - b)
  return {p50: percentile(times, 50), p99: percentile(times, 99), mean: times.reduce((a, b) => a + b, 0) / times.length}
}

/** Interleaves random reads of both logs (after a warm-up that loads the lazily loaded indexes). */
async function readLatency(logs: PartitionLog[]): Promise<Latency[]> {
  const times: number[][] = logs.map(() => [])
  for (let i = 0; i < reads + 2000; i++) {
    for (let l = 0; l < logs.length; l++) {
      const log = logs[l]!
      const offset = log.logStartOffset + Math.floor(Math.random() * (log.logEndOffset - log.logStartOffset))
      const t = performance.now()
      const r = await log.read(offset, 64 * 1024)
      const dt = performance.now() - t
      if (r.records.length === 0) throw new Error(`empty read at ${offset}`)
      if (i >= 2000) times[l]!.push(dt * 1000)
    }
  }
  return times.map(summarize)
}

async function main(): Promise<void> {
  const root = await tempDir('kcli-bench-large-')
  const small = path.join(root, 'small')
  const large = path.join(root, 'large')
  const out: string[] = [`# large-log benchmark — ${machine()}`]
  try {
    const batches = await makeBatches(64, 16 * 1024)
    const ms = await open(small)
    let fillMs = await fill(await ms.getOrCreateLog('small', 0), smallMiB * 2 ** 20, batches)
    const smallLog = ms.getLog('small', 0)!
    await smallLog.flush()
    out.push(`small log: ${smallMiB} MiB, ${smallLog.logEndOffset} records, ${smallLog.numberOfSegments} segment(s), filled in ${fmt(fillMs / 1000)} s`)

    let m = await open(large)
    const bigLog = await m.getOrCreateLog('big', 0)
    fillMs = await fill(bigLog, largeGiB * 2 ** 30, batches)
    await bigLog.flush() // let writeback finish before measuring reads
    out.push(`large log: ${largeGiB} GiB, ${bigLog.logEndOffset} records, ${bigLog.numberOfSegments} segments, filled in ${fmt(fillMs / 1000)} s (${fmt((largeGiB * 1024) / (fillMs / 1000), 0)} MiB/s)`)
    const [smallLat, largeLat] = (await readLatency([smallLog, bigLog])) as [Latency, Latency]
    out.push('')
    out.push('| log | reads (read(offset, 64 KiB), random offsets, interleaved) | p50 µs | p99 µs | mean µs |')
    out.push('|---|---|---|---|---|')
    out.push(`| ${smallMiB} MiB | ${reads} | ${fmt(smallLat.p50)} | ${fmt(smallLat.p99)} | ${fmt(smallLat.mean)} |`)
    out.push(`| ${largeGiB} GiB | ${reads} | ${fmt(largeLat.p50)} | ${fmt(largeLat.p99)} | ${fmt(largeLat.mean)} |`)
    out.push(`ratio large/small: p50 ${fmt(largeLat.p50 / smallLat.p50, 2)}x, p99 ${fmt(largeLat.p99 / smallLat.p99, 2)}x, mean ${fmt(largeLat.mean / smallLat.mean, 2)}x`)
    await ms.shutdown()
    await m.shutdown()

    // Clean restart.
    let t = performance.now()
    m = await open(large)
    const cleanMs = performance.now() - t
    out.push('')
    out.push(`clean restart of the ${largeGiB} GiB log: ${fmt(cleanMs)} ms (recovered segments: ${m.recoveryReports.get('big-0')!.recoveredSegments})`)
    const activeBytes = m.getLog('big', 0)!.activeSegment.size
    await m.shutdown()

    // SIGKILL restarts with different unflushed tails.
    out.push('')
    out.push('| unflushed tail | bytes re-validated | recovery ms | MiB/s |')
    out.push('|---|---|---|---|')
    for (const tailMiB of [16, 256, 1024]) {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'restart-writer.ts'), large, String(tailMiB)], {stdio: ['ignore', 'pipe', 'inherit']})
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('done')) resolve()
        })
        child.on('exit', (code) => reject(new Error(`writer exited ${code}`)))
      })
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      t = performance.now()
      m = await open(large)
      const ms = performance.now() - t
      const log = m.getLog('big', 0)!
      const report = m.recoveryReports.get('big-0')!
      const scanned = log.liveSegments().slice(-report.recoveredSegments).reduce((n, s) => n + s.size, 0)
      out.push(`| ${tailMiB} MiB | ${fmt(scanned / 2 ** 20, 0)} MiB in ${report.recoveredSegments} segment(s) | ${fmt(ms, 0)} | ${fmt(scanned / 2 ** 20 / (ms / 1000), 0)} |`)
      await m.shutdown()
    }
    out.push(`(active segment before the kills: ${fmt(activeBytes / 2 ** 20, 0)} MiB; recovery re-validates the whole segment holding the recovery point, then everything after it)`)
  } finally {
    console.log(out.join('\n'))
    await fsp.rm(root, {recursive: true, force: true})
  }
}

await main()
