"""confluent-kafka-python (librdkafka) against a replicated kcli cluster: creates a topic with
replication factor 3, describes it, produces with an idempotent acks=all producer and reads it back.

Usage: cluster_rf3.py BOOTSTRAP TOPIC COUNT. Prints one JSON object:
{"partitions": [{"id", "leader", "replicas", "isrs"}], "acked": N, "read": [values]}.
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
admin = AdminClient({"bootstrap.servers": bootstrap})
futures = admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=3, config={"min.insync.replicas": "2"})])
futures[topic].result(timeout=30)

# Wait until every partition has a leader and a full ISR (bounded).
deadline = time.time() + 30
while True:
    md = admin.list_topics(topic, timeout=10).topics[topic]
    parts = sorted(md.partitions.values(), key=lambda p: p.id)
    if parts and all(p.leader >= 0 and len(p.isrs) == 3 for p in parts):
        break
    if time.time() > deadline:
        break
    time.sleep(0.2)

acked = []
producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
for i in range(count):
    producer.produce(topic, key=str(i).encode(), value=("py-%d" % i).encode(), on_delivery=lambda err, msg: acked.append(msg) if err is None else None)
producer.flush(60)

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-rf3", "auto.offset.reset": "earliest", "enable.auto.commit": False})
consumer.subscribe([topic])
read = []
deadline = time.time() + 60
while len(read) < count and time.time() < deadline:
    msg = consumer.poll(0.5)
    if msg is None or msg.error():
        continue
    read.append(msg.value().decode())
consumer.close()

print(json.dumps({
    "partitions": [{"id": p.id, "leader": p.leader, "replicas": sorted(p.replicas), "isrs": sorted(p.isrs)} for p in parts],
    "acked": len(acked),
    "read": sorted(read),
}))
