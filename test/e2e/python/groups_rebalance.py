"""Two confluent-kafka consumers (librdkafka) in one group, polled in turn from one thread: c1
alone, then c2 joins, then c2 closes. Records every assignment callback, everything consumed and
the committed offsets, with partition.assignment.strategy as given (range, roundrobin or
cooperative-sticky, where assignments change incrementally). Prints one JSON line.

usage: groups_rebalance.py <bootstrap> <topic> <group> <strategy> <partitions> <count>
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

DEADLINE = 60


def main():
    bootstrap, topic, group, strategy = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    partitions, count = int(sys.argv[5]), int(sys.argv[6])
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(20)
    producer = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5})
    for i in range(count):
        producer.produce(topic, value=b'v%d' % i, partition=i % partitions)
    assert producer.flush(20) == 0

    events = []
    consumed = {}
    owned = {'c1': set(), 'c2': set()}
    cooperative = strategy == 'cooperative-sticky'

    def callbacks(name):
        def on_assign(consumer, parts):
            ps = sorted(p.partition for p in parts)
            events.append({'consumer': name, 'event': 'assign', 'partitions': ps, 'at': time.time()})
            if cooperative:
                owned[name] |= set(ps)
                consumer.incremental_assign(parts)
            else:
                owned[name] = set(ps)
                consumer.assign(parts)

        def on_revoke(consumer, parts):
            ps = sorted(p.partition for p in parts)
            events.append({'consumer': name, 'event': 'revoke', 'partitions': ps, 'at': time.time()})
            if cooperative:
                owned[name] -= set(ps)
                consumer.incremental_unassign(parts)
            else:
                owned[name] = set()
                consumer.unassign()
        return on_assign, on_revoke

    def make(name):
        c = Consumer({
            'bootstrap.servers': bootstrap,
            'group.id': group,
            'client.id': name,
            'auto.offset.reset': 'earliest',
            'partition.assignment.strategy': strategy,
            'session.timeout.ms': 6000,
            'heartbeat.interval.ms': 500,
            'enable.auto.commit': True,
            'auto.commit.interval.ms': 200,
        })
        on_assign, on_revoke = callbacks(name)
        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        return c

    def poll(c, name):
        m = c.poll(0.05)
        if m is None or m.error():
            return
        consumed.setdefault(name, 0)
        consumed[name] += 1
        key = '%d:%d' % (m.partition(), m.offset())
        consumed.setdefault('keys', {})
        consumed['keys'][key] = m.value().decode()

    start = time.time()
    c1 = make('c1')
    while len(owned['c1']) < partitions and time.time() - start < DEADLINE:
        poll(c1, 'c1')
    phase1 = sorted(owned['c1'])

    c2 = make('c2')
    balanced = False
    c1_min_during_join = len(owned['c1'])
    while time.time() - start < DEADLINE:
        poll(c1, 'c1')
        poll(c2, 'c2')
        c1_min_during_join = min(c1_min_during_join, len(owned['c1']))
        if owned['c1'] and owned['c2'] and len(owned['c1']) + len(owned['c2']) == partitions and not (owned['c1'] & owned['c2']):
            if len(consumed.get('keys', {})) >= count:
                balanced = True
                break
    phase2 = {'c1': sorted(owned['c1']), 'c2': sorted(owned['c2'])}

    # Let the auto-commit run, then c2 leaves and c1 takes everything back.
    end = time.time() + 1
    while time.time() < end:
        poll(c1, 'c1')
        poll(c2, 'c2')
    c2.close()
    while len(owned['c1']) < partitions and time.time() - start < DEADLINE:
        poll(c1, 'c1')
    phase3 = sorted(owned['c1'])
    committed = c1.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    c1.close()
    print(json.dumps({
        'phase1': phase1, 'phase2': phase2, 'phase3': phase3, 'balanced': balanced,
        'c1MinDuringJoin': c1_min_during_join, 'events': events,
        'consumed': len(consumed.get('keys', {})), 'committed': {str(tp.partition): tp.offset for tp in committed},
    }))


if __name__ == '__main__':
    main()
