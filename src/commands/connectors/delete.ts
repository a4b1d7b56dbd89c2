import {ConnectCommand, CONNECT_FLAGS, CONNECTOR_ARG} from '../../lib/cli/connect-command.js'
import {enc} from '../../lib/connect/rest-client.js'

export default class ConnectorsDelete extends ConnectCommand<typeof ConnectorsDelete> {
  static override summary = 'Delete a connector (its tasks stop; its offsets stay).'
  static override examples = ['<%= config.bin %> <%= command.id %> lines-sink']
  static override args = CONNECTOR_ARG
  static override flags = {...CONNECT_FLAGS}

  async run(): Promise<{name: string; status: number}> {
    const {status} = await this.connect.request('DELETE', `/connectors/${enc(this.args.name)}`)
    this.out.line(`Deleted connector ${this.args.name}`)
    return {name: this.args.name, status}
  }
}
