/*
 * The built-in sample behind `--store memory` (sample.h): one in-memory
 * blob store, one in-process announcer and one producer for the whole
 * process, filled on first use with the Movies dataset (N=1000, seed 42)
 * in versions 1, 2 and 3. The generator is the benchmark's
 * (bench/movies_gen.c), compiled into hollow-cli.
 */
#include "sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/error.h"
#include "hollow/producer.h"
#include "hollow/read.h"
#include "hollow/schema.h"
#include "movies_gen.h"
#include "movies_populate.h"
#include "opt.h"

#define SAMPLE_N 1000
#define SAMPLE_SEED 42

static struct {
    bool open;
    hollow_blobstore *bs;
    hollow_announcer *an;
    hollow_producer *producer;
    hollow_schema_list *schemas;
    movies_data data;     /* actors and version 1; its rng continues */
    movies_movie *cur;    /* the latest version's movies */
    movies_movie *next;   /* room for the one after */
    size_t cur_count;
    uint64_t next_index;  /* movie(i) drawn next */
} S;

/* the seed's small version numbers: 1, 2, 3, ... */
int64_t cli_sample_mint(int64_t previous, void *payload)
{
    (void)payload;
    return previous + 1;
}

typedef struct populate_arg {
    int version;                /* 1: the data's version 1; else `movies` */
    const movies_movie *movies;
    size_t count;
} populate_arg;

static int populate(hollow_write_state *ws, void *payload)
{
    const populate_arg *pa = payload;
    movies_writer w;
    int rc = movies_writer_init(&w, ws, S.data.actor_count);
    if (rc == 0)
        rc = pa->version == 1
                 ? movies_populate(&w, &S.data, 1)
                 : movies_populate_movies(&w, &S.data, pa->movies, pa->count);
    movies_writer_free(&w);
    return rc;
}

static void sample_free(void)
{
    hollow_producer_free(S.producer);
    hollow_announcer_free(S.an);
    hollow_blobstore_free(S.bs);
    hollow_schema_list_free(S.schemas);
    movies_data_free(&S.data);
    free(S.cur);
    free(S.next);
    memset(&S, 0, sizeof S);
}

/* the next version's movies into S.next, then swap it with S.cur */
static void advance_movies(void)
{
    const movies_movie *from = S.cur_count > 0 ? S.cur : S.data.v1;
    size_t count = S.cur_count > 0 ? S.cur_count : S.data.v1_count;
    size_t c = movies_next_version(S.next, from, count, S.data.n,
                                   S.data.actor_count, &S.data.rng,
                                   &S.next_index);
    movies_movie *t = S.cur;
    S.cur = S.next;
    S.next = t;
    S.cur_count = c;
}

/* one cycle of the sample producer over `pa`; 0 or 1 after printing why */
static int cycle(int64_t *version, populate_arg *pa, const char *cmd)
{
    if (hollow_producer_run_cycle(version, S.producer, populate, pa) < 0)
        return cli_fail_hollow(cmd, "the sample store's producer");
    return 0;
}

static int build(const char *cmd)
{
    hollow_blobstore_memory_options mo = HOLLOW_BLOBSTORE_MEMORY_OPTIONS_INIT;
    hollow_announcer_inproc_options ao = HOLLOW_ANNOUNCER_INPROC_OPTIONS_INIT;
    ao.spin_us = 0; /* a handful of announcements: no need to spin */
    if (hollow_blobstore_memory_new(&S.bs, &mo) < 0 ||
        hollow_announcer_inproc_new(&S.an, &ao) < 0 ||
        hollow_schema_parse(&S.schemas, movies_schema_text,
                            strlen(movies_schema_text)) < 0)
        return cli_fail_hollow(cmd, "the sample store");
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = S.bs;
    po.announcer = S.an;
    po.schemas = S.schemas;
    po.minter = cli_sample_mint;
    /* other producers of the shell (produce with data) share the store */
    po.lease_ttl_ms = HOLLOW_PRODUCER_NO_LEASE;
    if (hollow_producer_new(&S.producer, &po) < 0)
        return cli_fail_hollow(cmd, "the sample store's producer");
    if (movies_data_generate(&S.data, SAMPLE_N, SAMPLE_SEED) != 0)
        return cli_fail(cmd, 1, "the sample store: out of memory");
    size_t room = (size_t)(SAMPLE_N + SAMPLE_N / 200);
    S.cur = malloc(room * sizeof *S.cur);
    S.next = malloc(room * sizeof *S.next);
    if (S.cur == NULL || S.next == NULL)
        return cli_fail(cmd, 1, "the sample store: out of memory");
    /* the stream after version 2 draws version 3's movies; version 2 is
     * the data's own (movies_next_version over version 1 gives it) */
    for (size_t i = 0; i < S.data.v2_count; i++)
        S.cur[i] = *S.data.v2[i];
    S.cur_count = S.data.v2_count;
    S.next_index = SAMPLE_N + SAMPLE_N / 200;

    int64_t v = 0;
    populate_arg v1 = {1, NULL, 0};
    populate_arg v2 = {2, S.cur, S.cur_count};
    if (cycle(&v, &v1, cmd) != 0 || cycle(&v, &v2, cmd) != 0)
        return 1;
    advance_movies();
    populate_arg v3 = {3, S.cur, S.cur_count};
    if (cycle(&v, &v3, cmd) != 0)
        return 1;
    /* a consumer opened right after sees version 3 as the latest */
    hollow_announcer_drain(S.an, 1000);
    return 0;
}

int cli_sample_open(hollow_blobstore **bs, hollow_announcer **an,
                    const char *cmd)
{
    if (!S.open) {
        if (build(cmd) != 0) {
            sample_free();
            if (bs != NULL)
                *bs = NULL;
            if (an != NULL)
                *an = NULL;
            return 1;
        }
        S.open = true;
        atexit(sample_free);
    }
    if (bs != NULL)
        *bs = S.bs;
    if (an != NULL)
        *an = S.an;
    return 0;
}

bool cli_sample_is_store(const void *bs)
{
    return S.open && bs != NULL && bs == (const void *)S.bs;
}

bool cli_sample_is_announcer(const void *an)
{
    return S.open && an != NULL && an == (const void *)S.an;
}

/* ------------------------------------------------------ produce --verbose */

static void print_type_changes(const hollow_read_state *before,
                               const hollow_read_state *after)
{
    for (size_t i = 0; i < hollow_read_state_type_count(after); i++) {
        const hollow_type *t = hollow_read_state_type_sorted(after, i);
        const hollow_type *p =
            before != NULL ? hollow_read_state_type(before, hollow_type_name(t))
                           : NULL;
        size_t added = 0, removed = 0, kept = 0;
        /* a kept record keeps its ordinal; a cycle never gives a removed
         * record's ordinal to an added one */
        for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0;
             o = hollow_type_next_ordinal(t, o + 1)) {
            if (p != NULL && hollow_type_is_populated(p, o))
                kept++;
            else
                added++;
        }
        for (hollow_ordinal o = p != NULL ? hollow_type_next_ordinal(p, 0)
                                          : HOLLOW_ORDINAL_NONE;
             o >= 0; o = hollow_type_next_ordinal(p, o + 1))
            if (!hollow_type_is_populated(t, o))
                removed++;
        fprintf(stderr, "%s: %zu added, %zu removed, %zu kept\n",
                hollow_type_name(t), added, removed, kept);
    }
}

typedef struct blob_list {
    int64_t version;
} blob_list;

static int print_blob(const hollow_blob_key *key, void *payload)
{
    const blob_list *bl = payload;
    if (key->version != bl->version && key->from_version != bl->version)
        return 0;
    char name[HOLLOW_BLOB_NAME_MAX];
    if (hollow_blob_key_name(name, sizeof name, key) < 0)
        return 0;
    int64_t size = -1;
    if (hollow_blobstore_size(&size, S.bs, key) < 0)
        size = -1;
    fprintf(stderr, "wrote %s: %lld bytes\n", name, (long long)size);
    return 0;
}

int cli_sample_produce_next(int64_t *version, bool verbose, const char *cmd)
{
    *version = 0;
    if (cli_sample_open(NULL, NULL, cmd) != 0)
        return 1;
    hollow_read_state *before = hollow_producer_acquire_state(S.producer);
    advance_movies();
    populate_arg pa = {0, S.cur, S.cur_count};
    int rc = cycle(version, &pa, cmd);
    if (rc == 0) {
        hollow_announcer_drain(S.an, 1000);
        if (verbose) {
            hollow_read_state *after = hollow_producer_acquire_state(S.producer);
            fprintf(stderr, "version %lld from %lld: the Movies sample's "
                    "version-2 rule\n", (long long)*version,
                    before != NULL ? (long long)hollow_read_state_version(before)
                                   : 0LL);
            if (after != NULL)
                print_type_changes(before, after);
            blob_list bl = {*version};
            hollow_blobstore_list(S.bs, print_blob, &bl);
            hollow_read_state_release(after);
        }
    }
    hollow_read_state_release(before);
    return rc;
}
