/*
 * Fuzz target: describing a blob of any kind (hollow/blob.h) without
 * loading it. Every input is read with each kind hint and with the kind
 * told from the bytes. A failure must be a clean HOLLOW_ECORRUPT /
 * HOLLOW_EVERSION / HOLLOW_ERANGE / HOLLOW_ENOMEM with no description;
 * a success must describe the input consistently: sections in order
 * inside the blob, the last one ending it, and for a snapshot that also
 * loads, the loader's kinds, shard counts and record counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/blob.h"
#include "hollow/error.h"
#include "hollow/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

static void walk(const hollow_blob_info *bi, const uint8_t *data, size_t size)
{
    CHECK(hollow_blob_info_size(bi) == size);
    for (size_t i = 0; i < hollow_blob_info_header_tag_count(bi); i++) {
        const char *k = NULL, *v = NULL;
        CHECK(hollow_blob_info_header_tag_at(bi, i, &k, &v) == 0);
        CHECK(k != NULL && v != NULL);
        (void)strlen(k), (void)strlen(v);
    }
    for (size_t i = 0; i < hollow_blob_info_schema_count(bi); i++)
        CHECK(hollow_schema_name(hollow_blob_info_schema_at(bi, i)) != NULL);
    size_t n = hollow_blob_info_section_count(bi), end = 0;
    hollow_blob_kind kind = hollow_blob_info_kind(bi);
    if (kind == HOLLOW_BLOB_HEADER)
        CHECK(n == 0);
    else
        CHECK(n == hollow_blob_info_type_count(bi));
    for (size_t i = 0; i < n; i++) {
        const hollow_blob_section *s = hollow_blob_info_section_at(bi, i);
        CHECK(s != NULL && s->type != NULL);
        CHECK(s->offset >= end && s->bytes > 0 && s->offset + s->bytes <= size);
        end = s->offset + s->bytes;
        CHECK(s->max_ordinal >= -1);
        if (kind == HOLLOW_BLOB_SNAPSHOT)
            CHECK(s->removed == 0 && s->added == 0 &&
                  s->records <= (size_t)s->max_ordinal + 1);
        else
            CHECK(s->records == 0);
    }
    if (n > 0)
        CHECK(end == size);
    CHECK(hollow_blob_info_section_at(bi, n) == NULL);
    if (kind != HOLLOW_BLOB_SNAPSHOT)
        return;
    /* what the loader makes of the same bytes agrees, when it loads */
    hollow_read_state *rs = NULL;
    if (hollow_read_state_from_snapshot(&rs, data, size, NULL) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const hollow_blob_section *s = hollow_blob_info_section_at(bi, i);
        const hollow_type *t = hollow_read_state_type(rs, s->type);
        if (t == NULL)
            continue; /* a section the header does not list is dropped */
        CHECK(hollow_type_shard_count(t) == s->shard_count);
        CHECK(hollow_type_record_count(t) == s->records);
    }
    hollow_read_state_release(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int kind = HOLLOW_BLOB_KIND_UNKNOWN; kind <= HOLLOW_BLOB_HEADER; kind++) {
        hollow_blob_info *bi = NULL;
        int rc = hollow_blob_info_read(&bi, data, size, kind);
        if (rc != 0) {
            CHECK(bi == NULL);
            CHECK(rc == HOLLOW_ECORRUPT || rc == HOLLOW_EVERSION ||
                  rc == HOLLOW_ERANGE || rc == HOLLOW_ENOMEM);
            CHECK(hollow_error_last()->message[0] != '\0');
            continue;
        }
        if (kind != HOLLOW_BLOB_KIND_UNKNOWN)
            CHECK((int)hollow_blob_info_kind(bi) == kind);
        walk(bi, data, size);
        hollow_blob_info_free(bi);
    }
    return 0;
}
