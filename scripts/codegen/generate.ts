/**
 * Turns Kafka's message definitions (and errors.json) into the TypeScript under
 * src/lib/protocol/generated. Pure: returns file name -> content, so that `npm run generate`
 * writes them and a test can check that the committed files are what it would write.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {emitMessage, GENERATED_HEADER, kebabCase} from './emit-message.js'
import {intersect, isEmpty, type MessageSpec, parseMessage} from './schema.js'

interface ErrorDefinition {
  code: number
  name: string
  message: string | null
  retriable: boolean
}

export function loadDefinitions(referenceDir: string): MessageSpec[] {
  const dir = join(referenceDir, 'messages')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseMessage(f.slice(0, -'.json'.length), readFileSync(join(dir, f), 'utf8')))
}

function apiName(requestName: string): string {
  return requestName.replace(/Request$/, '')
}

export function generate(referenceDir: string): Map<string, string> {
  const files = new Map<string, string>()
  const specs = loadDefinitions(referenceDir)
  const index: string[] = [GENERATED_HEADER('message definitions'), "import type {MessageCodec} from '../message.js'"]
  const requests = specs.filter((s) => s.kind === 'request').sort((a, b) => a.apiKey! - b.apiKey!)
  const responses = new Map(specs.filter((s) => s.kind === 'response').map((s) => [s.apiKey!, s]))

  for (const spec of specs) {
    const {file, code} = emitMessage(spec)
    files.set(file, code)
    index.push(`import {${spec.name}} from './${file.replace(/\.ts$/, '.js')}'`)
  }
  index.push('')
  index.push(`export {${specs.map((s) => s.name).join(', ')}}`)
  index.push('')
  index.push('/** Every definition, by name. */')
  index.push(`export const DEFINITIONS: readonly MessageCodec<any>[] = [${specs.map((s) => s.name).join(', ')}]`)
  index.push('')
  index.push('/** The request and response types of each API key. */')
  index.push('export interface ApiMessages {')
  for (const req of requests) {
    const res = responses.get(req.apiKey!)!
    index.push(`  ${req.apiKey}: {request: ${req.name}; response: ${res.name}}`)
  }
  index.push('}', '')
  index.push('export type ApiKeyNumber = keyof ApiMessages')
  index.push('')
  index.push('/** The request and response codecs of one API key. */')
  index.push('export interface ApiCodecs<K extends ApiKeyNumber = ApiKeyNumber> {')
  index.push("  request: MessageCodec<ApiMessages[K]['request']>")
  index.push("  response: MessageCodec<ApiMessages[K]['response']>")
  index.push('}', '')
  index.push('/** Request and response codecs by API key. */')
  index.push('export const API_CODECS: {readonly [K in ApiKeyNumber]: ApiCodecs<K>} = {')
  for (const req of requests) index.push(`  ${req.apiKey}: {request: ${req.name}, response: ${responses.get(req.apiKey!)!.name}},`)
  index.push('}', '')
  files.set('index.ts', index.join('\n'))

  // Loaders: the codecs of one API key, imported on first use (a client needs a handful of the
  // 186 modules; importing them all costs tens of milliseconds at every start).
  const moduleOf = (spec: MessageSpec) => `./${emitMessage(spec).file.replace(/\.ts$/, '.js')}`
  const loaders: string[] = [
    GENERATED_HEADER('message definitions'),
    "import type {ApiCodecs, ApiKeyNumber} from './index.js'",
    '',
    '/** Imports the request and response codecs of an API key. */',
    'export const API_CODEC_LOADERS: {readonly [K in ApiKeyNumber]: () => Promise<ApiCodecs<K>>} = {',
  ]
  for (const req of requests) {
    const res = responses.get(req.apiKey!)!
    loaders.push(`  ${req.apiKey}: async () => {`, `    const [request, response] = await Promise.all([import('${moduleOf(req)}'), import('${moduleOf(res)}')])`, `    return {request: request.${req.name}, response: response.${res.name}}`, '  },')
  }
  loaders.push('}', '')
  files.set('loaders.ts', loaders.join('\n'))

  // The API key table.
  const keys: string[] = [
    GENERATED_HEADER('*Request.json'),
    'export interface ApiKeyInfo {',
    '  apiKey: number',
    '  name: string',
    '  minVersion: number',
    '  maxVersion: number',
    '  /** First flexible version, or null. */',
    '  flexibleMinVersion: number | null',
    "  /** Who serves it: 'broker', 'controller'. */",
    '  listeners: string[]',
    '  /** The highest version is still under development in Kafka 4.0. */',
    '  latestVersionUnstable: boolean',
    '}',
    '',
    'export const API_KEYS: readonly ApiKeyInfo[] = [',
  ]
  for (const r of requests) {
    const flex = intersect(r.flexibleVersions, r.validVersions)
    keys.push(
      `  {apiKey: ${r.apiKey}, name: ${JSON.stringify(apiName(r.name))}, minVersion: ${r.validVersions.min}, maxVersion: ${r.validVersions.max}, flexibleMinVersion: ${isEmpty(flex) ? 'null' : flex.min}, listeners: ${JSON.stringify(r.listeners)}, latestVersionUnstable: ${r.latestVersionUnstable}},`,
    )
  }
  keys.push(']', '', '/** API keys by name, e.g. `ApiKey.Produce === 0`. */', 'export const ApiKey = {')
  for (const r of requests) keys.push(`  ${apiName(r.name)}: ${r.apiKey},`)
  keys.push('} as const', '')
  keys.push('const byKey = new Map(API_KEYS.map((k) => [k.apiKey, k]))', '')
  keys.push('export function apiKeyInfo(apiKey: number): ApiKeyInfo | undefined {', '  return byKey.get(apiKey)', '}', '')
  files.set('api-keys.ts', keys.join('\n'))

  // The error-code table.
  const errors = JSON.parse(readFileSync(join(referenceDir, 'errors.json'), 'utf8')) as ErrorDefinition[]
  const err: string[] = [
    GENERATED_HEADER('errors.json'),
    'export interface ErrorCodeInfo {',
    '  code: number',
    '  name: string',
    '  /** Whether a client may retry the request that got it. */',
    '  retriable: boolean',
    '  message: string',
    '}',
    '',
    'export const ERROR_CODES: readonly ErrorCodeInfo[] = [',
  ]
  for (const e of errors) {
    err.push(`  {code: ${e.code}, name: ${JSON.stringify(e.name)}, retriable: ${e.retriable}, message: ${JSON.stringify(e.message ?? '')}},`)
  }
  err.push(']', '', '/** Error codes by name, e.g. `ErrorCode.UNKNOWN_TOPIC_OR_PARTITION === 3`. */', 'export const ErrorCode = {')
  for (const e of errors) err.push(`  ${e.name}: ${e.code},`)
  err.push('} as const', '', 'export type ErrorName = keyof typeof ErrorCode', '')
  err.push('const byCode = new Map(ERROR_CODES.map((e) => [e.code, e]))', '')
  err.push('export function errorByCode(code: number): ErrorCodeInfo | undefined {', '  return byCode.get(code)', '}', '')
  files.set('errors.ts', err.join('\n'))
  void kebabCase
  return files
}
