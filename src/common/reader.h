/*
 * A bounds-checked cursor over untrusted bytes. Every read checks the
 * remaining length first and reports "what, at which offset" through the
 * thread-local error with HOLLOW_ECORRUPT. Varints follow
 * blob-format.md §1.2: a leading 0x80 byte (non-minimal) is rejected; bits
 * beyond 32/64 wrap as in Java.
 */
#ifndef HOLLOW_SRC_COMMON_READER_H
#define HOLLOW_SRC_COMMON_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct hollow__reader {
    const uint8_t *p;   /* start of the bytes */
    size_t len;         /* number of bytes */
    size_t pos;         /* cursor */
    size_t base;        /* offset of p[0] within the whole blob (for errors) */
} hollow__reader;

static inline void hollow__reader_init(hollow__reader *r, const uint8_t *p,
                                       size_t len, size_t base)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->base = base;
}

static inline size_t hollow__reader_left(const hollow__reader *r)
{
    return r->len - r->pos;
}
static inline size_t hollow__reader_offset(const hollow__reader *r)
{
    return r->base + r->pos;
}

/* error "truncated: <what> needs N bytes at offset X, M left" */
int hollow__reader_truncated(const hollow__reader *r, const char *what,
                             size_t need);
int hollow__reader_bytes(hollow__reader *r, const uint8_t **out, size_t n,
                         const char *what);
int hollow__reader_skip(hollow__reader *r, size_t n, const char *what);
int hollow__reader_u8(hollow__reader *r, uint8_t *out, const char *what);
int hollow__reader_i16(hollow__reader *r, int16_t *out, const char *what);
int hollow__reader_i32(hollow__reader *r, int32_t *out, const char *what);
int hollow__reader_i64(hollow__reader *r, int64_t *out, const char *what);
int hollow__reader_vint(hollow__reader *r, int32_t *out, const char *what);
int hollow__reader_vlong(hollow__reader *r, int64_t *out, const char *what);
/* int16 count that must not be negative ("negative <what> N at offset X") */
int hollow__reader_count16(hollow__reader *r, uint32_t *out, const char *what);
/* the same for an int32 and for a vint */
int hollow__reader_count_i32(hollow__reader *r, uint32_t *out, const char *what);
int hollow__reader_count_vint(hollow__reader *r, uint32_t *out, const char *what);
/* vint that must be in [0, max] */
int hollow__reader_count(hollow__reader *r, uint32_t *out, uint32_t max,
                         const char *what);
/* mutf string (§1.4): returns a NUL-terminated copy in UTF-8 (see text.h) */
int hollow__reader_mutf(hollow__reader *r, char **out, const char *what);

/* decode one vint from p[0..len) without error reporting; returns bytes used
 * or 0 if truncated/non-minimal */
size_t hollow__vint_decode(const uint8_t *p, size_t len, uint32_t *out);

/* encodings (writer side): return bytes written to out (max 5 / 10) */
size_t hollow__vint_encode(uint8_t *out, uint32_t v);
size_t hollow__vlong_encode(uint8_t *out, uint64_t v);

#endif
