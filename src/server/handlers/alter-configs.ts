// AlterConfigs: v0-2
//
// Behaviour: replaces the dynamic configs of each resource with exactly the given set (keys left
// out are deleted), for topics and for brokers ("" = the cluster-wide default, or this broker's
// id); validateOnly checks everything and changes nothing. Validation, order of checks and error
// messages are Kafka 4.0's (see ConfigManager); per-resource errors go into the response.
// Errors: INVALID_REQUEST (duplicate resource or key, null value, bad broker id, read-only or
// invalid broker config), INVALID_CONFIG (unknown or invalid topic config), INVALID_TOPIC_EXCEPTION,
// UNKNOWN_TOPIC_OR_PARTITION, UNSUPPORTED_VERSION (unknown resource type, as Kafka's controller).
// Not implemented: BROKER_LOGGER (refused as Kafka refuses it here), CLIENT_METRICS and GROUP
// resources (INVALID_REQUEST), alter-config policies.
// Authorization (issue 15): ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED), the group
// (GROUP_AUTHORIZATION_FAILED) or the cluster (CLUSTER_AUTHORIZATION_FAILED), with the error's message.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ConfigManager} from '../controller/config-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, configResourceRefusal, defaultMessage, refusedBeforeAuthorization} from './authorize.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'

export const alterConfigs = defineHandler({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    // Authorization (issue 15), as ControllerApis.authorizeAlterResource: ALTER_CONFIGS on the topic,
    // the group, or the cluster (brokers, client metrics), refused with the error's message. A
    // resource the broker's preprocessing refuses (named twice, duplicate keys, null values, another
    // broker's id, an unknown type) gets that refusal whoever asks: it comes first in Kafka.
    // Answers in request order, as the broker reassembles them.
    const key = (r: {resourceType: number; resourceName: string}) => `${r.resourceType}\u0000${r.resourceName}`
    const counts = new Map<string, number>()
    for (const r of request.resources) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1)
    const refusals = request.resources.map((r) =>
      counts.get(key(r))! > 1 || refusedBeforeAuthorization(r, false, ctx.broker.nodeId) ? ErrorCode.NONE : configResourceRefusal(ctx, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName),
    )
    const allowed = request.resources.filter((_, i) => refusals[i] === ErrorCode.NONE)
    const responses = allowed.length > 0 ? await ConfigManager.for(ctx.broker).alterConfigs(allowed, request.validateOnly) : []
    let j = 0
    return {
      throttleTimeMs: 0,
      responses: request.resources.map((r, i) => (refusals[i] === ErrorCode.NONE ? responses[j++]! : {resourceType: r.resourceType, resourceName: r.resourceName, errorCode: refusals[i]!, errorMessage: defaultMessage(refusals[i]!)})),
    }
  },
})
