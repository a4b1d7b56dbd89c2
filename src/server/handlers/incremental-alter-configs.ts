// IncrementalAlterConfigs: v0-1
//
// Behaviour: per resource, SET, DELETE, APPEND and SUBTRACT on single keys (APPEND/SUBTRACT only
// for list configs; starting from the default when the key is not set), for topics and for brokers
// ("" = the cluster-wide default, or this broker's id); validateOnly checks everything and changes
// nothing. Validation, order of checks and error messages are Kafka 4.0's (see ConfigManager).
// Errors: INVALID_REQUEST (duplicate resource or key, null value for SET/APPEND/SUBTRACT, unknown
// operation, bad broker id, read-only or invalid broker config, APPEND/SUBTRACT on a non-list
// broker config), INVALID_CONFIG (unknown or invalid topic config, APPEND/SUBTRACT on a non-list
// topic config), INVALID_TOPIC_EXCEPTION, UNKNOWN_TOPIC_OR_PARTITION, UNSUPPORTED_VERSION
// (unknown resource type).
// Not implemented: BROKER_LOGGER (log levels), CLIENT_METRICS and GROUP resources (INVALID_REQUEST),
// alter-config policies, authorization.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ConfigManager} from '../controller/config-manager.js'
import {defineHandler} from './handler.js'

export const incrementalAlterConfigs = defineHandler({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const responses = await ConfigManager.for(ctx.broker).incrementalAlterConfigs(request.resources, request.validateOnly)
    return {throttleTimeMs: 0, responses}
  },
})
