// The config and status stores applying records as Kafka Connect writes them to its internal
// topics (keys and JSON values of KafkaConfigBackingStore / KafkaStatusBackingStore), without a
// broker: records go straight to the store's log callback.
import {describe, expect, it} from 'vitest'
import {KafkaConfigBackingStore, type RestartRequest} from '../../../../src/lib/connect/distributed/config-backing-store.js'
import type {LogRecord} from '../../../../src/lib/connect/distributed/kafka-based-log.js'
import {KafkaStatusBackingStore} from '../../../../src/lib/connect/distributed/status-backing-store.js'
import {parseWorkerConfig} from '../../../../src/lib/connect/worker-config.js'
import {silentLogger} from '../../../../src/server/logger.js'

const config = parseWorkerConfig({'bootstrap.servers': '127.0.0.1:1'}, 'distributed')
let offset = 0
const record = (key: string, value: unknown): LogRecord => ({key: Buffer.from(key), offset: offset++, partition: 0, value: value === null ? null : Buffer.from(JSON.stringify(value))})
const feed = (store: object, records: LogRecord[]) => { for (const r of records) (store as {apply(r: LogRecord): void}).apply(r) }

describe('KafkaConfigBackingStore', () => {
  it('applies connector configs, task configs only once committed, target states (state.v2 first), restarts and deletions', () => {
    const store = new KafkaConfigBackingStore('configs', config, silentLogger(), 'test')
    const heard: string[] = []
    const restarts: RestartRequest[] = []
    store.listener = {
      onConnectorConfig: (n) => heard.push(`config ${n}`),
      onRestartRequest: (r) => restarts.push(r),
      onTargetState: (n) => heard.push(`target ${n}`),
      onTaskConfigs: (n) => heard.push(`tasks ${n}`),
    }
    offset = 0
    feed(store, [
      record('connector-a', {properties: {'connector.class': 'FileStreamSink', topics: 't'}}),
      record('task-a-0', {properties: {task: '0'}}),
      record('task-a-1', {properties: {task: '1'}}),
    ])
    expect(store.connectorNames()).toEqual(['a'])
    expect(store.tasks('a')).toEqual([]) // not committed yet
    feed(store, [record('commit-a', {tasks: 2})])
    expect(store.tasks('a')).toEqual([{task: '0'}, {task: '1'}])
    expect(store.targetState('a')).toBe('STARTED')
    // Kafka 3.5+: "state" says PAUSED for STOPPED, "state.v2" the real one; older writers only "state".
    feed(store, [record('target-state-a', {state: 'PAUSED', 'state.v2': 'STOPPED'})])
    expect(store.targetState('a')).toBe('STOPPED')
    feed(store, [record('target-state-a', {state: 'PAUSED'})])
    expect(store.targetState('a')).toBe('PAUSED')
    feed(store, [record('restart-connector-a', {'include-tasks': true, 'only-failed': false})])
    expect(restarts).toEqual([{connector: 'a', includeTasks: true, onlyFailed: false}])
    feed(store, [record('commit-a', {tasks: 0})])
    expect(store.tasks('a')).toEqual([])
    feed(store, [record('connector-a', null)])
    expect(store.connectorNames()).toEqual([])
    expect(store.offset).toBe(BigInt(offset))
    expect(heard).toEqual(['config a', 'tasks a', 'target a', 'target a', 'tasks a', 'config a'])
  })
})

describe('KafkaStatusBackingStore', () => {
  it('keeps the latest status per connector and task; another worker\'s older generation is ignored; null deletes', () => {
    const store = new KafkaStatusBackingStore('status', config, silentLogger(), 'test')
    feed(store, [
      record('status-connector-a', {state: 'RUNNING', trace: null, worker_id: 'w1:8083', generation: 5}),
      record('status-task-a-0', {state: 'RUNNING', trace: null, worker_id: 'w1:8083', generation: 5}),
      record('status-task-a-0', {state: 'RUNNING', trace: null, worker_id: 'w2:8083', generation: 7}),
      record('status-task-a-0', {state: 'UNASSIGNED', trace: null, worker_id: 'w1:8083', generation: 6}),
    ])
    expect(store.connector('a')?.worker_id).toBe('w1:8083')
    expect(store.task('a', 0)).toEqual({state: 'RUNNING', trace: null, worker_id: 'w2:8083', generation: 7})
    feed(store, [record('status-task-a-0', null)])
    expect(store.task('a', 0)).toBeUndefined()
  })
})
