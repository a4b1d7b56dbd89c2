// ConsumerGroupHeartbeat: v0-1
//
// Behaviour: KIP-848's consumer group protocol, which Kafka 4.0's Java consumer uses with
// group.protocol=consumer. Memberepoch 0 joins (v0: the coordinator makes the member id when none
// is given; v1, KIP-1082: the client's), -1 leaves, -2 leaves temporarily as a static member (it
// keeps its partitions until its session times out and gets them back when it rejoins with the
// same group.instance.id). Subscription changes bump the group epoch; the server-side assignor
// (uniform by default, or range; group.consumer.assignors) computes the target assignment, and
// each member is reconciled incrementally: partitions to revoke first (the member keeps its
// epoch until its heartbeat no longer reports them), then partitions freed by others, with the
// new epoch. The assignment is sent on a full request (join, or all fields set) or when it
// changed. Sessions last group.consumer.session.timeout.ms; a member that does not revoke within
// its rebalance timeout is fenced.
// Errors: INVALID_REQUEST (Kafka's validation messages), UNSUPPORTED_ASSIGNOR, GROUP_ID_NOT_FOUND,
// UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, FENCED_INSTANCE_ID, UNRELEASED_INSTANCE_ID,
// GROUP_MAX_SIZE_REACHED, INVALID_REGULAR_EXPRESSION, COORDINATOR_NOT_AVAILABLE,
// GROUP_AUTHORIZATION_FAILED (READ on the group), TOPIC_AUTHORIZATION_FAILED (DESCRIBE on a
// subscribed topic name). A regex subscription resolves only to topics the principal of the
// group's latest regex heartbeat may DESCRIBE, as Kafka's GroupMetadataManager.
// Not implemented: members using the classic protocol inside a consumer group (online
// migration), rack-aware assignment, RE2 regular expressions (JavaScript ones, matched against the
// whole topic name).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {clientHostOf, clientIdOf, coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler, type RequestContext} from './handler.js'
import {AclOperation, authorize, requester, ResourceType} from './authorize.js'

export const consumerGroupHeartbeat = defineHandler({
  apiKey: ApiKey.ConsumerGroupHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    // Authorization (issue 15), as KafkaApis: READ on the group, then DESCRIBE on every topic named
    // in SubscribedTopicNames (one refused: TOPIC_AUTHORIZATION_FAILED, nothing changes). Kafka's
    // error responses leave the other fields at their defaults (member epoch 0).
    const refused = (errorCode: number) => ({throttleTimeMs: 0, errorCode, errorMessage: null, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null})
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED)
    if (request.subscribedTopicNames?.some((name) => !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name))) return refused(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    if (!groups) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null}
    const result = await groups.consumerGroupHeartbeat({
      groupId: request.groupId,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      instanceId: request.instanceId,
      rackId: request.rackId,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      subscribedTopicNames: request.subscribedTopicNames,
      subscribedTopicRegex: ctx.apiVersion >= 1 ? request.subscribedTopicRegex : null,
      serverAssignor: request.serverAssignor,
      topicPartitions: request.topicPartitions === null ? null : request.topicPartitions.map((t) => ({topicId: t.topicId, partitions: t.partitions})),
      clientId: clientIdOf(ctx),
      clientHost: clientHostOf(ctx),
      apiVersion: ctx.apiVersion,
      // Regex subscriptions resolve only to topics the requester may DESCRIBE (Kafka 4.0's
      // GroupMetadataManager.refreshRegularExpressions).
      ...(ctx.broker.authorizer.enabled ? {mayDescribeTopic: topicDescriber(ctx)} : {}),
    })
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      memberId: result.memberId,
      memberEpoch: result.memberEpoch,
      heartbeatIntervalMs: result.heartbeatIntervalMs,
      assignment: result.assignment === null ? null : {topicPartitions: result.assignment},
    }
  },
})

/** Whether the requester may DESCRIBE a topic, without holding on to the request's context. */
function topicDescriber(ctx: RequestContext): (topic: string) => boolean {
  const authorizer = ctx.broker.authorizer
  const who = requester(ctx)
  return (topic) => authorizer.authorize(who, AclOperation.DESCRIBE, ResourceType.TOPIC, topic)
}
