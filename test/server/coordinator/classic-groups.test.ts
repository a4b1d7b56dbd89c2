/**
 * The classic group state machine (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) on a fake clock:
 * every timeout is driven by ManualTimer.advance, so each scenario is deterministic.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import type {ClassicGroup} from '../../../src/server/coordinator/classic-group.js'
import {NEW_MEMBER_JOIN_TIMEOUT_MS} from '../../../src/server/coordinator/group-coordinator.js'
import {decodeCoordinatorKey, decodeGroupMetadataValue} from '../../../src/server/coordinator/records.js'
import {harness, joinNew, joinRequest, settled, subscription} from './helpers.js'

const E = ErrorCode

function classic(h: {coordinator: {group(id: string): unknown}}, id = 'g'): ClassicGroup {
  return h.coordinator.group(id) as ClassicGroup
}

describe('JoinGroup', () => {
  it('asks a new dynamic member for its member id first (KIP-394), then forms generation 1 with it as leader', async () => {
    const h = await harness()
    const first = await h.coordinator.joinGroup(joinRequest({clientId: 'app'}))
    expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED)
    expect(first.memberId).toBe('app-id1')
    expect(first.generationId).toBe(-1)
    const pending = h.coordinator.joinGroup(joinRequest({clientId: 'app', memberId: 'app-id1'}))
    h.timer.advance(0)
    const joined = await pending
    expect(joined).toMatchObject({errorCode: E.NONE, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: 'app-id1', memberId: 'app-id1'})
    expect(joined.members.map((m) => m.memberId)).toEqual(['app-id1'])
    expect(classic(h).state).toBe('CompletingRebalance')
  })

  it('lets members join directly before v4 (no MEMBER_ID_REQUIRED)', async () => {
    const h = await harness()
    const pending = h.coordinator.joinGroup(joinRequest({requireKnownMemberId: false}))
    h.timer.advance(0)
    const joined = await pending
    expect(joined.errorCode).toBe(E.NONE)
    expect(joined.memberId).toBe('client-id1')
  })

  it('waits group.initial.rebalance.delay.ms for more members, extending the delay while they arrive', async () => {
    const h = await harness({groupInitialRebalanceDelayMs: 3000})
    const a = await joinNew(h)
    h.timer.advance(2000)
    expect(await settled(a.join)).toBeUndefined()
    const b = await joinNew(h)
    h.timer.advance(1000) // the first delay ends; a member was added: wait another delay
    expect(await settled(a.join)).toBeUndefined()
    h.timer.advance(2999)
    expect(await settled(a.join)).toBeUndefined()
    h.timer.advance(1)
    const [ra, rb] = [await a.join, await b.join]
    expect(ra.generationId).toBe(1)
    expect(rb.generationId).toBe(1)
    expect(ra.members).toHaveLength(2)
    expect(rb.members).toHaveLength(0)
    expect(ra.leader).toBe(a.memberId)
  })

  it('rejects session timeouts outside group.min/max.session.timeout.ms, empty group ids and unknown members of unknown groups', async () => {
    const h = await harness()
    expect((await h.coordinator.joinGroup(joinRequest({sessionTimeoutMs: 5999}))).errorCode).toBe(E.INVALID_SESSION_TIMEOUT)
    expect((await h.coordinator.joinGroup(joinRequest({sessionTimeoutMs: 1_800_001}))).errorCode).toBe(E.INVALID_SESSION_TIMEOUT)
    expect((await h.coordinator.joinGroup(joinRequest({groupId: ''}))).errorCode).toBe(E.INVALID_GROUP_ID)
    expect((await h.coordinator.joinGroup(joinRequest({memberId: 'nobody'}))).errorCode).toBe(E.UNKNOWN_MEMBER_ID)
  })

  it('refuses a member whose protocol type or protocols the group does not share', async () => {
    const h = await harness()
    const a = await joinNew(h)
    await a.join
    expect((await h.coordinator.joinGroup(joinRequest({protocolType: 'connect'}))).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL)
    expect((await h.coordinator.joinGroup(joinRequest({protocols: [{name: 'roundrobin', metadata: subscription(['orders'])}]}))).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL)
    expect((await h.coordinator.joinGroup(joinRequest({groupId: 'other', protocolType: ''}))).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL)
  })

  it('selects the protocol most members prefer among those every member supports', async () => {
    const h = await harness({groupInitialRebalanceDelayMs: 100})
    const p = (names: string[]) => names.map((name) => ({name, metadata: subscription(['orders'])}))
    const a = await joinNew(h, {protocols: p(['range', 'cooperative-sticky'])})
    const b = await joinNew(h, {protocols: p(['cooperative-sticky', 'range'])})
    const c = await joinNew(h, {protocols: p(['cooperative-sticky', 'range', 'roundrobin'])})
    h.timer.advance(1000)
    for (const j of [a, b, c]) expect((await j.join).protocolName).toBe('cooperative-sticky')
  })

  it('enforces group.max.size', async () => {
    const h = await harness({groupMaxSize: 1})
    const a = await joinNew(h)
    await a.join
    const second = await h.coordinator.joinGroup(joinRequest({requireKnownMemberId: false}))
    expect(second.errorCode).toBe(E.GROUP_MAX_SIZE_REACHED)
  })
})

/** Two members through a full rebalance to Stable; returns their ids (a is the leader). */
async function stableGroupOfTwo(h: Awaited<ReturnType<typeof harness>>) {
  const a = await joinNew(h)
  const ja = await a.join
  const sa = h.coordinator.syncGroup({groupId: 'g', generationId: ja.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{memberId: a.memberId, assignment: Buffer.from('all')}]})
  expect((await sa).errorCode).toBe(E.NONE)
  // b joins: a is told to rejoin by its heartbeat.
  const b = await joinNew(h)
  expect(classic(h).state).toBe('PreparingRebalance')
  expect(h.coordinator.heartbeat({groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: null})).toBe(E.REBALANCE_IN_PROGRESS)
  const rejoin = h.coordinator.joinGroup(joinRequest({memberId: a.memberId}))
  const [ra, rb] = [await rejoin, await b.join]
  expect(ra.generationId).toBe(2)
  expect(rb.generationId).toBe(2)
  expect(ra.leader).toBe(a.memberId)
  expect(ra.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort())
  const followerSync = h.coordinator.syncGroup({groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: []})
  expect(await settled(followerSync)).toBeUndefined()
  const leaderSync = await h.coordinator.syncGroup({
    groupId: 'g',
    generationId: 2,
    memberId: a.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [
      {memberId: a.memberId, assignment: Buffer.from('A')},
      {memberId: b.memberId, assignment: Buffer.from('B')},
    ],
  })
  expect(leaderSync).toMatchObject({errorCode: E.NONE, protocolType: 'consumer', protocolName: 'range'})
  expect(leaderSync.assignment.toString()).toBe('A')
  expect((await followerSync).assignment.toString()).toBe('B')
  expect(classic(h).state).toBe('Stable')
  return {a: a.memberId, b: b.memberId}
}

describe('SyncGroup and Heartbeat', () => {
  it('hands the leader assignment to every member once it is written to __consumer_offsets', async () => {
    const h = await harness()
    const {a, b} = await stableGroupOfTwo(h)
    const groupRecords = h.log.all().filter((r) => decodeCoordinatorKey(r.key).type === 'group')
    const last = decodeGroupMetadataValue(groupRecords.at(-1)!.value!)
    expect(last).toMatchObject({protocolType: 'consumer', generation: 2, protocol: 'range', leader: a})
    expect(last.members.map((m) => [m.memberId, m.assignment.toString()]).sort()).toEqual([[a, 'A'], [b, 'B']].sort())
    // A SyncGroup in a stable group returns the member's assignment.
    expect((await h.coordinator.syncGroup({groupId: 'g', generationId: 2, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: []})).assignment.toString()).toBe('B')
  })

  it('answers Kafka errors: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL, REBALANCE_IN_PROGRESS', async () => {
    const h = await harness()
    const {a} = await stableGroupOfTwo(h)
    const sync = (o: object) => h.coordinator.syncGroup({groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [], ...o})
    expect((await sync({generationId: 1})).errorCode).toBe(E.ILLEGAL_GENERATION)
    expect((await sync({memberId: 'x'})).errorCode).toBe(E.UNKNOWN_MEMBER_ID)
    expect((await sync({groupId: 'nope'})).errorCode).toBe(E.UNKNOWN_MEMBER_ID)
    expect((await sync({protocolName: 'roundrobin'})).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL)
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: 1, memberId: a, groupInstanceId: null})).toBe(E.ILLEGAL_GENERATION)
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: 2, memberId: 'x', groupInstanceId: null})).toBe(E.UNKNOWN_MEMBER_ID)
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null})).toBe(E.NONE)
    // A third member starts a rebalance: SyncGroup and Heartbeat say REBALANCE_IN_PROGRESS.
    void h.coordinator.joinGroup(joinRequest({requireKnownMemberId: false}))
    expect(classic(h).state).toBe('PreparingRebalance')
    expect((await sync({})).errorCode).toBe(E.REBALANCE_IN_PROGRESS)
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null})).toBe(E.REBALANCE_IN_PROGRESS)
  })

  it('removes a member whose session times out and rebalances the others', async () => {
    const h = await harness()
    const {a, b} = await stableGroupOfTwo(h)
    for (let t = 0; t < 3; t++) {
      h.timer.advance(3000)
      expect(h.coordinator.heartbeat({groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null})).toBe(E.NONE)
    }
    expect(classic(h).hasMember(b)).toBe(true)
    h.timer.advance(1000)
    // b has not heartbeated for 10 s, its session timeout.
    expect(classic(h).hasMember(b)).toBe(false)
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null})).toBe(E.REBALANCE_IN_PROGRESS)
    const rejoin = await h.coordinator.joinGroup(joinRequest({memberId: a}))
    expect(rejoin).toMatchObject({errorCode: E.NONE, generationId: 3, leader: a})
    expect(rejoin.members.map((m) => m.memberId)).toEqual([a])
  })

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const h = await harness()
    const {a, b} = await stableGroupOfTwo(h)
    void h.coordinator.joinGroup(joinRequest({memberId: a, reason: 'metadata changed'}))
    expect(classic(h).state).toBe('PreparingRebalance')
    // b keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
    for (let t = 0; t < 9; t++) {
      h.timer.advance(3000)
      expect(h.coordinator.heartbeat({groupId: 'g', generationId: 2, memberId: b, groupInstanceId: null})).toBe(E.REBALANCE_IN_PROGRESS)
    }
    h.timer.advance(3000) // 30 s rebalance timeout
    expect(classic(h).hasMember(b)).toBe(false)
    expect(classic(h).generationId).toBe(3)
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: 2, memberId: b, groupInstanceId: null})).toBe(E.UNKNOWN_MEMBER_ID)
  })

  it('removes members that do not send SyncGroup within the rebalance timeout', async () => {
    const h = await harness({groupInitialRebalanceDelayMs: 100})
    const a = await joinNew(h)
    const b = await joinNew(h)
    h.timer.advance(1000)
    await Promise.all([a.join, b.join])
    const gen = classic(h).generationId
    const leader = classic(h).leaderId!
    const follower = leader === a.memberId ? b.memberId : a.memberId
    const leaderSync = h.coordinator.syncGroup({groupId: 'g', generationId: gen, memberId: leader, groupInstanceId: null, protocolType: null, protocolName: null, assignments: []})
    expect((await leaderSync).errorCode).toBe(E.NONE)
    for (let t = 0; t < 10; t++) {
      h.timer.advance(3000)
      h.coordinator.heartbeat({groupId: 'g', generationId: gen, memberId: leader, groupInstanceId: null})
      h.coordinator.heartbeat({groupId: 'g', generationId: gen, memberId: follower, groupInstanceId: null})
    }
    expect(classic(h).hasMember(follower)).toBe(false)
    expect(classic(h).state).toBe('PreparingRebalance')
  })

  it('forgets a pending member id that is not used within the session timeout', async () => {
    const h = await harness()
    const first = await h.coordinator.joinGroup(joinRequest())
    expect(classic(h).pendingMembers.has(first.memberId)).toBe(true)
    h.timer.advance(10_000)
    expect(classic(h).pendingMembers.has(first.memberId)).toBe(false)
  })

  it('times out the JoinGroup of a new member that never completes (new-member join timeout)', async () => {
    const h = await harness()
    const {a} = await stableGroupOfTwo(h)
    const c = await joinNew(h)
    // Nobody else rejoins; a and b keep heartbeating for longer than the rebalance timeout.
    h.timer.advance(NEW_MEMBER_JOIN_TIMEOUT_MS)
    const r = await c.join
    expect([E.NONE, E.UNKNOWN_MEMBER_ID]).toContain(r.errorCode)
    expect(classic(h).hasMember(a)).toBe(false)
  })
})

describe('LeaveGroup', () => {
  it('removes members (one by one or by instance id), reports unknown ones, and rebalances', async () => {
    const h = await harness()
    const {a, b} = await stableGroupOfTwo(h)
    const r = h.coordinator.leaveGroup({groupId: 'g', members: [{memberId: b, groupInstanceId: null, reason: 'closing'}, {memberId: 'ghost', groupInstanceId: null, reason: null}]})
    expect(r.errorCode).toBe(E.NONE)
    expect(r.members.map((m) => m.errorCode)).toEqual([E.NONE, E.UNKNOWN_MEMBER_ID])
    expect(classic(h).state).toBe('PreparingRebalance')
    expect((await h.coordinator.joinGroup(joinRequest({memberId: a}))).generationId).toBe(3)
    expect(h.coordinator.leaveGroup({groupId: 'nope', members: [{memberId: a, groupInstanceId: null, reason: null}]}).errorCode).toBe(E.UNKNOWN_MEMBER_ID)
    // The last member leaving empties the group.
    h.coordinator.leaveGroup({groupId: 'g', members: [{memberId: a, groupInstanceId: null, reason: null}]})
    expect(classic(h).state).toBe('Empty')
    expect(classic(h).generationId).toBe(4)
  })
})

describe('static membership (KIP-345)', () => {
  async function staticGroup() {
    const h = await harness()
    const a = h.coordinator.joinGroup(joinRequest({groupInstanceId: 'ia'}))
    const b = h.coordinator.joinGroup(joinRequest({groupInstanceId: 'ib'}))
    h.timer.advance(0)
    const [ra, rb] = [await a, await b]
    expect(ra.errorCode).toBe(E.NONE)
    expect(ra.memberId).toBe('ia-id1')
    const leader = ra.leader
    const gen = ra.generationId
    await h.coordinator.syncGroup({groupId: 'g', generationId: gen, memberId: leader, groupInstanceId: leader === ra.memberId ? 'ia' : 'ib', protocolType: null, protocolName: null, assignments: [{memberId: ra.memberId, assignment: Buffer.from('A')}, {memberId: rb.memberId, assignment: Buffer.from('B')}]})
    expect(classic(h).state).toBe('Stable')
    return {h, a: ra.memberId, b: rb.memberId, gen}
  }

  it('gives a restarted static member its assignment back without a rebalance; the old member id is fenced', async () => {
    const {h, a, b, gen} = await staticGroup()
    const rejoin = await h.coordinator.joinGroup(joinRequest({groupInstanceId: 'ib'}))
    expect(rejoin).toMatchObject({errorCode: E.NONE, generationId: gen})
    expect(rejoin.memberId).not.toBe(b)
    expect(classic(h).state).toBe('Stable')
    const sync = await h.coordinator.syncGroup({groupId: 'g', generationId: gen, memberId: rejoin.memberId, groupInstanceId: 'ib', protocolType: null, protocolName: null, assignments: []})
    expect(sync.assignment.toString()).toBe('B')
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: gen, memberId: b, groupInstanceId: 'ib'})).toBe(E.FENCED_INSTANCE_ID)
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: gen, memberId: a, groupInstanceId: 'ia'})).toBe(E.NONE)
    expect(classic(h).generationId).toBe(gen)
  })

  it('tells a restarted static leader to skip the assignment (v9, KIP-814), or hides its leadership before v9', async () => {
    const {h, a, gen} = await staticGroup()
    const isALeader = classic(h).leaderId === a
    const instance = isALeader ? 'ia' : 'ib'
    const r9 = await h.coordinator.joinGroup(joinRequest({groupInstanceId: instance}))
    expect(r9.skipAssignment).toBe(true)
    expect(r9.leader).toBe(r9.memberId)
    expect(r9.members).toHaveLength(2)
    const r5 = await h.coordinator.joinGroup(joinRequest({groupInstanceId: instance, supportsSkipAssignment: false}))
    expect(r5.skipAssignment).toBe(false)
    expect(r5.leader).toBe(r9.memberId)
    expect(r5.memberId).not.toBe(r9.memberId)
    expect(classic(h).generationId).toBe(gen)
  })

  it('keeps static members that miss a rebalance (they are removed only by their session timeout)', async () => {
    const {h, a, b} = await staticGroup()
    void h.coordinator.joinGroup(joinRequest({memberId: a, groupInstanceId: 'ia', reason: 'rejoin'}))
    h.timer.advance(30_000)
    expect(classic(h).hasMember(b)).toBe(false) // its session (10 s) expired before the rebalance timeout
    const {h: h2, a: a2, b: b2} = await staticGroup()
    void h2.coordinator.joinGroup(joinRequest({memberId: a2, groupInstanceId: 'ia', reason: 'rejoin'}))
    for (let t = 0; t < 5; t++) {
      h2.timer.advance(6000)
      h2.coordinator.heartbeat({groupId: 'g', generationId: 1, memberId: b2, groupInstanceId: 'ib'})
    }
    expect(classic(h2).hasMember(b2)).toBe(true)
    expect(classic(h2).state).toBe('CompletingRebalance')
  })

  it('fences a JoinGroup with an old member id of a static instance and removes by instance id in LeaveGroup', async () => {
    const {h, b} = await staticGroup()
    const r = await h.coordinator.joinGroup(joinRequest({groupInstanceId: 'ib'}))
    expect((await h.coordinator.joinGroup(joinRequest({memberId: b, groupInstanceId: 'ib'}))).errorCode).toBe(E.FENCED_INSTANCE_ID)
    const left = h.coordinator.leaveGroup({groupId: 'g', members: [{memberId: '', groupInstanceId: 'ib', reason: 'admin'}, {memberId: '', groupInstanceId: 'nobody', reason: null}]})
    expect(left.members.map((m) => m.errorCode)).toEqual([E.NONE, E.UNKNOWN_MEMBER_ID])
    expect(classic(h).hasMember(r.memberId)).toBe(false)
  })
})

describe('determinism', () => {
  type Op = {kind: 'join'; member: number} | {kind: 'leave'; member: number} | {kind: 'heartbeat'; member: number} | {kind: 'sync'; member: number} | {kind: 'advance'; ms: number}
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({kind: fc.constant('join' as const), member: fc.integer({min: 0, max: 3})}),
    fc.record({kind: fc.constant('leave' as const), member: fc.integer({min: 0, max: 3})}),
    fc.record({kind: fc.constant('heartbeat' as const), member: fc.integer({min: 0, max: 3})}),
    fc.record({kind: fc.constant('sync' as const), member: fc.integer({min: 0, max: 3})}),
    fc.record({kind: fc.constant('advance' as const), ms: fc.integer({min: 0, max: 15_000})}),
  )

  /** Runs the operations; returns every answer and the group's states in order. */
  async function run(ops: Op[]): Promise<string[]> {
    const h = await harness({groupInitialRebalanceDelayMs: 1000})
    const ids: Array<string | undefined> = []
    const out: string[] = []
    const pending: Array<Promise<void>> = []
    let lastGeneration = 0
    for (const o of ops) {
      const g = h.coordinator.group('g') as ClassicGroup | undefined
      if (o.kind === 'advance') h.timer.advance(o.ms)
      else if (o.kind === 'join') {
        const req = joinRequest({memberId: ids[o.member] ?? '', clientId: `m${o.member}`})
        pending.push(
          h.coordinator.joinGroup(req).then((r) => {
            if (r.errorCode === E.MEMBER_ID_REQUIRED || r.errorCode === E.NONE) ids[o.member] = r.memberId
            if (r.errorCode === E.UNKNOWN_MEMBER_ID) ids[o.member] = undefined
            out.push(`join m${o.member} ${r.errorCode} g${r.generationId} leader=${r.leader} n=${r.members.length}`)
          }),
        )
      } else if (o.kind === 'leave') {
        const r = h.coordinator.leaveGroup({groupId: 'g', members: [{memberId: ids[o.member] ?? 'x', groupInstanceId: null, reason: null}]})
        out.push(`leave m${o.member} ${r.errorCode} ${r.members.map((m) => m.errorCode).join(',')}`)
      } else if (o.kind === 'heartbeat') {
        out.push(`hb m${o.member} ${h.coordinator.heartbeat({groupId: 'g', generationId: g?.generationId ?? 0, memberId: ids[o.member] ?? 'x', groupInstanceId: null})}`)
      } else {
        const memberId = ids[o.member] ?? 'x'
        const assignments = g?.leaderId === memberId ? [...g.members.keys()].map((m) => ({memberId: m, assignment: Buffer.from(m)})) : []
        pending.push(
          h.coordinator.syncGroup({groupId: 'g', generationId: g?.generationId ?? 0, memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments}).then((r) => {
            out.push(`sync m${o.member} ${r.errorCode} ${r.assignment.toString()}`)
          }),
        )
      }
      for (let i = 0; i < 5; i++) await Promise.resolve()
      const after = h.coordinator.group('g') as ClassicGroup | undefined
      if (after) {
        // Invariants: generations never go back; a non-empty group has a leader among its members;
        // a stable group has nobody waiting to join.
        expect(after.generationId).toBeGreaterThanOrEqual(lastGeneration)
        lastGeneration = after.generationId
        if (after.size > 0) expect(after.members.has(after.leaderId!)).toBe(true)
        if (after.state === 'Stable') expect([...after.members.values()].every((m) => !m.awaitingJoin)).toBe(true)
        out.push(`state ${after.state} g${after.generationId} n=${after.size}`)
      }
    }
    h.timer.advance(10 * 60_000)
    await h.coordinator.shutdown()
    await Promise.all(pending)
    return out
  }

  it('gives the same answers for the same requests and clock, and keeps its invariants', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, {maxLength: 40}), async (ops) => {
        expect(await run(ops)).toEqual(await run(ops))
      }),
      {numRuns: 60},
    )
  })
})
