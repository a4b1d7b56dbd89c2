/**
 * Issue 16: the cost of the broker's metrics — produce throughput and broker CPU per record with
 * `metrics.listener` off and on, in one run, plus /healthz and /metrics answer times under load.
 *
 *   npx tsx bench/metrics/overhead.ts [--records 1000000] [--runs 3] [--size 100] [--partitions 6] [--scrape-interval 15]
 *
 * Per run and mode (off/on interleaved, the order alternating per run): a fresh `kcli server start`
 * process from source (tsx) and data directory; with metrics on, /metrics is scraped every
 * --scrape-interval seconds (one scrape at the start of each phase); then, in a separate phase of
 * half the records (Java batching), /healthz is timed every 100 ms under load; after the load, 100
 * scrapes in a row give the broker CPU one scrape costs (so the cost at any scrape interval is that
 * divided by the interval). Load: bench/broker/loadgen.py (confluent-kafka-python, librdkafka 2.0.2):
 * a topic of <partitions> partitions, 50,000 records unmeasured, then <records> values of <size>
 * bytes with acks=1, in two batchings: librdkafka's defaults (large batches) and the Java
 * client's (batch.size 16384, linger.ms 5: ~4x the requests per record). Broker CPU is utime +
 * stime of the broker process (/proc/<pid>/stat) across the measured phase. Medians of the runs;
 * the ratio on/off is the figure (the machine is shared).
 * Writes results.json and RESULTS.md next to this file. `--hooks-only` prints the hooks' own cost
 * (and a clock read's, most of it) and stops.
 */
import {execFile, execFileSync, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {removeDir, spawnBroker, tempDir} from '../../test/e2e/harness.js'
import {BrokerMetrics} from '../../src/server/metrics/broker-metrics.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const HERE = path.join(ROOT, 'bench/metrics')
const LOADGEN = path.join(ROOT, 'bench/broker/loadgen.py')
const argv = process.argv.slice(2)
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt
}
const RECORDS = Number(opt('records', '1000000'))
const RUNS = Number(opt('runs', '3'))
const SIZE = Number(opt('size', '100'))
const PARTITIONS = Number(opt('partitions', '6'))
/** Seconds between /metrics scrapes during the load (Prometheus' default scrape_interval: 15 s). */
const SCRAPE_INTERVAL_S = Number(opt('scrape-interval', '15'))
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
const BATCHINGS = {'librdkafka defaults': [] as string[], 'Java defaults (16 KiB, linger 5 ms)': ['--linger-ms', '5', '--batch-bytes', '16384']}

/** Brokers running now: killed if the bench is interrupted. */
const live = new Set<import('node:child_process').ChildProcess>()
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL')
})
process.on('SIGINT', () => process.exit(130))
process.on('SIGTERM', () => process.exit(143))

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / CLK_TCK
}

function loadgen(args: string[]): Record<string, unknown> {
  const r = spawnSync('/usr/bin/python3', [LOADGEN, ...args], {encoding: 'utf8', timeout: 300_000})
  if (r.status !== 0) throw new Error(`loadgen ${args[0]} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
}

interface Sample {
  mode: 'off' | 'on'
  batching: string
  run: number
  msgsPerS: number
  cpuSPerMRecords: number
  healthzMs?: number[]
  idleHealthzMs?: number[]
  metricsMs?: number[]
  metricsBytes?: number
  scrapeCpuMs?: number
}

async function timed(url: string): Promise<{ms: number; bytes: number}> {
  const t0 = performance.now()
  const r = await fetch(url)
  const text = await r.text()
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`)
  return {ms: performance.now() - t0, bytes: text.length}
}

async function one(mode: 'off' | 'on', run: number): Promise<Sample[]> {
  const dir = tempDir('kcli-bench-metrics-')
  const broker = await spawnBroker(dir, mode === 'on' ? {'metrics.listener': 'http://127.0.0.1:0'} : {})
  live.add(broker.child)
  const out: Sample[] = []
  try {
    const pid = broker.child.pid!
    const idleHealthz: number[] = []
    if (broker.metricsListener) for (let i = 0; i < 200; i++) idleHealthz.push((await timed(`${broker.metricsListener}/healthz`)).ms)
    for (const [batching, extra] of Object.entries(BATCHINGS)) {
      const topic = `bench-${batching.split(' ')[0]}`
      loadgen(['create', '--bootstrap', broker.bootstrap, '--topic', topic, '--partitions', String(PARTITIONS)])
      loadgen(['produce', '--bootstrap', broker.bootstrap, '--topic', topic, '--count', '50000', '--size', String(SIZE), '--acks', '1', ...extra])
      const healthz: number[] = []
      const metrics: number[] = []
      let metricsBytes = 0
      let stop = false
      const probes: Array<Promise<void>> = []
      if (broker.metricsListener) {
        const base = broker.metricsListener
        probes.push(
          (async () => {
            while (!stop) {
              const m = await timed(`${base}/metrics`)
              metrics.push(m.ms)
              metricsBytes = m.bytes
              const until = Date.now() + SCRAPE_INTERVAL_S * 1000
              while (!stop && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
            }
          })(),
        )
      }
      const cpu0 = cpuSeconds(pid)
      // The load generator runs in a child process: spawnSync would block the probes, so run it async.
      const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
        execFileCb(['produce', '--bootstrap', broker.bootstrap, '--topic', topic, '--count', String(RECORDS), '--size', String(SIZE), '--acks', '1', ...extra], resolve, reject)
      })
      const cpu = cpuSeconds(pid) - cpu0
      stop = true
      await Promise.all(probes)
      const sample: Sample = {mode, batching, run, msgsPerS: result.msgs_per_s as number, cpuSPerMRecords: cpu / (RECORDS / 1e6)}
      if (mode === 'on') Object.assign(sample, {healthzMs: healthz, metricsMs: metrics, metricsBytes, ...(out.length === 0 ? {idleHealthzMs: idleHealthz} : {})})
      out.push(sample)
      if (broker.metricsListener && batching.startsWith('Java')) {
        // /healthz answer times under load: a separate phase (half the records), not in the CPU figures above.
        let probing = true
        const probe = (async () => {
          while (probing) {
            healthz.push((await timed(`${broker.metricsListener}/healthz`)).ms)
            await new Promise((r) => setTimeout(r, 100))
          }
        })()
        await new Promise<Record<string, unknown>>((resolve, reject) => {
          execFileCb(['produce', '--bootstrap', broker.bootstrap, '--topic', topic, '--count', String(RECORDS / 2), '--size', String(SIZE), '--acks', '1', ...extra], resolve, reject)
        })
        probing = false
        await probe
        const c0 = cpuSeconds(pid)
        for (let i = 0; i < 100; i++) await timed(`${broker.metricsListener}/metrics`)
        sample.scrapeCpuMs = ((cpuSeconds(pid) - c0) / 100) * 1000
      }
      process.stderr.write(`run ${run} metrics ${mode} ${batching}: ${Math.round(sample.msgsPerS)} msg/s, broker ${sample.cpuSPerMRecords.toFixed(2)} CPU s/M records\n`)
    }
  } finally {
    await broker.kill('SIGTERM')
    live.delete(broker.child)
    removeDir(dir)
  }
  return out
}

function execFileCb(args: string[], resolve: (v: Record<string, unknown>) => void, reject: (e: Error) => void) {
  return execFile('/usr/bin/python3', [LOADGEN, ...args], {encoding: 'utf8', timeout: 300_000}, (error, stdout, stderr) => {
    if (error) return reject(new Error(`loadgen failed: ${stderr}`))
    resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>)
  })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/**
 * The hooks' own cost, without the machine's noise: ns per produce request's worth of calls
 * (its RequestTimer — started, response ready, sending, sent: four clock reads and six histogram
 * observations, as the dispatcher and the connection drive it — + one `produced` per partition
 * batch, 6 partitions over 64 topics) and per
 * consumer fetch's `bytesOut` (6 partitions).
 */
async function hookCost(): Promise<{producePerRequestNs: number; fetchPerRequestNs: number; clockReadNs: number}> {
  const m = new BrokerMetrics(true)
  const batch = await buildRecordBatch({records: Array.from({length: 100}, () => ({value: Buffer.alloc(100)}))})
  const topics = Array.from({length: 64}, (_, i) => `topic-${i}`)
  const results = Array.from({length: 6}, (_, i) => [{topicName: topics[i % 2]!}, {records: batch}] as [{topicName: string}, {records: Buffer}])
  const n = 2_000_000
  let best = {producePerRequestNs: Infinity, fetchPerRequestNs: Infinity}
  for (let round = 0; round < 3; round++) {
    let t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) {
      const timer = m.requestStarted(0, 9, performance.now())
      const topic = topics[i & 63]!
      for (let p = 0; p < 6; p++) m.produced(topic, batch)
      m.responseReady(timer, null)
      timer.sending()
      timer.sent()
    }
    const produce = Number(process.hrtime.bigint() - t0) / n
    t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) m.bytesOut(results)
    const fetch = Number(process.hrtime.bigint() - t0) / n
    best = {producePerRequestNs: Math.min(best.producePerRequestNs, produce), fetchPerRequestNs: Math.min(best.fetchPerRequestNs, fetch)}
  }
  let clockReadNs = Infinity
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint()
    let sink = 0
    for (let i = 0; i < n; i++) sink += performance.now()
    clockReadNs = Math.min(clockReadNs, Number(process.hrtime.bigint() - t0) / n)
    if (sink === 0) process.stderr.write('')
  }
  return {...best, clockReadNs}
}

async function main(): Promise<void> {
  const hooks = await hookCost()
  process.stderr.write(`hooks: ${hooks.producePerRequestNs.toFixed(0)} ns per 6-partition produce request, ${hooks.fetchPerRequestNs.toFixed(0)} ns per 6-partition fetch; a clock read (performance.now) ${hooks.clockReadNs.toFixed(0)} ns; load average ${os.loadavg().map((x) => x.toFixed(1)).join('/')}\n`)
  if (argv.includes('--hooks-only')) return
  const samples: Sample[] = []
  const loadBefore = os.loadavg()
  for (let run = 1; run <= RUNS; run++) {
    const order: Array<'off' | 'on'> = run % 2 ? ['off', 'on'] : ['on', 'off']
    for (const mode of order) samples.push(...(await one(mode, run)))
  }
  const loadAfter = os.loadavg()
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT}).toString().trim()
  const lines: string[] = []
  lines.push(`# Metrics overhead (issue 16)`, '', `\`npx tsx bench/metrics/overhead.ts --records ${RECORDS} --runs ${RUNS} --size ${SIZE} --partitions ${PARTITIONS} --scrape-interval ${SCRAPE_INTERVAL_S}\`, commit ${head}, ${new Date().toISOString()}.`)
  lines.push(`Machine: ${os.cpus().length} vCPU ${os.cpus()[0]?.model ?? ''}, Node ${process.version}; load average ${loadBefore.map((x) => x.toFixed(1)).join('/')} before, ${loadAfter.map((x) => x.toFixed(1)).join('/')} after (shared with other helpers' builds and tests).`, '')
  lines.push('| batching | metrics off k msg/s | metrics on k msg/s | on/off throughput | CPU s/M records off | on | on/off CPU |', '|---|---|---|---|---|---|---|')
  const summary: Record<string, unknown> = {}
  for (const batching of Object.keys(BATCHINGS)) {
    const of = (mode: 'off' | 'on') => samples.filter((s) => s.batching === batching && s.mode === mode)
    const rateOff = median(of('off').map((s) => s.msgsPerS))
    const rateOn = median(of('on').map((s) => s.msgsPerS))
    const cpuOff = median(of('off').map((s) => s.cpuSPerMRecords))
    const cpuOn = median(of('on').map((s) => s.cpuSPerMRecords))
    summary[batching] = {rateOff, rateOn, ratio: rateOn / rateOff, cpuOff, cpuOn, cpuRatio: cpuOn / cpuOff}
    lines.push(`| ${batching} | ${(rateOff / 1000).toFixed(0)} | ${(rateOn / 1000).toFixed(0)} | ${(rateOn / rateOff).toFixed(3)} | ${cpuOff.toFixed(2)} | ${cpuOn.toFixed(2)} | ${(cpuOn / cpuOff).toFixed(3)} |`)
  }
  const healthz = samples.flatMap((s) => s.healthzMs ?? [])
  const metrics = samples.flatMap((s) => s.metricsMs ?? [])
  const idle = samples.flatMap((s) => s.idleHealthzMs ?? [])
  const bytes = Math.max(...samples.map((s) => s.metricsBytes ?? 0))
  const scrape = samples.flatMap((s) => (s.scrapeCpuMs === undefined ? [] : [s.scrapeCpuMs]))
  lines.push('', `One /metrics scrape (${bytes} bytes, after the load: 2 topics, ${2 * PARTITIONS} partitions, process metrics) costs the broker ${median(scrape).toFixed(2)} ms CPU (median of ${scrape.length} runs of 100 scrapes): ${((median(scrape) / 15000) * 100).toFixed(3)}% of a core at a 15 s scrape interval. Scrapes during the load: every ${SCRAPE_INTERVAL_S} s.`)
  lines.push('', `The hooks alone (no broker, best of 3 x 2,000,000): ${hooks.producePerRequestNs.toFixed(0)} ns per produce request of 6 partition batches (its request timer: 4 clock reads, 6 histogram observations; + 6 x produced, per-topic tallies on), ${hooks.fetchPerRequestNs.toFixed(0)} ns per 6-partition consumer fetch (bytesOut).`)
  lines.push('', `Idle broker: /healthz p50 ${pct(idle, 50).toFixed(2)} ms, p99 ${pct(idle, 99).toFixed(2)} ms (${idle.length} sequential probes over a kept-alive connection, from the bench process).`)
  lines.push('', `Under load (a produce phase of ${RECORDS / 2} records, Java batching, probed every 100 ms): /healthz p50 ${pct(healthz, 50).toFixed(2)} ms, p99 ${pct(healthz, 99).toFixed(2)} ms, max ${Math.max(...healthz).toFixed(2)} ms (${healthz.length} probes); /metrics during the measured phases p50 ${pct(metrics, 50).toFixed(2)} ms, p99 ${pct(metrics, 99).toFixed(2)} ms (${metrics.length} scrapes, ${bytes} bytes).`)
  lines.push('', 'Every run:', '', '| run | mode | batching | msg/s | CPU s/M records |', '|---|---|---|---|---|')
  for (const s of samples) lines.push(`| ${s.run} | ${s.mode} | ${s.batching} | ${Math.round(s.msgsPerS)} | ${s.cpuSPerMRecords.toFixed(3)} |`)
  fs.writeFileSync(path.join(HERE, 'RESULTS.md'), `${lines.join('\n')}\n`)
  fs.writeFileSync(path.join(HERE, 'results.json'), `${JSON.stringify({commit: head, hooks, scrapeIntervalS: SCRAPE_INTERVAL_S, scrapeCpuMs: median(scrape), records: RECORDS, runs: RUNS, size: SIZE, partitions: PARTITIONS, loadBefore, loadAfter, summary, idleHealthz: {p50: pct(idle, 50), p99: pct(idle, 99), n: idle.length}, healthz: {p50: pct(healthz, 50), p99: pct(healthz, 99), max: Math.max(...healthz), n: healthz.length}, metrics: {p50: pct(metrics, 50), p99: pct(metrics, 99), n: metrics.length, bytes}, samples}, null, 2)}\n`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

await main()
