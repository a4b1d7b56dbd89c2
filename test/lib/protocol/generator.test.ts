import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {generate, loadDefinitions} from '../../../scripts/codegen/generate.js'
import {API_KEYS} from '../../../src/lib/protocol/generated/api-keys.js'
import {ERROR_CODES, ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {API_CODECS, DEFINITIONS} from '../../../src/lib/protocol/generated/index.js'
import {HAVE_REFERENCE, PROJECT_ROOT, REFERENCE_DIR} from './reference.js'

// The generated codec is committed; these tests pin it to Kafka 4.0.0's definitions: the committed
// files are exactly what `npm run generate` writes, and the tables cover every definition.

const GENERATED_DIR = join(PROJECT_ROOT, 'src/lib/protocol/generated')

describe.skipIf(!HAVE_REFERENCE)('generator', () => {
  const files = HAVE_REFERENCE ? generate(REFERENCE_DIR) : new Map<string, string>()
  const specs = HAVE_REFERENCE ? loadDefinitions(REFERENCE_DIR) : []

  it('regenerates exactly the committed files (run `npm run generate` if this fails)', () => {
    const committed = readdirSync(GENERATED_DIR).sort()
    expect([...files.keys()].sort()).toEqual(committed)
    const differing = committed.filter((name) => readFileSync(join(GENERATED_DIR, name), 'utf8') !== files.get(name))
    expect(differing).toEqual([])
  })

  it('marks every generated file "generated — do not edit"', () => {
    for (const [name, code] of files) expect(code.split('\n').slice(0, 3).join('\n'), name).toContain('generated — do not edit')
  })

  it('reads all 186 JSON definitions (requests, responses, both headers, data records)', () => {
    const jsonFiles = readdirSync(join(REFERENCE_DIR, 'messages')).filter((f) => f.endsWith('.json'))
    expect(jsonFiles).toHaveLength(186)
    expect(specs).toHaveLength(186)
    const kinds = new Map<string, number>()
    for (const s of specs) kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1)
    expect(Object.fromEntries(kinds)).toEqual({request: 88, response: 88, header: 2, data: 8})
  })

  it('has one codec per definition, with the definition name, kind and api key', () => {
    expect(DEFINITIONS).toHaveLength(186)
    const byName = new Map(DEFINITIONS.map((d) => [d.name, d]))
    expect(byName.size).toBe(186)
    for (const s of specs) {
      const codec = byName.get(s.name)
      expect(codec, s.name).toBeDefined()
      expect(codec!.kind, s.name).toBe(s.kind)
      expect(codec!.apiKey, s.name).toBe(s.apiKey ?? -1)
      if (s.name === 'RequestHeader') {
        // Widened on purpose: request header v0 (no client id) is in the protocol guide.
        expect([codec!.minVersion, codec!.maxVersion]).toEqual([0, 2])
      } else {
        expect([codec!.minVersion, codec!.maxVersion], s.name).toEqual([s.validVersions.min, s.validVersions.max])
      }
    }
    expect(byName.get('RequestHeader')).toBeDefined()
    expect(byName.get('ResponseHeader')).toBeDefined()
  })

  it('pairs every request with the response of the same api key and version range', () => {
    const requests = DEFINITIONS.filter((d) => d.kind === 'request')
    const responses = new Map(DEFINITIONS.filter((d) => d.kind === 'response').map((d) => [d.apiKey, d]))
    expect(requests).toHaveLength(88)
    expect(responses.size).toBe(88)
    for (const req of requests) {
      const res = responses.get(req.apiKey)
      expect(res?.name, req.name).toBe(req.name.replace(/Request$/, 'Response'))
      expect([res!.minVersion, res!.maxVersion], req.name).toEqual([req.minVersion, req.maxVersion])
      const pair = (API_CODECS as Record<number, {request: unknown; response: unknown}>)[req.apiKey]
      expect(pair?.request, req.name).toBe(req)
      expect(pair?.response, req.name).toBe(res)
    }
    expect(Object.keys(API_CODECS)).toHaveLength(88)
  })

  it('has an api-key table that matches the request definitions', () => {
    const requests = specs.filter((s) => s.kind === 'request').sort((a, b) => a.apiKey! - b.apiKey!)
    expect(API_KEYS.map((k) => k.apiKey)).toEqual(requests.map((r) => r.apiKey))
    for (const r of requests) {
      const info = API_KEYS.find((k) => k.apiKey === r.apiKey)!
      expect(info.name).toBe(r.name.replace(/Request$/, ''))
      expect([info.minVersion, info.maxVersion], r.name).toEqual([r.validVersions.min, r.validVersions.max])
      expect(info.listeners, r.name).toEqual(r.listeners)
      expect(info.latestVersionUnstable, r.name).toBe(r.latestVersionUnstable)
      const flexMin = Math.max(r.flexibleVersions.min, r.validVersions.min)
      expect(info.flexibleMinVersion, r.name).toBe(flexMin <= r.validVersions.max ? flexMin : null)
    }
  })

  it('agrees with the version ranges a Kafka 4.0.0 broker advertises', () => {
    const text = readFileSync(join(REFERENCE_DIR, 'defaults/api-versions-4.0.0.txt'), 'utf8')
    const advertised = [...text.matchAll(/^\s*(\w+)\((\d+)\): (\d+)(?: to (\d+))?/gm)].map((m) => ({
      name: m[1]!,
      apiKey: Number(m[2]),
      min: Number(m[3]),
      max: Number(m[4] ?? m[3]),
    }))
    expect(advertised.length).toBeGreaterThan(50)
    for (const a of advertised) {
      const info = API_KEYS.find((k) => k.apiKey === a.apiKey)
      expect(info?.name, a.name).toBe(a.name)
      // Kafka 4.0 advertises Produce from v0 though it only parses v3+ (KAFKA-18659: librdkafka's
      // compressed produce fails unless ApiVersions says Produce v0); the definition says 3-12.
      expect(info!.minVersion, a.name).toBe(a.name === 'Produce' ? 3 : a.min)
      // The broker leaves out a latest version still marked unstable.
      expect(info!.maxVersion, a.name).toBe(info!.latestVersionUnstable ? a.max + 1 : a.max)
    }
  })

  it('has the error table with all 130 codes of errors.json', () => {
    const reference = JSON.parse(readFileSync(join(REFERENCE_DIR, 'errors.json'), 'utf8')) as Array<{code: number; name: string; retriable: boolean; message: string | null}>
    expect(reference).toHaveLength(130)
    expect(ERROR_CODES).toHaveLength(130)
    expect(new Set(ERROR_CODES.map((e) => e.code)).size).toBe(130)
    expect(ERROR_CODES.map((e) => ({code: e.code, name: e.name, retriable: e.retriable, message: e.message}))).toEqual(
      reference.map((e) => ({code: e.code, name: e.name, retriable: e.retriable, message: e.message ?? ''})),
    )
    expect(ErrorCode.NONE).toBe(0)
    expect(ErrorCode.UNKNOWN_SERVER_ERROR).toBe(-1)
    expect(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).toBe(3)
  })
})
