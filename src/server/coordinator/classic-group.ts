/**
 * A classic group (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) as data: its state, generation,
 * members, static-member mapping, pending members and the protocol vote, after Kafka's
 * ClassicGroup. The state machine that changes it lives in GroupCoordinator, its one owner; the
 * helpers here only read or make local, consistent updates (add/remove a member keeps the
 * protocol counts and the static mapping in step).
 *
 * States (Kafka's names, which DescribeGroups and ListGroups report):
 *   Empty                no members (offsets may remain)
 *   PreparingRebalance   waiting for members to (re)join
 *   CompletingRebalance  joined; waiting for the leader's assignment in SyncGroup
 *   Stable               assignment handed out; heartbeats keep members alive
 *   Dead                 deleted; no more operations
 */
import {ConsumerProtocolSubscription} from '../../lib/protocol/generated/consumer-protocol-subscription.js'

export type ClassicGroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

export interface JoinResult {
  errorCode: number
  generationId: number
  protocolType: string | null
  protocolName: string | null
  leader: string
  memberId: string
  members: Array<{memberId: string; groupInstanceId: string | null; metadata: Buffer}>
  /** KIP-814: a static leader that rejoins a stable group must not redo the assignment. */
  skipAssignment: boolean
}

export interface SyncResult {
  errorCode: number
  protocolType: string | null
  protocolName: string | null
  assignment: Buffer
}

export interface ClassicGroupMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  protocolType: string
  protocols: Array<{name: string; metadata: Buffer}>
  assignment: Buffer
  /** Set while the member waits for the join phase to complete. */
  awaitingJoin?: ((result: JoinResult) => void) | undefined
  /** Set while the member waits for the leader's assignment. */
  awaitingSync?: ((result: SyncResult) => void) | undefined
  /** Joined during the current rebalance (its session deadline is the join deadline). */
  isNew: boolean
}

export class ClassicGroup {
  readonly type = 'classic' as const
  state: ClassicGroupState = 'Empty'
  previousState: ClassicGroupState = 'Empty'
  generationId = 0
  protocolType: string | null = null
  protocolName: string | null = null
  leaderId: string | null = null
  /** When the group entered its current state (GroupMetadataValue.currentStateTimestamp). */
  currentStateTimestamp: number
  readonly members = new Map<string, ClassicGroupMember>()
  /** group.instance.id -> member id. */
  readonly staticMembers = new Map<string, string>()
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined with them yet. */
  readonly pendingMembers = new Set<string>()
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>()
  /** Protocol name -> how many members support it. */
  private readonly supportedProtocols = new Map<string, number>()
  /** A member joined during the initial (delayed) rebalance: extend the delay. */
  newMemberAdded = false

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.currentStateTimestamp = now
  }

  is(state: ClassicGroupState): boolean {
    return this.state === state
  }

  transitionTo(state: ClassicGroupState, now: number): void {
    this.previousState = this.state
    this.state = state
    this.currentStateTimestamp = now
  }

  get size(): number {
    return this.members.size
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId
  }

  hasMember(memberId: string): boolean {
    return this.members.has(memberId)
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId)
  }

  addMember(member: ClassicGroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType
    if (this.leaderId === null) this.leaderId = member.memberId
    this.members.set(member.memberId, member)
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId)
    this.countProtocols(member, 1)
    this.pendingMembers.delete(member.memberId)
  }

  removeMember(memberId: string): ClassicGroupMember | undefined {
    const member = this.members.get(memberId)
    if (!member) return undefined
    this.members.delete(memberId)
    this.countProtocols(member, -1)
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) this.staticMembers.delete(member.groupInstanceId)
    this.pendingSyncMembers.delete(memberId)
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null
    return member
  }

  /** Changes a member's protocols (a rejoin with new metadata). */
  updateProtocols(member: ClassicGroupMember, protocols: Array<{name: string; metadata: Buffer}>): void {
    this.countProtocols(member, -1)
    member.protocols = protocols
    this.countProtocols(member, 1)
  }

  /**
   * A static member rejoining with a new member id (KIP-345): the old id is fenced, the member
   * keeps its assignment and leadership.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const member = this.members.get(oldMemberId)!
    this.members.delete(oldMemberId)
    member.memberId = newMemberId
    this.members.set(newMemberId, member)
    this.staticMembers.set(groupInstanceId, newMemberId)
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId)
    return member
  }

  private countProtocols(member: ClassicGroupMember, delta: number): void {
    for (const p of member.protocols) {
      const n = (this.supportedProtocols.get(p.name) ?? 0) + delta
      if (n <= 0) this.supportedProtocols.delete(p.name)
      else this.supportedProtocols.set(p.name, n)
    }
  }

  /** Whether a member with these protocols may join (Kafka's supportsProtocols). */
  supportsProtocols(protocolType: string, protocols: ReadonlyArray<{name: string}>): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocols.length > 0
    return this.protocolType === protocolType && protocols.some((p) => this.supportedProtocols.get(p.name) === this.members.size)
  }

  /**
   * The protocol of the next generation: among the protocols every member supports, each member
   * votes for the first in its own preference order; most votes wins, ties go to the earlier
   * member's preference (deterministic, where Kafka leaves ties to hash order).
   */
  selectProtocol(): string {
    const candidates = new Set([...this.supportedProtocols].filter(([, n]) => n === this.members.size).map(([name]) => name))
    if (candidates.size === 0) throw new Error(`no protocol supported by every member of ${this.groupId}`)
    const votes = new Map<string, number>()
    for (const m of this.members.values()) {
      const vote = m.protocols.find((p) => candidates.has(p.name))!.name
      votes.set(vote, (votes.get(vote) ?? 0) + 1)
    }
    let best = ''
    let bestVotes = -1
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name
        bestVotes = n
      }
    }
    return best
  }

  /** Every member rejoined, nobody pending (Kafka's hasAllMembersJoined). */
  hasAllMembersJoined(): boolean {
    for (const m of this.members.values()) if (!m.awaitingJoin) return false
    return this.pendingMembers.size === 0
  }

  /** The longest rebalance timeout of the members: how long the join phase may take. */
  rebalanceTimeoutMs(): number {
    let max = 0
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs)
    return max
  }

  metadataFor(member: ClassicGroupMember, protocol: string): Buffer {
    const p = member.protocols.find((x) => x.name === protocol)
    if (!p) throw new Error(`member ${member.memberId} does not support protocol ${protocol}`)
    return p.metadata
  }

  /**
   * The topics the members subscribe to, when the group uses the consumer protocol and every
   * subscription decodes; undefined when that cannot be known. As Kafka's
   * ClassicGroup.computeSubscribedTopics, each subscription is read as version 0 whatever version
   * it declares: every version starts with version 0's fields (topics, user data) and only appends
   * to them, and some clients (@platformatic/kafka) declare version 1 but send only those fields.
   */
  subscribedTopics(): Set<string> | undefined {
    if (this.protocolType !== 'consumer' || this.protocolName === null) return this.members.size === 0 ? new Set() : undefined
    const topics = new Set<string>()
    for (const m of this.members.values()) {
      const p = m.protocols.find((x) => x.name === this.protocolName)
      if (!p) return undefined
      try {
        if (p.metadata.length < 2) return undefined
        for (const t of ConsumerProtocolSubscription.decode(p.metadata, 0, 2).topics) topics.add(t)
      } catch {
        return undefined
      }
    }
    return topics
  }
}
