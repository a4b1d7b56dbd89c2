// Issue 13, the long form of the cluster fault test (the short form is
// test/e2e/cluster-faults.test.ts; both run test/e2e/cluster-faults-scenario.ts): three
// `kcli server start` processes on one etcd, an RF=3 topic with min.insync.replicas=2, idempotent
// acks=all producers (librdkafka and kafkajs) and a consumer reading along, while faults drawn
// from --seed run: kill-leader, pause-leader (a zombie past its session), restart-broker,
// stop-etcd. The checker then reports acknowledged records lost, misplaced, duplicated and
// reordered, divergent replicas and phantom reads (all must be 0), and the liveness failures
// (no recovery, or no progress, within the deadline).
//
//   npx tsx bench/cluster/faults.ts [--faults 100] [--seed N] [--kinds kill-leader,pause-leader,restart-broker,stop-etcd]
//        [--partitions 3] [--session-timeout-ms 3000] [--rate 100] [--python-producers 1]
//        [--kafkajs-producers 1] [--etcd-down-ms 3000] [--out bench/cluster/faults-report]
//        [--keep-dir DIR] [--quiet]
//
// Writes <out>.json (everything: options, each fault with its timings, the checker's report,
// the cluster's event log) and <out>.md (a short text for BENCHMARKS.md). --keep-dir keeps the
// brokers' data directories and logs (broker-<id>.log) there, for a post-mortem. Exit code 0
// when the checker found nothing and every fault recovered, 1 otherwise.

import {mkdirSync, writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {dirname, resolve} from 'node:path'
import {parseArgs} from 'node:util'
import {execFileSync} from 'node:child_process'
import {summarize} from '../../test/e2e/cluster-checker.js'
import {FAULT_KINDS, type FaultKind, runFaultScenario} from '../../test/e2e/cluster-faults-scenario.js'
import {stopAllPeers} from '../../test/e2e/peers.js'

const ROOT = resolve(import.meta.dirname, '../..')
const {values: options} = parseArgs({
  options: {
    faults: {type: 'string', default: '100'},
    seed: {type: 'string'},
    kinds: {type: 'string', default: FAULT_KINDS.join(',')},
    partitions: {type: 'string', default: '3'},
    'session-timeout-ms': {type: 'string', default: '3000'},
    rate: {type: 'string', default: '100'},
    'python-producers': {type: 'string', default: '1'},
    'kafkajs-producers': {type: 'string', default: '1'},
    'etcd-down-ms': {type: 'string', default: '3000'},
    out: {type: 'string', default: resolve(ROOT, 'bench/cluster/faults-report')},
    'keep-dir': {type: 'string'},
    quiet: {type: 'boolean', default: false},
  },
})

const kinds = options.kinds.split(',') as FaultKind[]
for (const k of kinds) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`--kinds: unknown fault ${k} (one of ${FAULT_KINDS.join(', ')})`)
const seed = options.seed !== undefined ? Number(options.seed) : Math.floor(Math.random() * 2 ** 31)
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).trim()
const loadBefore = loadavg()[0]!

process.on('SIGINT', () => {
  stopAllPeers()
  process.exit(130)
})

const result = await runFaultScenario({
  faults: Number(options.faults),
  seed,
  kinds,
  partitions: Number(options.partitions),
  sessionTimeoutMs: Number(options['session-timeout-ms']),
  rate: Number(options.rate),
  pythonProducers: Number(options['python-producers']),
  kafkajsProducers: Number(options['kafkajs-producers']),
  etcdDownMs: Number(options['etcd-down-ms']),
  ...(options['keep-dir'] ? {root: resolve(options['keep-dir']), keepRoot: true} : {}),
  log: options.quiet ? undefined : (line) => console.error(line),
})

const byKind = Object.fromEntries(
  kinds.map((kind) => {
    const fs = result.faults.filter((f) => f.kind === kind)
    const recoveries = fs.map((f) => f.recoveryMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b)
    const elections = fs.map((f) => f.electionMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b)
    const median = (xs: number[]) => (xs.length === 0 ? null : xs[Math.floor(xs.length / 2)]!)
    return [kind, {count: fs.length, failed: fs.filter((f) => f.error).length, recoveryMsMedian: median(recoveries), recoveryMsMax: recoveries.at(-1) ?? null, electionMsMedian: median(elections), zombieAnswers: kind === 'pause-leader' ? fs.map((f) => f.zombieAnswer ?? 'none') : undefined}]
  }),
)
const passed = result.check.ok && result.livenessFailures.length === 0
const report = {commit, date: new Date().toISOString(), machine: {cpus: cpus().length, loadBefore, loadAfter: loadavg()[0]}, passed, byKind, ...result}
mkdirSync(dirname(options.out), {recursive: true})
writeFileSync(`${options.out}.json`, JSON.stringify(report, null, 2) + '\n')

const text = [
  `# Cluster faults (issue 13): ${result.faults.length} faults, seed ${seed} — ${passed ? 'PASSED' : 'FAILED'}`,
  '',
  `\`npx tsx bench/cluster/faults.ts --faults ${options.faults} --seed ${seed}${options.kinds !== FAULT_KINDS.join(',') ? ` --kinds ${options.kinds}` : ''}\` at ${commit}, ${report.date}; ` +
    `3 brokers, ${options.partitions} partitions RF=3 min.insync.replicas=2, broker.session.timeout.ms=${options['session-timeout-ms']}, ` +
    `${options['python-producers']} librdkafka + ${options['kafkajs-producers']} kafkajs idempotent acks=all producers, a kcat consumer; ` +
    `${(result.durationMs / 60_000).toFixed(1)} min; ${cpus().length} CPUs, load ${loadBefore.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}.`,
  '',
  '```',
  summarize(result.check),
  `read along by the consumer: ${result.readAlong}`,
  `producers: ${Object.entries(result.producers).map(([name, p]) => `${name} ${p.acked} acked / ${p.failed} failed / ${p.incarnations} incarnations`).join('; ')}`,
  `liveness failures: ${result.livenessFailures.length}${result.livenessFailures.length ? `: ${result.livenessFailures.slice(0, 5).join(' | ')}` : ''}`,
  '```',
  '',
  '| fault | count | failed | recovery median / max (ms) | new leader median (ms) |',
  '|---|---:|---:|---:|---:|',
  ...Object.entries(byKind).map(([kind, k]) => `| ${kind} | ${k.count} | ${k.failed} | ${k.recoveryMsMedian ?? '-'} / ${k.recoveryMsMax ?? '-'} | ${k.electionMsMedian ?? '-'} |`),
  '',
  byKind['pause-leader'] && byKind['pause-leader'].count > 0 ? `Zombie answers to an acks=all Produce (pause-leader): ${JSON.stringify(countBy(byKind['pause-leader'].zombieAnswers ?? []))}.` : '',
].join('\n')
writeFileSync(`${options.out}.md`, text + '\n')
console.log(text)
process.exit(passed ? 0 : 1)

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const x of xs) out[x] = (out[x] ?? 0) + 1
  return out
}
