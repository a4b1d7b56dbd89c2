/**
 * The replication throttles' choices (src/server/replication/throttle.ts): which replicas a side
 * throttles (listed as <partition>:<this broker> or `*`, and out of the ISR), where the rate comes
 * from (this broker's config over the cluster default; none means unthrottled), the token
 * bucket (one second of tokens at most, debt after an overshoot), and the follower fetcher's
 * reservations (a grant before the fetch, settled after: concurrent fetchers cannot spend the
 * same tokens, and a fetch waits for a full fetch's worth so a whole batch does not overshoot).
 */
import {describe, expect, it} from 'vitest'
import {ByteRate, ReplicationThrottle, reserveFetch} from '../../../src/server/replication/throttle.js'

function throttle(side: 'follower' | 'leader', broker: Record<string, string>, cluster: Record<string, string>, topicConfigs: Record<string, string>) {
  const metadata = {
    brokerConfigs: (id: number | '') => (id === '' ? cluster : broker),
    topic: (name: string) => (name === 't' ? ({name: 't'} as never) : undefined),
  }
  return new ReplicationThrottle(side, 2, metadata, () => topicConfigs)
}

describe('ReplicationThrottle', () => {
  it('takes the rate from this broker, else the cluster default, else none', () => {
    expect(throttle('leader', {'leader.replication.throttled.rate': '100'}, {'leader.replication.throttled.rate': '5'}, {}).rate()).toBe(100)
    expect(throttle('leader', {}, {'leader.replication.throttled.rate': '5'}, {}).rate()).toBe(5)
    expect(throttle('leader', {'follower.replication.throttled.rate': '7'}, {}, {}).rate()).toBe(Number.POSITIVE_INFINITY)
  })

  it.each([
    ['follower', {'follower.replication.throttled.replicas': '0:2,1:3'}, 0, [1], 2, true],
    ['follower', {'follower.replication.throttled.replicas': '0:2,1:3'}, 1, [1], 2, false],
    ['follower', {'follower.replication.throttled.replicas': ' 1:1 , 0:2 '}, 0, [1], 2, true],
    ['follower', {'follower.replication.throttled.replicas': '*'}, 5, [1], 2, true],
    ['follower', {'follower.replication.throttled.replicas': '*'}, 5, [1, 2], 2, false],
    ['follower', {'leader.replication.throttled.replicas': '*'}, 0, [1], 2, false],
    // The leader side lists the leader (this broker, 2) and asks about the fetching follower (3).
    ['leader', {'leader.replication.throttled.replicas': '0:2'}, 0, [2], 3, true],
    ['leader', {'leader.replication.throttled.replicas': '0:3'}, 0, [2], 3, false],
    ['leader', {'leader.replication.throttled.replicas': '0:2'}, 0, [2, 3], 3, false],
    ['leader', {}, 0, [2], 3, false],
  ] as const)('%s side, topic configs %j, partition %i, ISR %j, replica %i: throttled %s', (side, configs, partition, isr, replica, expected) => {
    expect(throttle(side, {}, {}, configs).throttles({topic: 't', partition, isr}, replica)).toBe(expected)
  })

  it('an unknown topic is not throttled', () => {
    expect(throttle('leader', {}, {}, {'leader.replication.throttled.replicas': '*'}).throttles({topic: 'gone', partition: 0, isr: []}, 3)).toBe(false)
  })
})

describe('ByteRate', () => {
  it('holds at most one second of tokens and goes into debt by an overshoot', () => {
    const bucket = new ByteRate()
    const t0 = Date.now()
    expect(bucket.available(1000, t0 + 5000)).toBe(1000)
    bucket.spend(3000)
    expect(bucket.available(1000, t0 + 5000)).toBe(-2000)
    expect(bucket.available(1000, t0 + 6000)).toBe(-1000)
    expect(bucket.available(1000, t0 + 8500)).toBe(1000)
  })
})

describe('ByteRate reserve and settle (the follower fetcher)', () => {
  it('grants what the bucket holds, nothing in debt; settle refunds the unused part and books an overshoot as debt', () => {
    const bucket = new ByteRate()
    const t0 = Date.now() + 5000
    expect(bucket.reserve(1000, 400, t0)).toBe(400)
    expect(bucket.reserve(1000, 5000, t0)).toBe(600)
    expect(bucket.reserve(1000, 5000, t0)).toBe(0)
    bucket.settle(400, 100) // the first fetch copied 100 of its 400
    bucket.settle(600, 900) // the second brought a batch past its grant
    expect(bucket.available(1000, t0)).toBe(0)
    expect(bucket.reserve(1000, 5000, t0 + 500)).toBe(500)
    bucket.settle(500, 1500)
    expect(bucket.reserve(1000, 5000, t0 + 1000)).toBe(0)
    expect(bucket.available(1000, t0 + 1000)).toBe(-500)
  })

  it.each([
    ['16 KB batches', 16_384],
    ['1 MB batches', 1_000_061],
  ])('fetchers to three leaders reserving at once copy the rate, not three times it (%s)', (_name, batch) => {
    // Each fetcher keeps one fetch in flight (50 ms) for one moving partition with an endless
    // backlog of batches; the leader returns whole batches up to what was asked, and one batch
    // past it when the ask is smaller than a batch (minOneMessage). A fetcher left out pauses 100 ms.
    const rate = 1_000_000
    const maxBytes = 1_048_576
    const bucket = new ByteRate()
    const start = Date.now() + 10_000
    bucket.available(rate, start - 10_000) // the bucket starts full: one second of tokens
    const seconds = 30
    const inflight: Array<{reserved: number; asked: number; done: number} | undefined> = [undefined, undefined, undefined]
    const idleUntil = [0, 0, 0]
    const copiedAt: number[] = []
    let copied = 0
    let maxDebt = 0
    for (let now = start; now < start + seconds * 1000; now += 5) {
      for (let i = 0; i < 3; i++) {
        const f = inflight[i]
        if (f && now >= f.done) {
          const sent = f.asked >= batch ? Math.floor(f.asked / batch) * batch : batch
          bucket.settle(f.reserved, sent)
          copied += sent
          inflight[i] = undefined
        }
        if (!inflight[i] && now >= idleUntil[i]!) {
          const grant = reserveFetch(bucket, rate, 1, maxBytes, now)
          if (grant.reserved === 0) idleUntil[i] = now + Math.min(1000, Math.max(1, grant.waitMs))
          else inflight[i] = {reserved: grant.reserved, asked: grant.share, done: now + 50}
        }
      }
      maxDebt = Math.max(maxDebt, -bucket.available(rate, now))
      if ((now - start) % 1000 === 0) copiedAt.push(copied)
    }
    // At most the rate over the run plus the second of tokens the bucket starts with and a batch;
    // and close to the rate (a fetcher left out wakes when the bucket holds a fetch).
    expect(copied).toBeLessThanOrEqual(rate * (seconds + 1) + batch)
    expect(copied).toBeGreaterThanOrEqual(rate * seconds * 0.97)
    // Never more than a batch in debt: no fetch asks for more than the bucket held.
    expect(maxDebt).toBeLessThanOrEqual(batch)
    // Any 5 s after the first second: at most 5 s of tokens, a batch and the second's worth the bucket may hold.
    for (let s = 1; s + 5 < copiedAt.length; s++) expect(copiedAt[s + 5]! - copiedAt[s]!).toBeLessThanOrEqual(rate * 6 + batch)
  })

  it('a fetch waits for a full fetch in the bucket (or 0.9 s of tokens when the rate is lower), then shares the grant', () => {
    const bucket = new ByteRate()
    const t0 = Date.now() + 5000
    // 10 MB/s, two partitions of 1 MiB: full fetches while the bucket holds 2 MiB, then nothing below that.
    for (let i = 0; i < 4; i++) expect(reserveFetch(bucket, 10_000_000, 2, 1_048_576, t0)).toEqual({reserved: 2_097_152, share: 1_048_576, waitMs: 0})
    // 1,611,392 left: 485,760 short, 48.6 ms at 10 MB/s.
    expect(reserveFetch(bucket, 10_000_000, 2, 1_048_576, t0)).toEqual({reserved: 0, share: 0, waitMs: 49})
    expect(reserveFetch(bucket, 10_000_000, 2, 1_048_576, t0 + 40)).toEqual({reserved: 0, share: 0, waitMs: 9})
    expect(reserveFetch(bucket, 10_000_000, 2, 1_048_576, t0 + 49)).toEqual({reserved: 2_097_152, share: 1_048_576, waitMs: 0})
    // 1 MB/s, three partitions: from 0.9 s's worth, all the bucket holds, a third each.
    const slow = new ByteRate()
    expect(reserveFetch(slow, 1_000_000, 3, 1_048_576, t0)).toEqual({reserved: 1_000_000, share: 333_333, waitMs: 0})
    expect(reserveFetch(slow, 1_000_000, 3, 1_048_576, t0 + 899)).toEqual({reserved: 0, share: 0, waitMs: 1})
    expect(reserveFetch(slow, 1_000_000, 3, 1_048_576, t0 + 950)).toEqual({reserved: 950_000, share: 316_666, waitMs: 0})
    expect(reserveFetch(slow, 1_000_000, 0, 1_048_576, t0 + 9000)).toEqual({reserved: 0, share: 0, waitMs: 0})
  })
})
