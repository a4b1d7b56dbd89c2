// A kcli Streams (or Kafka Streams) application as the cluster sees it, for `kcli streams
// describe|reset`: its group (group id = application.id), its internal topics (named as Kafka
// Streams names them) and the tasks its members hold (from the kcli Streams assignor's user data).

import {decodeAssignmentInfo} from '../../streams/assignor.js'
import {type Admin, decodeAssignmentWithUserData} from './admin.js'

/** Kafka's StreamsResetter.isInternalTopic: `<application.id>-...` ending as Kafka Streams' internal topics end. */
export function isInternalTopic(applicationId: string, topic: string): boolean {
  return topic.startsWith(`${applicationId}-`) && ['-changelog', '-repartition', '-subscription-registration-topic', '-subscription-response-topic'].some((suffix) => topic.endsWith(suffix))
}

export interface InternalTopic {
  name: string
  kind: 'changelog' | 'repartition' | 'subscription'
  partitions: number
}

export async function internalTopics(admin: Admin, applicationId: string): Promise<InternalTopic[]> {
  const metadata = await admin.listTopics()
  return metadata.topics
    .filter((t) => t.errorCode === 0 && isInternalTopic(applicationId, t.name))
    .map((t): InternalTopic => ({kind: t.name.endsWith('-changelog') ? 'changelog' : t.name.endsWith('-repartition') ? 'repartition' : 'subscription', name: t.name, partitions: t.partitions.length}))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
}

/** A member's tasks from its assignment's user data (kcli Streams' format); undefined for other formats. */
export function memberTasks(memberAssignment: Buffer | undefined): {active: string[]; standby: string[]; topics: Record<string, number>} | undefined {
  if (!memberAssignment || memberAssignment.length === 0) return undefined
  try {
    const info = decodeAssignmentInfo(decodeAssignmentWithUserData(memberAssignment).userData)
    return info ? {active: info.active, standby: info.standby, topics: info.topics ?? {}} : undefined
  } catch {
    return undefined
  }
}
