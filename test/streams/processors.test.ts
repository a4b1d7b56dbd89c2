import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type ApiProcessor, type ApiProcessorContext, BufferConfig, KafkaStreams, Serdes, SessionWindows, SlidingWindows, Stores, StreamsBuilder, Suppressed, TimeWindows, WindowedSerdes} from '../../src/streams/index.js'
import {pollUntil, removeDir, startBroker, type TestBroker, tempDir} from '../e2e/harness.js'
import {readAll, runSteps, type Step} from './support.js'

const S = Serdes.String()
const quietLogger = {error: () => undefined, info: () => undefined, warn: () => undefined}

/** Deterministic out-of-order input: a clock moving forward, a quarter of the records late by up to `maxLateMs`. */
function outOfOrder(topic: string, count: number, keys: number, seed: number, stepMs: number, maxLateMs: number): Step[] {
  let x = seed
  const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  const steps: Step[] = []
  let clock = 1000
  for (let i = 0; i < count; i++) {
    clock += Math.floor(random() * stepMs)
    const ts = Math.max(0, clock - (random() < 0.25 ? Math.floor(random() * maxLateMs) : 0))
    steps.push([topic, `k${Math.floor(random() * keys)}`, `v${i}`, ts])
  }
  return steps
}

/**
 * Brute force for session windows: after each record, the sessions of its key are recomputed
 * from scratch from every accepted record (sorted by time, split where two neighbours are more
 * than the gap apart). The record is accepted when the session that now contains it ends at or
 * after stream time - grace; then every earlier session it absorbed (other than the new one)
 * gets a tombstone, in order of end, and the new session its count.
 */
function sessionReference(steps: readonly Step[], gap: number, grace: number): {out: [string, number, number, number | null, number][]; dropped: number} {
  const accepted = new Map<string, number[]>()
  const sessionsOf = (times: number[]) => {
    const sorted = [...times].sort((a, b) => a - b)
    const sessions: {start: number; end: number; count: number}[] = []
    for (const t of sorted) {
      const last = sessions[sessions.length - 1]
      if (last && t - last.end <= gap) {
        last.end = t
        last.count++
      } else sessions.push({count: 1, end: t, start: t})
    }
    return sessions
  }
  const out: [string, number, number, number | null, number][] = []
  let streamTime = -1
  let dropped = 0
  for (const [, key, , ts] of steps) {
    streamTime = Math.max(streamTime, ts)
    const before = sessionsOf(accepted.get(key!) ?? [])
    const after = sessionsOf([...(accepted.get(key!) ?? []), ts])
    const mine = after.find((s) => s.start <= ts && ts <= s.end)!
    if (mine.end < streamTime - grace) {
      dropped++
      continue
    }
    accepted.set(key!, [...(accepted.get(key!) ?? []), ts])
    for (const s of before) if (s.start >= mine.start && s.end <= mine.end && !(s.start === mine.start && s.end === mine.end)) out.push([key!, s.start, s.end, null, s.end])
    out.push([key!, mine.start, mine.end, mine.count, mine.end])
  }
  return {dropped, out}
}

describe('kcli Streams session windows, suppress and the Processor API', () => {
  let broker: TestBroker
  const dirs: string[] = []
  const stateDir = () => {
    const d = tempDir('kcli-streams-proc-')
    dirs.push(d)
    return d
  }

  beforeAll(async () => {
    broker = await startBroker()
  })

  afterAll(async () => {
    await broker?.stop()
    for (const d of dirs) removeDir(d)
  })

  it('session windows with grace over out-of-order input equal a brute-force sessionization, including merges, records late within grace and dropped after it', async () => {
    const gap = 1000
    const grace = 800
    const steps = outOfOrder('sw-input', 150, 3, 5, 700, 3000)
    const reference = sessionReference(steps, gap, grace)
    expect(reference.dropped).toBeGreaterThan(0)
    expect(reference.out.some((r) => r[3] === null)).toBe(true)
    const b = new StreamsBuilder()
    b.stream<string, string>('sw-input', {keySerde: S, valueSerde: S})
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(gap, grace))
      .count()
      .toStream()
      .to('sw-output', {keySerde: WindowedSerdes.sessionWindowedSerdeFrom(S), valueSerde: Serdes.Long()})
    const topology = b.build()
    const {dropped} = await runSteps({appId: 'sw-app', bootstrap: broker.bootstrap, expected: reference.out.length, output: 'sw-output', stateDir: stateDir(), steps, stepwise: false, topology})
    const serde = WindowedSerdes.sessionWindowedSerdeFrom(S)
    const out = (await readAll(broker.bootstrap, 'sw-output')).map((r) => {
      const w = serde.deserialize('sw-output', r.key)!
      return [w.key, w.window.start, w.window.end, r.value === null ? null : Number(r.value.readBigInt64BE(0)), r.timestamp]
    })
    expect(out).toEqual(reference.out)
    expect(dropped).toBe(reference.dropped)
  }, 120_000)

  const slidingTopology = (input: string, output: string, windows: SlidingWindows) => {
    const b = new StreamsBuilder()
    b.stream<string, string>(input, {keySerde: S, valueSerde: S})
      .groupByKey()
      .windowedBy(windows)
      .aggregate(() => '', (_k, v, agg) => (agg === '' ? v : `${agg},${v}`), {valueSerde: S})
      .toStream()
      .to(output, {keySerde: WindowedSerdes.timeWindowedSerdeFrom(S, windows.timeDifferenceMs), valueSerde: S})
    return b.build()
  }
  const decodeSliding = async (output: string, diff: number) =>
    (await readAll(broker.bootstrap, output)).map((r) => [r.key!.subarray(0, r.key!.length - 8).toString(), Number(r.key!.readBigInt64BE(r.key!.length - 8)), Number(r.key!.readBigInt64BE(r.key!.length - 8)) + diff, r.value!.toString(), r.timestamp] as [string, number, number, string, number])

  it("sliding windows give Kafka Streams' windows, updates and drops (left and right windows, early records, out-of-order)", async () => {
    // shared/kafka-reference/streams/03-hopping-sliding-session/sliding-5s-grace-0.
    const input: Step[] = [['A', 'a1', 1000], ['A', 'a2', 2000], ['B', 'b1', 2500], ['A', 'a3', 6000], ['A', 'a4', 4500], ['B', 'b2', 9000], ['A', 'a5', 10000], ['A', 'a6', 13000], ['A', 'a7', 20000], ['A', 'a8', 3000], ['B', 'b3', 21000]].map(([k, v, ts]) => ['sl-input', k as string, v as string, ts as number])
    const expected = [
      ['A', 0, 5000, 'a1', 1000], ['A', 1001, 6001, 'a2', 2000], ['A', 0, 5000, 'a1,a2', 2000], ['B', 0, 5000, 'b1', 2500], ['A', 1001, 6001, 'a2,a3', 6000], ['A', 2001, 7001, 'a3', 6000],
      ['A', 1000, 6000, 'a1,a2,a3', 6000], ['A', 1000, 6000, 'a1,a2,a3,a4', 6000], ['A', 1001, 6001, 'a2,a3,a4', 6000], ['A', 2001, 7001, 'a3,a4', 6000], ['A', 4501, 9501, 'a3', 6000],
      ['B', 4000, 9000, 'b2', 9000], ['A', 6001, 11001, 'a5', 10000], ['A', 5000, 10000, 'a3,a5', 10000], ['A', 10001, 15001, 'a6', 13000], ['A', 8000, 13000, 'a5,a6', 13000],
      ['A', 15000, 20000, 'a7', 20000], ['B', 16000, 21000, 'b3', 21000],
    ]
    const {dropped} = await runSteps({appId: 'sl-app', bootstrap: broker.bootstrap, expected: expected.length, output: 'sl-output', stateDir: stateDir(), steps: input, stepwise: false, topology: slidingTopology('sl-input', 'sl-output', SlidingWindows.ofTimeDifferenceWithNoGrace(5000))})
    expect(await decodeSliding('sl-output', 5000)).toEqual(expected)
    expect(dropped).toBe(2)
  }, 60_000)

  it('sliding windows with grace over out-of-order input: each window holds exactly the accepted records within it (brute force), records late beyond grace dropped', async () => {
    const diff = 2000
    const grace = 1500
    let x = 11
    const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
    const steps: Step[] = []
    let clock = 500
    let streamTime = -1
    const accepted: [string, string, number][] = []
    let droppedExpected = 0
    for (let i = 0; i < 150; i++) {
      clock += Math.floor(random() * 600)
      // On time, late within grace (all its windows still open), or late by more than grace + difference (dropped whole).
      const roll = random()
      // Lateness counts from stream time (the largest timestamp so far), which a late record does not move.
      const ts = streamTime < 0 ? clock : roll < 0.15 ? Math.max(0, streamTime - Math.floor(random() * grace)) : roll < 0.22 ? streamTime - grace - diff - 1 - Math.floor(random() * 3000) : clock
      if (ts < 0) continue
      const key = `k${Math.floor(random() * 3)}`
      steps.push(['sg-input', key, `v${i}`, ts])
      streamTime = Math.max(streamTime, ts)
      if (ts + 1 + diff <= streamTime - grace) droppedExpected++
      else accepted.push([key, `v${i}`, ts])
    }
    expect(droppedExpected).toBeGreaterThan(0)
    // Brute force: the windows are each accepted record's left window [t - diff, t] (early ones all [0, diff])
    // and its right window [t + 1, t + 1 + diff] when an accepted record of the key is in it; each holds the
    // accepted records within it, in arrival order.
    const expected = new Map<string, string>()
    for (const [key, , t] of accepted) {
      const mine = accepted.filter((a) => a[0] === key)
      const starts = [Math.max(0, t - diff)]
      if (mine.some((a) => a[2] > t && a[2] <= t + 1 + diff)) starts.push(t + 1)
      for (const start of starts) expected.set(`${key}@${start}`, mine.filter((a) => a[2] >= start && a[2] <= start + diff).map((a) => a[1]).join(','))
    }
    const topology = slidingTopology('sg-input', 'sg-output', SlidingWindows.ofTimeDifferenceAndGrace(diff, grace))
    const {KafkaStreams: App} = await import('../../src/streams/index.js')
    const {produceRaw} = await import('./support.js')
    const {KafkaClient} = await import('../../src/lib/client/client.js')
    const {Admin} = await import('../../src/lib/client/admin.js')
    const {parseBootstrapServers} = await import('../../src/lib/cli/bootstrap-server.js')
    const client = new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)})
    await new Admin(client).createTopics(['sg-input', 'sg-output'].map((name) => ({name, numPartitions: 1, replicationFactor: 1})))
    await client.close()
    await produceRaw(broker.bootstrap, 'sg-input', steps.map(([, k, v, ts]) => ({key: Buffer.from(k!), timestamp: ts, value: Buffer.from(v!)})))
    const app = new App(topology, {'application.id': 'sg-app', 'bootstrap.servers': broker.bootstrap, 'commit.interval.ms': 100, logger: quietLogger, 'state.dir': stateDir()})
    await app.start()
    try {
      const last = (records: Awaited<ReturnType<typeof decodeSliding>>) => new Map(records.map(([k, start, , v]) => [`${k}@${start}`, v]))
      const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1))
      const got = await pollUntil(() => decodeSliding('sg-output', diff), (r) => JSON.stringify(sorted(last(r))) === JSON.stringify(sorted(expected)), 15_000, 'final sliding windows').catch(async () => decodeSliding('sg-output', diff))
      expect(sorted(last(got))).toEqual(sorted(expected))
      expect(app.metrics()['dropped-records-total']).toBe(droppedExpected)
    } finally {
      await app.close()
    }
  }, 60_000)

  it('suppress(untilWindowCloses(unbounded())) emits one final result per closed window, as Kafka Streams and a brute force', async () => {
    // The tumbling-window input of shared/kafka-reference/streams/02-tumbling-window (size 5 s, grace 2 s).
    const input: [string, string, number][] = [
      ['A', 'a1', 1000], ['A', 'a2', 3000], ['B', 'b1', 4000], ['A', 'a3', 6000], ['A', 'a4', 2000], ['B', 'b2', 7000], ['A', 'a5', 4999], ['A', 'a6', 5000],
      ['B', 'b3', 9999], ['A', 'a7', 11000], ['B', 'b4', 8000], ['A', 'a8', 12000], ['B', 'b5', 9000], ['C', 'c1', 20000], ['A', 'a9', 30000],
    ]
    const size = 5000
    const grace = 2000
    // Brute force: accepted records' counts per window (a record is dropped when its window end + grace <= stream time);
    // each window whose end + grace <= the last stream time once, ordered by end then key, timestamp its largest record's.
    const windows = new Map<string, {key: string; start: number; count: number; ts: number}>()
    let streamTime = -1
    for (const [key, , ts] of input) {
      streamTime = Math.max(streamTime, ts)
      const start = Math.floor(ts / size) * size
      if (start + size <= streamTime - grace) continue
      const w = windows.get(`${key}@${start}`) ?? {count: 0, key, start, ts}
      windows.set(`${key}@${start}`, {...w, count: w.count + 1, ts: Math.max(w.ts, ts)})
    }
    const expected = [...windows.values()].filter((w) => w.start + size + grace <= streamTime).sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1)).map((w) => [w.key, w.start, w.count, w.ts])
    // Kafka Streams 4.0.0 emitted these 6 (grace-2s-suppress/output.jsonl).
    expect(expected).toEqual([['A', 0, 3, 3000], ['B', 0, 1, 4000], ['A', 5000, 2, 6000], ['B', 5000, 3, 9999], ['A', 10000, 2, 12000], ['C', 20000, 1, 20000]])
    const b = new StreamsBuilder()
    b.stream<string, string>('sup-input', {keySerde: S, valueSerde: S})
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(size, grace))
      .count()
      .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
      .toStream()
      .to('sup-output', {keySerde: WindowedSerdes.timeWindowedSerdeFrom(S, size), valueSerde: Serdes.Long()})
    await runSteps({appId: 'sup-app', bootstrap: broker.bootstrap, expected: expected.length, output: 'sup-output', stateDir: stateDir(), steps: input.map(([k, v, ts]) => ['sup-input', k, v, ts]), stepwise: false, topology: b.build()})
    const out = (await readAll(broker.bootstrap, 'sup-output')).map((r) => [r.key!.subarray(0, r.key!.length - 8).toString(), Number(r.key!.readBigInt64BE(r.key!.length - 8)), Number(r.value!.readBigInt64BE(0)), r.timestamp])
    expect(out).toEqual(expected)
  }, 60_000)

  it('KStream.process(): a user Processor with a store added by addStateStore, forwarding from stream-time and wall-clock punctuation', async () => {
    let closed = 0
    class CountingProcessor implements ApiProcessor<string, string> {
      private ctx!: ApiProcessorContext
      init(context: ApiProcessorContext) {
        this.ctx = context
        const store = context.getStateStore<string, number>('counts')
        // Every 10 s of stream time: the counts so far, in key order.
        context.schedule(10_000, 'STREAM_TIME', (time) => {
          const all = store.all().map(([k, v]) => `${k}=${v}`).join(',')
          context.forward({headers: [], key: 'counts', timestamp: time, value: `${time}:${all}`})
        })
        context.schedule(100, 'WALL_CLOCK_TIME', (time) => context.forward({headers: [], key: 'tick', timestamp: time, value: 'tick'}))
      }
      process(record: {key: string; value: string; timestamp: number}) {
        const store = this.ctx.getStateStore<string, number>('counts')
        store.put(record.key, (store.get(record.key) ?? 0) + 1)
      }
      close() {
        closed++
      }
    }
    const input: [string, number][] = [['a', 1000], ['b', 5000], ['a', 12_000], ['a', 13_000], ['c', 25_000], ['b', 31_000]]
    // Reference: stream-time punctuation at the first record, then at each record reaching the next multiple of 10 s.
    const counts = new Map<string, number>()
    const expected: string[] = []
    let next = 0
    for (const [k, ts] of input) {
      counts.set(k, (counts.get(k) ?? 0) + 1)
      if (ts >= next) {
        expected.push(`${ts}:${[...counts].sort(([x], [y]) => (x < y ? -1 : 1)).map(([kk, v]) => `${kk}=${v}`).join(',')}`)
        next = ts - (ts % 10_000) + 10_000
      }
    }
    expect(expected).toEqual(['1000:a=1', '12000:a=2,b=1', '25000:a=3,b=1,c=1', '31000:a=3,b=2,c=1'])
    const b = new StreamsBuilder()
    b.addStateStore(Stores.keyValueStoreBuilder('counts', S, Serdes.Long()))
    b.stream<string, string>('pa-input', {keySerde: S, valueSerde: S})
      .process<string, string>(() => new CountingProcessor(), 'counts')
      .to('pa-output', {keySerde: S, valueSerde: S})
    const topology = b.build()
    expect(topology.describe().toString()).toContain('Processor: KSTREAM-PROCESSOR-0000000001 (stores: [counts])')
    const app = new KafkaStreams(topology, {'application.id': 'pa-app', 'bootstrap.servers': broker.bootstrap, 'commit.interval.ms': 100, logger: quietLogger, 'state.dir': stateDir()})
    const {KafkaClient} = await import('../../src/lib/client/client.js')
    const {Admin} = await import('../../src/lib/client/admin.js')
    const {Producer} = await import('../../src/lib/client/producer.js')
    const {parseBootstrapServers} = await import('../../src/lib/cli/bootstrap-server.js')
    const client = new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)})
    try {
      await new Admin(client).createTopics(['pa-input', 'pa-output'].map((name) => ({name, numPartitions: 1, replicationFactor: 1})))
      await app.start()
      const producer = new Producer(client, {lingerMs: 0})
      for (const [k, ts] of input) await producer.send({key: Buffer.from(k), timestamp: ts, topic: 'pa-input', value: Buffer.from('x')})
      await producer.close()
      const out = await pollUntil(
        () => readAll(broker.bootstrap, 'pa-output'),
        (r) => r.filter((x) => x.key!.toString() === 'counts').length >= expected.length && r.filter((x) => x.key!.toString() === 'tick').length >= 3,
        20_000,
        'punctuations',
      )
      expect(out.filter((x) => x.key!.toString() === 'counts').map((x) => x.value!.toString())).toEqual(expected)
      // The changelog of the user store holds the counts (Long values).
      const changelog = await readAll(broker.bootstrap, 'pa-app-counts-changelog')
      expect(changelog.map((r) => `${r.key!.toString()}=${r.value!.readBigInt64BE(0)}`)).toEqual(['a=1', 'b=1', 'a=2', 'a=3', 'c=1', 'b=2'])
    } finally {
      await app.close()
      await client.close()
    }
    expect(closed).toBe(1)
  }, 60_000)
})
