/**
 * The group coordinator: the one owner of every group's state (classic and KIP-848 consumer
 * groups) and of committed offsets, after Kafka 4.0's GroupMetadataManager and
 * OffsetMetadataManager. Handlers call its methods; nothing else changes a group.
 *
 * Concurrency: every state change happens synchronously inside one method call (Node runs one at
 * a time), so a group is never seen half-changed. Writes to __consumer_offsets are asynchronous:
 * a commit's offsets become visible when its records are in the log (appends of one partition
 * complete in order); group metadata is changed first and written after, as Kafka's timeline
 * does, and an assignment is handed out only once its GroupMetadata record is written.
 * OffsetFetch waits for the group's commits in flight, so a member that just got a partition
 * reads the offset its previous owner committed before leaving.
 *
 * Time comes from a CoordinatorTimer: the system clock in the broker, ManualTimer in the unit
 * tests, where the whole rebalance logic runs deterministically (member ids come from an
 * injectable generator too).
 *
 * Timers (keys): `join:<group>` (join phase deadline / initial delay), `sync:<group>` (members
 * must SyncGroup within the rebalance timeout), `heartbeat:<group>:<member>` (session timeout;
 * for members joining for the first time, a 5-minute join timeout, Kafka's
 * group.classic.new.member.join.timeout), `pending:<group>:<member>` (a member id handed out with
 * MEMBER_ID_REQUIRED must come back within the session timeout), `session:<group>:<member>` and
 * `rebalance:<group>:<member>` (consumer groups), `offsets-expiration` (periodic cleanup).
 *
 * Ownership (Kafka's coordinator runtime): the broker's coordinator owns exactly the partitions of
 * __consumer_offsets this broker leads. On becoming leader of partition N (the replica manager's
 * onLeadershipChange, also at start-up) it replays N (loadPartition); until that is done, requests
 * for the groups of N get COORDINATOR_LOAD_IN_PROGRESS (Heartbeat: NONE, as Kafka answers blindly);
 * on losing it (unloadPartition) N's groups and offsets are dropped, members waiting in JoinGroup
 * or SyncGroup get NOT_COORDINATOR, and so does every later request for them (the client finds the
 * new coordinator). Writes go to the leader with acks=all (coordinator-log.ts); their errors are
 * mapped as Kafka's CoordinatorOperationExceptionHelper does (writeErrorName). Without a
 * leadership source (unit tests, load()) it owns every partition. Other per-partition state (the
 * transaction coordinator's pending transactional offsets, attachPartitionState) is loaded as part
 * of the same load, before the partition serves, and dropped with it: a partition is either loading
 * or holds all of its state, and markers refused while it loads (partitionState) never slip
 * between the replay of the log and the reading of the open transactions (issue 13's exactly-once).
 *
 * Loading: a partition's replay restores offsets, classic group
 * metadata (a group with members comes back Stable at its generation, each member with a fresh
 * session deadline, so members that keep heartbeating after a broker restart continue without a
 * rebalance) and consumer group epochs. KIP-848 members are not persisted: after a restart they
 * get UNKNOWN_MEMBER_ID and rejoin (their group epoch keeps growing from the persisted one).
 */
import {randomUUID} from 'node:crypto'
import {ErrorCode, type ErrorName} from '../../lib/protocol/generated/errors.js'
import type {Logger} from '../logger.js'
import {ASSIGNORS, type Assignment, assignmentsEqual, cloneAssignment} from './assignors.js'
import {ClassicGroup, type ClassicGroupMember, type JoinResult, type SyncResult} from './classic-group.js'
import {
  ConsumerGroup,
  type ConsumerGroupMember,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  type OwnedPartitions,
  reconcileMember,
} from './consumer-group.js'
import type {ResolvedBrokerConfig} from '../../lib/config/broker-configs.js'
import type {MetadataStore} from '../controller/metadata-store.js'
import type {TopicManager} from '../controller/topic-manager.js'
import type {ReplicaManager} from '../replica-manager.js'
import {type CoordinatorLog, type CoordinatorRecord, coordinatorWriteErrorName, OFFSETS_TOPIC, ReplicaCoordinatorLog} from './coordinator-log.js'
import {type GroupCoordinatorConfig, groupConfigFrom} from './group-config.js'
import {
  decodeConsumerGroupMetadataValue,
  decodeCoordinatorKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  encodeConsumerGroupMetadataKey,
  encodeConsumerGroupMetadataValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  partitionForGroup,
} from './records.js'
import {type CoordinatorTimer, SystemTimer} from './timer.js'

/** Kafka's group.classic.new.member.join.timeout: a new member's JoinGroup may wait this long. */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000

/** A Kafka error for one operation or item. */
export class GroupError extends Error {
  constructor(
    readonly code: ErrorName,
    message?: string,
  ) {
    super(message ?? code)
  }
}

function codeOf(error: unknown): number {
  if (error instanceof GroupError) return ErrorCode[error.code]
  throw error
}

/**
 * The error a failed __consumer_offsets write answers, as Kafka's
 * CoordinatorOperationExceptionHelper.handleOperationException (and the old GroupMetadataManager
 * for NOT_ENOUGH_REPLICAS_AFTER_APPEND, which the new runtime never sees): the partition is
 * unavailable for now (the client retries) or this broker no longer leads it (the client looks
 * for the coordinator again).
 */
export function writeErrorName(error: unknown): ErrorName {
  return error instanceof GroupError ? error.code : coordinatorWriteErrorName(error)
}

/** What the coordinator needs to know about topics. */
export interface TopicLookup {
  /** Partition count; undefined when the topic does not exist. */
  partitionCount(name: string): number | undefined
  topicId(name: string): string | undefined
  topicName(topicId: string): string | undefined
  /** Every topic name clients may subscribe to (regex subscriptions). */
  names(): string[]
}

export interface OffsetAndMetadata {
  committedOffset: bigint
  leaderEpoch: number
  metadata: string
  commitTimestamp: number
  /** -1: expires by offsets.retention.minutes. */
  expireTimestamp: number
}

export type Group = ClassicGroup | ConsumerGroup

export interface JoinGroupRequestData {
  groupId: string
  memberId: string
  groupInstanceId: string | null
  protocolType: string
  protocols: Array<{name: string; metadata: Buffer}>
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  clientId: string
  clientHost: string
  reason: string | null
  /** JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED (KIP-394). */
  requireKnownMemberId: boolean
  /** JoinGroup v9+: KIP-814 skipAssignment. */
  supportsSkipAssignment: boolean
}

export interface SyncGroupRequestData {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
  protocolType: string | null
  protocolName: string | null
  assignments: Array<{memberId: string; assignment: Buffer}>
}

export interface OffsetCommitRequestData {
  groupId: string
  generationIdOrMemberEpoch: number
  memberId: string
  groupInstanceId: string | null
  /** -1: the broker's retention (OffsetCommit v2-v4 may set it). */
  retentionTimeMs: number
  apiVersion: number
  topics: Array<{name: string; partitions: Array<{partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null}>}>
}

export interface OffsetCommitResult {
  topics: Array<{name: string; partitions: Array<{partitionIndex: number; errorCode: number}>}>
}

export interface OffsetFetchPartition {
  partitionIndex: number
  committedOffset: bigint
  committedLeaderEpoch: number
  metadata: string | null
  errorCode: number
}

export interface OffsetFetchResult {
  errorCode: number
  topics: Array<{name: string; partitions: OffsetFetchPartition[]}>
}

export interface ConsumerGroupHeartbeatRequestData {
  groupId: string
  memberId: string
  memberEpoch: number
  instanceId: string | null
  rackId: string | null
  rebalanceTimeoutMs: number
  subscribedTopicNames: string[] | null
  subscribedTopicRegex: string | null
  serverAssignor: string | null
  topicPartitions: OwnedPartitions
  clientId: string
  clientHost: string
  apiVersion: number
  /** With an authorizer: whether the requester may DESCRIBE a topic (filters regex subscriptions). */
  mayDescribeTopic?: (topic: string) => boolean
}

export interface ConsumerGroupHeartbeatResult {
  errorCode: number
  errorMessage: string | null
  memberId: string | null
  memberEpoch: number
  heartbeatIntervalMs: number
  assignment: Array<{topicId: string; partitions: number[]}> | null
}

export interface DescribedClassicGroup {
  groupId: string
  errorCode: number
  errorMessage: string | null
  groupState: string
  protocolType: string
  protocolData: string
  members: Array<{memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; memberMetadata: Buffer; memberAssignment: Buffer}>
}

export interface ListedGroup {
  groupId: string
  protocolType: string
  groupState: string
  groupType: 'classic' | 'consumer'
}

export interface GroupCoordinatorOptions {
  log: CoordinatorLog
  topics: TopicLookup
  config: GroupCoordinatorConfig
  timer?: CoordinatorTimer
  logger?: Logger
  /** Member id suffixes (a UUID in Kafka); injectable for deterministic tests. */
  newId?: () => string
  /**
   * Whether this broker still leads a partition of __consumer_offsets (its etcd session may be lost
   * without a leadership change being announced); checked with the partition's ownership.
   */
  leads?: (partition: number) => boolean
}

/** A partition of __consumer_offsets this coordinator owns. */
interface OwnedPartition {
  state: 'loading' | 'active'
  /** The leader epoch it was loaded in (a later load or unload supersedes it). */
  epoch: number
  /** Settles when the load ends (or is superseded). */
  loaded: Promise<void>
}

const EMPTY = Buffer.alloc(0)

function joinError(errorCode: number, memberId: string, generationId = -1): JoinResult {
  return {errorCode, generationId, protocolType: null, protocolName: null, leader: '', memberId, members: [], skipAssignment: false}
}

function sameTopicNames(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a)
  return set.size === new Set(b).size && b.every((t) => set.has(t))
}

function sameProtocols(a: ReadonlyArray<{name: string; metadata: Buffer}>, b: ReadonlyArray<{name: string; metadata: Buffer}>): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata))
}

/** State of a __consumer_offsets partition kept outside the group coordinator (attachPartitionState). */
export interface PartitionState {
  load(partition: number): Promise<unknown>
  unload(partition: number): void
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>()
  /** group -> topic -> partition -> offset. */
  private readonly offsets = new Map<string, Map<string, Map<number, OffsetAndMetadata>>>()
  /** group -> commits whose records are being written. */
  private readonly pendingCommits = new Map<string, Set<Promise<unknown>>>()
  readonly timer: CoordinatorTimer
  readonly config: GroupCoordinatorConfig
  private readonly log: CoordinatorLog
  private readonly topics: TopicLookup
  private readonly logger: Logger | undefined
  private readonly newId: () => string
  private stopped = false
  private expiring?: Promise<{offsets: number; groups: number}>
  /** The partitions owned (leadership); undefined: every partition (no leadership source). */
  private owned?: Map<number, OwnedPartition>
  /** Per-partition state kept elsewhere, loaded and dropped with the partition's groups. */
  private readonly attached: PartitionState[] = []
  private readonly leads?: (partition: number) => boolean

  constructor(options: GroupCoordinatorOptions) {
    this.log = options.log
    this.topics = options.topics
    this.config = options.config
    this.timer = options.timer ?? new SystemTimer()
    this.logger = options.logger
    this.newId = options.newId ?? randomUUID
    this.leads = options.leads
  }

  /**
   * The broker's coordinator: it owns the partitions of __consumer_offsets this broker leads, and
   * follows the replica manager's leadership changes (loading and unloading partitions). Call
   * after the replica manager's first reconcile; the partitions led then are loaded before it
   * returns. Call shutdown() before the replica manager shuts down.
   */
  static async start(deps: {metadata: MetadataStore; topics: TopicManager; replicas: ReplicaManager; config: ResolvedBrokerConfig; log: Logger}): Promise<GroupCoordinator> {
    const config = groupConfigFrom(deps.config)
    const {metadata, replicas} = deps
    const coordinator = new GroupCoordinator({
      log: new ReplicaCoordinatorLog({metadata, topics: deps.topics, replicas, config, clustered: metadata.alterPartition !== undefined, timeoutMs: deps.config.int('offsets.commit.timeout.ms')}),
      topics: {
        partitionCount: (name) => metadata.topic(name)?.partitions.length,
        topicId: (name) => metadata.topic(name)?.topicId,
        topicName: (topicId) => metadata.topicById(topicId)?.name,
        names: () => metadata.topics().map((t) => t.name),
      },
      config,
      logger: deps.log,
      leads: (partition) => replicas.isLeader(OFFSETS_TOPIC, partition),
    })
    coordinator.owned = new Map()
    replicas.onLeadershipChange((change) => {
      if (change.topic !== OFFSETS_TOPIC) return
      if (change.isLeader) void coordinator.loadPartition(change.partition, change.leaderEpoch)
      else coordinator.unloadPartition(change.partition, change.leaderEpoch)
    })
    // Partitions led before the listener was registered (the first reconcile ran before).
    const led = replicas.all().filter((p) => p.topic === OFFSETS_TOPIC && replicas.leads(p))
    await Promise.all(led.map((p) => coordinator.loadPartition(p.partition, p.leaderEpoch)))
    coordinator.scheduleOffsetsExpiration()
    return coordinator
  }

  /** Replays every partition of __consumer_offsets and owns them all (no leadership source), then starts the periodic offset expiration. */
  async load(): Promise<{offsets: number; groups: number}> {
    this.owned = undefined
    let records = 0
    for await (const record of this.log.load()) {
      records++
      this.replay(record.key, record.value, record.timestamp)
    }
    for (const group of this.groups.values()) {
      if (group.type === 'classic') for (const member of group.members.values()) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs)
    }
    this.scheduleOffsetsExpiration()
    let offsets = 0
    for (const byTopic of this.offsets.values()) for (const byPartition of byTopic.values()) offsets += byPartition.size
    this.logger?.info({records, groups: this.groups.size, offsets}, 'group coordinator loaded __consumer_offsets')
    return {offsets, groups: this.groups.size}
  }

  /**
   * Becoming the coordinator of partition `partition` (this broker leads it in `epoch`): its groups
   * and offsets are replayed from the log; meanwhile their requests get COORDINATOR_LOAD_IN_PROGRESS.
   * A load superseded by an unload or a newer load stops and leaves nothing behind.
   */
  loadPartition(partition: number, epoch: number): Promise<void> {
    if (this.stopped) return Promise.resolve()
    this.owned ??= new Map()
    const current = this.owned.get(partition)
    if (current && current.epoch === epoch) return current.loaded
    if (current) this.dropPartitionState(partition)
    const entry: OwnedPartition = {state: 'loading', epoch, loaded: Promise.resolve()}
    this.owned.set(partition, entry)
    entry.loaded = this.runLoad(partition, entry).catch((error: unknown) => {
      this.logger?.error({err: error, partition}, 'loading a __consumer_offsets partition failed')
      if (this.owned?.get(partition) === entry) {
        this.owned.delete(partition)
        this.dropPartitionState(partition)
      }
    })
    return entry.loaded
  }

  private async runLoad(partition: number, entry: OwnedPartition): Promise<void> {
    const superseded = () => this.owned?.get(partition) !== entry
    let records = 0
    for await (const record of this.log.load(partition)) {
      if (superseded()) return
      records++
      this.replay(record.key, record.value, record.timestamp)
    }
    if (superseded()) return
    for (const state of this.attached) {
      await state.load(partition)
      if (superseded()) return
    }
    let groups = 0
    for (const group of this.groups.values()) {
      if (this.partitionOf(group.groupId) !== partition) continue
      groups++
      if (group.type === 'classic') for (const member of group.members.values()) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs)
    }
    entry.state = 'active'
    this.logger?.info({partition, leaderEpoch: entry.epoch, records, groups}, 'group coordinator loaded a __consumer_offsets partition')
  }

  /**
   * No longer the coordinator of `partition` (leadership moved, or the topic is gone): its groups
   * are dropped from memory, members waiting for a join or sync answer get NOT_COORDINATOR.
   */
  unloadPartition(partition: number, epoch = -1): void {
    if (!this.owned?.has(partition)) return
    this.owned.delete(partition)
    const groups = this.dropPartitionState(partition)
    this.logger?.info({partition, leaderEpoch: epoch, groups}, 'group coordinator unloaded a __consumer_offsets partition')
  }

  /** Removes the groups and offsets of one partition, answering waiting members NOT_COORDINATOR. */
  private dropPartitionState(partition: number): number {
    for (const state of this.attached) state.unload(partition)
    let dropped = 0
    for (const [groupId, group] of [...this.groups]) {
      if (this.partitionOf(groupId) !== partition) continue
      dropped++
      this.timer.cancel(`join:${groupId}`)
      this.timer.cancel(`sync:${groupId}`)
      if (group.type === 'classic') {
        for (const m of group.members.values()) {
          this.timer.cancel(`heartbeat:${groupId}:${m.memberId}`)
          m.awaitingJoin?.(joinError(ErrorCode.NOT_COORDINATOR, m.memberId))
          m.awaitingJoin = undefined
          m.awaitingSync?.({errorCode: ErrorCode.NOT_COORDINATOR, protocolType: null, protocolName: null, assignment: EMPTY})
          m.awaitingSync = undefined
        }
        for (const id of group.pendingMembers) this.timer.cancel(`pending:${groupId}:${id}`)
        group.state = 'Dead'
      } else {
        for (const id of group.members.keys()) {
          this.timer.cancel(`session:${groupId}:${id}`)
          this.timer.cancel(`rebalance:${groupId}:${id}`)
        }
        group.dead = true
      }
      this.groups.delete(groupId)
    }
    for (const groupId of [...this.offsets.keys()]) if (this.partitionOf(groupId) === partition) this.offsets.delete(groupId)
    return dropped
  }

  /**
   * Whether this broker coordinates `groupId` now: NOT_COORDINATOR when its partition is not owned
   * (or no longer led), COORDINATOR_LOAD_IN_PROGRESS while it loads.
   */
  private checkCoordinator(groupId: string): void {
    if (this.stopped) throw new GroupError('NOT_COORDINATOR')
    if (!this.owned) return
    const partition = this.partitionOf(groupId)
    const owned = this.owned.get(partition)
    if (!owned || (this.leads && !this.leads(partition))) throw new GroupError('NOT_COORDINATOR')
    if (owned.state === 'loading') throw new GroupError('COORDINATOR_LOAD_IN_PROGRESS')
  }

  /** NONE when this broker coordinates the group now, else NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS (TxnOffsetCommit). */
  coordinatorError(groupId: string): ErrorName {
    try {
      this.checkCoordinator(groupId)
      return 'NONE'
    } catch (error) {
      return (error as GroupError).code
    }
  }

  /** Whether the group's partition is owned and loaded (listing). */
  private coordinates(groupId: string): boolean {
    if (!this.owned) return true
    const partition = this.partitionOf(groupId)
    return this.owned.get(partition)?.state === 'active' && (!this.leads || this.leads(partition))
  }

  /** Whether some owned partition is still loading (ListGroups answers COORDINATOR_LOAD_IN_PROGRESS). */
  get loading(): boolean {
    return this.owned !== undefined && [...this.owned.values()].some((o) => o.state === 'loading')
  }

  /** Loads `state` with every partition from now on (before it serves) and drops it with the partition. */
  attachPartitionState(state: PartitionState): void {
    this.attached.push(state)
  }

  /** A partition's state: 'active' (also when every partition is owned, without a leadership source), 'loading', or undefined when not owned. */
  partitionState(partition: number): 'loading' | 'active' | undefined {
    return this.owned ? this.owned.get(partition)?.state : 'active'
  }

  /** The owned partitions and their state (tests, diagnostics); undefined: every partition. */
  ownedPartitions(): Map<number, 'loading' | 'active'> | undefined {
    return this.owned && new Map([...this.owned].map(([p, o]) => [p, o.state]))
  }

  /** Stops timers and answers every waiting request with NOT_COORDINATOR so clients look again. */
  async shutdown(): Promise<void> {
    this.stopped = true
    this.timer.cancelAll()
    for (const group of this.groups.values()) {
      if (group.type !== 'classic') continue
      for (const m of group.members.values()) {
        m.awaitingJoin?.(joinError(ErrorCode.NOT_COORDINATOR, m.memberId))
        m.awaitingJoin = undefined
        m.awaitingSync?.({errorCode: ErrorCode.NOT_COORDINATOR, protocolType: null, protocolName: null, assignment: EMPTY})
        m.awaitingSync = undefined
      }
    }
    const pending = [...this.pendingCommits.values()].flatMap((s) => [...s])
    await Promise.allSettled(pending)
  }

  /** The group, if it exists (tests and describe). */
  group(groupId: string): Group | undefined {
    return this.groups.get(groupId)
  }

  /** Groups this coordinator holds now (Kafka's GroupMetadataManager NumGroups). */
  get groupCount(): number {
    return this.groups.size
  }

  /** Every committed offset of the groups this coordinator holds (issue 16: consumer group lag at scrape time). */
  *committedOffsets(): Generator<{group: string; topic: string; partition: number; offset: number}> {
    for (const [group, byTopic] of this.offsets) {
      for (const [topic, byPartition] of byTopic) for (const [partition, o] of byPartition) yield {group, topic, partition, offset: Number(o.committedOffset)}
    }
  }

  /** The committed offset of a partition (tests). */
  committed(groupId: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.offsets.get(groupId)?.get(topic)?.get(partition)
  }

  /**
   * Transactional offset commits (TxnOffsetCommit) whose transaction committed: their records are
   * already in __consumer_offsets (written by the transaction coordinator's TransactionOffsets),
   * so they are only applied here, as on load.
   */
  applyCommittedTransactionalOffsets(records: ReadonlyArray<{key: Buffer; value: Buffer | null; timestamp: number}>): void {
    for (const r of records) {
      // A partition this coordinator no longer owns: its next owner reads the committed records from the log.
      if (this.owned) {
        let key
        try {
          key = decodeCoordinatorKey(r.key)
        } catch {
          continue
        }
        if (key.type !== 'unknown' && !this.owned.has(this.partitionOf(key.group))) continue
      }
      this.replay(r.key, r.value, r.timestamp)
    }
  }

  /**
   * Creates __consumer_offsets if needed (FindCoordinator does, as Kafka does). When it was just
   * created, waits for the loads of its (empty) partitions led here, so the first requests need
   * not retry.
   */
  async ensureOffsetsTopic(): Promise<void> {
    const loadsBefore = this.owned?.size ?? 0
    await this.log.ensureTopic()
    if (this.owned && this.owned.size !== loadsBefore) await Promise.all([...this.owned.values()].map((o) => o.loaded))
  }

  // ---------------------------------------------------------------------------------------------
  // Persistence

  private partitionOf(groupId: string): number {
    return partitionForGroup(groupId, this.log.partitionCount())
  }

  private write(groupId: string, records: CoordinatorRecord[]): Promise<void> {
    return this.log.append(this.partitionOf(groupId), records, this.timer.now())
  }

  private groupMetadataRecord(group: ClassicGroup, assignment?: ReadonlyMap<string, Buffer>): CoordinatorRecord {
    return {
      key: encodeGroupMetadataKey(group.groupId),
      value: encodeGroupMetadataValue({
        protocolType: group.protocolType ?? '',
        generation: group.generationId,
        protocol: group.protocolName,
        leader: group.leaderId,
        currentStateTimestamp: group.currentStateTimestamp,
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeout: m.rebalanceTimeoutMs,
          sessionTimeout: m.sessionTimeoutMs,
          subscription: group.protocolName !== null ? (m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY) : EMPTY,
          assignment: assignment?.get(m.memberId) ?? m.assignment,
        })),
      }),
    }
  }

  /** Writes a group's metadata; failures are logged (the state in memory stays authoritative). */
  private storeGroup(group: ClassicGroup, assignment?: ReadonlyMap<string, Buffer>): Promise<void> {
    return this.write(group.groupId, [this.groupMetadataRecord(group, assignment)])
  }

  private storeGroupInBackground(group: ClassicGroup): void {
    this.storeGroup(group).catch((error: unknown) => this.logger?.error({err: error, groupId: group.groupId}, 'writing group metadata failed'))
  }

  private replay(key: Buffer, value: Buffer | null, timestamp: number): void {
    let k
    try {
      k = decodeCoordinatorKey(key)
    } catch (error) {
      this.logger?.warn({err: error}, 'skipping an undecodable __consumer_offsets key')
      return
    }
    switch (k.type) {
      case 'offset': {
        if (value === null) {
          this.deleteOffset(k.group, k.topic, k.partition)
          return
        }
        const v = decodeOffsetCommitValue(value)
        if (!this.groups.has(k.group)) this.groups.set(k.group, new ClassicGroup(k.group, timestamp))
        this.setOffset(k.group, k.topic, k.partition, {committedOffset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata, commitTimestamp: v.commitTimestamp, expireTimestamp: v.expireTimestamp})
        return
      }
      case 'group': {
        if (value === null) {
          this.groups.delete(k.group)
          this.offsets.delete(k.group)
          return
        }
        const v = decodeGroupMetadataValue(value)
        const group = new ClassicGroup(k.group, v.currentStateTimestamp >= 0 ? v.currentStateTimestamp : timestamp)
        group.generationId = v.generation
        group.protocolType = v.protocolType === '' ? null : v.protocolType
        group.protocolName = v.protocol
        for (const m of v.members) {
          group.addMember({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            rebalanceTimeoutMs: m.rebalanceTimeout,
            sessionTimeoutMs: m.sessionTimeout,
            protocolType: v.protocolType,
            protocols: v.protocol !== null ? [{name: v.protocol, metadata: m.subscription}] : [],
            assignment: m.assignment,
            isNew: false,
          })
        }
        group.leaderId = v.leader
        group.state = group.members.size > 0 ? 'Stable' : 'Empty'
        group.previousState = group.state
        this.groups.set(k.group, group)
        return
      }
      case 'consumer-group': {
        if (value === null) {
          if (this.groups.get(k.group)?.type === 'consumer') this.groups.delete(k.group)
          return
        }
        const v = decodeConsumerGroupMetadataValue(value)
        const group = new ConsumerGroup(k.group)
        group.groupEpoch = v.epoch
        group.assignmentEpoch = v.epoch
        this.groups.set(k.group, group)
        return
      }
      default:
        return
    }
  }

  private setOffset(groupId: string, topic: string, partition: number, offset: OffsetAndMetadata): void {
    let byTopic = this.offsets.get(groupId)
    if (!byTopic) this.offsets.set(groupId, (byTopic = new Map()))
    let byPartition = byTopic.get(topic)
    if (!byPartition) byTopic.set(topic, (byPartition = new Map()))
    byPartition.set(partition, offset)
  }

  private deleteOffset(groupId: string, topic: string, partition: number): void {
    const byTopic = this.offsets.get(groupId)
    const byPartition = byTopic?.get(topic)
    if (!byTopic || !byPartition) return
    byPartition.delete(partition)
    if (byPartition.size === 0) byTopic.delete(topic)
    if (byTopic.size === 0) this.offsets.delete(groupId)
  }

  private trackCommit<T>(groupId: string, promise: Promise<T>): Promise<T> {
    let set = this.pendingCommits.get(groupId)
    if (!set) this.pendingCommits.set(groupId, (set = new Set()))
    const tracked = promise.finally(() => {
      set.delete(tracked)
      if (set.size === 0 && this.pendingCommits.get(groupId) === set) this.pendingCommits.delete(groupId)
    })
    set.add(tracked)
    return tracked
  }

  // ---------------------------------------------------------------------------------------------
  // Classic groups: JoinGroup

  joinGroup(req: JoinGroupRequestData): Promise<JoinResult> {
    return new Promise((resolve) => {
      try {
        this.classicJoin(req, resolve)
      } catch (error) {
        resolve(joinError(codeOf(error), req.memberId))
      }
    })
  }

  private classicJoin(req: JoinGroupRequestData, respond: (r: JoinResult) => void): void {
    const {groupId, memberId} = req
    if (groupId === '') throw new GroupError('INVALID_GROUP_ID')
    this.checkCoordinator(groupId)
    if (req.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || req.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) throw new GroupError('INVALID_SESSION_TIMEOUT')
    let group = this.groups.get(groupId)
    if (group?.type === 'consumer') {
      if (group.size > 0) throw new GroupError('INCONSISTENT_GROUP_PROTOCOL', `Group ${groupId} is a consumer group with members.`)
      this.groups.delete(groupId)
      group = undefined
    }
    const isUnknownMember = memberId === ''
    if (!group) {
      if (!isUnknownMember) throw new GroupError('UNKNOWN_MEMBER_ID', `Classic group ${groupId} not found.`)
      group = new ClassicGroup(groupId, this.timer.now())
      this.groups.set(groupId, group)
    }
    if (group.is('Dead')) throw new GroupError('COORDINATOR_NOT_AVAILABLE')
    if (!this.acceptJoiningMember(group, memberId)) {
      if (group.size === 0 && !this.offsets.has(groupId)) this.groups.delete(groupId)
      throw new GroupError('GROUP_MAX_SIZE_REACHED', `The group ${groupId} has reached its maximum capacity of ${this.config.groupMaxSize} members.`)
    }
    if (!group.supportsProtocols(req.protocolType, req.protocols)) throw new GroupError('INCONSISTENT_GROUP_PROTOCOL')
    if (isUnknownMember) this.unknownMemberJoin(group, req, respond)
    else this.knownMemberJoin(group, req, respond)
  }

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.config.groupMaxSize
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true
      case 'PreparingRebalance': {
        let awaiting = 0
        for (const m of group.members.values()) if (m.awaitingJoin) awaiting++
        return (group.members.get(memberId)?.awaitingJoin !== undefined) || awaiting < max
      }
      default:
        return group.hasMember(memberId) || group.size < max
    }
  }

  private unknownMemberJoin(group: ClassicGroup, req: JoinGroupRequestData, respond: (r: JoinResult) => void): void {
    if (req.groupInstanceId !== null) {
      const newMemberId = `${req.groupInstanceId}-${this.newId()}`
      const existing = group.staticMemberId(req.groupInstanceId)
      if (existing !== undefined) this.updateStaticMemberThenRebalanceOrCompleteJoin(group, req, existing, newMemberId, respond)
      else this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, respond)
      return
    }
    const newMemberId = `${req.clientId}-${this.newId()}`
    if (req.requireKnownMemberId) {
      group.pendingMembers.add(newMemberId)
      this.timer.schedule(`pending:${group.groupId}:${newMemberId}`, req.sessionTimeoutMs, () => this.expirePendingMember(group, newMemberId))
      respond(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId))
      return
    }
    this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, respond)
  }

  private expirePendingMember(group: ClassicGroup, memberId: string): void {
    if (!group.pendingMembers.delete(memberId)) return
    this.logger?.info({groupId: group.groupId, memberId}, 'pending member expired')
    if (group.is('PreparingRebalance')) this.maybeCompleteJoinPhase(group)
  }

  private knownMemberJoin(group: ClassicGroup, req: JoinGroupRequestData, respond: (r: JoinResult) => void): void {
    const {memberId} = req
    if (group.pendingMembers.has(memberId)) {
      this.timer.cancel(`pending:${group.groupId}:${memberId}`)
      this.addMemberThenRebalanceOrCompleteJoin(group, req, memberId, respond)
      return
    }
    this.validateMember(group, memberId, req.groupInstanceId)
    const member = group.members.get(memberId)!
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, respond, 'member rejoined while the group was preparing a rebalance')
        return
      case 'CompletingRebalance':
        if (sameProtocols(member.protocols, req.protocols)) {
          // The member lost the JoinGroup response: answer it again.
          respond({
            errorCode: ErrorCode.NONE,
            generationId: group.generationId,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            leader: group.leaderId ?? '',
            memberId,
            members: group.isLeader(memberId) ? this.currentMembers(group) : [],
            skipAssignment: false,
          })
        } else {
          this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, respond, `member ${memberId} rejoined with new protocols`)
        }
        return
      case 'Stable':
        if (group.isLeader(memberId) || !sameProtocols(member.protocols, req.protocols)) {
          this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, respond, `leader or member with new metadata ${memberId} rejoined (${req.reason ?? 'no reason given'})`)
        } else {
          respond({errorCode: ErrorCode.NONE, generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName, leader: group.leaderId ?? '', memberId, members: [], skipAssignment: false})
        }
        return
      default:
        throw new GroupError('UNKNOWN_MEMBER_ID')
    }
  }

  /** Kafka's ClassicGroup.validateMember: static members by instance id, others by member id. */
  private validateMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): void {
    if (groupInstanceId !== null) {
      const current = group.staticMemberId(groupInstanceId)
      if (current === undefined) throw new GroupError('UNKNOWN_MEMBER_ID')
      if (current !== memberId) throw new GroupError('FENCED_INSTANCE_ID', `Static member ${memberId} with instance id ${groupInstanceId} is fenced by ${current}.`)
    } else if (!group.hasMember(memberId)) {
      throw new GroupError('UNKNOWN_MEMBER_ID')
    }
  }

  private addMemberThenRebalanceOrCompleteJoin(group: ClassicGroup, req: JoinGroupRequestData, memberId: string, respond: (r: JoinResult) => void): void {
    const member: ClassicGroupMember = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY,
      awaitingJoin: respond,
      isNew: true,
    }
    group.addMember(member)
    if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true
    // A new member cannot heartbeat yet; its JoinGroup times out after the new-member timeout.
    this.scheduleHeartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS)
    this.maybePrepareRebalanceOrCompleteJoin(group, `adding new member ${memberId} with group instance id ${req.groupInstanceId ?? 'null'}; client reason: ${req.reason ?? 'not provided'}`)
  }

  private updateMemberThenRebalanceOrCompleteJoin(group: ClassicGroup, member: ClassicGroupMember, req: JoinGroupRequestData, respond: (r: JoinResult) => void, reason: string): void {
    this.updateMember(group, member, req, respond)
    this.maybePrepareRebalanceOrCompleteJoin(group, reason)
  }

  private updateMember(group: ClassicGroup, member: ClassicGroupMember, req: JoinGroupRequestData, respond: (r: JoinResult) => void): void {
    group.updateProtocols(member, req.protocols)
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs
    member.sessionTimeoutMs = req.sessionTimeoutMs
    // A JoinGroup from the same member replaces one still waiting (the client gave up on it).
    member.awaitingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId))
    member.awaitingJoin = respond
  }

  private updateStaticMemberThenRebalanceOrCompleteJoin(group: ClassicGroup, req: JoinGroupRequestData, oldMemberId: string, newMemberId: string, respond: (r: JoinResult) => void): void {
    const instanceId = req.groupInstanceId!
    const currentLeader = group.leaderId ?? ''
    const old = group.members.get(oldMemberId)!
    // The old member id is fenced: anything it still waits for ends with FENCED_INSTANCE_ID.
    old.awaitingJoin?.(joinError(ErrorCode.FENCED_INSTANCE_ID, ''))
    old.awaitingJoin = undefined
    old.awaitingSync?.({errorCode: ErrorCode.FENCED_INSTANCE_ID, protocolType: null, protocolName: null, assignment: EMPTY})
    old.awaitingSync = undefined
    this.timer.cancel(`heartbeat:${group.groupId}:${oldMemberId}`)
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId)
    this.scheduleHeartbeat(group, member, member.sessionTimeoutMs)
    const oldProtocols = member.protocols
    const oldRebalanceTimeout = member.rebalanceTimeoutMs
    const oldSessionTimeout = member.sessionTimeoutMs
    this.updateMember(group, member, req, respond)
    switch (group.state) {
      case 'Stable': {
        if (group.protocolName === group.selectProtocol()) {
          this.logger?.info({groupId: group.groupId, instanceId, memberId: newMemberId}, 'static member rejoined a stable group without changing its protocol: no rebalance')
          const generation = group.generationId
          this.storeGroup(group).then(
            () => {
              const callback = member.awaitingJoin
              member.awaitingJoin = undefined
              if (!callback) return
              const isLeader = group.isLeader(newMemberId)
              if (req.supportsSkipAssignment) {
                callback({errorCode: ErrorCode.NONE, generationId: generation, protocolType: group.protocolType, protocolName: group.protocolName, leader: group.leaderId ?? '', memberId: newMemberId, members: isLeader ? this.currentMembers(group) : [], skipAssignment: isLeader})
              } else {
                // Before KIP-814 the old leader id is returned, so the member does not redo the assignment.
                callback({errorCode: ErrorCode.NONE, generationId: generation, protocolType: group.protocolType, protocolName: group.protocolName, leader: currentLeader, memberId: newMemberId, members: [], skipAssignment: false})
              }
            },
            (error: unknown) => {
              this.logger?.warn({err: error, groupId: group.groupId, instanceId}, 'persisting a static member failed; reverting to the old member id')
              const callback = member.awaitingJoin
              member.awaitingJoin = undefined
              group.updateProtocols(member, oldProtocols)
              member.rebalanceTimeoutMs = oldRebalanceTimeout
              member.sessionTimeoutMs = oldSessionTimeout
              if (group.members.get(newMemberId) === member) {
                this.timer.cancel(`heartbeat:${group.groupId}:${newMemberId}`)
                const restored = group.replaceStaticMember(instanceId, newMemberId, oldMemberId)
                this.scheduleHeartbeat(group, restored, restored.sessionTimeoutMs)
              }
              callback?.({...joinError(ErrorCode.UNKNOWN_SERVER_ERROR, ''), generationId: group.generationId, leader: currentLeader})
            },
          )
        } else {
          this.maybePrepareRebalanceOrCompleteJoin(group, `static member ${newMemberId} with instance id ${instanceId} joined with a change of protocol`)
        }
        return
      }
      case 'CompletingRebalance':
        this.prepareRebalance(group, `updating metadata for static member ${newMemberId} with instance id ${instanceId}`)
        return
      case 'PreparingRebalance':
        this.maybeCompleteJoinPhase(group)
        return
      default:
        throw new Error(`static member ${instanceId} of ${group.groupId} in state ${group.state}`)
    }
  }

  private currentMembers(group: ClassicGroup): JoinResult['members'] {
    const protocol = group.protocolName
    return [...group.members.values()].map((m) => ({memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: protocol !== null ? group.metadataFor(m, protocol) : EMPTY}))
  }

  private maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): void {
    if (group.is('Stable') || group.is('CompletingRebalance') || group.is('Empty')) this.prepareRebalance(group, reason)
    else this.maybeCompleteJoinPhase(group)
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentWithError(group, ErrorCode.REBALANCE_IN_PROGRESS)
    this.timer.cancel(`sync:${group.groupId}`)
    const isInitialRebalance = group.is('Empty')
    if (isInitialRebalance) {
      const delay = this.config.groupInitialRebalanceDelayMs
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0)
      this.timer.schedule(`join:${group.groupId}`, delay, () => this.tryCompleteInitialRebalanceElseSchedule(group, delay, remaining))
    }
    group.transitionTo('PreparingRebalance', this.timer.now())
    this.logger?.info({groupId: group.groupId, generationId: group.generationId, reason}, 'preparing to rebalance group')
    if (!isInitialRebalance) {
      if (group.hasAllMembersJoined()) this.completeJoin(group)
      else this.timer.schedule(`join:${group.groupId}`, group.rebalanceTimeoutMs(), () => this.completeJoin(group))
    }
  }

  private tryCompleteInitialRebalanceElseSchedule(group: ClassicGroup, delay: number, remaining: number): void {
    if (group.newMemberAdded && remaining !== 0) {
      group.newMemberAdded = false
      const nextDelay = Math.min(this.config.groupInitialRebalanceDelayMs, remaining)
      const nextRemaining = Math.max(remaining - delay, 0)
      this.timer.schedule(`join:${group.groupId}`, nextDelay, () => this.tryCompleteInitialRebalanceElseSchedule(group, nextDelay, nextRemaining))
      return
    }
    this.completeJoin(group)
  }

  private maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined() && group.previousState !== 'Empty') this.completeJoin(group)
  }

  private completeJoin(group: ClassicGroup): void {
    this.timer.cancel(`join:${group.groupId}`)
    if (!group.is('PreparingRebalance') || this.groups.get(group.groupId) !== group) return
    // Dynamic members that did not rejoin in time are removed; static members stay.
    for (const m of [...group.members.values()]) {
      if (!m.awaitingJoin && m.groupInstanceId === null) {
        this.timer.cancel(`heartbeat:${group.groupId}:${m.memberId}`)
        group.removeMember(m.memberId)
        this.logger?.info({groupId: group.groupId, memberId: m.memberId}, 'removed a member that did not rejoin in time')
      }
    }
    if (group.size > 0 && !this.maybeElectNewJoinedLeader(group)) {
      this.logger?.warn({groupId: group.groupId}, 'group could not complete the rebalance because no members rejoined')
      this.timer.schedule(`join:${group.groupId}`, group.rebalanceTimeoutMs(), () => this.completeJoin(group))
      return
    }
    group.generationId++
    group.pendingSyncMembers.clear()
    if (group.size === 0) {
      group.protocolName = null
      group.transitionTo('Empty', this.timer.now())
      this.logger?.info({groupId: group.groupId, generationId: group.generationId}, 'group is now empty')
      this.storeGroupInBackground(group)
      return
    }
    group.protocolName = group.selectProtocol()
    group.transitionTo('CompletingRebalance', this.timer.now())
    this.logger?.info({groupId: group.groupId, generationId: group.generationId, members: group.size, protocol: group.protocolName}, 'stabilized group')
    const members = this.currentMembers(group)
    for (const m of group.members.values()) {
      const callback = m.awaitingJoin
      m.awaitingJoin = undefined
      callback?.({
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId ?? '',
        memberId: m.memberId,
        members: group.isLeader(m.memberId) ? members : [],
        skipAssignment: false,
      })
      this.scheduleHeartbeat(group, m, m.sessionTimeoutMs)
      m.isNew = false
      group.pendingSyncMembers.add(m.memberId)
    }
    const generation = group.generationId
    this.timer.schedule(`sync:${group.groupId}`, group.rebalanceTimeoutMs(), () => this.expirePendingSync(group, generation))
  }

  private maybeElectNewJoinedLeader(group: ClassicGroup): boolean {
    const leader = group.leaderId !== null ? group.members.get(group.leaderId) : undefined
    if (leader?.awaitingJoin) return true
    for (const m of group.members.values()) {
      if (m.awaitingJoin) {
        group.leaderId = m.memberId
        return true
      }
    }
    return false
  }

  private expirePendingSync(group: ClassicGroup, generationId: number): void {
    if (generationId !== group.generationId || this.groups.get(group.groupId) !== group) return
    if (!(group.is('CompletingRebalance') || group.is('Stable')) || group.pendingSyncMembers.size === 0) return
    const missing = [...group.pendingSyncMembers]
    this.logger?.info({groupId: group.groupId, members: missing}, 'removing members that did not send SyncGroup in time')
    for (const memberId of missing) {
      const m = group.members.get(memberId)
      if (!m) continue
      this.timer.cancel(`heartbeat:${group.groupId}:${memberId}`)
      m.awaitingSync?.({errorCode: ErrorCode.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: EMPTY})
      m.awaitingSync = undefined
      group.removeMember(memberId)
    }
    this.prepareRebalance(group, `removing members ${missing.join(', ')} on pending sync request expiration`)
  }

  private resetAndPropagateAssignmentWithError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY
    this.propagateAssignment(group, errorCode)
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      const callback = m.awaitingSync
      if (!callback) continue
      m.awaitingSync = undefined
      callback({errorCode, protocolType: group.protocolType, protocolName: group.protocolName, assignment: errorCode === ErrorCode.NONE ? m.assignment : EMPTY})
      this.scheduleHeartbeat(group, m, m.sessionTimeoutMs)
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Classic groups: heartbeats and session timeouts

  private scheduleHeartbeat(group: ClassicGroup, member: ClassicGroupMember, timeoutMs: number): void {
    const memberId = member.memberId
    this.timer.schedule(`heartbeat:${group.groupId}:${memberId}`, timeoutMs, () => this.expireHeartbeat(group, memberId))
  }

  private expireHeartbeat(group: ClassicGroup, memberId: string): void {
    if (this.groups.get(group.groupId) !== group) return
    const member = group.members.get(memberId)
    if (!member) return
    // A member waiting in a join or sync phase is alive; the phase's own deadline bounds it. A
    // new member whose first JoinGroup has waited the new-member timeout is removed.
    if (!member.isNew && (member.awaitingJoin || member.awaitingSync)) return
    this.logger?.info({groupId: group.groupId, memberId}, 'member failed to heartbeat within its session timeout; removing it')
    this.removeMemberAndUpdateGroup(group, member, `removing member ${memberId} on heartbeat expiration`)
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: ClassicGroupMember, reason: string): void {
    member.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId))
    member.awaitingJoin = undefined
    member.awaitingSync?.({errorCode: ErrorCode.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: EMPTY})
    member.awaitingSync = undefined
    this.timer.cancel(`heartbeat:${group.groupId}:${member.memberId}`)
    group.removeMember(member.memberId)
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(group, reason)
        break
      case 'PreparingRebalance':
        this.maybeCompleteJoinPhase(group)
        break
      default:
    }
  }

  heartbeat(req: {groupId: string; generationId: number; memberId: string; groupInstanceId: string | null}): number {
    try {
      const group = this.classicGroup(req.groupId)
      if (group.is('Dead')) throw new GroupError('COORDINATOR_NOT_AVAILABLE')
      this.validateMember(group, req.memberId, req.groupInstanceId)
      if (req.generationId !== group.generationId) throw new GroupError('ILLEGAL_GENERATION')
      const member = group.members.get(req.memberId)!
      switch (group.state) {
        case 'Empty':
          return ErrorCode.UNKNOWN_MEMBER_ID
        case 'PreparingRebalance':
          this.scheduleHeartbeat(group, member, member.sessionTimeoutMs)
          return ErrorCode.REBALANCE_IN_PROGRESS
        default:
          this.scheduleHeartbeat(group, member, member.sessionTimeoutMs)
          return ErrorCode.NONE
      }
    } catch (error) {
      const code = codeOf(error)
      // Kafka: "the group is still loading, so respond just blindly".
      return code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ? ErrorCode.NONE : code
    }
  }

  /** The classic group or UNKNOWN_MEMBER_ID (Kafka: "Classic group X not found."). */
  private classicGroup(groupId: string): ClassicGroup {
    this.checkCoordinator(groupId)
    const group = this.groups.get(groupId)
    if (!group || group.type !== 'classic') throw new GroupError('UNKNOWN_MEMBER_ID', `Classic group ${groupId} not found.`)
    return group
  }

  // ---------------------------------------------------------------------------------------------
  // Classic groups: SyncGroup

  syncGroup(req: SyncGroupRequestData): Promise<SyncResult> {
    return new Promise((resolve) => {
      const fail = (errorCode: number) => resolve({errorCode, protocolType: null, protocolName: null, assignment: EMPTY})
      try {
        const group = this.classicGroup(req.groupId)
        if (group.is('Dead')) throw new GroupError('COORDINATOR_NOT_AVAILABLE')
        this.validateMember(group, req.memberId, req.groupInstanceId)
        if (req.generationId !== group.generationId) throw new GroupError('ILLEGAL_GENERATION')
        const inconsistent = (a: string | null, b: string | null) => a !== null && b !== null && a !== b
        if (inconsistent(req.protocolType, group.protocolType) || inconsistent(req.protocolName, group.protocolName)) throw new GroupError('INCONSISTENT_GROUP_PROTOCOL')
        const member = group.members.get(req.memberId)!
        switch (group.state) {
          case 'Empty':
            throw new GroupError('UNKNOWN_MEMBER_ID')
          case 'PreparingRebalance':
            throw new GroupError('REBALANCE_IN_PROGRESS')
          case 'CompletingRebalance': {
            member.awaitingSync?.({errorCode: ErrorCode.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: EMPTY})
            member.awaitingSync = resolve
            group.pendingSyncMembers.delete(req.memberId)
            this.scheduleHeartbeat(group, member, member.sessionTimeoutMs)
            if (group.isLeader(req.memberId)) this.completeSync(group, req)
            return
          }
          case 'Stable':
            group.pendingSyncMembers.delete(req.memberId)
            this.scheduleHeartbeat(group, member, member.sessionTimeoutMs)
            resolve({errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment})
            return
          default:
            throw new GroupError('COORDINATOR_NOT_AVAILABLE')
        }
      } catch (error) {
        fail(codeOf(error))
      }
    })
  }

  private completeSync(group: ClassicGroup, req: SyncGroupRequestData): void {
    const assignment = new Map<string, Buffer>()
    for (const a of req.assignments) assignment.set(a.memberId, a.assignment)
    const missing = [...group.members.keys()].filter((id) => !assignment.has(id))
    for (const id of missing) assignment.set(id, EMPTY)
    if (missing.length > 0) this.logger?.warn({groupId: group.groupId, members: missing}, 'the leader sent no assignment for some members; they get an empty one')
    this.logger?.info({groupId: group.groupId, generationId: group.generationId, leader: req.memberId}, 'assignment received from the leader')
    const generation = group.generationId
    this.storeGroup(group, assignment).then(
      () => {
        if (!group.is('CompletingRebalance') || group.generationId !== generation || this.groups.get(group.groupId) !== group) return
        for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY
        this.propagateAssignment(group, ErrorCode.NONE)
        group.transitionTo('Stable', this.timer.now())
      },
      (error: unknown) => {
        this.logger?.error({err: error, groupId: group.groupId}, 'storing the group assignment failed')
        if (!group.is('CompletingRebalance') || group.generationId !== generation) return
        this.resetAndPropagateAssignmentWithError(group, ErrorCode[writeErrorName(error)])
        this.maybePrepareRebalanceOrCompleteJoin(group, 'error when storing the group assignment during SyncGroup')
      },
    )
  }

  // ---------------------------------------------------------------------------------------------
  // Classic groups: LeaveGroup

  leaveGroup(req: {groupId: string; members: Array<{memberId: string; groupInstanceId: string | null; reason: string | null}>}): {errorCode: number; members: Array<{memberId: string; groupInstanceId: string | null; errorCode: number}>} {
    let group: ClassicGroup
    try {
      group = this.classicGroup(req.groupId)
      if (group.is('Dead')) throw new GroupError('COORDINATOR_NOT_AVAILABLE')
    } catch (error) {
      return {errorCode: codeOf(error), members: []}
    }
    const responses = []
    const left: string[] = []
    for (const m of req.members) {
      const answer = {memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: ErrorCode.NONE as number}
      responses.push(answer)
      const reason = m.reason ?? 'not provided'
      if (m.memberId === '') {
        // Administrative removal of a static member by instance id.
        const staticId = m.groupInstanceId !== null ? group.staticMemberId(m.groupInstanceId) : undefined
        if (staticId === undefined) answer.errorCode = ErrorCode.UNKNOWN_MEMBER_ID
        else {
          this.removeCurrentMember(group, staticId, reason)
          left.push(staticId)
        }
      } else if (group.pendingMembers.has(m.memberId)) {
        group.pendingMembers.delete(m.memberId)
        this.timer.cancel(`pending:${group.groupId}:${m.memberId}`)
        left.push(m.memberId)
      } else {
        try {
          this.validateMember(group, m.memberId, m.groupInstanceId)
          this.removeCurrentMember(group, m.memberId, reason)
          left.push(m.memberId)
        } catch (error) {
          answer.errorCode = codeOf(error)
        }
      }
    }
    if (left.length > 0) {
      const reason = `explicit LeaveGroup request for (${left.join(', ')}) members`
      if (group.is('Stable') || group.is('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group, reason)
      else if (group.is('PreparingRebalance')) this.maybeCompleteJoinPhase(group)
    }
    return {errorCode: ErrorCode.NONE, members: responses}
  }

  private removeCurrentMember(group: ClassicGroup, memberId: string, reason: string): void {
    const member = group.members.get(memberId)
    if (!member) return
    this.logger?.info({groupId: group.groupId, memberId, reason}, 'member left the group')
    this.timer.cancel(`heartbeat:${group.groupId}:${memberId}`)
    member.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId))
    member.awaitingJoin = undefined
    member.awaitingSync?.({errorCode: ErrorCode.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: EMPTY})
    member.awaitingSync = undefined
    group.removeMember(memberId)
  }

  // ---------------------------------------------------------------------------------------------
  // Offsets

  /**
   * OffsetCommit. As Kafka: unknown topics and partitions are answered UNKNOWN_TOPIC_OR_PARTITION
   * before the group is looked at (KafkaApis), and when nothing else is left the group is not
   * looked at at all; a group error applies to the other partitions. A commit that stores nothing
   * (every partition rejected) creates no group: Kafka's simple group comes into being with the
   * offset records that name it.
   */
  async commitOffsets(req: OffsetCommitRequestData): Promise<OffsetCommitResult> {
    const result: OffsetCommitResult = {topics: []}
    const known: Array<{topic: string; request: OffsetCommitRequestData['topics'][number]['partitions'][number]; answer: {partitionIndex: number; errorCode: number}; storable: boolean}> = []
    for (const t of req.topics) {
      const partitions = []
      const partitionCount = this.topics.partitionCount(t.name)
      for (const p of t.partitions) {
        const answer = {partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION as number}
        partitions.push(answer)
        if (partitionCount === undefined || p.partitionIndex < 0 || p.partitionIndex >= partitionCount) continue
        known.push({topic: t.name, request: p, answer, storable: Buffer.byteLength(p.committedMetadata ?? '', 'utf8') <= this.config.offsetMetadataMaxBytes})
      }
      result.topics.push({name: t.name, partitions})
    }
    if (known.length === 0) return result
    let existing: Group | null
    try {
      this.checkCoordinator(req.groupId)
      if (req.groupId === '') throw new GroupError('INVALID_GROUP_ID')
      existing = this.validateOffsetCommit(req)
    } catch (error) {
      const errorCode = codeOf(error)
      for (const k of known) k.answer.errorCode = errorCode
      return result
    }
    for (const k of known) k.answer.errorCode = k.storable ? ErrorCode.NONE : ErrorCode.OFFSET_METADATA_TOO_LARGE
    const storable = known.filter((k) => k.storable)
    if (storable.length === 0) return result
    const group = existing ?? new ClassicGroup(req.groupId, this.timer.now())
    if (!existing) this.groups.set(req.groupId, group)
    const now = this.timer.now()
    const records: CoordinatorRecord[] = []
    const accepted: Array<{topic: string; partition: number; offset: OffsetAndMetadata}> = []
    for (const {topic, request: p} of storable) {
      const metadata = p.committedMetadata ?? ''
      const offset: OffsetAndMetadata = {
        committedOffset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata,
        commitTimestamp: now,
        expireTimestamp: req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : -1,
      }
      accepted.push({topic, partition: p.partitionIndex, offset})
      records.push({key: encodeOffsetCommitKey(req.groupId, topic, p.partitionIndex), value: encodeOffsetCommitValue({offset: offset.committedOffset, leaderEpoch: offset.leaderEpoch, metadata, commitTimestamp: now, expireTimestamp: offset.expireTimestamp})})
    }
    try {
      await this.trackCommit(req.groupId, this.write(req.groupId, records))
    } catch (error) {
      this.logger?.error({err: error, groupId: req.groupId}, 'writing offset commits failed')
      for (const k of storable) k.answer.errorCode = ErrorCode[writeErrorName(error)]
      // Kafka's timeline reverts a failed write: the simple group it created goes with it.
      if (!existing && this.groups.get(req.groupId) === group && !this.offsets.has(req.groupId)) this.groups.delete(req.groupId)
      return result
    }
    // Unloaded while the commit was written: the new coordinator reads it from the log.
    if (this.owned && !this.owned.has(this.partitionOf(req.groupId))) return result
    if (this.groups.get(req.groupId) !== group) {
      // The group was deleted while the commit was written; Kafka's timeline would have
      // rejected it. Keep the group so the offsets have an owner.
      if (!this.groups.has(req.groupId)) this.groups.set(req.groupId, group)
    }
    for (const a of accepted) this.setOffset(req.groupId, a.topic, a.partition, a.offset)
    return result
  }

  /**
   * Kafka's validateOffsetCommit: the group, or null when there is none and the commit may create
   * a simple group (generation -1: the admin client or a consumer without group management).
   */
  private validateOffsetCommit(req: OffsetCommitRequestData): Group | null {
    const group = this.groups.get(req.groupId)
    if (!group) {
      if (req.generationIdOrMemberEpoch < 0) return null
      // OffsetCommit v9+ answers GROUP_ID_NOT_FOUND; older versions ILLEGAL_GENERATION.
      throw new GroupError(req.apiVersion >= 9 ? 'GROUP_ID_NOT_FOUND' : 'ILLEGAL_GENERATION')
    }
    if (group.type === 'classic') {
      if (group.is('Dead')) throw new GroupError('COORDINATOR_NOT_AVAILABLE')
      if (req.generationIdOrMemberEpoch < 0 && group.is('Empty')) return group
      if (req.generationIdOrMemberEpoch >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
        this.validateMember(group, req.memberId, req.groupInstanceId)
        if (req.generationIdOrMemberEpoch !== group.generationId) throw new GroupError('ILLEGAL_GENERATION')
      } else if (!group.is('Empty')) {
        throw new GroupError('UNKNOWN_MEMBER_ID')
      }
      if (group.is('CompletingRebalance')) throw new GroupError('REBALANCE_IN_PROGRESS')
      return group
    }
    if (req.generationIdOrMemberEpoch < 0 && group.size === 0) return group
    const member = group.members.get(req.memberId)
    if (!member) throw new GroupError('UNKNOWN_MEMBER_ID')
    if (req.apiVersion < 9) throw new GroupError('UNSUPPORTED_VERSION', 'OffsetCommit version 9 or above must be used by members using the consumer group protocol')
    if (req.generationIdOrMemberEpoch !== member.memberEpoch) throw new GroupError('STALE_MEMBER_EPOCH')
    return group
  }

  async fetchOffsets(req: {groupId: string; memberId: string | null; memberEpoch: number; topics: Array<{name: string; partitionIndexes: number[]}> | null}): Promise<OffsetFetchResult> {
    try {
      this.checkCoordinator(req.groupId)
      const group = this.groups.get(req.groupId)
      if (group?.type === 'consumer' && req.memberEpoch >= 0) {
        const member = req.memberId !== null ? group.members.get(req.memberId) : undefined
        if (!member) throw new GroupError('UNKNOWN_MEMBER_ID')
        if (member.memberEpoch !== req.memberEpoch) throw new GroupError('STALE_MEMBER_EPOCH')
      }
    } catch (error) {
      return {errorCode: codeOf(error), topics: []}
    }
    const pending = this.pendingCommits.get(req.groupId)
    if (pending) await Promise.allSettled([...pending])
    const byTopic = this.offsets.get(req.groupId)
    const asOffset = (o: OffsetAndMetadata | undefined, partitionIndex: number): OffsetFetchPartition =>
      o
        ? {partitionIndex, committedOffset: o.committedOffset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE}
        : {partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE}
    if (req.topics === null) {
      const topics = []
      for (const [name, byPartition] of byTopic ?? []) {
        topics.push({name, partitions: [...byPartition].map(([p, o]) => asOffset(o, p))})
      }
      return {errorCode: ErrorCode.NONE, topics}
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: req.topics.map((t) => ({name: t.name, partitions: t.partitionIndexes.map((p) => asOffset(byTopic?.get(t.name)?.get(p), p))})),
    }
  }

  /** OffsetDelete: returns the top-level error and the per-partition results. */
  async deleteOffsets(req: {groupId: string; topics: Array<{name: string; partitions: number[]}>}): Promise<{errorCode: number; topics: Array<{name: string; partitions: Array<{partitionIndex: number; errorCode: number}>}>}> {
    let group: Group | undefined
    try {
      this.checkCoordinator(req.groupId)
      if (req.groupId === '') throw new GroupError('INVALID_GROUP_ID')
      group = this.groups.get(req.groupId)
      if (!group) throw new GroupError('GROUP_ID_NOT_FOUND')
      if (group.type === 'classic') {
        if (group.is('Dead')) throw new GroupError('GROUP_ID_NOT_FOUND')
        if (!group.is('Empty') && group.protocolType !== 'consumer') throw new GroupError('NON_EMPTY_GROUP')
      }
    } catch (error) {
      return {errorCode: codeOf(error), topics: []}
    }
    const subscribed = this.subscribedTopics(group)
    const records: CoordinatorRecord[] = []
    const deleted: Array<{topic: string; partition: number}> = []
    const topics = req.topics.map((t) => {
      const partitions: Array<{partitionIndex: number; errorCode: number}> = []
      const partitionCount = this.topics.partitionCount(t.name)
      const isSubscribed = subscribed === undefined || subscribed.has(t.name)
      const byPartition = this.offsets.get(req.groupId)?.get(t.name)
      for (const p of t.partitions) {
        // Kafka answers every partition asked for: unknown ones (KafkaApis), those of a topic the
        // group consumes, and the others NONE, with a tombstone where an offset exists.
        if (partitionCount === undefined || p < 0 || p >= partitionCount) partitions.push({partitionIndex: p, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION})
        else if (isSubscribed) partitions.push({partitionIndex: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC})
        else {
          partitions.push({partitionIndex: p, errorCode: ErrorCode.NONE})
          if (!byPartition?.has(p)) continue
          records.push({key: encodeOffsetCommitKey(req.groupId, t.name, p), value: null})
          deleted.push({topic: t.name, partition: p})
        }
      }
      return {name: t.name, partitions}
    })
    if (records.length > 0) {
      try {
        await this.trackCommit(req.groupId, this.write(req.groupId, records))
      } catch (error) {
        this.logger?.error({err: error, groupId: req.groupId}, 'writing offset deletions failed')
        return {errorCode: ErrorCode[writeErrorName(error)], topics: []}
      }
      for (const d of deleted) this.deleteOffset(req.groupId, d.topic, d.partition)
    }
    return {errorCode: ErrorCode.NONE, topics}
  }

  /** Topics the group's members subscribe to; undefined when that cannot be known. */
  private subscribedTopics(group: Group): Set<string> | undefined {
    if (group.type === 'consumer') return group.subscribedTopicNames()
    if (group.is('Empty')) return new Set()
    return group.subscribedTopics()
  }

  // ---------------------------------------------------------------------------------------------
  // Offset expiration (offsets.retention.minutes)

  private scheduleOffsetsExpiration(): void {
    this.timer.schedule('offsets-expiration', this.config.offsetsRetentionCheckIntervalMs, () => {
      this.expireOffsets().catch((error: unknown) => this.logger?.error({err: error}, 'offset expiration failed'))
      if (!this.stopped) this.scheduleOffsetsExpiration()
    })
  }

  /**
   * Kafka's cleanupGroupMetadata: deletes the expired offsets of every group (and an empty group
   * left without offsets). An offset expires at its explicit expire timestamp (OffsetCommit v2-v4
   * retention), or offsets.retention.minutes after: the time a classic consumer group became
   * Empty; its commit, for a group without a protocol (simple consumers and admin commits) and
   * for topics a stable or KIP-848 group no longer subscribes to. Offsets of topics a live group
   * subscribes to never expire.
   */
  expireOffsets(): Promise<{offsets: number; groups: number}> {
    // One cleanup at a time (the periodic one and a direct call must not both write tombstones).
    this.expiring ??= this.runOffsetExpiration().finally(() => {
      this.expiring = undefined
    })
    return this.expiring
  }

  private async runOffsetExpiration(): Promise<{offsets: number; groups: number}> {
    const now = this.timer.now()
    const retention = this.config.offsetsRetentionMs
    let expiredOffsets = 0
    let deletedGroups = 0
    for (const [groupId, group] of [...this.groups]) {
      if (!this.coordinates(groupId) || this.groups.get(groupId) !== group) continue
      let base: ((o: OffsetAndMetadata) => number) | undefined
      let subscribed: Set<string> = new Set()
      if (group.type === 'classic') {
        if (group.protocolType === null) base = (o) => o.commitTimestamp
        else if (group.is('Empty')) base = () => group.currentStateTimestamp
        else if (group.protocolType === 'consumer' && group.is('Stable')) {
          const topics = group.subscribedTopics()
          if (topics) {
            subscribed = topics
            base = (o) => o.commitTimestamp
          }
        }
      } else {
        subscribed = group.subscribedTopicNames()
        base = (o) => o.commitTimestamp
      }
      const byTopic = this.offsets.get(groupId)
      const records: CoordinatorRecord[] = []
      const expired: Array<{topic: string; partition: number}> = []
      if (base && byTopic) {
        for (const [topic, byPartition] of byTopic) {
          if (subscribed.has(topic)) continue
          for (const [partition, o] of byPartition) {
            const isExpired = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base(o) >= retention
            if (!isExpired) continue
            records.push({key: encodeOffsetCommitKey(groupId, topic, partition), value: null})
            expired.push({topic, partition})
          }
        }
      }
      const allGone = !byTopic || expired.length === [...byTopic.values()].reduce((n, m) => n + m.size, 0)
      const isEmpty = group.type === 'classic' ? group.is('Empty') : group.size === 0
      const deleteGroup = allGone && isEmpty && (expired.length > 0 || !byTopic) && this.pendingCommits.get(groupId) === undefined
      if (deleteGroup) records.push(group.type === 'classic' ? {key: encodeGroupMetadataKey(groupId), value: null} : {key: encodeConsumerGroupMetadataKey(groupId), value: null})
      if (records.length === 0) continue
      try {
        await this.write(groupId, records)
      } catch (error) {
        this.logger?.error({err: error, groupId}, 'writing expired offsets failed')
        continue
      }
      for (const e of expired) this.deleteOffset(groupId, e.topic, e.partition)
      expiredOffsets += expired.length
      if (deleteGroup && this.groups.get(groupId) === group && (group.type === 'classic' ? group.is('Empty') : group.size === 0) && !this.offsets.has(groupId)) {
        this.groups.delete(groupId)
        if (group.type === 'classic') group.state = 'Dead'
        else group.dead = true
        deletedGroups++
      }
    }
    if (expiredOffsets > 0 || deletedGroups > 0) this.logger?.info({offsets: expiredOffsets, groups: deletedGroups}, 'removed expired offsets and empty groups')
    return {offsets: expiredOffsets, groups: deletedGroups}
  }

  // ---------------------------------------------------------------------------------------------
  // Administration: ListGroups, DescribeGroups, DeleteGroups

  listGroups(filter: {states: string[]; types: string[]}): ListedGroup[] {
    const states = new Set(filter.states.map((s) => s.toLowerCase()))
    const types = new Set(filter.types.map((s) => s.toLowerCase()))
    const out: ListedGroup[] = []
    for (const group of this.groups.values()) {
      if (!this.coordinates(group.groupId)) continue
      const listed: ListedGroup =
        group.type === 'classic'
          ? {groupId: group.groupId, protocolType: group.protocolType ?? '', groupState: group.state, groupType: 'classic'}
          : {groupId: group.groupId, protocolType: 'consumer', groupState: group.state(), groupType: 'consumer'}
      if (states.size > 0 && !states.has(listed.groupState.toLowerCase())) continue
      if (types.size > 0 && !types.has(listed.groupType)) continue
      out.push(listed)
    }
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
  }

  describeGroup(groupId: string, apiVersion: number): DescribedClassicGroup {
    const base = {groupId, errorCode: ErrorCode.NONE as number, errorMessage: null as string | null, groupState: '', protocolType: '', protocolData: '', members: [] as DescribedClassicGroup['members']}
    try {
      this.checkCoordinator(groupId)
    } catch (error) {
      return {...base, errorCode: codeOf(error)}
    }
    const group = this.groups.get(groupId)
    if (!group || group.type !== 'classic' || group.is('Dead')) {
      const message = group ? `Group ${groupId} is not a classic group.` : `Group ${groupId} not found.`
      if (apiVersion >= 6) return {...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: message}
      return {...base, groupState: 'Dead'}
    }
    const stable = group.is('Stable')
    return {
      ...base,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable && group.protocolName !== null ? group.metadataFor(m, group.protocolName) : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      })),
    }
  }

  async deleteGroups(groupIds: string[]): Promise<Array<{groupId: string; errorCode: number}>> {
    const results = []
    for (const groupId of groupIds) {
      try {
        this.checkCoordinator(groupId)
        if (groupId === '') throw new GroupError('INVALID_GROUP_ID')
        const group = this.groups.get(groupId)
        if (!group) throw new GroupError('GROUP_ID_NOT_FOUND')
        if (group.type === 'classic') {
          if (group.is('Dead')) throw new GroupError('GROUP_ID_NOT_FOUND')
          if (!group.is('Empty')) throw new GroupError('NON_EMPTY_GROUP')
        } else if (group.size > 0) throw new GroupError('NON_EMPTY_GROUP')
        const pending = this.pendingCommits.get(groupId)
        if (pending) await Promise.allSettled([...pending])
        const records: CoordinatorRecord[] = []
        for (const [topic, byPartition] of this.offsets.get(groupId) ?? []) {
          for (const partition of byPartition.keys()) records.push({key: encodeOffsetCommitKey(groupId, topic, partition), value: null})
        }
        records.push(group.type === 'classic' ? {key: encodeGroupMetadataKey(groupId), value: null} : {key: encodeConsumerGroupMetadataKey(groupId), value: null})
        this.groups.delete(groupId)
        if (group.type === 'classic') group.state = 'Dead'
        else group.dead = true
        const dropped = this.offsets.get(groupId)
        this.offsets.delete(groupId)
        try {
          await this.write(groupId, records)
        } catch (error) {
          this.logger?.error({err: error, groupId}, 'writing group deletion failed')
          if (!this.groups.has(groupId)) {
            if (group.type === 'classic') group.state = 'Empty'
            else group.dead = false
            this.groups.set(groupId, group)
            if (dropped) this.offsets.set(groupId, dropped)
          }
          throw new GroupError(writeErrorName(error))
        }
        results.push({groupId, errorCode: ErrorCode.NONE as number})
      } catch (error) {
        results.push({groupId, errorCode: codeOf(error)})
      }
    }
    return results
  }

  // ---------------------------------------------------------------------------------------------
  // KIP-848 consumer groups: ConsumerGroupHeartbeat

  async consumerGroupHeartbeat(req: ConsumerGroupHeartbeatRequestData): Promise<ConsumerGroupHeartbeatResult> {
    const fail = (error: unknown): ConsumerGroupHeartbeatResult => {
      const errorCode = codeOf(error)
      const message = error instanceof GroupError && error.message !== error.code ? error.message : null
      return {errorCode, errorMessage: message, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null}
    }
    let result: {response: ConsumerGroupHeartbeatResult; records: CoordinatorRecord[]}
    try {
      this.checkCoordinator(req.groupId)
      this.validateConsumerGroupHeartbeat(req)
      result = req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH ? this.consumerGroupLeave(req) : this.consumerGroupJoinOrHeartbeat(req)
    } catch (error) {
      return fail(error)
    }
    if (result.records.length > 0) {
      try {
        await this.write(req.groupId, result.records)
      } catch (error) {
        this.logger?.error({err: error, groupId: req.groupId}, 'writing consumer group metadata failed')
        return fail(new GroupError(writeErrorName(error)))
      }
    }
    return result.response
  }

  private validateConsumerGroupHeartbeat(req: ConsumerGroupHeartbeatRequestData): void {
    const invalid = (message: string) => new GroupError('INVALID_REQUEST', message)
    if (!this.config.rebalanceProtocols.includes('consumer')) throw new GroupError('UNSUPPORTED_VERSION', 'The consumer group protocol is disabled (group.coordinator.rebalance.protocols).')
    if (req.groupId.trim() === '') throw invalid("GroupId can't be empty.")
    if (req.instanceId !== null && req.instanceId.trim() === '') throw invalid("InstanceId can't be empty.")
    if (req.rackId !== null && req.rackId.trim() === '') throw invalid("RackId can't be empty.")
    if (req.apiVersion >= 1 && req.memberId.trim() === '') throw invalid("MemberId can't be empty.")
    if (req.memberEpoch > 0 || req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
      if (req.memberId.trim() === '') throw invalid("MemberId can't be empty.")
    } else if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1) throw invalid('RebalanceTimeoutMs must be provided in first request.')
      if (req.topicPartitions === null || req.topicPartitions.length > 0) throw invalid('TopicPartitions must be empty when (re-)joining.')
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.')
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (req.memberId.trim() === '') throw invalid("MemberId can't be empty.")
      if (req.instanceId === null) throw invalid("InstanceId can't be null.")
    } else {
      throw invalid(`MemberEpoch ${req.memberEpoch} is invalid.`)
    }
    if (req.serverAssignor !== null && !this.config.consumerGroupAssignors.includes(req.serverAssignor)) {
      throw new GroupError('UNSUPPORTED_ASSIGNOR', `Assignor ${req.serverAssignor} is not supported. Supported assignors: ${this.config.consumerGroupAssignors.join(', ')}.`)
    }
    if (req.subscribedTopicRegex !== null) {
      try {
        new RegExp(req.subscribedTopicRegex)
      } catch {
        throw new GroupError('INVALID_REGULAR_EXPRESSION', `SubscribedTopicRegex \`${req.subscribedTopicRegex}\` is not a valid regular expression.`)
      }
    }
  }

  private consumerGroupLeave(req: ConsumerGroupHeartbeatRequestData): {response: ConsumerGroupHeartbeatResult; records: CoordinatorRecord[]} {
    const group = this.groups.get(req.groupId)
    if (!group || group.type !== 'consumer') throw new GroupError('GROUP_ID_NOT_FOUND', `Group ${req.groupId} not found.`)
    let member: ConsumerGroupMember | undefined
    if (req.instanceId === null) {
      member = group.members.get(req.memberId)
      if (!member) throw new GroupError('UNKNOWN_MEMBER_ID', `Member ${req.memberId} is not a member of group ${req.groupId}.`)
    } else {
      const id = group.staticMembers.get(req.instanceId)
      member = id !== undefined ? group.members.get(id) : undefined
      if (!member) throw new GroupError('UNKNOWN_MEMBER_ID', `Instance id ${req.instanceId} is unknown.`)
      if (member.memberId !== req.memberId) throw new GroupError('FENCED_INSTANCE_ID', `Static member ${req.memberId} with instance id ${req.instanceId} is not the member ${member.memberId}.`)
    }
    const response = {errorCode: ErrorCode.NONE as number, errorMessage: null, memberId: req.memberId, memberEpoch: req.memberEpoch, heartbeatIntervalMs: 0, assignment: null}
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // A static member leaving temporarily keeps its assignment until its session times out.
      this.logger?.info({groupId: group.groupId, memberId: member.memberId, instanceId: member.instanceId}, 'static member left temporarily')
      group.setMember({...member, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH, previousMemberEpoch: member.memberEpoch})
      this.timer.cancel(`rebalance:${group.groupId}:${member.memberId}`)
      return {response, records: []}
    }
    return {response, records: this.fenceConsumerGroupMember(group, member, 'the member left the group')}
  }

  private fenceConsumerGroupMember(group: ConsumerGroup, member: ConsumerGroupMember, reason: string): CoordinatorRecord[] {
    this.logger?.info({groupId: group.groupId, memberId: member.memberId, reason}, 'removing consumer group member')
    this.timer.cancel(`session:${group.groupId}:${member.memberId}`)
    this.timer.cancel(`rebalance:${group.groupId}:${member.memberId}`)
    group.removeMember(member.memberId)
    group.groupEpoch++
    this.refreshSubscriptionMetadata(group)
    // The target assignment follows at the next heartbeat; with no members left it is empty.
    if (group.size === 0) group.assignmentEpoch = group.groupEpoch
    return [{key: encodeConsumerGroupMetadataKey(group.groupId), value: encodeConsumerGroupMetadataValue({epoch: group.groupEpoch})}]
  }

  private refreshSubscriptionMetadata(group: ConsumerGroup): boolean {
    const next = new Map<string, number>()
    for (const name of this.consumerGroupTopicNames(group)) {
      const n = this.topics.partitionCount(name)
      if (n !== undefined) next.set(name, n)
    }
    const changed = next.size !== group.subscriptionMetadata.size || [...next].some(([t, n]) => group.subscriptionMetadata.get(t) !== n)
    group.subscriptionMetadata = next
    return changed
  }

  private memberTopicNames(member: ConsumerGroupMember, group: ConsumerGroup): string[] {
    if (member.subscribedTopicRegex === null) return member.subscribedTopicNames
    const re = new RegExp(`^(?:${member.subscribedTopicRegex})$`)
    const allowed = group.regexTopicFilter
    return [...new Set([...member.subscribedTopicNames, ...this.topics.names().filter((n) => !n.startsWith('__') && re.test(n) && (!allowed || allowed(n)))])]
  }

  private consumerGroupTopicNames(group: ConsumerGroup): Set<string> {
    const names = new Set<string>()
    for (const m of group.members.values()) for (const t of this.memberTopicNames(m, group)) names.add(t)
    return names
  }

  private consumerGroupJoinOrHeartbeat(req: ConsumerGroupHeartbeatRequestData): {response: ConsumerGroupHeartbeatResult; records: CoordinatorRecord[]} {
    const records: CoordinatorRecord[] = []
    let group = this.groups.get(req.groupId)
    if (group?.type === 'classic') {
      if (req.memberEpoch !== 0 || !group.is('Empty')) throw new GroupError('GROUP_ID_NOT_FOUND', `Group ${req.groupId} is not a consumer group.`)
      // An empty classic group (offsets only) becomes a consumer group; its offsets stay.
      this.timer.cancel(`join:${req.groupId}`)
      group = undefined
    }
    if (!group) {
      if (req.memberEpoch !== 0) throw new GroupError('GROUP_ID_NOT_FOUND', `Group ${req.groupId} not found.`)
      group = new ConsumerGroup(req.groupId)
      this.groups.set(req.groupId, group)
    }
    if (req.subscribedTopicRegex !== null || group.members.get(req.memberId)?.subscribedTopicRegex) group.regexTopicFilter = req.mayDescribeTopic
    if (!group.members.has(req.memberId) && group.size >= this.config.consumerGroupMaxSize && req.memberEpoch === 0) {
      throw new GroupError('GROUP_MAX_SIZE_REACHED', `The consumer group has reached its maximum capacity of ${this.config.consumerGroupMaxSize} members.`)
    }
    let member: ConsumerGroupMember
    let isNew = false
    let staticReplaced = false
    if (req.instanceId === null) {
      const existing = req.memberId !== '' ? group.members.get(req.memberId) : undefined
      if (req.memberEpoch === 0 && !existing) {
        isNew = true
        member = this.newConsumerGroupMember(req, req.memberId !== '' ? req.memberId : this.newId())
      } else {
        if (!existing) throw new GroupError('UNKNOWN_MEMBER_ID', `Member ${req.memberId} is not a member of group ${req.groupId}.`)
        if (req.memberEpoch !== 0) this.throwIfMemberEpochIsInvalid(existing, req.memberEpoch, req.topicPartitions)
        member = existing
      }
    } else {
      const currentId = group.staticMembers.get(req.instanceId)
      const current = currentId !== undefined ? group.members.get(currentId) : undefined
      if (req.memberEpoch === 0) {
        if (!current) {
          isNew = true
          member = this.newConsumerGroupMember(req, req.memberId !== '' ? req.memberId : this.newId())
        } else {
          if (current.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH && current.memberId !== req.memberId) {
            throw new GroupError('UNRELEASED_INSTANCE_ID', `Static member ${req.memberId} with instance id ${req.instanceId} cannot join the group because the instance id is is owned by ${current.memberId} member.`)
          }
          // The static member comes back: it takes over the old member's epoch and assignment.
          const newId = req.memberId !== '' ? req.memberId : this.newId()
          this.timer.cancel(`session:${group.groupId}:${current.memberId}`)
          this.timer.cancel(`rebalance:${group.groupId}:${current.memberId}`)
          const target = group.targetAssignment.get(current.memberId)
          group.removeMember(current.memberId)
          member = {...current, memberId: newId, memberEpoch: current.previousMemberEpoch >= 0 && current.memberEpoch < 0 ? current.previousMemberEpoch : current.memberEpoch}
          if (target) group.targetAssignment.set(newId, target)
          staticReplaced = current.memberId !== newId
        }
      } else {
        if (!current) throw new GroupError('UNKNOWN_MEMBER_ID', `Instance id ${req.instanceId} is unknown.`)
        if (current.memberId !== req.memberId) throw new GroupError('FENCED_INSTANCE_ID', `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by ${current.memberId}.`)
        this.throwIfMemberEpochIsInvalid(current, req.memberEpoch, req.topicPartitions)
        member = current
      }
    }
    const previous = member
    // Update what the heartbeat changes.
    const updated: ConsumerGroupMember = {
      ...member,
      instanceId: req.instanceId ?? member.instanceId,
      rackId: req.rackId ?? member.rackId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs !== -1 ? req.rebalanceTimeoutMs : member.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames ?? member.subscribedTopicNames,
      subscribedTopicRegex: req.subscribedTopicRegex ?? member.subscribedTopicRegex,
      serverAssignor: req.serverAssignor ?? member.serverAssignor,
    }
    const subscriptionChanged =
      isNew ||
      updated.subscribedTopicRegex !== member.subscribedTopicRegex ||
      updated.serverAssignor !== member.serverAssignor ||
      !sameTopicNames(updated.subscribedTopicNames, member.subscribedTopicNames)
    group.setMember(updated)
    const metadataChanged = this.refreshSubscriptionMetadata(group)
    if (subscriptionChanged || metadataChanged) {
      group.groupEpoch++
      records.push({key: encodeConsumerGroupMetadataKey(group.groupId), value: encodeConsumerGroupMetadataValue({epoch: group.groupEpoch})})
      this.logger?.info({groupId: group.groupId, groupEpoch: group.groupEpoch, memberId: updated.memberId}, 'consumer group epoch bumped')
    }
    if (group.groupEpoch > group.assignmentEpoch) this.updateTargetAssignment(group, updated)
    // Reconcile the member towards its target.
    const target = group.targetAssignment.get(updated.memberId) ?? new Map<string, Set<number>>()
    let reconciled = updated
    if (!(updated.memberEpoch === group.assignmentEpoch && updated.state === 'stable')) {
      reconciled = reconcileMember(updated, group.assignmentEpoch, target, req.topicPartitions, (t, p) => group.isOwnedByOther(t, p, updated.memberId))
      group.setMember(reconciled)
    }
    if (reconciled.state === 'unrevoked_partitions') {
      if (previous.state !== 'unrevoked_partitions' || previous.memberEpoch !== reconciled.memberEpoch) {
        const {memberId} = reconciled
        const epoch = reconciled.memberEpoch
        const g = group
        this.timer.schedule(`rebalance:${group.groupId}:${memberId}`, reconciled.rebalanceTimeoutMs, () => this.expireConsumerGroupRebalance(g, memberId, epoch))
      }
    } else {
      this.timer.cancel(`rebalance:${group.groupId}:${reconciled.memberId}`)
    }
    this.scheduleConsumerGroupSession(group, reconciled.memberId)
    const isFull = req.memberEpoch === 0 || (req.rebalanceTimeoutMs !== -1 && (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) && req.topicPartitions !== null)
    const assignmentChanged = isNew || staticReplaced || !assignmentsEqual(previous.assigned, reconciled.assigned) || previous.memberEpoch !== reconciled.memberEpoch
    return {
      response: {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        memberId: reconciled.memberId,
        memberEpoch: reconciled.memberEpoch,
        heartbeatIntervalMs: this.config.consumerGroupHeartbeatIntervalMs,
        assignment: isFull || assignmentChanged ? [...reconciled.assigned].map(([topicId, partitions]) => ({topicId, partitions: [...partitions].sort((a, b) => a - b)})) : null,
      },
      records,
    }
  }

  private newConsumerGroupMember(req: ConsumerGroupHeartbeatRequestData, memberId: string): ConsumerGroupMember {
    return {
      memberId,
      instanceId: req.instanceId,
      rackId: req.rackId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: [],
      subscribedTopicRegex: null,
      serverAssignor: null,
      memberEpoch: 0,
      previousMemberEpoch: -1,
      state: 'stable',
      assigned: new Map(),
      pendingRevocation: new Map(),
    }
  }

  private throwIfMemberEpochIsInvalid(member: ConsumerGroupMember, received: number, owned: OwnedPartitions): void {
    if (received > member.memberEpoch) {
      throw new GroupError('FENCED_MEMBER_EPOCH', `The consumer group member has a greater member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`)
    }
    if (received < member.memberEpoch) {
      // The response with the new epoch may have been lost: accept the previous epoch with a
      // subset of the current assignment.
      const isSubset = owned !== null && owned.every((o) => o.partitions.every((p) => member.assigned.get(o.topicId)?.has(p)))
      if (received !== member.previousMemberEpoch || !isSubset) {
        throw new GroupError('FENCED_MEMBER_EPOCH', `The consumer group member has a smaller member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`)
      }
    }
  }

  /** Computes the target assignment of every member at the group epoch. */
  private updateTargetAssignment(group: ConsumerGroup, updating: ConsumerGroupMember): void {
    const assignorName = updating.serverAssignor ?? [...group.members.values()].find((m) => m.serverAssignor !== null)?.serverAssignor ?? this.config.consumerGroupAssignors[0] ?? 'uniform'
    const assignor = ASSIGNORS.get(assignorName) ?? ASSIGNORS.get('uniform')!
    const topicIds = new Map<string, number>()
    for (const [name, count] of group.subscriptionMetadata) {
      const id = this.topics.topicId(name)
      if (id !== undefined) topicIds.set(id, count)
    }
    const members = new Map<string, {subscribedTopicIds: Set<string>; rackId: string | null; current: Assignment}>()
    for (const m of group.members.values()) {
      const ids = new Set<string>()
      for (const name of this.memberTopicNames(m, group)) {
        const id = this.topics.topicId(name)
        if (id !== undefined && topicIds.has(id)) ids.add(id)
      }
      members.set(m.memberId, {subscribedTopicIds: ids, rackId: m.rackId, current: cloneAssignment(group.targetAssignment.get(m.memberId) ?? new Map())})
    }
    const result = assignor.assign({members, topics: topicIds})
    group.targetAssignment.clear()
    for (const [memberId, a] of result) group.targetAssignment.set(memberId, a)
    group.assignmentEpoch = group.groupEpoch
    group.assignorName = assignor.name
    this.logger?.info({groupId: group.groupId, assignmentEpoch: group.assignmentEpoch, assignor: assignor.name, members: group.size}, 'computed a new target assignment')
  }

  private scheduleConsumerGroupSession(group: ConsumerGroup, memberId: string): void {
    this.timer.schedule(`session:${group.groupId}:${memberId}`, this.config.consumerGroupSessionTimeoutMs, () => {
      const member = group.members.get(memberId)
      if (!member || this.groups.get(group.groupId) !== group) return
      this.persistInBackground(group.groupId, this.fenceConsumerGroupMember(group, member, 'session timeout expired'))
    })
  }

  private expireConsumerGroupRebalance(group: ConsumerGroup, memberId: string, epoch: number): void {
    const member = group.members.get(memberId)
    if (!member || member.state !== 'unrevoked_partitions' || member.memberEpoch !== epoch || this.groups.get(group.groupId) !== group) return
    this.persistInBackground(group.groupId, this.fenceConsumerGroupMember(group, member, 'rebalance timeout expired before the member revoked its partitions'))
  }

  private persistInBackground(groupId: string, records: CoordinatorRecord[]): void {
    if (records.length === 0) return
    this.write(groupId, records).catch((error: unknown) => this.logger?.error({err: error, groupId}, 'writing consumer group metadata failed'))
  }

  /** ConsumerGroupDescribe of one group. */
  describeConsumerGroup(groupId: string): {errorCode: number; errorMessage: string | null; group?: ConsumerGroup} {
    try {
      this.checkCoordinator(groupId)
    } catch (error) {
      return {errorCode: codeOf(error), errorMessage: null}
    }
    const group = this.groups.get(groupId)
    if (!group) return {errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.`}
    if (group.type !== 'consumer') return {errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a consumer group.`}
    return {errorCode: ErrorCode.NONE, errorMessage: null, group}
  }

  /** Topic names for ids (describe). */
  topicName(topicId: string): string {
    return this.topics.topicName(topicId) ?? ''
  }
}
