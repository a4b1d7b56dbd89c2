/**
 * The handlers' one way to ask the authorizer (Kafka's AuthHelper): who the request comes from
 * (the connection's principal and client address) and whether it may do an operation on a
 * resource. Without an authorizer everything is allowed.
 */
import {AclOperation, CLUSTER_NAME, ResourceType} from '../../lib/acl.js'
import {clientHost, type Requester} from '../security/authorizer.js'
import type {RequestContext} from './handler.js'
import {ErrorCode, errorByCode} from '../../lib/protocol/generated/errors.js'

export {AclOperation, ResourceType}

export function requester(ctx: RequestContext): Requester {
  return {principal: ctx.connection.security.principal, host: clientHost(ctx.connection.remoteAddress)}
}

export function authorize(ctx: RequestContext, operation: number, resourceType: number, name: string): boolean {
  const a = ctx.broker.authorizer
  if (!a.enabled) return true
  return a.authorize(requester(ctx), operation, resourceType, name)
}

export function authorizeCluster(ctx: RequestContext, operation: number): boolean {
  return authorize(ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME)
}

/** The names among `names` the requester may do `operation` on (Kafka's filterByAuthorized). */
export function authorizedNames(ctx: RequestContext, operation: number, resourceType: number, names: Iterable<string>): Set<string> {
  const out = new Set<string>()
  for (const n of names) if (authorize(ctx, operation, resourceType, n)) out.add(n)
  return out
}

export function authorizeByResourceType(ctx: RequestContext, operation: number, resourceType: number): boolean {
  const a = ctx.broker.authorizer
  if (!a.enabled) return true
  return a.authorizeByResourceType(requester(ctx), operation, resourceType)
}

/**
 * The authorized-operations bit field of a resource (AuthHelper.authorizedOperations): bit n for
 * each supported operation code n the requester may do.
 */
export function authorizedOperations(ctx: RequestContext, resourceType: number, name: string, supported: readonly number[]): number {
  let bits = 0
  for (const op of supported) if (authorize(ctx, op, resourceType, name)) bits |= 1 << op
  return bits
}

/** Config resource types (ConfigResource.Type) the authorizer knows how to check. */
const CONFIG_TOPIC = 2
const CONFIG_BROKER = 4
const CONFIG_BROKER_LOGGER = 8
const CONFIG_CLIENT_METRICS = 16
const CONFIG_GROUP = 32

/**
 * The error refusing `operation` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on a config resource, or
 * NONE (0) when allowed, as Kafka's ConfigHelper and ControllerApis.authorizeAlterResource: the
 * topic (TOPIC_AUTHORIZATION_FAILED), the group (GROUP_AUTHORIZATION_FAILED), the cluster for
 * brokers, broker loggers and client metrics (CLUSTER_AUTHORIZATION_FAILED). Other types are not
 * authorized here (the handlers refuse them with their own errors).
 */
export function configResourceRefusal(ctx: RequestContext, operation: number, configResourceType: number, name: string): number {
  switch (configResourceType) {
    case CONFIG_TOPIC:
      return authorize(ctx, operation, ResourceType.TOPIC, name) ? 0 : ErrorCode.TOPIC_AUTHORIZATION_FAILED
    case CONFIG_GROUP:
      return authorize(ctx, operation, ResourceType.GROUP, name) ? 0 : ErrorCode.GROUP_AUTHORIZATION_FAILED
    case CONFIG_BROKER:
    case CONFIG_BROKER_LOGGER:
    case CONFIG_CLIENT_METRICS:
      return authorizeCluster(ctx, operation) ? 0 : ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    default:
      return 0
  }
}

/** Kafka's default message of an error code (what `new ApiError(error)` carries). */
export function defaultMessage(errorCode: number): string | null {
  return errorByCode(errorCode)?.message ?? null
}

/**
 * Whether a Kafka broker's preprocessing of an (Incremental)AlterConfigs resource
 * (ConfigAdminManager.preprocess) refuses it before the controller authorizes it: duplicate
 * config names, null values (except DELETE operations), a broker resource naming another node,
 * or a resource type the API does not take (BROKER_LOGGER in the legacy API). Such a resource
 * gets that refusal whoever asks, so it is not authorized here.
 */
export function refusedBeforeAuthorization(r: {resourceType: number; resourceName: string; configs: ReadonlyArray<{name: string; value: string | null; configOperation?: number}>}, incremental: boolean, nodeId: number): boolean {
  const names = r.configs.map((c) => c.name)
  if (new Set(names).size !== names.length) return true
  if (r.configs.some((c) => c.value === null && !(incremental && c.configOperation === DELETE_OPERATION))) return true
  if (r.resourceType === CONFIG_BROKER && r.resourceName !== '' && r.resourceName !== String(nodeId)) return true
  const known = incremental ? [CONFIG_TOPIC, CONFIG_BROKER, CONFIG_BROKER_LOGGER, CONFIG_CLIENT_METRICS, CONFIG_GROUP] : [CONFIG_TOPIC, CONFIG_BROKER, CONFIG_CLIENT_METRICS, CONFIG_GROUP]
  return !known.includes(r.resourceType)
}

/** IncrementalAlterConfigs' DELETE operation. */
const DELETE_OPERATION = 1
