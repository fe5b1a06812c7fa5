/*
 * Hostile blobs cost in proportion to their size (docs/limits.md, issue 12):
 * every blob here is crafted in code, loaded or applied under a counting
 * allocator, and the peak of live bytes is checked against the documented
 * bound; the hard limits give a clean HOLLOW_ERANGE / HOLLOW_ECORRUPT whose
 * message names the limit.
 *
 * With HOLLOW_WRITE_SEEDS=<dir>, the seeds test writes small versions of
 * these blobs as fuzz seeds into <dir>/snapshot and <dir>/delta (the files
 * under fuzz/corpus/ were made so).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob/limits.h"
#include "common/buf.h"
#include "common/reader.h"
#include "hollow/dump.h"
#include "hollow/read.h"
#include "hollow/schema.h"
#include "schema/schema_int.h"
#include "testhelp.h"

/* ------------------------------------------------- counting allocator */

typedef struct alloc_hdr {
    size_t size;
    size_t pad; /* keeps the payload 16-byte aligned */
} alloc_hdr;

/* more than this live fails the allocation: the unbounded code of before
 * gives HOLLOW_ENOMEM fast instead of taking the machine's memory */
#define CAP ((size_t)256 << 20)

static size_t g_live, g_peak;
/* deltas are applied on several threads: the counts take a lock */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

/* count n more bytes live unless that passes CAP */
static bool charge(size_t old, size_t n)
{
    pthread_mutex_lock(&g_mu);
    bool ok = n <= CAP && g_live - old + n <= CAP;
    if (ok) {
        g_live = g_live - old + n;
        if (g_live > g_peak)
            g_peak = g_live;
    }
    pthread_mutex_unlock(&g_mu);
    return ok;
}

static void *cnt_malloc(void *opaque, size_t n)
{
    (void)opaque;
    if (!charge(0, n))
        return NULL;
    alloc_hdr *h = malloc(sizeof *h + n);
    if (h == NULL) {
        charge(n, 0);
        return NULL;
    }
    h->size = n;
    return h + 1;
}

static void *cnt_realloc(void *opaque, void *p, size_t n)
{
    if (p == NULL)
        return cnt_malloc(opaque, n);
    alloc_hdr *h = (alloc_hdr *)p - 1;
    size_t old = h->size;
    if (!charge(old, n))
        return NULL;
    alloc_hdr *nh = realloc(h, sizeof *nh + n);
    if (nh == NULL) {
        charge(n, old);
        return NULL;
    }
    nh->size = n;
    return nh + 1;
}

static void cnt_free(void *opaque, void *p)
{
    (void)opaque;
    if (p == NULL)
        return;
    alloc_hdr *h = (alloc_hdr *)p - 1;
    charge(h->size, 0);
    free(h);
}

static void counting_allocator(void)
{
    static const hollow_allocator a = {cnt_malloc, cnt_realloc, cnt_free, NULL};
    hollow_set_allocator(&a);
    g_live = g_peak = 0;
}

/* peak bytes above what was live at `base`, since the last reset */
static size_t g_base;
static void peak_reset(void)
{
    g_base = g_live;
    g_peak = g_live;
}
static size_t peak_above(void) { return g_peak - g_base; }

/* --------------------------------------------------------- encoding */

static void put_var(hollow__buf *b, int64_t v) /* the 32-bit pattern */
{
    hollow__buf_vint(b, (uint32_t)v);
}

/* OBJECT schema (§4.1) with `nf` INT fields f0.. */
static void schema_ints(hollow__buf *b, const char *name, size_t nf)
{
    hollow__buf_putc(b, 0);
    hollow__buf_mutf(b, name);
    hollow__buf_be16(b, (uint16_t)nf);
    for (size_t f = 0; f < nf; f++) {
        char fname[16];
        snprintf(fname, sizeof fname, "f%zu", f);
        hollow__buf_mutf(b, fname);
        hollow__buf_mutf(b, "INT");
    }
}

/*
 * Header (§3.1): schemas (NULL: a pre-2.2 header without them), `ntags`
 * header tags, then the type count.
 */
static void put_header(hollow__buf *b, uint64_t origin, uint64_t dest,
                       const hollow__buf *schemas, uint32_t nschemas,
                       uint32_t ntags, uint32_t ntypes)
{
    hollow__buf_be32(b, 1030);
    hollow__buf_be64(b, origin);
    hollow__buf_be64(b, dest);
    if (schemas == NULL) {
        put_var(b, 0);
    } else {
        hollow__buf env = HOLLOW__BUF_INIT;
        put_var(&env, nschemas);
        hollow__buf_put(&env, schemas->ptr, schemas->len);
        hollow__buf_putc(&env, 0);
        put_var(b, (int64_t)env.len);
        hollow__buf_put(b, env.ptr, env.len);
        hollow__buf_free(&env);
    }
    hollow__buf_be16(b, (uint16_t)ntags);
    for (uint32_t i = 0; i < ntags; i++) {
        char k[24];
        snprintf(k, sizeof k, "tag%u", i);
        hollow__buf_mutf(b, k);
        hollow__buf_mutf(b, "v");
    }
    put_var(b, ntypes);
}

/* shard envelope (§3.4): n shards */
static void put_envelope(hollow__buf *b, uint32_t n)
{
    uint8_t t[10];
    size_t k = hollow__vint_encode(t, n);
    put_var(b, (int64_t)(1 + k));
    hollow__buf_putc(b, 0);
    hollow__buf_put(b, t, k);
}

/* an OBJECT shard body (§6.5) for `slots` slots, every field `width` bits */
static void put_body(hollow__buf *b, size_t nf, int64_t slots, unsigned width)
{
    for (size_t f = 0; f < nf; f++)
        put_var(b, width);
    uint64_t words = ((uint64_t)slots * nf * width + 63) / 64;
    put_var(b, (int64_t)words);
    for (uint64_t w = 0; w < words; w++)
        hollow__buf_be64(b, 0);
    for (size_t f = 0; f < nf; f++)
        hollow__buf_vlong(b, 0);
}

/* a snapshot shard: its max shard ordinal, then the body */
static void put_shard(hollow__buf *b, size_t nf, int64_t slots, unsigned width)
{
    put_var(b, slots - 1);
    put_body(b, nf, slots, width);
}

/* populated bit set (§1.7) of ordinals 0..n-1 */
static void put_populated(hollow__buf *b, uint32_t n)
{
    uint32_t words = (n + 63) / 64;
    hollow__buf_be32(b, words);
    for (uint32_t w = 0; w < words; w++) {
        uint32_t bits = n - w * 64 >= 64 ? 64 : n - w * 64;
        hollow__buf_be64(b, bits == 64 ? ~0ull : ((1ull << bits) - 1));
    }
}

/* a snapshot of one type T with `nf` INT fields and `n` records */
static void snapshot_one(hollow__buf *b, uint64_t tag, size_t nf, uint32_t n,
                         unsigned width)
{
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_ints(&sch, "T", nf);
    put_header(b, 0, tag, &sch, 1, 0, 1);
    hollow__buf_put(b, sch.ptr, sch.len);
    put_var(b, 0); /* one shard, pre-2.1 envelope */
    put_shard(b, nf, n, width);
    put_populated(b, n);
    hollow__buf_free(&sch);
}

/*
 * A delta (§9) from `origin` whose section for `schema` (nf INT fields) has
 * `nshards` shards and global max ordinal `max`, and adds one record, at
 * shard ordinal `added` of shard 0 (fields `width` bits wide); the other
 * shards keep no slots.
 */
static void delta_add_one(hollow__buf *b, uint64_t origin,
                          const hollow__buf *schema, size_t nf, uint32_t nshards,
                          int64_t max, uint32_t added, unsigned width)
{
    put_header(b, origin, origin + 1, schema, 1, 0, 1);
    hollow__buf_put(b, schema->ptr, schema->len);
    if (nshards == 1) {
        put_var(b, 0);
    } else {
        put_envelope(b, nshards);
        put_var(b, max);
    }
    for (uint32_t s = 0; s < nshards; s++) {
        if (s > 0) {
            put_var(b, -1);
            hollow__buf_vlong(b, 0);
            hollow__buf_vlong(b, 0);
            put_body(b, nf, 0, width);
            continue;
        }
        put_var(b, nshards == 1 ? max : (int64_t)added);
        hollow__buf_vlong(b, 0); /* removed: none */
        uint8_t g[10];
        size_t k = hollow__vint_encode(g, added);
        hollow__buf_vlong(b, k);
        hollow__buf_put(b, g, k);
        put_body(b, nf, 1, width);
    }
}

static hollow_read_state *load(const hollow__buf *b)
{
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, b->ptr, b->len, NULL));
    return rs;
}

/* the documented allowance of a delta (docs/limits.md) */
static size_t delta_bound(const hollow_read_state *rs, size_t delta_len)
{
    return HOLLOW__DELTA_GROWTH * (hollow_read_state_memory(rs) + delta_len) +
           HOLLOW__DELTA_SLACK;
}

static void expect_error(int rc, int code, const char *needle)
{
    ck_assert_msg(rc == code, "returned %d, expected %d: %s", rc, code,
                  rc < 0 ? hollow_error_last()->message : "ok");
    ck_assert_msg(strstr(hollow_error_last()->message, needle) != NULL,
                  "message '%s' does not name '%s'",
                  hollow_error_last()->message, needle);
}

/* ------------------------------------------------------------ deltas */

/*
 * Issue 12: an 80-byte delta that sets the max ordinal to 2^31-2 and adds
 * one record made the reader allocate 1.5 GB and walk 2^31 slots.
 */
START_TEST(hostile_delta_raises_max_ordinal)
{
    counting_allocator();
    hollow__buf sb = HOLLOW__BUF_INIT, sch = HOLLOW__BUF_INIT,
                db = HOLLOW__BUF_INIT;
    snapshot_one(&sb, 0x2222, 1, 2, 2);
    hollow_read_state *rs = load(&sb);
    schema_ints(&sch, "T", 1);
    delta_add_one(&db, 0x2222, &sch, 1, 1, INT32_MAX - 1, INT32_MAX - 1, 1);
    ck_assert_uint_lt(db.len, 100);
    size_t bound = delta_bound(rs, db.len);
    peak_reset();
    hollow_read_state *next = NULL;
    int rc = hollow_read_state_apply_delta(&next, rs, db.ptr, db.len);
    fprintf(stderr, "hostile_delta_raises_max_ordinal: %zu-byte delta, rc %d, "
            "peak %zu bytes (bound %zu)\n", db.len, rc, peak_above(), bound);
    expect_error(rc, HOLLOW_ERANGE, "limit");
    ck_assert_ptr_null(next);
    ck_assert_uint_le(peak_above(), bound);

    /* the same through a sharded envelope: M in the envelope */
    hollow__buf_free(&db);
    delta_add_one(&db, 0x2222, &sch, 1, 4, INT32_MAX - 1, (INT32_MAX - 1) / 4,
                  1);
    peak_reset();
    rc = hollow_read_state_apply_delta(&next, rs, db.ptr, db.len);
    fprintf(stderr, "hostile_delta_raises_max_ordinal (4 shards): rc %d, peak "
            "%zu bytes\n", rc, peak_above());
    expect_error(rc, HOLLOW_ERANGE, "limit");
    ck_assert_uint_le(peak_above(), delta_bound(rs, db.len));

    /* 32-bit fields: more per slot, the same bound */
    hollow__buf_free(&db);
    delta_add_one(&db, 0x2222, &sch, 1, 1, INT32_MAX - 1, INT32_MAX - 1, 32);
    peak_reset();
    rc = hollow_read_state_apply_delta(&next, rs, db.ptr, db.len);
    expect_error(rc, HOLLOW_ERANGE, "limit");
    ck_assert_uint_le(peak_above(), delta_bound(rs, db.len));

    hollow_read_state_release(rs);
    hollow__buf_free(&sb);
    hollow__buf_free(&sch);
    hollow__buf_free(&db);
    ck_assert_uint_eq(g_live, 0);
}
END_TEST

/*
 * Found by fuzz_delta: records of 0-bit fields cost no memory per slot but
 * still a visit of every field of every slot: a 4.6 kB delta raising the
 * max ordinal of a 200-field type to 2^24 took 5 s of CPU in 4 MB, and
 * more fields or slots take longer (6.7 G field visits here).
 */
START_TEST(hostile_delta_wide_type_of_empty_fields)
{
    counting_allocator();
    enum { NF = 200 };
    hollow__buf sb = HOLLOW__BUF_INIT, sch = HOLLOW__BUF_INIT,
                db = HOLLOW__BUF_INIT;
    snapshot_one(&sb, 0x2222, NF, 2, 0);
    hollow_read_state *rs = load(&sb);
    schema_ints(&sch, "T", NF);
    delta_add_one(&db, 0x2222, &sch, NF, 1, 1 << 24, 1 << 24, 0);
    peak_reset();
    hollow_read_state *next = NULL;
    int rc = hollow_read_state_apply_delta(&next, rs, db.ptr, db.len);
    fprintf(stderr, "hostile_delta_wide_type_of_empty_fields: %zu-byte delta, "
            "rc %d, peak %zu bytes\n", db.len, rc, peak_above());
    expect_error(rc, HOLLOW_ERANGE, "slot fields");
    ck_assert_ptr_null(next);
    ck_assert_uint_le(peak_above(), delta_bound(rs, db.len));
    hollow_read_state_release(rs);
    hollow__buf_free(&sb);
    hollow__buf_free(&sch);
    hollow__buf_free(&db);
    ck_assert_uint_eq(g_live, 0);
}
END_TEST

/*
 * What the bound must let through: a delta that widens every field of a
 * type from 1 to 64 bits re-encodes all its records (64x the fixed data),
 * and a delta that appends records past the max ordinal.
 */
START_TEST(hostile_delta_legitimate_growth)
{
    counting_allocator();
    enum { N = 200000, NF = 4 };
    hollow__buf sb = HOLLOW__BUF_INIT, sch = HOLLOW__BUF_INIT,
                db = HOLLOW__BUF_INIT;
    snapshot_one(&sb, 0x2222, NF, N, 1);
    hollow_read_state *rs = load(&sb);
    schema_ints(&sch, "T", NF);
    delta_add_one(&db, 0x2222, &sch, NF, 1, N, N, 64);
    peak_reset();
    hollow_read_state *next = NULL;
    HT_OK(hollow_read_state_apply_delta(&next, rs, db.ptr, db.len));
    fprintf(stderr, "hostile_delta_legitimate_growth: origin %zu bytes, new "
            "state %zu bytes, peak %zu (bound %zu)\n",
            hollow_read_state_memory(rs), hollow_read_state_memory(next),
            peak_above(), delta_bound(rs, db.len));
    const hollow_type *t = hollow_read_state_type(next, "T");
    ck_assert_int_eq(hollow_type_max_ordinal(t), N);
    ck_assert_uint_eq(hollow_type_record_count(t), N + 1);
    ck_assert_uint_le(peak_above(), delta_bound(rs, db.len));
    hollow_read_state_release(next);
    hollow_read_state_release(rs);
    hollow__buf_free(&sb);
    hollow__buf_free(&sch);
    hollow__buf_free(&db);
    ck_assert_uint_eq(g_live, 0);
}
END_TEST

/* --------------------------------------------------------- snapshots */

/* the documented bound of a snapshot load (docs/limits.md) */
static size_t snapshot_bound(size_t len)
{
    return HOLLOW__SNAPSHOT_GROWTH * len + HOLLOW__SNAPSHOT_SLACK;
}

/* one OBJECT type E with no fields and `n` shards, none with slots */
static void snapshot_empty_shards(hollow__buf *b, uint32_t n)
{
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_ints(&sch, "E", 0);
    put_header(b, 0, 1, &sch, 1, 0, 1);
    hollow__buf_put(b, sch.ptr, sch.len);
    put_envelope(b, n);
    put_var(b, -1); /* M */
    for (uint32_t s = 0; s < n; s++)
        put_shard(b, 0, 0, 0);
    put_populated(b, 0);
    hollow__buf_free(&sch);
}

/* Issue 12: a 4 MB snapshot of 2^21 empty shards took 744 MB. */
START_TEST(hostile_snapshot_many_empty_shards)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT;
    snapshot_empty_shards(&b, HOLLOW__LIMIT_SHARDS);
    peak_reset();
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, b.ptr, b.len, NULL));
    fprintf(stderr, "hostile_snapshot_many_empty_shards: %u shards, blob %zu "
            "bytes, peak %zu (%.1fx)\n", HOLLOW__LIMIT_SHARDS, b.len,
            peak_above(), (double)peak_above() / (double)b.len);
    ck_assert_uint_eq(hollow_type_shard_count(hollow_read_state_type(rs, "E")),
                      HOLLOW__LIMIT_SHARDS);
    ck_assert_uint_le(peak_above(), snapshot_bound(b.len));
    hollow_read_state_release(rs);
    hollow__buf_free(&b);

    /* one more power of two is over the hard limit */
    snapshot_empty_shards(&b, HOLLOW__LIMIT_SHARDS * 2);
    rs = (hollow_read_state *)&rs;
    int rc = hollow_read_state_from_snapshot(&rs, b.ptr, b.len, NULL);
    expect_error(rc, HOLLOW_ERANGE, "limit of 1048576 shards per type");
    ck_assert_ptr_null(rs);
    hollow__buf_free(&b);
    ck_assert_uint_eq(g_live, 0);
}
END_TEST

/*
 * Issue 12: a 4 MB snapshot of 2^21 two-byte shards (one slot each, a type
 * without fields) took 744 MB: each shard costs a struct and arrays.
 */
START_TEST(hostile_snapshot_many_slot_shards)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT, sch = HOLLOW__BUF_INIT;
    uint32_t n = HOLLOW__LIMIT_SHARDS;
    schema_ints(&sch, "E", 0);
    put_header(&b, 0, 1, &sch, 1, 0, 1);
    hollow__buf_put(&b, sch.ptr, sch.len);
    put_envelope(&b, n);
    put_var(&b, (int64_t)n - 1); /* M: one slot per shard */
    for (uint32_t s = 0; s < n; s++)
        put_shard(&b, 0, 1, 0);
    put_populated(&b, 0);
    peak_reset();
    hollow_read_state *rs = (hollow_read_state *)&rs;
    int rc = hollow_read_state_from_snapshot(&rs, b.ptr, b.len, NULL);
    fprintf(stderr, "hostile_snapshot_many_slot_shards: %u shards, blob %zu "
            "bytes, rc %d, peak %zu (%.1fx)\n", n, b.len, rc, peak_above(),
            (double)peak_above() / (double)b.len);
    ck_assert_uint_le(peak_above(), snapshot_bound(b.len));
    expect_error(rc, HOLLOW_ERANGE, "over the limit of shards with slots");
    ck_assert_ptr_null(rs);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
    ck_assert_uint_eq(g_live, 0);
}
END_TEST

/* Issue 12: a type count of 4 M in a header without schemas took 198 MB
 * before failing. */
START_TEST(hostile_snapshot_type_count)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT;
    put_header(&b, 0, 1, NULL, 0, 0, 4u << 20);
    for (uint32_t i = 0; i < (4u << 20); i++)
        hollow__buf_putc(&b, 0);
    peak_reset();
    hollow_read_state *rs = (hollow_read_state *)&rs;
    int rc = hollow_read_state_from_snapshot(&rs, b.ptr, b.len, NULL);
    fprintf(stderr, "hostile_snapshot_type_count: blob %zu bytes, rc %d, peak "
            "%zu\n", b.len, rc, peak_above());
    ck_assert_uint_le(peak_above(), 1 << 20);
    expect_error(rc, HOLLOW_ECORRUPT, "type count");
    ck_assert_ptr_null(rs);
    hollow__buf_free(&b);

    /* a schema count over the hard limit of types, with the bytes for it */
    hollow__buf sch = HOLLOW__BUF_INIT;
    hollow__buf_be32(&b, 1030);
    hollow__buf_be64(&b, 0);
    hollow__buf_be64(&b, 1);
    put_var(&b, 1);
    put_var(&b, HOLLOW__LIMIT_TYPES + 1);
    for (uint32_t i = 0; i < 3 * (HOLLOW__LIMIT_TYPES + 1); i++)
        hollow__buf_putc(&b, 0);
    rc = hollow_read_state_from_snapshot(&rs, b.ptr, b.len, NULL);
    expect_error(rc, HOLLOW_ERANGE, "types per blob");
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
    ck_assert_uint_eq(g_live, 0);
}
END_TEST

/* a short distinct name for type i: the smallest schemas */
static void short_name(char *out, uint32_t i)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t k = 0;
    do {
        out[k++] = al[i % 52];
        i /= 52;
    } while (i > 0);
    out[k] = '\0';
}

/* many types: in sections without a header schema list, and listed in the
 * header without sections (each then shares one empty shard), with no
 * fields and short names */
static void snapshot_many_types(hollow__buf *b, uint32_t n, bool listed)
{
    hollow__buf sch = HOLLOW__BUF_INIT;
    for (uint32_t i = 0; i < n && listed; i++) {
        char name[16];
        short_name(name, i);
        schema_ints(&sch, name, 0);
    }
    put_header(b, 0, 1, listed ? &sch : NULL, n, 0, listed ? 0 : n);
    for (uint32_t i = 0; i < n && !listed; i++) {
        char name[16];
        short_name(name, i);
        schema_ints(b, name, 0);
        put_var(b, 0);
        put_shard(b, 0, 1, 0);
        put_populated(b, 1);
    }
    hollow__buf_free(&sch);
}

START_TEST(hostile_snapshot_many_types)
{
    counting_allocator();
    for (int listed = 0; listed < 2; listed++) {
        hollow__buf b = HOLLOW__BUF_INIT;
        snapshot_many_types(&b, 50000, listed);
        peak_reset();
        hollow_read_state *rs = NULL;
        HT_OK(hollow_read_state_from_snapshot(&rs, b.ptr, b.len, NULL));
        fprintf(stderr, "hostile_snapshot_many_types (%s): blob %zu bytes, "
                "peak %zu (%.1fx)\n", listed ? "header" : "sections", b.len,
                peak_above(), (double)peak_above() / (double)b.len);
        ck_assert_uint_eq(hollow_read_state_type_count(rs), 50000);
        char last[16];
        short_name(last, 49999);
        ck_assert_ptr_nonnull(hollow_read_state_type(rs, last));
        ck_assert_uint_le(peak_above(), snapshot_bound(b.len));
        hollow_read_state_release(rs);
        hollow__buf_free(&b);
    }
    ck_assert_uint_eq(g_live, 0);
}
END_TEST

/*
 * The type filter keeps the named types and what they reference, found
 * through a name index (it compared every pair of schemas before); a
 * chain of 20 000 types, filtered from its head, keeps all of them.
 */
START_TEST(hostile_snapshot_type_filter)
{
    enum { N = 20000 };
    hollow__buf sch = HOLLOW__BUF_INIT, b = HOLLOW__BUF_INIT;
    hollow__buf_putc(&sch, 2); /* LIST of T0 */
    hollow__buf_mutf(&sch, "L");
    hollow__buf_mutf(&sch, "T0");
    hollow__buf_putc(&sch, 0);
    hollow__buf_mutf(&sch, "Unused");
    hollow__buf_be16(&sch, 0);
    for (uint32_t i = 0; i < N; i++) { /* T_i references T_{i+1} */
        char name[16], next[16];
        snprintf(name, sizeof name, "T%u", i);
        snprintf(next, sizeof next, "T%u", i + 1);
        hollow__buf_putc(&sch, 0);
        hollow__buf_mutf(&sch, name);
        hollow__buf_be16(&sch, i + 1 < N ? 1 : 0);
        if (i + 1 < N) {
            hollow__buf_mutf(&sch, "next");
            hollow__buf_mutf(&sch, "REFERENCE");
            hollow__buf_mutf(&sch, next);
        }
    }
    put_header(&b, 0, 1, &sch, N + 2, 0, 0);
    static const char *const filter[] = {"L", NULL};
    hollow_read_options opts = HOLLOW_READ_OPTIONS_INIT;
    opts.type_filter = filter;
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, b.ptr, b.len, &opts));
    ck_assert_uint_eq(hollow_read_state_type_count(rs), N + 1);
    ck_assert_ptr_nonnull(hollow_read_state_type(rs, "T19999"));
    ck_assert_ptr_null(hollow_read_state_type(rs, "Unused"));
    hollow_read_state_release(rs);

    static const char *const none[] = {"Absent", NULL};
    opts.type_filter = none;
    HT_OK(hollow_read_state_from_snapshot(&rs, b.ptr, b.len, &opts));
    ck_assert_uint_eq(hollow_read_state_type_count(rs), 0);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
}
END_TEST

/*
 * Hash keys of SET types are resolved against the state's types by binary
 * search (each hop was a scan of every type: 20 000 keyed SET types before
 * their element type took 1.75 s, 200 000 minutes).
 */
START_TEST(hostile_snapshot_many_keyed_sets)
{
    enum { N = 20000 };
    hollow__buf sch = HOLLOW__BUF_INIT, b = HOLLOW__BUF_INIT;
    for (uint32_t i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "S%u", i);
        hollow__buf_putc(&sch, 4); /* SET with a hash key */
        hollow__buf_mutf(&sch, name);
        hollow__buf_mutf(&sch, "K");
        put_var(&sch, 1);
        hollow__buf_mutf(&sch, "f0");
    }
    schema_ints(&sch, "K", 1);
    put_header(&b, 0, 1, &sch, N + 1, 0, 0);
    hollow_read_state *rs = load(&b);
    ck_assert_uint_eq(hollow_read_state_type_count(rs), N + 1);
    /* the key resolved: a lookup by key value is answered (nothing there) */
    const hollow_type *t = hollow_read_state_type(rs, "S19999");
    ck_assert_ptr_nonnull(t);
    hollow_value key = {0};
    key.type = HOLLOW_FIELD_INT;
    key.u.i = 7;
    hollow_ordinal e;
    int rc = hollow_set_find(&e, t, 0, &key, 1);
    ck_assert_msg(rc == HOLLOW_ENOTFOUND, "set_find returned %d: %s", rc,
                  hollow_error_last()->message);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
}
END_TEST

/* the most header tags the format allows (a Java short) */
START_TEST(hostile_snapshot_many_tags)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT, sch = HOLLOW__BUF_INIT;
    schema_ints(&sch, "T", 1);
    put_header(&b, 0, 1, &sch, 1, HOLLOW__LIMIT_TAGS, 0);
    peak_reset();
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, b.ptr, b.len, NULL));
    fprintf(stderr, "hostile_snapshot_many_tags: blob %zu bytes, peak %zu\n",
            b.len, peak_above());
    ck_assert_uint_eq(hollow_read_state_header_tag_count(rs), HOLLOW__LIMIT_TAGS);
    ck_assert_uint_le(peak_above(), snapshot_bound(b.len));
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
    ck_assert_uint_eq(g_live, 0);
}
END_TEST

static int text_sink(void *payload, const char *p, size_t n)
{
    hollow__buf_put(payload, p, n);
    return 0;
}

/*
 * The canonical dump sorts header tags (was an insertion sort: 32767 tags
 * took over a second): keys in byte order, the last of equal keys wins.
 */
START_TEST(hostile_dump_many_tags)
{
    enum { KEYS = HOLLOW__LIMIT_TAGS / 2 };
    hollow__buf b = HOLLOW__BUF_INIT, d = HOLLOW__BUF_INIT;
    hollow__buf_be32(&b, 1030);
    hollow__buf_be64(&b, 0);
    hollow__buf_be64(&b, 1);
    put_var(&b, 0);
    hollow__buf_be16(&b, 2 * KEYS);
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = KEYS; i-- > 0;) { /* reverse order */
            char k[16];
            snprintf(k, sizeof k, "k%05u", i);
            hollow__buf_mutf(&b, k);
            hollow__buf_mutf(&b, pass ? "new" : "old");
        }
    put_var(&b, 0);
    hollow_read_state *rs = load(&b);
    HT_OK(hollow_dump_canonical(rs, text_sink, &d));
    hollow__buf_putc(&d, 0);
    const char *text = (const char *)d.ptr;
    ck_assert_ptr_null(strstr(text, "\"old\""));
    const char *p = strstr(text, "\"k00000\":\"new\",\"k00001\":\"new\"");
    ck_assert_ptr_nonnull(p);
    char last[32];
    snprintf(last, sizeof last, "\"k%05u\":\"new\"}", KEYS - 1);
    ck_assert_ptr_nonnull(strstr(p, last));
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    hollow__buf_free(&d);
}
END_TEST

/* ------------------------------------------------------- fuzz seeds */

static void write_seed(const char *dir, const char *sub, const char *name,
                       const uint8_t *prefix, size_t plen, const hollow__buf *b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/hostile-%s", dir, sub, name);
    uint8_t *p = malloc(plen + b->len);
    ck_assert_ptr_nonnull(p);
    memcpy(p, prefix, plen);
    memcpy(p + plen, b->ptr, b->len);
    ht_write_file(path, p, plen + b->len);
    free(p);
}

/*
 * Seeds for fuzz_snapshot and fuzz_delta that reach the counts above
 * (written only with HOLLOW_WRITE_SEEDS; otherwise this checks that the
 * delta seeds are built against the golden base fuzz_delta uses).
 */
START_TEST(hostile_fuzz_seeds)
{
    const char *dir = getenv("HOLLOW_WRITE_SEEDS");
    hollow__buf b = HOLLOW__BUF_INIT;
    snapshot_empty_shards(&b, 1024);
    if (dir)
        write_seed(dir, "snapshot", "empty-shards", NULL, 0, &b);
    hollow__buf_free(&b);
    snapshot_many_types(&b, 300, false);
    if (dir)
        write_seed(dir, "snapshot", "types-in-sections", NULL, 0, &b);
    hollow__buf_free(&b);
    snapshot_many_types(&b, 300, true);
    if (dir)
        write_seed(dir, "snapshot", "types-in-header", NULL, 0, &b);
    hollow__buf_free(&b);
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_ints(&sch, "T", 2);
    put_header(&b, 0, 1, &sch, 1, 200, 1);
    hollow__buf_put(&b, sch.ptr, sch.len);
    put_envelope(&b, 4);
    put_var(&b, 7);
    for (int s = 0; s < 4; s++)
        put_shard(&b, 2, 2, 3);
    put_populated(&b, 8);
    if (dir)
        write_seed(dir, "snapshot", "tags-and-shards", NULL, 0, &b);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);

    /* deltas on fuzz_delta's base 0 (a_primitives) and 3 (d_sharding) */
    static const struct {
        uint8_t base;
        const char *path;
    } bases[] = {{0, "a_primitives/snapshot-20250101000000001"},
                 {3, "d_sharding/snapshot-20250101000000001"}};
    for (size_t i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", HOLLOW_GOLDEN_DIR, bases[i].path);
        hollow_read_state *rs = NULL;
        HT_OK(hollow_read_state_open(&rs, path, NULL));
        const hollow_type *t = NULL;
        for (size_t k = 0; k < hollow_read_state_type_count(rs) && t == NULL; k++)
            if (hollow_type_kind(hollow_read_state_type_at(rs, k)) ==
                HOLLOW_SCHEMA_OBJECT)
                t = hollow_read_state_type_at(rs, k);
        ck_assert_ptr_nonnull(t);
        const hollow_schema *s = hollow_type_schema(t);
        hollow__buf one = HOLLOW__BUF_INIT;
        hollow__schema_write(&one, s);
        size_t nf = hollow_schema_field_count(s);
        uint64_t tag = (uint64_t)hollow_read_state_randomized_tag(rs);
        int32_t M = hollow_type_max_ordinal(t);
        uint32_t n = hollow_type_shard_count(t);
        /* the record after the last, then one at a far ordinal */
        for (int far = 0; far < 2; far++) {
            int64_t max = far ? (1 << 20) : M + (int64_t)n;
            uint32_t add = (uint32_t)(n == 1 ? max : max / n);
            delta_add_one(&b, tag, &one, nf, n, max, add, 1);
            hollow_read_state *next = NULL;
            int rc = hollow_read_state_apply_delta(&next, rs, b.ptr, b.len);
            /* the schema's fields may not all be INT: any clean result */
            ck_assert_msg(rc >= 0 || hollow_error_last()->message[0] != '\0',
                          "no message");
            hollow_read_state_release(next);
            if (dir) {
                char name[64];
                snprintf(name, sizeof name, "base%u-%s", bases[i].base,
                         far ? "far-ordinal" : "next-ordinal");
                write_seed(dir, "delta", name, &bases[i].base, 1, &b);
            }
            hollow__buf_free(&b);
        }
        hollow__buf_free(&one);
        hollow_read_state_release(rs);
    }
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("delta");
    tcase_add_test(tc, hostile_delta_raises_max_ordinal);
    tcase_add_test(tc, hostile_delta_wide_type_of_empty_fields);
    tcase_add_test(tc, hostile_delta_legitimate_growth);
    suite_add_tcase(s, tc);
    tc = tcase_create("snapshot");
    tcase_add_test(tc, hostile_snapshot_many_empty_shards);
    tcase_add_test(tc, hostile_snapshot_many_slot_shards);
    tcase_add_test(tc, hostile_snapshot_type_count);
    tcase_add_test(tc, hostile_snapshot_many_types);
    tcase_add_test(tc, hostile_snapshot_many_tags);
    tcase_add_test(tc, hostile_snapshot_type_filter);
    tcase_add_test(tc, hostile_snapshot_many_keyed_sets);
    tcase_add_test(tc, hostile_dump_many_tags);
    suite_add_tcase(s, tc);
    tc = tcase_create("seeds");
    tcase_add_test(tc, hostile_fuzz_seeds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(hostile_suite()); }
