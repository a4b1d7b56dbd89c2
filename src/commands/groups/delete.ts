import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {Admin, type ItemResult} from '../../lib/client/admin.js'
import {failIfAny} from '../../lib/client/cli-input.js'

export interface GroupsDeleteResult {
  groups: (ItemResult & {groupId: string; deleted: boolean})[]
}

export default class GroupsDelete extends BaseCommand<typeof GroupsDelete> {
  static override args = {
    group: Args.string({description: 'Group id(s) to delete.', required: true}),
  }
  static override description = `Deletes consumer groups and their committed offsets. A group with active members is refused by the broker (NON_EMPTY_GROUP). Asks on a terminal unless --yes.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> old-billing --yes', description: 'Delete a group.'},
    {command: '<%= config.bin %> <%= command.id %> a b --yes --json', description: 'Several, as JSON.'},
  ]
  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  }
  static override strict = false
  static override summary = 'Delete consumer groups.'

  async run(): Promise<GroupsDeleteResult> {
    const ids = this.positionals
    if (!this.flags.yes && this.out.isTTY && process.stdin.isTTY && !this.jsonEnabled()) {
      const {confirm} = await import('@inquirer/prompts')
      if (!(await confirm({default: false, message: `Delete ${ids.length === 1 ? `group ${ids[0]}` : `${ids.length} groups`} and their offsets?`}))) throw new UsageError('not confirmed; nothing deleted')
    }
    const admin = new Admin(await this.kafka())
    const results = await this.withTimeout('deleting groups', admin.deleteGroups(ids))
    const groups = results.map((r) => ({...r, deleted: r.errorCode === 0}))
    const c = this.out.color
    this.out.table([{header: 'Group'}, {header: 'Result'}], groups.map((g) => [g.groupId, g.deleted ? c.green('deleted') : c.red(g.error)]))
    const result = {groups}
    failIfAny(groups.filter((g) => !g.deleted).map((g) => ({...g, item: `group ${g.groupId}`})), groups.length, 'groups', result)
    return result
  }
}
