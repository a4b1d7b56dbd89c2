/**
 * Shared by the consumer group end-to-end tests: a broker with the group handlers registered
 * (while the broker's default list may not have them yet), a SyncGroup observer that records
 * what the broker hands out at each generation, and a kafkajs group consumer run as a child
 * process so tests can SIGKILL it (a crashed member).
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {ConsumerProtocolAssignment} from '../../src/lib/protocol/generated/consumer-protocol-assignment.js'
import {ADMIN_HANDLERS} from '../../src/server/handlers/admin.js'
import {GROUP_HANDLERS} from '../../src/server/handlers/groups.js'
import type {ApiHandler} from '../../src/server/handlers/handler.js'
import {HANDLERS} from '../../src/server/handlers/index.js'
import {syncGroup} from '../../src/server/handlers/sync-group.js'
import {PROJECT_ROOT, startBroker, type TestBroker, tempDir} from './harness.js'
import {exitedWithOutput} from './peers.js'

export interface SyncRecord {
  at: number
  groupId: string
  generationId: number
  memberId: string
  /** topic -> partitions, decoded from the ConsumerProtocolAssignment handed out. */
  assignment: Map<string, number[]>
}

/** Decodes a ConsumerProtocolAssignment (int16 version, then the struct). */
export function decodeAssignment(buf: Buffer): Map<string, number[]> {
  const out = new Map<string, number[]>()
  if (buf.length < 2) return out
  const version = Math.min(buf.readInt16BE(0), ConsumerProtocolAssignment.maxVersion)
  const a = ConsumerProtocolAssignment.decode(buf, version, 2)
  for (const t of a.assignedPartitions) out.set(t.topic, [...t.partitions].sort((x, y) => x - y))
  return out
}

/** Every handler (deduplicated by API key) with SyncGroup wrapped to record its answers. */
export function groupBrokerHandlers(observe?: (r: SyncRecord) => void): ApiHandler[] {
  const byKey = new Map<number, ApiHandler>()
  for (const h of [...HANDLERS, ...ADMIN_HANDLERS, ...GROUP_HANDLERS]) if (!byKey.has(h.apiKey)) byKey.set(h.apiKey, h)
  if (observe) {
    const observed: ApiHandler = {
      ...(syncGroup as ApiHandler),
      async handle(request, ctx) {
        const response = await (syncGroup as ApiHandler).handle(request, ctx)
        const req = request as {groupId: string; generationId: number; memberId: string}
        const res = response as {errorCode?: number; assignment?: Buffer} | null
        if (res && (res.errorCode ?? 0) === 0) {
          observe({at: Date.now(), groupId: req.groupId, generationId: req.generationId, memberId: req.memberId, assignment: decodeAssignment(res.assignment ?? Buffer.alloc(0))})
        }
        return response
      },
    }
    byKey.set(observed.apiKey, observed)
  }
  return [...byKey.values()]
}

export function startGroupBroker(overrides: Record<string, string> = {}, dataDir = tempDir('kcli-groups-'), observe?: (r: SyncRecord) => void): Promise<TestBroker> {
  return startBroker(overrides, dataDir, groupBrokerHandlers(observe))
}

/**
 * A kafkajs group consumer in a child process. It prints one line per processed record,
 * `R <partition> <offset> <value>`, written synchronously before the batch's offsets are
 * resolved (so everything committed was printed first), `A <json>` on every group join with its
 * assignment, and `E <message>` on a crash.
 */
const KAFKAJS_WORKER = `
const {writeSync} = require('node:fs')
const {Kafka, logLevel} = require('kafkajs')
const env = process.env
const kafka = new Kafka({clientId: env.W_CLIENT_ID, brokers: [env.W_BOOTSTRAP], logLevel: logLevel.NOTHING, retry: {retries: 100, initialRetryTime: 100, maxRetryTime: 1000}})
const consumer = kafka.consumer({groupId: env.W_GROUP, sessionTimeout: Number(env.W_SESSION_TIMEOUT), rebalanceTimeout: Number(env.W_REBALANCE_TIMEOUT), heartbeatInterval: Number(env.W_HEARTBEAT_INTERVAL), maxWaitTimeInMs: 200, maxBytesPerPartition: Number(env.W_MAX_BYTES_PER_PARTITION || 1048576), retry: {retries: 100, initialRetryTime: 100, maxRetryTime: 1000}})
consumer.on(consumer.events.GROUP_JOIN, (e) => writeSync(1, 'A ' + JSON.stringify(e.payload.memberAssignment) + '\\n'))
consumer.on(consumer.events.CRASH, (e) => writeSync(1, 'E ' + String(e.payload.error && e.payload.error.message) + '\\n'))
const delay = Number(env.W_PROCESS_DELAY_MS || 0)
async function main() {
  await consumer.connect()
  await consumer.subscribe({topic: env.W_TOPIC, fromBeginning: true})
  await consumer.run({
    autoCommit: true,
    autoCommitThreshold: Number(env.W_COMMIT_THRESHOLD || 100),
    eachBatchAutoResolve: false,
    eachBatch: async ({batch, resolveOffset, heartbeat, isRunning, isStale}) => {
      let out = ''
      const done = []
      for (const m of batch.messages) {
        if (!isRunning() || isStale()) break
        out += 'R ' + batch.partition + ' ' + m.offset + ' ' + (m.value ? m.value.toString() : '') + '\\n'
        done.push(m.offset)
      }
      if (out) writeSync(1, out)
      if (delay > 0) await new Promise((r) => setTimeout(r, delay))
      for (const offset of done) resolveOffset(offset)
      await heartbeat()
    },
  })
  writeSync(1, 'S\\n')
}
process.on('SIGTERM', () => consumer.disconnect().then(() => process.exit(0), () => process.exit(1)))
main().catch((e) => { writeSync(1, 'E ' + e.message + '\\n'); process.exit(1) })
`

export interface WorkerOptions {
  bootstrap: string
  groupId: string
  topic: string
  clientId: string
  sessionTimeoutMs?: number
  rebalanceTimeoutMs?: number
  heartbeatIntervalMs?: number
  processDelayMs?: number
  commitThreshold?: number
  /** kafkajs maxBytesPerPartition: smaller fetches, more batches and commits. */
  maxBytesPerPartition?: number
}

export interface KafkajsWorker {
  child: ChildProcess
  name: string
  /** Lines seen so far. */
  lines: string[]
  exited: Promise<number | null>
  /** Resolves when a line matching `test` appears (or rejects after `timeoutMs`). */
  waitFor(test: (line: string) => boolean, timeoutMs: number): Promise<string>
  kill(signal?: NodeJS.Signals): Promise<void>
}

const workers = new Set<KafkajsWorker>()

export function startKafkajsWorker(options: WorkerOptions, onRecord?: (partition: number, offset: number, value: string, worker: string) => void): KafkajsWorker {
  const child = spawn(process.execPath, ['-e', KAFKAJS_WORKER], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      W_BOOTSTRAP: options.bootstrap,
      W_GROUP: options.groupId,
      W_TOPIC: options.topic,
      W_CLIENT_ID: options.clientId,
      W_SESSION_TIMEOUT: String(options.sessionTimeoutMs ?? 6000),
      W_REBALANCE_TIMEOUT: String(options.rebalanceTimeoutMs ?? 10_000),
      W_HEARTBEAT_INTERVAL: String(options.heartbeatIntervalMs ?? 500),
      W_PROCESS_DELAY_MS: String(options.processDelayMs ?? 0),
      W_COMMIT_THRESHOLD: String(options.commitThreshold ?? 100),
      W_MAX_BYTES_PER_PARTITION: String(options.maxBytesPerPartition ?? 1_048_576),
    },
  })
  const lines: string[] = []
  const waiters = new Set<{test: (l: string) => boolean; resolve: (l: string) => void}>()
  let partial = ''
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString('utf8')
    const parts = partial.split('\n')
    partial = parts.pop()!
    for (const line of parts) {
      if (line.startsWith('R ') && onRecord) {
        const [, p, o, ...v] = line.split(' ')
        onRecord(Number(p), Number(o), v.join(' '), options.clientId)
      } else lines.push(line)
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.delete(w)
          w.resolve(line)
        }
      }
    }
  })
  child.stderr!.on('data', () => {})
  const exited = exitedWithOutput(child)
  const worker: KafkajsWorker = {
    child,
    name: options.clientId,
    lines,
    exited,
    waitFor(test, timeoutMs) {
      const seen = lines.find(test)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const entry = {test, resolve: (l: string) => (clearTimeout(timer), resolve(l))}
        const timer = setTimeout(() => {
          waiters.delete(entry)
          reject(new Error(`${options.clientId}: no matching line in ${timeoutMs} ms; got ${lines.slice(-5).join(' | ')}`))
        }, timeoutMs)
        waiters.add(entry)
      })
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal)
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
      workers.delete(worker)
    },
  }
  workers.add(worker)
  return worker
}

export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...workers].map((w) => w.kill('SIGKILL')))
}

/** Polls `check` every 50 ms until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * The generations seen in SyncGroup answers, each with member -> partitions, and whether any
 * partition was handed to two members in one generation.
 */
export function generations(records: readonly SyncRecord[], groupId: string, topic: string): Map<number, Map<string, number[]>> {
  const out = new Map<number, Map<string, number[]>>()
  for (const r of records) {
    if (r.groupId !== groupId) continue
    let g = out.get(r.generationId)
    if (!g) out.set(r.generationId, (g = new Map()))
    g.set(r.memberId, r.assignment.get(topic) ?? [])
  }
  return out
}
