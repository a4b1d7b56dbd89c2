import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {resolveBrokerConfig} from '../../../src/lib/config/broker-configs.js'
import {ConfigError} from '../../../src/lib/config/config-def.js'
import {PLAIN_LOGIN_MODULE} from '../../../src/lib/sasl/jaas.js'
import {resolveListenerSecurity} from '../../../src/server/security/listener-security.js'
import {normalizePem} from '../../../src/server/security/tls-config.js'
import {makeCertificates, opensslMissing, type TestCertificates} from '../../e2e/certs.js'

function security(configs: Record<string, string>) {
  const config = resolveBrokerConfig(configs)
  return config.listeners.map((l) => resolveListenerSecurity(config, l))
}

/** The ConfigError a config gives, with its key and message. */
function configError(configs: Record<string, string>): ConfigError {
  try {
    security(configs)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`accepted: ${JSON.stringify(configs)}`)
}

const PLAIN_JAAS = `${PLAIN_LOGIN_MODULE} required user_alice="alice-pw";`

describe('listener security protocols and SASL settings', () => {
  it('maps listeners to protocols with the default listener.security.protocol.map, case-insensitively', () => {
    const config = resolveBrokerConfig({listeners: 'PLAINTEXT://127.0.0.1:0,sasl_plaintext://127.0.0.1:0'})
    expect(config.listeners.map((l) => l.securityProtocol)).toEqual(['PLAINTEXT', 'SASL_PLAINTEXT'])
    const custom = resolveBrokerConfig({listeners: 'INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0', 'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL'})
    expect(custom.listeners.map((l) => l.securityProtocol)).toEqual(['PLAINTEXT', 'SASL_SSL'])
  })

  it('refuses a listener without a protocol and an unknown protocol, naming listener.security.protocol.map', () => {
    expect(() => resolveBrokerConfig({listeners: 'CLIENT://127.0.0.1:0'})).toThrow(/listener\.security\.protocol\.map.*No security protocol defined for listener CLIENT/)
    expect(() => resolveBrokerConfig({listeners: 'CLIENT://127.0.0.1:0', 'listener.security.protocol.map': 'CLIENT:KERBEROS'})).toThrow(/listener\.security\.protocol\.map.*Unknown security protocol KERBEROS/)
  })

  it("reads PLAIN users from the listener's JAAS config, else sasl.jaas.config", () => {
    const [, sasl] = security({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512,PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
      'sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required user_bob="bob-pw";`,
    })
    expect(sasl!.sasl!.mechanisms).toEqual(['SCRAM-SHA-512', 'PLAIN'])
    expect([...sasl!.sasl!.plainUsers]).toEqual([['alice', 'alice-pw']])
    expect(sasl!.sasl!.maxReceiveSize).toBe(524288)
    const [fallback] = security({listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN', 'sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required user_bob="bob-pw";`})
    expect([...fallback!.sasl!.plainUsers]).toEqual([['bob', 'bob-pw']])
  })

  it('takes sasl.enabled.mechanisms per listener', () => {
    const [a, b] = security({
      listeners: 'A://127.0.0.1:0,B://127.0.0.1:0',
      'listener.security.protocol.map': 'A:SASL_PLAINTEXT,B:SASL_PLAINTEXT',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
      'listener.name.b.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    })
    expect(a!.sasl!.mechanisms).toEqual(['SCRAM-SHA-256'])
    expect(b!.sasl!.mechanisms).toEqual(['SCRAM-SHA-512'])
  })

  it('refuses mechanisms kcli does not serve (Kafka\'s default GSSAPI included), naming the key', () => {
    const byDefault = configError({listeners: 'SASL_PLAINTEXT://127.0.0.1:0'})
    expect(byDefault.key).toBe('sasl.enabled.mechanisms')
    expect(byDefault.message).toMatch(/GSSAPI .*not supported/)
    expect(configError({listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN,OAUTHBEARER'}).key).toBe('listener.name.sasl_plaintext.sasl.enabled.mechanisms')
    // A listener without SASL does not care.
    expect(() => security({listeners: 'PLAINTEXT://127.0.0.1:0'})).not.toThrow()
  })

  it('needs a PlainLoginModule JAAS config for PLAIN, and a well-formed one, without showing it', () => {
    const missing = configError({listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN'})
    expect(missing.key).toBe('listener.name.sasl_plaintext.plain.sasl.jaas.config')
    const malformed = configError({listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN', 'sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required user_alice="top-secret"`})
    expect(malformed.key).toBe('sasl.jaas.config')
    expect(malformed.message).toContain('not terminated by semi-colon')
    expect(malformed.message).not.toContain('top-secret')
    const otherModule = configError({listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN', 'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'com.example.Login required;'})
    expect(otherModule.message).toContain(PLAIN_LOGIN_MODULE)
    // SCRAM needs no JAAS config (its credentials are in the metadata store).
    expect(() => security({listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'SCRAM-SHA-256'})).not.toThrow()
  })
})

describe.skipIf(opensslMissing)('listener TLS settings', () => {
  let certs: TestCertificates
  beforeAll(() => {
    certs = makeCertificates()
  })
  afterAll(() => certs?.remove())

  const ssl = (extra: Record<string, string>) => ({listeners: 'SSL://127.0.0.1:0', ...extra})

  it('loads PKCS12, PEM file, encrypted PEM and inline PEM keystores, and a PEM truststore', () => {
    const [p12] = security(ssl({'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs.serverP12, 'ssl.keystore.password': certs.storePassword}))
    expect(p12!.tls!.options.pfx).toBeInstanceOf(Buffer)
    expect(p12!.tls!.clientAuth).toBe('none')
    expect(p12!.tls!.options).toMatchObject({minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', requestCert: false})
    const [pem] = security(ssl({'ssl.keystore.type': 'PEM', 'ssl.keystore.location': certs.serverKeystorePem, 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem, 'ssl.client.auth': 'required'}))
    expect(pem!.tls!.options).toMatchObject({requestCert: true, rejectUnauthorized: true})
    expect(String(pem!.tls!.options.ca)).toContain('BEGIN CERTIFICATE')
    const encrypted = join(certs.dir, 'encrypted-keystore.pem')
    writeFileSync(encrypted, readFileSync(certs.serverKeyEncrypted, 'utf8') + readFileSync(certs.serverCert, 'utf8'))
    expect(() => security(ssl({'ssl.keystore.type': 'PEM', 'ssl.keystore.location': encrypted, 'ssl.key.password': certs.keyPassword}))).not.toThrow()
    // Inline, as a properties file with \ continuations gives it: the line breaks gone.
    const oneLine = (file: string) => readFileSync(file, 'utf8').replace(/\n/g, '')
    const [inline] = security(ssl({'ssl.keystore.type': 'PEM', 'ssl.keystore.key': oneLine(certs.serverKey), 'ssl.keystore.certificate.chain': oneLine(certs.serverCert), 'ssl.client.auth': 'requested', 'ssl.enabled.protocols': 'TLSv1.3'}))
    expect(inline!.tls!.options).toMatchObject({requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3'})
    expect(normalizePem(oneLine(certs.serverCert))).toBe(readFileSync(certs.serverCert, 'utf8'))
  })

  it('takes ssl.* per listener (listener.name.<listener>.ssl.*)', () => {
    const [a, b] = security({
      listeners: 'A://127.0.0.1:0,B://127.0.0.1:0',
      'listener.security.protocol.map': 'A:SSL,B:SASL_SSL',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': certs.serverKeystorePem,
      'listener.name.b.ssl.keystore.type': 'PKCS12',
      'listener.name.b.ssl.keystore.location': certs.serverP12,
      'listener.name.b.ssl.keystore.password': certs.storePassword,
      'listener.name.b.ssl.client.auth': 'requested',
    })
    expect(a!.tls!.options.pfx).toBeUndefined()
    expect(a!.tls!.clientAuth).toBe('none')
    expect(b!.tls!.options.pfx).toBeDefined()
    expect(b!.tls!.clientAuth).toBe('requested')
    expect(b!.sasl!.mechanisms).toEqual(['SCRAM-SHA-256'])
  })

  it('refuses bad keystores at start, naming the key and hiding secrets', () => {
    const jks = configError(ssl({'ssl.keystore.type': 'JKS', 'ssl.keystore.location': certs.serverP12, 'ssl.keystore.password': certs.storePassword}))
    expect(jks.key).toBe('ssl.keystore.type')
    expect(jks.message).toMatch(/convert .*PKCS12/)
    const defaultType = configError(ssl({'ssl.keystore.location': certs.serverP12, 'ssl.keystore.password': certs.storePassword}))
    expect(defaultType.key).toBe('ssl.keystore.type')
    expect(configError(ssl({})).key).toBe('ssl.keystore.location')
    const missing = configError(ssl({'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': join(certs.dir, 'nope.p12'), 'ssl.keystore.password': 'x'}))
    expect(missing.key).toBe('ssl.keystore.location')
    expect(missing.message).toContain('ENOENT')
    const wrongPassword = configError(ssl({'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs.serverP12, 'ssl.keystore.password': 'not-the-password'}))
    expect(wrongPassword.key).toBe('ssl.keystore.password')
    expect(wrongPassword.message).not.toContain('not-the-password')
    expect(configError(ssl({'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs.serverP12})).key).toBe('ssl.keystore.password')
    expect(configError(ssl({'ssl.keystore.type': 'PEM', 'ssl.keystore.location': certs.serverKeystorePem, 'ssl.keystore.password': 'x'})).key).toBe('ssl.keystore.password')
    const encrypted = join(certs.dir, 'encrypted-keystore-2.pem')
    writeFileSync(encrypted, readFileSync(certs.serverKeyEncrypted, 'utf8') + readFileSync(certs.serverCert, 'utf8'))
    expect(configError(ssl({'ssl.keystore.type': 'PEM', 'ssl.keystore.location': encrypted, 'ssl.key.password': 'wrong'})).key).toBe('ssl.key.password')
    const mismatch = join(certs.dir, 'mismatch.pem')
    writeFileSync(mismatch, readFileSync(certs.clientKey, 'utf8') + readFileSync(certs.serverCert, 'utf8'))
    expect(configError(ssl({'ssl.keystore.type': 'PEM', 'ssl.keystore.location': mismatch})).message).toMatch(/key values mismatch/)
    expect(configError(ssl({'ssl.keystore.type': 'PKCS12', 'ssl.keystore.key': 'x', 'ssl.keystore.certificate.chain': 'y'})).message).toContain('SSL private key can be specified only for PEM')
    expect(configError(ssl({'ssl.keystore.type': 'PEM', 'ssl.keystore.certificate.chain': 'y'})).key).toBe('ssl.keystore.key')
  })

  it('refuses truststores node cannot read and bad TLS settings', () => {
    const base = {'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs.serverP12, 'ssl.keystore.password': certs.storePassword}
    const p12Trust = configError(ssl({...base, 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': certs.serverP12}))
    expect(p12Trust.key).toBe('ssl.truststore.type')
    expect(p12Trust.message).toMatch(/convert .*PEM/)
    expect(configError(ssl({...base, 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem, 'ssl.truststore.password': 'x'})).key).toBe('ssl.truststore.password')
    expect(configError(ssl({...base, 'ssl.client.auth': 'sometimes'})).key).toBe('ssl.client.auth')
    expect(configError(ssl({...base, 'ssl.enabled.protocols': 'SSLv3'})).key).toBe('ssl.enabled.protocols')
  })
})
