import {execFile, spawnSync} from 'node:child_process'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import Consume from '../../../src/commands/consume/index.js'
import Produce, {type ProduceResult} from '../../../src/commands/produce/index.js'
import TransactionsDescribe from '../../../src/commands/transactions/describe.js'
import {json, kcli, startBroker, type TestBroker} from '../helpers.js'

const HAVE_KCAT = spawnSync('kcat', ['-V'], {encoding: 'utf8'}).status === 0

/** What a read_committed consumer sees, read with kcat (asynchronously: the broker is in this process). */
async function readCommitted(bootstrap: string, topic: string): Promise<string[]> {
  const {stdout} = await promisify(execFile)('kcat', ['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%s\\n'], {encoding: 'utf8', timeout: 20_000})
  return stdout.split('\n').filter(Boolean)
}

describe.skipIf(!HAVE_KCAT)('kcli produce --transactional-id (the whole input as one transaction)', () => {
  let broker: TestBroker
  beforeAll(async () => {
    broker = await startBroker()
  })
  afterAll(async () => {
    await broker?.stop()
  })

  it('commits the input at the end: read_committed consumers see all of it', async () => {
    const input = `${Array.from({length: 500}, (_, i) => `r${i}`).join('\n')}\n`
    const run = await kcli<ProduceResult>(Produce, broker.bootstrap, ['-t', 'txn-cli', '--transactional-id', 'cli-loader', '--json'], {stdin: input})
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(json<ProduceResult>(run).count).toBe(500)
    expect(await readCommitted(broker.bootstrap, 'txn-cli')).toEqual(Array.from({length: 500}, (_, i) => `r${i}`))
    const described = json<{transactions: Array<{state: string; producerEpoch: number}>}>(await kcli(TransactionsDescribe, broker.bootstrap, ['cli-loader', '--json']))
    expect(described.transactions[0]!.state).toBe('CompleteCommit')
  })

  it('aborts on bad input: nothing of it becomes visible to read_committed', async () => {
    const run = await kcli(Produce, broker.bootstrap, ['-t', 'txn-cli', '--transactional-id', 'cli-loader', '--value-encoding', 'json'], {stdin: '"ok"\n{not json\n'})
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain('line 2: not json')
    expect(await readCommitted(broker.bootstrap, 'txn-cli')).toHaveLength(500)
    const described = json<{transactions: Array<{state: string}>}>(await kcli(TransactionsDescribe, broker.bootstrap, ['cli-loader', '--json']))
    expect(described.transactions[0]!.state).toBe('CompleteAbort')
  })

  it('kcli consume: read_committed leaves the aborted record out, and --exit ends past the last marker', async () => {
    // txn-cli now holds 500 committed records, a COMMIT marker, the aborted "ok" and an ABORT marker.
    const committed = await kcli(Consume, broker.bootstrap, ['-t', 'txn-cli', '--from-beginning', '--exit', '--isolation-level', 'read_committed'])
    expect(committed.exitCode).toBe(0)
    expect(committed.stdout.split('\n').filter(Boolean)).toEqual(Array.from({length: 500}, (_, i) => `r${i}`))
    const everything = await kcli(Consume, broker.bootstrap, ['-t', 'txn-cli', '--from-beginning', '--exit'])
    expect(everything.exitCode).toBe(0)
    expect(everything.stdout.split('\n').filter(Boolean)).toEqual([...Array.from({length: 500}, (_, i) => `r${i}`), '"ok"'])
  })

  it('refuses --acks other than all', async () => {
    const run = await kcli(Produce, broker.bootstrap, ['-t', 'txn-cli', '--transactional-id', 'x', '--acks', '1'], {stdin: 'a\n'})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('--transactional-id needs --acks all')
  })
})
