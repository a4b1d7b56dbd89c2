/** Every request handler the broker registers; ApiVersions advertises exactly these. */
import {ADMIN_HANDLERS} from './admin.js'
import {GROUP_HANDLERS} from './groups.js'
import {SECURITY_HANDLERS} from './security.js'
import {TXN_HANDLERS} from './transactions.js'
import {apiVersions} from './api-versions.js'
import {createTopics} from './create-topics.js'
import {deleteRecords} from './delete-records.js'
import {describeConfigs} from './describe-configs.js'
import {describeLogDirs} from './describe-log-dirs.js'
import {describeProducers} from './describe-producers.js'
import {fetch} from './fetch.js'
import type {ApiHandler} from './handler.js'
import {initProducerId} from './init-producer-id.js'
import {listOffsets} from './list-offsets.js'
import {metadata} from './metadata.js'
import {offsetForLeaderEpoch} from './offset-for-leader-epoch.js'
import {produce} from './produce.js'

export const HANDLERS: readonly ApiHandler[] = [
  produce,
  fetch,
  listOffsets,
  metadata,
  apiVersions,
  createTopics,
  deleteRecords,
  initProducerId,
  offsetForLeaderEpoch,
  describeConfigs,
  describeLogDirs,
  describeProducers,
  ...ADMIN_HANDLERS,
  ...GROUP_HANDLERS,
  ...TXN_HANDLERS,
  ...SECURITY_HANDLERS,
] as ApiHandler[]
