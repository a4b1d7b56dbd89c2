import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {parseProperties, securityFromProperties} from '../../../src/lib/client/security.js'

const dir = mkdtempSync(join(tmpdir(), 'kcli-security-'))
afterAll(() => rmSync(dir, {force: true, recursive: true}))

describe('client properties', () => {
  it('parses Java properties: separators, comments, continuations, escapes', () => {
    const props = parseProperties(['# comment', '! also', 'a=1', 'b : two words ', 'c three', 'd=x\\', '   y', 'e=tab\\there \\u0041', 'key\\=with=eq', 'empty=', ''].join('\n'))
    expect(Object.fromEntries(props)).toEqual({a: '1', b: 'two words ', c: 'three', d: 'xy', e: 'tab\there A', 'key=with': 'eq', empty: ''})
  })

  it('reads the user and password of a JAAS line (Kafka syntax: quotes, escapes, ; inside values)', () => {
    const settings = securityFromProperties(new Map([
      ['security.protocol', 'SASL_PLAINTEXT'],
      ['sasl.mechanism', 'SCRAM-SHA-256'],
      ['sasl.jaas.config', 'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\\"w;d" tokenauth=true;'],
    ]))
    expect(settings.sasl).toEqual({mechanism: 'SCRAM-SHA-256', password: 'p"w;d', username: 'alice'})
    expect(() => securityFromProperties(new Map([['security.protocol', 'SASL_PLAINTEXT'], ['sasl.mechanism', 'PLAIN'], ['sasl.jaas.config', 'username="x"']]))).toThrow(/^sasl\.jaas\.config: /)
  })

  it('maps a Kafka client.properties to TLS and SASL settings', () => {
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n')
    const props = parseProperties([
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="secret";',
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${join(dir, 'ca.pem')}`,
      'ssl.endpoint.identification.algorithm=',
      'linger.ms=5',
    ].join('\n'))
    const settings = securityFromProperties(props)
    expect(settings.protocol).toBe('SASL_SSL')
    expect(settings.sasl).toEqual({mechanism: 'SCRAM-SHA-512', password: 'secret', username: 'alice'})
    expect(settings.tls!.ca).toContain('BEGIN CERTIFICATE')
    expect(settings.tls!.checkServerIdentity!('x', {} as never)).toBeUndefined()
  })

  it("takes librdkafka's names as kcat -X does", () => {
    const settings = securityFromProperties(new Map([['security.protocol', 'sasl_plaintext'], ['sasl.mechanisms', 'PLAIN'], ['sasl.username', 'bob'], ['sasl.password', 'pw']]))
    expect(settings).toEqual({protocol: 'SASL_PLAINTEXT', sasl: {mechanism: 'PLAIN', password: 'pw', username: 'bob'}})
    expect(securityFromProperties(new Map([['security.protocol', 'SSL'], ['enable.ssl.certificate.verification', 'false']])).tls!.rejectUnauthorized).toBe(false)
    expect(securityFromProperties(new Map())).toEqual({protocol: 'PLAINTEXT'})
  })

  it('names the key of a setting it cannot use', () => {
    const bad = (entries: [string, string][], message: RegExp) => expect(() => securityFromProperties(new Map(entries))).toThrow(message)
    bad([['security.protocol', 'TLS']], /^security\.protocol: "TLS" is not one of/)
    bad([['security.protocol', 'SASL_PLAINTEXT']], /GSSAPI is the default: set sasl\.mechanism/)
    bad([['security.protocol', 'SASL_PLAINTEXT'], ['sasl.mechanism', 'OAUTHBEARER']], /^sasl\.mechanism: OAUTHBEARER is not supported/)
    bad([['security.protocol', 'SASL_PLAINTEXT'], ['sasl.mechanism', 'PLAIN']], /needs a username and a password/)
    bad([['security.protocol', 'SSL'], ['ssl.truststore.type', 'JKS'], ['ssl.truststore.location', '/x.jks']], /^ssl\.truststore\.type: JKS is not supported/)
    bad([['security.protocol', 'SSL'], ['ssl.truststore.location', '/nonexistent.pem']], /^ssl\.truststore\.location: cannot read \/nonexistent\.pem: ENOENT/)
    bad([['security.protocol', 'SSL'], ['ssl.keystore.type', 'JKS']], /^ssl\.keystore\.type: JKS is not supported/)
  })
})
