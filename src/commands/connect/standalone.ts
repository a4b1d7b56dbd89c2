import {readFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {parseProperties} from '../../lib/config/broker-configs.js'

export interface ConnectStandaloneStatus {
  /** The REST API's base URL (the bound port when listeners asked for port 0). */
  rest: string
  workerId: string
  connectors: string[]
  plugins: number
  warnings: string[]
}

export default class ConnectStandalone extends KcliCommand<typeof ConnectStandalone> {
  static override summary = 'Run a Kafka Connect worker in standalone mode.'
  static override description = `Runs a Kafka Connect compatible worker in this process, as Kafka's connect-standalone.sh: WORKER.properties with Kafka Connect's worker configs (bootstrap.servers, key.converter, value.converter, offset.storage.file.filename, offset.flush.interval.ms, plugin.path, listeners), then one properties file per connector to create at start. Source offsets are kept in the offsets file; sink offsets in the consumer group connect-<name>. The REST API (default http://:8083) manages connectors as Kafka Connect's does; see \`kcli connectors\`. Stops on SIGTERM or SIGINT after committing offsets (a second signal forces).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> worker.properties file-source.properties file-sink.properties', description: 'A file source and a file sink, as in Kafka\'s quickstart.'},
    {command: '<%= config.bin %> <%= command.id %> worker.properties --json', description: 'Print the REST URL as JSON once listening (listeners=http://127.0.0.1:0 picks a free port).'},
  ]
  static override strict = false
  static override args = {
    worker: Args.string({description: 'The worker properties file.', ignoreStdin: true, required: true}),
    connectors: Args.string({description: 'Connector properties files (any number).', ignoreStdin: true, required: false}),
  }
  static override flags = {
    'log-level': Flags.option({options: ['trace', 'debug', 'info', 'warn', 'error'] as const, default: 'info', summary: 'Worker log level.'})(),
  }

  async run(): Promise<ConnectStandaloneStatus> {
    const [workerFile, ...connectorFiles] = this.positionals
    const read = async (file: string) => {
      try {
        return parseProperties(await readFile(file, 'utf8'))
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
      }
    }
    const workerProps = await read(workerFile!)
    const connectorConfigs = await Promise.all(connectorFiles.map(read))
    const [{parseWorkerConfig}, {StandaloneHerder}, {loadPlugins}, {startRestServer}, {createLogger}, {ConnectRestError}, {kafkaClusterId, stopOnSignal}] = await Promise.all([
      import('../../lib/connect/worker-config.js'),
      import('../../lib/connect/standalone-herder.js'),
      import('../../lib/connect/plugins.js'),
      import('../../lib/connect/rest.js'),
      import('../../server/logger.js'),
      import('../../lib/connect/connector-config.js'),
      import('../../lib/connect/worker-process.js'),
    ])
    let config
    try {
      config = parseWorkerConfig(workerProps)
    } catch (error) {
      throw new UsageError(`${workerFile}: ${(error as Error).message}`)
    }
    const log = createLogger({level: this.flags['log-level']})
    const plugins = await loadPlugins(config.pluginPath)
    for (const w of plugins.warnings) log.warn(w)
    const worker = new StandaloneHerder(config, plugins, log)
    await worker.start()
    const clusterId = await kafkaClusterId(config.bootstrapServers, log)
    const rest = await startRestServer(worker, config.restHost, config.restPort, {clusterId: () => clusterId})
    log.info(`REST server listening at ${rest.url}`)
    for (const [i, props] of connectorConfigs.entries()) {
      const name = (props.name ?? '').trim()
      try {
        if (name === '') throw new ConnectRestError(400, 'Connector configuration is invalid: name is missing')
        await worker.putConnector(name, props, {allowReplace: false})
      } catch (error) {
        await rest.close()
        await worker.shutdown()
        throw new UsageError(`${connectorFiles[i]}: ${(error as Error).message}`)
      }
    }
    const status: ConnectStandaloneStatus = {connectors: worker.connectorNames(), plugins: plugins.plugins.length, rest: rest.url, warnings: plugins.warnings, workerId: worker.workerId}
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(status)}\n`)
    else this.out.line(`kcli connect standalone: REST API at ${rest.url}, connectors: ${status.connectors.join(', ') || '(none)'}`)

    await stopOnSignal(log, () => rest.close().then(() => worker.shutdown()))
    return status
  }
}
