import {describe, expect, it} from 'vitest'

import {PartialFailureError, UsageError} from '../../../src/lib/cli/errors.js'
import {failIfAny, parseDuration, parseEndSpec, parseKeyValues, parseStartSpec, parseTime, parseTopicPartitions, topicsFromArgumentOrFlag} from '../../../src/lib/client/cli-input.js'

const NOW = Date.parse('2024-05-01T12:00:00Z')

describe('command-line input', () => {
  it('k=v pairs, repeated or comma-separated; commas inside a value stay', () => {
    expect(parseKeyValues(['a=1,b=2', 'c=x=y'], '--config')).toEqual({a: '1', b: '2', c: 'x=y'})
    expect(parseKeyValues(['follower.replication.throttled.replicas=0:1,1:2'], '--config')).toEqual({'follower.replication.throttled.replicas': '0:1,1:2'})
    expect(() => parseKeyValues(['novalue'], '--config')).toThrow(UsageError)
  })

  it('the topic as the argument or with --topic, both only when they agree', () => {
    expect(topicsFromArgumentOrFlag('orders', undefined)).toEqual(['orders'])
    expect(topicsFromArgumentOrFlag(undefined, ['a', 'b'])).toEqual(['a', 'b'])
    expect(topicsFromArgumentOrFlag('orders', ['orders'])).toEqual(['orders'])
    expect(topicsFromArgumentOrFlag(undefined, undefined)).toBeUndefined()
    expect(topicsFromArgumentOrFlag(undefined, [])).toBeUndefined()
    expect(() => topicsFromArgumentOrFlag('orders', ['payments'])).toThrow(UsageError)
    expect(() => topicsFromArgumentOrFlag('orders', ['orders', 'payments'])).toThrow('the topic is given both as the argument (orders) and with --topic (orders, payments); give it once')
  })

  it('durations', () => {
    expect(parseDuration('1500', '--x')).toBe(1500)
    expect(parseDuration('1h30m', '--x')).toBe(5_400_000)
    expect(parseDuration('PT15M', '--x')).toBe(900_000)
    expect(parseDuration('2d', '--x')).toBe(172_800_000)
    expect(() => parseDuration('soon', '--x')).toThrow(/not a duration/)
  })

  it('times: epoch ms, ISO, relative', () => {
    expect(parseTime('1714564800000', '--t', NOW)).toBe(1_714_564_800_000)
    expect(parseTime('2024-05-01T10:00:00Z', '--t', NOW)).toBe(NOW - 7_200_000)
    expect(parseTime('-1h', '--t', NOW)).toBe(NOW - 3_600_000)
    expect(parseTime('+10m', '--t', NOW)).toBe(NOW + 600_000)
    expect(parseTime('now', '--t', NOW)).toBe(NOW)
    expect(() => parseTime('yesterday', '--t', NOW)).toThrow(UsageError)
  })

  it('consume start and end specs', () => {
    expect(parseStartSpec('beginning', '-o')).toEqual({kind: 'earliest'})
    expect(parseStartSpec('end', '-o')).toEqual({kind: 'latest'})
    expect(parseStartSpec('42', '-o')).toEqual({kind: 'offset', offset: 42n})
    expect(parseStartSpec('-10', '-o')).toEqual({count: 10n, kind: 'last'})
    expect(parseStartSpec('@-1h', '-o', NOW)).toEqual({kind: 'time', time: NOW - 3_600_000})
    expect(parseEndSpec('100', '--to')).toEqual({kind: 'offset', offset: 100n})
    expect(parseEndSpec('@2024-05-01T12:00:00Z', '--to')).toEqual({kind: 'time', time: NOW})
    expect(() => parseEndSpec('-1', '--to')).toThrow(UsageError)
  })

  it('topic partition lists', () => {
    expect(parseTopicPartitions('orders', '--topic')).toEqual({topic: 'orders'})
    expect(parseTopicPartitions('orders:0,2', '--topic')).toEqual({partitions: [0, 2], topic: 'orders'})
    expect(() => parseTopicPartitions('orders:x', '--topic')).toThrow(UsageError)
  })

  it('failIfAny names the failures and keeps the result', () => {
    expect(() => failIfAny([], 2, 'topics', {})).not.toThrow()
    try {
      failIfAny([{error: 'TOPIC_ALREADY_EXISTS', errorCode: 36, item: 'topic a'}], 2, 'topics', {ok: 1})
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(PartialFailureError)
      expect((error as PartialFailureError).message).toBe('1 of 2 topics failed: topic a: TOPIC_ALREADY_EXISTS')
      expect((error as PartialFailureError).result).toEqual({ok: 1})
    }
  })
})
