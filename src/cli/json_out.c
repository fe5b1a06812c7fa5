/* JSON strings for the --json outputs (json_out.h). */
#include "json_out.h"

#include <stddef.h>

/* bytes of a valid UTF-8 sequence starting at p (1-4), 0 if invalid;
 * *cp receives the code point; surrogates (ED A0..BF xx) are accepted
 * here and escaped by the caller */
static size_t utf8_seq(const unsigned char *p, unsigned long *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n;
    unsigned long v, min;
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2; v = p[0] & 0x1F; min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3; v = p[0] & 0x0F; min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4; v = p[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v > 0x10FFFF)
        return 0;
    /* the only overlong form allowed is C0 80, modified UTF-8's NUL */
    if (v < min && !(n == 2 && v == 0))
        return 0;
    *cp = v;
    return n;
}

void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        unsigned long cp;
        size_t n = utf8_seq(p, &cp);
        if (n == 0) {
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        if (cp == '"' || cp == '\\')
            fprintf(f, "\\%c", (int)cp);
        else if (cp == '\n')
            fputs("\\n", f);
        else if (cp == '\t')
            fputs("\\t", f);
        else if (cp < 0x20 || cp == 0x7F || (cp >= 0xD800 && cp <= 0xDFFF))
            fprintf(f, "\\u%04lx", cp);
        else
            fwrite(p, 1, n, f);
        p += n;
    }
    fputc('"', f);
}

void json_version_or_null(FILE *f, int64_t v)
{
    if (v > 0)
        fprintf(f, "%lld", (long long)v);
    else
        fputs("null", f);
}
