/**
 * Acceptance of issue 5: the KIP-848 consumer group protocol at the protocol level, with kcli's
 * generated codecs on a raw socket (no Kafka 4.0 Java consumer on this machine):
 * ConsumerGroupHeartbeat join, server-side assignment (uniform and range), incremental
 * reconciliation with member epochs (revoke first, then assign), OffsetCommit/OffsetFetch v9
 * with member epochs, ConsumerGroupDescribe, ListGroups/DescribeGroups answers for a consumer
 * group, static member temporary leave and return, session timeout fencing, leave, delete.
 */
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {randomUuid} from '../../src/lib/protocol/uuid.js'
import type {TestBroker} from './harness.js'
import {startGroupBroker} from './groups-support.js'
import {RawClient, sleep} from './peers.js'

const E = ErrorCode
const TOPIC = 'kip848'

interface Heartbeat {
  memberId: string
  memberEpoch: number
  instanceId?: string | null
  rebalanceTimeoutMs?: number
  subscribedTopicNames?: string[] | null
  serverAssignor?: string | null
  topicPartitions?: Array<{topicId: string; partitions: number[]}> | null
}

describe('KIP-848 consumer group protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe)', () => {
  let broker: TestBroker
  let client: RawClient
  let topicId: string

  beforeAll(async () => {
    broker = await startGroupBroker({'group.consumer.session.timeout.ms': '2000', 'group.consumer.heartbeat.interval.ms': '500'})
    const admin = new Kafka({brokers: [broker.bootstrap], logLevel: logLevel.NOTHING}).admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: TOPIC, numPartitions: 6}]})
    await admin.disconnect()
    client = await RawClient.connect(broker.port)
    const metadata = await client.request(ApiKey.Metadata, 12, {topics: [{name: TOPIC}]})
    topicId = metadata.topics.find((t) => t.name === TOPIC)!.topicId
  })

  afterAll(async () => {
    client?.close()
    await broker?.stop()
  })

  function heartbeat(groupId: string, h: Heartbeat) {
    return client.request(ApiKey.ConsumerGroupHeartbeat, 1, {
      groupId,
      memberId: h.memberId,
      memberEpoch: h.memberEpoch,
      instanceId: h.instanceId ?? null,
      rackId: null,
      rebalanceTimeoutMs: h.rebalanceTimeoutMs ?? -1,
      subscribedTopicNames: h.subscribedTopicNames ?? null,
      subscribedTopicRegex: null,
      serverAssignor: h.serverAssignor ?? null,
      topicPartitions: h.topicPartitions ?? null,
    })
  }

  function join(groupId: string, memberId: string, assignor = 'uniform', instanceId: string | null = null) {
    return heartbeat(groupId, {memberId, memberEpoch: 0, instanceId, rebalanceTimeoutMs: 30_000, subscribedTopicNames: [TOPIC], serverAssignor: assignor, topicPartitions: []})
  }

  const partitionsOf = (a: {topicPartitions: Array<{topicId: string; partitions: number[]}>} | null) => (a ? a.topicPartitions.flatMap((t) => (t.topicId === topicId ? t.partitions : [])).sort() : null)
  const owned = (partitions: number[]) => [{topicId, partitions}]

  it('finds the coordinator, joins, assigns incrementally with member epochs, and leaves', async () => {
    const coordinator = await client.request(ApiKey.FindCoordinator, 6, {keyType: 0, coordinatorKeys: ['kip848-g']})
    expect(coordinator.coordinators[0]).toMatchObject({key: 'kip848-g', nodeId: 1, port: broker.port, errorCode: E.NONE})

    const a = randomUuid()
    const b = randomUuid()
    const ja = await join('kip848-g', a)
    expect(ja).toMatchObject({errorCode: E.NONE, memberId: a, memberEpoch: 1, heartbeatIntervalMs: 500})
    expect(partitionsOf(ja.assignment)).toEqual([0, 1, 2, 3, 4, 5])

    // B joins at group epoch 2: its partitions are still owned by A.
    const jb = await join('kip848-g', b)
    expect(jb).toMatchObject({errorCode: E.NONE, memberEpoch: 2})
    expect(partitionsOf(jb.assignment)).toEqual([])

    // A must revoke three partitions first: it stays at epoch 1 with the three it keeps.
    const ha1 = await heartbeat('kip848-g', {memberId: a, memberEpoch: 1, topicPartitions: owned([0, 1, 2, 3, 4, 5])})
    expect(ha1.memberEpoch).toBe(1)
    const kept = partitionsOf(ha1.assignment)!
    expect(kept).toHaveLength(3)
    // Still reporting the revoked partitions: nothing moves.
    const ha2 = await heartbeat('kip848-g', {memberId: a, memberEpoch: 1, topicPartitions: owned([0, 1, 2, 3, 4, 5])})
    expect(ha2.memberEpoch).toBe(1)
    const hb1 = await heartbeat('kip848-g', {memberId: b, memberEpoch: 2, topicPartitions: owned([])})
    expect(partitionsOf(hb1.assignment) ?? []).toEqual([])
    // A revoked them: it moves to epoch 2; then B gets them.
    const ha3 = await heartbeat('kip848-g', {memberId: a, memberEpoch: 1, topicPartitions: owned(kept)})
    expect(ha3.memberEpoch).toBe(2)
    const hb2 = await heartbeat('kip848-g', {memberId: b, memberEpoch: 2, topicPartitions: owned([])})
    const moved = partitionsOf(hb2.assignment)!
    expect(moved).toHaveLength(3)
    expect([...kept, ...moved].sort()).toEqual([0, 1, 2, 3, 4, 5])

    const described = await client.request(ApiKey.ConsumerGroupDescribe, 1, {groupIds: ['kip848-g'], includeAuthorizedOperations: true})
    const g = described.groups[0]!
    expect(g).toMatchObject({errorCode: E.NONE, groupState: 'Stable', groupEpoch: 2, assignmentEpoch: 2, assignorName: 'uniform'})
    expect(g.members.map((m) => [m.memberId, m.memberEpoch, m.memberType, m.assignment.topicPartitions[0]?.topicName]).sort()).toEqual(
      [
        [a, 2, 1, TOPIC],
        [b, 2, 1, TOPIC],
      ].sort(),
    )
    expect(g.authorizedOperations).not.toBe(-2147483648)

    // Offsets with member epochs (OffsetCommit/OffsetFetch v9).
    const commit = (epoch: number, memberId = b) =>
      client.request(ApiKey.OffsetCommit, 9, {groupId: 'kip848-g', generationIdOrMemberEpoch: epoch, memberId, topics: [{name: TOPIC, partitions: [{partitionIndex: moved[0]!, committedOffset: 42n, committedLeaderEpoch: 0, committedMetadata: 'm'}]}]})
    expect((await commit(2)).topics[0]!.partitions[0]!.errorCode).toBe(E.NONE)
    expect((await commit(1)).topics[0]!.partitions[0]!.errorCode).toBe(E.STALE_MEMBER_EPOCH)
    expect((await commit(2, randomUuid())).topics[0]!.partitions[0]!.errorCode).toBe(E.UNKNOWN_MEMBER_ID)
    const fetched = await client.request(ApiKey.OffsetFetch, 9, {groups: [{groupId: 'kip848-g', memberId: b, memberEpoch: 2, topics: [{name: TOPIC, partitionIndexes: [moved[0]!]}]}], requireStable: true})
    expect(fetched.groups[0]!.topics[0]!.partitions[0]).toMatchObject({committedOffset: 42n, metadata: 'm', errorCode: E.NONE})
    const stale = await client.request(ApiKey.OffsetFetch, 9, {groups: [{groupId: 'kip848-g', memberId: b, memberEpoch: 1, topics: null}]})
    expect(stale.groups[0]!.errorCode).toBe(E.STALE_MEMBER_EPOCH)

    // The group in ListGroups (type consumer) and DescribeGroups (not a classic group).
    const listed = await client.request(ApiKey.ListGroups, 5, {statesFilter: [], typesFilter: ['consumer']})
    expect(listed.groups).toContainEqual({groupId: 'kip848-g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer'})
    const classic = await client.request(ApiKey.DescribeGroups, 6, {groups: ['kip848-g']})
    expect(classic.groups[0]).toMatchObject({errorCode: E.GROUP_ID_NOT_FOUND, errorMessage: 'Group kip848-g is not a classic group.'})

    // Epoch errors.
    expect((await heartbeat('kip848-g', {memberId: a, memberEpoch: 7})).errorCode).toBe(E.FENCED_MEMBER_EPOCH)
    expect((await heartbeat('kip848-g', {memberId: randomUuid(), memberEpoch: 2})).errorCode).toBe(E.UNKNOWN_MEMBER_ID)
    expect((await client.request(ApiKey.DeleteGroups, 2, {groupsNames: ['kip848-g']})).results[0]!.errorCode).toBe(E.NON_EMPTY_GROUP)

    // A leaves; B takes everything at the next epoch.
    const left = await heartbeat('kip848-g', {memberId: a, memberEpoch: -1})
    expect(left).toMatchObject({errorCode: E.NONE, memberId: a, memberEpoch: -1})
    const hb3 = await heartbeat('kip848-g', {memberId: b, memberEpoch: 2, topicPartitions: owned(moved)})
    expect(hb3.memberEpoch).toBe(3)
    expect(partitionsOf(hb3.assignment)).toEqual([0, 1, 2, 3, 4, 5])
    await heartbeat('kip848-g', {memberId: b, memberEpoch: -1})
    const deleted = await client.request(ApiKey.DeleteGroups, 2, {groupsNames: ['kip848-g']})
    expect(deleted.results[0]!.errorCode).toBe(E.NONE)
  })

  it('assigns contiguous ranges with the range assignor', async () => {
    const a = '00000000-member-a'
    const b = '00000000-member-b'
    await join('kip848-range', a, 'range')
    await join('kip848-range', b, 'range')
    await heartbeat('kip848-range', {memberId: a, memberEpoch: 1, topicPartitions: owned([0, 1, 2, 3, 4, 5])})
    const ha = await heartbeat('kip848-range', {memberId: a, memberEpoch: 1, topicPartitions: owned([0, 1, 2])})
    const hb = await heartbeat('kip848-range', {memberId: b, memberEpoch: 2, topicPartitions: owned([])})
    expect(ha.memberEpoch).toBe(2)
    expect(partitionsOf(ha.assignment)).toEqual([0, 1, 2])
    expect(partitionsOf(hb.assignment)).toEqual([3, 4, 5])
  })

  it('gives a static member that leaves temporarily (epoch -2) its partitions back at the same epoch', async () => {
    const a = randomUuid()
    const b = randomUuid()
    await join('kip848-static', a, 'uniform', 'ia')
    await join('kip848-static', b, 'uniform', 'ib')
    const ha = await heartbeat('kip848-static', {memberId: a, memberEpoch: 1, instanceId: 'ia', topicPartitions: owned([0, 1, 2, 3, 4, 5])})
    const kept = partitionsOf(ha.assignment)!
    await heartbeat('kip848-static', {memberId: a, memberEpoch: 1, instanceId: 'ia', topicPartitions: owned(kept)})
    await heartbeat('kip848-static', {memberId: b, memberEpoch: 2, instanceId: 'ib', topicPartitions: owned([])})
    const left = await heartbeat('kip848-static', {memberId: a, memberEpoch: -2, instanceId: 'ia'})
    expect(left.memberEpoch).toBe(-2)
    // Another member cannot take the instance id while a is away... but a new a with it can.
    expect((await join('kip848-static', randomUuid(), 'uniform', 'ib')).errorCode).toBe(E.UNRELEASED_INSTANCE_ID)
    const a2 = randomUuid()
    const back = await join('kip848-static', a2, 'uniform', 'ia')
    expect(back).toMatchObject({errorCode: E.NONE, memberId: a2, memberEpoch: 2})
    expect(partitionsOf(back.assignment)).toEqual(kept)
    const described = await client.request(ApiKey.ConsumerGroupDescribe, 1, {groupIds: ['kip848-static']})
    expect(described.groups[0]).toMatchObject({groupEpoch: 2, groupState: 'Stable'})
  })

  it('fences a member whose session times out (group.consumer.session.timeout.ms)', async () => {
    const a = randomUuid()
    await join('kip848-session', a)
    await sleep(2500)
    expect((await heartbeat('kip848-session', {memberId: a, memberEpoch: 1})).errorCode).toBe(E.UNKNOWN_MEMBER_ID)
  })

  it("answers Kafka's validation errors", async () => {
    const r1 = await heartbeat('kip848-bad', {memberId: randomUuid(), memberEpoch: 0, rebalanceTimeoutMs: 1000, topicPartitions: []})
    expect(r1).toMatchObject({errorCode: E.INVALID_REQUEST, errorMessage: 'SubscribedTopicNames or SubscribedTopicRegex must be set in first request.'})
    const r2 = await join('kip848-bad', randomUuid(), 'sticky')
    expect(r2.errorCode).toBe(E.UNSUPPORTED_ASSIGNOR)
    const r3 = await heartbeat('kip848-bad', {memberId: '', memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicNames: [TOPIC], topicPartitions: []})
    expect(r3).toMatchObject({errorCode: E.INVALID_REQUEST, errorMessage: "MemberId can't be empty."})
    const r4 = await heartbeat('kip848-missing', {memberId: randomUuid(), memberEpoch: 3})
    expect(r4.errorCode).toBe(E.GROUP_ID_NOT_FOUND)
  })
})
