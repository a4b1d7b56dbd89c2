/**
 * Client quotas on a cluster (issue 15): quotas live in etcd, so a quota altered through one
 * broker is described and enforced by the others.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'
import {clusterEtcdMissing, TestCluster} from './cluster-support.js'
import {pollUntil} from './harness.js'
import {RawClient} from './peers.js'

describe.skipIf(clusterEtcdMissing !== null)('client quotas on a cluster', () => {
  let cluster: TestCluster

  beforeAll(async () => {
    cluster = await TestCluster.start({brokers: 2})
  }, 60_000)

  afterAll(async () => {
    await cluster?.close()
  })

  it('a quota altered through one broker is described and enforced by the other within a second', async () => {
    // RawClient's client id is kcli-e2e-raw: 10 KB/s for it.
    const altered = await RawClient.using(cluster.port(1), (c) =>
      c.request(ApiKey.AlterClientQuotas, 1, {validateOnly: false, entries: [{entity: [{entityType: 'client-id', entityName: 'kcli-e2e-raw'}], ops: [{key: 'producer_byte_rate', value: 10_000, remove: false}]}]}),
    )
    expect(altered.entries[0]!.errorCode).toBe(0)
    const startedAt = Date.now()
    const described = await pollUntil(
      () => RawClient.using(cluster.port(2), (c) => c.request(ApiKey.DescribeClientQuotas, 1, {components: [{entityType: 'client-id', matchType: 0, match: 'kcli-e2e-raw'}], strict: true})),
      (r) => (r.entries?.length ?? 0) === 1,
      5000,
      'the quota described by broker 2',
    )
    expect(Date.now() - startedAt).toBeLessThan(2000)
    expect(described.entries![0]!.values).toEqual([{key: 'producer_byte_rate', value: 10_000}])
    // 150 KB is more than (samples - 1) windows of 10 KB/s: broker 2 throttles the producer.
    const records = await buildRecordBatch({records: [{value: Buffer.alloc(150_000, 7)}]})
    const produced = await RawClient.using(cluster.port(2), (c) => c.request(ApiKey.Produce, 9, {acks: 1, timeoutMs: 5000, topicData: [{name: 'no-such-topic', partitionData: [{index: 0, records}]}]}))
    expect(produced.throttleTimeMs).toBeGreaterThan(1000)
  }, 60_000)
})
