/**
 * TransactionOffsets: offsets committed inside a transaction (TxnOffsetCommit), visible to
 * OffsetFetch only once the transaction commits — Kafka's pending transactional offsets of the
 * group coordinator.
 *
 * TxnOffsetCommit appends the OffsetCommit records (the group coordinator's formats) to the
 * group's partition of __consumer_offsets as one transactional batch of the producer (producer
 * id and epoch, no sequence), so they are durable before the answer, and keeps them pending per
 * producer id. When the transaction coordinator writes the COMMIT marker to that partition they
 * are applied to the group coordinator; an ABORT marker drops them. The records are appended
 * as the partition's leader with acks=all within offsets.commit.timeout.ms (Kafka's
 * GroupMetadataManager.storeOffsets: acks=-1). A partition's pending offsets live on the broker
 * that leads it (where TxnOffsetCommit and the markers arrive): on becoming its leader the group
 * coordinator's load skips records of aborted or still-open transactions (coordinator-log.ts), and
 * loadPartition() reads the open ones back here, so a transaction completed after a crash or a
 * failover (PrepareCommit found on load, markers written again) still applies its offsets; on
 * losing it, unloadPartition() forgets them.
 *
 * A partition with pending offsets is what OffsetFetch's requireStable (KIP-447) answers
 * UNSTABLE_OFFSET_COMMIT for: hasPending() is true from before the batch is appended until its
 * marker has applied or dropped them, so no fetch of the committed offset can slip in between.
 *
 * Owned by the TransactionCoordinator; mutated only from its per-transaction-id lock and markers.
 */
import {iterateBatches} from '../../lib/records/batch.js'
import {buildRecordBatch, decodeRecordBatch} from '../../lib/records/record.js'
import type {ReplicaManager} from '../replica-manager.js'
import {LogError} from '../log/errors.js'
import {OFFSETS_TOPIC} from './coordinator-log.js'
import type {GroupCoordinator} from './group-coordinator.js'
import {decodeCoordinatorKey, encodeOffsetCommitKey, encodeOffsetCommitValue} from './records.js'

interface PendingRecord {
  key: Buffer
  value: Buffer | null
  timestamp: number
}

export interface TxnOffset {
  topic: string
  partition: number
  offset: bigint
  leaderEpoch: number
  metadata: string
}

/** The key of `pendingCounts`: group, topic and partition of an offset. */
function offsetKey(group: string, topic: string, partition: number): string {
  return `${group}\u0000${topic}\u0000${partition}`
}

export class TransactionOffsets {
  /** producer id -> __consumer_offsets partition -> records waiting for the marker. */
  private readonly pending = new Map<number, Map<number, PendingRecord[]>>()
  /** How many pending records name each group/topic/partition. */
  private readonly pendingCounts = new Map<string, number>()

  constructor(
    private readonly groups: GroupCoordinator,
    private readonly replicas: ReplicaManager,
    private readonly now: () => number = Date.now,
    /** How long the acks=all append may wait for the ISR. */
    private readonly timeoutMs = 5000,
  ) {}

  /** Writes the offsets as a transactional batch to `partition` of __consumer_offsets and keeps them pending. */
  async commit(groupId: string, partition: number, producerId: number, producerEpoch: number, offsets: readonly TxnOffset[]): Promise<void> {
    if (offsets.length === 0) return
    const p = this.replicas.get(OFFSETS_TOPIC, partition)
    if (!p) throw new LogError('NOT_LEADER_OR_FOLLOWER', `${OFFSETS_TOPIC}-${partition} is not hosted here`)
    const timestamp = this.now()
    const records = offsets.map((o) => ({
      key: encodeOffsetCommitKey(groupId, o.topic, o.partition),
      value: encodeOffsetCommitValue({offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestamp: timestamp, expireTimestamp: -1}),
      timestamp,
    }))
    const batch = await buildRecordBatch({records, producerId, producerEpoch, baseSequence: -1, isTransactional: true})
    // Pending before the append (as Kafka's prepareTxnOffsetCommit): a requireStable fetch never
    // sees the old committed offset while these are on their way.
    this.addPending(producerId, partition, records)
    try {
      await this.replicas.appendAsLeader(p, batch, {origin: 'coordinator', requiredAcks: -1, timeoutMs: this.timeoutMs})
    } catch (error) {
      // Not acknowledged: the records may still be in the log (after the append, waiting for the
      // ISR); the transaction's marker decides them, and a reload reads them back.
      if (!(error instanceof LogError && (error.code === 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' || error.code === 'REQUEST_TIMED_OUT'))) this.removePending(producerId, partition, records)
      throw error
    }
  }

  /** Whether a transaction still open has offsets of this group and partition (KIP-447's unstable offset). */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    return this.pendingCounts.has(offsetKey(groupId, topic, partition))
  }

  private addPending(producerId: number, partition: number, records: readonly PendingRecord[]): void {
    let byPartition = this.pending.get(producerId)
    if (!byPartition) this.pending.set(producerId, (byPartition = new Map()))
    byPartition.set(partition, [...(byPartition.get(partition) ?? []), ...records])
    this.count(records, 1)
  }

  private removePending(producerId: number, partition: number, records: readonly PendingRecord[]): void {
    const byPartition = this.pending.get(producerId)
    const list = byPartition?.get(partition)
    if (!byPartition || !list) return
    const kept = list.filter((r) => !records.includes(r))
    if (kept.length > 0) byPartition.set(partition, kept)
    else byPartition.delete(partition)
    if (byPartition.size === 0) this.pending.delete(producerId)
    this.count(records, -1)
  }

  private count(records: readonly PendingRecord[], delta: 1 | -1): void {
    for (const r of records) {
      const key = decodeCoordinatorKey(r.key)
      if (key.type !== 'offset') continue
      const k = offsetKey(key.group, key.topic, key.partition)
      const n = (this.pendingCounts.get(k) ?? 0) + delta
      if (n > 0) this.pendingCounts.set(k, n)
      else this.pendingCounts.delete(k)
    }
  }

  /** A marker was written: apply (COMMIT) or drop (ABORT) the producer's pending offsets of that partition. */
  onMarker(topic: string, partition: number, producerId: number, commit: boolean): void {
    if (topic !== OFFSETS_TOPIC) return
    const records = this.pending.get(producerId)?.get(partition)
    if (!records) return
    // Applied and no longer pending in one step.
    this.removePending(producerId, partition, records)
    if (commit) this.groups.applyCommittedTransactionalOffsets(records)
  }

  /** No longer the leader of `partition`: its pending offsets go (its new leader reads them back). */
  unloadPartition(partition: number): void {
    for (const [producerId, byPartition] of [...this.pending]) {
      const records = byPartition.get(partition)
      if (records) this.removePending(producerId, partition, records)
    }
  }

  /** Becoming the leader of `partition`: the offset records of transactions still open in it become pending again. */
  async loadPartition(partition: number): Promise<number> {
    this.unloadPartition(partition)
    let count = 0
    for (const p of this.replicas.all()) {
      if (p.topic !== OFFSETS_TOPIC || p.partition !== partition) continue
      for (const [producerId, firstOffset] of p.log.producerState.openTransactions()) {
        let offset = Math.max(firstOffset, p.log.logStartOffset)
        const end = p.log.logEndOffset
        while (offset < end) {
          const read = await p.log.read(offset, 4 * 1024 * 1024, {minOneMessage: true, maxOffset: end})
          if (read.records.length === 0) break
          for (const {position, header} of iterateBatches(read.records)) {
            if (header.producerId !== producerId || !header.isTransactional || header.isControl || header.baseOffset < firstOffset) continue
            const batch = await decodeRecordBatch(read.records, position)
            const records: PendingRecord[] = []
            for (const r of batch.records) if (r.key) records.push({key: r.key, value: r.value, timestamp: r.timestamp})
            this.addPending(producerId, p.partition, records)
            count += batch.records.length
          }
          offset = Math.max(read.nextOffset, offset + 1)
        }
      }
    }
    return count
  }
}
