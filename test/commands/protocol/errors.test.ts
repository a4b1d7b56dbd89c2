import {describe, expect, it} from 'vitest'

import ProtocolErrors, {type ProtocolErrorsResult} from '../../../src/commands/protocol/errors.js'
import {NotFoundError} from '../../../src/lib/cli/errors.js'
import {ERROR_CODES} from '../../../src/lib/protocol/generated/errors.js'
import {runCommand} from '../../lib/cli/run-command.js'

describe('kcli protocol errors', () => {
  it('lists every error code as aligned plain lines when not on a terminal', async () => {
    const run = await runCommand<ProtocolErrorsResult>(ProtocolErrors, [])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('')
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^CODE {2}NAME +RETRIABLE$/)
    expect(lines).toHaveLength(ERROR_CODES.length + 1)
    expect(lines).toContain('   3  UNKNOWN_TOPIC_OR_PARTITION             yes')
    expect(lines.find((line) => line.includes(' UNKNOWN_SERVER_ERROR '))).toMatch(/^ {2}-1 {2}UNKNOWN_SERVER_ERROR +no$/)
    expect(run.stdout).not.toContain('\u001B[')
  })

  it('--json prints {errorCodes: [...]} with code, name, retriable and message', async () => {
    const run = await runCommand<ProtocolErrorsResult>(ProtocolErrors, ['--json'])
    expect(run.exitCode).toBe(0)
    const parsed = JSON.parse(run.stdout) as ProtocolErrorsResult
    expect(parsed).toEqual(run.result)
    expect(parsed.errorCodes).toHaveLength(ERROR_CODES.length)
    expect(parsed.errorCodes).toContainEqual({
      code: 7,
      message: 'The request timed out.',
      name: 'REQUEST_TIMED_OUT',
      retriable: true,
    })
  })

  it('--code looks one up, negative codes included', async () => {
    const run = await runCommand<ProtocolErrorsResult>(ProtocolErrors, ['--code', '3'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe(
      [
        'Code:       3',
        'Name:       UNKNOWN_TOPIC_OR_PARTITION',
        'Retriable:  yes',
        'Message:    This server does not host this topic-partition.',
        '',
      ].join('\n'),
    )

    const negative = await runCommand<ProtocolErrorsResult>(ProtocolErrors, ['--code', '-1', '--json'])
    expect(JSON.parse(negative.stdout)).toEqual({
      errorCodes: [
        {
          code: -1,
          message: 'The server experienced an unexpected error when processing the request.',
          name: 'UNKNOWN_SERVER_ERROR',
          retriable: false,
        },
      ],
    })
  })

  it('--retriable and --no-retriable filter', async () => {
    const retriable = await runCommand<ProtocolErrorsResult>(ProtocolErrors, ['--retriable', '--json'])
    const notRetriable = await runCommand<ProtocolErrorsResult>(ProtocolErrors, ['--no-retriable', '--json'])
    expect(retriable.result!.errorCodes.every((e) => e.retriable)).toBe(true)
    expect(notRetriable.result!.errorCodes.every((e) => !e.retriable)).toBe(true)
    expect(retriable.result!.errorCodes.length + notRetriable.result!.errorCodes.length).toBe(ERROR_CODES.length)
  })

  it('an unknown --code exits 1', async () => {
    const run = await runCommand(ProtocolErrors, ['--code', '9999'])
    expect(run.exitCode).toBe(1)
    expect(run.error).toBeInstanceOf(NotFoundError)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe('Error: no Kafka error code 9999\n')

    const json = await runCommand(ProtocolErrors, ['--code', '9999', '--json'])
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stderr)).toEqual({error: {exitCode: 1, kind: 'not-found', message: 'no Kafka error code 9999'}})
  })

  it('a malformed --code is a usage error (exit 2)', async () => {
    const run = await runCommand(ProtocolErrors, ['--code', 'three'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe("Error: --code: Expected an integer but received: three See 'kcli protocol errors --help'.\n")
  })
})
