/** Helpers of the kcli Streams tests: a corpus and its word counts, produce, read a topic as a table, word-count processes. */
import {type ChildProcess, spawn} from 'node:child_process'
import {join} from 'node:path'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin, LATEST_TIMESTAMP} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {Consumer} from '../../src/lib/client/consumer.js'
import {Producer} from '../../src/lib/client/producer.js'
import {Serdes, StreamsBuilder} from '../../src/streams/index.js'
import {PROJECT_ROOT} from '../e2e/harness.js'

const VOCABULARY = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'stream', 'table', 'kafka', 'café', "it's", 'naïve', 'log', 'offset', 'partition', 'commit']

/** `lines` deterministic lines (a linear congruential generator), with punctuation, case and blanks. */
export function corpus(lines: number, seed = 7): string[] {
  let x = seed
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  const out: string[] = []
  for (let i = 0; i < lines; i++) {
    const n = Math.floor(next() * 9)
    const words = Array.from({length: n}, () => {
      const w = VOCABULARY[Math.floor(next() * VOCABULARY.length)]!
      return next() < 0.2 ? w.toUpperCase() : w
    })
    out.push((next() < 0.3 ? '  ' : '') + words.join(next() < 0.5 ? ' ' : ', ') + (next() < 0.3 ? '!' : ''))
  }
  return out
}

/** The word count's tokenizer (as Kafka's example: lower case, split on \W+, empty tokens dropped). */
export function words(line: string): string[] {
  return line.toLowerCase().split(/\W+/).filter((w) => w.length > 0)
}

export function expectedCounts(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of lines) for (const w of words(line)) counts.set(w, (counts.get(w) ?? 0) + 1)
  return counts
}

export async function produceLines(bootstrap: string, topic: string, lines: readonly string[], startTimestamp = 1000): Promise<void> {
  const client = new KafkaClient({bootstrapServers: parseBootstrapServers(bootstrap)})
  try {
    const producer = new Producer(client, {lingerMs: 5})
    lines.forEach((line, i) => producer.push({key: null, timestamp: startTimestamp + i, topic, value: Buffer.from(line)}))
    await producer.close()
  } finally {
    await client.close()
  }
}

export async function produceRaw(bootstrap: string, topic: string, records: readonly {key: Buffer | null; value: Buffer | null; partition?: number; timestamp?: number}[]): Promise<void> {
  const client = new KafkaClient({bootstrapServers: parseBootstrapServers(bootstrap)})
  try {
    const producer = new Producer(client, {lingerMs: 0})
    for (const r of records) await producer.send({...r, topic})
    await producer.close()
  } finally {
    await client.close()
  }
}

/** Every record of a topic up to its end (its last stable offset under read_committed), in offset order per partition. */
export async function readAll(bootstrap: string, topic: string, isolationLevel = 0): Promise<{key: Buffer | null; value: Buffer | null; partition: number; offset: number; timestamp: number}[]> {
  const client = new KafkaClient({bootstrapServers: parseBootstrapServers(bootstrap)})
  try {
    const admin = new Admin(client)
    const info = await client.topic(topic)
    const ends = await admin.listOffsets(info.partitions.map((p) => ({partition: p.partition, timestamp: LATEST_TIMESTAMP, topic})), {isolationLevel})
    const out: {key: Buffer | null; value: Buffer | null; partition: number; offset: number; timestamp: number}[] = []
    const pending = ends.filter((e) => e.offset > 0n)
    if (pending.length === 0) return out
    const consumer = new Consumer(client, {isolationLevel, maxWaitMs: 100})
    consumer.assign(pending.map((e) => ({offset: 0n, partition: e.partition, topic})))
    const left = new Map(pending.map((e) => [e.partition, e.offset]))
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) if (BigInt(r.offset) < left.get(batch.partition)!) out.push({key: r.key, offset: r.offset, partition: batch.partition, timestamp: r.timestamp, value: r.value})
      if (batch.nextOffset >= (left.get(batch.partition) ?? 0n)) {
        consumer.pause(topic, batch.partition)
        left.delete(batch.partition)
        if (left.size === 0) break
      }
    }
    await consumer.close()
    return out
  } finally {
    await client.close()
  }
}

/** The latest count per word on a word-count output topic (String keys, Long values). */
export async function readCounts(bootstrap: string, topic: string, isolationLevel = 0): Promise<Map<string, number>> {
  const table = new Map<string, number>()
  for (const r of await readAll(bootstrap, topic, isolationLevel)) table.set(r.key!.toString(), Number(r.value!.readBigInt64BE(0)))
  return table
}

/** Kafka's word count: lines → words → groupBy(word) → count() → the output topic (String keys, Long counts). */
export function wordCountTopology(input = 'wc-input', output = 'wc-output') {
  const builder = new StreamsBuilder()
  builder
    .stream<string | null, string>(input, {keySerde: Serdes.String(), valueSerde: Serdes.String()})
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter((w) => w.length > 0))
    .groupBy((_key, word) => word, {keySerde: Serdes.String(), valueSerde: Serdes.String()})
    .count()
    .toStream()
    .to(output, {keySerde: Serdes.String(), valueSerde: Serdes.Long()})
  return builder.build()
}

/** A word-count application in a child process (word-count-app.ts) and what it printed. */
export interface AppProcess {
  child: ChildProcess
  /** Its `RUNNING active=... standby=... restored=...` lines so far. */
  running: string[]
  stderr(): string
  /** Resolves with the first RUNNING line (from `from` on) that `ok` accepts; rejects after timeoutMs or if the process exits. */
  waitRunning(ok: (line: string) => boolean, timeoutMs: number, from?: number): Promise<string>
}

/** Starts word-count-app.ts; resolves when it first reaches RUNNING. */
export async function startApp(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test/streams/word-count-app.ts'), ...args], {cwd: PROJECT_ROOT, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  let out = ''
  const running: string[] = []
  const waiters = new Set<() => void>()
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    let nl: number
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl)
      out = out.slice(nl + 1)
      if (line.startsWith('RUNNING')) running.push(line)
    }
    for (const w of waiters) w()
  })
  const app: AppProcess = {
    child,
    running,
    stderr: () => stderr,
    waitRunning(ok, ms, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = running.slice(from).find(ok)
          if (found !== undefined) {
            done()
            resolve(found)
          }
        }
        const onExit = (code: number | null) => {
          done()
          reject(new Error(`the application exited with ${code}: ${stderr}`))
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`no matching RUNNING line in ${ms} ms (got ${JSON.stringify(running)}): ${stderr}`))
        }, ms)
        const done = () => {
          clearTimeout(timer)
          waiters.delete(check)
          child.off('exit', onExit)
        }
        waiters.add(check)
        child.once('exit', onExit)
        check()
      })
    },
  }
  try {
    await app.waitRunning(() => true, timeoutMs)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return app
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

/** The tasks of a RUNNING line. */
export function tasksOfLine(line: string): {active: string[]; standby: string[]; restored: number} {
  const m = /active=(\S*) standby=(\S*) restored=(\d+)/.exec(line)!
  return {active: m[1] ? m[1].split(',') : [], restored: Number(m[3]), standby: m[2] ? m[2].split(',') : []}
}

/** Checks exactly-once word-count output: each word's committed updates are 1, 2, ..., its count. */
export function updatesByWord(records: readonly {key: Buffer | null; value: Buffer | null}[]): Map<string, number[]> {
  const byWord = new Map<string, number[]>()
  for (const r of records) {
    const word = r.key!.toString()
    const list = byWord.get(word) ?? []
    list.push(Number(r.value!.readBigInt64BE(0)))
    byWord.set(word, list)
  }
  return byWord
}
