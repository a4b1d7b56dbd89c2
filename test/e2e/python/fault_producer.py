"""An idempotent acks=all producer (librdkafka through confluent-kafka-python) for the cluster fault
tests (issue 13): produces the values NAME-0, NAME-1, ... round-robin over the topic's partitions
(record SEQ to partition SEQ % PARTITIONS) at about RATE records a second, and prints one JSON line
per delivery report as it arrives:
  {"s": SEQ, "p": PARTITION, "o": OFFSET, "t": EPOCH_MS}     acknowledged
  {"s": SEQ, "e": "ERROR_NAME", "t": EPOCH_MS}              failed (not acknowledged)
It stops producing when its stdin is closed, flushes (at most FLUSH_S seconds) and prints
{"done": true, "produced": N, "acked": N, "failed": N, "remaining": N}. A fatal error of the
idempotent producer prints {"fatal": "..."} and exits with 3 (the harness starts another producer).

Usage: fault_producer.py BOOTSTRAP TOPIC PARTITIONS NAME RATE [FLUSH_S]
"""
import json
import os
import sys
import threading
import time

from confluent_kafka import Producer

bootstrap, topic, partitions, name, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
flush_s = float(sys.argv[6]) if len(sys.argv) > 6 else 60.0
stop = threading.Event()
fatal = []


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def watch_stdin():
    sys.stdin.read()
    stop.set()


def on_error(err):
    if err.fatal():
        fatal.append(err.str())
        stop.set()


counts = {"acked": 0, "failed": 0}


def on_delivery(err, msg):
    seq = int(msg.value().decode().rsplit("-", 1)[1])
    if err is None:
        counts["acked"] += 1
        out({"s": seq, "p": msg.partition(), "o": msg.offset(), "t": int(time.time() * 1000)})
    else:
        counts["failed"] += 1
        out({"s": seq, "e": err.name(), "t": int(time.time() * 1000)})


producer = Producer({
    "bootstrap.servers": bootstrap,
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    "message.timeout.ms": 120000,
    # Short by default so faults recover fast; KCLI_FAULT_REQUEST_TIMEOUT_MS=30000 is librdkafka's
    # default, with which it never times out a request the broker is still completing.
    "request.timeout.ms": int(os.environ.get("KCLI_FAULT_REQUEST_TIMEOUT_MS", "5000")),
    "socket.timeout.ms": 5000,
    "retry.backoff.ms": 100,
    "topic.metadata.refresh.interval.ms": 1000,
    "error_cb": on_error,
})
threading.Thread(target=watch_stdin, daemon=True).start()

seq = 0
start = time.time()
while not stop.is_set():
    due = int((time.time() - start) * rate) + 1
    while seq < due and not stop.is_set():
        try:
            producer.produce(topic, value=f"{name}-{seq}".encode(), partition=seq % partitions, on_delivery=on_delivery)
            seq += 1
        except BufferError:
            producer.poll(0.05)
    producer.poll(0.01)

if fatal:
    producer.flush(5)
    out({"fatal": fatal[0], "produced": seq, **counts})
    sys.exit(3)
remaining = producer.flush(flush_s)
out({"done": True, "produced": seq, "remaining": remaining, **counts})
