import {describe, expect, it} from 'vitest'

import {Consumer} from '../../../src/lib/client/consumer.js'
import {Producer} from '../../../src/lib/client/producer.js'
import {useClient} from './use-client.js'

describe('Consumer with recycleBuffers', () => {
  const fixture = useClient()

  it('hands over every record intact while response memory is reused', async () => {
    const {client} = fixture
    // 3,000 distinct 1 KiB values in batches of about 128 KiB: many responses above the 64 KiB
    // that the connection's scratch buffer holds, each from the pool.
    const producer = new Producer(client, {batchSize: 128 * 1024, lingerMs: 0})
    const value = (i: number) => Buffer.from(`${String(i).padStart(6, '0')}:${'v'.repeat(1017)}`)
    for (let i = 0; i < 3000; i++) producer.push({partition: 0, topic: 'recycled', value: value(i)})
    await producer.flush()

    const consumer = new Consumer(client, {partitionMaxBytes: 200 * 1024, recycleBuffers: true})
    consumer.assign([{offset: 0n, partition: 0, topic: 'recycled'}])
    const seen: string[] = []
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) seen.push(r.value!.toString('latin1')) // copied before the next batch
      if (seen.length >= 3000) break
    }
    await consumer.close()
    expect(seen).toHaveLength(3000)
    for (let i = 0; i < 3000; i++) if (seen[i] !== value(i).toString('latin1')) expect.fail(`record ${i}: ${seen[i]!.slice(0, 10)}`)
  })
})
