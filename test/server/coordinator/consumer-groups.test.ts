/** KIP-848 consumer groups on a fake clock: timeouts, lost responses, restarts, protocol clashes. */
import {describe, expect, it} from 'vitest'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import type {ConsumerGroup} from '../../../src/server/coordinator/consumer-group.js'
import type {ConsumerGroupHeartbeatRequestData} from '../../../src/server/coordinator/group-coordinator.js'
import {harness, joinRequest, TOPICS} from './helpers.js'

const E = ErrorCode
const ORDERS = TOPICS.get('orders')!.id

function hb(overrides: Partial<ConsumerGroupHeartbeatRequestData>): ConsumerGroupHeartbeatRequestData {
  return {
    groupId: 'cg',
    memberId: 'a',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 5000,
    subscribedTopicNames: ['orders'],
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: [],
    clientId: 'c',
    clientHost: '/127.0.0.1',
    apiVersion: 1,
    ...overrides,
  }
}

const steady = (memberId: string, memberEpoch: number, owned: number[] | null = null) => hb({memberId, memberEpoch, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: owned === null ? null : [{topicId: ORDERS, partitions: owned}]})

describe('consumer groups', () => {
  it('fences a member that does not revoke within its rebalance timeout; the others get its partitions', async () => {
    const h = await harness({consumerGroupSessionTimeoutMs: 60_000})
    const c = h.coordinator
    expect((await c.consumerGroupHeartbeat(hb({memberId: 'a'}))).memberEpoch).toBe(1)
    expect((await c.consumerGroupHeartbeat(hb({memberId: 'b'}))).memberEpoch).toBe(2)
    const revoke = await c.consumerGroupHeartbeat(steady('a', 1, [0, 1, 2, 3, 4, 5]))
    expect(revoke.assignment!.flatMap((t) => t.partitions)).toHaveLength(3)
    h.timer.advance(4999)
    expect((await c.consumerGroupHeartbeat(steady('a', 1, [0, 1, 2, 3, 4, 5]))).errorCode).toBe(E.NONE)
    h.timer.advance(1)
    expect((await c.consumerGroupHeartbeat(steady('a', 1))).errorCode).toBe(E.UNKNOWN_MEMBER_ID)
    const b = await c.consumerGroupHeartbeat(steady('b', 2, []))
    expect(b.memberEpoch).toBe(3)
    expect(b.assignment!.flatMap((t) => t.partitions).sort()).toEqual([0, 1, 2, 3, 4, 5])
    expect((c.group('cg') as ConsumerGroup).state()).toBe('Stable')
  })

  it('accepts the previous epoch with a subset of the assignment (a lost response) and fences anything else', async () => {
    const h = await harness()
    const c = h.coordinator
    await c.consumerGroupHeartbeat(hb({memberId: 'a'}))
    await c.consumerGroupHeartbeat(hb({memberId: 'b'}))
    await c.consumerGroupHeartbeat(steady('a', 1, [0, 1, 2, 3, 4, 5]))
    const kept = (c.group('cg') as ConsumerGroup).members.get('a')!.assigned.get(ORDERS)!
    const moved = await c.consumerGroupHeartbeat(steady('a', 1, [...kept]))
    expect(moved.memberEpoch).toBe(2)
    // The response with epoch 2 was lost: the member retries with epoch 1.
    expect((await c.consumerGroupHeartbeat(steady('a', 1, [...kept]))).errorCode).toBe(E.NONE)
    expect((await c.consumerGroupHeartbeat(steady('a', 1, [0, 1, 2, 3, 4, 5]))).errorCode).toBe(E.FENCED_MEMBER_EPOCH)
    expect((await c.consumerGroupHeartbeat(steady('a', 3))).errorCode).toBe(E.FENCED_MEMBER_EPOCH)
  })

  it('keeps the group epoch across a restart; members rejoin', async () => {
    const h = await harness()
    await h.coordinator.consumerGroupHeartbeat(hb({memberId: 'a'}))
    await h.coordinator.consumerGroupHeartbeat(hb({memberId: 'b'}))
    const c = await h.restart()
    expect((c.group('cg') as ConsumerGroup).groupEpoch).toBe(2)
    expect((await c.consumerGroupHeartbeat(steady('a', 1))).errorCode).toBe(E.UNKNOWN_MEMBER_ID)
    const again = await c.consumerGroupHeartbeat(hb({memberId: 'a'}))
    expect(again.memberEpoch).toBe(3)
    expect(c.listGroups({states: [], types: ['consumer']})).toEqual([{groupId: 'cg', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer'}])
  })

  it('does not mix protocols: a classic join to a consumer group with members, a consumer join to a classic group with members', async () => {
    const h = await harness()
    await h.coordinator.consumerGroupHeartbeat(hb({memberId: 'a'}))
    expect((await h.coordinator.joinGroup(joinRequest({groupId: 'cg'}))).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL)
    const join = h.coordinator.joinGroup(joinRequest({groupId: 'classic', requireKnownMemberId: false}))
    h.timer.advance(0)
    expect((await join).errorCode).toBe(E.NONE)
    expect((await h.coordinator.consumerGroupHeartbeat(hb({groupId: 'classic', memberId: 'x'}))).errorCode).toBe(E.GROUP_ID_NOT_FOUND)
  })

  it('turns an empty classic group (offsets only) into a consumer group, keeping its offsets', async () => {
    const h = await harness()
    await h.coordinator.commitOffsets({groupId: 'cg', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 9, topics: [{name: 'orders', partitions: [{partitionIndex: 0, committedOffset: 9n, committedLeaderEpoch: -1, committedMetadata: null}]}]})
    expect((await h.coordinator.consumerGroupHeartbeat(hb({memberId: 'a'}))).memberEpoch).toBe(1)
    expect(h.coordinator.committed('cg', 'orders', 0)?.committedOffset).toBe(9n)
  })
})
