// ACLs as kafka-acls.sh manages them (DescribeAcls, CreateAcls, DeleteAcls), and the parsing of
// its resource/pattern/principal/host/operation/permission options into bindings and filters.
// Public protocol only, so it works against Apache Kafka as against kcli's broker. Bad input
// (a principal without a type, an unknown operation, no resource) is refused before anything is
// sent, with the reason.

import {type AclBinding, type AclBindingFilter, AclOperation, AclPermissionType, CLUSTER_NAME, operationName, parseEnumName, parsePrincipal, patternTypeName, PatternType, permissionName, PrincipalError, resourceTypeName, ResourceType} from '../acl.js'
import {ApiKey} from '../protocol/generated/api-keys.js'
import type {ItemResult} from './admin.js'
import type {KafkaClient} from './client.js'
import {errorName, KafkaError} from './errors.js'

/** An ACL as kcli prints it (names, not codes). */
export interface AclRow {
  resourceType: string
  name: string
  patternType: string
  principal: string
  host: string
  operation: string
  permission: string
}

export function aclRow(b: AclBinding): AclRow {
  return {resourceType: resourceTypeName(b.pattern.resourceType), name: b.pattern.name, patternType: patternTypeName(b.pattern.patternType), principal: b.entry.principal, host: b.entry.host, operation: operationName(b.entry.operation), permission: permissionName(b.entry.permissionType)}
}

export interface AclCreateResult extends ItemResult {
  acl: AclRow
}

export interface AclDeleteResult extends ItemResult {
  deleted: AclRow[]
}

/** The input problem, said once (a UsageError in the commands). */
export class AclInputError extends Error {}

export interface ResourceOptions {
  topic?: string[]
  group?: string[]
  cluster?: boolean
  transactionalId?: string[]
  delegationToken?: string[]
  user?: string[]
  /** literal, prefixed, match, any. */
  patternType?: string
}

/** The resources named by kafka-acls.sh-style options: [resourceType, name]. */
export function resourcesOf(o: ResourceOptions): Array<[number, string]> {
  return [
    ...(o.topic ?? []).map((n): [number, string] => [ResourceType.TOPIC, n]),
    ...(o.group ?? []).map((n): [number, string] => [ResourceType.GROUP, n]),
    ...(o.cluster ? [[ResourceType.CLUSTER, CLUSTER_NAME] as [number, string]] : []),
    ...(o.transactionalId ?? []).map((n): [number, string] => [ResourceType.TRANSACTIONAL_ID, n]),
    ...(o.delegationToken ?? []).map((n): [number, string] => [ResourceType.DELEGATION_TOKEN, n]),
    ...(o.user ?? []).map((n): [number, string] => [ResourceType.USER, n]),
  ]
}

export function parsePatternType(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const code = parseEnumName(PatternType, text)
  if (code === undefined) throw new AclInputError(`Unknown resource pattern type ${JSON.stringify(text)} (literal, prefixed, match or any)`)
  return code
}

export function parseOperation(text: string): number {
  const code = parseEnumName(AclOperation, text)
  if (code === undefined || code === AclOperation.ANY) {
    const valid = Object.keys(AclOperation).filter((n) => n !== 'UNKNOWN' && n !== 'ANY').join(', ')
    throw new AclInputError(`Unknown operation ${JSON.stringify(text)} (one of ${valid})`)
  }
  return code
}

export function checkPrincipal(text: string): string {
  try {
    const {type} = parsePrincipal(text)
    if (type === '') throw new PrincipalError(`expected a string in format principalType:principalName but got ${text}`)
  } catch (error) {
    if (error instanceof PrincipalError) throw new AclInputError(`Principal ${JSON.stringify(text)} has no type: ${error.message} (e.g. User:${text})`)
    throw error
  }
  return text
}

export interface EntryOptions {
  allowPrincipal?: string[]
  denyPrincipal?: string[]
  allowHost?: string[]
  denyHost?: string[]
  operation?: string[]
}

/** The bindings kafka-acls.sh --add makes: every resource x principal x host x operation. */
export function bindingsToCreate(r: ResourceOptions, e: EntryOptions): AclBinding[] {
  const resources = resourcesOf(r)
  if (resources.length === 0) throw new AclInputError('Name a resource: --topic, --group, --cluster, --transactional-id, --delegation-token or --user-principal')
  const patternType = parsePatternType(r.patternType, PatternType.LITERAL)
  if (patternType !== PatternType.LITERAL && patternType !== PatternType.PREFIXED) throw new AclInputError(`A new ACL's resource pattern type is literal or prefixed, not ${patternTypeName(patternType).toLowerCase()}`)
  const operations = (e.operation ?? []).map(parseOperation)
  if (operations.length === 0) throw new AclInputError('Name at least one --operation')
  const principals: Array<[string, number]> = [...(e.allowPrincipal ?? []).map((p): [string, number] => [checkPrincipal(p), AclPermissionType.ALLOW]), ...(e.denyPrincipal ?? []).map((p): [string, number] => [checkPrincipal(p), AclPermissionType.DENY])]
  if (principals.length === 0) throw new AclInputError('Name a principal: --allow-principal or --deny-principal (e.g. User:alice)')
  const out: AclBinding[] = []
  for (const [resourceType, name] of resources) {
    if (name === '') throw new AclInputError('A resource name must not be empty')
    for (const [principal, permissionType] of principals) {
      const hosts = permissionType === AclPermissionType.ALLOW ? (e.allowHost?.length ? e.allowHost : ['*']) : e.denyHost?.length ? e.denyHost : ['*']
      for (const host of hosts) for (const operation of operations) out.push({pattern: {resourceType, name, patternType}, entry: {principal, host, operation, permissionType}})
    }
  }
  return out
}

/**
 * The filters of a list or delete: one per resource (or one for everything), narrowed by the entry
 * options given. A principal without a host means the host `*`, as kafka-acls.sh --remove
 * (AclCommand.getHosts): only ACLs for every host match, not those of one host. Unlike
 * kafka-acls.sh, whose --operation defaults to All, no --operation matches every operation.
 */
export function filtersOf(r: ResourceOptions, e: EntryOptions & {principal?: string[]}): AclBindingFilter[] {
  const resources = resourcesOf(r)
  const patternType = parsePatternType(r.patternType, resources.length > 0 ? PatternType.LITERAL : PatternType.ANY)
  const operations = e.operation?.length ? e.operation.map(parseOperation) : [AclOperation.ANY]
  const entries: Array<{principal: string | null; host: string | null; permissionType: number}> = []
  for (const p of e.allowPrincipal ?? []) for (const h of e.allowHost?.length ? e.allowHost : ['*']) entries.push({principal: checkPrincipal(p), host: h, permissionType: AclPermissionType.ALLOW})
  for (const p of e.denyPrincipal ?? []) for (const h of e.denyHost?.length ? e.denyHost : ['*']) entries.push({principal: checkPrincipal(p), host: h, permissionType: AclPermissionType.DENY})
  if (entries.length === 0) entries.push({principal: null, host: null, permissionType: AclPermissionType.ANY})
  const targets: Array<[number, string | null]> = resources.length > 0 ? resources : [[ResourceType.ANY, null]]
  const out: AclBindingFilter[] = []
  for (const [resourceType, name] of targets) for (const entry of entries) for (const operation of operations) out.push({resourceType, name, patternType, ...entry, operation})
  return out
}

const wireFilter = (f: AclBindingFilter) => ({resourceTypeFilter: f.resourceType, resourceNameFilter: f.name, patternTypeFilter: f.patternType, principalFilter: f.principal, hostFilter: f.host, operation: f.operation, permissionType: f.permissionType})

export class AclsAdmin {
  constructor(private readonly client: KafkaClient) {}

  async describe(filter: AclBindingFilter): Promise<AclBinding[]> {
    const connection = await this.client.anyConnection()
    const r = await connection.send(ApiKey.DescribeAcls, wireFilter(filter))
    if (r.errorCode !== 0) throw KafkaError.fromCode(r.errorCode, `DescribeAcls${r.errorMessage ? `: ${r.errorMessage}` : ''}`)
    return r.resources.flatMap((res) => res.acls.map((a) => ({pattern: {resourceType: res.resourceType, name: res.resourceName, patternType: res.patternType}, entry: {principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType}})))
  }

  async create(bindings: AclBinding[]): Promise<AclCreateResult[]> {
    const connection = await this.client.anyConnection()
    const r = await connection.send(ApiKey.CreateAcls, {creations: bindings.map((b) => ({resourceType: b.pattern.resourceType, resourceName: b.pattern.name, resourcePatternType: b.pattern.patternType, ...b.entry}))})
    return bindings.map((b, i) => {
      const res = r.results[i] ?? {errorCode: -1, errorMessage: 'no answer'}
      return {acl: aclRow(b), errorCode: res.errorCode, error: errorName(res.errorCode), errorMessage: res.errorMessage}
    })
  }

  async delete(filters: AclBindingFilter[]): Promise<AclDeleteResult[]> {
    const connection = await this.client.anyConnection()
    const r = await connection.send(ApiKey.DeleteAcls, {filters: filters.map(wireFilter)})
    return filters.map((_, i) => {
      const res = r.filterResults[i] ?? {errorCode: -1, errorMessage: 'no answer', matchingAcls: []}
      return {
        deleted: res.matchingAcls.map((m) => aclRow({pattern: {resourceType: m.resourceType, name: m.resourceName, patternType: m.patternType}, entry: {principal: m.principal, host: m.host, operation: m.operation, permissionType: m.permissionType}})),
        errorCode: res.errorCode,
        error: errorName(res.errorCode),
        errorMessage: res.errorMessage,
      }
    })
  }
}
