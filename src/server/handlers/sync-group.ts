// SyncGroup: v0-5
//
// Behaviour: the second phase of a classic rebalance. The leader's request carries every
// member's assignment; it is written to __consumer_offsets (GroupMetadata) and then handed to
// every member waiting in SyncGroup, and the group becomes Stable. Members that send SyncGroup
// before the leader wait for it; in a Stable group SyncGroup returns the member's assignment. A
// member the leader left out gets an empty assignment. Members that do not send SyncGroup within
// the rebalance timeout are removed and the group rebalances.
// Errors: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL
// (v5+ protocol type/name differ from the group's), REBALANCE_IN_PROGRESS,
// COORDINATOR_NOT_AVAILABLE (no coordinator; the assignment could not be written).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {EMPTY_BUFFER} from '../../lib/protocol/message.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const syncGroup = defineHandler({
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    // Kafka checks that v5+ carries ProtocolType and ProtocolName before the group's READ.
    if (ctx.apiVersion >= 5 && (request.protocolType === null || request.protocolName === null)) return {throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER}
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER}
    if (!groups) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER}
    const v = ctx.apiVersion
    const result = await groups.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: v >= 3 ? request.groupInstanceId : null,
      protocolType: v >= 5 ? request.protocolType : null,
      protocolName: v >= 5 ? request.protocolName : null,
      assignments: request.assignments.map((a) => ({memberId: a.memberId, assignment: Buffer.from(a.assignment)})),
    })
    return {throttleTimeMs: 0, errorCode: result.errorCode, protocolType: result.protocolType, protocolName: result.protocolName, assignment: result.assignment}
  },
})
