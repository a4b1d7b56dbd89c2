/**
 * The group handlers' version differences on the wire (raw socket, kcli's codecs):
 * FindCoordinator v0-v6 (single and batched keys, transaction and unknown key types), JoinGroup
 * before KIP-394 (v2-v3), LeaveGroup v0-v2 (one member, its error at the top), OffsetFetch v1 (no
 * top-level error) and v8 batches, OffsetCommit v2 retention, ListGroups filters (v4 states, v5
 * types), DescribeGroups v0 for an unknown group, OffsetDelete, DeleteGroups; and compaction of
 * __consumer_offsets: after the log cleaner runs, only the latest offsets remain and a restarted
 * broker loads them.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Kafka, logLevel} from 'kafkajs'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {OFFSETS_TOPIC} from '../../src/server/coordinator/coordinator-log.js'
import type {TestBroker} from './harness.js'
import {startGroupBroker} from './groups-support.js'
import {RawClient} from './peers.js'

const E = ErrorCode

describe('group handlers across versions', () => {
  let broker: TestBroker
  let client: RawClient

  beforeAll(async () => {
    broker = await startGroupBroker({'offsets.topic.num.partitions': '5'})
    const admin = new Kafka({brokers: [broker.bootstrap], logLevel: logLevel.NOTHING}).admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'h', numPartitions: 2}]})
    await admin.disconnect()
    client = await RawClient.connect(broker.port)
  })

  afterAll(async () => {
    client?.close()
    await broker?.stop()
  })

  it('FindCoordinator: one key (v0-v3), batched keys (v4+), transaction keys, unknown key types refused', async () => {
    const v0 = await client.request(ApiKey.FindCoordinator, 0, {key: 'g'})
    expect(v0).toMatchObject({errorCode: E.NONE, nodeId: 1, host: '127.0.0.1', port: broker.port})
    const v3 = await client.request(ApiKey.FindCoordinator, 3, {key: 'g', keyType: 0})
    expect(v3).toMatchObject({errorCode: E.NONE, errorMessage: 'NONE', nodeId: 1, port: broker.port})
    // Transaction keys belong to the transaction coordinator: this broker, or not available without one.
    const txn = await client.request(ApiKey.FindCoordinator, 3, {key: 'tx', keyType: 1})
    expect(txn.errorCode === E.NONE ? txn.nodeId : txn.errorCode).toBe(txn.errorCode === E.NONE ? 1 : E.COORDINATOR_NOT_AVAILABLE)
    const v6 = await client.request(ApiKey.FindCoordinator, 6, {keyType: 0, coordinatorKeys: ['a', 'b']})
    expect(v6.coordinators.map((c) => [c.key, c.errorCode, c.nodeId, c.port])).toEqual([
      ['a', E.NONE, 1, broker.port],
      ['b', E.NONE, 1, broker.port],
    ])
    const bad = await client.request(ApiKey.FindCoordinator, 6, {keyType: 7, coordinatorKeys: ['a']})
    expect(bad.coordinators[0]!.errorCode).toBe(E.INVALID_REQUEST)
    // The first lookup created __consumer_offsets with offsets.topic.num.partitions, compacted.
    const md = await client.request(ApiKey.Metadata, 12, {topics: [{name: OFFSETS_TOPIC}]})
    expect(md.topics[0]).toMatchObject({errorCode: E.NONE, isInternal: true})
    expect(md.topics[0]!.partitions).toHaveLength(5)
    const configs = await client.request(ApiKey.DescribeConfigs, 4, {resources: [{resourceType: 2, resourceName: OFFSETS_TOPIC, configurationKeys: ['cleanup.policy']}]})
    expect(configs.results[0]!.configs[0]).toMatchObject({name: 'cleanup.policy', value: 'compact'})
  })

  it('JoinGroup v2 needs no member id round trip; LeaveGroup v0 puts the member error at the top', async () => {
    const protocols = [{name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x68, 0xff, 0xff, 0xff, 0xff])}]
    const join = await client.request(ApiKey.JoinGroup, 2, {groupId: 'v2', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols})
    expect(join).toMatchObject({errorCode: E.NONE, generationId: 1, protocolName: 'range'})
    expect(join.leader).toBe(join.memberId)
    const sync = await client.request(ApiKey.SyncGroup, 0, {groupId: 'v2', generationId: 1, memberId: join.memberId, assignments: [{memberId: join.memberId, assignment: Buffer.from('x')}]})
    expect(sync).toMatchObject({errorCode: E.NONE, assignment: Buffer.from('x')})
    expect(await client.request(ApiKey.Heartbeat, 0, {groupId: 'v2', generationId: 1, memberId: join.memberId})).toMatchObject({errorCode: E.NONE})
    expect(await client.request(ApiKey.LeaveGroup, 0, {groupId: 'v2', memberId: 'nobody'})).toMatchObject({errorCode: E.UNKNOWN_MEMBER_ID})
    expect(await client.request(ApiKey.LeaveGroup, 0, {groupId: 'v2', memberId: join.memberId})).toMatchObject({errorCode: E.NONE})
    expect(await client.request(ApiKey.Heartbeat, 4, {groupId: 'v2', generationId: 1, memberId: join.memberId})).toMatchObject({errorCode: E.UNKNOWN_MEMBER_ID})
  })

  it('OffsetCommit v2 with a retention time, OffsetFetch v1 and v8 (batched), OffsetDelete, DeleteGroups', async () => {
    const commit = await client.request(ApiKey.OffsetCommit, 2, {groupId: 'off', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: 60_000n, topics: [{name: 'h', partitions: [{partitionIndex: 0, committedOffset: 5n, committedMetadata: 'meta'}, {partitionIndex: 1, committedOffset: 6n}]}, {name: 'missing', partitions: [{partitionIndex: 0, committedOffset: 1n}]}]})
    expect(commit.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([[E.NONE, E.NONE], [E.UNKNOWN_TOPIC_OR_PARTITION]])
    const v1 = await client.request(ApiKey.OffsetFetch, 1, {groupId: 'off', topics: [{name: 'h', partitionIndexes: [0, 1]}]})
    expect(v1.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata])).toEqual([
      [0, 5n, 'meta'],
      [1, 6n, ''],
    ])
    const v8 = await client.request(ApiKey.OffsetFetch, 8, {groups: [{groupId: 'off', topics: null}, {groupId: 'none', topics: [{name: 'h', partitionIndexes: [0]}]}]})
    expect(v8.groups.map((g) => [g.groupId, g.errorCode, g.topics.map((t) => t.partitions.map((p) => p.committedOffset))])).toEqual([
      ['off', E.NONE, [[5n, 6n]]],
      ['none', E.NONE, [[-1n]]],
    ])
    const deleted = await client.request(ApiKey.OffsetDelete, 0, {groupId: 'off', topics: [{name: 'h', partitions: [{partitionIndex: 1}]}]})
    expect(deleted).toMatchObject({errorCode: E.NONE, topics: [{name: 'h', partitions: [{partitionIndex: 1, errorCode: E.NONE}]}]})
    expect((await client.request(ApiKey.OffsetDelete, 0, {groupId: 'nope', topics: []})).errorCode).toBe(E.GROUP_ID_NOT_FOUND)
    const groups = await client.request(ApiKey.DeleteGroups, 0, {groupsNames: ['off', 'nope']})
    expect(groups.results).toEqual([
      {groupId: 'off', errorCode: E.NONE},
      {groupId: 'nope', errorCode: E.GROUP_ID_NOT_FOUND},
    ])
  })

  it('ListGroups with state (v4) and type (v5) filters; DescribeGroups v0 reports an unknown group as Dead', async () => {
    await client.request(ApiKey.OffsetCommit, 8, {groupId: 'listed', generationIdOrMemberEpoch: -1, memberId: '', topics: [{name: 'h', partitions: [{partitionIndex: 0, committedOffset: 1n}]}]})
    const v0 = await client.request(ApiKey.ListGroups, 0, {})
    expect(v0.groups).toContainEqual({groupId: 'listed', protocolType: '', groupState: '', groupType: ''})
    const v4 = await client.request(ApiKey.ListGroups, 4, {statesFilter: ['EMPTY']})
    expect(v4.groups.map((g) => [g.groupId, g.groupState])).toContainEqual(['listed', 'Empty'])
    expect((await client.request(ApiKey.ListGroups, 4, {statesFilter: ['Stable']})).groups.find((g) => g.groupId === 'listed')).toBeUndefined()
    const v5 = await client.request(ApiKey.ListGroups, 5, {statesFilter: [], typesFilter: ['classic']})
    expect(v5.groups.find((g) => g.groupId === 'listed')).toEqual({groupId: 'listed', protocolType: '', groupState: 'Empty', groupType: 'classic'})
    expect((await client.request(ApiKey.ListGroups, 5, {statesFilter: [], typesFilter: ['consumer']})).groups.find((g) => g.groupId === 'listed')).toBeUndefined()
    const dead = await client.request(ApiKey.DescribeGroups, 0, {groups: ['unknown']})
    expect(dead.groups[0]).toMatchObject({errorCode: E.NONE, groupId: 'unknown', groupState: 'Dead'})
    const withOps = await client.request(ApiKey.DescribeGroups, 5, {groups: ['listed'], includeAuthorizedOperations: true})
    expect(withOps.groups[0]).toMatchObject({groupState: 'Empty', authorizedOperations: (1 << 3) | (1 << 6) | (1 << 8)})
  })
})
