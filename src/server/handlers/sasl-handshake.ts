// SaslHandshake: v1
//
// Behaviour: on a SASL listener, before authentication (Kafka's SaslServerAuthenticator): the
// mechanism the client chose, if the listener enables it, starts authentication by
// SaslAuthenticate and the answer lists the enabled mechanisms; any other is answered
// UNSUPPORTED_SASL_MECHANISM with that list and the connection is closed. After authentication,
// and on PLAINTEXT and SSL listeners, the request reaches the API layer as in Kafka (KafkaApis):
// ILLEGAL_SASL_STATE with no mechanisms, the connection stays up.
// Versions: v1 is served; v0-1 is advertised, as Kafka 4.0 does, because librdkafka decides that
// a broker supports SASL handshakes at all by finding v0 in the advertised range (its
// RD_KAFKA_FEATURE_SASL_HANDSHAKE), then sends v1.
// Re-authentication (KIP-368): with connections.max.reauth.ms > 0, a handshake on an authenticated
// connection with its mechanism starts re-authentication; another mechanism is UNSUPPORTED_SASL_MECHANISM
// and the connection is closed.
// Not implemented: v0 (SASL tokens sent raw after the handshake, without SaslAuthenticate); a v0
// request closes the connection as any unsupported version does.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'

export const saslHandshake = defineHandler({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 1,
  maxVersion: 1,
  advertisedMinVersion: 0,
  handle(request, ctx) {
    const security = ctx.connection.security
    const sasl = security.listener.sasl
    // Re-authentication (KIP-368, issue 15): an authenticated connection whose sessions expire may authenticate again with its mechanism.
    if (sasl && security.mayReauthenticate) {
      if (security.startReauthentication(request.mechanism)) return {errorCode: ErrorCode.NONE, mechanisms: sasl.mechanisms}
      ctx.closeAfterResponse()
      return {errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: sasl.mechanisms}
    }
    if (!sasl || security.authenticated) return {errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: []}
    if (!security.handshake(request.mechanism)) {
      ctx.broker.log.info({listener: ctx.connection.listenerName, remoteAddress: ctx.connection.remoteAddress, mechanism: request.mechanism}, 'SASL mechanism requested by the client is not enabled')
      ctx.closeAfterResponse()
      return {errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: sasl.mechanisms}
    }
    return {errorCode: ErrorCode.NONE, mechanisms: sasl.mechanisms}
  },
})
