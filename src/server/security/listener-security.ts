/**
 * What each listener asks of its clients, resolved from the broker configs at start (a ConfigError
 * naming the key stops the broker): its security protocol (listener.security.protocol.map), TLS
 * (tls-config.ts) for SSL and SASL_SSL, and for SASL_PLAINTEXT and SASL_SSL the SASL mechanisms
 * (sasl.enabled.mechanisms, or listener.name.<listener>.sasl.enabled.mechanisms) and PLAIN's users.
 *
 * kcli serves PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (Kafka's default, GSSAPI, and OAUTHBEARER are
 * refused at start). PLAIN's users are the `user_<name>="<password>"` options of the
 * PlainLoginModule entry in listener.name.<listener>.plain.sasl.jaas.config, as Kafka's broker
 * reads them; where that is not set kcli reads sasl.jaas.config (Kafka's broker ignores an
 * unprefixed sasl.jaas.config and falls back to a JAAS file's KafkaServer section, which kcli does
 * not read). SCRAM's credentials are in the metadata store (AlterUserScramCredentials); a SCRAM
 * JAAS entry is not needed, and is only checked for syntax when given.
 */
import {type ResolvedBrokerConfig, type ResolvedListener, type SecurityProtocol} from '../../lib/config/broker-configs.js'
import {ConfigError} from '../../lib/config/config-def.js'
import {JaasConfigError, PLAIN_LOGIN_MODULE, parseJaasConfig, plainUsers} from '../../lib/sasl/jaas.js'
import {HIDDEN, type ListenerTls, resolveListenerTls} from './tls-config.js'

export const SUPPORTED_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const

export interface ListenerSasl {
  /** Enabled mechanisms, in config order (the SaslHandshake response lists them so). */
  mechanisms: string[]
  /** PLAIN's users and passwords (empty unless PLAIN is enabled). */
  plainUsers: ReadonlyMap<string, string>
  /** sasl.server.max.receive.size: the largest request before authentication completes. */
  maxReceiveSize: number
  /** connections.max.reauth.ms (KIP-368, issue 15): a session's lifetime, 0 when sessions do not expire. */
  reauthMs?: number
}

export interface ListenerSecurity {
  listenerName: string
  protocol: SecurityProtocol
  tls?: ListenerTls
  sasl?: ListenerSasl
}

export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL'
}

export function usesSasl(protocol: SecurityProtocol): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL'
}

function resolveSasl(config: ResolvedBrokerConfig, listener: string): ListenerSasl {
  const enabled = config.listenerConfig(listener, 'sasl.enabled.mechanisms')
  const mechanisms = (enabled.value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  if (mechanisms.length === 0) throw new ConfigError(enabled.key, enabled.value, `SASL listener ${listener} needs at least one SASL mechanism (kcli supports ${SUPPORTED_SASL_MECHANISMS.join(', ')})`)
  for (const m of mechanisms) {
    if (!(SUPPORTED_SASL_MECHANISMS as readonly string[]).includes(m)) {
      throw new ConfigError(enabled.key, enabled.value, `SASL mechanism ${m} of listener ${listener} is not supported by kcli (supported: ${SUPPORTED_SASL_MECHANISMS.join(', ')})`)
    }
  }
  let users = new Map<string, string>()
  for (const mechanism of mechanisms) {
    const prefixed = `listener.name.${listener.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`
    const key = config.explicit[prefixed] !== undefined ? prefixed : config.get('sasl.jaas.config') !== null ? 'sasl.jaas.config' : null
    if (key === null) {
      if (mechanism === 'PLAIN') throw new ConfigError(prefixed, null, `SASL/PLAIN on listener ${listener} needs its users: set ${prefixed} (or sasl.jaas.config) to ${PLAIN_LOGIN_MODULE} required user_<name>="<password>" ...;`)
      continue
    }
    let entry
    try {
      entry = parseJaasConfig(config.explicit[key] ?? config.get(key)!)
    } catch (error) {
      if (error instanceof JaasConfigError) throw new ConfigError(key, HIDDEN, error.message)
      throw error
    }
    if (mechanism === 'PLAIN') {
      if (entry.loginModule !== PLAIN_LOGIN_MODULE) throw new ConfigError(key, HIDDEN, `SASL/PLAIN on listener ${listener} reads its users from ${PLAIN_LOGIN_MODULE}, not ${entry.loginModule}`)
      users = plainUsers(entry)
    }
  }
  const reauth = config.listenerConfig(listener, 'connections.max.reauth.ms')
  return {mechanisms, plainUsers: users, maxReceiveSize: config.int('sasl.server.max.receive.size'), reauthMs: Number(reauth.value ?? 0)}
}

/** The security of one listener; throws ConfigError naming the key at fault. */
export function resolveListenerSecurity(config: ResolvedBrokerConfig, listener: ResolvedListener): ListenerSecurity {
  const protocol = listener.securityProtocol
  const out: ListenerSecurity = {listenerName: listener.name, protocol}
  if (usesTls(protocol)) out.tls = resolveListenerTls(config, listener.name)
  if (usesSasl(protocol)) out.sasl = resolveSasl(config, listener.name)
  return out
}
