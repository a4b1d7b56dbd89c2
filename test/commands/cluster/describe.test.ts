import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import ClusterDescribe, {type ClusterDescribeResult} from '../../../src/commands/cluster/describe.js'
import {json, kcli, startBroker, type TestBroker} from '../helpers.js'

let broker: TestBroker
beforeAll(async () => {
  broker = await startBroker()
})
afterAll(async () => {
  await broker?.stop()
})

describe('kcli cluster describe', () => {
  it('shows the cluster id, controller and brokers', async () => {
    const run = await kcli(ClusterDescribe, broker.bootstrap, [])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(
      new RegExp(
        `^Cluster ID: +\\S{22}\\nController: +1\\nBrokers: +1\\nPartitions: +0\\nUnder-replicated: +0\\nOffline: +0\\nReassigning: +0\\n\\n` +
          `ID +HOST +PORT +RACK +ROLE +REPLICAS +LEADERS +PREFERRED +IMBALANCE +UNDER-REPLICATED +OFFLINE\\n +1 +127\\.0\\.0\\.1 +${broker.port} +controller +0 +0 +0 +0% +0 +0\\n$`,
      ),
    )
    const parsed = json<ClusterDescribeResult>(await kcli(ClusterDescribe, broker.bootstrap, ['--json']))
    expect(parsed.controllerId).toBe(1)
    expect(parsed.brokers).toEqual([expect.objectContaining({host: '127.0.0.1', nodeId: 1, port: broker.port})])
    expect(parsed.clusterId).toMatch(/^\S{22}$/)
  })
})
