import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin, type ConfigEntry} from '../../lib/client/admin.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import {errorName} from '../../lib/client/errors.js'

export interface PartitionDescription {
  partition: number
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
  earliestOffset: bigint
  latestOffset: bigint
}

export interface TopicDescription {
  name: string
  topicId: string
  internal: boolean
  error: string
  errorCode: number
  partitions: PartitionDescription[]
  /** Configs set on the topic (all configs with --all-configs). */
  configs: ConfigEntry[]
}

export interface TopicsDescribeResult {
  topics: TopicDescription[]
}

export default class TopicsDescribe extends BaseCommand<typeof TopicsDescribe> {
  static override args = {
    topic: Args.string({description: 'Topic(s) to describe.', required: true}),
  }
  static override description = `Shows each partition of the topics with its leader, replicas, in-sync replicas and earliest/latest offsets, and the topic's configs (those set on the topic; --all-configs adds the defaults).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> orders', description: 'Partitions and configs of one topic.'},
    {command: '<%= config.bin %> <%= command.id %> orders payments --all-configs', description: 'Several topics, every config.'},
    {command: '<%= config.bin %> <%= command.id %> orders --json | jq ".topics[0].partitions[] | .latestOffset"', description: 'Latest offsets for a script.'},
  ]
  static override flags = {
    'all-configs': Flags.boolean({summary: 'Show every config, defaults included.'}),
  }
  static override strict = false
  static override summary = 'Describe topics: partitions, replicas, ISR, offsets, configs.'

  async run(): Promise<TopicsDescribeResult> {
    const admin = new Admin(await this.kafka())
    const names = this.positionals
    const metadata = await this.withTimeout('describing topics', admin.describeTopics(names))
    const found = names.map((name) => metadata.topics.find((t) => t.name === name) ?? {errorCode: 3, isInternal: false, name, partitions: [], topicId: ''})
    const existing = found.filter((t) => t.errorCode === 0)
    const [offsets, configs] = await this.withTimeout(
      'reading offsets and configs',
      Promise.all([
        admin.partitionOffsets(existing.map((t) => ({...t, topicId: t.topicId, isInternal: t.isInternal}))),
        existing.length > 0 ? admin.describeConfigs(existing.map((t) => ({name: t.name, type: 'topic' as const}))) : Promise.resolve([]),
      ]),
    )
    const topics: TopicDescription[] = found.map((t) => {
      const config = configs.find((c) => c.name === t.name)
      return {
        name: t.name,
        topicId: t.topicId,
        internal: t.isInternal,
        errorCode: t.errorCode,
        error: t.errorCode === 0 ? 'NONE' : errorName(t.errorCode),
        partitions: t.partitions.map((p) => {
          const o = offsets.get(`${t.name}\u0000${p.partition}`)
          return {
            partition: p.partition,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas,
            earliestOffset: o?.earliest ?? -1n,
            latestOffset: o?.latest ?? -1n,
          }
        }),
        configs: (config?.configs ?? []).filter((c) => this.flags['all-configs'] || !c.isDefault),
      }
    })

    const c = this.out.color
    for (const [i, t] of topics.entries()) {
      if (i > 0) this.out.line()
      if (t.errorCode !== 0) {
        this.out.line(`${c.bold(t.name)}: ${c.red(t.error)}`)
        continue
      }
      this.out.keyValues([
        ['Topic', t.name],
        ['Topic ID', t.topicId],
        ['Partitions', t.partitions.length],
        ['Replication factor', Math.max(0, ...t.partitions.map((p) => p.replicas.length))],
        ...(t.internal ? [['Internal', 'yes'] as const] : []),
      ])
      this.out.line()
      this.out.table(
        [
          {align: 'right', header: 'Partition'},
          {align: 'right', header: 'Leader'},
          {align: 'right', header: 'Epoch'},
          {header: 'Replicas'},
          {header: 'ISR'},
          {align: 'right', header: 'Earliest'},
          {align: 'right', header: 'Latest'},
        ],
        t.partitions.map((p) => [
          p.partition,
          p.leader < 0 ? c.red('none') : p.leader,
          p.leaderEpoch,
          p.replicas.join(','),
          p.isr.length < p.replicas.length ? c.yellow(p.isr.join(',')) : p.isr.join(','),
          p.earliestOffset,
          p.latestOffset,
        ]),
      )
      if (t.configs.length > 0) {
        this.out.line()
        this.out.table(
          [{header: 'Config'}, {header: 'Value'}, {header: 'Source'}],
          t.configs.map((cfg) => [cfg.name, cfg.isSensitive ? '(sensitive)' : cfg.value, cfg.source]),
        )
      }
    }
    const result = {topics}
    failIfAny(
      topics.filter((t) => t.errorCode !== 0).map((t) => ({...t, item: `topic ${t.name}`})),
      topics.length,
      'topics',
      result,
    )
    return result
  }
}
