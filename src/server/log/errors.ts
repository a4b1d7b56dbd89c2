/**
 * LogError: the one error type the partition log throws for a request-level
 * failure. `code` is the Kafka error name the produce/fetch/list-offsets
 * handler should answer with, so the mapping to numeric codes lives with the
 * protocol, not here.
 *
 * - CORRUPT_MESSAGE: bad magic, CRC, length, or record count in an appended batch
 * - INVALID_RECORD: a well-formed batch a client may not send (control batch, bad count)
 * - MESSAGE_TOO_LARGE: one batch larger than max.message.bytes
 * - RECORD_LIST_TOO_LARGE: the whole append larger than segment.bytes
 * - INVALID_TIMESTAMP: timestamp outside message.timestamp.before/after.max.ms
 * - OFFSET_OUT_OF_RANGE: read/truncate/delete-records outside [logStartOffset, logEndOffset]
 * - KAFKA_STORAGE_ERROR: the file system failed (ENOSPC, EIO, failed fsync)
 * - INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER: idempotent producer checks
 * - UNKNOWN_SERVER_ERROR: a bug or unexpected state (e.g. follower append below the log end)
 * - NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND,
 *   REQUEST_TIMED_OUT: thrown by the replica manager's leader append (replica-manager.ts)
 * - COORDINATOR_LOAD_IN_PROGRESS: a transaction marker for a __consumer_offsets partition whose
 *   group coordinator is still loading it (transaction-coordinator.ts writeMarker)
 */

export type LogErrorCode =
  | 'CORRUPT_MESSAGE'
  | 'INVALID_RECORD'
  | 'MESSAGE_TOO_LARGE'
  | 'RECORD_LIST_TOO_LARGE'
  | 'INVALID_TIMESTAMP'
  | 'OFFSET_OUT_OF_RANGE'
  | 'KAFKA_STORAGE_ERROR'
  | 'INVALID_PRODUCER_EPOCH'
  | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
  | 'UNKNOWN_SERVER_ERROR'
  | 'COORDINATOR_LOAD_IN_PROGRESS'
  | 'TRANSACTION_COORDINATOR_FENCED'
  // The replica manager's, around the log: leadership and acks=all.
  | 'NOT_LEADER_OR_FOLLOWER'
  | 'NOT_ENOUGH_REPLICAS'
  | 'NOT_ENOUGH_REPLICAS_AFTER_APPEND'
  | 'REQUEST_TIMED_OUT'

export class LogError extends Error {
  constructor(
    readonly code: LogErrorCode,
    message: string,
    options?: {cause?: unknown},
  ) {
    super(message, options)
    this.name = 'LogError'
  }
}

/** Wraps a file-system failure as KAFKA_STORAGE_ERROR, keeping the errno code in the message. */
export function storageError(what: string, cause: unknown): LogError {
  if (cause instanceof LogError) return cause
  const errno = (cause as {code?: string} | undefined)?.code
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new LogError('KAFKA_STORAGE_ERROR', `${what} failed${errno ? ` (${errno})` : ''}: ${detail}`, {cause})
}

/** Throws a RangeError unless `value` is a safe integer >= min. Offsets, positions, sizes. */
export function checkSafeInteger(name: string, value: number, min = 0): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} ${value} is not a safe integer >= ${min}`)
  }
}
