/**
 * SASL/PLAIN (RFC 4616) as Kafka uses it: one message, authzid NUL authcid NUL password, UTF-8;
 * the authorization id is empty or the user itself.
 */

export class PlainError extends Error {}

export function plainMessage(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`, 'utf8')
}

/** The user and password of a PLAIN message; throws PlainError for a malformed one. */
export function parsePlainMessage(message: Buffer): {username: string; password: string} {
  const parts = message.toString('utf8').split('\0')
  if (parts.length !== 3) throw new PlainError('invalid SASL/PLAIN message: expected authzid, username and password separated by NUL')
  const [authzid, username, password] = parts as [string, string, string]
  if (username === '' || password === '') throw new PlainError('invalid SASL/PLAIN message: empty username or password')
  if (authzid !== '' && authzid !== username) throw new PlainError('SASL/PLAIN authorization id differs from the username')
  return {password, username}
}
