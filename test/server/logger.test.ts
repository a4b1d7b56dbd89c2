/**
 * Issue 16: the broker's log format — JSON lines off a terminal (or --log-format json), pino-pretty
 * lines with --log-format pretty (auto on a terminal); one format per stream, never both.
 */
import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {createLogger, resolveLogFormat} from '../../src/server/logger.js'

function capture(): {stream: PassThrough; lines: () => string[]} {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (d: Buffer) => (text += d.toString()))
  return {stream, lines: () => text.split('\n').filter(Boolean)}
}

describe('broker logger format', () => {
  it('auto is pretty on a terminal and JSON otherwise', () => {
    expect(resolveLogFormat('auto', Object.assign(new PassThrough(), {isTTY: true}))).toBe('pretty')
    expect(resolveLogFormat('auto', new PassThrough())).toBe('json')
    expect(resolveLogFormat('json', Object.assign(new PassThrough(), {isTTY: true}))).toBe('json')
  })

  it('json: one JSON object per line with level, time, msg and the fields', () => {
    const out = capture()
    const log = createLogger({level: 'info', destination: out.stream, format: 'auto'})
    log.info({nodeId: 1, listener: 'PLAINTEXT'}, 'broker started')
    log.warn('careful')
    const lines = out.lines()
    expect(lines).toHaveLength(2)
    const first = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(first).toMatchObject({level: 30, msg: 'broker started', nodeId: 1, listener: 'PLAINTEXT'})
    expect(first.time).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(JSON.parse(lines[1]!)).toMatchObject({level: 40, msg: 'careful'})
  })

  it('pretty: one human line per event (time, level, message, fields), no JSON line', () => {
    const out = capture()
    const log = createLogger({level: 'info', destination: out.stream, format: 'pretty'})
    log.info({nodeId: 1}, 'broker started')
    log.error({err: new Error('disk gone')}, 'append failed')
    const lines = out.lines()
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: broker started \{"nodeId":1\}$/)
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: append failed /)
    expect(lines.join('\n')).toContain('disk gone')
    for (const line of lines) expect(line.startsWith('{')).toBe(false)
    // Not a terminal: no colour codes.
    expect(lines.join('\n')).not.toContain('\u001b[')
  })
})
