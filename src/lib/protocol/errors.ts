/**
 * The one error a decoder throws. Every malformed input — a frame cut short, a length past the
 * end, a negative length where none is allowed, a varint that never ends — becomes a
 * ProtocolDecodeError naming the byte offset and the field being read. Kafka error codes inside
 * a well-formed message are data, never exceptions.
 */
export class ProtocolDecodeError extends Error {
  override readonly name = 'ProtocolDecodeError'

  constructor(
    readonly reason: string,
    /** Byte offset in the decoded buffer where the bad field starts. */
    readonly offset: number,
    /** Dotted path of the field, e.g. `ProduceRequest.topicData.partitionData.records`. */
    readonly field: string,
  ) {
    super(`${field} at offset ${offset}: ${reason}`)
  }
}

/** A message version outside the validVersions of its definition. */
export class UnsupportedVersionError extends Error {
  override readonly name = 'UnsupportedVersionError'

  constructor(readonly message_: string, readonly version: number) {
    super(`${message_} does not have version ${version}`)
  }
}
