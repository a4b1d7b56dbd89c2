// ConsumerGroupDescribe: v0-1
//
// Behaviour: KIP-848 consumer groups: state (Empty, Assigning, Reconciling, Stable), group and
// assignment epochs, the assignor of the last target assignment, and each member's epoch,
// subscription, current and target assignment (topic ids with names), member type (v1: 1, a
// consumer-protocol member). authorizedOperations when asked: the principal's on the group (READ,
// DESCRIBE, DELETE without an authorizer).
// Errors: GROUP_ID_NOT_FOUND ("Group X not found.", or "Group X is not a consumer group." for a
// classic group, as the Java admin client expects before it falls back to DescribeGroups),
// COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {Assignment} from '../coordinator/assignors.js'
import type {GroupCoordinator} from '../coordinator/group-coordinator.js'
import {AUTHORIZED_OPERATIONS_NOT_REQUESTED, coordinatorOf} from '../coordinator/handler-support.js'
import {GROUP_OPERATIONS} from '../authorized-operations.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizedOperations, ResourceType} from './authorize.js'

function describeAssignment(groups: GroupCoordinator, assignment: Assignment | undefined) {
  const topicPartitions = [...(assignment ?? new Map<string, Set<number>>())]
    .map(([topicId, partitions]) => ({topicId, topicName: groups.topicName(topicId), partitions: [...partitions].sort((a, b) => a - b)}))
    .sort((a, b) => (a.topicName < b.topicName ? -1 : a.topicName > b.topicName ? 1 : 0))
  return {topicPartitions}
}

export const consumerGroupDescribe = defineHandler({
  apiKey: ApiKey.ConsumerGroupDescribe,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    // Authorization (issue 15), as KafkaApis: DESCRIBE on each group, the refused ones
    // (GROUP_AUTHORIZATION_FAILED) first; authorized operations, when asked, the principal's on each
    // group described without error; with an authorizer, a group whose members' assignments or
    // target assignments name a topic the principal may not DESCRIBE is answered
    // TOPIC_AUTHORIZATION_FAILED without members.
    const operations = (groupId: string) => (request.includeAuthorizedOperations ? authorizedOperations(ctx, ResourceType.GROUP, groupId, GROUP_OPERATIONS) : AUTHORIZED_OPERATIONS_NOT_REQUESTED)
    const allowed = request.groupIds.filter((groupId) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId))
    const refused = request.groupIds.filter((groupId) => !allowed.includes(groupId)).map((groupId) => ({groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null}))
    const hidesTopics = (members: ReadonlyArray<{assignment: {topicPartitions: Array<{topicName: string}>}; targetAssignment: {topicPartitions: Array<{topicName: string}>}}>) =>
      ctx.broker.authorizer.enabled && members.some((m) => [...m.assignment.topicPartitions, ...m.targetAssignment.topicPartitions].some((tp) => !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, tp.topicName)))
    const described = allowed.map((groupId) => {
        if (!groups) return {groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null}
        const d = groups.describeConsumerGroup(groupId)
        const group = d.group
        if (!group) return {groupId, errorCode: d.errorCode, errorMessage: d.errorMessage, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: []}
        const members = [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: m.subscribedTopicNames,
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: describeAssignment(groups, m.assigned),
          targetAssignment: describeAssignment(groups, group.targetAssignment.get(m.memberId)),
          memberType: 1,
        }))
        if (hidesTopics(members)) return {groupId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'The group has described topic(s) that the client is not authorized to describe.', members: []}
        return {
          groupId,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          groupState: group.state(),
          groupEpoch: group.groupEpoch,
          assignmentEpoch: group.assignmentEpoch,
          assignorName: group.assignorName,
          authorizedOperations: operations(groupId),
          members,
        }
      })
    return {throttleTimeMs: 0, groups: [...refused, ...described]}
  },
})
