/**
 * Issue 16: per-component loggers (src/server/broker-loggers.ts) on a real pino destination — a
 * component's lines carry its Kafka logger name, its level changes alone at runtime, root's
 * carries to the components without a level of their own, and a removed level inherits root's.
 */
import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {alterLoggerLevels, BrokerLoggers, COMPONENT_LOGGERS, LoggerConfigError, loggerLevels} from '../../src/server/broker-loggers.js'
import {createLogger} from '../../src/server/logger.js'

function capture(): {stream: PassThrough; lines: () => Array<Record<string, unknown>>} {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (d: Buffer) => (text += d.toString()))
  return {stream, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)}
}

describe('component loggers', () => {
  it('filter and tag each component\'s lines by its own level', () => {
    const out = capture()
    const root = createLogger({level: 'info', destination: out.stream, format: 'json'})
    const loggers = BrokerLoggers.for(root)
    expect(BrokerLoggers.for(root)).toBe(loggers)
    const replicas = loggers.component(COMPONENT_LOGGERS.replicaManager)
    const network = loggers.component(COMPONENT_LOGGERS.network)
    expect(BrokerLoggers.of(replicas)).toBe(loggers)
    replicas.debug('hidden')
    alterLoggerLevels(replicas, [{name: 'kafka.server.ReplicaManager', configOperation: 0, value: 'DEBUG'}], false)
    replicas.debug({partition: 'a-0'}, 'shown')
    network.debug('still hidden')
    network.info('info line')
    expect(out.lines().map(({component, msg, level}) => ({component, msg, level}))).toEqual([
      {component: 'kafka.server.ReplicaManager', msg: 'shown', level: 20},
      {component: 'kafka.network.SocketServer', msg: 'info line', level: 30},
    ])
    alterLoggerLevels(root, [{name: 'root', configOperation: 0, value: 'ERROR'}], false)
    expect(loggerLevels(root)).toEqual([
      {name: 'root', level: 'ERROR'},
      {name: 'kafka.network.SocketServer', level: 'ERROR'},
      {name: 'kafka.server.ReplicaManager', level: 'DEBUG'},
    ])
    alterLoggerLevels(root, [{name: 'kafka.server.ReplicaManager', configOperation: 1, value: null}], false)
    expect(loggerLevels(root).find((l) => l.name === 'kafka.server.ReplicaManager')!.level).toBe('ERROR')
    // validateOnly changes nothing; an unknown name fails the whole request.
    alterLoggerLevels(root, [{name: 'root', configOperation: 0, value: 'TRACE'}], true)
    expect(root.level).toBe('error')
    expect(() => alterLoggerLevels(root, [{name: 'root', configOperation: 0, value: 'TRACE'}, {name: 'kafka.log.Nope', configOperation: 0, value: 'TRACE'}], false)).toThrow(new LoggerConfigError('INVALID_CONFIG', 'Logger kafka.log.Nope does not exist!'))
    expect(root.level).toBe('error')
  })
})
