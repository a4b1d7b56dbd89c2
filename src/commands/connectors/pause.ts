import {ConnectCommand, CONNECT_FLAGS, CONNECTOR_ARG} from '../../lib/cli/connect-command.js'
import {enc} from '../../lib/connect/rest-client.js'

export default class ConnectorsPause extends ConnectCommand<typeof ConnectorsPause> {
  static override summary = 'Pause a connector and its tasks (PUT /connectors/NAME/pause).'
  static override examples = ['<%= config.bin %> <%= command.id %> lines-sink']
  static override args = CONNECTOR_ARG
  static override flags = {...CONNECT_FLAGS}

  async run(): Promise<{name: string; status: number}> {
    const {status} = await this.connect.request('PUT', `/connectors/${enc(this.args.name)}/pause`)
    this.out.line(`Paused connector ${this.args.name}`)
    return {name: this.args.name, status}
  }
}
