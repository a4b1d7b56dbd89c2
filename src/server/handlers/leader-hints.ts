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

  constructor(private readonly metadata: MetadataStore) {}

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
    return this.metadata.brokers().filter((b) => this.leaders.has(b.nodeId)).map((b) => ({nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack}))
  }
}
