import {describe, expect, it} from 'vitest'
import {applyQuotaAlterations, type ClientQuotaAlteration, quotaEntityKey, type StoredClientQuota} from '../../../src/server/controller/metadata-store.js'
import {ClientQuotaManager, quotasOfType, Rate, resolveQuota, TokenBucket} from '../../../src/server/quotas/client-quota-manager.js'

/** A quota source over a map, with the version the manager caches on. */
function source(alterations: ClientQuotaAlteration[] = []) {
  const all = new Map<string, StoredClientQuota>()
  let version = 0
  const s = {
    clientQuotas: () => [...all.values()],
    clientQuotasVersion: () => version,
    alter(a: ClientQuotaAlteration[]) {
      applyQuotaAlterations(all, a)
      version++
    },
    all,
  }
  s.alter(alterations)
  return s
}

const set = (entity: ClientQuotaAlteration['entity'], values: Record<string, number>): ClientQuotaAlteration => ({entity, set: values, remove: []})

describe('quota precedence (KIP-55)', () => {
  const levels: Array<[string, ClientQuotaAlteration['entity'], {user: string; clientId: string}]> = [
    ['/users/u/clients/c', {user: 'u', 'client-id': 'c'}, {user: 'u', clientId: 'c'}],
    ['/users/u/clients/<default>', {user: 'u', 'client-id': null}, {user: 'u', clientId: 'c'}],
    ['/users/u', {user: 'u'}, {user: 'u', clientId: ''}],
    ['/users/<default>/clients/c', {user: null, 'client-id': 'c'}, {user: 'u', clientId: 'c'}],
    ['/users/<default>/clients/<default>', {user: null, 'client-id': null}, {user: 'u', clientId: 'c'}],
    ['/users/<default>', {user: null}, {user: 'u', clientId: ''}],
    ['/clients/c', {'client-id': 'c'}, {user: '', clientId: 'c'}],
    ['/clients/<default>', {'client-id': null}, {user: '', clientId: 'c'}],
  ]

  it.each(levels.map((l, i) => [l[0], i] as const))('%s wins over every lower level and loses to every higher one', (_name, i) => {
    // Levels i..7 set: level i applies, with its sensor tags.
    const s = source(levels.slice(i).map(([, entity], j) => set(entity, {producer_byte_rate: 1000 * (i + j + 1)})))
    expect(resolveQuota(quotasOfType(s.clientQuotas(), 'producer_byte_rate'), 'u', 'c')).toEqual({quota: 1000 * (i + 1), ...levels[i]![2]})
  })

  // DefaultQuotaCallback's two steps (quotaMetricTags, then quotaLimit of the tags) differ from a
  // plain first match when the client id is empty: its tags carry no client id.
  const resolve = (alterations: ClientQuotaAlteration[], user: string, clientId: string) => resolveQuota(quotasOfType(source(alterations).clientQuotas(), 'producer_byte_rate'), user, clientId)
  const q = (n: number) => ({producer_byte_rate: n})

  it('an empty client id gets no client-id quota, not even the default one', () => {
    expect(resolve([set({'client-id': null}, q(10))], 'u', '')).toBeUndefined()
    expect(resolve([set({'client-id': null}, q(10))], 'u', 'c')).toEqual({quota: 10, user: '', clientId: 'c'})
    // Several kinds configured: the chain ends at the client-id entities, whose quota needs a client id.
    expect(resolve([set({'client-id': null}, q(10)), set({user: 'other'}, q(20))], 'u', '')).toBeUndefined()
  })

  it('an empty client id under user+client-id quotas falls to the user quotas', () => {
    // Only user+client-id entities: the tags are (u, ''), whose quota is /users/u or /users/<default>: none.
    expect(resolve([set({user: null, 'client-id': null}, q(10))], 'u', '')).toBeUndefined()
    expect(resolve([set({user: 'u', 'client-id': null}, q(10))], 'u', '')).toBeUndefined()
    // /users/u/clients/<default> picks the tags (u, ''), and those find /users/u, not the entity that picked them.
    expect(resolve([set({user: 'u', 'client-id': null}, q(10)), set({user: 'u'}, q(20))], 'u', '')).toEqual({quota: 20, user: 'u', clientId: ''})
    expect(resolve([set({user: null, 'client-id': null}, q(10)), set({user: null}, q(30))], 'u', '')).toEqual({quota: 30, user: 'u', clientId: ''})
    expect(resolve([set({user: null, 'client-id': null}, q(10)), set({user: null}, q(30))], 'u', 'c')).toEqual({quota: 10, user: 'u', clientId: 'c'})
  })

  it('one kind of entity configured: the tags follow from the kind', () => {
    // Only user quotas: every client of a user shares the sensor (u, '').
    expect(resolve([set({user: null}, q(10))], 'u', 'c')).toEqual({quota: 10, user: 'u', clientId: ''})
    expect(resolve([set({user: 'v'}, q(10))], 'u', 'c')).toBeUndefined()
    // Only user+client-id quotas: (u, c), the defaults after the exact entities.
    expect(resolve([set({user: null, 'client-id': 'c'}, q(10)), set({user: 'u', 'client-id': null}, q(20))], 'u', 'c')).toEqual({quota: 20, user: 'u', clientId: 'c'})
    expect(resolve([set({user: null, 'client-id': 'c'}, q(10)), set({user: 'u', 'client-id': null}, q(20))], 'v', 'c')).toEqual({quota: 10, user: 'v', clientId: 'c'})
  })

  it('resolves each quota type on its own, and other users and clients fall to defaults', () => {
    const s = source([set({user: 'u'}, {producer_byte_rate: 10}), set({'client-id': null}, {consumer_byte_rate: 20, producer_byte_rate: 30})])
    const m = new ClientQuotaManager(s)
    expect(m.quotaFor('producer_byte_rate', 'u', 'c')?.quota).toBe(10)
    expect(m.quotaFor('consumer_byte_rate', 'u', 'c')).toEqual({quota: 20, user: '', clientId: 'c'})
    expect(m.quotaFor('producer_byte_rate', 'v', 'c')?.quota).toBe(30)
    expect(m.quotaFor('request_percentage', 'u', 'c')).toBeUndefined()
    s.alter([{entity: {user: 'u'}, set: {}, remove: ['producer_byte_rate']}])
    expect(m.quotaFor('producer_byte_rate', 'u', 'c')?.quota).toBe(30)
    expect(s.all.has(quotaEntityKey({user: 'u'}))).toBe(false)
  })
})

describe("Kafka's rate model", () => {
  const windows = {samples: 11, windowMs: 1000}

  it('divides by at least samples - 1 windows, then by the span of the live samples', () => {
    const r = new Rate(windows)
    r.record(10_000, 0)
    expect(r.windowSize(0)).toBe(10_000)
    expect(r.measure(0)).toBe(1000)
    for (let t = 1000; t <= 20_000; t += 1000) r.record(1000, t)
    // The sample of 9 s is older than samples * window and is reset: the oldest live one started at 10 s.
    expect(r.windowSize(20_500)).toBe(10_500)
    expect(r.measure(20_500)).toBeCloseTo(11_000 / 10.5, 5)
  })

  it('forgets samples older than samples * window', () => {
    const r = new Rate(windows)
    r.record(5000, 0)
    expect(r.measure(11_000)).toBe(0)
  })

  it('throttles by (rate - quota) / quota * window and lets a new sensor burst (samples - 1) windows', () => {
    let now = 0
    const s = source([set({'client-id': 'c'}, {producer_byte_rate: 1000})])
    const m = new ClientQuotaManager(s, windows, () => now)
    // 10 s worth of quota at once is within quota (10,000 over a 10 s window).
    expect(m.recordAndGetThrottleTimeMs('producer_byte_rate', 'u', 'c', 10_000)).toBe(0)
    // 5,000 more: rate 1,500/s over a 10 s window -> (1500 - 1000) / 1000 * 10,000 ms.
    expect(m.recordAndGetThrottleTimeMs('producer_byte_rate', 'u', 'c', 5000)).toBe(5000)
    // Within the first samples - 1 windows the window does not grow: 5 s later the rate is the same.
    now = 5000
    expect(m.recordAndGetThrottleTimeMs('producer_byte_rate', 'u', 'c', 0)).toBe(5000)
    // Once the samples expire (samples * window) the rate is back to nothing.
    now = 11_000
    expect(m.recordAndGetThrottleTimeMs('producer_byte_rate', 'u', 'c', 0)).toBe(0)
    // An unrelated client has no quota.
    expect(m.recordAndGetThrottleTimeMs('producer_byte_rate', 'u', 'other', 1e9)).toBe(0)
  })

  it('holds a client that obeys its throttle at the quota', () => {
    let now = 0
    const m = new ClientQuotaManager(source([set({user: 'u'}, {producer_byte_rate: 1000})]), windows, () => now)
    let sent = 0
    let from10s = 0
    while (now < 210_000) {
      const throttle = m.recordAndGetThrottleTimeMs('producer_byte_rate', 'u', 'c', 100)
      sent += 100
      if (now >= 10_000) from10s += 100
      now += Math.max(throttle, 10)
    }
    // Past the burst of the first windows the client gets its quota within a few percent.
    expect(from10s / 200).toBeGreaterThan(950)
    expect(from10s / 200).toBeLessThan(1050)
    expect(sent).toBeGreaterThan(from10s)
  })

  it('token bucket: starts full, refills at the quota, goes below zero', () => {
    const b = new TokenBucket(windows)
    expect(b.measure(2, 1_000_000)).toBe(22)
    b.record(2, 30, 1_000_000)
    expect(b.measure(2, 1_000_000)).toBe(-8)
    expect(b.measure(2, 1_004_000)).toBe(0)
  })
})

describe('request_percentage and fetch sizes', () => {
  it('bounds a request_percentage throttle by one window (ClientRequestQuotaManager), byte rates not', () => {
    const s = source([set({'client-id': 'c'}, {request_percentage: 1, producer_byte_rate: 1})])
    const m = new ClientQuotaManager(s, {samples: 11, windowMs: 1000}, () => 0)
    expect(m.recordAndGetThrottleTimeMs('request_percentage', 'u', 'c', 50)).toBe(1000)
    expect(m.recordAndGetThrottleTimeMs('producer_byte_rate', 'u', 'c', 50)).toBe(40_000)
  })

  it('the most a fetch may carry is the quota times samples - 1 windows, as an int', () => {
    const m = new ClientQuotaManager(source([set({'client-id': 'c'}, {consumer_byte_rate: 1000.7})]))
    expect(m.maxValueInQuotaWindow('consumer_byte_rate', 'u', 'c')).toBe(10_007)
    expect(m.maxValueInQuotaWindow('consumer_byte_rate', 'u', 'other')).toBe(2 ** 31 - 1)
    expect(m.maxValueInQuotaWindow('consumer_byte_rate', 'u', '')).toBe(2 ** 31 - 1)
    const big = new ClientQuotaManager(source([set({'client-id': 'c'}, {consumer_byte_rate: 1e12})]))
    expect(big.maxValueInQuotaWindow('consumer_byte_rate', 'u', 'c')).toBe(2 ** 31 - 1)
  })
})

describe('controller mutation quotas', () => {
  it('strict: refuses once the bucket is spent, with the time to refill it; permissive: records and throttles', () => {
    let now = 1_000_000
    const s = source([set({user: 'u'}, {controller_mutation_rate: 1})])
    const m = new ClientQuotaManager(s, {samples: 11, windowMs: 1000}, () => now)
    const strict = m.controllerMutationQuota('u', 'c', 6, 6)
    expect(strict.record(15)).toBe(true) // 11 tokens - 15 = -4
    expect(strict.record(1)).toBe(false)
    expect(strict.isExceeded()).toBe(true)
    expect(strict.throttleTime()).toBe(4000)
    now += 1000
    expect(strict.throttleTime()).toBe(3000)
    const permissive = m.controllerMutationQuota('u', 'c', 5, 6)
    expect(permissive.record(2)).toBe(true)
    expect(permissive.isExceeded()).toBe(false)
    expect(permissive.throttleTime()).toBe(5000)
    expect(m.controllerMutationQuota('other', 'c', 6, 6).record(1000)).toBe(true)
  })
})
