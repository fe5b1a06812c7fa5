/*
 * Which ordinals of a type differ between two read states.
 *
 * A state made from another by deltas shares every shard the deltas did
 * not touch (architecture decision 2), and a shared shard holds the same
 * records, each still reaching the same referenced records (a referenced
 * record stays populated while a record refers to it). So only the shards
 * that are not shared are walked, one populated word at a time:
 *
 *   old populated  p ─┐   p & ~q   removed
 *   new populated  q ─┼─▶ q & ~p   added
 *                     └─▶ p &  q   kept (same ordinal, but a slot freed
 *                                  and reused over several deltas can
 *                                  hold another record: callers compare)
 *
 * When the two states shard the type differently, every ordinal of both
 * is walked. The consumer (refresh events), the index derivation and the
 * diff all walk through this one function.
 */
#include "read_int.h"

static int visit_bits(uint64_t bits, uint64_t word, uint32_t shard,
                      uint32_t shard_bits, unsigned what, hollow__ordinal_fn fn,
                      void *ctx)
{
    for (; bits != 0; bits &= bits - 1) {
        uint64_t j = word * 64u + (unsigned)__builtin_ctzll(bits);
        int rc = fn(ctx, (hollow_ordinal)((j << shard_bits) | shard), what);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int hollow__type_changed_ordinals(bool *changed, const hollow_type *old,
                                  const hollow_type *now, unsigned which,
                                  hollow__ordinal_fn fn, void *ctx)
{
    int rc = 0;
    bool any = false;
    if (old->shard_count == now->shard_count) {
        uint32_t bits = now->shard_bits;
        for (uint32_t s = 0; s < now->shard_count && rc == 0; s++) {
            const hollow__shard *x = old->shards[s], *y = now->shards[s];
            if (x == y)
                continue;
            any = true;
            uint32_t words = x->pop_words > y->pop_words ? x->pop_words
                                                         : y->pop_words;
            for (uint32_t w = 0; w < words && rc == 0; w++) {
                uint64_t p = w < x->pop_words ? x->populated[w] : 0;
                uint64_t q = w < y->pop_words ? y->populated[w] : 0;
                if (which & HOLLOW__ORD_REMOVED)
                    rc = visit_bits(p & ~q, w, s, bits, HOLLOW__ORD_REMOVED,
                                    fn, ctx);
                if (rc == 0 && (which & HOLLOW__ORD_ADDED))
                    rc = visit_bits(q & ~p, w, s, bits, HOLLOW__ORD_ADDED, fn,
                                    ctx);
                if (rc == 0 && (which & HOLLOW__ORD_KEPT))
                    rc = visit_bits(p & q, w, s, bits, HOLLOW__ORD_KEPT, fn,
                                    ctx);
            }
        }
    } else {
        any = true;
        int32_t max = old->max_ordinal > now->max_ordinal ? old->max_ordinal
                                                          : now->max_ordinal;
        for (int32_t o = 0; o <= max && rc == 0; o++) {
            bool p = o <= old->max_ordinal && hollow_type_is_populated(old, o);
            bool q = o <= now->max_ordinal && hollow_type_is_populated(now, o);
            unsigned what = p && q ? HOLLOW__ORD_KEPT
                            : p    ? HOLLOW__ORD_REMOVED
                            : q    ? HOLLOW__ORD_ADDED
                                   : 0;
            if (what & which)
                rc = fn(ctx, o, what);
        }
    }
    if (changed != NULL)
        *changed = any;
    return rc;
}
