// Errors a command throws, and how each maps to an exit code.
//
//   0  ok
//   1  a Kafka error, a per-item failure, something not found, a timeout, a system error (a port in
//      use), or an internal error
//   2  usage: unknown command or flag, missing or malformed flag/argument values
//
// BaseCommand.catch() turns any error into one line on stderr (or {"error": {...}} with --json)
// and the exit code from exitCodeFor(). Commands throw these classes instead of calling
// process.exit, so in-process tests see the error and the code.

import {Errors} from '@oclif/core'

import {errorByCode} from '../protocol/generated/errors.js'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export type ErrorKind = 'internal' | 'kafka' | 'not-found' | 'partial-failure' | 'system' | 'timeout' | 'usage'

/** The `error` member of the `{"error": {...}}` object printed with --json. */
export interface ErrorJson {
  /** Kafka's error code and name, for `kafka` errors. */
  kafka?: {code: number; name: string; retriable?: boolean}
  /** The system's error code (EADDRINUSE), for `system` errors. */
  system?: {code: string}
  kind: ErrorKind
  message: string
  exitCode: number
  /** Per-item failures, for `partial-failure` errors. */
  failures?: ItemFailure[]
}

/** One failed item of a command that acts on many (a topic, a partition, a group). */
export interface ItemFailure {
  /** What failed, in the command's own words: `topic orders`, `orders-3`. */
  item: string
  errorCode: number
  errorName: string
  message?: string
}

/** Base class of every error kcli raises on purpose; carries its exit code. */
export class KcliError extends Error {
  readonly kind: ErrorKind
  readonly exitCode: number

  constructor(message: string, kind: ErrorKind, exitCode: number, options?: {cause?: unknown}) {
    super(message, options)
    this.name = new.target.name
    this.kind = kind
    this.exitCode = exitCode
  }

  toJson(): ErrorJson {
    return {exitCode: this.exitCode, kind: this.kind, message: this.message}
  }
}

/** Bad command-line input. Exit code 2. */
export class UsageError extends KcliError {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, 'usage', EXIT_USAGE, options)
  }

  /** Wrap an error thrown by oclif's parser (multi-line, with "See more help") into one line. */
  static fromParseError(error: unknown): UsageError {
    if (error instanceof UsageError) return error
    const raw = error instanceof Error ? error.message : String(error)
    return new UsageError(oneLine(raw), {cause: error})
  }
}

/**
 * A Kafka error code returned by a broker (other than NONE). Exit code 1.
 * `errorName` is Kafka's name (`UNKNOWN_TOPIC_OR_PARTITION`), `errorCode` its number.
 */
export class KafkaError extends KcliError {
  readonly errorCode: number
  readonly errorName: string
  readonly retriable: boolean | undefined

  constructor(errorCode: number, errorName: string, message?: string, options?: {cause?: unknown; retriable?: boolean}) {
    super(message ? `${errorName} (${errorCode}): ${message}` : `${errorName} (${errorCode})`, 'kafka', EXIT_FAILURE, options)
    this.errorCode = errorCode
    this.errorName = errorName
    this.retriable = options?.retriable
  }

  /**
   * The KafkaError for an error code from a response, named from Kafka's error table.
   * `detail` replaces the table's generic message (brokers send one in some responses).
   */
  static fromCode(errorCode: number, detail?: null | string): KafkaError {
    const known = errorByCode(errorCode)
    const name = known?.name ?? 'UNKNOWN_ERROR_CODE'
    return new KafkaError(errorCode, name, detail || known?.message || undefined, {retriable: known?.retriable})
  }

  override toJson(): ErrorJson {
    const kafka: ErrorJson['kafka'] = {code: this.errorCode, name: this.errorName}
    if (this.retriable !== undefined) kafka.retriable = this.retriable
    return {...super.toJson(), kafka}
  }
}

/**
 * Some items of a multi-item command failed. The command has already shown its result (the
 * table for people); with --json the result is printed to stdout before the error goes to
 * stderr, so a script sees what succeeded and what did not. Exit code 1.
 */
export class PartialFailureError<R = unknown> extends KcliError {
  readonly failures: ItemFailure[]
  readonly result: R | undefined

  constructor(message: string, failures: ItemFailure[], result?: R) {
    super(message, 'partial-failure', EXIT_FAILURE)
    this.failures = failures
    this.result = result
  }

  override toJson(): ErrorJson {
    return {...super.toJson(), failures: this.failures}
  }
}

/** A looked-up thing does not exist (an error code, a topic in a local listing). Exit code 1. */
export class NotFoundError extends KcliError {
  constructor(message: string) {
    super(message, 'not-found', EXIT_FAILURE)
  }
}

/** The operating system or a service the command needs refused: a listener's port in use, no permission, etcd unreachable. Exit code 1. */
export class SystemError extends KcliError {
  /** The system's error code: EADDRINUSE, EACCES, EADDRNOTAVAIL... */
  readonly code: string | undefined

  constructor(message: string, code: string | undefined, options?: {cause?: unknown}) {
    super(message, 'system', EXIT_FAILURE, options)
    this.code = code
  }

  override toJson(): ErrorJson {
    return this.code === undefined ? super.toJson() : {...super.toJson(), system: {code: this.code}}
  }
}

/** The operation did not finish within --timeout. Exit code 1. */
export class TimeoutError extends KcliError {
  readonly timeoutMs: number

  constructor(what: string, timeoutMs: number) {
    super(`${what} timed out after ${timeoutMs} ms`, 'timeout', EXIT_FAILURE)
    this.timeoutMs = timeoutMs
  }
}

/**
 * Thrown by BaseCommand.catch() after the error has been reported, so that oclif exits with
 * `exitCode` without printing anything more. `cause` is the original error (tests use it).
 */
export class ReportedError extends Errors.ExitError {
  readonly exitCode: number

  constructor(exitCode: number, cause: unknown) {
    super(exitCode)
    this.exitCode = exitCode
    this.cause = cause
  }
}

/** Convert anything thrown into the KcliError that describes it for the user. */
export function toKcliError(error: unknown): KcliError {
  if (error instanceof KcliError) return error
  if (isOclifUsageError(error)) return UsageError.fromParseError(error)
  const message = error instanceof Error ? error.message : String(error)
  return new KcliError(`internal error: ${oneLine(message)}`, 'internal', EXIT_FAILURE, {cause: error})
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof Errors.ExitError) return error.oclif.exit ?? EXIT_FAILURE
  return toKcliError(error).exitCode
}

/** oclif's own parse and validation errors are CLIErrors with exit code 2. */
function isOclifUsageError(error: unknown): boolean {
  return error instanceof Errors.CLIError && (error.oclif?.exit ?? EXIT_USAGE) === EXIT_USAGE
}

/** oclif messages span lines ("Parsing --x \n\tExpected ...\nSee more help with --help"). */
export function oneLine(message: string): string {
  return message
    .replace(/^Parsing (--\S+)\s*\n\s*/, '$1: ')
    .replace(/\n\s*See more help with --help\s*$/, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
}
