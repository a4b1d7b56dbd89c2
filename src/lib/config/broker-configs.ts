/**
 * The broker configs kcli reads, with Kafka 4.0's names and defaults, and how they resolve into
 * topic defaults (log.retention.hours -> retention.ms, log.segment.bytes -> segment.bytes, ...).
 * Values come from a server.properties file, `--override key=value` flags and KCLI_* environment
 * variables (KCLI_LOG_DIRS -> log.dirs), later sources winning.
 *
 * `readOnly` is Kafka's "read-only" update mode: AlterConfigs and IncrementalAlterConfigs refuse
 * to change the config at runtime. The others are Kafka's "cluster-wide" configs, stored as
 * dynamic broker configs in the metadata store; the log.* topic defaults among them take effect on
 * every topic at once. max.connections and producer.id.expiration.ms are dynamic in Kafka but
 * read-only here, because kcli reads them only at start.
 */
import {type ConfigDefinition, ConfigDefs, ConfigError, LONG_MAX, parseConfigValue} from './config-def.js'
import {type MetadataStoreLocation, parseMetadataStoreLocation} from './metadata-store-location.js'
import {TOPIC_CONFIGS} from './topic-configs.js'

const INT_MAX = '2147483647'

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number]
const DEFAULT_PROTOCOL_MAP = 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL'
/** The TLS versions node:tls knows, by Kafka's (Java's) names. */
export const TLS_PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const

/** Broker configs that supply topic defaults under the same name as a topic config's synonym. */
const LOG_DEFAULTS: ConfigDefinition[] = TOPIC_CONFIGS.definitions
  .filter((d) => d.brokerSynonym !== undefined)
  .map((d) => ({...d, name: d.brokerSynonym!, brokerSynonym: undefined}))

export const BROKER_CONFIGS = new ConfigDefs([
  {name: 'node.id', type: 'int', default: '1', min: 0, readOnly: true, doc: 'The broker id (kcli defaults it to 1 for the embedded single broker).'},
  {name: 'broker.id', type: 'int', default: '-1', min: -1, readOnly: true, doc: 'Alias of node.id.'},
  {name: 'metadata.store', type: 'string', default: null, readOnly: true, doc: "Where the cluster's metadata lives: empty or 'local' (the embedded store in the data directory, one broker), or etcd://host:port[,host:port...][/prefix] (a cluster of brokers sharing an etcd; default prefix /kcli)."},
  {name: 'broker.session.timeout.ms', type: 'int', default: '9000', min: 1, readOnly: true, doc: "How long a broker's etcd session (its registration, and the controllership if it holds it) lives without a heartbeat answered."},
  {name: 'broker.heartbeat.interval.ms', type: 'int', default: '2000', min: 1, readOnly: true, doc: "How often a broker renews its etcd session (at most a third of broker.session.timeout.ms)."},
  {name: 'inter.broker.listener.name', type: 'string', default: null, readOnly: true, doc: 'The listener brokers use to reach each other (replica fetches, transaction markers); default: the first listener.'},
  {name: 'sasl.mechanism.inter.broker.protocol', type: 'string', default: 'GSSAPI', readOnly: true, doc: 'The SASL mechanism brokers use on a SASL inter-broker listener (kcli: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); its credentials come from the username and password of the listener\'s JAAS config.'},
  {name: 'controlled.shutdown.enable', type: 'boolean', default: 'true', readOnly: true, doc: 'On SIGTERM, move leadership off this broker and out of the ISRs before it stops (a cluster on etcd).'},
  {name: 'controlled.shutdown.max.retries', type: 'int', default: '3', min: 1, readOnly: true, doc: 'Rounds of controlled.shutdown.retry.backoff.ms a controlled shutdown waits for leadership to move before stopping anyway.'},
  {name: 'controlled.shutdown.retry.backoff.ms', type: 'long', default: '5000', min: 0, readOnly: true, doc: 'Length of one round of a controlled shutdown.'},
  {name: 'auto.leader.rebalance.enable', type: 'boolean', default: 'true', readOnly: true, doc: 'The controller moves leadership back to preferred replicas when a broker is too imbalanced.'},
  {name: 'leader.imbalance.per.broker.percentage', type: 'int', default: '10', min: 0, readOnly: true, doc: 'Share of its preferred partitions a broker may not lead before the controller rebalances.'},
  {name: 'leader.imbalance.check.interval.seconds', type: 'long', default: '300', min: 1, readOnly: true, doc: 'How often the controller checks leader imbalance.'},
  {name: 'leader.replication.throttled.rate', type: 'long', default: LONG_MAX, min: 0, doc: 'Bytes per second a leader sends to the throttled replicas of leader.replication.throttled.replicas (kcli throttles on the follower side only).'},
  {name: 'follower.replication.throttled.rate', type: 'long', default: LONG_MAX, min: 0, doc: 'Bytes per second this broker copies into out-of-sync replicas listed in follower.replication.throttled.replicas (reassignment).'},
  {name: 'replica.alter.log.dirs.io.max.bytes.per.second', type: 'long', default: LONG_MAX, min: 0, doc: 'Throttle of moves between log directories (kcli has one log directory: accepted, never used).'},
  {name: 'replica.lag.time.max.ms', type: 'long', default: '30000', min: 1, readOnly: true, doc: 'A follower that has not caught up with the leader for this long leaves the ISR.'},
  {name: 'replica.fetch.max.bytes', type: 'int', default: '1048576', min: 0, readOnly: true, doc: 'Bytes a follower asks for per partition in one replica fetch.'},
  {name: 'replica.fetch.response.max.bytes', type: 'int', default: '10485760', min: 0, readOnly: true, doc: 'Bytes a follower asks for in one replica fetch response.'},
  {name: 'replica.fetch.wait.max.ms', type: 'int', default: '500', min: 0, readOnly: true, doc: 'How long a replica fetch waits at the leader for data.'},
  {name: 'replica.fetch.min.bytes', type: 'int', default: '1', min: 1, readOnly: true, doc: 'Bytes a replica fetch waits for at the leader.'},
  {name: 'replica.fetch.backoff.ms', type: 'int', default: '1000', min: 0, readOnly: true, doc: 'How long a follower waits after a failed replica fetch.'},
  {name: 'replica.socket.timeout.ms', type: 'int', default: '30000', min: 1, readOnly: true, doc: 'Timeout of a replica fetch request.'},
  {name: 'min.insync.replicas', type: 'int', default: '1', min: 1, doc: 'Minimum in-sync replicas for acks=all (the topic config min.insync.replicas defaults to it).'},
  {name: 'unclean.leader.election.enable', type: 'boolean', default: 'false', doc: 'Elect a replica outside the ISR when no ISR member is alive (data loss).'},
  {name: 'transaction.state.log.replication.factor', type: 'int', default: '3', min: 1, readOnly: true, doc: 'Replication factor of __transaction_state; in a cluster it is not created until that many brokers are registered (with the local store: capped at the one broker).'},
  {name: 'transaction.state.log.min.isr', type: 'int', default: '2', min: 1, readOnly: true, doc: 'min.insync.replicas of __transaction_state.'},
  {name: 'broker.rack', type: 'string', default: null, readOnly: true, doc: 'The rack of this broker, for rack-aware replica placement.'},
  {name: 'listeners', type: 'list', default: 'PLAINTEXT://127.0.0.1:9092', readOnly: true, doc: 'Listeners: name://host:port, comma-separated.'},
  {name: 'advertised.listeners', type: 'list', default: null, readOnly: true, doc: 'Listeners given to clients in Metadata, when they differ from listeners.'},
  {name: 'log.dirs', type: 'string', default: null, readOnly: true, doc: 'The data directory (kcli uses one).'},
  {name: 'log.dir', type: 'string', default: null, readOnly: true, doc: 'The data directory when log.dirs is not set.'},
  {name: 'num.partitions', type: 'int', default: '1', min: 1, readOnly: true, doc: 'Partitions of an auto-created topic.'},
  {name: 'default.replication.factor', type: 'int', default: '1', min: 1, readOnly: true, doc: 'Replication factor of an auto-created topic.'},
  {name: 'auto.create.topics.enable', type: 'boolean', default: 'true', readOnly: true, doc: 'Create a topic when a client asks for its metadata.'},
  {name: 'delete.topic.enable', type: 'boolean', default: 'true', readOnly: true, doc: 'Allow DeleteTopics.'},
  {name: 'socket.request.max.bytes', type: 'int', default: '104857600', min: 1, readOnly: true, doc: 'Largest request frame accepted; bigger ones close the connection.'},
  {name: 'connections.max.idle.ms', type: 'long', default: '600000', readOnly: true, doc: 'Idle connections are closed after this long.'},
  {name: 'max.connections', type: 'int', default: INT_MAX, min: 0, readOnly: true, doc: 'Most connections the broker accepts at once.'},
  {name: 'queued.max.request.bytes', type: 'long', default: '-1', readOnly: true, doc: 'Bytes of requests read ahead per connection before reading pauses (-1: kcli uses 16 MiB).'},
  {name: 'log.retention.hours', type: 'int', default: '168', doc: 'Retention time in hours (retention.ms default).'},
  {name: 'log.retention.minutes', type: 'int', default: null, doc: 'Retention time in minutes; overrides log.retention.hours.'},
  {name: 'log.retention.ms', type: 'long', default: null, doc: 'Retention time in ms; overrides minutes and hours.'},
  {name: 'log.roll.hours', type: 'int', default: '168', min: 1, doc: 'Roll a segment after this long (segment.ms default).'},
  {name: 'log.roll.ms', type: 'long', default: null, doc: 'Roll time in ms; overrides log.roll.hours.'},
  {name: 'log.flush.interval.ms', type: 'long', default: null, doc: 'fsync after this long (flush.ms default).'},
  {name: 'log.retention.check.interval.ms', type: 'long', default: '300000', min: 1, readOnly: true, doc: 'How often retention runs.'},
  {name: 'log.flush.scheduler.interval.ms', type: 'long', default: LONG_MAX, readOnly: true, doc: 'How often the flusher checks flush.ms.'},
  {name: 'offsets.topic.num.partitions', type: 'int', default: '50', min: 1, readOnly: true, doc: 'Partitions of __consumer_offsets.'},
  {name: 'offsets.topic.replication.factor', type: 'int', default: '3', min: 1, readOnly: true, doc: 'Replication factor of __consumer_offsets; in a cluster it is not created until that many brokers are registered (with the local store: capped at the one broker).'},
  {name: 'offsets.retention.minutes', type: 'int', default: '10080', min: 1, readOnly: true, doc: 'Committed offsets of empty groups expire after this long.'},
  {name: 'group.initial.rebalance.delay.ms', type: 'int', default: '3000', readOnly: true, doc: 'Delay of the first rebalance of a new group.'},
  {name: 'offsets.commit.timeout.ms', type: 'int', default: '5000', min: 1, readOnly: true, doc: 'How long a write to __consumer_offsets waits for the ISR (acks=all) before it fails.'},
  {name: 'offsets.topic.segment.bytes', type: 'int', default: '104857600', min: 1, readOnly: true, doc: 'Segment size of __consumer_offsets.'},
  {name: 'offsets.retention.check.interval.ms', type: 'long', default: '600000', min: 1, readOnly: true, doc: 'How often expired offsets are looked for.'},
  {name: 'offset.metadata.max.bytes', type: 'int', default: '4096', min: 0, readOnly: true, doc: 'Largest metadata string an offset commit may carry.'},
  {name: 'group.min.session.timeout.ms', type: 'int', default: '6000', readOnly: true, doc: 'Smallest session timeout a classic group member may ask for.'},
  {name: 'group.max.session.timeout.ms', type: 'int', default: '1800000', readOnly: true, doc: 'Largest session timeout a classic group member may ask for.'},
  {name: 'group.max.size', type: 'int', default: INT_MAX, min: 1, readOnly: true, doc: 'Most members of a classic group.'},
  {name: 'group.coordinator.rebalance.protocols', type: 'list', default: 'classic,consumer', validValues: ['classic', 'consumer'], readOnly: true, doc: 'Group protocols the coordinator serves.'},
  {name: 'group.consumer.session.timeout.ms', type: 'int', default: '45000', min: 1, readOnly: true, doc: 'Session timeout of consumer-protocol (KIP-848) members.'},
  {name: 'group.consumer.heartbeat.interval.ms', type: 'int', default: '5000', min: 1, readOnly: true, doc: 'Heartbeat interval given to consumer-protocol members.'},
  {name: 'group.consumer.max.size', type: 'int', default: INT_MAX, min: 1, readOnly: true, doc: 'Most members of a consumer-protocol group.'},
  {name: 'group.consumer.assignors', type: 'list', default: 'uniform,range', validValues: ['uniform', 'range'], readOnly: true, doc: 'Server-side assignors of consumer-protocol groups; the first is the default.'},
  {name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms', type: 'int', default: '10000', min: 1, readOnly: true, doc: 'How often transactions open longer than their timeout are looked for and aborted.'},
  {name: 'transaction.max.timeout.ms', type: 'int', default: '900000', min: 1, readOnly: true, doc: 'Largest transaction timeout a producer may ask for.'},
  {name: 'transaction.state.log.num.partitions', type: 'int', default: '50', min: 1, readOnly: true, doc: 'Partitions of __transaction_state.'},
  {name: 'producer.id.expiration.ms', type: 'int', default: '86400000', min: 1, readOnly: true, doc: 'Idle producer ids are forgotten after this long.'},
  {name: 'process.roles', type: 'list', default: 'broker,controller', validValues: ['broker', 'controller'], readOnly: true, doc: 'Accepted for compatibility; kcli runs both roles.'},
  {name: 'listener.security.protocol.map', type: 'list', default: DEFAULT_PROTOCOL_MAP, readOnly: true, doc: 'The security protocol of each listener: NAME:PROTOCOL, comma-separated (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL).'},
  {name: 'sasl.enabled.mechanisms', type: 'list', default: 'GSSAPI', readOnly: true, doc: 'SASL mechanisms of the SASL listeners (kcli: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; listener.name.<listener>.sasl.enabled.mechanisms per listener).'},
  {name: 'sasl.jaas.config', type: 'password', default: null, readOnly: true, doc: 'JAAS login module configuration; kcli reads it for every SASL listener and mechanism without a listener.name.<listener>.<mechanism>.sasl.jaas.config (PLAIN users: user_<name>="<password>" options of PlainLoginModule).'},
  {name: 'sasl.server.max.receive.size', type: 'int', default: '524288', min: 1, readOnly: true, doc: 'Largest request accepted before a connection of a SASL listener has authenticated.'},
  {name: 'ssl.keystore.type', type: 'string', default: 'JKS', readOnly: true, doc: 'Format of the keystore: PKCS12 or PEM (JKS keystores must be converted).'},
  {name: 'ssl.keystore.location', type: 'string', default: null, readOnly: true, doc: 'The keystore file: a PKCS12 file, or a PEM file with the private key and certificate chain.'},
  {name: 'ssl.keystore.password', type: 'password', default: null, readOnly: true, doc: 'Password of a PKCS12 keystore.'},
  {name: 'ssl.key.password', type: 'password', default: null, readOnly: true, doc: 'Password of an encrypted PEM private key.'},
  {name: 'ssl.keystore.certificate.chain', type: 'password', default: null, readOnly: true, doc: 'The certificate chain in PEM, inline (with ssl.keystore.key and ssl.keystore.type=PEM).'},
  {name: 'ssl.keystore.key', type: 'password', default: null, readOnly: true, doc: 'The private key in PEM (PKCS#8), inline (with ssl.keystore.certificate.chain and ssl.keystore.type=PEM).'},
  {name: 'ssl.truststore.type', type: 'string', default: 'JKS', readOnly: true, doc: 'Format of the truststore: PEM (PKCS12 and JKS truststores must be converted).'},
  {name: 'ssl.truststore.location', type: 'string', default: null, readOnly: true, doc: 'The truststore file: PEM certificates of the CAs client certificates must chain to.'},
  {name: 'ssl.truststore.password', type: 'password', default: null, readOnly: true, doc: 'Password of the truststore (not used with PEM).'},
  {name: 'ssl.truststore.certificates', type: 'password', default: null, readOnly: true, doc: 'Trusted CA certificates in PEM, inline (with ssl.truststore.type=PEM).'},
  {name: 'ssl.client.auth', type: 'string', default: 'none', validValues: ['required', 'requested', 'none'], readOnly: true, doc: 'Client certificates on SSL listeners: required, requested (checked when presented) or none.'},
  {name: 'ssl.enabled.protocols', type: 'list', default: 'TLSv1.2,TLSv1.3', validValues: TLS_PROTOCOLS, readOnly: true, doc: 'TLS versions the SSL listeners accept (the lowest and highest bound the range).'},
  // --- authorization (issue 15) ---
  {name: 'authorizer.class.name', type: 'string', default: '', readOnly: true, doc: "The authorizer: any non-empty value (Kafka's is org.apache.kafka.metadata.authorizer.StandardAuthorizer) turns on kcli's StandardAuthorizer-compatible ACL checks; empty, every request is allowed."},
  {name: 'super.users', type: 'string', default: '', readOnly: true, doc: 'Principals that may do everything, semicolon-separated (User:admin;User:broker).'},
  {name: 'allow.everyone.if.no.acl.found', type: 'boolean', default: 'false', readOnly: true, doc: 'With an authorizer: allow everyone on a resource that has no ACL at all.'},
  {name: 'ssl.principal.mapping.rules', type: 'string', default: 'DEFAULT', readOnly: true, doc: "Rules mapping a TLS client certificate's distinguished name to a principal name (Kafka's SslPrincipalMapper syntax)."},
  // --- end authorization ---
  // ---- Client quotas and re-authentication (issue 15) ----
  {name: 'quota.window.num', type: 'int', default: '11', min: 1, readOnly: true, doc: 'Samples client quota rates are measured over.'},
  {name: 'quota.window.size.seconds', type: 'int', default: '1', min: 1, readOnly: true, doc: 'Length of one client quota sample.'},
  {name: 'connections.max.reauth.ms', type: 'long', default: '0', min: 0, readOnly: true, doc: 'SASL re-authentication (KIP-368): the session lifetime given to clients in SaslAuthenticate; a connection that outlives it without re-authenticating is closed at its next request (0: sessions do not expire). Per listener: listener.name.<listener>.connections.max.reauth.ms.'},
  // ---- end issue 15 ----
  // ---- Observability (issue 16) ----
  {name: 'metrics.listener', type: 'string', default: null, readOnly: true, doc: 'The HTTP listener of /metrics (Prometheus text format), /healthz and /readyz: http://host:port (port 0: any free port); empty or unset: off.'},
  {name: 'metrics.topic.labels.enable', type: 'boolean', default: 'true', readOnly: true, doc: 'Export the per-topic and per-partition series (BrokerTopicMetrics with a topic label, log size and segments per partition, consumer group lag); false keeps only the broker-wide ones, bounding the series whatever the number of topics.'},
  // ---- end issue 16 ----
  ...LOG_DEFAULTS,
] satisfies ConfigDefinition[])

export type BrokerConfigValues = Readonly<Record<string, string>>

export interface ListenerAddress {
  name: string
  host: string
  port: number
}

export interface ResolvedListener extends ListenerAddress {
  /** From listener.security.protocol.map. */
  securityProtocol: SecurityProtocol
}

/** A config as one listener sees it: Kafka's `listener.name.<listener lower-case>.<name>` first, then `<name>`. */
export interface ListenerConfigValue {
  /** The key the value came from (the listener-prefixed one when that is set), for error messages. */
  key: string
  value: string | null
}

export interface ResolvedBrokerConfig {
  /** Every config that was set explicitly (file, flags, env), as strings. */
  readonly explicit: BrokerConfigValues
  nodeId: number
  listeners: ResolvedListener[]
  advertisedListeners: ListenerAddress[]
  logDir: string | null
  /** metadata.store: the embedded local store or an etcd cluster. */
  metadataStore: MetadataStoreLocation
  /** metrics.listener (issue 16): where /metrics, /healthz and /readyz are served; null: off. */
  metricsListener: MetricsListenerAddress | null
  get(name: string): string | null
  /** `name` for one listener: its listener.name.<listener>.<name> override, else `name` (or its default). */
  listenerConfig(listener: string, name: string): ListenerConfigValue
  int(name: string): number
  bool(name: string): boolean
  /** Topic config defaults implied by the broker's log.* configs. */
  topicDefaults(): Record<string, string>
}

export interface MetricsListenerAddress {
  host: string
  port: number
}

/**
 * metrics.listener: `http://host:port` (IPv6 hosts in brackets; port 0 picks a free one), or empty
 * for none. Only plain HTTP: the endpoints carry no secret, and Prometheus scrapes it locally.
 */
export function parseMetricsListener(value: string | null): MetricsListenerAddress | null {
  if (value === null || value.trim() === '') return null
  const m = /^http:\/\/(\[[^\]]+\]|[^:/\[\]]+):(\d{1,5})\/?$/.exec(value.trim())
  if (!m || Number(m[2]) > 65535) throw new ConfigError('metrics.listener', value, 'Expected http://host:port (for example http://127.0.0.1:9404)')
  return {host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2])}
}

function parseListeners(key: string, value: string): ListenerAddress[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(l)
      if (!m || Number(m[3]) > 65535) throw new ConfigError(key, value, `Listener ${JSON.stringify(l)} is not of the form NAME://host:port`)
      return {name: m[1]!, host: m[2] === '' ? '0.0.0.0' : m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3])}
    })
}

/**
 * Validates explicit broker configs and resolves them. Unknown keys are kept (Kafka warns about
 * unused configs and starts); a known key with a bad value throws ConfigError naming the key.
 */
export function resolveBrokerConfig(explicit: BrokerConfigValues): ResolvedBrokerConfig {
  for (const [key, value] of Object.entries(explicit)) {
    const def = BROKER_CONFIGS.get(key) ?? listenerPrefixedDefinition(key)
    if (def) parseConfigValue(def, value)
  }
  const get = (name: string): string | null => explicit[name] ?? BROKER_CONFIGS.get(name)?.default ?? null
  const num = (name: string) => {
    const v = get(name)
    return v === null ? NaN : Number(parseConfigValue(BROKER_CONFIGS.get(name)!, v))
  }
  const nodeId = explicit['node.id'] !== undefined ? num('node.id') : explicit['broker.id'] !== undefined && num('broker.id') >= 0 ? num('broker.id') : num('node.id')
  const addresses = parseListeners('listeners', get('listeners')!)
  if (addresses.length === 0) throw new ConfigError('listeners', get('listeners'), 'At least one listener is required')
  const protocols = parseProtocolMap(get('listener.security.protocol.map')!)
  const listeners = addresses.map((l): ResolvedListener => {
    const securityProtocol = protocols.get(l.name.toUpperCase())
    if (!securityProtocol) throw new ConfigError('listener.security.protocol.map', get('listener.security.protocol.map'), `No security protocol defined for listener ${l.name}`)
    return {...l, securityProtocol}
  })
  const names = new Set<string>()
  for (const l of listeners) {
    if (names.has(l.name)) throw new ConfigError('listeners', get('listeners'), `Each listener must have a different name, listeners: ${get('listeners')}`)
    names.add(l.name)
  }
  let metadataStore: MetadataStoreLocation
  try {
    metadataStore = parseMetadataStoreLocation(get('metadata.store') ?? '')
  } catch (error) {
    throw new ConfigError('metadata.store', get('metadata.store'), (error as Error).message)
  }
  const metricsListener = parseMetricsListener(get('metrics.listener'))
  const advertised = get('advertised.listeners')
  const listenerConfig = (listener: string, name: string): ListenerConfigValue => {
    const prefixed = `listener.name.${listener.toLowerCase()}.${name}`
    if (explicit[prefixed] !== undefined) return {key: prefixed, value: explicit[prefixed]!}
    return {key: name, value: get(name)}
  }
  return {
    explicit,
    nodeId,
    listeners,
    advertisedListeners: advertised ? parseListeners('advertised.listeners', advertised) : addresses,
    logDir: (get('log.dirs') ?? get('log.dir'))?.split(',')[0]?.trim() ?? null,
    metadataStore,
    metricsListener,
    get,
    listenerConfig,
    int: num,
    bool: (name) => get(name) === 'true',
    topicDefaults() {
      const out: Record<string, string> = {}
      for (const def of TOPIC_CONFIGS.definitions) {
        const fromBroker = def.brokerSynonym ? explicit[def.brokerSynonym] : undefined
        if (fromBroker !== undefined) out[def.name] = fromBroker
      }
      const retentionMs = get('log.retention.ms') ?? (get('log.retention.minutes') !== null ? String(num('log.retention.minutes') * 60_000) : String(num('log.retention.hours') * 3_600_000))
      if (retentionMs !== '604800000') out['retention.ms'] = retentionMs
      const rollMs = get('log.roll.ms') ?? String(num('log.roll.hours') * 3_600_000)
      if (rollMs !== '604800000') out['segment.ms'] = rollMs
      const flushMs = get('log.flush.interval.ms')
      if (flushMs !== null) out['flush.ms'] = flushMs
      return out
    },
  }
}

/** listener.security.protocol.map: LISTENER_NAME:SECURITY_PROTOCOL pairs, keyed by the upper-cased listener name. */
function parseProtocolMap(value: string): Map<string, SecurityProtocol> {
  const out = new Map<string, SecurityProtocol>()
  for (const pair of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_]+)$/.exec(pair)
    if (!m) throw new ConfigError('listener.security.protocol.map', value, `Map entry ${JSON.stringify(pair)} is not of the form LISTENER_NAME:SECURITY_PROTOCOL`)
    const protocol = m[2]!.toUpperCase()
    if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) throw new ConfigError('listener.security.protocol.map', value, `Unknown security protocol ${m[2]} (one of ${SECURITY_PROTOCOLS.join(', ')})`)
    // Listener names are case-insensitive (Kafka's ListenerName.normalised upper-cases them).
    const name = m[1]!.toUpperCase()
    if (out.has(name)) throw new ConfigError('listener.security.protocol.map', value, `Listener ${m[1]} appears more than once`)
    out.set(name, protocol as SecurityProtocol)
  }
  return out
}

/**
 * The definition that checks a `listener.name.<listener>.<config>` value: the config's own, for
 * the configs kcli reads per listener (ssl.*, sasl.enabled.mechanisms; the per-mechanism
 * `<mechanism>.sasl.jaas.config` is a password). Other prefixed keys are kept unchecked.
 */
function listenerPrefixedDefinition(key: string): ConfigDefinition | undefined {
  const m = /^listener\.name\.[^.]+\.(.+)$/.exec(key)
  if (!m) return undefined
  const rest = m[1]!
  if (/^[a-z0-9-]+\.sasl\.jaas\.config$/.test(rest)) return {...BROKER_CONFIGS.get('sasl.jaas.config')!, name: key}
  const def = BROKER_CONFIGS.get(rest)
  return def && (rest.startsWith('ssl.') || rest === 'sasl.enabled.mechanisms') ? {...def, name: key} : undefined
}

/** Parses server.properties text: key=value or key:value lines, # and ! comments, \ continuations. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.replace(/\\\r?\n\s*/g, '').split(/\r?\n/)
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line)
    if (m) out[m[1]!] = m[2]!
    else out[line] = ''
  }
  return out
}

/** KCLI_LOG_DIRS=... -> {'log.dirs': ...}, for known broker config names only. */
export function brokerConfigsFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const def of BROKER_CONFIGS.definitions) {
    const value = env[`KCLI_${def.name.toUpperCase().replace(/[.-]/g, '_')}`]
    if (value !== undefined) out[def.name] = value
  }
  return out
}
