// LeaveGroup: v0-5
//
// Behaviour: removes members from a classic group and rebalances the rest. v0-2 name one member
// (its error is the response's); v3+ a batch, each with its own error, where a member given only
// by group.instance.id (member id "") is removed administratively (kafka-consumer-groups
// --delete --group with static members). A pending member (got MEMBER_ID_REQUIRED, never joined)
// just disappears.
// Errors: UNKNOWN_MEMBER_ID (unknown group or member), FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const leaveGroup = defineHandler({
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: []}
    if (!groups) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: []}
    const batched = ctx.apiVersion >= 3
    const members = batched
      ? request.members.map((m) => ({memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: ctx.apiVersion >= 5 ? m.reason : null}))
      : [{memberId: request.memberId, groupInstanceId: null, reason: null}]
    const result = groups.leaveGroup({groupId: request.groupId, members})
    if (batched) return {throttleTimeMs: 0, errorCode: result.errorCode, members: result.members}
    const memberError = result.members[0]?.errorCode ?? ErrorCode.NONE
    return {throttleTimeMs: 0, errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : memberError}
  },
})
