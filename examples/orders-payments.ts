/**
 * An orders–payments join with kcli Streams: orders (key: order id, value JSON
 * `{"customer", "amount", "ts"}`) from `orders` and payments (key: order id, value JSON
 * `{"amount", "ts"}`) from `payments`, left-joined within 5 minutes of event time (either side
 * first, 30 s of grace): each payment of an order gives a `PAID` status, and an order with no
 * payment within its window gives one `UNPAID` status once the window has closed (Kafka 4.0's
 * left join emits unmatched records only then). Statuses go to `order-status` (String keys, JSON
 * values), keyed by order id. The join keeps both sides in window stores with changelogs
 * (`orders-payments-KSTREAM-JOINTHIS-0000000004-store-changelog`, ...).
 *
 *   npm run build                      # kcli/streams resolves to dist/
 *   npx kcli server start &
 *   npx kcli topics create orders payments order-status --partitions 1 --if-not-exists
 *   npx tsx examples/orders-payments.ts [bootstrap] [--produce-sample]
 *
 * --produce-sample, once the application runs, writes (with `kcli produce`) 20 orders 10 s apart
 * and payments for 15 of them (two 20 s before their order, the others 45 s after), then, once
 * they are processed, an order an hour later that closes every window: 15 PAID and 5 UNPAID. (The input
 * topics have one partition each so that the sample's order is the processing order: with more,
 * a task processes its partitions' batches as they come, not by timestamp across them.)
 */
import {JoinWindows, KafkaStreams, Serdes, StreamsBuilder} from 'kcli/streams'

interface Order {
  customer: string
  amount: number
  ts: number
}
interface Payment {
  amount: number
  ts: number
}
interface OrderStatus {
  status: 'PAID' | 'UNPAID'
  customer: string
  amount: number
  paid: number | null
}

const bootstrap = process.argv.find((a, i) => i >= 2 && !a.startsWith('--')) ?? '127.0.0.1:9092'

const builder = new StreamsBuilder()
const orders = builder.stream<string, Order>('orders', {keySerde: Serdes.String(), timestampExtractor: (r) => r.value.ts, valueSerde: Serdes.JSON<Order>()})
const payments = builder.stream<string, Payment>('payments', {keySerde: Serdes.String(), timestampExtractor: (r) => r.value.ts, valueSerde: Serdes.JSON<Payment>()})
orders
  .leftJoin(
    payments,
    (order, payment): OrderStatus => ({amount: order.amount, customer: order.customer, paid: payment?.amount ?? null, status: payment ? 'PAID' : 'UNPAID'}),
    JoinWindows.ofTimeDifferenceAndGrace(5 * 60_000, 30_000),
    {keySerde: Serdes.String(), otherValueSerde: Serdes.JSON<Payment>(), valueSerde: Serdes.JSON<Order>()},
  )
  .peek((orderId, status) => console.log(`${orderId}\t${status.status}\t${status.customer}\t${status.amount}`))
  .to('order-status', {keySerde: Serdes.String(), valueSerde: Serdes.JSON<OrderStatus>()})

const topology = builder.build()
console.error(topology.describe().toString())

const streams = new KafkaStreams(topology, {'application.id': 'orders-payments', 'bootstrap.servers': bootstrap, 'commit.interval.ms': 1000})
process.once('SIGINT', () => void streams.close().then(() => process.exit(0)))
process.once('SIGTERM', () => void streams.close().then(() => process.exit(0)))
const running = new Promise<void>((resolve) => streams.setStateListener((state, old) => {
  console.error(`state ${old} -> ${state}`)
  if (state === 'RUNNING') resolve()
}))
await streams.start()
if (process.argv.includes('--produce-sample')) {
  await running
  await produceSample()
}

async function produceSample(): Promise<void> {
  const {spawnSync} = await import('node:child_process')
  const {fileURLToPath} = await import('node:url')
  const start = Date.UTC(2026, 0, 1)
  const orderLines: string[] = []
  const paymentLines: string[] = []
  for (let i = 0; i < 20; i++) {
    const ts = start + i * 10_000
    orderLines.push(`order-${i} ${JSON.stringify({amount: 10 + i, customer: `customer-${i % 4}`, ts})}`)
    if (i % 4 === 3) continue // orders 3, 7, 11, 15, 19: never paid
    paymentLines.push(`order-${i} ${JSON.stringify({amount: 10 + i, ts: ts + (i === 2 || i === 6 ? -20_000 : 45_000)})}`)
  }
  const produce = (topic: string, lines: string[]) => {
    const result = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/run.js', import.meta.url)), 'produce', topic, '--bootstrap-server', bootstrap, '-K', ' '], {input: lines.join('\n') + '\n', stdio: ['pipe', 'inherit', 'inherit']})
    if (result.status !== 0) throw new Error(`producing the sample to ${topic} failed`)
  }
  produce('orders', orderLines)
  produce('payments', paymentLines)
  // The closing order only once the others are processed: a task takes its partitions' batches as they come, not by timestamp.
  for (let waited = 0; streams.metrics()['process-total'] < orderLines.length + paymentLines.length && waited < 30_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100))
  produce('orders', [`order-closing ${JSON.stringify({amount: 0, customer: 'none', ts: start + 3_600_000})}`])
}
