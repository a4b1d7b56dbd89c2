/** The SASL and SCRAM-credential handlers, for the broker's handler list. */
import {createAcls, deleteAcls, describeAcls} from './acls.js'
import {alterUserScramCredentials} from './alter-user-scram-credentials.js'
import {describeUserScramCredentials} from './describe-user-scram-credentials.js'
import type {ApiHandler} from './handler.js'
import {alterClientQuotas} from './alter-client-quotas.js' // client quotas (issue 15)
import {describeClientQuotas} from './describe-client-quotas.js' // client quotas (issue 15)
import {saslAuthenticate} from './sasl-authenticate.js'
import {saslHandshake} from './sasl-handshake.js'

export const SECURITY_HANDLERS: readonly ApiHandler[] = [saslHandshake, saslAuthenticate, describeUserScramCredentials, alterUserScramCredentials, describeAcls, createAcls, deleteAcls, describeClientQuotas, alterClientQuotas] as ApiHandler[]
