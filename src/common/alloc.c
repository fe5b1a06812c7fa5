/*
 * The allocator indirection (style.md B5.6). The default routes to the C
 * library. hollow_set_allocator() swaps the table; it must be called before
 * anything else, so plain loads are enough here.
 */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
/* aligning costs up to HUGE_PAGE more (counted, never touched): only worth
 * it where that is at most 1/16 of the block; below, the advice still
 * covers the block's aligned interior */
#define ALIGN_MIN ((size_t)32 << 20)
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

#define PREFAULT_MIN ((size_t)1 << 20)
#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels say EINVAL */
#endif
void hollow__prefault(void *p, size_t n)
{
#if defined(__linux__)
    if (p == NULL || n < PREFAULT_MIN)
        return;
    uintptr_t b = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (e > b)
        (void)madvise((void *)b, (size_t)(e - b), MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
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

void hollow__free_huge(void *base, size_t size)
{
    (void)size; /* the allocator hooks know the size of what they gave */
    hollow__free(base);
}

void hollow_set_allocator(const hollow_allocator *a)
{
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
    return hollow__malloc_huge_from(n, ALIGN_MIN, base, size);
}

void *hollow__malloc_huge_from(size_t n, size_t align_min, void **base,
                               size_t *size)
{
    *base = NULL;
    *size = n;
    if (n < align_min || n < HUGE_PAGE) {
        *base = hollow__malloc(n);
        return *base;
    }
    size_t padded;
    if (hollow__add_overflow(n, (size_t)HUGE_PAGE, &padded))
        return NULL;
    void *p = g_alloc.malloc_fn(g_alloc.opaque, padded);
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
    if (p != NULL) {
        hollow__prefault(p, n); /* the memset would fault it page by page */
        memset(p, 0, n);
    }
    return p;
}

void *hollow__realloc(void *p, size_t n)
{
    return advise_huge(g_alloc.realloc_fn(g_alloc.opaque, p, n), n);
}

void hollow__free(void *p)
{
    if (p != NULL)
        g_alloc.free_fn(g_alloc.opaque, p);
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
