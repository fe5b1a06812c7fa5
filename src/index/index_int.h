/*
 * Private layout of indexes (include/hollow/index.h, docs/indexes.md).
 *
 * An index is a resolved key specification (ix_spec: the paths as hops over
 * the types of one read state) plus one of two tables:
 *
 *   primary / unique key   an open-addressing table of 64-bit slots,
 *                          (hash32 << 32) | (ordinal + 1), 0 = empty; one
 *                          slot per record of the type. A lookup compares
 *                          the record's key fields with the probe when the
 *                          cached hash matches. Duplicated keys are kept as
 *                          groups of ordinals beside the table.
 *
 *   hash                   the same kind of table, (hash32 << 32) |
 *                          (group + 1), over groups: one group per
 *                          distinct combination of path values, holding
 *                          the values themselves (var-length bytes in an
 *                          arena) and its member ordinals in ascending
 *                          order (CSR: moff[g] .. moff[g + 1] of members).
 *
 * Home slot of a hash h in a table of `cap` slots: (h * cap) >> 32, then
 * linear probing with wrap-around. Every entry lies in the run of occupied
 * slots that starts at its home, so deletion shifts entries back (no
 * tombstones) and a scan from home to the first empty slot sees every
 * entry of a hash.
 *
 * Visit counts: for every type a path reaches through a reference, an
 * element, a key or a value ("visited types"), counts[v][o] is how many
 * times the indexed records reach ordinal o. Derivation uses them to know
 * whether a removed record is still reached by a kept one.
 */
#ifndef HOLLOW_SRC_INDEX_INDEX_INT_H
#define HOLLOW_SRC_INDEX_INDEX_INT_H

#include <stdatomic.h>

#include "blob/format.h"
#include "common/array.h"
#include "common/bits.h"
#include "common/hash.h"
#include "hollow/index.h"
#include "read/read_int.h"

#define IX_MAX_PATHS HOLLOW_INDEX_MAX_PATHS
/* stored-form bytes of a STRING probe kept on the stack, and hashed */
#define IX_HEAD 128
/* hops of all paths of an index, plus one (the walk tree's root node) */
#define IX_MAX_NODES 256

/* ------------------------------------------------------------- paths */

typedef enum ix_hop_kind {
    IX_FIELD = 0,    /* read field `field` of an OBJECT record */
    IX_ELEMENTS = 1, /* each element of a LIST / SET record */
    IX_ENTRIES = 2,  /* each entry of a MAP record (then IX_KEY / IX_VALUE) */
    IX_KEY = 3,      /* the key of the entry */
    IX_VALUE = 4     /* the value of the entry */
} ix_hop_kind;

typedef struct ix_hop {
    uint8_t kind;             /* ix_hop_kind */
    hollow_field_type ftype;  /* IX_FIELD: the field's type */
    uint32_t field;           /* IX_FIELD */
    const hollow_type *type;  /* the type this hop reads (KEY/VALUE: the map) */
    const hollow_type *next;  /* the type reached when the hop is followed,
                                 NULL for the final hop */
    int32_t vslot;            /* visit-count slot of `next`, -1 if none */
} ix_hop;

typedef struct ix_path {
    char *text;               /* as given */
    ix_hop *hops;
    size_t nhops;
    hollow_field_type vtype;  /* value type: final field or REFERENCE */
    bool multi;               /* goes through a collection */
} ix_path;

/* a node of the walk tree of a hash index: paths share common hops */
typedef struct ix_node {
    ix_hop hop;
    uint32_t finals;          /* paths whose value this node yields (bits) */
    uint32_t below;           /* paths in this subtree, the node included */
    uint32_t *kids;
    uint32_t nkids;
} ix_node;

typedef struct ix_spec {
    const hollow_read_state *rs;
    const hollow_type *root;
    ix_path *paths;
    size_t npaths;
    const hollow_type **vtypes; /* visited types */
    size_t nvtypes;
    ix_node *nodes;           /* hash indexes: nodes[0] is the root record */
    size_t nnodes;
} ix_spec;

/* --------------------------------------------------------------- values */

/*
 * A key value ready to hash and compare. Fixed-width values are canonical
 * bits (INT: the 32-bit zigzag, LONG: the 64-bit zigzag, FLOAT / DOUBLE:
 * the IEEE bits, BOOLEAN 0/1, REFERENCE the ordinal); var-length values
 * are their bytes (STRING in the stored form, §6.4): `bits` holds the full
 * length, ptr[0 .. have) the bytes at hand. A STRING probe longer than
 * IX_HEAD stored bytes keeps only its head in ptr and is compared through
 * utf8 for the rest.
 */
typedef struct ix_val {
    uint64_t bits;
    const uint8_t *ptr;
    size_t have;
    const char *utf8;
    size_t utf8_len;
    bool var;                 /* STRING or BYTES */
    bool null;
} ix_val;

/* ------------------------------------------------------------- indexes */

typedef struct ix_dups {
    uint32_t ngroups;
    uint32_t *off;            /* ngroups + 1 */
    hollow_ordinal *ords;     /* each group ascending */
    uint32_t *hash;           /* the group's key hash */
} ix_dups;

typedef struct ix_kval {      /* a stored group key value */
    uint64_t bits;            /* fixed bits, or arena offset */
    uint32_t len;             /* var-length: bytes */
    uint32_t null;
} ix_kval;

struct hollow_index {
    atomic_size_t refs;
    hollow_index_kind kind;
    hollow_index_origin origin;
    bool schema_key;          /* primary key taken from the @PrimaryKey */
    bool dangling;            /* some walk met a reference to no record */
    hollow_read_state *rs;    /* held */
    char *type_name;
    ix_spec spec;
    size_t bytes;             /* allocations of this index */

    /* visit counts per visited type */
    uint32_t **counts;
    uint32_t *count_len;

    /* the table: PK/unique: ordinals; hash: groups */
    uint64_t *slots;          /* slot i at slots[i * stride] */
    unsigned stride;          /* 2: the key's bits follow each slot */
    uint32_t cap;
    uint32_t used;            /* occupied slots */

    /* primary / unique key */
    uint32_t nkeys;           /* distinct keys */
    ix_dups dups;             /* groups ordered by smallest ordinal */
    bool fast_fixed;          /* one single-hop fixed-width path: stride 2 */

    /* hash */
    uint32_t ngroups;
    uint32_t *ghash;
    ix_kval *gkeys;           /* ngroups * npaths */
    uint8_t *arena;
    size_t arena_len;
    uint32_t *moff;           /* ngroups + 1 */
    hollow_ordinal *members;
};

/* a growable list of ordinals */
typedef hollow__array(hollow_ordinal) ix_ords;

/* --------------------------------------------------------- path.c */

/* resolve the paths of a new spec over `rs`; HOLLOW_EINVAL with a message */
int hollow__ix_spec_init(ix_spec *sp, const hollow_read_state *rs,
                         const char *type, const char *const *paths,
                         size_t npaths, bool allow_multi);
void hollow__ix_spec_clear(ix_spec *sp);
/* same hops, same schemas of every type met */
bool hollow__ix_spec_same(const ix_spec *a, const ix_spec *b);

/* a walk: reading values and counting visits */
typedef struct ix_walk {
    const ix_spec *sp;
    uint32_t **counts;        /* NULL: no counting */
    uint32_t *count_len;
    int delta;                /* +1 or -1 */
    bool dangling;            /* met a reference to no record */
    bool broken;              /* counts inconsistent: rebuild */
} ix_walk;

/* HOLLOW_ECORRUPT for record o of t, whose raw value hollow__ix_fixed_decode()
 * refused */
int hollow__ix_bad_fixed(const hollow_type *t, hollow_ordinal o,
                         hollow_field_type ft, uint64_t raw);

/* the values of every path of a single-valued spec for record o */
int hollow__ix_read_key(ix_walk *w, hollow_ordinal o, ix_val *vals);

/* the value tuples of a hash spec for record o: emit is called for each */
typedef int (*ix_emit_fn)(void *ctx, const ix_val *vals);
int hollow__ix_walk_tuples(ix_walk *w, hollow_ordinal o, ix_emit_fn emit,
                           void *ctx);

/* whether record o's key equals the probe (single-valued spec) */
bool hollow__ix_key_equals(const ix_spec *sp, hollow_ordinal o,
                           const ix_val *probe);

/* hash of a tuple */
uint32_t hollow__ix_hash(const ix_val *vals, size_t n);

/* the pieces of hollow__ix_hash(), for the one-value fast path */
#define IX_HASH_SEED 0x243F6A8885A308D3ull
#define IX_HASH_NULL 0x6A09E667F3BCC909ull

/* hollow__ix_hash() of one fixed-width value */
static inline uint32_t hollow__ix_hash_fixed(bool null, uint64_t bits)
{
    return (uint32_t)(hollow__mix64(IX_HASH_SEED ^ (null ? IX_HASH_NULL : bits)) >>
                      32);
}

/*
 * The canonical bits of a fixed-width field's raw value `raw` of width w
 * (the ix_val of its type): 0 with *bits set; 1 for null (*bits 0);
 * -1 for a BOOLEAN above 1 or a REFERENCE above INT32_MAX (corrupt).
 */
static inline int hollow__ix_fixed_decode(uint64_t *bits, uint64_t raw,
                                          unsigned w, hollow_field_type ft)
{
    bool null;
    switch (ft) {
    case HOLLOW_FIELD_INT:
        null = raw == hollow__ones(w);
        raw = (uint32_t)raw;
        break;
    case HOLLOW_FIELD_FLOAT:
        raw = (uint32_t)raw;
        null = w > 0 && raw == HOLLOW__FLOAT_NULL;
        break;
    case HOLLOW_FIELD_DOUBLE: null = w > 0 && raw == HOLLOW__DOUBLE_NULL; break;
    case HOLLOW_FIELD_BOOLEAN:
        null = raw == hollow__ones(w);
        if (!null && raw > 1)
            return -1;
        break;
    case HOLLOW_FIELD_REFERENCE:
        null = raw == hollow__ones(w);
        if (!null && raw > INT32_MAX)
            return -1;
        break;
    default: /* LONG */
        null = raw == hollow__ones(w);
        break;
    }
    *bits = null ? 0 : raw;
    return null;
}

/*
 * The key of a one-field fixed-width index as one 64-bit word: the
 * canonical bits, or for null a pattern no value has (INT, FLOAT, BOOLEAN
 * and REFERENCE bits are below 2^32; LONG UINT64_MAX is the zigzag of
 * INT64_MIN, which is null; DOUBLE the null NaN of §6.1).
 */
static inline uint64_t hollow__ix_inline_key(bool null, uint64_t bits,
                                             hollow_field_type t)
{
    if (!null)
        return bits;
    switch (t) {
    case HOLLOW_FIELD_LONG: return UINT64_MAX;
    case HOLLOW_FIELD_DOUBLE: return HOLLOW__DOUBLE_NULL;
    default: return (uint64_t)1 << 32;
    }
}

/* whether two values are equal (either may be a probe) */
bool hollow__ix_val_eq(const ix_val *rec, const ix_val *probe);

/*
 * Turn probe values into ix_vals for `sp` (heads: IX_MAX_PATHS * IX_HEAD
 * bytes of scratch). stored: STRING values are in stored form.
 * @return 0; HOLLOW_EINVAL (message set).
 */
int hollow__ix_probe(ix_val *out, uint8_t *heads, const ix_spec *sp,
                     const hollow_value *keys, size_t count, bool stored);

/* --------------------------------------------------------- index.c */

/* internal return of a patch: give up, build afresh */
#define IX_REBUILD 1

/* whether a kept record still reaches a removed record of a visited type
 * (vremoved: per visited type, its removed ordinals) */
bool hollow__ix_still_reached(const hollow_index *ix, const ix_ords *vremoved);

/* call fn for every populated ordinal of t, ascending */
typedef int (*ix_ord_fn)(void *ctx, hollow_ordinal o);
int hollow__ix_walk_each(const hollow_type *t, ix_ord_fn fn, void *ctx);

int hollow__ix_ords_push(ix_ords *l, hollow_ordinal o);
void hollow__ix_ords_free(ix_ords *l);

/* table helpers */
static inline uint32_t hollow__ix_home(uint32_t h, uint32_t cap)
{
    return (uint32_t)(((uint64_t)h * cap) >> 32);
}
static inline uint64_t hollow__ix_slot(uint32_t h, uint32_t v)
{
    return ((uint64_t)h << 32) | ((uint64_t)v + 1);
}
uint32_t hollow__ix_capacity(size_t n);

/* (hash, ordinal) pairs */
typedef struct ix_hpair {
    uint32_t h;
    hollow_ordinal o;
} ix_hpair;

/* --------------------------------------------------------- fixed.c */

/*
 * Build the stride-2 table of a fast_fixed index (ix->slots, cap, used) on
 * up to `threads` threads. Records whose key was in the table already are
 * returned in *extras (hollow__free() it) for the caller's regrouping.
 * @return 0; HOLLOW_ECORRUPT (a bad value, more records than the type's
 *         count); HOLLOW_ENOMEM.
 */
int hollow__ix_build_fixed(hollow_index *ix, unsigned threads,
                           ix_hpair **extras, size_t *nextras);

/* --------------------------------------------------------- hash.c */

int hollow__ix_hash_build(hollow_index *ix);
int hollow__ix_hash_patch(hollow_index *ix, const hollow_index *old,
                          const ix_ords *removed, const ix_ords *added,
                          const ix_ords *vremoved);
void hollow__ix_hash_free(hollow_index *ix);

#endif
