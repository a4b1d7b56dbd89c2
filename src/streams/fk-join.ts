/**
 * The foreign-key table-table join (KTable.join/leftJoin(other, foreignKeyExtractor, joiner)),
 * built as Kafka Streams builds it, with its node and topic names:
 *
 * 1. left side (KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION): each update of a left row sends
 *    subscriptions, keyed by the foreign key, to `<app>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<n>-topic`
 *    (co-partitioned with the right table's topic), with Kafka's instructions (hash of the left value):
 *    - inner join: a new row or an unchanged foreign key subscribes answered only if the right row
 *      exists (PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE: nothing, not a tombstone, while it is missing); a
 *      changed foreign key unsubscribes the old one silently (DELETE_KEY_NO_PROPAGATE) and subscribes
 *      the new one answered even when missing (PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE: the previous
 *      result is replaced by a tombstone); a deleted row sends a delete that propagates (DELETE_KEY_AND_PROPAGATE);
 *    - left join: a changed foreign key or a deletion sends DELETE_KEY_AND_PROPAGATE to the old one
 *      (an intermediate (left, null) or tombstone), then every update PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE
 *      to the new one; a null foreign key is sent with a null key (no store: answered at once with
 *      no right row), so the left row joins with null;
 * 2. right side: the subscription store (KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE, key = foreign
 *    key length + foreign key + primary key) records who references each right row; a subscription
 *    is answered at once with the right row's current value, and each update of a right row is
 *    sent to every subscriber, to `<app>-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-<n>-topic` keyed by
 *    the left row's primary key (co-partitioned with the left table);
 * 3. left side again (KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR): a response whose
 *    hash is not the current left value's (null for a deleted row) is stale and dropped; else the
 *    joined value (a tombstone when the left row is gone or, inner, the right row is missing; left:
 *    the joiner with null) is forwarded.
 * Subscription and response values are kcli's own encoding (JSON with base64 bytes), not Kafka's
 * binary SubscriptionWrapper/SubscriptionResponseWrapper: the topics are internal to the application.
 */
import {createHash} from 'node:crypto'
import type {Serde} from './serdes.js'
import {changelogTopic, type Processor, type ProcessorContext} from './topology.js'

type Op = 'subscribe' | 'unsubscribe' | 'delete'
interface Subscription {
  /** subscribe; unsubscribe (DELETE_KEY_NO_PROPAGATE); delete (DELETE_KEY_AND_PROPAGATE). */
  op: Op
  pk: string
  hash: string | null
  /** For subscribe: answered only when the right row exists (PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE), else always. */
  onlyIfAvailable?: boolean
}
interface Response {
  hash: string | null
  value: string | null
}

const b64 = (b: Buffer | null) => (b === null ? null : b.toString('base64'))
const hashOf = (b: Buffer | null) => (b === null ? null : createHash('md5').update(b).digest('base64'))

export interface FkJoinSpec {
  leftStore: string
  rightStore: string
  subscriptionStore: string
  registrationTopic: string
  responseTopic: string
  leftKeySerde: Serde<unknown> | undefined
  leftValueSerde: Serde<unknown> | undefined
  rightKeySerde: Serde<unknown> | undefined
  rightValueSerde: Serde<unknown> | undefined
  extractor: (leftValue: unknown) => unknown
  joiner: (left: unknown, right: unknown, key: unknown) => unknown
  leftJoin: boolean
}

function serdes(ctx: ProcessorContext, spec: FkJoinSpec) {
  return {
    lk: spec.leftKeySerde ?? ctx.defaultSerde('key', `store ${spec.leftStore}`),
    lv: spec.leftValueSerde ?? ctx.defaultSerde('value', `store ${spec.leftStore}`),
    rk: spec.rightKeySerde ?? ctx.defaultSerde('key', `store ${spec.rightStore}`),
    rv: spec.rightValueSerde ?? ctx.defaultSerde('value', `store ${spec.rightStore}`),
  }
}

function withState(spec: FkJoinSpec, fn: (ctx: ProcessorContext, s: ReturnType<typeof serdes>, r: Parameters<Processor['process']>[0]) => void): () => Processor {
  return () => {
    let ctx: ProcessorContext
    let s: ReturnType<typeof serdes>
    return {
      init(c) {
        ctx = c
        s = serdes(c, spec)
      },
      process: (r) => fn(ctx, s, r),
    }
  }
}

/** 1: the left table's updates become subscriptions keyed by the foreign key (to the registration sink). */
export function registrationProcessor(spec: FkJoinSpec): () => Processor {
  return withState(spec, (ctx, s, r) => {
    const topic = `${ctx.applicationId}-${spec.registrationTopic}`
    const pk = b64(s.lk.serialize(topic, r.key))!
    const newFk = r.value === null || r.value === undefined ? null : spec.extractor(r.value)
    const oldFk = r.oldValue === null || r.oldValue === undefined ? null : spec.extractor(r.oldValue)
    const send = (fk: unknown, sub: Subscription) => ctx.forward({headers: [], key: fk ?? null, timestamp: r.timestamp, value: sub})
    const hasOld = r.oldValue !== null && r.oldValue !== undefined
    const hasNew = r.value !== null && r.value !== undefined
    const isNull = (fk: unknown) => fk === null || fk === undefined
    const hash = hasNew ? hashOf(s.lv.serialize(topic, r.value)) : null
    const fkBytes = (fk: unknown) => (isNull(fk) ? null : b64(s.rk.serialize(topic, fk)))
    const changed = hasOld && fkBytes(oldFk) !== fkBytes(newFk)
    if (spec.leftJoin) {
      if (!hasOld && !hasNew) return
      if (hasOld && !isNull(oldFk) && changed) send(oldFk, {hash, op: 'delete', pk})
      send(newFk, {hash, op: 'subscribe', pk})
      return
    }
    if (!hasNew) {
      if (hasOld && !isNull(oldFk)) send(oldFk, {hash: null, op: 'delete', pk})
      return
    }
    if (isNull(newFk)) {
      // An inner join has no result for a row without a foreign key: the previous one is deleted.
      if (hasOld && !isNull(oldFk)) send(oldFk, {hash, op: 'delete', pk})
      return
    }
    if (changed && !isNull(oldFk)) send(oldFk, {hash: null, op: 'unsubscribe', pk})
    send(newFk, {hash, onlyIfAvailable: !changed, op: 'subscribe', pk})
  })
}

/** The serde of the registration topic: foreign key by the right table's key serde, value JSON. */
export function subscriptionSerde(): Serde<Subscription> {
  return {
    deserialize: (_t, d) => (d === null ? null : (JSON.parse(d.toString()) as Subscription)),
    serialize: (_t, v) => (v === null ? null : Buffer.from(JSON.stringify(v))),
  }
}

export function responseSerde(): Serde<Response> {
  return {
    deserialize: (_t, d) => (d === null ? null : (JSON.parse(d.toString()) as Response)),
    serialize: (_t, v) => (v === null ? null : Buffer.from(JSON.stringify(v))),
  }
}

function subscriptionKey(fk: Buffer, pk: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + fk.length + pk.length)
  out.writeUInt32BE(fk.length, 0)
  fk.copy(out, 4)
  pk.copy(out, 4 + fk.length)
  return out
}

/** 2a: records the subscription (KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR, the subscription store). */
export function subscriptionStoreProcessor(spec: FkJoinSpec): () => Processor {
  return withState(spec, (ctx, s, r) => {
    const sub = r.value as Subscription | null
    if (!sub) return
    // A left join's row without a foreign key: nothing to store, answered with no right row.
    if (r.key === null || r.key === undefined) {
      if (sub.op !== 'unsubscribe') ctx.forward(r)
      return
    }
    const topic = changelogTopic(ctx.applicationId, spec.subscriptionStore)
    const key = subscriptionKey(s.rk.serialize(topic, r.key)!, Buffer.from(sub.pk, 'base64'))
    const store = ctx.getStateStore(spec.subscriptionStore)
    if (sub.op === 'subscribe') store.put(key, Buffer.from(sub.hash ?? ''), r.timestamp)
    else store.put(key, null, r.timestamp)
    ctx.forward(r)
  })
}

/** 2b: answers a subscription with the right row's current value (to the response sink, keyed by the primary key). */
export function subscriptionJoinProcessor(spec: FkJoinSpec): () => Processor {
  return withState(spec, (ctx, s, r) => {
    const sub = r.value as Subscription
    if (sub.op === 'unsubscribe') return
    const pk = Buffer.from(sub.pk, 'base64')
    if (sub.op === 'delete') {
      ctx.forward({headers: [], key: pk, timestamp: r.timestamp, value: {hash: sub.hash, value: null} satisfies Response})
      return
    }
    const topic = changelogTopic(ctx.applicationId, spec.rightStore)
    const right = r.key === null || r.key === undefined ? undefined : ctx.getStateStore(spec.rightStore).get(s.rk.serialize(topic, r.key)!)
    if (!right && sub.onlyIfAvailable) return
    ctx.forward({headers: [], key: pk, timestamp: right ? Math.max(r.timestamp, right.timestamp) : r.timestamp, value: {hash: sub.hash, value: right ? b64(right.value) : null} satisfies Response})
  })
}

/** 2c: a right row's update goes to every subscriber (KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR after the right table). */
export function rightUpdateProcessor(spec: FkJoinSpec): () => Processor {
  return withState(spec, (ctx, s, r) => {
    if (r.key === null || r.key === undefined) return
    const topic = changelogTopic(ctx.applicationId, spec.subscriptionStore)
    const fk = s.rk.serialize(topic, r.key)!
    const prefix = subscriptionKey(fk, Buffer.alloc(0))
    const end = subscriptionKey(fk, Buffer.alloc(0))
    // The prefix's successor: the last byte of the length + key incremented (keys are at most 2^32 - 1 bytes).
    let i = end.length - 1
    while (i >= 0 && end[i] === 0xff) end[i--] = 0
    if (i >= 0) end[i]!++
    const valueBytes = r.value === null || r.value === undefined ? null : s.rv.serialize(topic, r.value)
    for (const row of ctx.getStateStore(spec.subscriptionStore).range(prefix, i >= 0 ? end : undefined)) {
      const pk = row.key.subarray(4 + fk.length)
      ctx.forward({headers: [], key: Buffer.from(pk), timestamp: r.timestamp, value: {hash: row.value.toString(), value: b64(valueBytes)} satisfies Response})
    }
  })
}

/** 3: a response joined with the left row if it is still current (KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR). */
export function responseResolverProcessor(spec: FkJoinSpec): () => Processor {
  return withState(spec, (ctx, s, r) => {
    const response = r.value as Response | null
    const pkBytes = r.key as Buffer
    if (!response || !pkBytes) return
    const topic = changelogTopic(ctx.applicationId, spec.leftStore)
    const key = s.lk.deserialize(topic, pkBytes)
    const left = ctx.getStateStore(spec.leftStore).get(pkBytes)
    // Stale unless it was sent for the left row as it is now (a deleted row: a null hash).
    if ((left ? hashOf(left.value) : null) !== response.hash) return
    if (!left) {
      ctx.forward({headers: [], key, timestamp: r.timestamp, value: null})
      return
    }
    const leftValue = s.lv.deserialize(topic, left.value)
    const rightValue = response.value === null ? null : s.rv.deserialize(topic, Buffer.from(response.value, 'base64'))
    const value = rightValue === null ? (spec.leftJoin ? spec.joiner(leftValue, null, key) : null) : spec.joiner(leftValue, rightValue, key)
    ctx.forward({headers: [], key, timestamp: Math.max(r.timestamp, left.timestamp), value})
  })
}
