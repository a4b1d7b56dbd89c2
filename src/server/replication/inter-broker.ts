/**
 * How brokers reach each other (replica fetches, transaction markers): over the listener named by
 * `inter.broker.listener.name` (default: the first listener), at the address each broker
 * registered for it, with that listener's security as a client — TLS trusting the listener's
 * truststore (and presenting its keystore, for listeners that ask for client certificates), SASL
 * with `sasl.mechanism.inter.broker.protocol` and the username and password of the listener's JAAS
 * config, as Kafka brokers take their inter-broker credentials. Resolved once at start: a setting
 * that cannot work is a ConfigError naming its key.
 */
import type {ConnectionOptions as TlsConnectionOptions} from 'node:tls'
import {ConfigError} from '../../lib/config/config-def.js'
import type {ResolvedBrokerConfig} from '../../lib/config/broker-configs.js'
import type {SecuritySettings, SaslMechanism} from '../../lib/client/security.js'
import {parseJaasConfig} from '../../lib/sasl/jaas.js'
import type {BrokerRegistration} from '../controller/metadata-store.js'
import {SUPPORTED_SASL_MECHANISMS, usesSasl, usesTls} from '../security/listener-security.js'
import {resolveListenerTls} from '../security/tls-config.js'

export interface InterBrokerClient {
  listenerName: string
  security: SecuritySettings
  /** Where a registered broker listens for other brokers. */
  endpoint(broker: BrokerRegistration): {host: string; port: number}
}

export function resolveInterBrokerClient(config: ResolvedBrokerConfig): InterBrokerClient {
  const configured = config.get('inter.broker.listener.name')
  const listener = configured ? config.listeners.find((l) => l.name === configured) : config.listeners[0]
  if (!listener) throw new ConfigError('inter.broker.listener.name', configured, `no listener is named ${configured} (listeners: ${config.listeners.map((l) => l.name).join(', ')})`)
  const protocol = listener.securityProtocol
  const security: SecuritySettings = {protocol}
  if (usesTls(protocol)) {
    const server = resolveListenerTls(config, listener.name).options
    const tls: TlsConnectionOptions = {ca: server.ca, rejectUnauthorized: server.ca !== undefined}
    // The broker's own certificate, for listeners that require client certificates.
    if (server.pfx !== undefined) Object.assign(tls, {pfx: server.pfx, passphrase: server.passphrase})
    else if (server.cert !== undefined) Object.assign(tls, {cert: server.cert, key: server.key, passphrase: server.passphrase})
    security.tls = tls
  }
  if (usesSasl(protocol)) {
    const mechanism = config.get('sasl.mechanism.inter.broker.protocol') ?? 'GSSAPI'
    if (!(SUPPORTED_SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new ConfigError('sasl.mechanism.inter.broker.protocol', mechanism, `the inter-broker listener ${listener.name} uses SASL: set sasl.mechanism.inter.broker.protocol to one of ${SUPPORTED_SASL_MECHANISMS.join(', ')}`)
    }
    const key = `listener.name.${listener.name.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`
    const jaas = config.explicit[key] ?? config.get('sasl.jaas.config')
    const options = jaas ? parseJaasConfig(jaas).options : new Map<string, string>()
    const username = options.get('username')
    const password = options.get('password')
    if (username === undefined || password === undefined) {
      throw new ConfigError(key, jaas ? '[hidden]' : null, `brokers authenticate to each other on ${listener.name} with ${mechanism}: give the JAAS config username="..." password="..." (a user the listener accepts)`)
    }
    security.sasl = {mechanism: mechanism as SaslMechanism, username, password}
  }
  const name = listener.name
  return {
    listenerName: name,
    security,
    endpoint: (broker) => {
      const l = broker.listeners?.find((x) => x.name === name)
      return l ? {host: l.host, port: l.port} : {host: broker.host, port: broker.port}
    },
  }
}
