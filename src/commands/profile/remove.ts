import {Args} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {NotFoundError} from '../../lib/cli/errors.js'
import {loadProfiles, profilesPath, saveProfiles} from '../../lib/cli/profiles.js'

export interface ProfileRemoveResult {
  removed: string
  current: string | null
}

export default class ProfileRemove extends KcliCommand<typeof ProfileRemove> {
  static override args = {
    name: Args.string({description: 'Profile to remove.', required: true}),
  }
  static override description = `Removes a saved profile. Removing the current profile leaves none current.`
  static override examples = [{command: '<%= config.bin %> <%= command.id %> old-cluster', description: 'Forget a profile.'}]
  static override summary = 'Remove a profile.'

  async run(): Promise<ProfileRemoveResult> {
    const file = loadProfiles()
    if (!(this.args.name in file.profiles)) throw new NotFoundError(`no profile named "${this.args.name}" in ${profilesPath()}`)
    delete file.profiles[this.args.name]
    if (file.current === this.args.name) file.current = null
    saveProfiles(file)
    this.out.line(`removed profile ${this.args.name}`)
    return {current: file.current, removed: this.args.name}
  }
}
