import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, Server} from 'node:net'
import {join} from 'node:path'
import {afterEach, describe, expect, it, vi} from 'vitest'
import {ListenerBindError} from '../../../src/server/network/socket-server.js'
import {KCLI_NODE_ARGS, PROJECT_ROOT, removeDir, spawnBroker, startBroker, startServerSync, tempDir} from '../../e2e/harness.js'

const startSync = (args: string[]) => startServerSync(args, 30_000)

/** A port held by a plain net server on 127.0.0.1, as another process would hold it. */
async function holdPort(): Promise<{server: Server; port: number}> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, port: (server.address() as {port: number}).port}
}

describe('kcli server start', () => {
  const dirs: string[] = []
  const held: Server[] = []
  afterEach(async () => {
    for (const d of dirs.splice(0)) removeDir(d)
    await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
  })

  // Issue 12: a port in use answered "internal error: listen EADDRINUSE" (and left the listeners
  // bound before it open in-process).
  it('a listener whose port is in use: one line naming the listener and address, exit 1, no stack', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const {server, port} = await holdPort()
    held.push(server)
    const line = `socket server failed to bind to 127.0.0.1:${port} for listener PLAINTEXT: address already in use (EADDRINUSE)`
    const quiet = startSync(['--data-dir', dir, '--port', String(port), '--log-level', 'warn'])
    expect(quiet.status).toBe(1)
    expect(quiet.stdout).toBe('')
    expect(quiet.stderr).toBe(`Error: ${line}\n`)

    // At the default log level the broker's own log lines come first; the error is still the last line, with no stack.
    const logged = startSync(['--data-dir', dir, '--port', String(port)])
    expect(logged.status).toBe(1)
    expect(logged.stderr.trimEnd().split('\n').at(-1)).toBe(`Error: ${line}`)
    expect(logged.stderr).not.toMatch(/^\s+at /m)

    const json = startSync(['--data-dir', dir, '--port', String(port), '--log-level', 'warn', '--json'])
    expect(json.status).toBe(1)
    expect(json.stdout).toBe('')
    expect(JSON.parse(json.stderr)).toEqual({error: {exitCode: 1, kind: 'system', message: line, system: {code: 'EADDRINUSE'}}})
  })

  it('a second listener whose port is in use: names that listener; the first, bound already, is closed again', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const {server, port} = await holdPort()
    held.push(server)
    const overrides = {
      'listeners': `PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:${port}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT',
    }
    const run = startSync(['--data-dir', dir, '--log-level', 'warn', ...Object.entries(overrides).flatMap(([k, v]) => ['--override', `${k}=${v}`])])
    expect(run.status).toBe(1)
    expect(run.stderr).toBe(`Error: socket server failed to bind to 127.0.0.1:${port} for listener EXTERNAL: address already in use (EADDRINUSE)\n`)

    // In-process: the broker's start fails with the listener named, and leaves nothing listening.
    const listen = vi.spyOn(Server.prototype, 'listen')
    let error: unknown
    let listeners: Server[]
    try {
      error = await startBroker(overrides, join(dir, 'in-process')).catch((e: unknown) => e)
      listeners = [...(listen.mock.contexts as Server[])]
    } finally {
      listen.mockRestore()
    }
    expect(error).toBeInstanceOf(ListenerBindError)
    expect(error).toMatchObject({listener: 'EXTERNAL', host: '127.0.0.1', port, code: 'EADDRINUSE'})
    expect(listeners).toHaveLength(2)
    expect(listeners.map((l) => l.listening)).toEqual([false, false])
    // ...and stopped what it had started: the same data directory starts again.
    const again = await startBroker({}, join(dir, 'in-process'))
    await again.stop({keepData: true})
  })

  // Issue 16: the metrics listener's port in use fails the start as a Kafka listener's does.
  it('a metrics.listener whose port is in use: one line naming it and its address, exit 1', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const {server, port} = await holdPort()
    held.push(server)
    const line = `metrics listener (metrics.listener) failed to bind to http://127.0.0.1:${port}: address already in use (EADDRINUSE)`
    const run = startSync(['--data-dir', dir, '--port', '0', '--log-level', 'warn', '--override', `metrics.listener=http://127.0.0.1:${port}`])
    expect(run.status).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(`Error: ${line}\n`)
    const bad = startSync(['--data-dir', dir, '--port', '0', '--override', 'metrics.listener=127.0.0.1:9404'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('metrics.listener')

    // --log-format json: every line on stderr is JSON, the failed start included (level 60).
    const json = startSync(['--data-dir', dir, '--port', '0', '--log-format', 'json', '--override', `metrics.listener=http://127.0.0.1:${port}`])
    expect(json.status).toBe(1)
    const lines = json.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as {level: number; msg: string; error?: unknown})
    expect(lines.at(-1)).toMatchObject({level: 60, msg: line, error: {kind: 'system', exitCode: 1, system: {code: 'EADDRINUSE'}}})
    // --log-format pretty off a terminal: human lines only.
    const pretty = startSync(['--data-dir', dir, '--port', '0', '--log-format', 'pretty', '--override', `metrics.listener=http://127.0.0.1:${port}`])
    expect(pretty.status).toBe(1)
    for (const l of pretty.stderr.trimEnd().split('\n')) expect(l).toMatch(/^(\[\d\d:\d\d:\d\d\.\d{3}\] [A-Z]+: |Error: )/)
  })

  it('rejects an invalid config value at start, naming the key (exit 2)', () => {
    const dir = tempDir()
    dirs.push(dir)
    const r = startSync(['--data-dir', dir, '--port', '0', '--override', 'num.partitions=many'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('num.partitions')
    expect(r.stdout).toBe('')
  })

  it('rejects a bad value in a server.properties file and from KCLI_* variables', () => {
    const dir = tempDir()
    dirs.push(dir)
    const props = join(dir, 'server.properties')
    writeFileSync(props, '# a comment\nlog.retention.hours=forever\n')
    const r = startSync([props, '--data-dir', join(dir, 'data'), '--port', '0'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('log.retention.hours')
    const env = spawnSync(process.execPath, [...KCLI_NODE_ARGS, 'server', 'start', '--data-dir', join(dir, 'data'), '--port', '0'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      env: {...process.env, NO_COLOR: '1', KCLI_AUTO_CREATE_TOPICS_ENABLE: 'sometimes'},
    })
    expect(env.status).toBe(2)
    expect(env.stderr).toContain('auto.create.topics.enable')
  })

  it('starts with a data directory it creates, says where it listens, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const dataDir = join(dir, 'new', 'data')
    const broker = await spawnBroker(dataDir)
    expect(broker.port).toBeGreaterThan(0)
    expect(existsSync(join(dataDir, 'meta.properties'))).toBe(true)
    expect(readFileSync(join(dataDir, 'meta.properties'), 'utf8')).toMatch(/^node\.id=1$/m)
    const code = await broker.kill('SIGTERM')
    expect(code).toBe(0)
    // A clean shutdown leaves Kafka's marker so the next start skips recovery.
    expect(existsSync(join(dataDir, '.kafka_cleanshutdown'))).toBe(true)
  })
})
