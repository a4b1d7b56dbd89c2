#!/bin/bash
# Consume-only A/B on identical data: build A produces N records once, then A and B alternate
# serving a copy of that data directory (PAIRS pairs, default 3). Issue 19:
#   LOADGEN=/tmp/loadgen bench/throughput/consume-ab.sh <build dir A> <build dir B>
# A_ENV / B_ENV ("NAME=value ..."): environment of A's / B's broker only, e.g. one build against
# itself with B_ENV=KCLI_LOG_READS=pool (the build dir may be the repository after npm run build).
LG=${LOADGEN:?set LOADGEN}; A=$1; BB=$2; N=${N:-3000000}; PAIRS=${PAIRS:-3}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
waitp() { for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
start() { env ${4:-} node $1/bin/run.js server start --data-dir $2 --port $3 --json --log-level warn --override num.partitions=6 >/dev/null 2>&2 & echo $!; }
SRC=$(mktemp -d); P=$(port); B=$(start $A $SRC $P); waitp $P
$LG produce 127.0.0.1:$P warm 50000 100 1 5 >/dev/null; $LG produce 127.0.0.1:$P bench $N 100 1 5 | cut -c1-80
kill -TERM $B; wait $B 2>/dev/null; sleep 0.5
for i in $(seq $PAIRS); do for side in A B; do
  if [ $side = A ]; then d=$A; e=${A_ENV:-}; else d=$BB; e=${B_ENV:-}; fi
  D=$(mktemp -d); cp -a $SRC/. $D/; P=$(port); B=$(start $d $D $P "$e"); waitp $P
  $LG consume 127.0.0.1:$P warm 50000 >/dev/null
  c0=$(awk '{print $14+$15}' /proc/$B/stat); r=$($LG consume 127.0.0.1:$P bench $N); c1=$(awk '{print $14+$15}' /proc/$B/stat)
  echo "$side $d${e:+ ($e)} consume ticks $((c1-c0)) $(echo $r | grep -o '"recordsPerSecond":[0-9]*') load $(cut -d' ' -f1 /proc/loadavg)"
  kill -TERM $B; wait $B 2>/dev/null; sleep 0.5; rm -rf $D
done; done
rm -rf $SRC
