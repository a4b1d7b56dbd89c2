// Membership of a consumer group with the classic protocol (JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup), the way the Java client's eager rebalancing does it:
//
//   join: FindCoordinator -> JoinGroup (again with the member id after MEMBER_ID_REQUIRED) ->
//         the leader computes the assignment (assignors.ts) from the members' subscriptions ->
//         SyncGroup -> this member's partitions.
//   then: Heartbeat every heartbeatIntervalMs; REBALANCE_IN_PROGRESS (or a lost generation) sets
//         `needsRejoin`, and the consumer commits, stops fetching and joins again.
//   end:  LeaveGroup.
//
// join() is the consumer's (protocol type "consumer", assignors.ts); joinWith() is the same
// exchange for any protocol type (Connect workers: "connect"), with the member's own protocols
// and metadata and a callback by which the leader assigns.
//
// The coordinator is reached through Admin.toCoordinator, which finds it again after
// NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE.

import {ApiKey} from '../protocol/generated/api-keys.js'
import {type Admin, decodeAssignmentWithUserData, decodeSubscription, encodeAssignment, encodeSubscription} from './admin.js'
import {ASSIGNORS, type Assignor} from './assignors.js'
import {ErrorCode, KafkaError} from './errors.js'

export interface GroupMemberOptions {
  groupId: string
  sessionTimeoutMs?: number
  rebalanceTimeoutMs?: number
  heartbeatIntervalMs?: number
  /** Assignors (names of assignors.ts's, or custom ones) in order of preference. Default ['range', 'roundrobin'] (Java's default order has range first). */
  assignors?: (string | Assignor)[]
  groupInstanceId?: string | null
  /** JoinGroup's protocolType: "consumer" (default) for consumers, "connect" for Connect workers. */
  protocolType?: string
}

/** One protocol a member supports, with its metadata (a consumer's subscription, a Connect worker's state). */
export interface GroupProtocol {name: string; metadata: Buffer}

/** The leader's part of a join: every member's assignment (by member id) from the members' metadata for the chosen protocol. */
export type AssignCallback = (
  leaderId: string,
  protocol: string,
  members: {memberId: string; groupInstanceId: string | null; metadata: Buffer}[],
) => Promise<Map<string, Buffer>> | Map<string, Buffer>

/** The outcome of joinWith(): the generation and this member's assignment bytes. */
export interface JoinedGroup {
  generationId: number
  memberId: string
  leaderId: string
  leader: boolean
  protocol: string
  assignment: Buffer
}

export interface GroupAssignment {
  generationId: number
  memberId: string
  leader: boolean
  protocol: string
  partitions: {topic: string; partitions: number[]}[]
  /** The assignment's user data (a custom assignor's). */
  userData: Buffer | null
}

export class GroupMember {
  readonly groupId: string
  memberId = ''
  generationId = -1
  /** The member id of the group's leader in the current generation. */
  leaderId = ''
  /** The leader (consumer protocol): the partition count of each subscribed topic its last assignment saw (0: the topic did not exist). */
  assignedPartitionCounts = new Map<string, number>()
  needsRejoin = true
  private readonly options: Required<Omit<GroupMemberOptions, 'groupInstanceId'>> & {groupInstanceId: string | null}
  private heartbeatTimer: NodeJS.Timeout | undefined
  private heartbeatInFlight = false
  /** A fatal error from the heartbeat (not a rebalance), thrown by the consumer's next check. */
  heartbeatError: Error | undefined

  constructor(
    private readonly admin: Admin,
    options: GroupMemberOptions,
  ) {
    this.groupId = options.groupId
    this.options = {
      sessionTimeoutMs: 45_000,
      rebalanceTimeoutMs: 60_000,
      heartbeatIntervalMs: 3000,
      assignors: ['range', 'roundrobin'],
      protocolType: 'consumer',
      ...options,
      groupInstanceId: options.groupInstanceId ?? null,
    }
  }

  /** Joins (or rejoins) the group for `topics` (protocol type "consumer"); resolves with this member's assignment. */
  async join(topics: readonly string[]): Promise<GroupAssignment> {
    const assignors = this.options.assignors.map((name) => {
      if (typeof name !== 'string') return name
      const assignor = ASSIGNORS[name]
      if (!assignor) throw new Error(`unknown assignor ${name}`)
      return assignor
    })
    const protocols = assignors.map((a) => ({metadata: encodeSubscription(topics, 0, a.subscriptionUserData?.() ?? null), name: a.name}))
    const joined = await this.joinWith(protocols, async (_leaderId, protocol, members) => {
      const assignor: Assignor = assignors.find((a) => a.name === protocol) ?? ASSIGNORS[protocol] ?? assignors[0]!
      return this.computeAssignment(assignor, members)
    })
    if (!joined.leader) this.assignedPartitionCounts = new Map()
    const decoded = joined.assignment.length > 0 ? decodeAssignmentWithUserData(joined.assignment) : {partitions: [], userData: null}
    return {generationId: joined.generationId, leader: joined.leader, memberId: joined.memberId, partitions: decoded.partitions, protocol: joined.protocol, userData: decoded.userData}
  }

  /**
   * Joins (or rejoins) the group with this member's `protocols` (name and metadata, in order of
   * preference) under the options' protocolType: JoinGroup, then, when this member is the leader,
   * `assign` computes every member's assignment from their metadata, then SyncGroup. Resolves with
   * this member's assignment bytes; heartbeats run until the next join or leave().
   */
  async joinWith(protocols: GroupProtocol[], assign: AssignCallback): Promise<JoinedGroup> {
    this.stopHeartbeat()
    this.needsRejoin = true
    const protocolType = this.options.protocolType
    for (let attempt = 0; ; attempt++) {
      const {response: join} = await this.admin.toCoordinator(
        this.groupId,
        (connection) =>
          connection.sendWithVersion(
            ApiKey.JoinGroup,
            {
              groupId: this.groupId,
              groupInstanceId: this.options.groupInstanceId,
              memberId: this.memberId,
              protocolType,
              protocols,
              reason: null,
              rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
              sessionTimeoutMs: this.options.sessionTimeoutMs,
            },
            {timeoutMs: this.options.rebalanceTimeoutMs + 5000},
          ),
        ({response}) => response.errorCode,
      )
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId
        continue
      }
      if (join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID && attempt < 3) {
        this.memberId = ''
        continue
      }
      if (join.errorCode === ErrorCode.REBALANCE_IN_PROGRESS && attempt < 10) continue
      if (join.errorCode !== 0) throw KafkaError.fromCode(join.errorCode, `JoinGroup ${this.groupId}`)
      this.memberId = join.memberId
      this.generationId = join.generationId
      this.leaderId = join.leader
      const protocol = join.protocolName ?? protocols[0]!.name
      const leader = join.leader === join.memberId
      let assignments: {memberId: string; assignment: Buffer}[] = []
      if (leader && !join.skipAssignment) {
        const computed = await assign(join.leader, protocol, join.members.map((m) => ({groupInstanceId: m.groupInstanceId ?? null, memberId: m.memberId, metadata: m.metadata})))
        assignments = [...computed].map(([memberId, assignment]) => ({assignment, memberId}))
      }
      const sync = await this.admin.toCoordinator(
        this.groupId,
        (connection) =>
          connection.send(ApiKey.SyncGroup, {
            assignments,
            generationId: this.generationId,
            groupId: this.groupId,
            groupInstanceId: this.options.groupInstanceId,
            memberId: this.memberId,
            protocolName: protocol,
            protocolType,
          }, {timeoutMs: this.options.rebalanceTimeoutMs + 5000}),
        (r) => r.errorCode,
      )
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS && attempt < 10) continue
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        if (attempt < 10) {
          if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = ''
          continue
        }
      }
      if (sync.errorCode !== 0) throw KafkaError.fromCode(sync.errorCode, `SyncGroup ${this.groupId}`)
      this.needsRejoin = false
      this.startHeartbeat()
      return {assignment: sync.assignment, generationId: this.generationId, leader, leaderId: join.leader, memberId: this.memberId, protocol}
    }
  }

  private async computeAssignment(assignor: Assignor, members: {memberId: string; metadata: Buffer}[]): Promise<Map<string, Buffer>> {
    const subscriptions = members.map((m) => {
      const s = decodeSubscription(m.metadata)
      return {memberId: m.memberId, topics: s.topics, userData: s.userData}
    })
    const allTopics = [...new Set(subscriptions.flatMap((s) => s.topics))]
    const metadata = allTopics.length > 0 ? await this.admin.client.refreshMetadata(allTopics) : {topics: []}
    const partitionsPerTopic = new Map(metadata.topics.filter((t) => t.errorCode === 0).map((t) => [t.name, t.partitions.length]))
    this.assignedPartitionCounts = new Map(allTopics.map((t) => [t, partitionsPerTopic.get(t) ?? 0]))
    const result = await assignor.assign(subscriptions, partitionsPerTopic)
    const {partitions, userData} = result instanceof Map ? {partitions: result, userData: new Map<string, Buffer>()} : result
    return new Map(subscriptions.map((s) => [s.memberId, encodeAssignment(partitions.get(s.memberId) ?? [], 0, userData.get(s.memberId) ?? null)]))
  }

  private startHeartbeat(): void {
    this.stopHeartbeat()
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatIntervalMs)
    this.heartbeatTimer.unref?.()
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = undefined
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeatInFlight || this.needsRejoin) return
    this.heartbeatInFlight = true
    try {
      const response = await this.admin.toCoordinator(
        this.groupId,
        (connection) => connection.send(ApiKey.Heartbeat, {generationId: this.generationId, groupId: this.groupId, groupInstanceId: this.options.groupInstanceId, memberId: this.memberId}),
        (r) => r.errorCode,
      )
      const code = response.errorCode
      if (code === ErrorCode.REBALANCE_IN_PROGRESS || code === ErrorCode.ILLEGAL_GENERATION) this.needsRejoin = true
      else if (code === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = ''
        this.needsRejoin = true
      } else if (code !== 0) this.heartbeatError = KafkaError.fromCode(code, `Heartbeat ${this.groupId}`)
    } catch (error) {
      // The coordinator may be moving; the next heartbeat tries again. A session that expires shows up as UNKNOWN_MEMBER_ID.
      void error
    } finally {
      this.heartbeatInFlight = false
    }
  }

  /** Leaves the group (best effort), telling the coordinator `reason`. */
  async leave(reason = 'kcli consumer closing'): Promise<void> {
    this.stopHeartbeat()
    if (this.memberId === '') return
    try {
      await this.admin.toCoordinator(
        this.groupId,
        (connection) =>
          connection.send(ApiKey.LeaveGroup, {
            groupId: this.groupId,
            memberId: this.memberId,
            members: [{groupInstanceId: this.options.groupInstanceId, memberId: this.memberId, reason}],
          }),
        (r) => r.errorCode,
      )
    } catch {
      // best effort: the session timeout removes the member anyway
    }
    this.memberId = ''
    this.generationId = -1
    this.leaderId = ''
    this.needsRejoin = true
  }
}
