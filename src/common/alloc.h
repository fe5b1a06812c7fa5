/*
 * Internal allocation: every heap allocation of the library goes through
 * these, so that hollow_set_allocator() sees it and the tests can count
 * bytes and inject failures. Size arithmetic on untrusted counts uses the
 * checked helpers.
 */
#ifndef HOLLOW_SRC_COMMON_ALLOC_H
#define HOLLOW_SRC_COMMON_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "hollow/common.h"

void *hollow__malloc(size_t n);
void *hollow__calloc(size_t count, size_t size);
void *hollow__realloc(void *p, size_t n);
void hollow__free(void *p);
/*
 * A big buffer filled whole (a loaded blob): for n >= 32 MiB it starts on
 * a 2 MiB boundary with transparent huge pages advised, at the price of up
 * to 2 MiB more address space (counted by the allocator hooks, never
 * touched); smaller ones are plain hollow__malloc blocks (huge pages
 * advised from 4 MiB on). Returns the usable start; *base gets what hollow__free takes
 * and *size how many bytes were allocated there.
 */
void *hollow__malloc_huge(size_t n, void **base, size_t *size);
/* the same, aligned from `align_min` bytes up (>= 2 MiB): for blocks that
 * grow by doubling and are filled whole (the write state's arrays), where
 * the 4 KiB faults of the unaligned ends cost more than the padding */
void *hollow__malloc_huge_from(size_t n, size_t align_min, void **base,
                               size_t *size);

/*
 * Give back a block from hollow__malloc_huge (base, size as it gave them).
 * It is freed at once: keeping released snapshot buffers for the next load
 * (a recycler) was tried and left out, as it held a whole extra state
 * after every refresh for a few milliseconds saved on a rare reload.
 */
void hollow__free_huge(void *base, size_t size);
/*
 * Map the pages of p[0 .. n) now, in one call, for a block about to be
 * written all over (only advice; nothing happens below PREFAULT_MIN or
 * where the kernel lacks MADV_POPULATE_WRITE). Measured on the VMs we run
 * on, 23 MB of 4 KiB pages: written into a fresh mapping 63-66 ms; mapped
 * first (4 ms), then written, 34-36 ms. Huge pages make both cheap.
 */
void hollow__prefault(void *p, size_t n);
/* malloc(count * size) or NULL (with no allocation) on overflow */
void *hollow__mallocarray(size_t count, size_t size);
void *hollow__reallocarray(void *p, size_t count, size_t size);
char *hollow__strdup(const char *s);
char *hollow__strndup(const char *s, size_t n);

/* true if a*b overflows size_t; else *out = a*b */
static inline int hollow__mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}
static inline int hollow__add_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

#endif
