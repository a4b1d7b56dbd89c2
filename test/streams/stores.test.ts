import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {KafkaStreams, Serdes, Stores, StreamsBuilder, type StreamsConfig, TimeWindows, TopologyException} from '../../src/streams/index.js'
import {pollUntil} from '../e2e/harness.js'
import {quietLogger, useStreamsBroker} from './fixture.js'
import {corpus, expectedCounts, produceLines, readAll, readCounts, wordCountTopology} from './support.js'

describe('kcli Streams in-memory stores', () => {
  const env = useStreamsBroker()
  // A producer's client (the fixture's admin client is not exposed).
  let client: KafkaClient
  beforeAll(() => {
    client = new KafkaClient({bootstrapServers: parseBootstrapServers(env.broker.bootstrap)})
  })
  afterAll(async () => {
    await client?.close()
  })

  function config(appId: string, extra: Partial<StreamsConfig> = {}): StreamsConfig {
    const stateDir = env.stateDir('kcli-streams-mem-')
    return {'application.id': appId, 'bootstrap.servers': env.broker.bootstrap, 'commit.interval.ms': 100, logger: quietLogger, 'state.dir': stateDir, 'statestore.cache.max.bytes': 0, ...extra}
  }

  it('a count in Stores.inMemoryKeyValueStore gives exact counts, is changelogged, and is restored from its changelog after a restart', async () => {
    const results = await env.admin.createTopics([{name: 'mem-in', numPartitions: 2, replicationFactor: 1}, {name: 'mem-out', numPartitions: 1, replicationFactor: 1}])
    for (const r of results) expect(r.error).toBe('NONE')
    const topology = () => wordCountTopology('mem-in', 'mem-out', {storeSupplier: Stores.inMemoryKeyValueStore('word-counts')})
    const first = corpus(300, 11)
    await produceLines(env.broker.bootstrap, 'mem-in', first)
    const cfg = config('mem-app')
    const app = new KafkaStreams(topology(), cfg)
    await app.start()
    const expected1 = expectedCounts(first)
    await pollUntil(() => readCounts(env.broker.bootstrap, 'mem-out'), (t) => sameCounts(t, expected1), 30_000, 'first counts')
    expect(app.queryStore<string, number>('word-counts', 'fox')).toBe(expected1.get('fox'))
    expect(app.metrics()['restore-total']).toBe(0)
    await app.close()
    // Changelogged as a persistent store, but nothing on disk and no checkpoint for it.
    const changelog = await readAll(env.broker.bootstrap, 'mem-app-word-counts-changelog')
    expect(changelog.length).toBeGreaterThan(0)
    for (const task of ['1_0', '1_1']) {
      expect(existsSync(join(cfg['state.dir']!, 'mem-app', task, 'lmdb', 'word-counts'))).toBe(false)
      const checkpoint = join(cfg['state.dir']!, 'mem-app', task, '.checkpoint')
      if (existsSync(checkpoint)) expect(readFileSync(checkpoint, 'utf8')).not.toContain('word-counts')
    }

    // Restarted with the same state directory: the counts come back from the changelog.
    const second = corpus(150, 12)
    await produceLines(env.broker.bootstrap, 'mem-in', second)
    const app2 = new KafkaStreams(topology(), cfg)
    await app2.start()
    const expected2 = expectedCounts([...first, ...second])
    await pollUntil(() => readCounts(env.broker.bootstrap, 'mem-out'), (t) => sameCounts(t, expected2), 30_000, 'counts after restart')
    // Every changelog record of the first run (compaction aside, all of them) was restored.
    expect(app2.metrics()['restore-total']).toBe(changelog.length)
    expect(app2.queryStore<string, number>('word-counts', 'fox')).toBe(expected2.get('fox'))
    await app2.close()
    // One output record per word occurrence, the running counts exact: 1, 2, ... n per word.
    const out = await readAll(env.broker.bootstrap, 'mem-out')
    const seen = new Map<string, number[]>()
    for (const r of out) seen.set(r.key!.toString(), [...(seen.get(r.key!.toString()) ?? []), Number(r.value!.readBigInt64BE(0))])
    for (const [word, n] of expected2) expect(seen.get(word)).toEqual(Array.from({length: n}, (_, i) => i + 1))
  }, 120_000)

  it('a windowed count in Stores.inMemoryWindowStore equals the same count in a persistent window store', async () => {
    const results = await env.admin.createTopics([{name: 'memw-in', numPartitions: 1, replicationFactor: 1}, {name: 'memw-out-mem', numPartitions: 1, replicationFactor: 1}, {name: 'memw-out-disk', numPartitions: 1, replicationFactor: 1}])
    for (const r of results) expect(r.error).toBe('NONE')
    const windowed = (out: string, supplier: ReturnType<typeof Stores.inMemoryWindowStore>) => {
      const builder = new StreamsBuilder()
      builder
        .stream<string, string>('memw-in', {keySerde: Serdes.String(), valueSerde: Serdes.String()})
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(1000, 500))
        .count({storeSupplier: supplier})
        .toStream()
        .map((k, v) => [`${k.key}@${k.window.start}`, v])
        .to(out, {keySerde: Serdes.String(), valueSerde: Serdes.Long()})
      return builder.build()
    }
    const lines = Array.from({length: 200}, (_, i) => `line ${i}`)
    // Keys k0..k4 and timestamps moving forward with some records late (some within grace, some beyond it).
    const {Producer} = await import('../../src/lib/client/producer.js')
    const producer = new Producer(client, {lingerMs: 5})
    lines.forEach((line, i) => producer.push({key: Buffer.from(`k${i % 5}`), timestamp: 1000 + i * 37 - (i % 7 === 0 ? 900 : 0), topic: 'memw-in', value: Buffer.from(line)}))
    await producer.close()
    const mem = new KafkaStreams(windowed('memw-out-mem', Stores.inMemoryWindowStore('w-mem', 86_400_000, 1000, false)), config('memw-app-mem'))
    const disk = new KafkaStreams(windowed('memw-out-disk', Stores.persistentWindowStore('w-disk', 86_400_000, 1000, false)), config('memw-app-disk'))
    await Promise.all([mem.start(), disk.start()])
    const read = async (topic: string) => (await readAll(env.broker.bootstrap, topic)).map((r) => `${r.key!.toString()}=${r.value!.readBigInt64BE(0)}`)
    await pollUntil(() => read('memw-out-disk'), (o) => o.length > 0 && mem.metrics()['process-total'] === lines.length && disk.metrics()['process-total'] === lines.length, 30_000, 'both processed')
    await Promise.all([mem.close(), disk.close()])
    const [a, b] = [await read('memw-out-mem'), await read('memw-out-disk')]
    expect(a.length).toBeGreaterThan(0)
    expect(a).toEqual(b)
  }, 120_000)

  it('record cache (statestore.cache.max.bytes): N updates of a key within a commit interval give one output and one changelog record with the final value; 0 gives N; a tiny cache evicts', async () => {
    const results = await env.admin.createTopics(['cache-in', 'cache-out-on', 'cache-out-off', 'cache-out-tiny', 'cache-out-eos'].map((name) => ({name, numPartitions: 1, replicationFactor: 1})))
    for (const r of results) expect(r.error).toBe('NONE')
    const N = 50
    // N records of one key and N of 20 others, all produced before the application starts: one commit interval of 10 minutes holds them all.
    const {Producer} = await import('../../src/lib/client/producer.js')
    const producer = new Producer(client, {lingerMs: 5})
    for (let i = 0; i < N; i++) producer.push({key: Buffer.from('hot'), timestamp: 1000 + i, topic: 'cache-in', value: Buffer.from(`v${i}`)})
    for (let i = 0; i < N; i++) producer.push({key: Buffer.from(`k${i % 20}`), timestamp: 2000 + i, topic: 'cache-in', value: Buffer.from(`w${i}`)})
    await producer.close()
    const counting = (out: string, store: string) => {
      const builder = new StreamsBuilder()
      builder.stream<string, string>('cache-in', {keySerde: Serdes.String(), valueSerde: Serdes.String()}).groupByKey().count({storeName: store}).toStream().to(out, {keySerde: Serdes.String(), valueSerde: Serdes.Long()})
      return builder.build()
    }
    const run = async (appId: string, out: string, cacheBytes: number, extra: Partial<StreamsConfig> = {}) => {
      const app = new KafkaStreams(counting(out, 'counts'), config(appId, {'commit.interval.ms': 600_000, 'statestore.cache.max.bytes': cacheBytes, ...extra}))
      await app.start()
      await pollUntil(async () => app.metrics()['process-total'], (n) => n >= 2 * N, 30_000, `${appId} processed`)
      await app.close() // commits: the cache is flushed
      const isolation = extra['processing.guarantee'] === 'exactly_once_v2' ? 1 : 0
      const records = (await readAll(env.broker.bootstrap, out, isolation)).map((r) => [r.key!.toString(), Number(r.value!.readBigInt64BE(0))] as [string, number])
      const changelog = await readAll(env.broker.bootstrap, `${appId}-counts-changelog`, isolation)
      return {changelog, records}
    }
    const on = await run('cache-on', 'cache-out-on', 10_485_760)
    const off = await run('cache-off', 'cache-out-off', 0)
    // 21 keys (hot and k0..k19): one output and one changelog record each, the final count.
    expect(on.records.filter(([k]) => k === 'hot')).toEqual([['hot', N]])
    expect(on.records.length).toBe(21)
    expect(on.changelog.length).toBe(21)
    expect(off.records.filter(([k]) => k === 'hot')).toEqual(Array.from({length: N}, (_, i) => ['hot', i + 1]))
    expect(off.records.length).toBe(2 * N)
    expect(off.changelog.length).toBe(2 * N)
    const final = (records: [string, number][]) => new Map(records)
    expect(final(on.records)).toEqual(final(off.records))
    // A cache smaller than a few entries evicts (forwarding and logging) the least recently updated keys: more outputs, same final counts.
    const tiny = await run('cache-tiny', 'cache-out-tiny', 40)
    expect(tiny.records.length).toBeGreaterThan(21)
    expect(tiny.records.length).toBeLessThan(2 * N)
    expect(tiny.records.filter(([k]) => k === 'hot')).toEqual([['hot', N]])
    expect(final(tiny.records)).toEqual(final(off.records))
    // exactly_once_v2: the flushed entries are in the commit's transaction (read_committed sees them).
    const eos = await run('cache-eos', 'cache-out-eos', 10_485_760, {'processing.guarantee': 'exactly_once_v2'})
    expect(eos.records.length).toBe(21)
    expect(final(eos.records)).toEqual(final(off.records))
  }, 120_000)

  it('a store supplier of the wrong kind is a topology error', () => {
    const builder = new StreamsBuilder()
    const grouped = builder.stream<string, string>('x', {keySerde: Serdes.String(), valueSerde: Serdes.String()}).groupByKey()
    expect(() => grouped.count({storeSupplier: Stores.inMemoryWindowStore('w', 1000, 100, false)})).toThrow(TopologyException)
    expect(() => grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(100)).count({storeSupplier: Stores.inMemoryKeyValueStore('kv')})).toThrow(/needs a window store/)
  })
})

function sameCounts(actual: Map<string, number>, expected: Map<string, number>): boolean {
  if (actual.size !== expected.size) return false
  for (const [k, v] of expected) if (actual.get(k) !== v) return false
  return true
}
