// Where the log's writes and hot reads run (src/server/log/fs.ts IoPlacement): on the event loop
// while they are fast; after one slower than the threshold (dirty-page throttling), on libuv's pool for a
// while, then on the loop again. A fake clock stands in for time.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {type FileHandle, IoPlacement, NodeFileSystem, readAt, writeFully} from '../../../src/server/log/fs.js'

describe('IoPlacement', () => {
  it('keeps writes on the calling thread while they are fast', () => {
    let now = 0
    const placement = new IoPlacement(5, 1000, false, () => now)
    for (let i = 0; i < 100; i++) {
      expect(placement.onPool()).toBe(false)
      expect(placement.timed(() => { now += 4; return i })).toBe(i)
    }
  })

  it('moves writes to the pool for poolMs after a slow one, then back', () => {
    let now = 0
    const placement = new IoPlacement(5, 1000, false, () => now)
    placement.timed(() => { now += 6 })
    expect(placement.onPool()).toBe(true)
    now += 999
    expect(placement.onPool()).toBe(true)
    now += 2
    expect(placement.onPool()).toBe(false)
    placement.timed(() => { now += 1 })
    expect(placement.onPool()).toBe(false)
  })

  it('pinned to the pool (KCLI_LOG_WRITES=pool), every write goes there', () => {
    let now = 0
    const placement = new IoPlacement(5, 1000, true, () => now)
    for (let i = 0; i < 10; i++) {
      now += 10_000
      expect(placement.onPool()).toBe(true)
    }
  })

  it('a write that throws is rethrown and leaves the placement as it was', () => {
    let now = 0
    const placement = new IoPlacement(5, 1000, false, () => now)
    expect(() => placement.timed(() => { now += 50; throw Object.assign(new Error('no space'), {code: 'ENOSPC'}) })).toThrow('no space')
    expect(placement.onPool()).toBe(false)
  })
})

describe('NodeFileSystem writes', () => {
  it('positional writes land where they are asked, whichever thread makes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcli-write-placement-'))
    try {
      const fs = new NodeFileSystem()
      const handle = await fs.open(join(dir, 'f'), 'readWrite')
      await writeFully(handle, Buffer.from('world'), 5)
      await writeFully(handle, Buffer.from('hello'), 0)
      await handle.close()
      expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('helloworld')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('NodeFileSystem reads', () => {
  it('a hot read (on the calling thread) and a pool read give the same bytes, short only at the end of the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcli-read-placement-'))
    try {
      const fs = new NodeFileSystem()
      const handle = await fs.open(join(dir, 'f'), 'readWrite')
      const data = Buffer.alloc(300_000)
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff
      await writeFully(handle, data, 0)
      for (const [position, length] of [[0, 300_000], [12_345, 100_000], [299_990, 64]] as const) {
        const hot = await readAt(handle, position, length, undefined, true)
        const pooled = await readAt(handle, position, length, undefined, false)
        expect(hot.equals(pooled)).toBe(true)
        expect(hot.equals(data.subarray(position, position + length))).toBe(true)
      }
      await handle.close()
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('a file handle without readNow reads hot bytes as any other', async () => {
    const bytes = Buffer.from('abcdefgh')
    const handle = {
      read: async (buffer: Buffer, offset: number, length: number, position: number) => bytes.copy(buffer, offset, position, position + length),
    } as unknown as FileHandle
    expect((await readAt(handle, 2, 4, undefined, true)).toString()).toBe('cdef')
  })
})
