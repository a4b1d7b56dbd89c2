import {describe, expect, it} from 'vitest'
import {JaasConfigError, PLAIN_LOGIN_MODULE, parseJaasConfig, parseJaasEntries, plainUsers} from '../../../src/lib/sasl/jaas.js'

describe('sasl.jaas.config parsing (Kafka JaasConfig syntax)', () => {
  it('reads a PlainLoginModule entry with its user_ options, as the broker side of PLAIN does', () => {
    const entry = parseJaasConfig(`${PLAIN_LOGIN_MODULE} required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice pw; with = signs";`)
    expect(entry.loginModule).toBe(PLAIN_LOGIN_MODULE)
    expect(entry.controlFlag).toBe('required')
    expect(entry.options.get('username')).toBe('admin')
    expect([...plainUsers(entry)]).toEqual([
      ['admin', 'admin-secret'],
      ['alice', 'alice pw; with = signs'],
    ])
  })

  it('takes single quotes, Java escapes, bare words, comments and line breaks', () => {
    const entry = parseJaasConfig(`
      // the broker's own users
      ${PLAIN_LOGIN_MODULE} REQUIRED /* flag case does not matter */
        user_bob='b"o\\'b'
        user_carol="tab\\there\\\\"
        user_dave=word-with_$;`)
    expect(entry.controlFlag).toBe('required')
    expect(Object.fromEntries(plainUsers(entry))).toEqual({bob: `b"o'b`, carol: 'tab\there\\', dave: 'word-with_$'})
  })

  it('gives no PLAIN users from another login module', () => {
    expect(plainUsers(parseJaasConfig('org.apache.kafka.common.security.scram.ScramLoginModule required user_x="y";')).size).toBe(0)
  })

  it("refuses what Kafka refuses, with Kafka's messages and never a value in them", () => {
    const fails = (text: string) => {
      try {
        parseJaasConfig(text)
      } catch (error) {
        expect(error).toBeInstanceOf(JaasConfigError)
        return (error as Error).message
      }
      throw new Error(`accepted: ${text}`)
    }
    expect(fails('')).toBe('Login module not specified in JAAS config')
    expect(fails(`${PLAIN_LOGIN_MODULE}`)).toBe('Login module control flag not specified in JAAS config')
    expect(fails(`${PLAIN_LOGIN_MODULE} mandatory user_a="secret";`)).toBe('Invalid login module control flag in JAAS config')
    expect(fails(`${PLAIN_LOGIN_MODULE} required user_a="secret"`)).toBe('JAAS config entry not terminated by semi-colon')
    expect(fails(`${PLAIN_LOGIN_MODULE} required user_a=12345;`)).toBe("Value not specified for key 'user_a' in JAAS config")
    expect(fails(`${PLAIN_LOGIN_MODULE} required user_a;`)).toBe("Value not specified for key 'user_a' in JAAS config")
    expect(fails(`${PLAIN_LOGIN_MODULE} required user_a="x"; ${PLAIN_LOGIN_MODULE} required user_b="y";`)).toBe('JAAS config property contains 2 login modules, should be 1 module')
    expect(parseJaasEntries(`a required; b optional k=v;`).map((e) => e.loginModule)).toEqual(['a', 'b'])
  })
})
