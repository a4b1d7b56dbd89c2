import {ConnectCommand, CONNECT_FLAGS, CONNECTOR_ARG} from '../../lib/cli/connect-command.js'
import {type ConnectorInfoBody, type ConnectorStatusBody, enc} from '../../lib/connect/rest-client.js'

export interface ConnectorsDescribeResult {info: ConnectorInfoBody; status: ConnectorStatusBody; tasks: Array<{id: {connector: string; task: number}; config: Record<string, string>}>}

export default class ConnectorsDescribe extends ConnectCommand<typeof ConnectorsDescribe> {
  static override summary = "Show a connector's config, state and tasks."
  static override examples = ['<%= config.bin %> <%= command.id %> lines-source']
  static override args = CONNECTOR_ARG
  static override flags = {...CONNECT_FLAGS}

  async run(): Promise<ConnectorsDescribeResult> {
    const name = enc(this.args.name)
    const [info, status, tasks] = await Promise.all([
      this.connect.get<ConnectorInfoBody>(`/connectors/${name}`),
      this.connect.get<ConnectorStatusBody>(`/connectors/${name}/status`),
      this.connect.get<ConnectorsDescribeResult['tasks']>(`/connectors/${name}/tasks`),
    ])
    this.out.keyValues([['Name', info.name], ['Type', info.type], ['State', status.connector.state], ['Worker', status.connector.worker_id], ['Tasks', String(status.tasks.length)]])
    this.out.line()
    this.out.table([{header: 'Config'}, {header: 'Value'}], Object.entries(info.config).sort(([a], [b]) => a.localeCompare(b)))
    return {info, status, tasks}
  }
}
