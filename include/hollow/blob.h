/*
 * hollow/blob.h - what a blob holds, read without building a read state.
 *
 * hollow_blob_info_read() parses a blob of any kind (blob-format.md §2:
 * snapshot, delta, reverse delta, header blob) far enough to describe it:
 * the main header (origin and destination randomized tags, schemas, header
 * tags) and, per type section, the type's kind, shard count and max
 * ordinal, how many records a snapshot holds or a delta removes and adds,
 * and where the section lies in the blob. Every byte is checked as the
 * loaders check it, so a damaged blob gives HOLLOW_ECORRUPT with the
 * offset, never a wrong answer. Nothing is decoded into records: it costs
 * one pass over the bytes and memory for the header only.
 *
 * Used by `hollow-cli inspect FILE`; a delta cannot be applied without the
 * state it starts from, but it can always be described.
 */
#ifndef HOLLOW_BLOB_H
#define HOLLOW_BLOB_H

#include "blobstore.h"
#include "common.h"
#include "error.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A described blob; opaque, immutable once read. */
typedef struct hollow_blob_info hollow_blob_info;

/** One type section of a blob (blob-format.md §3.4). */
typedef struct hollow_blob_section {
    const char *type;          /**< the type's name; borrowed from the info */
    hollow_schema_kind kind;   /**< the kind of the section's schema */
    /** n, the type's shard count (in a delta: the target's); 0 in a delta
     * that keeps the current count (§14; then parsed as one shard) */
    uint32_t shard_count;
    int32_t max_ordinal;       /**< the (target's) max ordinal, -1 if none */
    size_t records;            /**< snapshot: populated ordinals; else 0 */
    size_t removed;            /**< (reverse) delta: ordinals removed; else 0 */
    size_t added;              /**< (reverse) delta: ordinals added; else 0 */
    size_t offset;             /**< where the section starts in the blob */
    size_t bytes;              /**< its length, its own schema included */
} hollow_blob_section;

/** `kind` argument of hollow_blob_info_read(): tell the kind from the bytes. */
#define HOLLOW_BLOB_KIND_UNKNOWN (-1)

/**
 * Describe the blob in `data`.
 *
 * @param out   receives the description; NULL on failure
 * @param data  the blob's bytes (borrowed during the call only)
 * @param len   their length
 * @param kind  a hollow_blob_kind when the caller knows it (from the file
 *              name: hollow_blob_key_parse()), or HOLLOW_BLOB_KIND_UNKNOWN.
 *              Unknown: a blob whose type count ends it is a header blob
 *              (also one without types, which an empty delta or snapshot
 *              looks the same as); otherwise a snapshot if it parses as
 *              one, else a delta. The bytes of a delta and a reverse delta
 *              do not differ: HOLLOW_BLOB_REVERSE_DELTA comes only from
 *              `kind`.
 * @return 0; HOLLOW_ECORRUPT for a truncated or inconsistent blob (the
 *         message names what and the byte offset; with an unknown kind,
 *         that of the reading that got further); HOLLOW_EVERSION for a
 *         blob format version other than 1030; HOLLOW_EINVAL for a NULL
 *         `out`, NULL `data` with `len` > 0 or a `kind` out of range;
 *         HOLLOW_ENOMEM.
 * Ownership: free it with hollow_blob_info_free().
 * Threads: the info may be read from any number of threads at once.
 */
HOLLOW_API int hollow_blob_info_read(hollow_blob_info **out, const void *data,
                                     size_t len, int kind);

/** Free the description. NULL is a no-op. */
HOLLOW_API void hollow_blob_info_free(hollow_blob_info *bi);

/*
 * The inspectors below cannot fail; `bi` must not be NULL. Strings and
 * schemas are borrowed from `bi`: valid until hollow_blob_info_free().
 */

/** The kind: as told to hollow_blob_info_read(), or as found there. */
HOLLOW_API hollow_blob_kind hollow_blob_info_kind(const hollow_blob_info *bi);
/** The blob's length in bytes. */
HOLLOW_API size_t hollow_blob_info_size(const hollow_blob_info *bi);
/** The origin randomized tag (-1 for a first snapshot, §3.9). */
HOLLOW_API int64_t hollow_blob_info_origin_tag(const hollow_blob_info *bi);
/** The destination randomized tag. */
HOLLOW_API int64_t hollow_blob_info_destination_tag(const hollow_blob_info *bi);

/** Number of header tags. */
HOLLOW_API size_t hollow_blob_info_header_tag_count(const hollow_blob_info *bi);
/**
 * Header tag `i` in blob order (UTF-8, NUL-terminated; `key` and `value`
 * may be NULL). @return 0; HOLLOW_ENOTFOUND if `i` is out of range.
 */
HOLLOW_API int hollow_blob_info_header_tag_at(const hollow_blob_info *bi,
                                              size_t i, const char **key,
                                              const char **value);

/** Number of schemas in the main header (§3.2: a delta lists the changed
 * types only; a pre-2.2 header lists none). */
HOLLOW_API size_t hollow_blob_info_schema_count(const hollow_blob_info *bi);
/** Header schema `i`, or NULL if out of range. */
HOLLOW_API const hollow_schema *hollow_blob_info_schema_at(const hollow_blob_info *bi,
                                                          size_t i);

/** The type count the blob states after its header (§3.3, §3.6): the
 * sections that follow, or a header blob's number of types. */
HOLLOW_API size_t hollow_blob_info_type_count(const hollow_blob_info *bi);

/** Number of type sections (0 for a header blob). */
HOLLOW_API size_t hollow_blob_info_section_count(const hollow_blob_info *bi);
/** Section `i` in blob order, or NULL if out of range. */
HOLLOW_API const hollow_blob_section *hollow_blob_info_section_at(
    const hollow_blob_info *bi, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_BLOB_H */
