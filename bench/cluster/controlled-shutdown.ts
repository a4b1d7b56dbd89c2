// Issue 14: a controlled shutdown (SIGTERM) of a broker leading --partitions partitions against a
// SIGKILL of the same broker. Three `kcli server start` processes on one etcd
// (test/e2e/cluster-support.ts, from source); one topic of --partitions partitions, RF=3,
// min.insync.replicas=2, every partition's preferred (and first) leader broker 2, the other two
// replicas alternating 1,3 and 3,1 so that leadership moves to both. An idempotent acks=all
// librdkafka producer (test/e2e/python/fault_producer.py, librdkafka's default request timeout)
// writes --rate records a second round-robin over every partition. Then broker 2 gets the signal
// and the bench measures:
//   - exit: signal -> the process exited;
//   - all moved: signal -> broker 1's Metadata names a leader other than 2 for every partition;
//   - stall: the longest gap between two consecutive acknowledgements (any partition) from 1 s
//     before the signal until every partition has been acknowledged again; signal -> every
//     partition acknowledged again, and the median over partitions of signal -> its first ack;
//   - errors: delivery reports with an error (records not acknowledged), and how many of them came
//     before the signal (librdkafka's own message.timeout.ms of records it could not send while it
//     was still finding its way to 1,000 partitions: not the shutdown's).
// Each mode (--modes term,kill) runs --rounds times on a fresh cluster.
//
//   npx tsx bench/cluster/controlled-shutdown.ts [--partitions 1000] [--rate 2000]
//        [--session-timeout 9000] [--modes term,kill] [--rounds 1] [--out bench/cluster/controlled-shutdown]
//
// Writes <out>.json and <out>.md.

import {type ChildProcess, execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'
import {Kafka, logLevel} from 'kafkajs'
import {TestCluster} from '../../test/e2e/cluster-support.js'
import {PYTHON, PYTHON_DIR, startPeer, stopAllPeers} from '../../test/e2e/peers.js'

const ROOT = resolve(import.meta.dirname, '../..')
const {values: options} = parseArgs({
  options: {
    partitions: {type: 'string', default: '1000'},
    rate: {type: 'string', default: '2000'},
    'session-timeout': {type: 'string', default: '9000'},
    modes: {type: 'string', default: 'term,kill'},
    rounds: {type: 'string', default: '1'},
    out: {type: 'string', default: resolve(ROOT, 'bench/cluster/controlled-shutdown')},
  },
})
const partitions = Number(options.partitions)
const sessionTimeoutMs = Number(options['session-timeout'])
const VICTIM = 2
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).trim()
const log = (line: string) => console.error(line)
const loadBefore = loadavg()[0]!

interface Round {
  mode: 'term' | 'kill'
  round: number
  /** signal -> process exit */
  exitMs: number
  /** signal -> every partition led by another broker (Metadata of broker 1); null: not within the deadline */
  allMovedMs: number | null
  /** the longest gap between consecutive acknowledgements (any partition) around the signal */
  longestAckGapMs: number
  /** median over partitions of signal -> the partition's first ack after it */
  firstAckMedianMs: number
  /** signal -> every partition acknowledged again */
  allAckedMs: number | null
  /** delivery reports with an error, and their names */
  errors: number
  /** of errors, those reported before the signal */
  errorsBeforeSignal: number
  errorNames: Record<string, number>
  acked: number
  load: number
}

const median = (xs: number[]) => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)

async function oneRound(mode: 'term' | 'kill', round: number): Promise<Round> {
  const cluster = await TestCluster.start({sessionTimeoutMs, onEvent: (e) => log(`[${(e.at / 1000).toFixed(1)}s] ${e.what}`)})
  let producer: ChildProcess | undefined
  try {
    const admin = new Kafka({brokers: cluster.bootstrap().split(','), clientId: 'controlled-shutdown-bench', logLevel: logLevel.NOTHING}).admin()
    await admin.connect()
    await admin.createTopics({
      topics: [{
        topic: 'many',
        replicaAssignment: Array.from({length: partitions}, (_, i) => ({partition: i, replicas: i % 2 === 0 ? [VICTIM, 1, 3] : [VICTIM, 3, 1]})),
        configEntries: [{name: 'min.insync.replicas', value: '2'}],
      }],
      timeout: 120_000,
    })
    await admin.disconnect()
    await cluster.waitForHealthy('many', {timeoutMs: 300_000})
    log(`${partitions} partitions led with a full ISR`)

    const acks: Array<{t: number; p: number}> = []
    const errorNames: Record<string, number> = {}
    let errors = 0
    const errorTimes: number[] = []
    producer = startPeer(PYTHON, [join(PYTHON_DIR, 'fault_producer.py'), cluster.bootstrap(), 'many', String(partitions), 'p', options.rate, '10'])
    producer.stderr!.resume()
    let buffered = ''
    producer.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const m = JSON.parse(buffered.slice(0, nl)) as {t?: number; p?: number; e?: string}
        buffered = buffered.slice(nl + 1)
        if (m.t !== undefined && m.p !== undefined) acks.push({t: m.t, p: m.p})
        else if (m.e !== undefined) {
          errors++
          errorTimes.push(m.t ?? Date.now())
          errorNames[m.e] = (errorNames[m.e] ?? 0) + 1
        }
      }
    })
    // Every partition acknowledged (librdkafka takes a minute or two to get there with 1,000
    // partitions on this machine), then 10 s more of steady producing.
    await cluster.waitFor('every partition acknowledged', async () => new Set(acks.map((a) => a.p)).size === partitions, 300_000)
    const steady = Date.now() + 10_000
    await cluster.waitFor('10 s of steady producing', async () => Date.now() >= steady, 20_000)
    const leaders = await cluster.partitions('many', [1])
    if (!leaders || leaders.some((p) => p.leaderId !== VICTIM)) throw new Error('not every partition is led by broker 2')

    const child = cluster.process(VICTIM)!.child
    const exited = new Promise<number>((resolveExit) => child.once('exit', () => resolveExit(Date.now())))
    const load = loadavg()[0]!
    const t0 = Date.now()
    cluster.event(`${mode === 'term' ? 'SIGTERM' : 'SIGKILL'} broker ${VICTIM}`)
    child.kill(mode === 'term' ? 'SIGTERM' : 'SIGKILL')
    const guard = setTimeout(() => child.kill('SIGKILL'), 180_000)
    const deadline = 180_000
    const allMovedMs = await cluster
      .waitFor('every partition led by another broker', async () => {
        const ps = await cluster.partitions('many', [1, 3])
        return ps !== undefined && ps.length === partitions && ps.every((p) => p.leaderId >= 0 && p.leaderId !== VICTIM) ? Date.now() - t0 : undefined
      }, deadline)
      .catch(() => null)
    const exitMs = (await exited) - t0
    clearTimeout(guard)
    const allAcked = await cluster
      .waitFor('every partition acknowledged after the signal', async () => {
        const seen = new Set<number>()
        let last = 0
        for (const a of acks) if (a.t > t0) {
          seen.add(a.p)
          last = Math.max(last, a.t)
        }
        return seen.size === partitions ? last - t0 : undefined
      }, deadline)
      .catch(() => null)
    // Gaps, in acknowledgement time order, from 1 s before the signal to the end of the window.
    const end = allAcked === null ? Date.now() : t0 + allAcked
    const times = acks.map((a) => a.t).filter((t) => t >= t0 - 1000 && t <= end).sort((a, b) => a - b)
    let longestAckGapMs = 0
    for (let i = 1; i < times.length; i++) longestAckGapMs = Math.max(longestAckGapMs, times[i]! - times[i - 1]!)
    // (Not "last ack before -> first after" per partition: librdkafka's queue for a partition may
    // already be behind before the signal, so that gap is not the signal's.)
    const firstAfter = new Map<number, number>()
    for (const a of acks) if (a.t > t0) firstAfter.set(a.p, Math.min(firstAfter.get(a.p) ?? Number.POSITIVE_INFINITY, a.t))
    const firsts = Array.from({length: partitions}, (_, p) => (firstAfter.get(p) ?? end) - t0)
    const r: Round = {
      mode,
      round,
      exitMs,
      allMovedMs,
      longestAckGapMs,
      firstAckMedianMs: median(firsts),
      allAckedMs: allAcked,
      errors,
      errorsBeforeSignal: errorTimes.filter((t) => t < t0).length,
      errorNames,
      acked: acks.length,
      load,
    }
    log(JSON.stringify(r))
    return r
  } finally {
    producer?.kill('SIGKILL')
    await cluster.close()
  }
}

process.on('SIGINT', () => {
  stopAllPeers()
  process.exit(130)
})

const modes = options.modes.split(',') as Array<'term' | 'kill'>
const rounds: Round[] = []
for (let round = 0; round < Number(options.rounds); round++) for (const mode of modes) rounds.push(await oneRound(mode, round))

const summary = modes.map((mode) => {
  const rs = rounds.filter((r) => r.mode === mode)
  const pick = (f: (r: Round) => number | null) => {
    const xs = rs.map(f).filter((x): x is number => x !== null)
    return xs.length === 0 ? '-' : rs.length === 1 ? `${xs[0]}` : `${median(xs)} (${Math.min(...xs)}-${Math.max(...xs)})`
  }
  return {mode, exit: pick((r) => r.exitMs), allMoved: pick((r) => r.allMovedMs), gap: pick((r) => r.longestAckGapMs), allAcked: pick((r) => r.allAckedMs), firstAck: pick((r) => r.firstAckMedianMs), errors: rs.reduce((s, r) => s + r.errors, 0), errorsBefore: rs.reduce((s, r) => s + r.errorsBeforeSignal, 0)}
})
const report = {commit, date: new Date().toISOString(), machine: {cpus: cpus().length, loadBefore, loadAfter: loadavg()[0]}, partitions, rate: Number(options.rate), sessionTimeoutMs, rounds}
writeFileSync(`${options.out}.json`, JSON.stringify(report, null, 2) + '\n')
const text = [
  '# Controlled shutdown against SIGKILL (issue 14)',
  '',
  `\`npx tsx bench/cluster/controlled-shutdown.ts --partitions ${partitions} --rate ${options.rate} --session-timeout ${sessionTimeoutMs} --modes ${options.modes} --rounds ${options.rounds}\` at ${commit}, ${report.date}; ${cpus().length} CPUs, load ${loadBefore.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}.`,
  '',
  `Broker ${VICTIM} leads all ${partitions} partitions (RF=3, min.insync.replicas=2); an idempotent acks=all librdkafka producer writes ${options.rate} records/s over all of them. Milliseconds from the signal${rounds.length > modes.length ? '; median (min-max)' : ''}.`,
  '',
  '| signal | process exit | every partition led elsewhere | longest gap between acks | every partition acked again | first ack per partition, median | errors (before the signal) |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...summary.map((s) => `| ${s.mode === 'term' ? 'SIGTERM (controlled)' : 'SIGKILL'} | ${s.exit} | ${s.allMoved} | ${s.gap} | ${s.allAcked} | ${s.firstAck} | ${s.errors} (${s.errorsBefore}) |`),
].join('\n')
writeFileSync(`${options.out}.md`, text + '\n')
console.log(text)
