import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import type {ClusterMetadata} from '../../lib/client/metadata.js'
import {type BrokerHealth, clusterHealth} from '../../lib/client/partition-health.js'
import {readDocument} from '../../lib/client/plan-input.js'
import {parseElectionJson} from '../../lib/client/reassignment-plan.js'

export interface ElectionOutcome {
  topic: string
  partition: number
  /** elected: the leader changed; nothing-to-do: ELECTION_NOT_NEEDED (84); failed: another error. */
  result: 'elected' | 'failed' | 'nothing-to-do'
  leaderBefore: number
  leaderAfter: number
  errorCode: number
  error: string
  errorMessage: string | null
}

/** A broker's leadership: led, preferred, and the share of its preferred partitions it does not lead (Kafka's leader imbalance). */
export type BrokerLeadership = Pick<BrokerHealth, 'broker' | 'imbalancePercent' | 'leaders' | 'notLedByPreferred' | 'preferred'>

export interface PreferredElectionResult {
  electionType: 'preferred' | 'unclean'
  dryRun: boolean
  partitions: ElectionOutcome[]
  /** With --dry-run: leadership per broker, and the partitions an election would move. */
  brokers?: BrokerLeadership[]
  wouldElect?: {topic: string; partition: number; leader: number; preferred: number; preferredInSync: boolean}[]
}

export default class PreferredElection extends BaseCommand<typeof PreferredElection> {
  static override description = `Moves partition leadership back to the preferred replicas (the first of each replica list), as kafka-leader-election.sh does (ElectLeaders), for --all partitions, a --topic (all its partitions, or those given with --partition) or the partitions of a --path-to-json-file ({"partitions":[{"topic":"foo","partition":1}]}). Prints a table of the partitions whose leader moved and of the per-partition errors; a partition already led by its preferred replica is "nothing to do" (ELECTION_NOT_NEEDED), and with --all the cluster leaves such partitions out. --election-type unclean elects a leader out of the ISR for partitions that have none (data may be lost). --dry-run changes nothing: it shows, from Metadata, the leader imbalance per broker and the partitions an election would move. Exits 1 if any partition's election failed.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --all', description: 'Restore preferred leaders everywhere.'},
    {command: '<%= config.bin %> <%= command.id %> --all --dry-run', description: 'Leader imbalance per broker, nothing changed.'},
    {command: '<%= config.bin %> <%= command.id %> --topic orders --partition 0 --partition 3', description: 'Two partitions.'},
    {command: '<%= config.bin %> <%= command.id %> --election-type unclean --topic orders --partition 0', description: 'Elect a leader out of the ISR (may lose data).'},
  ]
  static override flags = {
    all: Flags.boolean({aliases: ['all-topic-partitions'], summary: 'Every partition of the cluster (Kafka\'s --all-topic-partitions).'}),
    'dry-run': Flags.boolean({summary: 'Show the leader imbalance per broker and what an election would move; change nothing.'}),
    'election-type': Flags.string({
      default: 'preferred',
      helpValue: '<preferred|unclean>',
      async parse(input) {
        const type = input.toLowerCase()
        if (type !== 'preferred' && type !== 'unclean') throw new Error(`expected preferred or unclean (any case, as Kafka's PREFERRED/UNCLEAN), got ${input}`)
        return type
      },
      summary: 'preferred: the first replica, if in sync; unclean: any live replica of a partition without leader.',
    }),
    partition: Flags.integer({char: 'p', min: 0, multiple: true, summary: 'A partition of --topic (repeatable; default: all its partitions).'}),
    'path-to-json-file': Flags.string({helpValue: '<file>', summary: "The partitions, in kafka-leader-election.sh's JSON ('-': standard input)."}),
    topic: Flags.string({char: 't', helpValue: '<name>', summary: 'A topic.'}),
  }
  static override summary = 'Elect preferred (or unclean) partition leaders.'

  async run(): Promise<PreferredElectionResult> {
    const {flags} = this
    const type = flags['election-type'] as 'preferred' | 'unclean'
    const chosen = [flags.all, flags.topic !== undefined, flags['path-to-json-file'] !== undefined].filter(Boolean).length
    if (chosen !== 1) throw new UsageError('One and only one of the following options is required: --topic, --all, --path-to-json-file')
    if (flags.partition !== undefined && flags.topic === undefined) throw new UsageError('Option --partition is only allowed if --topic is used')

    const {ClusterOperations} = await import('../../lib/client/reassignment.js')
    const ops = new ClusterOperations(await this.kafka())
    let partitions: {topic: string; partition: number}[] | null = null
    if (flags['path-to-json-file'] !== undefined) {
      const {text, what} = await readDocument(flags['path-to-json-file'], '--path-to-json-file')
      partitions = parseElectionJson(text, what)
    } else if (flags.topic !== undefined) {
      const metadata = await this.withTimeout('reading topic metadata', ops.topicMetadata([flags.topic]))
      const existing = metadata.topics[0]!.partitions.map((p) => p.partition)
      const wanted = flags.partition ?? existing
      const missing = wanted.filter((p) => !existing.includes(p))
      if (missing.length > 0) {
        const {NotFoundError} = await import('../../lib/cli/errors.js')
        throw new NotFoundError(`topic ${flags.topic} has no partition ${missing.join(', ')} (it has ${existing.length})`)
      }
      partitions = wanted.map((partition) => ({topic: flags.topic!, partition}))
    }
    const topics = partitions === null ? null : [...new Set(partitions.map((p) => p.topic))]
    const before = await this.withTimeout('reading metadata', ops.client.refreshMetadata(topics))

    if (flags['dry-run']) return this.dryRun(type, before, partitions)

    const results = await this.withTimeout('electing leaders', ops.electLeaders(type, partitions, flags.timeout))
    const after = results.some((r) => r.errorCode === 0) ? await this.withTimeout('reading metadata', ops.client.refreshMetadata(topics)) : before
    const leaderIn = (metadata: ClusterMetadata, topic: string, partition: number) => metadata.topics.find((t) => t.name === topic)?.partitions.find((p) => p.partition === partition)?.leaderId ?? -1
    const outcomes: ElectionOutcome[] = results
      .map((r) => ({
        topic: r.topic,
        partition: r.partition,
        result: r.errorCode === 0 ? ('elected' as const) : r.errorCode === 84 ? ('nothing-to-do' as const) : ('failed' as const),
        leaderBefore: leaderIn(before, r.topic, r.partition),
        leaderAfter: leaderIn(after, r.topic, r.partition),
        errorCode: r.errorCode,
        error: r.error,
        errorMessage: r.errorMessage,
      }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))

    const c = this.out.color
    const label = type.toUpperCase()
    if (outcomes.length === 0) {
      this.out.line(type === 'preferred' ? 'Nothing to do: every partition is led by its preferred replica.' : 'Nothing to do: no partition needed an unclean leader election.')
    } else {
      this.out.table(
        [{header: 'Partition'}, {header: 'Result'}, {align: 'right', header: 'Leader before'}, {align: 'right', header: 'Leader after'}, {header: 'Error'}],
        outcomes.map((o) => [
          `${o.topic}-${o.partition}`,
          o.result === 'elected' ? c.green('elected') : o.result === 'nothing-to-do' ? c.dim('nothing to do') : c.red('failed'),
          o.leaderBefore < 0 ? 'none' : o.leaderBefore,
          o.leaderAfter < 0 ? 'none' : o.leaderAfter,
          o.result === 'failed' ? `${o.error}${o.errorMessage ? `: ${o.errorMessage}` : ''}` : '',
        ]),
      )
      const count = (r: ElectionOutcome['result']) => outcomes.filter((o) => o.result === r).length
      this.out.line()
      this.out.line(`Leader election (${label}): ${count('elected')} elected, ${count('nothing-to-do')} nothing to do, ${count('failed')} failed.`)
    }
    const result: PreferredElectionResult = {electionType: type, dryRun: false, partitions: outcomes}
    const failed = outcomes.filter((o) => o.result === 'failed')
    failIfAny(failed.map((o) => ({...o, item: `${o.topic}-${o.partition}`})), outcomes.length, 'elections', result)
    return result
  }

  private dryRun(type: 'preferred' | 'unclean', metadata: ClusterMetadata, partitions: {topic: string; partition: number}[] | null): PreferredElectionResult {
    const wanted = partitions === null ? null : new Set(partitions.map((p) => `${p.topic}-${p.partition}`))
    const all = metadata.topics.flatMap((t) => t.partitions.map((p) => ({topic: t.name, ...p})))
    const selected = all.filter((p) => wanted === null || wanted.has(`${p.topic}-${p.partition}`))
    const brokers: BrokerLeadership[] = clusterHealth(metadata).brokers.map(({broker, imbalancePercent, leaders, notLedByPreferred, preferred}) => ({broker, imbalancePercent, leaders, notLedByPreferred, preferred}))
    const wouldElect = selected
      .filter((p) => (type === 'preferred' ? p.replicas.length > 0 && p.leaderId !== p.replicas[0] : p.leaderId < 0))
      .map((p) => ({topic: p.topic, partition: p.partition, leader: p.leaderId, preferred: p.replicas[0] ?? -1, preferredInSync: p.isr.includes(p.replicas[0] ?? -1)}))
    this.out.table(
      [{align: 'right', header: 'Broker'}, {align: 'right', header: 'Leaders'}, {align: 'right', header: 'Preferred'}, {align: 'right', header: 'Not led by preferred'}, {align: 'right', header: 'Imbalance'}],
      brokers.map((b) => [b.broker, b.leaders, b.preferred, b.notLedByPreferred, `${b.imbalancePercent}%`]),
    )
    this.out.line()
    if (wouldElect.length === 0) {
      this.out.line(type === 'preferred' ? 'Nothing to do: every partition is led by its preferred replica.' : 'Nothing to do: every partition has a leader.')
    } else {
      this.out.line(`Dry run: an election (${type.toUpperCase()}) would consider ${wouldElect.length} partition${wouldElect.length === 1 ? '' : 's'}:`)
      this.out.table(
        [{header: 'Partition'}, {align: 'right', header: 'Leader'}, {align: 'right', header: 'Preferred'}, {header: 'Note'}],
        wouldElect.map((p) => [`${p.topic}-${p.partition}`, p.leader < 0 ? 'none' : p.leader, p.preferred, type === 'preferred' && !p.preferredInSync ? 'preferred replica not in ISR: PREFERRED_LEADER_NOT_AVAILABLE' : '']),
      )
    }
    return {electionType: type, dryRun: true, partitions: [], brokers, wouldElect}
  }
}
