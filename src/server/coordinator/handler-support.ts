/**
 * What the group handlers share: the broker's coordinator (absent when the broker was built
 * without one, in which case every group request is answered COORDINATOR_NOT_AVAILABLE), the
 * client host as Kafka reports it ("/127.0.0.1"), and the authorized operations of a group.
 */
import type {RequestContext} from '../handlers/handler.js'
import type {GroupCoordinator} from './group-coordinator.js'

/** The schema default of authorizedOperations: the client did not ask. */
export const AUTHORIZED_OPERATIONS_NOT_REQUESTED = -2147483648

/**
 * Everything a group supports (Kafka's AclEntry.supportedOperations for GROUP: READ, DESCRIBE,
 * DELETE; AclOperation codes 3, 8, 6). kcli has no authorizer, so all of them are allowed.
 */
export const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 8) | (1 << 6)

export function coordinatorOf(ctx: RequestContext): GroupCoordinator | undefined {
  return ctx.broker.groups
}

export function clientHostOf(ctx: RequestContext): string {
  return `/${ctx.connection.remoteAddress}`
}

export function clientIdOf(ctx: RequestContext): string {
  return ctx.header.clientId ?? ''
}
