// DeleteTopics: v1-6
//
// Behaviour: deletes topics named in `topicNames` (v1-5) or in `topics` by name or by topic id
// (v6+): the metadata (with the topic's configs) first, then the partition logs. Answers as Kafka
// 4.0's controller (ControllerApis.deleteTopics): one result per topic; names that do not exist get
// UNKNOWN_TOPIC_OR_PARTITION, ids that do not exist UNKNOWN_TOPIC_ID (with a null name); malformed
// entries get INVALID_REQUEST ("Neither topic name nor id were specified.", "You may not specify
// both topic name and topic id.", "Duplicate topic name.", "Duplicate topic id.", "The provided
// topic name maps to an ID that was already supplied."). With delete.topic.enable=false every
// topic gets TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3). A timeoutMs <= 0 is a deadline
// that has already passed when the controller would act: every topic gets REQUEST_TIMED_OUT and
// nothing is deleted, as in Kafka 4.0.
// Internal topics (__consumer_offsets, __transaction_state) are deleted like any other: Kafka
// 4.0's controller has no such check (the refusal some remember was the ZooKeeper-era
// kafka-topics.sh, on the client side).
// Version notes: the order of the results carries no meaning (Kafka shuffles them).
// Controller mutation quota (issue 15): a deleted topic costs its partition count, strict from v5.
// Authorization (issue 15): DELETE on the cluster or the topic, DESCRIBE on the topic deciding
// between TOPIC_AUTHORIZATION_FAILED and UNKNOWN_TOPIC_OR_PARTITION and whether a refusal by id
// carries the name (ControllerApis.deleteTopics), with the message "Topic authorization failed.".
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {TopicError} from '../controller/topic-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizeCluster, ResourceType} from './authorize.js'
import {mutationQuotaOf, THROTTLING_QUOTA_EXCEEDED_MESSAGE} from '../quotas/client-quota-manager.js'

interface Result {
  name: string | null
  topicId: string
  errorCode: number
  errorMessage: string | null
}

const UNKNOWN_TOPIC_ID_MESSAGE = 'This server does not host this topic ID.'
const UNKNOWN_TOPIC_MESSAGE = 'This server does not host this topic-partition.'
const TOPIC_AUTHORIZATION_FAILED_MESSAGE = 'Topic authorization failed.'

export const deleteTopics = defineHandler({
  apiKey: ApiKey.DeleteTopics,
  minVersion: 1,
  maxVersion: 6,
  async handle(request, ctx) {
    const {metadata, topics, config} = ctx.broker
    const requested = ctx.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({name, topicId: ZERO_UUID}))
    // Errors of the whole request: one result per entry with the same code.
    const everyEntry = (errorCode: number): Result[] => requested.map((e) => ({name: e.name, topicId: e.topicId, errorCode, errorMessage: null}))
    if (!config.bool('delete.topic.enable')) {
      return {throttleTimeMs: 0, responses: everyEntry(ctx.apiVersion < 3 ? ErrorCode.INVALID_REQUEST : ErrorCode.TOPIC_DELETION_DISABLED)}
    }
    if (request.timeoutMs <= 0) return {throttleTimeMs: 0, responses: everyEntry(ErrorCode.REQUEST_TIMED_OUT)}

    const results: Result[] = []
    const fail = (name: string | null, topicId: string, errorCode: number, errorMessage: string | null) => results.push({name, topicId, errorCode, errorMessage})
    // Names and ids given once, in request order; those given twice are refused.
    const names = new Map<string, number>()
    const ids = new Map<string, number>()
    for (const e of requested) {
      if (e.name === null) {
        if (e.topicId === ZERO_UUID) fail(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.')
        else ids.set(e.topicId, (ids.get(e.topicId) ?? 0) + 1)
      } else if (e.topicId !== ZERO_UUID) {
        fail(e.name, e.topicId, ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.')
      } else {
        names.set(e.name, (names.get(e.name) ?? 0) + 1)
      }
    }
    for (const [name, count] of names) if (count > 1) fail(name, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')
    const duplicateIds = new Set([...ids].filter(([, count]) => count > 1).map(([id]) => id))
    for (const id of duplicateIds) fail(null, id, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.')

    // Authorization (issue 15), as ControllerApis.deleteTopics: DELETE on the cluster allows every
    // topic; else DELETE on the topic, and DESCRIBE decides what a refusal may reveal — a topic by id
    // the principal may describe is refused with its name, else with a null name; a name it may not
    // describe is refused before its existence is looked at.
    const clusterDelete = authorizeCluster(ctx, AclOperation.DELETE)
    const mayDescribe = (name: string) => clusterDelete || authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)
    const mayDelete = (name: string) => clusterDelete || authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name)

    // Resolve ids to names, then names to ids: what is left is deleted.
    const toDelete = new Map<string, string>() // topic id -> name
    for (const [id, count] of ids) {
      if (count > 1) continue
      const topic = metadata.topicById(id)
      if (!topic) fail(null, id, ErrorCode.UNKNOWN_TOPIC_ID, UNKNOWN_TOPIC_ID_MESSAGE)
      else if (!mayDelete(topic.name)) fail(mayDescribe(topic.name) ? topic.name : null, id, ErrorCode.TOPIC_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED_MESSAGE)
      else toDelete.set(id, topic.name)
    }
    for (const [name, count] of names) {
      if (count > 1) continue
      if (!mayDescribe(name)) {
        fail(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED_MESSAGE)
        continue
      }
      const topic = metadata.topic(name)
      if (!topic) {
        fail(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_MESSAGE)
      } else if (!mayDelete(name)) {
        fail(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED_MESSAGE)
      } else if (duplicateIds.has(topic.topicId) || toDelete.has(topic.topicId)) {
        duplicateIds.add(topic.topicId)
        toDelete.delete(topic.topicId)
        fail(name, topic.topicId, ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.')
      } else {
        toDelete.set(topic.topicId, name)
      }
    }

    const quota = mutationQuotaOf(ctx, 5)
    for (const [id, name] of toDelete) {
      if (metadata.topic(name)?.topicId !== id) {
        fail(name, id, ErrorCode.UNKNOWN_TOPIC_ID, UNKNOWN_TOPIC_ID_MESSAGE) // deleted (or re-created) meanwhile
        continue
      }
      if (quota.isExceeded() || !quota.record(metadata.topic(name)!.partitions.length)) {
        fail(name, id, ErrorCode.THROTTLING_QUOTA_EXCEEDED, THROTTLING_QUOTA_EXCEEDED_MESSAGE)
        continue
      }
      try {
        await topics.delete(name)
        results.push({name, topicId: id, errorCode: ErrorCode.NONE, errorMessage: null})
      } catch (error) {
        if (!(error instanceof TopicError)) throw error
        if (error.code === 'UNKNOWN_TOPIC_OR_PARTITION') fail(name, id, ErrorCode.UNKNOWN_TOPIC_ID, UNKNOWN_TOPIC_ID_MESSAGE)
        else fail(name, id, ErrorCode[error.code], error.kafkaMessage)
      }
    }
    return {throttleTimeMs: quota.throttleTime(), responses: results}
  },
})
