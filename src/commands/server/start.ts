import {readFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {parseKeyValue} from '../../lib/client/cli-input.js'
import {ReportedError, SystemError, toKcliError, UsageError} from '../../lib/cli/errors.js'
import {brokerConfigsFromEnv, parseProperties, resolveBrokerConfig} from '../../lib/config/broker-configs.js'
import {ConfigError} from '../../lib/config/config-def.js'
import type {BrokerStatus} from '../../server/broker.js'

export default class ServerStart extends KcliCommand<typeof ServerStart> {
  static override summary = 'Run a Kafka-compatible broker.'
  static override description = `Starts one broker that speaks the Kafka protocol: PLAINTEXT on 127.0.0.1:9092 and a data directory of its own by default, no other process needed. Configuration uses Kafka's broker config names: a server.properties file, then --override key=value flags, then KCLI_* environment variables (KCLI_LOG_DIRS sets log.dirs). Stops cleanly on SIGTERM or SIGINT (a second signal forces).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Start with the embedded defaults.'},
    {command: '<%= config.bin %> <%= command.id %> config/server.properties', description: 'Start from a Kafka-style properties file.'},
    {command: '<%= config.bin %> <%= command.id %> --data-dir /tmp/kcli --port 0 --json', description: 'Ephemeral port; print where it listens as JSON.'},
    {command: '<%= config.bin %> <%= command.id %> --override num.partitions=6 --override log.retention.hours=24', description: 'Override broker configs.'},
    {command: '<%= config.bin %> <%= command.id %> --metadata etcd://10.0.0.5:2379/prod --override node.id=2', description: 'A broker of a cluster whose metadata is in etcd.'},
  ]
  static override args = {
    properties: Args.string({description: 'A server.properties file.', ignoreStdin: true, required: false}),
  }
  /** Broker configs have KCLI_* variables of their own (KCLI_LOG_DIRS, KCLI_METADATA_STORE), read by the config loader. */
  static override withoutEnv = ['override', 'metadata']
  static override flags = {
    override: Flags.string({multiple: true, helpValue: '<key=value>', summary: 'Set a broker config (repeatable).'}),
    'data-dir': Flags.string({helpValue: '<dir>', summary: 'The data directory (log.dirs).'}),
    metadata: Flags.string({
      helpValue: '<etcd://host:port,...[/prefix]>',
      summary: "Where the cluster's metadata lives (metadata.store): an etcd shared by the cluster's brokers; default: the embedded store in the data directory.",
    }),
    port: Flags.integer({min: 0, max: 65535, helpValue: '<port>', summary: 'Port of the PLAINTEXT listener on 127.0.0.1 (0: any free port).'}),
    'log-level': Flags.option({options: ['trace', 'debug', 'info', 'warn', 'error'] as const, default: 'info', summary: 'Broker log level.'})(),
    'log-format': Flags.option({
      options: ['auto', 'pretty', 'json'] as const,
      default: 'auto',
      summary: 'Log lines on stderr: pretty (human-readable), json (one object per line), or auto: pretty on a terminal, JSON otherwise.',
    })(),
  }

  /** --log-format json given: the final error is a JSON line too. */
  private jsonLogsAsked = false

  /**
   * With --log-format json every line on stderr is JSON: a failed start is reported as a JSON log
   * line (level 60, fatal) instead of `Error: ...`. Without the flag the exit report stays the
   * human line that scripts and `auto` (JSON logs off a terminal) have always had.
   */
  protected override async catch(error: Error): Promise<never> {
    if (!this.jsonLogsAsked || this.jsonEnabled() || error instanceof ReportedError) return super.catch(error)
    const kcliError = toKcliError(error)
    process.stderr.write(`${JSON.stringify({level: 60, time: new Date().toISOString(), msg: kcliError.message, error: kcliError.toJson()})}\n`)
    throw new ReportedError(kcliError.exitCode, error)
  }

  async run(): Promise<BrokerStatus> {
    const {args, flags} = this
    this.jsonLogsAsked = flags['log-format'] === 'json'
    const explicit: Record<string, string> = {}
    if (args.properties) {
      let text: string
      try {
        text = await readFile(args.properties, 'utf8')
      } catch (error) {
        throw new UsageError(`cannot read ${args.properties}: ${(error as Error).message}`)
      }
      Object.assign(explicit, parseProperties(text))
    }
    for (const o of flags.override ?? []) {
      const [key, value] = parseKeyValue(o, '--override')
      explicit[key] = value
    }
    if (flags['data-dir']) explicit['log.dirs'] = flags['data-dir']
    if (flags.metadata !== undefined) explicit['metadata.store'] = flags.metadata
    if (flags.port !== undefined) explicit.listeners = `PLAINTEXT://127.0.0.1:${flags.port}`
    Object.assign(explicit, brokerConfigsFromEnv(process.env))

    let config
    try {
      config = resolveBrokerConfig(explicit)
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message)
      throw error
    }
    // The broker is imported here, not at the top: oclif loads every command module to list
    // commands (there is no manifest), and `kcli --help` should not pay for loading a broker.
    const [{Broker}, {createLogger}, {ListenerBindError}, {MetadataStoreError}] = await Promise.all([
      import('../../server/broker.js'),
      import('../../server/logger.js'),
      import('../../server/network/socket-server.js'),
      import('../../server/controller/metadata-store.js'),
    ])
    const log = createLogger({level: flags['log-level'], format: flags['log-format']})
    const broker = new Broker(config, log)
    let status
    try {
      status = await broker.start()
    } catch (error) {
      // A listener's security settings (keystores, JAAS users, SASL mechanisms) are checked at start.
      if (error instanceof ConfigError) throw new UsageError(error.message)
      // A port in use, a privileged port, an address not on this host: exit 1, as Kafka does.
      if (error instanceof ListenerBindError) throw new SystemError(error.message, error.code, {cause: error})
      // etcd unreachable, a node.id a live broker holds, a data directory of another cluster.
      if (error instanceof MetadataStoreError) throw new SystemError(error.message, undefined, {cause: error})
      throw error
    }
    if (!this.jsonEnabled()) {
      for (const l of status.listeners) this.out.line(`kcli broker ${status.nodeId} listening on ${l.name}://${l.host}:${l.port}${l.securityProtocol === l.name ? '' : ` (${l.securityProtocol})`}`)
      this.out.line(`data directory: ${status.dataDir}`)
      this.out.line(`cluster id: ${status.clusterId}`)
      if (status.metricsListener) this.out.line(`metrics: ${status.metricsListener}/metrics (health: /healthz, readiness: /readyz)`)
    }

    let signals = 0
    const stopped = new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        signals++
        if (signals > 1) {
          log.warn({signal}, 'second signal: exiting now')
          process.exit(130)
        }
        log.info({signal}, 'stopping')
        broker.stop().then(resolve, (error) => {
          log.error({err: error}, 'shutdown failed')
          resolve()
        })
      }
      process.on('SIGTERM', onSignal)
      process.on('SIGINT', onSignal)
    })
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(status)}\n`)
    await stopped
    return status
  }
}
