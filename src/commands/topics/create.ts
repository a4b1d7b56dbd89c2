import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin, type CreateTopicResult} from '../../lib/client/admin.js'
import {failIfAny, parseKeyValues} from '../../lib/client/cli-input.js'
import {ErrorCode} from '../../lib/client/errors.js'

export interface TopicsCreateResult {
  topics: (CreateTopicResult & {created: boolean})[]
}

export default class TopicsCreate extends BaseCommand<typeof TopicsCreate> {
  static override args = {
    topic: Args.string({description: 'Topic name(s) to create.', required: true}),
  }
  static override description = `Creates one or more topics. Without --partitions or --replication-factor the broker's defaults (num.partitions, default.replication.factor) apply. --if-not-exists makes an existing topic a success. Exits 1 if any topic could not be created; with --json the per-topic results are still printed.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> orders --partitions 6 --replication-factor 3', description: 'Create a topic with 6 partitions, 3 replicas each.'},
    {command: '<%= config.bin %> <%= command.id %> events --config retention.ms=86400000 --config cleanup.policy=compact', description: 'With topic configs.'},
    {command: '<%= config.bin %> <%= command.id %> a b c --if-not-exists --json', description: 'Several topics, idempotently, as JSON.'},
  ]
  static override flags = {
    config: Flags.string({char: 'c', helpValue: '<key=value>', multiple: true, summary: 'A topic config (repeatable).'}),
    'if-not-exists': Flags.boolean({summary: 'Succeed when the topic already exists.'}),
    partitions: Flags.integer({char: 'p', min: 1, summary: 'Number of partitions (default: the broker\'s num.partitions).'}),
    'replication-factor': Flags.integer({char: 'r', min: 1, summary: 'Replicas per partition (default: the broker\'s default.replication.factor).'}),
    'validate-only': Flags.boolean({summary: 'Ask the broker to check the request without creating anything.'}),
  }
  static override strict = false
  static override summary = 'Create topics.'

  async run(): Promise<TopicsCreateResult> {
    const names = this.positionals
    const configs = parseKeyValues(this.flags.config, '--config')
    const admin = new Admin(await this.kafka())
    const results = await this.withTimeout(
      'creating topics',
      admin.createTopics(
        names.map((name) => ({configs, name, numPartitions: this.flags.partitions ?? -1, replicationFactor: this.flags['replication-factor'] ?? -1})),
        {timeoutMs: this.flags.timeout, validateOnly: this.flags['validate-only']},
      ),
    )
    const ifNotExists = this.flags['if-not-exists']
    const topics = results.map((r) => ({...r, created: r.errorCode === 0 && !this.flags['validate-only']}))
    const c = this.out.color
    this.out.table(
      [{header: 'Topic'}, {header: 'Result'}, {align: 'right', header: 'Partitions'}, {align: 'right', header: 'Replicas'}, {header: 'Topic ID'}],
      topics.map((t) => [
        t.name,
        t.errorCode === 0 ? c.green(this.flags['validate-only'] ? 'valid' : 'created') : t.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && ifNotExists ? c.dim('exists') : c.red(t.error),
        t.numPartitions >= 0 ? t.numPartitions : '',
        t.replicationFactor >= 0 ? t.replicationFactor : '',
        t.topicId ?? '',
      ]),
    )
    const failed = topics.filter((t) => t.errorCode !== 0 && !(ifNotExists && t.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS))
    const result = {topics}
    failIfAny(failed.map((t) => ({...t, item: `topic ${t.name}`})), topics.length, 'topics', result)
    return result
  }
}
