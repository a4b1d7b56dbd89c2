import {Args, Flags} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {loadProfiles, saveProfiles} from '../../lib/cli/profiles.js'
import {parseKeyValues} from '../../lib/client/cli-input.js'

export interface ProfileAddResult {
  name: string
  values: Record<string, string>
  current: boolean
  path: string
}

export default class ProfileAdd extends KcliCommand<typeof ProfileAdd> {
  static override args = {
    name: Args.string({description: 'Profile name.', required: true}),
  }
  static override description = `Saves a profile in $XDG_CONFIG_HOME/kcli/profiles.json (~/.config/kcli): the bootstrap servers and any other flag values (--set flag=value, e.g. timeout=10000, compression=lz4, acks=1) that commands take when the flag is not given. The first profile becomes the current one; --use makes this one current. Adding an existing name replaces it.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> local --servers 127.0.0.1:9092 --use', description: 'A local profile, made current.'},
    {command: '<%= config.bin %> <%= command.id %> prod --servers k1:9092,k2:9092 --set timeout=10000 --set compression=zstd', description: 'With client settings.'},
  ]
  static override flags = {
    servers: Flags.string({char: 's', helpValue: '<host:port,...>', required: true, summary: 'Bootstrap servers of the profile.'}),
    set: Flags.string({helpValue: '<flag=value>', multiple: true, summary: 'Another flag value (repeatable).'}),
    use: Flags.boolean({summary: 'Make this the current profile.'}),
  }
  static override summary = 'Add or replace a profile.'

  async run(): Promise<ProfileAddResult> {
    const {parseBootstrapServers} = await import('../../lib/cli/bootstrap-server.js')
    try {
      parseBootstrapServers(this.flags.servers)
    } catch (error) {
      throw new UsageError(`--servers: ${(error as Error).message}`)
    }
    const extra = parseKeyValues(this.flags.set, '--set')
    if ('profile' in extra || 'json' in extra) throw new UsageError('--set: profile and json cannot be set in a profile')
    const file = loadProfiles()
    const values = {'bootstrap-server': this.flags.servers, ...extra}
    file.profiles[this.args.name] = values
    if (this.flags.use || file.current === null) file.current = this.args.name
    const path = saveProfiles(file)
    const current = file.current === this.args.name
    this.out.line(`saved profile ${this.args.name}${current ? ' (current)' : ''} in ${path}`)
    return {current, name: this.args.name, path, values}
  }
}
