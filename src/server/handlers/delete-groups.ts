// DeleteGroups: v0-2
//
// Behaviour: deletes empty groups with their committed offsets (tombstones for every offset and
// for the group in __consumer_offsets), each group with its own result.
// Errors: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const deleteGroups = defineHandler({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    if (!groups) return {throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}))}
    // Authorization (issue 15): DELETE on each group.
    // As KafkaApis: each group once, the refused ones (GROUP_AUTHORIZATION_FAILED) after the others.
    const names = [...new Set(request.groupsNames)]
    const allowed = names.filter((g) => authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, g))
    const denied = names.filter((g) => !allowed.includes(g)).map((groupId) => ({groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED}))
    return {throttleTimeMs: 0, results: [...(allowed.length > 0 ? await groups.deleteGroups(allowed) : []), ...denied]}
  },
})
