/**
 * `ssl.principal.mapping.rules`, as Kafka's SslPrincipalMapper reads them: a comma-separated list of
 * `DEFAULT` (the distinguished name as it is) and `RULE:pattern/replacement/[L|U]` (a Java regular
 * expression matched against the whole name, the replacement with $1.. groups, then lower- or
 * upper-cased). The first rule that applies gives the principal's name; none applying fails the
 * connection's authentication, as in Kafka.
 */
import {ConfigError} from '../../lib/config/config-def.js'

const RULE_PATTERN = String.raw`(DEFAULT)|RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?).*?|(.*?)`
const RULE_SPLITTER = new RegExp(String.raw`\s*(` + RULE_PATTERN + String.raw`)\s*(?:,\s*|$)`, 'gy')

type Rule = {kind: 'default'} | {kind: 'rule'; pattern: RegExp; replacement: string; toLower: boolean; toUpper: boolean}

export class NoMatchingRuleError extends Error {}

export function parsePrincipalMappingRules(text: string, key = 'ssl.principal.mapping.rules'): (dn: string) => string {
  const rules: Rule[] = []
  const value = text.trim() === '' ? 'DEFAULT' : text.trim()
  RULE_SPLITTER.lastIndex = 0
  let m: RegExpExecArray | null
  while (RULE_SPLITTER.lastIndex < value.length && (m = RULE_SPLITTER.exec(value)) !== null) {
    if (m[0] === '') break
    if (m[2] === 'DEFAULT') rules.push({kind: 'default'})
    else if (m[3] !== undefined) {
      let pattern: RegExp
      try {
        pattern = new RegExp(`^(?:${m[3].replace(/\\\//g, '/')})$`)
      } catch (error) {
        throw new ConfigError(key, text, `Invalid rule pattern ${m[3]}: ${(error as Error).message}`)
      }
      rules.push({kind: 'rule', pattern, replacement: m[4]!.replace(/\\\//g, '/'), toLower: m[5] === 'L', toUpper: m[5] === 'U'})
    } else throw new ConfigError(key, text, `Invalid rule: ${m[1]}`)
  }
  if (RULE_SPLITTER.lastIndex !== 0 && RULE_SPLITTER.lastIndex < value.length) throw new ConfigError(key, text, `Invalid rule: ${value.slice(RULE_SPLITTER.lastIndex)}`)
  return (dn: string) => {
    for (const r of rules) {
      if (r.kind === 'default') return dn
      if (!r.pattern.test(dn)) continue
      const name = dn.replace(r.pattern, r.replacement)
      return r.toLower ? name.toLowerCase() : r.toUpper ? name.toUpperCase() : name
    }
    throw new NoMatchingRuleError(`No rules apply to ${dn}, rules ${text}`)
  }
}
