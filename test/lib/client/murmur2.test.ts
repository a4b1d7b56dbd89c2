import {createRequire} from 'node:module'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {murmur2, partitionForKey, toPositive} from '../../../src/lib/client/murmur2.js'

// kafkajs's port of the Java client's murmur2 (its JavaCompatiblePartitioner), an independent implementation to compare with.
const require = createRequire(import.meta.url)
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number

describe('murmur2', () => {
  it('matches the Java client (Kafka UtilsTest.testMurmur2 vectors)', () => {
    const vectors: [string, number][] = [
      ['21', -973_932_308],
      ['foobar', -790_332_482],
      ['a-little-bit-long-string', -985_981_536],
      ['a-little-bit-longer-string', -1_486_304_829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58_897_971],
      ['abc', 479_470_107],
    ]
    for (const [input, expected] of vectors) expect(murmur2(Buffer.from(input))).toBe(expected)
  })

  it('agrees with kafkajs\'s Java-compatible murmur2 on random keys of every length mod 4', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 64}), (bytes) => {
        const key = Buffer.from(bytes)
        expect(murmur2(key)).toBe(kafkajsMurmur2(key) | 0)
      }),
      {numRuns: 2000},
    )
  })

  it('maps keys to partitions with toPositive(hash) % n, as DefaultPartitioner / BuiltInPartitioner', () => {
    expect(toPositive(-790_332_482)).toBe(1_357_151_166)
    expect(partitionForKey(Buffer.from('foobar'), 50)).toBe(16)
    expect(partitionForKey(Buffer.from('foobar'), 1)).toBe(0)
    expect(partitionForKey(Buffer.from(''), 12)).toBe(toPositive(murmur2(Buffer.alloc(0))) % 12)
  })
})
