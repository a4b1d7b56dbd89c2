/**
 * Acceptance of issue 5 with confluent-kafka-python (Debian's, on librdkafka 2.0): a consumer
 * group with the eager range strategy and with incremental cooperative rebalancing
 * (partition.assignment.strategy=cooperative-sticky), and static membership: a member that
 * restarts with the same group.instance.id within the session timeout gets its partitions back
 * while the other member sees no rebalance.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {TestBroker} from './harness.js'
import {generations, startGroupBroker, type SyncRecord} from './groups-support.js'
import {confluentPythonMissing, python, stopAllPeers} from './peers.js'

if (confluentPythonMissing) console.warn(`skipping the confluent-kafka-python group tests: ${confluentPythonMissing}`)

interface RebalanceResult {
  phase1: number[]
  phase2: {c1: number[]; c2: number[]}
  phase3: number[]
  balanced: boolean
  events: Array<{consumer: string; event: 'assign' | 'revoke'; partitions: number[]}>
  consumed: number
  committed: Record<string, number>
}

interface StaticResult {
  before: {a: number[]; b: number[]}
  after: {a: number[]; b: number[]}
  rejoinedMs: number
  bEventsDuringRestart: number
}

describe.skipIf(confluentPythonMissing !== null)(`confluent-kafka-python consumer groups${confluentPythonMissing ? ` (skipped: ${confluentPythonMissing})` : ''}`, () => {
  let broker: TestBroker
  const syncs: SyncRecord[] = []

  beforeAll(async () => {
    broker = await startGroupBroker({}, undefined, (r) => syncs.push(r))
  })

  afterAll(async () => {
    stopAllPeers()
    await broker?.stop()
  })

  for (const strategy of ['range', 'cooperative-sticky'] as const) {
    it(`shares, rebalances and commits with partition.assignment.strategy=${strategy}`, async () => {
      const topic = `py-groups-${strategy}`
      const group = `g-py-${strategy}`
      const r = await python<RebalanceResult>('groups_rebalance.py', [broker.bootstrap, topic, group, strategy, '6', '600'], 90_000)
      expect(r.phase1).toEqual([0, 1, 2, 3, 4, 5])
      expect(r.balanced).toBe(true)
      expect(r.phase2.c1).toHaveLength(3)
      expect(r.phase2.c2).toHaveLength(3)
      expect(r.phase3).toEqual([0, 1, 2, 3, 4, 5])
      expect(r.consumed).toBe(600)
      // Everything consumed was committed: 100 records per partition.
      for (let p = 0; p < 6; p++) expect(r.committed[String(p)]).toBe(100)
      const c1Revokes = r.events.filter((e) => e.consumer === 'c1' && e.event === 'revoke')
      expect(c1Revokes.length).toBeGreaterThan(0)
      if (strategy === 'cooperative-sticky') {
        // Incremental: c1 gives up only the partitions that move and keeps the others throughout.
        expect(c1Revokes[0]!.partitions).toHaveLength(3)
        const owned = new Set<number>()
        let min = Infinity
        const c1Events = r.events.filter((x) => x.consumer === 'c1')
        // Up to c1's last assignment (it takes c2's partitions back); its close revokes the rest.
        const lastAssign = c1Events.map((e) => e.event).lastIndexOf('assign')
        for (const e of c1Events.slice(0, lastAssign + 1)) {
          for (const p of e.partitions) {
            if (e.event === 'assign') owned.add(p)
            else owned.delete(p)
          }
          if (e.event === 'revoke') min = Math.min(min, owned.size)
        }
        expect(min).toBe(3)
      } else {
        // Eager: c1 gives up everything before the group rebalances.
        expect(c1Revokes[0]!.partitions).toEqual([0, 1, 2, 3, 4, 5])
      }
      for (const [generation, owners] of generations(syncs, group, topic)) {
        const all = [...owners.values()].flat()
        expect(new Set(all).size, `generation ${generation}`).toBe(all.length)
      }
    })
  }

  it('gives a static member that restarts within the session timeout its partitions back without a rebalance', async () => {
    const topic = 'py-groups-static'
    const group = 'g-py-static'
    const r = await python<StaticResult>('groups_static.py', [broker.bootstrap, topic, group, '4'], 90_000)
    expect(r.before.a).toHaveLength(2)
    expect(r.before.b).toHaveLength(2)
    expect(r.after.a).toEqual(r.before.a)
    expect(r.after.b).toEqual(r.before.b)
    expect(r.bEventsDuringRestart).toBe(0)
    // The broker handed out one generation only: the restart did not rebalance.
    const gens = generations(syncs, group, topic)
    // The broker handed out assignments in one generation only (the restarted member's SyncGroup
    // under its new member id included): the restart did not rebalance.
    const settled = [...gens].filter(([, owners]) => owners.size >= 2)
    expect(settled).toHaveLength(1)
    expect(settled[0]![1].size).toBe(3)
    console.log(`static member rejoined in ${Math.round(r.rejoinedMs)} ms; generations seen: ${[...gens.keys()].join(',')}`)
  })
})
