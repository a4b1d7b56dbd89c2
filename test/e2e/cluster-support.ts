/**
 * A kcli cluster for fault tests (issue 13): one etcd (Debian's etcd-server, through
 * src/server/dev-cluster.ts) and N `kcli server start` processes (test/e2e/harness.ts
 * `spawnBroker`), each with its own data directory and a port kept across restarts. Faults are
 * methods: SIGKILL, SIGSTOP/SIGCONT and restart a broker on the same data directory and port,
 * stop and start etcd on the same data directory and port, pause etcd. Questions about the
 * cluster (the leader and ISR of a partition) are Metadata requests on a raw connection to a
 * broker that is running and not paused; waits poll a condition until a deadline, never sleep a
 * fixed time. Every event is timestamped in `events` (and passed to `onEvent`). `close()` kills
 * everything and removes every directory.
 */
import {createWriteStream, mkdirSync, type WriteStream} from 'node:fs'
import {join} from 'node:path'
import {startEtcd as startDevEtcd, etcdInstalled, ETCD_INSTALL_HINT, type ManagedProcess} from '../../src/server/dev-cluster.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {type PartitionInfo, toClusterMetadata} from '../../src/lib/client/metadata.js'
import {ZERO_UUID} from '../../src/lib/protocol/uuid.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir} from './harness.js'
import {RawClient} from './peers.js'

export const clusterEtcdMissing: string | null = etcdInstalled() ? null : `etcd is not installed: ${ETCD_INSTALL_HINT}`

export interface ClusterOptions {
  brokers?: number
  /** Key prefix in etcd. */
  prefix?: string
  /** broker.session.timeout.ms (default 3000 here; Kafka's default is 9000). */
  sessionTimeoutMs?: number
  /** Broker configs on top of the test defaults. */
  overrides?: Record<string, string>
  /** Where the data directories (and broker logs) go: a new temporary directory by default, removed by close(). */
  root?: string
  /** Keep `root` at close() (a bench keeps its logs). */
  keepRoot?: boolean
  onEvent?: (event: ClusterEvent) => void
  /** Start the brokers one after the other in node id order (the first is the controller), not all at once. */
  sequentialStart?: boolean
  /**
   * Standby brokers: node ids brokers+1..brokers+standby, not started by start() — `startBroker(id)`
   * starts one later, holding no replica (a reassignment's target).
   */
  standby?: number
}

export interface ClusterEvent {
  /** ms since the cluster started */
  at: number
  what: string
}

export type BrokerState = 'running' | 'paused' | 'down'

/** The test defaults: short sessions, a small replicated __consumer_offsets, no rebalance delay. */
export function clusterOverrides(sessionTimeoutMs: number): Record<string, string> {
  return {
    'broker.session.timeout.ms': String(sessionTimeoutMs),
    'broker.heartbeat.interval.ms': String(Math.max(100, Math.floor(sessionTimeoutMs / 6))),
    'replica.lag.time.max.ms': String(sessionTimeoutMs),
    'offsets.topic.replication.factor': '3',
    'transaction.state.log.replication.factor': '3',
    'offsets.topic.num.partitions': '3',
    'transaction.state.log.num.partitions': '3',
    'group.initial.rebalance.delay.ms': '0',
  }
}

export class TestCluster {
  readonly events: ClusterEvent[] = []
  readonly nodeIds: number[]
  private readonly processes = new Map<number, BrokerProcess>()
  private readonly states = new Map<number, BrokerState>()
  private readonly ports = new Map<number, number>()
  private readonly logs = new Map<number, WriteStream>()
  private readonly started = Date.now()
  private etcd: (ManagedProcess & {endpoint: string}) | undefined
  private etcdPort = 0
  private readonly root: string
  readonly sessionTimeoutMs: number
  readonly metadataStore: string

  private constructor(private readonly options: ClusterOptions, etcdEndpoint: string, etcd: ManagedProcess & {endpoint: string}) {
    this.root = options.root!
    this.etcd = etcd
    this.etcdPort = Number(etcdEndpoint.split(':')[1])
    this.nodeIds = Array.from({length: (options.brokers ?? 3) + (options.standby ?? 0)}, (_, i) => i + 1)
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 3000
    this.metadataStore = `etcd://${etcdEndpoint}${options.prefix ?? '/kcli-faults'}`
  }

  /** Starts etcd and the brokers (node ids 1..N, not the standby ones); on a failure everything started is stopped. */
  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const root = options.root ?? tempDir('kcli-cluster-')
    mkdirSync(root, {recursive: true})
    let etcd: (ManagedProcess & {endpoint: string}) | undefined
    try {
      etcd = await startDevEtcd({dataDir: join(root, 'etcd')})
    } catch (error) {
      if (!options.keepRoot) removeDir(root)
      throw error
    }
    const cluster = new TestCluster({...options, root}, etcd.endpoint, etcd)
    try {
      cluster.event(`etcd started on ${etcd.endpoint}`)
      const first = cluster.nodeIds.slice(0, options.brokers ?? 3)
      if (options.sequentialStart) for (const id of first) await cluster.startBroker(id)
      // In parallel: each start costs seconds (tsx compiles the sources).
      else await Promise.all(first.map((id) => cluster.startBroker(id)))
      return cluster
    } catch (error) {
      await cluster.close()
      throw error
    }
  }

  get etcdEndpoint(): string {
    return `127.0.0.1:${this.etcdPort}`
  }

  event(what: string): void {
    const e = {at: Date.now() - this.started, what}
    this.events.push(e)
    this.options.onEvent?.(e)
  }

  dataDir(id: number): string {
    return join(this.root, `broker-${id}`)
  }

  state(id: number): BrokerState {
    return this.states.get(id) ?? 'down'
  }

  port(id: number): number {
    return this.ports.get(id)!
  }

  process(id: number): BrokerProcess | undefined {
    return this.processes.get(id)
  }

  /** Every broker's address (running or not: clients find the live ones; standby brokers once started). */
  bootstrap(): string {
    return this.nodeIds
      .filter((id) => this.ports.has(id))
      .map((id) => `127.0.0.1:${this.ports.get(id)}`)
      .join(',')
  }

  running(): number[] {
    return this.nodeIds.filter((id) => this.state(id) === 'running')
  }

  /** Starts broker `id` on its data directory (and its port, after the first start). */
  async startBroker(id: number): Promise<void> {
    if (this.state(id) !== 'down') throw new Error(`broker ${id} is ${this.state(id)}`)
    const dir = this.dataDir(id)
    mkdirSync(dir, {recursive: true})
    const overrides = {
      ...clusterOverrides(this.sessionTimeoutMs),
      ...this.options.overrides,
      'node.id': String(id),
      'metadata.store': this.metadataStore,
    }
    // A port just released by a killed broker may take a moment to be free again: retry a few times.
    let proc: BrokerProcess | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        proc = await spawnBroker(dir, overrides, this.ports.get(id) ?? 0)
        break
      } catch (error) {
        if (attempt >= 4 || !/EADDRINUSE|address already in use/i.test(String(error))) throw error
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    this.ports.set(id, proc.port)
    this.processes.set(id, proc)
    this.states.set(id, 'running')
    let log = this.logs.get(id)
    if (!log) {
      log = createWriteStream(join(this.root, `broker-${id}.log`), {flags: 'a'})
      this.logs.set(id, log)
    }
    const sink = log
    proc.child.stderr!.on('data', (d: Buffer) => sink.write(d))
    proc.child.once('exit', (code, signal) => {
      if (this.processes.get(id) === proc) {
        this.states.set(id, 'down')
        this.event(`broker ${id} exited (${code ?? signal})`)
      }
    })
    this.event(`broker ${id} started on port ${proc.port}`)
  }

  /** SIGKILL. */
  async kill(id: number): Promise<void> {
    const proc = this.processes.get(id)
    if (!proc || this.state(id) === 'down') return
    this.event(`SIGKILL broker ${id}`)
    this.states.set(id, 'down')
    await proc.kill('SIGKILL')
  }

  /** SIGTERM (a controlled shutdown); a paused broker is resumed first. */
  async shutdown(id: number): Promise<void> {
    const proc = this.processes.get(id)
    if (!proc || this.state(id) === 'down') return
    this.event(`SIGTERM broker ${id}`)
    proc.child.kill('SIGCONT')
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 30_000)
    await proc.kill('SIGTERM')
    clearTimeout(timer)
    this.states.set(id, 'down')
  }

  /** SIGSTOP: the process stays, answers nothing, its etcd session runs out. */
  pause(id: number): void {
    if (this.state(id) !== 'running') throw new Error(`broker ${id} is ${this.state(id)}`)
    this.event(`SIGSTOP broker ${id}`)
    this.processes.get(id)!.child.kill('SIGSTOP')
    this.states.set(id, 'paused')
  }

  /** SIGCONT. */
  resume(id: number): void {
    if (this.state(id) !== 'paused') return
    this.event(`SIGCONT broker ${id}`)
    this.processes.get(id)!.child.kill('SIGCONT')
    this.states.set(id, 'running')
  }

  /** Stops the broker (SIGKILL, or SIGTERM when `clean`) and starts it again on the same data directory and port. */
  async restart(id: number, opts: {clean?: boolean} = {}): Promise<void> {
    if (opts.clean) await this.shutdown(id)
    else await this.kill(id)
    await this.startBroker(id)
  }

  /** Stops etcd (SIGTERM; its data directory stays). */
  async stopEtcd(): Promise<void> {
    if (!this.etcd) return
    this.event('etcd stopped')
    await this.etcd.stop('SIGTERM', 10_000)
    this.etcd = undefined
  }

  /** Starts etcd again on the same data directory and client port. */
  async startEtcd(): Promise<void> {
    if (this.etcd) return
    for (let attempt = 0; ; attempt++) {
      try {
        this.etcd = await startDevEtcd({dataDir: join(this.root, 'etcd'), clientPort: this.etcdPort})
        break
      } catch (error) {
        if (attempt >= 4) throw error
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    this.event('etcd started again')
  }

  /** SIGSTOP etcd (unreachable, its state kept in memory). */
  pauseEtcd(): void {
    this.event('SIGSTOP etcd')
    this.etcd?.child.kill('SIGSTOP')
  }

  resumeEtcd(): void {
    this.event('SIGCONT etcd')
    this.etcd?.child.kill('SIGCONT')
  }

  /**
   * The partitions of `topic` as a running broker answers Metadata v12 (the first of `askOrder`,
   * default every running broker, that answers within 3 s); undefined if none answers.
   */
  async partitions(topic: string, askOrder: number[] = this.running()): Promise<PartitionInfo[] | undefined> {
    for (const id of askOrder) {
      if (this.state(id) !== 'running') continue
      let raw: RawClient | undefined
      try {
        raw = await RawClient.connect(this.port(id), 2_000)
        const response = await raw.request(ApiKey.Metadata, 12, {topics: [{name: topic, topicId: ZERO_UUID}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false}, 3_000)
        const t = toClusterMetadata(response).topics[0]
        if (t && t.errorCode === 0) return t.partitions
      } catch {
        // this broker is not answering: ask the next
      } finally {
        raw?.close()
      }
    }
    return undefined
  }

  /** The leader of a partition (-1 when none), or undefined when no broker answered. */
  async leaderOf(topic: string, partition: number): Promise<number | undefined> {
    const ps = await this.partitions(topic)
    return ps?.find((p) => p.partition === partition)?.leaderId
  }

  /** Polls `condition` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
  async waitFor<T>(what: string, condition: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = await condition().catch(() => undefined)
      if (value !== undefined && value !== false) return value
      if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /** Waits until every partition of `topic` has a live leader (not in `not`) and an ISR of at least `isr` (default: the brokers started at first) replicas, as the running brokers see it. */
  async waitForHealthy(topic: string, opts: {isr?: number; not?: number[]; timeoutMs?: number} = {}): Promise<PartitionInfo[]> {
    const isr = opts.isr ?? this.options.brokers ?? 3
    return this.waitFor(
      `${topic}: every partition led${opts.not?.length ? ` by a broker other than ${opts.not.join(',')}` : ''} with an ISR of ${isr}`,
      async () => {
        const ps = await this.partitions(topic)
        return ps && ps.length > 0 && ps.every((p) => p.leaderId >= 0 && this.state(p.leaderId) === 'running' && !(opts.not ?? []).includes(p.leaderId) && p.isr.length >= isr) ? ps : undefined
      },
      opts.timeoutMs ?? 60_000,
    )
  }

  /** Stops every broker cleanly (SIGCONT, SIGTERM) and keeps the data directories. */
  async shutdownAll(): Promise<void> {
    await Promise.all(this.nodeIds.map((id) => this.shutdown(id)))
  }

  /** Kills everything started here and removes the directories (unless keepRoot). */
  async close(): Promise<void> {
    for (const [id, proc] of this.processes) {
      proc.child.kill('SIGCONT')
      await proc.kill('SIGKILL')
      this.states.set(id, 'down')
    }
    if (this.etcd) {
      this.etcd.child.kill('SIGCONT')
      await this.etcd.stop('SIGKILL')
      this.etcd = undefined
    }
    await Promise.all([...this.logs.values()].map((log) => new Promise((resolve) => log.end(resolve))))
    if (!this.options.keepRoot) removeDir(this.root)
  }
}
