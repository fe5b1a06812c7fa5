/*
 * hollow/index.h - primary key, unique key and hash indexes over a read
 * state.
 *
 * An index answers "which record has these key values" for one read state
 * (docs/indexes.md has the long version):
 *
 *   primary key index  the ordinal of the record of an OBJECT type whose
 *                      @PrimaryKey fields (or given field paths) equal the
 *                      key values, single or composite, through references;
 *   unique key index   the same for fields that are unique without being
 *                      the primary key;
 *   hash index         every record of an OBJECT type with a match on one
 *                      or more paths, which may also go into LIST, SET and
 *                      MAP elements (every Movie with an actor named "Ada").
 *
 * Paths. A path is a dot-separated list of segments starting at the indexed
 * OBJECT type (blob-format.md §4.2). A segment after an OBJECT type is one
 * of its fields; a non-final field must be a REFERENCE, and the path goes
 * on in the referenced type. After a LIST or SET type the segment is
 * `element`; after a MAP type it is `key` or `value`. A path that ends on
 * a reference (a REFERENCE field, an element, a key or a value) is
 * expanded as §4.2 says: while the referenced type is an OBJECT with one
 * field, that field is appended; else a single-field primary key of that
 * type is appended. A final `!` stops the expansion: the key value is then
 * the referenced ordinal (type HOLLOW_FIELD_REFERENCE). Examples over
 * `Movie { long id; SetOfActor actors; }`, `SetOfActor Set<Actor>`,
 * `Actor { int id; String name; }`, `String { string value; }`:
 *
 *   "id"                     Movie.id (LONG)
 *   "actors.element.name"    = actors.element.name.value (STRING), one
 *                            value per actor: hash indexes only
 *   "actors.element!"        the Actor ordinals of the set (REFERENCE)
 *
 * Primary and unique key paths hold one value per record, so they never go
 * through a collection. Paths of one hash index that go through the same
 * collection walk it together: ("actors.element.id", "actors.element.name")
 * matches a Movie with one actor having both values, not one actor with
 * the id and another with the name.
 *
 * Values and nulls. Key values compare as the record stores them: STRING
 * by its UTF-16 code units, FLOAT and DOUBLE by bit pattern (so 0.0 and
 * -0.0 are different keys; the writer stores every NaN as Java's canonical
 * NaN), BYTES by their bytes. A null field is a key value of its own,
 * matched by a probe with is_null set (or INT32_MIN / INT64_MIN for INT /
 * LONG, which the writer stores as null, §6.1). A null reference on the
 * way, or a reference to an ordinal that holds no record (a state no
 * producer writes), makes the path's value null. In a hash index a
 * collection without elements gives no value: the record is not indexed
 * (together with the other paths, a record is indexed under every
 * combination of its paths' values).
 *
 * Consistency. An index belongs to the read state it was built on, holds a
 * reference to it and answers for it alone; it never changes after it is
 * built. After a refresh, hollow_index_derive() makes the new state's index
 * from the old one: by patching it with the records the delta removed and
 * added when that is cheaper, by a fresh build otherwise. Either way the
 * result answers exactly as a fresh build on the new state would.
 *
 * Costs. A build reads every record of the indexed type once (and what its
 * paths reach). A lookup hashes the probe, probes an open-addressing table
 * and compares the record's key fields with the probe on a hash match (a
 * key that is one fixed-width field of the type is kept in the table
 * itself and compared there); it allocates nothing and takes no lock. A
 * STRING probe is UTF-8: it is encoded once into the stored form (on the
 * stack) and compared byte for byte with hollow_object_string_raw() bytes.
 * docs/indexes.md gives sizes and timings.
 *
 * Threads: an index is immutable; any number of threads may look up in it
 * at once. Acquire and release are safe from any thread. Building a key
 * that is one fixed-width field of a type with 65,536 records or more
 * starts up to one thread per core (the cores the process may run on) and
 * joins them before returning; other builds use the calling thread.
 */
#ifndef HOLLOW_INDEX_H
#define HOLLOW_INDEX_H

#include "common.h"
#include "error.h"
#include "read.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An index over one read state; reference counted, immutable. */
typedef struct hollow_index hollow_index;

/** What an index answers. */
typedef enum hollow_index_kind {
    HOLLOW_INDEX_PRIMARY_KEY = 0, /**< one record per key (@PrimaryKey) */
    HOLLOW_INDEX_UNIQUE_KEY = 1,  /**< one record per key (other fields) */
    HOLLOW_INDEX_HASH = 2         /**< every matching record */
} hollow_index_kind;

/** How an index came to be (see hollow_index_derive()). */
typedef enum hollow_index_origin {
    HOLLOW_INDEX_BUILT = 0,  /**< built from every record of the state */
    HOLLOW_INDEX_PATCHED = 1 /**< derived: the old index plus the changes */
} hollow_index_origin;

/**
 * Ordinals matching a hash-index query, or holding one duplicated key: a
 * borrowed array in ascending order, valid while the index is held.
 */
typedef struct hollow_index_matches {
    const hollow_ordinal *ordinals;
    size_t count;
} hollow_index_matches;

/** Most paths an index may have. */
#define HOLLOW_INDEX_MAX_PATHS 16

/* --------------------------------------------------------------- build */

/**
 * Build the primary key index of OBJECT type `type` of `rs`.
 *
 * @param out    receives the index (one reference, the caller's)
 * @param rs     the state to index (the index takes a reference to it)
 * @param type   name of an OBJECT type of `rs`
 * @param paths  the key's field paths (see the top of this header), or
 *               NULL to use the type's @PrimaryKey
 * @param count  number of paths (0 with NULL paths)
 * @return 0; HOLLOW_ENOTFOUND if `rs` has no type `type`; HOLLOW_EINVAL if
 *         it is not an OBJECT, has no @PrimaryKey (paths NULL), a path does
 *         not resolve or goes through a collection, or there are more than
 *         HOLLOW_INDEX_MAX_PATHS paths; HOLLOW_ECORRUPT if a record cannot
 *         be decoded; HOLLOW_ENOMEM. *out is NULL on failure.
 *
 * Records sharing a key (a producer bug for a primary key) are all
 * indexed: a lookup returns the smallest of their ordinals, and
 * hollow_index_duplicate_count() / hollow_index_duplicate_at() list them.
 *
 * Ownership: release *out with hollow_index_release().
 */
HOLLOW_API int hollow_index_primary_key_new(hollow_index **out,
                                            const hollow_read_state *rs,
                                            const char *type,
                                            const char *const *paths,
                                            size_t count);

/**
 * Build a unique key index: as hollow_index_primary_key_new() for the
 * given paths (1 or more, required), which need not be the primary key.
 * @return as hollow_index_primary_key_new(); HOLLOW_EINVAL without paths.
 */
HOLLOW_API int hollow_index_unique_key_new(hollow_index **out,
                                           const hollow_read_state *rs,
                                           const char *type,
                                           const char *const *paths,
                                           size_t count);

/**
 * Build a hash index of OBJECT type `type` on one or more match paths,
 * which may go through references and into LIST, SET and MAP elements.
 * @return 0; HOLLOW_ENOTFOUND if there is no such type; HOLLOW_EINVAL for
 *         a non-OBJECT type, no paths, too many paths, or a path that does
 *         not resolve; HOLLOW_ECORRUPT; HOLLOW_ENOMEM. *out is NULL on
 *         failure.
 * Ownership: release *out with hollow_index_release().
 */
HOLLOW_API int hollow_index_hash_new(hollow_index **out,
                                     const hollow_read_state *rs,
                                     const char *type,
                                     const char *const *paths, size_t count);

/**
 * Make the index of `rs` that answers as `old` does for its own state: same
 * kind, type and paths (a primary key index made from the @PrimaryKey takes
 * the key of `rs`'s schema).
 *
 * When `rs` came from `old`'s state by one delta or reverse delta, or is a
 * snapshot of the version right after it (its origin tag is the old
 * state's randomized tag), and the schemas of the types on the paths are
 * unchanged, the records that were removed (populated before, not after)
 * and added (the other way round) are found by comparing the shards of the
 * old and new types (shards the delta did not touch are shared, so they
 * cost nothing); the removed records are taken out, the added ones put in
 * and the rest of the old index is copied without reading a record. When
 * the key reaches other types through references, the index counts how
 * often each of their records is reached, so a removed record that some
 * kept record still reaches is noticed (and leads to a rebuild). Anything
 * else is a fresh build: another lineage, a schema change, more than half
 * the records changed, or an index that met dangling references before.
 *
 * The result always answers exactly as a fresh build on `rs`. `old` is not
 * changed and stays valid for whoever holds it. When `rs` is `old`'s own
 * state, *out is `old` itself, with one more reference.
 *
 * Derivation trusts the delta's record identity as Java Hollow's consumer
 * does: an ordinal populated before and after a delta holds the same
 * record (a delta never removes and adds one ordinal at once).
 *
 * @param out  receives the new index (one reference)
 * @param old  an index of an earlier state (borrowed)
 * @param rs   the state to index
 * @return as the build functions of `old`'s kind. *out is NULL on failure.
 * Threads: `old` may be used by other threads meanwhile.
 */
HOLLOW_API int hollow_index_derive(hollow_index **out, const hollow_index *old,
                                   const hollow_read_state *rs);

/** Take one more reference. Threads: safe from any thread. */
HOLLOW_API void hollow_index_acquire(hollow_index *ix);

/**
 * Drop one reference; the last one frees the index and releases its
 * state. NULL is a no-op. Threads: safe from any thread.
 */
HOLLOW_API void hollow_index_release(hollow_index *ix);

/** Same as hollow_index_release(). */
HOLLOW_API void hollow_index_free(hollow_index *ix);

/* ------------------------------------------------------------- inspect */

/** The state the index answers for. Lifetime: while the index is held. */
HOLLOW_API const hollow_read_state *hollow_index_state(const hollow_index *ix);

/** The kind of index (HOLLOW_INDEX_PRIMARY_KEY for NULL). */
HOLLOW_API hollow_index_kind hollow_index_kind_of(const hollow_index *ix);

/** Whether the index was built, patched or reused (hollow_index_derive());
 * HOLLOW_INDEX_BUILT for NULL. */
HOLLOW_API hollow_index_origin hollow_index_origin_of(const hollow_index *ix);

/** The indexed type's name. Lifetime: the index's. */
HOLLOW_API const char *hollow_index_type_name(const hollow_index *ix);

/** Number of key / match paths. */
HOLLOW_API size_t hollow_index_path_count(const hollow_index *ix);

/** Path `i` as given (or as the @PrimaryKey spells it), else NULL. */
HOLLOW_API const char *hollow_index_path(const hollow_index *ix, size_t i);

/**
 * The type of the values of path `i` after expansion: the final field's
 * type, or HOLLOW_FIELD_REFERENCE for a path ending in `!`. A probe value
 * for the path must have this type. HOLLOW_FIELD_INT when out of range.
 */
HOLLOW_API hollow_field_type hollow_index_path_type(const hollow_index *ix,
                                                    size_t i);

/**
 * Number of distinct keys: for a primary or unique key index the records
 * minus the extra records of duplicated keys; for a hash index the
 * distinct value combinations.
 */
HOLLOW_API size_t hollow_index_key_count(const hollow_index *ix);

/** Bytes the index holds through the library's allocator (not the state). */
HOLLOW_API size_t hollow_index_memory(const hollow_index *ix);

/* -------------------------------------------------- primary / unique key */

/**
 * The record whose key equals `keys` (one value per path, in path order,
 * each of the path's type; STRING values as UTF-8 in u.str).
 *
 * @return the ordinal (>= 0); HOLLOW_ENOTFOUND if no record has the key
 *         (not an error: hollow_error_last() is left alone); HOLLOW_EINVAL
 *         for a hash index, a wrong count, a value of the wrong type or a
 *         STRING that is not UTF-8. With duplicated keys, the smallest
 *         ordinal.
 * Allocates nothing, takes no lock.
 */
HOLLOW_API int hollow_index_find(const hollow_index *ix,
                                 const hollow_value *keys, size_t count);

/**
 * As hollow_index_find(), with STRING values in their stored form (u.bytes
 * as hollow_object_value() and hollow_object_string_raw() return them), to
 * look up with a value read from another record without converting it.
 */
HOLLOW_API int hollow_index_find_stored(const hollow_index *ix,
                                        const hollow_value *keys, size_t count);

/**
 * Number of keys that more than one record holds (0 for a hash index).
 */
HOLLOW_API size_t hollow_index_duplicate_count(const hollow_index *ix);

/**
 * The records of duplicated key `i` (0 <= i < duplicate count), in
 * ascending order; keys are ordered by their smallest ordinal.
 * @return 0; HOLLOW_ENOTFOUND if `i` is out of range.
 */
HOLLOW_API int hollow_index_duplicate_at(hollow_index_matches *out,
                                         const hollow_index *ix, size_t i);

/**
 * The records sharing the key of record `o` when that key is duplicated:
 * for the answer `o` of hollow_index_find(), every record with the probe's
 * key (`o` is then the first). Finding the group of the smallest record of
 * a key is a binary search; of another record, a scan of the groups.
 * @return the number of records (>= 2), or 0 (out->count 0) if no other
 *         record shares o's key or `o` is not indexed; HOLLOW_EINVAL for a
 *         hash index.
 */
HOLLOW_API int hollow_index_duplicates_of(hollow_index_matches *out,
                                          const hollow_index *ix,
                                          hollow_ordinal o);

/* ---------------------------------------------------------- hash index */

/**
 * Every record of a hash index matching `keys` (one value per match path,
 * in path order; STRING as UTF-8).
 *
 * @param out  receives the matches (count 0 and ordinals NULL if none)
 * @return the number of matches (>= 0); HOLLOW_EINVAL for a primary or
 *         unique key index, a wrong count, a value of the wrong type or a
 *         STRING that is not UTF-8.
 * Allocates nothing, takes no lock. Lifetime of the matches: the index's.
 */
HOLLOW_API int hollow_index_match(hollow_index_matches *out,
                                  const hollow_index *ix,
                                  const hollow_value *keys, size_t count);

/** As hollow_index_match(), with STRING values in their stored form. */
HOLLOW_API int hollow_index_match_stored(hollow_index_matches *out,
                                         const hollow_index *ix,
                                         const hollow_value *keys,
                                         size_t count);

/* --------------------------------------------------------- probe values */

/*
 * Probe values, for brevity: hollow_value k[2] = {hollow_key_string("Up",
 * 2), hollow_key_int(1989)}; hollow_index_find(ix, k, 2).
 */

/** A null value of field type `t`. */
static inline hollow_value hollow_key_null(hollow_field_type t)
{
    hollow_value v;
    v.type = t;
    v.is_null = true;
    v.u.l = 0;
    return v;
}

static inline hollow_value hollow_key_int(int32_t x)
{
    hollow_value v;
    v.type = HOLLOW_FIELD_INT;
    v.is_null = false;
    v.u.i = x;
    return v;
}

static inline hollow_value hollow_key_long(int64_t x)
{
    hollow_value v;
    v.type = HOLLOW_FIELD_LONG;
    v.is_null = false;
    v.u.l = x;
    return v;
}

static inline hollow_value hollow_key_float(float x)
{
    hollow_value v;
    v.type = HOLLOW_FIELD_FLOAT;
    v.is_null = false;
    v.u.f = x;
    return v;
}

static inline hollow_value hollow_key_double(double x)
{
    hollow_value v;
    v.type = HOLLOW_FIELD_DOUBLE;
    v.is_null = false;
    v.u.d = x;
    return v;
}

static inline hollow_value hollow_key_bool(bool x)
{
    hollow_value v;
    v.type = HOLLOW_FIELD_BOOLEAN;
    v.is_null = false;
    v.u.b = x;
    return v;
}

/** A STRING probe: `len` bytes of UTF-8 (borrowed for the call). */
static inline hollow_value hollow_key_string(const char *utf8, size_t len)
{
    hollow_value v;
    v.type = HOLLOW_FIELD_STRING;
    v.is_null = false;
    v.u.str.ptr = utf8;
    v.u.str.len = len;
    return v;
}

/** A BYTES probe (borrowed for the call). */
static inline hollow_value hollow_key_bytes(const void *p, size_t len)
{
    hollow_value v;
    v.type = HOLLOW_FIELD_BYTES;
    v.is_null = false;
    v.u.bytes.ptr = (const uint8_t *)p;
    v.u.bytes.len = len;
    return v;
}

/** A referenced ordinal, for a path ending in `!`. */
static inline hollow_value hollow_key_ref(hollow_ordinal o)
{
    hollow_value v;
    v.type = HOLLOW_FIELD_REFERENCE;
    v.is_null = o < 0;
    v.u.ref = o;
    return v;
}

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_INDEX_H */
