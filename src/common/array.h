/*
 * Growable arrays: one implementation of "double the capacity when full"
 * for every list that grows one element at a time (the shape of libgit2's
 * git_array_t; our own code).
 *
 *   typedef hollow__array(uint32_t) u32_vec;
 *   u32_vec l = HOLLOW__ARRAY_INIT;
 *   uint32_t *slot = hollow__array_push(&l, 64);   NULL: HOLLOW_ENOMEM set
 *   ...
 *   hollow__array_free(&l);
 *
 * `v` holds `n` elements in room for `cap`. A struct whose array lives in
 * fields of other names (or several arrays sharing one capacity) grows
 * each pointer with hollow__grow(). On failure nothing changes: the old
 * elements stay where they were and the error is HOLLOW_ENOMEM.
 */
#ifndef HOLLOW_SRC_COMMON_ARRAY_H
#define HOLLOW_SRC_COMMON_ARRAY_H

#include <stddef.h>

#include "alloc.h"

#define hollow__array(type)                                                    \
    struct {                                                                   \
        type *v;                                                               \
        size_t n, cap;                                                         \
    }

#define HOLLOW__ARRAY_INIT {NULL, 0, 0}

/*
 * Make room for `need` elements of `elem` bytes at *(T **)ptr_addr, whose
 * room is *cap elements: the capacity doubles, starting from `first`,
 * until it holds `need`. 0, or HOLLOW_ENOMEM (also on size overflow) with
 * the array and *cap unchanged.
 */
int hollow__array_grow(void *ptr_addr, size_t *cap, size_t need, size_t elem,
                       size_t first);

/* room for `need` elements in array `a` (a pointer to a hollow__array) */
#define hollow__array_reserve(a, need, first)                                 \
    hollow__array_grow(&(a)->v, &(a)->cap, (need), sizeof *(a)->v, (first))

/* a new last element of `a` (uninitialised), or NULL with HOLLOW_ENOMEM */
#define hollow__array_push(a, first)                                          \
    (hollow__array_reserve((a), (a)->n + 1, (first)) < 0 ? NULL              \
                                                         : &(a)->v[(a)->n++])

#define hollow__array_free(a)                                                  \
    (hollow__free((a)->v), (a)->v = NULL, (a)->n = 0, (a)->cap = 0)

/* room for `need` elements at pointer lvalue `ptr` whose size_t room is `cap` */
#define hollow__grow(ptr, cap, need, first)                                    \
    hollow__array_grow(&(ptr), &(cap), (need), sizeof *(ptr), (first))

#endif
