// DescribeClientQuotas: v0-v1
//
// Behaviour: Kafka 4.0's ClientQuotasImage.describe. Filter components name an entity type
// (user, client-id, ip) with a match type: 0 exact name (match required), 1 the default entity
// (match null), 2 any entity of the type (match null, the default included). Every entity that has
// each component's type and name is described; `strict` also requires the entity to have no other
// types. Bad filters answer the request-level error with Kafka's message and null entries: an empty
// or repeated type, a match string where none belongs (or none where one does), an unknown match
// type, ip combined with user or client-id (INVALID_REQUEST); an unknown entity type
// (UNSUPPORTED_VERSION, "Unsupported entity type <t>").
// Authorization (issue 15): DESCRIBE_CONFIGS on the cluster, else CLUSTER_AUTHORIZATION_FAILED.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {QUOTA_ENTITY_TYPES, type QuotaEntity, type QuotaEntityType} from '../controller/metadata-store.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorizeCluster} from './authorize.js'

class FilterError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

function matches(entity: QuotaEntity, exact: Map<string, string | null>, typeMatch: Set<string>, strict: boolean): boolean {
  const types = Object.keys(entity)
  if (strict && types.length !== exact.size + typeMatch.size) return false
  for (const [type, name] of exact) if (!types.includes(type) || entity[type as QuotaEntityType] !== name) return false
  for (const type of typeMatch) if (!types.includes(type)) return false
  return true
}

export const describeClientQuotas = defineHandler({
  apiKey: ApiKey.DescribeClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    // Authorization (issue 15), as KafkaApis: DESCRIBE_CONFIGS on the cluster, else
    // CLUSTER_AUTHORIZATION_FAILED with null entries.
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null}
    const exact = new Map<string, string | null>()
    const typeMatch = new Set<string>()
    try {
      for (const c of request.components) {
        if (c.entityType === '') throw new FilterError(ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.')
        if (exact.has(c.entityType) || typeMatch.has(c.entityType)) throw new FilterError(ErrorCode.INVALID_REQUEST, `Entity type ${c.entityType} cannot appear more than once in the filter.`)
        if (!(QUOTA_ENTITY_TYPES as readonly string[]).includes(c.entityType)) throw new FilterError(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`)
        if (c.matchType === 0) {
          if (c.match === null) throw new FilterError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_EXACT, but set match string to null.')
          exact.set(c.entityType, c.match)
        } else if (c.matchType === 1) {
          if (c.match !== null) throw new FilterError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.')
          exact.set(c.entityType, null)
        } else if (c.matchType === 2) {
          if (c.match !== null) throw new FilterError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.')
          typeMatch.add(c.entityType)
        } else {
          throw new FilterError(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`)
        }
      }
      const has = (t: string) => exact.has(t) || typeMatch.has(t)
      if (has('ip') && (has('user') || has('client-id'))) {
        throw new FilterError(ErrorCode.INVALID_REQUEST, 'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.')
      }
    } catch (error) {
      if (!(error instanceof FilterError)) throw error
      return {throttleTimeMs: 0, errorCode: error.code, errorMessage: error.message, entries: null}
    }
    const entries = ctx.broker.metadata
      .clientQuotas()
      .filter((q) => matches(q.entity, exact, typeMatch, request.strict))
      .map((q) => ({
        entity: QUOTA_ENTITY_TYPES.filter((t) => q.entity[t] !== undefined).map((t) => ({entityType: t, entityName: q.entity[t]!})),
        values: Object.entries(q.values).map(([key, value]) => ({key, value})),
      }))
    // Kafka 4.0 answers an empty string, not null, on success.
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: '', entries}
  },
})
