/*
 * The S3 store's cache dir and pending journal (src/blobstore/s3_cache.h):
 * commit and lookup, replace, miss; a cache file truncated (size, always)
 * or changed in place (hash, with verify) is detected and removed; LRU
 * eviction by use, pending files never evicted; reopening rebuilds the
 * byte count and removes dead writers' temporary files; the journal keeps
 * entries in order, ignores a torn last line and mangled lines, keeps
 * every entry of processes appending (and compacting) at once, compacts
 * without losing a pending entry, also when killed mid-way; one retrier
 * per cache dir, across processes and after a kill -9; bad keys refused;
 * threads sharing one cache.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blobstore/s3_cache.h"
#include "testhelp.h"

/* ---------------------------------------------------------- helpers */

static char dir[4096];

static void setup(void) { ht_tmpdir(dir, sizeof dir, "s3cache"); }
static void teardown(void) { ht_remove_dir(dir); }

static hollow__s3_cache *open_cache(uint64_t max_bytes, bool verify)
{
    hollow__s3_cache *c = NULL;
    HT_OK(hollow__s3_cache_open(&c, dir, max_bytes, verify));
    ck_assert_ptr_nonnull(c);
    return c;
}

/* a blob of `len` bytes of `fill` committed under relkey; its hash out */
static void put(hollow__s3_cache *c, const char *relkey, size_t len, int fill,
                char sha[65])
{
    char tmp[4096];
    int fd = -1;
    HT_OK(hollow__s3_cache_tmp(c, &fd, tmp, sizeof tmp));
    ck_assert_int_ge(fd, 0);
    char *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    memset(p, fill, len);
    ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
    close(fd);
    char h[65];
    ht_sha256_hex(p, len, h);
    free(p);
    HT_OK(hollow__s3_cache_commit(c, relkey, tmp, (int64_t)len, h));
    if (sha != NULL)
        memcpy(sha, h, 65);
    /* the temporary file is gone: renamed into place */
    ck_assert_int_ne(access(tmp, F_OK), 0);
}

static bool cached(const char *relkey)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, relkey);
    return access(path, F_OK) == 0;
}

static void blob_entry(hollow__s3_entry *e, const char *relkey, int64_t size)
{
    memset(e, 0, sizeof *e);
    e->kind = HOLLOW__S3_ENTRY_BLOB;
    snprintf(e->relkey, sizeof e->relkey, "%s", relkey);
    e->size = size;
    ht_sha256_hex(relkey, strlen(relkey), e->sha256);
}

static size_t pending(hollow__s3_cache *c, hollow__s3_entry **out)
{
    hollow__s3_entry *e = NULL;
    size_t n = 99;
    HT_OK(hollow__s3_journal_pending(c, &e, &n));
    if (out != NULL)
        *out = e;
    else
        free(e);
    return n;
}

static size_t journal_lines(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/pending.journal", dir);
    size_t len;
    uint8_t *p = ht_read_file(path, &len);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += p[i] == '\n';
    free(p);
    return lines;
}

static void append_raw(const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/pending.journal", dir);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* ------------------------------------------------------------ cache */

START_TEST(s3_cache_commit_lookup_replace_miss)
{
    hollow__s3_cache *c = open_cache(0, true);
    char sha[65], got_sha[65], path[4096];
    int64_t size = -1;
    put(c, "snapshots/snapshot-5", 3000, 'a', sha);
    HT_OK(hollow__s3_cache_lookup(c, "snapshots/snapshot-5", path, sizeof path,
                                  &size, got_sha));
    ck_assert_int_eq(size, 3000);
    ck_assert_str_eq(got_sha, sha);
    char want[4096];
    snprintf(want, sizeof want, "%s/snapshots/snapshot-5", dir);
    ck_assert_str_eq(path, want);
    size_t len;
    uint8_t *p = ht_read_file(path, &len);
    ck_assert_uint_eq(len, 3000);
    ck_assert_int_eq(p[0], 'a');
    ck_assert_int_eq(p[2999], 'a');
    free(p);
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 3000);

    /* replace: new bytes, new size, the total follows */
    put(c, "snapshots/snapshot-5", 100, 'b', sha);
    HT_OK(hollow__s3_cache_lookup(c, "snapshots/snapshot-5", path, sizeof path,
                                  &size, got_sha));
    ck_assert_int_eq(size, 100);
    ck_assert_str_eq(got_sha, sha);
    p = ht_read_file(path, &len);
    ck_assert_uint_eq(len, 100);
    ck_assert_int_eq(p[0], 'b');
    free(p);
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 100);

    /* an empty blob is a blob */
    put(c, "headers/header-5", 0, 0, NULL);
    HT_OK(hollow__s3_cache_lookup(c, "headers/header-5", path, sizeof path,
                                  &size, NULL));
    ck_assert_int_eq(size, 0);

    /* misses */
    ck_assert_int_eq(hollow__s3_cache_lookup(c, "snapshots/snapshot-6", path,
                                             sizeof path, NULL, NULL),
                     HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow__s3_cache_lookup(c, "nofolder/x", path, sizeof path,
                                             NULL, NULL),
                     HOLLOW_ENOTFOUND);
    /* remove */
    HT_OK(hollow__s3_cache_remove(c, "snapshots/snapshot-5"));
    ck_assert(!cached("snapshots/snapshot-5"));
    ck_assert(!cached("snapshots/.snapshot-5.meta"));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 0);
    ck_assert_int_eq(hollow__s3_cache_remove(c, "snapshots/snapshot-5"),
                     HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow__s3_cache_lookup(c, "snapshots/snapshot-5", path,
                                             sizeof path, NULL, NULL),
                     HOLLOW_ENOTFOUND);
    /* a path buffer too small is refused, not overrun */
    char small[8];
    ck_assert_int_eq(hollow__s3_cache_lookup(c, "headers/header-5", small,
                                             sizeof small, NULL, NULL),
                     HOLLOW_ERANGE);
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_tmp_discard_and_commit_checks)
{
    hollow__s3_cache *c = open_cache(0, false);
    char tmp[4096];
    int fd;
    HT_OK(hollow__s3_cache_tmp(c, &fd, tmp, sizeof tmp));
    ck_assert_int_eq(write(fd, "abc", 3), 3);
    close(fd);
    ck_assert_int_eq(access(tmp, F_OK), 0);
    char sha[65];
    ht_sha256_hex("abc", 3, sha);
    /* the size must be the file's */
    ck_assert_int_eq(hollow__s3_cache_commit(c, "deltas/delta-1-2", tmp, 4, sha),
                     HOLLOW_EINVAL);
    ck_assert(!cached("deltas/delta-1-2"));
    HT_OK(hollow__s3_cache_tmp(c, &fd, tmp, sizeof tmp));
    close(fd);
    hollow__s3_cache_discard(c, tmp);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    /* a file outside the cache is neither committed nor discarded */
    char outside[4096];
    snprintf(outside, sizeof outside, "%s.outside", dir);
    ht_write_file(outside, "abc", 3);
    ck_assert_int_eq(hollow__s3_cache_commit(c, "x", outside, 3, sha),
                     HOLLOW_EINVAL);
    hollow__s3_cache_discard(c, outside);
    ck_assert_int_eq(access(outside, F_OK), 0);
    unlink(outside);
    /* a bad hash is refused */
    HT_OK(hollow__s3_cache_tmp(c, &fd, tmp, sizeof tmp));
    close(fd);
    ck_assert_int_eq(hollow__s3_cache_commit(c, "x", tmp, 0, "ABC"),
                     HOLLOW_EINVAL);
    ck_assert_int_ne(access(tmp, F_OK), 0); /* a failed commit removes it */
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_truncated_file_detected_and_removed)
{
    hollow__s3_cache *c = open_cache(0, false);
    put(c, "snapshots/snapshot-1", 5000, 'x', NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/snapshots/snapshot-1", dir);
    ck_assert_int_eq(truncate(path, 4000), 0);
    char got[4096];
    ck_assert_int_eq(hollow__s3_cache_lookup(c, "snapshots/snapshot-1", got,
                                             sizeof got, NULL, NULL),
                     HOLLOW_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "snapshot-1"));
    ck_assert(!cached("snapshots/snapshot-1"));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 0);
    ck_assert_int_eq(hollow__s3_cache_lookup(c, "snapshots/snapshot-1", got,
                                             sizeof got, NULL, NULL),
                     HOLLOW_ENOTFOUND);
    /* a file with no sidecar is not trusted either */
    put(c, "snapshots/snapshot-2", 10, 'y', NULL);
    snprintf(path, sizeof path, "%s/snapshots/.snapshot-2.meta", dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(hollow__s3_cache_lookup(c, "snapshots/snapshot-2", got,
                                             sizeof got, NULL, NULL),
                     HOLLOW_ECORRUPT);
    ck_assert(!cached("snapshots/snapshot-2"));
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_changed_file_detected_with_verify)
{
    hollow__s3_cache *c = open_cache(0, false);
    put(c, "deltas/delta-1-2", 4096, 'x', NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/deltas/delta-1-2", dir);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "Z", 1, 2000), 1); /* same size */
    close(fd);
    char got[4096];
    /* without verify only the size is checked: a hit */
    HT_OK(hollow__s3_cache_lookup(c, "deltas/delta-1-2", got, sizeof got, NULL,
                                  NULL));
    hollow__s3_cache_close(c);
    /* with verify the hash is checked: corrupt, removed */
    c = open_cache(0, true);
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 4096);
    ck_assert_int_eq(hollow__s3_cache_lookup(c, "deltas/delta-1-2", got,
                                             sizeof got, NULL, NULL),
                     HOLLOW_ECORRUPT);
    ck_assert(!cached("deltas/delta-1-2"));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 0);
    /* an intact file passes verify */
    put(c, "deltas/delta-2-3", 4096, 'q', NULL);
    HT_OK(hollow__s3_cache_lookup(c, "deltas/delta-2-3", got, sizeof got, NULL,
                                  NULL));
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_lru_eviction_by_use)
{
    hollow__s3_cache *c = open_cache(3000, false);
    char path[4096];
    put(c, "snapshots/snapshot-1", 1000, '1', NULL);
    ht_sleep_ms(15);
    put(c, "snapshots/snapshot-2", 1000, '2', NULL);
    ht_sleep_ms(15);
    put(c, "snapshots/snapshot-3", 1000, '3', NULL);
    ht_sleep_ms(15);
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 3000);
    /* use 1: now 2 is the least recently used */
    HT_OK(hollow__s3_cache_lookup(c, "snapshots/snapshot-1", path, sizeof path,
                                  NULL, NULL));
    ht_sleep_ms(15);
    put(c, "snapshots/snapshot-4", 1000, '4', NULL);
    ck_assert(!cached("snapshots/snapshot-2"));
    ck_assert(!cached("snapshots/.snapshot-2.meta"));
    ck_assert(cached("snapshots/snapshot-1"));
    ck_assert(cached("snapshots/snapshot-3"));
    ck_assert(cached("snapshots/snapshot-4"));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 3000);
    ht_sleep_ms(15);
    /* a big one pushes out the two oldest uses (3, then 1) */
    put(c, "snapshots/snapshot-5", 1500, '5', NULL);
    ck_assert(!cached("snapshots/snapshot-3"));
    ck_assert(!cached("snapshots/snapshot-1"));
    ck_assert(cached("snapshots/snapshot-4"));
    ck_assert(cached("snapshots/snapshot-5"));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 2500);
    /* a blob over the whole bound stays (the caller needs it) alone */
    ht_sleep_ms(15);
    put(c, "snapshots/snapshot-6", 5000, '6', NULL);
    ck_assert(cached("snapshots/snapshot-6"));
    ck_assert(!cached("snapshots/snapshot-4"));
    ck_assert(!cached("snapshots/snapshot-5"));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 5000);
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_use_by_another_process_counts)
{
    hollow__s3_cache *c = open_cache(2000, false);
    char path[4096];
    put(c, "a", 1000, 'a', NULL);
    ht_sleep_ms(20);
    put(c, "b", 1000, 'b', NULL);
    /* a use is written to the mtime at most once a second */
    ht_sleep_ms(1100);
    /* another process uses "a" (its own cache object, same dir) */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        hollow__s3_cache *o = NULL;
        int rc = hollow__s3_cache_open(&o, dir, 2000, false);
        if (rc == 0)
            rc = hollow__s3_cache_lookup(o, "a", path, sizeof path, NULL, NULL);
        hollow__s3_cache_close(o);
        _exit(rc == 0 ? 0 : 1);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ht_sleep_ms(20);
    put(c, "c", 1000, 'c', NULL);
    ck_assert(cached("a"));
    ck_assert(!cached("b"));
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_pending_never_evicted)
{
    hollow__s3_cache *c = open_cache(2000, false);
    hollow__s3_entry e;
    put(c, "snapshots/snapshot-1", 1000, '1', NULL);
    blob_entry(&e, "snapshots/snapshot-1", 1000);
    HT_OK(hollow__s3_journal_add(c, &e));
    uint64_t id1 = e.id;
    ht_sleep_ms(10);
    put(c, "snapshots/snapshot-2", 1000, '2', NULL);
    blob_entry(&e, "snapshots/snapshot-2", 1000);
    HT_OK(hollow__s3_journal_add(c, &e));
    ht_sleep_ms(10);
    /* over the bound with both pending: nothing can go but the newcomer's
     * elders that are not pending (none) */
    put(c, "snapshots/snapshot-3", 1000, '3', NULL);
    ck_assert(cached("snapshots/snapshot-1"));
    ck_assert(cached("snapshots/snapshot-2"));
    ck_assert(cached("snapshots/snapshot-3"));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 3000);
    ht_sleep_ms(10);
    put(c, "snapshots/snapshot-4", 1000, '4', NULL);
    ck_assert(cached("snapshots/snapshot-1"));
    ck_assert(cached("snapshots/snapshot-2"));
    ck_assert(!cached("snapshots/snapshot-3"));
    ck_assert(cached("snapshots/snapshot-4"));
    /* once uploaded, the oldest goes at the next commit */
    HT_OK(hollow__s3_journal_done(c, id1));
    ht_sleep_ms(10);
    put(c, "snapshots/snapshot-5", 1000, '5', NULL);
    ck_assert(!cached("snapshots/snapshot-1"));
    ck_assert(cached("snapshots/snapshot-2"));
    ck_assert(!cached("snapshots/snapshot-4"));
    ck_assert(cached("snapshots/snapshot-5"));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 2000);
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_reopen_rebuilds_accounting)
{
    hollow__s3_cache *c = open_cache(0, false);
    put(c, "snapshots/snapshot-1", 1234, '1', NULL);
    put(c, "deltas/delta-1-2", 100, '2', NULL);
    put(c, "reverse/reversedelta-2-1", 50, '3', NULL);
    put(c, "announced.version", 7, '4', NULL);
    hollow__s3_entry e;
    blob_entry(&e, "deltas/delta-1-2", 100);
    HT_OK(hollow__s3_journal_add(c, &e));
    ck_assert(hollow__s3_journal_try_lock(c));
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 1391);
    hollow__s3_cache_close(c);

    /* a dead writer's temporary file, and a live one's */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    char dead[4096], live[4096];
    snprintf(dead, sizeof dead, "%s/.tmp-%ld-7", dir, (long)pid);
    snprintf(live, sizeof live, "%s/.tmp-%ld-8", dir, (long)getpid());
    ht_write_file(dead, "partial", 7);
    ht_write_file(live, "partial", 7);

    c = open_cache(0, false);
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 1391);
    ck_assert_int_ne(access(dead, F_OK), 0);
    ck_assert_int_eq(access(live, F_OK), 0);
    unlink(live);
    hollow__s3_cache_close(c);

    /* a file removed behind its back is not counted after reopening */
    char path[4096];
    snprintf(path, sizeof path, "%s/snapshots/snapshot-1", dir);
    ck_assert_int_eq(unlink(path), 0);
    c = open_cache(0, false);
    ck_assert_uint_eq(hollow__s3_cache_bytes(c), 157);
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_bad_relkeys_refused)
{
    /* the cache one level down, so that an escape would land in `dir` */
    char top[4096];
    snprintf(top, sizeof top, "%s", dir);
    snprintf(dir, sizeof dir, "%s/cache", top);
    hollow__s3_cache *c = open_cache(0, false);
    static const char *bad[] = {"", "/abs", "../x", "a/../b", "a/..", "..",
                                "a..b", "a b", "a//b", "a/", "/", ".hidden",
                                "x/.y", "x/./y", "semi;colon", "q?x=1", "t\tab",
                                "pending.journal", "pending.lock", "ü"};
    char path[4096], tmp[4096], sha[65];
    ht_sha256_hex("", 0, sha);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(hollow__s3_cache_lookup(c, bad[i], path, sizeof path, NULL,
                                              NULL) == HOLLOW_EINVAL,
                      "lookup accepted \"%s\"", bad[i]);
        ck_assert_int_eq(hollow__s3_cache_remove(c, bad[i]), HOLLOW_EINVAL);
        int fd;
        HT_OK(hollow__s3_cache_tmp(c, &fd, tmp, sizeof tmp));
        close(fd);
        ck_assert_msg(hollow__s3_cache_commit(c, bad[i], tmp, 0, sha) ==
                          HOLLOW_EINVAL,
                      "commit accepted \"%s\"", bad[i]);
        hollow__s3_cache_discard(c, tmp);
        hollow__s3_entry e;
        blob_entry(&e, "x", 0);
        snprintf(e.relkey, sizeof e.relkey, "%s", bad[i]);
        ck_assert_msg(hollow__s3_journal_add(c, &e) == HOLLOW_EINVAL,
                      "journal accepted \"%s\"", bad[i]);
    }
    char longkey[HOLLOW__S3_RELKEY_MAX + 1];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    ck_assert_int_eq(hollow__s3_cache_lookup(c, longkey, path, sizeof path, NULL,
                                             NULL),
                     HOLLOW_EINVAL);
    /* an entry whose relkey fills the array with no terminator */
    hollow__s3_entry e;
    blob_entry(&e, "x", 0);
    memset(e.relkey, 'k', sizeof e.relkey);
    ck_assert_int_eq(hollow__s3_journal_add(c, &e), HOLLOW_EINVAL);
    /* a blob entry needs a hash; an unknown kind is refused */
    blob_entry(&e, "snapshots/snapshot-1", 5);
    e.sha256[0] = '\0';
    ck_assert_int_eq(hollow__s3_journal_add(c, &e), HOLLOW_EINVAL);
    blob_entry(&e, "snapshots/snapshot-1", 5);
    e.kind = (hollow__s3_entry_kind)7;
    ck_assert_int_eq(hollow__s3_journal_add(c, &e), HOLLOW_EINVAL);
    ck_assert_uint_eq(pending(c, NULL), 0);
    /* nothing escaped the cache dir */
    char outside[4096];
    snprintf(outside, sizeof outside, "%s/x", top);
    ck_assert_int_ne(access(outside, F_OK), 0);
    snprintf(outside, sizeof outside, "%s/abs", top);
    ck_assert_int_ne(access(outside, F_OK), 0);
    /* good ones */
    put(c, "snapshots/snapshot-5", 1, 'a', NULL);
    put(c, "announced.version", 1, 'a', NULL);
    put(c, "p/q/r/S_t-u.v", 1, 'a', NULL);
    hollow__s3_cache_close(c);
    snprintf(dir, sizeof dir, "%s", top);
}
END_TEST

/* ---------------------------------------------------------- journal */

START_TEST(s3_journal_add_done_pending_in_order)
{
    hollow__s3_cache *c = open_cache(0, false);
    ck_assert_uint_eq(pending(c, NULL), 0); /* no journal yet */
    hollow__s3_entry e[4];
    blob_entry(&e[0], "snapshots/snapshot-1", 10);
    blob_entry(&e[1], "deltas/delta-1-2", 20);
    blob_entry(&e[2], "reverse/reversedelta-2-1", 30);
    memset(&e[3], 0, sizeof e[3]);
    e[3].kind = HOLLOW__S3_ENTRY_ANNOUNCE;
    snprintf(e[3].relkey, sizeof e[3].relkey, "announced.version");
    e[3].version = 20261207123456789;
    for (int i = 0; i < 4; i++)
        HT_OK(hollow__s3_journal_add(c, &e[i]));
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            ck_assert_uint_ne(e[i].id, e[j].id);
    hollow__s3_entry *p;
    ck_assert_uint_eq(pending(c, &p), 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(p[i].id, e[i].id);
        ck_assert_int_eq(p[i].kind, e[i].kind);
        ck_assert_str_eq(p[i].relkey, e[i].relkey);
        ck_assert_int_eq(p[i].size, e[i].size);
        ck_assert_str_eq(p[i].sha256, e[i].sha256);
        ck_assert_int_eq(p[i].version, e[i].version);
    }
    ck_assert_str_eq(p[3].sha256, "");
    ck_assert_int_eq(p[3].size, 0);
    free(p);
    /* seen by another cache object on the same dir */
    hollow__s3_cache *o = open_cache(0, false);
    ck_assert_uint_eq(pending(o, NULL), 4);
    HT_OK(hollow__s3_journal_done(o, e[1].id));
    ck_assert_uint_eq(pending(c, &p), 3);
    ck_assert_uint_eq(p[0].id, e[0].id);
    ck_assert_uint_eq(p[1].id, e[2].id);
    ck_assert_uint_eq(p[2].id, e[3].id);
    free(p);
    /* done twice, or an id never added: not found */
    ck_assert_int_eq(hollow__s3_journal_done(c, e[1].id), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow__s3_journal_done(c, 12345), HOLLOW_ENOTFOUND);
    HT_OK(hollow__s3_journal_done(c, e[0].id));
    HT_OK(hollow__s3_journal_done(c, e[3].id));
    HT_OK(hollow__s3_journal_done(c, e[2].id));
    ck_assert_uint_eq(pending(c, NULL), 0);
    /* nothing pending: compacted to nothing */
    ck_assert_uint_eq(journal_lines(), 0);
    /* and it goes on */
    HT_OK(hollow__s3_journal_add(c, &e[0]));
    ck_assert_uint_eq(pending(o, NULL), 1);
    hollow__s3_cache_close(o);
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_journal_replaced_under_a_reader)
{
    /* `a` has read the journal; `b` empties it (compaction: a new file)
     * and fills it again past what `a` had read. `a` must see the new
     * file, not the tail of it past its old offset */
    hollow__s3_cache *a = open_cache(0, false), *b = open_cache(0, false);
    hollow__s3_entry e[6];
    for (int i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "old/e%d", i);
        blob_entry(&e[i], key, i);
        HT_OK(hollow__s3_journal_add(a, &e[i]));
    }
    ck_assert_uint_eq(pending(a, NULL), 3);
    for (int i = 0; i < 3; i++)
        HT_OK(hollow__s3_journal_done(b, e[i].id));
    for (int i = 3; i < 6; i++) {
        char key[32];
        snprintf(key, sizeof key, "new/entry-with-a-longer-name-%d", i);
        blob_entry(&e[i], key, i);
        HT_OK(hollow__s3_journal_add(b, &e[i]));
    }
    hollow__s3_entry *p;
    ck_assert_uint_eq(pending(a, &p), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(p[i].id, e[3 + i].id);
    free(p);
    /* and `a` marks one done in the new file */
    HT_OK(hollow__s3_journal_done(a, e[4].id));
    ck_assert_int_eq(hollow__s3_journal_done(a, e[0].id), HOLLOW_ENOTFOUND);
    ck_assert_uint_eq(pending(b, &p), 2);
    ck_assert_uint_eq(p[0].id, e[3].id);
    ck_assert_uint_eq(p[1].id, e[5].id);
    free(p);
    hollow__s3_cache_close(a);
    hollow__s3_cache_close(b);
}
END_TEST

START_TEST(s3_journal_torn_last_line_ignored)
{
    hollow__s3_cache *c = open_cache(0, false);
    hollow__s3_entry e[3];
    blob_entry(&e[0], "snapshots/snapshot-1", 10);
    blob_entry(&e[1], "deltas/delta-1-2", 20);
    blob_entry(&e[2], "deltas/delta-2-3", 30);
    HT_OK(hollow__s3_journal_add(c, &e[0]));
    HT_OK(hollow__s3_journal_add(c, &e[1]));
    /* a crash mid-append: half a line, no newline */
    append_raw("1a2b3c4d A 99999 B 20 0123456789abcdef");
    hollow__s3_entry *p;
    ck_assert_uint_eq(pending(c, &p), 2);
    ck_assert_uint_eq(p[1].id, e[1].id);
    free(p);
    /* later appends parse, the fragment stays ignored */
    HT_OK(hollow__s3_journal_add(c, &e[2]));
    ck_assert_uint_eq(pending(c, &p), 3);
    ck_assert_uint_eq(p[0].id, e[0].id);
    ck_assert_uint_eq(p[1].id, e[1].id);
    ck_assert_uint_eq(p[2].id, e[2].id);
    ck_assert_str_eq(p[2].relkey, "deltas/delta-2-3");
    free(p);
    /* a whole line with a wrong checksum, and garbage, are skipped too */
    append_raw("00000000 A 5 B 1 "
               "0000000000000000000000000000000000000000000000000000000000000000"
               " snapshots/snapshot-9\n\x01\x02garbage\n\n");
    HT_OK(hollow__s3_journal_done(c, e[1].id));
    ck_assert_uint_eq(pending(c, &p), 2);
    ck_assert_uint_eq(p[0].id, e[0].id);
    ck_assert_uint_eq(p[1].id, e[2].id);
    free(p);
    hollow__s3_cache_close(c);
}
END_TEST

#define WRITERS 4
#define PER_WRITER 150

START_TEST(s3_journal_concurrent_processes)
{
    hollow__s3_cache *c = open_cache(0, false);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        ck_assert_int_ge(pids[w], 0);
        if (pids[w] == 0) {
            hollow__s3_cache *o = NULL;
            int rc = hollow__s3_cache_open(&o, dir, 0, false);
            for (int i = 0; i < PER_WRITER && rc == 0; i++) {
                hollow__s3_entry e;
                char key[64];
                snprintf(key, sizeof key, "w%d/e%d", w, i);
                blob_entry(&e, key, i);
                rc = hollow__s3_journal_add(o, &e);
                /* most done at once: compactions replace the journal
                 * while the other processes append to it */
                if (rc == 0 && i % 3 != 0)
                    rc = hollow__s3_journal_done(o, e.id);
            }
            hollow__s3_cache_close(o);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int st;
        ck_assert_int_eq(waitpid(pids[w], &st, 0), pids[w]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d failed",
                      w);
    }
    hollow__s3_entry *p;
    size_t n = pending(c, &p);
    ck_assert_uint_eq(n, WRITERS * (PER_WRITER / 3));
    /* each seen once, in each writer's order, ids unique */
    int next[WRITERS] = {0};
    for (size_t i = 0; i < n; i++) {
        int w, k;
        ck_assert_int_eq(sscanf(p[i].relkey, "w%d/e%d", &w, &k), 2);
        ck_assert(w >= 0 && w < WRITERS);
        ck_assert_int_eq(k, next[w]);
        ck_assert_int_eq(p[i].size, k);
        next[w] += 3;
        for (size_t j = i + 1; j < n; j++)
            ck_assert_uint_ne(p[i].id, p[j].id);
    }
    free(p);
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_journal_compaction_keeps_pending)
{
    hollow__s3_cache *c = open_cache(0, false);
    enum { N = 120, DONE = 80 };
    uint64_t ids[N];
    for (int i = 0; i < N; i++) {
        hollow__s3_entry e;
        char key[64];
        snprintf(key, sizeof key, "deltas/delta-%d-%d", i, i + 1);
        blob_entry(&e, key, i);
        HT_OK(hollow__s3_journal_add(c, &e));
        ids[i] = e.id;
    }
    ck_assert_uint_eq(journal_lines(), N);
    /* done out of order: every entry whose index is not a multiple of 3 */
    int done = 0;
    for (int i = 0; i < N && done < DONE; i++)
        if (i % 3 != 0) {
            HT_OK(hollow__s3_journal_done(c, ids[i]));
            done++;
        }
    /* compacted once most were done: far fewer lines than written */
    ck_assert_uint_lt(journal_lines(), N + DONE);
    ck_assert_uint_lt(journal_lines(), N);
    hollow__s3_entry *p;
    size_t n = pending(c, &p);
    ck_assert_uint_eq(n, N - DONE);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(p[i].id, ids[3 * i]);
        char key[64];
        snprintf(key, sizeof key, "deltas/delta-%zu-%zu", 3 * i, 3 * i + 1);
        ck_assert_str_eq(p[i].relkey, key);
        ck_assert_int_eq(p[i].size, (int64_t)(3 * i));
    }
    /* the survivors can still be marked done, from a fresh object too */
    hollow__s3_cache *o = open_cache(0, false);
    for (size_t i = 0; i < n; i++)
        HT_OK(hollow__s3_journal_done(o, p[i].id));
    free(p);
    ck_assert_uint_eq(pending(c, NULL), 0);
    ck_assert_uint_eq(journal_lines(), 0);
    hollow__s3_cache_close(o);
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_journal_killed_while_marking_done)
{
    /* a process adds entries and marks two in three done (compacting
     * often), reporting each finished step; killed at some point, the
     * journal holds exactly the entries not done, the one in flight
     * either way */
    int rep[2];
    ck_assert_int_eq(pipe(rep), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(rep[0]);
        hollow__s3_cache *o = NULL;
        if (hollow__s3_cache_open(&o, dir, 0, false) != 0)
            _exit(1);
        for (int32_t i = 0;; i++) {
            hollow__s3_entry e;
            char key[64];
            snprintf(key, sizeof key, "k/e%d", (int)i);
            blob_entry(&e, key, i);
            if (hollow__s3_journal_add(o, &e) != 0)
                _exit(1);
            if (i % 3 != 0 && hollow__s3_journal_done(o, e.id) != 0)
                _exit(1);
            if (write(rep[1], &i, sizeof i) != (ssize_t)sizeof i)
                _exit(1);
        }
    }
    close(rep[1]);
    int32_t last = -1, got;
    while (last < 200 && read(rep[0], &got, sizeof got) == (ssize_t)sizeof got)
        last = got;
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    while (read(rep[0], &got, sizeof got) == (ssize_t)sizeof got)
        last = got; /* steps finished before the kill */
    close(rep[0]);
    hollow__s3_cache *c = open_cache(0, false);
    hollow__s3_entry *p;
    size_t n = pending(c, &p);
    size_t k = 0;
    for (int32_t i = 0; i <= last; i += 3, k++) {
        ck_assert_uint_lt(k, n);
        ck_assert_int_eq(p[k].size, i);
    }
    /* at most the step in flight beyond those */
    ck_assert_uint_le(n, k + 1);
    if (n == k + 1)
        ck_assert_int_eq(p[k].size, last + 1);
    free(p);
    ck_assert_uint_lt(journal_lines(), (size_t)last + 64);
    hollow__s3_cache_close(c);
}
END_TEST

/* ------------------------------------------------------ retrier lock */

/* a child that opens the cache and reports try_lock on a pipe, then waits
 * for the pipe `hold` to close (or exits at once when hold is NULL) */
static pid_t lock_child(int report_fd, const int *hold)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid != 0)
        return pid;
    int hold_fd = hold != NULL ? hold[0] : -1;
    if (hold != NULL)
        close(hold[1]);
    hollow__s3_cache *o = NULL;
    char r = 'E';
    if (hollow__s3_cache_open(&o, dir, 0, false) == 0)
        r = hollow__s3_journal_try_lock(o) ? 'Y' : 'N';
    if (write(report_fd, &r, 1) != 1)
        _exit(2);
    if (hold_fd >= 0) {
        char b;
        while (read(hold_fd, &b, 1) > 0)
            ;
    }
    hollow__s3_cache_close(o);
    _exit(0);
}

static char child_says(int fd)
{
    char r = 0;
    ck_assert_int_eq(read(fd, &r, 1), 1);
    return r;
}

START_TEST(s3_journal_one_retrier_per_dir)
{
    int rep[2], hold[2];
    ck_assert_int_eq(pipe(rep), 0);
    ck_assert_int_eq(pipe(hold), 0);
    /* first process holds the lock until told */
    pid_t a = lock_child(rep[1], hold);
    ck_assert_int_eq(child_says(rep[0]), 'Y');
    /* a second process cannot take it, nor can this one */
    pid_t b = lock_child(rep[1], NULL);
    ck_assert_int_eq(child_says(rep[0]), 'N');
    ck_assert_int_eq(waitpid(b, NULL, 0), b);
    hollow__s3_cache *c = open_cache(0, false);
    ck_assert(!hollow__s3_journal_try_lock(c));
    /* the first one exits: now it can */
    close(hold[1]);
    ck_assert_int_eq(waitpid(a, NULL, 0), a);
    ck_assert(hollow__s3_journal_try_lock(c));
    ck_assert(hollow__s3_journal_try_lock(c)); /* held already: true */
    /* while this cache holds it, another object in this process cannot */
    hollow__s3_cache *o = open_cache(0, false);
    ck_assert(!hollow__s3_journal_try_lock(o));
    hollow__s3_cache_close(c);
    ck_assert(hollow__s3_journal_try_lock(o));
    hollow__s3_cache_close(o);
    close(hold[0]);
    close(rep[0]);
    close(rep[1]);
}
END_TEST

START_TEST(s3_journal_lock_released_by_kill_9)
{
    int rep[2], hold[2];
    ck_assert_int_eq(pipe(rep), 0);
    ck_assert_int_eq(pipe(hold), 0);
    pid_t a = lock_child(rep[1], hold);
    close(hold[0]);
    ck_assert_int_eq(child_says(rep[0]), 'Y');
    hollow__s3_cache *c = open_cache(0, false);
    ck_assert(!hollow__s3_journal_try_lock(c));
    ck_assert_int_eq(kill(a, SIGKILL), 0);
    int st;
    ck_assert_int_eq(waitpid(a, &st, 0), a);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    ck_assert(hollow__s3_journal_try_lock(c));
    hollow__s3_cache_close(c);
    close(hold[1]);
    close(rep[0]);
    close(rep[1]);
}
END_TEST

START_TEST(s3_journal_writer_killed_mid_stream)
{
    /* a process appending in a loop is killed; every line it finished is
     * there, and the journal goes on working */
    int rep[2];
    ck_assert_int_eq(pipe(rep), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        hollow__s3_cache *o = NULL;
        if (hollow__s3_cache_open(&o, dir, 0, false) != 0)
            _exit(1);
        for (int i = 0;; i++) {
            hollow__s3_entry e;
            char key[64];
            snprintf(key, sizeof key, "k/e%d", i);
            blob_entry(&e, key, i);
            if (hollow__s3_journal_add(o, &e) != 0)
                _exit(1);
            if (i == 20 && write(rep[1], "x", 1) != 1)
                _exit(1);
        }
    }
    char b;
    ck_assert_int_eq(read(rep[0], &b, 1), 1);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    hollow__s3_cache *c = open_cache(0, false);
    hollow__s3_entry *p;
    size_t n = pending(c, &p);
    ck_assert_uint_ge(n, 21);
    for (size_t i = 0; i < n; i++) {
        char key[64];
        snprintf(key, sizeof key, "k/e%zu", i);
        ck_assert_str_eq(p[i].relkey, key);
    }
    free(p);
    hollow__s3_entry e;
    blob_entry(&e, "after", 1);
    HT_OK(hollow__s3_journal_add(c, &e));
    ck_assert_uint_eq(pending(c, NULL), n + 1);
    hollow__s3_cache_close(c);
    close(rep[0]);
    close(rep[1]);
}
END_TEST

/* ----------------------------------------------------------- threads */

#define THREADS 4
#define ROUNDS 60

static hollow__s3_cache *shared_cache;

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    char path[4096], key[64];
    for (int i = 0; i < ROUNDS; i++) {
        /* a key of its own and one every thread writes */
        if (i % 2)
            snprintf(key, sizeof key, "t%d/k%d", t, i);
        else
            snprintf(key, sizeof key, "shared/k%d", i % 5);
        put(shared_cache, key, 200 + (size_t)i, 'a' + t, NULL);
        int rc = hollow__s3_cache_lookup(shared_cache, key, path, sizeof path,
                                         NULL, NULL);
        /* another thread may have evicted or replaced it meanwhile */
        ck_assert_msg(rc == 0 || rc == HOLLOW_ENOTFOUND || rc == HOLLOW_ECORRUPT,
                      "lookup %s: %d", key, rc);
        hollow__s3_entry e;
        blob_entry(&e, key, 1);
        HT_OK(hollow__s3_journal_add(shared_cache, &e));
        HT_OK(hollow__s3_journal_done(shared_cache, e.id));
        hollow__s3_journal_try_lock(shared_cache);
    }
    return NULL;
}

START_TEST(s3_cache_threads)
{
    shared_cache = open_cache(20000, true);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t),
                         0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    ck_assert_uint_le(hollow__s3_cache_bytes(shared_cache), 20000);
    ck_assert_uint_eq(pending(shared_cache, NULL), 0);
    ck_assert(hollow__s3_journal_try_lock(shared_cache));
    hollow__s3_cache_close(shared_cache);
    /* the accounting matches the disk */
    hollow__s3_cache *c = open_cache(20000, true);
    ck_assert_uint_le(hollow__s3_cache_bytes(c), 20000);
    hollow__s3_cache_close(c);
}
END_TEST

START_TEST(s3_cache_verify_hashes_without_verify_cache)
{
    hollow__s3_cache *c = open_cache(0, false);
    char sha[65], got_sha[65], got[4096];
    int64_t size = 0;
    put(c, "snapshots/snapshot-4", 3000, 'v', sha);
    HT_OK(hollow__s3_cache_verify(c, "snapshots/snapshot-4", got, sizeof got,
                                  &size, got_sha));
    ck_assert_int_eq(size, 3000);
    ck_assert_str_eq(got_sha, sha);
    char path[4096];
    snprintf(path, sizeof path, "%s/snapshots/snapshot-4", dir);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "Z", 1, 1500), 1); /* same size */
    close(fd);
    /* verify hashes though the cache does not: corrupt, removed */
    ck_assert_int_eq(hollow__s3_cache_verify(c, "snapshots/snapshot-4", got,
                                             sizeof got, NULL, NULL),
                     HOLLOW_ECORRUPT);
    ck_assert(!cached("snapshots/snapshot-4"));
    ck_assert_int_eq(hollow__s3_cache_verify(c, "snapshots/snapshot-4", got,
                                             sizeof got, NULL, NULL),
                     HOLLOW_ENOTFOUND);
    hollow__s3_cache_close(c);
}
END_TEST

static int relkey_cmp(const void *x, const void *y)
{
    return strcmp((const char *)x, (const char *)y);
}

/* the relkeys `c` lists, sorted, joined by ' ' */
static void listed(hollow__s3_cache *c, char *out, size_t cap)
{
    char (*v)[HOLLOW__S3_RELKEY_MAX] = NULL;
    size_t n = 0;
    HT_OK(hollow__s3_cache_list(c, &v, &n));
    qsort(v, n, sizeof *v, relkey_cmp);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "",
                 v[i]);
    free(v);
}

START_TEST(s3_cache_list_sees_other_objects_files)
{
    hollow__s3_cache *a = open_cache(0, false);
    hollow__s3_cache *b = open_cache(0, false);
    char got[1024];
    listed(a, got, sizeof got);
    ck_assert_str_eq(got, "");
    put(a, "snapshots/snapshot-1", 100, 'a', NULL);
    put(b, "deltas/delta-1-2", 100, 'b', NULL);
    put(b, "headers/header-2", 10, 'h', NULL);
    listed(a, got, sizeof got);
    ck_assert_str_eq(got, "deltas/delta-1-2 headers/header-2 "
                          "snapshots/snapshot-1");
    ck_assert_uint_eq(hollow__s3_cache_bytes(a), 210);
    HT_OK(hollow__s3_cache_remove(b, "deltas/delta-1-2"));
    listed(a, got, sizeof got);
    ck_assert_str_eq(got, "headers/header-2 snapshots/snapshot-1");
    hollow__s3_cache_close(a);
    hollow__s3_cache_close(b);
}
END_TEST

/* two cache objects on one dir (as two processes): each commit sees the
 * other's files, so the dir stays within the bound */
START_TEST(s3_cache_bound_shared_by_two_openers)
{
    hollow__s3_cache *a = open_cache(10000, false);
    hollow__s3_cache *b = open_cache(10000, false);
    for (int i = 0; i < 8; i++) {
        char k[64];
        snprintf(k, sizeof k, "snapshots/snapshot-%d", i);
        put(a, k, 1000, 'a', NULL);
        snprintf(k, sizeof k, "deltas/delta-%d-%d", i, i + 1);
        put(b, k, 1000, 'b', NULL);
    }
    hollow__s3_cache *c = open_cache(0, false); /* counts the dir */
    ck_assert_uint_le(hollow__s3_cache_bytes(c), 10000);
    ck_assert_uint_ge(hollow__s3_cache_bytes(c), 9000);
    /* the newest of each stayed */
    ck_assert(cached("snapshots/snapshot-7"));
    ck_assert(cached("deltas/delta-7-8"));
    hollow__s3_cache_close(c);
    hollow__s3_cache_close(a);
    hollow__s3_cache_close(b);
}
END_TEST

static Suite *s3_cache_suite(void)
{
    Suite *s = suite_create("s3_cache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, s3_cache_commit_lookup_replace_miss);
    tcase_add_test(tc, s3_cache_tmp_discard_and_commit_checks);
    tcase_add_test(tc, s3_cache_truncated_file_detected_and_removed);
    tcase_add_test(tc, s3_cache_changed_file_detected_with_verify);
    tcase_add_test(tc, s3_cache_lru_eviction_by_use);
    tcase_add_test(tc, s3_cache_use_by_another_process_counts);
    tcase_add_test(tc, s3_cache_pending_never_evicted);
    tcase_add_test(tc, s3_cache_reopen_rebuilds_accounting);
    tcase_add_test(tc, s3_cache_bad_relkeys_refused);
    tcase_add_test(tc, s3_cache_verify_hashes_without_verify_cache);
    tcase_add_test(tc, s3_cache_list_sees_other_objects_files);
    tcase_add_test(tc, s3_cache_bound_shared_by_two_openers);
    suite_add_tcase(s, tc);

    tc = tcase_create("journal");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, s3_journal_add_done_pending_in_order);
    tcase_add_test(tc, s3_journal_replaced_under_a_reader);
    tcase_add_test(tc, s3_journal_torn_last_line_ignored);
    tcase_add_test(tc, s3_journal_concurrent_processes);
    tcase_add_test(tc, s3_journal_compaction_keeps_pending);
    tcase_add_test(tc, s3_journal_killed_while_marking_done);
    tcase_add_test(tc, s3_journal_one_retrier_per_dir);
    tcase_add_test(tc, s3_journal_lock_released_by_kill_9);
    tcase_add_test(tc, s3_journal_writer_killed_mid_stream);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, s3_cache_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(s3_cache_suite()); }
