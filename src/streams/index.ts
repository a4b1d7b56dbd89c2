/** kcli Streams: Kafka Streams' model for TypeScript on kcli's client (`kcli/streams`). */
export {Serdes, SerializationException, type Serde} from './serdes.js'
export {
  type Branched,
  BranchedKStream,
  BufferConfig,
  GlobalKTable,
  SessionWindowedKStream,
  type StoreBuilder,
  Stores,
  type StreamJoined,
  Suppressed,
  type Consumed,
  type Grouped,
  KGroupedStream,
  KStream,
  KTable,
  type KeyValue,
  type Materialized,
  type Named,
  type Produced,
  type Repartitioned,
  type StreamPartitioner,
  StreamsBuilder,
  TimeWindowedKStream,
} from './kstream.js'
export {JoinWindows, SessionWindows, SlidingWindows, TimeWindows, type Window, type Windowed, WindowedSerdes} from './windows.js'
export type {ApiProcessor, ApiProcessorContext, KeyValueStoreApi} from './processors.js'
export {type Cancellable, type Processor, type ProcessorContext, type PunctuationType, type StreamRecord, Topology, TopologyDescription, TopologyException} from './topology.js'
export {
  type DeserializationExceptionHandler,
  type HostInfo,
  InvalidStateStoreException,
  KEY_QUERY_METADATA_NOT_AVAILABLE,
  type KeyQueryMetadata,
  type ReadOnlyKeyValueStore,
  type DeserializationHandlerResponse,
  KafkaStreams,
  LogAndContinueExceptionHandler,
  LogAndFailExceptionHandler,
  MissingSourceTopicException,
  type StreamsConfig,
  StreamsException,
  type StreamsState,
} from './kafka-streams.js'
export {PersistentKeyValueStore} from './store.js'
export {STREAMS_PROTOCOL, StreamsAssignor, assignTasks} from './assignor.js'
