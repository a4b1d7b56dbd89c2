// ListGroups: v0-5
//
// Behaviour: every group this broker coordinates (all of them), sorted by id, with its protocol
// type, state (v4+; classic: Empty, PreparingRebalance, CompletingRebalance, Stable; consumer:
// Empty, Assigning, Reconciling, Stable) and type (v5+: classic or consumer). statesFilter (v4+)
// and typesFilter (v5+) keep the groups whose state or type matches one of them, ignoring case;
// empty filters keep everything.
// Errors: COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'

export const listGroups = defineHandler({
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    if (!groups) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: []}
    const listed = groups.listGroups({states: ctx.apiVersion >= 4 ? request.statesFilter : [], types: ctx.apiVersion >= 5 ? request.typesFilter : []})
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups: listed}
  },
})
