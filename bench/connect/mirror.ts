// Mirror throughput: records per second replicated by one MirrorSourceTask, with the process's CPU
// and memory.
//
//   node --expose-gc --import tsx bench/connect/mirror.ts [--records 200000] [--partitions 6] [--value-bytes 100]
//
// Two `kcli server start` child processes (test/e2e/harness.ts spawnBroker, new data directories
// under /tmp, removed at the end): the source and the target. The source topic `bench` gets
// `records` records of `value-bytes` random bytes (keyed) before the mirror starts; then a
// MirrorSourceConnector and one task run in this process through the test driver
// (test/e2e/connect-mirror-support.ts: poll → produce to the target with acks=all →
// commitRecord → commit after every poll, offset syncs with offset.lag.max=100), until every
// record is on the target. Figures: records/s from the task's start to the last acknowledgement,
// CPU seconds of this process (task + driver + both clients; the brokers are other processes),
// RSS before the task started (after producing the input in this process; a GC first with
// --expose-gc) and its peak. The driver is not the Connect worker: the worker's figures will differ.

import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'
import {randomBytes} from 'node:crypto'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {Producer} from '../../src/lib/client/producer.js'
import {MirrorSourceConnector} from '../../src/lib/connect/mirror/index.js'
import {SourceTaskDriver} from '../../test/e2e/connect-mirror-support.js'
import {removeDir, spawnBroker, tempDir} from '../../test/e2e/harness.js'

const {values: options} = parseArgs({options: {records: {default: '200000', type: 'string'}, partitions: {default: '6', type: 'string'}, 'value-bytes': {default: '100', type: 'string'}}})
const records = Number(options.records)
const partitions = Number(options.partitions)
const value = randomBytes(Number(options['value-bytes']))

const dirs = [tempDir('kcli-bench-mirror-src-'), tempDir('kcli-bench-mirror-dst-')]
const [src, dst] = await Promise.all(dirs.map((d) => spawnBroker(d)))
const srcClient = new KafkaClient({bootstrapServers: parseBootstrapServers(src!.bootstrap)})
const dstClient = new KafkaClient({bootstrapServers: parseBootstrapServers(dst!.bootstrap)})
try {
  await new Admin(srcClient).createTopics([{name: 'bench', numPartitions: partitions, replicationFactor: 1}])
  const producer = new Producer(srcClient, {acks: 1, lingerMs: 5})
  for (let i = 0; i < records; i++) {
    if (!producer.push({topic: 'bench', key: Buffer.from(`k${i}`), value})) await producer.waitForSpace()
  }
  await producer.close()

  const connector = new MirrorSourceConnector()
  await connector.start({
    'source.cluster.alias': 'src', 'target.cluster.alias': 'dst',
    'source.cluster.bootstrap.servers': src!.bootstrap, 'target.cluster.bootstrap.servers': dst!.bootstrap,
    topics: 'bench', 'replication.factor': '1', 'offset-syncs.topic.replication.factor': '1', 'consumer.poll.timeout.ms': '200',
  })
  const task = connector.createTask()
  const driver = new SourceTaskDriver(task, dstClient)
  task.initialize(driver.context())
  globalThis.gc?.()
  const rssBefore = process.memoryUsage().rss
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let peakRss = 0
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 100)
  await task.start(connector.taskConfigs(1)[0]!)
  await driver.runUntil(() => driver.produced >= records, 600_000, 'all records mirrored')
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  await driver.close()
  await connector.stop()
  const result = {records, partitions, valueBytes: value.length, seconds: +seconds.toFixed(2), recordsPerSecond: Math.round(records / seconds), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2), rssBeforeMiB: Math.round(rssBefore / 2 ** 20), peakRssMiB: Math.round(peakRss / 2 ** 20), loadAverage: loadavg().map((l) => +l.toFixed(1))}
  console.log(`mirrored ${records} records (${partitions} partitions, ${value.length} B values) in ${result.seconds} s: ${result.recordsPerSecond} records/s, ${result.cpuSeconds} CPU s, RSS ${result.rssBeforeMiB} MiB before the task, peak ${result.peakRssMiB} MiB, load ${result.loadAverage.join(' ')}`)
  console.log(JSON.stringify(result))
} finally {
  await srcClient.close()
  await dstClient.close()
  await Promise.all([src!.kill(), dst!.kill()])
  for (const d of dirs) removeDir(d)
}
