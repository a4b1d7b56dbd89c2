/**
 * The security state of one connection: its listener's protocol, the principal it acts as, and on
 * SASL listeners the state machine of Kafka's SaslServerAuthenticator:
 *
 *   handshake-or-versions --ApiVersions--> handshake --SaslHandshake--> authenticate
 *   handshake-or-versions --SaslHandshake--> authenticate --SaslAuthenticate...--> complete
 *
 * Before `complete` only the request that state expects is served (ApiVersions or SaslHandshake;
 * SaslHandshake; SaslAuthenticate); any other closes the connection, as Kafka's
 * IllegalSaslStateException does ("Unexpected Kafka request of type ... during SASL handshake.").
 * A refused mechanism or failed authentication is answered and then the connection is closed
 * (state `failed`). Requests before authentication are limited to sasl.server.max.receive.size.
 *
 * Mechanisms (the primitives are src/lib/sasl): PLAIN, one round, checked against the listener's
 * JAAS users; SCRAM-SHA-256/512, two rounds (ScramServer) against the credentials in the metadata
 * store. The principal becomes `User:<name>`; it is `User:ANONYMOUS` on PLAINTEXT listeners and on
 * SSL listeners without a client certificate, and `User:<certificate subject>` on SSL listeners
 * with one (Kafka's DefaultKafkaPrincipalBuilder without ssl.principal.mapping.rules).
 * Re-authentication (KIP-368, issue 15): with connections.max.reauth.ms the session lasts that long;
 * a SaslHandshake with the same mechanism then SaslAuthenticate renew it (the principal may not change).
 * Not implemented: SaslHandshake v0 (raw
 * tokens without SaslAuthenticate), delegation tokens (SCRAM's tokenauth extension).
 */
import {createHash, timingSafeEqual} from 'node:crypto'

import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {PlainError, parsePlainMessage} from '../../lib/sasl/plain.js'
import {isScramMechanism, type ScramCredential, ScramError, type ScramMechanism, ScramServer} from '../../lib/sasl/scram.js'
import type {SecurityProtocol} from '../../lib/config/broker-configs.js'
import type {ListenerSecurity} from './listener-security.js'

export const ANONYMOUS = 'User:ANONYMOUS'

export type SaslState = 'handshake-or-versions' | 'handshake' | 'authenticate' | 'complete' | 'failed'

/** Authentication failed: the message goes to the client in SaslAuthenticate's errorMessage. */
export class SaslAuthenticationError extends Error {}

/** A request the SASL state does not allow: the connection is closed without an answer. */
export class IllegalSaslStateError extends Error {}

/** Looks up the SCRAM credential of a user (the metadata store's). */
export type ScramLookup = (username: string, mechanism: ScramMechanism) => ScramCredential | undefined

function sameSecret(a: string, b: string): boolean {
  // Digests first: equal lengths for timingSafeEqual, and no early exit on the length.
  const da = createHash('sha256').update(a, 'utf8').digest()
  const db = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(da, db)
}

export class ConnectionSecurity {
  principal = ANONYMOUS
  saslState: SaslState
  /** The mechanism the client chose in SaslHandshake. */
  mechanism: string | undefined
  private scram: ScramServer | undefined
  // ---- SASL re-authentication (KIP-368, issue 15) ----
  /** When the authenticated session ends (ms since the epoch), undefined when it does not. */
  sessionExpiresAtMs: number | undefined
  /** The principal of the session being re-authenticated (it may not change). */
  private reauthenticatingAs: string | undefined

  /** Whether the session has expired: any request but a SaslHandshake (re-authentication) closes the connection. */
  sessionExpired(nowMs: number): boolean {
    return this.saslState === 'complete' && this.sessionExpiresAtMs !== undefined && nowMs >= this.sessionExpiresAtMs
  }

  /** The lifetime to give the client in SaslAuthenticate (ms), 0 when sessions do not expire. */
  get sessionLifetimeMs(): number {
    return this.listener.sasl?.reauthMs ?? 0
  }

  /**
   * SaslHandshake on an authenticated connection of a listener with connections.max.reauth.ms:
   * starts re-authentication with the same mechanism (true), refuses another mechanism (false).
   */
  startReauthentication(mechanism: string): boolean {
    if (mechanism !== this.mechanism) {
      this.saslState = 'failed'
      return false
    }
    this.reauthenticatingAs = this.principal
    this.saslState = 'authenticate'
    this.scram = undefined
    return true
  }

  /** Whether re-authentication may start: SASL, authenticated, sessions that expire. */
  get mayReauthenticate(): boolean {
    return this.saslState === 'complete' && this.listener.sasl !== undefined && this.sessionLifetimeMs > 0
  }
  // ---- end re-authentication ----

  constructor(readonly listener: ListenerSecurity) {
    this.saslState = listener.sasl ? 'handshake-or-versions' : 'complete'
  }

  /** A connection of a listener without SASL or TLS (tests, tools). */
  static plaintext(listenerName = 'PLAINTEXT'): ConnectionSecurity {
    return new ConnectionSecurity({listenerName, protocol: 'PLAINTEXT'})
  }

  get protocol(): SecurityProtocol {
    return this.listener.protocol
  }

  /** True once the connection may send any request (always, on listeners without SASL). */
  get authenticated(): boolean {
    return this.saslState === 'complete'
  }

  /** The largest request frame accepted now. */
  maxFrameSize(socketRequestMaxBytes: number): number {
    const sasl = this.listener.sasl
    return sasl && !this.authenticated ? Math.min(sasl.maxReceiveSize, socketRequestMaxBytes) : socketRequestMaxBytes
  }

  /** Throws IllegalSaslStateError unless a request of `apiKey` may be served in this state. */
  checkAllowed(apiKey: number, apiName: string): void {
    const s = this.saslState
    if (s === 'complete') return
    const ok =
      (s === 'handshake-or-versions' && (apiKey === ApiKey.ApiVersions || apiKey === ApiKey.SaslHandshake)) ||
      (s === 'handshake' && apiKey === ApiKey.SaslHandshake) ||
      (s === 'authenticate' && apiKey === ApiKey.SaslAuthenticate)
    if (!ok) throw new IllegalSaslStateError(`Unexpected Kafka request of type ${apiName} during SASL ${s === 'authenticate' ? 'authentication' : 'handshake'}.`)
  }

  /** An ApiVersions request was answered (at a supported version). */
  apiVersionsAnswered(): void {
    if (this.saslState === 'handshake-or-versions') this.saslState = 'handshake'
  }

  /** SaslHandshake: true when the listener enables `mechanism` (authentication starts), else the state fails. */
  handshake(mechanism: string): boolean {
    if (!this.listener.sasl!.mechanisms.includes(mechanism)) {
      this.saslState = 'failed'
      return false
    }
    this.mechanism = mechanism
    this.saslState = 'authenticate'
    return true
  }

  /**
   * One SaslAuthenticate token: the server's answer (empty for PLAIN), the state `complete` when
   * the exchange is done; throws SaslAuthenticationError (state `failed`) when it fails.
   */
  authenticate(token: Buffer, scramCredential: ScramLookup): Buffer {
    const mechanism = this.mechanism!
    try {
      if (mechanism === 'PLAIN') {
        this.plain(token)
        return Buffer.alloc(0)
      }
      if (!isScramMechanism(mechanism)) throw new SaslAuthenticationError(`Unsupported SASL mechanism ${mechanism}`)
      this.scram ??= new ScramServer(mechanism, (user) => scramCredential(user, mechanism))
      const answer = this.scram.respond(token)
      if (this.scram.done) this.complete(this.scram.username!)
      return answer
    } catch (error) {
      this.saslState = 'failed'
      this.scram = undefined
      if (error instanceof SaslAuthenticationError) throw error
      if (error instanceof ScramError || error instanceof PlainError) {
        // As Kafka: a SaslException's own text is not sent, it might tell whether the user exists.
        throw new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`)
      }
      throw error
    }
  }

  private plain(token: Buffer): void {
    let username: string
    let password: string
    try {
      ;({username, password} = parsePlainMessage(token))
    } catch (error) {
      if (error instanceof PlainError && /authorization id/.test(error.message)) {
        throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username')
      }
      throw error
    }
    const expected = this.listener.sasl!.plainUsers.get(username)
    // Compared even for an unknown user, so that the time taken does not tell which users exist.
    const ok = sameSecret(expected ?? '', password) && expected !== undefined
    if (!ok) throw new SaslAuthenticationError('Authentication failed: Invalid username or password')
    this.complete(username)
  }

  private complete(username: string): void {
    const principal = `User:${username}`
    const previous = this.reauthenticatingAs
    this.reauthenticatingAs = undefined
    if (previous !== undefined && previous !== principal) throw new SaslAuthenticationError(`Cannot change principals during re-authentication from ${previous}: ${principal}`)
    this.principal = principal
    this.saslState = 'complete'
    const lifetime = this.sessionLifetimeMs
    this.sessionExpiresAtMs = lifetime > 0 ? Date.now() + lifetime : undefined
  }
}
