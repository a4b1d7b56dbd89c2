// DeleteGroups: v0-2
//
// Behaviour: deletes empty groups with their committed offsets (tombstones for every offset and
// for the group in __consumer_offsets), each group with its own result.
// Errors: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'

export const deleteGroups = defineHandler({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    if (!groups) return {throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}))}
    return {throttleTimeMs: 0, results: await groups.deleteGroups(request.groupsNames)}
  },
})
