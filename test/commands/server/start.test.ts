import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {PROJECT_ROOT, removeDir, spawnBroker, tempDir} from '../../e2e/harness.js'

function startSync(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin/dev.js'), 'server', 'start', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: {...process.env, NO_COLOR: '1'},
  })
}

describe('kcli server start', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d)
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
    const env = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin/dev.js'), 'server', 'start', '--data-dir', join(dir, 'data'), '--port', '0'], {
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
