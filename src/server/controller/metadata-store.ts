/**
 * Cluster metadata — topics, topic ids, partition assignment, topic configs, dynamic broker
 * configs, SCRAM credentials — behind one interface. The single broker uses LocalMetadataStore (a
 * file in the data directory); a cluster will use an etcd store with the same interface, so
 * handlers never know which one they talk to.
 *
 * A store is the one owner of this state: callers read snapshots and change it only through the
 * methods here, which persist before they resolve.
 */

import type {AclBinding} from '../../lib/acl.js'
import type {ScramCredential, ScramMechanism} from '../../lib/sasl/scram.js'

export interface PartitionAssignment {
  partition: number
  /** Broker ids, preferred leader first. */
  replicas: number[]
  leader: number
  leaderEpoch: number
  isr: number[]
  /** Bumped by every change of the partition's state (leader, ISR): the fence of AlterPartition-like writes (-1 or absent: a store of one broker). */
  partitionEpoch?: number
  /**
   * The broker epoch of the leader's registration when it was elected: a leader that restarted
   * (a new registration, a new epoch) does not lead until the controller elects it again.
   */
  leaderBrokerEpoch?: number
  /** A reassignment in progress (KIP-455): replicas being added (the target's new ones) and being removed. */
  addingReplicas?: number[]
  removingReplicas?: number[]
}

/** The state the controller (elections) and a partition's leader (ISR changes) write. */
export interface PartitionStateChange {
  leader: number
  leaderEpoch: number
  isr: number[]
  leaderBrokerEpoch?: number
  /** Reassignment (KIP-455): the replica set and what is being added and removed; omitted, they stay as they are. */
  replicas?: number[]
  addingReplicas?: number[]
  removingReplicas?: number[]
}

/** One partition's compare-and-swap in a batch (MetadataStore.alterPartitions). */
export interface PartitionStateWrite {
  topic: string
  partition: number
  expectedPartitionEpoch: number
  next: PartitionStateChange
}

export interface TopicMetadata {
  name: string
  /** Kafka's base64url UUID text. */
  topicId: string
  partitions: PartitionAssignment[]
  /** Topic configs set explicitly (the rest are defaults). */
  configs: Record<string, string>
  internal: boolean
}

export interface BrokerRegistration {
  nodeId: number
  host: string
  port: number
  rack: string | null
  /** Every advertised listener (cluster stores; host and port above are the first one's). */
  listeners?: Array<{name: string; host: string; port: number; securityProtocol: string}>
  /** The broker asked for a controlled shutdown: leadership moves off it and it leaves the ISRs. */
  shuttingDown?: boolean
  /** Which registration of this node id (etcd's create revision of its key): a restarted broker has a new one. */
  epoch?: number
}

/** One user's SCRAM credential for one mechanism (KIP-554): never the password or salted password. */
export interface StoredScramCredential {
  user: string
  mechanism: ScramMechanism
  credential: ScramCredential
}

/** A SCRAM credential as the stores keep it (JSON: bytes as base64). */
export interface PersistedScramCredential {
  salt: string
  iterations: number
  storedKey: string
  serverKey: string
}

export function toPersistedScram(c: ScramCredential): PersistedScramCredential {
  return {salt: c.salt.toString('base64'), iterations: c.iterations, storedKey: c.storedKey.toString('base64'), serverKey: c.serverKey.toString('base64')}
}

export function fromPersistedScram(c: PersistedScramCredential): ScramCredential {
  return {salt: Buffer.from(c.salt, 'base64'), iterations: c.iterations, storedKey: Buffer.from(c.storedKey, 'base64'), serverKey: Buffer.from(c.serverKey, 'base64')}
}

export interface ScramCredentialChanges {
  upsertions: StoredScramCredential[]
  deletions: Array<{user: string; mechanism: ScramMechanism}>
}

// ---- Client quotas (issue 15) -------------------------------------------------------------------

/** Kafka's quota entity types (ClientQuotaEntity.USER, CLIENT_ID, IP). */
export const QUOTA_ENTITY_TYPES = ['user', 'client-id', 'ip'] as const
export type QuotaEntityType = (typeof QUOTA_ENTITY_TYPES)[number]
/** A quota entity: entity type -> name, null for the type's default entity (`<default>`). */
export type QuotaEntity = Partial<Record<QuotaEntityType, string | null>>

/** The quotas set on one entity (key -> value, e.g. producer_byte_rate -> 1048576). */
export interface StoredClientQuota {
  entity: QuotaEntity
  values: Record<string, number>
}

/** One entity's change: keys to set and keys to remove (AlterClientQuotas, validated). */
export interface ClientQuotaAlteration {
  entity: QuotaEntity
  set: Record<string, number>
  remove: string[]
}

/** One text key per entity (types in a fixed order, names URI-encoded, `<default>` as `~`): the stores' map key. */
export function quotaEntityKey(entity: QuotaEntity): string {
  return QUOTA_ENTITY_TYPES.filter((t) => entity[t] !== undefined)
    .map((t) => `${t}=${entity[t] === null ? '~' : encodeURIComponent(entity[t]!)}`)
    .join('&')
}

/** Applies alterations to a map of entity key -> quotas (both stores): an entity left without keys goes. */
export function applyQuotaAlterations(all: Map<string, StoredClientQuota>, alterations: readonly ClientQuotaAlteration[]): Set<string> {
  const touched = new Set<string>()
  for (const {entity, set, remove} of alterations) {
    const key = quotaEntityKey(entity)
    const values: Record<string, number> = {...all.get(key)?.values}
    for (const k of remove) delete values[k]
    Object.assign(values, set)
    if (Object.keys(values).length === 0) all.delete(key)
    else all.set(key, {entity: {...entity}, values})
    touched.add(key)
  }
  return touched
}
// ---- end client quotas ----------------------------------------------------------------------------

export class MetadataError extends Error {
  constructor(readonly code: 'TOPIC_ALREADY_EXISTS' | 'UNKNOWN_TOPIC_OR_PARTITION' | 'INVALID_PARTITIONS', message: string) {
    super(message)
  }
}

/** The store cannot be used (etcd unreachable, a node.id or cluster conflict), its cause named; `kcli server start` exits on it. */
export class MetadataStoreError extends Error {}

export interface MetadataStore {
  readonly clusterId: string
  /** The controller's broker id. */
  controllerId(): number
  brokers(): BrokerRegistration[]
  topics(): TopicMetadata[]
  topic(name: string): TopicMetadata | undefined
  topicById(topicId: string): TopicMetadata | undefined
  createTopic(topic: Omit<TopicMetadata, 'topicId'> & {topicId?: string}): Promise<TopicMetadata>
  deleteTopic(name: string): Promise<TopicMetadata>
  /** Appends partitions (their assignments) to an existing topic. */
  addPartitions(name: string, partitions: PartitionAssignment[]): Promise<TopicMetadata>
  /** Replaces the explicit configs of a topic. */
  setTopicConfigs(name: string, configs: Record<string, string>): Promise<void>
  /** Dynamic broker configs: per broker id, and cluster-wide under the key '' (the default). */
  brokerConfigs(nodeId: number | ''): Record<string, string>
  setBrokerConfigs(nodeId: number | '', configs: Record<string, string>): Promise<void>
  /**
   * Reserves `count` producer ids that no broker of this cluster will hand out again, even after
   * a restart; returns the first.
   */
  allocateProducerIds(count: number): Promise<number>
  /** The SCRAM credential of a user for a mechanism (SASL/SCRAM authentication). */
  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined
  /** Every stored SCRAM credential (DescribeUserScramCredentials). */
  scramCredentials(): StoredScramCredential[]
  /** Applies upsertions and deletions at once (AlterUserScramCredentials); a deletion of a missing credential is ignored. */
  alterScramCredentials(changes: ScramCredentialChanges): Promise<void>
  // --- ACLs (issue 15, authorization) ---
  /** Every stored ACL binding; a new array after every change (the authorizer indexes per array). */
  acls(): readonly AclBinding[]
  /** Adds and removes bindings at once (duplicates of stored ones and removals of missing ones are no-ops). */
  alterAcls(changes: {create: AclBinding[]; delete: AclBinding[]}): Promise<void>
  // --- end ACLs ---
  // ---- Client quotas (issue 15) ----
  /** Every entity with quotas set (DescribeClientQuotas, the quota manager). */
  clientQuotas(): StoredClientQuota[]
  /** Applies validated alterations at once (AlterClientQuotas); removing a key that is not set is nothing. */
  alterClientQuotas(alterations: readonly ClientQuotaAlteration[]): Promise<void>
  /** Grows whenever the quotas changed (through this broker or another): the quota manager's cache key. */
  clientQuotasVersion(): number
  // ---- end client quotas ----
  /**
   * Replaces this broker's registration (its address once the listeners are bound: a listener on
   * port 0 gets its port only then). Stores of one broker have nothing to do.
   */
  updateRegistration?(self: BrokerRegistration): Promise<void>
  /**
   * Cluster stores: writes a partition's new state if its partition epoch is still
   * `expectedPartitionEpoch` (compare-and-swap), bumping it; resolves with the stored state, or
   * null when the state had moved on (the caller was fenced).
   */
  alterPartition?(topic: string, partition: number, expectedPartitionEpoch: number, next: PartitionStateChange): Promise<PartitionAssignment | null>
  /**
   * Cluster stores: many partitions' alterPartition at once, in as few store round trips as it
   * can (etcd: transactions of up to 100 partitions). Each partition's change is still its own
   * compare-and-swap: one that was fenced does not keep the others from being written. Resolves
   * with one result per write, in order (null: fenced).
   */
  alterPartitions?(writes: readonly PartitionStateWrite[]): Promise<Array<PartitionAssignment | null>>
  /** Cluster stores: marks this broker's registration as shutting down (controlled shutdown). */
  requestControlledShutdown?(): Promise<void>
  /** Cluster stores: this broker's epoch (its current registration), -1 while it has none. */
  brokerEpoch?(): number
  /** Cluster stores: whether this broker's session is alive (else it must not lead). */
  sessionAlive?(): boolean
  /** Calls `listener` after the store changed through another broker (stores of one broker never do). */
  onChange?(listener: () => void): void
  close(): Promise<void>
}

/**
 * Writes partition states through the store's alterPartitions (one round trip per batch), or one
 * alterPartition at a time where the store has only that; null results are fenced writes.
 */
export async function writePartitionStates(store: MetadataStore, writes: readonly PartitionStateWrite[]): Promise<Array<PartitionAssignment | null>> {
  if (writes.length === 0) return []
  if (store.alterPartitions) return store.alterPartitions(writes)
  if (!store.alterPartition) throw new Error('this metadata store has no partition states to change (a single broker)')
  const out: Array<PartitionAssignment | null> = []
  for (const w of writes) out.push(await store.alterPartition(w.topic, w.partition, w.expectedPartitionEpoch, w.next))
  return out
}

/**
 * Decides and writes the state of many partitions in batches (writePartitionStates): `decide`
 * sees each partition's current state (undefined: it does not exist) and returns the change to
 * write, or `{outcome}` to write nothing. A fenced write (another change got there first) is
 * decided again on the new state, at most `attempts` times, then reported 'fenced'.
 */
export async function changePartitionStates<T>(
  store: MetadataStore,
  targets: ReadonlyArray<{topic: string; partition: number}>,
  decide: (current: PartitionAssignment | undefined, target: {topic: string; partition: number}) => PartitionStateChange | {outcome: T},
  attempts = 10,
): Promise<Array<{outcome: T} | 'written' | 'fenced'>> {
  const results: Array<{outcome: T} | 'written' | 'fenced'> = targets.map(() => 'fenced')
  let pending = targets.map((_, i) => i)
  for (let attempt = 0; pending.length > 0; attempt++) {
    const byTopic = new Map<string, Map<number, PartitionAssignment>>()
    const current = (topic: string, partition: number) => {
      let partitions = byTopic.get(topic)
      if (!partitions) byTopic.set(topic, (partitions = new Map((store.topic(topic)?.partitions ?? []).map((p) => [p.partition, p]))))
      return partitions.get(partition)
    }
    const writes: PartitionStateWrite[] = []
    const written: number[] = []
    for (const i of pending) {
      const target = targets[i]!
      const p = current(target.topic, target.partition)
      const decision = decide(p, target)
      if ('outcome' in decision) {
        results[i] = decision
        continue
      }
      if (!p) throw new Error(`${target.topic}-${target.partition}: a change decided for a partition that does not exist`)
      writes.push({topic: target.topic, partition: target.partition, expectedPartitionEpoch: p.partitionEpoch ?? 0, next: decision})
      written.push(i)
    }
    const stored = await writePartitionStates(store, writes)
    pending = []
    stored.forEach((s, j) => {
      if (s) results[written[j]!] = 'written'
      else if (attempt < attempts) pending.push(written[j]!)
    })
  }
  return results
}
