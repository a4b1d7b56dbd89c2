#!/bin/bash
# Consume-only A/B on identical data: build A produces N records once, then A and B alternate
# serving a copy of that data directory (3 pairs). Issue 19:
#   LOADGEN=/tmp/loadgen bench/throughput/consume-ab.sh <build dir A> <build dir B>
LG=${LOADGEN:?set LOADGEN}; A=$1; BB=$2; N=3000000
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
waitp() { for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
start() { node $1/bin/run.js server start --data-dir $2 --port $3 --json --log-level warn --override num.partitions=6 >/dev/null 2>&2 & echo $!; }
SRC=$(mktemp -d); P=$(port); B=$(start $A $SRC $P); waitp $P
$LG produce 127.0.0.1:$P warm 50000 100 1 5 >/dev/null; $LG produce 127.0.0.1:$P bench $N 100 1 5 | cut -c1-80
kill -TERM $B; wait $B 2>/dev/null; sleep 0.5
for i in 1 2 3; do for d in $A $BB; do
  D=$(mktemp -d); cp -a $SRC/. $D/; P=$(port); B=$(start $d $D $P); waitp $P
  $LG consume 127.0.0.1:$P warm 50000 >/dev/null
  c0=$(awk '{print $14+$15}' /proc/$B/stat); r=$($LG consume 127.0.0.1:$P bench $N); c1=$(awk '{print $14+$15}' /proc/$B/stat)
  echo "$d consume ticks $((c1-c0)) $(echo $r | grep -o '"recordsPerSecond":[0-9]*') load $(cut -d' ' -f1 /proc/loadavg)"
  kill -TERM $B; wait $B 2>/dev/null; sleep 0.5; rm -rf $D
done; done
rm -rf $SRC
