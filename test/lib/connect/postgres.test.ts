/**
 * The PostgreSQL connectors' tasks against a real PostgreSQL 15 (test/e2e/postgres.ts), driven
 * as the runtime drives them: SinkTask.put/flush with sink records, SourceTask.poll with the
 * source offsets of what was polled committed after each poll and read back by a restarted task.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ConnectException, type OffsetMap, type SinkRecord, type SourceRecord} from '../../../src/lib/connect/api.js'
import {type Schema, Schemas, Struct, structSchema} from '../../../src/lib/connect/data.js'
import {PostgresSinkConnector, PostgresSinkTask, PostgresSourceConnector, PostgresSourceTask, validateSinkConfig, validateSourceConfig} from '../../../src/lib/connect/postgres/index.js'
import {parseTimestampText, timestampText} from '../../../src/lib/connect/postgres/source.js'
import {TIMESTAMP_SCHEMA_NAME} from '../../../src/lib/connect/transforms.js'
import {postgresMissing, startPostgres, type TestPostgres} from '../../e2e/postgres.js'

let pg: TestPostgres
beforeAll(async () => { if (!postgresMissing) pg = await startPostgres() }, 90_000)
afterAll(async () => { await pg?.stop() }, 60_000)

const conn = () => ({'connection.url': pg.jdbcUrl, 'connection.user': pg.user, 'connection.attempts': '1', 'connection.backoff.ms': '10'})

const VALUE = structSchema([['name', Schemas.STRING], ['qty', {type: 'int32', optional: true}], ['at', {type: 'int64', optional: true, name: TIMESTAMP_SCHEMA_NAME, version: 1}]], {name: 'item'})
let offset = 0
function sinkRecord(topic: string, key: unknown, keySchema: Schema | null, value: Struct | null): SinkRecord {
  return {topic, kafkaPartition: 0, kafkaOffset: offset++, keySchema, key, valueSchema: value ? value.schema : VALUE, value, timestamp: null}
}
const item = (name: string, qty: number | null) => new Struct(VALUE).put('name', name).put('qty', qty).put('at', 1_700_000_000_123)

async function withDeadline<T>(what: string, ms: number, step: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    const v = await step()
    if (v !== undefined) return v
  }
  throw new Error(`timed out: ${what}`)
}

/** The runtime's side of a source task: offsets of everything polled are committed after each poll. */
class OffsetStore {
  readonly offsets = new Map<string, OffsetMap>()
  reader = {offset: (p: OffsetMap) => this.offsets.get(JSON.stringify(p)) ?? null}
  commit(records: SourceRecord[]): void { for (const r of records) this.offsets.set(JSON.stringify(r.sourcePartition), r.sourceOffset) }
}

async function sourceTask(props: Record<string, string>, store: OffsetStore): Promise<PostgresSourceTask> {
  const t = new PostgresSourceTask()
  t.initialize({offsetStorageReader: store.reader})
  await t.start(props)
  return t
}

const row = (r: SourceRecord) => Object.fromEntries(((r.value as Struct).schema.fields ?? []).map(f => [f.name, (r.value as Struct).get(f.name)]))

describe.skipIf(postgresMissing)('PostgreSQL sink task', () => {
  it.each(['unnest', 'values', 'auto'] as const)('upsert by record_key: each key holds its latest value, tombstones delete, across batches and puts (auto.create; statements with %s)', async form => {
    const task = new PostgresSinkTask(form)
    const items = `items_${form}`
    await task.start({...conn(), 'topics': 'items', 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'id', 'auto.create': 'true', 'delete.enabled': 'true', 'batch.size': '7', 'table.name.format': `\${topic}_${form}`})
    const model = new Map<number, {name: string; qty: number | null}>()
    let seed = 42
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    const records: SinkRecord[] = []
    for (let i = 0; i < 600; i++) {
      const id = rnd(40)
      if (rnd(5) === 0) { model.delete(id); records.push(sinkRecord('items', id, Schemas.INT64, null)) } else {
        const v = {name: `n${i}`, qty: rnd(3) === 0 ? null : i}
        model.set(id, v)
        records.push(sinkRecord('items', id, Schemas.INT64, item(v.name, v.qty)))
      }
    }
    for (let i = 0; i < records.length; i += 97) await task.put(records.slice(i, i + 97))
    await task.flush(new Map())
    const rows = (await pg.query(`SELECT id, name, qty, at FROM ${items} ORDER BY id`)).rows
    expect(rows.map(r => [Number(r.id), r.name, r.qty])).toEqual([...model].sort((a, b) => a[0] - b[0]).map(([id, v]) => [id, v.name, v.qty]))
    expect(rows[0].at.toISOString()).toBe('2023-11-14T22:13:20.123Z')
    const cols = (await pg.query('SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', [items])).rows
    expect(cols.map(c => `${c.column_name} ${c.data_type} ${c.is_nullable}`)).toEqual(['id bigint NO', 'name text NO', 'qty integer YES', 'at timestamp without time zone YES'])
    await task.stop()
  })

  it('struct keys, record_value keys, pk.mode kafka and insert mode', async () => {
    const KEY = structSchema([['a', Schemas.STRING], ['b', Schemas.INT32]])
    const t1 = new PostgresSinkTask()
    await t1.start({...conn(), 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'auto.create': 'true', 'table.name.format': 'kv_${topic}'})
    await t1.put([sinkRecord('s', new Struct(KEY).put('a', 'x').put('b', 1), KEY, item('first', 1)), sinkRecord('s', new Struct(KEY).put('a', 'x').put('b', 1), KEY, item('second', 2)), sinkRecord('s', new Struct(KEY).put('a', 'x').put('b', 2), KEY, item('other', 3))])
    expect((await pg.query('SELECT a, b, name FROM kv_s ORDER BY b')).rows).toEqual([{a: 'x', b: 1, name: 'second'}, {a: 'x', b: 2, name: 'other'}])
    await t1.stop()
    const t2 = new PostgresSinkTask()
    await t2.start({...conn(), 'insert.mode': 'upsert', 'pk.mode': 'record_value', 'pk.fields': 'name', 'auto.create': 'true'})
    await t2.put([sinkRecord('byname', null, null, item('a', 1)), sinkRecord('byname', null, null, item('a', 5)), sinkRecord('byname', null, null, item('b', 2))])
    expect((await pg.query('SELECT name, qty FROM byname ORDER BY name')).rows).toEqual([{name: 'a', qty: 5}, {name: 'b', qty: 2}])
    await t2.stop()
    const t3 = new PostgresSinkTask()
    await t3.start({...conn(), 'pk.mode': 'kafka', 'auto.create': 'true'})
    await t3.put([sinkRecord('log', null, null, item('a', 1)), sinkRecord('log', null, null, item('a', 1))])
    expect((await pg.query('SELECT __connect_topic AS t, __connect_partition AS p, name FROM log')).rows).toEqual([{t: 'log', p: 0, name: 'a'}, {t: 'log', p: 0, name: 'a'}])
    await t3.stop()
    const t4 = new PostgresSinkTask()
    await t4.start({...conn(), 'auto.create': 'true', 'batch.size': '1'})
    await t4.put([sinkRecord('plain', null, null, item('a', 1)), sinkRecord('plain', null, null, item('a', 1)), sinkRecord('plain', null, null, item('b', null))])
    expect((await pg.query('SELECT count(*)::int AS n FROM plain')).rows[0].n).toBe(3)
    await t4.stop()
    const t5 = new PostgresSinkTask() // update mode: existing rows change, absent keys add nothing
    await t5.start({...conn(), 'insert.mode': 'update', 'pk.mode': 'record_value', 'pk.fields': 'name', 'table.name.format': 'byname'})
    await t5.put([sinkRecord('x', null, null, item('a', 9)), sinkRecord('x', null, null, item('zz', 1))])
    expect((await pg.query('SELECT name, qty FROM byname ORDER BY name')).rows).toEqual([{name: 'a', qty: 9}, {name: 'b', qty: 2}])
    await t5.stop()
  })

  it('auto.evolve adds optional columns; a required one, a missing table or a schemaless value fail the put with the reason', async () => {
    const task = new PostgresSinkTask()
    await task.start({...conn(), 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'id', 'auto.create': 'true', 'auto.evolve': 'true', 'max.retries': '0'})
    await task.put([sinkRecord('evolve', 1, Schemas.INT32, item('a', 1))])
    const V2 = structSchema([...VALUE.fields!.map((f): [string, Schema] => [f.name, f.schema]), ['note', {type: 'string', optional: true}]])
    await task.put([sinkRecord('evolve', 2, Schemas.INT32, new Struct(V2).put('name', 'b').put('note', 'new column'))])
    expect((await pg.query('SELECT id, name, note FROM evolve ORDER BY id')).rows).toEqual([{id: 1, name: 'a', note: null}, {id: 2, name: 'b', note: 'new column'}])
    const V3 = structSchema([['name', Schemas.STRING], ['must', Schemas.INT32]])
    await expect(task.put([sinkRecord('evolve', 3, Schemas.INT32, new Struct(V3).put('name', 'c').put('must', 1))])).rejects.toThrow('Cannot ALTER TABLE "evolve" to add missing field must, as the field is not optional and does not have a default value')
    await expect(task.put([{...sinkRecord('evolve', 4, Schemas.INT32, null), value: new Map([['name', 'x']]), valueSchema: null}])).rejects.toThrow('requires records with a non-null Struct value and non-null Struct schema')
    await task.stop()
    const noCreate = new PostgresSinkTask()
    await noCreate.start({...conn(), 'max.retries': '0'})
    await expect(noCreate.put([sinkRecord('absent', null, null, item('a', 1))])).rejects.toThrow('Table "absent" is missing and auto-creation is disabled')
    expect((await pg.query('SELECT to_regclass(\'absent\') AS t')).rows[0].t).toBeNull()
    await noCreate.stop()
  })

  it('another session creating the table, then adding a column, while the task does the same (tasks.max > 1): the task waits, then writes on', async () => {
    const task = new PostgresSinkTask()
    await task.start({...conn(), 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'id', 'auto.create': 'true', 'auto.evolve': 'true', 'max.retries': '0'})
    const waiting = async () => Number((await pg.query('SELECT count(*) AS n FROM pg_locks WHERE NOT granted')).rows[0].n) > 0 || undefined
    // The other session's CREATE is not committed yet: the task does not see the table, creates
    // it, waits for the other's commit and is refused (duplicate); it must read the table and go on.
    await pg.query('BEGIN')
    await pg.query('CREATE TABLE race (id INT NOT NULL, name TEXT NOT NULL, qty INT, at TIMESTAMP, PRIMARY KEY(id))')
    const first = task.put([sinkRecord('race', 1, Schemas.INT32, item('a', 1))])
    await withDeadline('the task waiting for the other session', 10_000, waiting)
    await pg.query('COMMIT')
    await first
    // The same for a column (auto.evolve) that both add.
    const V2 = structSchema([...VALUE.fields!.map((f): [string, Schema] => [f.name, f.schema]), ['note', {type: 'string', optional: true}]])
    await pg.query('BEGIN')
    await pg.query('ALTER TABLE race ADD note TEXT')
    const second = task.put([sinkRecord('race', 2, Schemas.INT32, new Struct(V2).put('name', 'b').put('note', 'both added it'))])
    await withDeadline('the task waiting for the other session', 10_000, waiting)
    await pg.query('COMMIT')
    await second
    expect((await pg.query('SELECT id, name, qty, note FROM race ORDER BY id')).rows).toEqual([{id: 1, name: 'a', qty: 1, note: null}, {id: 2, name: 'b', qty: null, note: 'both added it'}])
    await task.stop()
    await pg.query('DROP TABLE race') // the source tests list the schema's tables
  })

  it('config validation: Kafka/Confluent messages per field; the connector gives every task the config', () => {
    const errs = (p: Record<string, string>) => validateSinkConfig(p).filter(cv => cv.errors.length > 0).map(cv => [cv.name, cv.errors[0]])
    expect(errs({})).toEqual([['connection.url', 'Missing required configuration "connection.url" which has no default value.']])
    expect(errs({'connection.url': 'jdbc:mysql://h/db', 'insert.mode': 'merge', 'batch.size': '0'})).toEqual([
      ['connection.url', 'Invalid value jdbc:mysql://h/db for configuration connection.url: only jdbc:postgresql:// (or postgresql://) URLs are supported'],
      ['insert.mode', 'Invalid value merge for configuration insert.mode: String must be one of: insert, upsert, update'],
      ['batch.size', 'Invalid value 0 for configuration batch.size: Value must be at least 1'],
    ])
    expect(errs({'connection.url': 'jdbc:postgresql://h/db', 'delete.enabled': 'true', 'insert.mode': 'upsert'})).toEqual([
      ['delete.enabled', 'Deletes are only supported for pk.mode record_key'],
      ['pk.mode', 'Invalid value none for configuration pk.mode: insert.mode upsert requires a primary key (pk.mode kafka, record_key or record_value)'],
    ])
    const c = new PostgresSinkConnector()
    c.start({'connection.url': 'jdbc:postgresql://h/db', topics: 'a'})
    expect(c.taskConfigs(3)).toHaveLength(3)
  })
})

describe.skipIf(postgresMissing)('PostgreSQL source task', () => {
  it('timestamp+incrementing: inserts and updates made while it runs arrive in order, each once, across a restart from committed offsets', async () => {
    await pg.query('CREATE TABLE accounts (id SERIAL PRIMARY KEY, owner TEXT NOT NULL, balance INT NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE \'UTC\'))')
    const props = {...conn(), 'mode': 'timestamp+incrementing', 'incrementing.column.name': 'id', 'timestamp.column.name': 'updated_at', 'table.whitelist': 'accounts', 'topic.prefix': 'pg-', 'poll.interval.ms': '20', 'batch.max.rows': '13'}
    const store = new OffsetStore()
    const received: SourceRecord[] = []
    const expectedLast = new Map<number, number>()
    let task = await sourceTask(props, store)
    let writing = true
    let half = false
    let restartDone!: () => void
    const restartedAt = new Promise<void>(resolve => { restartDone = resolve })
    const writer = (async () => {
      for (let i = 0; i < 300; i++) {
        if (i === 150) { half = true; await restartedAt } // the second half is written after the restart
        if (i % 3 === 2 && expectedLast.size > 0) {
          const id = 1 + (i * 7) % expectedLast.size
          const r = await pg.query('UPDATE accounts SET balance = balance + 1, updated_at = clock_timestamp() AT TIME ZONE \'UTC\' WHERE id = $1 RETURNING balance', [id])
          expectedLast.set(id, r.rows[0].balance)
        } else {
          const r = await pg.query('INSERT INTO accounts (owner, balance) VALUES ($1, 0) RETURNING id', [`o${i}`])
          expectedLast.set(r.rows[0].id, 0)
        }
      }
      writing = false
    })()
    let restarted = false
    await withDeadline('all changes delivered', 60_000, async () => {
      const batch = (await task.poll()) ?? []
      received.push(...batch)
      store.commit(batch)
      if (!restarted && half) {
        restarted = true
        await task.stop()
        task = await sourceTask(props, store) // a new task from the committed offsets
        restartDone()
      }
      if (writing) return undefined
      const last = new Map<number, number>()
      for (const r of received) last.set(r.sourceOffset.incrementing as number, row(r).balance as number)
      return [...expectedLast].every(([id, b]) => last.get(id) === b) ? true : undefined
    })
    await writer
    await task.stop()
    expect(restarted).toBe(true)
    // each change once: no (id, balance) twice, and per row the balances only go up
    const seen = new Set<string>()
    const lastBalance = new Map<number, number>()
    for (const r of received) {
      const {id, balance} = row(r) as {id: number; balance: number}
      expect(seen.has(`${id}:${balance}`)).toBe(false)
      seen.add(`${id}:${balance}`)
      expect(balance).toBeGreaterThanOrEqual(lastBalance.get(id) ?? 0)
      lastBalance.set(id, balance)
    }
    // in order: (timestamp, incrementing) strictly increasing over the whole stream
    const keys = received.map(r => [r.sourceOffset.timestamp as number, (r.sourceOffset.timestamp_nanos as number) % 1e6, r.sourceOffset.incrementing as number])
    const before = (a: number[], b: number[]) => a[0]! < b[0]! || (a[0] === b[0] && (a[1]! < b[1]! || (a[1] === b[1] && a[2]! < b[2]!)))
    for (let i = 1; i < keys.length; i++) expect(before(keys[i - 1]!, keys[i]!)).toBe(true)
    expect(new Set(received.map(r => row(r).id)).size).toBe(200) // every inserted row, its latest balance checked above
    expect(received.length).toBeGreaterThan(200)
    const first = received[0]!
    expect(first.topic).toBe('pg-accounts')
    expect(first.sourcePartition).toEqual({protocol: '1', table: 'postgres.public.accounts'})
    expect(first.valueSchema!.fields!.map(f => `${f.name}:${f.schema.type}${f.schema.optional ? '?' : ''}${f.schema.name ? ' ' + f.schema.name : ''}`)).toEqual(['id:int32', 'owner:string', 'balance:int32', `updated_at:int64 ${TIMESTAMP_SCHEMA_NAME}`])
  }, 90_000)

  it('incrementing and bulk modes; timestamp mode reads rows sharing a timestamp across the batch limit', async () => {
    await pg.query('CREATE TABLE events (seq BIGSERIAL PRIMARY KEY, body TEXT, raw BYTEA, day DATE, at TIMESTAMPTZ, ok BOOLEAN, price NUMERIC(10,2))')
    await pg.query('INSERT INTO events (body, raw, day, at, ok, price) SELECT \'e\' || g, \'\\x0102\'::bytea, \'2026-12-06\', \'2026-12-06 01:02:03.456789+00\', g % 2 = 0, 1.5 FROM generate_series(1, 25) g')
    const store = new OffsetStore()
    const inc = {...conn(), 'mode': 'incrementing', 'incrementing.column.name': 'seq', 'table.whitelist': 'public.events', 'topic.prefix': '', 'poll.interval.ms': '20', 'batch.max.rows': '10'}
    let t = await sourceTask(inc, store)
    const got: SourceRecord[] = []
    await withDeadline('25 rows', 10_000, async () => { const b = (await t.poll()) ?? []; got.push(...b); store.commit(b); return got.length >= 25 ? true : undefined })
    await t.stop()
    expect(got.map(r => row(r).seq)).toEqual(Array.from({length: 25}, (_, i) => i + 1))
    expect(row(got[0]!)).toEqual({seq: 1, body: 'e1', raw: Buffer.from([1, 2]), day: Date.parse('2026-12-06T00:00:00Z') / 86_400_000, at: Date.parse('2026-12-06T01:02:03.456Z'), ok: false, price: '1.50'})
    await pg.query('INSERT INTO events (body) VALUES (\'late\')')
    t = await sourceTask(inc, store)
    const after = await withDeadline('the new row', 10_000, async () => { const b = (await t.poll()) ?? []; store.commit(b); return b.length > 0 ? b : undefined })
    expect(after.map(r => row(r).body)).toEqual(['late'])
    await t.stop()

    const ts = new OffsetStore()
    const tsTask = await sourceTask({...conn(), 'mode': 'timestamp', 'timestamp.column.name': 'at', 'table.whitelist': 'events', 'topic.prefix': 'x.', 'poll.interval.ms': '20', 'batch.max.rows': '10'}, ts)
    const tsRows = await withDeadline('timestamp rows', 10_000, async () => { const b = (await tsTask.poll()) ?? []; return b.length > 0 ? b : undefined })
    expect(tsRows).toHaveLength(25) // all share one timestamp: one batch past the limit, none lost
    await tsTask.stop()

    const bulk = await sourceTask({...conn(), 'mode': 'bulk', 'table.whitelist': 'events', 'topic.prefix': 'b.', 'poll.interval.ms': '30'}, new OffsetStore())
    const b1 = await withDeadline('bulk 1', 10_000, async () => { const b = await bulk.poll(); return b && b.length > 0 ? b : undefined })
    const b2 = await withDeadline('bulk 2', 10_000, async () => { const b = await bulk.poll(); return b && b.length > 0 ? b : undefined })
    expect([b1.length, b2.length, b1[0]!.topic]).toEqual([26, 26, 'b.events'])
    await bulk.stop()

    const query = 'SELECT seq, upper(body) AS body FROM events WHERE body LIKE \'e1%\''
    const qs = new OffsetStore()
    const qProps = {...conn(), 'mode': 'incrementing', 'incrementing.column.name': 'seq', query, 'topic.prefix': 'q-events', 'poll.interval.ms': '20', 'batch.max.rows': '4'}
    let qt = await sourceTask(qProps, qs)
    const q1 = await withDeadline('query rows', 10_000, async () => { const b = (await qt.poll()) ?? []; qs.commit(b); return b.length > 0 ? b : undefined })
    expect(q1.map(r => [r.topic, row(r).body])).toEqual([['q-events', 'E1'], ['q-events', 'E10'], ['q-events', 'E11'], ['q-events', 'E12']])
    expect(q1[0]!.sourcePartition).toEqual({query})
    await qt.stop()
    qt = await sourceTask(qProps, qs)
    const q2 = await withDeadline('the rest after a restart', 10_000, async () => { const b = (await qt.poll()) ?? []; return b.length > 0 ? b : undefined })
    expect(q2.map(r => row(r).seq)).toEqual([13, 14, 15, 16])
    await qt.stop()
  }, 60_000)

  it('the connector gives one task per table (whitelist or the schema\'s tables), a query one task', async () => {
    const c = new PostgresSourceConnector()
    await c.start({...conn(), 'mode': 'bulk', 'topic.prefix': 'p-'})
    const tables = c.taskConfigs(10).map(t => t.tables)
    expect(tables).toEqual(expect.arrayContaining(['public.accounts', 'public.events']))
    expect(c.taskConfigs(1).map(t => t.tables!.split(',').length)[0]).toBe(tables.length)
    await c.start({...conn(), 'mode': 'bulk', 'topic.prefix': 'p-', 'table.whitelist': 'a,b,c'})
    expect(c.taskConfigs(2).map(t => t.tables)).toEqual(['a,c', 'b'])
    await c.start({...conn(), 'mode': 'incrementing', 'incrementing.column.name': 'id', 'topic.prefix': 'q', 'query': 'SELECT 1 AS id'})
    expect(c.taskConfigs(4)).toHaveLength(1)
    const errs = validateSourceConfig({...conn(), 'mode': 'timestamp+incrementing', 'topic.prefix': 'x'}).filter(cv => cv.errors.length > 0).map(cv => cv.name)
    expect(errs).toEqual(['incrementing.column.name', 'timestamp.column.name'])
    expect(validateSourceConfig({...conn(), 'mode': 'sometimes'}).filter(cv => cv.errors.length > 0).map(cv => cv.errors[0])).toEqual([
      'Invalid value sometimes for configuration mode: String must be one of: bulk, incrementing, timestamp, timestamp+incrementing',
      'Missing required configuration "topic.prefix" which has no default value.',
    ])
  })

  it('timestamp offsets keep microseconds (epoch ms + nanoseconds of the second, as Confluent\'s)', () => {
    const t = parseTimestampText('2026-12-06 03:04:05.123456')
    expect(t).toEqual({ms: Date.parse('2026-12-06T03:04:05.123Z'), nanos: 123_456_000})
    expect(timestampText(t)).toBe('2026-12-06 03:04:05.123456')
    expect(parseTimestampText('2026-12-06 03:04:05+02')).toEqual({ms: Date.parse('2026-12-06T01:04:05Z'), nanos: 0})
  })
})

describe.skipIf(postgresMissing)('PostgreSQL unreachable', () => {
  it('the tasks fail with the reason; new tasks work (from the committed offsets) once it is back', async () => {
    await pg.query('CREATE TABLE outage (id SERIAL PRIMARY KEY, v TEXT)')
    await pg.query('INSERT INTO outage (v) VALUES (\'before\')')
    const store = new OffsetStore()
    const srcProps = {...conn(), 'mode': 'incrementing', 'incrementing.column.name': 'id', 'table.whitelist': 'outage', 'topic.prefix': '', 'poll.interval.ms': '20'}
    const sinkProps = {...conn(), 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'k', 'auto.create': 'true', 'max.retries': '1', 'retry.backoff.ms': '10'}
    const src = await sourceTask(srcProps, store)
    const first = await withDeadline('first row', 10_000, async () => { const b = (await src.poll()) ?? []; store.commit(b); return b.length > 0 ? b : undefined })
    expect(first.map(r => row(r).v)).toEqual(['before'])
    const sink = new PostgresSinkTask()
    await sink.start(sinkProps)
    await sink.put([sinkRecord('sunk', 1, Schemas.INT32, item('a', 1))])

    await pg.stopServer()
    const srcError = await withDeadline('source failure', 10_000, async () => { try { await src.poll(); return undefined } catch (error) { return error as Error } })
    expect(srcError).toBeInstanceOf(ConnectException)
    expect(srcError.message).toMatch(/PostgreSQL source task: .*(terminat|ECONNREFUSED|shutdown)/i)
    const sinkError = await sink.put([sinkRecord('sunk', 2, Schemas.INT32, item('b', 2))]).then(() => null, (e: Error) => e)
    expect(sinkError).toBeInstanceOf(ConnectException)
    expect(sinkError!.message).toMatch(/(terminat|ECONNREFUSED|shutdown)/i)
    const starting = new PostgresSourceTask()
    starting.initialize({offsetStorageReader: store.reader})
    await expect(starting.start(srcProps)).rejects.toThrow(/could not connect to PostgreSQL at 127\.0\.0\.1:\d+ after 1 attempt\(s\): .*ECONNREFUSED/)
    await src.stop()
    await sink.stop()

    await pg.startServer()
    await pg.query('INSERT INTO outage (v) VALUES (\'after\')')
    const src2 = await sourceTask(srcProps, store)
    const next = await withDeadline('row after restart', 10_000, async () => { const b = (await src2.poll()) ?? []; return b.length > 0 ? b : undefined })
    expect(next.map(r => row(r).v)).toEqual(['after'])
    await src2.stop()
    const sink2 = new PostgresSinkTask()
    await sink2.start(sinkProps)
    await sink2.put([sinkRecord('sunk', 2, Schemas.INT32, item('b', 2))])
    expect((await pg.query('SELECT k, name FROM sunk ORDER BY k')).rows).toEqual([{k: 1, name: 'a'}, {k: 2, name: 'b'}])
    await sink2.stop()
  }, 60_000)
})
