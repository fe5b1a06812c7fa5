/*
 * The Movies populate pipelined over threads (bench/movies_populate.c):
 * with 2, 3 and 4 threads every type gets the ordinals the sequential
 * populate gives it, so the snapshot, delta and reverse delta are the same
 * bytes; a failing add on one thread stops the others and is reported.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "movies_gen.h"
#include "movies_populate.h"
#include "testhelp.h"

typedef struct blobs {
    ht_mem snap, delta, rev;
} blobs;

static void blobs_free(blobs *b)
{
    free(b->snap.p);
    free(b->delta.p);
    free(b->rev.p);
}

/* versions 1 and 2 of `d` through one writer of `threads` threads */
static void write_versions(blobs *out, const movies_data *d, unsigned threads)
{
    hollow_schema_list *schemas = NULL;
    HT_OK(hollow_schema_parse(&schemas, movies_schema_text,
                              strlen(movies_schema_text)));
    hollow_write_options wo = HOLLOW_WRITE_OPTIONS_INIT;
    wo.target_shard_size = UINT64_MAX;
    wo.threads = 1;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, schemas, &wo));
    movies_writer w;
    HT_OK(movies_writer_init(&w, ws, d->actor_count));
    ck_assert_uint_eq(w.threads, 1); /* init's default: sequential */
    w.threads = threads;
    memset(out, 0, sizeof *out);
    ck_assert_msg(movies_populate(&w, d, 1) == 0, "populate: %s", w.error);
    hollow_write_state_set_randomized_tag(ws, 1001);
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &out->snap));
    HT_OK(hollow_write_state_prepare_cycle(ws));
    ck_assert_msg(movies_populate(&w, d, 2) == 0, "populate v2: %s", w.error);
    hollow_write_state_set_randomized_tag(ws, 1002);
    HT_OK(hollow_write_state_write_delta(ws, ht_mem_sink, &out->delta));
    HT_OK(hollow_write_state_write_reverse_delta(ws, ht_mem_sink, &out->rev));
    movies_writer_free(&w);
    hollow_write_state_free(ws);
    hollow_schema_list_free(schemas);
}

static void assert_same(const ht_mem *a, const ht_mem *b, const char *what,
                        uint64_t n, unsigned threads)
{
    ck_assert_msg(a->len == b->len && memcmp(a->p, b->p, a->len) == 0,
                  "N=%llu, %u threads: the %s differs (%zu bytes, sequential "
                  "%zu)", (unsigned long long)n, threads, what, b->len, a->len);
}

/* tiny N around a block (64 movies), and 17000: past the ordinal ring
 * (256 blocks of 64), so every ring slot is reused */
static const uint64_t sizes[] = {1, 63, 64, 65, 17000};

START_TEST(pipeline_same_bytes_as_sequential)
{
    uint64_t n = sizes[_i];
    movies_data d;
    ck_assert_int_eq(movies_data_generate(&d, n, 42), 0);
    blobs seq;
    write_versions(&seq, &d, 1);
    ck_assert_uint_gt(seq.snap.len, 0);
    ck_assert_uint_gt(seq.delta.len, 0);
    for (unsigned t = 2; t <= 4; t++) {
        blobs par;
        write_versions(&par, &d, t);
        assert_same(&seq.snap, &par.snap, "snapshot", n, t);
        assert_same(&seq.delta, &par.delta, "delta", n, t);
        assert_same(&seq.rev, &par.rev, "reverse delta", n, t);
        blobs_free(&par);
    }
    blobs_free(&seq);
    movies_data_free(&d);
}
END_TEST

/* The movies reference actors past the 10 the populate adds: the first
 * actor set that names one fails its add (on the SETS thread); the others
 * stop, and the populate returns the error with its message. */
START_TEST(pipeline_add_error_stops_every_thread)
{
    unsigned threads = (unsigned)_i;
    movies_data d;
    ck_assert_int_eq(movies_data_generate(&d, 5000, 42), 0);
    hollow_schema_list *schemas = NULL;
    HT_OK(hollow_schema_parse(&schemas, movies_schema_text,
                              strlen(movies_schema_text)));
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, schemas, NULL));
    movies_writer w;
    HT_OK(movies_writer_init(&w, ws, d.actor_count));
    w.threads = threads;
    for (uint32_t a = 0; a < d.actor_count; a++)
        w.actor_ords[a] = 1 << 27; /* an ordinal no actor was given */
    movies_data few = d;
    few.actor_count = 10;
    int rc = movies_populate(&w, &few, 1);
    ck_assert_int_eq(rc, HOLLOW_EINVAL);
    ck_assert_msg(strstr(w.error, "SetOfActor") != NULL &&
                      strstr(w.error, "134217728") != NULL,
                  "%u threads: the message is \"%s\"", threads, w.error);
    /* the same writer populates again once the data is whole */
    HT_OK(hollow_write_state_prepare_cycle(ws));
    ck_assert_msg(movies_populate(&w, &d, 1) == 0, "%s", w.error);
    movies_writer_free(&w);
    hollow_write_state_free(ws);
    hollow_schema_list_free(schemas);
    movies_data_free(&d);
}
END_TEST

static Suite *pipeline_suite(void)
{
    Suite *s = suite_create("populate_pipeline");
    TCase *tc = tcase_create("bytes");
    tcase_add_loop_test(tc, pipeline_same_bytes_as_sequential, 0,
                        (int)(sizeof sizes / sizeof *sizes));
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, pipeline_add_error_stops_every_thread, 1, 5);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(pipeline_suite());
}
