// Issue 13: produce throughput of a replicated topic against an unreplicated one on the same three
// brokers (one etcd, three `kcli server start` processes: test/e2e/cluster-support.ts). The load
// generator is librdkafka (bench/broker/loadgen.py `produce`, Debian's confluent-kafka-python:
// produce() as fast as the client queue allows, then flush(); no idempotence, no compression,
// librdkafka's default linger):
//   RF=3, min.insync.replicas=2, acks=all   against   RF=1, acks=1
// for each record size, each case on a fresh topic of --partitions partitions (leaders spread
// over the three brokers), cases interleaved and repeated --repeats times; medians, min-max and
// the ratio RF=3 acks=all / RF=1 acks=1.
//
//   npx tsx bench/cluster/throughput.ts [--sizes 100,1024] [--partitions 6] [--repeats 3]
//        [--count-100 300000] [--count-1024 100000] [--out bench/cluster/throughput]
//
// The brokers run from source (tsx, as the e2e tests start them). Writes <out>.json and <out>.md.

import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'
import {Kafka, logLevel} from 'kafkajs'
import {TestCluster} from '../../test/e2e/cluster-support.js'
import {PYTHON, run} from '../../test/e2e/peers.js'

const ROOT = resolve(import.meta.dirname, '../..')
const LOADGEN = join(ROOT, 'bench/broker/loadgen.py')
const {values: options} = parseArgs({
  options: {
    sizes: {type: 'string', default: '100,1024'},
    partitions: {type: 'string', default: '6'},
    repeats: {type: 'string', default: '3'},
    'count-100': {type: 'string', default: '300000'},
    'count-1024': {type: 'string', default: '100000'},
    out: {type: 'string', default: resolve(ROOT, 'bench/cluster/throughput')},
  },
})
const sizes = options.sizes.split(',').map(Number)
const partitions = Number(options.partitions)
const repeats = Number(options.repeats)
const countFor = (size: number) => (size === 100 ? Number(options['count-100']) : size === 1024 ? Number(options['count-1024']) : Math.round(30e6 / size))
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).trim()
const cases = [
  {name: 'RF=3 acks=all', replicationFactor: 3, acks: -1},
  {name: 'RF=1 acks=1', replicationFactor: 1, acks: 1},
]

interface Run {
  case: string
  size: number
  repeat: number
  count: number
  msgsPerS: number
  mbPerS: number
}

const loadBefore = loadavg()[0]!
const cluster = await TestCluster.start({sessionTimeoutMs: 9000, onEvent: (e) => console.error(`[${(e.at / 1000).toFixed(1)}s] ${e.what}`)})
const runs: Run[] = []
try {
  const admin = new Kafka({brokers: cluster.bootstrap().split(','), clientId: 'cluster-throughput', logLevel: logLevel.NOTHING}).admin()
  await admin.connect()
  try {
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const size of sizes) {
        for (const c of cases) {
          const topic = `tp-rf${c.replicationFactor}-s${size}-r${repeat}`
          await admin.createTopics({topics: [{topic, numPartitions: partitions, replicationFactor: c.replicationFactor, configEntries: [{name: 'min.insync.replicas', value: String(Math.min(2, c.replicationFactor))}]}], waitForLeaders: true})
          await cluster.waitForHealthy(topic, {isr: c.replicationFactor})
          const count = countFor(size)
          const result = await run(PYTHON, [LOADGEN, 'produce', '--bootstrap', cluster.bootstrap(), '--topic', topic, '--count', String(count), '--size', String(size), '--acks', String(c.acks)], {timeoutMs: 600_000})
          if (result.code !== 0) throw new Error(`loadgen ${topic}: ${result.stderr}`)
          const out = JSON.parse(result.stdout.toString().trim().split('\n').at(-1)!) as {msgs_per_s: number; mb_per_s: number}
          runs.push({case: c.name, size, repeat, count, msgsPerS: out.msgs_per_s, mbPerS: out.mb_per_s})
          console.error(`${c.name} ${size} B, repeat ${repeat}: ${Math.round(out.msgs_per_s)} msg/s, ${out.mb_per_s.toFixed(1)} MB/s`)
          await admin.deleteTopics({topics: [topic]})
        }
      }
    }
  } finally {
    await admin.disconnect()
  }
} finally {
  await cluster.close()
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const summary = sizes.map((size) => {
  const of = (name: string) => runs.filter((r) => r.size === size && r.case === name).map((r) => r.msgsPerS)
  const rf3 = of(cases[0]!.name)
  const rf1 = of(cases[1]!.name)
  return {size, rf3: {median: median(rf3), min: Math.min(...rf3), max: Math.max(...rf3)}, rf1: {median: median(rf1), min: Math.min(...rf1), max: Math.max(...rf1)}, ratio: median(rf3) / median(rf1)}
})
const report = {commit, date: new Date().toISOString(), machine: {cpus: cpus().length, loadBefore, loadAfter: loadavg()[0]}, partitions, repeats, runs, summary}
writeFileSync(`${options.out}.json`, JSON.stringify(report, null, 2) + '\n')
const fmt = (x: {median: number; min: number; max: number}, size: number) => `${Math.round(x.median).toLocaleString('en')} msg/s (${(x.median * size / 1e6).toFixed(1)} MB/s; ${Math.round(x.min).toLocaleString('en')}-${Math.round(x.max).toLocaleString('en')})`
const text = [
  `# Cluster produce throughput (issue 13): RF=3 acks=all vs RF=1 acks=1, same three brokers`,
  '',
  `\`npx tsx bench/cluster/throughput.ts --sizes ${options.sizes} --partitions ${partitions} --repeats ${repeats}\` at ${commit}, ${report.date}; ` +
    `librdkafka (confluent-kafka-python, bench/broker/loadgen.py produce), ${partitions} partitions, medians of ${repeats} (min-max); ${cpus().length} CPUs shared by the three brokers, etcd and the load generator; load ${loadBefore.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}.`,
  '',
  '| record size | RF=3, min.insync.replicas=2, acks=all | RF=1, acks=1 | ratio |',
  '|---:|---:|---:|---:|',
  ...summary.map((s) => `| ${s.size} B | ${fmt(s.rf3, s.size)} | ${fmt(s.rf1, s.size)} | ${s.ratio.toFixed(2)} |`),
].join('\n')
writeFileSync(`${options.out}.md`, text + '\n')
console.log(text)
