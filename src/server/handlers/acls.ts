// CreateAcls v1-3, DescribeAcls v1-3, DeleteAcls v1-3 (Kafka 4.0's ranges)
//
// Behaviour, as Kafka's AclApis and AclControlManager: CreateAcls and DeleteAcls need ALTER on the
// cluster, DescribeAcls DESCRIBE (else CLUSTER_AUTHORIZATION_FAILED for every item); without an
// authorizer SECURITY_DISABLED. A request with an UNKNOWN (0) type, pattern, operation or
// permission is one Kafka cannot parse: the connection is closed. CreateAcls refuses per binding
// with INVALID_REQUEST and Kafka's message: a CLUSTER resource not named kafka-cluster, an empty
// name, ANY or unknown types, a pattern other than LITERAL/PREFIXED, ANY operation, a permission
// other than ALLOW/DENY; a principal without a type fails the whole request with
// UNKNOWN_SERVER_ERROR (Kafka's controller throws on it) and nothing is stored. DeleteAcls answers
// INVALID_REQUEST for a filter with unknown elements. Filters match as Kafka's AclBindingFilter.
// Creations and deletions of one request are stored at once (one metadata-store change).
import {type AclBinding, type AclBindingFilter, AclOperation, AclPermissionType, filterMatches, knownCode, parsePrincipal, PatternType, PrincipalError, ResourceType, validateNewAcl} from '../../lib/acl.js'
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {UnsupportedRequestError} from '../request-dispatcher.js'
import {authorizeCluster} from './authorize.js'
import {defineHandler} from './handler.js'

const NOT_CONFIGURED = 'No Authorizer is configured.'

function checkKnown(what: string, codes: number[]): void {
  if (codes.some((c) => c === 0)) throw new UnsupportedRequestError(`${what} contains UNKNOWN elements`)
}

function toFilter(f: {resourceTypeFilter: number; resourceNameFilter: string | null; patternTypeFilter: number; principalFilter: string | null; hostFilter: string | null; operation: number; permissionType: number}): AclBindingFilter {
  return {
    resourceType: knownCode(ResourceType, f.resourceTypeFilter),
    name: f.resourceNameFilter,
    patternType: knownCode(PatternType, f.patternTypeFilter),
    principal: f.principalFilter,
    host: f.hostFilter,
    operation: knownCode(AclOperation, f.operation),
    permissionType: knownCode(AclPermissionType, f.permissionType),
  }
}

export const describeAcls = defineHandler({
  apiKey: ApiKey.DescribeAcls,
  minVersion: 1,
  maxVersion: 3,
  handle(req, ctx) {
    checkKnown('DescribeAclsRequest', [req.resourceTypeFilter, req.patternTypeFilter, req.operation, req.permissionType])
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, resources: []}
    if (!ctx.broker.authorizer.enabled) return {throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker', resources: []}
    const filter = toFilter(req)
    const byResource = new Map<string, {resourceType: number; resourceName: string; patternType: number; acls: Array<{principal: string; host: string; operation: number; permissionType: number}>}>()
    for (const b of ctx.broker.metadata.acls()) {
      if (!filterMatches(filter, b)) continue
      const key = JSON.stringify([b.pattern.resourceType, b.pattern.name, b.pattern.patternType])
      let r = byResource.get(key)
      if (!r) byResource.set(key, (r = {resourceType: b.pattern.resourceType, resourceName: b.pattern.name, patternType: b.pattern.patternType, acls: []}))
      r.acls.push({...b.entry})
    }
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: [...byResource.values()]}
  },
})

export const createAcls = defineHandler({
  apiKey: ApiKey.CreateAcls,
  minVersion: 1,
  maxVersion: 3,
  async handle(req, ctx) {
    for (const c of req.creations) checkKnown('CreateAclsRequest', [c.resourceType, c.resourcePatternType, c.operation, c.permissionType])
    const all = (errorCode: number, errorMessage: string | null) => ({throttleTimeMs: 0, results: req.creations.map(() => ({errorCode, errorMessage}))})
    if (!authorizeCluster(ctx, AclOperation.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null)
    if (!ctx.broker.authorizer.enabled) return all(ErrorCode.SECURITY_DISABLED, NOT_CONFIGURED)
    const results: Array<{errorCode: number; errorMessage: string | null}> = []
    const valid: AclBinding[] = []
    for (const c of req.creations) {
      const binding: AclBinding = {pattern: {resourceType: c.resourceType, name: c.resourceName, patternType: c.resourcePatternType}, entry: {principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType}}
      const invalid = validateNewAcl(binding)
      if (invalid) {
        results.push({errorCode: ErrorCode.INVALID_REQUEST, errorMessage: invalid})
        continue
      }
      try {
        parsePrincipal(c.principal)
      } catch (error) {
        if (error instanceof PrincipalError) return all(ErrorCode.UNKNOWN_SERVER_ERROR, error.message)
        throw error
      }
      valid.push(binding)
      // Kafka answers a success with an empty message (the field's default), not null.
      results.push({errorCode: ErrorCode.NONE, errorMessage: ''})
    }
    if (valid.length > 0) await ctx.broker.metadata.alterAcls({create: valid, delete: []})
    return {throttleTimeMs: 0, results}
  },
})

export const deleteAcls = defineHandler({
  apiKey: ApiKey.DeleteAcls,
  minVersion: 1,
  maxVersion: 3,
  async handle(req, ctx) {
    for (const f of req.filters) checkKnown('DeleteAclsRequest', [f.resourceTypeFilter, f.patternTypeFilter, f.operation, f.permissionType])
    const all = (errorCode: number, errorMessage: string | null) => ({throttleTimeMs: 0, filterResults: req.filters.map(() => ({errorCode, errorMessage, matchingAcls: []}))})
    if (!authorizeCluster(ctx, AclOperation.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null)
    if (!ctx.broker.authorizer.enabled) return all(ErrorCode.SECURITY_DISABLED, NOT_CONFIGURED)
    const acls = ctx.broker.metadata.acls()
    const removed: AclBinding[] = []
    const filterResults = req.filters.map((f) => {
      const filter = toFilter(f)
      if (filter.resourceType === 0 || filter.patternType === 0) return {errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown patternFilter.', matchingAcls: []}
      if (filter.operation === 0 || filter.permissionType === 0) return {errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown entryFilter.', matchingAcls: []}
      const matching = acls.filter((b) => filterMatches(filter, b))
      removed.push(...matching)
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: matching.map((b) => ({errorCode: ErrorCode.NONE, errorMessage: null, resourceType: b.pattern.resourceType, resourceName: b.pattern.name, patternType: b.pattern.patternType, ...b.entry})),
      }
    })
    if (removed.length > 0) await ctx.broker.metadata.alterAcls({create: [], delete: removed})
    return {throttleTimeMs: 0, filterResults}
  },
})
