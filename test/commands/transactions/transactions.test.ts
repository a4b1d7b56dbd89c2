// `kcli transactions list|describe` against an in-process broker (all handlers; FindCoordinator
// and DescribeTransactions wrapped to record what kcli asks), with transactions made by kafkajs:
// one committed, one aborted, one left open across two topics.

import {Kafka, logLevel, type Producer, type Transaction} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import TopicsCreate from '../../../src/commands/topics/create.js'
import TransactionsDescribe, {type TransactionsDescribeResult} from '../../../src/commands/transactions/describe.js'
import TransactionsList, {type TransactionsListResult} from '../../../src/commands/transactions/list.js'
import type {ErrorJson} from '../../../src/lib/cli/errors.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import type {ApiHandler} from '../../../src/server/handlers/handler.js'
import {HANDLERS} from '../../../src/server/handlers/index.js'
import {json, kcli, startBroker, type TestBroker, tempDir} from '../helpers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

/** What the broker was asked: `find <keyType> <keys>` and `describe <ids>`, in order. */
const requests: string[] = []

function recording(handlers: readonly ApiHandler[]): ApiHandler[] {
  return handlers.map((h) => {
    if (h.apiKey === ApiKey.FindCoordinator) {
      const find = h as ApiHandler<typeof ApiKey.FindCoordinator>
      return {
        ...find,
        handle(request, ctx) {
          const keys = ctx.apiVersion >= 4 ? request.coordinatorKeys : [request.key]
          requests.push(`find ${ctx.apiVersion >= 1 ? request.keyType : 0} ${keys.join(',')}`)
          return find.handle(request, ctx)
        },
      } satisfies ApiHandler<typeof ApiKey.FindCoordinator> as unknown as ApiHandler
    }
    if (h.apiKey === ApiKey.DescribeTransactions) {
      const describeTxn = h as ApiHandler<typeof ApiKey.DescribeTransactions>
      return {
        ...describeTxn,
        handle(request, ctx) {
          requests.push(`describe ${request.transactionalIds.join(',')}`)
          return describeTxn.handle(request, ctx)
        },
      } satisfies ApiHandler<typeof ApiKey.DescribeTransactions> as unknown as ApiHandler
    }
    return h
  })
}

let broker: TestBroker
let kafka: Kafka
const producers: Producer[] = []
let open: Transaction | undefined
const producerIds = new Map<string, number>()

async function transactional(transactionalId: string): Promise<Producer> {
  const producer = kafka.producer({transactionalId, idempotent: true, maxInFlightRequests: 1})
  producers.push(producer)
  await producer.connect()
  return producer
}

beforeAll(async () => {
  broker = await startBroker({'transaction.state.log.num.partitions': '4'}, tempDir('kcli-txn-cmd-'), recording(HANDLERS))
  await kcli(TopicsCreate, broker.bootstrap, ['tx-out', '-p', '2'])
  await kcli(TopicsCreate, broker.bootstrap, ['tx-other', '-p', '1'])
  kafka = new Kafka({brokers: [broker.bootstrap], clientId: 'kcli-txn-cmd-test', logLevel: logLevel.NOTHING})

  const committer = await transactional('tx-committed')
  const committed = await committer.transaction()
  await committed.send({topic: 'tx-out', messages: [{partition: 0, value: 'c0'}, {partition: 1, value: 'c1'}]})
  await committed.commit()

  const aborter = await transactional('tx-aborted')
  const aborted = await aborter.transaction()
  await aborted.send({topic: 'tx-out', messages: [{partition: 0, value: 'a0'}]})
  await aborted.abort()

  // Left open until afterAll (kafkajs's default transaction timeout: 60 s).
  const opener = await transactional('tx-open')
  open = await opener.transaction()
  await open.send({topic: 'tx-out', messages: [{partition: 1, value: 'o1'}]})
  await open.send({topic: 'tx-other', messages: [{partition: 0, value: 'o0'}]})

  const all = json<TransactionsListResult>(await kcli(TransactionsList, broker.bootstrap, ['--json']))
  for (const t of all.transactions) producerIds.set(t.transactionalId, Number(t.producerId))
}, 60_000)

afterAll(async () => {
  await open?.abort().catch(() => undefined)
  for (const p of producers) await p.disconnect().catch(() => undefined)
  await broker?.stop()
})

describe('kcli transactions list', () => {
  it('lists every transactional id with producer id, state and coordinator', async () => {
    const run = await kcli(TransactionsList, broker.bootstrap, [])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^TRANSACTIONAL ID +PRODUCER ID +STATE +COORDINATOR$/)
    expect(lines.slice(1)).toHaveLength(3)
    expect(run.stdout).toMatch(/^tx-aborted +\d+ +CompleteAbort +1$/m)
    expect(run.stdout).toMatch(/^tx-committed +\d+ +CompleteCommit +1$/m)
    expect(run.stdout).toMatch(/^tx-open +\d+ +Ongoing +1$/m)

    const listed = json<TransactionsListResult>(await kcli(TransactionsList, broker.bootstrap, ['--json']))
    expect(listed.transactions.map((t) => [t.transactionalId, t.state])).toEqual([
      ['tx-aborted', 'CompleteAbort'],
      ['tx-committed', 'CompleteCommit'],
      ['tx-open', 'Ongoing'],
    ])
    expect(new Set(listed.transactions.map((t) => t.producerId)).size).toBe(3)
    expect(listed.transactions.every((t) => t.coordinatorId === 1 && typeof t.producerId === 'number')).toBe(true)
  })

  it('filters by state (any case, repeated or comma-separated), producer id and duration', async () => {
    const ids = async (argv: string[]) => json<TransactionsListResult>(await kcli(TransactionsList, broker.bootstrap, [...argv, '--json'])).transactions.map((t) => t.transactionalId)
    expect(await ids(['--state', 'ongoing'])).toEqual(['tx-open'])
    expect(await ids(['--state', 'CompleteCommit,CompleteAbort'])).toEqual(['tx-aborted', 'tx-committed'])
    expect(await ids(['--state', 'CompleteCommit', '--state', 'Ongoing'])).toEqual(['tx-committed', 'tx-open'])
    expect(await ids(['--state', 'Empty'])).toEqual([])
    expect(await ids(['--producer-id', String(producerIds.get('tx-committed'))])).toEqual(['tx-committed'])
    expect(await ids(['--producer-id', `${producerIds.get('tx-open')},${producerIds.get('tx-aborted')}`])).toEqual(['tx-aborted', 'tx-open'])
    expect(await ids(['--producer-id', String(producerIds.get('tx-open')), '--state', 'CompleteAbort'])).toEqual([])
    expect(await ids(['--producer-id', '987654321'])).toEqual([])
    expect(await ids(['--min-duration', '1h'])).toEqual([])
    expect(await ids(['--min-duration', '0'])).toEqual(['tx-open'])

    const empty = await kcli(TransactionsList, broker.bootstrap, ['--state', 'PrepareCommit'])
    expect(empty.exitCode).toBe(0)
    expect(empty.stdout).toMatch(/^TRANSACTIONAL ID +PRODUCER ID +STATE +COORDINATOR\n$/)
  })

  it('rejects bad filters with exit code 2', async () => {
    const state = await kcli(TransactionsList, broker.bootstrap, ['--state', 'Running'])
    expect(state.exitCode).toBe(2)
    expect(state.stdout).toBe('')
    expect(state.stderr).toMatch(/--state: "Running" is not a transaction state \(Empty, Ongoing, /)
    const producer = await kcli(TransactionsList, broker.bootstrap, ['--producer-id', 'abc', '--json'])
    expect(producer.exitCode).toBe(2)
    expect((JSON.parse(producer.stderr) as {error: ErrorJson}).error).toMatchObject({exitCode: 2, kind: 'usage'})
    const duration = await kcli(TransactionsList, broker.bootstrap, ['--min-duration', 'soon'])
    expect(duration.exitCode).toBe(2)
    const unknownFlag = await kcli(TransactionsList, broker.bootstrap, ['--bogus'])
    expect(unknownFlag.exitCode).toBe(2)
  })

  it('fails with exit code 1 when no broker answers', async () => {
    const run = await kcli(TransactionsList, '127.0.0.1:1', ['--timeout', '1000'])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^Error: /)
  })
})

describe('kcli transactions describe', () => {
  it('asks FindCoordinator (key type 1) first, then DescribeTransactions at the coordinator', async () => {
    requests.length = 0
    const run = await kcli<TransactionsDescribeResult>(TransactionsDescribe, broker.bootstrap, ['tx-open', 'tx-committed'])
    expect(run.exitCode).toBe(0)
    const finds = requests.filter((r) => r.startsWith('find 1 '))
    expect(finds.length).toBeGreaterThan(0)
    expect(requests.filter((r) => r.startsWith('find 0 '))).toEqual([])
    expect(finds.flatMap((r) => r.slice('find 1 '.length).split(',')).sort()).toEqual(['tx-committed', 'tx-open'])
    expect(requests.findIndex((r) => r.startsWith('describe '))).toBeGreaterThan(requests.indexOf(finds.at(-1)!))
    expect(requests.filter((r) => r.startsWith('describe '))).toEqual(['describe tx-open,tx-committed'])
  })

  it('shows an open transaction: state, producer id/epoch, timeout, start time, partitions', async () => {
    const before = Date.now()
    const run = await kcli(TransactionsDescribe, broker.bootstrap, ['tx-open'])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^Transactional ID: +tx-open$/m)
    expect(run.stdout).toMatch(/^State: +Ongoing$/m)
    expect(run.stdout).toMatch(new RegExp(`^Producer ID: +${producerIds.get('tx-open')}$`, 'm'))
    expect(run.stdout).toMatch(/^Producer epoch: +0$/m)
    expect(run.stdout).toMatch(/^Timeout: +60000 ms$/m)
    expect(run.stdout).toMatch(/^Started: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\d{13}\)$/m)
    expect(run.stdout).toMatch(/^Open for: +\d+ ms$/m)
    expect(run.stdout).toMatch(/^Partitions: +2$/m)
    expect(run.stdout).toMatch(/^TOPIC +PARTITIONS\ntx-other +0\ntx-out +1$/m)

    const described = json<TransactionsDescribeResult>(await kcli(TransactionsDescribe, broker.bootstrap, ['tx-open', '--json']))
    expect(described.transactions).toHaveLength(1)
    const t = described.transactions[0]!
    expect(t).toMatchObject({
      transactionalId: 'tx-open',
      state: 'Ongoing',
      producerId: producerIds.get('tx-open'),
      producerEpoch: 0,
      timeoutMs: 60_000,
      coordinatorId: 1,
      errorCode: 0,
      error: 'NONE',
      topicPartitions: [
        {topic: 'tx-other', partitions: [0]},
        {topic: 'tx-out', partitions: [1]},
      ],
    })
    expect(t.startTimeMs).toBeGreaterThan(before - 120_000)
    expect(t.startTimeMs).toBeLessThanOrEqual(Date.now())
    expect(t.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('shows completed transactions without partitions or duration', async () => {
    const described = json<TransactionsDescribeResult>(await kcli(TransactionsDescribe, broker.bootstrap, ['tx-committed', 'tx-aborted', '--json']))
    expect(described.transactions.map((t) => [t.transactionalId, t.state, t.topicPartitions, t.durationMs])).toEqual([
      ['tx-committed', 'CompleteCommit', [], null],
      ['tx-aborted', 'CompleteAbort', [], null],
    ])
    const run = await kcli(TransactionsDescribe, broker.bootstrap, ['tx-committed'])
    expect(run.stdout).toMatch(/^State: +CompleteCommit$/m)
    expect(run.stdout).toMatch(/^Open for: +-$/m)
    expect(run.stdout).not.toMatch(/^TOPIC/m)
  })

  it('an unknown transactional id: the others shown, TRANSACTIONAL_ID_NOT_FOUND, exit code 1', async () => {
    const run = await kcli(TransactionsDescribe, broker.bootstrap, ['tx-committed', 'no-such-txn'])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/^State: +CompleteCommit$/m)
    expect(run.stdout).toMatch(/^no-such-txn: TRANSACTIONAL_ID_NOT_FOUND$/m)
    expect(run.stderr).toMatch(/^Error: 1 of 2 transactional ids failed: transactional id no-such-txn: TRANSACTIONAL_ID_NOT_FOUND/)

    const jsonRun = await kcli(TransactionsDescribe, broker.bootstrap, ['tx-committed', 'no-such-txn', '--json'])
    expect(jsonRun.exitCode).toBe(1)
    const result = json<TransactionsDescribeResult>(jsonRun)
    expect(result.transactions.map((t) => [t.transactionalId, t.error])).toEqual([
      ['tx-committed', 'NONE'],
      ['no-such-txn', 'TRANSACTIONAL_ID_NOT_FOUND'],
    ])
    const error = (JSON.parse(jsonRun.stderr) as {error: ErrorJson}).error
    expect(error).toMatchObject({exitCode: 1, kind: 'partial-failure', failures: [{item: 'transactional id no-such-txn', errorCode: 105, errorName: 'TRANSACTIONAL_ID_NOT_FOUND'}]})
  })

  it('needs a transactional id: exit code 2', async () => {
    const run = await kcli(TransactionsDescribe, broker.bootstrap, [])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/transactional-id/)
  })

  it('sees a new producer epoch after the transactional id is initialised again', async () => {
    const again = await transactional('tx-committed')
    // kafkajs sends InitProducerId with the transactional id when the first transaction begins.
    const txn = await again.transaction()
    const described = json<TransactionsDescribeResult>(await kcli(TransactionsDescribe, broker.bootstrap, ['tx-committed', '--json']))
    expect(described.transactions[0]).toMatchObject({producerEpoch: 1, producerId: producerIds.get('tx-committed'), state: 'Empty'})
    await txn.abort().catch(() => undefined)
    await again.disconnect()
  })
})
