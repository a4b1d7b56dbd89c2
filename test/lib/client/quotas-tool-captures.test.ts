// kcli quotas sends what kafka-configs.sh sent (tool-captures/security-tools.jsonl, Apache Kafka
// 4.0): each captured `kafka-configs.sh --alter` / `--describe` command line turned into kcli's
// entity flags and given to QuotasAdmin over a client that only records requests, compared with
// the captured AlterClientQuotas and DescribeClientQuotas requests. The order of an entity's
// components and of the ops is the tool's own (a Java map), so both are compared as sets.
// kafka-configs --describe is always strict; `kcli quotas describe` is strict with --strict only
// (its documented default shows per-client quotas under --user too), so describes compare with
// strict = true; an --entity-type without a name (every entity of the type) has no kcli flag.
import {describe, expect, it} from 'vitest'
import {entityFromFlags} from '../../../src/lib/cli/quota-entity-flags.js'
import type {KafkaClient} from '../../../src/lib/client/client.js'
import {QuotasAdmin} from '../../../src/lib/client/quotas.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {HAVE_SECURITY_TOOL_CAPTURES, loadToolExchanges, SECURITY_TOOL_CAPTURES} from '../protocol/tool-captures.js'

/** kafka-configs.sh's entity options as kcli's flags, with its --add-config / --delete-config; undefined when kcli has no flag for them. */
function flagsOf(tool: string) {
  const args = tool.split(/\s+/)
  const flags: Record<string, string | boolean> = {}
  const set: Record<string, number> = {}
  const remove: string[] = []
  let type: string | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const v = args[i + 1]
    if (a === '--entity-type') {
      if (type !== undefined) return undefined
      type = v === 'users' ? 'user' : v === 'clients' ? 'client' : 'ip'
    } else if (a === '--entity-name') {
      flags[type!] = v!
      type = undefined
    } else if (a === '--entity-default') {
      flags[`${type!}-defaults`] = true
      type = undefined
    } else if (a === '--add-config') for (const kv of v!.split(',')) set[kv.split('=')[0]!] = Number(kv.split('=')[1])
    else if (a === '--delete-config') remove.push(...v!.split(','))
  }
  // An --entity-type without a name: every entity of the type.
  if (type !== undefined) return undefined
  return {flags, set, remove}
}

/** A client whose one connection records what it is asked to send and answers OK. */
function recordingClient(sent: unknown[]): KafkaClient {
  const connection = {
    send: async (apiKey: number, body: unknown) => {
      sent.push(body)
      return apiKey === ApiKey.AlterClientQuotas ? {entries: [{errorCode: 0, errorMessage: null}]} : {errorCode: 0, errorMessage: null, entries: []}
    },
  }
  return {anyConnection: async () => connection} as unknown as KafkaClient
}

const strip = (x: any) => JSON.parse(JSON.stringify(x, (k, v) => (k === 'unknownTaggedFields' ? undefined : v)))
const sortedJson = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort()

describe.skipIf(!HAVE_SECURITY_TOOL_CAPTURES)('kcli quotas requests as kafka-configs.sh sends them (security-tools.jsonl)', () => {
  const exchanges = HAVE_SECURITY_TOOL_CAPTURES ? loadToolExchanges(SECURITY_TOOL_CAPTURES).filter((x) => x.apiKey === ApiKey.AlterClientQuotas || x.apiKey === ApiKey.DescribeClientQuotas) : []

  it('alter: the same entity and ops', async () => {
    const alters = exchanges.filter((x) => x.apiKey === ApiKey.AlterClientQuotas)
    expect(alters).toHaveLength(11)
    for (const x of alters) {
      const {flags, set, remove} = flagsOf(x.tool)!
      const sent: any[] = []
      await new QuotasAdmin(recordingClient(sent)).alter(entityFromFlags(flags), set, remove)
      const theirs = strip(x.request)
      const norm = (r: any) => ({validateOnly: r.validateOnly, entries: r.entries.map((e: any) => ({entity: sortedJson(e.entity), ops: sortedJson(e.ops)}))})
      expect({tool: x.tool, request: norm(sent[0])}).toEqual({tool: x.tool, request: norm(theirs)})
    }
  })

  it('describe --strict: the same filter components', async () => {
    const describes = exchanges.filter((x) => x.apiKey === ApiKey.DescribeClientQuotas && x.tool.includes('--describe'))
    let compared = 0
    for (const x of describes) {
      const parsed = flagsOf(x.tool)
      if (!parsed) continue
      const sent: any[] = []
      const filter = entityFromFlags(parsed.flags).map((e) => ({type: e.type, match: e.name === null ? ('default' as const) : {name: e.name}}))
      await new QuotasAdmin(recordingClient(sent)).describe(filter, true)
      const norm = (r: any) => ({strict: r.strict, components: sortedJson(r.components)})
      expect({tool: x.tool, request: norm(sent[0])}).toEqual({tool: x.tool, request: norm(strip(x.request))})
      compared++
    }
    expect(compared).toBe(4)
  })
})
