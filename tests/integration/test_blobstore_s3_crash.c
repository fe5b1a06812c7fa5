/*
 * The S3 store across crashes, against the real test server
 * (tests/helpers/s3_server.h), every process a real one (fork):
 *
 * - A producer process queues a whole cycle while S3 is stopped (its
 *   blobs and its announcement pending in the cache dir's journal) and is
 *   killed with SIGKILL. S3 comes back; nothing is uploaded while nobody
 *   runs (a fresh consumer still reaches the version before). A new
 *   process opening the same cache dir uploads everything, in order, and
 *   a consumer process with an empty cache reaches the queued version
 *   with the producer's exact state.
 * - A pending blob damaged in the cache (one byte, same size) before the
 *   next process uploads it never reaches S3, with verify_cache or
 *   without (the uploader hashes it), and the announcement that needed it
 *   is dropped: consumers stay at the version before.
 * - A consumer's own cache file damaged between two processes: cut short,
 *   it is dropped and fetched again (the right state); changed in place
 *   with verify_cache, the same; with S3 stopped the consumer fails
 *   clearly and loads nothing, and once S3 is back the next one is right.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blobstore/s3_cache.h"
#include "hollow/hollow.h"
#include "movie_fixture.h"
#include "s3_server.h"
#include "testhelp.h"

#define BUCKET "hollow-test"
#define PREFIX "crash"

/* ------------------------------------------------------------ helpers */

static void start_server(ht_s3 *srv)
{
    char state[PATH_MAX];
    make_tmpdir(state, sizeof state);
    ht_s3_start(srv, state, BUCKET);
}

/* a store on `cache`; 0 or the error (callable in a child process) */
static int open_store(hollow_blobstore **bs, const ht_s3 *srv,
                      const char *cache, bool verify)
{
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = srv->endpoint;
    o.bucket = srv->bucket;
    o.prefix = PREFIX;
    o.access_key = HT_S3_ACCESS_KEY;
    o.secret_key = HT_S3_SECRET_KEY;
    o.cache_dir = cache;
    o.verify_cache = verify;
    o.retry_min_ms = 20;
    o.retry_max_ms = 200;
    o.connect_timeout_ms = 2000;
    return hollow_blobstore_s3_new(bs, &o);
}

static void send_byte(int fd, char b)
{
    ck_assert_int_eq(write(fd, &b, 1), 1);
}

static void expect_byte(int fd, char want)
{
    char b = 0;
    ssize_t n;
    while ((n = read(fd, &b, 1)) < 0 && errno == EINTR)
        ;
    ck_assert_msg(n == 1 && b == want, "child said %d/'%c', expected '%c'",
                  (int)n, n == 1 ? b : '?', want);
}

/* exit status of a child, 128+N when killed by signal N */
static int wait_child(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* the pending entries of a cache dir (malloc'd) */
static size_t journal_of(const char *cache, hollow__s3_entry **out)
{
    hollow__s3_cache *c = NULL;
    HT_OK(hollow__s3_cache_open(&c, cache, 0, false));
    size_t n = 0;
    HT_OK(hollow__s3_journal_pending(c, out, &n));
    hollow__s3_cache_close(c);
    return n;
}

/* announced.version as the aws CLI reads it */
static void aws_announced(const ht_s3 *srv, char *out, size_t cap)
{
    int rc = ht_aws(srv, out, cap, "s3 cp s3://%s/" PREFIX "/announced.version -",
                    srv->bucket);
    ck_assert_msg(rc == 0, "aws s3 cp announced.version: %d: %s", rc, out);
}

/*
 * A consumer process on `cache` (made empty when `fresh`): a store, the S3
 * announcer, a refresh to the announced version. Its result in `out`:
 * "<version>\n<dump>" or "error <code>: <message>\n". Returns the exit
 * status (0: refreshed).
 */
static int consume(const ht_s3 *srv, const char *cache, bool verify,
                   const char *out)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid != 0)
        return wait_child(pid);
    FILE *f = fopen(out, "w");
    if (f == NULL)
        _exit(3);
    hollow_blobstore *bs = NULL;
    hollow_announcer *a = NULL;
    hollow_consumer *c = NULL;
    int rc = open_store(&bs, srv, cache, verify);
    hollow_announcer_s3_options ao = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
    ao.store = bs;
    ao.poll_interval_ms = 100;
    if (rc == 0)
        rc = hollow_announcer_s3_new(&a, &ao);
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.announcer = a;
    if (rc == 0)
        rc = hollow_consumer_new(&c, &co);
    if (rc == 0)
        rc = hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST);
    if (rc < 0) {
        fprintf(f, "error %d: %s\n", rc, hollow_error_last()->message);
        /* nothing was loaded */
        if (c != NULL && hollow_consumer_version(c) != 0)
            fprintf(f, "loaded %lld\n", (long long)hollow_consumer_version(c));
    } else {
        hollow_read_state *rs = hollow_consumer_acquire_state(c);
        char *d = dump_state(rs);
        hollow_read_state_release(rs);
        fprintf(f, "%lld\n%s", (long long)hollow_consumer_version(c), d);
        free(d);
    }
    fclose(f);
    hollow_consumer_free(c);
    hollow_announcer_free(a);
    hollow_blobstore_free(bs);
    _exit(rc < 0 ? 1 : 0);
}

static char *read_text(const char *path)
{
    size_t len = 0;
    char *p = (char *)ht_read_file(path, &len);
    p = realloc(p, len + 1);
    p[len] = '\0';
    return p;
}

/* a consumer in a new process with an empty cache reaches `v` holding
 * exactly `dump` */
static void expect_consumer(const ht_s3 *srv, const char *work, int64_t v,
                            const char *dump)
{
    char cache[PATH_MAX], out[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    snprintf(out, sizeof out, "%s/consumer.out", work);
    int st = consume(srv, cache, false, out);
    char *got = read_text(out);
    ck_assert_msg(st == 0, "consumer exit %d: %.300s", st, got);
    char head[64];
    snprintf(head, sizeof head, "%lld\n", (long long)v);
    ck_assert_msg(strncmp(got, head, strlen(head)) == 0,
                  "the consumer reached \"%.40s\", expected version %lld", got,
                  (long long)v);
    ck_assert_msg(strcmp(got + strlen(head), dump) == 0,
                  "the consumer's state differs from the producer's");
    free(got);
}

/* the dump of version `v` read through `bs` */
static char *dump_version(hollow_blobstore *bs, int64_t v)
{
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(c, v));
    char *d = dump_consumer(c);
    hollow_consumer_free(c);
    return d;
}

/*
 * The producer process: cycles 1 and 2 with S3 up ('R'), waits for 'G'
 * (S3 is stopped meanwhile), runs cycle 3, which queues, writes the state
 * of version 3 (read from its snapshot's cache file) to `want` ('D'), then
 * waits to be killed, its retrier still trying.
 */
static void producer_process(const ht_s3 *srv, const char *cache,
                             const char *want, int in, int out)
{
    hollow_blobstore *bs = NULL;
    hollow_announcer *a = NULL;
    if (open_store(&bs, srv, cache, false) != 0)
        _exit(3);
    hollow_announcer_s3_options ao = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
    ao.store = bs;
    if (hollow_announcer_s3_new(&a, &ao) != 0)
        _exit(3);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, a, schemas, 0, true);
    if (cycle_spec(p, (spec){0, 40, 0, 1, false}) != 1 ||
        cycle_spec(p, (spec){5, 40, 1, 2, false}) != 2)
        _exit(4);
    send_byte(out, 'R');
    expect_byte(in, 'G');
    if (cycle_spec(p, (spec){9, 45, 2, 2, false}) != 3)
        _exit(5);
    /* the state it wrote, read from its cache file (S3 cannot list) */
    char snaps[PATH_MAX];
    snprintf(snaps, sizeof snaps, "%s/snapshots", cache);
    char *d = dump_snapshot_file(snaps, 3);
    ht_write_file(want, d, strlen(d));
    free(d);
    send_byte(out, 'D');
    for (;;)
        pause();
}

/* SIGKILL the producer and check it died of it */
static void kill_9(pid_t pid)
{
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(wait_child(pid), 128 + SIGKILL);
}

/* run the producer process up to its killing with cycle 3 pending */
static void producer_killed_with_cycle_pending(ht_s3 *srv, const char *cache,
                                               const char *want)
{
    int down[2], up[2];
    ck_assert_int_eq(pipe(down), 0);
    ck_assert_int_eq(pipe(up), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        producer_process(srv, cache, want, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    expect_byte(up[0], 'R');
    ht_s3_stop(srv);
    send_byte(down[1], 'G');
    expect_byte(up[0], 'D');
    ht_sleep_ms(300); /* let its retrier fail a few times */
    kill_9(pid);
    close(down[1]);
    close(up[0]);

    /* what it left: the cycle's four blobs, then its announcement */
    hollow__s3_entry *e = NULL;
    size_t n = journal_of(cache, &e);
    ck_assert_uint_eq(n, 5);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(e[i].kind, HOLLOW__S3_ENTRY_BLOB);
    ck_assert_int_eq(e[4].kind, HOLLOW__S3_ENTRY_ANNOUNCE);
    ck_assert_int_eq(e[4].version, 3);
    bool snap = false;
    for (int i = 0; i < 4; i++)
        snap = snap || strcmp(e[i].relkey, "snapshots/snapshot-3") == 0;
    ck_assert(snap);
    free(e);
}

/* a process that opens a store on `cache` and waits for its uploads;
 * returns its exit status (0: nothing left pending) */
static int upload_in_new_process(const ht_s3 *srv, const char *cache,
                                 bool verify, uint64_t *uploads_out)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        hollow_blobstore *bs = NULL;
        int rc = open_store(&bs, srv, cache, verify);
        if (rc == 0)
            rc = hollow_blobstore_s3_flush(bs, 30000);
        hollow_blobstore_stats st;
        memset(&st, 0, sizeof st);
        if (rc == 0)
            rc = hollow_blobstore_stats_get(&st, bs);
        uint64_t up = st.uploads;
        if (write(fds[1], &up, sizeof up) != (ssize_t)sizeof up)
            rc = -1;
        hollow_blobstore_free(bs);
        _exit(rc == 0 ? 0 : 1);
    }
    close(fds[1]);
    uint64_t up = 0;
    ck_assert_int_eq(read(fds[0], &up, sizeof up), (ssize_t)sizeof up);
    close(fds[0]);
    *uploads_out = up;
    return wait_child(pid);
}

/* flip one byte of a file in place (its size unchanged) */
static void flip_byte(const char *path)
{
    size_t len = 0;
    uint8_t *p = ht_read_file(path, &len);
    ck_assert_uint_gt(len, 0);
    p[len / 2] ^= 0x20;
    ht_write_file(path, p, len);
    free(p);
}

/* ========================================================== kill -9 */

START_TEST(s3_crash_producer_killed_pending_uploaded_by_next_process)
{
    ht_s3 srv;
    start_server(&srv);
    char work[PATH_MAX], cache[PATH_MAX], want[PATH_MAX], out[256];
    make_tmpdir(work, sizeof work);
    make_tmpdir(cache, sizeof cache);
    snprintf(want, sizeof want, "%s/want.dump", work);
    producer_killed_with_cycle_pending(&srv, cache, want);

    ht_s3_restart(&srv);
    /* nobody runs: S3 still has version 2 only */
    aws_announced(&srv, out, sizeof out);
    ck_assert_str_eq(out, "2");
    char cons[PATH_MAX], res[PATH_MAX];
    make_tmpdir(cons, sizeof cons);
    snprintf(res, sizeof res, "%s/before.out", work);
    ck_assert_int_eq(consume(&srv, cons, false, res), 0);
    char *got = read_text(res);
    ck_assert_msg(strncmp(got, "2\n", 2) == 0, "before the upload: %.100s", got);
    free(got);

    /* a new process on the same cache dir uploads all five, in order */
    uint64_t uploads = 0;
    ck_assert_int_eq(upload_in_new_process(&srv, cache, false, &uploads), 0);
    ck_assert_uint_eq(uploads, 5);
    hollow__s3_entry *e = NULL;
    ck_assert_uint_eq(journal_of(cache, &e), 0);
    free(e);
    aws_announced(&srv, out, sizeof out);
    ck_assert_str_eq(out, "3");
    ck_assert_int_eq(ht_aws(&srv, out, sizeof out,
                            "s3 ls s3://%s/" PREFIX "/snapshots/", srv.bucket),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "snapshot-3"));

    /* a fresh consumer reaches version 3 with the producer's state */
    char *dump = read_text(want);
    expect_consumer(&srv, work, 3, dump);
    free(dump);
    ht_s3_stop(&srv);
}
END_TEST

/* ============================================ damaged while pending */

/*
 * The killed producer's pending snapshot-3 damaged in its cache file (one
 * byte, same size). The uploader hashes every pending blob, with
 * verify_cache or without: snapshot-3 is not sent and removed, the
 * announcement of version 3 queued after it is dropped (announced.version
 * stays 2), the cycle's other blobs go up, and the journal ends empty. A
 * fresh consumer reaches version 2; a get of snapshot-3 finds nothing.
 */
static void damaged_pending(bool verify)
{
    ht_s3 srv;
    start_server(&srv);
    char work[PATH_MAX], cache[PATH_MAX], want[PATH_MAX], path[PATH_MAX];
    char out[1024];
    make_tmpdir(work, sizeof work);
    make_tmpdir(cache, sizeof cache);
    snprintf(want, sizeof want, "%s/want.dump", work);
    producer_killed_with_cycle_pending(&srv, cache, want);
    snprintf(path, sizeof path, "%s/snapshots/snapshot-3", cache);
    flip_byte(path);

    ht_s3_restart(&srv);
    uint64_t uploads = 0;
    ck_assert_int_eq(upload_in_new_process(&srv, cache, verify, &uploads), 0);
    /* the other three blobs; neither snapshot-3 nor the announcement */
    ck_assert_uint_eq(uploads, 3);
    hollow__s3_entry *e = NULL;
    ck_assert_uint_eq(journal_of(cache, &e), 0);
    free(e);
    aws_announced(&srv, out, sizeof out);
    ck_assert_str_eq(out, "2");
    ck_assert_int_eq(ht_aws(&srv, out, sizeof out,
                            "s3 ls s3://%s/" PREFIX "/snapshots/", srv.bucket),
                     0);
    ck_assert_ptr_null(strstr(out, "snapshot-3"));
    ck_assert_int_eq(ht_aws(&srv, out, sizeof out,
                            "s3 ls s3://%s/" PREFIX "/deltas/", srv.bucket),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "delta-2-3"));
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0); /* the damaged file is gone */

    char cons[PATH_MAX], res[PATH_MAX];
    make_tmpdir(cons, sizeof cons);
    snprintf(res, sizeof res, "%s/after.out", work);
    ck_assert_int_eq(consume(&srv, cons, false, res), 0);
    char *got = read_text(res);
    ck_assert_msg(strncmp(got, "2\n", 2) == 0, "%.100s", got);
    free(got);
    snprintf(path, sizeof path, "%s/fetch", cons);
    hollow_blobstore *bs = NULL;
    HT_OK(open_store(&bs, &srv, path, false));
    hollow_blob_key k = hollow_blob_key_snapshot(3);
    hollow_stream *s = NULL;
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k), HOLLOW_ENOTFOUND);
    ck_assert_ptr_null(s);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);
}

START_TEST(s3_crash_damaged_pending_blob_with_verify)
{
    damaged_pending(true);
}
END_TEST

START_TEST(s3_crash_damaged_pending_blob_without_verify)
{
    damaged_pending(false);
}
END_TEST

/* ===================================== a consumer's damaged cache file */

START_TEST(s3_crash_consumer_cache_file_damaged_between_processes)
{
    ht_s3 srv;
    start_server(&srv);
    char work[PATH_MAX], pcache[PATH_MAX], ccache[PATH_MAX], res[PATH_MAX];
    char path[PATH_MAX];
    make_tmpdir(work, sizeof work);
    make_tmpdir(pcache, sizeof pcache);
    make_tmpdir(ccache, sizeof ccache);
    snprintf(res, sizeof res, "%s/c.out", work);
    hollow_blobstore *bs = NULL;
    HT_OK(open_store(&bs, &srv, pcache, false));
    hollow_announcer_s3_options ao = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
    ao.store = bs;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_s3_new(&a, &ao));
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, a, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 60, 0, 2, false}), 1);
    hollow_producer_free(p);
    hollow_announcer_free(a);
    char *want = dump_version(bs, 1);
    hollow_blobstore_free(bs);

    /* a consumer process fills its cache */
    ck_assert_int_eq(consume(&srv, ccache, false, res), 0);
    char *got = read_text(res);
    ck_assert(strncmp(got, "1\n", 2) == 0 && strcmp(got + 2, want) == 0);
    free(got);
    snprintf(path, sizeof path, "%s/snapshots/snapshot-1", ccache);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);

    /* cut short: the next consumer process drops it and fetches it again */
    ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
    ck_assert_int_eq(consume(&srv, ccache, false, res), 0);
    got = read_text(res);
    ck_assert(strncmp(got, "1\n", 2) == 0 && strcmp(got + 2, want) == 0);
    free(got);
    ck_assert_int_eq(stat(path, &st), 0);

    /* changed in place: with verify_cache, the same */
    flip_byte(path);
    ck_assert_int_eq(consume(&srv, ccache, true, res), 0);
    got = read_text(res);
    ck_assert(strncmp(got, "1\n", 2) == 0 && strcmp(got + 2, want) == 0);
    free(got);

    /* damaged while S3 is down: the consumer fails clearly, loads nothing */
    ck_assert_int_eq(truncate(path, 10), 0);
    ht_s3_stop(&srv);
    ck_assert_int_ne(consume(&srv, ccache, false, res), 0);
    got = read_text(res);
    ck_assert_msg(strncmp(got, "error ", 6) == 0, "%.300s", got);
    ck_assert_msg(strstr(got, "loaded") == NULL, "%.300s", got);
    free(got);
    /* S3 back: the next consumer process gets the right bytes again */
    ht_s3_restart(&srv);
    ck_assert_int_eq(consume(&srv, ccache, false, res), 0);
    got = read_text(res);
    ck_assert(strncmp(got, "1\n", 2) == 0 && strcmp(got + 2, want) == 0);
    free(got);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_gt(st.st_size, 10);
    ht_s3_stop(&srv);
    free(want);
    hollow_schema_list_free(schemas);
}
END_TEST

static Suite *s3_crash_suite(void)
{
    Suite *s = suite_create("blobstore_s3_crash");
    TCase *tc = tcase_create("crash");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, s3_crash_producer_killed_pending_uploaded_by_next_process);
    tcase_add_test(tc, s3_crash_damaged_pending_blob_with_verify);
    tcase_add_test(tc, s3_crash_damaged_pending_blob_without_verify);
    tcase_add_test(tc, s3_crash_consumer_cache_file_damaged_between_processes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(s3_crash_suite()); }
