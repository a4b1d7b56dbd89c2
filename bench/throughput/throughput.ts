/**
 * Issue 19: broker throughput and CPU per record under librdkafka at full speed, for kcli builds of
 * several commits and for the floor (bench/throughput/floor-broker.ts: frames, answers, writes the
 * bytes to a file and serves them back, and nothing else), interleaved in one run so that machine drift spreads over all.
 *
 *   npx tsx bench/throughput/throughput.ts                                  # HEAD against the floor
 *   npx tsx bench/throughput/throughput.ts --refs b4c1756,HEAD --runs 3 --records 2000000 --size 100 --partitions 6 --acks 1
 *       [--batch] [--replay-records 3000000] [--replay-batch-records 1200]
 *
 * Load: bench/throughput/loadgen.c (librdkafka 2.0.2, built here with cc; needs Debian's
 * librdkafka-dev), one process per phase: produce <records> values of <size> bytes to one topic
 * of <partitions> partitions, acks as given, linger.ms=5, no compression (with --batch through
 * rd_kafka_produce_batch, 1,000 records per call); then consume them all
 * from the beginning. 50,000 records produced to another topic and consumed first, unmeasured
 * (connections, topic creation, JIT; and the consumer group's offsets topic, which kcli creates
 * with its 50 partitions at the first consumer's FindCoordinator as Kafka does, a one-time cost
 * that added ~0.03 s/M to a 2,000,000-record consume phase and that the floor does not have). Broker CPU is utime + stime of the broker process
 * (/proc/<pid>/stat) across each measured phase; records/s and produce latency (p50/p99, produce
 * call to delivery report, every 16th record) are the load generator's; peak RSS is the broker's
 * VmHWM at the end.
 *
 * The load generator costs 0.5-0.9 CPU s per million records produced here, several times any
 * broker's cost, on the same two cores: with a broker that keeps up, the generator, not the
 * broker, sets the produce rate. So each run ends with a replayed produce phase
 * (bench/metrics/replay.ts: the Produce requests librdkafka sends under this load, one batch of
 * 1,200 records per partition (--replay-batch-records), acks as given, recorded once and written
 * over 2 connections with 4 requests in flight; the replayer's own CPU, 0.04-0.06 s per million
 * records, is a tenth of librdkafka's): the broker's own produce rate (--replay-records, default 3,000,000, after 300,000
 * unmeasured; 0 to skip).
 * Each run gets a fresh broker and data directory. Writes
 * throughput-<size>b-<partitions>p-acks<acks>[-batch].{md,json} next to this file.
 */
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')
const HERE = path.join(ROOT, 'bench/throughput')
const argv = process.argv.slice(2)
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt
}
const REFS = opt('refs', 'HEAD').split(',')
const RECORDS = Number(opt('records', '2000000'))
const RUNS = Number(opt('runs', '3'))
const PARTITIONS = Number(opt('partitions', '6'))
const SIZE = Number(opt('size', '100'))
const ACKS = opt('acks', '1')
const REPLAY_RECORDS = Number(opt('replay-records', '3000000'))
/** --batch: the load generator produces with rd_kafka_produce_batch (loadgen.c), its cheapest way in. */
const BATCH = argv.includes('--batch')
/** Records per partition in a replayed request: 6 x 1,200 x 100 B is the ~800 KB request librdkafka sends at full speed (273 Produce requests for 2,000,000 records). */
const BATCH_RECORDS = Number(opt('replay-batch-records', '1200'))
const WARMUP = 50_000
const NAME = `throughput-${SIZE}b-${PARTITIONS}p-acks${ACKS === '-1' ? 'all' : ACKS}${BATCH ? '-batch' : ''}`
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
const T0 = performance.now()
const log = (s: string) => process.stderr.write(`[${((performance.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`)

const temps: string[] = []
const children = new Set<ChildProcess>()
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(process.env.KCLI_BENCH_DIR ?? os.tmpdir(), prefix))
  temps.push(dir)
  return dir
}
function cleanup(): void {
  for (const c of children) c.kill('SIGKILL')
  for (const d of temps) fs.rmSync(d, {recursive: true, force: true})
}
process.on('exit', cleanup)
process.on('SIGINT', () => process.exit(130))

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / CLK_TCK
}

/** A build of `ref` as `npm run build` makes it, in a temporary directory. */
function build(ref: string): {ref: string; commit: string; dir: string} {
  const commit = execFileSync('git', ['rev-parse', ref], {cwd: ROOT}).toString().trim()
  const dir = tempDir(`kcli-build-${commit.slice(0, 7)}-`)
  log(`building ${ref} (${commit.slice(0, 12)})`)
  execFileSync('sh', ['-c', `git archive ${commit} bin src scripts package.json tsconfig.json | tar -x -C '${dir}'`], {cwd: ROOT})
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'))
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], {cwd: dir, stdio: 'inherit'})
  execFileSync(process.execPath, [path.join(dir, 'scripts/build-cli-root.mjs')], {cwd: dir, stdio: 'inherit'})
  return {ref, commit, dir}
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({host: '127.0.0.1', port}, () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nothing listening on ${port} after ${deadlineMs} ms`)
}

/** The load generator, compiled once per bench run. */
function buildLoadgen(): string {
  const out = path.join(tempDir('kcli-loadgen-'), 'loadgen')
  const r = spawnSync('cc', ['-O2', '-o', out, path.join(HERE, 'loadgen.c'), '-lrdkafka'], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`building loadgen.c failed (apt-get install -y librdkafka-dev): ${r.stderr}`)
  return out
}

interface LoadResult {
  records: number
  seconds: number
  recordsPerSecond: number
  p50Ms?: number
  p99Ms?: number
  failed?: number
  /** The load generator's own CPU seconds. */
  cpuS: number
}

function loadgen(bin: string, args: string[]): LoadResult {
  const r = spawnSync(bin, args, {timeout: 300_000, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`loadgen ${args[0]} failed (${r.status}): ${r.stderr}${r.stdout}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as LoadResult
}

/** Replayed produce (bench/metrics/replay.ts replay): the broker's rate and CPU over the measured records. */
interface ReplayResult {
  recordsPerSecond: number
  cpuPerMillion: number
  mainCpuPerMillion: number
  replayerCpuS: number
}

function replay(frames: string, bootstrap: string, pid: number, createTopic: boolean): ReplayResult {
  const args = ['--import', 'tsx', path.join(ROOT, 'bench/metrics/replay.ts'), 'replay', '--frames', frames, '--bootstrap', bootstrap, '--pid', String(pid), '--records', String(REPLAY_RECORDS), ...(createTopic ? [] : ['--skip-create'])]
  const r = spawnSync(process.execPath, args, {cwd: ROOT, timeout: 300_000, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`replay failed (${r.status}): ${r.stderr}${r.stdout}`)
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {recordsPerS: number; cpuNsPerRecord: number; mainCpuNsPerRecord: number; replayerCpuS: number}
  // ns per record = ms per million = s per million / 1000.
  return {recordsPerSecond: out.recordsPerS, cpuPerMillion: out.cpuNsPerRecord / 1000, mainCpuPerMillion: out.mainCpuNsPerRecord / 1000, replayerCpuS: out.replayerCpuS}
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s*(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

interface Target {
  name: string
  start(port: number, dataDir: string): ChildProcess
}

interface RunResult {
  target: string
  run: number
  produce: LoadResult & {cpuPerMillion: number}
  consume?: LoadResult & {cpuPerMillion: number}
  replay?: ReplayResult
  peakRssMb: number
  load: string
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const range = (xs: number[], digits: number) => (xs.length === 0 ? '' : ` [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`)
const thousands = (x: number) => Math.round(x).toLocaleString('en-US')
/** The ratio of two medians, or a dash. */
const times = (xs: number[], base: number[] | undefined) => (base?.length && xs.length ? (median(xs) / median(base)).toFixed(2) : '–')

async function main(): Promise<void> {
  const bin = buildLoadgen()
  const frames = path.join(tempDir('kcli-frames-'), 'frames')
  if (REPLAY_RECORDS > 0) {
    execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/metrics/replay.ts'), 'record', '--out', frames, '--partitions', String(PARTITIONS), '--batch-records', String(BATCH_RECORDS), '--size', String(SIZE), `--acks=${ACKS}`], {cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit']})
  }
  const builds = REFS.map(build)
  const targets: Target[] = [
    {name: 'floor', start: (port, dir) => spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'floor-broker.ts'), String(port), dir, String(PARTITIONS)], {cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit']})},
    ...builds.map((b) => ({
      name: `kcli ${b.ref} (${b.commit.slice(0, 7)})`,
      start: (port: number, dir: string) =>
        spawn(process.execPath, [path.join(b.dir, 'bin/run.js'), 'server', 'start', '--data-dir', dir, '--port', String(port), '--json', '--log-level', 'warn', '--override', `num.partitions=${PARTITIONS}`], {stdio: ['ignore', 'ignore', 'inherit']}),
    })),
  ]
  const results: RunResult[] = []
  for (let run = 1; run <= RUNS; run++) {
    for (const t of targets) {
      const port = await freePort()
      const dir = tempDir('kcli-bench-data-')
      const child = t.start(port, dir)
      children.add(child)
      try {
        await waitForPort(port, child)
        const bootstrap = `127.0.0.1:${port}`
        const batch = BATCH ? ['batch'] : []
        loadgen(bin, ['produce', bootstrap, 'warm', String(WARMUP), String(SIZE), ACKS, '5', ...batch])
        loadgen(bin, ['consume', bootstrap, 'warm', String(WARMUP)])
        let before = cpuSeconds(child.pid!)
        const produced = loadgen(bin, ['produce', bootstrap, 'bench', String(RECORDS), String(SIZE), ACKS, '5', ...batch])
        const produce = {...produced, cpuPerMillion: (cpuSeconds(child.pid!) - before) / (RECORDS / 1e6)}
        let consume: RunResult['consume']
        {
          before = cpuSeconds(child.pid!)
          const consumed = loadgen(bin, ['consume', bootstrap, 'bench', String(RECORDS)])
          consume = {...consumed, cpuPerMillion: (cpuSeconds(child.pid!) - before) / (RECORDS / 1e6)}
        }
        const replayed = REPLAY_RECORDS > 0 ? replay(frames, bootstrap, child.pid!, t.name !== 'floor') : undefined
        const r: RunResult = {target: t.name, run, produce, ...(consume ? {consume} : {}), ...(replayed ? {replay: replayed} : {}), peakRssMb: peakRssMb(child.pid!), load: os.loadavg()[0]!.toFixed(2)}
        results.push(r)
        log(`run ${run} ${t.name}: produce ${thousands(produce.recordsPerSecond)} records/s, CPU ${produce.cpuPerMillion.toFixed(3)} s/M, p50 ${produce.p50Ms} ms, p99 ${produce.p99Ms} ms${consume ? `; consume ${thousands(consume.recordsPerSecond)} records/s, CPU ${consume.cpuPerMillion.toFixed(3)} s/M` : ''}${replayed ? `; replayed produce ${thousands(replayed.recordsPerSecond)} records/s, CPU ${replayed.cpuPerMillion.toFixed(3)} s/M` : ''}; peak RSS ${r.peakRssMb.toFixed(0)} MB (load ${r.load})`)
      } finally {
        child.kill('SIGKILL')
        children.delete(child)
        await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)))
        fs.rmSync(dir, {recursive: true, force: true})
      }
    }
  }
  const by = (name: string) => results.filter((r) => r.target === name)
  const floorCpu = median(by('floor').map((r) => r.produce.cpuPerMillion))
  const floorConsumeCpu = median(by('floor').map((r) => r.consume?.cpuPerMillion ?? NaN))
  const rows = targets.map((t) => {
    const rs = by(t.name)
    const pick = (f: (r: RunResult) => number | undefined) => rs.map(f).filter((x): x is number => x !== undefined)
    return {
      target: t.name,
      produceRate: pick((r) => r.produce.recordsPerSecond),
      produceCpu: pick((r) => r.produce.cpuPerMillion),
      generatorCpu: pick((r) => r.produce.cpuS / (RECORDS / 1e6)),
      p50: pick((r) => r.produce.p50Ms),
      p99: pick((r) => r.produce.p99Ms),
      consumeRate: pick((r) => r.consume?.recordsPerSecond),
      consumeCpu: pick((r) => r.consume?.cpuPerMillion),
      rss: pick((r) => r.peakRssMb),
      replayRate: pick((r) => r.replay?.recordsPerSecond),
      replayCpu: pick((r) => r.replay?.cpuPerMillion),
      replayMainCpu: pick((r) => r.replay?.mainCpuPerMillion),
    }
  })
  const baseline = rows[1] // the first ref: the rates of the others are given as multiples of its
  const floorReplayCpu = median(rows[0]!.replayCpu)
  const cpuModel = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?'
  const machine = `${os.cpus().length} cores (${cpuModel}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, librdkafka ${execFileSync('sh', ['-c', "dpkg-query -W -f='${Version}' librdkafka1"]).toString()}`
  const loads = results.map((r) => Number(r.load))
  const md = [
    `## ${RECORDS.toLocaleString('en-US')} records of ${SIZE} B, ${PARTITIONS} partitions, acks=${ACKS === '-1' ? 'all' : ACKS}`,
    '',
    `\`npx tsx bench/throughput/throughput.ts --refs ${REFS.join(',')} --runs ${RUNS} --records ${RECORDS} --size ${SIZE} --partitions ${PARTITIONS} --acks ${ACKS}${BATCH ? ' --batch' : ''}\` — ${new Date().toISOString()}, ${machine}; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during the runs.`,
    `Medians of ${RUNS} interleaved runs [min–max]; CPU is the broker's, seconds per million records.`,
    '',
    `Rates also as a multiple of ${baseline?.target ?? '–'}'s (÷ first); generator CPU: the load generator's own CPU per million records produced, on the same two cores.`,
    '',
    '| broker | produce records/s | ÷ first | produce CPU s/M | CPU ÷ floor | generator CPU s/M | p50 / p99 ms | consume records/s | ÷ first | consume CPU s/M | CPU ÷ floor | peak RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${thousands(median(r.produceRate))}${range(r.produceRate, 0)} | ${times(r.produceRate, baseline?.produceRate)} | ${median(r.produceCpu).toFixed(3)}${range(r.produceCpu, 3)} | ${(median(r.produceCpu) / floorCpu).toFixed(2)} | ${median(r.generatorCpu).toFixed(3)} | ${median(r.p50).toFixed(1)} / ${median(r.p99).toFixed(1)} | ${r.consumeRate.length ? `${thousands(median(r.consumeRate))}${range(r.consumeRate, 0)}` : '–'} | ${times(r.consumeRate, baseline?.consumeRate)} | ${r.consumeCpu.length ? `${median(r.consumeCpu).toFixed(3)}${range(r.consumeCpu, 3)}` : '–'} | ${(median(r.consumeCpu) / floorConsumeCpu).toFixed(2)} | ${median(r.rss).toFixed(0)} |`,
    ),
    '',
    ...(REPLAY_RECORDS > 0
      ? [
          `Replayed produce: ${REPLAY_RECORDS.toLocaleString('en-US')} records in librdkafka's requests (${PARTITIONS} × ${BATCH_RECORDS} records of ${SIZE} B each), 2 connections × 4 in flight, after each run's consume; the broker's CPU (all threads; the event loop's thread alone).`,
          '',
          `| broker | records/s | ÷ first | CPU s/M | CPU ÷ floor | main thread CPU s/M |`,
          '|---|---|---|---|---|---|',
          ...rows.map(
            (r) =>
              `| ${r.target} | ${thousands(median(r.replayRate))}${range(r.replayRate, 0)} | ${times(r.replayRate, baseline?.replayRate)} | ${median(r.replayCpu).toFixed(3)}${range(r.replayCpu, 3)} | ${(median(r.replayCpu) / floorReplayCpu).toFixed(2)} | ${median(r.replayMainCpu).toFixed(3)} |`,
          ),
          '',
        ]
      : []),
  ].join('\n')
  fs.writeFileSync(path.join(HERE, `${NAME}.md`), md)
  fs.writeFileSync(path.join(HERE, `${NAME}.json`), `${JSON.stringify({machine, refs: builds.map(({ref, commit}) => ({ref, commit})), records: RECORDS, size: SIZE, partitions: PARTITIONS, acks: ACKS, runs: RUNS, results}, null, 2)}\n`)
  process.stdout.write(md)
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : error}\n`)
    process.exit(1)
  },
)
