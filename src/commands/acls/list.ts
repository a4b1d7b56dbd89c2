import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {ACL_TABLE_HEADERS, entryOptions, resourceFlags, resourceOptions} from '../../lib/cli/acl-flags.js'
import {UsageError} from '../../lib/cli/errors.js'
import type {AclRow} from '../../lib/client/acls.js'

export interface AclsListResult {
  acls: AclRow[]
}

export default class AclsList extends BaseCommand<typeof AclsList> {
  static override description = `Lists ACLs (DescribeAcls), as kafka-acls.sh --list: every ACL, or those of the resources named (--resource-pattern-type literal by default; match: every ACL that applies to the name, the * wildcard and prefixes included; any: every pattern with that name). --principal keeps the ACLs of a principal (applied here, as Kafka's tool does). A cluster without an authorizer answers SECURITY_DISABLED.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every ACL.'},
    {command: '<%= config.bin %> <%= command.id %> --topic orders --resource-pattern-type match', description: 'Every ACL that applies to topic orders.'},
    {command: '<%= config.bin %> <%= command.id %> --principal User:alice --json', description: "Alice's ACLs as JSON."},
  ]
  static override flags = {
    ...resourceFlags,
    principal: Flags.string({multiple: true, summary: 'Only the ACLs of this principal (repeatable).'}),
  }
  static override summary = 'List ACLs.'

  async run(): Promise<AclsListResult> {
    const {AclsAdmin, AclInputError, aclRow, checkPrincipal, filtersOf} = await import('../../lib/client/acls.js')
    let filters
    try {
      filters = filtersOf(resourceOptions(this.flags), entryOptions({}))
      for (const p of this.flags.principal ?? []) checkPrincipal(p)
    } catch (error) {
      if (error instanceof AclInputError) throw new UsageError(error.message)
      throw error
    }
    const admin = new AclsAdmin(await this.kafka())
    const principals = this.flags.principal
    const rows: AclRow[] = []
    for (const f of filters) {
      for (const b of await this.withTimeout('listing ACLs', admin.describe(f))) if (!principals || principals.includes(b.entry.principal)) rows.push(aclRow(b))
    }
    rows.sort((a, b) => `${a.resourceType}\0${a.name}\0${a.patternType}\0${a.principal}`.localeCompare(`${b.resourceType}\0${b.name}\0${b.patternType}\0${b.principal}`))
    this.out.table(ACL_TABLE_HEADERS, rows.map((r) => [r.resourceType, r.name, r.patternType, r.principal, r.host, r.operation, r.permission]))
    return {acls: rows}
  }
}
