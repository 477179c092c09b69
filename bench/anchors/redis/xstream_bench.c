/* Vendored from the team's shared bench kit (redis/xstream_bench.c there); unchanged but for this line. */
/* xstream_bench: Redis Streams consume-side and end-to-end anchors (hiredis).
 *
 *   xstream_bench consume PORT N BATCH PIPE
 *       Fills stream "xb" with N 300-byte entries (untimed, pipelined XADD),
 *       creates group "g" at 0, then times one consumer draining it with
 *       XREADGROUP GROUP g c COUNT BATCH STREAMS xb >  followed by
 *       XACK xb g <ids of that batch>.
 *       PIPE=0: XACK then XREADGROUP as two round trips per batch.
 *       PIPE=1: XACK of batch k is pipelined with XREADGROUP for batch k+1
 *               (one round trip per batch, what an async broker would do).
 *       Prints consumed msgs/s.
 *
 *   xstream_bench e2e PORT N RATE
 *       Producer: XADD xb * d <300-byte payload carrying the actual send
 *       time>, one message every 1/RATE s (open loop, clock_nanosleep to each
 *       slot, replies read by a second thread so slow acks never delay the
 *       next send; how late each send was vs. its slot is reported as
 *       schedlag, so a stalled publisher is not hidden).
 *       Consumer thread: XREADGROUP ... COUNT 100 BLOCK 1000, XACK per batch.
 *       Prints publish-ack latency (XADD reply) and end-to-end latency
 *       (send -> consumer has the entry) p50/p99/p999/max.
 *
 * Both use 127.0.0.1 only and stop by themselves (bounded N, 30 s guard).
 */
#define _GNU_SOURCE
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 300
static int port;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}
static redisContext *conn(void) {
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) { fprintf(stderr, "connect: %s\n", c ? c->errstr : "oom"); exit(1); }
    return c;
}
static redisReply *cmd_ok(redisContext *c, redisReply *r, const char *what) {
    if (!r) { fprintf(stderr, "%s: %s\n", what, c->errstr); exit(1); }
    if (r->type == REDIS_REPLY_ERROR) { fprintf(stderr, "%s: %s\n", what, r->str); exit(1); }
    return r;
}
static int cmpu64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
static void pct(const char *name, uint64_t *v, size_t n) {
    qsort(v, n, sizeof *v, cmpu64);
    printf("%s_p50_us=%.1f %s_p99_us=%.1f %s_p999_us=%.1f %s_max_us=%.1f ", name, v[n / 2] / 1e3,
           name, v[(size_t)(n * 0.99)] / 1e3, name, v[(size_t)(n * 0.999)] / 1e3, name,
           v[n - 1] / 1e3);
}
static void make_payload(char *buf, uint64_t ts) {
    memset(buf, 'x', PAYLOAD);
    int k = snprintf(buf, PAYLOAD, "{\"t\":%llu,\"type\":\"registry.event\",\"data\":\"",
                     (unsigned long long)ts);
    buf[k] = 'x';
    buf[PAYLOAD - 2] = '"';
    buf[PAYLOAD - 1] = '}';
}

/* Send XACK for n ids of reply r (array of [id, fields]) as appended command. */
static int append_xack(redisContext *c, redisReply *entries) {
    size_t n = entries->elements;
    const char **argv = malloc(sizeof(char *) * (n + 3));
    size_t *lens = malloc(sizeof(size_t) * (n + 3));
    argv[0] = "XACK"; argv[1] = "xb"; argv[2] = "g";
    for (int i = 0; i < 3; i++) lens[i] = strlen(argv[i]);
    for (size_t i = 0; i < n; i++) {
        redisReply *id = entries->element[i]->element[0];
        argv[3 + i] = id->str;
        lens[3 + i] = id->len;
    }
    redisAppendCommandArgv(c, (int)(n + 3), argv, lens);
    free(argv); free(lens);
    return (int)n;
}
static redisReply *entries_of(redisReply *r) { /* XREADGROUP reply -> entries array or NULL */
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0) return NULL;
    return r->element[0]->element[1];
}

static void setup_group(redisContext *c) {
    redisReply *r = redisCommand(c, "XGROUP CREATE xb g 0 MKSTREAM");
    if (r) freeReplyObject(r); /* BUSYGROUP is fine */
}

static int do_consume(long n, int batch, int pipe) {
    redisContext *c = conn();
    char buf[PAYLOAD];
    freeReplyObject(cmd_ok(c, redisCommand(c, "DEL xb"), "DEL"));
    /* fill, pipelined in chunks of 1000 */
    for (long i = 0; i < n;) {
        long k = 0;
        for (; k < 1000 && i < n; k++, i++) {
            make_payload(buf, i);
            redisAppendCommand(c, "XADD xb * d %b", buf, (size_t)PAYLOAD);
        }
        while (k--) { redisReply *r; if (redisGetReply(c, (void **)&r) != REDIS_OK) { fprintf(stderr, "fill\n"); return 1; } freeReplyObject(r); }
    }
    setup_group(c);
    char cnt[32]; snprintf(cnt, sizeof cnt, "%d", batch);
    const char *rg[] = {"XREADGROUP", "GROUP", "g", "c1", "COUNT", cnt, "STREAMS", "xb", ">"};
    long got = 0;
    uint64_t t0 = now_ns(), deadline = t0 + 60ull * 1000000000ull;
    redisReply *r;
    redisAppendCommandArgv(c, 9, rg, NULL);
    while (got < n && now_ns() < deadline) {
        if (redisGetReply(c, (void **)&r) != REDIS_OK) { fprintf(stderr, "read: %s\n", c->errstr); return 1; }
        redisReply *e = entries_of(r);
        if (!e) { freeReplyObject(r); break; }
        got += append_xack(c, e);
        freeReplyObject(r);
        if (pipe) {
            if (got < n) redisAppendCommandArgv(c, 9, rg, NULL);
            redisReply *a; /* XACK reply */
            if (redisGetReply(c, (void **)&a) != REDIS_OK) return 1;
            freeReplyObject(a);
        } else {
            redisReply *a;
            if (redisGetReply(c, (void **)&a) != REDIS_OK) return 1;
            freeReplyObject(a);
            if (got < n) redisAppendCommandArgv(c, 9, rg, NULL);
        }
    }
    double el = (now_ns() - t0) / 1e9;
    r = redisCommand(c, "XPENDING xb g");
    long pending = (r && r->type == REDIS_REPLY_ARRAY) ? r->element[0]->integer : -1;
    if (r) freeReplyObject(r);
    printf("consume n=%ld batch=%d pipe=%d got=%ld pending_after=%ld secs=%.3f msgs_s=%.0f\n", n,
           batch, pipe, got, pending, el, got / el);
    redisFree(c);
    return got == n ? 0 : 1;
}

static long e2e_n, e2e_rate;
static uint64_t *lat_pub, *lat_e2e, *lat_lag;
static uint64_t t_start;

/* Open-loop publisher on one connection: this thread writes each XADD at its
 * slot without waiting for the previous reply (unbounded in flight, like an
 * async client); pub_reader() reads the in-order replies on the same socket. */
static uint64_t *sent_at;
static volatile long pub_written;
static redisContext *pc;

static void *pub_reader(void *arg) {
    (void)arg;
    redisReader *rd = redisReaderCreate();
    char buf[65536];
    long done = 0;
    while (done < e2e_n) {
        ssize_t k = read(pc->fd, buf, sizeof buf);
        if (k <= 0) { perror("pub read"); exit(1); }
        redisReaderFeed(rd, buf, (size_t)k);
        void *r;
        while (done < e2e_n && redisReaderGetReply(rd, &r) == REDIS_OK && r) {
            if (((redisReply *)r)->type == REDIS_REPLY_ERROR) { fprintf(stderr, "XADD: %s\n", ((redisReply *)r)->str); exit(1); }
            lat_pub[done] = now_ns() - sent_at[done];
            done++;
            freeReplyObject(r);
        }
    }
    redisReaderFree(rd);
    return NULL;
}

static void *producer(void *arg) {
    (void)arg;
    pc = conn();
    struct timeval tv = {0, 0};
    redisSetTimeout(pc, tv); /* blocking socket, no timeout: reader thread waits */
    char buf[PAYLOAD];
    pthread_t rth;
    pthread_create(&rth, NULL, pub_reader, NULL);
    for (long i = 0; i < e2e_n; i++) {
        uint64_t target = t_start + (uint64_t)((double)i * 1e9 / e2e_rate);
        struct timespec ts = {(time_t)(target / 1000000000ull), (long)(target % 1000000000ull)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) {}
        uint64_t sent = now_ns();
        lat_lag[i] = sent - target;
        sent_at[i] = sent;
        make_payload(buf, sent);
        char *cmd;
        int len = redisFormatCommand(&cmd, "XADD xb * d %b", buf, (size_t)PAYLOAD);
        for (int off = 0; off < len;) {
            ssize_t w = write(pc->fd, cmd + off, (size_t)(len - off));
            if (w <= 0) { perror("pub write"); exit(1); }
            off += (int)w;
        }
        free(cmd);
        pub_written = i + 1;
        if (now_ns() - t_start > 120ull * 1000000000ull) { fprintf(stderr, "e2e: 120 s guard hit\n"); exit(1); }
    }
    pthread_join(rth, NULL);
    redisFree(pc);
    return NULL;
}

static int do_e2e(long n, long rate) {
    e2e_n = n; e2e_rate = rate;
    lat_pub = calloc(n, sizeof(uint64_t));
    lat_e2e = calloc(n, sizeof(uint64_t));
    lat_lag = calloc(n, sizeof(uint64_t));
    sent_at = calloc(n, sizeof(uint64_t));
    redisContext *c = conn();
    freeReplyObject(cmd_ok(c, redisCommand(c, "DEL xb"), "DEL"));
    setup_group(c);
    t_start = now_ns() + 200000000ull; /* start in 200 ms */
    pthread_t th;
    pthread_create(&th, NULL, producer, NULL);
    const char *rg[] = {"XREADGROUP", "GROUP", "g", "c1", "COUNT", "100", "BLOCK", "1000", "STREAMS", "xb", ">"};
    long got = 0, idle = 0;
    while (got < n && idle < 5) {
        redisReply *r = redisCommandArgv(c, 11, rg, NULL);
        uint64_t t = now_ns();
        if (!r) { fprintf(stderr, "xreadgroup: %s\n", c->errstr); return 1; }
        redisReply *e = entries_of(r);
        if (!e) { freeReplyObject(r); idle++; continue; }
        idle = 0;
        for (size_t i = 0; i < e->elements && got < n; i++) {
            redisReply *fv = e->element[i]->element[1];
            const char *v = fv->element[1]->str; /* {"t":NNN, */
            uint64_t sent = strtoull(v + 5, NULL, 10);
            lat_e2e[got++] = t - sent;
        }
        append_xack(c, e);
        freeReplyObject(r);
        redisReply *a;
        if (redisGetReply(c, (void **)&a) != REDIS_OK) return 1;
        freeReplyObject(a);
    }
    pthread_join(th, NULL);
    printf("e2e n=%ld rate=%ld got=%ld ", n, rate, got);
    pct("pub", lat_pub, n);
    pct("e2e", lat_e2e, got);
    pct("schedlag", lat_lag, n);
    printf("\n");
    redisFree(c);
    return got == n ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s consume PORT N BATCH PIPE | e2e PORT N RATE\n", argv[0]);
        return 2;
    }
    port = atoi(argv[2]);
    if (!strcmp(argv[1], "consume") && argc >= 6)
        return do_consume(atol(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (!strcmp(argv[1], "e2e")) return do_e2e(atol(argv[3]), atol(argv[4]));
    fprintf(stderr, "bad mode\n");
    return 2;
}
