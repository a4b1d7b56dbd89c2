/** The KIP-848 server-side assignors: every partition to exactly one subscriber, balance, stickiness. */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {type Assignment, type AssignmentSpec, rangeAssignor, uniformAssignor} from '../../../src/server/coordinator/assignors.js'

const arbSpec: fc.Arbitrary<AssignmentSpec> = fc
  .record({
    topics: fc.array(fc.integer({min: 1, max: 12}), {minLength: 1, maxLength: 4}),
    members: fc.array(fc.array(fc.boolean(), {minLength: 4, maxLength: 4}), {minLength: 1, maxLength: 7}),
  })
  .map(({topics, members}) => ({
    topics: new Map(topics.map((n, i) => [`t${i}`, n])),
    members: new Map(members.map((subs, m) => [`m${m}`, {subscribedTopicIds: new Set(topics.map((_, i) => `t${i}`).filter((_, i) => subs[i])), rackId: null, current: new Map()}])),
  }))

function owners(spec: AssignmentSpec, result: Map<string, Assignment>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const [m, a] of result) {
    for (const [t, ps] of a) {
      expect(spec.members.get(m)!.subscribedTopicIds.has(t)).toBe(true)
      for (const p of ps) {
        expect(p).toBeLessThan(spec.topics.get(t)!)
        const key = `${t}:${p}`
        out.set(key, [...(out.get(key) ?? []), m])
      }
    }
  }
  return out
}

const count = (a: Assignment) => [...a.values()].reduce((n, s) => n + s.size, 0)

describe.each([uniformAssignor, rangeAssignor])('$name assignor', (assignor) => {
  it('gives every partition of a subscribed topic to exactly one subscriber, deterministically', () => {
    fc.assert(
      fc.property(arbSpec, (spec) => {
        const result = assignor.assign(spec)
        const o = owners(spec, result)
        for (const [t, n] of spec.topics) {
          const subscribed = [...spec.members.values()].some((m) => m.subscribedTopicIds.has(t))
          for (let p = 0; p < n; p++) expect(o.get(`${t}:${p}`)?.length ?? 0).toBe(subscribed ? 1 : 0)
        }
        expect([...assignor.assign(spec)].map(([m, a]) => [m, [...a].map(([t, s]) => [t, [...s]])])).toEqual([...result].map(([m, a]) => [m, [...a].map(([t, s]) => [t, [...s]])]))
      }),
    )
  })
})

describe('uniform assignor', () => {
  it('balances members with the same subscription to within one partition', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 40}), fc.integer({min: 1, max: 9}), (partitions, members) => {
        const spec: AssignmentSpec = {topics: new Map([['t', partitions]]), members: new Map(Array.from({length: members}, (_, i) => [`m${i}`, {subscribedTopicIds: new Set(['t']), rackId: null, current: new Map()}]))}
        const counts = [...uniformAssignor.assign(spec).values()].map(count)
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
      }),
    )
  })

  it('is sticky: a member joining takes partitions only from others, who keep the rest', () => {
    const topics = new Map([['t', 12]])
    const first = uniformAssignor.assign({topics, members: new Map(['a', 'b', 'c'].map((m) => [m, {subscribedTopicIds: new Set(['t']), rackId: null, current: new Map()}]))})
    const second = uniformAssignor.assign({topics, members: new Map(['a', 'b', 'c', 'd'].map((m) => [m, {subscribedTopicIds: new Set(['t']), rackId: null, current: first.get(m) ?? new Map()}]))})
    for (const m of ['a', 'b', 'c']) {
      const before = first.get(m)!.get('t')!
      const after = second.get(m)!.get('t')!
      expect(after.size).toBe(3)
      for (const p of after) expect(before.has(p)).toBe(true)
    }
    expect(second.get('d')!.get('t')!.size).toBe(3)
  })
})

describe('range assignor', () => {
  it("gives contiguous ranges, the first members one more (Kafka's RangeAssignor arithmetic)", () => {
    const result = rangeAssignor.assign({topics: new Map([['t', 7]]), members: new Map(['a', 'b', 'c'].map((m) => [m, {subscribedTopicIds: new Set(['t']), rackId: null, current: new Map()}]))})
    expect(['a', 'b', 'c'].map((m) => [...result.get(m)!.get('t')!])).toEqual([[0, 1, 2], [3, 4], [5, 6]])
  })
})
