/**
 * confluent-kafka-python's AdminClient (Debian's python3-confluent-kafka, on librdkafka; importable
 * by /usr/bin/python3 only) against an in-process broker: create / list / delete topics,
 * create_partitions, describe_configs and alter_configs on topics and brokers, and
 * incremental_alter_configs when the installed version has it (2.2+). The script is
 * test/e2e/python/admin_client.py; it prints JSON that is asserted on here.
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ADMIN_HANDLERS} from '../../src/server/handlers/admin.js'
import {HANDLERS} from '../../src/server/handlers/index.js'
import {PROJECT_ROOT, startBroker, type TestBroker} from './harness.js'

const PYTHON = '/usr/bin/python3'
const SCRIPT = join(PROJECT_ROOT, 'test/e2e/python/admin_client.py')
const SCRIPT_TIMEOUT_MS = 90_000

const pythonMissing: string | null = (() => {
  if (!existsSync(PYTHON)) return `${PYTHON} not found: install the Debian packages python3 and python3-confluent-kafka`
  const probe = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], {timeout: 15_000})
  return probe.status === 0 ? null : `confluent_kafka is not importable by ${PYTHON}: install the Debian package python3-confluent-kafka`
})()
if (pythonMissing) console.warn(`skipping the confluent-kafka-python admin tests: ${pythonMissing}`)

type Outcome = null | [string, string]
interface Config {
  value: string | null
  source: number
  readOnly: boolean
  default: boolean
}
type Topics = Record<string, null | {error: string | null; partitions: Array<[number, number, number[], number[]]>}>

interface Result {
  create: Record<string, Outcome>
  createAgain: Record<string, Outcome>
  createBadConfig: Record<string, Outcome>
  validateOnly: Record<string, Outcome>
  topicsAfterCreate: Topics
  grow: Record<string, Outcome>
  shrink: Record<string, Outcome>
  growUnknown: Record<string, Outcome>
  topicsAfterGrow: Topics
  configsBefore: Record<string, Config>
  alterTopic: Record<string, Outcome>
  configsAfter: Record<string, Config>
  alterBadValue: Record<string, Outcome>
  alterUnknownTopic: Record<string, Outcome>
  alterBroker: Record<string, Outcome>
  brokerConfigs: Record<string, Config>
  alterReadOnly: Record<string, Outcome>
  topicFollowsBroker: Record<string, Config>
  resetBroker: Record<string, Outcome>
  incremental: 'unsupported' | Record<string, Outcome>
  configsAfterIncremental?: Record<string, Config>
  delete: Record<string, Outcome>
  topicsAfterDelete: Topics
}

/** Runs the script; SIGKILLs it past its deadline (the broker runs in this process, so no sync spawn). */
function runScript(bootstrap: string): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, bootstrap], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

const TOPIC_CONFIG = 1
const DYNAMIC_BROKER_CONFIG = 2
const DEFAULT_CONFIG = 5

describe.skipIf(pythonMissing !== null)('confluent-kafka-python AdminClient', () => {
  let broker: TestBroker
  let result: Result

  beforeAll(async () => {
    const adminKeys = new Set(ADMIN_HANDLERS.map((h) => h.apiKey))
    broker = await startBroker({}, undefined, [...HANDLERS.filter((h) => !adminKeys.has(h.apiKey)), ...ADMIN_HANDLERS])
    const run = await runScript(broker.bootstrap)
    if (run.code !== 0) throw new Error(`admin_client.py exited with ${run.code}: ${run.stderr}`)
    result = JSON.parse(run.stdout) as Result
  }, SCRIPT_TIMEOUT_MS + 30_000)

  afterAll(async () => {
    await broker?.stop()
  })

  it('creates topics and reports Kafka\'s errors and messages', () => {
    expect(result.create).toEqual({'py-a': null, 'py-b': null})
    expect(result.createAgain).toEqual({'py-a': ['TOPIC_ALREADY_EXISTS', "Topic 'py-a' already exists."]})
    expect(result.createBadConfig).toEqual({'py-bad': ['INVALID_CONFIG', 'Unknown topic config name: no.such.option']})
    expect(result.validateOnly).toEqual({'py-validated': null})
  })

  it('lists the created topics with their partitions (list_topics), and not the validated one', () => {
    expect(result.topicsAfterCreate).toEqual({
      'py-a': {error: null, partitions: [0, 1, 2].map((p) => [p, 1, [1], [1]])},
      'py-b': {error: null, partitions: [[0, 1, [1], [1]]]},
      'py-validated': null,
    })
  })

  it('grows a topic and refuses to shrink one', () => {
    expect(result.grow).toEqual({'py-b': null})
    expect(result.topicsAfterGrow['py-b']!.partitions.map((p) => p[0])).toEqual([0, 1, 2])
    expect(result.shrink).toEqual({'py-a': ['INVALID_PARTITIONS', 'The topic py-a currently has 3 partition(s); 2 would not be an increase.']})
    expect(result.growUnknown['py-nowhere']![0]).toBe('UNKNOWN_TOPIC_OR_PART')
  })

  it('describes topic configs with values and sources, and alter_configs replaces them', () => {
    expect(result.configsBefore).toEqual({
      'retention.ms': {value: '3600000', source: TOPIC_CONFIG, readOnly: false, default: false},
      'segment.bytes': {value: '1073741824', source: DEFAULT_CONFIG, readOnly: false, default: true},
      'cleanup.policy': {value: 'delete', source: DEFAULT_CONFIG, readOnly: false, default: true},
    })
    expect(Object.values(result.alterTopic)).toEqual([null])
    expect(result.configsAfter).toEqual({
      'retention.ms': {value: '604800000', source: DEFAULT_CONFIG, readOnly: false, default: true},
      'segment.bytes': {value: '2097152', source: TOPIC_CONFIG, readOnly: false, default: false},
      'cleanup.policy': {value: 'compact', source: TOPIC_CONFIG, readOnly: false, default: false},
    })
    expect(Object.values(result.alterBadValue)).toEqual([['INVALID_CONFIG', 'Invalid value soon for configuration retention.ms: Not a number of type LONG']])
    expect(Object.values(result.alterUnknownTopic)).toEqual([['UNKNOWN_TOPIC_OR_PART', "The topic 'py-nowhere' does not exist."]])
  })

  it('alters dynamic broker configs, which topics follow, and refuses read-only ones', () => {
    expect(Object.values(result.alterBroker)).toEqual([null])
    expect(result.brokerConfigs).toEqual({
      'log.retention.ms': {value: '7200000', source: DYNAMIC_BROKER_CONFIG, readOnly: false, default: false},
      'num.partitions': {value: '1', source: DEFAULT_CONFIG, readOnly: true, default: true},
    })
    expect(result.topicFollowsBroker).toEqual({'retention.ms': {value: '7200000', source: DYNAMIC_BROKER_CONFIG, readOnly: false, default: false}})
    expect(Object.values(result.alterReadOnly)).toEqual([['INVALID_REQUEST', 'Cannot update these configs dynamically: Set(num.partitions)']])
    expect(Object.values(result.resetBroker)).toEqual([null])
  })

  it('incremental_alter_configs APPENDs and DELETEs, when this confluent-kafka-python has it', (ctx) => {
    if (result.incremental === 'unsupported') {
      console.warn('skipping incremental_alter_configs: this confluent-kafka-python (before 2.2) does not have it')
      ctx.skip()
      return
    }
    expect(Object.values(result.incremental)).toEqual([null])
    expect(result.configsAfterIncremental!['cleanup.policy']!.value).toBe('compact,delete')
    expect(result.configsAfterIncremental!['segment.bytes']!.source).toBe(DEFAULT_CONFIG)
  })

  it('deletes topics; an unknown one gets UNKNOWN_TOPIC_OR_PARTITION', () => {
    expect(result.delete).toEqual({'py-a': null, 'py-b': null, 'py-nowhere': ['UNKNOWN_TOPIC_OR_PART', 'Broker: Unknown topic or partition']})
    expect(result.topicsAfterDelete).toEqual({'py-a': null, 'py-b': null})
  })
})
