/*
 * The value tree of the import (import_int.h) and a strict UTF-8 check.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "import/import_int.h"

void hollow__itree_init(hollow__itree *t) { memset(t, 0, sizeof *t); }

void hollow__itree_clear(hollow__itree *t)
{
    t->count = 0;
    t->chars_len = 0;
}

void hollow__itree_free(hollow__itree *t)
{
    hollow__free(t->nodes);
    hollow__free(t->chars);
    hollow__itree_init(t);
}

hollow__inode *hollow__itree_push(hollow__itree *t)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        hollow__inode *n = hollow__reallocarray(t->nodes, cap, sizeof *n);
        if (n == NULL)
            return NULL;
        t->nodes = n;
        t->cap = cap;
    }
    return &t->nodes[t->count++];
}

int hollow__itree_chars(hollow__itree *t, uint64_t *off, const char *p,
                        size_t len)
{
    size_t need;
    if (hollow__add_overflow(t->chars_len, len, &need))
        return HOLLOW_ENOMEM;
    /* allocated even for an empty string, so offsets never apply to NULL */
    if (need > t->chars_cap || t->chars == NULL) {
        size_t cap = t->chars_cap ? t->chars_cap : 256;
        while (cap < need)
            cap *= 2;
        char *c = hollow__realloc(t->chars, cap);
        if (c == NULL)
            return HOLLOW_ENOMEM;
        t->chars = c;
        t->chars_cap = cap;
    }
    if (len > 0)
        memcpy(t->chars + t->chars_len, p, len);
    *off = t->chars_len;
    t->chars_len = need;
    return 0;
}

/* strict UTF-8 (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF */
size_t hollow__utf8_invalid_at(const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < len) {
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (n >= len - i)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += n + 1;
    }
    return len;
}
