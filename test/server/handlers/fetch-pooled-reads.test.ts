// Fetch reads segment data into buffers from the broker's pool, given back once the response is
// written: concurrent consumers must still each get exactly the bytes in the log.

import {describe, expect, it} from 'vitest'

import {Consumer} from '../../../src/lib/client/consumer.js'
import {Producer} from '../../../src/lib/client/producer.js'
import {Admin} from '../../../src/lib/client/admin.js'
import {useClient} from '../../lib/client/use-client.js'

const RECORDS = 3000
const value = (p: number, i: number) => `${p}:${String(i).padStart(5, '0')}:${String.fromCharCode(97 + ((i + p) % 26)).repeat(1000)}`

describe('Fetch with pooled read buffers', () => {
  const fixture = useClient()

  it('four consumers reading the same partitions at once each get every record intact', async () => {
    const client = () => fixture.newClient()
    const producerClient = fixture.client
    await new Admin(producerClient).createTopics([{name: 'pooled', numPartitions: 2}])
    const producer = new Producer(producerClient, {batchSize: 64 * 1024, lingerMs: 0})
    for (let i = 0; i < RECORDS; i++) for (const p of [0, 1]) producer.push({partition: p, topic: 'pooled', value: Buffer.from(value(p, i))})
    await producer.flush()

    const readAll = async () => {
      // 150 KiB per partition per fetch: every read is a pooled buffer, and each response holds two.
      const consumer = new Consumer(client(), {maxWaitMs: 20, partitionMaxBytes: 150 * 1024})
      consumer.assign([0, 1].map((partition) => ({offset: 0n, partition, topic: 'pooled'})))
      const got: string[][] = [[], []]
      for await (const batch of consumer.batches()) {
        for (const r of batch.records) got[batch.partition]!.push(r.value!.toString('latin1'))
        if (got[0]!.length >= RECORDS && got[1]!.length >= RECORDS) break
      }
      await consumer.close()
      return got
    }
    const results = await Promise.all([readAll(), readAll(), readAll(), readAll()])
    for (const got of results) {
      for (const p of [0, 1]) {
        expect(got[p]).toHaveLength(RECORDS)
        for (let i = 0; i < RECORDS; i++) if (got[p]![i] !== value(p, i)) expect.fail(`partition ${p} record ${i}: ${got[p]![i]!.slice(0, 12)}`)
      }
    }
  })
})
