// FindCoordinator: v0-6
//
// Behaviour: a group key (key type 0) is answered with the leader of the group's partition of
// __consumer_offsets (this broker's advertised address on the listener the request came in on,
// when it leads it). The first lookup creates __consumer_offsets (offsets.topic.num.partitions,
// compacted, offsets.topic.replication.factor) before answering, where Kafka answers
// COORDINATOR_NOT_AVAILABLE once and lets the client retry. In a cluster with fewer registered
// brokers than the replication factor the topic is not created and the answer is
// COORDINATOR_NOT_AVAILABLE until there are enough, as Kafka's. v0-3 carry one key; v4+ a batch
// (KIP-699), each with its own error.
// A transaction key (key type 1) is answered the same way, with __transaction_state
// (transaction.state.log.replication.factor).
// Errors: COORDINATOR_NOT_AVAILABLE (no coordinator; __consumer_offsets or __transaction_state
// could not be created), INVALID_REQUEST (an unknown key type).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ERROR_CODES, ErrorCode} from '../../lib/protocol/generated/errors.js'
import {OFFSETS_TOPIC} from '../coordinator/coordinator-log.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {partitionForGroup} from '../coordinator/records.js'
import {TRANSACTION_STATE_TOPIC, transactionStatePartition} from '../coordinator/transaction-log.js'
import {TopicError} from '../controller/topic-manager.js'
import {brokersFor} from './metadata.js'
import {defineHandler, type RequestContext} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

const GROUP_KEY = 0
const TRANSACTION_KEY = 1

interface Answer {
  key: string
  nodeId: number
  host: string
  port: number
  errorCode: number
  errorMessage: string | null
}

function messageOf(code: number): string {
  return ERROR_CODES.find((e) => e.code === code)?.message ?? ''
}

async function find(key: string, keyType: number, ctx: RequestContext): Promise<Answer> {
  const fail = (errorCode: number, errorMessage = messageOf(errorCode)): Answer => ({key, nodeId: -1, host: '', port: -1, errorCode, errorMessage})
  // Authorization (issue 15): DESCRIBE on the group or the transactional id.
  if (keyType === TRANSACTION_KEY && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  if (keyType === GROUP_KEY && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key)) return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED)
  if (keyType === TRANSACTION_KEY) return findTransactionCoordinator(key, ctx, fail)
  if (keyType !== GROUP_KEY) return fail(ErrorCode.INVALID_REQUEST, `Unknown coordinator type ${keyType} in FindCoordinator request`)
  const groups = coordinatorOf(ctx)
  if (!groups) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  try {
    await groups.ensureOffsetsTopic()
  } catch (error) {
    logCreationFailure(ctx, OFFSETS_TOPIC, error)
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  }
  return leaderOf(OFFSETS_TOPIC, (partitions) => partitionForGroup(key, partitions), key, ctx, fail)
}

/** Too few brokers for the internal topic's replication factor is expected while a cluster starts: a warning, not an error. */
function logCreationFailure(ctx: RequestContext, topic: string, error: unknown): void {
  if (error instanceof TopicError && error.code === 'INVALID_REPLICATION_FACTOR') ctx.broker.log.warn({topic, reason: error.message}, `not creating ${topic} yet; coordinators are unavailable until enough brokers are registered`)
  else ctx.broker.log.error({err: error}, `creating ${topic} failed`)
}

/**
 * The coordinator of a key is the leader of its partition of the internal topic (this broker when
 * it is the only one); COORDINATOR_NOT_AVAILABLE when that broker is not registered (down).
 */
function leaderOf(topicName: string, partitionFor: (partitions: number) => number, key: string, ctx: RequestContext, fail: (errorCode: number) => Answer): Answer {
  const topic = ctx.broker.metadata.topic(topicName)
  const leader = topic?.partitions[partitionFor(topic.partitions.length)]?.leader ?? ctx.broker.nodeId
  if (leader === ctx.broker.nodeId) {
    const {host, port} = ctx.broker.advertisedListener(ctx.connection.listenerName)
    return {key, nodeId: ctx.broker.nodeId, host, port, errorCode: ErrorCode.NONE, errorMessage: null}
  }
  const broker = brokersFor(ctx).find((b) => b.nodeId === leader)
  if (!broker) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  return {key, nodeId: broker.nodeId, host: broker.host, port: broker.port, errorCode: ErrorCode.NONE, errorMessage: null}
}

async function findTransactionCoordinator(key: string, ctx: RequestContext, fail: (errorCode: number) => Answer): Promise<Answer> {
  const transactions = ctx.broker.transactions
  if (!transactions) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  try {
    await transactions.ensureStateTopic()
  } catch (error) {
    logCreationFailure(ctx, TRANSACTION_STATE_TOPIC, error)
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  }
  return leaderOf(TRANSACTION_STATE_TOPIC, (partitions) => transactionStatePartition(key, partitions), key, ctx, fail)
}

export const findCoordinator = defineHandler({
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, ctx) {
    const keyType = ctx.apiVersion >= 1 ? request.keyType : GROUP_KEY
    if (ctx.apiVersion >= 4) {
      const coordinators = []
      for (const key of request.coordinatorKeys) {
        const answer = await find(key, keyType, ctx)
        coordinators.push({...answer, errorMessage: answer.errorCode === ErrorCode.NONE ? '' : answer.errorMessage})
      }
      return {throttleTimeMs: 0, coordinators}
    }
    const answer = await find(request.key, keyType, ctx)
    // Kafka's v1-v3 answers carry the error's text, "NONE" on success.
    return {throttleTimeMs: 0, errorCode: answer.errorCode, errorMessage: answer.errorCode === ErrorCode.NONE ? 'NONE' : answer.errorMessage, nodeId: answer.nodeId, host: answer.host, port: answer.port}
  },
})
