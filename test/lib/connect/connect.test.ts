import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {type OffsetMap} from '../../../src/lib/connect/api.js'
import {createConverter, JsonConverter} from '../../../src/lib/connect/converters.js'
import {DataException, Schemas, Struct, structSchema} from '../../../src/lib/connect/data.js'
import {FILE_SOURCE_CONFIG, FileStreamSinkTask, FileStreamSourceTask} from '../../../src/lib/connect/file.js'

const dir = mkdtempSync(join(tmpdir(), 'kcli-connect-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('JsonConverter (Kafka Connect envelope)', () => {
  it('writes a string with schemas.enable=true exactly as Kafka Connect 4.0 did (recorded)', () => {
    const c = createConverter('org.apache.kafka.connect.json.JsonConverter', {'schemas.enable': 'true'}, false)
    expect(c.fromConnectData('t', Schemas.STRING, 'hello world')!.toString()).toBe('{"schema":{"type":"string","optional":false},"payload":"hello world"}')
  })
  it('writes plain JSON with schemas.enable=false', () => {
    const c = createConverter('JsonConverter', {'schemas.enable': 'false'}, false)
    expect(c.fromConnectData('t', Schemas.STRING, 'a "q"')!.toString()).toBe('"a \\"q\\""')
  })
  it('round-trips a struct through the envelope', () => {
    const schema = structSchema([['line', Schemas.STRING], ['n', {type: 'int32', optional: true}]], {name: 'x'})
    const st = new Struct(schema).put('line', 'hi').put('n', 3)
    const c = new JsonConverter()
    const bytes = c.fromConnectData('t', schema, st)!
    expect(JSON.parse(bytes.toString())).toEqual({schema: {type: 'struct', fields: [{type: 'string', optional: false, field: 'line'}, {type: 'int32', optional: true, field: 'n'}], optional: false, name: 'x'}, payload: {line: 'hi', n: 3}})
    const back = c.toConnectData('t', bytes)
    expect((back.value as Struct).get('line')).toBe('hi')
    expect(back.schema!.fields!.map(f => f.name)).toEqual(['line', 'n'])
  })
  it('refuses what it cannot read with Kafka\'s messages', () => {
    const c = new JsonConverter()
    expect(() => c.toConnectData('t', Buffer.from('not json'))).toThrow(/Converting byte\[\] to Kafka Connect data failed due to serialization error/)
    expect(() => c.toConnectData('t', Buffer.from('{"a":1}'))).toThrow(/requires "schema" and "payload" fields/)
    expect(() => createConverter('com.example.Nope', {}, false)).toThrow(DataException)
  })
  it('String and ByteArray converters', () => {
    expect(createConverter('org.apache.kafka.connect.storage.StringConverter', {}, false).toConnectData('t', Buffer.from('ü')).value).toBe('ü')
    const b = createConverter('org.apache.kafka.connect.converters.ByteArrayConverter', {}, true)
    expect(b.fromConnectData('t', Schemas.BYTES, Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]))
    expect(() => b.fromConnectData('t', Schemas.STRING, 'x')).toThrow(/Invalid schema type/)
  })
})

describe('ConfigDef validation (config/validate entries)', () => {
  it('lists each bad field with Kafka\'s message', () => {
    const r = FILE_SOURCE_CONFIG.validate({'batch.size': 'abc'})
    const errs = Object.fromEntries(r.map(v => [v.name, v.errors]))
    expect(errs.file).toEqual([])
    expect(errs.topic).toEqual(['Missing required configuration "topic" which has no default value.'])
    expect(errs['batch.size']).toEqual(['Invalid value abc for configuration batch.size: Not a number of type INT'])
    expect(FILE_SOURCE_CONFIG.validate({topic: 't', 'batch.size': '0'}).find(v => v.name === 'batch.size')!.errors).toEqual(['Invalid value 0 for configuration batch.size: Value must be at least 1'])
  })
})

describe('FileStreamSource / FileStreamSink tasks', () => {
  it('reads lines with positions in UTF-16 code units (the recorded 84 for the converter input) and resumes from an offset', async () => {
    const f = join(dir, 'input.txt')
    writeFileSync(f, Buffer.from('68656c6c6f20776f726c640a7b2261223a20312c202262223a205b747275652c206e756c6c5d7d0a71756f74652022206261636b736c617368205c2074616209656e640ac3bc6ec3af63c3b864c3a920e29c9320f09f9a800a34320a', 'hex'))
    const run = async (offset: OffsetMap | null, batch: string) => {
      const t = new FileStreamSourceTask()
      t.initialize({offsetStorageReader: {offset: p => (p.filename === f ? offset : null)}})
      await t.start({file: f, topic: 'x', 'batch.size': batch})
      const recs = (await t.poll())!
      await t.stop()
      return recs
    }
    const all = await run(null, '100')
    expect(all.map(r => r.value)).toEqual(['hello world', '{"a": 1, "b": [true, null]}', 'quote " backslash \\ tab\tend', 'ünïcødé ✓ 🚀', '42'])
    expect(all.at(-1)!.sourceOffset).toEqual({position: 84})
    expect(all[0].sourcePartition).toEqual({filename: f})
    const two = await run(null, '2')
    expect(two.length).toBe(2)
    const rest = await run(two[1].sourceOffset, '100')
    expect(rest.map(r => r.value)).toEqual(all.slice(2).map(r => r.value))
    expect(rest.at(-1)!.sourceOffset).toEqual({position: 84})
  })
  it('sink appends values and a newline, on disk after flush', async () => {
    const f = join(dir, 'out.txt')
    const t = new FileStreamSinkTask()
    await t.start({file: f})
    t.put([{topic: 't', kafkaPartition: 0, kafkaOffset: 0, keySchema: null, key: null, valueSchema: Schemas.STRING, value: 'a', timestamp: null}, {topic: 't', kafkaPartition: 0, kafkaOffset: 1, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null}])
    await t.flush(new Map())
    expect(readFileSync(f, 'utf8')).toBe('a\nnull\n')
    await t.stop()
  })
})

describe('FileOffsetStore', () => {
  it('keeps offsets keyed by [connector, partition] across a reload, written by atomic rename', async () => {
    const {FileOffsetStore} = await import('../../../src/lib/connect/offset-store.js')
    const f = join(dir, 'offsets', 'connect.offsets')
    const a = new FileOffsetStore(f)
    await a.load()
    expect(a.get('src', {filename: '/x'})).toBeNull()
    await a.set('src', [{partition: {filename: '/x'}, offset: {position: 42}}])
    await a.set('other', [{partition: {filename: '/x'}, offset: {position: 7}}])
    const b = new FileOffsetStore(f)
    await b.load()
    expect(b.get('src', {filename: '/x'})).toEqual({position: 42})
    expect(b.offsets('other')).toEqual([{partition: {filename: '/x'}, offset: {position: 7}}])
    expect(FileOffsetStore.key('src', {filename: '/x'})).toBe('["src",{"filename":"/x"}]')
  })
})

describe('FileStreamSourceTask over many reads', () => {
  it('reads a 100,000-line file whole, and resumed from a mid-way offset gives exactly the remaining lines', async () => {
    const f = join(dir, 'big.txt')
    const lines = Array.from({length: 100_000}, (_, i) => `line-${i}-ü`)
    writeFileSync(f, lines.join('\n') + '\n')
    const read = async (offset: OffsetMap | null, limit: number) => {
      const t = new FileStreamSourceTask()
      t.initialize({offsetStorageReader: {offset: () => offset}})
      await t.start({file: f, topic: 't'})
      const out: Awaited<ReturnType<FileStreamSourceTask['poll']>> & object = []
      while (out.length < limit) {
        const r = await t.poll()
        if (!r || r.length === 0) break
        out.push(...r)
      }
      await t.stop()
      return out.slice(0, limit)
    }
    const first = await read(null, 37_123)
    const rest = await read(first.at(-1)!.sourceOffset, Number.POSITIVE_INFINITY)
    expect([...first, ...rest].map(r => r.value)).toEqual(lines)
  }, 30_000)
})
