/* Conversions between UTF-16 units, modified UTF-8 and UTF-8 (see text.h). */
#include "text.h"

#include <stdbool.h>

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

/*
 * Decode the one- to three-byte sequence at p (four-byte too with `four`),
 * n bytes left, without range checks: its length, or -1 if malformed.
 */
static int decode_seq(uint32_t *c, const uint8_t *p, size_t n, bool four)
{
    static const uint8_t lead_bits[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint8_t b = p[0];
    int len = b < 0x80                          ? 1
              : (b & 0xE0) == 0xC0              ? 2
              : (b & 0xF0) == 0xE0              ? 3
              : four && (b & 0xF8) == 0xF0      ? 4
                                                : -1;
    if (len < 0 || (size_t)len > n)
        return -1;
    uint32_t v = b & lead_bits[len];
    for (int j = 1; j < len; j++) {
        if ((p[j] & 0xC0) != 0x80)
            return -1;
        v = (v << 6) | (p[j] & 0x3F);
    }
    *c = v;
    return len;
}

/* decode MUTF-8 into units; returns count or -1 */
static long mutf8_units(uint16_t *out, const uint8_t *p, size_t n)
{
    size_t i = 0;
    long k = 0;
    while (i < n) {
        uint32_t c;
        int len = decode_seq(&c, p + i, n - i, false);
        if (len < 0 || (len == 1 && c == 0))
            return -1; /* MUTF-8 never holds a raw NUL */
        i += (size_t)len;
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
        uint32_t c;
        int len = decode_seq(&c, p + i, n - i, true);
        /* overlong forms are malformed, except C0 80 for U+0000 */
        if (len < 0 || (len == 2 && c < 0x80 && c != 0) ||
            (len == 3 && c < 0x800) ||
            (len == 4 && (c < 0x10000 || c > 0x10FFFF)))
            return -1;
        i += (size_t)len;
        if (len == 4) {
            c -= 0x10000;
            if (out != NULL) {
                out[k] = (uint16_t)(0xD800 + (c >> 10));
                out[k + 1] = (uint16_t)(0xDC00 + (c & 0x3FF));
            }
            k += 2;
            continue;
        }
        if (out != NULL)
            out[k] = (uint16_t)c;
        k++;
    }
    return k;
}

bool hollow__parse_announced_version(int64_t *out, const char *p, size_t len)
{
    size_t i = 0;
    int64_t v = 0;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        int d = p[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (i == 0)
        return false;
    for (; i < len; i++)
        if (p[i] != '\n' && p[i] != '\r' && p[i] != ' ' && p[i] != '\t')
            return false;
    *out = v;
    return true;
}
