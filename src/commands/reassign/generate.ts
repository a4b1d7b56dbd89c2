import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {checkBrokersExist, readDocument} from '../../lib/client/plan-input.js'
import {
  balancedPlan,
  formatReassignmentJson,
  generateKafkaPlan,
  parseBrokerList,
  parseTopicsToMoveJson,
  type ReassignmentJson,
  replicasToCopy,
  toReassignmentJson,
} from '../../lib/client/reassignment-plan.js'

export interface ReassignGenerateResult {
  /** 'kafka': Kafka's --generate over --broker-list; 'balanced': --add-broker / --remove-broker, fewest moves. */
  mode: 'balanced' | 'kafka'
  topics: string[]
  /** The brokers the plan spreads the replicas over. */
  brokers: number[]
  current: ReassignmentJson
  proposed: ReassignmentJson
  /** Replicas the plan copies to a broker that does not hold them yet. */
  replicasToCopy: number
  /** Per broker: replicas and preferred leaders before and after. */
  load: {broker: number; replicasBefore: number; replicasAfter: number; leadersBefore: number; leadersAfter: number}[]
}

export default class ReassignGenerate extends BaseCommand<typeof ReassignGenerate> {
  static override description = `Proposes a partition reassignment in Kafka's JSON format, as kafka-reassign-partitions.sh --generate does: with --broker-list, each topic's partitions are assigned afresh over those brokers (Kafka's assignment, every partition may move). With --add-broker and/or --remove-broker, kcli plans instead a balanced assignment over the cluster's brokers (or --broker-list) plus the added and minus the removed ones that moves as few replicas as possible: replicas leave removed brokers, then single replicas move from the most to the least loaded brokers until each topic and all of them are within one replica per broker, then preferred leaders are spread by reordering replicas. Topics come from --topics-to-move-json-file ({"version":1,"topics":[{"topic":"foo"}]}), --topic, or (with --add-broker/--remove-broker only) every non-internal topic. Nothing is changed: save the proposed JSON and give it to \`kcli reassign execute\`.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --topics-to-move-json-file topics.json --broker-list 1,2,3', description: "Kafka's --generate."},
    {command: '<%= config.bin %> <%= command.id %> --add-broker 4 --json | jq .proposed > plan.json', description: 'Spread every topic onto a new broker 4, moving as little as possible.'},
    {command: '<%= config.bin %> <%= command.id %> --topic orders --remove-broker 3', description: 'Move the replicas of orders off broker 3.'},
  ]
  static override flags = {
    'add-broker': Flags.integer({helpValue: '<id>', min: 0, multiple: true, summary: 'A broker to spread replicas onto (repeatable); plans a balanced, minimal-move assignment.'}),
    'broker-list': Flags.string({helpValue: '<id,id,...>', summary: 'The brokers to assign replicas to (Kafka\'s --broker-list).'}),
    'include-internal': Flags.boolean({summary: 'With --add-broker/--remove-broker and no topics named: include internal topics.'}),
    'remove-broker': Flags.integer({helpValue: '<id>', min: 0, multiple: true, summary: 'A broker to move every replica off (repeatable); plans a balanced, minimal-move assignment.'}),
    topic: Flags.string({char: 't', helpValue: '<name>', multiple: true, summary: 'A topic to reassign (repeatable).'}),
    'topics-to-move-json-file': Flags.string({helpValue: '<file>', summary: "Topics to reassign, in Kafka's JSON ('-': standard input)."}),
  }
  static override summary = 'Propose a partition reassignment plan (Kafka JSON).'

  async run(): Promise<ReassignGenerateResult> {
    const {flags} = this
    const added = flags['add-broker'] ?? []
    const removed = flags['remove-broker'] ?? []
    const balanced = added.length > 0 || removed.length > 0
    if (flags['topics-to-move-json-file'] !== undefined && flags.topic !== undefined) throw new UsageError('give --topics-to-move-json-file or --topic, not both')
    if (!balanced && flags['broker-list'] === undefined) throw new UsageError('give --broker-list (or --add-broker / --remove-broker for a balanced plan)')
    const overlap = added.filter((b) => removed.includes(b))
    if (overlap.length > 0) throw new UsageError(`broker ${overlap[0]} is both added and removed`)
    let topics: string[] | undefined = flags.topic
    if (flags['topics-to-move-json-file'] !== undefined) {
      const {text, what} = await readDocument(flags['topics-to-move-json-file'], '--topics-to-move-json-file')
      topics = parseTopicsToMoveJson(text, what)
    }
    if (topics === undefined && !balanced) throw new UsageError('give --topics-to-move-json-file or --topic')
    const listed = flags['broker-list'] === undefined ? undefined : parseBrokerList(flags['broker-list'], '--broker-list')

    const {ClusterOperations} = await import('../../lib/client/reassignment.js')
    const ops = new ClusterOperations(await this.kafka())
    const clusterBrokers = await this.withTimeout('describing the cluster', ops.brokerIds())
    const check = (ids: readonly number[]) => checkBrokersExist([{topic: '', partition: 0, replicas: [...ids]}], clusterBrokers)
    if (listed) check(listed)
    check(added)
    check(removed)

    const metadata = await this.withTimeout('reading topic metadata', ops.topicMetadata(topics ?? null))
    const chosen = metadata.topics.filter((t) => topics !== undefined || flags['include-internal'] || !t.isInternal)
    const current = chosen.flatMap((t) => t.partitions.map((p) => ({topic: t.name, partition: p.partition, replicas: p.replicas})))
    const brokers = balanced ? [...new Set([...(listed ?? clusterBrokers), ...added])].filter((b) => !removed.includes(b)).sort((a, b) => a - b) : listed!
    const proposed = balanced ? balancedPlan(current, brokers) : generateKafkaPlan(current, brokers)
    const moving = new Set(proposed.map((p) => `${p.topic}-${p.partition}`))
    const currentShown = balanced ? current.filter((p) => moving.has(`${p.topic}-${p.partition}`)) : current

    const load = loadTable(current, proposed, [...new Set([...brokers, ...current.flatMap((p) => p.replicas)])].sort((a, b) => a - b))
    const result: ReassignGenerateResult = {
      mode: balanced ? 'balanced' : 'kafka',
      topics: chosen.map((t) => t.name).sort(),
      brokers,
      current: toReassignmentJson(currentShown),
      proposed: toReassignmentJson(proposed),
      replicasToCopy: replicasToCopy(current, proposed),
      load,
    }

    if (balanced && proposed.length === 0) {
      this.out.line(`Nothing to move: the replicas of ${result.topics.length} topic${result.topics.length === 1 ? '' : 's'} are already spread evenly over brokers ${brokers.join(',')}.`)
      return result
    }
    this.out.line('Current partition replica assignment')
    this.out.line(formatReassignmentJson(currentShown))
    this.out.line()
    this.out.line('Proposed partition reassignment configuration')
    this.out.line(formatReassignmentJson(proposed))
    if (balanced) {
      this.out.line()
      this.out.line(`${proposed.length} partition${proposed.length === 1 ? '' : 's'} change, ${result.replicasToCopy} replica${result.replicasToCopy === 1 ? '' : 's'} to copy.`)
      this.out.table(
        [{align: 'right', header: 'Broker'}, {align: 'right', header: 'Replicas'}, {align: 'right', header: 'After'}, {align: 'right', header: 'Leaders'}, {align: 'right', header: 'After'}],
        load.map((l) => [l.broker, l.replicasBefore, l.replicasAfter, l.leadersBefore, l.leadersAfter]),
      )
    }
    return result
  }
}

function loadTable(current: readonly {topic: string; partition: number; replicas: number[]}[], proposed: readonly {topic: string; partition: number; replicas: number[]}[], brokers: readonly number[]): ReassignGenerateResult['load'] {
  const after = new Map(current.map((p) => [`${p.topic}-${p.partition}`, p.replicas]))
  for (const p of proposed) after.set(`${p.topic}-${p.partition}`, p.replicas)
  const count = (lists: Iterable<number[]>, broker: number, leaderOnly: boolean) => {
    let n = 0
    for (const r of lists) n += leaderOnly ? Number(r[0] === broker) : Number(r.includes(broker))
    return n
  }
  const before = current.map((p) => p.replicas)
  return brokers.map((broker) => ({
    broker,
    replicasBefore: count(before, broker, false),
    replicasAfter: count(after.values(), broker, false),
    leadersBefore: count(before, broker, true),
    leadersAfter: count(after.values(), broker, true),
  }))
}
