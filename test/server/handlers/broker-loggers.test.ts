/** BROKER_LOGGER resources (issues 15, 16): kafka-configs.sh --entity-type broker-loggers against kcli, root and per component. */
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {exchangesOf, SECURITY_TOOL_CAPTURES} from '../../lib/protocol/tool-captures.js'
import {BrokerLoggers, COMPONENT_LOGGERS} from '../../../src/server/broker-loggers.js'
import {useBroker} from './helpers.js'

describe('broker loggers (DescribeConfigs / IncrementalAlterConfigs on BROKER_LOGGER)', () => {
  const fixture = useBroker()
  const describeLoggers = (name = '1') => fixture.client.send(ApiKey.DescribeConfigs, 4, {resources: [{resourceType: 8, resourceName: name, configurationKeys: null}], includeSynonyms: true, includeDocumentation: false})
  const alter = (configs: Array<{name: string; configOperation: number; value: string | null}>, validateOnly = false, name = '1') =>
    fixture.client.send(ApiKey.IncrementalAlterConfigs, 1, {resources: [{resourceType: 8, resourceName: name, configs}], validateOnly})

  const levels = async () => Object.fromEntries((await describeLoggers()).results[0]!.configs.map((c) => [c.name, c.value]))

  it('describes root and every component logger as Kafka describes a logger, and sets root\'s level', async () => {
    const before = (await describeLoggers()).results[0]!
    expect(before).toMatchObject({errorCode: ErrorCode.NONE, errorMessage: '', resourceType: 8, resourceName: '1'})
    expect(before.configs[0]).toEqual({name: 'root', value: expect.stringMatching(/^[A-Z]+$/), readOnly: false, configSource: 6, isSensitive: false, synonyms: [], configType: 0, documentation: ''})
    expect(before.configs.map((c: {name: string}) => c.name)).toEqual(['root', ...Object.values(COMPONENT_LOGGERS).sort()])
    const res = await alter([{name: 'root', configOperation: 0, value: 'DEBUG'}])
    expect(res.responses[0]).toMatchObject({errorCode: ErrorCode.NONE, errorMessage: null})
    expect((await describeLoggers()).results[0]!.configs[0]!.value).toBe('DEBUG')
    await alter([{name: 'root', configOperation: 0, value: 'ERROR'}], true)
    expect((await describeLoggers()).results[0]!.configs[0]!.value).toBe('DEBUG')
    await alter([{name: 'root', configOperation: 0, value: 'INFO'}])
  })

  it.each([
    [[{name: 'root', configOperation: 0, value: 'LOUD'}], '1', ErrorCode.INVALID_CONFIG, 'Cannot set the log level of root to LOUD as it is not a supported log level. Valid log levels are DEBUG, ERROR, FATAL, INFO, TRACE, WARN'],
    [[{name: 'kafka.server.NoSuchManager', configOperation: 0, value: 'DEBUG'}], '1', ErrorCode.INVALID_CONFIG, 'Logger kafka.server.NoSuchManager does not exist!'],
    [[{name: 'kafka.server.NoSuchManager', configOperation: 1, value: null}], '1', ErrorCode.INVALID_CONFIG, 'Logger kafka.server.NoSuchManager does not exist!'],
    [[{name: 'kafka.server.ReplicaManager', configOperation: 0, value: 'DEBUG'}, {name: 'kafka', configOperation: 0, value: 'DEBUG'}], '1', ErrorCode.INVALID_CONFIG, 'Logger kafka does not exist!'],
    [[{name: 'root', configOperation: 1, value: null}], '1', ErrorCode.INVALID_REQUEST, 'Removing the log level of the root logger is not allowed'],
    [[{name: 'root', configOperation: 2, value: 'DEBUG'}], '1', ErrorCode.INVALID_REQUEST, 'APPEND operation is not allowed for the BROKER_LOGGER resource'],
    [[{name: 'root', configOperation: 0, value: 'DEBUG'}], 'x', ErrorCode.INVALID_REQUEST, 'Node id must be an integer, but it is: x'],
    [[{name: 'root', configOperation: 0, value: 'DEBUG'}], '7', ErrorCode.INVALID_REQUEST, 'Unexpected node id. Expected 1, but received 1'],
  ])('refuses %j on %s as Kafka', async (configs, name, code, message) => {
    const res = await alter(configs, false, name)
    expect(res.responses[0]).toMatchObject({errorCode: code, errorMessage: message})
    // All or nothing: nothing changed.
    expect(new Set(Object.values(await levels()))).toEqual(new Set(['INFO']))
  })

  it('sets one component\'s level at runtime; root carries to the others; DELETE makes it inherit root again', async () => {
    const loggers = BrokerLoggers.for(fixture.broker.broker.log)
    const replicaManager = loggers.component(COMPONENT_LOGGERS.replicaManager)
    const network = loggers.component(COMPONENT_LOGGERS.network)
    expect(replicaManager.isLevelEnabled('debug')).toBe(false)
    expect((await alter([{name: 'kafka.server.ReplicaManager', configOperation: 0, value: 'DEBUG'}])).responses[0]).toMatchObject({errorCode: ErrorCode.NONE})
    expect(await levels()).toMatchObject({'root': 'INFO', 'kafka.server.ReplicaManager': 'DEBUG', 'kafka.network.SocketServer': 'INFO'})
    expect(replicaManager.isLevelEnabled('debug')).toBe(true)
    expect(network.isLevelEnabled('debug')).toBe(false)
    // Root to WARN: every component without a level of its own follows; ReplicaManager keeps DEBUG.
    await alter([{name: 'root', configOperation: 0, value: 'WARN'}])
    expect(await levels()).toMatchObject({'root': 'WARN', 'kafka.server.ReplicaManager': 'DEBUG', 'kafka.network.SocketServer': 'WARN', 'kafka.server.KafkaApis': 'WARN'})
    expect(network.isLevelEnabled('info')).toBe(false)
    // DELETE: ReplicaManager inherits root's WARN again.
    expect((await alter([{name: 'kafka.server.ReplicaManager', configOperation: 1, value: null}])).responses[0]).toMatchObject({errorCode: ErrorCode.NONE, errorMessage: null})
    expect((await levels())['kafka.server.ReplicaManager']).toBe('WARN')
    expect(replicaManager.isLevelEnabled('info')).toBe(false)
    await alter([{name: 'root', configOperation: 0, value: 'INFO'}])
    expect(new Set(Object.values(await levels()))).toEqual(new Set(['INFO']))
  })

  it("answers kafka-configs.sh's root-logger conversations (security-tools.jsonl runs 45, 47) as Kafka 4.0 did", async () => {
    for (const e of exchangesOf([45, 47], SECURITY_TOOL_CAPTURES)) {
      if (e.apiKey !== ApiKey.IncrementalAlterConfigs) continue
      // The capture addressed broker 2; this broker is node 1.
      const request = {...e.request, resources: e.request.resources.map((r: {resourceName: string}) => ({...r, resourceName: '1'}))}
      const answer = await fixture.client.send(ApiKey.IncrementalAlterConfigs, e.apiVersion, request)
      expect(answer).toEqual({...e.response, responses: e.response.responses.map((r: {resourceName: string}) => ({...r, resourceName: '1'}))})
    }
  })
})
