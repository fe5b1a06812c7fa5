/*
 * A growable byte buffer. Appends never fail silently: the first failed
 * allocation marks the buffer (`oom`), later appends are no-ops, and
 * hollow__buf_check() turns that into HOLLOW_ENOMEM once at the end, so
 * long sequences of appends need one check.
 */
#ifndef HOLLOW_SRC_COMMON_BUF_H
#define HOLLOW_SRC_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct hollow__buf {
    uint8_t *ptr;
    size_t len;
    size_t cap;
    int oom;
} hollow__buf;

#define HOLLOW__BUF_INIT {NULL, 0, 0, 0}

int hollow__buf_grow(hollow__buf *b, size_t extra);
void hollow__buf_put(hollow__buf *b, const void *p, size_t n);
void hollow__buf_putc(hollow__buf *b, uint8_t c);
void hollow__buf_puts(hollow__buf *b, const char *s);
void hollow__buf_printf(hollow__buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void hollow__buf_vint(hollow__buf *b, uint32_t v);
void hollow__buf_vlong(hollow__buf *b, uint64_t v);
void hollow__buf_be16(hollow__buf *b, uint16_t v);
void hollow__buf_be32(hollow__buf *b, uint32_t v);
void hollow__buf_be64(hollow__buf *b, uint64_t v);
/* Java modified UTF-8 with 2-byte length of a NUL-terminated UTF-8 name */
void hollow__buf_mutf(hollow__buf *b, const char *s);
/* HOLLOW_ENOMEM (with error set) if an append failed, else 0 */
int hollow__buf_check(const hollow__buf *b);
/* NUL-terminate (not counted in len); returns the string or NULL on oom */
char *hollow__buf_cstr(hollow__buf *b);
/* hand the bytes to the caller; the buffer is reset */
uint8_t *hollow__buf_detach(hollow__buf *b, size_t *len);
void hollow__buf_free(hollow__buf *b);

#endif
