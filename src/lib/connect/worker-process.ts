/**
 * What a Connect worker process does around its herder, in both modes: read the Kafka cluster id
 * (GET / shows it), and stop on SIGTERM or SIGINT (a second signal exits at once).
 */
import type {Logger} from 'pino'
import type {BrokerAddress} from '../cli/bootstrap-server.js'
import {Admin} from '../client/admin.js'
import {KafkaClient} from '../client/client.js'

/** The cluster id, or null (logged) when the cluster cannot be reached. */
export async function kafkaClusterId(bootstrapServers: BrokerAddress[], log: Logger): Promise<string | null> {
  const probe = new KafkaClient({bootstrapServers, clientId: 'connect-worker'})
  try {
    return (await new Admin(probe).describeCluster()).clusterId
  } catch (error) {
    log.warn({err: error}, 'could not read the Kafka cluster id')
    return null
  } finally {
    await probe.close()
  }
}

/** Resolves once `stop` has run after the first SIGTERM or SIGINT; a second signal exits (130). */
export function stopOnSignal(log: Logger, stop: () => Promise<void>): Promise<void> {
  let signals = 0
  return new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130)
      log.info({signal}, 'stopping the worker')
      stop().then(resolve, (error) => {
        log.error({err: error}, 'shutdown failed')
        resolve()
      })
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
}
