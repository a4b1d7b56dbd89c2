import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {AclOperation as Op, AclPermissionType as Perm, PatternType, ResourceType as RT} from '../../../src/lib/acl.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {PLAIN_LOGIN_MODULE} from '../../../src/lib/sasl/jaas.js'
import {plainMessage} from '../../../src/lib/sasl/plain.js'
import {RawClient} from '../../e2e/peers.js'
import {ProtocolClient, useBroker} from './helpers.js'

const SECURED = {
  listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
  'sasl.enabled.mechanisms': 'PLAIN',
  'listener.name.sasl_plaintext.plain.sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required user_alice="alice-pw" user_bob="bob-pw";`,
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'super.users': 'User:ANONYMOUS',
}

const creation = (resourceType: number, resourceName: string, principal: string, operation: number, over: Partial<{resourcePatternType: number; permissionType: number; host: string}> = {}) => ({resourceType, resourceName, resourcePatternType: PatternType.LITERAL, principal, host: '*', operation, permissionType: Perm.ALLOW, ...over})
const ANY_FILTER = {resourceTypeFilter: RT.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY}

describe('ACL APIs without an authorizer', () => {
  const ctx = useBroker()
  it('answer SECURITY_DISABLED, as Kafka', async () => {
    expect(await ctx.client.send(ApiKey.DescribeAcls, 3, ANY_FILTER)).toMatchObject({errorCode: ErrorCode.SECURITY_DISABLED})
    expect((await ctx.client.send(ApiKey.CreateAcls, 3, {creations: [creation(RT.TOPIC, 't', 'User:a', Op.READ)]})).results).toEqual([expect.objectContaining({errorCode: ErrorCode.SECURITY_DISABLED})])
    expect((await ctx.client.send(ApiKey.DeleteAcls, 3, {filters: [ANY_FILTER]})).filterResults).toEqual([expect.objectContaining({errorCode: ErrorCode.SECURITY_DISABLED})])
  })
})

describe('ACL APIs and authorization with StandardAuthorizer semantics', () => {
  const ctx = useBroker(SECURED)
  const clients: RawClient[] = []
  const saslPort = () => ctx.broker.broker.status!.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port
  const login = async (user: string) => {
    const c = await RawClient.connect(saslPort())
    clients.push(c)
    await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})
    expect((await c.request(ApiKey.SaslAuthenticate, 2, {authBytes: plainMessage(user, `${user}-pw`)})).errorCode).toBe(ErrorCode.NONE)
    return c
  }
  const produce = async (c: RawClient, topic: string, transactionalId: string | null = null) => {
    // A transactional id goes with a transactional batch: Kafka checks TRANSACTIONAL_ID WRITE only for those.
    const records = await buildRecordBatch({records: [{value: Buffer.from('v')}], ...(transactionalId === null ? {} : {producerId: 1, producerEpoch: 0, baseSequence: 0, isTransactional: true})})
    const res = await c.request(ApiKey.Produce, 9, {transactionalId, acks: 1, timeoutMs: 5000, topicData: [{name: topic, partitionData: [{index: 0, records}]}]})
    return res.responses[0]!.partitionResponses[0]!.errorCode
  }

  beforeAll(async () => {
    await ctx.createTopic('orders')
    await ctx.createTopic('secret')
  })
  afterAll(() => {
    for (const c of clients) c.close()
  })

  it('creates, describes and filters ACLs; bad bindings get Kafka codes and nothing is stored', async () => {
    const res = await ctx.client.send(ApiKey.CreateAcls, 3, {
      creations: [
        creation(RT.TOPIC, 'orders', 'User:alice', Op.WRITE),
        creation(RT.GROUP, 'g1', 'User:alice', Op.READ),
        creation(RT.TOPIC, 'orders', 'User:alice', Op.READ),
        creation(RT.CLUSTER, 'not-the-cluster', 'User:alice', Op.ALTER),
        creation(RT.TOPIC, '', 'User:alice', Op.READ),
        creation(RT.TOPIC, 'x', 'User:alice', Op.READ, {resourcePatternType: PatternType.MATCH}),
        creation(RT.ANY, 'x', 'User:alice', Op.READ),
      ],
    })
    expect(res.results.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [0, ''],
      [0, ''],
      [0, ''],
      [ErrorCode.INVALID_REQUEST, 'The only valid name for the CLUSTER resource is kafka-cluster'],
      [ErrorCode.INVALID_REQUEST, 'Invalid empty resource name'],
      [ErrorCode.INVALID_REQUEST, 'Invalid patternType MATCH'],
      [ErrorCode.INVALID_REQUEST, 'Invalid resourceType ANY'],
    ])
    const noType = await ctx.client.send(ApiKey.CreateAcls, 3, {creations: [creation(RT.TOPIC, 'y', 'alice', Op.READ)]})
    expect(noType.results[0]).toMatchObject({errorCode: ErrorCode.UNKNOWN_SERVER_ERROR})
    const all = await ctx.client.send(ApiKey.DescribeAcls, 3, ANY_FILTER)
    expect(all.errorCode).toBe(0)
    expect(all.resources.map((r) => [r.resourceType, r.resourceName, r.acls.length]).sort()).toEqual([[RT.TOPIC, 'orders', 2], [RT.GROUP, 'g1', 1]])
    const match = await ctx.client.send(ApiKey.DescribeAcls, 3, {...ANY_FILTER, resourceTypeFilter: RT.TOPIC, resourceNameFilter: 'orders', patternTypeFilter: PatternType.MATCH})
    expect(match.resources).toHaveLength(1)
  })

  it('closes the connection on a request with UNKNOWN elements, as Kafka cannot parse it', async () => {
    const c = await ProtocolClient.connect(ctx.broker.port)
    await expect(c.send(ApiKey.DescribeAcls, 3, {...ANY_FILTER, operation: 0})).rejects.toThrow()
    c.close()
  })

  it('refuses the ACL APIs to a principal without ALTER/DESCRIBE on the cluster', async () => {
    const alice = await login('alice')
    expect((await alice.request(ApiKey.CreateAcls, 3, {creations: [creation(RT.TOPIC, 'secret', 'User:alice', Op.ALL)]})).results[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    expect((await alice.request(ApiKey.DescribeAcls, 3, ANY_FILTER)).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    expect((await alice.request(ApiKey.DeleteAcls, 3, {filters: [ANY_FILTER]})).filterResults[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
  })

  it('lets alice write and read orders only; metadata shows only what she may describe', async () => {
    const alice = await login('alice')
    expect(await produce(alice, 'orders')).toBe(ErrorCode.NONE)
    expect(await produce(alice, 'secret')).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    expect(await produce(alice, 'orders', 'txn-1')).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    const md = await alice.request(ApiKey.Metadata, 12, {topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true})
    expect(md.topics.map((t) => t.name)).toEqual(['orders'])
    expect(md.topics[0]!.topicAuthorizedOperations).toBe((1 << Op.READ) | (1 << Op.WRITE) | (1 << Op.DESCRIBE))
    const named = await alice.request(ApiKey.Metadata, 12, {topics: [{name: 'secret', topicId: 'AAAAAAAAAAAAAAAAAAAAAA'}], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false})
    expect(named.topics[0]).toMatchObject({name: 'secret', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, partitions: []})
    const fetchOf = async (topic: string) => {
      const res = await alice.request(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{topic, partitions: [{partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20}]}], forgottenTopicsData: [], rackId: ''})
      return res.responses[0]!.partitions[0]!.errorCode
    }
    expect(await fetchOf('orders')).toBe(ErrorCode.NONE)
    expect(await fetchOf('secret')).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    const bob = await login('bob')
    expect(await produce(bob, 'orders')).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
  })

  it('refuses cluster and topic administration without the ACLs Kafka asks for', async () => {
    const alice = await login('alice')
    const del = await alice.request(ApiKey.DeleteTopics, 6, {topics: [{name: 'secret', topicId: 'AAAAAAAAAAAAAAAAAAAAAA'}], timeoutMs: 5000})
    expect(del.responses[0]).toMatchObject({name: 'secret', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED})
    const create = await alice.request(ApiKey.CreateTopics, 7, {topics: [{name: 'new-one', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 5000, validateOnly: false})
    expect(create.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    const parts = await alice.request(ApiKey.CreatePartitions, 3, {topics: [{name: 'orders', count: 2, assignments: null}], timeoutMs: 5000, validateOnly: false})
    expect(parts.results[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    const cfg = await alice.request(ApiKey.IncrementalAlterConfigs, 1, {resources: [{resourceType: 2, resourceName: 'orders', configs: [{name: 'retention.ms', configOperation: 0, value: '1000'}]}, {resourceType: 4, resourceName: '', configs: [{name: 'log.retention.ms', configOperation: 0, value: '1000'}]}], validateOnly: false})
    expect(cfg.responses.map((r) => r.errorCode)).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED])
    const scram = await alice.request(ApiKey.AlterUserScramCredentials, 0, {deletions: [{name: 'bob', mechanism: 1}], upsertions: []})
    expect(scram.results).toEqual([expect.objectContaining({user: 'bob', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED})])
    expect((await alice.request(ApiKey.DescribeUserScramCredentials, 0, {users: null})).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    expect((await alice.request(ApiKey.ElectLeaders, 2, {electionType: 0, topicPartitions: null, timeoutMs: 5000})).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    // A Kafka broker describes the cluster to anyone; without DESCRIBE its authorized operations are 0.
    expect(await alice.request(ApiKey.DescribeCluster, 1, {includeClusterAuthorizedOperations: true, endpointType: 1})).toMatchObject({errorCode: ErrorCode.NONE, clusterAuthorizedOperations: 0})
    expect((await alice.request(ApiKey.InitProducerId, 4, {transactionalId: null, transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1})).errorCode).toBe(ErrorCode.NONE)
    const bob = await login('bob')
    expect((await bob.request(ApiKey.InitProducerId, 4, {transactionalId: null, transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1})).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    expect((await bob.request(ApiKey.FindCoordinator, 4, {keyType: 0, coordinatorKeys: ['g1']})).coordinators[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED)
    expect((await bob.request(ApiKey.FindCoordinator, 4, {keyType: 1, coordinatorKeys: ['t1']})).coordinators[0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  })

  it('enforces a new DENY at once, deletes by filter, and keeps ACLs over a restart', async () => {
    await ctx.client.send(ApiKey.CreateAcls, 3, {creations: [creation(RT.TOPIC, 'ord', 'User:*', Op.WRITE, {resourcePatternType: PatternType.PREFIXED, permissionType: Perm.DENY})]})
    const alice = await login('alice')
    expect(await produce(alice, 'orders')).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    const del = await ctx.client.send(ApiKey.DeleteAcls, 3, {filters: [{...ANY_FILTER, permissionType: Perm.DENY}]})
    expect(del.filterResults[0]!.matchingAcls.map((a) => [a.resourceName, a.patternType, a.permissionType])).toEqual([['ord', PatternType.PREFIXED, Perm.DENY]])
    expect(await produce(alice, 'orders')).toBe(ErrorCode.NONE)
    await ctx.restart()
    const after = await ctx.client.send(ApiKey.DescribeAcls, 3, ANY_FILTER)
    expect(after.resources.flatMap((r) => r.acls)).toHaveLength(3)
    const again = await login('alice')
    expect(await produce(again, 'orders')).toBe(ErrorCode.NONE)
    expect(await produce(again, 'secret')).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
  })
})

