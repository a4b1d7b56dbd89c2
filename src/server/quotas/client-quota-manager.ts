/**
 * Client quotas (issue 15): Kafka's ClientQuotaManager, ControllerMutationQuotaManager and the
 * rate model under them (org.apache.kafka.common.metrics: Rate over a SampledStat, TokenBucket).
 *
 * Quotas live in the metadata store (clientQuotas(), one entry per entity); this manager resolves
 * which entity's quota applies to a (user, client id) with Kafka's precedence (KIP-55), per quota
 * type, and keeps one sensor per resolved entity — a quota on `/users/alice` is shared by every
 * client id alice uses, a quota on `/users/<default>` is each user's own:
 *
 *   1 /users/<u>/clients/<c>          sensor (u, c)
 *   2 /users/<u>/clients/<default>    sensor (u, c)
 *   3 /users/<u>                      sensor (u, '')
 *   4 /users/<default>/clients/<c>    sensor (u, c)
 *   5 /users/<default>/clients/<default>  sensor (u, c)
 *   6 /users/<default>                sensor (u, '')
 *   7 /clients/<c>                    sensor ('', c)
 *   8 /clients/<default>              sensor ('', c)
 *
 * in Kafka's two steps (DefaultQuotaCallback: the sensor's tags, then the quota of the tags; see
 * resolveQuota), which differ from a plain first match for an empty client id and when only one
 * kind of entity has quotas.
 *
 * Rates as Kafka measures them: `quota.window.num` samples (11) of `quota.window.size.seconds`
 * (1 s); a sensor's rate is the sum of its live samples over the time they span, but never less
 * than (samples - 1) windows — so a new sensor may take that much in a burst before it is over.
 * A value is recorded, then the rate checked; over quota, the throttle time is
 * (rate - quota) / quota * window (QuotaUtils.throttleTime): how long the client must stay
 * silent for the rate to come back to the quota. controller_mutation_rate uses a token bucket
 * (burst samples * window * quota, refilled at the quota), strict (THROTTLING_QUOTA_EXCEEDED once
 * the bucket is below zero) or permissive (recorded, only throttled) as Kafka.
 *
 * Sensors unused for an hour are dropped (Kafka's InactiveSensorExpirationTimeSeconds).
 */
import {quotaEntityKey, type QuotaEntity, type StoredClientQuota} from '../controller/metadata-store.js'

/** The user name quotas are keyed on: the principal's name (`User:alice` -> alice; ANONYMOUS without authentication). */
export function quotaUser(principal: string): string {
  const colon = principal.indexOf(':')
  return colon < 0 ? principal : principal.slice(colon + 1)
}

/** Kafka's message of THROTTLING_QUOTA_EXCEEDED. */
export const THROTTLING_QUOTA_EXCEEDED_MESSAGE = 'The throttling quota has been exceeded.'

/**
 * The controller mutation quota of one request (CreateTopics strict from v6, CreatePartitions from
 * v3, DeleteTopics from v5, as KIP-599): unbounded without a quota manager or quota.
 */
export function mutationQuotaOf(ctx: {apiVersion: number; header: {clientId: string | null}; connection: {security: {principal: string}}; broker: {quotas?: ClientQuotaManager}}, strictSinceVersion: number): ControllerMutationQuota {
  return ctx.broker.quotas?.controllerMutationQuota(quotaUser(ctx.connection.security.principal), ctx.header.clientId ?? '', ctx.apiVersion, strictSinceVersion) ?? UNBOUNDED
}

export const QUOTA_KEYS = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate'] as const
export type ClientQuotaType = (typeof QUOTA_KEYS)[number]
/** The keys an IP entity takes (connection_creation_rate: accepted and stored, not enforced). */
export const IP_QUOTA_KEYS = ['connection_creation_rate'] as const
/** Kafka's config types of the quota keys (QuotaConfig): integral ones reject fractions. */
export const QUOTA_KEY_TYPES: Record<string, 'long' | 'double' | 'int'> = {
  producer_byte_rate: 'long',
  consumer_byte_rate: 'long',
  request_percentage: 'double',
  controller_mutation_rate: 'double',
  connection_creation_rate: 'int',
}

export interface QuotaWindowConfig {
  /** quota.window.num */
  samples: number
  /** quota.window.size.seconds, in ms */
  windowMs: number
}

export const DEFAULT_QUOTA_WINDOWS: QuotaWindowConfig = {samples: 11, windowMs: 1000}

const INACTIVE_SENSOR_MS = 3600_000
const MAX_THROTTLE_MS = 2 ** 31 - 1

interface Sample {
  value: number
  eventCount: number
  startTimeMs: number
  lastEventMs: number
}

/** Kafka's Rate over SampledStat (samples + 1 slots, obsolete ones reset), per second. */
export class Rate {
  private readonly slots: Sample[] = []
  private current = 0

  constructor(private readonly config: QuotaWindowConfig) {}

  record(value: number, now: number): void {
    let sample = this.currentSample(now)
    if (now - sample.startTimeMs >= this.config.windowMs) sample = this.advance(now)
    sample.value += value
    sample.eventCount++
    sample.lastEventMs = now
  }

  /** The rate per second at `now`. */
  measure(now: number): number {
    this.purge(now)
    const sum = this.slots.reduce((s, x) => s + x.value, 0)
    return sum / (this.windowSize(now) / 1000)
  }

  /** The span (ms) the rate divides by: from the oldest sample's start, at least samples - 1 windows. */
  windowSize(now: number): number {
    this.purge(now)
    let elapsed = now - this.oldest(now).startTimeMs
    const full = Math.floor(elapsed / this.config.windowMs)
    const minFull = this.config.samples - 1
    if (full < minFull) elapsed += (minFull - full) * this.config.windowMs
    return Math.max(elapsed, 1)
  }

  private currentSample(now: number): Sample {
    if (this.slots.length === 0) this.slots.push(newSample(now))
    return this.slots[this.current]!
  }

  private advance(now: number): Sample {
    this.current = (this.current + 1) % (this.config.samples + 1)
    if (this.current >= this.slots.length) {
      const s = newSample(now)
      this.slots.push(s)
      return s
    }
    const s = this.slots[this.current]!
    resetSample(s, now)
    return s
  }

  private oldest(now: number): Sample {
    if (this.slots.length === 0) this.slots.push(newSample(now))
    let oldest = this.slots[0]!
    for (const s of this.slots) if (s.startTimeMs < oldest.startTimeMs) oldest = s
    return oldest
  }

  private purge(now: number): void {
    const expireAge = this.config.samples * this.config.windowMs
    for (const s of this.slots) if (now - s.lastEventMs >= expireAge) resetSample(s, now)
  }
}

function newSample(now: number): Sample {
  return {value: 0, eventCount: 0, startTimeMs: now, lastEventMs: now}
}

function resetSample(s: Sample, now: number): void {
  s.value = 0
  s.eventCount = 0
  s.startTimeMs = now
  s.lastEventMs = now
}

/** Kafka's TokenBucket: starts full (samples * window * quota tokens), refills at the quota per second. */
export class TokenBucket {
  private tokens = 0
  private lastUpdateMs = 0

  constructor(private readonly config: QuotaWindowConfig) {}

  measure(quota: number, now: number): number {
    this.refill(quota, now)
    return this.tokens
  }

  record(quota: number, value: number, now: number): void {
    this.refill(quota, now)
    this.tokens = Math.min(this.burst(quota), this.tokens - value)
  }

  private burst(quota: number): number {
    return this.config.samples * (this.config.windowMs / 1000) * quota
  }

  private refill(quota: number, now: number): void {
    this.tokens = Math.min(this.burst(quota), this.tokens + (quota * (now - this.lastUpdateMs)) / 1000)
    this.lastUpdateMs = now
  }
}

/** The quota that applies to a client for one quota type, and whose sensor records it. */
export interface ResolvedQuota {
  quota: number
  /** The sensor's tags as Kafka's metrics have them: user ('' when the quota is not per user) and client id. */
  user: string
  clientId: string
}

/** Kafka's QuotaTypes flags: which kinds of entity have a quota of one type. */
const CLIENT_ID_QUOTAS = 1
const USER_QUOTAS = 2
const USER_CLIENT_ID_QUOTAS = 4

/** The kind of entity a quota is set on, as ClientQuotaManager.updateQuota sets quotaTypesEnabled. */
function quotaKind(entity: QuotaEntity): number {
  if (entity.user !== undefined) return entity['client-id'] !== undefined ? USER_CLIENT_ID_QUOTAS : USER_QUOTAS
  return CLIENT_ID_QUOTAS
}

/** The quotas of one type: entity key -> value, and the kinds of entity that have one. */
export interface QuotasOfType {
  values: ReadonlyMap<string, number>
  kinds: number
}

/** Collects the quotas of `type` from the store's entities (IP entities never carry client quotas). */
export function quotasOfType(entities: Iterable<StoredClientQuota>, type: ClientQuotaType): QuotasOfType {
  const values = new Map<string, number>()
  let kinds = 0
  for (const q of entities) {
    const value = q.values[type]
    if (value === undefined || q.entity.ip !== undefined) continue
    values.set(quotaEntityKey(q.entity), value)
    kinds |= quotaKind(q.entity)
  }
  return {values, kinds}
}

const key = (entity: QuotaEntity) => quotaEntityKey(entity)

/**
 * Kafka's DefaultQuotaCallback, in its two steps. First the sensor's tags (quotaMetricTags): with
 * one kind of entity configured they follow from it alone (client-id quotas: ('', client); user
 * quotas: (user, ''); user+client-id quotas: (user, client)); with several kinds, the first of the
 * eight entities of the precedence that exists decides them. Then the quota of those tags
 * (quotaLimit): both tags set, the user+client-id entities (exact, user with the default client,
 * the default user with the client, both defaults); only the user, /users/<u> then the default
 * user; only the client id, /clients/<c> then the default client; neither, none. So a client with
 * an empty client id gets no client-id quota, not even the default one (its tags are ('', '')),
 * and under user+client-id quotas it falls to the user's own quota, as in Kafka.
 */
export function resolveQuota(quotas: QuotasOfType, user: string, clientId: string): ResolvedQuota | undefined {
  const has = (entity: QuotaEntity) => quotas.values.has(key(entity))
  let tags: [string, string]
  switch (quotas.kinds) {
    case 0:
      return undefined
    case CLIENT_ID_QUOTAS:
      tags = ['', clientId]
      break
    case USER_QUOTAS:
      tags = [user, '']
      break
    case USER_CLIENT_ID_QUOTAS:
      tags = [user, clientId]
      break
    default:
      if (has({user, 'client-id': clientId}) || has({user, 'client-id': null})) tags = [user, clientId]
      else if (has({user})) tags = [user, '']
      else if (has({user: null, 'client-id': clientId}) || has({user: null, 'client-id': null})) tags = [user, clientId]
      else if (has({user: null})) tags = [user, '']
      else tags = ['', clientId]
  }
  const quota = quotaLimit(quotas, tags[0], tags[1])
  return quota === undefined ? undefined : {quota, user: tags[0], clientId: tags[1]}
}

/** DefaultQuotaCallback.quotaLimit: the quota of a sensor's tags, undefined when none. */
function quotaLimit(quotas: QuotasOfType, user: string, clientId: string): number | undefined {
  const get = (entity: QuotaEntity) => quotas.values.get(key(entity))
  if (user !== '' && clientId !== '') return get({user, 'client-id': clientId}) ?? get({user, 'client-id': null}) ?? get({user: null, 'client-id': clientId}) ?? get({user: null, 'client-id': null})
  if (user !== '') return get({user}) ?? get({user: null})
  if (clientId !== '') return get({'client-id': clientId}) ?? get({'client-id': null})
  return undefined
}

interface Sensor {
  rate: Rate
  bucket?: TokenBucket
  lastUsedMs: number
}

/** A controller mutation quota of one request (ControllerMutationQuota): strict or permissive. */
export interface ControllerMutationQuota {
  /** Strict: whether the bucket is already spent (the next mutation is refused). */
  isExceeded(): boolean
  /** Records `permits` mutations; strict: refuses (returns false, nothing recorded) when the bucket is below zero. */
  record(permits: number): boolean
  /** The throttle time to answer with, less the time since it was recorded. */
  throttleTime(): number
}

const UNBOUNDED: ControllerMutationQuota = {isExceeded: () => false, record: () => true, throttleTime: () => 0}

export interface QuotaSource {
  clientQuotas(): StoredClientQuota[]
  clientQuotasVersion(): number
}

export class ClientQuotaManager {
  private version = -1
  private byType = new Map<ClientQuotaType, QuotasOfType>()
  /** Resolved quotas by type, user and client id, valid until the store's quotas change. */
  private readonly resolved = new Map<string, ResolvedQuota | null>()
  private readonly sensors = new Map<string, Sensor>()
  private lastSweepMs = 0
  /** Throttle times by Kafka's quota sensor group (issue 16), when metrics are on. */
  metrics?: {throttled(type: 'Produce' | 'Fetch' | 'Request', ms: number): void}

  constructor(
    private readonly source: QuotaSource,
    readonly windows: QuotaWindowConfig = DEFAULT_QUOTA_WINDOWS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any entity has a quota of `type` (Kafka's quotasEnabled): nothing is recorded otherwise. */
  quotasEnabled(type: ClientQuotaType): boolean {
    this.refresh()
    return (this.byType.get(type)?.kinds ?? 0) !== 0
  }

  /** The quota that applies to (user, clientId) for `type`, undefined when none. */
  quotaFor(type: ClientQuotaType, user: string, clientId: string): ResolvedQuota | undefined {
    this.refresh()
    const quotas = this.byType.get(type)
    if (!quotas || quotas.kinds === 0) return undefined
    const cacheKey = `${type}\u0000${user}\u0000${clientId}`
    let r = this.resolved.get(cacheKey)
    if (r === undefined) {
      if (this.resolved.size >= 10_000) this.resolved.clear()
      r = resolveQuota(quotas, user, clientId) ?? null
      this.resolved.set(cacheKey, r)
    }
    return r ?? undefined
  }

  /**
   * Records `value` (bytes, or percent-seconds of request time) for the client and returns the
   * throttle time in ms (0 within quota), as ClientQuotaManager.maybeRecordAndGetThrottleTimeMs.
   */
  recordAndGetThrottleTimeMs(type: ClientQuotaType, user: string, clientId: string, value: number, now = this.now()): number {
    const resolved = this.quotaFor(type, user, clientId)
    if (!resolved) return 0
    const sensor = this.sensor(type, resolved, now)
    sensor.rate.record(value, now)
    const rate = sensor.rate.measure(now)
    if (rate <= resolved.quota) return 0
    // An int32 on the wire: a tiny quota must not overflow it. request_percentage is bounded by one
    // window (ClientRequestQuotaManager: QuotaUtils.boundedThrottleTime, quota.window.size.seconds).
    const max = type === 'request_percentage' ? this.windows.windowMs : MAX_THROTTLE_MS
    const throttleMs = Math.min(max, Math.round(((rate - resolved.quota) / resolved.quota) * sensor.rate.windowSize(now)))
    this.metrics?.throttled(type === 'producer_byte_rate' ? 'Produce' : type === 'consumer_byte_rate' ? 'Fetch' : 'Request', throttleMs)
    return throttleMs
  }

  /** Takes back a recorded value (Kafka's unrecordQuotaSensor: a throttled fetch answered empty). */
  unrecord(type: ClientQuotaType, user: string, clientId: string, value: number, now = this.now()): void {
    const resolved = this.quotaFor(type, user, clientId)
    if (resolved) this.sensor(type, resolved, now).rate.record(-value, now)
  }

  /**
   * The most a response may carry without a guaranteed throttle (getMaxValueInQuotaWindow: the
   * quota times samples - 1 windows), as the int KafkaApis makes of it (truncated, at most
   * 2^31 - 1); 2^31 - 1 without a quota.
   */
  maxValueInQuotaWindow(type: ClientQuotaType, user: string, clientId: string): number {
    const resolved = this.quotaFor(type, user, clientId)
    if (!resolved) return MAX_THROTTLE_MS
    return Math.min(MAX_THROTTLE_MS, Math.trunc(resolved.quota * (this.windows.samples - 1) * (this.windows.windowMs / 1000)))
  }

  /** A controller mutation quota for one request: strict from `strictSinceVersion` on, else permissive. */
  controllerMutationQuota(user: string, clientId: string, apiVersion: number, strictSinceVersion: number): ControllerMutationQuota {
    const resolved = this.quotaFor('controller_mutation_rate', user, clientId)
    if (!resolved) return UNBOUNDED
    const strict = apiVersion >= strictSinceVersion
    let lastThrottleMs = 0
    let lastRecordedMs = 0
    const violated = (tokens: number, now: number) => {
      lastThrottleMs = Math.min(MAX_THROTTLE_MS, Math.round((-tokens / resolved.quota) * 1000))
      lastRecordedMs = now
    }
    return {
      isExceeded: () => strict && lastThrottleMs > 0,
      record: (permits) => {
        const now = this.now()
        const sensor = this.sensor('controller_mutation_rate', resolved, now)
        const bucket = (sensor.bucket ??= new TokenBucket(this.windows))
        if (strict) {
          const tokens = bucket.measure(resolved.quota, now)
          if (tokens < 0) {
            violated(tokens, now)
            return false
          }
          bucket.record(resolved.quota, permits, now)
          sensor.rate.record(permits, now)
          return true
        }
        bucket.record(resolved.quota, permits, now)
        sensor.rate.record(permits, now)
        const tokens = bucket.measure(resolved.quota, now)
        if (tokens < 0) violated(tokens, now)
        return true
      },
      throttleTime: () => Math.max(0, lastThrottleMs - (this.now() - lastRecordedMs)),
    }
  }

  private sensor(type: ClientQuotaType, resolved: ResolvedQuota, now: number): Sensor {
    if (now - this.lastSweepMs > 60_000) {
      this.lastSweepMs = now
      for (const [k, s] of this.sensors) if (now - s.lastUsedMs > INACTIVE_SENSOR_MS) this.sensors.delete(k)
    }
    const key = `${type}\u0000${resolved.user}\u0000${resolved.clientId}`
    let sensor = this.sensors.get(key)
    if (!sensor) {
      sensor = {rate: new Rate(this.windows), lastUsedMs: now}
      this.sensors.set(key, sensor)
    }
    sensor.lastUsedMs = now
    return sensor
  }

  /** Re-reads the store's quotas when they changed (one step: no request sees half a change). */
  private refresh(): void {
    const version = this.source.clientQuotasVersion()
    if (version === this.version) return
    const all = this.source.clientQuotas()
    const byType = new Map<ClientQuotaType, QuotasOfType>()
    for (const type of QUOTA_KEYS) byType.set(type, quotasOfType(all, type))
    this.byType = byType
    this.resolved.clear()
    this.version = version
  }
}
