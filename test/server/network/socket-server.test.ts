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

describe('SocketServer plaintext listeners read requests in place (issue 19)', () => {
  it('hands the dispatcher every frame byte for byte, whatever the pieces they arrive in, and answers in order', async () => {
    // Frames of 10 B to 300 KiB (above the 64 KiB scratch buffer: read straight into their own buffer).
    const sizes = [10, 70_000, 3, 65_532, 65_533, 300_000, 1, 4_000]
    const frames = sizes.map((n, i) => Buffer.alloc(n, i + 1).fill(i * 7 + 1, 0, 1))
    const seen: Buffer[] = []
    const dispatcher: RequestDispatcher = {
      async dispatch(frame: Buffer) {
        seen.push(Buffer.from(frame))
        const answer = Buffer.alloc(8)
        answer.writeInt32BE(4)
        answer.writeInt32BE(frame.length, 4)
        return {chunks: [answer]}
      },
    }
    const server = new SocketServer({listeners: [{name: 'PLAINTEXT', host: '127.0.0.1', port: 0}], maxRequestBytes: 1 << 20, maxQueuedBytes: 1 << 20, idleTimeoutMs: 60_000, maxConnections: 10, log: silent}, dispatcher)
    const [bound] = await server.start()
    const {connect: connectTcp} = await import('node:net')
    const socket = connectTcp({host: '127.0.0.1', port: bound!.boundPort})
    try {
      const stream = Buffer.concat(frames.flatMap((f) => [Buffer.from([f.length >>> 24, (f.length >>> 16) & 255, (f.length >>> 8) & 255, f.length & 255]), f]))
      const answers: number[] = []
      const done = new Promise<void>((resolve, reject) => {
        let data = Buffer.alloc(0)
        const timer = setTimeout(() => reject(new Error(`${answers.length} answers in 10 s`)), 10_000)
        socket.on('data', (d: Buffer) => {
          data = Buffer.concat([data, d])
          while (data.length >= 8) {
            answers.push(data.readInt32BE(4))
            data = data.subarray(8)
          }
          if (answers.length === frames.length) {
            clearTimeout(timer)
            resolve()
          }
        })
        socket.on('error', reject)
      })
      // Pieces of 1 B to 40 KiB (a deterministic sequence), each its own write.
      let at = 0
      for (let i = 0; at < stream.length; i++) {
        const n = [1, 3, 40_000, 7, 1_500, 65_536, 2, 20_000][i % 8]!
        const piece = stream.subarray(at, at + n)
        at += piece.length
        await new Promise<void>((resolve) => socket.write(piece, () => resolve()))
      }
      await done
      expect(answers).toEqual(sizes)
      expect(seen.map((f) => f.length)).toEqual(sizes)
      for (let i = 0; i < frames.length; i++) expect(seen[i]!.equals(frames[i]!)).toBe(true)
    } finally {
      socket.destroy()
      await server.stop(1_000)
    }
  })
})

describe('SocketServer stop', () => {
  it('closes an idle plaintext connection when its client answers the FIN, not at the deadline', async () => {
    const dispatcher: RequestDispatcher = {dispatch: async () => ({chunks: []})}
    const server = new SocketServer({listeners: [{name: 'PLAINTEXT', host: '127.0.0.1', port: 0}], maxRequestBytes: 1 << 20, maxQueuedBytes: 1 << 20, idleTimeoutMs: 60_000, maxConnections: 10, log: silent}, dispatcher)
    const [bound] = await server.start()
    const {connect: connectTcp} = await import('node:net')
    const socket = connectTcp({host: '127.0.0.1', port: bound!.boundPort})
    socket.on('error', () => {})
    await new Promise((resolve) => socket.once('connect', resolve))
    const clientClosed = new Promise((resolve) => socket.once('close', resolve))
    // A deadline far past the test's timeout: stop() returns only because the connection closed.
    await server.stop(120_000)
    await clientClosed
  }, 20_000)
})
