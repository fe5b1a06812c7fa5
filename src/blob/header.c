/*
 * The main blob header (blob-format.md §3.1): format version, origin and
 * destination randomized tags, the schema envelope, header tags.
 *
 * Counts come from untrusted bytes, so every array is sized from what the
 * remaining bytes could hold (a schema takes at least 3 bytes, a tag 4),
 * never from the count alone.
 */
#include "blob_int.h"

#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "limits.h"

void hollow__blob_header_clear(hollow__blob_header *h)
{
    for (size_t i = 0; i < h->schema_count; i++)
        hollow_schema_free(h->schemas[i]);
    hollow__free(h->schemas);
    for (size_t i = 0; i < h->tag_count; i++) {
        hollow__free(h->tag_keys[i]);
        hollow__free(h->tag_values[i]);
    }
    hollow__free(h->tag_keys);
    hollow__free(h->tag_values);
    memset(h, 0, sizeof *h);
}

int hollow__blob_state_done(hollow_read_state **out, hollow_read_state *rs,
                            int rc)
{
    if (rc < 0) {
        hollow_read_state_release(rs);
        return rc;
    }
    *out = rs;
    return 0;
}

int hollow__blob_check_end(const hollow__reader *r)
{
    if (hollow__reader_left(r) == 0)
        return 0;
    return hollow__error_set(HOLLOW_ECORRUPT,
                             "%zu trailing bytes after the last type section "
                             "at offset %zu",
                             hollow__reader_left(r), hollow__reader_offset(r));
}

/*
 * The new state owns the tags from here on; the header keeps its schemas
 * (the caller still needs them) and frees nothing twice.
 */
void hollow__blob_header_move_tags(hollow_read_state *rs, hollow__blob_header *h)
{
    rs->origin_tag = h->origin_tag;
    rs->tag = h->dest_tag;
    rs->tag_count = h->tag_count;
    rs->tag_keys = h->tag_keys;
    rs->tag_values = h->tag_values;
    h->tag_keys = h->tag_values = NULL;
    h->tag_count = 0;
}

static int read_schemas(hollow__blob_header *h, hollow__reader *r)
{
    uint32_t env;
    int rc = hollow__reader_count_vint(r, &env, "schema envelope length");
    if (rc < 0)
        return rc;
    if (env == 0) /* pre-2.2 header: no schemas (§14) */
        return 0;
    h->has_schemas = true;
    uint32_t count;
    size_t at = hollow__reader_offset(r);
    /* §3.1: Java only tests E for zero and then parses; so do we */
    if ((rc = hollow__reader_count(r, &count,
                                   (uint32_t)(hollow__reader_left(r) / 3),
                                   "schema count")) < 0)
        return rc;
    if (count > HOLLOW__LIMIT_TYPES)
        return hollow__error_set(HOLLOW_ERANGE, "schema count %u over the "
                                 "limit of %u types per blob at offset %zu",
                                 count, HOLLOW__LIMIT_TYPES, at);
    h->schemas = hollow__calloc(count ? count : 1, sizeof *h->schemas);
    HOLLOW_CHECK_ALLOC(h->schemas);
    for (uint32_t i = 0; i < count; i++) {
        if ((rc = hollow__schema_read(&h->schemas[i], r)) < 0)
            return rc;
        h->schema_count++;
    }
    uint32_t fwd;
    if ((rc = hollow__reader_count(r, &fwd, INT32_MAX,
                                   "forward-compatibility length")) < 0)
        return rc;
    return hollow__reader_skip(r, fwd, "forward-compatibility bytes");
}

static int read_tags(hollow__blob_header *h, hollow__reader *r)
{
    uint32_t n;
    int rc = hollow__reader_count16(r, &n, "header tag count");
    if (rc < 0)
        return rc;
    if ((size_t)n > hollow__reader_left(r) / 4)
        return hollow__reader_truncated(r, "header tags", (size_t)n * 4);
    size_t cap = n ? (size_t)n : 1;
    h->tag_keys = hollow__calloc(cap, sizeof(char *));
    h->tag_values = hollow__calloc(cap, sizeof(char *));
    if (h->tag_keys == NULL || h->tag_values == NULL)
        return hollow__error_oom();
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = hollow__reader_mutf(r, &h->tag_keys[i], "header tag key")) < 0)
            return rc;
        h->tag_count++;
        if ((rc = hollow__reader_mutf(r, &h->tag_values[i],
                                      "header tag value")) < 0)
            return rc;
    }
    return 0;
}

int hollow__blob_header_read(hollow__blob_header *out, hollow__reader *r)
{
    int32_t version;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = hollow__reader_i32(r, &version, "blob format version")) < 0)
        goto done;
    if (version != HOLLOW__BLOB_VERSION) {
        rc = hollow__error_set(HOLLOW_EVERSION,
                               "blob format version %d, expected %d",
                               (int)version, HOLLOW__BLOB_VERSION);
        goto done;
    }
    if ((rc = hollow__reader_i64(r, &out->origin_tag, "origin tag")) < 0 ||
        (rc = hollow__reader_i64(r, &out->dest_tag, "destination tag")) < 0 ||
        (rc = read_schemas(out, r)) < 0 || (rc = read_tags(out, r)) < 0)
        goto done;
done:
    if (rc < 0)
        hollow__blob_header_clear(out);
    return rc;
}

int hollow__blob_max_ordinal(int32_t *M, hollow__reader *r, const char *type)
{
    size_t at = hollow__reader_offset(r);
    HOLLOW_TRY(hollow__reader_vint(r, M, "max ordinal"));
    if (*M < -1 || *M > HOLLOW__LIMIT_MAX_ORDINAL)
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s: max ordinal %d out "
                                 "of range [-1, %d] at offset %zu", type,
                                 (int)*M, HOLLOW__LIMIT_MAX_ORDINAL, at);
    return 0;
}

int hollow__blob_shard_envelope(uint32_t *n, hollow__reader *r)
{
    uint32_t a, x, count;
    int rc;
    if ((rc = hollow__reader_count(r, &a, INT32_MAX, "shard envelope length")) <
        0)
        return rc;
    if (a == 0) { /* pre-2.1: one shard, body follows (§3.4, §14) */
        *n = 1;
        return 0;
    }
    /* §3.4: parse X and n; A is not used to find them */
    if ((rc = hollow__reader_count(r, &x, INT32_MAX,
                                   "shard forward-compatibility length")) < 0 ||
        (rc = hollow__reader_skip(r, x, "shard forward-compatibility bytes")) <
            0)
        return rc;
    size_t at = hollow__reader_offset(r);
    if ((rc = hollow__reader_count(r, &count, INT32_MAX, "shard count")) < 0)
        return rc;
    if (count > hollow__reader_left(r) / HOLLOW__MIN_SHARD_BYTES)
        return hollow__error_set(HOLLOW_ECORRUPT, "shard count %u at offset %zu: "
                                 "%zu bytes left, a shard takes %d or more",
                                 count, at, hollow__reader_left(r),
                                 HOLLOW__MIN_SHARD_BYTES);
    if (count > HOLLOW__LIMIT_SHARDS)
        return hollow__error_set(HOLLOW_ERANGE, "shard count %u over the limit "
                                 "of %u shards per type at offset %zu", count,
                                 HOLLOW__LIMIT_SHARDS, at);
    if (count & (count - 1))
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "shard count %u is not a power of two at offset "
                                 "%zu",
                                 count, at);
    *n = count;
    return 0;
}
