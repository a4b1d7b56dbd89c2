/*
 * Issue 19's load generator: librdkafka at full speed, as rdkafka_performance drives a broker,
 * with one JSON line of results on stdout.
 *
 *   loadgen produce <bootstrap> <topic> <records> <size> <acks> <linger.ms> [batch]
 *   loadgen consume <bootstrap> <topic> <records>
 *
 * produce: <records> values of <size> bytes (no key, librdkafka's default partitioner spreads
 * them; with `batch`, rd_kafka_produce_batch hands librdkafka 1,000 records at a time, each call
 * to the next partition: its cheapest way in, one queue lock per call instead of per record),
 * acks and linger.ms as given, no compression; records/s is from the first produce call to
 * the last delivery report; latency is from the produce call to the delivery report, of every
 * 16th record (p50, p99). Delivery errors are counted. consume: every partition of <topic>
 * assigned from the beginning (no group rebalance), until <records> records were received;
 * records/s from the first record to the last. cpuS: the generator's own CPU seconds.
 *
 * Build: cc -O2 -o loadgen loadgen.c -lrdkafka (Debian: apt-get install -y librdkafka-dev).
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Latency is sampled: every SAMPLE-th record's produce call and delivery report are timed. The
 * generator shares the two cores with the broker, and its main thread was the bound of the
 * produce rate: clock reads (kvm-clock) were 29% of its CPU samples. Sampling them, and handing
 * librdkafka the value without a copy (flags 0: it outlives the producer), took it from 1.07 to
 * 0.80 CPU s per million records. */
#define SAMPLE 16
/* Records per rd_kafka_produce_batch call in batch mode, each call to the next partition. */
#define BATCH 1000
static int64_t *sent_at;
static uint32_t *latency_us;
static long delivered, failed, sampled, total;
static int64_t last_delivery;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  long i = (long)(intptr_t)m->_private;
  if (m->err) failed++;
  else {
    delivered++;
    if (i % SAMPLE == 0) latency_us[sampled++] = (uint32_t)(now_us() - sent_at[i / SAMPLE]);
  }
  if (delivered + failed == total) last_delivery = now_us();
}

/* This process's CPU seconds so far (every thread, user + system). */
static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "%s=%s: %s\n", k, v, err);
    exit(2);
  }
}

/* The topic's partition count (its metadata; a producer's request creates it where the broker
 * auto-creates topics), or -1 with a message. */
static int partition_count(rd_kafka_t *rk, rd_kafka_topic_t *rkt) {
  const struct rd_kafka_metadata *md;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  if (e) {
    fprintf(stderr, "metadata: %s\n", rd_kafka_err2str(e));
    return -1;
  }
  int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  if (n <= 0) fprintf(stderr, "metadata: no partitions for %s\n", rd_kafka_topic_name(rkt));
  return n > 0 ? n : -1;
}

static int produce(const char *bootstrap, const char *topic, long records, int size, const char *acks, const char *linger, int batch) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "acks", acks);
  set(conf, "linger.ms", linger);
  set(conf, "queue.buffering.max.messages", "1000000");
  set(conf, "queue.buffering.max.kbytes", "1048576");
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "producer: %s\n", err);
    return 2;
  }
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  total = records;
  sent_at = malloc(sizeof *sent_at * (records / SAMPLE + 1));
  latency_us = malloc(sizeof *latency_us * (records / SAMPLE + 1));
  char *value = malloc(size);
  memset(value, 'x', size);
  int64_t start = now_us();
  if (batch) {
    int partitions = partition_count(rk, rkt);
    if (partitions <= 0) return 2;
    static rd_kafka_message_t chunk[BATCH];
    long n = 0;
    for (long i = 0; i < records; i += n) {
      n = records - i < BATCH ? records - i : BATCH;
      for (long j = 0; j < n; j++) {
        if ((i + j) % SAMPLE == 0) sent_at[(i + j) / SAMPLE] = now_us();
        chunk[j] = (rd_kafka_message_t){.payload = value, .len = size, ._private = (void *)(intptr_t)(i + j)};
      }
      int32_t partition = (int32_t)(i / BATCH % partitions);
      /* librdkafka enqueues in order and stops at a full queue: retry the rest. */
      for (long done = 0; done < n;) {
        done += rd_kafka_produce_batch(rkt, partition, 0, chunk + done, (int)(n - done));
        if (done < n && chunk[done].err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          fprintf(stderr, "produce: %s\n", rd_kafka_err2str(chunk[done].err));
          return 2;
        }
        if (done < n) rd_kafka_poll(rk, 1);
      }
      rd_kafka_poll(rk, 0);
    }
  } else {
    for (long i = 0; i < records; i++) {
      if (i % SAMPLE == 0) sent_at[i / SAMPLE] = now_us();
      while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, value, size, NULL, 0, (void *)(intptr_t)i) == -1) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          fprintf(stderr, "produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
          return 2;
        }
        rd_kafka_poll(rk, 1);
      }
      if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
  }
  while (delivered + failed < records) rd_kafka_poll(rk, 100);
  double cpu = cpu_seconds();
  double seconds = (last_delivery - start) / 1e6;
  qsort(latency_us, sampled, sizeof *latency_us, cmp_u32);
  double p50 = sampled ? latency_us[sampled / 2] / 1000.0 : -1;
  double p99 = sampled ? latency_us[(long)(sampled * 0.99)] / 1000.0 : -1;
  printf("{\"mode\":\"produce\",\"records\":%ld,\"delivered\":%ld,\"failed\":%ld,\"seconds\":%.3f,\"recordsPerSecond\":%.0f,\"p50Ms\":%.2f,\"p99Ms\":%.2f,\"cpuS\":%.3f}\n", records, delivered, failed, seconds, delivered / seconds, p50, p99, cpu);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return failed ? 1 : 0;
}

static int consume(const char *bootstrap, const char *topic, long records) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "group.id", "loadgen");
  set(conf, "enable.auto.commit", "false");
  set(conf, "enable.partition.eof", "false");
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "consumer: %s\n", err);
    return 2;
  }
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  int partitions = partition_count(rk, rkt);
  if (partitions <= 0) return 2;
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; p++) rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  long got = 0;
  int64_t first = 0, last = 0, deadline = now_us() + 300 * 1000000LL;
  while (got < records && now_us() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      if (!got) first = now_us();
      got++;
      last = now_us();
    }
    rd_kafka_message_destroy(m);
  }
  double seconds = (last - first) / 1e6;
  printf("{\"mode\":\"consume\",\"records\":%ld,\"received\":%ld,\"seconds\":%.3f,\"recordsPerSecond\":%.0f,\"cpuS\":%.3f}\n", records, got, seconds, seconds > 0 ? got / seconds : 0, cpu_seconds());
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return got == records ? 0 : 1;
}

int main(int argc, char **argv) {
  if ((argc == 8 || (argc == 9 && !strcmp(argv[8], "batch"))) && !strcmp(argv[1], "produce")) return produce(argv[2], argv[3], atol(argv[4]), atoi(argv[5]), argv[6], argv[7], argc == 9);
  if (argc == 5 && !strcmp(argv[1], "consume")) return consume(argv[2], argv[3], atol(argv[4]));
  fprintf(stderr, "usage: loadgen produce <bootstrap> <topic> <records> <size> <acks> <linger.ms> [batch]\n       loadgen consume <bootstrap> <topic> <records>\n");
  return 2;
}
