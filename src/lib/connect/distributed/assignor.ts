/**
 * How the leader of a Connect group assigns connectors and tasks to workers.
 *
 * Incremental cooperative (protocols "compatible" and "sessioned", Kafka's
 * IncrementalCooperativeAssignor), simplified:
 *   - Each worker reports what it runs (its metadata's allocation). Work reported twice, or no
 *     longer configured, is revoked from the worker(s) that should not run it.
 *   - Connectors and tasks are balanced separately: with T items and N workers each worker's
 *     target is floor(T/N) or ceil(T/N) (the ceil going to the workers that run the most). A
 *     worker above its target has the excess revoked in this round; nothing is moved in the same
 *     round it is revoked — the revoking worker rejoins at once and the next round assigns it.
 *   - Unassigned work goes to the workers furthest below their targets (ties: lowest member id).
 *   - Lost work: what this leader assigned in its previous round (or held back) that no member
 *     reports now belongs to a worker that left without revoking. It is held back, unassigned,
 *     until scheduled.rebalance.max.delay.ms after it was first seen lost; every member gets the
 *     remaining delay and rejoins when it runs out, and then the work is assigned as new (0: at once).
 * Simplifications against Kafka's: no exponential back-off between consecutive revocation rounds;
 * lost work is not handed early to a worker that joined during the delay; a new leader (after the
 * old one left) has no memory of the previous round, so unreported work is assigned at once.
 *
 * Eager (protocol "default", Kafka's EagerAssignor): every worker revoked everything before
 * joining; each connector and then its tasks go round-robin over the members sorted by id.
 */
import type {ConnectorTaskId} from './connect-protocol.js'

export interface MemberWork {memberId: string; connectors: string[]; tasks: ConnectorTaskId[]}
export interface ConfiguredWork {connectors: string[]; tasks: ConnectorTaskId[]}
export interface MemberAssignment {connectors: string[]; tasks: ConnectorTaskId[]; revokedConnectors: string[]; revokedTasks: ConnectorTaskId[]; delay: number}

const taskKey = (t: ConnectorTaskId): string => `${t.connector}\u0000${t.task}`
const taskOf = (key: string): ConnectorTaskId => {
  const i = key.lastIndexOf('\u0000')
  return {connector: key.slice(0, i), task: Number(key.slice(i + 1))}
}

/** Sorts connector names, then task ids by connector and number. */
function sortKeys(keys: string[]): string[] {
  return keys.sort((a, b) => {
    const [ca, ta] = a.split('\u0000')
    const [cb, tb] = b.split('\u0000')
    return ca! < cb! ? -1 : ca! > cb! ? 1 : Number(ta ?? -1) - Number(tb ?? -1)
  })
}

interface CategoryResult {assigned: Map<string, string[]>; revoked: Map<string, string[]>}

/** One category (connectors or tasks) of an incremental round. */
function assignCategory(memberIds: string[], current: Map<string, string[]>, configured: Set<string>, held: Set<string>): CategoryResult {
  const assigned = new Map(memberIds.map(m => [m, [] as string[]]))
  const revoked = new Map(memberIds.map(m => [m, [] as string[]]))
  const kept = new Map(memberIds.map(m => [m, [] as string[]]))
  const seen = new Set<string>()
  for (const m of memberIds) {
    for (const k of sortKeys([...(current.get(m) ?? [])])) {
      if (!configured.has(k) || seen.has(k)) revoked.get(m)!.push(k)
      else {
        seen.add(k)
        kept.get(m)!.push(k)
      }
    }
  }
  const unassigned = sortKeys([...configured].filter(k => !seen.has(k) && !held.has(k)))
  const total = seen.size + unassigned.length
  const n = memberIds.length
  const base = Math.floor(total / n)
  let extra = total % n
  // The ceil targets go to the workers that run the most (fewest moves).
  const byLoad = [...memberIds].sort((a, b) => kept.get(b)!.length - kept.get(a)!.length || (a < b ? -1 : 1))
  const target = new Map<string, number>()
  for (const m of byLoad) target.set(m, base + (extra-- > 0 ? 1 : 0))
  for (const m of memberIds) {
    const mine = kept.get(m)!
    const excess = mine.length - target.get(m)!
    if (excess > 0) revoked.get(m)!.push(...mine.splice(mine.length - excess, excess))
  }
  for (const k of unassigned) {
    const m = [...memberIds].sort((a, b) => (kept.get(a)!.length + assigned.get(a)!.length - target.get(a)!) - (kept.get(b)!.length + assigned.get(b)!.length - target.get(b)!) || (a < b ? -1 : 1))[0]!
    assigned.get(m)!.push(k)
  }
  return {assigned, revoked}
}

export class IncrementalCooperativeAssignor {
  /** What this leader's previous round left each member running (kept + assigned). */
  private previous = new Set<string>()
  /** Lost work held back, and when it is released (0: nothing held). */
  private held = new Set<string>()
  private deadline = 0

  constructor(private readonly maxDelayMs: number, private readonly now: () => number = Date.now) {}

  assign(members: MemberWork[], configured: ConfiguredWork): Map<string, MemberAssignment> {
    const memberIds = members.map(m => m.memberId).sort()
    const connectorKeys = (list: string[]) => list.map(c => `c\u0001${c}`)
    const current = new Map(members.map(m => [m.memberId, [...connectorKeys(m.connectors), ...m.tasks.map(taskKey)]]))
    const configuredKeys = new Set([...connectorKeys(configured.connectors), ...configured.tasks.map(taskKey)])
    const reported = new Set([...current.values()].flat())
    const lost = [...this.previous, ...this.held].filter(k => configuredKeys.has(k) && !reported.has(k))
    let delay = 0
    if (lost.length > 0 && this.maxDelayMs > 0) {
      if (this.deadline === 0) this.deadline = this.now() + this.maxDelayMs
      if (this.now() < this.deadline) {
        this.held = new Set(lost)
        delay = this.deadline - this.now()
      } else {
        this.held = new Set()
        this.deadline = 0
      }
    } else {
      this.held = new Set()
      this.deadline = 0
    }
    const split = (keys: string[], connectors: boolean) => keys.filter(k => k.startsWith('c\u0001') === connectors)
    const currentOf = (connectors: boolean) => new Map([...current].map(([m, keys]) => [m, split(keys, connectors)]))
    const c = assignCategory(memberIds, currentOf(true), new Set(split([...configuredKeys], true)), new Set(split([...this.held], true)))
    const t = assignCategory(memberIds, currentOf(false), new Set(split([...configuredKeys], false)), new Set(split([...this.held], false)))
    const out = new Map<string, MemberAssignment>()
    this.previous = new Set()
    for (const m of memberIds) {
      const revokedKeys = new Set([...c.revoked.get(m)!, ...t.revoked.get(m)!])
      for (const k of current.get(m)!) if (!revokedKeys.has(k)) this.previous.add(k)
      for (const k of [...c.assigned.get(m)!, ...t.assigned.get(m)!]) this.previous.add(k)
      out.set(m, {
        connectors: c.assigned.get(m)!.map(k => k.slice(2)),
        delay,
        revokedConnectors: c.revoked.get(m)!.map(k => k.slice(2)),
        revokedTasks: t.revoked.get(m)!.map(taskOf),
        tasks: t.assigned.get(m)!.map(taskOf),
      })
    }
    return out
  }
}

/** Eager: everything, round-robin over the members sorted by id: each connector (by name), then its tasks, one circular iterator (Kafka's EagerAssignor). */
export function assignEager(memberIds: string[], configured: ConfiguredWork): Map<string, MemberAssignment> {
  const sorted = [...memberIds].sort()
  const out = new Map(sorted.map(m => [m, {connectors: [] as string[], delay: 0, revokedConnectors: [] as string[], revokedTasks: [] as ConnectorTaskId[], tasks: [] as ConnectorTaskId[]}]))
  let i = 0
  const next = () => out.get(sorted[i++ % sorted.length]!)!
  for (const c of [...configured.connectors].sort()) {
    next().connectors.push(c)
    for (const t of configured.tasks.filter(t => t.connector === c).sort((a, b) => a.task - b.task)) next().tasks.push(t)
  }
  return out
}
