// One in-process broker and a KafkaClient on it per describe block (beforeAll/afterAll), for the
// client tests that need a real broker.

import {afterAll, beforeAll} from 'vitest'

import {KafkaClient} from '../../../src/lib/client/client.js'
import {startBroker, type TestBroker} from '../../commands/helpers.js'

export interface ClientFixture {
  readonly broker: TestBroker
  readonly client: KafkaClient
  /** Another client on the same broker, closed with the fixture. */
  newClient(): KafkaClient
}

export function useClient(): ClientFixture {
  let broker: TestBroker | undefined
  const clients: KafkaClient[] = []
  const newClient = () => {
    if (!broker) throw new Error('useClient: the broker is not started (used outside a test or hook?)')
    const client = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: broker.port}]})
    clients.push(client)
    return client
  }
  beforeAll(async () => {
    broker = await startBroker()
    newClient()
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()))
    await broker?.stop()
  })
  return {
    get broker() {
      if (!broker) throw new Error('useClient: the broker is not started (used outside a test or hook?)')
      return broker
    },
    get client() {
      if (!clients[0]) throw new Error('useClient: the broker is not started (used outside a test or hook?)')
      return clients[0]
    },
    newClient,
  }
}
