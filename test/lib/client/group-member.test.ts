// Two consumers in one group share the partitions (range assignor) and take over each other's
// partitions when one leaves. Skipped while the broker does not advertise the group APIs.

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Admin} from '../../../src/lib/client/admin.js'
import {KafkaClient} from '../../../src/lib/client/client.js'
import {Consumer} from '../../../src/lib/client/consumer.js'
import {Producer} from '../../../src/lib/client/producer.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {advertisedApis, startBroker, type TestBroker} from '../../commands/helpers.js'

const apis = await advertisedApis()
const classic = [ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.Heartbeat, ApiKey.LeaveGroup, ApiKey.OffsetCommit, ApiKey.OffsetFetch].every((k) => apis.has(k))

let broker: TestBroker
const clients: KafkaClient[] = []
function client(): KafkaClient {
  const c = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: broker.port}]})
  clients.push(c)
  return c
}
beforeAll(async () => {
  broker = await startBroker()
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await broker?.stop()
})

describe.skipIf(!classic)('Consumer with a group', () => {
  it('splits partitions between two members and rebalances when one leaves', async () => {
    const admin = new Admin(client())
    await admin.createTopics([{name: 'shared', numPartitions: 4}])
    const producer = new Producer(client(), {lingerMs: 0})
    for (let p = 0; p < 4; p++) await producer.send({partition: p, topic: 'shared', value: Buffer.from(`p${p}`)})

    const a = new Consumer(client(), {autoOffsetReset: 'earliest', group: {groupId: 'g1', heartbeatIntervalMs: 200, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000}})
    const b = new Consumer(client(), {autoOffsetReset: 'earliest', group: {groupId: 'g1', heartbeatIntervalMs: 200, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000}})
    a.subscribe(['shared'])
    b.subscribe(['shared'])
    const seen = new Map<string, Set<string>>([['a', new Set()], ['b', new Set()]])
    const drain = async (name: string, consumer: Consumer, until: () => boolean) => {
      for await (const batch of consumer.batches()) {
        for (const r of batch.records) seen.get(name)!.add(r.value!.toString())
        if (until()) break
      }
    }
    const both = () => a.groupAssignment !== undefined && b.groupAssignment !== undefined && a.groupAssignment.generationId === b.groupAssignment.generationId && seen.get('a')!.size + seen.get('b')!.size >= 4
    await Promise.race([Promise.all([drain('a', a, both), drain('b', b, both)]), new Promise((_, reject) => setTimeout(() => reject(new Error('no balanced assignment in 30 s')), 30_000))])
    const partitionsA = a.groupAssignment!.partitions.flatMap((t) => t.partitions)
    const partitionsB = b.groupAssignment!.partitions.flatMap((t) => t.partitions)
    expect([...partitionsA, ...partitionsB].sort()).toEqual([0, 1, 2, 3])
    expect(partitionsA.length).toBe(2)

    await b.close({commit: true})
    await producer.send({partition: partitionsB[0]!, topic: 'shared', value: Buffer.from('after')})
    await drain('a', a, () => seen.get('a')!.has('after'))
    expect(a.groupAssignment!.partitions.flatMap((t) => t.partitions).sort()).toEqual([0, 1, 2, 3])
    await a.close({commit: true})
    const committed = await admin.fetchOffsets('g1')
    expect(committed.reduce((sum, c) => sum + Number(c.offset), 0)).toBe(5)
  })
  it('the leader rejoins when a subscribed topic that did not exist is created, and its records arrive (as the Java consumer; a Connect sink created before its topic)', async () => {
    const consumer = new Consumer(client(), {autoOffsetReset: 'earliest', group: {groupId: 'g-late', heartbeatIntervalMs: 200, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000}})
    consumer.subscribe(['late-topic'])
    const values: string[] = []
    const deadline = Date.now() + 20_000
    const created = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      await new Admin(client()).createTopics([{name: 'late-topic', numPartitions: 1}])
      await new Producer(client(), {lingerMs: 0}).send({topic: 'late-topic', value: Buffer.from('hello')})
    })()
    for await (const batch of consumer.batches()) {
      values.push(...batch.records.map((r) => r.value!.toString()))
      if (values.length > 0 || Date.now() > deadline) break
    }
    await created
    await consumer.close()
    expect(values).toEqual(['hello'])
  })
  it('a fetch sent before a rejoin does not move the new generation past records it never handed over (they arrive, and the commit covers only them)', async () => {
    // The next Fetch goes out as soon as a response is in (prefetch), so a rejoin starts with a long
    // poll in flight. The new generation resumes at the committed offset, which is that poll's fetch
    // offset: its response (records produced after the rejoin) must not advance the new state — its
    // batches are dropped as the old generation's, and the records were lost (a Connect sink
    // committed past rows it never wrote).
    await new Admin(client()).createTopics([{name: 'gen-topic', numPartitions: 1}])
    const producer = new Producer(client(), {lingerMs: 0})
    await producer.send({topic: 'gen-topic', value: Buffer.from('first')})
    const consumer = new Consumer(client(), {autoOffsetReset: 'earliest', maxWaitMs: 3000, group: {groupId: 'g-gen', heartbeatIntervalMs: 200, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000}})
    consumer.subscribe(['gen-topic'])
    let assignments = 0
    consumer.onAssign = async () => {
      // The second assignment: the long poll sent after 'first' is still waiting; 'second' answers it.
      if (++assignments === 2) await producer.send({topic: 'gen-topic', value: Buffer.from('second')})
    }
    const values: string[] = []
    const deadline = Date.now() + 15_000
    for await (const batch of consumer.batches()) {
      values.push(...batch.records.map((r) => r.value!.toString()))
      if (values.length === 1 && assignments === 1) (consumer as unknown as {member: {needsRejoin: boolean}}).member.needsRejoin = true
      if (values.length >= 2 || Date.now() > deadline) break
    }
    await consumer.close({commit: true})
    expect(assignments).toBe(2)
    expect(values).toEqual(['first', 'second'])
    expect((await new Admin(client()).fetchOffsets('g-gen')).map((c) => c.offset)).toEqual([2n])
  })
})
