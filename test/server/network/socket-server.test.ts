import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {connect, type TLSSocket} from 'node:tls'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {resolveBrokerConfig} from '../../../src/lib/config/broker-configs.js'
import type {ConnectionInfo, RequestDispatcher} from '../../../src/server/network/connection.js'
import {distinguishedName, SocketServer} from '../../../src/server/network/socket-server.js'
import {resolveListenerSecurity} from '../../../src/server/security/listener-security.js'
import {makeCertificates, OPENSSL, opensslMissing, type TestCertificates} from '../../e2e/certs.js'

const silent = {warn() {}, debug() {}}

/** Answers every frame with the principal of its connection (as a frame of its own). */
const echoPrincipal: RequestDispatcher = {
  async dispatch(_frame: Buffer, connection: ConnectionInfo) {
    const body = Buffer.from(`${connection.security.protocol} ${connection.security.principal}`)
    const size = Buffer.alloc(4)
    size.writeInt32BE(body.length)
    return {chunks: [size, body]}
  },
}

/** Connects, sends one frame, and gives the answer, or null when the server closes the connection first. */
function ask(port: number, options: {ca: string; cert?: string; key?: string}): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(options.ca), ...(options.cert ? {cert: readFileSync(options.cert), key: readFileSync(options.key!)} : {})})
    let data = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no answer in 10 s'))
    }, 10_000)
    socket.on('secureConnect', () => socket.write(Buffer.from([0, 0, 0, 1, 42])))
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d])
      if (data.length >= 4 && data.length >= 4 + data.readInt32BE(0)) {
        clearTimeout(timer)
        socket.destroy()
        resolve(data.subarray(4, 4 + data.readInt32BE(0)).toString())
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(null)
    })
  })
}

describe('distinguishedName', () => {
  it("writes node's subject as Java's X500Principal.getName() does: most specific first, escaped", () => {
    expect(distinguishedName('C=US\nO=Acme, Inc.\nCN=alice')).toBe('CN=alice,O=Acme\\, Inc.,C=US')
  })
})

describe.skipIf(opensslMissing)('SocketServer TLS listeners', () => {
  let certs: TestCertificates
  let server: SocketServer
  let port: number

  beforeAll(async () => {
    certs = makeCertificates()
    // A client certificate from a CA the broker does not trust.
    execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'stranger.key', '-out', 'stranger.pem', '-days', '2', '-subj', '/CN=stranger'], {cwd: certs.dir, stdio: 'ignore', timeout: 30_000})
    const config = resolveBrokerConfig({
      listeners: 'SSL://127.0.0.1:0',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': certs.serverKeystorePem,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': certs.caPem,
      'ssl.client.auth': 'requested',
    })
    const listener = config.listeners[0]!
    server = new SocketServer(
      {listeners: [{name: listener.name, host: listener.host, port: 0, security: resolveListenerSecurity(config, listener)}], maxRequestBytes: 1 << 20, maxQueuedBytes: 1 << 20, idleTimeoutMs: 60_000, maxConnections: 10, log: silent},
      echoPrincipal,
    )
    const [bound] = await server.start()
    expect(bound!.securityProtocol).toBe('SSL')
    port = bound!.boundPort
  })

  afterAll(async () => {
    await server?.stop()
    certs?.remove()
  })

  it('with ssl.client.auth=requested: the certificate subject is the principal, no certificate is ANONYMOUS, an untrusted one is closed', async () => {
    expect(await ask(port, {ca: certs.caPem, cert: certs.clientCert, key: certs.clientKey})).toBe(`SSL User:${certs.clientDn}`)
    expect(await ask(port, {ca: certs.caPem})).toBe('SSL User:ANONYMOUS')
    expect(await ask(port, {ca: certs.caPem, cert: join(certs.dir, 'stranger.pem'), key: join(certs.dir, 'stranger.key')})).toBeNull()
  })
})
