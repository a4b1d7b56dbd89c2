/**
 * The mirror connectors as plugins for the worker's registry, in the shape of the runtime's
 * PluginDescriptor ({type, className, version, create}): `connector.class` may name Kafka's full
 * class name or its simple name (MirrorSourceConnector, MirrorCheckpointConnector).
 */
import {MIRROR_CHECKPOINT_CONNECTOR_CLASS, MirrorCheckpointConnector} from './checkpoint.js'
import {VERSION} from './config.js'
import {MIRROR_SOURCE_CONNECTOR_CLASS, MirrorSourceConnector} from './source.js'

export {MIRROR_CHECKPOINT_CONNECTOR_CLASS, MirrorCheckpointConnector, MirrorCheckpointTask} from './checkpoint.js'
export {MIRROR_SOURCE_CONNECTOR_CLASS, MirrorSourceConnector, MirrorSourceTask} from './source.js'

export const plugins = [
  {type: 'source' as const, className: MIRROR_SOURCE_CONNECTOR_CLASS, version: VERSION, create: () => new MirrorSourceConnector()},
  {type: 'source' as const, className: MIRROR_CHECKPOINT_CONNECTOR_CLASS, version: VERSION, create: () => new MirrorCheckpointConnector()},
]
