// kcli acls parses kafka-acls.sh's options into the requests kafka-acls.sh sent: the command lines
// of tool-captures/security-tools.jsonl (Apache Kafka 4.0) given to bindingsToCreate / filtersOf,
// compared with the captured CreateAcls, DescribeAcls and DeleteAcls requests. Left out: --producer
// and --consumer (kcli has no such shortcuts) and --list --principal (kafka-acls.sh filters the
// principal itself, after a DescribeAcls of everything, as kcli acls list does).
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {bindingsToCreate, type EntryOptions, filtersOf, type ResourceOptions} from '../../../src/lib/client/acls.js'
import {HAVE_SECURITY_TOOL_CAPTURES, loadToolExchanges, SECURITY_TOOL_CAPTURES} from '../protocol/tool-captures.js'

/** kafka-acls.sh's options as kcli's resource and entry options. */
function optionsOf(tool: string): {r: ResourceOptions; e: EntryOptions} {
  const args = tool.split(/\s+/)
  const r: ResourceOptions = {}
  const e: EntryOptions = {}
  const push = <T extends object>(o: T, k: keyof T, v: string) => ((o[k] as unknown as string[] | undefined) ??= []).push(v)
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const v = args[i + 1]!
    if (a === '--topic') push(r, 'topic', v)
    else if (a === '--group') push(r, 'group', v)
    else if (a === '--transactional-id') push(r, 'transactionalId', v)
    else if (a === '--cluster') r.cluster = true
    else if (a === '--resource-pattern-type') r.patternType = v
    else if (a === '--allow-principal') push(e, 'allowPrincipal', v)
    else if (a === '--deny-principal') push(e, 'denyPrincipal', v)
    else if (a === '--allow-host') push(e, 'allowHost', v)
    else if (a === '--deny-host') push(e, 'denyHost', v)
    else if (a === '--operation') push(e, 'operation', v)
  }
  return {r, e}
}

const sortedJson = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort()

describe.skipIf(!HAVE_SECURITY_TOOL_CAPTURES)('kcli acls options as kafka-acls.sh sends them (security-tools.jsonl)', () => {
  const exchanges = HAVE_SECURITY_TOOL_CAPTURES ? loadToolExchanges(SECURITY_TOOL_CAPTURES) : []
  const replayable = exchanges.filter((x) => x.tool.startsWith('kafka-acls.sh') && !/--producer|--consumer|--principal /.test(x.tool))

  it('creates the bindings kafka-acls.sh --add created', () => {
    const adds = replayable.filter((x) => x.apiKey === ApiKey.CreateAcls)
    expect(adds.length).toBeGreaterThanOrEqual(8)
    for (const x of adds) {
      const {r, e} = optionsOf(x.tool)
      const ours = bindingsToCreate(r, e).map((b) => ({resourceType: b.pattern.resourceType, resourceName: b.pattern.name, resourcePatternType: b.pattern.patternType, principal: b.entry.principal, host: b.entry.host, operation: b.entry.operation, permissionType: b.entry.permissionType}))
      const theirs = (x.request as any).creations.map(({unknownTaggedFields: _u, ...c}: any) => c)
      expect({tool: x.tool, acls: sortedJson(ours)}).toEqual({tool: x.tool, acls: sortedJson(theirs)})
    }
  })

  it('sends the filters of kafka-acls.sh --list and --remove (a principal without a host: host *)', () => {
    const filters = replayable.filter((x) => x.apiKey === ApiKey.DescribeAcls || x.apiKey === ApiKey.DeleteAcls)
    expect(filters.filter((x) => x.apiKey === ApiKey.DeleteAcls)).toHaveLength(4)
    for (const x of filters) {
      const {r, e} = optionsOf(x.tool)
      const ours = filtersOf(r, e).map((f) => ({resourceTypeFilter: f.resourceType, resourceNameFilter: f.name, patternTypeFilter: f.patternType, principalFilter: f.principal, hostFilter: f.host, operation: f.operation, permissionType: f.permissionType}))
      const req = x.request as any
      const theirs = (x.apiKey === ApiKey.DeleteAcls ? req.filters : [req]).map(({unknownTaggedFields: _u, ...f}: any) => f)
      expect({tool: x.tool, filters: sortedJson(ours)}).toEqual({tool: x.tool, filters: sortedJson(theirs)})
    }
  })
})
