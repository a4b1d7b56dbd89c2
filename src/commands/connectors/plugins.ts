import {Flags} from '@oclif/core'

import {ConnectCommand, CONNECT_FLAGS} from '../../lib/cli/connect-command.js'

export default class ConnectorsPlugins extends ConnectCommand<typeof ConnectorsPlugins> {
  static override summary = 'List the connector plugins a worker has (--all: transformations and predicates too).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --all --json']
  static override flags = {...CONNECT_FLAGS, all: Flags.boolean({summary: 'Every plugin, not only connectors.'})}

  async run(): Promise<{plugins: Array<{class: string; type: string; version: string}>}> {
    const plugins = await this.connect.get<Array<{class: string; type: string; version: string}>>(`/connector-plugins${this.flags.all ? '?connectorsOnly=false' : ''}`)
    this.out.table([{header: 'Class'}, {header: 'Type'}, {header: 'Version'}], plugins.map(p => [p.class, p.type, p.version ?? '']))
    return {plugins}
  }
}
