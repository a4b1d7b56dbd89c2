import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import TopicsList from '../../../src/commands/topics/list.js'
import UsersDelete, {type UsersDeleteResult} from '../../../src/commands/users/delete.js'
import UsersList, {type UsersListResult} from '../../../src/commands/users/list.js'
import UsersSetPassword, {type UsersSetPasswordResult} from '../../../src/commands/users/set-password.js'
import {json, kcli, startBroker, type TestBroker} from '../helpers.js'

describe('kcli users', () => {
  let broker: TestBroker
  let sasl: string
  beforeAll(async () => {
    broker = await startBroker({listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512'})
    sasl = `127.0.0.1:${broker.broker.status!.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port}`
  })
  afterAll(async () => {
    await broker?.stop()
  })
  const login = (user: string, password: string, mechanism = 'SCRAM-SHA-512') =>
    kcli(TopicsList, sasl, ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanism=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`, '--timeout', '5000'])

  it('set-password creates a user that can then log in; list shows its mechanisms, never a secret', async () => {
    const set = await kcli<UsersSetPasswordResult>(UsersSetPassword, broker.bootstrap, ['alice', '--password-stdin'], {stdin: 'alice-secret\n'})
    expect(set.stderr).toBe('')
    expect(set.stdout).toBe('SCRAM-SHA-512 password set for alice (4096 iterations)\n')
    const set256 = await kcli<UsersSetPasswordResult>(UsersSetPassword, broker.bootstrap, ['alice', '--mechanism', 'SCRAM-SHA-256', '--iterations', '8192', '--password-stdin', '--json'], {stdin: 'other-secret'})
    expect(json<UsersSetPasswordResult>(set256)).toEqual({error: 'NONE', errorCode: 0, errorMessage: null, iterations: 8192, mechanism: 'SCRAM-SHA-256', user: 'alice'})

    expect((await login('alice', 'alice-secret')).exitCode).toBe(0)
    expect((await login('alice', 'other-secret', 'SCRAM-SHA-256')).exitCode).toBe(0)
    expect((await login('alice', 'other-secret')).exitCode).toBe(1)

    const listed = await kcli<UsersListResult>(UsersList, broker.bootstrap, [])
    expect(listed.stdout.split('\n')).toEqual(['USER   MECHANISMS', 'alice  SCRAM-SHA-256 (8192 iterations), SCRAM-SHA-512 (4096 iterations)', ''])
    const asJson = json<UsersListResult>(await kcli(UsersList, broker.bootstrap, ['--json']))
    expect(asJson.users).toEqual([{credentials: [{iterations: 8192, mechanism: 'SCRAM-SHA-256'}, {iterations: 4096, mechanism: 'SCRAM-SHA-512'}], error: 'NONE', errorCode: 0, errorMessage: null, user: 'alice'}])
    expect(JSON.stringify(asJson)).not.toContain('secret')
  })

  it('delete removes every credential; the user can no longer log in; a named unknown user exits 1', async () => {
    const deleted = await kcli<UsersDeleteResult>(UsersDelete, broker.bootstrap, ['alice', '--json'])
    expect(deleted.exitCode).toBe(0)
    expect(json<UsersDeleteResult>(deleted).deleted.map((d) => [d.mechanism, d.error])).toEqual([['SCRAM-SHA-256', 'NONE'], ['SCRAM-SHA-512', 'NONE']])
    expect((await login('alice', 'alice-secret')).exitCode).toBe(1)
    const unknown = await kcli(UsersList, broker.bootstrap, ['alice'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toMatch(/user alice: RESOURCE_NOT_FOUND/)
    const again = await kcli(UsersDelete, broker.bootstrap, ['alice', '--mechanism', 'SCRAM-SHA-256'])
    expect(again.exitCode).toBe(1)
  })

  it('usage errors: no password off a terminal, both password flags, iterations out of range (exit 2)', async () => {
    expect((await kcli(UsersSetPassword, broker.bootstrap, ['bob'], {stdin: ''})).stderr).toMatch(/no password: give --password-stdin/)
    expect((await kcli(UsersSetPassword, broker.bootstrap, ['bob', '--password', 'x', '--password-stdin'], {stdin: 'y'})).exitCode).toBe(2)
    expect((await kcli(UsersSetPassword, broker.bootstrap, ['bob', '--iterations', '100', '--password-stdin'], {stdin: 'y'})).exitCode).toBe(2)
    expect((await kcli(UsersSetPassword, broker.bootstrap, ['bob', '--password-stdin'], {stdin: '\n'})).stderr).toMatch(/the password is empty/)
  })
})
