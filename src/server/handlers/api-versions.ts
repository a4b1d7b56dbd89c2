// ApiVersions: v0-4
//
// Behaviour: advertises exactly the registered handlers' version ranges (Produce from v0, as
// Kafka 4.0 does for librdkafka, KAFKA-18659), and Kafka 4.0's finalized features, on every
// listener and before SASL authentication too (the first ApiVersions of a SASL connection moves
// it on to the handshake). A request at an unknown version is answered in v0 with
// UNSUPPORTED_VERSION by the dispatcher.
// Not implemented: client software name/version validation (v3+ INVALID_REQUEST on bad names).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {defineHandler, type ApiHandler} from './handler.js'

export function apiVersionsFor(handlers: readonly ApiHandler[]) {
  return handlers.map((h) => ({apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion}))
}

export const apiVersions = defineHandler({
  apiKey: ApiKey.ApiVersions,
  minVersion: 0,
  maxVersion: 4,
  handle(_request, ctx) {
    ctx.connection.security.apiVersionsAnswered()
    return {
      errorCode: 0,
      apiKeys: apiVersionsFor(ctx.broker.handlers()),
      throttleTimeMs: 0,
      // What a Kafka 4.0 broker reports; clients read metadata.version to pick behaviour.
      supportedFeatures: [
        {name: 'group.version', minVersion: 0, maxVersion: 1},
        {name: 'kraft.version', minVersion: 0, maxVersion: 1},
        {name: 'metadata.version', minVersion: 7, maxVersion: 25},
        {name: 'transaction.version', minVersion: 0, maxVersion: 2},
      ],
      finalizedFeaturesEpoch: 1n,
      finalizedFeatures: [{name: 'metadata.version', maxVersionLevel: 25, minVersionLevel: 25}],
      zkMigrationReady: false,
    }
  },
})
