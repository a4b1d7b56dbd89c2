/**
 * Client quotas under load (issue 15), with real clients against one broker (a separate process,
 * Kafka's default windows: quota.window.num=11 of 1 s), each quota 1 MB/s:
 *
 *   produce phase, all at once: kafkajs held by a user quota (SASL/SCRAM user `limited`), kafkajs
 *     held by a client-id quota (`slow-app`), librdkafka (confluent-kafka-python, /usr/bin/python3)
 *     held by a client-id quota (`slow-rdkafka`), and an unlimited kafkajs producer. kafkajs sends
 *     requests of kafkajsMessages x 16 KB (acks=1) back to back — by default one 16 KB record a
 *     request, the size of the Java producer's default batch.size; 8 gives the 128 KB requests of
 *     the earlier runs; librdkafka 16 KB messages, acks=1, its own batching (linger.ms=5), a 4 MB
 *     queue so it blocks rather than buffers.
 *   consume phase, all at once, from topics filled beforehand: kafkajs held by the user quota,
 *     kafkajs held by a client-id quota (`slow-consumer`), librdkafka held by a client-id quota
 *     (`slow-rdkafka-consumer`), and an unlimited kafkajs consumer.
 *
 * Rates are measured from the client's side (acknowledged bytes for producers, record bytes
 * received for consumers; mutes and client-side throttling included): over the first 30 s (no
 * warm-up: the burst a new sensor allows included), over the 30 s after an 11 s warm-up (one full
 * set of samples), and the lowest and highest of every 30 s span of the run.
 *
 *   npx tsx bench/security/quotas.ts [measureSeconds=30] [warmupSeconds=11] [phases=produce,consume] [kafkajsMessages=1]
 */
import {spawn} from 'node:child_process'
import {pbkdf2Sync, randomBytes} from 'node:crypto'
import {Kafka, logLevel, type SASLOptions} from 'kafkajs'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {removeDir, spawnBroker, tempDir} from '../../test/e2e/harness.js'
import {RawClient} from '../../test/e2e/peers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const QUOTA = 1024 * 1024
const MEASURE_MS = Number(process.argv[2] ?? 30) * 1000
const WARMUP_MS = Number(process.argv[3] ?? 11) * 1000
const PHASES = (process.argv[4] ?? 'produce,consume').split(',')
/** 16 KB records per kafkajs produce request. */
const KAFKAJS_MESSAGES = Number(process.argv[5] ?? 1)
const RUN_MS = WARMUP_MS + MEASURE_MS
const SCRAM: SASLOptions = {mechanism: 'scram-sha-256', username: 'limited', password: 'limited-pw'}
/** Bytes each consumed topic is filled with: the quota over the run, the first burst, and room. */
const FILL_BYTES = QUOTA * (RUN_MS / 1000 + 20)

type Samples = Array<[number, number]>
interface Measured {
  samples: Samples
  throttles: number
}

function kafkaOf(port: number, clientId: string, sasl?: SASLOptions, onThrottle?: () => void): Kafka {
  return new Kafka({
    brokers: [`127.0.0.1:${port}`],
    clientId,
    sasl,
    logLevel: onThrottle ? logLevel.DEBUG : logLevel.NOTHING,
    logCreator: () => (entry) => {
      if (/Client side throttling in effect/.test(entry.log.message)) onThrottle?.()
    },
  })
}

async function kafkajsProduce(port: number, topic: string, clientId: string, untilMs: number, sasl?: SASLOptions): Promise<Measured> {
  let throttles = 0
  const producer = kafkaOf(port, clientId, sasl, () => throttles++).producer({allowAutoTopicCreation: false})
  await producer.connect()
  const value = randomBytes(16 * 1024)
  const messages = Array.from({length: KAFKAJS_MESSAGES}, () => ({value}))
  const samples: Samples = []
  while (Date.now() < untilMs) {
    await producer.send({topic, acks: 1, messages})
    samples.push([Date.now(), value.length * messages.length])
  }
  await producer.disconnect()
  return {samples, throttles}
}

async function kafkajsConsume(port: number, topic: string, clientId: string, startMs: number, untilMs: number, sasl?: SASLOptions): Promise<Measured> {
  let throttles = 0
  const consumer = kafkaOf(port, clientId, sasl, () => throttles++).consumer({groupId: `${clientId}-group`, maxWaitTimeInMs: 500})
  await consumer.connect()
  await consumer.subscribe({topic, fromBeginning: true})
  const samples: Samples = []
  await consumer.run({
    eachBatch: async ({batch}) => {
      const now = Date.now()
      if (now >= startMs && now < untilMs) samples.push([now, batch.messages.reduce((n, m) => n + (m.value?.length ?? 0), 0)])
    },
  })
  await new Promise((r) => setTimeout(r, Math.max(0, untilMs - Date.now())))
  await consumer.disconnect()
  return {samples, throttles}
}

/** librdkafka through confluent-kafka-python: prints one JSON line of [time ms, bytes] samples and throttle events. */
const RDKAFKA_SCRIPT = String.raw`
import json, os, sys, time
from confluent_kafka import Consumer, Producer
mode, bootstrap, topic, client_id, start, until = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
samples, throttles = [], [0]
def on_throttle(event):
    if event.throttle_time > 0: throttles[0] += 1
now = lambda: time.time() * 1000
if mode == 'produce':
    p = Producer({'bootstrap.servers': bootstrap, 'client.id': client_id, 'acks': 1, 'linger.ms': 5, 'queue.buffering.max.kbytes': 4096, 'throttle_cb': on_throttle})
    value = os.urandom(16384)
    def delivered(err, msg):
        if err is None: samples.append([now(), len(msg.value())])
    while now() < until:
        try:
            p.produce(topic, value, callback=delivered)
        except BufferError:
            p.poll(0.05)
            continue
        p.poll(0)
    p.poll(0)
else:
    c = Consumer({'bootstrap.servers': bootstrap, 'client.id': client_id, 'group.id': client_id + '-group', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False, 'throttle_cb': on_throttle})
    c.subscribe([topic])
    while now() < until:
        for m in c.consume(num_messages=1000, timeout=0.2):
            t = now()
            if m.error() is None and start <= t < until: samples.append([t, len(m.value())])
    c.close()
print(json.dumps({'samples': samples, 'throttles': throttles[0]}))
sys.stdout.flush()
os._exit(0)
`

function rdkafka(mode: 'produce' | 'consume', port: number, topic: string, clientId: string, startMs: number, untilMs: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', RDKAFKA_SCRIPT, mode, `127.0.0.1:${port}`, topic, clientId, String(startMs), String(untilMs)], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!))
      } catch {
        reject(new Error(`librdkafka ${mode} exited with ${code}: ${err.slice(-2000)}`))
      }
    })
  })
}

function rate(samples: Samples, from: number, to: number): number {
  return (samples.filter(([t]) => t >= from && t < to).reduce((s, [, b]) => s + b, 0) * 1000) / (to - from)
}

function report(name: string, r: Measured, start: number, quota?: number) {
  const spans: number[] = []
  for (let s = start; s + 30_000 <= start + RUN_MS; s += 1000) spans.push(rate(r.samples, s, s + 30_000))
  const ratio = (x: number) => (quota ? +(x / quota).toFixed(3) : +(x / QUOTA).toFixed(1))
  return {
    client: name,
    [quota ? 'first30s' : 'first30sMBps']: ratio(rate(r.samples, start, start + 30_000)),
    [quota ? 'after11sWarmup30s' : 'after11sWarmup30sMBps']: ratio(rate(r.samples, start + WARMUP_MS, start + WARMUP_MS + MEASURE_MS)),
    every30s: quota ? `${ratio(Math.min(...spans))}..${ratio(Math.max(...spans))}` : '-',
    throttledResponses: r.throttles,
  }
}

/** An unlimited consumer reads its whole topic quickly: its rate while it had records to read. */
function unlimitedConsumer(name: string, r: Measured) {
  const times = r.samples.map(([t]) => t)
  const bytes = r.samples.reduce((n, [, b]) => n + b, 0)
  const seconds = (Math.max(...times) - Math.min(...times)) / 1000
  return {client: name, readMB: +(bytes / QUOTA).toFixed(1), inSeconds: +seconds.toFixed(1), MBps: +(bytes / QUOTA / Math.max(seconds, 0.001)).toFixed(1), throttledResponses: r.throttles}
}

async function main(): Promise<void> {
  const dir = tempDir('kcli-bench-quotas-')
  const broker = await spawnBroker(dir, {listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'SCRAM-SHA-256'}, null)
  const out: Record<string, unknown> = {measureSeconds: MEASURE_MS / 1000, warmupSeconds: WARMUP_MS / 1000, quotaBytesPerSecond: QUOTA, kafkajsRequestRecords: KAFKAJS_MESSAGES, recordBytes: 16 * 1024}
  try {
    const plain = broker.listeners.find((l) => l.name === 'PLAINTEXT')!.port
    const sasl = broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port
    const admin = await RawClient.connect(plain)
    const salt = randomBytes(32)
    await admin.request(ApiKey.AlterUserScramCredentials, 0, {deletions: [], upsertions: [{name: 'limited', mechanism: 1, iterations: 4096, salt, saltedPassword: pbkdf2Sync('limited-pw', salt, 4096, 32, 'sha256')}]})
    const topics = ['by-user', 'by-client', 'by-rdkafka', 'free', 'c-by-user', 'c-by-client', 'c-by-rdkafka', 'c-free']
    await admin.request(ApiKey.CreateTopics, 7, {topics: topics.map((name) => ({name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: []})), timeoutMs: 5000, validateOnly: false})
    const set = (entity: Array<{entityType: string; entityName: string}>, key: string) => ({entity, ops: [{key, value: QUOTA, remove: false}]})
    const q = await admin.request(ApiKey.AlterClientQuotas, 1, {
      validateOnly: false,
      entries: [
        {entity: [{entityType: 'user', entityName: 'limited'}], ops: [{key: 'producer_byte_rate', value: QUOTA, remove: false}, {key: 'consumer_byte_rate', value: QUOTA, remove: false}]},
        set([{entityType: 'client-id', entityName: 'slow-app'}], 'producer_byte_rate'),
        set([{entityType: 'client-id', entityName: 'slow-rdkafka'}], 'producer_byte_rate'),
        set([{entityType: 'client-id', entityName: 'slow-consumer'}], 'consumer_byte_rate'),
        set([{entityType: 'client-id', entityName: 'slow-rdkafka-consumer'}], 'consumer_byte_rate'),
      ],
    })
    if (q.entries.some((e) => e.errorCode !== 0)) throw new Error('AlterClientQuotas failed')
    admin.close()

    if (PHASES.includes('produce')) {
      const start = Date.now()
      const end = start + RUN_MS
      const [byUser, byClient, byRdkafka, free] = await Promise.all([
        kafkajsProduce(sasl, 'by-user', 'user-app', end, SCRAM),
        kafkajsProduce(plain, 'by-client', 'slow-app', end),
        rdkafka('produce', plain, 'by-rdkafka', 'slow-rdkafka', start, end),
        kafkajsProduce(plain, 'free', 'free-app', end),
      ])
      out.produce = [
        report('kafkajs, user quota (SCRAM user limited)', byUser, start, QUOTA),
        report('kafkajs, client-id quota (slow-app)', byClient, start, QUOTA),
        report('librdkafka 2.0.2, client-id quota (slow-rdkafka)', byRdkafka, start, QUOTA),
        report('kafkajs, unlimited (free-app)', free, start),
      ]
    }

    if (PHASES.includes('consume')) {
      // Fill the consumed topics with an unlimited producer first.
      const filler = kafkaOf(plain, 'filler').producer({allowAutoTopicCreation: false})
      await filler.connect()
      const value = randomBytes(16 * 1024)
      const messages = Array.from({length: 32}, () => ({value}))
      for (const topic of ['c-by-user', 'c-by-client', 'c-by-rdkafka', 'c-free']) {
        for (let sent = 0; sent < FILL_BYTES; sent += value.length * messages.length) await filler.send({topic, acks: 1, messages})
      }
      await filler.disconnect()
      // A consumer's clock starts with the first records it receives (joining the group takes
      // group.initial.rebalance.delay.ms, 3 s, and no fetch happens before): it runs 8 s longer.
      const start = Date.now()
      const end = start + 8000 + RUN_MS
      const [byUser, byClient, byRdkafka, free] = await Promise.all([
        kafkajsConsume(sasl, 'c-by-user', 'user-consumer', start, end, SCRAM),
        kafkajsConsume(plain, 'c-by-client', 'slow-consumer', start, end),
        rdkafka('consume', plain, 'c-by-rdkafka', 'slow-rdkafka-consumer', start, end),
        kafkajsConsume(plain, 'c-free', 'free-consumer', start, end),
      ])
      const first = (m: Measured) => {
        if (m.samples.length === 0) throw new Error('a consumer received nothing')
        const t = Math.min(...m.samples.map(([at]) => at))
        if (t + RUN_MS > end) throw new Error('a consumer started too late to be measured over the whole run')
        return t
      }
      out.consume = [
        report('kafkajs, user quota (SCRAM user limited)', byUser, first(byUser), QUOTA),
        report('kafkajs, client-id quota (slow-consumer)', byClient, first(byClient), QUOTA),
        report('librdkafka 2.0.2, client-id quota (slow-rdkafka-consumer)', byRdkafka, first(byRdkafka), QUOTA),
        unlimitedConsumer('kafkajs, unlimited (free-consumer)', free),
      ]
    }
    console.log(JSON.stringify(out, null, 1))
  } finally {
    await broker.kill()
    removeDir(dir)
  }
}

await main()
