// kcli top (issue 16): a live view of a cluster — kcli's or Apache Kafka's — refreshed every
// --interval: brokers with their leader and replica counts and messages in per second, the busiest
// topics, under-replicated and offline partitions, and the consumer groups with the largest lag.
// q or Ctrl-C exits. --once (and --json, or stdout not a terminal) prints one snapshot, its rates
// measured over one --interval. The figures are src/lib/client/cluster-top.ts's.
import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {TimeoutError} from '../../lib/cli/errors.js'
import {Admin} from '../../lib/client/admin.js'
import {clusterTop, type TopSnapshot} from '../../lib/client/cluster-top.js'

export type TopResult = TopSnapshot

export default class Top extends BaseCommand<typeof Top> {
  static override summary = 'Watch a cluster: brokers, throughput, under-replicated partitions, consumer lag.'
  static override description = `A live terminal view of a cluster (kcli's or Apache Kafka's), refreshed every --interval: the brokers with the partitions they lead and hold, their under-replicated partitions and messages in per second (the growth of the log end offsets of the partitions they lead), the busiest topics, the under-replicated and offline partitions, and the consumer groups with the largest lag. q or Ctrl-C exits. --once, --json, or a stdout that is not a terminal print one snapshot, with rates measured over one --interval.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Watch the cluster at 127.0.0.1:9092.'},
    {command: '<%= config.bin %> <%= command.id %> --once --json', description: 'One snapshot as JSON (rates over 2 s).'},
  ]
  static override flags = {
    interval: Flags.integer({default: 2000, min: 100, helpValue: '<ms>', summary: 'Refresh interval, and the window rates are measured over.'}),
    once: Flags.boolean({default: false, summary: 'Print one snapshot and exit.'}),
    groups: Flags.integer({default: 10, min: 0, helpValue: '<n>', summary: 'Consumer groups shown, largest lag first.'}),
  }

  async run(): Promise<TopResult> {
    const admin = new Admin(await this.kafka())
    const {interval, groups: maxGroups} = this.flags
    const live = !this.flags.once && !this.jsonEnabled() && this.out.isTTY && process.stdin.isTTY === true
    if (!live) {
      const {sample: _sample, ...snapshot} = await this.sampled('sampling the cluster', clusterTop(admin, {intervalMs: interval, maxGroups}), interval)
      this.render(snapshot)
      return snapshot
    }
    // Live: redraw until q or Ctrl-C (raw mode: keys arrive one by one).
    let quit = false
    let wake: (() => void) | undefined
    const stdin = process.stdin
    stdin.setRawMode(true)
    stdin.resume()
    const onKey = (key: Buffer) => {
      const k = key.toString()
      if (k === 'q' || k === 'Q' || k === '\u0003') {
        quit = true
        wake?.()
      }
    }
    stdin.on('data', onKey)
    let last: TopSnapshot | undefined
    try {
      let previous: {at: number; endOffsets: Map<string, bigint>} | undefined
      while (!quit) {
        const {sample, ...snapshot} = await this.sampled('sampling the cluster', clusterTop(admin, {intervalMs: interval, maxGroups, previous}), interval)
        previous = sample
        last = snapshot
        process.stdout.write('\u001b[H\u001b[2J')
        this.render(snapshot)
        this.out.line(this.out.color.dim(`every ${interval} ms — q to quit`))
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, interval)
        })
      }
    } finally {
      stdin.off('data', onKey)
      stdin.setRawMode(false)
      stdin.pause()
    }
    return last!
  }

  /** withTimeout with room for the sampling interval: --timeout plus the interval. */
  private sampled<T>(what: string, work: Promise<T>, intervalMs: number): Promise<T> {
    const ms = this.flags.timeout + intervalMs
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms)
      work.then(
        (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        (e: unknown) => {
          clearTimeout(timer)
          reject(e)
        },
      )
    })
  }

  private render(s: TopSnapshot): void {
    const c = this.out.color
    this.out.keyValues([
      ['Cluster', s.clusterId ?? '(none)'],
      ['Controller', s.controllerId],
      ['Under-replicated', s.underReplicatedPartitions.length > 0 ? c.yellow(s.underReplicatedPartitions.length) : 0],
      ['Offline', s.offlinePartitions > 0 ? c.red(s.offlinePartitions) : 0],
      ['Window', `${s.intervalMs} ms`],
    ])
    this.out.line()
    this.out.table(
      [{align: 'right', header: 'Broker'}, {header: 'Address'}, {header: 'Role'}, {align: 'right', header: 'Leaders'}, {align: 'right', header: 'Replicas'}, {align: 'right', header: 'Under-replicated'}, {align: 'right', header: 'Msgs in/s'}],
      s.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`, b.controller ? c.cyan('controller') : '', b.leaders, b.replicas, b.underReplicated > 0 ? c.yellow(b.underReplicated) : 0, b.messagesInPerSec]),
    )
    this.out.line()
    this.out.table(
      [{header: 'Topic'}, {align: 'right', header: 'Partitions'}, {align: 'right', header: 'Msgs in/s'}, {align: 'right', header: 'Under-replicated'}],
      s.topics.slice(0, 10).map((t) => [t.topic, t.partitions, t.messagesInPerSec, t.underReplicated > 0 ? c.yellow(t.underReplicated) : 0]),
    )
    if (s.underReplicatedPartitions.length > 0) {
      this.out.line()
      this.out.table(
        [{header: 'Under-replicated partition'}, {align: 'right', header: 'Leader'}, {header: 'Replicas'}, {header: 'ISR'}],
        s.underReplicatedPartitions.slice(0, 10).map((p) => [`${p.topic}-${p.partition}`, p.leader, p.replicas.join(','), p.isr.join(',')]),
      )
    }
    if (s.groups.length > 0) {
      this.out.line()
      this.out.table(
        [{header: 'Group'}, {header: 'State'}, {align: 'right', header: 'Lag'}, {align: 'right', header: 'Partitions'}],
        s.groups.map((g) => [g.group, g.state ?? '', g.lag, g.partitions.length]),
      )
    }
  }
}
