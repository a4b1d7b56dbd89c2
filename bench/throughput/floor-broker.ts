/**
 * The floor for issue 19's benchmark: the least a Node broker must do for librdkafka's produce and
 * fetch traffic, to divide kcli's CPU per record by.
 *
 * Produce (v3-v7): reads requests in place and frames them (kcli's onReadSocket and FrameReader;
 * frames larger than the 64 KiB scratch buffer are read into pooled buffers given back once answered), walks each partition's batch headers to assign
 * offsets (writes the base offset into each batch, as a broker must for its readers), writes the
 * partition's bytes to its file (one positional write per partition per request, on libuv's thread
 * pool, awaited before answering, as kcli's log does without fsync) and answers from a reused
 * buffer. No CRC check, no validation, no index file: an array of batch positions in memory.
 * Fetch (v4-v11): finds the batch holding the fetch offset in that array, reads up to the
 * partition's max bytes from the file into a pooled buffer (one positional read), and writes the
 * response header and the bytes with one writev; a fetch at the end waits max_wait_ms (or the next
 * append) as a broker does. Requests are handled one at a time per connection, in order.
 * ApiVersions, Metadata, ListOffsets and FindCoordinator (not per record) go through kcli's codecs.
 *
 *   node --import tsx bench/throughput/floor-broker.ts PORT DATA_DIR PARTITIONS
 *
 * Prints "listening" on stdout once it accepts connections.
 */
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {BufferPool} from '../../src/lib/buffer-pool.js'
import {decodeRequest, encodeResponse, peekRequestApi, registerApiCodecs} from '../../src/lib/protocol/frame.js'
import {FrameReader} from '../../src/lib/protocol/frame-reader.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {API_CODECS} from '../../src/lib/protocol/generated/index.js'
import {onReadSocket} from '../../src/server/network/connection.js'

registerApiCodecs(API_CODECS)

const [portArg, dataDir, partitionsArg] = process.argv.slice(2)
const PARTITIONS = Number(partitionsArg ?? 6)
fs.mkdirSync(dataDir!, {recursive: true})
// librdkafka's feature checks want the ranges to include Produce v3 and Fetch v4.
const PRODUCE_VERSIONS = [3, 7] as const
const FETCH_VERSIONS = [4, 11] as const

/** One partition: its file, and the base offset and file position of every batch (grown by doubling). */
class Partition {
  readonly fd: number
  size = 0
  nextOffset = 0
  batches = 0
  offsets = new Float64Array(1024)
  positions = new Float64Array(1024)
  waiting: Array<() => void> = []
  constructor(file: string) {
    this.fd = fs.openSync(file, 'w+')
  }
  addBatch(baseOffset: number, position: number): void {
    if (this.batches === this.offsets.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2)
        b.set(a)
        return b
      }
      this.offsets = grow(this.offsets)
      this.positions = grow(this.positions)
    }
    this.offsets[this.batches] = baseOffset
    this.positions[this.batches++] = position
  }
  /** File position of the batch holding `offset` (the last batch starting at or before it). */
  positionOf(offset: number): number {
    let lo = 0
    let hi = this.batches - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.offsets[mid]! <= offset) lo = mid
      else hi = mid - 1
    }
    return this.positions[lo]!
  }
}

const partitions = new Map<string, Partition[]>()
function partitionOf(topic: string, index: number): Partition {
  let ps = partitions.get(topic)
  if (!ps) {
    ps = Array.from({length: PARTITIONS}, (_, i) => new Partition(path.join(dataDir!, `${topic}-${i}.log`)))
    partitions.set(topic, ps)
  }
  return ps[index]!
}

const frames = new BufferPool(16, 64 * 1024, 16 * 1024 * 1024)
const reads = new BufferPool(32, 64 * 1024, 16 * 1024 * 1024)

/** A cursor over a request frame (non-flexible versions only). */
class Reader {
  at = 0
  constructor(readonly buf: Buffer) {}
  i8(): number {
    return this.buf.readInt8(this.at++)
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.at)
    this.at += 2
    return v
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.at)
    this.at += 4
    return v
  }
  i64(): number {
    const v = this.buf.readUInt32BE(this.at) * 2 ** 32 + this.buf.readUInt32BE(this.at + 4)
    this.at += 8
    return v
  }
  /** Skips a (nullable) string and returns it only when asked. */
  str(keep = true): string | null {
    const n = this.i16()
    if (n < 0) return null
    const s = keep ? this.buf.toString('latin1', this.at, this.at + n) : ''
    this.at += n
    return s
  }
  bytes(): Buffer | null {
    const n = this.i32()
    if (n < 0) return null
    const b = this.buf.subarray(this.at, this.at + n)
    this.at += n
    return b
  }
}

/** A response built in one reused buffer per connection (grown when needed). */
class Writer {
  buf = Buffer.allocUnsafeSlow(64 * 1024)
  at = 0
  reset(): this {
    this.at = 4
    return this
  }
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return
    const b = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n))
    this.buf.copy(b, 0, 0, this.at)
    this.buf = b
  }
  i16(v: number): this {
    this.room(2)
    this.at = this.buf.writeInt16BE(v, this.at)
    return this
  }
  i32(v: number): this {
    this.room(4)
    this.at = this.buf.writeInt32BE(v, this.at)
    return this
  }
  i64(v: number): this {
    this.room(8)
    this.at = this.buf.writeInt32BE(Math.floor(v / 2 ** 32), this.at)
    this.at = this.buf.writeUInt32BE(v >>> 0, this.at)
    return this
  }
  str(s: string): this {
    this.room(2 + s.length)
    this.at = this.buf.writeInt16BE(s.length, this.at)
    this.at += this.buf.write(s, this.at, 'latin1')
    return this
  }
  /** The response so far with its size prefix, plus `extra` bytes to follow it. */
  done(extra = 0): Buffer {
    this.buf.writeInt32BE(this.at - 4 + extra, 0)
    return this.buf.subarray(0, this.at)
  }
}

function write(fd: number, buffer: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => fs.write(fd, buffer, 0, buffer.length, position, (error) => (error ? reject(error) : resolve())))
}
function read(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buffer, 0, buffer.length, position, (error, n) => (error ? reject(error) : resolve(n))))
}

/** Assigns offsets to the batches in `records` (v2 headers: baseOffset at 0, length at 8, lastOffsetDelta at 23). */
function append(p: Partition, records: Buffer): {baseOffset: number; done: Promise<void>} {
  const baseOffset = p.nextOffset
  const position = p.size
  for (let at = 0; at + 61 <= records.length; ) {
    const offset = p.nextOffset
    records.writeUInt32BE(Math.floor(offset / 2 ** 32), at)
    records.writeUInt32BE(offset >>> 0, at + 4)
    p.addBatch(offset, position + at)
    p.nextOffset += records.readInt32BE(at + 23) + 1
    at += 12 + records.readInt32BE(at + 8)
  }
  p.size += records.length
  return {baseOffset, done: write(p.fd, records, position)}
}

async function produce(r: Reader, w: Writer, version: number, correlationId: number): Promise<Buffer | null> {
  r.str(false) // transactional id
  const acks = r.i16()
  r.i32() // timeout
  const topics = r.i32()
  w.reset().i32(correlationId).i32(topics)
  const pending: Array<Promise<void>> = []
  for (let t = 0; t < topics; t++) {
    const name = r.str()!
    const count = r.i32()
    w.str(name).i32(count)
    for (let i = 0; i < count; i++) {
      const index = r.i32()
      const records = r.bytes()
      const {baseOffset, done} = append(partitionOf(name, index), records ?? Buffer.alloc(0))
      pending.push(done)
      w.i32(index).i16(0).i64(baseOffset).i64(-1)
      if (version >= 5) w.i64(0) // log start offset
    }
  }
  w.i32(0) // throttle
  await Promise.all(pending)
  for (const ps of partitions.values()) for (const p of ps) for (const wake of p.waiting.splice(0)) wake()
  return acks === 0 ? null : w.done()
}

async function fetch(r: Reader, w: Writer, version: number, correlationId: number, socket: net.Socket): Promise<Buffer[]> {
  r.i32() // replica
  const maxWaitMs = r.i32()
  r.i32() // min bytes
  let maxBytes = r.i32()
  r.i8() // isolation
  if (version >= 7) {
    r.i32() // session id
    r.i32() // session epoch
  }
  const wanted: Array<{name: string; parts: Array<{index: number; offset: number; max: number}>}> = []
  for (let t = r.i32(); t > 0; t--) {
    const name = r.str()!
    const parts = []
    for (let n = r.i32(); n > 0; n--) {
      const index = r.i32()
      if (version >= 9) r.i32() // current leader epoch
      const offset = r.i64()
      if (version >= 5) r.i64() // log start offset
      parts.push({index, offset, max: r.i32()})
    }
    wanted.push({name, parts})
  }
  const hasData = () => wanted.some((t) => t.parts.some((p) => partitionOf(t.name, p.index).nextOffset > p.offset))
  if (!hasData() && maxWaitMs > 0 && !socket.destroyed) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, maxWaitMs)
      for (const t of wanted) for (const p of t.parts) partitionOf(t.name, p.index).waiting.push(() => (clearTimeout(timer), resolve()))
    })
  }
  // Reads, all partitions at once (one pread each), bounded by the request's max bytes.
  const reads_: Array<Promise<Buffer | null>> = []
  for (const t of wanted) {
    for (const q of t.parts) {
      const p = partitionOf(t.name, q.index)
      if (p.nextOffset <= q.offset || maxBytes <= 0) {
        reads_.push(Promise.resolve(null))
        continue
      }
      const from = p.positionOf(q.offset)
      const length = Math.min(q.max, maxBytes, p.size - from)
      maxBytes -= length
      const buffer = reads.take(length)
      reads_.push(read(p.fd, buffer, from).then((n) => buffer.subarray(0, n)))
    }
  }
  const data = await Promise.all(reads_)
  w.reset().i32(correlationId).i32(0)
  if (version >= 7) w.i16(0).i32(0)
  w.i32(wanted.length)
  const chunks: Buffer[] = []
  let extra = 0
  let k = 0
  // The header and the per-partition fields go into the reused buffer; each partition's record
  // bytes follow as their own chunk, so the head is cut after each records length.
  const cuts: number[] = []
  for (const t of wanted) {
    w.str(t.name).i32(t.parts.length)
    for (const q of t.parts) {
      const p = partitionOf(t.name, q.index)
      const d = data[k++]
      w.i32(q.index).i16(0).i64(p.nextOffset).i64(p.nextOffset)
      if (version >= 5) w.i64(0)
      w.i32(-1) // no aborted transactions
      if (version >= 11) w.i32(-1) // no preferred read replica
      w.i32(d ? d.length : 0)
      if (d && d.length > 0) {
        cuts.push(w.at)
        chunks.push(d)
        extra += d.length
      }
    }
  }
  const head = w.done(extra)
  // Interleave: head[0, first cut), data[0], head[cut0, cut1), data[1], ... head[last cut, end).
  const out: Buffer[] = []
  let from = 0
  for (let i = 0; i < cuts.length; i++) {
    out.push(head.subarray(from, cuts[i]), chunks[i]!)
    from = cuts[i]!
  }
  out.push(head.subarray(from))
  return out
}

const served = [
  [ApiKey.ApiVersions, 0, 3],
  [ApiKey.Metadata, 0, 12],
  [ApiKey.Produce, ...PRODUCE_VERSIONS],
  [ApiKey.Fetch, ...FETCH_VERSIONS],
  [ApiKey.ListOffsets, 1, 5],
  [ApiKey.FindCoordinator, 0, 2],
] as const

function viaCodecs(frame: Buffer, port: number): Buffer[] {
  const {apiKey, apiVersion, correlationId} = peekRequestApi(frame)
  if (apiKey === ApiKey.ApiVersions) {
    const apiKeys = served.map(([k, min, max]) => ({apiKey: k, minVersion: min, maxVersion: max}))
    return encodeResponse(ApiKey.ApiVersions, Math.min(apiVersion, 3), correlationId, {errorCode: 0, apiKeys, throttleTimeMs: 0})
  }
  const {body} = decodeRequest(frame) as {body: any}
  const broker = {nodeId: 0, host: '127.0.0.1', port, rack: null}
  if (apiKey === ApiKey.Metadata) {
    const names: string[] = (body.topics ?? []).map((t: {name: string}) => t.name)
    const topics = names.map((name) => ({
      errorCode: 0,
      name,
      isInternal: false,
      partitions: Array.from({length: PARTITIONS}, (_, i) => ({errorCode: 0, partitionIndex: i, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: []})),
    }))
    return encodeResponse(ApiKey.Metadata, apiVersion, correlationId, {brokers: [broker], clusterId: 'floor', controllerId: 0, topics} as never)
  }
  if (apiKey === ApiKey.ListOffsets) {
    const topics = (body.topics as Array<{name: string; partitions: Array<{partitionIndex: number; timestamp: bigint}>}>).map((t) => ({
      name: t.name,
      partitions: t.partitions.map((q) => ({partitionIndex: q.partitionIndex, errorCode: 0, timestamp: -1n, offset: q.timestamp === -2n ? 0n : BigInt(partitionOf(t.name, q.partitionIndex).nextOffset), leaderEpoch: 0})),
    }))
    return encodeResponse(ApiKey.ListOffsets, apiVersion, correlationId, {throttleTimeMs: 0, topics} as never)
  }
  if (apiKey === ApiKey.FindCoordinator) {
    return encodeResponse(ApiKey.FindCoordinator, apiVersion, correlationId, {throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 0, host: '127.0.0.1', port} as never)
  }
  throw new Error(`API ${apiKey} v${apiVersion} is not served by the floor`)
}

// Sockets read in place, as kcli's plaintext listeners do (onReadSocket).
const server = net.createServer({pauseOnConnect: true}, (accepted) => {
  let target: ReturnType<typeof inPlace> | undefined
  const socket = onReadSocket(accepted, () => target)
  socket.setNoDelay(true)
  const port = (server.address() as net.AddressInfo).port
  const queue: Buffer[] = []
  const w = new Writer()
  let busy = false
  const send = (chunks: Buffer[], done?: () => void) => {
    socket.cork()
    for (let i = 0; i < chunks.length; i++) socket.write(chunks[i]!, i === chunks.length - 1 ? done : undefined)
    socket.uncork()
  }
  const handle = async (frame: Buffer) => {
    const apiKey = frame.readInt16BE(0)
    const apiVersion = frame.readInt16BE(2)
    const correlationId = frame.readInt32BE(4)
    const r = new Reader(frame)
    r.at = 8
    r.str(false) // client id
    if (apiKey === ApiKey.Produce && apiVersion >= PRODUCE_VERSIONS[0] && apiVersion <= PRODUCE_VERSIONS[1]) {
      const out = await produce(r, w, apiVersion, correlationId)
      // The response is copied into the socket's buffer or written before the next request reuses w.
      if (out) await new Promise<void>((resolve) => send([out], resolve))
    } else if (apiKey === ApiKey.Fetch && apiVersion >= FETCH_VERSIONS[0] && apiVersion <= FETCH_VERSIONS[1]) {
      const data = await fetch(r, w, apiVersion, correlationId, socket)
      await new Promise<void>((resolve) => send(data, resolve))
      for (const d of data) reads.release(d)
    } else {
      send(viaCodecs(frame, port))
    }
    frames.release(frame)
  }
  const pump = async () => {
    if (busy) return
    busy = true
    while (queue.length > 0) await handle(queue.shift()!)
    busy = false
  }
  const reader = new FrameReader({maxFrameSize: 100 * 1024 * 1024, onFrame: (f) => queue.push(f), allocate: (size) => frames.take(size)})
  const received = () =>
    pump().catch((error) => {
      process.stderr.write(`${error}\n`)
      socket.destroy()
    })
  target = inPlace(reader, received)
  socket.on('error', () => socket.destroy())
})

function inPlace(reader: FrameReader, received: () => void) {
  return {
    readBuffer: () => reader.readBuffer(),
    didRead: (n: number) => {
      reader.didRead(n)
      received()
    },
    receivedChunk: (chunk: Buffer) => {
      reader.push(chunk)
      received()
    },
  }
}
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write('listening\n'))
process.on('SIGTERM', () => process.exit(0))
