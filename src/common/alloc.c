/*
 * The allocator indirection (style.md B5.6). The default routes to the C
 * library. hollow_set_allocator() swaps the table; it must be called before
 * anything else, so plain loads are enough here.
 */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "hollow/schema.h"
#include "hollow/version.h"

/*
 * Big buffers (read inputs, record pools, hash tables) are filled whole:
 * ask for transparent huge pages on their 2 MiB-aligned interior: one
 * fault per 2 MiB instead of per 4 KiB (measured: a 300 000-movie import
 * took 86 000 faults, 54 000 with this, on a VM where a fault costs
 * microseconds). Only advice, whatever the allocator: memory that is not
 * anonymous refuses it, which changes nothing.
 */
#define HUGE_MIN ((size_t)4 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)
static void *advise_huge(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p != NULL && n >= HUGE_MIN) {
        uintptr_t b = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        uintptr_t e = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
        if (e > b)
            (void)madvise((void *)b, (size_t)(e - b), MADV_HUGEPAGE);
    }
#else
    (void)n;
#endif
    return p;
}

static void *def_malloc(void *o, size_t n)
{
    (void)o;
    return malloc(n ? n : 1);
}
static void *def_realloc(void *o, void *p, size_t n)
{
    (void)o;
    return realloc(p, n ? n : 1);
}
static void def_free(void *o, void *p)
{
    (void)o;
    free(p);
}

static hollow_allocator g_alloc = {def_malloc, def_realloc, def_free, NULL};

/*
 * The recycler of big blocks (Java's memory recycler): freeing a loaded
 * snapshot's buffer and faulting in the next one costs a page fault per
 * 4 KiB (or 2 MiB) again, each 10-25 us on a VM. Kept blocks are dropped
 * after POOL_AGE_NS, at the next call that looks (hollow__malloc_huge,
 * hollow__free_huge, or every 64th hollow__free of a thread).
 */
#define POOL_MIN ((size_t)16 << 20)
#define POOL_CAP ((size_t)256 << 20)
#define POOL_SLOTS 4
#define POOL_AGE_NS 5000000000LL

typedef struct pool_block {
    void *base;
    size_t size;
    int64_t since;
} pool_block;

static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_block g_pool[POOL_SLOTS];
static size_t g_pool_bytes;
static atomic_int g_pool_count;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* take the blocks to free (older than `before`, or all) out, under the lock */
static size_t pool_take_old(pool_block *out, int64_t before)
{
    size_t n = 0;
    for (size_t i = 0; i < POOL_SLOTS; i++) {
        if (g_pool[i].base != NULL && g_pool[i].since < before) {
            out[n++] = g_pool[i];
            g_pool_bytes -= g_pool[i].size;
            g_pool[i].base = NULL;
            atomic_fetch_sub_explicit(&g_pool_count, 1, memory_order_relaxed);
        }
    }
    return n;
}

static void pool_free(const pool_block *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_alloc.free_fn(g_alloc.opaque, b[i].base);
}

static void pool_expire(void)
{
    if (atomic_load_explicit(&g_pool_count, memory_order_relaxed) == 0)
        return;
    pool_block old[POOL_SLOTS];
    pthread_mutex_lock(&g_pool_lock);
    size_t n = pool_take_old(old, now_ns() - POOL_AGE_NS);
    pthread_mutex_unlock(&g_pool_lock);
    pool_free(old, n);
}

void hollow__huge_trim(void)
{
    pool_block old[POOL_SLOTS];
    pthread_mutex_lock(&g_pool_lock);
    size_t n = pool_take_old(old, INT64_MAX);
    pthread_mutex_unlock(&g_pool_lock);
    pool_free(old, n);
}

/* a kept block of `need` bytes or up to a quarter more, or NULL */
static void *pool_get(size_t need, size_t *size)
{
    pool_expire();
    if (atomic_load_explicit(&g_pool_count, memory_order_relaxed) == 0)
        return NULL;
    void *p = NULL;
    pthread_mutex_lock(&g_pool_lock);
    size_t best = POOL_SLOTS;
    for (size_t i = 0; i < POOL_SLOTS; i++)
        if (g_pool[i].base != NULL && g_pool[i].size >= need &&
            g_pool[i].size - need <= need / 4 &&
            (best == POOL_SLOTS || g_pool[i].size < g_pool[best].size))
            best = i;
    if (best < POOL_SLOTS) {
        p = g_pool[best].base;
        *size = g_pool[best].size;
        g_pool_bytes -= g_pool[best].size;
        g_pool[best].base = NULL;
        atomic_fetch_sub_explicit(&g_pool_count, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&g_pool_lock);
    return p;
}

void hollow__free_huge(void *base, size_t size)
{
    if (base == NULL)
        return;
    pool_expire();
    if (size >= POOL_MIN && size <= POOL_CAP) {
        pool_block old[1];
        size_t n = 0;
        bool kept = false;
        pthread_mutex_lock(&g_pool_lock);
        size_t count = (size_t)atomic_load_explicit(&g_pool_count,
                                                    memory_order_relaxed);
        if (count > 0 && (count == POOL_SLOTS || g_pool_bytes + size > POOL_CAP)) {
            /* the oldest block makes way */
            size_t o = POOL_SLOTS;
            for (size_t i = 0; i < POOL_SLOTS; i++)
                if (g_pool[i].base != NULL &&
                    (o == POOL_SLOTS || g_pool[i].since < g_pool[o].since))
                    o = i;
            old[n++] = g_pool[o];
            g_pool_bytes -= g_pool[o].size;
            g_pool[o].base = NULL;
            atomic_fetch_sub_explicit(&g_pool_count, 1, memory_order_relaxed);
            count--;
        }
        if (count < POOL_SLOTS && g_pool_bytes + size <= POOL_CAP) {
            for (size_t i = 0; i < POOL_SLOTS && !kept; i++) {
                if (g_pool[i].base == NULL) {
                    g_pool[i] = (pool_block){base, size, now_ns()};
                    g_pool_bytes += size;
                    atomic_fetch_add_explicit(&g_pool_count, 1,
                                              memory_order_relaxed);
                    kept = true;
                }
            }
        }
        pthread_mutex_unlock(&g_pool_lock);
        pool_free(old, n);
        if (kept)
            return;
    }
    hollow__free(base);
}

void hollow_set_allocator(const hollow_allocator *a)
{
    hollow__huge_trim(); /* its blocks go back to the allocator they came from */
    if (a == NULL) {
        g_alloc.malloc_fn = def_malloc;
        g_alloc.realloc_fn = def_realloc;
        g_alloc.free_fn = def_free;
        g_alloc.opaque = NULL;
    } else {
        g_alloc = *a;
    }
}

void *hollow__malloc(size_t n)
{
    return advise_huge(g_alloc.malloc_fn(g_alloc.opaque, n), n);
}

void *hollow__malloc_huge(size_t n, void **base, size_t *size)
{
    *base = NULL;
    *size = n;
    if (n < HUGE_MIN) {
        *base = hollow__malloc(n);
        return *base;
    }
    size_t padded;
    if (hollow__add_overflow(n, (size_t)HUGE_PAGE, &padded))
        return NULL;
    void *p = pool_get(padded, size);
    if (p != NULL) {
        *base = p;
        return (void *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
    }
    p = g_alloc.malloc_fn(g_alloc.opaque, padded);
    if (p == NULL)
        return NULL;
    *base = p;
    *size = padded;
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* up to the end of the block, so that the last huge page may fit too */
    uintptr_t e = ((uintptr_t)p + padded) & ~(uintptr_t)4095;
    (void)madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
#endif
    return (void *)a;
}

/*
 * The C library's calloc hands out fresh pages untouched (they are zero),
 * so a big table costs its faults only where it is written. A hook table
 * has no calloc: there, malloc and memset.
 */
void *hollow__calloc(size_t count, size_t size)
{
    size_t n;
    if (hollow__mul_overflow(count, size, &n))
        return NULL;
    if (g_alloc.malloc_fn == def_malloc)
        return advise_huge(calloc(n ? n : 1, 1), n);
    void *p = hollow__malloc(n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

void *hollow__realloc(void *p, size_t n)
{
    return advise_huge(g_alloc.realloc_fn(g_alloc.opaque, p, n), n);
}

void hollow__free(void *p)
{
    static _Thread_local unsigned frees;
    if (p != NULL)
        g_alloc.free_fn(g_alloc.opaque, p);
    if ((++frees & 63) == 0)
        pool_expire();
}

void hollow_free(void *p) { hollow__free(p); }

void *hollow__mallocarray(size_t count, size_t size)
{
    size_t n;
    if (hollow__mul_overflow(count, size, &n))
        return NULL;
    return hollow__malloc(n);
}

void *hollow__reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (hollow__mul_overflow(count, size, &n))
        return NULL;
    return hollow__realloc(p, n);
}

char *hollow__strndup(const char *s, size_t n)
{
    char *d = hollow__malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *hollow__strdup(const char *s) { return hollow__strndup(s, strlen(s)); }

int hollow_version_number(void) { return HOLLOW_VERSION_NUMBER; }
const char *hollow_version_string(void) { return HOLLOW_VERSION_STRING; }
