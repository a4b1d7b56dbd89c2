/** The Kafka wire protocol, sans IO: typed messages <-> bytes. */
import {registerApiCodecs} from './frame.js'
import {API_CODECS} from './generated/index.js'

// Everything at once: whoever imports the whole protocol gets every codec loaded.
registerApiCodecs(API_CODECS)

export * from './errors.js'
export * from './frame.js'
export * from './generated/api-keys.js'
export * from './generated/errors.js'
export * from './generated/index.js'
export {defineMessage, type Encodable, type MessageCodec} from './message.js'
export {Reader, type UnknownTaggedField} from './reader.js'
export {randomUuid, ZERO_UUID} from './uuid.js'
export {Writer} from './writer.js'
