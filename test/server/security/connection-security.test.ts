import {createHash, createHmac, pbkdf2Sync} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {plainMessage} from '../../../src/lib/sasl/plain.js'
import {type ScramCredential, ScramClient, scramCredential} from '../../../src/lib/sasl/scram.js'
import {ANONYMOUS, ConnectionSecurity, IllegalSaslStateError, SaslAuthenticationError} from '../../../src/server/security/connection-security.js'
import type {ListenerSecurity} from '../../../src/server/security/listener-security.js'

const SASL: ListenerSecurity = {
  listenerName: 'SASL_PLAINTEXT',
  protocol: 'SASL_PLAINTEXT',
  sasl: {mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], plainUsers: new Map([['alice', 'alice-pw']]), maxReceiveSize: 524288},
}

const credentials = new Map<string, ScramCredential>([['bob/SCRAM-SHA-256', scramCredential('SCRAM-SHA-256', 'bob-pw', 4096)]])
const lookup = (user: string, mechanism: string) => credentials.get(`${user}/${mechanism}`)

function failure(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(SaslAuthenticationError)
    return (error as Error).message
  }
  throw new Error('did not fail')
}

describe('ConnectionSecurity (the SASL state machine of one connection)', () => {
  it('is authenticated from the start, as ANONYMOUS, on a listener without SASL', () => {
    const s = ConnectionSecurity.plaintext()
    expect(s.authenticated).toBe(true)
    expect(s.principal).toBe(ANONYMOUS)
    expect(() => s.checkAllowed(ApiKey.Metadata, 'METADATA')).not.toThrow()
    expect(s.maxFrameSize(100 << 20)).toBe(100 << 20)
  })

  it('allows only the request each state expects, as Kafka SaslServerAuthenticator', () => {
    const s = new ConnectionSecurity(SASL)
    expect(s.maxFrameSize(100 << 20)).toBe(524288)
    expect(() => s.checkAllowed(ApiKey.Metadata, 'METADATA')).toThrow(new IllegalSaslStateError('Unexpected Kafka request of type METADATA during SASL handshake.'))
    expect(() => s.checkAllowed(ApiKey.SaslAuthenticate, 'SASL_AUTHENTICATE')).toThrow(IllegalSaslStateError)
    s.checkAllowed(ApiKey.ApiVersions, 'API_VERSIONS')
    s.apiVersionsAnswered()
    // One ApiVersions, then the handshake.
    expect(() => s.checkAllowed(ApiKey.ApiVersions, 'API_VERSIONS')).toThrow(IllegalSaslStateError)
    s.checkAllowed(ApiKey.SaslHandshake, 'SASL_HANDSHAKE')
    expect(s.handshake('PLAIN')).toBe(true)
    expect(() => s.checkAllowed(ApiKey.Produce, 'PRODUCE')).toThrow(new IllegalSaslStateError('Unexpected Kafka request of type PRODUCE during SASL authentication.'))
    s.checkAllowed(ApiKey.SaslAuthenticate, 'SASL_AUTHENTICATE')
    expect(s.authenticate(plainMessage('alice', 'alice-pw'), lookup)).toEqual(Buffer.alloc(0))
    expect(s.authenticated).toBe(true)
    expect(s.principal).toBe('User:alice')
    expect(s.maxFrameSize(100 << 20)).toBe(100 << 20)
    s.checkAllowed(ApiKey.Metadata, 'METADATA')
  })

  it('refuses a mechanism the listener does not enable', () => {
    const s = new ConnectionSecurity({...SASL, sasl: {...SASL.sasl!, mechanisms: ['SCRAM-SHA-512']}})
    expect(s.handshake('PLAIN')).toBe(false)
    expect(s.saslState).toBe('failed')
    expect(() => s.checkAllowed(ApiKey.SaslAuthenticate, 'SASL_AUTHENTICATE')).toThrow(IllegalSaslStateError)
  })

  it("fails PLAIN with Kafka's messages", () => {
    const attempt = (token: Buffer) => {
      const s = new ConnectionSecurity(SASL)
      s.handshake('PLAIN')
      const message = failure(() => s.authenticate(token, lookup))
      expect(s.saslState).toBe('failed')
      expect(s.principal).toBe(ANONYMOUS)
      return message
    }
    expect(attempt(plainMessage('alice', 'wrong'))).toBe('Authentication failed: Invalid username or password')
    expect(attempt(plainMessage('mallory', 'alice-pw'))).toBe('Authentication failed: Invalid username or password')
    expect(attempt(Buffer.from('bob\0alice\0alice-pw'))).toBe('Authentication failed: Client requested an authorization id that is different from username')
    expect(attempt(Buffer.from('no separators'))).toBe('Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN')
  })

  it('runs SCRAM in two rounds against the stored credential and names the user', () => {
    const s = new ConnectionSecurity(SASL)
    s.checkAllowed(ApiKey.SaslHandshake, 'SASL_HANDSHAKE')
    expect(s.handshake('SCRAM-SHA-256')).toBe(true)
    const client = new ScramClient('SCRAM-SHA-256', 'bob', 'bob-pw')
    const serverFirst = s.authenticate(client.firstMessage(), lookup)
    expect(s.authenticated).toBe(false)
    const serverFinal = s.authenticate(client.finalMessage(serverFirst), lookup)
    client.verifyServerFinal(serverFinal)
    expect(s.authenticated).toBe(true)
    expect(s.principal).toBe('User:bob')
  })

  it("accepts librdkafka 2.0's client-final nonce (its client nonce repeated), as Kafka's endsWith check does", () => {
    const s = new ConnectionSecurity(SASL)
    s.handshake('SCRAM-SHA-256')
    const clientNonce = 'rdkafka-nonce'
    const clientFirstBare = `n=bob,r=${clientNonce}`
    const serverFirst = s.authenticate(Buffer.from(`n,,${clientFirstBare}`), lookup).toString()
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]))
    const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest()
    const salted = pbkdf2Sync('bob-pw', Buffer.from(attrs.s!, 'base64'), Number(attrs.i), 32, 'sha256')
    const clientKey = hmac(salted, 'Client Key')
    const withoutProof = `c=biws,r=${clientNonce}${attrs.r}`
    const signature = hmac(createHash('sha256').update(clientKey).digest(), `${clientFirstBare},${serverFirst},${withoutProof}`)
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!))
    const serverFinal = s.authenticate(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`), lookup).toString()
    expect(serverFinal).toBe(`v=${hmac(hmac(salted, 'Server Key'), `${clientFirstBare},${serverFirst},${withoutProof}`).toString('base64')}`)
    expect(s.principal).toBe('User:bob')
    // A nonce that does not end with the server's is still refused.
    const other = new ConnectionSecurity(SASL)
    other.handshake('SCRAM-SHA-256')
    other.authenticate(Buffer.from(`n,,${clientFirstBare}`), lookup)
    expect(failure(() => other.authenticate(Buffer.from(`c=biws,r=${clientNonce}forged,p=${proof.toString('base64')}`), lookup))).toMatch(/^Authentication failed during authentication/)
  })

  it('fails SCRAM for a wrong password, an unknown user or another mechanism alike, saying nothing about the user', () => {
    const generic = 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256'
    const wrong = new ConnectionSecurity(SASL)
    wrong.handshake('SCRAM-SHA-256')
    const client = new ScramClient('SCRAM-SHA-256', 'bob', 'not-bob-pw')
    const first = wrong.authenticate(client.firstMessage(), lookup)
    expect(failure(() => wrong.authenticate(client.finalMessage(first), lookup))).toBe(generic)
    expect(wrong.saslState).toBe('failed')

    const unknown = new ConnectionSecurity(SASL)
    unknown.handshake('SCRAM-SHA-256')
    expect(failure(() => unknown.authenticate(new ScramClient('SCRAM-SHA-256', 'nobody', 'x').firstMessage(), lookup))).toBe(generic)

    const other = new ConnectionSecurity(SASL)
    other.handshake('SCRAM-SHA-512')
    expect(failure(() => other.authenticate(new ScramClient('SCRAM-SHA-512', 'bob', 'bob-pw').firstMessage(), lookup))).toBe(generic.replace('256', '512'))
  })
})
