#!/bin/bash
# Issue 16: one interleaved pair member of the metrics on/off A/B, without anything else running
# in the measuring process: `kcli server start` from source (tsx) with a fresh data directory,
# metrics.listener on (one /metrics scrape before the load, as a running Prometheus would have
# done) or off; 50,000 records unmeasured, then 2,000,000 records of 100 bytes, acks=1, 6
# partitions, Java client batching (batch 16 KiB, linger 5 ms) from bench/broker/loadgen.py
# (librdkafka); prints the load generator's msg/s and the broker's CPU ticks (utime + stime, 1/100 s)
# over the measured phase. Run from the repository root:
#   for m in on off on off on off on off; do bench/metrics/ab.sh $m; done
# With LOADGEN=<bench/throughput/loadgen.c built>: that generator instead, at full speed with
# librdkafka's batch API (its ~800 KB requests; the topic auto-created with 6 partitions),
# RECORDS (default 3,000,000) measured, and the generator's CPU seconds printed too.
# $1 = on|off
D=$(mktemp -d /tmp/kab-XXXX)
EXTRA=""
[ "$1" = on ] && EXTRA="--override metrics.listener=http://127.0.0.1:0"
node --import tsx bin/dev.js server start --data-dir $D/data --port 0 --json --log-level warn --override num.partitions=6 $EXTRA > $D/status.json 2>$D/err.txt &
PID=$!
for i in $(seq 1 100); do [ -s $D/status.json ] && break; sleep 0.2; done
PORT=$(python3 -c "import json;print(json.load(open('$D/status.json'))['listeners'][0]['port'])")
if [ -n "${LOADGEN:-}" ]; then
  $LOADGEN produce 127.0.0.1:$PORT t 200000 100 1 5 batch > /dev/null
else
  /usr/bin/python3 bench/broker/loadgen.py create --bootstrap 127.0.0.1:$PORT --topic t --partitions 6 >/dev/null
  /usr/bin/python3 bench/broker/loadgen.py produce --bootstrap 127.0.0.1:$PORT --topic t --count 50000 --size 100 --acks 1 --linger-ms 5 --batch-bytes 16384 >/dev/null
fi
[ "$1" = on ] && curl -s $(python3 -c "import json;print(json.load(open('$D/status.json'))['metricsListener'])")/metrics > /dev/null
C0=$(awk '{print $14+$15}' /proc/$PID/stat)
if [ -n "${LOADGEN:-}" ]; then
  OUT=$($LOADGEN produce 127.0.0.1:$PORT t ${RECORDS:-3000000} 100 1 5 batch)
  C1=$(awk '{print $14+$15}' /proc/$PID/stat)
  echo "$1 msgs/s=$(echo "$OUT" | python3 -c "import json,sys;print(int(json.load(sys.stdin)['recordsPerSecond']))") cpu_ticks=$((C1-C0)) loadgen_cpu_s=$(echo "$OUT" | python3 -c "import json,sys;print(json.load(sys.stdin)['cpuS'])")"
else
  R=$(/usr/bin/python3 bench/broker/loadgen.py produce --bootstrap 127.0.0.1:$PORT --topic t --count 2000000 --size 100 --acks 1 --linger-ms 5 --batch-bytes 16384 | python3 -c "import json,sys;print(int(json.load(sys.stdin)['msgs_per_s']))")
  C1=$(awk '{print $14+$15}' /proc/$PID/stat)
  echo "$1 msgs/s=$R cpu_ticks=$((C1-C0))"
fi
kill -TERM $PID; wait $PID 2>/dev/null; rm -rf $D
