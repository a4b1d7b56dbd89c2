// The consumer: a fetch loop over assigned partitions, either assigned by the caller (assign) or
// by a consumer group (subscribe; group-member.ts).
//
// Fetching: one Fetch per partition leader at a time, on 'fetch' connections (a long poll must not
// delay other requests). As soon as a response arrives the next Fetch for that broker is sent with
// the positions after the data received (prefetch), while the records are decoded and handed to
// the caller, so the broker is never idle waiting for the caller. Fetch v13+ names topics by id.
//
// Positions: `fetchPosition` advances when data arrives; `position` (what commit() commits)
// advances when the caller has taken a batch, to the offset after it (after its last offset, even
// when compaction removed its last records). Batches may start before the fetch offset
// (compressed batches, compaction): records before it are dropped.
//
// Transactions, as Kafka's consumer reads them: control batches (transaction markers) are handed
// over without records, so that positions move past them (a partition that ends with a commit
// marker is at its end only past the marker). With read_committed the broker returns records up to
// the last stable offset together with the aborted transactions among them; a transactional batch
// of a producer whose aborted transaction started at or before the batch is dropped, until that
// producer's ABORT marker.
//
// Errors: NOT_LEADER_OR_FOLLOWER and the like mark the topic stale; its partitions are fetched
// again after a metadata refresh. OFFSET_OUT_OF_RANGE resets the position per
// autoOffsetReset ('earliest', 'latest'; 'none' fails).

import {ApiKey} from '../protocol/generated/api-keys.js'
import type {FetchResponse} from '../protocol/generated/fetch-response.js'
import {iterateBatches, validateBatch} from '../records/batch.js'
import {ControlRecordType, controlRecordType, decodeRecordBatch, type Record} from '../records/record.js'
import {Admin, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP} from './admin.js'
import {type KafkaClient, sleep} from './client.js'
import {ErrorCode, isStaleMetadataCode, KafkaError} from './errors.js'
import {type GroupAssignment, GroupMember, type GroupMemberOptions} from './group-member.js'
import {responseBuffers} from './response-buffers.js'

export interface ConsumerOptions {
  /** Fetch.maxWaitMs: how long the broker may hold a fetch waiting for data. Default 500 ms. */
  maxWaitMs?: number
  minBytes?: number
  /** Bytes per response. Default 50 MiB. */
  maxBytes?: number
  /** Bytes per partition per response. Default 1 MiB (Kafka's max.partition.fetch.bytes; larger fetches were slower against both brokers). */
  partitionMaxBytes?: number
  /** 0 read_uncommitted (default), 1 read_committed. */
  isolationLevel?: number
  /** Where to start without a committed offset, and after OFFSET_OUT_OF_RANGE. Default 'latest'. */
  autoOffsetReset?: 'earliest' | 'latest' | 'none'
  /** Consumer group settings for subscribe(). */
  group?: Omit<GroupMemberOptions, 'groupId'> & {groupId: string}
  /**
   * Reuse the memory of each fetch response once its batches are done with (default false). Keys,
   * values and header values are views of the response, so with this a caller must copy what it
   * keeps beyond the next batch it asks batches() for after the last one of that response.
   */
  recycleBuffers?: boolean
}

/**
 * A record as the decoder returns it (src/lib/records/record.ts): offset and timestamp are
 * numbers (safe integers, checked by the decoder), key/value slices of the fetched bytes.
 */
export type ConsumedRecord = Record

/**
 * The records of one RecordBatch of a partition (its records from the fetch position on); no
 * records for a control batch, an aborted batch under read_committed, or a fetch that found nothing.
 */
export interface ConsumedBatch {
  topic: string
  partition: number
  records: Record[]
  /** The offset the batch starts at (the fetch offset for a fetch that found nothing). */
  firstOffset: bigint
  /** The offset after the batch: the position once the batch is taken. */
  nextOffset: bigint
  /** 0 CreateTime, 1 LogAppendTime. */
  timestampType: number
  leaderEpoch: number
  highWatermark: bigint
}

export interface PartitionPosition {
  topic: string
  partition: number
  offset: bigint
}

interface PartitionState {
  topic: string
  partition: number
  /** Next offset to fetch. */
  fetchPosition: bigint
  /** Next offset the caller has not taken yet. */
  position: bigint
  leaderEpoch: number
  highWatermark: bigint
  paused: boolean
  /** Counts seeks: batches fetched before the latest seek are dropped. */
  seekEpoch: number
}

interface PendingPartition {
  state: PartitionState
  records: Buffer
  fetchOffset: bigint
  highWatermark: bigint
  /** read_committed: the aborted transactions the broker listed for these records. */
  aborted: readonly {producerId: bigint; firstOffset: bigint}[]
  /** The partition's seekEpoch when the fetch was sent. */
  seekEpoch: number
}

/** A decoded batch and the seek epoch of the fetch that brought it. */
interface Fetched {
  batch: ConsumedBatch
  seekEpoch: number
}

/** Whether the control batch at `position` is a transaction ABORT marker (CRC-checked; its key read in place). */
function isAbortMarker(records: Buffer, position: number): boolean {
  validateBatch(records, position)
  return controlRecordType(records, position) === ControlRecordType.Abort
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

export class Consumer {
  readonly options: Required<Omit<ConsumerOptions, 'group'>> & {group?: ConsumerOptions['group']}
  readonly admin: Admin
  private readonly states = new Map<string, PartitionState>()
  private member: GroupMember | undefined
  private subscription: string[] = []
  private assignment: GroupAssignment | undefined
  private generation = 0
  private stopped = false
  /** Fetches waiting for their response, by broker. */
  private readonly inFlight = new Map<number, Promise<void>>()
  /** Responses received, being decoded, in arrival order; release() gives the response's memory back. */
  private ready: Promise<{generation: number; batches: Fetched[]; release(): void}>[] = []
  private failure: Error | undefined
  /** Responses kept decoded ahead of the caller before fetching pauses. */
  private static readonly MAX_READY = 4
  /** Called after a (re)join with the new assignment, and before revoking with the old one. */
  onAssign?: (partitions: PartitionPosition[]) => void | Promise<void>
  onRevoke?: (partitions: PartitionPosition[]) => void | Promise<void>

  constructor(
    readonly client: KafkaClient,
    options: ConsumerOptions = {},
  ) {
    this.options = {
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 50 * 1024 * 1024,
      partitionMaxBytes: 1024 * 1024,
      isolationLevel: 0,
      autoOffsetReset: 'latest',
      recycleBuffers: false,
      ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ConsumerOptions),
    }
    this.admin = new Admin(client)
  }

  /** Consume exactly these partitions from these offsets (no group). */
  assign(partitions: readonly PartitionPosition[]): void {
    this.states.clear()
    this.ready = []
    this.generation++
    for (const p of partitions) this.states.set(tpKey(p.topic, p.partition), this.newState(p.topic, p.partition, p.offset))
  }

  /** Join the consumer group (options.group) for these topics; the first batches() call joins. */
  subscribe(topics: readonly string[]): void {
    if (!this.options.group) throw new Error('subscribe() needs options.group')
    this.subscription = [...topics]
    this.member = new GroupMember(this.admin, this.options.group)
  }

  get groupAssignment(): GroupAssignment | undefined {
    return this.assignment
  }

  /** The partitions being consumed, with the next offset the caller will get. */
  positions(): PartitionPosition[] {
    return [...this.states.values()].map((s) => ({offset: s.position, partition: s.partition, topic: s.topic}))
  }

  /** Stop fetching a partition (e.g. it reached the caller's end bound). */
  pause(topic: string, partition: number): void {
    const state = this.states.get(tpKey(topic, partition))
    if (state) state.paused = true
  }

  /**
   * Fetch a paused partition again, from the caller's position: batches fetched while it was paused
   * were dropped (their fetch position had moved past them), so fetching restarts where the caller is.
   */
  resume(topic: string, partition: number): void {
    const state = this.states.get(tpKey(topic, partition))
    if (!state || !state.paused) return
    state.paused = false
    this.seek(topic, partition, state.position)
  }

  seek(topic: string, partition: number, offset: bigint): void {
    const state = this.states.get(tpKey(topic, partition))
    if (state) {
      state.fetchPosition = offset
      state.position = offset
      state.seekEpoch++
    }
  }

  /** Ends batches() at the next opportunity. */
  stop(): void {
    this.stopped = true
  }

  /** Batches of records, in order per partition, until stop() or every partition is paused. */
  async *batches(): AsyncGenerator<ConsumedBatch> {
    while (!this.stopped) {
      if (this.member && this.member.needsRejoin) await this.rejoin()
      if (this.member) this.checkSubscribedPartitions()
      if (this.member?.heartbeatError) throw this.member.heartbeatError
      if (this.failure) throw this.failure
      const active = [...this.states.values()].some((s) => !s.paused)
      if (!active && !this.member && this.ready.length === 0) return
      this.launchFetches()
      const next = this.ready.shift()
      if (!next) {
        if (this.inFlight.size === 0) await sleep(this.member ? 100 : 20)
        else await Promise.race([...this.inFlight.values()])
        continue
      }
      const result = await next
      if (result.generation !== this.generation) {
        result.release()
        continue
      }
      for (const {batch, seekEpoch} of result.batches) {
        if (this.stopped) return
        const state = this.states.get(tpKey(batch.topic, batch.partition))
        if (!state || state.paused || seekEpoch !== state.seekEpoch) continue
        // Hand over what is at or after the caller's position. (A batch may start after it when
        // compaction removed the offsets in between.)
        const position = state.position
        if (batch.nextOffset <= position && batch.nextOffset > batch.firstOffset) continue
        if (batch.records.length > 0 && batch.records[0]!.offset < Number(position)) {
          batch.records = batch.records.filter((r) => r.offset >= Number(position))
        }
        if (batch.nextOffset > position) state.position = batch.nextOffset
        yield batch
      }
      // The caller asked for more after the response's last batch: its memory may be reused.
      result.release()
    }
  }

  private lastPartitionCheck = 0
  private checkingPartitions = false

  /**
   * The group's leader watches the partition counts of the subscribed topics (as the Java
   * consumer's leader does) and rejoins when one changed since its assignment, e.g. a topic that
   * did not exist yet was created: every 2 s while a subscribed topic is missing, else every
   * metadata.max.age.ms.
   */
  private checkSubscribedPartitions(): void {
    const member = this.member!
    const counts = member.assignedPartitionCounts
    if (this.checkingPartitions || counts.size === 0 || member.needsRejoin) return
    const interval = [...counts.values()].some((n) => n === 0) ? 2000 : this.client.options.metadataMaxAgeMs
    if (Date.now() - this.lastPartitionCheck < interval) return
    this.lastPartitionCheck = Date.now()
    this.checkingPartitions = true
    this.client.refreshMetadata([...counts.keys()])
      .then((metadata) => {
        const now = new Map(metadata.topics.map((t) => [t.name, t.errorCode === 0 ? t.partitions.length : 0]))
        if (member.assignedPartitionCounts === counts && [...counts].some(([topic, n]) => (now.get(topic) ?? 0) !== n)) member.needsRejoin = true
      })
      .catch(() => undefined)
      .finally(() => { this.checkingPartitions = false })
  }

  /** Commits the positions (or `offsets`) for the group. */
  async commit(offsets: readonly PartitionPosition[] = this.positions()): Promise<void> {
    if (!this.options.group || offsets.length === 0) return
    const results = await this.admin.commitOffsets(
      this.options.group.groupId,
      offsets.map((o) => ({offset: o.offset, partition: o.partition, topic: o.topic})),
      this.member && this.member.generationId >= 0 ? {generationId: this.member.generationId, groupInstanceId: this.options.group.groupInstanceId, memberId: this.member.memberId} : {generationId: -1, memberId: ''},
    )
    const failed = results.find((r) => r.errorCode !== 0)
    if (failed) {
      if (failed.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || failed.errorCode === ErrorCode.ILLEGAL_GENERATION || failed.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        if (this.member) this.member.needsRejoin = true
      }
      throw KafkaError.fromCode(failed.errorCode, `commit ${failed.topic}-${failed.partition}`)
    }
  }

  /** Stops, and leaves the group (committing first when `commit`). */
  async close(options: {commit?: boolean} = {}): Promise<void> {
    this.stopped = true
    if (this.member) {
      if (options.commit && !this.member.needsRejoin) await this.commit().catch(() => undefined)
      await this.member.leave()
    }
    // Fetches still in flight are long polls that may wait maxWaitMs for data nobody will read:
    // they are dropped, not awaited (closing the client ends them).
    this.inFlight.clear()
    this.ready = []
  }

  private newState(topic: string, partition: number, offset: bigint): PartitionState {
    return {fetchPosition: offset, highWatermark: -1n, leaderEpoch: -1, partition, paused: false, position: offset, seekEpoch: 0, topic}
  }

  private async rejoin(): Promise<void> {
    const member = this.member!
    if (this.assignment) {
      await this.onRevoke?.(this.positions())
      await this.commit().catch(() => undefined)
    }
    this.generation++
    this.ready = []
    this.states.clear()
    const assignment = await member.join(this.subscription)
    this.assignment = assignment
    const partitions = assignment.partitions.flatMap((t) => t.partitions.map((partition) => ({partition, topic: t.topic})))
    const committed = partitions.length > 0 ? await this.admin.fetchOffsets(member.groupId, assignment.partitions) : []
    const needReset = partitions.filter((p) => !committed.some((c) => c.topic === p.topic && c.partition === p.partition && c.offset >= 0n))
    const resets = await this.resetOffsets(needReset)
    for (const p of partitions) {
      const c = committed.find((x) => x.topic === p.topic && x.partition === p.partition && x.offset >= 0n)
      const offset = c ? c.offset : resets.get(tpKey(p.topic, p.partition))!
      this.states.set(tpKey(p.topic, p.partition), this.newState(p.topic, p.partition, offset))
    }
    await this.onAssign?.(this.positions())
  }

  /** Offsets per autoOffsetReset for partitions without a valid position. */
  private async resetOffsets(partitions: readonly {topic: string; partition: number}[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>()
    if (partitions.length === 0) return out
    if (this.options.autoOffsetReset === 'none') {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, 'NO_OFFSET', `no committed offset for ${partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')}`)
    }
    const timestamp = this.options.autoOffsetReset === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP
    const listed = await this.admin.listOffsets(partitions.map((p) => ({...p, timestamp})), {isolationLevel: this.options.isolationLevel})
    for (const l of listed) {
      if (l.errorCode !== 0) throw KafkaError.fromCode(l.errorCode, `${l.topic}-${l.partition}`)
      out.set(tpKey(l.topic, l.partition), l.offset)
    }
    return out
  }

  /** Sends a Fetch to every leader that has active partitions and no fetch in flight. */
  private launchFetches(): void {
    const byLeader = new Map<number, PartitionState[]>()
    let stale = false
    for (const state of this.states.values()) {
      if (state.paused) continue
      const leader = this.client.metadata.leader(state.topic, state.partition)
      if (leader === undefined || this.client.metadata.isStale(state.topic, this.client.options.metadataMaxAgeMs)) {
        stale = true
        continue
      }
      const list = byLeader.get(leader) ?? []
      list.push(state)
      byLeader.set(leader, list)
    }
    if (stale) this.refreshMetadata()
    if (this.ready.length >= Consumer.MAX_READY) return
    for (const [nodeId, states] of byLeader) {
      if (this.inFlight.has(nodeId)) continue
      const generation = this.generation
      const promise = this.fetchFrom(nodeId, states)
        .then(
          ({decoded, frame}) => {
            const release = this.options.recycleBuffers && frame ? () => responseBuffers.release(frame) : () => undefined
            this.ready.push(decoded.then((batches) => ({batches, generation, release})))
          },
          async (error: unknown) => {
            if (error instanceof KafkaError && !error.retriable) {
              this.failure ??= error
              return
            }
            for (const s of states) this.client.metadata.markStale(s.topic)
            await sleep(this.client.options.retryBackoffMs)
          },
        )
        .finally(() => {
          if (this.inFlight.get(nodeId) === promise) this.inFlight.delete(nodeId)
          if (!this.stopped && generation === this.generation) this.launchFetches()
        })
      this.inFlight.set(nodeId, promise)
    }
  }

  private refreshing: Promise<unknown> | undefined
  private refreshMetadata(): void {
    if (this.refreshing) return
    const topics = [...new Set([...this.states.values()].map((s) => s.topic))]
    this.refreshing = this.client
      .refreshMetadata(topics)
      .catch(() => sleep(this.client.options.retryBackoffMs))
      .finally(() => {
        this.refreshing = undefined
      })
  }

  /**
   * Sends one Fetch; resolves when the response is in (positions advanced) with the decoding still
   * to finish, and a view of the response's memory (any of its record sets) when it has records.
   */
  private async fetchFrom(nodeId: number, states: PartitionState[]): Promise<{decoded: Promise<Fetched[]>; frame: Buffer | undefined}> {
    const connection = await this.client.connectionTo(nodeId, 'fetch')
    const version = connection.versionFor(ApiKey.Fetch, {minVersion: 4})
    // A response belongs to the assignment it was sent for: after a rejoin (or assign()) the
    // partitions have new states, which it must not advance — its batches are dropped as the old
    // generation's, so positions moved by it would skip records never handed over.
    const sent = new Map(states.map((s) => [tpKey(s.topic, s.partition), {fetchOffset: s.fetchPosition, state: s}]))
    const byTopic = new Map<string, PartitionState[]>()
    for (const s of states) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s])
    const topicIds = new Map<string, string>()
    for (const topic of byTopic.keys()) topicIds.set(this.client.metadata.topic(topic)?.topicId ?? '', topic)
    const response: FetchResponse = await connection.send(
      ApiKey.Fetch,
      {
        isolationLevel: this.options.isolationLevel,
        maxBytes: this.options.maxBytes,
        maxWaitMs: this.options.maxWaitMs,
        minBytes: this.options.minBytes,
        replicaId: -1,
        sessionEpoch: -1,
        sessionId: 0,
        topics: [...byTopic].map(([topic, list]) => ({
          partitions: list.map((s) => ({currentLeaderEpoch: -1, fetchOffset: s.fetchPosition, lastFetchedEpoch: -1, logStartOffset: -1n, partition: s.partition, partitionMaxBytes: this.options.partitionMaxBytes})),
          topic,
          topicId: this.client.metadata.topic(topic)?.topicId,
        })),
      },
      {timeoutMs: this.client.options.requestTimeoutMs + this.options.maxWaitMs, version},
    )
    if (response.errorCode !== 0) throw KafkaError.fromCode(response.errorCode, `Fetch from node ${nodeId}`)
    // First advance the fetch positions (so the next fetch can go out), then decode.
    const pending: PendingPartition[] = []
    let frame: Buffer | undefined
    for (const topicResponse of response.responses) {
      const topic = version >= 13 ? topicIds.get(topicResponse.topicId) : topicResponse.topic
      if (topic === undefined) continue
      for (const p of topicResponse.partitions) {
        const key = tpKey(topic, p.partitionIndex)
        const request = sent.get(key)
        if (!request || this.states.get(key) !== request.state || request.state.fetchPosition !== request.fetchOffset) continue
        const {fetchOffset, state} = request
        if (p.errorCode !== 0) {
          await this.handlePartitionError(state, p.errorCode)
          continue
        }
        state.highWatermark = p.highWatermark
        const records = p.records
        if (records && records.length > 0) frame ??= records
        const aborted = this.options.isolationLevel === 1 ? (p.abortedTransactions ?? []) : []
        if (!records || records.length === 0) {
          pending.push({aborted, fetchOffset, highWatermark: p.highWatermark, records: Buffer.alloc(0), seekEpoch: state.seekEpoch, state})
          continue
        }
        let next = fetchOffset
        for (const {header} of iterateBatches(records)) next = BigInt(header.lastOffset) + 1n > next ? BigInt(header.lastOffset) + 1n : next
        state.fetchPosition = next
        pending.push({aborted, fetchOffset, highWatermark: p.highWatermark, records, seekEpoch: state.seekEpoch, state})
      }
    }
    const decoded = this.decode(pending)
    decoded.catch(() => undefined) // awaited (and reported) by batches()
    return {decoded, frame}
  }

  private async decode(pending: PendingPartition[]): Promise<Fetched[]> {
    const out: Fetched[] = []
    for (const {aborted, fetchOffset, highWatermark, records, seekEpoch, state} of pending) {
      const push = (batch: ConsumedBatch) => out.push({batch, seekEpoch})
      const from = Number(fetchOffset)
      const base = {highWatermark, partition: state.partition, topic: state.topic}
      // read_committed: the aborted transactions of this response, by first offset; the producers
      // whose aborted transaction has begun (Kafka's CompletedFetch does the same).
      const abortedQueue = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
      const abortedProducers = new Set<bigint>()
      let any = false
      for (const {header, position} of iterateBatches(records)) {
        if (header.lastOffset < from) continue
        any = true
        const bounds = {firstOffset: BigInt(header.baseOffset), nextOffset: BigInt(header.lastOffset) + 1n}
        const empty = {...base, ...bounds, leaderEpoch: header.partitionLeaderEpoch, records: [], timestampType: header.timestampType}
        if (abortedQueue.length > 0 || abortedProducers.size > 0) {
          while (abortedQueue.length > 0 && abortedQueue[0]!.firstOffset <= bounds.nextOffset - 1n) abortedProducers.add(abortedQueue.shift()!.producerId)
          const producerId = BigInt(header.producerId)
          if (header.isControl) {
            if (abortedProducers.has(producerId) && isAbortMarker(records, position)) abortedProducers.delete(producerId)
          } else if (header.isTransactional && abortedProducers.has(producerId)) {
            push(empty)
            continue
          }
        }
        if (header.isControl) {
          push(empty)
          continue
        }
        const decoded = await decodeRecordBatch(records, position)
        let list = decoded.records
        if (list.length > 0 && list[0]!.offset < from) list = list.filter((r) => r.offset >= from)
        push({...empty, records: list})
      }
      if (!any) push({...base, firstOffset: fetchOffset, leaderEpoch: -1, nextOffset: fetchOffset, records: [], timestampType: 0})
    }
    return out
  }

  private async handlePartitionError(state: PartitionState, code: number): Promise<void> {
    if (isStaleMetadataCode(code)) {
      this.client.metadata.markStale(state.topic)
      return
    }
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      const offsets = await this.resetOffsets([state])
      const offset = offsets.get(tpKey(state.topic, state.partition))!
      state.fetchPosition = offset
      state.position = offset
      return
    }
    throw KafkaError.fromCode(code, `${state.topic}-${state.partition}`)
  }
}
