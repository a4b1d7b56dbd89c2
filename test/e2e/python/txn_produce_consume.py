"""confluent-kafka-python (librdkafka) transactional producer: creates the topic, then
init_transactions, and per transaction begin / produce / commit or abort (every third aborted);
then reads the topic back twice with Consumer.assign from the beginning to the end offsets, with
isolation.level=read_committed and read_uncommitted. Prints one JSON line:
{"committed": [...values expected], "read_committed": [...], "read_uncommitted": [...]}

usage: txn_produce_consume.py <bootstrap> <topic> <transactions> <per_transaction>
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 20


def read_all(bootstrap, topic, isolation):
    consumer = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': 'txn-py-reader',
        'enable.auto.commit': False,
        'isolation.level': isolation,
        'enable.partition.eof': True,
    })
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values = []
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                break
            raise Exception(msg.error())
        values.append(msg.value().decode())
    consumer.close()
    return values


def main():
    bootstrap, topic, transactions, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], operation_timeout=TIMEOUT)[topic].result(TIMEOUT)
    producer = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'py-txn-' + topic, 'transaction.timeout.ms': 60000})
    producer.init_transactions(TIMEOUT)
    committed, everything = [], []
    for t in range(transactions):
        producer.begin_transaction()
        values = ['t%d-%d' % (t, i) for i in range(per)]
        for v in values:
            producer.produce(topic, value=v.encode(), partition=0)
        everything.extend(values)
        # Flush first: abort_transaction purges what was not sent yet, and the aborted records
        # must be in the log for read_uncommitted to see them.
        producer.flush(TIMEOUT)
        if t % 3 == 2:
            producer.abort_transaction(TIMEOUT)
        else:
            producer.commit_transaction(TIMEOUT)
            committed.extend(values)
    print(json.dumps({
        'committed': committed,
        'all': everything,
        'read_committed': read_all(bootstrap, topic, 'read_committed'),
        'read_uncommitted': read_all(bootstrap, topic, 'read_uncommitted'),
    }))


if __name__ == '__main__':
    main()
