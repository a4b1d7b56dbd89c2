/** Helpers of the kcli Streams tests: a corpus and its word counts, produce, and read a topic as a table. */
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin, LATEST_TIMESTAMP} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {Consumer} from '../../src/lib/client/consumer.js'
import {Producer} from '../../src/lib/client/producer.js'
import {Serdes, StreamsBuilder} from '../../src/streams/index.js'

const VOCABULARY = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'stream', 'table', 'kafka', 'café', "it's", 'naïve', 'log', 'offset', 'partition', 'commit']

/** `lines` deterministic lines (a linear congruential generator), with punctuation, case and blanks. */
export function corpus(lines: number, seed = 7): string[] {
  let x = seed
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  const out: string[] = []
  for (let i = 0; i < lines; i++) {
    const n = Math.floor(next() * 9)
    const words = Array.from({length: n}, () => {
      const w = VOCABULARY[Math.floor(next() * VOCABULARY.length)]!
      return next() < 0.2 ? w.toUpperCase() : w
    })
    out.push((next() < 0.3 ? '  ' : '') + words.join(next() < 0.5 ? ' ' : ', ') + (next() < 0.3 ? '!' : ''))
  }
  return out
}

/** The word count's tokenizer (as Kafka's example: lower case, split on \W+, empty tokens dropped). */
export function words(line: string): string[] {
  return line.toLowerCase().split(/\W+/).filter((w) => w.length > 0)
}

export function expectedCounts(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of lines) for (const w of words(line)) counts.set(w, (counts.get(w) ?? 0) + 1)
  return counts
}

export async function produceLines(bootstrap: string, topic: string, lines: readonly string[], startTimestamp = 1000): Promise<void> {
  const client = new KafkaClient({bootstrapServers: parseBootstrapServers(bootstrap)})
  try {
    const producer = new Producer(client, {lingerMs: 5})
    lines.forEach((line, i) => producer.push({key: null, timestamp: startTimestamp + i, topic, value: Buffer.from(line)}))
    await producer.close()
  } finally {
    await client.close()
  }
}

export async function produceRaw(bootstrap: string, topic: string, records: readonly {key: Buffer | null; value: Buffer | null; partition?: number; timestamp?: number}[]): Promise<void> {
  const client = new KafkaClient({bootstrapServers: parseBootstrapServers(bootstrap)})
  try {
    const producer = new Producer(client, {lingerMs: 0})
    for (const r of records) await producer.send({...r, topic})
    await producer.close()
  } finally {
    await client.close()
  }
}

/** Every record of a topic up to its end (its last stable offset under read_committed), in offset order per partition. */
export async function readAll(bootstrap: string, topic: string, isolationLevel = 0): Promise<{key: Buffer | null; value: Buffer | null; partition: number; offset: number; timestamp: number}[]> {
  const client = new KafkaClient({bootstrapServers: parseBootstrapServers(bootstrap)})
  try {
    const admin = new Admin(client)
    const info = await client.topic(topic)
    const ends = await admin.listOffsets(info.partitions.map((p) => ({partition: p.partition, timestamp: LATEST_TIMESTAMP, topic})), {isolationLevel})
    const out: {key: Buffer | null; value: Buffer | null; partition: number; offset: number; timestamp: number}[] = []
    const pending = ends.filter((e) => e.offset > 0n)
    if (pending.length === 0) return out
    const consumer = new Consumer(client, {isolationLevel, maxWaitMs: 100})
    consumer.assign(pending.map((e) => ({offset: 0n, partition: e.partition, topic})))
    const left = new Map(pending.map((e) => [e.partition, e.offset]))
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) if (BigInt(r.offset) < left.get(batch.partition)!) out.push({key: r.key, offset: r.offset, partition: batch.partition, timestamp: r.timestamp, value: r.value})
      if (batch.nextOffset >= (left.get(batch.partition) ?? 0n)) {
        consumer.pause(topic, batch.partition)
        left.delete(batch.partition)
        if (left.size === 0) break
      }
    }
    await consumer.close()
    return out
  } finally {
    await client.close()
  }
}

/** The latest count per word on a word-count output topic (String keys, Long values). */
export async function readCounts(bootstrap: string, topic: string, isolationLevel = 0): Promise<Map<string, number>> {
  const table = new Map<string, number>()
  for (const r of await readAll(bootstrap, topic, isolationLevel)) table.set(r.key!.toString(), Number(r.value!.readBigInt64BE(0)))
  return table
}

/** Kafka's word count: lines → words → groupBy(word) → count() → the output topic (String keys, Long counts). */
export function wordCountTopology(input = 'wc-input', output = 'wc-output') {
  const builder = new StreamsBuilder()
  builder
    .stream<string | null, string>(input, {keySerde: Serdes.String(), valueSerde: Serdes.String()})
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter((w) => w.length > 0))
    .groupBy((_key, word) => word, {keySerde: Serdes.String(), valueSerde: Serdes.String()})
    .count()
    .toStream()
    .to(output, {keySerde: Serdes.String(), valueSerde: Serdes.Long()})
  return builder.build()
}

export type Step = [topic: string, key: string | null, value: string | null, timestamp: number]

/**
 * Runs a topology over `steps` one record at a time (each produced only after the previous one
 * was processed, so the order across input topics is the steps' order, as TopologyTestDriver
 * pipes them), then reads `output` until it holds `expected` records. String keys and values.
 * Topics in `globalTopics` feed a GlobalKTable: their steps wait until the global store applied them.
 */
export async function runSteps(options: {
  bootstrap: string
  appId: string
  topology: import('../../src/streams/topology.js').Topology
  steps: readonly Step[]
  output: string
  expected: number
  stateDir: string
  globalTopics?: string[]
  partitions?: number
  /** Default true. false: produce everything at once (one input topic: its order is the partition's). */
  stepwise?: boolean
  config?: Partial<import('../../src/streams/kafka-streams.js').StreamsConfig>
}): Promise<{records: [string | null, string | null, number][]; dropped: number}> {
  const {KafkaStreams} = await import('../../src/streams/index.js')
  const {pollUntil} = await import('../e2e/harness.js')
  const client = new KafkaClient({bootstrapServers: parseBootstrapServers(options.bootstrap)})
  const topics = [...new Set([...options.steps.map((s) => s[0]), options.output])]
  const app = new KafkaStreams(options.topology, {
    'application.id': options.appId,
    'bootstrap.servers': options.bootstrap,
    'commit.interval.ms': 100,
    logger: {error: () => undefined, info: () => undefined, warn: () => undefined},
    'state.dir': options.stateDir,
    '__emit.interval.ms.kstreams.outer.join.spurious.results.fix__': 0,
    ...options.config,
  })
  try {
    const admin = new Admin(client)
    await admin.createTopics(topics.map((name) => ({name, numPartitions: options.partitions ?? 1, replicationFactor: 1})))
    const producer = new Producer(client, {lingerMs: 0})
    // Global topics' first records are produced before start: read at start, as Kafka bootstraps.
    await app.start()
    let processed = 0
    let applied = 0
    for (const [topic, key, value, timestamp] of options.steps) {
      await producer.send({key: key === null ? null : Buffer.from(key), timestamp, topic, value: value === null ? null : Buffer.from(value)})
      if (options.stepwise === false) continue
      if (options.globalTopics?.includes(topic)) {
        applied++
        await pollUntil(async () => app.globals!.applied, (n) => n >= applied, 20_000, `global record ${applied} applied`)
      } else {
        processed++
        await pollUntil(async () => app.metrics()['process-total'], (n) => n >= processed, 20_000, `record ${processed} processed`)
      }
    }
    await producer.close()
    const out = await pollUntil(() => readAll(options.bootstrap, options.output), (r) => r.length >= options.expected, 20_000, `${options.expected} outputs on ${options.output}`)
    return {dropped: app.metrics()['dropped-records-total'], records: out.map((r) => [r.key === null ? null : r.key.toString(), r.value === null ? null : r.value.toString(), r.timestamp])}
  } finally {
    await app.close()
    await client.close()
  }
}
