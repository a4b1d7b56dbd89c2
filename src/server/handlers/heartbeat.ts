// Heartbeat: v0-4
//
// Behaviour: keeps a classic group member alive for its session timeout. Answers NONE in
// CompletingRebalance and Stable, REBALANCE_IN_PROGRESS while the group prepares a rebalance (the
// member must rejoin), UNKNOWN_MEMBER_ID once the group is Empty.
// Errors: UNKNOWN_MEMBER_ID (unknown group or member), FENCED_INSTANCE_ID (v3+ static member
// replaced by a newer instance), ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS,
// COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const heartbeat = defineHandler({
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED}
    if (!groups) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}
    const errorCode = groups.heartbeat({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: ctx.apiVersion >= 3 ? request.groupInstanceId : null,
    })
    return {throttleTimeMs: 0, errorCode}
  },
})
