/**
 * MirrorMaker 2's offset syncs and checkpoints: their record formats, when a source task emits a
 * sync, and how a checkpoint task translates a group's upstream offset through the syncs.
 *
 * Record formats are MM2's (org.apache.kafka.connect.mirror.OffsetSync / Checkpoint), written with
 * Kafka's protocol types (big-endian; a STRING is an int16 length and UTF-8 bytes), so Apache
 * Kafka's MirrorClient / RemoteClusterUtils read what we write and the other way round:
 *   offset sync    key   {topic: STRING, partition: INT32}
 *                  value {upstreamOffset: INT64, offset: INT64}
 *   checkpoint     key   {group: STRING, topic: STRING, partition: INT32}   (topic: the remote topic)
 *                  value {version: INT16 = 0}{upstreamOffset: INT64, offset: INT64, metadata: STRING}
 *
 * Translation (OffsetSyncStore.translateDownstream, Kafka 3.5+): the latest sync whose upstream
 * offset is at or before the group's offset u gives the downstream offset: d when u equals the
 * sync's upstream offset, d + 1 when the group is past it (records after a sync may or may not have
 * been replicated, so a larger guess could skip records). A group before every known sync cannot be
 * translated (no checkpoint). So a consumer switched to the target never skips a record; it may
 * read again the records between the last sync before its offset and its offset — at most
 * `offset.lag.max` of them while replication runs, none when its offset is at a sync (the source
 * task also syncs the latest offsets at every offset commit, so caught-up groups translate exactly).
 */

export interface OffsetSync {
  topic: string
  partition: number
  upstreamOffset: bigint
  downstreamOffset: bigint
}

export interface Checkpoint {
  group: string
  /** The remote (target) topic name. */
  topic: string
  partition: number
  upstreamOffset: bigint
  downstreamOffset: bigint
  metadata: string
}

class Writer {
  private readonly parts: Buffer[] = []
  string(s: string): this {
    const b = Buffer.from(s, 'utf8')
    if (b.length > 32767) throw new Error('string too long for an INT16 length')
    const len = Buffer.alloc(2)
    len.writeInt16BE(b.length)
    this.parts.push(len, b)
    return this
  }

  int16(n: number): this { const b = Buffer.alloc(2); b.writeInt16BE(n); this.parts.push(b); return this }
  int32(n: number): this { const b = Buffer.alloc(4); b.writeInt32BE(n); this.parts.push(b); return this }
  int64(n: bigint): this { const b = Buffer.alloc(8); b.writeBigInt64BE(n); this.parts.push(b); return this }
  done(): Buffer { return Buffer.concat(this.parts) }
}

class Reader {
  private pos = 0
  constructor(private readonly buf: Buffer, private readonly what: string) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`${this.what}: truncated at byte ${this.pos}`)
  }

  string(): string {
    this.need(2)
    const len = this.buf.readInt16BE(this.pos)
    this.pos += 2
    if (len < 0) throw new Error(`${this.what}: null string at byte ${this.pos - 2}`)
    this.need(len)
    const s = this.buf.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return s
  }

  int16(): number { this.need(2); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v }
  int32(): number { this.need(4); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v }
  int64(): bigint { this.need(8); const v = this.buf.readBigInt64BE(this.pos); this.pos += 8; return v }
}

export function encodeOffsetSync(s: OffsetSync): {key: Buffer; value: Buffer} {
  return {
    key: new Writer().string(s.topic).int32(s.partition).done(),
    value: new Writer().int64(s.upstreamOffset).int64(s.downstreamOffset).done(),
  }
}

export function decodeOffsetSync(key: Buffer, value: Buffer): OffsetSync {
  const k = new Reader(key, 'offset sync key')
  const v = new Reader(value, 'offset sync value')
  return {topic: k.string(), partition: k.int32(), upstreamOffset: v.int64(), downstreamOffset: v.int64()}
}

export function encodeCheckpoint(c: Checkpoint): {key: Buffer; value: Buffer} {
  return {
    key: new Writer().string(c.group).string(c.topic).int32(c.partition).done(),
    value: new Writer().int16(0).int64(c.upstreamOffset).int64(c.downstreamOffset).string(c.metadata).done(),
  }
}

export function decodeCheckpoint(key: Buffer, value: Buffer): Checkpoint {
  const k = new Reader(key, 'checkpoint key')
  const v = new Reader(value, 'checkpoint value')
  const group = k.string()
  const topic = k.string()
  const partition = k.int32()
  const version = v.int16()
  if (version !== 0) throw new Error(`checkpoint value: unknown version ${version}`)
  return {group, topic, partition, upstreamOffset: v.int64(), downstreamOffset: v.int64(), metadata: v.string()}
}

/**
 * MirrorSourceTask.PartitionState: whether the (upstream, downstream) pair of a replicated record
 * needs an offset sync — the first record of this task's life, an upstream offset that is not the
 * previous one + 1 (a gap: compaction, transaction markers, a seek), a downstream offset that went
 * back (the remote topic was truncated), or a translation that would lag `offset.lag.max` behind.
 */
export class PartitionState {
  private previousUpstream = -1n
  private previousDownstream = -1n
  private lastSyncUpstream = -1n
  private lastSyncDownstream = -1n
  /** A sync is due (set by update, cleared by reset once sent). */
  pending = false

  constructor(private readonly maxOffsetLag: bigint) {}

  update(upstream: bigint, downstream: bigint): boolean {
    const noPreviousSync = this.lastSyncDownstream === -1n
    const tooStale = downstream - (this.lastSyncDownstream + 1n) >= this.maxOffsetLag
    const skippedUpstream = upstream - this.previousUpstream !== 1n
    const truncatedDownstream = downstream < this.previousDownstream
    if (noPreviousSync || tooStale || skippedUpstream || truncatedDownstream) {
      this.lastSyncUpstream = upstream
      this.lastSyncDownstream = downstream
      this.pending = true
    }
    this.previousUpstream = upstream
    this.previousDownstream = downstream
    return this.pending
  }

  /** The latest record's pair as a sync, when it differs from the last sync (MM2's delayed sync, sent at commit). */
  promoteLatest(): boolean {
    if (this.previousUpstream < 0n || (this.previousUpstream === this.lastSyncUpstream && this.previousDownstream === this.lastSyncDownstream)) return this.pending
    this.lastSyncUpstream = this.previousUpstream
    this.lastSyncDownstream = this.previousDownstream
    this.pending = true
    return true
  }

  sync(): {upstreamOffset: bigint; downstreamOffset: bigint} {
    return {upstreamOffset: this.lastSyncUpstream, downstreamOffset: this.lastSyncDownstream}
  }

  reset(): void {
    this.pending = false
  }
}

/** Syncs kept per partition: the newest ones, thinned to roughly exponential spacing for older offsets. */
const SYNCS_PER_PARTITION = 64

/**
 * OffsetSyncStore: the offset syncs read so far, per source topic-partition, in ascending upstream
 * order. A sync at or before an older one (a restarted task replicating again, a truncated remote
 * topic) replaces everything from its upstream offset on. Memory: at most 64 syncs per partition.
 */
export class OffsetSyncStore {
  private readonly syncs = new Map<string, OffsetSync[]>()

  add(sync: OffsetSync): void {
    const k = `${sync.topic}\u0000${sync.partition}`
    let list = this.syncs.get(k)
    if (!list) this.syncs.set(k, (list = []))
    while (list.length > 0 && list.at(-1)!.upstreamOffset >= sync.upstreamOffset) list.pop()
    // A remote topic truncated or replaced: downstream went back, the older syncs no longer hold.
    if (list.length > 0 && list.at(-1)!.downstreamOffset > sync.downstreamOffset) list.length = 0
    list.push(sync)
    if (list.length > SYNCS_PER_PARTITION) {
      // Keep the newest half as is, every other one of the older half.
      const half = list.length >> 1
      const thinned = list.slice(0, half).filter((_, i) => i % 2 === 0)
      list.splice(0, half, ...thinned)
    }
  }

  /** translateDownstream: the downstream offset for a group at `upstreamOffset`, -1 when too old, null without syncs. */
  translateDownstream(topic: string, partition: number, upstreamOffset: bigint): bigint | null {
    const list = this.syncs.get(`${topic}\u0000${partition}`)
    if (!list || list.length === 0) return null
    let found: OffsetSync | undefined
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.upstreamOffset <= upstreamOffset) { found = list[i]; break }
    }
    if (!found) return -1n
    return found.downstreamOffset + (upstreamOffset === found.upstreamOffset ? 0n : 1n)
  }
}
