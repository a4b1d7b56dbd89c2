import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {FrameReader, FrameSizeError} from '../../../src/lib/protocol/frame-reader.js'

function framed(bodies: readonly Buffer[]): Buffer {
  return Buffer.concat(bodies.flatMap((b) => {
    const size = Buffer.alloc(4)
    size.writeInt32BE(b.length)
    return [size, b]
  }))
}

/** Feeds `stream` as a socket with `onread` would: each read fills at most `cuts[i]` bytes of readBuffer(). */
function readInto(reader: FrameReader, stream: Buffer, cuts: readonly number[]): void {
  let at = 0
  let i = 0
  while (at < stream.length) {
    const target = reader.readBuffer()
    expect(target.length).toBeGreaterThan(0)
    const n = Math.min(target.length, stream.length - at, cuts[i++ % cuts.length]!)
    stream.copy(target, 0, at, at + n)
    at += n
    reader.didRead(n)
  }
}

const bodies = fc.array(fc.oneof(fc.uint8Array({maxLength: 40}), fc.uint8Array({maxLength: 3000})).map((a) => Buffer.from(a)), {maxLength: 12})

describe('FrameReader', () => {
  it('gives back every frame, whole and in order, however reads split the stream', () => {
    fc.assert(
      fc.property(bodies, fc.array(fc.integer({min: 1, max: 5000}), {minLength: 1, maxLength: 20}), fc.integer({min: 8, max: 2048}), (frames, cuts, scratchSize) => {
        const got: Buffer[] = []
        const reader = new FrameReader({maxFrameSize: 1 << 20, onFrame: (f) => got.push(f), scratchSize})
        readInto(reader, framed(frames), cuts)
        expect(got).toEqual(frames)
        expect(reader.buffered).toBe(0)
      }),
      {numRuns: 300},
    )
  })

  it('push() of arbitrary chunks gives the same frames', () => {
    fc.assert(
      fc.property(bodies, fc.array(fc.integer({min: 1, max: 5000}), {minLength: 1, maxLength: 20}), (frames, cuts) => {
        const got: Buffer[] = []
        const reader = new FrameReader({maxFrameSize: 1 << 20, onFrame: (f) => got.push(f), scratchSize: 512})
        const stream = framed(frames)
        for (let at = 0, i = 0; at < stream.length; i++) {
          const n = cuts[i % cuts.length]!
          reader.push(stream.subarray(at, at + n))
          at += n
        }
        expect(got).toEqual(frames)
      }),
      {numRuns: 300},
    )
  })

  it('frames are buffers of their own: later reads do not overwrite them', () => {
    const got: Buffer[] = []
    const reader = new FrameReader({maxFrameSize: 100, onFrame: (f) => got.push(f), scratchSize: 16})
    readInto(reader, framed([Buffer.from('aaaa'), Buffer.from('bbbb')]), [100])
    readInto(reader, framed([Buffer.from('cccc')]), [100])
    expect(got.map(String)).toEqual(['aaaa', 'bbbb', 'cccc'])
  })

  it('a large frame is read straight into its own buffer once its size is known', () => {
    const body = Buffer.alloc(100_000, 7)
    const got: Buffer[] = []
    const reader = new FrameReader({maxFrameSize: 1 << 20, onFrame: (f) => got.push(f), scratchSize: 1024})
    const stream = framed([body])
    readInto(reader, stream, [1024])
    // After the first read (the size and 1020 bytes), every read buffer is a view of the frame.
    expect(got).toHaveLength(1)
    expect(got[0]!.equals(body)).toBe(true)
  })

  it('refuses sizes outside 0..maxFrameSize before allocating anything', () => {
    for (const size of [-1, 101, 0x7fffffff]) {
      const reader = new FrameReader({maxFrameSize: 100, onFrame: () => undefined})
      const head = Buffer.alloc(4)
      head.writeInt32BE(size)
      expect(() => reader.push(head)).toThrow(FrameSizeError)
    }
    const empty: Buffer[] = []
    const reader = new FrameReader({maxFrameSize: 100, onFrame: (f) => empty.push(f)})
    reader.push(Buffer.alloc(8))
    expect(empty).toEqual([Buffer.alloc(0), Buffer.alloc(0)])
  })
})
