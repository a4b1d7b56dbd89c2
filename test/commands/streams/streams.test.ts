// kcli streams describe|reset against a kcli broker, with a kcli Streams word count as the application.

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import StreamsDescribe, {type StreamsDescribeResult} from '../../../src/commands/streams/describe.js'
import StreamsReset, {type StreamsResetResult} from '../../../src/commands/streams/reset.js'
import {parseBootstrapServers} from '../../../src/lib/cli/bootstrap-server.js'
import {Admin} from '../../../src/lib/client/admin.js'
import {KafkaClient} from '../../../src/lib/client/client.js'
import {KafkaStreams, type StreamsConfig} from '../../../src/streams/index.js'
import {pollUntil} from '../../e2e/harness.js'
import {corpus, expectedCounts, produceLines, readCounts, wordCountTopology} from '../../streams/support.js'
import {json, kcli, removeDir, startBroker, type TestBroker, tempDir} from '../helpers.js'

const CHANGELOG = 'cli-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog'
const REPARTITION = 'cli-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition'

let broker: TestBroker
let admin: Admin
let stateDir: string
beforeAll(async () => {
  broker = await startBroker()
  admin = new Admin(new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)}))
  stateDir = tempDir('kcli-streams-cli-')
})
afterAll(async () => {
  await admin?.client.close()
  await broker?.stop()
  if (stateDir) removeDir(stateDir)
})

describe('kcli streams describe|reset', () => {
  it('describes a running application, refuses to reset it, then resets it so that it reprocesses its input from scratch', async () => {
    const created = await admin.createTopics([
      {name: 'cli-in', numPartitions: 2, replicationFactor: 1},
      {name: 'cli-out', numPartitions: 1, replicationFactor: 1},
    ])
    expect(created.map((r) => r.error)).toEqual(['NONE', 'NONE'])
    const lines = corpus(300, 9)
    await produceLines(broker.bootstrap, 'cli-in', lines)
    const expected = expectedCounts(lines)
    const sameCounts = (t: Map<string, number>) => t.size === expected.size && [...expected].every(([w, n]) => t.get(w) === n)
    const config: StreamsConfig = {'application.id': 'cli-app', 'bootstrap.servers': broker.bootstrap, 'client.id': 'wc-client', 'commit.interval.ms': 100, logger: {error: () => undefined, info: () => undefined, warn: () => undefined}, 'state.dir': stateDir}
    const app = new KafkaStreams(wordCountTopology('cli-in', 'cli-out'), config)
    await app.start()
    try {
      await pollUntil(() => readCounts(broker.bootstrap, 'cli-out'), sameCounts, 30_000, 'the counts')
      // Committed up to the end: no input lag.
      const described = await pollUntil(
        async () => json<StreamsDescribeResult>(await kcli(StreamsDescribe, broker.bootstrap, ['--application-id', 'cli-app', '--json'])),
        (d) => d.state === 'Stable' && d.partitions.filter((p) => p.kind === 'input').length === 2 && Number(d.lag) === 0,
        30_000,
        'a stable group without lag',
      )
      expect(described.protocol).toBe('stream')
      expect(described.members).toHaveLength(1)
      expect(described.members[0]).toMatchObject({activeTasks: ['0_0', '0_1', '1_0', '1_1'], clientId: 'wc-client', standbyTasks: []})
      expect(described.partitions.map((p) => [p.topic, p.partition, p.kind, p.task])).toEqual([
        ['cli-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition', 0, 'repartition', '1_0'],
        ['cli-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition', 1, 'repartition', '1_1'],
        ['cli-in', 0, 'input', '0_0'],
        ['cli-in', 1, 'input', '0_1'],
      ])
      expect(described.internalTopics).toEqual([
        {kind: 'changelog', name: CHANGELOG, partitions: 2},
        {kind: 'repartition', name: REPARTITION, partitions: 2},
      ])
      const text = await kcli(StreamsDescribe, broker.bootstrap, ['--application-id', 'cli-app'])
      expect(text.exitCode).toBe(0)
      expect(text.stdout).toMatch(/^State: +Stable$/m)
      expect(text.stdout).toMatch(/^MEMBER +INSTANCE +CLIENT +HOST +ACTIVE TASKS +STANDBY TASKS$/m)
      expect(text.stdout).toMatch(/ 0_0,0_1,1_0,1_1 +- *$/m)
      expect(text.stdout).toMatch(/^TOPIC +PARTITION +KIND +TASK +CURRENT +END +LAG +MEMBER$/m)
      expect(text.stdout).toMatch(/^cli-in +0 +input +0_0 +\d+ +\d+ +0 /m)
      expect(text.stdout).toMatch(new RegExp(`^${CHANGELOG} +changelog +2$`, 'm'))

      const refused = await kcli(StreamsReset, broker.bootstrap, ['--application-id', 'cli-app', '--input-topics', 'cli-in'])
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toMatch(/Consumer group cli-app is still active/)
    } finally {
      await app.close()
    }

    // Dry run: what would happen, nothing done.
    const dry = json<StreamsResetResult>(await kcli(StreamsReset, broker.bootstrap, ['--application-id', 'cli-app', '--input-topics', 'cli-in,missing-topic', '--dry-run', '--json']))
    expect(dry.dryRun).toBe(true)
    expect(dry.notFound).toEqual(['missing-topic'])
    expect(dry.inputs.map((r) => [r.topic, r.partition, r.newOffset])).toEqual([['cli-in', 0, 0], ['cli-in', 1, 0]])
    expect(dry.inputs.reduce((sum, r) => sum + Number(r.currentOffset), 0)).toBe(lines.length)
    expect(dry.internalTopics.map((t) => t.name)).toEqual([CHANGELOG, REPARTITION])
    expect((await admin.listTopics()).topics.map((t) => t.name)).toContain(CHANGELOG)
    const future = json<StreamsResetResult>(await kcli(StreamsReset, broker.bootstrap, ['--application-id', 'cli-app', '--input-topics', 'cli-in', '--to-datetime', '2100-01-01T00:00:00Z', '--dry-run', '--json']))
    expect(future.inputs.map((r) => r.newOffset)).toEqual(dry.inputs.map((r) => r.currentOffset))
    const usage = await kcli(StreamsReset, broker.bootstrap, ['--application-id', 'cli-app', '--to-earliest', '--to-latest'])
    expect(usage.exitCode).toBe(2)

    // The reset: input offsets to the beginning, internal topics and their offsets gone.
    const reset = await kcli(StreamsReset, broker.bootstrap, ['--application-id', 'cli-app', '--input-topics', 'cli-in'])
    expect(reset.exitCode).toBe(0)
    expect(reset.stdout).toMatch(/^TOPIC +PARTITION +KIND +CURRENT +NEW$/m)
    expect(reset.stdout).toMatch(/^cli-in +0 +input +\d+ +0$/m)
    expect(reset.stdout).toMatch(new RegExp(`^${REPARTITION} +repartition +2$`, 'm'))
    await pollUntil(async () => (await admin.listTopics()).topics.map((t) => t.name), (names) => !names.includes(CHANGELOG) && !names.includes(REPARTITION), 10_000, 'internal topics deleted')
    const committed = await admin.fetchOffsets('cli-app')
    expect(committed.filter((c) => c.offset >= 0n).map((c) => [c.topic, c.partition, c.offset])).toEqual([['cli-in', 0, 0n], ['cli-in', 1, 0n]])
    const after = json<StreamsDescribeResult>(await kcli(StreamsDescribe, broker.bootstrap, ['--application-id', 'cli-app', '--json']))
    expect(after.state).toBe('Empty')
    expect(after.internalTopics).toEqual([])

    // Restarted with its local state cleaned up, it counts everything again from scratch: the
    // latest counts are the corpus's, not twice them.
    const again = new KafkaStreams(wordCountTopology('cli-in', 'cli-out'), config)
    again.cleanUp()
    await again.start()
    try {
      const before = (await readCounts(broker.bootstrap, 'cli-out')).size
      expect(before).toBe(expected.size)
      await pollUntil(
        async () => ({processed: again.metrics()['process-total'], counts: await readCounts(broker.bootstrap, 'cli-out')}),
        ({processed, counts}) => processed > lines.length && sameCounts(counts),
        30_000,
        'the counts recomputed from scratch',
      )
    } finally {
      await again.close()
    }
  }, 120_000)
})
