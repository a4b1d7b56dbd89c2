/**
 * A windowed page-view aggregation with kcli Streams: page views (key: user, value: JSON
 * `{"page": "/home", "ts": <event time, ms>}`) from `page-views`, counted per page in 1-minute
 * tumbling windows of event time (a timestamp extractor reads `ts`) with 10 s of grace for late
 * records; each window's final count goes to `page-view-counts` once the window has closed
 * (suppress(untilWindowCloses)), keyed `<page>@<window start>` (String keys, Long values).
 *
 *   npm run build                      # kcli/streams resolves to dist/
 *   npx kcli server start &
 *   npx kcli topics create page-views page-view-counts --partitions 1 --if-not-exists
 *   npx tsx examples/page-views.ts [bootstrap] [--produce-sample]
 *
 * --produce-sample writes (with `kcli produce`) 1,000 views of 5 pages over 5 minutes of event
 * time, a tenth of them up to 8 s late, then one view per page 2 minutes later that closes the
 * last windows: the output is 5 pages x 5 windows, whose counts add up to 1,000. (One partition:
 * each task's stream time is its own, so with more a page's windows close only when a later view
 * of a page in the same partition comes.)
 */
import {BufferConfig, KafkaStreams, Serdes, StreamsBuilder, Suppressed, TimeWindows} from 'kcli/streams'

interface PageView {
  page: string
  ts: number
}

const bootstrap = process.argv.find((a, i) => i >= 2 && !a.startsWith('--')) ?? '127.0.0.1:9092'

const builder = new StreamsBuilder()
builder
  .stream<string, PageView>('page-views', {keySerde: Serdes.String(), timestampExtractor: (record) => record.value.ts, valueSerde: Serdes.JSON<PageView>()})
  .groupBy((_user, view) => view.page, {keySerde: Serdes.String(), valueSerde: Serdes.JSON<PageView>()})
  .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 10_000))
  .count()
  .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
  .toStream()
  .map((windowed, count) => [`${windowed.key}@${new Date(windowed.window.start).toISOString()}`, count])
  .peek((key, count) => console.log(`${key}\t${count}`))
  .to('page-view-counts', {keySerde: Serdes.String(), valueSerde: Serdes.Long()})

const topology = builder.build()
console.error(topology.describe().toString())

if (process.argv.includes('--produce-sample')) await produceSample()

const streams = new KafkaStreams(topology, {'application.id': 'page-views', 'bootstrap.servers': bootstrap, 'commit.interval.ms': 1000})
streams.setStateListener((state, old) => console.error(`state ${old} -> ${state}`))
process.once('SIGINT', () => void streams.close().then(() => process.exit(0)))
process.once('SIGTERM', () => void streams.close().then(() => process.exit(0)))
await streams.start()

/** 1,000 views over 5 minutes from a fixed start (some up to 8 s late), then one 2 minutes after. */
async function produceSample(): Promise<void> {
  const {spawnSync} = await import('node:child_process')
  const {fileURLToPath} = await import('node:url')
  const start = Date.UTC(2026, 0, 1)
  const pages = ['/home', '/cart', '/pay', '/search', '/help']
  const lines: string[] = []
  let x = 1
  const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  for (let i = 0; i < 1000; i++) {
    const ts = start + i * 300 - (i > 30 && random() < 0.1 ? Math.floor(random() * 8000) : 0)
    lines.push(`user-${Math.floor(random() * 50)} ${JSON.stringify({page: pages[Math.floor(random() * pages.length)], ts})}`)
  }
  for (const page of pages) lines.push(`user-0 ${JSON.stringify({page, ts: start + 420_000})}`)
  const result = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/run.js', import.meta.url)), 'produce', 'page-views', '--bootstrap-server', bootstrap, '-K', ' '], {input: lines.join('\n') + '\n', stdio: ['pipe', 'inherit', 'inherit']})
  if (result.status !== 0) throw new Error('producing the sample failed')
}
