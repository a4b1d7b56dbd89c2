/**
 * Kafka UUIDs (topic ids, directory ids) are 16 bytes on the wire. We carry them as Kafka's own
 * text form, `Uuid.toString()`: URL-safe base64 without padding (22 characters), which is what
 * Kafka's tools print, and which works as a Map key.
 */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export function uuidToBytes(uuid: string): Buffer {
  const bytes = Buffer.from(uuid, 'base64url')
  if (bytes.length !== 16 || uuid.length !== 22) throw new TypeError(`not a Kafka UUID: ${JSON.stringify(uuid)}`)
  return bytes
}

export function uuidFromBytes(buf: Buffer, offset: number): string {
  return buf.toString('base64url', offset, offset + 16)
}

/** A random (version 4) UUID, as Kafka's Uuid.randomUuid() makes for topic ids. */
export function randomUuid(): string {
  const bytes = Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const uuid = bytes.toString('base64url')
  // Kafka never hands out the zero UUID or one whose text starts with '-' (it would parse as a flag).
  return uuid === ZERO_UUID || uuid.startsWith('-') ? randomUuid() : uuid
}
