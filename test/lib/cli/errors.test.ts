import {Errors} from '@oclif/core'
import {describe, expect, it} from 'vitest'

import {
  exitCodeFor,
  KafkaError,
  NotFoundError,
  oneLine,
  PartialFailureError,
  ReportedError,
  TimeoutError,
  toKcliError,
  UsageError,
} from '../../../src/lib/cli/errors.js'

describe('exitCodeFor', () => {
  it.each([
    ['KafkaError', new KafkaError(7, 'REQUEST_TIMED_OUT'), 1],
    ['PartialFailureError', new PartialFailureError('1 of 3 failed', []), 1],
    ['NotFoundError', new NotFoundError('no such code'), 1],
    ['TimeoutError', new TimeoutError('metadata', 10), 1],
    ['UsageError', new UsageError('bad'), 2],
    ['oclif CLIError (parse errors)', new Errors.CLIError('Nonexistent flag: --x'), 2],
    ['oclif CLIError with another exit code', new Errors.CLIError('x', {exit: 3}), 1],
    ['any other exception', new RangeError('x'), 1],
    ['a thrown string', 'x', 1],
    ['ReportedError', new ReportedError(2, new Error('x')), 2],
  ])('%s -> %d', (_name, error, code) => {
    expect(exitCodeFor(error)).toBe(code)
  })
})

describe('KafkaError', () => {
  it('carries the Kafka name and code', () => {
    const error = new KafkaError(3, 'UNKNOWN_TOPIC_OR_PARTITION', 'not here')
    expect(error.message).toBe('UNKNOWN_TOPIC_OR_PARTITION (3): not here')
    expect(error.toJson()).toEqual({exitCode: 1, kafka: {code: 3, name: 'UNKNOWN_TOPIC_OR_PARTITION'}, kind: 'kafka', message: error.message})
    expect(new KafkaError(7, 'REQUEST_TIMED_OUT').message).toBe('REQUEST_TIMED_OUT (7)')
  })
})

describe('toKcliError', () => {
  it('wraps unknown exceptions as internal errors on one line', () => {
    const error = toKcliError(new Error('line one\n  line two'))
    expect(error.kind).toBe('internal')
    expect(error.message).toBe('internal error: line one line two')
  })
})

describe('oneLine', () => {
  it('flattens oclif flag-parse messages', () => {
    expect(oneLine('Parsing --timeout \n\tExpected an integer but received: x\nSee more help with --help')).toBe(
      '--timeout: Expected an integer but received: x',
    )
    expect(oneLine('Nonexistent flag: --x\nSee more help with --help')).toBe('Nonexistent flag: --x')
  })
})

describe('KafkaError.fromCode', () => {
  it("names the code from Kafka's error table", () => {
    const error = KafkaError.fromCode(3)
    expect(error.errorName).toBe('UNKNOWN_TOPIC_OR_PARTITION')
    expect(error.retriable).toBe(true)
    expect(error.message).toBe('UNKNOWN_TOPIC_OR_PARTITION (3): This server does not host this topic-partition.')
    expect(KafkaError.fromCode(3, 'topic orders is not here').message).toBe('UNKNOWN_TOPIC_OR_PARTITION (3): topic orders is not here')
  })

  it('keeps codes it does not know', () => {
    const error = KafkaError.fromCode(9999)
    expect(error.message).toBe('UNKNOWN_ERROR_CODE (9999)')
    expect(error.toJson().kafka).toEqual({code: 9999, name: 'UNKNOWN_ERROR_CODE'})
  })
})
