import {describe, expect, it} from 'vitest'
import {JoinWindows, KafkaStreams, Serdes, StreamsBuilder} from '../../src/streams/index.js'
import {pollUntil} from '../e2e/harness.js'
import {quietLogger, useStreamsBroker} from './fixture.js'
import {produceRaw, readAll, runSteps, type Step} from './support.js'

const S = Serdes.String()
const J = (l: string | null, r: string | null) => `L=${l},R=${r}`

/** Kafka's C04Joins inputs (shared/kafka-reference/streams/04-joins). */
const SS_INPUT: Step[] = [
  ['ss-left', 'A', 'a1', 1000], ['ss-right', 'A', 'A1', 2000], ['ss-left', 'B', 'b1', 3000], ['ss-right', 'C', 'C1', 4000], ['ss-left', 'A', 'a2', 7000],
  ['ss-right', 'A', 'A2', 6500], ['ss-left', 'D', 'd1', 9000], ['ss-right', 'B', 'B1', 7500], ['ss-left', 'E', 'e1', 18000], ['ss-right', 'A', 'A3', 10000],
  ['ss-left', null, 'n1', 18500], ['ss-left', 'A', null, 19000], ['ss-left', 'G', 'g1', 30000],
]
type Out = [string | null, string | null, number]
/** Kafka Streams 4.0.0's outputs for SS_INPUT, in order. */
const SS_EXPECTED: Record<string, Out[]> = {
  'inner-0': [['A', 'L=a1,R=A1', 2000], ['A', 'L=a2,R=A1', 7000], ['A', 'L=a2,R=A2', 7000], ['B', 'L=b1,R=B1', 7500]],
  'inner-3000': [['A', 'L=a1,R=A1', 2000], ['A', 'L=a2,R=A1', 7000], ['A', 'L=a2,R=A2', 7000], ['B', 'L=b1,R=B1', 7500], ['A', 'L=a2,R=A3', 10000]],
  'left-0': [['A', 'L=a1,R=A1', 2000], ['A', 'L=a2,R=A1', 7000], ['A', 'L=a2,R=A2', 7000], ['B', 'L=b1,R=null', 3000], ['B', 'L=b1,R=B1', 7500], ['D', 'L=d1,R=null', 9000], [null, 'L=n1,R=null', 18500], ['E', 'L=e1,R=null', 18000]],
  'left-3000': [['A', 'L=a1,R=A1', 2000], ['A', 'L=a2,R=A1', 7000], ['A', 'L=a2,R=A2', 7000], ['B', 'L=b1,R=B1', 7500], ['D', 'L=d1,R=null', 9000], ['A', 'L=a2,R=A3', 10000], [null, 'L=n1,R=null', 18500], ['E', 'L=e1,R=null', 18000]],
  'outer-0': [['A', 'L=a1,R=A1', 2000], ['A', 'L=a2,R=A1', 7000], ['A', 'L=a2,R=A2', 7000], ['B', 'L=b1,R=B1', 7500], ['C', 'L=null,R=C1', 4000], ['D', 'L=d1,R=null', 9000], ['A', 'L=null,R=A3', 10000], [null, 'L=n1,R=null', 18500], ['E', 'L=e1,R=null', 18000]],
  'outer-3000': [['A', 'L=a1,R=A1', 2000], ['A', 'L=a2,R=A1', 7000], ['A', 'L=a2,R=A2', 7000], ['B', 'L=b1,R=B1', 7500], ['C', 'L=null,R=C1', 4000], ['D', 'L=d1,R=null', 9000], ['A', 'L=a2,R=A3', 10000], [null, 'L=n1,R=null', 18500], ['E', 'L=e1,R=null', 18000]],
}

const ST_INPUT: Step[] = [
  ['st-stream', 'K1', 's1', 1000], ['st-table', 'K1', 't1', 2000], ['st-stream', 'K1', 's2', 3000], ['st-table', 'K1', 't1b', 5000], ['st-stream', 'K1', 's3', 4000], ['st-table', 'K1', null, 6000],
  ['st-stream', 'K1', 's4', 7000], ['st-stream', null, 's5', 8000], ['st-stream', 'K2', null, 9000], ['st-table', 'K2', 't2', 10000], ['st-stream', 'K2', 's6', 9500],
]
const TT_INPUT: Step[] = [
  ['tt-left', 'K1', 'l1', 1000], ['tt-right', 'K1', 'r1', 2000], ['tt-right', 'K2', 'r2', 3000], ['tt-left', 'K1', 'l1b', 4000], ['tt-right', 'K1', null, 5000], ['tt-left', 'K1', null, 6000],
  ['tt-right', 'K3', 'r3', 7000], ['tt-left', 'K3', 'l3', 6500], ['tt-left', 'K2', 'l2', 8000], ['tt-right', 'K2', null, 9000], ['tt-left', 'K2', null, 10000], ['tt-right', 'K9', null, 11000],
]
const GT_INPUT: Step[] = [
  ['gt-geo', 'DE', 'Germany', 1000], ['gt-clicks', 'u1', 'DE|home', 2000], ['gt-clicks', 'u2', 'FR|cart', 3000], ['gt-geo', 'FR', 'France', 4000], ['gt-clicks', 'u2', 'FR|pay', 5000], ['gt-geo', 'DE', null, 6000],
  ['gt-clicks', 'u1', 'DE|exit', 7000], ['gt-geo', 'FR', 'France (updated)', 1000], ['gt-clicks', 'u3', 'FR|home', 8000], ['gt-clicks', null, 'FR|anon', 9000], ['gt-clicks', 'u5', 'nocountry', 10000], ['gt-clicks', 'u6', null, 11000],
]

/** Reference: a stream-table join is a lookup of the table as the steps have built it so far. */
function streamTableReference(steps: readonly Step[], left: boolean): Out[] {
  const table = new Map<string, string>()
  const out: Out[] = []
  for (const [topic, key, value, ts] of steps) {
    if (topic.endsWith('table')) {
      if (key === null) continue
      if (value === null) table.delete(key)
      else table.set(key, value)
      continue
    }
    if (value === null) continue
    if (key === null) {
      if (left) out.push([null, J(value, null), ts])
      continue
    }
    const found = table.get(key)
    if (found !== undefined || left) out.push([key, J(value, found ?? null), ts])
  }
  return out
}

/**
 * Reference: after each update, the join of the two tables at that key; emitted when it differs
 * from the join before the update (a tombstone when the row disappears), timestamp max of both
 * sides' timestamps when both exist.
 */
function tableTableReference(steps: readonly Step[], kind: 'inner' | 'left' | 'outer'): Out[] {
  const sides = {left: new Map<string, [string, number]>(), right: new Map<string, [string, number]>()}
  const joined = (k: string): string | null => {
    const l = sides.left.get(k)
    const r = sides.right.get(k)
    if (kind === 'inner' ? l && r : kind === 'left' ? l : l || r) return J(l?.[0] ?? null, r?.[0] ?? null)
    return null
  }
  const out: Out[] = []
  for (const [topic, key, value, ts] of steps) {
    const mine = topic.endsWith('left') ? sides.left : sides.right
    const other = topic.endsWith('left') ? sides.right : sides.left
    const before = joined(key!)
    if (value === null) mine.delete(key!)
    else mine.set(key!, [value, ts])
    const after = joined(key!)
    if (before === after && before === null) continue
    // A delete of this side emits even when nothing was joined before only if this side's delete is visible (it existed).
    const o = other.get(key!)
    out.push([key, after, o && (value !== null || after !== null || before !== null) ? Math.max(ts, o[1]) : ts])
  }
  return out
}

/** Reference: the stream record joined with the global table as the steps have built it (updates in offset order whatever their timestamps). */
function globalReference(steps: readonly Step[], left: boolean): Out[] {
  const table = new Map<string, string>()
  const out: Out[] = []
  for (const [topic, key, value, ts] of steps) {
    if (topic === 'gt-geo') {
      if (value === null) table.delete(key!)
      else table.set(key!, value)
      continue
    }
    if (value === null || !value.includes('|')) continue
    const found = table.get(value.split('|')[0]!)
    if (found !== undefined || left) out.push([key, J(value, found ?? null), ts])
  }
  return out
}

describe('kcli Streams joins', () => {
  const fx = useStreamsBroker()
  let n = 0
  const stateDir = () => fx.stateDir('kcli-streams-join-')
  /** Each run gets fresh topics: the steps' topic names with a suffix. */
  const rename = (steps: readonly Step[], suffix: string): Step[] => steps.map(([t, k, v, ts]) => [`${t}-${suffix}`, k, v, ts])

  for (const kind of ['inner', 'left', 'outer'] as const) {
    for (const grace of [0, 3000]) {
      it(`stream-stream ${kind} join, grace ${grace}: Kafka Streams' results, order and timestamps`, async () => {
        const suffix = `${kind}-${grace}-${n++}`
        const b = new StreamsBuilder()
        const left = b.stream<string, string>(`ss-left-${suffix}`, {keySerde: S, valueSerde: S})
        const right = b.stream<string, string>(`ss-right-${suffix}`, {keySerde: S, valueSerde: S})
        const w = grace === 0 ? JoinWindows.ofTimeDifferenceWithNoGrace(5000) : JoinWindows.ofTimeDifferenceAndGrace(5000, grace)
        const joined = kind === 'inner' ? left.join(right, J, w) : kind === 'left' ? left.leftJoin(right, J, w) : left.outerJoin(right, J, w)
        joined.to(`ss-output-${suffix}`, {keySerde: S, valueSerde: S})
        const topology = b.build()
        const expected = SS_EXPECTED[`${kind}-${grace}`]!
        const {records} = await runSteps({appId: `ss-${suffix}`, bootstrap: fx.broker.bootstrap, expected: expected.length, output: `ss-output-${suffix}`, stateDir: stateDir(), steps: rename(SS_INPUT, suffix), topology})
        expect(records).toEqual(expected)
        if (kind === 'left') {
          const text = topology.describe().toString()
          expect(text).toContain(`Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-OUTEROTHER-0000000005-store, KSTREAM-OUTERSHARED-0000000004-store])`)
        }
      }, 60_000)
    }
  }

  it('stream-stream inner/left/outer joins over random input equal the brute-force pairs within the window plus each unmatched record once', async () => {
    const W = 2000
    const G = 500
    let x = 17
    const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
    const base: Step[] = []
    let clock = 1000
    for (let i = 0; i < 40; i++) {
      clock += Math.floor(random() * 900)
      base.push([random() < 0.5 ? 'l' : 'r', `k${Math.floor(random() * 4)}`, `${i}`, clock])
    }
    // Far in the future on a key of its own: closes every window; itself stays pending.
    base.push(['l', 'flush', 'f', clock + 100_000])
    const reference = (kind: 'inner' | 'left' | 'outer'): Out[] => {
      const ls = base.filter((s) => s[0] === 'l' && s[1] !== 'flush')
      const rs = base.filter((s) => s[0] === 'r')
      const out: Out[] = []
      const matched = new Set<Step>()
      for (const l of ls) {
        for (const r of rs) {
          if (l[1] === r[1] && Math.abs(l[3] - r[3]) <= W) {
            out.push([l[1], J(l[2], r[2]), Math.max(l[3], r[3])])
            matched.add(l).add(r)
          }
        }
      }
      if (kind !== 'inner') for (const l of ls) if (!matched.has(l)) out.push([l[1], J(l[2], null), l[3]])
      if (kind === 'outer') for (const r of rs) if (!matched.has(r)) out.push([r[1], J(null, r[2]), r[3]])
      return out
    }
    const sort = (o: Out[]) => [...o].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
    for (const kind of ['inner', 'left', 'outer'] as const) {
      const suffix = `random-${kind}-${n++}`
      const b = new StreamsBuilder()
      const l = b.stream<string, string>(`rl-${suffix}`, {keySerde: S, valueSerde: S})
      const r = b.stream<string, string>(`rr-${suffix}`, {keySerde: S, valueSerde: S})
      const w = JoinWindows.ofTimeDifferenceAndGrace(W, G)
      ;(kind === 'inner' ? l.join(r, J, w) : kind === 'left' ? l.leftJoin(r, J, w) : l.outerJoin(r, J, w)).to(`rj-out-${suffix}`, {keySerde: S, valueSerde: S})
      const expected = reference(kind)
      expect(expected.length).toBeGreaterThan(kind === 'inner' ? 5 : 15)
      const steps = base.map(([side, k, v, ts]): Step => [side === 'l' ? `rl-${suffix}` : `rr-${suffix}`, k, v, ts])
      const {records} = await runSteps({appId: `rj-${suffix}`, bootstrap: fx.broker.bootstrap, expected: expected.length, output: `rj-out-${suffix}`, stateDir: stateDir(), steps, topology: b.build()})
      expect(sort(records)).toEqual(sort(expected))
      if (kind === 'inner') {
        // Rows older than the window store's retention (before + after + grace) are purged: tombstones in its changelog.
        const changelog = await readAll(fx.broker.bootstrap, `rj-${suffix}-KSTREAM-JOINTHIS-0000000004-store-changelog`)
        const tombstones = changelog.filter((r) => r.value === null)
        expect(tombstones.length).toBeGreaterThan(5)
        const last = Math.max(...changelog.map((r) => r.timestamp))
        for (const t of tombstones) expect(Number(t.key!.readBigInt64BE(t.key!.length - 12))).toBeLessThan(last - 2 * W - G + 1)
      }
    }
  }, 120_000)

  for (const left of [false, true]) {
    it(`stream-table ${left ? 'left' : 'inner'} join equals a lookup of the table built so far`, async () => {
      const suffix = `${left}-${n++}`
      const b = new StreamsBuilder()
      const s = b.stream<string, string>(`st-stream-${suffix}`, {keySerde: S, valueSerde: S})
      const t = b.table<string, string>(`st-table-${suffix}`, {keySerde: S, valueSerde: S})
      ;(left ? s.leftJoin(t, J) : s.join(t, J)).to(`st-output-${suffix}`, {keySerde: S, valueSerde: S})
      const steps = rename(ST_INPUT, suffix)
      const expected = streamTableReference(ST_INPUT, left)
      // Kafka Streams 4.0.0 gave 3 (inner) and 6 (left) results for this input.
      expect(expected.length).toBe(left ? 6 : 3)
      const {records} = await runSteps({appId: `st-${suffix}`, bootstrap: fx.broker.bootstrap, expected: expected.length, output: `st-output-${suffix}`, stateDir: stateDir(), steps, topology: b.build()})
      expect(records).toEqual(expected)
    }, 60_000)
  }

  for (const kind of ['inner', 'left', 'outer'] as const) {
    it(`table-table ${kind} join equals the join of the two tables after each update`, async () => {
      const suffix = `${kind}-${n++}`
      const b = new StreamsBuilder()
      const l = b.table<string, string>(`tt-left-${suffix}`, {keySerde: S, valueSerde: S})
      const r = b.table<string, string>(`tt-right-${suffix}`, {keySerde: S, valueSerde: S})
      const j = kind === 'inner' ? l.join(r, J) : kind === 'left' ? l.leftJoin(r, J) : l.outerJoin(r, J)
      j.toStream().to(`tt-output-${suffix}`, {keySerde: S, valueSerde: S})
      const expected = tableTableReference(TT_INPUT, kind)
      expect(expected.length).toBe({inner: 6, left: 9, outer: 11}[kind])
      const {records} = await runSteps({appId: `tt-${suffix}`, bootstrap: fx.broker.bootstrap, expected: expected.length, output: `tt-output-${suffix}`, stateDir: stateDir(), steps: rename(TT_INPUT, suffix), topology: b.build()})
      expect(records).toEqual(expected)
    }, 60_000)
  }

  for (const left of [false, true]) {
    it(`foreign-key table-table ${left ? 'left' : 'inner'} join converges to the join of the final tables through its registration and response topics`, async () => {
      const suffix = `${left}-${n++}`
      const FK_INPUT: Step[] = [
        ['fk-products', 'P1', 'apple', 1000], ['fk-orders', 'O1', 'P1|2', 2000], ['fk-orders', 'O2', 'P2|1', 3000], ['fk-products', 'P2', 'banana', 4000], ['fk-products', 'P1', 'apple-v2', 5000],
        ['fk-orders', 'O1', 'P2|3', 6000], ['fk-products', 'P1', 'apple-v3', 7000], ['fk-products', 'P2', null, 8000], ['fk-orders', 'O2', null, 9000], ['fk-orders', 'O3', 'P9|1', 10000], ['fk-orders', 'O1', 'P1|4', 11000],
        ['fk-orders', 'O4', 'P1|7', 12000], ['fk-products', 'P2', 'banana-v2', 13000], ['fk-orders', 'O5', 'P2|5', 14000],
      ]
      const b = new StreamsBuilder()
      const orders = b.table<string, string>(`fk-orders-${suffix}`, {keySerde: S, valueSerde: S})
      const products = b.table<string, string>(`fk-products-${suffix}`, {keySerde: S, valueSerde: S})
      const fk = (v: string) => v.split('|')[0]!
      ;(left ? orders.leftJoin(products, fk, J) : orders.join(products, fk, J)).toStream().to(`fk-output-${suffix}`, {keySerde: S, valueSerde: S})
      const topology = b.build()
      expect([...topology.repartitionTopics.keys()]).toEqual(['KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic', 'KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic'])
      // Reference: the final orders joined with the final products by the foreign key.
      const finalOf = (topic: string) => {
        const m = new Map<string, string>()
        for (const [t, k, v] of FK_INPUT) if (t === topic) v === null ? m.delete(k!) : m.set(k!, v)
        return m
      }
      const finalProducts = finalOf('fk-products')
      const expected = new Map<string, string>()
      for (const [pk, v] of finalOf('fk-orders')) {
        const product = finalProducts.get(fk(v))
        if (product !== undefined || left) expected.set(pk, J(v, product ?? null))
      }
      await fx.admin.createTopics(['fk-orders', 'fk-products', 'fk-output'].map((t) => ({name: `${t}-${suffix}`, numPartitions: 2, replicationFactor: 1})))
      const app = new KafkaStreams(topology, {'application.id': `fk-${suffix}`, 'bootstrap.servers': fx.broker.bootstrap, 'commit.interval.ms': 100, logger: quietLogger, 'state.dir': stateDir()})
      await app.start()
      try {
        for (const [topic, k, v, ts] of FK_INPUT) await produceRaw(fx.broker.bootstrap, `${topic}-${suffix}`, [{key: Buffer.from(k!), timestamp: ts, value: v === null ? null : Buffer.from(v)}])
        const table = (records: Awaited<ReturnType<typeof readAll>>) => {
          const m = new Map<string, string>()
          for (const r of [...records].sort((a, c) => a.partition - c.partition || a.offset - c.offset)) r.value === null ? m.delete(r.key!.toString()) : m.set(r.key!.toString(), r.value.toString())
          return [...m].sort()
        }
        const got = await pollUntil(() => readAll(fx.broker.bootstrap, `fk-output-${suffix}`), (r) => JSON.stringify(table(r)) === JSON.stringify([...expected].sort()), 20_000, 'the joined table').catch(() => readAll(fx.broker.bootstrap, `fk-output-${suffix}`))
        expect(table(got)).toEqual([...expected].sort())
      } finally {
        await app.close()
      }
    }, 60_000)
  }

  /**
   * Runs a foreign-key join of orders (value `<product>|<qty>`, `-` for no product) with products,
   * one step at a time: each step's outputs (key, value, timestamp) are awaited before the next.
   */
  const runFkSteps = async (left: boolean, steps: readonly [Step, Out[]][]): Promise<Out[]> => {
    const suffix = `fks-${left}-${n++}`
    const b = new StreamsBuilder()
    const orders = b.table<string, string>(`fk-orders-${suffix}`, {keySerde: S, valueSerde: S})
    const products = b.table<string, string>(`fk-products-${suffix}`, {keySerde: S, valueSerde: S})
    const fk = (v: string) => (v.startsWith('-|') ? null : v.split('|')[0]!)
    ;(left ? orders.leftJoin(products, fk as (v: string) => string, J) : orders.join(products, fk as (v: string) => string, J)).toStream().to(`fk-output-${suffix}`, {keySerde: S, valueSerde: S})
    await fx.admin.createTopics(['fk-orders', 'fk-products', 'fk-output'].map((t) => ({name: `${t}-${suffix}`, numPartitions: 1, replicationFactor: 1})))
    const app = new KafkaStreams(b.build(), {'application.id': `fk-${suffix}`, 'bootstrap.servers': fx.broker.bootstrap, 'commit.interval.ms': 100, logger: quietLogger, 'state.dir': stateDir()})
    await app.start()
    const read = async (): Promise<Out[]> => (await readAll(fx.broker.bootstrap, `fk-output-${suffix}`)).map((r) => [r.key!.toString(), r.value === null ? null : r.value.toString(), r.timestamp])
    try {
      let expected = 0
      for (const [[topic, k, v, ts], outs] of steps) {
        await produceRaw(fx.broker.bootstrap, `${topic}-${suffix}`, [{key: Buffer.from(k!), timestamp: ts, value: v === null ? null : Buffer.from(v)}])
        expected += outs.length
        if (outs.length > 0) await pollUntil(read, (r) => r.length >= expected, 20_000, `${expected} outputs`)
      }
      // A last product update that outputs nothing for either join, then everything so far.
      await produceRaw(fx.broker.bootstrap, `fk-products-${suffix}`, [{key: Buffer.from('P-unused'), timestamp: 99_000, value: Buffer.from('x')}])
      await pollUntil(async () => app.metrics()['process-total'], (c) => c >= steps.length + 1, 20_000, 'all steps processed')
      return await read()
    } finally {
      await app.close()
    }
  }

  // Kafka Streams 4.0.0's outputs for C04Joins' foreign-key input (shared/kafka-reference/streams/04-joins/fk-table-table-*).
  const FK_STEPS: [Step, Record<'inner' | 'left', Out[]>][] = [
    [['fk-products', 'P1', 'apple', 1000], {inner: [], left: []}],
    [['fk-orders', 'O1', 'P1|2', 2000], {inner: [['O1', 'L=P1|2,R=apple', 2000]], left: [['O1', 'L=P1|2,R=apple', 2000]]}],
    [['fk-orders', 'O2', 'P2|1', 3000], {inner: [], left: [['O2', 'L=P2|1,R=null', 3000]]}],
    [['fk-products', 'P2', 'banana', 4000], {inner: [['O2', 'L=P2|1,R=banana', 4000]], left: [['O2', 'L=P2|1,R=banana', 4000]]}],
    [['fk-products', 'P1', 'apple-v2', 5000], {inner: [['O1', 'L=P1|2,R=apple-v2', 5000]], left: [['O1', 'L=P1|2,R=apple-v2', 5000]]}],
    [['fk-orders', 'O1', 'P2|3', 6000], {inner: [['O1', 'L=P2|3,R=banana', 6000]], left: [['O1', 'L=P2|3,R=null', 6000], ['O1', 'L=P2|3,R=banana', 6000]]}],
    [['fk-products', 'P1', 'apple-v3', 7000], {inner: [], left: []}],
    [['fk-products', 'P2', null, 8000], {inner: [['O1', null, 8000], ['O2', null, 8000]], left: [['O1', 'L=P2|3,R=null', 8000], ['O2', 'L=P2|1,R=null', 8000]]}],
    [['fk-orders', 'O2', null, 9000], {inner: [['O2', null, 9000]], left: [['O2', null, 9000], ['O2', null, 9000]]}],
    [['fk-orders', 'O3', 'P9|1', 10000], {inner: [], left: [['O3', 'L=P9|1,R=null', 10000]]}],
    [['fk-orders', 'O1', 'P1|4', 11000], {inner: [['O1', 'L=P1|4,R=apple-v3', 11000]], left: [['O1', 'L=P1|4,R=null', 11000], ['O1', 'L=P1|4,R=apple-v3', 11000]]}],
  ]

  for (const kind of ['inner', 'left'] as const) {
    it(`foreign-key ${kind} join gives Kafka Streams' outputs step by step: nothing while the product is missing (inner), the intermediate null when the foreign key changes`, async () => {
      const out = await runFkSteps(kind === 'left', FK_STEPS.map(([step, outs]) => [step, outs[kind]]))
      expect(out).toEqual(FK_STEPS.flatMap(([, outs]) => outs[kind]))
    }, 60_000)
  }

  it('foreign-key joins of a row whose extractor gives null: (left, null) for a left join, nothing (or a tombstone of the previous result) for an inner join', async () => {
    const steps: [Step, Record<'inner' | 'left', Out[]>][] = [
      [['fk-products', 'P1', 'apple', 1000], {inner: [], left: []}],
      [['fk-orders', 'O1', '-|1', 2000], {inner: [], left: [['O1', 'L=-|1,R=null', 2000]]}],
      [['fk-orders', 'O1', 'P1|2', 3000], {inner: [['O1', 'L=P1|2,R=apple', 3000]], left: [['O1', 'L=P1|2,R=apple', 3000]]}],
      [['fk-orders', 'O1', '-|3', 4000], {inner: [['O1', null, 4000]], left: [['O1', 'L=-|3,R=null', 4000], ['O1', 'L=-|3,R=null', 4000]]}],
      [['fk-orders', 'O1', null, 5000], {inner: [], left: [['O1', null, 5000]]}],
    ]
    for (const kind of ['inner', 'left'] as const) {
      const out = await runFkSteps(kind === 'left', steps.map(([step, outs]) => [step, outs[kind]]))
      expect(out).toEqual(steps.flatMap(([, outs]) => outs[kind]))
    }
  }, 90_000)

  for (const left of [false, true]) {
    it(`stream-globaltable ${left ? 'left' : 'inner'} join sees the global table's updates in offset order`, async () => {
      const suffix = `${left}-${n++}`
      const b = new StreamsBuilder()
      const clicks = b.stream<string, string>(`gt-clicks-${suffix}`, {keySerde: S, valueSerde: S})
      const geo = b.globalTable<string, string>(`gt-geo-${suffix}`, {keySerde: S, valueSerde: S})
      const selector = (_k: string, v: string | null) => (v === null || !v.includes('|') ? null : v.split('|')[0]!)
      ;(left ? clicks.leftJoin(geo, selector, J) : clicks.join(geo, selector, J)).to(`gt-output-${suffix}`, {keySerde: S, valueSerde: S})
      const topology = b.build()
      expect(topology.describe().toString()).toContain(`  Sub-topology: 1 for global store (will not generate tasks)\n    Source: KSTREAM-SOURCE-0000000002 (topics: [gt-geo-${suffix}])\n      --> KTABLE-SOURCE-0000000003\n    Processor: KTABLE-SOURCE-0000000003 (stores: [gt-geo-${suffix}-STATE-STORE-0000000001])\n      --> none\n      <-- KSTREAM-SOURCE-0000000002\n`)
      const expected = globalReference(GT_INPUT, left)
      expect(expected.length).toBe(left ? 6 : 4)
      const {records} = await runSteps({appId: `gt-${suffix}`, bootstrap: fx.broker.bootstrap, expected: expected.length, globalTopics: [`gt-geo-${suffix}`], output: `gt-output-${suffix}`, stateDir: stateDir(), steps: rename(GT_INPUT, suffix), topology})
      expect(records).toEqual(expected)
    }, 60_000)
  }
})

describe('kcli Streams join co-partitioning', () => {
  const fx = useStreamsBroker()

  it('a join of topics with different partition counts fails at start naming them, and runs once the stream is repartitioned', async () => {
    await fx.admin.createTopics([
      {name: 'cp-orders', numPartitions: 3, replicationFactor: 1},
      {name: 'cp-customers', numPartitions: 2, replicationFactor: 1},
    ])
    const topology = (repartition: boolean) => {
      const b = new StreamsBuilder()
      const orders = b.stream<string, string>('cp-orders', {keySerde: S, valueSerde: S})
      const customers = b.table<string, string>('cp-customers', {keySerde: S, valueSerde: S})
      ;(repartition ? orders.repartition() : orders).join(customers, J).to('cp-output', {keySerde: S, valueSerde: S})
      return b.build()
    }
    const stateDir = fx.stateDir('kcli-streams-cp-')
    const bad = new KafkaStreams(topology(false), {'application.id': 'cp-app', 'bootstrap.servers': fx.broker.bootstrap, logger: quietLogger, 'state.dir': stateDir})
    await expect(bad.start()).rejects.toThrow('Invalid topology: Topics not co-partitioned: [{cp-customers=2, cp-orders=3}]')
    expect(bad.state).toBe('ERROR')
    // Through a repartition topic sized as the table's topic (2), the join's inputs are co-partitioned.
    const repartitioned = topology(true)
    const [repartitionTopic] = [...repartitioned.repartitionTopics.keys()]
    expect(repartitionTopic).toBe('KSTREAM-REPARTITION-0000000004-repartition')
    const good = new KafkaStreams(repartitioned, {'application.id': 'cp-app2', 'bootstrap.servers': fx.broker.bootstrap, logger: quietLogger, 'state.dir': stateDir})
    await good.start()
    await good.close()
    const info = await fx.admin.client.topic(`cp-app2-${repartitionTopic}`)
    expect(info.partitions.length).toBe(2)
  }, 60_000)
})
