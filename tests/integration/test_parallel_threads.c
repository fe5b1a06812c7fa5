/*
 * hollow__parallel_for (src/common/parallel.c): every task runs exactly
 * once whatever the thread count, and a failure reports the failing task
 * with the lowest index, with its message, on the caller's thread. Run
 * under ThreadSanitizer by `make test`.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/parallel.h"
#include "testhelp.h"

#define TASKS 1000

typedef struct {
    atomic_int runs[TASKS];
    size_t fail_from; /* tasks at or past this index fail */
} counts;

static int count_task(void *ctx, size_t i)
{
    counts *c = ctx;
    atomic_fetch_add(&c->runs[i], 1);
    if (i >= c->fail_from)
        return hollow__error_set(HOLLOW_ECORRUPT, "task %zu failed", i);
    return 0;
}

START_TEST(parallel_runs_every_task_once)
{
    static const unsigned threads[] = {0, 1, 2, 3, 8, 64, 1000};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        static counts c;
        memset(&c, 0, sizeof c);
        c.fail_from = TASKS;
        ck_assert_int_eq(hollow__parallel_for(threads[t], TASKS, count_task, &c), 0);
        for (size_t i = 0; i < TASKS; i++)
            ck_assert_int_eq(atomic_load(&c.runs[i]), 1);
    }
    ck_assert_int_eq(hollow__parallel_for(4, 0, count_task, NULL), 0);
    ck_assert_uint_ge(hollow__cores(), 1);
    ck_assert_uint_eq(hollow__threads_or_cores(0), hollow__cores());
    ck_assert_uint_eq(hollow__threads_or_cores(5), 5);
}
END_TEST

START_TEST(parallel_reports_lowest_failure)
{
    static const unsigned threads[] = {1, 2, 4, 16};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        static counts c;
        memset(&c, 0, sizeof c);
        c.fail_from = 500;
        hollow_error_clear();
        int rc = hollow__parallel_for(threads[t], TASKS, count_task, &c);
        ck_assert_int_eq(rc, HOLLOW_ECORRUPT);
        /* task 500 is claimed before any higher one, so it always runs
         * and is the lowest failure */
        ck_assert_str_eq(hollow_error_last()->message, "task 500 failed");
        ck_assert_int_eq(hollow_error_last()->code, HOLLOW_ECORRUPT);
        for (size_t i = 0; i < 500; i++)
            ck_assert_int_eq(atomic_load(&c.runs[i]), 1);
        int after = 0;
        for (size_t i = 500; i < TASKS; i++)
            after += atomic_load(&c.runs[i]);
        /* each thread stops at its first failure or on seeing the flag */
        ck_assert_int_le(after, (int)threads[t] * 2);
    }
}
END_TEST

static Suite *parallel_suite(void)
{
    Suite *s = suite_create("parallel");
    TCase *tc = tcase_create("parallel_for");
    tcase_add_test(tc, parallel_runs_every_task_once);
    tcase_add_test(tc, parallel_reports_lowest_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(parallel_suite());
}
