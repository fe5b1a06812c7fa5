/*
 * Heap-mode loading (blob/load.c, blob/snapshot.c): the shards point into
 * one buffer the state owns. Every golden snapshot loads to the same dump
 * by every path (file, caller's memory, an adopted buffer, mmap); a state
 * outlives the caller's bytes; a state keeps a buffer only while it uses
 * at least half of it, also after deltas; failures free everything.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob_int.h"
#include "common/alloc.h"
#include "hollow/dump.h"
#include "hollow/read.h"
#include "testhelp.h"

static const char *SCENARIOS[] = HT_GOLDEN_SCENARIOS;
#define NSCENARIOS ((int)(sizeof SCENARIOS / sizeof SCENARIOS[0]))

/* ------------------------------------------------- counting allocator */

#include <stdatomic.h>
/* atomic: a delta is applied on several threads */
static _Atomic size_t g_live;
static long g_fail_at = -1; /* fail the n-th allocation from now; -1 never */

static void *c_malloc(void *o, size_t n)
{
    (void)o;
    if (g_fail_at == 0)
        return NULL;
    if (g_fail_at > 0)
        g_fail_at--;
    size_t *p = malloc(n + 16);
    if (p == NULL)
        return NULL;
    *p = n;
    g_live += n;
    return (char *)p + 16;
}
static void *c_realloc(void *o, void *ptr, size_t n)
{
    if (ptr == NULL)
        return c_malloc(o, n);
    if (g_fail_at == 0)
        return NULL;
    size_t *p = (size_t *)((char *)ptr - 16);
    size_t old = *p;
    size_t *q = realloc(p, n + 16);
    if (q == NULL)
        return NULL;
    *q = n;
    g_live += n - old;
    return (char *)q + 16;
}
static void c_free(void *o, void *ptr)
{
    (void)o;
    if (ptr == NULL)
        return;
    size_t *p = (size_t *)((char *)ptr - 16);
    g_live -= *p;
    free(p);
}

static void counting(void)
{
    hollow_allocator a = {c_malloc, c_realloc, c_free, NULL};
    hollow_set_allocator(&a);
    g_live = 0;
    g_fail_at = -1;
}

static void uncounted(void) { hollow_set_allocator(NULL); }

/* ------------------------------------------------------------ helpers */

static void dump(ht_mem *m, const hollow_read_state *rs)
{
    m->len = 0;
    HT_OK(hollow_dump_canonical(rs, ht_mem_text_sink, m));
}

/*
 * The invariant of heap mode: every heap buffer a state's shards point into
 * is used at least half by them, and hollow_read_state_memory() counts it.
 */
static void check_buffers(const hollow_read_state *rs, const char *what)
{
    const hollow__mapping *seen[8];
    size_t nseen = 0, held = 0;
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_type *t = &rs->types[i];
        for (uint32_t s = 0; s < t->shard_count; s++) {
            const hollow__mapping *m = t->shards[s]->mapping;
            if (m == NULL || m->base == NULL)
                continue;
            bool known = false;
            for (size_t k = 0; k < nseen; k++)
                known |= seen[k] == m;
            if (known)
                continue;
            ck_assert_msg(nseen < 8, "%s: over 8 buffers", what);
            seen[nseen++] = m;
            held += m->base_len;
            ck_assert_ptr_nonnull(m->addr);
            ck_assert_uint_ge(m->base_len, m->len);
            /* the bytes of distinct shards pointing into m */
            size_t used = 0;
            for (size_t j = 0; j < rs->type_count; j++) {
                const hollow_type *u = &rs->types[j];
                size_t nf = u->schema->kind == HOLLOW_SCHEMA_OBJECT
                                ? u->schema->field_count : 0;
                for (uint32_t k = 0; k < u->shard_count; k++) {
                    const hollow__shard *sh = u->shards[k];
                    bool dup = false;
                    for (uint32_t e = 0; e < k && !dup; e++)
                        dup = u->shards[e] == sh;
                    if (sh->mapping != m || dup)
                        continue;
                    used += (size_t)(sh->fixed_words + sh->elem_words) * 8;
                    for (size_t f = 0; f < nf; f++)
                        used += (size_t)sh->var_len[f];
                }
            }
            ck_assert_msg(used >= m->len / 2,
                          "%s: uses %zu bytes of a buffer of %zu", what, used,
                          m->len);
        }
    }
    ck_assert_uint_ge(hollow_read_state_memory(rs), held);
}

/* the snapshot files of a golden scenario, NULL-terminated (free each) */
static char **snapshots_of(const char *scenario)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", HOLLOW_GOLDEN_DIR, scenario);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char **v = calloc(64, sizeof *v);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "snapshot-", 9) == 0 && n < 63) {
            v[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
            sprintf(v[n++], "%s/%s", dir, e->d_name);
        }
    closedir(d);
    ck_assert_uint_gt(n, 0);
    return v;
}

/* ------------------------------------------------------------- tests */

/* every path loads every golden snapshot to the same state */
START_TEST(load_golden_every_path)
{
    counting();
    char **files = snapshots_of(SCENARIOS[_i]);
    for (size_t f = 0; files[f] != NULL; f++) {
        size_t len;
        uint8_t *blob = ht_read_file(files[f], &len);
        ht_mem want = {0}, got = {0};
        hollow_read_options mo = HOLLOW_READ_OPTIONS_INIT;
        mo.memory_mode = HOLLOW_MEMORY_MMAP;
        hollow_read_state *rs = NULL;
        HT_OK(hollow_read_state_open(&rs, files[f], &mo));
        dump(&want, rs);
        hollow_read_state_release(rs);

        HT_OK(hollow_read_state_open(&rs, files[f], NULL));
        check_buffers(rs, files[f]);
        size_t mem_file = hollow_read_state_memory(rs);
        dump(&got, rs);
        ck_assert_msg(got.len == want.len && memcmp(got.p, want.p, got.len) == 0,
                      "%s: heap file load differs from mmap", files[f]);
        hollow_read_state_release(rs);

        /* from memory: the caller's bytes may go at once */
        uint8_t *copy = malloc(len);
        memcpy(copy, blob, len);
        HT_OK(hollow_read_state_from_snapshot(&rs, copy, len, NULL));
        memset(copy, 0xA5, len);
        free(copy);
        check_buffers(rs, files[f]);
        ck_assert_uint_eq(hollow_read_state_memory(rs), mem_file);
        dump(&got, rs);
        ck_assert_msg(got.len == want.len && memcmp(got.p, want.p, got.len) == 0,
                      "%s: load from memory differs from mmap", files[f]);
        hollow_read_state_release(rs);

        /* adopted: the producer's path */
        uint8_t *own = hollow__malloc(len);
        memcpy(own, blob, len);
        HT_OK(hollow__snapshot_read_owned(&rs, own, len));
        check_buffers(rs, files[f]);
        ck_assert_uint_eq(hollow_read_state_memory(rs), mem_file);
        dump(&got, rs);
        ck_assert_msg(got.len == want.len && memcmp(got.p, want.p, got.len) == 0,
                      "%s: adopted buffer differs from mmap", files[f]);
        hollow_read_state_release(rs);

        free(want.p);
        free(got.p);
        free(blob);
        free(files[f]);
        ck_assert_uint_eq(atomic_load(&g_live), 0);
    }
    free(files);
    uncounted();
}
END_TEST

/* a chain from memory: each state keeps only a buffer it mostly uses, and
 * the buffers go with the last state pointing into them */
START_TEST(load_chain_keeps_used_buffers)
{
    counting();
    ht_chain c;
    ht_chain_load(&c, SCENARIOS[_i]);
    hollow_read_state *rs = NULL, *ref = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, c.snapshot.p, c.snapshot.len,
                                          NULL));
    check_buffers(rs, "snapshot");
    for (int i = 0; i < c.nsteps; i++) {
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta(&next, rs, c.steps[i].p,
                                            c.steps[i].len));
        check_buffers(next, "after a delta");
        if (i == 0)
            ref = rs; /* keep the snapshot's state alive a while */
        else
            hollow_read_state_release(rs);
        rs = next;
        if (i == 1) {
            hollow_read_state_release(ref);
            ref = NULL;
        }
    }
    hollow_read_state_release(ref);
    hollow_read_state_release(rs);
    ck_assert_uint_eq(atomic_load(&g_live), 0);
    ht_chain_free(&c);
    uncounted();
}
END_TEST

/* a state filtered to little of the blob copies it out: no buffer held */
START_TEST(load_filter_drops_buffer)
{
    char **files = snapshots_of("f_random_large");
    size_t len;
    uint8_t *blob = ht_read_file(files[0], &len);
    hollow_read_state *all = NULL;
    HT_OK(hollow_read_state_from_snapshot(&all, blob, len, NULL));
    ck_assert_uint_ge(hollow_read_state_memory(all), len);
    for (size_t i = 0; i < hollow_read_state_type_count(all); i++) {
        const hollow_type *t = hollow_read_state_type_at(all, i);
        const char *keep[] = {hollow_type_name(t), NULL};
        hollow_read_options o = HOLLOW_READ_OPTIONS_INIT;
        o.type_filter = keep;
        hollow_read_state *rs = NULL;
        HT_OK(hollow_read_state_from_snapshot(&rs, blob, len, &o));
        check_buffers(rs, keep[0]);
        ht_mem a = {0}, b = {0};
        HT_OK(hollow_dump_deep(rs, keep[0], ht_mem_text_sink, &a));
        HT_OK(hollow_dump_deep(all, keep[0], ht_mem_text_sink, &b));
        ck_assert(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
        free(a.p);
        free(b.p);
        hollow_read_state_release(rs);
    }
    hollow_read_state_release(all);
    free(blob);
    for (size_t f = 0; files[f] != NULL; f++)
        free(files[f]);
    free(files);
}
END_TEST

/* truncated blobs and failed allocations free what they took, the adopted
 * buffer included */
START_TEST(load_failures_free_everything)
{
    char **files = snapshots_of("b_collections");
    size_t len;
    uint8_t *blob = ht_read_file(files[0], &len);
    counting();
    for (size_t cut = 0; cut < len; cut += 1 + cut / 8) {
        hollow_read_state *rs = (hollow_read_state *)&rs;
        ck_assert_int_lt(hollow_read_state_from_snapshot(&rs, blob, cut, NULL), 0);
        ck_assert_ptr_null(rs);
        uint8_t *own = hollow__malloc(cut ? cut : 1);
        memcpy(own, blob, cut);
        rs = (hollow_read_state *)&rs;
        ck_assert_int_lt(hollow__snapshot_read_owned(&rs, own, cut), 0);
        ck_assert_ptr_null(rs);
        ck_assert_uint_eq(atomic_load(&g_live), 0);
    }
    /* every allocation failing in turn */
    for (long k = 0;; k++) {
        g_fail_at = k;
        hollow_read_state *rs = NULL;
        int rc = hollow_read_state_from_snapshot(&rs, blob, len, NULL);
        g_fail_at = -1;
        if (rc == 0) {
            hollow_read_state_release(rs);
            ck_assert_uint_eq(atomic_load(&g_live), 0);
            break;
        }
        ck_assert_int_eq(rc, HOLLOW_ENOMEM);
        ck_assert_uint_eq(atomic_load(&g_live), 0);
        ck_assert_int_lt(k, 100000);
    }
    uncounted();
    free(blob);
    for (size_t f = 0; files[f] != NULL; f++)
        free(files[f]);
    free(files);
}
END_TEST

/* calloc: zeroed whichever way it is served; a hook table's failure shows */
START_TEST(load_calloc_zeroes)
{
    size_t n = (size_t)8 << 20;
    uint8_t *p = hollow__calloc(n, 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i += 4093)
        ck_assert_uint_eq(p[i], 0);
    hollow__free(p);
    counting();
    p = hollow__calloc(n / 8, 8);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(g_live, n);
    for (size_t i = 0; i < n; i += 4093)
        ck_assert_uint_eq(p[i], 0);
    hollow__free(p);
    g_fail_at = 0;
    ck_assert_ptr_null(hollow__calloc(16, 16));
    g_fail_at = -1;
    ck_assert_ptr_null(hollow__calloc(SIZE_MAX / 2, 4));
    ck_assert_uint_eq(atomic_load(&g_live), 0);
    uncounted();
}
END_TEST

/* a big buffer starts on a 2 MiB boundary inside what was allocated */
START_TEST(load_huge_buffer_aligned)
{
    counting();
    void *base;
    size_t size, n = ((size_t)5 << 20) + 123;
    /* below 32 MiB no padding: a plain block of exactly n bytes */
    uint8_t *p = hollow__malloc_huge(n, &base, &size);
    ck_assert_ptr_eq(p, base);
    ck_assert_uint_eq(size, n);
    ck_assert_uint_eq(g_live, n);
    hollow__free(base);
    n = ((size_t)33 << 20) + 123;
    p = hollow__malloc_huge(n, &base, &size);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p & (((uintptr_t)2 << 20) - 1), 0);
    ck_assert((uint8_t *)base <= p);
    ck_assert_uint_le((size_t)(p - (uint8_t *)base) + n, size);
    ck_assert_uint_eq(g_live, size);
    memset(p, 1, n);
    hollow__free(base);
    p = hollow__malloc_huge(100, &base, &size);
    ck_assert_ptr_eq(p, base);
    ck_assert_uint_eq(size, 100);
    hollow__free(base);
    ck_assert_uint_eq(atomic_load(&g_live), 0);
    uncounted();
}
END_TEST

static Suite *load_suite(void)
{
    Suite *s = suite_create("load");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, load_golden_every_path, 0, NSCENARIOS);
    tcase_add_loop_test(tc, load_chain_keeps_used_buffers, 0, NSCENARIOS);
    tcase_add_test(tc, load_filter_drops_buffer);
    tcase_add_test(tc, load_failures_free_everything);
    tcase_add_test(tc, load_calloc_zeroes);
    tcase_add_test(tc, load_huge_buffer_aligned);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(load_suite()); }
