import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import QuotasAlter, {type QuotasAlterResult} from '../../../src/commands/quotas/alter.js'
import QuotasDescribe, {type QuotasDescribeResult} from '../../../src/commands/quotas/describe.js'
import {json, kcli, startBroker, type TestBroker} from '../helpers.js'

describe('kcli quotas', () => {
  let broker: TestBroker
  beforeAll(async () => {
    broker = await startBroker()
  })
  afterAll(async () => {
    await broker?.stop()
  })

  it('alter sets and removes quotas of users, clients and defaults; describe shows them (table and --json)', async () => {
    const set = await kcli<QuotasAlterResult>(QuotasAlter, broker.bootstrap, ['--user', 'alice', '--add-config', 'producer_byte_rate=1048576,consumer_byte_rate=2097152'])
    expect(set.exitCode).toBe(0)
    expect(set.stdout.split('\n')[1]).toContain('user=alice')
    expect((await kcli(QuotasAlter, broker.bootstrap, ['--user', 'alice', '--client', 'app', '--add-config', 'request_percentage=50'])).exitCode).toBe(0)
    expect((await kcli(QuotasAlter, broker.bootstrap, ['--client-defaults', '--add-config', 'producer_byte_rate=1000'])).exitCode).toBe(0)

    const table = await kcli<QuotasDescribeResult>(QuotasDescribe, broker.bootstrap, [])
    expect(table.stdout.split('\n')).toEqual([
      'ENTITY                     QUOTAS',
      'client-id=<default>        producer_byte_rate=1000',
      'user=alice                 consumer_byte_rate=2097152, producer_byte_rate=1048576',
      'user=alice, client-id=app  request_percentage=50',
      '',
    ])
    const strict = json<QuotasDescribeResult>(await kcli(QuotasDescribe, broker.bootstrap, ['--user', 'alice', '--strict', '--json']))
    expect(strict.quotas).toEqual([{entity: [{type: 'user', name: 'alice'}], values: {consumer_byte_rate: 2097152, producer_byte_rate: 1048576}}])
    expect(json<QuotasDescribeResult>(await kcli(QuotasDescribe, broker.bootstrap, ['--client-defaults', '--json'])).quotas).toEqual([{entity: [{type: 'client-id', name: null}], values: {producer_byte_rate: 1000}}])

    expect((await kcli(QuotasAlter, broker.bootstrap, ['--client-defaults', '--delete-config', 'producer_byte_rate'])).exitCode).toBe(0)
    expect(json<QuotasDescribeResult>(await kcli(QuotasDescribe, broker.bootstrap, ['--client-defaults', '--json'])).quotas).toEqual([])
  })

  it("refuses a negative quota with the broker's INVALID_REQUEST and a clear message, storing nothing", async () => {
    const r = await kcli<QuotasAlterResult>(QuotasAlter, broker.bootstrap, ['--user', 'bob', '--add-config', 'producer_byte_rate=-5'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain('INVALID_REQUEST')
    expect(r.stderr).toContain('Quota producer_byte_rate must be greater than 0')
    const unknown = await kcli<QuotasAlterResult>(QuotasAlter, broker.bootstrap, ['--user', 'bob', '--add-config', 'bogus=5'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toContain('Invalid configuration key bogus')
    expect(json<QuotasDescribeResult>(await kcli(QuotasDescribe, broker.bootstrap, ['--user', 'bob', '--json'])).quotas).toEqual([])
  })

  it('usage errors: no entity, nothing to change, a value that is not a number, a name with its defaults flag', async () => {
    for (const argv of [['--add-config', 'producer_byte_rate=1'], ['--user', 'x'], ['--user', 'x', '--add-config', 'producer_byte_rate=lots'], ['--user', 'x', '--user-defaults', '--add-config', 'producer_byte_rate=1']]) {
      const r = await kcli(QuotasAlter, broker.bootstrap, argv)
      expect(r.exitCode).toBe(2)
    }
  })
})
