/*
 * hollow-bench types [--n N] [--tags T] [--repeat R] [--out FILE]
 *
 * Time of loading a snapshot of N types (one INT field, one record each)
 * and T header tags, encoded here as Java writes it (blob-format.md §3:
 * every schema in the header, then one section per type). Loading must be
 * linear in the number of types and tags (docs/limits.md); the figure for
 * N = 200000 is in the note of issue 12.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "hollow/read.h"

typedef struct out {
    uint8_t *p;
    size_t len, cap;
} out;

static void put(out *o, const void *p, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->len + n)
            cap *= 2;
        o->p = realloc(o->p, cap);
        if (o->p == NULL) {
            fprintf(stderr, "hollow-bench types: out of memory\n");
            exit(1);
        }
        o->cap = cap;
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void put_be(out *o, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(o, b, (size_t)bytes);
}

/* §1.2: 7-bit groups, most significant first */
static void put_var(out *o, uint32_t v)
{
    uint8_t b[5];
    int n = 0;
    for (int shift = 28; shift > 0; shift -= 7)
        if (n > 0 || (v >> shift) != 0)
            b[n++] = (uint8_t)(0x80 | ((v >> shift) & 0x7F));
    b[n++] = (uint8_t)(v & 0x7F);
    put(o, b, (size_t)n);
}

static void put_str(out *o, const char *s) /* ASCII modified UTF-8 */
{
    put_be(o, strlen(s), 2);
    put(o, s, strlen(s));
}

static void put_schema(out *o, uint32_t i)
{
    char name[32];
    snprintf(name, sizeof name, "Type%07u", i);
    put(o, "\0", 1); /* OBJECT */
    put_str(o, name);
    put_be(o, 1, 2);
    put_str(o, "value");
    put_str(o, "INT");
}

/* CPU seconds of this process: the machine may be shared, and wall time
 * then measures the neighbours too */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_blob(out *o, uint32_t n, uint32_t tags)
{
    out schemas = {NULL, 0, 0};
    put_var(&schemas, n);
    for (uint32_t i = 0; i < n; i++)
        put_schema(&schemas, i);
    put(&schemas, "\0", 1); /* forward-compatibility bytes */
    put_be(o, 1030, 4);
    put_be(o, (uint64_t)-1, 8);
    put_be(o, 0x1234567812345678ull, 8);
    put_var(o, (uint32_t)schemas.len);
    put(o, schemas.p, schemas.len);
    free(schemas.p);
    put_be(o, tags, 2);
    for (uint32_t i = 0; i < tags; i++) {
        char k[32];
        snprintf(k, sizeof k, "tag-%u", i);
        put_str(o, k);
        put_str(o, "value");
    }
    put_var(o, n);
    for (uint32_t i = 0; i < n; i++) {
        put_schema(o, i);
        put_var(o, 0);         /* one shard (pre-2.1 envelope) */
        put_var(o, 0);         /* max shard ordinal: one slot */
        put_var(o, 8);         /* field width */
        put_var(o, 1);         /* one word of fixed-length data */
        put_be(o, (uint64_t)(i & 0x7F) << 56, 8);
        put_var(o, 0);         /* var-length bytes */
        put_be(o, 1, 4);       /* populated: one word, ordinal 0 */
        put_be(o, 1, 8);
    }
}

static void types_usage(FILE *f)
{
    fprintf(f, "usage: hollow-bench types [--n N] [--tags T] [--repeat R] "
               "[--out FILE]\n");
}

int bench_types(int argc, char **argv)
{
    if (bench_help_asked(argc, argv)) {
        types_usage(stdout);
        return 0;
    }
    uint32_t n = 200000, tags = 0;
    int repeat = 3;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            n = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--tags") == 0 && i + 1 < argc)
            tags = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            path = argv[++i];
        else {
            types_usage(stderr);
            return 2;
        }
    }
    if (tags > 32767 || repeat < 1) {
        fprintf(stderr, "hollow-bench types: at most 32767 tags\n");
        return 2;
    }
    out blob = {NULL, 0, 0};
    make_blob(&blob, n, tags);
    if (path != NULL) { /* the blob, for hollow-cli */
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(blob.p, 1, blob.len, f) != blob.len ||
            fclose(f) != 0) {
            fprintf(stderr, "hollow-bench types: cannot write %s\n", path);
            return 1;
        }
    }
    double best = 1e30, best_cpu = 1e30;
    long base = bench_live_bytes(), state_bytes = 0;
    for (int r = 0; r < repeat; r++) {
        hollow_read_state *rs = NULL;
        double t0 = bench_now(), c0 = cpu_now();
        if (hollow_read_state_from_snapshot(&rs, blob.p, blob.len, NULL) < 0) {
            fprintf(stderr, "hollow-bench types: %s\n",
                    hollow_error_last()->message);
            return 1;
        }
        double t = bench_now() - t0, c = cpu_now() - c0;
        if (t < best)
            best = t;
        if (c < best_cpu)
            best_cpu = c;
        state_bytes = bench_live_bytes() - base;
        if (hollow_read_state_type_count(rs) != n) {
            fprintf(stderr, "hollow-bench types: %zu types loaded\n",
                    hollow_read_state_type_count(rs));
            return 1;
        }
        hollow_read_state_release(rs);
    }
    printf("{\"types\":%u,\"tags\":%u,\"blob_bytes\":%zu,\"load_s\":%.6f,"
           "\"load_cpu_s\":%.6f,\"state_bytes\":%ld}\n",
           n, tags, blob.len, best, best_cpu, state_bytes);
    free(blob.p);
    return 0;
}
