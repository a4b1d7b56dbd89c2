// kcli cluster describe: the cluster id, the controller and the brokers with their addresses and
// racks (DescribeCluster, or Metadata on brokers without it), and per broker what an operator
// checks before and after maintenance (src/lib/client/partition-health.ts): the replicas it holds,
// the partitions it leads, its preferred-leader imbalance, the under-replicated partitions it
// leads and the partitions with a replica on it that have no live leader; with the cluster's
// totals, and the reassignments in progress.
import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin, type ClusterDescription} from '../../lib/client/admin.js'
import {type BrokerHealth, clusterHealth, type ClusterHealth, reassignmentIndex} from '../../lib/client/partition-health.js'
import {ClusterOperations} from '../../lib/client/reassignment.js'

export type ClusterDescribeResult = ClusterDescription & {
  /** Per broker: the broker's entry in `brokers` (if registered) and its partition counts. */
  health: Omit<ClusterHealth, 'brokers'> & {brokers: BrokerHealth[]}
}

export default class ClusterDescribe extends BaseCommand<typeof ClusterDescribe> {
  static override description = `Shows the cluster id, the controller and the brokers with their addresses and racks (DescribeCluster, or Metadata on brokers without it), and per broker: the replicas it holds, the partitions it leads, its preferred-leader imbalance (the share of the partitions whose first replica it is that it does not lead, which Kafka's controller compares with leader.imbalance.per.broker.percentage), the under-replicated partitions it leads, and the partitions with a replica on it and no live leader. A broker that holds replicas but is not registered is listed as offline.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Cluster id, controller, brokers and their partitions.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq ".health.underReplicated"', description: 'Count the under-replicated partitions.'},
  ]
  static override summary = 'Describe the cluster: id, controller, brokers, leadership and partition health.'

  async run(): Promise<ClusterDescribeResult> {
    const admin = new Admin(await this.kafka())
    const cluster = await this.withTimeout('describing the cluster', admin.describeCluster())
    const metadata = await this.withTimeout('reading metadata', admin.listTopics())
    const ongoing = await this.withTimeout('listing reassignments', new ClusterOperations(admin.client).reassignmentsIfVisible(null, this.flags.timeout))
    const health = clusterHealth(metadata, reassignmentIndex(ongoing))
    const c = this.out.color
    this.out.keyValues([
      ['Cluster ID', cluster.clusterId ?? '(none)'],
      ['Controller', cluster.controllerId < 0 ? '(unknown)' : cluster.controllerId],
      ['Brokers', cluster.brokers.length],
      ['Partitions', health.partitions],
      ['Under-replicated', health.underReplicated > 0 ? c.yellow(health.underReplicated) : 0],
      ['Offline', health.offline > 0 ? c.red(health.offline) : 0],
      ['Reassigning', health.reassigning],
    ])
    this.out.line()
    this.out.table(
      [
        {align: 'right', header: 'ID'},
        {header: 'Host'},
        {align: 'right', header: 'Port'},
        {header: 'Rack'},
        {header: 'Role'},
        {align: 'right', header: 'Replicas'},
        {align: 'right', header: 'Leaders'},
        {align: 'right', header: 'Preferred'},
        {align: 'right', header: 'Imbalance'},
        {align: 'right', header: 'Under-replicated'},
        {align: 'right', header: 'Offline'},
      ],
      health.brokers.map((h) => {
        const b = cluster.brokers.find((x) => x.nodeId === h.broker)
        const role = [h.broker === cluster.controllerId ? c.cyan('controller') : '', b?.isFenced ? c.red('fenced') : '', b === undefined ? c.red('offline') : ''].filter(Boolean).join(',')
        return [
          h.broker,
          b?.host ?? '',
          b?.port ?? '',
          b?.rack ?? '',
          role,
          h.replicas,
          h.leaders,
          h.preferred,
          `${h.imbalancePercent}%`,
          h.underReplicated > 0 ? c.yellow(h.underReplicated) : 0,
          h.offline > 0 ? c.red(h.offline) : 0,
        ]
      }),
    )
    return {...cluster, health}
  }
}
