/**
 * Issue 7 acceptance: an exactly-once consume-transform-produce loop (kafkajs, sendOffsets),
 * SIGKILLed at random points 20 times and restarted; the output topic, read with read_committed,
 * holds each input record exactly once. The worker is a child process
 * (transactions-eos-worker.ts); the broker runs in process with short group timeouts
 * (group.min.session.timeout.ms=1000) so a killed member leaves the group quickly.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {PROJECT_ROOT, type TestBroker} from './harness.js'
import {kafkaFor, readValues, startTxnBroker} from './transactions-support.js'

const INPUT = 'eos-in'
const OUTPUT = 'eos-out'
const GROUP = 'eos-group'
const COUNT = 300
const KILLS = 20

const children = new Set<ChildProcess>()

function startWorker(bootstrap: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test/e2e/transactions-eos-worker.ts'), bootstrap, INPUT, OUTPUT, GROUP], {cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'ignore']})
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

describe('exactly-once consume-transform-produce through SIGKILLs', () => {
  let tb: TestBroker

  beforeAll(async () => {
    tb = await startTxnBroker({'group.min.session.timeout.ms': '1000'})
    const kafka = kafkaFor(tb.bootstrap)
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: INPUT, numPartitions: 2}, {topic: OUTPUT, numPartitions: 1}]})
    await admin.disconnect()
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({topic: INPUT, messages: Array.from({length: COUNT}, (_, i) => ({partition: i % 2, value: String(i)}))})
    await producer.disconnect()
  }, 30_000)

  afterAll(async () => {
    for (const child of [...children]) await kill(child)
    await tb?.stop()
  })

  it(`holds each input record exactly once after ${KILLS} SIGKILLs of the loop`, async () => {
    const started = Date.now()
    for (let i = 0; i < KILLS; i++) {
      const worker = startWorker(tb.bootstrap)
      // Random point: after the worker has started up (about 1.5 s with tsx) and run a little.
      await new Promise((r) => setTimeout(r, 1500 + Math.floor(Math.random() * 1500)))
      await kill(worker)
    }
    const last = startWorker(tb.bootstrap)
    const out = await readValues(tb.bootstrap, OUTPUT, {readUncommitted: false, expected: COUNT, timeoutMs: 90_000})
    await kill(last)
    const counts = new Map<string, number>()
    for (const v of out) counts.set(v, (counts.get(v) ?? 0) + 1)
    const duplicates = [...counts].filter(([, n]) => n > 1)
    const missing = Array.from({length: COUNT}, (_, i) => `out-${i}`).filter((v) => !counts.has(v))
    console.log(`${KILLS} kills, ${out.length} output records, ${duplicates.length} duplicated, ${missing.length} missing, ${Math.round((Date.now() - started) / 1000)} s`)
    expect(duplicates).toEqual([])
    expect(missing).toEqual([])
    expect(out).toHaveLength(COUNT)
  }, 240_000)
})
