/**
 * Issue 12: IncrementalAlterConfigs leaving cleanup.policy empty. Kafka 4.0's LogConfig declares
 * it a LIST with ValidList.in("compact", "delete"), which accepts the empty list, so SUBTRACT of
 * its last value and SET "" succeed and DescribeConfigs shows "" (neither deletion nor
 * compaction then applies). kcli answered INVALID_CONFIG. @platformatic/kafka 1.35's admin
 * (IncrementalAlterConfigs v1, DescribeConfigs v4) drives it; an invalid item is still refused
 * with Kafka's message, which names the item.
 */
import {Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes, Producer, stringSerializers} from '@platformatic/kafka'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startBroker, type TestBroker} from './harness.js'

/** The Kafka errors inside what a platformatic call rejects with (its MultipleErrors nest them). */
function protocolErrors(error: unknown): Array<{apiId: string; serverErrorMessage: unknown}> {
  const found: Array<{apiId: string; serverErrorMessage: unknown}> = []
  const visit = (e: unknown): void => {
    if (!e || typeof e !== 'object') return
    const r = e as {apiId?: unknown; serverErrorMessage?: unknown; errors?: unknown[]}
    if (typeof r.apiId === 'string') found.push({apiId: r.apiId, serverErrorMessage: r.serverErrorMessage})
    for (const inner of r.errors ?? []) visit(inner)
  }
  visit(error)
  return found
}

describe('cleanup.policy left empty by IncrementalAlterConfigs (@platformatic/kafka admin)', () => {
  let tb: TestBroker
  let admin: Admin

  beforeAll(async () => {
    tb = await startBroker()
    admin = new Admin({clientId: 'plt-list-configs', bootstrapBrokers: [tb.bootstrap], timeout: 10_000, retries: 0})
  })

  afterAll(async () => {
    await admin?.close()
    await tb?.stop()
  })

  const cleanupPolicy = async (topic: string) => {
    const [described] = await admin.describeConfigs({resources: [{resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['cleanup.policy']}]})
    return described!.configs.find((c) => c.name === 'cleanup.policy')
  }
  const alter = (topic: string, configOperation: 0 | 2 | 3, value: string) =>
    admin.incrementalAlterConfigs({resources: [{resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [{name: 'cleanup.policy', configOperation, value}]}]})

  it('SUBTRACT of the last value and SET "" are accepted and described as ""; the topic then takes keyless records', async () => {
    await admin.createTopics({topics: ['subtracted', 'set-empty'], partitions: 1, replicas: 1, configs: [{name: 'cleanup.policy', value: 'compact'}]})
    await alter('subtracted', IncrementalAlterConfigOperationTypes.SUBTRACT, 'compact')
    expect(await cleanupPolicy('subtracted')).toMatchObject({value: '', configSource: 1})
    await alter('set-empty', IncrementalAlterConfigOperationTypes.SET, '')
    expect(await cleanupPolicy('set-empty')).toMatchObject({value: '', configSource: 1})
    // No longer compacted: a record without a key is taken.
    const producer = new Producer<string, string, string, string>({clientId: 'plt-list-configs-producer', bootstrapBrokers: [tb.bootstrap], serializers: stringSerializers, retries: 0})
    try {
      const sent = await producer.send({messages: [{topic: 'set-empty', partition: 0, value: 'no key'}]})
      expect(sent.offsets?.[0]).toMatchObject({topic: 'set-empty', partition: 0, offset: 0n})
    } finally {
      await producer.close(true)
    }
    // Back to a policy from the empty list.
    await alter('set-empty', IncrementalAlterConfigOperationTypes.APPEND, 'delete')
    expect(await cleanupPolicy('set-empty')).toMatchObject({value: 'delete'})
  }, 60_000)

  it('an invalid item is refused with INVALID_CONFIG, naming the item as Kafka does', async () => {
    await admin.createTopics({topics: ['bad-item'], partitions: 1, replicas: 1})
    const failure = await alter('bad-item', IncrementalAlterConfigOperationTypes.SET, 'compact,,delete').then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(protocolErrors(failure)).toEqual([{apiId: 'INVALID_CONFIG', serverErrorMessage: 'Invalid value  for configuration cleanup.policy: String must be one of: compact, delete'}])
    expect(await cleanupPolicy('bad-item')).toMatchObject({value: 'delete', configSource: 5})
  })
})
