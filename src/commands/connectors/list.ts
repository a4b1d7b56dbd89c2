import {ConnectCommand, CONNECT_FLAGS} from '../../lib/cli/connect-command.js'
import type {ConnectorInfoBody, ConnectorStatusBody} from '../../lib/connect/rest-client.js'

export interface ConnectorsListResult {
  connectors: Array<{name: string; type: string; state: string; tasks: number; runningTasks: number; failedTasks: number; class: string}>
}

export default class ConnectorsList extends ConnectCommand<typeof ConnectorsList> {
  static override summary = 'List connectors with their type, state and tasks.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --connect-url http://connect:8083 --json']
  static override flags = {...CONNECT_FLAGS}

  async run(): Promise<ConnectorsListResult> {
    const all = await this.connect.get<Record<string, {status: ConnectorStatusBody; info: ConnectorInfoBody}>>('/connectors?expand=status&expand=info')
    const connectors = Object.entries(all).sort(([a], [b]) => a.localeCompare(b)).map(([name, {info, status}]) => ({
      class: info?.config['connector.class'] ?? '',
      failedTasks: status.tasks.filter(t => t.state === 'FAILED').length,
      name,
      runningTasks: status.tasks.filter(t => t.state === 'RUNNING').length,
      state: status.connector.state,
      tasks: status.tasks.length,
      type: status.type,
    }))
    const c = this.out.color
    this.out.table([{header: 'Connector'}, {header: 'Type'}, {header: 'State'}, {align: 'right', header: 'Tasks'}, {header: 'Class'}],
      connectors.map(x => [x.name, x.type, x.state === 'FAILED' ? c.red(x.state) : x.state === 'RUNNING' ? c.green(x.state) : c.yellow(x.state), `${x.runningTasks}/${x.tasks}${x.failedTasks ? c.red(` (${x.failedTasks} failed)`) : ''}`, x.class]))
    return {connectors}
  }
}
