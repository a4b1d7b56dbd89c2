import {describe, expect, it} from 'vitest'
import {BufferConfig, JoinWindows, Serdes, SessionWindows, StreamsBuilder, Suppressed, TimeWindows} from '../../src/streams/index.js'
import {wordCountTopology} from './support.js'

// Expected texts: Kafka Streams 4.0.0's topology.describe().toString() for the same topologies
// (recorded with TopologyTestDriver: shared/kafka-reference/streams 01-word-count and
// 06-naming-branch-merge-repartition/unnamed).
const WORD_COUNT = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [wc-input])\n      --> KSTREAM-FLATMAPVALUES-0000000001\n    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])\n      --> KSTREAM-KEY-SELECT-0000000002\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])\n      --> KSTREAM-FILTER-0000000006\n      <-- KSTREAM-FLATMAPVALUES-0000000001\n    Processor: KSTREAM-FILTER-0000000006 (stores: [])\n      --> KSTREAM-SINK-0000000005\n      <-- KSTREAM-KEY-SELECT-0000000002\n    Sink: KSTREAM-SINK-0000000005 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)\n      <-- KSTREAM-FILTER-0000000006\n\n  Sub-topology: 1\n    Source: KSTREAM-SOURCE-0000000007 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition])\n      --> KSTREAM-AGGREGATE-0000000004\n    Processor: KSTREAM-AGGREGATE-0000000004 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003])\n      --> KTABLE-TOSTREAM-0000000008\n      <-- KSTREAM-SOURCE-0000000007\n    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])\n      --> KSTREAM-SINK-0000000009\n      <-- KSTREAM-AGGREGATE-0000000004\n    Sink: KSTREAM-SINK-0000000009 (topic: wc-output)\n      <-- KTABLE-TOSTREAM-0000000008\n\n"

const UNNAMED = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [events])\n      --> KSTREAM-FILTER-0000000001\n    Processor: KSTREAM-FILTER-0000000001 (stores: [])\n      --> KSTREAM-BRANCH-0000000002\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KSTREAM-BRANCH-0000000002 (stores: [])\n      --> KSTREAM-BRANCH-00000000022, KSTREAM-BRANCH-00000000020, KSTREAM-BRANCH-00000000021\n      <-- KSTREAM-FILTER-0000000001\n    Processor: KSTREAM-BRANCH-00000000020 (stores: [])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-BRANCH-0000000002\n    Processor: KSTREAM-BRANCH-00000000021 (stores: [])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-BRANCH-0000000002\n    Processor: KSTREAM-BRANCH-00000000022 (stores: [])\n      --> KSTREAM-MAPVALUES-0000000015\n      <-- KSTREAM-BRANCH-0000000002\n    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n      --> KSTREAM-KEY-SELECT-0000000007\n      <-- KSTREAM-BRANCH-00000000020, KSTREAM-BRANCH-00000000021\n    Processor: KSTREAM-KEY-SELECT-0000000007 (stores: [])\n      --> KSTREAM-FILTER-0000000011\n      <-- KSTREAM-MERGE-0000000006\n    Processor: KSTREAM-MAPVALUES-0000000015 (stores: [])\n      --> KSTREAM-FILTER-0000000018\n      <-- KSTREAM-BRANCH-00000000022\n    Processor: KSTREAM-FILTER-0000000011 (stores: [])\n      --> KSTREAM-SINK-0000000010\n      <-- KSTREAM-KEY-SELECT-0000000007\n    Processor: KSTREAM-FILTER-0000000018 (stores: [])\n      --> KSTREAM-SINK-0000000017\n      <-- KSTREAM-MAPVALUES-0000000015\n    Sink: KSTREAM-SINK-0000000010 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000008-repartition)\n      <-- KSTREAM-FILTER-0000000011\n    Sink: KSTREAM-SINK-0000000017 (topic: KSTREAM-REPARTITION-0000000016-repartition)\n      <-- KSTREAM-FILTER-0000000018\n\n  Sub-topology: 1\n    Source: KSTREAM-SOURCE-0000000012 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000008-repartition])\n      --> KSTREAM-AGGREGATE-0000000009\n    Processor: KSTREAM-AGGREGATE-0000000009 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000008])\n      --> KTABLE-TOSTREAM-0000000013\n      <-- KSTREAM-SOURCE-0000000012\n    Processor: KTABLE-TOSTREAM-0000000013 (stores: [])\n      --> KSTREAM-SINK-0000000014\n      <-- KSTREAM-AGGREGATE-0000000009\n    Sink: KSTREAM-SINK-0000000014 (topic: page-counts)\n      <-- KTABLE-TOSTREAM-0000000013\n\n  Sub-topology: 2\n    Source: KSTREAM-SOURCE-0000000019 (topics: [KSTREAM-REPARTITION-0000000016-repartition])\n      --> KSTREAM-SINK-0000000020\n    Sink: KSTREAM-SINK-0000000020 (topic: other-events-out)\n      <-- KSTREAM-SOURCE-0000000019\n\n"

// Kafka Streams 4.0.0's texts for the joins, session windows and suppress (04-joins, 03-hopping-sliding-session, 02-tumbling-window).
const STREAM_STREAM_LEFT = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [ss-left])\n      --> KSTREAM-WINDOWED-0000000002\n    Source: KSTREAM-SOURCE-0000000001 (topics: [ss-right])\n      --> KSTREAM-WINDOWED-0000000003\n    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n      --> KSTREAM-JOINTHIS-0000000004\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-OUTEROTHER-0000000005-store])\n      --> KSTREAM-OUTEROTHER-0000000005\n      <-- KSTREAM-SOURCE-0000000001\n    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-OUTEROTHER-0000000005-store, KSTREAM-OUTERSHARED-0000000004-store])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-WINDOWED-0000000002\n    Processor: KSTREAM-OUTEROTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store, KSTREAM-OUTERSHARED-0000000004-store])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-WINDOWED-0000000003\n    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n      --> KSTREAM-SINK-0000000007\n      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-OUTEROTHER-0000000005\n    Sink: KSTREAM-SINK-0000000007 (topic: ss-output)\n      <-- KSTREAM-MERGE-0000000006\n\n"
const STREAM_STREAM_OUTER = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [ss-left])\n      --> KSTREAM-WINDOWED-0000000002\n    Source: KSTREAM-SOURCE-0000000001 (topics: [ss-right])\n      --> KSTREAM-WINDOWED-0000000003\n    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-OUTERTHIS-0000000004-store])\n      --> KSTREAM-OUTERTHIS-0000000004\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-OUTEROTHER-0000000005-store])\n      --> KSTREAM-OUTEROTHER-0000000005\n      <-- KSTREAM-SOURCE-0000000001\n    Processor: KSTREAM-OUTEROTHER-0000000005 (stores: [KSTREAM-OUTERTHIS-0000000004-store, KSTREAM-OUTERSHARED-0000000004-store])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-WINDOWED-0000000003\n    Processor: KSTREAM-OUTERTHIS-0000000004 (stores: [KSTREAM-OUTEROTHER-0000000005-store, KSTREAM-OUTERSHARED-0000000004-store])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-WINDOWED-0000000002\n    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n      --> KSTREAM-SINK-0000000007\n      <-- KSTREAM-OUTERTHIS-0000000004, KSTREAM-OUTEROTHER-0000000005\n    Sink: KSTREAM-SINK-0000000007 (topic: ss-output)\n      <-- KSTREAM-MERGE-0000000006\n\n"
const STREAM_TABLE_INNER = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [st-stream])\n      --> KSTREAM-JOIN-0000000004\n    Processor: KSTREAM-JOIN-0000000004 (stores: [st-table-STATE-STORE-0000000001])\n      --> KSTREAM-SINK-0000000005\n      <-- KSTREAM-SOURCE-0000000000\n    Source: KSTREAM-SOURCE-0000000002 (topics: [st-table])\n      --> KTABLE-SOURCE-0000000003\n    Sink: KSTREAM-SINK-0000000005 (topic: st-output)\n      <-- KSTREAM-JOIN-0000000004\n    Processor: KTABLE-SOURCE-0000000003 (stores: [st-table-STATE-STORE-0000000001])\n      --> none\n      <-- KSTREAM-SOURCE-0000000002\n\n"
const TABLE_TABLE_OUTER = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000001 (topics: [tt-left])\n      --> KTABLE-SOURCE-0000000002\n    Source: KSTREAM-SOURCE-0000000004 (topics: [tt-right])\n      --> KTABLE-SOURCE-0000000005\n    Processor: KTABLE-SOURCE-0000000002 (stores: [tt-left-STATE-STORE-0000000000])\n      --> KTABLE-JOINTHIS-0000000007\n      <-- KSTREAM-SOURCE-0000000001\n    Processor: KTABLE-SOURCE-0000000005 (stores: [tt-right-STATE-STORE-0000000003])\n      --> KTABLE-JOINOTHER-0000000008\n      <-- KSTREAM-SOURCE-0000000004\n    Processor: KTABLE-JOINOTHER-0000000008 (stores: [tt-left-STATE-STORE-0000000000])\n      --> KTABLE-MERGE-0000000006\n      <-- KTABLE-SOURCE-0000000005\n    Processor: KTABLE-JOINTHIS-0000000007 (stores: [tt-right-STATE-STORE-0000000003])\n      --> KTABLE-MERGE-0000000006\n      <-- KTABLE-SOURCE-0000000002\n    Processor: KTABLE-MERGE-0000000006 (stores: [])\n      --> KTABLE-TOSTREAM-0000000009\n      <-- KTABLE-JOINTHIS-0000000007, KTABLE-JOINOTHER-0000000008\n    Processor: KTABLE-TOSTREAM-0000000009 (stores: [])\n      --> KSTREAM-SINK-0000000010\n      <-- KTABLE-MERGE-0000000006\n    Sink: KSTREAM-SINK-0000000010 (topic: tt-output)\n      <-- KTABLE-TOSTREAM-0000000009\n\n"
const STREAM_GLOBALTABLE_INNER = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [gt-clicks])\n      --> KSTREAM-LEFTJOIN-0000000004\n    Processor: KSTREAM-LEFTJOIN-0000000004 (stores: [])\n      --> KSTREAM-SINK-0000000005\n      <-- KSTREAM-SOURCE-0000000000\n    Sink: KSTREAM-SINK-0000000005 (topic: gt-output)\n      <-- KSTREAM-LEFTJOIN-0000000004\n\n  Sub-topology: 1 for global store (will not generate tasks)\n    Source: KSTREAM-SOURCE-0000000002 (topics: [gt-geo])\n      --> KTABLE-SOURCE-0000000003\n    Processor: KTABLE-SOURCE-0000000003 (stores: [gt-geo-STATE-STORE-0000000001])\n      --> none\n      <-- KSTREAM-SOURCE-0000000002\n"
const SESSION = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [win-input])\n      --> KSTREAM-AGGREGATE-0000000002\n    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])\n      --> KTABLE-TOSTREAM-0000000003\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])\n      --> KSTREAM-SINK-0000000004\n      <-- KSTREAM-AGGREGATE-0000000002\n    Sink: KSTREAM-SINK-0000000004 (topic: session-output)\n      <-- KTABLE-TOSTREAM-0000000003\n\n"
const SUPPRESS = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [tw-input])\n      --> KSTREAM-AGGREGATE-0000000002\n    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])\n      --> KTABLE-SUPPRESS-0000000003\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KTABLE-SUPPRESS-0000000003 (stores: [KTABLE-SUPPRESS-STATE-STORE-0000000004])\n      --> KTABLE-TOSTREAM-0000000005\n      <-- KSTREAM-AGGREGATE-0000000002\n    Processor: KTABLE-TOSTREAM-0000000005 (stores: [])\n      --> KSTREAM-SINK-0000000006\n      <-- KTABLE-SUPPRESS-0000000003\n    Sink: KSTREAM-SINK-0000000006 (topic: tw-output)\n      <-- KTABLE-TOSTREAM-0000000005\n\n"

const FK_INNER = "Topologies:\n   Sub-topology: 0\n    Source: KTABLE-SOURCE-0000000016 (topics: [KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic])\n      --> KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017\n    Source: KSTREAM-SOURCE-0000000001 (topics: [fk-orders])\n      --> KTABLE-SOURCE-0000000002\n    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017 (stores: [fk-orders-STATE-STORE-0000000000])\n      --> KTABLE-FK-JOIN-OUTPUT-0000000018\n      <-- KTABLE-SOURCE-0000000016\n    Processor: KTABLE-FK-JOIN-OUTPUT-0000000018 (stores: [])\n      --> KTABLE-TOSTREAM-0000000020\n      <-- KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017\n    Processor: KTABLE-SOURCE-0000000002 (stores: [fk-orders-STATE-STORE-0000000000])\n      --> KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007\n      <-- KSTREAM-SOURCE-0000000001\n    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007 (stores: [])\n      --> KTABLE-SINK-0000000008\n      <-- KTABLE-SOURCE-0000000002\n    Processor: KTABLE-TOSTREAM-0000000020 (stores: [])\n      --> KSTREAM-SINK-0000000021\n      <-- KTABLE-FK-JOIN-OUTPUT-0000000018\n    Sink: KSTREAM-SINK-0000000021 (topic: fk-output)\n      <-- KTABLE-TOSTREAM-0000000020\n    Sink: KTABLE-SINK-0000000008 (topic: KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic)\n      <-- KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007\n\n  Sub-topology: 1\n    Source: KSTREAM-SOURCE-0000000004 (topics: [fk-products])\n      --> KTABLE-SOURCE-0000000005\n    Source: KTABLE-SOURCE-0000000009 (topics: [KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic])\n      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011\n    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011 (stores: [KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010])\n      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012\n      <-- KTABLE-SOURCE-0000000009\n    Processor: KTABLE-SOURCE-0000000005 (stores: [fk-products-STATE-STORE-0000000003])\n      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013\n      <-- KSTREAM-SOURCE-0000000004\n    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012 (stores: [fk-products-STATE-STORE-0000000003])\n      --> KTABLE-SINK-0000000015\n      <-- KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011\n    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013 (stores: [KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010])\n      --> KTABLE-SINK-0000000015\n      <-- KTABLE-SOURCE-0000000005\n    Sink: KTABLE-SINK-0000000015 (topic: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic)\n      <-- KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012, KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013\n\n"

const J = (l: unknown, r: unknown) => `L=${l},R=${r}`

describe('topology.describe()', () => {
  it("names joins' processors and stores as Kafka Streams does (KSTREAM-JOINTHIS/-OUTEROTHER/-OUTERSHARED-...-store, KTABLE-JOINTHIS, KSTREAM-LEFTJOIN)", () => {
    const ss = (kind: 'left' | 'outer') => {
      const b = new StreamsBuilder()
      const l = b.stream<string, string>('ss-left')
      const r = b.stream<string, string>('ss-right')
      const w = JoinWindows.ofTimeDifferenceWithNoGrace(5000)
      ;(kind === 'left' ? l.leftJoin(r, J, w) : l.outerJoin(r, J, w)).to('ss-output')
      return b.build().describe().toString()
    }
    expect(ss('left')).toBe(STREAM_STREAM_LEFT)
    expect(ss('outer')).toBe(STREAM_STREAM_OUTER)
    const st = new StreamsBuilder()
    st.stream<string, string>('st-stream').join(st.table<string, string>('st-table'), J).to('st-output')
    expect(st.build().describe().toString()).toBe(STREAM_TABLE_INNER)
    const tt = new StreamsBuilder()
    tt.table<string, string>('tt-left').outerJoin(tt.table<string, string>('tt-right'), J).toStream().to('tt-output')
    expect(tt.build().describe().toString()).toBe(TABLE_TABLE_OUTER)
    const gt = new StreamsBuilder()
    gt.stream<string, string>('gt-clicks').join(gt.globalTable<string, string>('gt-geo'), (_k, v) => v, J).to('gt-output')
    expect(gt.build().describe().toString()).toBe(STREAM_GLOBALTABLE_INNER)
    const fk = new StreamsBuilder()
    fk.table<string, string>('fk-orders').join(fk.table<string, string>('fk-products'), (v) => v.split('|')[0]!, J).toStream().to('fk-output')
    expect(fk.build().describe().toString()).toBe(FK_INNER)
  })

  it('gives Kafka Streams text for session windows and suppress(untilWindowCloses)', () => {
    const s = new StreamsBuilder()
    s.stream<string, string>('win-input').groupByKey().windowedBy(SessionWindows.ofInactivityGapWithNoGrace(3000)).aggregate(() => '', (_k, v, a) => a + v, (_k, a, c) => a + c).toStream().to('session-output')
    expect(s.build().describe().toString()).toBe(SESSION)
    const t = new StreamsBuilder()
    t.stream<string, string>('tw-input').groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(5000, 2000)).count().suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded())).toStream().to('tw-output')
    expect(t.build().describe().toString()).toBe(SUPPRESS)
  })

  it('gives Kafka Streams text for the word count', () => {
    expect(wordCountTopology().describe().toString()).toBe(WORD_COUNT)
  })

  it('gives Kafka Streams text and generated names for split, merge, selectKey, count and repartition', () => {
    const b = new StreamsBuilder()
    const s = Serdes.String()
    const br = b
      .stream<string, string | null>('events', {keySerde: s, valueSerde: s})
      .filter((_k, v) => v !== null && v.includes(':'))
      .split()
      .branch((_k, v) => v!.startsWith('click:'))
      .branch((_k, v) => v!.startsWith('view:'))
      .defaultBranch()
    expect(Object.keys(br).sort()).toEqual(['KSTREAM-BRANCH-00000000020', 'KSTREAM-BRANCH-00000000021', 'KSTREAM-BRANCH-00000000022'])
    const keys = Object.keys(br).sort()
    br[keys[0]!]!
      .merge(br[keys[1]!]!)
      .selectKey((_user, v) => v!.split(':')[1]!)
      .groupByKey({keySerde: s, valueSerde: s})
      .count()
      .toStream()
      .to('page-counts', {keySerde: s, valueSerde: Serdes.Long()})
    br[keys[2]!]!.mapValues((v) => v!.toUpperCase()).repartition().to('other-events-out')
    expect(b.build().describe().toString()).toBe(UNNAMED)
  })
})
