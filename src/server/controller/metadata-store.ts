/**
 * Cluster metadata — topics, topic ids, partition assignment, topic configs, dynamic broker
 * configs, SCRAM credentials — behind one interface. The single broker uses LocalMetadataStore (a
 * file in the data directory); a cluster will use an etcd store with the same interface, so
 * handlers never know which one they talk to.
 *
 * A store is the one owner of this state: callers read snapshots and change it only through the
 * methods here, which persist before they resolve.
 */

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
