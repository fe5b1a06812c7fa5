/*
 * hollow_write_state_add() from several threads at once while it checks
 * references (issue 12 item 6): each thread adds Str records and Movies
 * referencing them, so the reference check reads the Str type's populated
 * set while other threads grow it; half the threads add through
 * hollow_write_state_add_batch(), whose look-ahead reads a type's table
 * while others grow it. Run under ThreadSanitizer too.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
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

/*
 * Types added from different threads, as a pipelined populate does: one
 * thread adds Str records and hands their ordinals on; two others add the
 * Movies and lists that reference them as soon as they are handed over.
 * The reference checks read Str's populated set while its thread grows
 * it (past several doublings of its word array) without taking Str's lock.
 */
#define PIPE_STRS 40000

typedef struct pipe_job {
    hollow_write_state *ws;
    hollow_ordinal ords[PIPE_STRS];
    _Atomic int published;   /* ords[0, published) are added */
    int failures;
} pipe_job;

static void *pipe_strs(void *arg)
{
    pipe_job *j = arg;
    hollow_record *s[BATCH] = {0};
    for (int k = 0; k < BATCH; k++)
        if (hollow_record_new(&s[k], j->ws, "Str") < 0)
            j->failures++;
    for (int i = 0; i < PIPE_STRS && j->failures == 0; i += BATCH) {
        int n = PIPE_STRS - i < BATCH ? PIPE_STRS - i : BATCH;
        for (int k = 0; k < n; k++) {
            char buf[32];
            int len = snprintf(buf, sizeof buf, "s%d", i + k);
            hollow_record_reset(s[k]);
            hollow_record_set_string(s[k], 0, buf, (size_t)len);
        }
        /* alternately one batch and single adds */
        if ((i / BATCH) % 2 == 0) {
            if (hollow_write_state_add_batch(&j->ords[i], j->ws, s, (size_t)n) < 0)
                j->failures++;
        } else {
            for (int k = 0; k < n; k++)
                if (hollow_write_state_add(&j->ords[i + k], j->ws, s[k]) < 0)
                    j->failures++;
        }
        atomic_store_explicit(&j->published, i + n, memory_order_release);
    }
    for (int k = 0; k < BATCH; k++)
        hollow_record_free(s[k]);
    if (j->failures > 0) /* let the others stop */
        atomic_store_explicit(&j->published, -1, memory_order_release);
    return NULL;
}

/* wait for ords[i]: -1 when the Str thread gave up */
static hollow_ordinal pipe_wait(pipe_job *j, int i)
{
    int p;
    while ((p = atomic_load_explicit(&j->published, memory_order_acquire)) <= i) {
        if (p < 0)
            return -1;
        sched_yield();
    }
    return j->ords[i];
}

static void *pipe_movies(void *arg)
{
    pipe_job *j = arg;
    hollow_record *m = NULL;
    if (hollow_record_new(&m, j->ws, "Movie") < 0)
        return (void *)1;
    intptr_t bad = 0;
    for (int i = 0; i < PIPE_STRS && !bad; i++) {
        hollow_ordinal so = pipe_wait(j, i), mo;
        hollow_record_reset(m);
        hollow_record_set_int(m, 0, i);
        hollow_record_set_ref(m, 1, so);
        if (so < 0 || hollow_write_state_add(&mo, j->ws, m) < 0)
            bad = 1;
        /* a Str not added yet is refused */
        hollow_record_set_ref(m, 1, PIPE_STRS + i);
        if (!bad && hollow_write_state_add(&mo, j->ws, m) != HOLLOW_EINVAL)
            bad = 1;
    }
    hollow_record_free(m);
    return (void *)bad;
}

static void *pipe_lists(void *arg)
{
    pipe_job *j = arg;
    hollow_record *l[BATCH] = {0};
    intptr_t bad = 0;
    for (int k = 0; k < BATCH; k++)
        if (hollow_record_new(&l[k], j->ws, "ListOfStr") < 0)
            bad = 1;
    hollow_ordinal out[BATCH];
    for (int i = 0; i + 2 <= PIPE_STRS && !bad; i += 2 * BATCH) {
        size_t n = 0;
        for (int k = i; k + 2 <= PIPE_STRS && k < i + 2 * BATCH; k += 2) {
            hollow_ordinal a = pipe_wait(j, k), b = pipe_wait(j, k + 1);
            hollow_record_reset(l[n]);
            hollow_record_add_element(l[n], b);
            hollow_record_add_element(l[n], a);
            n++;
            if (a < 0 || b < 0)
                bad = 1;
        }
        if (!bad && hollow_write_state_add_batch(out, j->ws, l, n) < 0)
            bad = 1;
    }
    for (int k = 0; k < BATCH; k++)
        hollow_record_free(l[k]);
    return (void *)bad;
}

START_TEST(write_refs_threads_types_apart)
{
    hollow_schema_list *sl = NULL;
    HT_OK(hollow_schema_parse(&sl, schema_text, strlen(schema_text)));
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, sl, NULL));
    pipe_job *j = calloc(1, sizeof *j);
    ck_assert_ptr_nonnull(j);
    j->ws = ws;
    pthread_t ts, tm, tl;
    ck_assert_int_eq(pthread_create(&ts, NULL, pipe_strs, j), 0);
    ck_assert_int_eq(pthread_create(&tm, NULL, pipe_movies, j), 0);
    ck_assert_int_eq(pthread_create(&tl, NULL, pipe_lists, j), 0);
    void *rm, *rl;
    pthread_join(ts, NULL);
    pthread_join(tm, &rm);
    pthread_join(tl, &rl);
    ck_assert_int_eq(j->failures, 0);
    ck_assert_ptr_null(rm);
    ck_assert_ptr_null(rl);
    /* every movie references the Str its id names */
    ht_mem snap = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &snap));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, snap.p, snap.len, NULL));
    const hollow_type *mt = hollow_read_state_type(rs, "Movie");
    const hollow_type *st = hollow_read_state_type(rs, "Str");
    ck_assert_uint_eq(hollow_type_record_count(mt), PIPE_STRS);
    ck_assert_uint_eq(hollow_type_record_count(st), PIPE_STRS);
    ck_assert_uint_eq(hollow_type_record_count(hollow_read_state_type(rs, "ListOfStr")),
                      PIPE_STRS / 2);
    for (hollow_ordinal o = hollow_type_next_ordinal(mt, 0); o >= 0;
         o = hollow_type_next_ordinal(mt, o + 1)) {
        hollow_value id, title, text;
        HT_OK(hollow_object_value(&id, mt, o, 0));
        HT_OK(hollow_object_value(&title, mt, o, 1));
        HT_OK(hollow_object_value(&text, st, title.u.ref, 0));
        char want[32];
        int len = snprintf(want, sizeof want, "s%d", id.u.i);
        ck_assert_int_eq((int)text.u.bytes.len, len);
        ck_assert_int_eq(memcmp(text.u.bytes.ptr, want, (size_t)len), 0);
    }
    hollow_read_state_release(rs);
    free(snap.p);
    free(j);
    hollow_write_state_free(ws);
    hollow_schema_list_free(sl);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("write_refs_threads");
    TCase *tc = tcase_create("write_refs_threads");
    tcase_add_test(tc, write_refs_threads_concurrent_adds);
    tcase_add_test(tc, write_refs_threads_types_apart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(suite());
}
