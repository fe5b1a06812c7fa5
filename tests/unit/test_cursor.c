/*
 * Cursors (read.h, hollow_cursor_*) against the checked accessors:
 *
 *   golden    every state of every golden chain (snapshots, deltas and
 *             reverse deltas: shards shared, ghosts, resharding)
 *   random    seeded random states (tests/helpers/randstate.h: every field
 *             type, nulls, empty types and shards, 1..64 shards) and chains
 *             of cycles through deltas
 *   corrupt   random byte flips of random snapshots: whatever loads, the
 *             cursor answers exactly as the checked accessors (same code,
 *             same value), and never reads out of bounds (ASan)
 *   offsets   every single-bit flip of a small snapshot of strings: bad
 *             var-length offsets (out of order, past the data) give
 *             HOLLOW_ECORRUPT from the cursor where the checked accessor
 *             gives it, in walks that read every record or skip some
 *   strings   UTF-16 unit counts of strings of every length 0..80 with
 *             multi-byte units, up to the end of the var-length buffer,
 *             against a count by decoding (hollow_object_string_utf16)
 *   misuse    wrong field kind at bind time, accessor of another kind,
 *             no current record, unknown column, too many columns, NULL
 *             arguments, another cursor layout
 *
 * For every type, the cursor must visit each populated ordinal exactly once
 * (shard by shard) and nothing else; for OBJECT types every field is bound
 * (16 per cursor) and every accessor compared record by record.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/read.h"
#include "hollow/write.h"
#include "randstate.h"
#include "testhelp.h"

#define RANDOM_STATES 24
#define CHAINS 6
#define CORRUPT_STATES 8

static uint64_t g_seed;

/* the checked accessor's answer for field f of record o, as the cursor's */
typedef struct answer {
    int rc;
    uint64_t bits; /* fixed-width value bits */
    const uint8_t *ptr;
    size_t len;
} answer;

static answer checked(const hollow_type *t, hollow_ordinal o, size_t f,
                      hollow_field_type ft, bool length)
{
    answer a = {0, 0, NULL, 0};
    switch (ft) {
    case HOLLOW_FIELD_INT: {
        int32_t v = 0;
        a.rc = hollow_object_int(&v, t, o, f);
        a.bits = (uint32_t)v;
        break;
    }
    case HOLLOW_FIELD_LONG: {
        int64_t v = 0;
        a.rc = hollow_object_long(&v, t, o, f);
        a.bits = (uint64_t)v;
        break;
    }
    case HOLLOW_FIELD_FLOAT: {
        float v = 0;
        a.rc = hollow_object_float(&v, t, o, f);
        uint32_t b;
        memcpy(&b, &v, 4);
        a.bits = a.rc == HOLLOW_NULL ? (isnan(v) ? 1 : 2) : b;
        break;
    }
    case HOLLOW_FIELD_DOUBLE: {
        double v = 0;
        a.rc = hollow_object_double(&v, t, o, f);
        memcpy(&a.bits, &v, 8);
        if (a.rc == HOLLOW_NULL)
            a.bits = isnan(v) ? 1 : 2;
        break;
    }
    case HOLLOW_FIELD_BOOLEAN: {
        bool v = true;
        a.rc = hollow_object_bool(&v, t, o, f);
        a.bits = v;
        break;
    }
    case HOLLOW_FIELD_REFERENCE: {
        hollow_ordinal v = 0;
        a.rc = hollow_object_ref(&v, t, o, f);
        a.bits = (uint32_t)v;
        break;
    }
    case HOLLOW_FIELD_STRING:
        if (length) {
            size_t u = 0;
            a.rc = hollow_object_string_length(&u, t, o, f);
            a.bits = u;
            break;
        }
        /* the stored bytes */
        __attribute__((fallthrough));
    case HOLLOW_FIELD_BYTES: {
        hollow_bytes v = {NULL, 0};
        a.rc = ft == HOLLOW_FIELD_BYTES ? hollow_object_bytes(&v, t, o, f)
                                        : hollow_object_string_raw(&v, t, o, f);
        a.ptr = v.ptr;
        a.len = v.len;
        break;
    }
    }
    if (a.rc < 0) /* only the code counts */
        a.bits = 0, a.ptr = NULL, a.len = 0;
    return a;
}

static answer by_cursor(hollow_cursor *c, unsigned col, hollow_field_type ft,
                        bool length)
{
    answer a = {0, 0, NULL, 0};
    switch (ft) {
    case HOLLOW_FIELD_INT: {
        int32_t v = 0;
        a.rc = hollow_cursor_int(&v, c, col);
        a.bits = (uint32_t)v;
        break;
    }
    case HOLLOW_FIELD_LONG: {
        int64_t v = 0;
        a.rc = hollow_cursor_long(&v, c, col);
        a.bits = (uint64_t)v;
        break;
    }
    case HOLLOW_FIELD_FLOAT: {
        float v = 0;
        a.rc = hollow_cursor_float(&v, c, col);
        uint32_t b;
        memcpy(&b, &v, 4);
        a.bits = a.rc == HOLLOW_NULL ? (isnan(v) ? 1 : 2) : b;
        break;
    }
    case HOLLOW_FIELD_DOUBLE: {
        double v = 0;
        a.rc = hollow_cursor_double(&v, c, col);
        memcpy(&a.bits, &v, 8);
        if (a.rc == HOLLOW_NULL)
            a.bits = isnan(v) ? 1 : 2;
        break;
    }
    case HOLLOW_FIELD_BOOLEAN: {
        bool v = true;
        a.rc = hollow_cursor_bool(&v, c, col);
        a.bits = v;
        break;
    }
    case HOLLOW_FIELD_REFERENCE: {
        hollow_ordinal v = 0;
        a.rc = hollow_cursor_ref(&v, c, col);
        a.bits = (uint32_t)v;
        break;
    }
    case HOLLOW_FIELD_STRING:
        if (length) {
            size_t u = 0;
            a.rc = hollow_cursor_string_length(&u, c, col);
            a.bits = u;
            break;
        }
        __attribute__((fallthrough));
    case HOLLOW_FIELD_BYTES: {
        hollow_bytes v = {NULL, 0};
        a.rc = ft == HOLLOW_FIELD_BYTES ? hollow_cursor_bytes(&v, c, col)
                                        : hollow_cursor_string_raw(&v, c, col);
        a.ptr = v.ptr;
        a.len = v.len;
        break;
    }
    }
    if (a.rc < 0)
        a.bits = 0, a.ptr = NULL, a.len = 0;
    return a;
}

/* UTF-16 units of a STRING field by decoding it (an independent count) */
static int units_by_decoding(size_t *units, const hollow_type *t,
                             hollow_ordinal o, size_t f)
{
    *units = 0;
    int rc = hollow_object_string_utf16(NULL, 0, units, t, o, f);
    return rc == HOLLOW_ERANGE ? 0 : rc;
}

/*
 * Walk `t` with a cursor: every populated ordinal once; for OBJECT types
 * every field through its accessor against the checked one. Returns the
 * number of records visited. `strict`: the state is valid (no accessor may
 * fail), else only agreement is required.
 */
static size_t check_type(const hollow_type *t, const char *ctx, bool strict)
{
    size_t count = hollow_type_record_count(t);
    hollow_ordinal max = hollow_type_max_ordinal(t);
    const hollow_schema *s = hollow_type_schema(t);
    size_t nf = hollow_type_kind(t) == HOLLOW_SCHEMA_OBJECT
                    ? hollow_schema_field_count(s)
                    : 0;
    size_t passes = nf == 0 ? 1
                            : (nf + HOLLOW_CURSOR_MAX_COLUMNS - 1) /
                                  HOLLOW_CURSOR_MAX_COLUMNS;
    size_t visited = 0;
    uint8_t *seen = calloc((size_t)(max + 1) + 1, 1);
    ck_assert_ptr_nonnull(seen);
    for (size_t pass = 0; pass < passes; pass++) {
        hollow_cursor c;
        HT_OK(hollow_cursor_init(&c, t));
        ck_assert_int_eq(c.ordinal, HOLLOW_ORDINAL_NONE);
        size_t f0 = pass * HOLLOW_CURSOR_MAX_COLUMNS, fn = nf - f0;
        if (fn > HOLLOW_CURSOR_MAX_COLUMNS)
            fn = HOLLOW_CURSOR_MAX_COLUMNS;
        unsigned cols[HOLLOW_CURSOR_MAX_COLUMNS];
        for (size_t k = 0; k < fn; k++) {
            HT_OK(hollow_cursor_column(&cols[k], &c, f0 + k,
                                       hollow_schema_field_type(s, f0 + k)));
            ck_assert_uint_eq(cols[k], k);
        }
        size_t n = 0;
        uint32_t last_shard = 0;
        hollow_ordinal last = -1;
        uint32_t mask = hollow_type_shard_count(t) - 1;
        while (hollow_cursor_next(&c)) {
            hollow_ordinal o = c.ordinal;
            ck_assert_msg(o >= 0 && o <= max && hollow_type_is_populated(t, o),
                          "%s: type %s: cursor gave ordinal %d, not populated",
                          ctx, hollow_type_name(t), (int)o);
            /* shard by shard, ascending within a shard */
            uint32_t sh = (uint32_t)o & mask;
            ck_assert_msg(sh > last_shard || (sh == last_shard && o > last),
                          "%s: type %s: ordinal %d after %d", ctx,
                          hollow_type_name(t), (int)o, (int)last);
            last_shard = sh;
            last = o;
            if (pass == 0) {
                ck_assert_msg(!seen[o], "%s: type %s: ordinal %d twice", ctx,
                              hollow_type_name(t), (int)o);
                seen[o] = 1;
            }
            for (size_t k = 0; k < fn; k++) {
                size_t f = f0 + k;
                hollow_field_type ft = hollow_schema_field_type(s, f);
                for (int length = 0; length < 2; length++) {
                    if (length && ft != HOLLOW_FIELD_STRING)
                        break;
                    answer want = checked(t, o, f, ft, length);
                    answer got = by_cursor(&c, cols[k], ft, length);
                    ck_assert_msg(
                        got.rc == want.rc && got.bits == want.bits &&
                            got.len == want.len && got.ptr == want.ptr,
                        "%s: type %s ordinal %d field %s (%s%s): cursor %d "
                        "%llx %p+%zu, checked %d %llx %p+%zu",
                        ctx, hollow_type_name(t), (int)o,
                        hollow_schema_field_name(s, f),
                        hollow_field_type_name(ft), length ? " length" : "",
                        got.rc, (unsigned long long)got.bits,
                        (const void *)got.ptr, got.len, want.rc,
                        (unsigned long long)want.bits, (const void *)want.ptr,
                        want.len);
                    if (strict)
                        ck_assert_msg(got.rc >= 0, "%s: type %s ordinal %d: %s",
                                      ctx, hollow_type_name(t), (int)o,
                                      hollow_error_last()->message);
                    if (length && strict && got.rc == 0) {
                        size_t u = 0;
                        HT_OK(units_by_decoding(&u, t, o, f));
                        ck_assert_msg(u == got.bits,
                                      "%s: type %s ordinal %d field %s: %zu "
                                      "units counted, %zu decoded",
                                      ctx, hollow_type_name(t), (int)o,
                                      hollow_schema_field_name(s, f),
                                      (size_t)got.bits, u);
                    }
                }
            }
            n++;
        }
        /* the end is sticky */
        ck_assert_int_eq(c.ordinal, HOLLOW_ORDINAL_NONE);
        ck_assert(!hollow_cursor_next(&c));
        ck_assert_msg(n == count,
                      "%s: type %s: cursor visited %zu, %zu records", ctx,
                      hollow_type_name(t), n, count);
        visited = n;
    }
    free(seen);
    return visited;
}

static void check_state(const hollow_read_state *rs, const char *ctx,
                        bool strict)
{
    for (size_t i = 0; i < hollow_read_state_type_count(rs); i++)
        check_type(hollow_read_state_type_at(rs, i), ctx, strict);
}

/* ---------------------------------------------------------------- golden */

START_TEST(cursor_golden)
{
    static const char *scenarios[] = HT_GOLDEN_SCENARIOS;
    const char *sc = scenarios[_i];
    ht_chain ch;
    ht_chain_load(&ch, sc);
    char ctx[128];
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, ch.snapshot.p, ch.snapshot.len,
                                          NULL));
    snprintf(ctx, sizeof ctx, "%s snapshot", sc);
    check_state(rs, ctx, true);
    for (int k = 0; k < ch.nsteps; k++) {
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta(&next, rs, ch.steps[k].p,
                                            ch.steps[k].len));
        snprintf(ctx, sizeof ctx, "%s step %d", sc, k + 1);
        check_state(next, ctx, true);
        hollow_read_state_release(rs);
        rs = next;
    }
    hollow_read_state_release(rs);
    ht_chain_free(&ch);
}
END_TEST

/* ---------------------------------------------------------------- random */

static rs_schema_opts profile(int i)
{
    rs_schema_opts o;
    o.min_types = 5;
    o.max_types = 5 + (size_t)(i % 3) * 4;
    o.max_records = i % 6 == 5 ? 1200 : 150;
    o.shard_mode = i % 3;        /* pinned 1..64, target, both */
    o.target_mode = (i / 3) % 3; /* includes small targets: many shards */
    o.empty_pct = 15;
    o.first_records = 0;
    return o;
}

static hollow_read_state *snapshot_of(hollow_write_state *ws)
{
    rs_buf blob = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, rs_buf_sink, &blob));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, blob.p, blob.len, NULL));
    rs_buf_free(&blob);
    return rs;
}

START_TEST(cursor_random)
{
    uint64_t rng = g_seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(_i + 1));
    rs_rand(&rng);
    char ctx[160];
    snprintf(ctx, sizeof ctx, "seed %llu state %d", (unsigned long long)g_seed,
             _i);
    rs_schema_opts opts = profile(_i);
    rs_schema *sc = rs_schema_gen(&rng, &opts);
    rs_state *st = rs_state_new(sc, ctx);
    rs_state_gen(st, &rng);
    hollow_write_state *ws = rs_write_state_new(sc);
    rs_state_add(st, ws, NULL, true);
    hollow_read_state *rs = snapshot_of(ws);
    check_state(rs, ctx, true);
    hollow_read_state_release(rs);
    hollow_write_state_free(ws);
    rs_state_free(st);
    rs_schema_free(sc);
}
END_TEST

/* cycles: states made by deltas (ghosts, shared shards, emptied types) */
START_TEST(cursor_chain)
{
    uint64_t rng = g_seed ^ (0xC2B2AE3D27D4EB4Full * (uint64_t)(_i + 1));
    rs_rand(&rng);
    char ctx[160];
    rs_schema_opts opts = profile(_i);
    opts.max_records = 120;
    rs_schema *sc = rs_schema_gen(&rng, &opts);
    hollow_write_state *ws = rs_write_state_new(sc);
    rs_state *prev = NULL;
    hollow_read_state *rs = NULL;
    for (int c = 0; c < 4; c++) {
        snprintf(ctx, sizeof ctx, "seed %llu chain %d version %d",
                 (unsigned long long)g_seed, _i, c + 1);
        rs_state *st;
        if (c == 0) {
            st = rs_state_new(sc, ctx);
            rs_state_gen(st, &rng);
        } else {
            st = rs_state_evolve(prev, &rng, ctx);
            HT_OK(hollow_write_state_prepare_cycle(ws));
        }
        rs_state_add(st, ws, prev, c == 0);
        if (c == 0) {
            rs = snapshot_of(ws);
        } else {
            rs_buf delta = {0};
            HT_OK(hollow_write_state_write_delta(ws, rs_buf_sink, &delta));
            hollow_read_state *next = NULL;
            HT_OK(hollow_read_state_apply_delta(&next, rs, delta.p, delta.len));
            rs_buf_free(&delta);
            hollow_read_state_release(rs);
            rs = next;
        }
        check_state(rs, ctx, true);
        rs_state_free(prev);
        prev = st;
    }
    hollow_read_state_release(rs);
    rs_state_free(prev);
    hollow_write_state_free(ws);
    rs_schema_free(sc);
}
END_TEST

/* ------------------------------------------------------------- corrupt */

START_TEST(cursor_corrupt)
{
    uint64_t rng = g_seed ^ (0x165667B19E3779F9ull * (uint64_t)(_i + 1));
    rs_rand(&rng);
    char ctx[160];
    rs_schema_opts opts = profile(_i);
    opts.max_records = 60;
    rs_schema *sc = rs_schema_gen(&rng, &opts);
    rs_state *st = rs_state_new(sc, "corrupt");
    rs_state_gen(st, &rng);
    hollow_write_state *ws = rs_write_state_new(sc);
    rs_state_add(st, ws, NULL, true);
    rs_buf blob = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, rs_buf_sink, &blob));
    uint8_t *copy = malloc(blob.len);
    ck_assert_ptr_nonnull(copy);
    int loaded = 0;
    /* flips in the second half, mostly record data, so that many load */
    uint32_t half = (uint32_t)(blob.len / 2);
    for (int k = 0; k < 300; k++) {
        memcpy(copy, blob.p, blob.len);
        int flips = 1 + (int)rs_below(&rng, 3);
        for (int j = 0; j < flips; j++)
            copy[half + rs_below(&rng, (uint32_t)blob.len - half)] ^=
                (uint8_t)(1u << rs_below(&rng, 8));
        hollow_read_state *rs = NULL;
        if (hollow_read_state_from_snapshot(&rs, copy, blob.len, NULL) < 0)
            continue; /* the loader's checks caught it */
        loaded++;
        snprintf(ctx, sizeof ctx, "seed %llu corrupt %d flip %d",
                 (unsigned long long)g_seed, _i, k);
        check_state(rs, ctx, false);
        hollow_read_state_release(rs);
    }
    /* most flips fail the loader's checks; some seeds load none */
    (void)loaded;
    free(copy);
    rs_buf_free(&blob);
    hollow_write_state_free(ws);
    rs_state_free(st);
    rs_schema_free(sc);
}
END_TEST

/* ------------------------------------------------------------- strings */

static hollow_schema_list *parse(const char *text)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, text, strlen(text)));
    return l;
}

/* one shard of Str records: lengths 0..80 units, units of 1, 2 and 3
 * varint bytes, the longest last so it reaches the buffer's end */
START_TEST(cursor_string_lengths)
{
    hollow_schema_list *l = parse("Str { string s; int i; }\n");
    hollow_write_options wo = HOLLOW_WRITE_OPTIONS_INIT;
    wo.target_shard_size = UINT64_MAX;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &wo));
    uint64_t rng = g_seed;
    uint16_t u[81];
    for (int mix = 0; mix < 4; mix++)
        for (size_t len = 0; len <= 80; len++) {
            for (size_t k = 0; k < len; k++) {
                uint32_t pick = rs_below(&rng, 4);
                u[k] = mix == 0 || pick < 2 ? (uint16_t)('a' + k % 26)
                       : pick == 2          ? (uint16_t)(0x100 + k)
                                            : (uint16_t)(0xD800 + k);
            }
            hollow_record *r = NULL;
            HT_OK(hollow_record_new(&r, ws, "Str"));
            HT_OK(hollow_record_set_string_utf16(r, 0, u, len));
            HT_OK(hollow_record_set_int(r, 1, (int32_t)(mix * 100 + len)));
            hollow_ordinal o;
            HT_OK(hollow_write_state_add(&o, ws, r));
            hollow_record_free(r);
        }
    hollow_read_state *rs = snapshot_of(ws);
    const hollow_type *t = hollow_read_state_type(rs, "Str");
    ck_assert_uint_eq(check_type(t, "strings", true), 4 * 81);
    hollow_read_state_release(rs);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
}
END_TEST

/*
 * Walk Str (string s; int i) reading s only where (ordinal % step) == 0
 * (a skipped record makes the cursor read the previous end offset itself),
 * against the checked accessors; returns how many reads were corrupt.
 */
static size_t walk_offsets(const hollow_type *t, unsigned step,
                           const char *ctx)
{
    hollow_cursor c;
    unsigned cs, ci;
    size_t corrupt = 0;
    HT_OK(hollow_cursor_init(&c, t));
    HT_OK(hollow_cursor_column(&cs, &c, 0, HOLLOW_FIELD_STRING));
    HT_OK(hollow_cursor_column(&ci, &c, 1, HOLLOW_FIELD_INT));
    while (hollow_cursor_next(&c)) {
        hollow_ordinal o = c.ordinal;
        if ((unsigned)o % step != 0)
            continue;
        for (int length = 0; length < 2; length++) {
            answer want = checked(t, o, 0, HOLLOW_FIELD_STRING, length);
            answer got = by_cursor(&c, cs, HOLLOW_FIELD_STRING, length);
            ck_assert_msg(got.rc == want.rc && got.bits == want.bits &&
                              got.len == want.len && got.ptr == want.ptr,
                          "%s step %u ordinal %d (%s): cursor %d %p+%zu, "
                          "checked %d %p+%zu",
                          ctx, step, (int)o, length ? "length" : "raw",
                          got.rc, (const void *)got.ptr, got.len, want.rc,
                          (const void *)want.ptr, want.len);
            if (got.rc == HOLLOW_ECORRUPT)
                corrupt++;
        }
        answer want = checked(t, o, 1, HOLLOW_FIELD_INT, false);
        answer got = by_cursor(&c, ci, HOLLOW_FIELD_INT, false);
        ck_assert_int_eq(got.rc, want.rc);
        ck_assert_uint_eq(got.bits, want.bits);
    }
    return corrupt;
}

START_TEST(cursor_hostile_offsets)
{
    hollow_schema_list *l = parse("Str { string s; int i; }\n");
    hollow_write_options wo = HOLLOW_WRITE_OPTIONS_INIT;
    wo.target_shard_size = UINT64_MAX;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &wo));
    char text[48];
    for (int k = 0; k < 40; k++) {
        hollow_record *r = NULL;
        HT_OK(hollow_record_new(&r, ws, "Str"));
        for (int j = 0; j < k; j++)
            text[j] = (char)('a' + (k + j) % 26);
        if (k % 7 != 3) /* some null */
            HT_OK(hollow_record_set_string(r, 0, text, (size_t)k));
        HT_OK(hollow_record_set_int(r, 1, k));
        hollow_ordinal o;
        HT_OK(hollow_write_state_add(&o, ws, r));
        hollow_record_free(r);
    }
    rs_buf blob = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, rs_buf_sink, &blob));
    uint8_t *copy = malloc(blob.len);
    ck_assert_ptr_nonnull(copy);
    size_t corrupt = 0;
    char ctx[64];
    for (size_t bit = 0; bit < blob.len * 8; bit++) {
        memcpy(copy, blob.p, blob.len);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        hollow_read_state *rs = NULL;
        if (hollow_read_state_from_snapshot(&rs, copy, blob.len, NULL) < 0)
            continue;
        const hollow_type *t = hollow_read_state_type(rs, "Str");
        if (t != NULL && hollow_type_kind(t) == HOLLOW_SCHEMA_OBJECT &&
            hollow_schema_field_count(hollow_type_schema(t)) == 2 &&
            hollow_schema_field_type(hollow_type_schema(t), 0) ==
                HOLLOW_FIELD_STRING &&
            hollow_schema_field_type(hollow_type_schema(t), 1) ==
                HOLLOW_FIELD_INT) {
            snprintf(ctx, sizeof ctx, "bit %zu", bit);
            for (unsigned step = 1; step <= 3; step++)
                corrupt += walk_offsets(t, step, ctx);
        }
        hollow_read_state_release(rs);
    }
    /* flips of the offsets load (the loader does not read them) */
    ck_assert_uint_gt(corrupt, 0);
    free(copy);
    rs_buf_free(&blob);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
}
END_TEST

/* --------------------------------------------------------------- misuse */

START_TEST(cursor_misuse)
{
    hollow_schema_list *l =
        parse("M { int i; string s; long l; }\nL List<M>;\n");
    hollow_write_options wo = HOLLOW_WRITE_OPTIONS_INIT;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &wo));
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "M"));
    HT_OK(hollow_record_set_int(r, 0, 7));
    HT_OK(hollow_record_set_string(r, 1, "x", 1));
    hollow_ordinal o;
    HT_OK(hollow_write_state_add(&o, ws, r));
    hollow_record_free(r);
    hollow_record *lr = NULL;
    HT_OK(hollow_record_new(&lr, ws, "L"));
    HT_OK(hollow_record_add_element(lr, o));
    HT_OK(hollow_write_state_add(&o, ws, lr));
    hollow_record_free(lr);
    hollow_read_state *rs = snapshot_of(ws);
    const hollow_type *t = hollow_read_state_type(rs, "M");
    const hollow_type *tl = hollow_read_state_type(rs, "L");

    hollow_cursor c;
    unsigned ci, cs, cx;
    int32_t v = 0;
    int64_t lv = 0;
    size_t units = 0;
    HT_OK(hollow_cursor_init(&c, t));
    /* the wrong kind is refused at bind time, naming both kinds */
    ck_assert_int_eq(hollow_cursor_column(&cx, &c, 0, HOLLOW_FIELD_LONG),
                     HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "M.i is INT"));
    ck_assert_int_eq(hollow_cursor_column(&cx, &c, 3, HOLLOW_FIELD_INT),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_cursor_column(NULL, &c, 0, HOLLOW_FIELD_INT),
                     HOLLOW_EINVAL);
    HT_OK(hollow_cursor_column(&ci, &c, 0, HOLLOW_FIELD_INT));
    HT_OK(hollow_cursor_column(&cs, &c, 1, HOLLOW_FIELD_STRING));
    /* no current record yet */
    ck_assert_int_eq(hollow_cursor_int(&v, &c, ci), HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "no current"));
    ck_assert(hollow_cursor_next(&c));
    HT_OK(hollow_cursor_int(&v, &c, ci));
    ck_assert_int_eq(v, 7);
    HT_OK(hollow_cursor_string_length(&units, &c, cs));
    ck_assert_uint_eq(units, 1);
    /* an accessor of another kind, an unknown column */
    ck_assert_int_eq(hollow_cursor_long(&lv, &c, ci), HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(
        strstr(hollow_error_last()->message, "is INT, not LONG"));
    ck_assert_int_eq(hollow_cursor_int(&v, &c, cs), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_cursor_int(&v, &c, 9), HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "no column 9"));
    /* a column bound during the walk reads the current shard */
    unsigned cl;
    HT_OK(hollow_cursor_column(&cl, &c, 2, HOLLOW_FIELD_LONG));
    ck_assert_int_eq(hollow_cursor_long(&lv, &c, cl), HOLLOW_NULL);
    ck_assert(lv == INT64_MIN);
    /* past the end */
    ck_assert(!hollow_cursor_next(&c));
    ck_assert_int_eq(hollow_cursor_int(&v, &c, ci), HOLLOW_EINVAL);
    ck_assert(!hollow_cursor_next(&c));

    /* too many columns */
    HT_OK(hollow_cursor_init(&c, t));
    for (int k = 0; k < HOLLOW_CURSOR_MAX_COLUMNS; k++)
        HT_OK(hollow_cursor_column(&cx, &c, 0, HOLLOW_FIELD_INT));
    ck_assert_int_eq(hollow_cursor_column(&cx, &c, 0, HOLLOW_FIELD_INT),
                     HOLLOW_EINVAL);

    /* a LIST walks, but has no columns */
    HT_OK(hollow_cursor_init(&c, tl));
    ck_assert_int_eq(hollow_cursor_column(&cx, &c, 0, HOLLOW_FIELD_INT),
                     HOLLOW_EINVAL);
    ck_assert(hollow_cursor_next(&c));
    ck_assert_int_eq(c.ordinal, 0);
    ck_assert(!hollow_cursor_next(&c));

    /* NULL arguments; a cursor that failed to start is empty */
    ck_assert_int_eq(hollow_cursor_init(NULL, t), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_cursor_init(&c, NULL), HOLLOW_EINVAL);
    ck_assert(!hollow_cursor_next(&c));
    ck_assert_int_eq(hollow_cursor_column(&cx, &c, 0, HOLLOW_FIELD_INT),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_cursor_int(&v, &c, 0), HOLLOW_EINVAL);

    /* a program built against another layout */
    ck_assert_int_eq(
        hollow_cursor_init_abi_(&c, t, HOLLOW_CURSOR_VERSION + 1, sizeof c),
        HOLLOW_EVERSION);
    ck_assert_int_eq(
        hollow_cursor_init_abi_(&c, t, HOLLOW_CURSOR_VERSION, sizeof c - 8),
        HOLLOW_EVERSION);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "recompile"));

    hollow_read_state_release(rs);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
}
END_TEST

static Suite *cursor_suite(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("golden");
    static const char *scenarios[] = HT_GOLDEN_SCENARIOS;
    tcase_add_loop_test(tc, cursor_golden, 0,
                        (int)(sizeof scenarios / sizeof *scenarios));
    suite_add_tcase(s, tc);
    tc = tcase_create("random");
    tcase_add_loop_test(tc, cursor_random, 0, RANDOM_STATES * ht_scale());
    tcase_add_loop_test(tc, cursor_chain, 0, CHAINS * ht_scale());
    tcase_add_loop_test(tc, cursor_corrupt, 0, CORRUPT_STATES * ht_scale());
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, cursor_string_lengths);
    tcase_add_test(tc, cursor_hostile_offsets);
    tcase_add_test(tc, cursor_misuse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    g_seed = ht_seed("test_cursor");
    return ht_run_suite(cursor_suite());
}
