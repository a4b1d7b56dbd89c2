/**
 * A KIP-848 consumer group (ConsumerGroupHeartbeat) as data, after Kafka's ConsumerGroup and
 * ConsumerGroupMember, and the reconciliation of one member towards its target assignment
 * (Kafka's CurrentAssignmentBuilder). GroupCoordinator owns and changes it.
 *
 * Epochs: the group epoch moves when the members or their subscriptions change; the assignment
 * epoch is the group epoch the target assignment was computed for; a member's epoch reaches the
 * assignment epoch once it owns nothing that the target gives to another member.
 *
 * Member states (reconciliation):
 *   stable                 owns exactly its target at the member epoch
 *   unrevoked_partitions   must give up partitions first; stays at its epoch until its heartbeat
 *                          no longer lists them as owned
 *   unreleased_partitions  at the new epoch, but some of its target partitions are still owned by
 *                          members that have not revoked them yet
 *
 * Group states: Empty (no members), Assigning (group epoch ahead of the assignment epoch),
 * Reconciling (a member not yet at the assignment epoch or not stable), Stable.
 */
import {type Assignment, cloneAssignment} from './assignors.js'

export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead'
export type MemberState = 'stable' | 'unrevoked_partitions' | 'unreleased_partitions'

/** The member epoch of a static member that left temporarily (KIP-848: it may come back). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2
export const LEAVE_GROUP_MEMBER_EPOCH = -1

export interface ConsumerGroupMember {
  memberId: string
  instanceId: string | null
  rackId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  subscribedTopicNames: string[]
  subscribedTopicRegex: string | null
  serverAssignor: string | null
  memberEpoch: number
  previousMemberEpoch: number
  state: MemberState
  assigned: Assignment
  pendingRevocation: Assignment
}

export class ConsumerGroup {
  readonly type = 'consumer' as const
  groupEpoch = 0
  assignmentEpoch = 0
  /** member id -> target assignment. */
  readonly targetAssignment = new Map<string, Assignment>()
  readonly members = new Map<string, ConsumerGroupMember>()
  readonly staticMembers = new Map<string, string>()
  /** topic name -> partition count, as of the last group epoch (detects new partitions). */
  subscriptionMetadata = new Map<string, number>()
  /** The assignor of the last target assignment. */
  assignorName = ''
  dead = false
  /**
   * Which topics a regular-expression subscription may resolve to: those the principal of the
   * latest heartbeat of a member with a regex may DESCRIBE (Kafka's GroupMetadataManager resolves
   * regexes with the triggering request's context). In memory only; undefined: no authorizer.
   */
  regexTopicFilter: ((topic: string) => boolean) | undefined = undefined

  constructor(readonly groupId: string) {}

  get size(): number {
    return this.members.size
  }

  state(): ConsumerGroupState {
    if (this.dead) return 'Dead'
    if (this.members.size === 0) return 'Empty'
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning'
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'stable') return 'Reconciling'
    }
    return 'Stable'
  }

  setMember(member: ConsumerGroupMember): void {
    this.members.set(member.memberId, member)
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId)
  }

  removeMember(memberId: string): ConsumerGroupMember | undefined {
    const member = this.members.get(memberId)
    if (!member) return undefined
    this.members.delete(memberId)
    this.targetAssignment.delete(memberId)
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId) this.staticMembers.delete(member.instanceId)
    return member
  }

  /** Topic names any member subscribes to by name. */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>()
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) names.add(t)
    return names
  }

  /** Whether a partition is owned (assigned or pending revocation) by a member other than `except`. */
  isOwnedByOther(topicId: string, partition: number, except: string): boolean {
    for (const m of this.members.values()) {
      if (m.memberId === except) continue
      if (m.assigned.get(topicId)?.has(partition) || m.pendingRevocation.get(topicId)?.has(partition)) return true
    }
    return false
  }
}

/** The partitions a heartbeat reports as owned: topic id -> partitions; null when not sent. */
export type OwnedPartitions = Array<{topicId: string; partitions: number[]}> | null

function ownsAny(owned: OwnedPartitions, partitions: Assignment): boolean {
  if (owned === null) return true
  for (const o of owned) {
    const set = partitions.get(o.topicId)
    if (set && o.partitions.some((p) => set.has(p))) return true
  }
  return false
}

/**
 * Kafka's CurrentAssignmentBuilder: the member's next state given the target assignment at
 * `targetEpoch` and what it reported as owned. Returns a new member; the input is not changed.
 */
export function reconcileMember(
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: Assignment,
  owned: OwnedPartitions,
  isOwnedByOther: (topicId: string, partition: number) => boolean,
): ConsumerGroupMember {
  switch (member.state) {
    case 'stable':
      if (member.memberEpoch !== targetEpoch) return computeNext(member, member.memberEpoch, targetEpoch, target, owned, isOwnedByOther)
      return member
    case 'unrevoked_partitions':
      if (ownsAny(owned, member.pendingRevocation)) return member
      return computeNext(member, member.memberEpoch, targetEpoch, target, owned, isOwnedByOther)
    case 'unreleased_partitions':
      return computeNext(member, member.memberEpoch, targetEpoch, target, owned, isOwnedByOther)
  }
}

function computeNext(
  member: ConsumerGroupMember,
  memberEpoch: number,
  targetEpoch: number,
  target: Assignment,
  owned: OwnedPartitions,
  isOwnedByOther: (topicId: string, partition: number) => boolean,
): ConsumerGroupMember {
  let hasUnreleased = false
  const assigned: Assignment = new Map()
  const pendingRevocation: Assignment = new Map()
  const pendingAssignment: Assignment = new Map()
  const topicIds = new Set([...target.keys(), ...member.assigned.keys()])
  for (const topicId of topicIds) {
    const targetSet = target.get(topicId) ?? new Set<number>()
    const current = member.assigned.get(topicId) ?? new Set<number>()
    const kept = new Set([...current].filter((p) => targetSet.has(p)))
    const revoking = new Set([...current].filter((p) => !kept.has(p)))
    const toAssign = new Set<number>()
    for (const p of targetSet) {
      if (kept.has(p)) continue
      if (isOwnedByOther(topicId, p)) hasUnreleased = true
      else toAssign.add(p)
    }
    if (kept.size > 0) assigned.set(topicId, kept)
    if (revoking.size > 0) pendingRevocation.set(topicId, revoking)
    if (toAssign.size > 0) pendingAssignment.set(topicId, toAssign)
  }
  const withEpoch = (epoch: number) => ({previousMemberEpoch: member.memberEpoch === epoch ? member.previousMemberEpoch : member.memberEpoch, memberEpoch: epoch})
  if (pendingRevocation.size > 0 && ownsAny(owned, pendingRevocation)) {
    return {...member, ...withEpoch(memberEpoch), state: 'unrevoked_partitions', assigned, pendingRevocation}
  }
  for (const [topicId, partitions] of pendingAssignment) {
    const set = assigned.get(topicId) ?? new Set<number>()
    for (const p of partitions) set.add(p)
    assigned.set(topicId, set)
  }
  return {...member, ...withEpoch(targetEpoch), state: hasUnreleased ? 'unreleased_partitions' : 'stable', assigned: cloneAssignment(assigned), pendingRevocation: new Map()}
}
