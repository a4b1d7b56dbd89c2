// Consumer positions against a scripted broker: offsets missing before a batch (compaction) and
// seeks while decoded batches are waiting.

import {afterEach, describe, expect, it} from 'vitest'

import {KafkaClient} from '../../../src/lib/client/client.js'
import {Consumer} from '../../../src/lib/client/consumer.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {apiVersionsBody, type FakeBroker, fakeBroker} from './fake-broker.js'

let fake: FakeBroker | undefined
let client: KafkaClient | undefined
afterEach(async () => {
  await client?.close()
  await fake?.close()
})

/** A scripted broker with one partition t-0: `records(fetchOffset)` answers each fetch; its end is `highWatermark`. */
async function scriptedPartition(records: (fetchOffset: bigint) => Buffer | null, highWatermark: bigint): Promise<Consumer> {
  fake = await fakeBroker((r) => {
    if (r.apiKey === ApiKey.ApiVersions) return apiVersionsBody({[ApiKey.ApiVersions]: [0, 3], [ApiKey.Metadata]: [1, 12], [ApiKey.Fetch]: [4, 12]})
    if (r.apiKey === ApiKey.Metadata) {
      return {brokers: [{host: '127.0.0.1', nodeId: 1, port: fake!.port}], controllerId: 1, topics: [{errorCode: 0, name: 't', partitions: [{errorCode: 0, isrNodes: [1], leaderId: 1, partitionIndex: 0, replicaNodes: [1]}]}]}
    }
    if (r.apiKey === ApiKey.Fetch) {
      const offset = r.body.topics[0].partitions[0].fetchOffset as bigint
      return {responses: [{partitions: [{errorCode: 0, highWatermark, partitionIndex: 0, records: records(offset)}], topic: 't'}]}
    }
    return undefined
  })
  client = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: fake.port}]})
  return new Consumer(client, {maxWaitMs: 10})
}

/** Partition t-0 holds offsets 5 and 6 only (0-4 compacted away); its end is 7. */
async function compactedPartition(): Promise<Consumer> {
  const batch = await buildRecordBatch({baseOffset: 5, records: [{value: Buffer.from('five')}, {value: Buffer.from('six')}]})
  return scriptedPartition((offset) => (offset < 7n ? batch : null), 7n)
}

describe('Consumer positions', () => {
  it('a batch after a gap of compacted offsets is handed over, and the position moves past it', async () => {
    const consumer = await compactedPartition()
    consumer.assign([{offset: 0n, partition: 0, topic: 't'}])
    const got: number[] = []
    for await (const batch of consumer.batches()) {
      got.push(...batch.records.map((r) => r.offset))
      if (consumer.positions()[0]!.offset >= 7n) break
    }
    await consumer.close()
    expect(got).toEqual([5, 6])
    expect(consumer.positions()[0]!.offset).toBe(7n)
  })

  it('after a seek back, batches fetched before it are dropped and the records come again', async () => {
    const consumer = await compactedPartition()
    consumer.assign([{offset: 0n, partition: 0, topic: 't'}])
    const got: number[] = []
    let seeked = false
    for await (const batch of consumer.batches()) {
      got.push(...batch.records.map((r) => r.offset))
      if (!seeked && got.length > 0) {
        seeked = true
        consumer.seek('t', 0, 6n)
        continue
      }
      if (consumer.positions()[0]!.offset >= 7n) break
    }
    await consumer.close()
    expect(got).toEqual([5, 6, 6])
  })

  it('resume() after pause() fetches from the caller\'s position: a batch fetched while paused is not lost (regression: paused Connect sink tasks skipped the records produced during the pause)', async () => {
    const first = await buildRecordBatch({baseOffset: 0, records: [{value: Buffer.from('0')}, {value: Buffer.from('1')}]})
    const second = await buildRecordBatch({baseOffset: 2, records: [{value: Buffer.from('2')}, {value: Buffer.from('3')}]})
    const consumer = await scriptedPartition((offset) => (offset < 2n ? first : offset < 4n ? second : null), 4n)
    consumer.assign([{offset: 0n, partition: 0, topic: 't'}])
    const got: number[] = []
    const iterator = consumer.batches()[Symbol.asyncIterator]()
    got.push(...((await iterator.next()).value as {records: Array<{offset: number}>}).records.map((r) => r.offset))
    // Paused while the fetch of offsets 2-3 is out; its batch is dropped when it arrives.
    consumer.pause('t', 0)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect((await iterator.next()).done).toBe(true)
    consumer.resume('t', 0)
    const deadline = Date.now() + 5000
    for await (const batch of consumer.batches()) {
      got.push(...batch.records.map((r) => r.offset))
      if (consumer.positions()[0]!.offset >= 4n || Date.now() > deadline) break
    }
    await consumer.close()
    expect(got).toEqual([0, 1, 2, 3])
  })
})
