"""AdminClient against a broker: create_topics (configs, validate_only, an existing and an invalid
name), list_topics and describe_configs (a topic and the broker). Prints one JSON line.

usage: broker_admin.py <bootstrap> <topic>
"""
import json
import sys

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

TIMEOUT = 15


def outcome(future):
    try:
        future.result(TIMEOUT)
        return None
    except KafkaException as e:
        return e.args[0].name()


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    admin = AdminClient({'bootstrap.servers': bootstrap})
    out = {}
    created = admin.create_topics(
        [NewTopic(topic, num_partitions=3, replication_factor=1, config={'retention.ms': '86400000', 'cleanup.policy': 'compact'})],
        operation_timeout=TIMEOUT)
    out['create'] = outcome(created[topic])
    out['createAgain'] = outcome(admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic])
    out['createInvalidName'] = outcome(admin.create_topics([NewTopic('bad name!', num_partitions=1, replication_factor=1)])['bad name!'])
    out['createBadConfig'] = outcome(admin.create_topics([NewTopic(topic + '-bad-config', num_partitions=1, replication_factor=1, config={'retention.ms': 'soon'})])[topic + '-bad-config'])
    out['validateOnly'] = outcome(admin.create_topics([NewTopic(topic + '-validate-only', num_partitions=2, replication_factor=1)], validate_only=True)[topic + '-validate-only'])

    metadata = admin.list_topics(timeout=TIMEOUT)
    out['brokers'] = sorted([b.id, b.host, b.port] for b in metadata.brokers.values())
    out['controllerId'] = metadata.controller_id
    out['topics'] = {
        name: {'error': t.error.name() if t.error else None,
               'partitions': sorted([p.id, p.leader, list(p.replicas), list(p.isrs)] for p in t.partitions.values())}
        for name, t in metadata.topics.items()
    }

    described = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic), ConfigResource(ConfigResource.Type.BROKER, '1')])
    for resource, future in described.items():
        configs = future.result(TIMEOUT)
        out['configs:' + resource.restype.name.lower() + ':' + resource.name] = {
            name: {'value': c.value, 'source': c.source, 'isDefault': c.is_default, 'isReadOnly': c.is_read_only, 'isSensitive': c.is_sensitive}
            for name, c in configs.items()
        }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
