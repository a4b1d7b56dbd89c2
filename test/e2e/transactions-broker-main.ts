/**
 * Child-process entry for the transaction end-to-end tests: a broker with every handler
 * (transactions included) on 127.0.0.1:<port> over <dataDir>; prints {"port": n} once listening,
 * stops cleanly on SIGTERM. Usage: tsx transactions-broker-main.ts <dataDir> <port> [overridesJson]
 */
import {resolveBrokerConfig} from '../../src/lib/config/broker-configs.js'
import {Broker} from '../../src/server/broker.js'
import {silentLogger} from '../../src/server/logger.js'
import {allHandlers} from './transactions-support.js'

const [dataDir, port, overrides] = process.argv.slice(2)
const config = resolveBrokerConfig({
  'listeners': `PLAINTEXT://127.0.0.1:${port ?? '0'}`,
  'log.dirs': dataDir!,
  'group.initial.rebalance.delay.ms': '0',
  'transaction.state.log.num.partitions': '4',
  'offsets.topic.num.partitions': '4',
  ...(overrides ? (JSON.parse(overrides) as Record<string, string>) : {}),
})
const broker = new Broker(config, silentLogger(), allHandlers())
const status = await broker.start()
process.stdout.write(JSON.stringify({port: status.listeners[0]!.port}) + '\n')
process.on('SIGTERM', () => {
  void broker.stop().then(() => process.exit(0))
})
