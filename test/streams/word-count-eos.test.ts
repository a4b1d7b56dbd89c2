import type {ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {pollUntil, removeDir, startBroker, type TestBroker, tempDir} from '../e2e/harness.js'
import {exited, startApp, updatesByWord} from './app-process.js'
import {corpus, expectedCounts, produceLines, readAll} from './support.js'

// 5 by default (about 17 s on the loaded 2-core test machine); STREAMS_EOS_KILLS=20 runs the
// issue's acceptance figure (68 s there).
const KILLS = Number(process.env.STREAMS_EOS_KILLS ?? 5)

describe('kcli Streams exactly_once_v2', () => {
  let broker: TestBroker
  let stateDir: string
  const children: ChildProcess[] = []

  beforeAll(async () => {
    broker = await startBroker()
    stateDir = tempDir('kcli-streams-eos-')
  })

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await broker?.stop()
    if (stateDir) removeDir(stateDir)
  })

  it(`word count SIGKILLed ${KILLS} times at random points and restarted writes exact counts, each update once (read_committed)`, async () => {
    const client = new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)})
    const results = await new Admin(client).createTopics([
      {name: 'eos-in', numPartitions: 3, replicationFactor: 1},
      {name: 'eos-out', numPartitions: 2, replicationFactor: 1},
    ])
    await client.close()
    expect(results.map((r) => r.error)).toEqual(['NONE', 'NONE'])
    const args = [broker.bootstrap, 'eos-in', 'eos-out', stateDir, 'eos-wc']
    const lines: string[] = []
    let seed = 100
    const produceMore = async (n: number) => {
      const more = corpus(n, seed++)
      lines.push(...more)
      await produceLines(broker.bootstrap, 'eos-in', more)
    }
    await produceMore(3000)
    let rnd = 12345
    const random = () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) / 2 ** 32
    for (let i = 0; i < KILLS; i++) {
      const {child} = await startApp(args)
      children.push(child)
      // Input keeps arriving while it runs, so the kill lands in processing, a commit or a restore.
      let stop = false
      const producing = (async () => {
        while (!stop) await produceMore(50)
      })()
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.floor(random() * 1500)))
      child.kill('SIGKILL')
      await exited(child)
      stop = true
      await producing
    }
    const {child: final} = await startApp(args)
    children.push(final)
    const expected = expectedCounts(lines)
    const total = [...expected.values()].reduce((a, b) => a + b, 0)
    const out = await pollUntil(() => readAll(broker.bootstrap, 'eos-out', 1), (r) => r.length >= total, 60_000, `${total} committed updates`)
    final.kill('SIGTERM')
    expect(await exited(final)).toBe(0)
    // Exactly once: the committed updates of each word are 1, 2, ..., its count — none lost, none twice.
    const byWord = updatesByWord(out)
    expect(new Set(byWord.keys())).toEqual(new Set(expected.keys()))
    for (const [word, count] of expected) expect(byWord.get(word), word).toEqual(Array.from({length: count}, (_, i) => i + 1))
    expect(out.length).toBe(total)
  }, 240_000)
})
