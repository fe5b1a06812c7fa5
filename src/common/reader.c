/* Bounds-checked reads of untrusted bytes (blob-format.md §1). */
#include "reader.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "text.h"

int hollow__reader_truncated(const hollow__reader *r, const char *what,
                             size_t need)
{
    return hollow__error_set(HOLLOW_ECORRUPT,
                             "truncated blob: %s needs %zu bytes at offset %zu, "
                             "%zu left",
                             what, need, hollow__reader_offset(r),
                             hollow__reader_left(r));
}

int hollow__reader_bytes(hollow__reader *r, const uint8_t **out, size_t n,
                         const char *what)
{
    if (n > hollow__reader_left(r))
        return hollow__reader_truncated(r, what, n);
    *out = r->p + r->pos;
    r->pos += n;
    return 0;
}

int hollow__reader_skip(hollow__reader *r, size_t n, const char *what)
{
    const uint8_t *unused;
    return hollow__reader_bytes(r, &unused, n, what);
}

int hollow__reader_u8(hollow__reader *r, uint8_t *out, const char *what)
{
    if (r->pos >= r->len)
        return hollow__reader_truncated(r, what, 1);
    *out = r->p[r->pos++];
    return 0;
}

static int read_be(hollow__reader *r, uint64_t *out, size_t n, const char *what)
{
    const uint8_t *b = NULL;
    int rc = hollow__reader_bytes(r, &b, n, what);
    if (rc < 0)
        return rc;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | b[i];
    *out = v;
    return 0;
}

int hollow__reader_i16(hollow__reader *r, int16_t *out, const char *what)
{
    uint64_t v = 0;
    int rc = read_be(r, &v, 2, what);
    if (rc == 0)
        *out = (int16_t)(uint16_t)v;
    return rc;
}

int hollow__reader_i32(hollow__reader *r, int32_t *out, const char *what)
{
    uint64_t v = 0;
    int rc = read_be(r, &v, 4, what);
    if (rc == 0)
        *out = (int32_t)(uint32_t)v;
    return rc;
}

int hollow__reader_i64(hollow__reader *r, int64_t *out, const char *what)
{
    uint64_t v = 0;
    int rc = read_be(r, &v, 8, what);
    if (rc == 0)
        *out = (int64_t)v;
    return rc;
}

/* §1.2: most significant group first; leading 0x80 rejected; wraps */
static int read_var(hollow__reader *r, uint64_t *out, const char *what)
{
    size_t start = r->pos;
    if (start >= r->len)
        return hollow__reader_truncated(r, what, 1);
    if (r->p[start] == 0x80)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "non-minimal varint for %s at offset %zu", what,
                                 hollow__reader_offset(r));
    uint64_t acc = 0;
    for (;;) {
        if (r->pos >= r->len) {
            r->pos = start;
            return hollow__reader_truncated(r, what, r->len - start + 1);
        }
        uint8_t b = r->p[r->pos++];
        acc = (acc << 7) | (b & 0x7F);
        if (!(b & 0x80))
            break;
    }
    *out = acc;
    return 0;
}

int hollow__reader_vint(hollow__reader *r, int32_t *out, const char *what)
{
    uint64_t v = 0;
    int rc = read_var(r, &v, what);
    if (rc == 0)
        *out = (int32_t)(uint32_t)v;
    return rc;
}

int hollow__reader_vlong(hollow__reader *r, int64_t *out, const char *what)
{
    uint64_t v = 0;
    int rc = read_var(r, &v, what);
    if (rc == 0)
        *out = (int64_t)v;
    return rc;
}

/* a count stored as an int16 (16), an int32 (32) or a vint (0) */
static int count_of(hollow__reader *r, uint32_t *out, const char *what, int kind)
{
    size_t at = hollow__reader_offset(r);
    int32_t v = 0;
    int16_t v16 = 0;
    int rc = kind == 16   ? hollow__reader_i16(r, &v16, what)
             : kind == 32 ? hollow__reader_i32(r, &v, what)
                          : hollow__reader_vint(r, &v, what);
    if (rc < 0)
        return rc;
    if (kind == 16)
        v = v16;
    if (v < 0)
        return hollow__error_set(HOLLOW_ECORRUPT, "negative %s %d at offset %zu",
                                 what, (int)v, at);
    *out = (uint32_t)v;
    return 0;
}

int hollow__reader_count16(hollow__reader *r, uint32_t *out, const char *what)
{
    return count_of(r, out, what, 16);
}

int hollow__reader_count_i32(hollow__reader *r, uint32_t *out, const char *what)
{
    return count_of(r, out, what, 32);
}

int hollow__reader_count_vint(hollow__reader *r, uint32_t *out, const char *what)
{
    return count_of(r, out, what, 0);
}

int hollow__reader_count(hollow__reader *r, uint32_t *out, uint32_t max,
                         const char *what)
{
    size_t at = hollow__reader_offset(r);
    int32_t v = 0;
    int rc = hollow__reader_vint(r, &v, what);
    if (rc < 0)
        return rc;
    if (v < 0 || (uint32_t)v > max)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "%s %d out of range [0, %u] at offset %zu", what,
                                 (int)v, max, at);
    *out = (uint32_t)v;
    return 0;
}

int hollow__reader_mutf(hollow__reader *r, char **out, const char *what)
{
    int16_t n16;
    size_t at = hollow__reader_offset(r);
    int rc = hollow__reader_i16(r, &n16, what);
    if (rc < 0)
        return rc;
    size_t n = (uint16_t)n16;
    const uint8_t *b = NULL;
    if ((rc = hollow__reader_bytes(r, &b, n, what)) < 0)
        return rc;
    char *s = NULL;
    rc = hollow__mutf8_to_utf8(&s, b, n);
    if (rc < 0)
        return rc == HOLLOW_ENOMEM
                   ? rc
                   : hollow__error_set(HOLLOW_ECORRUPT,
                                       "bad modified UTF-8 in %s at offset %zu",
                                       what, at);
    *out = s;
    return 0;
}

size_t hollow__vint_decode(const uint8_t *p, size_t len, uint32_t *out)
{
    if (len == 0 || p[0] == 0x80)
        return 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 7) | (p[i] & 0x7F);
        if (!(p[i] & 0x80)) {
            *out = acc;
            return i + 1;
        }
    }
    return 0;
}

size_t hollow__vlong_encode(uint8_t *out, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)(v & 0x7F);
        v >>= 7;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0));
    return n;
}

size_t hollow__vint_encode(uint8_t *out, uint32_t v)
{
    return hollow__vlong_encode(out, v);
}
