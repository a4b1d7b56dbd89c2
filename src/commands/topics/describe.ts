// kcli topics describe: each partition's leader and epoch, replicas, ISR, offline replicas and
// earliest/latest offsets, and the topic's configs, as kafka-topics.sh --describe reports them
// (Kafka 4.0: `Leader: 1  Replicas: 1,2,3  Isr: 1,2`, "none" for no leader). Without topics, every
// topic. Kafka's filters keep only the partitions that are under-replicated (ISR smaller than the
// replicas), unavailable (no leader, or a leader that is not a live broker), under min ISR (no
// leader, or an ISR smaller than min.insync.replicas) or at min ISR; with any of them, topics
// without such a partition are left out and configs are not shown (as kafka-topics.sh does).
// Offsets are read from the leaders; a partition without one gets -1.
import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin, type ConfigEntry} from '../../lib/client/admin.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import {errorName} from '../../lib/client/errors.js'
import type {PartitionInfo, TopicInfo} from '../../lib/client/metadata.js'
import {isAtMinIsr, isUnavailable, isUnderMinIsr, isUnderReplicated, reassignmentIndex, reassignmentOf} from '../../lib/client/partition-health.js'
import {ClusterOperations} from '../../lib/client/reassignment.js'

export interface PartitionDescription {
  partition: number
  /** -1: no leader. */
  leader: number
  leaderEpoch: number
  /** Broker ids, preferred leader first. */
  replicas: number[]
  isr: number[]
  /** Replicas whose broker is not live (not registered with the cluster). */
  offlineReplicas: number[]
  /** A reassignment in progress: the replicas it adds and removes (empty otherwise). */
  addingReplicas: number[]
  removingReplicas: number[]
  /** -1 when the partition has no leader to ask. */
  earliestOffset: bigint
  latestOffset: bigint
}

export interface TopicDescription {
  name: string
  topicId: string
  internal: boolean
  error: string
  errorCode: number
  /** Every partition, or with a filter flag the partitions it keeps. */
  partitions: PartitionDescription[]
  /** Configs set on the topic (all configs with --all-configs); none with a filter flag. */
  configs: ConfigEntry[]
}

export interface TopicsDescribeResult {
  topics: TopicDescription[]
}

export default class TopicsDescribe extends BaseCommand<typeof TopicsDescribe> {
  static override args = {
    topic: Args.string({description: 'Topic(s) to describe (default: every topic).', required: false}),
  }
  static override description = `Shows each partition of the topics with its leader, leader epoch, replicas, in-sync replicas, offline replicas and earliest/latest offsets, and the topic's configs (those set on the topic; --all-configs adds the defaults). Without a topic, every topic. The filters, as kafka-topics.sh --describe has them, keep only the partitions that need attention; combined, a partition matching any of them is shown.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> orders', description: 'Partitions and configs of one topic.'},
    {command: '<%= config.bin %> <%= command.id %> orders payments --all-configs', description: 'Several topics, every config.'},
    {command: '<%= config.bin %> <%= command.id %> --under-replicated-partitions --unavailable-partitions', description: 'Every partition of the cluster that has lost a replica or its leader.'},
    {command: '<%= config.bin %> <%= command.id %> orders --json | jq ".topics[0].partitions[] | .latestOffset"', description: 'Latest offsets for a script.'},
  ]
  static override flags = {
    'all-configs': Flags.boolean({summary: 'Show every config, defaults included.'}),
    'at-min-isr-partitions': Flags.boolean({summary: 'Only partitions whose ISR is exactly min.insync.replicas.'}),
    'unavailable-partitions': Flags.boolean({aliases: ['unavailable'], summary: 'Only partitions without a leader, or whose leader is not a live broker.'}),
    'under-min-isr-partitions': Flags.boolean({aliases: ['under-min-isr'], summary: 'Only partitions without a leader or whose ISR is below min.insync.replicas.'}),
    'under-replicated-partitions': Flags.boolean({aliases: ['under-replicated'], summary: 'Only partitions whose ISR is smaller than their replicas.'}),
  }
  static override strict = false
  static override summary = 'Describe topics: partitions, replicas, ISR, offline replicas, offsets, configs.'

  async run(): Promise<TopicsDescribeResult> {
    const {flags} = this
    const filters = {
      atMinIsr: flags['at-min-isr-partitions'],
      underMinIsr: flags['under-min-isr-partitions'],
      underReplicated: flags['under-replicated-partitions'],
      unavailable: flags['unavailable-partitions'],
    }
    const filtered = Object.values(filters).some(Boolean)
    const admin = new Admin(await this.kafka())
    const names = this.positionals
    const metadata = await this.withTimeout('describing topics', names.length > 0 ? admin.describeTopics(names) : admin.listTopics())
    const found: TopicInfo[] =
      names.length > 0
        ? names.map((name) => metadata.topics.find((t) => t.name === name) ?? {errorCode: 3, isInternal: false, name, partitions: [], topicId: ''})
        : metadata.topics.filter((t) => t.errorCode === 0).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const existing = found.filter((t) => t.errorCode === 0)
    const configs = existing.length > 0 ? await this.withTimeout('describing topic configs', admin.describeConfigs(existing.map((t) => ({name: t.name, type: 'topic' as const})))) : []
    const reassignments = reassignmentIndex(existing.length > 0 ? await this.withTimeout('listing reassignments', new ClusterOperations(admin.client).reassignmentsIfVisible(existing.flatMap((t) => t.partitions.map((p) => ({partition: p.partition, topic: t.name}))), flags.timeout)) : [])
    const liveBrokers = new Set(metadata.brokers.map((b) => b.nodeId))
    const minIsrOf = (topic: string) => Number(configs.find((c) => c.name === topic)?.configs.find((c) => c.name === 'min.insync.replicas')?.value ?? 1)
    const keep = (topic: string, p: PartitionInfo) =>
      !filtered ||
      (filters.underReplicated && isUnderReplicated(p, reassignmentOf(reassignments, topic, p.partition)?.addingReplicas)) ||
      (filters.unavailable && isUnavailable(p, liveBrokers)) ||
      (filters.underMinIsr && isUnderMinIsr(p, liveBrokers, minIsrOf(topic))) ||
      (filters.atMinIsr && isAtMinIsr(p, minIsrOf(topic)))
    const shown = found
      .map((t) => ({...t, partitions: t.partitions.filter((p) => keep(t.name, p))}))
      .filter((t) => !filtered || t.partitions.length > 0)
    // Offsets come from the leaders: a partition without one would only wait for the timeout.
    const withLeader = shown.filter((t) => t.errorCode === 0).map((t) => ({...t, partitions: t.partitions.filter((p) => p.leaderId >= 0)}))
    const offsets = await this.withTimeout('reading offsets', admin.partitionOffsets(withLeader.filter((t) => t.partitions.length > 0)))

    const topics: TopicDescription[] = shown.map((t) => {
      const config = configs.find((c) => c.name === t.name)
      return {
        name: t.name,
        topicId: t.topicId,
        internal: t.isInternal,
        errorCode: t.errorCode,
        error: t.errorCode === 0 ? 'NONE' : errorName(t.errorCode),
        partitions: t.partitions.map((p) => {
          const o = offsets.get(`${t.name}\u0000${p.partition}`)
          const moving = reassignmentOf(reassignments, t.name, p.partition)
          return {
            partition: p.partition,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas,
            addingReplicas: moving?.addingReplicas ?? [],
            removingReplicas: moving?.removingReplicas ?? [],
            earliestOffset: o?.earliest ?? -1n,
            latestOffset: o?.latest ?? -1n,
          }
        }),
        configs: filtered ? [] : (config?.configs ?? []).filter((cfg) => flags['all-configs'] || !cfg.isDefault),
      }
    })

    if (filtered) this.printPartitionsOnly(topics)
    else this.printTopics(topics)
    const result = {topics}
    failIfAny(
      topics.filter((t) => t.errorCode !== 0).map((t) => ({...t, item: `topic ${t.name}`})),
      topics.length,
      'topics',
      result,
    )
    return result
  }

  /** The cells of a partition's row; `moving` adds the reassignment column (only tables with a partition being reassigned have it). */
  private partitionCells(p: PartitionDescription, moving: boolean): Array<bigint | number | string> {
    const c = this.out.color
    const reassignment = [...p.addingReplicas.map((b) => `+${b}`), ...p.removingReplicas.map((b) => `-${b}`)].join(' ')
    return [
      p.partition,
      p.leader < 0 ? c.red('none') : p.leader,
      p.leaderEpoch,
      p.replicas.join(','),
      p.isr.length < p.replicas.length ? c.yellow(p.isr.join(',')) : p.isr.join(','),
      p.offlineReplicas.length > 0 ? c.red(p.offlineReplicas.join(',')) : '',
      ...(moving ? [c.cyan(reassignment)] : []),
      p.earliestOffset,
      p.latestOffset,
    ]
  }

  /** The partition columns; `moving`: with "Reassigning" (+adding -removing replicas) before the offsets. */
  private static partitionColumns(moving: boolean) {
    const columns = TopicsDescribe.PARTITION_COLUMNS
    return moving ? [...columns.slice(0, 6), {header: 'Reassigning'}, ...columns.slice(6)] : [...columns]
  }

  private static anyMoving(partitions: readonly PartitionDescription[]): boolean {
    return partitions.some((p) => p.addingReplicas.length > 0 || p.removingReplicas.length > 0)
  }

  private static readonly PARTITION_COLUMNS = [
    {align: 'right', header: 'Partition'},
    {align: 'right', header: 'Leader'},
    {align: 'right', header: 'Epoch'},
    {header: 'Replicas'},
    {header: 'ISR'},
    {header: 'Offline'},
    {align: 'right', header: 'Earliest'},
    {align: 'right', header: 'Latest'},
  ] as const

  private printTopics(topics: readonly TopicDescription[]): void {
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
      const moving = TopicsDescribe.anyMoving(t.partitions)
      this.out.table(TopicsDescribe.partitionColumns(moving), t.partitions.map((p) => this.partitionCells(p, moving)))
      if (t.configs.length > 0) {
        this.out.line()
        this.out.table(
          [{header: 'Config'}, {header: 'Value'}, {header: 'Source'}],
          t.configs.map((cfg) => [cfg.name, cfg.isSensitive ? '(sensitive)' : cfg.value, cfg.source]),
        )
      }
    }
  }

  /** With a filter: one table of the partitions kept, over every topic (kafka-topics.sh prints one line each). */
  private printPartitionsOnly(topics: readonly TopicDescription[]): void {
    const c = this.out.color
    for (const t of topics.filter((x) => x.errorCode !== 0)) this.out.line(`${c.bold(t.name)}: ${c.red(t.error)}`)
    const moving = TopicsDescribe.anyMoving(topics.flatMap((t) => t.partitions))
    const rows = topics.flatMap((t) => t.partitions.map((p) => [t.name, ...this.partitionCells(p, moving)]))
    if (rows.length === 0) {
      this.out.line('No partition matches.')
      return
    }
    this.out.table([{header: 'Topic'}, ...TopicsDescribe.partitionColumns(moving)], rows)
  }
}
