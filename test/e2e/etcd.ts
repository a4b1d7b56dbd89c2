/**
 * A real etcd (Debian's etcd-server 3.4) for tests: one member on 127.0.0.1 with ports found free
 * by the OS, data in a temporary directory. `stop()` kills it and removes the directory; `pause()`
 * and `resume()` (SIGSTOP/SIGCONT) make it unreachable for a while.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tempDir} from './harness.js'

export interface TestEtcd {
  endpoint: string
  child: ChildProcess
  stop(): Promise<void>
  pause(): void
  resume(): void
}

export const etcdMissing: string | null = spawnSync('etcd', ['--version']).status === 0 ? null : 'etcd is not installed: apt-get install -y etcd-server'

/** A port the OS had free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as {port: number}).port
      server.close(() => resolve(port))
    })
  })
}

export async function startEtcd(): Promise<TestEtcd> {
  const dataDir = tempDir('kcli-etcd-')
  const clientPort = await freePort()
  const peerPort = await freePort()
  const child = spawn(
    'etcd',
    [
      '--name', 'test',
      '--data-dir', dataDir,
      '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
      '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `test=http://127.0.0.1:${peerPort}`,
      '--log-level', 'error',
    ],
    {stdio: ['ignore', 'ignore', 'pipe']},
  )
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const endpoint = `127.0.0.1:${clientPort}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT')
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }
    rmSync(dataDir, {recursive: true, force: true})
  }
  // Ready when /health answers.
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`etcd exited with ${child.exitCode}: ${stderr}`)
    }
    const ok = await fetch(`http://${endpoint}/health`).then((r) => r.ok, () => false)
    if (ok) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`etcd did not start in 20 s: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {endpoint, child, stop, pause: () => child.kill('SIGSTOP'), resume: () => child.kill('SIGCONT')}
}
