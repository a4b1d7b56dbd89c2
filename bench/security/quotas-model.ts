/**
 * Kafka's own rate model, simulated (issue 15): how close to its quota a greedy client that obeys
 * every throttle is held, with no broker, no network and no measuring noise. The quota manager is
 * kcli's ClientQuotaManager, whose Rate / SampledStat / QuotaUtils.throttleTime are a line-by-line
 * port of Kafka's (org.apache.kafka.common.metrics.stats.Rate and SampledStat: samples + 1 slots,
 * purge by last event, window never below samples - 1 windows; throttle (rate - quota) / quota *
 * window), so a deviation seen here is Kafka's, not kcli's.
 *
 * The simulated client sends back to back: the next request `gap` ms after the previous answer,
 * plus its throttle (KIP-219: the client waits throttle_time_ms, the broker mutes for it). The gap
 * is either fixed (2 ms: a deterministic run) or, as on a real machine, jittered (1-21 ms,
 * uniformly, 20 seeded runs: the range and median are shown). The jitter matters: Kafka's rate is
 * a sawtooth whose phase moves with the timing, so one 30 s figure moves with it.
 *  - produce: each request's bytes are recorded (a throttled produce is still appended);
 *  - fetch: each response carries min(fetch size, quota x (samples - 1) windows) bytes, recorded;
 *    throttled, it is answered empty and its bytes taken back (KafkaApis).
 * Rates are delivered record values (what the bench's clients count; the quota records whole
 * request / response frames) over a span, as a ratio to the quota: the first 30 s (no warm-up), the
 * 30 s after an 11 s warm-up (one full set of samples), 11-131 s (the 120 s bench), the lowest and
 * highest of every 30 s span of 300 s, and the whole 300 s.
 *
 *   npx tsx bench/security/quotas-model.ts
 */
import {applyQuotaAlterations, type StoredClientQuota} from '../../src/server/controller/metadata-store.js'
import {ClientQuotaManager, type ClientQuotaType} from '../../src/server/quotas/client-quota-manager.js'

const QUOTA = 1024 * 1024
const WINDOWS = {samples: 11, windowMs: 1000}
const RUN_MS = 300_000
const SEEDS = 20

interface Scenario {
  name: string
  type: 'produce' | 'fetch'
  /** Bytes each produce request records, or each fetch response carries (its frame: values and overhead). */
  bytes: number
  /** The record values in it: what the bench's clients count. */
  values: number
}

/** One run; `gap` gives the time between an answer (and its throttle) and the next request. */
function simulate(s: Scenario, gap: () => number): Array<[number, number]> {
  const all = new Map<string, StoredClientQuota>()
  const key: ClientQuotaType = s.type === 'produce' ? 'producer_byte_rate' : 'consumer_byte_rate'
  applyQuotaAlterations(all, [{entity: {'client-id': 'c'}, set: {[key]: QUOTA}, remove: []}])
  let now = 0
  const m = new ClientQuotaManager({clientQuotas: () => [...all.values()], clientQuotasVersion: () => 1}, WINDOWS, () => now)
  const delivered: Array<[number, number]> = []
  while (now < RUN_MS) {
    const size = s.type === 'fetch' ? Math.min(s.bytes, m.maxValueInQuotaWindow(key, 'u', 'c')) : s.bytes
    const throttle = m.recordAndGetThrottleTimeMs(key, 'u', 'c', size, now)
    // A throttled produce is still appended; a throttled fetch is answered empty, its bytes taken back.
    if (s.type === 'fetch' && throttle > 0) m.unrecord(key, 'u', 'c', size, now)
    else delivered.push([now, (size * s.values) / s.bytes])
    now += throttle + gap()
  }
  return delivered
}

const rate = (d: Array<[number, number]>, from: number, to: number) => (d.filter(([t]) => t >= from && t < to).reduce((n, [, b]) => n + b, 0) * 1000) / (to - from) / QUOTA

function figures(d: Array<[number, number]>) {
  const spans: number[] = []
  for (let t = 0; t + 30_000 <= RUN_MS; t += 1000) spans.push(rate(d, t, t + 30_000))
  return {first30s: rate(d, 0, 30_000), after11sWarmup30s: rate(d, 11_000, 41_000), from11to131s: rate(d, 11_000, 131_000), min30s: Math.min(...spans), max30s: Math.max(...spans), whole300s: rate(d, 0, RUN_MS)}
}

const scenarios: Scenario[] = [
  {name: 'produce 128 KB requests (the kafkajs bench: 8 x 16 KB)', type: 'produce', bytes: 128 * 1024 + 1200, values: 128 * 1024},
  {name: 'produce 16 KB requests', type: 'produce', bytes: 16 * 1024 + 150, values: 16 * 1024},
  {name: 'produce ~1 MB requests (librdkafka: 60 x 16 KB, batch.size 1,000,000)', type: 'produce', bytes: 60 * 16 * 1024 + 1500, values: 60 * 16 * 1024},
  {name: 'fetch 512 KB responses (the consume bench: one batch of 32 x 16 KB)', type: 'fetch', bytes: 524_772, values: 32 * 16 * 1024},
  {name: 'fetch 1 MB responses (64 x 16 KB)', type: 'fetch', bytes: 1_049_300, values: 64 * 16 * 1024},
]

const f3 = (x: number) => x.toFixed(3)
const rows = scenarios.map((s) => {
  const fixed = figures(simulate(s, () => 2))
  const runs: Array<ReturnType<typeof figures>> = []
  for (let seed = 1; seed <= SEEDS; seed++) {
    let state = seed
    // A small LCG: the same runs every time.
    const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648
    runs.push(figures(simulate(s, () => Math.round(1 + random() * 20))))
  }
  const spread = (k: keyof ReturnType<typeof figures>) => {
    const v = runs.map((r) => r[k]).sort((a, b) => a - b)
    return `${f3(v[0]!)}..${f3(v[v.length - 1]!)} (median ${f3(v[v.length >> 1]!)})`
  }
  return {
    scenario: s.name,
    fixedGap2ms: {first30s: f3(fixed.first30s), after11sWarmup30s: f3(fixed.after11sWarmup30s), from11to131s: f3(fixed.from11to131s), every30s: `${f3(fixed.min30s)}..${f3(fixed.max30s)}`, whole300s: f3(fixed.whole300s)},
    jitteredGap1to21ms: {first30s: spread('first30s'), after11sWarmup30s: spread('after11sWarmup30s'), from11to131s: spread('from11to131s'), every30sLowest: spread('min30s'), every30sHighest: spread('max30s'), whole300s: spread('whole300s')},
  }
})
console.log(JSON.stringify({quota: QUOTA, windows: WINDOWS, seeds: SEEDS, rows}, null, 1))
