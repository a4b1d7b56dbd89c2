import {describe, expect, it} from 'vitest'

import {partitionForKey} from '../../../src/lib/client/murmur2.js'
import {StickyPartitioner} from '../../../src/lib/client/partitioner.js'

const topic = {available: [0, 1, 2, 3], name: 't', partitionCount: 4}

describe('StickyPartitioner', () => {
  it('puts an explicit partition first, then keys by murmur2', () => {
    const p = new StickyPartitioner(1000)
    expect(p.partition(topic, Buffer.from('k'), 10, 3)).toBe(3)
    for (const key of ['a', 'user-1', 'order-42', '']) expect(p.partition(topic, Buffer.from(key), 10)).toBe(partitionForKey(Buffer.from(key), 4))
  })

  it('sticks to one partition for null keys until batch.size bytes, then moves to another', () => {
    let r = 0
    const randoms = [0.1, 0.9, 0.5]
    const p = new StickyPartitioner(100, () => randoms[r++ % randoms.length]!)
    const first = Array.from({length: 10}, () => p.partition(topic, null, 10))
    expect(new Set(first).size).toBe(1)
    const next = p.partition(topic, null, 10)
    expect(next).not.toBe(first[0])
    expect(p.partition(topic, undefined, 10)).toBe(next)
  })

  it('only picks partitions with a leader', () => {
    const p = new StickyPartitioner(1)
    for (let i = 0; i < 50; i++) expect(p.partition({available: [2], name: 'x', partitionCount: 4}, null, 5)).toBe(2)
  })
})
