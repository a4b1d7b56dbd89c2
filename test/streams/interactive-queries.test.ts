import {describe, expect, it} from 'vitest'
import {InvalidStateStoreException, KafkaStreams, Serdes, type StreamsState} from '../../src/streams/index.js'
import {pollUntil} from '../e2e/harness.js'
import {quietLogger, useStreamsBroker} from './fixture.js'
import {corpus, expectedCounts, produceLines, readCounts, wordCountTopology} from './support.js'

const STORE = 'KSTREAM-AGGREGATE-STATE-STORE-0000000003'

describe('kcli Streams: two instances in one group, interactive queries, state listener', () => {
  const env = useStreamsBroker()

  function instance(port: number, states: string[]): KafkaStreams {
    const dir = env.stateDir('kcli-streams-iq-')
    const app = new KafkaStreams(wordCountTopology('iq-in', 'iq-out'), {
      'application.id': 'iq-app',
      'application.server': `localhost:${port}`,
      'bootstrap.servers': env.broker.bootstrap,
      'commit.interval.ms': 100,
      'heartbeat.interval.ms': 500,
      logger: quietLogger,
      'state.dir': dir,
    })
    app.setStateListener((next: StreamsState, old: StreamsState) => states.push(`${old}->${next}`))
    return app
  }

  it('queryMetadataForKey names the instance whose store(name) holds the key; close() goes through PENDING_SHUTDOWN to NOT_RUNNING', async () => {
    const created = await env.admin.createTopics([
      {name: 'iq-in', numPartitions: 4, replicationFactor: 1},
      {name: 'iq-out', numPartitions: 1, replicationFactor: 1},
    ])
    expect(created.map((r) => r.error)).toEqual(['NONE', 'NONE'])
    const lines = corpus(500, 5)
    await produceLines(env.broker.bootstrap, 'iq-in', lines)
    const statesA: string[] = []
    const statesB: string[] = []
    const a = instance(7001, statesA)
    const b = instance(7002, statesB)
    expect(() => a.store(STORE)).toThrow(InvalidStateStoreException)
    expect(() => a.store(STORE)).toThrow('KafkaStreams is not running. State is CREATED.')
    await a.start()
    await b.start()
    try {
      await pollUntil(
        async () => [a, b].map((x) => ({state: x.state, tasks: x.localTasks().active})),
        ([x, y]) => x!.state === 'RUNNING' && y!.state === 'RUNNING' && x!.tasks.length === 4 && y!.tasks.length === 4,
        30_000,
        'both instances RUNNING with 4 tasks each',
      )
      const expected = expectedCounts(lines)
      const sameCounts = (t: Map<string, number>) => t.size === expected.size && [...expected].every(([w, n]) => t.get(w) === n)
      await pollUntil(() => readCounts(env.broker.bootstrap, 'iq-out'), sameCounts, 30_000, 'the counts')
      // Both instances name the same holder for every word, and only the holder's store has it.
      const byPort = new Map([[7001, a], [7002, b]])
      const holders = new Set<number>()
      for (const [word, count] of expected) {
        const md = a.queryMetadataForKey(STORE, word, Serdes.String())
        expect(b.queryMetadataForKey(STORE, word, Serdes.String())).toEqual(md)
        expect(md.activeHost.host).toBe('localhost')
        holders.add(md.activeHost.port)
        const holder = byPort.get(md.activeHost.port)!
        const other = holder === a ? b : a
        expect(holder.store<string, number>(STORE).get(word), word).toBe(count)
        expect(other.store<string, number>(STORE).get(word)).toBeUndefined()
        expect(holder.localTasks().active).toContain(`1_${md.partition}`)
      }
      expect([...holders].sort()).toEqual([7001, 7002])
      const all = new Map([...a.store<string, number>(STORE).all(), ...b.store<string, number>(STORE).all()].map((r) => [r.key, r.value]))
      expect(all).toEqual(expected)
      expect(a.store(STORE).approximateNumEntries() + b.store(STORE).approximateNumEntries()).toBe(expected.size)
      expect(() => a.store('no-such-store')).toThrow('Cannot get state store no-such-store because no such store is registered in the topology.')
    } finally {
      await a.close()
      await b.close()
    }
    expect(statesA[0]).toBe('CREATED->REBALANCING')
    expect(statesA).toContain('REBALANCING->RUNNING')
    expect(statesA.slice(-2)).toEqual(['RUNNING->PENDING_SHUTDOWN', 'PENDING_SHUTDOWN->NOT_RUNNING'])
    expect(statesB.slice(-2)).toEqual(['RUNNING->PENDING_SHUTDOWN', 'PENDING_SHUTDOWN->NOT_RUNNING'])
    expect(() => a.store(STORE)).toThrow('KafkaStreams is not running. State is NOT_RUNNING.')
  }, 90_000)
})
