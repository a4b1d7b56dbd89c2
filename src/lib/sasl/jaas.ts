/**
 * Kafka's `sasl.jaas.config` syntax, as its JaasConfig reads it (java.io.StreamTokenizer with //
 * and /* comments): one login module entry,
 *
 *   <LoginModule class> <required|requisite|sufficient|optional> [<key>=<value> ...];
 *
 * where a value is a quoted string ("..." or '...', with Java's backslash escapes) or a bare word;
 * a number is not a value (StreamTokenizer reads it as a number: "Value not specified"). The
 * server side of PLAIN reads its users from the `user_<name>="<password>"` options of
 * org.apache.kafka.common.security.plain.PlainLoginModule (PlainServerCallbackHandler).
 *
 * Error messages are Kafka's and never contain the text of a value (they may be passwords).
 */

export const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule'
export const SCRAM_LOGIN_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule'

export type ControlFlag = 'required' | 'requisite' | 'sufficient' | 'optional'

export interface JaasEntry {
  loginModule: string
  controlFlag: ControlFlag
  options: Map<string, string>
}

export class JaasConfigError extends Error {}

type Token = {type: 'word' | 'quoted'; text: string} | {type: 'char'; text: string} | {type: 'number'} | {type: 'eof'}

const isWordStart = (c: string) => /[A-Za-z_$-]/.test(c) || c.charCodeAt(0) >= 128
const isWordPart = (c: string) => isWordStart(c) || /[0-9.]/.test(c)

function* tokens(text: string): Generator<Token> {
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 2
    } else if (c === '"' || c === "'") {
      let out = ''
      i++
      while (i < text.length && text[i] !== c && text[i] !== '\n' && text[i] !== '\r') {
        if (text[i] === '\\' && i + 1 < text.length) {
          const e = text[i + 1]!
          const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))
          if (octal && !(octal[0].length === 3 && octal[0][0]! > '3')) {
            out += String.fromCharCode(Number.parseInt(octal[0], 8))
            i += 1 + octal[0].length
            continue
          }
          out += ({a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v'} as Record<string, string>)[e] ?? e
          i += 2
        } else {
          out += text[i++]
        }
      }
      if (text[i] === c) i++
      yield {type: 'quoted', text: out}
    } else if (isWordStart(c)) {
      const start = i
      while (i < text.length && isWordPart(text[i]!)) i++
      yield {type: 'word', text: text.slice(start, i)}
    } else if (/[0-9.]/.test(c)) {
      while (i < text.length && /[0-9.]/.test(text[i]!)) i++
      yield {type: 'number'}
    } else {
      i++
      yield {type: 'char', text: c}
    }
  }
  yield {type: 'eof'}
}

const valueOf = (t: Token): string | undefined => (t.type === 'word' || t.type === 'quoted' ? t.text : undefined)

/** Every login module entry of a JAAS configuration text; throws JaasConfigError with Kafka's messages. */
export function parseJaasEntries(text: string): JaasEntry[] {
  const it = tokens(text)
  const next = () => it.next().value as Token
  const entries: JaasEntry[] = []
  for (let t = next(); t.type !== 'eof'; t = next()) {
    const loginModule = valueOf(t)
    if (loginModule === undefined) throw new JaasConfigError('Login module not specified in JAAS config')
    const flagToken = next()
    if (flagToken.type === 'eof') throw new JaasConfigError('Login module control flag not specified in JAAS config')
    const flag = (valueOf(flagToken) ?? '').toLowerCase()
    if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag)) throw new JaasConfigError('Invalid login module control flag in JAAS config')
    const options = new Map<string, string>()
    let end = next()
    while (end.type !== 'eof' && !(end.type === 'char' && end.text === ';')) {
      const key = valueOf(end) ?? ''
      const eq = next()
      const value = eq.type === 'char' && eq.text === '=' ? valueOf(next()) : undefined
      if (value === undefined) throw new JaasConfigError(`Value not specified for key '${key}' in JAAS config`)
      options.set(key, value)
      end = next()
    }
    if (end.type === 'eof') throw new JaasConfigError('JAAS config entry not terminated by semi-colon')
    entries.push({loginModule, controlFlag: flag as ControlFlag, options})
  }
  if (entries.length === 0) throw new JaasConfigError('Login module not specified in JAAS config')
  return entries
}

/** The one entry of a `sasl.jaas.config` value (Kafka's JaasContext wants exactly one). */
export function parseJaasConfig(text: string): JaasEntry {
  const entries = parseJaasEntries(text)
  if (entries.length !== 1) throw new JaasConfigError(`JAAS config property contains ${entries.length} login modules, should be 1 module`)
  return entries[0]!
}

/** PLAIN's users: the `user_<name>` options of a PlainLoginModule entry, name -> password. */
export function plainUsers(entry: JaasEntry): Map<string, string> {
  const users = new Map<string, string>()
  if (entry.loginModule !== PLAIN_LOGIN_MODULE) return users
  for (const [key, value] of entry.options) if (key.startsWith('user_')) users.set(key.slice('user_'.length), value)
  return users
}
