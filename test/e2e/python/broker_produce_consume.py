"""Creates the topic (AdminClient), then a Producer (acks=all, enable.idempotence, a compression codec) with delivery reports, then a
Consumer with assign() reading every partition from the beginning to its end; also the watermarks
and offsets_for_times. Values and keys are hex in the output. Prints one JSON line.

usage: broker_produce_consume.py <bootstrap> <topic> <partitions> <count> <compression>
"""
import json
import os
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 20
BASE_TIMESTAMP = 1_700_000_000_000


def hexed(b):
    return None if b is None else b.hex()


def main():
    bootstrap, topic, partitions, count, compression = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)], operation_timeout=TIMEOUT)[topic].result(TIMEOUT)
    producer = Producer({
        'bootstrap.servers': bootstrap,
        'acks': 'all',
        'enable.idempotence': True,
        'compression.type': compression,
        'linger.ms': 20,
    })
    produced = []
    delivered = []

    def on_delivery(err, msg):
        delivered.append({'error': err.name() if err else None, 'partition': msg.partition(), 'offset': msg.offset(), 'key': hexed(msg.key())})

    for i in range(count):
        key = None if i % 9 == 8 else b'key-%d' % i
        value = None if i % 13 == 12 else (b'' if i % 13 == 11 else os.urandom(i % 200) + b'value-%d' % i)
        headers = [('h1', b'one-%d' % i), ('bin', bytes([0, 10, 255])), ('h1', b'again')]
        partition = i % partitions
        timestamp = BASE_TIMESTAMP + i * 10
        producer.produce(topic, key=key, value=value, partition=partition, headers=headers, timestamp=timestamp, on_delivery=on_delivery)
        produced.append({'partition': partition, 'key': hexed(key), 'value': hexed(value),
                         'headers': [[k, hexed(v)] for k, v in headers], 'timestamp': timestamp})
        producer.poll(0)
    remaining = producer.flush(TIMEOUT)

    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'kcli-e2e-assign-only', 'enable.auto.commit': False,
                         'enable.partition.eof': True, 'auto.offset.reset': 'error'})
    watermarks = [list(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT)) for p in range(partitions)]
    # offsets_for_times: the first record of partition 0 at or after the timestamp of its 4th record.
    wanted = BASE_TIMESTAMP + 3 * partitions * 10
    by_time = consumer.offsets_for_times([TopicPartition(topic, 0, wanted)], timeout=TIMEOUT)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    consumed = []
    at_end = set()
    deadline = time.time() + TIMEOUT
    while len(at_end) < partitions and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                continue
            raise Exception(msg.error())
        ts_type, ts = msg.timestamp()
        consumed.append({'partition': msg.partition(), 'offset': msg.offset(), 'key': hexed(msg.key()), 'value': hexed(msg.value()),
                         'headers': [[k, hexed(v)] for k, v in (msg.headers() or [])], 'timestamp': ts, 'timestampType': ts_type})
    consumer.close()
    print(json.dumps({'remaining': remaining, 'produced': produced, 'delivered': delivered, 'consumed': consumed,
                      'partitionsAtEnd': sorted(at_end), 'watermarks': watermarks,
                      'offsetForTime': [by_time[0].offset, by_time[0].error.name() if by_time[0].error else None]}))


if __name__ == '__main__':
    main()
