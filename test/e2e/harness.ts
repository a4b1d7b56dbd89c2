/**
 * Test brokers: an in-process broker on 127.0.0.1 with an ephemeral port and a temporary data
 * directory, or a real `kcli server start` child process (for SIGKILL tests). Everything started
 * here is stopped and removed by `stop()`.
 */
import {type ChildProcess, spawn, spawnSync, type SpawnSyncReturns} from 'node:child_process'
import {createWriteStream, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join, resolve} from 'node:path'
import {resolveBrokerConfig} from '../../src/lib/config/broker-configs.js'
import {Broker} from '../../src/server/broker.js'
import type {ApiHandler} from '../../src/server/handlers/handler.js'
import {silentLogger} from '../../src/server/logger.js'

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..')

export interface TestBroker {
  broker: Broker
  port: number
  bootstrap: string
  dataDir: string
  /** Stops the broker; with `keepData` the directory stays for a restart. */
  stop(opts?: {keepData?: boolean}): Promise<void>
}

export function tempDir(prefix = 'kcli-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** `handlers` replaces the broker's handler list (default: all of them). */
export async function startBroker(overrides: Record<string, string> = {}, dataDir = tempDir(), handlers?: readonly ApiHandler[]): Promise<TestBroker> {
  const config = resolveBrokerConfig({'listeners': 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dataDir, 'group.initial.rebalance.delay.ms': '0', ...overrides})
  const broker = new Broker(config, silentLogger(), handlers)
  const status = await broker.start()
  const port = status.listeners[0]!.port
  return {
    broker,
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    async stop(opts = {}) {
      await broker.stop()
      if (!opts.keepData) rmSync(dataDir, {recursive: true, force: true})
    },
  }
}

export interface BrokerProcess {
  child: ChildProcess
  /** The first listener's port. */
  port: number
  bootstrap: string
  dataDir: string
  /** Every listener, as `server start --json` reports them. */
  listeners: Array<{name: string; host: string; port: number; securityProtocol: string}>
  /** metrics.listener with its bound port (http://host:port), when set. */
  metricsListener?: string
  kill(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * How a test runs the kcli binary in a child process: the built dist/ (bin/run.js) when
 * KCLI_TEST_DIST=1 — scripts/test.sh sets it after building, and a broker then starts in about
 * 0.4 s instead of 2 s of TypeScript compilation — else from source through tsx (bin/dev.js), so a
 * test run straight from vitest always runs the source as it is.
 */
export const KCLI_NODE_ARGS: readonly string[] = process.env.KCLI_TEST_DIST === '1' ? [join(PROJECT_ROOT, 'bin/run.js')] : ['--import', 'tsx', join(PROJECT_ROOT, 'bin/dev.js')]

/**
 * Debugging aid: with KCLI_TEST_LOG_DIR set, a spawned process's stderr is also kept in
 * `<dir>/<name>-<pid>.log` (for a post-mortem of a failure that does not reproduce).
 */
export function keepLog(child: ChildProcess, name: string): void {
  const dir = process.env.KCLI_TEST_LOG_DIR
  if (dir) child.stderr!.pipe(createWriteStream(join(dir, `${name}-${child.pid}.log`)))
}

/**
 * Runs `kcli server start` (KCLI_NODE_ARGS) in a child process and waits until it listens: a
 * PLAINTEXT listener on `port`, or with `port` null the `listeners` of the overrides.
 */
export async function spawnBroker(dataDir: string, overrides: Record<string, string> = {}, port: number | null = 0): Promise<BrokerProcess> {
  const args = [...KCLI_NODE_ARGS, 'server', 'start', '--data-dir', dataDir, ...(port === null ? [] : ['--port', String(port)]), '--json', '--log-level', process.env.KCLI_TEST_LOG_LEVEL ?? 'warn']
  for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`)
  const child = spawn(process.execPath, args, {cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  keepLog(child, `broker-${basename(dataDir)}`)
  const status = await new Promise<{listeners: BrokerProcess['listeners']; metricsListener?: string}>((resolvePromise, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      // Never leave a half-started broker behind.
      child.kill('SIGKILL')
      reject(new Error(`broker did not start in 30 s: ${stderr}`))
    }, 30_000)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        try {
          resolvePromise(JSON.parse(out.slice(0, nl)))
        } catch (error) {
          child.kill('SIGKILL')
          reject(new Error(`broker printed something other than its JSON status: ${out.slice(0, nl)} (${String(error)})`))
        }
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`broker exited with ${code}: ${stderr}`))
    })
  })
  const boundPort = status.listeners[0]!.port
  return {
    child,
    port: boundPort,
    bootstrap: `127.0.0.1:${boundPort}`,
    dataDir,
    listeners: status.listeners,
    ...(status.metricsListener ? {metricsListener: status.metricsListener} : {}),
    kill(signal = 'SIGTERM') {
      return new Promise((resolveExit) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveExit(child.exitCode)
        child.once('exit', (code) => resolveExit(code))
        child.kill(signal)
      })
    },
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, {recursive: true, force: true})
}

/** Runs `kcli server start ARGS` (KCLI_NODE_ARGS) to its exit, for start-up failures; killed after `timeoutMs`. */
export function startServerSync(args: readonly string[], timeoutMs = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...KCLI_NODE_ARGS, 'server', 'start', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: {...process.env, NO_COLOR: '1'},
  })
}

/** Resolves once `condition()` holds, polling every 20 ms; throws after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Resolves with `read()`'s value once `ok` accepts it, polling 10 ms after the first read, then
 * twice as long each time up to every 200 ms (most conditions hold within milliseconds; a read
 * that throws — a broker going away — counts as not yet); throws after `timeoutMs`, naming `what`
 * and the last value.
 */
export async function pollUntil<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value: T | undefined
  for (let interval = 10; ; interval = Math.min(interval * 2, 200)) {
    try {
      value = await read()
      if (ok(value)) return value
    } catch {
      // ask again
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms (${JSON.stringify(value)?.slice(0, 2000)})`)
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
