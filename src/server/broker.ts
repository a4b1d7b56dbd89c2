/**
 * The broker's lifecycle: start (data directory, metadata, partition logs, listeners), serve,
 * and controlled shutdown (stop accepting, answer what was read, flush and close the logs). A
 * start whose listeners cannot bind stops what it had started and rejects with the ListenerBindError.
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import type {ResolvedBrokerConfig, SecurityProtocol} from '../lib/config/broker-configs.js'
import type {BrokerServices} from './broker-services.js'
import {LocalMetadataStore} from './controller/local-metadata-store.js'
import {type MetadataStore, MetadataStoreError} from './controller/metadata-store.js'
import {ClusterController} from './controller/cluster-controller.js'
import {ProducerIdManager} from './controller/producer-id-manager.js'
import {effectiveTopicConfigs, TopicManager} from './controller/topic-manager.js'
import {GroupCoordinator} from './coordinator/group-coordinator.js'
import {TransactionCoordinator} from './coordinator/transaction-coordinator.js'
import type {ApiHandler} from './handlers/handler.js'
import {ClientQuotaManager} from './quotas/client-quota-manager.js'
import {FetchSessionCache} from './fetch-sessions.js'
import {HANDLERS} from './handlers/index.js'
import type {Logger} from './logger.js'
import {SocketServer, type BoundListener, type ListenerConfig} from './network/socket-server.js'
import {logConfigFromTopicConfigs} from './log/log-config.js'
import {LogManager} from './log/log-manager.js'
import {NodeFileSystem} from './log/fs.js'
import {ReplicaManager} from './replica-manager.js'
import {ReplicaFetcherManager} from './replication/replica-fetcher.js'
import {ReplicationThrottle} from './replication/throttle.js'
import {resolveInterBrokerClient} from './replication/inter-broker.js'
import {kcliDataHome} from './dev-cluster.js'
import {HandlerRegistry} from './request-dispatcher.js'
import {resolveListenerSecurity} from './security/listener-security.js'
import {Authorizer, authorizerOptions} from './security/authorizer.js'
import {BrokerLoggers, COMPONENT_LOGGERS} from './broker-loggers.js'
import {BrokerMetrics} from './metrics/broker-metrics.js'
import type {MetricsServer} from './metrics/metrics-server.js'
import {evaluateReadiness, type Readiness} from './metrics/readiness.js'
import type {Registry} from 'prom-client'

/** Where the embedded broker keeps its data when log.dirs is not set. */
export function defaultDataDir(): string {
  return join(kcliDataHome(), 'data')
}

/** Bytes of read-ahead requests per connection before reading pauses. */
const DEFAULT_QUEUED_BYTES = 16 * 1024 * 1024

export interface BrokerStatus {
  nodeId: number
  clusterId: string
  dataDir: string
  listeners: Array<{name: string; host: string; port: number; securityProtocol: SecurityProtocol}>
  /** metrics.listener (issue 16), with the port it got: http://host:port. */
  metricsListener?: string
}

export interface BrokerOptions {
  /**
   * Tests: awaited once the metrics listener is bound and before anything else starts, so a test
   * can see the broker alive (/healthz) and not ready (/readyz) while it starts.
   */
  startupBarrier?: Promise<void>
}

export class Broker {
  private socketServer?: SocketServer
  private metadata?: MetadataStore
  private replicas?: ReplicaManager
  private groups?: GroupCoordinator
  private transactions?: TransactionCoordinator
  private registry?: HandlerRegistry
  private controller?: ClusterController
  private topics?: TopicManager
  private stopping?: Promise<void>
  private metricsServer?: MetricsServer
  private metricsRegistry: Registry | null = null
  private phase: 'starting' | 'serving' | 'stopping' = 'starting'
  /** Metric tallies (issue 16), when metrics.listener is set. */
  readonly metrics?: BrokerMetrics
  readonly dataDir: string
  /** Where the broker listens, once started. */
  status?: BrokerStatus

  constructor(
    readonly config: ResolvedBrokerConfig,
    readonly log: Logger,
    private readonly handlers: readonly ApiHandler[] = HANDLERS,
    private readonly options: BrokerOptions = {},
  ) {
    this.dataDir = resolve(config.logDir ?? defaultDataDir())
    if (config.metricsListener) this.metrics = new BrokerMetrics(config.bool('metrics.topic.labels.enable'))
  }

  /** The port of the metrics listener, once bound (metrics.listener with port 0 picks one). */
  get metricsPort(): number | undefined {
    return this.metricsServer?.port
  }

  /** /readyz: whether this broker serves its share of the cluster (metrics/readiness.ts). */
  readiness(): Readiness {
    return evaluateReadiness({
      phase: this.phase,
      nodeId: this.config.nodeId,
      metadata: this.metadata,
      replicas: this.replicas,
      coordinatorsLoading: () => {
        const loading: string[] = []
        for (const [p, state] of this.groups?.ownedPartitions() ?? []) if (state === 'loading') loading.push(`__consumer_offsets-${p}`)
        for (const [p, state] of this.transactions?.ownedPartitions() ?? []) if (state === 'loading') loading.push(`__transaction_state-${p}`)
        return loading
      },
    })
  }

  async start(): Promise<BrokerStatus> {
    const {config} = this
    // Keystores, JAAS users, mechanisms: a ConfigError naming the key before anything is opened.
    const listeners = config.listeners.map((l) => ({name: l.name, host: l.host, port: l.port, security: resolveListenerSecurity(config, l)}))
    const interBroker = resolveInterBrokerClient(config)
    // The metrics listener binds first (issue 16): /healthz answers and /readyz says "starting"
    // during log recovery; a port in use fails the start before anything is opened.
    const registryModule = config.metricsListener ? import('./metrics/metrics-registry.js') : undefined
    if (config.metricsListener) {
      const {MetricsServer} = await import('./metrics/metrics-server.js')
      const server = new MetricsServer({...config.metricsListener, registry: () => this.metricsRegistry, readiness: () => this.readiness()})
      await server.start()
      this.metricsServer = server
    }
    try {
      await this.options.startupBarrier
      const status = await this.startServing(listeners, interBroker)
      if (registryModule) {
        const {createMetricsRegistry} = await registryModule
        const {metadata, replicas, controller, groups, topics} = this
        this.metricsRegistry = createMetricsRegistry(this.metrics!, {
          nodeId: config.nodeId,
          metadata: metadata!,
          replicas: replicas!,
          activeController: () => (controller ? controller.active : true),
          minIsr: (name) => {
            const topic = metadata!.topic(name)
            return Number((topic && topics?.effectiveConfigs(topic)['min.insync.replicas']) ?? config.int('min.insync.replicas'))
          },
          groups,
        })
        status.metricsListener = `http://${config.metricsListener!.host.includes(':') ? `[${config.metricsListener!.host}]` : config.metricsListener!.host}:${this.metricsServer!.port}`
      }
      if (this.phase === 'starting') this.phase = 'serving'
      this.log.info(status, 'broker started')
      return status
    } catch (error) {
      this.phase = 'stopping'
      await this.metricsServer?.stop()
      throw error
    }
  }

  private async startServing(listeners: ListenerConfig[], interBroker: ReturnType<typeof resolveInterBrokerClient>): Promise<BrokerStatus> {
    const {config, log} = this
    // One logger per component (Kafka's logger names), each settable through broker-loggers.
    const loggers = BrokerLoggers.for(log)
    // All of them, whether or not this broker runs the component (a single broker has no fetcher): one list to describe.
    for (const name of Object.values(COMPONENT_LOGGERS)) loggers.component(name)
    await mkdir(this.dataDir, {recursive: true})
    const metadata = await this.openMetadataStore()
    this.metadata = metadata
    try {
      await this.writeMetaProperties(metadata.clusterId)
    } catch (error) {
      await metadata.close()
      throw error
    }
    let topics!: TopicManager
    const topicConfigs = (name: string) => {
      const topic = metadata.topic(name)
      if (!topic) return config.topicDefaults()
      // The logs load before the TopicManager exists (it needs the ReplicaManager, which needs them).
      return topics ? topics.effectiveConfigs(topic) : effectiveTopicConfigs(metadata, config, topic)
    }
    const logs = await LogManager.open({
      fs: new NodeFileSystem(),
      dataDir: this.dataDir,
      configFor: (name) => logConfigFromTopicConfigs(topicConfigs(name)),
      retentionCheckIntervalMs: config.int('log.retention.check.interval.ms'),
      ...(this.metrics ? {onFlush: (ms: number) => this.metrics!.logFlushed(ms)} : {}),
    })
    for (const [partition, report] of logs.recoveryReports) {
      if (report && report.truncatedBytes > 0) log.warn({partition, report}, 'recovery truncated a torn or invalid tail')
    }
    logs.start()
    // A cluster's store (etcd): followers fetch from leaders, and one broker is the controller.
    const clustered = metadata.alterPartition !== undefined
    const fetchers = clustered
      ? new ReplicaFetcherManager({
          nodeId: config.nodeId,
          endpoint: (id) => {
            const registration = metadata.brokers().find((b) => b.nodeId === id)
            return registration && interBroker.endpoint(registration)
          },
          security: interBroker.security,
          throttle: new ReplicationThrottle('follower', config.nodeId, metadata, (t) => topics.effectiveConfigs(t)),
          maxBytes: config.int('replica.fetch.max.bytes'),
          responseMaxBytes: config.int('replica.fetch.response.max.bytes'),
          maxWaitMs: config.int('replica.fetch.wait.max.ms'),
          minBytes: config.int('replica.fetch.min.bytes'),
          backoffMs: config.int('replica.fetch.backoff.ms'),
          socketTimeoutMs: config.int('replica.socket.timeout.ms'),
          log: loggers.component(COMPONENT_LOGGERS.replicaFetcher),
          metrics: this.metrics,
        })
      : undefined
    const replicas = new ReplicaManager({
      nodeId: config.nodeId,
      logs,
      log: loggers.component(COMPONENT_LOGGERS.replicaManager),
      metadata,
      topicConfigs: (t) => topics.effectiveConfigs(t),
      topicConfig: (t, name) => topics.effectiveConfig(t, name),
      replicaLagTimeMaxMs: config.int('replica.lag.time.max.ms'),
      fetchers,
      metrics: this.metrics,
      ...(clustered ? {leaderThrottle: new ReplicationThrottle('leader', config.nodeId, metadata, (t) => topics.effectiveConfigs(t))} : {}),
    })
    this.replicas = replicas
    topics = new TopicManager(metadata, replicas, config)
    this.topics = topics
    if (clustered) {
      this.controller = new ClusterController({
        nodeId: config.nodeId,
        metadata,
        log: loggers.component(COMPONENT_LOGGERS.controller),
        uncleanElection: (topic) => topics.effectiveConfigs(topic)['unclean.leader.election.enable'] === 'true',
        metrics: this.metrics,
        ...(config.bool('auto.leader.rebalance.enable') ? {autoLeaderRebalance: {percentage: config.int('leader.imbalance.per.broker.percentage'), intervalMs: config.int('leader.imbalance.check.interval.seconds') * 1000}} : {}),
      })
    }
    await replicas.reconcile(() => metadata.topics())
    // In a cluster, topics created, changed or deleted through other brokers (and while this one
    // was down, above), leaders elected and ISRs changed reach this broker through the store.
    // Topic configs and dynamic broker configs changed through another broker reach the logs here.
    let seenConfigs = configFingerprints(metadata, config.nodeId)
    metadata.onChange?.(() => {
      this.controller?.poke()
      const configs = configFingerprints(metadata, config.nodeId)
      if (configs.brokers !== seenConfigs.brokers) topics.brokerConfigsChanged()
      for (const topic of metadata.topics()) {
        if (configs.brokers !== seenConfigs.brokers || configs.topics.get(topic.name) !== seenConfigs.topics.get(topic.name)) replicas.updateConfigs(topic)
      }
      seenConfigs = configs
      replicas.reconcile(() => metadata.topics()).catch((error: unknown) => log.error({err: error}, 'reconciling partitions with the metadata store failed'))
    })
    this.controller?.poke()
    const groups = await GroupCoordinator.start({metadata, topics, replicas, config, log: loggers.component(COMPONENT_LOGGERS.groupCoordinator)})
    this.groups = groups
    const producerIds = new ProducerIdManager(metadata)
    const transactions = await TransactionCoordinator.start({interBroker, metadata, topics, replicas, producerIds, config, groups, log: loggers.component(COMPONENT_LOGGERS.transactionCoordinator), abortIntervalMs: config.int('transaction.abort.timed.out.transaction.cleanup.interval.ms')})
    this.transactions = transactions

    let bound: BoundListener[] = []
    const quotas = new ClientQuotaManager(metadata, {samples: config.int('quota.window.num'), windowMs: config.int('quota.window.size.seconds') * 1000})
    quotas.metrics = this.metrics
    const services: BrokerServices = {
      nodeId: config.nodeId,
      dataDir: this.dataDir,
      config,
      metadata,
      topics,
      replicas,
      producerIds,
      groups,
      transactions,
      fetchSessions: new FetchSessionCache(),
      authorizer: new Authorizer(authorizerOptions(config), metadata),
      quotas,
      log: loggers.component(COMPONENT_LOGGERS.requests),
      metrics: this.metrics,
      handlers: () => this.registry!.handlers,
      advertisedListener: (name) => {
        const advertised = config.advertisedListeners.find((l) => l.name === name)
        const actual = bound.find((l) => l.name === name) ?? bound[0]!
        // A listener on port 0 advertises the port it got; on 0.0.0.0, the loopback address.
        const port = advertised && advertised.port !== 0 ? advertised.port : actual.boundPort
        const host = advertised && advertised.host !== '0.0.0.0' ? advertised.host : '127.0.0.1'
        return {host, port}
      },
    }
    this.registry = new HandlerRegistry(this.handlers, () => services)
    const queued = config.int('queued.max.request.bytes')
    this.socketServer = new SocketServer(
      {
        listeners,
        maxRequestBytes: config.int('socket.request.max.bytes'),
        maxQueuedBytes: queued > 0 ? queued : DEFAULT_QUEUED_BYTES,
        idleTimeoutMs: config.int('connections.max.idle.ms'),
        maxConnections: config.int('max.connections'),
        log: loggers.component(COMPONENT_LOGGERS.network),
        metrics: this.metrics,
      },
      this.registry,
    )
    try {
      bound = await this.socketServer.start()
    } catch (error) {
      // A listener could not bind (ListenerBindError): stop what started, so nothing is left running.
      await this.stop()
      throw error
    }
    // A cluster's brokers find each other by their registrations: with the address clients use.
    const first = services.advertisedListener(config.advertisedListeners[0]!.name)
    const advertised = config.advertisedListeners.map((l) => ({name: l.name, ...services.advertisedListener(l.name), securityProtocol: config.listeners.find((x) => x.name === l.name)?.securityProtocol ?? 'PLAINTEXT'}))
    await metadata.updateRegistration?.({nodeId: config.nodeId, host: first.host, port: first.port, rack: config.get('broker.rack'), listeners: advertised})
    const status: BrokerStatus = {
      nodeId: config.nodeId,
      clusterId: metadata.clusterId,
      dataDir: this.dataDir,
      listeners: bound.map((l) => ({name: l.name, host: l.host, port: l.boundPort, securityProtocol: l.securityProtocol})),
    }
    this.status = status
    return status
  }

  get connectionCount(): number {
    return this.socketServer?.connectionCount ?? 0
  }

  /** Controlled shutdown; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.phase = 'stopping'
      this.log.info('broker shutting down')
      // How long each step took, in the last log line: a slow stop says where it waited.
      const ms: Record<string, number> = {}
      const step = async (name: string, run: () => Promise<void> | void) => {
        const started = performance.now()
        await run()
        ms[name] = Math.round(performance.now() - started)
      }
      await step('controlledShutdown', () => this.controlledShutdown())
      this.controller?.close()
      // Group requests waiting for a rebalance are answered NOT_COORDINATOR first, so that the
      // listeners do not wait for them to finish.
      await step('groups', () => this.groups?.shutdown())
      await step('transactions', () => this.transactions?.shutdown())
      await step('listeners', () => this.socketServer?.stop())
      await step('replicas', () => this.replicas?.shutdown())
      await step('metadata', () => this.metadata?.close())
      await step('metrics', () => this.metricsServer?.stop())
      this.log.info({ms}, 'broker stopped')
    })()
    return this.stopping
  }

  /**
   * Controlled shutdown (a cluster, controlled.shutdown.enable): the registration says this broker
   * is shutting down, the controller hands the leadership of its partitions to other in-sync
   * replicas and takes it out of the ISRs; this waits until it leads no partition that another
   * in-sync replica could lead, at most controlled.shutdown.max.retries rounds of
   * controlled.shutdown.retry.backoff.ms, then the broker stops as a single broker does.
   */
  private async controlledShutdown(): Promise<void> {
    const {metadata, replicas, config, log} = this
    if (!metadata?.requestControlledShutdown || !replicas || !this.status || !config.bool('controlled.shutdown.enable')) return
    const started = Date.now()
    try {
      await metadata.requestControlledShutdown()
    } catch (error) {
      log.warn({err: error}, 'controlled shutdown: could not tell the controller; stopping without it')
      return
    }
    const movable = () => {
      // Once per check, not per partition: with 1,000 partitions this runs every 50 ms.
      const others = new Set(metadata.brokers().filter((b) => b.nodeId !== config.nodeId && !b.shuttingDown).map((b) => b.nodeId))
      return replicas.all().filter((p) => replicas.leads(p) && p.isr.some((id) => others.has(id)))
    }
    const deadline = started + config.int('controlled.shutdown.max.retries') * config.int('controlled.shutdown.retry.backoff.ms')
    while (movable().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    const left = movable()
    if (left.length > 0) log.warn({partitions: left.length, ms: Date.now() - started}, 'controlled shutdown: some leadership did not move in time; stopping anyway')
    else log.info({ms: Date.now() - started}, 'controlled shutdown: leadership moved to other in-sync replicas')
  }

  /** The embedded store in the data directory, or the cluster's etcd (metadata.store). */
  private async openMetadataStore(): Promise<MetadataStore> {
    const {config, log} = this
    const advertised = config.advertisedListeners[0]!
    const self = {nodeId: config.nodeId, host: advertised.host, port: advertised.port, rack: config.get('broker.rack')}
    const location = config.metadataStore
    if (location.kind === 'local') return LocalMetadataStore.open(this.dataDir, self)
    // etcd3 (gRPC) is loaded only by brokers that use it.
    const {EtcdMetadataStore} = await import('./controller/etcd-metadata-store.js')
    return EtcdMetadataStore.open({
      endpoints: location.endpoints,
      prefix: location.prefix,
      self,
      sessionTimeoutMs: config.int('broker.session.timeout.ms'),
      heartbeatIntervalMs: config.int('broker.heartbeat.interval.ms'),
      onSessionLost: (reason) => {
        log.error({reason}, 'lost the etcd session: leading nothing (fenced) until it is back; rejoining when etcd answers')
        this.replicas?.sessionLost()
      },
      onSessionRestored: () => log.info('etcd session restored'),
    })
  }

  /** Kafka's meta.properties: which cluster and node this data directory belongs to. */
  private async writeMetaProperties(clusterId: string): Promise<void> {
    const path = join(this.dataDir, 'meta.properties')
    let existing: string | undefined
    try {
      existing = await readFile(path, 'utf8')
    } catch {
      existing = undefined
    }
    const nodeLine = /^node\.id=(\d+)$/m.exec(existing ?? '')
    if (nodeLine && Number(nodeLine[1]) !== this.config.nodeId) {
      throw new Error(`${path} belongs to node.id=${nodeLine[1]}, not ${this.config.nodeId}`)
    }
    const clusterLine = /^cluster\.id=(\S+)$/m.exec(existing ?? '')
    if (clusterLine && clusterLine[1] !== clusterId) {
      throw new MetadataStoreError(
        `The data directory ${this.dataDir} belongs to cluster ${clusterLine[1]}, but the metadata store (${this.config.get('metadata.store') ?? 'local'}) holds cluster ${clusterId}: use another data directory or the cluster's metadata store`,
      )
    }
    if (existing === undefined) {
      await writeFile(path, `#\n#${new Date().toString()}\nnode.id=${this.config.nodeId}\nversion=1\ncluster.id=${clusterId}\n`)
    }
  }
}

/** What the configs of a cluster's store are now, to notice changes made through other brokers. */
function configFingerprints(metadata: MetadataStore, nodeId: number): {brokers: string; topics: Map<string, string>} {
  return {
    brokers: JSON.stringify([metadata.brokerConfigs(''), metadata.brokerConfigs(nodeId)]),
    topics: new Map(metadata.topics().map((t) => [t.name, JSON.stringify(t.configs)])),
  }
}
