import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {parseDuration} from '../../lib/client/cli-input.js'
import {type ListedTransaction, TRANSACTION_STATES, transactionStateName, TransactionsAdmin} from '../../lib/client/transactions.js'

export interface TransactionsListResult {
  transactions: ListedTransaction[]
}

export default class TransactionsList extends BaseCommand<typeof TransactionsList> {
  static override description = `Lists the transactional ids the cluster's transaction coordinators know (ListTransactions on every broker), with each one's producer id and transaction state (${TRANSACTION_STATES.join(', ')}). --state and --producer-id may be repeated (or comma-separated) and match any of their values; different filters must all match. --min-duration keeps only transactions open longer than that (a hanging transaction holds back the last stable offset of its partitions, so read_committed consumers stop there).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every transactional id with its producer id and state.'},
    {command: '<%= config.bin %> <%= command.id %> --state Ongoing --min-duration 5m', description: 'Transactions open for more than 5 minutes.'},
    {command: '<%= config.bin %> <%= command.id %> --producer-id 1000,1001', description: 'The transactional ids of these producer ids.'},
    {command: '<%= config.bin %> <%= command.id %> --state ongoing --json | jq -r ".transactions[].transactionalId"', description: 'Open transactional ids for a script.'},
  ]
  static override flags = {
    'min-duration': Flags.custom<number>({
      helpValue: '<duration>',
      async parse(input) {
        return parseDuration(input, '--min-duration')
      },
      summary: 'Only transactions open longer than this (30s, 5m, 1h, or ms).',
    })(),
    'producer-id': Flags.string({
      delimiter: ',',
      helpValue: '<id>',
      multiple: true,
      summary: 'Only transactions of this producer id (repeatable).',
    }),
    state: Flags.string({
      delimiter: ',',
      helpValue: '<state>',
      multiple: true,
      summary: 'Only transactions in this state, in any case (repeatable): Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence.',
    }),
  }
  static override summary = 'List transactional ids: producer id and transaction state.'

  async run(): Promise<TransactionsListResult> {
    const states = (this.flags.state ?? []).map((input) => {
      const name = transactionStateName(input)
      if (!name) throw new UsageError(`--state: "${input}" is not a transaction state (${TRANSACTION_STATES.join(', ')})`)
      return name
    })
    const producerIds = (this.flags['producer-id'] ?? []).map((input) => {
      if (!/^\d+$/.test(input.trim())) throw new UsageError(`--producer-id: "${input}" is not a producer id (a non-negative integer)`)
      return BigInt(input.trim())
    })
    const minDuration = this.flags['min-duration']
    const admin = new TransactionsAdmin(await this.kafka())
    const listed = await this.withTimeout(
      'listing transactions',
      admin.listTransactions({minDurationMs: minDuration, producerIds: [...new Set(producerIds)], states: [...new Set(states)]}),
    )
    for (const state of listed.unknownStateFilters) this.out.errorLine(`${this.out.errorColor.yellow('Warning:')} a broker does not know the state ${state}`)
    const c = this.out.color
    this.out.table(
      [{header: 'Transactional ID'}, {align: 'right', header: 'Producer ID'}, {header: 'State'}, {align: 'right', header: 'Coordinator'}],
      listed.transactions.map((t) => [t.transactionalId, t.producerId, colorState(c, t.state), t.coordinatorId]),
    )
    return {transactions: listed.transactions}
  }
}

/** A state name coloured for people: open yellow, committed green, aborted or dead red. */
export function colorState(c: {green(s: string): string; red(s: string): string; yellow(s: string): string}, state: string): string {
  if (state === 'Ongoing' || state.startsWith('Prepare')) return c.yellow(state)
  if (state === 'CompleteAbort' || state === 'Dead') return c.red(state)
  if (state === 'CompleteCommit') return c.green(state)
  return state
}
