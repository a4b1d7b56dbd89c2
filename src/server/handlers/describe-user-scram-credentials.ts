// DescribeUserScramCredentials: v0
//
// Behaviour: KIP-554, as Kafka 4.0's ScramImage.describe: a null or empty user list describes every
// user with a SCRAM credential; each user gets its mechanisms (SCRAM-SHA-256 = 1, SCRAM-SHA-512 =
// 2) and iteration counts, never salts or keys. A user with no credential is RESOURCE_NOT_FOUND
// ("Attempt to describe a user credential that does not exist: <user>"); a user named twice is
// DUPLICATE_RESOURCE ("Cannot describe SCRAM credentials for the same user twice in a single
// request: <user>"), once.
// Not implemented: authorization (DESCRIBE on the cluster).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {SCRAM_MECHANISMS} from '../../lib/sasl/scram.js'
import {SCRAM_MECHANISM_NUMBERS} from '../../lib/sasl/scram.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorizeCluster} from './authorize.js'

export const describeUserScramCredentials = defineHandler({
  apiKey: ApiKey.DescribeUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const store = ctx.broker.metadata
    // Authorization (issue 15): DESCRIBE on the cluster.
    // Authorization (issue 15): DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED at the top
    // and once per user named, without its name (DescribeUserScramCredentialsRequest.getErrorResponse).
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: (request.users ?? []).map(() => ({user: '', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, credentialInfos: []}))}
    }
    // user -> named more than once
    const users = new Map<string, boolean>()
    if (request.users === null || request.users.length === 0) {
      for (const c of store.scramCredentials()) users.set(c.user, false)
    } else {
      for (const u of request.users) users.set(u.name, users.has(u.name))
    }
    const results = [...users].map(([user, duplicate]) => {
      if (duplicate) return {user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: []}
      const credentialInfos = SCRAM_MECHANISMS.flatMap((mechanism) => {
        const c = store.scramCredential(user, mechanism)
        return c ? [{mechanism: SCRAM_MECHANISM_NUMBERS[mechanism], iterations: c.iterations}] : []
      })
      if (credentialInfos.length === 0) return {user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: []}
      return {user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos}
    })
    // Kafka 4.0 answers an empty string, not null, at the top level (security-tools.jsonl run 30).
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: '', results}
  },
})
