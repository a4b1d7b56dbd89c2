import {Args} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import type {ScramUser} from '../../lib/client/users.js'

export interface UsersListResult {
  users: ScramUser[]
}

export default class UsersList extends BaseCommand<typeof UsersList> {
  static override args = {
    user: Args.string({description: 'Only these users (all with SCRAM credentials when none is given).', ignoreStdin: true}),
  }
  static override description = `Lists the SASL/SCRAM users of the cluster with their mechanisms and iteration counts (DescribeUserScramCredentials, KIP-554: what kafka-configs --describe --entity-type users shows). Secrets are never shown: the cluster keeps only salted hashes. A user named but unknown is reported (RESOURCE_NOT_FOUND) and makes the exit code 1.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every SCRAM user.'},
    {command: '<%= config.bin %> <%= command.id %> alice bob --json', description: 'Two users, as JSON.'},
  ]
  static override strict = false
  static override summary = 'List SASL/SCRAM users and their mechanisms.'

  async run(): Promise<UsersListResult> {
    const {UsersAdmin} = await import('../../lib/client/users.js')
    const admin = new UsersAdmin(await this.kafka())
    const names = this.positionals.length > 0 ? this.positionals : undefined
    const users = (await this.withTimeout('listing users', admin.describe(names))).sort((a, b) => a.user.localeCompare(b.user))
    const c = this.out.color
    this.out.table(
      [{header: 'User'}, {header: 'Mechanisms'}],
      users.map((u) => [u.user, u.errorCode === 0 ? u.credentials.map((cr) => `${cr.mechanism} (${cr.iterations} iterations)`).join(', ') : c.red(`${u.error}${u.errorMessage ? `: ${u.errorMessage}` : ''}`)]),
    )
    const result = {users}
    failIfAny(users.filter((u) => u.errorCode !== 0).map((u) => ({...u, item: `user ${u.user}`})), users.length, 'users', result)
    return result
  }
}
