import {closeSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import type {ConsumedBatch} from '../../../src/lib/client/consumer.js'
import {describeBytes, encodeInput} from '../../../src/lib/client/encoding.js'
import {readLines, readReusingBuffer} from '../../../src/lib/client/lines.js'
import {compileFormat, recordToJson} from '../../../src/lib/client/record-format.js'

const record = {headers: [{key: 'h', value: Buffer.from('v')}], key: Buffer.from('k1'), offset: 7, timestamp: 1000, value: Buffer.from('hello')}
const batch: ConsumedBatch = {firstOffset: 7n, highWatermark: 8n, leaderEpoch: 0, nextOffset: 8n, partition: 2, records: [record], timestampType: 0, topic: 't'}

describe('--format', () => {
  it('expands kcat placeholders and escapes', () => {
    expect(compileFormat('%t/%p/%o %k=%s %K %S %T %h %%\\n')(record, batch)).toBe('t/2/7 k1=hello 2 5 1000 h=v %\n')
    expect(compileFormat('%s')({...record, value: null}, batch)).toBe('')
    expect(compileFormat('%S')({...record, value: null}, batch)).toBe('-1')
    expect(() => compileFormat('%z')).toThrow(/unknown placeholder %z/)
  })
})

describe('--json records', () => {
  it('text when UTF-8, base64 otherwise; parsed with json', () => {
    expect(recordToJson(record, batch, 'text', 'text')).toEqual({
      headers: [{key: 'h', value: 'v'}],
      key: 'k1',
      keyEncoding: 'text',
      offset: 7,
      partition: 2,
      timestamp: 1000,
      timestampType: 'CreateTime',
      topic: 't',
      value: 'hello',
      valueEncoding: 'text',
    })
    const binary = {...record, value: Buffer.from([0xff, 0x00])}
    expect(recordToJson(binary, batch, 'text', 'text')).toMatchObject({value: '/wA=', valueEncoding: 'base64'})
    expect(recordToJson({...record, value: Buffer.from('{"a":1}')}, batch, 'text', 'json')).toMatchObject({value: {a: 1}, valueEncoding: 'json'})
  })

  it('produce-side encodings', () => {
    expect(encodeInput(Buffer.from('/wA='), 'base64')).toEqual(Buffer.from([0xff, 0x00]))
    expect(encodeInput(Buffer.from('_w'), 'base64')).toEqual(Buffer.from([0xff]))
    expect(() => encodeInput(Buffer.from('not base64!'), 'base64')).toThrow('not base64')
    expect(() => encodeInput(Buffer.from('{'), 'json')).toThrow()
    expect(describeBytes(null, 'text')).toEqual({encoding: null, value: null})
  })
})

describe('readLines', () => {
  it('over readReusingBuffer: every line intact though each chunk overwrites the last', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcli-lines-'))
    try {
      const lines = Array.from({length: 200}, (_, i) => `line-${i}-${'z'.repeat(i % 23)}`)
      writeFileSync(join(dir, 'in.txt'), `${lines.join('\n')}\n`)
      const fd = openSync(join(dir, 'in.txt'), 'r')
      const got: string[] = []
      try {
        // 13-byte chunks: most lines span two or more of them.
        for await (const batch of readLines(readReusingBuffer(fd, 13))) got.push(...batch.map((b) => b.toString()))
      } finally {
        closeSync(fd)
      }
      expect(got).toEqual(lines)
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  it('splits across chunks, drops \\r before \\n, keeps a last line without \\n', async () => {
    const chunks = ['ab', 'c\r\nde', 'f\n\ng', 'h']
    const lines: string[] = []
    for await (const batch of readLines(Readable.from(chunks.map((c) => Buffer.from(c))))) lines.push(...batch.map((b) => b.toString()))
    expect(lines).toEqual(['abc', 'def', '', 'gh'])
  })
  it('gives the same lines however the input is cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.stringMatching(/^[a-z\r]{0,12}$/), {maxLength: 30}), fc.array(fc.integer({max: 20, min: 1}), {minLength: 1}), async (lines, cuts) => {
        const text = lines.map((l) => `${l}\n`).join('')
        const chunks: Buffer[] = []
        let at = 0
        for (let i = 0; at < text.length; i++) {
          const n = cuts[i % cuts.length]!
          chunks.push(Buffer.from(text.slice(at, at + n)))
          at += n
        }
        const got: string[] = []
        for await (const batch of readLines(Readable.from(chunks))) got.push(...batch.map((b) => b.toString()))
        expect(got).toEqual(lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)))
      }),
      {numRuns: 300},
    )
  })
})
