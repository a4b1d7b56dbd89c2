// SaslAuthenticate: v0-2
//
// Behaviour: on a SASL listener after SaslHandshake, one token of the chosen mechanism each
// (src/server/security/connection-security.ts): PLAIN one round against the listener's JAAS users,
// SCRAM-SHA-256/512 two rounds against the SCRAM credentials in the metadata store. Success sets
// the connection's principal (User:<name>) and every API is served from then on;
// sessionLifetimeMs (v1+) is connections.max.reauth.ms (KIP-368): the client re-authenticates
// (SaslHandshake, SaslAuthenticate) before it ends, or its next request closes the connection. Failure is
// SASL_AUTHENTICATION_FAILED with Kafka's messages ("Authentication failed: Invalid username or
// password" for PLAIN, "Authentication failed during authentication due to invalid credentials
// with SASL mechanism SCRAM-SHA-256" for SCRAM, which never says whether the user exists), and the
// connection is closed once the answer is written. A token larger than sasl.server.max.receive.size
// closes the connection (the frame limit before authentication already holds it to that).
// After authentication, and on PLAINTEXT and SSL listeners: ILLEGAL_SASL_STATE, "SaslAuthenticate
// request received after successful authentication", as Kafka's KafkaApis.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {SaslAuthenticationError} from '../security/connection-security.js'
import {defineHandler} from './handler.js'

export class SaslTokenTooLargeError extends Error {}

const EMPTY = Buffer.alloc(0)

export const saslAuthenticate = defineHandler({
  apiKey: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    const security = ctx.connection.security
    const sasl = security.listener.sasl
    if (!sasl || security.authenticated) {
      return {errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received after successful authentication', authBytes: EMPTY, sessionLifetimeMs: 0n}
    }
    if (request.authBytes.length > sasl.maxReceiveSize) throw new SaslTokenTooLargeError(`SASL token of ${request.authBytes.length} bytes is larger than sasl.server.max.receive.size (${sasl.maxReceiveSize})`)
    try {
      const authBytes = security.authenticate(request.authBytes, (user, mechanism) => ctx.broker.metadata.scramCredential(user, mechanism))
      if (security.authenticated) ctx.broker.log.debug({listener: ctx.connection.listenerName, remoteAddress: ctx.connection.remoteAddress, principal: security.principal, mechanism: security.mechanism}, 'SASL authentication succeeded')
      return {errorCode: ErrorCode.NONE, errorMessage: null, authBytes, sessionLifetimeMs: security.authenticated ? BigInt(security.sessionLifetimeMs) : 0n}
    } catch (error) {
      if (!(error instanceof SaslAuthenticationError)) throw error
      ctx.broker.log.info({listener: ctx.connection.listenerName, remoteAddress: ctx.connection.remoteAddress, mechanism: security.mechanism, reason: error.message}, 'failed authentication')
      ctx.closeAfterResponse()
      return {errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: error.message, authBytes: EMPTY, sessionLifetimeMs: 0n}
    }
  },
})
