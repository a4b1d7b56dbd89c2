/**
 * Issue 16 acceptance, cluster: two `kcli server start` processes on etcd, each with its own
 * metrics.listener. A topic of replication factor 2: with its follower stopped, the leader's
 * /metrics shows the partition under-replicated (and under min ISR with min.insync.replicas=2);
 * the restarted follower's /readyz stays 503 "not caught up" while a leader replication throttle
 * keeps it from copying what it missed; once the throttle goes it catches up, its /readyz is 200,
 * the leader's under-replicated count clears and the ISR expansion is counted. Exactly one broker
 * reports ActiveControllerCount 1.
 */
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {clusterEtcdMissing, TestCluster} from './cluster-support.js'
import {RawClient} from './peers.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {type Family, parsePrometheusText, sumOf} from '../server/metrics/prometheus-text.js'
import Top, {type TopResult} from '../../src/commands/top/index.js'
import {runCommand} from '../lib/cli/run-command.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

async function scrape(url: string): Promise<Map<string, Family>> {
  const response = await fetch(`${url}/metrics`)
  expect(response.status).toBe(200)
  return parsePrometheusText(await response.text())
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.skipIf(clusterEtcdMissing !== null)('cluster metrics: under-replicated partitions', () => {
  let cluster: TestCluster
  const url = (id: number) => cluster.process(id)!.metricsListener!

  beforeAll(async () => {
    cluster = await TestCluster.start({
      brokers: 2,
      overrides: {'metrics.listener': 'http://127.0.0.1:0', 'offsets.topic.replication.factor': '2', 'transaction.state.log.replication.factor': '2', 'replica.fetch.backoff.ms': '200'},
    })
  }, 60_000)

  afterAll(async () => {
    await cluster?.close()
  })

  /** IncrementalAlterConfigs through broker `nodeId` (a broker's own configs go to it, as Kafka requires); null removes. */
  async function setConfigs(nodeId: number, resourceType: number, resourceName: string, configs: Array<{name: string; value: string | null}>): Promise<number> {
    const raw = await RawClient.connect(cluster.port(nodeId))
    try {
      const r = await raw.request(ApiKey.IncrementalAlterConfigs, 1, {resources: [{resourceType, resourceName, configs: configs.map((c) => ({name: c.name, configOperation: c.value === null ? 1 : 0, value: c.value}))}], validateOnly: false})
      return r.responses[0]!.errorCode
    } finally {
      raw.close()
    }
  }

  it('a stopped follower makes the leader report its partition under-replicated; it clears when the follower rejoins', async () => {
    const topic = 'urp'
    const kafka = new Kafka({brokers: cluster.bootstrap().split(','), clientId: 'cluster-metrics', logLevel: logLevel.NOTHING, retry: {retries: 10, initialRetryTime: 100, maxRetryTime: 1000}})
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic, numPartitions: 1, replicationFactor: 2, configEntries: [{name: 'min.insync.replicas', value: '2'}]}], waitForLeaders: true})
    await admin.disconnect()
    const [healthy] = await cluster.waitForHealthy(topic, {isr: 2})
    const leader = healthy!.leaderId
    const follower = cluster.nodeIds.find((id) => id !== leader)!

    const controllers = await Promise.all(cluster.nodeIds.map(async (id) => sumOf(await scrape(url(id)), 'kafka_controller_kafkacontroller_activecontrollercount')))
    expect(controllers.reduce((a, b) => a + b, 0)).toBe(1)
    const before = await scrape(url(leader))
    expect(sumOf(before, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(0)
    const expandsBefore = sumOf(before, 'kafka_server_replicamanager_isrexpands_total')

    // A leader replication throttle of 1 byte/s on the topic: an in-sync follower is not throttled,
    // one out of the ISR (the follower once restarted) copies nothing while it holds.
    expect(await setConfigs(leader, 2, topic, [{name: 'leader.replication.throttled.replicas', value: '*'}])).toBe(ErrorCode.NONE)
    expect(await setConfigs(leader, 4, String(leader), [{name: 'leader.replication.throttled.rate', value: '1'}])).toBe(ErrorCode.NONE)
    await cluster.shutdown(follower)
    const degraded = await until('the partition under-replicated on its leader', async () => {
      const m = await scrape(url(leader))
      return sumOf(m, 'kafka_server_replicamanager_underreplicatedpartitions') >= 1 ? m : undefined
    })
    expect(sumOf(degraded, 'kafka_server_replicamanager_underminisrpartitioncount')).toBeGreaterThanOrEqual(1)
    // kcli top sees the same: the partitions the leader reports under-replicated, its leader count.
    const top = await runCommand<TopResult>(Top, ['--bootstrap-server', `127.0.0.1:${cluster.port(leader)}`, '--once', '--json', '--interval', '200'], {id: 'top'})
    expect(top.exitCode).toBe(0)
    const now = await scrape(url(leader))
    expect(top.result!.underReplicatedPartitions.length).toBe(sumOf(now, 'kafka_server_replicamanager_underreplicatedpartitions'))
    expect(top.result!.underReplicatedPartitions.map((p) => `${p.topic}-${p.partition}`)).toContain(`${topic}-0`)
    expect(top.result!.brokers.find((b) => b.nodeId === leader)).toMatchObject({leaders: sumOf(now, 'kafka_server_replicamanager_leadercount'), underReplicated: sumOf(now, 'kafka_server_replicamanager_underreplicatedpartitions')})
    // The leader itself still serves what it leads.
    expect((await fetch(`${url(leader)}/readyz`)).status).toBe(200)

    // What the follower misses while down (acks=1: min.insync.replicas does not apply), in several
    // batches: the throttle lets a fetch take one whole batch into debt, then nothing for hours.
    const behindProducer = kafka.producer({allowAutoTopicCreation: false})
    await behindProducer.connect()
    for (let b = 0; b < 3; b++) await behindProducer.send({topic, acks: 1, messages: Array.from({length: 20}, (_, i) => ({value: `missed ${b}/${i} ${'m'.repeat(200)}`}))})
    await behindProducer.disconnect()

    await cluster.startBroker(follower)
    // Registered and serving, but not caught up: /readyz says so, naming the partition, while the throttle holds.
    const notReady = await until('the restarted follower answering /readyz', async () => {
      const r = await fetch(`${url(follower)}/readyz`)
      const body = (await r.json()) as {ready: boolean; reasons?: string[]}
      return r.status === 503 && body.reasons?.some((x) => x.startsWith('not caught up')) ? body : undefined
    })
    expect(notReady.reasons!.find((x) => x.startsWith('not caught up'))).toContain(`${topic}-0`)
    expect(notReady.ready).toBe(false)
    expect(await setConfigs(leader, 4, String(leader), [{name: 'leader.replication.throttled.rate', value: null}])).toBe(ErrorCode.NONE)
    await until('the follower back in the ISR and the leader reporting no under-replicated partition', async () => {
      const m = await scrape(url(leader))
      return sumOf(m, 'kafka_server_replicamanager_underreplicatedpartitions') === 0 && sumOf(m, 'kafka_server_replicamanager_underminisrpartitioncount') === 0 ? m : undefined
    })
    const recovered = await scrape(url(leader))
    expect(sumOf(recovered, 'kafka_server_replicamanager_isrexpands_total')).toBeGreaterThan(expandsBefore)
    await until('the restarted follower ready', async () => ((await fetch(`${url(follower)}/readyz`)).status === 200 ? true : undefined))

    // Replication traffic: what the follower copies (acks=all waits for it) is counted on both sides.
    const producer = kafka.producer({allowAutoTopicCreation: false})
    await producer.connect()
    await producer.send({topic, acks: -1, messages: Array.from({length: 20}, (_, i) => ({value: `replicated ${i}`}))})
    await producer.disconnect()
    const copied = await until('the follower counting replication bytes in', async () => {
      const m = await scrape(url(follower))
      const n = sumOf(m, 'kafka_server_brokertopicmetrics_replicationbytesin_total')
      return n > 0 ? n : undefined
    })
    const leaderMetrics = await scrape(url(leader))
    expect(sumOf(leaderMetrics, 'kafka_server_brokertopicmetrics_replicationbytesout_total')).toBeGreaterThanOrEqual(copied)
    // acks=all waited in the leader's Produce purgatory (RemoteTimeMs) and left it; followers' fetches are FetchFollower.
    expect(sumOf(leaderMetrics, 'kafka_network_requestmetrics_remotetimems', {request: 'Produce'}, 'kafka_network_requestmetrics_remotetimems_sum')).toBeGreaterThan(0)
    expect(sumOf(leaderMetrics, 'kafka_server_delayedoperationpurgatory_numdelayedoperations', {delayedOperation: 'Produce'})).toBe(0)
    expect(sumOf(leaderMetrics, 'kafka_server_delayedoperationpurgatory_purgatorysize', {delayedOperation: 'Produce'})).toBe(0)
    expect(sumOf(leaderMetrics, 'kafka_network_requestmetrics_requests_total', {request: 'FetchFollower'})).toBeGreaterThan(0)
    // Replication is not client traffic.
    expect(sumOf(await scrape(url(follower)), 'kafka_server_brokertopicmetrics_bytesin_total', {topic})).toBe(0)
  }, 90_000)
})
