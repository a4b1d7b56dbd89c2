import {describe, expect, it} from 'vitest'
import {assignTasks, type SubscriptionInfo, tasksOf} from '../../src/streams/assignor.js'

const info = (active: string[], state: string[] = []): SubscriptionInfo => ({active, endpoint: null, processId: 'p', state, version: 1})
const TASKS = ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3']

describe('the Streams task assignor', () => {
  it('makes tasks of co-partitioned inputs: task <sub>_<p> is partition p of every input of the sub-topology', () => {
    const tasks = tasksOf([{id: 0, sourceTopics: ['a', 'b'], stateful: true}, {id: 1, sourceTopics: ['app-x-repartition'], stateful: true}], new Map([['a', 2], ['b', 2], ['app-x-repartition', 3]]))
    expect([...tasks.keys()]).toEqual(['0_0', '0_1', '1_0', '1_1', '1_2'])
    expect(tasks.get('0_1')).toEqual([{partition: 1, topic: 'a'}, {partition: 1, topic: 'b'}])
  })

  it('balances new members and spreads every sub-topology', () => {
    const out = assignTasks([{info: info([]), memberId: 'm1'}, {info: info([]), memberId: 'm2'}], TASKS, 0)
    expect(out.get('m1')!.active).toEqual(['0_0', '0_2', '1_0', '1_2'])
    expect(out.get('m2')!.active).toEqual(['0_1', '0_3', '1_1', '1_3'])
  })

  it('keeps tasks with their previous owner, then with a member holding their state', () => {
    const out = assignTasks(
      [
        {info: info(['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3']), memberId: 'm1'},
        {info: info([], ['1_3']), memberId: 'm2'},
      ],
      TASKS,
      0,
    )
    expect(out.get('m1')!.active).toHaveLength(4)
    expect(out.get('m2')!.active).toContain('1_3')
    expect([...out.get('m1')!.active, ...out.get('m2')!.active].sort()).toEqual(TASKS)
  })

  it('gives stateful tasks standbys on other members, none to stateless ones, none when alone', () => {
    const stateful = (t: string) => t.startsWith('1_')
    const out = assignTasks([{info: info([]), memberId: 'm1'}, {info: info([]), memberId: 'm2'}, {info: info([]), memberId: 'm3'}], TASKS, 1, stateful)
    const standbys = [...out.values()].flatMap((a) => a.standby)
    expect(standbys.sort()).toEqual(['1_0', '1_1', '1_2', '1_3'])
    for (const a of out.values()) for (const s of a.standby) expect(a.active).not.toContain(s)
    expect(assignTasks([{info: info([]), memberId: 'm1'}], TASKS, 1, stateful).get('m1')!.standby).toEqual([])
  })
})
