import {describe, expect, it} from 'vitest'
import {NoMatchingRuleError, parsePrincipalMappingRules} from '../../../src/server/security/principal-mapper.js'

describe('ssl.principal.mapping.rules (Kafka SslPrincipalMapper)', () => {
  it('maps with the first rule that applies, as Kafka documents', () => {
    const map = parsePrincipalMappingRules('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT')
    expect(map('CN=kafka-broker,OU=ServiceUsers,O=Org,C=US')).toBe('kafka-broker')
    expect(map('CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Cupertino,ST=CA,C=US')).toBe('duke@javasoft')
    expect(map('cn=Alice,o=Org')).toBe('alice')
    expect(map('O=NoCn')).toBe('O=NoCn')
  })

  it('DEFAULT (and an empty value) keeps the name; no rule applying is an error', () => {
    expect(parsePrincipalMappingRules('DEFAULT')('CN=a,O=b')).toBe('CN=a,O=b')
    expect(parsePrincipalMappingRules('')('CN=a')).toBe('CN=a')
    expect(() => parsePrincipalMappingRules('RULE:^CN=(x)$/$1/U')('CN=y')).toThrow(NoMatchingRuleError)
    expect(parsePrincipalMappingRules('RULE:^CN=(x)$/$1/U')('CN=x')).toBe('X')
  })
})
