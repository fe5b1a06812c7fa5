/*
 * Describing a blob of any kind (hollow/blob.h) without building a state:
 * the header as the loaders read it, then each type section walked with
 * the codecs' own shard readers, whose results are counted and dropped.
 */
#include "hollow/blob.h"

#include <stdio.h>
#include <string.h>

#include "blob_int.h"
#include "common/alloc.h"
#include "common/bits.h"
#include "common/error.h"
#include "limits.h"

struct hollow_blob_info {
    hollow_blob_kind kind;
    size_t size;
    hollow__blob_header h;
    size_t type_count;
    hollow_blob_section *sections;
    hollow_schema **section_schemas; /* own the section names */
    size_t section_count;
};

static void info_clear_sections(hollow_blob_info *bi)
{
    for (size_t i = 0; i < bi->section_count; i++)
        hollow_schema_free(bi->section_schemas[i]);
    hollow__free(bi->section_schemas);
    hollow__free(bi->sections);
    bi->section_schemas = NULL;
    bi->sections = NULL;
    bi->section_count = 0;
}

void hollow_blob_info_free(hollow_blob_info *bi)
{
    if (bi == NULL)
        return;
    info_clear_sections(bi);
    hollow__blob_header_clear(&bi->h);
    hollow__free(bi);
}

/* §1.6 gap list: count its ordinals, checked as the delta reader does */
static int count_gap_list(size_t *count, int64_t *last, hollow__reader *r,
                          const char *what)
{
    int64_t len;
    int rc = hollow__reader_vlong(r, &len, what);
    if (rc < 0)
        return rc;
    size_t at = hollow__reader_offset(r);
    if (len < 0)
        return hollow__error_set(HOLLOW_ECORRUPT, "negative %s length at offset "
                                 "%zu", what, at);
    if ((uint64_t)len > hollow__reader_left(r))
        return hollow__reader_truncated(r, what, (size_t)len);
    const uint8_t *p;
    if ((rc = hollow__reader_bytes(r, &p, (size_t)len, what)) < 0)
        return rc;
    size_t n = 0, i = 0;
    uint64_t prev = 0;
    while (i < (size_t)len) {
        uint32_t g;
        size_t k = hollow__vint_decode(p + i, (size_t)len - i, &g);
        if (k == 0 || (n > 0 && g == 0) || prev + g > INT32_MAX)
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "%s: bad ordinal gap at offset %zu", what,
                                     at + i);
        prev = n == 0 ? g : prev + g;
        n++;
        i += k;
    }
    *count = n;
    *last = n > 0 ? (int64_t)prev : -1;
    return 0;
}

/* a shard's statistics and data for `slots` slots, read and dropped */
static int skip_shard_body(hollow__reader *r, const hollow_schema *s,
                           int32_t max)
{
    hollow__shard *sh = hollow__calloc(1, sizeof *sh);
    HOLLOW_CHECK_ALLOC(sh);
    atomic_init(&sh->refs, 1);
    sh->max = max;
    int rc = hollow__shard_read_body(sh, r, s);
    hollow__shard_release(sh);
    return rc;
}

static int read_max_shard_ordinal(int32_t *m, hollow__reader *r)
{
    size_t at = hollow__reader_offset(r);
    HOLLOW_TRY(hollow__reader_vint(r, m, "max shard ordinal"));
    if (*m < -1 || *m > HOLLOW__LIMIT_MAX_ORDINAL)
        return hollow__error_set(HOLLOW_ECORRUPT, "max shard ordinal %d out of "
                                 "range [-1, %d] at offset %zu", (int)*m,
                                 HOLLOW__LIMIT_MAX_ORDINAL, at);
    return 0;
}

/* the populated bit set (§1.7): count the ordinals, each must have a slot */
static int count_populated(hollow_blob_section *sec, hollow__reader *r,
                           const int32_t *shard_max, uint32_t n)
{
    uint32_t nwords;
    HOLLOW_TRY(hollow__reader_count_i32(r, &nwords, "populated bit set length"));
    if ((size_t)nwords > hollow__reader_left(r) / 8)
        return hollow__reader_truncated(r, "populated bit set",
                                        (size_t)nwords * 8);
    size_t at = hollow__reader_offset(r);
    const uint8_t *w;
    HOLLOW_TRY(hollow__reader_bytes(r, &w, (size_t)nwords * 8,
                                    "populated bit set"));
    uint32_t bits = (uint32_t)__builtin_ctz(n);
    size_t count = 0;
    for (uint32_t i = 0; i < nwords; i++) {
        uint64_t word = hollow__be64(w + (size_t)i * 8);
        while (word) {
            int b = __builtin_ctzll(word);
            word &= word - 1;
            int64_t o = (int64_t)i * 64 + b;
            if (o > sec->max_ordinal || (o >> bits) > shard_max[o & (n - 1)])
                return hollow__error_set(HOLLOW_ECORRUPT,
                                         "type %s: populated ordinal %lld has "
                                         "no slot (bit set at offset %zu)",
                                         sec->type, (long long)o, at);
            count++;
        }
    }
    sec->records = count;
    return 0;
}

static int read_snapshot_section(hollow_blob_section *sec, hollow__reader *r,
                                 const hollow_schema *s)
{
    uint32_t n;
    size_t at = hollow__reader_offset(r);
    HOLLOW_TRY(hollow__blob_shard_envelope(&n, r));
    if (n == 0)
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s: shard count 0 at "
                                 "offset %zu", s->name, at);
    sec->shard_count = n;
    int32_t M = -1;
    if (n > 1)
        HOLLOW_TRY(hollow__blob_max_ordinal(&M, r, s->name));
    int32_t *shard_max = hollow__calloc(n, sizeof *shard_max);
    HOLLOW_CHECK_ALLOC(shard_max);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        if ((rc = read_max_shard_ordinal(&shard_max[i], r)) < 0 ||
            (rc = skip_shard_body(r, s, shard_max[i])) < 0) {
            hollow__error_prefix("type %s shard %u", s->name, i);
            break;
        }
        if (n > 1 && shard_max[i] > hollow__max_shard_ordinal(M, n, i))
            rc = hollow__error_set(HOLLOW_ECORRUPT, "type %s shard %u: %d slots "
                                   "exceed max ordinal %d", s->name, i,
                                   (int)shard_max[i] + 1, (int)M);
    }
    sec->max_ordinal = n == 1 ? shard_max[0] : M;
    if (rc == 0)
        rc = count_populated(sec, r, shard_max, n);
    hollow__free(shard_max);
    return rc;
}

static int read_delta_section(hollow_blob_section *sec, hollow__reader *r,
                              const hollow_schema *s)
{
    uint32_t n;
    HOLLOW_TRY(hollow__blob_shard_envelope(&n, r));
    sec->shard_count = n;
    uint32_t parse_n = n == 0 ? 1 : n; /* §14: 0 keeps the current count */
    int32_t M = -1;
    if (parse_n > 1)
        HOLLOW_TRY(hollow__blob_max_ordinal(&M, r, s->name));
    for (uint32_t i = 0; i < parse_n; i++) {
        int32_t m;
        size_t removed, added;
        int64_t last_removed, last_added;
        size_t at = hollow__reader_offset(r);
        int rc;
        if ((rc = read_max_shard_ordinal(&m, r)) < 0 ||
            (rc = count_gap_list(&removed, &last_removed, r,
                                 "removed ordinals")) < 0 ||
            (rc = count_gap_list(&added, &last_added, r, "added ordinals")) < 0)
            return hollow__error_prefix("type %s shard %u", s->name, i);
        if (last_added > m)
            return hollow__error_set(HOLLOW_ECORRUPT, "type %s shard %u: added "
                                     "ordinal %lld beyond max shard ordinal %d "
                                     "at offset %zu", s->name, i,
                                     (long long)last_added, (int)m, at);
        if (parse_n > 1 && m > hollow__max_shard_ordinal(M, parse_n, i))
            return hollow__error_set(HOLLOW_ECORRUPT, "type %s shard %u: %d slots "
                                     "exceed max ordinal %d", s->name, i,
                                     (int)m + 1, (int)M);
        if ((rc = skip_shard_body(r, s, (int32_t)added - 1)) < 0)
            return hollow__error_prefix("type %s shard %u", s->name, i);
        if (parse_n == 1)
            M = m;
        sec->removed += removed;
        sec->added += added;
    }
    sec->max_ordinal = M;
    return 0;
}

/* the K type sections after the header, as snapshot or delta sections */
static int read_sections(hollow_blob_info *bi, hollow__reader *r, uint32_t k,
                         bool snapshot)
{
    bi->sections = hollow__calloc(k ? k : 1, sizeof *bi->sections);
    bi->section_schemas = hollow__calloc(k ? k : 1, sizeof *bi->section_schemas);
    if (bi->sections == NULL || bi->section_schemas == NULL)
        return hollow__error_oom();
    for (uint32_t i = 0; i < k; i++) {
        hollow_blob_section *sec = &bi->sections[i];
        sec->offset = hollow__reader_offset(r);
        HOLLOW_TRY(hollow__schema_read(&bi->section_schemas[i], r));
        bi->section_count = i + 1;
        const hollow_schema *s = bi->section_schemas[i];
        sec->type = s->name;
        sec->kind = s->kind;
        HOLLOW_TRY(snapshot ? read_snapshot_section(sec, r, s)
                            : read_delta_section(sec, r, s));
        sec->bytes = hollow__reader_offset(r) - sec->offset;
    }
    return hollow__blob_check_end(r);
}

int hollow_blob_info_read(hollow_blob_info **out, const void *data, size_t len,
                          int kind)
{
    if (out == NULL || (data == NULL && len > 0))
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = NULL;
    if (kind != HOLLOW_BLOB_KIND_UNKNOWN &&
        (kind < HOLLOW_BLOB_SNAPSHOT || kind > HOLLOW_BLOB_HEADER))
        return hollow__error_set(HOLLOW_EINVAL, "unknown blob kind %d", kind);
    hollow_blob_info *bi = hollow__calloc(1, sizeof *bi);
    HOLLOW_CHECK_ALLOC(bi);
    bi->size = len;
    hollow__reader r;
    hollow__reader_init(&r, data, len, 0);
    int rc = hollow__blob_header_read(&bi->h, &r);
    uint32_t k = 0;
    if (rc == 0)
        rc = hollow__reader_count(&r, &k, INT32_MAX, "type count");
    if (rc < 0)
        goto done;
    bi->type_count = k;
    size_t body = hollow__reader_offset(&r);
    bool at_end = hollow__reader_left(&r) == 0;
    if (kind == HOLLOW_BLOB_HEADER || (kind == HOLLOW_BLOB_KIND_UNKNOWN && at_end)) {
        bi->kind = HOLLOW_BLOB_HEADER;
        rc = hollow__blob_check_end(&r); /* §3.6: nothing after the count */
        goto done;
    }
    if (k > hollow__reader_left(&r) / HOLLOW__MIN_SECTION_BYTES) {
        rc = hollow__error_set(HOLLOW_ECORRUPT, "type count %u at offset %zu: "
                               "%zu bytes left, a section takes %d or more", k,
                               body, hollow__reader_left(&r),
                               HOLLOW__MIN_SECTION_BYTES);
        goto done;
    }
    if (kind != HOLLOW_BLOB_KIND_UNKNOWN) {
        bi->kind = (hollow_blob_kind)kind;
        rc = read_sections(bi, &r, k, kind == HOLLOW_BLOB_SNAPSHOT);
        goto done;
    }
    /* unknown: a snapshot if it reads as one, else a delta; on failure
     * keep the message of the reading that got further */
    bi->kind = HOLLOW_BLOB_SNAPSHOT;
    rc = read_sections(bi, &r, k, true);
    if (rc == 0 || rc == HOLLOW_ENOMEM)
        goto done;
    /* the message lives in the thread's error buffer: copy it */
    int snap_code = hollow_error_last()->code;
    char snap_msg[512];
    snprintf(snap_msg, sizeof snap_msg, "%s", hollow_error_last()->message);
    size_t snap_at = hollow__reader_offset(&r);
    info_clear_sections(bi);
    hollow__reader_init(&r, data, len, 0);
    if (hollow__reader_skip(&r, body, "header") < 0) { /* cannot fail */
        rc = HOLLOW_ECORRUPT;
        goto done;
    }
    bi->kind = HOLLOW_BLOB_DELTA;
    rc = read_sections(bi, &r, k, false);
    if (rc < 0 && rc != HOLLOW_ENOMEM && snap_at > hollow__reader_offset(&r))
        rc = hollow__error_set(snap_code, "%s", snap_msg);
done:
    if (rc < 0) {
        hollow_blob_info_free(bi);
        return rc;
    }
    *out = bi;
    return 0;
}

hollow_blob_kind hollow_blob_info_kind(const hollow_blob_info *bi)
{
    return bi->kind;
}

size_t hollow_blob_info_size(const hollow_blob_info *bi)
{
    return bi->size;
}

int64_t hollow_blob_info_origin_tag(const hollow_blob_info *bi)
{
    return bi->h.origin_tag;
}

int64_t hollow_blob_info_destination_tag(const hollow_blob_info *bi)
{
    return bi->h.dest_tag;
}

size_t hollow_blob_info_header_tag_count(const hollow_blob_info *bi)
{
    return bi->h.tag_count;
}

int hollow_blob_info_header_tag_at(const hollow_blob_info *bi, size_t i,
                                   const char **key, const char **value)
{
    if (i >= bi->h.tag_count)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no header tag %zu", i);
    if (key != NULL)
        *key = bi->h.tag_keys[i];
    if (value != NULL)
        *value = bi->h.tag_values[i];
    return 0;
}

size_t hollow_blob_info_schema_count(const hollow_blob_info *bi)
{
    return bi->h.schema_count;
}

const hollow_schema *hollow_blob_info_schema_at(const hollow_blob_info *bi,
                                                size_t i)
{
    return i < bi->h.schema_count ? bi->h.schemas[i] : NULL;
}

size_t hollow_blob_info_type_count(const hollow_blob_info *bi)
{
    return bi->type_count;
}

size_t hollow_blob_info_section_count(const hollow_blob_info *bi)
{
    return bi->section_count;
}

const hollow_blob_section *hollow_blob_info_section_at(const hollow_blob_info *bi,
                                                       size_t i)
{
    return i < bi->section_count ? &bi->sections[i] : NULL;
}
