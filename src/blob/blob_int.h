/*
 * Private interface of the blob codecs (blob-format.md §3, §5-§9). The
 * codecs build read states, so this header sits above read/read_int.h in
 * the include order (docs/architecture.md §3); read/ never includes it.
 */
#ifndef HOLLOW_SRC_BLOB_BLOB_INT_H
#define HOLLOW_SRC_BLOB_BLOB_INT_H

#include "blob/format.h"
#include "common/reader.h"
#include "read/read_int.h"

/* The main header of every blob (§3.1). */
typedef struct hollow__blob_header {
    int64_t origin_tag;
    int64_t dest_tag;
    bool has_schemas;         /* E != 0 (pre-2.2 headers have none, §14) */
    hollow_schema **schemas;
    size_t schema_count;
    size_t tag_count;
    char **tag_keys;
    char **tag_values;
} hollow__blob_header;

/* Parse the header; on failure everything allocated is freed. */
int hollow__blob_header_read(hollow__blob_header *out, hollow__reader *r);
void hollow__blob_header_clear(hollow__blob_header *h);
/* 0 at the end of the blob, else HOLLOW_ECORRUPT (trailing bytes) */
int hollow__blob_check_end(const hollow__reader *r);
/* Give the header's tags (and origin and destination tags) to `rs`. */
void hollow__blob_header_move_tags(hollow_read_state *rs, hollow__blob_header *h);

/*
 * The shard envelope of a type section (§3.4): A, then X and its bytes,
 * then n. A == 0 is the pre-2.1 layout (one shard, *n = 1). n must be a
 * power of two (0 is passed through for deltas, §14; snapshots refuse it).
 */
int hollow__blob_shard_envelope(uint32_t *n, hollow__reader *r);
/* a sharded type's max ordinal (§3.5), in [-1, HOLLOW__LIMIT_MAX_ORDINAL] */
int hollow__blob_max_ordinal(int32_t *M, hollow__reader *r, const char *type);

/* Where the bytes a read state points into come from. */
typedef struct hollow__blob_source {
    const uint8_t *data;
    size_t len;
    /* the shards point into it (no addr yet: copy data there once parsed);
     * NULL: copy each shard's arrays out */
    hollow__mapping *mapping;
    const char *const *type_filter; /* NULL, or the types to keep */
} hollow__blob_source;

/*
 * Parse a whole snapshot (§3, §5-§8) into a new read state. Without a
 * mapping the shards' arrays are copied out of src->data.
 */
int hollow__snapshot_read(hollow_read_state **out, const hollow__blob_source *src);

/*
 * Heap mode: parse the snapshot at data[0..len), which lies within the
 * heap block `base` of base_len bytes (from hollow__malloc, _realloc or
 * _malloc_huge), and let the shards point into it. The block passes to
 * this call whatever it returns: it is freed with the last shard pointing
 * into it, or before returning on failure. base_len is what
 * hollow_read_state_memory() counts for it.
 */
int hollow__snapshot_read_heap(hollow_read_state **out, void *base,
                               size_t base_len, const uint8_t *data, size_t len,
                               const char *const *type_filter);

/*
 * For the producer: adopt `buf`, a whole snapshot of `len` bytes in one
 * block from hollow__malloc/hollow__realloc, without copying it; the state
 * owns it from this call on, on failure too (see hollow__snapshot_read_heap).
 */
int hollow__snapshot_read_owned(hollow_read_state **out, void *buf, size_t len);

/*
 * Read one snapshot shard of `schema`'s kind from r into a new shard whose
 * arrays point into the source bytes (not yet copied).
 */
int hollow__shard_read_snapshot(hollow__shard **out, hollow__reader *r,
                                const hollow_schema *schema);

/*
 * Read the kind-specific statistics and packed data of a shard section
 * (everything after the max ordinal, §6.5, §7.1, §8.2, §8.5) for
 * s->max + 1 slots; the arrays point into the reader's bytes. A delta's
 * "added records" part has the same layout with one slot per added record.
 */
int hollow__shard_read_body(hollow__shard *s, hollow__reader *r,
                            const hollow_schema *schema);

/*
 * After a delta made rs (not yet shared with anyone): when its shards use
 * under half of the loaded snapshot buffer they point into, give them
 * copies of their own so that the buffer goes with the older states.
 */
int hollow__read_state_settle(hollow_read_state *rs);

/*
 * Apply a delta or reverse delta (§9) to `rs`, making a new state, the
 * changed shards built on up to `threads` threads (0 = the cores). The
 * caller settles the new state (hollow__read_state_settle).
 */
int hollow__delta_apply(hollow_read_state **out, const hollow_read_state *rs,
                        const uint8_t *data, size_t len, unsigned threads);
/* the same, record by record on this thread (what the fast path must equal) */
int hollow__delta_apply_reference(hollow_read_state **out,
                                  const hollow_read_state *rs,
                                  const uint8_t *data, size_t len);
/* shards the default path built by bulk copies and record by record
 * (widths changed, or resharding) since start-up */
void hollow__delta_counts(uint64_t *bulk, uint64_t *rebuilt);

/*
 * The end of a state build: on success hand `rs` out through *out; on
 * failure (rc < 0) release it. Returns rc.
 */
int hollow__blob_state_done(hollow_read_state **out, hollow_read_state *rs,
                            int rc);

/* Copy the shard's arrays into one heap block (heap mode). */
int hollow__shard_materialize(hollow__shard *s, const hollow_schema *schema);

#endif
