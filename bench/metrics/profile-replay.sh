#!/bin/bash
# Issue 16: where the broker's CPU goes under the replayed produce load (bench/metrics/replay.ts),
# and how much of it is the metrics' own code. `perf record` samples CPU time (cpu-clock) of every
# thread of the broker, so unlike `node --cpu-prof` (wall-clock samples of the main thread: on a
# loaded machine a preempted thread's samples land where it stopped) it is usable while other
# processes share the cores. Run from the repository root:
#
#   bench/metrics/profile-replay.sh on|off full|large|16k [OUT_PREFIX]
#
# The broker (`kcli server start` from source, node --perf-basic-prof for the JIT's symbols,
# metrics.listener and per-topic series when on, one /metrics scrape first) takes 1,500,000
# records unrecorded (the JIT warms up), then RECORDS (default 4,000,000) records under
# `perf record -F 1999 -g`. Prints the replay's JSON line, the CPU share per thread, the top
# symbols, and every sample of the metrics' code (broker-metrics.ts, metrics-registry.ts,
# prom-client, node's performance timers, GC observer and event-loop-delay histogram) with their
# sum; OUT_PREFIX.perf.data and OUT_PREFIX.map are kept for perf report (default /tmp/kcli-profile-<mode>-<shape>).
set -euo pipefail
MODE=${1:?usage: profile-replay.sh on|off full|large|16k [out prefix]}
SHAPE=${2:?usage: profile-replay.sh on|off full|large|16k [out prefix]}
OUT=${3:-/tmp/kcli-profile-$MODE-$SHAPE}
source "$(dirname "${BASH_SOURCE[0]}")/shapes.sh"
W=$(mktemp -d /tmp/kprofile-XXXX)
BROKER=""
PERF=""
cleanup() {
  [ -n "$PERF" ] && kill -INT "$PERF" 2>/dev/null || true
  [ -n "$BROKER" ] && kill -TERM "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
npx tsx bench/metrics/replay.ts record --out $W/frames --batch-records $PER_BATCH > /dev/null
extra=()
[ "$MODE" = on ] && extra=(--override metrics.listener=http://127.0.0.1:0 --override metrics.topic.labels.enable=true)
node --perf-basic-prof --logfile=$W/v8.log --no-logfile-per-isolate --import tsx bin/dev.js server start --data-dir $W/data --port 0 --json --log-level warn "${extra[@]}" > $W/status.json 2> $W/err.txt &
BROKER=$!
for _ in $(seq 1 150); do [ -s $W/status.json ] && break; sleep 0.2; done
port=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$W/status.json','utf8')).listeners[0].port)")
[ "$MODE" = on ] && curl -s -o /dev/null "$(node -e "console.log(JSON.parse(require('fs').readFileSync('$W/status.json','utf8')).metricsListener)")/metrics"
npx tsx bench/metrics/replay.ts replay --frames $W/frames --bootstrap 127.0.0.1:$port --pid $BROKER --records 1500000 --warmup-records 300000 > /dev/null
perf record -F 1999 -g -p $BROKER -o $OUT.perf.data 2> /dev/null &
PERF=$!
sleep 0.5
npx tsx bench/metrics/replay.ts replay --frames $W/frames --bootstrap 127.0.0.1:$port --pid $BROKER --records ${RECORDS:-4000000} --warmup-records 10000
kill -INT $PERF; wait $PERF 2>/dev/null || true; PERF=""
cp /tmp/perf-$BROKER.map $OUT.map
kill -TERM $BROKER; wait $BROKER 2>/dev/null || true; BROKER=""
set +o pipefail # head closes perf report's output early
report() { perf report -i $OUT.perf.data --no-children --stdio -g none "$@" 2> /dev/null | grep -v '^#' | grep -v '^$'; }
echo "--- CPU share per thread (the first: the main thread, the event loop; 4 about equal: libuv's pool, the file writes; the small ones: V8's GC and compiler)"
report --sort pid | head -8
echo "--- top 25 symbols"
report --sort dso,sym | head -25
echo "--- the metrics' code"
report --sort dso,sym | grep -E 'broker-metrics|metrics-registry|prom-client|node::performance|hdr_|IntervalHistogram|ELDHistogram|GCPerformance|MarkGarbageCollection|perf_hooks|performance_entry' | tee $W/metrics.txt || true
awk '{s += $1} END {printf "sum: %.2f%% of the broker'"'"'s CPU samples\n", s}' $W/metrics.txt
