import {BaseCommand} from '../../lib/cli/base-command.js'
import {ACL_TABLE_HEADERS, entryFlags, entryOptions, resourceFlags, resourceOptions} from '../../lib/cli/acl-flags.js'
import {UsageError} from '../../lib/cli/errors.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import type {AclDeleteResult} from '../../lib/client/acls.js'

export interface AclsDeleteResult {
  results: AclDeleteResult[]
}

export default class AclsDelete extends BaseCommand<typeof AclsDelete> {
  static override description = `Deletes ACLs (DeleteAcls), as kafka-acls.sh --remove --force: the ACLs of the resources named (literal by default; match and any widen it), narrowed by --allow-principal/--deny-principal (with their hosts, * when none is given, as kafka-acls.sh) and --operation when given. Without any resource it deletes every ACL matching the other options, so it needs at least one option. Prints what was deleted.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --topic orders', description: 'Every ACL on the topic orders.'},
    {command: '<%= config.bin %> <%= command.id %> --allow-principal User:alice --operation Write --topic orders', description: "Alice's write ACL on orders."},
  ]
  static override flags = {...resourceFlags, ...entryFlags}
  static override summary = 'Delete ACLs.'

  async run(): Promise<AclsDeleteResult> {
    const {AclsAdmin, AclInputError, filtersOf, resourcesOf} = await import('../../lib/client/acls.js')
    let filters
    try {
      const r = resourceOptions(this.flags)
      const e = entryOptions(this.flags)
      if (resourcesOf(r).length === 0 && !e.allowPrincipal?.length && !e.denyPrincipal?.length && !e.operation?.length) throw new AclInputError('Name what to delete: a resource (--topic, --group, --cluster, ...), a principal or an operation')
      filters = filtersOf(r, e)
    } catch (error) {
      if (error instanceof AclInputError) throw new UsageError(error.message)
      throw error
    }
    const admin = new AclsAdmin(await this.kafka())
    const results = await this.withTimeout('deleting ACLs', admin.delete(filters))
    this.out.table(ACL_TABLE_HEADERS, results.flatMap((res) => res.deleted.map((r) => [r.resourceType, r.name, r.patternType, r.principal, r.host, r.operation, r.permission])))
    const result = {results}
    failIfAny(results.filter((r) => r.errorCode !== 0).map((r) => ({...r, item: 'filter'})), results.length, 'filters', result)
    return result
  }
}
