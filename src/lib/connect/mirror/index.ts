/**
 * The mirror connectors by class name, for the worker's plugin registry: Kafka's full class name
 * and its simple name (Kafka Connect accepts both in `connector.class`).
 */
import type {SourceConnector} from '../api.js'
import {MIRROR_CHECKPOINT_CONNECTOR_CLASS, MirrorCheckpointConnector} from './checkpoint.js'
import {MIRROR_SOURCE_CONNECTOR_CLASS, MirrorSourceConnector} from './source.js'

export {MirrorCheckpointConnector, MirrorCheckpointTask} from './checkpoint.js'
export {MirrorSourceConnector, MirrorSourceTask} from './source.js'

export const MIRROR_CONNECTORS: ReadonlyMap<string, () => SourceConnector> = new Map<string, () => SourceConnector>([
  [MIRROR_SOURCE_CONNECTOR_CLASS, () => new MirrorSourceConnector()],
  ['MirrorSourceConnector', () => new MirrorSourceConnector()],
  [MIRROR_CHECKPOINT_CONNECTOR_CLASS, () => new MirrorCheckpointConnector()],
  ['MirrorCheckpointConnector', () => new MirrorCheckpointConnector()],
])
