import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {KafkaStreams, MissingSourceTopicException, Serdes, StreamsBuilder, type StreamsConfig, type StreamsState} from '../../src/streams/index.js'
import {pollUntil} from '../e2e/harness.js'
import {quietLogger, useStreamsBroker} from './fixture.js'
import {corpus, expectedCounts, produceLines, produceRaw, readAll, readCounts, wordCountTopology} from './support.js'

// Kafka Streams 4.0.0's word count over its reference corpus: every update, in order
// (shared/kafka-reference/streams/01-word-count, TopologyTestDriver, record cache irrelevant there).
const REFERENCE_INPUT: [string, number][] = [["The quick brown fox jumps over the lazy dog", 1000], ["The dog barks; the fox runs!", 2000], ["A stream is a table, a table is a stream", 3000], ["Kafka Streams counts words", 4000], ["words, words, WORDS", 5000], ["the end of the stream is not the end", 6000], ["Hello Kafka", 7000], ["hello, hello streams", 8000], ["fox and dog and fox", 9000], ["it's a dog's life", 10000], ["   leading spaces and trailing   ", 11000], ["Numbers 42 and 42 again", 12000], ["under_score counts as one word", 13000], ["", 14000], ["café naïve", 15000], ["THE END", 16000], ["stream stream stream", 17000], ["a b c a b c", 18000], ["Quick quick QUICK", 19000], ["the last line of the corpus", 20000]]
const REFERENCE_OUTPUT: [string, number, number][] = [["the", 1, 1000], ["quick", 1, 1000], ["brown", 1, 1000], ["fox", 1, 1000], ["jumps", 1, 1000], ["over", 1, 1000], ["the", 2, 1000], ["lazy", 1, 1000], ["dog", 1, 1000], ["the", 3, 2000], ["dog", 2, 2000], ["barks", 1, 2000], ["the", 4, 2000], ["fox", 2, 2000], ["runs", 1, 2000], ["a", 1, 3000], ["stream", 1, 3000], ["is", 1, 3000], ["a", 2, 3000], ["table", 1, 3000], ["a", 3, 3000], ["table", 2, 3000], ["is", 2, 3000], ["a", 4, 3000], ["stream", 2, 3000], ["kafka", 1, 4000], ["streams", 1, 4000], ["counts", 1, 4000], ["words", 1, 4000], ["words", 2, 5000], ["words", 3, 5000], ["words", 4, 5000], ["the", 5, 6000], ["end", 1, 6000], ["of", 1, 6000], ["the", 6, 6000], ["stream", 3, 6000], ["is", 3, 6000], ["not", 1, 6000], ["the", 7, 6000], ["end", 2, 6000], ["hello", 1, 7000], ["kafka", 2, 7000], ["hello", 2, 8000], ["hello", 3, 8000], ["streams", 2, 8000], ["fox", 3, 9000], ["and", 1, 9000], ["dog", 3, 9000], ["and", 2, 9000], ["fox", 4, 9000], ["it", 1, 10000], ["s", 1, 10000], ["a", 5, 10000], ["dog", 4, 10000], ["s", 2, 10000], ["life", 1, 10000], ["leading", 1, 11000], ["spaces", 1, 11000], ["and", 3, 11000], ["trailing", 1, 11000], ["numbers", 1, 12000], ["42", 1, 12000], ["and", 4, 12000], ["42", 2, 12000], ["again", 1, 12000], ["under_score", 1, 13000], ["counts", 2, 13000], ["as", 1, 13000], ["one", 1, 13000], ["word", 1, 13000], ["caf", 1, 15000], ["na", 1, 15000], ["ve", 1, 15000], ["the", 8, 16000], ["end", 3, 16000], ["stream", 4, 17000], ["stream", 5, 17000], ["stream", 6, 17000], ["a", 6, 18000], ["b", 1, 18000], ["c", 1, 18000], ["a", 7, 18000], ["b", 2, 18000], ["c", 2, 18000], ["quick", 2, 19000], ["quick", 3, 19000], ["quick", 4, 19000], ["the", 9, 20000], ["last", 1, 20000], ["line", 1, 20000], ["of", 2, 20000], ["the", 10, 20000], ["corpus", 1, 20000]]


describe('kcli Streams against a kcli broker', () => {
  const env = useStreamsBroker()

  function config(appId: string, extra: Partial<StreamsConfig> = {}): StreamsConfig {
    const stateDir = env.stateDir()
    return {'application.id': appId, 'bootstrap.servers': env.broker.bootstrap, 'commit.interval.ms': 100, logger: quietLogger, 'state.dir': stateDir, 'statestore.cache.max.bytes': 0, ...extra}
  }

  async function createTopics(...topics: [string, number][]) {
    const results = await env.admin.createTopics(topics.map(([name, numPartitions]) => ({name, numPartitions, replicationFactor: 1})))
    for (const r of results) expect(r.error).toBe('NONE')
  }

  it('word count gives exact counts, continues after a restart from its checkpoint and after losing its state directory', async () => {
    await createTopics(['wc-in', 3], ['wc-out', 2])
    const first = corpus(400, 1)
    await produceLines(env.broker.bootstrap, 'wc-in', first)
    const cfg = config('wc-app')
    const states: string[] = []
    const app = new KafkaStreams(wordCountTopology('wc-in', 'wc-out'), cfg)
    app.setStateListener((next: StreamsState, old: StreamsState) => states.push(`${old}->${next}`))
    await app.start()
    const expected1 = expectedCounts(first)
    await pollUntil(() => readCounts(env.broker.bootstrap, 'wc-out'), (t) => sameCounts(t, expected1), 30_000, 'first counts')
    expect(app.queryStore<string, number>('KSTREAM-AGGREGATE-STATE-STORE-0000000003', 'fox')).toBe(expected1.get('fox'))
    await app.close()
    expect(states).toEqual(['CREATED->REBALANCING', 'REBALANCING->RUNNING', 'RUNNING->PENDING_SHUTDOWN', 'PENDING_SHUTDOWN->NOT_RUNNING'])

    // Internal topics are named as Kafka Streams names them, with its configs.
    const names = (await env.admin.listTopics()).topics.map((t) => t.name)
    expect(names).toContain('wc-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition')
    expect(names).toContain('wc-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog')
    const [changelogConfig] = await env.admin.describeConfigs([{name: 'wc-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog', type: 'topic'}])
    expect(changelogConfig!.configs.find((e) => e.name === 'cleanup.policy')!.value).toBe('compact')

    // A restart with the same state directory (restores from the checkpoint) keeps counting.
    const second = corpus(200, 2)
    await produceLines(env.broker.bootstrap, 'wc-in', second)
    // A checkpoint beyond the changelog's end (the topic was recreated, another cluster): that
    // store is wiped and restored from the changelog instead of trusted.
    const checkpoint = join(cfg['state.dir']!, 'wc-app', '1_0', '.checkpoint')
    expect(readFileSync(checkpoint, 'utf8')).toMatch(/^0\n1\nwc-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog 0 \d+\n$/)
    writeFileSync(checkpoint, '0\n1\nwc-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog 0 999999\n')
    const warnings: string[] = []
    const app2 = new KafkaStreams(wordCountTopology('wc-in', 'wc-out'), {...cfg, logger: {...quietLogger, warn: (m) => warnings.push(m)}})
    await app2.start()
    const expected2 = expectedCounts([...first, ...second])
    await pollUntil(() => readCounts(env.broker.bootstrap, 'wc-out'), (t) => sameCounts(t, expected2), 30_000, 'counts after restart')
    expect(warnings.filter((w) => w.includes('wiping the store'))).toEqual([
      expect.stringMatching(/^task 1_0: checkpointed offset 999999 of wc-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog-0 is outside \[0, \d+\]/),
    ])
    await app2.close()

    // A new state directory: the stores are restored from the changelog topic.
    const third = corpus(100, 3)
    await produceLines(env.broker.bootstrap, 'wc-in', third)
    const app3 = new KafkaStreams(wordCountTopology('wc-in', 'wc-out'), {...cfg, 'state.dir': env.stateDir()})
    await app3.start()
    const expected3 = expectedCounts([...first, ...second, ...third])
    await pollUntil(() => readCounts(env.broker.bootstrap, 'wc-out'), (t) => sameCounts(t, expected3), 30_000, 'counts after a restore from the changelog')
    await app3.close()
    // One output record per word occurrence (no record cache), all with exact running counts.
    const out = await readAll(env.broker.bootstrap, 'wc-out')
    expect(out.length).toBe([...expected3.values()].reduce((a, b) => a + b, 0))
  }, 120_000)

  it("gives Kafka Streams' 94 updates for its reference corpus: keys, counts, timestamps and order", async () => {
    await createTopics(['ref-in', 1], ['ref-out', 1])
    await produceRaw(env.broker.bootstrap, 'ref-in', REFERENCE_INPUT.map(([line, timestamp]) => ({key: null, timestamp, value: Buffer.from(line)})))
    const app = new KafkaStreams(wordCountTopology('ref-in', 'ref-out'), config('ref-app'))
    await app.start()
    const out = await pollUntil(() => readAll(env.broker.bootstrap, 'ref-out'), (r) => r.length >= REFERENCE_OUTPUT.length, 30_000, 'the reference updates')
    await app.close()
    expect(out.map((r) => [r.key!.toString(), Number(r.value!.readBigInt64BE(0)), r.timestamp])).toEqual(REFERENCE_OUTPUT)
  }, 60_000)

  it('a missing input topic is a clear error at start', async () => {
    const app = new KafkaStreams(wordCountTopology('no-such-input', 'x-out'), config('missing-app'))
    const started = app.start()
    await expect(started).rejects.toThrow('Missing source topics [no-such-input] for subtopology 0')
    await expect(started).rejects.toBeInstanceOf(MissingSourceTopicException)
    expect(app.state).toBe('ERROR')
    expect(app.error).toBeInstanceOf(MissingSourceTopicException)
  })

  it('commit.interval.ms: nothing is committed before the interval; close() commits and writes the checkpoints', async () => {
    await createTopics(['ci-in', 1], ['ci-out', 1])
    const lines = corpus(50, 3)
    await produceLines(env.broker.bootstrap, 'ci-in', lines)
    const cfg = config('ci-app', {'commit.interval.ms': 600_000})
    const app = new KafkaStreams(wordCountTopology('ci-in', 'ci-out'), cfg)
    await app.start()
    const expected = expectedCounts(lines)
    await pollUntil(() => readCounts(env.broker.bootstrap, 'ci-out'), (t) => sameCounts(t, expected), 30_000, 'the counts')
    expect(app.metrics()['commit-total']).toBe(0)
    expect((await env.admin.fetchOffsets('ci-app')).filter((o) => o.offset >= 0n)).toEqual([])
    expect(existsSync(join(cfg['state.dir']!, 'ci-app', '1_0', '.checkpoint'))).toBe(false)
    await app.close()
    expect(app.metrics()['commit-total']).toBe(1)
    const committed = (await env.admin.fetchOffsets('ci-app')).filter((o) => o.offset >= 0n).map((o) => [o.topic, o.partition, o.offset])
    expect(committed).toContainEqual(['ci-in', 0, BigInt(lines.length)])
    expect(readFileSync(join(cfg['state.dir']!, 'ci-app', '1_0', '.checkpoint'), 'utf8')).toMatch(/^0\n1\nci-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog 0 [1-9]\d*\n$/)
  })

  it('inputs of a stateful sub-topology with different partition counts are a clear error naming the topics', async () => {
    await createTopics(['cp-a', 2], ['cp-b', 3])
    const b = new StreamsBuilder()
    b.stream(['cp-a', 'cp-b'], {keySerde: Serdes.String(), valueSerde: Serdes.String()}).groupByKey().count().toStream().to('cp-out', {valueSerde: Serdes.Long()})
    const app = new KafkaStreams(b.build(), config('cp-app'))
    await expect(app.start()).rejects.toThrow('Invalid topology: Topics not co-partitioned: [{cp-a=2, cp-b=3}]')
  })

  it('a record the serde cannot read: LogAndContinue skips it and counts it dropped, LogAndFail stops the application', async () => {
    await createTopics(['de-in', 1], ['de-out-continue', 1], ['de-out-fail', 1])
    const long = (n: number) => {
      const b = Buffer.alloc(8)
      b.writeBigInt64BE(BigInt(n))
      return b
    }
    await produceRaw(env.broker.bootstrap, 'de-in', [
      {key: Buffer.from('a'), value: long(1)},
      {key: Buffer.from('b'), value: Buffer.from([1, 2, 3])},
      {key: Buffer.from('c'), value: long(3)},
    ])
    const topology = (out: string) => {
      const b = new StreamsBuilder()
      b.stream<string, number>('de-in', {keySerde: Serdes.String(), valueSerde: Serdes.Long()}).mapValues((v) => v * 10).to(out, {valueSerde: Serdes.Long()})
      return b.build()
    }
    const warnings: string[] = []
    const cont = new KafkaStreams(topology('de-out-continue'), config('de-continue', {'default.deserialization.exception.handler': 'LogAndContinueExceptionHandler', logger: {...quietLogger, warn: (m) => warnings.push(m)}}))
    await cont.start()
    const outC = await pollUntil(() => readAll(env.broker.bootstrap, 'de-out-continue'), (r) => r.length >= 2, 20_000, 'two outputs')
    expect(outC.map((r) => Number(r.value!.readBigInt64BE(0)))).toEqual([10, 30])
    expect(cont.metrics()['dropped-records-total']).toBe(1)
    expect(warnings.some((w) => w.startsWith('Exception caught during Deserialization, taskId: 0_0, topic: de-in, partition: 0, offset: 1'))).toBe(true)
    await cont.close()

    const fail = new KafkaStreams(topology('de-out-fail'), config('de-fail', {'default.key.serde': Serdes.String(), 'default.value.serde': Serdes.Long()}))
    const failed = new Promise<Error>((resolve) => fail.setUncaughtExceptionHandler(resolve))
    const failStates: string[] = []
    fail.setStateListener((next, old) => failStates.push(`${old}->${next}`))
    await fail.start()
    const error = await failed
    expect(error.message).toBe(
      'Deserialization exception handler is set to fail upon a deserialization error. If you would rather have the streaming pipeline continue after a deserialization error, please set the deserialization.exception.handler appropriately.',
    )
    expect((error.cause as Error).message).toBe('Size of data received by LongDeserializer is not 8')
    expect(fail.state).toBe('ERROR')
    expect(failStates.slice(-2)).toEqual(['RUNNING->PENDING_ERROR', 'PENDING_ERROR->ERROR'])
    expect(fail.error).toBe(error)
  }, 60_000)
})

function sameCounts(actual: Map<string, number>, expected: Map<string, number>): boolean {
  if (actual.size !== expected.size) return false
  for (const [k, v] of expected) if (actual.get(k) !== v) return false
  return true
}
