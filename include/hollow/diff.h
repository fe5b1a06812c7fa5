/*
 * hollow/diff.h - the differences between two read states.
 *
 * A diff compares two read states (usually two versions of one dataset)
 * type by type, as Java Hollow's HollowDiff does:
 *
 * - Every OBJECT type with a primary key (@PrimaryKey) is compared by key:
 *   a key only in the old state is a removed record, only in the new one
 *   an added record, in both a changed record when its values differ
 *   (followed through references and into LIST/SET/MAP elements), else an
 *   unchanged one.
 * - Types without a primary key are compared through the keyed records
 *   that reference them: a changed actor name inside a movie's actor set
 *   is a change of that movie, at the path `actors[id=42].name`.
 * - With `opts.type` naming a type without a primary key, that type alone
 *   is compared by identical content: its records are only added or
 *   removed.
 *
 * Paths and values. A change is a path from the keyed record and the old
 * and new values as JSON text (NULL when absent). Path steps: `.field` of
 * an OBJECT; `[i]` of a LIST element (by position); `[k=v,...]` of a SET
 * element or MAP entry matched by its hash key (or the element type's
 * primary key), `[json]` of one matched by its content (a SET element) or
 * its key's value (a MAP entry). An OBJECT type with one field (Hollow's
 * `String { string value; }`) stands for its field's value: a reference
 * to it reads as the string, `title` rather than `title.value`. A record
 * as a value is a JSON object, a LIST or SET an array, a MAP an array of
 * [key, value] pairs; SET and MAP elements are sorted by their text.
 *
 * Cost. When the new state was made from the old one by deltas (as a
 * consumer that refreshes from one version to the other makes it), the
 * shards the two share are skipped: only the records in shards a delta
 * touched are read. Two unrelated states (two snapshots) are compared
 * record by record.
 *
 * Ownership: a hollow_diff owns every string and array it hands out; they
 * stay valid until hollow_diff_free(). The diff keeps both states acquired
 * until it is freed.
 * Threads: a finished diff is read-only and may be read from any number of
 * threads; building one uses only the calling thread.
 */
#ifndef HOLLOW_DIFF_H
#define HOLLOW_DIFF_H

#include <stddef.h>

#include "hollow/common.h"
#include "hollow/read.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A diff of two read states (opaque). */
typedef struct hollow_diff hollow_diff;

/** Options of hollow_diff_new(). */
typedef struct hollow_diff_options {
    unsigned int version; /**< HOLLOW_DIFF_OPTIONS_VERSION */
    /**
     * Compare only this type (copied). NULL: every type with a primary key.
     * A type without a primary key is matched by identical content.
     */
    const char *type;
} hollow_diff_options;

#define HOLLOW_DIFF_OPTIONS_VERSION 1
#define HOLLOW_DIFF_OPTIONS_INIT {HOLLOW_DIFF_OPTIONS_VERSION, NULL}

/** How the records of a diffed type are matched. */
typedef enum hollow_diff_match {
    HOLLOW_DIFF_BY_KEY = 0,    /**< by primary key: added, removed, changed */
    HOLLOW_DIFF_BY_CONTENT = 1 /**< by identical content: added, removed */
} hollow_diff_match;

/** One diffed type and its counts. */
typedef struct hollow_diff_type {
    const char *name;        /**< borrowed from the diff */
    hollow_diff_match match; /**< how its records are matched */
    const char *key;         /**< the key paths joined by ",", or "" */
    size_t added;            /**< records only in the new state */
    size_t removed;          /**< records only in the old state */
    size_t changed;          /**< records in both whose values differ */
    size_t unchanged;        /**< records in both with equal values */
    size_t record_count;     /**< hollow_diff_record_at() entries: the
                                  added, removed and changed records */
} hollow_diff_type;

/** What happened to a record. */
typedef enum hollow_diff_kind {
    HOLLOW_DIFF_CHANGED = 0,
    HOLLOW_DIFF_ADDED = 1,
    HOLLOW_DIFF_REMOVED = 2
} hollow_diff_kind;

/** One differing value of a changed record. */
typedef struct hollow_diff_change {
    const char *path;      /**< from the record: `year`, `actors[id=4].name` */
    const char *old_value; /**< JSON text; NULL when absent before */
    const char *new_value; /**< JSON text; NULL when absent after */
} hollow_diff_change;

/** One added, removed or changed record. */
typedef struct hollow_diff_record {
    hollow_diff_kind kind;
    /** The key as `path=json` pairs joined by "," (`id=42`), or for a type
     * matched by content the record's JSON text. */
    const char *key;
    hollow_ordinal from_ordinal; /**< in the old state, or HOLLOW_ORDINAL_NONE */
    hollow_ordinal to_ordinal;   /**< in the new state, or HOLLOW_ORDINAL_NONE */
    const hollow_diff_change *changes; /**< CHANGED: the differing values */
    size_t change_count;
} hollow_diff_record;

/**
 * Compare `from` (the old state) with `to` (the new one).
 *
 * @param out   the diff; free with hollow_diff_free()
 * @param from  old state (acquired by the diff until it is freed)
 * @param to    new state (likewise)
 * @param opts  options, or NULL for the defaults
 * @return 0; HOLLOW_EINVAL for a NULL state or a bad options version;
 *         HOLLOW_ENOTFOUND if `opts->type` is in neither state;
 *         HOLLOW_ECORRUPT if a record cannot be read; HOLLOW_ENOMEM.
 *         On failure *out is NULL.
 *
 * Records are listed per type in the order: changed, added, removed, each
 * by key text. Types are listed by name.
 */
HOLLOW_API int hollow_diff_new(hollow_diff **out, const hollow_read_state *from,
                               const hollow_read_state *to,
                               const hollow_diff_options *opts);

/** Free a diff and release its states; NULL is a no-op. */
HOLLOW_API void hollow_diff_free(hollow_diff *d);

/** Number of diffed types. */
HOLLOW_API size_t hollow_diff_type_count(const hollow_diff *d);

/**
 * Type `i` (0 <= i < hollow_diff_type_count()) into *out.
 * @return 0; HOLLOW_ENOTFOUND if `i` is out of range.
 */
HOLLOW_API int hollow_diff_type_at(hollow_diff_type *out, const hollow_diff *d,
                                   size_t i);

/**
 * Record `r` of type `i` (0 <= r < the type's record_count) into *out.
 * @return 0; HOLLOW_ENOTFOUND if `i` or `r` is out of range.
 */
HOLLOW_API int hollow_diff_record_at(hollow_diff_record *out,
                                     const hollow_diff *d, size_t i, size_t r);

/** Whether the diff found any added, removed or changed record. */
HOLLOW_API bool hollow_diff_has_differences(const hollow_diff *d);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_DIFF_H */
