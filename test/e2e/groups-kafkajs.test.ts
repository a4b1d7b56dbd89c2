/**
 * Acceptance of issue 5 with kafkajs 2.2.4 (classic protocol, eager rebalancing): three consumers
 * in one group over a 6-partition topic. Every SyncGroup answer the broker gives is recorded
 * (the handler is wrapped), so the test checks what the broker handed out at each generation: no
 * partition owned by two members, and every partition owned once the group settles. A member
 * joining, leaving (disconnect: LeaveGroup) and being killed (SIGKILL: no LeaveGroup, found by
 * its session timeout) each make the group rebalance; the time to the next settled generation
 * is measured against the session timeout.
 */
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {TestBroker} from './harness.js'
import {generations, type KafkajsWorker, startGroupBroker, startKafkajsWorker, stopAllWorkers, type SyncRecord, waitUntil} from './groups-support.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const TOPIC = 'groups-kafkajs'
const GROUP = 'g-kafkajs'
const SESSION_TIMEOUT = 6000

describe('kafkajs consumer group (3 members, 6 partitions)', () => {
  let broker: TestBroker
  const syncs: SyncRecord[] = []
  const consumed = new Map<string, string>()

  beforeAll(async () => {
    broker = await startGroupBroker({}, undefined, (r) => syncs.push(r))
    const kafka = new Kafka({brokers: [broker.bootstrap], logLevel: logLevel.NOTHING})
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: TOPIC, numPartitions: 6}]})
    await admin.disconnect()
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({topic: TOPIC, messages: Array.from({length: 600}, (_, i) => ({partition: i % 6, value: `m${i}`}))})
    await producer.disconnect()
  })

  afterAll(async () => {
    await stopAllWorkers()
    await broker?.stop()
  })

  /** The latest generation in which every live member got its assignment, if newer than `after`. */
  function settled(members: number, after: number): {generation: number; owners: Map<string, number[]>; at: number} | undefined {
    const gens = generations(syncs, GROUP, TOPIC)
    const latest = Math.max(...gens.keys())
    if (!Number.isFinite(latest) || latest <= after) return undefined
    const owners = gens.get(latest)!
    if (owners.size !== members) return undefined
    const at = Math.max(...syncs.filter((s) => s.generationId === latest && s.groupId === GROUP).map((s) => s.at))
    return {generation: latest, owners, at}
  }

  function expectOwnershipUnique(): void {
    for (const [generation, owners] of generations(syncs, GROUP, TOPIC)) {
      const all = [...owners.values()].flat()
      expect(new Set(all).size, `generation ${generation}: a partition owned twice: ${JSON.stringify([...owners])}`).toBe(all.length)
    }
  }

  function expectComplete(owners: Map<string, number[]>): void {
    expect([...owners.values()].flat().sort()).toEqual([0, 1, 2, 3, 4, 5])
  }

  it('shares partitions, rebalances on join, leave and kill within the session timeout', async () => {
    const workers: KafkajsWorker[] = []
    const start = (name: string) => {
      const w = startKafkajsWorker({bootstrap: broker.bootstrap, groupId: GROUP, topic: TOPIC, clientId: name, sessionTimeoutMs: SESSION_TIMEOUT}, (p, o, v) => consumed.set(`${p}:${o}`, v))
      workers.push(w)
      return w
    }
    start('c1')
    start('c2')
    start('c3')
    const first = await waitUntil(() => settled(3, 0), 30_000, 'three members to settle')
    expectComplete(first.owners)
    for (const parts of first.owners.values()) expect(parts).toHaveLength(2)
    await waitUntil(() => (consumed.size >= 600 ? true : undefined), 30_000, 'all 600 records consumed')

    // A fourth member joins.
    const joinAt = Date.now()
    start('c4')
    const afterJoin = await waitUntil(() => settled(4, first.generation), SESSION_TIMEOUT * 2, 'the group to settle with 4 members')
    expectComplete(afterJoin.owners)
    const joinMs = afterJoin.at - joinAt

    // It leaves (kafkajs disconnect sends LeaveGroup).
    const leaveAt = Date.now()
    await workers[3]!.kill('SIGTERM')
    const afterLeave = await waitUntil(() => settled(3, afterJoin.generation), SESSION_TIMEOUT * 2, 'the group to settle after a leave')
    expectComplete(afterLeave.owners)
    const leaveMs = afterLeave.at - leaveAt

    // A member is killed: no LeaveGroup, the session timeout removes it.
    const killAt = Date.now()
    await workers[0]!.kill('SIGKILL')
    const afterKill = await waitUntil(() => settled(2, afterLeave.generation), SESSION_TIMEOUT * 3, 'the group to settle after a kill')
    expectComplete(afterKill.owners)
    const killMs = afterKill.at - killAt

    expectOwnershipUnique()
    console.log(`kafkajs group: generations ${[...generations(syncs, GROUP, TOPIC).keys()].join(',')}; rebalance after join ${joinMs} ms, leave ${leaveMs} ms, kill ${killMs} ms (session timeout ${SESSION_TIMEOUT} ms)`)
    expect(joinMs).toBeLessThan(SESSION_TIMEOUT)
    expect(leaveMs).toBeLessThan(SESSION_TIMEOUT)
    // A killed member is noticed when its session expires; the rebalance itself then completes
    // well within another session timeout.
    expect(killMs).toBeLessThan(SESSION_TIMEOUT * 2)
    expect(killMs - SESSION_TIMEOUT).toBeLessThan(SESSION_TIMEOUT)
  })
})
