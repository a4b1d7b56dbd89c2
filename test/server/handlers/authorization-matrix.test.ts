/**
 * The authorization matrix (issue 15): for every handler, a principal without the ACL Kafka 4.0's
 * KafkaApis/ControllerApis check gets Kafka's code (at the level Kafka answers it: request, topic,
 * partition, group, transactional id), and a principal with exactly the minimum ACLs gets past
 * authorization — NONE, or the first error behind it when the request cannot succeed in this
 * state (e.g. UNKNOWN_MEMBER_ID for a heartbeat of a member that never joined). Each principal has
 * only the ACLs listed for it in ACLS; `nobody` has none. ARCHITECTURE.md's authorization table
 * lists the same checks.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {AclOperation as Op, AclPermissionType as Perm, PatternType, ResourceType as RT} from '../../../src/lib/acl.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode as E} from '../../../src/lib/protocol/generated/errors.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {PLAIN_LOGIN_MODULE} from '../../../src/lib/sasl/jaas.js'
import {plainMessage} from '../../../src/lib/sasl/plain.js'
import {RawClient} from '../../e2e/peers.js'
import {useBroker} from './helpers.js'

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
const AUTH_CODES = new Set<number>([E.TOPIC_AUTHORIZATION_FAILED, E.GROUP_AUTHORIZATION_FAILED, E.CLUSTER_AUTHORIZATION_FAILED, E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED])
const bit = (...ops: number[]) => ops.reduce((b, op) => b | (1 << op), 0)

interface Acl {
  type: number
  name: string
  op: number
}
const topic = (name: string, op: number): Acl => ({type: RT.TOPIC, name, op})
const group = (name: string, op: number): Acl => ({type: RT.GROUP, name, op})
const txn = (name: string, op: number): Acl => ({type: RT.TRANSACTIONAL_ID, name, op})
const cluster = (op: number): Acl => ({type: RT.CLUSTER, name: 'kafka-cluster', op})

/** Principal (User:<name>) -> its only ACLs. */
const ACLS: Record<string, Acl[]> = {
  nobody: [],
  producer: [topic('orders', Op.WRITE)],
  txnProducer: [topic('orders', Op.WRITE), txn('tx', Op.WRITE)],
  reader: [topic('orders', Op.READ)],
  describer: [topic('orders', Op.DESCRIBE)],
  follower: [cluster(Op.CLUSTER_ACTION)],
  autoDescriber: [topic('auto-a', Op.DESCRIBE), topic('auto-b', Op.DESCRIBE), topic('auto-b', Op.CREATE)],
  groupReader: [group('g', Op.READ)],
  committer: [group('g', Op.READ), topic('orders', Op.READ)],
  groupDescriber: [group('g', Op.DESCRIBE)],
  offsetFetcher: [group('g', Op.DESCRIBE), topic('orders', Op.DESCRIBE)],
  clusterDescriber: [cluster(Op.DESCRIBE)],
  groupDeleter: [group('g-del', Op.DELETE), group('g-od', Op.DELETE)],
  offsetDeleter: [group('g-od', Op.DELETE), topic('orders', Op.READ)],
  cgMember: [group('cg', Op.READ)],
  cgSubscriber: [group('cg', Op.READ), topic('orders', Op.DESCRIBE)],
  cgRegex: [group('cg-re', Op.READ), topic('orders', Op.DESCRIBE)],
  cgDescriber: [group('cg-desc', Op.DESCRIBE)],
  cgTopicDescriber: [group('cg-desc', Op.DESCRIBE), topic('orders', Op.DESCRIBE)],
  idempotent: [cluster(Op.IDEMPOTENT_WRITE)],
  anyTopicWriter: [topic('orders', Op.WRITE)],
  txnWriter: [txn('tx', Op.WRITE)],
  txnAndTopicWriter: [txn('tx', Op.WRITE), topic('orders', Op.WRITE), topic('__consumer_offsets', Op.WRITE)],
  txnGroup: [txn('tx', Op.WRITE), group('g', Op.READ)],
  txnCommitter: [txn('tx', Op.WRITE), group('g', Op.READ), topic('orders', Op.READ)],
  clusterAction: [cluster(Op.CLUSTER_ACTION)],
  clusterAlter: [cluster(Op.ALTER)],
  txnDescriber: [txn('tx-open', Op.DESCRIBE)],
  txnTopicDescriber: [txn('tx-open', Op.DESCRIBE), topic('orders', Op.DESCRIBE)],
  creator: [topic('made-1', Op.CREATE)],
  creatorWithConfigs: [topic('made-2', Op.CREATE), topic('made-2', Op.DESCRIBE_CONFIGS)],
  clusterCreator: [cluster(Op.CREATE)],
  deleteDescriber: [topic('doomed', Op.DESCRIBE), topic('ghost', Op.DESCRIBE)],
  deleter: [topic('doomed', Op.DELETE)],
  clusterDeleter: [cluster(Op.DELETE)],
  recordsDeleter: [topic('orders', Op.DELETE)],
  partitionAlterer: [topic('grow', Op.ALTER)],
  configDescriber: [topic('orders', Op.DESCRIBE_CONFIGS), cluster(Op.DESCRIBE_CONFIGS), group('g', Op.DESCRIBE_CONFIGS)],
  configAlterer: [topic('orders', Op.ALTER_CONFIGS), cluster(Op.ALTER_CONFIGS), group('g', Op.ALTER_CONFIGS)],
}

const USERS = Object.keys(ACLS)
const SECURED = {
  listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
  'sasl.enabled.mechanisms': 'PLAIN',
  'listener.name.sasl_plaintext.plain.sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required ${USERS.map((u) => `user_${u}="${u}-pw"`).join(' ')};`,
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  // The PLAINTEXT listener (User:ANONYMOUS) sets up the state the checks run against.
  'super.users': 'User:ANONYMOUS',
  'auto.create.topics.enable': 'true',
}

describe('authorization matrix: every handler as Kafka 4.0 authorizes it', () => {
  const ctx = useBroker(SECURED)
  const clients = new Map<string, RawClient>()
  const saslPort = () => ctx.broker.broker.status!.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port
  /** A connection authenticated as User:<user> (one per user, reused). */
  const as = async (user: string): Promise<RawClient> => {
    const open = clients.get(user)
    if (open && !open.isClosed) return open
    const c = await RawClient.connect(saslPort())
    clients.set(user, c)
    await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})
    expect((await c.request(ApiKey.SaslAuthenticate, 2, {authBytes: plainMessage(user, `${user}-pw`)})).errorCode).toBe(E.NONE)
    return c
  }
  const admin = () => ctx.client
  let ordersId = ''
  let doomedId = ''

  /** Retries `f` until `done` holds (coordinators load asynchronously), within a deadline. */
  async function until<T>(f: () => Promise<T>, done: (r: T) => boolean, deadlineMs = 10_000): Promise<T> {
    const end = Date.now() + deadlineMs
    for (;;) {
      const r = await f()
      if (done(r) || Date.now() > end) return r
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  beforeAll(async () => {
    ordersId = await ctx.createTopic('orders')
    doomedId = await ctx.createTopic('doomed')
    await ctx.createTopic('grow')
    const creations = Object.entries(ACLS).flatMap(([user, acls]) =>
      acls.map((a) => ({resourceType: a.type, resourceName: a.name, resourcePatternType: PatternType.LITERAL, principal: `User:${user}`, host: '*', operation: a.op, permissionType: Perm.ALLOW})),
    )
    const created = await admin().send(ApiKey.CreateAcls, 3, {creations})
    expect(created.results.every((r) => r.errorCode === E.NONE)).toBe(true)
    // The internal topics (created by the first FindCoordinator) and their coordinators.
    for (const keyType of [0, 1]) {
      const found = await until(
        () => admin().send(ApiKey.FindCoordinator, 4, {keyType, coordinatorKeys: ['g']}),
        (r) => r.coordinators[0]!.errorCode === E.NONE,
      )
      expect(found.coordinators[0]!.errorCode).toBe(E.NONE)
    }
    // Committed offsets for groups g-del (to delete) and g-od (offsets to delete).
    for (const groupId of ['g-del', 'g-od']) {
      const commit = await until(
        () => admin().send(ApiKey.OffsetCommit, 8, {groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{name: 'orders', partitions: [{partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: ''}]}]}),
        (r) => r.topics[0]!.partitions[0]!.errorCode === E.NONE,
      )
      expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(E.NONE)
    }
    // A KIP-848 group with orders assigned (ConsumerGroupDescribe hides it from who may not describe orders).
    const joined = await until(
      () => admin().send(ApiKey.ConsumerGroupHeartbeat, 1, {groupId: 'cg-desc', memberId: 'm-desc', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['orders'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: []}),
      (r) => r.errorCode === E.NONE,
    )
    expect(joined.errorCode).toBe(E.NONE)
    // An open transaction on orders (DescribeTransactions shows its partitions only to who may describe orders).
    const init = await until(
      () => admin().send(ApiKey.InitProducerId, 4, {transactionalId: 'tx-open', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1}),
      (r) => r.errorCode === E.NONE,
    )
    expect(init.errorCode).toBe(E.NONE)
    const added = await admin().send(ApiKey.AddPartitionsToTxn, 3, {v3AndBelowTransactionalId: 'tx-open', v3AndBelowProducerId: init.producerId, v3AndBelowProducerEpoch: init.producerEpoch, v3AndBelowTopics: [{name: 'orders', partitions: [0]}]})
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(E.NONE)
  })

  afterAll(() => {
    for (const c of clients.values()) c.close()
  })

  const batch = (transactional = false) => buildRecordBatch({records: [{value: Buffer.from('v')}], ...(transactional ? {producerId: 1, producerEpoch: 0, baseSequence: 0, isTransactional: true} : {})})
  const produce = async (user: string, transactionalId: string | null, transactional = false) => {
    const res = await (await as(user)).request(ApiKey.Produce, 9, {transactionalId, acks: 1, timeoutMs: 5000, topicData: [{name: 'orders', partitionData: [{index: 0, records: await batch(transactional)}]}]})
    return res.responses[0]!.partitionResponses[0]!.errorCode
  }
  const fetchCode = async (user: string, replicaId: number) => {
    const res = await (await as(user)).request(ApiKey.Fetch, 12, {replicaId, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{topic: 'orders', partitions: [{partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20}]}], forgottenTopicsData: [], rackId: ''})
    return res.responses[0]!.partitions[0]!.errorCode
  }

  it('ApiVersions, SaslHandshake and SaslAuthenticate need no ACL', async () => {
    const c = await as('nobody')
    expect((await c.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'kcli-test', clientSoftwareVersion: '1'})).errorCode).toBe(E.NONE)
  })

  it('Produce: WRITE on the topic per partition; TRANSACTIONAL_ID WRITE for transactional batches only', async () => {
    expect(await produce('nobody', null)).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(await produce('producer', null)).toBe(E.NONE)
    // A transactional id on a non-transactional batch is not checked (RequestUtils.hasTransactionalRecords).
    expect(await produce('producer', 'tx')).toBe(E.NONE)
    expect(await produce('producer', 'tx', true)).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(await produce('producer', null, true)).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(AUTH_CODES.has(await produce('txnProducer', 'tx', true))).toBe(false)
  })

  it('Fetch: READ on the topic for consumers, CLUSTER_ACTION for followers', async () => {
    expect(await fetchCode('nobody', -1)).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(await fetchCode('reader', -1)).toBe(E.NONE)
    expect(await fetchCode('reader', 7)).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(AUTH_CODES.has(await fetchCode('follower', 7))).toBe(false)
    // An unknown topic id is UNKNOWN_TOPIC_ID before any authorization (v13+).
    const byId = await (await as('nobody')).request(ApiKey.Fetch, 13, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20}]}], forgottenTopicsData: [], rackId: ''})
    expect(byId.responses[0]!.partitions[0]!.errorCode).toBe(E.UNKNOWN_TOPIC_ID)
  })

  it('ListOffsets: DESCRIBE on the topic', async () => {
    const list = async (user: string) => (await (await as(user)).request(ApiKey.ListOffsets, 7, {replicaId: -1, isolationLevel: 0, topics: [{name: 'orders', partitions: [{partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n}]}]})).topics[0]!.partitions[0]!.errorCode
    expect(await list('nobody')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(await list('describer')).toBe(E.NONE)
  })

  it('Metadata: DESCRIBE to see a topic, CREATE to auto-create one; authorized operations are the principal\'s', async () => {
    const md = async (user: string, topics: Array<{name: string}> | null, allow = false) =>
      (await as(user)).request(ApiKey.Metadata, 10, {topics: topics?.map((t) => ({...t, topicId: ZERO_UUID})) ?? null, allowAutoTopicCreation: allow, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true})
    const denied = await md('nobody', [{name: 'orders'}])
    expect(denied.topics[0]).toMatchObject({name: 'orders', errorCode: E.TOPIC_AUTHORIZATION_FAILED, topicAuthorizedOperations: -2147483648})
    expect(denied.clusterAuthorizedOperations).toBe(0)
    expect((await md('nobody', null)).topics.map((t) => t.name)).toEqual([])
    const allowed = await md('describer', [{name: 'orders'}])
    expect(allowed.topics[0]).toMatchObject({name: 'orders', errorCode: E.NONE, topicAuthorizedOperations: bit(Op.DESCRIBE)})
    expect((await md('describer', null)).topics.map((t) => t.name)).toEqual(['orders'])
    expect((await md('clusterDescriber', null)).clusterAuthorizedOperations).toBe(bit(Op.DESCRIBE))
    // Auto-creation: DESCRIBE alone is refused, DESCRIBE + CREATE on the topic creates it.
    expect((await md('autoDescriber', [{name: 'auto-a'}], true)).topics[0]!.errorCode).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    const created = await md('autoDescriber', [{name: 'auto-b'}], true)
    expect(AUTH_CODES.has(created.topics[0]!.errorCode)).toBe(false)
    expect((await admin().send(ApiKey.Metadata, 12, {topics: [{name: 'auto-b', topicId: ZERO_UUID}], allowAutoTopicCreation: false})).topics[0]!.errorCode).toBe(E.NONE)
  })

  it('DescribeTopicPartitions: DESCRIBE on the topic, refused ones last', async () => {
    const dtp = async (user: string) => (await as(user)).request(ApiKey.DescribeTopicPartitions, 0, {topics: [{name: 'orders'}, {name: 'doomed'}], responsePartitionLimit: 2000, cursor: null})
    expect((await dtp('nobody')).topics.map((t) => [t.name, t.errorCode])).toEqual([['doomed', E.TOPIC_AUTHORIZATION_FAILED], ['orders', E.TOPIC_AUTHORIZATION_FAILED]])
    const res = await dtp('describer')
    expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([['orders', E.NONE], ['doomed', E.TOPIC_AUTHORIZATION_FAILED]])
    expect(res.topics[0]!.topicAuthorizedOperations).toBe(bit(Op.DESCRIBE))
  })

  it('OffsetCommit: READ on the group, then READ on each topic', async () => {
    const commit = async (user: string) =>
      (await (await as(user)).request(ApiKey.OffsetCommit, 8, {groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{name: 'orders', partitions: [{partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: ''}]}]})).topics[0]!.partitions[0]!.errorCode
    expect(await commit('nobody')).toBe(E.GROUP_AUTHORIZATION_FAILED)
    expect(await commit('groupReader')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(await commit('committer')).toBe(E.NONE)
  })

  it('OffsetFetch: DESCRIBE on the group, then DESCRIBE on each topic', async () => {
    const fetchOffsets = async (user: string) => (await (await as(user)).request(ApiKey.OffsetFetch, 8, {groups: [{groupId: 'g', topics: [{name: 'orders', partitionIndexes: [0]}]}], requireStable: false})).groups[0]!
    expect((await fetchOffsets('nobody')).errorCode).toBe(E.GROUP_AUTHORIZATION_FAILED)
    const topicRefused = await fetchOffsets('groupDescriber')
    expect([topicRefused.errorCode, topicRefused.topics[0]!.partitions[0]!.errorCode, topicRefused.topics[0]!.partitions[0]!.committedOffset]).toEqual([E.NONE, E.TOPIC_AUTHORIZATION_FAILED, -1n])
    const ok = await fetchOffsets('offsetFetcher')
    expect(ok.topics[0]!.partitions[0]).toMatchObject({errorCode: E.NONE, committedOffset: 1n})
  })

  it('FindCoordinator: DESCRIBE on the group or the transactional id', async () => {
    const find = async (user: string, keyType: number, key: string) => (await (await as(user)).request(ApiKey.FindCoordinator, 4, {keyType, coordinatorKeys: [key]})).coordinators[0]!.errorCode
    expect(await find('nobody', 0, 'g')).toBe(E.GROUP_AUTHORIZATION_FAILED)
    expect(await find('groupDescriber', 0, 'g')).toBe(E.NONE)
    expect(await find('nobody', 1, 'tx-open')).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(await find('txnDescriber', 1, 'tx-open')).toBe(E.NONE)
  })

  it('JoinGroup, SyncGroup, Heartbeat, LeaveGroup: READ on the group', async () => {
    const codes = async (user: string) => {
      const c = await as(user)
      const join = await c.request(ApiKey.JoinGroup, 5, {groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{name: 'range', metadata: Buffer.alloc(0)}]})
      const sync = await c.request(ApiKey.SyncGroup, 5, {groupId: 'g', generationId: 1, memberId: 'nope', groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: []})
      const hb = await c.request(ApiKey.Heartbeat, 4, {groupId: 'g', generationId: 1, memberId: 'nope', groupInstanceId: null})
      const leave = await c.request(ApiKey.LeaveGroup, 3, {groupId: 'g', members: [{memberId: 'nope', groupInstanceId: null}]})
      return [join.errorCode, sync.errorCode, hb.errorCode, leave.errorCode]
    }
    expect(await codes('nobody')).toEqual([E.GROUP_AUTHORIZATION_FAILED, E.GROUP_AUTHORIZATION_FAILED, E.GROUP_AUTHORIZATION_FAILED, E.GROUP_AUTHORIZATION_FAILED])
    for (const code of await codes('groupReader')) expect(AUTH_CODES.has(code)).toBe(false)
    // SyncGroup v5 without ProtocolType/ProtocolName is refused before authorization.
    const bare = await (await as('nobody')).request(ApiKey.SyncGroup, 5, {groupId: 'g', generationId: 1, memberId: 'nope', groupInstanceId: null, protocolType: null, protocolName: null, assignments: []})
    expect(bare.errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL)
  })

  it('DescribeGroups: DESCRIBE on each group; authorized operations are the principal\'s', async () => {
    const describe = async (user: string) => (await (await as(user)).request(ApiKey.DescribeGroups, 5, {groups: ['g'], includeAuthorizedOperations: true})).groups[0]!
    expect((await describe('nobody')).errorCode).toBe(E.GROUP_AUTHORIZATION_FAILED)
    expect(await describe('groupDescriber')).toMatchObject({errorCode: E.NONE, authorizedOperations: bit(Op.DESCRIBE)})
    expect((await describe('groupReader')).authorizedOperations).toBe(bit(Op.READ, Op.DESCRIBE))
  })

  it('ListGroups: every group with DESCRIBE on the cluster, else those the principal may describe', async () => {
    const list = async (user: string) => (await (await as(user)).request(ApiKey.ListGroups, 4, {statesFilter: []})).groups.map((g) => g.groupId).sort()
    expect(await list('nobody')).toEqual([])
    expect(await list('groupDescriber')).toEqual(['g'])
    expect(await list('clusterDescriber')).toEqual(expect.arrayContaining(['g', 'g-del', 'g-od', 'cg-desc']))
  })

  it('OffsetDelete: DELETE on the group, then READ on each topic', async () => {
    const del = async (user: string) => (await as(user)).request(ApiKey.OffsetDelete, 0, {groupId: 'g-od', topics: [{name: 'orders', partitions: [{partitionIndex: 0}]}]})
    expect((await del('nobody')).errorCode).toBe(E.GROUP_AUTHORIZATION_FAILED)
    const topicRefused = await del('groupDeleter')
    expect([topicRefused.errorCode, topicRefused.topics[0]!.partitions[0]!.errorCode]).toEqual([E.NONE, E.TOPIC_AUTHORIZATION_FAILED])
    const ok = await del('offsetDeleter')
    expect([ok.errorCode, ok.topics[0]!.partitions[0]!.errorCode]).toEqual([E.NONE, E.NONE])
  })

  it('DeleteGroups: DELETE on each group, refused ones last', async () => {
    expect((await (await as('nobody')).request(ApiKey.DeleteGroups, 2, {groupsNames: ['g-del']})).results).toEqual([expect.objectContaining({groupId: 'g-del', errorCode: E.GROUP_AUTHORIZATION_FAILED})])
    const res = await (await as('groupDeleter')).request(ApiKey.DeleteGroups, 2, {groupsNames: ['g', 'g-del']})
    expect(res.results.map((r) => [r.groupId, r.errorCode])).toEqual([['g-del', E.NONE], ['g', E.GROUP_AUTHORIZATION_FAILED]])
  })

  it('ConsumerGroupHeartbeat: READ on the group, then DESCRIBE on each subscribed topic', async () => {
    const hb = async (user: string, memberId: string) =>
      (await (await as(user)).request(ApiKey.ConsumerGroupHeartbeat, 1, {groupId: 'cg', memberId, memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['orders'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: []})).errorCode
    expect(await hb('nobody', 'm1')).toBe(E.GROUP_AUTHORIZATION_FAILED)
    expect(await hb('cgMember', 'm2')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(await hb('cgSubscriber', 'm3')).toBe(E.NONE)
  })

  it('ConsumerGroupHeartbeat: a regex subscription resolves only to topics the member may DESCRIBE', async () => {
    const res = await (await as('cgRegex')).request(ApiKey.ConsumerGroupHeartbeat, 1, {groupId: 'cg-re', memberId: 'm-re', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000, subscribedTopicNames: null, subscribedTopicRegex: 'orders|grow', serverAssignor: null, topicPartitions: []})
    expect(res.errorCode).toBe(E.NONE)
    expect(res.assignment!.topicPartitions.map((t) => t.topicId)).toEqual([ordersId])
  })

  it('ConsumerGroupDescribe: DESCRIBE on the group; a group assigning topics the principal may not describe is hidden', async () => {
    const describe = async (user: string) => (await (await as(user)).request(ApiKey.ConsumerGroupDescribe, 1, {groupIds: ['cg-desc'], includeAuthorizedOperations: true})).groups[0]!
    expect((await describe('nobody')).errorCode).toBe(E.GROUP_AUTHORIZATION_FAILED)
    expect(await describe('cgDescriber')).toMatchObject({errorCode: E.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'The group has described topic(s) that the client is not authorized to describe.', members: []})
    const ok = await describe('cgTopicDescriber')
    expect(ok).toMatchObject({errorCode: E.NONE, authorizedOperations: bit(Op.DESCRIBE)})
    expect(ok.members[0]!.assignment.topicPartitions[0]).toMatchObject({topicId: ordersId, topicName: 'orders'})
  })

  it('InitProducerId: TRANSACTIONAL_ID WRITE, or IDEMPOTENT_WRITE on the cluster / WRITE on any topic', async () => {
    const init = async (user: string, transactionalId: string | null) => (await (await as(user)).request(ApiKey.InitProducerId, 4, {transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1})).errorCode
    expect(await init('nobody', null)).toBe(E.CLUSTER_AUTHORIZATION_FAILED)
    expect(await init('idempotent', null)).toBe(E.NONE)
    expect(await init('anyTopicWriter', null)).toBe(E.NONE)
    expect(await init('nobody', 'tx')).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(AUTH_CODES.has(await init('txnWriter', 'tx'))).toBe(false)
  })

  it('AddPartitionsToTxn: v3 TRANSACTIONAL_ID WRITE then topic WRITE (internal topics never); v4+ CLUSTER_ACTION', async () => {
    const add = async (user: string, topicName = 'orders') =>
      (await (await as(user)).request(ApiKey.AddPartitionsToTxn, 3, {v3AndBelowTransactionalId: 'tx', v3AndBelowProducerId: 999n, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [{name: topicName, partitions: [0]}]})).resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode
    expect(await add('nobody')).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(await add('txnWriter')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(AUTH_CODES.has(await add('txnAndTopicWriter'))).toBe(false)
    expect(await add('txnAndTopicWriter', '__consumer_offsets')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    const v4 = async (user: string) => (await as(user)).request(ApiKey.AddPartitionsToTxn, 4, {transactions: [{transactionalId: 'tx', producerId: 999n, producerEpoch: 0, verifyOnly: true, topics: [{name: 'orders', partitions: [0]}]}]})
    expect(await v4('txnAndTopicWriter')).toMatchObject({errorCode: E.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: []})
    const broker = await v4('clusterAction')
    expect(broker.errorCode).toBe(E.NONE)
    expect(AUTH_CODES.has(broker.resultsByTransaction[0]!.topicResults[0]!.resultsByPartition[0]!.partitionErrorCode)).toBe(false)
  })

  it('AddOffsetsToTxn: TRANSACTIONAL_ID WRITE, then READ on the group', async () => {
    const add = async (user: string) => (await (await as(user)).request(ApiKey.AddOffsetsToTxn, 3, {transactionalId: 'tx', producerId: 999n, producerEpoch: 0, groupId: 'g'})).errorCode
    expect(await add('nobody')).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(await add('txnWriter')).toBe(E.GROUP_AUTHORIZATION_FAILED)
    expect(AUTH_CODES.has(await add('txnGroup'))).toBe(false)
  })

  it('EndTxn: TRANSACTIONAL_ID WRITE', async () => {
    const end = async (user: string) => (await (await as(user)).request(ApiKey.EndTxn, 3, {transactionalId: 'tx', producerId: 999n, producerEpoch: 0, committed: false})).errorCode
    expect(await end('nobody')).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(AUTH_CODES.has(await end('txnWriter'))).toBe(false)
  })

  it('TxnOffsetCommit: TRANSACTIONAL_ID WRITE, READ on the group, then READ on each topic', async () => {
    const commit = async (user: string) =>
      (await (await as(user)).request(ApiKey.TxnOffsetCommit, 3, {transactionalId: 'tx', groupId: 'g', producerId: 999n, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null, topics: [{name: 'orders', partitions: [{partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: ''}]}]})).topics[0]!.partitions[0]!.errorCode
    expect(await commit('nobody')).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(await commit('txnWriter')).toBe(E.GROUP_AUTHORIZATION_FAILED)
    expect(await commit('txnGroup')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(AUTH_CODES.has(await commit('txnCommitter'))).toBe(false)
  })

  it('WriteTxnMarkers: ALTER or CLUSTER_ACTION on the cluster', async () => {
    const write = async (user: string) =>
      (await (await as(user)).request(ApiKey.WriteTxnMarkers, 1, {markers: [{producerId: 999n, producerEpoch: 0, transactionResult: false, topics: [{name: 'orders', partitionIndexes: [0]}], coordinatorEpoch: 0}]})).markers[0]!.topics[0]!.partitions[0]!.errorCode
    expect(await write('nobody')).toBe(E.CLUSTER_AUTHORIZATION_FAILED)
    expect(AUTH_CODES.has(await write('clusterAction'))).toBe(false)
    expect(AUTH_CODES.has(await write('clusterAlter'))).toBe(false)
  })

  it('DescribeTransactions: DESCRIBE on the transactional id; partitions only of topics the principal may describe', async () => {
    const describe = async (user: string) => (await (await as(user)).request(ApiKey.DescribeTransactions, 0, {transactionalIds: ['tx-open']})).transactionStates[0]!
    expect((await describe('nobody')).errorCode).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    expect(await describe('txnDescriber')).toMatchObject({errorCode: E.NONE, transactionState: 'Ongoing', topics: []})
    expect((await describe('txnTopicDescriber')).topics).toEqual([{topic: 'orders', partitions: [0]}])
  })

  it('ListTransactions: only the transactional ids the principal may describe', async () => {
    const list = async (user: string) => (await (await as(user)).request(ApiKey.ListTransactions, 1, {stateFilters: [], producerIdFilters: [], durationFilter: -1n})).transactionStates.map((t) => t.transactionalId)
    expect(await list('nobody')).toEqual([])
    expect(await list('txnDescriber')).toEqual(['tx-open'])
  })

  it('DescribeProducers: READ on the topic', async () => {
    const describe = async (user: string) => (await (await as(user)).request(ApiKey.DescribeProducers, 0, {topics: [{name: 'orders', partitionIndexes: [0]}]})).topics[0]!.partitions[0]!
    expect(await describe('nobody')).toMatchObject({errorCode: E.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.'})
    expect((await describe('reader')).errorCode).toBe(E.NONE)
  })

  it('OffsetForLeaderEpoch: CLUSTER_ACTION on the cluster or DESCRIBE on the topic', async () => {
    const epoch = async (user: string) => (await (await as(user)).request(ApiKey.OffsetForLeaderEpoch, 4, {replicaId: -1, topics: [{topic: 'orders', partitions: [{partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0}]}]})).topics[0]!.partitions[0]!.errorCode
    expect(await epoch('nobody')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(await epoch('describer')).toBe(E.NONE)
    expect(await epoch('clusterAction')).toBe(E.NONE)
  })

  it('CreateTopics: CREATE on the cluster or the topic; configs only with DESCRIBE_CONFIGS', async () => {
    const create = async (user: string, name: string) => (await (await as(user)).request(ApiKey.CreateTopics, 7, {topics: [{name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 5000, validateOnly: false})).topics[0]!
    expect(await create('nobody', 'made-1')).toMatchObject({errorCode: E.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.'})
    expect(await create('creator', 'made-1')).toMatchObject({errorCode: E.NONE, topicConfigErrorCode: E.TOPIC_AUTHORIZATION_FAILED, numPartitions: -1, replicationFactor: -1, configs: []})
    const withConfigs = await create('creatorWithConfigs', 'made-2')
    expect(withConfigs).toMatchObject({errorCode: E.NONE, topicConfigErrorCode: E.NONE, numPartitions: 1, replicationFactor: 1})
    expect(withConfigs.configs!.length).toBeGreaterThan(0)
    expect((await create('clusterCreator', 'made-3')).errorCode).toBe(E.NONE)
  })

  it('DeleteTopics: DELETE on the cluster or the topic; DESCRIBE decides what a refusal reveals', async () => {
    const del = async (user: string, topics: Array<{name: string | null; topicId: string}>) => (await (await as(user)).request(ApiKey.DeleteTopics, 6, {topics, timeoutMs: 5000})).responses
    expect(await del('nobody', [{name: 'ghost', topicId: ZERO_UUID}])).toEqual([expect.objectContaining({name: 'ghost', errorCode: E.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.'})])
    expect((await del('deleteDescriber', [{name: 'ghost', topicId: ZERO_UUID}]))[0]!.errorCode).toBe(E.UNKNOWN_TOPIC_OR_PARTITION)
    expect((await del('deleteDescriber', [{name: 'doomed', topicId: ZERO_UUID}]))[0]!.errorCode).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    // By id: the name only to who may describe the topic.
    expect((await del('nobody', [{name: null, topicId: doomedId}]))[0]).toMatchObject({name: null, topicId: doomedId, errorCode: E.TOPIC_AUTHORIZATION_FAILED})
    expect((await del('deleteDescriber', [{name: null, topicId: doomedId}]))[0]).toMatchObject({name: 'doomed', topicId: doomedId, errorCode: E.TOPIC_AUTHORIZATION_FAILED})
    expect((await del('deleter', [{name: 'doomed', topicId: ZERO_UUID}]))[0]).toMatchObject({name: 'doomed', errorCode: E.NONE})
    expect((await del('clusterDeleter', [{name: 'made-3', topicId: ZERO_UUID}]))[0]).toMatchObject({name: 'made-3', errorCode: E.NONE})
  })

  it('DeleteRecords: DELETE on the topic', async () => {
    const del = async (user: string) => (await (await as(user)).request(ApiKey.DeleteRecords, 2, {topics: [{name: 'orders', partitions: [{partitionIndex: 0, offset: 0n}]}], timeoutMs: 5000})).topics[0]!.partitions[0]!.errorCode
    expect(await del('nobody')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(await del('recordsDeleter')).toBe(E.NONE)
  })

  it('CreatePartitions: ALTER on the topic', async () => {
    const grow = async (user: string) => (await (await as(user)).request(ApiKey.CreatePartitions, 3, {topics: [{name: 'grow', count: 2, assignments: null}], timeoutMs: 5000, validateOnly: true})).results[0]!.errorCode
    expect(await grow('nobody')).toBe(E.TOPIC_AUTHORIZATION_FAILED)
    expect(await grow('partitionAlterer')).toBe(E.NONE)
  })

  it('DescribeConfigs: DESCRIBE_CONFIGS on the topic, the group or the cluster, refused ones last with the error\'s message', async () => {
    const resources = [
      {resourceType: 2, resourceName: 'orders', configurationKeys: ['cleanup.policy']},
      {resourceType: 4, resourceName: '', configurationKeys: ['log.retention.ms']},
      {resourceType: 32, resourceName: 'g', configurationKeys: null},
    ]
    const describe = async (user: string) => (await (await as(user)).request(ApiKey.DescribeConfigs, 4, {resources, includeSynonyms: false, includeDocumentation: false})).results
    expect((await describe('nobody')).map((r) => [r.resourceName, r.errorCode, r.errorMessage])).toEqual([
      ['orders', E.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
      ['', E.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.'],
      ['g', E.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.'],
    ])
    // Authorized, a GROUP resource reaches the handler (kcli has no group configs: INVALID_REQUEST).
    expect((await describe('configDescriber')).map((r) => [r.resourceName, r.errorCode])).toEqual([
      ['orders', E.NONE],
      ['', E.NONE],
      ['g', E.INVALID_REQUEST],
    ])
  })

  it('AlterConfigs and IncrementalAlterConfigs: ALTER_CONFIGS on the topic, the group or the cluster, in request order', async () => {
    const c = async (user: string) => as(user)
    const legacy = async (user: string) =>
      (await (await c(user)).request(ApiKey.AlterConfigs, 2, {resources: [{resourceType: 2, resourceName: 'orders', configs: [{name: 'retention.ms', value: '100000'}]}, {resourceType: 32, resourceName: 'g', configs: []}, {resourceType: 4, resourceName: '', configs: []}], validateOnly: true})).responses.map((r) => [r.resourceName, r.errorCode])
    expect(await legacy('nobody')).toEqual([['orders', E.TOPIC_AUTHORIZATION_FAILED], ['g', E.GROUP_AUTHORIZATION_FAILED], ['', E.CLUSTER_AUTHORIZATION_FAILED]])
    for (const [, code] of await legacy('configAlterer')) expect(AUTH_CODES.has(code as number)).toBe(false)
    const incremental = async (user: string) =>
      (await (await c(user)).request(ApiKey.IncrementalAlterConfigs, 1, {resources: [{resourceType: 2, resourceName: 'orders', configs: [{name: 'retention.ms', configOperation: 0, value: '100000'}]}, {resourceType: 32, resourceName: 'g', configs: []}, {resourceType: 4, resourceName: '', configs: []}], validateOnly: true})).responses
    const refused = await incremental('nobody')
    expect(refused.map((r) => [r.resourceName, r.errorCode, r.errorMessage])).toEqual([
      ['orders', E.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
      ['g', E.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.'],
      ['', E.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.'],
    ])
    for (const r of await incremental('configAlterer')) expect(AUTH_CODES.has(r.errorCode)).toBe(false)
    // What the broker's preprocessing refuses is refused before authorization, whoever asks.
    const preprocessed = await (await c('nobody')).request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [
        {resourceType: 2, resourceName: 'orders', configs: [{name: 'retention.ms', configOperation: 0, value: '1'}, {name: 'retention.ms', configOperation: 0, value: '2'}]},
        {resourceType: 8, resourceName: '1', configs: [{name: 'root', configOperation: 0, value: 'INFO'}, {name: 'root', configOperation: 0, value: 'DEBUG'}]},
        {resourceType: 4, resourceName: '', configs: [{name: 'log.retention.ms', configOperation: 0, value: null}]},
      ],
      validateOnly: true,
    })
    expect(preprocessed.responses.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [E.INVALID_REQUEST, 'Error due to duplicate config keys'],
      [E.INVALID_REQUEST, 'Error due to duplicate config keys'],
      [E.INVALID_REQUEST, 'Null value not supported for : log.retention.ms'],
    ])
    const legacyLogger = await (await c('nobody')).request(ApiKey.AlterConfigs, 2, {resources: [{resourceType: 8, resourceName: '1', configs: []}], validateOnly: true})
    expect(AUTH_CODES.has(legacyLogger.responses[0]!.errorCode)).toBe(false)
  })

  it('DescribeCluster: no ACL needed; cluster authorized operations 0 without DESCRIBE', async () => {
    const describe = async (user: string) => (await as(user)).request(ApiKey.DescribeCluster, 1, {includeClusterAuthorizedOperations: true, endpointType: 1})
    expect(await describe('nobody')).toMatchObject({errorCode: E.NONE, clusterAuthorizedOperations: 0})
    expect(await describe('clusterDescriber')).toMatchObject({errorCode: E.NONE, clusterAuthorizedOperations: bit(Op.DESCRIBE)})
  })

  it('ElectLeaders, AlterPartitionReassignments: ALTER on the cluster; ListPartitionReassignments: DESCRIBE', async () => {
    const elect = async (user: string) => (await as(user)).request(ApiKey.ElectLeaders, 2, {electionType: 0, topicPartitions: [{topic: 'orders', partitions: [0]}], timeoutMs: 5000})
    const refusedElect = await elect('nobody')
    expect([refusedElect.errorCode, refusedElect.replicaElectionResults[0]!.partitionResult[0]!.errorCode]).toEqual([E.CLUSTER_AUTHORIZATION_FAILED, E.CLUSTER_AUTHORIZATION_FAILED])
    expect((await elect('clusterAlter')).errorCode).toBe(E.NONE)
    const alter = async (user: string) => (await as(user)).request(ApiKey.AlterPartitionReassignments, 0, {timeoutMs: 5000, topics: [{name: 'orders', partitions: [{partitionIndex: 0, replicas: null}]}]})
    const refusedAlter = await alter('nobody')
    expect([refusedAlter.errorCode, refusedAlter.responses[0]!.partitions[0]!.errorCode]).toEqual([E.CLUSTER_AUTHORIZATION_FAILED, E.CLUSTER_AUTHORIZATION_FAILED])
    expect((await alter('clusterAlter')).errorCode).toBe(E.NONE)
    const list = async (user: string) => (await (await as(user)).request(ApiKey.ListPartitionReassignments, 0, {timeoutMs: 5000, topics: null})).errorCode
    expect(await list('nobody')).toBe(E.CLUSTER_AUTHORIZATION_FAILED)
    expect(await list('clusterDescriber')).toBe(E.NONE)
  })

  it('DescribeLogDirs, DescribeUserScramCredentials: DESCRIBE on the cluster; AlterUserScramCredentials: ALTER', async () => {
    const logDirs = async (user: string) => (await (await as(user)).request(ApiKey.DescribeLogDirs, 4, {topics: null})).errorCode
    expect(await logDirs('nobody')).toBe(E.CLUSTER_AUTHORIZATION_FAILED)
    expect(await logDirs('clusterDescriber')).toBe(E.NONE)
    const scram = async (user: string) => (await (await as(user)).request(ApiKey.DescribeUserScramCredentials, 0, {users: null})).errorCode
    expect(await scram('nobody')).toBe(E.CLUSTER_AUTHORIZATION_FAILED)
    expect(await scram('clusterDescriber')).toBe(E.NONE)
    const alterScram = async (user: string) => (await (await as(user)).request(ApiKey.AlterUserScramCredentials, 0, {deletions: [{name: 'zed', mechanism: 1}, {name: 'amy', mechanism: 1}], upsertions: []})).results
    expect((await alterScram('nobody')).map((r) => [r.user, r.errorCode])).toEqual([['amy', E.CLUSTER_AUTHORIZATION_FAILED], ['zed', E.CLUSTER_AUTHORIZATION_FAILED]])
    for (const r of await alterScram('clusterAlter')) expect(AUTH_CODES.has(r.errorCode)).toBe(false)
  })

  it('DescribeAcls: DESCRIBE on the cluster; CreateAcls and DeleteAcls: ALTER', async () => {
    const filter = {resourceTypeFilter: RT.TOPIC, resourceNameFilter: 'unrelated', patternTypeFilter: PatternType.LITERAL, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY}
    expect((await (await as('nobody')).request(ApiKey.DescribeAcls, 3, filter)).errorCode).toBe(E.CLUSTER_AUTHORIZATION_FAILED)
    expect((await (await as('clusterDescriber')).request(ApiKey.DescribeAcls, 3, filter)).errorCode).toBe(E.NONE)
    const creation = {resourceType: RT.TOPIC, resourceName: 'unrelated', resourcePatternType: PatternType.LITERAL, principal: 'User:x', host: '*', operation: Op.READ, permissionType: Perm.ALLOW}
    expect((await (await as('nobody')).request(ApiKey.CreateAcls, 3, {creations: [creation]})).results[0]!.errorCode).toBe(E.CLUSTER_AUTHORIZATION_FAILED)
    expect((await (await as('clusterAlter')).request(ApiKey.CreateAcls, 3, {creations: [creation]})).results[0]!.errorCode).toBe(E.NONE)
    expect((await (await as('nobody')).request(ApiKey.DeleteAcls, 3, {filters: [filter]})).filterResults[0]!.errorCode).toBe(E.CLUSTER_AUTHORIZATION_FAILED)
    expect((await (await as('clusterAlter')).request(ApiKey.DeleteAcls, 3, {filters: [filter]})).filterResults[0]!.errorCode).toBe(E.NONE)
  })

  it('DescribeClientQuotas: DESCRIBE_CONFIGS on the cluster; AlterClientQuotas: ALTER_CONFIGS', async () => {
    const describe = async (user: string) => (await as(user)).request(ApiKey.DescribeClientQuotas, 1, {components: [], strict: false})
    expect(await describe('nobody')).toMatchObject({errorCode: E.CLUSTER_AUTHORIZATION_FAILED, entries: null})
    expect((await describe('configDescriber')).errorCode).toBe(E.NONE)
    const alter = async (user: string) => (await (await as(user)).request(ApiKey.AlterClientQuotas, 1, {entries: [{entity: [{entityType: 'user', entityName: 'x'}], ops: [{key: 'producer_byte_rate', value: 1024, remove: false}]}], validateOnly: true})).entries[0]!
    expect(await alter('nobody')).toMatchObject({errorCode: E.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.'})
    expect((await alter('configAlterer')).errorCode).toBe(E.NONE)
  })
})
