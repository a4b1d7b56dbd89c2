/**
 * The embedded MetadataStore of a single broker: the whole state in one JSON file in the data
 * directory (`__kcli_metadata.json`), rewritten atomically (write to a temporary file, fsync,
 * rename, fsync the directory) on every change. Changes are serialized by a promise chain, so
 * concurrent requests never interleave their writes. SCRAM credentials are kept as Kafka's
 * UserScramCredentialRecord has them (salt, iterations, StoredKey, ServerKey, base64 here); the
 * file is written with mode 0600.
 */
import {randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import {join} from 'node:path'
import {type AclBinding, bindingKey} from '../../lib/acl.js'
import {randomUuid} from '../../lib/protocol/uuid.js'
import type {ScramCredential, ScramMechanism} from '../../lib/sasl/scram.js'
import {applyQuotaAlterations, type BrokerRegistration, type ClientQuotaAlteration, fromPersistedScram, type StoredClientQuota, MetadataError, type MetadataStore, type PersistedScramCredential, toPersistedScram, type PartitionAssignment, type ScramCredentialChanges, type StoredScramCredential, type TopicMetadata} from './metadata-store.js'

export const METADATA_FILE = '__kcli_metadata.json'

interface PersistedState {
  version: 1
  clusterId: string
  topics: TopicMetadata[]
  brokerConfigs: Record<string, Record<string, string>>
  nextProducerId?: number
  /** user -> mechanism -> credential (absent in files written before SCRAM support). */
  scramCredentials?: Record<string, Partial<Record<ScramMechanism, PersistedScramCredential>>>
  // --- ACLs (issue 15) ---
  acls?: AclBinding[]
  // --- end ACLs ---
  /** Client quotas (issue 15): entity key -> entity and values (absent in older files). */
  clientQuotas?: Record<string, StoredClientQuota>
}

/** Kafka's cluster ids are 16 random bytes as base64url (22 characters). */
function newClusterId(): string {
  return randomBytes(16).toString('base64url')
}

export class LocalMetadataStore implements MetadataStore {
  private state: PersistedState
  private byId = new Map<string, TopicMetadata>()
  private byName = new Map<string, TopicMetadata>()
  private chain: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly dir: string,
    private readonly self: BrokerRegistration,
    state: PersistedState,
  ) {
    this.state = state
    this.index()
  }

  static async open(dir: string, self: BrokerRegistration): Promise<LocalMetadataStore> {
    await fs.mkdir(dir, {recursive: true})
    let state: PersistedState
    try {
      state = JSON.parse(await fs.readFile(join(dir, METADATA_FILE), 'utf8')) as PersistedState
      if (state.version !== 1 || !Array.isArray(state.topics)) throw new Error(`${METADATA_FILE}: unknown format`)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      state = {version: 1, clusterId: newClusterId(), topics: [], brokerConfigs: {}}
    }
    const store = new LocalMetadataStore(dir, self, state)
    await store.persist()
    return store
  }

  get clusterId(): string {
    return this.state.clusterId
  }

  controllerId(): number {
    return this.self.nodeId
  }

  brokers(): BrokerRegistration[] {
    return [this.self]
  }

  topics(): TopicMetadata[] {
    return this.state.topics
  }

  topic(name: string): TopicMetadata | undefined {
    return this.byName.get(name)
  }

  topicById(topicId: string): TopicMetadata | undefined {
    return this.byId.get(topicId)
  }

  createTopic(topic: Omit<TopicMetadata, 'topicId'> & {topicId?: string}): Promise<TopicMetadata> {
    return this.change(() => {
      if (this.byName.has(topic.name)) throw new MetadataError('TOPIC_ALREADY_EXISTS', `Topic '${topic.name}' already exists.`)
      const created: TopicMetadata = {...topic, topicId: topic.topicId ?? randomUuid()}
      this.state.topics.push(created)
      return created
    })
  }

  deleteTopic(name: string): Promise<TopicMetadata> {
    return this.change(() => {
      const topic = this.require(name)
      this.state.topics = this.state.topics.filter((t) => t !== topic)
      return topic
    })
  }

  addPartitions(name: string, partitions: PartitionAssignment[]): Promise<TopicMetadata> {
    return this.change(() => {
      const topic = this.require(name)
      topic.partitions.push(...partitions)
      return topic
    })
  }

  setTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    return this.change(() => {
      this.require(name).configs = {...configs}
    })
  }

  brokerConfigs(nodeId: number | ''): Record<string, string> {
    return {...(this.state.brokerConfigs[String(nodeId)] ?? {})}
  }

  setBrokerConfigs(nodeId: number | '', configs: Record<string, string>): Promise<void> {
    return this.change(() => {
      this.state.brokerConfigs[String(nodeId)] = {...configs}
    })
  }

  allocateProducerIds(count: number): Promise<number> {
    return this.change(() => {
      const first = this.state.nextProducerId ?? 0
      this.state.nextProducerId = first + count
      return first
    })
  }

  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    const all = this.state.scramCredentials ?? {}
    const stored = Object.hasOwn(all, user) ? all[user]![mechanism] : undefined
    return stored ? fromPersistedScram(stored) : undefined
  }

  scramCredentials(): StoredScramCredential[] {
    const out: StoredScramCredential[] = []
    for (const [user, byMechanism] of Object.entries(this.state.scramCredentials ?? {})) {
      for (const [mechanism, stored] of Object.entries(byMechanism)) {
        if (stored) out.push({user, mechanism: mechanism as ScramMechanism, credential: fromPersistedScram(stored)})
      }
    }
    return out
  }

  alterScramCredentials(changes: ScramCredentialChanges): Promise<void> {
    return this.change(() => {
      // A null-prototype map: user names are arbitrary strings (__proto__ included).
      const all: NonNullable<PersistedState['scramCredentials']> = Object.assign(Object.create(null) as object, this.state.scramCredentials ?? {})
      for (const {user, mechanism} of changes.deletions) {
        const byMechanism = all[user]
        if (!byMechanism) continue
        const rest = {...byMechanism}
        delete rest[mechanism]
        if (Object.keys(rest).length === 0) delete all[user]
        else all[user] = rest
      }
      for (const {user, mechanism, credential} of changes.upsertions) all[user] = {...all[user], [mechanism]: toPersistedScram(credential)}
      this.state.scramCredentials = {...all}
    })
  }

  // --- ACLs (issue 15, authorization) ---
  private aclView: readonly AclBinding[] | undefined

  acls(): readonly AclBinding[] {
    return (this.aclView ??= [...(this.state.acls ?? [])])
  }

  alterAcls(changes: {create: AclBinding[]; delete: AclBinding[]}): Promise<void> {
    return this.change(() => {
      const byKey = new Map((this.state.acls ?? []).map((b) => [bindingKey(b), b]))
      for (const b of changes.delete) byKey.delete(bindingKey(b))
      for (const b of changes.create) byKey.set(bindingKey(b), b)
      this.state.acls = [...byKey.values()]
    })
  }
  // --- end ACLs ---
  // ---- Client quotas (issue 15) ----
  private quotasVersion = 0

  clientQuotas(): StoredClientQuota[] {
    return Object.values(this.state.clientQuotas ?? {})
  }

  clientQuotasVersion(): number {
    return this.quotasVersion
  }

  alterClientQuotas(alterations: readonly ClientQuotaAlteration[]): Promise<void> {
    return this.change(() => {
      const all = new Map(Object.entries(this.state.clientQuotas ?? {}))
      applyQuotaAlterations(all, alterations)
      this.state.clientQuotas = Object.fromEntries(all)
      this.quotasVersion++
    })
  }
  // ---- end client quotas ----

  async close(): Promise<void> {
    await this.chain
  }

  private require(name: string): TopicMetadata {
    const topic = this.byName.get(name)
    if (!topic) throw new MetadataError('UNKNOWN_TOPIC_OR_PARTITION', `Topic '${name}' does not exist.`)
    return topic
  }

  private index(): void {
    this.aclView = undefined
    this.byName = new Map(this.state.topics.map((t) => [t.name, t]))
    this.byId = new Map(this.state.topics.map((t) => [t.topicId, t]))
  }

  /** Applies a change and persists it; changes run one at a time. A failed change leaves no trace. */
  private change<T>(apply: () => T): Promise<T> {
    const run = async () => {
      const before = JSON.stringify(this.state)
      try {
        const result = apply()
        this.index()
        await this.persist()
        return result
      } catch (error) {
        this.state = JSON.parse(before) as PersistedState
        this.index()
        throw error
      }
    }
    const next = this.chain.then(run, run)
    this.chain = next.catch(() => undefined)
    return next
  }

  private async persist(): Promise<void> {
    const path = join(this.dir, METADATA_FILE)
    const tmp = `${path}.tmp`
    const handle = await fs.open(tmp, 'w', 0o600)
    try {
      await handle.writeFile(JSON.stringify(this.state, null, 1))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(tmp, path)
    const dir = await fs.open(this.dir, 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }
}
