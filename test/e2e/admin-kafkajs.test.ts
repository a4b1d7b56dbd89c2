/**
 * kafkajs 2.2.4's admin client against an in-process broker: create / list / describe
 * (fetchTopicMetadata) / delete topics, createPartitions, describeConfigs / alterConfigs (topic and
 * broker resources), describeCluster — and the errors it surfaces, with Kafka's codes and messages.
 */
import {type Admin, ConfigResourceTypes, Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ADMIN_HANDLERS} from '../../src/server/handlers/admin.js'
import {HANDLERS} from '../../src/server/handlers/index.js'
import {startBroker, type TestBroker} from './harness.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

let broker: TestBroker
let admin: Admin

beforeAll(async () => {
  const adminKeys = new Set(ADMIN_HANDLERS.map((h) => h.apiKey))
  broker = await startBroker({}, undefined, [...HANDLERS.filter((h) => !adminKeys.has(h.apiKey)), ...ADMIN_HANDLERS])
  const kafka = new Kafka({clientId: 'kcli-admin-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 0}, connectionTimeout: 5000, requestTimeout: 10_000})
  admin = kafka.admin()
  await admin.connect()
})

afterAll(async () => {
  await admin?.disconnect()
  await broker?.stop()
})

/**
 * The Kafka error kafkajs throws (under its retry or aggregate wrappers): its type, which is the
 * broker's error code. kafkajs words its own messages, it does not show the broker's.
 */
async function failure(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    type E = {type?: string; cause?: E; errors?: E[]}
    let e = error as E
    while (!e.type && (e.cause || e.errors?.[0])) e = (e.cause ?? e.errors![0])!
    return e.type
  }
  throw new Error('expected the call to fail')
}

describe('kafkajs admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    expect(await admin.createTopics({topics: [{topic: 'kj-one', numPartitions: 3, replicationFactor: 1}, {topic: 'kj-two', numPartitions: 1, replicationFactor: 1, configEntries: [{name: 'cleanup.policy', value: 'compact'}]}], timeout: 5000})).toBe(true)
    expect(await admin.createTopics({topics: [{topic: 'kj-one', numPartitions: 3}]})).toBe(false) // already exists
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['kj-one', 'kj-two']))

    const {topics} = await admin.fetchTopicMetadata({topics: ['kj-one']})
    expect(topics).toEqual([
      {
        name: 'kj-one',
        partitions: [0, 1, 2].map((partitionId) => ({partitionErrorCode: 0, partitionId, leader: 1, replicas: [1], isr: [1], offlineReplicas: []})),
      },
    ])

    await admin.deleteTopics({topics: ['kj-one', 'kj-two'], timeout: 5000})
    expect(await admin.listTopics()).not.toEqual(expect.arrayContaining(['kj-one']))
    expect(await admin.listTopics()).not.toEqual(expect.arrayContaining(['kj-two']))
    expect(await failure(admin.deleteTopics({topics: ['kj-one'], timeout: 5000}))).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  it('validates topic creation the way Kafka does', async () => {
    // kafkajs waits for leaders with allowAutoTopicCreation=false: a validated topic never gets one.
    expect(await admin.createTopics({topics: [{topic: 'kj-validate', numPartitions: 2}], validateOnly: true, waitForLeaders: false})).toBe(true)
    expect(await admin.listTopics()).not.toContain('kj-validate')
    expect(await failure(admin.createTopics({topics: [{topic: 'kj-bad-config', configEntries: [{name: 'retention.ms', value: 'soon'}]}]}))).toBe('INVALID_CONFIG')
    expect(await failure(admin.createTopics({topics: [{topic: 'kj-bad-partitions', numPartitions: 0}]}))).toBe('INVALID_PARTITIONS')
  })

  it('grows a topic with createPartitions and refuses to shrink it', async () => {
    await admin.createTopics({topics: [{topic: 'kj-grow', numPartitions: 1}]})
    await admin.createPartitions({topicPartitions: [{topic: 'kj-grow', count: 4}], timeout: 5000})
    const {topics} = await admin.fetchTopicMetadata({topics: ['kj-grow']})
    expect(topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3])
    expect(await failure(admin.createPartitions({topicPartitions: [{topic: 'kj-grow', count: 2}]}))).toBe('INVALID_PARTITIONS')
    expect(await failure(admin.createPartitions({topicPartitions: [{topic: 'kj-grow', count: 6, assignments: [[1]]}]}))).toBe('INVALID_REPLICA_ASSIGNMENT')
    await admin.createPartitions({topicPartitions: [{topic: 'kj-grow', count: 5, assignments: [[1]]}]})
    expect((await admin.fetchTopicMetadata({topics: ['kj-grow']})).topics[0]!.partitions).toHaveLength(5)
  })

  it('describes and alters topic configs', async () => {
    await admin.createTopics({topics: [{topic: 'kj-configs', configEntries: [{name: 'cleanup.policy', value: 'compact'}]}]})
    const before = await admin.describeConfigs({resources: [{type: ConfigResourceTypes.TOPIC, name: 'kj-configs', configNames: ['cleanup.policy', 'retention.ms']}], includeSynonyms: true})
    const entries = Object.fromEntries(before.resources[0]!.configEntries.map((e) => [e.configName, e]))
    expect(entries['cleanup.policy']).toMatchObject({configValue: 'compact', isDefault: false, readOnly: false, isSensitive: false})
    expect(entries['retention.ms']).toMatchObject({configValue: '604800000', isDefault: true})

    const altered = await admin.alterConfigs({validateOnly: false, resources: [{type: ConfigResourceTypes.TOPIC, name: 'kj-configs', configEntries: [{name: 'retention.ms', value: '60000'}]}]})
    expect(altered.resources).toEqual([expect.objectContaining({errorCode: 0, resourceName: 'kj-configs'})])
    const after = await admin.describeConfigs({resources: [{type: ConfigResourceTypes.TOPIC, name: 'kj-configs', configNames: ['cleanup.policy', 'retention.ms']}], includeSynonyms: false})
    // AlterConfigs replaces the whole set: cleanup.policy is back to its default.
    expect(Object.fromEntries(after.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]))).toEqual({'cleanup.policy': 'delete', 'retention.ms': '60000'})

    expect(await failure(admin.alterConfigs({validateOnly: false, resources: [{type: ConfigResourceTypes.TOPIC, name: 'kj-configs', configEntries: [{name: 'no.such', value: '1'}]}]}))).toBe('INVALID_CONFIG')
    expect(await failure(admin.alterConfigs({validateOnly: false, resources: [{type: ConfigResourceTypes.TOPIC, name: 'kj-nowhere', configEntries: []}]}))).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  it('describes and alters broker configs', async () => {
    const described = await admin.describeConfigs({resources: [{type: ConfigResourceTypes.BROKER, name: '1', configNames: ['num.partitions', 'log.retention.ms']}], includeSynonyms: false})
    expect(Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, [e.configValue, e.readOnly]]))).toEqual({'num.partitions': ['1', true], 'log.retention.ms': [null, false]})

    await admin.alterConfigs({validateOnly: false, resources: [{type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{name: 'log.retention.ms', value: '7200000'}]}]})
    const after = await admin.describeConfigs({resources: [{type: ConfigResourceTypes.BROKER, name: '1', configNames: ['log.retention.ms']}], includeSynonyms: false})
    expect(after.resources[0]!.configEntries[0]).toMatchObject({configName: 'log.retention.ms', configValue: '7200000', isDefault: false})

    expect(await failure(admin.alterConfigs({validateOnly: false, resources: [{type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{name: 'num.partitions', value: '3'}]}]}))).toBe('INVALID_REQUEST')
    await admin.alterConfigs({validateOnly: false, resources: [{type: ConfigResourceTypes.BROKER, name: '1', configEntries: []}]})
  })

  it('describes the cluster', async () => {
    const cluster = await admin.describeCluster()
    expect(cluster).toEqual({brokers: [{nodeId: 1, host: '127.0.0.1', port: broker.port}], controller: 1, clusterId: broker.broker['metadata']!.clusterId})
  })

})
