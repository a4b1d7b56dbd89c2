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
import {type BrokerMetrics, REQUEST_TIME_BUCKETS_MS, type QuotaType, type TopicTally} from './broker-metrics.js'

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

/** Kafka's request names in its RequestMetrics tags (ApiKeys.name: Produce, FetchConsumer is not split here). */
function requestName(apiKey: number): string {
  const codec = (API_CODECS as Record<number, {request: {name: string}} | undefined>)[apiKey]
  return codec ? codec.request.name.replace(/Request$/, '') : `ApiKey${apiKey}`
}

/** A duck-typed prom-client metric: the Registry formats whatever `get()` returns. */
interface CustomMetric {
  name: string
  help: string
  type: 'histogram'
  aggregator: 'sum'
  get(): Promise<{name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Array<{metricName: string; labels: Record<string, string | number>; value: number}>}>
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
  new Counter({
    name: 'kafka_network_requestmetrics_requests_total',
    help: 'kafka.network:type=RequestMetrics,name=RequestsPerSec,request=<api>,version=<v>',
    labelNames: ['request', 'version'],
    registers,
    collect() {
      this.reset()
      tallies.apis.forEach((api, apiKey) => {
        if (!api) return
        const request = requestName(apiKey)
        api.perVersion.forEach((n, version) => {
          if (n) this.inc({request, version}, n)
        })
      })
    },
  })
  const totalTime: CustomMetric = {
    name: 'kafka_network_requestmetrics_totaltimems',
    help: 'kafka.network:type=RequestMetrics,name=TotalTimeMs,request=<api> (ms from the request read to its response ready)',
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: Array<{metricName: string; labels: Record<string, string | number>; value: number}> = []
      tallies.apis.forEach((api, apiKey) => {
        if (!api) return
        const request = requestName(apiKey)
        let cumulative = 0
        REQUEST_TIME_BUCKETS_MS.forEach((le, i) => {
          cumulative += api.buckets[i]!
          values.push({metricName: `${totalTime.name}_bucket`, labels: {request, le}, value: cumulative})
        })
        values.push({metricName: `${totalTime.name}_bucket`, labels: {request, le: '+Inf'}, value: api.count})
        values.push({metricName: `${totalTime.name}_sum`, labels: {request}, value: api.sumMs})
        values.push({metricName: `${totalTime.name}_count`, labels: {request}, value: api.count})
      })
      return {name: totalTime.name, help: totalTime.help, type: 'histogram', aggregator: 'sum', values}
    },
  }
  registry.registerMetric(totalTime as never)

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
