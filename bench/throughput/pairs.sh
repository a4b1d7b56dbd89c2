#!/bin/bash
# Per-thread CPU ticks of one broker build (main thread vs the others) across a produce and a
# consume of N records, and the load generator's CPU (/usr/bin/time). Issue 19's A/B pairs:
#   cc -O2 -o /tmp/loadgen bench/throughput/loadgen.c -lrdkafka
#   LOADGEN=/tmp/loadgen bench/throughput/pairs.sh <build dir with bin/ and dist/> [N]
D=$1; N=${2:-3000000}; LG=${LOADGEN:?set LOADGEN}
DATA=$(mktemp -d); T=$(mktemp -d)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
waitp() { for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
snap() { for t in /proc/$1/task/*; do n=other; [ "$(basename $t)" = "$1" ] && n=main; echo "$n $(awk "{print \$14, \$15}" $t/stat)"; done | awk "{u[\$1]+=\$2; s[\$1]+=\$3} END {for (k in u) print k, u[k], s[k]}" | sort; }
P=$(port)
node $EXTRA $D/bin/run.js server start --data-dir $DATA --port $P --json --log-level warn --override num.partitions=6 >/dev/null 2>&2 &
B=$!; waitp $P
$LG produce 127.0.0.1:$P warm 50000 100 1 5 >/dev/null; $LG consume 127.0.0.1:$P warm 50000 >/dev/null
snap $B > $T/s0
/usr/bin/time -f "loadgen produce user %U sys %S wall %e" $LG produce 127.0.0.1:$P bench $N 100 1 5
snap $B > $T/s1
/usr/bin/time -f "loadgen consume user %U sys %S wall %e" $LG consume 127.0.0.1:$P bench $N
snap $B > $T/s2
echo "thread: produce utime stime | consume utime stime (ticks)"; join $T/s0 $T/s1 | join - $T/s2 | awk '{print $1, $4-$2, $5-$3, "|", $6-$4, $7-$5}'
kill -TERM $B; wait $B; rm -rf $DATA $T; cut -d' ' -f1-3 /proc/loadavg
