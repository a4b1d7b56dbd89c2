/**
 * Kafka's ACL model, shared by the broker (authorizer, CreateAcls/DescribeAcls/DeleteAcls) and the
 * CLI: resource types, pattern types, operations and permissions with Kafka's numeric codes
 * (org.apache.kafka.common.resource / common.acl), bindings, filters matched exactly as Kafka's
 * AclBindingFilter matches, and principals "Type:name" parsed as SecurityUtils.parseKafkaPrincipal.
 */

export const ResourceType = {UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7} as const
export const PatternType = {UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4} as const
export const AclOperation = {
  UNKNOWN: 0, ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12, CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14,
} as const
export const AclPermissionType = {UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3} as const

/** The one name of the CLUSTER resource, and the wildcard resource name and principal. */
export const CLUSTER_NAME = 'kafka-cluster'
export const WILDCARD_RESOURCE = '*'
export const WILDCARD_PRINCIPAL = 'User:*'
export const WILDCARD_HOST = '*'

function nameOf(table: Record<string, number>, code: number): string {
  for (const [name, c] of Object.entries(table)) if (c === code) return name
  return 'UNKNOWN'
}
/** A code as Kafka's enum names it (an unknown code is UNKNOWN, as fromCode does). */
export const resourceTypeName = (code: number) => nameOf(ResourceType, code)
export const patternTypeName = (code: number) => nameOf(PatternType, code)
export const operationName = (code: number) => nameOf(AclOperation, code)
export const permissionName = (code: number) => nameOf(AclPermissionType, code)

/** Kafka's fromCode: an unknown code becomes UNKNOWN (0). */
export function knownCode(table: Record<string, number>, code: number): number {
  return Object.values(table).includes(code) ? code : 0
}

/** Parses a name case-insensitively ("Read", "describe-configs", "DescribeConfigs"); undefined if unknown. */
export function parseEnumName(table: Record<string, number>, text: string): number | undefined {
  const norm = text.replace(/[-_\s]/g, '').toUpperCase()
  for (const [name, code] of Object.entries(table)) if (name.replace(/_/g, '') === norm && name !== 'UNKNOWN') return code
  return undefined
}

export interface ResourcePattern {
  resourceType: number
  name: string
  patternType: number
}

export interface AccessControlEntry {
  principal: string
  host: string
  operation: number
  permissionType: number
}

export interface AclBinding {
  pattern: ResourcePattern
  entry: AccessControlEntry
}

export interface AclBindingFilter {
  /** ResourceType code (ANY matches all). */
  resourceType: number
  /** null: any name. */
  name: string | null
  /** PatternType code: ANY, MATCH, LITERAL or PREFIXED. */
  patternType: number
  principal: string | null
  host: string | null
  operation: number
  permissionType: number
}

export const MATCH_ANY_FILTER: AclBindingFilter = {resourceType: ResourceType.ANY, name: null, patternType: PatternType.ANY, principal: null, host: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY}

/** Kafka's ResourcePatternFilter.matches. */
export function patternFilterMatches(filter: Pick<AclBindingFilter, 'resourceType' | 'name' | 'patternType'>, pattern: ResourcePattern): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== pattern.resourceType) return false
  const pt = filter.patternType
  if (pt !== PatternType.ANY && pt !== PatternType.MATCH && pt !== pattern.patternType) return false
  if (filter.name === null) return true
  if (pt === PatternType.ANY || pt === pattern.patternType) return filter.name === pattern.name
  if (pattern.patternType === PatternType.LITERAL) return filter.name === pattern.name || pattern.name === WILDCARD_RESOURCE
  if (pattern.patternType === PatternType.PREFIXED) return filter.name.startsWith(pattern.name)
  return false
}

/** Kafka's AccessControlEntryFilter.matches. */
export function entryFilterMatches(filter: Pick<AclBindingFilter, 'principal' | 'host' | 'operation' | 'permissionType'>, entry: AccessControlEntry): boolean {
  if (filter.principal !== null && filter.principal !== entry.principal) return false
  if (filter.host !== null && filter.host !== entry.host) return false
  if (filter.operation !== AclOperation.ANY && filter.operation !== entry.operation) return false
  return filter.permissionType === AclPermissionType.ANY || filter.permissionType === entry.permissionType
}

export function filterMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  return patternFilterMatches(filter, binding.pattern) && entryFilterMatches(filter, binding.entry)
}

/** One binding as a stable string (identity of an ACL: two equal bindings are one ACL). */
export function bindingKey(b: AclBinding): string {
  return JSON.stringify([b.pattern.resourceType, b.pattern.name, b.pattern.patternType, b.entry.principal, b.entry.host, b.entry.operation, b.entry.permissionType])
}

export class PrincipalError extends Error {}

/** SecurityUtils.parseKafkaPrincipal: "Type:name" split at the first colon. */
export function parsePrincipal(text: string | null | undefined): {type: string; name: string} {
  const i = text ? text.indexOf(':') : -1
  if (!text || i < 0) throw new PrincipalError(`expected a string in format principalType:principalName but got ${text ?? 'null'}`)
  return {type: text.slice(0, i), name: text.slice(i + 1)}
}

/**
 * Why Kafka's controller refuses to store a binding (AclControlManager.validateNewAcl and the
 * CreateAcls handler's checks), or null when it is valid. The message is Kafka's.
 */
export function validateNewAcl(b: AclBinding): string | null {
  const rt = b.pattern.resourceType
  if (rt === ResourceType.CLUSTER && b.pattern.name !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`
  if (b.pattern.name === '') return 'Invalid empty resource name'
  if (rt === ResourceType.UNKNOWN || rt === ResourceType.ANY || knownCode(ResourceType, rt) === 0) return `Invalid resourceType ${resourceTypeName(rt)}`
  if (b.pattern.patternType !== PatternType.LITERAL && b.pattern.patternType !== PatternType.PREFIXED) return `Invalid patternType ${patternTypeName(b.pattern.patternType)}`
  const op = b.entry.operation
  if (op === AclOperation.UNKNOWN || op === AclOperation.ANY || knownCode(AclOperation, op) === 0) return `Invalid operation ${operationName(op)}`
  if (b.entry.permissionType !== AclPermissionType.ALLOW && b.entry.permissionType !== AclPermissionType.DENY) return `Invalid permissionType ${permissionName(b.entry.permissionType)}`
  return null
}

/** A binding for people: "User:alice has ALLOW permission for operations: READ from hosts: *" style fields. */
export function describeBinding(b: AclBinding): string {
  return `(principal=${b.entry.principal}, host=${b.entry.host}, operation=${operationName(b.entry.operation)}, permissionType=${permissionName(b.entry.permissionType)}) on ResourcePattern(resourceType=${resourceTypeName(b.pattern.resourceType)}, name=${b.pattern.name}, patternType=${patternTypeName(b.pattern.patternType)})`
}
