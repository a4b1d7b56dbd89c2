// How a client connects to a secured cluster: TLS and SASL settings, read from Kafka's client
// properties (the `--command-config client.properties` file Kafka's own tools take) or given one
// by one (`-X key=value`, which also takes librdkafka's names, as kcat does).
//
//   security.protocol                  PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
//   sasl.mechanism                     PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (librdkafka: sasl.mechanisms)
//   sasl.jaas.config                   ...PlainLoginModule required username="u" password="p";
//                                      (or ScramLoginModule); librdkafka: sasl.username, sasl.password
//   ssl.truststore.type                PEM (PKCS12 and JKS: convert them, see below)
//   ssl.truststore.location            a PEM file of CA certificates (librdkafka: ssl.ca.location)
//   ssl.truststore.certificates        the same, inline
//   ssl.keystore.type                  PEM or PKCS12, for a client certificate (mutual TLS)
//   ssl.keystore.location              PEM: certificate chain and key in one file; PKCS12: the .p12
//   ssl.keystore.certificate.chain     inline PEM (with ssl.keystore.key)
//   ssl.keystore.password, ssl.key.password
//                                      librdkafka: ssl.certificate.location, ssl.key.location
//   ssl.endpoint.identification.algorithm   https (default: check the host name) or empty
//   enable.ssl.certificate.verification     librdkafka's switch; false skips all checks
//
// Other keys are ignored (a client.properties file may hold producer or consumer settings).

import {readFileSync} from 'node:fs'
import type {ConnectionOptions as TlsOptions} from 'node:tls'

import {JaasConfigError, parseJaasConfig} from '../sasl/jaas.js'
import {isScramMechanism, type ScramMechanism} from '../sasl/scram.js'

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number]
export type SaslMechanism = 'PLAIN' | ScramMechanism

export interface SaslSettings {
  mechanism: SaslMechanism
  username: string
  password: string
}

export interface SecuritySettings {
  protocol: SecurityProtocol
  sasl?: SaslSettings
  /** node:tls options (CA, client certificate, verification) when the protocol uses TLS. */
  tls?: TlsOptions
}

/** A setting that cannot be used; the message names the key. */
export class SecurityConfigError extends Error {}

/** Parses a Java properties file (key=value or key: value, # and ! comments, \ continuations and escapes). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^\s+/, '')
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.replace(/^\s+/, '')
    const match = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line) ?? /^((?:\\.|[^=:\s\\])+)$/.exec(line)
    if (!match) continue
    const unescape = (s: string) => s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => (c.length === 5 ? String.fromCharCode(Number.parseInt(c.slice(1), 16)) : ({n: '\n', r: '\r', t: '\t', f: '\f'} as Record<string, string>)[c] ?? c))
    out.set(unescape(match[1]!), unescape(match[2] ?? ''))
  }
  return out
}

/** The file a setting names; a SecurityConfigError naming the setting when it cannot be read. */
function readSetting(key: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new SecurityConfigError(`${key}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

function readPem(key: string, path: string): string {
  return readSetting(key, path).toString('utf8')
}

/** Security settings from client properties (Kafka's names, or librdkafka's where noted above). */
export function securityFromProperties(props: ReadonlyMap<string, string>): SecuritySettings {
  const get = (...keys: string[]) => {
    for (const k of keys) {
      const v = props.get(k)
      if (v !== undefined && v.trim() !== '') return v.trim()
    }
    return undefined
  }
  const protocol = (get('security.protocol') ?? 'PLAINTEXT').toUpperCase()
  if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new SecurityConfigError(`security.protocol: "${protocol}" is not one of ${SECURITY_PROTOCOLS.join(', ')}`)
  }
  const settings: SecuritySettings = {protocol: protocol as SecurityProtocol}

  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const mechanism = (get('sasl.mechanism', 'sasl.mechanisms') ?? 'GSSAPI').toUpperCase()
    if (mechanism !== 'PLAIN' && !isScramMechanism(mechanism)) {
      throw new SecurityConfigError(`sasl.mechanism: ${mechanism} is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)${mechanism === 'GSSAPI' ? '; GSSAPI is the default: set sasl.mechanism' : ''}`)
    }
    const jaas = get('sasl.jaas.config')
    let options = new Map<string, string>()
    if (jaas !== undefined) {
      try {
        options = parseJaasConfig(jaas).options
      } catch (error) {
        if (error instanceof JaasConfigError) throw new SecurityConfigError(`sasl.jaas.config: ${error.message}`)
        throw error
      }
    }
    const username = get('sasl.username') ?? options.get('username')
    const password = get('sasl.password') ?? options.get('password')
    if (username === undefined || password === undefined) {
      throw new SecurityConfigError(`${mechanism} needs a username and a password: sasl.jaas.config (username="..." password="...") or sasl.username and sasl.password`)
    }
    settings.sasl = {mechanism: mechanism as SaslMechanism, password, username}
  }

  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const tls: TlsOptions = {}
    const truststoreType = (get('ssl.truststore.type') ?? 'PEM').toUpperCase()
    const caLocation = get('ssl.ca.location', 'ssl.truststore.location')
    const caInline = get('ssl.truststore.certificates', 'ssl.ca.pem')
    if (caLocation !== undefined || caInline !== undefined) {
      if (truststoreType !== 'PEM' && get('ssl.ca.location') === undefined) {
        throw new SecurityConfigError(`ssl.truststore.type: ${truststoreType} is not supported; use a PEM file of CA certificates (ssl.truststore.type=PEM; e.g. keytool -exportcert -rfc, or openssl pkcs12 -nokeys)`)
      }
      tls.ca = caInline ?? readPem(props.has('ssl.ca.location') ? 'ssl.ca.location' : 'ssl.truststore.location', caLocation!)
    }
    const keystoreType = (get('ssl.keystore.type') ?? 'PEM').toUpperCase()
    const keyPassword = get('ssl.key.password', 'ssl.keystore.password')
    if (keystoreType === 'PKCS12') {
      const location = get('ssl.keystore.location')
      if (location === undefined) throw new SecurityConfigError('ssl.keystore.location: required with ssl.keystore.type=PKCS12')
      tls.pfx = readSetting('ssl.keystore.location', location)
      tls.passphrase = get('ssl.keystore.password')
    } else if (keystoreType === 'PEM') {
      /** The PEM file a setting names, if it is set. */
      const pemAt = (key: string) => {
        const path = get(key)
        return path === undefined ? undefined : readPem(key, path)
      }
      const chain = get('ssl.keystore.certificate.chain') ?? pemAt('ssl.certificate.location')
      const key = get('ssl.keystore.key') ?? pemAt('ssl.key.location')
      const both = pemAt('ssl.keystore.location')
      const cert = chain ?? both
      const privateKey = key ?? both
      if ((cert === undefined) !== (privateKey === undefined)) throw new SecurityConfigError('ssl.keystore: a client certificate needs both the certificate chain and the private key')
      if (cert !== undefined) {
        tls.cert = cert
        tls.key = privateKey
        if (keyPassword !== undefined) tls.passphrase = keyPassword
      }
    } else {
      throw new SecurityConfigError(`ssl.keystore.type: ${keystoreType} is not supported; use PEM or PKCS12 (keytool -importkeystore -deststoretype PKCS12 converts a JKS keystore)`)
    }
    const verify = get('enable.ssl.certificate.verification')
    if (verify !== undefined && verify.toLowerCase() === 'false') tls.rejectUnauthorized = false
    const identification = props.get('ssl.endpoint.identification.algorithm')
    if (identification !== undefined && (identification.trim() === '' || identification.trim().toLowerCase() === 'none')) tls.checkServerIdentity = () => undefined
    settings.tls = tls
  }
  return settings
}
