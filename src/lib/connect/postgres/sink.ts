/**
 * PostgreSQL sink connector, configured as Confluent's JDBC sink (`connection.*`,
 * `table.name.format`, `insert.mode` insert|upsert|update, `pk.mode` none|kafka|record_key|
 * record_value, `pk.fields`, `fields.whitelist`, `auto.create`, `auto.evolve`, `delete.enabled`,
 * `batch.size`, `max.retries`, `retry.backoff.ms`).
 *
 * Each put() is written in one transaction (so flush() has nothing left to do and the consumer
 * offsets the runtime commits after it cover only committed rows): records are buffered per table,
 * and a buffer is written as one multi-row statement per `batch.size` rows (from 8 rows on one array
 * parameter per column, unnest()ed) — `INSERT`, `INSERT ... ON CONFLICT (pk) DO UPDATE` for upsert, `UPDATE ... WHERE pk` for update, and `DELETE ...
 * WHERE (pk) IN (...)` for tombstones when `delete.enabled`. In upsert/update mode only each key's
 * last operation of a batch is written (a later tombstone cancels an earlier value and the other
 * way round), which is what applying them in order would leave. A buffer is written before a
 * record with another column set starts a new one. Tables are created (`auto.create`) and missing
 * columns added (`auto.evolve`, optional or defaulted fields only) from the value's struct schema,
 * types as Confluent's PostgreSQL dialect; identifiers are always quoted.
 *
 * Values must be Structs with a struct schema (as Confluent's); keys may be primitive (one
 * `pk.fields` name) or structs. Errors: a record the config cannot write fails the task at once;
 * a lost connection or a transient database error (SQLSTATE class 08, 40, 53, 57, or a
 * concurrent create) is retried `max.retries` times `retry.backoff.ms` apart on a new connection
 * (the transaction rolled back), then fails the task with the reason.
 */
import pg from 'pg'
import {type ConfigValue, ConfigDef, ConnectException, type SinkConnector, type SinkRecord, type SinkTask, atLeast} from '../api.js'
import {type Schema, Struct} from '../data.js'
import {type Connection, connectionFor, defineConnectionConfigs, parseTableId, quote, quoteTable, sqlType, sqlValue, type TableId, VERSION} from './common.js'

const oneOf = (values: string[]) => (name: string, v: unknown): string | null =>
  values.includes(String(v)) ? null : `Invalid value ${String(v)} for configuration ${name}: String must be one of: ${values.join(', ')}`

export const POSTGRES_SINK_CONFIG = defineConnectionConfigs(new ConfigDef())
  .define({name: 'table.name.format', type: 'STRING', defaultValue: '${topic}', importance: 'MEDIUM', group: 'Writes', documentation: 'A format string for the destination table name, which may contain \'${topic}\' as a placeholder for the originating topic name.'})
  .define({name: 'insert.mode', type: 'STRING', defaultValue: 'insert', importance: 'HIGH', group: 'Writes', documentation: 'The insertion mode to use: insert, upsert (INSERT ... ON CONFLICT DO UPDATE) or update.', validator: oneOf(['insert', 'upsert', 'update'])})
  .define({name: 'batch.size', type: 'INT', defaultValue: '3000', importance: 'MEDIUM', group: 'Writes', documentation: 'Specifies how many records to attempt to batch together for insertion into the destination table, when possible.', validator: atLeast(1)})
  .define({name: 'delete.enabled', type: 'BOOLEAN', defaultValue: 'false', importance: 'MEDIUM', group: 'Writes', documentation: 'Whether to treat null record values as deletes. Requires pk.mode to be record_key.'})
  .define({name: 'pk.mode', type: 'STRING', defaultValue: 'none', importance: 'HIGH', group: 'Data Mapping', documentation: 'The primary key mode: none, kafka, record_key or record_value.', validator: oneOf(['none', 'kafka', 'record_key', 'record_value'])})
  .define({name: 'pk.fields', type: 'LIST', defaultValue: '', importance: 'MEDIUM', group: 'Data Mapping', documentation: 'List of comma-separated primary key field names. The runtime interpretation of this config depends on the pk.mode.'})
  .define({name: 'fields.whitelist', type: 'LIST', defaultValue: '', importance: 'MEDIUM', group: 'Data Mapping', documentation: 'List of comma-separated record value field names. If empty, all fields from the record value are utilized.'})
  .define({name: 'auto.create', type: 'BOOLEAN', defaultValue: 'false', importance: 'MEDIUM', group: 'DDL Support', documentation: 'Whether to automatically create the destination table based on record schema if it is found to be missing by issuing CREATE.'})
  .define({name: 'auto.evolve', type: 'BOOLEAN', defaultValue: 'false', importance: 'MEDIUM', group: 'DDL Support', documentation: 'Whether to automatically add columns in the table schema when found to be missing relative to the record schema by issuing ALTER.'})
  .define({name: 'max.retries', type: 'INT', defaultValue: '10', importance: 'MEDIUM', group: 'Retries', documentation: 'The maximum number of times to retry on errors before failing the task.', validator: atLeast(0)})
  .define({name: 'retry.backoff.ms', type: 'INT', defaultValue: '3000', importance: 'MEDIUM', group: 'Retries', documentation: 'The time in milliseconds to wait following an error before a retry attempt is made.', validator: atLeast(0)})

/** ConfigDef validation plus the checks that span keys (Confluent's JdbcSinkConfig). */
export function validateSinkConfig(props: Record<string, string>): ConfigValue[] {
  const out = POSTGRES_SINK_CONFIG.validate(props)
  if (out.some(cv => cv.errors.length > 0)) return out
  const cfg = POSTGRES_SINK_CONFIG.parse(props)
  const at = (name: string) => out.find(cv => cv.name === name)!
  if (cfg['delete.enabled'] === true && cfg['pk.mode'] !== 'record_key')
    at('delete.enabled').errors.push('Deletes are only supported for pk.mode record_key')
  if (cfg['insert.mode'] !== 'insert' && cfg['pk.mode'] === 'none')
    at('pk.mode').errors.push(`Invalid value none for configuration pk.mode: insert.mode ${cfg['insert.mode'] as string} requires a primary key (pk.mode kafka, record_key or record_value)`)
  if (cfg['pk.mode'] === 'kafka' && (cfg['pk.fields'] as string[]).length !== 0 && (cfg['pk.fields'] as string[]).length !== 3)
    at('pk.fields').errors.push('PK mode for kafka requires exactly three pk.fields (topic, partition and offset columns) or none')
  return out
}

function parseSinkConfig(props: Record<string, string>): Record<string, unknown> {
  const bad = validateSinkConfig(props).find(cv => cv.errors.length > 0)
  if (bad) throw new ConnectException(bad.errors[0]!)
  return POSTGRES_SINK_CONFIG.parse(props)
}

export class PostgresSinkConnector implements SinkConnector {
  readonly type = 'sink' as const
  private props: Record<string, string> = {}
  version(): string { return VERSION }
  config(): ConfigDef { return POSTGRES_SINK_CONFIG }
  start(props: Record<string, string>): void { parseSinkConfig(props); this.props = props }
  taskConfigs(maxTasks: number): Array<Record<string, string>> { return Array.from({length: maxTasks}, () => ({...this.props})) }
  stop(): void {}
  validate(props: Record<string, string>): ConfigValue[] { return validateSinkConfig(props) }
  createTask(): SinkTask { return new PostgresSinkTask() }
}

/** A record the configuration cannot write: fails the task at once, never retried. */
class RecordException extends ConnectException {}

interface Column {name: string; schema: Schema}
interface Row {key: string; pk: unknown[]; values: unknown[]}

/** The rows of one table with one column set, waiting to be written. */
class TableBuffer {
  readonly upserts = new Map<string, Row>()
  readonly inserts: Row[] = []
  readonly deletes = new Map<string, unknown[]>()
  constructor(readonly table: TableId, public pkCols: Column[], public valueCols: Column[] | null) {}
  get size(): number { return this.upserts.size + this.inserts.length + this.deletes.size }
  signature(): string { return JSON.stringify([this.pkCols.map(c => c.name), this.valueCols?.map(c => [c.name, c.schema.type, c.schema.name])]) }
}

const RETRIABLE_SQLSTATE = /^(08|40|53|57)|^23505$|^42P07$/

/**
 * How rows reach PostgreSQL: `unnest` sends one array parameter per column (`INSERT ... SELECT *
 * FROM unnest($1::BIGINT[], ...)`), `values` one parameter per value (`VALUES ($1,$2),($3,$4)...`);
 * `auto` (the default) uses `values` for statements of fewer than UNNEST_MIN_ROWS rows, where
 * the arrays cost more than they save, and `unnest` otherwise. The benchmark compares the two.
 */
export type SinkStatementForm = 'auto' | 'unnest' | 'values'
const UNNEST_MIN_ROWS = 8

/**
 * PostgreSQL's answers to a DDL statement that another session's committed change made redundant:
 * duplicate_table, duplicate_object (the table's row type), unique_violation (its pg_type or
 * pg_class row), duplicate_column.
 */
const CONCURRENT_DDL = new Set(['42P07', '42710', '23505', '42701'])

export class PostgresSinkTask implements SinkTask {
  constructor(private readonly statementForm: SinkStatementForm = 'auto') {}
  private cfg: Record<string, unknown> = {}
  private conn?: Connection
  /** Columns of tables known to exist (lower-cased names are PostgreSQL's folding of unquoted ones; we quote, so exact). */
  private readonly tables = new Map<string, Set<string>>()
  private stopped = false

  version(): string { return VERSION }

  async start(props: Record<string, string>): Promise<void> {
    this.cfg = parseSinkConfig(props)
    this.conn = connectionFor(this.cfg, 'PostgreSQL sink task')
    await this.conn.open()
  }

  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return
    const maxRetries = this.cfg['max.retries'] as number
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(records)
        return
      } catch (error) {
        const retriable = !(error instanceof RecordException) && (!(error instanceof pg.DatabaseError) || RETRIABLE_SQLSTATE.test(error.code ?? ''))
        this.tables.clear()
        if (!retriable || attempt >= maxRetries || this.stopped) {
          if (error instanceof ConnectException) throw error
          throw new ConnectException(`PostgreSQL sink task: writing ${records.length} record(s) failed${attempt > 0 ? ` after ${attempt} retries` : ''}: ${(error as Error).message}`, {cause: error})
        }
        await this.conn?.close()
        this.conn = connectionFor(this.cfg, 'PostgreSQL sink task')
        await new Promise(resolve => setTimeout(resolve, this.cfg['retry.backoff.ms'] as number))
      }
    }
  }

  /** Everything is committed by put(); nothing is pending here. */
  flush(_currentOffsets?: Map<string, number>): void {}

  async stop(): Promise<void> {
    this.stopped = true
    await this.conn?.close()
  }

  private async write(records: SinkRecord[]): Promise<void> {
    const conn = this.conn!
    await conn.query('BEGIN')
    try {
      const buffers = new Map<string, TableBuffer>()
      const batchSize = this.cfg['batch.size'] as number
      const mode = this.cfg['insert.mode'] as string
      for (const r of records) {
        const tableName = (this.cfg['table.name.format'] as string).replaceAll('${topic}', r.topic)
        const table = parseTableId(tableName)
        const tombstone = r.value === null || r.value === undefined
        let buf = buffers.get(tableName)
        if (tombstone) {
          if (this.cfg['delete.enabled'] !== true) throw new RecordException(`Sink connector is configured with 'delete.enabled=false' and 'pk.mode=${this.cfg['pk.mode'] as string}' and therefore requires records with a non-null Struct value and non-null Struct schema, but found record at (topic='${r.topic}',partition=${r.kafkaPartition},offset=${r.kafkaOffset}) with a null value and ${r.valueSchema ? 'a' : 'null'} value schema.`)
          const {pkCols, pk} = this.keyColumns(r)
          if (buf && (buf.pkCols.map(c => c.name).join() !== pkCols.map(c => c.name).join() || (mode === 'insert' && buf.inserts.length > 0))) {
            await this.writeBuffer(buf)
            buf = undefined
          }
          if (!buf) { buf = new TableBuffer(table, pkCols, null); buffers.set(tableName, buf) }
          const key = JSON.stringify(pk.map(String))
          buf.upserts.delete(key)
          buf.deletes.set(key, pk)
        } else {
          const {pkCols, valueCols, pk, values} = this.rowOf(r)
          const next = new TableBuffer(table, pkCols, valueCols)
          if (buf && ((buf.valueCols !== null && buf.signature() !== next.signature()) || buf.pkCols.map(c => c.name).join() !== pkCols.map(c => c.name).join() || (mode === 'insert' && buf.deletes.size > 0))) {
            await this.writeBuffer(buf)
            buf = undefined
          }
          if (!buf) { buf = next; buffers.set(tableName, buf) }
          buf.valueCols ??= valueCols
          const key = JSON.stringify(pk.map(String))
          if (mode === 'insert') buf.inserts.push({key, pk, values})
          else { buf.deletes.delete(key); buf.upserts.delete(key); buf.upserts.set(key, {key, pk, values}) }
        }
        if (buf.size >= batchSize) { await this.writeBuffer(buf); buffers.delete(tableName) }
      }
      for (const buf of buffers.values()) await this.writeBuffer(buf)
      await conn.query('COMMIT')
    } catch (error) {
      await conn.query('ROLLBACK').catch(() => {})
      throw error
    }
  }

  private keyColumns(r: SinkRecord): {pkCols: Column[]; pk: unknown[]} {
    const mode = this.cfg['pk.mode'] as string
    const names = this.cfg['pk.fields'] as string[]
    if (mode !== 'record_key') throw new RecordException(`pk.mode ${mode} cannot delete: deletes need pk.mode record_key`)
    const ks = r.keySchema
    if (!ks || r.key === null || r.key === undefined) throw new RecordException(`Sink connector with pk.mode=record_key requires records with a non-null key and non-null key schema, but found record at (topic='${r.topic}',partition=${r.kafkaPartition},offset=${r.kafkaOffset}) with a ${r.key === null || r.key === undefined ? 'null' : 'non-null'} key and ${ks ? 'a' : 'null'} key schema.`)
    if (ks.type !== 'struct') {
      if (names.length !== 1) throw new RecordException(`Need exactly one PK column defined since the key schema for records is a primitive type, defined columns are: [${names.join(', ')}]`)
      return {pkCols: [{name: names[0]!, schema: ks}], pk: [sqlValue(ks, r.key)]}
    }
    if (!(r.key instanceof Struct)) throw new RecordException(`Key of record at (topic='${r.topic}',partition=${r.kafkaPartition},offset=${r.kafkaOffset}) is not a Struct`)
    const fields = names.length === 0 ? ks.fields ?? [] : names.map(n => {
      const f = ks.fields?.find(x => x.name === n)
      if (!f) throw new RecordException(`PK field not found in key schema: ${n}`)
      return f
    })
    const st = r.key
    return {pkCols: fields.map(f => ({name: f.name, schema: f.schema})), pk: fields.map(f => sqlValue(f.schema, st.get(f.name)))}
  }

  private rowOf(r: SinkRecord): {pkCols: Column[]; valueCols: Column[]; pk: unknown[]; values: unknown[]} {
    const vs = r.valueSchema
    if (!vs || vs.type !== 'struct' || !(r.value instanceof Struct))
      throw new RecordException(`Sink connector requires records with a non-null Struct value and non-null Struct schema, but found record at (topic='${r.topic}',partition=${r.kafkaPartition},offset=${r.kafkaOffset}) with a ${r.value instanceof Struct ? 'Struct' : typeof r.value} value and ${vs ? vs.type.toUpperCase() : 'null'} value schema.`)
    const value = r.value
    const mode = this.cfg['pk.mode'] as string
    const names = this.cfg['pk.fields'] as string[]
    let pkCols: Column[] = []
    let pk: unknown[] = []
    if (mode === 'kafka') {
      const [t, p, o] = names.length === 3 ? names : ['__connect_topic', '__connect_partition', '__connect_offset']
      pkCols = [{name: t!, schema: {type: 'string', optional: false}}, {name: p!, schema: {type: 'int32', optional: false}}, {name: o!, schema: {type: 'int64', optional: false}}]
      pk = [r.topic, r.kafkaPartition, r.kafkaOffset]
    } else if (mode === 'record_key') {
      ({pkCols, pk} = this.keyColumns(r))
    } else if (mode === 'record_value') {
      const fields = names.length === 0 ? vs.fields ?? [] : names.map(n => {
        const f = vs.fields?.find(x => x.name === n)
        if (!f) throw new RecordException(`PK field not found in value schema: ${n}`)
        return f
      })
      pkCols = fields.map(f => ({name: f.name, schema: f.schema}))
      pk = fields.map(f => sqlValue(f.schema, value.get(f.name)))
    }
    const pkNames = new Set(pkCols.map(c => c.name))
    const whitelist = new Set(this.cfg['fields.whitelist'] as string[])
    const valueFields = (vs.fields ?? []).filter(f => !pkNames.has(f.name) && (whitelist.size === 0 || whitelist.has(f.name)))
    return {pkCols, pk, valueCols: valueFields.map(f => ({name: f.name, schema: f.schema})), values: valueFields.map(f => sqlValue(f.schema, value.get(f.name)))}
  }

  /** The table exists with every column of the buffer: created / evolved when configured, else a RecordException. */
  private async ensureTable(buf: TableBuffer): Promise<void> {
    const id = quoteTable(buf.table)
    let columns = this.tables.get(id)
    const cols = [...buf.pkCols, ...(buf.valueCols ?? [])]
    if (!columns) {
      columns = await this.tableColumns(buf.table)
      if (columns.size === 0) {
        if (this.cfg['auto.create'] !== true) throw new RecordException(`Table ${id} is missing and auto-creation is disabled`)
        if (buf.valueCols === null) return // a delete of a table that does not exist has nothing to delete
        const defs = cols.map(c => `${quote(c.name)} ${sqlType(c.schema)}${c.schema.optional && !buf.pkCols.includes(c) ? '' : ' NOT NULL'}${defaultClause(c.schema)}`)
        if (buf.pkCols.length > 0) defs.push(`PRIMARY KEY(${buf.pkCols.map(c => quote(c.name)).join(',')})`)
        columns = await this.ddl(`CREATE TABLE IF NOT EXISTS ${id} (\n${defs.join(',\n')})`) ? new Set(cols.map(c => c.name)) : await this.tableColumns(buf.table)
      }
      this.tables.set(id, columns)
    }
    let missing = cols.filter(c => !columns!.has(c.name))
    if (missing.length === 0) return
    if (this.cfg['auto.evolve'] !== true) throw new RecordException(`Table ${id} is missing fields (${missing.map(c => c.name).join(', ')}) and auto-evolution is disabled`)
    for (const c of missing) {
      if (!c.schema.optional && c.schema.defaultValue === undefined)
        throw new RecordException(`Cannot ALTER TABLE ${id} to add missing field ${c.name}, as the field is not optional and does not have a default value`)
    }
    // Another task may add the same columns at the same time: what it added is read back and the rest added.
    for (let attempt = 0; missing.length > 0; attempt++) {
      if (await this.ddl(`ALTER TABLE ${id} ${missing.map(c => `ADD ${quote(c.name)} ${sqlType(c.schema)}${defaultClause(c.schema)}`).join(', ')}`)) {
        for (const c of missing) columns.add(c.name)
        return
      }
      if (attempt === 2) throw new ConnectException(`Table ${id}: adding the columns ${missing.map(c => c.name).join(', ')} kept conflicting with other sessions' changes`)
      columns = await this.tableColumns(buf.table)
      this.tables.set(id, columns)
      missing = cols.filter(c => !columns!.has(c.name))
    }
  }

  /** The table's column names (empty when there is no such table). */
  private async tableColumns(table: TableId): Promise<Set<string>> {
    const res = await this.conn!.query<{column_name: string}>('SELECT column_name FROM information_schema.columns WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2', [table.schema, table.table])
    return new Set(res.rows.map(r => r.column_name))
  }

  /**
   * A CREATE TABLE or ALTER TABLE inside the put's transaction, in a savepoint: false when another
   * session made the same change first. Two tasks creating one table (auto.create; a connector
   * with tasks.max > 1) race: PostgreSQL makes the second wait for the first's commit and then
   * refuses it (duplicate type or table, IF NOT EXISTS notwithstanding). As Kafka's JDBC sink,
   * which checks again whether the table exists after a failed create, the write goes on.
   */
  private async ddl(sql: string): Promise<boolean> {
    const conn = this.conn!
    await conn.query('SAVEPOINT kcli_ddl')
    try {
      await conn.query(sql)
    } catch (error) {
      if (!CONCURRENT_DDL.has((error as {code?: string}).code ?? '')) throw error
      await conn.query('ROLLBACK TO SAVEPOINT kcli_ddl')
      return false
    }
    await conn.query('RELEASE SAVEPOINT kcli_ddl')
    return true
  }

  private useUnnest(rows: number): boolean {
    return this.statementForm === 'unnest' || (this.statementForm === 'auto' && rows >= UNNEST_MIN_ROWS)
  }

  private async writeBuffer(buf: TableBuffer): Promise<void> {
    if (buf.size === 0) return
    await this.ensureTable(buf)
    const conn = this.conn!
    const id = quoteTable(buf.table)
    const pkNames = buf.pkCols.map(c => quote(c.name))
    if (buf.deletes.size > 0 && this.tables.has(id)) {
      const rows = [...buf.deletes.values()]
      if (this.useUnnest(rows.length)) {
        const {casts, arrays} = columnArrays(buf.pkCols, rows)
        await conn.query(`DELETE FROM ${id} WHERE (${pkNames.join(',')}) IN (SELECT * FROM unnest(${casts}))`, arrays)
      } else for (const chunk of chunks(rows, Math.max(1, Math.floor(MAX_PARAMS / pkNames.length)))) {
        const params: unknown[] = []
        const tuples = chunk.map(pk => '(' + pk.map(v => { params.push(v); return '$' + params.length }).join(',') + ')')
        await conn.query(`DELETE FROM ${id} WHERE (${pkNames.join(',')}) IN (${tuples.join(',')})`, params)
      }
    }
    const rows = buf.inserts.length > 0 ? buf.inserts : [...buf.upserts.values()]
    if (rows.length > 0) {
      const cols = [...buf.pkCols, ...(buf.valueCols ?? [])].map(c => quote(c.name))
      const mode = this.cfg['insert.mode'] as string
      if (mode === 'update') {
        for (const row of rows) {
          const params = [...row.values, ...row.pk]
          const set = (buf.valueCols ?? []).map((c, i) => `${quote(c.name)} = $${i + 1}`).join(', ')
          const where = pkNames.map((n, i) => `${n} = $${row.values.length + i + 1}`).join(' AND ')
          if (set !== '') await conn.query(`UPDATE ${id} SET ${set} WHERE ${where}`, params)
        }
      } else {
        const conflict = mode !== 'upsert' ? '' : (buf.valueCols ?? []).length === 0
          ? ` ON CONFLICT (${pkNames.join(',')}) DO NOTHING`
          : ` ON CONFLICT (${pkNames.join(',')}) DO UPDATE SET ${(buf.valueCols ?? []).map(c => `${quote(c.name)}=EXCLUDED.${quote(c.name)}`).join(',')}`
        if (this.useUnnest(rows.length)) {
          const {casts, arrays} = columnArrays([...buf.pkCols, ...(buf.valueCols ?? [])], rows.map(row => [...row.pk, ...row.values]))
          await conn.query({text: `INSERT INTO ${id}(${cols.join(',')}) SELECT * FROM unnest(${casts})${conflict}`, values: arrays})
        } else for (const chunk of chunks(rows, Math.max(1, Math.floor(MAX_PARAMS / cols.length)))) {
          const params: unknown[] = []
          const tuples = chunk.map(row => '(' + [...row.pk, ...row.values].map(v => { params.push(v); return '$' + params.length }).join(',') + ')')
          await conn.query({text: `INSERT INTO ${id}(${cols.join(',')}) VALUES ${tuples.join(',')}${conflict}`, values: params})
        }
      }
    }
    buf.upserts.clear()
    buf.inserts.length = 0
    buf.deletes.clear()
  }
}

/** One array parameter per column (`$1::BIGINT[],$2::TEXT[],...`) holding that column of every row. */
function columnArrays(cols: Column[], rows: unknown[][]): {casts: string; arrays: unknown[][]} {
  const arrays = cols.map(() => new Array<unknown>(rows.length))
  rows.forEach((row, r) => { for (let c = 0; c < cols.length; c++) arrays[c]![r] = row[c] })
  return {casts: cols.map((c, i) => `$${i + 1}::${sqlType(c.schema)}[]`).join(','), arrays}
}

/** PostgreSQL's limit on the parameters of one statement. */
const MAX_PARAMS = 65_535

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

function defaultClause(s: Schema): string {
  if (s.defaultValue === undefined || s.defaultValue === null) return ''
  const v = sqlValue(s, s.defaultValue)
  if (typeof v === 'number' || typeof v === 'boolean') return ` DEFAULT ${String(v)}`
  if (typeof v === 'string') return ` DEFAULT ${pg.escapeLiteral(v)}`
  return ''
}
