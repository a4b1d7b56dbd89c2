/**
 * The __consumer_offsets record formats, checked against bytes written out from Kafka 4.0's
 * schemas (OffsetCommitKey v1, OffsetCommitValue v1/v3, GroupMetadataKey v2, GroupMetadataValue
 * v3, ConsumerGroupMetadata), with round trips, and the group -> partition mapping of Java's
 * String.hashCode.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  decodeConsumerGroupMetadataValue,
  decodeCoordinatorKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  encodeConsumerGroupMetadataKey,
  encodeConsumerGroupMetadataValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  javaStringHashCode,
  partitionForGroup,
} from '../../../src/server/coordinator/records.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

describe('record keys', () => {
  it('writes OffsetCommitKey v1: version, group, topic, partition', () => {
    expect(encodeOffsetCommitKey('g', 'tp', 7)).toEqual(hex('0001 0001 67 0002 7470 00000007'))
    expect(decodeCoordinatorKey(hex('0001 0001 67 0002 7470 00000007'))).toEqual({type: 'offset', group: 'g', topic: 'tp', partition: 7})
    // Version 0 keys (old brokers) read the same.
    expect(decodeCoordinatorKey(hex('0000 0001 67 0002 7470 00000007'))).toEqual({type: 'offset', group: 'g', topic: 'tp', partition: 7})
  })

  it('writes GroupMetadataKey v2 and ConsumerGroupMetadataKey v3; other record types are unknown', () => {
    expect(encodeGroupMetadataKey('grp')).toEqual(hex('0002 0003 677270'))
    expect(encodeConsumerGroupMetadataKey('grp')).toEqual(hex('0003 0003 677270'))
    expect(decodeCoordinatorKey(hex('0005 0003 677270'))).toEqual({type: 'unknown', version: 5})
  })
})

describe('record values', () => {
  it('writes OffsetCommitValue v3, or v1 with an expire timestamp', () => {
    const v3 = encodeOffsetCommitValue({offset: 100n, leaderEpoch: 4, metadata: 'm', commitTimestamp: 1000, expireTimestamp: -1})
    expect(v3).toEqual(hex('0003 0000000000000064 00000004 0001 6d 00000000000003e8'))
    const v1 = encodeOffsetCommitValue({offset: 100n, leaderEpoch: 4, metadata: '', commitTimestamp: 1000, expireTimestamp: 2000})
    expect(v1).toEqual(hex('0001 0000000000000064 0000 00000000000003e8 00000000000007d0'))
    expect(decodeOffsetCommitValue(v1)).toEqual({offset: 100n, leaderEpoch: -1, metadata: '', commitTimestamp: 1000, expireTimestamp: 2000})
    // v4 is flexible: compact strings and tagged fields.
    expect(decodeOffsetCommitValue(hex('0004 0000000000000064 00000004 02 6d 00000000000003e8 00'))).toEqual({offset: 100n, leaderEpoch: 4, metadata: 'm', commitTimestamp: 1000, expireTimestamp: -1})
  })

  it('writes GroupMetadataValue v3 and reads it back', () => {
    const value = {
      protocolType: 'consumer',
      generation: 5,
      protocol: 'range',
      leader: 'm-1',
      currentStateTimestamp: 123,
      members: [{memberId: 'm-1', groupInstanceId: 'i', clientId: 'c', clientHost: '/h', rebalanceTimeout: 300, sessionTimeout: 45, subscription: Buffer.from([1, 2]), assignment: Buffer.from([3])}],
    }
    const bytes = encodeGroupMetadataValue(value)
    expect(bytes.subarray(0, 2)).toEqual(hex('0003'))
    expect(bytes).toEqual(
      hex(`0003 0008 ${Buffer.from('consumer').toString('hex')} 00000005 0005 ${Buffer.from('range').toString('hex')} 0003 6d2d31 000000000000007b
           00000001 0003 6d2d31 0001 69 0001 63 0002 2f68 0000012c 0000002d 00000002 0102 00000001 03`),
    )
    expect(decodeGroupMetadataValue(bytes)).toEqual(value)
  })

  it('round-trips any offset commit and consumer group epoch', () => {
    fc.assert(
      fc.property(fc.bigInt({min: -(2n ** 63n), max: 2n ** 63n - 1n}), fc.integer({min: -1, max: 2 ** 31 - 1}), fc.string({maxLength: 50}), fc.nat(), (offset, leaderEpoch, metadata, ts) => {
        expect(decodeOffsetCommitValue(encodeOffsetCommitValue({offset, leaderEpoch, metadata, commitTimestamp: ts, expireTimestamp: -1}))).toEqual({offset, leaderEpoch, metadata, commitTimestamp: ts, expireTimestamp: -1})
        expect(decodeConsumerGroupMetadataValue(encodeConsumerGroupMetadataValue({epoch: leaderEpoch}))).toEqual({epoch: leaderEpoch})
      }),
    )
  })
})

describe('partitionForGroup', () => {
  it("uses Java's String.hashCode and Kafka's Utils.abs", () => {
    expect(javaStringHashCode('')).toBe(0)
    expect(javaStringHashCode('hello')).toBe(99162322)
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'))
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648)
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0)
    expect(partitionForGroup('hello', 50)).toBe(99162322 % 50)
  })

  it('agrees with s[0]*31^(n-1) + ... + s[n-1] in 32-bit two\'s complement', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 40}), (s) => {
        let h = 0n
        for (let i = 0; i < s.length; i++) h = (h * 31n + BigInt(s.charCodeAt(i))) & 0xffffffffn
        expect(javaStringHashCode(s)).toBe(Number(BigInt.asIntN(32, h)))
        const p = partitionForGroup(s, 50)
        expect(p).toBeGreaterThanOrEqual(0)
        expect(p).toBeLessThan(50)
      }),
    )
  })
})
