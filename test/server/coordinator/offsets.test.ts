/**
 * Committed offsets and group administration on a fake clock: OffsetCommit/OffsetFetch checks,
 * persistence in __consumer_offsets (a new coordinator over the same log is a broker restart),
 * expiration after offsets.retention.minutes, OffsetDelete, DeleteGroups, ListGroups and
 * DescribeGroups.
 */
import {describe, expect, it} from 'vitest'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {ClassicGroup} from '../../../src/server/coordinator/classic-group.js'
import type {OffsetCommitRequestData} from '../../../src/server/coordinator/group-coordinator.js'
import {decodeCoordinatorKey} from '../../../src/server/coordinator/records.js'
import {type Harness, harness, joinNew, subscription} from './helpers.js'

const E = ErrorCode

function commit(overrides: Partial<OffsetCommitRequestData> & {offsets?: Array<[string, number, number]>} = {}): OffsetCommitRequestData {
  const offsets = overrides.offsets ?? [['orders', 0, 10]]
  const byTopic = new Map<string, Array<{partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null}>>()
  for (const [t, p, o] of offsets) {
    if (!byTopic.has(t)) byTopic.set(t, [])
    byTopic.get(t)!.push({partitionIndex: p, committedOffset: BigInt(o), committedLeaderEpoch: 3, committedMetadata: `m${o}`})
  }
  return {groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 9, topics: [...byTopic].map(([name, partitions]) => ({name, partitions})), ...overrides}
}

async function fetchOne(h: Harness, topic: string, partition: number, groupId = 'g') {
  const r = await h.coordinator.fetchOffsets({groupId, memberId: null, memberEpoch: -1, topics: [{name: topic, partitionIndexes: [partition]}]})
  return r.topics[0]!.partitions[0]!
}

/** A one-member stable classic group subscribed to `orders`; returns the member id. */
async function stableMember(h: Harness, metadata = subscription(['orders'])): Promise<string> {
  const a = await joinNew(h, {protocols: [{name: 'range', metadata}]})
  const j = await a.join
  await h.coordinator.syncGroup({groupId: 'g', generationId: j.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: []})
  return a.memberId
}

describe('OffsetCommit and OffsetFetch', () => {
  it('stores offsets with leader epoch and metadata; unknown partitions answer -1', async () => {
    const h = await harness()
    const r = await h.coordinator.commitOffsets(commit({offsets: [['orders', 0, 10], ['orders', 1, 20]]}))
    expect(r.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([E.NONE, E.NONE])
    expect(await fetchOne(h, 'orders', 1)).toEqual({partitionIndex: 1, committedOffset: 20n, committedLeaderEpoch: 3, metadata: 'm20', errorCode: E.NONE})
    expect(await fetchOne(h, 'orders', 5)).toEqual({partitionIndex: 5, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE})
    expect(await fetchOne(h, 'orders', 0, 'unknown-group')).toMatchObject({committedOffset: -1n, errorCode: E.NONE})
    const all = await h.coordinator.fetchOffsets({groupId: 'g', memberId: null, memberEpoch: -1, topics: null})
    expect(all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)])).toEqual([['orders', [10n, 20n]]])
    // The simple commit made an empty classic group without a protocol.
    expect((h.coordinator.group('g') as ClassicGroup).state).toBe('Empty')
  })

  it('checks per partition: unknown topics and partitions (as KafkaApis), metadata over offset.metadata.max.bytes', async () => {
    const h = await harness({offsetMetadataMaxBytes: 5})
    const req = commit({offsets: [['nope', 0, 1], ['orders', 0, 100000], ['orders', 6, 1], ['orders', -1, 1], ['orders', 1, 1]]})
    const r = await h.coordinator.commitOffsets(req)
    expect(r.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([[E.UNKNOWN_TOPIC_OR_PARTITION], [E.OFFSET_METADATA_TOO_LARGE, E.UNKNOWN_TOPIC_OR_PARTITION, E.UNKNOWN_TOPIC_OR_PARTITION, E.NONE]])
    const all = await h.coordinator.fetchOffsets({groupId: 'g', memberId: null, memberEpoch: -1, topics: null})
    expect(all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])])).toEqual([['orders', [[1, 1n]]]])
  })

  it('a commit that stores nothing creates no group (unknown topics and partitions, metadata too large)', async () => {
    const h = await harness({offsetMetadataMaxBytes: 5})
    const rejected = await h.coordinator.commitOffsets(commit({groupId: 'never', offsets: [['nope', 0, 1], ['orders', 6, 1], ['orders', 0, 100000]]}))
    expect(rejected.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([[E.UNKNOWN_TOPIC_OR_PARTITION], [E.UNKNOWN_TOPIC_OR_PARTITION, E.OFFSET_METADATA_TOO_LARGE]])
    expect(h.coordinator.group('never')).toBeUndefined()
    expect(h.coordinator.listGroups({states: [], types: []})).toEqual([])
    expect((await h.coordinator.deleteOffsets({groupId: 'never', topics: [{name: 'orders', partitions: [0]}]})).errorCode).toBe(E.GROUP_ID_NOT_FOUND)
    expect(h.log.all()).toEqual([])
    // Nothing known is left to commit: the group is not looked at (KafkaApis answers alone), so
    // a generation for a group that does not exist is not GROUP_ID_NOT_FOUND here...
    const unknownOnly = await h.coordinator.commitOffsets(commit({groupId: 'never', generationIdOrMemberEpoch: 3, memberId: 'm', offsets: [['nope', 0, 1]]}))
    expect(unknownOnly.topics[0]!.partitions[0]!.errorCode).toBe(E.UNKNOWN_TOPIC_OR_PARTITION)
    // ...and where something is, the group's error goes to those partitions only.
    const mixed = await h.coordinator.commitOffsets(commit({groupId: 'never', generationIdOrMemberEpoch: 3, memberId: 'm', offsets: [['nope', 0, 1], ['orders', 0, 1]]}))
    expect(mixed.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([E.UNKNOWN_TOPIC_OR_PARTITION, E.GROUP_ID_NOT_FOUND])
    expect(h.coordinator.group('never')).toBeUndefined()
  })

  it('checks the member and generation of a classic group', async () => {
    const h = await harness()
    const member = await stableMember(h)
    const code = async (o: Partial<OffsetCommitRequestData>) => (await h.coordinator.commitOffsets(commit(o))).topics[0]!.partitions[0]!.errorCode
    expect(await code({generationIdOrMemberEpoch: 1, memberId: member})).toBe(E.NONE)
    expect(await code({generationIdOrMemberEpoch: 2, memberId: member})).toBe(E.ILLEGAL_GENERATION)
    expect(await code({generationIdOrMemberEpoch: 1, memberId: 'someone'})).toBe(E.UNKNOWN_MEMBER_ID)
    // Without member and generation, only an empty group accepts commits.
    expect(await code({})).toBe(E.UNKNOWN_MEMBER_ID)
    // A generation for a group that does not exist: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before.
    expect(await code({groupId: 'other', generationIdOrMemberEpoch: 1, memberId: 'm'})).toBe(E.GROUP_ID_NOT_FOUND)
    expect(await code({groupId: 'other', generationIdOrMemberEpoch: 1, memberId: 'm', apiVersion: 8})).toBe(E.ILLEGAL_GENERATION)
    expect(await code({groupId: ''})).toBe(E.INVALID_GROUP_ID)
  })

  it('refuses commits during CompletingRebalance with REBALANCE_IN_PROGRESS', async () => {
    const h = await harness()
    const a = await joinNew(h)
    const j = await a.join
    expect((h.coordinator.group('g') as ClassicGroup).state).toBe('CompletingRebalance')
    const r = await h.coordinator.commitOffsets(commit({generationIdOrMemberEpoch: j.generationId, memberId: a.memberId}))
    expect(r.topics[0]!.partitions[0]!.errorCode).toBe(E.REBALANCE_IN_PROGRESS)
  })

  it('answers COORDINATOR_NOT_AVAILABLE and keeps the old offset when the write fails', async () => {
    const h = await harness()
    await h.coordinator.commitOffsets(commit({offsets: [['orders', 0, 5]]}))
    h.log.failAppends = new Error('disk full')
    const r = await h.coordinator.commitOffsets(commit({offsets: [['orders', 0, 9]]}))
    expect(r.topics[0]!.partitions[0]!.errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE)
    // The simple group a failed first commit would have made is gone with it.
    expect((await h.coordinator.commitOffsets(commit({groupId: 'new'}))).topics[0]!.partitions[0]!.errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE)
    expect(h.coordinator.group('new')).toBeUndefined()
    h.log.failAppends = undefined
    expect((await fetchOne(h, 'orders', 0)).committedOffset).toBe(5n)
  })

  it('survives a restart: offsets and a stable group come back; its members keep heartbeating without a rebalance', async () => {
    const h = await harness()
    const member = await stableMember(h)
    await h.coordinator.commitOffsets(commit({generationIdOrMemberEpoch: 1, memberId: member, offsets: [['orders', 0, 42], ['payments', 2, 7]]}))
    await h.coordinator.commitOffsets(commit({groupId: 'simple', offsets: [['orders', 3, 3]]}))
    await h.restart()
    expect((await fetchOne(h, 'orders', 0)).committedOffset).toBe(42n)
    expect((await fetchOne(h, 'payments', 2)).committedLeaderEpoch).toBe(3)
    expect((await fetchOne(h, 'orders', 3, 'simple')).committedOffset).toBe(3n)
    const g = h.coordinator.group('g') as ClassicGroup
    expect(g.state).toBe('Stable')
    expect(g.generationId).toBe(1)
    expect(h.coordinator.heartbeat({groupId: 'g', generationId: 1, memberId: member, groupInstanceId: null})).toBe(E.NONE)
    // A member that never comes back is removed by its session timeout.
    h.timer.advance(10_000)
    expect(g.state).toBe('Empty')
    expect(g.generationId).toBe(2)
  })

  it('lets OffsetFetch see a commit that is still being written', async () => {
    const h = await harness()
    const pending = h.coordinator.commitOffsets(commit({offsets: [['orders', 0, 77]]}))
    const fetched = fetchOne(h, 'orders', 0)
    await pending
    expect((await fetched).committedOffset).toBe(77n)
  })
})

describe('offset expiration (offsets.retention.minutes)', () => {
  it('expires the offsets of an empty group after the retention, then the group itself', async () => {
    const h = await harness({offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 3_600_000})
    const member = await stableMember(h)
    await h.coordinator.commitOffsets(commit({generationIdOrMemberEpoch: 1, memberId: member}))
    h.coordinator.leaveGroup({groupId: 'g', members: [{memberId: member, groupInstanceId: null, reason: null}]})
    expect((h.coordinator.group('g') as ClassicGroup).state).toBe('Empty')
    expect(await h.coordinator.expireOffsets()).toEqual({offsets: 0, groups: 0})
    h.timer.advance(59_000)
    expect(await h.coordinator.expireOffsets()).toEqual({offsets: 0, groups: 0})
    h.timer.advance(1000)
    expect(await h.coordinator.expireOffsets()).toEqual({offsets: 1, groups: 1})
    expect(h.coordinator.group('g')).toBeUndefined()
    // Tombstones: the restarted coordinator does not bring them back.
    await h.restart()
    expect(h.coordinator.group('g')).toBeUndefined()
    expect((await fetchOne(h, 'orders', 0)).committedOffset).toBe(-1n)
  })

  it('never expires the offsets of topics a stable group subscribes to; expires others from their commit time', async () => {
    const h = await harness({offsetsRetentionMs: 60_000})
    const member = await stableMember(h)
    await h.coordinator.commitOffsets(commit({generationIdOrMemberEpoch: 1, memberId: member, offsets: [['orders', 0, 1], ['payments', 0, 1]]}))
    for (let i = 0; i < 7; i++) {
      h.timer.advance(9_000)
      h.coordinator.heartbeat({groupId: 'g', generationId: 1, memberId: member, groupInstanceId: null})
    }
    expect(await h.coordinator.expireOffsets()).toEqual({offsets: 1, groups: 0})
    expect((await fetchOne(h, 'orders', 0)).committedOffset).toBe(1n)
    expect((await fetchOne(h, 'payments', 0)).committedOffset).toBe(-1n)
  })

  it('expires at an explicit expire timestamp (OffsetCommit v2-v4 retention time) and runs on its own timer', async () => {
    const h = await harness({offsetsRetentionCheckIntervalMs: 1000})
    await h.coordinator.commitOffsets(commit({retentionTimeMs: 5000, apiVersion: 4}))
    h.timer.advance(4000)
    for (let i = 0; i < 5; i++) await Promise.resolve()
    expect((await fetchOne(h, 'orders', 0)).committedOffset).toBe(10n)
    h.timer.advance(1000)
    for (let i = 0; i < 20; i++) await Promise.resolve()
    expect((await fetchOne(h, 'orders', 0)).committedOffset).toBe(-1n)
  })
})

describe('OffsetDelete, DeleteGroups, ListGroups, DescribeGroups', () => {
  it('deletes offsets of topics the group does not subscribe to', async () => {
    const h = await harness()
    const member = await stableMember(h)
    await h.coordinator.commitOffsets(commit({generationIdOrMemberEpoch: 1, memberId: member, offsets: [['orders', 0, 1], ['payments', 0, 1], ['payments', 1, 1]]}))
    const r = await h.coordinator.deleteOffsets({groupId: 'g', topics: [{name: 'orders', partitions: [0, 6]}, {name: 'payments', partitions: [0, 2]}, {name: 'nope', partitions: [0]}]})
    expect(r.errorCode).toBe(E.NONE)
    // Every partition asked for is answered (Kafka 4.0), payments-2 without an offset too.
    expect(r.topics).toEqual([
      {name: 'orders', partitions: [{partitionIndex: 0, errorCode: E.GROUP_SUBSCRIBED_TO_TOPIC}, {partitionIndex: 6, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION}]},
      {name: 'payments', partitions: [{partitionIndex: 0, errorCode: E.NONE}, {partitionIndex: 2, errorCode: E.NONE}]},
      {name: 'nope', partitions: [{partitionIndex: 0, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION}]},
    ])
    expect(h.log.all().filter((rec) => rec.value === null)).toHaveLength(1)
    expect((await fetchOne(h, 'payments', 0)).committedOffset).toBe(-1n)
    expect((await fetchOne(h, 'payments', 1)).committedOffset).toBe(1n)
    expect((await h.coordinator.deleteOffsets({groupId: 'nope', topics: []})).errorCode).toBe(E.GROUP_ID_NOT_FOUND)
  })

  it('reads a subscription as its version-0 prefix, as Kafka does: version 1 with only version-0 fields (@platformatic/kafka)', async () => {
    const h = await harness()
    // The exact bytes @platformatic/kafka 1.35 sends: version 1, topics ["orders"], null user
    // data, and none of version 1's owned partitions.
    const v1WithV0Fields = Buffer.from('0001' + '00000001' + '0006' + Buffer.from('orders').toString('hex') + 'ffffffff', 'hex')
    const member = await stableMember(h, v1WithV0Fields)
    await h.coordinator.commitOffsets(commit({generationIdOrMemberEpoch: 1, memberId: member, offsets: [['orders', 0, 1], ['payments', 0, 1]]}))
    const r = await h.coordinator.deleteOffsets({groupId: 'g', topics: [{name: 'orders', partitions: [0]}, {name: 'payments', partitions: [0]}]})
    expect(r).toEqual({
      errorCode: E.NONE,
      topics: [
        {name: 'orders', partitions: [{partitionIndex: 0, errorCode: E.GROUP_SUBSCRIBED_TO_TOPIC}]},
        {name: 'payments', partitions: [{partitionIndex: 0, errorCode: E.NONE}]},
      ],
    })
    expect((await fetchOne(h, 'payments', 0)).committedOffset).toBe(-1n)
  })

  it('knows the topics of every subscription version, later unknown ones too, and refuses every partition when one does not parse', () => {
    const group = (metadata: Buffer) => {
      const g = new ClassicGroup('g', 0)
      g.protocolType = 'consumer'
      g.protocolName = 'range'
      g.members.set('m', {memberId: 'm', groupInstanceId: null, clientId: 'c', clientHost: 'h', rebalanceTimeoutMs: 1, sessionTimeoutMs: 1, protocolType: 'consumer', protocols: [{name: 'range', metadata}], assignment: Buffer.alloc(0), isNew: false})
      return g
    }
    for (let version = 0; version <= 3; version++) expect(group(subscription(['orders', 'payments'], version)).subscribedTopics()).toEqual(new Set(['orders', 'payments']))
    // A version from the future: version 3's fields and more after them.
    const future = Buffer.concat([subscription(['orders'], 3), Buffer.from('cafe', 'hex')])
    future.writeInt16BE(9, 0)
    expect(group(future).subscribedTopics()).toEqual(new Set(['orders']))
    expect(group(Buffer.from('00', 'hex')).subscribedTopics()).toBeUndefined()
    expect(group(Buffer.from('0000' + '00000002' + '0001', 'hex')).subscribedTopics()).toBeUndefined()
  })

  it('deletes only empty groups, with tombstones for the group and its offsets', async () => {
    const h = await harness()
    const member = await stableMember(h)
    await h.coordinator.commitOffsets(commit({groupId: 'simple', offsets: [['orders', 0, 1], ['orders', 1, 2]]}))
    expect(await h.coordinator.deleteGroups(['g', 'simple', 'nope', ''])).toEqual([
      {groupId: 'g', errorCode: E.NON_EMPTY_GROUP},
      {groupId: 'simple', errorCode: E.NONE},
      {groupId: 'nope', errorCode: E.GROUP_ID_NOT_FOUND},
      {groupId: '', errorCode: E.INVALID_GROUP_ID},
    ])
    const tombstones = h.log.all().filter((r) => r.value === null).map((r) => decodeCoordinatorKey(r.key))
    expect(tombstones).toEqual([
      {type: 'offset', group: 'simple', topic: 'orders', partition: 0},
      {type: 'offset', group: 'simple', topic: 'orders', partition: 1},
      {type: 'group', group: 'simple'},
    ])
    expect(member).toBeTruthy()
    await h.restart()
    expect(h.coordinator.group('simple')).toBeUndefined()
  })

  it('lists groups with state and type filters, and describes classic groups', async () => {
    const h = await harness()
    const member = await stableMember(h)
    await h.coordinator.commitOffsets(commit({groupId: 'simple'}))
    expect(h.coordinator.listGroups({states: [], types: []})).toEqual([
      {groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic'},
      {groupId: 'simple', protocolType: '', groupState: 'Empty', groupType: 'classic'},
    ])
    expect(h.coordinator.listGroups({states: ['stable'], types: []}).map((g) => g.groupId)).toEqual(['g'])
    expect(h.coordinator.listGroups({states: [], types: ['consumer']})).toEqual([])
    const d = h.coordinator.describeGroup('g', 5)
    expect(d).toMatchObject({errorCode: E.NONE, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range'})
    expect(d.members.map((m) => [m.memberId, m.clientId, m.clientHost])).toEqual([[member, 'client', '/127.0.0.1']])
    expect(h.coordinator.describeGroup('nope', 5)).toMatchObject({errorCode: E.NONE, groupState: 'Dead'})
    expect(h.coordinator.describeGroup('nope', 6)).toMatchObject({errorCode: E.GROUP_ID_NOT_FOUND, errorMessage: 'Group nope not found.'})
  })
})
