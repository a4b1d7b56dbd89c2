import {describe, expect, it} from 'vitest'
import {KafkaStreams, Serdes, StreamsBuilder, TimeWindows, WindowedSerdes} from '../../src/streams/index.js'
import {pollUntil} from '../e2e/harness.js'
import {quietLogger, useStreamsBroker} from './fixture.js'
import {produceRaw, readAll} from './support.js'


function windowedCountTopology(input: string, output: string, windows: TimeWindows) {
  const b = new StreamsBuilder()
  b.stream<string, string>(input, {keySerde: Serdes.String(), valueSerde: Serdes.String()})
    .groupByKey()
    .windowedBy(windows)
    .count()
    .toStream()
    .to(output, {keySerde: WindowedSerdes.timeWindowedSerdeFrom(Serdes.String(), windows.sizeMs), valueSerde: Serdes.Long()})
  return b.build()
}

/** Output records as [key, window start, count, timestamp]. */
function decode(records: Awaited<ReturnType<typeof readAll>>): [string, number, number, number][] {
  return records.map((r) => [r.key!.subarray(0, r.key!.length - 8).toString(), Number(r.key!.readBigInt64BE(r.key!.length - 8)), Number(r.value!.readBigInt64BE(0)), r.timestamp])
}

// Kafka Streams 4.0.0's output for groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(5s, 2s)).count()
// over these inputs (shared/kafka-reference/streams/02-tumbling-window/grace-2s).
const REFERENCE_INPUT: [string, string, number][] = [
  ['A', 'a1', 1000], ['A', 'a2', 3000], ['B', 'b1', 4000], ['A', 'a3', 6000], ['A', 'a4', 2000], ['B', 'b2', 7000], ['A', 'a5', 4999], ['A', 'a6', 5000],
  ['B', 'b3', 9999], ['A', 'a7', 11000], ['B', 'b4', 8000], ['A', 'a8', 12000], ['B', 'b5', 9000], ['C', 'c1', 20000], ['A', 'a9', 30000],
]
const REFERENCE_OUTPUT: [string, number, number, number][] = [
  ['A', 0, 1, 1000], ['A', 0, 2, 3000], ['B', 0, 1, 4000], ['A', 5000, 1, 6000], ['A', 0, 3, 3000], ['B', 5000, 1, 7000], ['A', 5000, 2, 6000],
  ['B', 5000, 2, 9999], ['A', 10000, 1, 11000], ['B', 5000, 3, 9999], ['A', 10000, 2, 12000], ['C', 20000, 1, 20000], ['A', 30000, 1, 30000],
]
const REFERENCE_DESCRIBE = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [tw-input])\n      --> KSTREAM-AGGREGATE-0000000002\n    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])\n      --> KTABLE-TOSTREAM-0000000003\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])\n      --> KSTREAM-SINK-0000000004\n      <-- KSTREAM-AGGREGATE-0000000002\n    Sink: KSTREAM-SINK-0000000004 (topic: tw-output)\n      <-- KTABLE-TOSTREAM-0000000003\n\n"

describe('kcli Streams windowed count', () => {
  const env = useStreamsBroker()

  async function run(appId: string, input: string, output: string, windows: TimeWindows, records: [string, string, number][], expectedOutputs: number) {
    const results = await env.admin.createTopics([input, output].map((name) => ({name, numPartitions: 1, replicationFactor: 1})))
    expect(results.map((r) => r.error)).toEqual(['NONE', 'NONE'])
    await produceRaw(env.broker.bootstrap, input, records.map(([k, v, ts]) => ({key: Buffer.from(k), timestamp: ts, value: Buffer.from(v)})))
    const stateDir = env.stateDir('kcli-streams-win-')
    const topology = windowedCountTopology(input, output, windows)
    const app = new KafkaStreams(topology, {'application.id': appId, 'bootstrap.servers': env.broker.bootstrap, 'commit.interval.ms': 100, logger: quietLogger, 'state.dir': stateDir})
    await app.start()
    const out = await pollUntil(() => readAll(env.broker.bootstrap, output), (r) => r.length >= expectedOutputs, 30_000, `${expectedOutputs} outputs`)
    const dropped = app.metrics()['dropped-records-total']
    await app.close()
    return {dropped, out: decode(out), topology}
  }

  it("tumbling windows with grace give Kafka Streams' updates, timestamps and drops", async () => {
    const {dropped, out, topology} = await run('tw-app', 'tw-input', 'tw-output', TimeWindows.ofSizeAndGrace(5000, 2000), REFERENCE_INPUT, REFERENCE_OUTPUT.length)
    expect(topology.describe().toString()).toBe(REFERENCE_DESCRIBE)
    expect(out).toEqual(REFERENCE_OUTPUT)
    expect(dropped).toBe(2)
    const [changelog] = await env.admin.describeConfigs([{name: 'tw-app-KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog', type: 'topic'}])
    expect(changelog!.configs.find((c) => c.name === 'cleanup.policy')!.value).toBe('compact,delete')
    expect(changelog!.configs.find((c) => c.name === 'retention.ms')!.value).toBe('86407000')
  }, 60_000)

  it('hopping windows over out-of-order input equal a brute-force computation, including records late within grace and dropped after it', async () => {
    const size = 10_000
    const advance = 5_000
    const grace = 3_000
    let x = 99
    const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
    const records: [string, string, number][] = []
    let clock = 1_000
    for (let i = 0; i < 400; i++) {
      clock += Math.floor(random() * 400)
      // Most records on time, some up to 8 s late: within grace or beyond it.
      const ts = Math.max(0, clock - (random() < 0.25 ? Math.floor(random() * 8_000) : 0))
      records.push([`k${Math.floor(random() * 5)}`, `v${i}`, ts])
    }
    // Brute force: every window [s, s + size) with s a multiple of advance, s >= 0, containing the
    // record; accepted while stream time < s + size + grace; each accepted record emits the window's new count.
    const counts = new Map<string, {count: number; ts: number}>()
    const expected: [string, number, number, number][] = []
    let streamTime = -1
    let droppedExpected = 0
    for (const [key, , ts] of records) {
      streamTime = Math.max(streamTime, ts)
      for (let s = 0; s <= ts; s += advance) {
        if (ts >= s + size) continue
        if (s + size <= streamTime - grace) {
          droppedExpected++
          continue
        }
        const id = `${key}@${s}`
        const prev = counts.get(id)
        const next = {count: (prev?.count ?? 0) + 1, ts: Math.max(prev?.ts ?? ts, ts)}
        counts.set(id, next)
        expected.push([key, s, next.count, next.ts])
      }
    }
    expect(droppedExpected).toBeGreaterThan(0)
    const {dropped, out} = await run('hw-app', 'hw-input', 'hw-output', TimeWindows.ofSizeAndGrace(size, grace).advanceBy(advance), records, expected.length)
    expect(out).toEqual(expected)
    expect(dropped).toBe(droppedExpected)
  }, 60_000)
})
