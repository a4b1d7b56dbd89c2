/**
 * The replication throttles a reassignment sets (Kafka's ReplicationQuotaManager, one per side):
 * the bytes per second that replicas out of the ISR may copy, and only those.
 *
 * - Follower side: `follower.replication.throttled.rate` (broker) over the partitions this broker
 *   follows without being in their ISR and that its topic lists in
 *   `follower.replication.throttled.replicas` as `<partition>:<this broker>` (or `*`). The fetcher
 *   asks for at most the share left and leaves them out of its fetches while the rate is spent.
 * - Leader side: `leader.replication.throttled.rate` over the partitions this broker leads that the
 *   topic lists in `leader.replication.throttled.replicas` as `<partition>:<this broker>` (or `*`),
 *   for fetches from a follower not in their ISR: while the rate is spent, such a fetch gets the
 *   partition's offsets with no records (as Kafka's ReplicaManager returns an empty set), and the
 *   bytes it does send are counted afterwards.
 *
 * The rates are dynamic broker configs: this broker's own, else the cluster default; unset means
 * no throttle. Each side is one token bucket holding at most a second's worth, which may go into
 * debt by the batch that overshot it (a fetch always returns whole batches). The follower side
 * reserves the bytes a fetch may bring before sending it and settles after (`reserve`/`settle`):
 * fetchers to different leaders run at once, and checking the bucket only before fetching let
 * each of them copy up to the whole second's worth.
 */
import type {MetadataStore, TopicMetadata} from '../controller/metadata-store.js'

/** A token bucket of bytes per second, holding at most one second of tokens. */
export class ByteRate {
  private tokens = 0
  private last = Date.now()

  /** The bytes that may be copied now at `rate` bytes per second (negative while in debt). */
  available(rate: number, now = Date.now()): number {
    this.tokens = Math.min(rate, this.tokens + ((now - this.last) / 1000) * rate)
    this.last = now
    return this.tokens
  }

  spend(bytes: number): void {
    this.tokens -= bytes
  }

  /**
   * Takes up to `want` bytes of tokens before a fetch: as many as the bucket holds (whole bytes),
   * none while it is empty or in debt. The fetch then asks for at most what it was granted, and
   * `settle` squares the account with what it brought.
   */
  reserve(rate: number, want: number, now = Date.now()): number {
    const granted = Math.max(0, Math.min(want, Math.floor(this.available(rate, now))))
    this.tokens -= granted
    return granted
  }

  /** After a fetch that reserved `reserved` bytes and copied `used`: the unused part back, an overshoot (a whole batch past the grant) as debt. */
  settle(reserved: number, used: number): void {
    this.tokens += reserved - used
  }
}

/**
 * The follower fetcher's grant for `partitions` throttled partitions of at most `maxBytes` each
 * (replica.fetch.max.bytes): nothing until the bucket holds a full fetch, or 0.9 s's worth when
 * the rate is lower (a smaller grant would still bring the leader's next whole batch, in debt);
 * then all it holds up to the full fetch, shared equally (`share` per partition). Settle the
 * bucket with `reserved` and the bytes the fetch brought. Without a grant, `waitMs` is when to ask
 * again.
 */
export function reserveFetch(bucket: ByteRate, rate: number, partitions: number, maxBytes: number, now = Date.now()): {reserved: number; share: number; waitMs: number} {
  if (partitions === 0) return {reserved: 0, share: 0, waitMs: 0}
  const want = partitions * maxBytes
  // A full fetch, or 90% of the second's worth the bucket holds at most: the bucket stops filling
  // there, so waiting for it to be full would lose the rate of every late wake-up.
  const threshold = Math.min(want, rate * 0.9)
  const available = bucket.available(rate, now)
  if (available < threshold) return {reserved: 0, share: 0, waitMs: Math.ceil(((threshold - available) / rate) * 1000)}
  const reserved = bucket.reserve(rate, want, now)
  return {reserved, share: reserved > 0 ? Math.max(1, Math.floor(reserved / partitions)) : 0, waitMs: 0}
}

export type ThrottleSide = 'follower' | 'leader'

export interface ThrottledPartition {
  topic: string
  partition: number
  isr: readonly number[]
}

export class ReplicationThrottle {
  readonly bucket = new ByteRate()
  private readonly rateConfig: string
  private readonly replicasConfig: string

  constructor(
    side: ThrottleSide,
    private readonly nodeId: number,
    private readonly metadata: Pick<MetadataStore, 'brokerConfigs' | 'topic'>,
    private readonly topicConfigs: (topic: TopicMetadata) => Record<string, string>,
  ) {
    this.rateConfig = `${side}.replication.throttled.rate`
    this.replicasConfig = `${side}.replication.throttled.replicas`
  }

  /** Bytes per second; +Infinity when not set. */
  rate(): number {
    const value = this.metadata.brokerConfigs(this.nodeId)[this.rateConfig] ?? this.metadata.brokerConfigs('')[this.rateConfig]
    return value === undefined ? Number.POSITIVE_INFINITY : Number(value)
  }

  /** Whether copying `p` to `replica` (this broker on the follower side, the fetching follower on the leader side) is throttled. */
  throttles(p: ThrottledPartition, replica: number): boolean {
    if (p.isr.includes(replica)) return false
    const topic = this.metadata.topic(p.topic)
    const list = topic ? (this.topicConfigs(topic)[this.replicasConfig] ?? '') : ''
    if (list === '') return false
    const self = `${p.partition}:${this.nodeId}`
    return list.split(',').some((entry) => {
      const e = entry.trim()
      return e === '*' || e === self
    })
  }
}
