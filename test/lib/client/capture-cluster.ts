// A fake three-broker cluster that answers kcli's admin requests the way a real Kafka 4.0 cluster
// answered Kafka's own tools (test/lib/protocol/tool-captures.ts): the conversations of the runs
// given are replayed. A request kcli sends is matched with the first not yet used recorded
// request of the same API with the same content (timeouts aside), and answered with the recorded
// answer; a request with no match is answered from the next recorded one of its API and noted in
// `unmatched` — a test asserts that list is empty, which pins that kcli asked what Kafka's tool
// asked. Metadata and DescribeCluster are not replayed but built from the recorded cluster (the
// brokers, with this machine's ports) and from a topic state taken from a recorded describe
// (`topicsFrom`), which `setTopicsFrom` changes as the test goes (the state after an election).

import {exchangesOf, loadToolExchanges, type ToolExchange} from '../protocol/tool-captures.js'
import {type FakeBroker, fakeBroker, type FakeRequest} from './fake-broker.js'

export interface CaptureClusterOptions {
  /** The runs whose conversations are replayed. */
  runs: number[]
  /** The run whose recorded describe gives the topics' state (Metadata or DescribeTopicPartitions answers). */
  topicsFrom: number
  /** Answers for APIs the tools never sent (ListOffsets, DescribeLogDirs): apiKey -> body. */
  extra?: Record<number, (request: FakeRequest, node: number) => unknown>
  /** After answering a replayed request of this API, take the topics' state from that run: apiKey -> run. */
  thenTopicsFrom?: Record<number, number>
}

export interface CaptureCluster {
  bootstrap: string
  nodes: Map<number, FakeBroker>
  /** Every request kcli sent, with the node it went to. */
  requests: (FakeRequest & {node: number})[]
  /** kcli requests no recorded request matched. */
  unmatched: {node: number; apiKey: number; body: unknown; expected: unknown}[]
  /** The recorded exchanges that were replayed. */
  replayed: ToolExchange[]
  setTopicsFrom(run: number): void
  /** The topics' state Metadata answers from (Metadata v13 topic bodies), for tests to change. */
  topics(): any[]
  close(): Promise<void>
}

const BUILT = new Set([18, 3, 60]) // ApiVersions, Metadata, DescribeCluster

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (k !== 'timeoutMs' && k !== 'unknownTaggedFields') out[k] = normalize(v)
    return out
  }
  return value
}

function topicStateOf(run: number): any[] {
  const exchanges = exchangesOf([run])
  const metadata = exchanges.filter((e) => e.apiKey === 3 && e.response.topics.length > 0).at(-1)
  const described = exchanges.filter((e) => e.apiKey === 75).at(-1)
  const topics = new Map<string, any>()
  for (const t of metadata?.response.topics ?? []) topics.set(t.name, t)
  for (const t of described?.response.topics ?? []) {
    topics.set(t.name, {
      errorCode: t.errorCode,
      name: t.name,
      topicId: t.topicId,
      isInternal: t.isInternal,
      partitions: t.partitions.map((p: any) => ({errorCode: p.errorCode, partitionIndex: p.partitionIndex, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, replicaNodes: p.replicaNodes, isrNodes: p.isrNodes, offlineReplicas: p.offlineReplicas})),
      topicAuthorizedOperations: -2147483648,
    })
  }
  return [...topics.values()]
}

export async function captureCluster(options: CaptureClusterOptions): Promise<CaptureCluster> {
  const all = loadToolExchanges()
  const apiVersions = all.find((e) => e.apiKey === 18)!.response
  const replay = exchangesOf(options.runs).filter((e) => !BUILT.has(e.apiKey))
  const used = new Set<ToolExchange>()
  const recordedCluster = exchangesOf(options.runs).find((e) => e.apiKey === 3)?.response ?? all.find((e) => e.apiKey === 3)!.response
  let topics = topicStateOf(options.topicsFrom)
  const requests: CaptureCluster['requests'] = []
  const unmatched: CaptureCluster['unmatched'] = []
  const replayed: ToolExchange[] = []
  const nodes = new Map<number, FakeBroker>()
  const ports = new Map<number, number>()

  const brokers = () => recordedCluster.brokers.map((b: any) => ({...b, host: '127.0.0.1', port: ports.get(b.nodeId)}))
  const handler = (node: number) => (request: FakeRequest) => {
    requests.push({...request, node})
    switch (request.apiKey) {
      case 18:
        return apiVersions
      case 3: {
        const wanted = request.body.topics === null ? null : request.body.topics.map((t: any) => t.name)
        return {
          throttleTimeMs: 0,
          brokers: brokers(),
          clusterId: recordedCluster.clusterId,
          controllerId: recordedCluster.controllerId,
          topics: wanted === null ? topics : wanted.map((name: string) => topics.find((t) => t.name === name) ?? {errorCode: 3, name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648}),
          clusterAuthorizedOperations: -2147483648,
          errorCode: 0,
        }
      }
      case 60:
        return {throttleTimeMs: 0, errorCode: 0, errorMessage: null, endpointType: 1, clusterId: recordedCluster.clusterId, controllerId: recordedCluster.controllerId, brokers: brokers().map((b: any) => ({brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack, isFenced: false})), clusterAuthorizedOperations: -2147483648}
    }
    const extra = options.extra?.[request.apiKey]
    if (extra) return extra(request, node)
    const wanted = JSON.stringify(normalize(request.body))
    let match = replay.find((e) => !used.has(e) && e.apiKey === request.apiKey && JSON.stringify(normalize(e.request)) === wanted)
    // A broker config goes to that broker, as the Java admin client sends it.
    if (match && request.apiKey === 44 && match.request.resources[0].resourceType === 4 && Number(match.request.resources[0].resourceName) !== node) {
      unmatched.push({node, apiKey: request.apiKey, body: request.body, expected: `broker config of ${match.request.resources[0].resourceName} sent to node ${node}`})
    }
    if (!match) {
      match = replay.find((e) => !used.has(e) && e.apiKey === request.apiKey)
      unmatched.push({node, apiKey: request.apiKey, body: normalize(request.body), expected: match ? normalize(match.request) : 'no recorded request of this API left'})
      if (!match) return undefined
    }
    used.add(match)
    replayed.push(match)
    const next = options.thenTopicsFrom?.[request.apiKey]
    if (next !== undefined) topics = topicStateOf(next)
    return match.response
  }

  for (const b of recordedCluster.brokers) {
    const broker = await fakeBroker(handler(b.nodeId))
    nodes.set(b.nodeId, broker)
    ports.set(b.nodeId, broker.port)
  }
  return {
    bootstrap: [...nodes.values()].map((n) => `127.0.0.1:${n.port}`).join(','),
    nodes,
    requests,
    unmatched,
    replayed,
    setTopicsFrom(run: number) {
      topics = topicStateOf(run)
    },
    topics: () => topics,
    close: async () => {
      await Promise.all([...nodes.values()].map((n) => n.close()))
    },
  }
}
