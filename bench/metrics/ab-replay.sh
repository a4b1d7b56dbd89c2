#!/bin/bash
# Issue 16: the metrics on/off A/B with a replayed load (bench/metrics/replay.ts): the same
# Produce request frames in every run, so that the broker's CPU per record differs between the
# two sides of a pair by what the metrics cost and the machine's noise only (librdkafka, in
# ab.sh, batches differently from run to run). Run from the repository root:
#
#   bench/metrics/ab-replay.sh SHAPE [ROUNDS]
#
# SHAPE: full (~800 KB requests, librdkafka's at full speed), large (84 KB) or 16k (16 KB), as
# bench/metrics/shapes.sh describes them. Each of ROUNDS (default 10) rounds starts
# two `kcli server start` processes from source (tsx), each with a fresh data directory and
# --log-level warn: one without metrics listener (off), one with
# metrics.listener=http://127.0.0.1:0 and per-topic series (metrics.topic.labels.enable=true) and a
# scraper getting /metrics every 15 s from its start, as Prometheus would (on). `replay.ts ab`
# warms both up with 500,000 records (5,000,000 for full; the JIT), then replays to them in turns,
# SLICES (default 16) slices of SLICE_RECORDS (default 150,000; 1,500,000 for full) records each,
# ABBA (off on on off ... in odd rounds, on off off on ... in even ones; one broker working at a
# time, the other idle), so that the two sides of a pair see the same machine within a second or
# so; a fresh pair of processes per round spreads the luck of one process' JIT and heap over the
# rounds. 2 connections, 4 requests in flight each. Environment: SLICES, SLICE_RECORDS, OUT (default
# bench/metrics/replay-<UTC date>-<shape>.json), AA=1 (an A/A calibration: the "on" broker without
# metrics too, so the ratios show the method's noise and any bias of position or order), ON_ENV
# ("NAME=value ...": environment of the "on" broker only, e.g. an experiment's switch with AA=1).
set -euo pipefail
SHAPE=${1:?usage: ab-replay.sh full|large|16k [rounds]}
ROUNDS=${2:-10}
source "$(dirname "${BASH_SOURCE[0]}")/shapes.sh"
SLICES=${SLICES:-16}
SLICE_RECORDS=${SLICE_RECORDS:-$SLICE}
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

# The frames, once: every slice of every round replays these bytes.
npx tsx bench/metrics/replay.ts record --out $W/frames --partitions 6 --batch-records $PER_BATCH --size 100 --frames 32 >&2

json() { node -e "console.log(JSON.parse(require('fs').readFileSync('$1','utf8'))$2)"; }

start() { # $1 = round, $2 = off|on
  local D=$W/round-$1-$2 extra=()
  mkdir -p $D
  [ "$2" = on ] && [ -z "${AA:-}" ] && extra=(--override metrics.listener=http://127.0.0.1:0 --override metrics.topic.labels.enable=true)
  local envs=()
  [ "$2" = on ] && [ -n "${ON_ENV:-}" ] && read -ra envs <<< "$ON_ENV"
  env "${envs[@]}" node --import tsx bin/dev.js server start --data-dir $D/data --port 0 --json --log-level warn "${extra[@]}" > $D/status.json 2> $D/err.txt &
  PID[$2]=$!
}

ready() { # $1 = round, $2 = off|on
  local D=$W/round-$1-$2
  for _ in $(seq 1 150); do [ -s $D/status.json ] && break; sleep 0.2; done
  [ -s $D/status.json ] || { echo "broker ($2) did not start: $(cat $D/err.txt)" >&2; exit 1; }
  PORT[$2]=$(json $D/status.json '.listeners[0].port')
  if [ "$2" = on ] && [ -z "${AA:-}" ]; then
    local url
    url=$(json $D/status.json '.metricsListener')
    (while true; do curl -s -o /dev/null "$url/metrics"; sleep 15; done) &
    SCRAPER=$!
  fi
}

echo "ab-replay $SHAPE: $ROUNDS rounds, $SLICES slices of $SLICE_RECORDS records per side and round, $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +changes), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 $ROUNDS); do
  start $r off
  start $r on
  ready $r off
  ready $r on
  order=()
  [ $((r % 2)) = 0 ] && order=(--on-first)
  npx tsx bench/metrics/replay.ts ab --frames $W/frames --off 127.0.0.1:${PORT[off]},${PID[off]} --on 127.0.0.1:${PORT[on]},${PID[on]} "${order[@]}" \
    --slices $SLICES --slice-records $SLICE_RECORDS --warmup-records $WARMUP --connections 2 --in-flight 4 > $W/round.jsonl
  node -e "for (const l of require('fs').readFileSync('$W/round.jsonl','utf8').trim().split('\n')) console.log(JSON.stringify({round:$r,...JSON.parse(l)}))" | tee -a $W/runs.jsonl >&2
  stop_all
  rm -rf $W/round-$r-*
done
npx tsx bench/metrics/replay.ts summarize --runs $W/runs.jsonl --out $OUT --shape $SHAPE
echo "written: $OUT" >&2
