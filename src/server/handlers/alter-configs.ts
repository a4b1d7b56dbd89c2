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
// resources (INVALID_REQUEST), alter-config policies, authorization.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ConfigManager} from '../controller/config-manager.js'
import {defineHandler} from './handler.js'

export const alterConfigs = defineHandler({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const responses = await ConfigManager.for(ctx.broker).alterConfigs(request.resources, request.validateOnly)
    return {throttleTimeMs: 0, responses}
  },
})
