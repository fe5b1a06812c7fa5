/*
 * hollow-bench chain [--repeat N] [--mmap] SNAPSHOT [DELTA...]
 *
 * Loads SNAPSHOT and applies each DELTA in turn, timing each step (best of
 * N repeats) and measuring memory: the read state against the blob's size,
 * and per delta the bytes held by the old and new state together (what a
 * consumer holds during a refresh) and by the new state alone.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "hollow/read.h"

static void die(const char *what)
{
    fprintf(stderr, "hollow-bench chain: %s: %s\n", what,
            hollow_error_last()->message);
    exit(1);
}

static void chain_usage(FILE *f)
{
    fprintf(f, "usage: hollow-bench chain [--repeat N] [--mmap] "
               "SNAPSHOT [DELTA...]\n");
}

int bench_chain(int argc, char **argv)
{
    if (bench_help_asked(argc, argv)) {
        chain_usage(stdout);
        return 0;
    }
    int repeat = 5;
    bool mmap_mode = false;
    const char *files[256];
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--mmap") == 0)
            mmap_mode = true;
        else if (nfiles < 256)
            files[nfiles++] = argv[i];
    }
    if (nfiles == 0 || repeat < 1) {
        chain_usage(stderr);
        return 2;
    }
    hollow_read_options opts = HOLLOW_READ_OPTIONS_INIT;
    opts.memory_mode = mmap_mode ? HOLLOW_MEMORY_MMAP : HOLLOW_MEMORY_HEAP;
    size_t blob_len;
    free(bench_read_file(files[0], &blob_len));

    double best = 1e30;
    long base = bench_live_bytes();
    hollow_read_state *rs = NULL;
    for (int r = 0; r < repeat; r++) {
        hollow_read_state_release(rs);
        rs = NULL;
        double t0 = bench_now();
        if (hollow_read_state_open(&rs, files[0], &opts) < 0)
            die(files[0]);
        double t = bench_now() - t0;
        if (t < best)
            best = t;
    }
    long state_bytes = bench_live_bytes() - base;
    printf("{\"snapshot\":\"%s\",\"mode\":\"%s\",\"blob_bytes\":%zu,"
           "\"load_s\":%.6f,\"state_bytes\":%ld,\"overhead_pct\":%.2f,"
           "\"deltas\":[",
           files[0], mmap_mode ? "mmap" : "heap", blob_len, best, state_bytes,
           100.0 * ((double)state_bytes - (double)blob_len) / (double)blob_len);
    for (int i = 1; i < nfiles; i++) {
        size_t len;
        uint8_t *d = bench_read_file(files[i], &len);
        double dbest = 1e30;
        hollow_read_state *next = NULL;
        for (int r = 0; r < repeat; r++) {
            hollow_read_state_release(next);
            next = NULL;
            double t0 = bench_now();
            if (hollow_read_state_apply_delta(&next, rs, d, len) < 0)
                die(files[i]);
            double t = bench_now() - t0;
            if (t < dbest)
                dbest = t;
        }
        long both = bench_live_bytes() - base;
        hollow_read_state_release(rs);
        rs = next;
        long alone = bench_live_bytes() - base;
        printf("%s{\"delta\":\"%s\",\"bytes\":%zu,\"apply_s\":%.6f,"
               "\"apply_vs_load\":%.3f,\"both_states_bytes\":%ld,"
               "\"new_state_bytes\":%ld}",
               i > 1 ? "," : "", files[i], len, dbest, dbest / best, both, alone);
        free(d);
    }
    printf("]}\n");
    hollow_read_state_release(rs);
    return 0;
}
