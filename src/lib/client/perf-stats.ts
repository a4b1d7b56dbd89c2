// Measurements of `kcli perf`: latency percentiles from recorded samples, throughput, and a
// progress bar on a terminal (stderr, redrawn in place at most every 200 ms).

export interface LatencySummary {
  avgMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
}

/** Percentiles (nearest rank) of `samples` (ms); sorts them in place. */
export function summarizeLatencies(samples: Float64Array): LatencySummary {
  if (samples.length === 0) return {avgMs: 0, maxMs: 0, p50Ms: 0, p95Ms: 0, p999Ms: 0, p99Ms: 0}
  samples.sort()
  let sum = 0
  for (const s of samples) sum += s
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.max(0, Math.ceil(q * samples.length) - 1))]!
  const round = (n: number) => Math.round(n * 1000) / 1000
  return {avgMs: round(sum / samples.length), maxMs: round(samples.at(-1)!), p50Ms: round(at(0.5)), p95Ms: round(at(0.95)), p999Ms: round(at(0.999)), p99Ms: round(at(0.99))}
}

export class ProgressBar {
  private last = 0
  private drawn = false

  constructor(
    private readonly stream: {isTTY?: boolean; write(chunk: string): unknown},
    private readonly total: number,
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  update(done: number, bytes: number, startedAt: number, force = false): void {
    if (!this.enabled) return
    const now = performance.now()
    if (!force && now - this.last < 200) return
    this.last = now
    const elapsed = Math.max(0.001, (now - startedAt) / 1000)
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 0
    const width = 30
    const filled = Math.round(fraction * width)
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
    const rate = Math.round(done / elapsed)
    const mb = bytes / elapsed / (1024 * 1024)
    this.stream.write(`\r${this.label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${this.total} ${rate} rec/s ${mb.toFixed(1)} MiB/s `)
    this.drawn = true
  }

  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\u001B[2K')
  }
}
