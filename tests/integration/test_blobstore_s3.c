/*
 * The S3 store and the S3 announcer against the real test server
 * (@20minutes/s3rver, tests/helpers/s3_server.h), each test with its own
 * server: a producer's chain read by a consumer in another process with
 * an empty cache; objects written by the store fetched byte-identical by
 * `aws s3 cp`, and a chain uploaded by `aws s3 cp` read by the C
 * consumer; S3 stopped before a cycle (everything queued, the
 * announcement after its blobs, then uploaded by the retrier once S3 is
 * back); strict mode with S3 down; a corrupted object and a damaged cache
 * file; the consumer's mmap mode on cache files; counters; blob sizes
 * without downloads; options.
 * The kill -9 test is test_blobstore_s3_crash.c; the threads are
 * test_blobstore_s3_threads.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blobstore/blobstore_int.h"
#include "blobstore/s3_cache.h"
#include "hollow/hollow.h"
#include "hollow/sys/blobstore.h"
#include "movie_fixture.h"
#include "s3_server.h"
#include "testhelp.h"

#define BUCKET "hollow-test"

extern char **environ;

/* ------------------------------------------------------------ helpers */

static void start_server(ht_s3 *srv)
{
    char state[PATH_MAX];
    make_tmpdir(state, sizeof state);
    ht_s3_start(srv, state, BUCKET);
}

static hollow_blobstore *s3_store_opts(const ht_s3 *srv, const char *prefix,
                                       const char *cache, bool strict)
{
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = srv->endpoint;
    o.bucket = srv->bucket;
    o.prefix = prefix;
    o.access_key = "S3RVER";
    o.secret_key = "S3RVER";
    o.cache_dir = cache;
    o.strict = strict;
    o.retry_min_ms = 20;
    o.retry_max_ms = 200;
    o.connect_timeout_ms = 2000;
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_s3_new(&bs, &o));
    return bs;
}

static hollow_blobstore *s3_store(const ht_s3 *srv, const char *prefix,
                                  const char *cache)
{
    return s3_store_opts(srv, prefix, cache, false);
}

static hollow_announcer *s3_announcer(hollow_blobstore *bs)
{
    hollow_announcer_s3_options o = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
    o.store = bs;
    o.poll_interval_ms = 100;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_s3_new(&a, &o));
    return a;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = ht_rand(&st);
        memcpy(p + i, &r, n - i < 8 ? n - i : 8);
    }
}

/* the bytes of a blob through get(); malloc'd */
static uint8_t *get_all(hollow_blobstore *bs, hollow_blob_key k, size_t *len)
{
    hollow_stream *s = NULL;
    HT_OK(hollow_blobstore_get(&s, bs, &k));
    size_t cap = 1 << 16, n = 0;
    uint8_t *p = malloc(cap);
    for (;;) {
        if (n == cap)
            p = realloc(p, cap *= 2);
        size_t got = 0;
        HT_OK(hollow_stream_read(&got, s, p + n, cap - n));
        if (got == 0)
            break;
        n += got;
    }
    hollow_stream_close(s);
    *len = n;
    return p;
}

static hollow_blobstore_stats stats_of(hollow_blobstore *bs)
{
    hollow_blobstore_stats st;
    HT_OK(hollow_blobstore_stats_get(&st, bs));
    return st;
}

/* the object's content through the aws CLI (`aws s3 cp s3://... -`) */
static void aws_cat(const ht_s3 *srv, const char *key, char *out, size_t cap)
{
    int rc = ht_aws(srv, out, cap, "s3 cp s3://%s/%s -", srv->bucket, key);
    ck_assert_msg(rc == 0, "aws s3 cp %s: %d: %s", key, rc, out);
}

/*
 * The consumer side of consume_in_child, run by this binary re-executed
 * with HT_S3_CONSUME set (a fresh process, not a fork of a threaded one):
 * a new store over an empty cache dir and an announcer, a consumer
 * refreshed to the announced version. Writes "<version>\n<plan>\n<dump>"
 * (or the error) to the file HT_S3_CONSUME names; the exit status says
 * whether it worked.
 */
static int consume_main(void)
{
    FILE *f = fopen(getenv("HT_S3_CONSUME"), "w");
    if (f == NULL)
        return 2;
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = getenv("HT_S3_ENDPOINT");
    o.bucket = getenv("HT_S3_BUCKET");
    o.prefix = getenv("HT_S3_PREFIX");
    o.access_key = "S3RVER";
    o.secret_key = "S3RVER";
    o.cache_dir = getenv("HT_S3_CACHE");
    hollow_blobstore *bs = NULL;
    hollow_announcer *a = NULL;
    hollow_consumer *c = NULL;
    recorder rec;
    recorder_init(&rec);
    hollow_announcer_s3_options ao = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    int rc = hollow_blobstore_s3_new(&bs, &o);
    ao.store = bs;
    if (rc == 0)
        rc = hollow_announcer_s3_new(&a, &ao);
    co.blobstore = bs;
    co.announcer = a;
    co.memory_mode = strcmp(getenv("HT_S3_MODE"), "mmap") == 0
                         ? HOLLOW_MEMORY_MMAP
                         : HOLLOW_MEMORY_HEAP;
    co.listener = record_event;
    co.listener_payload = &rec;
    if (rc == 0)
        rc = hollow_consumer_new(&c, &co);
    if (rc == 0)
        rc = hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST);
    if (rc < 0) {
        fprintf(f, "error %d: %s\n", rc, hollow_error_last()->message);
        fclose(f);
        return 1;
    }
    int64_t v = hollow_consumer_version(c);
    ev_rec e;
    memset(&e, 0, sizeof e);
    recorder_find(&rec, v, true, &e);
    char *d = dump_consumer(c);
    fprintf(f, "%lld\n%s\n%s", (long long)v, e.plan, d);
    fclose(f);
    free(d);
    hollow_consumer_free(c);
    hollow_announcer_free(a);
    hollow_blobstore_free(bs);
    recorder_destroy(&rec);
    return 0;
}

/* run consume_main in a new process of this binary with an empty cache
 * dir; its exit status */
static int consume_in_child(const ht_s3 *srv, const char *prefix,
                            hollow_memory_mode mode, const char *out)
{
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    /* the environment is built before fork: the child of a threaded
     * process may only exec */
    enum { OURS = 6 };
    char vars[OURS][PATH_MAX + 32];
    snprintf(vars[0], sizeof vars[0], "HT_S3_CONSUME=%s", out);
    snprintf(vars[1], sizeof vars[1], "HT_S3_ENDPOINT=%s", srv->endpoint);
    snprintf(vars[2], sizeof vars[2], "HT_S3_BUCKET=%s", srv->bucket);
    snprintf(vars[3], sizeof vars[3], "HT_S3_PREFIX=%s", prefix);
    snprintf(vars[4], sizeof vars[4], "HT_S3_CACHE=%s", cache);
    snprintf(vars[5], sizeof vars[5], "HT_S3_MODE=%s",
             mode == HOLLOW_MEMORY_MMAP ? "mmap" : "heap");
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **envp = calloc(n + OURS + 1, sizeof *envp);
    ck_assert_ptr_nonnull(envp);
    for (size_t i = 0; i < OURS; i++)
        envp[i] = vars[i];
    memcpy(envp + OURS, environ, n * sizeof *envp);
    char *argv[] = {"test_blobstore_s3", NULL};
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execve("/proc/self/exe", argv, envp);
        _exit(127);
    }
    free(envp);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* the dump of `v` read from `bs` by a consumer of this process */
static char *dump_at(hollow_blobstore *bs, int64_t v)
{
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(c, v));
    char *d = dump_consumer(c);
    hollow_consumer_free(c);
    return d;
}

/* "<version>\n<plan>\n<dump>" from consume_in_child */
static void expect_child(const char *out, int64_t v, const char *plan,
                         const char *dump)
{
    size_t len = 0;
    char *got = (char *)ht_read_file(out, &len);
    got = realloc(got, len + 1);
    got[len] = '\0';
    char head[256];
    snprintf(head, sizeof head, "%lld\n%s\n", (long long)v, plan);
    ck_assert_msg(strncmp(got, head, strlen(head)) == 0,
                  "the consumer says \"%.300s\", expected \"%s\"", got, head);
    ck_assert_msg(strcmp(got + strlen(head), dump) == 0,
                  "the consumer's state differs from the producer's");
    free(got);
}

/* ============================================================ chains */

/*
 * Producer → S3 → consumer in another process: twelve versions, a
 * snapshot every fourth (1, 5, 9), deltas and reverse deltas between all,
 * announced through the S3 announcer (a producer with its default lease:
 * the announcer has none, so it runs without). A child with an empty
 * cache finds version 12 and plans snapshot-9 and three deltas; its state
 * equals the producer's. The listing has every blob in its folder, and
 * announced.version holds "12" for `aws` too.
 */
START_TEST(s3_chain_producer_to_consumer_in_another_process)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *bs = s3_store(&srv, "chain/one", cache);
    hollow_announcer *a = s3_announcer(bs);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, a, schemas, 3, true);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(cycle_spec(p, (spec){i * 3, 40 + i * 2, i, i % 3,
                                              false}),
                         i + 1);
    int64_t latest = 0;
    HT_OK(hollow_announcer_latest(&latest, a));
    ck_assert_int_eq(latest, 12);
    char out[1024];
    aws_cat(&srv, "chain/one/announced.version", out, sizeof out);
    ck_assert_str_eq(out, "12");
    /* the folder layout, seen by aws */
    char ls[16384];
    ck_assert_int_eq(ht_aws(&srv, ls, sizeof ls, "s3 ls --recursive "
                            "s3://%s/chain/one/", srv.bucket), 0);
    ck_assert_ptr_nonnull(strstr(ls, "chain/one/reverse/reversedelta-12-11\n"));
    ck_assert_ptr_nonnull(strstr(ls, "chain/one/deltas/delta-11-12\n"));
    ck_assert_ptr_nonnull(strstr(ls, "chain/one/headers/header-12\n"));
    ck_assert_ptr_nonnull(strstr(ls, "chain/one/snapshots/snapshot-9\n"));
    ck_assert_ptr_null(strstr(ls, "snapshot-10"));

    char *want = dump_at(bs, 12);
    char res[PATH_MAX];
    snprintf(res, sizeof res, "%s/child.out", cache);
    ck_assert_int_eq(consume_in_child(&srv, "chain/one", HOLLOW_MEMORY_HEAP,
                                      res), 0);
    expect_child(res, 12, "snapshot-9, delta-9-10, delta-10-11, delta-11-12",
                 want);
    free(want);

    /* a store with another prefix sees none of it */
    char cache2[PATH_MAX];
    make_tmpdir(cache2, sizeof cache2);
    hollow_blobstore *other = s3_store(&srv, "chain", cache2);
    char *listing = store_listing(other);
    ck_assert_str_eq(listing, "");
    free(listing);
    listing = store_listing(bs);
    ck_assert_ptr_nonnull(strstr(listing, "header-12"));
    free(listing);
    hollow_blobstore_free(other);

    hollow_producer_free(p);
    hollow_schema_list_free(schemas);
    hollow_announcer_free(a);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);
}
END_TEST

/*
 * The S3 announcer has no lease: hollow_announcer_lease() says so, a
 * producer asking for one explicitly fails its cycle with that, and one
 * with the default lease runs without (the chain test above). A consumer
 * following the announcer hears a new version by polling.
 */
START_TEST(s3_announcer_no_lease_and_following_consumer)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *bs = s3_store(&srv, NULL, cache);
    hollow_announcer *a = s3_announcer(bs);
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "me",
                                            1000, NULL, 0),
                     HOLLOW_ENOTSUPPORTED);
    int64_t v = 0;
    ck_assert_int_eq(hollow_announcer_latest(&v, a), HOLLOW_ENOTFOUND);

    hollow_schema_list *schemas = schemas_new();
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = a;
    po.schemas = schemas;
    po.minter = counter_minter;
    po.lease_ttl_ms = 5000;
    hollow_producer *p = NULL;
    HT_OK(hollow_producer_new(&p, &po));
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){0, 10, 0, 1, false};
    ck_assert_int_eq(hollow_producer_run_cycle(&v, p, populate, &pp),
                     HOLLOW_ENOTSUPPORTED);
    hollow_producer_free(p);

    /* a second announcer object (another process's view) follows */
    hollow_announcer *watcher = s3_announcer(bs);
    hollow_consumer *c = consumer_new(bs, watcher, true, HOLLOW_MEMORY_HEAP,
                                      NULL);
    p = producer_new(bs, a, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 10, 0, 1, false}), 1);
    ck_assert_int_eq(cycle_spec(p, (spec){2, 10, 1, 1, false}), 2);
    HT_OK(hollow_announcer_wait_for_version(watcher, 2, 10000));
    int64_t t0 = ht_now_ms();
    while (hollow_consumer_version(c) != 2 && ht_now_ms() - t0 < 10000)
        ht_sleep_ms(20);
    ck_assert_int_eq(hollow_consumer_version(c), 2);
    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_schema_list_free(schemas);
    hollow_announcer_free(watcher);
    hollow_announcer_free(a);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);
}
END_TEST

/* ======================================================= aws interop */

/*
 * `aws s3 cp` fetches a 7 MB snapshot the store wrote: byte-identical.
 * A chain a filesystem producer wrote, uploaded with `aws s3 cp` into the
 * folder layout (objects without x-amz-meta-sha256: accepted unverified),
 * is read by a C consumer with an empty cache: the newest version, the
 * same state as read from the directory.
 */
START_TEST(s3_aws_cli_reads_ours_and_we_read_theirs)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], out[4096];
    make_tmpdir(cache, sizeof cache);
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = s3_store(&srv, "interop", cache);
    size_t n = 7u << 20;
    uint8_t *blob = malloc(n);
    fill_random(blob, n, 42);
    hollow_blob_key k = hollow_blob_key_snapshot(77);
    HT_OK(hollow_blobstore_put_bytes(bs, &k, blob, n));
    snprintf(path, sizeof path, "%s/fetched", dir);
    ck_assert_int_eq(ht_aws(&srv, out, sizeof out,
                            "s3 cp s3://%s/interop/snapshots/snapshot-77 %s",
                            srv.bucket, path), 0);
    size_t got_len = 0;
    uint8_t *got = ht_read_file(path, &got_len);
    ck_assert_uint_eq(got_len, n);
    ck_assert(memcmp(got, blob, n) == 0);
    free(got);
    free(blob);
    hollow_blobstore_free(bs);

    /* theirs: a filesystem chain, uploaded by aws */
    char fsdir[PATH_MAX];
    make_tmpdir(fsdir, sizeof fsdir);
    hollow_blobstore *fs = fs_store(fsdir);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(fs, NULL, schemas, 1, true);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(cycle_spec(p, (spec){i, 30, i, 2, false}), i + 1);
    hollow_producer_free(p);
    static const char *const folders[] = {"snapshots", "deltas", "reverse",
                                          "headers"};
    /* staged in the folder layout, then one recursive `aws s3 cp` */
    char stage[PATH_MAX], staged[PATH_MAX];
    make_tmpdir(stage, sizeof stage);
    for (int j = 0; j < 4; j++) {
        snprintf(staged, sizeof staged, "%s/%s", stage, folders[j]);
        ck_assert_int_eq(mkdir(staged, 0755), 0);
    }
    int uploaded = 0;
    for (int v = 1; v <= 5; v++) {
        hollow_blob_key keys[4] = {hollow_blob_key_snapshot(v),
                                   hollow_blob_key_delta(v - 1, v),
                                   hollow_blob_key_reverse_delta(v + 1, v),
                                   hollow_blob_key_header(v)};
        for (int j = 0; j < 4; j++) {
            char name[HOLLOW_BLOB_NAME_MAX];
            HT_OK(hollow_blob_key_name(name, sizeof name, &keys[j]));
            snprintf(path, sizeof path, "%s/%s", fsdir, name);
            if (access(path, F_OK) != 0)
                continue;
            snprintf(staged, sizeof staged, "%s/%s/%s", stage, folders[j],
                     name);
            ck_assert_int_eq(link(path, staged), 0);
            uploaded++;
        }
    }
    int rc = ht_aws(&srv, out, sizeof out, "s3 cp --recursive %s s3://%s/theirs/",
                    stage, srv.bucket);
    ck_assert_msg(rc == 0, "aws s3 cp --recursive: %s", out);
    ck_assert_int_eq(uploaded, 16); /* 5 headers, 4+4 deltas, 3 snapshots */
    char cache2[PATH_MAX];
    make_tmpdir(cache2, sizeof cache2);
    hollow_blobstore *theirs = s3_store(&srv, "theirs", cache2);
    hollow_consumer *c = consumer_new(theirs, NULL, false, HOLLOW_MEMORY_HEAP,
                                      NULL);
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST));
    ck_assert_int_eq(hollow_consumer_version(c), 5);
    char *d = dump_consumer(c);
    char *want = dump_at(fs, 5);
    ck_assert_str_eq(d, want);
    free(d);
    free(want);
    HT_OK(hollow_consumer_refresh(c, 2)); /* reverse deltas back */
    d = dump_consumer(c);
    want = dump_at(fs, 2);
    ck_assert_str_eq(d, want);
    free(d);
    free(want);
    hollow_consumer_free(c);
    hollow_schema_list_free(schemas);
    hollow_blobstore_free(theirs);
    hollow_blobstore_free(fs);
    ht_s3_stop(&srv);
}
END_TEST

/* ================================================== S3 unreachable */

/* the pending entries of a cache dir, read through a second handle */
static size_t journal_of(const char *cache, hollow__s3_entry **out)
{
    hollow__s3_cache *c = NULL;
    HT_OK(hollow__s3_cache_open(&c, cache, UINT64_C(1) << 32, false));
    size_t n = 0;
    HT_OK(hollow__s3_journal_pending(c, out, &n));
    hollow__s3_cache_close(c);
    return n;
}

/*
 * S3 stopped before a cycle: the cycle succeeds and announces; every blob
 * it wrote and then the announcement wait in the journal, in that order;
 * the listing shows the pending blobs; S3 still says version 2. S3
 * started again: the retrier uploads all of it (flush), the counters say
 * so, announced.version holds 3, and a consumer in another process with
 * an empty cache reaches version 3.
 */
START_TEST(s3_down_cycle_queues_then_retrier_uploads)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *bs = s3_store(&srv, "down", cache);
    hollow_announcer *a = s3_announcer(bs);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, a, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 30, 0, 1, false}), 1);
    ck_assert_int_eq(cycle_spec(p, (spec){3, 30, 1, 2, false}), 2);
    ck_assert_uint_eq(stats_of(bs).pending, 0);

    ht_s3_stop(&srv);
    ck_assert_int_eq(cycle_spec(p, (spec){6, 31, 2, 2, false}), 3);
    int64_t latest = 0;
    HT_OK(hollow_announcer_latest(&latest, a));
    ck_assert_int_eq(latest, 3);
    hollow__s3_entry *e = NULL;
    size_t n = journal_of(cache, &e);
    /* header, delta, reverse delta, snapshot, then the announcement */
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(e[0].relkey, "headers/header-3");
    ck_assert_str_eq(e[1].relkey, "deltas/delta-2-3");
    ck_assert_str_eq(e[2].relkey, "reverse/reversedelta-3-2");
    ck_assert_str_eq(e[3].relkey, "snapshots/snapshot-3");
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(e[i].kind, HOLLOW__S3_ENTRY_BLOB);
    ck_assert_int_eq(e[4].kind, HOLLOW__S3_ENTRY_ANNOUNCE);
    ck_assert_int_eq(e[4].version, 3);
    hollow_blobstore_stats st = stats_of(bs);
    ck_assert_uint_eq(st.pending, 5);
    uint64_t bytes = 0;
    for (int i = 0; i < 4; i++)
        bytes += (uint64_t)e[i].size;
    ck_assert_uint_eq(st.pending_bytes, bytes);
    free(e);
    /* the pending blobs are readable (cache) but S3 cannot list */
    hollow_blob_key sk = hollow_blob_key_snapshot(3);
    ck_assert(has_blob(bs, sk));
    ck_assert_int_eq(hollow_blobstore_s3_flush(bs, 100), HOLLOW_ENOTFOUND);

    uint64_t up_before = st.uploads;
    ht_s3_restart(&srv);
    char out[256];
    HT_OK(hollow_blobstore_s3_flush(bs, 20000));
    st = stats_of(bs);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_uint_eq(st.pending_bytes, 0);
    ck_assert_uint_eq(st.uploads, up_before + 5);
    ck_assert_uint_ge(st.retries, 5);
    aws_cat(&srv, "down/announced.version", out, sizeof out);
    ck_assert_str_eq(out, "3");
    char *listing = store_listing(bs);
    ck_assert_ptr_nonnull(strstr(listing, "snapshot-3"));
    free(listing);

    char *want = dump_at(bs, 3);
    char res[PATH_MAX];
    snprintf(res, sizeof res, "%s/child.out", cache);
    ck_assert_int_eq(consume_in_child(&srv, "down", HOLLOW_MEMORY_HEAP, res), 0);
    expect_child(res, 3, "snapshot-3", want);
    free(want);

    hollow_producer_free(p);
    hollow_schema_list_free(schemas);
    hollow_announcer_free(a);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);
}
END_TEST

/*
 * A blob queued while S3 is down and still pending when its store is
 * freed is uploaded by the next store opened on the same cache dir; a
 * second store on the same cache dir at the same time leaves the upload
 * to the one holding the journal lock, and its flush sees it done.
 */
START_TEST(s3_pending_survives_free_and_is_uploaded_by_next_store)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *bs = s3_store(&srv, "next", cache);
    ht_s3_stop(&srv);
    uint8_t blob[1000];
    fill_random(blob, sizeof blob, 7);
    hollow_blob_key k = hollow_blob_key_delta(5, 6);
    HT_OK(hollow_blobstore_put_bytes(bs, &k, blob, sizeof blob));
    ck_assert_uint_eq(stats_of(bs).pending, 1);
    hollow_blobstore_free(bs);

    /* a retrier waiting out a long backoff is stopped at once by free */
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = srv.endpoint;
    o.bucket = srv.bucket;
    o.prefix = "next";
    o.access_key = o.secret_key = "S3RVER";
    o.cache_dir = cache;
    o.retry_min_ms = o.retry_max_ms = 60000;
    HT_OK(hollow_blobstore_s3_new(&bs, &o));
    hollow_blobstore_stats st;
    int64_t t0 = ht_now_ms();
    do { /* its first attempt, at start, fails: then it waits a minute */
        ht_sleep_ms(20);
        HT_OK(hollow_blobstore_stats_get(&st, bs));
    } while (st.retries == 0 && ht_now_ms() - t0 < 10000);
    ck_assert_uint_eq(st.retries, 1);
    t0 = ht_now_ms();
    hollow_blobstore_free(bs);
    ck_assert_int_lt(ht_now_ms() - t0, 2000);

    ht_s3_restart(&srv);
    hollow_blobstore *b1 = s3_store(&srv, "next", cache);
    hollow_blobstore *b2 = s3_store(&srv, "next", cache);
    HT_OK(hollow_blobstore_s3_flush(b2, 20000));
    HT_OK(hollow_blobstore_s3_flush(b1, 20000));
    ck_assert_uint_eq(stats_of(b1).uploads + stats_of(b2).uploads, 1);
    hollow_blobstore_free(b1);
    hollow_blobstore_free(b2);
    char dir[PATH_MAX], path[PATH_MAX], out[512];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/d", dir);
    ck_assert_int_eq(ht_aws(&srv, out, sizeof out,
                            "s3 cp s3://%s/next/deltas/delta-5-6 %s",
                            srv.bucket, path), 0);
    size_t len = 0;
    uint8_t *got = ht_read_file(path, &len);
    ck_assert_uint_eq(len, sizeof blob);
    ck_assert(memcmp(got, blob, len) == 0);
    free(got);
    ht_s3_stop(&srv);
}
END_TEST

/*
 * Strict mode with S3 down: the cycle fails with HOLLOW_EIO, nothing is
 * pending, and once S3 is back the announced version is still the one
 * before and no blob of the failed cycle is there.
 */
START_TEST(s3_strict_down_fails_cycle_and_announces_nothing)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *bs = s3_store_opts(&srv, "strict", cache, true);
    hollow_announcer *a = s3_announcer(bs);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, a, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 30, 0, 1, false}), 1);
    ht_s3_stop(&srv);
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){4, 30, 1, 1, false};
    int64_t v = 0;
    ck_assert_int_eq(hollow_producer_run_cycle(&v, p, populate, &pp),
                     HOLLOW_EIO);
    ck_assert_uint_eq(stats_of(bs).pending, 0);
    uint8_t b[10] = {1};
    hollow_blob_key k = hollow_blob_key_snapshot(99);
    ck_assert_int_eq(hollow_blobstore_put_bytes(bs, &k, b, sizeof b),
                     HOLLOW_EIO);
    char path[PATH_MAX];
    ck_assert_int_eq(hollow_blobstore_get_file(path, sizeof path, bs, &k),
                     HOLLOW_EIO); /* not in the cache either */
    ht_s3_restart(&srv);
    char out[256];
    aws_cat(&srv, "strict/announced.version", out, sizeof out);
    ck_assert_str_eq(out, "1");
    char *listing = store_listing(bs);
    ck_assert_ptr_null(strstr(listing, "-2"));
    ck_assert_ptr_null(strstr(listing, "snapshot-99"));
    free(listing);
    hollow_producer_free(p);
    hollow_schema_list_free(schemas);
    hollow_announcer_free(a);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);

    /* strict: an unreachable S3 at creation is an error too */
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = srv.endpoint;
    o.bucket = srv.bucket;
    o.access_key = o.secret_key = "S3RVER";
    o.prefix = "strict";
    o.cache_dir = cache;
    o.strict = true;
    hollow_blobstore *none = NULL;
    ck_assert_int_eq(hollow_blobstore_s3_new(&none, &o), HOLLOW_EIO);
    ck_assert_ptr_null(none);
    o.strict = false; /* not strict: it opens, puts will queue */
    HT_OK(hollow_blobstore_s3_new(&none, &o));
    hollow_blobstore_free(none);
}
END_TEST

/* ======================================================== corruption */

/* the server's file of an object (s3rver keeps <bucket>/<key>._S3rver_object) */
static void object_file(char *path, size_t cap, const ht_s3 *srv,
                        const char *key)
{
    snprintf(path, cap, "%s/data/%s/%s._S3rver_object", srv->state,
             srv->bucket, key);
    ck_assert_msg(access(path, F_OK) == 0, "no server file %s", path);
}

/*
 * One byte of an object flipped on the server: a store with an empty
 * cache gets HOLLOW_ECORRUPT and caches nothing; a consumer refreshing to
 * it fails and stays empty. A cache file cut short is noticed at the next
 * open (size), dropped and fetched again; with verify_cache, a byte
 * changed in place is noticed too (hash).
 */
START_TEST(s3_corrupt_object_and_cache_file_detected)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *bs = s3_store(&srv, "bad", cache);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 50, 0, 1, false}), 1);
    hollow_producer_free(p);

    char obj[PATH_MAX];
    object_file(obj, sizeof obj, &srv, "bad/snapshots/snapshot-1");
    size_t len = 0;
    uint8_t *bytes = ht_read_file(obj, &len);
    bytes[len / 2] ^= 0x40;
    ht_write_file(obj, bytes, len);
    free(bytes);

    char cache2[PATH_MAX];
    make_tmpdir(cache2, sizeof cache2);
    hollow_blobstore *fresh = s3_store(&srv, "bad", cache2);
    hollow_blob_key k = hollow_blob_key_snapshot(1);
    hollow_stream *s = NULL;
    ck_assert_int_eq(hollow_blobstore_get(&s, fresh, &k), HOLLOW_ECORRUPT);
    ck_assert_ptr_null(s);
    hollow_consumer *c = consumer_new(fresh, NULL, false, HOLLOW_MEMORY_HEAP,
                                      NULL);
    ck_assert_int_eq(hollow_consumer_refresh(c, 1), HOLLOW_ECORRUPT);
    ck_assert_int_eq(hollow_consumer_version(c), 0);
    hollow_consumer_free(c);
    char path[PATH_MAX];
    ck_assert_int_eq(hollow_blobstore_get_file(path, sizeof path, fresh, &k),
                     HOLLOW_ECORRUPT);
    hollow_blobstore_free(fresh);

    /* the first store still has the good bytes in its cache: a file cut
     * short is dropped and fetched again, and that fetch is corrupt */
    HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &k));
    ck_assert(strncmp(path, cache, strlen(cache)) == 0);
    ck_assert_int_eq(truncate(path, 10), 0);
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k), HOLLOW_ECORRUPT);

    /* the header is fine: with verify_cache a byte changed in its cache
     * file is caught and the good object fetched again */
    hollow_blobstore_free(bs);
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = srv.endpoint;
    o.bucket = srv.bucket;
    o.prefix = "bad";
    o.access_key = o.secret_key = "S3RVER";
    o.cache_dir = cache;
    o.verify_cache = true;
    HT_OK(hollow_blobstore_s3_new(&bs, &o));
    hollow_blob_key hk = hollow_blob_key_header(1);
    size_t good_len = 0;
    uint8_t *good = get_all(bs, hk, &good_len);
    HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &hk));
    bytes = ht_read_file(path, &len);
    ck_assert_uint_eq(len, good_len);
    bytes[0] ^= 1;
    ht_write_file(path, bytes, len);
    free(bytes);
    uint64_t misses = stats_of(bs).cache_misses;
    size_t again_len = 0;
    uint8_t *again = get_all(bs, hk, &again_len);
    ck_assert_uint_eq(again_len, good_len);
    ck_assert(memcmp(again, good, good_len) == 0);
    ck_assert_uint_eq(stats_of(bs).cache_misses, misses + 1);
    free(again);
    free(good);
    hollow_schema_list_free(schemas);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);
}
END_TEST

/* ========================================== mmap, counters, list, remove */

/*
 * The consumer's mmap mode over S3 (get_file gives cache files), in
 * another process with an empty cache, and here; the counters count
 * exactly: puts upload, a first get misses and downloads, later gets hit.
 */
START_TEST(s3_mmap_consumer_and_counters)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *bs = s3_store(&srv, "mm", cache);
    hollow_announcer *a = s3_announcer(bs);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, a, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 200, 0, 3, false}), 1);
    ck_assert_int_eq(cycle_spec(p, (spec){5, 200, 1, 3, false}), 2);
    hollow_producer_free(p);
    char *want = dump_at(bs, 2);
    char res[PATH_MAX];
    snprintf(res, sizeof res, "%s/child.out", cache);
    ck_assert_int_eq(consume_in_child(&srv, "mm", HOLLOW_MEMORY_MMAP, res), 0);
    expect_child(res, 2, "snapshot-2", want);
    free(want);

    /* counters of a fresh store */
    char cache2[PATH_MAX];
    make_tmpdir(cache2, sizeof cache2);
    hollow_blobstore *b2 = s3_store(&srv, "mm", cache2);
    hollow_blobstore_stats st = stats_of(b2);
    ck_assert_uint_eq(st.uploads + st.cache_hits + st.cache_misses +
                          st.bytes_up + st.bytes_down + st.pending,
                      0);
    uint8_t blob[3000];
    fill_random(blob, sizeof blob, 3);
    hollow_blob_key k = hollow_blob_key_snapshot(500);
    HT_OK(hollow_blobstore_put_bytes(b2, &k, blob, sizeof blob));
    st = stats_of(b2);
    ck_assert_uint_eq(st.uploads, 1);
    ck_assert_uint_eq(st.bytes_up, sizeof blob);
    /* sizes from the cache (put here) or a HEAD: nothing is downloaded */
    int64_t size = 0;
    HT_OK(hollow_blobstore_size(&size, b2, &k));
    ck_assert_int_eq(size, (int64_t)sizeof blob);
    hollow_blob_key s2 = hollow_blob_key_snapshot(2);
    size_t s2_len = 0;
    free(get_all(bs, s2, &s2_len));
    HT_OK(hollow_blobstore_size(&size, b2, &s2));
    ck_assert_int_eq(size, (int64_t)s2_len);
    hollow_blob_key absent = hollow_blob_key_snapshot(499);
    ck_assert_int_eq(hollow_blobstore_size(&size, b2, &absent), HOLLOW_ENOTFOUND);
    st = stats_of(b2);
    ck_assert_uint_eq(st.cache_misses + st.bytes_down, 0);
    char s2_path[PATH_MAX];
    snprintf(s2_path, sizeof s2_path, "%s/snapshots/snapshot-2", cache2);
    ck_assert_int_ne(access(s2_path, F_OK), 0);
    size_t len = 0;
    free(get_all(b2, k, &len)); /* in the cache since the put */
    hollow_blob_key hk = hollow_blob_key_header(2);
    char path[PATH_MAX];
    HT_OK(hollow_blobstore_get_file(path, sizeof path, b2, &hk)); /* miss */
    ck_assert(strncmp(path, cache2, strlen(cache2)) == 0);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    HT_OK(hollow_blobstore_get_file(path, sizeof path, b2, &hk)); /* hit */
    st = stats_of(b2);
    ck_assert_uint_eq(st.cache_hits, 2);
    ck_assert_uint_eq(st.cache_misses, 1);
    ck_assert_uint_eq(st.bytes_down, (uint64_t)sb.st_size);
    ck_assert_uint_eq(st.retries, 0);

    /* a consumer in mmap mode here, on the same store */
    hollow_consumer *c = consumer_new(b2, a, false, HOLLOW_MEMORY_MMAP, NULL);
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST));
    ck_assert_int_eq(hollow_consumer_version(c), 2);
    hollow_consumer_free(c);

    /* the memory store counts too (test_metrics.c has more) */
    hollow_blobstore *mem = mem_store();
    HT_OK(hollow_blobstore_stats_get(&st, mem));
    ck_assert_uint_eq(st.cache_misses + st.uploads, 0);
    ck_assert_int_eq(hollow_blobstore_stats_get(NULL, mem), HOLLOW_EINVAL);
    hollow_blobstore_free(mem);
    hollow_schema_list_free(schemas);
    hollow_announcer_free(a);
    hollow_blobstore_free(b2);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);
}
END_TEST

/*
 * list ignores objects that are not blobs in their folder (aws puts
 * junk beside them); delete removes from S3 and the cache, and a blob in
 * neither is HOLLOW_ENOTFOUND; the exclusive claim refuses a name S3 has.
 */
START_TEST(s3_list_ignores_junk_remove_and_claim)
{
    ht_s3 srv;
    start_server(&srv);
    char cache[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], out[1024];
    make_tmpdir(cache, sizeof cache);
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = s3_store(&srv, "ls", cache);
    uint8_t b[100] = {9};
    hollow_blob_key keys[4] = {hollow_blob_key_snapshot(3),
                               hollow_blob_key_delta(2, 3),
                               hollow_blob_key_reverse_delta(3, 2),
                               hollow_blob_key_header(3)};
    for (int i = 0; i < 4; i++)
        HT_OK(hollow_blobstore_put_bytes(bs, &keys[i], b, sizeof b));
    /* junk beside the blobs, uploaded by one recursive `aws s3 cp` */
    static const char *const junk_dirs[] = {"ls", "ls/snapshots",
                                            "ls/snapshots/sub", "ls/deltas",
                                            "lsx", "lsx/snapshots"};
    static const char *const junk[] = {
        "ls/snapshots/delta-1-2", "ls/deltas/snapshot-1", "ls/snapshots/x",
        "ls/snapshot-4", "ls/snapshots/sub/snapshot-5", "lsx/snapshots/snapshot-6",
        "ls/snapshots/snapshot-07"};
    for (size_t i = 0; i < sizeof junk_dirs / sizeof *junk_dirs; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, junk_dirs[i]);
        ck_assert_int_eq(mkdir(path, 0755), 0);
    }
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, junk[i]);
        ht_write_file(path, "x", 1);
    }
    ck_assert_int_eq(ht_aws(&srv, out, sizeof out, "s3 cp --recursive %s "
                            "s3://%s/", dir, srv.bucket), 0);
    char *listing = store_listing(bs);
    ck_assert_str_eq(listing,
                     "reversedelta-3-2 snapshot-3 delta-2-3 header-3");
    free(listing);

    HT_OK(hollow_blobstore_delete(bs, &keys[0]));
    ck_assert_int_eq(hollow_blobstore_delete(bs, &keys[0]), HOLLOW_ENOTFOUND);
    hollow_stream *s = NULL;
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &keys[0]), HOLLOW_ENOTFOUND);
    ck_assert_int_ne(ht_aws(&srv, out, sizeof out,
                            "s3api head-object --bucket %s --key "
                            "ls/snapshots/snapshot-3", srv.bucket), 0);
    listing = store_listing(bs);
    ck_assert_str_eq(listing, "reversedelta-3-2 delta-2-3 header-3");
    free(listing);

    /* a name only S3 has (another process's cache) is not claimed again */
    char cache2[PATH_MAX];
    make_tmpdir(cache2, sizeof cache2);
    hollow_blobstore *b2 = s3_store(&srv, "ls", cache2);
    ck_assert_int_eq(hollow__blobstore_put_new(b2, &keys[3], b, sizeof b),
                     HOLLOW_EEXISTS);
    hollow_blob_key h4 = hollow_blob_key_header(4);
    HT_OK(hollow__blobstore_put_new(b2, &h4, b, sizeof b));
    ck_assert_int_eq(hollow__blobstore_put_new(bs, &h4, b, sizeof b),
                     HOLLOW_EEXISTS);
    hollow_blobstore_free(b2);
    hollow_blobstore_free(bs);
    ht_s3_stop(&srv);
}
END_TEST

/* ============================================================ options */

/*
 * Bad options are refused with a clear message; the default cache dir is
 * $XDG_CACHE_HOME/hollow/<endpoint>/<bucket>/<prefix>; keys, region and
 * endpoint come from the environment when not given; a wrong secret is
 * S3's SignatureDoesNotMatch and the secret appears in no message.
 */
START_TEST(s3_options_environment_and_errors)
{
    hollow_blobstore *bs = NULL;
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    o.cache_dir = cache;
    static const char *const bad_prefix[] = {"/a", "a/", "a//b", "a b", "..",
                                             "a/../b", "a?b"};
    for (size_t i = 0; i < sizeof bad_prefix / sizeof *bad_prefix; i++) {
        o.prefix = bad_prefix[i];
        ck_assert_int_eq(hollow_blobstore_s3_new(&bs, &o), HOLLOW_EINVAL);
        ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "prefix"));
    }
    o.prefix = NULL;
    o.bucket = "Bad_Bucket";
    ck_assert_int_eq(hollow_blobstore_s3_new(&bs, &o), HOLLOW_EINVAL);
    o.bucket = NULL;
    o.endpoint = "ftp://127.0.0.1:1";
    ck_assert_int_eq(hollow_blobstore_s3_new(&bs, &o), HOLLOW_EINVAL);
    o.endpoint = "http://127.0.0.1:1";
    o.use_tls = 1;
    ck_assert_int_eq(hollow_blobstore_s3_new(&bs, &o), HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "use_tls"));
    o.use_tls = -1;
    o.part_size = 1 << 20;
    ck_assert_int_eq(hollow_blobstore_s3_new(&bs, &o), HOLLOW_EINVAL);
    o.part_size = 0;
    o.version = 99;
    ck_assert_int_eq(hollow_blobstore_s3_new(&bs, &o), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_blobstore_s3_flush(NULL, 0), HOLLOW_EINVAL);
    hollow_announcer *a = NULL;
    hollow_announcer_s3_options ao = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
    ck_assert_int_eq(hollow_announcer_s3_new(&a, &ao), HOLLOW_EINVAL);
    ao.store = mem_store();
    ck_assert_int_eq(hollow_announcer_s3_new(&a, &ao), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_blobstore_s3_flush(ao.store, 0), HOLLOW_EINVAL);
    hollow_blobstore_free(ao.store);

    /* everything from the environment, the cache dir by default */
    ht_s3 srv;
    start_server(&srv);
    char xdg[PATH_MAX];
    make_tmpdir(xdg, sizeof xdg);
    setenv("XDG_CACHE_HOME", xdg, 1);
    setenv("AWS_ENDPOINT_URL", srv.endpoint, 1);
    setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    hollow_blobstore_s3_options e = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    e.bucket = "hollow-env";
    e.prefix = "p/q";
    HT_OK(hollow_blobstore_s3_new(&bs, &e)); /* creates the bucket */
    uint8_t b[10] = {1, 2, 3};
    hollow_blob_key k = hollow_blob_key_header(1);
    HT_OK(hollow_blobstore_put_bytes(bs, &k, b, sizeof b));
    char path[PATH_MAX], want[PATH_MAX];
    HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &k));
    const char *hostport = strstr(srv.endpoint, "://") + 3;
    snprintf(want, sizeof want, "%s/hollow/%s/hollow-env/p/q/", xdg, hostport);
    ck_assert_msg(strncmp(path, want, strlen(want)) == 0,
                  "cache file %s is not under %s", path, want);
    hollow_blobstore_free(bs);
    char out[512];
    ck_assert_int_eq(ht_aws(&srv, out, sizeof out, "s3api head-object "
                            "--bucket hollow-env --key p/q/headers/header-1"),
                     0);

    /* a wrong secret: S3's code, and never the secret */
    setenv("AWS_SECRET_ACCESS_KEY", "sEcReT-never-shown", 1);
    e.cache_dir = cache;
    int rc = hollow_blobstore_s3_new(&bs, &e);
    if (rc == 0) { /* the bucket exists: s3rver may answer its PUT before
                      the signature check; the first request tells */
        rc = hollow_blobstore_put_bytes(bs, &k, b, sizeof b);
        hollow_blobstore_free(bs);
    }
    ck_assert_int_eq(rc, HOLLOW_EBACKEND);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message,
                                 "SignatureDoesNotMatch"));
    ck_assert_ptr_null(strstr(hollow_error_last()->message, "sEcReT"));
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_REGION");
    unsetenv("XDG_CACHE_HOME");
    ht_s3_stop(&srv);
}
END_TEST

/*
 * TLS: against a server with a certificate from a CA the test makes, a
 * store given `host:port` and use_tls = 1 (loopback would mean http) with
 * that CA as ca_file works, by 127.0.0.1 and by localhost; without the CA
 * the certificate does not verify: HOLLOW_EBACKEND at creation (the bucket
 * request), never a silent fallback. A loopback host:port with the
 * default use_tls speaks http, which the https server does not answer.
 */
START_TEST(s3_tls_with_ca_file_and_without)
{
    char certs[PATH_MAX], state[PATH_MAX], cache[PATH_MAX];
    char key[PATH_MAX + 16], cert[PATH_MAX + 16], ca[PATH_MAX + 16];
    make_tmpdir(certs, sizeof certs);
    make_tmpdir(state, sizeof state);
    make_tmpdir(cache, sizeof cache);
    ht_make_tls_cert(certs);
    snprintf(key, sizeof key, "%s/server.key", certs);
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    ht_s3 srv;
    ht_s3_start_tls(&srv, state, BUCKET, key, cert);
    char hostport[64];
    static const char *const hosts[] = {"127.0.0.1", "localhost"};
    for (int h = 0; h < 2; h++) {
        snprintf(hostport, sizeof hostport, "%s:%d", hosts[h], srv.port);
        hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
        o.endpoint = hostport;
        o.use_tls = 1;
        o.ca_file = ca;
        o.bucket = BUCKET;
        o.prefix = hosts[h];
        o.access_key = o.secret_key = "S3RVER";
        char hcache[PATH_MAX + 16]; /* one cache dir per prefix */
        snprintf(hcache, sizeof hcache, "%s/%d", cache, h);
        o.cache_dir = hcache;
        hollow_blobstore *bs = NULL;
        HT_OK(hollow_blobstore_s3_new(&bs, &o));
        uint8_t b[2000];
        fill_random(b, sizeof b, 11);
        hollow_blob_key k = hollow_blob_key_snapshot(1);
        HT_OK(hollow_blobstore_put_bytes(bs, &k, b, sizeof b));
        ck_assert_uint_eq(stats_of(bs).uploads, 1);
        hollow_blobstore_free(bs);

        /* no CA: refused, in strict mode and not */
        char other[PATH_MAX];
        make_tmpdir(other, sizeof other);
        o.cache_dir = other;
        o.ca_file = NULL;
        ck_assert_int_eq(hollow_blobstore_s3_new(&bs, &o), HOLLOW_EBACKEND);
        ck_assert_ptr_null(bs);
        o.strict = true;
        ck_assert_int_eq(hollow_blobstore_s3_new(&bs, &o), HOLLOW_EBACKEND);
    }
    /* the default for a loopback host:port is http: the TLS server does
     * not answer it as S3 */
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = hostport;
    o.bucket = BUCKET;
    o.access_key = o.secret_key = "S3RVER";
    o.cache_dir = cache;
    o.strict = true;
    hollow_blobstore *bs = NULL;
    ck_assert_int_lt(hollow_blobstore_s3_new(&bs, &o), 0);
    ck_assert_ptr_null(bs);
    ht_s3_stop(&srv);
}
END_TEST

static Suite *s3_suite(void)
{
    Suite *s = suite_create("blobstore_s3");
    TCase *tc = tcase_create("chains");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, s3_chain_producer_to_consumer_in_another_process);
    tcase_add_test(tc, s3_announcer_no_lease_and_following_consumer);
    tcase_add_test(tc, s3_aws_cli_reads_ours_and_we_read_theirs);
    suite_add_tcase(s, tc);

    tc = tcase_create("unreachable");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, s3_down_cycle_queues_then_retrier_uploads);
    tcase_add_test(tc, s3_pending_survives_free_and_is_uploaded_by_next_store);
    tcase_add_test(tc, s3_strict_down_fails_cycle_and_announces_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("store");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, s3_corrupt_object_and_cache_file_detected);
    tcase_add_test(tc, s3_mmap_consumer_and_counters);
    tcase_add_test(tc, s3_list_ignores_junk_remove_and_claim);
    tcase_add_test(tc, s3_options_environment_and_errors);
    tcase_add_test(tc, s3_tls_with_ca_file_and_without);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (getenv("HT_S3_CONSUME") != NULL)
        return consume_main();
    return ht_run_suite(s3_suite());
}
