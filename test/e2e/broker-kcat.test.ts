/**
 * Acceptance of issue 4 with kcat (Debian's kcat 1.7 on librdkafka 2.0): -L; -P with each codec
 * and with enable.idempotence=true; -C from the beginning, from an offset, from a timestamp and to
 * the end; binary values byte for byte. Against an in-process broker on an ephemeral port.
 */
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {CompressionType} from '../../src/lib/records/batch.js'
import {removeDir, startBroker, tempDir, type TestBroker} from './harness.js'
import {advertisedApis, exitedWithOutput, KCAT, KCAT_BINARY_FORMAT, kcat, kcatMissing, parseKcatBinary, sleep, startPeer, stopAllPeers, storedBatches} from './peers.js'

if (kcatMissing) console.warn(`skipping the kcat tests: ${kcatMissing}`)

const CODECS = [
  {name: 'none', type: CompressionType.None},
  {name: 'gzip', type: CompressionType.Gzip},
  {name: 'snappy', type: CompressionType.Snappy},
  {name: 'lz4', type: CompressionType.Lz4},
  {name: 'zstd', type: CompressionType.Zstd},
] as const

const T = 30_000

describe.skipIf(kcatMissing !== null)(`kcat against kcli server start${kcatMissing ? ` (skipped: ${kcatMissing})` : ''}`, () => {
  let b: TestBroker
  let files: string
  let findCoordinatorAdvertised = false
  const kafka = () => new Kafka({brokers: [b.bootstrap], clientId: 'kcli-e2e-admin', logLevel: logLevel.NOTHING})

  beforeAll(async () => {
    b = await startBroker()
    files = tempDir('kcli-e2e-kcat-')
    findCoordinatorAdvertised = (await advertisedApis(b.port)).has(ApiKey.FindCoordinator)
  })

  afterAll(async () => {
    stopAllPeers()
    await b?.stop()
    if (files) removeDir(files)
  })

  it('-L (and -L -J) lists the broker and every topic with its partitions, leader and replicas', async () => {
    const admin = kafka().admin()
    await admin.connect()
    try {
      await admin.createTopics({topics: [{topic: 'kcat-listed', numPartitions: 3}]})
    } finally {
      await admin.disconnect()
    }
    const text = (await kcat(['-b', b.bootstrap, '-L'], {timeoutMs: T})).stdout.toString()
    expect(text).toContain(`broker 1 at 127.0.0.1:${b.port} (controller)`)
    expect(text).toContain('topic "kcat-listed" with 3 partitions:')
    const json = JSON.parse((await kcat(['-b', b.bootstrap, '-L', '-J'], {timeoutMs: T})).stdout.toString()) as {
      controllerid: number
      brokers: Array<{id: number; name: string}>
      topics: Array<{topic: string; error?: string; partitions: Array<{partition: number; leader: number; replicas: Array<{id: number}>; isrs: Array<{id: number}>}>}>
    }
    expect(json.controllerid).toBe(1)
    expect(json.brokers).toEqual([{id: 1, name: `127.0.0.1:${b.port}`}])
    const listed = json.topics.find((t) => t.topic === 'kcat-listed')!
    expect(listed.error).toBeUndefined()
    expect(listed.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isrs])).toEqual([0, 1, 2].map((i) => [i, 1, [{id: 1}], [{id: 1}]]))
  })

  it.for(CODECS)('-P -z $name with enable.idempotence=true: batches stored as kcat sent them, -C reads every key and value back in order', async ({name, type}, ctx) => {
    const topic = `kcat-codec-${name}`
    const count = 500
    const lines = Array.from({length: count}, (_, i) => `key-${i}:value-${i}-${name}-${'x'.repeat(i % 50)}`)
    const produced = await kcat(
      ['-b', b.bootstrap, '-P', '-t', topic, '-p', '0', '-K', ':', '-z', name, '-X', 'enable.idempotence=true', '-X', 'linger.ms=20'],
      {input: `${lines.join('\n')}\n`, timeoutMs: T},
    )
    expect(produced.stderr).not.toMatch(/fail|error/i)

    const records = parseKcatBinary((await kcat(['-b', b.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', KCAT_BINARY_FORMAT], {timeoutMs: T})).stdout)
    expect(records.map((r) => r.offset)).toEqual(lines.map((_, i) => i))
    expect(records.map((r) => `${r.key?.toString()}:${r.value?.toString()}`)).toEqual(lines)

    // Stored as sent: every batch in the codec kcat used, idempotent (producer id, contiguous sequences).
    const batches = await storedBatches(b.port, topic, 0)
    expect(batches.length).toBeGreaterThan(0)
    expect(batches.length).toBeLessThan(count) // linger.ms made multi-record batches
    // librdkafka enables its LZ4 feature only when the broker advertises FindCoordinator (an API
    // that shipped with LZ4 in Kafka 0.8.2, rdkafka_feature.c); without it, -z lz4 is sent
    // uncompressed ("Broker does not support compression type lz4: not compressing batch").
    const lz4Disabled = type === CompressionType.Lz4 && !findCoordinatorAdvertised
    if (lz4Disabled) await ctx.annotate('FindCoordinator is not advertised yet, so librdkafka sends -z lz4 uncompressed')
    expect(new Set(batches.map((h) => h.compression))).toEqual(new Set([lz4Disabled ? CompressionType.None : type]))
    expect(new Set(batches.map((h) => h.producerId)).size).toBe(1)
    expect(batches[0]!.producerId).toBeGreaterThanOrEqual(0)
    let sequence = 0
    for (const h of batches) {
      expect(h.baseSequence).toBe(sequence)
      expect(h.baseOffset).toBe(sequence)
      sequence += h.recordCount
    }
    expect(sequence).toBe(count)
  })

  it.each(CODECS.filter((c) => c.name !== 'none'))('a topic with compression.type=$name recompresses what kcat -P sends uncompressed; kcat -C decompresses it', async ({name, type}) => {
    const topic = `kcat-recompress-${name}`
    const admin = kafka().admin()
    await admin.connect()
    try {
      expect(await admin.createTopics({topics: [{topic, numPartitions: 1, configEntries: [{name: 'compression.type', value: name}]}]})).toBe(true)
    } finally {
      await admin.disconnect()
    }
    const lines = Array.from({length: 300}, (_, i) => `k${i}:recompressed ${name} record ${i} ${'y'.repeat(i % 40)}`)
    await kcat(['-b', b.bootstrap, '-P', '-t', topic, '-p', '0', '-K', ':', '-z', 'none', '-X', 'linger.ms=20'], {input: `${lines.join('\n')}\n`, timeoutMs: T})
    const batches = await storedBatches(b.port, topic, 0)
    expect(new Set(batches.map((h) => h.compression))).toEqual(new Set([type]))
    const records = parseKcatBinary((await kcat(['-b', b.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', KCAT_BINARY_FORMAT], {timeoutMs: T})).stdout)
    expect(records.map((r) => `${r.key?.toString()}:${r.value?.toString()}`)).toEqual(lines)
    expect(records.map((r) => r.offset)).toEqual(lines.map((_, i) => i))
  })

  it('-C from the beginning, from an offset (-o N), from the end (-o -N), from a timestamp (-o s@ms), each to the end (-e)', async () => {
    const topic = 'kcat-offsets'
    // Three kcat runs, so the three groups of records have clearly separate timestamps.
    const groups = [0, 1, 2].map((g) => Array.from({length: 10}, (_, i) => `g${g}-r${i}`))
    for (const group of groups) {
      await kcat(['-b', b.bootstrap, '-P', '-t', topic, '-p', '0', '-X', 'linger.ms=0'], {input: `${group.join('\n')}\n`, timeoutMs: T})
      await sleep(20)
    }
    const all = groups.flat()
    const consume = async (...args: string[]) => {
      const result = await kcat(['-b', b.bootstrap, '-C', '-t', topic, '-p', '0', '-e', '-f', '%o\t%T\t%s\n', ...args], {timeoutMs: T})
      expect(result.stderr).toContain(`Reached end of topic ${topic} [0] at offset ${all.length}`)
      return result.stdout
        .toString()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [offset, timestamp, value] = l.split('\t')
          return {offset: Number(offset), timestamp: Number(timestamp), value}
        })
    }

    const fromBeginning = await consume('-o', 'beginning')
    expect(fromBeginning.map((r) => r.value)).toEqual(all)
    expect(fromBeginning.map((r) => r.offset)).toEqual(all.map((_, i) => i))

    expect((await consume('-o', '17')).map((r) => r.offset)).toEqual(Array.from({length: 13}, (_, i) => 17 + i))
    expect((await consume('-o', '-4')).map((r) => r.value)).toEqual(all.slice(-4))
    expect(await consume('-o', 'end')).toEqual([])

    const secondGroupStart = fromBeginning[10]!.timestamp
    expect(secondGroupStart).toBeGreaterThan(fromBeginning[9]!.timestamp)
    expect((await consume('-o', `s@${secondGroupStart}`)).map((r) => r.value)).toEqual(all.slice(10))
    expect((await consume('-o', `s@${secondGroupStart - 1}`)).map((r) => r.value)).toEqual(all.slice(10))
    const lastTimestamp = fromBeginning.at(-1)!.timestamp
    expect((await consume('-o', `s@${lastTimestamp}`))[0]!.timestamp).toBe(lastTimestamp)
    // Past every record: librdkafka is told "no such offset" and starts at the end.
    expect(await consume('-o', `s@${lastTimestamp + 60_000}`)).toEqual([])
  })

  it('-C waiting at the end (long poll, fetch.wait.max.ms=10000) gets a record produced later at once', async () => {
    const topic = 'kcat-long-poll'
    await kcat(['-b', b.bootstrap, '-P', '-t', topic, '-p', '0'], {input: 'first\n', timeoutMs: T})
    const consumer = startPeer(KCAT, ['-b', b.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'end', '-c', '1', '-X', 'fetch.wait.max.ms=10000', '-f', '%s\n'])
    let out = ''
    consumer.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    const exited = exitedWithOutput(consumer)
    await sleep(1_500) // kcat has connected and is waiting in a Fetch
    const producedAt = Date.now()
    await kcat(['-b', b.bootstrap, '-P', '-t', topic, '-p', '0'], {input: 'second\n', timeoutMs: T})
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([exited, new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still waiting'), 8_000)))])
    clearTimeout(timer)
    expect(code).toBe(0)
    expect(out).toBe('second\n')
    // Woken by the append, not by the 10 s max wait.
    expect(Date.now() - producedAt).toBeLessThan(3_000)
  })

  it.each(['none', 'zstd'])('binary values (one file per message, every byte value, up to 500 KB) come back byte for byte, -z %s', async (codec) => {
    const topic = `kcat-binary-${codec}`
    const values = [
      Buffer.from(Array.from({length: 256}, (_, i) => i)),
      Buffer.from('\n\r\0:\t %s %o\n\n'),
      ...[1, 2, 255, 4096, 65_537, 500_000].map((n) => randomBytes(n)),
    ]
    const paths = values.map((v, i) => {
      const path = join(files, `${codec}-${i}.bin`)
      writeFileSync(path, v)
      return path
    })
    await kcat(['-b', b.bootstrap, '-P', '-t', topic, '-p', '0', '-z', codec, ...paths], {timeoutMs: T})
    const records = parseKcatBinary((await kcat(['-b', b.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', KCAT_BINARY_FORMAT], {timeoutMs: T})).stdout)
    expect(records.map((r) => r.offset)).toEqual(values.map((_, i) => i))
    expect(records.map((r) => r.key)).toEqual(values.map(() => null))
    for (const [i, v] of values.entries()) expect(records[i]!.value!.equals(v), `value ${i} (${v.length} bytes)`).toBe(true)
  })
})
