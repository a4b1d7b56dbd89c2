import {KcliCommand} from '../../lib/cli/base-command.js'
import {loadProfiles, profilesPath} from '../../lib/cli/profiles.js'

export interface ProfileListResult {
  current: string | null
  path: string
  profiles: {name: string; current: boolean; values: Record<string, string>}[]
}

export default class ProfileList extends KcliCommand<typeof ProfileList> {
  static override description = `Lists the saved profiles with their bootstrap servers and settings; the current one is marked.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Saved profiles.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq -r .current', description: 'The current profile\'s name.'},
  ]
  static override summary = 'List profiles.'

  async run(): Promise<ProfileListResult> {
    const file = loadProfiles()
    const profiles = Object.entries(file.profiles)
      .map(([name, values]) => ({current: name === file.current, name, values}))
      .sort((a, b) => a.name.localeCompare(b.name))
    const c = this.out.color
    if (profiles.length === 0) this.out.line(`no profiles yet (add one with: kcli profile add NAME --servers HOST:PORT)`)
    else {
      this.out.table(
        [{header: ''}, {header: 'Name'}, {header: 'Bootstrap server'}, {header: 'Settings'}],
        profiles.map((p) => [
          p.current ? c.green('*') : '',
          p.name,
          p.values['bootstrap-server'] ?? '',
          Object.entries(p.values)
            .filter(([k]) => k !== 'bootstrap-server')
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        ]),
      )
    }
    return {current: file.current, path: profilesPath(), profiles}
  }
}
