import {describe, expect, it} from 'vitest'

import {colorEnabled, Output, type OutputStream, plainKeyValues, plainTable, toJsonText} from '../../../src/lib/cli/output.js'

function stream(isTTY: boolean): OutputStream & {text: () => string} {
  const chunks: string[] = []
  return {isTTY, text: () => chunks.join(''), write: (chunk: string) => chunks.push(chunk)}
}

const columns = [{align: 'right' as const, header: 'Code'}, {header: 'Name'}, {header: 'Retriable'}]
const rows = [
  [-1, 'UNKNOWN_SERVER_ERROR', 'no'],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', 'yes'],
]

describe('colorEnabled', () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, {NO_COLOR: '1'}, false],
    [true, {NO_COLOR: ''}, true],
    [true, {TERM: 'dumb'}, false],
    [false, {FORCE_COLOR: '1'}, false],
  ])('tty=%s env=%j -> %s', (isTTY, env, expected) => {
    expect(colorEnabled({isTTY}, env)).toBe(expected)
  })
})

describe('plainTable', () => {
  it('aligns columns two spaces apart, numbers right, no trailing blanks', () => {
    expect(plainTable(columns, rows)).toEqual([
      'CODE  NAME                        RETRIABLE',
      '  -1  UNKNOWN_SERVER_ERROR        no',
      '   3  UNKNOWN_TOPIC_OR_PARTITION  yes',
    ])
  })

  it('prints empty cells for null and undefined', () => {
    expect(plainTable([{header: 'a'}, {header: 'b'}], [[null, undefined]])).toEqual(['A  B', ''])
  })
})

describe('plainKeyValues', () => {
  it('aligns the values', () => {
    expect(plainKeyValues([['Code', 3], ['Retriable', 'yes']])).toEqual(['Code:       3', 'Retriable:  yes'])
  })
})

describe('Output', () => {
  it('prints plain lines when stdout is not a terminal', () => {
    const out = stream(false)
    new Output({env: {}, stdout: () => out}).table(columns, rows)
    expect(out.text()).toBe(`${plainTable(columns, rows).join('\n')}\n`)
    expect(out.text()).not.toContain('\u001B[')
  })

  it('draws a cli-table3 table on a terminal, bold headers unless NO_COLOR', () => {
    const coloured = stream(true)
    new Output({env: {TERM: 'xterm'}, stdout: () => coloured}).table(columns, rows)
    expect(coloured.text()).toContain('┌')
    expect(coloured.text()).toContain('UNKNOWN_TOPIC_OR_PARTITION')
    expect(coloured.text()).toContain('\u001B[1mCode\u001B[22m')

    const plain = stream(true)
    new Output({env: {NO_COLOR: '1', TERM: 'xterm'}, stdout: () => plain}).table(columns, rows)
    expect(plain.text()).toContain('┌')
    expect(plain.text()).not.toContain('\u001B[')
  })

  it('prints nothing for people with --json, but still prints JSON and errors', () => {
    const out = stream(false)
    const err = stream(false)
    const output = new Output({env: {}, json: true, stderr: () => err, stdout: () => out})
    output.line('hello')
    output.table(columns, rows)
    output.keyValues([['a', 1]])
    expect(out.text()).toBe('')
    output.printJson({a: 1})
    output.errorLine('Error: x')
    expect(out.text()).toBe('{\n  "a": 1\n}\n')
    expect(err.text()).toBe('Error: x\n')
  })
})

describe('toJsonText', () => {
  it('writes bigint as exact JSON numbers', () => {
    const text = toJsonText({logStartOffset: 0n, offset: 9_007_199_254_740_993n, negative: -1n, text: 'bigint:1'})
    expect(text).toBe('{"logStartOffset":0,"offset":9007199254740993,"negative":-1,"text":"bigint:1"}')
  })
})
