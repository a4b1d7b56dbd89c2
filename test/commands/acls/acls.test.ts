import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import AclsCreate, {type AclsCreateResult} from '../../../src/commands/acls/create.js'
import AclsDelete, {type AclsDeleteResult} from '../../../src/commands/acls/delete.js'
import AclsList, {type AclsListResult} from '../../../src/commands/acls/list.js'
import {json, kcli, startBroker, type TestBroker} from '../helpers.js'

describe('kcli acls', () => {
  let broker: TestBroker
  beforeAll(async () => {
    broker = await startBroker({'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:ANONYMOUS'})
  })
  afterAll(async () => {
    await broker?.stop()
  })

  it('create, list (table and JSON, match and principal filters) and delete', async () => {
    const created = await kcli<AclsCreateResult>(AclsCreate, broker.bootstrap, ['--allow-principal', 'User:alice', '--operation', 'Read', '--operation', 'Write', '--topic', 'orders', '--json'])
    expect(created.exitCode).toBe(0)
    expect(json<AclsCreateResult>(created).results.map((r) => [r.acl.operation, r.error])).toEqual([['READ', 'NONE'], ['WRITE', 'NONE']])
    expect((await kcli(AclsCreate, broker.bootstrap, ['--deny-principal', 'User:*', '--deny-host', '10.0.0.9', '--operation', 'All', '--topic', 'ord', '--resource-pattern-type', 'prefixed'])).exitCode).toBe(0)
    const table = await kcli(AclsList, broker.bootstrap, [])
    expect(table.stdout.split('\n')).toEqual([
      'RESOURCE  NAME    PATTERN   PRINCIPAL   HOST      OPERATION  PERMISSION',
      'TOPIC     orders  LITERAL   User:alice  *         READ       ALLOW',
      'TOPIC     orders  LITERAL   User:alice  *         WRITE      ALLOW',
      'TOPIC     ord     PREFIXED  User:*      10.0.0.9  ALL        DENY',
      '',
    ])
    const match = json<AclsListResult>(await kcli(AclsList, broker.bootstrap, ['--topic', 'orders', '--resource-pattern-type', 'match', '--json']))
    expect(match.acls).toHaveLength(3)
    const literal = json<AclsListResult>(await kcli(AclsList, broker.bootstrap, ['--topic', 'orders', '--json']))
    expect(literal.acls).toHaveLength(2)
    const mine = json<AclsListResult>(await kcli(AclsList, broker.bootstrap, ['--principal', 'User:*', '--json']))
    expect(mine.acls.map((a) => a.name)).toEqual(['ord'])
    const deleted = await kcli<AclsDeleteResult>(AclsDelete, broker.bootstrap, ['--allow-principal', 'User:alice', '--operation', 'Write', '--topic', 'orders', '--json'])
    expect(json<AclsDeleteResult>(deleted).results[0]!.deleted.map((a) => a.operation)).toEqual(['WRITE'])
    expect(json<AclsListResult>(await kcli(AclsList, broker.bootstrap, ['--json'])).acls).toHaveLength(2)
  })

  it('refuses bad input with a clear message before sending anything', async () => {
    const noType = await kcli(AclsCreate, broker.bootstrap, ['--allow-principal', 'alice', '--operation', 'Read', '--topic', 't'])
    expect(noType.exitCode).toBe(2)
    expect(noType.stderr).toContain('Principal "alice" has no type')
    const badOp = await kcli(AclsCreate, broker.bootstrap, ['--allow-principal', 'User:alice', '--operation', 'Fly', '--topic', 't'])
    expect(badOp.exitCode).toBe(2)
    expect(badOp.stderr).toContain('Unknown operation "Fly"')
    const match = await kcli(AclsCreate, broker.bootstrap, ['--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 't', '--resource-pattern-type', 'match'])
    expect(match.exitCode).toBe(2)
    expect(json<AclsListResult>(await kcli(AclsList, broker.bootstrap, ['--topic', 't', '--json'])).acls).toEqual([])
  })

  it('reports SECURITY_DISABLED from a cluster without an authorizer', async () => {
    const disabled = await startBroker()
    try {
      const r = await kcli(AclsList, disabled.bootstrap, [])
      expect(r.exitCode).toBe(1)
      expect(r.stderr).toContain('SECURITY_DISABLED')
    } finally {
      await disabled.stop()
    }
  })
})
