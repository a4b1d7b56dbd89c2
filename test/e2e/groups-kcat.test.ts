/**
 * Acceptance of issue 5 with kcat -G (librdkafka's balanced consumer, Debian's kcat 1.7 on
 * librdkafka 2.0): a member that reads to the end, commits and leaves; a second run resumes from
 * the committed offsets; two members at once share the partitions, with the eager range strategy
 * and with cooperative-sticky.
 */
import {ChildProcess} from 'node:child_process'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {TestBroker} from './harness.js'
import {generations, startGroupBroker, type SyncRecord, waitUntil} from './groups-support.js'
import {KCAT, kcat, kcatMissing, startPeer, stopAllPeers} from './peers.js'

if (kcatMissing) console.warn(`skipping the kcat -G tests: ${kcatMissing}`)

const T = 60_000

function parseLines(out: string): Array<{partition: number; offset: number; value: string}> {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [p, o, ...v] = l.split(' ')
      return {partition: Number(p), offset: Number(o), value: v.join(' ')}
    })
}

describe.skipIf(kcatMissing !== null)(`kcat -G consumer groups${kcatMissing ? ` (skipped: ${kcatMissing})` : ''}`, () => {
  let broker: TestBroker
  const syncs: SyncRecord[] = []
  const kafka = () => new Kafka({brokers: [broker.bootstrap], clientId: 'kcli-e2e-groups-kcat', logLevel: logLevel.NOTHING})

  async function createAndProduce(topic: string, partitions: number, count: number, from = 0): Promise<void> {
    const admin = kafka().admin()
    await admin.connect()
    if (from === 0) await admin.createTopics({topics: [{topic, numPartitions: partitions}]})
    await admin.disconnect()
    if (count === 0) return
    const producer = kafka().producer()
    await producer.connect()
    await producer.send({topic, messages: Array.from({length: count}, (_, i) => ({partition: (from + i) % partitions, value: `r${from + i}`}))})
    await producer.disconnect()
  }

  beforeAll(async () => {
    broker = await startGroupBroker({}, undefined, (r) => syncs.push(r))
  })

  afterAll(async () => {
    stopAllPeers()
    await broker?.stop()
  })

  it('reads to the end, commits on close, and a second run resumes from the committed offsets', async () => {
    const topic = 'kcat-groups-resume'
    await createAndProduce(topic, 4, 200)
    const args = ['-b', broker.bootstrap, '-G', 'g-kcat-resume', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%p %o %s\n', topic]
    const first = parseLines((await kcat(args, {timeoutMs: T})).stdout.toString())
    expect(new Set(first.map((r) => r.value)).size).toBe(200)
    const admin = kafka().admin()
    await admin.connect()
    const committed = await admin.fetchOffsets({groupId: 'g-kcat-resume', topics: [topic]})
    expect(committed[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '50'],
      [1, '50'],
      [2, '50'],
      [3, '50'],
    ])
    const described = await admin.describeGroups(['g-kcat-resume'])
    expect(described.groups[0]!.state).toBe('Empty')
    await admin.disconnect()
    await createAndProduce(topic, 4, 40, 200)
    const second = parseLines((await kcat(args, {timeoutMs: T})).stdout.toString())
    expect(second.map((r) => r.value).sort()).toEqual(Array.from({length: 40}, (_, i) => `r${200 + i}`).sort())
  })

  for (const strategy of ['range', 'cooperative-sticky']) {
    it(`shares partitions between two balanced consumers (${strategy})`, async () => {
      const topic = `kcat-groups-${strategy}`
      const group = `g-kcat-${strategy}`
      await createAndProduce(topic, 4, 0)
      const outputs = new Map<string, string>()
      const start = (name: string): ChildProcess => {
        const child = startPeer(KCAT, ['-b', broker.bootstrap, '-G', group, '-X', 'auto.offset.reset=earliest', '-X', `partition.assignment.strategy=${strategy}`, '-X', `client.id=${name}`, '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=500', '-q', '-u', '-f', '%p %o %s\n', topic])
        outputs.set(name, '')
        child.stdout!.on('data', (d: Buffer) => outputs.set(name, outputs.get(name)! + d.toString()))
        return child
      }
      const a = start('kcat-a')
      const b = start('kcat-b')
      // Both members own two partitions each in the same generation.
      const settled = await waitUntil(() => {
        const gens = generations(syncs, group, topic)
        for (const [generation, owners] of [...gens].reverse()) {
          if (owners.size === 2 && [...owners.values()].every((p) => p.length === 2)) return {generation, owners}
        }
        return undefined
      }, T, 'two kcat members with two partitions each')
      expect([...settled.owners.values()].flat().sort()).toEqual([0, 1, 2, 3])
      await createAndProduce(topic, 4, 400, 1)
      await waitUntil(() => (parseLines([...outputs.values()].join('')).length >= 400 ? true : undefined), T, 'kcat to consume 400 records')
      const byMember = [...outputs.values()].map((o) => new Set(parseLines(o).map((r) => r.partition)))
      expect(byMember[0]!.size).toBe(2)
      expect(byMember[1]!.size).toBe(2)
      expect([...byMember[0]!].some((p) => byMember[1]!.has(p))).toBe(false)
      a.kill('SIGTERM')
      b.kill('SIGTERM')
      await Promise.all([a, b].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))))
      for (const [generation, owners] of generations(syncs, group, topic)) {
        const all = [...owners.values()].flat()
        expect(new Set(all).size, `generation ${generation}`).toBe(all.length)
      }
    })
  }
})
