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
import type {Authorizer} from './security/authorizer.js'
import type {ClientQuotaManager} from './quotas/client-quota-manager.js'
import type {BrokerMetrics} from './metrics/broker-metrics.js'

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
  /** ACL checks (issue 15): allows everything unless authorizer.class.name is set. */
  authorizer: Authorizer
  /** Client quotas (issue 15); absent in tests that build services by hand: nothing is throttled. */
  quotas?: ClientQuotaManager
  log: Logger
  /** Metric tallies (issue 16), only when metrics.listener is set: the hooks are `metrics?.x()`. */
  metrics?: BrokerMetrics
  /** The registered handlers (ApiVersions advertises them). */
  handlers(): readonly ApiHandler[]
  /** The address clients should use for this broker on a listener. */
  advertisedListener(listenerName: string): {host: string; port: number}
}
