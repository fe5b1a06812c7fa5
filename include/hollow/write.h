/*
 * hollow/write.h - the write state: records in, blobs out.
 *
 * A write state holds the records of the dataset being produced, one
 * ordinal map per type (blob-format.md §10): adding a record returns its
 * ordinal, and identical records are one record (§10.2). Ordinals are
 * assigned and reused exactly as Java's write engine does (§10.4), so
 * given the same records in the same order, the same randomized tags and
 * header tags, the blobs written are byte-identical to Java's.
 *
 * Records are built with a hollow_record (one per thread) and added with
 * hollow_write_state_add(). Types are written in the order of Java's schema
 * sorter (§3.8), whatever the order of the schema list given.
 *
 * Cycles (§10.1): the records added since the last cycle start form the
 * new state. hollow_write_state_write_snapshot() writes it; statistics are
 * computed over the records of the previous and the new state together
 * (§10.5), which is what deltas need (§9.5).
 *
 * Threads: hollow_write_state_add() may be called from several threads at
 * once (each with its own hollow_record); ordinals of new records then
 * depend on scheduling, as in Java. Every other call needs exclusive use.
 */
#ifndef HOLLOW_WRITE_H
#define HOLLOW_WRITE_H

#include "common.h"
#include "error.h"
#include "read.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hollow_write_state hollow_write_state;
typedef struct hollow_record hollow_record;

/**
 * Receives blob bytes in pieces. Return 0 to go on; a non-zero return
 * stops the write and is passed back unchanged.
 */
typedef int (*hollow_sink_fn)(void *payload, const void *data, size_t len);

/** Options of a write state. */
typedef struct hollow_write_options {
    unsigned int version;       /**< HOLLOW_WRITE_OPTIONS_VERSION */
    /**
     * Target size of a shard in bytes for choosing shard counts (§10.8);
     * 0 means Java HollowProducer's default, 16 MiB. UINT64_MAX keeps every
     * type in one shard (Java's bare write engine).
     */
    uint64_t target_shard_size;
    /** Re-evaluate shard counts every cycle (Java's typeResharding). */
    bool resharding;
    /** Threads the write state may use for its own work (writing types in
     * parallel): 0, the default, is the number of cores the process may
     * run on; 1 keeps everything on the calling thread. */
    unsigned int threads;
} hollow_write_options; /* another version: HOLLOW_EINVAL */

#define HOLLOW_WRITE_OPTIONS_VERSION 2
#define HOLLOW_WRITE_OPTIONS_INIT {HOLLOW_WRITE_OPTIONS_VERSION, 0, false, 0}

/**
 * Create a write state for the schemas of `schemas` (copied; validated with
 * hollow_schema_list_validate()).
 * @return 0; HOLLOW_EINVAL for invalid schemas; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_write_state_new(hollow_write_state **out,
                                      const hollow_schema_list *schemas,
                                      const hollow_write_options *opts);

/** Free the write state; NULL is a no-op. Records built for it stay valid
 * to free, not to add. */
HOLLOW_API void hollow_write_state_free(hollow_write_state *ws);

/** The state's schemas, in write order (§3.8). Lifetime: the state's. */
HOLLOW_API const hollow_schema_list *hollow_write_state_schemas(
    const hollow_write_state *ws);

/**
 * Pin the shard count of `type` to `n` (a power of two, 1..2^30) instead of
 * choosing it from the target shard size.
 * @return 0; HOLLOW_ENOTFOUND; HOLLOW_EINVAL.
 */
HOLLOW_API int hollow_write_state_set_shard_count(hollow_write_state *ws,
                                                  const char *type, uint32_t n);

/**
 * The shard count of `type` in the state being written (chosen for this
 * cycle if needed) and in the previous state (0 if it had none).
 * @return 0; HOLLOW_ENOTFOUND; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_write_state_shard_counts(uint32_t *now, uint32_t *before,
                                               hollow_write_state *ws,
                                               const char *type);

/* --------------------------------------------------------------- records */

/**
 * Create an empty record of `type`, to fill and add to `ws`. Fields not
 * set are null. Ownership: free with hollow_record_free().
 * Threads: a record is used by one thread at a time.
 * @return 0; HOLLOW_ENOTFOUND if `ws` has no such type; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_record_new(hollow_record **out, const hollow_write_state *ws,
                                 const char *type);
/** Free a record; NULL is a no-op. */
HOLLOW_API void hollow_record_free(hollow_record *r);
/** Clear a record for reuse (all fields null, no elements). */
HOLLOW_API void hollow_record_reset(hollow_record *r);
/** The record's type schema. */
HOLLOW_API const hollow_schema *hollow_record_schema(const hollow_record *r);

/*
 * Field setters of OBJECT records. `field` is the index in the schema
 * (hollow_schema_field_index()). Each returns 0, or HOLLOW_EINVAL if the
 * record is not an OBJECT, the index is out of range or the field has
 * another type. INT32_MIN and INT64_MIN are stored as null, as Java does
 * (§6.1); NaNs are stored as Java's canonical NaN.
 */
HOLLOW_API int hollow_record_set_int(hollow_record *r, size_t field, int32_t v);
HOLLOW_API int hollow_record_set_long(hollow_record *r, size_t field, int64_t v);
HOLLOW_API int hollow_record_set_float(hollow_record *r, size_t field, float v);
HOLLOW_API int hollow_record_set_double(hollow_record *r, size_t field, double v);
HOLLOW_API int hollow_record_set_bool(hollow_record *r, size_t field, bool v);
/** A STRING field from UTF-8 (the generalized form of lone surrogates is
 * accepted); `utf8` may be NULL only with `len` 0 (as may the data of the
 * UTF-16 and BYTES setters). @return 0; HOLLOW_EINVAL also for invalid
 * UTF-8. */
HOLLOW_API int hollow_record_set_string(hollow_record *r, size_t field,
                                        const char *utf8, size_t len);
/** A STRING field from UTF-16 code units (lone surrogates allowed). */
HOLLOW_API int hollow_record_set_string_utf16(hollow_record *r, size_t field,
                                              const uint16_t *units, size_t n);
HOLLOW_API int hollow_record_set_bytes(hollow_record *r, size_t field,
                                       const void *data, size_t len);
/** A REFERENCE field: an ordinal of the referenced type in this state. */
HOLLOW_API int hollow_record_set_ref(hollow_record *r, size_t field,
                                     hollow_ordinal o);
HOLLOW_API int hollow_record_set_null(hollow_record *r, size_t field);

/**
 * Append an element ordinal to a LIST record, or add one to a SET record
 * (a SET ignores duplicates).
 * @return 0; HOLLOW_EINVAL for another kind or a negative ordinal.
 */
HOLLOW_API int hollow_record_add_element(hollow_record *r, hollow_ordinal e);

/**
 * Put an entry into a MAP record; a second value for the same key replaces
 * the first. @return 0; HOLLOW_EINVAL.
 */
HOLLOW_API int hollow_record_put_entry(hollow_record *r, hollow_ordinal key,
                                       hollow_ordinal value);

/**
 * Add the record to the current cycle's state; *out receives its ordinal
 * (the existing one if an identical record is in the map, §10.2). The
 * record is left as it was (reset it to build another).
 * @return 0; HOLLOW_EINVAL if a reference, element, key or value is not an
 *         ordinal of its type added in this cycle (ordinals of the previous
 *         or a restored state count once added again; the message names
 *         the field and ordinal: nothing is added); HOLLOW_ERANGE when the
 *         type's ordinals are exhausted (2^28, Java's soft limit);
 *         HOLLOW_ENOMEM.
 * Threads: safe to call concurrently with other adds. Adds to one type
 *         take turns on that type's lock; adds to different types do not
 *         wait on each other (checking a reference takes no lock).
 */
HOLLOW_API int hollow_write_state_add(hollow_ordinal *out, hollow_write_state *ws,
                                      const hollow_record *r);

/**
 * Add `n` records as n calls of hollow_write_state_add() in array order
 * would: out[i] receives the ordinal of recs[i], and the ordinals are
 * those the single adds would give. Faster for large types: records go
 * in runs of up to 64 consecutive records of one type, each run encoded
 * whole, its table slots and stored records fetched from memory together,
 * then added under one hold of the type's lock (concurrent adds to that
 * type wait for the run). The records may be of different types; a
 * record of the batch cannot reference a record added earlier in the same
 * batch (its ordinal is not known before the call returns).
 * @return 0; on the first error, its code (as hollow_write_state_add()):
 *         the records before it are added, the one that failed and those
 *         after it are not (their out[] is HOLLOW_ORDINAL_NONE).
 * Threads: safe to call concurrently with other adds; each record is used
 *         by this call alone while it runs.
 */
HOLLOW_API int hollow_write_state_add_batch(hollow_ordinal *out,
                                            hollow_write_state *ws,
                                            hollow_record *const *recs,
                                            size_t n);

/* ------------------------------------------------------------------ tags */

/**
 * Set a header tag of the state being built (re-setting a key keeps its
 * place). Tags are written in the order Java's hash map iterates them
 * (§10.10). @return 0; HOLLOW_EINVAL; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_write_state_set_header_tag(hollow_write_state *ws,
                                                 const char *key,
                                                 const char *value);
/** Remove a header tag; 0 also if it was absent. */
HOLLOW_API int hollow_write_state_remove_header_tag(hollow_write_state *ws,
                                                    const char *key);

/**
 * Set the randomized tag of the state being built (§3.9). Without it a
 * random tag is drawn as Java does (never with the upper 32 bits all zero,
 * all one, or equal to those of the previous tag).
 */
HOLLOW_API void hollow_write_state_set_randomized_tag(hollow_write_state *ws,
                                                      int64_t tag);

/** The randomized tag of the state being built (drawing it if needed). */
HOLLOW_API int64_t hollow_write_state_randomized_tag(hollow_write_state *ws);

/* --------------------------------------------------------------- cycles */

/**
 * Start a new cycle (§10.1): the state written last becomes the previous
 * state; records it does not hold leave the ordinal maps (their ordinals
 * become reusable from the next cycle on, §10.4); the current state is
 * empty until records are added again; a new randomized tag will be drawn
 * and the header tags written so far become the previous state's (the
 * reverse delta's, §10.10). Call it before adding the records of every
 * cycle after the first. Nothing happens to the chain if nothing was
 * written since the last start.
 * @return 0; HOLLOW_ENOMEM (the state is then unusable: free it).
 */
HOLLOW_API int hollow_write_state_prepare_cycle(hollow_write_state *ws);

/**
 * Undo the current cycle: records added since it started are dropped, the
 * ordinal maps, free lists and populated sets are as they were, and a new
 * randomized tag will be drawn. Header tags set in the cycle stay set (as
 * in Java). The previous state stays the last one written. For a cycle
 * that changed nothing, or failed validation.
 */
HOLLOW_API int hollow_write_state_rollback(hollow_write_state *ws);

/**
 * Whether the current state differs from the previous one: a type's
 * populated set, or its shard count, changed (§10.1). Before any previous
 * state: whether any record was added.
 */
HOLLOW_API bool hollow_write_state_has_changes(hollow_write_state *ws);

/**
 * Continue the chain of a state read back from a blob store (§10.6): its
 * records become the previous state with their ordinals, its randomized
 * tag the previous tag, its header tags the previous tags, its shard
 * counts kept. Types whose schema changed keep the records projected onto
 * the new schema (fields in both, same name and type), and new records
 * equal to one of them on those fields take its ordinal, as Java does.
 * Call on a fresh write state, then add the next state's records.
 * @return 0; HOLLOW_ESTATE if `ws` already holds records; HOLLOW_ECORRUPT;
 *         HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_write_state_restore(hollow_write_state *ws,
                                          const hollow_read_state *rs);

/* -------------------------------------------------------------- writing */

/**
 * Write the snapshot of the current state through `fn`, called on the
 * calling thread with what has gathered after each shard once that is a
 * megabyte; memory is bounded by the largest shard. With more than one
 * thread (the options' `threads`) each shard is written in chunks of
 * records side by side (the same bytes). The deltas below go to `fn` the
 * same way with one thread;
 * with more, their types are written side by side into memory and handed
 * to `fn` in order.
 * @return 0; HOLLOW_ENOMEM; the sink's non-zero return.
 */
HOLLOW_API int hollow_write_state_write_snapshot(hollow_write_state *ws,
                                                 hollow_sink_fn fn,
                                                 void *payload);

/**
 * Write the delta from the previous state to the current one (§9): the
 * types whose records or shard count changed, each with the removed and
 * added ordinals and the added records.
 * @return 0; HOLLOW_ESTATE without a previous state; HOLLOW_ENOMEM; the
 *         sink's non-zero return.
 */
HOLLOW_API int hollow_write_state_write_delta(hollow_write_state *ws,
                                              hollow_sink_fn fn, void *payload);

/**
 * Write the reverse delta, from the current state back to the previous one
 * (§9.8), with the previous state's header tags.
 * @return as hollow_write_state_write_delta().
 */
HOLLOW_API int hollow_write_state_write_reverse_delta(hollow_write_state *ws,
                                                      hollow_sink_fn fn,
                                                      void *payload);

/**
 * Write the header blob of the current state (§3.6): the main header with
 * every schema and the header tags, then the type count.
 */
HOLLOW_API int hollow_write_state_write_header(hollow_write_state *ws,
                                               hollow_sink_fn fn, void *payload);

/**
 * Java's checksum (§12) of the current state as the next snapshot lays it
 * out (its shard counts and bucket placement): equal to
 * hollow_read_state_checksum() of the state read back from that snapshot.
 * @return 0; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_write_state_checksum(uint32_t *out, hollow_write_state *ws);

/**
 * Fill a fresh write state with every record of `rs` at its own ordinal,
 * for the types the write state has (by name; other types of `rs` are
 * left out), with `rs`'s shard counts, tags and header tags, so that
 * writing a snapshot gives back the same state (hollow-cli filter). For a
 * state with no history (the first version of a chain) the bytes are
 * Java's.
 * @return 0; HOLLOW_ESTATE if `ws` already holds records; HOLLOW_EINVAL if a
 *         type's schema differs from the write state's; HOLLOW_ECORRUPT if
 *         a record of `rs` cannot be decoded; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_write_state_copy_from(hollow_write_state *ws,
                                            const hollow_read_state *rs);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_WRITE_H */
