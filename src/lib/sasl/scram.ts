/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka uses them (KIP-84): no channel
 * binding (gs2 header "n,,"), usernames escaped with =2C and =3D, 4096+ iterations. Both ends:
 * ScramClient for kcli's connections, ScramServer and scramCredential for the broker, which keeps
 * only the salt, iteration count, StoredKey and ServerKey of each user (as Kafka does), never the
 * password.
 *
 * One exchange:
 *   client-first  n,,n=<user>,r=<client nonce>
 *   server-first  r=<client nonce + server nonce>,s=<salt base64>,i=<iterations>
 *   client-final  c=biws,r=<nonce>,p=<ClientProof base64>
 *   server-final  v=<ServerSignature base64>     (or e=<error>)
 * with SaltedPassword = PBKDF2(password, salt, i), ClientKey = HMAC(SaltedPassword, "Client Key"),
 * StoredKey = H(ClientKey), AuthMessage = client-first-bare + "," + server-first + "," +
 * client-final-without-proof, ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage),
 * ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage).
 */

import {createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual} from 'node:crypto'

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number]

/** Kafka's minimum iteration count (ScramMechanism.minIterations). */
export const MIN_ITERATIONS = 4096
/** Kafka's maximum (KIP-554). */
export const MAX_ITERATIONS = 16384

export class ScramError extends Error {}

interface Hash {
  name: 'sha256' | 'sha512'
  length: number
}

function hashOf(mechanism: ScramMechanism): Hash {
  return mechanism === 'SCRAM-SHA-256' ? {length: 32, name: 'sha256'} : {length: 64, name: 'sha512'}
}

/** KIP-554's numbers for the mechanisms (Kafka's org.apache.kafka.clients.admin.ScramMechanism), in AlterUserScramCredentials and DescribeUserScramCredentials. */
export const SCRAM_MECHANISM_NUMBERS: Readonly<Record<ScramMechanism, number>> = {'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2}
export const SCRAM_MECHANISM_TYPES: Readonly<Record<number, ScramMechanism>> = {1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512'}

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name)
}

/** What a server stores for one user and mechanism. */
export interface ScramCredential {
  salt: Buffer
  iterations: number
  storedKey: Buffer
  serverKey: Buffer
}

const hmac = (hash: Hash, key: Buffer, data: string | Buffer) => createHmac(hash.name, key).update(data).digest()

function salted(hash: Hash, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, hash.length, hash.name)
}

/** PBKDF2 of the password, what a client sends in AlterUserScramCredentials (KIP-554). */
export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  return salted(hashOf(mechanism), password, salt, iterations)
}

/** The credential stored for `password` (a random 32-byte salt unless one is given). */
export function scramCredential(mechanism: ScramMechanism, password: string, iterations = MIN_ITERATIONS, salt: Buffer = randomBytes(32)): ScramCredential {
  const hash = hashOf(mechanism)
  const saltedPassword = salted(hash, password, salt, iterations)
  const clientKey = hmac(hash, saltedPassword, 'Client Key')
  return {iterations, salt, serverKey: hmac(hash, saltedPassword, 'Server Key'), storedKey: createHash(hash.name).update(clientKey).digest()}
}

/** The credential for an already salted password (KIP-554's AlterUserScramCredentials sends that). */
export function scramCredentialFromSalted(mechanism: ScramMechanism, saltedPassword: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const hash = hashOf(mechanism)
  const clientKey = hmac(hash, saltedPassword, 'Client Key')
  return {iterations, salt, serverKey: hmac(hash, saltedPassword, 'Server Key'), storedKey: createHash(hash.name).update(clientKey).digest()}
}

function escapeName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C')
}

function unescapeName(name: string): string {
  if (/=(?!2C|3D)/.test(name)) throw new ScramError(`invalid username encoding: ${name}`)
  return name.replaceAll('=2C', ',').replaceAll('=3D', '=')
}

/**
 * The attributes of a SCRAM message (`k=v,k=v`; values may contain '='). Longer keys are Kafka's
 * extensions (e.g. tokenauth=true for delegation tokens): skipped.
 */
function parseAttributes(message: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of message.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 1) throw new ScramError(`invalid SCRAM message: ${message}`)
    if (eq === 1) out.set(part[0]!, part.slice(2))
  }
  return out
}

function required(attributes: Map<string, string>, key: string, message: string): string {
  const value = attributes.get(key)
  if (value === undefined || value === '') throw new ScramError(`SCRAM message without ${key}=: ${message}`)
  return value
}

function nonce(): string {
  return randomBytes(24).toString('base64').replaceAll(',', '-')
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** The client side of one exchange. */
export class ScramClient {
  private readonly hash: Hash
  private readonly clientNonce: string
  private clientFirstBare = ''
  private expectedServerSignature: Buffer | undefined

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly username: string,
    private readonly password: string,
    clientNonce: string = nonce(),
  ) {
    this.hash = hashOf(mechanism)
    this.clientNonce = clientNonce
  }

  firstMessage(): Buffer {
    this.clientFirstBare = `n=${escapeName(this.username)},r=${this.clientNonce}`
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8')
  }

  /** The client-final message for the server-first message; throws ScramError for a bad one. */
  finalMessage(serverFirstBytes: Buffer): Buffer {
    const serverFirst = serverFirstBytes.toString('utf8')
    const attributes = parseAttributes(serverFirst)
    if (attributes.has('e')) throw new ScramError(`server refused: ${attributes.get('e')}`)
    const combinedNonce = required(attributes, 'r', serverFirst)
    if (!combinedNonce.startsWith(this.clientNonce) || combinedNonce.length === this.clientNonce.length) throw new ScramError('the server nonce does not extend the client nonce')
    const salt = Buffer.from(required(attributes, 's', serverFirst), 'base64')
    const iterations = Number(required(attributes, 'i', serverFirst))
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1_000_000) throw new ScramError(`invalid iteration count ${attributes.get('i')}`)
    const saltedPassword = salted(this.hash, this.password, salt, iterations)
    const clientKey = hmac(this.hash, saltedPassword, 'Client Key')
    const storedKey = createHash(this.hash.name).update(clientKey).digest()
    const withoutProof = `c=biws,r=${combinedNonce}`
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`
    const proof = xor(clientKey, hmac(this.hash, storedKey, authMessage))
    this.expectedServerSignature = hmac(this.hash, hmac(this.hash, saltedPassword, 'Server Key'), authMessage)
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8')
  }

  /** Checks the server-final message: the server proves it knows the credential too. */
  verifyServerFinal(serverFinalBytes: Buffer): void {
    const serverFinal = serverFinalBytes.toString('utf8')
    const attributes = parseAttributes(serverFinal)
    if (attributes.has('e')) throw new ScramError(`server refused: ${attributes.get('e')}`)
    const signature = Buffer.from(required(attributes, 'v', serverFinal), 'base64')
    if (!this.expectedServerSignature || signature.length !== this.expectedServerSignature.length || !timingSafeEqual(signature, this.expectedServerSignature)) {
      throw new ScramError('the server signature does not match: the server does not know this password')
    }
  }
}

/** The server side of one exchange. */
export class ScramServer {
  private readonly hash: Hash
  private state: 'first' | 'final' | 'done' = 'first'
  private clientFirstBare = ''
  private serverFirst = ''
  private combinedNonce = ''
  private credential: ScramCredential | undefined
  /** The authenticated user, once done. */
  username: string | undefined

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (username: string) => ScramCredential | undefined,
    private readonly serverNonce: string = nonce(),
  ) {
    this.hash = hashOf(mechanism)
  }

  /** The answer to the client's next message; throws ScramError when authentication fails. */
  respond(messageBytes: Buffer): Buffer {
    const message = messageBytes.toString('utf8')
    if (this.state === 'first') return this.onClientFirst(message)
    if (this.state === 'final') return this.onClientFinal(message)
    throw new ScramError('the exchange is over')
  }

  get done(): boolean {
    return this.state === 'done'
  }

  private onClientFirst(message: string): Buffer {
    // gs2 header: "n,," (no channel binding; "y,," tolerated; an authzid must be the user itself).
    const match = /^([ny]),(?:a=([^,]*))?,(.*)$/s.exec(message)
    if (!match) throw new ScramError('invalid client-first message (only gs2 header n,, is supported)')
    this.clientFirstBare = match[3]!
    const attributes = parseAttributes(this.clientFirstBare)
    const username = unescapeName(required(attributes, 'n', message))
    if (match[2] && unescapeName(match[2]) !== username) throw new ScramError('authorization id differs from the username')
    const clientNonce = required(attributes, 'r', message)
    this.credential = this.lookup(username)
    if (!this.credential) throw new ScramError(`authentication failed for ${username}`)
    this.username = username
    this.combinedNonce = clientNonce + this.serverNonce
    this.serverFirst = `r=${this.combinedNonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`
    this.state = 'final'
    return Buffer.from(this.serverFirst, 'utf8')
  }

  private onClientFinal(message: string): Buffer {
    const credential = this.credential!
    const attributes = parseAttributes(message)
    // Kafka's ScramSaslServer only checks that the nonce ends with the one it sent, and librdkafka
    // 2.0 relies on that: it sends r=<client nonce><client nonce + server nonce>. The proof covers
    // the message as sent, so nothing weakens.
    if (!required(attributes, 'r', message).endsWith(this.combinedNonce)) throw new ScramError('invalid nonce in client-final message')
    const proofAt = message.lastIndexOf(',p=')
    if (proofAt < 0) throw new ScramError('client-final message without proof')
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${message.slice(0, proofAt)}`
    const proof = Buffer.from(required(attributes, 'p', message), 'base64')
    const clientSignature = hmac(this.hash, credential.storedKey, authMessage)
    if (proof.length !== clientSignature.length) throw new ScramError(`authentication failed for ${this.username}`)
    const clientKey = xor(proof, clientSignature)
    const storedKey = createHash(this.hash.name).update(clientKey).digest()
    if (!timingSafeEqual(storedKey, credential.storedKey)) throw new ScramError(`authentication failed for ${this.username}`)
    this.state = 'done'
    return Buffer.from(`v=${hmac(this.hash, credential.serverKey, authMessage).toString('base64')}`, 'utf8')
  }
}
