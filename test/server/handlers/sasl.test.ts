import {pbkdf2Sync, randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {encodeRequest} from '../../../src/lib/protocol/index.js'
import {plainMessage} from '../../../src/lib/sasl/plain.js'
import {ScramClient} from '../../../src/lib/sasl/scram.js'
import {PLAIN_LOGIN_MODULE} from '../../../src/lib/sasl/jaas.js'
import type {TestBroker} from '../../e2e/harness.js'
import {ConnectionClosedError, RawClient} from '../../e2e/peers.js'
import {startAdminBroker} from './helpers.js'

const EMPTY = Buffer.alloc(0)

describe('SaslHandshake and SaslAuthenticate', () => {
  let broker: TestBroker
  let saslPort: number
  const clients: RawClient[] = []
  const connect = async (port = saslPort) => {
    const c = await RawClient.connect(port)
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    broker = await startAdminBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required user_alice="alice-pw";`,
    })
    saslPort = broker.broker.status!.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port
    // A SCRAM user, created over the PLAINTEXT listener.
    const admin = await connect(broker.port)
    const salt = randomBytes(16)
    const res = await admin.request(ApiKey.AlterUserScramCredentials, 0, {deletions: [], upsertions: [{name: 'bob', mechanism: 1, iterations: 4096, salt, saltedPassword: pbkdf2Sync('bob-pw', salt, 4096, 32, 'sha256')}]})
    expect(res.results[0]!.errorCode).toBe(ErrorCode.NONE)
  })

  afterAll(async () => {
    for (const c of clients) c.close()
    await broker?.stop()
  })

  it('reports each listener with its security protocol', () => {
    expect(broker.broker.status!.listeners.map((l) => [l.name, l.securityProtocol])).toEqual([
      ['PLAINTEXT', 'PLAINTEXT'],
      ['SASL_PLAINTEXT', 'SASL_PLAINTEXT'],
    ])
  })

  it('advertises the SASL and SCRAM APIs before authentication, as Kafka 4.0 does', async () => {
    const c = await connect()
    const res = await c.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'kcli-test', clientSoftwareVersion: '1'})
    const range = (key: number) => res.apiKeys.find((k) => k.apiKey === key)
    expect(range(ApiKey.SaslHandshake)).toMatchObject({minVersion: 0, maxVersion: 1})
    expect(range(ApiKey.SaslAuthenticate)).toMatchObject({minVersion: 0, maxVersion: 2})
    expect(range(ApiKey.DescribeUserScramCredentials)).toMatchObject({minVersion: 0, maxVersion: 0})
    expect(range(ApiKey.AlterUserScramCredentials)).toMatchObject({minVersion: 0, maxVersion: 0})
    expect(range(ApiKey.Metadata)).toBeDefined()
  })

  it('authenticates with PLAIN and then serves everything', async () => {
    const c = await connect()
    await c.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'kcli-test', clientSoftwareVersion: '1'})
    expect(await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})).toMatchObject({errorCode: ErrorCode.NONE, mechanisms: ['PLAIN', 'SCRAM-SHA-256']})
    expect(await c.request(ApiKey.SaslAuthenticate, 2, {authBytes: plainMessage('alice', 'alice-pw')})).toMatchObject({errorCode: ErrorCode.NONE, errorMessage: null, sessionLifetimeMs: 0n})
    const md = await c.request(ApiKey.Metadata, 12, {topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
    expect(md.brokers[0]).toMatchObject({host: '127.0.0.1', port: saslPort})
    // After authentication the SASL APIs answer ILLEGAL_SASL_STATE, as Kafka's KafkaApis; the connection stays.
    expect(await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})).toMatchObject({errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: []})
    expect(await c.request(ApiKey.SaslAuthenticate, 1, {authBytes: EMPTY})).toMatchObject({errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received after successful authentication'})
    expect((await c.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'kcli-test', clientSoftwareVersion: '1'})).errorCode).toBe(ErrorCode.NONE)
  })

  it('authenticates with SCRAM-SHA-256 in two rounds (the handshake without ApiVersions first)', async () => {
    const c = await connect()
    expect((await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'SCRAM-SHA-256'})).errorCode).toBe(ErrorCode.NONE)
    const scram = new ScramClient('SCRAM-SHA-256', 'bob', 'bob-pw')
    const first = await c.request(ApiKey.SaslAuthenticate, 0, {authBytes: scram.firstMessage()})
    expect(first.errorCode).toBe(ErrorCode.NONE)
    const final = await c.request(ApiKey.SaslAuthenticate, 1, {authBytes: scram.finalMessage(first.authBytes)})
    expect(final).toMatchObject({errorCode: ErrorCode.NONE, sessionLifetimeMs: 0n})
    scram.verifyServerFinal(final.authBytes)
    expect((await c.request(ApiKey.Metadata, 12, {topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})).brokers).toHaveLength(1)
  })

  it('answers a failed authentication with SASL_AUTHENTICATION_FAILED, then closes', async () => {
    const c = await connect()
    await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})
    const res = await c.request(ApiKey.SaslAuthenticate, 2, {authBytes: plainMessage('alice', 'wrong')})
    expect(res).toMatchObject({errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: 'Authentication failed: Invalid username or password'})
    expect(await c.closedWithin(5_000)).toBe(true)

    const s = await connect()
    await s.request(ApiKey.SaslHandshake, 1, {mechanism: 'SCRAM-SHA-256'})
    const scram = new ScramClient('SCRAM-SHA-256', 'bob', 'not-bob-pw')
    const first = await s.request(ApiKey.SaslAuthenticate, 2, {authBytes: scram.firstMessage()})
    const final = await s.request(ApiKey.SaslAuthenticate, 2, {authBytes: scram.finalMessage(first.authBytes)})
    expect(final).toMatchObject({errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256'})
    expect(await s.closedWithin(5_000)).toBe(true)
  })

  it('answers a mechanism the listener does not enable with the enabled ones, then closes', async () => {
    const c = await connect()
    expect(await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'SCRAM-SHA-512'})).toMatchObject({errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN', 'SCRAM-SHA-256']})
    expect(await c.closedWithin(5_000)).toBe(true)
  })

  it('closes a connection that sends another request before authenticating, and serves others meanwhile', async () => {
    const early = await connect()
    await expect(early.request(ApiKey.Metadata, 12, {topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})).rejects.toThrow(ConnectionClosedError)
    const midway = await connect()
    await midway.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})
    await expect(midway.request(ApiKey.CreateTopics, 7, {topics: [{name: 'x', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 1000, validateOnly: false})).rejects.toThrow(ConnectionClosedError)
    // Kafka allows one ApiVersions before the handshake.
    const twice = await connect()
    await twice.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'kcli-test', clientSoftwareVersion: '1'})
    await expect(twice.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'kcli-test', clientSoftwareVersion: '1'})).rejects.toThrow(ConnectionClosedError)
    const fine = await connect(broker.port)
    expect((await fine.request(ApiKey.Metadata, 12, {topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})).brokers[0]!.port).toBe(broker.port)
  })

  it('closes a connection whose request before authentication is larger than sasl.server.max.receive.size', async () => {
    const c = await connect()
    await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})
    const chunks = encodeRequest(ApiKey.SaslAuthenticate, 2, 9, 'kcli-test', {authBytes: Buffer.alloc(600 * 1024, 0x61)})
    for (const chunk of chunks) c.sendBytes(chunk)
    expect(await c.closedWithin(5_000)).toBe(true)
  })

  it('answers SaslHandshake and SaslAuthenticate on a PLAINTEXT listener with ILLEGAL_SASL_STATE', async () => {
    const c = await connect(broker.port)
    expect(await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})).toMatchObject({errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: []})
    expect(await c.request(ApiKey.SaslAuthenticate, 2, {authBytes: plainMessage('alice', 'alice-pw')})).toMatchObject({errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received after successful authentication'})
    expect(c.isClosed).toBe(false)
  })
})
