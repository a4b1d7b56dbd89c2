// The metadata cache follows leader changes: a broker answering NOT_LEADER_OR_FOLLOWER makes
// the producer, the consumer and the admin client look the leader up again and go there.

import {afterEach, describe, expect, it} from 'vitest'

import {Admin, LATEST_TIMESTAMP} from '../../../src/lib/client/admin.js'
import {KafkaClient} from '../../../src/lib/client/client.js'
import {Consumer} from '../../../src/lib/client/consumer.js'
import {Producer} from '../../../src/lib/client/producer.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {apiVersionsBody, type FakeBroker, fakeBroker, type FakeRequest} from './fake-broker.js'

const VERSIONS = apiVersionsBody({
  [ApiKey.ApiVersions]: [0, 3],
  [ApiKey.Metadata]: [1, 12],
  [ApiKey.Produce]: [3, 11],
  [ApiKey.Fetch]: [4, 12],
  [ApiKey.ListOffsets]: [1, 8],
})

let brokers: FakeBroker[] = []
let client: KafkaClient | undefined
afterEach(async () => {
  await client?.close()
  await Promise.all(brokers.map((b) => b.close()))
  brokers = []
})

/** Two brokers; partition 0 of topic t is led by node 1 until `moved`, then by node 2. */
async function cluster(answer: (node: number, r: FakeRequest, moved: boolean) => unknown) {
  const state = {moved: false, ports: [0, 0]}
  const make = (node: number) =>
    fakeBroker((r) => {
      if (r.apiKey === ApiKey.ApiVersions) return VERSIONS
      if (r.apiKey === ApiKey.Metadata) {
        return {
          brokers: [1, 2].map((id) => ({host: '127.0.0.1', nodeId: id, port: state.ports[id - 1]})),
          clusterId: 'fake',
          controllerId: 1,
          topics: [{errorCode: 0, name: 't', partitions: [{errorCode: 0, isrNodes: [1, 2], leaderEpoch: state.moved ? 1 : 0, leaderId: state.moved ? 2 : 1, partitionIndex: 0, replicaNodes: [1, 2]}], topicId: 'AAAAAAAAAAAAAAAAAAAAAQ'}],
        }
      }
      return answer(node, r, state.moved)
    })
  brokers = [await make(1), await make(2)]
  state.ports = brokers.map((b) => b.port)
  client = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: brokers[0]!.port}], retryBackoffMs: 10})
  return state
}

describe('leader changes', () => {
  it('the producer retries on the new leader after NOT_LEADER_OR_FOLLOWER', async () => {
    const state = await cluster((node, r) => {
      if (r.apiKey !== ApiKey.Produce) return undefined
      if (node === 1) {
        state.moved = true
        return {responses: [{name: 't', partitionResponses: [{baseOffset: -1n, errorCode: 6, index: 0}]}]}
      }
      return {responses: [{name: 't', partitionResponses: [{baseOffset: 42n, errorCode: 0, index: 0}]}]}
    })
    const producer = new Producer(client!, {lingerMs: 0})
    const [a, b] = await Promise.all([producer.send({topic: 't', value: Buffer.from('a')}), producer.send({topic: 't', value: Buffer.from('b')})])
    expect([a.partition, a.offset, b.offset]).toEqual([0, 42n, 43n])
    expect(brokers[0]!.requests.filter((r) => r.apiKey === ApiKey.Produce)).toHaveLength(1)
    expect(brokers[1]!.requests.filter((r) => r.apiKey === ApiKey.Produce)).toHaveLength(1)
    // The retried batch is the same bytes.
    const sent = (n: number) => brokers[n]!.requests.find((r) => r.apiKey === ApiKey.Produce)!.body.topicData[0].partitionData[0].records as Buffer
    expect(sent(1).equals(sent(0))).toBe(true)
  })

  it('ListOffsets and Fetch go to the new leader', async () => {
    const records = await buildRecordBatch({baseOffset: 7, records: [{value: Buffer.from('x')}]})
    const state = await cluster((node, r) => {
      if (r.apiKey === ApiKey.ListOffsets) {
        if (node === 1) {
          state.moved = true
          return {topics: [{name: 't', partitions: [{errorCode: 6, offset: -1n, partitionIndex: 0}]}]}
        }
        return {topics: [{name: 't', partitions: [{errorCode: 0, offset: 8n, partitionIndex: 0, timestamp: -1n}]}]}
      }
      if (r.apiKey === ApiKey.Fetch) {
        if (node === 1) return {responses: [{partitions: [{errorCode: 6, highWatermark: -1n, partitionIndex: 0, records: null}], topic: 't'}]}
        return {responses: [{partitions: [{errorCode: 0, highWatermark: 8n, partitionIndex: 0, records}], topic: 't'}]}
      }
      return undefined
    })
    const admin = new Admin(client!)
    const [latest] = await admin.listOffsets([{partition: 0, timestamp: LATEST_TIMESTAMP, topic: 't'}])
    expect(latest).toMatchObject({error: 'NONE', offset: 8n})
    expect(state.moved).toBe(true)

    state.moved = false
    await client!.refreshMetadata(['t'])
    state.moved = true // the next fetch to node 1 fails; metadata now names node 2
    const consumer = new Consumer(client!, {maxWaitMs: 10})
    consumer.assign([{offset: 7n, partition: 0, topic: 't'}])
    for await (const batch of consumer.batches()) {
      if (batch.records.length === 0) continue
      expect(batch.records.map((r) => [r.offset, r.value!.toString()])).toEqual([[7, 'x']])
      break
    }
    await consumer.close()
    expect(brokers[1]!.requests.some((r) => r.apiKey === ApiKey.Fetch)).toBe(true)
  })
})
