/* Conversions between UTF-16 units, modified UTF-8 and UTF-8 (see text.h). */
#include "text.h"

#include "alloc.h"
#include "error.h"

static size_t put_unit_or_pair(char *o, const uint16_t *u, size_t n, size_t *i,
                               int nul_as_c080)
{
    uint32_t c = u[*i];
    if (c >= 0xD800 && c <= 0xDBFF && *i + 1 < n && u[*i + 1] >= 0xDC00 &&
        u[*i + 1] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (u[*i + 1] - 0xDC00u);
        (*i)++;
        o[0] = (char)(0xF0 | (c >> 18));
        o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[3] = (char)(0x80 | (c & 0x3F));
        return 4;
    }
    if (c == 0 && nul_as_c080) {
        o[0] = (char)0xC0;
        o[1] = (char)0x80;
        return 2;
    }
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (c >> 12));
    o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[2] = (char)(0x80 | (c & 0x3F));
    return 3;
}

size_t hollow__utf16_to_utf8(char *out, const uint16_t *u, size_t n,
                             int nul_as_c080)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += put_unit_or_pair(out + o, u, n, &i, nul_as_c080);
    return o;
}

size_t hollow__utf16_to_mutf8(uint8_t *out, const uint16_t *u, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = u[i];
        if (c >= 1 && c < 0x80) {
            out[o++] = (uint8_t)c;
        } else if (c < 0x800) {
            out[o++] = (uint8_t)(0xC0 | (c >> 6));
            out[o++] = (uint8_t)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (uint8_t)(0xE0 | (c >> 12));
            out[o++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (uint8_t)(0x80 | (c & 0x3F));
        }
    }
    return o;
}

/* decode MUTF-8 into units; returns count or -1 */
static long mutf8_units(uint16_t *out, const uint8_t *p, size_t n)
{
    size_t i = 0;
    long k = 0;
    while (i < n) {
        uint8_t b = p[i];
        uint32_t c;
        if (b < 0x80) {
            if (b == 0)
                return -1; /* MUTF-8 never holds a raw NUL */
            c = b;
            i += 1;
        } else if ((b & 0xE0) == 0xC0) {
            if (i + 1 >= n || (p[i + 1] & 0xC0) != 0x80)
                return -1;
            c = ((uint32_t)(b & 0x1F) << 6) | (p[i + 1] & 0x3F);
            i += 2;
        } else if ((b & 0xF0) == 0xE0) {
            if (i + 2 >= n || (p[i + 1] & 0xC0) != 0x80 ||
                (p[i + 2] & 0xC0) != 0x80)
                return -1;
            c = ((uint32_t)(b & 0x0F) << 12) |
                ((uint32_t)(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
            i += 3;
        } else {
            return -1;
        }
        if (out != NULL)
            out[k] = (uint16_t)c;
        k++;
    }
    return k;
}

int hollow__mutf8_to_utf8(char **out, const uint8_t *p, size_t n)
{
    uint16_t stackbuf[256];
    uint16_t *u = n <= 256 ? stackbuf : hollow__mallocarray(n, sizeof *u);
    if (u == NULL)
        return hollow__error_oom();
    long k = mutf8_units(u, p, n);
    if (k < 0) {
        if (u != stackbuf)
            hollow__free(u);
        return HOLLOW_ECORRUPT;
    }
    char *s = hollow__malloc((size_t)k * 3 + 1);
    if (s == NULL) {
        if (u != stackbuf)
            hollow__free(u);
        return hollow__error_oom();
    }
    size_t len = hollow__utf16_to_utf8(s, u, (size_t)k, 1);
    s[len] = '\0';
    if (u != stackbuf)
        hollow__free(u);
    *out = s;
    return 0;
}

long hollow__utf8_to_utf16(uint16_t *out, const char *str, size_t n)
{
    const uint8_t *p = (const uint8_t *)str;
    size_t i = 0;
    long k = 0;
    while (i < n) {
        uint8_t b = p[i];
        uint32_t c;
        if (b < 0x80) {
            c = b;
            i += 1;
        } else if ((b & 0xE0) == 0xC0) {
            if (i + 1 >= n || (p[i + 1] & 0xC0) != 0x80)
                return -1;
            c = ((uint32_t)(b & 0x1F) << 6) | (p[i + 1] & 0x3F);
            if (c < 0x80 && c != 0)
                return -1;
            i += 2;
        } else if ((b & 0xF0) == 0xE0) {
            if (i + 2 >= n || (p[i + 1] & 0xC0) != 0x80 ||
                (p[i + 2] & 0xC0) != 0x80)
                return -1;
            c = ((uint32_t)(b & 0x0F) << 12) |
                ((uint32_t)(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
            if (c < 0x800)
                return -1;
            i += 3;
        } else if ((b & 0xF8) == 0xF0) {
            if (i + 3 >= n || (p[i + 1] & 0xC0) != 0x80 ||
                (p[i + 2] & 0xC0) != 0x80 || (p[i + 3] & 0xC0) != 0x80)
                return -1;
            c = ((uint32_t)(b & 0x07) << 18) |
                ((uint32_t)(p[i + 1] & 0x3F) << 12) |
                ((uint32_t)(p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F);
            if (c < 0x10000 || c > 0x10FFFF)
                return -1;
            i += 4;
            c -= 0x10000;
            if (out != NULL) {
                out[k] = (uint16_t)(0xD800 + (c >> 10));
                out[k + 1] = (uint16_t)(0xDC00 + (c & 0x3FF));
            }
            k += 2;
            continue;
        } else {
            return -1;
        }
        if (out != NULL)
            out[k] = (uint16_t)c;
        k++;
    }
    return k;
}
