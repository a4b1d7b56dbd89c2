import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {KafkaError} from '../../lib/cli/errors.js'
import {Admin, type PartitionResult} from '../../lib/client/admin.js'
import {failIfAny, parseTopicPartitions} from '../../lib/client/cli-input.js'

export interface GroupsDeleteOffsetsResult {
  groupId: string
  partitions: PartitionResult[]
}

export default class GroupsDeleteOffsets extends BaseCommand<typeof GroupsDeleteOffsets> {
  static override args = {
    group: Args.string({description: 'Group id.', required: true}),
  }
  static override description = `Deletes a group's committed offsets for topics or partitions (OffsetDelete). The broker refuses partitions the group is consuming (GROUP_SUBSCRIBED_TO_TOPIC).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> billing --topic orders', description: 'All of the group\'s offsets for orders.'},
    {command: '<%= config.bin %> <%= command.id %> billing --topic orders:0,1 --json', description: 'Partitions 0 and 1 only.'},
  ]
  static override flags = {
    topic: Flags.string({char: 't', helpValue: '<topic[:p,...]>', multiple: true, required: true, summary: 'Topic, or topic:0,1 (repeatable).'}),
  }
  static override summary = 'Delete committed offsets of a group.'

  async run(): Promise<GroupsDeleteOffsetsResult> {
    const admin = new Admin(await this.kafka())
    const client = await this.kafka()
    const groupId = this.args.group
    const specs = this.flags.topic.map((t) => parseTopicPartitions(t, '--topic'))
    const partitions = await Promise.all(
      specs.map(async (s) => ({partitions: s.partitions ?? (await client.topic(s.topic)).partitions.map((p) => p.partition), topic: s.topic})),
    )
    const response = await this.withTimeout('deleting offsets', admin.deleteOffsets(groupId, partitions))
    if (response.errorCode !== 0) throw KafkaError.fromCode(response.errorCode, `group ${groupId}`)
    const c = this.out.color
    this.out.table(
      [{header: 'Topic'}, {align: 'right', header: 'Partition'}, {header: 'Result'}],
      response.partitions.map((p) => [p.topic, p.partition, p.errorCode === 0 ? c.green('deleted') : c.red(p.error)]),
    )
    const result = {groupId, partitions: response.partitions}
    failIfAny(response.partitions.filter((p) => p.errorCode !== 0).map((p) => ({...p, item: `${p.topic}-${p.partition}`})), response.partitions.length, 'partitions', result)
    return result
  }
}
