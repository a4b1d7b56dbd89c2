/**
 * Acceptance of issue 4, bad input: garbage frames, a size prefix of 2^31-1, negative sizes,
 * unknown API keys, unsupported versions, frames cut mid-way, 10,000 connections opened and
 * dropped — against a real `kcli server start` process. Throughout, a well-behaved client on its
 * own connection keeps getting correct Metadata and Produce answers, and the broker's memory
 * (VmRSS, sampled every 100 ms) and open file descriptors stay bounded.
 */
import {connect} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {encodeRequest} from '../../src/lib/protocol/index.js'
import {ZERO_UUID} from '../../src/lib/protocol/uuid.js'
import {buildRecordBatch, decodeRecordBatches} from '../../src/lib/records/record.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir} from './harness.js'
import {processFootprint, RawClient, sleep} from './peers.js'

const MiB = 1024 * 1024
const STEADY_TOPIC = 'steady'

/** A small deterministic PRNG (mulberry32), so a failing garbage frame can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function sized(body: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

/** A request header v1 (api key, version, correlation id, client id) followed by `body`. */
function rawRequest(apiKey: number, apiVersion: number, body: Buffer = Buffer.alloc(0), correlationId = 7): Buffer {
  const header = Buffer.alloc(10)
  header.writeInt16BE(apiKey, 0)
  header.writeInt16BE(apiVersion, 2)
  header.writeInt32BE(correlationId, 4)
  header.writeInt16BE(-1, 8) // null client id
  return sized(Buffer.concat([header, body]))
}

type Outcome = 'closed' | 'answered' | 'silent'

/** Sends `bytes` on a fresh connection; what the broker did within `waitMs`. */
async function probe(port: number, bytes: Buffer, waitMs: number): Promise<Outcome> {
  const client = await RawClient.connect(port)
  try {
    const answer = client.nextFrame(waitMs).then(
      () => 'answered' as const,
      () => (client.isClosed ? ('closed' as const) : ('silent' as const)),
    )
    client.sendBytes(bytes)
    return await answer
  } finally {
    client.close()
  }
}

/** Runs `count` tasks, at most `concurrency` at a time. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({length: Math.min(concurrency, count)}, worker))
}

/**
 * The well-behaved client: one connection, Metadata v12 then Produce v9 (acks=1) of one record,
 * over and over; every answer is checked (no error, the next offset in sequence).
 */
class SteadyClient {
  rounds = 0
  failures: string[] = []
  private stopped = false
  private loop?: Promise<void>

  constructor(private readonly client: RawClient, private readonly port: number) {}

  start(): void {
    this.loop = this.run()
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + 170_000
    while (!this.stopped && Date.now() < deadline && this.failures.length === 0) {
      try {
        const metadata = await this.client.request(ApiKey.Metadata, 12, {topics: [{name: STEADY_TOPIC, topicId: ZERO_UUID}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
        const topic = metadata.topics[0]
        if (metadata.brokers.length !== 1 || metadata.brokers[0]!.port !== this.port || topic?.errorCode !== 0 || topic.partitions.length !== 1) {
          throw new Error(`bad Metadata answer: ${JSON.stringify({brokers: metadata.brokers, topic})}`)
        }
        const records = await buildRecordBatch({records: [{value: Buffer.from(`steady-${this.rounds}`)}]})
        const produced = await this.client.request(ApiKey.Produce, 9, {transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{name: STEADY_TOPIC, partitionData: [{index: 0, records}]}]})
        const p = produced.responses[0]?.partitionResponses[0]
        if (p?.errorCode !== 0 || p.baseOffset !== BigInt(this.rounds)) throw new Error(`bad Produce answer in round ${this.rounds}: ${JSON.stringify(p, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`)
        this.rounds++
      } catch (error) {
        this.failures.push(`round ${this.rounds}: ${(error as Error).message}`)
      }
      await sleep(5)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
  }
}

describe('bad input against a kcli server start process', () => {
  let dataDir: string
  let proc: BrokerProcess
  let steady: SteadyClient
  let steadyConnection: RawClient
  let baseline: {rssBytes: number; fds: number; sockets: number}
  let peakRss = 0
  let sampler: NodeJS.Timeout | undefined
  const figures: Record<string, string | number> = {}
  let brokerStderr = ''

  const assertServing = async () => {
    // Still up, and a new connection gets correct answers too.
    expect(proc.child.exitCode, `the broker exited; its stderr:\n${brokerStderr.slice(-4000)}`).toBeNull()
    expect(proc.child.signalCode).toBeNull()
    const fresh = await RawClient.connect(proc.port)
    try {
      const versions = await fresh.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'e2e', clientSoftwareVersion: '1'})
      expect(versions.errorCode).toBe(0)
    } finally {
      fresh.close()
    }
    expect(steady.failures).toEqual([])
  }

  beforeAll(async () => {
    dataDir = tempDir('kcli-e2e-bad-input-')
    proc = await spawnBroker(dataDir)
    proc.child.stderr!.on('data', (d: Buffer) => (brokerStderr += d.toString()))
    steadyConnection = await RawClient.connect(proc.port)
    const created = await steadyConnection.request(ApiKey.Metadata, 12, {topics: [{name: STEADY_TOPIC, topicId: ZERO_UUID}], allowAutoTopicCreation: true})
    expect(created.topics[0]!.errorCode).toBe(0)
    steady = new SteadyClient(steadyConnection, proc.port)
    steady.start()
    await sleep(1_000) // warm up before the baseline
    baseline = processFootprint(proc.child.pid!)
    peakRss = baseline.rssBytes
    sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, processFootprint(proc.child.pid!).rssBytes)
      } catch {
        // the process is gone; the tests say so
      }
    }, 100)
  }, 60_000)

  afterAll(async () => {
    clearInterval(sampler)
    await steady?.stop()
    steadyConnection?.close()
    if (Object.keys(figures).length > 0) console.log(`bad-input figures: ${JSON.stringify(figures)}`)
    await proc?.kill('SIGKILL')
    if (dataDir) removeDir(dataDir)
  })

  it('a size prefix of 2^31-1 closes the connection at once (nothing allocated for it)', async () => {
    for (const extra of [Buffer.alloc(0), Buffer.from('abcdef')]) {
      const c = await RawClient.connect(proc.port)
      const size = Buffer.alloc(4)
      size.writeInt32BE(0x7fffffff)
      c.sendBytes(Buffer.concat([size, extra]))
      expect(await c.closedWithin(3_000)).toBe(true)
    }
    // Just above socket.request.max.bytes (100 MiB) as well.
    const c = await RawClient.connect(proc.port)
    const size = Buffer.alloc(4)
    size.writeInt32BE(104_857_601)
    c.sendBytes(size)
    expect(await c.closedWithin(3_000)).toBe(true)
    await assertServing()
  })

  it('negative sizes close the connection', async () => {
    for (const n of [-1, -2, -100, -(2 ** 31)]) {
      const c = await RawClient.connect(proc.port)
      const size = Buffer.alloc(4)
      size.writeInt32BE(n)
      c.sendBytes(Buffer.concat([size, Buffer.from('payload')]))
      expect(await c.closedWithin(3_000), `size ${n}`).toBe(true)
    }
    await assertServing()
  })

  it('frames too short for a request header (0, 1, 3, 7, 9 bytes) close the connection', async () => {
    for (const n of [0, 1, 3, 7, 9]) {
      expect(await probe(proc.port, sized(Buffer.alloc(n, 0)), 3_000), `${n}-byte frame`).toBe('closed')
    }
    await assertServing()
  })

  it('unknown API keys (9999, -1, 32767) and Kafka APIs kcli does not serve close the connection', async () => {
    for (const apiKey of [9999, -1, 32767, ApiKey.ControlledShutdown, ApiKey.Vote]) {
      expect(await probe(proc.port, rawRequest(apiKey, 0), 3_000), `api key ${apiKey}`).toBe('closed')
    }
    await assertServing()
  })

  it('ApiVersions v99 (and v5) is answered in v0 with UNSUPPORTED_VERSION (35) and the supported ranges; the connection stays usable', async () => {
    for (const version of [99, 5, 32767]) {
      const c = await RawClient.connect(proc.port)
      try {
        const frame = c.nextFrame(5_000)
        c.sendBytes(rawRequest(ApiKey.ApiVersions, version, Buffer.alloc(0), 4242))
        const response = await frame
        // Response header v0 (correlation id), then ApiVersionsResponse v0: error code, [api key, min, max].
        expect(response.readInt32BE(0)).toBe(4242)
        expect(response.readInt16BE(4)).toBe(ErrorCode.UNSUPPORTED_VERSION)
        const count = response.readInt32BE(6)
        expect(response.length).toBe(10 + count * 6)
        const ranges = new Map(Array.from({length: count}, (_, i) => [response.readInt16BE(10 + i * 6), [response.readInt16BE(12 + i * 6), response.readInt16BE(14 + i * 6)]]))
        // Kafka keeps the connection open: the client retries at a version it shares, and gets the same ranges.
        const retried = await c.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'e2e', clientSoftwareVersion: '1'})
        expect(retried.errorCode).toBe(0)
        expect(ranges).toEqual(new Map(retried.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]])))
        expect(ranges.get(ApiKey.ApiVersions)).toEqual([0, 4])
      } finally {
        c.close()
      }
    }
    await assertServing()
  })

  it('Metadata v99 and v14, Fetch v3 and Produce v2 (advertised from v0 but refused, as Kafka 4.0) close the connection', async () => {
    for (const [apiKey, version] of [[ApiKey.Metadata, 99], [ApiKey.Metadata, 14], [ApiKey.Fetch, 3], [ApiKey.Produce, 2], [ApiKey.ListOffsets, 0]] as const) {
      expect(await probe(proc.port, rawRequest(apiKey, version, Buffer.alloc(32)), 3_000), `api ${apiKey} v${version}`).toBe('closed')
    }
    await assertServing()
  })

  it('a good request pipelined before a bad one is answered, then the connection is closed', async () => {
    const c = await RawClient.connect(proc.port)
    const first = c.nextFrame(5_000)
    const second = c.nextFrame(5_000)
    c.sendBytes(Buffer.concat([...encodeRequest(ApiKey.ApiVersions, 3, 1, 'e2e', {clientSoftwareName: 'e2e', clientSoftwareVersion: '1'}), rawRequest(9999, 0)]))
    expect((await first).readInt32BE(0)).toBe(1)
    await expect(second).rejects.toThrow(/closed/)
    expect(await c.closedWithin(3_000)).toBe(true)
    await assertServing()
  })

  it('frames cut mid-way, then the socket closed (in the size prefix, in the header, in the body)', async () => {
    const whole = Buffer.concat(encodeRequest(ApiKey.Metadata, 12, 1, 'e2e', {topics: null}))
    for (const cut of [1, 2, 3, 4, 6, 9, 14, whole.length - 1]) {
      for (let i = 0; i < 20; i++) {
        const socket = connect({host: '127.0.0.1', port: proc.port})
        await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
        socket.end(whole.subarray(0, cut))
        await new Promise<void>((resolve) => socket.once('close', () => resolve()).resume())
      }
    }
    // A declared 50 MiB frame of which only a little arrives before the client goes away.
    const big = Buffer.alloc(4)
    big.writeInt32BE(50 * MiB)
    for (let i = 0; i < 20; i++) {
      const socket = connect({host: '127.0.0.1', port: proc.port})
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
      socket.end(Buffer.concat([big, Buffer.alloc(64 * 1024, 1)]))
      await new Promise<void>((resolve) => socket.once('close', () => resolve()).resume())
    }
    await assertServing()
  })

  it('garbage frames: random bytes, valid headers of every advertised API with random bodies, and valid requests with random mutations', async () => {
    // KCLI_E2E_FUZZ_SEED and KCLI_E2E_FUZZ_SCALE (a multiplier of the frame counts) for longer hunts.
    const seed = Number(process.env.KCLI_E2E_FUZZ_SEED ?? 20_260_421)
    const scale = Math.max(1, Math.min(100, Number(process.env.KCLI_E2E_FUZZ_SCALE ?? 1)))
    const random = prng(seed)
    const int = (n: number) => Math.floor(random() * n)
    const bytes = (n: number) => Buffer.from(Array.from({length: n}, () => int(256)))
    const frames: Array<{kind: string; frame: Buffer}> = []
    // 1. Random bytes behind a correct size prefix.
    for (let i = 0; i < 300 * scale; i++) frames.push({kind: 'random', frame: sized(bytes(1 + int(300)))})
    // 2. Every advertised API at a random advertised version, with a random body: the decoder
    //    meets random lengths, counts and varints.
    const versions = await steadyConnection.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'e2e', clientSoftwareVersion: '1'})
    for (let i = 0; i < 600 * scale; i++) {
      const api = versions.apiKeys[i % versions.apiKeys.length]!
      frames.push({kind: 'random body', frame: rawRequest(api.apiKey, api.minVersion + int(api.maxVersion - api.minVersion + 1), bytes(int(200)), i)})
    }
    // 3. Valid requests (never naming the steady client's topic) with bytes flipped, cut or added.
    const target = 'fuzz-target'
    const valid = [
      encodeRequest(ApiKey.Metadata, 12, 1, 'fuzz', {topics: [{name: target, topicId: ZERO_UUID}], allowAutoTopicCreation: true}),
      encodeRequest(ApiKey.Metadata, 4, 1, 'fuzz', {topics: [{name: target}], allowAutoTopicCreation: false}),
      encodeRequest(ApiKey.Fetch, 12, 1, 'fuzz', {replicaId: -1, maxWaitMs: 10, minBytes: 1, maxBytes: 1 << 20, sessionEpoch: -1, topics: [{topic: target, partitions: [{partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n, lastFetchedEpoch: -1}]}]}),
      encodeRequest(ApiKey.ListOffsets, 7, 1, 'fuzz', {replicaId: -1, topics: [{name: target, partitions: [{partitionIndex: 0, timestamp: -1n, currentLeaderEpoch: -1}]}]}),
      encodeRequest(ApiKey.Produce, 9, 1, 'fuzz', {transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{name: target, partitionData: [{index: 0, records: await buildRecordBatch({records: [{key: Buffer.from('k'), value: Buffer.from('fuzz value'), headers: [{key: 'h', value: Buffer.from('v')}]}]})}]}]}),
      encodeRequest(ApiKey.CreateTopics, 7, 1, 'fuzz', {topics: [{name: `${target}-created`, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{name: 'retention.ms', value: '1000'}]}], timeoutMs: 1000, validateOnly: true}),
      encodeRequest(ApiKey.DescribeConfigs, 4, 1, 'fuzz', {resources: [{resourceType: 2, resourceName: target, configurationKeys: null}], includeSynonyms: true, includeDocumentation: true}),
    ].map((chunks) => Buffer.concat(chunks))
    for (let i = 0; i < 600 * scale; i++) {
      const body = Buffer.from(valid[i % valid.length]!.subarray(4))
      let mutated: Buffer
      const how = int(3)
      if (how === 0) {
        for (let f = 1 + int(6); f > 0; f--) body[8 + int(body.length - 8)] = int(256) // keep api key and version
        mutated = body
      } else if (how === 1) {
        mutated = body.subarray(0, 8 + int(body.length - 8))
      } else {
        mutated = Buffer.concat([body, bytes(1 + int(50))])
      }
      frames.push({kind: 'mutated', frame: sized(mutated)})
    }
    const outcomes: Record<string, Record<Outcome, number>> = {}
    await pool(frames.length, 40, async (i) => {
      const {kind, frame} = frames[i]!
      const outcome = await probe(proc.port, frame, 1_500)
      outcomes[kind] ??= {closed: 0, answered: 0, silent: 0}
      outcomes[kind][outcome]++
    })
    figures.garbageFrames = `${JSON.stringify(outcomes)} (seed ${seed}, scale ${scale})`
    expect(outcomes.random!.closed).toBeGreaterThan(250 * scale)
    await assertServing()
  }, 120_000)

  it('10,000 connections opened and dropped, 200 at a time (half after a partial frame)', async () => {
    const partial = rawRequest(ApiKey.Metadata, 12, Buffer.alloc(40)).subarray(0, 20)
    const started = Date.now()
    let opened = 0
    await pool(10_000, 200, async (i) => {
      const socket = connect({host: '127.0.0.1', port: proc.port})
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
      opened++
      if (i % 2 === 0) socket.write(partial)
      socket.destroy()
    })
    figures.connectionChurnMs = Date.now() - started
    expect(opened).toBe(10_000)
    await assertServing()
  }, 120_000)

  it('the well-behaved client was served correctly throughout; memory and file descriptors stay bounded', async () => {
    await assertServing()
    expect(steady.rounds).toBeGreaterThan(50)
    // Connections the broker closed or saw closed are gone: back to the baseline's sockets. (Other
    // descriptors may grow: topics that mutated Metadata requests auto-created have log files open.)
    let after = processFootprint(proc.child.pid!)
    for (let i = 0; i < 50 && after.sockets > baseline.sockets; i++) {
      await sleep(100)
      after = processFootprint(proc.child.pid!)
    }
    figures.steadyRounds = steady.rounds
    figures.rssBaselineMiB = +(baseline.rssBytes / MiB).toFixed(1)
    figures.rssPeakMiB = +(peakRss / MiB).toFixed(1)
    figures.rssAfterMiB = +(after.rssBytes / MiB).toFixed(1)
    figures.socketsBaseline = baseline.sockets
    figures.socketsAfter = after.sockets
    figures.fdsBaseline = baseline.fds
    figures.fdsAfter = after.fds
    expect(after.sockets).toBeLessThanOrEqual(baseline.sockets)
    expect(peakRss - baseline.rssBytes).toBeLessThan(150 * MiB)

    // Everything the steady client produced is there, in order.
    const fetched = await steadyConnection.request(ApiKey.Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 8 * MiB,
      sessionEpoch: -1,
      topics: [{topic: STEADY_TOPIC, partitions: [{partition: 0, fetchOffset: 0n, partitionMaxBytes: 8 * MiB, currentLeaderEpoch: -1, logStartOffset: -1n, lastFetchedEpoch: -1}]}],
    })
    const p = fetched.responses[0]!.partitions[0]!
    expect(p.errorCode).toBe(0)
    expect(p.highWatermark).toBeGreaterThanOrEqual(BigInt(steady.rounds))
    const values = (await decodeRecordBatches(p.records ?? Buffer.alloc(0))).flatMap((batch) => batch.records.map((r) => [r.offset, r.value?.toString()]))
    expect(values.slice(0, steady.rounds)).toEqual(Array.from({length: steady.rounds}, (_, i) => [i, `steady-${i}`]))
  })
})
