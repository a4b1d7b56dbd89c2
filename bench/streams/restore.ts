// kcli Streams restore: how long a task's state takes to come back, for a store of `keys` keys.
//
//   npx tsx bench/streams/restore.ts [--keys 1000000] [--partitions 4]
//
// One broker child process (test/e2e/harness.ts spawnBroker, a new data directory, removed at the
// end). Input: `keys` records with distinct keys (`key-<i>`, ~10 B values) over `partitions`
// partitions. The application (in this process): stream(in).groupByKey().count() — one
// persistent store per task, logged to `<app>-...-changelog` (compacted), at_least_once.
//
//   fill          the first run counts every record (a changelog of `keys` records) and closes
//                 cleanly (checkpoints written);
//   from-changelog  a new instance with an empty state directory (a new machine, a lost disk):
//                 start() to RUNNING, every store restored from its changelog;
//   from-checkpoint the same instance restarted on its state directory: only what the checkpoint
//                 does not cover is restored (nothing);
//   failover      two instances in one group, A holding every task; A closes (leaves the group)
//                 and B takes over A's tasks — with num.standby.replicas=0 (B restores them from
//                 the changelogs) and =1 (B kept standbys up to date: the tail only). Time from
//                 A's close() to B RUNNING with every task.
// Each time is wall clock on the loaded 2-core machine; the load average is printed.

import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin} from '../../src/lib/client/admin.js'
import {KafkaClient, sleep} from '../../src/lib/client/client.js'
import {Producer} from '../../src/lib/client/producer.js'
import {KafkaStreams, Serdes, StreamsBuilder, type StreamsConfig} from '../../src/streams/index.js'
import {removeDir, spawnBroker, tempDir} from '../../test/e2e/harness.js'

const {values: options} = parseArgs({options: {keys: {default: '1000000', type: 'string'}, partitions: {default: '4', type: 'string'}}})
const KEYS = Number(options.keys)
const PARTITIONS = Number(options.partitions)

const dataDir = tempDir('kcli-streams-restore-')
const dirs: string[] = [dataDir]
const broker = await spawnBroker(dataDir, {'group.initial.rebalance.delay.ms': '0'})
const client = new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)})
const admin = new Admin(client)
const results: {case: string; seconds: number; restored: number; maxRssMiB: number}[] = []
let maxRss = 0
const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 100)

function app(appId: string, stateDir: string, extra: Partial<StreamsConfig> = {}): KafkaStreams {
  const b = new StreamsBuilder()
  b.stream<string, string>('restore-in', {keySerde: Serdes.String(), valueSerde: Serdes.String()}).groupByKey().count()
  return new KafkaStreams(b.build(), {
    'application.id': appId,
    'bootstrap.servers': broker.bootstrap,
    'commit.interval.ms': 1000,
    'heartbeat.interval.ms': 500,
    logger: {error: (m) => process.stderr.write(`${m}\n`), info: () => undefined, warn: () => undefined},
    'state.dir': stateDir,
    // As when BENCHMARKS.md's figures were taken: every update logged (no record cache).
    'statestore.cache.max.bytes': 0,
    ...extra,
  })
}

async function until(what: string, ok: () => boolean, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

function record(name: string, t0: number, restored: number): void {
  const r = {case: name, maxRssMiB: maxRss / 2 ** 20, restored, seconds: (performance.now() - t0) / 1000}
  results.push(r)
  process.stderr.write(`${name}: ${r.seconds.toFixed(2)} s, ${restored} records restored (${(restored / r.seconds / 1000).toFixed(0)} k/s), max RSS ${r.maxRssMiB.toFixed(0)} MiB, load ${loadavg()[0]!.toFixed(1)}\n`)
}

function stateDir(): string {
  const d = tempDir('kcli-streams-restore-state-')
  dirs.push(d)
  return d
}

try {
  await admin.createTopics([{name: 'restore-in', numPartitions: PARTITIONS, replicationFactor: 1}])
  const producer = new Producer(client, {lingerMs: 5})
  for (let i = 0; i < KEYS; i++) {
    if (!producer.push({key: Buffer.from(`key-${i}`), topic: 'restore-in', value: Buffer.from(`v${i}`)})) await producer.waitForSpace()
  }
  await producer.close()

  for (const standbys of [0, 1]) {
    const appId = `restore-${standbys}`
    // fill
    const dirA = stateDir()
    let a = app(appId, dirA)
    let t0 = performance.now()
    await a.start()
    await until('the fill', () => a.metrics()['process-total'] >= KEYS)
    await a.close()
    record(`fill (count ${KEYS} keys) [${appId}]`, t0, 0)

    if (standbys === 0) {
      // from-changelog
      const fresh = app(appId, stateDir())
      maxRss = process.memoryUsage().rss
      t0 = performance.now()
      await fresh.start()
      await until('RUNNING', () => fresh.state === 'RUNNING')
      record('from-changelog (empty state directory)', t0, fresh.restoredRecords)
      await fresh.close()
      // from-checkpoint
      a = app(appId, dirA)
      t0 = performance.now()
      await a.start()
      await until('RUNNING', () => a.state === 'RUNNING')
      record('from-checkpoint (restart on its state directory)', t0, a.restoredRecords)
      await a.close()
    }

    // failover: A (all tasks, its state from the fill) and B (empty state; standbys when asked)
    a = app(appId, dirA, {'num.standby.replicas': standbys})
    await a.start()
    await until('A RUNNING', () => a.state === 'RUNNING' && a.localTasks().active.length === PARTITIONS)
    const b = app(appId, stateDir(), {'num.standby.replicas': standbys})
    await b.start()
    // B joins and the tasks are shared; B's standbys (if any) catch up; then A closes.
    await until('both RUNNING with tasks', () => a.state === 'RUNNING' && b.state === 'RUNNING' && a.localTasks().active.length > 0 && b.localTasks().active.length > 0 && a.localTasks().active.length + b.localTasks().active.length === PARTITIONS)
    if (standbys > 0) await until('standbys caught up', () => b.localTasks().standby.length > 0 && b.metrics()['standby-update-total'] >= KEYS * (b.localTasks().standby.length / PARTITIONS) * 0.99)
    const restoredBefore = b.restoredRecords
    maxRss = process.memoryUsage().rss
    t0 = performance.now()
    await a.close()
    await until('B with every task', () => b.state === 'RUNNING' && b.localTasks().active.length === PARTITIONS)
    record(`failover, num.standby.replicas=${standbys} (A closes, B takes A's tasks)`, t0, b.restoredRecords - restoredBefore)
    await b.close()
  }
} finally {
  clearInterval(sampler)
  await client.close()
  await broker.kill('SIGTERM')
  for (const d of dirs) removeDir(d)
}

console.log(`| case | seconds | records restored | k records/s | max RSS MiB |`)
console.log(`|---|---:|---:|---:|---:|`)
for (const r of results) console.log(`| ${r.case} | ${r.seconds.toFixed(2)} | ${r.restored} | ${r.restored > 0 ? (r.restored / r.seconds / 1000).toFixed(0) : '-'} | ${r.maxRssMiB.toFixed(0)} |`)
console.log(JSON.stringify({keys: KEYS, load: loadavg(), partitions: PARTITIONS, results}))
