#!/usr/bin/python3
"""librdkafka load generator for the kcli broker benchmarks (confluent-kafka-python, Debian).

Run with /usr/bin/python3 (the only interpreter that imports Debian's confluent_kafka).
Every mode prints one JSON object on stdout; errors go to stderr and a non-zero exit.

  create   --bootstrap B --topic T --partitions N
  produce  --bootstrap B --topic T --count N --size S --acks A [--linger-ms L] [--batch-bytes X]
           throughput: produce() as fast as the client queue allows, then flush(); the clock runs
           from the first produce() to the last delivery report
  latency  --bootstrap B --topic T --size S --acks A --rate R --seconds D
           open loop at R msg/s with linger.ms=0, after --warmup s (default 0.3) unmeasured: per message, time.perf_counter() at produce()
           and in its delivery callback (poll() is called continuously, so callbacks run as the
           reports arrive); librdkafka's own Message.latency() is reported alongside
  consume  --bootstrap B --topic T --count N
           assign every partition at the beginning, consume() in batches until N records
  watermarks --bootstrap B --topic T    records in the topic (sum of high watermark - log start)
  jitter   --seconds D    machine reference: oversleep of time.sleep(0.001), no broker involved
  e2e      --bootstrap B --topic T --size S --acks A --rate R --seconds D
           produce→consume latency: a consumer process (assigned at the high watermark of every partition)
           and this producer; each value carries CLOCK_MONOTONIC ns at produce() (the clock is
           system-wide, so the two processes share it)
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

OFFSET_BEGINNING = -2
OFFSET_END = -1


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def pct(sorted_values, p):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, int(p / 100.0 * len(sorted_values)))
    return sorted_values[i]


def summary_ms(values_s):
    v = sorted(values_s)
    return {
        'n': len(v),
        'p50_ms': pct(v, 50) * 1e3 if v else None,
        'p99_ms': pct(v, 99) * 1e3 if v else None,
        'p999_ms': pct(v, 99.9) * 1e3 if v else None,
        'max_ms': v[-1] * 1e3 if v else None,
        'mean_ms': sum(v) / len(v) * 1e3 if v else None,
    }


def fail(msg):
    sys.stderr.write(msg + '\n')
    sys.exit(2)


def partitions_of(bootstrap, topic):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    md = admin.list_topics(topic=topic, timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        fail('topic %s: %s' % (topic, t.error if t else 'missing'))
    return sorted(t.partitions.keys())


def cmd_create(a):
    """--topic may list several topics, comma-separated; each gets --partitions partitions."""
    topics = a.topic.split(',')
    admin = AdminClient({'bootstrap.servers': a.bootstrap})
    fs = admin.create_topics([NewTopic(t, num_partitions=a.partitions, replication_factor=1) for t in topics], operation_timeout=10)
    for _, f in fs.items():
        f.result(timeout=15)
    # wait until the metadata shows every partition with a leader
    deadline = time.time() + 10
    while time.time() < deadline:
        md = admin.list_topics(timeout=5)
        ready = 0
        for name in topics:
            t = md.topics.get(name)
            if t and t.error is None and len(t.partitions) == a.partitions and all(p.leader >= 0 for p in t.partitions.values()):
                ready += 1
        if ready == len(topics):
            print(json.dumps({'topics': topics, 'partitions': a.partitions}))
            return
        time.sleep(0.05)
    fail('topics %s not ready' % a.topic)


def cmd_watermarks(a):
    """Sum of the high watermarks (and log start offsets) of every partition of --topic."""
    parts = partitions_of(a.bootstrap, a.topic)
    c = Consumer({'bootstrap.servers': a.bootstrap, 'group.id': 'kcli-bench-wm'})
    total = 0
    per = {}
    for p in parts:
        lo, hi = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10)
        per[p] = [lo, hi]
        total += hi - lo
    c.close()
    print(json.dumps({'topic': a.topic, 'records': total, 'partitions': per}))


def cmd_jitter(a):
    """Machine reference: how late time.sleep(0.001) wakes up (scheduler noise), for --seconds."""
    late = []
    end = time.perf_counter() + a.seconds
    while True:
        t = time.perf_counter()
        if t > end:
            break
        time.sleep(0.001)
        late.append(time.perf_counter() - t - 0.001)
    print(json.dumps({'mode': 'jitter', 'oversleep': summary_ms(late)}))


def producer_conf(a, latency):
    conf = {
        'bootstrap.servers': a.bootstrap,
        'acks': str(a.acks),
        'enable.idempotence': False,
        'compression.type': 'none',
        'queue.buffering.max.messages': 1000000,
        'queue.buffering.max.kbytes': 1048576,
    }
    if latency:
        conf['linger.ms'] = 0
    else:
        if a.linger_ms is not None:
            conf['linger.ms'] = a.linger_ms
        if a.batch_bytes is not None:
            conf['batch.size'] = a.batch_bytes
    return conf


def payload(size):
    # incompressible-ish and not constant; uncompressed anyway
    base = os.urandom(size)
    return base


def cmd_produce(a):
    p = Producer(producer_conf(a, latency=False))
    value = payload(a.size)
    state = {'ok': 0, 'err': 0, 'first_err': None, 'last': None}

    def dr(err, msg):
        if err is not None:
            state['err'] += 1
            if state['first_err'] is None:
                state['first_err'] = str(err)
        else:
            state['ok'] += 1
        state['last'] = time.perf_counter()

    # connect and fetch metadata first, so the clock measures the data path only
    p.list_topics(topic=a.topic, timeout=10)
    produce = p.produce
    poll = p.poll
    t0 = time.perf_counter()
    for i in range(a.count):
        while True:
            try:
                produce(a.topic, value, on_delivery=dr)
                break
            except BufferError:
                poll(0.001)
        if (i & 1023) == 0:
            poll(0)
    t_enqueued = time.perf_counter()
    left = p.flush(120)
    t1 = state['last'] or time.perf_counter()
    if left:
        fail('produce: %d messages not delivered after 120 s (ok=%d err=%d first error=%s)' % (left, state['ok'], state['err'], state['first_err']))
    if state['err']:
        fail('produce: %d delivery errors, first: %s' % (state['err'], state['first_err']))
    el = t1 - t0
    print(json.dumps({
        'mode': 'produce', 'count': a.count, 'size': a.size, 'acks': a.acks,
        'seconds': el, 'enqueue_seconds': t_enqueued - t0,
        'msgs_per_s': a.count / el, 'mb_per_s': a.count * a.size / el / 1e6,
    }))


def warm(p, a, make_value):
    interval = 1.0 / a.rate
    end = time.perf_counter() + a.warmup
    nxt = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        if now >= nxt:
            p.produce(a.topic, make_value())
            nxt += interval
            p.poll(0)
        else:
            p.poll(min(nxt - now, 0.001))
    if p.flush(30):
        fail('warm-up: records not delivered in 30 s')


def cmd_latency(a):
    p = Producer(producer_conf(a, latency=True))
    value = payload(a.size)
    lat = []
    rdlat = []
    state = {'err': 0, 'first_err': None}

    def make_dr(t_sent):
        def dr(err, msg):
            now = time.perf_counter()
            if err is not None:
                state['err'] += 1
                if state['first_err'] is None:
                    state['first_err'] = str(err)
                return
            lat.append(now - t_sent)
            l = msg.latency()
            if l is not None:
                rdlat.append(l)
        return dr

    p.list_topics(topic=a.topic, timeout=10)
    # warm-up, not measured: --warmup seconds at the same rate (connections, first batches)
    warm(p, a, lambda: value)
    n = int(a.rate * a.seconds)
    interval = 1.0 / a.rate
    t0 = time.perf_counter()
    nxt = t0
    sent = 0
    while sent < n:
        now = time.perf_counter()
        if now >= nxt:
            t_sent = time.perf_counter()
            p.produce(a.topic, value, on_delivery=make_dr(t_sent))
            sent += 1
            nxt += interval
            p.poll(0)
        else:
            p.poll(min(nxt - now, 0.001))
    left = p.flush(60)
    el = time.perf_counter() - t0
    if left or state['err']:
        fail('latency: %d undelivered, %d errors, first: %s' % (left, state['err'], state['first_err']))
    out = {'mode': 'latency', 'size': a.size, 'acks': a.acks, 'rate': a.rate, 'sent': sent, 'seconds': el,
           'perf_counter': summary_ms(lat), 'librdkafka_latency': summary_ms(rdlat)}
    print(json.dumps(out))


def consumer_conf(a, group):
    return {
        'bootstrap.servers': a.bootstrap,
        'group.id': group,  # required by the client; assign() uses no group protocol
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'enable.partition.eof': False,
        'fetch.wait.max.ms': a.fetch_wait_ms,
        'fetch.min.bytes': 1,
        'queued.max.messages.kbytes': 262144,
        'api.version.request': True,
    }


def cmd_consume(a):
    parts = partitions_of(a.bootstrap, a.topic)
    c = Consumer(consumer_conf(a, 'kcli-bench'))
    c.assign([TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in parts])
    got = 0
    nbytes = 0
    t0 = time.perf_counter()
    deadline = t0 + a.timeout
    while got < a.count:
        if time.perf_counter() > deadline:
            fail('consume: %d of %d records in %.0f s' % (got, a.count, a.timeout))
        msgs = c.consume(num_messages=10000, timeout=0.5)
        for m in msgs:
            if m.error() is not None:
                fail('consume: %s' % m.error())
            nbytes += len(m.value() or b'')
        got += len(msgs)
    el = time.perf_counter() - t0
    c.close()
    print(json.dumps({'mode': 'consume', 'count': got, 'bytes': nbytes, 'seconds': el,
                      'msgs_per_s': got / el, 'mb_per_s': nbytes / el / 1e6}))


def cmd_e2e_consumer(a):
    parts = partitions_of(a.bootstrap, a.topic)
    c = Consumer(consumer_conf(a, 'kcli-bench-e2e'))
    # explicit start offsets (the high watermarks now): position() of an OFFSET_END assignment
    # stays unknown until a message arrives, so there would be nothing to wait for
    starts = [c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10)[1] for p in parts]
    c.assign([TopicPartition(a.topic, p, o) for p, o in zip(parts, starts)])
    # let the fetchers start and park their first long-poll Fetch before the producer begins
    t_end = time.time() + 0.3
    while time.time() < t_end:
        if c.poll(0.05) is not None:
            fail('e2e consumer: a record arrived before the producer started')
    sys.stdout.write('ready\n')
    sys.stdout.flush()
    lat = []
    dump = []
    want = a.count
    deadline = time.time() + a.timeout
    while len(lat) < want and time.time() < deadline:
        # poll() returns as soon as one message is there (consume(n, timeout) would wait for n)
        m = c.poll(0.1)
        if m is None:
            continue
        now = mono_ns()
        if m.error() is not None:
            fail('e2e consumer: %s' % m.error())
        (ts,) = struct.unpack_from('>q', m.value(), 0)
        if ts == 0:
            continue  # warm-up record
        lat.append((now - ts) / 1e9)
        if a.dump:
            dump.append((ts, now, m.partition(), m.offset()))
    c.close()
    if a.dump:
        with open(a.dump, 'w') as f:
            for ts, now, part, off in dump:
                f.write('%d %d %d %d\n' % (ts, now, part, off))
    sys.stdout.write(json.dumps({'received': len(lat), 'latency': summary_ms(lat)}) + '\n')


def cmd_e2e(a):
    n = int(a.rate * a.seconds)
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'e2e-consumer', '--bootstrap', a.bootstrap,
                              '--topic', a.topic, '--count', str(n), '--timeout', str(a.seconds + 30), '--fetch-wait-ms', str(a.fetch_wait_ms)] + (['--dump', a.dump] if a.dump else []),
                             stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        if line.strip() != 'ready':
            fail('e2e consumer did not start: %r' % line)
        p = Producer(producer_conf(a, latency=True))
        pad = os.urandom(max(0, a.size - 8))
        p.list_topics(topic=a.topic, timeout=10)
        warm(p, a, lambda: struct.pack('>q', 0) + pad)  # timestamp 0: the consumer skips these
        interval = 1.0 / a.rate
        t0 = time.perf_counter()
        nxt = t0
        sent = 0
        errs = []
        while sent < n:
            now = time.perf_counter()
            if now >= nxt:
                p.produce(a.topic, struct.pack('>q', mono_ns()) + pad, on_delivery=lambda e, m: errs.append(e) if e else None)
                sent += 1
                nxt += interval
                p.poll(0)
            else:
                p.poll(min(nxt - now, 0.001))
        if p.flush(60) or errs:
            fail('e2e produce: undelivered or errors: %s' % (errs[:1],))
        out, _ = child.communicate(timeout=a.seconds + 60)
        res = json.loads(out.strip().splitlines()[-1])
        if res['received'] != n:
            fail('e2e: consumer got %d of %d' % (res['received'], n))
        print(json.dumps({'mode': 'e2e', 'size': a.size, 'acks': a.acks, 'rate': a.rate, 'sent': sent, 'latency': res['latency']}))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['create', 'produce', 'latency', 'consume', 'e2e', 'e2e-consumer', 'watermarks', 'jitter'])
    ap.add_argument('--bootstrap', default='')
    ap.add_argument('--topic', default='')
    ap.add_argument('--partitions', type=int, default=1)
    ap.add_argument('--count', type=int, default=100000)
    ap.add_argument('--size', type=int, default=100)
    ap.add_argument('--acks', type=int, default=1)
    ap.add_argument('--linger-ms', type=float, default=None)
    ap.add_argument('--batch-bytes', type=int, default=None)
    ap.add_argument('--rate', type=float, default=1000)
    ap.add_argument('--seconds', type=float, default=3)
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--fetch-wait-ms', type=int, default=500)
    ap.add_argument('--warmup', type=float, default=0.3, help='latency, e2e: seconds of unmeasured records at the same rate first')
    ap.add_argument('--dump', default=None, help='e2e: write "produce_ns consume_ns partition offset" per record to this file')
    a = ap.parse_args()
    try:
        {'create': cmd_create, 'produce': cmd_produce, 'latency': cmd_latency, 'consume': cmd_consume,
         'e2e': cmd_e2e, 'e2e-consumer': cmd_e2e_consumer, 'watermarks': cmd_watermarks, 'jitter': cmd_jitter}[a.mode](a)
    except KafkaException as e:
        fail('%s: %s' % (a.mode, e))


if __name__ == '__main__':
    main()
