import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {Admin, type ItemResult} from '../../lib/client/admin.js'
import {failIfAny, parseKeyValues} from '../../lib/client/cli-input.js'

export interface TopicsAlterResult {
  topic: string
  set: Record<string, string>
  deleted: string[]
  result: ItemResult
}

export default class TopicsAlter extends BaseCommand<typeof TopicsAlter> {
  static override args = {
    topic: Args.string({description: 'Topic to change.', required: true}),
  }
  static override description = `Sets or removes configs of a topic (IncrementalAlterConfigs; brokers without it get AlterConfigs with the topic's other configs kept). A removed config falls back to the broker default.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> orders --config retention.ms=3600000', description: 'Keep one hour of data.'},
    {command: '<%= config.bin %> <%= command.id %> orders --delete-config retention.ms --json', description: 'Back to the default retention.'},
  ]
  static override flags = {
    config: Flags.string({char: 'c', helpValue: '<key=value>', multiple: true, summary: 'A config to set (repeatable).'}),
    'delete-config': Flags.string({helpValue: '<key>', multiple: true, summary: 'A config to remove (repeatable).'}),
    'validate-only': Flags.boolean({summary: 'Check the change without applying it.'}),
  }
  static override summary = 'Change topic configs.'

  async run(): Promise<TopicsAlterResult> {
    const set = parseKeyValues(this.flags.config, '--config')
    const deleted = (this.flags['delete-config'] ?? []).flatMap((k) => k.split(',')).filter(Boolean)
    if (Object.keys(set).length === 0 && deleted.length === 0) throw new UsageError('nothing to change: give --config key=value or --delete-config key')
    const admin = new Admin(await this.kafka())
    const [result] = await this.withTimeout('altering configs', admin.alterConfigs([{delete: deleted, name: this.args.topic, set, type: 'topic'}], {validateOnly: this.flags['validate-only']}))
    const out: TopicsAlterResult = {topic: this.args.topic, set, deleted, result: {errorCode: result!.errorCode, error: result!.error, errorMessage: result!.errorMessage}}
    if (result!.errorCode === 0) {
      const c = this.out.color
      for (const [k, v] of Object.entries(set)) this.out.line(`${c.green('set')}     ${k}=${v}`)
      for (const k of deleted) this.out.line(`${c.yellow('deleted')} ${k}`)
    }
    failIfAny(result!.errorCode === 0 ? [] : [{...result!, item: `topic ${this.args.topic}`}], 1, 'topics', out)
    return out
  }
}
