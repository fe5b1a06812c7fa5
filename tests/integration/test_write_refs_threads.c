/*
 * hollow_write_state_add() from several threads at once while it checks
 * references (issue 12 item 6): each thread adds Str records and Movies
 * referencing them, so the reference check reads the Str type's populated
 * set while other threads grow it; half the threads add through
 * hollow_write_state_add_batch(), whose look-ahead reads a type's table
 * while others grow it. Run under ThreadSanitizer too.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "testhelp.h"

#define THREADS 4
#define PER_THREAD 5000

static const char schema_text[] = "Str { string value; }\n"
                                  "Movie { int id; Str title; }\n"
                                  "ListOfStr List<Str>;\n";

typedef struct job {
    hollow_write_state *ws;
    int id;
    int failures;   /* adds that should have worked but did not */
    int refused;    /* dangling references refused, as they must be */
} job;

static void *run(void *arg)
{
    job *j = arg;
    hollow_record *s = NULL, *m = NULL, *l = NULL;
    if (hollow_record_new(&s, j->ws, "Str") < 0 ||
        hollow_record_new(&m, j->ws, "Movie") < 0 ||
        hollow_record_new(&l, j->ws, "ListOfStr") < 0) {
        j->failures++;
        goto done;
    }
    for (int i = 0; i < PER_THREAD; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "t%d-%d", j->id, i);
        hollow_ordinal so, mo, lo;
        hollow_record_reset(s);
        if (hollow_record_set_string(s, 0, buf, (size_t)n) < 0 ||
            hollow_write_state_add(&so, j->ws, s) < 0) {
            j->failures++;
            continue;
        }
        hollow_record_reset(m);
        hollow_record_set_int(m, 0, j->id * PER_THREAD + i);
        hollow_record_set_ref(m, 1, so);
        if (hollow_write_state_add(&mo, j->ws, m) < 0)
            j->failures++;
        hollow_record_reset(l);
        hollow_record_add_element(l, so);
        if (hollow_write_state_add(&lo, j->ws, l) < 0)
            j->failures++;
        /* far past anything added: refused whatever the others do */
        hollow_record_reset(m);
        hollow_record_set_int(m, 0, -1);
        hollow_record_set_ref(m, 1, 1 << 27);
        if (hollow_write_state_add(&mo, j->ws, m) == HOLLOW_EINVAL)
            j->refused++;
    }
done:
    hollow_record_free(s);
    hollow_record_free(m);
    hollow_record_free(l);
    return NULL;
}

#define BATCH 32

/* the same records as run(), Str and Movie records a batch at a time */
static void *run_batch(void *arg)
{
    job *j = arg;
    hollow_record *s[BATCH] = {0}, *m[BATCH] = {0}, *bad = NULL;
    hollow_ordinal so[BATCH], mo[BATCH];
    for (int k = 0; k < BATCH; k++)
        if (hollow_record_new(&s[k], j->ws, "Str") < 0 ||
            hollow_record_new(&m[k], j->ws, "Movie") < 0) {
            j->failures++;
            goto done;
        }
    if (hollow_record_new(&bad, j->ws, "Movie") < 0) {
        j->failures++;
        goto done;
    }
    for (int i = 0; i < PER_THREAD; i += BATCH) {
        int n = PER_THREAD - i < BATCH ? PER_THREAD - i : BATCH;
        for (int k = 0; k < n; k++) {
            char buf[32];
            int len = snprintf(buf, sizeof buf, "t%d-%d", j->id, i + k);
            hollow_record_reset(s[k]);
            hollow_record_set_string(s[k], 0, buf, (size_t)len);
        }
        if (hollow_write_state_add_batch(so, j->ws, s, (size_t)n) < 0) {
            j->failures++;
            continue;
        }
        for (int k = 0; k < n; k++) {
            hollow_record_reset(m[k]);
            hollow_record_set_int(m[k], 0, j->id * PER_THREAD + i + k);
            hollow_record_set_ref(m[k], 1, so[k]);
        }
        if (hollow_write_state_add_batch(mo, j->ws, m, (size_t)n) < 0)
            j->failures++;
        for (int k = 0; k < n; k++) {
            hollow_record_reset(bad);
            hollow_record_set_int(bad, 0, -1);
            hollow_record_set_ref(bad, 1, 1 << 27);
            hollow_record *one[1] = {bad};
            if (hollow_write_state_add_batch(mo, j->ws, one, 1) == HOLLOW_EINVAL)
                j->refused++;
        }
    }
done:
    for (int k = 0; k < BATCH; k++) {
        hollow_record_free(s[k]);
        hollow_record_free(m[k]);
    }
    hollow_record_free(bad);
    return NULL;
}

START_TEST(write_refs_threads_concurrent_adds)
{
    hollow_schema_list *sl = NULL;
    HT_OK(hollow_schema_parse(&sl, schema_text, strlen(schema_text)));
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, sl, NULL));
    pthread_t th[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){ws, i, 0, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, i % 2 ? run_batch : run,
                                        &jobs[i]),
                         0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].failures, 0);
        ck_assert_int_eq(jobs[i].refused, PER_THREAD);
    }
    /* the state written back holds every movie with its title */
    ht_mem snap = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &snap));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, snap.p, snap.len, NULL));
    const hollow_type *t = hollow_read_state_type(rs, "Movie");
    ck_assert_uint_eq(hollow_type_record_count(t), THREADS * PER_THREAD);
    ht_mem out = {0};
    HT_OK(hollow_dump_deep(rs, "Movie", ht_mem_text_sink, &out));
    free(out.p);
    hollow_read_state_release(rs);
    free(snap.p);
    hollow_write_state_free(ws);
    hollow_schema_list_free(sl);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("write_refs_threads");
    TCase *tc = tcase_create("write_refs_threads");
    tcase_add_test(tc, write_refs_threads_concurrent_adds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(suite());
}
