/**
 * The broker's Prometheus series (issue 16), in a prom-client Registry of its own (never the
 * global one: two brokers in one process, as the tests run them, keep apart). Every series is
 * computed at scrape time — counters from the tallies of broker-metrics.ts, gauges from the
 * broker's state (hosted partitions, the store's assignments, logs, committed offsets) — so a
 * scrape costs O(partitions + committed offsets) and the request path nothing but its tallies.
 *
 * Names map one to one to Kafka's MBeans, as Prometheus' JMX exporter names them (lower case,
 * `kafka_<domain>_<type>_<name>`, a `_total` suffix on counters, MBean tags as labels): the table
 * is in ARCHITECTURE.md ("src/server/metrics"). Kafka's meters (…PerSec) are counters here, to be
 * `rate()`d; its histograms (TotalTimeMs) Prometheus histograms in ms.
 */
import {collectDefaultMetrics, Counter, Gauge, Registry} from 'prom-client'
import {API_CODECS} from '../../lib/protocol/generated/index.js'
import type {MetadataStore, PartitionAssignment} from '../controller/metadata-store.js'
import type {GroupCoordinator} from '../coordinator/group-coordinator.js'
import type {ReplicaManager} from '../replica-manager.js'
import {type ApiTally, type BrokerMetrics, type Histogram, REQUEST_PHASES, REQUEST_TIME_BUCKETS_MS, type RequestPhase, type QuotaType, type TopicTally} from './broker-metrics.js'

/** What the gauges read from the broker, at scrape time. */
export interface BrokerStateView {
  nodeId: number
  metadata: MetadataStore
  replicas: ReplicaManager
  /** Whether this broker is the active controller (a single broker always is). */
  activeController(): boolean
  /** min.insync.replicas of a topic (its config, else the broker's). */
  minIsr(topic: string): number
  groups?: GroupCoordinator
}

/** Kafka's request names in its RequestMetrics tags (ApiKeys.name: Produce, Fetch). */
function requestName(apiKey: number): string {
  const codec = (API_CODECS as Record<number, {request: {name: string}} | undefined>)[apiKey]
  return codec ? codec.request.name.replace(/Request$/, '') : `ApiKey${apiKey}`
}

const PHASE_HELP: Record<RequestPhase, string> = {
  requestQueue: 'from the request read whole to its handling starting: waiting behind earlier requests of its connection',
  local: 'from its handling starting to its entry into a purgatory, else to its response encoded',
  remote: 'in a purgatory: an acks=all produce waiting for its ISR, a fetch long-polling, to its response encoded',
  responseQueue: 'from its response encoded to the connection writing it',
  responseSend: 'from the write starting to the socket taking the last byte',
  total: 'from the request read whole to its response sent',
}

type Sample = {metricName: string; labels: Record<string, string | number>; value: number}

/**
 * A Prometheus histogram (ms) from tallies kept as plain numbers: a duck-typed prom-client
 * metric, whose `get()` the Registry formats.
 */
function registerHistogram(registry: Registry, name: string, help: string, series: () => ReadonlyArray<readonly [Record<string, string>, Histogram]>): void {
  const metric = {
    name,
    help,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    async get() {
      const values: Sample[] = []
      for (const [labels, h] of series()) {
        let cumulative = 0
        REQUEST_TIME_BUCKETS_MS.forEach((le, i) => {
          cumulative += h.buckets[i]!
          values.push({metricName: `${name}_bucket`, labels: {...labels, le}, value: cumulative})
        })
        values.push({metricName: `${name}_bucket`, labels: {...labels, le: '+Inf'}, value: h.count})
        values.push({metricName: `${name}_sum`, labels, value: h.sumMs})
        values.push({metricName: `${name}_count`, labels, value: h.count})
      }
      return {name, help, type: metric.type, aggregator: metric.aggregator, values}
    },
  }
  registry.registerMetric(metric as never)
}

export function createMetricsRegistry(tallies: BrokerMetrics, state: BrokerStateView): Registry {
  const registry = new Registry()
  const registers = [registry]
  // The process: CPU, memory, heap, event loop delay, GC (prom-client's standard process_* and nodejs_* series).
  collectDefaultMetrics({register: registry})

  // ---- kafka.server:type=BrokerTopicMetrics (all topics without a topic label, each topic with one) ----
  const topicCounter = (name: string, mbean: string, field: keyof TopicTally) =>
    new Counter({
      name: `kafka_server_brokertopicmetrics_${name}_total`,
      help: `kafka.server:type=BrokerTopicMetrics,name=${mbean} (series without a topic label: all topics)`,
      labelNames: ['topic'],
      registers,
      collect() {
        // A deleted topic's series go (Kafka's BrokerTopicStats.removeMetrics); the first family collected prunes.
        if (field === 'messagesIn') for (const topic of tallies.topics.keys()) if (!state.metadata.topic(topic)) tallies.topicDeleted(topic)
        this.reset()
        this.inc(tallies.allTopics[field])
        for (const [topic, t] of tallies.topics) this.inc({topic}, t[field])
      },
    })
  topicCounter('messagesin', 'MessagesInPerSec', 'messagesIn')
  topicCounter('bytesin', 'BytesInPerSec', 'bytesIn')
  topicCounter('bytesout', 'BytesOutPerSec', 'bytesOut')
  topicCounter('bytesrejected', 'BytesRejectedPerSec', 'bytesRejected')
  for (const [name, mbean, field] of [
    ['replicationbytesin', 'ReplicationBytesInPerSec', 'replicationIn'],
    ['replicationbytesout', 'ReplicationBytesOutPerSec', 'replicationOut'],
  ] as const) {
    new Counter({
      name: `kafka_server_brokertopicmetrics_${name}_total`,
      help: `kafka.server:type=BrokerTopicMetrics,name=${mbean} (all topics)`,
      registers,
      collect() {
        this.reset()
        this.inc(tallies[field])
      },
    })
  }

  // ---- kafka.network:type=RequestMetrics ----
  /** The tallies of each request name: every API, and Fetch split again as FetchConsumer and FetchFollower (as Kafka). */
  const requestTallies = (): Array<[string, ApiTally]> => {
    const out: Array<[string, ApiTally]> = []
    tallies.apis.forEach((api, apiKey) => {
      if (api) out.push([requestName(apiKey), api])
    })
    if (tallies.fetchConsumer.total.count > 0) out.push(['FetchConsumer', tallies.fetchConsumer])
    if (tallies.fetchFollower.total.count > 0) out.push(['FetchFollower', tallies.fetchFollower])
    return out
  }
  new Counter({
    name: 'kafka_network_requestmetrics_requests_total',
    help: 'kafka.network:type=RequestMetrics,name=RequestsPerSec,request=<api>,version=<v> (requests answered; Fetch also as FetchConsumer and FetchFollower)',
    labelNames: ['request', 'version'],
    registers,
    collect() {
      this.reset()
      for (const [request, api] of requestTallies()) {
        api.perVersion.forEach((n, version) => {
          if (n) this.inc({request, version}, n)
        })
      }
    },
  })
  for (const [phase, mbean] of REQUEST_PHASES) {
    registerHistogram(registry, `kafka_network_requestmetrics_${mbean.toLowerCase()}`, `kafka.network:type=RequestMetrics,name=${mbean},request=<api> (ms; ${PHASE_HELP[phase]})`, () =>
      requestTallies().map(([request, api]) => [{request}, api[phase]] as const),
    )
  }

  // ---- kafka.server:type=DelayedOperationPurgatory,delayedOperation=Produce|Fetch ----
  new Gauge({
    name: 'kafka_server_delayedoperationpurgatory_purgatorysize',
    help: 'kafka.server:type=DelayedOperationPurgatory,name=PurgatorySize,delayedOperation=<Produce|Fetch> (operations watched: an acks=all produce once per partition it waits on, a long-polling fetch once per partition it watches)',
    labelNames: ['delayedOperation'],
    registers,
    collect() {
      this.set({delayedOperation: 'Produce'}, state.replicas.producePurgatorySize)
      this.set({delayedOperation: 'Fetch'}, state.replicas.fetchWatched)
    },
  })
  new Gauge({
    name: 'kafka_server_delayedoperationpurgatory_numdelayedoperations',
    help: 'kafka.server:type=DelayedOperationPurgatory,name=NumDelayedOperations,delayedOperation=<Produce|Fetch> (requests waiting: acks=all produces, long-polling fetches)',
    labelNames: ['delayedOperation'],
    registers,
    collect() {
      this.set({delayedOperation: 'Produce'}, tallies.delayedProduce)
      this.set({delayedOperation: 'Fetch'}, tallies.delayedFetch)
    },
  })

  // ---- kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent ----
  // Kafka: the fraction of time its network threads wait in select(). Here one event loop does the
  // network and the handling: the fraction of time it was idle (waiting in epoll), 1 - node's
  // event loop utilization, over the time since the previous scrape (at least a second apart;
  // since the process started at the first). Brokers sharing a process share their loop.
  let idleSince = performance.eventLoopUtilization()
  let idleAt = 0
  let idle = 1 - idleSince.utilization
  new Gauge({
    name: 'kafka_network_socketserver_networkprocessoravgidlepercent',
    help: 'kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent (0..1: the event loop\'s idle fraction, 1 - event loop utilization, since the previous scrape)',
    registers,
    collect() {
      const now = performance.now()
      if (now - idleAt >= 1000) {
        const current = performance.eventLoopUtilization()
        idle = 1 - performance.eventLoopUtilization(current, idleSince).utilization
        idleSince = current
        idleAt = now
      }
      this.set(idle)
    },
  })

  // ---- kafka.log:type=LogFlushStats,name=LogFlushRateAndTimeMs ----
  registerHistogram(registry, 'kafka_log_logflushstats_logflushrateandtimems', 'kafka.log:type=LogFlushStats,name=LogFlushRateAndTimeMs (ms per fsync of a log: flush.messages, flush.ms, a segment roll; rate() its _count)', () => [[{}, tallies.logFlush] as const])

  // ---- kafka.server:type=socket-server-metrics,listener=<name> ----
  new Gauge({
    name: 'kafka_server_socket_server_metrics_connection_count',
    help: 'kafka.server:type=socket-server-metrics,listener=<name> connection-count',
    labelNames: ['listener'],
    registers,
    collect() {
      this.reset()
      for (const [listener, l] of tallies.listeners) this.set({listener}, l.created - l.closed)
    },
  })
  const connectionCounter = (name: string, field: 'created' | 'closed', attribute: string) =>
    new Counter({
      name: `kafka_server_socket_server_metrics_${name}_total`,
      help: `kafka.server:type=socket-server-metrics,listener=<name> ${attribute}`,
      labelNames: ['listener'],
      registers,
      collect() {
        this.reset()
        for (const [listener, l] of tallies.listeners) this.inc({listener}, l[field])
      },
    })
  connectionCounter('connection_creation', 'created', 'connection-creation-total')
  connectionCounter('connection_close', 'closed', 'connection-close-total')

  // ---- kafka.server:type=ReplicaManager ----
  /** One pass over the hosted partitions per scrape, shared by the gauges below. */
  let snapshot: {at: number; value: ReturnType<typeof replicaCounts>} | undefined
  const counts = () => {
    const now = Date.now()
    if (!snapshot || now - snapshot.at > 100) snapshot = {at: now, value: replicaCounts(state)}
    return snapshot.value
  }
  const replicaGauge = (name: string, mbean: string, field: keyof ReturnType<typeof replicaCounts>) =>
    new Gauge({
      name,
      help: mbean,
      registers,
      collect() {
        this.set(counts()[field])
      },
    })
  replicaGauge('kafka_server_replicamanager_underreplicatedpartitions', 'kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions (partitions this broker leads whose ISR is smaller than their replicas, adding replicas of a reassignment not counted)', 'underReplicated')
  replicaGauge('kafka_server_replicamanager_underminisrpartitioncount', 'kafka.server:type=ReplicaManager,name=UnderMinIsrPartitionCount (partitions this broker leads whose ISR is below min.insync.replicas)', 'underMinIsr')
  replicaGauge('kafka_server_replicamanager_leadercount', 'kafka.server:type=ReplicaManager,name=LeaderCount', 'leaders')
  replicaGauge('kafka_server_replicamanager_partitioncount', 'kafka.server:type=ReplicaManager,name=PartitionCount', 'partitions')
  new Counter({
    name: 'kafka_server_replicamanager_isrshrinks_total',
    help: 'kafka.server:type=ReplicaManager,name=IsrShrinksPerSec',
    registers,
    collect() {
      this.reset()
      this.inc(tallies.isrShrinks)
    },
  })
  new Counter({
    name: 'kafka_server_replicamanager_isrexpands_total',
    help: 'kafka.server:type=ReplicaManager,name=IsrExpandsPerSec',
    registers,
    collect() {
      this.reset()
      this.inc(tallies.isrExpands)
    },
  })

  // ---- kafka.controller ----
  new Gauge({
    name: 'kafka_controller_kafkacontroller_activecontrollercount',
    help: 'kafka.controller:type=KafkaController,name=ActiveControllerCount',
    registers,
    collect() {
      this.set(state.activeController() ? 1 : 0)
    },
  })
  const controllerGauge = (name: string, mbean: string, value: () => number) =>
    new Gauge({
      name,
      help: `${mbean} (the active controller reports it; 0 on the other brokers)`,
      registers,
      collect() {
        this.set(state.activeController() ? value() : 0)
      },
    })
  controllerGauge('kafka_controller_kafkacontroller_offlinepartitionscount', 'kafka.controller:type=KafkaController,name=OfflinePartitionsCount', () => offlinePartitions(state.metadata))
  controllerGauge('kafka_controller_kafkacontroller_globaltopiccount', 'kafka.controller:type=KafkaController,name=GlobalTopicCount', () => state.metadata.topics().length)
  controllerGauge('kafka_controller_kafkacontroller_globalpartitioncount', 'kafka.controller:type=KafkaController,name=GlobalPartitionCount', () => state.metadata.topics().reduce((n, t) => n + t.partitions.length, 0))
  new Counter({
    name: 'kafka_controller_controllerstats_leaderelections_total',
    help: 'kafka.controller:type=ControllerStats,name=LeaderElectionRateAndTimeMs (its count: leaders elected by this broker as active controller)',
    registers,
    collect() {
      this.reset()
      this.inc(tallies.leaderElections)
    },
  })
  new Counter({
    name: 'kafka_controller_controllerstats_uncleanleaderelections_total',
    help: 'kafka.controller:type=ControllerStats,name=UncleanLeaderElectionsPerSec',
    registers,
    collect() {
      this.reset()
      this.inc(tallies.uncleanLeaderElections)
    },
  })

  // ---- quota throttles: kafka.server:type=<Produce|Fetch|Request|ControllerMutation>,user=*,client-id=* throttle-time ----
  for (const type of ['Produce', 'Fetch', 'Request', 'ControllerMutation'] as QuotaType[]) {
    const lower = type.toLowerCase()
    new Counter({
      name: `kafka_server_${lower}_throttle_time_ms_total`,
      help: `kafka.server:type=${type},user=*,client-id=* throttle-time, summed over users and client ids: ms of throttle given to clients`,
      registers,
      collect() {
        this.reset()
        this.inc(tallies.throttle[type].timeMs)
      },
    })
    new Counter({
      name: `kafka_server_${lower}_throttled_responses_total`,
      help: `Responses throttled by a ${type} quota (the count of kafka.server:type=${type} throttle-time samples)`,
      registers,
      collect() {
        this.reset()
        this.inc(tallies.throttle[type].count)
      },
    })
  }

  // ---- kafka.coordinator.group:type=GroupMetadataManager ----
  new Gauge({
    name: 'kafka_coordinator_group_groupmetadatamanager_numgroups',
    help: 'kafka.coordinator.group:type=GroupMetadataManager,name=NumGroups (groups this broker coordinates)',
    registers,
    collect() {
      this.set(state.groups?.groupCount ?? 0)
    },
  })
  new Gauge({
    name: 'kafka_coordinator_group_groupmetadatamanager_numoffsets',
    help: 'kafka.coordinator.group:type=GroupMetadataManager,name=NumOffsets (committed offsets this broker holds)',
    registers,
    collect() {
      let n = 0
      if (state.groups) for (const _ of state.groups.committedOffsets()) n++
      this.set(n)
    },
  })

  if (tallies.perTopic) {
    // ---- kafka.log:type=Log,topic=<t>,partition=<p> ----
    const logGauge = (name: string, mbean: string, value: (p: ReturnType<ReplicaManager['all']>[number]) => number) =>
      new Gauge({
        name: `kafka_log_log_${name}`,
        help: `kafka.log:type=Log,name=${mbean},topic=<t>,partition=<p>`,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          this.reset()
          for (const p of state.replicas.all()) this.set({topic: p.topic, partition: p.partition}, value(p))
        },
      })
    logGauge('size', 'Size', (p) => p.log.size)
    logGauge('numlogsegments', 'NumLogSegments', (p) => p.log.numberOfSegments)
    logGauge('logstartoffset', 'LogStartOffset', (p) => p.log.logStartOffset)
    logGauge('logendoffset', 'LogEndOffset', (p) => p.log.logEndOffset)

    // ---- consumer group lag (no Kafka MBean: kafka_exporter's name) ----
    new Gauge({
      name: 'kafka_consumergroup_lag',
      help: 'Consumer group lag: high watermark minus committed offset, for the groups this broker coordinates and the partitions it hosts (kafka_exporter\'s series; Kafka has no broker MBean for it)',
      labelNames: ['consumergroup', 'topic', 'partition'],
      registers,
      collect() {
        this.reset()
        const groups = state.groups
        if (!groups) return
        for (const {group, topic, partition, offset} of groups.committedOffsets()) {
          const p = state.replicas.get(topic, partition)
          if (p) this.set({consumergroup: group, topic, partition}, Math.max(0, p.highWatermark - offset))
        }
      },
    })
  }
  return registry
}

function replicaCounts(state: BrokerStateView): {underReplicated: number; underMinIsr: number; leaders: number; partitions: number} {
  let underReplicated = 0
  let underMinIsr = 0
  let leaders = 0
  let partitions = 0
  const assignments = new Map<string, PartitionAssignment[]>()
  for (const p of state.replicas.all()) {
    partitions++
    if (!state.replicas.leads(p)) continue
    leaders++
    let assigned = assignments.get(p.topic)
    if (!assigned) assignments.set(p.topic, (assigned = state.metadata.topic(p.topic)?.partitions ?? []))
    const adding = assigned[p.partition]?.partition === p.partition ? (assigned[p.partition]!.addingReplicas?.length ?? 0) : 0
    // Kafka's Partition.isUnderReplicated: replication factor (adding replicas excluded) above the ISR.
    if (p.replicas.length - adding > p.isr.length) underReplicated++
    if (p.isr.length < state.minIsr(p.topic)) underMinIsr++
  }
  return {underReplicated, underMinIsr, leaders, partitions}
}

/** Partitions without a leader, or whose leader is not registered: Kafka's OfflinePartitionsCount. */
function offlinePartitions(metadata: MetadataStore): number {
  const live = new Set(metadata.brokers().map((b) => b.nodeId))
  let offline = 0
  for (const t of metadata.topics()) for (const p of t.partitions) if (p.leader < 0 || !live.has(p.leader)) offline++
  return offline
}
