/*
 * Hash keys of SET and MAP types on the read side (blob-format.md §4.2,
 * §8.3, §11.5): the bucket hash of an element/key record, the same hash
 * computed from probe values, and the comparison of a record's key fields
 * with probe values. Key paths are resolved once per state
 * (hollow_type.keys, see state.c).
 */
#ifndef HOLLOW_SRC_READ_KEYHASH_H
#define HOLLOW_SRC_READ_KEYHASH_H

#include "read_int.h"

/* Bucket hash of element/key ordinal `elem` of SET/MAP type `coll`:
 * hashInt(elem) without hash key, the §11.5 key hash with one. */
int hollow__keyhash_of_record(uint32_t *out, const hollow_type *coll,
                              hollow_ordinal elem);

/* §11.5 hash of probe values for the hash key of `coll`. */
int hollow__keyhash_of_values(uint32_t *out, const hollow_type *coll,
                              const hollow_value *keys, size_t count);

/* Whether element/key record `elem` of `coll` has key fields equal to
 * `keys`. */
int hollow__keyhash_equals(bool *out, const hollow_type *coll, hollow_ordinal elem,
                           const hollow_value *keys, size_t count);

#endif
