// DescribeGroups: v0-6
//
// Behaviour: state, protocol type, and members (id, instance id, client id and host) of classic
// groups; the selected protocol and each member's metadata and assignment only when the group is
// Stable, as Kafka does. authorizedOperations (v3+, when asked): the principal's operations on the
// group (READ, DESCRIBE and DELETE without an authorizer).
// Errors: an unknown group (or a KIP-848 consumer group) is GROUP_ID_NOT_FOUND with a message in
// v6 (KIP-1043) and the state "Dead" without an error before; COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {AUTHORIZED_OPERATIONS_NOT_REQUESTED, coordinatorOf} from '../coordinator/handler-support.js'
import {GROUP_OPERATIONS} from '../authorized-operations.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizedOperations, ResourceType} from './authorize.js'

export const describeGroups = defineHandler({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    // Authorization (issue 15), as KafkaApis: DESCRIBE on each group, the refused ones
    // (GROUP_AUTHORIZATION_FAILED) first; authorized operations (v3+, when asked) are the principal's
    // on each group described without error.
    const asked = ctx.apiVersion >= 3 && request.includeAuthorizedOperations
    const operations = (groupId: string) => (asked ? authorizedOperations(ctx, ResourceType.GROUP, groupId, GROUP_OPERATIONS) : AUTHORIZED_OPERATIONS_NOT_REQUESTED)
    const allowed = request.groups.filter((groupId) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId))
    const refused = request.groups.filter((groupId) => !allowed.includes(groupId)).map((groupId) => ({groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED}))
    return {
      throttleTimeMs: 0,
      groups: [
        ...refused,
        ...allowed.map((groupId) => {
          if (!groups) return {groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED}
          const d = groups.describeGroup(groupId, ctx.apiVersion)
          return {...d, authorizedOperations: d.errorCode === ErrorCode.NONE ? operations(groupId) : AUTHORIZED_OPERATIONS_NOT_REQUESTED}
        }),
      ],
    }
  },
})
