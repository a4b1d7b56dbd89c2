import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin, type ItemResult} from '../../lib/client/admin.js'
import {failIfAny} from '../../lib/client/cli-input.js'

export interface TopicsAddPartitionsResult extends ItemResult {
  topic: string
  partitions: number
}

export default class TopicsAddPartitions extends BaseCommand<typeof TopicsAddPartitions> {
  static override args = {
    topic: Args.string({description: 'Topic to grow.', required: true}),
  }
  static override description = `Raises a topic's partition count to --partitions (the new total, as kafka-topics --alter --partitions takes it). Partitions can only be added; keyed records may map to different partitions afterwards.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> orders --partitions 12', description: 'Grow orders to 12 partitions.'},
    {command: '<%= config.bin %> <%= command.id %> orders -p 12 --validate-only --json', description: 'Check first.'},
  ]
  static override flags = {
    partitions: Flags.integer({char: 'p', min: 1, required: true, summary: 'The new total number of partitions.'}),
    'validate-only': Flags.boolean({summary: 'Check the change without applying it.'}),
  }
  static override summary = 'Add partitions to a topic.'

  async run(): Promise<TopicsAddPartitionsResult> {
    const admin = new Admin(await this.kafka())
    const [r] = await this.withTimeout(
      'adding partitions',
      admin.createPartitions([{count: this.flags.partitions, name: this.args.topic}], {timeoutMs: this.flags.timeout, validateOnly: this.flags['validate-only']}),
    )
    const result: TopicsAddPartitionsResult = {topic: this.args.topic, partitions: this.flags.partitions, errorCode: r!.errorCode, error: r!.error, errorMessage: r!.errorMessage}
    if (r!.errorCode === 0) this.out.line(`${this.args.topic}: ${this.flags['validate-only'] ? 'can have' : 'now has'} ${this.flags.partitions} partitions`)
    failIfAny(r!.errorCode === 0 ? [] : [{...r!, item: `topic ${this.args.topic}`}], 1, 'topics', result)
    return result
  }
}
