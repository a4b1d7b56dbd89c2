import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {KafkaError, UsageError} from '../../lib/cli/errors.js'
import {Admin} from '../../lib/client/admin.js'
import {failIfAny, parseDuration, parseOffset, parseTime, parseTopicPartitions} from '../../lib/client/cli-input.js'
import {ErrorCode} from '../../lib/client/errors.js'
import {computeResetOffsets, type ResetPartition, type ResetSpec} from '../../lib/client/offset-reset.js'

export type {ResetPartition} from '../../lib/client/offset-reset.js'

export interface GroupsResetOffsetsResult {
  groupId: string
  /** False for a dry run (the default): nothing was committed. */
  executed: boolean
  partitions: ResetPartition[]
}

export default class GroupsResetOffsets extends BaseCommand<typeof GroupsResetOffsets> {
  static override args = {
    group: Args.string({description: 'Group id.', required: true}),
  }
  static override description = `Computes new committed offsets for a group and, with --execute, commits them (a dry run by default, as kafka-consumer-groups --reset-offsets). Exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime, --by-duration; the partitions of --topic t (or t:0,1) or of every topic the group has offsets for (--all-topics). New offsets are kept within each partition's earliest..latest. Refused while the group has active members.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> billing --topic orders --to-earliest', description: 'Show what resetting to the beginning would do.'},
    {command: '<%= config.bin %> <%= command.id %> billing --all-topics --to-datetime 2024-05-01T00:00:00Z --execute', description: 'Rewind every topic to a date.'},
    {command: '<%= config.bin %> <%= command.id %> billing --topic orders:0 --shift-by -100 --execute --json', description: 'Re-read the last 100 records of partition 0.'},
    {command: '<%= config.bin %> <%= command.id %> billing --topic orders --by-duration 1h --execute', description: 'Back to an hour ago.'},
  ]
  static override flags = {
    'all-topics': Flags.boolean({summary: 'Every topic the group has committed offsets for.'}),
    'by-duration': Flags.string({helpValue: '<duration>', summary: 'To the offsets of this long ago (1h, 30m, PT1H).'}),
    execute: Flags.boolean({summary: 'Commit the new offsets (default: a dry run).'}),
    'shift-by': Flags.integer({helpValue: '<n>', summary: 'Move the committed offsets by n (negative: back).'}),
    'to-datetime': Flags.string({helpValue: '<time>', summary: 'To the first offset at or after this time (ISO 8601, epoch ms, -1h).'}),
    'to-earliest': Flags.boolean({summary: 'To the earliest offsets.'}),
    'to-latest': Flags.boolean({summary: 'To the latest offsets (skip everything).'}),
    'to-offset': Flags.string({helpValue: '<n>', summary: 'To this offset.'}),
    topic: Flags.string({char: 't', helpValue: '<topic[:p,...]>', multiple: true, summary: 'Topic, or topic:0,1 (repeatable).'}),
  }
  static override summary = 'Reset the committed offsets of a group (dry run unless --execute).'

  async run(): Promise<GroupsResetOffsetsResult> {
    const {flags} = this
    const groupId = this.args.group
    const modes = (['to-earliest', 'to-latest', 'to-offset', 'shift-by', 'to-datetime', 'by-duration'] as const).filter((m) => flags[m] !== undefined && flags[m] !== false)
    if (modes.length !== 1) throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime, --by-duration')
    if (!flags['all-topics'] && !flags.topic) throw new UsageError('give --topic or --all-topics')
    if (flags['all-topics'] && flags.topic) throw new UsageError('give --topic or --all-topics, not both')
    const mode = modes[0]!
    const target = mode === 'to-offset' ? parseOffset(flags['to-offset']!, '--to-offset') : undefined
    const time = mode === 'to-datetime' ? parseTime(flags['to-datetime']!, '--to-datetime') : mode === 'by-duration' ? Date.now() - parseDuration(flags['by-duration']!, '--by-duration') : undefined

    const client = await this.kafka()
    const admin = new Admin(client)
    const [description] = await this.withTimeout('describing the group', admin.describeGroups([groupId]))
    // A group that does not exist yet (Dead, or GROUP_ID_NOT_FOUND from DescribeGroups v6) may be given offsets.
    const missing = description!.errorCode === ErrorCode.GROUP_ID_NOT_FOUND
    if (description!.errorCode !== 0 && !missing) throw KafkaError.fromCode(description!.errorCode, `group ${groupId}`)
    const inactive = missing || ['Empty', 'Dead', ''].includes(description!.state)
    if (!inactive) {
      throw new KafkaError(ErrorCode.NON_EMPTY_GROUP, 'NON_EMPTY_GROUP', `group ${groupId} is ${description!.state} with ${description!.members.length} member(s); stop its consumers first`)
    }

    const committed = await this.withTimeout('reading committed offsets', admin.fetchOffsets(groupId))
    let partitions: {topic: string; partition: number}[]
    if (flags['all-topics']) {
      partitions = committed.filter((c) => c.errorCode === 0 && c.offset >= 0n).map((c) => ({partition: c.partition, topic: c.topic}))
    } else {
      partitions = []
      for (const spec of flags.topic!.map((t) => parseTopicPartitions(t, '--topic'))) {
        const info = await this.withTimeout('reading metadata', client.topic(spec.topic))
        const all = info.partitions.map((p) => p.partition)
        const missing = (spec.partitions ?? []).filter((p) => !all.includes(p))
        if (missing.length > 0) throw new UsageError(`--topic ${spec.topic}: no partition ${missing.join(',')}`)
        for (const partition of spec.partitions ?? all) partitions.push({partition, topic: spec.topic})
      }
    }
    partitions.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    const spec: ResetSpec = mode === 'to-offset' ? {mode, offset: target!} : mode === 'shift-by' ? {by: flags['shift-by']!, mode} : mode === 'to-earliest' || mode === 'to-latest' ? {mode} : {mode: 'to-time', time: time!}
    const rows = await this.withTimeout('listing offsets', computeResetOffsets(admin, partitions, committed, spec))

    const result: GroupsResetOffsetsResult = {executed: false, groupId, partitions: rows}
    if (flags.execute && rows.length > 0) {
      const committedResults = await this.withTimeout('committing offsets', admin.commitOffsets(groupId, rows.map((r) => ({offset: r.newOffset, partition: r.partition, topic: r.topic}))))
      result.executed = true
      failIfAny(committedResults.filter((r) => r.errorCode !== 0).map((r) => ({...r, item: `${r.topic}-${r.partition}`})), committedResults.length, 'partitions', result)
    }
    this.out.table(
      [{header: 'Topic'}, {align: 'right', header: 'Partition'}, {align: 'right', header: 'Current'}, {align: 'right', header: 'New'}],
      rows.map((r) => [r.topic, r.partition, r.currentOffset ?? '-', r.newOffset]),
    )
    if (!result.executed) this.out.line(this.out.color.yellow('Dry run: nothing committed. Add --execute to commit these offsets.'))
    return result
  }
}
