/*
 * hollow-bench movies [--n N] [--seed S] [--lookups L] [--threads T]
 *                     [--jsonl FILE] [--jsonl2 FILE] [--gen-only] [--out DIR]
 *
 * The Movies benchmark of bench-dataset.md: the same records as the Java
 * benchmark, the same phases, timed one by one inside the program with a
 * monotonic clock, printed as one JSON object on stdout (everything else
 * goes to stderr).
 *
 * Phases, in the order they run (a phase marked "later" belongs to a later
 * issue; its place is marked where it slots in):
 *
 *   generate            versions 1 and 2 in memory (not timed as a phase)
 *   populate_s          fresh write state, every version-1 record
 *                       (configured as Java's bare write engine: one shard
 *                       per type, no header tags; see bench_movies())
 *   write_snapshot_s    the version-1 snapshot into a file
 *   (later, #5)         populate_v2_s, write_delta_s, write_reverse_delta_s
 *   read_snapshot_s     the file into a read state (heap mode)
 *   (later, #5)         apply_delta_s and the memory of both states
 *   diff_s              hollow_diff_new() of versions 1 and 2 (after apply_delta_s)
 *   (later, #7)         refresh_delta_s through producer, store, consumer
 *   (later, #8)         pk_index_build_s, lookups over version 2
 *   scan                year + title length over every Movie, 5 passes
 *                       (over version 1 until the delta phases exist)
 *
 * Memory figures are bytes held through the library's allocator, counted
 * by hollow-bench's allocator hooks (bench_live_bytes()), never RSS. Each
 * phase's <phase>_s has a <phase>_cpu_s beside it (process CPU time), and
 * `threads` says what --threads gave the library; docs/bench.md lists
 * every key.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_index.h"
#include "hollow/consumer.h"
#include "hollow/diff.h"
#include "hollow/dump.h"
#include "hollow/producer.h"
#include "hollow/read.h"
#include "hollow/schema.h"
#include "hollow/write.h"
#include "movies_gen.h"
#include "movies_populate.h"

#define SCAN_PASSES 5

typedef struct movies_args {
    uint64_t n;
    uint64_t seed;
    uint64_t lookups;
    const char *jsonl;
    const char *jsonl2;
    const char *out_dir;
    bool gen_only;
    unsigned threads; /* 0: the cores the process may run on */
} movies_args;

/* CPU seconds of the whole process (every thread), beside bench_now() */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* a phase's wall-clock and CPU seconds */
typedef struct phase_time {
    double s, cpu_s;
} phase_time;

typedef struct phase_clock {
    double t0, c0;
} phase_clock;

static phase_clock phase_start(void)
{
    phase_clock c = {bench_now(), cpu_now()};
    return c;
}

static phase_time phase_stop(phase_clock c)
{
    phase_time t = {bench_now() - c.t0, cpu_now() - c.c0};
    return t;
}

static void die(const char *what)
{
    fprintf(stderr, "hollow-bench movies: %s: %s\n", what,
            hollow_error_last()->message);
    exit(1);
}

static void die_msg(const char *what)
{
    fprintf(stderr, "hollow-bench movies: %s\n", what);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc < 0)
        die(what);
}

/* a populate's failure may come from any of its threads: w->error */
static void check_populate(int rc, const movies_writer *w, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "hollow-bench movies: %s: %s\n", what, w->error);
        exit(1);
    }
}

/* ---------------------------------------------------------------- jsonl */

static void write_jsonl(const char *path, const movies_data *d, int version)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "hollow-bench movies: cannot create %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    size_t count = version == 1 ? d->v1_count : d->v2_count;
    char line[MOVIES_JSON_MAX];
    for (size_t i = 0; i < count; i++) {
        const movies_movie *m = version == 1 ? &d->v1[i] : d->v2[i];
        size_t len = movies_json_line(line, sizeof line - 1, d->actors, m,
                                      hollow_format_double);
        if (len == 0)
            die_msg("json line too long");
        line[len++] = '\n';
        if (fwrite(line, 1, len, f) != len)
            break;
    }
    if (ferror(f) || fclose(f) != 0) {
        fprintf(stderr, "hollow-bench movies: cannot write %s\n", path);
        exit(1);
    }
}

/* ----------------------------------------------------------------- write */

typedef struct file_sink {
    FILE *f;
    uint64_t bytes;
} file_sink;

static int sink_to_file(void *payload, const void *data, size_t len)
{
    file_sink *s = payload;
    if (len > 0 && fwrite(data, 1, len, s->f) != len)
        return HOLLOW_EIO;
    s->bytes += len;
    return 0;
}

typedef int (*blob_writer)(hollow_write_state *ws, hollow_sink_fn fn,
                           void *payload);

/* Write one blob of the current cycle to `path`; returns its size. */
static uint64_t write_blob_file(hollow_write_state *ws, blob_writer wr,
                                const char *path, phase_time *time)
{
    file_sink s = {fopen(path, "wb"), 0};
    if (s.f == NULL) {
        fprintf(stderr, "hollow-bench movies: cannot create %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    phase_clock t0 = phase_start();
    int rc = wr(ws, sink_to_file, &s);
    if (rc == HOLLOW_EIO || fclose(s.f) != 0) {
        fprintf(stderr, "hollow-bench movies: cannot write %s\n", path);
        exit(1);
    }
    *time = phase_stop(t0);
    check(rc, path);
    return s.bytes;
}

/* ------------------------------------------------------------ refresh */

typedef struct movies_cycle {
    const movies_data *d;
    int version;
    unsigned threads; /* of the populate (movies_writer.threads) */
} movies_cycle;

static int populate_cycle(hollow_write_state *ws, void *payload)
{
    movies_cycle *c = payload;
    movies_writer w;
    int rc = movies_writer_init(&w, ws, c->d->actor_count);
    w.threads = c->threads;
    if (rc == 0)
        rc = movies_populate(&w, c->d, c->version);
    movies_writer_free(&w);
    return rc;
}

static int64_t next_version(int64_t previous, void *payload)
{
    (void)payload;
    return previous + 1;
}

/*
 * refresh_delta_s: versions 1 and 2 through a real producer into a
 * filesystem store (Java's layout, in `dir`), and the time a consumer at
 * version 1 takes to refresh to version 2 from that store: list the store,
 * plan, read the delta file, apply it, publish.
 */
static phase_time refresh_delta(const movies_data *d, const char *dir,
                                unsigned threads, phase_time *producer_cycle)
{
    hollow_blobstore *store = NULL;
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    so.create_dir = true;
    check(hollow_blobstore_fs_new(&store, &so), dir);
    hollow_schema_list *schemas = NULL;
    check(hollow_schema_parse(&schemas, movies_schema_text,
                              strlen(movies_schema_text)),
          "schema");
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = store;
    po.schemas = schemas;
    po.write.target_shard_size = UINT64_MAX; /* as the other phases */
    po.minter = next_version;
    po.write.threads = threads;
    hollow_producer *p = NULL;
    check(hollow_producer_new(&p, &po), "producer");
    movies_cycle c1 = {d, 1, threads}, c2 = {d, 2, threads};
    int64_t v1, v2;
    check(hollow_producer_run_cycle(&v1, p, populate_cycle, &c1), "cycle 1");
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = store;
    co.threads = threads;
    hollow_consumer *c = NULL;
    check(hollow_consumer_new(&c, &co), "consumer");
    check(hollow_consumer_refresh(c, v1), "refresh to version 1");
    phase_clock t0 = phase_start();
    check(hollow_producer_run_cycle(&v2, p, populate_cycle, &c2), "cycle 2");
    *producer_cycle = phase_stop(t0);
    t0 = phase_start();
    check(hollow_consumer_refresh(c, v2), "refresh to version 2");
    phase_time s = phase_stop(t0);
    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_schema_list_free(schemas);
    hollow_blobstore_free(store);
    return s;
}

/* ------------------------------------------------------------------ scan */

typedef struct scan_plan {
    const hollow_type *movie;
    size_t year, title;
} scan_plan;

static scan_plan scan_prepare(const hollow_read_state *rs)
{
    scan_plan p;
    p.movie = hollow_read_state_type(rs, "Movie");
    if (p.movie == NULL)
        die_msg("the state has no type Movie");
    const hollow_schema *s = hollow_type_schema(p.movie);
    int y = hollow_schema_field_index(s, "year");
    int t = hollow_schema_field_index(s, "title");
    if (y < 0 || t < 0)
        die_msg("Movie lacks year or title");
    p.year = (size_t)y;
    p.title = (size_t)t;
    return p;
}

/*
 * One pass: for every populated Movie, year + the title's length in UTF-16
 * code units, counted exactly from the stored form without decoding it,
 * through a cursor (read.h): fields checked once, accessors inline.
 */
static uint64_t scan_pass(const scan_plan *p, size_t *records)
{
    uint64_t sum = 0;
    size_t count = 0;
    hollow_cursor c;
    unsigned year, title;
    check(hollow_cursor_init(&c, p->movie), "scan cursor");
    check(hollow_cursor_column(&year, &c, p->year, HOLLOW_FIELD_INT),
          "scan Movie.year");
    check(hollow_cursor_column(&title, &c, p->title, HOLLOW_FIELD_STRING),
          "scan Movie.title");
    while (hollow_cursor_next(&c)) {
        int32_t y = 0;
        size_t title_units;
        int rc = hollow_cursor_int(&y, &c, year);
        if (rc == HOLLOW_OK)
            sum += (uint64_t)(int64_t)y;
        else if (rc < 0)
            die("scan Movie.year");
        rc = hollow_cursor_string_length(&title_units, &c, title);
        if (rc == HOLLOW_OK)
            sum += title_units;
        else if (rc < 0)
            die("scan Movie.title");
        count++;
    }
    *records = count;
    return sum;
}

/* The same pass through the checked per-record accessors (hollow_object_*). */
static uint64_t scan_pass_checked(const scan_plan *p, size_t *records)
{
    uint64_t sum = 0;
    size_t count = 0;
    for (hollow_ordinal o = hollow_type_next_ordinal(p->movie, 0); o >= 0;
         o = hollow_type_next_ordinal(p->movie, o + 1)) {
        int32_t year;
        size_t title_units;
        int rc = hollow_object_int(&year, p->movie, o, p->year);
        if (rc == HOLLOW_OK)
            sum += (uint64_t)(int64_t)year;
        else if (rc < 0)
            die("scan Movie.year");
        rc = hollow_object_string_length(&title_units, p->movie, o, p->title);
        if (rc == HOLLOW_OK)
            sum += title_units;
        else if (rc < 0)
            die("scan Movie.title");
        count++;
    }
    *records = count;
    return sum;
}

typedef struct scan_result {
    size_t records;
    double first_ns, best_ns, best_cpu_ns;
    uint64_t checksum;
} scan_result;

typedef uint64_t (*scan_fn)(const scan_plan *p, size_t *records);

static scan_result scan(const hollow_read_state *rs, scan_fn pass_fn)
{
    scan_result r = {0, 0, 1e30, 1e30, 0};
    scan_plan p = scan_prepare(rs);
    for (int pass = 0; pass < SCAN_PASSES; pass++) {
        size_t records;
        phase_clock pc = phase_start();
        uint64_t sum = pass_fn(&p, &records);
        phase_time pt = phase_stop(pc);
        double per = 1e9 / (double)(records > 0 ? records : 1);
        double ns = pt.s * per;
        if (pt.cpu_s * per < r.best_cpu_ns)
            r.best_cpu_ns = pt.cpu_s * per;
        if (pass == 0) {
            r.first_ns = ns;
            r.records = records;
            r.checksum = sum;
        } else if (sum != r.checksum || records != r.records) {
            die_msg("scan passes disagree");
        }
        if (ns < r.best_ns)
            r.best_ns = ns;
    }
    return r;
}

/* What the scan must find in a version, from the generator alone. */
static uint64_t expected_checksum(const movies_data *d, int version)
{
    uint64_t sum = 0;
    size_t count = version == 1 ? d->v1_count : d->v2_count;
    for (size_t i = 0; i < count; i++) {
        const movies_movie *m = version == 1 ? &d->v1[i] : d->v2[i];
        sum += (uint64_t)(int64_t)m->year + m->title_len;
    }
    return sum;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f, "usage: hollow-bench movies [--n N] [--seed S] [--lookups L] "
               "[--threads T] [--jsonl FILE] [--jsonl2 FILE] [--gen-only] "
               "[--out DIR]\n");
}

static void help(void)
{
    usage(stdout);
    printf("\nThe Movies benchmark of docs/bench-dataset.md: prints one JSON "
           "object of\ntimings and sizes on stdout.\n\n"
           "  --n N          movies in version 1 (default 100000)\n"
           "  --seed S       the generator's seed (default 42)\n"
           "  --lookups L    primary-key lookups timed (default 1000000)\n"
           "  --threads T    threads of the populate, write state, producer and\n"
           "                 consumer (1: the sequential populate)\n"
           "                 (default 0: the cores the process may run on)\n"
           "  --jsonl FILE   also write version 1 as JSON lines\n"
           "  --jsonl2 FILE  also write version 2 as JSON lines\n"
           "  --gen-only     write the JSON lines and stop\n"
           "  --out DIR      keep the blobs in DIR, under Java's file names\n"
           "                 (default: a temporary directory, removed)\n"
           "  --help         this text\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = v;
    return true;
}

static int parse_args(movies_args *a, int argc, char **argv)
{
    a->n = 100000;
    a->seed = 42;
    a->lookups = 1000000;
    a->jsonl = a->jsonl2 = a->out_dir = NULL;
    a->gen_only = false;
    a->threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(o, "--n") == 0 && has) {
            if (!parse_u64(argv[++i], &a->n))
                return -1;
        } else if (strcmp(o, "--seed") == 0 && has) {
            /* a Java long: negative seeds wrap to the same 64 bits */
            char *end;
            errno = 0;
            if (argv[i + 1][0] == '-')
                a->seed = (uint64_t)strtoll(argv[++i], &end, 0);
            else
                a->seed = strtoull(argv[++i], &end, 0);
            if (errno != 0 || *end != '\0')
                return -1;
        } else if (strcmp(o, "--lookups") == 0 && has) {
            if (!parse_u64(argv[++i], &a->lookups))
                return -1;
        } else if (strcmp(o, "--jsonl") == 0 && has) {
            a->jsonl = argv[++i];
        } else if (strcmp(o, "--jsonl2") == 0 && has) {
            a->jsonl2 = argv[++i];
        } else if (strcmp(o, "--out") == 0 && has) {
            a->out_dir = argv[++i];
        } else if (strcmp(o, "--threads") == 0 && has) {
            uint64_t t;
            if (!parse_u64(argv[++i], &t) || t > 1024)
                return -1;
            a->threads = (unsigned)t;
        } else if (strcmp(o, "--gen-only") == 0) {
            a->gen_only = true;
        } else {
            return -1;
        }
    }
    /* ordinals fit in 28 bits in Java's write engine (§10.4) */
    if (a->n < 1 || a->n > (1u << 27))
        return -1;
    return 0;
}

int bench_movies(int argc, char **argv)
{
    movies_args args;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return 0;
        }
    if (parse_args(&args, argc, argv) < 0) {
        usage(stderr);
        return 2;
    }

    /* generate (not a timed phase) */
    double t0 = bench_now();
    movies_data d;
    if (movies_data_generate(&d, args.n, args.seed) < 0)
        die_msg("out of memory generating the dataset");
    fprintf(stderr, "movies: generated %zu actors, %zu + %zu movies in %.3f s\n",
            (size_t)d.actor_count, d.v1_count, d.v2_count, bench_now() - t0);
    if (args.jsonl != NULL)
        write_jsonl(args.jsonl, &d, 1);
    if (args.jsonl2 != NULL)
        write_jsonl(args.jsonl2, &d, 2);
    if (args.gen_only) {
        printf("{\"n\":%" PRIu64 ",\"seed\":%" PRId64 ",\"movies_v1\":%zu,"
               "\"movies_v2\":%zu}\n",
               args.n, (int64_t)args.seed, d.v1_count, d.v2_count);
        movies_data_free(&d);
        return 0;
    }

    /* where the blobs go: --out DIR keeps them under the names Java's
     * filesystem publisher gives versions 1 and 2 */
    char dir[4096], snap_path[4200], delta_path[4200], rev_path[4200];
    bool keep = args.out_dir != NULL;
    if (keep) {
        if (mkdir(args.out_dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "hollow-bench movies: cannot create %s: %s\n",
                    args.out_dir, strerror(errno));
            return 1;
        }
        snprintf(dir, sizeof dir, "%s", args.out_dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/hollow-bench-movies-XXXXXX",
                 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL) {
            fprintf(stderr, "hollow-bench movies: cannot create a temp dir: %s\n",
                    strerror(errno));
            return 1;
        }
    }
    snprintf(snap_path, sizeof snap_path, "%s/snapshot-1", dir);
    snprintf(delta_path, sizeof delta_path, "%s/delta-1-2", dir);
    snprintf(rev_path, sizeof rev_path, "%s/reversedelta-2-1", dir);

    /* populate_s: a fresh write state and every version-1 record */
    hollow_schema_list *schemas = NULL;
    check(hollow_schema_parse(&schemas, movies_schema_text,
                              strlen(movies_schema_text)),
          "schema");
    /* Java's bare write engine, as in the Java benchmark: one shard per
     * type and no header tags (this is what gives Java's 52594100 bytes for
     * N=1000000; HollowProducer's 16 MiB shards and five tags would not) */
    hollow_write_options wopts = HOLLOW_WRITE_OPTIONS_INIT;
    wopts.target_shard_size = UINT64_MAX;
    wopts.threads = args.threads;
    hollow_write_state *ws = NULL;
    movies_writer w;
    phase_clock pc = phase_start();
    check(hollow_write_state_new(&ws, schemas, &wopts), "write state");
    check(movies_writer_init(&w, ws, d.actor_count), "populate");
    w.threads = args.threads; /* types pipelined over the threads */
    check_populate(movies_populate(&w, &d, 1), &w, "populate");
    phase_time populate = phase_stop(pc);
    fprintf(stderr, "movies: populate %.3f s (%.3f s CPU)\n", populate.s,
            populate.cpu_s);

    /* write_snapshot_s, snapshot_bytes */
    phase_time write_snapshot;
    uint64_t snapshot_bytes = write_blob_file(
        ws, hollow_write_state_write_snapshot, snap_path, &write_snapshot);
    fprintf(stderr, "movies: snapshot %s, %" PRIu64 " bytes in %.3f s\n",
            snap_path, snapshot_bytes, write_snapshot.s);

    /* populate_v2_s: the next cycle, every version-2 record (actors again) */
    pc = phase_start();
    check(hollow_write_state_prepare_cycle(ws), "prepare cycle");
    check_populate(movies_populate(&w, &d, 2), &w, "populate v2");
    phase_time populate_v2 = phase_stop(pc);
    phase_time write_delta, write_reverse_delta;
    uint64_t delta_bytes = write_blob_file(ws, hollow_write_state_write_delta,
                                           delta_path, &write_delta);
    uint64_t reverse_delta_bytes =
        write_blob_file(ws, hollow_write_state_write_reverse_delta, rev_path,
                        &write_reverse_delta);
    fprintf(stderr, "movies: populate v2 %.3f s, delta %" PRIu64 " bytes in "
            "%.3f s, reverse delta %" PRIu64 " bytes in %.3f s\n",
            populate_v2.s, delta_bytes, write_delta.s, reverse_delta_bytes,
            write_reverse_delta.s);

    movies_writer_free(&w);
    hollow_write_state_free(ws);
    hollow_schema_list_free(schemas);

    /* read_snapshot_s, read_state_bytes (heap mode) */
    hollow_read_options ropts = HOLLOW_READ_OPTIONS_INIT;
    ropts.memory_mode = HOLLOW_MEMORY_HEAP;
    hollow_read_state *rs = NULL;
    long base = bench_live_bytes();
    pc = phase_start();
    check(hollow_read_state_open(&rs, snap_path, &ropts), snap_path);
    phase_time read_snapshot = phase_stop(pc);
    long read_state_bytes = bench_live_bytes() - base;
    fprintf(stderr, "movies: read %.3f s, %ld bytes held (state says %zu)\n",
            read_snapshot.s, read_state_bytes, hollow_read_state_memory(rs));

    /* apply_delta_s; memory while version 1 is still pinned, then alone */
    size_t dlen;
    uint8_t *delta = bench_read_file(delta_path, &dlen);
    hollow_read_state *rs2 = NULL;
    pc = phase_start();
    check(hollow_read_state_apply_delta(&rs2, rs, delta, dlen), "apply delta");
    phase_time apply_delta = phase_stop(pc);
    free(delta);
    long after_delta_bytes = bench_live_bytes() - base;

    /* diff_s: what differs between versions 1 and 2 (hollow/diff.h) */
    hollow_diff *diff = NULL;
    pc = phase_start();
    check(hollow_diff_new(&diff, rs, rs2, NULL), "diff");
    phase_time diff_time = phase_stop(pc);
    hollow_diff_type mt = {0};
    for (size_t i = 0; i < hollow_diff_type_count(diff); i++) {
        hollow_diff_type t;
        if (hollow_diff_type_at(&t, diff, i) == 0 && strcmp(t.name, "Movie") == 0)
            mt = t;
    }
    fprintf(stderr, "movies: diff %.3f s: Movie %zu added, %zu removed, %zu "
            "changed\n", diff_time.s, mt.added, mt.removed, mt.changed);
    hollow_diff_free(diff);
    hollow_read_state_release(rs);
    long v2_bytes = bench_live_bytes() - base;
    fprintf(stderr, "movies: apply delta %.3f s; %ld bytes with v1 pinned, "
            "%ld for v2 alone\n", apply_delta.s, after_delta_bytes, v2_bytes);

    /* refresh_delta_s: the same delta through producer, store, consumer */
    char store_dir[4200];
    snprintf(store_dir, sizeof store_dir, "%s/store", dir);
    phase_time producer_cycle;
    phase_time refresh =
        refresh_delta(&d, store_dir, args.threads, &producer_cycle);
    fprintf(stderr, "movies: refresh through the store %.3f s (producer cycle "
            "%.3f s)\n", refresh.s, producer_cycle.s);

    /* the primary key index on Movie.id of version 2, and the lookups */
    bench_index_result ix;
    if (bench_index_phases(rs2, args.n, args.seed, args.lookups, &ix) < 0)
        die("index phases");
    fprintf(stderr, "movies: index %.3f s, %ld bytes; %" PRIu64 " lookups, %"
            PRIu64 " hits, %.1f ns each\n", ix.pk_index_build_s,
            ix.pk_index_bytes, ix.lookups, ix.lookup_hits, ix.lookup_ns_per_op);

    /* scan over the version-2 state (bench-dataset.md) */
    const int scan_version = 2;
    scan_result sr = scan(rs2, scan_pass);
    scan_result sc = scan(rs2, scan_pass_checked);
    uint64_t want = expected_checksum(&d, scan_version);
    size_t want_records = scan_version == 1 ? d.v1_count : d.v2_count;
    if (sc.checksum != sr.checksum || sc.records != sr.records) {
        fprintf(stderr, "hollow-bench movies: the checked scan found %zu "
                "records, checksum %" PRIu64 "; the cursor %zu, %" PRIu64 "\n",
                sc.records, sc.checksum, sr.records, sr.checksum);
        return 1;
    }
    if (sr.checksum != want || sr.records != want_records) {
        fprintf(stderr,
                "hollow-bench movies: scan found %zu records, checksum %" PRIu64
                "; the generator says %zu, %" PRIu64 "\n",
                sr.records, sr.checksum, want_records, want);
        return 1;
    }

    unsigned threads = args.threads;
    if (threads == 0) /* what the library takes for 0 */
        threads = movies_cores();
    printf("{\"n\":%" PRIu64 ",\"seed\":%" PRId64 ",\"threads\":%u,"
           "\"populate_s\":%.6f,\"populate_cpu_s\":%.6f,"
           "\"write_snapshot_s\":%.6f,\"write_snapshot_cpu_s\":%.6f,"
           "\"snapshot_bytes\":%" PRIu64 ","
           "\"populate_v2_s\":%.6f,\"populate_v2_cpu_s\":%.6f,"
           "\"write_delta_s\":%.6f,\"write_delta_cpu_s\":%.6f,"
           "\"delta_bytes\":%" PRIu64 ","
           "\"write_reverse_delta_s\":%.6f,\"write_reverse_delta_cpu_s\":%.6f,"
           "\"reverse_delta_bytes\":%" PRIu64 ","
           "\"read_snapshot_s\":%.6f,\"read_snapshot_cpu_s\":%.6f,"
           "\"read_state_bytes\":%ld,"
           "\"apply_delta_s\":%.6f,\"apply_delta_cpu_s\":%.6f,"
           "\"diff_s\":%.6f,\"diff_cpu_s\":%.6f,"
           "\"read_state_after_delta_bytes\":%ld,"
           "\"read_state_v2_bytes\":%ld,"
           "\"refresh_delta_s\":%.6f,\"refresh_delta_cpu_s\":%.6f,"
           "\"producer_cycle_v2_s\":%.6f,\"producer_cycle_v2_cpu_s\":%.6f,"
           "\"pk_index_build_s\":%.6f,\"pk_index_build_cpu_s\":%.6f,"
           "\"pk_index_bytes\":%ld,"
           "\"lookups\":%" PRIu64 ",\"lookup_hits\":%" PRIu64 ","
           "\"lookup_ns_per_op\":%.3f,\"lookup_cpu_ns_per_op\":%.3f,"
           "\"scan_records\":%zu,\"scan_ns_per_record_first_pass\":%.3f,"
           "\"scan_ns_per_record_best_of_5\":%.3f,"
           "\"scan_cpu_ns_per_record_best_of_5\":%.3f,"
           "\"scan_checked_ns_per_record_best_of_5\":%.3f,"
           "\"scan_checked_cpu_ns_per_record_best_of_5\":%.3f,"
           "\"scan_checksum\":%" PRIu64 "}\n",
           args.n, (int64_t)args.seed, threads, populate.s, populate.cpu_s,
           write_snapshot.s, write_snapshot.cpu_s, snapshot_bytes,
           populate_v2.s, populate_v2.cpu_s, write_delta.s, write_delta.cpu_s,
           delta_bytes, write_reverse_delta.s, write_reverse_delta.cpu_s,
           reverse_delta_bytes, read_snapshot.s, read_snapshot.cpu_s,
           read_state_bytes, apply_delta.s, apply_delta.cpu_s, diff_time.s,
           diff_time.cpu_s, after_delta_bytes, v2_bytes, refresh.s,
           refresh.cpu_s, producer_cycle.s, producer_cycle.cpu_s,
           ix.pk_index_build_s, ix.pk_index_build_cpu_s, ix.pk_index_bytes,
           ix.lookups, ix.lookup_hits, ix.lookup_ns_per_op,
           ix.lookup_cpu_ns_per_op, sr.records, sr.first_ns, sr.best_ns,
           sr.best_cpu_ns, sc.best_ns, sc.best_cpu_ns, sr.checksum);

    hollow_read_state_release(rs2);
    if (!keep) {
        unlink(snap_path);
        unlink(delta_path);
        unlink(rev_path);
        /* the store's files: Java's names for versions 1 and 2 */
        static const char *const names[] = {"snapshot-1", "snapshot-2",
                                            "delta-1-2", "reversedelta-2-1",
                                            "header-1", "header-2"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            char f[4400];
            snprintf(f, sizeof f, "%s/%s", store_dir, names[i]);
            unlink(f);
        }
        rmdir(store_dir);
        rmdir(dir);
    }
    movies_data_free(&d);
    return 0;
}
