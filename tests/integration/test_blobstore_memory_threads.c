/*
 * The in-memory blob store (src/blobstore/memory.c): put, get, list,
 * delete and replace on one thread, then writers, deleters and readers on
 * many threads at once. Every blob carries its own key and generation in
 * its bytes, so a reader can tell a torn, mixed-up or stale-but-wrong blob
 * from a good one. Run under ThreadSanitizer by `make test`. Also the
 * generic hollow_blobstore_size() over a backend of one's own without a
 * `size` entry.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hollow/blobstore.h"
#include "hollow/sys/blobstore.h"
#include "testhelp.h"

#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

static uint8_t *read_all(hollow_stream *s, size_t *len)
{
    size_t cap = 1024, n = 0;
    uint8_t *p = malloc(cap);
    for (;;) {
        if (n == cap)
            p = realloc(p, cap *= 2);
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

static int count_cb(const hollow_blob_key *k, void *p)
{
    (void)k;
    (*(int *)p)++;
    return 0;
}

START_TEST(blobstore_memory_put_get_list_delete)
{
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_memory_new(&bs, NULL));
    hollow_blob_key snap = hollow_blob_key_snapshot(3);
    hollow_blob_key delta = hollow_blob_key_delta(3, 4);
    hollow_blob_key rev = hollow_blob_key_reverse_delta(4, 3);
    HT_OK(hollow_blobstore_put_bytes(bs, &snap, "snapshot", 8));
    HT_OK(hollow_blobstore_put_bytes(bs, &delta, "delta", 5));
    HT_OK(hollow_blobstore_put_bytes(bs, &rev, "reverse", 7));
    /* snapshot keys ignore from_version */
    hollow_blob_key odd = snap;
    odd.from_version = 99;
    hollow_stream *s = NULL;
    HT_OK(hollow_blobstore_get(&s, bs, &odd));
    ck_assert_int_eq(hollow_stream_size(s), 8);
    size_t len;
    uint8_t *p = read_all(s, &len);
    ck_assert_int_eq(len, 8);
    ck_assert(memcmp(p, "snapshot", 8) == 0);
    free(p);

    /* a stream outlives the replacement and the deletion of its blob */
    HT_OK(hollow_blobstore_get(&s, bs, &delta));
    HT_OK(hollow_blobstore_put_bytes(bs, &delta, "delta-2", 7));
    HT_OK(hollow_blobstore_delete(bs, &delta));
    p = read_all(s, &len);
    ck_assert_int_eq(len, 5);
    ck_assert(memcmp(p, "delta", 5) == 0);
    free(p);
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &delta), HOLLOW_ENOTFOUND);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(hollow_blobstore_delete(bs, &delta), HOLLOW_ENOTFOUND);

    char path[256];
    ck_assert_int_eq(hollow_blobstore_get_file(path, sizeof path, bs, &snap),
                     HOLLOW_ENOTSUPPORTED);
    int n = 0;
    HT_OK(hollow_blobstore_list(bs, count_cb, &n));
    ck_assert_int_eq(n, 2);

    /* put_file copies the file's bytes */
    char tmpl[] = "/tmp/hollow-bsmem-XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "from a file", 11), 11);
    close(fd);
    hollow_blob_key hdr = hollow_blob_key_header(4);
    HT_OK(hollow_blobstore_put_file(bs, &hdr, tmpl));
    unlink(tmpl);
    HT_OK(hollow_blobstore_get(&s, bs, &hdr));
    p = read_all(s, &len);
    ck_assert_int_eq(len, 11);
    ck_assert(memcmp(p, "from a file", 11) == 0);
    free(p);

    int64_t size = 0;
    HT_OK(hollow_blobstore_size(&size, bs, &snap));
    ck_assert_int_eq(size, 8);
    HT_OK(hollow_blobstore_size(&size, bs, &hdr));
    ck_assert_int_eq(size, 11);
    ck_assert_int_eq(hollow_blobstore_size(&size, bs, &delta), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_blobstore_size(NULL, bs, &snap), HOLLOW_EINVAL);

    hollow_blobstore_memory_options bad = {99};
    hollow_blobstore *bs2 = NULL;
    ck_assert_int_eq(hollow_blobstore_memory_new(&bs2, &bad), HOLLOW_EINVAL);
    hollow_blobstore_free(bs);
}
END_TEST

/* ---------------------------------------------------------- threads */

#define KEYS 64
#define WRITERS 3
#define READERS 3
#define ROUNDS 300
#define MIN_READS 2000

typedef struct shared {
    hollow_blobstore *bs;
    atomic_int stop;
    atomic_long reads_ok;
    atomic_long reads_missing;
    uint64_t seed;
} shared;

/* blob bytes: key index, generation, length, then a pattern of all three */
static size_t blob_len(int key, uint32_t gen)
{
    return 16 + (size_t)((key * 131 + gen * 17) % 5000);
}

static void fill(uint8_t *p, int key, uint32_t gen, size_t len)
{
    uint32_t hdr[4] = {(uint32_t)key, gen, (uint32_t)len, 0xC0FFEEu};
    memcpy(p, hdr, sizeof hdr);
    for (size_t i = 16; i < len; i++)
        p[i] = (uint8_t)(key * 7 + gen * 13 + i);
}

static void verify(const uint8_t *p, size_t len, int key)
{
    REQUIRE(len >= 16, "blob of key %d has %zu bytes", key, len);
    uint32_t hdr[4];
    memcpy(hdr, p, sizeof hdr);
    REQUIRE(hdr[0] == (uint32_t)key, "key %d holds the blob of key %u", key,
            hdr[0]);
    REQUIRE(hdr[2] == len && hdr[3] == 0xC0FFEEu && len == blob_len(key, hdr[1]),
            "key %d: torn blob (len %zu, header %u)", key, len, hdr[2]);
    for (size_t i = 16; i < len; i++)
        REQUIRE(p[i] == (uint8_t)(key * 7 + hdr[1] * 13 + i),
                "key %d gen %u: byte %zu wrong", key, hdr[1], i);
}

static hollow_blob_key key_of(int i)
{
    switch (i % 4) {
    case 0:
        return hollow_blob_key_snapshot(i);
    case 1:
        return hollow_blob_key_delta(i - 1, i);
    case 2:
        return hollow_blob_key_reverse_delta(i, i - 1);
    default:
        return hollow_blob_key_header(i);
    }
}

typedef struct worker_arg {
    shared *sh;
    int id;
} worker_arg;

static void *writer(void *p)
{
    worker_arg *a = p;
    uint8_t *buf = malloc(16 + 5000);
    uint64_t rng = a->sh->seed + (uint64_t)a->id;
    /* at least ROUNDS puts, and on until the readers got MIN_READS blobs
     * (bounded by time), so that reads really overlap with writes */
    time_t end = time(NULL) + 20;
    for (uint32_t gen = 1;
         gen <= ROUNDS ||
         (atomic_load(&a->sh->reads_ok) < MIN_READS && time(NULL) < end);
         gen++) {
        int key = (int)(ht_rand(&rng) % KEYS);
        size_t len = blob_len(key, gen);
        fill(buf, key, gen, len);
        hollow_blob_key k = key_of(key);
        int rc = hollow_blobstore_put_bytes(a->sh->bs, &k, buf, len);
        REQUIRE(rc == 0, "put: %s", hollow_error_last()->message);
        if (gen % 10 == 0) { /* and delete one now and then */
            hollow_blob_key d = key_of((int)(ht_rand(&rng) % KEYS));
            rc = hollow_blobstore_delete(a->sh->bs, &d);
            REQUIRE(rc == 0 || rc == HOLLOW_ENOTFOUND, "delete: %d", rc);
        }
    }
    free(buf);
    return NULL;
}

static int verify_listed(const hollow_blob_key *k, void *p)
{
    (void)p;
    REQUIRE(k->version >= 0 && k->version < KEYS, "listed a foreign key");
    return 0;
}

static void *reader(void *p)
{
    worker_arg *a = p;
    uint64_t rng = a->sh->seed * 31 + (uint64_t)a->id;
    while (!atomic_load(&a->sh->stop)) {
        int key = (int)(ht_rand(&rng) % KEYS);
        hollow_blob_key k = key_of(key);
        hollow_stream *s = NULL;
        int rc = hollow_blobstore_get(&s, a->sh->bs, &k);
        if (rc == HOLLOW_ENOTFOUND) {
            atomic_fetch_add(&a->sh->reads_missing, 1);
            continue;
        }
        REQUIRE(rc == 0, "get: %s", hollow_error_last()->message);
        size_t len;
        uint8_t *bytes = read_all(s, &len);
        verify(bytes, len, key);
        free(bytes);
        atomic_fetch_add(&a->sh->reads_ok, 1);
        if (key == 0)
            HT_OK(hollow_blobstore_list(a->sh->bs, verify_listed, NULL));
    }
    return NULL;
}

/*
 * A backend of one's own (hollow/sys/blobstore.h) over a memory store,
 * without a `size` entry and with streams that do not know their size:
 * hollow_blobstore_size() opens the blob and counts its bytes.
 */
typedef struct wrap_store {
    hollow_blobstore parent; /* first */
    hollow_blobstore *inner;
    int gets;
} wrap_store;

typedef struct unsized {
    hollow_stream *inner;
} unsized;

static int unsized_read(size_t *n_out, void *buf, size_t cap, void *payload)
{
    return hollow_stream_read(n_out, ((unsized *)payload)->inner, buf, cap);
}

static void unsized_close(void *payload)
{
    hollow_stream_close(((unsized *)payload)->inner);
    free(payload);
}

static int wrap_put(hollow_blobstore *bs, const hollow_blob_key *k,
                    hollow_stream *src)
{
    return hollow_blobstore_put(((wrap_store *)bs)->inner, k, src);
}

static int wrap_get(hollow_stream **out, hollow_blobstore *bs,
                    const hollow_blob_key *k)
{
    wrap_store *w = (wrap_store *)bs;
    w->gets++;
    unsized *u = calloc(1, sizeof *u);
    int rc = hollow_blobstore_get(&u->inner, w->inner, k);
    if (rc == 0 && (rc = hollow_stream_new(out, unsized_read, unsized_close,
                                           u, -1)) == 0)
        return 0;
    hollow_stream_close(u->inner);
    free(u);
    return rc;
}

static int wrap_list(hollow_blobstore *bs, hollow_blob_key_cb cb, void *p)
{
    return hollow_blobstore_list(((wrap_store *)bs)->inner, cb, p);
}

static int wrap_remove(hollow_blobstore *bs, const hollow_blob_key *k)
{
    return hollow_blobstore_delete(((wrap_store *)bs)->inner, k);
}

START_TEST(blobstore_size_without_backend_entry)
{
    wrap_store w;
    memset(&w, 0, sizeof w);
    HT_OK(hollow_blobstore_memory_new(&w.inner, NULL));
    w.parent.version = HOLLOW_BLOBSTORE_VERSION;
    w.parent.put = wrap_put;
    w.parent.get = wrap_get;
    w.parent.list = wrap_list;
    w.parent.remove = wrap_remove;
    hollow_blobstore *bs = &w.parent;
    size_t len = 100000 + 3;
    uint8_t *big = calloc(1, len);
    hollow_blob_key snap = hollow_blob_key_snapshot(7);
    HT_OK(hollow_blobstore_put_bytes(bs, &snap, big, len));
    int64_t size = 0;
    HT_OK(hollow_blobstore_size(&size, bs, &snap));
    ck_assert_int_eq(size, (int64_t)len);
    ck_assert_int_eq(w.gets, 1); /* it had to read the blob */
    hollow_blob_key none = hollow_blob_key_delta(7, 8);
    ck_assert_int_eq(hollow_blobstore_size(&size, bs, &none), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(size, -1);
    free(big);
    hollow_blobstore_free(w.inner);
}
END_TEST

START_TEST(blobstore_memory_concurrent_puts_and_gets)
{
    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.seed = ht_seed("blobstore_memory_concurrent_puts_and_gets");
    HT_OK(hollow_blobstore_memory_new(&sh.bs, NULL));
    pthread_t w[WRITERS], r[READERS];
    worker_arg wa[WRITERS], ra[READERS];
    for (int i = 0; i < READERS; i++) {
        ra[i] = (worker_arg){&sh, i};
        ck_assert_int_eq(pthread_create(&r[i], NULL, reader, &ra[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (worker_arg){&sh, 100 + i};
        ck_assert_int_eq(pthread_create(&w[i], NULL, writer, &wa[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&sh.stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    long reads = atomic_load(&sh.reads_ok);
    ck_assert_int_ge(reads, MIN_READS);

    /* afterwards every stored blob is whole */
    int present = 0;
    for (int key = 0; key < KEYS; key++) {
        hollow_blob_key k = key_of(key);
        hollow_stream *s = NULL;
        int rc = hollow_blobstore_get(&s, sh.bs, &k);
        if (rc == HOLLOW_ENOTFOUND)
            continue;
        HT_OK(rc);
        size_t len;
        uint8_t *bytes = read_all(s, &len);
        verify(bytes, len, key);
        free(bytes);
        present++;
    }
    int listed = 0;
    HT_OK(hollow_blobstore_list(sh.bs, count_cb, &listed));
    ck_assert_int_eq(listed, present);
    ck_assert_int_gt(present, 0);
    hollow_blobstore_free(sh.bs);
}
END_TEST

static Suite *blobstore_memory_suite(void)
{
    Suite *s = suite_create("blobstore_memory");
    TCase *tc = tcase_create("basic");
    tcase_add_test(tc, blobstore_memory_put_get_list_delete);
    tcase_add_test(tc, blobstore_size_without_backend_entry);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_test(tc, blobstore_memory_concurrent_puts_and_gets);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(blobstore_memory_suite()); }
