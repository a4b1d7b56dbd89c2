import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin} from '../../lib/client/admin.js'

export interface TopicSummary {
  name: string
  topicId: string
  internal: boolean
  partitions: number
  replicationFactor: number
  /** Partitions whose ISR is smaller than their replica set. */
  underReplicatedPartitions: number
  /** Partitions whose ISR is smaller than min.insync.replicas (only with --under-min-isr). */
  underMinIsrPartitions?: number
  /** Partitions without a leader. */
  unavailablePartitions: number
}

export interface TopicsListResult {
  topics: TopicSummary[]
}

export default class TopicsList extends BaseCommand<typeof TopicsList> {
  static override description = `Lists the cluster's topics with their partition count, replication factor and health. The filters keep only topics with under-replicated partitions (ISR smaller than the replicas), partitions whose ISR is below the topic's min.insync.replicas, or partitions without a leader; combined, a topic matching any of them is listed.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'List topics (internal ones hidden).'},
    {command: '<%= config.bin %> <%= command.id %> --under-replicated --unavailable', description: 'Topics that need attention.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq -r ".topics[].name"', description: 'Topic names for a script.'},
  ]
  static override flags = {
    internal: Flags.boolean({summary: 'Include internal topics (__consumer_offsets, ...).'}),
    'under-min-isr': Flags.boolean({summary: 'Only topics with partitions whose ISR is below min.insync.replicas.'}),
    'under-replicated': Flags.boolean({summary: 'Only topics with under-replicated partitions.'}),
    unavailable: Flags.boolean({summary: 'Only topics with partitions that have no leader.'}),
  }
  static override summary = 'List topics.'

  async run(): Promise<TopicsListResult> {
    const {internal, unavailable} = this.flags
    const underReplicated = this.flags['under-replicated']
    const underMinIsr = this.flags['under-min-isr']
    const admin = new Admin(await this.kafka())
    const metadata = await this.withTimeout('listing topics', admin.listTopics())
    let topics: TopicSummary[] = metadata.topics
      .filter((t) => t.errorCode === 0 && (internal || !t.isInternal))
      .map((t) => ({
        name: t.name,
        topicId: t.topicId,
        internal: t.isInternal,
        partitions: t.partitions.length,
        replicationFactor: Math.max(0, ...t.partitions.map((p) => p.replicas.length)),
        underReplicatedPartitions: t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
        unavailablePartitions: t.partitions.filter((p) => p.leaderId < 0).length,
      }))
      .sort((a, b) => a.name.localeCompare(b.name))

    if (underMinIsr && topics.length > 0) {
      const configs = await this.withTimeout('describing topic configs', admin.describeConfigs(topics.map((t) => ({keys: ['min.insync.replicas'], name: t.name, type: 'topic' as const}))))
      topics.forEach((topic, i) => {
        const minIsr = Number(configs[i]!.configs.find((c) => c.name === 'min.insync.replicas')?.value ?? 1)
        const info = metadata.topics.find((t) => t.name === topic.name)!
        topic.underMinIsrPartitions = info.partitions.filter((p) => p.isr.length < minIsr).length
      })
    }

    if (underReplicated || underMinIsr || unavailable) {
      topics = topics.filter(
        (t) => (underReplicated && t.underReplicatedPartitions > 0) || (underMinIsr && (t.underMinIsrPartitions ?? 0) > 0) || (unavailable && t.unavailablePartitions > 0),
      )
    }

    const c = this.out.color
    this.out.table(
      [{header: 'Topic'}, {align: 'right', header: 'Partitions'}, {align: 'right', header: 'Replicas'}, {header: 'Health'}],
      topics.map((t) => {
        const problems = [
          t.unavailablePartitions > 0 ? c.red(`${t.unavailablePartitions} unavailable`) : '',
          t.underReplicatedPartitions > 0 ? c.yellow(`${t.underReplicatedPartitions} under-replicated`) : '',
          (t.underMinIsrPartitions ?? 0) > 0 ? c.red(`${t.underMinIsrPartitions} under min ISR`) : '',
        ].filter(Boolean)
        return [t.internal ? `${t.name} ${c.dim('(internal)')}` : t.name, t.partitions, t.replicationFactor, problems.length > 0 ? problems.join(', ') : c.green('ok')]
      }),
    )
    return {topics}
  }
}
