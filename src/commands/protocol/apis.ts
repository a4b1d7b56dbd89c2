import {Flags} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {NotFoundError} from '../../lib/cli/errors.js'
import {API_KEYS} from '../../lib/protocol/generated/api-keys.js'

export interface ApiInfo {
  apiKey: number
  /** First version that uses the flexible (compact, tagged-field) encoding; null if none does. */
  flexibleMinVersion: null | number
  /** Whether the highest version is still unstable (under development) in Kafka 4.0. */
  latestVersionUnstable: boolean
  /** Which listeners serve the API in Kafka 4.0: broker, controller. Empty for removed APIs. */
  listeners: string[]
  /** Highest version; null when Kafka 4.0 has no valid version (the API was removed). */
  maxVersion: null | number
  /** Lowest version; null when Kafka 4.0 has no valid version (the API was removed). */
  minVersion: null | number
  name: string
}

export interface ProtocolApisResult {
  apis: ApiInfo[]
}

function toApiInfo(api: (typeof API_KEYS)[number]): ApiInfo {
  const hasVersions = Number.isInteger(api.minVersion) && Number.isInteger(api.maxVersion) && api.minVersion <= api.maxVersion
  return {
    apiKey: api.apiKey,
    name: api.name,
    minVersion: hasVersions ? api.minVersion : null,
    maxVersion: hasVersions ? api.maxVersion : null,
    flexibleMinVersion: hasVersions ? api.flexibleMinVersion : null,
    listeners: [...api.listeners],
    latestVersionUnstable: api.latestVersionUnstable,
  }
}

function versionRange({maxVersion, minVersion}: ApiInfo): string {
  if (minVersion === null || maxVersion === null) return 'none (removed)'
  return minVersion === maxVersion ? `${minVersion}` : `${minVersion}-${maxVersion}`
}

export default class ProtocolApis extends KcliCommand<typeof ProtocolApis> {
  static override description = `Lists the Kafka protocol's API keys as kcli's codec knows them (Kafka 4.0 message definitions): key, name, version range, first flexible version, and the listeners that serve it. These are the versions kcli can encode and decode, not what a given broker supports. APIs that Kafka 4.0 removed show no versions.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'List every API key.'},
    {command: '<%= config.bin %> <%= command.id %> --key 18', description: 'Look up API key 18 (ApiVersions).'},
    {command: '<%= config.bin %> <%= command.id %> --listener controller --json', description: 'APIs a controller serves, as JSON.'},
  ]
  static override flags = {
    key: Flags.integer({helpValue: '<n>', min: 0, summary: 'Show only this API key.'}),
    listener: Flags.string({
      options: [...new Set(API_KEYS.flatMap((api) => api.listeners))].sort(),
      summary: 'Show only APIs served by this listener.',
    }),
  }
  static override summary = 'List Kafka API keys and the versions kcli speaks.'

  async run(): Promise<ProtocolApisResult> {
    const {key, listener} = this.flags
    let apis = API_KEYS.map((api) => toApiInfo(api))
    if (key !== undefined) apis = apis.filter((api) => api.apiKey === key)
    if (listener !== undefined) apis = apis.filter((api) => api.listeners.includes(listener))
    if (key !== undefined && apis.length === 0) throw new NotFoundError(`no API key ${key}${listener === undefined ? '' : ` served by the ${listener} listener`}`)

    this.out.table(
      [{align: 'right', header: 'Key'}, {header: 'Name'}, {header: 'Versions'}, {header: 'Flexible'}, {header: 'Listeners'}],
      apis.map((api) => [
        api.apiKey,
        api.name,
        versionRange(api),
        api.flexibleMinVersion === null ? '-' : `${api.flexibleMinVersion}+`,
        api.listeners.join(','),
      ]),
    )
    return {apis}
  }
}
