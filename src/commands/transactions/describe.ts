import {Args} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import {isOpenTransactionState, type TransactionDescription, TransactionsAdmin} from '../../lib/client/transactions.js'
import {colorState} from './list.js'

export interface DescribedTransaction extends TransactionDescription {
  /** How long the open transaction has been running, ms (null when none is open). */
  durationMs: number | null
}

export interface TransactionsDescribeResult {
  transactions: DescribedTransaction[]
}

export default class TransactionsDescribe extends BaseCommand<typeof TransactionsDescribe> {
  static override args = {
    'transactional-id': Args.string({description: 'Transactional id(s) to describe.', required: true}),
  }
  static override description = `Shows, for each transactional id, what its transaction coordinator knows (FindCoordinator with the transaction key type, then DescribeTransactions to that broker, as Kafka's admin client does): the transaction state, producer id and epoch, the transaction timeout the producer set, when the current transaction started and for how long it has been open, and the topic-partitions in it. An unknown transactional id fails with TRANSACTIONAL_ID_NOT_FOUND (exit 1; the others are still shown).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> payments-tx', description: 'State, producer and partitions of one transactional id.'},
    {command: '<%= config.bin %> <%= command.id %> payments-tx orders-tx', description: 'Several at once.'},
    {command: '<%= config.bin %> <%= command.id %> payments-tx --json | jq ".transactions[0].topicPartitions"', description: 'The partitions of the open transaction, for a script.'},
  ]
  static override strict = false
  static override summary = 'Describe transactions: state, producer id/epoch, timeout, start time, partitions.'

  async run(): Promise<TransactionsDescribeResult> {
    const admin = new TransactionsAdmin(await this.kafka())
    const described = await this.withTimeout('describing transactions', admin.describeTransactions(this.positionals))
    const now = Date.now()
    const transactions: DescribedTransaction[] = described.map((t) => ({
      ...t,
      durationMs: t.errorCode === 0 && t.startTimeMs !== null && isOpenTransactionState(t.state) ? Math.max(0, now - t.startTimeMs) : null,
    }))

    const c = this.out.color
    for (const [i, t] of transactions.entries()) {
      if (i > 0) this.out.line()
      if (t.errorCode !== 0) {
        this.out.line(`${c.bold(t.transactionalId)}: ${c.red(t.error)}${t.errorMessage ? ` (${t.errorMessage})` : ''}`)
        continue
      }
      const partitions = t.topicPartitions.reduce((n, tp) => n + tp.partitions.length, 0)
      this.out.keyValues([
        ['Transactional ID', t.transactionalId],
        ['State', colorState(c, t.state)],
        ['Producer ID', t.producerId],
        ['Producer epoch', t.producerEpoch],
        ['Timeout', `${t.timeoutMs} ms`],
        ['Started', t.startTimeMs === null ? '-' : `${new Date(t.startTimeMs).toISOString()} (${t.startTimeMs})`],
        ['Open for', t.durationMs === null ? '-' : `${t.durationMs} ms`],
        ['Coordinator', t.coordinatorId],
        ['Partitions', partitions],
      ])
      if (t.topicPartitions.length > 0) {
        this.out.line()
        this.out.table(
          [{header: 'Topic'}, {header: 'Partitions'}],
          t.topicPartitions.map((tp) => [tp.topic, tp.partitions.join(',')]),
        )
      }
    }
    const result = {transactions}
    failIfAny(
      transactions.filter((t) => t.errorCode !== 0).map((t) => ({...t, item: `transactional id ${t.transactionalId}`})),
      transactions.length,
      'transactional ids',
      result,
    )
    return result
  }
}
