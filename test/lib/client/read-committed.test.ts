import {describe, expect, it} from 'vitest'

import {KafkaClient} from '../../../src/lib/client/client.js'
import {Consumer} from '../../../src/lib/client/consumer.js'
import {Producer} from '../../../src/lib/client/producer.js'
import {Admin, LATEST_TIMESTAMP} from '../../../src/lib/client/admin.js'
import {useClient} from './use-client.js'

/** Everything up to the partition's end as it is now: values and the final position. */
async function readAll(client: KafkaClient, topic: string, isolationLevel: number): Promise<{values: string[]; position: bigint}> {
  const [end] = await new Admin(client).listOffsets([{partition: 0, timestamp: LATEST_TIMESTAMP, topic}], {isolationLevel})
  const consumer = new Consumer(client, {isolationLevel, maxWaitMs: 50})
  consumer.assign([{offset: 0n, partition: 0, topic}])
  const values: string[] = []
  const deadline = Date.now() + 20_000
  for await (const batch of consumer.batches()) {
    for (const r of batch.records) values.push(r.value!.toString())
    if (consumer.positions()[0]!.offset >= end!.offset || Date.now() > deadline) break
  }
  const position = consumer.positions()[0]!.offset
  await consumer.close()
  return {position, values}
}

describe('Consumer and transactions', () => {
  const fixture = useClient()

  it('read_committed drops aborted transactions of interleaved producers; positions move past every marker', async () => {
    const {client} = fixture
    const a = new Producer(client, {lingerMs: 0, transactionalId: 'rc-a'})
    const b = new Producer(client, {lingerMs: 0, transactionalId: 'rc-b'})
    const plain = new Producer(client, {lingerMs: 0})
    const send = async (p: Producer, ...values: string[]) => {
      for (const v of values) p.push({partition: 0, topic: 'rc', value: Buffer.from(v)})
      await p.flush()
    }
    await send(plain, 'p1')
    await send(a, 'a1', 'a2')
    await send(b, 'b1') // b's transaction begins inside a's
    await send(plain, 'p2')
    await send(a, 'a3')
    await a.abortTransaction() // a1 a2 a3 aborted
    await send(b, 'b2')
    await b.commitTransaction() // b1 b2 committed
    await send(a, 'a4')
    await a.commitTransaction() // a4 committed: same producer, after its abort marker
    await send(b, 'b3')
    await b.abortTransaction() // ends with an ABORT marker

    const committed = await readAll(client, 'rc', 1)
    expect(committed.values).toEqual(['p1', 'b1', 'p2', 'b2', 'a4'])
    const uncommitted = await readAll(client, 'rc', 0)
    expect(uncommitted.values).toEqual(['p1', 'a1', 'a2', 'b1', 'p2', 'a3', 'b2', 'a4', 'b3'])
    // 9 records + 4 markers: both end at 13, past the last marker.
    expect(committed.position).toBe(13n)
    expect(uncommitted.position).toBe(13n)
  })
})
