"""KIP-447 with confluent-kafka-python (librdkafka): a read_committed consumer that takes over a
partition while a transaction holds offsets for it (TxnOffsetCommit sent, not yet committed) must
wait for the transaction (OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT) and then
start at the offset the transaction committed, not at the older one.

Steps: 10 records in <topic>-in; consumer group <group> commits offset 4 normally; a transactional
producer sends offset 10 for the group in an open transaction; a read_committed consumer of the
group is assigned the partition; 1.5 s later the transaction commits and records 10..11 are
added. Prints one JSON line: {"first_offset": N, "offsets": [...]} (must start at 10).

usage: txn_unstable_offsets.py <bootstrap> <topic> <group>
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 20


def main():
    bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
    source = topic + '-in'
    admin = AdminClient({'bootstrap.servers': bootstrap})
    for f in admin.create_topics([NewTopic(source, 1, 1), NewTopic(topic + '-out', 1, 1)], operation_timeout=TIMEOUT).values():
        f.result(TIMEOUT)
    plain = Producer({'bootstrap.servers': bootstrap})
    for i in range(10):
        plain.produce(source, value=b'in-%d' % i, partition=0)
    plain.flush(TIMEOUT)

    # The group's committed offset before the transaction: 4.
    committer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False})
    committer.commit(offsets=[TopicPartition(source, 0, 4)], asynchronous=False)

    producer = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'unstable-' + topic, 'transaction.timeout.ms': 60000})
    producer.init_transactions(TIMEOUT)
    producer.begin_transaction()
    producer.produce(topic + '-out', value=b'out', partition=0)
    producer.send_offsets_to_transaction([TopicPartition(source, 0, 10)], committer.consumer_group_metadata(), TIMEOUT)
    committer.close()

    consumer = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': group,
        'enable.auto.commit': False,
        'isolation.level': 'read_committed',
        'auto.offset.reset': 'earliest',
    })
    consumer.assign([TopicPartition(source, 0)])
    offsets = []
    deadline = time.time() + TIMEOUT
    committed_at = time.time() + 1.5
    committed = False
    while time.time() < deadline and len(offsets) < 2:
        if not committed and time.time() >= committed_at:
            producer.commit_transaction(TIMEOUT)
            for i in (10, 11):
                plain.produce(source, value=b'in-%d' % i, partition=0)
            plain.flush(TIMEOUT)
            committed = True
        msg = consumer.poll(0.2)
        if msg is None or msg.error():
            continue
        offsets.append(msg.offset())
    consumer.close()
    print(json.dumps({'first_offset': offsets[0] if offsets else None, 'offsets': offsets}))


if __name__ == '__main__':
    main()
