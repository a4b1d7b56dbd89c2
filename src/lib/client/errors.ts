// Errors of the client library.
//
// - A Kafka error code in a response becomes a KafkaError (src/lib/cli/errors.ts: code, Kafka's
//   name, whether it is retriable) when the client gives up on it; per-item errors stay data in
//   the results the admin client returns.
// - A connection that cannot be made or breaks becomes a ConnectionError; requests in flight on
//   it fail with it. Connection errors are retriable: the next attempt opens a new connection.

import {KafkaError, KcliError} from '../cli/errors.js'
import {errorByCode} from '../protocol/generated/errors.js'

export {KafkaError} from '../cli/errors.js'

/** A connection could not be made, was closed, or a request on it timed out. Exit code 1. */
export class ConnectionError extends KcliError {
  readonly retriable = true
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, 'internal', 1, options)
  }
}

/** Kafka's error codes the client handles by name. */
export const ErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_ALREADY_EXISTS: 36,
  UNSUPPORTED_VERSION: 35,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  SASL_AUTHENTICATION_FAILED: 58,
  NOT_CONTROLLER: 41,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  MEMBER_ID_REQUIRED: 79,
  NON_EMPTY_GROUP: 68,
  UNKNOWN_TOPIC_ID: 100,
  INCONSISTENT_TOPIC_ID: 103,
} as const

/** Kafka's name for an error code (`UNKNOWN_ERROR_CODE_<n>` for codes outside the table). */
export function errorName(code: number): string {
  return errorByCode(code)?.name ?? `UNKNOWN_ERROR_CODE_${code}`
}

export function isRetriableCode(code: number): boolean {
  return errorByCode(code)?.retriable === true
}

/** Codes after which the partition leader must be looked up again. */
export function isStaleMetadataCode(code: number): boolean {
  return (
    code === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
    code === ErrorCode.LEADER_NOT_AVAILABLE ||
    code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ||
    code === ErrorCode.FENCED_LEADER_EPOCH ||
    code === ErrorCode.UNKNOWN_LEADER_EPOCH ||
    code === ErrorCode.UNKNOWN_TOPIC_ID ||
    code === ErrorCode.INCONSISTENT_TOPIC_ID
  )
}

/** Throws a KafkaError unless `code` is 0. */
export function throwIfError(code: number, detail?: null | string): void {
  if (code !== 0) throw KafkaError.fromCode(code, detail)
}

/** Whether an error thrown by the client may succeed on another attempt. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof ConnectionError) return true
  if (error instanceof KafkaError) return error.retriable === true
  return false
}
