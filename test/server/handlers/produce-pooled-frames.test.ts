// Large request frames are read into buffers from the dispatcher's pool, and a Produce request's
// frame is given back once its records are in the log: producers on several connections at once
// must still each leave exactly the bytes they sent, and only frames of handlers that keep nothing
// of their request are reused.

import {describe, expect, it} from 'vitest'

import {Admin} from '../../../src/lib/client/admin.js'
import {Consumer} from '../../../src/lib/client/consumer.js'
import {Producer} from '../../../src/lib/client/producer.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {encodeRequest} from '../../../src/lib/protocol/frame.js'
import {defineHandler} from '../../../src/server/handlers/handler.js'
import {HandlerRegistry} from '../../../src/server/request-dispatcher.js'
import {ConnectionSecurity} from '../../../src/server/security/connection-security.js'
import {useClient} from '../../lib/client/use-client.js'

const RECORDS = 2000
const value = (producer: number, p: number, i: number) => `${producer}:${p}:${String(i).padStart(5, '0')}:${String.fromCharCode(97 + ((i + p + producer) % 26)).repeat(700)}`

describe('Produce with pooled request frames', () => {
  const fixture = useClient()

  it('three producers writing the same partitions at once leave every record intact', async () => {
    await new Admin(fixture.client).createTopics([{name: 'pooled-frames', numPartitions: 2}])
    const produce = async (id: number) => {
      // 256 KiB batches: every Produce frame is larger than a connection's 64 KiB scratch buffer.
      const producer = new Producer(fixture.newClient(), {batchSize: 256 * 1024, lingerMs: 0})
      for (let i = 0; i < RECORDS; i++) for (const p of [0, 1]) producer.push({partition: p, topic: 'pooled-frames', value: Buffer.from(value(id, p, i))})
      await producer.flush()
    }
    await Promise.all([produce(0), produce(1), produce(2)])

    const consumer = new Consumer(fixture.newClient(), {maxWaitMs: 20})
    consumer.assign([0, 1].map((partition) => ({offset: 0n, partition, topic: 'pooled-frames'})))
    const got: string[][] = [[], []]
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) got[batch.partition]!.push(r.value!.toString('latin1'))
      if (got[0]!.length >= 3 * RECORDS && got[1]!.length >= 3 * RECORDS) break
    }
    await consumer.close()
    for (const p of [0, 1]) {
      expect(got[p]).toHaveLength(3 * RECORDS)
      // Each producer's records appear in its own order, whatever the interleaving.
      for (const id of [0, 1, 2]) {
        const mine = got[p]!.filter((v) => v.startsWith(`${id}:`))
        expect(mine).toHaveLength(RECORDS)
        for (let i = 0; i < RECORDS; i++) if (mine[i] !== value(id, p, i)) expect.fail(`producer ${id} partition ${p} record ${i}: ${mine[i]!.slice(0, 16)}`)
      }
    }
  })
})

describe('HandlerRegistry request frames', () => {
  const connection = {id: 1, remoteAddress: '127.0.0.1', remotePort: 1, listenerName: 'PLAINTEXT', security: ConnectionSecurity.plaintext('PLAINTEXT')}
  const frameOf = (apiKey: number, body: object): Buffer => {
    return Buffer.concat(encodeRequest(apiKey as never, 0, 1, 'test', body as never)).subarray(4)
  }

  it('takes back the frame of a handler that keeps nothing of its request, and only then', async () => {
    const registry = new HandlerRegistry(
      [
        defineHandler({apiKey: ApiKey.ListGroups, minVersion: 0, maxVersion: 5, releasesRequest: true, handle: () => null}),
        defineHandler({apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 4, handle: () => null}),
      ],
      () => ({}) as never,
    )
    const pooled = (apiKey: number) => {
      const body = frameOf(apiKey, {})
      const frame = registry.allocateFrame(200_000)
      body.copy(frame)
      return frame
    }
    const released = pooled(ApiKey.ListGroups)
    await registry.dispatch(released, connection)
    expect(registry.allocateFrame(190_000).buffer).toBe(released.buffer)

    const retained = pooled(ApiKey.ApiVersions)
    await registry.dispatch(retained, connection)
    expect(registry.allocateFrame(190_000).buffer).not.toBe(retained.buffer)
    // Small frames are plain allocations.
    expect(registry.allocateFrame(1000).buffer.byteLength).toBeLessThan(65_536)
  })
})
