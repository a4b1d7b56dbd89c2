/**
 * KIP-951: a Produce (v10+) or Fetch (v12+) answered NOT_LEADER_OR_FOLLOWER or
 * FENCED_LEADER_EPOCH names the partition's current leader and epoch, as the store has them, and
 * the response lists those leaders' endpoints (Produce v10+, Fetch v16+), so a client can go to
 * the new leader without a Metadata round trip.
 */
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {MetadataStore, TopicMetadata} from '../controller/metadata-store.js'

export interface NodeEndpointHint {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

export class LeaderHints {
  private readonly leaders = new Set<number>()

  /**
   * `listenerName`: the listener the request came in on; endpoints are the leaders' addresses on
   * it (a broker registered without it is left out, as Kafka does). Without it, each leader's
   * first registered address.
   */
  constructor(
    private readonly metadata: MetadataStore,
    private readonly listenerName?: string,
  ) {}

  /** Whether a partition error asks for a hint. */
  static wanted(errorCode: number): boolean {
    return errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || errorCode === ErrorCode.FENCED_LEADER_EPOCH
  }

  /** The current leader of a partition (-1/-1 when unknown); its endpoint goes into nodeEndpoints(). */
  currentLeader(topic: TopicMetadata | undefined, partition: number): {leaderId: number; leaderEpoch: number} {
    const p = topic?.partitions.find((x) => x.partition === partition)
    if (!p || p.leader < 0) return {leaderId: -1, leaderEpoch: -1}
    this.leaders.add(p.leader)
    return {leaderId: p.leader, leaderEpoch: p.leaderEpoch}
  }

  nodeEndpoints(): NodeEndpointHint[] {
    if (this.leaders.size === 0) return []
    const out: NodeEndpointHint[] = []
    for (const b of this.metadata.brokers()) {
      if (!this.leaders.has(b.nodeId)) continue
      const endpoint = this.listenerName !== undefined && b.listeners ? b.listeners.find((l) => l.name === this.listenerName) : b
      if (endpoint) out.push({nodeId: b.nodeId, host: endpoint.host, port: endpoint.port, rack: b.rack ?? null})
    }
    return out
  }
}
