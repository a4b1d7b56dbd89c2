import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {KafkaClient} from '../../../src/lib/client/client.js'
import {Consumer} from '../../../src/lib/client/consumer.js'
import {Producer} from '../../../src/lib/client/producer.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {readBatchHeader} from '../../../src/lib/records/batch.js'
import {Admin} from '../../../src/lib/client/admin.js'
import {startBroker, type TestBroker} from '../../commands/helpers.js'
import {apiVersionsBody, type FakeBroker, fakeBroker} from './fake-broker.js'

describe('idempotent producer (scripted broker)', () => {
  let fake: FakeBroker | undefined
  let client: KafkaClient | undefined
  afterEach(async () => {
    await client?.close()
    await fake?.close()
  })

  it('retries a failed batch with the same producer id, epoch and sequence', async () => {
    let produces = 0
    fake = await fakeBroker((r) => {
      if (r.apiKey === ApiKey.ApiVersions) return apiVersionsBody({[ApiKey.ApiVersions]: [0, 3], [ApiKey.Metadata]: [1, 12], [ApiKey.Produce]: [3, 11], [ApiKey.InitProducerId]: [0, 4]})
      if (r.apiKey === ApiKey.InitProducerId) return {errorCode: 0, producerEpoch: 3, producerId: 9001n}
      if (r.apiKey === ApiKey.Metadata) {
        return {brokers: [{host: '127.0.0.1', nodeId: 1, port: fake!.port}], controllerId: 1, topics: [{errorCode: 0, name: 't', partitions: [{errorCode: 0, isrNodes: [1], leaderId: 1, partitionIndex: 0, replicaNodes: [1]}], topicId: 'AAAAAAAAAAAAAAAAAAAAAQ'}]}
      }
      if (r.apiKey === ApiKey.Produce) {
        produces++
        const code = produces === 1 ? 7 : produces === 2 ? 46 : 0 // REQUEST_TIMED_OUT, then DUPLICATE_SEQUENCE_NUMBER (it did land), then ok
        return {responses: [{name: 't', partitionResponses: [{baseOffset: produces === 2 ? 0n : 2n, errorCode: code, index: 0}]}]}
      }
      return undefined
    })
    client = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: fake.port}], retryBackoffMs: 5})
    const producer = new Producer(client, {idempotent: true, lingerMs: 0})
    const first = await Promise.all([producer.send({topic: 't', value: Buffer.from('a')}), producer.send({topic: 't', value: Buffer.from('b')})])
    expect(first.map((m) => m.offset)).toEqual([0n, 1n])
    const second = await producer.send({topic: 't', value: Buffer.from('c')})
    expect(second.offset).toBe(2n)
    const batches = fake.requests.filter((r) => r.apiKey === ApiKey.Produce).map((r) => readBatchHeader(r.body.topicData[0].partitionData[0].records as Buffer))
    expect(batches.map((h) => [h.producerId, h.producerEpoch, h.baseSequence, h.recordCount])).toEqual([
      [9001, 3, 0, 2],
      [9001, 3, 0, 2],
      [9001, 3, 2, 1],
    ])
    expect(producer.producerIdAndEpoch).toEqual({producerEpoch: 3, producerId: 9001n})
  })

  it('needs acks=-1', () => {
    expect(() => new Producer(new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: 1}]}), {acks: 1, idempotent: true})).toThrow(/acks=-1/)
  })
})

describe('Producer and Consumer against the broker', () => {
  let broker: TestBroker
  let client: KafkaClient
  beforeAll(async () => {
    broker = await startBroker()
    client = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: broker.port}]})
    await new Admin(client).createTopics([{name: 'spread', numPartitions: 3}])
  })
  afterAll(async () => {
    await client?.close()
    await broker?.stop()
  })

  it('keeps per-partition order across batches, codecs and many in flight, and reads it all back', async () => {
    const producer = new Producer(client, {batchSize: 2000, compression: 'lz4', idempotent: true, lingerMs: 1})
    const sent = await Promise.all(Array.from({length: 3000}, (_, i) => producer.send({key: Buffer.from(`k${i % 30}`), topic: 'spread', value: Buffer.from(`v${i}`)})))
    await producer.close()
    const byPartition = new Map<number, bigint[]>()
    for (const m of sent) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.offset])
    for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)))

    const consumer = new Consumer(client, {maxWaitMs: 50})
    consumer.assign([0, 1, 2].map((partition) => ({offset: 0n, partition, topic: 'spread'})))
    const got = new Map<string, string[]>()
    let total = 0
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) got.set(r.key!.toString(), [...(got.get(r.key!.toString()) ?? []), r.value!.toString()])
      total += batch.records.length
      if (total >= 3000) break
    }
    await consumer.close()
    expect(total).toBe(3000)
    // Records of one key are in the order they were sent.
    for (const [key, values] of got) {
      const n = Number(key.slice(1))
      expect(values).toEqual(Array.from({length: 100}, (_, j) => `v${n + 30 * j}`))
    }
  })
  it('push() is done with the record bytes when it returns, also while the topic metadata loads', async () => {
    const producer = new Producer(client, {lingerMs: 0})
    const value = Buffer.from('first')
    producer.push({topic: 'copied', value}) // a new topic: held until its metadata arrives
    value.write('XXXXX')
    producer.push({topic: 'copied', value: Buffer.from('second')})
    await producer.close()
    const consumer = new Consumer(client, {maxWaitMs: 50})
    consumer.assign([{offset: 0n, partition: 0, topic: 'copied'}])
    const values: string[] = []
    for await (const batch of consumer.batches()) {
      values.push(...batch.records.map((r) => r.value!.toString()))
      if (values.length >= 2) break
    }
    await consumer.close()
    expect(values).toEqual(['first', 'second'])
  })

  it('reuses batch buffers only after acknowledgement: 20,000 distinct records in ~100 small batches read back intact', async () => {
    await new Admin(client).createTopics([{name: 'reuse', numPartitions: 1}])
    const producer = new Producer(client, {batchSize: 8000, lingerMs: 0})
    for (let i = 0; i < 20_000; i++) {
      if (!producer.push({topic: 'reuse', value: Buffer.from(`record-${i}-${'x'.repeat(i % 50)}`)})) await producer.waitForSpace()
    }
    await producer.close()
    const consumer = new Consumer(client, {maxWaitMs: 50})
    consumer.assign([{offset: 0n, partition: 0, topic: 'reuse'}])
    const values: string[] = []
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) values.push(r.value!.toString())
      if (values.length >= 20_000) break
    }
    await consumer.close()
    expect(values).toEqual(Array.from({length: 20_000}, (_, i) => `record-${i}-${'x'.repeat(i % 50)}`))
  })
})
