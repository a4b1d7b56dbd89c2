import {describe, expect, it} from 'vitest'
import {type AclBinding, AclOperation as Op, AclPermissionType as Perm, PatternType, ResourceType as RT} from '../../../src/lib/acl.js'
import {Authorizer, clientHost} from '../../../src/server/security/authorizer.js'

const acl = (resourceType: number, name: string, patternType: number, principal: string, operation: number, permissionType: number = Perm.ALLOW, host = '*'): AclBinding => ({pattern: {resourceType, name, patternType}, entry: {principal, host, operation, permissionType}})
const L = PatternType.LITERAL
const P = PatternType.PREFIXED

function authorizer(acls: AclBinding[], opts: {superUsers?: string[]; allowEveryone?: boolean; enabled?: boolean} = {}): Authorizer {
  return new Authorizer({enabled: opts.enabled ?? true, superUsers: new Set(opts.superUsers ?? []), allowEveryoneIfNoAclFound: opts.allowEveryone ?? false}, {acls: () => acls})
}

const alice = {principal: 'User:alice', host: '10.0.0.1'}

// [what, acls, options, requester, operation, resource type, name, expected] — Kafka's documented StandardAuthorizer semantics.
const cases: Array<[string, AclBinding[], Parameters<typeof authorizer>[1], typeof alice, number, number, string, boolean]> = [
  ['no authorizer: everything allowed', [], {enabled: false}, alice, Op.WRITE, RT.TOPIC, 't', true],
  ['no ACL at all: denied by default', [], {}, alice, Op.READ, RT.TOPIC, 't', false],
  ['no ACL at all, allow.everyone.if.no.acl.found', [], {allowEveryone: true}, alice, Op.READ, RT.TOPIC, 't', true],
  ['an ACL for someone else on the resource: allow.everyone does not apply', [acl(RT.TOPIC, 't', L, 'User:bob', Op.READ)], {allowEveryone: true}, alice, Op.READ, RT.TOPIC, 't', false],
  ['literal match', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ)], {}, alice, Op.READ, RT.TOPIC, 't', true],
  ['literal is exact, not a prefix', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ)], {}, alice, Op.READ, RT.TOPIC, 'tt', false],
  ['prefixed matches names starting with it', [acl(RT.TOPIC, 'orders-', P, 'User:alice', Op.READ)], {}, alice, Op.READ, RT.TOPIC, 'orders-eu', true],
  ['prefixed does not match others', [acl(RT.TOPIC, 'orders-', P, 'User:alice', Op.READ)], {}, alice, Op.READ, RT.TOPIC, 'order', false],
  ['literal * matches every name', [acl(RT.TOPIC, '*', L, 'User:alice', Op.READ)], {}, alice, Op.READ, RT.TOPIC, 'anything', true],
  ['prefixed * is a literal prefix, not a wildcard', [acl(RT.TOPIC, '*', P, 'User:alice', Op.READ)], {}, alice, Op.READ, RT.TOPIC, 'anything', false],
  ['other resource type does not apply', [acl(RT.GROUP, 't', L, 'User:alice', Op.READ)], {}, alice, Op.READ, RT.TOPIC, 't', false],
  ['User:* matches every principal', [acl(RT.TOPIC, 't', L, 'User:*', Op.READ)], {}, alice, Op.READ, RT.TOPIC, 't', true],
  ['host must match', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ, Perm.ALLOW, '10.0.0.2')], {}, alice, Op.READ, RT.TOPIC, 't', false],
  ['host matches', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ, Perm.ALLOW, '10.0.0.1')], {}, alice, Op.READ, RT.TOPIC, 't', true],
  ['READ implies DESCRIBE', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ)], {}, alice, Op.DESCRIBE, RT.TOPIC, 't', true],
  ['WRITE implies DESCRIBE', [acl(RT.TOPIC, 't', L, 'User:alice', Op.WRITE)], {}, alice, Op.DESCRIBE, RT.TOPIC, 't', true],
  ['DELETE implies DESCRIBE', [acl(RT.TOPIC, 't', L, 'User:alice', Op.DELETE)], {}, alice, Op.DESCRIBE, RT.TOPIC, 't', true],
  ['ALTER implies DESCRIBE', [acl(RT.TOPIC, 't', L, 'User:alice', Op.ALTER)], {}, alice, Op.DESCRIBE, RT.TOPIC, 't', true],
  ['CREATE does not imply DESCRIBE', [acl(RT.TOPIC, 't', L, 'User:alice', Op.CREATE)], {}, alice, Op.DESCRIBE, RT.TOPIC, 't', false],
  ['DESCRIBE does not imply READ', [acl(RT.TOPIC, 't', L, 'User:alice', Op.DESCRIBE)], {}, alice, Op.READ, RT.TOPIC, 't', false],
  ['ALTER_CONFIGS implies DESCRIBE_CONFIGS', [acl(RT.TOPIC, 't', L, 'User:alice', Op.ALTER_CONFIGS)], {}, alice, Op.DESCRIBE_CONFIGS, RT.TOPIC, 't', true],
  ['ALL allows any operation', [acl(RT.TOPIC, 't', L, 'User:alice', Op.ALL)], {}, alice, Op.DELETE, RT.TOPIC, 't', true],
  ['DENY wins over ALLOW', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ), acl(RT.TOPIC, 't', L, 'User:alice', Op.READ, Perm.DENY)], {}, alice, Op.READ, RT.TOPIC, 't', false],
  ['prefixed DENY wins over literal ALLOW', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ), acl(RT.TOPIC, '', P, 'User:*', Op.ALL, Perm.DENY)].map((b) => (b.pattern.name === '' ? {...b, pattern: {...b.pattern, name: 't'}} : b)), {}, alice, Op.READ, RT.TOPIC, 't', false],
  ['wildcard DENY for User:* wins', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ), acl(RT.TOPIC, '*', L, 'User:*', Op.READ, Perm.DENY)], {}, alice, Op.READ, RT.TOPIC, 't', false],
  ['DENY READ does not deny DESCRIBE (no implication for DENY)', [acl(RT.TOPIC, 't', L, 'User:alice', Op.DESCRIBE), acl(RT.TOPIC, 't', L, 'User:alice', Op.READ, Perm.DENY)], {}, alice, Op.DESCRIBE, RT.TOPIC, 't', true],
  ['DENY ALL denies everything', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ), acl(RT.TOPIC, 't', L, 'User:alice', Op.ALL, Perm.DENY)], {}, alice, Op.READ, RT.TOPIC, 't', false],
  ['DENY from another host does not apply', [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ), acl(RT.TOPIC, 't', L, 'User:alice', Op.READ, Perm.DENY, '10.9.9.9')], {}, alice, Op.READ, RT.TOPIC, 't', true],
  ['super users may do everything, DENY or not', [acl(RT.TOPIC, 't', L, 'User:alice', Op.ALL, Perm.DENY)], {superUsers: ['User:alice']}, alice, Op.DELETE, RT.TOPIC, 't', true],
  ['cluster resource', [acl(RT.CLUSTER, 'kafka-cluster', L, 'User:alice', Op.ALTER)], {}, alice, Op.ALTER, RT.CLUSTER, 'kafka-cluster', true],
]

describe('Authorizer (Kafka StandardAuthorizer semantics)', () => {
  it.each(cases)('%s', (_what, acls, opts, who, op, rt, name, expected) => {
    expect(authorizer(acls, opts).authorize(who, op, rt, name)).toBe(expected)
  })

  it('re-indexes when the ACLs change (a new array is a new version)', () => {
    let acls: AclBinding[] = []
    const a = new Authorizer({enabled: true, superUsers: new Set(), allowEveryoneIfNoAclFound: false}, {acls: () => acls})
    expect(a.authorize(alice, Op.READ, RT.TOPIC, 't')).toBe(false)
    acls = [acl(RT.TOPIC, 't', L, 'User:alice', Op.READ)]
    expect(a.authorize(alice, Op.READ, RT.TOPIC, 't')).toBe(true)
  })

  it('authorizeByResourceType as Kafka: an ALLOW not dominated by a DENY', () => {
    expect(authorizer([acl(RT.TOPIC, 'a', L, 'User:alice', Op.WRITE)]).authorizeByResourceType(alice, Op.WRITE, RT.TOPIC)).toBe(true)
    expect(authorizer([acl(RT.TOPIC, 'a', L, 'User:alice', Op.WRITE), acl(RT.TOPIC, 'a', P, 'User:alice', Op.WRITE, Perm.DENY)]).authorizeByResourceType(alice, Op.WRITE, RT.TOPIC)).toBe(false)
    expect(authorizer([acl(RT.TOPIC, 'ab', P, 'User:alice', Op.WRITE), acl(RT.TOPIC, 'a', L, 'User:alice', Op.WRITE, Perm.DENY)]).authorizeByResourceType(alice, Op.WRITE, RT.TOPIC)).toBe(true)
    expect(authorizer([acl(RT.TOPIC, 'a', L, 'User:alice', Op.READ)]).authorizeByResourceType(alice, Op.WRITE, RT.TOPIC)).toBe(false)
    expect(authorizer([acl(RT.TOPIC, '*', L, 'User:alice', Op.WRITE, Perm.DENY), acl(RT.TOPIC, 'a', L, 'User:alice', Op.WRITE)]).authorizeByResourceType(alice, Op.WRITE, RT.TOPIC)).toBe(false)
  })

  it('client hosts as Java prints them', () => {
    expect(clientHost('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(clientHost('::1')).toBe('::1')
  })
})
