/**
 * Kafka Streams' WordCountDemo with kcli Streams: lines from `streams-plaintext-input`, a count per
 * word in a persistent store (changelog `streams-wordcount-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog`),
 * each new count to `streams-wordcount-output` (String keys, Long values) and printed.
 *
 *   npm run build                      # kcli/streams resolves to dist/
 *   npx kcli server start &
 *   npx kcli topics create streams-plaintext-input streams-wordcount-output --partitions 3 --if-not-exists
 *   npx tsx examples/word-count.ts [bootstrap] [at_least_once|exactly_once_v2]
 *   printf 'all streams lead to kafka\nhello kafka streams\n' | npx kcli produce streams-plaintext-input
 *
 * Ctrl-C closes it cleanly (commits, writes its checkpoints, leaves the group).
 */
import {KafkaStreams, Serdes, StreamsBuilder} from 'kcli/streams'

const bootstrap = process.argv[2] ?? '127.0.0.1:9092'
const guarantee = (process.argv[3] ?? 'at_least_once') as 'at_least_once' | 'exactly_once_v2'

const builder = new StreamsBuilder()
builder
  .stream<string | null, string>('streams-plaintext-input', {keySerde: Serdes.String(), valueSerde: Serdes.String()})
  .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter((word) => word.length > 0))
  .groupBy((_key, word) => word, {keySerde: Serdes.String(), valueSerde: Serdes.String()})
  .count()
  .toStream()
  .peek((word, count) => console.log(`${word}\t${count}`))
  .to('streams-wordcount-output', {keySerde: Serdes.String(), valueSerde: Serdes.Long()})

const topology = builder.build()
console.error(topology.describe().toString())

const streams = new KafkaStreams(topology, {
  'application.id': 'streams-wordcount',
  'bootstrap.servers': bootstrap,
  'commit.interval.ms': 1000,
  'processing.guarantee': guarantee,
})
streams.setStateListener((state, old) => console.error(`state ${old} -> ${state}`))
process.once('SIGINT', () => void streams.close().then(() => process.exit(0)))
process.once('SIGTERM', () => void streams.close().then(() => process.exit(0)))
await streams.start()
