/**
 * The consumer group handlers (classic and KIP-848 groups, committed offsets), for the broker's
 * handler list. They need a GroupCoordinator in BrokerServices.groups; without one every group
 * request is answered COORDINATOR_NOT_AVAILABLE.
 */
import {consumerGroupDescribe} from './consumer-group-describe.js'
import {consumerGroupHeartbeat} from './consumer-group-heartbeat.js'
import {deleteGroups} from './delete-groups.js'
import {describeGroups} from './describe-groups.js'
import {findCoordinator} from './find-coordinator.js'
import type {ApiHandler} from './handler.js'
import {heartbeat} from './heartbeat.js'
import {joinGroup} from './join-group.js'
import {leaveGroup} from './leave-group.js'
import {listGroups} from './list-groups.js'
import {offsetCommit} from './offset-commit.js'
import {offsetDelete} from './offset-delete.js'
import {offsetFetch} from './offset-fetch.js'
import {syncGroup} from './sync-group.js'

export const GROUP_HANDLERS: readonly ApiHandler[] = [
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  deleteGroups,
  offsetDelete,
  consumerGroupHeartbeat,
  consumerGroupDescribe,
] as ApiHandler[]
