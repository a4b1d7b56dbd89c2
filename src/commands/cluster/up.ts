import {Flags} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {parseKeyValue} from '../../lib/client/cli-input.js'
import {SystemError, UsageError} from '../../lib/cli/errors.js'

export interface ClusterUpResult {
  bootstrap: string
  metadataStore: string
  dataDir: string
  etcd: {endpoint: string; started: boolean}
  brokers: Array<{nodeId: number; port: number; dataDir: string; pid: number | undefined; metricsListener?: string}>
}

export default class ClusterUp extends KcliCommand<typeof ClusterUp> {
  static override summary = 'Run a cluster of brokers on this machine (development and tests).'
  static override description = `Starts an etcd (the etcd binary on PATH) and N brokers (kcli server start) with node ids 1..N, ports from --base-port and data directories of their own under --data-dir, sharing the etcd as their metadata store. Prints the bootstrap list, prefixes every process's log lines with its name (broker-1, etcd), and stops everything cleanly on Ctrl-C. The data stays: the next cluster up with the same --data-dir brings the same cluster back. For brokers on several machines, start each with kcli server start --metadata etcd://... (see the README).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Three brokers on 127.0.0.1:9092-9094 and an etcd on 2379.'},
    {command: '<%= config.bin %> <%= command.id %> --brokers 5 --base-port 19092 --etcd-port 12379', description: 'Five brokers on other ports.'},
    {command: '<%= config.bin %> <%= command.id %> --etcd 127.0.0.1:2379 --prefix /dev-a', description: 'Use an etcd that is already running, under a prefix of its own.'},
    {command: '<%= config.bin %> <%= command.id %> --base-port 0 --etcd-port 0 --json', description: 'Free ports; print the cluster as JSON.'},
  ]
  static override flags = {
    brokers: Flags.integer({default: 3, min: 1, max: 64, summary: 'How many brokers.'}),
    'base-port': Flags.integer({default: 9092, min: 0, max: 65535, helpValue: '<port>', summary: 'Port of broker 1; broker N gets base-port + N - 1 (0: free ports from the OS).'}),
    'metrics-base-port': Flags.integer({min: 0, max: 65535, helpValue: '<port>', summary: 'Serve /metrics, /healthz and /readyz (metrics.listener): broker N on 127.0.0.1:<port + N - 1> (0: free ports). Default: off.'}),
    'data-dir': Flags.string({helpValue: '<dir>', summary: 'Where the brokers and etcd keep their data (default: $XDG_DATA_HOME/kcli/cluster).'}),
    etcd: Flags.string({helpValue: '<host:port>', summary: 'Use this etcd instead of starting one.', exclusive: ['etcd-port']}),
    'etcd-port': Flags.integer({default: 2379, min: 0, max: 65535, helpValue: '<port>', summary: 'Client port of the etcd started here (0: a free port).'}),
    prefix: Flags.string({default: '/kcli', helpValue: '</prefix>', summary: "The cluster's key prefix in etcd."}),
    override: Flags.string({multiple: true, helpValue: '<key=value>', summary: 'A broker config for every broker (repeatable).'}),
    'log-level': Flags.option({options: ['trace', 'debug', 'info', 'warn', 'error'] as const, default: 'info', summary: "The brokers' log level."})(),
  }
  /** Broker configs have KCLI_* variables of their own, which the brokers read. */
  static override withoutEnv = ['override']

  async run(): Promise<ClusterUpResult> {
    const {flags} = this
    if (!flags.prefix.startsWith('/')) throw new UsageError(`--prefix must start with /, got ${JSON.stringify(flags.prefix)}`)
    const overrides: Record<string, string> = {}
    for (const o of flags.override ?? []) {
      const [key, value] = parseKeyValue(o, '--override')
      overrides[key] = value
    }
    const {DevCluster, DevClusterError, kcliDataHome} = await import('../../server/dev-cluster.js')
    const {join, resolve} = await import('node:path')
    const dataDir = resolve(flags['data-dir'] ?? join(kcliDataHome(), 'cluster'))
    const stderr = process.stderr
    let cluster
    try {
      cluster = await DevCluster.start({
        brokers: flags.brokers,
        basePort: flags['base-port'],
        ...(flags['metrics-base-port'] === undefined ? {} : {metricsBasePort: flags['metrics-base-port']}),
        dataDir,
        ...(flags.etcd ? {etcdEndpoint: flags.etcd} : {etcdPort: flags['etcd-port']}),
        prefix: flags.prefix,
        overrides,
        logLevel: flags['log-level'],
        // The same kcli that runs this command (bin/run.js, or bin/dev.js with its loader flags).
        kcli: {command: process.execPath, args: [...process.execArgv, process.argv[1]!]},
        onLine: (name, line) => stderr.write(`[${name}] ${line}\n`),
      })
    } catch (error) {
      if (error instanceof DevClusterError) throw new SystemError(error.message, undefined, {cause: error})
      throw error
    }
    const result: ClusterUpResult = {
      bootstrap: cluster.bootstrap,
      metadataStore: cluster.metadataStore,
      dataDir,
      etcd: {endpoint: cluster.etcdEndpoint, started: !flags.etcd},
      brokers: cluster.brokers.map((b) => ({nodeId: b.nodeId, port: b.port, dataDir: b.dataDir, pid: b.process.child.pid, ...(b.metricsListener ? {metricsListener: b.metricsListener} : {})})),
    }
    let stopping = false
    for (const b of cluster.brokers) {
      void b.process.exited.then(() => {
        if (!stopping) stderr.write(`[cluster] broker-${b.nodeId} exited (${b.process.child.exitCode ?? b.process.child.signalCode})\n`)
      })
    }
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(result)}\n`)
    else {
      this.out.keyValues([
        ['Bootstrap', result.bootstrap],
        ['Metadata', result.metadataStore],
        ['Data', dataDir],
        ...result.brokers.filter((b) => b.metricsListener).map((b): [string, string] => [`Metrics broker-${b.nodeId}`, `${b.metricsListener}/metrics`]),
      ])
      this.out.line('Ctrl-C stops the cluster.')
    }

    await new Promise<void>((resolveStopped) => {
      const onSignal = () => {
        if (stopping) return
        stopping = true
        stderr.write('[cluster] stopping\n')
        cluster.stop().then(resolveStopped, resolveStopped)
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
    })
    return result
  }
}
