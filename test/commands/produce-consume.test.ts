import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import Consume, {type ConsumeResult} from '../../src/commands/consume/index.js'
import OffsetsGet, {type OffsetsGetResult} from '../../src/commands/offsets/get.js'
import Produce, {type ProduceResult} from '../../src/commands/produce/index.js'
import TopicsCreate from '../../src/commands/topics/create.js'
import {partitionForKey} from '../../src/lib/client/murmur2.js'
import type {RecordJson} from '../../src/lib/client/record-format.js'
import {json, kcli, removeDir, startBroker, tempDir, type TestBroker} from './helpers.js'

let broker: TestBroker
let dir: string
beforeAll(async () => {
  broker = await startBroker()
  dir = tempDir('kcli-produce-')
})
afterAll(async () => {
  await broker?.stop()
  if (dir) removeDir(dir)
})

function records(stdout: string): RecordJson[] {
  return stdout.trimEnd().split('\n').filter(Boolean).map((line) => JSON.parse(line) as RecordJson)
}

describe('kcli produce and consume', () => {
  it('seq 100000 | produce (the topic is auto-created), then consume --from-beginning --exit gives 100000 lines', async () => {
    const input = `${Array.from({length: 100_000}, (_, i) => i + 1).join('\n')}\n`
    const produced = await kcli<ProduceResult>(Produce, broker.bootstrap, ['-t', 'seq'], {stdin: input})
    expect(produced.stderr).toBe('')
    expect(produced.exitCode).toBe(0)
    expect(produced.stdout).toMatch(/^produced 100000 records to seq in \d+\.\d\d s \(partitions [\d,]+\)\n$/)

    const consumed = await kcli<ConsumeResult>(Consume, broker.bootstrap, ['-t', 'seq', '--from-beginning', '--exit'])
    expect(consumed.stderr).toBe('')
    expect(consumed.exitCode).toBe(0)
    const lines = consumed.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(100_000)
    expect(new Set(lines).size).toBe(100_000)
    expect(consumed.result!.count).toBe(100_000)

    const offsets = json<OffsetsGetResult>(await kcli(OffsetsGet, broker.bootstrap, ['seq', '--json']))
    expect(offsets.offsets.reduce((sum, o) => sum + Number(o.latest), 0)).toBe(100_000)
  })

  it('keyed records go to the Java client\'s partition; --json prints partition and offset per record', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['keyed', '-p', '4'])
    const keys = ['alice', 'bob', 'carol', 'dave', 'erin', 'alice']
    const run = await kcli<ProduceResult>(Produce, broker.bootstrap, ['-t', 'keyed', '--key-separator', ':', '--json'], {stdin: keys.map((k, i) => `${k}:v${i}`).join('\n')})
    expect(run.exitCode).toBe(0)
    const result = json<ProduceResult>(run)
    expect(result.count).toBe(6)
    expect(result.records!.map((r) => r.partition)).toEqual(keys.map((k) => partitionForKey(Buffer.from(k), 4)))
    expect(Number(result.records![5]!.offset)).toBe(Number(result.records![0]!.offset) + 1)

    const consumed = await kcli(Consume, broker.bootstrap, ['-t', 'keyed', '--from-beginning', '--exit', '--format', '%k=%s@%p\\n'])
    expect(consumed.exitCode).toBe(0)
    expect(consumed.stdout.trimEnd().split('\n').sort()).toEqual(keys.map((k, i) => `${k}=v${i}@${partitionForKey(Buffer.from(k), 4)}`).sort())
  })

  it('binary values survive --value-encoding base64 -> consume --json (base64 out)', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['blobs'])
    const values = [randomBytes(100), Buffer.from([0xff, 0xfe, 0x00, 0x01]), randomBytes(3000)]
    const file = join(dir, 'values.b64')
    writeFileSync(file, `${values.map((v) => v.toString('base64')).join('\n')}\n`)
    const produced = await kcli(Produce, broker.bootstrap, ['-t', 'blobs', '--file', file, '--value-encoding', 'base64', '--compression', 'zstd'])
    expect(produced.stderr).toBe('')
    expect(produced.exitCode).toBe(0)
    const consumed = await kcli(Consume, broker.bootstrap, ['-t', 'blobs', '--from-beginning', '--exit', '--json'])
    expect(consumed.exitCode).toBe(0)
    const got = records(consumed.stdout)
    expect(got.map((r) => r.valueEncoding)).toEqual(['base64', 'base64', 'base64'])
    expect(got.map((r) => Buffer.from(r.value as string, 'base64'))).toEqual(values)
    expect(got.map((r) => r.offset)).toEqual([0, 1, 2])
  })

  it('headers, explicit partition, compression codecs, acks 1 and 0, idempotence', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['mix', '-p', '2'])
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd', 'none']) {
      const run = await kcli(Produce, broker.bootstrap, ['-t', 'mix', '-p', '1', '--compression', codec, '-H', 'codec=' + codec, '--acks', '1'], {stdin: `${codec}-a\n${codec}-b\n`})
      expect(run.stderr).toBe('')
      expect(run.exitCode).toBe(0)
    }
    const idem = await kcli<ProduceResult>(Produce, broker.bootstrap, ['-t', 'mix', '-p', '1', '--idempotent', '--json'], {stdin: 'i1\ni2\n'})
    expect(idem.stderr).toBe('')
    expect(json<ProduceResult>(idem).records).toEqual([{offset: 10, partition: 1}, {offset: 11, partition: 1}])
    const noAck = await kcli<ProduceResult>(Produce, broker.bootstrap, ['-t', 'mix', '-p', '0', '--acks', '0', '--json'], {stdin: 'z\n'})
    expect(json<ProduceResult>(noAck).records).toEqual([{offset: -1, partition: 0}])

    const consumed = records((await kcli(Consume, broker.bootstrap, ['-t', 'mix', '-p', '1', '--from-beginning', '--exit', '--json'])).stdout)
    expect(consumed.map((r) => r.value)).toEqual(['gzip-a', 'gzip-b', 'snappy-a', 'snappy-b', 'lz4-a', 'lz4-b', 'zstd-a', 'zstd-b', 'none-a', 'none-b', 'i1', 'i2'])
    expect(consumed[2]!.headers).toEqual([{key: 'codec', value: 'snappy'}])
    expect(consumed.every((r) => r.partition === 1)).toBe(true)
  })

  it('--value-encoding json rejects a line that is not JSON (exit 1, line number)', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['docs'])
    const bad = await kcli(Produce, broker.bootstrap, ['-t', 'docs', '--value-encoding', 'json'], {stdin: '{"a":1}\nnot json\n'})
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr).toMatch(/^Error: line 2: not json/)
    const good = await kcli(Produce, broker.bootstrap, ['-t', 'docs', '--value-encoding', 'json'], {stdin: '{"a":1}\n[2]\n'})
    expect(good.exitCode).toBe(0)
    const consumed = records((await kcli(Consume, broker.bootstrap, ['-t', 'docs', '--offset', 'beginning', '--exit', '--json', '--value-encoding', 'json'])).stdout)
    expect(consumed.map((r) => r.value)).toEqual([{a: 1}, {a: 1}, [2]])
  })

  it('consume --offset N, -N, @time, --to, --count, --partition', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['range', '-p', '1'])
    await kcli(Produce, broker.bootstrap, ['-t', 'range'], {stdin: `${Array.from({length: 20}, (_, i) => `r${i}`).join('\n')}\n`})
    const values = async (argv: string[]) => (await kcli(Consume, broker.bootstrap, ['-t', 'range', ...argv])).stdout.trimEnd().split('\n').filter(Boolean)
    expect(await values(['--offset', '15', '--exit'])).toEqual(['r15', 'r16', 'r17', 'r18', 'r19'])
    expect(await values(['--offset', '-3', '--exit'])).toEqual(['r17', 'r18', 'r19'])
    expect(await values(['--offset', '5', '--to', '8'])).toEqual(['r5', 'r6', 'r7'])
    expect(await values(['--from-beginning', '--count', '2'])).toEqual(['r0', 'r1'])
    expect(await values(['--offset', '@-1h', '--exit', '--count', '1'])).toEqual(['r0'])
    expect(await values(['--offset', '@+1h', '--exit'])).toEqual([])
    expect(await values(['--offset', '@-1h', '--to', '@+1h', '--count', '20', '-p', '0'])).toHaveLength(20)
    const formatted = await values(['--offset', '19', '--exit', '-f', '%t/%p/%o/%K/%S/%s\\n'])
    expect(formatted).toEqual(['range/0/19/-1/3/r19'])
  })

  it('usage errors exit 2; a missing topic exits 1', async () => {
    const noTopic = await kcli(Produce, broker.bootstrap, [], {stdin: 'x\n'})
    expect(noTopic.exitCode).toBe(2)
    expect(noTopic.stderr).toBe("Error: a topic is required when records come from stdin or --file: kcli produce TOPIC, or --topic TOPIC See 'kcli produce --help'.\n")
    const badOffset = await kcli(Consume, broker.bootstrap, ['-t', 'range', '--offset', 'yesterday'])
    expect(badOffset.exitCode).toBe(2)
    const badFormat = await kcli(Consume, broker.bootstrap, ['-t', 'range', '-f', '%q'])
    expect(badFormat.exitCode).toBe(2)
    const missing = await kcli(Consume, broker.bootstrap, ['-t', 'no-such-topic', '--json'])
    expect(missing.exitCode).toBe(1)
    expect(JSON.parse(missing.stderr).error).toMatchObject({kafka: {code: 3, name: 'UNKNOWN_TOPIC_OR_PARTITION'}, kind: 'kafka'})
  })

  // Issue 12: `kcli produce TOPIC` answered "command produce:TOPIC not found".
  it('takes the topic as the argument as well as with -t; both only when they agree', async () => {
    const produced = await kcli<ProduceResult>(Produce, broker.bootstrap, ['by-argument'], {stdin: 'a\nb\n'})
    expect(produced.stderr).toBe('')
    expect(produced.exitCode).toBe(0)
    expect(produced.result).toMatchObject({count: 2, topic: 'by-argument'})
    // Repeatable flags do not swallow the argument: -H k=v TOPIC, -p 0 TOPIC.
    const withHeader = await kcli<ProduceResult>(Produce, broker.bootstrap, ['-H', 'source=test', 'by-argument', '-t', 'by-argument'], {stdin: 'c\n'})
    expect(withHeader.exitCode).toBe(0)
    expect(withHeader.result).toMatchObject({count: 1, topic: 'by-argument'})

    const consumed = await kcli(Consume, broker.bootstrap, ['-p', '0', 'by-argument', '--from-beginning', '--exit', '-f', '%s %h\\n'])
    expect(consumed.stderr).toBe('')
    expect(consumed.exitCode).toBe(0)
    expect(consumed.stdout).toBe('a \nb \nc source=test\n')
    const same = await kcli(Consume, broker.bootstrap, ['by-argument', '-t', 'by-argument', '--from-beginning', '--exit'])
    expect(same.stdout).toBe('a\nb\nc\n')

    const twice = await kcli(Produce, broker.bootstrap, ['by-argument', '-t', 'other'], {stdin: 'x\n'})
    expect(twice.exitCode).toBe(2)
    expect(twice.stderr).toBe("Error: the topic is given both as the argument (by-argument) and with --topic (other); give it once See 'kcli produce --help'.\n")
    const twiceConsume = await kcli(Consume, broker.bootstrap, ['by-argument', '-t', 'by-argument', '-t', 'other', '--json'])
    expect(twiceConsume.exitCode).toBe(2)
    expect(JSON.parse(twiceConsume.stderr).error).toEqual({exitCode: 2, kind: 'usage', message: 'the topic is given both as the argument (by-argument) and with --topic (by-argument, other); give it once'})
    const none = await kcli(Consume, broker.bootstrap, ['--from-beginning'])
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toBe("Error: a topic is required: kcli consume TOPIC, or --topic TOPIC See 'kcli consume --help'.\n")
  })

  it('a missing topic exits 1 when the broker does not auto-create topics', async () => {
    const strict = await startBroker({'auto.create.topics.enable': 'false'})
    try {
      const run = await kcli(Produce, strict.bootstrap, ['-t', 'absent', '--json'], {stdin: 'x\n'})
      expect(run.exitCode).toBe(1)
      expect(JSON.parse(run.stderr).error).toMatchObject({kafka: {code: 3, name: 'UNKNOWN_TOPIC_OR_PARTITION'}, kind: 'kafka'})
    } finally {
      await strict.stop()
    }
  })
})

describe('kcli offsets get', () => {
  it('prints earliest/latest per partition and looks offsets up by time', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['timed', '-p', '2'])
    await kcli(Produce, broker.bootstrap, ['-t', 'timed', '-p', '0'], {stdin: 'a\nb\nc\n'})
    const human = await kcli(OffsetsGet, broker.bootstrap, ['timed'])
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toBe('TOPIC  PARTITION  EARLIEST  LATEST  RECORDS\ntimed          0         0       3        3\ntimed          1         0       0        0\n')
    const byTime = json<OffsetsGetResult>(await kcli(OffsetsGet, broker.bootstrap, ['timed:0', '--time', '-1h', '--json']))
    expect(byTime.offsets).toEqual([expect.objectContaining({error: 'NONE', offset: 0, partition: 0, topic: 'timed'})])
    const future = json<OffsetsGetResult>(await kcli(OffsetsGet, broker.bootstrap, ['timed', '--time', '+1h', '--json']))
    expect(future.offsets.map((o) => o.offset)).toEqual([-1, -1])
    const latest = json<OffsetsGetResult>(await kcli(OffsetsGet, broker.bootstrap, ['timed', '-p', '0', '--time', 'latest', '--json']))
    expect(latest.offsets.map((o) => o.offset)).toEqual([3])
    const missing = await kcli(OffsetsGet, broker.bootstrap, ['timed:7', '--json'])
    expect(missing.exitCode).toBe(1)
  })
})

describe('kcli consume on a terminal', () => {
  it('colours records (topic-partition@offset, key, value) unless NO_COLOR', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['tty'])
    await kcli(Produce, broker.bootstrap, ['-t', 'tty', '-K', ':'], {stdin: 'k:v\n'})
    const coloured = await kcli(Consume, broker.bootstrap, ['-t', 'tty', '--from-beginning', '--exit'], {env: {FORCE_COLOR: undefined, NO_COLOR: undefined, TERM: 'xterm'}, tty: true})
    expect(coloured.exitCode).toBe(0)
    expect(coloured.stdout).toContain('\u001B[')
    expect(coloured.stdout.replaceAll(/\u001B\[[\d;]*m/g, '')).toBe('tty-0@0 k v\n')
    expect(coloured.stderr.replaceAll(/\u001B\[[\d;]*m/g, '')).toBe('1 record\n')
    const plain = await kcli(Consume, broker.bootstrap, ['-t', 'tty', '--from-beginning', '--exit'], {env: {NO_COLOR: '1', TERM: 'xterm'}, tty: true})
    expect(plain.stdout).toBe('tty-0@0 k v\n')
  })
})

describe('kcli consume into a pipe that closes', () => {
  it('stops quietly with exit 0 when the reader goes away (| head), without --exit', async () => {
    const {spawn} = await import('node:child_process')
    const {repoRoot} = await import('../lib/cli/run-command.js')
    await kcli(Produce, broker.bootstrap, ['-t', 'piped'], {stdin: `${Array.from({length: 50_000}, (_, i) => i).join('\n')}\n`})
    const started = Date.now()
    // Asynchronously: the broker runs in this process, so it must keep serving while kcli runs.
    const run = await new Promise<{stdout: string; stderr: string}>((resolve, reject) => {
      const child = spawn('sh', ['-c', `{ ${process.execPath} --import tsx bin/dev.js consume -t piped --from-beginning; echo "kcli exit $?" >&2; } | head -2`], {
        cwd: repoRoot,
        env: {...process.env, KCLI_BOOTSTRAP_SERVER: broker.bootstrap, NO_COLOR: '1'},
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const timer = setTimeout(() => {
        child.kill()
        reject(new Error(`kcli did not stop within 30 s: ${stdout} ${stderr}`))
      }, 30_000)
      child.on('exit', () => {
        clearTimeout(timer)
        resolve({stderr, stdout})
      })
    })
    expect(run.stdout).toBe('0\n1\n')
    expect(run.stderr.replaceAll(/^npm warn.*\n/gm, '')).toBe('kcli exit 0\n')
    expect(Date.now() - started).toBeLessThan(25_000)
  })
})
