/**
 * Acceptance of issue 4 with confluent-kafka-python (Debian's python3-confluent-kafka, on
 * librdkafka 2.0): AdminClient create_topics / list_topics / describe_configs; Producer with
 * acks=all and enable.idempotence in every codec; Consumer with assign() reading everything back.
 * The scripts are test/e2e/python/broker_*.py, run with /usr/bin/python3.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {CompressionType} from '../../src/lib/records/batch.js'
import {startBroker, type TestBroker} from './harness.js'
import {advertisedApis, confluentPythonMissing, python, stopAllPeers, storedBatches} from './peers.js'

if (confluentPythonMissing) console.warn(`skipping the confluent-kafka-python tests: ${confluentPythonMissing}`)

const T = 45_000

interface ConfigEntry {
  value: string | null
  source: number
  isDefault: boolean
  isReadOnly: boolean
  isSensitive: boolean
}

interface AdminResult {
  create: string | null
  createAgain: string | null
  createInvalidName: string | null
  createBadConfig: string | null
  validateOnly: string | null
  brokers: Array<[number, string, number]>
  controllerId: number
  topics: Record<string, {error: string | null; partitions: Array<[number, number, number[], number[]]>}>
  [configs: `configs:${string}`]: Record<string, ConfigEntry>
}

interface PythonRecord {
  partition: number
  key: string | null
  value: string | null
  headers: Array<[string, string | null]>
  timestamp: number
}

interface ProduceConsumeResult {
  remaining: number
  produced: PythonRecord[]
  delivered: Array<{error: string | null; partition: number; offset: number; key: string | null}>
  consumed: Array<PythonRecord & {offset: number; timestampType: number}>
  partitionsAtEnd: number[]
  watermarks: Array<[number, number]>
  offsetForTime: [number, string | null]
}

const CODECS = [
  {name: 'none', type: CompressionType.None},
  {name: 'gzip', type: CompressionType.Gzip},
  {name: 'snappy', type: CompressionType.Snappy},
  {name: 'lz4', type: CompressionType.Lz4},
  {name: 'zstd', type: CompressionType.Zstd},
] as const

describe.skipIf(confluentPythonMissing !== null)(`confluent-kafka-python against kcli server start${confluentPythonMissing ? ` (skipped: ${confluentPythonMissing})` : ''}`, () => {
  let b: TestBroker
  let findCoordinatorAdvertised = false

  beforeAll(async () => {
    b = await startBroker()
    findCoordinatorAdvertised = (await advertisedApis(b.port)).has(ApiKey.FindCoordinator)
  })

  afterAll(async () => {
    stopAllPeers()
    await b?.stop()
  })

  it('AdminClient: create_topics (configs, validate_only, errors), list_topics, describe_configs of a topic and of the broker', async () => {
    const r = await python<AdminResult>('broker_admin.py', [b.bootstrap, 'py-admin'], T)
    expect(r.create).toBeNull()
    expect(r.createAgain).toBe('TOPIC_ALREADY_EXISTS')
    expect(r.createInvalidName).toBe('TOPIC_EXCEPTION') // librdkafka's name for INVALID_TOPIC_EXCEPTION (17)
    expect(r.createBadConfig).toBe('INVALID_CONFIG')
    expect(r.validateOnly).toBeNull()

    expect(r.brokers).toEqual([[1, '127.0.0.1', b.port]])
    expect(r.controllerId).toBe(1)
    expect(r.topics['py-admin']).toEqual({error: null, partitions: [0, 1, 2].map((p) => [p, 1, [1], [1]])})
    expect(r.topics['py-admin-validate-only']).toBeUndefined()
    expect(r.topics['py-admin-bad-config']).toBeUndefined()
    expect(r.topics['bad name!']).toBeUndefined()

    const topic = r['configs:topic:py-admin']
    expect(topic['retention.ms']).toEqual({value: '86400000', source: 1 /* DYNAMIC_TOPIC_CONFIG */, isDefault: false, isReadOnly: false, isSensitive: false})
    expect(topic['cleanup.policy']).toMatchObject({value: 'compact', source: 1, isDefault: false})
    expect(topic['segment.bytes']).toMatchObject({value: '1073741824', source: 5 /* DEFAULT_CONFIG */, isDefault: true})
    const broker = r['configs:broker:1']
    expect(broker['log.retention.hours']).toMatchObject({value: '168', isDefault: true})
    expect(broker['num.partitions']).toMatchObject({value: '1'})
    expect(Object.keys(broker).length).toBeGreaterThan(20)
  })

  it.for(CODECS)('Producer (acks=all, idempotence, compression.type=$name) with delivery reports; Consumer.assign() reads every record back', async ({name, type}) => {
    const topic = `py-produce-${name}`
    const partitions = 3
    const count = 240
    const r = await python<ProduceConsumeResult>('broker_produce_consume.py', [b.bootstrap, topic, String(partitions), String(count), name], T)

    expect(r.remaining).toBe(0)
    expect(r.delivered.filter((d) => d.error !== null)).toEqual([])
    expect(r.delivered).toHaveLength(count)
    expect(r.partitionsAtEnd).toEqual([0, 1, 2])
    for (let p = 0; p < partitions; p++) {
      const produced = r.produced.filter((m) => m.partition === p)
      const delivered = r.delivered.filter((d) => d.partition === p)
      const consumed = r.consumed.filter((m) => m.partition === p)
      // Delivery reports: offsets 0.. in the order produced (idempotence keeps the order).
      expect(delivered.map((d) => [d.offset, d.key])).toEqual(produced.map((m, i) => [i, m.key]))
      expect(consumed.map((m) => m.offset)).toEqual(produced.map((_, i) => i))
      expect(consumed.map(({partition, key, value, headers, timestamp}) => ({partition, key, value, headers, timestamp}))).toEqual(produced)
      expect(consumed.every((m) => m.timestampType === 1 /* CreateTime */)).toBe(true)
      expect(r.watermarks[p]).toEqual([0, produced.length])
    }
    // offsets_for_times on partition 0: its 4th record is the first at or after that time.
    expect(r.offsetForTime).toEqual([3, null])

    // Stored as sent (lz4: see the kcat test — librdkafka needs FindCoordinator to enable LZ4).
    const batches = await storedBatches(b.port, topic, 0)
    const expected = type === CompressionType.Lz4 && !findCoordinatorAdvertised ? CompressionType.None : type
    expect(new Set(batches.map((h) => h.compression))).toEqual(new Set([expected]))
    expect(batches.every((h) => h.producerId >= 0)).toBe(true)
  })
})
