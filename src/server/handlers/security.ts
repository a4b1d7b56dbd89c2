/** The SASL and SCRAM-credential handlers, for the broker's handler list. */
import {alterUserScramCredentials} from './alter-user-scram-credentials.js'
import {describeUserScramCredentials} from './describe-user-scram-credentials.js'
import type {ApiHandler} from './handler.js'
import {saslAuthenticate} from './sasl-authenticate.js'
import {saslHandshake} from './sasl-handshake.js'

export const SECURITY_HANDLERS: readonly ApiHandler[] = [saslHandshake, saslAuthenticate, describeUserScramCredentials, alterUserScramCredentials] as ApiHandler[]
