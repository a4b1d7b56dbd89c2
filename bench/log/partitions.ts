/**
 * 10,000 open partitions in one process: creation time, memory (RSS and V8
 * heap, measured after GC), open file descriptors (capped by the
 * FileHandleCache), and the clean restart time of the data directory.
 * Each partition gets one 1 KiB-record batch, so every partition has a
 * .log, .index, .timeindex, leader-epoch-checkpoint and (after shutdown) a
 * producer snapshot.
 *
 * Run: node --expose-gc --import tsx bench/log/partitions.ts [partitions=10000] [maxOpenFiles=4096]
 */

import * as fsp from 'node:fs/promises'
import {NodeFileSystem} from '../../src/server/log/fs.js'
import {DEFAULT_LOG_CONFIG} from '../../src/server/log/log-config.js'
import {LogManager} from '../../src/server/log/log-manager.js'
import {fmt, machine, makeBatches, tempDir} from './common.js'

const partitions = Number(process.argv[2] ?? 10_000)
const maxOpenFiles = Number(process.argv[3] ?? 4096)
const config = {...DEFAULT_LOG_CONFIG, retentionMs: -1}

function memory(): {rss: number; heap: number} {
  ;(globalThis as {gc?: () => void}).gc?.()
  const m = process.memoryUsage()
  return {rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20}
}

async function openFds(): Promise<number> {
  return (await fsp.readdir('/proc/self/fd')).length
}

async function main(): Promise<void> {
  const dataDir = await tempDir('kcli-bench-partitions-')
  const out = [`# ${partitions} partitions — ${machine()}`]
  try {
    const [batch] = await makeBatches(1, 1100)
    const before = memory()
    let t = performance.now()
    let m = await LogManager.open({fs: new NodeFileSystem(), dataDir, configFor: () => config, maxOpenFiles, cleaner: false})
    // Create in waves of 64 so directory fsyncs overlap on the thread pool.
    for (let p = 0; p < partitions; p += 64) {
      await Promise.all(
        Array.from({length: Math.min(64, partitions - p)}, async (_, i) => {
          const log = await m.getOrCreateLog('bench', p + i)
          await log.append(Buffer.from(batch!))
        }),
      )
    }
    const createMs = performance.now() - t
    const after = memory()
    out.push(`create + first append: ${fmt(createMs / 1000)} s (${fmt((createMs * 1000) / partitions, 0)} µs per partition)`)
    out.push(`memory for ${partitions} open partitions: RSS +${fmt(after.rss - before.rss)} MiB, V8 heap +${fmt(after.heap - before.heap)} MiB (${fmt(((after.heap - before.heap) * 2 ** 20) / partitions / 1024, 2)} KiB heap per partition)`)
    out.push(`open file descriptors: ${await openFds()} (segment files held open: ${m.handleCache.openFiles}, cap ${maxOpenFiles})`)
    // Touch every partition again (reads reopen evicted files).
    t = performance.now()
    for (let p = 0; p < partitions; p++) await m.getLog('bench', p)!.read(0, 4096)
    out.push(`read every partition once: ${fmt(performance.now() - t)} ms, open segment files afterwards ${m.handleCache.openFiles}`)
    t = performance.now()
    await m.shutdown()
    out.push(`clean shutdown: ${fmt((performance.now() - t) / 1000)} s`)
    const beforeReopen = memory()
    t = performance.now()
    m = await LogManager.open({fs: new NodeFileSystem(), dataDir, configFor: () => config, maxOpenFiles, cleaner: false})
    const reopenMs = performance.now() - t
    const afterReopen = memory()
    out.push(`clean restart of ${m.allLogs().length} partitions: ${fmt(reopenMs / 1000)} s; memory RSS +${fmt(afterReopen.rss - beforeReopen.rss)} MiB, heap +${fmt(afterReopen.heap - beforeReopen.heap)} MiB; open fds ${await openFds()}`)
    await m.shutdown()
  } finally {
    console.log(out.join('\n'))
    await fsp.rm(dataDir, {recursive: true, force: true})
  }
}

await main()
