// AlterClientQuotas: v0-v1
//
// Behaviour: Kafka 4.0's ClientQuotaControlManager. Each entry names an entity (user, client-id
// or ip; a null name is the type's default entity) and ops: set a key to a value, or remove it.
// An entry is refused as a whole with INVALID_REQUEST and Kafka's message when: the entity is
// empty, repeats a type, has an unknown type ("Unhandled client quota entity type: <t>") or an
// empty name; combines ip with user or client-id; names a key twice ("Duplicate quota key ...");
// sets a key the entity type does not take ("Invalid configuration key <k>"; users and client ids:
// producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate; ips:
// connection_creation_rate); sets a value <= 0 (or not a number: "Quota <k> must be greater than
// 0"), a fraction for an integral key ("<k> cannot be a fractional value."), or one too large for
// its type. The same entity twice in one request: INVALID_REQUEST "Ignoring duplicate entity".
// Entries without an error are stored together, at once (validateOnly: only checked); an
// invalid entry stores nothing of its own.
// Authorization (issue 15): ALTER_CONFIGS on the cluster, else CLUSTER_AUTHORIZATION_FAILED on every
// entry.
// Not implemented: ip names are not resolved (a host
// name is accepted as given).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {EntryData} from '../../lib/protocol/generated/alter-client-quotas-request.js'
import {type ClientQuotaAlteration, QUOTA_ENTITY_TYPES, quotaEntityKey, type QuotaEntity, type QuotaEntityType} from '../controller/metadata-store.js'
import {IP_QUOTA_KEYS, QUOTA_KEY_TYPES, QUOTA_KEYS} from '../quotas/client-quota-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorizeCluster, defaultMessage} from './authorize.js'

const INT_MAX = 2 ** 31 - 1
const LONG_MAX = 2 ** 63 - 1

/** The alteration an entry asks for, or Kafka's message for why it is invalid. */
export function validateQuotaEntry(entry: EntryData): ClientQuotaAlteration | string {
  if (entry.entity.length === 0) return 'Invalid empty client quota entity'
  const entity: QuotaEntity = {}
  for (const {entityType, entityName} of entry.entity) {
    if (Object.hasOwn(entity, entityType)) return `Invalid client quota entity, duplicate entity entry ${entityType}`
    if (!(QUOTA_ENTITY_TYPES as readonly string[]).includes(entityType)) return `Unhandled client quota entity type: ${entityType}`
    if (entityName === '') return `Empty ${entityType} not supported`
    entity[entityType as QuotaEntityType] = entityName
  }
  const ip = entity.ip !== undefined
  if (ip && (entity.user !== undefined || entity['client-id'] !== undefined)) return 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId'
  const validKeys: readonly string[] = ip ? IP_QUOTA_KEYS : QUOTA_KEYS
  const seen = new Set<string>()
  const alteration: ClientQuotaAlteration = {entity, set: {}, remove: []}
  for (const op of entry.ops) {
    if (seen.has(op.key)) return `Duplicate quota key ${op.key} not updating quota for this entity`
    seen.add(op.key)
    if (op.remove) {
      alteration.remove.push(op.key)
      continue
    }
    if (!validKeys.includes(op.key)) return `Invalid configuration key ${op.key}`
    if (!(op.value > 0)) return `Quota ${op.key} must be greater than 0`
    const type = QUOTA_KEY_TYPES[op.key]
    if (type !== 'double') {
      if (op.value > (type === 'int' ? INT_MAX : LONG_MAX)) return `Proposed value for ${op.key} is too large for ${type === 'int' ? 'an INT' : 'a LONG'}.`
      if (Math.abs(op.value % 1) > 1e-6) return `${op.key} cannot be a fractional value.`
    }
    alteration.set[op.key] = op.value
  }
  return alteration
}

export const alterClientQuotas = defineHandler({
  apiKey: ApiKey.AlterClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    // Authorization (issue 15), as ControllerApis: ALTER_CONFIGS on the cluster, else every entry
    // CLUSTER_AUTHORIZATION_FAILED with the error's message (AlterClientQuotasRequest.getErrorResponse).
    if (!authorizeCluster(ctx, AclOperation.ALTER_CONFIGS)) {
      return {throttleTimeMs: 0, entries: request.entries.map((e) => ({entity: e.entity.map((x) => ({entityType: x.entityType, entityName: x.entityName})), errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: defaultMessage(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)}))}
    }
    const results = new Map<string, {entity: EntryData['entity']; error: string | null}>()
    const alterations: ClientQuotaAlteration[] = []
    for (const entry of request.entries) {
      const validated = validateQuotaEntry(entry)
      const key = typeof validated === 'string' ? JSON.stringify(entry.entity) : quotaEntityKey(validated.entity)
      const earlier = results.get(key)
      if (earlier) {
        earlier.error = `Ignoring duplicate entity`
        continue
      }
      results.set(key, {entity: entry.entity, error: typeof validated === 'string' ? validated : null})
      if (typeof validated !== 'string') alterations.push(validated)
    }
    const kept = alterations.filter((a) => results.get(quotaEntityKey(a.entity))!.error === null)
    if (!request.validateOnly && kept.length > 0) await ctx.broker.metadata.alterClientQuotas(kept)
    return {
      throttleTimeMs: 0,
      entries: [...results.values()].map(({entity, error}) => ({
        errorCode: error === null ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST,
        errorMessage: error,
        entity: entity.map((e) => ({entityType: e.entityType, entityName: e.entityName})),
      })),
    }
  },
})
