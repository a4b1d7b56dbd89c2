import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import ClusterDrain, {type ClusterDrainResult} from '../../../src/commands/cluster/drain.js'
import ClusterUndrain, {type ClusterUndrainResult} from '../../../src/commands/cluster/undrain.js'
import {type CaptureCluster, captureCluster} from '../../lib/client/capture-cluster.js'
import {HAVE_TOOL_CAPTURES} from '../../lib/protocol/tool-captures.js'
import {json, kcli} from '../helpers.js'

// cluster drain / undrain on a fake 3-broker cluster (the topics of run 21 of cluster-tools.jsonl:
// orders with 6 partitions on their preferred leaders, solo with its 2 partitions only on broker 3)
// whose AlterPartitionReassignments reorders replicas at once and whose ElectLeaders makes the
// first in-sync replica the leader, as a Kafka controller does.
describe.skipIf(!HAVE_TOOL_CAPTURES)('kcli cluster drain / undrain', () => {
  let cluster: CaptureCluster | undefined
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kcli-drain-'))
  })
  afterAll(() => rmSync(dir, {force: true, recursive: true}))
  afterEach(async () => {
    await cluster?.close()
    cluster = undefined
  })

  const partition = (topic: string, index: number) => cluster!.topics().find((t) => t.name === topic).partitions.find((p: any) => p.partitionIndex === index)
  const start = async () => {
    cluster = await captureCluster({
      runs: [],
      topicsFrom: 21,
      extra: {
        45: (r) => {
          for (const t of r.body.topics) for (const p of t.partitions) partition(t.name, p.partitionIndex).replicaNodes = p.replicas
          return {throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses: r.body.topics.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: 0, errorMessage: null}))}))}
        },
        46: () => ({throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: []}),
        43: (r) => ({
          throttleTimeMs: 0,
          errorCode: 0,
          replicaElectionResults: r.body.topicPartitions.map((t: any) => ({
            topic: t.topic,
            partitionResult: t.partitions.map((index: number) => {
              const p = partition(t.topic, index)
              const preferred = p.replicaNodes[0]
              if (p.leaderId === preferred) return {partitionId: index, errorCode: 84, errorMessage: 'Leader election not needed for topic partition.'}
              p.leaderId = preferred
              return {partitionId: index, errorCode: 0, errorMessage: null}
            }),
          })),
        }),
      },
    })
    return cluster
  }

  it('drain moves leadership off broker 3 by reordering replicas; undrain restores order and leadership', async () => {
    await start()
    const stateFile = join(dir, 'state.json')
    const drained = await kcli<ClusterDrainResult>(ClusterDrain, cluster!.bootstrap, ['3', '--state-file', stateFile, '--json', '--timeout', '3000'], {id: 'cluster:drain'})
    // solo has no other replica: it stays on broker 3, reported, exit 1.
    expect(drained.exitCode).toBe(1)
    const out = json<ClusterDrainResult>(drained)
    const orders = out.partitions.filter((p) => p.topic === 'orders')
    expect(orders.map((p) => [p.partition, p.replicasAfter, p.leaderAfter])).toEqual([
      [0, [1, 2, 3], 1],
      [3, [1, 2, 3], 1],
    ])
    expect(out.partitions.filter((p) => p.topic === 'solo').every((p) => p.result === 'failed' && p.error === 'no other in-sync replica')).toBe(true)
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).partitions).toEqual([
      {topic: 'orders', partition: 0, original: [3, 1, 2], drained: [1, 2, 3]},
      {topic: 'orders', partition: 3, original: [3, 1, 2], drained: [1, 2, 3]},
    ])
    // Only reorders: the replica sets are unchanged.
    for (const r of cluster!.requests.filter((x) => x.apiKey === 45)) for (const t of r.body.topics) for (const p of t.partitions) expect([...p.replicas].sort()).toEqual([1, 2, 3])

    const undrained = await kcli<ClusterUndrainResult>(ClusterUndrain, cluster!.bootstrap, ['3', '--state-file', stateFile, '--timeout', '3000'], {id: 'cluster:undrain'})
    expect(undrained.exitCode).toBe(0)
    expect(undrained.stdout).toMatch(/orders-0\s+1,2,3\s+3,1,2\s+3\s+restored/)
    expect(partition('orders', 3)).toMatchObject({replicaNodes: [3, 1, 2], leaderId: 3})
    expect(existsSync(stateFile)).toBe(false)
  })

  it('an unknown broker, and undrain without a recorded drain, are errors', async () => {
    await start()
    const unknown = await kcli(ClusterDrain, cluster!.bootstrap, ['9', '--state-file', join(dir, 'x.json')], {id: 'cluster:drain'})
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toContain('Unknown broker id 9')
    const none = await kcli(ClusterUndrain, cluster!.bootstrap, ['2', '--state-file', join(dir, 'none.json')], {id: 'cluster:undrain'})
    expect(none.exitCode).toBe(1)
    expect(none.stderr).toContain('no drain of broker 2 is recorded')
    expect(cluster!.requests.filter((r) => r.apiKey === 45 || r.apiKey === 43)).toEqual([])
  })
})
