/**
 * Acceptance of issue 4, durability: a `kcli server start` process with
 * log.flush.interval.messages=1 is killed with SIGKILL while kcat produces with acks=all (and
 * enable.idempotence, so that librdkafka keeps the order); after a restart on the same data
 * directory every record kcat was told was delivered is there, at the offset it was told, in order,
 * and nothing is torn: the log holds exactly a prefix of what kcat was given. Three rounds on the
 * same data directory, so each restart also recovers what the earlier crashes left.
 */
import type {ChildProcess} from 'node:child_process'
import {afterAll, describe, expect, it} from 'vitest'
import {type BrokerProcess, removeDir, spawnBroker, tempDir} from './harness.js'
import {KCAT, kcat, kcatMissing, sleep, startPeer, stopAllPeers} from './peers.js'

if (kcatMissing) console.warn(`skipping the durability test: ${kcatMissing}`)

const TOPIC = 'durable'
const ROUNDS = 3
const OVERRIDES = {'log.flush.interval.messages': '1'}

/** The value of record `seq` of round `round`: its length varies, so torn records cannot pass for whole ones. */
function line(round: number, seq: number): string {
  return `r${round}-${String(seq).padStart(7, '0')}-${'abcdefghij'.repeat(1 + (seq % 13))}`
}

/** kcat -P fed over time; its delivery reports (-v -v) give the acknowledged offsets. */
class FedProducer {
  readonly acked: number[] = []
  fed = 0
  private stderr = ''
  private feeder?: NodeJS.Timeout
  private readonly exited: Promise<void>

  constructor(private readonly child: ChildProcess, private readonly round: number) {
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString()
      let nl: number
      while ((nl = this.stderr.indexOf('\n')) >= 0) {
        const text = this.stderr.slice(0, nl)
        this.stderr = this.stderr.slice(nl + 1)
        const delivered = /^% Message delivered to partition 0 \(offset (\d+)\)/.exec(text)
        if (delivered) this.acked.push(Number(delivered[1]))
      }
    })
    child.stdout!.resume()
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  /** Writes 40 lines every 5 ms, up to `max` lines. */
  startFeeding(max: number): void {
    this.feeder = setInterval(() => {
      if (this.fed >= max || this.child.stdin!.writableLength > 1 << 20) return
      const lines = []
      for (let i = 0; i < 40 && this.fed < max; i++) lines.push(line(this.round, this.fed++))
      this.child.stdin!.write(`${lines.join('\n')}\n`)
    }, 5)
  }

  async kill(): Promise<void> {
    clearInterval(this.feeder)
    this.child.kill('SIGKILL')
    await this.exited
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) await sleep(10)
  return condition()
}

describe.skipIf(kcatMissing !== null)(`durability${kcatMissing ? ` (skipped: ${kcatMissing})` : ''}`, () => {
  const dataDir = tempDir('kcli-e2e-durability-')
  let proc: BrokerProcess | undefined
  let brokerStderr = ''

  const start = async () => {
    proc = await spawnBroker(dataDir, OVERRIDES)
    proc.child.stderr!.on('data', (d: Buffer) => (brokerStderr += d.toString()))
    return proc
  }

  afterAll(async () => {
    stopAllPeers()
    await proc?.kill('SIGKILL')
    removeDir(dataDir)
  })

  it(`SIGKILL while kcat produces with acks=all and flush.messages=1 (${ROUNDS} rounds): every acknowledged record is there after a restart, in order, nothing torn`, async () => {
    let broker = await start()
    let survived: string[] = [] // the log as read after the last restart
    const figures: Array<Record<string, number>> = []
    for (let round = 0; round < ROUNDS; round++) {
      const producer = new FedProducer(
        startPeer(KCAT, ['-b', broker.bootstrap, '-P', '-t', TOPIC, '-p', '0', '-X', 'acks=all', '-X', 'linger.ms=0', '-X', 'enable.idempotence=true', '-X', 'message.timeout.ms=60000', '-v', '-v']),
        round,
      )
      producer.startFeeding(200_000)
      // Kill the broker mid-stream: after a few hundred to a few thousand acknowledgements.
      const target = 300 + Math.floor(Math.random() * 2_500)
      expect(await waitFor(() => producer.acked.length >= target, 30_000), `round ${round}: ${producer.acked.length} acknowledgements in 30 s`).toBe(true)
      await broker.kill('SIGKILL')
      await sleep(300) // responses already on their way still count as acknowledged
      await producer.kill()
      const acked = [...producer.acked]

      broker = await start()
      const out = await kcat(['-b', broker.bootstrap, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-f', '%o %s\n'], {timeoutMs: 60_000})
      const records = out.stdout
        .toString()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const space = l.indexOf(' ')
          return {offset: Number(l.slice(0, space)), value: l.slice(space + 1)}
        })
      // Offsets are contiguous from 0; the earlier rounds' records are intact.
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i))
      const values = records.map((r) => r.value)
      expect(values.slice(0, survived.length)).toEqual(survived)
      // This round's records are exactly a prefix of what kcat was given (in order, none torn or
      // duplicated), and they include every acknowledged one, at the offset kcat was told.
      const fresh = values.slice(survived.length)
      expect(fresh).toEqual(Array.from({length: fresh.length}, (_, i) => line(round, i)))
      expect(acked).toEqual(acked.map((_, i) => survived.length + i))
      expect(fresh.length).toBeGreaterThanOrEqual(acked.length)
      figures.push({round, fed: producer.fed, acknowledged: acked.length, survived: fresh.length})
      survived = values
    }
    const truncations = (brokerStderr.match(/recovery truncated/g) ?? []).length
    console.log(`durability: ${JSON.stringify(figures)}; recoveries that truncated a torn tail: ${truncations}`)
  }, 150_000)
})
