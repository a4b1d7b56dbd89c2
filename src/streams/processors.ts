/**
 * Stateful DSL processors beyond the plain aggregations (kstream.ts): session-window aggregation,
 * suppress(untilWindowCloses), and the typed view of user stores that the Processor API's
 * context gives (KStream.process).
 */
import {PurgeSchedule, purgeBefore} from './joins.js'
import type {Serde} from './serdes.js'
import {changelogTopic, type Processor, type ProcessorContext, type StreamRecord, storeBinding, type Topology} from './topology.js'
import type {SessionWindows, SlidingWindows, Window, Windowed} from './windows.js'

// ---- Processor API ---------------------------------------------------------------------------

/** A user store as the Processor API sees it: keys and values through the store's serdes. */
export interface KeyValueStoreApi<K, V> {
  readonly name: string
  get(key: K): V | undefined
  /** null deletes. `timestamp` defaults to the current stream time. */
  put(key: K, value: V | null, timestamp?: number): void
  delete(key: K): V | undefined
  /** Every entry, in key byte order. */
  all(): [K, V][]
}

/** The context a user Processor gets in init(): stores typed by their serdes. */
export type ApiProcessorContext = Omit<ProcessorContext, 'getStateStore'> & {
  getStateStore<K = unknown, V = unknown>(name: string): KeyValueStoreApi<K, V>
}

/** A user processor (Kafka's Processor<KIn, VIn, KOut, VOut>). */
export interface ApiProcessor<K = unknown, V = unknown> {
  init?(context: ApiProcessorContext): void
  process(record: StreamRecord<K, V>): void
  close?(): void
}

export function typedContext(ctx: ProcessorContext, topology: Topology): ApiProcessorContext {
  const getStateStore = <K, V>(name: string): KeyValueStoreApi<K, V> => {
    const raw = ctx.getStateStore(name)
    const def = topology.stores.get(name)
    const ks = (def?.keySerde ?? ctx.defaultSerde('key', `store ${name}`)) as Serde<K>
    const vs = (def?.valueSerde ?? ctx.defaultSerde('value', `store ${name}`)) as Serde<V>
    const topic = changelogTopic(ctx.applicationId, name)
    const get = (key: K) => {
      const found = raw.get(ks.serialize(topic, key)!)
      return found ? (vs.deserialize(topic, found.value) ?? undefined) : undefined
    }
    return {
      all: () => raw.range().map((r) => [ks.deserialize(topic, r.key) as K, vs.deserialize(topic, r.value) as V]),
      delete(key) {
        const old = get(key)
        raw.put(ks.serialize(topic, key)!, null, Math.max(0, ctx.currentStreamTimeMs()))
        return old
      },
      get,
      name,
      put: (key, value, timestamp) => raw.put(ks.serialize(topic, key)!, value === null ? null : vs.serialize(topic, value), timestamp ?? Math.max(0, ctx.currentStreamTimeMs())),
    }
  }
  return Object.create(ctx, {getStateStore: {value: getStateStore}}) as ApiProcessorContext
}

// ---- session windows -------------------------------------------------------------------------

/** The session store's key (Kafka's SessionKeySchema, as in its changelog): key bytes, end (8), start (8). */
function sessionKey(keyBytes: Buffer, window: Window): Buffer {
  const out = Buffer.allocUnsafe(keyBytes.length + 16)
  keyBytes.copy(out, 0)
  out.writeBigInt64BE(BigInt(window.end), keyBytes.length)
  out.writeBigInt64BE(BigInt(window.start), keyBytes.length + 8)
  return out
}

/**
 * Kafka's KStreamSessionWindowAggregate: the sessions of the key whose end is at or after
 * ts - gap and whose start is at or before ts + gap are merged with the record (aggregates
 * combined by the merger in order of session end); if the merged session ends before stream
 * time - grace the record is dropped, else each merged-away session is deleted and forwarded as a
 * tombstone (timestamp: its end) and the merged session is stored and forwarded (timestamp: its end).
 */
export function sessionAggregateProcessor<K, V, VA>(
  storeName: string,
  windows: SessionWindows,
  keySerdeOpt: Serde<unknown> | undefined,
  valueSerdeOpt: Serde<unknown> | undefined,
  initializer: (() => VA) | null,
  aggregator: (key: K, value: V, aggregate: VA) => VA,
  merger: (key: K, a: VA, b: VA) => VA,
): () => Processor {
  return () => {
    let ctx: ProcessorContext
    let ks: Serde<unknown>
    let vs: Serde<unknown>
    let topic: string
    let streamTime = -1
    // Kafka's session store retention (gap + grace): a session ending at or before stream time -
    // retention is expired: no longer found, and deleted once stream time has moved a retention on.
    const retentionMs = windows.inactivityGapMs + windows.graceMs
    const purge = new PurgeSchedule(retentionMs)
    return {
      init(c) {
        ctx = c
        ;({ks, vs, topic} = storeBinding(c, storeName, keySerdeOpt, valueSerdeOpt))
      },
      process(r) {
        if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) {
          ctx.dropped(`Skipping record due to null key or value. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}]`)
          return
        }
        const ts = r.timestamp
        // The store's observed stream time (before this record's put) bounds what it still finds.
        const expiredBefore = streamTime < 0 ? Number.MIN_SAFE_INTEGER : streamTime - retentionMs + 1
        streamTime = Math.max(streamTime, ts)
        const closeTime = streamTime - windows.graceMs
        const store = ctx.getStateStore(storeName)
        const keyBytes = ks.serialize(topic, r.key)!
        const gap = windows.inactivityGapMs
        const from = Buffer.allocUnsafe(keyBytes.length + 8)
        keyBytes.copy(from, 0)
        from.writeBigInt64BE(BigInt(Math.max(0, ts - gap)), keyBytes.length)
        const to = Buffer.concat([keyBytes, Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])])
        const merged: {window: Window; agg: VA; storeKey: Buffer}[] = []
        let window: Window = {end: ts, start: ts}
        let agg: VA | null = initializer ? initializer() : null
        for (const row of store.range(from, to)) {
          if (row.key.length !== keyBytes.length + 16 || !row.key.subarray(0, keyBytes.length).equals(keyBytes)) continue
          const end = Number(row.key.readBigInt64BE(keyBytes.length))
          const start = Number(row.key.readBigInt64BE(keyBytes.length + 8))
          if (end < ts - gap || start > ts + gap || end < expiredBefore) continue
          const value = vs.deserialize(topic, row.value) as VA
          merged.push({agg: value, storeKey: row.key, window: {end, start}})
          agg = agg === null ? value : merger(r.key as K, agg, value)
          window = {end: Math.max(window.end, end), start: Math.min(window.start, start)}
        }
        if (window.end < closeTime) {
          ctx.dropped(`Skipping record for expired window. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}] timestamp=[${ts}] window=[${window.start},${window.end}] expiration=[${closeTime}] streamTime=[${streamTime}]`)
          return
        }
        for (const m of merged) {
          if (m.window.start === window.start && m.window.end === window.end) continue
          store.put(m.storeKey, null, ts)
          ctx.forward({headers: r.headers, key: {key: r.key, window: m.window} satisfies Windowed<unknown>, oldValue: m.agg, timestamp: m.window.end, value: null})
        }
        const newAgg = agg === null ? (r.value as unknown as VA) : aggregator(r.key as K, r.value as V, agg)
        store.put(sessionKey(keyBytes, window), vs.serialize(topic, newAgg), ts)
        ctx.forward({headers: r.headers, key: {key: r.key, window} satisfies Windowed<unknown>, timestamp: window.end, value: newAgg})
        // A session key ends with its end then its start (8 bytes each): the end is 16 bytes from the key's end.
        purge.maybe(streamTime, () => purgeBefore(store, 16, streamTime - retentionMs + 1, streamTime))
      },
    }
  }
}

// ---- suppress --------------------------------------------------------------------------------

/**
 * suppress(untilWindowCloses(unbounded())): keeps the latest update of each window in a store
 * (key: 8-byte window end, then the windowed key's bytes: key and 8-byte start) and forwards it
 * once stream time (the largest timestamp seen by this processor) reaches window end + grace, in
 * order of window end then key bytes, as Kafka's time-ordered buffer; the window's last update is
 * its only output. The buffer is logged, so a restarted task emits what it held.
 */
export function suppressProcessor(storeName: string, graceMs: number, keySerdeOpt: Serde<unknown> | undefined, valueSerdeOpt: Serde<unknown> | undefined): () => Processor {
  return () => {
    let ctx: ProcessorContext
    let ks: Serde<unknown>
    let vs: Serde<unknown>
    let topic: string
    let streamTime = -1
    return {
      init(c) {
        ctx = c
        ;({ks, vs, topic} = storeBinding(c, storeName, keySerdeOpt, valueSerdeOpt))
      },
      process(r) {
        const windowed = r.key as Windowed<unknown>
        streamTime = Math.max(streamTime, r.timestamp)
        const store = ctx.getStateStore(storeName)
        const keyBytes = ks.serialize(topic, windowed.key)!
        const k = Buffer.allocUnsafe(16 + keyBytes.length)
        k.writeBigInt64BE(BigInt(windowed.window.end), 0)
        keyBytes.copy(k, 8)
        k.writeBigInt64BE(BigInt(windowed.window.start), 8 + keyBytes.length)
        store.put(k, r.value === null ? null : vs.serialize(topic, r.value), r.timestamp)
        // Everything whose window end + grace <= stream time, oldest window first.
        const bound = Buffer.allocUnsafe(8)
        bound.writeBigInt64BE(BigInt(Math.max(0, streamTime - graceMs + 1)), 0)
        for (const row of store.range(undefined, bound)) {
          const end = Number(row.key.readBigInt64BE(0))
          const start = Number(row.key.readBigInt64BE(row.key.length - 8))
          const key = ks.deserialize(topic, row.key.subarray(8, row.key.length - 8))
          store.put(row.key, null, row.timestamp)
          ctx.forward({headers: [], key: {key, window: {end, start}} satisfies Windowed<unknown>, timestamp: row.timestamp, value: vs.deserialize(topic, row.value)})
        }
      },
    }
  }
}

// ---- sliding windows -------------------------------------------------------------------------

/**
 * Kafka's KStreamSlidingWindowAggregate, step for step (processInOrder, processEarly,
 * createWindows): the windows of the key starting in [ts - 2 x difference, ts + 1] are scanned in
 * start order; those containing the record are updated; the previous record's right window, the
 * record's left window (from the aggregate of the last window ending before it) and its right
 * window (a copy of the aggregate of the last window containing it, when a later record is in it)
 * are created as needed. A window is updated only while its end is at or after stream time - grace
 * (a closed one counts a dropped record); a record whose right window would already be closed is
 * dropped whole. The store key is the window store's (key, start, sequence 0); the value's
 * timestamp is the window's largest record timestamp, which is also the update's.
 */
export function slidingAggregateProcessor<K, V, VA>(
  storeName: string,
  windows: SlidingWindows,
  keySerdeOpt: Serde<unknown> | undefined,
  valueSerdeOpt: Serde<unknown> | undefined,
  initializer: (() => VA) | null,
  aggregator: (key: K, value: V, aggregate: VA) => VA,
): () => Processor {
  return () => {
    let ctx: ProcessorContext
    let ks: Serde<unknown>
    let vs: Serde<unknown>
    let topic: string
    let streamTime = -1
    const diff = windows.timeDifferenceMs
    // A window starting before stream time - grace - 3 x difference is neither updated nor read again.
    const purge = new PurgeSchedule(2 * diff + windows.graceMs)
    return {
      init(c) {
        ctx = c
        ;({ks, vs, topic} = storeBinding(c, storeName, keySerdeOpt, valueSerdeOpt))
      },
      process(r) {
        if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) {
          ctx.dropped(`Skipping record due to null key or value. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}]`)
          return
        }
        const ts = r.timestamp
        streamTime = Math.max(streamTime, ts)
        const closeTime = streamTime - windows.graceMs
        if (ts + 1 + diff <= closeTime) {
          ctx.dropped(`Skipping record for expired window. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}] timestamp=[${ts}] window=[${ts - diff},${ts}] expiration=[${closeTime}] streamTime=[${streamTime}]`)
          return
        }
        const store = ctx.getStateStore(storeName)
        purge.maybe(streamTime, () => purgeBefore(store, 12, streamTime - windows.graceMs - 3 * diff - 2, streamTime))
        const keyBytes = ks.serialize(topic, r.key)!
        const storeKey = (start: number) => {
          const k = Buffer.alloc(keyBytes.length + 12)
          keyBytes.copy(k, 0)
          k.writeBigInt64BE(BigInt(start), keyBytes.length)
          return k
        }
        type Agg = {value: VA | null; timestamp: number}
        const fetch = (from: number, to: number): {start: number; agg: Agg}[] => {
          const out: {start: number; agg: Agg}[] = []
          for (const row of store.range(storeKey(from), storeKey(to + 1))) {
            if (row.key.length !== keyBytes.length + 12 || !row.key.subarray(0, keyBytes.length).equals(keyBytes)) continue
            out.push({agg: {timestamp: row.timestamp, value: vs.deserialize(topic, row.value) as VA}, start: Number(row.key.readBigInt64BE(keyBytes.length))})
          }
          return out
        }
        const fresh = (): Agg => ({timestamp: ts, value: initializer ? initializer() : null})
        const update = (start: number, agg: Agg) => {
          const window = {end: start + diff, start}
          // The end is inclusive: a window ending at stream time - grace is still open.
          if (window.end < closeTime) {
            ctx.dropped(`Skipping record for expired window. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}] timestamp=[${ts}] window=[${window.start},${window.end}] expiration=[${closeTime}] streamTime=[${streamTime}]`)
            return
          }
          const newAgg = agg.value === null ? (r.value as unknown as VA) : aggregator(r.key as K, r.value as V, agg.value)
          const timestamp = agg.value === null ? ts : Math.max(ts, agg.timestamp)
          store.put(storeKey(start), vs.serialize(topic, newAgg), timestamp)
          ctx.forward({headers: r.headers, key: {key: r.key, window} satisfies Windowed<unknown>, timestamp, value: newAgg})
        }
        const createRightWindow = (agg: Agg) => {
          const window = {end: ts + 1 + diff, start: ts + 1}
          store.put(storeKey(window.start), vs.serialize(topic, agg.value), agg.timestamp)
          ctx.forward({headers: r.headers, key: {key: r.key, window} satisfies Windowed<unknown>, timestamp: agg.timestamp, value: agg.value})
        }
        const starts = new Set<number>()
        let rightWinAgg: Agg | undefined
        let rightWinAlreadyCreated = false
        let previousRecordTimestamp: number | undefined
        if (ts < diff) {
          // processEarly: one combined window [0, diff] holds every early record.
          let combined: Agg | undefined
          for (const w of fetch(0, ts + 1)) {
            starts.add(w.start)
            if (w.start === 0) {
              combined = w.agg
              if (w.agg.timestamp < ts) previousRecordTimestamp = w.agg.timestamp
            } else if (w.start <= ts) {
              rightWinAgg = w.agg
              update(w.start, w.agg)
            } else if (w.start === ts + 1) rightWinAlreadyCreated = true
          }
          if (!rightWinAgg && combined && combined.timestamp > ts) rightWinAgg = combined
          if (!rightWinAlreadyCreated && rightWinAgg && rightWinAgg.timestamp > ts) createRightWindow(rightWinAgg)
          if (previousRecordTimestamp !== undefined && !starts.has(previousRecordTimestamp + 1)) update(previousRecordTimestamp + 1, fresh())
          update(0, combined ?? fresh())
          return
        }
        // processInOrder
        let leftWinAgg: Agg | undefined
        let leftWinAlreadyCreated = false
        for (const w of fetch(Math.max(0, ts - 2 * diff), ts + 1)) {
          starts.add(w.start)
          const end = w.start + diff
          if (end < ts) {
            leftWinAgg = w.agg
            previousRecordTimestamp = w.agg.timestamp
          } else if (end === ts) {
            leftWinAlreadyCreated = true
            if (w.agg.timestamp < ts) previousRecordTimestamp = w.agg.timestamp
            update(w.start, w.agg)
          } else if (end > ts && w.start <= ts) {
            rightWinAgg = w.agg
            update(w.start, w.agg)
          } else if (w.start === ts + 1) rightWinAlreadyCreated = true
        }
        if (previousRecordTimestamp !== undefined) {
          const previousRightStart = previousRecordTimestamp + 1
          if (!starts.has(previousRightStart) && previousRightStart + diff >= ts) update(previousRightStart, fresh())
        }
        if (!leftWinAlreadyCreated) {
          const leftNotEmpty = previousRecordTimestamp !== undefined && ts - diff <= previousRecordTimestamp
          update(ts - diff, leftNotEmpty ? {timestamp: ts, value: leftWinAgg!.value} : fresh())
        }
        if (!rightWinAlreadyCreated && rightWinAgg && rightWinAgg.timestamp > ts) createRightWindow(rightWinAgg)
      },
    }
  }
}
