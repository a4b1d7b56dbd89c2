// Buffers for large responses (fetch responses, mostly), reused once their reader is done with
// them. A fresh megabyte per fetch costs page faults and, through V8's accounting of external
// memory, a full garbage collection every few dozen megabytes; `kcli consume` of 500 MB spent a
// fifth of its CPU time there.
//
// The connection takes every frame too large for its scratch buffer from here. Giving one back is
// the reader's promise that nothing refers to the response any more (see the consumer's
// recycleBuffers option); frames never given back are collected as usual.

const GRANULE = 64 * 1024
const MAX_FREE = 8
const free: Buffer[] = []
/** The buffers this pool made, by their memory, so that a view of one finds its way back. */
const owned = new WeakMap<ArrayBufferLike, Buffer>()

/** A buffer of exactly `size` bytes (a view of a pooled one). */
export function takeResponseBuffer(size: number): Buffer {
  const i = free.findIndex((b) => b.length >= size && b.length <= 2 * size)
  if (i >= 0) return free.splice(i, 1)[0]!.subarray(0, size)
  const buffer = Buffer.allocUnsafeSlow(Math.ceil(Math.max(size, 1) / GRANULE) * GRANULE)
  owned.set(buffer.buffer, buffer)
  return buffer.subarray(0, size)
}

/** Gives back the pooled buffer that `view` is part of (nothing happens for other buffers). */
export function releaseResponseBuffer(view: Buffer): void {
  const buffer = owned.get(view.buffer)
  if (!buffer || free.includes(buffer)) return
  if (free.length >= MAX_FREE) free.shift()
  free.push(buffer)
}
