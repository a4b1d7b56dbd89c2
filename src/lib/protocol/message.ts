import {UnsupportedVersionError} from './errors.js'
import {Reader} from './reader.js'
import {Writer} from './writer.js'

/**
 * What an encoder accepts: the message type with every field optional, at every depth. A field
 * left out is written as its default (the same default the decoder fills in for versions that do
 * not carry the field), as Kafka's generated Java classes do.
 */
export type Encodable<T> = T extends Buffer | bigint | string | number | boolean | null | undefined
  ? T
  : T extends ReadonlyArray<infer E>
    ? ReadonlyArray<Encodable<E>>
    : {[K in keyof T]?: K extends 'unknownTaggedFields' ? T[K] : Encodable<T[K]>}

export type MessageKind = 'request' | 'response' | 'header' | 'data'

/** One message definition, all of its versions: the generated codecs are values of this type. */
export interface MessageCodec<T> {
  readonly name: string
  readonly kind: MessageKind
  /** The API key for requests and responses; -1 for headers and data definitions. */
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
  /** First flexible version, or null when no version is flexible. */
  readonly flexibleMinVersion: number | null
  read(r: Reader, version: number): T
  write(w: Writer, message: Encodable<T>, version: number): void
  /** Decodes one message from `buf` (from `offset`); throws ProtocolDecodeError on malformed bytes. */
  decode(buf: Buffer, version: number, offset?: number): T
  encode(message: Encodable<T>, version: number): Buffer
}

export function defineMessage<T>(spec: Omit<MessageCodec<T>, 'decode' | 'encode'>): MessageCodec<T> {
  const checkVersion = (version: number) => {
    if (!(version >= spec.minVersion && version <= spec.maxVersion) || !Number.isInteger(version)) {
      throw new UnsupportedVersionError(spec.name, version)
    }
  }
  return {
    ...spec,
    decode(buf, version, offset = 0) {
      checkVersion(version)
      return spec.read(new Reader(buf, offset), version)
    },
    encode(message, version) {
      checkVersion(version)
      const w = new Writer()
      spec.write(w, message, version)
      return w.toBuffer()
    },
  }
}

/** Shared immutable defaults the generated encoders use for fields left out. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0)
export const EMPTY_ARRAY: readonly never[] = Object.freeze([])
