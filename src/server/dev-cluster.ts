/**
 * A kcli cluster on one machine, for development and tests (`kcli cluster up`): an etcd (the
 * `etcd` binary on PATH, data in `<dataDir>/etcd`) unless one is given, and N `kcli server start`
 * processes with node ids 1..N, their own ports and data directories (`<dataDir>/broker-<id>`),
 * sharing the etcd under one key prefix. Every line a process writes goes to `onLine` with the
 * process's name; broker log lines (pino JSON) are made readable first. stop() stops the brokers
 * (SIGTERM, a clean shutdown), then etcd.
 *
 * The data stays, so the next `up` with the same directory brings the same cluster back.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {createServer} from 'node:net'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {formatLogLine} from './logger.js'

/** kcli's data home: `$XDG_DATA_HOME/kcli` (`~/.local/share/kcli`); the broker's `data`, the dev cluster's `cluster`. */
export function kcliDataHome(): string {
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'kcli')
}

export const ETCD_INSTALL_HINT = 'sudo apt-get install -y etcd-server'

/** The cluster cannot start: etcd missing or not starting, a broker failing; the message says which. */
export class DevClusterError extends Error {}

export interface ManagedProcess {
  name: string
  child: ChildProcess
  /** Resolves when the process has exited. */
  exited: Promise<void>
  /** Stops it with `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves when it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>
}

/** A port the OS had free a moment ago (for processes that cannot report the port they bound). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as {port: number}).port
      server.close(() => resolve(port))
    })
  })
}

function manage(name: string, child: ChildProcess, onLine?: (name: string, line: string) => void): ManagedProcess {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  if (onLine && child.stderr) createInterface({input: child.stderr}).on('line', (line) => onLine(name, formatLogLine(line)))
  return {
    name,
    child,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGCONT')
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}

/** Whether `etcd` is on PATH. */
export function etcdInstalled(): boolean {
  return spawnSync('etcd', ['--version'], {stdio: 'ignore'}).status === 0
}

/**
 * Starts a one-member etcd on 127.0.0.1 (client port `clientPort`, 0: a free one) over `dataDir`
 * and waits until /health answers.
 */
export async function startEtcd(opts: {dataDir: string; clientPort?: number; onLine?: (name: string, line: string) => void; timeoutMs?: number}): Promise<ManagedProcess & {endpoint: string}> {
  if (!etcdInstalled()) throw new DevClusterError(`etcd is not installed (no etcd on PATH): ${ETCD_INSTALL_HINT}`)
  const clientPort = opts.clientPort || (await freePort())
  const peerPort = await freePort()
  const child = spawn(
    'etcd',
    [
      '--name', 'kcli',
      '--data-dir', opts.dataDir,
      '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
      '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `kcli=http://127.0.0.1:${peerPort}`,
      '--log-level', 'warn',
    ],
    {stdio: ['ignore', 'ignore', 'pipe']},
  )
  let tail = ''
  child.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2000)))
  const managed = {...manage('etcd', child, opts.onLine), endpoint: `127.0.0.1:${clientPort}`}
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000)
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new DevClusterError(`etcd exited (${child.exitCode ?? child.signalCode}) at start: ${tail.trim()}`)
    if (await fetch(`http://${managed.endpoint}/health`).then((r) => r.ok, () => false)) return managed
    if (Date.now() > deadline) {
      await managed.stop('SIGKILL')
      throw new DevClusterError(`etcd did not answer on ${managed.endpoint} in ${opts.timeoutMs ?? 20_000} ms: ${tail.trim()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

export interface DevClusterOptions {
  brokers: number
  /** Ports basePort, basePort+1, ...; 0: free ports from the OS. */
  basePort: number
  /** metrics.listener of broker N on 127.0.0.1:metricsBasePort+N-1 (0: a free port each); none: off (issue 16). */
  metricsBasePort?: number
  dataDir: string
  /** An etcd to use (host:port); none: start one, on `etcdPort` (0: a free port). */
  etcdEndpoint?: string
  etcdPort?: number
  /** The key prefix in etcd. */
  prefix: string
  /** Broker configs for every broker (`--override`). */
  overrides: Record<string, string>
  logLevel: string
  /** How to run kcli: a command and its first arguments (e.g. node and bin/run.js). */
  kcli: {command: string; args: string[]}
  onLine?: (name: string, line: string) => void
  startTimeoutMs?: number
}

export interface DevClusterBroker {
  nodeId: number
  port: number
  /** http://host:port of its /metrics, /healthz, /readyz, when metricsBasePort is set. */
  metricsListener?: string
  dataDir: string
  process: ManagedProcess
}

export class DevCluster {
  private constructor(
    readonly etcdEndpoint: string,
    readonly metadataStore: string,
    readonly brokers: DevClusterBroker[],
    private readonly etcd: ManagedProcess | undefined,
    private readonly options: DevClusterOptions,
  ) {}

  get bootstrap(): string {
    return this.brokers.map((b) => `127.0.0.1:${b.port}`).join(',')
  }

  static async start(options: DevClusterOptions): Promise<DevCluster> {
    mkdirSync(options.dataDir, {recursive: true})
    let etcd: (ManagedProcess & {endpoint: string}) | undefined
    if (!options.etcdEndpoint) {
      etcd = await startEtcd({dataDir: join(options.dataDir, 'etcd'), clientPort: options.etcdPort ?? 0, ...(options.onLine ? {onLine: options.onLine} : {}), ...(options.startTimeoutMs !== undefined ? {timeoutMs: options.startTimeoutMs} : {})})
    }
    const endpoint = options.etcdEndpoint ?? etcd!.endpoint
    const metadataStore = `etcd://${endpoint}${options.prefix}`
    const cluster = new DevCluster(endpoint, metadataStore, [], etcd, options)
    try {
      const brokers = await Promise.all(Array.from({length: options.brokers}, async (_, i) => ({nodeId: i + 1, port: options.basePort === 0 ? await freePort() : options.basePort + i})))
      // One at a time: the first creates the cluster id, and start-up logs stay readable.
      for (const {nodeId, port} of brokers) cluster.brokers.push(await cluster.startBroker(nodeId, port))
    } catch (error) {
      await cluster.stop()
      throw error
    }
    return cluster
  }

  /** Starts (or restarts) broker `nodeId` on `port`; resolves when it listens. */
  async startBroker(nodeId: number, port: number): Promise<DevClusterBroker> {
    const {options} = this
    const dataDir = join(options.dataDir, `broker-${nodeId}`)
    const configs: Record<string, string> = {
      'node.id': String(nodeId),
      'listeners': `PLAINTEXT://127.0.0.1:${port}`,
      'metadata.store': this.metadataStore,
      // Internal topics need as many brokers as their replication factor (3 by default, as Kafka):
      // a smaller development cluster gets what it has, as Kafka's own development configs do.
      ...(options.brokers < 3
        ? {'offsets.topic.replication.factor': String(options.brokers), 'transaction.state.log.replication.factor': String(options.brokers), 'transaction.state.log.min.isr': String(Math.min(2, options.brokers))}
        : {}),
      ...(options.metricsBasePort === undefined ? {} : {'metrics.listener': `http://127.0.0.1:${options.metricsBasePort === 0 ? 0 : options.metricsBasePort + nodeId - 1}`}),
      ...options.overrides,
    }
    const args = [...options.kcli.args, 'server', 'start', '--data-dir', dataDir, '--json', '--log-level', options.logLevel]
    for (const [k, v] of Object.entries(configs)) args.push('--override', `${k}=${v}`)
    const child = spawn(options.kcli.command, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    const name = `broker-${nodeId}`
    const managed = manage(name, child, options.onLine)
    const timeoutMs = options.startTimeoutMs ?? 60_000
    // The first stdout line is the broker's status (server start --json).
    const status = await new Promise<{metricsListener?: string}>((resolve, reject) => {
      const timer = setTimeout(() => {
        void managed.stop('SIGKILL')
        reject(new DevClusterError(`${name} did not start listening in ${timeoutMs} ms`))
      }, timeoutMs)
      createInterface({input: child.stdout!}).once('line', (line) => {
        clearTimeout(timer)
        try {
          resolve(JSON.parse(line) as {metricsListener?: string})
        } catch {
          resolve({})
        }
      })
      void managed.exited.then(() => {
        clearTimeout(timer)
        reject(new DevClusterError(`${name} exited (${child.exitCode ?? child.signalCode}) while starting; see its log lines above`))
      })
    })
    const broker: DevClusterBroker = {nodeId, port, dataDir, process: managed, ...(status.metricsListener ? {metricsListener: status.metricsListener} : {})}
    const index = this.brokers.findIndex((b) => b.nodeId === nodeId)
    if (index >= 0) this.brokers[index] = broker
    return broker
  }

  /** Stops every broker cleanly (SIGTERM, in parallel), then etcd. */
  async stop(): Promise<void> {
    await Promise.all(this.brokers.map((b) => b.process.stop('SIGTERM')))
    await this.etcd?.stop('SIGTERM', 10_000)
  }
}
