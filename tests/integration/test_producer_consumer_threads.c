/*
 * The producer and the consumer end to end (issue 7, architecture.md §4):
 * a producer publishing into a blob store and announcing, consumers
 * following on their watcher threads, pinning back through reverse deltas
 * and forwards again, empty and unchanged cycles, validators and rollback,
 * restore after a restart, the single-producer lease, eight consumer
 * threads reading pinned states while the producer moves on, a type
 * filter, mmap mode, Java's directory layout (checked by hollow_lint.py)
 * and failed refreshes. Every test starts threads (announcer workers,
 * watchers, lease renewers), so the file also runs under ThreadSanitizer.
 *
 * The data model is small and of our own (Movie -> ListOfActor -> Actor,
 * Movie -> Studio, and an unrelated Award type), so that what each version
 * holds is known exactly: a `spec` says which movies (ids first..first+
 * count-1), which revision of their titles, and how many awards.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "consumer/consumer_int.h"
#include "producer/lease.h"
#include "hollow/hollow.h"
#include "hollow/sys/blobstore.h"
#include "movie_fixture.h"
#include "testhelp.h"

#define WAIT_MS 20000 /* bounded waits: generous for ThreadSanitizer */

/* ================================================================ helpers */

/* ------------------------------------------------------------- files */

static bool file_exists(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every entry of `dir` but . and .., sorted, joined by spaces (malloc'd) */
static char *dir_listing(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "opendir %s: %s", dir, strerror(errno));
    char *names[512];
    size_t n = 0, total = 1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        ck_assert_uint_lt(n, 512);
        names[n] = strdup(e->d_name);
        total += strlen(e->d_name) + 1;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    char *out = malloc(total);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, names[i]);
        free(names[i]);
    }
    return out;
}

static char *read_text_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    uint8_t *p = ht_read_file(path, &len);
    char *s = malloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    free(p);
    return s;
}

/* -------------------------------------------------------------- names */

static void key_name(char *buf, size_t cap, hollow_blob_key k)
{
    HT_OK(hollow_blob_key_name(buf, cap, &k));
}

/* ------------------------------------------------------------- dumps */

static char *dump_deep(const hollow_read_state *rs, const char *type)
{
    sbuf b = {NULL, 0, 0};
    HT_OK(hollow_dump_deep(rs, type, sbuf_write, &b));
    ck_assert_ptr_nonnull(b.p);
    return b.p;
}

/* ============================================= the data model (more) */

/* how many Movie records differ between two specs (for the listeners) */
static void movie_diff(const spec *a, const spec *b, size_t *added, size_t *removed)
{
    *added = *removed = 0;
    int lo = a->first < b->first ? a->first : b->first;
    int hi_a = a->first + a->count, hi_b = b->first + b->count;
    int hi = hi_a > hi_b ? hi_a : hi_b;
    for (int id = lo; id < hi; id++) {
        bool in_a = id >= a->first && id < hi_a, in_b = id >= b->first && id < hi_b;
        char ta[64], tb[64];
        movie_title(ta, sizeof ta, id, a->rev);
        movie_title(tb, sizeof tb, id, b->rev);
        bool same = in_a && in_b && strcmp(ta, tb) == 0;
        if (in_a && !same)
            (*removed)++;
        if (in_b && !same)
            (*added)++;
    }
}

static size_t record_count(const hollow_read_state *rs, const char *type)
{
    const hollow_type *t = hollow_read_state_type(rs, type);
    ck_assert_msg(t != NULL, "no type %s", type);
    return hollow_type_record_count(t);
}

/* id -> ordinal of every Movie of a state (ids < MAX_ORD); -1 if absent */
static void movie_ordinals(hollow_ordinal *out, const hollow_read_state *rs)
{
    for (int i = 0; i < MAX_ORD; i++)
        out[i] = -1;
    const hollow_type *mt = hollow_read_state_type(rs, "Movie");
    size_t f_id = (size_t)hollow_schema_field_index(hollow_type_schema(mt), "id");
    for (hollow_ordinal o = hollow_type_next_ordinal(mt, 0); o >= 0;
         o = hollow_type_next_ordinal(mt, o + 1)) {
        int64_t id = -1;
        HT_OK(hollow_object_long(&id, mt, o, f_id));
        ck_assert(id >= 0 && id < MAX_ORD);
        out[id] = o;
    }
}

/* ----------------------------------------------------------- set-up */

static hollow_announcer *inproc_announcer(void)
{
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_inproc_new(&a, NULL));
    return a;
}

static hollow_announcer *fs_announcer(const char *dir)
{
    hollow_announcer_fs_options o = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    o.dir = dir;
    o.fsync = false;
    o.poll_interval_ms = 200; /* inotify normally; polling as a safety net */
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_fs_new(&a, &o));
    return a;
}

static void wait_version(hollow_consumer *c, int64_t v)
{
    int rc = hollow_consumer_wait_for_version(c, v, WAIT_MS);
    char msg[256];
    int last = hollow_consumer_last_error(c, msg, sizeof msg);
    ck_assert_msg(rc == 0, "the consumer did not reach version %lld (at %lld; "
                  "watcher's last error %d: %s)", (long long)v,
                  (long long)hollow_consumer_version(c), last, msg);
    ck_assert_int_eq(hollow_consumer_version(c), v);
}

static int64_t announced_latest(hollow_announcer *a)
{
    int64_t v = -1;
    int rc = hollow_announcer_latest(&v, a);
    return rc == 0 ? v : rc;
}

/* ------------------------------------------------- refresh listeners */

/*
 * Add a listener to a following consumer created while nothing is
 * announced, without racing with its watcher: hollow_consumer_add_listener()
 * takes no lock the watcher's refreshes take (the race
 * consumer_listener_added_while_following shows), so wait until the
 * watcher's first refresh has failed for want of an announcement (it
 * notifies nobody then), add the listener, and take the consumer's mutex
 * once more (hollow_consumer_last_error()) so that the watcher's later
 * refreshes happen after the addition - also when the announcement
 * travels through a file, which ThreadSanitizer cannot follow.
 */
static void add_listener_quiet(hollow_consumer *c, hollow_refresh_listener_fn fn,
                               void *payload)
{
    int64_t deadline = ht_now_ms() + WAIT_MS;
    int rc;
    while ((rc = hollow_consumer_last_error(c, NULL, 0)) == 0 && ht_now_ms() < deadline)
        ht_sleep_ms(1);
    ck_assert_msg(rc == HOLLOW_ENOTFOUND, "the watcher's first refresh gave %d", rc);
    HT_OK(hollow_consumer_add_listener(c, fn, payload));
    (void)hollow_consumer_last_error(c, NULL, 0);
}

/* ---------------------------------------------------------- lint */

static int run_lint(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s %s/tools/hollow_lint.py --must-only --dir %s >&2",
             HOLLOW_PYTHON, HOLLOW_TESTS_DIR, dir);
    int st = system(cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ============================================================= e2e */

/*
 * Producer -> filesystem store -> in-process announcer -> a consumer that
 * follows on its own: five versions with changes, each followed by one
 * delta (the listener's plan and per-type changes say so) and equal, by
 * canonical dump, to the version's snapshot read directly. Pinned back to
 * version 2 it walks three reverse deltas and holds exactly version 2's
 * state, ignores a version announced meanwhile, and once unpinned walks
 * four deltas forwards to the latest.
 */
START_TEST(pc_end_to_end_follow_pin_back_and_forth)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 0, true);
    hollow_consumer *c = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, NULL);
    recorder rec;
    recorder_init(&rec);
    add_listener_quiet(c, record_event, &rec);

    const spec specs[6] = {{0, 200, 0, 3, false}, {0, 200, 1, 3, false},
                           {20, 210, 1, 3, false}, {20, 210, 2, 5, false},
                           {40, 150, 3, 5, false}, {0, 250, 4, 1, false}};
    int64_t v[6];
    char *dumps[6] = {0};
    for (int i = 0; i < 5; i++) {
        pop pp;
        memset(&pp, 0, sizeof pp);
        pp.sp = specs[i];
        v[i] = cycle(p, &pp);
        ck_assert_int_eq(v[i], i + 1);
        ck_assert_int_eq(hollow_producer_version(p), v[i]);
        wait_version(c, v[i]);
        hollow_read_state *rs = hollow_consumer_acquire_state(c);
        ck_assert_int_eq(hollow_read_state_version(rs), v[i]);
        char why[256];
        const char *bad = check_state(rs, &specs[i], pp.counts, why, sizeof why);
        ck_assert_msg(bad == NULL, "version %lld: %s", (long long)v[i], bad);
        dumps[i] = dump_state(rs);
        hollow_read_state_release(rs);
        char *snap = dump_snapshot_file(dir, v[i]);
        ck_assert_dump_eq(dumps[i], snap, "followed state vs its snapshot");
        free(snap);
        char plan[128];
        if (i == 0)
            snprintf(plan, sizeof plan, "snapshot-%lld", (long long)v[i]);
        else
            snprintf(plan, sizeof plan, "delta-%lld-%lld", (long long)v[i - 1],
                     (long long)v[i]);
        expect_plan(&rec, v[i], plan);
        ev_rec e;
        ck_assert(recorder_find(&rec, v[i], true, &e));
        ck_assert(e.has_movie);
        size_t added = (size_t)specs[i].count, removed = 0;
        if (i > 0)
            movie_diff(&specs[i - 1], &specs[i], &added, &removed);
        ck_assert_uint_eq(e.movie_added, added);
        ck_assert_uint_eq(e.movie_removed, removed);
        ck_assert_int_eq(e.from, i == 0 ? 0 : v[i - 1]);
        ck_assert(recorder_find(&rec, v[i], false, &e)); /* heard before too */
    }

    /* back to version 2 through reverse deltas */
    HT_OK(hollow_consumer_pin(c, v[1]));
    ck_assert_int_eq(hollow_consumer_version(c), v[1]);
    expect_plan(&rec, v[1], "reversedelta-5-4, reversedelta-4-3, reversedelta-3-2");
    char *back = dump_consumer(c);
    ck_assert_dump_eq(back, dumps[1], "pinned state vs version 2 followed");
    char *snap2 = dump_snapshot_file(dir, v[1]);
    ck_assert_dump_eq(back, snap2, "pinned state vs snapshot-2");
    free(back);
    free(snap2);

    /* while pinned, a new version is announced but not followed */
    v[5] = cycle_spec(p, specs[5]);
    ck_assert_int_eq(v[5], 6);
    HT_OK(hollow_announcer_drain(ann, WAIT_MS));
    ck_assert(hollow__consumer_wait_watcher(c, WAIT_MS)); /* acted on it */
    ck_assert_int_eq(hollow_consumer_version(c), v[1]);
    ck_assert_int_eq(hollow_consumer_last_error(c, NULL, 0), 0);

    /* unpinned, forwards again by deltas */
    HT_OK(hollow_consumer_unpin(c));
    wait_version(c, v[5]);
    expect_plan(&rec, v[5], "delta-2-3, delta-3-4, delta-4-5, delta-5-6");
    char *fwd = dump_consumer(c);
    char *snap6 = dump_snapshot_file(dir, v[5]);
    ck_assert_dump_eq(fwd, snap6, "state after unpin vs snapshot-6");
    free(fwd);
    free(snap6);

    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    for (int i = 0; i < 6; i++)
        free(dumps[i]);
    remove_dir(dir);
}
END_TEST

/*
 * The same with the filesystem announcer: the producer's announcer writes
 * announced.version (the version's digits, no .tmp left behind) and the
 * consumer, watching the directory through an announcer object of its
 * own (as another process would), follows, pins back through reverse
 * deltas and comes forwards again. Snapshots every other version.
 */
START_TEST(pc_end_to_end_fs_announcer_follows_directory)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *pa = fs_announcer(dir);
    hollow_announcer *ca = fs_announcer(dir);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, pa, schemas, 1, true);
    hollow_blobstore *cbs = fs_store(dir); /* the consumer's own store object */
    hollow_consumer *c = consumer_new(cbs, ca, true, HOLLOW_MEMORY_HEAP, NULL);
    recorder rec;
    recorder_init(&rec);
    add_listener_quiet(c, record_event, &rec);

    const spec specs[4] = {{0, 120, 0, 2, false}, {10, 120, 1, 2, false},
                           {10, 130, 2, 0, false}, {0, 100, 3, 4, false}};
    int64_t v[4];
    char *dumps[4];
    for (int i = 0; i < 4; i++) {
        v[i] = cycle_spec(p, specs[i]);
        char *text = read_text_file(dir, "announced.version");
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)v[i]);
        ck_assert_str_eq(text, want);
        free(text);
        ck_assert(!file_exists(dir, "announced.version.tmp"));
        wait_version(c, v[i]);
        dumps[i] = dump_consumer(c);
        ck_assert_int_eq(announced_latest(ca), v[i]);
    }
    expect_plan(&rec, v[0], "snapshot-1");
    expect_plan(&rec, v[3], "delta-3-4");
    /* snapshots at 1 and 3 only */
    ck_assert(file_exists(dir, "snapshot-1") && !file_exists(dir, "snapshot-2") &&
              file_exists(dir, "snapshot-3") && !file_exists(dir, "snapshot-4"));

    HT_OK(hollow_consumer_pin(c, v[0]));
    expect_plan(&rec, v[0], "reversedelta-4-3, reversedelta-3-2, reversedelta-2-1");
    char *d = dump_consumer(c);
    ck_assert_dump_eq(d, dumps[0], "pinned back to version 1");
    free(d);
    HT_OK(hollow_consumer_unpin(c));
    wait_version(c, v[3]);
    expect_plan(&rec, v[3], "delta-1-2, delta-2-3, delta-3-4");
    d = dump_consumer(c);
    ck_assert_dump_eq(d, dumps[3], "forwards again to version 4");
    free(d);

    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_announcer_free(ca);
    hollow_announcer_free(pa);
    hollow_blobstore_free(cbs);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    for (int i = 0; i < 4; i++)
        free(dumps[i]);
    remove_dir(dir);
}
END_TEST

/* ============================================ empty and unchanged */

static int populate_nothing(hollow_write_state *ws, void *payload)
{
    (void)ws;
    (void)payload;
    return 0;
}

/*
 * An empty first cycle returns 0 and publishes nothing (the directory
 * stays empty, nothing is announced); a cycle with the same data - even
 * added in another order - returns the previous version and writes
 * nothing; a cycle that removes every record is a change (a version with
 * empty types, which a consumer loads).
 */
START_TEST(producer_empty_and_unchanged_cycles_publish_nothing)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 0, true);

    for (int i = 0; i < 2; i++) {
        int64_t v = -1;
        HT_OK(hollow_producer_run_cycle(&v, p, populate_nothing, NULL));
        ck_assert_int_eq(v, 0);
    }
    ck_assert_int_eq(hollow_producer_version(p), 0);
    ck_assert_ptr_null(hollow_producer_acquire_state(p));
    char *l0 = dir_listing(dir);
    ck_assert_str_eq(l0, "");
    free(l0);
    ck_assert_int_eq(announced_latest(ann), HOLLOW_ENOTFOUND);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, ann));
    ck_assert_uint_eq(st.announced, 0);

    spec a = {0, 80, 1, 2, false};
    int64_t v1 = cycle_spec(p, a);
    ck_assert_int_eq(v1, 1);
    char *l1 = dir_listing(dir);
    ck_assert_str_eq(l1, "header-1 snapshot-1");
    int64_t again = cycle_spec(p, a);
    ck_assert_int_eq(again, v1);
    spec a_rev = a;
    a_rev.reverse = true;
    again = cycle_spec(p, a_rev);
    ck_assert_int_eq(again, v1);
    char *l1b = dir_listing(dir);
    ck_assert_str_eq(l1b, l1);
    HT_OK(hollow_announcer_stats_get(&st, ann));
    ck_assert_uint_eq(st.announced, 1);
    ck_assert_int_eq(announced_latest(ann), v1);
    ck_assert_int_eq(hollow_producer_version(p), v1);

    spec b = {5, 80, 1, 2, false};
    int64_t v2 = cycle_spec(p, b);
    ck_assert_int_eq(v2, 2);
    char *l2 = dir_listing(dir);
    ck_assert_str_eq(l2, "delta-1-2 header-1 header-2 reversedelta-2-1 "
                         "snapshot-1 snapshot-2");

    /* every record removed: a change, published as an empty version */
    int64_t v3 = -1;
    HT_OK(hollow_producer_run_cycle(&v3, p, populate_nothing, NULL));
    ck_assert_int_eq(v3, 3);
    ck_assert(file_exists(dir, "delta-2-3") && file_exists(dir, "snapshot-3"));
    hollow_consumer *c = consumer_new(bs, ann, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST));
    ck_assert_int_eq(hollow_consumer_version(c), 3);
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    for (int t = 0; t < T_COUNT; t++)
        ck_assert_uint_eq(record_count(rs, type_names[t]), 0);
    hollow_read_state_release(rs);
    /* and empty again is unchanged */
    int64_t v4 = -1;
    HT_OK(hollow_producer_run_cycle(&v4, p, populate_nothing, NULL));
    ck_assert_int_eq(v4, 3);
    HT_OK(hollow_announcer_stats_get(&st, ann));
    ck_assert_uint_eq(st.announced, 3);

    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    free(l1);
    free(l1b);
    free(l2);
    remove_dir(dir);
}
END_TEST

/* ============================================ validators, rollback */

typedef struct vctx {
    atomic_bool fail;
    int calls;
    int64_t seen_version;
    int64_t seen_state_version;
    size_t seen_movies;
} vctx;

static int validator(const hollow_read_state *state, int64_t version, char *why,
                     size_t cap, void *payload)
{
    vctx *x = payload;
    x->calls++;
    x->seen_version = version;
    x->seen_state_version = hollow_read_state_version(state);
    const hollow_type *t = hollow_read_state_type(state, "Movie");
    x->seen_movies = t ? hollow_type_record_count(t) : 0;
    if (atomic_load(&x->fail)) {
        snprintf(why, cap, "too few movies (%zu)", x->seen_movies);
        return 1;
    }
    return 0;
}

/*
 * A failing validator (it sees the new state as a consumer would) fails
 * the cycle: nothing is written, nothing is announced, the consumer stays
 * where it was, the producer's version is the last announced one; a
 * failing populate likewise. The next good cycle then publishes a delta
 * from the last announced version which a following consumer applies,
 * giving exactly the snapshot's state (so the rollback left nothing of the
 * failed cycle's records in the write state).
 */
START_TEST(producer_validator_failure_rolls_back_announces_nothing)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 0, true);
    vctx *vx = calloc(1, sizeof *vx);
    atomic_init(&vx->fail, false);
    HT_OK(hollow_producer_add_validator(p, validator, vx));
    hollow_consumer *c = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, NULL);
    recorder rec;
    recorder_init(&rec);
    add_listener_quiet(c, record_event, &rec);

    int64_t v1 = cycle_spec(p, (spec){0, 100, 0, 2, false});
    int64_t v2 = cycle_spec(p, (spec){0, 100, 1, 2, false});
    ck_assert_int_eq(v2, 2);
    wait_version(c, v2);
    ck_assert_int_eq(vx->calls, 2);
    char *before = dir_listing(dir);
    char *consumer_before = dump_consumer(c);

    /* the failing cycle: new movies 1000.., others changed */
    atomic_store(&vx->fail, true);
    pop bad;
    memset(&bad, 0, sizeof bad);
    bad.sp = (spec){1000, 40, 7, 9, false};
    int64_t v = -1;
    int rc = hollow_producer_run_cycle(&v, p, populate, &bad);
    ck_assert_int_eq(rc, HOLLOW_ERROR);
    const char *msg = hollow_error_last()->message;
    ck_assert_msg(strstr(msg, "validator 1 failed for version 3") &&
                      strstr(msg, "too few movies (40)"),
                  "message: %s", msg);
    ck_assert_int_eq(v, v2);
    ck_assert_int_eq(vx->seen_version, 3);
    ck_assert_int_eq(vx->seen_state_version, 3);
    ck_assert_uint_eq(vx->seen_movies, 40);
    char *after = dir_listing(dir);
    ck_assert_str_eq(after, before);
    free(after);
    ck_assert_int_eq(hollow_producer_version(p), v2);
    hollow_read_state *ps = hollow_producer_acquire_state(p);
    ck_assert_int_eq(hollow_read_state_version(ps), v2);
    ck_assert_uint_eq(record_count(ps, "Movie"), 100);
    hollow_read_state_release(ps);
    ck_assert_int_eq(announced_latest(ann), v2);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, ann));
    ck_assert_uint_eq(st.announced, 2);

    /* a failing populate: its code comes back, nothing is written */
    atomic_store(&vx->fail, false);
    bad.fail = HOLLOW_EUSER;
    rc = hollow_producer_run_cycle(&v, p, populate, &bad);
    ck_assert_int_eq(rc, HOLLOW_EUSER);
    ck_assert_int_eq(v, v2);
    after = dir_listing(dir);
    ck_assert_str_eq(after, before);
    free(after);
    HT_OK(hollow_announcer_drain(ann, WAIT_MS));
    ck_assert(hollow__consumer_wait_watcher(c, WAIT_MS)); /* acted on it */
    ck_assert_int_eq(hollow_consumer_version(c), v2);
    char *consumer_after = dump_consumer(c);
    ck_assert_dump_eq(consumer_after, consumer_before, "consumer after rollbacks");
    free(consumer_after);

    /* the next good cycle shares movies with the failed one's ids */
    spec good = {990, 30, 2, 1, false};
    pop gp;
    memset(&gp, 0, sizeof gp);
    gp.sp = good;
    int64_t v3 = cycle(p, &gp);
    ck_assert_int_eq(v3, 3);
    ck_assert(file_exists(dir, "delta-2-3") && file_exists(dir, "reversedelta-3-2"));
    wait_version(c, v3);
    expect_plan(&rec, v3, "delta-2-3");
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    char why[256];
    const char *badmsg = check_state(rs, &good, gp.counts, why, sizeof why);
    ck_assert_msg(badmsg == NULL, "%s", badmsg);
    char *d3 = dump_state(rs);
    hollow_read_state_release(rs);
    char *s3 = dump_snapshot_file(dir, v3);
    ck_assert_dump_eq(d3, s3, "after the rollback, version 3 by delta");
    free(d3);
    free(s3);
    (void)v1;

    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    free(vx);
    free(before);
    free(consumer_before);
    remove_dir(dir);
}
END_TEST

/* ===================================================== restore */

/*
 * Producer A publishes three versions (default minter, a snapshot only at
 * the first) into a directory with the filesystem announcer, and is freed.
 * Producer B, with store and announcer objects of its own over the same
 * directory, restores the announced version: it holds A's last state; its
 * next cycle publishes delta-<A's last>-<B's first> (no snapshot), the
 * chain counter goes on, a consumer that followed A applies that delta,
 * and every unchanged movie keeps its ordinal. The directory lints clean.
 */
START_TEST(producer_restore_after_restart_continues_chain_with_delta)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *cbs = fs_store(dir);
    hollow_announcer *ca = fs_announcer(dir);
    hollow_consumer *c = consumer_new(cbs, ca, true, HOLLOW_MEMORY_HEAP, NULL);
    recorder rec;
    recorder_init(&rec);
    add_listener_quiet(c, record_event, &rec);

    hollow_blobstore *abs_ = fs_store(dir);
    hollow_announcer *aa = fs_announcer(dir);
    hollow_producer *a = producer_new(abs_, aa, schemas, 3, false);
    const spec specs[4] = {{0, 150, 0, 2, false}, {10, 150, 1, 2, false},
                           {10, 160, 2, 3, false}, {15, 160, 3, 3, false}};
    int64_t av[3];
    for (int i = 0; i < 3; i++) {
        av[i] = cycle_spec(a, specs[i]);
        ck_assert(i == 0 || av[i] > av[i - 1]);
        wait_version(c, av[i]);
    }
    for (int i = 1; i < 3; i++) { /* a snapshot at A's first version only */
        char sn[HOLLOW_BLOB_NAME_MAX];
        key_name(sn, sizeof sn, hollow_blob_key_snapshot(av[i]));
        ck_assert_msg(!file_exists(dir, sn), "%s: no snapshot was due", sn);
    }
    hollow_read_state *as = hollow_producer_acquire_state(a);
    hollow_ordinal *aord = malloc(MAX_ORD * sizeof *aord);
    movie_ordinals(aord, as);
    const char *ctag = hollow_read_state_header_tag(as,
                                                    "hollow.delta.chain.version.counter");
    ck_assert_ptr_nonnull(ctag);
    long long a_counter = atoll(ctag);
    ck_assert_int_eq(a_counter, 3);
    char *a_dump = dump_state(as);
    hollow_read_state_release(as);
    hollow_producer_free(a);
    hollow_announcer_free(aa);
    hollow_blobstore_free(abs_);

    /* the restart */
    hollow_blobstore *bbs = fs_store(dir);
    hollow_announcer *ba = fs_announcer(dir);
    hollow_producer *b = producer_new(bbs, ba, schemas, 3, false);
    HT_OK(hollow_producer_restore(b, HOLLOW_VERSION_LATEST));
    ck_assert_int_eq(hollow_producer_version(b), av[2]);
    hollow_read_state *bs0 = hollow_producer_acquire_state(b);
    char *b_dump = dump_state(bs0);
    hollow_read_state_release(bs0);
    ck_assert_dump_eq(b_dump, a_dump, "restored state vs A's last");
    free(b_dump);
    ck_assert_int_eq(hollow_producer_restore(b, HOLLOW_VERSION_LATEST), HOLLOW_ESTATE);

    int64_t bv = cycle_spec(b, specs[3]);
    ck_assert_int_gt(bv, av[2]);
    char name[HOLLOW_BLOB_NAME_MAX];
    key_name(name, sizeof name, hollow_blob_key_delta(av[2], bv));
    ck_assert_msg(file_exists(dir, name), "%s is missing", name);
    key_name(name, sizeof name, hollow_blob_key_reverse_delta(bv, av[2]));
    ck_assert_msg(file_exists(dir, name), "%s is missing", name);
    key_name(name, sizeof name, hollow_blob_key_snapshot(bv));
    ck_assert_msg(!file_exists(dir, name), "%s: no snapshot was due", name);

    wait_version(c, bv);
    char plan[128];
    snprintf(plan, sizeof plan, "delta-%lld-%lld", (long long)av[2], (long long)bv);
    expect_plan(&rec, bv, plan);
    ev_rec e;
    ck_assert(recorder_find(&rec, bv, true, &e));
    size_t added, removed;
    movie_diff(&specs[2], &specs[3], &added, &removed);
    ck_assert_uint_eq(e.movie_added, added);
    ck_assert_uint_eq(e.movie_removed, removed);

    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    hollow_ordinal *bord = malloc(MAX_ORD * sizeof *bord);
    movie_ordinals(bord, rs);
    int kept = 0;
    for (int id = specs[3].first; id < specs[2].first + specs[2].count; id++) {
        char t2[64], t3[64];
        movie_title(t2, sizeof t2, id, specs[2].rev);
        movie_title(t3, sizeof t3, id, specs[3].rev);
        if (strcmp(t2, t3) != 0)
            continue;
        ck_assert_msg(aord[id] >= 0 && bord[id] == aord[id],
                      "movie %d: ordinal %d before the restart, %d after", id,
                      aord[id], bord[id]);
        kept++;
    }
    ck_assert_int_gt(kept, 100);
    const char *btag = hollow_read_state_header_tag(rs,
                                                    "hollow.delta.chain.version.counter");
    ck_assert_ptr_nonnull(btag);
    ck_assert_int_eq(atoll(btag), a_counter + 1);
    hollow_read_state_release(rs);

    int64_t bv2 = cycle_spec(b, (spec){15, 160, 4, 3, false});
    wait_version(c, bv2);
    snprintf(plan, sizeof plan, "delta-%lld-%lld", (long long)bv, (long long)bv2);
    expect_plan(&rec, bv2, plan);
    /* B's version after the restore is its first snapshot since: none yet,
     * the next after 3 more versions; a fresh consumer needs A's snapshot */
    hollow_consumer *fresh = consumer_new(cbs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(fresh, bv2));
    char *fd = dump_consumer(fresh);
    char *cd = dump_consumer(c);
    ck_assert_dump_eq(fd, cd, "fresh consumer vs follower");
    free(fd);
    free(cd);
    hollow_consumer_free(fresh);

    ck_assert_int_eq(run_lint(dir), 0);

    hollow_producer_free(b);
    hollow_announcer_free(ba);
    hollow_blobstore_free(bbs);
    hollow_consumer_free(c);
    hollow_announcer_free(ca);
    hollow_blobstore_free(cbs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    free(aord);
    free(bord);
    free(a_dump);
    remove_dir(dir);
}
END_TEST

/* ======================================================= leases */

/* previous + 1, but above *floor: a producer taking over without
 * restoring (see producer_restore_after_restart_continues_chain_with_delta)
 * continues the version numbers of the one before it */
static int64_t floor_minter(int64_t previous, void *payload)
{
    int64_t floor = atomic_load((atomic_llong *)payload);
    return (previous > floor ? previous : floor) + 1;
}

static hollow_producer *leased_producer(hollow_blobstore *bs, hollow_announcer *a,
                                        const hollow_schema_list *schemas,
                                        const char *owner, int64_t ttl_ms,
                                        atomic_llong *floor)
{
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = a;
    po.schemas = schemas;
    po.minter = floor_minter;
    po.minter_payload = floor;
    po.lease_ttl_ms = ttl_ms;
    po.lease_owner = owner;
    hollow_producer *p = NULL;
    HT_OK(hollow_producer_new(&p, &po));
    return p;
}

/*
 * In-process announcer: producer p1 takes the lease with its first cycle;
 * p2's cycles fail with HOLLOW_ESTATE naming the holder, write and
 * announce nothing, and p2 is not primary - also after several lease
 * lifetimes, because p1's renewer keeps the lease. Once p1 is freed (the
 * lease released) p2 publishes and announces at once, without waiting for
 * an expiry. (p2 does not restore first: restore is covered, and found
 * broken, by producer_restore_after_restart_continues_chain_with_delta.)
 */
#define TTL_LONG 600000 /* ms: a lease that only the lease clock expires */

START_TEST(producer_lease_inproc_only_primary_announces)
{
    hollow_blobstore *bs = mem_store();
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    atomic_llong floor1, floor2;
    atomic_init(&floor1, 0);
    atomic_init(&floor2, 0);
    hollow_producer *p1 = leased_producer(bs, ann, schemas, "producer-one",
                                          TTL_LONG, &floor1);
    hollow_producer *p2 = leased_producer(bs, ann, schemas, "producer-two",
                                          TTL_LONG, &floor2);

    int64_t v1 = cycle_spec(p1, (spec){0, 50, 0, 1, false});
    ck_assert_int_eq(v1, 1);
    ck_assert(hollow_producer_is_primary(p1));
    char *l1 = store_listing(bs);

    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){0, 60, 1, 1, false};
    int64_t v = -1;
    int rc = hollow_producer_run_cycle(&v, p2, populate, &pp);
    ck_assert_int_eq(rc, HOLLOW_ESTATE);
    ck_assert_msg(strstr(hollow_error_last()->message, "producer-one") != NULL,
                  "message: %s", hollow_error_last()->message);
    ck_assert_int_eq(v, 0);
    ck_assert(!hollow_producer_is_primary(p2));

    /* > 3 lifetimes on the lease clock, in steps of the renewer's period:
     * only renewing keeps p1's lease. A lifetime far longer than WAIT_MS:
     * a renewer that waited for real time instead would fail the wait. */
    hollow__lease *lease1 = hollow__producer_lease(p1);
    ck_assert_ptr_nonnull(lease1);
    for (int i = 0; i < 10; i++) {
        uint64_t n = hollow__lease_renewals(lease1);
        hollow__clock_advance_ms(TTL_LONG / 3 + 1);
        ck_assert_msg(hollow__lease_wait_renewals(lease1, n + 1, WAIT_MS),
                      "step %d: p1's renewer did not renew", i);
    }
    rc = hollow_producer_run_cycle(&v, p2, populate, &pp);
    ck_assert_int_eq(rc, HOLLOW_ESTATE);
    ck_assert(hollow_producer_is_primary(p1));
    char *l1b = store_listing(bs);
    ck_assert_str_eq(l1b, l1);
    ck_assert_int_eq(announced_latest(ann), v1);

    int64_t v2 = cycle_spec(p1, (spec){0, 50, 2, 1, false});
    ck_assert_int_eq(v2, 2);
    hollow_producer_free(p1);

    atomic_store(&floor2, announced_latest(ann));
    int64_t v3 = -1;
    HT_OK(hollow_producer_run_cycle(&v3, p2, populate, &pp));
    ck_assert_int_eq(v3, 3);
    ck_assert(hollow_producer_is_primary(p2));
    ck_assert(has_blob(bs, hollow_blob_key_snapshot(3)));
    ck_assert_int_eq(announced_latest(ann), 3);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, ann));
    ck_assert_uint_eq(st.announced, 3);

    hollow_producer_free(p2);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    free(l1);
    free(l1b);
}
END_TEST

typedef struct racer {
    hollow_producer *p;
    pthread_barrier_t *start;
    int rc;
    int64_t version;
    char msg[256];
} racer;

static void *race_cycle(void *arg)
{
    racer *r = arg;
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){0, 40, 0, 1, false};
    pthread_barrier_wait(r->start);
    r->rc = hollow_producer_run_cycle(&r->version, r->p, populate, &pp);
    snprintf(r->msg, sizeof r->msg, "%s", r->rc < 0 ? hollow_error_last()->message : "");
    return NULL;
}

/*
 * Filesystem announcers: two producers, each with its own store and
 * announcer objects over one directory (as two processes would), start
 * their first cycle at the same moment. Exactly one publishes and
 * announces; the other gets HOLLOW_ESTATE and is not primary; the lease
 * file names the winner. When the winner is freed the other takes the
 * lease over and announces at once. Three rounds, fresh directories.
 */
START_TEST(producer_lease_fs_race_only_one_announces)
{
    hollow_schema_list *schemas = schemas_new();
    for (int round = 0; round < 3; round++) {
        char dir[512];
        make_tmpdir(dir, sizeof dir);
        hollow_blobstore *bs[2];
        hollow_announcer *an[2];
        racer r[2];
        pthread_t th[2];
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        static const char *const owners[2] = {"racer-0", "racer-1"};
        atomic_llong floors[2];
        atomic_init(&floors[0], 0);
        atomic_init(&floors[1], 0);
        for (int i = 0; i < 2; i++) {
            bs[i] = fs_store(dir);
            an[i] = fs_announcer(dir);
            memset(&r[i], 0, sizeof r[i]);
            r[i].p = leased_producer(bs[i], an[i], schemas, owners[i], 5000,
                                     &floors[i]);
            r[i].start = &start;
        }
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(pthread_create(&th[i], NULL, race_cycle, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        int wins = (r[0].rc == 0) + (r[1].rc == 0);
        ck_assert_msg(wins == 1, "round %d: %d winners (%d: %s / %d: %s)", round,
                      wins, r[0].rc, r[0].msg, r[1].rc, r[1].msg);
        int w = r[0].rc == 0 ? 0 : 1, l = 1 - w;
        ck_assert_int_eq(r[l].rc, HOLLOW_ESTATE);
        ck_assert_int_eq(r[w].version, 1);
        ck_assert_int_eq(r[l].version, 0);
        ck_assert(hollow_producer_is_primary(r[w].p));
        ck_assert(!hollow_producer_is_primary(r[l].p));
        char *lease = read_text_file(dir, ".hollow-producer.lease");
        ck_assert_msg(strstr(lease, owners[w]) != NULL, "lease file: %s", lease);
        free(lease);
        char *text = read_text_file(dir, "announced.version");
        ck_assert_str_eq(text, "1");
        free(text);
        char *ls = dir_listing(dir);
        ck_assert_str_eq(ls, ".hollow-producer.lease announced.version header-1 "
                             "snapshot-1");
        free(ls);

        hollow_producer_free(r[w].p);
        atomic_store(&floors[l], announced_latest(an[l]));
        int64_t v2 = cycle_spec(r[l].p, (spec){0, 45, 1, 1, false});
        ck_assert_int_eq(v2, 2);
        ck_assert(hollow_producer_is_primary(r[l].p));
        ck_assert(file_exists(dir, "snapshot-2"));
        text = read_text_file(dir, "announced.version");
        ck_assert_str_eq(text, "2");
        free(text);
        lease = read_text_file(dir, ".hollow-producer.lease");
        ck_assert_msg(strstr(lease, owners[l]) != NULL, "lease file: %s", lease);
        free(lease);
        hollow_producer_free(r[l].p);
        for (int i = 0; i < 2; i++) {
            hollow_announcer_free(an[i]);
            hollow_blobstore_free(bs[i]);
        }
        remove_dir(dir);
    }
    hollow_schema_list_free(schemas);
}
END_TEST

typedef struct steal {
    pop pp;
    hollow_announcer *a;
} steal;

/* populate, while another owner takes the lease away (p1 was partitioned
 * away past its lease's expiry, say) */
static int populate_and_lose_lease(hollow_write_state *ws, void *payload)
{
    steal *s = payload;
    int rc = HOLLOW_ESTATE;
    /* the owner is "producer-one#<token>": learn it from a refused acquire;
     * p1's renewer may renew between the two calls: try again */
    for (int i = 0; i < 100 && rc == HOLLOW_ESTATE; i++) {
        char holder[HOLLOW_LEASE_OWNER_MAX] = "";
        rc = hollow_announcer_lease(s->a, HOLLOW_LEASE_ACQUIRE, "intruder",
                                    60000, holder, sizeof holder);
        if (rc == 0)
            break;
        if (strncmp(holder, "producer-one#", 13) != 0)
            return HOLLOW_ERROR;
        rc = hollow_announcer_lease(s->a, HOLLOW_LEASE_RELEASE, holder, 300,
                                    NULL, 0);
        if (rc == 0)
            rc = hollow_announcer_lease(s->a, HOLLOW_LEASE_ACQUIRE, "intruder",
                                        60000, NULL, 0);
    }
    if (rc < 0)
        return rc;
    return populate(ws, &s->pp);
}

/*
 * The lease is checked again right before announcing: a producer whose
 * lease was taken by another owner during its cycle announces nothing
 * (HOLLOW_ESTATE), keeps its last announced version and is no longer
 * primary.
 */
START_TEST(producer_lease_lost_mid_cycle_announces_nothing)
{
    hollow_blobstore *bs = mem_store();
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    atomic_llong floor;
    atomic_init(&floor, 0);
    hollow_producer *p1 = leased_producer(bs, ann, schemas, "producer-one", 300,
                                          &floor);
    int64_t v1 = cycle_spec(p1, (spec){0, 30, 0, 1, false});
    steal s;
    memset(&s, 0, sizeof s);
    s.pp.sp = (spec){0, 30, 1, 1, false};
    s.a = ann;
    int64_t v = -1;
    int rc = hollow_producer_run_cycle(&v, p1, populate_and_lose_lease, &s);
    ck_assert_int_eq(rc, HOLLOW_ESTATE);
    ck_assert_msg(strstr(hollow_error_last()->message, "lost its lease") != NULL,
                  "message: %s", hollow_error_last()->message);
    ck_assert_int_eq(v, v1);
    ck_assert_int_eq(hollow_producer_version(p1), v1);
    ck_assert_int_eq(announced_latest(ann), v1);
    ck_assert(!hollow_producer_is_primary(p1));
    rc = hollow_producer_run_cycle(&v, p1, populate, &s.pp);
    ck_assert_int_eq(rc, HOLLOW_ESTATE);
    hollow_producer_free(p1);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* ================================== eight consumer threads, TSan */

#define READERS 8
#define MAX_VERSIONS 64

typedef struct expected {
    bool set;
    spec sp;
    size_t counts[T_COUNT];
} expected;

typedef struct follow_ctx {
    pthread_mutex_t mu;
    expected table[MAX_VERSIONS]; /* by version (counter minter) */
    pop *current;                 /* the cycle running (producer thread) */
    atomic_llong final_version;   /* set after the last cycle */
    hollow_blobstore *bs;
    hollow_announcer *ann;
    hollow_consumer *shared;
    atomic_int failures;
    char failure[512];
    atomic_int most_versions; /* most distinct versions one reader saw */
} follow_ctx;

/* the producer records what it publishes before it is announced */
static int record_expected(const hollow_read_state *state, int64_t version,
                           char *why, size_t cap, void *payload)
{
    (void)state;
    follow_ctx *x = payload;
    if (version <= 0 || version >= MAX_VERSIONS) {
        snprintf(why, cap, "version %lld out of the table", (long long)version);
        return 1;
    }
    pthread_mutex_lock(&x->mu);
    x->table[version].set = true;
    x->table[version].sp = x->current->sp;
    memcpy(x->table[version].counts, x->current->counts, sizeof x->current->counts);
    pthread_mutex_unlock(&x->mu);
    return 0;
}

static void follow_fail(follow_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void follow_fail(follow_ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&x->mu);
    if (atomic_fetch_add(&x->failures, 1) == 0)
        vsnprintf(x->failure, sizeof x->failure, fmt, ap);
    pthread_mutex_unlock(&x->mu);
    va_end(ap);
}

/* read one pinned state through and through; false on a failure */
static bool check_pinned(follow_ctx *x, hollow_read_state *rs, int64_t *last,
                         int *distinct)
{
    int64_t v = hollow_read_state_version(rs);
    if (v < *last) {
        follow_fail(x, "went back from a later version to %lld", (long long)v);
        return false;
    }
    *distinct += v != *last;
    *last = v;
    expected e;
    pthread_mutex_lock(&x->mu);
    e = v > 0 && v < MAX_VERSIONS ? x->table[v] : (expected){0};
    pthread_mutex_unlock(&x->mu);
    if (!e.set) {
        follow_fail(x, "version %lld was never recorded by the producer",
                    (long long)v);
        return false;
    }
    char why[256];
    const char *bad = check_state(rs, &e.sp, e.counts, why, sizeof why);
    if (bad != NULL) {
        follow_fail(x, "version %lld: %s", (long long)v, bad);
        return false;
    }
    return true;
}

static void *reader_main(void *arg)
{
    follow_ctx *x = arg;
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = x->bs;
    co.announcer = x->ann;
    co.follow = true;
    hollow_consumer *own = NULL;
    if (hollow_consumer_new(&own, &co) < 0) {
        follow_fail(x, "consumer_new: %s", hollow_error_last()->message);
        return NULL;
    }
    int64_t last_own = 0, last_shared = 0;
    int seen_own = 0, seen_shared = 0;
    int64_t deadline = ht_now_ms() + 120000;
    long reads = 0;
    for (;;) {
        long long fin = atomic_load(&x->final_version);
        bool done_own = fin > 0 && last_own == fin;
        bool done_shared = fin > 0 && last_shared == fin;
        if ((done_own && done_shared) || atomic_load(&x->failures) > 0)
            break;
        if (ht_now_ms() > deadline) {
            follow_fail(x, "timed out at versions %lld (own) and %lld (shared)",
                        (long long)last_own, (long long)last_shared);
            break;
        }
        hollow_read_state *a = hollow_consumer_acquire_state(own);
        hollow_read_state *b = hollow_consumer_acquire_state(x->shared);
        bool ok = true;
        if (a != NULL)
            ok = check_pinned(x, a, &last_own, &seen_own);
        /* hold `a` pinned while reading `b`: the watchers move on meanwhile */
        if (ok && b != NULL)
            ok = check_pinned(x, b, &last_shared, &seen_shared);
        if (ok && a != NULL) /* and `a` is still whole afterwards */
            ok = check_pinned(x, a, &last_own, &seen_own);
        hollow_read_state_release(a);
        hollow_read_state_release(b);
        reads++;
        if (a == NULL || b == NULL)
            ht_sleep_ms(1);
        if (!ok)
            break;
    }
    hollow_consumer_free(own);
    int most = seen_own > seen_shared ? seen_own : seen_shared;
    int prev = atomic_load(&x->most_versions);
    while (most > prev && !atomic_compare_exchange_weak(&x->most_versions, &prev, most))
        ;
    if (reads == 0)
        follow_fail(x, "a reader read nothing");
    return NULL;
}

/*
 * Eight reader threads, each following the producer with a consumer of
 * its own and all reading one shared following consumer, read every
 * record of every state they pin - and keep reading a pinned state while
 * the watchers publish newer ones - while the producer publishes 16
 * versions (snapshots every third). Every state read holds exactly what
 * the producer recorded for that version before announcing it; versions
 * never go backwards; every reader reaches the last version.
 */
START_TEST(pc_eight_consumer_threads_follow_while_reading_pinned_states)
{
    follow_ctx *x = calloc(1, sizeof *x);
    pthread_mutex_init(&x->mu, NULL);
    atomic_init(&x->final_version, 0);
    atomic_init(&x->failures, 0);
    atomic_init(&x->most_versions, 0);
    x->bs = mem_store();
    x->ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(x->bs, x->ann, schemas, 2, true);
    HT_OK(hollow_producer_add_validator(p, record_expected, x));
    x->shared = consumer_new(x->bs, x->ann, true, HOLLOW_MEMORY_HEAP, NULL);

    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader_main, x), 0);

    int64_t last = 0;
    for (int i = 0; i < 16; i++) {
        pop pp;
        memset(&pp, 0, sizeof pp);
        pp.sp = (spec){(i * 7) % 50, 150 + (i % 4) * 20, i, i % 5, false};
        pthread_mutex_lock(&x->mu);
        x->current = &pp;
        pthread_mutex_unlock(&x->mu);
        last = cycle(p, &pp);
        ck_assert_int_eq(last, i + 1);
        ht_sleep_ms(i % 3 == 0 ? 20 : 2);
    }
    atomic_store(&x->final_version, last);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);
    ck_assert_msg(atomic_load(&x->failures) == 0, "%d failures; first: %s",
                  atomic_load(&x->failures), x->failure);
    ck_assert_int_eq(hollow_consumer_version(x->shared), last);
    /* the readers did read while versions changed under them */
    ck_assert_int_ge(atomic_load(&x->most_versions), 2);

    hollow_consumer_free(x->shared);
    hollow_producer_free(p);
    hollow_announcer_free(x->ann);
    hollow_blobstore_free(x->bs);
    hollow_schema_list_free(schemas);
    pthread_mutex_destroy(&x->mu);
    free(x);
}
END_TEST

/* ====================================================== type filter */

/*
 * A consumer with type_filter {"Movie"} holds Movie and what it
 * references (ListOfActor, Actor, Studio) but not Award; it follows by
 * deltas - also a version that changes only Award, the filtered-out type
 * - and its Movie records equal an unfiltered follower's, deep dump for
 * deep dump, at every version.
 */
START_TEST(consumer_type_filter_loads_references_and_follows_deltas)
{
    hollow_blobstore *bs = mem_store();
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 10, true);
    static const char *const filter[] = {"Movie", NULL};
    hollow_consumer *fc = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, filter);
    hollow_consumer *uc = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, NULL);
    recorder rec;
    recorder_init(&rec);
    add_listener_quiet(fc, record_event, &rec);

    const spec specs[5] = {{0, 100, 0, 3, false}, {0, 100, 1, 3, false},
                           {0, 100, 1, 8, false} /* only Award changes */,
                           {30, 90, 2, 8, false}, {30, 90, 2, 0, false}};
    int64_t prev = 0;
    for (int i = 0; i < 5; i++) {
        int64_t v = cycle_spec(p, specs[i]);
        ck_assert_int_eq(v, i + 1);
        wait_version(fc, v);
        wait_version(uc, v);
        char plan[64];
        if (i == 0)
            snprintf(plan, sizeof plan, "snapshot-1");
        else
            snprintf(plan, sizeof plan, "delta-%lld-%lld", (long long)prev,
                     (long long)v);
        expect_plan(&rec, v, plan);
        hollow_read_state *f = hollow_consumer_acquire_state(fc);
        hollow_read_state *u = hollow_consumer_acquire_state(uc);
        ck_assert_uint_eq(hollow_read_state_type_count(f), 4);
        ck_assert_ptr_null(hollow_read_state_type(f, "Award"));
        for (int t = 0; t < T_COUNT; t++) {
            if (t == T_AWARD)
                continue;
            ck_assert_msg(hollow_read_state_type(f, type_names[t]) != NULL,
                          "no %s", type_names[t]);
            ck_assert_uint_eq(record_count(f, type_names[t]),
                              record_count(u, type_names[t]));
        }
        ck_assert_uint_eq(record_count(f, "Movie"), (size_t)specs[i].count);
        ck_assert_uint_eq(record_count(u, "Award"), (size_t)specs[i].awards);
        char *fd = dump_deep(f, "Movie");
        char *ud = dump_deep(u, "Movie");
        ck_assert_dump_eq(fd, ud, "deep Movie dump, filtered vs not");
        free(fd);
        free(ud);
        hollow_read_state_release(f);
        hollow_read_state_release(u);
        prev = v;
    }

    hollow_consumer_free(fc);
    hollow_consumer_free(uc);
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
}
END_TEST

/* ============================================================ mmap */

/*
 * A consumer in mmap mode follows six versions (snapshots at 1, 3, 5)
 * over the filesystem store beside a heap consumer: at every version the
 * canonical dumps are equal. Pinned back to version 1 (reverse deltas over
 * mapped shards) it equals version 1 again. A late mmap consumer starts
 * from snapshot-5 and applies delta-5-6, and a snapshot loaded in mmap
 * mode holds less heap memory than the same snapshot in heap mode.
 */
START_TEST(consumer_mmap_follows_chain_same_as_heap)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 1, true);
    hollow_consumer *mc = consumer_new(bs, ann, true, HOLLOW_MEMORY_MMAP, NULL);
    hollow_consumer *hc = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, NULL);
    recorder rec;
    recorder_init(&rec);
    add_listener_quiet(mc, record_event, &rec);

    char *first = NULL;
    for (int i = 0; i < 6; i++) {
        int64_t v = cycle_spec(p, (spec){i * 5, 300 + i * 10, i, i % 3, false});
        ck_assert_int_eq(v, i + 1);
        wait_version(mc, v);
        wait_version(hc, v);
        char *md = dump_consumer(mc);
        char *hd = dump_consumer(hc);
        ck_assert_dump_eq(md, hd, "mmap vs heap");
        if (i % 2 == 0) {
            char *sd = dump_snapshot_file(dir, v);
            ck_assert_dump_eq(md, sd, "mmap vs the snapshot file");
            free(sd);
        }
        if (i == 0)
            first = md;
        else
            free(md);
        free(hd);
    }
    expect_plan(&rec, 6, "delta-5-6");

    HT_OK(hollow_consumer_pin(mc, 1));
    expect_plan(&rec, 1, "reversedelta-6-5, reversedelta-5-4, reversedelta-4-3, "
                         "reversedelta-3-2, reversedelta-2-1");
    char *back = dump_consumer(mc);
    ck_assert_dump_eq(back, first, "mmap pinned back to version 1");
    free(back);
    HT_OK(hollow_consumer_unpin(mc));
    wait_version(mc, 6);

    hollow_consumer *late = consumer_new(bs, ann, true, HOLLOW_MEMORY_MMAP, NULL);
    /* something is announced already: the watcher may be refreshing, so
     * no listener here (see consumer_listener_added_while_following) */
    wait_version(late, 6);
    char *ld = dump_consumer(late);
    char *hd = dump_consumer(hc);
    ck_assert_dump_eq(ld, hd, "late mmap consumer");
    free(ld);
    free(hd);
    hollow_consumer_free(late);

    hollow_consumer *m5 = consumer_new(bs, NULL, false, HOLLOW_MEMORY_MMAP, NULL);
    hollow_consumer *h5 = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(m5, 5));
    HT_OK(hollow_consumer_refresh(h5, 5));
    hollow_read_state *ms = hollow_consumer_acquire_state(m5);
    hollow_read_state *hs = hollow_consumer_acquire_state(h5);
    size_t mm = hollow_read_state_memory(ms), hm = hollow_read_state_memory(hs);
    ck_assert_msg(mm < hm, "mmap state holds %zu bytes, heap state %zu", mm, hm);
    hollow_read_state_release(ms);
    hollow_read_state_release(hs);
    hollow_consumer_free(m5);
    hollow_consumer_free(h5);

    hollow_consumer_free(mc);
    hollow_consumer_free(hc);
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    free(first);
    remove_dir(dir);
}
END_TEST

/* ======================================= Java's directory layout */

/* parse `<prefix><digits>[-<digits>]` exactly; number of numbers or 0 */
static int parse_name(const char *name, const char *prefix, long long *a,
                      long long *b)
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0)
        return 0;
    const char *s = name + pl;
    long long nums[2];
    int n = 0;
    while (n < 2) {
        if (*s < '1' || *s > '9')
            return 0;
        char *end;
        errno = 0;
        nums[n++] = strtoll(s, &end, 10);
        if (errno != 0)
            return 0;
        s = end;
        if (*s == '\0')
            break;
        if (*s != '-')
            return 0;
        s++;
    }
    if (*s != '\0')
        return 0;
    *a = nums[0];
    *b = n == 2 ? nums[1] : 0;
    return n;
}

/*
 * What the C producer writes with the default minter and the filesystem
 * announcer is Java's filesystem publisher layout: snapshot-V, header-V,
 * delta-F-T (older first), reversedelta-T-F (newer first), and
 * announced.version holding the latest version's digits; versions in
 * Java's shape (yyyyMMddHHmmss and a counter, 17 digits, increasing); a
 * snapshot at versions 1 and 4 of six; nothing else in the directory; and
 * the directory passes hollow_lint.py's MUST rules.
 */
START_TEST(producer_writes_java_directory_that_lints_clean)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *ann = fs_announcer(dir);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 2, false);
    HT_OK(hollow_producer_set_header_tag(p, "app.build", "pc-test"));
    int64_t v[6];
    int n = 0;
    for (int i = 0; i < 7; i++) {
        spec sp = {i * 3, 60 + i, i, i % 4, false};
        if (i == 3)
            sp = (spec){6, 62, 2, 2, false}; /* = cycle 2: unchanged */
        int64_t got = cycle_spec(p, sp);
        if (i == 3) {
            ck_assert_int_eq(got, v[n - 1]);
            continue;
        }
        v[n++] = got;
    }
    ck_assert_int_eq(n, 6);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    for (int i = 0; i < n; i++) {
        char digits[32];
        int len = snprintf(digits, sizeof digits, "%lld", (long long)v[i]);
        ck_assert_msg(len == 17, "version %s is not yyyyMMddHHmmssNNN", digits);
        int year = (int)(v[i] / 10000000000000LL);
        int month = (int)(v[i] / 100000000000LL % 100);
        int day = (int)(v[i] / 1000000000LL % 100);
        ck_assert_msg(year >= tm.tm_year + 1900 - 1 && year <= tm.tm_year + 1900 &&
                          month >= 1 && month <= 12 && day >= 1 && day <= 31,
                      "version %s is not a UTC timestamp", digits);
        ck_assert(i == 0 || v[i] > v[i - 1]);
    }

    /* every entry is one of Java's names, and each expected one is there */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int found = 0, expected_count = 0;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
            continue;
        long long a = 0, b = 0;
        bool ok = false;
        if (strcmp(nm, ".hollow-producer.lease") == 0) {
            continue; /* the producer lease; Java ignores '.' files */
        } else if (strcmp(nm, "announced.version") == 0) {
            ok = true;
        } else if (parse_name(nm, "snapshot-", &a, &b) == 1) {
            ok = a == v[0] || a == v[3];
        } else if (parse_name(nm, "header-", &a, &b) == 1) {
            for (int i = 0; i < n; i++)
                ok = ok || a == v[i];
        } else if (parse_name(nm, "delta-", &a, &b) == 2) {
            for (int i = 1; i < n; i++)
                ok = ok || (a == v[i - 1] && b == v[i]);
        } else if (parse_name(nm, "reversedelta-", &a, &b) == 2) {
            for (int i = 1; i < n; i++)
                ok = ok || (a == v[i] && b == v[i - 1]);
        }
        ck_assert_msg(ok, "unexpected entry %s in the directory", nm);
        found++;
    }
    closedir(d);
    expected_count = 1 /* announced.version */ + 2 /* snapshots */ + n /* headers */ +
                     2 * (n - 1);
    ck_assert_int_eq(found, expected_count);
    char *text = read_text_file(dir, "announced.version");
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)v[n - 1]);
    ck_assert_str_eq(text, want);
    free(text);

    /* the header tags Java's producer writes, and ours */
    hollow_consumer *c = consumer_new(bs, ann, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST));
    ck_assert_int_eq(hollow_consumer_version(c), v[n - 1]);
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    const char *to = hollow_read_state_header_tag(rs, "hollow.blob.to.version");
    ck_assert_ptr_nonnull(to);
    ck_assert_str_eq(to, want);
    const char *app = hollow_read_state_header_tag(rs, "app.build");
    ck_assert_ptr_nonnull(app);
    ck_assert_str_eq(app, "pc-test");
    hollow_read_state_release(rs);
    hollow_consumer_free(c);

    ck_assert_int_eq(run_lint(dir), 0);

    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    remove_dir(dir);
}
END_TEST

/* ================================================= failed refresh */

/* a blob store that passes everything to an inner one, but can truncate
 * the next delta it stores (a storage layer that loses bytes) */
typedef struct mangling_store {
    hollow_blobstore parent;
    hollow_blobstore *inner;
    atomic_bool truncate_next_delta;
} mangling_store;

static int mangle_put(hollow_blobstore *bs, const hollow_blob_key *key,
                      hollow_stream *src)
{
    mangling_store *m = (mangling_store *)bs;
    sbuf b = {NULL, 0, 0};
    char chunk[8192];
    for (;;) {
        size_t n = 0;
        int rc = hollow_stream_read(&n, src, chunk, sizeof chunk);
        if (rc < 0) {
            free(b.p);
            return rc;
        }
        if (n == 0)
            break;
        if (sbuf_write(&b, chunk, n) != 0) {
            free(b.p);
            return HOLLOW_ENOMEM;
        }
    }
    size_t len = b.len;
    if (key->kind == HOLLOW_BLOB_DELTA && atomic_exchange(&m->truncate_next_delta, false))
        len /= 2;
    int rc = hollow_blobstore_put_bytes(m->inner, key, b.p ? b.p : "", len);
    free(b.p);
    return rc;
}

static int mangle_get(hollow_stream **out, hollow_blobstore *bs,
                      const hollow_blob_key *key)
{
    return hollow_blobstore_get(out, ((mangling_store *)bs)->inner, key);
}

static int mangle_list(hollow_blobstore *bs, hollow_blob_key_cb cb, void *payload)
{
    return hollow_blobstore_list(((mangling_store *)bs)->inner, cb, payload);
}

static int mangle_remove(hollow_blobstore *bs, const hollow_blob_key *key)
{
    return hollow_blobstore_delete(((mangling_store *)bs)->inner, key);
}

static void mangle_free(hollow_blobstore *bs) { free(bs); }

static mangling_store *mangling_store_new(hollow_blobstore *inner)
{
    mangling_store *m = calloc(1, sizeof *m);
    m->parent.version = HOLLOW_BLOBSTORE_VERSION;
    m->parent.put = mangle_put;
    m->parent.get = mangle_get;
    m->parent.list = mangle_list;
    m->parent.remove = mangle_remove;
    m->parent.free = mangle_free;
    m->inner = inner;
    atomic_init(&m->truncate_next_delta, false);
    return m;
}

/*
 * A following consumer whose next delta arrives damaged (the store lost
 * half its bytes after the producer's integrity check passed) keeps the
 * state it had published - version, contents, pinned readers - and says
 * why: hollow_consumer_last_error() gives the error and a message naming
 * the blob, and listeners hear a failed refresh with that plan.
 */
START_TEST(consumer_watcher_failed_refresh_keeps_state_says_why)
{
    hollow_blobstore *inner = mem_store();
    mangling_store *ms = mangling_store_new(inner);
    hollow_blobstore *bs = &ms->parent;
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 5, true);
    hollow_consumer *c = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, NULL);
    recorder rec;
    recorder_init(&rec);
    add_listener_quiet(c, record_event, &rec);

    cycle_spec(p, (spec){0, 80, 0, 1, false});
    int64_t v2 = cycle_spec(p, (spec){0, 80, 1, 1, false});
    wait_version(c, v2);
    ck_assert_int_eq(hollow_consumer_last_error(c, NULL, 0), 0);
    hollow_read_state *held = hollow_consumer_acquire_state(c);
    char *before = dump_state(held);

    atomic_store(&ms->truncate_next_delta, true);
    int64_t v3 = cycle_spec(p, (spec){0, 90, 2, 1, false});
    ck_assert_int_eq(v3, 3);
    ck_assert(!atomic_load(&ms->truncate_next_delta)); /* it was mangled */

    /* the watcher tries and fails: wait for its verdict */
    int64_t deadline = ht_now_ms() + WAIT_MS;
    char msg[256] = "";
    int err = 0;
    while ((err = hollow_consumer_last_error(c, msg, sizeof msg)) == 0 &&
           ht_now_ms() < deadline)
        ht_sleep_ms(5);
    ck_assert_msg(err < 0, "the watcher reported no error");
    ck_assert_msg(err == HOLLOW_ECORRUPT, "error %d: %s", err, msg);
    ck_assert_msg(strstr(msg, "delta-2-3") != NULL, "message: %s", msg);
    ck_assert_int_eq(hollow_consumer_version(c), v2);
    char *after = dump_consumer(c);
    ck_assert_dump_eq(after, before, "published state after a failed refresh");
    free(after);
    char *still = dump_state(held);
    ck_assert_dump_eq(still, before, "state pinned before the failure");
    free(still);
    hollow_read_state_release(held);
    ev_rec e;
    ck_assert(recorder_find(&rec, v3, true, &e));
    ck_assert_int_eq(e.result, err);
    /* after the damaged delta, the refresh tried a snapshot and the chain
     * after it, which needs the same delta: the plan names it */
    ck_assert_msg(strstr(e.plan, "delta-2-3") != NULL, "plan: %s", e.plan);
    ck_assert_int_eq(e.state_version, -1);

    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_blobstore_free(inner);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    free(before);
}
END_TEST

/* ================================================ listeners and watcher */

/*
 * A consumer created with `follow` when a version is already announced
 * starts refreshing on its watcher thread at once; the only way to add a
 * listener is after hollow_consumer_new() returns, as
 * examples/producer_consumer.c does. Adding it must not race with the
 * watcher's refresh, which reads the listeners to notify them
 * (ThreadSanitizer checks; elsewhere the test only checks the consumer
 * gets there).
 */
START_TEST(consumer_listener_added_while_following)
{
    hollow_blobstore *bs = mem_store();
    hollow_announcer *ann = inproc_announcer();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 0, true);
    int64_t v1 = cycle_spec(p, (spec){0, 50, 0, 1, false});
    for (int round = 0; round < 20; round++) {
        hollow_consumer *c = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, NULL);
        recorder *rec = malloc(sizeof *rec);
        recorder_init(rec);
        HT_OK(hollow_consumer_add_listener(c, record_event, rec));
        wait_version(c, v1);
        hollow_consumer_free(c);
        recorder_destroy(rec);
        free(rec);
    }
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* ================================================================= main */

static Suite *producer_consumer_suite(void)
{
    Suite *s = suite_create("producer_consumer");
    TCase *tc = NULL;
    tc = tcase_create("end_to_end");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, pc_end_to_end_follow_pin_back_and_forth);
    tcase_add_test(tc, pc_end_to_end_fs_announcer_follows_directory);
    tcase_add_test(tc, pc_eight_consumer_threads_follow_while_reading_pinned_states);
    suite_add_tcase(s, tc);

    tc = tcase_create("producer");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, producer_empty_and_unchanged_cycles_publish_nothing);
    tcase_add_test(tc, producer_validator_failure_rolls_back_announces_nothing);
    tcase_add_test(tc, producer_restore_after_restart_continues_chain_with_delta);
    tcase_add_test(tc, producer_writes_java_directory_that_lints_clean);
    suite_add_tcase(s, tc);

    tc = tcase_create("lease");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, producer_lease_inproc_only_primary_announces);
    tcase_add_test(tc, producer_lease_fs_race_only_one_announces);
    tcase_add_test(tc, producer_lease_lost_mid_cycle_announces_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("consumer");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, consumer_type_filter_loads_references_and_follows_deltas);
    tcase_add_test(tc, consumer_mmap_follows_chain_same_as_heap);
    tcase_add_test(tc, consumer_watcher_failed_refresh_keeps_state_says_why);
    tcase_add_test(tc, consumer_listener_added_while_following);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(producer_consumer_suite()); }
