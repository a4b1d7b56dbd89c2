// Records per second through the PostgreSQL sink task at batch.size 1, 100 and 1000.
//
//   npx tsx bench/connect/pg-sink.ts [--records 50000] [--records-batch1 10000] [--repeats 3] [--put 1000]
//
// Two statement forms are compared in the same run (PostgresSinkTask's constructor option):
// `unnest` (one array parameter per column) and `values` (one parameter per value); the task's
// default (`auto`) is `values` below 8 rows per statement and `unnest` from there on.
// batch.size 1 writes only the first `--records-batch1` records (a statement per record is slow).
//
// A private PostgreSQL 15 (test/e2e/postgres.ts: initdb in a temporary directory, 127.0.0.1,
// fsync off — the figures are the connector's and the protocol's cost, not the disk's), removed at
// the end. Per repeat the six cases (3 batch sizes x 2 forms) run in a rotating order, each into a new table
// (auto.create) with `insert.mode=upsert`, `pk.mode=record_key` (int64 key), a 4-field struct
// value (~60 B); keys cycle over records/2 values so half the rows are inserts and half updates.
// The records are built before timing; put() is called with `--put` records at a time (a
// consumer poll's worth) and flush() at the end, as the runtime would. Time: the puts and the
// flush. CPU: this process's user+system time over the same span (the task runs here;
// PostgreSQL's own CPU is reported separately from /proc of its processes). Memory: this
// process's largest RSS sampled every 50 ms.

import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'
import type {SinkRecord} from '../../src/lib/connect/api.js'
import {Schemas, Struct, structSchema} from '../../src/lib/connect/data.js'
import {PostgresSinkTask} from '../../src/lib/connect/postgres/index.js'
import type {SinkStatementForm} from '../../src/lib/connect/postgres/sink.js'
import {startPostgres} from '../../test/e2e/postgres.js'

const {values: options} = parseArgs({options: {records: {default: '50000', type: 'string'}, repeats: {default: '3', type: 'string'}, put: {default: '1000', type: 'string'}, 'records-batch1': {default: '10000', type: 'string'}}})
const RECORDS = Number(options.records)
const REPEATS = Number(options.repeats)
const PUT = Number(options.put)
const RECORDS_BATCH1 = Math.min(RECORDS, Number(options['records-batch1']))
const BATCHES = [1, 100, 1000]
const FORMS: SinkStatementForm[] = ['unnest', 'values']
const CASES = BATCHES.flatMap(batchSize => FORMS.map(form => ({batchSize, form})))

const VALUE = structSchema([['name', Schemas.STRING], ['qty', {type: 'int32', optional: true}], ['price', {type: 'float64', optional: true}], ['note', {type: 'string', optional: true}]], {name: 'item'})
const records: SinkRecord[] = Array.from({length: RECORDS}, (_, i) => ({
  topic: 'bench', kafkaPartition: 0, kafkaOffset: i, keySchema: Schemas.INT64, key: i % Math.max(1, Math.floor(RECORDS / 2)),
  valueSchema: VALUE, value: new Struct(VALUE).put('name', `name-${i}`).put('qty', i % 1000).put('price', i / 7).put('note', 'a note of some length'),
  timestamp: null,
}))

/** user+system CPU seconds of the postgres processes (children of the postmaster) from /proc. */
function postgresCpuSeconds(): number {
  let ticks = 0
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      if (comm !== 'postgres') continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // the process ended
    }
  }
  return ticks / 100
}

const pg = await startPostgres()
const results: Array<{batchSize: number; form: SinkStatementForm; records: number; repeat: number; seconds: number; recordsPerSecond: number; cpuSecondsPerMillion: number; postgresCpuSecondsPerMillion: number; maxRssMiB: number}> = []
let run = 0
try {
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const order = CASES.map((_, i) => CASES[(i + repeat) % CASES.length]!)
    for (const {batchSize, form} of order) {
      run++
      const task = new PostgresSinkTask(form)
      await task.start({'connection.url': pg.jdbcUrl, 'connection.user': pg.user, 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'id', 'auto.create': 'true', 'batch.size': String(batchSize), 'table.name.format': `bench_${run}`})
      await task.put(records.slice(0, 1)) // create the table outside the timed span
      let maxRss = process.memoryUsage().rss
      const sampler = setInterval(() => { maxRss = Math.max(maxRss, process.memoryUsage().rss) }, 50)
      const cpu0 = process.cpuUsage()
      const pgCpu0 = postgresCpuSeconds()
      const t0 = performance.now()
      const n = batchSize === 1 ? RECORDS_BATCH1 : RECORDS
      for (let i = 0; i < n; i += PUT) await task.put(records.slice(i, Math.min(n, i + PUT)))
      await task.flush(new Map())
      const seconds = (performance.now() - t0) / 1000
      const cpu = process.cpuUsage(cpu0)
      const pgCpu = postgresCpuSeconds() - pgCpu0
      clearInterval(sampler)
      await task.stop()
      const rows = Number((await pg.query(`SELECT count(*) AS n FROM bench_${run}`)).rows[0].n)
      const expected = new Set(records.slice(0, n).map(r => r.key)).size
      if (rows !== expected) throw new Error(`bench_${run} holds ${rows} rows, expected ${expected}`)
      const r = {batchSize, form, records: n, repeat, seconds, recordsPerSecond: n / seconds, cpuSecondsPerMillion: ((cpu.user + cpu.system) / 1e6) / (n / 1e6), postgresCpuSecondsPerMillion: pgCpu / (n / 1e6), maxRssMiB: maxRss / 2 ** 20}
      results.push(r)
      console.log(JSON.stringify(r))
    }
  }
} finally {
  await pg.stop()
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const lines = [
  `# PostgreSQL sink task: records/s by batch.size`,
  '',
  `\`npx tsx bench/connect/pg-sink.ts --records ${RECORDS} --records-batch1 ${RECORDS_BATCH1} --repeats ${REPEATS} --put ${PUT}\` on ${new Date().toISOString()}, load average ${loadavg().map(l => l.toFixed(1)).join(' ')} at the end, Node ${process.version}.`,
  '',
  '| batch.size | statement | k records/s median [min–max] | task CPU s / M records | PostgreSQL CPU s / M records | max RSS MiB |',
  '|---:|---|---:|---:|---:|---:|',
  ...CASES.map(({batchSize, form}) => {
    const rs = results.filter(r => r.batchSize === batchSize && r.form === form)
    const rate = rs.map(r => r.recordsPerSecond / 1000)
    return `| ${batchSize} | ${form} | ${median(rate).toFixed(1)} [${Math.min(...rate).toFixed(1)}–${Math.max(...rate).toFixed(1)}] | ${median(rs.map(r => r.cpuSecondsPerMillion)).toFixed(1)} | ${median(rs.map(r => r.postgresCpuSecondsPerMillion)).toFixed(1)} | ${Math.max(...rs.map(r => r.maxRssMiB)).toFixed(0)} |`
  }),
  '',
  '## Every run',
  '',
  '```',
  ...results.map(r => JSON.stringify(r)),
  '```',
  '',
]
writeFileSync(new URL('./RESULTS.md', import.meta.url), lines.join('\n'))
console.log(lines.slice(0, 13).join('\n'))
