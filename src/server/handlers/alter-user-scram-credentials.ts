// AlterUserScramCredentials: v0
//
// Behaviour: KIP-554, as Kafka 4.0's controller (ScramControlManager): upsertions carry the salt,
// iteration count and salted password a client computed; the broker keeps the salt, the
// iterations, StoredKey and ServerKey (scramCredentialFromSalted), never the salted password, in
// the metadata store, so they survive a restart and take effect on the next authentication. Per
// user, in this order: a user named twice in one request, in any mechanism and whether deleted or
// upserted, is DUPLICATE_RESOURCE ("A user credential cannot be altered twice in the same
// request"; Kafka 4.0's rule is per user, not per user and mechanism); an empty name is
// UNACCEPTABLE_CREDENTIAL; a mechanism other than SCRAM-SHA-256 (1) or SCRAM-SHA-512 (2) is
// UNSUPPORTED_SASL_MECHANISM; iterations outside 4096..16384 are UNACCEPTABLE_CREDENTIAL ("Too few
// iterations", "Too many iterations"); deleting a credential that does not exist is
// RESOURCE_NOT_FOUND. The accepted changes are applied at once; one result per user.
// Not implemented: authorization (ALTER on the cluster).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {MAX_ITERATIONS, MIN_ITERATIONS, SCRAM_MECHANISM_TYPES, type ScramMechanism, scramCredentialFromSalted} from '../../lib/sasl/scram.js'
import type {StoredScramCredential} from '../controller/metadata-store.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorizeCluster} from './authorize.js'

interface Failure {
  errorCode: number
  errorMessage: string
}

const DUPLICATE: Failure = {errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request'}

function checkNameAndMechanism(name: string, mechanism: number): Failure | null {
  if (name === '') return {errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty'}
  if (SCRAM_MECHANISM_TYPES[mechanism] === undefined) return {errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism'}
  return null
}

export const alterUserScramCredentials = defineHandler({
  apiKey: ApiKey.AlterUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const store = ctx.broker.metadata
    // Authorization (issue 15): ALTER on the cluster.
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      // Every user named, sorted, as AlterUserScramCredentialsRequest.getErrorResponse.
      return {throttleTimeMs: 0, results: [...new Set([...request.deletions, ...request.upsertions].map((c) => c.name))].sort().map((user) => ({user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null}))}
    }
    const deletions = new Map<string, {user: string; mechanism: ScramMechanism}>()
    const upsertions = new Map<string, StoredScramCredential>()
    const errors = new Map<string, Failure>()
    for (const d of request.deletions) {
      if (errors.has(d.name)) continue
      if (deletions.delete(d.name)) {
        errors.set(d.name, DUPLICATE)
        continue
      }
      const failure = checkNameAndMechanism(d.name, d.mechanism)
      const mechanism = SCRAM_MECHANISM_TYPES[d.mechanism]!
      if (failure) errors.set(d.name, failure)
      else if (!store.scramCredential(d.name, mechanism)) errors.set(d.name, {errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist'})
      else deletions.set(d.name, {user: d.name, mechanism})
    }
    for (const u of request.upsertions) {
      if (errors.has(u.name)) continue
      if (deletions.delete(u.name) || upsertions.delete(u.name)) {
        errors.set(u.name, DUPLICATE)
        continue
      }
      const failure = checkNameAndMechanism(u.name, u.mechanism)
      if (failure) errors.set(u.name, failure)
      else if (u.iterations < MIN_ITERATIONS) errors.set(u.name, {errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations'})
      else if (u.iterations > MAX_ITERATIONS) errors.set(u.name, {errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too many iterations'})
      else {
        const mechanism = SCRAM_MECHANISM_TYPES[u.mechanism]!
        upsertions.set(u.name, {user: u.name, mechanism, credential: scramCredentialFromSalted(mechanism, u.saltedPassword, u.salt, u.iterations)})
      }
    }
    if (deletions.size > 0 || upsertions.size > 0) await store.alterScramCredentials({deletions: [...deletions.values()], upsertions: [...upsertions.values()]})
    const ok = (user: string) => ({user, errorCode: ErrorCode.NONE, errorMessage: null})
    return {
      throttleTimeMs: 0,
      results: [...[...deletions.keys()].map(ok), ...[...upsertions.keys()].map(ok), ...[...errors].map(([user, f]) => ({user, ...f}))],
    }
  },
})
