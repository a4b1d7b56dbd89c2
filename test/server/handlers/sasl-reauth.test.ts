/** SASL re-authentication (KIP-368, issue 15): connections.max.reauth.ms at the protocol level. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {PLAIN_LOGIN_MODULE} from '../../../src/lib/sasl/jaas.js'
import {plainMessage} from '../../../src/lib/sasl/plain.js'
import {pollUntil, type TestBroker} from '../../e2e/harness.js'
import {ConnectionClosedError, RawClient} from '../../e2e/peers.js'
import {startAdminBroker} from './helpers.js'

const LIFETIME_MS = 1500

describe('SASL re-authentication (KIP-368)', () => {
  let broker: TestBroker
  let saslPort: number
  const clients: RawClient[] = []

  beforeAll(async () => {
    broker = await startAdminBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required user_alice="alice-pw" user_carol="carol-pw";`,
      'listener.name.sasl_plaintext.connections.max.reauth.ms': String(LIFETIME_MS),
    })
    saslPort = broker.broker.status!.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port
  })

  afterAll(async () => {
    for (const c of clients) c.close()
    await broker?.stop()
  })

  const authenticate = async (c: RawClient, user: string, password: string) => {
    const hs = await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'PLAIN'})
    expect(hs.errorCode).toBe(ErrorCode.NONE)
    return c.request(ApiKey.SaslAuthenticate, 2, {authBytes: plainMessage(user, password)})
  }
  const connected = async () => {
    const c = await RawClient.connect(saslPort)
    clients.push(c)
    return c
  }
  const metadata = (c: RawClient) => c.request(ApiKey.Metadata, 12, {topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})

  it('gives the session lifetime in SaslAuthenticate and closes a connection that outlives it', async () => {
    const c = await connected()
    const auth = await authenticate(c, 'alice', 'alice-pw')
    expect(auth).toMatchObject({errorCode: ErrorCode.NONE, sessionLifetimeMs: BigInt(LIFETIME_MS)})
    expect((await metadata(c)).brokers).toHaveLength(1)
    const expiresAt = Date.now() + LIFETIME_MS
    await pollUntil(async () => Date.now(), (now) => now > expiresAt + 100, LIFETIME_MS + 2000, 'the session to expire')
    await expect(metadata(c)).rejects.toBeInstanceOf(ConnectionClosedError)
  })

  it('re-authenticates on the open connection, renewing the session', async () => {
    const c = await connected()
    await authenticate(c, 'alice', 'alice-pw')
    const halfway = Date.now() + LIFETIME_MS * 0.6
    await pollUntil(async () => Date.now(), (now) => now > halfway, LIFETIME_MS + 2000, 'most of the session')
    const again = await authenticate(c, 'alice', 'alice-pw')
    expect(again).toMatchObject({errorCode: ErrorCode.NONE, sessionLifetimeMs: BigInt(LIFETIME_MS)})
    // Past the first session's end, the renewed one still serves.
    const pastFirst = halfway + LIFETIME_MS * 0.6
    await pollUntil(async () => Date.now(), (now) => now > pastFirst, LIFETIME_MS + 2000, 'the first session to end')
    expect((await metadata(c)).brokers).toHaveLength(1)
  })

  it('refuses a re-authentication as another principal and closes the connection', async () => {
    const c = await connected()
    await authenticate(c, 'alice', 'alice-pw')
    const res = await authenticate(c, 'carol', 'carol-pw')
    expect(res.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED)
    expect(res.errorMessage).toBe('Cannot change principals during re-authentication from User:alice: User:carol')
    await expect(metadata(c)).rejects.toBeInstanceOf(ConnectionClosedError)
  })

  it('refuses a re-authentication with another mechanism', async () => {
    const c = await connected()
    await authenticate(c, 'alice', 'alice-pw')
    const hs = await c.request(ApiKey.SaslHandshake, 1, {mechanism: 'SCRAM-SHA-256'})
    expect(hs.errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM)
    await expect(metadata(c)).rejects.toBeInstanceOf(ConnectionClosedError)
  })
})
