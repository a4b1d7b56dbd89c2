#!/bin/bash
# Issue 16: the metrics on/off A/B with a replayed load (bench/metrics/replay.ts): the same
# Produce request frames in every run, so that the broker's CPU per record differs between the
# runs of a pair by what the metrics cost and the machine's noise only (librdkafka, in ab.sh,
# batches differently from run to run). Run from the repository root:
#
#   bench/metrics/ab-replay.sh SHAPE [ROUNDS]
#
# SHAPE: large (6 partitions x 128 records of 100 B: 84 KB requests, librdkafka's defaults under
# load) or 16k (6 x 24 records: 16 KB requests, the Java client's batch.size). ROUNDS (default
# 10) interleaved pairs, off first in odd rounds and on first in even ones. Each run is a
# `kcli server start` from source (tsx) with a fresh data directory, --log-level warn and either
# no metrics listener (off) or metrics.listener=http://127.0.0.1:0 with per-topic series
# (metrics.topic.labels.enable=true) and a scraper getting /metrics every 15 s from the broker's
# start, as Prometheus would (on). The replay: RECORDS (default 3,000,000) records measured after
# 500,000 unmeasured (the JIT warms up), over 2 connections with 4 requests in flight each. Environment:
# RECORDS, BROKER_NODE_OPTIONS (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof), OUT (default
# bench/metrics/replay-<UTC date>-<shape>.json).
set -euo pipefail
SHAPE=${1:?usage: ab-replay.sh large|16k [rounds]}
ROUNDS=${2:-10}
case $SHAPE in
  large) PER_BATCH=128 ;;
  16k) PER_BATCH=24 ;;
  *) echo "unknown shape $SHAPE (large|16k)" >&2; exit 2 ;;
esac
RECORDS=${RECORDS:-3000000}
OUT=${OUT:-bench/metrics/replay-$(date -u +%Y-%m-%d)-$SHAPE.json}
W=$(mktemp -d /tmp/kab-replay-XXXX)
BROKER=""
SCRAPER=""
cleanup() {
  [ -n "$SCRAPER" ] && kill "$SCRAPER" 2>/dev/null || true
  [ -n "$BROKER" ] && kill -TERM "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

# The frames, once: every run of every pair replays these bytes.
npx tsx bench/metrics/replay.ts record --out $W/frames --partitions 6 --batch-records $PER_BATCH --size 100 --frames 32 >&2

run() { # $1 = round, $2 = off|on
  local D=$W/run-$1-$2 extra=()
  mkdir -p $D
  [ "$2" = on ] && extra=(--override metrics.listener=http://127.0.0.1:0 --override metrics.topic.labels.enable=true)
  # shellcheck disable=SC2086
  node ${BROKER_NODE_OPTIONS:-} --import tsx bin/dev.js server start --data-dir $D/data --port 0 --json --log-level warn "${extra[@]}" > $D/status.json 2> $D/err.txt &
  BROKER=$!
  for _ in $(seq 1 150); do [ -s $D/status.json ] && break; sleep 0.2; done
  [ -s $D/status.json ] || { echo "broker did not start: $(cat $D/err.txt)" >&2; exit 1; }
  local port url
  port=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$D/status.json','utf8')).listeners[0].port)")
  if [ "$2" = on ]; then
    url=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$D/status.json','utf8')).metricsListener)")
    (while true; do curl -s -o /dev/null "$url/metrics"; sleep 15; done) &
    SCRAPER=$!
  fi
  npx tsx bench/metrics/replay.ts replay --frames $W/frames --bootstrap 127.0.0.1:$port --pid $BROKER --records $RECORDS --warmup-records 500000 --connections 2 --in-flight 4 > $D/result.json
  [ -n "$SCRAPER" ] && { kill $SCRAPER; wait $SCRAPER 2>/dev/null || true; SCRAPER=""; }
  kill -TERM $BROKER; wait $BROKER 2>/dev/null || true; BROKER=""
  node -e "const r=JSON.parse(require('fs').readFileSync('$D/result.json','utf8'));console.log(JSON.stringify({round:$1,mode:'$2',...r}))" | tee -a $W/runs.jsonl >&2
  rm -rf $D/data
}

echo "ab-replay $SHAPE: $ROUNDS rounds, $RECORDS records per run, $(git rev-parse --short HEAD), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 $ROUNDS); do
  if [ $((r % 2)) = 1 ]; then run $r off; run $r on; else run $r on; run $r off; fi
done
npx tsx bench/metrics/replay.ts summarize --runs $W/runs.jsonl --out $OUT --shape $SHAPE
echo "written: $OUT" >&2
