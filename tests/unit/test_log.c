/*
 * hollow_set_log() (common.h): levels, the stderr default, the callback's
 * serialization and re-entry rules, and switching callbacks while other
 * threads log.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "hollow/common.h"
#include "hollow/error.h"
#include "testhelp.h"

typedef struct sink {
    int count[5];           /* per level */
    char last[1100];
    hollow_log_level last_level;
    int set_log_rc;         /* hollow_set_log() from inside the callback */
    bool reenter;           /* log and call hollow_set_log() from inside */
} sink;

static void to_sink(hollow_log_level level, const char *message, void *payload)
{
    sink *s = payload;
    s->count[level]++;
    s->last_level = level;
    snprintf(s->last, sizeof s->last, "%s", message);
    if (s->reenter) {
        hollow__log(HOLLOW_LOG_ERROR, "from inside the callback");
        s->set_log_rc = hollow_set_log(HOLLOW_LOG_DEBUG, NULL, NULL);
    }
}

static void reset_log(void) { ck_assert_int_eq(hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL), 0); }

START_TEST(log_levels_filter_messages)
{
    sink s;
    memset(&s, 0, sizeof s);
    HT_OK(hollow_set_log(HOLLOW_LOG_WARN, to_sink, &s));
    ck_assert(hollow__log_enabled(HOLLOW_LOG_ERROR));
    ck_assert(hollow__log_enabled(HOLLOW_LOG_WARN));
    ck_assert(!hollow__log_enabled(HOLLOW_LOG_INFO));
    hollow__log(HOLLOW_LOG_INFO, "dropped %d", 1);
    hollow__log(HOLLOW_LOG_DEBUG, "dropped %d", 2);
    hollow__log(HOLLOW_LOG_WARN, "kept %d", 3);
    hollow__log(HOLLOW_LOG_ERROR, "kept %d", 4);
    ck_assert_int_eq(s.count[HOLLOW_LOG_INFO] + s.count[HOLLOW_LOG_DEBUG], 0);
    ck_assert_int_eq(s.count[HOLLOW_LOG_WARN], 1);
    ck_assert_int_eq(s.count[HOLLOW_LOG_ERROR], 1);
    ck_assert_str_eq(s.last, "kept 4");
    ck_assert_int_eq(s.last_level, HOLLOW_LOG_ERROR);

    HT_OK(hollow_set_log(HOLLOW_LOG_DEBUG, to_sink, &s));
    hollow__log(HOLLOW_LOG_DEBUG, "debug %s", "now");
    ck_assert_int_eq(s.count[HOLLOW_LOG_DEBUG], 1);
    ck_assert_str_eq(s.last, "debug now");

    /* NONE silences everything, errors too */
    HT_OK(hollow_set_log(HOLLOW_LOG_NONE, to_sink, &s));
    ck_assert(!hollow__log_enabled(HOLLOW_LOG_ERROR));
    hollow__log(HOLLOW_LOG_ERROR, "silenced");
    ck_assert_int_eq(s.count[HOLLOW_LOG_ERROR], 1);
    reset_log();
}
END_TEST

START_TEST(log_bad_level_is_refused_and_changes_nothing)
{
    sink s;
    memset(&s, 0, sizeof s);
    HT_OK(hollow_set_log(HOLLOW_LOG_WARN, to_sink, &s));
    ck_assert_int_eq(hollow_set_log((hollow_log_level)5, NULL, NULL), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_set_log((hollow_log_level)-1, NULL, NULL), HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "log level"));
    hollow__log(HOLLOW_LOG_WARN, "still here");
    ck_assert_int_eq(s.count[HOLLOW_LOG_WARN], 1);
    ck_assert_str_eq(hollow_log_level_name(HOLLOW_LOG_WARN), "warning");
    ck_assert_str_eq(hollow_log_level_name(HOLLOW_LOG_ERROR), "error");
    ck_assert_str_eq(hollow_log_level_name((hollow_log_level)9), "unknown");
    reset_log();
}
END_TEST

START_TEST(log_from_inside_callback_is_dropped_and_set_log_refused)
{
    sink s;
    memset(&s, 0, sizeof s);
    s.reenter = true;
    HT_OK(hollow_set_log(HOLLOW_LOG_DEBUG, to_sink, &s));
    hollow_error_clear();
    hollow__log(HOLLOW_LOG_WARN, "outer");
    /* the nested error message was dropped, hollow_set_log refused */
    ck_assert_int_eq(s.count[HOLLOW_LOG_WARN], 1);
    ck_assert_int_eq(s.count[HOLLOW_LOG_ERROR], 0);
    ck_assert_str_eq(s.last, "outer");
    ck_assert_int_eq(s.set_log_rc, HOLLOW_ESTATE);
    /* and the callback is still installed */
    s.reenter = false;
    hollow__log(HOLLOW_LOG_DEBUG, "after");
    ck_assert_int_eq(s.count[HOLLOW_LOG_DEBUG], 1);
    reset_log();
}
END_TEST

START_TEST(log_long_message_is_cut_not_overflowed)
{
    sink s;
    memset(&s, 0, sizeof s);
    HT_OK(hollow_set_log(HOLLOW_LOG_WARN, to_sink, &s));
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hollow__log(HOLLOW_LOG_WARN, "%s", big);
    ck_assert_uint_eq(strlen(s.last), 1023);
    reset_log();
}
END_TEST

/* the default writer: "hollow: warning: ..." on stderr, info dropped */
START_TEST(log_default_writes_warnings_to_stderr)
{
    char path[] = "/tmp/hollow-test-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(fd, 2), 2);
    reset_log();
    hollow__log(HOLLOW_LOG_INFO, "not shown");
    hollow__log(HOLLOW_LOG_WARN, "shown %d", 42);
    hollow__log(HOLLOW_LOG_ERROR, "also shown");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t len = 0;
    uint8_t *text = ht_read_file(path, &len);
    unlink(path);
    close(fd);
    const char *want = "hollow: warning: shown 42\nhollow: error: also shown\n";
    ck_assert_uint_eq(len, strlen(want));
    ck_assert(memcmp(text, want, len) == 0);
    free(text);
}
END_TEST

/*
 * Threads log while the main thread switches between two callbacks. The
 * callbacks are serialized (they count without a lock: TSan would see a
 * race otherwise) and, once hollow_set_log() returned, the old one is
 * never called again.
 */
#define LOGGERS 4
#define PER_LOGGER 2000

typedef struct counter {
    long n;            /* unsynchronized on purpose: calls are serialized */
    atomic_bool retired;
    atomic_int late;   /* calls after it was replaced */
} counter;

static void count_call(hollow_log_level level, const char *message, void *payload)
{
    (void)level;
    (void)message;
    counter *c = payload;
    c->n++;
    if (atomic_load(&c->retired))
        atomic_fetch_add(&c->late, 1);
}

static void *logger(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_LOGGER; i++)
        hollow__log(HOLLOW_LOG_WARN, "message %d", i);
    return NULL;
}

START_TEST(log_callbacks_switch_safely_while_threads_log)
{
    counter a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    HT_OK(hollow_set_log(HOLLOW_LOG_WARN, count_call, &a));
    pthread_t t[LOGGERS];
    for (int i = 0; i < LOGGERS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, logger, NULL), 0);
    for (int round = 0; round < 200; round++) {
        counter *from = round % 2 ? &b : &a, *to = round % 2 ? &a : &b;
        atomic_store(&to->retired, false);
        HT_OK(hollow_set_log(HOLLOW_LOG_WARN, count_call, to));
        atomic_store(&from->retired, true);
    }
    for (int i = 0; i < LOGGERS; i++)
        pthread_join(t[i], NULL);
    reset_log();
    ck_assert_int_eq(a.n + b.n, LOGGERS * PER_LOGGER);
    ck_assert_int_eq(atomic_load(&a.late) + atomic_load(&b.late), 0);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("levels");
    tcase_add_test(tc, log_levels_filter_messages);
    tcase_add_test(tc, log_bad_level_is_refused_and_changes_nothing);
    tcase_add_test(tc, log_long_message_is_cut_not_overflowed);
    suite_add_tcase(s, tc);

    tc = tcase_create("callback");
    tcase_add_test(tc, log_from_inside_callback_is_dropped_and_set_log_refused);
    tcase_add_test(tc, log_default_writes_warnings_to_stderr);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, log_callbacks_switch_safely_while_threads_log);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(log_suite()); }
