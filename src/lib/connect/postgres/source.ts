/**
 * PostgreSQL source connector, configured as Confluent's JDBC source: `connection.*`, `mode`
 * bulk|incrementing|timestamp|timestamp+incrementing, `incrementing.column.name`,
 * `timestamp.column.name`, `table.whitelist` / `table.blacklist` / `schema.pattern` or `query`,
 * `topic.prefix`, `poll.interval.ms`, `batch.max.rows`, `timestamp.delay.interval.ms`.
 *
 * The connector lists its tables (the whitelist, or the schema's base tables minus the blacklist,
 * read at start) and gives each task its own tables (`tables` in the task config): one task per
 * table when `tasks.max` allows, round-robin otherwise; a `query` is one task. Each table is
 * polled at most every `poll.interval.ms`, `batch.max.rows` rows per query:
 *   incrementing:            WHERE inc > :inc ORDER BY inc
 *   timestamp:               WHERE ts > :ts AND ts < now - delay ORDER BY ts
 *   timestamp+incrementing:  WHERE ts < now - delay AND ((ts = :ts AND inc > :inc) OR ts > :ts) ORDER BY ts, inc
 *   bulk:                    the whole table, every poll.interval.ms (no offsets)
 * Each record is a Struct of the row (schema named after the table, columns optional when
 * nullable) to `<topic.prefix><table>` (a query: `<topic.prefix>`), null key. Its source
 * partition is {protocol: "1", table: "<db>.<schema>.<table>"} (a query: {query}); its offset is
 * Confluent's {incrementing} / {timestamp (epoch ms), timestamp_nanos (nanoseconds of the second)}
 * of that row, so a task restarted from its committed offsets continues after the last row it
 * delivered, without duplicates. Timestamps are compared in the database at their full
 * (microsecond) precision, read as text in UTC; `timestamp` columns are taken as UTC.
 *
 * Column types: int2/int4/int8 -> int16/int32/int64, float4/float8 -> float32/float64, bool,
 * bytea -> bytes, date/time/timestamp(tz) -> Kafka's Date/Time/Timestamp, anything else
 * (numeric, text, json, uuid, ...) -> string. A lost connection fails poll() with the reason.
 */
import type pg from 'pg'
import {type ConfigValue, ConfigDef, ConnectException, type OffsetMap, type SourceConnector, type SourceRecord, type SourceTask, type SourceTaskContext, atLeast} from '../api.js'
import {type Schema, Struct} from '../data.js'
import {DATE_SCHEMA_NAME, TIME_SCHEMA_NAME, TIMESTAMP_SCHEMA_NAME} from '../transforms.js'
import {type Connection, connectionFor, defineConnectionConfigs, parseTableId, quote, quoteTable, type TableId, VERSION} from './common.js'

const MODES = ['bulk', 'incrementing', 'timestamp', 'timestamp+incrementing']

export const POSTGRES_SOURCE_CONFIG = defineConnectionConfigs(new ConfigDef())
  .define({name: 'mode', type: 'STRING', importance: 'HIGH', group: 'Mode', documentation: 'The mode for updating a table each time it is polled: bulk, incrementing, timestamp or timestamp+incrementing.', validator: (n, v) => MODES.includes(String(v)) ? null : `Invalid value ${String(v)} for configuration ${n}: String must be one of: ${MODES.join(', ')}`})
  .define({name: 'incrementing.column.name', type: 'STRING', defaultValue: '', importance: 'MEDIUM', group: 'Mode', documentation: 'The name of the strictly incrementing column to use to detect new rows.'})
  .define({name: 'timestamp.column.name', type: 'STRING', defaultValue: '', importance: 'MEDIUM', group: 'Mode', documentation: 'The name of the timestamp column to use to detect new or modified rows (one column; Confluent\'s list with COALESCE is not supported).', validator: (n, v) => String(v).includes(',') ? `Invalid value ${String(v)} for configuration ${n}: only one timestamp column is supported` : null})
  .define({name: 'table.whitelist', type: 'LIST', defaultValue: '', importance: 'MEDIUM', group: 'Database', documentation: 'List of tables to include in copying (table or schema.table).'})
  .define({name: 'table.blacklist', type: 'LIST', defaultValue: '', importance: 'MEDIUM', group: 'Database', documentation: 'List of tables to exclude from copying.'})
  .define({name: 'schema.pattern', type: 'STRING', defaultValue: 'public', importance: 'MEDIUM', group: 'Database', documentation: 'Schema whose tables are copied when no table.whitelist is given.'})
  .define({name: 'query', type: 'STRING', defaultValue: '', importance: 'MEDIUM', group: 'Mode', documentation: 'If specified, the query to perform to select new or updated rows instead of copying tables.'})
  .define({name: 'topic.prefix', type: 'STRING', importance: 'HIGH', group: 'Connector', documentation: 'Prefix to prepend to table names to generate the name of the Kafka topic to publish data to, or in the case of a custom query, the full name of the topic to publish to.'})
  .define({name: 'poll.interval.ms', type: 'INT', defaultValue: '5000', importance: 'HIGH', group: 'Connector', documentation: 'Frequency in ms to poll for new data in each table.', validator: atLeast(1)})
  .define({name: 'batch.max.rows', type: 'INT', defaultValue: '100', importance: 'LOW', group: 'Connector', documentation: 'Maximum number of rows to include in a single batch when polling for new data.', validator: atLeast(1)})
  .define({name: 'timestamp.delay.interval.ms', type: 'LONG', defaultValue: '0', importance: 'HIGH', group: 'Connector', documentation: 'How long to wait after a row with certain timestamp appears before we include it in the result.', validator: atLeast(0)})

/** ConfigDef validation plus the mode's required columns and query/whitelist exclusivity. */
export function validateSourceConfig(props: Record<string, string>): ConfigValue[] {
  const out = POSTGRES_SOURCE_CONFIG.validate(props)
  if (out.some(cv => cv.errors.length > 0)) return out
  const cfg = POSTGRES_SOURCE_CONFIG.parse(props)
  const at = (name: string) => out.find(cv => cv.name === name)!
  const mode = cfg.mode as string
  if (mode.includes('incrementing') && cfg['incrementing.column.name'] === '')
    at('incrementing.column.name').errors.push(`Query mode must be specified: mode ${mode} requires incrementing.column.name`)
  if (mode.startsWith('timestamp') && cfg['timestamp.column.name'] === '')
    at('timestamp.column.name').errors.push(`Query mode must be specified: mode ${mode} requires timestamp.column.name`)
  if (cfg.query !== '' && ((cfg['table.whitelist'] as string[]).length > 0 || (cfg['table.blacklist'] as string[]).length > 0))
    at('query').errors.push('Do not specify table filtering parameters (table.whitelist or table.blacklist) with the query parameter')
  if ((cfg['table.whitelist'] as string[]).length > 0 && (cfg['table.blacklist'] as string[]).length > 0)
    at('table.whitelist').errors.push('table.whitelist and table.blacklist are mutually exclusive')
  return out
}

function parseSourceConfig(props: Record<string, string>): Record<string, unknown> {
  const bad = validateSourceConfig(props).find(cv => cv.errors.length > 0)
  if (bad) throw new ConnectException(bad.errors[0]!)
  return POSTGRES_SOURCE_CONFIG.parse(props)
}

export class PostgresSourceConnector implements SourceConnector {
  readonly type = 'source' as const
  private props: Record<string, string> = {}
  private tables: string[] = []
  version(): string { return VERSION }
  config(): ConfigDef { return POSTGRES_SOURCE_CONFIG }
  validate(props: Record<string, string>): ConfigValue[] { return validateSourceConfig(props) }

  async start(props: Record<string, string>): Promise<void> {
    const cfg = parseSourceConfig(props)
    this.props = props
    if (cfg.query !== '') return
    const whitelist = cfg['table.whitelist'] as string[]
    if (whitelist.length > 0) { this.tables = whitelist; return }
    const conn = connectionFor(cfg, 'PostgreSQL source connector')
    try {
      const res = await conn.query<{table_name: string}>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = \'BASE TABLE\' ORDER BY table_name', [cfg['schema.pattern']])
      const black = new Set(cfg['table.blacklist'] as string[])
      const schema = cfg['schema.pattern'] as string
      this.tables = res.rows.map(r => `${schema}.${r.table_name}`).filter(t => !black.has(t) && !black.has(parseTableId(t).table))
    } finally {
      await conn.close()
    }
  }

  /** One task per table (round-robin when tasks.max is smaller); a query is one task. */
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    if ((this.props.query ?? '') !== '') return [{...this.props}]
    const n = Math.min(maxTasks, this.tables.length)
    const groups: string[][] = Array.from({length: n}, () => [])
    this.tables.forEach((t, i) => groups[i % n]!.push(t))
    return groups.map(g => ({...this.props, tables: g.join(',')}))
  }

  stop(): void {}
  createTask(): SourceTask { return new PostgresSourceTask() }
}

/** A timestamp offset: epoch ms and the nanoseconds of its second (java.sql.Timestamp's split). */
interface TimestampOffset {ms: number; nanos: number}

/** 'YYYY-MM-DD HH:MM:SS[.ffffff][+00]' (UTC) -> {ms, nanos}. */
export function parseTimestampText(text: string): TimestampOffset {
  const m = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([+-])(\d\d)(?::?(\d\d))?)?$/.exec(text.trim())
  if (!m) throw new ConnectException(`Cannot read timestamp column value ${JSON.stringify(text)}`)
  const frac = (m[7] ?? '').padEnd(9, '0')
  const offsetMin = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10] ?? 0)) : 0
  const seconds = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - offsetMin * 60_000
  const nanos = Number(frac)
  return {ms: seconds + Math.floor(nanos / 1_000_000), nanos}
}

/** {ms, nanos} -> 'YYYY-MM-DD HH:MM:SS.fffffffff' in UTC (a parameter cast to timestamp). */
export function timestampText(t: TimestampOffset): string {
  const secondMs = t.ms - (((t.ms % 1000) + 1000) % 1000)
  return new Date(secondMs).toISOString().slice(0, 19).replace('T', ' ') + '.' + String(t.nanos).padStart(9, '0').slice(0, 6)
}

const OID = {bool: 16, bytea: 17, int8: 20, int2: 21, int4: 23, oid: 26, float4: 700, float8: 701, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184}

function columnSchema(oid: number, optional: boolean): Schema {
  switch (oid) {
    case OID.bool: return {type: 'boolean', optional}
    case OID.bytea: return {type: 'bytes', optional}
    case OID.int2: return {type: 'int16', optional}
    case OID.int4: return {type: 'int32', optional}
    case OID.int8: case OID.oid: return {type: 'int64', optional}
    case OID.float4: return {type: 'float32', optional}
    case OID.float8: return {type: 'float64', optional}
    case OID.date: return {type: 'int32', optional, name: DATE_SCHEMA_NAME, version: 1}
    case OID.time: return {type: 'int32', optional, name: TIME_SCHEMA_NAME, version: 1}
    case OID.timestamp: case OID.timestamptz: return {type: 'int64', optional, name: TIMESTAMP_SCHEMA_NAME, version: 1}
    default: return {type: 'string', optional}
  }
}

/** A column's text (pg's text output, UTC session) -> its Connect value. */
function columnValue(oid: number, text: string | null): unknown {
  if (text === null) return null
  switch (oid) {
    case OID.bool: return text === 't'
    case OID.bytea: return Buffer.from(text.slice(2), 'hex')
    case OID.int2: case OID.int4: return Number(text)
    case OID.int8: case OID.oid: { const n = Number(text); return Number.isSafeInteger(n) ? n : BigInt(text) }
    case OID.float4: case OID.float8: return Number(text)
    case OID.date: return Math.floor(Date.parse(text + 'T00:00:00Z') / 86_400_000)
    case OID.time: { const [h, m, s] = text.split(':'); return Math.floor((Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000) }
    case OID.timestamp: case OID.timestamptz: return parseTimestampText(text).ms
    default: return text
  }
}

/** Every column read as text; columnValue() converts. */
const TEXT_TYPES = {getTypeParser: () => (v: string) => v} as unknown as pg.CustomTypesConfig

/** One table (or the query) a task polls, with its position. */
class TableQuerier {
  nextPollAt = 0
  incrementing: number | null = null
  timestamp: TimestampOffset | null = null
  private schema?: Schema
  private schemaKey = ''
  private nullable?: Map<string, boolean>

  constructor(readonly table: TableId | null, readonly query: string, readonly partition: OffsetMap, readonly topic: string, private readonly cfg: Record<string, unknown>) {}

  get mode(): string { return this.cfg.mode as string }

  restore(offset: OffsetMap | null): void {
    if (!offset) return
    if (typeof offset.incrementing === 'number') this.incrementing = offset.incrementing
    if (typeof offset.timestamp === 'number') this.timestamp = {ms: offset.timestamp, nanos: typeof offset.timestamp_nanos === 'number' ? offset.timestamp_nanos : (((offset.timestamp % 1000) + 1000) % 1000) * 1_000_000}
  }

  private from(): string {
    return this.table ? quoteTable(this.table) : `(${this.query}) AS "kcli_query"`
  }

  /** The next rows after the current position (at most batch.max.rows, except bulk). */
  async fetch(conn: Connection): Promise<SourceRecord[]> {
    const inc = quote(this.cfg['incrementing.column.name'] as string)
    const ts = quote(this.cfg['timestamp.column.name'] as string)
    const limit = this.cfg['batch.max.rows'] as number
    const before = `${ts} < clock_timestamp() - make_interval(secs => ${(this.cfg['timestamp.delay.interval.ms'] as number) / 1000})`
    const lastTs = timestampText(this.timestamp ?? {ms: 0, nanos: 0})
    let sql: string
    let params: unknown[] = []
    switch (this.mode) {
      case 'bulk': sql = `SELECT * FROM ${this.from()}`; break
      case 'incrementing': sql = `SELECT * FROM ${this.from()} WHERE ${inc} > $1 ORDER BY ${inc} ASC LIMIT ${limit}`; params = [this.incrementing ?? -1]; break
      case 'timestamp': sql = `SELECT *, ${ts}::text AS "__kcli_ts" FROM ${this.from()} WHERE ${ts} > $1::timestamp AND ${before} ORDER BY ${ts} ASC LIMIT ${limit}`; params = [lastTs]; break
      default: sql = `SELECT *, ${ts}::text AS "__kcli_ts" FROM ${this.from()} WHERE ${before} AND ((${ts} = $1::timestamp AND ${inc} > $2) OR ${ts} > $1::timestamp) ORDER BY ${ts}, ${inc} ASC LIMIT ${limit}`; params = [lastTs, this.incrementing ?? -1]
    }
    let res = await conn.query({text: sql, values: params, types: TEXT_TYPES})
    if (this.mode === 'timestamp' && res.rows.length === limit) {
      // Rows sharing the last timestamp may continue past the limit: read them all now (a later
      // query asks for timestamps after it).
      const last = (res.rows.at(-1) as Record<string, string>).__kcli_ts
      const rest = await conn.query({text: `SELECT *, ${ts}::text AS "__kcli_ts" FROM ${this.from()} WHERE ${ts} = $1::timestamp AND ${ts} > $2::timestamp`, values: [last, lastTs], types: TEXT_TYPES})
      const head = res.rows.filter(r => (r as Record<string, string>).__kcli_ts !== last)
      res = {...res, rows: [...head, ...rest.rows]}
    }
    if (res.rows.length === 0) return []
    const schema = await this.schemaFor(conn, res.fields)
    const fields = schema.fields!
    const oids = new Map(res.fields.map(f => [f.name, f.dataTypeID]))
    const out: SourceRecord[] = []
    for (const row of res.rows as Array<Record<string, string | null>>) {
      const st = new Struct(schema)
      for (const f of fields) st.put(f.name, columnValue(oids.get(f.name)!, row[f.name] ?? null))
      const offset: OffsetMap = {}
      if (this.mode.includes('incrementing')) {
        const v = Number(row[this.cfg['incrementing.column.name'] as string])
        if (!Number.isFinite(v)) throw new ConnectException(`Incrementing column ${this.cfg['incrementing.column.name'] as string} of ${this.topic} is null or not a number`)
        this.incrementing = v
        offset.incrementing = v
      }
      if (this.mode.startsWith('timestamp')) {
        const t = row.__kcli_ts
        if (t === null || t === undefined) throw new ConnectException(`Timestamp column ${this.cfg['timestamp.column.name'] as string} of ${this.topic} is null`)
        this.timestamp = parseTimestampText(t)
        offset.timestamp = this.timestamp.ms
        offset.timestamp_nanos = this.timestamp.nanos
      }
      out.push({sourcePartition: this.partition, sourceOffset: offset, topic: this.topic, partition: null, keySchema: null, key: null, valueSchema: schema, value: st, timestamp: null})
    }
    return out
  }

  private async schemaFor(conn: Connection, fields: pg.FieldDef[]): Promise<Schema> {
    const cols = fields.filter(f => f.name !== '__kcli_ts')
    const key = cols.map(f => `${f.name}:${f.dataTypeID}`).join(',')
    if (this.schema && key === this.schemaKey) return this.schema
    if (this.table) {
      const res = await conn.query<{column_name: string; is_nullable: string}>('SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2', [this.table.schema, this.table.table])
      this.nullable = new Map(res.rows.map(r => [r.column_name, r.is_nullable === 'YES']))
    }
    this.schema = {type: 'struct', optional: false, name: this.table?.table ?? undefined, fields: cols.map((f, index) => ({name: f.name, index, schema: columnSchema(f.dataTypeID, this.nullable?.get(f.name) ?? true)}))}
    if (this.schema.name === undefined) delete this.schema.name
    this.schemaKey = key
    return this.schema
  }
}

export class PostgresSourceTask implements SourceTask {
  private context?: SourceTaskContext
  private cfg: Record<string, unknown> = {}
  private conn?: Connection
  private queriers: TableQuerier[] = []
  private stopped = false
  private wake?: () => void

  version(): string { return VERSION }
  initialize(context: SourceTaskContext): void { this.context = context }

  async start(props: Record<string, string>): Promise<void> {
    this.cfg = parseSourceConfig(props)
    this.conn = connectionFor(this.cfg, 'PostgreSQL source task')
    const prefix = this.cfg['topic.prefix'] as string
    const query = this.cfg.query as string
    if (query !== '') {
      this.queriers = [new TableQuerier(null, query, {query}, prefix, this.cfg)]
    } else {
      const tables = (props.tables ?? (this.cfg['table.whitelist'] as string[]).join(',')).split(',').map(s => s.trim()).filter(s => s !== '')
      if (tables.length === 0) throw new ConnectException('No tables were assigned to this task (tables)')
      const db = this.conn.database
      this.queriers = tables.map(t => {
        const id = parseTableId(t)
        return new TableQuerier(id, '', {protocol: '1', table: `${db}.${id.schema ?? 'public'}.${id.table}`}, prefix + id.table, this.cfg)
      })
    }
    for (const q of this.queriers) q.restore(this.context?.offsetStorageReader.offset(q.partition) ?? null)
    await this.conn.open()
  }

  /** The next rows of the table due soonest; waits (until stop()) when none is due yet. */
  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null
    const q = this.queriers.reduce((a, b) => (b.nextPollAt < a.nextPollAt ? b : a))
    const wait = q.nextPollAt - Date.now()
    if (wait > 0) {
      await new Promise<void>(resolve => {
        const t = setTimeout(() => { this.wake = undefined; resolve() }, wait)
        this.wake = () => { clearTimeout(t); this.wake = undefined; resolve() }
      })
      if (this.stopped) return null
    }
    let records: SourceRecord[]
    try {
      records = await q.fetch(this.conn!)
    } catch (error) {
      if (this.stopped) return null // stop() closed the connection under the query
      throw error
    }
    // A full page may have more behind it: poll the table again at once; otherwise after the interval.
    const full = q.mode !== 'bulk' && records.length >= (this.cfg['batch.max.rows'] as number)
    q.nextPollAt = full ? Date.now() : Date.now() + (this.cfg['poll.interval.ms'] as number)
    return records
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.conn?.close()
  }
}
