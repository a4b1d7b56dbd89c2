import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {Admin, type ConfigResourceKind, type ItemResult} from '../../lib/client/admin.js'
import {failIfAny, parseKeyValues} from '../../lib/client/cli-input.js'

export interface ConfigsAlterResult {
  resources: (ItemResult & {type: ConfigResourceKind; name: string; set: Record<string, string>; deleted: string[]})[]
}

export default class ConfigsAlter extends BaseCommand<typeof ConfigsAlter> {
  static override description = `Sets (--add-config k=v, comma-separated or repeated) or removes (--delete-config k) configs of topics or brokers, as kafka-configs --alter does. Uses IncrementalAlterConfigs, or AlterConfigs with the other dynamic configs kept on brokers that lack it.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --topic orders --add-config retention.ms=86400000,max.message.bytes=2097152', description: 'Two topic configs.'},
    {command: '<%= config.bin %> <%= command.id %> --broker 1 --add-config log.cleaner.threads=2', description: 'A dynamic broker config.'},
    {command: '<%= config.bin %> <%= command.id %> --topic orders --delete-config retention.ms --json', description: 'Back to the default.'},
  ]
  static override flags = {
    'add-config': Flags.string({aliases: ['config', 'set'], helpValue: '<k=v,...>', multiple: true, summary: 'Configs to set.'}),
    broker: Flags.string({helpValue: '<id>', multiple: true, summary: 'A broker id; "" for the cluster-wide broker default.'}),
    'delete-config': Flags.string({helpValue: '<k,...>', multiple: true, summary: 'Configs to remove.'}),
    topic: Flags.string({char: 't', helpValue: '<name>', multiple: true, summary: 'A topic (repeatable).'}),
    'validate-only': Flags.boolean({summary: 'Check without applying.'}),
  }
  static override summary = 'Change topic or broker configs.'

  async run(): Promise<ConfigsAlterResult> {
    const set = parseKeyValues(this.flags['add-config'], '--add-config')
    const deleted = (this.flags['delete-config'] ?? []).flatMap((k) => k.split(',')).map((k) => k.trim()).filter(Boolean)
    if (Object.keys(set).length === 0 && deleted.length === 0) throw new UsageError('nothing to change: give --add-config k=v or --delete-config k')
    const targets = [
      ...(this.flags.topic ?? []).map((name) => ({name, type: 'topic' as const})),
      ...(this.flags.broker ?? []).map((name) => ({name, type: 'broker' as const})),
    ]
    if (targets.length === 0) throw new UsageError('give --topic <name> or --broker <id>')
    const admin = new Admin(await this.kafka())
    const results = await this.withTimeout('altering configs', admin.alterConfigs(targets.map((t) => ({...t, delete: deleted, set})), {validateOnly: this.flags['validate-only']}))
    const resources = results.map((r) => ({...r, set, deleted}))
    const c = this.out.color
    this.out.table(
      [{header: 'Resource'}, {header: 'Result'}, {header: 'Changes'}],
      resources.map((r) => [
        `${r.type} ${r.name === '' ? '(default)' : r.name}`,
        r.errorCode === 0 ? c.green(this.flags['validate-only'] ? 'valid' : 'altered') : c.red(r.error),
        [...Object.entries(set).map(([k, v]) => `${k}=${v}`), ...deleted.map((k) => `-${k}`)].join(' '),
      ]),
    )
    const result = {resources}
    failIfAny(resources.filter((r) => r.errorCode !== 0).map((r) => ({...r, item: `${r.type} ${r.name}`})), resources.length, 'resources', result)
    return result
  }
}
