/**
 * Real Kafka peers for the end-to-end tests: kcat (Debian's, on librdkafka), confluent-kafka-python
 * (Debian's, importable by /usr/bin/python3 only), kafkajs's low-level fetch, and a raw protocol
 * client on one socket built on kcli's own codecs (for bad input and for asking what the broker
 * advertises). Every process started here has a deadline and is killed when it passes it;
 * `stopAllPeers()` kills whatever is still running (call it in afterAll/afterEach).
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {createRequire} from 'node:module'
import {connect, type Socket} from 'node:net'
import {join} from 'node:path'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import type {ApiKeyNumber, ApiMessages} from '../../src/lib/protocol/generated/index.js'
import {decodeResponse, encodeRequest} from '../../src/lib/protocol/index.js'
import type {Encodable} from '../../src/lib/protocol/message.js'
import {iterateBatches, type RecordBatchHeader} from '../../src/lib/records/batch.js'
import {PROJECT_ROOT} from './harness.js'

export const KCAT = '/usr/bin/kcat'
export const PYTHON = '/usr/bin/python3'
export const PYTHON_DIR = join(PROJECT_ROOT, 'test/e2e/python')

/** Why kcat cannot be used here (naming the apt package), or null when it can. */
export const kcatMissing: string | null = existsSync(KCAT) ? null : `${KCAT} not found: install the Debian package kcat (apt-get install kcat)`

export const PROMTOOL = '/usr/bin/promtool'

/** Why Prometheus' promtool cannot be used here (naming the apt package), or null when it can. */
export const promtoolMissing: string | null = existsSync(PROMTOOL) ? null : `${PROMTOOL} not found: install the Debian package prometheus (apt-get install prometheus)`

/** Why confluent-kafka-python cannot be used here (naming the apt package), or null when it can. */
export const confluentPythonMissing: string | null = (() => {
  if (!existsSync(PYTHON)) return `${PYTHON} not found: install the Debian packages python3 and python3-confluent-kafka`
  const probe = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], {timeout: 15_000})
  return probe.status === 0 ? null : `confluent_kafka is not importable by ${PYTHON}: install the Debian package python3-confluent-kafka (apt-get install python3-confluent-kafka)`
})()

const running = new Set<ChildProcess>()

/** Kills (SIGKILL) every peer process still running. */
export function stopAllPeers(): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
  timedOut: boolean
}

export interface RunOptions {
  /** Written to stdin, which is then closed. */
  input?: string | Buffer
  /** The process is killed with SIGKILL when it runs longer. */
  timeoutMs: number
  env?: NodeJS.ProcessEnv
}

/** Runs a command to completion (or its deadline) and collects its output. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env})
    running.add(child)
    const stdout: Buffer[] = []
    let stderr = ''
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs)
    child.stdout!.on('data', (d: Buffer) => stdout.push(d))
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdin!.on('error', () => {})
    child.once('error', (error) => {
      clearTimeout(timer)
      running.delete(child)
      reject(error)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({code, signal, stdout: Buffer.concat(stdout), stderr, timedOut})
    })
    child.stdin!.end(options.input ?? '')
  })
}

/** Runs kcat; fails (with its stderr) when it times out or exits with an error. */
export async function kcat(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const result = await run(KCAT, args, options)
  if (result.timedOut || result.code !== 0) {
    throw new Error(`kcat ${args.join(' ')} ${result.timedOut ? `timed out after ${options.timeoutMs} ms` : `exited with ${result.code ?? result.signal}`}:\n${result.stderr}`)
  }
  return result
}

/** Starts a long-running peer (kcat -P fed over time); it is killed by stopAllPeers if still running. */
export function startPeer(command: string, args: readonly string[]): ChildProcess {
  const child = spawn(command, args, {stdio: ['pipe', 'pipe', 'pipe']})
  running.add(child)
  child.stdin!.on('error', () => {})
  child.once('exit', () => running.delete(child))
  return child
}

/**
 * Resolves with a child's exit code once its stdout and stderr are drained too. 'exit' can come
 * before the last bytes a process wrote are read from its pipes; 'close' comes after both.
 */
export function exitedWithOutput(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null && child.stdout?.readableEnded !== false) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('close', (code) => resolve(code)))
}

/**
 * Runs test/e2e/python/<script> with /usr/bin/python3 and returns the JSON it prints as its last
 * line; fails with its stderr when it exits with an error or passes its deadline.
 */
export async function python<T>(script: string, args: readonly string[], timeoutMs: number): Promise<T> {
  const result = await run(PYTHON, [join(PYTHON_DIR, script), ...args], {timeoutMs})
  const out = result.stdout.toString('utf8').trim()
  if (result.timedOut || result.code !== 0) {
    throw new Error(`${script} ${result.timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${result.code ?? result.signal}`}:\n${result.stderr}\n${out}`)
  }
  const last = out.slice(out.lastIndexOf('\n') + 1)
  return JSON.parse(last) as T
}

/**
 * kcat -C's output format for any bytes: "<offset> <key length> <value length>:" (lengths -1 for
 * null), then the raw key and value bytes — a framing that survives every byte in a key or value.
 */
export const KCAT_BINARY_FORMAT = '%o %K %S:%k%s'

export interface KcatRecord {
  offset: number
  key: Buffer | null
  value: Buffer | null
}

export function parseKcatBinary(out: Buffer): KcatRecord[] {
  const records: KcatRecord[] = []
  let p = 0
  const field = (end: number) => {
    const at = out.indexOf(end, p)
    if (at < 0) throw new Error(`kcat output: a record header is cut short at byte ${p}`)
    const n = Number(out.subarray(p, at).toString('ascii'))
    if (!Number.isInteger(n)) throw new Error(`kcat output: not a number at byte ${p}`)
    p = at + 1
    return n
  }
  const bytes = (length: number) => {
    if (length < 0) return null
    if (p + length > out.length) throw new Error('kcat output: a record is cut short')
    const b = Buffer.from(out.subarray(p, p + length))
    p += length
    return b
  }
  for (let n = 0; p < out.length && n <= out.length; n++) {
    const offset = field(0x20)
    const keyLength = field(0x20)
    const valueLength = field(0x3a)
    const key = bytes(keyLength)
    const value = bytes(valueLength)
    records.push({offset, key, value})
  }
  return records
}

// ---------------------------------------------------------------------------------------------
// A raw protocol client: one socket, requests answered in order, nothing retried or reconnected.

export class ConnectionClosedError extends Error {}

export class RawClient {
  private buffered: Buffer = Buffer.alloc(0)
  private readonly waiting: Array<{resolve(frame: Buffer): void; reject(error: Error): void}> = []
  private nextCorrelationId = 1
  /** Resolves when the broker (or we) closed the socket. */
  readonly closed: Promise<void>
  isClosed = false

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true
        for (const w of this.waiting.splice(0)) w.reject(new ConnectionClosedError('the broker closed the connection'))
        resolve()
      })
    })
    socket.on('error', () => {})
  }

  /** Runs `f` on a fresh connection to `port` and closes it afterwards, whatever `f` does. */
  static async using<T>(port: number, f: (client: RawClient) => Promise<T>): Promise<T> {
    const client = await RawClient.connect(port)
    try {
      return await f(client)
    } finally {
      client.close()
    }
  }

  static connect(port: number, timeoutMs = 5_000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({host: '127.0.0.1', port})
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Error(`connect to 127.0.0.1:${port} timed out`))
      }, timeoutMs)
      socket.once('connect', () => {
        clearTimeout(timer)
        resolve(new RawClient(socket))
      })
      socket.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0)
      if (this.buffered.length < 4 + size) break
      const frame = this.buffered.subarray(4, 4 + size)
      this.buffered = this.buffered.subarray(4 + size)
      const w = this.waiting.shift()
      if (w) w.resolve(frame)
    }
  }

  /** Sends raw bytes (a response, if one comes, is read with nextFrame). */
  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** The next response frame (with its correlation id, without its size). */
  nextFrame(timeoutMs = 10_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new ConnectionClosedError('the connection is closed'))
      const timer = setTimeout(() => reject(new Error(`no response in ${timeoutMs} ms`)), timeoutMs)
      this.waiting.push({
        resolve: (f) => {
          clearTimeout(timer)
          resolve(f)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
    })
  }

  async request<K extends ApiKeyNumber>(apiKey: K, apiVersion: number, body: Encodable<ApiMessages[K]['request']>, timeoutMs = 10_000): Promise<ApiMessages[K]['response']> {
    const correlationId = this.nextCorrelationId++
    const chunks = encodeRequest(apiKey, apiVersion, correlationId, 'kcli-e2e-raw', body)
    const answer = this.nextFrame(timeoutMs)
    for (const chunk of chunks) this.socket.write(chunk)
    const frame = await answer
    const {header, body: response} = decodeResponse(frame, apiKey, apiVersion)
    if (header.correlationId !== correlationId) throw new Error(`correlation id ${header.correlationId}, expected ${correlationId}`)
    return response
  }

  /** Resolves true when the broker closes the connection within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const result = await Promise.race([this.closed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))])
    clearTimeout(timer)
    return result
  }

  close(): void {
    this.socket.destroy()
  }
}

/** The API keys and version ranges the broker advertises in ApiVersions. */
export async function advertisedApis(port: number): Promise<Map<number, {minVersion: number; maxVersion: number}>> {
  const response = await RawClient.using(port, (client) => client.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'kcli-e2e', clientSoftwareVersion: '1'}))
  return new Map(response.apiKeys.map((k) => [k.apiKey, {minVersion: k.minVersion, maxVersion: k.maxVersion}]))
}

// ---------------------------------------------------------------------------------------------
// kafkajs's low-level API: a cluster and its broker's Fetch, for reading partitions without a
// consumer group (kafkajs's consumer has no manual assignment).

const requireFromHere = createRequire(import.meta.url)

export interface KafkajsMessage {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | Buffer[] | undefined>
  isControlRecord?: boolean
}

interface KafkajsFetchResponse {
  responses: Array<{topicName: string; partitions: Array<{partition: number; errorCode: number; highWatermark: string; messages: KafkajsMessage[]}>}>
}

interface KafkajsBroker {
  fetch(request: {maxWaitTime: number; minBytes: number; maxBytes: number; isolationLevel?: number; topics: Array<{topic: string; partitions: Array<{partition: number; fetchOffset: string; maxBytes: number}>}>}): Promise<KafkajsFetchResponse>
}

interface KafkajsCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  addTargetTopic(topic: string): Promise<void>
  findTopicPartitionMetadata(topic: string): Array<{partitionId: number; leader: number}>
  findBroker(opts: {nodeId: number}): Promise<KafkajsBroker>
}

/**
 * Reads partitions from `fetchOffset` to their high watermark with kafkajs's own Fetch request
 * and record decoding (decompression included), as its consumer would after a manual assignment.
 * Bounded: at most `maxFetches` Fetch requests.
 */
export async function kafkajsReadAll(bootstrap: string, topic: string, partitions: readonly number[], opts: {maxFetches?: number} = {}): Promise<Map<number, KafkajsMessage[]>> {
  const Cluster = requireFromHere('kafkajs/src/cluster/index.js') as new (options: object) => KafkajsCluster
  const {createLogger, LEVELS} = requireFromHere('kafkajs/src/loggers/index.js') as {createLogger(o: object): unknown; LEVELS: {NOTHING: number}}
  const socketFactory = (requireFromHere('kafkajs/src/network/socketFactory.js') as () => unknown)()
  const cluster = new Cluster({
    logger: createLogger({level: LEVELS.NOTHING, logCreator: () => () => {}}),
    brokers: [bootstrap],
    clientId: 'kcli-e2e-kafkajs-fetch',
    socketFactory,
    connectionTimeout: 5_000,
    requestTimeout: 15_000,
    enforceRequestTimeout: true,
    retry: {retries: 2},
  })
  await cluster.connect()
  try {
    await cluster.addTargetTopic(topic)
    const leaders = new Map(cluster.findTopicPartitionMetadata(topic).map((p) => [p.partitionId, p.leader]))
    const out = new Map<number, KafkajsMessage[]>(partitions.map((p) => [p, []]))
    const next = new Map<number, bigint>(partitions.map((p) => [p, 0n]))
    const done = new Set<number>()
    for (let i = 0; i < (opts.maxFetches ?? 100) && done.size < partitions.length; i++) {
      const wanted = partitions.filter((p) => !done.has(p))
      const broker = await cluster.findBroker({nodeId: leaders.get(wanted[0]!)!})
      const response = await broker.fetch({
        maxWaitTime: 50,
        minBytes: 1,
        maxBytes: 10 << 20,
        topics: [{topic, partitions: wanted.map((p) => ({partition: p, fetchOffset: String(next.get(p)!), maxBytes: 1 << 20}))}],
      })
      for (const t of response.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) throw new Error(`kafkajs fetch ${topic}-${p.partition}: error code ${p.errorCode}`)
          const from = next.get(p.partition)!
          // A batch may start before the fetch offset (compressed batches come whole): skip those.
          const fresh = p.messages.filter((m) => !m.isControlRecord && BigInt(m.offset) >= from)
          out.get(p.partition)!.push(...fresh)
          if (p.messages.length > 0) next.set(p.partition, BigInt(p.messages.at(-1)!.offset) + 1n)
          if (next.get(p.partition)! >= BigInt(p.highWatermark)) done.add(p.partition)
        }
      }
    }
    if (done.size < partitions.length) throw new Error(`kafkajs fetch: partitions ${partitions.filter((p) => !done.has(p)).join(',')} not read to the end in ${opts.maxFetches ?? 100} fetches`)
    return out
  } finally {
    await cluster.disconnect()
  }
}

/** Resident set size (VmRSS), open file descriptors and how many of them are sockets, from /proc. */
export function processFootprint(pid: number): {rssBytes: number; fds: number; sockets: number} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1] ?? Number.NaN)
  let sockets = 0
  const fds = readdirSync(`/proc/${pid}/fd`)
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++
    } catch {
      // closed while we looked
    }
  }
  return {rssBytes: kib * 1024, fds: fds.length, sockets}
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * The record batch headers of a partition as the broker stores them (read with Fetch v12 on a raw
 * connection): which codec, producer id and sequence each batch was written with. Bounded: at
 * most 50 Fetch requests.
 */
export async function storedBatches(port: number, topic: string, partition: number): Promise<RecordBatchHeader[]> {
  const client = await RawClient.connect(port)
  try {
    const headers: RecordBatchHeader[] = []
    let fetchOffset = 0n
    for (let i = 0; i < 50; i++) {
      const response = await client.request(ApiKey.Fetch, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 8 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{topic, partitions: [{partition, fetchOffset, partitionMaxBytes: 8 << 20, currentLeaderEpoch: -1, logStartOffset: -1n, lastFetchedEpoch: -1}]}],
      })
      const p = response.responses[0]!.partitions[0]!
      if (p.errorCode !== 0) throw new Error(`fetch ${topic}-${partition}: error code ${p.errorCode}`)
      const records = p.records ?? Buffer.alloc(0)
      for (const {header} of iterateBatches(records)) {
        headers.push(header)
        fetchOffset = BigInt(header.lastOffset + 1)
      }
      if (fetchOffset >= p.highWatermark) return headers
    }
    throw new Error(`fetch ${topic}-${partition}: not at the high watermark after 50 fetches`)
  } finally {
    client.close()
  }
}
