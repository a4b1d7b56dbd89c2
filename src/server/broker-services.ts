/**
 * What handlers may use: the broker's identity and config, the metadata store, the topic
 * manager (topic lifecycle) and the replica manager (partition logs). Handlers get these through
 * RequestContext.broker and hold no state of their own.
 */
import type {ResolvedBrokerConfig} from '../lib/config/broker-configs.js'
import type {MetadataStore} from './controller/metadata-store.js'
import type {FetchSessionCache} from './fetch-sessions.js'
import type {ProducerIdManager} from './controller/producer-id-manager.js'
import type {TopicManager} from './controller/topic-manager.js'
import type {GroupCoordinator} from './coordinator/group-coordinator.js'
import type {TransactionCoordinator} from './coordinator/transaction-coordinator.js'
import type {ApiHandler} from './handlers/handler.js'
import type {Logger} from './logger.js'
import type {ReplicaManager} from './replica-manager.js'

export interface BrokerServices {
  nodeId: number
  dataDir: string
  config: ResolvedBrokerConfig
  metadata: MetadataStore
  topics: TopicManager
  replicas: ReplicaManager
  producerIds: ProducerIdManager
  /** The group coordinator (consumer groups, committed offsets); group APIs answer COORDINATOR_NOT_AVAILABLE without it. */
  groups?: GroupCoordinator
  /** The transaction coordinator; transaction APIs answer COORDINATOR_NOT_AVAILABLE without it. */
  transactions?: TransactionCoordinator
  fetchSessions: FetchSessionCache
  log: Logger
  /** The registered handlers (ApiVersions advertises them). */
  handlers(): readonly ApiHandler[]
  /** The address clients should use for this broker on a listener. */
  advertisedListener(listenerName: string): {host: string; port: number}
}
