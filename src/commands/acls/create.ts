import {BaseCommand} from '../../lib/cli/base-command.js'
import {ACL_TABLE_HEADERS, entryFlags, entryOptions, resourceFlags, resourceOptions} from '../../lib/cli/acl-flags.js'
import {UsageError} from '../../lib/cli/errors.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import type {AclCreateResult} from '../../lib/client/acls.js'

export interface AclsCreateResult {
  results: AclCreateResult[]
}

export default class AclsCreate extends BaseCommand<typeof AclsCreate> {
  static override description = `Creates ACLs (CreateAcls), as kafka-acls.sh --add: one ACL per resource, principal, host and operation. The principal has a type (User:alice; User:* for everyone); hosts default to *; the pattern is literal (the name exactly, or * for every resource of the type) or prefixed. Input with a principal without a type or an unknown operation is refused before anything is sent; the cluster's refusals (INVALID_REQUEST, CLUSTER_AUTHORIZATION_FAILED, SECURITY_DISABLED) are shown per ACL and make the exit code 1.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --allow-principal User:alice --operation Read --operation Write --topic orders', description: 'Alice reads and writes orders.'},
    {command: '<%= config.bin %> <%= command.id %> --allow-principal User:bob --operation Read --group app- --resource-pattern-type prefixed', description: 'Bob uses every group starting with app-.'},
    {command: '<%= config.bin %> <%= command.id %> --deny-principal User:mallory --deny-host 10.0.0.9 --operation All --topic "*"', description: 'A deny from one host.'},
  ]
  static override flags = {...resourceFlags, ...entryFlags}
  static override summary = 'Create ACLs.'

  async run(): Promise<AclsCreateResult> {
    const {AclsAdmin, AclInputError, bindingsToCreate} = await import('../../lib/client/acls.js')
    let bindings
    try {
      bindings = bindingsToCreate(resourceOptions(this.flags), entryOptions(this.flags))
    } catch (error) {
      if (error instanceof AclInputError) throw new UsageError(error.message)
      throw error
    }
    const admin = new AclsAdmin(await this.kafka())
    const results = await this.withTimeout('creating ACLs', admin.create(bindings))
    const c = this.out.color
    this.out.table([...ACL_TABLE_HEADERS, {header: 'Result'}], results.map(({acl: r, errorCode, error, errorMessage}) => [r.resourceType, r.name, r.patternType, r.principal, r.host, r.operation, r.permission, errorCode === 0 ? c.green('created') : c.red(`${error}${errorMessage ? `: ${errorMessage}` : ''}`)]))
    const result = {results}
    failIfAny(results.filter((r) => r.errorCode !== 0).map((r) => ({...r, item: `ACL ${r.acl.permission} ${r.acl.principal} ${r.acl.operation} on ${r.acl.resourceType} ${r.acl.name}`})), results.length, 'ACLs', result)
    return result
  }
}
