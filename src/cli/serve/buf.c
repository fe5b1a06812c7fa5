/* The bounded response buffer and its escaping writers (buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_init(sbuf *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
}

void sb_free(sbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

char *sb_take(sbuf *b, size_t *len)
{
    char *d = b->data;
    *len = b->len;
    b->data = NULL;
    b->len = b->cap_alloc = 0;
    return d;
}

static bool reserve(sbuf *b, size_t n)
{
    if (b->over)
        return false;
    if (n > b->cap || b->len > b->cap - n) {
        b->over = true;
        return false;
    }
    if (b->len + n <= b->cap_alloc)
        return true;
    size_t want = b->cap_alloc ? b->cap_alloc : 4096;
    while (want < b->len + n)
        want *= 2;
    if (want > b->cap)
        want = b->cap;
    char *p = realloc(b->data, want);
    if (p == NULL) {
        b->over = true;
        return false;
    }
    b->data = p;
    b->cap_alloc = want;
    return true;
}

void sb_put(sbuf *b, const char *s, size_t n)
{
    if (n == 0 || !reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sb_put(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* bytes of a valid UTF-8 sequence at p (1-4) within n bytes, 0 if invalid;
 * *cp is the code point. Lone surrogates (WTF-8) pass: JSON escapes them */
static size_t utf8_seq(const unsigned char *p, size_t n, unsigned long *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t k;
    unsigned long v, min;
    if ((p[0] & 0xE0) == 0xC0) {
        k = 2;
        v = p[0] & 0x1F;
        min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        k = 3;
        v = p[0] & 0x0F;
        min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        k = 4;
        v = p[0] & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v > 0x10FFFF || (v < min && !(k == 2 && v == 0)))
        return 0;
    *cp = v;
    return k;
}

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

void sb_html(sbuf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned long cp;
        size_t k = utf8_seq(p, (size_t)(end - p), &cp);
        if (k == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
            sb_puts(b, REPLACEMENT);
            p += k ? k : 1;
            continue;
        }
        switch (cp) {
        case '&':
            sb_puts(b, "&amp;");
            break;
        case '<':
            sb_puts(b, "&lt;");
            break;
        case '>':
            sb_puts(b, "&gt;");
            break;
        case '"':
            sb_puts(b, "&quot;");
            break;
        case '\'':
            sb_puts(b, "&#39;");
            break;
        case 0:
            sb_puts(b, "&#xFFFD;");
            break;
        default:
            if (cp < 0x20 && cp != '\n' && cp != '\t')
                sb_printf(b, "&#xFFFD;");
            else
                sb_put(b, (const char *)p, k);
        }
        p += k;
    }
}

void sb_htmls(sbuf *b, const char *s) { sb_html(b, s, strlen(s)); }

void sb_json(sbuf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    sb_put(b, "\"", 1);
    while (p < end) {
        unsigned long cp;
        size_t k = utf8_seq(p, (size_t)(end - p), &cp);
        if (k == 0) {
            sb_puts(b, "\\ufffd");
            p++;
            continue;
        }
        if (cp == '"' || cp == '\\') {
            char e[2] = {'\\', (char)cp};
            sb_put(b, e, 2);
        } else if (cp == '\n') {
            sb_puts(b, "\\n");
        } else if (cp < 0x20 || cp == 0x7F || cp == '<' ||
                   (cp >= 0xD800 && cp <= 0xDFFF)) {
            /* '<' too, so that JSON can never close a <script> */
            sb_printf(b, "\\u%04lx", cp);
        } else {
            sb_put(b, (const char *)p, k);
        }
        p += k;
    }
    sb_put(b, "\"", 1);
}

void sb_jsons(sbuf *b, const char *s) { sb_json(b, s, strlen(s)); }

void sb_url(sbuf *b, const char *s)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
            *p == '~') {
            sb_put(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', HEX[*p >> 4], HEX[*p & 15]};
            sb_put(b, e, 3);
        }
    }
}
