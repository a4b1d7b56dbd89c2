// Replays the ACL requests kafka-acls.sh sent to a real Kafka 4.0 cluster with StandardAuthorizer
// (tool-captures/security-tools.jsonl: CreateAcls, DescribeAcls, DeleteAcls, in order) against a
// fresh kcli broker with the same settings, and expects Kafka's answers (resources and ACLs
// compared as sets: their order is the store's).
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {HAVE_SECURITY_TOOL_CAPTURES, loadToolExchanges, SECURITY_TOOL_CAPTURES} from '../../lib/protocol/tool-captures.js'
import {useBroker} from './helpers.js'

const ACL_APIS = new Set<number>([ApiKey.DescribeAcls, ApiKey.CreateAcls, ApiKey.DeleteAcls])

function normalize(apiKey: number, body: any): unknown {
  const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort()
  const strip = (o: any) => {
    const {unknownTaggedFields: _u, ...rest} = o
    return rest
  }
  if (apiKey === ApiKey.DescribeAcls) return {errorCode: body.errorCode, resources: sorted(body.resources.map((r: any) => ({...strip(r), acls: sorted(r.acls.map(strip))})))}
  if (apiKey === ApiKey.CreateAcls) return body.results.map(strip)
  return body.filterResults.map((f: any) => ({errorCode: f.errorCode, errorMessage: f.errorMessage, matchingAcls: sorted(f.matchingAcls.map(strip))}))
}

describe.skipIf(!HAVE_SECURITY_TOOL_CAPTURES)('kafka-acls.sh conversations replayed (security-tools.jsonl)', () => {
  const ctx = useBroker({'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:ANONYMOUS'})

  it('answers every CreateAcls, DescribeAcls and DeleteAcls as Kafka did', async () => {
    const exchanges = HAVE_SECURITY_TOOL_CAPTURES ? loadToolExchanges(SECURITY_TOOL_CAPTURES).filter((e) => ACL_APIS.has(e.apiKey)) : []
    expect(exchanges.length).toBe(25)
    for (const e of exchanges) {
      const ours: any = await ctx.client.send(e.apiKey as typeof ApiKey.CreateAcls, e.apiVersion, e.request as never)
      expect({run: e.run, tool: e.tool, answer: normalize(e.apiKey, ours)}).toEqual({run: e.run, tool: e.tool, answer: normalize(e.apiKey, e.response)})
    }
  })
})
