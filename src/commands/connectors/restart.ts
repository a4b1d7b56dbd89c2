import {Flags} from '@oclif/core'

import {ConnectCommand, CONNECT_FLAGS, CONNECTOR_ARG} from '../../lib/cli/connect-command.js'
import {type ConnectorStatusBody, enc} from '../../lib/connect/rest-client.js'

export default class ConnectorsRestart extends ConnectCommand<typeof ConnectorsRestart> {
  static override summary = 'Restart a connector, its tasks (--include-tasks), only failed ones (--only-failed), or one task (--task).'
  static override examples = ['<%= config.bin %> <%= command.id %> lines-sink --include-tasks --only-failed', '<%= config.bin %> <%= command.id %> lines-sink --task 0']
  static override args = CONNECTOR_ARG
  static override flags = {
    ...CONNECT_FLAGS,
    'include-tasks': Flags.boolean({summary: 'Restart the tasks too.'}),
    'only-failed': Flags.boolean({summary: 'Only instances that are FAILED.'}),
    task: Flags.integer({min: 0, summary: 'Restart this task only.', exclusive: ['include-tasks', 'only-failed']}),
  }

  async run(): Promise<{name: string; task?: number; status: ConnectorStatusBody | null}> {
    const name = enc(this.args.name)
    if (this.flags.task !== undefined) {
      await this.connect.request('POST', `/connectors/${name}/tasks/${this.flags.task}/restart`)
      this.out.line(`Restarted task ${this.args.name}-${this.flags.task}`)
      return {name: this.args.name, status: null, task: this.flags.task}
    }
    const q = `includeTasks=${this.flags['include-tasks']}&onlyFailed=${this.flags['only-failed']}`
    const {body} = await this.connect.request<ConnectorStatusBody | null>('POST', `/connectors/${name}/restart?${q}`)
    if (body) {
      const restarted = [body.connector.state === 'RESTARTING' ? 'the connector' : '', ...body.tasks.filter(t => t.state === 'RESTARTING').map(t => `task ${t.id}`)].filter(Boolean)
      this.out.line(`Restarting ${restarted.length > 0 ? restarted.join(', ') : 'nothing'} of ${this.args.name}`)
    } else this.out.line(`Restarted connector ${this.args.name}`)
    return {name: this.args.name, status: body}
  }
}
