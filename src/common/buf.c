/* Growable byte buffer with sticky out-of-memory (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "reader.h"
#include "text.h"

int hollow__buf_grow(hollow__buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    size_t need;
    if (hollow__add_overflow(b->len, extra, &need)) {
        b->oom = 1;
        return -1;
    }
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = hollow__realloc(b->ptr, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->ptr = p;
    b->cap = cap;
    return 0;
}

void hollow__buf_put(hollow__buf *b, const void *p, size_t n)
{
    if (n == 0 || hollow__buf_grow(b, n) < 0)
        return;
    memcpy(b->ptr + b->len, p, n);
    b->len += n;
}

void hollow__buf_putc(hollow__buf *b, uint8_t c) { hollow__buf_put(b, &c, 1); }

void hollow__buf_puts(hollow__buf *b, const char *s)
{
    hollow__buf_put(b, s, strlen(s));
}

void hollow__buf_printf(hollow__buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        hollow__buf_put(b, tmp, (size_t)n);
        return;
    }
    if (hollow__buf_grow(b, (size_t)n + 1) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void hollow__buf_vint(hollow__buf *b, uint32_t v)
{
    uint8_t t[10];
    hollow__buf_put(b, t, hollow__vint_encode(t, v));
}

void hollow__buf_vlong(hollow__buf *b, uint64_t v)
{
    uint8_t t[10];
    hollow__buf_put(b, t, hollow__vlong_encode(t, v));
}

void hollow__buf_be16(hollow__buf *b, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    hollow__buf_put(b, t, 2);
}

void hollow__buf_be32(hollow__buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    hollow__buf_put(b, t, 4);
}

void hollow__buf_be64(hollow__buf *b, uint64_t v)
{
    hollow__buf_be32(b, (uint32_t)(v >> 32));
    hollow__buf_be32(b, (uint32_t)v);
}

void hollow__buf_mutf(hollow__buf *b, const char *s)
{
    size_t n = strlen(s);
    uint16_t *u = hollow__mallocarray(n + 1, sizeof *u);
    uint8_t *m = hollow__mallocarray(n + 1, 3);
    long k = (u != NULL) ? hollow__utf8_to_utf16(u, s, n) : -1;
    if (u == NULL || m == NULL || k < 0) {
        b->oom = 1; /* an unencodable name is refused earlier; treat as oom */
    } else {
        size_t len = hollow__utf16_to_mutf8(m, u, (size_t)k);
        if (len > 0xFFFF)
            b->oom = 1;
        else {
            hollow__buf_be16(b, (uint16_t)len);
            hollow__buf_put(b, m, len);
        }
    }
    hollow__free(u);
    hollow__free(m);
}

int hollow__buf_check(const hollow__buf *b)
{
    return b->oom ? hollow__error_oom() : 0;
}

char *hollow__buf_cstr(hollow__buf *b)
{
    if (hollow__buf_grow(b, 1) < 0)
        return NULL;
    b->ptr[b->len] = '\0';
    return (char *)b->ptr;
}

uint8_t *hollow__buf_detach(hollow__buf *b, size_t *len)
{
    uint8_t *p = b->ptr;
    if (len != NULL)
        *len = b->len;
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    return p;
}

void hollow__buf_free(hollow__buf *b)
{
    hollow__free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
