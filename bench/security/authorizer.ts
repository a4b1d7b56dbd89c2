/**
 * Authorization cost (issue 15): nanoseconds per Authorizer.authorize call with 100 and 10,000 ACLs
 * (literal, prefixed and wildcard bindings over many principals), and produce throughput of an
 * in-process broker with the authorizer off, and on with 100 and 10,000 ACLs (3 interleaved rounds,
 * medians, ratios within one run).
 *
 *   npx tsx bench/security/authorizer.ts [--records 200000]
 */
import {AclOperation, AclPermissionType, type AclBinding, PatternType, ResourceType} from '../../src/lib/acl.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'
import {Authorizer} from '../../src/server/security/authorizer.js'
import {startBroker} from '../../test/e2e/harness.js'
import {RawClient} from '../../test/e2e/peers.js'

function acls(n: number): AclBinding[] {
  const out: AclBinding[] = []
  for (let i = 0; out.length < n; i++) {
    const patternType = i % 3 === 0 ? PatternType.PREFIXED : PatternType.LITERAL
    out.push({pattern: {resourceType: i % 2 === 0 ? ResourceType.TOPIC : ResourceType.GROUP, name: `app-${i}-${patternType === PatternType.PREFIXED ? '' : 'topic'}`, patternType}, entry: {principal: `User:user-${i % 500}`, host: '*', operation: i % 5 === 0 ? AclOperation.READ : AclOperation.WRITE, permissionType: i % 17 === 0 ? AclPermissionType.DENY : AclPermissionType.ALLOW}})
  }
  // The benchmark principal's own ACL.
  out[0] = {pattern: {resourceType: ResourceType.TOPIC, name: 'bench', patternType: PatternType.LITERAL}, entry: {principal: 'User:ANONYMOUS', host: '*', operation: AclOperation.WRITE, permissionType: AclPermissionType.ALLOW}}
  return out
}

function nsPerCall(n: number): number {
  const list = acls(n)
  const a = new Authorizer({enabled: true, superUsers: new Set(), allowEveryoneIfNoAclFound: false}, {acls: () => list})
  const who = {principal: 'User:ANONYMOUS', host: '127.0.0.1'}
  const names = Array.from({length: 64}, (_, i) => (i === 0 ? 'bench' : `app-${i * 7}-topic`))
  a.authorize(who, AclOperation.WRITE, ResourceType.TOPIC, 'bench') // index once
  const calls = 2_000_000
  const start = process.hrtime.bigint()
  let allowed = 0
  for (let i = 0; i < calls; i++) if (a.authorize(who, AclOperation.WRITE, ResourceType.TOPIC, names[i & 63]!)) allowed++
  const ns = Number(process.hrtime.bigint() - start) / calls
  if (allowed === 0) throw new Error('nothing allowed')
  return ns
}

async function produceThroughput(mode: 'off' | number, records: number): Promise<number> {
  const overrides: Record<string, string> = mode === 'off' ? {} : {'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'}
  const broker = await startBroker(overrides)
  try {
    if (mode !== 'off') {
      // Created straight in the store (CreateAcls would need a super user first).
      const store = (broker.broker as unknown as {metadata: {alterAcls(c: {create: AclBinding[]; delete: AclBinding[]}): Promise<void>}}).metadata
      await store.alterAcls({create: [...acls(mode), {pattern: {resourceType: ResourceType.CLUSTER, name: 'kafka-cluster', patternType: PatternType.LITERAL}, entry: {principal: 'User:ANONYMOUS', host: '*', operation: AclOperation.CREATE, permissionType: AclPermissionType.ALLOW}}], delete: []})
    }
    const admin = await RawClient.connect(broker.port)
    const created = await admin.request(ApiKey.CreateTopics, 7, {topics: [{name: 'bench', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 5000, validateOnly: false})
    if (created.topics[0]!.errorCode !== 0) throw new Error(`create failed: ${created.topics[0]!.errorCode}`)
    const perBatch = 100
    const batch = await buildRecordBatch({records: Array.from({length: perBatch}, (_, i) => ({value: Buffer.alloc(100, i)}))})
    const start = process.hrtime.bigint()
    const inFlight = 8
    let sent = 0
    const worker = async () => {
      while (sent < records) {
        sent += perBatch
        const r = await admin.request(ApiKey.Produce, 9, {transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{name: 'bench', partitionData: [{index: 0, records: batch}]}]})
        if (r.responses[0]!.partitionResponses[0]!.errorCode !== 0) throw new Error(`produce failed: ${r.responses[0]!.partitionResponses[0]!.errorCode}`)
      }
    }
    await Promise.all(Array.from({length: inFlight}, worker))
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    admin.close()
    return sent / seconds
  } finally {
    await broker.stop()
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--records')
  const records = i > 0 ? Number(process.argv[i + 1]) : 200_000
  for (const n of [100, 10_000]) console.log(`authorize(): ${n} ACLs: ${nsPerCall(n).toFixed(0)} ns per call`)
  // Rounds interleaved, median per mode: the machine is shared, single runs are noisy.
  const modes = ['off', 100, 10_000] as const
  const rates = new Map<string, number[]>(modes.map((m) => [String(m), []]))
  for (let round = 0; round < 3; round++) for (const mode of modes) rates.get(String(mode))!.push(await produceThroughput(mode, records))
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const results: Array<[string, number]> = modes.map((mode) => [mode === 'off' ? 'authorizer off' : `authorizer on, ${mode} ACLs`, median(rates.get(String(mode))!)])
  const base = results[0]![1]
  for (const [what, rate] of results) console.log(`produce, ${what}: ${Math.round(rate)} records/s (${(rate / base).toFixed(2)}x of off)`)
}

await main()
