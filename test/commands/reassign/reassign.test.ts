import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import ReassignCancel from '../../../src/commands/reassign/cancel.js'
import ReassignExecute, {type ReassignExecuteResult} from '../../../src/commands/reassign/execute.js'
import ReassignGenerate, {type ReassignGenerateResult} from '../../../src/commands/reassign/generate.js'
import ReassignList from '../../../src/commands/reassign/list.js'
import ReassignVerify, {type ReassignVerifyResult} from '../../../src/commands/reassign/verify.js'
import type {CommandClass} from '../../lib/cli/run-command.js'
import {type CaptureCluster, captureCluster, type CaptureClusterOptions} from '../../lib/client/capture-cluster.js'
import {HAVE_TOOL_CAPTURES} from '../../lib/protocol/tool-captures.js'
import {json, kcli} from '../helpers.js'

// The reassign commands against a fake cluster replaying what Kafka 4.0 answered
// kafka-reassign-partitions.sh (runs 27-36 of cluster-tools.jsonl): the same requests, in content,
// must go out (cluster.unmatched stays empty), so the throttles are set and removed as Kafka's tool does.
const PLAN = '{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1,3],"log_dirs":["any","any"]},{"topic":"big","partition":1,"replicas":[2,1],"log_dirs":["any","any"]},{"topic":"big","partition":2,"replicas":[3,2],"log_dirs":["any","any"]}]}'
const PLAN2 = '{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[2,3]},{"topic":"big","partition":1,"replicas":[3,1]},{"topic":"big","partition":2,"replicas":[1,2]}]}'

const configsAnswer = (r: {body: any}) => ({throttleTimeMs: 0, responses: [{errorCode: 0, errorMessage: null, resourceType: r.body.resources[0].resourceType, resourceName: r.body.resources[0].resourceName}]})

describe.skipIf(!HAVE_TOOL_CAPTURES)('kcli reassign (Kafka 4.0 replayed)', () => {
  let cluster: CaptureCluster | undefined
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kcli-reassign-'))
  })
  afterAll(() => rmSync(dir, {force: true, recursive: true}))
  afterEach(async () => {
    await cluster?.close()
    cluster = undefined
  })
  const file = (name: string, text: string) => {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }
  const run = async <R>(command: CommandClass, id: string, options: CaptureClusterOptions, argv: string[], stdin?: string) => {
    cluster = await captureCluster(options)
    return kcli<R>(command, cluster.bootstrap, [...argv, '--timeout', '3000'], {id, stdin})
  }
  const sent = (apiKey: number) => cluster!.requests.filter((r) => r.apiKey === apiKey)

  it("generate: Kafka's --generate output from a topics-to-move file (run 27)", async () => {
    const topics = file('topics.json', '{"version":1,"topics":[{"topic":"big"}]}')
    const result = await run<ReassignGenerateResult>(ReassignGenerate, 'reassign:generate', {runs: [27], topicsFrom: 27}, ['--topics-to-move-json-file', topics, '--broker-list', '1,2,3'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe(
      'Current partition replica assignment\n' +
        '{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1,2],"log_dirs":["any","any"]},{"topic":"big","partition":1,"replicas":[2,3],"log_dirs":["any","any"]},{"topic":"big","partition":2,"replicas":[3,1],"log_dirs":["any","any"]}]}\n\n' +
        'Proposed partition reassignment configuration\n' +
        '{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1,2],"log_dirs":["any","any"]},{"topic":"big","partition":1,"replicas":[2,3],"log_dirs":["any","any"]},{"topic":"big","partition":2,"replicas":[3,1],"log_dirs":["any","any"]}]}\n',
    )
  })

  it('generate --remove-broker: a balanced plan off broker 3, as JSON', async () => {
    const result = await run<ReassignGenerateResult>(ReassignGenerate, 'reassign:generate', {runs: [], topicsFrom: 27}, ['--topic', 'big', '--remove-broker', '3', '--json'])
    expect(result.exitCode).toBe(0)
    const out = json<ReassignGenerateResult>(result)
    expect(out.mode).toBe('balanced')
    expect(out.proposed.partitions.every((p) => !p.replicas.includes(3))).toBe(true)
    expect(out.replicasToCopy).toBe(2)
    const unknown = await kcli(ReassignGenerate, cluster!.bootstrap, ['--topic', 'big', '--add-broker', '7'], {id: 'reassign:generate'})
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toContain('Unknown broker id 7')
  })

  it('execute --throttle 1MB/s: throttles on the topic and the three brokers, then the reassignment (run 28)', async () => {
    const result = await run<ReassignExecuteResult>(ReassignExecute, 'reassign:execute', {runs: [28], topicsFrom: 27}, ['--reassignment-json-file', file('reassign.json', PLAN), '--throttle', '1MB/s'])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(cluster!.replayed.map((e) => e.api)).toEqual(['ListPartitionReassignments', 'IncrementalAlterConfigs', 'IncrementalAlterConfigs', 'IncrementalAlterConfigs', 'IncrementalAlterConfigs', 'AlterPartitionReassignments'])
    expect(result.stdout).toContain('Current partition replica assignment\n\n{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1,2],')
    expect(result.stdout).toContain('Save this to use as the --reassignment-json-file option during rollback\n')
    expect(result.stdout).toContain('The inter-broker throttle limit was set to 1000000 B/s\n')
    expect(result.stdout).toContain('Successfully started partition reassignments for big-0,big-1,big-2\n')
  })

  it('execute reads the plan from standard input; a second plan throttles from the new replicas (run 33)', async () => {
    const result = await run<ReassignExecuteResult>(ReassignExecute, 'reassign:execute', {runs: [33], topicsFrom: 31}, ['--throttle', '1000000', '--json'], PLAN2)
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(json<ReassignExecuteResult>(result).started.map((s) => s.error)).toEqual(['NONE', 'NONE', 'NONE'])
  })

  it('list while moving, and when nothing moves (runs 29, 32)', async () => {
    const moving = await run(ReassignList, 'reassign:list', {runs: [29], topicsFrom: 27}, [])
    expect(cluster!.unmatched).toEqual([])
    expect(moving.stdout).toBe('Current partition reassignments:\nbig-0: replicas: 1,3,2. adding: 3. removing: 2.\nbig-1: replicas: 2,1,3. adding: 1. removing: 3.\nbig-2: replicas: 3,2,1. adding: 2. removing: 1.\n')
    await cluster!.close()
    const idle = await run(ReassignList, 'reassign:list', {runs: [32], topicsFrom: 31}, [])
    expect(idle.stdout).toBe('No partition reassignments found.\n')
  })

  it('verify while moving keeps the throttles (run 30)', async () => {
    const result = await run<ReassignVerifyResult>(ReassignVerify, 'reassign:verify', {runs: [30], topicsFrom: 27}, ['-f', file('reassign.json', PLAN)])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(result.stdout).toBe('Status of partition reassignment:\nReassignment of partition big-0 is still in progress.\nReassignment of partition big-1 is still in progress.\nReassignment of partition big-2 is still in progress.\n')
    expect(sent(44)).toEqual([])
  })

  it('verify once done removes the broker and topic throttles (run 31)', async () => {
    const result = await run<ReassignVerifyResult>(ReassignVerify, 'reassign:verify', {runs: [31], topicsFrom: 31}, ['-f', file('reassign.json', PLAN), '--json'])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(sent(44)).toHaveLength(4)
    const out = json<ReassignVerifyResult>(result)
    expect(out.complete).toBe(true)
    expect(out.throttlesCleared).toEqual({brokers: [1, 2, 3], topics: ['big']})
  })

  it('cancel restores the old replicas and removes the throttles (run 35)', async () => {
    const result = await run(ReassignCancel, 'reassign:cancel', {runs: [35], topicsFrom: 31}, ['-f', file('reassign2.json', PLAN2)])
    expect(result.exitCode).toBe(0)
    expect(cluster!.unmatched).toEqual([])
    expect(result.stdout).toBe('Successfully cancelled partition reassignments for: big-0,big-1,big-2\nClearing broker-level throttles on brokers 1,2,3\nClearing topic-level throttles on topic big\n')
  })

  it('execute refuses while another reassignment runs, unless --additional (nothing sent)', async () => {
    const result = await run(ReassignExecute, 'reassign:execute', {runs: [29], topicsFrom: 27}, ['-f', file('reassign2.json', PLAN2)])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('Cannot execute because there is an existing partition assignment.')
    expect(sent(45)).toEqual([])
    expect(sent(44)).toEqual([])
  })

  it.each([
    ['a broker that does not exist', '{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1,7]}]}', 1, 'Unknown broker id 7'],
    ['a partition that does not exist', '{"version":1,"partitions":[{"topic":"big","partition":9,"replicas":[1,2]}]}', 1, 'Unable to find partition: big-9'],
    ['a topic that does not exist', '{"version":1,"partitions":[{"topic":"nope","partition":0,"replicas":[1,2]}]}', 1, 'Topic nope not found.'],
    ['duplicate replicas', '{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1,1]}]}', 2, 'Partition replica lists may not contain duplicate entries: big-0 contains multiple entries for 1'],
    ['an empty replica list', '{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[]}]}', 2, 'Partition replica list cannot be empty'],
    ['a file that is not JSON', '{"version":1,', 2, 'is not valid JSON'],
  ])('execute refuses %s, moving nothing', async (_what, plan, exitCode, message) => {
    const result = await run(ReassignExecute, 'reassign:execute', {runs: [28], topicsFrom: 27}, ['-f', file('bad.json', plan), '--throttle', '1MB/s'])
    expect(result.exitCode).toBe(exitCode)
    expect(result.stderr).toContain(message)
    expect(sent(45)).toEqual([])
    expect(sent(44)).toEqual([])
  })

  it("shows the broker's per-partition errors, exits 1 and takes back the throttles it set", async () => {
    const result = await run(
      ReassignExecute,
      'reassign:execute',
      {
        runs: [28],
        topicsFrom: 27,
        extra: {
          44: configsAnswer,
          45: () => ({throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses: [{name: 'big', partitions: [0, 1, 2].map((partitionIndex) => ({partitionIndex, errorCode: 38, errorMessage: 'Replication factor: 3 larger than available brokers: 2.'}))}]}),
        },
      },
      ['-f', file('reassign.json', PLAN), '--throttle', '1MB/s'],
    )
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain('Error reassigning partition(s):\nbig-0: INVALID_REPLICATION_FACTOR: Replication factor: 3 larger than available brokers: 2.')
    expect(result.stderr).toContain('3 of 3 partitions could not be reassigned')
    const deletes = sent(44).filter((r) => r.body.resources[0].configs[0].configOperation === 1)
    expect(deletes.map((r) => r.body.resources[0].resourceName).sort()).toEqual(['1', '2', '3', 'big'])
  })

  it('execute --wait: a progress line per change (not a terminal), then verify and remove the throttles', async () => {
    let lists = 0
    const result = await run<ReassignExecuteResult>(
      ReassignExecute,
      'reassign:execute',
      {
        runs: [],
        topicsFrom: 27,
        extra: {
          44: configsAnswer,
          45: () => ({throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses: [{name: 'big', partitions: [{partitionIndex: 0, errorCode: 0, errorMessage: null}]}]}),
          46: () => {
            lists++
            // Listed as moving in the first two polls (after the check before starting), then done.
            const moving = lists >= 2 && lists <= 3
            return {throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: moving ? [{name: 'big', partitions: [{partitionIndex: 0, replicas: [1, 2, 3], addingReplicas: [3], removingReplicas: [2]}]}] : []}
          },
          35: (_r, node) => ({throttleTimeMs: 0, errorCode: 0, results: [{errorCode: 0, logDir: '/data', topics: [{name: 'big', partitions: [{partitionIndex: 0, partitionSize: node === 3 ? BigInt(250 * lists) : 1000n, offsetLag: 0n, isFutureKey: false}]}], totalBytes: -1n, usableBytes: -1n}]}),
        },
      },
      ['--throttle', '1MB/s', '--wait', '--interval', '100'],
      '{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1,3]}]}',
    )
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('big-0: 50% (500 B of 1.0 KB) adding 3\nbig-0: 75% (750 B of 1.0 KB) adding 3\nbig-0: done\n')
    expect(result.stdout).toContain('Clearing broker-level throttles on brokers 1,2,3\nClearing topic-level throttles on topic big\n')
  })
})
