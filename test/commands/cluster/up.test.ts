/**
 * `kcli cluster up` (issue 13): a real process starts Debian's etcd and three brokers on free
 * ports, prints the cluster as JSON, prefixes the processes' log lines with their names, serves
 * kafkajs as one cluster of three brokers, and stops everything on SIGINT (exit 0, no process
 * left). Without etcd on PATH it says what to install.
 */
import {spawn, spawnSync} from 'node:child_process'
import {createInterface} from 'node:readline'
import {Kafka, logLevel} from 'kafkajs'
import {afterEach, describe, expect, it} from 'vitest'
import {etcdMissing} from '../../e2e/etcd.js'
import {KCLI_NODE_ARGS, PROJECT_ROOT, removeDir, tempDir} from '../../e2e/harness.js'

const KCLI = KCLI_NODE_ARGS

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe.skipIf(etcdMissing !== null)('kcli cluster up', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d)
  })

  it('starts etcd and three brokers, serves them as one cluster, stops all on SIGINT', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const child = spawn(process.execPath, [...KCLI, 'cluster', 'up', '--brokers', '3', '--base-port', '0', '--etcd-port', '0', '--data-dir', dir, '--log-level', 'info', '--override', 'broker.session.timeout.ms=3000', '--metrics-base-port', '0', '--json'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {...process.env, NO_COLOR: '1'},
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const stderrLines: string[] = []
    createInterface({input: child.stderr!}).on('line', (l) => stderrLines.push(l))
    try {
      const first = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`cluster up did not start in 90 s: ${stderrLines.slice(-20).join('\n')}`)), 90_000)
        createInterface({input: child.stdout!}).once('line', (l) => {
          clearTimeout(timer)
          resolve(l)
        })
        void exited.then((code) => reject(new Error(`cluster up exited ${code}: ${stderrLines.slice(-20).join('\n')}`)))
      })
      const up = JSON.parse(first) as {bootstrap: string; metadataStore: string; etcd: {endpoint: string; started: boolean}; brokers: Array<{nodeId: number; port: number; pid: number; metricsListener: string}>}
      expect(up.brokers.map((b) => b.nodeId)).toEqual([1, 2, 3])
      expect(up.bootstrap).toBe(up.brokers.map((b) => `127.0.0.1:${b.port}`).join(','))
      expect(up.metadataStore).toBe(`etcd://${up.etcd.endpoint}/kcli`)
      expect(up.etcd.started).toBe(true)
      // Issue 16: each broker serves its own /metrics and /readyz.
      for (const b of up.brokers) {
        expect(b.metricsListener).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect((await fetch(`${b.metricsListener}/metrics`)).status).toBe(200)
      }
      const controllers = await Promise.all(up.brokers.map(async (b) => /^kafka_controller_kafkacontroller_activecontrollercount 1$/m.test(await (await fetch(`${b.metricsListener}/metrics`)).text())))
      expect(controllers.filter(Boolean)).toHaveLength(1)

      const admin = new Kafka({brokers: up.bootstrap.split(','), clientId: 'cluster-up', logLevel: logLevel.NOTHING}).admin()
      await admin.connect()
      try {
        const cluster = await admin.describeCluster()
        expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3])
        expect(cluster.controller).toBe(1)
      } finally {
        await admin.disconnect()
      }
      expect(stderrLines.some((l) => l.startsWith('[broker-2] ') && l.includes('broker started'))).toBe(true)

      child.kill('SIGINT')
      expect(await exited).toBe(0)
      for (const b of up.brokers) expect(alive(b.pid)).toBe(false)
      expect(await fetch(`http://${up.etcd.endpoint}/health`).then(() => 'up', () => 'down')).toBe('down')
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGINT')
        await exited
      }
    }
  }, 150_000)

  it('without etcd on PATH: exit 1 and the package to install', () => {
    const dir = tempDir()
    dirs.push(dir)
    const result = spawnSync(process.execPath, [...KCLI, 'cluster', 'up', '--data-dir', dir], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      env: {...process.env, PATH: '/nonexistent', NO_COLOR: '1'},
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toBe('Error: etcd is not installed (no etcd on PATH): sudo apt-get install -y etcd-server\n')
  }, 60_000)
})
