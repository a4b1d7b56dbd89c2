/**
 * Acceptance of issue 5: with commits after processing, 100,000 records are consumed by a kafkajs
 * group while members crash (SIGKILL) and restart and the broker restarts: every record is
 * processed at least once, no committed offset ever moves backwards (every OffsetCommit the
 * broker acknowledges is recorded by wrapping the handler), and after the broker restart the
 * group resumes from its committed offsets: they survived, and no partition is read again from
 * before them.
 *
 * KCLI_GROUPS_RECORDS sets the record count (default 100000).
 */
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, describe, expect, it} from 'vitest'
import {offsetCommit} from '../../src/server/handlers/offset-commit.js'
import type {ApiHandler} from '../../src/server/handlers/handler.js'
import {startBroker, type TestBroker, tempDir, removeDir} from './harness.js'
import {groupBrokerHandlers, type KafkajsWorker, startKafkajsWorker, stopAllWorkers, waitUntil} from './groups-support.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const RECORDS = Number(process.env.KCLI_GROUPS_RECORDS ?? 100_000)
const PARTITIONS = 6
const TOPIC = 'at-least-once'
const GROUP = 'g-at-least-once'

interface Commit {
  partition: number
  offset: number
  at: number
}

describe(`at-least-once with crashing members and a broker restart (${RECORDS} records)`, () => {
  const dataDir = tempDir('kcli-groups-alo-')
  let broker: TestBroker | undefined
  const commits: Commit[] = []

  function handlers(): ApiHandler[] {
    const observed: ApiHandler = {
      ...(offsetCommit as ApiHandler),
      async handle(request, ctx) {
        const response = await (offsetCommit as ApiHandler).handle(request, ctx)
        const req = request as {groupId: string; topics: Array<{name: string; partitions: Array<{partitionIndex: number; committedOffset: bigint}>}>}
        const res = response as {topics: Array<{name: string; partitions: Array<{partitionIndex: number; errorCode: number}>}>}
        if (req.groupId === GROUP) {
          req.topics.forEach((t, i) =>
            t.partitions.forEach((p, j) => {
              if (res.topics[i]?.partitions[j]?.errorCode === 0) commits.push({partition: p.partitionIndex, offset: Number(p.committedOffset), at: Date.now()})
            }),
          )
        }
        return response
      },
    }
    return groupBrokerHandlers().map((h) => (h.apiKey === observed.apiKey ? observed : h))
  }

  afterAll(async () => {
    await stopAllWorkers()
    await broker?.stop({keepData: true})
    removeDir(dataDir)
  })

  it('processes every record at least once; committed offsets never move backwards; resumes after a broker restart', async () => {
    const started = Date.now()
    broker = await startBroker({}, dataDir, handlers())
    const port = broker.port
    const kafka = new Kafka({brokers: [broker.bootstrap], logLevel: logLevel.NOTHING})
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: TOPIC, numPartitions: PARTITIONS}]})
    await admin.disconnect()
    const producer = kafka.producer()
    await producer.connect()
    // Sends of 600: record batches of 100 per partition, so consumers fetch, process and commit
    // in small steps and the crashes land between commits.
    const sends = []
    for (let i = 0; i < RECORDS; i += 600) {
      sends.push(producer.send({topic: TOPIC, messages: Array.from({length: Math.min(600, RECORDS - i)}, (_, k) => ({partition: (i + k) % PARTITIONS, value: String(i + k)}))}))
      if (sends.length >= 20) await Promise.all(sends.splice(0))
    }
    await Promise.all(sends)
    await producer.disconnect()
    const producedMs = Date.now() - started

    const seen = new Map<number, number>()
    const afterRestart = new Map<number, number>()
    let restarted = false
    let deliveries = 0
    const onRecord = (partition: number, offset: number, value: string) => {
      deliveries++
      const v = Number(value)
      seen.set(v, (seen.get(v) ?? 0) + 1)
      if (restarted && !afterRestart.has(partition)) afterRestart.set(partition, offset)
    }
    let n = 0
    const start = () => startKafkajsWorker({bootstrap: `127.0.0.1:${port}`, groupId: GROUP, topic: TOPIC, clientId: `w${++n}`, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, processDelayMs: 5, commitThreshold: 1, maxBytesPerPartition: 4096}, onRecord)
    const workers: KafkajsWorker[] = [start(), start(), start()]
    const progress = (fraction: number) => waitUntil(() => (seen.size >= RECORDS * fraction ? true : undefined), 120_000, `${fraction * 100}% of the records`)

    await progress(0.15)
    await workers.shift()!.kill('SIGKILL')
    workers.push(start())
    await progress(0.3)
    await workers.shift()!.kill('SIGKILL')
    await workers.shift()!.kill('SIGKILL')
    workers.push(start(), start())

    await progress(0.5)
    // Broker restart (clean stop, same data directory and port); the members keep running.
    await broker.stop({keepData: true})
    const lastBefore = new Map<number, number>()
    for (const c of commits) lastBefore.set(c.partition, c.offset)
    broker = await startBroker({listeners: `PLAINTEXT://127.0.0.1:${port}`}, dataDir, handlers())
    restarted = true
    const restartedAdmin = new Kafka({brokers: [broker.bootstrap], logLevel: logLevel.NOTHING}).admin()
    await restartedAdmin.connect()
    const fetched = await restartedAdmin.fetchOffsets({groupId: GROUP, topics: [TOPIC]})
    await restartedAdmin.disconnect()
    const committedAtRestart = new Map(fetched[0]!.partitions.map((p) => [p.partition, Number(p.offset)]))

    await progress(0.7)
    await workers.shift()!.kill('SIGKILL')
    workers.push(start())
    await progress(1)
    const elapsedMs = Date.now() - started

    // 1. Every record processed at least once.
    const missing = Array.from({length: RECORDS}, (_, i) => i).filter((i) => !seen.has(i))
    expect(missing.slice(0, 10)).toEqual([])
    // 2. Acknowledged commits never move backwards, per partition.
    const last = new Map<number, number>()
    for (const c of commits) {
      expect(c.offset, `partition ${c.partition} committed ${c.offset} after ${last.get(c.partition)}`).toBeGreaterThanOrEqual(last.get(c.partition) ?? 0)
      last.set(c.partition, c.offset)
    }
    // 3. The commits survived the restart (the members may have committed more since it), and
    // consumption resumed from them: no partition was read again from before its committed offset.
    for (const [partition, offset] of lastBefore) expect(committedAtRestart.get(partition)).toBeGreaterThanOrEqual(offset)
    for (const [partition, offset] of afterRestart) expect(offset).toBeGreaterThanOrEqual(lastBefore.get(partition) ?? 0)
    const duplicates = deliveries - RECORDS
    console.log(`at-least-once: ${RECORDS} records (produced in ${producedMs} ms), ${deliveries} deliveries (${duplicates} redelivered after crashes), ${commits.length} acknowledged commits, 4 members killed, 1 broker restart; ${elapsedMs} ms in all`)
  }, 240_000)
})
