/**
 * The DSL: StreamsBuilder, KStream, KGroupedStream, KTable, with Kafka Streams' operators and its
 * generated names (`KSTREAM-FILTER-0000000001`, stores `KSTREAM-AGGREGATE-STATE-STORE-0000000003`,
 * repartition topics named after the store or the Grouped name) so that describe() and the internal
 * topics match a Java application's.
 */
import type {Serde} from './serdes.js'
import {Serdes} from './serdes.js'
import {TimeWindows, type Windowed} from './windows.js'
import {type NodeDef, type Processor, type ProcessorContext, type StreamRecord, Topology, TopologyException} from './topology.js'

export interface Consumed<K, V> {
  keySerde?: Serde<K>
  valueSerde?: Serde<V>
  /** The source processor's name (Consumed.withName). */
  processorName?: string
}

export type StreamPartitioner<K, V> = (topic: string, key: K, value: V, numPartitions: number) => number | undefined

export interface Produced<K, V> {
  keySerde?: Serde<K>
  valueSerde?: Serde<V>
  partitioner?: StreamPartitioner<K, V>
  processorName?: string
}

export interface Grouped<K, V> {
  /** Names the repartition topic (`<application.id>-<name>-repartition`) and its nodes. */
  name?: string
  keySerde?: Serde<K>
  valueSerde?: Serde<V>
}

export interface Materialized<K, V> {
  /** The store's name; its changelog is `<application.id>-<storeName>-changelog`. */
  storeName?: string
  keySerde?: Serde<K>
  valueSerde?: Serde<V>
  /** Default true: the store has a changelog topic it is restored from. */
  loggingEnabled?: boolean
}

export interface Repartitioned<K, V> {
  name?: string
  keySerde?: Serde<K>
  valueSerde?: Serde<V>
  numberOfPartitions?: number
}

export interface Named {
  name?: string
}

export type KeyValue<K, V> = [K, V]

const pad = (n: number) => String(n).padStart(10, '0')

export class StreamsBuilder {
  readonly topology = new Topology()
  private index = 0
  private built = false

  /** Kafka's InternalStreamsBuilder.newProcessorName. */
  newProcessorName(prefix: string): string {
    return prefix + pad(this.index++)
  }

  /** Kafka's newStoreName: the prefix, `STATE-STORE-`, and the shared counter. */
  newStoreName(prefix: string): string {
    return `${prefix}STATE-STORE-${pad(this.index++)}`
  }

  stream<K = unknown, V = unknown>(topics: string | string[], consumed: Consumed<K, V> = {}): KStream<K, V> {
    const list = typeof topics === 'string' ? [topics] : topics
    if (list.length === 0) throw new TopologyException('a source needs at least one topic')
    const name = consumed.processorName ?? this.newProcessorName('KSTREAM-SOURCE-')
    this.topology.addNode({kind: 'source', make: passThrough, name, predecessors: [], stores: [], topics: list, keySerde: consumed.keySerde as Serde<unknown>, valueSerde: consumed.valueSerde as Serde<unknown>})
    return new KStream<K, V>(this, name, consumed.keySerde, consumed.valueSerde, false)
  }

  build(): Topology {
    this.built = true
    return this.topology
  }

  /** @internal */
  get isBuilt(): boolean {
    return this.built
  }
}

const passThrough = (): Processor => {
  let ctx: ProcessorContext
  return {
    init: (c) => void (ctx = c),
    process: (r) => ctx.forward(r),
  }
}

/** A processor from a function of the record that forwards what it returns. */
function stateless(fn: (ctx: ProcessorContext, r: StreamRecord) => void): () => Processor {
  return () => {
    let ctx: ProcessorContext
    return {
      init: (c) => void (ctx = c),
      process: (r) => fn(ctx, r),
    }
  }
}

export class KStream<K, V> {
  constructor(
    /** @internal */ readonly builder: StreamsBuilder,
    /** @internal */ readonly nodeName: string,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** @internal Whether a key-changing operation came before (grouping then repartitions). */
    readonly repartitionRequired: boolean,
  ) {}

  private add(prefix: string, named: Named | undefined, make: () => Processor): string {
    const name = named?.name ?? this.builder.newProcessorName(prefix)
    this.builder.topology.addNode({kind: 'processor', make, name, predecessors: [this.nodeName], stores: []})
    return name
  }

  private next<K2, V2>(name: string, keySerde: Serde<K2> | undefined, valueSerde: Serde<V2> | undefined, repartition: boolean): KStream<K2, V2> {
    return new KStream<K2, V2>(this.builder, name, keySerde, valueSerde, repartition)
  }

  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    const name = this.add('KSTREAM-FILTER-', named, stateless((ctx, r) => predicate(r.key as K, r.value as V) && ctx.forward(r)))
    return this.next(name, this.keySerde, this.valueSerde, this.repartitionRequired)
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.filter((k, v) => !predicate(k, v), named)
  }

  map<K2, V2>(mapper: (key: K, value: V) => KeyValue<K2, V2>, named?: Named): KStream<K2, V2> {
    const name = this.add('KSTREAM-MAP-', named, stateless((ctx, r) => {
      const [key, value] = mapper(r.key as K, r.value as V)
      ctx.forward({...r, key, value})
    }))
    return this.next(name, undefined, undefined, true)
  }

  /** mapper(value, key): Kafka's ValueMapperWithKey with the arguments the other way round, so that a ValueMapper is mapper(value). */
  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KStream<K, V2> {
    const name = this.add('KSTREAM-MAPVALUES-', named, stateless((ctx, r) => ctx.forward({...r, value: mapper(r.value as V, r.key as K)})))
    return this.next(name, this.keySerde, undefined, this.repartitionRequired)
  }

  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValue<K2, V2>>, named?: Named): KStream<K2, V2> {
    const name = this.add('KSTREAM-FLATMAP-', named, stateless((ctx, r) => {
      for (const [key, value] of mapper(r.key as K, r.value as V)) ctx.forward({...r, key, value})
    }))
    return this.next(name, undefined, undefined, true)
  }

  flatMapValues<V2>(mapper: (value: V, key: K) => Iterable<V2>, named?: Named): KStream<K, V2> {
    const name = this.add('KSTREAM-FLATMAPVALUES-', named, stateless((ctx, r) => {
      for (const value of mapper(r.value as V, r.key as K)) ctx.forward({...r, value})
    }))
    return this.next(name, this.keySerde, undefined, this.repartitionRequired)
  }

  selectKey<K2>(mapper: (key: K, value: V) => K2, named?: Named): KStream<K2, V> {
    const name = this.add('KSTREAM-KEY-SELECT-', named, stateless((ctx, r) => ctx.forward({...r, key: mapper(r.key as K, r.value as V)})))
    return this.next(name, undefined, this.valueSerde, true)
  }

  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    const name = this.add('KSTREAM-PEEK-', named, stateless((ctx, r) => {
      action(r.key as K, r.value as V)
      ctx.forward(r)
    }))
    return this.next(name, this.keySerde, this.valueSerde, this.repartitionRequired)
  }

  foreach(action: (key: K, value: V) => void, named?: Named): void {
    this.add('KSTREAM-FOREACH-', named, stateless((_ctx, r) => action(r.key as K, r.value as V)))
  }

  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    if (other.builder !== this.builder) throw new TopologyException('merge: the streams come from different builders')
    const name = named?.name ?? this.builder.newProcessorName('KSTREAM-MERGE-')
    this.builder.topology.addNode({kind: 'processor', make: passThrough, name, predecessors: [this.nodeName, other.nodeName], stores: []})
    return this.next(name, undefined, undefined, this.repartitionRequired || other.repartitionRequired)
  }

  /** Kafka's split(): route each record to the first branch whose predicate accepts it. */
  split(named?: Named): BranchedKStream<K, V> {
    const name = named?.name ?? this.builder.newProcessorName('KSTREAM-BRANCH-')
    return new BranchedKStream(this, name, named?.name !== undefined ? named.name : name)
  }

  to(topic: string, produced: Produced<K, V> = {}): void {
    const name = produced.processorName ?? this.builder.newProcessorName('KSTREAM-SINK-')
    const keySerde = (produced.keySerde ?? this.keySerde) as Serde<unknown> | undefined
    const valueSerde = (produced.valueSerde ?? this.valueSerde) as Serde<unknown> | undefined
    this.builder.topology.addNode({kind: 'sink', make: sinkProcessor(topic, keySerde, valueSerde, produced.partitioner as StreamPartitioner<unknown, unknown> | undefined), name, predecessors: [this.nodeName], stores: [], topic})
  }

  /** Writes to an internal topic `<application.id>-<name>-repartition` and reads it back (KStream#repartition). */
  repartition(options: Repartitioned<K, V> = {}): KStream<K, V> {
    const base = options.name ?? this.builder.newProcessorName('KSTREAM-REPARTITION-')
    const source = createRepartition(this.builder, this.nodeName, base, (options.keySerde ?? this.keySerde) as Serde<unknown>, (options.valueSerde ?? this.valueSerde) as Serde<unknown>, options.name !== undefined, options.numberOfPartitions)
    return new KStream<K, V>(this.builder, source, options.keySerde ?? this.keySerde, options.valueSerde ?? this.valueSerde, false)
  }

  groupByKey(grouped: Grouped<K, V> = {}): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this.builder, this.nodeName, grouped.keySerde ?? this.keySerde, grouped.valueSerde ?? this.valueSerde, grouped.name, this.repartitionRequired)
  }

  groupBy<K2>(selector: (key: K, value: V) => K2, grouped: Grouped<K2, V> = {}): KGroupedStream<K2, V> {
    const selected = this.selectKey(selector)
    return new KGroupedStream<K2, V>(this.builder, selected.nodeName, grouped.keySerde, grouped.valueSerde ?? this.valueSerde, grouped.name, true)
  }
}

/** Kafka's Branched: a branch's name and an optional function applied to it. */
export interface Branched<K, V> {
  name?: string
  chain?: (stream: KStream<K, V>) => KStream<K, V> | void
}

export class BranchedKStream<K, V> {
  private readonly predicates: ((key: K, value: V) => boolean)[] = []
  private readonly children: string[] = []
  private readonly result: Record<string, KStream<K, V>> = {}
  constructor(
    private readonly parent: KStream<K, V>,
    private readonly splitterName: string,
    private readonly prefix: string,
  ) {
    const predicates = this.predicates
    const children = this.children
    parent.builder.topology.addNode({
      kind: 'processor',
      make: stateless((ctx, r) => {
        for (let i = 0; i < predicates.length; i++) {
          if (predicates[i]!(r.key as K, r.value as V)) {
            ctx.forward(r, children[i])
            return
          }
        }
      }),
      name: splitterName,
      predecessors: [parent.nodeName],
      stores: [],
    })
  }

  /**
   * A branch named `<split name><name>`, or `<split name><n>` without a name, n counting branches
   * from 1 (the default branch is 0), as Kafka names them. Each branch also takes a number of the
   * builder's counter, as in Kafka.
   */
  branch(predicate: (key: K, value: V) => boolean, branched: Branched<K, V> = {}): this {
    this.predicates.push(predicate)
    this.createBranch(branched, this.predicates.length)
    return this
  }

  defaultBranch(branched: Branched<K, V> = {}): Record<string, KStream<K, V>> {
    this.predicates.push(() => true)
    this.createBranch(branched, 0)
    return this.result
  }

  private createBranch(branched: Branched<K, V>, index: number): void {
    const childName = this.prefix + (branched.name ?? String(index))
    this.children.push(childName)
    this.parent.builder.newProcessorName(childName)
    this.parent.builder.topology.addNode({kind: 'processor', make: passThrough, name: childName, predecessors: [this.splitterName], stores: []})
    const stream = new KStream<K, V>(this.parent.builder, childName, this.parent.keySerde, this.parent.valueSerde, this.parent.repartitionRequired)
    if (branched.chain) {
      const chained = branched.chain(stream)
      if (chained) this.result[childName] = chained
    } else this.result[childName] = stream
  }

  noDefaultBranch(): Record<string, KStream<K, V>> {
    return this.result
  }
}

function sinkProcessor(topic: string, keySerdeOpt: Serde<unknown> | undefined, valueSerdeOpt: Serde<unknown> | undefined, partitioner: StreamPartitioner<unknown, unknown> | undefined, internal = false): () => Processor {
  return () => {
    let ctx: ProcessorContext
    let keySerde: Serde<unknown>
    let valueSerde: Serde<unknown>
    let target = topic
    return {
      init(c) {
        ctx = c
        keySerde = keySerdeOpt ?? c.defaultSerde('key', `sink ${topic}`)
        valueSerde = valueSerdeOpt ?? c.defaultSerde('value', `sink ${topic}`)
        if (internal) target = `${c.applicationId}-${topic}`
      },
      process(r) {
        const key = keySerde.serialize(target, r.key)
        const value = valueSerde.serialize(target, r.value)
        const partition = partitioner ? partitioner(target, r.key, r.value, ctx.partitionsFor(target)) : undefined
        ctx.send(target, key, value, r.timestamp, r.headers, partition)
      },
    }
  }
}

/**
 * Repartition through `<base>-repartition`: sink, null-key filter and source nodes named as Kafka
 * names them (`<base>-repartition-filter/-sink/-source` for a user-given name, generated names
 * otherwise: sink, then filter, then source). Returns the source node's name.
 */
function createRepartition(builder: StreamsBuilder, parent: string, base: string, keySerde: Serde<unknown> | undefined, valueSerde: Serde<unknown> | undefined, userNamed: boolean, partitions?: number): string {
  const topic = `${base}-repartition`
  const sinkName = userNamed ? `${base}-repartition-sink` : builder.newProcessorName('KSTREAM-SINK-')
  const filterName = userNamed ? `${base}-repartition-filter` : builder.newProcessorName('KSTREAM-FILTER-')
  const sourceName = userNamed ? `${base}-repartition-source` : builder.newProcessorName('KSTREAM-SOURCE-')
  const t = builder.topology
  t.repartitionTopics.set(topic, {partitions})
  t.addNode({kind: 'processor', make: stateless((ctx, r) => r.key !== null && r.key !== undefined && ctx.forward(r)), name: filterName, predecessors: [parent], stores: []})
  t.addNode({kind: 'sink', make: sinkProcessor(topic, keySerde, valueSerde, undefined, true), name: sinkName, predecessors: [filterName], stores: [], topic})
  t.addNode({kind: 'source', keySerde, make: passThrough, name: sourceName, predecessors: [], stores: [], topics: [topic], valueSerde})
  return sourceName
}

export class KGroupedStream<K, V> {
  constructor(
    private readonly builder: StreamsBuilder,
    private readonly parentName: string,
    private readonly keySerde: Serde<K> | undefined,
    private readonly valueSerde: Serde<V> | undefined,
    private readonly repartitionName: string | undefined,
    private readonly repartitionRequired: boolean,
  ) {}

  /** Aggregations per time window (tumbling or hopping, with grace): see windows.ts. */
  windowedBy(windows: TimeWindows): TimeWindowedKStream<K, V> {
    return new TimeWindowedKStream<K, V>(windows, (prefix, materialized, named, initializer, aggregator) =>
      this.doAggregate(prefix, prefix === 'KSTREAM-REDUCE-' ? {...materialized, valueSerde: materialized.valueSerde ?? (this.valueSerde as never)} : materialized, named, initializer, aggregator, windows) as never,
    )
  }

  count(materialized: Materialized<K, number> = {}, named?: Named): KTable<K, number> {
    return this.doAggregate('KSTREAM-AGGREGATE-', {...materialized, valueSerde: materialized.valueSerde ?? Serdes.Long()}, named, () => 0, (_k, _v, agg) => agg + 1)
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized: Materialized<K, V> = {}, named?: Named): KTable<K, V> {
    return this.doAggregate<V>('KSTREAM-REDUCE-', {...materialized, valueSerde: materialized.valueSerde ?? this.valueSerde}, named, null, (_k, v, agg) => reducer(agg, v))
  }

  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA> = {}, named?: Named): KTable<K, VA> {
    return this.doAggregate('KSTREAM-AGGREGATE-', materialized, named, initializer, aggregator)
  }

  private doAggregate<VA>(prefix: string, materialized: Materialized<K, VA>, named: Named | undefined, initializer: (() => VA) | null, aggregator: (key: K, value: V, aggregate: VA) => VA, windows?: TimeWindows): KTable<K, VA> {
    const builder = this.builder
    // As Kafka: the store name first (MaterializedInternal), then the processor's, then the repartition nodes.
    const storeName = materialized.storeName ?? builder.newStoreName(prefix)
    const processorName = named?.name ?? builder.newProcessorName(prefix)
    const keySerde = (materialized.keySerde ?? this.keySerde) as Serde<unknown> | undefined
    const valueSerde = materialized.valueSerde as Serde<unknown> | undefined
    let parent = this.parentName
    if (this.repartitionRequired) {
      const base = this.repartitionName ?? storeName
      parent = createRepartition(builder, parent, base, this.keySerde as Serde<unknown>, this.valueSerde as Serde<unknown>, this.repartitionName !== undefined)
    }
    // A window store's changelog: compact,delete, kept for size + grace + one day (windowstore.changelog.additional.retention.ms).
    const changelogConfigs = windows ? {'cleanup.policy': 'compact,delete', 'message.timestamp.type': 'CreateTime', 'retention.ms': String(windows.sizeMs + windows.graceMs + 86_400_000)} : undefined
    builder.topology.addStore({changelogConfigs, keySerde, logged: materialized.loggingEnabled ?? true, name: storeName, valueSerde})
    const make = (): Processor => {
      let ctx: ProcessorContext
      let ks: Serde<unknown>
      let vs: Serde<unknown>
      /** The largest timestamp this task's processor has seen (Kafka's observedStreamTime). */
      let streamTime = -1
      const processWindowed = (r: StreamRecord, store: ReturnType<ProcessorContext['getStateStore']>, topic: string) => {
        streamTime = Math.max(streamTime, r.timestamp)
        const closeTime = streamTime - windows!.graceMs
        const keyBytes = ks.serialize(topic, r.key)!
        for (const window of windows!.windowsFor(r.timestamp)) {
          if (window.end <= closeTime) {
            ctx.dropped(`Skipping record for expired window. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}] timestamp=[${r.timestamp}] window=[${window.start},${window.end}) expiration=[${closeTime}] streamTime=[${streamTime}]`)
            continue
          }
          // The window store's key, as its changelog's: key bytes, window start (8), sequence number 0 (4).
          const storeKey = Buffer.alloc(keyBytes.length + 12)
          keyBytes.copy(storeKey, 0)
          storeKey.writeBigInt64BE(BigInt(window.start), keyBytes.length)
          const old = store.get(storeKey)
          const oldAgg = old ? (vs.deserialize(topic, old.value) as VA) : null
          const newAgg = oldAgg === null ? (initializer ? aggregator(r.key as K, r.value as V, initializer()) : (r.value as unknown as VA)) : aggregator(r.key as K, r.value as V, oldAgg)
          const timestamp = old ? Math.max(r.timestamp, old.timestamp) : r.timestamp
          store.put(storeKey, vs.serialize(topic, newAgg), timestamp)
          const windowed: Windowed<unknown> = {key: r.key, window}
          ctx.forward({headers: r.headers, key: windowed, timestamp, value: newAgg})
        }
      }
      return {
        init(c) {
          ctx = c
          ks = keySerde ?? c.defaultSerde('key', `store ${storeName}`)
          vs = valueSerde ?? c.defaultSerde('value', `store ${storeName}`)
        },
        process(r) {
          if (r.key === null || r.key === undefined || (!windows && (r.value === null || r.value === undefined))) {
            ctx.dropped(`Skipping record due to null key or value. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}]`)
            return
          }
          const store = ctx.getStateStore(storeName)
          const topic = `${ctx.applicationId}-${storeName}-changelog`
          if (windows) {
            processWindowed(r, store, topic)
            return
          }
          const keyBytes = ks.serialize(topic, r.key)!
          const old = store.get(keyBytes)
          const oldAgg = old ? (vs.deserialize(topic, old.value) as VA) : null
          let newAgg: VA
          if (oldAgg === null) newAgg = initializer ? aggregator(r.key as K, r.value as V, initializer()) : (r.value as unknown as VA)
          else newAgg = aggregator(r.key as K, r.value as V, oldAgg)
          const timestamp = old ? Math.max(r.timestamp, old.timestamp) : r.timestamp
          store.put(keyBytes, vs.serialize(topic, newAgg), timestamp)
          ctx.forward({headers: r.headers, key: r.key, timestamp, value: newAgg})
        },
      }
    }
    builder.topology.addNode({kind: 'processor', make, name: processorName, predecessors: [parent], stores: [storeName]})
    return new KTable<K, VA>(builder, processorName, (materialized.keySerde ?? this.keySerde) as Serde<K> | undefined, materialized.valueSerde, storeName)
  }
}

type AggregateFn<K, V> = <VA>(prefix: string, materialized: Materialized<K, VA>, named: Named | undefined, initializer: (() => VA) | null, aggregator: (key: K, value: V, aggregate: VA) => VA) => KTable<Windowed<K>, VA>

/** A grouped stream aggregated per time window: the result is keyed by Windowed<K>. */
export class TimeWindowedKStream<K, V> {
  constructor(
    readonly windows: TimeWindows,
    private readonly aggregateFn: AggregateFn<K, V>,
  ) {}

  count(materialized: Materialized<K, number> = {}, named?: Named): KTable<Windowed<K>, number> {
    return this.aggregateFn('KSTREAM-AGGREGATE-', {...materialized, valueSerde: materialized.valueSerde ?? Serdes.Long()}, named, () => 0, (_k, _v, agg) => agg + 1)
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized: Materialized<K, V> = {}, named?: Named): KTable<Windowed<K>, V> {
    return this.aggregateFn<V>('KSTREAM-REDUCE-', materialized, named, null, (_k, v, agg) => reducer(agg, v))
  }

  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA> = {}, named?: Named): KTable<Windowed<K>, VA> {
    return this.aggregateFn('KSTREAM-AGGREGATE-', materialized, named, initializer, aggregator)
  }
}

/** A changelog stream: each record is the latest value of its key (null: deleted). */
export class KTable<K, V> {
  constructor(
    /** @internal */ readonly builder: StreamsBuilder,
    /** @internal */ readonly nodeName: string,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** The store holding the table (queryable name). */
    readonly storeName: string | undefined,
  ) {}

  private add(prefix: string, named: Named | undefined, make: () => Processor): string {
    const name = named?.name ?? this.builder.newProcessorName(prefix)
    this.builder.topology.addNode({kind: 'processor', make, name, predecessors: [this.nodeName], stores: []})
    return name
  }

  toStream(named?: Named): KStream<K, V> {
    const name = this.add('KTABLE-TOSTREAM-', named, passThrough)
    return new KStream<K, V>(this.builder, name, this.keySerde, this.valueSerde, false)
  }

  /** Keeps the rows the predicate accepts; an update that fails it is forwarded as a delete (null). */
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V> {
    const name = this.add('KTABLE-FILTER-', named, stateless((ctx, r) => ctx.forward(r.value !== null && predicate(r.key as K, r.value as V) ? r : {...r, value: null})))
    return new KTable<K, V>(this.builder, name, this.keySerde, this.valueSerde, undefined)
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V> {
    return this.filter((k, v) => !predicate(k, v), named)
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KTable<K, V2> {
    const name = this.add('KTABLE-MAPVALUES-', named, stateless((ctx, r) => ctx.forward({...r, value: r.value === null ? null : mapper(r.value as V, r.key as K)})))
    return new KTable<K, V2>(this.builder, name, this.keySerde, undefined, undefined)
  }
}

export type {NodeDef}
