/**
 * Time windows (Kafka Streams' TimeWindows): tumbling (advance = size) and hopping windows
 * `[start, start + size)` aligned to the epoch, with a grace period: a window accepts records
 * while the task's stream time (the largest record timestamp it has seen) is before its end plus
 * grace; a record for a closed window is dropped ("Skipping record for expired window").
 * Windowed keys are written as Kafka's TimeWindowedSerializer writes them: the key bytes, then the
 * window start as 8 bytes big-endian.
 */
import type {Serde} from './serdes.js'

export interface Window {
  start: number
  end: number
}

export interface Windowed<K> {
  key: K
  window: Window
}

export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {
    if (sizeMs <= 0) throw new RangeError('Window size (sizeMs) must be larger than zero.')
    if (advanceMs <= 0 || advanceMs > sizeMs) throw new RangeError(`Window advancement interval should be more than zero and less than window duration which is ${sizeMs} ms, but given advancement interval is: ${advanceMs} ms`)
    if (graceMs < 0) throw new RangeError('Grace period must not be negative.')
  }

  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    return new TimeWindows(sizeMs, sizeMs, graceMs)
  }

  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return new TimeWindows(sizeMs, sizeMs, 0)
  }

  /** Hopping windows: a new window every `advanceMs`. */
  advanceBy(advanceMs: number): TimeWindows {
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs)
  }

  /** Kafka's TimeWindows.windowsFor: every window containing the timestamp, none with a negative start. */
  windowsFor(timestamp: number): Window[] {
    const windows: Window[] = []
    let start = Math.floor(Math.max(0, timestamp - this.sizeMs + this.advanceMs) / this.advanceMs) * this.advanceMs
    while (start <= timestamp) {
      windows.push({end: start + this.sizeMs, start})
      start += this.advanceMs
    }
    return windows
  }
}

/** Kafka's WindowedSerdes: time-windowed keys (key, start) and session-windowed keys (key, end, start). */
export const WindowedSerdes = {
  sessionWindowedSerdeFrom<K>(keySerde: Serde<K>): Serde<Windowed<K>> {
    return sessionWindowedSerde(keySerde)
  },
  timeWindowedSerdeFrom<K>(keySerde: Serde<K>, windowSizeMs: number): Serde<Windowed<K>> {
    return {
      deserialize(topic, data) {
        if (data === null) return null
        const start = Number(data.readBigInt64BE(data.length - 8))
        return {key: keySerde.deserialize(topic, data.subarray(0, data.length - 8)) as K, window: {end: start + windowSizeMs, start}}
      },
      serialize(topic, data) {
        if (data === null) return null
        const key = keySerde.serialize(topic, data.key) ?? Buffer.alloc(0)
        const out = Buffer.allocUnsafe(key.length + 8)
        key.copy(out, 0)
        out.writeBigInt64BE(BigInt(data.window.start), key.length)
        return out
      },
    }
  },
}

/**
 * Kafka's JoinWindows for stream-stream joins: records join when the other side's timestamp is
 * within [ts - before, ts + after] (both bounds inclusive); grace keeps the window open for late
 * records and delays the emission of a left/outer join's unmatched records until it closes.
 */
export class JoinWindows {
  private constructor(
    readonly beforeMs: number,
    readonly afterMs: number,
    readonly graceMs: number,
  ) {
    if (beforeMs + afterMs < 0) throw new RangeError('Window interval (ie, beforeMs+afterMs) must not be negative.')
    if (graceMs < 0) throw new RangeError('Grace period must not be negative.')
  }

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    return new JoinWindows(timeDifferenceMs, timeDifferenceMs, 0)
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): JoinWindows {
    return new JoinWindows(timeDifferenceMs, timeDifferenceMs, graceMs)
  }

  /** The other side may be up to `beforeMs` earlier. */
  before(beforeMs: number): JoinWindows {
    return new JoinWindows(beforeMs, this.afterMs, this.graceMs)
  }

  /** The other side may be up to `afterMs` later. */
  after(afterMs: number): JoinWindows {
    return new JoinWindows(this.beforeMs, afterMs, this.graceMs)
  }

  get sizeMs(): number {
    return this.beforeMs + this.afterMs
  }
}

/**
 * Kafka's SessionWindows: records of a key closer than the inactivity gap (inclusive) fall in one
 * session `[first, last]`; a record between two sessions merges them. A session accepts records
 * while its end is not before stream time - grace.
 */
export class SessionWindows {
  private constructor(
    readonly inactivityGapMs: number,
    readonly graceMs: number,
  ) {
    if (inactivityGapMs <= 0) throw new RangeError('Gap time cannot be zero or negative.')
    if (graceMs < 0) throw new RangeError('Grace period must not be negative.')
  }

  static ofInactivityGapWithNoGrace(inactivityGapMs: number): SessionWindows {
    return new SessionWindows(inactivityGapMs, 0)
  }

  static ofInactivityGapAndGrace(inactivityGapMs: number, graceMs: number): SessionWindows {
    return new SessionWindows(inactivityGapMs, graceMs)
  }
}

/** Kafka's SessionWindowedSerializer layout: the key bytes, the session end (8), the session start (8). */
export function sessionWindowedSerde<K>(keySerde: Serde<K>): Serde<Windowed<K>> {
  return {
    deserialize(topic, data) {
      if (data === null) return null
      const end = Number(data.readBigInt64BE(data.length - 16))
      const start = Number(data.readBigInt64BE(data.length - 8))
      return {key: keySerde.deserialize(topic, data.subarray(0, data.length - 16)) as K, window: {end, start}}
    },
    serialize(topic, data) {
      if (data === null) return null
      const key = keySerde.serialize(topic, data.key) ?? Buffer.alloc(0)
      const out = Buffer.allocUnsafe(key.length + 16)
      key.copy(out, 0)
      out.writeBigInt64BE(BigInt(data.window.end), key.length)
      out.writeBigInt64BE(BigInt(data.window.start), key.length + 8)
      return out
    },
  }
}

/**
 * Kafka's SlidingWindows: windows `[start, start + timeDifference]`, both ends inclusive, one
 * ending at each record (its left window, clamped to `[0, timeDifference]` early on) and one
 * starting just after it (its right window) when a later record falls in it: every distinct set
 * of records within the time difference, without a window per millisecond. Grace as for
 * TimeWindows.
 */
export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {
    if (timeDifferenceMs < 0) throw new RangeError('Window time difference must not be negative.')
    if (graceMs < 0) throw new RangeError('Window grace period must not be negative.')
  }

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return new SlidingWindows(timeDifferenceMs, 0)
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    return new SlidingWindows(timeDifferenceMs, graceMs)
  }
}
