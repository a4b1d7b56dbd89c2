/**
 * Broker benchmarks: `kcli server start` (compiled, `node bin/run.js`) under real clients —
 * confluent-kafka-python (librdkafka 2.0.2), kcat (librdkafka 2.0.2) and kafkajs 2.2.4.
 *
 *   npx tsx bench/broker/run.ts                  # everything (< 10 min), writes RESULTS.md + results.json
 *   npx tsx bench/broker/run.ts --repeats 1 --skip-startup
 *   npx tsx bench/broker/run.ts --kcli-root .    # the project's own dist/ (after `npm run build`)
 *
 * By default the broker is built from the committed HEAD (git archive HEAD → a temporary
 * directory, tsc there, node_modules linked), so the figures belong to one commit and neither
 * uncommitted edits nor a concurrent `npm run build` can change the binary during the run.
 *
 * Matrix: record size × partitions × acks, each case on a fresh broker and data directory,
 * repeated --repeats times (repeats are the outer loop, so load drift on a shared machine
 * spreads over all cases); medians with min–max. Broker CPU = utime+stime of the broker
 * process (/proc/<pid>/stat) across each phase; peak RSS = VmHWM (/proc/<pid>/status).
 * Start-up: spawn → first TCP connect answered by ApiVersions, with an empty data directory
 * and with ~1 GiB of data (after SIGTERM, and after SIGKILL, which triggers log recovery).
 *
 * Every child has a deadline; everything started is killed and every directory removed at exit.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BENCH = path.join(ROOT, 'bench/broker')
const PY = '/usr/bin/python3'
const KCAT = '/usr/bin/kcat'
const LOADGEN = path.join(BENCH, 'loadgen.py')
const KAFKAJS = path.join(BENCH, 'kafkajs-load.ts')

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2)
function opt(name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt
}
const flag = (name: string) => argv.includes(`--${name}`)
const REPEATS = Number(opt('repeats', '3'))
const SIZES = opt('sizes', '100,1024').split(',').map(Number)
const PARTITIONS = opt('partitions', '1,6').split(',').map(Number)
const ACKS = opt('acks', '1,-1').split(',').map(Number)
const STARTUP_MIB = Number(opt('startup-mib', '1024'))
const SKIP_STARTUP = flag('skip-startup')
const SKIP_MATRIX = flag('skip-matrix')
const OUT_MD = path.resolve(opt('out', path.join(BENCH, 'RESULTS.md')))
const OUT_JSON = path.resolve(opt('json', path.join(BENCH, 'results.json')))
const TMP_BASE = opt('tmp', process.env.KCLI_BENCH_DIR ?? os.tmpdir())
/** records per throughput run: librdkafka clients, kafkajs (slower: fewer) */
const COUNT: Record<number, number> = {100: 400_000, 1024: 150_000}
const COUNT_KAFKAJS: Record<number, number> = {100: 100_000, 1024: 50_000}
const LAT_RATE = 1000
const LAT_SECONDS = 2
const KAFKAJS_LAT_COUNT = 1000
const count = (size: number) => COUNT[size] ?? Math.max(10_000, Math.round(30e6 / size))
const countKafkajs = (size: number) => COUNT_KAFKAJS[size] ?? Math.max(5_000, Math.round(10e6 / size))

// ---------------------------------------------------------------- processes and cleanup

const live = new Set<ChildProcess>()
const dirs = new Set<string>()
function cleanup(): void {
  for (const c of live) c.kill('SIGKILL')
  live.clear()
  for (const d of dirs) fs.rmSync(d, {recursive: true, force: true})
  dirs.clear()
}
process.on('exit', cleanup)
for (const s of ['SIGINT', 'SIGTERM'] as const) {
  process.on(s, () => {
    cleanup()
    process.exit(130)
  })
}
function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(TMP_BASE, prefix))
  dirs.add(d)
  return d
}
function removeDir(d: string): void {
  fs.rmSync(d, {recursive: true, force: true})
  dirs.delete(d)
}

interface ExecResult {
  code: number | null
  signal: string | null
  stdout: string
  stdoutBytes: number
  stderr: string
  ms: number
}

/** Runs a command to completion or its deadline (then SIGKILL). `keepStdout: false` only counts bytes. */
function exec(cmd: string, args: string[], opts: {timeoutMs: number; keepStdout?: boolean; cwd?: string} = {timeoutMs: 60_000}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, {cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    live.add(child)
    let stdout = ''
    let stdoutBytes = 0
    let stderr = ''
    const keep = opts.keepStdout ?? true
    child.stdout!.on('data', (d: Buffer) => {
      stdoutBytes += d.length
      if (keep) stdout += d.toString()
    })
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 20_000) stderr += d.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    child.once('error', (e) => {
      clearTimeout(timer)
      live.delete(child)
      reject(e)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      resolve({code, signal, stdout, stdoutBytes, stderr, ms: performance.now() - t0})
    })
  })
}

function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

/** Exact commands, with the bootstrap and data paths replaced by placeholders, for the report. */
const commands = new Map<string, string>()
function remember(key: string, cmd: string[], subst: Record<string, string>): void {
  if (commands.has(key)) return
  let s = shellQuote(cmd)
  for (const [from, to] of Object.entries(subst)) s = s.split(from).join(to)
  commands.set(key, s)
}

class PhaseError extends Error {}

async function runJson(key: string, cmd: string, args: string[], timeoutMs: number, subst: Record<string, string>): Promise<Record<string, any>> {
  remember(key, [cmd === process.execPath ? 'node' : cmd, ...args], subst)
  const r = await exec(cmd, args, {timeoutMs})
  if (r.code !== 0) throw new PhaseError(`${shellQuote([cmd, ...args])} → exit ${r.code ?? r.signal}${r.ms >= timeoutMs ? ' (deadline)' : ''}: ${r.stderr.trim().slice(0, 2000)}`)
  const line = r.stdout.trim().split('\n').at(-1) ?? ''
  return JSON.parse(line)
}

// ---------------------------------------------------------------- /proc

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / CLK_TCK
}
function procStatusKiB(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : NaN
}
function loadavg(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ')
}

// ---------------------------------------------------------------- the broker

let KCLI_ROOT = ''
let KCLI_DESC = ''

interface BrokerProc {
  child: ChildProcess
  pid: number
  port: number
  bootstrap: string
  dataDir: string
  stderr: () => string
  /** ms from spawn to the JSON status line */
  statusMs: number
}

function brokerArgs(dataDir: string, port: number): string[] {
  return [path.join(KCLI_ROOT, 'bin/run.js'), 'server', 'start', '--data-dir', dataDir, '--port', String(port), '--json', '--log-level', 'warn']
}

function startBroker(dataDir: string, port = 0): Promise<BrokerProc> {
  const t0 = performance.now()
  const child = spawn(process.execPath, brokerArgs(dataDir, port), {cwd: KCLI_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  live.add(child)
  child.once('exit', () => live.delete(child))
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 50_000) stderr += d.toString()
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new PhaseError(`broker did not print its status in 120 s: ${stderr}`))
    }, 120_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      child.stdout!.resume()
      const status = JSON.parse(out.slice(0, nl)) as {listeners: Array<{port: number}>}
      const p = status.listeners[0]!.port
      resolve({child, pid: child.pid!, port: p, bootstrap: `127.0.0.1:${p}`, dataDir, stderr: () => stderr, statusMs: performance.now() - t0})
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new PhaseError(`broker exited with ${code ?? signal} before it was ready: ${stderr}`))
    })
  })
}

/** Sends `signal` and waits for the exit; returns ms and the exit status. */
function stopBroker(b: BrokerProc, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 60_000): Promise<{ms: number; code: number | null; signal: string | null; forced: boolean}> {
  return new Promise((resolve) => {
    const t0 = performance.now()
    if (b.child.exitCode !== null || b.child.signalCode !== null) return resolve({ms: 0, code: b.child.exitCode, signal: b.child.signalCode, forced: false})
    let forced = false
    const timer = setTimeout(() => {
      forced = true
      b.child.kill('SIGKILL')
    }, timeoutMs)
    b.child.once('exit', (code, sig) => {
      clearTimeout(timer)
      resolve({ms: performance.now() - t0, code, signal: sig, forced})
    })
    b.child.kill(signal)
  })
}

function alive(b: BrokerProc): boolean {
  return b.child.exitCode === null && b.child.signalCode === null
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
}

/** ApiVersions v0 (request header v1, client id "kcli-bench"). */
function apiVersionsRequest(correlationId: number): Buffer {
  const client = Buffer.from('kcli-bench')
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length)
  body.writeInt16BE(18, 0)
  body.writeInt16BE(0, 2)
  body.writeInt32BE(correlationId, 4)
  body.writeInt16BE(client.length, 8)
  client.copy(body, 10)
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

/** One attempt: connect, ApiVersions, check correlation id, error 0 and a non-empty list. */
function tryApiVersions(port: number): Promise<{connectedAt: number} | null> {
  return new Promise((resolve) => {
    const sock = net.connect({host: '127.0.0.1', port})
    let connectedAt = 0
    let buf = Buffer.alloc(0)
    const done = (v: {connectedAt: number} | null) => {
      sock.destroy()
      resolve(v)
    }
    sock.setTimeout(30_000, () => done(null))
    sock.once('error', () => done(null))
    sock.once('connect', () => {
      connectedAt = performance.now()
      sock.write(apiVersionsRequest(4242))
    })
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return
      const ok = buf.readInt32BE(4) === 4242 && buf.readInt16BE(8) === 0 && buf.readInt32BE(10) > 0
      done(ok ? {connectedAt} : null)
    })
    sock.once('close', () => done(null))
  })
}

interface StartupSample {
  /** spawn → first TCP connect accepted */
  connectMs: number
  /** spawn → ApiVersions answered on that connection */
  apiVersionsMs: number
  /** spawn → the JSON status line on stdout */
  statusMs: number
}

/** Spawns the broker on a known port and polls (every 2 ms) until ApiVersions is answered. */
async function timedStart(dataDir: string): Promise<{b: BrokerProc; sample: StartupSample}> {
  const port = await freePort()
  const t0 = performance.now()
  const started = startBroker(dataDir, port)
  let startError: Error | null = null
  started.catch((e: Error) => (startError = e))
  let got: {connectedAt: number} | null = null
  let done = 0
  while (!got) {
    if (startError) throw startError
    if (performance.now() - t0 > 120_000) throw new PhaseError('no ApiVersions answer in 120 s')
    got = await tryApiVersions(port)
    if (got) done = performance.now()
    else await new Promise((r) => setTimeout(r, 2))
  }
  const b = await started
  return {b, sample: {connectMs: got.connectedAt - t0, apiVersionsMs: done - t0, statusMs: b.statusMs}}
}

// ---------------------------------------------------------------- load generators

const subst = (b: BrokerProc): Record<string, string> => ({[b.bootstrap]: '<bootstrap>', [b.dataDir]: '<data-dir>', [ROOT + '/']: ''})

async function py(key: string, b: BrokerProc, args: string[], timeoutMs = 120_000): Promise<Record<string, any>> {
  return runJson(key, PY, [LOADGEN, ...args], timeoutMs, subst(b))
}

async function kafkajs(key: string, b: BrokerProc, args: string[], timeoutMs = 120_000): Promise<Record<string, any>> {
  return runJson(key, process.execPath, ['--import', 'tsx', KAFKAJS, ...args], timeoutMs, subst(b))
}

/** A file of `n` records of `size` bytes each, newline-delimited (for kcat -P -l). */
function kcatFile(dir: string, size: number, n: number): string {
  const file = path.join(dir, `kcat-${size}-${n}.txt`)
  if (fs.existsSync(file)) return file
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  const one = Buffer.alloc(size + 1)
  const fd = fs.openSync(file, 'w')
  const chunk = 1000
  const block = Buffer.alloc((size + 1) * chunk)
  for (let i = 0; i < n; i += chunk) {
    for (let j = 0; j < chunk; j++) {
      for (let k = 0; k < size; k++) one[k] = alphabet.charCodeAt((Math.random() * 62) | 0)
      one[size] = 10
      one.copy(block, j * (size + 1))
    }
    fs.writeSync(fd, block, 0, Math.min(chunk, n - i) * (size + 1))
  }
  fs.closeSync(fd)
  return file
}

async function kcatProduce(b: BrokerProc, topic: string, file: string, acks: number, n: number): Promise<{seconds: number}> {
  const args = ['-P', '-b', b.bootstrap, '-t', topic, '-X', `acks=${acks}`, '-l', file]
  remember(`kcat-produce acks=${acks}`, [KCAT, ...args], {...subst(b), [path.dirname(file)]: '<dir>', [`-${n}.txt`]: '-<count>.txt'})
  const r = await exec(KCAT, args, {timeoutMs: 120_000})
  if (r.code !== 0 || /error|fail/i.test(r.stderr)) throw new PhaseError(`kcat ${shellQuote(args)} → exit ${r.code ?? r.signal}: ${r.stderr.slice(0, 2000)}`)
  return {seconds: r.ms / 1000}
}

async function kcatConsume(b: BrokerProc, topic: string, n: number): Promise<{seconds: number}> {
  // one byte ("x") per record on stdout, counted
  const args = ['-C', '-b', b.bootstrap, '-t', topic, '-o', 'beginning', '-c', String(n), '-e', '-q', '-f', 'x']
  remember('kcat-consume', [KCAT, ...args], {...subst(b), [` -c ${n} `]: ' -c <count> '})
  const r = await exec(KCAT, args, {timeoutMs: 120_000, keepStdout: false})
  if (r.code !== 0 || r.stdoutBytes !== n) throw new PhaseError(`kcat ${shellQuote(args)} → exit ${r.code ?? r.signal}, ${r.stdoutBytes} of ${n} records: ${r.stderr.slice(0, 2000)}`)
  return {seconds: r.ms / 1000}
}

// ---------------------------------------------------------------- results

interface CaseRun {
  size: number
  partitions: number
  acks: number
  repeat: number
  /** metric name → value */
  m: Record<string, number>
  problems: string[]
}

const results: {
  started: string
  machine: Record<string, string>
  loadStart: string
  loadEnd?: string
  runs: CaseRun[]
  startup: Record<string, any>
  problems: string[]
  durationS?: number
} = {started: new Date().toISOString(), machine: {}, loadStart: loadavg(), runs: [], startup: {}, problems: []}

function log(s: string): void {
  process.stderr.write(`[${((performance.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`)
}
const T0 = performance.now()

// ---------------------------------------------------------------- the build

function prepareKcli(): void {
  const root = opt('kcli-root', '')
  const head = execFileSync('git', ['rev-parse', 'HEAD'], {cwd: ROOT}).toString().trim()
  const dirty = execFileSync('git', ['status', '--short', '--', 'src', 'bin', 'package.json'], {cwd: ROOT}).toString().trim()
  if (root) {
    KCLI_ROOT = path.resolve(root)
    if (!fs.existsSync(path.join(KCLI_ROOT, 'dist/commands/server/start.js'))) throw new Error(`${KCLI_ROOT}/dist has no build: run npm run build first`)
    KCLI_DESC = `\`${KCLI_ROOT}\` as built (dist/ of ${fs.statSync(path.join(KCLI_ROOT, 'dist/commands/server/start.js')).mtime.toISOString()}); git HEAD ${head}${dirty ? `, uncommitted changes in: ${dirty.split('\n').map((l) => l.trim()).join('; ')}` : ''}`
    return
  }
  const dir = tempDir('kcli-bench-build-')
  log(`building HEAD ${head.slice(0, 12)} in ${dir}`)
  execFileSync('sh', ['-c', `git archive HEAD bin src scripts package.json tsconfig.json | tar -x -C '${dir}'`], {cwd: ROOT})
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'))
  // What `npm run build` does: tsc, then dist/ made the oclif root bin/run.js starts from.
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], {cwd: dir, stdio: 'inherit'})
  execFileSync(process.execPath, [path.join(dir, 'scripts/build-cli-root.mjs')], {cwd: dir, stdio: 'inherit'})
  KCLI_ROOT = dir
  KCLI_DESC = `commit ${head}, built as \`npm run build\` does (tsc, then scripts/build-cli-root.mjs) from \`git archive HEAD\` in a temporary directory and run as \`node bin/run.js\``
}

// ---------------------------------------------------------------- the matrix

async function runCase(size: number, partitions: number, acks: number, repeat: number, fileDir: string): Promise<CaseRun> {
  const run: CaseRun = {size, partitions, acks, repeat, m: {}, problems: []}
  const n = count(size)
  const nj = countKafkajs(size)
  const dataDir = path.join(tempDir('kcli-bench-case-'), 'data')
  const b = await startBroker(dataDir)
  const topics = {tp: 'py-tput', tp16: 'py-tput-16k', tk: 'kcat-tput', tj: 'kafkajs-tput', lat: 'py-lat', e2e: 'py-e2e', kjl: 'kafkajs-lat'}
  const step = async (name: string, fn: () => Promise<void>) => {
    if (!alive(b)) {
      run.problems.push(`${name}: skipped, the broker is gone (exit ${b.child.exitCode ?? b.child.signalCode}); its stderr: ${b.stderr().slice(-2000)}`)
      return
    }
    const t = performance.now()
    try {
      await fn()
      run.m[`step_s ${name}`] = (performance.now() - t) / 1000
    } catch (error) {
      const msg = `${name}: ${(error as Error).message}`
      run.problems.push(msg)
      log(`PROBLEM ${msg.slice(0, 500)}`)
    }
  }
  const cpu = async <T>(metric: string, records: number, fn: () => Promise<T>): Promise<T> => {
    const c0 = cpuSeconds(b.pid)
    const r = await fn()
    const c1 = cpuSeconds(b.pid)
    run.m[`${metric}_cpu_s_per_M`] = ((c1 - c0) / records) * 1e6
    return r
  }
  await step('create topics', async () => {
    await py('create', b, ['create', '--bootstrap', b.bootstrap, '--topic', Object.values(topics).join(','), '--partitions', String(partitions)])
  })
  await step('python produce', async () => {
    const r = await cpu('py_produce', n, () => py(`py-produce`, b, ['produce', '--bootstrap', b.bootstrap, '--topic', topics.tp, '--count', String(n), '--size', String(size), '--acks', String(acks)]))
    run.m.py_produce_msgs = r.msgs_per_s
    run.m.py_produce_mb = r.mb_per_s
  })
  await step('python produce, Java-client batching', async () => {
    // batch.size 16384 and linger.ms 5: the Java producer's defaults (Kafka 4.0), so many more, smaller batches
    const r = await cpu('py16k_produce', n, () => py(`py-produce-16k`, b, ['produce', '--bootstrap', b.bootstrap, '--topic', topics.tp16, '--count', String(n), '--size', String(size), '--acks', String(acks), '--batch-bytes', '16384', '--linger-ms', '5']))
    run.m.py16k_produce_msgs = r.msgs_per_s
    run.m.py16k_produce_mb = r.mb_per_s
  })
  if (acks === 1) {
    await step('python consume', async () => {
      const r = await cpu('py_consume', n, () => py('py-consume', b, ['consume', '--bootstrap', b.bootstrap, '--topic', topics.tp, '--count', String(n)]))
      run.m.py_consume_msgs = r.msgs_per_s
      run.m.py_consume_mb = r.mb_per_s
    })
  }
  await step('kcat produce', async () => {
    const file = kcatFile(fileDir, size, n)
    const r = await cpu('kcat_produce', n, () => kcatProduce(b, topics.tk, file, acks, n))
    run.m.kcat_produce_msgs = n / r.seconds
    run.m.kcat_produce_mb = (n * size) / r.seconds / 1e6
  })
  if (acks === 1) {
    await step('kcat consume', async () => {
      const r = await cpu('kcat_consume', n, () => kcatConsume(b, topics.tk, n))
      run.m.kcat_consume_msgs = n / r.seconds
      run.m.kcat_consume_mb = (n * size) / r.seconds / 1e6
    })
  }
  await step('kafkajs produce', async () => {
    const perSend = size >= 1024 ? 200 : 1000
    const r = await cpu('kafkajs_produce', nj, () => kafkajs('kafkajs-produce', b, ['produce', b.bootstrap, topics.tj, String(nj), String(size), String(acks), String(perSend), '4']))
    run.m.kafkajs_produce_msgs = r.msgs_per_s
    run.m.kafkajs_produce_mb = r.mb_per_s
  })
  if (acks === 1) {
    await step('kafkajs consume', async () => {
      // + 1: the producer's warm-up record
      const r = await cpu('kafkajs_consume', nj + 1, () => kafkajs('kafkajs-consume', b, ['consume', b.bootstrap, topics.tj, String(nj + 1)]))
      run.m.kafkajs_consume_msgs = r.msgs_per_s
      run.m.kafkajs_consume_mb = r.mb_per_s
    })
  }
  await step('python produce latency', async () => {
    const jitter = py('jitter', b, ['jitter', '--seconds', String(LAT_SECONDS + 0.4)])
    const r = await py('py-latency', b, ['latency', '--bootstrap', b.bootstrap, '--topic', topics.lat, '--size', String(size), '--acks', String(acks), '--rate', String(LAT_RATE), '--seconds', String(LAT_SECONDS)])
    const j = await jitter
    run.m.lat_p50 = r.perf_counter.p50_ms
    run.m.lat_p99 = r.perf_counter.p99_ms
    run.m.lat_max = r.perf_counter.max_ms
    run.m.lat_rd_p50 = r.librdkafka_latency.p50_ms
    run.m.lat_rd_p99 = r.librdkafka_latency.p99_ms
    run.m.jitter_p99 = j.oversleep.p99_ms
    run.m.jitter_max = j.oversleep.max_ms
  })
  await step('python end-to-end latency', async () => {
    const jitter = py('jitter', b, ['jitter', '--seconds', String(LAT_SECONDS + 1)])
    const r = await py('py-e2e', b, ['e2e', '--bootstrap', b.bootstrap, '--topic', topics.e2e, '--size', String(size), '--acks', String(acks), '--rate', String(LAT_RATE), '--seconds', String(LAT_SECONDS)])
    run.m.e2e_p50 = r.latency.p50_ms
    run.m.e2e_p99 = r.latency.p99_ms
    run.m.e2e_max = r.latency.max_ms
    const j = await jitter
    run.m.e2e_jitter_p99 = j.oversleep.p99_ms
    run.m.e2e_jitter_max = j.oversleep.max_ms
  })
  await step('kafkajs produce latency', async () => {
    const r = await kafkajs('kafkajs-latency', b, ['latency', b.bootstrap, topics.kjl, String(KAFKAJS_LAT_COUNT), String(size), String(acks)])
    run.m.kjs_lat_p50 = r.latency.p50_ms
    run.m.kjs_lat_p99 = r.latency.p99_ms
  })
  await step('record counts', async () => {
    for (const [topic, want] of [[topics.tp, n], [topics.tp16, n], [topics.tk, n], [topics.tj, nj + 1]] as const) {
      const r = await py('watermarks', b, ['watermarks', '--bootstrap', b.bootstrap, '--topic', topic])
      if (r.records !== want) throw new PhaseError(`${topic}: ${r.records} records in the log, ${want} were acknowledged`)
    }
  })
  if (alive(b)) {
    run.m.peak_rss_mib = procStatusKiB(b.pid, 'VmHWM') / 1024
    run.m.broker_cpu_total_s = cpuSeconds(b.pid)
  }
  const stop = await stopBroker(b)
  run.m.shutdown_ms = stop.ms
  if (stop.code !== 0) run.problems.push(`SIGTERM: exit ${stop.code ?? stop.signal}${stop.forced ? ' (forced after 60 s)' : ''}`)
  const err = b.stderr().trim()
  if (err) run.problems.push(`broker stderr (log level warn): ${err.slice(0, 3000)}`)
  removeDir(path.dirname(dataDir))
  return run
}

// ---------------------------------------------------------------- start-up

async function startupSuite(): Promise<void> {
  const s: Record<string, any> = (results.startup = {})
  const wall = async (args: string[]) => (await exec(process.execPath, args, {timeoutMs: 60_000})).ms
  // references: node itself, and the CLI without the broker
  s.node_e0_ms = []
  s.kcli_version_ms = []
  for (let i = 0; i < REPEATS; i++) {
    s.node_e0_ms.push(await wall(['-e', '0']))
    s.kcli_version_ms.push(await wall([path.join(KCLI_ROOT, 'bin/run.js'), '--version']))
  }
  remember('kcli --version', ['node', path.join(KCLI_ROOT, 'bin/run.js'), '--version'], {[KCLI_ROOT]: '<kcli>'})

  log('start-up: empty data directory')
  s.empty = []
  for (let i = 0; i < REPEATS; i++) {
    const dir = path.join(tempDir('kcli-bench-empty-'), 'data')
    const {b, sample} = await timedStart(dir)
    remember('server start', ['node', ...brokerArgs(dir, b.port)], {[KCLI_ROOT]: '<kcli>', [dir]: '<data-dir>', [`--port ${b.port}`]: '--port <free port>'})
    if (i === 0) {
      // idle CPU: what the broker burns with nothing to do (timers, background tasks)
      const c0 = cpuSeconds(b.pid)
      await new Promise((r) => setTimeout(r, 2000))
      s.idle_cpu_s_per_s = (cpuSeconds(b.pid) - c0) / 2
      s.idle_rss_mib = procStatusKiB(b.pid, 'VmRSS') / 1024
    }
    const stop = await stopBroker(b)
    s.empty.push({...sample, shutdownMs: stop.ms, exit: stop.code})
    if (stop.code !== 0) results.problems.push(`empty data dir, SIGTERM: exit ${stop.code ?? stop.signal}`)
    removeDir(path.dirname(dir))
  }

  log(`start-up: writing ${STARTUP_MIB} MiB`)
  const bigParent = tempDir('kcli-bench-big-')
  const big = path.join(bigParent, 'data')
  let b = await startBroker(big)
  const records = STARTUP_MIB * 1024 // 1 KiB records
  await py('create', b, ['create', '--bootstrap', b.bootstrap, '--topic', 'big', '--partitions', '6'])
  const w = await py('py-write-1gib', b, ['produce', '--bootstrap', b.bootstrap, '--topic', 'big', '--count', String(records), '--size', '1024', '--acks', '1', '--linger-ms', '20', '--batch-bytes', String(1 << 20)], 600_000)
  s.write = {records, mb_per_s: w.mb_per_s, seconds: w.seconds}
  s.write.rss_after_write_mib = procStatusKiB(b.pid, 'VmRSS') / 1024
  s.write.hwm_after_write_mib = procStatusKiB(b.pid, 'VmHWM') / 1024
  const kill = await stopBroker(b, 'SIGKILL')
  s.write.killed = kill.signal
  s.data_bytes = Number(execFileSync('du', ['-sb', big]).toString().split('\t')[0])
  log(`start-up: ${(s.data_bytes / 2 ** 30).toFixed(2)} GiB on disk; restarts after SIGKILL`)

  // After SIGKILL: the crashed directory itself, then copies of it (a restart recovers and
  // then shuts down cleanly, so each SIGKILL sample needs its own crashed copy).
  const snap = path.join(bigParent, 'crashed')
  execFileSync('cp', ['-a', big, snap])
  // How much the restart has to recover: records above the checkpointed recovery points.
  const cp = fs.readFileSync(path.join(big, 'recovery-point-offset-checkpoint'), 'utf8').trim().split('\n').slice(2)
  s.recovery_points_at_kill = Object.fromEntries(cp.map((l) => l.split(' ')).filter((f) => f[0] === 'big').map((f) => [`big-${f[1]}`, Number(f[2])]))
  s.records_above_recovery_points = records - Object.values(s.recovery_points_at_kill as Record<string, number>).reduce((a, b) => a + b, 0)
  s.after_sigkill = []
  const check = async (bp: BrokerProc, what: string) => {
    const r = await py('watermarks', bp, ['watermarks', '--bootstrap', bp.bootstrap, '--topic', 'big'])
    if (r.records !== records) results.problems.push(`${what}: ${r.records} records after the restart, ${records} were acknowledged`)
  }
  for (let i = 0; i < REPEATS; i++) {
    const dir = i === 0 ? big : path.join(bigParent, `copy-${i}`)
    if (i > 0) execFileSync('cp', ['-a', snap, dir])
    const t = await timedStart(dir)
    const stderrAtStart = t.b.stderr()
    await check(t.b, `restart ${i + 1} after SIGKILL`)
    const stop = await stopBroker(t.b)
    s.after_sigkill.push({...t.sample, shutdownMs: stop.ms, exit: stop.code, warnings: stderrAtStart.split('\n').filter(Boolean).length})
    if (i === 0) s.after_sigkill_stderr = stderrAtStart.slice(0, 3000)
    if (stop.code !== 0) results.problems.push(`after SIGKILL restart ${i + 1}, SIGTERM: exit ${stop.code ?? stop.signal}`)
    if (i > 0) fs.rmSync(dir, {recursive: true, force: true})
  }
  fs.rmSync(snap, {recursive: true, force: true})

  log('start-up: restarts after SIGTERM')
  s.after_sigterm = []
  for (let i = 0; i < REPEATS; i++) {
    const t = await timedStart(big)
    await check(t.b, `restart ${i + 1} after SIGTERM`)
    b = t.b
    const stop = await stopBroker(b)
    s.after_sigterm.push({...t.sample, shutdownMs: stop.ms, exit: stop.code, warnings: b.stderr().split('\n').filter(Boolean).length})
    if (stop.code !== 0) results.problems.push(`after SIGTERM restart ${i + 1}, SIGTERM: exit ${stop.code ?? stop.signal}`)
    if (b.stderr().trim()) results.problems.push(`clean restart ${i + 1}, broker stderr: ${b.stderr().slice(0, 2000)}`)
  }
  removeDir(bigParent)
}

// ---------------------------------------------------------------- report

function med(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b)
  const n = v.length
  return n % 2 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2
}
function num(x: number, digits?: number): string {
  if (!Number.isFinite(x)) return '—'
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2)
  return x.toLocaleString('en-US', {minimumFractionDigits: d, maximumFractionDigits: d})
}
/** median [min–max] */
function cell(xs: number[], digits?: number): string {
  const v = xs.filter(Number.isFinite)
  if (v.length === 0) return '—'
  if (v.length === 1) return num(v[0]!, digits)
  return `${num(med(v), digits)} [${num(Math.min(...v), digits)}–${num(Math.max(...v), digits)}]`
}
function kcell(xs: number[]): string {
  const v = xs.filter(Number.isFinite).map((x) => x / 1000)
  return cell(v, v.length && med(v) >= 100 ? 0 : 1)
}

function render(): string {
  const L: string[] = []
  const mc = results.machine
  L.push(`Generated by \`npx tsx bench/broker/run.ts${argv.length ? ' ' + shellQuote(argv) : ''}\` on ${results.started} (took ${num(results.durationS ?? 0, 0)} s).`)
  L.push('')
  L.push(`- Broker: ${KCLI_DESC}.`)
  L.push(`- Machine: \`nproc\` ${mc.nproc}, ${mc.cpu}, ${mc.mem}, ${mc.kernel}; node ${process.version}; ${mc.clients}.`)
  L.push(`- Load average (1, 5, 15 min) at the start: ${results.loadStart}; at the end: ${results.loadEnd}. The machine is shared with other engineers' test runs, so read the [min–max] spread before comparing figures.`)
  L.push(`- Each figure: median [min–max] of ${REPEATS} runs; every run on a fresh broker process and data directory (under ${TMP_BASE}, ${mc.fs}). Repeats are the outer loop (all cases once, then again), so load drift spreads over every case.`)
  L.push(`- Records per throughput run: python and kcat ${SIZES.map((s) => `${num(count(s), 0)} × ${s} B`).join(', ')}; kafkajs ${SIZES.map((s) => `${num(countKafkajs(s), 0)} × ${s} B`).join(', ')}. MB = 10^6 bytes of record values; k msg/s = 1000 records/s.`)
  L.push('')

  const runs = results.runs
  const pick = (f: (r: CaseRun) => boolean, k: string) => runs.filter(f).map((r) => r.m[k]!).filter((x) => x !== undefined)

  L.push('### Produce (acks as shown, no compression)')
  L.push('')
  L.push('Throughput: python = confluent-kafka-python with librdkafka defaults (batch.size 1,000,000, batch.num.messages 10,000, linger.ms 5), produce() as fast as the queue takes it, clock from the first produce() to the last delivery report; "Java batching" = the same with batch.size 16384, linger.ms 5; kcat = wall time of `kcat -P -l <file>` (process start, metadata and the final flush included); kafkajs = producer.send() of 1000 (100 B) or 200 (1 KiB) records, 4 sends in flight, no key (spread over the partitions). Latency columns: see the latency detail below; kafkajs send = one record per awaited send(), closed loop.')
  L.push('')
  L.push('| size | partitions | acks | python throughput k msg/s | python MB/s | python, Java batching, k msg/s | kcat k msg/s | kcat MB/s | kafkajs k msg/s | kafkajs MB/s | broker CPU s / M records (python run) | produce latency p50 ms | p99 ms | end-to-end p50 ms | p99 ms | kafkajs send p50 ms | p99 ms | peak RSS MiB |')
  L.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const size of SIZES)
    for (const p of PARTITIONS)
      for (const acks of ACKS) {
        const f = (r: CaseRun) => r.size === size && r.partitions === p && r.acks === acks
        L.push(
          `| ${size} B | ${p} | ${acks} | ${kcell(pick(f, 'py_produce_msgs'))} | ${cell(pick(f, 'py_produce_mb'), 0)} | ${kcell(pick(f, 'py16k_produce_msgs'))} | ${kcell(pick(f, 'kcat_produce_msgs'))} | ${cell(pick(f, 'kcat_produce_mb'), 0)} | ${kcell(pick(f, 'kafkajs_produce_msgs'))} | ${cell(pick(f, 'kafkajs_produce_mb'), 1)} | ${cell(pick(f, 'py_produce_cpu_s_per_M'))} | ${cell(pick(f, 'lat_p50'))} | ${cell(pick(f, 'lat_p99'))} | ${cell(pick(f, 'e2e_p50'))} | ${cell(pick(f, 'e2e_p99'))} | ${cell(pick(f, 'kjs_lat_p50'))} | ${cell(pick(f, 'kjs_lat_p99'))} | ${cell(pick(f, 'peak_rss_mib'), 0)} |`,
        )
      }
  L.push('')
  L.push('### Consume (from the beginning, records written by the same run with acks=1)')
  L.push('')
  L.push('| size | partitions | python k msg/s | python MB/s | kcat k msg/s | kcat MB/s | kafkajs k msg/s | kafkajs MB/s | broker CPU s / M records: python | kcat | kafkajs |')
  L.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const size of SIZES)
    for (const p of PARTITIONS) {
      const f = (r: CaseRun) => r.size === size && r.partitions === p && r.acks === 1
      L.push(
        `| ${size} B | ${p} | ${kcell(pick(f, 'py_consume_msgs'))} | ${cell(pick(f, 'py_consume_mb'), 0)} | ${kcell(pick(f, 'kcat_consume_msgs'))} | ${cell(pick(f, 'kcat_consume_mb'), 0)} | ${kcell(pick(f, 'kafkajs_consume_msgs'))} | ${cell(pick(f, 'kafkajs_consume_mb'), 1)} | ${cell(pick(f, 'py_consume_cpu_s_per_M'))} | ${cell(pick(f, 'kcat_consume_cpu_s_per_M'))} | ${cell(pick(f, 'kafkajs_consume_cpu_s_per_M'))} |`,
      )
    }
  L.push('')
  L.push('### Broker CPU seconds per million records, produce, by client')
  L.push('')
  L.push('| size | partitions | acks | python (librdkafka defaults: batch.size 1,000,000, linger.ms 5) | python with batch.size 16384, linger.ms 5 (Java client defaults) | kcat (librdkafka defaults) | kafkajs (1000 or 200 records per send) |')
  L.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const size of SIZES)
    for (const p of PARTITIONS)
      for (const acks of ACKS) {
        const f = (r: CaseRun) => r.size === size && r.partitions === p && r.acks === acks
        L.push(`| ${size} B | ${p} | ${acks} | ${cell(pick(f, 'py_produce_cpu_s_per_M'))} | ${cell(pick(f, 'py16k_produce_cpu_s_per_M'))} | ${cell(pick(f, 'kcat_produce_cpu_s_per_M'))} | ${cell(pick(f, 'kafkajs_produce_cpu_s_per_M'))} |`)
      }
  L.push('')
  L.push('### Latency detail and the same-run machine reference')
  L.push('')
  L.push(`Produce latency: python producer, linger.ms=0, open loop at ${LAT_RATE} msg/s for ${LAT_SECONDS} s (${LAT_RATE * LAT_SECONDS} records) after 0.3 s of unmeasured warm-up at the same rate; time.perf_counter() at produce() → in the delivery callback; librdkafka's own Message.latency() alongside. End-to-end: the same producer (CLOCK_MONOTONIC ns in the value) and a python consumer process assigned at the high watermarks (fetch.wait.max.ms=500, fetch.min.bytes=1), clock read when poll() returns the record. Reference: during each of the two phases, a separate python process measures how late time.sleep(1 ms) wakes up — scheduler noise on this machine, no broker involved.`)
  L.push('')
  L.push('| size | partitions | acks | produce p50 ms | p99 ms | max ms | librdkafka latency() p50 ms | p99 ms | reference oversleep p99 ms | max ms | end-to-end p50 ms | p99 ms | max ms | reference oversleep p99 ms | max ms |')
  L.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const size of SIZES)
    for (const p of PARTITIONS)
      for (const acks of ACKS) {
        const f = (r: CaseRun) => r.size === size && r.partitions === p && r.acks === acks
        L.push(`| ${size} B | ${p} | ${acks} | ${cell(pick(f, 'lat_p50'))} | ${cell(pick(f, 'lat_p99'))} | ${cell(pick(f, 'lat_max'))} | ${cell(pick(f, 'lat_rd_p50'))} | ${cell(pick(f, 'lat_rd_p99'))} | ${cell(pick(f, 'jitter_p99'))} | ${cell(pick(f, 'jitter_max'))} | ${cell(pick(f, 'e2e_p50'))} | ${cell(pick(f, 'e2e_p99'))} | ${cell(pick(f, 'e2e_max'))} | ${cell(pick(f, 'e2e_jitter_p99'))} | ${cell(pick(f, 'e2e_jitter_max'))} |`)
      }
  L.push('')

  if (runs.length) {
    L.push('### Shutdown at the end of each matrix run')
    L.push('')
    L.push('SIGTERM → exit (flushes every log, writes checkpoints and the clean-shutdown marker), after the run wrote its records to fresh logs (nothing flushed before: the defaults leave flushing to the OS, as Kafka does).')
    L.push('')
    L.push('| size | data written by the run (MB) | shutdown ms, all runs of that size |')
    L.push('| ---: | ---: | ---: |')
    for (const size of SIZES) {
      const mb = ((3 * count(size) + countKafkajs(size) + 1 + 2 * LAT_RATE * (LAT_SECONDS + 0.3) + KAFKAJS_LAT_COUNT + 1) * size) / 1e6
      L.push(`| ${size} B | ${num(mb, 0)} | ${cell(pick((r) => r.size === size, 'shutdown_ms'), 0)} |`)
    }
    L.push('')
  }

  const s = results.startup
  if (s.empty) {
    const col = (xs: Array<Record<string, number>>, k: string) => cell(xs.map((x) => x[k]!), 0)
    L.push('### Start-up and shutdown')
    L.push('')
    L.push(`Spawn of \`node bin/run.js server start\` → first TCP connection accepted → ApiVersions v0 answered on it (a client polls the port every 2 ms). Data: ${s.data_bytes ? `${num(s.data_bytes / 2 ** 30, 2)} GiB on disk (${num(s.write.records, 0)} records of 1 KiB in 6 partitions, written by the python producer at ${num(s.write.mb_per_s, 0)} MB/s with 1 MiB batches, acks=1)` : 'not run'}. The page cache is warm (the data was just written; dropping caches would disturb the other users of this machine).`)
    L.push('')
    L.push('| data directory | spawn → connect accepted ms | spawn → ApiVersions answered ms | spawn → status line on stdout ms | shutdown on SIGTERM ms |')
    L.push('| --- | ---: | ---: | ---: | ---: |')
    L.push(`| empty (created by the broker) | ${col(s.empty, 'connectMs')} | ${col(s.empty, 'apiVersionsMs')} | ${col(s.empty, 'statusMs')} | ${col(s.empty, 'shutdownMs')} |`)
    if (s.after_sigterm) L.push(`| ${num(s.data_bytes / 2 ** 30, 2)} GiB, after a clean shutdown (SIGTERM) | ${col(s.after_sigterm, 'connectMs')} | ${col(s.after_sigterm, 'apiVersionsMs')} | ${col(s.after_sigterm, 'statusMs')} | ${col(s.after_sigterm, 'shutdownMs')} |`)
    if (s.after_sigkill) L.push(`| ${num(s.data_bytes / 2 ** 30, 2)} GiB, after SIGKILL (log recovery) | ${col(s.after_sigkill, 'connectMs')} | ${col(s.after_sigkill, 'apiVersionsMs')} | ${col(s.after_sigkill, 'statusMs')} | ${col(s.after_sigkill, 'shutdownMs')} |`)
    L.push(`| reference: \`node -e 0\` | | ${cell(s.node_e0_ms, 0)} (whole run) | | |`)
    L.push(`| reference: \`node bin/run.js --version\` (oclif, no broker) | | ${cell(s.kcli_version_ms, 0)} (whole run) | | |`)
    L.push('')
    if (s.recovery_points_at_kill) L.push(`At the SIGKILL, recovery-point-offset-checkpoint held ${Object.keys(s.recovery_points_at_kill).length ? JSON.stringify(s.recovery_points_at_kill) : 'no entry for the topic (recovery point 0)'}: ${num(s.records_above_recovery_points, 0)} of the ${num(s.write.records, 0)} records lay above the recovery points, i.e. in segments the restart recovers (reads and CRC-checks).`)
    L.push('')
    L.push(`Idle broker (empty, after start): ${num(s.idle_cpu_s_per_s * 1000, 1)} ms CPU per second, RSS ${num(s.idle_rss_mib, 0)} MiB. Broker RSS right after writing the data: ${s.write ? `${num(s.write.rss_after_write_mib, 0)} MiB (peak ${num(s.write.hwm_after_write_mib, 0)} MiB)` : '—'}. Every restart found all ${s.write ? num(s.write.records, 0) : ''} acknowledged records (sum of high watermarks), unless listed under problems.`)
    L.push('')
  }

  L.push('### Exact commands')
  L.push('')
  L.push('`<bootstrap>` is 127.0.0.1:<port of that run>; python is /usr/bin/python3 (Debian python3-confluent-kafka), kcat is /usr/bin/kcat; paths are relative to the project root; `<kcli>` is the build described above. Each command is shown as the first case ran it; the other cases change only --size, --count, --acks, --partitions (and the kafkajs positional count/size/acks) as the tables say.')
  L.push('')
  L.push('```')
  for (const [k, v] of [...commands.entries()].sort()) L.push(`# ${k}\n${v.split(KCLI_ROOT).join('<kcli>')}`)
  L.push('```')
  L.push('')
  const problems = [...results.problems, ...results.runs.flatMap((r) => r.problems.map((p) => `${r.size} B, ${r.partitions} partitions, acks=${r.acks}, run ${r.repeat}: ${p}`))]
  L.push('### Problems seen in this run')
  L.push('')
  if (problems.length === 0) L.push('None: every command exited 0, every log held every acknowledged record, every broker exited 0 on SIGTERM with nothing on stderr at log level warn.')
  for (const p of problems) L.push(`- ${p.replace(/\n/g, ' ⏎ ').slice(0, 1500)}`)
  return L.join('\n')
}

function writeReport(): void {
  const md = render()
  const start = '<!-- generated by bench/broker/run.ts: start -->'
  const end = '<!-- generated by bench/broker/run.ts: end -->'
  let doc = fs.existsSync(OUT_MD) ? fs.readFileSync(OUT_MD, 'utf8') : `# Broker benchmarks\n\n${start}\n${end}\n`
  if (!doc.includes(start)) doc += `\n${start}\n${end}\n`
  doc = doc.slice(0, doc.indexOf(start) + start.length) + '\n' + md + '\n' + doc.slice(doc.indexOf(end))
  fs.writeFileSync(OUT_MD, doc)
  fs.writeFileSync(OUT_JSON, JSON.stringify({...results, commands: Object.fromEntries(commands), kcli: KCLI_DESC}, null, 1) + '\n')
}

// ---------------------------------------------------------------- main

function machine(): void {
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?'
  const sh = (c: string) => {
    try {
      return execFileSync('sh', ['-c', c]).toString().trim()
    } catch {
      return '?'
    }
  }
  results.machine = {
    nproc: sh('nproc'),
    cpu: `CPU ${cpu}`,
    mem: `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    kernel: `Linux ${os.release()}`,
    fs: sh(`df -PT '${TMP_BASE}' | awk 'NR==2 {print $2}'`) + ' file system',
    clients: `kcat ${sh(`${KCAT} -V 2>&1 | grep -o 'Version [0-9.]*' | head -1 | cut -d' ' -f2`)} on librdkafka ${sh(`${KCAT} -V 2>&1 | grep -o 'librdkafka [0-9.]*' | head -1 | cut -d' ' -f2`)}; confluent-kafka-python ${sh(`${PY} -c "import confluent_kafka as c; print(c.version()[0], 'on librdkafka', c.libversion()[0])"`)}; kafkajs ${JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/kafkajs/package.json'), 'utf8')).version}`,
  }
}

async function main(): Promise<void> {
  machine()
  prepareKcli()
  log(`kcli: ${KCLI_DESC}`)
  log(`load average ${results.loadStart}`)
  if (!SKIP_MATRIX) {
    const fileDir = tempDir('kcli-bench-files-')
    for (let r = 1; r <= REPEATS; r++)
      for (const size of SIZES)
        for (const p of PARTITIONS)
          for (const acks of ACKS) {
            const run = await runCase(size, p, acks, r, fileDir)
            results.runs.push(run)
            log(`run ${r}: ${size} B, ${p} partitions, acks=${acks}: py ${num(run.m.py_produce_msgs! / 1000, 0)} k msg/s, kcat ${num(run.m.kcat_produce_msgs! / 1000, 0)} k msg/s, kafkajs ${num(run.m.kafkajs_produce_msgs! / 1000, 0)} k msg/s, p99 ${num(run.m.lat_p99!)} ms, e2e p99 ${num(run.m.e2e_p99!)} ms, RSS ${num(run.m.peak_rss_mib!, 0)} MiB${run.problems.length ? `, ${run.problems.length} problem(s)` : ''}; load ${loadavg()}`)
          }
    removeDir(fileDir)
  }
  if (!SKIP_STARTUP) {
    try {
      await startupSuite()
    } catch (error) {
      results.problems.push(`start-up suite: ${(error as Error).message}`)
      log(`PROBLEM start-up suite: ${(error as Error).message}`)
    }
  }
  results.loadEnd = loadavg()
  results.durationS = (performance.now() - T0) / 1000
  writeReport()
  log(`wrote ${OUT_MD} and ${OUT_JSON}; load average ${results.loadEnd}`)
}

try {
  await main()
} finally {
  cleanup()
}
