// The base of `kcli connectors ...`: commands that talk to a Kafka Connect REST API rather than
// to brokers. --connect-url (env KCLI_CONNECT_URL) names the worker; --timeout bounds each request.
import {Args, Command, Flags} from '@oclif/core'

import {ConnectRestClient} from '../connect/rest-client.js'
import {KcliCommand} from './base-command.js'

export const CONNECT_FLAGS = {
  'connect-url': Flags.string({default: 'http://localhost:8083', helpValue: '<url>', summary: "A Kafka Connect worker's REST API (ours or Apache Kafka's)."}),
  timeout: Flags.integer({default: 30_000, helpValue: '<ms>', min: 1, summary: 'How long to wait for each request, in milliseconds.'}),
}

export const CONNECTOR_ARG = {name: Args.string({description: 'The connector.', required: true})}

export abstract class ConnectCommand<T extends typeof Command> extends KcliCommand<T> {
  protected get connect(): ConnectRestClient {
    const flags = this.flags as unknown as {'connect-url': string; timeout: number}
    return new ConnectRestClient(flags['connect-url'], flags.timeout)
  }
}
