import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {KafkaError, UsageError} from '../../lib/cli/errors.js'
import {Admin} from '../../lib/client/admin.js'
import {failIfAny, parseDuration, parseOffset, parseTime} from '../../lib/client/cli-input.js'
import {ErrorCode} from '../../lib/client/errors.js'
import {computeResetOffsets, type ResetPartition, type ResetSpec} from '../../lib/client/offset-reset.js'
import {type InternalTopic, internalTopics} from '../../lib/client/streams-app.js'

export interface StreamsResetResult {
  applicationId: string
  /** True with --dry-run: nothing was changed. */
  dryRun: boolean
  /** The input topics' partitions and their new committed offsets. */
  inputs: ResetPartition[]
  /** The intermediate topics' partitions, moved to their end. */
  intermediate: ResetPartition[]
  /** Input or intermediate topics that do not exist (skipped, as Kafka's tool does). */
  notFound: string[]
  /** The internal topics deleted (or that would be). */
  internalTopics: InternalTopic[]
}

const list = (values: readonly string[] | undefined) => [...new Set((values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0))]

export default class StreamsReset extends BaseCommand<typeof StreamsReset> {
  static override description = `Resets a Streams application so that it reprocesses its input from scratch, as Kafka's kafka-streams-application-reset does: the committed offsets of the input topics go to the earliest offsets (or --to-datetime, --by-duration, --to-latest, --to-offset, --shift-by), intermediate topics' offsets to their end, and the application's internal topics (<application.id>-...-changelog / -repartition) are deleted, with their committed offsets. Refused while the application's group has active members. Each instance's local state must be removed too (KafkaStreams#cleanUp(), or delete <state.dir>/<application.id>).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --application-id wordcount --input-topics lines --dry-run', description: 'Show what a reset would do.'},
    {command: '<%= config.bin %> <%= command.id %> --application-id wordcount --input-topics lines --to-datetime 2026-12-01T00:00:00Z', description: 'Reprocess from a date.'},
    {command: '<%= config.bin %> <%= command.id %> --application-id wordcount --input-topics lines,clicks --json', description: 'Reset to the earliest offsets, for a script.'},
  ]
  static override flags = {
    'application-id': Flags.string({helpValue: '<id>', required: true, summary: 'The application.id (its group id).'}),
    'by-duration': Flags.string({helpValue: '<duration>', summary: 'Input offsets to those of this long ago (1h, 30m, PT1H).'}),
    'dry-run': Flags.boolean({summary: 'Show what would be done; change nothing.'}),
    'input-topics': Flags.string({helpValue: '<topics>', multiple: true, summary: 'Input topics (comma-separated or repeated).'}),
    'intermediate-topics': Flags.string({helpValue: '<topics>', multiple: true, summary: 'Intermediate topics (written and read by the application through to/stream): offsets to their end.'}),
    'shift-by': Flags.integer({helpValue: '<n>', summary: 'Input offsets moved by n from the committed ones.'}),
    'to-datetime': Flags.string({helpValue: '<time>', summary: 'Input offsets to the first at or after this time (ISO 8601, epoch ms, -1h).'}),
    'to-earliest': Flags.boolean({summary: 'Input offsets to the earliest offsets (the default).'}),
    'to-latest': Flags.boolean({summary: 'Input offsets to the latest offsets.'}),
    'to-offset': Flags.string({helpValue: '<n>', summary: 'Input offsets to this offset.'}),
  }
  static override summary = "Reset a Streams application: input offsets back, internal topics deleted (Kafka's application reset tool)."

  async run(): Promise<StreamsResetResult> {
    const {flags} = this
    const applicationId = flags['application-id']
    const modes = (['to-earliest', 'to-latest', 'to-offset', 'shift-by', 'to-datetime', 'by-duration'] as const).filter((m) => flags[m] !== undefined && flags[m] !== false)
    if (modes.length > 1) throw new UsageError('give at most one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime, --by-duration')
    const mode = modes[0] ?? 'to-earliest'
    const spec: ResetSpec =
      mode === 'to-offset' ? {mode, offset: parseOffset(flags['to-offset']!, '--to-offset')}
      : mode === 'shift-by' ? {by: flags['shift-by']!, mode}
      : mode === 'to-datetime' ? {mode: 'to-time', time: parseTime(flags['to-datetime']!, '--to-datetime')}
      : mode === 'by-duration' ? {mode: 'to-time', time: Date.now() - parseDuration(flags['by-duration']!, '--by-duration')}
      : {mode}
    const inputTopics = list(flags['input-topics'])
    const intermediateTopics = list(flags['intermediate-topics'])

    const client = await this.kafka()
    const admin = new Admin(client)
    const [group] = await this.withTimeout('describing the group', admin.describeGroups([applicationId]))
    const missingGroup = group!.errorCode === ErrorCode.GROUP_ID_NOT_FOUND
    if (group!.errorCode !== 0 && !missingGroup) throw KafkaError.fromCode(group!.errorCode, `application ${applicationId}`)
    if (!missingGroup && !['Empty', 'Dead', ''].includes(group!.state)) {
      throw new KafkaError(ErrorCode.NON_EMPTY_GROUP, 'NON_EMPTY_GROUP', `Consumer group ${applicationId} is still active (${group!.state}, ${group!.members.length} member(s)): stop every instance of the application first`)
    }

    const metadata = await this.withTimeout('reading metadata', client.refreshMetadata([...inputTopics, ...intermediateTopics]))
    const partitionsOf = (topics: readonly string[]) =>
      topics.flatMap((topic) => (metadata.topics.find((t) => t.name === topic && t.errorCode === 0)?.partitions ?? []).map((p) => ({partition: p.partition, topic})).sort((a, b) => a.partition - b.partition))
    const notFound = [...inputTopics, ...intermediateTopics].filter((topic) => !metadata.topics.some((t) => t.name === topic && t.errorCode === 0))
    const committed = missingGroup ? [] : await this.withTimeout('reading committed offsets', admin.fetchOffsets(applicationId))
    const [inputs, intermediate, internal] = await this.withTimeout(
      'listing offsets',
      Promise.all([computeResetOffsets(admin, partitionsOf(inputTopics), committed, spec), computeResetOffsets(admin, partitionsOf(intermediateTopics), committed, {mode: 'to-latest'}), internalTopics(admin, applicationId)]),
    )
    const result: StreamsResetResult = {applicationId, dryRun: flags['dry-run'], inputs, intermediate, internalTopics: internal, notFound}

    if (!flags['dry-run']) {
      const offsets = [...inputs, ...intermediate].map((r) => ({offset: r.newOffset, partition: r.partition, topic: r.topic}))
      if (offsets.length > 0) {
        const committedResults = await this.withTimeout('committing offsets', admin.commitOffsets(applicationId, offsets))
        failIfAny(committedResults.filter((r) => r.errorCode !== 0).map((r) => ({...r, item: `${r.topic}-${r.partition}`})), committedResults.length, 'partitions', result)
      }
      // The internal topics' committed offsets go with them, so that recreated topics are read from their start.
      const internalCommitted = committed.filter((c) => c.errorCode === 0 && internal.some((t) => t.name === c.topic))
      if (internalCommitted.length > 0) {
        const byTopic = new Map<string, number[]>()
        for (const c of internalCommitted) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), c.partition])
        const deleted = await this.withTimeout('deleting internal topics\' offsets', admin.deleteOffsets(applicationId, [...byTopic].map(([topic, partitions]) => ({partitions, topic}))))
        if (deleted.errorCode !== 0) throw KafkaError.fromCode(deleted.errorCode, `deleting the offsets of ${applicationId}`)
      }
      if (internal.length > 0) {
        const deleted = await this.withTimeout('deleting internal topics', admin.deleteTopics(internal.map((t) => t.name)))
        failIfAny(deleted.filter((r) => r.errorCode !== 0 && r.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).map((r) => ({...r, item: `topic ${r.name}`})), deleted.length, 'internal topics', result)
      }
    }

    const c = this.out.color
    if (result.dryRun) this.out.line(c.yellow('Dry run: nothing changed.'))
    if (notFound.length > 0) this.out.line(`Topics not found, skipped: ${notFound.join(', ')}`)
    const rows = [...inputs.map((r) => ['input', r] as const), ...intermediate.map((r) => ['intermediate', r] as const)]
    if (rows.length === 0) this.out.line('No input or intermediate topic partitions.')
    else this.out.table([{header: 'Topic'}, {align: 'right', header: 'Partition'}, {header: 'Kind'}, {align: 'right', header: 'Current'}, {align: 'right', header: 'New'}], rows.map(([kind, r]) => [r.topic, r.partition, kind, r.currentOffset ?? '-', r.newOffset]))
    this.out.line()
    if (internal.length === 0) this.out.line('No internal topics.')
    else this.out.table([{header: result.dryRun ? 'Internal topic (would be deleted)' : 'Internal topic (deleted)'}, {header: 'Kind'}, {align: 'right', header: 'Partitions'}], internal.map((t) => [t.name, t.kind, t.partitions]))
    if (!result.dryRun) this.out.line(`Done. Remove each instance's local state before restarting it: KafkaStreams#cleanUp() or <state.dir>/${applicationId}.`)
    return result
  }
}
