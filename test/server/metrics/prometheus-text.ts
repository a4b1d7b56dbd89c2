/**
 * A strict reader of Prometheus' text exposition format 0.0.4 for the tests: every line is a
 * HELP, a TYPE or a sample; a sample belongs to the family its TYPE declared before it (with
 * _bucket/_sum/_count for histograms and summaries); label names and escapes as the format
 * allows; no series twice; a histogram's buckets cumulative, ending at le="+Inf" equal to its
 * _count. Throws with the line number on the first violation.
 */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: string
  help: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/**
 * A sample value as Prometheus reads it (Go's strconv.ParseFloat: NaN and Inf in any case —
 * prom-client writes NaN as "Nan", e.g. nodejs_eventloop_lag_mean_seconds before its first sample).
 */
function parseValue(text: string, where: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity
  if (/^-inf(inity)?$/i.test(text)) return -Infinity
  if (/^nan$/i.test(text)) return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`)
  return Number(text)
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    const eq = text.indexOf('=', i)
    if (eq < 0) throw new Error(`${where}: label without '='`)
    const name = text.slice(i, eq)
    if (!LABEL.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`)
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`)
    let value = ''
    let j = eq + 2
    for (;;) {
      const c = text[j]
      if (c === undefined) throw new Error(`${where}: unterminated label value`)
      if (c === '"') break
      if (c === '\\') {
        const next = text[j + 1]
        if (next === 'n') value += '\n'
        else if (next === '\\' || next === '"') value += next
        else throw new Error(`${where}: bad escape \\${next}`)
        j += 2
        continue
      }
      if (c === '\n') throw new Error(`${where}: newline in label value`)
      value += c
      j++
    }
    if (name in labels) throw new Error(`${where}: label ${name} twice`)
    labels[name] = value
    i = j + 1
    if (text[i] === ',') i++
    else if (i !== text.length) throw new Error(`${where}: expected ',' after a label`)
  }
  return labels
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline')
  const families = new Map<string, Family>()
  const seen = new Set<string>()
  let current: Family | undefined
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1} (${line})`
      if (line === '') return
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
        if (!m) return // a comment
        const [, kind, name, rest] = m as unknown as [string, string, string, string]
        if (!NAME.test(name)) throw new Error(`${where}: bad metric name`)
        let family = families.get(name)
        if (!family) families.set(name, (family = {name, type: 'untyped', help: '', samples: []}))
        else if (family !== current) throw new Error(`${where}: family ${name} is not contiguous`)
        if (kind === 'TYPE') {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`)
          if (family.samples.length > 0) throw new Error(`${where}: TYPE after samples`)
          family.type = rest
        } else {
          family.help = rest
        }
        current = family
        return
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line)
      if (!m) throw new Error(`${where}: not a sample`)
      const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string]
      const labels = labelText ? parseLabels(labelText, where) : {}
      const value = parseValue(valueText, where)
      const base = current && (name === current.name || ((current.type === 'histogram' || current.type === 'summary') && [`${current.name}_bucket`, `${current.name}_sum`, `${current.name}_count`].includes(name)))
      if (!base) throw new Error(`${where}: sample outside its family (${current?.name ?? 'none'})`)
      const key = `${name}{${Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`
      if (seen.has(key)) throw new Error(`${where}: series ${key} twice`)
      seen.add(key)
      if (current!.type === 'counter' && !(value >= 0)) throw new Error(`${where}: a counter below zero`)
      current!.samples.push({name, labels, value})
    })
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family)
  return families
}

function checkHistogram(family: Family): void {
  const series = new Map<string, {buckets: Array<{le: number; value: number}>; count?: number}>()
  const keyOf = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort())
  for (const s of family.samples) {
    const key = keyOf(s.labels)
    let entry = series.get(key)
    if (!entry) series.set(key, (entry = {buckets: []}))
    if (s.name.endsWith('_bucket')) {
      if (s.labels.le === undefined) throw new Error(`${family.name}: a bucket without le`)
      entry.buckets.push({le: parseValue(s.labels.le, family.name), value: s.value})
    } else if (s.name.endsWith('_count')) entry.count = s.value
  }
  for (const [key, {buckets, count}] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]!.le > buckets[i - 1]!.le)) throw new Error(`${family.name}${key}: buckets not in increasing le`)
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${family.name}${key}: buckets not cumulative`)
    }
    const last = buckets.at(-1)
    if (!last || last.le !== Infinity) throw new Error(`${family.name}${key}: no le="+Inf" bucket`)
    if (last.value !== count) throw new Error(`${family.name}${key}: +Inf bucket ${last.value} is not _count ${count}`)
  }
}

/** The sum of a family's samples named `name` whose labels include `match`. */
export function sumOf(families: Map<string, Family>, family: string, match: Record<string, string | undefined> = {}, name = family): number {
  const f = families.get(family)
  if (!f) return 0
  return f.samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => (v === undefined ? !(k in s.labels) : s.labels[k] === v)))
    .reduce((n, s) => n + s.value, 0)
}
