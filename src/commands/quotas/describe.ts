import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {type ClientQuota, entityText} from '../../lib/client/quotas.js'
import {ENTITY_FLAGS, entityFromFlags} from '../../lib/cli/quota-entity-flags.js'

export interface QuotasDescribeResult {
  quotas: ClientQuota[]
}

export default class QuotasDescribe extends BaseCommand<typeof QuotasDescribe> {
  static override description = `Shows client quotas (DescribeClientQuotas, KIP-546: what kafka-configs --describe --entity-type users|clients|ips shows): producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate and connection_creation_rate per user, client id, user and client id, or ip, <default> entities included. Without entity flags every entity with a quota is shown; with them, the entities with those names (and, without --strict, any other entity types too: --user alice also shows alice's per-client quotas).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every quota.'},
    {command: '<%= config.bin %> <%= command.id %> --user alice', description: "alice's quotas, per client id included."},
    {command: '<%= config.bin %> <%= command.id %> --client-defaults --strict --json', description: 'The default client-id quota alone, as JSON.'},
  ]
  static override flags = {
    ...ENTITY_FLAGS,
    strict: Flags.boolean({summary: 'Only entities of exactly the given types.'}),
  }
  static override summary = 'Show client quotas.'

  async run(): Promise<QuotasDescribeResult> {
    const {QuotasAdmin} = await import('../../lib/client/quotas.js')
    const entity = entityFromFlags(this.flags)
    const admin = new QuotasAdmin(await this.kafka())
    const filter = entity.map((e) => ({type: e.type, match: e.name === null ? ('default' as const) : {name: e.name}}))
    const quotas = (await this.withTimeout('describing quotas', admin.describe(filter, this.flags.strict))).sort((a, b) => entityText(a.entity).localeCompare(entityText(b.entity)))
    this.out.table(
      [{header: 'Entity'}, {header: 'Quotas'}],
      quotas.map((q) => [
        entityText(q.entity),
        Object.entries(q.values)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${v}`)
          .join(', '),
      ]),
    )
    return {quotas}
  }
}
