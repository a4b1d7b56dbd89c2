// Kafka Connect standalone, with real processes spawned from dist/: a kcli broker and kcli Connect
// workers. The file pipeline copies 100,000 lines exactly across a SIGKILL of the worker; bad input
// (invalid config, unknown class, malformed JSON, a record the converter cannot read) through HTTP.
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KafkaClient} from '../../src/lib/client/client.js'
import {Consumer} from '../../src/lib/client/consumer.js'
import {Producer} from '../../src/lib/client/producer.js'
import {distBuilt, eventually, http, type Spawned, spawnDistBroker, spawnWorker, workerProperties, writeProperties} from './connect-support.js'
import {removeDir, tempDir} from './harness.js'

if (!distBuilt) console.warn('test/e2e/connect-standalone.test.ts: dist/ has no connect command, skipping; run `npm run build` first')

describe.skipIf(!distBuilt)('kcli connect standalone (real processes)', () => {
  const dir = tempDir('kcli-connect-e2e-')
  let broker: Spawned<{listeners: Array<{port: number}>}>
  let bootstrap = ''
  const workers: Array<Spawned<unknown>> = []

  beforeAll(async () => {
    broker = await spawnDistBroker(join(dir, 'broker'))
    bootstrap = `127.0.0.1:${broker.status.listeners[0]!.port}`
  }, 60_000)

  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL')
    await broker?.kill()
    removeDir(dir)
  }, 60_000)

  const workerProps = (name: string, extra: Record<string, string> = {}) => workerProperties(dir, bootstrap, name, extra)

  async function start(workerFile: string, connectors: string[] = []) {
    const w = await spawnWorker(workerFile, connectors)
    workers.push(w)
    return w
  }

  it('copies a 100,000-line file exactly through source -> topic -> sink, across a SIGKILL of the worker', async () => {
    const input = join(dir, 'input.txt')
    const output = join(dir, 'output.txt')
    const lines: string[] = []
    for (let i = 0; i < 100_000; i++) lines.push(`line ${i} ${'é€🚀x'.repeat(i % 7)} ${i * 7919 % 10007}`)
    writeFileSync(input, lines.join('\n') + '\n')
    // Small source batches (one transaction each) and frequent sink flushes (the sink writes at
    // flush) make the copy take a few seconds and the output grow gradually, so that the kill below
    // lands mid-way even on an idle machine (with 500-line batches and 500 ms flushes the whole file
    // could appear in one flush).
    const worker = workerProps('pipeline', {'exactly.once.source.support': 'enabled', 'consumer.isolation.level': 'read_committed', 'offset.flush.interval.ms': '100'})
    const source = writeProperties(join(dir, 'source.properties'), {name: 'pipe-source', 'connector.class': 'FileStreamSource', file: input, topic: 'pipe-lines', 'batch.size': '100'})
    const sink = writeProperties(join(dir, 'sink.properties'), {name: 'pipe-sink', 'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector', file: output, topics: 'pipe-lines'})
    const size = () => { try { return statSync(output).size } catch { return 0 } }
    const total = statSync(input).size

    const first = await start(worker, [source, sink])
    // Kill it mid-way: some lines are through, most are not.
    await eventually(size, s => s > total / 10, 60_000, 'a tenth of the file copied')
    await first.kill('SIGKILL')
    const atKill = size()
    expect(atKill).toBeLessThan(total)

    const second = await start(worker, [source, sink])
    await eventually(size, s => s >= total, 120_000, 'the whole file copied')
    // Nothing more arrives (no duplicates appended late).
    const url = second.status.rest
    await eventually(() => http('GET', `${url}/connectors/pipe-sink/offsets`), a => {
      const offs = (a.body as {offsets: Array<{offset: {kafka_offset: number}}>}).offsets
      return offs.length === 1 && offs[0]!.offset.kafka_offset > 100_000
    }, 30_000, 'sink offsets committed past the last line')
    expect(readFileSync(output, 'utf8')).toBe(readFileSync(input, 'utf8'))
    const status = await http('GET', `${url}/connectors?expand=status`)
    expect(status.status).toBe(200)
    const states = status.body as Record<string, {status: {connector: {state: string}; tasks: Array<{state: string}>}}>
    expect(states['pipe-source']!.status.tasks[0]!.state).toBe('RUNNING')
    expect(states['pipe-sink']!.status.tasks[0]!.state).toBe('RUNNING')
    const offsets = await http('GET', `${url}/connectors/pipe-source/offsets`)
    expect(offsets.body).toEqual({offsets: [{partition: {filename: input}, offset: {position: readFileSync(input, 'utf8').length}}]})
    await second.kill()
  }, 300_000)

  it('refuses to start with an invalid connector file, naming the file and each error', async () => {
    const bad = writeProperties(join(dir, 'bad-connector.properties'), {name: 'b', 'connector.class': 'FileStreamSource', 'tasks.max': 'x'})
    const unknown = writeProperties(join(dir, 'unknown-connector.properties'), {name: 'u', 'connector.class': 'com.example.Nope'})
    const worker = workerProps('refused')
    // The worker exits 2 with --json's error document on stderr.
    const refusal = async (files: string[]) => {
      const error = await spawnWorker(worker, files).then(() => null, (e: Error) => e)
      const m = /exited with (\d+): (\{.*\})\s*$/s.exec(error?.message ?? '')
      return {code: Number(m?.[1]), error: (JSON.parse(m?.[2] ?? '{}') as {error?: {message: string}}).error}
    }
    const invalid = await refusal([bad])
    expect(invalid.code).toBe(2)
    expect(invalid.error?.message).toBe(`${bad}: Connector configuration is invalid and contains the following 2 error(s):\nInvalid value x for configuration tasks.max: Not a number of type INT\nMissing required configuration "topic" which has no default value.\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``)
    const missing = await refusal([unknown])
    expect(missing.code).toBe(2)
    expect(missing.error?.message).toMatch(/unknown-connector\.properties: Failed to find any class that implements Connector and which name matches com\.example\.Nope/)
  }, 60_000)

  describe('bad input through the REST API', () => {
    let url = ''
    beforeAll(async () => {
      const w = await start(workerProps('bad', {'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'false'}))
      url = w.status.rest
    }, 60_000)

    it('validate lists each bad field and nothing is started', async () => {
      const body = {'connector.class': 'FileStreamSource', name: 'v', 'tasks.max': '0', 'batch.size': 'many', 'errors.tolerance': 'some'}
      const v = await http('PUT', `${url}/connector-plugins/FileStreamSource/config/validate`, body)
      expect(v.status).toBe(200)
      const r = v.body as {error_count: number; configs: Array<{value: {name: string; errors: string[]}}>}
      const errors = Object.fromEntries(r.configs.filter(c => c.value.errors.length > 0).map(c => [c.value.name, c.value.errors]))
      expect(errors).toEqual({
        'tasks.max': ['Invalid value 0 for configuration tasks.max: Value must be at least 1'],
        'errors.tolerance': ['Invalid value some for configuration errors.tolerance: String must be one of: none, all'],
        topic: ['Missing required configuration "topic" which has no default value.'],
        'batch.size': ['Invalid value many for configuration batch.size: Not a number of type INT'],
      })
      expect(r.error_count).toBe(4)
      const created = await http('POST', `${url}/connectors`, {name: 'v', config: body})
      expect(created.status).toBe(400)
      expect((created.body as {message: string}).message).toMatch(/^Connector configuration is invalid and contains the following 4 error\(s\):\n/)
      expect((await http('GET', `${url}/connectors`)).body).toEqual([])
      expect((await http('GET', `${url}/connectors/v/status`))).toMatchObject({status: 404, body: {error_code: 404, message: 'No status found for connector v'}})
    })

    it('an unknown connector class is refused, listing the available ones', async () => {
      const r = await http('POST', `${url}/connectors`, {name: 'x', config: {'connector.class': 'com.example.Nope'}})
      expect(r.status).toBe(500)
      expect(r.body).toMatchObject({error_code: 500, message: expect.stringMatching(/^Failed to find any class that implements Connector and which name matches com\.example\.Nope, available connectors are: .*FileStreamSinkConnector/)})
      const v = await http('PUT', `${url}/connector-plugins/Nope/config/validate`, {'connector.class': 'com.example.Nope'})
      expect(v.status).toBe(500)
      expect((await http('GET', `${url}/connectors`)).body).toEqual([])
    })

    it('malformed JSON, a wrong shape, no content type, unknown paths and methods', async () => {
      const bad = await http('POST', `${url}/connectors`, '{"name": "x", "config": {', {raw: true})
      expect(bad.status).toBe(500)
      expect(bad.body).toMatchObject({error_code: 500, message: expect.any(String)})
      const nested = await http('PUT', `${url}/connectors/x/config`, {'connector.class': 'FileStreamSource', file: {nested: 1}})
      expect(nested).toMatchObject({status: 500, body: {error_code: 500, message: expect.stringContaining('Cannot deserialize value of type `java.lang.String` from Object value')}})
      expect((await http('POST', `${url}/connectors`, {name: 'x'}, {contentType: 'text/plain'})).body).toEqual({error_code: 415, message: 'HTTP 415 Unsupported Media Type'})
      expect((await http('DELETE', `${url}/connectors`)).body).toEqual({error_code: 405, message: 'HTTP 405 Method Not Allowed'})
      expect((await http('GET', `${url}/nope`)).body).toEqual({error_code: 404, message: 'HTTP 404 Not Found'})
      expect((await http('GET', `${url}/`)).body).toMatchObject({version: '4.0.0'})
    })

    it('a record the converter cannot read: to the DLQ with tolerance all, a FAILED task with the cause otherwise', async () => {
      const client = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: Number(bootstrap.split(':')[1])}]})
      try {
        const producer = new Producer(client)
        // One batch (as one poll() of Kafka's consumer would return them together).
        for (const v of ['{"a":1}', 'not json', '{"b":2}']) producer.push({topic: 'bad-input', value: Buffer.from(v), headers: [{key: 'h', value: Buffer.from('v')}]})
        await producer.flush()
        const tolerant = await http('POST', `${url}/connectors`, {name: 'tolerant', config: {
          'connector.class': 'FileStreamSink', file: join(dir, 'tolerant.txt'), topics: 'bad-input', 'errors.tolerance': 'all', 'errors.log.enable': 'true',
          'errors.deadletterqueue.topic.name': 'bad-dlq', 'errors.deadletterqueue.topic.replication.factor': '1', 'errors.deadletterqueue.context.headers.enable': 'true',
        }})
        expect(tolerant.status).toBe(201)
        expect(tolerant.headers.get('location')).toBe(`${url}/connectors/tolerant`)
        await eventually(() => { try { return readFileSync(join(dir, 'tolerant.txt'), 'utf8') } catch { return '' } }, t => t.split('\n').length >= 3, 30_000, 'good records written')
        expect(readFileSync(join(dir, 'tolerant.txt'), 'utf8')).toBe('{a=1}\n{b=2}\n')
        const consumer = new Consumer(client, {autoOffsetReset: 'earliest'})
        consumer.assign([{offset: 0n, partition: 0, topic: 'bad-dlq'}])
        let dlq
        const deadline = Date.now() + 30_000
        for await (const batch of consumer.batches()) {
          if (batch.records.length > 0) { dlq = batch.records[0]!; break }
          if (Date.now() > deadline) break
        }
        await consumer.close()
        expect(dlq?.value?.toString()).toBe('not json')
        const headers = Object.fromEntries(dlq!.headers.map(h => [h.key, h.value?.toString()]))
        expect(headers).toMatchObject({h: 'v', '__connect.errors.topic': 'bad-input', '__connect.errors.partition': '0', '__connect.errors.offset': '1', '__connect.errors.connector.name': 'tolerant', '__connect.errors.task.id': '0', '__connect.errors.stage': 'VALUE_CONVERTER', '__connect.errors.class.name': 'org.apache.kafka.connect.json.JsonConverter', '__connect.errors.exception.class.name': 'org.apache.kafka.connect.errors.DataException'})
        expect(headers['__connect.errors.exception.message']).toMatch(/Converting byte\[\] to Kafka Connect data failed due to serialization error/)

        const strict = await http('POST', `${url}/connectors`, {name: 'strict', config: {'connector.class': 'FileStreamSink', file: join(dir, 'strict.txt'), topics: 'bad-input'}})
        expect(strict.status).toBe(201)
        const failed = await eventually(() => http('GET', `${url}/connectors/strict/status`), a => (a.body as {tasks: Array<{state: string}>}).tasks[0]?.state === 'FAILED', 30_000, 'strict task FAILED')
        const task = (failed.body as {connector: {state: string}; tasks: Array<{state: string; trace: string}>})
        expect(task.connector.state).toBe('RUNNING')
        expect(task.tasks[0]!.trace).toMatch(/^org\.apache\.kafka\.connect\.errors\.ConnectException: Tolerance exceeded in error handler\n[\s\S]*Caused by: org\.apache\.kafka\.connect\.errors\.DataException: Converting byte\[\] to Kafka Connect data failed due to serialization error/)
        // Kafka's sink converts a whole batch before put(): nothing of it is written.
        expect(readFileSync(join(dir, 'strict.txt'), 'utf8')).toBe('')
        // The way out, as Kafka's: stop, move the offset past the bad record, resume.
        expect((await http('PATCH', `${url}/connectors/strict/offsets`, {offsets: []})).status).toBe(400)
        expect((await http('PUT', `${url}/connectors/strict/stop`)).status).toBe(204)
        expect((await http('GET', `${url}/connectors/strict/status`)).body).toMatchObject({connector: {state: 'STOPPED'}, tasks: []})
        const patched = await http('PATCH', `${url}/connectors/strict/offsets`, {offsets: [{partition: {kafka_topic: 'bad-input', kafka_partition: 0}, offset: {kafka_offset: 2}}]})
        expect(patched).toMatchObject({status: 200, body: {message: 'The offsets for this connector have been altered successfully'}})
        expect((await http('PUT', `${url}/connectors/strict/resume`)).status).toBe(202)
        await eventually(() => { try { return readFileSync(join(dir, 'strict.txt'), 'utf8') } catch { return '' } }, t => t === '{b=2}\n', 30_000, 'record after the bad one written')
        expect((await http('DELETE', `${url}/connectors/strict`)).status).toBe(204)
        expect((await http('GET', `${url}/connectors`)).body).toEqual(['tolerant'])
      } finally {
        await client.close()
      }
    }, 120_000)
  })
})
