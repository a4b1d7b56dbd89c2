import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import TopicsAddPartitions from '../../../src/commands/topics/add-partitions.js'
import TopicsAlter from '../../../src/commands/topics/alter.js'
import TopicsCreate, {type TopicsCreateResult} from '../../../src/commands/topics/create.js'
import TopicsDelete, {type TopicsDeleteResult} from '../../../src/commands/topics/delete.js'
import TopicsDescribe, {type TopicsDescribeResult} from '../../../src/commands/topics/describe.js'
import TopicsList, {type TopicsListResult} from '../../../src/commands/topics/list.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {advertisedApis, json, kcli, startBroker, type TestBroker} from '../helpers.js'

const apis = await advertisedApis()

let broker: TestBroker
beforeAll(async () => {
  broker = await startBroker()
})
afterAll(async () => {
  await broker?.stop()
})

describe('kcli topics', () => {
  it('creates topics, lists them and describes them', async () => {
    const create = await kcli<TopicsCreateResult>(TopicsCreate, broker.bootstrap, ['orders', '--partitions', '3', '--config', 'retention.ms=3600000'])
    expect(create.stderr).toBe('')
    expect(create.exitCode).toBe(0)
    expect(create.stdout).toMatch(/^TOPIC +RESULT +PARTITIONS +REPLICAS +TOPIC ID\norders +created +3 +1 +\S{22}\n$/)

    const twoJson = await kcli<TopicsCreateResult>(TopicsCreate, broker.bootstrap, ['a-topic', 'b-topic', '-p', '2', '--json'])
    expect(twoJson.exitCode).toBe(0)
    const parsed = json<TopicsCreateResult>(twoJson)
    expect(parsed.topics.map((t) => [t.name, t.created, t.numPartitions])).toEqual([['a-topic', true, 2], ['b-topic', true, 2]])

    const list = await kcli<TopicsListResult>(TopicsList, broker.bootstrap, [])
    expect(list.exitCode).toBe(0)
    expect(list.stdout.split('\n')[0]).toMatch(/^TOPIC +PARTITIONS +REPLICAS +HEALTH$/)
    expect(list.stdout).toMatch(/^orders +3 +1 +ok$/m)
    const listJson = json<TopicsListResult>(await kcli(TopicsList, broker.bootstrap, ['--json']))
    expect(listJson.topics.map((t) => t.name)).toEqual(expect.arrayContaining(['a-topic', 'b-topic', 'orders']))
    expect(listJson.topics.find((t) => t.name === 'orders')).toMatchObject({partitions: 3, replicationFactor: 1, underReplicatedPartitions: 0, unavailablePartitions: 0})

    const unhealthy = json<TopicsListResult>(await kcli(TopicsList, broker.bootstrap, ['--under-replicated', '--unavailable', '--json']))
    expect(unhealthy.topics).toEqual([])

    const describe = await kcli<TopicsDescribeResult>(TopicsDescribe, broker.bootstrap, ['orders'])
    expect(describe.exitCode).toBe(0)
    expect(describe.stdout).toMatch(/^Topic: +orders$/m)
    expect(describe.stdout).toMatch(/^PARTITION +LEADER +EPOCH +REPLICAS +ISR +OFFLINE +EARLIEST +LATEST$/m)
    expect(describe.stdout).toMatch(/^ +2 +\d+ +\d+ +\d+ +\d+ +0 +0$/m)
    expect(describe.stdout).toMatch(/^retention\.ms +3600000 +DYNAMIC_TOPIC_CONFIG$/m)
    const described = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['orders', '--json']))
    expect(described.topics[0]!.partitions).toHaveLength(3)
    expect(described.topics[0]!.partitions[0]).toMatchObject({earliestOffset: 0, latestOffset: 0, partition: 0})
    expect(described.topics[0]!.configs).toContainEqual(expect.objectContaining({name: 'retention.ms', value: '3600000'}))
  })

  it('reports an existing topic as a failure (exit 1) unless --if-not-exists', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['dup'])
    const again = await kcli<TopicsCreateResult>(TopicsCreate, broker.bootstrap, ['dup', '--json'])
    expect(again.exitCode).toBe(1)
    expect(json<TopicsCreateResult>(again).topics[0]).toMatchObject({error: 'TOPIC_ALREADY_EXISTS', name: 'dup', created: false})
    expect(JSON.parse(again.stderr.trim()).error).toMatchObject({kind: 'partial-failure', failures: [{errorName: 'TOPIC_ALREADY_EXISTS', item: 'topic dup'}]})

    const human = await kcli(TopicsCreate, broker.bootstrap, ['dup'])
    expect(human.exitCode).toBe(1)
    expect(human.stderr).toBe('Error: 1 of 1 topics failed: topic dup: TOPIC_ALREADY_EXISTS (Topic \'dup\' already exists.)\n')

    const ok = await kcli(TopicsCreate, broker.bootstrap, ['dup', '--if-not-exists'])
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toMatch(/^dup +exists/m)
  })

  it('describes a missing topic with exit 1', async () => {
    const run = await kcli<TopicsDescribeResult>(TopicsDescribe, broker.bootstrap, ['nope', '--json'])
    expect(run.exitCode).toBe(1)
    expect(json<TopicsDescribeResult>(run).topics[0]).toMatchObject({error: 'UNKNOWN_TOPIC_OR_PARTITION', name: 'nope'})
  })

  it.skipIf(!apis.has(ApiKey.IncrementalAlterConfigs) && !apis.has(ApiKey.AlterConfigs))('alters configs and deletes them again', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['cfg'])
    const set = await kcli(TopicsAlter, broker.bootstrap, ['cfg', '--config', 'retention.ms=1000', '--config', 'cleanup.policy=compact'])
    expect(set.stderr).toBe('')
    expect(set.exitCode).toBe(0)
    expect(set.stdout).toBe('set     retention.ms=1000\nset     cleanup.policy=compact\n')
    let described = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['cfg', '--json']))
    expect(described.topics[0]!.configs.map((c) => [c.name, c.value])).toEqual([['cleanup.policy', 'compact'], ['retention.ms', '1000']])
    const del = await kcli(TopicsAlter, broker.bootstrap, ['cfg', '--delete-config', 'retention.ms', '--json'])
    expect(del.exitCode).toBe(0)
    expect(JSON.parse(del.stdout)).toMatchObject({deleted: ['retention.ms'], result: {error: 'NONE'}, topic: 'cfg'})
    described = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['cfg', '--json']))
    expect(described.topics[0]!.configs.map((c) => c.name)).toEqual(['cleanup.policy'])

    const usage = await kcli(TopicsAlter, broker.bootstrap, ['cfg'])
    expect(usage.exitCode).toBe(2)
  })

  it.skipIf(!apis.has(ApiKey.CreatePartitions))('adds partitions', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['grow', '-p', '1'])
    const run = await kcli(TopicsAddPartitions, broker.bootstrap, ['grow', '--partitions', '4'])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe('grow: now has 4 partitions\n')
    const described = json<TopicsDescribeResult>(await kcli(TopicsDescribe, broker.bootstrap, ['grow', '--json']))
    expect(described.topics[0]!.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3])
    const shrink = await kcli(TopicsAddPartitions, broker.bootstrap, ['grow', '-p', '2', '--json'])
    expect(shrink.exitCode).toBe(1)
    expect(JSON.parse(shrink.stdout)).toMatchObject({error: 'INVALID_PARTITIONS', topic: 'grow'})
  })

  it.skipIf(!apis.has(ApiKey.DeleteTopics))('deletes topics without asking when not on a terminal', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['gone'])
    const run = await kcli<TopicsDeleteResult>(TopicsDelete, broker.bootstrap, ['gone', '--json'])
    expect(run.exitCode).toBe(0)
    expect(json<TopicsDeleteResult>(run).topics).toEqual([{deleted: true, error: 'NONE', errorCode: 0, errorMessage: null, name: 'gone'}])
    const missing = await kcli(TopicsDelete, broker.bootstrap, ['gone'])
    expect(missing.exitCode).toBe(1)
    expect(missing.stdout).toBe('TOPIC  RESULT\ngone   UNKNOWN_TOPIC_OR_PARTITION\n')
    const ifExists = await kcli(TopicsDelete, broker.bootstrap, ['gone', '--if-exists', '--yes'])
    expect(ifExists.exitCode).toBe(0)
  })

  it('fails with exit 1 and one line when no broker answers', async () => {
    const run = await kcli(TopicsList, '127.0.0.1:1', ['--timeout', '20000'])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toBe('Error: cannot connect to 127.0.0.1:1: ECONNREFUSED\n')
  })
})
