/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof) as text: total sampled time, the share spent idle,
 * in GC and in the program, and the top functions by self time and by inclusive (total) time.
 * Issue 19 keeps these summaries next to the bench instead of the profiles themselves.
 *
 *   npx tsx bench/throughput/profile-summary.ts produce.cpuprofile [top=30]
 */
import * as fs from 'node:fs'

interface Node {
  id: number
  callFrame: {functionName: string; url: string; lineNumber: number}
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

// --window FROM,TO: only samples between two CLOCK_MONOTONIC instants in µs (V8's profile clock;
// e.g. python3 -c 'import time; print(int(time.monotonic() * 1e6))' around a phase of the load).
const args = process.argv.slice(2)
const w = args.indexOf('--window')
const [fromUs, toUs] = w >= 0 ? args.splice(w, 2)[1]!.split(',').map(Number) : [-Infinity, Infinity]
const [file, topArg] = args
const TOP = Number(topArg ?? 30)
const profile = JSON.parse(fs.readFileSync(file!, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

// Start-up (module loading, oclif) is not the request path: samples under a module loader or
// before the first request is read are left out and reported on their own.
const isStartup = (id: number): boolean => {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const url = byId.get(at)!.callFrame.url
    if (url.startsWith('node:internal/modules') || url.includes('@oclif/core')) return true
  }
  return false
}
const readsRequest = (id: number): boolean => {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)!.callFrame.functionName === 'onStreamRead') return true
  return false
}
const selfUs = new Map<number, number>()
let startupUs = 0
let started = false
let at = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0
  const id = profile.samples[i]!
  at += profile.timeDeltas[i] ?? 0
  if (at < fromUs! || at > toUs!) continue
  started ||= readsRequest(id)
  if (!started || isStartup(id)) {
    startupUs += dt
    continue
  }
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt)
}
const where = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(dist|src|node_modules)\//, '$1/').replace(/^node:/, 'node:')
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim()
}
const self = new Map<string, number>()
const total = new Map<string, number>()
let all = 0
for (const [id, us] of selfUs) {
  all += us
  const n = byId.get(id)!
  self.set(where(n), (self.get(where(n)) ?? 0) + us)
  // Inclusive: each distinct function on the stack once.
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const w = where(byId.get(at)!)
    if (seen.has(w)) continue
    seen.add(w)
    total.set(w, (total.get(w) ?? 0) + us)
  }
}
const pick = (name: string) => [...self].filter(([k]) => k.startsWith(`${name} `) || k === name).reduce((s, [, v]) => s + v, 0)
const idle = pick('(idle)')
const gc = pick('(garbage collector)')
const busy = all - idle
const ms = (us: number) => (us / 1000).toFixed(1).padStart(8)
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`
const out: string[] = []
out.push(`profile ${file}: ${ms(startupUs).trim()} ms of start-up left out; ${ms(all).trim()} ms sampled, ${ms(idle).trim()} ms idle, ${ms(busy).trim()} ms busy (GC ${ms(gc).trim()} ms, ${pct(gc).trim()} of busy)`)
out.push('', `top ${TOP} by self time (share of busy time):`)
for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, TOP)) out.push(`${ms(v)} ms ${pct(v)}  ${k}`)
out.push('', `top ${TOP} by total time (inclusive):`)
for (const [k, v] of [...total].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, TOP)) out.push(`${ms(v)} ms ${pct(v)}  ${k}`)
process.stdout.write(`${out.join('\n')}\n`)
