// Issue 14: replication throttles limit the bytes per second that MOVING replicas copy during a
// reassignment, and only those. One etcd, three `kcli server start` processes and a fourth started
// later holding no replica (test/e2e/cluster-support.ts, `standby`), from source.
//
//   1. Topic `moving`, --partitions partitions (3: replicas [1,2,3], [2,3,1], [3,1,2]), RF=3,
//      min.insync.replicas=2, preloaded with --data-mb MB of 1,000-byte records (librdkafka,
//      bench/broker/loadgen.py produce, acks=all).
//   2. Broker 4 starts. An idempotent acks=all librdkafka producer
//      (test/e2e/python/fault_producer.py) writes --rate small records a second to the topic for
//      the whole run, its delivery reports kept.
//   3. `kcli reassign execute --throttle T` (in-process, the command class) moves every partition
//      onto broker 4 and from RF 3 to 2 (p -> [4, r2] for the first, [r1, 4] for the others, so
//      one partition's leader leaves): it sets the throttles as kafka-reassign-partitions.sh
//      --throttle does (leader/follower.replication.throttled.rate on brokers 1-4,
//      leader.replication.throttled.replicas = the old replicas, follower...replicas = 4).
//   4. Every --sample-ms the bench reads the segment files' sizes of every replica (the copied
//      bytes are broker 4's), and every second the leaders and ISRs (Metadata). When broker 4
//      holds a quarter of the preload, a burst of --burst-mb MB (loadgen produce, acks=all) goes to
//      the topic: acks=all needs the ordinary followers (in the ISR, not moving), so its rate and
//      theirs show that they are not throttled.
//   5. When the replicas are the target, `kcli reassign verify` must report completion and remove
//      the throttles (DescribeConfigs shows none left); the removed replicas delete their data.
//   6. The producer stops; everything is read back (kcat): no acknowledged record lost or
//      duplicated, no offset gap, the preload and burst all there.
//   7. Unless --skip-cancel: the same on a second topic `cancelled`, cancelled (`kcli reassign
//      cancel`) when broker 4 holds about half of it: the old replica sets are restored (in
//      Kafka's order: the reassigning list less the adding replicas), broker 4's partial copies
//      deleted, the throttles removed, nothing lost. A partition whose copy had already completed
//      is not cancelled (as in Kafka) and keeps its target.
//
// Copy rate: the bytes broker 4 holds of the moving partitions over time. Overall: at completion,
// divided by the time since execute. Steady state: from 10% to 90% of the final size. Also the
// highest rate over any 5 s window.
//
//   npx tsx bench/cluster/reassign-throttle.ts [--throttle 1MB/s] [--data-mb 72] [--partitions 3]
//        [--rate 50] [--burst-mb 16] [--sample-ms 250] [--skip-cancel] [--out bench/cluster/reassign-throttle]
//
// Writes <out>.json and <out>.md.

import {type ChildProcess, execFileSync} from 'node:child_process'
import {existsSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'
import {Kafka, logLevel} from 'kafkajs'
import {TestCluster} from '../../test/e2e/cluster-support.js'
import {removeDir, tempDir} from '../../test/e2e/harness.js'
import {kcat, PYTHON, PYTHON_DIR, run, startPeer, stopAllPeers} from '../../test/e2e/peers.js'
import {kcli} from '../../test/commands/helpers.js'
import ReassignExecute, {type ReassignExecuteResult} from '../../src/commands/reassign/execute.js'
import ReassignVerify, {type ReassignVerifyResult} from '../../src/commands/reassign/verify.js'
import ReassignCancel, {type ReassignCancelResult} from '../../src/commands/reassign/cancel.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {Admin} from '../../src/lib/client/admin.js'
import {ClusterOperations} from '../../src/lib/client/reassignment.js'
import {BROKER_THROTTLE_CONFIGS, parseThrottle, TOPIC_THROTTLE_CONFIGS} from '../../src/lib/client/reassignment-plan.js'

const ROOT = resolve(import.meta.dirname, '../..')
const LOADGEN = join(ROOT, 'bench/broker/loadgen.py')
const {values: options} = parseArgs({
  options: {
    throttle: {type: 'string', default: '1MB/s'},
    'data-mb': {type: 'string', default: '72'},
    partitions: {type: 'string', default: '3'},
    rate: {type: 'string', default: '50'},
    'burst-mb': {type: 'string', default: '16'},
    'sample-ms': {type: 'string', default: '250'},
    'session-timeout': {type: 'string', default: '9000'},
    'skip-cancel': {type: 'boolean', default: false},
    out: {type: 'string', default: resolve(ROOT, 'bench/cluster/reassign-throttle')},
  },
})
const throttle = parseThrottle(options.throttle)
const dataMb = Number(options['data-mb'])
const partitions = Number(options.partitions)
const burstMb = Number(options['burst-mb'])
const sampleMs = Number(options['sample-ms'])
const RECORD = 1000
const TARGET = 4
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).trim()
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
const loadBefore = loadavg()[0]!
const THROTTLE_NAMES = new Set<string>([...BROKER_THROTTLE_CONFIGS, ...TOPIC_THROTTLE_CONFIGS])

/** The bytes of a replica: its segment files. */
function replicaBytes(cluster: TestCluster, broker: number, topic: string, partition: number): number {
  const dir = join(cluster.dataDir(broker), `${topic}-${partition}`)
  if (!existsSync(dir)) return 0
  let sum = 0
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.log')) continue
    try {
      sum += statSync(join(dir, f)).size
    } catch {
      // deleted between the listing and the stat
    }
  }
  return sum
}

interface Sample {
  /** ms since execute */
  t: number
  /** bytes per broker per partition: bytes[broker][partition] */
  bytes: Record<number, number[]>
}

interface IsrSample {
  t: number
  partitions: Array<{partition: number; leader: number; replicas: number[]; isr: number[]}>
}

/** The throttle configs set dynamically on brokers 1-4 and the topic (name=value). */
async function throttlesSet(admin: Admin, topic: string): Promise<string[]> {
  const results = await admin.describeConfigs([...[1, 2, 3, TARGET].map((b) => ({type: 'broker' as const, name: String(b)})), {type: 'topic' as const, name: topic}])
  const set: string[] = []
  for (const r of results) {
    for (const c of r.configs) {
      if (THROTTLE_NAMES.has(c.name) && (c.source === 'DYNAMIC_BROKER_CONFIG' || c.source === 'DYNAMIC_TOPIC_CONFIG' || c.source === 'DYNAMIC_DEFAULT_BROKER_CONFIG')) set.push(`${r.type} ${r.name}: ${c.name}=${c.value}`)
    }
  }
  return set
}

interface LiveProducer {
  child: ChildProcess
  acked: Map<number, {p: number; o: number}>
  failed: number
  done: Promise<Record<string, unknown>>
}

function startLiveProducer(bootstrap: string, topic: string): LiveProducer {
  const child = startPeer(PYTHON, [join(PYTHON_DIR, 'fault_producer.py'), bootstrap, topic, String(partitions), 'live', options.rate, '60'])
  const acked = new Map<number, {p: number; o: number}>()
  const live: LiveProducer = {child, acked, failed: 0, done: Promise.resolve({})}
  child.stderr!.resume()
  let buffered = ''
  live.done = new Promise((resolveDone) => {
    let last: Record<string, unknown> = {}
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const m = JSON.parse(buffered.slice(0, nl)) as {s?: number; p?: number; o?: number; e?: string; done?: boolean; fatal?: string}
        buffered = buffered.slice(nl + 1)
        if (m.done || m.fatal) last = m
        else if (m.e !== undefined) live.failed++
        else if (m.s !== undefined) acked.set(m.s, {p: m.p!, o: m.o!})
      }
    })
    child.once('exit', (code) => resolveDone({...last, exitCode: code}))
  })
  return live
}

interface ReadBack {
  records: number
  offsetGaps: number
  bulk: number
  liveRead: number
  ackedLost: number
  ackedMisplaced: number
  duplicated: number
  /** acknowledged records found elsewhere than their acknowledged offset (the first 10) */
  misplaced: string[]
}

/** Reads the whole topic back (kcat) and checks it against what was acknowledged. */
async function readBack(bootstrap: string, topic: string, bulkExpected: number, live: LiveProducer): Promise<ReadBack> {
  const out = (await kcat(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %S\n%s\n'], {timeoutMs: 300_000})).stdout
  const seen = new Map<string, Array<{p: number; o: number}>>()
  const lastOffset = new Map<number, number>()
  let pos = 0
  let records = 0
  let bulk = 0
  let offsetGaps = 0
  while (pos < out.length) {
    const nl = out.indexOf(10, pos)
    if (nl < 0) break
    const [p, o, s] = out.subarray(pos, nl).toString().split(' ').map(Number) as [number, number, number]
    const value = out.subarray(nl + 1, nl + 1 + s)
    pos = nl + 1 + s + 1
    records++
    if ((lastOffset.get(p) ?? -1) + 1 !== o) offsetGaps++
    lastOffset.set(p, o)
    if (s === RECORD) {
      bulk++
      continue
    }
    const name = value.toString()
    const list = seen.get(name) ?? []
    list.push({p, o})
    seen.set(name, list)
  }
  let ackedLost = 0
  let ackedMisplaced = 0
  const misplaced: string[] = []
  for (const [seq, at] of live.acked) {
    const found = seen.get(`live-${seq}`)
    if (!found) ackedLost++
    else if (!found.some((f) => f.p === at.p && f.o === at.o)) {
      ackedMisplaced++
      if (misplaced.length < 10) misplaced.push(`live-${seq}: acknowledged at ${at.p}/${at.o}, read at ${found.map((f) => `${f.p}/${f.o}`).join(' ')}`)
    }
  }
  const duplicated = [...seen.values()].filter((l) => l.length > 1).length + Math.max(0, bulk - bulkExpected)
  return {records, offsetGaps, bulk, liveRead: seen.size, ackedLost, ackedMisplaced, duplicated, misplaced}
}

async function preload(bootstrap: string, topic: string, mb: number): Promise<{count: number; mbPerS: number; seconds: number}> {
  const count = Math.round((mb * 1e6) / RECORD)
  const result = await run(PYTHON, [LOADGEN, 'produce', '--bootstrap', bootstrap, '--topic', topic, '--count', String(count), '--size', String(RECORD), '--acks', '-1'], {timeoutMs: 600_000})
  if (result.code !== 0) throw new Error(`loadgen ${topic}: ${result.stderr}`)
  const out = JSON.parse(result.stdout.toString().trim().split('\n').at(-1)!) as {mb_per_s: number; seconds: number}
  return {count, mbPerS: out.mb_per_s, seconds: out.seconds}
}

const original = (p: number) => [1, 2, 3].map((_, i) => ((p + i) % 3) + 1)
/** p -> [4, its second replica] for partition 0 (its leader leaves), [its leader, 4] for the others. */
const target = (p: number) => (p === 0 ? [TARGET, original(p)[1]!] : [original(p)[0]!, TARGET])

interface MoveResult {
  topic: string
  mode: 'complete' | 'cancel'
  preload: {records: number; mbPerS: number; bytesPerReplica: number}
  executeMs: number
  throttlesDuring: string[]
  /** ms since execute: completion (replicas = target) or the cancel */
  endMs: number | null
  copiedBytes: number
  overallRatio: number | null
  steadyRatio: number | null
  max5sRatio: number | null
  burst?: {mb: number; mbPerS: number; ratioToThrottle: number; startMs: number; endMs: number; followerMbPerS: number; followerRatio: number}
  /** ordinary followers (old replicas not leading) missing from the ISR in a Metadata sample before the end */
  ordinaryOutOfIsr: number
  outOfIsr: string[]
  isrSamples: number
  verify?: {complete: boolean; throttlesCleared: unknown}
  cancel?: {cancelledAtFraction: number; cancelledPartitions: number[]; replicasAfter: number[][]; restored: boolean; partialCopiesRemovedMs: number | null; cancelResult: unknown}
  throttlesAfter: string[]
  removedReplicasDeletedMs: number | null
  readBack: ReadBack
  live: {acked: number; failed: number; summary: Record<string, unknown>}
  samples: Array<{t: number; copied: number}>
}

async function move(cluster: TestCluster, client: KafkaClient, topic: string, mode: 'complete' | 'cancel'): Promise<MoveResult> {
  const admin = new Admin(client)
  const ops = new ClusterOperations(client)
  const kafkajs = new Kafka({brokers: cluster.bootstrap().split(','), clientId: 'reassign-throttle-bench', logLevel: logLevel.NOTHING}).admin()
  await kafkajs.connect()
  try {
    await kafkajs.createTopics({
      topics: [{topic, replicaAssignment: Array.from({length: partitions}, (_, p) => ({partition: p, replicas: original(p)})), configEntries: [{name: 'min.insync.replicas', value: '2'}]}],
      timeout: 60_000,
    })
  } finally {
    await kafkajs.disconnect()
  }
  await cluster.waitForHealthy(topic, {isr: 3, timeoutMs: 120_000})
  log(`${topic}: preloading ${dataMb} MB`)
  const pre = await preload(cluster.bootstrap(), topic, dataMb)
  const leaderBytes = () => Array.from({length: partitions}, (_, p) => replicaBytes(cluster, original(p)[0]!, topic, p))
  const preBytes = leaderBytes().reduce((a, b) => a + b, 0)
  log(`${topic}: preloaded ${pre.count} records (${(preBytes / 1e6).toFixed(1)} MB on each replica) at ${pre.mbPerS.toFixed(1)} MB/s`)

  const live = startLiveProducer(cluster.bootstrap(), topic)
  await cluster.waitFor('the live producer acknowledged', async () => live.acked.size >= 10, 60_000)

  const dir = tempDir('kcli-reassign-bench-')
  const plan = join(dir, 'plan.json')
  writeFileSync(plan, JSON.stringify({version: 1, partitions: Array.from({length: partitions}, (_, p) => ({topic, partition: p, replicas: target(p), log_dirs: target(p).map(() => 'any')}))}))
  const samples: Sample[] = []
  const isrSamples: IsrSample[] = []
  const brokers = [1, 2, 3, TARGET]
  const sample = (t0: number) => {
    const bytes: Record<number, number[]> = {}
    for (const b of brokers) bytes[b] = Array.from({length: partitions}, (_, p) => replicaBytes(cluster, b, topic, p))
    samples.push({t: Date.now() - t0, bytes})
  }
  const copied = (s: Sample) => s.bytes[TARGET]!.reduce((a, b) => a + b, 0)

  const t0 = Date.now()
  const executed = await kcli<ReassignExecuteResult>(ReassignExecute, cluster.bootstrap(), ['-f', plan, '--throttle', options.throttle, '--json'])
  const executeMs = Date.now() - t0
  if (executed.exitCode !== 0) throw new Error(`reassign execute: ${executed.stderr}`)
  const throttlesDuring = await throttlesSet(admin, topic)
  log(`${topic}: executed in ${executeMs} ms; throttles: ${throttlesDuring.join('; ')}`)

  let endMs: number | null = null
  let burst: MoveResult['burst']
  let burstRun: Promise<void> | undefined
  let cancel: MoveResult['cancel']
  let nextIsr = 0
  let lastLog = 0
  const deadline = t0 + Math.max(120_000, ((3 * preBytes + burstMb * 2e6) / throttle) * 1000)
  for (;;) {
    sample(t0)
    const now = Date.now()
    const last = samples.at(-1)!
    if (now >= nextIsr) {
      nextIsr = now + 1000
      const ps = await cluster.partitions(topic)
      if (ps) isrSamples.push({t: now - t0, partitions: ps.map((p) => ({partition: p.partition, leader: p.leaderId, replicas: p.replicas, isr: p.isr}))})
      if (mode === 'complete' && ps && ps.every((p) => JSON.stringify(p.replicas) === JSON.stringify(target(p.partition)))) {
        endMs = now - t0
        break
      }
    }
    if (now - lastLog > 5000) {
      lastLog = now
      log(`${topic}: ${(last.t / 1000).toFixed(1)} s, broker ${TARGET} holds ${(copied(last) / 1e6).toFixed(1)} MB (${((copied(last) / 1e6 / (last.t / 1000)) / (throttle / 1e6)).toFixed(2)}x the throttle so far)`)
    }
    if (mode === 'complete' && !burstRun && burstMb > 0 && copied(last) >= preBytes / 4) {
      log(`${topic}: burst of ${burstMb} MB, acks=all`)
      burstRun = preload(cluster.bootstrap(), topic, burstMb).then((r) => {
        // The producer's own clock: its first produce() to its last acknowledgement.
        const endMs = Date.now() - t0
        burst = {mb: burstMb, mbPerS: r.mbPerS, ratioToThrottle: (r.mbPerS * 1e6) / throttle, startMs: endMs - r.seconds * 1000, endMs, followerMbPerS: 0, followerRatio: 0}
        log(`${topic}: burst done at ${r.mbPerS.toFixed(1)} MB/s`)
      })
    }
    if (mode === 'cancel' && copied(last) >= preBytes / 2) {
      endMs = now - t0
      const fraction = copied(last) / preBytes
      log(`${topic}: cancelling at ${(fraction * 100).toFixed(0)}%`)
      const cancelled = await kcli<ReassignCancelResult>(ReassignCancel, cluster.bootstrap(), ['-f', plan, '--json'])
      if (cancelled.exitCode !== 0) throw new Error(`reassign cancel: ${cancelled.stderr}`)
      // A partition whose copy had already completed is not cancelled (as Kafka): it keeps its target.
      const wasCancelled = new Set((cancelled.result?.cancelled ?? []).filter((c) => c.errorCode === 0).map((c) => c.partition))
      const expected = (p: number) => (wasCancelled.has(p) ? original(p) : target(p))
      let replicasAfter: number[][] = []
      const restored = await cluster
        .waitFor('the old replicas restored', async () => {
          const ps = await cluster.partitions(topic)
          const listed = await ops.listReassignments(null, 5000)
          if (ps) replicasAfter = [...ps].sort((x, y) => x.partition - y.partition).map((p) => p.replicas)
          // The replica set (Kafka's revert keeps the order of the reassigning list less the adding replicas: [4,2,1,3] -> [2,1,3]).
          const sameSet = (a: number[], b: number[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())
          return ps && listed.length === 0 && ps.every((p) => sameSet(p.replicas, expected(p.partition))) ? true : undefined
        }, 60_000)
        .catch(() => false)
      const c0 = Date.now()
      const removed = await cluster
        .waitFor(`broker ${TARGET}'s partial copies deleted`, async () => [...wasCancelled].every((p) => !existsSync(join(cluster.dataDir(TARGET), `${topic}-${p}`))), 60_000)
        .then(() => Date.now() - c0)
        .catch(() => null)
      cancel = {cancelledAtFraction: fraction, cancelledPartitions: [...wasCancelled].sort(), replicasAfter, restored, partialCopiesRemovedMs: removed, cancelResult: cancelled.result}
      break
    }
    if (now > deadline) throw new Error(`${topic}: the reassignment did not complete by the deadline`)
    await new Promise((r) => setTimeout(r, sampleMs))
  }
  await burstRun

  // Copy rates from broker 4's bytes.
  const series = [{t: 0, copied: 0}, ...samples.filter((s) => endMs === null || s.t <= endMs).map((s) => ({t: s.t, copied: copied(s)}))]
  const final = series.at(-1)!.copied
  const crossing = (f: number) => series.find((s) => s.copied >= f * final)!
  const rate = (a: {t: number; copied: number}, b: {t: number; copied: number}) => (b.t > a.t ? ((b.copied - a.copied) / (b.t - a.t)) * 1000 : 0)
  let max5s = 0
  for (const a of series) {
    const b = series.find((s) => s.t >= a.t + 5000)
    if (b) max5s = Math.max(max5s, rate(a, b))
  }
  const steady = mode === 'complete' ? rate(crossing(0.1), crossing(0.9)) : rate(crossing(0.1), series.at(-1)!)
  const overall = endMs ? (final / endMs) * 1000 : null

  // Ordinary followers: copy rate during the burst (the old replicas that do not lead), and the ISR.
  if (burst) {
    // From the last sample before the burst to the first after it.
    const a = samples.filter((s) => s.t <= burst!.startMs).at(-1)
    const b = samples.find((s) => s.t >= burst!.endMs)
    if (a && b && b.t > a.t) {
      // What each of brokers 1-3 copied as an ordinary follower (the throttle is per broker); the slowest.
      const perBroker = [1, 2, 3].map((broker) => {
        let bytes = 0
        for (let p = 0; p < partitions; p++) if (original(p).slice(1).includes(broker)) bytes += b.bytes[broker]![p]! - a.bytes[broker]![p]!
        return bytes / ((b.t - a.t) / 1000) / 1e6
      })
      burst.followerMbPerS = Math.min(...perBroker)
      burst.followerRatio = (burst.followerMbPerS * 1e6) / throttle
    }
  }
  // The old replicas of partitions still moving (a partition done earlier has dropped its removed ones).
  let ordinaryOutOfIsr = 0
  const outOfIsr: string[] = []
  for (const s of isrSamples) {
    if (endMs !== null && s.t >= endMs) continue
    for (const p of s.partitions) {
      if (p.replicas.length <= target(p.partition).length) continue
      for (const r of original(p.partition)) {
        if (!p.isr.includes(r)) {
          ordinaryOutOfIsr++
          outOfIsr.push(`${s.t} ms: partition ${p.partition} replicas [${p.replicas}] ISR [${p.isr}]`)
        }
      }
    }
  }

  let verify: MoveResult['verify']
  let removedReplicasDeletedMs: number | null = null
  if (mode === 'complete') {
    const verified = await kcli<ReassignVerifyResult>(ReassignVerify, cluster.bootstrap(), ['-f', plan, '--json'])
    verify = {complete: verified.result?.complete ?? false, throttlesCleared: verified.result?.throttlesCleared ?? null}
    const c0 = Date.now()
    removedReplicasDeletedMs = await cluster
      .waitFor('the removed replicas deleted', async () => {
        for (let p = 0; p < partitions; p++) for (const b of original(p)) if (!target(p).includes(b) && existsSync(join(cluster.dataDir(b), `${topic}-${p}`))) return undefined
        return true
      }, 60_000)
      .then(() => Date.now() - c0)
      .catch(() => null)
  }
  const throttlesAfter = await throttlesSet(admin, topic)
  removeDir(dir)

  live.child.stdin!.end()
  const summary = await live.done
  log(`${topic}: live producer ${JSON.stringify(summary)}`)
  const back = await readBack(cluster.bootstrap(), topic, pre.count + (burst ? Math.round((burst.mb * 1e6) / RECORD) : 0), live)
  log(`${topic}: read back ${JSON.stringify(back)}`)
  return {
    topic,
    mode,
    preload: {records: pre.count, mbPerS: pre.mbPerS, bytesPerReplica: preBytes},
    executeMs,
    throttlesDuring,
    endMs,
    copiedBytes: final,
    overallRatio: overall === null ? null : overall / throttle,
    steadyRatio: steady / throttle,
    max5sRatio: max5s / throttle,
    ...(burst ? {burst} : {}),
    ordinaryOutOfIsr,
    outOfIsr,
    isrSamples: isrSamples.length,
    ...(verify ? {verify} : {}),
    ...(cancel ? {cancel} : {}),
    throttlesAfter,
    removedReplicasDeletedMs,
    readBack: back,
    live: {acked: live.acked.size, failed: live.failed, summary},
    samples: series.filter((_, i) => i % Math.max(1, Math.round(1000 / sampleMs)) === 0),
  }
}

const results: MoveResult[] = []
const cluster = await TestCluster.start({brokers: 3, standby: 1, sessionTimeoutMs: Number(options['session-timeout']), onEvent: (e) => log(e.what)})
let client: KafkaClient | undefined
try {
  await cluster.startBroker(TARGET)
  client = new KafkaClient({bootstrapServers: cluster.bootstrap().split(',').map((a) => ({host: a.split(':')[0]!, port: Number(a.split(':')[1])})), clientId: 'reassign-throttle-bench'})
  const ops = new ClusterOperations(client)
  await cluster.waitFor(`broker ${TARGET} registered`, async () => ((await ops.brokerIds()).includes(TARGET) ? true : undefined), 60_000)
  results.push(await move(cluster, client, 'moving', 'complete'))
  if (!options['skip-cancel']) results.push(await move(cluster, client, 'cancelled', 'cancel'))
} finally {
  await client?.close()
  stopAllPeers()
  await cluster.close()
}

const loadAfter = loadavg()[0]!
const report = {commit, date: new Date().toISOString(), machine: {cpus: cpus().length, loadBefore, loadAfter}, options: {...options, throttleBytesPerS: throttle}, results}
writeFileSync(`${options.out}.json`, JSON.stringify(report, null, 2) + '\n')

const x = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(2)}x`)
const ok = (b: boolean) => (b ? 'yes' : '**NO**')
const lines = [
  `# Reassignment under a replication throttle (issue 14)`,
  '',
  `\`npx tsx bench/cluster/reassign-throttle.ts --throttle ${options.throttle} --data-mb ${dataMb} --partitions ${partitions} --rate ${options.rate} --burst-mb ${burstMb}${options['skip-cancel'] ? ' --skip-cancel' : ''}\` at ${commit}, ${report.date}. ` +
    `etcd and four \`kcli server start\` processes from source (tsx) on ${cpus().length} CPUs shared with other work (load ${loadBefore.toFixed(2)} -> ${loadAfter.toFixed(2)}); throttle ${throttle.toLocaleString('en')} B/s set by \`kcli reassign execute --throttle\`.`,
  '',
]
for (const r of results) {
  lines.push(`## \`${r.topic}\`: ${r.mode === 'complete' ? 'moved onto broker 4, RF 3 -> 2' : 'cancelled half-way'}`, '')
  lines.push(`- preload: ${r.preload.records.toLocaleString('en')} records of ${RECORD} B, ${(r.preload.bytesPerReplica / 1e6).toFixed(1)} MB per replica; plan ${Array.from({length: partitions}, (_, p) => `${p}: [${original(p)}] -> [${target(p)}]`).join(', ')}`)
  lines.push(`- throttles set during the move: ${r.throttlesDuring.map((t) => `\`${t}\``).join(', ')}`)
  lines.push(`- broker ${TARGET} copied ${(r.copiedBytes / 1e6).toFixed(1)} MB in ${r.endMs === null ? 'n/a' : (r.endMs / 1000).toFixed(1)} s`)
  lines.push(`- **copy rate / throttle: overall ${x(r.overallRatio)}, steady state (10%-90%) ${x(r.steadyRatio)}, highest 5 s window ${x(r.max5sRatio)}**`)
  if (r.burst) lines.push(`- ordinary followers not throttled: a ${r.burst.mb} MB acks=all burst during the move ran at ${r.burst.mbPerS.toFixed(1)} MB/s = **${x(r.burst.ratioToThrottle)} the throttle**; brokers 1-3 each copied at least ${r.burst.followerMbPerS.toFixed(1)} MB/s (${x(r.burst.followerRatio)} the throttle) as ordinary followers meanwhile`)
  lines.push(`- old replicas missing from the ISR before the end: ${r.ordinaryOutOfIsr} in ${r.isrSamples} Metadata samples`)
  if (r.verify) lines.push(`- \`kcli reassign verify\`: complete ${ok(r.verify.complete)}, throttles cleared ${JSON.stringify(r.verify.throttlesCleared)}; removed replicas deleted ${r.removedReplicasDeletedMs === null ? '**NO**' : `after ${r.removedReplicasDeletedMs} ms`}`)
  if (r.cancel) lines.push(`- cancelled at ${(r.cancel.cancelledAtFraction * 100).toFixed(0)}% copied (partitions ${r.cancel.cancelledPartitions.join(', ')} still moving; replicas after: ${r.cancel.replicasAfter.map((x) => `[${x}]`).join(', ')}): old replica sets restored ${ok(r.cancel.restored)}, broker ${TARGET}'s partial copies deleted ${r.cancel.partialCopiesRemovedMs === null ? '**NO**' : `after ${r.cancel.partialCopiesRemovedMs} ms`}`)
  lines.push(`- throttle configs left after: ${r.throttlesAfter.length === 0 ? 'none' : r.throttlesAfter.join(', ')}`)
  lines.push(`- read back: ${r.readBack.records.toLocaleString('en')} records, ${r.live.acked} acknowledged by the live producer (${r.live.failed} failed): **lost ${r.readBack.ackedLost}, misplaced ${r.readBack.ackedMisplaced}, duplicated ${r.readBack.duplicated}**, offset gaps ${r.readBack.offsetGaps}, preload/burst records ${r.readBack.bulk.toLocaleString('en')}`)
  lines.push('')
}
writeFileSync(`${options.out}.md`, lines.join('\n'))
console.log(lines.join('\n'))
