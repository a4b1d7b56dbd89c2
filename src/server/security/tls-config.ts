/**
 * The TLS side of an SSL or SASL_SSL listener: node:tls server options from Kafka's ssl.* configs
 * (each also readable per listener as listener.name.<listener>.ssl.*), checked at start so that a
 * bad keystore stops the broker with a ConfigError naming the key instead of failing handshakes.
 *
 * Keystores (the broker's key and certificate chain), with Kafka's rules for combining the keys
 * (DefaultSslEngineFactory.createKeystore):
 * - ssl.keystore.type=PKCS12: ssl.keystore.location + ssl.keystore.password (node:tls opens the
 *   whole file with that one password; ssl.key.password is not used);
 * - ssl.keystore.type=PEM: ssl.keystore.location, a file with the private key and the certificate
 *   chain, or inline ssl.keystore.key + ssl.keystore.certificate.chain (KIP-651); an encrypted key
 *   takes ssl.key.password; ssl.keystore.password must not be set. Unlike Kafka, an unencrypted
 *   PEM key file needs no ssl.key.password;
 * - JKS (Kafka's default type) cannot be read by node: a clear error says how to convert it.
 * Truststores (CAs that client certificates must chain to, used with ssl.client.auth): PEM only,
 * ssl.truststore.location or inline ssl.truststore.certificates; without one, node's bundled root
 * CAs (as Java falls back to its cacerts). PKCS12 and JKS truststores: an error says how to convert.
 *
 * ssl.client.auth: none (no client certificate asked), requested (asked; one that is presented must
 * verify, as Java's wantClientAuth), required. ssl.enabled.protocols gives node's minVersion and
 * maxVersion (the lowest and highest listed). Not implemented: ssl.cipher.suites (Java's cipher
 * names). ssl.principal.mapping.rules (principal-mapper.ts) maps the certificate's subject to the principal.
 */
import {readFileSync} from 'node:fs'
import {createSecureContext, type SecureVersion, type TlsOptions} from 'node:tls'

import {type ResolvedBrokerConfig, TLS_PROTOCOLS} from '../../lib/config/broker-configs.js'
import {ConfigError} from '../../lib/config/config-def.js'
import {parsePrincipalMappingRules} from './principal-mapper.js'

export type ClientAuth = 'none' | 'requested' | 'required'

export interface ListenerTls {
  /** Options for tls.createServer (key material, CA, protocol bounds, client certificates). */
  options: TlsOptions
  clientAuth: ClientAuth
  /** ssl.principal.mapping.rules: a client certificate's distinguished name -> the principal's name (throws when no rule applies). */
  mapPrincipal?: (dn: string) => string
}

/** What a ConfigError shows instead of a secret value, as Kafka's Password.toString does. */
export const HIDDEN = '[hidden]'

/**
 * PEM blocks with their base64 bodies re-wrapped: a value joined from several properties-file lines
 * (`\` continuations drop the line breaks, as they do for Kafka's inline PEM values) still loads.
 */
export function normalizePem(text: string): string {
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)]
  return blocks
    .map(([whole, label, body]) => {
      // Encrypted traditional keys carry headers (Proc-Type, DEK-Info) whose line breaks matter.
      if (body!.includes(':')) return whole
      const b64 = body!.replace(/\s+/g, '')
      return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END ${label}-----\n`
    })
    .join('')
}

function pemBlocks(pem: string, kind: 'key' | 'certificate'): string {
  const re = kind === 'key' ? /-----BEGIN ((ENCRYPTED |RSA |EC |DSA )?PRIVATE KEY)-----[\s\S]*?-----END \1-----\n?/g : /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g
  return [...normalizePem(pem).matchAll(re)].map((m) => m[0]).join('')
}

/** The TLS options of one listener, or a ConfigError naming the key that is wrong. */
export function resolveListenerTls(config: ResolvedBrokerConfig, listener: string): ListenerTls {
  const get = (name: string) => config.listenerConfig(listener, name)
  const text = (name: string) => get(name).value ?? null
  const readFile = (name: string, what: string): Buffer => {
    const {key, value} = get(name)
    try {
      return readFileSync(value!)
    } catch (error) {
      throw new ConfigError(key, value, `Cannot read the ${what} of listener ${listener}: ${(error as Error).message}`)
    }
  }

  const options: TlsOptions = {}

  // Keystore.
  const keystoreType = get('ssl.keystore.type')
  const type = (keystoreType.value ?? 'JKS').toUpperCase()
  const location = text('ssl.keystore.location')
  const storePassword = text('ssl.keystore.password')
  const keyPassword = text('ssl.key.password')
  const inlineKey = text('ssl.keystore.key')
  const inlineChain = text('ssl.keystore.certificate.chain')
  const pemOnly = (name: string) => new ConfigError(get(name).key, HIDDEN, `SSL private key can be specified only for PEM, but key store type is ${keystoreType.value}.`)
  if (inlineKey !== null) {
    if (type !== 'PEM') throw pemOnly('ssl.keystore.key')
    if (inlineChain === null) throw new ConfigError(get('ssl.keystore.certificate.chain').key, null, 'SSL private key is specified, but certificate chain is not specified.')
    if (location !== null) throw new ConfigError(get('ssl.keystore.location').key, location, 'Both SSL key store location and separate private key are specified.')
    if (storePassword !== null) throw new ConfigError(get('ssl.keystore.password').key, HIDDEN, 'SSL key store password cannot be specified with PEM format, only key password may be specified.')
    options.key = pemBlocks(inlineKey, 'key')
    options.cert = pemBlocks(inlineChain, 'certificate')
    if (options.key === '') throw new ConfigError(get('ssl.keystore.key').key, HIDDEN, 'No PEM private key (-----BEGIN PRIVATE KEY-----) found.')
    if (options.cert === '') throw new ConfigError(get('ssl.keystore.certificate.chain').key, HIDDEN, 'No PEM certificate (-----BEGIN CERTIFICATE-----) found.')
    if (keyPassword !== null) options.passphrase = keyPassword
  } else if (inlineChain !== null) {
    throw new ConfigError(get('ssl.keystore.key').key, null, 'SSL certificate chain is specified, but private key is not specified')
  } else if (type === 'JKS' && (location !== null || config.explicit[keystoreType.key] !== undefined)) {
    throw new ConfigError(
      keystoreType.key,
      keystoreType.value,
      'JKS keystores cannot be read by kcli: convert the keystore to PKCS12 (keytool -importkeystore -srckeystore server.keystore.jks -destkeystore server.keystore.p12 -deststoretype PKCS12) and set ssl.keystore.type=PKCS12, or use PEM (ssl.keystore.type=PEM)',
    )
  } else if (location === null) {
    throw new ConfigError(get('ssl.keystore.location').key, null, `Listener ${listener} uses TLS and needs a keystore: ssl.keystore.location (ssl.keystore.type PKCS12 or PEM), or ssl.keystore.certificate.chain and ssl.keystore.key (ssl.keystore.type=PEM)`)
  } else if (type === 'PKCS12') {
    if (storePassword === null) throw new ConfigError(get('ssl.keystore.password').key, null, 'SSL key store is specified, but key store password is not specified.')
    options.pfx = readFile('ssl.keystore.location', 'PKCS12 keystore')
    options.passphrase = storePassword
  } else if (type === 'PEM') {
    if (storePassword !== null) throw new ConfigError(get('ssl.keystore.password').key, HIDDEN, 'SSL key store password cannot be specified with PEM format, only key password may be specified')
    const pem = readFile('ssl.keystore.location', 'PEM keystore').toString('utf8')
    options.key = pemBlocks(pem, 'key')
    options.cert = pemBlocks(pem, 'certificate')
    if (options.key === '' || options.cert === '') throw new ConfigError(get('ssl.keystore.location').key, location, 'The PEM keystore needs a private key (-----BEGIN PRIVATE KEY-----) and its certificate chain (-----BEGIN CERTIFICATE-----)')
    if (keyPassword !== null) options.passphrase = keyPassword
  } else {
    throw new ConfigError(keystoreType.key, keystoreType.value, 'kcli reads PKCS12 and PEM keystores')
  }

  // Truststore.
  const trustType = get('ssl.truststore.type')
  const trustLocation = text('ssl.truststore.location')
  const trustCerts = text('ssl.truststore.certificates')
  const trustPassword = text('ssl.truststore.password')
  const trustUpper = (trustType.value ?? 'JKS').toUpperCase()
  if (trustCerts !== null || trustLocation !== null) {
    if (trustCerts !== null && trustUpper !== 'PEM') throw new ConfigError(trustType.key, trustType.value, `SSL trust store certs can be specified only for PEM, but trust store type is ${trustType.value}.`)
    if (trustUpper !== 'PEM') {
      throw new ConfigError(trustType.key, trustType.value, `${trustType.value} truststores cannot be read by kcli: convert the truststore to PEM (keytool -exportcert -rfc -keystore truststore -alias <ca> > ca.pem, or openssl pkcs12 -in truststore.p12 -nokeys -out ca.pem) and set ssl.truststore.type=PEM`)
    }
    if (trustPassword !== null) throw new ConfigError(get('ssl.truststore.password').key, HIDDEN, 'SSL trust store password cannot be specified for PEM format.')
    if (trustCerts !== null && trustLocation !== null) throw new ConfigError(get('ssl.truststore.location').key, trustLocation, 'Both SSL trust store location and separate trust certificates are specified.')
    const pem = trustCerts ?? readFile('ssl.truststore.location', 'PEM truststore').toString('utf8')
    const ca = pemBlocks(pem, 'certificate')
    if (ca === '') throw new ConfigError(trustCerts !== null ? get('ssl.truststore.certificates').key : get('ssl.truststore.location').key, trustCerts !== null ? HIDDEN : trustLocation, 'No PEM certificate (-----BEGIN CERTIFICATE-----) found.')
    options.ca = ca
  } else if (trustPassword !== null) {
    throw new ConfigError(get('ssl.truststore.password').key, HIDDEN, 'SSL trust store is not specified, but trust store password is specified.')
  }

  // Client certificates.
  const clientAuthValue = get('ssl.client.auth')
  const clientAuth = (clientAuthValue.value ?? 'none').toLowerCase() as ClientAuth
  if (!['none', 'requested', 'required'].includes(clientAuth)) throw new ConfigError(clientAuthValue.key, clientAuthValue.value, 'String must be one of: required, requested, none')
  options.requestCert = clientAuth !== 'none'
  // "requested" accepts a connection without a certificate; SocketServer closes one whose certificate does not verify.
  options.rejectUnauthorized = clientAuth === 'required'

  // Protocol versions.
  const protocolsValue = get('ssl.enabled.protocols')
  const protocols = (protocolsValue.value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  if (protocols.length === 0) throw new ConfigError(protocolsValue.key, protocolsValue.value, 'At least one TLS protocol must be enabled')
  const order: readonly string[] = TLS_PROTOCOLS
  for (const p of protocols) if (!order.includes(p)) throw new ConfigError(protocolsValue.key, protocolsValue.value, `String must be one of: ${TLS_PROTOCOLS.join(', ')}`)
  const ranks = protocols.map((p) => order.indexOf(p))
  options.minVersion = order[Math.min(...ranks)] as SecureVersion
  options.maxVersion = order[Math.max(...ranks)] as SecureVersion

  // Load it all once now: a wrong password, a key that does not match its certificate or a
  // malformed file is a start-up error, not a failed handshake later.
  try {
    createSecureContext(options)
  } catch (error) {
    const message = (error as Error).message
    const locationKey = get('ssl.keystore.location').key
    let key: string
    if (options.pfx) key = /mac verify|password/i.test(message) ? get('ssl.keystore.password').key : locationKey
    else if (/decrypt|password|passphrase|interrupted or cancelled/i.test(message)) key = get('ssl.key.password').key
    else key = inlineKey !== null ? get('ssl.keystore.key').key : locationKey
    throw new ConfigError(key, key === locationKey ? location : HIDDEN, `Cannot load the keystore of listener ${listener}: ${message}`)
  }
  const rules = get('ssl.principal.mapping.rules')
  return {options, clientAuth, mapPrincipal: parsePrincipalMappingRules(rules.value ?? 'DEFAULT', rules.key)}
}
