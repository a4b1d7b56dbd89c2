import {describe, expect, it} from 'vitest'

import ProtocolApis, {type ProtocolApisResult} from '../../../src/commands/protocol/apis.js'
import {API_KEYS} from '../../../src/lib/protocol/generated/api-keys.js'
import {runCommand} from '../../lib/cli/run-command.js'

describe('kcli protocol apis', () => {
  it('lists every API key with its version range', async () => {
    const run = await runCommand<ProtocolApisResult>(ProtocolApis, [])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('')
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^KEY {2}NAME +VERSIONS +FLEXIBLE +LISTENERS$/)
    expect(lines).toHaveLength(API_KEYS.length + 1)
    expect(lines.find((line) => / ApiVersions /.test(line))).toMatch(/^ {1}18 {2}ApiVersions +0-4 +3\+ +broker,controller$/)
    expect(lines.find((line) => / Produce /.test(line))).toMatch(/^ {2}0 {2}Produce +3-12 +9\+ +broker$/)
  })

  it('--json prints {apis: [...]}, one entry per API key', async () => {
    const run = await runCommand<ProtocolApisResult>(ProtocolApis, ['--json'])
    expect(run.exitCode).toBe(0)
    const parsed = JSON.parse(run.stdout) as ProtocolApisResult
    expect(parsed).toEqual(run.result)
    expect(parsed.apis.map((api) => api.apiKey)).toEqual(API_KEYS.map((api) => api.apiKey))
    expect(parsed.apis.find((api) => api.name === 'Fetch')).toEqual({
      apiKey: 1,
      flexibleMinVersion: 12,
      latestVersionUnstable: false,
      listeners: ['broker', 'controller'],
      maxVersion: 17,
      minVersion: 4,
      name: 'Fetch',
    })
  })

  it('--key looks one up; an unknown key exits 1', async () => {
    const run = await runCommand<ProtocolApisResult>(ProtocolApis, ['--key', '18', '--json'])
    expect(run.result!.apis).toHaveLength(1)
    expect(run.result!.apis[0]).toMatchObject({apiKey: 18, minVersion: 0, name: 'ApiVersions'})

    const unknown = await runCommand(ProtocolApis, ['--key', '999'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toBe('Error: no API key 999\n')
  })

  it('--listener filters; an unknown listener is a usage error', async () => {
    const run = await runCommand<ProtocolApisResult>(ProtocolApis, ['--listener', 'controller', '--json'])
    expect(run.result!.apis.length).toBeGreaterThan(0)
    expect(run.result!.apis.every((api) => api.listeners.includes('controller'))).toBe(true)
    expect(run.result!.apis.map((api) => api.name)).toContain('Vote')

    const bad = await runCommand(ProtocolApis, ['--listener', 'zookeeper'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/^Error: Expected --listener=zookeeper to be one of: broker, controller/)
  })

  it('APIs without a valid version in Kafka 4.0 show no versions', async () => {
    const removed = API_KEYS.filter((api) => !(api.minVersion <= api.maxVersion))
    if (removed.length === 0) return
    const run = await runCommand<ProtocolApisResult>(ProtocolApis, ['--key', String(removed[0]!.apiKey)])
    expect(run.stdout).toContain('none (removed)')
    const json = await runCommand<ProtocolApisResult>(ProtocolApis, ['--key', String(removed[0]!.apiKey), '--json'])
    expect(json.result!.apis[0]).toMatchObject({flexibleMinVersion: null, maxVersion: null, minVersion: null})
  })
})
