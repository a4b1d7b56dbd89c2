/**
 * The processor graph a StreamsBuilder builds (Kafka Streams' InternalTopologyBuilder): sources,
 * processors and sinks by name, the stores they use, the sub-topologies (parts joined by data flow
 * or a shared store, cut at repartition topics) and describe() in Kafka Streams' text format.
 */
import type {Serde} from './serdes.js'

/** A record flowing through the graph. */
export interface StreamRecord<K = unknown, V = unknown> {
  key: K
  value: V
  timestamp: number
  headers: {key: string; value: Buffer | null}[]
  /** A table's update: the value it replaces (Kafka's Change.oldValue), when known. */
  oldValue?: V | null
}

/** Kafka's PunctuationType: by the task's stream time or by the wall clock. */
export type PunctuationType = 'STREAM_TIME' | 'WALL_CLOCK_TIME'

export interface Cancellable {
  cancel(): void
}

export interface ProcessorContext {
  readonly applicationId: string
  readonly taskId: string
  /** Where the record being processed came from. */
  readonly topic: string
  readonly partition: number
  readonly offset: number
  forward(record: StreamRecord, childName?: string): void
  getStateStore(name: string): KeyValueStore
  /** Produces to a topic (sinks): key and value already serialized. */
  send(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: StreamRecord['headers'], partition?: number): void
  /** The default key or value serde (default.key.serde / default.value.serde); throws when none is set. */
  defaultSerde(kind: 'key' | 'value', forWhat: string): Serde<unknown>
  /** The partition count of a topic (for a sink's partitioner). */
  partitionsFor(topic: string): number
  /** Counts a record dropped (the dropped-records-total metric) and logs why. */
  dropped(reason: string): void
  readonly log: StreamsLogger
  /**
   * Calls `punctuator(time)` every `intervalMs` of stream time (the largest record timestamp the
   * task has processed; first at its first record) or of wall-clock time (first after one
   * interval), as Kafka's ProcessorContext#schedule. Missed intervals fire once, not once each.
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: (timestamp: number) => void): Cancellable
  /** The task's stream time (-1 before its first record). */
  currentStreamTimeMs(): number
  /**
   * The instance's record cache budget (`statestore.cache.max.bytes`) shared by every caching
   * store: `used` is what the caches hold; a cache over the budget evicts its oldest entries.
   */
  readonly recordCache: {readonly maxBytes: number; used: number}
  currentSystemTimeMs(): number
  /** A value of the application's config (StreamsConfig), e.g. an internal setting. */
  appConfig(name: string): unknown
}

/** A state store's changelog topic, as Kafka Streams names it: `<application.id>-<store>-changelog`. */
export function changelogTopic(applicationId: string, storeName: string): string {
  return `${applicationId}-${storeName}-changelog`
}

/** What a processor binds for a store at init: its serdes (the given ones, else the defaults) and its changelog topic. */
export function storeBinding(c: ProcessorContext, storeName: string, keySerde?: Serde<unknown>, valueSerde?: Serde<unknown>): {ks: Serde<unknown>; vs: Serde<unknown>; topic: string} {
  return {ks: keySerde ?? c.defaultSerde('key', `store ${storeName}`), topic: changelogTopic(c.applicationId, storeName), vs: valueSerde ?? c.defaultSerde('value', `store ${storeName}`)}
}

export interface Processor {
  init?(context: ProcessorContext): void
  process(record: StreamRecord): void
  /** Writes and forwards what a record cache holds: called before each commit. */
  flushCache?(): void
  close?(): void
}

/** A store of bytes (the task's view of a persistent store: store.ts). */
export interface KeyValueStore {
  readonly name: string
  get(key: Buffer): {value: Buffer; timestamp: number} | undefined
  /** null deletes. Logged to the store's changelog (value and timestamp) when it has one. */
  put(key: Buffer, value: Buffer | null, timestamp: number): void
  /** Rows with from <= key < to, in key (byte) order. */
  range(from?: Buffer, to?: Buffer): {key: Buffer; value: Buffer; timestamp: number}[]
}

export interface StreamsLogger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export type NodeKind = 'source' | 'processor' | 'sink'

export interface NodeDef {
  name: string
  kind: NodeKind
  predecessors: string[]
  stores: string[]
  /** Sources: the topics read (internal ones without the application id). */
  topics?: string[]
  /** Sinks: the topic written (internal ones without the application id). */
  topic?: string
  keySerde?: Serde<unknown>
  valueSerde?: Serde<unknown>
  make: () => Processor
  /** A global store's source or processor: run by the global store reader, not by tasks. */
  global?: boolean
}

export interface StoreDef {
  name: string
  /** Whether the store has a changelog topic (`<application.id>-<store>-changelog`). */
  logged: boolean
  /** The changelog topic's configs (default: a key-value store's, compact). */
  changelogConfigs?: Record<string, string>
  keySerde?: Serde<unknown>
  valueSerde?: Serde<unknown>
  /** A GlobalKTable's store: every instance holds all of its topic, read by the global store reader (global-stores.ts). */
  global?: {topic: string}
  /** Kept in memory (Stores.inMemory*), not on disk: restored from the changelog's beginning on every start. */
  inMemory?: boolean
}

export interface Subtopology {
  id: number
  nodes: string[]
  /** Source topics, internal ones without the application id. */
  sourceTopics: string[]
  sinkTopics: string[]
  stores: string[]
  /** A global store's source and processor ("for global store (will not generate tasks)"). */
  global?: boolean
}

export class TopologyException extends Error {
  override name = 'TopologyException'
  constructor(message: string) {
    super(`Invalid topology: ${message}`)
  }
}

export class Topology {
  /** In the order they were added (Kafka's nodeFactories, a LinkedHashMap). */
  readonly nodes = new Map<string, NodeDef>()
  readonly stores = new Map<string, StoreDef>()
  /** Repartition topics (names without the application id) with the partition count asked for, if any. */
  readonly repartitionTopics = new Map<string, {partitions?: number}>()

  addNode(node: NodeDef): void {
    if (this.nodes.has(node.name)) throw new TopologyException(`Processor ${node.name} is already added.`)
    for (const p of node.predecessors) if (!this.nodes.has(p)) throw new TopologyException(`Predecessor processor ${p} is not added yet for ${node.name}`)
    this.nodes.set(node.name, node)
  }

  addStore(store: StoreDef): void {
    if (this.stores.has(store.name)) throw new TopologyException(`StateStore ${store.name} is already added.`)
    this.stores.set(store.name, store)
  }

  isInternal(topic: string): boolean {
    return this.repartitionTopics.has(topic)
  }

  /** Sub-topologies numbered in the order of their first node (upstream first). */
  subtopologies(): Subtopology[] {
    const parent = new Map<string, string>()
    const find = (n: string): string => {
      let r = n
      while (parent.get(r) !== r) r = parent.get(r)!
      parent.set(n, r)
      return r
    }
    const union = (a: string, b: string) => parent.set(find(a), find(b))
    for (const name of this.nodes.keys()) parent.set(name, name)
    const storeOwner = new Map<string, string>()
    for (const node of this.nodes.values()) {
      for (const p of node.predecessors) union(node.name, p)
      for (const s of node.stores) {
        const owner = storeOwner.get(s)
        if (owner) union(node.name, owner)
        else storeOwner.set(s, node.name)
      }
    }
    const groups = new Map<string, string[]>()
    for (const name of this.nodes.keys()) {
      const root = find(name)
      const g = groups.get(root) ?? []
      g.push(name)
      groups.set(root, g)
    }
    return [...groups.values()].map((names, id) => {
      const defs = names.map((n) => this.nodes.get(n)!)
      return {
        id,
        nodes: names,
        sinkTopics: defs.filter((d) => d.kind === 'sink').map((d) => d.topic!),
        sourceTopics: defs.filter((d) => d.kind === 'source').flatMap((d) => d.topics!),
        stores: [...new Set(defs.flatMap((d) => d.stores))],
        ...(defs.some((d) => d.global) ? {global: true} : {}),
      }
    })
  }

  describe(): TopologyDescription {
    return new TopologyDescription(this)
  }
}

// ---- describe() ------------------------------------------------------------------------------

interface DescNode {
  def: NodeDef
  size: number
  predecessors: DescNode[]
  successors: DescNode[]
}

/** Kafka's NodeComparator: larger sub-tree first, then by name. */
function compareNodes(a: DescNode, b: DescNode): number {
  if (a === b) return 0
  if (a.size !== b.size) return b.size - a.size
  return a.def.name < b.def.name ? -1 : a.def.name > b.def.name ? 1 : 0
}

/**
 * Inserts into a list kept in the order of a Java TreeSet whose elements' sort keys change after
 * insertion (Kafka's successor/predecessor sets compare by sub-tree sizes that grow later): each
 * insertion walks the tree as it is. A plain binary search tree, which gives the same order as
 * Java's red-black tree for up to three elements (rotations start with the third).
 */
class StaleTreeSet {
  private root: {node: DescNode; left?: StaleTreeSet['root']; right?: StaleTreeSet['root']} | undefined
  add(node: DescNode): void {
    if (!this.root) {
      this.root = {node}
      return
    }
    let at = this.root
    for (;;) {
      const c = compareNodes(node, at.node)
      if (c === 0) return
      const side = c < 0 ? 'left' : 'right'
      if (!at[side]) {
        at[side] = {node}
        return
      }
      at = at[side]!
    }
  }
  toArray(): DescNode[] {
    const out: DescNode[] = []
    const walk = (t: StaleTreeSet['root']) => {
      if (!t) return
      walk(t.left)
      out.push(t.node)
      walk(t.right)
    }
    walk(this.root)
    return out
  }
}

/** Java's String.hashCode. */
function javaHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/** The iteration order of a java.util.HashMap/HashSet of these strings added in this order. */
function javaHashOrder(names: readonly string[]): string[] {
  let capacity = 16
  while (names.length > capacity * 0.75) capacity *= 2
  const bucket = (s: string) => {
    const h = javaHash(s)
    return (h ^ (h >>> 16)) & (capacity - 1)
  }
  return names
    .map((name, i) => ({b: bucket(name), i, name}))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((x) => x.name)
}

export class TopologyDescription {
  readonly text: string
  constructor(readonly topology: Topology) {
    let text = 'Topologies:\n '
    for (const sub of topology.subtopologies()) text += '  ' + this.describeSubtopology(sub)
    this.text = text
  }

  /** Kafka's GlobalStore description: its source and processor, no blank line after. */
  private describeGlobal(sub: Subtopology): string {
    const [source, processor] = sub.nodes.map((n) => this.topology.nodes.get(n)!).sort((a) => (a.kind === 'source' ? -1 : 1))
    return (
      `Sub-topology: ${sub.id} for global store (will not generate tasks)\n` +
      `    Source: ${source!.name} (topics: [${source!.topics!.join(', ')}])\n      --> ${processor!.name}\n` +
      `    Processor: ${processor!.name} (stores: [${processor!.stores.join(', ')}])\n      --> none\n      <-- ${source!.name}\n`
    )
  }

  private describeSubtopology(sub: Subtopology): string {
    if (sub.global) return this.describeGlobal(sub)
    const byName = new Map<string, DescNode>()
    const order = javaHashOrder(sub.nodes)
    for (const name of order) byName.set(name, {def: this.topology.nodes.get(name)!, predecessors: [], size: 1, successors: []})
    const succ = new Map<DescNode, StaleTreeSet>()
    const pred = new Map<DescNode, StaleTreeSet>()
    const set = (m: Map<DescNode, StaleTreeSet>, n: DescNode) => {
      let s = m.get(n)
      if (!s) m.set(n, (s = new StaleTreeSet()))
      return s
    }
    const updateSize = (n: DescNode, delta: number): void => {
      n.size += delta
      for (const p of n.predecessors) updateSize(p, delta)
    }
    for (const name of order) {
      const node = byName.get(name)!
      for (const pName of node.def.predecessors) {
        const p = byName.get(pName)!
        set(pred, node).add(p)
        node.predecessors.push(p)
        set(succ, p).add(node)
        p.successors.push(node)
        updateSize(p, node.size)
      }
    }
    const names = (s: StaleTreeSet | undefined) => {
      const list = s?.toArray() ?? []
      return list.length === 0 ? 'none' : list.map((n) => n.def.name).join(', ')
    }
    const sorted = [...byName.values()].sort(compareNodes)
    let out = `Sub-topology: ${sub.id}\n`
    for (const n of sorted) {
      const d = n.def
      let line: string
      if (d.kind === 'source') line = `Source: ${d.name} (topics: [${d.topics!.join(', ')}])\n      --> ${names(succ.get(n))}`
      else if (d.kind === 'sink') line = `Sink: ${d.name} (topic: ${d.topic})\n      <-- ${names(pred.get(n))}`
      else line = `Processor: ${d.name} (stores: [${d.stores.join(', ')}])\n      --> ${names(succ.get(n))}\n      <-- ${names(pred.get(n))}`
      out += `    ${line}\n`
    }
    return out + '\n'
  }

  toString(): string {
    return this.text
  }
}
