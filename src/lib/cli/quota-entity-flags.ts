// The entity flags of `kcli quotas describe|alter`, shaped like kafka-configs.sh's
// (--entity-type users --entity-name alice / --entity-default): --user <name>, --user-defaults,
// --client <id>, --client-defaults, --ip <address>, --ip-defaults.
import {Flags} from '@oclif/core'

import {UsageError} from './errors.js'
import type {QuotaEntityPart} from '../client/quotas.js'

export const ENTITY_FLAGS = {
  user: Flags.string({helpValue: '<name>', summary: 'A user (the principal name: User:alice is alice).'}),
  'user-defaults': Flags.boolean({summary: 'The <default> user entity.'}),
  client: Flags.string({aliases: ['client-id'], helpValue: '<id>', summary: 'A client id.'}),
  'client-defaults': Flags.boolean({summary: 'The <default> client-id entity.'}),
  ip: Flags.string({helpValue: '<address>', summary: 'An IP address (connection_creation_rate).'}),
  'ip-defaults': Flags.boolean({summary: 'The <default> ip entity.'}),
}

type EntityFlagValues = {user?: string; 'user-defaults'?: boolean; client?: string; 'client-defaults'?: boolean; ip?: string; 'ip-defaults'?: boolean}

/** The entity the flags name (empty when none); a name and its defaults flag together are a usage error. */
export function entityFromFlags(flags: EntityFlagValues): QuotaEntityPart[] {
  const out: QuotaEntityPart[] = []
  for (const [type, name, defaults, flag] of [
    ['user', flags.user, flags['user-defaults'], 'user'],
    ['client-id', flags.client, flags['client-defaults'], 'client'],
    ['ip', flags.ip, flags['ip-defaults'], 'ip'],
  ] as const) {
    if (name !== undefined && defaults) throw new UsageError(`give --${flag} <name> or --${flag}-defaults, not both`)
    if (name !== undefined) {
      if (name === '') throw new UsageError(`--${flag} needs a name (--${flag}-defaults for the <default> entity)`)
      out.push({type, name})
    } else if (defaults) out.push({type, name: null})
  }
  return out
}
