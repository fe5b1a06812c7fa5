/*
 * The recycler of big blocks (src/common/alloc.c): a block given back is
 * handed out again to a request of about its size, counted as the
 * library's until trimmed; it stays bounded (4 blocks, 256 MiB); threads
 * taking and giving blocks at once never share one. Run under
 * ThreadSanitizer by `make test`.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "testhelp.h"

#define MIB ((size_t)1 << 20)

static atomic_long g_live;

static void *c_malloc(void *o, size_t n)
{
    (void)o;
    size_t *p = malloc(n + 16);
    if (p == NULL)
        return NULL;
    *p = n;
    atomic_fetch_add(&g_live, (long)n);
    return (char *)p + 16;
}
static void *c_realloc(void *o, void *ptr, size_t n)
{
    if (ptr == NULL)
        return c_malloc(o, n);
    size_t *p = (size_t *)((char *)ptr - 16);
    size_t old = *p;
    size_t *q = realloc(p, n + 16);
    if (q == NULL)
        return NULL;
    *q = n;
    atomic_fetch_add(&g_live, (long)n - (long)old);
    return (char *)q + 16;
}
static void c_free(void *o, void *ptr)
{
    (void)o;
    if (ptr == NULL)
        return;
    size_t *p = (size_t *)((char *)ptr - 16);
    atomic_fetch_sub(&g_live, (long)*p);
    free(p);
}

static void counting(void)
{
    hollow_allocator a = {c_malloc, c_realloc, c_free, NULL};
    hollow_set_allocator(&a);
    atomic_store(&g_live, 0);
}

START_TEST(recycler_reuses_a_block_of_about_the_size)
{
    counting();
    void *base, *base2;
    size_t size, size2;
    uint8_t *p = hollow__malloc_huge(40 * MIB, &base, &size);
    ck_assert_ptr_nonnull(p);
    p[0] = 1;
    hollow__free_huge(base, size);
    ck_assert_int_eq(atomic_load(&g_live), (long)size); /* kept, counted */
    /* much smaller: not that block */
    uint8_t *q = hollow__malloc_huge(20 * MIB, &base2, &size2);
    ck_assert_ptr_ne(base2, base);
    hollow__free(base2);
    (void)q;
    /* a little smaller: that block, with its whole size */
    q = hollow__malloc_huge(38 * MIB, &base2, &size2);
    ck_assert_ptr_eq(base2, base);
    ck_assert_uint_eq(size2, size);
    ck_assert_uint_eq((uintptr_t)q & (2 * MIB - 1), 0);
    ck_assert_uint_le((size_t)(q - (uint8_t *)base2) + 38 * MIB, size2);
    ck_assert_int_eq(atomic_load(&g_live), (long)size);
    hollow__free_huge(base2, size2);
    hollow__huge_trim();
    ck_assert_int_eq(atomic_load(&g_live), 0);
    /* small blocks are not kept */
    p = hollow__malloc_huge(5 * MIB, &base, &size);
    hollow__free_huge(base, size);
    ck_assert_int_eq(atomic_load(&g_live), 0);
    hollow_set_allocator(NULL);
}
END_TEST

START_TEST(recycler_is_bounded)
{
    counting();
    void *base[6];
    size_t size[6];
    for (int i = 0; i < 6; i++)
        ck_assert_ptr_nonnull(hollow__malloc_huge(20 * MIB, &base[i], &size[i]));
    for (int i = 0; i < 6; i++)
        hollow__free_huge(base[i], size[i]);
    ck_assert_int_eq(atomic_load(&g_live), (long)(4 * size[0]));
    /* the byte cap: 100 MiB blocks, two at most */
    for (int i = 0; i < 3; i++)
        ck_assert_ptr_nonnull(hollow__malloc_huge(100 * MIB, &base[i], &size[i]));
    for (int i = 0; i < 3; i++)
        hollow__free_huge(base[i], size[i]);
    ck_assert_int_le(atomic_load(&g_live), (long)(256 * MIB));
    /* changing the allocator gives the blocks back first */
    hollow_set_allocator(NULL);
    ck_assert_int_eq(atomic_load(&g_live), 0);
}
END_TEST

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < 200; i++) {
        void *base;
        size_t size;
        size_t n = 16 * MIB + (size_t)(rand_r(&seed) % 4) * MIB;
        uint8_t *p = hollow__malloc_huge(n, &base, &size);
        ck_assert_ptr_nonnull(p);
        /* the block is this thread's alone while it holds it */
        p[0] = (uint8_t)seed;
        p[n - 1] = (uint8_t)seed;
        ck_assert_uint_eq(p[0], (uint8_t)seed);
        ck_assert_uint_eq(p[n - 1], (uint8_t)seed);
        hollow__free_huge(base, size);
    }
    return NULL;
}

START_TEST(recycler_threads_share_no_block)
{
    counting();
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_le(atomic_load(&g_live), (long)(256 * MIB));
    hollow__huge_trim();
    ck_assert_int_eq(atomic_load(&g_live), 0);
    hollow_set_allocator(NULL);
}
END_TEST

static Suite *recycler_suite(void)
{
    Suite *s = suite_create("recycler");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, recycler_reuses_a_block_of_about_the_size);
    tcase_add_test(tc, recycler_is_bounded);
    tcase_add_test(tc, recycler_threads_share_no_block);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(recycler_suite()); }
