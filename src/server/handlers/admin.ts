/**
 * The administrative handlers (topics, partitions, configs, cluster description), for the broker's
 * handler list. DescribeConfigs and CreateTopics are registered in index.ts already.
 */
import {alterConfigs} from './alter-configs.js'
import {createPartitions} from './create-partitions.js'
import {deleteTopics} from './delete-topics.js'
import {electLeaders} from './elect-leaders.js'
import {describeCluster} from './describe-cluster.js'
import {describeTopicPartitions} from './describe-topic-partitions.js'
import type {ApiHandler} from './handler.js'
import {incrementalAlterConfigs} from './incremental-alter-configs.js'
import {alterPartitionReassignments, listPartitionReassignments} from './partition-reassignments.js'

export const ADMIN_HANDLERS: readonly ApiHandler[] = [deleteTopics, alterConfigs, createPartitions, incrementalAlterConfigs, describeCluster, describeTopicPartitions, electLeaders, alterPartitionReassignments, listPartitionReassignments] as ApiHandler[]
