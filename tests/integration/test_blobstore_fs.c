/*
 * The filesystem blob store (hollow/blobstore.h, src/blobstore/fs.c):
 * Java's publisher layout with exact name matching (delta-1-... never
 * matches delta-12-...), put from a stream, bytes and a file, get as a
 * stream and as a file, list, delete; atomic writes: a writer killed
 * mid-write (kill -9 of a child process) leaves no visible blob, a full
 * disk (RLIMIT_FSIZE in a child) or a read-only directory (a child that
 * is not root, or the write-fault hook) is HOLLOW_EIO with errno and
 * leaves no partial blob and no temporary file; and every golden scenario
 * directory, exactly as Java wrote it, lists and reads back byte for byte.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hollow/blobstore.h"
#include "testhelp.h"

/* ---------------------------------------------------------- helpers */

static hollow_blobstore *open_store(const char *dir)
{
    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    o.dir = dir;
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_fs_new(&bs, &o));
    ck_assert_ptr_nonnull(bs);
    return bs;
}

static void touch(const char *dir, const char *name, const char *content)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ht_write_file(path, content, strlen(content));
}

static uint8_t *pattern(size_t len, uint64_t seed)
{
    uint8_t *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(ht_rand(&seed) >> 56);
    return p;
}

/* read a stream to its end (malloc'd) and close it */
static uint8_t *drain_stream(hollow_stream *s, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap);
    ck_assert_ptr_nonnull(p);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            p = realloc(p, cap);
            ck_assert_ptr_nonnull(p);
        }
        size_t got;
        HT_OK(hollow_stream_read(&got, s, p + n, cap - n));
        if (got == 0)
            break;
        n += got;
    }
    hollow_stream_close(s);
    *len = n;
    return p;
}

static uint8_t *get_bytes(hollow_blobstore *bs, hollow_blob_key k, size_t *len)
{
    hollow_stream *s = NULL;
    HT_OK(hollow_blobstore_get(&s, bs, &k));
    return drain_stream(s, len);
}

static void assert_same(const uint8_t *a, size_t alen, const uint8_t *b,
                        size_t blen, const char *what)
{
    ck_assert_msg(alen == blen, "%s: %zu bytes, want %zu", what, alen, blen);
    ck_assert_msg(alen == 0 || memcmp(a, b, alen) == 0, "%s: bytes differ",
                  what);
}

typedef struct keylist {
    hollow_blob_key k[256];
    char names[256][HOLLOW_BLOB_NAME_MAX];
    int n;
} keylist;

static int collect_key(const hollow_blob_key *k, void *p)
{
    keylist *l = p;
    ck_assert_int_lt(l->n, 256);
    l->k[l->n] = *k;
    HT_OK(hollow_blob_key_name(l->names[l->n], HOLLOW_BLOB_NAME_MAX, k));
    l->n++;
    return 0;
}

static void list_keys(keylist *l, hollow_blobstore *bs)
{
    l->n = 0;
    HT_OK(hollow_blobstore_list(bs, collect_key, l));
}

/* names in the directory: count of '.'-files and of the others */
static void count_entries(const char *dir, int *dot, int *plain)
{
    *dot = *plain = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (e->d_name[0] == '.')
            (*dot)++;
        else
            (*plain)++;
    }
    closedir(d);
}

/* ---------------------------------------------------------- names */

START_TEST(blobstore_fs_key_names_round_trip)
{
    struct {
        hollow_blob_key k;
        const char *name;
    } cases[] = {
        {hollow_blob_key_snapshot(20240101000000001), "snapshot-20240101000000001"},
        {hollow_blob_key_header(7), "header-7"},
        {hollow_blob_key_delta(1, 3), "delta-1-3"},
        {hollow_blob_key_reverse_delta(20240101000000003, 20240101000000001),
         "reversedelta-20240101000000003-20240101000000001"},
        {hollow_blob_key_snapshot(0), "snapshot-0"},
        {hollow_blob_key_delta(INT64_MAX - 1, INT64_MAX),
         "delta-9223372036854775806-9223372036854775807"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[HOLLOW_BLOB_NAME_MAX];
        HT_OK(hollow_blob_key_name(buf, sizeof buf, &cases[i].k));
        ck_assert_str_eq(buf, cases[i].name);
        hollow_blob_key k;
        HT_OK(hollow_blob_key_parse(&k, cases[i].name));
        ck_assert_int_eq(k.kind, cases[i].k.kind);
        ck_assert_int_eq(k.version, cases[i].k.version);
        ck_assert_int_eq(k.from_version, cases[i].k.from_version);
    }
    /* the reverse delta's first number is the newer version */
    hollow_blob_key k;
    HT_OK(hollow_blob_key_parse(&k, "reversedelta-5-4"));
    ck_assert_int_eq(k.kind, HOLLOW_BLOB_REVERSE_DELTA);
    ck_assert_int_eq(k.from_version, 5);
    ck_assert_int_eq(k.version, 4);

    const char *bad[] = {
        "snapshot-",        "snapshot-01",       "snapshot-1x",
        "snapshot--1",      "snapshot-+1",       "snapshot-1 ",
        "snapshot-1.tmp",   ".snapshot-1",       "snapshot_part-1",
        "Snapshot-1",       "snapshot1",         "delta-1",
        "delta-1-",         "delta--1-2",        "delta-1-2-3",
        "delta-1-02",       "deltas-1-2",        "xdelta-1-2",
        "reversedelta-1",   "header-1-2",        "announced.version",
        "announced.version.tmp", "manifest.json", "schema.hollow",
        "snapshot-9223372036854775808", "delta-99999999999999999999-1", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(hollow_blob_key_parse(&k, bad[i]) == HOLLOW_EPARSE,
                      "'%s' parsed as a blob name", bad[i]);
    }
    char small[8];
    hollow_blob_key d = hollow_blob_key_delta(1, 2);
    ck_assert_int_eq(hollow_blob_key_name(small, sizeof small, &d), HOLLOW_ERANGE);
    hollow_blob_key neg = hollow_blob_key_snapshot(-1);
    char buf[HOLLOW_BLOB_NAME_MAX];
    ck_assert_int_eq(hollow_blob_key_name(buf, sizeof buf, &neg), HOLLOW_EINVAL);
}
END_TEST

START_TEST(blobstore_fs_exact_name_matching)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    touch(dir, "delta-1-2", "one-two");
    touch(dir, "delta-12-13", "twelve");
    touch(dir, "delta-1-2x", "junk");
    touch(dir, "delta-01-2", "junk");
    touch(dir, "delta-1-", "junk");
    touch(dir, "delta-1-2-3", "junk");
    touch(dir, "reversedelta-12-1", "back");
    touch(dir, "reversedelta-1", "junk");
    touch(dir, "snapshot-1", "snap");
    touch(dir, "snapshot-1.tmp", "junk");
    touch(dir, "snapshot_part-1", "junk");
    touch(dir, ".snapshot-3", "hidden");
    touch(dir, ".delta-1-5.123.9.tmp", "ours, in flight");
    touch(dir, "snapshot-99999999999999999999", "overflow");
    touch(dir, "announced.version", "12");
    char sub[512];
    snprintf(sub, sizeof sub, "%s/snapshot-4", dir); /* a directory */
    ck_assert_int_eq(mkdir(sub, 0755), 0);

    hollow_blobstore *bs = open_store(dir);
    keylist l;
    list_keys(&l, bs);
    ck_assert_int_eq(l.n, 4);
    /* sorted by (version, kind, from) */
    ck_assert_str_eq(l.names[0], "snapshot-1");
    ck_assert_str_eq(l.names[1], "reversedelta-12-1");
    ck_assert_str_eq(l.names[2], "delta-1-2");
    ck_assert_str_eq(l.names[3], "delta-12-13");

    /* the deltas that start at version 1: exactly one */
    int from1 = 0;
    for (int i = 0; i < l.n; i++)
        if (l.k[i].kind == HOLLOW_BLOB_DELTA && l.k[i].from_version == 1) {
            from1++;
            ck_assert_int_eq(l.k[i].version, 2);
        }
    ck_assert_int_eq(from1, 1);

    size_t len;
    uint8_t *p = get_bytes(bs, hollow_blob_key_delta(1, 2), &len);
    assert_same(p, len, (const uint8_t *)"one-two", 7, "delta-1-2");
    free(p);
    hollow_stream *s = NULL;
    hollow_blob_key k = hollow_blob_key_delta(1, 13);
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k), HOLLOW_ENOTFOUND);
    ck_assert_ptr_null(s);
    k = hollow_blob_key_snapshot(4); /* the directory is not a blob */
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k), HOLLOW_ENOTFOUND);
    char path[4096];
    ck_assert_int_eq(hollow_blobstore_get_file(path, sizeof path, bs, &k),
                     HOLLOW_ENOTFOUND);
    k = hollow_blob_key_snapshot(3); /* only a '.'-file of that name */
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k), HOLLOW_ENOTFOUND);

    hollow_blobstore_free(bs);
    rmdir(sub);
    ht_remove_dir(dir);
}
END_TEST

/* ---------------------------------------------------------- put and get */

/* a stream that hands out a buffer in uneven chunks */
typedef struct chunky {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int closed;
} chunky;

static int chunky_read(size_t *n_out, void *buf, size_t cap, void *payload)
{
    chunky *c = payload;
    size_t n = c->len - c->pos;
    size_t want = 1 + (c->pos * 7919) % 10007; /* 1..10007 */
    if (n > want)
        n = want;
    if (n > cap)
        n = cap;
    memcpy(buf, c->p + c->pos, n);
    c->pos += n;
    *n_out = n;
    return 0;
}

static void chunky_close(void *payload) { ((chunky *)payload)->closed++; }

START_TEST(blobstore_fs_put_and_get_streams_and_files)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    hollow_blobstore *bs = open_store(dir);
    uint64_t seed = ht_seed("blobstore_fs_put_and_get_streams_and_files");
    size_t big_len = 3 * 1024 * 1024 + 17;
    uint8_t *big = pattern(big_len, seed);

    /* put from a custom stream: read to the end, not closed by put */
    chunky c = {big, big_len, 0, 0};
    hollow_stream *src = NULL;
    HT_OK(hollow_stream_new(&src, chunky_read, chunky_close, &c, -1));
    ck_assert_int_eq(hollow_stream_size(src), -1);
    hollow_blob_key snap = hollow_blob_key_snapshot(20240101000000001);
    HT_OK(hollow_blobstore_put(bs, &snap, src));
    ck_assert_int_eq(c.pos, big_len);
    ck_assert_int_eq(c.closed, 0);
    hollow_stream_close(src);
    ck_assert_int_eq(c.closed, 1);

    /* put from bytes and from a file */
    hollow_blob_key delta = hollow_blob_key_delta(20240101000000001, 20240101000000002);
    HT_OK(hollow_blobstore_put_bytes(bs, &delta, big, 1000));
    char srcpath[512];
    snprintf(srcpath, sizeof srcpath, "%s/.input", dir);
    ht_write_file(srcpath, big + 5, 70000);
    hollow_blob_key rev = hollow_blob_key_reverse_delta(20240101000000002, 20240101000000001);
    HT_OK(hollow_blobstore_put_file(bs, &rev, srcpath));
    hollow_blob_key hdr = hollow_blob_key_header(20240101000000002);
    HT_OK(hollow_blobstore_put_bytes(bs, &hdr, NULL, 0)); /* empty blob */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/.nope", dir);
    ck_assert_int_eq(hollow_blobstore_put_file(bs, &hdr, missing), HOLLOW_ENOTFOUND);

    /* the files are where Java would look, with the exact bytes */
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/snapshot-20240101000000001", dir);
    uint8_t *f = ht_read_file(path, &len);
    assert_same(f, len, big, big_len, "snapshot file");
    free(f);
    snprintf(path, sizeof path, "%s/reversedelta-20240101000000002-20240101000000001", dir);
    f = ht_read_file(path, &len);
    assert_same(f, len, big + 5, 70000, "reverse delta file");
    free(f);

    /* get as a stream (with its size) and as a file */
    hollow_stream *s = NULL;
    HT_OK(hollow_blobstore_get(&s, bs, &snap));
    ck_assert_int_eq(hollow_stream_size(s), (int64_t)big_len);
    uint8_t *got = drain_stream(s, &len);
    assert_same(got, len, big, big_len, "get snapshot");
    free(got);
    got = get_bytes(bs, delta, &len);
    assert_same(got, len, big, 1000, "get delta");
    free(got);
    got = get_bytes(bs, hdr, &len);
    ck_assert_int_eq(len, 0);
    free(got);

    HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &rev));
    char want[4096];
    snprintf(want, sizeof want, "%s/reversedelta-20240101000000002-20240101000000001", dir);
    ck_assert_str_eq(path, want);
    f = ht_read_file(path, &len);
    assert_same(f, len, big + 5, 70000, "get_file");
    free(f);
    char tiny[16];
    ck_assert_int_eq(hollow_blobstore_get_file(tiny, sizeof tiny, bs, &rev),
                     HOLLOW_ERANGE);

    /* sizes without reading */
    int64_t size = 0;
    HT_OK(hollow_blobstore_size(&size, bs, &snap));
    ck_assert_int_eq(size, (int64_t)big_len);
    HT_OK(hollow_blobstore_size(&size, bs, &rev));
    ck_assert_int_eq(size, 70000);
    HT_OK(hollow_blobstore_size(&size, bs, &hdr));
    ck_assert_int_eq(size, 0);
    hollow_blob_key absent = hollow_blob_key_snapshot(20240101000000009);
    ck_assert_int_eq(hollow_blobstore_size(&size, bs, &absent), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(size, -1);

    /* a stream stays readable after its blob is replaced or deleted */
    HT_OK(hollow_blobstore_get(&s, bs, &delta));
    HT_OK(hollow_blobstore_put_bytes(bs, &delta, big + 1, 999));
    got = get_bytes(bs, delta, &len);
    assert_same(got, len, big + 1, 999, "replaced delta");
    free(got);
    HT_OK(hollow_blobstore_delete(bs, &delta));
    got = drain_stream(s, &len);
    assert_same(got, len, big, 1000, "stream opened before replace");
    free(got);

    /* list, delete */
    keylist l;
    list_keys(&l, bs);
    ck_assert_int_eq(l.n, 3);
    ck_assert_str_eq(l.names[0], "snapshot-20240101000000001");
    ck_assert_str_eq(l.names[1], "reversedelta-20240101000000002-20240101000000001");
    ck_assert_str_eq(l.names[2], "header-20240101000000002");
    ck_assert_int_eq(hollow_blobstore_delete(bs, &delta), HOLLOW_ENOTFOUND);
    HT_OK(hollow_blobstore_delete(bs, &snap));
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &snap), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_blobstore_get_file(path, sizeof path, bs, &snap),
                     HOLLOW_ENOTFOUND);
    list_keys(&l, bs);
    ck_assert_int_eq(l.n, 2);

    /* no temporary file survives successful puts */
    unlink(srcpath);
    int dot, plain;
    count_entries(dir, &dot, &plain);
    ck_assert_int_eq(dot, 0);
    ck_assert_int_eq(plain, 2);

    /* bad arguments */
    hollow_blob_key bad = hollow_blob_key_delta(-5, 2);
    ck_assert_int_eq(hollow_blobstore_put_bytes(bs, &bad, "x", 1), HOLLOW_EINVAL);
    bad.kind = (hollow_blob_kind)9;
    bad.from_version = 1;
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &bad), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_blobstore_put(bs, &hdr, NULL), HOLLOW_EINVAL);

    hollow_blobstore_free(bs);
    free(big);
    ht_remove_dir(dir);
}
END_TEST

START_TEST(blobstore_fs_opening_directories)
{
    char dir[256], nested[512];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    snprintf(nested, sizeof nested, "%s/a/b/c", dir);
    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    hollow_blobstore *bs = (hollow_blobstore *)&o; /* must be reset */
    o.dir = nested;
    ck_assert_int_eq(hollow_blobstore_fs_new(&bs, &o), HOLLOW_ENOTFOUND);
    ck_assert_ptr_null(bs);
    o.create_dir = true;
    HT_OK(hollow_blobstore_fs_new(&bs, &o));
    hollow_blob_key k = hollow_blob_key_snapshot(1);
    HT_OK(hollow_blobstore_put_bytes(bs, &k, "abc", 3));
    hollow_blobstore_free(bs);
    ck_assert_int_eq(hollow_blobstore_fs_new(&bs, NULL), HOLLOW_EINVAL);
    o.dir = NULL;
    ck_assert_int_eq(hollow_blobstore_fs_new(&bs, &o), HOLLOW_EINVAL);

    /* a relative directory gives absolute paths from get_file */
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    o.dir = "a/b/c/";
    o.create_dir = false;
    HT_OK(hollow_blobstore_fs_new(&bs, &o));
    ck_assert_int_eq(chdir(cwd), 0);
    char path[4096], want[4096];
    HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &k));
    snprintf(want, sizeof want, "%s/snapshot-1", nested);
    ck_assert_str_eq(path, want);
    size_t len;
    uint8_t *got = get_bytes(bs, k, &len); /* after chdir: still works */
    assert_same(got, len, (const uint8_t *)"abc", 3, "relative store");
    free(got);
    hollow_blobstore_free(bs);
    hollow_blobstore_free(NULL);

    snprintf(path, sizeof path, "%s/snapshot-1", nested);
    unlink(path);
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/a/b", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/a", dir);
    rmdir(path);
    ht_remove_dir(dir);
}
END_TEST

/* ---------------------------------------------------------- failures */

/* the write-fault hook: fail every write at or beyond `at` with `err` */
typedef struct fault {
    size_t at;
    int err;
    int calls;
} fault;

static int fault_hook(void *ctx, size_t offset)
{
    fault *f = ctx;
    f->calls++;
    return offset >= f->at ? f->err : 0;
}

static void check_failed_put(const char *dir, int err)
{
    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    o.dir = dir;
    fault f = {300000, err, 0};
    o.write_fault = fault_hook;
    o.write_fault_ctx = &f;
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_fs_new(&bs, &o));

    /* an older blob under the key, then a failing replacement */
    hollow_blob_key k = hollow_blob_key_snapshot(42);
    HT_OK(hollow_blobstore_put_bytes(bs, &k, "old", 3));
    size_t len = 1 << 20;
    uint8_t *p = pattern(len, 42);
    ck_assert_int_eq(hollow_blobstore_put_bytes(bs, &k, p, len), HOLLOW_EIO);
    const hollow_error *e = hollow_error_last();
    ck_assert_int_eq(e->code, HOLLOW_EIO);
    ck_assert_int_eq(e->os_errno, err);
    ck_assert_msg(strstr(e->message, dir) != NULL && strstr(e->message, strerror(err)),
                  "message lacks the path or the cause: %s", e->message);
    ck_assert_int_gt(f.calls, 1); /* it failed mid-blob, not at the start */

    /* the old blob is intact and nothing else is left */
    uint8_t *got = get_bytes(bs, k, &len);
    assert_same(got, len, (const uint8_t *)"old", 3, "blob after a failed put");
    free(got);
    hollow_blob_key k2 = hollow_blob_key_snapshot(43);
    ck_assert_int_eq(hollow_blobstore_put_bytes(bs, &k2, p, 1 << 20), HOLLOW_EIO);
    hollow_stream *s = NULL;
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k2), HOLLOW_ENOTFOUND);
    int dot, plain;
    count_entries(dir, &dot, &plain);
    ck_assert_int_eq(dot, 0);
    ck_assert_int_eq(plain, 1);
    free(p);
    hollow_blobstore_free(bs);
}

START_TEST(blobstore_fs_write_fault_no_space)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    check_failed_put(dir, ENOSPC);
    ht_remove_dir(dir);
}
END_TEST

START_TEST(blobstore_fs_write_fault_read_only_filesystem)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    check_failed_put(dir, EROFS);
    ht_remove_dir(dir);
}
END_TEST

/* a stream that fails after 100000 bytes with HOLLOW_EUSER */
static int failing_read(size_t *n_out, void *buf, size_t cap, void *payload)
{
    size_t *pos = payload;
    if (*pos >= 100000) {
        *n_out = 0;
        return HOLLOW_EUSER;
    }
    if (cap > 30000)
        cap = 30000;
    memset(buf, 1, cap);
    *pos += cap;
    *n_out = cap;
    return 0;
}

START_TEST(blobstore_fs_failing_stream_stores_nothing)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    hollow_blobstore *bs = open_store(dir);
    size_t pos = 0;
    hollow_stream *src = NULL;
    HT_OK(hollow_stream_new(&src, failing_read, NULL, &pos, -1));
    hollow_blob_key k = hollow_blob_key_header(5);
    ck_assert_int_eq(hollow_blobstore_put(bs, &k, src), HOLLOW_EUSER);
    hollow_stream_close(src);
    int dot, plain;
    count_entries(dir, &dot, &plain);
    ck_assert_int_eq(dot + plain, 0);
    hollow_blobstore_free(bs);

    /* the same through the memory store */
    HT_OK(hollow_blobstore_memory_new(&bs, NULL));
    pos = 0;
    HT_OK(hollow_stream_new(&src, failing_read, NULL, &pos, -1));
    ck_assert_int_eq(hollow_blobstore_put(bs, &k, src), HOLLOW_EUSER);
    hollow_stream_close(src);
    hollow_stream *s = NULL;
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k), HOLLOW_ENOTFOUND);
    hollow_blobstore_free(bs);
    ht_remove_dir(dir);
}
END_TEST

/*
 * A full disk for real: a child limited by RLIMIT_FSIZE (SIGXFSZ ignored,
 * so write(2) fails with EFBIG) puts 1 MiB. Exit codes say what failed.
 */
START_TEST(blobstore_fs_full_disk_rlimit_fsize)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {64 * 1024, 64 * 1024};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(10);
        hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
        o.dir = dir;
        hollow_blobstore *bs = NULL;
        if (hollow_blobstore_fs_new(&bs, &o) != 0)
            _exit(11);
        hollow_blob_key k = hollow_blob_key_snapshot(7);
        if (hollow_blobstore_put_bytes(bs, &k, "small", 5) != 0)
            _exit(12); /* under the limit: fine */
        static uint8_t big[1 << 20];
        int rc = hollow_blobstore_put_bytes(bs, &k, big, sizeof big);
        if (rc != HOLLOW_EIO)
            _exit(13);
        if (hollow_error_last()->os_errno != EFBIG)
            _exit(14);
        hollow_blob_key k2 = hollow_blob_key_delta(7, 8);
        if (hollow_blobstore_put_bytes(bs, &k2, big, sizeof big) != HOLLOW_EIO)
            _exit(15);
        hollow_blobstore_free(bs);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child failed: status %d", status);
    hollow_blobstore *bs = open_store(dir);
    keylist l;
    list_keys(&l, bs);
    ck_assert_int_eq(l.n, 1);
    ck_assert_str_eq(l.names[0], "snapshot-7");
    size_t len;
    uint8_t *got = get_bytes(bs, hollow_blob_key_snapshot(7), &len);
    assert_same(got, len, (const uint8_t *)"small", 5, "blob before the full disk");
    free(got);
    int dot, plain;
    count_entries(dir, &dot, &plain);
    ck_assert_int_eq(dot, 0); /* the failed temporary files were removed */
    ck_assert_int_eq(plain, 1);
    hollow_blobstore_free(bs);
    ht_remove_dir(dir);
}
END_TEST

/*
 * A read-only directory for real. Root ignores permission bits, so the
 * writer is a child that drops to user and group 65534 (nobody) first;
 * a non-root run needs no drop.
 */
START_TEST(blobstore_fs_read_only_directory)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    touch(dir, "snapshot-1", "one");
    ck_assert_int_eq(chmod(dir, 0555), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/snapshot-1", dir);
    ck_assert_int_eq(chmod(path, 0444), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(10);
        if (geteuid() == 0)
            _exit(11);
        hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
        o.dir = dir;
        hollow_blobstore *bs = NULL;
        if (hollow_blobstore_fs_new(&bs, &o) != 0)
            _exit(12); /* reading a read-only directory is fine */
        hollow_blob_key k = hollow_blob_key_snapshot(2);
        if (hollow_blobstore_put_bytes(bs, &k, "two", 3) != HOLLOW_EIO)
            _exit(13);
        if (hollow_error_last()->os_errno != EACCES)
            _exit(14);
        if (strstr(hollow_error_last()->message, dir) == NULL)
            _exit(15);
        hollow_blob_key one = hollow_blob_key_snapshot(1);
        if (hollow_blobstore_delete(bs, &one) != HOLLOW_EIO)
            _exit(16);
        hollow_stream *s = NULL;
        if (hollow_blobstore_get(&s, bs, &one) != 0)
            _exit(17);
        hollow_stream_close(s);
        hollow_blobstore_free(bs);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child failed: status %d", status);
    int dot, plain;
    count_entries(dir, &dot, &plain);
    ck_assert_int_eq(dot, 0);
    ck_assert_int_eq(plain, 1);
    ht_remove_dir(dir);
}
END_TEST

/*
 * A writer killed mid-write. The child puts a blob from a stream that,
 * once 512 KiB are written, tells the parent through a pipe and then
 * trickles forever; the parent kills it with SIGKILL. The blob must not
 * exist; only the child's '.' temporary file may remain, and it holds the
 * bytes written so far (proof that the kill came mid-write). Opening the
 * store again removes it (its writer is gone).
 */
typedef struct trickle {
    size_t produced;
    int signal_fd;
} trickle;

static int trickle_read(size_t *n_out, void *buf, size_t cap, void *payload)
{
    trickle *t = payload;
    if (t->produced >= 512 * 1024) {
        if (t->signal_fd >= 0) {
            char c = 'w';
            if (write(t->signal_fd, &c, 1) != 1)
                _exit(20);
            close(t->signal_fd);
            t->signal_fd = -1;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (cap > 4096)
            cap = 4096;
    } else if (cap > 64 * 1024) {
        cap = 64 * 1024;
    }
    memset(buf, 0xAB, cap);
    t->produced += cap;
    *n_out = cap;
    return 0;
}

START_TEST(blobstore_fs_killed_writer_leaves_no_blob)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfs");
    int sig[2];
    ck_assert_int_eq(pipe(sig), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sig[0]);
        hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
        o.dir = dir;
        hollow_blobstore *bs = NULL;
        if (hollow_blobstore_fs_new(&bs, &o) != 0)
            _exit(10);
        trickle t = {0, sig[1]};
        hollow_stream *s = NULL;
        if (hollow_stream_new(&s, trickle_read, NULL, &t, -1) != 0)
            _exit(11);
        hollow_blob_key k = hollow_blob_key_snapshot(20240101000000009);
        hollow_blobstore_put(bs, &k, s);
        _exit(12); /* never reached: the stream does not end */
    }
    close(sig[1]);
    char c;
    ck_assert_int_eq(read(sig[0], &c, 1), 1);
    close(sig[0]);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    int dot, plain;
    count_entries(dir, &dot, &plain);
    ck_assert_int_eq(plain, 0);
    ck_assert_int_eq(dot, 1);
    char path[4096];
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
            strcmp(e->d_name, "..") == 0)
            continue;
        ck_assert_msg(strncmp(e->d_name, ".snapshot-20240101000000009.", 28) == 0,
                      "unexpected temporary name %s", e->d_name);
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_ge(st.st_size, 512 * 1024);
    }
    closedir(d);

    /* opening the store removes the dead writer's temporary file */
    hollow_blobstore *bs = open_store(dir);
    count_entries(dir, &dot, &plain);
    ck_assert_int_eq(dot, 0);
    keylist l;
    list_keys(&l, bs);
    ck_assert_int_eq(l.n, 0);
    hollow_blob_key k = hollow_blob_key_snapshot(20240101000000009);
    hollow_stream *s = NULL;
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_blobstore_get_file(path, sizeof path, bs, &k),
                     HOLLOW_ENOTFOUND);

    /* the next writer succeeds */
    HT_OK(hollow_blobstore_put_bytes(bs, &k, "whole", 5));
    list_keys(&l, bs);
    ck_assert_int_eq(l.n, 1);
    hollow_blobstore_free(bs);
    ht_remove_dir(dir);
}
END_TEST

/* ---------------------------------------------------------- golden */

typedef struct vlist {
    int64_t v[256];
    int n;
} vlist;

static int collect_version(int64_t v, void *p)
{
    vlist *l = p;
    ck_assert_int_lt(l->n, 256);
    l->v[l->n++] = v;
    return 0;
}

static int stop_at_two(const hollow_blob_key *k, void *p)
{
    (void)k;
    return ++*(int *)p == 2 ? 77 : 0;
}

static void check_scenario(const char *dir)
{
    /* the names an independent matcher accepts */
    regex_t re;
    ck_assert_int_eq(regcomp(&re,
                             "^((snapshot|header)-[1-9][0-9]*|"
                             "(delta|reversedelta)-[1-9][0-9]*-[1-9][0-9]*)$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    int files = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (regexec(&re, e->d_name, 0, NULL, 0) == 0)
            files++;
    closedir(d);
    regfree(&re);
    ck_assert_int_gt(files, 3);

    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    o.dir = dir;
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_fs_new(&bs, &o));
    keylist l;
    list_keys(&l, bs);
    ck_assert_msg(l.n == files, "%s: listed %d blobs, directory has %d", dir,
                  l.n, files);
    for (int i = 0; i < l.n; i++) {
        char path[4096], want[4096];
        snprintf(want, sizeof want, "%s/%s", dir, l.names[i]);
        size_t flen, glen;
        uint8_t *file = ht_read_file(want, &flen);
        uint8_t *got = get_bytes(bs, l.k[i], &glen);
        assert_same(got, glen, file, flen, l.names[i]);
        HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &l.k[i]));
        ck_assert_str_eq(path, want);
        free(file);
        free(got);
    }

    /* versions and snapshots are those of the manifest */
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    json_error_t err;
    json_t *m = json_load_file(mpath, 0, &err);
    ck_assert_msg(m != NULL, "%s: %s", mpath, err.text);
    json_t *versions = json_object_get(m, "versions");
    vlist vl = {{0}, 0};
    HT_OK(hollow_blobstore_list_versions(bs, collect_version, &vl));
    ck_assert_int_eq((size_t)vl.n, json_array_size(versions));
    for (int i = 0; i < vl.n; i++)
        ck_assert_int_eq(vl.v[i], json_integer_value(json_array_get(versions, i)));
    json_t *snaps = json_object_get(m, "snapshotVersions");
    size_t nsnap = 0;
    for (int i = 0; i < l.n; i++) {
        if (l.k[i].kind != HOLLOW_BLOB_SNAPSHOT)
            continue;
        ck_assert_int_lt(nsnap, json_array_size(snaps));
        ck_assert_int_eq(l.k[i].version,
                         json_integer_value(json_array_get(snaps, nsnap)));
        nsnap++;
    }
    ck_assert_int_eq(nsnap, json_array_size(snaps));
    /* every published version after the first has a delta and a reverse delta */
    for (size_t i = 1; i < json_array_size(versions); i++) {
        int64_t a = json_integer_value(json_array_get(versions, i - 1));
        int64_t b = json_integer_value(json_array_get(versions, i));
        hollow_blob_key dk = hollow_blob_key_delta(a, b);
        hollow_blob_key rk = hollow_blob_key_reverse_delta(b, a);
        char path[4096];
        HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &dk));
        HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &rk));
    }
    json_decref(m);

    /* a callback's non-zero return stops the listing and comes back */
    int calls = 0;
    ck_assert_int_eq(hollow_blobstore_list(bs, stop_at_two, &calls), 77);
    ck_assert_int_eq(calls, 2);
    hollow_blobstore_free(bs);
}

START_TEST(blobstore_fs_reads_java_scenario_directories)
{
    DIR *d = opendir(HOLLOW_GOLDEN_DIR);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int scenarios = 0;
    while ((e = readdir(d)) != NULL) {
        char dir[4096], manifest[4200];
        snprintf(dir, sizeof dir, "%s/%s", HOLLOW_GOLDEN_DIR, e->d_name);
        snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
        if (e->d_name[0] == '.' || access(manifest, R_OK) != 0)
            continue;
        check_scenario(dir);
        scenarios++;
    }
    closedir(d);
    ck_assert_int_ge(scenarios, 7);
}
END_TEST

static Suite *blobstore_fs_suite(void)
{
    Suite *s = suite_create("blobstore_fs");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, blobstore_fs_key_names_round_trip);
    tcase_add_test(tc, blobstore_fs_exact_name_matching);
    suite_add_tcase(s, tc);

    tc = tcase_create("io");
    tcase_add_test(tc, blobstore_fs_put_and_get_streams_and_files);
    tcase_add_test(tc, blobstore_fs_opening_directories);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_add_test(tc, blobstore_fs_write_fault_no_space);
    tcase_add_test(tc, blobstore_fs_write_fault_read_only_filesystem);
    tcase_add_test(tc, blobstore_fs_failing_stream_stores_nothing);
    tcase_add_test(tc, blobstore_fs_full_disk_rlimit_fsize);
    tcase_add_test(tc, blobstore_fs_read_only_directory);
    tcase_add_test(tc, blobstore_fs_killed_writer_leaves_no_blob);
    suite_add_tcase(s, tc);

    tc = tcase_create("golden");
    tcase_add_test(tc, blobstore_fs_reads_java_scenario_directories);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(blobstore_fs_suite()); }
