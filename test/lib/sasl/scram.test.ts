import {createHash, createHmac, pbkdf2Sync} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {parsePlainMessage, plainMessage} from '../../../src/lib/sasl/plain.js'
import {ScramClient, scramCredential, ScramError, ScramServer} from '../../../src/lib/sasl/scram.js'

describe('SCRAM', () => {
  it('reproduces the RFC 7677 SCRAM-SHA-256 example, both ends', () => {
    const client = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO')
    expect(client.firstMessage().toString()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')
    const serverFirst = Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')
    expect(client.finalMessage(serverFirst).toString()).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')
    client.verifyServerFinal(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))

    const credential = scramCredential('SCRAM-SHA-256', 'pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'))
    const server = new ScramServer('SCRAM-SHA-256', (u) => (u === 'user' ? credential : undefined), '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0')
    expect(server.respond(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')).equals(serverFirst)).toBe(true)
    const final = server.respond(Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='))
    expect(final.toString()).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')
    expect(server.done && server.username).toBe('user')
  })

  it.each(['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)('%s: the right password authenticates, a wrong one does not; usernames with , and = survive', (mechanism) => {
    const credential = scramCredential(mechanism, 's3cret,=ü')
    const lookup = (u: string) => (u === 'a,b=c' ? credential : undefined)
    const run = (password: string) => {
      const client = new ScramClient(mechanism, 'a,b=c', password)
      const server = new ScramServer(mechanism, lookup)
      const serverFirst = server.respond(client.firstMessage())
      const serverFinal = server.respond(client.finalMessage(serverFirst))
      client.verifyServerFinal(serverFinal)
      return server.username
    }
    expect(run('s3cret,=ü')).toBe('a,b=c')
    expect(() => run('wrong')).toThrow(ScramError)
    expect(() => new ScramServer(mechanism, lookup).respond(new ScramClient(mechanism, 'nobody', 'x').firstMessage())).toThrow(/authentication failed/)
  })

  it('a client refuses a server that does not know the password', () => {
    const client = new ScramClient('SCRAM-SHA-256', 'u', 'right')
    const impostor = new ScramServer('SCRAM-SHA-256', () => scramCredential('SCRAM-SHA-256', 'other'))
    const serverFirst = impostor.respond(client.firstMessage())
    const clientFinal = client.finalMessage(serverFirst)
    expect(() => impostor.respond(clientFinal)).toThrow(ScramError)
    expect(() => client.verifyServerFinal(Buffer.from('v=AAAA'))).toThrow(/signature/)
  })

  it('rejects malformed messages with ScramError', () => {
    const server = () => new ScramServer('SCRAM-SHA-256', () => scramCredential('SCRAM-SHA-256', 'p'))
    for (const bad of ['', 'p=tls,,n=u,r=x', 'n,,r=x', 'n,,n=u', 'n,,n=a=b,r=x', 'garbage']) expect(() => server().respond(Buffer.from(bad))).toThrow(ScramError)
    const client = new ScramClient('SCRAM-SHA-256', 'u', 'p', 'abc')
    client.firstMessage()
    expect(() => client.finalMessage(Buffer.from('r=xyz,s=AAAA,i=4096'))).toThrow(/nonce/)
    expect(() => client.finalMessage(Buffer.from('r=abcd,s=AAAA,i=0'))).toThrow(/iteration/)
    expect(() => client.finalMessage(Buffer.from('e=unknown-user'))).toThrow(/refused/)
  })
})

describe('PLAIN', () => {
  it('encodes and parses authzid NUL user NUL password', () => {
    expect(plainMessage('alice', 'pw').toString('hex')).toBe('00616c6963650070 77'.replaceAll(' ', ''))
    expect(parsePlainMessage(plainMessage('alice', 'p\u00e4ss'))).toEqual({password: 'p\u00e4ss', username: 'alice'})
    expect(parsePlainMessage(Buffer.from('alice\0alice\0pw'))).toEqual({password: 'pw', username: 'alice'})
    for (const bad of ['alice', '\0alice', 'bob\0alice\0pw', '\0\0pw', '\0alice\0']) expect(() => parsePlainMessage(Buffer.from(bad))).toThrow()
  })
})

describe('SCRAM server and librdkafka', () => {
  // librdkafka 2.0 repeats its client nonce in the client-final message; Kafka's ScramSaslServer
  // checks only that the nonce ends with the one it sent (kcat's SCRAM logins in
  // test/e2e/broker-security.test.ts need that). The proof still covers the nonce as sent.
  it('checks the client-final nonce by its end, and the proof over the nonce as sent', () => {
    const credential = scramCredential('SCRAM-SHA-256', 'pw')
    const server = new ScramServer('SCRAM-SHA-256', () => credential, 'SERVER')
    const client = new ScramClient('SCRAM-SHA-256', 'u', 'pw', 'CLIENT')
    server.respond(client.firstMessage())
    // Re-sign a client-final whose r= is the client nonce followed by the combined nonce.
    const final = client.finalMessage(Buffer.from(`r=CLIENTSERVER,s=${credential.salt.toString('base64')},i=${credential.iterations}`)).toString()
    expect(() => server.respond(Buffer.from(final.replace('r=CLIENTSERVER', 'r=CLIENTCLIENTSERVER')))).toThrow(/authentication failed/) // the proof covers the nonce as sent
    const other = new ScramServer('SCRAM-SHA-256', () => credential, 'SERVER')
    other.respond(client.firstMessage())
    expect(() => other.respond(Buffer.from(final.replace('r=CLIENTSERVER', 'r=XSERVERX')))).toThrow(/nonce/)

    // librdkafka's form, signed as librdkafka signs it (the proof over the message as sent): accepted.
    const third = new ScramServer('SCRAM-SHA-256', () => credential, 'SERVER')
    const serverFirst = third.respond(Buffer.from('n,,n=u,r=CLIENT')).toString()
    const withoutProof = 'c=biws,r=CLIENTCLIENTSERVER'
    const salted = pbkdf2Sync('pw', credential.salt, credential.iterations, 32, 'sha256')
    const clientKey = createHmac('sha256', salted).update('Client Key').digest()
    const signature = createHmac('sha256', createHash('sha256').update(clientKey).digest()).update(`n=u,r=CLIENT,${serverFirst},${withoutProof}`).digest()
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!))
    expect(third.respond(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`)).toString()).toMatch(/^v=/)
    expect(third.done).toBe(true)
  })
})
