/**
 * EtcdMetadataStore: the MetadataStore of a kcli cluster, in etcd (the v3 API, npm `etcd3`),
 * chosen with `metadata.store=etcd://host:port[,...][/prefix]` (metadata-store-url.ts).
 *
 * Keys, all under the prefix (default `/kcli`), values JSON unless said otherwise:
 *   cluster_id                       the cluster id (text), created once by the first broker
 *   brokers/<node.id>                a live broker's registration, bound to its session lease
 *   controller                       {nodeId} of the active controller, bound to its session lease
 *   topics/<name>                    {topicId, configs, internal, partitions: [{partition, replicas}]}
 *   partitions/<topic>/<partition>   {leader, leaderEpoch, isr, partitionEpoch, leaderBrokerEpoch, and once
 *                                    reassigned: replicas, addingReplicas, removingReplicas}: partition state
 *   configs/brokers/<node.id|default> dynamic broker configs
 *   producer_ids                     {next}: the next producer id block's first id
 *   scram/<user, URI-encoded>/<mechanism>  a SCRAM credential (salt, iterations, keys; base64)
 *   acls/<sha256 of the binding>     an ACL binding {pattern, entry} (issue 15)
 *   quotas/<entity key>              {entity, values}: one entity's client quotas (quotaEntityKey)
 *
 * Reads are synchronous, from a copy of the prefix that one watch keeps current (the copy is
 * replaced key by key in etcd's revision order). Writes are etcd transactions that compare the
 * revision of what they change (compare-and-swap), and resolve only after the watch has delivered
 * their revision, so a caller reads its own writes. A topic's partition states are written before
 * its topic key, in transactions of at most 100 operations (etcd's default limit is 128): the
 * topic key is the commit point, and a reader never sees a topic whose partitions are missing.
 *
 * Membership: the broker's session is an etcd lease of `broker.session.timeout.ms` (rounded up
 * to seconds, at least 2), renewed every `broker.heartbeat.interval.ms` (at most a third of the
 * session timeout). A session with no heartbeat answered for a session timeout is lost, as it
 * is on etcd's side by then. Its registration and, if it
 * wins the election, the controller key live on that lease: a broker that dies or is cut off from
 * etcd for a session timeout disappears from `brokers()` and loses the controllership, and
 * another broker takes the controller key. A broker whose own lease is lost is told
 * (onSessionLost: it must stop acting as leader) and starts a new session when etcd answers again.
 */
import {createHash, randomBytes} from 'node:crypto'
import {type AclBinding, bindingKey} from '../../lib/acl.js'
import {Etcd3, EtcdLeaseInvalidError, type IKeyValue, type Lease, type Watcher} from 'etcd3'
import {randomUuid} from '../../lib/protocol/uuid.js'
import type {ScramCredential, ScramMechanism} from '../../lib/sasl/scram.js'
import {
  applyQuotaAlterations, // client quotas (issue 15)
  type BrokerRegistration,
  type ClientQuotaAlteration, // client quotas (issue 15)
  fromPersistedScram,
  quotaEntityKey, // client quotas (issue 15)
  type StoredClientQuota, // client quotas (issue 15)
  MetadataError,
  type MetadataStore,
  MetadataStoreError,
  type PartitionAssignment,
  type PartitionStateChange,
  type PartitionStateWrite,
  type PersistedScramCredential,
  type ScramCredentialChanges,
  type StoredScramCredential,
  toPersistedScram,
  type TopicMetadata,
} from './metadata-store.js'

/** Operations per etcd transaction (etcd's --max-txn-ops defaults to 128). */
const MAX_TXN_OPS = 100

export interface EtcdMetadataStoreOptions {
  endpoints: string[]
  prefix: string
  self: BrokerRegistration
  /** broker.session.timeout.ms: the lease's time to live. */
  sessionTimeoutMs: number
  /** broker.heartbeat.interval.ms: how often the lease is renewed (at most a third of the session timeout). */
  heartbeatIntervalMs?: number
  /** How long start-up waits for etcd to answer (default 10 s). */
  connectTimeoutMs?: number
  /** Called when this broker's session lease is lost (it must fence itself). */
  onSessionLost?: (reason: string) => void
  /** Called when a new session is established after a loss. */
  onSessionRestored?: () => void
}

interface StoredTopic {
  topicId: string
  configs: Record<string, string>
  internal: boolean
  partitions: Array<{partition: number; replicas: number[]}>
}

interface StoredPartitionState {
  leader: number
  leaderEpoch: number
  isr: number[]
  partitionEpoch: number
  leaderBrokerEpoch?: number
  /** Once a reassignment started: the replica set (overrides the topic key's), and what moves. */
  replicas?: number[]
  addingReplicas?: number[]
  removingReplicas?: number[]
}

interface Entry {
  value: string
  modRevision: number
  createRevision: number
  /** The value parsed, once read (an entry is replaced, never changed, on a new revision). */
  parsed?: unknown
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MetadataStoreError(message())), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** gRPC's long error text, as one short reason. */
function connectionProblem(error: Error): string {
  const code = /\b(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN)\b/.exec(error.message)?.[1]
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)'
  if (code) return code
  return error.message.split('\n')[0]!.slice(0, 200)
}

export class EtcdMetadataStore implements MetadataStore {
  private readonly entries = new Map<string, Entry>()
  /** The etcd revision the copy reflects. */
  private revision = 0
  private waiters: Array<{revision: number; resolve: () => void}> = []
  private watcher?: Watcher
  private lease?: Lease
  private heartbeat?: NodeJS.Timeout
  /** The create revision of this broker's registration (its broker epoch), -1 without one. */
  private epochValue = -1
  private lastHeartbeat = 0
  private closed = false
  private derived?: {topics: TopicMetadata[]; byName: Map<string, TopicMetadata>; byId: Map<string, TopicMetadata>}
  private readonly topicCache = new Map<string, TopicMetadata>()
  private readonly dirtyTopics = new Set<string>()
  private readonly listeners: Array<() => void> = []
  clusterIdValue = ''

  private constructor(
    private readonly client: Etcd3,
    private readonly options: EtcdMetadataStoreOptions,
  ) {}

  /**
   * Connects, creates the cluster id if this is the cluster's first broker, loads and watches the
   * prefix, registers this broker (refusing a node.id that a live broker holds) and runs for
   * controller.
   */
  static async open(options: EtcdMetadataStoreOptions): Promise<EtcdMetadataStore> {
    const where = `etcd at ${options.endpoints.join(',')}`
    const client = new Etcd3({hosts: options.endpoints.map((e) => `http://${e}`), dialTimeout: 2000})
    const store = new EtcdMetadataStore(client, options)
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    try {
      await withTimeout(
        store.createClusterId().catch((error: Error) => {
          throw new MetadataStoreError(`Cannot reach ${where} (metadata.store): ${connectionProblem(error)}`)
        }),
        connectTimeoutMs,
        () => `Cannot reach ${where} (metadata.store): no answer in ${connectTimeoutMs} ms`,
      )
      await store.loadAndWatch()
      await store.startSession(options.sessionTimeoutMs + 1000)
    } catch (error) {
      await store.close().catch(() => undefined)
      if (error instanceof MetadataStoreError || error instanceof MetadataError) throw error
      throw new MetadataStoreError(`Cannot use ${where} (metadata.store): ${(error as Error).message}`)
    }
    return store
  }

  private key(suffix: string): string {
    return `${this.options.prefix}/${suffix}`
  }

  private async createClusterId(): Promise<void> {
    const key = this.key('cluster_id')
    await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(randomBytes(16).toString('base64url'))).commit()
    const id = await this.client.get(key).string()
    if (!id) throw new MetadataStoreError(`${key} is empty in etcd`)
    this.clusterIdValue = id
  }

  private async loadAndWatch(): Promise<void> {
    const prefix = this.key('')
    const response = await this.client.getAll().prefix(prefix).exec()
    for (const kv of response.kvs) this.applyPut(kv)
    for (const key of this.entries.keys()) this.changed(key)
    this.revision = Number(response.header.revision)
    this.watcher = await this.client.watch().prefix(prefix).startRevision(String(this.revision + 1)).create()
    this.watcher.on('data', (res) => {
      for (const event of res.events) {
        const key = event.kv.key.toString().slice(prefix.length)
        if (event.type === 'Put') this.applyPut(event.kv)
        else this.entries.delete(key)
        this.changed(key)
      }
      this.revision = Math.max(this.revision, Number(res.header.revision))
      this.waiters = this.waiters.filter((w) => {
        if (w.revision > this.revision) return true
        w.resolve()
        return false
      })
      if (res.events.some((e) => e.kv.key.toString() === this.key('controller') && e.type === 'Delete')) void this.campaign()
      for (const listener of this.listeners) listener()
    })
  }

  private applyPut(kv: IKeyValue): void {
    this.entries.set(kv.key.toString().slice(this.key('').length), {value: kv.value.toString(), modRevision: Number(kv.mod_revision), createRevision: Number(kv.create_revision)})
  }

  /** Resolves once the copy reflects `revision`. */
  private caughtUp(revision: number): Promise<void> {
    if (this.revision >= revision) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({revision, resolve}))
  }

  /** Called (synchronously, after the copy changed) whenever the watch delivers changes. */
  onChange(listener: () => void): void {
    this.listeners.push(listener)
  }

  // ---------------------------------------------------------------------------------------------
  // Session: lease, registration, controller election

  private async startSession(waitForOldSessionMs: number): Promise<void> {
    const {sessionTimeoutMs} = this.options
    const lease = this.client.lease(Math.max(2, Math.ceil(sessionTimeoutMs / 1000)), {autoKeepAlive: false})
    await lease.grant()
    this.lease = lease
    this.lastHeartbeat = Date.now()
    const interval = Math.max(100, Math.min(this.options.heartbeatIntervalMs ?? 2000, Math.floor(sessionTimeoutMs / 3)))
    let busy = false
    this.heartbeat = setInterval(() => {
      if (busy || this.lease !== lease) return
      busy = true
      withTimeout(lease.keepaliveOnce(), interval, () => `no heartbeat answer in ${interval} ms`)
        .then(
          () => (this.lastHeartbeat = Date.now()),
          (error: Error) => {
            if (error instanceof EtcdLeaseInvalidError) this.sessionLost(lease, 'etcd says the session lease has expired')
          },
        )
        .finally(() => {
          busy = false
          const silent = Date.now() - this.lastHeartbeat
          if (silent >= sessionTimeoutMs) this.sessionLost(lease, `no heartbeat answered by etcd for ${silent} ms (broker.session.timeout.ms=${sessionTimeoutMs})`)
        })
    }, interval)
    this.heartbeat.unref()
    await this.register(lease, waitForOldSessionMs)
    await this.campaign()
  }

  /**
   * Whether this broker's session is alive as far as it knows: a heartbeat answered within the
   * session timeout. A broker that is not must not act as a leader (it may have been replaced).
   */
  brokerEpoch(): number {
    return this.epochValue
  }

  sessionAlive(): boolean {
    return this.lease !== undefined && Date.now() - this.lastHeartbeat < this.options.sessionTimeoutMs
  }

  private sessionLost(lease: Lease, reason: string): void {
    if (this.closed || this.lease !== lease) return
    this.lease = undefined
    this.epochValue = -1
    clearInterval(this.heartbeat)
    lease.release()
    this.options.onSessionLost?.(reason)
    void this.restoreSession()
  }

  private async restoreSession(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.startSession(this.options.sessionTimeoutMs + 1000)
        this.options.onSessionRestored?.()
        return
      } catch {
        clearInterval(this.heartbeat)
        this.lease = undefined
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** Math.min(attempt, 4))))
      }
    }
  }

  /**
   * Registers this broker under its lease. A registration held by another session (a live broker
   * with the same node.id, or this broker's previous life until its lease expires) is waited for
   * up to `waitMs`, then refused.
   */
  private async register(lease: Lease, waitMs: number): Promise<void> {
    const {self} = this.options
    const key = this.key(`brokers/${self.nodeId}`)
    const value = this.registrationValue(await lease.grant())
    const deadline = Date.now() + waitMs
    for (;;) {
      const result = await this.client.if(key, 'Create', '==', 0).then(lease.put(key).value(value)).commit()
      if (result.succeeded) {
        await this.caughtUp(Number(result.header.revision))
        this.epochValue = Number(result.header.revision)
        return
      }
      if (Date.now() >= deadline) {
        const holder = this.entries.get(`brokers/${self.nodeId}`)
        const at = holder ? (JSON.parse(holder.value) as BrokerRegistration) : undefined
        throw new MetadataStoreError(
          `node.id ${self.nodeId} is already registered by a live broker${at ? ` (${at.host}:${at.port})` : ''} in ${this.options.prefix} of etcd at ${this.options.endpoints.join(',')}: give this broker another node.id`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  async updateRegistration(self: BrokerRegistration): Promise<void> {
    this.options.self = self
    const lease = this.lease
    if (!lease) return
    const key = this.key(`brokers/${self.nodeId}`)
    const result = await this.client
      .if(key, 'Lease', '==', await lease.grant())
      .then(lease.put(key).value(this.registrationValue(await lease.grant())))
      .commit()
    await this.caughtUp(Number(result.header.revision))
  }

  async requestControlledShutdown(): Promise<void> {
    await this.updateRegistration({...this.options.self, shuttingDown: true})
  }

  private registrationValue(leaseId: string): string {
    const {self} = this.options
    return JSON.stringify({nodeId: self.nodeId, host: self.host, port: self.port, rack: self.rack, ...(self.listeners ? {listeners: self.listeners} : {}), ...(self.shuttingDown ? {shuttingDown: true} : {}), leaseId})
  }

  /** Takes the controller key if nobody holds it. */
  private async campaign(): Promise<void> {
    const lease = this.lease
    if (!lease || this.closed) return
    const key = this.key('controller')
    try {
      const result = await this.client.if(key, 'Create', '==', 0).then(lease.put(key).value(JSON.stringify({nodeId: this.options.self.nodeId}))).commit()
      await this.caughtUp(Number(result.header.revision))
    } catch {
      // etcd unreachable: the lease will be lost or the next delete event retries.
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  get clusterId(): string {
    return this.clusterIdValue
  }

  controllerId(): number {
    const entry = this.entries.get('controller')
    return entry ? (JSON.parse(entry.value) as {nodeId: number}).nodeId : -1
  }

  brokers(): BrokerRegistration[] {
    const out: BrokerRegistration[] = []
    for (const [key, entry] of this.entries) {
      if (!key.startsWith('brokers/')) continue
      const r = JSON.parse(entry.value) as BrokerRegistration
      out.push({nodeId: r.nodeId, host: r.host, port: r.port, rack: r.rack, ...(r.listeners ? {listeners: r.listeners} : {}), ...(r.shuttingDown ? {shuttingDown: true} : {}), epoch: entry.createRevision})
    }
    return out.sort((a, b) => a.nodeId - b.nodeId)
  }

  /** A key changed: the topic it belongs to is derived again on the next read. */
  private changed(key: string): void {
    if (key.startsWith('acls/')) this.aclView = undefined
    if (key.startsWith('quotas/')) this.quotasVersion++ // client quotas (issue 15)
    if (key.startsWith('topics/')) this.dirtyTopics.add(key.slice('topics/'.length))
    else if (key.startsWith('partitions/')) this.dirtyTopics.add(key.slice('partitions/'.length, key.lastIndexOf('/')))
    else return
    this.derived = undefined
  }

  /**
   * The topics as TopicMetadata, derived again only for topics whose keys changed since the last
   * read: a watch event (one partition's ISR) costs that topic, not the whole cluster — with
   * thousands of partitions, re-reading everything on every event starved the broker's heartbeats.
   */
  private view(): NonNullable<EtcdMetadataStore['derived']> {
    if (this.derived) return this.derived
    for (const name of this.dirtyTopics) {
      const topic = this.deriveTopic(name)
      if (topic) this.topicCache.set(name, topic)
      else this.topicCache.delete(name)
    }
    this.dirtyTopics.clear()
    const topics = [...this.topicCache.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    this.derived = {topics, byName: new Map(topics.map((t) => [t.name, t])), byId: new Map(topics.map((t) => [t.topicId, t]))}
    return this.derived
  }

  private deriveTopic(name: string): TopicMetadata | undefined {
    const entry = this.entries.get(`topics/${name}`)
    if (!entry) return undefined
    const stored = JSON.parse(entry.value) as StoredTopic
    const partitions: PartitionAssignment[] = stored.partitions.map((p) => {
      const state = this.entries.get(`partitions/${name}/${p.partition}`)
      const s = state ? ((state.parsed ??= JSON.parse(state.value)) as StoredPartitionState) : {leader: -1, leaderEpoch: -1, isr: [], partitionEpoch: -1}
      return {
        partition: p.partition,
        replicas: s.replicas ?? p.replicas,
        leader: s.leader,
        leaderEpoch: s.leaderEpoch,
        isr: s.isr,
        partitionEpoch: s.partitionEpoch,
        leaderBrokerEpoch: s.leaderBrokerEpoch,
        ...(s.addingReplicas?.length || s.removingReplicas?.length ? {addingReplicas: s.addingReplicas ?? [], removingReplicas: s.removingReplicas ?? []} : {}),
      }
    })
    return {name, topicId: stored.topicId, configs: stored.configs, internal: stored.internal, partitions}
  }

  topics(): TopicMetadata[] {
    return this.view().topics
  }

  topic(name: string): TopicMetadata | undefined {
    return this.view().byName.get(name)
  }

  topicById(topicId: string): TopicMetadata | undefined {
    return this.view().byId.get(topicId)
  }

  brokerConfigs(nodeId: number | ''): Record<string, string> {
    const entry = this.entries.get(`configs/brokers/${nodeId === '' ? 'default' : nodeId}`)
    return entry ? {...(JSON.parse(entry.value) as Record<string, string>)} : {}
  }

  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    const entry = this.entries.get(`scram/${encodeURIComponent(user)}/${mechanism}`)
    return entry ? fromPersistedScram(JSON.parse(entry.value) as PersistedScramCredential) : undefined
  }

  scramCredentials(): StoredScramCredential[] {
    const out: StoredScramCredential[] = []
    for (const [key, entry] of this.entries) {
      if (!key.startsWith('scram/')) continue
      const [, user, mechanism] = key.split('/')
      out.push({user: decodeURIComponent(user!), mechanism: mechanism as ScramMechanism, credential: fromPersistedScram(JSON.parse(entry.value) as PersistedScramCredential)})
    }
    return out
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /** Puts the keys in transactions of at most MAX_TXN_OPS (0 keys: the copy's revision); returns the last revision. */
  private async putAll(puts: Array<[string, string]>): Promise<number> {
    let revision = this.revision
    for (let i = 0; i < puts.length; i += MAX_TXN_OPS) {
      const ops = puts.slice(i, i + MAX_TXN_OPS).map(([k, v]) => this.client.put(this.key(k)).value(v))
      const result = await this.client.if(this.key('cluster_id'), 'Create', '>', 0).then(...ops).commit()
      revision = Number(result.header.revision)
    }
    return revision
  }

  private storedTopic(name: string): {stored: StoredTopic; modRevision: number} {
    const entry = this.entries.get(`topics/${name}`)
    if (!entry) throw new MetadataError('UNKNOWN_TOPIC_OR_PARTITION', `Topic '${name}' does not exist.`)
    return {stored: JSON.parse(entry.value) as StoredTopic, modRevision: entry.modRevision}
  }

  /**
   * Compare-and-swap of one key against the revision the copy has (0: absent). Returns false when
   * someone else changed it first (the caller re-reads and retries).
   */
  private async swap(key: string, modRevision: number, value: string | null): Promise<boolean> {
    const full = this.key(key)
    const op = value === null ? this.client.delete().key(full) : this.client.put(full).value(value)
    const result = await this.client.if(full, 'Mod', '==', modRevision).then(op).commit()
    await this.caughtUp(Number(result.header.revision))
    return result.succeeded
  }

  /** Retries a read-modify-write until its compare-and-swap succeeds. */
  private async update(attempt: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 100; i++) if (await attempt()) return
    throw new Error('etcd: too many concurrent changes to the same key')
  }

  async createTopic(topic: Omit<TopicMetadata, 'topicId'> & {topicId?: string}): Promise<TopicMetadata> {
    if (this.entries.has(`topics/${topic.name}`)) throw new MetadataError('TOPIC_ALREADY_EXISTS', `Topic '${topic.name}' already exists.`)
    const stored: StoredTopic = {
      topicId: topic.topicId ?? randomUuid(),
      configs: {...topic.configs},
      internal: topic.internal,
      partitions: topic.partitions.map((p) => ({partition: p.partition, replicas: p.replicas})),
    }
    await this.caughtUp(await this.putAll(topic.partitions.map((p) => [`partitions/${topic.name}/${p.partition}`, this.initialState(p)])))
    if (!(await this.swap(`topics/${topic.name}`, 0, JSON.stringify(stored)))) {
      throw new MetadataError('TOPIC_ALREADY_EXISTS', `Topic '${topic.name}' already exists.`)
    }
    return this.topic(topic.name)!
  }

  async deleteTopic(name: string): Promise<TopicMetadata> {
    let deleted: TopicMetadata | undefined
    await this.update(async () => {
      const {modRevision} = this.storedTopic(name)
      deleted = this.topic(name)
      return this.swap(`topics/${name}`, modRevision, null)
    })
    await this.client.delete().prefix(this.key(`partitions/${name}/`)).exec()
    return deleted!
  }

  async addPartitions(name: string, partitions: PartitionAssignment[]): Promise<TopicMetadata> {
    await this.update(async () => {
      const {stored, modRevision} = this.storedTopic(name)
      const existing = new Set(stored.partitions.map((p) => p.partition))
      const added = partitions.filter((p) => !existing.has(p.partition))
      await this.caughtUp(await this.putAll(added.map((p) => [`partitions/${name}/${p.partition}`, this.initialState(p)])))
      const next: StoredTopic = {...stored, partitions: [...stored.partitions, ...added.map((p) => ({partition: p.partition, replicas: p.replicas}))]}
      return this.swap(`topics/${name}`, modRevision, JSON.stringify(next))
    })
    return this.topic(name)!
  }

  /** A new partition's state: led by its first replica, in the epoch of that broker's registration. */
  private initialState(p: PartitionAssignment): string {
    const leaderBrokerEpoch = this.entries.get(`brokers/${p.leader}`)?.createRevision
    const state: StoredPartitionState = {leader: p.leader, leaderEpoch: p.leaderEpoch, isr: p.isr, partitionEpoch: 0, ...(leaderBrokerEpoch !== undefined ? {leaderBrokerEpoch} : {})}
    return JSON.stringify(state)
  }

  async alterPartition(topic: string, partition: number, expectedPartitionEpoch: number, next: PartitionStateChange): Promise<PartitionAssignment | null> {
    return (await this.alterPartitions([{topic, partition, expectedPartitionEpoch, next}]))[0]!
  }

  /**
   * Up to MAX_TXN_OPS partitions per etcd transaction: each compares its key's revision and puts
   * its new state, all or nothing. When a compare fails (a leader's ISR change got there first),
   * the copy is brought up to that transaction's revision, the partitions whose key moved are
   * fenced (null) and the others are written again — so each partition is its own
   * compare-and-swap, as with one transaction each, but 100 of them cost one round trip.
   */
  async alterPartitions(writes: readonly PartitionStateWrite[]): Promise<Array<PartitionAssignment | null>> {
    const results: Array<PartitionAssignment | null> = writes.map(() => null)
    for (let i = 0; i < writes.length; i += MAX_TXN_OPS) {
      // Each pending write with the key revision it was decided against (fixed on the first pass).
      let pending: Array<{index: number; key: string; modRevision: number; value: string}> = []
      for (let index = i; index < Math.min(writes.length, i + MAX_TXN_OPS); index++) {
        const prepared = this.preparePartitionState(writes[index]!)
        // A second write of the same partition in one batch would find the first's epoch: fenced.
        if (prepared && !pending.some((w) => w.key === prepared.key)) pending.push({index, ...prepared})
      }
      // Every failed attempt fences at least one key (its revision moved in the copy), so this ends.
      while (pending.length > 0) {
        const [first, ...rest] = pending
        let txn = this.client.if(this.key(first!.key), 'Mod', '==', first!.modRevision)
        for (const w of rest) txn = txn.and(this.key(w.key), 'Mod', '==', w.modRevision)
        const result = await txn.then(...pending.map((w) => this.client.put(this.key(w.key)).value(w.value))).commit()
        await this.caughtUp(Number(result.header.revision))
        if (result.succeeded) {
          for (const w of pending) {
            const {topic, partition} = writes[w.index]!
            results[w.index] = this.topic(topic)?.partitions.find((p) => p.partition === partition) ?? null
          }
          break
        }
        const before = pending.length
        pending = pending.filter((w) => this.entries.get(w.key)?.modRevision === w.modRevision)
        if (pending.length === before) throw new Error('etcd: a partition state transaction failed but no key changed')
      }
    }
    return results
  }

  /** The key, its revision and the new state of one write; undefined when fenced already (its partition epoch moved on). */
  private preparePartitionState(write: PartitionStateWrite): {key: string; modRevision: number; value: string} | undefined {
    const {topic, partition, expectedPartitionEpoch, next} = write
    const key = `partitions/${topic}/${partition}`
    const entry = this.entries.get(key)
    if (!entry) return undefined
    const current = JSON.parse(entry.value) as StoredPartitionState
    if (current.partitionEpoch !== expectedPartitionEpoch) return undefined
    const replicas = next.replicas ?? current.replicas
    const adding = next.addingReplicas ?? (next.replicas ? [] : current.addingReplicas)
    const removing = next.removingReplicas ?? (next.replicas ? [] : current.removingReplicas)
    const state: StoredPartitionState = {
      leader: next.leader,
      leaderEpoch: next.leaderEpoch,
      isr: next.isr,
      partitionEpoch: current.partitionEpoch + 1,
      ...(next.leaderBrokerEpoch !== undefined ? {leaderBrokerEpoch: next.leaderBrokerEpoch} : {}),
      ...(replicas ? {replicas} : {}),
      ...(adding?.length ? {addingReplicas: adding} : {}),
      ...(removing?.length ? {removingReplicas: removing} : {}),
    }
    return {key, modRevision: entry.modRevision, value: JSON.stringify(state)}
  }

  async setTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    await this.update(async () => {
      const {stored, modRevision} = this.storedTopic(name)
      return this.swap(`topics/${name}`, modRevision, JSON.stringify({...stored, configs: {...configs}}))
    })
  }

  async setBrokerConfigs(nodeId: number | '', configs: Record<string, string>): Promise<void> {
    const key = `configs/brokers/${nodeId === '' ? 'default' : nodeId}`
    await this.update(() => this.swap(key, this.entries.get(key)?.modRevision ?? 0, JSON.stringify(configs)))
  }

  async allocateProducerIds(count: number): Promise<number> {
    let first = 0
    await this.update(() => {
      const entry = this.entries.get('producer_ids')
      first = entry ? (JSON.parse(entry.value) as {next: number}).next : 0
      return this.swap('producer_ids', entry?.modRevision ?? 0, JSON.stringify({next: first + count}))
    })
    return first
  }

  async alterScramCredentials(changes: ScramCredentialChanges): Promise<void> {
    const ops = [
      ...changes.deletions.map(({user, mechanism}) => this.client.delete().key(this.key(`scram/${encodeURIComponent(user)}/${mechanism}`))),
      ...changes.upsertions.map(({user, mechanism, credential}) => this.client.put(this.key(`scram/${encodeURIComponent(user)}/${mechanism}`)).value(JSON.stringify(toPersistedScram(credential)))),
    ]
    if (ops.length === 0) return
    const result = await this.client.if(this.key('cluster_id'), 'Create', '>', 0).then(...ops).commit()
    await this.caughtUp(Number(result.header.revision))
  }

  // --- ACLs (issue 15, authorization) ---
  private aclView: readonly AclBinding[] | undefined

  acls(): readonly AclBinding[] {
    if (this.aclView) return this.aclView
    const out: AclBinding[] = []
    for (const [key, entry] of this.entries) if (key.startsWith('acls/')) out.push((entry.parsed ??= JSON.parse(entry.value)) as AclBinding)
    return (this.aclView = out)
  }

  async alterAcls(changes: {create: AclBinding[]; delete: AclBinding[]}): Promise<void> {
    const key = (b: AclBinding) => this.key(`acls/${createHash('sha256').update(bindingKey(b)).digest('hex')}`)
    const ops = [...changes.delete.map((b) => this.client.delete().key(key(b))), ...changes.create.map((b) => this.client.put(key(b)).value(JSON.stringify({pattern: b.pattern, entry: b.entry})))]
    for (let i = 0; i < ops.length; i += MAX_TXN_OPS) {
      const result = await this.client.if(this.key('cluster_id'), 'Create', '>', 0).then(...ops.slice(i, i + MAX_TXN_OPS)).commit()
      await this.caughtUp(Number(result.header.revision))
    }
  }
  // --- end ACLs ---
  // ---- Client quotas (issue 15) ----
  private quotasVersion = 0

  clientQuotas(): StoredClientQuota[] {
    const out: StoredClientQuota[] = []
    for (const [key, entry] of this.entries) if (key.startsWith('quotas/')) out.push(JSON.parse(entry.value) as StoredClientQuota)
    return out
  }

  clientQuotasVersion(): number {
    return this.quotasVersion
  }

  /** One transaction over every entity touched, fenced on their revisions (retried when another broker changed one first). */
  async alterClientQuotas(alterations: readonly ClientQuotaAlteration[]): Promise<void> {
    await this.update(async () => {
      const current = new Map<string, StoredClientQuota>()
      const revisions = new Map<string, number>()
      for (const {entity} of alterations) {
        const key = quotaEntityKey(entity)
        const entry = this.entries.get(`quotas/${key}`)
        revisions.set(key, entry?.modRevision ?? 0)
        if (entry) current.set(key, JSON.parse(entry.value) as StoredClientQuota)
      }
      const touched = applyQuotaAlterations(current, alterations)
      if (touched.size === 0) return true
      const keys = [...touched]
      let txn = this.client.if(this.key(`quotas/${keys[0]}`), 'Mod', '==', revisions.get(keys[0]!)!)
      for (const key of keys.slice(1)) txn = txn.and(this.key(`quotas/${key}`), 'Mod', '==', revisions.get(key)!)
      const ops = keys.map((key) => {
        const value = current.get(key)
        return value ? this.client.put(this.key(`quotas/${key}`)).value(JSON.stringify(value)) : this.client.delete().key(this.key(`quotas/${key}`))
      })
      const result = await txn.then(...ops).commit()
      await this.caughtUp(Number(result.header.revision))
      return result.succeeded
    })
  }
  // ---- end client quotas ----

  /** Ends the session (the registration and a held controller key go at once) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.heartbeat)
    const lease = this.lease
    this.lease = undefined
    await lease?.revoke().catch(() => undefined)
    await this.watcher?.cancel().catch(() => undefined)
    for (const w of this.waiters) w.resolve()
    this.waiters = []
    this.client.close()
  }
}


