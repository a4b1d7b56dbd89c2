// Large buffers reused once their last reader is done with them: the client's fetch responses and
// the broker's fetch reads. A fresh megabyte per response costs page faults and, through V8's
// accounting of external memory, a full garbage collection every few dozen megabytes (`kcli
// consume` of 500 MB spent a fifth of its CPU time there, the broker serving it a third).
//
// Giving a buffer back is its user's promise that nothing refers to it any more; a buffer never
// given back is collected as usual. Only buffers this pool made are taken back, found from any
// view of them.

export class BufferPool {
  private readonly free: Buffer[] = []
  /** The buffers this pool made, by their memory, so that a view of one finds its way back. */
  private readonly owned = new WeakMap<ArrayBufferLike, Buffer>()

  /**
   * @param maxFree buffers kept for reuse at most
   * @param granule pooled sizes are rounded up to a multiple of this, and smaller requests are
   *   plain allocations (Node's own slab serves them better)
   * @param maxSize larger requests are plain allocations too, so that one huge buffer is not kept
   */
  constructor(
    private readonly maxFree = 8,
    private readonly granule = 64 * 1024,
    private readonly maxSize = Number.POSITIVE_INFINITY,
  ) {}

  /** A buffer of exactly `size` bytes (a view of a pooled one no more than twice as large). */
  take(size: number): Buffer {
    if (size < this.granule || size > this.maxSize) return Buffer.allocUnsafe(size)
    const i = this.free.findIndex((b) => b.length >= size && b.length <= 2 * size)
    if (i >= 0) return this.free.splice(i, 1)[0]!.subarray(0, size)
    const buffer = Buffer.allocUnsafeSlow(Math.ceil(Math.max(size, 1) / this.granule) * this.granule)
    this.owned.set(buffer.buffer, buffer)
    return buffer.subarray(0, size)
  }

  /** Gives back the pooled buffer that `view` is part of (nothing happens for other buffers). */
  release(view: Buffer): void {
    const buffer = this.owned.get(view.buffer)
    if (!buffer || this.free.includes(buffer)) return
    if (this.free.length >= this.maxFree) this.free.shift()
    this.free.push(buffer)
  }
}
