/**
 * The DSL: StreamsBuilder, KStream, KGroupedStream, KTable, with Kafka Streams' operators and its
 * generated names (`KSTREAM-FILTER-0000000001`, stores `KSTREAM-AGGREGATE-STATE-STORE-0000000003`,
 * repartition topics named after the store or the Grouped name) so that describe() and the internal
 * topics match a Java application's.
 */
import type {Serde} from './serdes.js'
import {Serdes} from './serdes.js'
import {JoinWindows, SessionWindows, SlidingWindows, TimeWindows, type Windowed} from './windows.js'
import {changelogTopic, type NodeDef, type Processor, type ProcessorContext, storeBinding, type StreamRecord, Topology, TopologyException} from './topology.js'
import {PurgeSchedule, purgeBefore, storeGetter, StreamStreamJoin, type TableJoinKind, tableTableJoinProcessor, type ValueGetterSupplier} from './joins.js'
import {type FkJoinSpec, registrationProcessor, responseResolverProcessor, responseSerde, rightUpdateProcessor, subscriptionJoinProcessor, subscriptionSerde, subscriptionStoreProcessor} from './fk-join.js'
import {type ApiProcessor, sessionAggregateProcessor, slidingAggregateProcessor, suppressProcessor, typedContext} from './processors.js'

export interface Consumed<K, V> {
  keySerde?: Serde<K>
  valueSerde?: Serde<V>
  /** The source processor's name (Consumed.withName). */
  processorName?: string
  /**
   * Kafka's TimestampExtractor: the record's event time from its contents (default: the record's
   * timestamp). `partitionTime` is the largest timestamp extracted so far by this source in the
   * task (-1 before the first). A negative result drops the record (Kafka's skip behaviour).
   */
  timestampExtractor?: (record: {key: K; value: V; timestamp: number}, partitionTime: number) => number
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
  /**
   * Kafka's Materialized.as(storeSupplier): Stores.inMemoryKeyValueStore(name) (or the window and
   * session ones) keeps the store in memory; its name is the store's name.
   */
  storeSupplier?: StoreSupplier
}

/** What Stores.* store suppliers give: a store's name, kind and whether it is on disk. */
export interface StoreSupplier {
  readonly name: string
  readonly kind: 'keyValue' | 'window' | 'session'
  readonly persistent: boolean
}

/** The store name and where it lives that a Materialized asks for (checked against the kind of store the operation needs). */
function materializedStore(m: Materialized<unknown, unknown>, kind: StoreSupplier['kind']): {name?: string; inMemory?: boolean} {
  const supplier = m.storeSupplier
  if (!supplier) return {name: m.storeName}
  if (supplier.kind !== kind) throw new TopologyException(`store ${supplier.name} is a ${supplier.kind} store but this operation needs a ${kind} store`)
  if (m.storeName !== undefined && m.storeName !== supplier.name) throw new TopologyException(`Materialized names store ${m.storeName} but its store supplier is ${supplier.name}`)
  return {inMemory: !supplier.persistent || undefined, name: supplier.name}
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
    const make = consumed.timestampExtractor ? extractingSource(consumed.timestampExtractor as (r: StreamRecord, partitionTime: number) => number) : passThrough
    this.topology.addNode({kind: 'source', make, name, predecessors: [], stores: [], topics: list, keySerde: consumed.keySerde as Serde<unknown>, valueSerde: consumed.valueSerde as Serde<unknown>})
    return new KStream<K, V>(this, name, consumed.keySerde, consumed.valueSerde, false)
  }

  /**
   * A KTable of a topic (its latest value per key; a null value deletes), in a store named
   * `<topic>-STATE-STORE-<n>` (or `materialized.storeName`) with a changelog, as Kafka's table().
   */
  table<K = unknown, V = unknown>(topic: string, consumed: Consumed<K, V> = {}, materialized: Materialized<K, V> = {}): KTable<K, V> {
    const where = materializedStore(materialized as Materialized<unknown, unknown>, 'keyValue')
    const storeName = where.name ?? this.newStoreName(`${topic}-`)
    const sourceName = consumed.processorName ?? this.newProcessorName('KSTREAM-SOURCE-')
    const tableSourceName = consumed.processorName ? `${consumed.processorName}-table-source` : this.newProcessorName('KTABLE-SOURCE-')
    const keySerde = (materialized.keySerde ?? consumed.keySerde) as Serde<unknown> | undefined
    const valueSerde = (materialized.valueSerde ?? consumed.valueSerde) as Serde<unknown> | undefined
    this.topology.addStore({inMemory: where.inMemory, keySerde, logged: materialized.loggingEnabled ?? true, name: storeName, valueSerde})
    this.topology.addNode({kind: 'source', make: passThrough, name: sourceName, predecessors: [], stores: [], topics: [topic], keySerde: consumed.keySerde as Serde<unknown>, valueSerde: consumed.valueSerde as Serde<unknown>})
    this.topology.addNode({kind: 'processor', make: tableSource(storeName, keySerde, valueSerde), name: tableSourceName, predecessors: [sourceName], stores: [storeName]})
    return new KTable<K, V>(this, tableSourceName, consumed.keySerde, consumed.valueSerde, storeName, storeGetter(storeName, keySerde as Serde<K>, valueSerde as Serde<V>))
  }

  /**
   * A GlobalKTable: every instance holds all partitions of the topic (global-stores.ts), read to
   * its end before processing starts and kept up to date; joined by a key taken from the stream record.
   */
  globalTable<K = unknown, V = unknown>(topic: string, consumed: Consumed<K, V> = {}, materialized: Materialized<K, V> = {}): GlobalKTable<K, V> {
    const where = materializedStore(materialized as Materialized<unknown, unknown>, 'keyValue')
    const storeName = where.name ?? this.newStoreName(`${topic}-`)
    const sourceName = consumed.processorName ?? this.newProcessorName('KSTREAM-SOURCE-')
    const tableSourceName = consumed.processorName ? `${consumed.processorName}-table-source` : this.newProcessorName('KTABLE-SOURCE-')
    const keySerde = (materialized.keySerde ?? consumed.keySerde) as Serde<unknown> | undefined
    const valueSerde = (materialized.valueSerde ?? consumed.valueSerde) as Serde<unknown> | undefined
    this.topology.addStore({global: {topic}, keySerde, logged: false, name: storeName, valueSerde})
    this.topology.addNode({global: true, kind: 'source', make: passThrough, name: sourceName, predecessors: [], stores: [], topics: [topic]})
    this.topology.addNode({global: true, kind: 'processor', make: passThrough, name: tableSourceName, predecessors: [sourceName], stores: [storeName]})
    return new GlobalKTable<K, V>(storeName, storeGetter(storeName, keySerde as Serde<K>, valueSerde as Serde<V>, true))
  }

  /** A user state store (Stores.keyValueStoreBuilder), for processors that name it (KStream.process(supplier, ...storeNames)). */
  addStateStore(store: StoreBuilder<unknown, unknown>): this {
    this.topology.addStore({inMemory: store.inMemory || undefined, keySerde: store.keySerde, logged: store.loggingEnabled, name: store.name, valueSerde: store.valueSerde})
    return this
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

/** Kafka's Stores: builders of user state stores for the Processor API. */
export interface StoreBuilder<K, V> {
  name: string
  keySerde: Serde<K>
  valueSerde: Serde<V>
  loggingEnabled: boolean
  /** Kept in memory (a supplier from Stores.inMemoryKeyValueStore), restored from the changelog on every start. */
  inMemory?: boolean
}

export const Stores = {
  /**
   * A key-value store with a changelog `<application.id>-<name>-changelog`, unless logging is
   * disabled: persistent (LMDB) when given a name or Stores.persistentKeyValueStore(name), in
   * memory when given Stores.inMemoryKeyValueStore(name).
   */
  keyValueStoreBuilder<K, V>(supplier: string | StoreSupplier, keySerde: Serde<K>, valueSerde: Serde<V>, options: {loggingEnabled?: boolean} = {}): StoreBuilder<K, V> {
    if (typeof supplier !== 'string' && supplier.kind !== 'keyValue') throw new TopologyException(`store ${supplier.name} is a ${supplier.kind} store, not a key-value store`)
    const name = typeof supplier === 'string' ? supplier : supplier.name
    return {inMemory: typeof supplier !== 'string' && !supplier.persistent, keySerde, loggingEnabled: options.loggingEnabled ?? true, name, valueSerde}
  },
  persistentKeyValueStore(name: string): StoreSupplier {
    return {kind: 'keyValue', name, persistent: true}
  },
  inMemoryKeyValueStore(name: string): StoreSupplier {
    return {kind: 'keyValue', name, persistent: false}
  },
  /** Kafka's signature (retention, window size, retain duplicates); retention follows the windows' size + grace, as the persistent window stores. */
  persistentWindowStore(name: string, _retentionPeriodMs?: number, _windowSizeMs?: number, _retainDuplicates?: boolean): StoreSupplier {
    return {kind: 'window', name, persistent: true}
  },
  inMemoryWindowStore(name: string, _retentionPeriodMs?: number, _windowSizeMs?: number, _retainDuplicates?: boolean): StoreSupplier {
    return {kind: 'window', name, persistent: false}
  },
  persistentSessionStore(name: string, _retentionPeriodMs?: number): StoreSupplier {
    return {kind: 'session', name, persistent: true}
  },
  inMemorySessionStore(name: string, _retentionPeriodMs?: number): StoreSupplier {
    return {kind: 'session', name, persistent: false}
  },
}

/** Kafka's StreamJoined: serdes of a stream-stream join's stores, and names. */
export interface StreamJoined<K, V, VO> {
  keySerde?: Serde<K>
  valueSerde?: Serde<V>
  otherValueSerde?: Serde<VO>
  /** Prefix of the processors' names (`<name>-this-join`, ...). */
  name?: string
  /** Prefix of the stores' names (`<storeName>-this-join-store`, ...). */
  storeName?: string
}

/** Kafka's KTableSource: puts each update in the table's store and forwards it with the value it replaced. */
function tableSource(storeName: string, keySerdeOpt: Serde<unknown> | undefined, valueSerdeOpt: Serde<unknown> | undefined): () => Processor {
  return () => {
    let ctx: ProcessorContext
    let ks: Serde<unknown>
    let vs: Serde<unknown>
    let topic: string
    return {
      init(c) {
        ctx = c
        ;({ks, vs, topic} = storeBinding(c, storeName, keySerdeOpt, valueSerdeOpt))
      },
      process(r) {
        if (r.key === null || r.key === undefined) {
          ctx.dropped(`Skipping record due to null key. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}]`)
          return
        }
        const store = ctx.getStateStore(storeName)
        const keyBytes = ks.serialize(topic, r.key)!
        const old = store.get(keyBytes)
        const oldValue = old ? vs.deserialize(topic, old.value) : null
        if (old && r.timestamp < old.timestamp) ctx.log.warn(`Detected out-of-order KTable update for ${storeName}, old timestamp=[${old.timestamp}] new timestamp=[${r.timestamp}]. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}].`)
        const value = r.value === null || r.value === undefined ? null : r.value
        if (value === null && oldValue === null) return
        store.put(keyBytes, value === null ? null : vs.serialize(topic, value), r.timestamp)
        ctx.forward({...r, oldValue, value})
      },
    }
  }
}

/** A source that sets each record's timestamp with the user's TimestampExtractor. */
function extractingSource(extract: (r: StreamRecord, partitionTime: number) => number): () => Processor {
  return () => {
    let ctx: ProcessorContext
    let partitionTime = -1
    return {
      init: (c) => void (ctx = c),
      process(r) {
        const timestamp = extract(r, partitionTime)
        if (!(timestamp >= 0)) {
          ctx.dropped(`Skipping record due to negative extracted timestamp. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}] extractedTimestamp=[${timestamp}]`)
          return
        }
        partitionTime = Math.max(partitionTime, timestamp)
        ctx.forward({...r, timestamp})
      },
    }
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

  /**
   * Processor API: runs a user Processor (init(context), process(record), close()) on each record;
   * what it forwards is the returned stream. `storeNames` connects stores added with
   * builder.addStateStore; context.getStateStore(name) gives them typed by their serdes.
   */
  process<K2 = K, V2 = V>(supplier: () => ApiProcessor<K, V>, ...storeNames: string[]): KStream<K2, V2> {
    const t = this.builder.topology
    for (const store of storeNames) if (!t.stores.has(store)) throw new TopologyException(`StateStore ${store} is not added yet.`)
    const name = this.builder.newProcessorName('KSTREAM-PROCESSOR-')
    const make = (): Processor => {
      const user = supplier()
      return {
        close: () => user.close?.(),
        init: (c) => user.init?.(typedContext(c, t)),
        process: (r) => user.process(r as StreamRecord<K, V>),
      }
    }
    t.addNode({kind: 'processor', make, name, predecessors: [this.nodeName], stores: storeNames})
    return this.next(name, undefined, undefined, this.repartitionRequired)
  }

  /** This stream, repartitioned by its (changed) key before a join, as Kafka's repartitionForJoin. */
  private forJoin(): KStream<K, V> {
    if (!this.repartitionRequired) return this
    const source = createRepartition(this.builder, this.nodeName, this.nodeName, this.keySerde as Serde<unknown>, this.valueSerde as Serde<unknown>, false)
    return new KStream<K, V>(this.builder, source, this.keySerde, this.valueSerde, false)
  }

  /**
   * Joins: with a KStream, windowed (JoinWindows); with a KTable, each record with the table's
   * current value of its key; with a GlobalKTable, by the key `keySelector` picks from the record.
   * joiner(left, right, key). See joins.ts for the semantics.
   */
  join<VO, VR>(other: KStream<K, VO>, joiner: (value: V, other: VO, key: K) => VR, windows: JoinWindows, joined?: StreamJoined<K, V, VO>): KStream<K, VR>
  join<VO, VR>(table: KTable<K, VO>, joiner: (value: V, other: VO, key: K) => VR, named?: Named): KStream<K, VR>
  join<KG, VO, VR>(table: GlobalKTable<KG, VO>, keySelector: (key: K, value: V) => KG | null, joiner: (value: V, other: VO, key: K) => VR, named?: Named): KStream<K, VR>
  join(other: unknown, a: unknown, b?: unknown, c?: unknown): KStream<K, unknown> {
    return this.anyJoin('inner', other, a, b, c) as never
  }

  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: (value: V, other: VO | null, key: K) => VR, windows: JoinWindows, joined?: StreamJoined<K, V, VO>): KStream<K, VR>
  leftJoin<VO, VR>(table: KTable<K, VO>, joiner: (value: V, other: VO | null, key: K) => VR, named?: Named): KStream<K, VR>
  leftJoin<KG, VO, VR>(table: GlobalKTable<KG, VO>, keySelector: (key: K, value: V) => KG | null, joiner: (value: V, other: VO | null, key: K) => VR, named?: Named): KStream<K, VR>
  leftJoin(other: unknown, a: unknown, b?: unknown, c?: unknown): KStream<K, unknown> {
    return this.anyJoin('left', other, a, b, c)
  }

  outerJoin<VO, VR>(other: KStream<K, VO>, joiner: (value: V | null, other: VO | null, key: K) => VR, windows: JoinWindows, joined?: StreamJoined<K, V, VO>): KStream<K, VR> {
    return this.streamStreamJoin('outer', other as never, joiner as never, windows, (joined ?? {}) as never) as never
  }

  private anyJoin(kind: 'inner' | 'left', other: unknown, a: unknown, b: unknown, c: unknown): KStream<K, unknown> {
    if (other instanceof KStream) {
      if (!(b instanceof JoinWindows)) throw new TopologyException('a stream-stream join needs JoinWindows')
      return this.streamStreamJoin(kind, other as KStream<K, unknown>, a as never, b, (c ?? {}) as StreamJoined<K, V, unknown>)
    }
    if (other instanceof KTable) return this.streamTableJoin(kind, other as KTable<K, unknown>, a as never, b as Named | undefined)
    if (other instanceof GlobalKTable) return this.globalTableJoin(kind, other as GlobalKTable<unknown, unknown>, a as never, b as never, c as Named | undefined)
    throw new TopologyException('join: the other side must be a KStream, a KTable or a GlobalKTable')
  }

  /** Kafka's KStreamImplJoin: two KSTREAM-WINDOWED nodes, the two join processors, a KSTREAM-MERGE. */
  private streamStreamJoin(kind: TableJoinKind, otherStream: KStream<K, unknown>, joiner: (l: unknown, r: unknown, k: unknown) => unknown, windows: JoinWindows, joined: StreamJoined<K, V, unknown>): KStream<K, unknown> {
    const b = this.builder
    const left = this.forJoin()
    const right = otherStream.forJoin()
    const leftOuter = kind !== 'inner'
    const rightOuter = kind === 'outer'
    const named = (suffix: string, prefix: string) => (joined.name !== undefined ? `${joined.name}${suffix}` : b.newProcessorName(prefix))
    const thisWindowed = named('-this-windowed', 'KSTREAM-WINDOWED-')
    const otherWindowed = named('-other-windowed', 'KSTREAM-WINDOWED-')
    const thisGenerated = b.newProcessorName(rightOuter ? 'KSTREAM-OUTERTHIS-' : 'KSTREAM-JOINTHIS-')
    const otherGenerated = b.newProcessorName(leftOuter ? 'KSTREAM-OUTEROTHER-' : 'KSTREAM-JOINOTHER-')
    const thisName = joined.name !== undefined ? `${joined.name}-this-join` : thisGenerated
    const otherName = joined.name !== undefined ? `${joined.name}-other-join` : otherGenerated
    const mergeName = named('-merge', 'KSTREAM-MERGE-')
    const storeOf = (suffix: string, generated: string) => (joined.storeName !== undefined ? `${joined.storeName}${suffix}-store` : `${generated}-store`)
    const thisStore = storeOf('-this-join', thisGenerated)
    const otherStore = storeOf('-other-join', otherGenerated)
    const outerStore = leftOuter ? storeOf(rightOuter ? '-outer-shared-join' : '-left-shared-join', thisGenerated.replace(/KSTREAM-(OUTERTHIS|JOINTHIS)-/, 'KSTREAM-OUTERSHARED-')) : undefined
    const join = new StreamStreamJoin({
      joiner, keySerde: (joined.keySerde ?? this.keySerde ?? otherStream.keySerde) as Serde<unknown> | undefined, leftOuter, otherStore, otherValueSerde: (joined.otherValueSerde ?? otherStream.valueSerde) as Serde<unknown> | undefined, outerStore, rightOuter,
      thisStore, thisValueSerde: (joined.valueSerde ?? this.valueSerde) as Serde<unknown> | undefined, windows,
    })
    // Window stores' changelogs: delete (not compact), kept for before + after + grace + one day.
    const windowChangelog = {'cleanup.policy': 'delete', 'message.timestamp.type': 'CreateTime', 'retention.ms': String(windows.sizeMs + windows.graceMs + 86_400_000)}
    const t = b.topology
    t.addStore({changelogConfigs: windowChangelog, logged: true, name: thisStore})
    t.addStore({changelogConfigs: windowChangelog, logged: true, name: otherStore})
    if (outerStore) t.addStore({logged: true, name: outerStore})
    const shared = outerStore ? [outerStore] : []
    t.addNode({kind: 'processor', make: join.windowed(true), name: thisWindowed, predecessors: [left.nodeName], stores: [thisStore]})
    t.addNode({kind: 'processor', make: join.windowed(false), name: otherWindowed, predecessors: [right.nodeName], stores: [otherStore]})
    t.addNode({kind: 'processor', make: join.join(true), name: thisName, predecessors: [thisWindowed], stores: [otherStore, ...shared]})
    t.addNode({kind: 'processor', make: join.join(false), name: otherName, predecessors: [otherWindowed], stores: [thisStore, ...shared]})
    t.addNode({kind: 'processor', make: passThrough, name: mergeName, predecessors: [thisName, otherName], stores: []})
    return this.next(mergeName, this.keySerde, undefined, false)
  }

  /** Kafka's KStreamKTableJoin (KSTREAM-JOIN- / KSTREAM-LEFTJOIN-): the table's current value; no window, no timestamps compared. */
  private streamTableJoin(kind: 'inner' | 'left', table: KTable<K, unknown>, joiner: (l: unknown, r: unknown, k: unknown) => unknown, named?: Named): KStream<K, unknown> {
    const getter = table.valueGetter
    if (!getter) throw new TopologyException(`the table ${table.nodeName} is not materialized: join it after an aggregation or table(), or materialize it`)
    const left = this.forJoin()
    const name = named?.name ?? this.builder.newProcessorName(kind === 'left' ? 'KSTREAM-LEFTJOIN-' : 'KSTREAM-JOIN-')
    const make = stateless2((ctx) => getter.make(ctx), (ctx, get, r) => {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) {
        if (kind === 'left' && (r.key === null || r.key === undefined) && r.value !== null && r.value !== undefined) ctx.forward({...r, value: joiner(r.value, null, r.key)})
        else ctx.dropped(`Skipping record due to null key or value. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}]`)
        return
      }
      const found = get(r.key as K)
      if (found || kind === 'left') ctx.forward({...r, value: joiner(r.value, found ? found.value : null, r.key)})
    })
    this.builder.topology.addNode({kind: 'processor', make, name, predecessors: [left.nodeName], stores: getter.stores})
    return this.next(name, this.keySerde, undefined, false)
  }

  /** Kafka's KStreamGlobalKTableJoin: the key selector runs on every record (even a null value); a null selected key or a null value drops it. */
  private globalTableJoin(kind: 'inner' | 'left', table: GlobalKTable<unknown, unknown>, keySelector: (k: unknown, v: unknown) => unknown, joiner: (l: unknown, r: unknown, k: unknown) => unknown, named?: Named): KStream<K, unknown> {
    // Kafka names both the inner and the left join with a GlobalKTable KSTREAM-LEFTJOIN-.
    const name = named?.name ?? this.builder.newProcessorName('KSTREAM-LEFTJOIN-')
    const make = stateless2((ctx) => table.valueGetter.make(ctx) as (key: unknown) => {value: unknown; timestamp: number} | undefined, (ctx, get, r) => {
      const mapped = keySelector(r.key, r.value)
      if (mapped === null || mapped === undefined || r.value === null || r.value === undefined) {
        ctx.dropped(`Skipping record due to null join key or value. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}]`)
        return
      }
      const found = get(mapped)
      if (found || kind === 'left') ctx.forward({...r, value: joiner(r.value, found ? found.value : null, r.key)})
    })
    this.builder.topology.addNode({kind: 'processor', make, name, predecessors: [this.nodeName], stores: []})
    return this.next(name, this.keySerde, undefined, this.repartitionRequired)
  }
}

/** A processor with per-task state made at init (a getter), then a function of the record. */
function stateless2<S>(setup: (ctx: ProcessorContext) => S, fn: (ctx: ProcessorContext, state: S, r: StreamRecord) => void): () => Processor {
  return () => {
    let ctx: ProcessorContext
    let state: S
    return {
      init: (c) => {
        ctx = c
        state = setup(c)
      },
      process: (r) => fn(ctx, state, r),
    }
  }
}

/** A table every instance holds whole (StreamsBuilder.globalTable); only joinable from a KStream. */
export class GlobalKTable<K, V> {
  constructor(
    readonly storeName: string,
    /** @internal */ readonly valueGetter: ValueGetterSupplier<K, V>,
  ) {}
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

  /** Aggregations per time window (tumbling or hopping, with grace: see windows.ts) or per session (processors.ts). */
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedKStream<K, V>
  windowedBy(windows: TimeWindows | SlidingWindows | SessionWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    if (windows instanceof SlidingWindows) return new TimeWindowedKStream<K, V>(windows, (prefix, materialized, named, initializer, aggregator) => this.doSlidingAggregate(prefix, windows, materialized, named, initializer, aggregator) as never)
    if (windows instanceof SessionWindows) return new SessionWindowedKStream<K, V>(windows, (prefix, materialized, named, initializer, aggregator, merger) => this.doSessionAggregate(prefix, windows, materialized, named, initializer, aggregator, merger))
    return this.timeWindowed(windows)
  }

  /** What a session or sliding aggregation names and binds before adding its store and processor (repartitioning first when the key changed). */
  private windowedAggregateNode<VA>(prefix: string, materialized: Materialized<K, VA>, named: Named | undefined, kind: 'session' | 'window') {
    const builder = this.builder
    const where = materializedStore(materialized as Materialized<unknown, unknown>, kind)
    const storeName = where.name ?? builder.newStoreName(prefix)
    const processorName = named?.name ?? builder.newProcessorName(prefix)
    const keySerde = (materialized.keySerde ?? this.keySerde) as Serde<unknown> | undefined
    const valueSerde = (materialized.valueSerde ?? (prefix === 'KSTREAM-REDUCE-' ? this.valueSerde : undefined)) as Serde<unknown> | undefined
    let parent = this.parentName
    if (this.repartitionRequired) parent = createRepartition(builder, parent, this.repartitionName ?? storeName, this.keySerde as Serde<unknown>, this.valueSerde as Serde<unknown>, this.repartitionName !== undefined)
    return {builder, keySerde, parent, processorName, storeName, valueSerde, where}
  }

  private doSessionAggregate<VA>(prefix: string, windows: SessionWindows, materialized: Materialized<K, VA>, named: Named | undefined, initializer: (() => VA) | null, aggregator: (key: K, value: V, aggregate: VA) => VA, merger: (key: K, a: VA, b: VA) => VA): KTable<Windowed<K>, VA> {
    const {builder, where, storeName, processorName, keySerde, valueSerde, parent} = this.windowedAggregateNode(prefix, materialized, named, 'session')
    // A session store's changelog: compact,delete, kept for gap + grace + one day.
    const changelogConfigs = {'cleanup.policy': 'compact,delete', 'message.timestamp.type': 'CreateTime', 'retention.ms': String(windows.inactivityGapMs + windows.graceMs + 86_400_000)}
    builder.topology.addStore({changelogConfigs, inMemory: where.inMemory, keySerde, logged: materialized.loggingEnabled ?? true, name: storeName, valueSerde})
    builder.topology.addNode({kind: 'processor', make: sessionAggregateProcessor(storeName, windows, keySerde, valueSerde, initializer, aggregator, merger), name: processorName, predecessors: [parent], stores: [storeName]})
    return new KTable<Windowed<K>, VA>(builder, processorName, undefined, materialized.valueSerde, storeName, undefined, {graceMs: windows.graceMs, keySerde: keySerde as Serde<unknown>})
  }

  private doSlidingAggregate<VA>(prefix: string, windows: SlidingWindows, materialized: Materialized<K, VA>, named: Named | undefined, initializer: (() => VA) | null, aggregator: (key: K, value: V, aggregate: VA) => VA): KTable<Windowed<K>, VA> {
    const {builder, where, storeName, processorName, keySerde, valueSerde, parent} = this.windowedAggregateNode(prefix, materialized, named, 'window')
    // A sliding window store's changelog: compact,delete, kept for 2 x difference + grace + one day.
    const changelogConfigs = {'cleanup.policy': 'compact,delete', 'message.timestamp.type': 'CreateTime', 'retention.ms': String(2 * windows.timeDifferenceMs + windows.graceMs + 86_400_000)}
    builder.topology.addStore({changelogConfigs, inMemory: where.inMemory, keySerde, logged: materialized.loggingEnabled ?? true, name: storeName, valueSerde})
    builder.topology.addNode({kind: 'processor', make: slidingAggregateProcessor(storeName, windows, keySerde, valueSerde, initializer, aggregator), name: processorName, predecessors: [parent], stores: [storeName]})
    return new KTable<Windowed<K>, VA>(builder, processorName, undefined, materialized.valueSerde, storeName, undefined, {graceMs: windows.graceMs, keySerde: keySerde as Serde<unknown>})
  }

  private timeWindowed(windows: TimeWindows): TimeWindowedKStream<K, V> {
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
    const where = materializedStore(materialized as Materialized<unknown, unknown>, windows ? 'window' : 'keyValue')
    const storeName = where.name ?? builder.newStoreName(prefix)
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
    builder.topology.addStore({changelogConfigs, inMemory: where.inMemory, keySerde, logged: materialized.loggingEnabled ?? true, name: storeName, valueSerde})
    const make = (): Processor => {
      let ctx: ProcessorContext
      let ks: Serde<unknown>
      let vs: Serde<unknown>
      /** The largest timestamp this task's processor has seen (Kafka's observedStreamTime). */
      let streamTime = -1
      const purge = windows ? new PurgeSchedule(windows.sizeMs + windows.graceMs) : undefined
      /** The record cache (non-windowed aggregations), least recently updated first. */
      const cache = new Map<string, {key: unknown; keyBytes: Buffer; value: VA; valueBytes: Buffer; timestamp: number; headers: StreamRecord['headers']; size: number}>()
      const evict = (hex: string) => {
        const e = cache.get(hex)!
        cache.delete(hex)
        ctx.recordCache.used -= e.size
        ctx.getStateStore(storeName).put(e.keyBytes, e.valueBytes, e.timestamp)
        ctx.forward({headers: e.headers, key: e.key, timestamp: e.timestamp, value: e.value})
      }
      const processWindowed = (r: StreamRecord, store: ReturnType<ProcessorContext['getStateStore']>, topic: string) => {
        streamTime = Math.max(streamTime, r.timestamp)
        // Closed windows are never updated again: deleted once stream time has moved a retention (size + grace) on.
        purge!.maybe(streamTime, () => purgeBefore(store, 12, streamTime - windows!.sizeMs - windows!.graceMs, streamTime))
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
          const topic = changelogTopic(ctx.applicationId, storeName)
          if (windows) {
            processWindowed(r, store, topic)
            return
          }
          const keyBytes = ks.serialize(topic, r.key)!
          const hex = keyBytes.toString('hex')
          const cached = cache.get(hex)
          const stored = cached ? undefined : store.get(keyBytes)
          const old = cached ?? stored
          const oldAgg = cached ? cached.value : stored ? (vs.deserialize(topic, stored.value) as VA) : null
          let newAgg: VA
          if (oldAgg === null) newAgg = initializer ? aggregator(r.key as K, r.value as V, initializer()) : (r.value as unknown as VA)
          else newAgg = aggregator(r.key as K, r.value as V, oldAgg)
          const timestamp = old ? Math.max(r.timestamp, old.timestamp) : r.timestamp
          const valueBytes = vs.serialize(topic, newAgg)!
          if (ctx.recordCache.maxBytes <= 0) {
            store.put(keyBytes, valueBytes, timestamp)
            ctx.forward({headers: r.headers, key: r.key, timestamp, value: newAgg})
            return
          }
          // Kafka's record cache: the latest value per key, written and forwarded on commit or eviction.
          const size = keyBytes.length + valueBytes.length + 8
          if (cached) {
            cache.delete(hex)
            ctx.recordCache.used -= cached.size
          }
          cache.set(hex, {headers: r.headers, key: r.key, keyBytes, size, timestamp, value: newAgg, valueBytes})
          ctx.recordCache.used += size
          while (ctx.recordCache.used > ctx.recordCache.maxBytes && cache.size > 0) evict(cache.keys().next().value!)
        },
        flushCache() {
          for (const hex of [...cache.keys()]) evict(hex)
        },
        close() {
          for (const e of cache.values()) ctx.recordCache.used -= e.size
          cache.clear()
        },
      }
    }
    builder.topology.addNode({kind: 'processor', make, name: processorName, predecessors: [parent], stores: [storeName]})
    const tableKeySerde = (materialized.keySerde ?? this.keySerde) as Serde<K> | undefined
    if (windows) return new KTable<K, VA>(builder, processorName, tableKeySerde, materialized.valueSerde, storeName, undefined, {graceMs: windows.graceMs, keySerde: keySerde as Serde<unknown>})
    return new KTable<K, VA>(builder, processorName, tableKeySerde, materialized.valueSerde, storeName, storeGetter(storeName, tableKeySerde, materialized.valueSerde))
  }
}

type AggregateFn<K, V> = <VA>(prefix: string, materialized: Materialized<K, VA>, named: Named | undefined, initializer: (() => VA) | null, aggregator: (key: K, value: V, aggregate: VA) => VA) => KTable<Windowed<K>, VA>

/** A grouped stream aggregated per time window: the result is keyed by Windowed<K>. */
export class TimeWindowedKStream<K, V> {
  constructor(
    readonly windows: TimeWindows | SlidingWindows,
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

type SessionAggregateFn<K, V> = <VA>(prefix: string, materialized: Materialized<K, VA>, named: Named | undefined, initializer: (() => VA) | null, aggregator: (key: K, value: V, aggregate: VA) => VA, merger: (key: K, a: VA, b: VA) => VA) => KTable<Windowed<K>, VA>

/** A grouped stream aggregated per session (SessionWindows): keyed by Windowed<K> (window = [first, last] record time). */
export class SessionWindowedKStream<K, V> {
  constructor(
    readonly windows: SessionWindows,
    private readonly aggregateFn: SessionAggregateFn<K, V>,
  ) {}

  count(materialized: Materialized<K, number> = {}, named?: Named): KTable<Windowed<K>, number> {
    return this.aggregateFn('KSTREAM-AGGREGATE-', {...materialized, valueSerde: materialized.valueSerde ?? Serdes.Long()}, named, () => 0, (_k, _v, agg) => agg + 1, (_k, a, b) => a + b)
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized: Materialized<K, V> = {}, named?: Named): KTable<Windowed<K>, V> {
    return this.aggregateFn<V>('KSTREAM-REDUCE-', materialized, named, null, (_k, v, agg) => reducer(agg, v), (_k, a, b) => reducer(a, b))
  }

  /** merger(key, a, b) combines two sessions' aggregates when a record bridges them. */
  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, merger: (key: K, a: VA, b: VA) => VA, materialized: Materialized<K, VA> = {}, named?: Named): KTable<Windowed<K>, VA> {
    return this.aggregateFn('KSTREAM-AGGREGATE-', materialized, named, initializer, aggregator, merger)
  }
}

/** Kafka's Suppressed.BufferConfig: only unbounded() (memory grows with the open windows). */
export const BufferConfig = {
  unbounded: (): {unbounded: true} => ({unbounded: true}),
}

/** Kafka's Suppressed: untilWindowCloses — one final result per window, when it closes. */
export const Suppressed = {
  untilWindowCloses: (_bufferConfig: {unbounded: true}): {untilWindowCloses: true; name?: string} => ({untilWindowCloses: true}),
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
    /** @internal How a join reads the table's current value of a key (undefined: not joinable). */
    readonly valueGetter?: ValueGetterSupplier<K, V>,
    /** @internal A windowed aggregation's result: the grace (for suppress) and the inner key serde. */
    readonly windowed?: {graceMs: number; keySerde: Serde<unknown> | undefined},
  ) {}

  private add(prefix: string, named: Named | undefined, make: () => Processor, stores: string[] = []): string {
    const name = named?.name ?? this.builder.newProcessorName(prefix)
    this.builder.topology.addNode({kind: 'processor', make, name, predecessors: [this.nodeName], stores})
    return name
  }

  toStream(named?: Named): KStream<K, V> {
    const name = this.add('KTABLE-TOSTREAM-', named, stateless((ctx, r) => ctx.forward({headers: r.headers, key: r.key, timestamp: r.timestamp, value: r.value})))
    return new KStream<K, V>(this.builder, name, this.keySerde, this.valueSerde, false)
  }

  /** Keeps the rows the predicate accepts; an update that fails it is forwarded as a delete (null). */
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V> {
    const keep = (k: unknown, v: unknown) => (v === null || v === undefined ? null : predicate(k as K, v as V) ? v : null)
    const name = this.add('KTABLE-FILTER-', named, stateless((ctx, r) => {
      const value = keep(r.key, r.value)
      const oldValue = r.oldValue === undefined ? undefined : keep(r.key, r.oldValue)
      // Kafka's KTableFilter: nothing to say when the row was and stays filtered out.
      if (value === null && r.oldValue !== undefined && oldValue === null) return
      ctx.forward({...r, oldValue, value})
    }))
    const parent = this.valueGetter
    const getter: ValueGetterSupplier<K, V> | undefined = parent && {
      make(ctx) {
        const get = parent.make(ctx)
        return (key) => {
          const found = get(key)
          return found && predicate(key, found.value) ? found : undefined
        }
      },
      stores: parent.stores,
    }
    return new KTable<K, V>(this.builder, name, this.keySerde, this.valueSerde, undefined, getter, this.windowed)
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V> {
    return this.filter((k, v) => !predicate(k, v), named)
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KTable<K, V2> {
    const map = (k: unknown, v: unknown) => (v === null || v === undefined ? null : mapper(v as V, k as K))
    const name = this.add('KTABLE-MAPVALUES-', named, stateless((ctx, r) => ctx.forward({...r, oldValue: r.oldValue === undefined ? undefined : map(r.key, r.oldValue), value: map(r.key, r.value)})))
    const parent = this.valueGetter
    const getter: ValueGetterSupplier<K, V2> | undefined = parent && {
      make(ctx) {
        const get = parent.make(ctx)
        return (key) => {
          const found = get(key)
          return found && {timestamp: found.timestamp, value: mapper(found.value, key)}
        }
      },
      stores: parent.stores,
    }
    return new KTable<K, V2>(this.builder, name, this.keySerde, undefined, undefined, getter, this.windowed)
  }

  /**
   * suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded())) of a windowed aggregation:
   * one final result per window, when stream time passes its end + grace (processors.ts).
   */
  suppress(suppressed: {untilWindowCloses: true; name?: string}): KTable<K, V> {
    if (!this.windowed) throw new TopologyException('suppress(untilWindowCloses) needs a windowed aggregation\'s KTable')
    const name = suppressed.name ?? this.builder.newProcessorName('KTABLE-SUPPRESS-')
    const storeName = suppressed.name ? `${suppressed.name}-store` : this.builder.newStoreName('KTABLE-SUPPRESS-')
    const keySerde = this.windowed.keySerde
    const valueSerde = this.valueSerde as Serde<unknown> | undefined
    this.builder.topology.addStore({keySerde, logged: true, name: storeName, valueSerde})
    this.builder.topology.addNode({kind: 'processor', make: suppressProcessor(storeName, this.windowed.graceMs, keySerde, valueSerde), name, predecessors: [this.nodeName], stores: [storeName]})
    return new KTable<K, V>(this.builder, name, this.keySerde, this.valueSerde, undefined, undefined, undefined)
  }

  /**
   * Table-table joins on the primary key (joins.ts): inner, left, outer; result timestamp max of
   * both sides. With a foreign-key extractor, the foreign-key join (fk-join.ts): each row joined
   * with the other table's row whose key the extractor takes from its value.
   */
  join<VO, VR>(other: KTable<K, VO>, joiner: (value: V, other: VO, key: K) => VR, named?: Named): KTable<K, VR>
  join<KO, VO, VR>(other: KTable<KO, VO>, foreignKeyExtractor: (value: V) => KO, joiner: (value: V, other: VO, key: K) => VR): KTable<K, VR>
  join(other: KTable<any, any>, a: unknown, b?: unknown): KTable<K, any> {
    if (typeof b === 'function') return this.foreignKeyJoin(false, other, a as never, b as never)
    return this.tableJoin('inner', other as never, a as never, b as Named | undefined) as never
  }

  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V, other: VO | null, key: K) => VR, named?: Named): KTable<K, VR>
  leftJoin<KO, VO, VR>(other: KTable<KO, VO>, foreignKeyExtractor: (value: V) => KO, joiner: (value: V, other: VO | null, key: K) => VR): KTable<K, VR>
  leftJoin(other: KTable<any, any>, a: unknown, b?: unknown): KTable<K, any> {
    if (typeof b === 'function') return this.foreignKeyJoin(true, other, a as never, b as never)
    return this.tableJoin('left', other as never, a as never, b as Named | undefined) as never
  }

  /** Kafka's foreign-key join topology: registration topic, subscription store, response topic, resolver (fk-join.ts). */
  private foreignKeyJoin(leftJoin: boolean, other: KTable<unknown, unknown>, extractor: (v: unknown) => unknown, joiner: (l: unknown, r: unknown, k: unknown) => unknown): KTable<K, unknown> {
    if (!this.storeName || !other.storeName) throw new TopologyException('a foreign-key join needs both tables materialized (from table())')
    const b = this.builder
    const t = b.topology
    const registrationTopic = `${b.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-')}-topic`
    const registration = b.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-')
    const registrationSink = b.newProcessorName('KTABLE-SINK-')
    const registrationSource = b.newProcessorName('KTABLE-SOURCE-')
    const subscriptionStore = b.newStoreName('KTABLE-FK-JOIN-SUBSCRIPTION-')
    const subscriptionReceive = b.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-')
    const subscriptionJoin = b.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-')
    const rightUpdate = b.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-')
    const responseTopic = `${b.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-')}-topic`
    const responseSink = b.newProcessorName('KTABLE-SINK-')
    const responseSource = b.newProcessorName('KTABLE-SOURCE-')
    const resolver = b.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-')
    const output = b.newProcessorName('KTABLE-FK-JOIN-OUTPUT-')
    b.newProcessorName('KTABLE-FK-JOIN-OUTPUT-') // Kafka takes one more number here (the result's store name)
    const spec: FkJoinSpec = {
      extractor, joiner, leftJoin, leftKeySerde: this.keySerde as Serde<unknown> | undefined, leftStore: this.storeName, leftValueSerde: this.valueSerde as Serde<unknown> | undefined,
      registrationTopic, responseTopic, rightKeySerde: other.keySerde as Serde<unknown> | undefined, rightStore: other.storeName, rightValueSerde: other.valueSerde as Serde<unknown> | undefined, subscriptionStore,
    }
    const bytes = Serdes.Bytes() as Serde<unknown>
    t.repartitionTopics.set(registrationTopic, {})
    t.repartitionTopics.set(responseTopic, {})
    t.addStore({logged: true, name: subscriptionStore})
    t.addNode({kind: 'processor', make: registrationProcessor(spec), name: registration, predecessors: [this.nodeName], stores: []})
    t.addNode({kind: 'sink', make: sinkProcessor(registrationTopic, other.keySerde as Serde<unknown> | undefined, subscriptionSerde() as Serde<unknown>, undefined, true), name: registrationSink, predecessors: [registration], stores: [], topic: registrationTopic})
    t.addNode({keySerde: other.keySerde as Serde<unknown> | undefined, kind: 'source', make: passThrough, name: registrationSource, predecessors: [], stores: [], topics: [registrationTopic], valueSerde: subscriptionSerde() as Serde<unknown>})
    t.addNode({kind: 'processor', make: subscriptionStoreProcessor(spec), name: subscriptionReceive, predecessors: [registrationSource], stores: [subscriptionStore]})
    t.addNode({kind: 'processor', make: subscriptionJoinProcessor(spec), name: subscriptionJoin, predecessors: [subscriptionReceive], stores: [other.storeName]})
    t.addNode({kind: 'processor', make: rightUpdateProcessor(spec), name: rightUpdate, predecessors: [other.nodeName], stores: [subscriptionStore]})
    t.addNode({kind: 'sink', make: sinkProcessor(responseTopic, bytes, responseSerde() as Serde<unknown>, undefined, true), name: responseSink, predecessors: [subscriptionJoin, rightUpdate], stores: [], topic: responseTopic})
    t.addNode({keySerde: bytes, kind: 'source', make: passThrough, name: responseSource, predecessors: [], stores: [], topics: [responseTopic], valueSerde: responseSerde() as Serde<unknown>})
    t.addNode({kind: 'processor', make: responseResolverProcessor(spec), name: resolver, predecessors: [responseSource], stores: [this.storeName]})
    t.addNode({kind: 'processor', make: passThrough, name: output, predecessors: [resolver], stores: []})
    return new KTable<K, unknown>(b, output, this.keySerde, undefined, undefined)
  }

  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V | null, other: VO | null, key: K) => VR, named?: Named): KTable<K, VR> {
    return this.tableJoin('outer', other as never, joiner as never, named) as never
  }

  /** Kafka's KTableImpl.doJoin: KTABLE-MERGE (named first), KTABLE-JOINTHIS, KTABLE-JOINOTHER. */
  private tableJoin(kind: TableJoinKind, other: KTable<K, unknown>, joiner: (l: unknown, r: unknown, k: unknown) => unknown, named?: Named): KTable<K, unknown> {
    const thisGetter = this.valueGetter as ValueGetterSupplier<unknown, unknown> | undefined
    const otherGetter = other.valueGetter as ValueGetterSupplier<unknown, unknown> | undefined
    if (!thisGetter || !otherGetter) throw new TopologyException('a table-table join needs both tables materialized (from table() or an aggregation)')
    const b = this.builder
    const mergeName = named?.name ?? b.newProcessorName('KTABLE-MERGE-')
    const thisName = named?.name !== undefined ? `${named.name}-join-this` : b.newProcessorName('KTABLE-JOINTHIS-')
    const otherName = named?.name !== undefined ? `${named.name}-join-other` : b.newProcessorName('KTABLE-JOINOTHER-')
    const t = b.topology
    t.addNode({kind: 'processor', make: tableTableJoinProcessor(kind, true, otherGetter, joiner), name: thisName, predecessors: [this.nodeName], stores: otherGetter.stores})
    t.addNode({kind: 'processor', make: tableTableJoinProcessor(kind, false, thisGetter, joiner), name: otherName, predecessors: [other.nodeName], stores: thisGetter.stores})
    t.addNode({kind: 'processor', make: passThrough, name: mergeName, predecessors: [thisName, otherName], stores: []})
    const getter: ValueGetterSupplier<K, unknown> = {
      make(ctx) {
        const l = thisGetter.make(ctx)
        const r = otherGetter.make(ctx)
        return (key) => {
          const lv = l(key)
          const rv = r(key)
          if ((kind === 'inner' && (!lv || !rv)) || (kind === 'left' && !lv) || (!lv && !rv)) return undefined
          return {timestamp: Math.max(lv?.timestamp ?? -1, rv?.timestamp ?? -1), value: joiner(lv ? lv.value : null, rv ? rv.value : null, key)}
        }
      },
      stores: [...new Set([...thisGetter.stores, ...otherGetter.stores])],
    }
    return new KTable<K, unknown>(b, mergeName, this.keySerde, undefined, undefined, getter)
  }
}

export type {NodeDef}
