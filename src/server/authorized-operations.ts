/**
 * The 32-bit authorized-operations fields of Metadata, DescribeCluster and
 * DescribeTopicPartitions. kcli has no authorizer, and Kafka without an authorizer reports every
 * operation a resource type supports (AuthHelper.authorizedOperations, AclEntry.supportedOperations):
 * bit n set for AclOperation code n.
 */

/** Kafka's AclOperation codes. */
export const AclOperation = {
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
} as const

/** The schema default: the client did not ask for authorized operations. */
export const AUTHORIZED_OPERATIONS_NOT_REQUESTED = -2147483648

function bitField(codes: readonly number[]): number {
  return codes.reduce((bits, code) => bits | (1 << code), 0)
}

const {READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE} = AclOperation

/** The operations each resource type supports (AclEntry.supportedOperations), for the authorizer's bit fields. */
export const TOPIC_OPERATIONS = [READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS]
export const CLUSTER_OPERATIONS = [CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE]
export const GROUP_OPERATIONS = [READ, DESCRIBE, DELETE]

/** Everything a topic supports: READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS. */
export const TOPIC_AUTHORIZED_OPERATIONS = bitField([READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS])

/** Everything the cluster supports: CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE. */
export const CLUSTER_AUTHORIZED_OPERATIONS = bitField([CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE])
