/*
 * hollow-bench import [--n N] [--seed S] [--jsonl FILE] [--threads T]
 *                     [--repeat R]
 *
 * The import benchmark of issue 15: the Movies dataset's version-1 JSON
 * lines (bench-dataset.md; generated into a temp file unless --jsonl names
 * one) published as `hollow-cli produce` publishes them: a producer over a
 * filesystem store and announcer in a fresh temp dir, with the default
 * options, whose populate callback is hollow_import_file(). Then the same
 * cycle from the generator's C structs (movies_populate) into another
 * fresh store, for the ratio. Each is run --repeat times (best kept).
 *
 * Printed as one JSON object: records, input bytes, the import's total
 * time split into parse+add (the populate callback) and the rest of the
 * cycle (write, check, put, announce), records/s and MB/s over the total,
 * and the struct cycle's figures.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "hollow/announcer.h"
#include "hollow/dump.h"
#include "hollow/import.h"
#include "hollow/producer.h"
#include "hollow/schema.h"
#include "movies_gen.h"
#include "movies_populate.h"

static void die(const char *what)
{
    fprintf(stderr, "hollow-bench import: %s: %s\n", what,
            hollow_error_last()->message);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc < 0)
        die(what);
}

/* a store directory: its files, then itself */
static void remove_store(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            remove_store(path); /* a subdirectory (the lease's) */
    }
    closedir(d);
    rmdir(dir);
}

typedef struct import_job {
    const char *path;
    unsigned threads;
    hollow_import_stats stats;
    double populate_s;
} import_job;

static int populate_import(hollow_write_state *ws, void *payload)
{
    import_job *j = payload;
    hollow_import_options io = HOLLOW_IMPORT_OPTIONS_INIT;
    io.threads = j->threads;
    double t0 = bench_now();
    int rc = hollow_import_file(&j->stats, ws, "Movie", j->path, &io);
    j->populate_s = bench_now() - t0;
    return rc;
}

typedef struct struct_job {
    const movies_data *d;
    double populate_s;
} struct_job;

static int populate_structs(hollow_write_state *ws, void *payload)
{
    struct_job *j = payload;
    movies_writer w;
    double t0 = bench_now();
    int rc = movies_writer_init(&w, ws, j->d->actor_count);
    if (rc == 0)
        rc = movies_populate(&w, j->d, 1);
    movies_writer_free(&w);
    j->populate_s = bench_now() - t0;
    return rc;
}

/*
 * One cycle as `hollow-cli produce` runs it: a fresh fs store and fs
 * announcer in `dir`, a producer with the default options, one cycle.
 * Returns the cycle's seconds (producer and store setup excluded).
 */
static double one_cycle(const char *dir, const hollow_schema_list *schemas,
                        hollow_populate_fn fn, void *payload)
{
    hollow_blobstore *bs = NULL;
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    so.create_dir = true;
    check(hollow_blobstore_fs_new(&bs, &so), dir);
    hollow_announcer *an = NULL;
    hollow_announcer_fs_options ao = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    ao.dir = dir;
    ao.force_polling = true;
    check(hollow_announcer_fs_new(&an, &ao), "announcer");
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = an;
    po.schemas = schemas;
    hollow_producer *p = NULL;
    check(hollow_producer_new(&p, &po), "producer");
    int64_t v = 0;
    double t0 = bench_now();
    check(hollow_producer_run_cycle(&v, p, fn, payload), "cycle");
    double s = bench_now() - t0;
    if (v == 0) {
        fprintf(stderr, "hollow-bench import: the cycle published nothing\n");
        exit(1);
    }
    hollow_producer_free(p);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    remove_store(dir);
    return s;
}

static void write_jsonl(const char *path, const movies_data *d)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "hollow-bench import: cannot create %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    char line[MOVIES_JSON_MAX];
    for (size_t i = 0; i < d->v1_count; i++) {
        size_t len = movies_json_line(line, sizeof line - 1, d->actors,
                                      &d->v1[i], hollow_format_double);
        line[len++] = '\n';
        if (fwrite(line, 1, len, f) != len)
            break;
    }
    if (ferror(f) || fclose(f) != 0) {
        fprintf(stderr, "hollow-bench import: cannot write %s\n", path);
        exit(1);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hollow-bench import [--n N] [--seed S] [--jsonl FILE] "
               "[--threads T] [--repeat R]\n"
               "  --n N        movies (default 1000000)\n"
               "  --seed S     generator seed (default 42)\n"
               "  --jsonl F    import F (Movies JSON lines of the same N and "
               "seed) instead of a generated temp file\n"
               "  --threads T  the import's parsing threads (default 0: every "
               "core)\n"
               "  --repeat R   runs of each cycle, best kept (default 1)\n");
}

int bench_import(int argc, char **argv)
{
    uint64_t n = 1000000, seed = 42;
    const char *jsonl = NULL;
    unsigned threads = 0, repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(o, "--n") == 0 && has)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(o, "--seed") == 0 && has)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(o, "--jsonl") == 0 && has)
            jsonl = argv[++i];
        else if (strcmp(o, "--threads") == 0 && has)
            threads = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(o, "--repeat") == 0 && has)
            repeat = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(o, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (n == 0 || repeat == 0) {
        usage(stderr);
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[4096], input[4200], store[4200];
    snprintf(dir, sizeof dir, "%s/hollow-bench-import-XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "hollow-bench import: cannot create a temp dir: %s\n",
                strerror(errno));
        return 1;
    }
    snprintf(store, sizeof store, "%s/store", dir);

    double t0 = bench_now();
    movies_data d;
    if (movies_data_generate(&d, n, seed) < 0) {
        fprintf(stderr, "hollow-bench import: out of memory generating\n");
        return 1;
    }
    if (jsonl == NULL) {
        snprintf(input, sizeof input, "%s/movies.jsonl", dir);
        write_jsonl(input, &d);
        jsonl = input;
    }
    struct stat sb;
    if (stat(jsonl, &sb) != 0) {
        fprintf(stderr, "hollow-bench import: %s: %s\n", jsonl, strerror(errno));
        return 1;
    }
    fprintf(stderr, "import: %" PRIu64 " movies, %s: %lld bytes (%.2f s to "
            "generate)\n", n, jsonl, (long long)sb.st_size, bench_now() - t0);

    hollow_schema_list *schemas = NULL;
    check(hollow_schema_parse(&schemas, movies_schema_text,
                              strlen(movies_schema_text)), "schema");

    double best_total = 1e30, best_parse = 0;
    import_job job = {jsonl, threads, {0, 0, 0}, 0};
    for (unsigned r = 0; r < repeat; r++) {
        double s = one_cycle(store, schemas, populate_import, &job);
        fprintf(stderr, "import: cycle %.3f s (parse+add %.3f s)\n", s,
                job.populate_s);
        if (s < best_total) {
            best_total = s;
            best_parse = job.populate_s;
        }
    }
    double best_struct = 1e30, best_struct_pop = 0;
    struct_job sj = {&d, 0};
    for (unsigned r = 0; r < repeat; r++) {
        double s = one_cycle(store, schemas, populate_structs, &sj);
        fprintf(stderr, "import: struct cycle %.3f s (populate %.3f s)\n", s,
                sj.populate_s);
        if (s < best_struct) {
            best_struct = s;
            best_struct_pop = sj.populate_s;
        }
    }
    double mb = (double)sb.st_size / 1e6;
    printf("{\"n\":%" PRIu64 ",\"seed\":%" PRIu64 ",\"threads\":%u,"
           "\"records\":%" PRIu64 ",\"input_bytes\":%lld,"
           "\"import_total_s\":%.6f,\"import_parse_add_s\":%.6f,"
           "\"import_cycle_rest_s\":%.6f,\"records_per_s\":%.0f,"
           "\"mb_per_s\":%.1f,\"structs_total_s\":%.6f,"
           "\"structs_populate_s\":%.6f,\"structs_cycle_rest_s\":%.6f,"
           "\"import_to_structs_ratio\":%.3f}\n",
           n, seed, threads, job.stats.records, (long long)sb.st_size,
           best_total, best_parse, best_total - best_parse,
           (double)job.stats.records / best_total, mb / best_total,
           best_struct, best_struct_pop, best_struct - best_struct_pop,
           best_total / best_struct);
    hollow_schema_list_free(schemas);
    movies_data_free(&d);
    if (jsonl == input)
        unlink(input);
    rmdir(dir);
    return 0;
}
