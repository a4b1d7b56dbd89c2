/**
 * Child process of word-count-eos.test.ts: the word count with exactly_once_v2 until SIGTERM (a
 * clean close, exit 0) or SIGKILL. Prints RUNNING when its tasks are restored and it processes.
 * Usage: tsx word-count-app.ts <bootstrap> <input> <output> <state.dir> <application.id>
 */
import {KafkaStreams} from '../../src/streams/index.js'
import {wordCountTopology} from './support.js'

const [bootstrap, input, output, stateDir, appId] = process.argv.slice(2) as [string, string, string, string, string]
const app = new KafkaStreams(wordCountTopology(input, output), {
  'application.id': appId,
  'bootstrap.servers': bootstrap,
  'commit.interval.ms': 100,
  'group.instance.id': `${appId}-instance-1`,
  logger: {error: (m) => process.stderr.write(`ERROR ${m}\n`), info: () => undefined, warn: () => undefined},
  // WC_GUARANTEE=at_least_once shows what the test catches: duplicated updates after a kill.
  'processing.guarantee': (process.env.WC_GUARANTEE as 'at_least_once' | undefined) ?? 'exactly_once_v2',
  'session.timeout.ms': 10_000,
  'state.dir': stateDir,
})
app.setStateListener((state) => {
  if (state === 'RUNNING') process.stdout.write('RUNNING\n')
  if (state === 'ERROR') process.exit(1)
})
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
await app.start()
