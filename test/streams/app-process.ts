/** The word-count application (word-count-app.ts) in child processes, for the Streams process tests. */
import {type ChildProcess, spawn} from 'node:child_process'
import {join} from 'node:path'
import {PROJECT_ROOT} from '../e2e/harness.js'

/** A word-count application in a child process (word-count-app.ts) and what it printed. */
export interface AppProcess {
  child: ChildProcess
  /** Its `RUNNING active=... standby=... restored=...` lines so far. */
  running: string[]
  stderr(): string
  /** Resolves with the first RUNNING line (from `from` on) that `ok` accepts; rejects after timeoutMs or if the process exits. */
  waitRunning(ok: (line: string) => boolean, timeoutMs: number, from?: number): Promise<string>
}

/** Starts word-count-app.ts; resolves when it first reaches RUNNING. */
export async function startApp(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test/streams/word-count-app.ts'), ...args], {cwd: PROJECT_ROOT, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  let out = ''
  const running: string[] = []
  const waiters = new Set<() => void>()
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    let nl: number
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl)
      out = out.slice(nl + 1)
      if (line.startsWith('RUNNING')) running.push(line)
    }
    for (const w of waiters) w()
  })
  const app: AppProcess = {
    child,
    running,
    stderr: () => stderr,
    waitRunning(ok, ms, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = running.slice(from).find(ok)
          if (found !== undefined) {
            done()
            resolve(found)
          }
        }
        const onExit = (code: number | null) => {
          done()
          reject(new Error(`the application exited with ${code}: ${stderr}`))
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`no matching RUNNING line in ${ms} ms (got ${JSON.stringify(running)}): ${stderr}`))
        }, ms)
        const done = () => {
          clearTimeout(timer)
          waiters.delete(check)
          child.off('exit', onExit)
        }
        waiters.add(check)
        child.once('exit', onExit)
        check()
      })
    },
  }
  try {
    await app.waitRunning(() => true, timeoutMs)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return app
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

/** The tasks of a RUNNING line. */
export function tasksOfLine(line: string): {active: string[]; standby: string[]; restored: number} {
  const m = /active=(\S*) standby=(\S*) restored=(\d+)/.exec(line)!
  return {active: m[1] ? m[1].split(',') : [], restored: Number(m[3]), standby: m[2] ? m[2].split(',') : []}
}

/** Checks exactly-once word-count output: each word's committed updates are 1, 2, ..., its count. */
export function updatesByWord(records: readonly {key: Buffer | null; value: Buffer | null}[]): Map<string, number[]> {
  const byWord = new Map<string, number[]>()
  for (const r of records) {
    const word = r.key!.toString()
    const list = byWord.get(word) ?? []
    list.push(Number(r.value!.readBigInt64BE(0)))
    byWord.set(word, list)
  }
  return byWord
}
