// The flags of `kcli acls list|create|delete`, named as kafka-acls.sh names its options.
import {Flags} from '@oclif/core'

export const resourceFlags = {
  topic: Flags.string({multiple: true, summary: 'A topic (repeatable; * for every topic).'}),
  group: Flags.string({multiple: true, summary: 'A consumer group (repeatable).'}),
  cluster: Flags.boolean({summary: 'The cluster resource (kafka-cluster).'}),
  'transactional-id': Flags.string({multiple: true, summary: 'A transactional id (repeatable).'}),
  'delegation-token': Flags.string({multiple: true, summary: 'A delegation token (repeatable).'}),
  'user-principal': Flags.string({multiple: true, summary: 'A user resource (repeatable).'}),
  'resource-pattern-type': Flags.string({summary: 'literal (default), prefixed; for list and delete also match and any.'}),
}

export const entryFlags = {
  'allow-principal': Flags.string({multiple: true, summary: 'A principal allowed, Type:name (User:alice, User:*).'}),
  'deny-principal': Flags.string({multiple: true, summary: 'A principal denied, Type:name.'}),
  'allow-host': Flags.string({multiple: true, summary: 'A host the allow applies to (default *).'}),
  'deny-host': Flags.string({multiple: true, summary: 'A host the deny applies to (default *).'}),
  operation: Flags.string({multiple: true, summary: 'An operation: Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens, All.'}),
}

export interface AclFlagValues {
  topic?: string[]
  group?: string[]
  cluster?: boolean
  'transactional-id'?: string[]
  'delegation-token'?: string[]
  'user-principal'?: string[]
  'resource-pattern-type'?: string
  'allow-principal'?: string[]
  'deny-principal'?: string[]
  'allow-host'?: string[]
  'deny-host'?: string[]
  operation?: string[]
}

export function resourceOptions(f: AclFlagValues) {
  return {topic: f.topic, group: f.group, cluster: f.cluster, transactionalId: f['transactional-id'], delegationToken: f['delegation-token'], user: f['user-principal'], patternType: f['resource-pattern-type']}
}

export function entryOptions(f: AclFlagValues) {
  return {allowPrincipal: f['allow-principal'], denyPrincipal: f['deny-principal'], allowHost: f['allow-host'], denyHost: f['deny-host'], operation: f.operation}
}

export const ACL_TABLE_HEADERS = [{header: 'Resource'}, {header: 'Name'}, {header: 'Pattern'}, {header: 'Principal'}, {header: 'Host'}, {header: 'Operation'}, {header: 'Permission'}]
