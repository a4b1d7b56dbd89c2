/**
 * What the PostgreSQL source and sink share: the connection configs of Confluent's JDBC
 * connectors (`connection.url` as `jdbc:postgresql://host:port/db?user=..&password=..` or a
 * `postgresql://` URL, `connection.user`, `connection.password`, `connection.attempts`,
 * `connection.backoff.ms`), one pg.Client per task opened with those attempts, quoted
 * identifiers, and the mapping between Connect schemas and PostgreSQL column types.
 *
 * A lost connection (server down, network) is remembered from the client's 'error' event and
 * thrown by the next operation as a ConnectException naming the reason; the task then fails and
 * the runtime reports it FAILED with that trace. A restarted task connects afresh.
 */
import pg from 'pg'
import {ConfigDef, ConnectException, atLeast} from '../api.js'
import type {Schema} from '../data.js'
import {DATE_SCHEMA_NAME, TIME_SCHEMA_NAME, TIMESTAMP_SCHEMA_NAME} from '../transforms.js'

export const VERSION = '4.0.0'

export function defineConnectionConfigs(def: ConfigDef): ConfigDef {
  return def
    .define({name: 'connection.url', type: 'STRING', importance: 'HIGH', group: 'Database', documentation: 'JDBC connection URL, e.g. jdbc:postgresql://localhost:5432/db (postgresql:// URLs are accepted too).', validator: (name, v) => /^(jdbc:)?postgres(ql)?:\/\//.test(String(v)) ? null : `Invalid value ${String(v)} for configuration ${name}: only jdbc:postgresql:// (or postgresql://) URLs are supported`})
    .define({name: 'connection.user', type: 'STRING', defaultValue: null, importance: 'HIGH', group: 'Database', documentation: 'JDBC connection user.'})
    .define({name: 'connection.password', type: 'PASSWORD', defaultValue: null, importance: 'HIGH', group: 'Database', documentation: 'JDBC connection password.'})
    .define({name: 'connection.attempts', type: 'INT', defaultValue: '3', importance: 'LOW', group: 'Database', documentation: 'Maximum number of attempts to retrieve a valid JDBC connection. Must be a positive integer.', validator: atLeast(1)})
    .define({name: 'connection.backoff.ms', type: 'LONG', defaultValue: '10000', importance: 'LOW', group: 'Database', documentation: 'Backoff time in milliseconds between connection attempts.', validator: atLeast(0)})
}

/** pg's client config from the connection configs (URL user/password, overridden by connection.user/password). */
export function clientConfig(cfg: Record<string, unknown>): pg.ClientConfig {
  const url = new URL(String(cfg['connection.url']).replace(/^jdbc:/, '').replace(/^postgres(ql)?:/, 'http:'))
  const out: pg.ClientConfig = {
    host: decodeURIComponent(url.hostname) || '127.0.0.1',
    port: url.port === '' ? 5432 : Number(url.port),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    connectionTimeoutMillis: 10_000,
  }
  const user = (cfg['connection.user'] as string | null) ?? (url.searchParams.get('user') || decodeURIComponent(url.username) || null)
  const password = (cfg['connection.password'] as string | null) ?? (url.searchParams.get('password') || decodeURIComponent(url.password) || null)
  if (user) out.user = user
  if (password) out.password = password
  return out
}

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException & {errors?: Error[]}
  if (e?.errors?.length) return e.errors.map(x => x.message).join('; ')
  return e?.message || String(error)
}

/** One connection of a task; operations throw a ConnectException with the reason once it is lost. */
export class Connection {
  private client?: pg.Client
  private lost?: Error
  private stopped = false
  constructor(private readonly config: pg.ClientConfig, private readonly attempts: number, private readonly backoffMs: number, private readonly what: string) {}

  get database(): string { return this.config.database ?? 'postgres' }

  /** Opens the connection (connection.attempts tries, connection.backoff.ms apart). */
  async open(): Promise<pg.Client> {
    if (this.lost) throw new ConnectException(`${this.what}: the connection to PostgreSQL at ${this.config.host}:${this.config.port} was lost: ${reason(this.lost)}`, {cause: this.lost})
    if (this.client) return this.client
    let last: unknown
    for (let attempt = 1; attempt <= this.attempts && !this.stopped; attempt++) {
      const c = new pg.Client(this.config)
      c.on('error', error => { this.lost ??= error })
      try {
        await c.connect()
        await c.query('SET TIME ZONE \'UTC\'')
        this.client = c
        c.on('end', () => { if (!this.stopped) this.lost ??= new Error('Connection terminated') })
        return c
      } catch (error) {
        last = error
        await c.end().catch(() => {})
        if (attempt < this.attempts) await new Promise(resolve => setTimeout(resolve, this.backoffMs))
      }
    }
    throw new ConnectException(`${this.what}: could not connect to PostgreSQL at ${this.config.host}:${this.config.port} after ${this.attempts} attempt(s): ${reason(last)}`, {cause: last})
  }

  /** A query; a failure of the connection itself becomes a ConnectException with the reason. */
  async query<T extends pg.QueryResultRow = pg.QueryResultRow>(q: string | pg.QueryConfig, params?: unknown[]): Promise<pg.QueryResult<T>> {
    const c = await this.open()
    try {
      return await c.query<T>(q as string, params)
    } catch (error) {
      if (this.lost || !(error instanceof pg.DatabaseError) || /^(08|57P)/.test(error.code ?? '')) {
        this.lost ??= error as Error
        throw new ConnectException(`${this.what}: the connection to PostgreSQL at ${this.config.host}:${this.config.port} was lost: ${reason(error)}`, {cause: error})
      }
      throw error
    }
  }

  async close(): Promise<void> {
    this.stopped = true
    const c = this.client
    this.client = undefined
    await c?.end().catch(() => {})
  }
}

export function connectionFor(cfg: Record<string, unknown>, what: string): Connection {
  return new Connection(clientConfig(cfg), cfg['connection.attempts'] as number, cfg['connection.backoff.ms'] as number, what)
}

/** A quoted identifier ("name", quotes doubled), as quote.sql.identifiers=always. */
export function quote(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"'
}

export interface TableId {schema: string | null; table: string}

export function parseTableId(name: string): TableId {
  const dot = name.indexOf('.')
  return dot < 0 ? {schema: null, table: name} : {schema: name.slice(0, dot), table: name.slice(dot + 1)}
}

export function quoteTable(t: TableId): string {
  return t.schema === null ? quote(t.table) : `${quote(t.schema)}.${quote(t.table)}`
}

/** The PostgreSQL column type of a Connect schema (Confluent's PostgreSqlDatabaseDialect.getSqlType). */
export function sqlType(s: Schema): string {
  switch (s.name) {
    case TIMESTAMP_SCHEMA_NAME: return 'TIMESTAMP'
    case DATE_SCHEMA_NAME: return 'DATE'
    case TIME_SCHEMA_NAME: return 'TIME'
  }
  switch (s.type) {
    case 'int8': case 'int16': return 'SMALLINT'
    case 'int32': return 'INT'
    case 'int64': return 'BIGINT'
    case 'float32': return 'REAL'
    case 'float64': return 'DOUBLE PRECISION'
    case 'boolean': return 'BOOLEAN'
    case 'string': return 'TEXT'
    case 'bytes': return 'BYTEA'
    default: throw new ConnectException(`Unsupported type for column value: ${s.type.toUpperCase()}`)
  }
}

/** A Connect value as a pg query parameter (logical types from their encoded numbers to SQL text). */
export function sqlValue(s: Schema, v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (v instanceof Date) v = s.name === DATE_SCHEMA_NAME ? Math.floor(v.getTime() / 86_400_000) : v.getTime()
  switch (s.name) {
    case TIMESTAMP_SCHEMA_NAME: return new Date(Number(v)).toISOString().replace('T', ' ').replace('Z', '')
    case DATE_SCHEMA_NAME: return new Date(Number(v) * 86_400_000).toISOString().slice(0, 10)
    case TIME_SCHEMA_NAME: return new Date(Number(v)).toISOString().slice(11, 23)
  }
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return v
}
