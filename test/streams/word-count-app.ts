/**
 * Child process of the Streams process tests (word-count-eos, multi-instance): the word count with
 * exactly_once_v2 until SIGTERM (a clean close, exit 0) or SIGKILL. Prints `RUNNING active=<tasks>
 * standby=<tasks>` each time it reaches RUNNING (its tasks restored, processing).
 * Usage: tsx word-count-app.ts <bootstrap> <input> <output> <state.dir> <application.id> [instance]
 * Environment: WC_GUARANTEE (default exactly_once_v2), WC_STANDBYS (num.standby.replicas),
 * WC_SERVER (application.server), WC_SESSION_MS (session.timeout.ms, default 10000).
 */
import {KafkaStreams} from '../../src/streams/index.js'
import {wordCountTopology} from './support.js'

const [bootstrap, input, output, stateDir, appId, instance = '1'] = process.argv.slice(2) as [string, string, string, string, string, string?]
const app = new KafkaStreams(wordCountTopology(input, output), {
  'application.id': appId,
  'application.server': process.env.WC_SERVER,
  'bootstrap.servers': bootstrap,
  'commit.interval.ms': 100,
  'statestore.cache.max.bytes': 0,
  'group.instance.id': `${appId}-instance-${instance}`,
  logger: {error: (m) => process.stderr.write(`ERROR ${m}\n`), info: () => undefined, warn: () => undefined},
  'num.standby.replicas': Number(process.env.WC_STANDBYS ?? 0),
  // WC_GUARANTEE=at_least_once shows what the test catches: duplicated updates after a kill.
  'processing.guarantee': (process.env.WC_GUARANTEE as 'at_least_once' | undefined) ?? 'exactly_once_v2',
  'session.timeout.ms': Number(process.env.WC_SESSION_MS ?? 10_000),
  'heartbeat.interval.ms': 1000,
  'state.dir': stateDir,
})
app.setStateListener((state) => {
  if (state === 'RUNNING') {
    const {active, standby} = app.localTasks()
    process.stdout.write(`RUNNING active=${active.join(',')} standby=${standby.join(',')} restored=${app.restoredRecords}\n`)
  }
  if (state === 'ERROR') process.exit(1)
})
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
await app.start()
