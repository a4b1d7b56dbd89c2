/**
 * The broker's authorizer, with the semantics of Kafka's StandardAuthorizer
 * (org.apache.kafka.metadata.authorizer.StandardAuthorizerData):
 *
 * - on when `authorizer.class.name` is set (any non-empty value; Kafka's is
 *   org.apache.kafka.metadata.authorizer.StandardAuthorizer); off, everything is allowed, as before;
 * - `super.users` (semicolon-separated principals) may do everything;
 * - the ACLs that apply to a resource are those on its exact name (LITERAL), on `*` (LITERAL) and
 *   on every PREFIXED pattern the name starts with, of the resource's type;
 * - an ACL matches a request when its principal is the request's or `User:*`, its host is the
 *   client's address or `*`, and its operation is the requested one or ALL — or, for ALLOW ACLs,
 *   one implying it: READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies
 *   DESCRIBE_CONFIGS;
 * - any matching DENY wins; else any matching ALLOW allows; with no ACL at all on the resource
 *   (any principal), `allow.everyone.if.no.acl.found` decides (default false); else denied.
 *
 * The ACLs come from the metadata store (so every broker of a cluster enforces the same set); the
 * index (per resource type: literal names in a map, prefixes in a map probed with each prefix of
 * the name) is rebuilt once per ACL version, so an authorize call costs a few map lookups however
 * many ACLs there are.
 */
import {type AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType, WILDCARD_HOST, WILDCARD_PRINCIPAL, WILDCARD_RESOURCE} from '../../lib/acl.js'
import type {ResolvedBrokerConfig} from '../../lib/config/broker-configs.js'

export interface AuthorizerOptions {
  enabled: boolean
  superUsers: ReadonlySet<string>
  allowEveryoneIfNoAclFound: boolean
}

/** Who asks: the connection's principal and the client's address. */
export interface Requester {
  principal: string
  host: string
}

export interface AclSource {
  /** The current ACLs; a new array whenever they change (the array is the version). */
  acls(): readonly AclBinding[]
}

interface Entry {
  principal: string
  host: string
  operation: number
  permissionType: number
}

interface TypeIndex {
  literal: Map<string, Entry[]>
  prefixed: Map<string, Entry[]>
  maxPrefix: number
}

const IMPLIES_DESCRIBE = new Set<number>([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER])
const IMPLIES_DESCRIBE_CONFIGS = new Set<number>([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS])

/** The broker configs of the authorizer. */
export function authorizerOptions(config: ResolvedBrokerConfig): AuthorizerOptions {
  const superUsers = (config.get('super.users') ?? '').split(';').map((s) => s.trim()).filter(Boolean)
  return {enabled: (config.get('authorizer.class.name') ?? '').trim() !== '', superUsers: new Set(superUsers), allowEveryoneIfNoAclFound: config.get('allow.everyone.if.no.acl.found') === 'true'}
}

/** "::ffff:127.0.0.1" -> "127.0.0.1" (Java's InetAddress.getHostAddress of an IPv4 client). */
export function clientHost(remoteAddress: string): string {
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress
}

/** One ACL's answer for an action (StandardAuthorizerData.findResult): true allow, false deny, undefined no match. */
function result(entry: Entry, who: Requester, operation: number): boolean | undefined {
  if (entry.principal !== who.principal && entry.principal !== WILDCARD_PRINCIPAL) return undefined
  if (entry.host !== WILDCARD_HOST && entry.host !== who.host) return undefined
  if (entry.operation !== AclOperation.ALL) {
    if (entry.permissionType === AclPermissionType.ALLOW) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(entry.operation)) return undefined
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(entry.operation)) return undefined
      } else if (entry.operation !== operation) return undefined
    } else if (entry.operation !== operation) return undefined
  }
  return entry.permissionType === AclPermissionType.ALLOW
}

export class Authorizer {
  private indexedFrom: readonly AclBinding[] | undefined
  private index = new Map<number, TypeIndex>()

  constructor(
    readonly options: AuthorizerOptions,
    private readonly source: AclSource,
  ) {}

  get enabled(): boolean {
    return this.options.enabled
  }

  isSuperUser(principal: string): boolean {
    return this.options.superUsers.has(principal)
  }

  private typeIndex(resourceType: number): TypeIndex | undefined {
    const acls = this.source.acls()
    if (acls !== this.indexedFrom) {
      const index = new Map<number, TypeIndex>()
      for (const b of acls) {
        let t = index.get(b.pattern.resourceType)
        if (!t) index.set(b.pattern.resourceType, (t = {literal: new Map(), prefixed: new Map(), maxPrefix: 0}))
        const map = b.pattern.patternType === PatternType.PREFIXED ? t.prefixed : t.literal
        if (b.pattern.patternType === PatternType.PREFIXED) t.maxPrefix = Math.max(t.maxPrefix, b.pattern.name.length)
        let list = map.get(b.pattern.name)
        if (!list) map.set(b.pattern.name, (list = []))
        list.push(b.entry)
      }
      this.index = index
      this.indexedFrom = acls
    }
    return this.index.get(resourceType)
  }

  /** Whether `who` may do `operation` on the resource (StandardAuthorizer.authorize). */
  authorize(who: Requester, operation: number, resourceType: number, name: string): boolean {
    if (!this.options.enabled || this.options.superUsers.has(who.principal)) return true
    const t = this.typeIndex(resourceType)
    let found = false
    let allowed = false
    const check = (entries: Entry[] | undefined): boolean => {
      if (!entries) return false
      found = true
      for (const e of entries) {
        const r = result(e, who, operation)
        if (r === false) return true
        if (r === true) allowed = true
      }
      return false
    }
    if (t) {
      if (check(t.literal.get(name))) return false
      if (name !== WILDCARD_RESOURCE && check(t.literal.get(WILDCARD_RESOURCE))) return false
      if (t.prefixed.size > 0) {
        const longest = Math.min(name.length, t.maxPrefix)
        for (let i = 1; i <= longest; i++) if (check(t.prefixed.get(name.slice(0, i)))) return false
      }
    }
    if (allowed) return true
    return !found && this.options.allowEveryoneIfNoAclFound
  }

  /**
   * Whether `who` may do `operation` on some resource of the type (Authorizer.authorizeByResourceType,
   * Kafka's default implementation): an ALLOW ACL that no DENY of the same or a shorter prefix covers.
   * InitProducerId without a transactional id uses it (WRITE on any topic allows idempotence).
   */
  authorizeByResourceType(who: Requester, operation: number, resourceType: number): boolean {
    if (this.authorize(who, operation, resourceType, 'hardcode')) return true
    const t = this.typeIndex(resourceType)
    if (!t) return false
    const denyLiteral = new Set<string>()
    const denyPrefixed = new Set<string>()
    const allowLiteral: string[] = []
    const allowPrefixed: string[] = []
    const applies = (e: Entry) => (e.host === who.host || e.host === WILDCARD_HOST) && (e.principal === who.principal || e.principal === WILDCARD_PRINCIPAL) && (e.operation === operation || e.operation === AclOperation.ALL)
    for (const [name, entries] of t.literal) {
      for (const e of entries) {
        if (!applies(e)) continue
        if (e.permissionType === AclPermissionType.DENY) {
          if (name === WILDCARD_RESOURCE) return false
          denyLiteral.add(name)
        } else if (name === WILDCARD_RESOURCE) return true
        else allowLiteral.push(name)
      }
    }
    for (const [name, entries] of t.prefixed) {
      for (const e of entries) {
        if (!applies(e)) continue
        if (e.permissionType === AclPermissionType.DENY) denyPrefixed.add(name)
        else allowPrefixed.push(name)
      }
    }
    const dominated = (name: string) => {
      for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return true
      return false
    }
    for (const name of allowLiteral) if (!denyLiteral.has(name) && !dominated(name)) return true
    for (const name of allowPrefixed) if (!dominated(name)) return true
    return false
  }
}

export {ResourceType}
