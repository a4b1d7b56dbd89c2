/** The broker fixture of the in-process kcli Streams tests (not for the spawned application processes). */
import {afterAll, beforeAll} from 'vitest'
import {parseBootstrapServers} from '../../src/lib/cli/bootstrap-server.js'
import {Admin} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {removeDir, startBroker, type TestBroker, tempDir} from '../e2e/harness.js'

/** A logger for applications whose logs a test does not read. */
export const quietLogger = {error: () => undefined, info: () => undefined, warn: () => undefined}

export interface StreamsTestBroker {
  readonly broker: TestBroker
  readonly admin: Admin
  /** A new state directory, removed after the suite. */
  stateDir(prefix?: string): string
}

/**
 * A broker and an admin client for the enclosing describe block: started in its beforeAll,
 * stopped (and every state directory handed out removed) in its afterAll.
 */
export function useStreamsBroker(): StreamsTestBroker {
  let broker: TestBroker | undefined
  let client: KafkaClient | undefined
  let admin: Admin | undefined
  const dirs: string[] = []
  beforeAll(async () => {
    broker = await startBroker()
    client = new KafkaClient({bootstrapServers: parseBootstrapServers(broker.bootstrap)})
    admin = new Admin(client)
  })
  afterAll(async () => {
    await client?.close()
    await broker?.stop()
    for (const d of dirs) removeDir(d)
  })
  return {
    get broker() {
      return broker!
    },
    get admin() {
      return admin!
    },
    stateDir(prefix = 'kcli-streams-') {
      const dir = tempDir(prefix)
      dirs.push(dir)
      return dir
    },
  }
}
