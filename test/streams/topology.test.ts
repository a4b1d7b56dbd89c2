import {describe, expect, it} from 'vitest'
import {Serdes, StreamsBuilder} from '../../src/streams/index.js'
import {wordCountTopology} from './support.js'

// Expected texts: Kafka Streams 4.0.0's topology.describe().toString() for the same topologies
// (recorded with TopologyTestDriver: shared/kafka-reference/streams 01-word-count and
// 06-naming-branch-merge-repartition/unnamed).
const WORD_COUNT = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [wc-input])\n      --> KSTREAM-FLATMAPVALUES-0000000001\n    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])\n      --> KSTREAM-KEY-SELECT-0000000002\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])\n      --> KSTREAM-FILTER-0000000006\n      <-- KSTREAM-FLATMAPVALUES-0000000001\n    Processor: KSTREAM-FILTER-0000000006 (stores: [])\n      --> KSTREAM-SINK-0000000005\n      <-- KSTREAM-KEY-SELECT-0000000002\n    Sink: KSTREAM-SINK-0000000005 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)\n      <-- KSTREAM-FILTER-0000000006\n\n  Sub-topology: 1\n    Source: KSTREAM-SOURCE-0000000007 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition])\n      --> KSTREAM-AGGREGATE-0000000004\n    Processor: KSTREAM-AGGREGATE-0000000004 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003])\n      --> KTABLE-TOSTREAM-0000000008\n      <-- KSTREAM-SOURCE-0000000007\n    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])\n      --> KSTREAM-SINK-0000000009\n      <-- KSTREAM-AGGREGATE-0000000004\n    Sink: KSTREAM-SINK-0000000009 (topic: wc-output)\n      <-- KTABLE-TOSTREAM-0000000008\n\n"

const UNNAMED = "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [events])\n      --> KSTREAM-FILTER-0000000001\n    Processor: KSTREAM-FILTER-0000000001 (stores: [])\n      --> KSTREAM-BRANCH-0000000002\n      <-- KSTREAM-SOURCE-0000000000\n    Processor: KSTREAM-BRANCH-0000000002 (stores: [])\n      --> KSTREAM-BRANCH-00000000022, KSTREAM-BRANCH-00000000020, KSTREAM-BRANCH-00000000021\n      <-- KSTREAM-FILTER-0000000001\n    Processor: KSTREAM-BRANCH-00000000020 (stores: [])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-BRANCH-0000000002\n    Processor: KSTREAM-BRANCH-00000000021 (stores: [])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-BRANCH-0000000002\n    Processor: KSTREAM-BRANCH-00000000022 (stores: [])\n      --> KSTREAM-MAPVALUES-0000000015\n      <-- KSTREAM-BRANCH-0000000002\n    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n      --> KSTREAM-KEY-SELECT-0000000007\n      <-- KSTREAM-BRANCH-00000000020, KSTREAM-BRANCH-00000000021\n    Processor: KSTREAM-KEY-SELECT-0000000007 (stores: [])\n      --> KSTREAM-FILTER-0000000011\n      <-- KSTREAM-MERGE-0000000006\n    Processor: KSTREAM-MAPVALUES-0000000015 (stores: [])\n      --> KSTREAM-FILTER-0000000018\n      <-- KSTREAM-BRANCH-00000000022\n    Processor: KSTREAM-FILTER-0000000011 (stores: [])\n      --> KSTREAM-SINK-0000000010\n      <-- KSTREAM-KEY-SELECT-0000000007\n    Processor: KSTREAM-FILTER-0000000018 (stores: [])\n      --> KSTREAM-SINK-0000000017\n      <-- KSTREAM-MAPVALUES-0000000015\n    Sink: KSTREAM-SINK-0000000010 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000008-repartition)\n      <-- KSTREAM-FILTER-0000000011\n    Sink: KSTREAM-SINK-0000000017 (topic: KSTREAM-REPARTITION-0000000016-repartition)\n      <-- KSTREAM-FILTER-0000000018\n\n  Sub-topology: 1\n    Source: KSTREAM-SOURCE-0000000012 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000008-repartition])\n      --> KSTREAM-AGGREGATE-0000000009\n    Processor: KSTREAM-AGGREGATE-0000000009 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000008])\n      --> KTABLE-TOSTREAM-0000000013\n      <-- KSTREAM-SOURCE-0000000012\n    Processor: KTABLE-TOSTREAM-0000000013 (stores: [])\n      --> KSTREAM-SINK-0000000014\n      <-- KSTREAM-AGGREGATE-0000000009\n    Sink: KSTREAM-SINK-0000000014 (topic: page-counts)\n      <-- KTABLE-TOSTREAM-0000000013\n\n  Sub-topology: 2\n    Source: KSTREAM-SOURCE-0000000019 (topics: [KSTREAM-REPARTITION-0000000016-repartition])\n      --> KSTREAM-SINK-0000000020\n    Sink: KSTREAM-SINK-0000000020 (topic: other-events-out)\n      <-- KSTREAM-SOURCE-0000000019\n\n"

describe('topology.describe()', () => {
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
