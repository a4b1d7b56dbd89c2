// Every kcli client command against "Apache Kafka 4.0": a proxy (kafka-4-proxy.ts) in front of one
// of our brokers answers ApiVersions with the API ranges a real Kafka 4.0.0 broker advertised (the
// Java client's golden capture), so kcli negotiates exactly what it would with Kafka 4.0, and keeps
// the clients on the proxy (Metadata, FindCoordinator, DescribeCluster addresses). The proxy records
// every request; at the end each (API, version) kcli sent must lie in Kafka 4.0's advertised range
// and decode with Kafka 4.0's message definitions.

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import ClusterDescribe, {type ClusterDescribeResult} from '../../src/commands/cluster/describe.js'
import PreferredElection, {type PreferredElectionResult} from '../../src/commands/preferred-election/index.js'
import ReassignExecute, {type ReassignExecuteResult} from '../../src/commands/reassign/execute.js'
import ReassignGenerate, {type ReassignGenerateResult} from '../../src/commands/reassign/generate.js'
import ReassignList, {type ReassignListResult} from '../../src/commands/reassign/list.js'
import ReassignVerify, {type ReassignVerifyResult} from '../../src/commands/reassign/verify.js'
import ConfigsAlter, {type ConfigsAlterResult} from '../../src/commands/configs/alter.js'
import ConfigsDescribe, {type ConfigsDescribeResult} from '../../src/commands/configs/describe.js'
import Consume from '../../src/commands/consume/index.js'
import GroupsDelete, {type GroupsDeleteResult} from '../../src/commands/groups/delete.js'
import GroupsDeleteOffsets, {type GroupsDeleteOffsetsResult} from '../../src/commands/groups/delete-offsets.js'
import GroupsDescribe, {type GroupsDescribeResult} from '../../src/commands/groups/describe.js'
import GroupsList, {type GroupsListResult} from '../../src/commands/groups/list.js'
import GroupsResetOffsets, {type GroupsResetOffsetsResult} from '../../src/commands/groups/reset-offsets.js'
import OffsetsGet, {type OffsetsGetResult} from '../../src/commands/offsets/get.js'
import PerfConsume, {type PerfConsumeResult} from '../../src/commands/perf/consume.js'
import PerfProduce, {type PerfProduceResult} from '../../src/commands/perf/produce.js'
import Produce, {type ProduceResult} from '../../src/commands/produce/index.js'
import StreamsDescribe, {type StreamsDescribeResult} from '../../src/commands/streams/describe.js'
import StreamsReset, {type StreamsResetResult} from '../../src/commands/streams/reset.js'
import TopicsAddPartitions from '../../src/commands/topics/add-partitions.js'
import TopicsAlter from '../../src/commands/topics/alter.js'
import TopicsCreate, {type TopicsCreateResult} from '../../src/commands/topics/create.js'
import TopicsDelete, {type TopicsDeleteResult} from '../../src/commands/topics/delete.js'
import TopicsDescribe, {type TopicsDescribeResult} from '../../src/commands/topics/describe.js'
import TopicsList, {type TopicsListResult} from '../../src/commands/topics/list.js'
import TransactionsDescribe, {type TransactionsDescribeResult} from '../../src/commands/transactions/describe.js'
import TransactionsList, {type TransactionsListResult} from '../../src/commands/transactions/list.js'
import UsersDelete from '../../src/commands/users/delete.js'
import UsersList, {type UsersListResult} from '../../src/commands/users/list.js'
import UsersSetPassword from '../../src/commands/users/set-password.js'
import {Connection} from '../../src/lib/client/connection.js'
import type {RecordJson} from '../../src/lib/client/record-format.js'
import {API_KEYS, ApiKey, decodeResponse} from '../../src/lib/protocol/index.js'
import type {ApiVersion} from '../../src/lib/protocol/generated/api-versions-response.js'
import type {CommandClass, CommandRun} from '../lib/cli/run-command.js'
import {HAVE_REFERENCE, loadCaptures} from '../lib/protocol/reference.js'
import {json, kcli, startBroker, type TestBroker} from '../commands/helpers.js'
import {type Kafka4Proxy, startKafka4Proxy} from './kafka-4-proxy.js'

const API_NAMES = new Map(API_KEYS.map((api) => [api.apiKey, api.name]))
const OWN_MAX = new Map(API_KEYS.filter((api) => api.minVersion <= api.maxVersion).map((api) => [api.apiKey, api.maxVersion]))
const apiName = (apiKey: number) => API_NAMES.get(apiKey) ?? `api${apiKey}`
/** The client id of the direct check connection (everything else through the proxy is kcli's). */
const CHECK_CLIENT = 'kafka4-check'

/** The API ranges the Kafka 4.0.0 broker advertised to the Java client (its ApiVersions response). */
function kafka40ApiKeys(): ApiVersion[] {
  const frame = loadCaptures().find((f) => /\bJava\b/.test(f.client) && f.api === 'ApiVersions' && f.direction === 'response')
  if (!frame) throw new Error('no ApiVersions response in the Java capture')
  const {body} = decodeResponse(Buffer.from(frame.frameHex, 'hex'), ApiKey.ApiVersions, frame.apiVersion)
  expect(body.errorCode).toBe(0)
  return body.apiKeys
}

function lines(stdout: string): string[] {
  return stdout.trimEnd().split('\n').filter(Boolean)
}

describe.skipIf(!HAVE_REFERENCE)('kcli commands through a proxy that makes our broker look like Kafka 4.0', () => {
  let broker: TestBroker
  let proxy: Kafka4Proxy
  let kafkaApis: ApiVersion[]
  let kafkaRanges: Map<number, {minVersion: number; maxVersion: number}>
  /** The command running, so that each recorded request can be traced to it. */
  let phase = 'setup'
  const phases: string[] = []

  beforeAll(async () => {
    kafkaApis = kafka40ApiKeys()
    kafkaRanges = new Map(kafkaApis.map((a) => [a.apiKey, {minVersion: a.minVersion, maxVersion: a.maxVersion}]))
    broker = await startBroker({'transaction.state.log.num.partitions': '2', 'offsets.topic.num.partitions': '2'})
    proxy = await startKafka4Proxy(broker.port, kafkaApis, () => phase)
  })
  afterAll(async () => {
    await proxy?.stop()
    await broker?.stop()
  })

  /** Runs a kcli command through the proxy and expects exit 0 with nothing on stderr. */
  async function ok<R = unknown>(label: string, command: CommandClass, argv: string[], stdin?: string): Promise<CommandRun<R>> {
    phase = label
    phases.push(label)
    const run = await kcli<R>(command, proxy.bootstrap, argv, stdin === undefined ? {} : {stdin})
    // A consumer's last prefetch may reach the proxy just after the command returned.
    phase = `after ${label}`
    expect(run.stderr, `${label}: stderr`).toBe('')
    expect(run.exitCode, `${label}: exit code (${String(run.error)})`).toBe(0)
    return run
  }

  it('the proxy hands out Kafka 4.0\'s ApiVersions and its own address', async () => {
    const connection = await Connection.connect({host: '127.0.0.1', port: proxy.port}, {clientId: CHECK_CLIENT})
    try {
      expect(new Map(connection.brokerVersions)).toEqual(kafkaRanges)
      // APIs Kafka 4.0 has and our broker does not serve: kcli sees them, so the list is Kafka's.
      expect(connection.brokerVersions.get(ApiKey.SaslHandshake)).toEqual({minVersion: 0, maxVersion: 1})
      expect(connection.brokerVersions.get(ApiKey.DescribeAcls)).toEqual({minVersion: 1, maxVersion: 3})
      const metadata = await connection.send(ApiKey.Metadata, {topics: [], allowAutoTopicCreation: false})
      expect(metadata.brokers.map((b) => [b.host, b.port])).toEqual([['127.0.0.1', proxy.port]])
    } finally {
      connection.close()
    }
  })

  it('topics create, list, describe, alter, add-partitions, delete', async () => {
    const create = await ok<TopicsCreateResult>('topics create', TopicsCreate, ['orders', '-p', '3', '--config', 'retention.ms=3600000'])
    expect(create.stdout).toMatch(/^orders +created +3 +1 +\S{22}$/m)
    await ok('topics create', TopicsCreate, ['events', 'doomed', '-p', '2'])

    const list = json<TopicsListResult>(await ok('topics list', TopicsList, ['--json']))
    expect(list.topics.map((t) => t.name)).toEqual(expect.arrayContaining(['doomed', 'events', 'orders']))
    expect((await ok('topics list', TopicsList, [])).stdout).toMatch(/^orders +3 +1 +ok$/m)

    const described = json<TopicsDescribeResult>(await ok('topics describe', TopicsDescribe, ['orders', '--json']))
    expect(described.topics[0]!.partitions).toHaveLength(3)
    expect(described.topics[0]!.configs).toContainEqual(expect.objectContaining({name: 'retention.ms', value: '3600000'}))
    expect((await ok('topics describe', TopicsDescribe, ['orders'])).stdout).toMatch(/^Topic: +orders$/m)

    const alter = await ok('topics alter', TopicsAlter, ['orders', '--config', 'retention.ms=7200000', '--config', 'cleanup.policy=delete'])
    expect(alter.stdout).toBe('set     retention.ms=7200000\nset     cleanup.policy=delete\n')

    const grow = await ok('topics add-partitions', TopicsAddPartitions, ['events', '--partitions', '3'])
    expect(grow.stdout).toBe('events: now has 3 partitions\n')

    const deleted = json<TopicsDeleteResult>(await ok('topics delete', TopicsDelete, ['doomed', '--yes', '--json']))
    expect(deleted.topics).toEqual([expect.objectContaining({deleted: true, error: 'NONE', name: 'doomed'})])
  })

  it('produce from stdin: plain, keyed with headers, every codec, idempotent, transactional', async () => {
    const plain = await ok<ProduceResult>('produce', Produce, ['-t', 'orders'], 'o1\no2\no3\n')
    expect(plain.stdout).toMatch(/^produced 3 records to orders in \d+\.\d\d s/)

    const keyed = json<ProduceResult>(await ok('produce --key-separator --header', Produce, ['-t', 'events', '-K', ':', '-H', 'source=compat', '--json'], 'k1:v1\nk2:v2\nk3:v3\nk4:v4\n'))
    expect(keyed.count).toBe(4)

    for (const codec of ['gzip', 'lz4', 'zstd', 'snappy']) {
      const run = json<ProduceResult>(await ok(`produce --compression ${codec}`, Produce, ['-t', 'events', '-p', '0', '--compression', codec, '--json'], `${codec}-a\n${codec}-b\n`))
      expect(run.count).toBe(2)
    }

    const idempotent = json<ProduceResult>(await ok('produce --idempotent', Produce, ['-t', 'events', '-p', '1', '--idempotent', '--json'], 'i1\ni2\n'))
    expect(idempotent.records!.map((r) => r.partition)).toEqual([1, 1])

    // A topic of its own, whose partition ends with the transaction's commit marker.
    await ok('topics create', TopicsCreate, ['payments', '-p', '1'])
    const txn = json<ProduceResult>(await ok('produce --transactional-id', Produce, ['-t', 'payments', '--transactional-id', 'compat-tx', '--json'], 't1\nt2\nt3\n'))
    expect(txn.count).toBe(3)
    const committed = await ok('consume --isolation-level read_committed', Consume, ['-t', 'payments', '--from-beginning', '--exit', '--isolation-level', 'read_committed'])
    expect(lines(committed.stdout)).toEqual(['t1', 't2', 't3'])
  })

  it('consume: --from-beginning --exit, --offset -N, --group (commits), --json', async () => {
    const all = await ok('consume --from-beginning --exit', Consume, ['-t', 'orders', '--from-beginning', '--exit'])
    expect(lines(all.stdout).sort()).toEqual(['o1', 'o2', 'o3'])

    const tail = await ok('consume --offset -N', Consume, ['-t', 'events', '-p', '0', '--offset', '-2', '--exit'])
    expect(lines(tail.stdout)).toEqual(['snappy-a', 'snappy-b'])

    const grouped = await ok('consume --group', Consume, ['-t', 'events', '-g', 'compat-group', '--from-beginning', '--exit'])
    expect(lines(grouped.stdout)).toHaveLength(14)
    await ok('produce', Produce, ['-t', 'events', '-p', '2'], 'late\n')
    const again = await ok('consume --group', Consume, ['-t', 'events', '-g', 'compat-group', '--exit'])
    expect(again.stdout).toBe('late\n')

    const records = lines((await ok('consume --json', Consume, ['-t', 'events', '-p', '0', '--offset', 'beginning', '--exit', '--json', '--count', '1'])).stdout).map((l) => JSON.parse(l) as RecordJson)
    expect(records).toHaveLength(1)
    const keyedRecords = lines((await ok('consume --json', Consume, ['-t', 'events', '--from-beginning', '--exit', '--json'])).stdout).map((l) => JSON.parse(l) as RecordJson)
    expect(keyedRecords.find((r) => r.key === 'k1')).toMatchObject({headers: [{key: 'source', value: 'compat'}], value: 'v1'})
  })

  it('groups list, describe, reset-offsets (dry run, --execute), delete-offsets, delete', async () => {
    const listed = json<GroupsListResult>(await ok('groups list', GroupsList, ['--json']))
    expect(listed.groups.find((g) => g.groupId === 'compat-group')).toMatchObject({lag: 0, members: 0, state: 'Empty'})
    expect((await ok('groups list', GroupsList, [])).stdout).toMatch(/^compat-group +Empty +0 +0$/m)

    const described = json<GroupsDescribeResult>(await ok('groups describe', GroupsDescribe, ['compat-group', '--json']))
    expect(described.groups[0]!.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2])
    expect((await ok('groups describe', GroupsDescribe, ['compat-group'])).stdout).toMatch(/^Lag: +0$/m)

    const dry = await ok<GroupsResetOffsetsResult>('groups reset-offsets (dry run)', GroupsResetOffsets, ['compat-group', '--topic', 'events', '--to-earliest'])
    expect(dry.stdout).toMatch(/Dry run: nothing committed/)
    expect(dry.result!.executed).toBe(false)
    const exec = json<GroupsResetOffsetsResult>(await ok('groups reset-offsets --execute', GroupsResetOffsets, ['compat-group', '--topic', 'events:0', '--shift-by', '-1', '--execute', '--json']))
    expect(exec.executed).toBe(true)
    expect(exec.partitions).toHaveLength(1)

    const offsets = json<GroupsDeleteOffsetsResult>(await ok('groups delete-offsets', GroupsDeleteOffsets, ['compat-group', '--topic', 'events:0', '--json']))
    expect(offsets.partitions).toEqual([expect.objectContaining({error: 'NONE', partition: 0, topic: 'events'})])

    const deleted = await ok<GroupsDeleteResult>('groups delete', GroupsDelete, ['compat-group', '--yes'])
    expect(deleted.stdout).toBe('GROUP         RESULT\ncompat-group  deleted\n')
  })

  it('streams describe and reset (an application\'s group and internal topics)', async () => {
    const changelog = 'compat-app-STORE-changelog'
    const repartition = 'compat-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition'
    await ok('topics create', TopicsCreate, [changelog, repartition, '-p', '2'])
    await ok('produce', Produce, ['-t', repartition, '-p', '1'], 'r\n')
    await ok('consume --group', Consume, ['-t', 'orders', '-g', 'compat-app', '--from-beginning', '--exit'])
    await ok('consume --group', Consume, ['-t', repartition, '-g', 'compat-app', '--from-beginning', '--exit'])
    const described = json<StreamsDescribeResult>(await ok('streams describe', StreamsDescribe, ['--application-id', 'compat-app', '--json']))
    expect(described.state).toBe('Empty')
    expect(described.partitions.filter((p) => p.kind === 'input').map((p) => p.topic)).toEqual(['orders', 'orders', 'orders'])
    expect(described.internalTopics.map((t) => t.name)).toEqual([repartition, changelog])
    expect((await ok('streams describe', StreamsDescribe, ['--application-id', 'compat-app'])).stdout).toMatch(/^Input lag: +0$/m)
    const dry = json<StreamsResetResult>(await ok('streams reset --dry-run', StreamsReset, ['--application-id', 'compat-app', '--input-topics', 'orders', '--dry-run', '--json']))
    expect(dry.inputs.map((r) => r.newOffset)).toEqual([0, 0, 0])
    const reset = await ok<StreamsResetResult>('streams reset', StreamsReset, ['--application-id', 'compat-app', '--input-topics', 'orders', '--to-earliest'])
    expect(reset.result!.internalTopics).toHaveLength(2)
    const after = json<StreamsDescribeResult>(await ok('streams describe', StreamsDescribe, ['--application-id', 'compat-app', '--json']))
    expect(after.internalTopics).toEqual([])
    expect(after.partitions.map((p) => [p.topic, p.currentOffset])).toEqual([['orders', 0], ['orders', 0], ['orders', 0]])
  })

  it('configs describe and alter (topic), describe (broker)', async () => {
    const topic = json<ConfigsDescribeResult>(await ok('configs describe --topic', ConfigsDescribe, ['--topic', 'orders', '--json']))
    expect(topic.resources[0]!.configs).toContainEqual(expect.objectContaining({name: 'retention.ms', value: '7200000'}))
    const altered = json<ConfigsAlterResult>(await ok('configs alter --topic', ConfigsAlter, ['--topic', 'orders', '--add-config', 'max.message.bytes=2000000', '--delete-config', 'retention.ms', '--json']))
    expect(altered.resources[0]).toMatchObject({error: 'NONE'})
    const after = json<ConfigsDescribeResult>(await ok('configs describe --topic', ConfigsDescribe, ['--topic', 'orders', '--json']))
    expect(after.resources[0]!.configs.map((c) => [c.name, c.value])).toEqual([['cleanup.policy', 'delete'], ['max.message.bytes', '2000000']])
    const brokerConfigs = json<ConfigsDescribeResult>(await ok('configs describe --broker', ConfigsDescribe, ['--broker', '1', '--all', '--json']))
    expect(brokerConfigs.resources[0]).toMatchObject({error: 'NONE', name: '1', type: 'broker'})
    expect(brokerConfigs.resources[0]!.configs.map((c) => c.name)).toContain('log.retention.hours')
  })

  it('cluster describe shows the proxy as the broker', async () => {
    const cluster = json<ClusterDescribeResult>(await ok('cluster describe', ClusterDescribe, ['--json']))
    expect(cluster.controllerId).toBe(1)
    expect(cluster.brokers).toEqual([expect.objectContaining({host: '127.0.0.1', nodeId: 1, port: proxy.port})])
    expect((await ok('cluster describe', ClusterDescribe, [])).stdout).toMatch(new RegExp(`^ +1 +127\\.0\\.0\\.1 +${proxy.port} +`, 'm'))
  })

  it('offsets get', async () => {
    const offsets = json<OffsetsGetResult>(await ok('offsets get', OffsetsGet, ['events', '--json']))
    expect(offsets.offsets.map((o) => [o.partition, o.error, Number(o.earliest)])).toEqual([[0, 'NONE', 0], [1, 'NONE', 0], [2, 'NONE', 0]])
    // 4 keyed, 8 compressed, 2 idempotent, 1 late.
    expect(offsets.offsets.reduce((sum, o) => sum + Number(o.latest), 0)).toBe(15)
    expect((await ok('offsets get', OffsetsGet, ['events'])).stdout).toMatch(/^events +0 +0 +\d+ +\d+$/m)
    const byTime = json<OffsetsGetResult>(await ok('offsets get --time', OffsetsGet, ['events:0', '--time', 'earliest', '--json']))
    expect(byTime.offsets[0]).toMatchObject({error: 'NONE', partition: 0})
  })

  it('perf produce and perf consume', async () => {
    await ok('topics create', TopicsCreate, ['bench', '-p', '2'])
    const produced = json<PerfProduceResult>(await ok('perf produce', PerfProduce, ['-t', 'bench', '-n', '2000', '-s', '100', '--json']))
    expect(produced).toMatchObject({errors: 0, records: 2000})
    const compressed = json<PerfProduceResult>(await ok('perf produce', PerfProduce, ['-t', 'bench', '-n', '500', '--compression', 'zstd', '--idempotent', '--json']))
    expect(compressed).toMatchObject({errors: 0, records: 500})
    const consumed = json<PerfConsumeResult>(await ok('perf consume', PerfConsume, ['-t', 'bench', '--json']))
    expect(consumed).toMatchObject({records: 2500, topic: 'bench'})
  })

  it('transactions list and describe', async () => {
    const listed = json<TransactionsListResult>(await ok('transactions list', TransactionsList, ['--json']))
    expect(listed.transactions).toEqual([expect.objectContaining({state: 'CompleteCommit', transactionalId: 'compat-tx'})])
    expect((await ok('transactions list', TransactionsList, [])).stdout).toMatch(/^compat-tx +\d+ +CompleteCommit +1$/m)
    const described = json<TransactionsDescribeResult>(await ok('transactions describe', TransactionsDescribe, ['compat-tx', '--json']))
    expect(described.transactions[0]).toMatchObject({state: 'CompleteCommit', transactionalId: 'compat-tx'})
  })

  it('reassign generate, execute --throttle --wait, verify, list; preferred-election (and --dry-run); topics describe with the reassignment filters', async () => {
    await ok('topics create (moves)', TopicsCreate, ['moves', '--partitions', '2', '--json'])
    const generated = json<ReassignGenerateResult>(await ok('reassign generate', ReassignGenerate, ['--topic', 'moves', '--broker-list', '1', '--json']))
    expect(generated.proposed.partitions.map((p) => [p.partition, p.replicas])).toEqual([[0, [1]], [1, [1]]])
    // One broker: the plan keeps every replica where it is, which the cluster accepts and completes at once.
    const executed = json<ReassignExecuteResult>(await ok('reassign execute', ReassignExecute, ['--throttle', '1MB/s', '--wait', '--json'], JSON.stringify(generated.proposed)))
    expect(executed.started.map((p) => p.error)).toEqual(['NONE', 'NONE'])
    const verified = json<ReassignVerifyResult>(await ok('reassign verify', ReassignVerify, ['--json'], JSON.stringify(generated.proposed)))
    expect(verified.complete).toBe(true)
    expect(json<ReassignListResult>(await ok('reassign list', ReassignList, ['--json'])).reassignments).toEqual([])
    const dry = json<PreferredElectionResult>(await ok('preferred-election --dry-run', PreferredElection, ['--all', '--dry-run', '--json']))
    expect(dry.brokers).toEqual([expect.objectContaining({broker: 1, notLedByPreferred: 0})])
    const elected = json<PreferredElectionResult>(await ok('preferred-election', PreferredElection, ['--topic', 'moves', '--json']))
    expect(elected.partitions.map((p) => p.result)).toEqual(['nothing-to-do', 'nothing-to-do'])
    const under = json<TopicsDescribeResult>(await ok('topics describe --under-replicated', TopicsDescribe, ['--under-replicated-partitions', '--unavailable-partitions', '--json']))
    expect(under.topics).toEqual([])
  })

  it('users set-password, list and delete (SCRAM credentials, KIP-554)', async () => {
    await ok('users set-password', UsersSetPassword, ['compat-user', '--password-stdin'], 'compat-pw')
    const listed = json<UsersListResult>(await ok('users list', UsersList, ['--json']))
    expect(listed.users.map((u) => u.user)).toEqual(['compat-user'])
    await ok('users delete', UsersDelete, ['compat-user'])
  })

  it('every request kcli sent is within what Kafka 4.0 advertises', () => {
    expect(proxy.problems).toEqual([])
    const kcliRequests = proxy.requests.filter((r) => r.clientId !== CHECK_CLIENT)
    expect(kcliRequests.length).toBeGreaterThan(100)
    expect(new Set(kcliRequests.map((r) => r.clientId))).toEqual(new Set(['kcli']))
    // Every ApiVersions response was Kafka's, and the addresses were the proxy's.
    const apiVersionsRequests = proxy.requests.filter((r) => r.apiKey === ApiKey.ApiVersions).length
    expect(proxy.rewritten.get('ApiVersions')).toBe(apiVersionsRequests)
    for (const api of ['Metadata', 'FindCoordinator', 'DescribeCluster']) expect(proxy.rewritten.get(api), api).toBeGreaterThan(0)

    const outOfRange: string[] = []
    const undecodable: string[] = []
    const used = new Map<string, Set<string>>()
    for (const r of kcliRequests) {
      const name = `${apiName(r.apiKey)}(${r.apiKey}) v${r.apiVersion}`
      const range = kafkaRanges.get(r.apiKey)
      if (!range || r.apiVersion < range.minVersion || r.apiVersion > range.maxVersion) outOfRange.push(`${name} in ${r.phase}: Kafka 4.0 advertises ${range ? `${range.minVersion}-${range.maxVersion}` : 'nothing'}`)
      if (r.decodeError !== undefined) undecodable.push(`${name} in ${r.phase}: ${r.decodeError}`)
      const phasesOf = used.get(name) ?? new Set()
      phasesOf.add(r.phase)
      used.set(name, phasesOf)
    }
    expect(outOfRange).toEqual([])
    expect(undecodable).toEqual([])
    const usedKeys = [...new Set(kcliRequests.map((r) => r.apiKey))]
    expect(usedKeys.filter((k) => !kafkaRanges.has(k)).map(apiName)).toEqual([])
    // Every command ran through the proxy (each sent at least one request).
    const seenPhases = new Set(kcliRequests.map((r) => r.phase))
    expect(phases.filter((p) => !seenPhases.has(p))).toEqual([])

    const pairs = [...new Set(kcliRequests.map((r) => `${r.apiKey}:${r.apiVersion}`))]
      .map((p) => p.split(':').map(Number) as [number, number])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    console.log(`kcli used ${pairs.length} API/version pairs against "Kafka 4.0":\n${pairs.map(([k, v]) => {
      const range = kafkaRanges.get(k)!
      return `  ${apiName(k)}(${k}) v${v}  [Kafka 4.0: ${range.minVersion}-${range.maxVersion}]  ${[...used.get(`${apiName(k)}(${k}) v${v}`)!].join('; ')}`
    }).join('\n')}`)

    // Negotiation: the highest version both kcli and Kafka 4.0 know, unless the client caps it.
    const expected = (apiKey: number) => Math.min(OWN_MAX.get(apiKey)!, kafkaRanges.get(apiKey)!.maxVersion)
    const versionsOf = (apiKey: number, filter: (phase: string) => boolean = () => true) => [...new Set(kcliRequests.filter((r) => r.apiKey === apiKey && filter(r.phase)).map((r) => r.apiVersion))]
    expect(versionsOf(ApiKey.Metadata)).toEqual([expected(ApiKey.Metadata)])
    expect(versionsOf(ApiKey.Fetch)).toEqual([expected(ApiKey.Fetch)])
    expect(versionsOf(ApiKey.Produce, (p) => p !== 'produce --transactional-id')).toEqual([expected(ApiKey.Produce)])
    // Transactional produce: kcli runs transactions v1 (AddPartitionsToTxn <= v3, EndTxn <= v4), so,
    // like Kafka's producer, it stays at Produce v11 inside a transaction: ProduceRequest.json says
    // "If V2 is disabled, the client can't use produce request version higher than 11 within a
    // transaction".
    expect(versionsOf(ApiKey.Produce, (p) => p === 'produce --transactional-id')).toEqual([11])
    expect(Math.max(...versionsOf(ApiKey.AddPartitionsToTxn))).toBeLessThanOrEqual(3)
    expect(Math.max(...versionsOf(ApiKey.EndTxn))).toBeLessThanOrEqual(4)
    // The APIs kcli uses below what both sides know (the callers cap them on purpose).
    const capped = usedKeys.filter((k) => Math.max(...versionsOf(k)) < expected(k)).sort((a, b) => a - b)
    console.log(`capped by kcli: ${capped.map((k) => `${apiName(k)} v${versionsOf(k).join(',')} (both know v${expected(k)})`).join(', ')}`)
  })
})
