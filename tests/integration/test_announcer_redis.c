/*
 * The Redis announcer (src/announcer/redis.c) against a real redis-server
 * started by each test (tests/helpers/redis_server.c): announcements
 * delivered in order, here and through a second announcer's watcher; an
 * older version never moves `latest` back (also for 17-digit versions,
 * which a Lua double cannot tell apart); a pin made by an announcer in
 * another process is seen by subscribers here and unpinning resumes the
 * latest; wait_for_version; a closed descriptor subscriber is removed;
 * stats; a wrong password is refused without the password ever printed;
 * rediss:// and bad URLs are refused; Redis killed and restarted empty:
 * the subscribers reconnect and reach every later version and the one
 * announced while they were away, and the lease is taken again; a cut
 * subscription catches up on what it missed, and a pin Redis forgot holds
 * until the next announcement; two
 * producer processes: exactly one publishes, and the lease passes over
 * when its holder is killed (kill -9), never to both at once.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "announce_rec.h"
#include "hollow/hollow.h"
#include "movie_fixture.h"
#include "redis_server.h"
#include "testhelp.h"

#define TIMEOUT_MS 10000

static char g_dir[512];
static ht_redis g_redis;

static void setup(void)
{
    ht_tmpdir(g_dir, sizeof g_dir, "hollow-redis");
    ht_redis_start(&g_redis, g_dir, NULL);
}

static void teardown(void)
{
    ht_redis_stop(&g_redis);
    ht_remove_dir(g_dir);
}

static hollow_announcer *open_redis(const ht_redis *r, const char *prefix)
{
    hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = r->url;
    o.key_prefix = prefix;
    if (r->password[0] != '\0')
        o.password = r->password;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_redis_new(&a, &o));
    ck_assert_ptr_nonnull(a);
    return a;
}

static void redis_get(char *out, size_t cap, const char *key)
{
    const char *argv[2] = { "GET", key };
    ck_assert(ht_redis_cmd(&g_redis, out, cap, 2, argv));
}

/* ------------------------------------------------------------ ordering */

START_TEST(redis_announce_delivers_in_order)
{
    hollow_announcer *a = open_redis(&g_redis, NULL);
    hollow_announcer *b = open_redis(&g_redis, NULL); /* another client */
    ht_rec ra, rb;
    ht_rec_init(&ra);
    ht_rec_init(&rb);
    hollow_subscription_id ida, idb, idf;
    HT_OK(hollow_announcer_subscribe(&ida, a, ht_rec_cb, &ra));
    HT_OK(hollow_announcer_subscribe(&idb, b, ht_rec_cb, &rb));
    int fd = -1;
    HT_OK(hollow_announcer_subscribe_fd(&fd, &idf, b));
    int64_t v;
    ck_assert_int_eq(hollow_announcer_latest(&v, a), HOLLOW_ENOTFOUND);
    for (int64_t i = 1; i <= 200; i++)
        HT_OK(hollow_announcer_announce(a, i));
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 200);
    ck_assert(ht_rec_wait(&ra, 200, TIMEOUT_MS));
    ck_assert(ht_rec_wait(&rb, 200, TIMEOUT_MS));
    ht_rec_expect_range(&ra, 1, 200);
    ht_rec_expect_range(&rb, 1, 200); /* through b's watcher */
    int64_t got[256];
    size_t n = 0, k;
    int64_t deadline = ht_now_ms() + TIMEOUT_MS;
    while (n < 200 && ht_now_ms() < deadline) {
        HT_OK(hollow_announcer_fd_read(got + n, 256 - n, &k, fd));
        n += k;
        if (k == 0)
            ht_sleep_ms(2);
    }
    ck_assert_uint_eq(n, 200);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(got[i], (int64_t)i + 1);
    char text[64];
    redis_get(text, sizeof text, "hollow:latest");
    ck_assert_str_eq(text, "200");
    HT_OK(hollow_announcer_latest(&v, b));
    ck_assert_int_eq(v, 200);

    hollow_announcer_stats st;
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.announced, 200);
    ck_assert_uint_eq(st.delivered, 200);
    ck_assert_uint_eq(st.subscribers, 1);
    ck_assert(st.has_latest);
    ck_assert_int_eq(st.latest, 200);
    ck_assert(!st.pinned);
    HT_OK(hollow_announcer_drain(b, TIMEOUT_MS));
    HT_OK(hollow_announcer_stats_get(&st, b));
    ck_assert_uint_eq(st.subscribers, 2);
    ck_assert_uint_eq(st.delivered, 400);
    ck_assert_uint_eq(st.removed, 0);

    /* a new announcer finds the latest without it being delivered */
    hollow_announcer *c = open_redis(&g_redis, NULL);
    HT_OK(hollow_announcer_stats_get(&st, c));
    ck_assert(st.has_latest);
    ck_assert_int_eq(st.latest, 200);
    ck_assert_uint_eq(st.announced, 0);
    hollow_announcer_free(c);

    close(fd);
    hollow_announcer_free(a);
    hollow_announcer_free(b);
    ht_rec_destroy(&ra);
    ht_rec_destroy(&rb);
}
END_TEST

START_TEST(redis_older_announce_never_moves_latest_back)
{
    hollow_announcer *a = open_redis(&g_redis, NULL);
    hollow_announcer *b = open_redis(&g_redis, NULL);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, b, ht_rec_cb, &r));
    /* 17 digits, as Java mints them: one apart, beyond a double's reach */
    const int64_t base = 20261207005200123LL;
    HT_OK(hollow_announcer_announce(a, base));
    /* delivered through b's watcher; b's own newer announcement below is
     * fed at once, and an older version is never handed on after it */
    ck_assert(ht_rec_wait_last(&r, base, TIMEOUT_MS));
    HT_OK(hollow_announcer_announce(b, base - 1)); /* older: does nothing */
    HT_OK(hollow_announcer_announce(a, base));     /* equal: does nothing */
    HT_OK(hollow_announcer_announce(b, 5));
    int64_t v;
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, base);
    char text[64];
    redis_get(text, sizeof text, "hollow:latest");
    ck_assert_str_eq(text, "20261207005200123");
    HT_OK(hollow_announcer_announce(b, base + 1));
    ck_assert(ht_rec_wait_last(&r, base + 1, TIMEOUT_MS));
    HT_OK(hollow_announcer_drain(b, TIMEOUT_MS));
    ck_assert_int_eq(ht_rec_count(&r), 2);
    ht_rec_expect_range(&r, base, base + 1);
    redis_get(text, sizeof text, "hollow:latest");
    ck_assert_str_eq(text, "20261207005200124");

    /* announce_if: the expected base and a newer version */
    ck_assert_int_eq(hollow_announcer_announce_if(a, base, NULL, base + 2),
                     HOLLOW_ESTATE);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message,
                                 "20261207005200124 is announced"));
    ck_assert_int_eq(hollow_announcer_announce_if(a, base + 1, NULL, base),
                     HOLLOW_ESTATE);
    HT_OK(hollow_announcer_announce_if(a, base + 1, NULL, base + 2));
    ck_assert(ht_rec_wait_last(&r, base + 2, TIMEOUT_MS));

    /* something else than a version under the key: a clear error; the
     * next announcement replaces it */
    const char *junk[3] = { "SET", "hollow:latest", "not-a-version" };
    ck_assert(ht_redis_cmd(&g_redis, text, sizeof text, 3, junk));
    ck_assert_int_eq(hollow_announcer_latest(&v, a), HOLLOW_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message,
                                 "does not hold a version"));
    HT_OK(hollow_announcer_announce(a, base + 3));
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, base + 3);

    /* key prefixes keep datasets apart */
    hollow_announcer *other = open_redis(&g_redis, "other:");
    ck_assert_int_eq(hollow_announcer_latest(&v, other), HOLLOW_ENOTFOUND);
    HT_OK(hollow_announcer_announce(other, 7));
    HT_OK(hollow_announcer_latest(&v, other));
    ck_assert_int_eq(v, 7);
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, base + 3);
    hollow_announcer_free(other);
    hollow_announcer_free(a);
    hollow_announcer_free(b);
    ht_rec_destroy(&r);
}
END_TEST

/* ------------------------------------------------------------ pins */

/* a child that waits for a byte on `go`, then pins V (V > 0) or unpins
 * (V == 0) through its own announcer, and exits 0 on success */
static pid_t pin_child(int *go_fd, int64_t version)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[1]);
        char c;
        if (read(p[0], &c, 1) != 1)
            _exit(3);
        hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
        o.url = g_redis.url;
        hollow_announcer *a = NULL;
        if (hollow_announcer_redis_new(&a, &o) < 0)
            _exit(4);
        int rc = version > 0 ? hollow_announcer_pin(a, version)
                             : hollow_announcer_unpin(a);
        hollow_announcer_free(a);
        _exit(rc == 0 ? 0 : 5);
    }
    close(p[0]);
    *go_fd = p[1];
    return pid;
}

static void run_child(pid_t pid, int go_fd)
{
    ck_assert_int_eq(write(go_fd, "x", 1), 1);
    close(go_fd);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "pin child failed (status %d)", st);
}

START_TEST(redis_pin_from_another_process)
{
    /* the children are forked before this process has any thread */
    int go_pin, go_unpin;
    pid_t pinner = pin_child(&go_pin, 11);
    pid_t unpinner = pin_child(&go_unpin, 0);

    hollow_announcer *a = open_redis(&g_redis, NULL);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    HT_OK(hollow_announcer_announce(a, 11));
    HT_OK(hollow_announcer_announce(a, 12));
    ck_assert(ht_rec_wait_last(&r, 12, TIMEOUT_MS));

    run_child(pinner, go_pin);
    ck_assert(ht_rec_wait_last(&r, 11, TIMEOUT_MS)); /* told the pin */
    int64_t v;
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 11);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert(st.pinned);
    ck_assert_int_eq(st.pinned_version, 11);
    char text[64];
    redis_get(text, sizeof text, "hollow:pin");
    ck_assert_str_eq(text, "11");

    /* announcements while pinned raise latest in Redis, not the pin */
    HT_OK(hollow_announcer_announce(a, 13));
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 11);
    ht_sleep_ms(100);
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ck_assert_int_eq(ht_rec_count(&r), 3); /* 11, 12, pin 11 */

    run_child(unpinner, go_unpin);
    ck_assert(ht_rec_wait_last(&r, 13, TIMEOUT_MS)); /* resumes the latest */
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 13);
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert(!st.pinned);
    ck_assert_int_eq(hollow_announcer_unpin(a), HOLLOW_ESTATE);
    ck_assert_int_eq(hollow_announcer_pin(a, 0), HOLLOW_EINVAL);

    /* a pin made here is seen here too, through the watcher */
    HT_OK(hollow_announcer_pin(a, 12));
    ck_assert(ht_rec_wait_last(&r, 12, TIMEOUT_MS));
    HT_OK(hollow_announcer_unpin(a));
    ck_assert(ht_rec_wait_last(&r, 13, TIMEOUT_MS));
    hollow_announcer_free(a);
    ht_rec_destroy(&r);
}
END_TEST

/* ------------------------------------------------------------ waiting */

START_TEST(redis_wait_for_version_and_timeout)
{
    hollow_announcer *a = open_redis(&g_redis, NULL);
    hollow_announcer *b = open_redis(&g_redis, NULL);
    int64_t t0 = ht_now_ms();
    ck_assert_int_eq(hollow_announcer_wait_for_version(a, 5, 150),
                     HOLLOW_ENOTFOUND);
    int64_t took = ht_now_ms() - t0;
    ck_assert_int_ge(took, 140);
    ck_assert_int_lt(took, 5000);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "timed out"));
    HT_OK(hollow_announcer_announce(b, 5)); /* another client announces */
    HT_OK(hollow_announcer_wait_for_version(a, 5, TIMEOUT_MS));
    HT_OK(hollow_announcer_wait_for_version(a, 3, 0));
    ck_assert_int_eq(hollow_announcer_wait_for_version(a, 6, 0),
                     HOLLOW_ENOTFOUND);
    hollow_announcer_free(a);
    hollow_announcer_free(b);
}
END_TEST

START_TEST(redis_closed_descriptor_subscriber_removed)
{
    hollow_announcer *a = open_redis(&g_redis, NULL);
    int fd;
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe_fd(&fd, &id, a));
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 1);
    close(fd);
    HT_OK(hollow_announcer_announce(a, 1));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 0);
    ck_assert_uint_eq(st.removed, 1);
    ck_assert_int_eq(hollow_announcer_unsubscribe(a, id), HOLLOW_ENOTFOUND);
    hollow_announcer_free(a);
}
END_TEST

/* ------------------------------------------------------------ options */

#define SECRET "correct-horse-7f3a"
#define WRONG "wrong-battery-91c2"

static char g_logged[8192];
static size_t g_logged_len;
static void capture_log(hollow_log_level level, const char *msg, void *payload)
{
    (void)level;
    (void)payload;
    int n = snprintf(g_logged + g_logged_len, sizeof g_logged - g_logged_len,
                     "%s\n", msg);
    if (n > 0 && (size_t)n < sizeof g_logged - g_logged_len)
        g_logged_len += (size_t)n;
}

START_TEST(redis_wrong_password_refused_without_printing_it)
{
    ht_redis_stop(&g_redis);
    ht_redis_start(&g_redis, g_dir, SECRET);
    hollow_set_log(HOLLOW_LOG_DEBUG, capture_log, NULL);
    /* stderr to a file, to see that nothing prints the password */
    char errpath[600];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", g_dir);
    fflush(stderr);
    int saved = dup(2);
    int efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(efd, 0);
    dup2(efd, 2);
    close(efd);

    hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.port = g_redis.port;
    o.password = WRONG;
    hollow_announcer *a = NULL;
    int rc1 = hollow_announcer_redis_new(&a, &o);
    char msg1[512];
    snprintf(msg1, sizeof msg1, "%s", hollow_error_last()->message);
    char url[256];
    snprintf(url, sizeof url, "redis://:%s@127.0.0.1:%d/0", WRONG,
             g_redis.port);
    o = (hollow_announcer_redis_options)HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = url;
    int rc2 = hollow_announcer_redis_new(&a, &o);
    char msg2[512];
    snprintf(msg2, sizeof msg2, "%s", hollow_error_last()->message);
    o = (hollow_announcer_redis_options)HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = g_redis.url; /* no password at all */
    int rc3 = hollow_announcer_redis_new(&a, &o);
    char msg3[512];
    snprintf(msg3, sizeof msg3, "%s", hollow_error_last()->message);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL);

    ck_assert_int_eq(rc1, HOLLOW_EBACKEND);
    ck_assert_int_eq(rc2, HOLLOW_EBACKEND);
    ck_assert_int_eq(rc3, HOLLOW_EBACKEND);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(msg1, "password was refused") != NULL, "%s", msg1);
    ck_assert_msg(strstr(msg2, "password was refused") != NULL, "%s", msg2);
    ck_assert_msg(strstr(msg3, "needs a password") != NULL, "%s", msg3);
    ck_assert(strstr(msg1, WRONG) == NULL && strstr(msg2, WRONG) == NULL);
    ck_assert(strstr(g_logged, WRONG) == NULL);
    size_t len;
    char *err = (char *)ht_read_file(errpath, &len);
    ck_assert(memmem(err, len, WRONG, strlen(WRONG)) == NULL);
    free(err);

    /* the right one, in the URL (percent-encoding allowed) */
    snprintf(url, sizeof url, "redis://:correct-horse-%%37f3a@127.0.0.1:%d",
             g_redis.port);
    o.url = url;
    HT_OK(hollow_announcer_redis_new(&a, &o));
    HT_OK(hollow_announcer_announce(a, 3));
    int64_t v;
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 3);
    hollow_announcer_free(a);
}
END_TEST

START_TEST(redis_bad_urls_refused)
{
    static const char *const bad[] = {
        "rediss://127.0.0.1:6379", "http://127.0.0.1:6379", "redis://",
        "redis://127.0.0.1:0",     "redis://127.0.0.1:99999",
        "redis://127.0.0.1:12x",   "redis://127.0.0.1:6379/db",
        "redis://user@127.0.0.1",  "redis://[::1:6379",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
        o.url = bad[i];
        hollow_announcer *a = (hollow_announcer *)&o; /* must come back NULL */
        ck_assert_msg(hollow_announcer_redis_new(&a, &o) == HOLLOW_EINVAL,
                      "%s accepted", bad[i]);
        ck_assert_ptr_null(a);
    }
    hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = "rediss://:pw@example.com:6380";
    hollow_announcer *a = NULL;
    ck_assert_int_eq(hollow_announcer_redis_new(&a, &o), HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "TLS"));
    ck_assert_ptr_null(strstr(hollow_error_last()->message, "pw"));
    /* nobody listening: a clear error, not a hang */
    int port = g_redis.port;
    ht_redis_stop(&g_redis);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    o.url = url;
    ck_assert_int_eq(hollow_announcer_redis_new(&a, &o), HOLLOW_EBACKEND);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "cannot connect"));
    ck_assert_int_eq(hollow_announcer_redis_new(&a, NULL), HOLLOW_EINVAL);
}
END_TEST

/* ------------------------------------------------------------ restarts */

START_TEST(redis_killed_and_restarted_empty)
{
    hollow_announcer *prod = open_redis(&g_redis, NULL);
    hollow_announcer *subs[2];
    ht_rec rec[2];
    for (int i = 0; i < 2; i++) {
        subs[i] = open_redis(&g_redis, NULL);
        ht_rec_init(&rec[i]);
        hollow_subscription_id id;
        HT_OK(hollow_announcer_subscribe(&id, subs[i], ht_rec_cb, &rec[i]));
    }
    HT_OK(hollow_announcer_lease(prod, HOLLOW_LEASE_ACQUIRE, "p1", 60000,
                                 NULL, 0));
    for (int64_t v = 1; v <= 5; v++)
        HT_OK(hollow_announcer_announce(prod, v));
    for (int i = 0; i < 2; i++)
        ck_assert(ht_rec_wait_last(&rec[i], 5, TIMEOUT_MS));

    ht_redis_kill(&g_redis);
    ck_assert_int_eq(hollow_announcer_announce(prod, 6), HOLLOW_EBACKEND);
    int64_t v;
    ck_assert_int_eq(hollow_announcer_latest(&v, prod), HOLLOW_EBACKEND);
    ht_sleep_ms(300); /* the watchers notice and back off */
    ht_redis_restart(&g_redis); /* same port, empty */
    char text[64];
    redis_get(text, sizeof text, "hollow:latest");
    ck_assert_str_eq(text, "");

    /* announced before the watchers are back: only the last must arrive */
    HT_OK(hollow_announcer_announce(prod, 7));
    HT_OK(hollow_announcer_announce(prod, 8));
    for (int i = 0; i < 2; i++)
        ck_assert(ht_rec_wait_last(&rec[i], 8, TIMEOUT_MS));
    /* the lease went with the data; its owner takes it again (SET NX) */
    ck_assert_int_eq(hollow_announcer_lease(prod, HOLLOW_LEASE_CHECK, "p1", 0,
                                            NULL, 0),
                     HOLLOW_ESTATE);
    HT_OK(hollow_announcer_lease(prod, HOLLOW_LEASE_ACQUIRE, "p1", 60000, NULL,
                                 0));
    redis_get(text, sizeof text, "hollow:lease");
    ck_assert_str_eq(text, "p1");
    /* every version afterwards, in order */
    for (int64_t w = 9; w <= 30; w++)
        HT_OK(hollow_announcer_announce(prod, w));
    for (int i = 0; i < 2; i++) {
        ck_assert(ht_rec_wait_last(&rec[i], 30, TIMEOUT_MS));
        ht_rec_expect_increasing(&rec[i], 1, 30);
        pthread_mutex_lock(&rec[i].mu);
        int n = rec[i].n;
        ck_assert_int_ge(n, 5 + 1 + 22);
        for (int k = 0; k < 22; k++)
            ck_assert_int_eq(rec[i].v[n - 22 + k], 9 + k);
        bool saw8 = false;
        for (int k = 0; k < n; k++)
            saw8 |= rec[i].v[k] == 8;
        pthread_mutex_unlock(&rec[i].mu);
        ck_assert(saw8);
        HT_OK(hollow_announcer_latest(&v, subs[i]));
        ck_assert_int_eq(v, 30);
    }
    for (int i = 0; i < 2; i++) {
        hollow_announcer_free(subs[i]);
        ht_rec_destroy(&rec[i]);
    }
    hollow_announcer_free(prod);
}
END_TEST

static void redis_do(int argc, const char **argv)
{
    char out[64];
    ck_assert(ht_redis_cmd(&g_redis, out, sizeof out, argc, argv));
}

/* cut every subscriber connection (the watchers reconnect) */
static void kill_subscribers(void)
{
    const char *argv[4] = { "CLIENT", "KILL", "TYPE", "pubsub" };
    redis_do(4, argv);
}

/* wait until `n` connections are subscribed to both channels */
static void wait_subscribed(int n)
{
    int64_t deadline = ht_now_ms() + TIMEOUT_MS;
    for (;;) {
        static char list[65536];
        const char *argv[2] = { "CLIENT", "LIST" };
        ck_assert(ht_redis_cmd(&g_redis, list, sizeof list, 2, argv));
        int count = 0;
        for (const char *p = list; (p = strstr(p, " sub=2 ")) != NULL; p++)
            count++;
        if (count >= n)
            return;
        ck_assert_msg(ht_now_ms() < deadline, "%d of %d subscribed", count, n);
        ht_sleep_ms(10);
    }
}

static void last_two(ht_rec *r, int64_t a, int64_t b)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    int64_t x = n >= 2 ? r->v[n - 2] : -1, y = n >= 1 ? r->v[n - 1] : -1;
    pthread_mutex_unlock(&r->mu);
    ck_assert_msg(x == a && y == b, "last two %lld %lld, not %lld %lld",
                  (long long)x, (long long)y, (long long)a, (long long)b);
}

/*
 * A watcher whose connection is cut catches up on what it missed: a
 * version written meanwhile, a pin lifted meanwhile (both written to Redis
 * without a message, so only the re-read can find them). After Redis
 * restarts empty, a pinned consumer stays pinned until the producer
 * announces again, then goes to that version, never back to the old one.
 */
START_TEST(redis_watcher_catches_up_after_lost_subscription)
{
    hollow_announcer *a = open_redis(&g_redis, NULL);
    hollow_announcer *p = open_redis(&g_redis, NULL);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    for (int64_t v = 1; v <= 3; v++)
        HT_OK(hollow_announcer_announce(p, v));
    ck_assert(ht_rec_wait_last(&r, 3, TIMEOUT_MS));

    const char *set[3] = { "SET", "hollow:latest", "10" };
    redis_do(3, set);
    kill_subscribers();
    ck_assert(ht_rec_wait_last(&r, 10, TIMEOUT_MS));
    last_two(&r, 3, 10);

    HT_OK(hollow_announcer_pin(p, 5));
    ck_assert(ht_rec_wait_last(&r, 5, TIMEOUT_MS));
    const char *del[2] = { "DEL", "hollow:pin" };
    redis_do(2, del);
    kill_subscribers();
    ck_assert(ht_rec_wait_last(&r, 10, TIMEOUT_MS)); /* resumed the latest */
    last_two(&r, 5, 10);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert(!st.pinned);

    HT_OK(hollow_announcer_pin(p, 7));
    ck_assert(ht_rec_wait_last(&r, 7, TIMEOUT_MS));
    ht_redis_restart(&g_redis);
    wait_subscribed(2);
    HT_OK(hollow_announcer_wait_for_version(a, 7, 0)); /* a re-read too */
    ht_sleep_ms(200);
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert(st.pinned); /* not back to 10, which the pin moved away from */
    ck_assert_int_eq(st.pinned_version, 7);
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    last_two(&r, 10, 7);
    HT_OK(hollow_announcer_announce(p, 11));
    ck_assert(ht_rec_wait_last(&r, 11, TIMEOUT_MS));
    last_two(&r, 7, 11);
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert(!st.pinned);
    hollow_announcer_free(a);
    hollow_announcer_free(p);
    ht_rec_destroy(&r);
}
END_TEST

static int g_lost_logged;
static void count_lost(hollow_log_level level, const char *msg, void *payload)
{
    (void)level;
    (void)payload;
    if (strstr(msg, "lost the subscription") != NULL)
        __atomic_add_fetch(&g_lost_logged, 1, __ATOMIC_SEQ_CST);
}

/*
 * A server that stops answering (SIGSTOP) without closing the connection:
 * the watcher's PING goes unanswered within the command timeout, so it
 * drops the connection and, once the server runs again, resubscribes and
 * delivers what was announced meanwhile.
 */
START_TEST(redis_silent_server_detected_by_ping)
{
    hollow_set_log(HOLLOW_LOG_WARN, count_lost, NULL);
    hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = g_redis.url;
    o.command_timeout_ms = 300;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_redis_new(&a, &o));
    hollow_announcer *p = open_redis(&g_redis, NULL);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    HT_OK(hollow_announcer_announce(p, 1));
    ck_assert(ht_rec_wait_last(&r, 1, TIMEOUT_MS));
    kill(g_redis.pid, SIGSTOP);
    ht_sleep_ms(2500); /* a PING after 1 s idle, unanswered 300 ms later */
    kill(g_redis.pid, SIGCONT);
    ck_assert_int_ge(__atomic_load_n(&g_lost_logged, __ATOMIC_SEQ_CST), 1);
    HT_OK(hollow_announcer_announce(p, 2));
    ck_assert(ht_rec_wait_last(&r, 2, TIMEOUT_MS));
    ht_rec_expect_range(&r, 1, 2);
    hollow_announcer_free(a);
    hollow_announcer_free(p);
    ht_rec_destroy(&r);
    hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL);
}
END_TEST

/* free() returns promptly while Redis is down and the watcher backs off */
START_TEST(redis_free_while_disconnected_is_prompt)
{
    hollow_announcer *a = open_redis(&g_redis, NULL);
    ht_redis_kill(&g_redis);
    ht_sleep_ms(200);
    int64_t t0 = ht_now_ms();
    hollow_announcer_free(a);
    ck_assert_int_lt(ht_now_ms() - t0, 1000);
}
END_TEST

/* ------------------------------------------------------------ producers */

#define LEASE_MS 600

static int64_t plus_one(int64_t previous, void *payload)
{
    (void)payload;
    return previous + 1;
}

/* a producer process: cycles until killed, logging "id rc version" */
static void producer_main(const char *store, const char *log, int id)
{
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = store;
    so.fsync = false;
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    hollow_announcer_redis_options ro = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    ro.url = g_redis.url;
    if (hollow_blobstore_fs_new(&bs, &so) < 0 ||
        hollow_announcer_redis_new(&an, &ro) < 0)
        _exit(2);
    hollow_schema_list *schemas = NULL;
    if (hollow_schema_parse(&schemas, schema_text, strlen(schema_text)) < 0)
        _exit(5);
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = an;
    po.schemas = schemas;
    po.minter = plus_one;
    po.lease_ttl_ms = LEASE_MS;
    char label[32];
    snprintf(label, sizeof label, "redis-producer-%d", id);
    po.lease_owner = label;
    hollow_producer *p = NULL;
    if (hollow_producer_new(&p, &po) < 0)
        _exit(3);
    int logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    for (int i = 0;; i++) {
        pop pp;
        memset(&pp, 0, sizeof pp);
        pp.sp = (spec){i % 7, 20 + i % 13, i, i % 3, false};
        int64_t v = 0;
        int rc = hollow_producer_run_cycle(&v, p, populate, &pp);
        char line[96];
        int n = snprintf(line, sizeof line, "%d %d %lld %lld\n", id, rc,
                         (long long)v, (long long)ht_now_ms());
        if (logfd < 0 || write(logfd, line, (size_t)n) != n)
            _exit(4);
        ht_sleep_ms(20);
    }
}

typedef struct plog {
    int id, rc;
    long long v, t;
} plog;

static int read_log(plog *out, int cap, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int n = 0;
    while (n < cap && fscanf(f, "%d %d %lld %lld", &out[n].id, &out[n].rc,
                             &out[n].v, &out[n].t) == 4)
        n++;
    fclose(f);
    return n;
}

/* how many successful cycles (rc 0, a new version) each producer logged */
static void count_ok(int ok[2], const plog *l, int n)
{
    ok[0] = ok[1] = 0;
    for (int i = 0; i < n; i++)
        if (l[i].rc == 0 && l[i].id >= 0 && l[i].id < 2)
            ok[l[i].id]++;
}

START_TEST(redis_two_producers_one_publishes_lease_passes_on_kill)
{
    char store[600], log[600];
    snprintf(store, sizeof store, "%s/store", g_dir);
    snprintf(log, sizeof log, "%s/producers.log", g_dir);
    ck_assert_int_eq(mkdir(store, 0755), 0);
    pid_t pids[2];
    for (int id = 0; id < 2; id++) {
        pids[id] = fork();
        ck_assert_int_ge(pids[id], 0);
        if (pids[id] == 0)
            producer_main(store, log, id);
    }
    hollow_announcer *watch = open_redis(&g_redis, NULL);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id sid;
    HT_OK(hollow_announcer_subscribe(&sid, watch, ht_rec_cb, &r));

    /* both run cycles for a while: exactly one of them publishes */
    static plog l[20000];
    int ok[2];
    int64_t deadline = ht_now_ms() + TIMEOUT_MS;
    int n;
    do {
        ht_sleep_ms(100);
        n = read_log(l, 20000, log);
        count_ok(ok, l, n);
    } while (ok[0] + ok[1] < 10 && ht_now_ms() < deadline);
    ht_sleep_ms(1500); /* more than two lease periods */
    n = read_log(l, 20000, log);
    count_ok(ok, l, n);
    ck_assert_msg((ok[0] > 0) != (ok[1] > 0), "both or neither published: "
                  "%d and %d cycles", ok[0], ok[1]);
    int holder = ok[0] > 0 ? 0 : 1;
    int refused = 0; /* the other one ran cycles, refused for the lease */
    for (int i = 0; i < n; i++)
        if (l[i].id != holder) {
            ck_assert_msg(l[i].rc == HOLLOW_ESTATE, "producer %d: rc %d",
                          l[i].id, l[i].rc);
            refused++;
        }
    ck_assert_int_gt(refused, 3);
    char text[128];
    redis_get(text, sizeof text, "hollow:lease");
    char want[64];
    snprintf(want, sizeof want, "redis-producer-%d#", holder);
    ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "lease: %s", text);

    /* kill -9 the holder: the other takes over after the lease expires */
    int64_t killed_at = ht_now_ms();
    kill(pids[holder], SIGKILL);
    int st;
    waitpid(pids[holder], &st, 0);
    int other = 1 - holder;
    deadline = ht_now_ms() + TIMEOUT_MS;
    do {
        ht_sleep_ms(100);
        n = read_log(l, 20000, log);
        count_ok(ok, l, n);
    } while (ok[other] < 5 && ht_now_ms() < deadline);
    ck_assert_msg(ok[other] >= 5, "the lease did not pass over (%d cycles)",
                  ok[other]);
    kill(pids[other], SIGKILL);
    waitpid(pids[other], &st, 0);
    n = read_log(l, 20000, log);

    /* never both at once: every success of the survivor comes after the
     * holder's death, and the versions announced only went up */
    long long last_v = 0;
    for (int i = 0; i < n; i++) {
        if (l[i].rc != 0)
            continue;
        if (l[i].id == other)
            ck_assert_int_ge(l[i].t, killed_at);
        ck_assert_msg(l[i].v > last_v, "version %lld after %lld", l[i].v,
                      last_v);
        last_v = l[i].v;
    }
    /* a producer killed between announcing and logging may have gone one
     * version further than its log */
    redis_get(text, sizeof text, "hollow:latest");
    long long final_v = atoll(text);
    ck_assert_int_ge(final_v, last_v);
    ck_assert(ht_rec_wait_last(&r, final_v, TIMEOUT_MS));
    ht_rec_expect_increasing(&r, 1, final_v);
    hollow_announcer_free(watch);
    ht_rec_destroy(&r);
}
END_TEST

/* the producer's renewer takes its lease back after Redis restarts empty,
 * and its next cycle re-asserts latest */
START_TEST(redis_producer_reasserts_lease_and_latest_after_restart)
{
    char store[600];
    snprintf(store, sizeof store, "%s/store", g_dir);
    ck_assert_int_eq(mkdir(store, 0755), 0);
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = store;
    so.fsync = false;
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_fs_new(&bs, &so));
    hollow_announcer *an = open_redis(&g_redis, NULL);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = an;
    po.schemas = schemas;
    po.minter = plus_one;
    po.lease_ttl_ms = 300;
    po.lease_owner = "renewer";
    hollow_producer *p = NULL;
    HT_OK(hollow_producer_new(&p, &po));
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){0, 30, 1, 1, false};
    int64_t v1;
    HT_OK(hollow_producer_run_cycle(&v1, p, populate, &pp));
    char text[128];
    redis_get(text, sizeof text, "hollow:lease");
    ck_assert_msg(strncmp(text, "renewer#", 8) == 0, "%s", text);
    char owner[128];
    snprintf(owner, sizeof owner, "%s", text);

    /* down for longer than a renewal period: a renewal fails meanwhile */
    hollow_set_log(HOLLOW_LOG_ERROR, NULL, NULL); /* the expected warnings */
    ht_redis_kill(&g_redis);
    ht_sleep_ms(400);
    ht_redis_restart(&g_redis);
    int64_t deadline = ht_now_ms() + TIMEOUT_MS;
    do {
        ht_sleep_ms(20);
        redis_get(text, sizeof text, "hollow:lease");
    } while (strcmp(text, owner) != 0 && ht_now_ms() < deadline);
    ck_assert_str_eq(text, owner); /* the renewer took it back */
    hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL);

    pp.sp = (spec){0, 31, 2, 1, false};
    int64_t v2;
    HT_OK(hollow_producer_run_cycle(&v2, p, populate, &pp));
    ck_assert_int_gt(v2, v1);
    redis_get(text, sizeof text, "hollow:latest");
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)v2);
    ck_assert_str_eq(text, want);
    hollow_producer_free(p);
    redis_get(text, sizeof text, "hollow:lease");
    ck_assert_str_eq(text, ""); /* released on free */
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

static Suite *announcer_redis_suite(void)
{
    Suite *s = suite_create("announcer_redis");
    TCase *tc = tcase_create("announce");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, redis_announce_delivers_in_order);
    tcase_add_test(tc, redis_older_announce_never_moves_latest_back);
    tcase_add_test(tc, redis_pin_from_another_process);
    tcase_add_test(tc, redis_wait_for_version_and_timeout);
    tcase_add_test(tc, redis_closed_descriptor_subscriber_removed);
    suite_add_tcase(s, tc);

    tc = tcase_create("connection");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, redis_wrong_password_refused_without_printing_it);
    tcase_add_test(tc, redis_bad_urls_refused);
    tcase_add_test(tc, redis_killed_and_restarted_empty);
    tcase_add_test(tc, redis_watcher_catches_up_after_lost_subscription);
    tcase_add_test(tc, redis_silent_server_detected_by_ping);
    tcase_add_test(tc, redis_free_while_disconnected_is_prompt);
    suite_add_tcase(s, tc);

    tc = tcase_create("producers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, redis_two_producers_one_publishes_lease_passes_on_kill);
    tcase_add_test(tc, redis_producer_reasserts_lease_and_latest_after_restart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(announcer_redis_suite()); }
