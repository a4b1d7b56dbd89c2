import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {Admin, type ItemResult} from '../../lib/client/admin.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import {ErrorCode} from '../../lib/client/errors.js'

export interface TopicsDeleteResult {
  topics: (ItemResult & {name: string; deleted: boolean})[]
}

export default class TopicsDelete extends BaseCommand<typeof TopicsDelete> {
  static override args = {
    topic: Args.string({description: 'Topic(s) to delete.', required: true}),
  }
  static override description = `Deletes topics and all their data. On a terminal it asks first unless --yes is given; in scripts (stdin or stdout not a terminal) it does not ask. --if-exists makes a missing topic a success.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> orders', description: 'Delete a topic (asks on a terminal).'},
    {command: '<%= config.bin %> <%= command.id %> a b --yes --if-exists --json', description: 'Delete several topics without asking.'},
  ]
  static override flags = {
    'if-exists': Flags.boolean({summary: 'Succeed when a topic does not exist.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  }
  static override strict = false
  static override summary = 'Delete topics.'

  async run(): Promise<TopicsDeleteResult> {
    const names = this.positionals
    if (!this.flags.yes && this.out.isTTY && process.stdin.isTTY && !this.jsonEnabled()) {
      const {confirm} = await import('@inquirer/prompts')
      const ok = await confirm({default: false, message: names.length === 1 ? `Delete topic ${names[0]} and all its data?` : `Delete ${names.length} topics (${names.join(', ')}) and all their data?`})
      if (!ok) throw new UsageError('not confirmed; nothing deleted')
    }
    const admin = new Admin(await this.kafka())
    const results = await this.withTimeout('deleting topics', admin.deleteTopics(names, {timeoutMs: this.flags.timeout}))
    const ifExists = this.flags['if-exists']
    const topics = results.map((r) => ({...r, deleted: r.errorCode === 0}))
    const c = this.out.color
    this.out.table(
      [{header: 'Topic'}, {header: 'Result'}],
      topics.map((t) => [t.name, t.deleted ? c.green('deleted') : t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && ifExists ? c.dim('absent') : c.red(t.error)]),
    )
    const result = {topics}
    failIfAny(
      topics.filter((t) => t.errorCode !== 0 && !(ifExists && t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)).map((t) => ({...t, item: `topic ${t.name}`})),
      topics.length,
      'topics',
      result,
    )
    return result
  }
}
