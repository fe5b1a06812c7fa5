/*
 * Private layout of read states.
 *
 * A read state is an immutable snapshot of a dataset: an array of types,
 * each an array of shards (blob-format.md §5). Record data stays in the
 * wire layout (architecture decision 3): packed arrays are the blob's
 * big-endian 64-bit words, used in place in the loaded blob: one heap
 * buffer (heap mode) or a mapped file (mmap mode); a shard a delta built
 * holds its arrays in its own heap block. Nothing is decoded
 * at load time beyond the per-shard headers; accessors check offsets and
 * pointers on the way, so a hostile blob yields HOLLOW_ECORRUPT, never an
 * out-of-bounds read.
 *
 * Shards are reference counted so that a later read state (made by applying
 * a delta) can share every shard the delta does not touch. A shard owns its
 * populated bit set (by shard ordinal) so that a delta that changes one
 * shard changes only that shard's bits.
 *
 *   hollow_read_state ── types[] ── hollow_type ── shards[n] ── hollow__shard
 *        (refcount)                 (schema,                    (refcount,
 *                                    counts)                     arrays)
 */
#ifndef HOLLOW_SRC_READ_READ_INT_H
#define HOLLOW_SRC_READ_READ_INT_H

#include <stdatomic.h>

#include "common/parallel.h"
#include "hollow/read.h"
#include "schema/schema_int.h"

/*
 * The loaded blob the shards point into, freed with the last of them: a
 * mapped file (mmap mode), or a heap buffer (heap mode: base is the block
 * to free, addr where the blob starts in it). While a snapshot is parsed
 * from the caller's bytes, addr and base are NULL (blob/snapshot.c).
 */
typedef struct hollow__mapping {
    atomic_size_t refs;
    void *addr;
    size_t len;
    void *base;       /* heap buffer, or NULL for a mapped file */
    size_t base_len;  /* bytes allocated at base (>= len) */
} hollow__mapping;

void hollow__mapping_retain(hollow__mapping *m);
void hollow__mapping_release(hollow__mapping *m);

/* hollow_read_state_checksum() of each of states[0, n), their types'
 * checksums computed on up to `threads` threads (0 = cores) */
int hollow__read_states_checksum(uint32_t *out,
                                 const hollow_read_state *const *states,
                                 size_t n, unsigned threads);

/* whether a and b hold the same records (what equal checksums say, value
 * by value, on up to `threads` threads); when not, `why` names where */
int hollow__read_states_equal(bool *equal, char *why, size_t why_len,
                              const hollow_read_state *a,
                              const hollow_read_state *b, unsigned threads);
/* the same, with beside(ctx, 0) run as one more task on those threads (the
 * producer applies its reverse delta meanwhile); its failure is returned */
int hollow__read_states_equal_beside(bool *equal, char *why, size_t why_len,
                                     const hollow_read_state *a,
                                     const hollow_read_state *b,
                                     unsigned threads, hollow__task_fn beside,
                                     void *beside_ctx);

typedef struct hollow__shard {
    atomic_size_t refs;
    int32_t max;          /* max shard ordinal m; -1 if no slots */
    uint64_t *populated;  /* host-order bits by shard ordinal */
    uint32_t pop_words;   /* words in `populated` */
    uint32_t pop_count;   /* populated ordinals in this shard */
    /* records removed by the delta that made this shard: unpopulated but
     * still readable until the next delta touches the shard (§9.6) */
    uint64_t *ghosts;
    uint32_t ghost_words;

    /* OBJECT: fixed-length records. LIST: end pointers. SET/MAP:
     * pointer+size entries. Big-endian words. */
    const uint8_t *fixed;
    uint64_t fixed_words;
    /* LIST: elements. SET: buckets. MAP: key/value buckets. */
    const uint8_t *elems;
    uint64_t elem_words;

    /* OBJECT */
    uint8_t *widths;       /* per field, 0..64 */
    uint32_t *offsets;     /* per field bit offset in a record */
    uint32_t rec_bits;     /* Wrec */
    const uint8_t **var;   /* per field var-length buffer (or NULL) */
    uint64_t *var_len;

    /* LIST/SET/MAP */
    uint8_t ptr_bits;      /* P */
    uint8_t size_bits;     /* Z (SET/MAP) */
    uint8_t elem_bits;     /* E (LIST/SET), K (MAP) */
    uint8_t value_bits;    /* V (MAP) */
    uint64_t total;        /* T_s / B_s as written */

    void *block;               /* heap block holding the arrays, or NULL */
    hollow__mapping *mapping;  /* the loaded blob they point into, or NULL */
} hollow__shard;

/* One hop of a resolved key path: read `field` of `type` (§4.2). */
typedef struct hollow__key_hop {
    const hollow_type *type;
    size_t field;
} hollow__key_hop;

/* A key path of a SET/MAP hash key resolved against the state's types. */
typedef struct hollow__key_path {
    hollow__key_hop *hops;
    size_t hop_count;
} hollow__key_path;

struct hollow_type {
    hollow_schema *schema;
    uint32_t shard_count;     /* n, a power of two */
    uint32_t shard_bits;      /* log2(n) */
    hollow__shard **shards;
    int32_t max_ordinal;      /* global M, -1 if none */
    uint32_t count;           /* populated ordinals */
    const hollow_read_state *state;
    /* SET/MAP hash key resolved against this state (NULL without a key, or
     * when a path cannot be resolved: buckets then hash ordinals, §11.5) */
    hollow__key_path *keys;
};

struct hollow_read_state {
    atomic_size_t refs;
    int64_t origin_tag;
    int64_t tag;
    size_t tag_count;
    char **tag_keys;          /* UTF-8 (NUL as C0 80) */
    char **tag_values;
    size_t type_count;
    hollow_type *types;       /* blob order */
    uint32_t *by_name;        /* indexes into types, sorted by name */
    hollow_memory_mode mode;
    int64_t version;          /* hollow__read_state_set_version, else 0 */
};

/* free the resolved keys of a type */
void hollow__type_keys_free(hollow_type *t);
/* release a type's shards, keys and schema and zero it */
void hollow__type_clear(hollow_type *t);

void hollow__shard_retain(hollow__shard *s);
void hollow__shard_release(hollow__shard *s);

/* empty state with room for `type_count` types (fields zeroed) */
int hollow__read_state_alloc(hollow_read_state **out, size_t type_count);
/* sort the by-name index and resolve hash keys once the types are in */
int hollow__read_state_index(hollow_read_state *rs);

/*
 * Record the version a state stands for. Only the component that made the
 * state (consumer after a refresh step, producer after a cycle) calls it,
 * before the state is published to any other thread; from then on the
 * state is immutable.
 */
void hollow__read_state_set_version(hollow_read_state *rs, int64_t version);

/* What hollow__type_changed_ordinals() reports of an ordinal. */
#define HOLLOW__ORD_REMOVED 1u /* populated in the old state only */
#define HOLLOW__ORD_ADDED 2u   /* populated in the new state only */
#define HOLLOW__ORD_KEPT 4u    /* in both, in a shard they do not share */

/* Gets an ordinal and what it is; a non-zero return stops the walk. */
typedef int (*hollow__ordinal_fn)(void *ctx, hollow_ordinal o, unsigned what);

/*
 * Walk the ordinals of one type that may differ between two states (old,
 * now): fn gets those of the kinds in `which` (HOLLOW__ORD_*), shard by
 * shard. Shards the two states share hold the same records and are
 * skipped; a KEPT ordinal's record may still differ (a slot reused over
 * several deltas). *changed (may be NULL) tells whether any shard differs.
 * @return 0 or fn's non-zero return.
 */
int hollow__type_changed_ordinals(bool *changed, const hollow_type *old,
                                  const hollow_type *now, unsigned which,
                                  hollow__ordinal_fn fn, void *ctx);

/* is shard ordinal j of shard s populated */
static inline bool hollow__shard_has(const hollow__shard *s, uint32_t j)
{
    uint32_t w = j >> 6;
    return w < s->pop_words && ((s->populated[w] >> (j & 63)) & 1);
}

/* the element (LIST) or bucket (SET, MAP) range [*start, *end) of slot j
 * of t's shard s, checked against the shard's array; `o` names the record
 * in the message (HOLLOW_ORDINAL_NONE: none). collection.c */
int hollow__coll_range(uint64_t *start, uint64_t *end, const hollow_type *t,
                       const hollow__shard *s, uint32_t j,
                       hollow_ordinal o);

#endif
