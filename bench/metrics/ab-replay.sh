#!/bin/bash
# Issue 16: the metrics on/off A/B with a replayed load (bench/metrics/replay.ts): the same
# Produce request frames in every run, so that the broker's CPU per record differs between the
# two sides of a pair by what the metrics cost and the machine's noise only (librdkafka, in
# ab.sh, batches differently from run to run). Run from the repository root:
#
#   bench/metrics/ab-replay.sh SHAPE [ROUNDS]
#
# SHAPE: large (6 partitions x 128 records of 100 B: 84 KB requests, librdkafka's defaults under
# load) or 16k (6 x 24 records: 16 KB requests, the Java client's batch.size). Each of ROUNDS
# (default 10) rounds starts two `kcli server start` processes from source (tsx), each with a
# fresh data directory and --log-level warn: one without metrics listener (off), one with
# metrics.listener=http://127.0.0.1:0 and per-topic series (metrics.topic.labels.enable=true) and a
# scraper getting /metrics every 15 s from its start, as Prometheus would (on). Both are warmed up
# with 500,000 records (the JIT), then the replay alternates between them in bursts of RECORDS
# (default 1,500,000) records, ABBA (off on on off in odd rounds, on off off on in even ones), so
# that the two sides of a pair share the machine's state within seconds; a fresh pair of
# processes per round spreads the luck of one process' JIT and heap over the rounds. Only the
# broker being replayed to works (the other is idle). Each burst: 2 connections, 4 requests in
# flight each. Environment: RECORDS, BURSTS (per side and round, default 2), OUT (default
# bench/metrics/replay-<UTC date>-<shape>.json).
set -euo pipefail
SHAPE=${1:?usage: ab-replay.sh large|16k [rounds]}
ROUNDS=${2:-10}
case $SHAPE in
  large) PER_BATCH=128 ;;
  16k) PER_BATCH=24 ;;
  *) echo "unknown shape $SHAPE (large|16k)" >&2; exit 2 ;;
esac
RECORDS=${RECORDS:-1500000}
BURSTS=${BURSTS:-2}
OUT=${OUT:-bench/metrics/replay-$(date -u +%Y-%m-%d)-$SHAPE.json}
W=$(mktemp -d /tmp/kab-replay-XXXX)
declare -A PID PORT
SCRAPER=""
stop_all() {
  [ -n "$SCRAPER" ] && { kill "$SCRAPER" 2>/dev/null; wait "$SCRAPER" 2>/dev/null; SCRAPER=""; } || true
  for m in off on; do
    if [ -n "${PID[$m]:-}" ]; then kill -TERM "${PID[$m]}" 2>/dev/null; wait "${PID[$m]}" 2>/dev/null || true; PID[$m]=""; fi
  done
}
trap 'stop_all; rm -rf "$W"' EXIT

# The frames, once: every burst of every round replays these bytes.
npx tsx bench/metrics/replay.ts record --out $W/frames --partitions 6 --batch-records $PER_BATCH --size 100 --frames 32 >&2

json() { node -e "console.log(JSON.parse(require('fs').readFileSync('$1','utf8'))$2)"; }

start() { # $1 = round, $2 = off|on
  local D=$W/round-$1-$2 extra=()
  mkdir -p $D
  [ "$2" = on ] && extra=(--override metrics.listener=http://127.0.0.1:0 --override metrics.topic.labels.enable=true)
  node --import tsx bin/dev.js server start --data-dir $D/data --port 0 --json --log-level warn "${extra[@]}" > $D/status.json 2> $D/err.txt &
  PID[$2]=$!
}

ready() { # $1 = round, $2 = off|on
  local D=$W/round-$1-$2
  for _ in $(seq 1 150); do [ -s $D/status.json ] && break; sleep 0.2; done
  [ -s $D/status.json ] || { echo "broker ($2) did not start: $(cat $D/err.txt)" >&2; exit 1; }
  PORT[$2]=$(json $D/status.json '.listeners[0].port')
  if [ "$2" = on ]; then
    local url
    url=$(json $D/status.json '.metricsListener')
    (while true; do curl -s -o /dev/null "$url/metrics"; sleep 15; done) &
    SCRAPER=$!
  fi
}

burst() { # $1 = round, $2 = off|on, $3 = records, $4 = warm-up records, $5 = record the result (1) or not
  npx tsx bench/metrics/replay.ts replay --frames $W/frames --bootstrap 127.0.0.1:${PORT[$2]} --pid ${PID[$2]} --records $3 --warmup-records $4 --connections 2 --in-flight 4 > $W/burst.json
  if [ "$5" = 1 ]; then
    node -e "const r=JSON.parse(require('fs').readFileSync('$W/burst.json','utf8'));console.log(JSON.stringify({round:$1,mode:'$2',...r}))" | tee -a $W/runs.jsonl >&2
  fi
}

echo "ab-replay $SHAPE: $ROUNDS rounds, $BURSTS bursts of $RECORDS records per side and round, $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +changes), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 $ROUNDS); do
  start $r off
  start $r on
  ready $r off
  ready $r on
  burst $r off 500000 10000 0
  burst $r on 500000 10000 0
  if [ $((r % 2)) = 1 ]; then first=off second=on; else first=on second=off; fi
  for _ in $(seq 1 $((BURSTS / 2))); do
    burst $r $first $RECORDS 10000 1
    burst $r $second $RECORDS 10000 1
    burst $r $second $RECORDS 10000 1
    burst $r $first $RECORDS 10000 1
  done
  stop_all
  rm -rf $W/round-$r-*
done
npx tsx bench/metrics/replay.ts summarize --runs $W/runs.jsonl --out $OUT --shape $SHAPE
echo "written: $OUT" >&2
