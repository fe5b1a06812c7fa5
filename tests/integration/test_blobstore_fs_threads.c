/*
 * The filesystem blob store under concurrency (src/blobstore/fs.c):
 * several threads replace the same few blobs while others read them. Each
 * put renames a complete temporary file over the name, so every read must
 * see one whole blob of some generation, never a torn or empty one, and
 * no temporary file may be left behind. Run under ThreadSanitizer by
 * `make test`.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hollow/blobstore.h"
#include "testhelp.h"

#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

#define KEYS 4
#define WRITERS 3
#define READERS 3
#define ROUNDS 40
#define MIN_READS 200

typedef struct shared {
    hollow_blobstore *bs;
    atomic_int stop;
    atomic_long reads;
} shared;

typedef struct arg {
    shared *sh;
    int id;
} arg;

/* a blob: {key, writer, generation, length} then a pattern of them */
static size_t blob_len(int key, int writer, int gen)
{
    return 16 + (size_t)((key * 7919 + writer * 104729 + gen * 31) % 60000);
}

static void fill(uint8_t *p, int key, int writer, int gen, size_t len)
{
    uint32_t hdr[4] = {(uint32_t)key, (uint32_t)writer, (uint32_t)gen,
                       (uint32_t)len};
    memcpy(p, hdr, sizeof hdr);
    for (size_t i = 16; i < len; i++)
        p[i] = (uint8_t)(key + writer * 3 + gen * 5 + i);
}

static void verify(const uint8_t *p, size_t len, int key)
{
    REQUIRE(len >= 16, "key %d: %zu bytes", key, len);
    uint32_t h[4];
    memcpy(h, p, sizeof h);
    REQUIRE(h[0] == (uint32_t)key && h[3] == len &&
                len == blob_len(key, (int)h[1], (int)h[2]),
            "key %d: torn blob of %zu bytes", key, len);
    for (size_t i = 16; i < len; i++)
        REQUIRE(p[i] == (uint8_t)(key + h[1] * 3 + h[2] * 5 + i),
                "key %d: byte %zu wrong", key, i);
}

static void *writer(void *p)
{
    arg *a = p;
    uint8_t *buf = malloc(16 + 60000);
    /* at least ROUNDS puts, and on until the readers got MIN_READS blobs
     * (bounded by time), so that reads really overlap with writes */
    time_t end = time(NULL) + 20;
    for (int gen = 0;
         gen < ROUNDS ||
         (atomic_load(&a->sh->reads) < MIN_READS && time(NULL) < end);
         gen++) {
        int key = (gen + a->id) % KEYS;
        size_t len = blob_len(key, a->id, gen);
        fill(buf, key, a->id, gen, len);
        hollow_blob_key k = hollow_blob_key_delta(key, key + 1);
        int rc = hollow_blobstore_put_bytes(a->sh->bs, &k, buf, len);
        REQUIRE(rc == 0, "put: %s", hollow_error_last()->message);
    }
    free(buf);
    return NULL;
}

static void *reader(void *p)
{
    arg *a = p;
    uint8_t *buf = malloc(16 + 60000 + 1);
    int key = 0;
    while (!atomic_load(&a->sh->stop)) {
        key = (key + 1) % KEYS;
        hollow_blob_key k = hollow_blob_key_delta(key, key + 1);
        hollow_stream *s = NULL;
        int rc = hollow_blobstore_get(&s, a->sh->bs, &k);
        if (rc == HOLLOW_ENOTFOUND)
            continue;
        REQUIRE(rc == 0, "get: %s", hollow_error_last()->message);
        size_t len = 0, got;
        do {
            REQUIRE(len <= 16 + 60000, "blob too long");
            HT_OK(hollow_stream_read(&got, s, buf + len, 16 + 60000 + 1 - len));
            len += got;
        } while (got > 0);
        hollow_stream_close(s);
        verify(buf, len, key);
        atomic_fetch_add(&a->sh->reads, 1);
    }
    free(buf);
    return NULL;
}

START_TEST(blobstore_fs_concurrent_replace_and_read)
{
    char dir[256];
    ht_tmpdir(dir, sizeof dir, "hollow-bsfst");
    shared sh;
    memset(&sh, 0, sizeof sh);
    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    o.dir = dir;
    o.fsync = false; /* atomicity comes from the rename; keep the test fast */
    HT_OK(hollow_blobstore_fs_new(&sh.bs, &o));
    pthread_t w[WRITERS], r[READERS];
    arg wa[WRITERS], ra[READERS];
    for (int i = 0; i < READERS; i++) {
        ra[i] = (arg){&sh, i};
        ck_assert_int_eq(pthread_create(&r[i], NULL, reader, &ra[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (arg){&sh, i};
        ck_assert_int_eq(pthread_create(&w[i], NULL, writer, &wa[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&sh.stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    long reads = atomic_load(&sh.reads);
    ck_assert_int_ge(reads, MIN_READS);

    /* every key holds a whole blob; only the four blob files remain */
    int files = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        ck_assert_msg(e->d_name[0] != '.', "left behind: %s", e->d_name);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *p = ht_read_file(path, &len);
        hollow_blob_key k;
        HT_OK(hollow_blob_key_parse(&k, e->d_name));
        verify(p, len, (int)k.from_version);
        free(p);
        unlink(path);
        files++;
    }
    closedir(d);
    ck_assert_int_eq(files, KEYS);
    rmdir(dir);
    hollow_blobstore_free(sh.bs);
}
END_TEST

static Suite *blobstore_fs_threads_suite(void)
{
    Suite *s = suite_create("blobstore_fs_threads");
    TCase *tc = tcase_create("threads");
    tcase_add_test(tc, blobstore_fs_concurrent_replace_and_read);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(blobstore_fs_threads_suite()); }
