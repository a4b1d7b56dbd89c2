import {describe, expect, it} from 'vitest'

import {BufferPool} from '../../src/lib/buffer-pool.js'

describe('BufferPool', () => {
  it('gives a released buffer to the next take of a similar size', () => {
    const pool = new BufferPool()
    const a = pool.take(300_000)
    expect(a.length).toBe(300_000)
    pool.release(a.subarray(1000, 2000)) // any view of it finds it
    const b = pool.take(290_000)
    expect(b.buffer).toBe(a.buffer)
    // Never one still in use.
    expect(pool.take(290_000).buffer).not.toBe(a.buffer)
  })

  it('keeps no buffer more than twice the size asked for, and at most maxFree; small sizes are not pooled', () => {
    const pool = new BufferPool(2)
    const big = pool.take(1 << 20)
    pool.release(big)
    expect(pool.take(100_000).buffer).not.toBe(big.buffer)
    // Below the 64 KiB granule: a plain allocation (from Node's slab), which release() ignores.
    expect(pool.take(1000).buffer.byteLength).toBeLessThan(65_536)
    const [x, y, z] = [pool.take(100_000), pool.take(100_000), pool.take(100_000)]
    for (const v of [x, y, z]) pool.release(v!)
    const again = [pool.take(100_000), pool.take(100_000), pool.take(100_000)].map((v) => v.buffer)
    expect(again.filter((b) => b === x!.buffer || b === y!.buffer || b === z!.buffer)).toHaveLength(2)
  })

  it('ignores buffers it did not make, and a second release', () => {
    const pool = new BufferPool()
    const foreign = Buffer.alloc(300_000)
    pool.release(foreign)
    expect(pool.take(300_000).buffer).not.toBe(foreign.buffer)
    const a = pool.take(100_000)
    pool.release(a)
    pool.release(a)
    const [b, c] = [pool.take(100_000), pool.take(100_000)]
    expect(b.buffer).toBe(a.buffer)
    expect(c.buffer).not.toBe(a.buffer)
  })
})
