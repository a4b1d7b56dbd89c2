// kcli Streams throughput: a stateless map and a stateful count, at_least_once and
// exactly_once_v2, measured in the same run against one broker.
//
//   npx tsx bench/streams/bench.ts [--records 200000] [--keys 10000] [--repeats 2]
//
// One broker child process (`kcli server start` from source through tsx, test/e2e/harness.ts
// spawnBroker, default configs, a new data directory under /tmp, removed at the end). Per repeat,
// the four cases run in a rotating order, each on new topics (3 partitions in and out) and a new
// application id and state directory:
//
//   map     stream(in).mapValues(v => v.toUpperCase()).to(out)            (String serdes)
//   count   stream(in).groupByKey().count().toStream().to(out)             (String keys, Long counts; no repartition)
//
// Input: `records` records of ~20 B values, keys `k0..k<keys-1>` round robin, produced before the
// application starts. Time: from start() until the output holds one record per input record
// (listed by end offsets; read_committed's last stable offset under exactly_once_v2). CPU: this
// process's user+system time over the same span (the application runs here; the broker is a
// separate process), per million records. Memory: the largest RSS sampled every 100 ms.
// commit.interval.ms is Kafka Streams' default for each guarantee (30 s / 100 ms); under
// at_least_once the run's end is seen before any commit, which is what a steady state costs.

import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin, LATEST_TIMESTAMP} from '../../src/lib/client/admin.js'
import {KafkaClient, sleep} from '../../src/lib/client/client.js'
import {Producer} from '../../src/lib/client/producer.js'
import {KafkaStreams, Serdes, StreamsBuilder} from '../../src/streams/index.js'
import {removeDir, spawnBroker, tempDir} from '../../test/e2e/harness.js'

const {values: options} = parseArgs({
  options: {
    records: {default: '200000', type: 'string'},
    keys: {default: '10000', type: 'string'},
    repeats: {default: '2', type: 'string'},
  },
})
const RECORDS = Number(options.records)
const KEYS = Number(options.keys)
const REPEATS = Number(options.repeats)
type Kind = 'map' | 'count'
type Guarantee = 'at_least_once' | 'exactly_once_v2'
const CASES: [Kind, Guarantee][] = [['map', 'at_least_once'], ['map', 'exactly_once_v2'], ['count', 'at_least_once'], ['count', 'exactly_once_v2']]

const dataDir = tempDir('kcli-streams-bench-')
const broker = await spawnBroker(dataDir, {'group.initial.rebalance.delay.ms': '0'})
const client = new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)})
const admin = new Admin(client)
const results: {kind: Kind; guarantee: Guarantee; repeat: number; seconds: number; recordsPerSecond: number; cpuSecondsPerMillion: number; maxRssMiB: number}[] = []
let run = 0

async function outputCount(topic: string, isolationLevel: number): Promise<bigint> {
  const offsets = await admin.listOffsets([0, 1, 2].map((partition) => ({partition, timestamp: LATEST_TIMESTAMP, topic})), {isolationLevel})
  return offsets.reduce((a, o) => a + o.offset, 0n)
}

async function once(kind: Kind, guarantee: Guarantee, repeat: number): Promise<void> {
  run++
  const input = `in-${run}`
  const output = `out-${run}`
  await admin.createTopics([input, output].map((name) => ({name, numPartitions: 3, replicationFactor: 1})))
  const producer = new Producer(client, {lingerMs: 5})
  for (let i = 0; i < RECORDS; i++) {
    if (!producer.push({key: Buffer.from(`k${i % KEYS}`), topic: input, value: Buffer.from(`value-${String(i).padStart(12, '0')}`)})) await producer.waitForSpace()
  }
  await producer.close()
  const b = new StreamsBuilder()
  const s = b.stream<string, string>(input, {keySerde: Serdes.String(), valueSerde: Serdes.String()})
  if (kind === 'map') s.mapValues((v) => v.toUpperCase()).to(output)
  else s.groupByKey().count().toStream().to(output, {valueSerde: Serdes.Long()})
  const stateDir = tempDir('kcli-streams-bench-state-')
  const app = new KafkaStreams(b.build(), {
    'application.id': `bench-${run}`,
    'bootstrap.servers': broker.bootstrap,
    'default.key.serde': Serdes.String(),
    'default.value.serde': Serdes.String(),
    logger: {error: (m) => process.stderr.write(`${m}\n`), info: () => undefined, warn: () => undefined},
    'processing.guarantee': guarantee,
    'state.dir': stateDir,
    // Every update is an output record (the run ends at one output per input): no record cache.
    'statestore.cache.max.bytes': 0,
  })
  let maxRss = process.memoryUsage().rss
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 100)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await app.start()
  const isolation = guarantee === 'exactly_once_v2' ? 1 : 0
  // Under exactly_once_v2 end offsets include commit markers: the run ends at the first commit
  // that starts after every record was processed (it commits all their results).
  let commitsWhenDone = -1
  for (;;) {
    if (app.error) throw app.error
    const m = app.metrics()
    if (m['process-total'] >= RECORDS) {
      if (isolation === 0) {
        if ((await outputCount(output, 0)) >= BigInt(RECORDS)) break
      } else if (commitsWhenDone < 0) commitsWhenDone = m['commit-total']
      else if (m['commit-total'] > commitsWhenDone) break
    }
    await sleep(20)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  await app.close()
  removeDir(stateDir)
  await admin.deleteTopics([input, output])
  const r = {cpuSecondsPerMillion: ((cpu.user + cpu.system) / 1e6) * (1e6 / RECORDS), guarantee, kind, maxRssMiB: maxRss / 2 ** 20, recordsPerSecond: RECORDS / seconds, repeat, seconds}
  results.push(r)
  process.stderr.write(`${kind} ${guarantee} repeat ${repeat}: ${r.recordsPerSecond.toFixed(0)} records/s, ${r.cpuSecondsPerMillion.toFixed(1)} CPU s/M, RSS ${r.maxRssMiB.toFixed(0)} MiB, load ${loadavg()[0]!.toFixed(1)}\n`)
}

try {
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (let i = 0; i < CASES.length; i++) {
      const [kind, guarantee] = CASES[(i + repeat) % CASES.length]!
      await once(kind, guarantee, repeat)
    }
  }
} finally {
  await client.close()
  await broker.kill('SIGTERM')
  removeDir(dataDir)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`| case | k records/s | EOS ÷ ALOS | CPU s / M records | max RSS MiB |`)
console.log(`|---|---:|---:|---:|---:|`)
for (const [kind, guarantee] of CASES) {
  const rows = results.filter((r) => r.kind === kind && r.guarantee === guarantee)
  const alos = results.filter((r) => r.kind === kind && r.guarantee === 'at_least_once')
  const rate = median(rows.map((r) => r.recordsPerSecond))
  const ratios = rows.map((r) => r.recordsPerSecond / alos.find((a) => a.repeat === r.repeat)!.recordsPerSecond)
  console.log(`| ${kind} ${guarantee} | ${(rate / 1000).toFixed(1)} [${(Math.min(...rows.map((r) => r.recordsPerSecond)) / 1000).toFixed(1)}–${(Math.max(...rows.map((r) => r.recordsPerSecond)) / 1000).toFixed(1)}] | ${median(ratios).toFixed(2)} | ${median(rows.map((r) => r.cpuSecondsPerMillion)).toFixed(1)} | ${median(rows.map((r) => r.maxRssMiB)).toFixed(0)} |`)
}
console.log(JSON.stringify({keys: KEYS, load: loadavg(), records: RECORDS, repeats: REPEATS, results}))
