import {describe, expect, it} from 'vitest'
import {type AclBinding, MATCH_ANY_FILTER, filterMatches, parsePrincipal, PatternType, ResourceType, AclOperation, AclPermissionType, validateNewAcl, parseEnumName} from '../../src/lib/acl.js'

const b = (name: string, patternType: number): AclBinding => ({pattern: {resourceType: ResourceType.TOPIC, name, patternType}, entry: {principal: 'User:a', host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW}})

describe('ACL filters (Kafka AclBindingFilter.matches)', () => {
  const f = (name: string | null, patternType: number) => ({...MATCH_ANY_FILTER, resourceType: ResourceType.TOPIC, name, patternType})
  it.each([
    ['LITERAL filter matches the same literal only', f('foo', PatternType.LITERAL), b('foo', PatternType.LITERAL), true],
    ['LITERAL filter does not match a prefixed pattern of that name', f('foo', PatternType.LITERAL), b('foo', PatternType.PREFIXED), false],
    ['ANY filter matches any pattern type with the exact name', f('foo', PatternType.ANY), b('foo', PatternType.PREFIXED), true],
    ['ANY filter does not match the wildcard', f('foo', PatternType.ANY), b('*', PatternType.LITERAL), false],
    ['MATCH filter matches the wildcard', f('foo', PatternType.MATCH), b('*', PatternType.LITERAL), true],
    ['MATCH filter matches a prefix of the name', f('foo-1', PatternType.MATCH), b('foo-', PatternType.PREFIXED), true],
    ['MATCH filter does not match a longer prefix', f('fo', PatternType.MATCH), b('foo', PatternType.PREFIXED), false],
    ['null name matches all of the pattern type', f(null, PatternType.PREFIXED), b('x', PatternType.PREFIXED), true],
  ])('%s', (_w, filter, binding, expected) => {
    expect(filterMatches(filter, binding)).toBe(expected)
  })

  it('parses principals as Kafka (split at the first colon) and refuses one without a type', () => {
    expect(parsePrincipal('User:CN=a,O=b:c')).toEqual({type: 'User', name: 'CN=a,O=b:c'})
    expect(() => parsePrincipal('alice')).toThrow('expected a string in format principalType:principalName but got alice')
  })

  it('validates new bindings with Kafka messages', () => {
    expect(validateNewAcl(b('t', PatternType.LITERAL))).toBeNull()
    expect(validateNewAcl(b('t', PatternType.MATCH))).toBe('Invalid patternType MATCH')
    expect(validateNewAcl(b('', PatternType.LITERAL))).toBe('Invalid empty resource name')
    expect(validateNewAcl({...b('x', PatternType.LITERAL), pattern: {resourceType: ResourceType.CLUSTER, name: 'x', patternType: PatternType.LITERAL}})).toBe('The only valid name for the CLUSTER resource is kafka-cluster')
    expect(validateNewAcl({...b('x', PatternType.LITERAL), entry: {...b('x', 3).entry, operation: AclOperation.ANY}})).toBe('Invalid operation ANY')
  })

  it('reads operation names as kafka-acls.sh takes them', () => {
    expect(parseEnumName(AclOperation, 'DescribeConfigs')).toBe(AclOperation.DESCRIBE_CONFIGS)
    expect(parseEnumName(AclOperation, 'read')).toBe(AclOperation.READ)
    expect(parseEnumName(AclOperation, 'bogus')).toBeUndefined()
  })
})
