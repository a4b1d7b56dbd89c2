import {ConnectCommand, CONNECT_FLAGS, CONNECTOR_ARG} from '../../lib/cli/connect-command.js'
import {enc} from '../../lib/connect/rest-client.js'

export default class ConnectorsResume extends ConnectCommand<typeof ConnectorsResume> {
  static override summary = 'Resume a paused or stopped connector.'
  static override examples = ['<%= config.bin %> <%= command.id %> lines-sink']
  static override args = CONNECTOR_ARG
  static override flags = {...CONNECT_FLAGS}

  async run(): Promise<{name: string; status: number}> {
    const {status} = await this.connect.request('PUT', `/connectors/${enc(this.args.name)}/resume`)
    this.out.line(`Resumed connector ${this.args.name}`)
    return {name: this.args.name, status}
  }
}
