import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {failIfAny, parseKeyValues} from '../../lib/client/cli-input.js'
import {entityText, type QuotaChange} from '../../lib/client/quotas.js'
import {ENTITY_FLAGS, entityFromFlags} from '../../lib/cli/quota-entity-flags.js'

export interface QuotasAlterResult {
  changes: Array<QuotaChange & {set: Record<string, number>; deleted: string[]}>
}

export default class QuotasAlter extends BaseCommand<typeof QuotasAlter> {
  static override description = `Sets (--add-config k=v, comma-separated or repeated) or removes (--delete-config k) client quotas of one entity, as kafka-configs --alter --entity-type users|clients|ips does (AlterClientQuotas). Keys: producer_byte_rate and consumer_byte_rate (bytes per second), request_percentage (percent of one request thread), controller_mutation_rate (partitions created or deleted per second) for users and client ids; connection_creation_rate for ips. The broker checks the values (a positive number, whole for the byte rates) and stores nothing of a refused change.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --user alice --add-config producer_byte_rate=1048576,consumer_byte_rate=2097152', description: "alice's byte rates."},
    {command: '<%= config.bin %> <%= command.id %> --user alice --client app --add-config request_percentage=50', description: 'alice with client id app.'},
    {command: '<%= config.bin %> <%= command.id %> --client-defaults --delete-config producer_byte_rate', description: 'Remove the default client-id producer quota.'},
  ]
  static override flags = {
    ...ENTITY_FLAGS,
    'add-config': Flags.string({aliases: ['set'], helpValue: '<k=v,...>', multiple: true, summary: 'Quotas to set.'}),
    'delete-config': Flags.string({helpValue: '<k,...>', multiple: true, summary: 'Quotas to remove.'}),
    'validate-only': Flags.boolean({summary: 'Check without applying.'}),
  }
  static override summary = 'Change client quotas.'

  async run(): Promise<QuotasAlterResult> {
    const entity = entityFromFlags(this.flags)
    if (entity.length === 0) throw new UsageError('name an entity: --user <name>, --client <id>, --ip <address> or their --*-defaults')
    const set: Record<string, number> = {}
    for (const [k, v] of Object.entries(parseKeyValues(this.flags['add-config'], '--add-config'))) {
      const value = Number(v)
      if (v.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--add-config ${k}=${v}: a quota is a number`)
      set[k] = value
    }
    const deleted = (this.flags['delete-config'] ?? []).flatMap((k) => k.split(',')).map((k) => k.trim()).filter(Boolean)
    if (Object.keys(set).length === 0 && deleted.length === 0) throw new UsageError('nothing to change: give --add-config k=v or --delete-config k')
    const {QuotasAdmin} = await import('../../lib/client/quotas.js')
    const admin = new QuotasAdmin(await this.kafka())
    const change = await this.withTimeout('altering quotas', admin.alter(entity, set, deleted, this.flags['validate-only']))
    const changes = [{...change, set, deleted}]
    const c = this.out.color
    this.out.table(
      [{header: 'Entity'}, {header: 'Result'}, {header: 'Changes'}],
      changes.map((r) => [
        entityText(r.entity),
        r.errorCode === 0 ? c.green(this.flags['validate-only'] ? 'valid' : 'altered') : c.red(`${r.error}${r.errorMessage ? `: ${r.errorMessage}` : ''}`),
        [...Object.entries(set).map(([k, v]) => `${k}=${v}`), ...deleted.map((k) => `-${k}`)].join(' '),
      ]),
    )
    const result = {changes}
    failIfAny(changes.filter((r) => r.errorCode !== 0).map((r) => ({...r, item: entityText(r.entity)})), changes.length, 'quota changes', result)
    return result
  }
}
