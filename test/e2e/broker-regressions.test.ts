/**
 * Regression tests for broker bugs found by the end-to-end tests, each named after its bug, against
 * a real `kcli server start` process (a crash must show as a dead process, not as a failed worker).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir} from './harness.js'
import {RawClient} from './peers.js'

describe('broker regressions', () => {
  let dataDir: string
  let proc: BrokerProcess
  let brokerStderr = ''

  const expectAlive = async () => {
    expect(proc.child.exitCode, `the broker exited; its stderr:\n${brokerStderr.slice(-4000)}`).toBeNull()
    const c = await RawClient.connect(proc.port)
    try {
      expect((await c.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'e2e', clientSoftwareVersion: '1'})).errorCode).toBe(0)
    } finally {
      c.close()
    }
  }

  beforeAll(async () => {
    dataDir = tempDir('kcli-e2e-regressions-')
    proc = await spawnBroker(dataDir)
    proc.child.stderr!.on('data', (d: Buffer) => (brokerStderr += d.toString()))
  }, 60_000)

  afterAll(async () => {
    await proc?.kill('SIGKILL')
    if (dataDir) removeDir(dataDir)
  })

  it('BUG: a frame with size prefix 0 as the last bytes read crashed the broker (TypeError in Connection.take, uncaught in a socket data event)', async () => {
    for (const bytes of [Buffer.alloc(4), Buffer.concat([Buffer.alloc(4), Buffer.alloc(4)]), Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 255, 255, 0, 0, 0, 0])]) {
      const c = await RawClient.connect(proc.port)
      c.sendBytes(bytes)
      // Kafka reads an empty frame, fails to parse a request header and closes the connection.
      expect(await c.closedWithin(5_000)).toBe(true)
      await expectAlive()
    }
  })
})
