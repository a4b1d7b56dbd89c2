import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import PreferredElection, {type PreferredElectionResult} from '../../../src/commands/preferred-election/index.js'
import {type CaptureCluster, captureCluster, type CaptureClusterOptions} from '../../lib/client/capture-cluster.js'
import {HAVE_TOOL_CAPTURES} from '../../lib/protocol/tool-captures.js'
import {json, kcli} from '../helpers.js'

// kcli preferred-election against a fake cluster replaying what Kafka 4.0 answered
// kafka-leader-election.sh (runs 17-25 of cluster-tools.jsonl).
describe.skipIf(!HAVE_TOOL_CAPTURES)('kcli preferred-election (Kafka 4.0 replayed)', () => {
  let cluster: CaptureCluster | undefined
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kcli-election-'))
  })
  afterAll(() => rmSync(dir, {force: true, recursive: true}))
  afterEach(async () => {
    await cluster?.close()
    cluster = undefined
  })
  const run = async (options: CaptureClusterOptions, argv: string[]) => {
    cluster = await captureCluster(options)
    return kcli<PreferredElectionResult>(PreferredElection, cluster.bootstrap, [...argv, '--timeout', '5000'], {id: 'preferred-election'})
  }
  const elections = () => cluster!.requests.filter((r) => r.apiKey === 43)

  it('--all after a bounce: moves the leaders back and shows what moved (run 17)', async () => {
    const result = await run({runs: [17], topicsFrom: 16, thenTopicsFrom: {43: 21}}, ['--all'])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(elections()[0]!.body.topicPartitions).toBeNull()
    expect(result.stdout).toMatch(/orders-0\s+elected\s+1\s+3/)
    expect(result.stdout).toMatch(/orders-2\s+elected\s+1\s+2/)
    expect(result.stdout).toContain('Leader election (PREFERRED): 4 elected, 0 nothing to do, 0 failed.')
  })

  it('--all again: nothing to do (run 18: the controller omits the partitions)', async () => {
    const result = await run({runs: [18], topicsFrom: 21}, ['--all'])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(result.stdout).toBe('Nothing to do: every partition is led by its preferred replica.\n')
  })

  it('a named partition already led by its preferred replica is "nothing to do" (run 19, ELECTION_NOT_NEEDED)', async () => {
    const result = await run({runs: [19], topicsFrom: 21}, ['--topic', 'orders', '--partition', '1'])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(result.stdout).toMatch(/orders-1\s+nothing to do\s+1\s+1/)
  })

  it("--path-to-json-file takes kafka-leader-election.sh's JSON (run 20)", async () => {
    const file = join(dir, 'elect.json')
    writeFileSync(file, JSON.stringify({partitions: [0, 1, 2, 3, 4, 5].map((partition) => ({topic: 'orders', partition}))}))
    const result = await run({runs: [20], topicsFrom: 21}, ['--path-to-json-file', file, '--json'])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(json<PreferredElectionResult>(result).partitions.map((p) => p.result)).toEqual(Array(6).fill('nothing-to-do'))
  })

  it('--election-type unclean elects the out-of-sync replica of a leaderless partition (run 24)', async () => {
    const result = await run({runs: [24], topicsFrom: 22, thenTopicsFrom: {43: 26}}, ['--election-type', 'unclean', '--topic', 'unclean', '--partition', '0', '--json'])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(json<PreferredElectionResult>(result).partitions).toMatchObject([{topic: 'unclean', partition: 0, result: 'elected', leaderBefore: -1, leaderAfter: 3}])
  })

  it('unclean on a healthy partition: nothing to do (run 25)', async () => {
    const result = await run({runs: [25], topicsFrom: 22}, ['--election-type', 'UNCLEAN', '--topic', 'orders', '--partition', '0'])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(result.stdout).toContain('nothing to do')
  })

  it('--dry-run shows the imbalance per broker and sends no election', async () => {
    const result = await run({runs: [], topicsFrom: 16}, ['--all', '--dry-run', '--json'])
    expect(result.exitCode).toBe(0)
    expect(elections()).toEqual([])
    const out = json<PreferredElectionResult>(result)
    expect(out.brokers!.find((b) => b.broker === 1)).toMatchObject({leaders: 6})
    expect(out.brokers!.find((b) => b.broker === 2)).toMatchObject({leaders: 0, preferred: 2, notLedByPreferred: 2, imbalancePercent: 100})
    expect(out.wouldElect!.map((p) => `${p.topic}-${p.partition}`)).toEqual(['orders-0', 'orders-2', 'orders-3', 'orders-5'])
  })

  it('a per-partition error other than ELECTION_NOT_NEEDED fails the command (exit 1) and is shown', async () => {
    const result = await run(
      {runs: [], topicsFrom: 16, extra: {43: () => ({throttleTimeMs: 0, errorCode: 0, replicaElectionResults: [{topic: 'orders', partitionResult: [{partitionId: 0, errorCode: 80, errorMessage: 'Failed to elect leader for partition orders-0 under strategy PreferredReplicaPartitionLeaderElectionStrategy'}]}]})}},
      ['--topic', 'orders', '--partition', '0'],
    )
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/orders-0\s+failed.*PREFERRED_LEADER_NOT_AVAILABLE/)
    expect(result.stderr).toContain('1 of 1 elections failed')
  })

  it('usage: exactly one of --all, --topic, --path-to-json-file; --partition needs --topic; a missing partition', async () => {
    cluster = await captureCluster({runs: [], topicsFrom: 16})
    const both = await kcli(PreferredElection, cluster.bootstrap, ['--all', '--topic', 'orders'], {id: 'preferred-election'})
    expect(both.exitCode).toBe(2)
    const none = await kcli(PreferredElection, cluster.bootstrap, ['--partition', '1'], {id: 'preferred-election'})
    expect(none.exitCode).toBe(2)
    const missing = await kcli(PreferredElection, cluster.bootstrap, ['--topic', 'orders', '--partition', '9'], {id: 'preferred-election'})
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toContain('has no partition 9')
    const notJson = join(dir, 'bad.json')
    writeFileSync(notJson, 'not json')
    const bad = await kcli(PreferredElection, cluster.bootstrap, ['--path-to-json-file', notJson], {id: 'preferred-election'})
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('is not valid JSON')
    const type = await kcli(PreferredElection, cluster.bootstrap, ['--all', '--election-type', 'random'], {id: 'preferred-election'})
    expect(type.exitCode).toBe(2)
    expect(elections()).toEqual([])
  })
})
