import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin, type ClusterDescription} from '../../lib/client/admin.js'

export type ClusterDescribeResult = ClusterDescription

export default class ClusterDescribe extends BaseCommand<typeof ClusterDescribe> {
  static override description = `Shows the cluster id, the controller and the brokers with their addresses and racks (DescribeCluster, or Metadata on brokers without it).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Cluster id, controller, brokers.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq ".brokers | length"', description: 'Count the brokers.'},
  ]
  static override summary = 'Describe the cluster: id, controller, brokers.'

  async run(): Promise<ClusterDescribeResult> {
    const admin = new Admin(await this.kafka())
    const cluster = await this.withTimeout('describing the cluster', admin.describeCluster())
    const c = this.out.color
    this.out.keyValues([
      ['Cluster ID', cluster.clusterId ?? '(none)'],
      ['Controller', cluster.controllerId < 0 ? '(unknown)' : cluster.controllerId],
      ['Brokers', cluster.brokers.length],
    ])
    this.out.line()
    this.out.table(
      [{align: 'right', header: 'ID'}, {header: 'Host'}, {align: 'right', header: 'Port'}, {header: 'Rack'}, {header: 'Role'}],
      cluster.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack ?? '', [b.nodeId === cluster.controllerId ? c.cyan('controller') : '', b.isFenced ? c.red('fenced') : ''].filter(Boolean).join(',')]),
    )
    return cluster
  }
}
