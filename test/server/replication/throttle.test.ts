/**
 * The replication throttles' choices (src/server/replication/throttle.ts): which replicas a side
 * throttles (listed as <partition>:<this broker> or `*`, and out of the ISR), where the rate comes
 * from (this broker's config over the cluster default; none means unthrottled), and the token
 * bucket (one second of tokens at most, debt after an overshoot).
 */
import {describe, expect, it} from 'vitest'
import {ByteRate, ReplicationThrottle} from '../../../src/server/replication/throttle.js'

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
