/*
 * One producer, one linear history; a version is all or nothing (issue 12,
 * items 7-11): a producer that lost its lease restores from the announced
 * version before building on it, the lease is on by default and owned per
 * instance, version names are never reused, a consumer goes around a blob
 * that fails, a failed cycle deletes what it wrote, blob retention keeps
 * the announced chain, SIGXFSZ is an error, and announced.version is read
 * without blocking. The chaos run of two producer processes is
 * chaos_producers.c.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "hollow/hollow.h"
#include "movie_fixture.h"
#include "testhelp.h"

static hollow_announcer *fs_announcer(const char *dir)
{
    hollow_announcer_fs_options o = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    o.dir = dir;
    o.fsync = false;
    o.poll_interval_ms = 200;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_fs_new(&a, &o));
    return a;
}

static hollow_producer *make_producer(hollow_blobstore *bs, hollow_announcer *a,
                                      const hollow_schema_list *schemas,
                                      int64_t ttl_ms, const char *label,
                                      uint32_t between)
{
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = a;
    po.schemas = schemas;
    po.minter = counter_minter;
    po.lease_ttl_ms = ttl_ms;
    po.lease_owner = label;
    po.num_states_between_snapshots = between;
    hollow_producer *p = NULL;
    HT_OK(hollow_producer_new(&p, &po));
    return p;
}

static int run_spec(int64_t *v, hollow_producer *p, spec sp)
{
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = sp;
    return hollow_producer_run_cycle(v, p, populate, &pp);
}

static bool file_exists(const char *dir, const char *name)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static void copy_blob(const char *from_dir, const char *to_dir, const char *name)
{
    char path[1024];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", from_dir, name);
    uint8_t *p = ht_read_file(path, &len);
    ck_assert_ptr_nonnull(p);
    snprintf(path, sizeof path, "%s/%s", to_dir, name);
    ht_write_file(path, p, len);
    free(p);
}

static size_t movie_count(const hollow_read_state *rs)
{
    return hollow_type_record_count(hollow_read_state_type(rs, "Movie"));
}

/* a fresh consumer's state at `version` (LATEST: the announced one) */
static hollow_read_state *load(hollow_blobstore *bs, hollow_announcer *a,
                               int64_t version)
{
    hollow_consumer *c = consumer_new(bs, a, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(c, version));
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    hollow_consumer_free(c);
    return rs;
}

/* ============================================== item 7: lease regained */

static int stop_in_populate(hollow_write_state *ws, void *payload)
{
    pop *pp = payload;
    int fd = pp->fail; /* the pipe to the parent rides in `fail` */
    pp->fail = 0;
    char c = 's';
    if (write(fd, &c, 1) != 1)
        _exit(30);
    raise(SIGSTOP); /* "stopped for a while mid-cycle" */
    return populate(ws, pp);
}

/* producer A in a child process; results go back through `fd` */
static void producer_a(const char *dir, const hollow_schema_list *schemas, int fd)
{
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    so.fsync = false;
    hollow_announcer_fs_options ao = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    ao.dir = dir;
    ao.fsync = false;
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    if (hollow_blobstore_fs_new(&bs, &so) < 0 || hollow_announcer_fs_new(&an, &ao) < 0)
        _exit(31);
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = an;
    po.schemas = schemas;
    po.minter = counter_minter;
    po.lease_ttl_ms = 1000;
    po.lease_owner = "producer-a";
    hollow_producer *p = NULL;
    if (hollow_producer_new(&p, &po) < 0)
        _exit(32);
    int64_t r[4] = {0, 0, 0, 0};
    int64_t v = 0;
    r[0] = run_spec(&v, p, (spec){0, 30, 0, 1, false}) == 0 ? v : -1;
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){0, 30, 1, 1, false};
    pp.fail = fd;
    r[1] = hollow_producer_run_cycle(&v, p, stop_in_populate, &pp);
    r[2] = run_spec(&v, p, (spec){0, 40, 7, 2, false});
    r[3] = v;
    if (write(fd, r, sizeof r) != (ssize_t)sizeof r)
        _exit(33);
    hollow_producer_free(p);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    _exit(0);
}

/*
 * The issue's scenario: producer A (lease 1 s) announces version 1 and is
 * stopped mid-cycle; B takes the lease over once it expires, restores
 * version 1 and announces 2..5, then stops. A resumes: the cycle it was in
 * fails (HOLLOW_ESTATE, nothing announced, nothing of it left in the
 * store); its next cycle restores version 5 first and announces 6 as a
 * delta from 5. Before, A published a delta from its stale version 1 and
 * orphaned B's versions.
 */
START_TEST(history_lease_lost_and_regained_restores_first)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_schema_list *schemas = schemas_new();
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(pfd[0]);
        producer_a(dir, schemas, pfd[1]);
    }
    close(pfd[1]);
    char c;
    ck_assert_int_eq(read(pfd[0], &c, 1), 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
    ck_assert(WIFSTOPPED(status));

    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *an = fs_announcer(dir);
    hollow_producer *b = make_producer(bs, an, schemas, 1000, "producer-b", 0);
    int64_t v = 0;
    int rc = run_spec(&v, b, (spec){0, 31, 10, 1, false});
    if (rc == HOLLOW_ESTATE) {
        /* A's lease (1 s): move this process's lease clock past it */
        hollow__clock_advance_ms(1001);
        rc = run_spec(&v, b, (spec){0, 31, 10, 1, false});
    }
    HT_OK(rc);
    ck_assert_int_eq(v, 2);
    ck_assert(file_exists(dir, "delta-1-2"));
    for (int i = 1; i < 4; i++) {
        HT_OK(run_spec(&v, b, (spec){0, 31 + i, 10 + i, 1, false}));
        ck_assert_int_eq(v, 2 + i);
    }
    hollow_producer_free(b); /* releases the lease */

    ck_assert_int_eq(kill(pid, SIGCONT), 0);
    int64_t r[4];
    ck_assert_int_eq(read(pfd[0], r, sizeof r), (ssize_t)sizeof r);
    close(pfd[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "A: status %d",
                  status);
    ck_assert_int_eq(r[0], 1);
    ck_assert_int_eq(r[1], HOLLOW_ESTATE);
    ck_assert_int_eq(r[2], 0);
    ck_assert_int_eq(r[3], 6);
    ck_assert(file_exists(dir, "delta-5-6"));
    ck_assert(!file_exists(dir, "delta-1-6"));
    ck_assert(!file_exists(dir, "delta-1-7"));
    int64_t ann = -1;
    HT_OK(hollow_announcer_latest(&ann, an));
    ck_assert_int_eq(ann, 6);
    /* the chain 1..6 and a fresh load agree */
    for (int64_t x = 1; x <= 6; x++) {
        hollow_read_state *rs = load(bs, NULL, x);
        ck_assert_int_eq(hollow_read_state_version(rs), x);
        ck_assert_uint_eq(movie_count(rs), x == 1 ? 30 : x == 6 ? 40 : (size_t)(29 + x));
        hollow_read_state_release(rs);
    }
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    remove_dir(dir);
}
END_TEST

/* ================================== item 8: the lease by default, owners */

/*
 * Two producers with default options over one directory, given the same
 * owner label: the first cycle takes the lease, the second producer's is
 * refused (HOLLOW_ESTATE) and leaves nothing; once the first is freed the
 * second restores version 1 and announces version 2 as a delta from it.
 */
START_TEST(history_default_lease_one_primary_per_instance)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs1 = fs_store(dir), *bs2 = fs_store(dir);
    hollow_announcer *a1 = fs_announcer(dir), *a2 = fs_announcer(dir);
    hollow_producer *p1 = make_producer(bs1, a1, schemas, 0, "same-name", 0);
    hollow_producer *p2 = make_producer(bs2, a2, schemas, 0, "same-name", 0);
    int64_t v = 0;
    HT_OK(run_spec(&v, p1, (spec){0, 20, 0, 1, false}));
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(run_spec(&v, p2, (spec){0, 25, 1, 1, false}), HOLLOW_ESTATE);
    ck_assert_msg(strstr(hollow_error_last()->message, "same-name#") != NULL,
                  "message: %s", hollow_error_last()->message);
    ck_assert(!hollow_producer_is_primary(p2));
    ck_assert(!file_exists(dir, "header-2"));
    hollow_producer_free(p1);
    HT_OK(run_spec(&v, p2, (spec){0, 25, 1, 1, false}));
    ck_assert_int_eq(v, 2);
    ck_assert(file_exists(dir, "delta-1-2"));
    hollow_producer_free(p2);
    hollow_announcer_free(a1);
    hollow_announcer_free(a2);
    hollow_blobstore_free(bs1);
    hollow_blobstore_free(bs2);
    hollow_schema_list_free(schemas);
    remove_dir(dir);
}
END_TEST

/*
 * Opted out of the lease, two producers take turns on one directory: each
 * cycle first restores what the other announced, so the versions are 1..4,
 * each a delta from the one before, never the same name twice.
 */
START_TEST(history_without_lease_names_stay_distinct_and_linear)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs[2] = {fs_store(dir), fs_store(dir)};
    hollow_announcer *an[2] = {fs_announcer(dir), fs_announcer(dir)};
    hollow_producer *p[2];
    for (int i = 0; i < 2; i++)
        p[i] = make_producer(bs[i], an[i], schemas, HOLLOW_PRODUCER_NO_LEASE,
                             NULL, 0);
    for (int i = 0; i < 4; i++) {
        int64_t v = 0;
        HT_OK(run_spec(&v, p[i % 2], (spec){0, 20 + i, i, 1, false}));
        ck_assert_int_eq(v, i + 1);
        if (i > 0) {
            char name[64];
            snprintf(name, sizeof name, "delta-%d-%d", i, i + 1);
            ck_assert_msg(file_exists(dir, name), "%s missing", name);
        }
    }
    for (int64_t x = 1; x <= 4; x++) {
        hollow_read_state *rs = load(bs[0], NULL, x);
        ck_assert_uint_eq(movie_count(rs), (size_t)(19 + x));
        hollow_read_state_release(rs);
    }
    for (int i = 0; i < 2; i++) {
        hollow_producer_free(p[i]);
        hollow_announcer_free(an[i]);
        hollow_blobstore_free(bs[i]);
    }
    hollow_schema_list_free(schemas);
    remove_dir(dir);
}
END_TEST

/* ================================================= item 9: reused names */

/* dir holds versions 1..n (counter minter, a snapshot every third) */
static void publish(const char *dir, const hollow_schema_list *schemas, int n,
                    int rev)
{
    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *an = fs_announcer(dir);
    hollow_producer *p = make_producer(bs, an, schemas, 0, NULL, 2);
    for (int i = 0; i < n; i++) {
        int64_t v = 0;
        HT_OK(run_spec(&v, p, (spec){i * 3, 30 + i, rev + i, 1, false}));
        ck_assert_int_eq(v, i + 1);
    }
    hollow_producer_free(p);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
}

/*
 * A crash between writing version 4's blobs and announcing it left them
 * (here: another history's version 4, so their tags differ). The restarted
 * producer restores version 3 and must not mint 4 again: it publishes 5,
 * and a fresh consumer loads the announced version 5.
 */
START_TEST(history_crash_leftovers_are_never_reused)
{
    char dir[512], other[512];
    make_tmpdir(dir, sizeof dir);
    make_tmpdir(other, sizeof other);
    hollow_schema_list *schemas = schemas_new();
    publish(dir, schemas, 3, 0);
    publish(other, schemas, 4, 50);
    static const char *const left[] = {"header-4", "delta-3-4", "reversedelta-4-3",
                                       "snapshot-4"};
    for (int i = 0; i < 4; i++)
        copy_blob(other, dir, left[i]);

    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *an = fs_announcer(dir);
    hollow_producer *p = make_producer(bs, an, schemas, 0, NULL, 2);
    HT_OK(hollow_producer_restore(p, HOLLOW_VERSION_LATEST));
    ck_assert_int_eq(hollow_producer_version(p), 3);
    int64_t v = 0;
    HT_OK(run_spec(&v, p, (spec){0, 77, 9, 1, false}));
    ck_assert_int_eq(v, 5);
    ck_assert(file_exists(dir, "delta-3-5"));
    hollow_read_state *rs = load(bs, an, HOLLOW_VERSION_LATEST);
    ck_assert_int_eq(hollow_read_state_version(rs), 5);
    ck_assert_uint_eq(movie_count(rs), 77);
    hollow_read_state_release(rs);
    hollow_producer_free(p);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    remove_dir(dir);
    remove_dir(other);
}
END_TEST

/*
 * snapshot-4 is stale (another history's, as a reused name left it): the
 * shortest plan to 5, snapshot-4 + delta-4-5, fails on the randomized tag.
 * The consumer must try the next plan, snapshot-1 and the deltas from it,
 * and load 5. A damaged delta-1-2 as well sends it through nothing else:
 * the refresh then fails naming the first blob that failed.
 */
START_TEST(history_consumer_tries_next_plan_after_tag_mismatch)
{
    char dir[512], other[512];
    make_tmpdir(dir, sizeof dir);
    make_tmpdir(other, sizeof other);
    hollow_schema_list *schemas = schemas_new();
    publish(dir, schemas, 5, 0);
    publish(other, schemas, 4, 50);
    copy_blob(other, dir, "snapshot-4");
    hollow_blobstore *bs = fs_store(dir);
    recorder rec;
    recorder_init(&rec);
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    HT_OK(hollow_consumer_refresh(c, 5));
    expect_plan(&rec, 5, "snapshot-1, delta-1-2, delta-2-3, delta-3-4, delta-4-5");
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    ck_assert_uint_eq(movie_count(rs), 34);
    hollow_read_state_release(rs);
    hollow_consumer_free(c);

    char path[1024];
    snprintf(path, sizeof path, "%s/delta-1-2", dir);
    ht_write_file(path, "garbage", 7);
    c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    int rc = hollow_consumer_refresh(c, 5);
    ck_assert_int_eq(rc, HOLLOW_ECHAIN);
    const char *msg = hollow_error_last()->message;
    ck_assert_msg(strstr(msg, "delta-4-5") != NULL &&
                      strstr(msg, "no other plan") != NULL,
                  "message: %s", msg);
    hollow_consumer_free(c);
    recorder_destroy(&rec);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    remove_dir(dir);
    remove_dir(other);
}
END_TEST

/* ====================================== item 10: failed cycles, retention */

typedef struct fault {
    int starts; /* blobs begun (a write at offset 0) */
    int fail_at;
} fault;

static int fail_nth_blob(void *ctx, size_t offset)
{
    fault *f = ctx;
    if (offset == 0)
        f->starts++;
    return f->fail_at > 0 && f->starts == f->fail_at ? ENOSPC : 0;
}

/*
 * The snapshot's write fails (a full disk) after the header, delta and
 * reverse delta of version 2 were stored: the cycle fails and removes
 * them, so the directory holds version 1 alone; the next cycle publishes
 * version 2.
 */
START_TEST(history_failed_cycle_removes_what_it_wrote)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_schema_list *schemas = schemas_new();
    fault f = {0, 0};
    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    o.dir = dir;
    o.fsync = false;
    o.write_fault = fail_nth_blob;
    o.write_fault_ctx = &f;
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_fs_new(&bs, &o));
    hollow_producer *p = make_producer(bs, NULL, schemas, 0, NULL, 0);
    int64_t v = 0;
    HT_OK(run_spec(&v, p, (spec){0, 20, 0, 1, false}));
    f.starts = 0;
    f.fail_at = 4;
    ck_assert_int_eq(run_spec(&v, p, (spec){0, 25, 1, 1, false}), HOLLOW_EIO);
    char *ls = store_listing(bs);
    ck_assert_str_eq(ls, "snapshot-1 header-1");
    free(ls);
    f.fail_at = 0;
    HT_OK(run_spec(&v, p, (spec){0, 25, 1, 1, false}));
    ck_assert_int_eq(v, 2);
    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    remove_dir(dir);
}
END_TEST

/*
 * Retention over versions 1..6 (snapshots 1 and 4), announced 6, with the
 * leftovers of a crashed cycle 7 and of a forked version 8: with keep 1
 * what stays is the chain from snapshot-4 to 6; with a pin at 2 its chain
 * from snapshot-1 stays too. A history without a snapshot removes nothing.
 */
START_TEST(history_gc_keeps_the_announced_chain)
{
    hollow_schema_list *schemas = schemas_new();
    for (int pinned = 0; pinned < 2; pinned++) {
        char dir[512];
        make_tmpdir(dir, sizeof dir);
        publish(dir, schemas, 6, 0);
        char src[1024], dst[1024];
        snprintf(src, sizeof src, "%s/delta-5-6", dir);
        snprintf(dst, sizeof dst, "%s/delta-6-7", dir);
        size_t len = 0;
        uint8_t *bytes = ht_read_file(src, &len);
        ht_write_file(dst, bytes, len);
        snprintf(dst, sizeof dst, "%s/delta-3-8", dir);
        ht_write_file(dst, bytes, len);
        snprintf(dst, sizeof dst, "%s/header-8", dir);
        ht_write_file(dst, bytes, len);
        free(bytes);
        hollow_blobstore *bs = fs_store(dir);
        hollow_gc_options go = HOLLOW_GC_OPTIONS_INIT;
        go.announced = 6;
        go.pinned = pinned ? 2 : 0;
        go.keep_snapshots = 1;
        go.remove_newer = true;
        hollow_gc_result res;
        HT_OK(hollow_blobstore_gc(&res, bs, &go, NULL, NULL));
        char *ls = store_listing(bs);
        const char *want =
            pinned ? "snapshot-1 reversedelta-2-1 header-1 delta-1-2 header-2 "
                     "snapshot-4 reversedelta-5-4 header-4 delta-4-5 "
                     "reversedelta-6-5 header-5 delta-5-6 header-6"
                   : "snapshot-4 reversedelta-5-4 header-4 delta-4-5 "
                     "reversedelta-6-5 header-5 delta-5-6 header-6";
        ck_assert_str_eq(ls, want);
        free(ls);
        hollow_read_state *rs = load(bs, NULL, 6);
        ck_assert_uint_eq(movie_count(rs), 35);
        hollow_read_state_release(rs);
        hollow_blobstore_free(bs);
        remove_dir(dir);
    }
    /* no snapshot on the history: refused, nothing removed */
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    publish(dir, schemas, 3, 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/snapshot-1", dir);
    ck_assert_int_eq(unlink(path), 0);
    hollow_blobstore *bs = fs_store(dir);
    char *before = store_listing(bs);
    hollow_gc_options go = HOLLOW_GC_OPTIONS_INIT;
    go.announced = 3;
    ck_assert_int_eq(hollow_blobstore_gc(NULL, bs, &go, NULL, NULL),
                     HOLLOW_ENOTFOUND);
    char *after = store_listing(bs);
    ck_assert_str_eq(after, before);
    free(before);
    free(after);
    hollow_blobstore_free(bs);
    remove_dir(dir);
    hollow_schema_list_free(schemas);
}
END_TEST

/* ========================================= item 11: signals, the file */

/*
 * Past RLIMIT_FSIZE a put fails with HOLLOW_EIO (EFBIG) instead of the
 * process dying of SIGXFSZ; nothing is left under the blob's name, and the
 * signal is not left pending.
 */
START_TEST(history_file_size_limit_is_an_error_not_a_signal)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit rl = {64 * 1024, 64 * 1024};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(40);
        hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
        o.dir = dir;
        hollow_blobstore *bs = NULL;
        if (hollow_blobstore_fs_new(&bs, &o) != 0)
            _exit(41);
        static uint8_t big[1 << 20];
        hollow_blob_key k = hollow_blob_key_snapshot(7);
        int rc = hollow_blobstore_put_bytes(bs, &k, big, sizeof big);
        if (rc != HOLLOW_EIO || strstr(hollow_error_last()->message, "write") == NULL)
            _exit(42);
        hollow_stream *s = NULL;
        if (hollow_blobstore_get(&s, bs, &k) != HOLLOW_ENOTFOUND)
            _exit(43);
        sigset_t pend;
        if (sigpending(&pend) != 0 || sigismember(&pend, SIGXFSZ))
            _exit(44);
        hollow_blobstore_free(bs);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child: %s %d", WIFSIGNALED(status) ? "signal" : "exit",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    remove_dir(dir);
}
END_TEST

/*
 * announced.version a FIFO: the announcer's latest() returns at once with
 * HOLLOW_ECORRUPT naming the file (it used to block in open(2) forever),
 * and a producer's cycle fails the same way rather than ignore it. A
 * corrupt file fails the cycle too, naming what is in it.
 */
START_TEST(history_announced_version_fifo_or_corrupt_is_an_error)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/announced.version", dir);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        alarm(20); /* a blocked open ends the child */
        hollow_announcer_fs_options o = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
        o.dir = dir;
        hollow_announcer *a = NULL;
        if (hollow_announcer_fs_new(&a, &o) != 0)
            _exit(50);
        int64_t v;
        if (hollow_announcer_latest(&v, a) != HOLLOW_ECORRUPT ||
            strstr(hollow_error_last()->message, "not a regular file") == NULL)
            _exit(51);
        hollow_announcer_free(a);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child: %s %d", WIFSIGNALED(status) ? "signal" : "exit",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    ck_assert_int_eq(unlink(path), 0);

    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = fs_store(dir);
    hollow_announcer *an = fs_announcer(dir);
    ht_write_file(path, "12x", 3);
    hollow_producer *p = make_producer(bs, an, schemas, 0, NULL, 0);
    int64_t v = 0;
    ck_assert_int_eq(run_spec(&v, p, (spec){0, 20, 0, 1, false}), HOLLOW_ECORRUPT);
    ck_assert_msg(strstr(hollow_error_last()->message, "\"12x\"") != NULL,
                  "message: %s", hollow_error_last()->message);
    ck_assert(!file_exists(dir, "header-1"));
    hollow_producer_free(p);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    remove_dir(dir);
}
END_TEST

/* ============================================ compare-and-announce */

/*
 * hollow_announcer_announce_if() on both built-in announcers: refused
 * (HOLLOW_ESTATE, nothing announced) when the announced version is not the
 * expected one or the owner does not hold the lease; accepted otherwise.
 */
START_TEST(history_announce_if_compares_and_checks_the_lease)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    for (int kind = 0; kind < 2; kind++) {
        hollow_announcer *a = NULL;
        if (kind == 0)
            HT_OK(hollow_announcer_inproc_new(&a, NULL));
        else
            a = fs_announcer(dir);
        HT_OK(hollow_announcer_announce_if(a, 0, NULL, 5));
        ck_assert_int_eq(hollow_announcer_announce_if(a, 4, NULL, 6), HOLLOW_ESTATE);
        int64_t v = -1;
        HT_OK(hollow_announcer_latest(&v, a));
        ck_assert_int_eq(v, 5);
        ck_assert_int_eq(hollow_announcer_announce_if(a, 5, "me", 6), HOLLOW_ESTATE);
        HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "me", 5000, NULL, 0));
        ck_assert_int_eq(hollow_announcer_announce_if(a, 5, "you", 6), HOLLOW_ESTATE);
        HT_OK(hollow_announcer_announce_if(a, 5, "me", 6));
        HT_OK(hollow_announcer_latest(&v, a));
        ck_assert_int_eq(v, 6);
        hollow_announcer_free(a);
    }
    remove_dir(dir);
}
END_TEST

static Suite *history_suite(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("one producer");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, history_lease_lost_and_regained_restores_first);
    tcase_add_test(tc, history_default_lease_one_primary_per_instance);
    tcase_add_test(tc, history_without_lease_names_stay_distinct_and_linear);
    tcase_add_test(tc, history_announce_if_compares_and_checks_the_lease);
    suite_add_tcase(s, tc);

    tc = tcase_create("all or nothing");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, history_crash_leftovers_are_never_reused);
    tcase_add_test(tc, history_consumer_tries_next_plan_after_tag_mismatch);
    tcase_add_test(tc, history_failed_cycle_removes_what_it_wrote);
    tcase_add_test(tc, history_gc_keeps_the_announced_chain);
    tcase_add_test(tc, history_file_size_limit_is_an_error_not_a_signal);
    tcase_add_test(tc, history_announced_version_fifo_or_corrupt_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(history_suite()); }
