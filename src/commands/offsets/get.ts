import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP} from '../../lib/client/admin.js'
import {failIfAny, parseTime, parseTopicPartitions} from '../../lib/client/cli-input.js'
import {ErrorCode, errorName} from '../../lib/client/errors.js'

export interface PartitionOffsets {
  topic: string
  partition: number
  /** With no --time: the earliest and latest offsets (latest = the next offset to be written). */
  earliest?: bigint
  latest?: bigint
  /** With --time: the first offset whose timestamp is at or after the time (-1: none). */
  offset?: bigint
  timestamp?: bigint
  error: string
  errorCode: number
}

export interface OffsetsGetResult {
  offsets: PartitionOffsets[]
}

export default class OffsetsGet extends BaseCommand<typeof OffsetsGet> {
  static override args = {
    topic: Args.string({description: 'Topic, or topic:0,1 for some partitions.', required: true}),
  }
  static override description = `Shows per partition the earliest and latest offsets (ListOffsets; latest is the offset the next record will get), or with --time the first offset at or after a time. --time takes earliest, latest, max-timestamp (the record with the largest timestamp), epoch ms, an ISO date or a relative time like -1h.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> orders', description: 'Earliest and latest offsets of every partition.'},
    {command: '<%= config.bin %> <%= command.id %> orders:0,1 --time -1h', description: 'Offsets of an hour ago on partitions 0 and 1.'},
    {command: '<%= config.bin %> <%= command.id %> orders --time 2024-05-01T00:00:00Z --json', description: 'By date, as JSON.'},
  ]
  static override flags = {
    partition: Flags.integer({char: 'p', min: 0, multiple: true, summary: 'Only this partition (repeatable).'}),
    time: Flags.string({helpValue: '<earliest|latest|max-timestamp|time>', summary: 'Look offsets up by time.'}),
  }
  static override summary = 'Get partition offsets: earliest, latest, or by time.'

  async run(): Promise<OffsetsGetResult> {
    const spec = parseTopicPartitions(this.args.topic, 'topic')
    const admin = new Admin(await this.kafka())
    const client = await this.kafka()
    const topic = await this.withTimeout('reading metadata', client.topic(spec.topic))
    const wanted = this.flags.partition ?? spec.partitions
    const partitions = topic.partitions.map((p) => p.partition).filter((p) => !wanted || wanted.includes(p))
    const missing = (wanted ?? []).filter((p) => !partitions.includes(p))
    let offsets: PartitionOffsets[]
    if (this.flags.time === undefined) {
      const [earliest, latest] = await this.withTimeout(
        'listing offsets',
        Promise.all([
          admin.listOffsets(partitions.map((partition) => ({partition, timestamp: EARLIEST_TIMESTAMP, topic: spec.topic}))),
          admin.listOffsets(partitions.map((partition) => ({partition, timestamp: LATEST_TIMESTAMP, topic: spec.topic}))),
        ]),
      )
      offsets = partitions.map((partition, i) => {
        const code = earliest[i]!.errorCode || latest[i]!.errorCode
        return {topic: spec.topic, partition, earliest: earliest[i]!.offset, latest: latest[i]!.offset, errorCode: code, error: code === 0 ? 'NONE' : errorName(code)}
      })
      this.out.table(
        [{header: 'Topic'}, {align: 'right', header: 'Partition'}, {align: 'right', header: 'Earliest'}, {align: 'right', header: 'Latest'}, {align: 'right', header: 'Records'}],
        offsets.map((o) => [o.topic, o.partition, o.errorCode === 0 ? o.earliest : o.error, o.errorCode === 0 ? o.latest : '', o.errorCode === 0 ? o.latest! - o.earliest! : '']),
      )
    } else {
      const time = this.flags.time
      const timestamp = time === 'earliest' ? EARLIEST_TIMESTAMP : time === 'latest' ? LATEST_TIMESTAMP : time === 'max-timestamp' ? MAX_TIMESTAMP : BigInt(parseTime(time, '--time'))
      const listed = await this.withTimeout('listing offsets', admin.listOffsets(partitions.map((partition) => ({partition, timestamp, topic: spec.topic}))))
      offsets = listed.map((o) => ({topic: o.topic, partition: o.partition, offset: o.offset, timestamp: o.timestamp, errorCode: o.errorCode, error: o.error}))
      this.out.table(
        [{header: 'Topic'}, {align: 'right', header: 'Partition'}, {align: 'right', header: 'Offset'}, {header: 'Timestamp'}],
        offsets.map((o) => [o.topic, o.partition, o.errorCode === 0 ? o.offset : o.error, o.errorCode === 0 && o.timestamp! >= 0n ? new Date(Number(o.timestamp)).toISOString() : '']),
      )
    }
    for (const partition of missing) offsets.push({topic: spec.topic, partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, error: 'UNKNOWN_TOPIC_OR_PARTITION'})
    const result = {offsets}
    failIfAny(offsets.filter((o) => o.errorCode !== 0).map((o) => ({...o, item: `${o.topic}-${o.partition}`})), offsets.length, 'partitions', result)
    return result
  }
}
