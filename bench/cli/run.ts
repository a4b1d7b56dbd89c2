// kcli against kcat on the same broker in the same run:
//   - produce: `kcat -P -l <file>` vs `kcli produce --file <file>` vs `kcli perf produce`
//   - consume: `kcat -C -e -o beginning` vs `kcli consume --from-beginning --exit`
//   - start-up: `kcli --help`, median of 21 spawns
// Every figure is wall time of the whole process (start-up, metadata, final flush included),
// median [min–max] of the repeats, with the ratio kcli / kcat of records per second.
//
//   npx tsx bench/cli/run.ts [--repeats 3] [--records-100 2000000] [--records-1k 500000]
//
// Builds HEAD (git archive + npm run build) in a temporary directory and runs that build. Writes
// bench/cli/RESULTS.md. Needs kcat on PATH.

import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir, totalmem} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'

const ROOT = resolve(import.meta.dirname, '../..')
/** Set by build(): the CLI compiled from `git archive HEAD` in a temporary directory, so that a rebuild of ./dist during the run cannot disturb it. */
let KCLI = ''

const {values: options} = parseArgs({
  options: {
    'records-100': {default: '2000000', type: 'string'},
    'records-1k': {default: '500000', type: 'string'},
    repeats: {default: '3', type: 'string'},
    'help-runs': {default: '21', type: 'string'},
    // The brokers' data directories: tmpfs by default, so that the kernel's writeback of what one
    // tool wrote does not slow the next one (the clients are compared here, not the disk).
    'data-root': {default: existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), type: 'string'},
    out: {default: join(ROOT, 'bench/cli/RESULTS.md'), type: 'string'},
  },
})

interface Case {
  size: number
  records: number
}

const cases: Case[] = [
  {records: Number(options['records-100']), size: 100},
  {records: Number(options['records-1k']), size: 1024},
]
const repeats = Number(options.repeats)

function env(bootstrap?: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  delete e.NODE_ENV
  if (bootstrap) e.KCLI_BOOTSTRAP_SERVER = bootstrap
  return e
}

/** Runs a shell command line; resolves with its wall time in seconds. Fails on a non-zero exit. */
function timed(command: string, bootstrap: string): Promise<{seconds: number; stdout: string}> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn('sh', ['-c', command], {env: env(bootstrap), stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      if (code !== 0) reject(new Error(`${command} exited ${code}: ${stderr}`))
      else resolvePromise({seconds, stdout})
    })
  })
}

async function startBroker(dataDir: string): Promise<{bootstrap: string; stop(): Promise<void>}> {
  const child = spawn(process.execPath, [KCLI, 'server', 'start', '--data-dir', dataDir, '--port', '0', '--json', '--log-level', 'warn'], {env: env(), stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const port = await new Promise<number>((resolvePromise, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('broker did not start in 30 s')), 30_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        resolvePromise((JSON.parse(out.slice(0, nl)) as {listeners: {port: number}[]}).listeners[0]!.port)
      }
    })
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}: ${stderr}`)))
  })
  return {
    bootstrap: `127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolvePromise) => {
        child.once('exit', () => resolvePromise())
        child.kill('SIGTERM')
      }),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)
}

function spread(values: number[]): string {
  return `${fmt(median(values))} [${fmt(Math.min(...values))}–${fmt(Math.max(...values))}]`
}

type Series = Record<string, number[]>

/** git archive HEAD -> npm run build -> <work>/kcli; returns the commit. */
function build(work: string): string {
  const dir = join(work, 'kcli')
  const commit = spawnSync('git', ['rev-parse', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).stdout.trim()
  const archive = spawnSync('sh', ['-c', `mkdir -p ${dir} && git archive HEAD | tar -x -C ${dir} && ln -s ${join(ROOT, 'node_modules')} ${join(dir, 'node_modules')}`], {cwd: ROOT, encoding: 'utf8'})
  if (archive.status !== 0) throw new Error(`git archive failed: ${archive.stderr}`)
  const built = spawnSync('npm', ['run', '--silent', 'build'], {cwd: dir, encoding: 'utf8'})
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stdout}${built.stderr}`)
  KCLI = join(dir, 'bin/run.js')
  return commit
}

async function main(): Promise<void> {
  if (spawnSync('kcat', ['-V']).status !== 0) throw new Error('kcat is not on PATH')
  const kcatVersion = spawnSync('kcat', ['-V'], {encoding: 'utf8'}).stdout.split('\n')[0]!.trim()
  const work = mkdtempSync(join(tmpdir(), 'kcli-bench-cli-'))
  const commit = build(work)
  const startedAt = new Date()
  const loadStart = loadavg().map((l) => l.toFixed(2)).join(' ')
  const results = new Map<number, Series>()
  try {
    for (const c of cases) {
      const payload = 'x'.repeat(c.size)
      writeFileSync(join(work, `records-${c.size}.txt`), `${payload}\n`.repeat(c.records))
      results.set(c.size, {})
    }
    for (let run = 0; run < repeats; run++) {
      for (const c of cases) {
        const series = results.get(c.size)!
        const add = (name: string, v: number): void => {
          ;(series[name] ??= []).push(v)
        }
        const dataDir = mkdtempSync(join(options['data-root'], 'kcli-bench-data-'))
        const broker = await startBroker(dataDir)
        try {
          const b = broker.bootstrap
          await timed(`node ${KCLI} topics create kcat-t kcli-t perf-t`, b)
          const file = join(work, `records-${c.size}.txt`)
          // The tools take turns going first, so that none always meets a fuller broker.
          const produce: [string, () => Promise<void>][] = [
            ['kcat produce', async () => add('kcat produce', c.records / (await timed(`kcat -P -b ${b} -t kcat-t -l ${file}`, b)).seconds)],
            ['kcli produce', async () => add('kcli produce', c.records / (await timed(`node ${KCLI} produce -t kcli-t --file ${file}`, b)).seconds)],
            [
              'kcli perf produce',
              async () => {
                const perf = await timed(`node ${KCLI} perf produce -t perf-t -n ${c.records} -s ${c.size} --json`, b)
                add('kcli perf produce', c.records / perf.seconds)
                add('kcli perf produce (own clock)', (JSON.parse(perf.stdout) as {recordsPerSec: number}).recordsPerSec)
              },
            ],
          ]
          for (let i = 0; i < produce.length; i++) await produce[(i + run) % produce.length]![1]()
          const consume: (() => Promise<void>)[] = [
            async () => add('kcat consume', c.records / (await timed(`kcat -C -b ${b} -t kcat-t -e -o beginning -q > /dev/null`, b)).seconds),
            async () => add('kcli consume', c.records / (await timed(`node ${KCLI} consume -t kcat-t --from-beginning --exit > /dev/null`, b)).seconds),
          ]
          for (let i = 0; i < consume.length; i++) await consume[(i + run) % consume.length]!()
          const count = await timed(`node ${KCLI} consume -t kcli-t --from-beginning --exit | wc -l`, b)
          if (Number(count.stdout.trim()) !== c.records) throw new Error(`kcli consume of kcli-t printed ${count.stdout.trim()} lines, expected ${c.records}`)
        } finally {
          await broker.stop()
          rmSync(dataDir, {force: true, recursive: true})
        }
        process.stderr.write(`run ${run + 1}/${repeats}, ${c.size} B done\n`)
      }
    }
    const helpRuns: number[] = []
    for (let i = 0; i < Number(options['help-runs']); i++) helpRuns.push((await timed(`node ${KCLI} --help > /dev/null`, '127.0.0.1:9')).seconds * 1000)
    const nodeRuns: number[] = []
    for (let i = 0; i < 11; i++) nodeRuns.push((await timed(`node -e 0`, '127.0.0.1:9')).seconds * 1000)

    const lines: string[] = []
    const took = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0)
    lines.push('# kcli vs kcat', '', '<!-- generated by bench/cli/run.ts -->')
    lines.push(`Generated by \`npx tsx bench/cli/run.ts\` on ${startedAt.toISOString()} (took ${took} s).`, '')
    lines.push(`- kcli: commit ${commit}, built by \`npm run build\` from \`git archive HEAD\` in a temporary directory and run as \`node bin/run.js\`.`)
    lines.push(`- Machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM; node ${process.version}; ${kcatVersion}.`)
    lines.push(`- Load average at the start: ${loadStart}; at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}. The machine is shared, so compare figures of the same run and read the [min–max] spread.`)
    lines.push(`- One kcli broker (\`node bin/run.js server start\`, a fresh data directory under ${options['data-root']} per run) on 127.0.0.1; every tool is a separate process timed from spawn to exit (start-up, metadata, final flush included), acks=all (both tools' default), no compression, 1 partition. The tools take turns going first from run to run.`)
    lines.push(`- ${repeats} runs, outer loop over runs; each figure is median [min–max] of records/s; a ratio is kcli ÷ kcat records/s within each run (the two measured minutes apart at most), median [min–max] over the runs.`, '')
    lines.push('| size | records | kcat -P | kcli produce (stdin file) | ratio | kcli perf produce | ratio | kcli perf produce, own clock | kcat -C | kcli consume | ratio |')
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const c of cases) {
      const s = results.get(c.size)!
      const ratio = (a: string, b: string) => {
        const perRun = s[a]!.map((v, i) => v / s[b]![i]!)
        return `${median(perRun).toFixed(2)} [${Math.min(...perRun).toFixed(2)}–${Math.max(...perRun).toFixed(2)}]`
      }
      lines.push(
        `| ${c.size} B | ${c.records.toLocaleString('en-US')} | ${spread(s['kcat produce']!)} | ${spread(s['kcli produce']!)} | ${ratio('kcli produce', 'kcat produce')} | ${spread(s['kcli perf produce']!)} | ${ratio('kcli perf produce', 'kcat produce')} | ${spread(s['kcli perf produce (own clock)']!)} | ${spread(s['kcat consume']!)} | ${spread(s['kcli consume']!)} | ${ratio('kcli consume', 'kcat consume')} |`,
      )
    }
    lines.push('', `\`kcli --help\` start-up: median ${median(helpRuns).toFixed(0)} ms [${Math.min(...helpRuns).toFixed(0)}–${Math.max(...helpRuns).toFixed(0)}] over ${helpRuns.length} spawns; \`node -e 0\` on the same machine: median ${median(nodeRuns).toFixed(0)} ms.`)
    lines.push('')
    const text = `${lines.join('\n')}\n`
    const previous = existsSync(options.out) ? readFileSync(options.out, 'utf8') : ''
    const notes = previous.includes('<!-- notes -->') ? previous.slice(previous.indexOf('<!-- notes -->')) : ''
    writeFileSync(options.out, notes ? `${text}\n${notes}` : text)
    process.stdout.write(text)
  } finally {
    rmSync(work, {force: true, recursive: true})
  }
}

await main()
