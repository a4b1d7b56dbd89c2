/**
 * The cluster fault scenario of issue 13, shared by the suite's short form
 * (test/e2e/cluster-faults.test.ts) and the bench's long form (bench/cluster/faults.ts): a
 * TestCluster of three brokers on etcd, a topic with replication factor 3 and
 * min.insync.replicas=2, idempotent acks=all producers — librdkafka (test/e2e/python/
 * fault_producer.py, Debian's confluent-kafka-python) and kafkajs (`idempotent: true`,
 * `maxInFlightRequests: 1`) — and a kcat (librdkafka) consumer reading along, while a schedule of
 * faults drawn from a seeded random generator runs:
 *   kill-leader     SIGKILL the leader of a random partition, wait for another leader, restart it;
 *   pause-leader    SIGSTOP the leader of a random partition until another broker leads (its
 *                   session ran out), send it an acks=all Produce while it sleeps, SIGCONT it: a
 *                   zombie must not acknowledge it (if it does, the record is checked like any ack);
 *   restart-broker  SIGTERM or SIGKILL a random broker and start it again;
 *   stop-etcd       stop etcd for a few seconds and start it again on its data directory.
 * After every fault the scenario waits (with a deadline) until every partition has a leader and a
 * full ISR, and until the producers make progress again. At the end the producers stop and flush,
 * the partitions are read to their end from the leaders, the brokers are stopped, and
 * test/e2e/cluster-checker.ts compares the acks, the partitions, every replica's log and what the
 * consumer read. With `faults: 0` it is a smoke run of the same machinery.
 */
import {type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {errorByCode} from '../../src/lib/protocol/generated/errors.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'
import {type Ack, check, type CheckReport, readPartitionsWithKcat, readReplicaLog, type ReplicaLog, type StoredRecord, valueOf} from './cluster-checker.js'
import {TestCluster} from './cluster-support.js'
import {exitedWithOutput, KCAT, PYTHON, PYTHON_DIR, RawClient, startPeer} from './peers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

export const FAULT_KINDS = ['kill-leader', 'pause-leader', 'restart-broker', 'stop-etcd'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface ScenarioOptions {
  /** Number of faults; 0: a smoke run (load for `smokeMs`, no fault). */
  faults: number
  seed: number
  kinds?: readonly FaultKind[]
  /** Play these kinds in this order (cycled) instead of drawing them. */
  sequence?: readonly FaultKind[]
  topic?: string
  partitions?: number
  replicationFactor?: number
  /** Default min(2, replicationFactor). */
  minInsyncReplicas?: number
  sessionTimeoutMs?: number
  pythonProducers?: number
  kafkajsProducers?: number
  /** Records a second per librdkafka producer (kafkajs producers send one at a time, at most this rate). */
  rate?: number
  /** Load between faults, after recovery: at least this many more acknowledgements (default 30). */
  progressAcks?: number
  /** How long etcd stays down. */
  etcdDownMs?: number
  smokeMs?: number
  /** Deadline for each recovery (a leader for every partition, a full ISR). */
  recoveryTimeoutMs?: number
  /** Where the cluster's directories go (kept when `keepRoot`): broker logs for a bench report. */
  root?: string
  keepRoot?: boolean
  log?: (line: string) => void
}

export interface FaultRecord {
  index: number
  kind: FaultKind
  broker?: number
  partition?: number
  /** ms from the fault to another leader for the partition (kill-leader, pause-leader). */
  electionMs?: number
  /** ms from the fault to every partition led with a full ISR again. */
  recoveryMs?: number
  /** pause-leader: what the zombie answered to an acks=all Produce sent while it slept. */
  zombieAnswer?: string
  clean?: boolean
  error?: string
}

export interface ScenarioResult {
  seed: number
  options: Omit<ScenarioOptions, 'log'>
  durationMs: number
  faults: FaultRecord[]
  /** Faults after which the cluster did not recover, or producers did not make progress, in time. */
  livenessFailures: string[]
  producers: Record<string, {acked: number; failed: number; incarnations: number}>
  readAlong: number
  check: CheckReport
  events: Array<{at: number; what: string}>
}

/** mulberry32: a small seeded generator, so a schedule is replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Lines of a child's stdout, as they come. */
function onLines(child: ChildProcess, each: (line: string) => void): void {
  let buffered = ''
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString('utf8')
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      if (line !== '') each(line)
    }
  })
}

export async function runFaultScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const o = {
    kinds: FAULT_KINDS,
    topic: 'faults',
    partitions: 3,
    replicationFactor: 3,
    sessionTimeoutMs: 3000,
    pythonProducers: 1,
    kafkajsProducers: 1,
    rate: 100,
    progressAcks: 30,
    etcdDownMs: 3000,
    smokeMs: 3000,
    recoveryTimeoutMs: 60_000,
    ...options,
  }
  const minIsr = o.minInsyncReplicas ?? Math.min(2, o.replicationFactor)
  const log = o.log ?? (() => {})
  const random = seededRandom(o.seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const started = Date.now()
  log(`seed ${o.seed}: ${o.faults} faults of ${(o.sequence ?? o.kinds).join(', ')}; topic ${o.topic}: ${o.partitions} partitions, replication factor ${o.replicationFactor}, min.insync.replicas ${minIsr}`)

  const cluster = await TestCluster.start({sessionTimeoutMs: o.sessionTimeoutMs, ...(o.root ? {root: o.root} : {}), ...(o.keepRoot ? {keepRoot: true} : {}), onEvent: (e) => log(`[${(e.at / 1000).toFixed(1)}s] ${e.what}`)})
  const acks: Ack[] = []
  const readAlong: Array<StoredRecord & {partition: number}> = []
  const producers: ScenarioResult['producers'] = {}
  const children = new Set<ChildProcess>()
  const faults: FaultRecord[] = []
  const livenessFailures: string[] = []
  let stopping = false
  const loops: Array<Promise<void>> = []
  const kafka = () => new Kafka({brokers: cluster.bootstrap().split(','), clientId: 'cluster-faults', logLevel: logLevel.NOTHING, requestTimeout: 10_000, connectionTimeout: 3_000, retry: {retries: 8, initialRetryTime: 100, maxRetryTime: 2000}})

  try {
    const admin = kafka().admin()
    await admin.connect()
    try {
      await admin.createTopics({topics: [{topic: o.topic, numPartitions: o.partitions, replicationFactor: o.replicationFactor, configEntries: [{name: 'min.insync.replicas', value: String(minIsr)}]}], waitForLeaders: true})
    } finally {
      await admin.disconnect()
    }
    await cluster.waitForHealthy(o.topic, {isr: o.replicationFactor, timeoutMs: o.recoveryTimeoutMs})

    // The consumer reading along: kcat -C over every partition, never stopping at the end.
    const consumer = startPeer(KCAT, ['-b', cluster.bootstrap(), '-C', '-u', '-t', o.topic, '-o', 'beginning', '-q', '-f', '%p %o %s\\n', '-X', 'topic.metadata.refresh.interval.ms=1000', '-X', 'fetch.wait.max.ms=100'])
    children.add(consumer)
    onLines(consumer, (line) => {
      const [p, off, ...rest] = line.split(' ')
      readAlong.push({partition: Number(p), offset: Number(off), value: rest.join(' ')})
    })
    consumer.stderr!.resume()

    // librdkafka producers: a new incarnation (another name) after a fatal error.
    const pythonLoop = async (base: string) => {
      for (let incarnation = 0; !stopping; incarnation++) {
        const name = `${base}.${incarnation}`
        const stats = (producers[base] ??= {acked: 0, failed: 0, incarnations: 0})
        stats.incarnations++
        const child = startPeer(PYTHON, [join(PYTHON_DIR, 'fault_producer.py'), cluster.bootstrap(), o.topic, String(o.partitions), name, String(o.rate), '60'])
        children.add(child)
        child.stderr!.resume()
        const exited = exitedWithOutput(child)
        onLines(child, (line) => {
          const m = JSON.parse(line) as {s?: number; p?: number; o?: number; e?: string; fatal?: string}
          if (m.fatal) log(`${name}: fatal error ${m.fatal}`)
          else if (m.e !== undefined) stats.failed++
          else if (m.s !== undefined) {
            stats.acked++
            acks.push({producer: name, seq: m.s, partition: m.p!, offset: m.o ?? null})
          }
        })
        const stopper = setInterval(() => {
          if (stopping) child.stdin!.end()
        }, 100)
        const code = await exited
        clearInterval(stopper)
        children.delete(child)
        if (code !== 0 && !stopping) log(`${name} exited with ${code}: starting another incarnation`)
      }
    }
    // kafkajs producers: one record per send; after a failed send, a new producer (another
    // producer id and name), since kafkajs reuses the failed batch's sequence numbers.
    const kafkajsLoop = async (base: string) => {
      for (let incarnation = 0; !stopping; incarnation++) {
        const name = `${base}.${incarnation}`
        const stats = (producers[base] ??= {acked: 0, failed: 0, incarnations: 0})
        stats.incarnations++
        const producer = kafka().producer({idempotent: true, maxInFlightRequests: 1})
        try {
          await producer.connect()
        } catch {
          await sleep(200)
          continue
        }
        const interval = 1000 / o.rate
        for (let seq = 0; !stopping; seq++) {
          const partition = seq % o.partitions
          const t0 = Date.now()
          try {
            const [meta] = await producer.send({topic: o.topic, acks: -1, timeout: 10_000, messages: [{value: valueOf(name, seq), partition}]})
            stats.acked++
            acks.push({producer: name, seq, partition, offset: Number(meta!.baseOffset)})
          } catch {
            stats.failed++
            break
          }
          const spare = interval - (Date.now() - t0)
          if (spare > 0) await sleep(spare)
        }
        await producer.disconnect().catch(() => {})
      }
    }
    for (let i = 0; i < o.pythonProducers; i++) loops.push(pythonLoop(`librdkafka${i}`))
    for (let i = 0; i < o.kafkajsProducers; i++) loops.push(kafkajsLoop(`kafkajs${i}`))

    const progress = async (what: string, atLeast: number) => {
      const from = acks.length
      try {
        await cluster.waitFor(`${what}: ${atLeast} more acknowledgements`, async () => acks.length - from >= atLeast, o.recoveryTimeoutMs)
      } catch (error) {
        livenessFailures.push(String((error as Error).message))
        log(String((error as Error).message))
      }
    }
    await progress('start', o.progressAcks)
    if (o.faults === 0) {
      const until = Date.now() + o.smokeMs
      await cluster.waitFor('smoke load', async () => Date.now() >= until, o.smokeMs + 1000)
    }

    for (let index = 0; index < o.faults; index++) {
      const kind = o.sequence ? o.sequence[index % o.sequence.length]! : pick(o.kinds)
      const record: FaultRecord = {index, kind}
      faults.push(record)
      const t0 = Date.now()
      try {
        await runFault(record)
        await cluster.waitForHealthy(o.topic, {isr: o.replicationFactor, timeoutMs: o.recoveryTimeoutMs})
        record.recoveryMs = Date.now() - t0
        log(`fault ${index} ${kind}${record.broker !== undefined ? ` broker ${record.broker}` : ''}${record.partition !== undefined ? ` partition ${record.partition}` : ''}: recovered in ${record.recoveryMs} ms${record.electionMs !== undefined ? `, new leader after ${record.electionMs} ms` : ''}${record.zombieAnswer ? `, zombie answered ${record.zombieAnswer}` : ''}`)
      } catch (error) {
        record.error = String((error as Error).message)
        livenessFailures.push(`fault ${index} ${kind}: ${record.error}`)
        log(`fault ${index} ${kind}: ${record.error}`)
        // Bring everything back before going on.
        await cluster.startEtcd().catch(() => {})
        for (const id of cluster.nodeIds) {
          if (cluster.state(id) === 'paused') cluster.resume(id)
          if (cluster.state(id) === 'down') await cluster.startBroker(id).catch((e: Error) => log(`broker ${id} did not start: ${e.message}`))
        }
      }
      await progress(`after fault ${index}`, o.progressAcks)
    }

    // The end: producers stop and flush, then the partitions are read from their leaders.
    stopping = true
    await Promise.race([Promise.all(loops), sleep(90_000)])
    await cluster.waitForHealthy(o.topic, {isr: o.replicationFactor, timeoutMs: o.recoveryTimeoutMs}).catch((error: Error) => livenessFailures.push(`end: ${error.message}`))
    const partitions = await readPartitionsWithKcat(cluster.bootstrap(), o.topic, o.partitions)
    // Let the consumer reach the end too (bounded), then stop it.
    const total = [...partitions.values()].reduce((n, rs) => n + rs.length, 0)
    await cluster.waitFor('consumer at the end', async () => readAlong.length >= total, 30_000).catch(() => log(`the consumer read ${readAlong.length} of ${total} records`))
    consumer.kill('SIGKILL')
    await cluster.shutdownAll()
    const replicas: ReplicaLog[] = []
    for (const id of cluster.nodeIds) {
      for (let p = 0; p < o.partitions; p++) replicas.push(await readReplicaLog(cluster.dataDir(id), id, o.topic, p))
    }
    const report = check({acks, partitions, replicas, readAlong})
    return {
      seed: o.seed,
      options: Object.fromEntries(Object.entries(options).filter(([k]) => k !== 'log')) as ScenarioResult['options'],
      durationMs: Date.now() - started,
      faults,
      livenessFailures,
      producers,
      readAlong: readAlong.length,
      check: report,
      events: cluster.events,
    }
  } finally {
    stopping = true
    for (const child of children) child.kill('SIGKILL')
    await cluster.close()
  }

  async function leaderOrAny(partition: number): Promise<number> {
    const leader = await cluster.leaderOf(o.topic, partition)
    return leader !== undefined && leader >= 0 && cluster.state(leader) === 'running' ? leader : pick(cluster.running())
  }

  async function runFault(record: FaultRecord): Promise<void> {
    const t0 = Date.now()
    const electedWithout = async (victim: number, partition: number) => {
      await cluster.waitFor(`another leader than ${victim} for ${o.topic}-${partition}`, async () => {
        const ps = await cluster.partitions(o.topic)
        const leader = ps?.find((p) => p.partition === partition)?.leaderId
        return leader !== undefined && leader >= 0 && leader !== victim
      }, o.recoveryTimeoutMs)
      record.electionMs = Date.now() - t0
    }
    switch (record.kind) {
      case 'kill-leader': {
        const partition = Math.floor(random() * o.partitions)
        const victim = await leaderOrAny(partition)
        Object.assign(record, {partition, broker: victim})
        await cluster.kill(victim)
        await electedWithout(victim, partition)
        await cluster.startBroker(victim)
        return
      }
      case 'pause-leader': {
        const partition = Math.floor(random() * o.partitions)
        const zombie = await leaderOrAny(partition)
        Object.assign(record, {partition, broker: zombie})
        // A connection made before it sleeps; the Produce is sent while it sleeps.
        const raw = await RawClient.connect(cluster.port(zombie))
        try {
          cluster.pause(zombie)
          await electedWithout(zombie, partition)
          const value = valueOf(`zombie${record.index}`, 0)
          const records = await buildRecordBatch({records: [{key: null, value: Buffer.from(value), timestamp: Date.now()}]})
          const answer = raw.request(ApiKey.Produce, 9, {transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{name: o.topic, partitionData: [{index: partition, records}]}]}, 30_000)
          cluster.resume(zombie)
          const p = (await answer).responses[0]!.partitionResponses[0]!
          record.zombieAnswer = errorByCode(p.errorCode)?.name ?? String(p.errorCode)
          // Acknowledged: then it must be there, like any acknowledged record.
          if (p.errorCode === 0) acks.push({producer: `zombie${record.index}`, seq: 0, partition, offset: Number(p.baseOffset)})
        } finally {
          if (cluster.state(zombie) === 'paused') cluster.resume(zombie)
          raw.close()
        }
        return
      }
      case 'restart-broker': {
        const victim = pick(cluster.running())
        const clean = random() < 0.5
        Object.assign(record, {broker: victim, clean})
        await cluster.restart(victim, {clean})
        return
      }
      case 'stop-etcd': {
        await cluster.stopEtcd()
        const until = Date.now() + o.etcdDownMs
        await cluster.waitFor('etcd down time', async () => Date.now() >= until, o.etcdDownMs + 1000)
        await cluster.startEtcd()
        return
      }
    }
  }
}
