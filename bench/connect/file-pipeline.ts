// Records per second through a standalone Connect worker: FileStreamSource -> topic ->
// FileStreamSink, both in one `kcli connect standalone` process spawned from dist/, against a
// `kcli server start` broker (dist/ too). Per case: N lines of ~100 bytes; the clock runs from
// the worker's spawn to the sink file holding every line (so it includes start-up, ~1 s); worker
// CPU (user+sys from /proc/PID/stat) and peak RSS (VmHWM) are read just before it is stopped.
// Cases alternate at-least-once and exactly-once source (a transaction per poll), so that their
// ratio is measured under the same load. Usage: npx tsx bench/connect/file-pipeline.ts [lines] [repeats]
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {loadavg} from 'node:os'
import {join} from 'node:path'
import {spawnDistBroker, spawnWorker, writeProperties} from '../../test/e2e/connect-support.js'
import {removeDir, tempDir} from '../../test/e2e/harness.js'

const lines = Number(process.argv[2] ?? 200_000)
const repeats = Number(process.argv[3] ?? 3)
const dir = tempDir('kcli-bench-connect-')
const TICK = 100 // USER_HZ

function procStats(pid: number): {cpuMs: number; rssMb: number} {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * (1000 / TICK)
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return {cpuMs, rssMb: Number(hwm?.[1] ?? 0) / 1024}
}

async function main(): Promise<void> {
  const broker = await spawnDistBroker(join(dir, 'broker'))
  const bootstrap = `127.0.0.1:${broker.status.listeners[0]!.port}`
  const input = join(dir, 'input.txt')
  const text = Array.from({length: lines}, (_, i) => `${String(i).padStart(10, '0')} ${'abcdefghij'.repeat(9)}`).join('\n') + '\n'
  writeFileSync(input, text)
  const rows: string[] = []
  console.log(`lines=${lines} bytes=${text.length} load average ${loadavg().map(l => l.toFixed(1)).join(' ')}`)
  try {
    for (let r = 0; r < repeats; r++) {
      for (const eos of [false, true]) {
        const name = `r${r}-${eos ? 'eos' : 'alo'}`
        const output = join(dir, `${name}.txt`)
        const worker = writeProperties(join(dir, `${name}-worker.properties`), {
          'bootstrap.servers': bootstrap, 'key.converter': 'org.apache.kafka.connect.storage.StringConverter', 'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
          'offset.storage.file.filename': join(dir, `${name}.offsets`), 'offset.storage.topic': `${name}-offsets`, 'offset.flush.interval.ms': '1000', listeners: 'http://127.0.0.1:0',
          ...(eos ? {'exactly.once.source.support': 'enabled', 'consumer.isolation.level': 'read_committed'} : {}),
        })
        const source = writeProperties(join(dir, `${name}-source.properties`), {name: `${name}-source`, 'connector.class': 'FileStreamSource', file: input, topic: `${name}-lines`})
        const sink = writeProperties(join(dir, `${name}-sink.properties`), {name: `${name}-sink`, 'connector.class': 'FileStreamSink', file: output, topics: `${name}-lines`})
        const started = process.hrtime.bigint()
        const w = await spawnWorker(worker, [source, sink])
        const deadline = Date.now() + 600_000
        for (;;) {
          let size = 0
          try { size = statSync(output).size } catch { /* not yet */ }
          if (size >= text.length) break
          if (Date.now() > deadline) throw new Error(`${name}: not copied in 600 s`)
          await new Promise(resolve => setTimeout(resolve, 20))
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        const {cpuMs, rssMb} = procStats(w.child.pid!)
        await w.kill()
        if (readFileSync(output, 'utf8') !== text) throw new Error(`${name}: output differs from input`)
        const row = `| ${eos ? 'exactly-once source' : 'at-least-once'} | ${r + 1} | ${seconds.toFixed(2)} | ${Math.round(lines / seconds).toLocaleString('en-US')} | ${(cpuMs / 1000).toFixed(2)} | ${Math.round(cpuMs / seconds / 10)}% | ${rssMb.toFixed(0)} |`
        console.log(row)
        rows.push(row)
      }
    }
  } finally {
    await broker.kill()
    removeDir(dir)
  }
  console.log(`\n| mode | run | seconds | records/s | worker CPU s | worker CPU % | worker peak RSS MB |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n${rows.join('\n')}`)
  console.log(`load average after: ${loadavg().map(l => l.toFixed(1)).join(' ')}`)
}

await main()
