/*
 * The producer cycle with more than one thread puts the delta, the reverse
 * delta and the snapshot from a thread of its own while the integrity
 * check and the validators run (src/producer/producer.c). Whatever fails
 * (a put, a validator), the cycle waits for the puts, deletes what they
 * stored and announces nothing; the next cycle publishes the version. Each
 * test runs with threads 1 (puts after the check, on the caller) and 2.
 * Run under TSan by scripts/test.sh (label threaded).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hollow/hollow.h"
#include "movie_fixture.h"
#include "testhelp.h"

typedef struct fault {
    int starts;      /* blobs begun (a write at offset 0) */
    int fail_at;     /* the blob whose write fails (1-based), 0 none */
    long sleep_ms;   /* each blob's start waits this long */
} fault;

static int on_write(void *ctx, size_t offset)
{
    fault *f = ctx;
    if (offset != 0)
        return 0;
    f->starts++;
    if (f->sleep_ms > 0) {
        struct timespec ts = {0, f->sleep_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    return f->fail_at > 0 && f->starts == f->fail_at ? ENOSPC : 0;
}

typedef struct world {
    char dir[512];
    fault f;
    hollow_blobstore *bs;
    hollow_announcer *an;
    hollow_schema_list *schemas;
    hollow_producer *p;
    pop last; /* the last populate's records per type */
} world;

static void world_new(world *w, unsigned threads)
{
    memset(w, 0, sizeof *w);
    make_tmpdir(w->dir, sizeof w->dir);
    w->schemas = schemas_new();
    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    o.dir = w->dir;
    o.fsync = false;
    o.write_fault = on_write;
    o.write_fault_ctx = &w->f;
    HT_OK(hollow_blobstore_fs_new(&w->bs, &o));
    hollow_announcer_fs_options ao = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    ao.dir = w->dir;
    ao.fsync = false;
    HT_OK(hollow_announcer_fs_new(&w->an, &ao));
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = w->bs;
    po.announcer = w->an;
    po.schemas = w->schemas;
    po.minter = counter_minter;
    po.lease_ttl_ms = -1;
    po.write.threads = threads;
    HT_OK(hollow_producer_new(&w->p, &po));
}

static void world_free(world *w)
{
    hollow_producer_free(w->p);
    hollow_announcer_free(w->an);
    hollow_blobstore_free(w->bs);
    hollow_schema_list_free(w->schemas);
    remove_dir(w->dir);
}

static int run(int64_t *v, world *w, spec sp)
{
    memset(&w->last, 0, sizeof w->last);
    w->last.sp = sp;
    return hollow_producer_run_cycle(v, w->p, populate, &w->last);
}

/* the announced version, and a consumer's state of it equals `sp` (as
 * populated by the last run) */
static void expect_announced(world *w, int64_t want, spec sp)
{
    int64_t at = 0;
    HT_OK(hollow_announcer_latest(&at, w->an));
    ck_assert_int_eq(at, want);
    hollow_consumer *c = consumer_new(w->bs, w->an, false, HOLLOW_MEMORY_HEAP,
                                      NULL);
    HT_OK(hollow_consumer_refresh(c, want));
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    char why[512];
    const char *bad = check_state(rs, &sp, w->last.counts, why,
                                  sizeof why);
    ck_assert_msg(bad == NULL, "version %lld: %s", (long long)want, bad);
    hollow_read_state_release(rs);
    hollow_consumer_free(c);
}

static void expect_latest(world *w, int64_t want)
{
    int64_t at = 0;
    HT_OK(hollow_announcer_latest(&at, w->an));
    ck_assert_int_eq(at, want);
}

/* a put fails (the delta: the first the thread puts; the snapshot: its
 * last), after which the cycle removes what was put and announces nothing */
START_TEST(cycle_threads_failed_put_removes_blobs)
{
    unsigned threads = (unsigned)_i / 2 + 1;
    int fail_at = _i % 2 ? 4 : 2; /* header, delta, reverse delta, snapshot */
    world w;
    world_new(&w, threads);
    int64_t v = 0;
    spec s1 = {0, 20, 0, 1, false}, s2 = {0, 25, 1, 1, false};
    HT_OK(run(&v, &w, s1));
    w.f.starts = 0;
    w.f.fail_at = fail_at;
    w.f.sleep_ms = 5;
    ck_assert_int_eq(run(&v, &w, s2), HOLLOW_EIO);
    ck_assert_int_eq(v, 1);
    char *ls = store_listing(w.bs);
    ck_assert_str_eq(ls, "snapshot-1 header-1");
    free(ls);
    expect_latest(&w, 1);
    w.f.fail_at = 0;
    HT_OK(run(&v, &w, s2));
    ck_assert_int_eq(v, 2);
    expect_announced(&w, 2, s2);
    world_free(&w);
}
END_TEST

static int refuse(const hollow_read_state *state, int64_t version, char *why,
                  size_t cap, void *payload)
{
    (void)state;
    int64_t *refused = payload;
    if (version != *refused)
        return 0;
    snprintf(why, cap, "version %lld refused", (long long)version);
    return 1;
}

/* a validator refuses the version while slow puts are still running: the
 * cycle waits for them, deletes what they stored, announces nothing */
START_TEST(cycle_threads_refused_version_removes_blobs)
{
    unsigned threads = (unsigned)_i + 1;
    world w;
    world_new(&w, threads);
    int64_t refused = 2;
    HT_OK(hollow_producer_add_validator(w.p, refuse, &refused));
    int64_t v = 0;
    spec s1 = {0, 20, 0, 1, false}, s2 = {0, 30, 2, 1, false};
    HT_OK(run(&v, &w, s1));
    w.f.sleep_ms = 30;
    ck_assert_int_eq(run(&v, &w, s2), HOLLOW_ERROR);
    ck_assert_msg(strstr(hollow_error_last()->message, "refused") != NULL,
                  "%s", hollow_error_last()->message);
    char *ls = store_listing(w.bs);
    ck_assert_str_eq(ls, "snapshot-1 header-1");
    free(ls);
    expect_latest(&w, 1);
    /* the version name is free again: the next cycle publishes it */
    refused = 0;
    HT_OK(run(&v, &w, s2));
    ck_assert_int_eq(v, 2);
    expect_announced(&w, 2, s2);
    world_free(&w);
}
END_TEST

static Suite *cycle_threads_suite(void)
{
    Suite *s = suite_create("cycle_threads");
    TCase *tc = tcase_create("cycle_threads");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, cycle_threads_failed_put_removes_blobs, 0, 4);
    tcase_add_loop_test(tc, cycle_threads_refused_version_removes_blobs, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(cycle_threads_suite()); }
