// Issue 13: failover time and partition creation time of a three-broker kcli cluster on etcd
// (test/e2e/cluster-support.ts).
//   1. Failover: a topic of one partition, RF=3, min.insync.replicas=2; an idempotent acks=all
//      librdkafka producer (test/e2e/python/fault_producer.py, --rate records a second) writes
//      continuously; the partition's leader is SIGKILLed, and the time is taken from the signal to
//      the first acknowledgement received after it (necessarily from the new leader: the old one
//      is dead), and to the Metadata that names another leader. Then the broker is restarted, the
//      ISR is whole again, and the next round starts. For each --session-timeouts value (Kafka's
//      default broker.session.timeout.ms 9000, and a short one), --rounds rounds on a fresh cluster.
//   2. CreateTopics of --create-partitions partitions with RF=3 (kcli's own Admin client): the
//      time to the CreateTopics response, and to a Metadata answer with every partition led and a
//      full ISR.
//
//   npx tsx bench/cluster/failover.ts [--session-timeouts 9000,2000] [--rounds 3] [--rate 200]
//        [--create-partitions 2000] [--skip-create] [--skip-failover] [--out bench/cluster/failover]
//
// The brokers run from source (tsx). Writes <out>.json and <out>.md.

import {type ChildProcess, execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'
import {Kafka, logLevel} from 'kafkajs'
import {Admin} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {TestCluster} from '../../test/e2e/cluster-support.js'
import {PYTHON, PYTHON_DIR, startPeer, stopAllPeers} from '../../test/e2e/peers.js'

const ROOT = resolve(import.meta.dirname, '../..')
const {values: options} = parseArgs({
  options: {
    'session-timeouts': {type: 'string', default: '9000,2000'},
    rounds: {type: 'string', default: '3'},
    rate: {type: 'string', default: '200'},
    'create-partitions': {type: 'string', default: '2000'},
    'skip-create': {type: 'boolean', default: false},
    'skip-failover': {type: 'boolean', default: false},
    out: {type: 'string', default: resolve(ROOT, 'bench/cluster/failover')},
  },
})
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).trim()
const log = (line: string) => console.error(line)
const loadBefore = loadavg()[0]!

interface Round {
  sessionTimeoutMs: number
  round: number
  victim: number
  /** SIGKILL -> first acknowledged acks=all write after it */
  firstAckMs: number | null
  /** SIGKILL -> Metadata names another leader */
  newLeaderMs: number | null
}

async function failover(sessionTimeoutMs: number): Promise<Round[]> {
  const cluster = await TestCluster.start({sessionTimeoutMs, onEvent: (e) => log(`[${(e.at / 1000).toFixed(1)}s] ${e.what}`)})
  const rounds: Round[] = []
  let producer: ChildProcess | undefined
  try {
    const admin = new Kafka({brokers: cluster.bootstrap().split(','), clientId: 'cluster-failover', logLevel: logLevel.NOTHING}).admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'failover', numPartitions: 1, replicationFactor: 3, configEntries: [{name: 'min.insync.replicas', value: '2'}]}], waitForLeaders: true})
    await admin.disconnect()
    await cluster.waitForHealthy('failover')
    const acks: number[] = [] // epoch ms of each acknowledgement
    producer = startPeer(PYTHON, [join(PYTHON_DIR, 'fault_producer.py'), cluster.bootstrap(), 'failover', '1', 'p', options.rate, '10'])
    producer.stderr!.resume()
    let buffered = ''
    producer.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const m = JSON.parse(buffered.slice(0, nl)) as {t?: number; o?: number}
        buffered = buffered.slice(nl + 1)
        if (m.t !== undefined && m.o !== undefined) acks.push(m.t)
      }
    })
    await cluster.waitFor('the producer is acknowledged', async () => acks.length >= 50, 60_000)
    for (let round = 0; round < Number(options.rounds); round++) {
      const victim = (await cluster.leaderOf('failover', 0))!
      const t0 = Date.now()
      await cluster.kill(victim)
      const deadline = 120_000
      const newLeaderMs = await cluster
        .waitFor('another leader', async () => {
          const leader = await cluster.leaderOf('failover', 0)
          return leader !== undefined && leader >= 0 && leader !== victim ? Date.now() - t0 : undefined
        }, deadline)
        .catch(() => null)
      const firstAck = await cluster.waitFor('an acknowledgement after the kill', async () => acks.find((t) => t > t0), deadline).catch(() => null)
      const r = {sessionTimeoutMs, round, victim, firstAckMs: firstAck === null ? null : firstAck - t0, newLeaderMs}
      rounds.push(r)
      log(`session ${sessionTimeoutMs} ms, round ${round}: first ack ${r.firstAckMs} ms, new leader in Metadata ${r.newLeaderMs} ms`)
      await cluster.startBroker(victim)
      await cluster.waitForHealthy('failover', {timeoutMs: 120_000})
      const before = acks.length
      await cluster.waitFor('progress', async () => acks.length >= before + 50, 60_000)
    }
  } finally {
    producer?.kill('SIGKILL')
    await cluster.close()
  }
  return rounds
}

async function createPartitions(count: number): Promise<{partitions: number; responseMs: number; healthyMs: number | null; error?: string}> {
  const cluster = await TestCluster.start({sessionTimeoutMs: 9000, onEvent: (e) => log(`[${(e.at / 1000).toFixed(1)}s] ${e.what}`)})
  try {
    const kafka = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: cluster.port(1)}], clientId: 'cluster-create-bench', requestTimeoutMs: 300_000, retries: 0})
    try {
      const admin = new Admin(kafka)
      const t0 = performance.now()
      const [created] = await admin.createTopics([{name: 'many', numPartitions: count, replicationFactor: 3}], {timeoutMs: 300_000})
      const responseMs = performance.now() - t0
      if (!created || created.errorCode !== 0) throw new Error(`CreateTopics: ${JSON.stringify(created)}`)
      const failed = await cluster.waitFor('every partition led with a full ISR', async () => {
        const ps = await cluster.partitions('many')
        return ps !== undefined && ps.length === count && ps.every((p) => p.leaderId >= 0 && p.isr.length === 3)
      }, 300_000)
      .then(() => undefined, (error: Error) => error.message)
      const healthyMs = failed ? null : performance.now() - t0
      log(`${count} partitions RF=3: CreateTopics answered in ${Math.round(responseMs)} ms, all led with full ISR ${healthyMs === null ? `never: ${failed}` : `in ${Math.round(healthyMs)} ms`}`)
      return {partitions: count, responseMs, healthyMs, ...(failed ? {error: failed} : {})}
    } finally {
      await kafka.close()
    }
  } finally {
    await cluster.close()
  }
}

process.on('SIGINT', () => {
  stopAllPeers()
  process.exit(130)
})

const sessionTimeouts = options['session-timeouts'].split(',').map(Number)
const rounds: Round[] = []
if (!options['skip-failover']) for (const s of sessionTimeouts) rounds.push(...(await failover(s)))
const create = options['skip-create'] ? null : await createPartitions(Number(options['create-partitions']))

const median = (xs: number[]) => (xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
const bySession = sessionTimeouts.map((s) => {
  const rs = rounds.filter((r) => r.sessionTimeoutMs === s)
  const acks = rs.map((r) => r.firstAckMs).filter((x): x is number => x !== null)
  const leaders = rs.map((r) => r.newLeaderMs).filter((x): x is number => x !== null)
  return {sessionTimeoutMs: s, rounds: rs.length, firstAckMsMedian: median(acks), firstAckMsMin: acks.length ? Math.min(...acks) : null, firstAckMsMax: acks.length ? Math.max(...acks) : null, newLeaderMsMedian: median(leaders), failed: rs.length - acks.length}
})
const report = {commit, date: new Date().toISOString(), machine: {cpus: cpus().length, loadBefore, loadAfter: loadavg()[0]}, rate: Number(options.rate), rounds, bySession, create}
writeFileSync(`${options.out}.json`, JSON.stringify(report, null, 2) + '\n')
const text = [
  '# Cluster failover and partition creation (issue 13)',
  '',
  `\`npx tsx bench/cluster/failover.ts --session-timeouts ${options['session-timeouts']} --rounds ${options.rounds} --create-partitions ${options['create-partitions']}\` at ${commit}, ${report.date}; ${cpus().length} CPUs, load ${loadBefore.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}.`,
  '',
  ...(rounds.length
    ? [
        `SIGKILL of the leader of an RF=3, min.insync.replicas=2 partition while an idempotent acks=all librdkafka producer writes ${options.rate} records/s: time to the first acknowledgement after the kill (from the new leader), and to Metadata naming the new leader. Median (min-max) of ${options.rounds} rounds.`,
        '',
        '| broker.session.timeout.ms | first acks=all ack after SIGKILL | new leader in Metadata | rounds without an ack |',
        '|---:|---:|---:|---:|',
        ...bySession.map((b) => `| ${b.sessionTimeoutMs} | ${b.firstAckMsMedian ?? '-'} ms (${b.firstAckMsMin ?? '-'}-${b.firstAckMsMax ?? '-'}) | ${b.newLeaderMsMedian ?? '-'} ms | ${b.failed} |`),
        '',
      ]
    : []),
  ...(create ? [`CreateTopics of ${create.partitions} partitions with RF=3 on three brokers: answered in ${Math.round(create.responseMs)} ms; every partition led with a full ISR (Metadata) ${create.healthyMs === null ? `not reached: ${create.error}` : `after ${Math.round(create.healthyMs)} ms`}.`] : []),
].join('\n')
writeFileSync(`${options.out}.md`, text + '\n')
console.log(text)
