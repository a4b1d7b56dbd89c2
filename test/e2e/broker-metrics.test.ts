/**
 * Issue 16 acceptance, single broker: metrics.listener serves /metrics (strict Prometheus text
 * format), /healthz and /readyz; kafkajs produces and consumes while the test scrapes, and the
 * counters move by exactly what was sent (bytes in = the batches stored, messages in = the
 * records), bytes out and consumer lag follow the consumer, bytes rejected the refused batch;
 * /readyz is 503 while the broker starts and 200 once it serves; a port in use fails the start
 * naming metrics.listener.
 */
import {readdirSync, statSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {resolveBrokerConfig} from '../../src/lib/config/broker-configs.js'
import {ConfigError} from '../../src/lib/config/config-def.js'
import {Broker} from '../../src/server/broker.js'
import {silentLogger} from '../../src/server/logger.js'
import {MetricsListenerBindError} from '../../src/server/metrics/metrics-server.js'
import {removeDir, tempDir} from './harness.js'
import Top, {type TopResult} from '../../src/commands/top/index.js'
import {runCommand} from '../lib/cli/run-command.js'
import {type Family, parsePrometheusText, sumOf} from '../server/metrics/prometheus-text.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

async function get(port: number, path: string): Promise<{status: number; text: string; type: string | null}> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`)
  return {status: response.status, text: await response.text(), type: response.headers.get('content-type')}
}

async function scrape(port: number): Promise<Map<string, Family>> {
  const r = await get(port, '/metrics')
  expect(r.status).toBe(200)
  expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8')
  return parsePrometheusText(r.text)
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Bytes of a topic's segment files: the batches as the broker stored them. */
function storedBytes(dataDir: string, topic: string): number {
  let total = 0
  for (const dir of readdirSync(dataDir)) {
    if (!dir.startsWith(`${topic}-`) || !/^\d+$/.test(dir.slice(topic.length + 1))) continue
    for (const f of readdirSync(join(dataDir, dir))) if (f.endsWith('.log')) total += statSync(join(dataDir, dir, f)).size
  }
  return total
}

describe('broker metrics (metrics.listener)', () => {
  const dataDir = tempDir()
  let broker: Broker
  let metricsPort: number
  let kafka: Kafka
  let bootstrap: string

  beforeAll(async () => {
    const config = resolveBrokerConfig({
      'listeners': 'PLAINTEXT://127.0.0.1:0',
      'log.dirs': dataDir,
      'group.initial.rebalance.delay.ms': '0',
      'metrics.listener': 'http://127.0.0.1:0',
    })
    let release!: () => void
    const barrier = new Promise<void>((resolve) => (release = resolve))
    broker = new Broker(config, silentLogger(), undefined, {startupBarrier: barrier})
    const started = broker.start()
    metricsPort = await until('the metrics listener', async () => broker.metricsPort)
    // Alive, not ready: the broker has not opened its logs yet.
    const health = await get(metricsPort, '/healthz')
    expect(health).toMatchObject({status: 200})
    expect(JSON.parse(health.text)).toEqual({status: 'ok'})
    const starting = await get(metricsPort, '/readyz')
    expect(starting.status).toBe(503)
    expect(JSON.parse(starting.text)).toEqual({ready: false, reasons: [expect.stringMatching(/^starting/)]})
    expect((await get(metricsPort, '/metrics')).status).toBe(503)
    release()
    const status = await started
    expect(status.metricsListener).toBe(`http://127.0.0.1:${metricsPort}`)
    await until('ready', async () => ((await get(metricsPort, '/readyz')).status === 200 ? true : undefined))
    expect(JSON.parse((await get(metricsPort, '/readyz')).text)).toEqual({ready: true})
    bootstrap = `127.0.0.1:${status.listeners[0]!.port}`
    kafka = new Kafka({clientId: 'metrics-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 2}})
  })

  afterAll(async () => {
    await broker?.stop()
    removeDir(dataDir)
  })

  it('counts what kafkajs produces and consumes: bytes in = stored batch bytes, messages in = records', async () => {
    const topic = 'metrics-flow'
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic, numPartitions: 3}], waitForLeaders: true})
    await admin.disconnect()

    const before = await scrape(metricsPort)
    expect(sumOf(before, 'kafka_server_brokertopicmetrics_messagesin_total', {topic})).toBe(0)
    const producer = kafka.producer({allowAutoTopicCreation: false})
    await producer.connect()
    let records = 0
    for (let round = 0; round < 4; round++) {
      const messages = Array.from({length: 25 + round}, (_, i) => ({partition: i % 3, key: `k${i}`, value: `round ${round} value ${i} ${'x'.repeat(i * 3)}`}))
      records += messages.length
      await producer.send({topic, acks: -1, messages})
    }
    await producer.disconnect()

    const afterProduce = await scrape(metricsPort)
    const delta = (family: string, match: Record<string, string | undefined>) => sumOf(afterProduce, family, match) - sumOf(before, family, match)
    const stored = storedBytes(dataDir, topic)
    expect(stored).toBeGreaterThan(0)
    expect(delta('kafka_server_brokertopicmetrics_messagesin_total', {topic})).toBe(records)
    expect(delta('kafka_server_brokertopicmetrics_bytesin_total', {topic})).toBe(stored)
    // The series without a topic label counts every topic: here the same (nothing else was produced).
    expect(delta('kafka_server_brokertopicmetrics_messagesin_total', {topic: undefined})).toBe(records)
    expect(delta('kafka_server_brokertopicmetrics_bytesin_total', {topic: undefined})).toBe(stored)
    // Log size per partition is the same bytes; one segment each.
    expect(sumOf(afterProduce, 'kafka_log_log_size', {topic})).toBe(stored)
    expect(sumOf(afterProduce, 'kafka_log_log_numlogsegments', {topic})).toBe(3)
    expect(sumOf(afterProduce, 'kafka_log_log_logendoffset', {topic})).toBe(records)
    // One Produce request per send (kafkajs sends one request per broker): 4, and its time histogram counts them.
    expect(delta('kafka_network_requestmetrics_requests_total', {request: 'Produce'})).toBe(4)
    expect(sumOf(afterProduce, 'kafka_network_requestmetrics_totaltimems', {request: 'Produce'}, 'kafka_network_requestmetrics_totaltimems_count')).toBe(sumOf(afterProduce, 'kafka_network_requestmetrics_requests_total', {request: 'Produce'}))
    expect(sumOf(afterProduce, 'kafka_server_socket_server_metrics_connection_creation_total', {listener: 'PLAINTEXT'})).toBeGreaterThanOrEqual(2)
    expect(sumOf(afterProduce, 'kafka_server_replicamanager_leadercount')).toBeGreaterThanOrEqual(3)
    expect(sumOf(afterProduce, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(0)
    expect(sumOf(afterProduce, 'kafka_controller_kafkacontroller_activecontrollercount')).toBe(1)
    expect(sumOf(afterProduce, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0)

    // A group consumer reads everything and commits: bytes out covers the stored bytes, lag ends at 0.
    const consumer = kafka.consumer({groupId: 'metrics-group', maxWaitTimeInMs: 100})
    await consumer.connect()
    await consumer.subscribe({topic, fromBeginning: true})
    let consumed = 0
    await consumer.run({eachMessage: async () => void consumed++})
    await until('the consumer to read every record', async () => (consumed >= records ? true : undefined), 30_000)
    const whileConsuming = await scrape(metricsPort)
    expect(sumOf(whileConsuming, 'kafka_server_socket_server_metrics_connection_count', {listener: 'PLAINTEXT'})).toBeGreaterThanOrEqual(1)
    await consumer.disconnect()
    const afterConsume = await until('the committed offsets', async () => {
      const m = await scrape(metricsPort)
      const lag = m.get('kafka_consumergroup_lag')?.samples.filter((s) => s.labels.consumergroup === 'metrics-group' && s.labels.topic === topic) ?? []
      return lag.length === 3 && lag.every((s) => s.value === 0) ? m : undefined
    })
    expect(sumOf(afterConsume, 'kafka_server_brokertopicmetrics_bytesout_total', {topic})).toBeGreaterThanOrEqual(stored)
    expect(sumOf(afterConsume, 'kafka_coordinator_group_groupmetadatamanager_numgroups')).toBe(1)
    expect(sumOf(afterConsume, 'kafka_coordinator_group_groupmetadatamanager_numoffsets')).toBe(3)
    expect(sumOf(afterConsume, 'kafka_network_requestmetrics_requests_total', {request: 'Fetch'})).toBeGreaterThan(0)
    expect(sumOf(afterConsume, 'kafka_server_socket_server_metrics_connection_close_total', {listener: 'PLAINTEXT'})).toBeGreaterThanOrEqual(2)
  })

  // Runs after the flow test: metrics-group has committed offsets on metrics-flow.
  it('kcli top --once --json gives the figures of the metrics: leaders, under-replicated partitions, group lag, messages in', async () => {
    const topic = 'metrics-flow'
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'metrics-top-rate', numPartitions: 1}], waitForLeaders: true})
    await admin.disconnect()
    // Records the group has not read: a lag of 10 on each partition.
    const producer = kafka.producer({allowAutoTopicCreation: false})
    await producer.connect()
    await producer.send({topic, acks: -1, messages: Array.from({length: 30}, (_, i) => ({partition: i % 3, value: `unread ${i}`}))})
    // Produce during top's window too, so its rate has something to measure.
    let producing = true
    const during = (async () => {
      let sent = 0
      while (producing) {
        await producer.send({topic: 'metrics-top-rate', acks: 1, messages: [{value: `r${sent++}`}]})
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    const run = await runCommand<TopResult>(Top, ['--bootstrap-server', bootstrap, '--once', '--json', '--interval', '1000'], {id: 'top'})
    producing = false
    await during
    await producer.disconnect()
    expect(run.exitCode).toBe(0)
    const top = run.result!
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(JSON.stringify(top)))
    const m = await scrape(metricsPort)
    expect(top.brokers).toHaveLength(1)
    expect(top.brokers[0]).toMatchObject({nodeId: 1, controller: true, leaders: sumOf(m, 'kafka_server_replicamanager_leadercount'), underReplicated: sumOf(m, 'kafka_server_replicamanager_underreplicatedpartitions')})
    expect(top.underReplicatedPartitions).toEqual([])
    expect(top.offlinePartitions).toBe(sumOf(m, 'kafka_controller_kafkacontroller_offlinepartitionscount'))
    const group = top.groups.find((g) => g.group === 'metrics-group')!
    expect(group.lag).toBe(30)
    for (const p of group.partitions) expect(p.lag).toBe(sumOf(m, 'kafka_consumergroup_lag', {consumergroup: 'metrics-group', topic: p.topic, partition: String(p.partition)}))
    expect(top.topics.find((t) => t.topic === 'metrics-top-rate')!.messagesInPerSec).toBeGreaterThan(0)
    expect(top.brokers[0]!.messagesInPerSec).toBeGreaterThan(0)
    // For people (stdout not a terminal: one snapshot, plain columns).
    const human = await runCommand(Top, ['--bootstrap-server', bootstrap, '--interval', '200'], {id: 'top'})
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toMatch(/^Cluster: +\S+$/m)
    expect(human.stdout).toMatch(/^BROKER +ADDRESS +ROLE +LEADERS +REPLICAS +UNDER-REPLICATED +MSGS IN\/S$/m)
    expect(human.stdout).toMatch(/^metrics-group +\S+ +30 +3$/m)
  })

  it("times requests in Kafka's RequestMetrics phases (a consumer's long polls are remote time, in the Fetch purgatory) and log flushes", async () => {
    const topic = 'metrics-phases'
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic, numPartitions: 1, configEntries: [{name: 'flush.messages', value: '1'}]}], waitForLeaders: true})
    await admin.disconnect()
    const before = await scrape(metricsPort)
    // flush.messages=1: every append is fsynced (Kafka's LogFlushRateAndTimeMs counts each).
    const producer = kafka.producer({allowAutoTopicCreation: false})
    await producer.connect()
    for (let i = 0; i < 5; i++) await producer.send({topic, acks: 1, messages: [{value: `flushed ${i}`}]})
    await producer.disconnect()
    // A consumer at the end of the topic long-polls (maxWaitTimeInMs 300): its fetches wait in the purgatory.
    const consumer = kafka.consumer({groupId: 'metrics-phases', maxWaitTimeInMs: 300})
    await consumer.connect()
    await consumer.subscribe({topic, fromBeginning: false})
    await consumer.run({eachMessage: async () => undefined})
    const polling = await until('a fetch waiting in the purgatory', async () => {
      const m = await scrape(metricsPort)
      return sumOf(m, 'kafka_server_delayedoperationpurgatory_numdelayedoperations', {delayedOperation: 'Fetch'}) >= 1 && sumOf(m, 'kafka_server_delayedoperationpurgatory_purgatorysize', {delayedOperation: 'Fetch'}) >= 1 ? m : undefined
    })
    expect(polling).toBeDefined()
    const longPolled = await until('a long poll timed', async () => {
      const m = await scrape(metricsPort)
      return sumOf(m, 'kafka_network_requestmetrics_remotetimems', {request: 'FetchConsumer'}, 'kafka_network_requestmetrics_remotetimems_sum') >= 250 ? m : undefined
    })
    await consumer.disconnect()
    const after = await scrape(metricsPort)
    const delta = (family: string, match: Record<string, string | undefined>, name?: string) => sumOf(after, family, match, name) - sumOf(before, family, match, name)
    expect(delta('kafka_log_logflushstats_logflushrateandtimems', {}, 'kafka_log_logflushstats_logflushrateandtimems_count')).toBeGreaterThanOrEqual(5)
    // A long poll waits in the purgatory for ~maxWaitTimeInMs: the +Inf bucket minus the 250 ms one holds it.
    const slowPolls = sumOf(longPolled, 'kafka_network_requestmetrics_remotetimems', {request: 'FetchConsumer', le: '+Inf'}, 'kafka_network_requestmetrics_remotetimems_bucket') - sumOf(longPolled, 'kafka_network_requestmetrics_remotetimems', {request: 'FetchConsumer', le: '250'}, 'kafka_network_requestmetrics_remotetimems_bucket')
    expect(slowPolls).toBeGreaterThanOrEqual(1)
    // Every request name's five phases add up to its total time, and every histogram counts every request.
    const phases = ['requestqueuetimems', 'localtimems', 'remotetimems', 'responsequeuetimems', 'responsesendtimems']
    for (const request of ['Produce', 'Fetch', 'FetchConsumer', 'Metadata']) {
      const total = sumOf(after, 'kafka_network_requestmetrics_totaltimems', {request}, 'kafka_network_requestmetrics_totaltimems_sum')
      const parts = phases.reduce((n, p) => n + sumOf(after, `kafka_network_requestmetrics_${p}`, {request}, `kafka_network_requestmetrics_${p}_sum`), 0)
      expect(total).toBeGreaterThan(0)
      expect(Math.abs(parts - total)).toBeLessThan(0.001 * total + 0.01)
      const count = sumOf(after, 'kafka_network_requestmetrics_requests_total', {request})
      for (const p of [...phases, 'totaltimems']) expect(sumOf(after, `kafka_network_requestmetrics_${p}`, {request}, `kafka_network_requestmetrics_${p}_count`)).toBe(count)
    }
    // A single broker has no follower: no FetchFollower series, and Fetch = FetchConsumer.
    expect(after.get('kafka_network_requestmetrics_requests_total')!.samples.some((s) => s.labels.request === 'FetchFollower')).toBe(false)
    expect(sumOf(after, 'kafka_network_requestmetrics_requests_total', {request: 'Fetch'})).toBe(sumOf(after, 'kafka_network_requestmetrics_requests_total', {request: 'FetchConsumer'}))
    // acks=1 never waits in the Produce purgatory.
    expect(delta('kafka_network_requestmetrics_remotetimems', {request: 'Produce'}, 'kafka_network_requestmetrics_remotetimems_sum')).toBe(0)
    const idle = sumOf(after, 'kafka_network_socketserver_networkprocessoravgidlepercent')
    expect(idle).toBeGreaterThan(0)
    expect(idle).toBeLessThanOrEqual(1)
  })

  it('counts the bytes of a batch refused as too large (BytesRejectedPerSec)', async () => {
    const topic = 'metrics-rejected'
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic, numPartitions: 1, configEntries: [{name: 'max.message.bytes', value: '1000'}]}], waitForLeaders: true})
    await admin.disconnect()
    const before = await scrape(metricsPort)
    const producer = kafka.producer({allowAutoTopicCreation: false, retry: {retries: 0}})
    await producer.connect()
    const value = 'r'.repeat(3000)
    await expect(producer.send({topic, acks: -1, messages: [{value}]})).rejects.toThrow(/larger than/i)
    await producer.disconnect()
    const after = await scrape(metricsPort)
    const rejected = sumOf(after, 'kafka_server_brokertopicmetrics_bytesrejected_total', {topic}) - sumOf(before, 'kafka_server_brokertopicmetrics_bytesrejected_total', {topic})
    // One batch: the value and a record batch's overhead (61-byte header, the record's framing).
    expect(rejected).toBeGreaterThan(value.length + 61)
    expect(rejected).toBeLessThan(value.length + 61 + 32)
    expect(sumOf(after, 'kafka_server_brokertopicmetrics_bytesrejected_total', {topic: undefined})).toBe(rejected)
    expect(sumOf(after, 'kafka_server_brokertopicmetrics_bytesin_total', {topic})).toBe(0)
  })
})

describe('metrics.listener: bad input', () => {
  it('is validated like the other broker configs', () => {
    for (const bad of ['127.0.0.1:9404', 'https://127.0.0.1:9404', 'http://127.0.0.1', 'http://127.0.0.1:70000', 'http://:9404']) {
      expect(() => resolveBrokerConfig({'metrics.listener': bad})).toThrow(ConfigError)
      expect(() => resolveBrokerConfig({'metrics.listener': bad})).toThrow(/configuration metrics\.listener: Expected http:\/\/host:port/)
    }
    expect(resolveBrokerConfig({}).metricsListener).toBeNull()
    expect(resolveBrokerConfig({'metrics.listener': ''}).metricsListener).toBeNull()
    expect(resolveBrokerConfig({'metrics.listener': 'http://[::1]:9404'}).metricsListener).toEqual({host: '::1', port: 9404})
    expect(() => resolveBrokerConfig({'metrics.topic.labels.enable': 'maybe'})).toThrow(/metrics\.topic\.labels\.enable/)
  })

  it('a port in use fails the start naming metrics.listener and the address; nothing is left open', async () => {
    const held: Server = createServer()
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve))
    const port = (held.address() as {port: number}).port
    const dir = tempDir()
    try {
      const config = resolveBrokerConfig({'listeners': 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, 'metrics.listener': `http://127.0.0.1:${port}`})
      const broker = new Broker(config, silentLogger())
      const error = await broker.start().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MetricsListenerBindError)
      expect((error as Error).message).toBe(`metrics listener (metrics.listener) failed to bind to http://127.0.0.1:${port}: address already in use (EADDRINUSE)`)
      expect(error).toMatchObject({code: 'EADDRINUSE', port})
      // Nothing was opened: the data directory holds no metadata yet.
      expect(readdirSync(dir)).toEqual([])
    } finally {
      await new Promise((resolve) => held.close(resolve))
      removeDir(dir)
    }
  })
})
