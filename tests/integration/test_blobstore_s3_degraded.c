/*
 * The S3 store when things are not well, against the real test server
 * (tests/helpers/s3_server.h), every consumer a real process (fork):
 *
 * - S3 down: a consumer restarted on a cache dir that holds its blobs
 *   starts from the cache (list falls back to it, warning once) and gets
 *   the producer's state; on an empty cache dir it fails clearly.
 * - A pending blob damaged in place (same size) with verify_cache off is
 *   never uploaded: the announcement after it is dropped, a later blob
 *   still goes up, the journal ends empty.
 * - Two processes on one cache dir keep it within cache_max_bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blobstore/s3_cache.h"
#include "blobstore/s3_int.h"
#include "hollow/hollow.h"
#include "movie_fixture.h"
#include "s3_server.h"
#include "testhelp.h"

#define BUCKET "hollow-test"
#define PREFIX "degraded"

static void start_server(ht_s3 *srv)
{
    char state[PATH_MAX];
    make_tmpdir(state, sizeof state);
    ht_s3_start(srv, state, BUCKET);
}

static int open_store(hollow_blobstore **bs, const ht_s3 *srv,
                      const char *cache, uint64_t max_bytes)
{
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = srv->endpoint;
    o.bucket = srv->bucket;
    o.prefix = PREFIX;
    o.access_key = HT_S3_ACCESS_KEY;
    o.secret_key = HT_S3_SECRET_KEY;
    o.cache_dir = cache;
    o.verify_cache = false;
    if (max_bytes != 0)
        o.cache_max_bytes = max_bytes;
    o.retry_min_ms = 20;
    o.retry_max_ms = 200;
    o.connect_timeout_ms = 2000;
    return hollow_blobstore_s3_new(bs, &o);
}

static int wait_child(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *read_text(const char *path)
{
    size_t len = 0;
    char *p = (char *)ht_read_file(path, &len);
    p = realloc(p, len + 1);
    p[len] = '\0';
    return p;
}

/* the child's log lines, one per line of its log file */
static void log_to_file(hollow_log_level level, const char *message,
                        void *payload)
{
    fprintf((FILE *)payload, "%s: %s\n", hollow_log_level_name(level), message);
    fflush((FILE *)payload);
}

/*
 * A consumer process on `cache`: to `version`, or with the S3 announcer to
 * the announced one when `version` is HOLLOW_VERSION_LATEST. `out` gets
 * "<version> <checksum>\n<dump>" or "error <code>: <message>\n";
 * `out`.log its warnings. Returns the exit status (0: refreshed).
 */
static int consume(const ht_s3 *srv, const char *cache, int64_t version,
                   const char *out)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid != 0)
        return wait_child(pid);
    char logp[PATH_MAX];
    snprintf(logp, sizeof logp, "%s.log", out);
    FILE *f = fopen(out, "w");
    FILE *lf = fopen(logp, "w");
    if (f == NULL || lf == NULL)
        _exit(3);
    hollow_set_log(HOLLOW_LOG_WARN, log_to_file, lf);
    hollow_blobstore *bs = NULL;
    hollow_announcer *a = NULL;
    hollow_consumer *c = NULL;
    int rc = open_store(&bs, srv, cache, 0);
    if (rc == 0 && version == HOLLOW_VERSION_LATEST) {
        hollow_announcer_s3_options ao = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
        ao.store = bs;
        ao.poll_interval_ms = 100;
        rc = hollow_announcer_s3_new(&a, &ao);
    }
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.announcer = a;
    if (rc == 0)
        rc = hollow_consumer_new(&c, &co);
    if (rc == 0)
        rc = hollow_consumer_refresh(c, version);
    if (rc < 0) {
        fprintf(f, "error %d: %s\n", rc, hollow_error_last()->message);
        if (c != NULL && hollow_consumer_version(c) != 0)
            fprintf(f, "loaded %lld\n", (long long)hollow_consumer_version(c));
    } else {
        hollow_read_state *rs = hollow_consumer_acquire_state(c);
        uint32_t sum = 0;
        if (hollow_read_state_checksum(&sum, rs) != 0)
            _exit(4);
        char *d = dump_state(rs);
        hollow_read_state_release(rs);
        fprintf(f, "%lld %08x\n%s", (long long)hollow_consumer_version(c),
                (unsigned)sum, d);
        free(d);
    }
    fclose(f);
    hollow_consumer_free(c);
    hollow_announcer_free(a);
    hollow_blobstore_free(bs);
    hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL);
    fclose(lf);
    _exit(rc < 0 ? 1 : 0);
}

/* how many lines of `text` contain `needle` */
static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ============================================== start from the cache */

START_TEST(s3_degraded_consumer_starts_from_cache_while_s3_down)
{
    ht_s3 srv;
    start_server(&srv);
    char work[PATH_MAX], pcache[PATH_MAX], ccache[PATH_MAX], empty[PATH_MAX];
    char res[PATH_MAX], logp[PATH_MAX];
    make_tmpdir(work, sizeof work);
    make_tmpdir(pcache, sizeof pcache);
    make_tmpdir(ccache, sizeof ccache);
    make_tmpdir(empty, sizeof empty);
    snprintf(res, sizeof res, "%s/c.out", work);
    snprintf(logp, sizeof logp, "%s/c.out.log", work);

    /* a producer writes three versions */
    hollow_blobstore *bs = NULL;
    HT_OK(open_store(&bs, &srv, pcache, 0));
    hollow_announcer_s3_options ao = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
    ao.store = bs;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_s3_new(&a, &ao));
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, a, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 40, 0, 1, false}), 1);
    ck_assert_int_eq(cycle_spec(p, (spec){5, 40, 1, 2, false}), 2);
    ck_assert_int_eq(cycle_spec(p, (spec){9, 45, 2, 2, false}), 3);
    hollow_producer_free(p);
    hollow_announcer_free(a);
    hollow_blobstore_free(bs);

    /* a consumer with its own cache dir reaches version 3 */
    ck_assert_int_eq(consume(&srv, ccache, HOLLOW_VERSION_LATEST, res), 0);
    char *want = read_text(res);
    ck_assert_msg(strncmp(want, "3 ", 2) == 0, "%.100s", want);

    /* S3 down: a new consumer process on that cache dir gets it again */
    ht_s3_stop(&srv);
    int st = consume(&srv, ccache, 3, res);
    char *got = read_text(res);
    char *log = read_text(logp);
    ck_assert_msg(st == 0, "exit %d: %.300s (log: %.1500s)", st, got, log);
    ck_assert_msg(strcmp(got, want) == 0, "from the cache: %.100s", got);
    free(got);
    ck_assert_msg(count_of(log, "S3 unreachable: listing the cache") == 1,
                  "%.600s", log);
    free(log);

    /* on an empty cache dir it fails clearly and loads nothing */
    st = consume(&srv, empty, 3, res);
    got = read_text(res);
    ck_assert_msg(st == 1 && strncmp(got, "error ", 6) == 0, "exit %d: %.300s",
                  st, got);
    ck_assert_msg(strstr(got, "loaded") == NULL, "%.300s", got);
    char code[32];
    snprintf(code, sizeof code, "error %d:", HOLLOW_EIO);
    ck_assert_msg(strncmp(got, code, strlen(code)) == 0, "%.300s", got);
    ck_assert_msg(strstr(got, "connect") != NULL &&
                  strstr(got, "is cached") != NULL, "%.300s", got);
    free(got);
    log = read_text(logp);
    ck_assert_msg(strstr(log, "S3 unreachable") != NULL, "%.600s", log);
    free(log);
    free(want);
    hollow_schema_list_free(schemas);
}
END_TEST

/* ======================================= damaged while pending */

/* put `n` bytes of `fill` under `k` */
static void put_blob(hollow_blobstore *bs, hollow_blob_key k, size_t n, int fill)
{
    uint8_t *b = malloc(n);
    memset(b, fill, n);
    HT_OK(hollow_blobstore_put_bytes(bs, &k, b, n));
    free(b);
}

/* flip one byte in place (the retrier may be reading the file) */
static void flip_byte(const char *path)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_gt(st.st_size, 0);
    uint8_t b = 0;
    ck_assert_int_eq(pread(fd, &b, 1, st.st_size / 2), 1);
    b ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &b, 1, st.st_size / 2), 1);
    close(fd);
}

START_TEST(s3_degraded_damaged_pending_blob_not_uploaded)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX], path[PATH_MAX], out[2048];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *bs = NULL;
    HT_OK(open_store(&bs, &srv, cache, 0));
    put_blob(bs, hollow_blob_key_snapshot(1), 5000, 'a');
    HT_OK(hollow__s3_store_announce(bs, 1));

    /* S3 down: [snapshot-2, announce 2, header-9, announce 3] pending */
    ht_s3_stop(&srv);
    put_blob(bs, hollow_blob_key_snapshot(2), 7000, 'b');
    HT_OK(hollow__s3_store_announce(bs, 2));
    put_blob(bs, hollow_blob_key_header(9), 300, 'c');
    HT_OK(hollow__s3_store_announce(bs, 3));
    hollow_blobstore_stats stats;
    HT_OK(hollow_blobstore_stats_get(&stats, bs));
    ck_assert_uint_eq(stats.pending, 4);
    uint64_t uploads_before = stats.uploads;

    /* verify_cache is off: only the retrier's own hash can tell */
    snprintf(path, sizeof path, "%s/snapshots/snapshot-2", cache);
    flip_byte(path);
    ht_s3_restart(&srv);
    HT_OK(hollow_blobstore_s3_flush(bs, 20000));
    HT_OK(hollow_blobstore_stats_get(&stats, bs));
    ck_assert_uint_eq(stats.pending, 0);
    ck_assert_uint_eq(stats.uploads - uploads_before, 1); /* header-9 only */

    ck_assert_int_eq(ht_aws(&srv, out, sizeof out,
                            "s3 cp s3://%s/" PREFIX "/announced.version -",
                            srv.bucket),
                     0);
    ck_assert_str_eq(out, "1");
    ck_assert_int_eq(ht_aws(&srv, out, sizeof out, "s3 ls --recursive s3://%s/"
                            PREFIX "/", srv.bucket),
                     0);
    ck_assert_msg(strstr(out, "snapshot-2") == NULL, "%s", out);
    ck_assert_msg(strstr(out, "header-9") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "snapshot-1") != NULL, "%s", out);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0); /* the damaged file is gone */

    hollow__s3_cache *c = NULL;
    HT_OK(hollow__s3_cache_open(&c, cache, 0, false));
    hollow__s3_entry *e = NULL;
    size_t n = 9;
    HT_OK(hollow__s3_journal_pending(c, &e, &n));
    ck_assert_uint_eq(n, 0);
    free(e);
    hollow__s3_cache_close(c);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);
}
END_TEST

/* ========================================= two processes, one bound */

#define BOUND (UINT64_C(1) << 20)
#define BLOB 100000
#define PER_CHILD 30

/* bytes of the cache files in `dir` (not ours: '.' names, the journal) */
static uint64_t dir_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "pending.", 8) == 0)
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        total += S_ISDIR(st.st_mode) ? dir_bytes(p) : (uint64_t)st.st_size;
    }
    closedir(d);
    return total;
}

/* a child: PER_CHILD blobs of its own kind; the largest dir total it saw
 * after its own puts goes to `fd` */
static void bound_child(const ht_s3 *srv, const char *cache, int child,
                        int go, int fd)
{
    char b = 0;
    if (read(go, &b, 1) != 1)
        _exit(3);
    hollow_blobstore *bs = NULL;
    if (open_store(&bs, srv, cache, BOUND) != 0)
        _exit(4);
    uint8_t *buf = malloc(BLOB);
    uint64_t most = 0;
    for (int i = 1; i <= PER_CHILD; i++) {
        memset(buf, 'a' + i % 26, BLOB);
        hollow_blob_key k = child == 0 ? hollow_blob_key_snapshot(i)
                                       : hollow_blob_key_delta(i, i + 1);
        if (hollow_blobstore_put_bytes(bs, &k, buf, BLOB) != 0)
            _exit(5);
        uint64_t now = dir_bytes(cache);
        if (now > most)
            most = now;
    }
    free(buf);
    hollow_blobstore_free(bs);
    _exit(write(fd, &most, sizeof most) == (ssize_t)sizeof most ? 0 : 6);
}

START_TEST(s3_degraded_two_processes_share_the_cache_bound)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    int go[2], res[2];
    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_eq(pipe(res), 0);
    pid_t pid[2];
    for (int i = 0; i < 2; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);
        if (pid[i] == 0) {
            close(go[1]);
            close(res[0]);
            bound_child(&srv, cache, i, go[0], res[1]);
        }
    }
    close(go[0]);
    close(res[1]);
    ck_assert_int_eq(write(go[1], "gg", 2), 2); /* both start at once */
    uint64_t most[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(read(res[0], &most[i], sizeof most[i]),
                         (ssize_t)sizeof most[i]);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(wait_child(pid[i]), 0);
    close(go[1]);
    close(res[0]);
    /* 6 MB went through; what stays fits, and never more than the blobs
     * the two may have in flight between a commit and its eviction */
    uint64_t total = dir_bytes(cache);
    ck_assert_msg(total <= BOUND, "the dir holds %llu bytes, bound %llu",
                  (unsigned long long)total, (unsigned long long)BOUND);
    ck_assert_uint_gt(total, BOUND / 2);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(most[i] <= BOUND + 2 * BLOB, "child %d saw %llu bytes", i,
                      (unsigned long long)most[i]);
    ht_s3_stop(&srv);
}
END_TEST

static Suite *s3_degraded_suite(void)
{
    Suite *s = suite_create("blobstore_s3_degraded");
    TCase *tc = tcase_create("degraded");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, s3_degraded_consumer_starts_from_cache_while_s3_down);
    tcase_add_test(tc, s3_degraded_damaged_pending_blob_not_uploaded);
    tcase_add_test(tc, s3_degraded_two_processes_share_the_cache_bound);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(s3_degraded_suite()); }
