/**
 * A private PostgreSQL (Debian's postgresql-15 binaries) for tests: `initdb` into a temporary
 * directory, `pg_ctl start` on 127.0.0.1 with a port found free by the OS (trust authentication,
 * fsync off, the socket in the data directory). PostgreSQL refuses to run as root, so as root
 * everything runs as the `postgres` user (`runuser`) in a directory it owns. Every step is bounded
 * (pg_ctl -t, spawn timeouts). `stopServer()`/`startServer()` take it down and bring it back on
 * the same port with the same data (an outage); `stop()` stops it and removes the directory.
 */
import {spawnSync} from 'node:child_process'
import {chownSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import pg from 'pg'
import {freePort} from '../../src/server/dev-cluster.js'

export const PG_BIN = '/usr/lib/postgresql/15/bin'
export const postgresMissing: string | null = existsSync(join(PG_BIN, 'postgres')) ? null : `PostgreSQL 15 is not installed (${PG_BIN}): apt-get install postgresql-15`

export interface TestPostgres {
  host: string
  port: number
  user: string
  database: string
  /** `jdbc:postgresql://127.0.0.1:<port>/<db>`, as the JDBC connectors' `connection.url`. */
  jdbcUrl: string
  /** A connected client for the test's own SQL (closed by stop()). */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>
  stopServer(): Promise<void>
  startServer(): Promise<void>
  stop(): Promise<void>
}

const asRoot = userInfo().uid === 0

function run(cmd: string, args: string[], timeoutMs: number): void {
  const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args]] : [join(PG_BIN, cmd), args]
  const r = spawnSync(c, a, {encoding: 'utf8', timeout: timeoutMs, cwd: tmpdir()})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}${r.stdout}`)
}

export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'kcli-pg-'))
  const data = join(dir, 'data')
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], {encoding: 'utf8'})
    const gid = spawnSync('id', ['-g', 'postgres'], {encoding: 'utf8'})
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()))
  }
  const port = await freePort()
  const user = 'kcli'
  const database = 'postgres'
  let client: pg.Client | undefined
  const startServer = async (): Promise<void> => {
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start'], 40_000)
  }
  const stopServer = async (): Promise<void> => {
    const c = client
    client = undefined
    await c?.end().catch(() => {})
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'], 40_000)
  }
  try {
    run('initdb', ['-D', data, '-U', user, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], 60_000)
    await startServer()
  } catch (error) {
    rmSync(dir, {recursive: true, force: true})
    throw error
  }
  return {
    host: '127.0.0.1',
    port,
    user,
    database,
    jdbcUrl: `jdbc:postgresql://127.0.0.1:${port}/${database}`,
    async query(sql, params) {
      if (!client) {
        const c = new pg.Client({host: '127.0.0.1', port, user, database})
        c.on('error', () => {})
        await c.connect()
        client = c
      }
      return client.query(sql, params)
    },
    stopServer,
    startServer,
    async stop() {
      try {
        await stopServer()
      } catch {
        // already stopped
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
