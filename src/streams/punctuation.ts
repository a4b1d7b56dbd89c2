/**
 * Punctuation schedules of a task (Kafka's PunctuationQueue and PunctuationSchedule): one queue
 * for stream time, one for wall-clock time. A schedule fires when the time reaches its next
 * time; then its next time moves one interval on, or, when intervals were missed, to the first
 * interval boundary (counted from its start) after the current time: a punctuator is called once
 * however far time jumped.
 */
import type {Cancellable} from './topology.js'

interface Schedule {
  next: number
  readonly intervalMs: number
  readonly punctuator: (timestamp: number) => void
  cancelled: boolean
}

export class PunctuationQueue {
  private readonly schedules: Schedule[] = []

  /** A schedule whose first punctuation is at `startMs`. */
  schedule(startMs: number, intervalMs: number, punctuator: (timestamp: number) => void): Cancellable {
    if (!(intervalMs >= 1)) throw new RangeError(`The minimum supported scheduling interval is 1 millisecond (got ${intervalMs})`)
    const s: Schedule = {cancelled: false, intervalMs, next: startMs, punctuator}
    this.schedules.push(s)
    return {cancel: () => void (s.cancelled = true)}
  }

  /** Fires the schedules due at `now`; true when any fired. */
  mayPunctuate(now: number): boolean {
    let fired = false
    for (let i = 0; i < this.schedules.length; i++) {
      const s = this.schedules[i]!
      if (s.cancelled) {
        this.schedules.splice(i--, 1)
        continue
      }
      if (s.next > now) continue
      const scheduled = s.next
      let next = scheduled + s.intervalMs
      if (now >= next) next = now - ((now - scheduled) % s.intervalMs) + s.intervalMs
      s.next = next
      s.punctuator(now)
      fired = true
    }
    return fired
  }

  get size(): number {
    return this.schedules.length
  }
}
