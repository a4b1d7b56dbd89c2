/**
 * ACLs on a cluster (issue 15): they live in etcd, so an ACL created through one broker is
 * enforced by the others within about a second (their watch delivers it), and every broker
 * describes the same set. The brokers run the authorizer with allow.everyone.if.no.acl.found, so
 * their own (ANONYMOUS, PLAINTEXT) inter-broker requests stay allowed; the test DENYs one topic.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {AclOperation as Op, AclPermissionType as Perm, PatternType, ResourceType as RT} from '../../src/lib/acl.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'
import {clusterEtcdMissing, TestCluster} from './cluster-support.js'
import {RawClient} from './peers.js'

const ANY_FILTER = {resourceTypeFilter: RT.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY}

describe.skipIf(clusterEtcdMissing !== null)('ACLs on a cluster of brokers on etcd', () => {
  let cluster: TestCluster
  const clients: RawClient[] = []
  const connect = async (id: number) => {
    const c = await RawClient.connect(cluster.port(id))
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    cluster = await TestCluster.start({prefix: '/kcli-acls', overrides: {'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'allow.everyone.if.no.acl.found': 'true'}})
  }, 120_000)

  afterAll(async () => {
    for (const c of clients) c.close()
    await cluster?.close()
  })

  it('an ACL created through one broker is enforced by the leader on another within a second', async () => {
    const c1 = await connect(1)
    const created = await c1.request(ApiKey.CreateTopics, 7, {topics: [{name: 'guarded', numPartitions: 1, replicationFactor: 3, assignments: [], configs: []}], timeoutMs: 10_000, validateOnly: false})
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE)
    await cluster.waitForHealthy('guarded', {isr: 3})
    const leader = (await cluster.leaderOf('guarded', 0))!
    const via = cluster.nodeIds.find((id) => id !== leader)!
    const toLeader = await connect(leader)
    const records = await buildRecordBatch({records: [{value: Buffer.from('v')}]})
    const produce = async () => (await toLeader.request(ApiKey.Produce, 9, {transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{name: 'guarded', partitionData: [{index: 0, records}]}]})).responses[0]!.partitionResponses[0]!.errorCode
    // The metadata came from one broker; the leader itself may take a moment more to act on its
    // election (NOT_LEADER_OR_FOLLOWER meanwhile, as Kafka answers), so wait for its first append.
    await cluster.waitFor('the leader accepts a produce', async () => (await produce()) === ErrorCode.NONE, 30_000)

    const viaClient = await connect(via)
    const res = await viaClient.request(ApiKey.CreateAcls, 3, {creations: [{resourceType: RT.TOPIC, resourceName: 'guarded', resourcePatternType: PatternType.LITERAL, principal: 'User:*', host: '*', operation: Op.WRITE, permissionType: Perm.DENY}]})
    expect(res.results[0]!.errorCode).toBe(ErrorCode.NONE)
    const started = Date.now()
    let code: number = ErrorCode.NONE
    while (Date.now() - started < 5_000) {
      code = await produce()
      if (code === ErrorCode.TOPIC_AUTHORIZATION_FAILED) break
      await new Promise((r) => setTimeout(r, 20))
    }
    const elapsed = Date.now() - started
    expect(code).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    // Within a second; slack for a loaded two-core machine.
    expect(elapsed).toBeLessThan(3_000)
    for (const id of cluster.nodeIds) {
      const d = await (await connect(id)).request(ApiKey.DescribeAcls, 3, ANY_FILTER)
      expect(d.resources.map((r) => [r.resourceName, r.acls.length])).toEqual([['guarded', 1]])
    }
    // Deleted through a third broker: writes work again.
    const third = cluster.nodeIds.find((id) => id !== via && id !== leader) ?? via
    const del = await (await connect(third)).request(ApiKey.DeleteAcls, 3, {filters: [ANY_FILTER]})
    expect(del.filterResults[0]!.matchingAcls).toHaveLength(1)
    const deadline = Date.now() + 5_000
    while ((code = await produce()) !== ErrorCode.NONE && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(code).toBe(ErrorCode.NONE)
  }, 120_000)
})
