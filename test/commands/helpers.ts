// Shared by the client command tests: one in-process broker per test file (test/e2e/harness.ts),
// stdin replacement for commands that read it, and the --json output parsed.

import {Readable} from 'node:stream'

import {type CommandClass, type CommandRun, runCommand, type RunOptions} from '../lib/cli/run-command.js'

export {startBroker, type TestBroker, tempDir, removeDir} from '../e2e/harness.js'

/** Runs a command against `bootstrap` (env KCLI_BOOTSTRAP_SERVER, no profile, no colour). */
export function kcli<R = unknown>(command: CommandClass, bootstrap: string, argv: string[], options: RunOptions & {stdin?: Buffer | string} = {}): Promise<CommandRun<R>> {
  const env = {KCLI_BOOTSTRAP_SERVER: bootstrap, KCLI_PROFILE: undefined, NO_COLOR: '1', ...options.env}
  if (options.stdin === undefined) return runCommand<R>(command, argv, {...options, env})
  return withStdin(options.stdin, () => runCommand<R>(command, argv, {...options, env}))
}

/** Runs `fn` with process.stdin replaced by a stream of `data` (not a TTY). */
export async function withStdin<R>(data: Buffer | string, fn: () => Promise<R>): Promise<R> {
  const original = Object.getOwnPropertyDescriptor(process, 'stdin')!
  const stream = Readable.from([typeof data === 'string' ? Buffer.from(data) : data]) as Readable & {isTTY?: boolean}
  stream.isTTY = false
  Object.defineProperty(process, 'stdin', {configurable: true, enumerable: true, get: () => stream})
  try {
    return await fn()
  } finally {
    Object.defineProperty(process, 'stdin', original)
  }
}

/** The --json document on stdout. */
export function json<R>(run: CommandRun<unknown>): R {
  return JSON.parse(run.stdout) as R
}

/**
 * The API keys an in-process broker advertises in ApiVersions. Tests of commands whose APIs the
 * broker does not serve yet are skipped with `it.skipIf(!apis.has(ApiKey.X))`, so they run once
 * the broker has them.
 */
export async function advertisedApis(): Promise<Set<number>> {
  const {Connection} = await import('../../src/lib/client/connection.js')
  const {startBroker} = await import('../e2e/harness.js')
  const broker = await startBroker()
  try {
    const connection = await Connection.connect({host: '127.0.0.1', port: broker.port})
    const apis = new Set(connection.brokerVersions.keys())
    connection.close()
    return apis
  } finally {
    await broker.stop()
  }
}
