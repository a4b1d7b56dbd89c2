/**
 * Crash test: a child process appends with flush.messages=1 and reports each
 * fsynced offset; we SIGKILL it at random moments, then recover the directory
 * and check that (a) every batch reported fsynced is there, (b) the log is a
 * clean prefix of what was written (byte-identical batches, nothing torn).
 * Every few rounds we also corrupt random bytes of a random segment or index
 * file and recover from scratch: the log must be cut exactly before the first
 * corrupted batch (index corruption loses nothing).
 *
 * Corruption skips the 12 header bytes Kafka's format leaves outside the CRC
 * (baseOffset, partitionLeaderEpoch): a changed offset there is
 * indistinguishable from a real one, in Kafka as here.
 */

import {spawn, type ChildProcess} from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {LOG_OVERHEAD, iterateBatches, validateBatch} from '../../../src/lib/records/batch.js'
import {NodeFileSystem} from '../../../src/server/log/fs.js'
import {CLEAN_SHUTDOWN_FILE, LogManager} from '../../../src/server/log/log-manager.js'
import {crashBatch, crashConfig, RECORDS_PER_BATCH} from './crash-batches.js'
import {makeTempDir, readAll} from './helpers.js'

const ROOT = path.resolve(__dirname, '../../..')
const KILLS_PER_WORKER = Number(process.env.KCLI_CRASH_KILLS ?? 55)
const WORKERS = 4
const SEGMENT_BYTES = 16 * 1024

let tmp: string
let runner: string[]
const children = new Set<ChildProcess>()

beforeAll(async () => {
  tmp = await makeTempDir('kcli-crash-')
  // Bundle the writer once so each child starts in tens of milliseconds (tsx would take ~0.5 s).
  try {
    const esbuild = await import('esbuild')
    const out = path.join(tmp, 'crash-writer.cjs')
    await esbuild.build({
      entryPoints: [path.join(ROOT, 'test/server/log/crash-writer.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external',
      outfile: out,
      logLevel: 'silent',
    })
    runner = [out]
  } catch {
    runner = ['--import', 'tsx', path.join(ROOT, 'test/server/log/crash-writer.ts')]
  }
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await fsp.rm(tmp, {recursive: true, force: true})
})

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Runs the writer until it has reported `minSynced` appends past `ready`, then waits `delayMs` and kills it. */
async function runAndKill(dataDir: string, delayMs: number): Promise<{ready: number; synced: number}> {
  const child = spawn(process.execPath, [...runner, dataDir, String(SEGMENT_BYTES)], {
    cwd: ROOT,
    env: {...process.env, NODE_PATH: path.join(ROOT, 'node_modules')},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let ready = -1
  let synced = -1
  let stderr = ''
  let buffered = ''
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        const [kind, value] = line.split(' ')
        if (kind === 'ready') {
          ready = Number(value)
          timer = setTimeout(() => {
            child.kill('SIGKILL')
            resolve()
          }, delayMs)
        } else if (kind === 'synced') synced = Math.max(synced, Number(value))
      }
    })
    void exited.then(() => {
      if (timer === undefined) reject(new Error(`writer exited before ready: ${stderr}`))
    })
  })
  await exited
  // Lines written before the kill may still be in the pipe.
  await new Promise((r) => setImmediate(r))
  for (const line of buffered.split('\n')) if (line.startsWith('synced ')) synced = Math.max(synced, Number(line.slice(7)))
  children.delete(child)
  return {ready, synced}
}

/** The bytes batches [0, n) have in the log (offsets assigned, leader epoch 0). */
const expectedCache: Buffer[] = []
async function expectedBatch(i: number): Promise<Buffer> {
  if (!expectedCache[i]) {
    const b = await crashBatch(i)
    b.writeUInt32BE(0, 0)
    b.writeUInt32BE(i * RECORDS_PER_BATCH, 4)
    b.writeInt32BE(0, 12)
    expectedCache[i] = b
  }
  return expectedCache[i]!
}

/** Opens the data dir like a broker would, checks the log is a clean prefix, returns its end offset. */
async function verify(dataDir: string, mustHave: number, clean: boolean): Promise<{logEndOffset: number; truncatedBytes: number}> {
  const manager = await LogManager.open({fs: new NodeFileSystem(), dataDir, configFor: () => crashConfig(SEGMENT_BYTES), cleaner: false})
  const log = manager.getLog('crash', 0)
  if (!log) {
    expect(mustHave).toBe(-1)
    await manager.shutdown()
    return {logEndOffset: 0, truncatedBytes: 0}
  }
  const leo = log.logEndOffset
  expect(leo % RECORDS_PER_BATCH).toBe(0)
  expect(leo).toBeGreaterThan(mustHave) // every fsynced offset survived
  const data = await readAll(log)
  let position = 0
  let i = 0
  for (const {position: at, header} of iterateBatches(data)) {
    expect(at).toBe(position)
    validateBatch(data, at) // never a torn or corrupt batch
    expect(data.subarray(at, at + header.sizeInBytes).equals(await expectedBatch(i))).toBe(true)
    position += header.sizeInBytes
    i++
  }
  expect(position).toBe(data.length)
  expect(i * RECORDS_PER_BATCH).toBe(leo)
  const truncatedBytes = manager.recoveryReports.get('crash-0')?.truncatedBytes ?? 0
  if (clean) await manager.shutdown()
  else for (const l of manager.allLogs()) await l.closeHandlesUnclean()
  return {logEndOffset: leo, truncatedBytes}
}

/** Corrupts one byte of a random segment or index file outside the CRC-less header fields; returns the first batch index it hits, or Infinity. */
async function corrupt(dataDir: string, random: () => number): Promise<number> {
  const dir = path.join(dataDir, 'crash-0')
  const files = (await fsp.readdir(dir)).filter((n) => /\.(log|index|timeindex)$/.test(n)).sort()
  if (files.length === 0) return Infinity
  const name = files[Math.floor(random() * files.length)]!
  const file = path.join(dir, name)
  const data = await fsp.readFile(file)
  if (data.length === 0) return Infinity
  if (!name.endsWith('.log')) {
    const at = Math.floor(random() * data.length)
    data[at] = data[at]! ^ (1 + Math.floor(random() * 255))
    await fsp.writeFile(file, data)
    return Infinity
  }
  // Pick a byte inside a batch, outside baseOffset (0-7) and partitionLeaderEpoch (12-15).
  const batches = [...iterateBatches(data)]
  const target = batches[Math.floor(random() * batches.length)]
  if (!target) return Infinity
  let rel: number
  do rel = Math.floor(random() * target.header.sizeInBytes)
  while (rel < 8 || (rel >= LOG_OVERHEAD && rel < 16))
  data[target.position + rel] = data[target.position + rel]! ^ (1 + Math.floor(random() * 255))
  await fsp.writeFile(file, data)
  return target.header.baseOffset / RECORDS_PER_BATCH
}

describe('crash recovery (SIGKILL + corruption)', () => {
  it(`recovers a clean prefix keeping every fsynced batch across ${KILLS_PER_WORKER * WORKERS} kills`, async () => {
    const stats = {kills: 0, cutBytes: 0, corruptions: 0, maxOffset: 0}
    await Promise.all(
      Array.from({length: WORKERS}, async (_, w) => {
        const random = rng(1234 + w)
        let dataDir = path.join(tmp, `data-${w}-0`)
        let mustHave = -1
        for (let k = 0; k < KILLS_PER_WORKER; k++) {
          if (k > 0 && k % 40 === 0) {
            await fsp.rm(dataDir, {recursive: true, force: true})
            dataDir = path.join(tmp, `data-${w}-${k}`)
            mustHave = -1
          }
          const {ready, synced} = await runAndKill(dataDir, 2 + Math.floor(random() * 50))
          expect(ready).toBeGreaterThan(mustHave)
          mustHave = Math.max(mustHave, synced)
          stats.kills++
          if (random() < 0.2) {
            // Corruption: drop the checkpoints and the marker so recovery scans everything.
            const firstBad = await corrupt(dataDir, random)
            stats.corruptions++
            await fsp.rm(path.join(dataDir, 'recovery-point-offset-checkpoint'), {force: true})
            await fsp.rm(path.join(dataDir, CLEAN_SHUTDOWN_FILE), {force: true})
            const {logEndOffset, truncatedBytes} = await verify(dataDir, Math.min(mustHave, firstBad * RECORDS_PER_BATCH - 1), random() < 0.5)
            if (firstBad !== Infinity) expect(logEndOffset).toBe(firstBad * RECORDS_PER_BATCH)
            stats.cutBytes += truncatedBytes
            mustHave = logEndOffset - 1
          } else {
            const {logEndOffset, truncatedBytes} = await verify(dataDir, mustHave, random() < 0.5)
            stats.cutBytes += truncatedBytes
            stats.maxOffset = Math.max(stats.maxOffset, logEndOffset)
            mustHave = Math.max(mustHave, logEndOffset - 1)
          }
        }
      }),
    )
    console.log(`crash test: ${stats.kills} SIGKILLs, ${stats.corruptions} corruptions, ${stats.cutBytes} bytes cut by recovery, max log end offset ${stats.maxOffset}`)
    expect(stats.kills).toBe(KILLS_PER_WORKER * WORKERS)
  }, 120_000)
})
