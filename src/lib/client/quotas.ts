// Client quotas (KIP-546), as Kafka's `kafka-configs --entity-type users|clients|ips` manages them:
// DescribeClientQuotas with filter components (an exact name, the <default> entity, or any name of
// a type) and AlterClientQuotas (set a key to a number, remove it). Any broker answers (Kafka
// forwards to its controller).

import {ApiKey} from '../protocol/generated/api-keys.js'
import type {ItemResult} from './admin.js'
import type {KafkaClient} from './client.js'
import {errorName, KafkaError} from './errors.js'

export type QuotaEntityType = 'user' | 'client-id' | 'ip'
/** One component of an entity: its type and name (null: the <default> entity of the type). */
export interface QuotaEntityPart {
  type: QuotaEntityType | string
  name: string | null
}

export interface ClientQuota {
  entity: QuotaEntityPart[]
  values: Record<string, number>
}

export interface QuotaChange extends ItemResult {
  entity: QuotaEntityPart[]
}

/** What to describe: per type an exact name, the default entity, or any (every entity of the type). */
export interface QuotaFilterPart {
  type: string
  match: {name: string} | 'default' | 'any'
}

/** `user=alice, client-id=<default>`: an entity as people read it. */
export function entityText(entity: readonly QuotaEntityPart[]): string {
  return entity.map((e) => `${e.type}=${e.name ?? '<default>'}`).join(', ')
}

export class QuotasAdmin {
  constructor(private readonly client: KafkaClient) {}

  /** The entities matching every part of the filter (strict: no other types either); none: every entity. */
  async describe(filter: readonly QuotaFilterPart[], strict = false): Promise<ClientQuota[]> {
    const connection = await this.client.anyConnection()
    const r = await connection.send(ApiKey.DescribeClientQuotas, {
      strict,
      components: filter.map((f) => ({entityType: f.type, matchType: f.match === 'default' ? 1 : f.match === 'any' ? 2 : 0, match: typeof f.match === 'object' ? f.match.name : null})),
    })
    if (r.errorCode !== 0) throw KafkaError.fromCode(r.errorCode, `DescribeClientQuotas${r.errorMessage ? `: ${r.errorMessage}` : ''}`)
    return (r.entries ?? []).map((e) => ({
      entity: e.entity.map((x) => ({type: x.entityType, name: x.entityName})),
      values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
    }))
  }

  /** Sets and removes quota keys of one entity. */
  async alter(entity: readonly QuotaEntityPart[], set: Record<string, number>, remove: readonly string[], validateOnly = false): Promise<QuotaChange> {
    const connection = await this.client.anyConnection()
    const r = await connection.send(ApiKey.AlterClientQuotas, {
      validateOnly,
      entries: [
        {
          entity: entity.map((e) => ({entityType: e.type, entityName: e.name})),
          ops: [...Object.entries(set).map(([key, value]) => ({key, value, remove: false})), ...remove.map((key) => ({key, value: 0, remove: true}))],
        },
      ],
    })
    const e = r.entries[0]
    if (!e) throw new Error('AlterClientQuotas: the broker answered without a result')
    return {entity: [...entity], error: errorName(e.errorCode), errorCode: e.errorCode, errorMessage: e.errorMessage}
  }
}
