import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Args, Flags} from '@oclif/core'
import {afterEach, describe, expect, it} from 'vitest'

import {BaseCommand, KcliCommand} from '../../../src/lib/cli/base-command.js'
import {type ErrorJson, KafkaError, PartialFailureError} from '../../../src/lib/cli/errors.js'
import {runCommand} from './run-command.js'

interface ProbeResult {
  bootstrapServers: {host: string; port: number}[]
  name: string | undefined
  timeout: number
}

/** A command that exercises the base class: it reports its parsed flags, or fails on request. */
class Probe extends BaseCommand<typeof Probe> {
  static override args = {name: Args.string({description: 'Anything.'})}
  static override flags = {
    fail: Flags.string({options: ['hang', 'internal', 'kafka', 'partial']}),
  }
  static override id = 'probe'

  async run(): Promise<ProbeResult> {
    const result = {bootstrapServers: this.bootstrapServers, name: this.args.name, timeout: this.flags.timeout}
    switch (this.flags.fail) {
      case 'hang': {
        await this.withTimeout('waiting for nothing', new Promise(() => {}))
        break
      }

      case 'internal': {
        throw new TypeError('boom')
      }

      case 'kafka': {
        throw new KafkaError(3, 'UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition.', {retriable: true})
      }

      case 'partial': {
        this.out.line('orders  ok')
        this.out.line('missing  UNKNOWN_TOPIC_OR_PARTITION')
        throw new PartialFailureError(
          '1 of 2 topics failed',
          [{errorCode: 3, errorName: 'UNKNOWN_TOPIC_OR_PARTITION', item: 'topic missing'}],
          result,
        )
      }
    }

    this.out.line(`connect to ${this.flags['bootstrap-server']} within ${this.flags.timeout} ms`)
    return result
  }
}

/** A command that talks to no cluster (as `server start`, `protocol`, `profile`): no client flags. */
class LocalProbe extends KcliCommand<typeof LocalProbe> {
  static override flags = {level: Flags.integer({min: 0})}
  static override id = 'local-probe'

  async run(): Promise<Record<string, unknown>> {
    return {...this.flags}
  }
}

function errorJson(stderr: string): ErrorJson {
  const lines = stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  return (JSON.parse(lines[0]!) as {error: ErrorJson}).error
}

afterEach(() => {
  // Commands report failures through their exit code only; they must not touch the test process's.
  expect(process.exitCode).toBeUndefined()
})

describe('BaseCommand flags', () => {
  it('defaults to 127.0.0.1:9092 and a 30 s timeout', async () => {
    const run = await runCommand<ProbeResult>(Probe, [], {env: {KCLI_BOOTSTRAP_SERVER: undefined}})
    expect(run.exitCode).toBe(0)
    expect(run.result).toEqual({bootstrapServers: [{host: '127.0.0.1', port: 9092}], name: undefined, timeout: 30_000})
    expect(run.stdout).toBe('connect to 127.0.0.1:9092 within 30000 ms\n')
    expect(run.stderr).toBe('')
  })

  it('reads KCLI_BOOTSTRAP_SERVER, which wins over the flag (and says so)', async () => {
    const fromEnv = await runCommand<ProbeResult>(Probe, [], {env: {KCLI_BOOTSTRAP_SERVER: 'kafka-1:9093, [::1]:9094,kafka-2'}})
    expect(fromEnv.result?.bootstrapServers).toEqual([
      {host: 'kafka-1', port: 9093},
      {host: '::1', port: 9094},
      {host: 'kafka-2', port: 9092},
    ])

    const both = await runCommand<ProbeResult>(Probe, ['--bootstrap-server', 'b:1'], {env: {KCLI_BOOTSTRAP_SERVER: 'a:1'}})
    expect(both.result?.bootstrapServers).toEqual([{host: 'a', port: 1}])
    expect(both.stderr).toBe('Warning: KCLI_BOOTSTRAP_SERVER=a:1 overrides --bootstrap-server on the command line\n')
    // The same value twice is no conflict.
    const same = await runCommand<ProbeResult>(Probe, ['--bootstrap-server', 'a:1'], {env: {KCLI_BOOTSTRAP_SERVER: 'a:1'}})
    expect(same.stderr).toBe('')
  })

  it('takes every flag from its KCLI_* variable, parsed and checked as the flag', async () => {
    const run = await runCommand<ProbeResult>(Probe, [], {env: {KCLI_BOOTSTRAP_SERVER: undefined, KCLI_TIMEOUT: '1234'}})
    expect(run.result?.timeout).toBe(1234)
    const bad = await runCommand<ProbeResult>(Probe, [], {env: {KCLI_BOOTSTRAP_SERVER: undefined, KCLI_TIMEOUT: '0'}})
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toBe('Error: KCLI_TIMEOUT: Expected an integer greater than or equal to 1 but received: 0 See \'kcli probe --help\'.\n')
    const badServer = await runCommand<ProbeResult>(Probe, [], {env: {KCLI_BOOTSTRAP_SERVER: 'kafka:99999'}})
    expect(badServer.exitCode).toBe(2)
    expect(badServer.stderr).toMatch(/^Error: KCLI_BOOTSTRAP_SERVER: "kafka:99999": port must be 1-65535/)
  })

  it('--json prints the result and nothing else', async () => {
    const run = await runCommand<ProbeResult>(Probe, ['topic-a', '--json', '--timeout', '500'])
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual(run.result)
    expect(run.result).toMatchObject({name: 'topic-a', timeout: 500})
    expect(run.stderr).toBe('')
  })
})

describe('KcliCommand: a command without the client flags', () => {
  it.each([['--bootstrap-server', 'kafka:9092'], ['-X', 'security.protocol=SSL'], ['--command-config', 'client.properties'], ['--profile', 'prod'], ['--timeout', '5000']])('rejects the client flag %s as a usage error (exit 2)', async (flag, value) => {
    const run = await runCommand(LocalProbe, [flag, value])
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(`Error: Nonexistent flag: ${flag} See 'kcli local-probe --help'.\n`)
  })

  it('reads KCLI_* for its own flags only, and takes nothing from a profile', async () => {
    const config = mkdtempSync(join(tmpdir(), 'kcli-local-probe-'))
    try {
      mkdirSync(join(config, 'kcli'))
      writeFileSync(join(config, 'kcli', 'profiles.json'), JSON.stringify({current: 'bad', profiles: {bad: {'bootstrap-server': 'kafka:99999', level: '7', timeout: '0'}}}))
      const env = {KCLI_BOOTSTRAP_SERVER: 'kafka:99999', KCLI_LEVEL: '3', KCLI_PROFILE: 'missing', KCLI_TIMEOUT: '0', XDG_CONFIG_HOME: config}
      const run = await runCommand(LocalProbe, ['--json'], {env})
      expect(run.stderr).toBe('')
      expect(run.exitCode).toBe(0)
      expect(run.result).toEqual({json: true, level: 3})
      // The same environment and profile break a client command: they are its flags.
      const client = await runCommand(Probe, [], {env: {...env, KCLI_PROFILE: undefined, KCLI_TIMEOUT: undefined}})
      expect(client.exitCode).toBe(2)
      expect(client.stderr).toMatch(/^Error: KCLI_BOOTSTRAP_SERVER: "kafka:99999": port must be 1-65535/)
      const profiled = await runCommand(Probe, [], {env: {XDG_CONFIG_HOME: config, KCLI_BOOTSTRAP_SERVER: undefined, KCLI_PROFILE: undefined, KCLI_TIMEOUT: undefined}})
      expect(profiled.exitCode).toBe(2)
      expect(profiled.stderr).toMatch(/^Error: profile bad: /)
    } finally {
      rmSync(config, {force: true, recursive: true})
    }
  })
})

describe('BaseCommand exit codes', () => {
  it.each([
    [['--nope'], 'Nonexistent flag: --nope'],
    [['--timeout', 'soon'], '--timeout: Expected an integer but received: soon'],
    [['--timeout', '0'], '--timeout: Expected an integer greater than or equal to 1 but received: 0'],
    [['--bootstrap-server', 'kafka:99999'], '--bootstrap-server: "kafka:99999": port must be 1-65535'],
    [['--bootstrap-server', ''], '--bootstrap-server'],
    [['--fail', 'sometimes'], 'Expected --fail=sometimes to be one of: hang, internal, kafka, partial'],
    [['a', 'b'], 'Unexpected argument: b'],
  ])('usage error %j exits 2 with one line on stderr', async (argv, message) => {
    const run = await runCommand(Probe, argv)
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(message)
    expect(run.stderr).toMatch(/^Error: .* See 'kcli probe --help'\.\n$/)
  })

  it('usage error with --json: {"error": ...} on stderr, nothing on stdout', async () => {
    const run = await runCommand(Probe, ['--json', '--timeout', 'x'])
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(errorJson(run.stderr)).toEqual({
      exitCode: 2,
      kind: 'usage',
      message: '--timeout: Expected an integer but received: x',
    })
  })

  it('a Kafka error exits 1 and names the error', async () => {
    const run = await runCommand(Probe, ['--fail', 'kafka'])
    expect(run.exitCode).toBe(1)
    expect(run.error).toBeInstanceOf(KafkaError)
    expect(run.stderr).toBe('Error: UNKNOWN_TOPIC_OR_PARTITION (3): This server does not host this topic-partition.\n')

    const json = await runCommand(Probe, ['--fail', 'kafka', '--json'])
    expect(json.exitCode).toBe(1)
    expect(json.stdout).toBe('')
    expect(errorJson(json.stderr)).toEqual({
      exitCode: 1,
      kafka: {code: 3, name: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true},
      kind: 'kafka',
      message: 'UNKNOWN_TOPIC_OR_PARTITION (3): This server does not host this topic-partition.',
    })
  })

  it('a partial failure exits 1, after printing the result', async () => {
    const run = await runCommand(Probe, ['--fail', 'partial'])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toBe('orders  ok\nmissing  UNKNOWN_TOPIC_OR_PARTITION\n')
    expect(run.stderr).toBe('Error: 1 of 2 topics failed\n')

    const json = await runCommand(Probe, ['--fail', 'partial', '--json'])
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({bootstrapServers: [{host: '127.0.0.1', port: 9092}]})
    expect(errorJson(json.stderr)).toMatchObject({
      exitCode: 1,
      failures: [{errorCode: 3, errorName: 'UNKNOWN_TOPIC_OR_PARTITION', item: 'topic missing'}],
      kind: 'partial-failure',
    })
  })

  it('an unexpected exception exits 1 as an internal error', async () => {
    const run = await runCommand(Probe, ['--fail', 'internal'], {env: {DEBUG: undefined}})
    expect(run.exitCode).toBe(1)
    expect(run.error).toBeInstanceOf(TypeError)
    expect(run.stderr).toBe('Error: internal error: boom\n')
  })

  it('--timeout bounds withTimeout()', async () => {
    const started = Date.now()
    const run = await runCommand(Probe, ['--fail', 'hang', '--timeout', '20'])
    expect(Date.now() - started).toBeLessThan(5000)
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toBe('Error: waiting for nothing timed out after 20 ms\n')
  })
})

describe('BaseCommand colour', () => {
  it('colours errors on a terminal unless NO_COLOR is set', async () => {
    const tty = await runCommand(Probe, ['--fail', 'kafka'], {env: {FORCE_COLOR: undefined, NO_COLOR: undefined, TERM: 'xterm'}, tty: true})
    expect(tty.stderr).toContain('\u001B[31mError:\u001B[39m')

    const noColor = await runCommand(Probe, ['--fail', 'kafka'], {env: {NO_COLOR: '1', TERM: 'xterm'}, tty: true})
    expect(noColor.stderr).not.toContain('\u001B[')
  })
})
