import {Flags} from '@oclif/core'

import {ConnectCommand, CONNECT_FLAGS, CONNECTOR_ARG} from '../../lib/cli/connect-command.js'
import {type ConnectorStatusBody, enc} from '../../lib/connect/rest-client.js'

export default class ConnectorsStatus extends ConnectCommand<typeof ConnectorsStatus> {
  static override summary = 'Show the state of a connector and of each of its tasks (with the failure of a FAILED one).'
  static override examples = ['<%= config.bin %> <%= command.id %> lines-sink', '<%= config.bin %> <%= command.id %> lines-sink --trace']
  static override args = CONNECTOR_ARG
  static override flags = {...CONNECT_FLAGS, trace: Flags.boolean({summary: 'Print the whole stack trace of failed instances, not only its first line.'})}

  async run(): Promise<ConnectorStatusBody> {
    const s = await this.connect.get<ConnectorStatusBody>(`/connectors/${enc(this.args.name)}/status`)
    const c = this.out.color
    const state = (x: string) => (x === 'FAILED' ? c.red(x) : x === 'RUNNING' ? c.green(x) : c.yellow(x))
    const why = (t?: string) => (t ? (this.flags.trace ? t : t.split('\n')[0]!) : '')
    this.out.table([{header: 'Instance'}, {header: 'State'}, {header: 'Worker'}, {header: 'Error'}], [
      [`connector ${s.name}`, state(s.connector.state), s.connector.worker_id, why(s.connector.trace)],
      ...s.tasks.map(t => [`task ${t.id}`, state(t.state), t.worker_id, why(t.trace)]),
    ])
    return s
  }
}
