// Kafka Connect distributed mode with real processes: a kcli broker, two `kcli connect distributed`
// workers spawned from dist/ (one group, short timeouts: session 6 s, lost work reassigned after
// 1 s), a private PostgreSQL, records produced with kafkajs. Connectors are created by HTTP POST
// through either worker (a non-leader forwards to the leader); the internal topics are created
// compacted with Kafka's partition counts; the work is spread over both workers, each status
// naming its worker_id. One worker is SIGKILLed while records are being produced: its tasks run
// on the other within the session timeout plus the delay, and the PostgreSQL sink ends up holding
// each key's latest value, no row lost. Then pause/resume/restart and the statuses as Kafka
// Connect's, and `kcli connectors` against a distributed worker. Last, a third worker joins and
// takes its share, and an exactly-once file source (exactly.once.source.support=enabled) moved by a
// SIGKILL mid-file writes each line once (read_committed).
import {execFile, execFileSync} from 'node:child_process'
import {statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {Kafka, logLevel, Partitioners, type Producer} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it, onTestFailed} from 'vitest'
import {distBuilt, distributedWorkerProperties, eventually, http, type Spawned, spawnDistBroker, spawnDistributedWorker} from './connect-support.js'
import {PROJECT_ROOT, removeDir, tempDir} from './harness.js'
import {postgresMissing, startPostgres, type TestPostgres} from './postgres.js'

const skip = !distBuilt || postgresMissing !== null
if (skip) console.warn(`test/e2e/connect-distributed.test.ts: skipped: ${postgresMissing ?? 'dist/ has no connect command; run `npm run build` first'}`)

type StateInfo = {state: string; worker_id: string; trace?: string}
type Status = {name: string; connector: StateInfo; tasks: Array<StateInfo & {id: number}>; type: string}

const GROUP = 'kcli-dist-e2e'
const SCHEMA = {type: 'struct', name: 'account', optional: false, fields: [{field: 'owner', type: 'string', optional: false}, {field: 'n', type: 'int32', optional: false}]}
const KEYS = Array.from({length: 40}, (_, i) => `k${i}`)

describe.skipIf(skip)('kcli connect distributed (real processes: broker, two workers, PostgreSQL)', () => {
  const dir = tempDir('kcli-connect-dist-e2e-')
  let broker: Spawned<{listeners: Array<{port: number}>}>
  let pg: TestPostgres
  let bootstrap = ''
  let kafka: Kafka
  let producer: Producer
  const workers: Array<Spawned<{rest: string; workerId: string}>> = []

  beforeAll(async () => {
    [broker, pg] = await Promise.all([spawnDistBroker(join(dir, 'broker'), {'group.initial.rebalance.delay.ms': '0'}), startPostgres()])
    bootstrap = `127.0.0.1:${broker.status.listeners[0]!.port}`
    kafka = new Kafka({clientId: 'kcli-connect-dist-e2e', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 5}})
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'accounts', numPartitions: 2}]})
    await admin.disconnect()
    producer = kafka.producer({createPartitioner: Partitioners.DefaultPartitioner})
    await producer.connect()
    const spawned = await Promise.all(['w1', 'w2'].map(name => spawnWorker(name)))
    workers.push(...spawned)
  }, 90_000)

  /** Every worker with exactly-once source support (sinks are unaffected). */
  const spawnWorker = (name: string) => spawnDistributedWorker(distributedWorkerProperties(dir, bootstrap, name, GROUP, {'exactly.once.source.support': 'enabled'}))

  afterAll(async () => {
    await producer?.disconnect().catch(() => {})
    for (const w of workers) await w.kill('SIGKILL')
    await broker?.kill()
    await pg?.stop()
    removeDir(dir)
  }, 60_000)

  const status = async (url: string, name: string) => (await http('GET', `${url}/connectors/${name}/status`)).body as Status
  const value = (key: string, n: number) => JSON.stringify({schema: SCHEMA, payload: {owner: `owner of ${key}`, n}})
  const produceRound = (n: number) => producer.send({topic: 'accounts', messages: KEYS.map(k => ({key: k, value: value(k, n)}))})
  const rows = async () => (await pg.query('SELECT id, n FROM accounts ORDER BY id')).rows as Array<{id: string; n: number}>
  /** Every key, each with value n. */
  const allAt = (n: number) => (r: Array<{id: string; n: number}>) => r.length === KEYS.length && r.every(x => x.n === n)

  /** On failure, the workers' logs. */
  const dumpLogs = () => onTestFailed(() => {
    for (const w of workers) console.log(`--- worker ${w.status.workerId}:\n${w.stderr().slice(-8000)}`)
    for (const group of ['connect-pg-sink']) console.log(execFileSync(process.execPath, [join(PROJECT_ROOT, 'bin/run.js'), 'groups', 'describe', group, '--bootstrap-server', bootstrap], {encoding: 'utf8', timeout: 20_000}))
    for (const w of workers.filter(x => x.child.exitCode === null && x.child.signalCode === null)) console.log(`status from ${w.status.workerId}: ${execFileSync('curl', ['-s', `${w.status.rest}/connectors?expand=status`], {encoding: 'utf8', timeout: 10_000})}`)
  })

  it('connectors created through either worker run on both; a SIGKILLed worker\'s tasks move to the other; the sink holds every key\'s latest value', async () => {
    dumpLogs()
    const [u1, u2] = workers.map(w => w.status.rest) as [string, string]
    for (const u of [u1, u2]) expect(((await http('GET', `${u}/`)).body as {version: string}).version).toMatch(/^\d+\.\d+/)

    // The internal topics: compacted; config 1 partition, offsets 25, status 5 (Kafka's defaults).
    const admin = kafka.admin()
    await admin.connect()
    try {
      const meta = await admin.fetchTopicMetadata({topics: [`${GROUP}-configs`, `${GROUP}-offsets`, `${GROUP}-status`]})
      expect(Object.fromEntries(meta.topics.map(t => [t.name, t.partitions.length]))).toEqual({[`${GROUP}-configs`]: 1, [`${GROUP}-offsets`]: 25, [`${GROUP}-status`]: 5})
      const configs = await admin.describeConfigs({includeSynonyms: false, resources: meta.topics.map(t => ({name: t.name, type: 2}))})
      for (const r of configs.resources) expect(r.configEntries.find(e => e.configName === 'cleanup.policy')?.configValue).toBe('compact')
    } finally {
      await admin.disconnect()
    }

    await produceRound(0)
    // One connector through each worker.
    const sink = await http('POST', `${u2}/connectors`, {name: 'pg-sink', config: {
      'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector', 'tasks.max': '2', topics: 'accounts',
      'connection.url': pg.jdbcUrl, 'connection.user': pg.user, 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'id', 'auto.create': 'true',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'true',
    }})
    expect(sink.status).toBe(201)
    expect(sink.body).toMatchObject({name: 'pg-sink', type: 'sink', tasks: []})
    const file = await http('POST', `${u1}/connectors`, {name: 'file-sink', config: {'connector.class': 'FileStreamSink', 'tasks.max': '1', topics: 'accounts', file: join(dir, 'accounts.txt')}})
    expect(file.status).toBe(201)
    expect((await http('POST', `${u1}/connectors`, {name: 'pg-sink', config: {'connector.class': 'FileStreamSink', topics: 'x'}})).body).toEqual({error_code: 409, message: 'Connector pg-sink already exists'})

    // Both workers see both connectors; every instance RUNNING; the work is spread over the two workers.
    const ids = new Set(workers.map(w => w.status.workerId))
    const running = (s: Status, tasks: number) => s.connector.state === 'RUNNING' && s.tasks.length === tasks && s.tasks.every(t => t.state === 'RUNNING' && ids.has(t.worker_id))
    const [pgStatus, fileStatus] = await eventually(() => Promise.all([status(u1, 'pg-sink'), status(u2, 'file-sink')]), ([p, f]) => running(p, 2) && running(f, 1), 30_000, 'both connectors RUNNING')
    expect(new Set([pgStatus.connector, fileStatus.connector, ...pgStatus.tasks, ...fileStatus.tasks].map(s => s.worker_id)).size).toBe(2)
    expect(((await http('GET', `${u2}/connectors`)).body as string[]).sort()).toEqual(['file-sink', 'pg-sink'])
    await eventually(rows, allAt(0), 30_000, 'round 0 in PostgreSQL')

    // SIGKILL the worker running pg-sink's task 0 while rounds of values are being produced.
    const victim = workers.find(w => w.status.workerId === pgStatus.tasks[0]!.worker_id)!
    const survivor = workers.find(w => w !== victim)!
    let round = 1
    let producing = true
    const rounds = (async () => { while (producing) { await produceRound(round++); await new Promise(resolve => setTimeout(resolve, 50)) } })()
    await new Promise(resolve => setTimeout(resolve, 300))
    const killedAt = Date.now()
    await victim.kill('SIGKILL')
    const url = survivor.status.rest
    const moved = await eventually(() => Promise.all([status(url, 'pg-sink'), status(url, 'file-sink')]), ([p, f]) => [p, f].every(s => s.connector.worker_id === survivor.status.workerId && s.tasks.length > 0 && s.tasks.every(t => t.state === 'RUNNING' && t.worker_id === survivor.status.workerId)), 30_000, 'every instance RUNNING on the surviving worker')
    const failoverMs = Date.now() - killedAt
    console.log(`connect-distributed: the killed worker's tasks RUNNING on the other ${failoverMs} ms after SIGKILL (session.timeout.ms 6000, scheduled.rebalance.max.delay.ms 1000)`)
    expect(moved[0].tasks.map(t => t.id)).toEqual([0, 1])
    // Detection takes the session timeout; then one rebalance, the 1 s delay, another rebalance.
    expect(failoverMs).toBeLessThan(6000 + 1000 + 6000)
    producing = false
    await rounds
    const last = round - 1
    await eventually(rows, allAt(last), 30_000, `every key at its latest value (round ${last})`)
    expect((await rows()).map(r => r.id).sort()).toEqual([...KEYS].sort())
  }, 120_000)

  it('pause, resume, restart and the status endpoint as Kafka Connect\'s; kcli connectors against a distributed worker', async () => {
    dumpLogs()
    const survivor = workers.find(w => w.child.exitCode === null && w.child.signalCode === null)!
    const url = survivor.status.rest
    const me = survivor.status.workerId
    expect((await http('PUT', `${url}/connectors/pg-sink/pause`)).status).toBe(202)
    const paused = await eventually(() => status(url, 'pg-sink'), s => s.connector.state === 'PAUSED' && s.tasks.every(t => t.state === 'PAUSED'), 15_000, 'pg-sink PAUSED')
    expect(paused).toEqual({name: 'pg-sink', type: 'sink', connector: {state: 'PAUSED', worker_id: me}, tasks: [{id: 0, state: 'PAUSED', worker_id: me}, {id: 1, state: 'PAUSED', worker_id: me}]})
    expect(Object.keys(paused)).toEqual(['name', 'connector', 'tasks', 'type']) // Kafka's field order
    await produceRound(1000)
    await new Promise(resolve => setTimeout(resolve, 1500))
    expect((await rows()).some(r => r.n === 1000)).toBe(false)
    expect((await http('PUT', `${url}/connectors/pg-sink/resume`)).status).toBe(202)
    await eventually(() => status(url, 'pg-sink'), s => s.connector.state === 'RUNNING' && s.tasks.every(t => t.state === 'RUNNING'), 15_000, 'pg-sink RUNNING again')
    await eventually(rows, allAt(1000), 30_000, 'the round produced while paused')

    const restart = await http('POST', `${url}/connectors/pg-sink/restart?includeTasks=true`)
    expect(restart.status).toBe(202)
    expect(restart.body).toEqual({name: 'pg-sink', type: 'sink', connector: {state: 'RESTARTING', worker_id: me}, tasks: [{id: 0, state: 'RESTARTING', worker_id: me}, {id: 1, state: 'RESTARTING', worker_id: me}]})
    expect((await http('POST', `${url}/connectors/pg-sink/tasks/1/restart`)).status).toBe(204)
    expect((await http('POST', `${url}/connectors/file-sink/restart`)).status).toBe(204)
    await eventually(() => status(url, 'pg-sink'), s => s.connector.state === 'RUNNING' && s.tasks.every(t => t.state === 'RUNNING'), 15_000, 'pg-sink RUNNING after the restarts')
    expect((await http('GET', `${url}/connectors/pg-sink/tasks/0/status`)).body).toEqual({id: 0, state: 'RUNNING', worker_id: me})
    expect((await http('GET', `${url}/connectors/nope/status`))).toMatchObject({status: 404, body: {error_code: 404, message: 'No status found for connector nope'}})
    await produceRound(2000)
    await eventually(rows, allAt(2000), 30_000, 'a round after the restarts')

    // kcli connectors, unchanged, against a distributed worker.
    const {stdout} = await promisify(execFile)(process.execPath, [join(PROJECT_ROOT, 'bin/run.js'), 'connectors', 'status', 'pg-sink', '--connect-url', url, '--json'], {env: {...process.env, NO_COLOR: '1'}, timeout: 30_000})
    expect(JSON.parse(stdout)).toMatchObject({name: 'pg-sink', connector: {state: 'RUNNING', worker_id: me}})

    // Stop: STOPPED, no tasks; deleted: gone from both the list and the statuses.
    expect((await http('PUT', `${url}/connectors/file-sink/stop`)).status).toBe(204)
    await eventually(() => status(url, 'file-sink'), s => s.connector.state === 'STOPPED' && s.tasks.length === 0, 15_000, 'file-sink STOPPED')
    expect((await http('DELETE', `${url}/connectors/file-sink`)).status).toBe(204)
    expect((await http('GET', `${url}/connectors`)).body).toEqual(['pg-sink'])
  }, 90_000)

  it('a joining worker takes its share in two rounds; an exactly-once source moved by a SIGKILL writes each line once', async () => {
    dumpLogs()
    const alive = () => workers.filter(w => w.child.exitCode === null && w.child.signalCode === null)
    const w3 = await spawnWorker('w3')
    workers.push(w3)
    // Incremental: one of pg-sink's tasks is revoked from the old worker, then assigned to the new one.
    const spread = await eventually(() => status(w3.status.rest, 'pg-sink'), s => s.tasks.length === 2 && s.tasks.every(t => t.state === 'RUNNING') && new Set(s.tasks.map(t => t.worker_id)).size === 2, 30_000, 'pg-sink\'s tasks on both workers')
    expect(spread.tasks.map(t => t.worker_id)).toContain(w3.status.workerId)
    // A round produced now reaches PostgreSQL, also for the partitions of the task that moved to w3
    // (it did not when a Fetch sent before the consumer's rejoin moved the new generation's position
    // past records it never handed over: the task committed a round it never wrote).
    await produceRound(3000)
    await eventually(rows, allAt(3000), 30_000, 'a round after the new worker joined')

    const LINES = 100_000
    writeFileSync(join(dir, 'lines.txt'), Array.from({length: LINES}, (_, i) => `line ${i + 1}`).join('\n') + '\n')
    const created = await http('POST', `${w3.status.rest}/connectors`, {name: 'lines-src', config: {'connector.class': 'FileStreamSource', 'tasks.max': '1', topic: 'lines', file: join(dir, 'lines.txt'), 'batch.size': '500'}})
    expect(created.status).toBe(201)
    const started = await eventually(() => status(w3.status.rest, 'lines-src'), s => s.tasks[0]?.state === 'RUNNING', 30_000, 'lines-src RUNNING')
    await new Promise(resolve => setTimeout(resolve, 200))
    const fileSize = statSync(join(dir, 'lines.txt')).size
    const committed = ((await http('GET', `${w3.status.rest}/connectors/lines-src/offsets`)).body as {offsets: Array<{offset: {position: number}}>}).offsets[0]?.offset.position ?? 0
    console.log(`connect-distributed: lines-src's worker SIGKILLed with ${committed} of ${fileSize} bytes committed`)
    expect(committed).toBeLessThan(fileSize) // killed mid-file
    const victim = alive().find(w => w.status.workerId === started.tasks[0]!.worker_id)!
    const survivor = alive().find(w => w !== victim)!
    await victim.kill('SIGKILL')
    await eventually(() => status(survivor.status.rest, 'lines-src'), s => s.tasks[0]?.state === 'RUNNING' && s.tasks[0].worker_id === survivor.status.workerId, 30_000, 'lines-src RUNNING on the other worker')

    // read_committed: every line once, in order (the killed task's open transaction aborted, its offsets with it).
    const consumer = kafka.consumer({groupId: 'lines-reader', readUncommitted: false, maxWaitTimeInMs: 200})
    await consumer.connect()
    const got: string[] = []
    try {
      await consumer.subscribe({topic: 'lines', fromBeginning: true})
      await consumer.run({eachBatch: async ({batch}) => { for (const m of batch.messages) got.push(m.value!.toString()) }})
      await eventually(() => got.length, n => n >= LINES, 40_000, `${LINES} committed lines`)
      await new Promise(resolve => setTimeout(resolve, 500))
    } finally {
      await consumer.disconnect()
    }
    expect(got.length).toBe(LINES)
    expect(got.every((line, i) => line === `line ${i + 1}`)).toBe(true)
  }, 120_000)
})
