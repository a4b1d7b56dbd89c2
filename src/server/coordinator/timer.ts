/**
 * Time for the group coordinator: a clock and keyed one-shot timers (a member's session timeout,
 * a group's join and sync deadlines). Scheduling a key that is already scheduled replaces it, as
 * Kafka's CoordinatorTimer does, so "reset the heartbeat deadline" is one call.
 *
 * SystemTimer uses the wall clock and setTimeout (unref'd: pending deadlines never keep a process
 * alive). ManualTimer is the fake clock of the unit tests: time moves only in advance(), which
 * runs the due tasks in deadline order (ties in scheduling order), including tasks scheduled by
 * the tasks it runs when they fall due within the same advance.
 */

export interface CoordinatorTimer {
  now(): number
  schedule(key: string, delayMs: number, task: () => void): void
  cancel(key: string): void
  isScheduled(key: string): boolean
  /** Cancels everything (shutdown). */
  cancelAll(): void
}

export class SystemTimer implements CoordinatorTimer {
  private readonly timers = new Map<string, NodeJS.Timeout>()

  now(): number {
    return Date.now()
  }

  schedule(key: string, delayMs: number, task: () => void): void {
    this.cancel(key)
    const timer = setTimeout(() => {
      if (this.timers.get(key) !== timer) return
      this.timers.delete(key)
      task()
    }, Math.max(0, delayMs))
    timer.unref()
    this.timers.set(key, timer)
  }

  cancel(key: string): void {
    const timer = this.timers.get(key)
    if (timer) {
      clearTimeout(timer)
      this.timers.delete(key)
    }
  }

  isScheduled(key: string): boolean {
    return this.timers.has(key)
  }

  cancelAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }
}

interface ManualTask {
  deadline: number
  seq: number
  task: () => void
}

export class ManualTimer implements CoordinatorTimer {
  private time: number
  private seq = 0
  private readonly tasks = new Map<string, ManualTask>()

  constructor(start = 1_000_000) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  schedule(key: string, delayMs: number, task: () => void): void {
    this.tasks.set(key, {deadline: this.time + Math.max(0, delayMs), seq: this.seq++, task})
  }

  cancel(key: string): void {
    this.tasks.delete(key)
  }

  isScheduled(key: string): boolean {
    return this.tasks.has(key)
  }

  /** When a key falls due (undefined when not scheduled). */
  deadline(key: string): number | undefined {
    return this.tasks.get(key)?.deadline
  }

  cancelAll(): void {
    this.tasks.clear()
  }

  /** Moves time forward by `ms`, running every task that falls due on the way. */
  advance(ms: number): void {
    const target = this.time + ms
    for (;;) {
      let nextKey: string | undefined
      let next: ManualTask | undefined
      for (const [key, t] of this.tasks) {
        if (t.deadline > target) continue
        if (!next || t.deadline < next.deadline || (t.deadline === next.deadline && t.seq < next.seq)) {
          next = t
          nextKey = key
        }
      }
      if (!next || nextKey === undefined) break
      this.tasks.delete(nextKey)
      this.time = Math.max(this.time, next.deadline)
      next.task()
    }
    this.time = target
  }
}
