/**
 * kafka-configs.sh's quota conversations against Kafka 4.0 (security-tools.jsonl runs 23-41:
 * --alter --add-config/--delete-config and --describe for users, clients, user+client pairs and
 * <default> entities) replayed against a kcli broker: every request as the tool sent it, every
 * answer compared with Kafka's. Kafka orders entity parts, values and entries by Java HashMap
 * iteration; they are compared as sets.
 */
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {exchangesOf, SECURITY_TOOL_CAPTURES} from '../../lib/protocol/tool-captures.js'
import {useBroker} from './helpers.js'

const QUOTA_RUNS = Array.from({length: 19}, (_, i) => 23 + i)
const APIS = new Set<number>([ApiKey.DescribeClientQuotas, ApiKey.AlterClientQuotas, ApiKey.DescribeUserScramCredentials])

type Entity = Array<{entityType: string; entityName: string | null}>
const entityText = (entity: Entity) =>
  entity
    .map((e) => `${e.entityType}=${e.entityName ?? '<default>'}`)
    .sort()
    .join('/')

/** A response with the orders Kafka takes from HashMaps made canonical. */
function canonical(apiKey: number, body: any): unknown {
  if (apiKey === ApiKey.DescribeClientQuotas) {
    return {
      ...body,
      entries:
        body.entries === null
          ? null
          : body.entries
              .map((e: {entity: Entity; values: Array<{key: string; value: number}>}) => ({entity: entityText(e.entity), values: [...e.values].map((v) => `${v.key}=${v.value}`).sort()}))
              .sort((a: {entity: string}, b: {entity: string}) => a.entity.localeCompare(b.entity)),
    }
  }
  if (apiKey === ApiKey.AlterClientQuotas) return {...body, entries: body.entries.map((e: {entity: Entity}) => ({...e, entity: entityText(e.entity)}))}
  return body
}

describe('kafka-configs.sh quota captures replayed', () => {
  const fixture = useBroker()
  const exchanges = exchangesOf(QUOTA_RUNS, SECURITY_TOOL_CAPTURES).filter((e) => APIS.has(e.apiKey))

  it('has the quota conversations', () => {
    expect(exchanges.filter((e) => e.apiKey === ApiKey.AlterClientQuotas).length).toBeGreaterThanOrEqual(10)
  })

  it("answers every request of runs 23-41 as Kafka 4.0 did", async () => {
    for (const e of exchanges) {
      const answer = await fixture.client.send(e.apiKey as never, e.apiVersion, e.request as never)
      expect({run: e.run, tool: e.tool, api: e.api, answer: canonical(e.apiKey, answer)}).toEqual({run: e.run, tool: e.tool, api: e.api, answer: canonical(e.apiKey, e.response)})
    }
  })
})
