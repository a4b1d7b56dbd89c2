import {readFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {parseProperties} from '../../lib/config/broker-configs.js'

export interface ConnectDistributedStatus {
  /** The REST API's base URL (the bound port when listeners asked for port 0). */
  rest: string
  workerId: string
  groupId: string
  plugins: number
  warnings: string[]
}

export default class ConnectDistributed extends KcliCommand<typeof ConnectDistributed> {
  static override summary = 'Run a Kafka Connect worker in distributed mode.'
  static override description = `Runs a Kafka Connect compatible worker in this process, as Kafka's connect-distributed.sh: WORKER.properties with Kafka Connect's worker configs — group.id, bootstrap.servers, config.storage.topic, offset.storage.topic, status.storage.topic (created compacted when missing, with *.storage.replication.factor and *.storage.partitions), key.converter, value.converter, plugin.path, listeners, session.timeout.ms, heartbeat.interval.ms, rebalance.timeout.ms, scheduled.rebalance.max.delay.ms, connect.protocol (eager, compatible, sessioned). Workers with the same group.id share the connectors: the group's leader assigns connectors and tasks and moves them when workers join or leave. Connectors are created through the REST API of any worker (default http://:8083; see \`kcli connectors\`). Prints its REST URL once it has joined the group. Stops on SIGTERM or SIGINT after committing offsets and leaving the group (a second signal forces).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> worker.properties', description: 'A worker of the group named by group.id.'},
    {command: '<%= config.bin %> <%= command.id %> worker.properties --json', description: 'Print the REST URL as JSON once joined (listeners=http://127.0.0.1:0 picks a free port).'},
  ]
  static override args = {
    worker: Args.string({description: 'The worker properties file.', ignoreStdin: true, required: true}),
  }
  static override flags = {
    'log-level': Flags.option({options: ['trace', 'debug', 'info', 'warn', 'error'] as const, default: 'info', summary: 'Worker log level.'})(),
  }

  async run(): Promise<ConnectDistributedStatus> {
    const file = this.args.worker
    let props: Record<string, string>
    try {
      props = parseProperties(await readFile(file, 'utf8'))
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
    }
    const [{parseDistributedConfig}, {DistributedHerder}, {loadPlugins}, {startRestServer}, {createLogger}, {kafkaClusterId, stopOnSignal}] = await Promise.all([
      import('../../lib/connect/distributed/distributed-config.js'),
      import('../../lib/connect/distributed/distributed-herder.js'),
      import('../../lib/connect/plugins.js'),
      import('../../lib/connect/rest.js'),
      import('../../server/logger.js'),
      import('../../lib/connect/worker-process.js'),
    ])
    let config
    try {
      config = parseDistributedConfig(props)
    } catch (error) {
      throw new UsageError(`${file}: ${(error as Error).message}`)
    }
    const log = createLogger({level: this.flags['log-level']})
    const plugins = await loadPlugins(config.pluginPath)
    for (const w of plugins.warnings) log.warn(w)
    const clusterId = await kafkaClusterId(config.bootstrapServers, log)
    const herder = new DistributedHerder(config, plugins, log)
    await herder.start()
    const rest = await startRestServer(herder, config.restHost, config.restPort, {advertisedHost: config.advertisedHost, advertisedPort: config.advertisedPort, clusterId: () => clusterId})
    log.info(`REST server listening at ${rest.url}`)
    const stopped = stopOnSignal(log, () => rest.close().then(() => herder.shutdown()))
    let stoppedFirst = false
    try {
      // A signal while joining stops the worker without waiting for the group.
      await Promise.race([herder.joinGroup(), stopped.then(() => { stoppedFirst = true })])
    } catch (error) {
      await rest.close()
      await herder.shutdown()
      throw new Error(`could not join the group ${config.groupId}: ${(error as Error).message}`)
    }
    const status: ConnectDistributedStatus = {groupId: config.groupId, plugins: plugins.plugins.length, rest: rest.url, warnings: plugins.warnings, workerId: herder.workerId}
    if (stoppedFirst) return status
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(status)}\n`)
    else this.out.line(`kcli connect distributed: worker ${herder.workerId} of group ${config.groupId}, REST API at ${rest.url}`)
    await stopped
    return status
  }
}
