/**
 * A real etcd (Debian's etcd-server 3.4) for tests, started as `kcli cluster up` starts one
 * (src/server/dev-cluster.ts): one member on 127.0.0.1 with ports found free by the OS, data in a
 * temporary directory. `stop()` kills it and removes the directory; `pause()` and `resume()`
 * (SIGSTOP/SIGCONT) make it unreachable for a while.
 */
import {rmSync} from 'node:fs'
import {type ChildProcess} from 'node:child_process'
import {etcdInstalled, ETCD_INSTALL_HINT, startEtcd as startDevEtcd} from '../../src/server/dev-cluster.js'
import {tempDir} from './harness.js'

export {freePort} from '../../src/server/dev-cluster.js'

export interface TestEtcd {
  endpoint: string
  child: ChildProcess
  stop(): Promise<void>
  pause(): void
  resume(): void
}

export const etcdMissing: string | null = etcdInstalled() ? null : `etcd is not installed: ${ETCD_INSTALL_HINT}`

export async function startEtcd(): Promise<TestEtcd> {
  const dataDir = tempDir('kcli-etcd-')
  try {
    const etcd = await startDevEtcd({dataDir})
    return {
      endpoint: etcd.endpoint,
      child: etcd.child,
      async stop() {
        await etcd.stop('SIGKILL')
        rmSync(dataDir, {recursive: true, force: true})
      },
      pause: () => etcd.child.kill('SIGSTOP'),
      resume: () => etcd.child.kill('SIGCONT'),
    }
  } catch (error) {
    rmSync(dataDir, {recursive: true, force: true})
    throw error
  }
}
