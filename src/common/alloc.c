/*
 * The allocator indirection (style.md B5.6). The default routes to the C
 * library. hollow_set_allocator() swaps the table; it must be called before
 * anything else, so plain loads are enough here.
 */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "hollow/schema.h"
#include "hollow/version.h"

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

void *hollow__malloc(size_t n) { return g_alloc.malloc_fn(g_alloc.opaque, n); }

void *hollow__calloc(size_t count, size_t size)
{
    size_t n;
    if (hollow__mul_overflow(count, size, &n))
        return NULL;
    void *p = hollow__malloc(n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

void *hollow__realloc(void *p, size_t n)
{
    return g_alloc.realloc_fn(g_alloc.opaque, p, n);
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
