/**
 * Replays Kafka 4.0's own tools (test/lib/protocol/tool-captures.ts) against kcli brokers: each
 * recorded connection becomes a connection of ours to the broker with the same node id, each
 * recorded request frame is sent as it is (same correlation id), and the decoded answer is
 * compared with the answer Kafka recorded, after `normalizeAnswer` has taken out what legitimately
 * differs between two clusters:
 *   - cluster id, controller id (KRaft reports a random broker), hosts and ports, throttle times;
 *   - topic ids (random), producer ids (allocated);
 *   - the order of what Kafka keeps in hash maps: topics, partitions, brokers, election results,
 *     configs are sorted by their key; an ISR is compared as a set;
 *   - leader epochs are compared relative to the first answer that showed the partition
 *     (`EpochBaseline`): every later bump must be Kafka's, where our history starts need not be.
 * The caller sets the cluster up as the run assumes (the scenario text) and may act between
 * exchanges (stop a broker before the request that meets the failover).
 */
import {decodeResponse} from '../../src/lib/protocol/index.js'
import type {ApiKeyNumber} from '../../src/lib/protocol/generated/index.js'
import type {ToolExchange} from '../lib/protocol/tool-captures.js'
import {RawClient} from './peers.js'

/** What comparing one exchange found: nothing when kcli answered as Kafka did. */
export interface ReplayDifference {
  run: number
  index: number
  api: string
  broker: number
  /** `path: kafka <value>, kcli <value>` for each differing leaf. */
  differences: string[]
}

/** Per-partition offset between our leader epochs and Kafka's, fixed by the first answer showing the partition. */
export class EpochBaseline {
  private readonly offsets = new Map<string, number>()

  /** Our epoch expressed on Kafka's scale (our epoch minus the partition's offset). */
  align(topic: string, partition: number, ours: number, kafkas: number): number {
    if (ours < 0 || kafkas < 0) return ours
    const key = `${topic}/${partition}`
    let offset = this.offsets.get(key)
    if (offset === undefined) {
      offset = ours - kafkas
      this.offsets.set(key, offset)
    }
    return ours - offset
  }

  /** The partitions whose epochs are not Kafka's numbers but shifted (`topic/partition` -> our epoch minus Kafka's). */
  shifted(): Map<string, number> {
    return new Map([...this.offsets].filter(([, offset]) => offset !== 0))
  }
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
/** Fields whose value differs between any two clusters. */
const DROPPED = new Set(['throttleTimeMs', 'clusterId', 'controllerId', 'host', 'port', 'unknownTaggedFields'])
/** Keys that identify an element of a list Kafka builds from a hash map: the list is sorted by the first one present. */
const SORT_KEYS = ['name', 'topic', 'resourceName', 'partitionIndex', 'partitionId', 'index', 'nodeId', 'brokerId']
/** Node-id lists that are sets. */
const SETS = new Set(['isrNodes'])

function sortKey(element: unknown): string | number | undefined {
  if (!element || typeof element !== 'object') return undefined
  for (const k of SORT_KEYS) {
    const v = (element as Record<string, unknown>)[k]
    if (typeof v === 'string' || typeof v === 'number') return v
  }
  return undefined
}

/** The answer with what legitimately differs between two clusters taken out (see the file header). */
export function normalizeAnswer(value: unknown, key = ''): unknown {
  if (typeof value === 'bigint') return key === 'producerId' && value >= 0n ? '<producerId>' : value.toString()
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.length} bytes>`
  if (Array.isArray(value)) {
    const items = value.map((v) => normalizeAnswer(v))
    if (SETS.has(key)) return [...(items as number[])].sort((a, b) => a - b)
    if (items.length > 1 && items.every((i) => sortKey(i) !== undefined)) {
      return [...items].sort((a, b) => {
        const x = sortKey(a)!
        const y = sortKey(b)!
        return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))
      })
    }
    return items
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (DROPPED.has(k)) continue
      out[k] = k === 'topicId' && typeof v === 'string' && v !== ZERO_UUID ? '<topicId>' : normalizeAnswer(v, k)
    }
    return out
  }
  return value
}

/**
 * Walks Kafka's and our (normalized) answers side by side and rewrites our leader epochs on
 * Kafka's scale through `baseline` (topic from the enclosing `name`/`topic`, partition from
 * `partitionIndex`/`index`/`partitionId`).
 */
function alignEpochs(ours: unknown, kafkas: unknown, baseline: EpochBaseline, context: {topic?: string; partition?: number} = {}): void {
  if (Array.isArray(ours) && Array.isArray(kafkas)) {
    ours.forEach((o, i) => alignEpochs(o, kafkas[i], baseline, context))
    return
  }
  if (!ours || typeof ours !== 'object' || !kafkas || typeof kafkas !== 'object') return
  const o = ours as Record<string, unknown>
  const k = kafkas as Record<string, unknown>
  const here = {...context}
  if (typeof o.name === 'string') here.topic = o.name
  if (typeof o.topic === 'string') here.topic = o.topic
  for (const p of ['partitionIndex', 'index', 'partitionId']) if (typeof o[p] === 'number') here.partition = o[p] as number
  for (const [field, value] of Object.entries(o)) {
    if (field === 'leaderEpoch' && typeof value === 'number' && typeof k[field] === 'number' && here.topic !== undefined && here.partition !== undefined) {
      o[field] = baseline.align(here.topic, here.partition, value, k[field] as number)
    } else alignEpochs(value, k[field], baseline, here)
  }
}

/** `path: kafka X, kcli Y` for every leaf where the two differ. */
export function differences(kafka: unknown, ours: unknown, path = ''): string[] {
  if (Array.isArray(kafka) && Array.isArray(ours) && kafka.length === ours.length) return kafka.flatMap((k, i) => differences(k, ours[i], `${path}[${i}]`))
  if (kafka && ours && typeof kafka === 'object' && typeof ours === 'object' && !Array.isArray(kafka) && !Array.isArray(ours)) {
    const keys = [...new Set([...Object.keys(kafka), ...Object.keys(ours)])]
    return keys.flatMap((k) => differences((kafka as Record<string, unknown>)[k], (ours as Record<string, unknown>)[k], path ? `${path}.${k}` : k))
  }
  const a = JSON.stringify(kafka)
  const b = JSON.stringify(ours)
  return a === b ? [] : [`${path || '.'}: kafka ${a?.slice(0, 300)}, kcli ${b?.slice(0, 300)}`]
}

export interface ReplayOptions {
  /** The port of the kcli broker with this node id. */
  port(broker: number): number
  /** Tweaks both normalized answers of an exchange before comparing (e.g. drop what a test cannot reproduce). */
  adjust?: (exchange: ToolExchange, kafka: any, ours: any) => void
  /** Per-request timeout (default 20 s). */
  timeoutMs?: number
}

/** One replay: its connections (one per recorded connection) and its epoch baseline. */
export class ToolReplay {
  private readonly connections = new Map<number, RawClient>()
  readonly baseline = new EpochBaseline()
  /** Every exchange compared, with what differed. */
  readonly results: ReplayDifference[] = []
  /** The indexes of every exchange sent (compared or not). */
  readonly sent = new Set<number>()

  constructor(private readonly options: ReplayOptions) {}

  /** Our connection for a recorded one (connected on first use to the broker the tool talked to). */
  async connection(exchange: ToolExchange): Promise<RawClient> {
    let raw = this.connections.get(exchange.connection)
    if (!raw || raw.isClosed) {
      raw = await RawClient.connect(this.options.port(exchange.broker))
      this.connections.set(exchange.connection, raw)
    }
    return raw
  }

  /** Sends the recorded request and decodes the answer (not compared). */
  async send(exchange: ToolExchange): Promise<any> {
    const raw = await this.connection(exchange)
    this.sent.add(exchange.index)
    const answer = raw.nextFrame(this.options.timeoutMs ?? 20_000)
    const size = Buffer.alloc(4)
    size.writeInt32BE(exchange.requestFrame.length)
    raw.sendBytes(Buffer.concat([size, exchange.requestFrame]))
    const {header, body} = decodeResponse(await answer, exchange.apiKey as ApiKeyNumber, exchange.apiVersion)
    if (header.correlationId !== exchange.correlationId) throw new Error(`${exchange.api}: correlation id ${header.correlationId}, expected ${exchange.correlationId}`)
    return body
  }

  /** Sends the recorded request and compares our answer with Kafka's; returns the differences (also kept in `results`). */
  async replay(exchange: ToolExchange): Promise<ReplayDifference> {
    const ours = normalizeAnswer(await this.send(exchange)) as any
    const kafka = normalizeAnswer(exchange.response) as any
    alignEpochs(ours, kafka, this.baseline)
    this.options.adjust?.(exchange, kafka, ours)
    const result = {run: exchange.run, index: exchange.index, api: exchange.api, broker: exchange.broker, differences: differences(kafka, ours)}
    this.results.push(result)
    return result
  }

  /** Closes the connection of a recorded connection id (the tool closed it). */
  closeConnection(connection: number): void {
    this.connections.get(connection)?.close()
    this.connections.delete(connection)
  }

  close(): void {
    for (const raw of this.connections.values()) raw.close()
    this.connections.clear()
  }
}
