/*
 * Seeded random Hollow states and a model to check them against.
 *
 * A random state has two parts:
 *
 *   rs_schema  random types (OBJECT with every field type, LIST, SET and
 *              MAP of any type, nested collections, self and forward
 *              references, hash keys with one or several paths, through
 *              references, auto-expanded or ending in '!', primary keys),
 *              per-type shard counts (pinned 1..64 or chosen from a target
 *              shard size) and record counts (empty types included);
 *   rs_state   the records of one cycle, kept as the test wrote them:
 *              values exactly as they were passed to the setters
 *              (INT32_MIN, NaN payloads, lone surrogates ...), collection
 *              elements as they were added (SET repeats, MAP puts that a
 *              later put overrides), and the ordinal each record received.
 *
 * References between records are kept as indexes into the referenced
 * type's record array of the same rs_state (never as ordinals), so a state
 * can be re-added to a write state in a later cycle and can be evolved
 * into the next cycle's state (rs_state_evolve) with references that
 * follow their records. Ordinals are only resolved when records are added
 * (rs_state_add), in type order: every reference points to a type earlier
 * in the schema's generation order, or to an earlier record of the same
 * type; references to later types are always null.
 *
 * Checks (rs_state_check*) compare a read state with the model through the
 * typed accessors and report failures with ck_assert_msg, every message
 * starting with the state's `ctx` (seed and state index) and naming the
 * type, the ordinal and the field.
 *
 * Hash-key paths never meet a null reference, and STRING, BYTES and '!'
 * key values are never null (Java's writer fails on those, §11.5); other
 * key values may be null.
 */
#ifndef HOLLOW_RANDSTATE_H
#define HOLLOW_RANDSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hollow/read.h"
#include "hollow/schema.h"
#include "hollow/write.h"

/* ---------------------------------------------------------------- schema */

/** One step of a resolved key path: field `field` of type `type`. */
typedef struct rs_hop {
    int type;
    int field;
} rs_hop;

/** A key path: its text as stored in the schema and its resolved hops
 * (after auto-expansion, §4.2). */
typedef struct rs_path {
    char *text;
    rs_hop *hops;
    size_t nhops;
    hollow_field_type final_type; /* REFERENCE only for a '!' path */
} rs_path;

typedef struct rs_field {
    char *name;
    hollow_field_type type;
    int ref;      /* REFERENCE: the referenced type's index */
    bool nonnull; /* on a hash-key path: never null */
    int null_pct; /* chance of a null value, in percent */
    bool narrow;  /* values from a small pool (duplicates, equal keys) */
} rs_field;

typedef struct rs_type {
    char *name;
    hollow_schema_kind kind;
    rs_field *fields; /* OBJECT */
    size_t nfields;
    int elem;      /* LIST/SET element type, MAP key type */
    int value;     /* MAP value type */
    rs_path *keys; /* OBJECT primary key, SET/MAP hash key */
    size_t nkeys;
    uint32_t shards;   /* pinned shard count; 0: from the target size */
    size_t count;      /* records to generate */
    size_t min_count;  /* a non-null reference needs a record */
    uint32_t max_size; /* largest LIST/SET/MAP generated */
    int dup_pct;       /* chance a record repeats an earlier one */
} rs_type;

typedef struct rs_schema {
    rs_type *types; /* generation order: references point backwards */
    size_t ntypes;
    uint64_t target_shard_size; /* hollow_write_options.target_shard_size */
    uint32_t *list_order;       /* order of the types in the schema list */
} rs_schema;

/** Knobs of rs_schema_gen(). */
typedef struct rs_schema_opts {
    size_t min_types, max_types;
    size_t max_records; /* largest record count of one type */
    /* 0: every type pinned; 1: none pinned; 2: some pinned */
    int shard_mode;
    /* 0: HollowProducer's default; 1: UINT64_MAX (one shard); 2: small */
    int target_mode;
    int empty_pct;        /* chance a type gets no record */
    size_t first_records; /* records of the first type (every field
                             type); 0: from max_records */
} rs_schema_opts;

/** Random schema. Never fails (aborts the test on OOM). */
rs_schema *rs_schema_gen(uint64_t *rng, const rs_schema_opts *opts);
void rs_schema_free(rs_schema *s);
/** The schema list, built with the builder API (validated). */
hollow_schema_list *rs_schema_list(const rs_schema *s);
/** A write state for the schema, with its target size and pinned shard
 * counts. */
hollow_write_state *rs_write_state_new(const rs_schema *s);
/** Print the types (fields, keys with their resolved hops, record counts,
 * shard settings) to `f`, to debug a failing seed. */
void rs_schema_describe(const rs_schema *s, FILE *f);

/* ---------------------------------------------------------------- values */

enum { RS_SET = 0, RS_SET_NULL = 1, RS_UNSET = 2 };

/** A field value as the test passes it to the record. */
typedef struct rs_value {
    uint8_t how; /* RS_SET, RS_SET_NULL, RS_UNSET (left null) */
    uint8_t via; /* STRING: 1 = through the UTF-8 setter */
    bool decoy;  /* set another value first, then this one */
    union {
        int32_t i;
        int64_t l;
        float f;
        double d;
        bool b;
        int32_t ref; /* record index in the referenced type */
    } u;
    void *data; /* STRING: uint16_t units; BYTES: bytes */
    size_t len; /* units or bytes */
} rs_value;

typedef struct rs_rec {
    rs_value *vals;     /* OBJECT: one per field */
    int32_t *elems;     /* LIST/SET: element record indexes as added;
                           MAP: key, value index pairs as put */
    size_t n;           /* elements (pairs for a MAP) */
    hollow_ordinal ord; /* returned by hollow_write_state_add, -1 before */
    int32_t *canon;     /* LIST/SET/MAP content as ordinals (after add) */
    size_t ncanon;
} rs_rec;

typedef struct rs_recs {
    rs_rec *v;
    size_t n, cap;
} rs_recs;

typedef struct rs_state {
    const rs_schema *schema;
    rs_recs *types; /* one per schema type */
    char **tag_keys, **tag_values;
    size_t ntags;
    char *tag_extra; /* a tag set then removed before writing */
    bool has_tag;    /* the randomized tag is set explicitly */
    int64_t tag;
    char ctx[320]; /* prefix of every failure message */
} rs_state;

/** An empty state of `schema` (which must outlive it). */
rs_state *rs_state_new(const rs_schema *schema, const char *ctx);
void rs_state_free(rs_state *st);
/** Random records for every type (ordinals not assigned yet), header tags
 * and maybe an explicit randomized tag. */
void rs_state_gen(rs_state *st, uint64_t *rng);
/**
 * The next cycle's records: some records of `prev` kept (references
 * follow them), some modified, some dropped (now and then every record of
 * a type), new ones added; types needing a record keep one. Header tags:
 * every tag of `prev` again (a write state may keep tags from cycle to
 * cycle), some with new values, and a few new ones; the randomized tag is
 * drawn anew (set explicitly or not). Shard counts are the schema's: change
 * rs_type.shards between cycles to reshard.
 */
rs_state *rs_state_evolve(const rs_state *prev, uint64_t *rng, const char *ctx);
/** Set (or replace) a header tag of the model before rs_state_add(). */
void rs_state_put_tag(rs_state *st, const char *key, const char *value);

/**
 * Add every record to `ws` type by type in generation order (header tags and
 * the randomized tag too), filling the ordinals, and check deduplication: a
 * record equal to an earlier one of this state, or to one of `prev` (the
 * previous cycle, may be NULL), must get that record's ordinal; any other
 * record a new ordinal, neither used in this state nor populated in `prev`
 * - and with `fresh` (a first cycle), exactly the next one: 0, 1, 2 ...
 */
void rs_state_add(rs_state *st, hollow_write_state *ws, const rs_state *prev,
                  bool fresh);

/** Distinct records (ordinals) of type `t`. */
size_t rs_state_distinct(const rs_state *st, int t);

/**
 * Check a read state against the model: types and schemas, populated
 * ordinals and record counts, pinned shard counts, every field of every
 * record through its typed accessor, LIST order, SET and MAP content as
 * sets, hollow_set_contains / hollow_map_get for every element / key (and
 * some absent ones), hollow_set_find / hollow_map_find with the key values
 * of every element of hash-keyed types, header tags and randomized tag
 * (`tag`: the randomized tag that was written). `prev` is the previous
 * cycle's state (NULL for a first cycle): a type's slots then reach the
 * largest ordinal of the retained set (§6.2), else exactly its largest
 * record.
 */
void rs_state_check(const rs_state *st, const hollow_read_state *rs,
                    int64_t tag, const rs_state *prev);

/* ----------------------------------------------------------- utilities */

/** Growable byte buffer (blob sink, dump text). */
typedef struct rs_buf {
    uint8_t *p;
    size_t len, cap;
} rs_buf;

void rs_buf_put(rs_buf *b, const void *p, size_t n);
void rs_buf_free(rs_buf *b);
/** hollow_sink_fn / hollow_write_fn appending to an rs_buf. */
int rs_buf_sink(void *payload, const void *data, size_t len);
int rs_buf_text_sink(void *payload, const char *data, size_t len);

/** The canonical dump of `rs`. */
void rs_dump(rs_buf *out, const hollow_read_state *rs, const char *ctx);

/**
 * Run a shell command, capturing its stdout; returns the exit status
 * (-1 if it did not exit normally).
 */
int rs_run(const char *cmd, rs_buf *out);

/**
 * `python3 tests/tools/hollow_read.py FILES...` must print exactly the
 * canonical dump `c_dump` (the C reader's dump of the same chain).
 */
void rs_check_python_dump(const char *ctx, const char *const *files, size_t n,
                          const rs_buf *c_dump);

/**
 * `python3 tests/tools/hollow_lint.py OPTS FILES...` must exit 0 (no MUST
 * violation); its output goes to *out when `out` is not NULL (for SHOULD
 * findings) and to stderr on failure.
 */
void rs_check_lint(const char *ctx, const char *opts, const char *const *files,
                   size_t n, rs_buf *out);

/** The number of findings of `level` ("MUST", "SHOULD", "note") in the
 * summary line of hollow_lint.py's output; -1 if there is no summary. */
int rs_lint_count(const rs_buf *out, const char *level);

/** UTF-16 units to WTF-8 (pairs as 4 bytes, lone surrogates as 3);
 * `out` needs 3 bytes per unit. Returns the length. */
size_t rs_wtf8(char *out, const uint16_t *u, size_t n);

uint64_t rs_rand(uint64_t *rng);
/** Uniform in [0, n) (n > 0). */
uint32_t rs_below(uint64_t *rng, uint32_t n);
/** True with probability pct %. */
bool rs_chance(uint64_t *rng, int pct);

#endif
