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
// BROKER_LOGGER (issue 15): the root logger's level, as Kafka's RuntimeLoggerManager (src/server/broker-loggers.ts).
// Authorization (issue 15): ALTER_CONFIGS on the topic, the group or the cluster (TOPIC_/GROUP_/
// CLUSTER_AUTHORIZATION_FAILED), answers in request order.
// Not implemented: CLIENT_METRICS and GROUP resources (INVALID_REQUEST),
// alter-config policies.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ConfigManager} from '../controller/config-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, configResourceRefusal, defaultMessage, refusedBeforeAuthorization} from './authorize.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {alterLoggerLevels, checkLoggerResource, LoggerConfigError} from '../broker-loggers.js' // broker loggers (issue 15)

const BROKER_LOGGER_TYPE = 8

export const incrementalAlterConfigs = defineHandler({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    // Authorization (issue 15), as Kafka: ALTER_CONFIGS on the topic, the group, or the cluster
    // (brokers, loggers, client metrics) — TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED with the error's
    // message (none for a logger, refused by the broker's RuntimeLoggerManager). A resource the
    // broker's preprocessing refuses (named twice, duplicate keys, null values, another broker's id,
    // an unknown type) gets that refusal whoever asks: it comes first in Kafka. Answers in
    // request order, as the broker reassembles them (ConfigAdminManager.reassembleIncrementalResponse).
    const key = (r: {resourceType: number; resourceName: string}) => `${r.resourceType}\u0000${r.resourceName}`
    const counts = new Map<string, number>()
    for (const r of request.resources) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1)
    const refusals = request.resources.map((r) =>
      counts.get(key(r))! > 1 || refusedBeforeAuthorization(r, true, ctx.broker.nodeId) ? ErrorCode.NONE : configResourceRefusal(ctx, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName),
    )
    const refusal = (r: {resourceType: number; resourceName: string}, errorCode: number) => ({resourceType: r.resourceType, resourceName: r.resourceName, errorCode, errorMessage: r.resourceType === BROKER_LOGGER_TYPE ? null : defaultMessage(errorCode)})
    const resources = request.resources.filter((_, i) => refusals[i] === ErrorCode.NONE)
    // ---- broker loggers (issue 15): answered here, the rest by the ConfigManager, in request order ----
    const loggers = resources.filter((r) => r.resourceType === BROKER_LOGGER_TYPE)
    const others = resources.filter((r) => r.resourceType !== BROKER_LOGGER_TYPE)
    const managed = others.length > 0 ? await ConfigManager.for(ctx.broker).incrementalAlterConfigs(others, request.validateOnly) : []
    const loggerResponses = loggers.map((r) => {
      const base = {resourceType: r.resourceType, resourceName: r.resourceName}
      // The broker's preprocessing first (ConfigAdminManager.preprocess), as for every resource.
      const names = r.configs.map((c) => c.name)
      const nulls = r.configs.filter((c) => c.value === null && c.configOperation !== 1).map((c) => c.name)
      if (counts.get(key(r))! > 1) return {...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Each resource must appear at most once.'}
      if (new Set(names).size !== names.length) return {...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate config keys'}
      if (nulls.length > 0) return {...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${nulls.join(', ')}`}
      try {
        checkLoggerResource(r.resourceName, ctx.broker.nodeId)
        alterLoggerLevels(ctx.broker.log, r.configs, request.validateOnly)
        return {...base, errorCode: ErrorCode.NONE, errorMessage: null}
      } catch (error) {
        if (!(error instanceof LoggerConfigError)) throw error
        return {...base, errorCode: ErrorCode[error.code], errorMessage: error.message}
      }
    })
    let i = 0
    let j = 0
    const responses = request.resources.map((r, k) => (refusals[k] !== ErrorCode.NONE ? refusal(r, refusals[k]!) : r.resourceType === BROKER_LOGGER_TYPE ? loggerResponses[i++]! : managed[j++]!))
    return {throttleTimeMs: 0, responses}
    // ---- end broker loggers ----
  },
})
