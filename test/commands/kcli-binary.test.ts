// The built binary end to end: `node bin/run.js ...` as a user runs it, through oclif's command
// discovery in dist/ and its process exit codes. Needs `npm run build` (scripts/test.sh and
// `npm install` do it); skipped with a message when dist/ is missing.

import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {removeDir, startBroker, tempDir} from '../e2e/harness.js'
import {repoRoot} from '../lib/cli/run-command.js'

const built = existsSync(`${repoRoot}dist/commands`)
if (!built) console.warn('test/commands/kcli-binary.test.ts: dist/ is missing, skipping; run `npm run build` first')

function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  delete env.NODE_ENV // as a user's shell: production mode, compiled dist/ only
  delete env.KCLI_BOOTSTRAP_SERVER
  delete env.KCLI_PROFILE
  return env
}

function kcli(...argv: string[]) {
  return spawnSync(process.execPath, ['bin/run.js', ...argv], {cwd: repoRoot, encoding: 'utf8', env: userEnv(), timeout: 30_000})
}

/** Runs the binary without blocking this process (whose in-process broker must keep serving), with `input` piped to stdin. */
function kcliAsync(argv: string[], input = ''): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/run.js', ...argv], {cwd: repoRoot, env: userEnv()})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`kcli ${argv.join(' ')} did not finish in 30 s: ${stdout} ${stderr}`))
    }, 30_000)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({status, stdout, stderr})
    })
    child.stdin.end(input)
  })
}

describe.skipIf(!built)('kcli binary (dist/)', () => {
  it('--help lists the command topics', () => {
    const run = kcli('--help')
    expect(run.status).toBe(0)
    const topics = run.stdout.slice(run.stdout.indexOf('\nTOPICS\n'))
    for (const [topic, description] of [
      ['protocol', 'Inspect the Kafka protocol'],
      ['server', 'Run a Kafka-compatible broker'],
      ['topics', 'List, create, describe, alter and delete topics'],
      ['groups', 'List, describe, reset offsets of and delete consumer groups'],
    ]) {
      expect(topics).toMatch(new RegExp(`^ {2}${topic} +${description}`, 'm'))
    }
    expect(run.stdout).toMatch(/^ {2}autocomplete +Display autocomplete installation instructions/m)
    expect(run.stdout).not.toContain('\u001B[')
  })

  it('runs protocol errors with --json', () => {
    const run = kcli('protocol', 'errors', '--code', '3', '--json')
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({errorCodes: [{code: 3, name: 'UNKNOWN_TOPIC_OR_PARTITION'}]})
    expect(run.stderr).toBe('')
  })

  it('exits 1 for a failed lookup and 2 for a usage error', () => {
    const notFound = kcli('protocol', 'errors', '--code', '9999')
    expect(notFound.status).toBe(1)
    expect(notFound.stderr).toBe('Error: no Kafka error code 9999\n')

    const usage = kcli('protocol', 'apis', '--key', 'x')
    expect(usage.status).toBe(2)
    expect(usage.stderr).toBe("Error: --key: Expected an integer but received: x See 'kcli protocol apis --help'.\n")

    const unknownCommand = kcli('protocol', 'nope')
    expect(unknownCommand.status).toBe(2)
  })

  // Issue 12: `kcli server start --help` listed the client flags, which the broker ignored.
  it('server start lists and takes no client flag; a client command lists them', () => {
    const clientFlags = ['--bootstrap-server', '--client-config', '--command-config', '--profile', '--timeout']
    const server = kcli('server', 'start', '--help')
    expect(server.status).toBe(0)
    expect(server.stdout).toMatch(/^ {2}--json +Format output as json\.$/m)
    expect(server.stdout).toContain('--data-dir')
    for (const flag of clientFlags) expect(server.stdout).not.toContain(flag)
    expect(server.stdout).not.toMatch(/-X\b/)

    const client = kcli('topics', 'list', '--help')
    expect(client.status).toBe(0)
    expect(client.stdout).toContain('CLIENT FLAGS')
    for (const flag of clientFlags) expect(client.stdout).toContain(flag)

    // Before, the flag was taken and a broker started (here on an ephemeral port): the timeout ends such a run.
    const dir = tempDir()
    try {
      const usage = spawnSync(process.execPath, ['bin/run.js', 'server', 'start', '--bootstrap-server', 'x', '--port', '0', '--data-dir', dir], {cwd: repoRoot, encoding: 'utf8', env: userEnv(), timeout: 15_000})
      expect(usage.status).toBe(2)
      expect(usage.stdout).toBe('')
      expect(usage.stderr).toBe("Error: Nonexistent flag: --bootstrap-server See 'kcli server start --help'.\n")
    } finally {
      removeDir(dir)
    }
  })

  // Issue 12: `kcli produce TOPIC` answered "command produce:TOPIC not found".
  it('produce TOPIC then consume TOPIC --from-beginning --exit round-trips the piped lines', async () => {
    const broker = await startBroker()
    try {
      const lines = Array.from({length: 1000}, (_, i) => `line ${i}`)
      const produced = await kcliAsync(['produce', 'positional', '--bootstrap-server', broker.bootstrap], `${lines.join('\n')}\n`)
      expect(produced.stderr).toBe('')
      expect(produced.status).toBe(0)
      expect(produced.stdout).toMatch(/^produced 1000 records to positional in \d+\.\d\d s \(partitions 0\)\n$/)

      const consumed = await kcliAsync(['consume', 'positional', '--from-beginning', '--exit', '--bootstrap-server', broker.bootstrap])
      expect(consumed.stderr).toBe('')
      expect(consumed.status).toBe(0)
      expect(consumed.stdout).toBe(`${lines.join('\n')}\n`)
    } finally {
      await broker.stop()
    }
  })

  it('offers shell completion', () => {
    const run = kcli('autocomplete', '--help')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('kcli autocomplete bash')
  })

  it('leaves no oclif.manifest.json behind', () => {
    expect(existsSync(`${repoRoot}oclif.manifest.json`)).toBe(false)
  })
})
