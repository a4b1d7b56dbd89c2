// The PostgreSQL (JDBC) connectors through a real `kcli connect standalone` worker spawned from
// dist/, a kcli broker and a private PostgreSQL, connectors created over the worker's REST API,
// records produced and consumed with kafkajs. Sink: each key's latest value, tombstones delete,
// PostgreSQL stopped -> task FAILED with the reason, restarted -> RUNNING and the rest arrives.
// Source (timestamp+incrementing): inserts and updates arrive in order, each once, across a worker
// restart. Both run transforms configured in the connector JSON (InsertField, Filter under a
// HasHeaderKey predicate; ValueToKey + ExtractField$Key).
import {join} from 'node:path'
import {type Consumer, Kafka, logLevel, Partitioners, type Producer} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {distBuilt, eventually, http, type Spawned, spawnDistBroker, spawnWorker, workerProperties} from './connect-support.js'
import {removeDir, tempDir} from './harness.js'
import {postgresMissing, startPostgres, type TestPostgres} from './postgres.js'

const skip = !distBuilt || postgresMissing !== null
if (skip) console.warn(`test/e2e/connect-postgres.test.ts: skipped: ${postgresMissing ?? 'dist/ has no connect command; run `npm run build` first'}`)

type Status = {connector: {state: string}; tasks: Array<{id: number; state: string; trace?: string}>}

describe.skipIf(skip)('PostgreSQL connectors through kcli connect standalone (real processes)', () => {
  const dir = tempDir('kcli-connect-pg-e2e-')
  let broker: Spawned<{listeners: Array<{port: number}>}>
  let pg: TestPostgres
  let bootstrap = ''
  let kafka: Kafka
  let producer: Producer
  const consumers: Consumer[] = []
  const workers: Array<Spawned<{rest: string}>> = []

  beforeAll(async () => {
    [broker, pg] = await Promise.all([spawnDistBroker(join(dir, 'broker')), startPostgres()])
    bootstrap = `127.0.0.1:${broker.status.listeners[0]!.port}`
    kafka = new Kafka({clientId: 'kcli-connect-pg-e2e', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 5}})
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'accounts', numPartitions: 1}, {topic: 'pg-items', numPartitions: 1}]})
    await admin.disconnect()
    producer = kafka.producer({createPartitioner: Partitioners.DefaultPartitioner})
    await producer.connect()
  }, 90_000)

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => {})
    await producer?.disconnect().catch(() => {})
    for (const w of workers) await w.kill('SIGKILL')
    await broker?.kill()
    await pg?.stop()
    removeDir(dir)
  }, 90_000)

  async function start(name: string): Promise<string> {
    const w = await spawnWorker(workerProperties(dir, bootstrap, name))
    workers.push(w)
    return w.status.rest
  }

  const status = async (url: string, name: string) => (await http('GET', `${url}/connectors/${name}/status`)).body as Status

  describe('JDBC sink', () => {
    const SCHEMA = {type: 'struct', name: 'account', optional: false, fields: [{field: 'owner', type: 'string', optional: false}, {field: 'n', type: 'int32', optional: false}]}
    const value = (key: string, n: number) => JSON.stringify({schema: SCHEMA, payload: {owner: `owner of ${key}`, n}})
    const keys = Array.from({length: 10}, (_, i) => `k${i}`)
    const rows = async () => (await pg.query('SELECT id, owner, n, origin FROM accounts ORDER BY id')).rows as Array<{id: string; owner: string; n: number; origin: string}>
    const expected = (present: string[], n: number) => present.map(id => ({id, owner: `owner of ${id}`, n, origin: 'kcli-connect'}))

    it('holds each key\'s latest value with tombstoned keys deleted; PostgreSQL down -> FAILED with the reason; restart -> RUNNING and the rest arrives', async () => {
      // Three rounds of values, then tombstones for k3 and k7, before the connector exists.
      for (let n = 0; n < 3; n++) await producer.send({topic: 'accounts', messages: keys.map(k => ({key: k, value: value(k, n)}))})
      // A record with a `skip` header is dropped by Filter under HasHeaderKey (sink records carry their headers).
      await producer.send({topic: 'accounts', messages: [{key: 'k3', value: null}, {key: 'k7', value: null}, {key: 'k9', value: value('k9', 99), headers: {skip: 'yes'}}]})

      const url = await start('pgsink')
      const created = await http('POST', `${url}/connectors`, {name: 'pg-sink', config: {
        'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector', 'tasks.max': '1', topics: 'accounts',
        'connection.url': pg.jdbcUrl, 'connection.user': pg.user, 'connection.attempts': '1', 'connection.backoff.ms': '100',
        'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'id', 'delete.enabled': 'true', 'auto.create': 'true',
        'max.retries': '0', 'retry.backoff.ms': '100',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'true',
        transforms: 'origin,skipMarked', 'transforms.origin.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
        'transforms.origin.static.field': 'origin', 'transforms.origin.static.value': 'kcli-connect',
        'transforms.skipMarked.type': 'org.apache.kafka.connect.transforms.Filter', 'transforms.skipMarked.predicate': 'marked',
        predicates: 'marked', 'predicates.marked.type': 'org.apache.kafka.connect.transforms.predicates.HasHeaderKey', 'predicates.marked.name': 'skip',
      }})
      expect(created.status).toBe(201)
      const afterFirst = expected(keys.filter(k => k !== 'k3' && k !== 'k7'), 2)
      await eventually(rows, r => JSON.stringify(r) === JSON.stringify(afterFirst), 60_000, 'the table holding each key\'s latest value')

      // PostgreSQL goes away; the next records cannot be written and the task fails with the reason.
      await pg.stopServer()
      await producer.send({topic: 'accounts', messages: [...keys.map(k => ({key: k, value: value(k, 3)})), {key: 'k0', value: null}]})
      const failed = await eventually(() => status(url, 'pg-sink'), s => s.tasks[0]?.state === 'FAILED', 60_000, 'the sink task FAILED')
      expect(failed.connector.state).toBe('RUNNING')
      expect(failed.tasks[0]!.trace).toMatch(/^org\.apache\.kafka\.connect\.errors\.ConnectException: [^\n]*PostgreSQL at 127\.0\.0\.1:\d+/)

      // Back, and restarted with its tasks: RUNNING, and the records not yet written arrive.
      await pg.startServer()
      const restart = await http('POST', `${url}/connectors/pg-sink/restart?includeTasks=true`)
      expect(restart.status).toBe(202)
      await eventually(() => status(url, 'pg-sink'), s => s.connector.state === 'RUNNING' && s.tasks[0]?.state === 'RUNNING', 60_000, 'the sink RUNNING again')
      await eventually(rows, r => JSON.stringify(r) === JSON.stringify(expected(keys.filter(k => k !== 'k0'), 3)), 60_000, 'the records written after the outage')
      expect((await status(url, 'pg-sink')).tasks[0]!.state).toBe('RUNNING')
    }, 240_000)
  })

  describe('JDBC source (timestamp+incrementing)', () => {
    it('inserts and updates arrive in order, each once, keyed by id through ValueToKey + ExtractField$Key, across a worker restart', async () => {
      await pg.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, updated_at timestamp NOT NULL DEFAULT clock_timestamp())')
      const seen: Array<{key: string; id: number; name: string}> = []
      const consumer = kafka.consumer({groupId: 'pg-items-reader', sessionTimeout: 10_000, heartbeatInterval: 1000})
      consumers.push(consumer)
      await consumer.connect()
      await consumer.subscribe({topic: 'pg-items', fromBeginning: true})
      await consumer.run({eachMessage: async ({message}) => {
        const v = JSON.parse(message.value!.toString()) as {id: number; name: string}
        seen.push({key: message.key!.toString(), id: v.id, name: v.name})
      }})
      const insert = (name: string) => pg.query('INSERT INTO items (name) VALUES ($1)', [name])
      const update = (id: number, name: string) => pg.query('UPDATE items SET name = $2, updated_at = clock_timestamp() WHERE id = $1', [id, name])
      const config = {
        'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector', 'tasks.max': '1',
        'connection.url': pg.jdbcUrl, 'connection.user': pg.user, 'connection.attempts': '1',
        mode: 'timestamp+incrementing', 'incrementing.column.name': 'id', 'timestamp.column.name': 'updated_at',
        'table.whitelist': 'items', 'topic.prefix': 'pg-', 'poll.interval.ms': '200',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'false',
        transforms: 'toKey,idOnly',
        'transforms.toKey.type': 'org.apache.kafka.connect.transforms.ValueToKey', 'transforms.toKey.fields': 'id',
        'transforms.idOnly.type': 'org.apache.kafka.connect.transforms.ExtractField$Key', 'transforms.idOnly.field': 'id',
      }
      const create = async (url: string) => expect((await http('POST', `${url}/connectors`, {name: 'pg-source', config})).status).toBe(201)
      const names = () => seen.map(s => `${s.key}:${s.id}:${s.name}`)

      for (const n of ['a', 'b', 'c']) await insert(n)
      const url = await start('pgsource')
      await create(url)
      await eventually(() => seen.length, n => n >= 3, 60_000, 'the first rows')
      await update(2, 'b2')
      await insert('d')
      await eventually(() => seen.length, n => n >= 5, 60_000, 'an update and an insert')

      // The worker stops (its offsets flushed to its file); changes made meanwhile arrive after it restarts.
      await workers.pop()!.kill('SIGTERM')
      await insert('e')
      await update(1, 'a2')
      const url2 = await start('pgsource')
      await create(url2)
      await eventually(() => seen.length, n => n >= 7, 60_000, 'the changes made while the worker was down')
      // A last row: once it is there, anything duplicated before it would be too.
      await insert('f')
      await eventually(() => seen.length, n => n >= 8, 60_000, 'the last row')
      expect(names()).toEqual(['1:1:a', '2:2:b', '3:3:c', '2:2:b2', '4:4:d', '5:5:e', '1:1:a2', '6:6:f'])
      expect((await status(url2, 'pg-source')).tasks[0]!.state).toBe('RUNNING')
    }, 240_000)
  })
})
