# Issue 16: the replayed request shapes, one table for ab-replay.sh and profile-replay.sh (sourced;
# $SHAPE set). PER_BATCH: records per partition in a request (6 partitions, 100 B values); SLICE
# and WARMUP: ab-replay.sh's records per slice and of warm-up — full's requests hold ~10x the
# records of large's, so 10x the records for as many requests.
#   full:  6 x 1,200: ~800 KB, what librdkafka 2.0.2 sends at full speed (273 Produce requests
#          for bench/throughput/loadgen.c's 2,000,000 records)
#   large: 6 x 128: 84 KB, near the Java client's at saturation (a 16 KB batch per partition)
#   16k:   6 x 24: 16 KB
case $SHAPE in
  full) PER_BATCH=1200 SLICE=1500000 WARMUP=5000000 ;;
  large) PER_BATCH=128 SLICE=150000 WARMUP=500000 ;;
  16k) PER_BATCH=24 SLICE=150000 WARMUP=500000 ;;
  *) echo "unknown shape $SHAPE (full|large|16k)" >&2; exit 2 ;;
esac
