import {readFile} from 'node:fs/promises'
import {Flags} from '@oclif/core'

import {ConnectCommand, CONNECT_FLAGS, CONNECTOR_ARG} from '../../lib/cli/connect-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {enc} from '../../lib/connect/rest-client.js'

type Offsets = {offsets: Array<{partition: Record<string, unknown>; offset: Record<string, unknown> | null}>}

export default class ConnectorsOffsets extends ConnectCommand<typeof ConnectorsOffsets> {
  static override summary = "Show a connector's offsets, or alter (--alter) or reset (--reset) them (KIP-875: the connector must be STOPPED)."
  static override examples = [
    '<%= config.bin %> <%= command.id %> lines-source',
    `<%= config.bin %> <%= command.id %> lines-sink --alter '{"offsets":[{"partition":{"kafka_topic":"lines","kafka_partition":0},"offset":{"kafka_offset":42}}]}'`,
    '<%= config.bin %> <%= command.id %> lines-source --reset',
  ]
  static override args = CONNECTOR_ARG
  static override flags = {
    ...CONNECT_FLAGS,
    alter: Flags.string({helpValue: '<json|@file>', summary: 'The offsets to set, as the REST API takes them ({"offsets": [...]}); @file reads a file.', exclusive: ['reset']}),
    reset: Flags.boolean({summary: 'Forget all offsets of the connector.'}),
  }

  async run(): Promise<Offsets | {message: string}> {
    const path = `/connectors/${enc(this.args.name)}/offsets`
    if (this.flags.reset) {
      const {body} = await this.connect.request<{message: string}>('DELETE', path)
      this.out.line(body.message)
      return body
    }
    if (this.flags.alter !== undefined) {
      const text = this.flags.alter.startsWith('@') ? await readFile(this.flags.alter.slice(1), 'utf8') : this.flags.alter
      let doc: unknown
      try { doc = JSON.parse(text) } catch (error) { throw new UsageError(`--alter: ${(error as Error).message}`) }
      const {body} = await this.connect.request<{message: string}>('PATCH', path, doc)
      this.out.line(body.message)
      return body
    }
    const offsets = await this.connect.get<Offsets>(path)
    this.out.table([{header: 'Partition'}, {header: 'Offset'}], offsets.offsets.map(o => [JSON.stringify(o.partition), JSON.stringify(o.offset)]))
    return offsets
  }
}
