/*
 * Private layout of the write state (blob-format.md §10).
 *
 * Per type, an ordinal map holds every record of the retained set
 * (previous state ∪ current state) in its identity encoding (§10.2): the
 * bytes of all records live in one append-only pool, indexed by ordinal,
 * and an open-addressing table finds a record's ordinal from its bytes.
 * Two bit sets say which ordinals are populated in the previous (`prev`)
 * and the current (`cur`) state. Ordinals freed at a cycle start go to a
 * free list that is consumed smallest first (§10.4).
 *
 * Writing decodes each record's identity bytes on the fly: they hold every
 * field value (OBJECT), element ordinal (LIST, SET) or entry (MAP) the
 * blob needs.
 */
#ifndef HOLLOW_SRC_WRITE_WRITE_INT_H
#define HOLLOW_SRC_WRITE_WRITE_INT_H

#include "blob/format.h"
#include "common/bits.h"
#include "common/buf.h"
#include "common/thread.h"
#include "hollow/write.h"
#include "schema/schema_int.h"

#define HOLLOW__ORDINAL_LIMIT (1 << 28) /* Java's default soft limit, §10.4 */
#define HOLLOW__NO_RECORD UINT64_MAX
#define HOLLOW__SEGMENT_BITS 16384      /* Java's bit set segments, §10.9 */

/* A populated-ordinal bit set that also tracks Java's segment count. */
typedef struct hollow__wbits {
    uint64_t *words;
    uint32_t nwords;
    uint32_t segments; /* >= 1 once used; never shrinks */
} hollow__wbits;

int hollow__wbits_set(hollow__wbits *b, uint32_t o);
void hollow__wbits_clear_all(hollow__wbits *b);
/* "test" an ordinal the way Java does: the segment count grows to cover it */
void hollow__wbits_cover(hollow__wbits *b, uint32_t o);
static inline bool hollow__wbits_has(const hollow__wbits *b, uint32_t o)
{
    uint32_t w = o >> 6;
    return w < b->nwords && ((b->words[w] >> (o & 63)) & 1);
}
/* do the two sets hold different ordinals */
bool hollow__wbits_differ(const hollow__wbits *a, const hollow__wbits *b);

/* resolved SET/MAP hash key path: hops of (type index, field) */
typedef struct hollow__whop {
    uint32_t type;
    size_t field;
} hollow__whop;

typedef struct hollow__wkey {
    hollow__whop *hops;
    size_t hop_count;
} hollow__wkey;

typedef struct hollow__wtype {
    hollow_schema *schema;   /* borrowed from the state's list */
    uint32_t index;          /* position in write order */
    hollow__mutex mu;        /* serializes adds to this type */

    /* records by ordinal: identity bytes at pool[off[o]], len[o] bytes */
    hollow__buf pool;
    uint64_t *off;           /* HOLLOW__NO_RECORD for a free ordinal */
    uint32_t *len;
    uint32_t ord_cap;
    uint32_t next_ordinal;   /* first never-used ordinal */

    /* identity bytes -> ordinal (open addressing, ord -1 = empty); the
     * hash beside the ordinal: one cache line a probe */
    struct hollow__wslot {
        int32_t ord;
        uint32_t hash;
    } *table;
    uint32_t table_cap;      /* power of two */
    uint32_t table_count;

    /* free ordinals; consumed from `free_head` upwards (ascending), or from
     * the end (descending) in the first cycle after a restore (§10.6) */
    uint32_t *free_list;
    size_t free_count, free_cap, free_head;
    bool free_from_back;

    hollow__wbits bits[2];   /* cur = bits[cur_bits], prev = the other */
    int cur_bits;

    uint32_t shard_count;    /* 0 = not chosen yet */
    uint32_t prev_shard_count;
    uint32_t cycle_shards;   /* the count chosen for the current cycle */
    bool shards_fixed;

    hollow__wkey *keys;      /* SET/MAP hash key, NULL = ordinal hash */

    /* index of the type each reference points into, for checking adds:
     * OBJECT per field (UINT32_MAX if not a REFERENCE); LIST/SET [0] the
     * element type; MAP [0] the key type, [1] the value type */
    uint32_t *ref_types;

    /* what a rollback of the current cycle restores (§10.1) */
    uint32_t *new_ords;      /* ordinals stored since the cycle started */
    size_t new_count, new_cap;
    uint32_t *saved_free;    /* the free list as the cycle started */
    size_t saved_free_count, saved_free_head;
    bool saved_from_back;
    uint32_t saved_next;
    size_t saved_pool_len;
    hollow__wbits saved_prev; /* the bits the current state's set replaced */

    /* first cycle after a restore (§10.6 rule 1): records equal to a
     * restored record on the fields both schemas share take its ordinal */
    int *common;             /* new field -> restored field, or -1 */
    struct hollow__wproj *proj;

    /* statistics kept as records enter and leave the map, and memoised
     * SET/MAP bucket hashes (stats.c); NULL until a blob is written */
    struct hollow__wrun *run;

    /* word arrays the current bit set outgrew while adds ran: adds to
     * other types check references against it without taking this type's
     * lock, and may still read an old array; freed with the state */
    uint64_t **retired;
    size_t retired_count, retired_cap;

    /* what hollow__free takes for off, len, new_ords, the pool and the
     * table (state.c grow_block: a large one starts inside it) */
    void *off_base, *len_base, *new_base, *pool_base, *table_base;
} hollow__wtype;

/* a header tag, in insertion order */
typedef struct hollow__wtag {
    char *key;
    char *value;
} hollow__wtag;

typedef struct hollow__wtags {
    hollow__wtag *items;
    size_t count, cap;
    uint32_t table_size;     /* Java's hash map bucket count (§10.10) */
    bool verbatim;           /* write in insertion order (copied tags) */
} hollow__wtags;

struct hollow_write_state {
    hollow_schema_list *schemas; /* owned, in write order */
    hollow__wtype *types;
    size_t type_count;
    hollow_write_options opts;

    hollow__wtags tags;          /* header tags of the current state */
    hollow__wtags prev_tags;     /* those of the previous state */
    int64_t tag;                 /* randomized tag of the current state */
    bool tag_set;
    int64_t prev_tag;            /* -1 before the first state */
    uint64_t rng;                /* tag generator */
    bool has_history;            /* a previous state exists */
    bool written;                /* a blob was written in this cycle */
    bool shards_chosen;          /* shard counts fixed for this cycle */
    bool restored_cycle;         /* first cycle after a restore */
    int64_t saved_prev_tag;      /* for a rollback */
    bool saved_has_history;
};

int hollow__wtags_put(hollow__wtags *t, const char *key, const char *value);
void hollow__wtags_clear(hollow__wtags *t);
size_t *hollow__wtags_order(const hollow__wtags *t);

/* what a record builder holds per OBJECT field */
typedef struct hollow__rfield {
    bool set;
    bool is_null;
    uint64_t v;      /* INT/LONG zigzag, REF ordinal, BOOL, FLOAT/DOUBLE bits */
    size_t off;      /* STRING (§6.4 bytes) / BYTES in r->data */
    size_t len;
} hollow__rfield;

struct hollow_record {
    const hollow_schema *schema;
    uint32_t type;              /* index in the write state */
    hollow__rfield *fields;
    hollow__buf data;           /* var-length values */
    int32_t *elems;             /* LIST/SET elements; MAP key,value pairs */
    size_t elem_count, elem_cap;
    hollow__buf scratch;        /* identity encoding */
};

/* encode r's identity bytes (§10.2) into r->scratch */
int hollow__record_encode(hollow_record *r);

/* find the type of a name, or NULL */
hollow__wtype *hollow__ws_type(const hollow_write_state *ws, const char *name);

/* store restored bytes at their ordinal (restore, §10.6) */
int hollow__ws_restore_at(hollow__wtype *t, const uint8_t *p, size_t len,
                          uint32_t ordinal);
/* rule-1 lookup of a restored ordinal by shared fields (cycle.c) */
int32_t hollow__wproj_find(const hollow__wtype *t, const uint8_t *p,
                           hollow__buf *scratch);
void hollow__wtype_restore_free(hollow__wtype *t);

/* the hash of identity bytes in a type's table (state.c) */
uint32_t hollow__ws_hash(const uint8_t *p, size_t n);

/* take ordinal o (its bytes still in the pool) out of the type's table;
 * for a table holding exactly one entry per stored record */
void hollow__ws_table_remove(hollow__wtype *t, uint32_t o);

/* add identity bytes at a chosen ordinal (copy_from); populates cur */
int hollow__ws_add_at(hollow__wtype *t, const uint8_t *p, size_t len,
                      uint32_t ordinal);

/* ------------------------------------------------ identity decoding */

/* a decoded OBJECT field value from identity bytes */
typedef struct hollow__wval {
    bool is_null;
    uint64_t v;            /* fixed-width stored value (not for var) */
    const uint8_t *bytes;  /* STRING (§6.4 bytes) / BYTES */
    size_t len;
} hollow__wval;

/* decode field f of OBJECT identity bytes p (records are ours: trusted) */
size_t hollow__wdecode_field(hollow__wval *out, const uint8_t *p,
                             hollow_field_type t);

/* the same, inline, for the writer's loops over every record (len is 0
 * unless the value is a STRING or BYTES) */
static inline size_t hollow__wfield(hollow__wval *out, const uint8_t *p,
                                    hollow_field_type t)
{
    out->len = 0;
    if (t == HOLLOW_FIELD_FLOAT) {
        out->v = ((uint64_t)p[0] << 24) | ((uint64_t)p[1] << 16) |
                 ((uint64_t)p[2] << 8) | p[3];
        out->is_null = out->v == HOLLOW__FLOAT_NULL;
        return 4;
    }
    if (t == HOLLOW_FIELD_DOUBLE) {
        out->v = hollow__be64(p);
        out->is_null = out->v == HOLLOW__DOUBLE_NULL;
        return 8;
    }
    out->is_null = p[0] == 0x80;
    if (out->is_null || t == HOLLOW_FIELD_BOOLEAN) {
        out->v = out->is_null ? 0 : p[0];
        return 1;
    }
    uint64_t acc = p[0] & 0x7F;
    size_t i = 0;
    while (p[i] & 0x80)
        acc = (acc << 7) | (p[++i] & 0x7F);
    i++;
    if (t == HOLLOW_FIELD_STRING || t == HOLLOW_FIELD_BYTES) {
        out->bytes = p + i;
        out->len = (size_t)acc;
        return i + (size_t)acc;
    }
    out->v = acc;
    return i;
}

/* a vint of a collection's identity bytes (ours: trusted, never the 0x80
 * null marker), decoded inline */
static inline size_t hollow__wvint(const uint8_t *p, uint32_t *v)
{
    uint32_t acc = p[0] & 0x7F;
    size_t i = 0;
    while (p[i] & 0x80)
        acc = (acc << 7) | (p[++i] & 0x7F);
    *v = acc;
    return i + 1;
}

/* statistics of a type over the retained set (§6.2, §7.1, §8.2, §8.5) */
typedef struct hollow__wstats {
    int32_t max_ordinal;      /* M over the retained set */
    uint8_t *widths;          /* OBJECT per field */
    uint64_t *var_total;      /* OBJECT per field: bytes over R */
    uint32_t rec_bits;
    uint8_t ptr_bits, size_bits, elem_bits, value_bits;
    uint64_t *totals;         /* LIST/SET/MAP per shard: T_s / B_s */
    uint64_t total;           /* all shards */
    uint32_t shards;          /* n the stats were computed for */
} hollow__wstats;

int hollow__wstats_compute(hollow__wstats *out, hollow_write_state *ws,
                           hollow__wtype *t, uint32_t shards, bool use_prev);
void hollow__wstats_free(hollow__wstats *s);
/* what stats.c keeps per type, told by cycle.c: a cycle start is about to
 * remove records (begin), record o leaves the map (remove, while its bytes
 * are still there), the removals are done (end); nothing kept is known
 * any more (invalidate: rollback, restore); the type is freed */
void hollow__wrun_begin(hollow__wtype *t);
void hollow__wrun_remove(hollow__wtype *t, uint32_t o);
void hollow__wrun_end(hollow_write_state *ws);
void hollow__wrun_invalidate(hollow__wtype *t);
void hollow__wrun_free(hollow__wtype *t);
/* memoised bucket hash of element e of SET/MAP type t (the type's own
 * memo: one thread per type at a time) */
bool hollow__wrun_hash(uint32_t *out, const hollow__wtype *t, uint32_t e);
void hollow__wrun_hash_put(const hollow__wtype *t, uint32_t e, uint32_t h,
                           uint32_t hint);
/* memoise the bucket hash of every element of SET/MAP type t (with a hash
 * key) on up to `threads` threads, so that chunks of t written on several
 * threads only read the memo */
int hollow__wrun_hash_fill(hollow_write_state *ws, hollow__wtype *t,
                           unsigned threads);
/* that memo, to read inline: hashes and known bits of elements [0, cap) */
typedef struct hollow__wmemo {
    const uint32_t *hash;
    const uint64_t *known;
    uint32_t cap;
} hollow__wmemo;
hollow__wmemo hollow__wrun_memo(const hollow__wtype *t);
/* §10.8 projected size in bytes */
uint64_t hollow__wstats_projected(const hollow__wstats *s, const hollow__wtype *t);

/* the record's identity bytes */
static inline const uint8_t *hollow__wrec(const hollow__wtype *t, uint32_t o,
                                          size_t *len)
{
    *len = t->len[o];
    return t->pool.ptr + t->off[o];
}

static inline hollow__wbits *hollow__wcur(hollow__wtype *t)
{
    return &t->bits[t->cur_bits];
}
static inline hollow__wbits *hollow__wprev(hollow__wtype *t)
{
    return &t->bits[1 - t->cur_bits];
}

/* the hash-key bucket hash of element `e` of SET/MAP type t (§8.3) */
uint32_t hollow__wbucket_hash(const hollow_write_state *ws, const hollow__wtype *t,
                              uint32_t e);
/* that hash of a type with a hash key, computed (no memo); false when a
 * record of a key path is missing (then it is not to be memoised) */
bool hollow__wbucket_hash_calc(uint32_t *out, const hollow_write_state *ws,
                               const hollow__wtype *t, uint32_t e);

/* SET/MAP placement scratch: entries of one record and its bucket table */
typedef struct hollow__wplacer {
    uint32_t *keys;  /* elements / keys, ascending */
    uint32_t *vals;  /* MAP values */
    uint32_t *table; /* bucket -> entry index, UINT32_MAX when empty */
    size_t cap;
    uint32_t size;   /* entries of the record last placed */
} hollow__wplacer;

/* place SET/MAP record o as Java does (§8.3); *buckets = its table size */
int hollow__wplace(uint32_t *buckets, hollow__wplacer *pl,
                   const hollow_write_state *ws, const hollow__wtype *t,
                   uint32_t o);
void hollow__wplacer_free(hollow__wplacer *pl);

/* what a shard writer needs */
typedef struct wctx {
    hollow_write_state *ws;
    hollow__wtype *t;
    const hollow__wstats *st;
    uint32_t n, bits;
    int32_t M;
    const hollow__wbits *pop; /* snapshot: which ordinals to write */
    unsigned split;           /* threads a shard is split over; 0, 1: none */
    bool filled;              /* SET/MAP: the hash memo was filled: read only */
} wctx;

/* a shard section's statistics and data: every slot of the shard
 * (ords NULL, count = slots) or the given ordinals only (a delta) */
void hollow__wshard_body(hollow__buf *b, const wctx *c, uint32_t s,
                         const uint32_t *ords, uint64_t count);
/* §3.4 shard envelope */
void hollow__wenvelope(hollow__buf *b, uint32_t n);
/* hand the buffer to the sink when large (or when forced); a NULL sink
 * keeps everything in the buffer */
int hollow__wflush(hollow__buf *b, hollow_sink_fn fn, void *payload, bool force);

/* one type's section of a blob, written into b (flushed through fn) */
typedef int (*hollow__wsection_fn)(hollow__buf *b, hollow_write_state *ws,
                                   hollow__wtype *t, bool reverse,
                                   hollow_sink_fn fn, void *payload);
/* the sections of types[0, n) after what b holds, in order, through fn:
 * with more than one thread, each written into its own buffer in parallel
 * (the write options' threads) and handed to fn in order */
int hollow__wsections(hollow__buf *b, hollow_write_state *ws,
                      hollow__wtype **types, size_t n, hollow__wsection_fn section,
                      bool reverse, hollow_sink_fn fn, void *payload);

/* choose shard counts for this cycle (§10.8) */
int hollow__ws_choose_shards(hollow_write_state *ws);

/* every type of the write state, in order, as a new array (NULL: ENOMEM) */
hollow__wtype **hollow__ws_type_list(hollow_write_state *ws);

/* HOLLOW_ESTATE unless the write state has never held a record */
int hollow__ws_check_unused(const hollow_write_state *ws);

/* write the header of a blob (§3.1) with the given types' schemas */
void hollow__wheader(hollow__buf *b, hollow_write_state *ws, int64_t origin,
                     int64_t dest, hollow__wtype **types, size_t n,
                     const hollow__wtags *tags);

#endif
