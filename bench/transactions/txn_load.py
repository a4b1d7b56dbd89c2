#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) producer for bench/transactions/bench.ts.

Run with /usr/bin/python3 (the only interpreter that imports Debian's confluent_kafka).
Prints one JSON object on stdout; errors go to stderr and a non-zero exit.

  txn_load.py --bootstrap B --topic T --warmup-topic W --count N --size S --txn-size K [--transactional-id ID]

  --txn-size 0: idempotent producer (enable.idempotence=true), produce() N records as fast as
  the client queue takes them, flush(); the clock runs from the first produce() to the end of
  flush().
  --txn-size K: the same producer plus transactional.id: init_transactions() (before the clock),
  then N/K transactions of K records: begin_transaction(), produce() K records,
  commit_transaction() (which flushes them and ends the transaction).

Every record goes to partition 0; the value is the same S random bytes, no key. Both modes use
librdkafka's defaults otherwise (linger.ms 5, batch.size 1000000, max.in.flight 5 with
idempotence), so the only difference is the transaction.
"""
import argparse
import json
import os
import sys
import time

from confluent_kafka import Producer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bootstrap', required=True)
    ap.add_argument('--topic', required=True)
    ap.add_argument('--warmup-topic', required=True)
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--size', type=int, default=100)
    ap.add_argument('--txn-size', type=int, default=0)
    ap.add_argument('--transactional-id', default=None)
    a = ap.parse_args()

    conf = {
        'bootstrap.servers': a.bootstrap,
        'enable.idempotence': True,
        'compression.type': 'none',
        'queue.buffering.max.messages': 1000000,
        'queue.buffering.max.kbytes': 1048576,
    }
    transactional = a.txn_size > 0
    if transactional:
        conf['transactional.id'] = a.transactional_id or ('bench-py-%d' % os.getpid())
        conf['transaction.timeout.ms'] = 60000
    p = Producer(conf)
    value = os.urandom(a.size)
    state = {'ok': 0, 'err': 0, 'first_err': None}

    def dr(err, msg):
        if err is not None:
            state['err'] += 1
            if state['first_err'] is None:
                state['first_err'] = str(err)
        else:
            state['ok'] += 1

    def produce(topic):
        while True:
            try:
                p.produce(topic, value=value, partition=0, on_delivery=dr)
                return
            except BufferError:
                p.poll(0.001)

    # Warm-up, before the clock: connections, metadata, producer id (and the transaction
    # coordinator for the transactional producer).
    if transactional:
        p.init_transactions(30)
        p.begin_transaction()
        produce(a.warmup_topic)
        p.commit_transaction(30)
    else:
        produce(a.warmup_topic)
        p.flush(30)
    p.list_topics(topic=a.topic, timeout=10)
    state['ok'] = 0

    t0 = time.perf_counter()
    if transactional:
        done = 0
        txns = 0
        while done < a.count:
            n = min(a.txn_size, a.count - done)
            p.begin_transaction()
            for i in range(n):
                produce(a.topic)
                if i % 1000 == 999:
                    p.poll(0)
            p.commit_transaction(60)
            done += n
            txns += 1
    else:
        txns = 0
        for i in range(a.count):
            produce(a.topic)
            if i % 1000 == 999:
                p.poll(0)
        remaining = p.flush(60)
        if remaining:
            sys.stderr.write('%d records not delivered after flush\n' % remaining)
            sys.exit(1)
    seconds = time.perf_counter() - t0
    p.poll(0)
    if state['err'] or state['ok'] != a.count:
        sys.stderr.write('delivered %d of %d, %d errors (first: %s)\n' % (state['ok'], a.count, state['err'], state['first_err']))
        sys.exit(1)
    print(json.dumps({
        'client': 'confluent-kafka-python',
        'count': a.count,
        'size': a.size,
        'txnSize': a.txn_size,
        'transactions': txns,
        'seconds': seconds,
        'recordsPerSecond': a.count / seconds,
    }))


if __name__ == '__main__':
    main()
