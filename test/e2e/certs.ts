/**
 * Test certificates made with the `openssl` CLI in a temporary directory: a CA, a server
 * certificate for 127.0.0.1 and localhost (subjectAltName) signed by it, a client certificate
 * signed by it, and a second CA that signed nothing the broker uses (a client trusting only that
 * one must fail the handshake). Also the server's key and chain as one PEM file, as an encrypted
 * PKCS#8 key, and as a PKCS12 keystore. `remove()` deletes the directory.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {removeDir, tempDir} from './harness.js'

export const OPENSSL = '/usr/bin/openssl'

/** Why openssl cannot be used here, or null when it can. */
export const opensslMissing: string | null = existsSync(OPENSSL) ? null : `${OPENSSL} not found: install the Debian package openssl`

export interface TestCertificates {
  dir: string
  /** The CA that signed the server and client certificates (PEM file). */
  caPem: string
  /** A CA that signed nothing the broker uses. */
  otherCaPem: string
  serverKey: string
  serverCert: string
  /** Key and certificate in one PEM file (ssl.keystore.type=PEM, ssl.keystore.location). */
  serverKeystorePem: string
  /** The server key encrypted (PKCS#8, AES-256) with `keyPassword`. */
  serverKeyEncrypted: string
  keyPassword: string
  /** PKCS12 keystore with `storePassword`. */
  serverP12: string
  storePassword: string
  clientKey: string
  clientCert: string
  /** Subject of the client certificate as Kafka writes a principal's name (RFC 2253). */
  clientDn: string
  remove(): void
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync(OPENSSL, args, {cwd, encoding: 'utf8', timeout: 30_000})
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`)
}

export function makeCertificates(): TestCertificates {
  const dir = tempDir('kcli-certs-')
  try {
    const days = ['-days', '2']
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', ...days, '-subj', '/CN=kcli test CA'], dir)
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', ...days, '-subj', '/CN=kcli other CA'], dir)
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir)
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', ...days, '-extfile', 'server.ext'], dir)
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n')
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/O=kcli tests/CN=alice'], dir)
    openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', ...days, '-extfile', 'client.ext'], dir)
    const keyPassword = 'key-secret'
    const storePassword = 'store-secret'
    openssl(['pkcs8', '-topk8', '-in', 'server.key', '-out', 'server-encrypted.key', '-v2', 'aes-256-cbc', '-passout', `pass:${keyPassword}`], dir)
    openssl(['pkcs12', '-export', '-in', 'server.pem', '-inkey', 'server.key', '-certfile', 'ca.pem', '-out', 'server.p12', '-passout', `pass:${storePassword}`], dir)
    writeFileSync(join(dir, 'server-keystore.pem'), readFileSync(join(dir, 'server.key'), 'utf8') + readFileSync(join(dir, 'server.pem'), 'utf8'))
    const p = (f: string) => join(dir, f)
    return {
      dir,
      caPem: p('ca.pem'),
      otherCaPem: p('other-ca.pem'),
      serverKey: p('server.key'),
      serverCert: p('server.pem'),
      serverKeystorePem: p('server-keystore.pem'),
      serverKeyEncrypted: p('server-encrypted.key'),
      keyPassword,
      serverP12: p('server.p12'),
      storePassword,
      clientKey: p('client.key'),
      clientCert: p('client.pem'),
      clientDn: 'CN=alice,O=kcli tests',
      remove: () => removeDir(dir),
    }
  } catch (error) {
    removeDir(dir)
    throw error
  }
}
