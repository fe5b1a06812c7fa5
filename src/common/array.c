/*
 * The one growth policy of the growable arrays (array.h). The pointer is
 * read and written through memcpy so that one function serves arrays of
 * any element type without type-punned pointer accesses.
 */
#include "array.h"

#include <stdint.h>
#include <string.h>

#include "error.h"

int hollow__array_grow(void *ptr_addr, size_t *cap, size_t need, size_t elem,
                       size_t first)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : (first ? first : 1);
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return hollow__error_oom();
        ncap *= 2;
    }
    void *p;
    memcpy(&p, ptr_addr, sizeof p);
    void *np = hollow__reallocarray(p, ncap, elem);
    if (np == NULL)
        return hollow__error_oom();
    memcpy(ptr_addr, &np, sizeof np);
    *cap = ncap;
    return 0;
}
