/**
 * Protocol codec benchmark: decode and encode rates of
 *   - a Produce request (v9 flexible, v3 classic) carrying one 1 MiB record batch,
 *   - a Fetch response (v17 and v12 flexible, v4 classic) carrying one 1 MiB record batch,
 *   - a Metadata response (v12) with 1,000 partitions (10 topics x 100, 3 replicas each),
 * next to a baseline on the same machine: copying the same 1 MiB (Buffer.concat), so that the
 * figures can be compared across machines as multiples of a memcpy.
 *
 * Decode is `decodeRequest`/`decodeResponse` of a whole frame (header + body, without the 4-byte
 * size); encode is `encodeRequest`/`encodeResponse` to the chunks a socket writes (the records
 * are not copied). Records are opaque to the codec: a Buffer slice.
 *
 * Run: npx tsx bench/protocol.ts [seconds per measurement, default 2]
 * Writes the table and the machine notes to bench/results-protocol.md.
 */
import {execSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, release} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {crc32c} from '@node-rs/crc32'
import {decodeRequest, decodeResponse, encodeRequest, encodeResponse} from '../src/lib/protocol/index.js'
import type {ApiKeyNumber} from '../src/lib/protocol/generated/index.js'
import {randomUuid} from '../src/lib/protocol/uuid.js'

const SECONDS = Number(process.argv[2] ?? 2)
const loadAtStart = loadavg()
const WARMUP_SECONDS = Math.min(0.5, SECONDS / 2)
const MiB = 1024 * 1024
const OUT = join(dirname(fileURLToPath(import.meta.url)), 'results-protocol.md')

// --- a 1 MiB RecordBatch v2 (uncompressed, 1 KiB values), exactly 1 MiB long -----------------

function zigzagVarint(v: number, out: number[]): void {
  let z = v >= 0 ? v * 2 : -v * 2 - 1
  while (z >= 0x80) {
    out.push((z & 0x7f) | 0x80)
    z = Math.floor(z / 128)
  }
  out.push(z)
}

function record(offsetDelta: number, value: Buffer): Buffer {
  const body: number[] = [0] // attributes
  zigzagVarint(offsetDelta, body) // timestampDelta
  zigzagVarint(offsetDelta, body) // offsetDelta
  zigzagVarint(-1, body) // key: null
  zigzagVarint(value.length, body)
  const tail = [0] // headers: none
  const length: number[] = []
  zigzagVarint(body.length + value.length + tail.length, length)
  return Buffer.concat([Buffer.from(length), Buffer.from(body), value, Buffer.from(tail)])
}

/** A RecordBatch v2 of exactly `size` bytes with a correct CRC-32C. */
function recordBatch(size: number): Buffer {
  const HEADER = 61
  const records: Buffer[] = []
  let used = HEADER
  const value = Buffer.alloc(1024, 'kcli-bench ')
  while (used + record(records.length, value).length + 1100 <= size) {
    const r = record(records.length, value)
    records.push(r)
    used += r.length
  }
  // The last record fills the batch to exactly `size` bytes.
  for (let n = size - used; n > 0; n--) {
    const r = record(records.length, Buffer.alloc(n, 'x'))
    if (used + r.length === size) {
      records.push(r)
      used += r.length
      break
    }
  }
  if (used !== size) throw new Error(`batch is ${used} bytes, not ${size}`)
  const batch = Buffer.concat([Buffer.alloc(HEADER), ...records])
  const now = BigInt(Date.now())
  batch.writeBigInt64BE(0n, 0) // baseOffset
  batch.writeInt32BE(size - 12, 8) // batchLength
  batch.writeInt32BE(0, 12) // partitionLeaderEpoch
  batch.writeInt8(2, 16) // magic
  batch.writeInt16BE(0, 21) // attributes: no compression, create time
  batch.writeInt32BE(records.length - 1, 23) // lastOffsetDelta
  batch.writeBigInt64BE(now, 27) // baseTimestamp
  batch.writeBigInt64BE(now + BigInt(records.length - 1), 35) // maxTimestamp
  batch.writeBigInt64BE(-1n, 43) // producerId
  batch.writeInt16BE(-1, 51) // producerEpoch
  batch.writeInt32BE(-1, 53) // baseSequence
  batch.writeInt32BE(records.length, 57) // records count
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17)
  return batch
}

// --- the messages ----------------------------------------------------------------------------

const records = recordBatch(MiB)
const topicId = randomUuid()

function produceRequest() {
  return {transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{name: 'bench-topic', partitionData: [{index: 0, records}]}]}
}

function fetchResponse() {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 'bench-topic',
        topicId,
        partitions: [
          {partitionIndex: 0, errorCode: 0, highWatermark: 1_000_000n, lastStableOffset: 1_000_000n, logStartOffset: 0n, abortedTransactions: [], preferredReadReplica: -1, records},
        ],
      },
    ],
  }
}

function metadataResponse() {
  const brokers = [1, 2, 3].map((nodeId) => ({nodeId, host: `broker-${nodeId}.kafka.internal`, port: 9092, rack: `rack-${nodeId}`}))
  const topics = Array.from({length: 10}, (_, t) => ({
    errorCode: 0,
    name: `orders-region-${t}`,
    topicId: randomUuid(),
    isInternal: false,
    topicAuthorizedOperations: -2147483648,
    partitions: Array.from({length: 100}, (_, p) => {
      const replicas = [1 + (p % 3), 1 + ((p + 1) % 3), 1 + ((p + 2) % 3)]
      return {errorCode: 0, partitionIndex: p, leaderId: replicas[0]!, leaderEpoch: 7, replicaNodes: replicas, isrNodes: replicas, offlineReplicas: []}
    }),
  }))
  return {throttleTimeMs: 0, brokers, clusterId: 'kcli-bench-cluster-000001', controllerId: 1, topics}
}

interface Case {
  name: string
  apiKey: ApiKeyNumber
  version: number
  direction: 'request' | 'response'
  body: object
}

const CASES: Case[] = [
  {name: 'Produce request v9, 1 MiB records', apiKey: 0, version: 9, direction: 'request', body: produceRequest()},
  {name: 'Produce request v3, 1 MiB records', apiKey: 0, version: 3, direction: 'request', body: produceRequest()},
  {name: 'Fetch response v17, 1 MiB records', apiKey: 1, version: 17, direction: 'response', body: fetchResponse()},
  {name: 'Fetch response v12, 1 MiB records', apiKey: 1, version: 12, direction: 'response', body: fetchResponse()},
  {name: 'Fetch response v4, 1 MiB records', apiKey: 1, version: 4, direction: 'response', body: fetchResponse()},
  {name: 'Metadata response v12, 1,000 partitions', apiKey: 3, version: 12, direction: 'response', body: metadataResponse()},
]

// --- measurement -----------------------------------------------------------------------------

let sink = 0

/** Runs `op` for about `seconds`; returns operations per second. */
function rate(op: () => number, seconds: number): number {
  let batch = 1
  let ops = 0
  const start = performance.now()
  const until = start + seconds * 1000
  for (;;) {
    for (let i = 0; i < batch; i++) sink += op()
    ops += batch
    const now = performance.now()
    if (now >= until) return (ops * 1000) / (now - start)
    if (now - start < 100) batch *= 2
  }
}

/** Warm-up, then the median of 5 runs of SECONDS / 5 (the median shrugs off a GC pause or a busy neighbour). */
function measure(op: () => number): number {
  rate(op, WARMUP_SECONDS)
  const runs = Array.from({length: 5}, () => rate(op, SECONDS / 5)).sort((a, b) => a - b)
  return runs[2]!
}

function frameOf(c: Case): Buffer[] {
  return c.direction === 'request' ? encodeRequest(c.apiKey, c.version, 1, 'bench', c.body as never) : encodeResponse(c.apiKey, c.version, 1, c.body as never)
}

interface Row {
  name: string
  bytes: number
  decode: number
  encode: number
  both: number
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits})
const mbs = (opsPerSecond: number, bytes: number) => (opsPerSecond * bytes) / 1e6

console.error(`protocol bench: each figure is ${WARMUP_SECONDS} s of warm-up, then the median of 5 runs of ${SECONDS / 5} s`)

// Baseline: copy the same 1 MiB into a new buffer, behind a small header.
const head = Buffer.alloc(64, 1)
const copyRate = measure(() => Buffer.concat([head, records], head.length + records.length).length)
const target = Buffer.alloc(head.length + records.length)
const memcpyRate = measure(() => records.copy(target, head.length))
console.error(`baseline Buffer.concat of 1 MiB: ${fmt(copyRate)} ops/s; copy into an existing buffer: ${fmt(memcpyRate)} ops/s`)

const rows: Row[] = []
for (const c of CASES) {
  const frame = Buffer.concat(frameOf(c)).subarray(4) // what a framer hands over: without the size
  const decode = c.direction === 'request' ? () => decodeRequest(frame) : () => decodeResponse(frame, c.apiKey, c.version)
  const encode = c.direction === 'request'
    ? (body: unknown) => encodeRequest(c.apiKey, c.version, 1, 'bench', body as never)
    : (body: unknown) => encodeResponse(c.apiKey, c.version, 1, body as never)
  // Check the round trip once before timing it.
  const again = Buffer.concat(encode(decode().body)).subarray(4)
  if (!again.equals(frame)) throw new Error(`${c.name}: re-encoding differs`)
  const row: Row = {
    name: c.name,
    bytes: frame.length,
    decode: measure(() => (decode().header.correlationId === 1 ? 1 : 0)),
    encode: measure(() => encode(c.body).length),
    both: measure(() => encode(decode().body).length),
  }
  rows.push(row)
  console.error(`${c.name}: decode ${fmt(row.decode)}/s, encode ${fmt(row.encode)}/s, decode+encode ${fmt(row.both)}/s`)
}

// --- report ----------------------------------------------------------------------------------

const table = [
  '| message | frame bytes | decode ops/s | decode MB/s | encode ops/s | encode MB/s | decode+encode ops/s | decode+encode MB/s | decode+encode ops/s ÷ baseline ops/s |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.bytes)} | ${fmt(r.decode)} | ${fmt(mbs(r.decode, r.bytes))} | ${fmt(r.encode)} | ${fmt(mbs(r.encode, r.bytes))} | ${fmt(r.both)} | ${fmt(mbs(r.both, r.bytes))} | ${fmt(r.both / memcpyRate, 2)} |`,
  ),
  `| **baseline**: copy the same 1 MiB into an existing buffer (\`buf.copy\`) | ${fmt(records.length)} | | | | | ${fmt(memcpyRate)} | ${fmt(mbs(memcpyRate, records.length))} | 1.00 |`,
  `| Buffer.concat of a 64-byte header and the 1 MiB (allocate + copy) | ${fmt(records.length + head.length)} | | | | | ${fmt(copyRate)} | ${fmt(mbs(copyRate, records.length + head.length))} | ${fmt(copyRate / memcpyRate, 2)} |`,
].join('\n')

function sh(command: string): string {
  try {
    return execSync(command, {encoding: 'utf8'}).trim()
  } catch {
    return 'unknown'
  }
}

const cpuModel = (() => {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown'
  } catch {
    return cpus()[0]?.model ?? 'unknown'
  }
})()

const report = `# Protocol codec benchmark

Command: \`npx tsx bench/protocol.ts${process.argv[2] ? ` ${process.argv[2]}` : ''}\` (from the project root). Each figure: ${WARMUP_SECONDS} s of warm-up,
then the median of 5 runs of ${SECONDS / 5} s.
Run on ${new Date().toISOString().slice(0, 10)}: \`nproc\` ${sh('nproc')}, node ${process.version}, CPU ${cpuModel}, Linux ${release()};
load average at the start ${loadAtStart.map((l) => l.toFixed(1)).join(' ')}, at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}. On a shared machine the
figures vary by up to 2x between runs: compare runs by the last column, measured in the same run.

${table}

- Decode: \`decodeRequest\` / \`decodeResponse\` of a whole frame (header and body, without the 4-byte size).
  Encode: \`encodeRequest\` / \`encodeResponse\` to the chunks a socket writes; the 1 MiB of records is
  passed by reference, not copied (Writer's zero copy for slices of 16 KiB and more). The records are
  one uncompressed RecordBatch v2 of exactly 1 MiB (1 KiB values, valid CRC-32C); the codec does not
  look inside it.
- MB/s is frame bytes x ops/s / 10^6, for each direction. Because records are not copied, the MB/s of
  the 1 MiB cases mostly measure the per-message work, and can exceed memcpy speed.
- The last column divides the decode+encode rate by the rate of the baseline measured in the same run
  (copying the same 1 MiB into an existing buffer; the 1 MiB stays in cache, so this is the machine's
  copy speed rather than its DRAM bandwidth): compare machines by this column. For example 20 means a decode+encode takes 1/20 of the time of one 1 MiB copy; 0.05 means
  it takes twenty. \`Buffer.concat\` (allocate 1 MiB and copy: what an encoder without zero copy would
  add to every message) is shown for reference.
- Metadata v12 has 3 brokers and 10 topics x 100 partitions, each with 3 replicas and 3 in-sync replicas.
`

writeFileSync(OUT, report)
console.log(table)
console.error(`wrote ${OUT} (sink ${sink > 0 ? 'ok' : sink})`)
