/*
 * Delta application on several threads, and its two ways of building a
 * shard (src/blob/delta.c): runs of old records copied in bulk when the
 * layout is unchanged, record by record when widths change or the shard
 * count does. A small chain (OBJECT, LIST, SET and MAP types, several
 * shards) is applied with 1..8 threads: every state must be byte for byte
 * what the single-threaded reference path builds, a delta that widens a
 * field or reshards must take the record-by-record path, and a damaged
 * delta must fail with the reference path's code and message whatever the
 * thread count. Run under ThreadSanitizer by `make test`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/read.h"
#include "hollow/write.h"
#include "same_state.h"
#include "testhelp.h"

static const char SCHEMA[] =
    "Str { string value; }\n"
    "Words List<Str>;\n"
    "Tags Set<Str>;\n"
    "Attrs Map<Str, Str>;\n"
    "Item { int id; string name; Str title; Words words; Tags tags; "
    "Attrs attrs; }\n";

#define ITEMS 700
#define CYCLES 6

/* the blobs of a chain: snapshot of version 0, then forward and reverse
 * deltas between versions i and i + 1 */
typedef struct chain {
    ht_mem snap;
    ht_mem fwd[CYCLES], rev[CYCLES];
} chain;

/* the string prefix followed by k */
static hollow_ordinal add_str(hollow_write_state *ws, const char *prefix, int k)
{
    char text[32];
    snprintf(text, sizeof text, "%s%d", prefix, k);
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "Str"));
    HT_OK(hollow_record_set_string(r, 0, text, strlen(text)));
    hollow_ordinal o;
    HT_OK(hollow_write_state_add(&o, ws, r));
    hollow_record_free(r);
    return o;
}

/* item k as cycle c has it; `wide` widens the id field */
static void add_item(hollow_write_state *ws, int k, int c, bool wide)
{
    hollow_record *r = NULL;
    hollow_ordinal o;
    HT_OK(hollow_record_new(&r, ws, "Words"));
    for (int i = 0; i < 1 + k % 4; i++)
        HT_OK(hollow_record_add_element(r, add_str(ws, "w", (k + i) % 31)));
    hollow_ordinal words;
    HT_OK(hollow_write_state_add(&words, ws, r));
    hollow_record_free(r);
    HT_OK(hollow_record_new(&r, ws, "Tags"));
    for (int i = 0; i < k % 3; i++)
        HT_OK(hollow_record_add_element(r, add_str(ws, "g", (k * 7 + i) % 41)));
    hollow_ordinal tags;
    HT_OK(hollow_write_state_add(&tags, ws, r));
    hollow_record_free(r);
    HT_OK(hollow_record_new(&r, ws, "Attrs"));
    for (int i = 0; i < k % 2 + 1; i++)
        HT_OK(hollow_record_put_entry(r, add_str(ws, "a", (k + i) % 23),
                                      add_str(ws, "v", (k * 3 + i) % 53)));
    hollow_ordinal attrs;
    HT_OK(hollow_write_state_add(&attrs, ws, r));
    hollow_record_free(r);

    char name[48];
    /* every 11th item changes each cycle: a new record */
    snprintf(name, sizeof name, "item %d of %d", k, k % 11 == c % 11 ? c : 0);
    HT_OK(hollow_record_new(&r, ws, "Item"));
    HT_OK(hollow_record_set_int(r, 0, wide ? k + (1 << 24) : k));
    HT_OK(hollow_record_set_string(r, 1, name, strlen(name)));
    HT_OK(hollow_record_set_ref(r, 2, add_str(ws, "t", k % 97)));
    HT_OK(hollow_record_set_ref(r, 3, words));
    HT_OK(hollow_record_set_ref(r, 4, tags));
    HT_OK(hollow_record_set_ref(r, 5, attrs));
    HT_OK(hollow_write_state_add(&o, ws, r));
    hollow_record_free(r);
}

/*
 * Cycle c drops every 17th item (a different set each cycle) and changes
 * every 11th. Cycle `wide` widens item ids; cycle `reshard` changes the
 * Item shard count.
 */
static void make_chain(chain *ch, int wide, int reshard)
{
    memset(ch, 0, sizeof *ch);
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, SCHEMA, strlen(SCHEMA)));
    hollow_write_options opts = HOLLOW_WRITE_OPTIONS_INIT;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &opts));
    hollow_schema_list_free(l);
    HT_OK(hollow_write_state_set_shard_count(ws, "Item", 4));
    HT_OK(hollow_write_state_set_shard_count(ws, "Str", 2));
    for (int c = 0; c <= CYCLES; c++) {
        if (c > 0)
            HT_OK(hollow_write_state_prepare_cycle(ws));
        if (c == reshard)
            HT_OK(hollow_write_state_set_shard_count(ws, "Item", 8));
        for (int k = 0; k < ITEMS; k++)
            if ((k + c) % 17 != 0)
                add_item(ws, k, c, c == wide);
        if (c == 0) {
            HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &ch->snap));
        } else {
            HT_OK(hollow_write_state_write_delta(ws, ht_mem_sink,
                                                 &ch->fwd[c - 1]));
            HT_OK(hollow_write_state_write_reverse_delta(ws, ht_mem_sink,
                                                         &ch->rev[c - 1]));
            ht_mem unused = {0};
            HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &unused));
            free(unused.p);
        }
    }
    hollow_write_state_free(ws);
}

static void chain_free(chain *ch)
{
    free(ch->snap.p);
    for (int c = 0; c < CYCLES; c++) {
        free(ch->fwd[c].p);
        free(ch->rev[c].p);
    }
}

/* apply with `threads` threads, checked against the reference path */
static hollow_read_state *apply_checked(const hollow_read_state *rs,
                                        const ht_mem *d, unsigned threads,
                                        const char *ctx)
{
    hollow_read_state *out = NULL;
    int rc = hollow__delta_apply(&out, rs, d->p, d->len, threads);
    ck_assert_msg(rc == 0, "%s: %d: %s", ctx, rc, hollow_error_last()->message);
    same_as_reference(out, rs, d->p, d->len, ctx);
    return out;
}

START_TEST(apply_threads_equal_reference)
{
    chain ch;
    make_chain(&ch, -1, -1);
    for (unsigned t = 1; t <= 8; t++) {
        hollow_read_state *rs = NULL;
        HT_OK(hollow_read_state_from_snapshot(&rs, ch.snap.p, ch.snap.len, NULL));
        for (int c = 0; c < CYCLES; c++) {
            char ctx[64];
            snprintf(ctx, sizeof ctx, "threads %u delta %d", t, c);
            hollow_read_state *next = apply_checked(rs, &ch.fwd[c], t, ctx);
            snprintf(ctx, sizeof ctx, "threads %u reverse delta %d", t, c);
            hollow_read_state *back = apply_checked(next, &ch.rev[c], t, ctx);
            hollow_read_state_release(back);
            hollow_read_state_release(rs);
            rs = next;
        }
        hollow_read_state_release(rs);
    }
    chain_free(&ch);
}
END_TEST

/* the shards one apply built in bulk and record by record */
static void counted(uint64_t *bulk, uint64_t *rebuilt, const hollow_read_state *rs,
                    const ht_mem *d)
{
    uint64_t b0, r0, b1, r1;
    hollow__delta_counts(&b0, &r0);
    hollow_read_state *out = apply_checked(rs, d, 2, "counted");
    hollow__delta_counts(&b1, &r1);
    hollow_read_state_release(out);
    *bulk = b1 - b0;
    *rebuilt = r1 - r0;
}

START_TEST(apply_takes_the_right_path)
{
    chain ch;
    make_chain(&ch, 3, 5);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, ch.snap.p, ch.snap.len, NULL));
    uint64_t bulk, rebuilt;
    for (int c = 0; c < CYCLES; c++) {
        counted(&bulk, &rebuilt, rs, &ch.fwd[c]);
        if (c + 1 == 3) {
            /* the id field widens: the 4 Item shards are re-encoded */
            ck_assert_uint_ge(rebuilt, 4);
        } else if (c + 1 == 5) {
            /* 4 Item shards become 8, each rebuilt from old records */
            ck_assert_uint_ge(rebuilt, 8);
        } else {
            /* same widths: the changed shards of every type are copied in
             * runs (Str's byte total may cross a power of two) */
            ck_assert_uint_ge(bulk, 4);
            ck_assert_uint_le(rebuilt, 2);
        }
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta(&next, rs, ch.fwd[c].p, ch.fwd[c].len));
        hollow_read_state_release(rs);
        rs = next;
    }
    hollow_read_state_release(rs);
    chain_free(&ch);
}
END_TEST

/* what applying d gives: code and message */
static int try_apply(char *msg, size_t cap, const hollow_read_state *rs,
                     const uint8_t *d, size_t len, int threads)
{
    hollow_read_state *out = NULL;
    int rc = threads < 0 ? hollow__delta_apply_reference(&out, rs, d, len)
                         : hollow__delta_apply(&out, rs, d, len, (unsigned)threads);
    snprintf(msg, cap, "%s", rc < 0 ? hollow_error_last()->message : "");
    if (rc == 0)
        hollow_read_state_release(out);
    return rc;
}

START_TEST(apply_errors_as_reference)
{
    chain ch;
    make_chain(&ch, -1, -1);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, ch.snap.p, ch.snap.len, NULL));
    const ht_mem *d = &ch.fwd[0];
    uint8_t *bad = malloc(d->len);
    ck_assert_ptr_nonnull(bad);
    int failures = 0;
    for (size_t i = 0; i < 96; i++) {
        size_t at = 40 + (d->len - 41) * i / 95, len = d->len;
        memcpy(bad, d->p, d->len);
        if (i % 3 == 0)
            len = at; /* truncated */
        else
            bad[at] ^= (uint8_t)(i % 2 ? 0x80 : 0x7f);
        char want[512], got[512];
        int rw = try_apply(want, sizeof want, rs, bad, len, -1);
        for (int t = 1; t <= 4; t += 3) {
            int rg = try_apply(got, sizeof got, rs, bad, len, t);
            ck_assert_msg(rg == rw && strcmp(got, want) == 0,
                          "damage %zu at %zu, threads %d: %d \"%s\", reference "
                          "%d \"%s\"", i, at, t, rg, got, rw, want);
        }
        failures += rw < 0;
    }
    ck_assert_int_gt(failures, 40);
    free(bad);
    hollow_read_state_release(rs);
    chain_free(&ch);
}
END_TEST

static Suite *apply_suite(void)
{
    Suite *s = suite_create("apply_threads");
    TCase *tc = tcase_create("apply");
    tcase_add_test(tc, apply_threads_equal_reference);
    tcase_add_test(tc, apply_takes_the_right_path);
    tcase_add_test(tc, apply_errors_as_reference);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(apply_suite());
}
