/*
 * The filesystem announcer (src/announcer/fs.c): Java's announced.version
 * (ASCII digits, no newline) replaced atomically through
 * announced.version.tmp (a reader never sees a partial file, the inode
 * changes at each announcement, no .tmp is left); latest() reads what any
 * writer put there; the watcher delivers versions written by another
 * announcer or by hand (Java's way: write .tmp, rename) in order, through
 * inotify (with a poll interval far beyond the test's patience, so only
 * inotify can deliver in time) and through forced polling; pins; a full
 * queue refuses an announcement without touching the file. Run under
 * ThreadSanitizer by `make test`.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "announce_rec.h"
#include "common/clock.h"
#include "hollow/announcer.h"
#include "testhelp.h"

#define TIMEOUT_MS 10000

/* ---------------------------------------------------------- helpers */

static hollow_announcer *open_fs(const char *dir, bool polling,
                                 unsigned poll_ms, size_t capacity)
{
    hollow_announcer_fs_options o = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    o.dir = dir;
    o.force_polling = polling;
    o.poll_interval_ms = poll_ms;
    o.queue_capacity = capacity;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_fs_new(&a, &o));
    ck_assert_ptr_nonnull(a);
    return a;
}

static char *read_text(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return (char *)ht_read_file(path, len);
}

/* Java's way of announcing: write the .tmp file, rename it over */
static void java_announce(const char *dir, const char *text)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/announced.version.tmp", dir);
    snprintf(path, sizeof path, "%s/announced.version", dir);
    ht_write_file(tmp, text, strlen(text));
    ck_assert_int_eq(rename(tmp, path), 0);
}

static bool exists(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* ---------------------------------------------------------- the file */

START_TEST(announcer_fs_file_format_and_latest)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-annfs");
    hollow_announcer *a = open_fs(dir, false, 1000, 64);
    int64_t v = 0;
    ck_assert_int_eq(hollow_announcer_latest(&v, a), HOLLOW_ENOTFOUND);

    HT_OK(hollow_announcer_announce(a, 20240101000000005));
    size_t len;
    char *text = read_text(dir, "announced.version", &len);
    ck_assert_int_eq(len, 17); /* digits only, no newline */
    ck_assert(memcmp(text, "20240101000000005", 17) == 0);
    free(text);
    ck_assert(!exists(dir, "announced.version.tmp"));
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 20240101000000005);

    /* each announcement replaces the file (a new inode), never edits it */
    char path[4096];
    snprintf(path, sizeof path, "%s/announced.version", dir);
    struct stat st1, st2;
    ck_assert_int_eq(stat(path, &st1), 0);
    HT_OK(hollow_announcer_announce(a, 20240101000000006));
    ck_assert_int_eq(stat(path, &st2), 0);
    ck_assert(st1.st_ino != st2.st_ino);

    /* latest() reads what any writer left, the way Java parses it */
    java_announce(dir, "123\n");
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 123);
    java_announce(dir, "12a");
    ck_assert_int_eq(hollow_announcer_latest(&v, a), HOLLOW_ECORRUPT);
    java_announce(dir, "");
    ck_assert_int_eq(hollow_announcer_latest(&v, a), HOLLOW_ECORRUPT);
    java_announce(dir, "99999999999999999999");
    ck_assert_int_eq(hollow_announcer_latest(&v, a), HOLLOW_ECORRUPT);
    unlink(path);
    ck_assert_int_eq(hollow_announcer_latest(&v, a), HOLLOW_ENOTFOUND);
    hollow_announcer_free(a);

    hollow_announcer_fs_options o = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    ck_assert_int_eq(hollow_announcer_fs_new(&a, &o), HOLLOW_EINVAL);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none", dir);
    o.dir = missing;
    ck_assert_int_eq(hollow_announcer_fs_new(&a, &o), HOLLOW_ENOTFOUND);
    ck_assert_ptr_null(a);
    ht_remove_dir(dir);
}
END_TEST

/* a reader that checks every read of the file is a whole version */
typedef struct file_reader {
    const char *dir;
    atomic_int stop;
    atomic_long reads;
    atomic_int torn;
    char bad[64];
} file_reader;

static void *read_loop(void *p)
{
    file_reader *fr = p;
    char path[4096];
    snprintf(path, sizeof path, "%s/announced.version", fr->dir);
    while (!atomic_load(&fr->stop)) {
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue; /* not there before the first announcement */
        char buf[64];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        bool ok = n == 17;
        for (size_t i = 0; i < n; i++)
            ok = ok && buf[i] >= '0' && buf[i] <= '9';
        if (!ok && !atomic_exchange(&fr->torn, 1))
            memcpy(fr->bad, buf, n + 1);
        atomic_fetch_add(&fr->reads, 1);
    }
    return NULL;
}

START_TEST(announcer_fs_replaces_file_atomically)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-annfs");
    hollow_announcer_fs_options o = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    o.dir = dir;
    o.fsync = false; /* atomicity is the rename's; keep the loop fast */
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_fs_new(&a, &o));
    HT_OK(hollow_announcer_announce(a, 20240101000000000));
    file_reader fr;
    memset(&fr, 0, sizeof fr);
    fr.dir = dir;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, read_loop, &fr), 0);
    for (int64_t v = 20240101000000001; v <= 20240101000000200; v++) {
        int rc = hollow_announcer_announce(a, v);
        if (rc == HOLLOW_EBACKEND) {
            HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
            v--;
            continue;
        }
        HT_OK(rc);
    }
    atomic_store(&fr.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ck_assert_msg(!atomic_load(&fr.torn), "a reader saw \"%s\"", fr.bad);
    ck_assert_int_gt(atomic_load(&fr.reads), 0);
    ck_assert(!exists(dir, "announced.version.tmp"));
    int64_t v;
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 20240101000000200);
    hollow_announcer_free(a);
    ht_remove_dir(dir);
}
END_TEST

/* ---------------------------------------------------------- watching */

/*
 * Writer A and watcher B on one directory. Paced: each version must reach
 * B's subscriber before the next is written, so B sees every one. Then a
 * burst: B may skip versions replaced faster than it looks, but what it
 * delivers increases and ends with the last one. Then Java's way.
 */
static void watch_and_deliver(bool polling, unsigned poll_ms)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-annfs");
    java_announce(dir, "100"); /* there before anyone watches */
    hollow_announcer *a = open_fs(dir, false, 1000, 64);
    hollow_announcer *b = open_fs(dir, polling, poll_ms, 1024);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, b, ht_rec_cb, &r));
    int fd;
    hollow_subscription_id fid;
    HT_OK(hollow_announcer_subscribe_fd(&fd, &fid, b));
    int64_t v;
    HT_OK(hollow_announcer_latest(&v, b));
    ck_assert_int_eq(v, 100);

    for (int64_t i = 101; i <= 120; i++) {
        HT_OK(hollow_announcer_announce(a, i));
        ck_assert_msg(ht_rec_wait_last(&r, i, TIMEOUT_MS),
                      "version %lld never reached the watcher", (long long)i);
    }
    pthread_mutex_lock(&r.mu);
    ck_assert_int_eq(r.n, 20); /* all of them, and not the old 100 */
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(r.v[i], 101 + i);
    pthread_mutex_unlock(&r.mu);
    struct pollfd p = {fd, POLLIN, 0};
    ck_assert_int_eq(poll(&p, 1, TIMEOUT_MS), 1); /* readable */
    int64_t got[64];
    size_t k;
    HT_OK(hollow_announcer_fd_read(got, 64, &k, fd));
    HT_OK(hollow_announcer_drain(b, TIMEOUT_MS));
    size_t k2;
    HT_OK(hollow_announcer_fd_read(got + k, 64 - k, &k2, fd));
    ck_assert_int_eq(k + k2, 20);
    ck_assert_int_eq(got[0], 101);
    ck_assert_int_eq(got[19], 120);

    for (int64_t i = 121; i <= 400; i++) {
        int rc = hollow_announcer_announce(a, i);
        if (rc == HOLLOW_EBACKEND) { /* A's own queue: nobody drains it */
            HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
            i--;
            continue;
        }
        HT_OK(rc);
    }
    ck_assert_msg(ht_rec_wait_last(&r, 400, TIMEOUT_MS), "the burst's end never came");
    ht_rec_expect_increasing(&r, 101, 400);

    java_announce(dir, "20240101000000001");
    ck_assert(ht_rec_wait_last(&r, 20240101000000001, TIMEOUT_MS));
    HT_OK(hollow_announcer_wait_for_version(b, 20240101000000001, 0));

    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, b));
    ck_assert_uint_eq(st.subscribers, 2);
    ck_assert_int_eq(st.latest, 20240101000000001);
    close(fd);
    hollow_announcer_free(b);
    hollow_announcer_free(a);
    ht_rec_destroy(&r);
    ht_remove_dir(dir);
}

START_TEST(announcer_fs_watcher_inotify_delivers_in_order)
{
    /* a poll interval of 10 minutes: only inotify delivers in time */
    watch_and_deliver(false, 600000);
}
END_TEST

START_TEST(announcer_fs_watcher_polling_delivers_in_order)
{
    watch_and_deliver(true, 5);
}
END_TEST

typedef struct later {
    const char *dir;
    int delay_ms;
} later;

static void *java_later(void *p)
{
    later *l = p;
    ht_sleep_ms(l->delay_ms);
    java_announce(l->dir, "77");
    return NULL;
}

START_TEST(announcer_fs_wait_for_version_sees_other_writers)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-annfs");
    hollow_announcer *b = open_fs(dir, true, 10, 16);
    ck_assert_int_eq(hollow_announcer_wait_for_version(b, 77, 30),
                     HOLLOW_ENOTFOUND);
    later l = {dir, 30};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, java_later, &l), 0);
    HT_OK(hollow_announcer_wait_for_version(b, 77, TIMEOUT_MS));
    pthread_join(t, NULL);
    java_announce(dir, "78");
    HT_OK(hollow_announcer_wait_for_version(b, 78, 0)); /* reads at once */
    hollow_announcer_free(b);
    ht_remove_dir(dir);
}
END_TEST

/* ---------------------------------------------------------- pin, queue */

START_TEST(announcer_fs_pin_is_local)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-annfs");
    hollow_announcer *a = open_fs(dir, false, 1000, 16);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    HT_OK(hollow_announcer_announce(a, 5));
    HT_OK(hollow_announcer_pin(a, 2));
    int64_t v;
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 2);
    HT_OK(hollow_announcer_announce(a, 6)); /* written, not delivered */
    size_t len;
    char *text = read_text(dir, "announced.version", &len);
    ck_assert_int_eq(len, 1);
    ck_assert_int_eq(text[0], '6');
    free(text);
    HT_OK(hollow_announcer_unpin(a));
    ck_assert(ht_rec_wait_last(&r, 6, TIMEOUT_MS));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    pthread_mutex_lock(&r.mu);
    ck_assert_int_eq(r.n, 3);
    ck_assert_int_eq(r.v[0], 5);
    ck_assert_int_eq(r.v[1], 2);
    ck_assert_int_eq(r.v[2], 6);
    pthread_mutex_unlock(&r.mu);
    HT_OK(hollow_announcer_latest(&v, a));
    ck_assert_int_eq(v, 6);
    hollow_announcer_free(a);
    ht_rec_destroy(&r);
    ht_remove_dir(dir);
}
END_TEST

START_TEST(announcer_fs_full_queue_leaves_file_alone)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-annfs");
    hollow_announcer *a = open_fs(dir, false, 1000, 2);
    ht_rec r;
    ht_rec_init(&r);
    r.block = true;
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    HT_OK(hollow_announcer_announce(a, 1));
    ck_assert(ht_rec_wait_entered(&r, TIMEOUT_MS));
    HT_OK(hollow_announcer_announce(a, 2));
    HT_OK(hollow_announcer_announce(a, 3));
    ck_assert_int_eq(hollow_announcer_announce(a, 4), HOLLOW_EBACKEND);
    size_t len;
    char *text = read_text(dir, "announced.version", &len);
    ck_assert_int_eq(len, 1);
    ck_assert_int_eq(text[0], '3');
    free(text);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.dropped, 1);
    ht_rec_release(&r);
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    HT_OK(hollow_announcer_announce(a, 4));
    ck_assert(ht_rec_wait_last(&r, 4, TIMEOUT_MS));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    pthread_mutex_lock(&r.mu);
    ck_assert_int_eq(r.n, 4); /* the watcher fed nothing twice */
    pthread_mutex_unlock(&r.mu);
    hollow_announcer_free(a);
    ht_rec_destroy(&r);
    ht_remove_dir(dir);
}
END_TEST

/* ---------------------------------------------------------- lease */

START_TEST(announcer_fs_lease_across_objects_and_processes)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-annfs");
    /* the other process is forked first, while this one has no threads
     * (ThreadSanitizer refuses threads in the child of a threaded fork);
     * it waits for a byte on `go` before it competes */
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(go[1]);
        char c1;
        if (read(go[0], &c1, 1) != 1)
            _exit(9);
        hollow_announcer_fs_options o = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
        o.dir = dir;
        o.force_polling = true;
        hollow_announcer *c = NULL;
        if (hollow_announcer_fs_new(&c, &o) != 0)
            _exit(10);
        char h[HOLLOW_LEASE_OWNER_MAX];
        if (hollow_announcer_lease(c, HOLLOW_LEASE_ACQUIRE, "host:3", 60000, h,
                                   sizeof h) != HOLLOW_ESTATE)
            _exit(11);
        if (strcmp(h, "host:1") != 0)
            _exit(12);
        hollow_announcer_free(c);
        _exit(0);
    }
    close(go[0]);
    hollow_announcer *a = open_fs(dir, false, 1000, 8);
    hollow_announcer *b = open_fs(dir, false, 1000, 8);
    char holder[HOLLOW_LEASE_OWNER_MAX];
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "host:1", 60000,
                                 holder, sizeof holder));
    ck_assert(exists(dir, ".hollow-producer.lease"));
    ck_assert_int_eq(hollow_announcer_lease(b, HOLLOW_LEASE_ACQUIRE, "host:2",
                                            60000, holder, sizeof holder),
                     HOLLOW_ESTATE);
    ck_assert_str_eq(holder, "host:1");
    HT_OK(hollow_announcer_lease(b, HOLLOW_LEASE_CHECK, "host:1", 0, NULL, 0));

    /* another process sees the same holder, and cannot take it */
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    close(go[1]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d",
                  status);

    /* release, then the other takes it; expiry frees it */
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_RELEASE, "host:1", 0, NULL, 0));
    HT_OK(hollow_announcer_lease(b, HOLLOW_LEASE_ACQUIRE, "host:2", 60000, NULL,
                                 0));
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_CHECK, "host:1", 0,
                                            NULL, 0),
                     HOLLOW_ESTATE);
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "host:1",
                                            60000, NULL, 0),
                     HOLLOW_ESTATE);
    hollow__clock_advance_ms(60001); /* the lease clock, past host:2's lease */
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "host:1", 60000, NULL, 0));

    /* a torn lease file is no lease */
    char path[4096];
    snprintf(path, sizeof path, "%s/.hollow-producer.lease", dir);
    ht_write_file(path, "99999999999999 host:1", 21); /* no newline */
    HT_OK(hollow_announcer_lease(b, HOLLOW_LEASE_ACQUIRE, "host:2", 60000, NULL,
                                 0));
    hollow_announcer_free(a);
    hollow_announcer_free(b);
    ht_remove_dir(dir);
}
END_TEST

static Suite *announcer_fs_suite(void)
{
    Suite *s = suite_create("announcer_fs");
    TCase *tc = tcase_create("file");
    tcase_add_test(tc, announcer_fs_file_format_and_latest);
    tcase_add_test(tc, announcer_fs_replaces_file_atomically);
    suite_add_tcase(s, tc);

    tc = tcase_create("watcher");
    tcase_add_test(tc, announcer_fs_watcher_inotify_delivers_in_order);
    tcase_add_test(tc, announcer_fs_watcher_polling_delivers_in_order);
    tcase_add_test(tc, announcer_fs_wait_for_version_sees_other_writers);
    suite_add_tcase(s, tc);

    tc = tcase_create("local");
    tcase_add_test(tc, announcer_fs_pin_is_local);
    tcase_add_test(tc, announcer_fs_full_queue_leaves_file_alone);
    tcase_add_test(tc, announcer_fs_lease_across_objects_and_processes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(announcer_fs_suite()); }
