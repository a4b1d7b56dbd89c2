import {describe, expect, it} from 'vitest'

import {rangeAssignor, roundRobinAssignor} from '../../../src/lib/client/assignors.js'

const members = [
  {memberId: 'c-2', topics: ['t1', 't2']},
  {memberId: 'c-1', topics: ['t1', 't2']},
]
const partitions = new Map([
  ['t1', 3],
  ['t2', 3],
])

describe('assignors (as the Java client\'s)', () => {
  it('range: per topic, the first members by id get the extra partitions', () => {
    const a = rangeAssignor.assign(members, partitions)
    expect(a.get('c-1')).toEqual([{partitions: [0, 1], topic: 't1'}, {partitions: [0, 1], topic: 't2'}])
    expect(a.get('c-2')).toEqual([{partitions: [2], topic: 't1'}, {partitions: [2], topic: 't2'}])
  })

  it('roundrobin: all topic-partitions dealt in turn', () => {
    const a = roundRobinAssignor.assign(members, partitions)
    expect(a.get('c-1')).toEqual([{partitions: [0, 2], topic: 't1'}, {partitions: [1], topic: 't2'}])
    expect(a.get('c-2')).toEqual([{partitions: [1], topic: 't1'}, {partitions: [0, 2], topic: 't2'}])
  })

  it('roundrobin skips members not subscribed to a topic', () => {
    const a = roundRobinAssignor.assign([{memberId: 'a', topics: ['x']}, {memberId: 'b', topics: ['x', 'y']}], new Map([['x', 2], ['y', 2]]))
    expect(a.get('a')).toEqual([{partitions: [0], topic: 'x'}])
    expect(a.get('b')).toEqual([{partitions: [1], topic: 'x'}, {partitions: [0, 1], topic: 'y'}])
  })

  it('more members than partitions leaves some empty', () => {
    const a = rangeAssignor.assign([{memberId: 'a', topics: ['x']}, {memberId: 'b', topics: ['x']}, {memberId: 'c', topics: ['x']}], new Map([['x', 2]]))
    expect([...a.values()].map((v) => v.flatMap((t) => t.partitions))).toEqual([[0], [1], []])
  })
})
