import {Args} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {NotFoundError} from '../../lib/cli/errors.js'
import {loadProfiles, profilesPath, saveProfiles} from '../../lib/cli/profiles.js'

export interface ProfileUseResult {
  current: string
}

export default class ProfileUse extends KcliCommand<typeof ProfileUse> {
  static override args = {
    name: Args.string({description: 'Profile to make current.', required: true}),
  }
  static override description = `Makes a profile the current one: commands take their unset flags from it (a flag on the command line or its KCLI_* variable still wins; --profile picks another for one command).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> prod', description: 'Talk to prod from now on.'},
  ]
  static override summary = 'Switch the current profile.'

  async run(): Promise<ProfileUseResult> {
    const file = loadProfiles()
    if (!(this.args.name in file.profiles)) throw new NotFoundError(`no profile named "${this.args.name}" in ${profilesPath()}`)
    file.current = this.args.name
    saveProfiles(file)
    this.out.line(`current profile: ${this.args.name}`)
    return {current: this.args.name}
  }
}
