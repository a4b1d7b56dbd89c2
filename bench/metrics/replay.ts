/**
 * Issue 16: a produce load that is the same in every run, to measure what the broker's metrics
 * cost without the load generator's noise (librdkafka batches differently from run to run, and
 * the broker's CPU per record follows the batching: bench/metrics/ab.sh's 1.07–1.12 on/off).
 *
 *   npx tsx bench/metrics/replay.ts record --out FRAMES [--topic t] [--partitions 6] [--batch-records 128] [--size 100] [--frames 32] [--acks 1]
 *   npx tsx bench/metrics/replay.ts replay --frames FRAMES --bootstrap 127.0.0.1:PORT --pid BROKER_PID
 *       [--records 3000000] [--warmup-records 300000] [--connections 2] [--in-flight 4] [--skip-create]
 *   npx tsx bench/metrics/replay.ts ab --frames FRAMES --off HOST:PORT,PID --on HOST:PORT,PID [--on-first]
 *       [--slices 16] [--slice-records 150000] [--warmup-records 300000] [--connections 2] [--in-flight 4]
 *   npx tsx bench/metrics/replay.ts summarize --runs RUNS.jsonl --out RESULT.json [--shape NAME]
 *
 * record: builds --frames Produce requests as librdkafka 2.0.2 sends them (kcat.jsonl in the
 * Kafka reference captures: Produce v7, client id "rdkafka", acks as --acks (1), timeout 30 s, one record
 * batch v2 per partition, uncompressed, not idempotent), each with one batch of --batch-records
 * records of --size random bytes (no key, no headers) for every partition of the topic, and
 * writes them size-prefixed to FRAMES. 6 partitions x 128 records of 100 B is an 84 KB request
 * (librdkafka's defaults under full load); x 24 records, 16 KB (the Java client's batch.size).
 *
 * replay: creates the topic when missing (the project's Admin client; not with --skip-create, for
 * a broker without CreateTopics such as bench/throughput/floor-broker.ts), then writes the recorded
 * frames, cycling through them, over --connections sockets with at most --in-flight requests
 * unanswered on each (as a client pipelines: max.in.flight), first --warmup-records unmeasured,
 * then --records measured. Every response is decoded and a partition error fails the run. Prints
 * one JSON line: records/s and the broker process's CPU over the measured phase, in ns from
 * /proc/<pid>/task/<tid>/schedstat summed over its threads (all of them; main: the event loop's
 * thread alone) and in clock ticks from /proc/<pid>/stat, per record; the load average.
 *
 * ab: the same against two brokers (metrics off and on), measured in turns: each broker warmed
 * up, then --slices slices of --slice-records records per broker in ABBA order (off on on off ...;
 * on off off on ... with --on-first), one broker working at a time, so that both see the same
 * machine within a second; one JSON line per broker (`mode`), its slices added up.
 *
 * summarize: pairs the runs of RUNS.jsonl (replay's JSON lines with `mode` off|on and `round`, as
 * ab-replay.sh writes them; a round's runs of one mode are added up) and writes the on/off ratios
 * of CPU per record and records/s per round, their median, quartiles and range, and the ratio of
 * the sums over all rounds to RESULT.json; prints a table.
 */
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import {randomBytes} from 'node:crypto'
import {parseArgs} from 'node:util'

import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {decodeRequest, decodeResponse, encodeRequest, registerApiCodecs} from '../../src/lib/protocol/frame.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {API_CODECS} from '../../src/lib/protocol/generated/index.js'
import type {ProduceRequest} from '../../src/lib/protocol/generated/produce-request.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'

registerApiCodecs(API_CODECS)

/** What librdkafka 2.0.2 sends (captures/kcat.jsonl). */
const PRODUCE_VERSION = 7
const CLIENT_ID = 'rdkafka'
/** The record count of a v2 batch header (src/lib/records/batch.ts). */
const RECORDS_COUNT_OFFSET = 57

const [command, ...rest] = process.argv.slice(2)
const {values: opt} = parseArgs({
  args: rest,
  options: {
    out: {type: 'string'},
    topic: {type: 'string', default: 't'},
    partitions: {type: 'string', default: '6'},
    'batch-records': {type: 'string', default: '128'},
    size: {type: 'string', default: '100'},
    frames: {type: 'string', default: '32'},
    acks: {type: 'string', default: '1'},
    'skip-create': {type: 'boolean', default: false},
    bootstrap: {type: 'string'},
    pid: {type: 'string'},
    records: {type: 'string', default: '3000000'},
    'warmup-records': {type: 'string', default: '300000'},
    connections: {type: 'string', default: '2'},
    'in-flight': {type: 'string', default: '4'},
    runs: {type: 'string'},
    shape: {type: 'string', default: ''},
    off: {type: 'string'},
    on: {type: 'string'},
    'on-first': {type: 'boolean', default: false},
    slices: {type: 'string', default: '16'},
    'slice-records': {type: 'string', default: '150000'},
  },
})

interface Frames {
  topic: string
  partitions: number
  /** Size-prefixed Produce request frames. */
  frames: Buffer[]
  /** Records in each frame. */
  records: number[]
}

async function record(): Promise<void> {
  const partitions = Number(opt.partitions)
  const perBatch = Number(opt['batch-records'])
  const size = Number(opt.size)
  const out: Buffer[] = []
  // One instant for every batch: the frames are the same whenever they are replayed.
  const timestamp = Date.now()
  for (let f = 0; f < Number(opt.frames); f++) {
    const partitionData = []
    for (let p = 0; p < partitions; p++) {
      const records = Array.from({length: perBatch}, (_, i) => ({timestamp: timestamp + i, value: randomBytes(size)}))
      partitionData.push({index: p, records: await buildRecordBatch({records})})
    }
    const body: ProduceRequest = {transactionalId: null, acks: Number(opt.acks), timeoutMs: 30_000, topicData: [{name: opt.topic!, partitionData}]}
    out.push(Buffer.concat(encodeRequest(ApiKey.Produce, PRODUCE_VERSION, f + 1, CLIENT_ID, body)))
  }
  fs.writeFileSync(opt.out!, Buffer.concat(out))
  const bytes = out.map((b) => b.length)
  console.log(JSON.stringify({frames: out.length, recordsPerFrame: partitions * perBatch, bytesPerFrame: [Math.min(...bytes), Math.max(...bytes)]}))
}

function loadFrames(file: string): Frames {
  const all = fs.readFileSync(file)
  const frames: Buffer[] = []
  const records: number[] = []
  let topic = ''
  let partitions = 0
  for (let at = 0; at < all.length; ) {
    const frame = all.subarray(at, at + 4 + all.readInt32BE(at))
    at += frame.length
    const {body} = decodeRequest(frame.subarray(4))
    const request = body as ProduceRequest
    topic = request.topicData[0]!.name
    partitions = Math.max(partitions, ...request.topicData[0]!.partitionData.map((p) => p.index + 1))
    let n = 0
    for (const t of request.topicData) for (const p of t.partitionData) n += p.records!.readInt32BE(RECORDS_COUNT_OFFSET)
    frames.push(frame)
    records.push(n)
  }
  return {topic, partitions, frames, records}
}

/** CPU of a process so far: ns summed over its threads' schedstat, the main thread's alone, and utime+stime ticks. */
function processCpu(pid: number): {ns: number; mainNs: number; ticks: number} {
  let ns = 0
  let mainNs = 0
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let t = 0
    try {
      t = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      continue // a thread that ended between the listing and the read
    }
    ns += t
    if (tid === String(pid)) mainNs = t
  }
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {ns, mainNs, ticks: Number(f[11]) + Number(f[12])}
}

/**
 * Writes frames (cycling) over the sockets, at most `inFlight` unanswered per socket, until
 * `records` records are acknowledged; resolves with the requests answered.
 */
function drive(sockets: net.Socket[], set: Frames, records: number, inFlight: number, next: {frame: number}): Promise<{requests: number; records: number; bytes: number}> {
  return new Promise((resolve, reject) => {
    let queuedRecords = 0
    let acked = 0
    let requests = 0
    let bytes = 0
    let open = sockets.length
    const pending: number[][] = sockets.map(() => [])
    const finish = (error?: Error) => {
      for (const s of sockets) {
        s.removeAllListeners('data')
        s.removeAllListeners('error')
      }
      if (error) reject(error)
      else resolve({requests, records: acked, bytes})
    }
    sockets.forEach((socket, i) => {
      const mine = pending[i]!
      const pump = () => {
        while (mine.length < inFlight && queuedRecords < records) {
          const f = next.frame++ % set.frames.length
          const frame = set.frames[f]!
          queuedRecords += set.records[f]!
          mine.push(f)
          bytes += frame.length
          socket.write(frame)
        }
        if (mine.length === 0 && --open === 0) finish()
      }
      let buffered: Buffer = Buffer.alloc(0)
      socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
        while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
          const size = buffered.readInt32BE(0)
          const {body} = decodeResponse(buffered.subarray(4, 4 + size), ApiKey.Produce, PRODUCE_VERSION)
          buffered = buffered.subarray(4 + size)
          for (const t of body.responses) {
            for (const p of t.partitionResponses) {
              if (p.errorCode !== 0) return finish(new Error(`produce to ${t.name}-${p.index}: error ${p.errorCode}`))
            }
          }
          acked += set.records[mine.shift()!]!
          requests++
          if (mine.length === 0 && queuedRecords >= records) {
            if (--open === 0) return finish()
          } else pump()
        }
      })
      socket.on('error', (error) => finish(error))
      pump()
    })
  })
}

/** The replayed topic, with the frames' partition count, unless it exists. */
async function createTopic(bootstrap: string, set: Frames): Promise<void> {
  const client = new KafkaClient({bootstrapServers: parseBootstrapServers(bootstrap)})
  try {
    const existing = await new Admin(client).createTopics([{name: set.topic, numPartitions: set.partitions, replicationFactor: 1}])
    const error = existing[0]?.errorCode
    if (error !== undefined && error !== 0 && error !== 36 /* TOPIC_ALREADY_EXISTS */) throw new Error(`creating ${set.topic}: error ${error}`)
  } finally {
    await client.close()
  }
}

/** A broker replayed to: its sockets, warmed up (the topic created and answering). */
async function warmedUp(bootstrap: string, set: Frames, next: {frame: number}): Promise<net.Socket[]> {
  if (!opt['skip-create']) await createTopic(bootstrap, set)
  const [host, port] = [bootstrap.slice(0, bootstrap.lastIndexOf(':')), Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1))]
  const connect = () =>
    Promise.all(
      Array.from(
        {length: Number(opt.connections)},
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({host, port, noDelay: true}, () => resolve(s))
            s.once('error', reject)
          }),
      ),
    )
  // The topic's partitions may take a moment to have a leader: the warm-up starts again (on new
  // connections, so that no answer of the failed attempt is left unread) until they answer.
  for (let attempt = 0; ; attempt++) {
    const sockets = await connect()
    try {
      await drive(sockets, set, Number(opt['warmup-records']), Number(opt['in-flight']), next)
      return sockets
    } catch (error) {
      for (const s of sockets) s.destroy()
      if (attempt >= 20) throw error
      await new Promise((r) => setTimeout(r, 250))
    }
  }
}

/** What a broker did over measured phases, added up. */
class Measured {
  records = 0
  requests = 0
  bytes = 0
  seconds = 0
  cpuNs = 0
  mainCpuNs = 0
  ticks = 0
  phases = 0
  readonly loadavgBefore = os.loadavg()

  constructor(readonly pid: number) {}

  async phase(sockets: net.Socket[], set: Frames, records: number, next: {frame: number}): Promise<void> {
    const cpu0 = processCpu(this.pid)
    const t0 = performance.now()
    const done = await drive(sockets, set, records, Number(opt['in-flight']), next)
    this.seconds += (performance.now() - t0) / 1000
    const cpu1 = processCpu(this.pid)
    this.records += done.records
    this.requests += done.requests
    this.bytes += done.bytes
    this.cpuNs += cpu1.ns - cpu0.ns
    this.mainCpuNs += cpu1.mainNs - cpu0.mainNs
    this.ticks += cpu1.ticks - cpu0.ticks
    this.phases++
  }

  toJSON(): object {
    return {
      records: this.records,
      requests: this.requests,
      phases: this.phases,
      bytesPerRequest: Math.round(this.bytes / this.requests),
      recordsPerRequest: this.records / this.requests,
      seconds: Number(this.seconds.toFixed(3)),
      recordsPerS: Math.round(this.records / this.seconds),
      brokerCpuNs: this.cpuNs,
      brokerMainCpuNs: this.mainCpuNs,
      brokerCpuTicks: this.ticks,
      cpuNsPerRecord: Number((this.cpuNs / this.records).toFixed(2)),
      mainCpuNsPerRecord: Number((this.mainCpuNs / this.records).toFixed(2)),
      loadavgBefore: this.loadavgBefore.map((l) => Number(l.toFixed(2))),
      loadavgAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
    }
  }
}

async function replay(): Promise<void> {
  const set = loadFrames(opt.frames!)
  const next = {frame: 0}
  const sockets = await warmedUp(opt.bootstrap!, set, next)
  const measured = new Measured(Number(opt.pid))
  const own0 = process.cpuUsage()
  await measured.phase(sockets, set, Number(opt.records), next)
  const own = process.cpuUsage(own0)
  for (const s of sockets) s.destroy()
  console.log(JSON.stringify({...measured.toJSON(), replayerCpuS: Number(((own.user + own.system) / 1e6).toFixed(3))}))
}

/**
 * Two brokers, off and on, replayed to in turn: --slices slices of --slice-records records each
 * per broker, in ABBA order (off on on off ..., or on off off on ... with --on-first), one broker
 * working at a time; prints one JSON line per broker with `mode`.
 */
async function ab(): Promise<void> {
  const set = loadFrames(opt.frames!)
  const targets = {off: opt.off!.split(','), on: opt.on!.split(',')} as const
  const next = {frame: 0}
  const sockets = {off: await warmedUp(targets.off[0]!, set, next), on: await warmedUp(targets.on[0]!, set, next)}
  const measured = {off: new Measured(Number(targets.off[1])), on: new Measured(Number(targets.on[1]))}
  const [a, b] = opt['on-first'] ? (['on', 'off'] as const) : (['off', 'on'] as const)
  const slice = Number(opt['slice-records'])
  for (let i = 0; i < Number(opt.slices); i++) {
    for (const mode of i % 2 === 0 ? [a, b] : [b, a]) await measured[mode].phase(sockets[mode], set, slice, next)
  }
  for (const mode of ['off', 'on'] as const) {
    for (const s of sockets[mode]) s.destroy()
    console.log(JSON.stringify({mode, ...measured[mode].toJSON()}))
  }
}

interface Run {
  round: number
  mode: 'off' | 'on'
  records: number
  seconds: number
  brokerCpuNs: number
  brokerMainCpuNs: number
  loadavgBefore: number[]
  loadavgAfter: number[]
}

/** One mode's runs of a round, added up. */
interface Side {
  records: number
  recordsPerS: number
  cpuNsPerRecord: number
  mainCpuNsPerRecord: number
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo)
}

function side(runs: Run[]): Side {
  const records = runs.reduce((n, r) => n + r.records, 0)
  const seconds = runs.reduce((n, r) => n + r.seconds, 0)
  const cpu = runs.reduce((n, r) => n + r.brokerCpuNs, 0)
  const main = runs.reduce((n, r) => n + r.brokerMainCpuNs, 0)
  return {records, recordsPerS: Math.round(records / seconds), cpuNsPerRecord: Number((cpu / records).toFixed(2)), mainCpuNsPerRecord: Number((main / records).toFixed(2))}
}

function summarize(): void {
  const runs = fs
    .readFileSync(opt.runs!, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Run)
  const rounds = [...new Set(runs.map((r) => r.round))].sort((a, b) => a - b)
  const pairs = rounds.flatMap((round) => {
    const off = runs.filter((r) => r.round === round && r.mode === 'off')
    const on = runs.filter((r) => r.round === round && r.mode === 'on')
    return off.length > 0 && on.length > 0 ? [{round, off: side(off), on: side(on)}] : []
  })
  const r4 = (x: number) => Number(x.toFixed(4))
  const stats = (ratios: number[]) => {
    const s = [...ratios].sort((a, b) => a - b)
    return {median: r4(quantile(s, 0.5)), q1: r4(quantile(s, 0.25)), q3: r4(quantile(s, 0.75)), min: r4(s[0]!), max: r4(s.at(-1)!)}
  }
  const ratio = (f: (s: Side) => number) => ({perPair: pairs.map((p) => r4(f(p.on) / f(p.off))), ...stats(pairs.map((p) => f(p.on) / f(p.off)))})
  const total = (mode: 'off' | 'on', f: (r: Run) => number) => runs.filter((r) => r.mode === mode).reduce((n, r) => n + f(r), 0)
  const ofSums = (f: (r: Run) => number) => r4(total('on', f) / total('on', (r) => r.records) / (total('off', f) / total('off', (r) => r.records)))
  const median = (f: (s: Side) => number, mode: 'off' | 'on') => quantile(pairs.map((p) => f(p[mode])).sort((a, b) => a - b), 0.5)
  const loads = runs.flatMap((r) => [r.loadavgBefore[0]!, r.loadavgAfter[0]!]).sort((a, b) => a - b)
  const result = {
    shape: opt.shape,
    date: new Date().toISOString(),
    pairs: pairs.length,
    loadavg1m: {min: loads[0], median: quantile(loads, 0.5), max: loads.at(-1)},
    cpuPerRecord: {...ratio((s) => s.cpuNsPerRecord), ratioOfSums: ofSums((r) => r.brokerCpuNs), offMedianNs: median((s) => s.cpuNsPerRecord, 'off'), onMedianNs: median((s) => s.cpuNsPerRecord, 'on')},
    mainThreadCpuPerRecord: {...ratio((s) => s.mainCpuNsPerRecord), ratioOfSums: ofSums((r) => r.brokerMainCpuNs)},
    throughput: {...ratio((s) => s.recordsPerS), offMedian: median((s) => s.recordsPerS, 'off'), onMedian: median((s) => s.recordsPerS, 'on')},
    pairsBySide: pairs,
    runs,
  }
  fs.writeFileSync(opt.out!, JSON.stringify(result, null, 2) + '\n')
  console.log('round  off ns/rec  on ns/rec  cpu on/off  main on/off  off rec/s  on rec/s  rec/s on/off')
  for (const p of pairs) {
    const f = (x: number) => x.toFixed(3)
    console.log([p.round, p.off.cpuNsPerRecord, p.on.cpuNsPerRecord, f(p.on.cpuNsPerRecord / p.off.cpuNsPerRecord), f(p.on.mainCpuNsPerRecord / p.off.mainCpuNsPerRecord), p.off.recordsPerS, p.on.recordsPerS, f(p.on.recordsPerS / p.off.recordsPerS)].join('  '))
  }
  const c = result.cpuPerRecord
  const m = result.mainThreadCpuPerRecord
  const t = result.throughput
  console.log(`CPU/record on/off: median ${c.median} (quartiles ${c.q1}-${c.q3}, range ${c.min}-${c.max}), ratio of sums ${c.ratioOfSums}; medians off ${c.offMedianNs} ns, on ${c.onMedianNs} ns`)
  console.log(`main thread CPU/record on/off: median ${m.median} (quartiles ${m.q1}-${m.q3}, range ${m.min}-${m.max}), ratio of sums ${m.ratioOfSums}`)
  console.log(`records/s on/off: median ${t.median} (quartiles ${t.q1}-${t.q3}); medians off ${t.offMedian}, on ${t.onMedian}`)
  console.log(`load average (1 min) ${result.loadavg1m.min}-${result.loadavg1m.max}, median ${result.loadavg1m.median}`)
}

if (command === 'record') await record()
else if (command === 'replay') await replay()
else if (command === 'ab') await ab()
else if (command === 'summarize') summarize()
else {
  console.error('usage: replay.ts record|replay|ab|summarize ... (see the header)')
  process.exit(2)
}
