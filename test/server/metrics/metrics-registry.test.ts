/**
 * Issue 16: the scrape-time series of metrics-registry.ts over a fake broker state and tallies —
 * Kafka's definitions of under-replicated (a reassignment's adding replicas not counted), under
 * min ISR, offline partitions (active controller only), the counters from the tallies, deleted
 * topics pruned, and metrics.topic.labels.enable=false dropping every per-topic series.
 */
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import type {MetadataStore, PartitionAssignment} from '../../../src/server/controller/metadata-store.js'
import type {ReplicaManager} from '../../../src/server/replica-manager.js'
import {BrokerMetrics, RequestTimer} from '../../../src/server/metrics/broker-metrics.js'
import {createMetricsRegistry} from '../../../src/server/metrics/metrics-registry.js'
import {parsePrometheusText, sumOf} from './prometheus-text.js'

interface FakePartition {
  topic: string
  partition: number
  replicas: number[]
  isr: number[]
  isLeader: boolean
  highWatermark: number
  log: {size: number; numberOfSegments: number; logStartOffset: number; logEndOffset: number}
}

function state(opts: {partitions: FakePartition[]; assignments: Record<string, Array<Partial<PartitionAssignment> & {partition: number; leader: number}>>; live: number[]; active: boolean; minIsr?: number}) {
  const metadata = {
    topics: () => Object.entries(opts.assignments).map(([name, ps]) => ({name, topicId: name, configs: {}, internal: false, partitions: ps.map((p) => ({replicas: [1, 2, 3], leaderEpoch: 0, isr: [1, 2, 3], ...p}))})),
    topic: (name: string) => metadata.topics().find((t) => t.name === name),
    brokers: () => opts.live.map((nodeId) => ({nodeId, host: 'h', port: 1, rack: null})),
  }
  const replicas = {
    all: () => opts.partitions,
    get: (t: string, p: number) => opts.partitions.find((x) => x.topic === t && x.partition === p),
    leads: (p: FakePartition) => p.isLeader,
    producePurgatorySize: 0,
    fetchWatched: 0,
  }
  return {
    nodeId: 1,
    metadata: metadata as unknown as MetadataStore,
    replicas: replicas as unknown as ReplicaManager,
    activeController: () => opts.active,
    minIsr: () => opts.minIsr ?? 2,
  }
}

const log = {size: 100, numberOfSegments: 2, logStartOffset: 0, logEndOffset: 10}
const partition = (topic: string, p: number, isr: number[], isLeader = true, replicas = [1, 2, 3]): FakePartition => ({topic, partition: p, replicas, isr, isLeader, highWatermark: 10, log})

describe('metrics registry', () => {
  it('reports the partition gauges by Kafka\'s definitions', async () => {
    const tallies = new BrokerMetrics(true)
    const s = state({
      partitions: [
        partition('a', 0, [1, 2, 3]), // healthy
        partition('a', 1, [1, 2]), // under-replicated, at min ISR
        partition('a', 2, [1]), // under-replicated, under min ISR
        partition('b', 0, [1, 2, 3], true, [1, 2, 3, 4]), // replica 4 being added: not under-replicated
        partition('b', 1, [2], false), // followed: not counted
      ],
      assignments: {a: [{partition: 0, leader: 1}, {partition: 1, leader: 1}, {partition: 2, leader: 1}], b: [{partition: 0, leader: 1, replicas: [1, 2, 3, 4], addingReplicas: [4]}, {partition: 1, leader: -1}, {partition: 2, leader: 7}]},
      live: [1, 2, 3],
      active: true,
    })
    const m = parsePrometheusText(await createMetricsRegistry(tallies, s).metrics())
    expect(sumOf(m, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(2)
    expect(sumOf(m, 'kafka_server_replicamanager_underminisrpartitioncount')).toBe(1)
    expect(sumOf(m, 'kafka_server_replicamanager_leadercount')).toBe(4)
    expect(sumOf(m, 'kafka_server_replicamanager_partitioncount')).toBe(5)
    // b-1 has no leader, b-2's leader (7) is not registered.
    expect(sumOf(m, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(2)
    expect(sumOf(m, 'kafka_controller_kafkacontroller_activecontrollercount')).toBe(1)
    expect(sumOf(m, 'kafka_controller_kafkacontroller_globalpartitioncount')).toBe(6)
    expect(sumOf(m, 'kafka_log_log_size', {topic: 'a'})).toBe(300)
    expect(sumOf(m, 'kafka_log_log_numlogsegments', {topic: 'b', partition: '1'})).toBe(2)

    const follower = parsePrometheusText(await createMetricsRegistry(tallies, {...s, activeController: () => false}).metrics())
    expect(sumOf(follower, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0)
    expect(sumOf(follower, 'kafka_controller_kafkacontroller_activecontrollercount')).toBe(0)
  })

  it('turns the tallies into counters; a deleted topic\'s series go; per-topic series can be switched off', async () => {
    const batch = await buildRecordBatch({records: [{value: Buffer.from('x')}, {value: Buffer.from('y')}, {value: Buffer.from('z')}]})
    for (const perTopic of [true, false]) {
      const tallies = new BrokerMetrics(perTopic)
      const s = state({partitions: [partition('a', 0, [1, 2, 3])], assignments: {a: [{partition: 0, leader: 1}]}, live: [1, 2, 3], active: true})
      tallies.produced('a', batch)
      tallies.produced('gone', batch)
      tallies.rejected('a', batch)
      tallies.bytesOut([[{topicName: 'a'}, {records: batch}]])
      answer(tallies, ApiKey.Produce, 9, null)
      answer(tallies, ApiKey.Produce, 9, null)
      answer(tallies, ApiKey.CreateTopics, 7, {throttleTimeMs: 250})
      tallies.connectionOpened('PLAINTEXT')
      tallies.connectionOpened('PLAINTEXT')
      tallies.connectionClosed('PLAINTEXT')
      tallies.isrChanged(3, 2)
      tallies.isrChanged(2, 3)
      tallies.isrChanged(2, 3)
      tallies.leaderElected(false)
      tallies.leaderElected(true)
      tallies.throttled('Produce', 40)
      const m = parsePrometheusText(await createMetricsRegistry(tallies, s).metrics())
      expect(sumOf(m, 'kafka_server_brokertopicmetrics_messagesin_total', {topic: undefined})).toBe(6)
      expect(sumOf(m, 'kafka_server_brokertopicmetrics_bytesin_total', {topic: undefined})).toBe(2 * batch.length)
      expect(sumOf(m, 'kafka_server_brokertopicmetrics_messagesin_total', {topic: 'a'})).toBe(perTopic ? 3 : 0)
      expect(m.get('kafka_server_brokertopicmetrics_messagesin_total')!.samples.some((x) => x.labels.topic === 'gone')).toBe(false)
      expect(sumOf(m, 'kafka_server_brokertopicmetrics_bytesrejected_total', {topic: 'a'})).toBe(perTopic ? batch.length : 0)
      expect(sumOf(m, 'kafka_server_brokertopicmetrics_bytesout_total', {topic: undefined})).toBe(batch.length)
      expect(sumOf(m, 'kafka_network_requestmetrics_requests_total', {request: 'Produce', version: '9'})).toBe(2)
      expect(sumOf(m, 'kafka_network_requestmetrics_totaltimems', {request: 'CreateTopics'}, 'kafka_network_requestmetrics_totaltimems_count')).toBe(1)
      expect(sumOf(m, 'kafka_server_socket_server_metrics_connection_count', {listener: 'PLAINTEXT'})).toBe(1)
      expect(sumOf(m, 'kafka_server_socket_server_metrics_connection_creation_total', {listener: 'PLAINTEXT'})).toBe(2)
      expect(sumOf(m, 'kafka_server_replicamanager_isrshrinks_total')).toBe(1)
      expect(sumOf(m, 'kafka_server_replicamanager_isrexpands_total')).toBe(2)
      expect(sumOf(m, 'kafka_controller_controllerstats_leaderelections_total')).toBe(2)
      expect(sumOf(m, 'kafka_controller_controllerstats_uncleanleaderelections_total')).toBe(1)
      expect(sumOf(m, 'kafka_server_controllermutation_throttle_time_ms_total')).toBe(250)
      expect(sumOf(m, 'kafka_server_produce_throttle_time_ms_total')).toBe(40)
      expect(sumOf(m, 'kafka_server_produce_throttled_responses_total')).toBe(1)
      expect(m.has('kafka_log_log_size')).toBe(perTopic)
      expect(m.has('kafka_consumergroup_lag')).toBe(perTopic)
    }
  })

  it("splits a request's time into Kafka's six RequestMetrics phases; Fetch also as FetchConsumer/FetchFollower; purgatories; log flushes; idle ratio", async () => {
    const tallies = new BrokerMetrics(false)
    const s = state({partitions: [partition('a', 0, [1])], assignments: {a: [{partition: 0, leader: 1}]}, live: [1], active: true})
    // Read whole at 100 ms, handled from 103, in the purgatory from 104, encoded at 154, written from 155 to 157.
    const produce = new RequestTimer(tallies, ApiKey.Produce, 9, 100, 103)
    produce.delayed()
    expect(tallies.delayedProduce).toBe(1)
    produce.delayedAt = 104
    produce.readyAt = 154
    tallies.delayedNow(ApiKey.Produce, -1)
    produce.sendAt = 155
    tallies.requestCompleted(produce, 157)
    // A follower's fetch that never waited: its remote time is 0.
    const fetch = new RequestTimer(tallies, ApiKey.Fetch, 16, 200, 200)
    fetch.follower = true
    fetch.readyAt = 201
    fetch.sendAt = 201
    tallies.requestCompleted(fetch, 201.5)
    tallies.logFlushed(3)
    tallies.logFlushed(7)
    const m = parsePrometheusText(await createMetricsRegistry(tallies, s).metrics())
    const phase = (name: string, request: string) => sumOf(m, `kafka_network_requestmetrics_${name}`, {request}, `kafka_network_requestmetrics_${name}_sum`)
    expect([phase('requestqueuetimems', 'Produce'), phase('localtimems', 'Produce'), phase('remotetimems', 'Produce'), phase('responsequeuetimems', 'Produce'), phase('responsesendtimems', 'Produce'), phase('totaltimems', 'Produce')]).toEqual([3, 1, 50, 1, 2, 57])
    expect(sumOf(m, 'kafka_network_requestmetrics_remotetimems', {request: 'Produce', le: '50'}, 'kafka_network_requestmetrics_remotetimems_bucket')).toBe(1)
    expect(sumOf(m, 'kafka_network_requestmetrics_remotetimems', {request: 'Produce', le: '25'}, 'kafka_network_requestmetrics_remotetimems_bucket')).toBe(0)
    for (const request of ['Fetch', 'FetchFollower']) {
      expect([phase('localtimems', request), phase('remotetimems', request), phase('responsesendtimems', request), phase('totaltimems', request)]).toEqual([1, 0, 0.5, 1.5])
      expect(sumOf(m, 'kafka_network_requestmetrics_requests_total', {request})).toBe(1)
    }
    expect(m.get('kafka_network_requestmetrics_requests_total')!.samples.some((x) => x.labels.request === 'FetchConsumer')).toBe(false)
    expect(sumOf(m, 'kafka_server_delayedoperationpurgatory_numdelayedoperations', {delayedOperation: 'Produce'})).toBe(0)
    expect(sumOf(m, 'kafka_server_delayedoperationpurgatory_purgatorysize', {delayedOperation: 'Fetch'})).toBe(0)
    expect(sumOf(m, 'kafka_log_logflushstats_logflushrateandtimems', {}, 'kafka_log_logflushstats_logflushrateandtimems_count')).toBe(2)
    expect(sumOf(m, 'kafka_log_logflushstats_logflushrateandtimems', {}, 'kafka_log_logflushstats_logflushrateandtimems_sum')).toBe(10)
    const idle = sumOf(m, 'kafka_network_socketserver_networkprocessoravgidlepercent')
    expect(idle).toBeGreaterThanOrEqual(0)
    expect(idle).toBeLessThanOrEqual(1)
  })
})

/** One request answered at once, through the timer as the dispatcher and the connection drive it. */
function answer(tallies: BrokerMetrics, apiKey: number, version: number, response: unknown): void {
  const timer = tallies.requestStarted(apiKey, version, performance.now())
  tallies.responseReady(timer, response)
  timer.sending()
  timer.sent()
}
