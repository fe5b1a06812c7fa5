/*
 * Seeded random states through the writer (issue 4): random schemas with
 * every field type, nulls and extreme values, empty and nested
 * collections, hash keys of every shape, 1..64 shards pinned or chosen from
 * a target size, empty types and empty shards (tests/helpers/randstate.h).
 *
 * Each state is written to a snapshot file, read back and checked against
 * the model record by record; the write-side checksum must equal the read
 * state's; the C canonical dump must equal the one of the independent
 * Python reader (tests/tools/hollow_read.py); the linter
 * (tests/tools/hollow_lint.py) must find no MUST violation; the snapshot
 * rewritten from the read state through hollow_write_state_copy_from() must
 * be the same bytes (the state has no history). A write stopped by its sink
 * must pass the sink's code back and leave the state able to write the same
 * bytes again. The linter must not even find a SHOULD finding (a difference
 * from the bytes Java writes) in these first-version snapshots.
 *
 * A few chains of cycles (rs_state_evolve) also check each version's
 * snapshot against the model, deltas and reverse deltas against the
 * snapshots (dumps, checksums), the chain through the Python reader and the
 * publisher directory through the linter's MUST rules.
 *
 * HOLLOW_TEST_SEED repeats a run; HOLLOW_TEST_STATE=N (or N-M) runs only
 * those states, HOLLOW_TEST_CYCLE=N (or N-M) only those chains;
 * HOLLOW_TEST_SCALE multiplies the number of states and chains;
 * HOLLOW_TEST_VERBOSE=1 prints every state's schema and the linter's
 * SHOULD findings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hollow/dump.h"
#include "hollow/read.h"
#include "hollow/write.h"
#include "randstate.h"
#include "same_state.h"
#include "testhelp.h"

#define STATES 48
#define CYCLE_STATES 6
#define CYCLES 5

static uint64_t g_seed;

typedef struct stop_sink {
    size_t left;
    size_t seen;
} stop_sink;

/* accepts `left` bytes, then stops the write */
static int stopping_sink(void *payload, const void *data, size_t len)
{
    stop_sink *s = payload;
    (void)data;
    s->seen += len;
    if (len > s->left)
        return -4242;
    s->left -= len;
    return 0;
}

/* the knobs of state i: every shard mode and target mode, some big ones */
static rs_schema_opts profile(int i, uint64_t *rng)
{
    rs_schema_opts o;
    o.min_types = 7;
    o.max_types = 7 + (size_t)(i % 3) * 6;
    o.max_records = i % 8 == 7 ? 1500 : 200;
    o.shard_mode = i % 3;
    o.target_mode = (i / 3) % 3;
    o.empty_pct = 10 + (int)rs_below(rng, 10);
    /* more than 16384 ordinals: a bit set of two segments (§1.7) */
    o.first_records = i % 16 == 15 ? 18000 + rs_below(rng, 3000) : 0;
    return o;
}

static bool verbose(void)
{
    const char *v = getenv("HOLLOW_TEST_VERBOSE");
    return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

START_TEST(write_random_state)
{
    int i = _i;
    uint64_t rng = g_seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
    rs_rand(&rng);

    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow_wr");
    char path[300], ctx[320];
    snprintf(path, sizeof path, "%s/snapshot-1", dir);
    snprintf(ctx, sizeof ctx, "seed %llu state %d (%s)",
             (unsigned long long)g_seed, i, path);

    rs_schema_opts opts = profile(i, &rng);
    rs_schema *sc = rs_schema_gen(&rng, &opts);
    if (verbose()) {
        fprintf(stderr, "== %s\n", ctx);
        rs_schema_describe(sc, stderr);
    }
    rs_state *st = rs_state_new(sc, ctx);
    rs_state_gen(st, &rng);

    hollow_write_state *ws = rs_write_state_new(sc);
    if (rs_chance(&rng, 50)) { /* let the linter check the schema hash */
        int32_t h = 0;
        char text[16];
        HT_OK(hollow_schema_list_hash(&h, hollow_write_state_schemas(ws)));
        snprintf(text, sizeof text, "%d", (int)h);
        rs_state_put_tag(st, "hollow.schema.hash", text);
    }
    rs_state_add(st, ws, NULL, true);
    int64_t tag = hollow_write_state_randomized_tag(ws);
    if (st->has_tag)
        ck_assert_msg(tag == st->tag, "%s: randomized tag %lld, set %lld", ctx,
                      (long long)tag, (long long)st->tag);

    uint32_t wsum = 0, wsum2 = 0;
    HT_OK(hollow_write_state_checksum(&wsum, ws));
    rs_buf blob = {0}, again = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, rs_buf_sink, &blob));
    ck_assert_msg(blob.len > 0, "%s: empty snapshot", ctx);

    /* a write stopped by its sink passes the code back; the state then
     * writes the same bytes again */
    stop_sink stop = {rs_below(&rng, (uint32_t)blob.len), 0};
    int rc = hollow_write_state_write_snapshot(ws, stopping_sink, &stop);
    ck_assert_msg(rc == -4242,
                  "%s: the write stopped after %zu bytes returned %d, not the "
                  "sink's -4242",
                  ctx, stop.left, rc);
    HT_OK(hollow_write_state_write_snapshot(ws, rs_buf_sink, &again));
    ck_assert_msg(again.len == blob.len &&
                      memcmp(again.p, blob.p, blob.len) == 0,
                  "%s: the second snapshot (%zu bytes) differs from the first "
                  "(%zu bytes)",
                  ctx, again.len, blob.len);
    HT_OK(hollow_write_state_checksum(&wsum2, ws));
    ck_assert_msg(wsum2 == wsum,
                  "%s: checksum 0x%08x after writing, 0x%08x before", ctx,
                  wsum2, wsum);
    ht_write_file(path, blob.p, blob.len);
    if (verbose()) {
        size_t recs = 0;
        for (size_t t = 0; t < sc->ntypes; t++)
            recs += rs_state_distinct(st, (int)t);
        fprintf(stderr, "%s: %zu types, %zu records (%zu of %s), %zu bytes\n",
                ctx, sc->ntypes, recs, rs_state_distinct(st, 0),
                sc->types[0].name, blob.len);
    }

    /* read back: the model, the checksum */
    hollow_read_options ro = HOLLOW_READ_OPTIONS_INIT;
    ro.memory_mode = i % 2 ? HOLLOW_MEMORY_MMAP : HOLLOW_MEMORY_HEAP;
    hollow_read_state *rs = NULL;
    rc = hollow_read_state_open(&rs, path, &ro);
    ck_assert_msg(rc == 0, "%s: hollow_read_state_open returned %d: %s", ctx,
                  rc, hollow_error_last()->message);
    rs_state_check(st, rs, tag, NULL);
    uint32_t rsum = 0;
    HT_OK(hollow_read_state_checksum(&rsum, rs));
    ck_assert_msg(rsum == wsum,
                  "%s: read state checksum 0x%08x, write state 0x%08x", ctx,
                  rsum, wsum);

    /* the independent reader and the linter */
    rs_buf dump = {0}, lint = {0};
    rs_dump(&dump, rs, ctx);
    const char *files[] = {path};
    rs_check_python_dump(ctx, files, 1, &dump);
    char lopts[96] = "";
    if (opts.shard_mode == 1) /* no pinned count: check Java's choice */
        snprintf(lopts, sizeof lopts, "--target-shard-size %llu",
                 sc->target_shard_size == 0 ? 16777216ull
                 : sc->target_shard_size == UINT64_MAX
                     ? 9223372036854775807ull
                     : (unsigned long long)sc->target_shard_size);
    rs_check_lint(ctx, lopts, files, 1, &lint);
    if (verbose())
        fprintf(stderr, "%s: lint:\n%.*s", ctx, (int)lint.len,
                lint.p ? (char *)lint.p : "");
    /* a first snapshot: nothing differs from what Java writes either */
    int should = rs_lint_count(&lint, "SHOULD");
    ck_assert_msg(should == 0 && rs_lint_count(&lint, "note") == 0,
                  "%s: hollow_lint.py %s: %d SHOULD finding(s) (Java would "
                  "write other bytes):\n%.*s",
                  ctx, lopts, should, (int)(lint.len < 3000 ? lint.len : 3000),
                  lint.p ? (char *)lint.p : "");

    /* through a fresh write state: same state, same bytes */
    hollow_write_state *ws2 = NULL;
    HT_OK(hollow_write_state_new(&ws2, hollow_write_state_schemas(ws), NULL));
    rc = hollow_write_state_copy_from(ws2, rs);
    ck_assert_msg(rc == 0, "%s: hollow_write_state_copy_from returned %d: %s",
                  ctx, rc, hollow_error_last()->message);
    rs_buf blob2 = {0}, dump2 = {0};
    uint32_t csum = 0;
    HT_OK(hollow_write_state_checksum(&csum, ws2));
    ck_assert_msg(csum == wsum,
                  "%s: checksum of the copy 0x%08x, original 0x%08x", ctx, csum,
                  wsum);
    HT_OK(hollow_write_state_write_snapshot(ws2, rs_buf_sink, &blob2));
    hollow_read_state *rs2 = NULL;
    rc = hollow_read_state_from_snapshot(&rs2, blob2.p, blob2.len, NULL);
    ck_assert_msg(rc == 0, "%s: reading the rewritten snapshot returned %d: %s",
                  ctx, rc, hollow_error_last()->message);
    rs_dump(&dump2, rs2, ctx);
    ck_assert_msg(dump2.len == dump.len &&
                      memcmp(dump2.p, dump.p, dump.len) == 0,
                  "%s: the rewritten snapshot dumps differently (%zu bytes, "
                  "original %zu)",
                  ctx, dump2.len, dump.len);
    if (blob2.len != blob.len || memcmp(blob2.p, blob.p, blob.len) != 0) {
        size_t at = 0;
        while (at < blob.len && at < blob2.len && blob.p[at] == blob2.p[at])
            at++;
        ck_abort_msg(
            "%s: the rewritten snapshot (%zu bytes) differs from the original "
            "(%zu bytes) from byte %zu",
            ctx, blob2.len, blob.len, at);
    }

    hollow_read_state_release(rs2);
    hollow_write_state_free(ws2);
    hollow_read_state_release(rs);
    hollow_write_state_free(ws);
    rs_buf_free(&blob);
    rs_buf_free(&again);
    rs_buf_free(&blob2);
    rs_buf_free(&dump);
    rs_buf_free(&dump2);
    rs_buf_free(&lint);
    rs_state_free(st);
    rs_schema_free(sc);
    unlink(path);
    rmdir(dir);
}
END_TEST

static void write_file_of(rs_buf *b, const char *dir, const char *name)
{
    char path[330];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ht_write_file(path, b->p, b->len);
}

/*
 * A smoke test of rs_state_evolve() with the write state's cycles: each
 * cycle's snapshot reads back as the model, deltas and reverse deltas lead
 * from one state to the other (dumps and checksums), the Python reader
 * follows the whole chain and the linter checks the publisher directory.
 */
START_TEST(write_random_cycles)
{
    int i = _i;
    uint64_t rng = g_seed ^ (0xC2B2AE3D27D4EB4Full * (uint64_t)(i + 1));
    rs_rand(&rng);
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow_wrc");
    char ctx[320], name[64];

    rs_schema_opts opts = profile(i, &rng);
    opts.max_records = 100;
    opts.first_records = 0;
    rs_schema *sc = rs_schema_gen(&rng, &opts);
    hollow_write_state *ws = rs_write_state_new(sc);
    rs_state *prev = NULL;
    hollow_read_state *prev_rs = NULL;
    rs_buf prev_dump = {0};
    const char *files[CYCLES];
    char paths[CYCLES][330];

    for (int c = 0; c < CYCLES; c++) {
        snprintf(ctx, sizeof ctx, "seed %llu cycles %d version %d (%s)",
                 (unsigned long long)g_seed, i, c + 1, dir);
        rs_state *st;
        if (c == 0) {
            st = rs_state_new(sc, ctx);
            rs_state_gen(st, &rng);
        } else {
            st = rs_state_evolve(prev, &rng, ctx);
            HT_OK(hollow_write_state_prepare_cycle(ws));
        }
        rs_state_add(st, ws, prev, c == 0);
        int64_t tag = hollow_write_state_randomized_tag(ws);
        uint32_t wsum = 0, rsum = 0;
        HT_OK(hollow_write_state_checksum(&wsum, ws));

        rs_buf snap = {0}, dump = {0};
        HT_OK(hollow_write_state_write_snapshot(ws, rs_buf_sink, &snap));
        snprintf(name, sizeof name, "snapshot-%d", c + 1);
        write_file_of(&snap, dir, name);
        hollow_read_state *rs = NULL;
        HT_OK(hollow_read_state_from_snapshot(&rs, snap.p, snap.len, NULL));
        rs_state_check(st, rs, tag, prev);
        HT_OK(hollow_read_state_checksum(&rsum, rs));
        ck_assert_msg(rsum == wsum, "%s: read checksum 0x%08x, written 0x%08x",
                      ctx, rsum, wsum);
        rs_dump(&dump, rs, ctx);

        if (c > 0) {
            rs_buf delta = {0}, rev = {0}, d2 = {0};
            HT_OK(hollow_write_state_write_delta(ws, rs_buf_sink, &delta));
            HT_OK(
                hollow_write_state_write_reverse_delta(ws, rs_buf_sink, &rev));
            snprintf(name, sizeof name, "delta-%d-%d", c, c + 1);
            write_file_of(&delta, dir, name);
            snprintf(paths[c], sizeof paths[c], "%s/%s", dir, name);
            snprintf(name, sizeof name, "reversedelta-%d-%d", c + 1, c);
            write_file_of(&rev, dir, name);

            hollow_read_state *next = NULL, *back = NULL;
            int rc = hollow_read_state_apply_delta(&next, prev_rs, delta.p,
                                                   delta.len);
            ck_assert_msg(rc == 0, "%s: applying the delta: %d: %s", ctx, rc,
                          hollow_error_last()->message);
            same_as_reference(next, prev_rs, delta.p, delta.len, ctx);
            rs_dump(&d2, next, ctx);
            ck_assert_msg(d2.len == dump.len &&
                              memcmp(d2.p, dump.p, dump.len) == 0,
                          "%s: previous state + delta dumps differently from "
                          "the snapshot",
                          ctx);
            HT_OK(hollow_read_state_checksum(&rsum, next));
            ck_assert_msg(rsum == wsum,
                          "%s: checksum after the delta 0x%08x, written 0x%08x",
                          ctx, rsum, wsum);
            rc = hollow_read_state_apply_delta(&back, rs, rev.p, rev.len);
            ck_assert_msg(rc == 0, "%s: applying the reverse delta: %d: %s",
                          ctx, rc, hollow_error_last()->message);
            same_as_reference(back, rs, rev.p, rev.len, ctx);
            rs_dump(&d2, back, ctx);
            ck_assert_msg(d2.len == prev_dump.len &&
                              memcmp(d2.p, prev_dump.p, d2.len) == 0,
                          "%s: snapshot + reverse delta dumps differently from "
                          "the previous state",
                          ctx);
            hollow_read_state_release(next);
            hollow_read_state_release(back);
            rs_buf_free(&delta);
            rs_buf_free(&rev);
            rs_buf_free(&d2);
        } else {
            snprintf(paths[0], sizeof paths[0], "%s/snapshot-1", dir);
        }
        files[c] = paths[c];
        hollow_read_state_release(prev_rs);
        prev_rs = rs;
        rs_buf_free(&prev_dump);
        prev_dump = dump;
        rs_buf_free(&snap);
        rs_state_free(prev);
        prev = st;
    }
    /* the first snapshot and every delta through the Python reader; the
     * whole directory through the linter */
    rs_check_python_dump(ctx, files, CYCLES, &prev_dump);
    char lopts[300];
    snprintf(lopts, sizeof lopts, "--dir '%s'", dir);
    rs_check_lint(ctx, lopts, NULL, 0, NULL);

    hollow_read_state_release(prev_rs);
    rs_buf_free(&prev_dump);
    rs_state_free(prev);
    hollow_write_state_free(ws);
    rs_schema_free(sc);
    for (int c = 0; c < CYCLES; c++) {
        char p[300];
        snprintf(p, sizeof p, "%s/snapshot-%d", dir, c + 1);
        unlink(p);
        snprintf(p, sizeof p, "%s/delta-%d-%d", dir, c, c + 1);
        unlink(p);
        snprintf(p, sizeof p, "%s/reversedelta-%d-%d", dir, c + 1, c);
        unlink(p);
    }
    rmdir(dir);
}
END_TEST

/* "N" or "N-M" */
static void range(const char *text, int *from, int *to)
{
    char *end = NULL;
    *from = (int)strtol(text, &end, 10);
    *to = end != NULL && *end == '-' ? (int)strtol(end + 1, NULL, 10) + 1
                                     : *from + 1;
}

static Suite *write_random_suite(int from, int to, int cfrom, int cto)
{
    Suite *s = suite_create("write_random");
    TCase *tc = tcase_create("states");
    tcase_set_timeout(tc, 1200);
    tcase_add_loop_test(tc, write_random_state, from, to);
    suite_add_tcase(s, tc);
    tc = tcase_create("cycles");
    tcase_set_timeout(tc, 1200);
    tcase_add_loop_test(tc, write_random_cycles, cfrom, cto);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    g_seed = ht_seed("test_write_random");
    int from = 0, to = STATES * ht_scale();
    int cfrom = 0, cto = CYCLE_STATES * ht_scale();
    const char *only = getenv("HOLLOW_TEST_STATE");
    const char *conly = getenv("HOLLOW_TEST_CYCLE");
    if (only != NULL && *only != '\0') {
        range(only, &from, &to);
        if (conly == NULL || *conly == '\0')
            cto = cfrom; /* only the states asked for */
    }
    if (conly != NULL && *conly != '\0') {
        range(conly, &cfrom, &cto);
        if (only == NULL || *only == '\0')
            to = from;
    }
    return ht_run_suite(write_random_suite(from, to, cfrom, cto));
}
