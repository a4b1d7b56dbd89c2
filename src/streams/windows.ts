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

/** Kafka's WindowedSerdes.timeWindowedSerdeFrom(keySerde, windowSize). */
export const WindowedSerdes = {
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
