// The Connect leader's assignors: incremental cooperative (revoke what moves in one round, assign
// it in the next; lost work held back for scheduled.rebalance.max.delay.ms) and eager.
import {describe, expect, it} from 'vitest'
import {assignEager, type ConfiguredWork, IncrementalCooperativeAssignor, type MemberAssignment, type MemberWork} from '../../../../src/lib/connect/distributed/assignor.js'

const tasks = (connector: string, n: number) => Array.from({length: n}, (_, task) => ({connector, task}))
const work = (connectors: string[], taskList: Array<{connector: string; task: number}>): ConfiguredWork => ({connectors, tasks: taskList})

/** Applies assignments to the members' running work, as workers do. */
function apply(members: MemberWork[], result: Map<string, MemberAssignment>): MemberWork[] {
  return members.map(m => {
    const a = result.get(m.memberId)!
    const key = (t: {connector: string; task: number}) => `${t.connector}-${t.task}`
    const revoked = new Set(a.revokedTasks.map(key))
    return {
      connectors: [...m.connectors.filter(c => !a.revokedConnectors.includes(c)), ...a.connectors],
      memberId: m.memberId,
      tasks: [...m.tasks.filter(t => !revoked.has(key(t))), ...a.tasks],
    }
  })
}

describe('IncrementalCooperativeAssignor', () => {
  it('a first worker gets everything; a second one gets half in two rounds (revoke, then assign)', () => {
    const clock = {now: 0}
    const assignor = new IncrementalCooperativeAssignor(300_000, () => clock.now)
    const configured = work(['a', 'b'], [...tasks('a', 3), ...tasks('b', 1)])
    let members: MemberWork[] = [{connectors: [], memberId: 'w1', tasks: []}]
    members = apply(members, assignor.assign(members, configured))
    expect(members[0]!.connectors).toEqual(['a', 'b'])
    expect(members[0]!.tasks).toHaveLength(4)

    members.push({connectors: [], memberId: 'w2', tasks: []})
    const round1 = assignor.assign(members, configured)
    expect(round1.get('w2')).toMatchObject({connectors: [], tasks: []})
    expect(round1.get('w1')!.revokedConnectors).toHaveLength(1)
    expect(round1.get('w1')!.revokedTasks).toHaveLength(2)
    members = apply(members, round1)
    const round2 = assignor.assign(members, configured)
    expect(round2.get('w1')).toMatchObject({connectors: [], revokedConnectors: [], revokedTasks: [], tasks: []})
    members = apply(members, round2)
    expect(members.map(m => [m.connectors.length, m.tasks.length])).toEqual([[1, 2], [1, 2]])
    // Stable: nothing moves.
    const round3 = assignor.assign(members, configured)
    expect([...round3.values()].every(a => a.connectors.length + a.tasks.length + a.revokedConnectors.length + a.revokedTasks.length === 0)).toBe(true)
  })

  it('a lost worker\'s work is held back for the delay, then assigned to the workers left', () => {
    const clock = {now: 1000}
    const assignor = new IncrementalCooperativeAssignor(5000, () => clock.now)
    const configured = work(['a'], tasks('a', 4))
    let members: MemberWork[] = [{connectors: [], memberId: 'w1', tasks: []}, {connectors: [], memberId: 'w2', tasks: []}]
    members = apply(members, assignor.assign(members, configured))
    const lostTasks = members[1]!.tasks.length
    expect(lostTasks).toBe(2)
    // w2 dies.
    members = [members[0]!]
    clock.now = 2000
    const held = assignor.assign(members, configured)
    expect(held.get('w1')!.tasks).toEqual([])
    expect(held.get('w1')!.delay).toBe(5000)
    clock.now = 4000
    expect(assignor.assign(members, configured).get('w1')!.delay).toBe(3000)
    clock.now = 7000
    const released = assignor.assign(members, configured)
    expect(released.get('w1')!.delay).toBe(0)
    members = apply(members, released)
    expect(members[0]!.tasks).toHaveLength(4)
  })

  it('with no delay lost work moves at once; deleted and duplicated work is revoked', () => {
    const assignor = new IncrementalCooperativeAssignor(0)
    let members: MemberWork[] = [{connectors: ['a'], memberId: 'w1', tasks: [{connector: 'a', task: 0}, {connector: 'gone', task: 0}]}, {connectors: ['a'], memberId: 'w2', tasks: [{connector: 'a', task: 0}]}]
    const result = assignor.assign(members, work(['a'], tasks('a', 2)))
    expect(result.get('w1')!.revokedTasks).toEqual([{connector: 'gone', task: 0}])
    expect(result.get('w2')!.revokedConnectors).toEqual(['a'])
    expect(result.get('w2')!.revokedTasks).toEqual([{connector: 'a', task: 0}])
    expect(result.get('w2')!.tasks).toEqual([{connector: 'a', task: 1}])
    members = apply(members, result)
    members = [members[0]!]
    members = apply(members, assignor.assign(members, work(['a'], tasks('a', 2))))
    expect(members[0]!.tasks.map(t => t.task).sort()).toEqual([0, 1])
  })
})

describe('assignEager', () => {
  it('round-robin over sorted members: each connector, then its tasks, one circular iterator', () => {
    const result = assignEager(['w2', 'w1'], work(['b', 'a'], [...tasks('a', 2), ...tasks('b', 1)]))
    // a -> w1, a-0 -> w2, a-1 -> w1, b -> w2, b-0 -> w1
    expect(result.get('w1')).toMatchObject({connectors: ['a'], tasks: [{connector: 'a', task: 1}, {connector: 'b', task: 0}]})
    expect(result.get('w2')).toMatchObject({connectors: ['b'], tasks: [{connector: 'a', task: 0}]})
  })
})
