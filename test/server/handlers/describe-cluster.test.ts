import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {useBroker} from './helpers.js'

const ctx = useBroker()

describe('DescribeCluster', () => {
  it('describes the cluster at v0, v1 and v2: id, controller, this broker on the listener used', async () => {
    const clusterId = ctx.broker.broker['metadata']!.clusterId
    for (let version = 0; version <= 2; version++) {
      const res = await ctx.client.send(ApiKey.DescribeCluster, version, {includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false})
      expect(res).toMatchObject({
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        endpointType: 1,
        clusterId,
        controllerId: 1,
        brokers: [{brokerId: 1, host: '127.0.0.1', port: ctx.broker.port, rack: null, isFenced: false}],
        clusterAuthorizedOperations: -2147483648,
      })
    }
  })

  it('reports every cluster operation when asked (no authorizer)', async () => {
    const res = await ctx.client.send(ApiKey.DescribeCluster, 2, {includeClusterAuthorizedOperations: true, endpointType: 1, includeFencedBrokers: true})
    // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE
    expect(res.clusterAuthorizedOperations).toBe((1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12))
  })

  it('refuses the controller endpoint type and unknown ones as a Kafka broker does', async () => {
    const controllers = await ctx.client.send(ApiKey.DescribeCluster, 1, {includeClusterAuthorizedOperations: false, endpointType: 2})
    expect(controllers).toMatchObject({errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE, errorMessage: 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER', brokers: []})
    const unknown = await ctx.client.send(ApiKey.DescribeCluster, 1, {includeClusterAuthorizedOperations: false, endpointType: 9})
    expect(unknown).toMatchObject({errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: 'Unsupported endpoint type 9', brokers: []})
  })
})
