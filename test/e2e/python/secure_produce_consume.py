"""Produces records to partition 0 of a topic and reads them back with assign(), over a secured
listener: the client's security settings (security.protocol, sasl.*, ssl.*) come as a JSON object.
Prints one JSON line: the delivery errors, the values read back, and the first client error seen.

usage: secure_produce_consume.py <bootstrap> <topic> <count> <security settings as JSON>
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

TIMEOUT = 20


def main():
    bootstrap, topic, count, security = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
    errors = []

    def on_error(err):
        errors.append(err.str())

    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 5, 'error_cb': on_error, **security})
    delivered = []

    def on_delivery(err, msg):
        delivered.append(err.name() if err else None)

    for i in range(count):
        producer.produce(topic, value=b'secure-%d' % i, partition=0, on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(TIMEOUT)

    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'kcli-e2e-secure', 'enable.auto.commit': False,
                         'enable.partition.eof': True, 'error_cb': on_error, **security})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values = []
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                if len(values) >= count:
                    break
                continue
            errors.append(msg.error().str())
            break
        values.append(msg.value().decode())
    consumer.close()
    print(json.dumps({'remaining': remaining, 'delivered': delivered, 'values': values, 'errors': errors[:3]}))


if __name__ == '__main__':
    main()
