/*
 * hollow-bench s3 --endpoint URL [--bucket B] [--region R] [--ca-file F]
 *                 [--n N] [--gets G] [--big-mb M] [--no-aws] [--keep]
 *
 * The S3 store's figures (issue 13), against a running S3 server; keys
 * come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) as
 * for the store itself:
 *  - cache_get: G gets (default 1000) of a 1 MB blob that the store holds
 *    in its cache (put through it first), each opened, read to its end and
 *    closed; p50 and p99 in microseconds; the store's counters must show G
 *    cache hits;
 *  - upload and download of an M MB blob (default 64) from a file, through
 *    the store (download by a second store with an empty cache) and through
 *    `/usr/bin/aws s3 cp` of the same file to the same server in the same
 *    run, in MB/s (MB = 10^6 bytes) and as the ratio store / aws; the aws
 *    figures include the CLI's start-up, which is given apart
 *    (`aws_startup_s`, one `aws --version`; `aws_*_net_mb_s` leave it out);
 *  - movies: the Movies snapshot of bench-dataset.md (N = 1000000, seed 42)
 *    written by a producer into a filesystem store and copied to S3; the
 *    time for a consumer to load it from the filesystem store, and from S3
 *    through a new S3 store with an empty cache (store creation included;
 *    `movies_s3_refresh_s` is the refresh alone). Both states must have
 *    the same checksum. The producer and each load run in a child process
 *    of their own, so that no load finds a heap another one warmed.
 *    --n 0 leaves this out.
 * Everything runs under a key prefix of its own (`bench-<pid>-<time>/`),
 * deleted at the end, and a temporary directory (kept with --keep). Nothing
 * is read ahead for the library: each timed phase starts from a file or a
 * store it has not touched. Prints one JSON object on stdout.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "hollow/blobstore.h"
#include "hollow/consumer.h"
#include "hollow/producer.h"
#include "hollow/read.h"
#include "hollow/schema.h"
#include "hollow/write.h"
#include "movies_gen.h"
#include "movies_populate.h"

#define AWS_BIN "/usr/bin/aws"

typedef struct s3_args {
    const char *endpoint;
    const char *bucket;
    const char *region;
    const char *ca_file;
    uint64_t n;
    int gets;
    int big_mb;
    bool aws;
    bool keep;
    char prefix[96];
    char work[4096];
} s3_args;

static void die(const char *what)
{
    fprintf(stderr, "hollow-bench s3: %s: %s\n", what,
            hollow_error_last()->message);
    exit(1);
}

static void die_msg(const char *msg)
{
    fprintf(stderr, "hollow-bench s3: %s\n", msg);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc < 0)
        die(what);
}

static hollow_blobstore *open_s3(const s3_args *a, const char *sub,
                                 const char *cache)
{
    char prefix[160], cache_dir[4200];
    snprintf(prefix, sizeof prefix, "%s/%s", a->prefix, sub);
    snprintf(cache_dir, sizeof cache_dir, "%s/%s", a->work, cache);
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = a->endpoint;
    o.bucket = a->bucket;
    o.region = a->region;
    o.ca_file = a->ca_file;
    o.prefix = prefix;
    o.cache_dir = cache_dir;
    o.strict = true; /* a put S3 does not take would not be a measurement */
    hollow_blobstore *bs = NULL;
    check(hollow_blobstore_s3_new(&bs, &o), "hollow_blobstore_s3_new");
    return bs;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* read a stream to its end; returns the byte count */
static uint64_t drain(hollow_stream *s, uint8_t *buf, size_t cap)
{
    uint64_t total = 0;
    for (;;) {
        size_t n = 0;
        check(hollow_stream_read(&n, s, buf, cap), "stream read");
        if (n == 0)
            return total;
        total += n;
    }
}

/* ------------------------------------------------------------ aws CLI */

/* run /usr/bin/aws with `args` (NULL-terminated, after the endpoint);
 * returns the wall time in seconds; exits when it fails */
static double run_aws(const s3_args *a, const char *const *args)
{
    char log[4200], config[4200];
    snprintf(log, sizeof log, "%s/aws.log", a->work);
    snprintf(config, sizeof config, "%s/aws-config", a->work);
    const char *argv[32];
    int n = 0;
    argv[n++] = AWS_BIN;
    if (args[0] == NULL || strcmp(args[0], "--version") != 0) {
        argv[n++] = "--endpoint-url";
        argv[n++] = a->endpoint;
        if (a->ca_file != NULL) {
            argv[n++] = "--ca-bundle";
            argv[n++] = a->ca_file;
        }
    }
    for (int i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        die_msg("fork failed");
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setenv("AWS_CONFIG_FILE", config, 1);
        setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
        setenv("AWS_PAGER", "", 1);
        execv(AWS_BIN, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            die_msg("waitpid failed");
    double t = bench_now() - t0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "hollow-bench s3: %s failed; its output:\n", AWS_BIN);
        FILE *f = fopen(log, "r");
        char line[512];
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
            fputs(line, stderr);
        if (f != NULL)
            fclose(f);
        exit(1);
    }
    return t;
}

static void write_aws_config(const s3_args *a)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/aws-config", a->work);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die_msg("cannot write the aws config");
    fprintf(f, "[default]\nregion = %s\ns3 =\n    addressing_style = path\n",
            a->region != NULL ? a->region : "us-east-1");
    fclose(f);
}

/* ---------------------------------------------------------- the phases */

static void phase_cache_get(const s3_args *a, double *p50, double *p99)
{
    hollow_blobstore *bs = open_s3(a, "get", "cache-get");
    size_t len = 1000000;
    uint8_t *blob = malloc(len);
    uint8_t *buf = malloc(1 << 18);
    double *t = malloc((size_t)a->gets * sizeof *t);
    if (blob == NULL || buf == NULL || t == NULL)
        die_msg("out of memory");
    uint64_t seed = 1;
    for (size_t i = 0; i < len; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        blob[i] = (uint8_t)(seed >> 56);
    }
    hollow_blob_key key = hollow_blob_key_snapshot(1);
    check(hollow_blobstore_put_bytes(bs, &key, blob, len), "put 1 MB");
    hollow_blobstore_stats before, after;
    check(hollow_blobstore_stats_get(&before, bs), "stats");
    for (int i = 0; i < a->gets; i++) {
        double t0 = bench_now();
        hollow_stream *s = NULL;
        check(hollow_blobstore_get(&s, bs, &key), "get");
        uint64_t got = drain(s, buf, 1 << 18);
        hollow_stream_close(s);
        t[i] = (bench_now() - t0) * 1e6;
        if (got != len)
            die_msg("a cached get returned the wrong length");
    }
    check(hollow_blobstore_stats_get(&after, bs), "stats");
    if (after.cache_hits - before.cache_hits < (uint64_t)a->gets)
        die_msg("the gets were not all cache hits");
    qsort(t, (size_t)a->gets, sizeof *t, cmp_double);
    *p50 = t[(size_t)a->gets / 2];
    *p99 = t[(size_t)((double)a->gets * 0.99)];
    free(t);
    free(buf);
    free(blob);
    hollow_blobstore_free(bs);
}

typedef struct transfer {
    double up_s, down_s, aws_up_s, aws_down_s, aws_startup_s;
    uint64_t bytes;
} transfer;

static void phase_transfer(const s3_args *a, transfer *r)
{
    char path[4200], down[4200], url[512];
    snprintf(path, sizeof path, "%s/big.bin", a->work);
    snprintf(down, sizeof down, "%s/big-aws.bin", a->work);
    r->bytes = (uint64_t)a->big_mb * 1000000u;
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        die_msg("cannot write the big blob");
    uint8_t *chunk = malloc(1 << 20);
    if (chunk == NULL)
        die_msg("out of memory");
    uint64_t seed = 7;
    for (uint64_t off = 0; off < r->bytes; off += 1 << 20) {
        size_t k = r->bytes - off < (1u << 20) ? (size_t)(r->bytes - off)
                                                : (size_t)1 << 20;
        for (size_t i = 0; i < k; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            chunk[i] = (uint8_t)(seed >> 56);
        }
        if (fwrite(chunk, 1, k, f) != k)
            die_msg("cannot write the big blob");
    }
    fclose(f);

    hollow_blob_key key = hollow_blob_key_snapshot(2);
    hollow_blobstore *up = open_s3(a, "big", "cache-up");
    double t0 = bench_now();
    check(hollow_blobstore_put_file(up, &key, path), "put 64 MB");
    r->up_s = bench_now() - t0;
    hollow_blobstore_free(up);

    hollow_blobstore *dn = open_s3(a, "big", "cache-down");
    t0 = bench_now();
    hollow_stream *s = NULL;
    check(hollow_blobstore_get(&s, dn, &key), "get 64 MB");
    uint64_t got = drain(s, chunk, 1 << 20);
    hollow_stream_close(s);
    r->down_s = bench_now() - t0;
    if (got != r->bytes)
        die_msg("the download has the wrong length");
    hollow_blobstore_stats st;
    check(hollow_blobstore_stats_get(&st, dn), "stats");
    if (st.bytes_down < r->bytes)
        die_msg("the download did not come from S3");
    hollow_blobstore_free(dn);
    free(chunk);

    if (!a->aws)
        return;
    const char *ver[] = {"--version", NULL};
    r->aws_startup_s = run_aws(a, ver);
    snprintf(url, sizeof url, "s3://%s/%s/aws/big.bin", a->bucket, a->prefix);
    const char *cp_up[] = {"s3", "cp", "--only-show-errors", path, url, NULL};
    r->aws_up_s = run_aws(a, cp_up);
    const char *cp_down[] = {"s3", "cp", "--only-show-errors", url, down, NULL};
    r->aws_down_s = run_aws(a, cp_down);
    struct stat sb;
    if (stat(down, &sb) != 0 || (uint64_t)sb.st_size != r->bytes)
        die_msg("aws downloaded the wrong length");
}

typedef struct movies_cycle {
    const movies_data *d;
} movies_cycle;

static int populate_cycle(hollow_write_state *ws, void *payload)
{
    movies_cycle *c = payload;
    movies_writer w;
    int rc = movies_writer_init(&w, ws, c->d->actor_count);
    if (rc == 0)
        rc = movies_populate(&w, c->d, 1);
    movies_writer_free(&w);
    return rc;
}

typedef struct copy_ctx {
    hollow_blobstore *from, *to;
    uint64_t snapshot_bytes;
} copy_ctx;

static int copy_blob(const hollow_blob_key *key, void *payload)
{
    copy_ctx *c = payload;
    char path[4200];
    check(hollow_blobstore_get_file(path, sizeof path, c->from, key),
          "get_file");
    check(hollow_blobstore_put_file(c->to, key, path), "copy to S3");
    if (key->kind == HOLLOW_BLOB_SNAPSHOT) {
        struct stat sb;
        if (stat(path, &sb) == 0)
            c->snapshot_bytes = (uint64_t)sb.st_size;
    }
    return 0;
}

typedef struct movies_result {
    double fs_s, s3_s, s3_refresh_s;
    uint64_t snapshot_bytes;
    uint32_t checksum;
} movies_result;

static uint32_t load(hollow_blobstore *bs, int64_t v, double *refresh_s)
{
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    hollow_consumer *c = NULL;
    double t0 = bench_now();
    check(hollow_consumer_new(&c, &co), "consumer");
    check(hollow_consumer_refresh(c, v), "refresh");
    if (refresh_s != NULL)
        *refresh_s = bench_now() - t0;
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    uint32_t sum = 0;
    check(hollow_read_state_checksum(&sum, rs), "checksum");
    hollow_read_state_release(rs);
    hollow_consumer_free(c);
    return sum;
}

/*
 * Run fn(a, out) in a child process and copy its `out` back: each load
 * starts from a process whose heap nobody warmed (the producer's memory,
 * freed, would otherwise be reused by whichever load came next).
 */
typedef void (*child_fn)(const s3_args *a, void *out);

static void in_child(child_fn fn, const s3_args *a, void *out, size_t len)
{
    int fds[2];
    if (pipe(fds) != 0)
        die_msg("pipe failed");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die_msg("fork failed");
    if (pid == 0) {
        close(fds[0]);
        fn(a, out);
        ssize_t w = write(fds[1], out, len);
        _exit(w == (ssize_t)len ? 0 : 1);
    }
    close(fds[1]);
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fds[0], (char *)out + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            die_msg("waitpid failed");
    if (got != len || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        exit(1); /* the child said why */
}

static hollow_blobstore *open_fs(const s3_args *a)
{
    char fs_dir[4200];
    snprintf(fs_dir, sizeof fs_dir, "%s/fs-store", a->work);
    hollow_blobstore *fs = NULL;
    hollow_blobstore_fs_options fo = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    fo.dir = fs_dir;
    fo.create_dir = true;
    check(hollow_blobstore_fs_new(&fs, &fo), fs_dir);
    return fs;
}

static void produce_movies(const s3_args *a, void *out)
{
    hollow_blobstore *fs = open_fs(a);
    movies_data d;
    if (movies_data_generate(&d, a->n, 42) < 0)
        die_msg("out of memory generating the dataset");
    hollow_schema_list *schemas = NULL;
    check(hollow_schema_parse(&schemas, movies_schema_text,
                              strlen(movies_schema_text)),
          "schema");
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = fs;
    po.schemas = schemas;
    hollow_producer *p = NULL;
    check(hollow_producer_new(&p, &po), "producer");
    movies_cycle mc = {&d};
    check(hollow_producer_run_cycle((int64_t *)out, p, populate_cycle, &mc),
          "cycle");
    hollow_producer_free(p);
    hollow_schema_list_free(schemas);
    movies_data_free(&d);
    hollow_blobstore_free(fs);
}

typedef struct load_result {
    int64_t version; /* in: the version to load */
    double total_s, refresh_s;
    uint32_t checksum;
} load_result;

static void load_fs(const s3_args *a, void *out)
{
    load_result *r = out;
    double t0 = bench_now();
    hollow_blobstore *fs = open_fs(a);
    r->checksum = load(fs, r->version, &r->refresh_s);
    r->total_s = bench_now() - t0;
    hollow_blobstore_free(fs);
}

static void load_s3(const s3_args *a, void *out)
{
    load_result *r = out;
    double t0 = bench_now();
    hollow_blobstore *s3 = open_s3(a, "movies", "cache-movies-down");
    r->checksum = load(s3, r->version, &r->refresh_s);
    r->total_s = bench_now() - t0;
    hollow_blobstore_free(s3);
}

static void phase_movies(const s3_args *a, movies_result *r)
{
    int64_t v = 0;
    in_child(produce_movies, a, &v, sizeof v);
    fprintf(stderr, "s3: Movies N=%" PRIu64 " written as version %" PRId64
                    "\n", a->n, v);

    /* copy every blob to S3 (streamed from the files) */
    hollow_blobstore *fs = open_fs(a);
    copy_ctx cc = {fs, open_s3(a, "movies", "cache-movies-up"), 0};
    check(hollow_blobstore_list(fs, copy_blob, &cc), "list");
    hollow_blobstore_free(cc.to);
    hollow_blobstore_free(fs);
    r->snapshot_bytes = cc.snapshot_bytes;

    load_result lf = {v, 0, 0, 0}, ls = {v, 0, 0, 0};
    in_child(load_fs, a, &lf, sizeof lf);
    in_child(load_s3, a, &ls, sizeof ls);
    if (ls.checksum != lf.checksum)
        die_msg("the state loaded from S3 differs from the filesystem one");
    r->fs_s = lf.total_s;
    r->s3_s = ls.total_s;
    r->s3_refresh_s = ls.refresh_s;
    r->checksum = lf.checksum;
}

/* -------------------------------------------------------------- cleanup */

static int delete_blob(const hollow_blob_key *key, void *payload)
{
    check(hollow_blobstore_delete(payload, key), "delete");
    return 0;
}

/* delete every blob under <prefix>/<sub> */
static void wipe(const s3_args *a, const char *sub)
{
    char cache[64]; /* a cache dir serves one prefix */
    snprintf(cache, sizeof cache, "cache-wipe-%s", sub);
    hollow_blobstore *bs = open_s3(a, sub, cache);
    check(hollow_blobstore_list(bs, delete_blob, bs), "list");
    hollow_blobstore_free(bs);
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hollow-bench s3 --endpoint URL [--bucket B] [--region R] "
            "[--ca-file F]\n"
            "                       [--n N] [--gets G] [--big-mb M] [--no-aws] "
            "[--keep]\n"
            "keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY\n");
}

int bench_s3(int argc, char **argv)
{
    if (bench_help_asked(argc, argv)) {
        usage(stdout);
        return 0;
    }
    s3_args a;
    memset(&a, 0, sizeof a);
    a.bucket = "hollow-bench";
    a.n = 1000000;
    a.gets = 1000;
    a.big_mb = 64;
    a.aws = true;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(o, "--endpoint") == 0 && has)
            a.endpoint = argv[++i];
        else if (strcmp(o, "--bucket") == 0 && has)
            a.bucket = argv[++i];
        else if (strcmp(o, "--region") == 0 && has)
            a.region = argv[++i];
        else if (strcmp(o, "--ca-file") == 0 && has)
            a.ca_file = argv[++i];
        else if (strcmp(o, "--n") == 0 && has)
            a.n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(o, "--gets") == 0 && has)
            a.gets = atoi(argv[++i]);
        else if (strcmp(o, "--big-mb") == 0 && has)
            a.big_mb = atoi(argv[++i]);
        else if (strcmp(o, "--no-aws") == 0)
            a.aws = false;
        else if (strcmp(o, "--keep") == 0)
            a.keep = true;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (a.endpoint == NULL || a.gets < 1 || a.big_mb < 1) {
        usage(stderr);
        return 2;
    }
    if (a.aws && access(AWS_BIN, X_OK) != 0)
        die_msg(AWS_BIN " is missing (--no-aws leaves the comparison out)");
    snprintf(a.prefix, sizeof a.prefix, "bench-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    const char *tmp = getenv("TMPDIR");
    snprintf(a.work, sizeof a.work, "%s/hollow-bench-s3-XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(a.work) == NULL)
        die_msg("cannot create a temporary directory");
    write_aws_config(&a);

    double get_p50, get_p99;
    phase_cache_get(&a, &get_p50, &get_p99);
    fprintf(stderr, "s3: cache-hit get of 1 MB: p50 %.1f us, p99 %.1f us\n",
            get_p50, get_p99);

    transfer tr;
    memset(&tr, 0, sizeof tr);
    phase_transfer(&a, &tr);
    double mb = (double)tr.bytes / 1e6;
    double up = mb / tr.up_s, down = mb / tr.down_s;
    double aws_up = a.aws ? mb / tr.aws_up_s : 0;
    double aws_down = a.aws ? mb / tr.aws_down_s : 0;
    fprintf(stderr, "s3: %d MB up %.1f MB/s, down %.1f MB/s; aws up %.1f MB/s, "
                    "down %.1f MB/s (start-up %.2f s)\n",
            a.big_mb, up, down, aws_up, aws_down, tr.aws_startup_s);

    movies_result mr;
    memset(&mr, 0, sizeof mr);
    if (a.n > 0) {
        phase_movies(&a, &mr);
        fprintf(stderr, "s3: Movies snapshot %" PRIu64 " bytes: fs %.3f s, "
                        "S3 with an empty cache %.3f s (refresh %.3f s)\n",
                mr.snapshot_bytes, mr.fs_s, mr.s3_s, mr.s3_refresh_s);
    }

    /* every object of the run */
    wipe(&a, "get");
    wipe(&a, "big");
    if (a.n > 0)
        wipe(&a, "movies");
    if (a.aws) {
        char url[512];
        snprintf(url, sizeof url, "s3://%s/%s/aws/big.bin", a.bucket, a.prefix);
        const char *rm[] = {"s3", "rm", "--only-show-errors", url, NULL};
        run_aws(&a, rm);
    }
    if (!a.keep)
        nftw(a.work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

    printf("{\"endpoint\":\"%s\",\"cache_get_1mb_p50_us\":%.1f,"
           "\"cache_get_1mb_p99_us\":%.1f,\"gets\":%d,"
           "\"blob_mb\":%d,\"upload_mb_s\":%.1f,\"download_mb_s\":%.1f",
           a.endpoint, get_p50, get_p99, a.gets, a.big_mb, up, down);
    if (a.aws) {
        /* the CLI's rates once its start-up is taken out (when it can be) */
        double net_up = tr.aws_up_s > tr.aws_startup_s
                            ? mb / (tr.aws_up_s - tr.aws_startup_s) : 0;
        double net_down = tr.aws_down_s > tr.aws_startup_s
                              ? mb / (tr.aws_down_s - tr.aws_startup_s) : 0;
        printf(",\"aws_upload_mb_s\":%.1f,\"aws_download_mb_s\":%.1f,"
               "\"aws_startup_s\":%.3f,\"aws_upload_net_mb_s\":%.1f,"
               "\"aws_download_net_mb_s\":%.1f,\"upload_ratio_to_aws\":%.2f,"
               "\"download_ratio_to_aws\":%.2f",
               aws_up, aws_down, tr.aws_startup_s, net_up, net_down,
               up / aws_up, down / aws_down);
    }
    if (a.n > 0)
        printf(",\"movies_n\":%" PRIu64 ",\"movies_snapshot_bytes\":%" PRIu64
               ",\"movies_fs_load_s\":%.3f,\"movies_s3_load_s\":%.3f,"
               "\"movies_s3_refresh_s\":%.3f,\"movies_s3_store_open_s\":%.3f,"
               "\"movies_checksum\":\"%08x\"",
               a.n, mr.snapshot_bytes, mr.fs_s, mr.s3_s, mr.s3_refresh_s,
               mr.s3_s - mr.s3_refresh_s, (unsigned)mr.checksum);
    printf("}\n");
    return 0;
}
