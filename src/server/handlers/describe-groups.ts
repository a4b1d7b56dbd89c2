// DescribeGroups: v0-6
//
// Behaviour: state, protocol type, and members (id, instance id, client id and host) of classic
// groups; the selected protocol and each member's metadata and assignment only when the group is
// Stable, as Kafka does. authorizedOperations (v3+, when asked): READ, DESCRIBE and DELETE, as
// Kafka reports without an authorizer.
// Errors: an unknown group (or a KIP-848 consumer group) is GROUP_ID_NOT_FOUND with a message in
// v6 (KIP-1043) and the state "Dead" without an error before; COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {AUTHORIZED_OPERATIONS_NOT_REQUESTED, GROUP_AUTHORIZED_OPERATIONS, coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'

export const describeGroups = defineHandler({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    const operations = ctx.apiVersion >= 3 && request.includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : AUTHORIZED_OPERATIONS_NOT_REQUESTED
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => {
        if (!groups) return {groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: operations}
        const d = groups.describeGroup(groupId, ctx.apiVersion)
        return {...d, authorizedOperations: d.errorCode === ErrorCode.NONE ? operations : AUTHORIZED_OPERATIONS_NOT_REQUESTED}
      }),
    }
  },
})
