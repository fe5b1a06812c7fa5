/*
 * Byte-for-byte comparison of two read states' shards (private layout,
 * read/read_int.h): what the bulk and parallel delta paths build must be
 * exactly what the record-by-record path builds.
 */
#ifndef HOLLOW_TESTS_SAME_STATE_H
#define HOLLOW_TESTS_SAME_STATE_H

#include <string.h>

#include "blob/blob_int.h"
#include "read/read_int.h"
#include "testhelp.h"

static inline void ss_words(const void *a, const void *b, uint64_t n,
                              const char *what, const char *ctx,
                              const char *type, uint32_t s)
{
    ck_assert_msg(n == 0 || memcmp(a, b, n) == 0,
                  "%s: type %s shard %u: %s differ", ctx, type, s, what);
}

static inline void ss_shard(const hollow__shard *a, const hollow__shard *b,
                              const hollow_schema *sc, const char *ctx,
                              uint32_t s)
{
    const char *t = sc->name;
    ck_assert_msg(a->max == b->max && a->pop_words == b->pop_words &&
                      a->pop_count == b->pop_count &&
                      a->ghost_words == b->ghost_words &&
                      a->fixed_words == b->fixed_words &&
                      a->elem_words == b->elem_words,
                  "%s: type %s shard %u: shapes differ", ctx, t, s);
    ss_words(a->populated, b->populated, (uint64_t)a->pop_words * 8,
               "populated bits", ctx, t, s);
    ss_words(a->ghosts, b->ghosts, (uint64_t)a->ghost_words * 8,
               "ghost bits", ctx, t, s);
    ss_words(a->fixed, b->fixed, a->fixed_words * 8, "fixed arrays", ctx,
               t, s);
    ss_words(a->elems, b->elems, a->elem_words * 8, "element arrays", ctx,
               t, s);
    if (sc->kind == HOLLOW_SCHEMA_OBJECT) {
        ck_assert_msg(a->rec_bits == b->rec_bits, "%s: type %s shard %u: "
                      "record widths differ", ctx, t, s);
        for (size_t f = 0; f < sc->field_count && a->widths != NULL; f++) {
            ck_assert_msg(a->widths[f] == b->widths[f] &&
                              a->offsets[f] == b->offsets[f] &&
                              a->var_len[f] == b->var_len[f],
                          "%s: type %s shard %u field %zu: layouts differ",
                          ctx, t, s, f);
            ss_words(a->var[f], b->var[f], a->var_len[f], "var bytes", ctx,
                       t, s);
        }
    } else {
        ck_assert_msg(a->ptr_bits == b->ptr_bits &&
                          a->size_bits == b->size_bits &&
                          a->elem_bits == b->elem_bits &&
                          a->value_bits == b->value_bits &&
                          a->total == b->total,
                      "%s: type %s shard %u: layouts differ", ctx, t, s);
    }
}

/* every type and shard of a and b hold the same bytes */
static inline void ss_state(const hollow_read_state *a,
                              const hollow_read_state *b, const char *ctx)
{
    ck_assert_msg(a->type_count == b->type_count, "%s: type counts differ", ctx);
    for (size_t i = 0; i < a->type_count; i++) {
        const hollow_type *ta = &a->types[i], *tb = &b->types[i];
        ck_assert_msg(ta->shard_count == tb->shard_count &&
                          ta->max_ordinal == tb->max_ordinal &&
                          ta->count == tb->count,
                      "%s: type %s: counts differ", ctx, ta->schema->name);
        for (uint32_t s = 0; s < ta->shard_count; s++)
            if (ta->shards[s] != tb->shards[s])
                ss_shard(ta->shards[s], tb->shards[s], ta->schema, ctx, s);
    }
}

/*
 * Apply `delta` to `rs` on the reference path and check that `got` (from
 * the default path) is the same state.
 */
static inline void same_as_reference(const hollow_read_state *got,
                                     const hollow_read_state *rs,
                                     const void *delta, size_t len,
                                     const char *ctx)
{
    hollow_read_state *want = NULL;
    int rc = hollow__delta_apply_reference(&want, rs, delta, len);
    ck_assert_msg(rc == 0, "%s: reference apply returned %d: %s", ctx, rc,
                  hollow_error_last()->message);
    ss_state(got, want, ctx);
    hollow_read_state_release(want);
}

#endif
