// DescribeCluster: v0-2
//
// Behaviour: the cluster id, a controller id and the brokers as reachable on the listener the
// request came in on (this broker) or as registered (the others), as a Kafka 4.0 broker answers
// (KafkaApis.handleDescribeCluster): every registered (live) broker, with its broker.rack; the
// "controller" is an alive broker (KRaft brokers do not expose the controller quorum): kcli's
// active controller, the metadata store's controller id. v1+ asks
// for an endpoint type: brokers (1) is served; controllers (2) gets MISMATCHED_ENDPOINT_TYPE, any
// other value UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST in v0). v2 reports fenced brokers only
// when asked (kcli's brokers are never fenced). Cluster authorized operations, when asked, are the
// principal's (everything the cluster supports without an authorizer; 0 without DESCRIBE on the
// cluster); no ACL is needed to describe the cluster, as on a Kafka broker.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {CLUSTER_NAME} from '../../lib/acl.js'
import {AUTHORIZED_OPERATIONS_NOT_REQUESTED, CLUSTER_OPERATIONS} from '../authorized-operations.js'
import {defineHandler} from './handler.js'
import {brokersFor} from './metadata.js'
import {AclOperation, authorizeCluster, authorizedOperations, ResourceType} from './authorize.js'

const EndpointType = {BROKER: 1, CONTROLLER: 2} as const
const ENDPOINT_NAMES: Readonly<Record<number, string>> = {1: 'BROKER', 2: 'CONTROLLER'}

export const describeCluster = defineHandler({
  apiKey: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    const fail = (errorCode: number, errorMessage: string) => ({throttleTimeMs: 0, errorCode, errorMessage})
    const requested = request.endpointType
    if (ENDPOINT_NAMES[requested] === undefined) {
      return fail(ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, `Unsupported endpoint type ${requested}`)
    }
    if (requested !== EndpointType.BROKER) {
      return fail(ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE, `The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type ${ENDPOINT_NAMES[requested]}`)
    }
    const {metadata} = ctx.broker
    // Authorization (issue 15), as AuthHelper.computeDescribeClusterResponse: anyone may describe the
    // cluster; its authorized operations, when asked, are the principal's, 0 without DESCRIBE.
    const clusterOps = !request.includeClusterAuthorizedOperations ? AUTHORIZED_OPERATIONS_NOT_REQUESTED : authorizeCluster(ctx, AclOperation.DESCRIBE) ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME, CLUSTER_OPERATIONS) : 0
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: EndpointType.BROKER,
      clusterId: metadata.clusterId,
      controllerId: metadata.controllerId(),
      brokers: brokersFor(ctx).map((b) => ({brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack, isFenced: false})),
      clusterAuthorizedOperations: clusterOps,
    }
  },
})
