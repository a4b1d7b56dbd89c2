import type {ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin, LATEST_TIMESTAMP} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {pollUntil, removeDir, startBroker, type TestBroker, tempDir} from '../e2e/harness.js'
import {exited, startApp, tasksOfLine, updatesByWord} from './app-process.js'
import {corpus, expectedCounts, produceLines, readAll} from './support.js'

// Two instances of one exactly_once_v2 word count (separate processes, one group); one is
// SIGKILLed and the other takes its tasks over — restoring them from the changelogs, or from its
// standbys — and the committed output still has each word's updates exactly once.
describe('kcli Streams: two instances, one killed', () => {
  let broker: TestBroker
  const dirs: string[] = []
  const children: ChildProcess[] = []

  beforeAll(async () => {
    broker = await startBroker()
  })

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await broker?.stop()
    for (const d of dirs) removeDir(d)
  })

  async function scenario(name: string, standbys: number) {
    const input = `${name}-in`
    const output = `${name}-out`
    const client = new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)})
    const results = await new Admin(client).createTopics([
      {name: input, numPartitions: 4, replicationFactor: 1},
      {name: output, numPartitions: 2, replicationFactor: 1},
    ])
    await client.close()
    expect(results.map((r) => r.error)).toEqual(['NONE', 'NONE'])
    const env = {WC_SESSION_MS: '6000', WC_STANDBYS: String(standbys)}
    const args = (instance: string) => {
      const dir = tempDir(`kcli-streams-mi-${instance}-`)
      dirs.push(dir)
      return [broker.bootstrap, input, output, dir, name, instance]
    }
    const lines = corpus(2000, 31)
    await produceLines(broker.bootstrap, input, lines)
    const a = await startApp(args('a'), env)
    children.push(a.child)
    const b = await startApp(args('b'), env)
    children.push(b.child)
    // The group settles on both instances sharing the 8 tasks (word split 0_0..0_3, count 1_0..1_3).
    const all = ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3']
    await pollUntil(
      async () => [a.running.at(-1), b.running.at(-1)].map((l) => (l ? tasksOfLine(l) : {active: [], standby: [], restored: 0})),
      ([x, y]) => x!.active.length > 0 && y!.active.length > 0 && [...x!.active, ...y!.active].sort().join() === all.join() && (standbys === 0 || (x!.standby.length > 0 && y!.standby.length > 0)),
      30_000,
      'both instances with tasks',
    )
    const beforeKill = {a: tasksOfLine(a.running.at(-1)!), b: tasksOfLine(b.running.at(-1)!)}
    if (standbys > 0) expect([...beforeKill.b.standby].sort()).toEqual(beforeKill.a.active.filter((t) => t.startsWith('1_')).sort())
    // Both process; a is killed while input arrives.
    const more = corpus(1000, 32)
    lines.push(...more)
    await produceLines(broker.bootstrap, input, more)
    await pollUntil(() => readAll(broker.bootstrap, output, 1), (r) => r.length > 0, 30_000, 'some output')
    const fromLine = b.running.length
    a.child.kill('SIGKILL')
    await exited(a.child)
    const last = corpus(1000, 33)
    lines.push(...last)
    await produceLines(broker.bootstrap, input, last)
    // b takes every task (after a's session times out) and restores a's stores.
    const takeover = tasksOfLine(await b.waitRunning((l) => tasksOfLine(l).active.length === all.length, 60_000, fromLine))
    expect(takeover.active).toEqual(all)
    const expected = expectedCounts(lines)
    const total = [...expected.values()].reduce((x, y) => x + y, 0)
    const out = await pollUntil(() => readAll(broker.bootstrap, output, 1), (r) => r.length >= total, 60_000, `${total} committed updates`)
    b.child.kill('SIGTERM')
    expect(await exited(b.child)).toBe(0)
    const byWord = updatesByWord(out)
    expect(new Set(byWord.keys())).toEqual(new Set(expected.keys()))
    for (const [word, count] of expected) expect(byWord.get(word), word).toEqual(Array.from({length: count}, (_, i) => i + 1))
    expect(out.length).toBe(total)
    // The records (and transaction markers) of the changelog partitions of a's count tasks.
    const admin = new Admin(new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)}))
    const changelog = `${name}-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog`
    const ends = await admin.listOffsets(beforeKill.a.active.filter((t) => t.startsWith('1_')).map((t) => ({partition: Number(t.slice(2)), timestamp: LATEST_TIMESTAMP, topic: changelog})))
    await admin.client.close()
    const changelogRecords = ends.reduce((sum, e) => sum + Number(e.offset), 0)
    return {beforeKill, changelogRecords, restored: takeover.restored}
  }

  it('the survivor restores the killed instance\'s stores from the changelogs and continues with exact counts', async () => {
    const {beforeKill, restored} = await scenario('mi-restore', 0)
    // a's count tasks were restored by b from their changelogs.
    if (beforeKill.a.active.some((t) => t.startsWith('1_'))) expect(restored).toBeGreaterThan(0)
  }, 180_000)

  it('with num.standby.replicas=1 the survivor takes over its standbys and continues with exact counts', async () => {
    const {changelogRecords, restored} = await scenario('mi-standby', 1)
    // Only the changelogs' tails since the standbys' last checkpoint were restored.
    expect(changelogRecords).toBeGreaterThan(0)
    expect(restored * 2).toBeLessThan(changelogRecords)
  }, 180_000)
})
