"""Static membership (KIP-345) with confluent-kafka (librdkafka): two consumers with
group.instance.id in one group; one closes (a static member sends no LeaveGroup) and a new
consumer with the same group.instance.id starts within the session timeout. Records the
assignment callbacks of both so the caller can check that the restarted member got its
partitions back and the other member saw no rebalance. Prints one JSON line.

usage: groups_static.py <bootstrap> <topic> <group> <partitions>
"""
import json
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

DEADLINE = 60


def main():
    bootstrap, topic, group, partitions = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(20)
    events = []
    owned = {}

    def make(name, instance):
        def on_assign(consumer, parts):
            owned[name] = sorted(p.partition for p in parts)
            events.append({'consumer': name, 'event': 'assign', 'partitions': owned[name], 'at': time.time()})

        def on_revoke(consumer, parts):
            events.append({'consumer': name, 'event': 'revoke', 'partitions': sorted(p.partition for p in parts), 'at': time.time()})
            owned[name] = []

        c = Consumer({
            'bootstrap.servers': bootstrap,
            'group.id': group,
            'group.instance.id': instance,
            'client.id': name,
            'session.timeout.ms': 10000,
            'heartbeat.interval.ms': 500,
            'partition.assignment.strategy': 'range',
        })
        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        return c

    start = time.time()
    a = make('a1', 'instance-a')
    b = make('b', 'instance-b')
    while time.time() - start < DEADLINE:
        a.poll(0.05)
        b.poll(0.05)
        if owned.get('a1') and owned.get('b') and len(owned['a1']) + len(owned['b']) == partitions:
            break
    before = {'a': owned.get('a1'), 'b': owned.get('b')}
    # Settle: a few heartbeats.
    end = time.time() + 1.5
    while time.time() < end:
        a.poll(0.05)
        b.poll(0.05)
    b_events_before = len([e for e in events if e['consumer'] == 'b'])
    a.close()
    closed_at = time.time()
    a2 = make('a2', 'instance-a')
    while time.time() - start < DEADLINE and not owned.get('a2'):
        a2.poll(0.05)
        b.poll(0.05)
    rejoined_ms = (time.time() - closed_at) * 1000
    # Keep both alive for a while: no rebalance may follow.
    end = time.time() + 3
    while time.time() < end:
        a2.poll(0.05)
        b.poll(0.05)
    after = {'a': owned.get('a2'), 'b': owned.get('b')}
    b_events_after = len([e for e in events if e['consumer'] == 'b'])
    a2.close()
    b.close()
    print(json.dumps({'before': before, 'after': after, 'rejoinedMs': rejoined_ms, 'bEventsDuringRestart': b_events_after - b_events_before, 'events': events}))


if __name__ == '__main__':
    main()
