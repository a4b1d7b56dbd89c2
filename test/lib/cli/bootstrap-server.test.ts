import {describe, expect, it} from 'vitest'

import {formatBrokerAddress, parseBootstrapServers} from '../../../src/lib/cli/bootstrap-server.js'

describe('parseBootstrapServers', () => {
  it('parses host:port lists, bracketed IPv6, and a bare host as port 9092', () => {
    expect(parseBootstrapServers('127.0.0.1:9092')).toEqual([{host: '127.0.0.1', port: 9092}])
    expect(parseBootstrapServers(' a:1 , [::1]:2,b,')).toEqual([
      {host: 'a', port: 1},
      {host: '::1', port: 2},
      {host: 'b', port: 9092},
    ])
  })

  it.each(['', ' , ', 'a:0', 'a:65536', 'a:b', '::1:9092', 'a b:1', '[a]:1', '[kafka]:1'])('rejects %j', (input) => {
    expect(() => parseBootstrapServers(input)).toThrow()
  })

  it('formats addresses back', () => {
    expect(formatBrokerAddress({host: '::1', port: 9092})).toBe('[::1]:9092')
    expect(formatBrokerAddress({host: 'kafka', port: 1})).toBe('kafka:1')
  })
})
