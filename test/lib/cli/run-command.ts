// Runs a kcli command class in-process, the way the binary would, and captures what it prints.
//
// The oclif Config is loaded from this package's package.json, minus the command directory and
// plugins: the command under test is the class the test imports (from src, through vitest), not
// a module oclif would load from dist/. Output streams are captured by replacing `write`, and
// forced to be non-TTY so that tests see the plain output whatever terminal they run in.

import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {Config, type Interfaces} from '@oclif/core'

import {exitCodeFor, ReportedError} from '../../../src/lib/cli/errors.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** A concrete command class (oclif's Command is abstract, so `typeof Command` cannot run). */
export interface CommandClass {
  id?: string
  readonly name: string
  run(argv?: string[], opts?: Interfaces.LoadOptions): Promise<unknown>
}

export interface CommandRun<R> {
  /** What run() threw (the original error when BaseCommand reported it), if anything. */
  error: unknown
  exitCode: number
  /** The value run() returned, which is what --json prints. */
  result: R | undefined
  stderr: string
  stdout: string
}

export interface RunOptions {
  /**
   * The command id, as oclif would derive it from the file path (`protocol:errors`). Default:
   * the class name split at capitals, `ProtocolErrors` -> `protocol:errors`.
   */
  id?: string
  /** Environment variables to set (undefined: unset) while the command runs. */
  env?: Record<string, string | undefined>
  /** Pretend stdout and stderr are terminals. */
  tty?: boolean
}

let configPromise: Promise<Config> | undefined

export function loadConfig(): Promise<Config> {
  configPromise ??= (async () => {
    const pjson = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8'))
    pjson.oclif = {...pjson.oclif, commands: undefined, plugins: []}
    return Config.load({pjson, root: repoRoot})
  })()
  return configPromise
}

export async function runCommand<R = unknown>(
  command: CommandClass,
  argv: string[],
  options: RunOptions = {},
): Promise<CommandRun<R>> {
  const config = await loadConfig()
  if (options.id !== undefined) command.id = options.id
  command.id ??= command.name.replaceAll(/(?<=[a-z0-9])(?=[A-Z])/g, ':').toLowerCase()
  const stdout: string[] = []
  const stderr: string[] = []
  const restore: (() => void)[] = []

  const capture = (stream: NodeJS.WriteStream, into: string[]) => {
    const {write} = stream
    const hadTTY = Object.hasOwn(stream, 'isTTY')
    const {isTTY} = stream
    stream.write = ((chunk: string | Uint8Array) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      return true
    }) as typeof stream.write
    Object.defineProperty(stream, 'isTTY', {configurable: true, value: options.tty === true, writable: true})
    restore.push(() => {
      stream.write = write
      if (hadTTY) Object.defineProperty(stream, 'isTTY', {configurable: true, value: isTTY, writable: true})
      else delete (stream as {isTTY?: boolean}).isTTY
    })
  }

  for (const [key, value] of Object.entries(options.env ?? {})) {
    const old = process.env[key]
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
    restore.push(() => {
      if (old === undefined) delete process.env[key]
      else process.env[key] = old
    })
  }

  capture(process.stdout, stdout)
  capture(process.stderr, stderr)
  let result: R | undefined
  let error: unknown
  let exitCode = 0
  try {
    result = (await command.run(argv, config)) as R
  } catch (error_) {
    exitCode = exitCodeFor(error_)
    error = error_ instanceof ReportedError ? error_.cause : error_
  } finally {
    for (const undo of restore.reverse()) undo()
  }

  return {error, exitCode, result, stderr: stderr.join(''), stdout: stdout.join('')}
}
