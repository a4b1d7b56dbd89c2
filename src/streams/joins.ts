/**
 * Join processors, with Kafka Streams 4.0's semantics (checked against its recorded outputs in
 * shared/kafka-reference/streams/04-joins and against references computed in the tests):
 *
 * - stream-stream (KStreamKStreamJoin): each side first puts its record into its window store
 *   (the KSTREAM-WINDOWED node), then the join processor looks up the other side's store for the
 *   key within [ts - before, ts + after] (the other side's bounds reversed) and emits one result
 *   per match, timestamp max of both. Left/outer joins keep an unmatched record in the shared
 *   "outer" store (key: 8-byte timestamp, side byte 1 = left / 0 = right, key bytes; value: the
 *   list of values) and emit it with a null other side only once its window has closed (timestamp
 *   + after + grace < stream time), scanned in timestamp order when a record advances stream time,
 *   at most once per `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__` of wall clock.
 *   A record whose window is already past is emitted unmatched at once. The stream time and the
 *   scan's lower bound (minTime: the timestamp of the last entry the last scan looked at, as in
 *   Kafka) are shared by both sides of a task. Window stores keep records for before + after +
 *   grace behind their own stream time: older ones are neither found nor stored.
 * - null keys: left/outer joins emit a null-key record at once with a null other side (KIP-962),
 *   inner joins drop it; null values are dropped (`Skipping record due to null key or value`).
 */
import type {Serde} from './serdes.js'
import {changelogTopic, type KeyValueStore, type Processor, type ProcessorContext, type StreamRecord} from './topology.js'
import type {JoinWindows} from './windows.js'

/** State shared by the processors of one task (the two sides of a join): keyed by the task, which every context of the task inherits from. */
export function taskLocal<T>(map: WeakMap<object, T>, ctx: ProcessorContext, init: () => T): T {
  const task = Object.getPrototypeOf(ctx) as object
  let value = map.get(task)
  if (value === undefined) map.set(task, (value = init()))
  return value
}

/** A record's stored key in a window store: key bytes, 8-byte timestamp, 4-byte sequence number (Kafka's layout, duplicates kept). */
export function windowStoreKey(keyBytes: Buffer, timestamp: number, seq: number): Buffer {
  const out = Buffer.allocUnsafe(keyBytes.length + 12)
  keyBytes.copy(out, 0)
  out.writeBigInt64BE(BigInt(timestamp), keyBytes.length)
  out.writeUInt32BE(seq >>> 0, keyBytes.length + 8)
  return out
}

/** The rows of `keyBytes` with a timestamp in [from, to], in timestamp order. */
export function windowFetch(store: KeyValueStore, keyBytes: Buffer, from: number, to: number): {timestamp: number; value: Buffer}[] {
  if (to < from) return []
  const lo = windowStoreKey(keyBytes, from, 0)
  const hi = windowStoreKey(keyBytes, to + 1, 0)
  const out: {timestamp: number; value: Buffer}[] = []
  for (const row of store.range(lo, hi)) {
    if (row.key.length !== keyBytes.length + 12 || !row.key.subarray(0, keyBytes.length).equals(keyBytes)) continue
    const ts = Number(row.key.readBigInt64BE(keyBytes.length))
    if (ts >= from && ts <= to) out.push({timestamp: ts, value: row.value})
  }
  return out
}

/**
 * Deletes the rows of a window store whose 8-byte big-endian time, `timeOffsetFromEnd` bytes
 * before the end of the key, is before `cutoff` (the store's retention: Kafka drops whole
 * segments). A full scan: callers run it once stream time has moved one retention period on, so
 * the store holds about two retention periods of rows.
 */
export function purgeBefore(store: KeyValueStore, timeOffsetFromEnd: number, cutoff: number, timestamp: number): number {
  let purged = 0
  for (const row of store.range()) {
    if (row.key.length < timeOffsetFromEnd) continue
    if (Number(row.key.readBigInt64BE(row.key.length - timeOffsetFromEnd)) >= cutoff) continue
    store.put(row.key, null, timestamp)
    purged++
  }
  return purged
}

/** Runs `purge(streamTime)` when stream time has moved `periodMs` on since the last run. */
export class PurgeSchedule {
  private last = -1
  constructor(private readonly periodMs: number) {}
  maybe(streamTime: number, purge: () => void): void {
    if (this.last < 0) this.last = streamTime
    else if (streamTime - this.last >= Math.max(1, this.periodMs)) {
      this.last = streamTime
      purge()
    }
  }
}

interface SharedJoinState {
  streamTime: number
  minTime: number
  nextTimeToEmit: number
  /** Each window store's own stream time (largest timestamp put), by store name. */
  observed: Map<string, number>
  seq: number
  purges: Map<string, PurgeSchedule>
}

export interface StreamStreamJoinSpec {
  windows: JoinWindows
  thisStore: string
  otherStore: string
  outerStore: string | undefined
  keySerde: Serde<unknown> | undefined
  thisValueSerde: Serde<unknown> | undefined
  otherValueSerde: Serde<unknown> | undefined
  /** Left-side values, then right-side ones. */
  joiner: (left: unknown, right: unknown, key: unknown) => unknown
  /** Whether the left (this) side and the right (other) side emit unmatched records. */
  leftOuter: boolean
  rightOuter: boolean
}

/** The shared state and stores of one stream-stream join, for its four processors. */
export class StreamStreamJoin {
  private readonly shared = new WeakMap<object, SharedJoinState>()
  constructor(readonly spec: StreamStreamJoinSpec) {}

  private state(ctx: ProcessorContext): SharedJoinState {
    return taskLocal(this.shared, ctx, () => ({minTime: Number.MAX_SAFE_INTEGER, nextTimeToEmit: 0, observed: new Map(), purges: new Map(), seq: Math.floor(Math.random() * 2 ** 31), streamTime: -1}))
  }

  private retentionMs(): number {
    return this.spec.windows.sizeMs + this.spec.windows.graceMs
  }

  private serdes(ctx: ProcessorContext, store: string, valueSerde: Serde<unknown> | undefined) {
    return {ks: this.spec.keySerde ?? ctx.defaultSerde('key', `store ${store}`), topic: changelogTopic(ctx.applicationId, store), vs: valueSerde ?? ctx.defaultSerde('value', `store ${store}`)}
  }

  /** KSTREAM-WINDOWED: puts the side's record into its window store, then forwards it. */
  windowed(left: boolean): () => Processor {
    const storeName = left ? this.spec.thisStore : this.spec.otherStore
    return () => {
      let ctx: ProcessorContext
      let s: ReturnType<StreamStreamJoin['serdes']>
      return {
        init: (c) => {
          ctx = c
          s = this.serdes(c, storeName, left ? this.spec.thisValueSerde : this.spec.otherValueSerde)
        },
        process: (r) => {
          if (r.key !== null && r.key !== undefined && r.value !== null && r.value !== undefined) {
            const st = this.state(ctx)
            const observed = Math.max(st.observed.get(storeName) ?? -1, r.timestamp)
            st.observed.set(storeName, observed)
            const store = ctx.getStateStore(storeName)
            if (r.timestamp > observed - this.retentionMs()) {
              st.seq = (st.seq + 1) >>> 0
              store.put(windowStoreKey(s.ks.serialize(s.topic, r.key)!, r.timestamp, st.seq), s.vs.serialize(s.topic, r.value), r.timestamp)
            }
            // Rows older than the retention are never found again (fetches start after it).
            let purge = st.purges.get(storeName)
            if (!purge) st.purges.set(storeName, (purge = new PurgeSchedule(this.retentionMs())))
            purge.maybe(observed, () => purgeBefore(store, 12, observed - this.retentionMs() + 1, observed))
          }
          ctx.forward(r)
        },
      }
    }
  }

  /** KSTREAM-JOINTHIS/-OUTERTHIS (left = true) or KSTREAM-JOINOTHER/-OUTEROTHER. */
  join(left: boolean): () => Processor {
    const {windows, joiner} = this.spec
    const outer = left ? this.spec.leftOuter : this.spec.rightOuter
    const otherStoreName = left ? this.spec.otherStore : this.spec.thisStore
    const before = left ? windows.beforeMs : windows.afterMs
    const after = left ? windows.afterMs : windows.beforeMs
    const joinOf = (mine: unknown, other: unknown, key: unknown) => (left ? joiner(mine, other, key) : joiner(other, mine, key))
    return () => {
      let ctx: ProcessorContext
      let mine: ReturnType<StreamStreamJoin['serdes']>
      let other: ReturnType<StreamStreamJoin['serdes']>
      let emitIntervalMs = 1000
      return {
        init: (c) => {
          ctx = c
          mine = this.serdes(c, left ? this.spec.thisStore : this.spec.otherStore, left ? this.spec.thisValueSerde : this.spec.otherValueSerde)
          other = this.serdes(c, otherStoreName, left ? this.spec.otherValueSerde : this.spec.thisValueSerde)
          const configured = c.appConfig('__emit.interval.ms.kstreams.outer.join.spurious.results.fix__')
          if (typeof configured === 'number') emitIntervalMs = configured
        },
        process: (r) => {
          if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) {
            if (outer && (r.key === null || r.key === undefined) && r.value !== null && r.value !== undefined) ctx.forward({...r, value: joinOf(r.value, null, r.key)})
            else ctx.dropped(`Skipping record due to null key or value. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}]`)
            return
          }
          const st = this.state(ctx)
          const ts = r.timestamp
          const timeFrom = Math.max(0, ts - before)
          const timeTo = Math.max(0, ts + after)
          st.streamTime = Math.max(st.streamTime, ts)
          const outerStore = this.spec.outerStore ? ctx.getStateStore(this.spec.outerStore) : undefined
          if (outerStore && ts === st.streamTime) this.emitNonJoined(ctx, st, outerStore, after, emitIntervalMs)
          const keyBytes = mine.ks.serialize(mine.topic, r.key)!
          const otherObserved = st.observed.get(otherStoreName) ?? -1
          const from = Math.max(timeFrom, otherObserved - this.retentionMs() + 1)
          let needOuter = outer
          for (const row of windowFetch(ctx.getStateStore(otherStoreName), keyBytes, from, timeTo)) {
            needOuter = false
            if (outerStore) outerStore.put(outerKey(row.timestamp, !left, keyBytes), null, ts)
            ctx.forward({...r, timestamp: Math.max(ts, row.timestamp), value: joinOf(r.value, other.vs.deserialize(other.topic, row.value), r.key)})
          }
          if (!needOuter) return
          if (!outerStore || timeTo < st.streamTime) {
            ctx.forward({...r, value: joinOf(r.value, null, r.key)})
            return
          }
          st.minTime = Math.min(st.minTime, ts)
          const k = outerKey(ts, left, keyBytes)
          const existing = outerStore.get(k)
          const value = mine.vs.serialize(mine.topic, r.value) ?? Buffer.alloc(0)
          const len = Buffer.allocUnsafe(4)
          len.writeUInt32BE(value.length, 0)
          outerStore.put(k, Buffer.concat([existing?.value ?? Buffer.alloc(0), len, value]), ts)
        },
      }
    }
  }

  private emitNonJoined(ctx: ProcessorContext, st: SharedJoinState, store: KeyValueStore, after: number, emitIntervalMs: number): void {
    const {graceMs, afterMs, beforeMs} = this.spec.windows
    if (st.minTime + after + graceMs >= st.streamTime) return
    const now = Date.now()
    if (now < st.nextTimeToEmit) return
    st.nextTimeToEmit = (st.nextTimeToEmit === 0 ? now : st.nextTimeToEmit) + emitIntervalMs
    if (st.nextTimeToEmit <= now) st.nextTimeToEmit = now + emitIntervalMs
    st.minTime = Number.MAX_SAFE_INTEGER
    let leftOpen = false
    let rightOpen = false
    const thisSerdes = this.serdes(ctx, this.spec.thisStore, this.spec.thisValueSerde)
    const otherSerdes = this.serdes(ctx, this.spec.otherStore, this.spec.otherValueSerde)
    for (const row of store.range()) {
      if (leftOpen && rightOpen) break
      const ts = Number(row.key.readBigInt64BE(0))
      const isLeft = row.key[8] === 1
      st.minTime = ts
      // A left record's window reaches `after` past it, a right record's `before`.
      if (ts + (isLeft ? afterMs : beforeMs) + graceMs >= st.streamTime) {
        if (isLeft) leftOpen = true
        else rightOpen = true
        continue
      }
      const s = isLeft ? thisSerdes : otherSerdes
      const key = s.ks.deserialize(s.topic, row.key.subarray(9))
      for (let at = 0; at < row.value.length; ) {
        const len = row.value.readUInt32BE(at)
        const value = s.vs.deserialize(s.topic, row.value.subarray(at + 4, at + 4 + len))
        at += 4 + len
        const joined = isLeft ? this.spec.joiner(value, null, key) : this.spec.joiner(null, value, key)
        ctx.forward({headers: [], key, timestamp: ts, value: joined})
      }
      store.put(row.key, null, st.streamTime)
    }
  }
}

function outerKey(timestamp: number, left: boolean, keyBytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(9 + keyBytes.length)
  out.writeBigInt64BE(BigInt(timestamp), 0)
  out[8] = left ? 1 : 0
  keyBytes.copy(out, 9)
  return out
}

/** Reads a table's current value of a key: the table's stores and how to read them (Kafka's KTableValueGetter). */
export interface ValueGetterSupplier<K, V> {
  /** The stores the getter reads (connected to the joining processor). */
  stores: string[]
  make(ctx: ProcessorContext): (key: K) => {value: V; timestamp: number} | undefined
}

/** A getter over a key-value store holding a table (source table or aggregate). */
export function storeGetter<K, V>(storeName: string, keySerde: Serde<K> | undefined, valueSerde: Serde<V> | undefined, global = false): ValueGetterSupplier<K, V> {
  return {
    make(ctx) {
      const ks = (keySerde ?? ctx.defaultSerde('key', `store ${storeName}`)) as Serde<K>
      const vs = (valueSerde ?? ctx.defaultSerde('value', `store ${storeName}`)) as Serde<V>
      const topic = changelogTopic(ctx.applicationId, storeName)
      return (key) => {
        const found = ctx.getStateStore(storeName).get(ks.serialize(topic, key)!)
        if (!found) return undefined
        const value = vs.deserialize(topic, found.value)
        return value === null ? undefined : {timestamp: found.timestamp, value}
      }
    },
    stores: global ? [] : [storeName],
  }
}

export type TableJoinKind = 'inner' | 'left' | 'outer'

/**
 * A table-table join's processor for one side (KTableKTable{Inner,Left,Outer}Join and the
 * right-side processors): the update of this side joined with the other side's current value.
 * Result timestamp: max of both when the other side exists.
 */
export function tableTableJoinProcessor(kind: TableJoinKind, thisIsLeft: boolean, otherGetter: ValueGetterSupplier<unknown, unknown>, joiner: (left: unknown, right: unknown, key: unknown) => unknown): () => Processor {
  const thisOuter = kind === 'outer' || (kind === 'left' && thisIsLeft)
  const otherOuter = kind === 'outer' || (kind === 'left' && !thisIsLeft)
  return () => {
    let ctx: ProcessorContext
    let get: ReturnType<ValueGetterSupplier<unknown, unknown>['make']>
    const joinOf = (mine: unknown, other: unknown, key: unknown) => (thisIsLeft ? joiner(mine, other, key) : joiner(other, mine, key))
    /** The joined value of this side's value `mine` (null: absent) with the other side's `other`. */
    const result = (mine: unknown, other: {value: unknown} | undefined, key: unknown) => {
      const hasMine = mine !== null && mine !== undefined
      if (!other) return hasMine && thisOuter ? joinOf(mine, null, key) : null
      if (hasMine || otherOuter) return joinOf(hasMine ? mine : null, other.value, key)
      return null
    }
    return {
      init(c) {
        ctx = c
        get = otherGetter.make(c)
      },
      process(r: StreamRecord) {
        if (r.key === null || r.key === undefined) {
          ctx.dropped(`Skipping record due to null key. topic=[${ctx.topic}] partition=[${ctx.partition}] offset=[${ctx.offset}]`)
          return
        }
        const other = get(r.key)
        // Without the other side, only an outer side emits (its value, or a tombstone for its delete).
        if (!other && !thisOuter) return
        const timestamp = other ? Math.max(r.timestamp, other.timestamp) : r.timestamp
        const oldValue = r.oldValue === undefined ? undefined : result(r.oldValue, other, r.key)
        ctx.forward({headers: r.headers, key: r.key, oldValue, timestamp, value: result(r.value, other, r.key)})
      },
    }
  }
}
