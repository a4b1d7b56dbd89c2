// The Connect runtime in-process: an in-process broker, a Worker with its REST server (port 0)
// and the example plugin from examples/connect-plugin (loaded through plugin.path), driven over
// HTTP as Kafka Connect's REST API, and by the `kcli connectors` commands.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import ConnectorsCreate from '../../../src/commands/connectors/create.js'
import ConnectorsList from '../../../src/commands/connectors/list.js'
import ConnectorsOffsets from '../../../src/commands/connectors/offsets.js'
import ConnectorsPlugins from '../../../src/commands/connectors/plugins.js'
import ConnectorsStatus from '../../../src/commands/connectors/status.js'
import {KafkaClient} from '../../../src/lib/client/client.js'
import {Consumer} from '../../../src/lib/client/consumer.js'
import {ConfigDef, type ConnectRecord, RetriableException} from '../../../src/lib/connect/api.js'
import {loadPlugins} from '../../../src/lib/connect/plugins.js'
import {type RestServer, startRestServer} from '../../../src/lib/connect/rest.js'
import {StandaloneHerder} from '../../../src/lib/connect/standalone-herder.js'
import {parseWorkerConfig} from '../../../src/lib/connect/worker-config.js'
import {silentLogger} from '../../../src/server/logger.js'
import {eventually, http} from '../../e2e/connect-support.js'
import {PROJECT_ROOT, removeDir, startBroker, type TestBroker, tempDir} from '../../e2e/harness.js'
import {runCommand} from '../cli/run-command.js'

describe('Connect runtime (in-process worker, REST API, plugin.path, kcli connectors)', () => {
  const dir = tempDir('kcli-connect-rt-')
  let broker: TestBroker
  let worker: StandaloneHerder
  let rest: RestServer
  let url = ''
  const connectors = (argv: string[], command: Parameters<typeof runCommand>[0]) => runCommand(command, [...argv, '--connect-url', url], {env: {NO_COLOR: '1'}})

  beforeAll(async () => {
    broker = await startBroker()
    const config = parseWorkerConfig({
      'bootstrap.servers': broker.bootstrap,
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.storage.file.filename': join(dir, 'offsets.json'),
      'offset.flush.interval.ms': '100',
      'plugin.path': join(PROJECT_ROOT, 'examples'),
      listeners: 'http://127.0.0.1:0',
    })
    const plugins = await loadPlugins(config.pluginPath)
    worker = new StandaloneHerder(config, plugins, silentLogger())
    await worker.start()
    rest = await startRestServer(worker, config.restHost, config.restPort)
    url = rest.url
  }, 30_000)

  afterAll(async () => {
    await rest?.close()
    await worker?.shutdown()
    await broker?.stop()
    removeDir(dir)
  }, 30_000)

  async function topicValues(topic: string, count: number): Promise<string[]> {
    const client = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: broker.port}]})
    const consumer = new Consumer(client, {autoOffsetReset: 'earliest'})
    consumer.assign([{offset: 0n, partition: 0, topic}])
    const values: string[] = []
    const deadline = Date.now() + 20_000
    try {
      for await (const batch of consumer.batches()) {
        for (const r of batch.records) values.push(r.value!.toString())
        if (values.length >= count || Date.now() > deadline) break
      }
    } finally {
      await consumer.close()
      await client.close()
    }
    return values
  }

  it('loads a plugin package from plugin.path and runs its connector through a transformation chain', async () => {
    const plugins = await http('GET', `${url}/connector-plugins?connectorsOnly=false`)
    expect(plugins.body).toEqual(expect.arrayContaining([
      {class: 'com.example.kcli.CounterSourceConnector', type: 'source', version: '1.0.0'},
      {class: 'com.example.kcli.UpperCase', type: 'transformation', version: '1.0.0'},
      {class: 'org.apache.kafka.connect.file.FileStreamSinkConnector', type: 'sink', version: '4.0.0'},
      // built in: the JDBC/PostgreSQL and mirror connectors, every SMT and predicate
      {class: 'io.confluent.connect.jdbc.JdbcSinkConnector', type: 'sink', version: '4.0.0'},
      {class: 'io.confluent.connect.jdbc.JdbcSourceConnector', type: 'source', version: '4.0.0'},
      {class: 'io.kcli.connect.postgres.PostgresSinkConnector', type: 'sink', version: '4.0.0'},
      {class: 'org.apache.kafka.connect.mirror.MirrorSourceConnector', type: 'source', version: '4.0.0'},
      {class: 'org.apache.kafka.connect.transforms.HeaderFrom$Value', type: 'transformation', version: '4.0.0'},
      {class: 'org.apache.kafka.connect.transforms.predicates.HasHeaderKey', type: 'predicate', version: '4.0.0'},
    ]))
    const created = await http('POST', `${url}/connectors`, {name: 'counter', config: {'connector.class': 'Counter', topic: 'numbers', count: 25, transforms: 'up', 'transforms.up.type': 'com.example.kcli.UpperCase'}})
    expect(created.status).toBe(201)
    expect(created.body).toEqual({name: 'counter', config: {'connector.class': 'Counter', topic: 'numbers', count: '25', transforms: 'up', 'transforms.up.type': 'com.example.kcli.UpperCase', name: 'counter'}, tasks: [{connector: 'counter', task: 0}], type: 'source'})
    const values = await topicValues('numbers', 25)
    expect(values).toEqual(Array.from({length: 25}, (_, i) => `NUMBER ${i + 1}`))
    await eventually(() => http('GET', `${url}/connectors/counter/offsets`), a => JSON.stringify(a.body) === JSON.stringify({offsets: [{partition: {counter: 'numbers'}, offset: {n: 25}}]}), 10_000, 'offsets committed')
  })

  it('validates transforms: a missing or unknown type is listed per field', async () => {
    const v = await http('PUT', `${url}/connector-plugins/Counter/config/validate`, {'connector.class': 'Counter', name: 'x', topic: 't', transforms: 'a,b', 'transforms.b.type': 'com.example.Nope'})
    const errors = Object.fromEntries((v.body as {configs: Array<{value: {name: string; errors: string[]}}>}).configs.filter(c => c.value.errors.length).map(c => [c.value.name, c.value.errors]))
    expect(errors).toEqual({
      'transforms.a.type': ['Missing required configuration "transforms.a.type" which has no default value.'],
      'transforms.b.type': ['Invalid value com.example.Nope for configuration transforms.b.type: Class com.example.Nope could not be found.'],
    })
  })

  it('pause, resume, stop, offsets (KIP-875), restart and delete answer as Kafka Connect', async () => {
    expect((await http('PUT', `${url}/connectors/counter/pause`)).status).toBe(202)
    await eventually(() => http('GET', `${url}/connectors/counter/status`), a => (a.body as {tasks: Array<{state: string}>}).tasks[0]?.state === 'PAUSED', 10_000, 'paused')
    expect((await http('GET', `${url}/connectors/counter/status`)).body).toMatchObject({connector: {state: 'PAUSED'}})
    expect((await http('PATCH', `${url}/connectors/counter/offsets`, {offsets: [{partition: {counter: 'numbers'}, offset: {n: 5}}]})).body).toEqual({error_code: 400, message: "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/counter/stop' endpoint"})
    expect((await http('PUT', `${url}/connectors/counter/resume`)).status).toBe(202)
    expect((await http('GET', `${url}/connectors/counter/status`)).body).toMatchObject({connector: {state: 'RUNNING'}, tasks: [{id: 0, state: 'RUNNING'}]})

    expect((await http('PUT', `${url}/connectors/counter/stop`)).status).toBe(204)
    expect((await http('GET', `${url}/connectors/counter/status`)).body).toMatchObject({connector: {state: 'STOPPED'}, tasks: []})
    expect((await http('GET', `${url}/connectors/counter/tasks`)).body).toEqual([])
    expect((await http('GET', `${url}/connectors/counter/tasks/0/status`)).body).toEqual({error_code: 404, message: 'No status found for task counter-0'})
    // Rewind to after 20: the resumed connector emits 21..25 again.
    const altered = await connectors(['counter', '--alter', '{"offsets":[{"partition":{"counter":"numbers"},"offset":{"n":20}}]}', '--json'], ConnectorsOffsets)
    expect(altered.result).toEqual({message: 'The offsets for this connector have been altered successfully'})
    expect((await http('PUT', `${url}/connectors/counter/resume`)).status).toBe(202)
    const values = await topicValues('numbers', 30)
    expect(values.slice(25)).toEqual(['NUMBER 21', 'NUMBER 22', 'NUMBER 23', 'NUMBER 24', 'NUMBER 25'])

    const restart = await http('POST', `${url}/connectors/counter/restart?includeTasks=true`)
    expect(restart).toMatchObject({status: 202, body: {name: 'counter', connector: {state: 'RESTARTING'}, tasks: [{id: 0, state: 'RESTARTING'}], type: 'source'}})
    expect((await http('POST', `${url}/connectors/counter/restart`)).status).toBe(204)
    expect((await http('POST', `${url}/connectors/counter/restart?onlyFailed=true&includeTasks=true`)).body).toMatchObject({connector: {state: 'RUNNING'}, tasks: [{state: 'RUNNING'}]})
    expect((await http('POST', `${url}/connectors/counter/tasks/0/restart`)).status).toBe(204)
    expect((await http('POST', `${url}/connectors/counter/tasks/9/restart`)).body).toEqual({error_code: 404, message: 'Task counter-9 not found'})

    const put = await http('PUT', `${url}/connectors/counter/config`, {'connector.class': 'Counter', topic: 'numbers', count: '25'})
    expect(put.status).toBe(200)
    const patched = await http('PATCH', `${url}/connectors/counter/config`, {count: '30', nothing: null})
    expect((patched.body as {config: Record<string, string>}).config.count).toBe('30')
    expect((await http('PUT', `${url}/connectors/counter/config`, {'connector.class': 'Counter', name: 'other', topic: 'x'})).body).toEqual({error_code: 400, message: "Connector name configuration (other) doesn't match connector name in the URL (counter)"})
    expect((await http('POST', `${url}/connectors`, {name: 'counter', config: {'connector.class': 'Counter', topic: 'x'}})).body).toEqual({error_code: 409, message: 'Connector counter already exists'})
    expect((await http('PUT', `${url}/connectors/nope/pause`)).body).toEqual({error_code: 404, message: 'Unknown connector nope'})
  })

  it('retries a RetriableException within errors.retry.timeout, fails the task with the cause after it; predicates gate transforms', async () => {
    let failures = 0
    const def = new ConfigDef()
    worker.plugins.add({type: 'transformation', className: 'test.Flaky', version: '1', create: () => ({
      configure(props: Record<string, string>) { failures = Number(props.failures ?? 0) },
      apply(record: ConnectRecord) { if (failures-- > 0) throw new RetriableException('not yet'); return record },
      config: () => def,
      close() {},
    })})
    worker.plugins.add({type: 'predicate', className: 'test.IsOdd', version: '1', create: () => ({
      configure() {},
      test: (record: ConnectRecord) => Number(String(record.value).split(' ')[1]) % 2 === 1,
      config: () => def,
      close() {},
    })})
    const base = {'connector.class': 'Counter', count: '6', 'batch.size': '6'}
    expect((await http('POST', `${url}/connectors`, {name: 'retried', config: {...base, topic: 'retried', transforms: 'flaky,up', 'transforms.flaky.type': 'test.Flaky', 'transforms.flaky.failures': '2', 'errors.retry.timeout': '10000', 'errors.retry.delay.max.ms': '50',
      predicates: 'odd', 'predicates.odd.type': 'test.IsOdd', 'transforms.up.type': 'com.example.kcli.UpperCase', 'transforms.up.predicate': 'odd', 'transforms.up.negate': 'true'}})).status).toBe(201)
    expect(await topicValues('retried', 6)).toEqual(['number 1', 'NUMBER 2', 'number 3', 'NUMBER 4', 'number 5', 'NUMBER 6'])
    expect((await http('POST', `${url}/connectors`, {name: 'gave-up', config: {...base, topic: 'gave-up', transforms: 'flaky', 'transforms.flaky.type': 'test.Flaky', 'transforms.flaky.failures': '1000000'}})).status).toBe(201)
    const failed = await eventually(() => http('GET', `${url}/connectors/gave-up/status`), a => (a.body as {tasks: Array<{state: string}>}).tasks[0]?.state === 'FAILED', 10_000, 'task FAILED')
    expect((failed.body as {tasks: Array<{trace: string}>}).tasks[0]!.trace).toMatch(/^org\.apache\.kafka\.connect\.errors\.ConnectException: Tolerance exceeded in error handler\n[\s\S]*Caused by: org\.apache\.kafka\.connect\.errors\.RetriableException: not yet/)
    // Restarting only failed instances restarts the task and not the connector.
    const restarted = await http('POST', `${url}/connectors/gave-up/restart?includeTasks=true&onlyFailed=true`)
    expect(restarted.body).toMatchObject({connector: {state: 'RUNNING'}, tasks: [{id: 0, state: 'RESTARTING'}]})
    for (const n of ['retried', 'gave-up']) expect((await http('DELETE', `${url}/connectors/${n}`)).status).toBe(204)
  })

  it('initial_state PAUSED and STOPPED create no tasks until resumed; pause of a STOPPED connector gives PAUSED', async () => {
    for (const [name, state] of [['born-paused', 'paused'], ['born-stopped', 'STOPPED']] as const) {
      const r = await http('POST', `${url}/connectors`, {name, config: {'connector.class': 'Counter', topic: name, count: '3'}, initial_state: state})
      expect(r.status).toBe(201)
      expect((await http('GET', `${url}/connectors/${name}/status`)).body).toMatchObject({connector: {state: state.toUpperCase()}, tasks: []})
    }
    expect((await http('PUT', `${url}/connectors/born-stopped/pause`)).status).toBe(202)
    expect((await http('GET', `${url}/connectors/born-stopped/status`)).body).toMatchObject({connector: {state: 'PAUSED'}, tasks: []})
    expect((await http('POST', `${url}/connectors`, {name: 'x', config: {'connector.class': 'Counter', topic: 'x'}, initial_state: 'SLEEPING'})).status).toBe(500)
    for (const name of ['born-paused', 'born-stopped']) {
      expect((await http('PUT', `${url}/connectors/${name}/resume`)).status).toBe(202)
      expect(await topicValues(name, 3)).toEqual(['number 1', 'number 2', 'number 3'])
      expect((await http('DELETE', `${url}/connectors/${name}`)).status).toBe(204)
    }
  })

  it('kcli connectors: create, list, status, plugins, offsets, with tables and --json', async () => {
    const created = await connectors(['sink', '-c', 'connector.class=FileStreamSink', '-c', `file=${join(dir, 'numbers.txt')}`, '-c', 'topics=numbers', '--json'], ConnectorsCreate)
    expect(created.exitCode).toBe(0)
    expect(created.result).toMatchObject({name: 'sink', type: 'sink'})
    // A new task is UNASSIGNED until it has started (as in Kafka Connect).
    await eventually(() => http('GET', `${url}/connectors/sink/status`), r => (r.body as {tasks: Array<{state: string}>}).tasks[0]?.state === 'RUNNING', 10_000, 'sink task RUNNING')
    const list = await connectors([], ConnectorsList)
    expect(list.stdout).toMatch(/CONNECTOR\s+TYPE\s+STATE\s+TASKS\s+CLASS/)
    expect(list.stdout).toMatch(/counter\s+source\s+RUNNING\s+1\/1\s+Counter/)
    expect(list.stdout).toMatch(/sink\s+sink\s+RUNNING\s+1\/1\s+FileStreamSink/)
    const status = await connectors(['sink', '--json'], ConnectorsStatus)
    expect(status.result).toMatchObject({name: 'sink', connector: {state: 'RUNNING'}, tasks: [{id: 0, state: 'RUNNING'}]})
    const plugins = await connectors(['--json'], ConnectorsPlugins)
    expect((plugins.result as {plugins: Array<{class: string}>}).plugins.map(p => p.class)).toContain('com.example.kcli.CounterSourceConnector')
    const missing = await connectors(['nope', '--json'], ConnectorsStatus)
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toContain('No status found for connector nope (HTTP 404)')
    const unreachable = await runCommand(ConnectorsList, ['--connect-url', 'http://127.0.0.1:1', '--json'], {env: {NO_COLOR: '1'}})
    expect(unreachable.exitCode).toBe(1)
    expect(unreachable.stderr).toContain('cannot reach the Connect REST API at http://127.0.0.1:1')
    expect((await http('DELETE', `${url}/connectors/sink`)).status).toBe(204)
    expect((await http('DELETE', `${url}/connectors/sink`)).body).toEqual({error_code: 404, message: 'Connector sink not found'})
  })
})
