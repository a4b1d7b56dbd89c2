// ListGroups: v0-5
//
// Behaviour: every group this broker coordinates (those of the __consumer_offsets partitions it
// leads and has loaded), sorted by id, with its protocol
// type, state (v4+; classic: Empty, PreparingRebalance, CompletingRebalance, Stable; consumer:
// Empty, Assigning, Reconciling, Stable) and type (v5+: classic or consumer). statesFilter (v4+)
// and typesFilter (v5+) keep the groups whose state or type matches one of them, ignoring case;
// empty filters keep everything.
// Errors: COORDINATOR_LOAD_IN_PROGRESS (a partition led here is still loading; the loaded ones'
// groups are listed), COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizeCluster, ResourceType} from './authorize.js'

export const listGroups = defineHandler({
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    if (!groups) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: []}
    const listed = groups.listGroups({states: ctx.apiVersion >= 4 ? request.statesFilter : [], types: ctx.apiVersion >= 5 ? request.typesFilter : []})
    // Authorization (issue 15): DESCRIBE on the cluster lists every group, else those the principal may describe.
    const visible = authorizeCluster(ctx, AclOperation.DESCRIBE) ? listed : listed.filter((g) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId))
    return {throttleTimeMs: 0, errorCode: groups.loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, groups: visible}
  },
})
