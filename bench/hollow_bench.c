/*
 * hollow-bench: one program, one subcommand per area (style.md B2). Each
 * subcommand prints exactly one JSON object on stdout; anything else goes
 * to stderr. Memory figures are bytes held through the library's allocator
 * hooks (a counting allocator installed here), not RSS.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench.h"
#include "hollow/common.h"

static atomic_long live;

static void *count_malloc(void *o, size_t n)
{
    (void)o;
    size_t *p = malloc(n + 16);
    if (p == NULL)
        return NULL;
    *p = n;
    atomic_fetch_add(&live, (long)n);
    return (char *)p + 16;
}

static void count_free(void *o, void *ptr)
{
    (void)o;
    if (ptr == NULL)
        return;
    size_t *p = (size_t *)((char *)ptr - 16);
    atomic_fetch_sub(&live, (long)*p);
    free(p);
}

static void *count_realloc(void *o, void *ptr, size_t n)
{
    if (ptr == NULL)
        return count_malloc(o, n);
    size_t *p = (size_t *)((char *)ptr - 16);
    size_t old = *p;
    size_t *q = realloc(p, n + 16);
    if (q == NULL)
        return NULL;
    *q = n;
    atomic_fetch_add(&live, (long)n - (long)old);
    return (char *)q + 16;
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long bench_live_bytes(void) { return atomic_load(&live); }

int bench_help_asked(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

uint8_t *bench_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "hollow-bench: cannot open %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "hollow-bench: cannot read %s: %s\n", path,
                strerror(EISDIR));
        exit(1);
    }
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "hollow-bench: cannot read %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    errno = 0;
    if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "hollow-bench: cannot read %s: %s\n", path,
                p == NULL ? "out of memory"
                : ferror(f) ? strerror(errno ? errno : EIO)
                            : "the file shrank while being read");
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hollow-bench <subcommand> [options]\n\n"
               "  chain [--repeat N] [--mmap] SNAPSHOT [DELTA...]\n"
               "      time and memory of loading a snapshot and applying "
               "deltas\n"
               "  movies [--n N] [--seed S] [--lookups L] [--jsonl FILE] "
               "[--jsonl2 FILE] [--gen-only] [--out DIR]\n"
               "      the Movies benchmark of bench-dataset.md\n"
               "  import [--n N] [--seed S] [--jsonl FILE] [--threads T] "
               "[--repeat R]\n"
               "      Movies JSON lines through produce's import into an fs "
               "store, against the same cycle from C structs\n"
               "  announcer [--spin-us N] [--scale F]\n"
               "      in-process announcer: delivery latency, throughput, "
               "bytes per subscriber\n"
               "  announcer --redis HOST:PORT [--connections C] [--scale F]\n"
               "      Redis announcer: announcement-to-callback latency at "
               "1-1000 subscribers, throughput\n"
               "  s3 --endpoint URL [--bucket B] [--ca-file F] [--n N] ...\n"
               "      S3 store: cache-hit gets, upload/download MB/s against "
               "the aws CLI, Movies load\n"
               "  types [--n N] [--tags T] [--repeat R] [--out FILE]\n"
               "      time of loading a snapshot of N types and T header "
               "tags\n");
}

int main(int argc, char **argv)
{
    hollow_allocator a = {count_malloc, count_realloc, count_free, NULL};
    hollow_set_allocator(&a);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "chain") == 0)
        return bench_chain(argc - 1, argv + 1);
    if (strcmp(argv[1], "movies") == 0)
        return bench_movies(argc - 1, argv + 1);
    if (strcmp(argv[1], "import") == 0)
        return bench_import(argc - 1, argv + 1);
    if (strcmp(argv[1], "announcer") == 0)
        return bench_announcer(argc - 1, argv + 1);
    if (strcmp(argv[1], "s3") == 0)
        return bench_s3(argc - 1, argv + 1);
    if (strcmp(argv[1], "types") == 0)
        return bench_types(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hollow-bench: unknown subcommand %s\n", argv[1]);
    usage(stderr);
    return 2;
}
