import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import type {UserChange} from '../../lib/client/users.js'
import {SCRAM_MECHANISMS, type ScramMechanism} from '../../lib/sasl/scram.js'

export interface UsersDeleteResult {
  deleted: (UserChange & {mechanism: string})[]
}

export default class UsersDelete extends BaseCommand<typeof UsersDelete> {
  static override args = {
    user: Args.string({description: 'The user.', required: true}),
  }
  static override description = `Deletes a SASL/SCRAM user's credentials (AlterUserScramCredentials deletions, KIP-554): every mechanism it has, or only --mechanism. Connections already authenticated stay open, as in Kafka; new logins fail. A user without such a credential is reported (RESOURCE_NOT_FOUND, exit 1).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alice', description: 'Every SCRAM credential of alice.'},
    {command: '<%= config.bin %> <%= command.id %> alice --mechanism SCRAM-SHA-256 --json', description: 'Only one mechanism.'},
  ]
  static override flags = {
    mechanism: Flags.string({options: [...SCRAM_MECHANISMS], summary: 'Only this mechanism (default: every one the user has).'}),
  }
  static override summary = 'Delete a SASL/SCRAM user.'

  async run(): Promise<UsersDeleteResult> {
    const {UsersAdmin} = await import('../../lib/client/users.js')
    const admin = new UsersAdmin(await this.kafka())
    const user = this.args.user
    let mechanisms: ScramMechanism[]
    if (this.flags.mechanism) {
      mechanisms = [this.flags.mechanism as ScramMechanism]
    } else {
      const [found] = await this.withTimeout('looking the user up', admin.describe([user]))
      mechanisms = found && found.errorCode === 0 ? (found.credentials.map((c) => c.mechanism) as ScramMechanism[]) : ['SCRAM-SHA-512']
    }
    const deleted: UsersDeleteResult['deleted'] = []
    for (const mechanism of mechanisms) deleted.push({...(await this.withTimeout('deleting', admin.delete(user, mechanism))), mechanism})
    for (const d of deleted) if (d.errorCode === 0) this.out.line(`deleted the ${d.mechanism} credential of ${user}`)
    const result = {deleted}
    failIfAny(deleted.filter((d) => d.errorCode !== 0).map((d) => ({...d, item: `${d.mechanism} credential of ${user}`})), deleted.length, 'credentials', result)
    return result
  }
}
