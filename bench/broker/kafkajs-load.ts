/**
 * kafkajs 2.2.4 load generator for the kcli broker benchmarks. Prints one JSON object on stdout.
 *
 *   npx tsx bench/broker/kafkajs-load.ts produce <bootstrap> <topic> <count> <size> <acks> [perSend] [inFlight]
 *     throughput: producer.send() of `perSend` records (default partitioner: no key, so they
 *     spread over the partitions), `inFlight` sends outstanding at a time (kafkajs has no linger)
 *   npx tsx bench/broker/kafkajs-load.ts latency <bootstrap> <topic> <count> <size> <acks>
 *     closed loop: one record per send(), awaited before the next; the time of each send()
 *   npx tsx bench/broker/kafkajs-load.ts consume <bootstrap> <topic> <count>
 *     kafkajs's low-level Fetch (its consumer needs a consumer group; it has no manual
 *     assignment): every partition from offset 0 until `count` records, 1 MiB per partition
 *     per fetch, as test/e2e/peers.ts reads
 */
import {createRequire} from 'node:module'
import {randomBytes} from 'node:crypto'
import {Kafka, logLevel, type Message} from 'kafkajs'

const require = createRequire(import.meta.url)

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

function summary(ms: number[]): object {
  const v = [...ms].sort((a, b) => a - b)
  return {n: v.length, p50_ms: pct(v, 50), p99_ms: pct(v, 99), p999_ms: pct(v, 99.9), max_ms: v.at(-1), mean_ms: v.reduce((a, b) => a + b, 0) / v.length}
}

function client(bootstrap: string): Kafka {
  return new Kafka({clientId: 'kcli-bench-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 0}})
}

async function produce(bootstrap: string, topic: string, count: number, size: number, acks: number, perSend: number, inFlight: number): Promise<void> {
  const producer = client(bootstrap).producer({allowAutoTopicCreation: false})
  await producer.connect()
  const value = randomBytes(size)
  const batch: Message[] = Array.from({length: perSend}, () => ({value}))
  // metadata and connections before the clock starts
  await producer.send({topic, acks, messages: [{value}]})
  let next = 0
  const t0 = performance.now()
  async function worker(): Promise<void> {
    while (next < count) {
      const n = Math.min(perSend, count - next)
      next += n
      await producer.send({topic, acks, messages: n === perSend ? batch : batch.slice(0, n)})
    }
  }
  await Promise.all(Array.from({length: inFlight}, worker))
  const seconds = (performance.now() - t0) / 1000
  await producer.disconnect()
  console.log(JSON.stringify({mode: 'produce', client: 'kafkajs', count, size, acks, perSend, inFlight, seconds, msgs_per_s: count / seconds, mb_per_s: (count * size) / seconds / 1e6}))
}

async function latency(bootstrap: string, topic: string, count: number, size: number, acks: number): Promise<void> {
  const producer = client(bootstrap).producer({allowAutoTopicCreation: false})
  await producer.connect()
  const value = randomBytes(size)
  await producer.send({topic, acks, messages: [{value}]})
  const ms: number[] = []
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    await producer.send({topic, acks, messages: [{value}]})
    ms.push(performance.now() - t)
  }
  await producer.disconnect()
  console.log(JSON.stringify({mode: 'latency', client: 'kafkajs', count, size, acks, latency: summary(ms)}))
}

interface FetchResponse {
  responses: Array<{topicName: string; partitions: Array<{partition: number; errorCode: number; highWatermark: string; messages: Array<{offset: string; value: Buffer | null; isControlRecord?: boolean}>}>}>
}
interface Cluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  addTargetTopic(topic: string): Promise<void>
  findTopicPartitionMetadata(topic: string): Array<{partitionId: number; leader: number}>
  findBroker(opts: {nodeId: number}): Promise<{fetch(request: object): Promise<FetchResponse>}>
}

async function consume(bootstrap: string, topic: string, count: number): Promise<void> {
  const ClusterCtor = require('kafkajs/src/cluster/index.js') as new (options: object) => Cluster
  const {createLogger, LEVELS} = require('kafkajs/src/loggers/index.js') as {createLogger(o: object): unknown; LEVELS: {NOTHING: number}}
  const socketFactory = (require('kafkajs/src/network/socketFactory.js') as () => unknown)()
  const cluster = new ClusterCtor({
    logger: createLogger({level: LEVELS.NOTHING, logCreator: () => () => {}}),
    brokers: [bootstrap],
    clientId: 'kcli-bench-kafkajs-fetch',
    socketFactory,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    enforceRequestTimeout: true,
    retry: {retries: 0},
  })
  await cluster.connect()
  await cluster.addTargetTopic(topic)
  const parts = cluster.findTopicPartitionMetadata(topic)
  const broker = await cluster.findBroker({nodeId: parts[0]!.leader})
  const next = new Map<number, bigint>(parts.map((p) => [p.partitionId, 0n]))
  let got = 0
  let bytes = 0
  const t0 = performance.now()
  while (got < count) {
    if (performance.now() - t0 > 120_000) throw new Error(`kafkajs consume: ${got} of ${count} in 120 s`)
    const response = await broker.fetch({
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 50 << 20,
      topics: [{topic, partitions: parts.map((p) => ({partition: p.partitionId, fetchOffset: String(next.get(p.partitionId)), maxBytes: 1 << 20}))}],
    })
    for (const t of response.responses) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw new Error(`kafkajs fetch ${topic}-${p.partition}: error code ${p.errorCode}`)
        const from = next.get(p.partition)!
        for (const m of p.messages) {
          if (m.isControlRecord || BigInt(m.offset) < from) continue
          got++
          bytes += m.value?.length ?? 0
        }
        if (p.messages.length > 0) next.set(p.partition, BigInt(p.messages.at(-1)!.offset) + 1n)
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000
  await cluster.disconnect()
  console.log(JSON.stringify({mode: 'consume', client: 'kafkajs', count: got, bytes, seconds, msgs_per_s: got / seconds, mb_per_s: bytes / seconds / 1e6}))
}

const [mode, bootstrap, topic, ...rest] = process.argv.slice(2)
if (!mode || !bootstrap || !topic) {
  console.error('usage: kafkajs-load.ts produce|latency|consume <bootstrap> <topic> ...')
  process.exit(2)
}
const n = rest.map(Number)
try {
  if (mode === 'produce') await produce(bootstrap, topic, n[0]!, n[1]!, n[2]!, n[3] ?? 1000, n[4] ?? 4)
  else if (mode === 'latency') await latency(bootstrap, topic, n[0]!, n[1]!, n[2]!)
  else if (mode === 'consume') await consume(bootstrap, topic, n[0]!)
  else throw new Error(`unknown mode ${mode}`)
} catch (error) {
  console.error(`kafkajs ${mode}: ${(error as Error).stack ?? error}`)
  process.exit(1)
}
