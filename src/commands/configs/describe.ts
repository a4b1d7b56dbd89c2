import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {Admin, type ConfigResource, type ConfigResourceResult} from '../../lib/client/admin.js'
import {failIfAny} from '../../lib/client/cli-input.js'

export interface ConfigsDescribeResult {
  resources: ConfigResourceResult[]
}

export default class ConfigsDescribe extends BaseCommand<typeof ConfigsDescribe> {
  static override description = `Shows the configs of topics or brokers (DescribeConfigs). By default only the values set on the resource are shown (a topic's overrides, a broker's dynamic and static settings); --all adds the defaults. Sensitive values are never shown.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --topic orders', description: 'The configs set on a topic.'},
    {command: '<%= config.bin %> <%= command.id %> --broker 1 --all', description: 'Every config of broker 1.'},
    {command: '<%= config.bin %> <%= command.id %> --topic orders --key retention.ms --json', description: 'One value, as JSON.'},
  ]
  static override flags = {
    all: Flags.boolean({summary: 'Include default values.'}),
    broker: Flags.string({helpValue: '<id>', multiple: true, summary: 'A broker id (repeatable); "" for the cluster-wide broker defaults.'}),
    key: Flags.string({helpValue: '<name>', multiple: true, summary: 'Only these config names (repeatable).'}),
    synonyms: Flags.boolean({summary: 'Show where each value comes from (synonyms with their sources).'}),
    topic: Flags.string({char: 't', helpValue: '<name>', multiple: true, summary: 'A topic (repeatable).'}),
  }
  static override summary = 'Show topic or broker configs.'

  async run(): Promise<ConfigsDescribeResult> {
    const resources: ConfigResource[] = [
      ...(this.flags.topic ?? []).map((name) => ({name, type: 'topic' as const})),
      ...(this.flags.broker ?? []).map((name) => ({name, type: 'broker' as const})),
    ].map((r) => (this.flags.key ? {...r, keys: this.flags.key} : r))
    if (resources.length === 0) throw new UsageError('give --topic <name> or --broker <id>')
    const admin = new Admin(await this.kafka())
    const described = await this.withTimeout('describing configs', admin.describeConfigs(resources, {includeSynonyms: this.flags.synonyms}))
    const all = this.flags.all || this.flags.key !== undefined
    const results = described.map((r) => ({...r, configs: r.configs.filter((c) => all || !c.isDefault || (r.type === 'broker' && c.source === 'STATIC_BROKER_CONFIG'))}))
    const c = this.out.color
    for (const [i, r] of results.entries()) {
      if (i > 0) this.out.line()
      const title = `${r.type === 'topic' ? 'Topic' : 'Broker'} ${r.name === '' ? '(cluster default)' : r.name}`
      if (r.errorCode !== 0) {
        this.out.line(`${c.bold(title)}: ${c.red(r.error)}${r.errorMessage ? ` ${r.errorMessage}` : ''}`)
        continue
      }
      this.out.line(c.bold(title))
      this.out.table(
        [{header: 'Config'}, {header: 'Value'}, {header: 'Source'}, ...(this.flags.synonyms ? [{header: 'Synonyms'}] : [])],
        r.configs.map((cfg) => [
          cfg.name,
          cfg.isSensitive ? '(sensitive)' : cfg.value,
          cfg.source,
          ...(this.flags.synonyms ? [(cfg.synonyms ?? []).map((s) => `${s.source}:${s.name}=${s.value ?? ''}`).join(' ')] : []),
        ]),
      )
    }
    const result = {resources: results}
    failIfAny(results.filter((r) => r.errorCode !== 0).map((r) => ({...r, item: `${r.type} ${r.name}`})), results.length, 'resources', result)
    return result
  }
}
