// JoinGroup: v2-9
//
// Behaviour: Kafka's classic group membership (GroupCoordinator: classic groups). A new dynamic
// member first gets MEMBER_ID_REQUIRED with its member id (v4+, KIP-394) and joins with it; a
// static member (group.instance.id, v5+, KIP-345) joins directly and, rejoining a stable group
// without changing the selected protocol, gets its generation back with no rebalance (a leader
// gets skipAssignment, v9+, KIP-814). The response waits until the join phase completes: every
// member rejoined, or the rebalance timeout passed (the first rebalance of an empty group waits
// group.initial.rebalance.delay.ms, extended while members keep arriving). The leader gets the
// members' metadata for the selected protocol (the one most members prefer among those all
// support).
// Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT (outside group.min/max.session.timeout.ms),
// INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, MEMBER_ID_REQUIRED,
// GROUP_MAX_SIZE_REACHED, REBALANCE_IN_PROGRESS (a newer JoinGroup of the same member replaced
// this one), COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR (broker shutting down).
// Not implemented: joining a KIP-848 consumer group that has members with the classic protocol
// (Kafka 4.0's online migration): INCONSISTENT_GROUP_PROTOCOL.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {clientHostOf, clientIdOf, coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const joinGroup = defineHandler({
  apiKey: ApiKey.JoinGroup,
  minVersion: 2,
  maxVersion: 9,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    const v = ctx.apiVersion
    // Authorization (issue 15): READ on the group; the refusal is JoinGroupRequest.getErrorResponse
    // (member id "").
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, generationId: -1, protocolName: v >= 7 ? null : '', leader: '', memberId: '', members: []}
    if (!groups) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, generationId: -1, protocolName: v >= 7 ? null : '', leader: '', memberId: request.memberId, members: []}
    const result = await groups.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: v >= 5 ? request.groupInstanceId : null,
      protocolType: request.protocolType,
      protocols: request.protocols.map((p) => ({name: p.name, metadata: Buffer.from(p.metadata)})),
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs === -1 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
      clientId: clientIdOf(ctx),
      clientHost: clientHostOf(ctx),
      reason: v >= 8 ? request.reason : null,
      requireKnownMemberId: v >= 4,
      supportsSkipAssignment: v >= 9,
    })
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      // Before v7 the protocol name is not nullable.
      protocolName: v >= 7 ? result.protocolName : (result.protocolName ?? ''),
      leader: result.leader,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members,
    }
  },
})
