/**
 * Real processes for the Connect tests: a broker (`kcli server start`) and Connect workers
 * (`kcli connect standalone`), both spawned from the built dist/ (bin/run.js) as a user runs
 * them, plus an HTTP helper for the REST API. Everything started is killed by its `kill()`.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {keepLog, pollUntil, PROJECT_ROOT} from './harness.js'

export const distBuilt = existsSync(join(PROJECT_ROOT, 'dist/commands/connect/standalone.js'))

export interface Spawned<S> {
  child: ChildProcess
  status: S
  stderr(): string
  kill(signal?: NodeJS.Signals): Promise<void>
}

/** Spawns `kcli ARGS --json` from dist and resolves with the first JSON line it prints. */
export function spawnKcli<S>(args: string[], timeoutMs = 30_000): Promise<Spawned<S>> {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  delete env.KCLI_BOOTSTRAP_SERVER
  delete env.KCLI_PROFILE
  delete env.NODE_ENV // production mode: the compiled dist/ only
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/run.js'), ...args, '--json'], {cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-200_000) })
  keepLog(child, args.slice(0, 2).join('-'))
  const kill = (signal: NodeJS.Signals = 'SIGTERM') => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.once('close', () => { clearTimeout(force); resolve() })
    child.kill(signal)
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kcli ${args.join(' ')} did not start in ${timeoutMs} ms: ${stderr}`)) }, timeoutMs)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      try {
        resolve({child, kill, status: JSON.parse(out.slice(0, nl)) as S, stderr: () => stderr})
      } catch (error) {
        child.kill('SIGKILL')
        reject(error)
      }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`kcli ${args.join(' ')} exited with ${code}: ${stderr}`)) })
  })
}

/** A broker from dist; `overrides` are broker configs (`--override key=value`). */
export function spawnDistBroker(dataDir: string, overrides: Record<string, string> = {}): Promise<Spawned<{listeners: Array<{port: number}>}>> {
  return spawnKcli(['server', 'start', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn', ...Object.entries(overrides).flatMap(([k, v]) => ['--override', `${k}=${v}`])])
}

/** Writes `props` as a .properties file. */
export function writeProperties(file: string, props: Record<string, string | number>): string {
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  return file
}

/**
 * A standalone worker's properties file `<dir>/<name>-worker.properties`: String converters, its
 * own offsets file, an ephemeral REST port, a short sink consumer session (a killed worker's
 * consumer leaves the group after 6 s, not after the default 45 s), and `extra`.
 */
export function workerProperties(dir: string, bootstrap: string, name: string, extra: Record<string, string> = {}): string {
  return writeProperties(join(dir, `${name}-worker.properties`), {
    'bootstrap.servers': bootstrap,
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'offset.storage.file.filename': join(dir, `${name}.offsets`),
    'offset.storage.topic': `${name}-offsets`,
    'offset.flush.interval.ms': '500',
    listeners: 'http://127.0.0.1:0',
    'consumer.session.timeout.ms': '6000',
    'consumer.heartbeat.interval.ms': '1000',
    ...extra,
  })
}

export function spawnWorker(workerFile: string, connectorFiles: string[] = []): Promise<Spawned<{rest: string; connectors: string[]}>> {
  return spawnKcli(['connect', 'standalone', workerFile, ...connectorFiles, '--log-level', 'warn'])
}

/**
 * A distributed worker's properties file `<dir>/<name>-worker.properties`: group `groupId`, its
 * internal topics `<groupId>-configs|offsets|status` (replication factor 1), String converters, an
 * ephemeral REST port, short group timeouts (session 6 s, heartbeat 1 s, rebalance 10 s, lost
 * workers' work reassigned after 1 s), the same short session for sink consumers, and `extra`.
 */
export function distributedWorkerProperties(dir: string, bootstrap: string, name: string, groupId: string, extra: Record<string, string> = {}): string {
  return writeProperties(join(dir, `${name}-worker.properties`), {
    'bootstrap.servers': bootstrap,
    'group.id': groupId,
    'config.storage.topic': `${groupId}-configs`,
    'offset.storage.topic': `${groupId}-offsets`,
    'status.storage.topic': `${groupId}-status`,
    'config.storage.replication.factor': 1,
    'offset.storage.replication.factor': 1,
    'status.storage.replication.factor': 1,
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'offset.flush.interval.ms': '500',
    listeners: 'http://127.0.0.1:0',
    'session.timeout.ms': '6000',
    'heartbeat.interval.ms': '1000',
    'rebalance.timeout.ms': '10000',
    'scheduled.rebalance.max.delay.ms': '1000',
    'consumer.session.timeout.ms': '6000',
    'consumer.heartbeat.interval.ms': '1000',
    ...extra,
  })
}

export function spawnDistributedWorker(workerFile: string): Promise<Spawned<{rest: string; workerId: string; groupId: string}>> {
  return spawnKcli(['connect', 'distributed', workerFile, '--log-level', process.env.KCLI_TEST_LOG_LEVEL ?? 'warn'], 60_000)
}

export interface HttpAnswer {status: number; body: unknown; headers: Headers}

/** One HTTP exchange with a JSON (or raw string) body. */
export async function http(method: string, url: string, body?: unknown, options: {raw?: boolean; contentType?: string | null} = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = {}
  let payload: string | undefined
  if (body !== undefined) {
    payload = options.raw ? String(body) : JSON.stringify(body)
    if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json'
  }
  const response = await fetch(url, {body: payload, headers, method, signal: AbortSignal.timeout(20_000)})
  const text = await response.text()
  let parsed: unknown = text
  try { parsed = text === '' ? null : JSON.parse(text) } catch { /* not JSON */ }
  return {body: parsed, headers: response.headers, status: response.status}
}

/** pollUntil with Connect's defaults (30 s); `read` may answer synchronously. */
export function eventually<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  return pollUntil(async () => read(), ok, timeoutMs, what)
}
