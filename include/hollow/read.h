/*
 * hollow/read.h - immutable read states and record accessors.
 *
 * A read state is one version of a dataset as a consumer holds it: the
 * types with their schemas, the records of each type addressed by ordinal,
 * the randomized tag and the header tags of the blob that produced it.
 * It is immutable once made and reference counted: any number of threads
 * may read it at once, without locks, for as long as they hold a
 * reference (hollow_read_state_acquire / hollow_read_state_release).
 *
 * Records stay in the wire layout (big-endian packed words, blob-format.md
 * §1.5). Reading a field decodes it on the spot and allocates nothing.
 * Values that live in the state (strings, bytes) come back as borrowed
 * views, valid while the caller holds its reference.
 *
 * Accessors return HOLLOW_OK (0), HOLLOW_NULL (1, not an error) for a null
 * value, or a negative error: HOLLOW_EINVAL for a field index or kind that
 * does not match the type, HOLLOW_ENOTFOUND for an ordinal beyond the
 * type's last slot, HOLLOW_ECORRUPT when the stored bytes are inconsistent
 * (only a hostile blob produces that). Reading an unpopulated ordinal that
 * has a slot returns that slot's (empty) content; use
 * hollow_type_is_populated() to know which ordinals hold records.
 * A NULL state, type or out pointer gives HOLLOW_EINVAL (error.h).
 */
#ifndef HOLLOW_READ_H
#define HOLLOW_READ_H

#include "common.h"
#include "error.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hollow_read_state hollow_read_state;
/** A type within a read state; borrowed, lives as long as the state. */
typedef struct hollow_type hollow_type;

/** Where record data lives (architecture decision 3). */
typedef enum hollow_memory_mode {
    HOLLOW_MEMORY_HEAP = 0, /**< blob sections copied into the heap */
    HOLLOW_MEMORY_MMAP = 1  /**< blob sections used in place from a mapped file */
} hollow_memory_mode;

/** Options for loading a snapshot. */
typedef struct hollow_read_options {
    unsigned int version;            /**< HOLLOW_READ_OPTIONS_VERSION */
    hollow_memory_mode memory_mode;  /**< heap (default) or mmap (files only) */
    /**
     * Load only these types and every type they reference (through
     * REFERENCE fields, elements, keys and values), NULL-terminated; NULL
     * loads every type. Sections of the other types are parsed and dropped.
     * Borrowed during the call only.
     */
    const char *const *type_filter;
} hollow_read_options; /* another version or memory mode: HOLLOW_EINVAL */

#define HOLLOW_READ_OPTIONS_VERSION 1
#define HOLLOW_READ_OPTIONS_INIT                                               \
    {HOLLOW_READ_OPTIONS_VERSION, HOLLOW_MEMORY_HEAP, NULL}

/**
 * Load a snapshot blob from memory into a new read state (heap mode: the
 * bytes are copied, `data` may be freed afterwards).
 *
 * @param out   receives the state, with one reference held by the caller
 * @param data  the snapshot bytes
 * @param len   their length
 * @param opts  NULL for defaults; mmap mode is refused here (HOLLOW_EINVAL)
 * @return 0; HOLLOW_ECORRUPT for a truncated or inconsistent blob (the
 *         message names what and the byte offset); HOLLOW_EVERSION for a
 *         blob format version other than 1030; HOLLOW_ENOMEM.
 *         *out is NULL on failure.
 */
HOLLOW_API int hollow_read_state_from_snapshot(hollow_read_state **out,
                                               const void *data, size_t len,
                                               const hollow_read_options *opts);

/**
 * Load a snapshot from a file, in heap or mmap mode. A file that cannot be
 * mapped (a pipe, /dev/stdin) is read to its end into memory instead.
 * @return as hollow_read_state_from_snapshot(); HOLLOW_EIO if the file
 *         cannot be read.
 */
HOLLOW_API int hollow_read_state_open(hollow_read_state **out, const char *path,
                                      const hollow_read_options *opts);

/**
 * Apply a delta or reverse delta (blob-format.md §9) to `rs`, giving a new
 * state. `rs` is not changed and stays valid for everyone who holds it; the
 * new state shares with it every shard the delta leaves unchanged, so a
 * small delta costs memory and time in proportion to what it changes.
 * Deltas may regroup a type into a new shard count (§9.7). The new state
 * keeps the schemas of `rs` (§3.2): sections for types it lacks are
 * skipped; fields are matched by name (§9.6).
 *
 * @param out  receives the new state with one reference, NULL on failure
 * @param rs   the state the delta starts from (borrowed)
 * @return 0; HOLLOW_ECHAIN if the delta's origin tag is not the state's
 *         randomized tag, or a section changes a type's kind or a field's
 *         type (load a snapshot instead); HOLLOW_ECORRUPT for a truncated
 *         or inconsistent delta; HOLLOW_EVERSION; HOLLOW_ENOMEM. Nothing
 *         half-applied is ever returned.
 * Threads: `rs` may be read by other threads meanwhile.
 */
HOLLOW_API int hollow_read_state_apply_delta(hollow_read_state **out,
                                             const hollow_read_state *rs,
                                             const void *data, size_t len);

/** As hollow_read_state_apply_delta(), reading the delta from a file. */
HOLLOW_API int hollow_read_state_apply_delta_file(hollow_read_state **out,
                                                  const hollow_read_state *rs,
                                                  const char *path);

/**
 * Take one more reference to `rs` and return it, as a pointer the caller
 * may release. It takes a const pointer so that a state handed out as
 * const (hollow_refresh_event.state, a validator's state,
 * hollow_index_state()) can be kept past the call that gave it:
 *
 *     hollow_read_state *kept = hollow_read_state_acquire(ev->state);
 *     ...
 *     hollow_read_state_release(kept);
 *
 * The caller must already hold a reference, directly or through whoever
 * handed it `rs` (for example, during a listener call). NULL is a no-op
 * and returns NULL.
 *
 * @return `rs`.
 * Ownership: one reference for the caller; release it.
 * Threads: safe from any thread.
 */
HOLLOW_API hollow_read_state *hollow_read_state_acquire(const hollow_read_state *rs);

/**
 * Drop one reference; the last one frees the state. NULL is a no-op.
 * Lifetime: every view, type and string borrowed from the state through
 * this reference becomes invalid unless the caller holds another one.
 * Threads: safe from any thread.
 */
HOLLOW_API void hollow_read_state_release(hollow_read_state *rs);

/** Same as hollow_read_state_release() (for the _new/_free habit). */
HOLLOW_API void hollow_read_state_free(hollow_read_state *rs);

/*
 * The inspectors below cannot fail; they take a state the caller holds a
 * reference to (NULL is not allowed) and may be called from any thread.
 */

/** The state's randomized tag (destination tag of the last blob, §3.9). */
HOLLOW_API int64_t hollow_read_state_randomized_tag(const hollow_read_state *rs);

/**
 * The version this state holds, as the consumer that loaded it knows it
 * (from the blob store's names); 0 for a state loaded on its own.
 */
HOLLOW_API int64_t hollow_read_state_version(const hollow_read_state *rs);

/** The origin tag of the last blob applied (-1 for a first snapshot, or
 * for NULL). */
HOLLOW_API int64_t hollow_read_state_origin_tag(const hollow_read_state *rs);

/** Number of header tags. */
HOLLOW_API size_t hollow_read_state_header_tag_count(const hollow_read_state *rs);

/**
 * Header tag `i` in blob order. Keys and values are UTF-8 (a U+0000 in
 * them is kept as the bytes C0 80, as Java's modified UTF-8 writes it).
 * `key` and `value` may be NULL (not wanted).
 * @return 0; HOLLOW_ENOTFOUND if `i` is out of range (*key and *value are
 *         then left unchanged).
 * Lifetime: the strings are borrowed from the state, NUL-terminated, valid
 * while it is held.
 */
HOLLOW_API int hollow_read_state_header_tag_at(const hollow_read_state *rs,
                                               size_t i, const char **key,
                                               const char **value);

/** The value of header tag `key`, or NULL; borrowed as for
 * hollow_read_state_header_tag_at(). */
HOLLOW_API const char *hollow_read_state_header_tag(const hollow_read_state *rs,
                                                    const char *key);

/** Number of types. */
HOLLOW_API size_t hollow_read_state_type_count(const hollow_read_state *rs);

/**
 * Type `i` in blob order (the producer's type order, §3.8), or NULL if `i`
 * is not below hollow_read_state_type_count().
 * Lifetime: a hollow_type is borrowed from the state: valid while it is held.
 */
HOLLOW_API const hollow_type *hollow_read_state_type_at(const hollow_read_state *rs,
                                                        size_t i);

/** Type `i` in ascending name order, or NULL; borrowed as above. */
HOLLOW_API const hollow_type *hollow_read_state_type_sorted(const hollow_read_state *rs,
                                                            size_t i);

/** The type named `name` (exact, case-sensitive match), or NULL; borrowed
 * as above. */
HOLLOW_API const hollow_type *hollow_read_state_type(const hollow_read_state *rs,
                                                     const char *name);

/**
 * Bytes of memory the state holds through the library's allocator,
 * excluding mapped file pages (mmap mode). Shared shards count in full; so
 * does the buffer holding a loaded snapshot (heap mode), once, as long as
 * any shard of the state points into it.
 */
HOLLOW_API size_t hollow_read_state_memory(const hollow_read_state *rs);

/**
 * Java's HollowChecksum of the whole state (§12): type checksums in
 * ascending type-name order.
 * @return 0; HOLLOW_ECORRUPT for inconsistent data.
 */
HOLLOW_API int hollow_read_state_checksum(uint32_t *out, const hollow_read_state *rs);

/* ---------------------------------------------------------- publication */

/**
 * A cell holding the current read state of something that refreshes (a
 * consumer): a refresh publishes each new state, readers pin the current
 * one. Readers never lock and never wait for a refresh; a publish waits
 * only for readers that are inside the few instructions of an acquire.
 *
 * Threads: acquire from any number of threads; publish from any thread
 * (publishers are serialized internally).
 */
typedef struct hollow_state_holder hollow_state_holder;

/**
 * Create an empty holder.
 * @return 0; HOLLOW_EINVAL if `out` is NULL; HOLLOW_ENOMEM; HOLLOW_ERROR if
 *         a mutex cannot be created. *out is NULL on failure.
 * Ownership: free it with hollow_state_holder_free().
 */
HOLLOW_API int hollow_state_holder_new(hollow_state_holder **out);

/**
 * Free the holder and drop its reference to the current state (states
 * pinned by readers stay valid until they release them). NULL is a no-op.
 * Threads: no other thread may use the holder during or after the call.
 */
HOLLOW_API void hollow_state_holder_free(hollow_state_holder *h);

/**
 * Make `rs` the current state. The holder takes over one reference from
 * the caller (acquire another first to keep using `rs`); the previous
 * state's reference is dropped. `rs` may be NULL.
 */
HOLLOW_API void hollow_state_holder_publish(hollow_state_holder *h,
                                            hollow_read_state *rs);

/**
 * Pin the current state: returns it with one more reference (release it
 * with hollow_read_state_release()), or NULL if nothing is published.
 */
HOLLOW_API hollow_read_state *hollow_state_holder_acquire(hollow_state_holder *h);

/**
 * The checksum of `rs` over what `with` also has: the types of the same
 * name and kind, and of OBJECT types the fields of the same name and type
 * (Java's comparison of states across a data-model change, §12).
 * @return 0; HOLLOW_ECORRUPT; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_read_state_checksum_common(uint32_t *out,
                                                 const hollow_read_state *rs,
                                                 const hollow_read_state *with);

/* ----------------------------------------------------------------- types */

/*
 * The type inspectors cannot fail and allocate nothing; `t` comes from one
 * of the hollow_read_state_type*() calls. Threads: any thread, while the
 * state is held.
 */

/** The type's name; borrowed, NUL-terminated, valid while the state is held. */
HOLLOW_API const char *hollow_type_name(const hollow_type *t);
/** The type's schema, as the state holds it (the blob's schema, narrowed
 * by the consumer's filter); borrowed, valid while the state is held. */
HOLLOW_API const hollow_schema *hollow_type_schema(const hollow_type *t);
/** OBJECT, LIST, SET or MAP: the kind of hollow_type_schema();
 * HOLLOW_SCHEMA_OBJECT for NULL. */
HOLLOW_API hollow_schema_kind hollow_type_kind(const hollow_type *t);
/** Number of shards n (a power of two). */
HOLLOW_API uint32_t hollow_type_shard_count(const hollow_type *t);
/** Largest ordinal with a slot, or -1 (also for NULL). */
HOLLOW_API hollow_ordinal hollow_type_max_ordinal(const hollow_type *t);
/** Number of populated ordinals (records). */
HOLLOW_API size_t hollow_type_record_count(const hollow_type *t);
/** True if ordinal `o` holds a record. */
HOLLOW_API bool hollow_type_is_populated(const hollow_type *t, hollow_ordinal o);
/**
 * The first populated ordinal >= `from`, or HOLLOW_ORDINAL_NONE.
 * Iterate with `for (o = next(t, 0); o >= 0; o = next(t, o + 1))`.
 */
HOLLOW_API hollow_ordinal hollow_type_next_ordinal(const hollow_type *t,
                                                   hollow_ordinal from);
/**
 * Bytes of memory the type's shards hold (as hollow_read_state_memory()
 * counts them: shards shared with another state count in full; in mmap
 * mode the mapped pages are left out; in heap mode the type's own part of
 * a loaded snapshot's buffer counts); 0 for NULL.
 */
HOLLOW_API size_t hollow_type_memory(const hollow_type *t);
/** The §12 checksum of one type. @return 0; HOLLOW_ECORRUPT. */
HOLLOW_API int hollow_type_checksum(uint32_t *out, const hollow_type *t);

/* --------------------------------------------------------------- objects */

/** A field value of any type (used by generic reads and key lookups). */
typedef struct hollow_value {
    hollow_field_type type;
    bool is_null;
    union {
        int32_t i;          /**< INT */
        int64_t l;          /**< LONG */
        float f;            /**< FLOAT */
        double d;           /**< DOUBLE */
        bool b;             /**< BOOLEAN */
        hollow_str str;     /**< STRING, UTF-8 (as a probe); see below */
        hollow_bytes bytes; /**< BYTES; STRING as read: stored encoding */
        hollow_ordinal ref; /**< REFERENCE */
    } u;
} hollow_value;

/*
 * Field readers of OBJECT records. `field` is the index in the type's
 * schema (hollow_schema_field_index()); the field must have the reader's
 * type. Each returns 0, HOLLOW_NULL for a null value, or the errors at the
 * top of this header; `*out` is meaningful after 0 and HOLLOW_NULL only.
 * Threads: any thread, while the state is held; nothing is allocated.
 */

/** An INT field. A null INT (stored as INT32_MIN, §6.1) reads as
 * INT32_MIN with HOLLOW_NULL. */
HOLLOW_API int hollow_object_int(int32_t *out, const hollow_type *t,
                                 hollow_ordinal o, size_t field);
/** A LONG field. A null LONG reads as INT64_MIN with HOLLOW_NULL. */
HOLLOW_API int hollow_object_long(int64_t *out, const hollow_type *t,
                                  hollow_ordinal o, size_t field);
/** A null FLOAT reads as NaN with HOLLOW_NULL. */
HOLLOW_API int hollow_object_float(float *out, const hollow_type *t,
                                   hollow_ordinal o, size_t field);
/** A null DOUBLE reads as NaN with HOLLOW_NULL. */
HOLLOW_API int hollow_object_double(double *out, const hollow_type *t,
                                    hollow_ordinal o, size_t field);
/** A BOOLEAN field. A null BOOLEAN reads as false with HOLLOW_NULL. */
HOLLOW_API int hollow_object_bool(bool *out, const hollow_type *t,
                                  hollow_ordinal o, size_t field);
/** The referenced ordinal; HOLLOW_NULL (and HOLLOW_ORDINAL_NONE) if null. */
HOLLOW_API int hollow_object_ref(hollow_ordinal *out, const hollow_type *t,
                                 hollow_ordinal o, size_t field);
/** A BYTES field as a view borrowed from the state (valid while it is
 * held); a null BYTES reads as {NULL, 0} with HOLLOW_NULL. */
HOLLOW_API int hollow_object_bytes(hollow_bytes *out, const hollow_type *t,
                                   hollow_ordinal o, size_t field);

/**
 * A STRING field as UTF-8. If the stored string is ASCII, `out` is a view
 * into the state and `buf` is not touched; otherwise it is converted into
 * `buf` (surrogate pairs become 4-byte UTF-8; a lone surrogate becomes its
 * 3-byte generalized form, as WTF-8 writes it) and `out` points there.
 * At most 3 bytes per UTF-16 code unit are needed.
 *
 * @return 0; HOLLOW_NULL; HOLLOW_ERANGE if `cap` is too small (out->len
 *         then holds the size needed); errors as above.
 */
HOLLOW_API int hollow_object_string(hollow_str *out, char *buf, size_t cap,
                                    const hollow_type *t, hollow_ordinal o,
                                    size_t field);

/**
 * A STRING field as UTF-16 code units into `buf` (`cap` units).
 * @return 0 with *len = units; HOLLOW_NULL; HOLLOW_ERANGE with *len = units
 *         needed.
 */
HOLLOW_API int hollow_object_string_utf16(uint16_t *buf, size_t cap, size_t *len,
                                          const hollow_type *t, hollow_ordinal o,
                                          size_t field);

/**
 * A STRING field in its stored form (one varint per UTF-16 code unit,
 * §6.4), as a borrowed view. Two strings are equal iff these bytes are.
 */
HOLLOW_API int hollow_object_string_raw(hollow_bytes *out, const hollow_type *t,
                                        hollow_ordinal o, size_t field);

/**
 * The length of a STRING field in UTF-16 code units (Java's
 * String.length()), without decoding it: each code unit's varint ends in
 * the one byte below 0x80 (§6.4).
 * @return 0; HOLLOW_NULL; errors as above.
 */
HOLLOW_API int hollow_object_string_length(size_t *units, const hollow_type *t,
                                           hollow_ordinal o, size_t field);

/**
 * Any field as a hollow_value (STRING in its stored form in u.bytes).
 * @return 0; HOLLOW_NULL (out->is_null set); errors as above.
 */
HOLLOW_API int hollow_object_value(hollow_value *out, const hollow_type *t,
                                   hollow_ordinal o, size_t field);

/* ----------------------------------------------------------- collections */

/** Number of elements of LIST record `o`. @return 0; errors as above
 * (HOLLOW_EINVAL if `t` is not a LIST). */
HOLLOW_API int hollow_list_size(uint32_t *out, const hollow_type *t,
                                hollow_ordinal o);
/** Element `i` of LIST record `o`. @return 0; HOLLOW_ENOTFOUND if i >= size. */
HOLLOW_API int hollow_list_get(hollow_ordinal *out, const hollow_type *t,
                               hollow_ordinal o, uint32_t i);

/** Number of elements of SET record `o`. @return 0; errors as above
 * (HOLLOW_EINVAL if `t` is not a SET). */
HOLLOW_API int hollow_set_size(uint32_t *out, const hollow_type *t,
                               hollow_ordinal o);
/** Number of entries of MAP record `o`. @return 0; errors as above
 * (HOLLOW_EINVAL if `t` is not a MAP). */
HOLLOW_API int hollow_map_size(uint32_t *out, const hollow_type *t,
                               hollow_ordinal o);

/**
 * Iterator over the buckets of a SET or MAP record, in bucket order (the
 * order Java users observe, §8.3). Fields are private.
 */
typedef struct hollow_iter {
    const void *shard_;
    uint64_t pos_;
    uint64_t end_;
} hollow_iter;

/** Start iterating SET record `o`. @return 0; errors as above. */
HOLLOW_API int hollow_set_iter_init(hollow_iter *it, const hollow_type *t,
                                    hollow_ordinal o);
/** Next element; false at the end (or if `it` or `elem` is NULL). */
HOLLOW_API bool hollow_set_iter_next(hollow_iter *it, hollow_ordinal *elem);
/** Start iterating MAP record `o`. */
HOLLOW_API int hollow_map_iter_init(hollow_iter *it, const hollow_type *t,
                                    hollow_ordinal o);
/** Next entry; false at the end (or for a NULL argument). */
HOLLOW_API bool hollow_map_iter_next(hollow_iter *it, hollow_ordinal *key,
                                     hollow_ordinal *value);

/**
 * Whether SET record `o` holds element ordinal `elem`, found through the
 * hash table (§8.3): probing from hashInt(elem), or from the element's
 * hash-key hash when the set has a @HashKey.
 * @return 0 (then *out says); errors as above.
 */
HOLLOW_API int hollow_set_contains(bool *out, const hollow_type *t,
                                   hollow_ordinal o, hollow_ordinal elem);

/**
 * The value of key ordinal `key` in MAP record `o`, through the hash table.
 * @return 0; HOLLOW_ENOTFOUND if absent.
 */
HOLLOW_API int hollow_map_get(hollow_ordinal *value, const hollow_type *t,
                              hollow_ordinal o, hollow_ordinal key);

/**
 * Find the element of a hash-keyed SET record whose key fields equal
 * `keys` (one value per key path of the set's @HashKey, in order; STRING
 * probes as UTF-8 in u.str), through the hash table (§11.5).
 * @return 0; HOLLOW_ENOTFOUND if absent; HOLLOW_EINVAL if the set has no
 *         hash key or the values do not match the key's field types.
 */
HOLLOW_API int hollow_set_find(hollow_ordinal *elem, const hollow_type *t,
                               hollow_ordinal o, const hollow_value *keys,
                               size_t key_count);

/** As hollow_set_find() for a hash-keyed MAP: the entry whose key matches. */
HOLLOW_API int hollow_map_find(hollow_ordinal *key, hollow_ordinal *value,
                               const hollow_type *t, hollow_ordinal o,
                               const hollow_value *keys, size_t key_count);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_READ_H */
