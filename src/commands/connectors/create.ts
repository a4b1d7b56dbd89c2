import {readFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'

import {ConnectCommand, CONNECT_FLAGS} from '../../lib/cli/connect-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {parseKeyValue} from '../../lib/client/cli-input.js'
import {parseProperties} from '../../lib/config/broker-configs.js'
import {type ConnectorInfoBody, enc} from '../../lib/connect/rest-client.js'

export default class ConnectorsCreate extends ConnectCommand<typeof ConnectorsCreate> {
  static override summary = 'Create a connector (or update it with --update).'
  static override description = 'The config comes from a .properties file or a JSON file (either the config object or {"name", "config"}), then -c key=value flags. The name is the argument, else the config\'s `name`. Creates with POST /connectors; --update uses PUT /connectors/NAME/config (create or replace).'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --file file-source.properties',
    '<%= config.bin %> <%= command.id %> lines -c connector.class=FileStreamSource -c file=/tmp/in.txt -c topic=lines',
  ]
  static override args = {name: Args.string({description: 'The connector name (default: the config\'s name).', required: false})}
  static override flags = {
    ...CONNECT_FLAGS,
    file: Flags.string({char: 'f', helpValue: '<file>', summary: 'Config as .properties or JSON.'}),
    config: Flags.string({char: 'c', helpValue: '<key=value>', multiple: true, summary: 'A config entry (repeatable; wins over --file).'}),
    'initial-state': Flags.option({options: ['RUNNING', 'PAUSED', 'STOPPED'] as const, summary: 'State to create the connector in (KIP-980).'})(),
    update: Flags.boolean({summary: 'Create or replace with PUT /connectors/NAME/config.'}),
  }

  async run(): Promise<ConnectorInfoBody> {
    let config: Record<string, string> = {}
    if (this.flags.file) {
      let text: string
      try { text = await readFile(this.flags.file, 'utf8') } catch (error) { throw new UsageError(`cannot read ${this.flags.file}: ${(error as Error).message}`) }
      if (text.trimStart().startsWith('{')) {
        let doc: Record<string, unknown>
        try { doc = JSON.parse(text) as Record<string, unknown> } catch (error) { throw new UsageError(`${this.flags.file}: ${(error as Error).message}`) }
        const inner = doc.config && typeof doc.config === 'object' ? {...(doc.config as Record<string, unknown>), ...(doc.name ? {name: doc.name} : {})} : doc
        config = Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, String(v)]))
      } else config = parseProperties(text)
    }
    for (const c of this.flags.config ?? []) {
      const [k, v] = parseKeyValue(c, '--config')
      config[k] = v
    }
    const name = this.args.name ?? config.name
    if (!name) throw new UsageError('a connector name is needed: the argument or a `name` config')
    config.name = name
    const initial = this.flags['initial-state']
    const {body, status} = this.flags.update
      ? await this.connect.request<ConnectorInfoBody>('PUT', `/connectors/${enc(name)}/config`, config)
      : await this.connect.request<ConnectorInfoBody>('POST', '/connectors', {name, config, ...(initial ? {initial_state: initial} : {})})
    this.out.line(`${status === 201 ? 'Created' : 'Updated'} connector ${body.name} (${body.type}, ${body.tasks.length} task(s))`)
    return body
  }
}
