import {Flags} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {NotFoundError} from '../../lib/cli/errors.js'
import {ERROR_CODES, type ErrorCodeInfo} from '../../lib/protocol/generated/errors.js'

export interface ProtocolErrorsResult {
  errorCodes: ErrorCodeInfo[]
}

export default class ProtocolErrors extends KcliCommand<typeof ProtocolErrors> {
  static override description = `Lists Kafka's error codes (from Kafka 4.0's errors table): the number a broker puts in a response, its name, and whether a client may retry. With --code, shows one code and its message.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'List every error code.'},
    {command: '<%= config.bin %> <%= command.id %> --code 3', description: 'Look up error code 3.'},
    {command: '<%= config.bin %> <%= command.id %> --code -1 --json', description: 'Look up UNKNOWN_SERVER_ERROR as JSON.'},
    {command: '<%= config.bin %> <%= command.id %> --retriable --json', description: 'Retriable codes as JSON.'},
  ]
  static override flags = {
    code: Flags.integer({helpValue: '<n>', summary: 'Show only this error code.'}),
    retriable: Flags.boolean({allowNo: true, summary: 'Show only retriable codes (--no-retriable: only non-retriable).'}),
  }
  static override summary = 'List Kafka error codes, or look one up.'

  async run(): Promise<ProtocolErrorsResult> {
    const {code, retriable} = this.flags
    let errorCodes = ERROR_CODES.map(({code, message, name, retriable}) => ({code, name, retriable, message}))
    if (code !== undefined) errorCodes = errorCodes.filter((e) => e.code === code)
    if (retriable !== undefined) errorCodes = errorCodes.filter((e) => e.retriable === retriable)
    if (code !== undefined && errorCodes.length === 0) {
      throw new NotFoundError(`no Kafka error code ${code}${retriable === undefined ? '' : ` that is ${retriable ? '' : 'not '}retriable`}`)
    }

    if (code === undefined) {
      this.out.table(
        [{align: 'right', header: 'Code'}, {header: 'Name'}, {header: 'Retriable'}],
        errorCodes.map((e) => [e.code, e.name, e.retriable ? 'yes' : 'no']),
      )
    } else {
      const [e] = errorCodes
      this.out.keyValues([
        ['Code', e!.code],
        ['Name', e!.name],
        ['Retriable', e!.retriable ? 'yes' : 'no'],
        ['Message', e!.message],
      ])
    }

    return {errorCodes}
  }
}
