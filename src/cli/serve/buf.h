/*
 * A growable output buffer for one HTTP response, with a hard cap so that
 * no request allocates without bound: past `cap` bytes every append fails
 * and `over` stays set, and the page answers 413 instead of growing.
 * Appends of user data go through the escaping writers: sb_html for HTML
 * text and attributes, sb_json for JSON strings, sb_url for a URL query
 * value or path segment. Invalid UTF-8 becomes U+FFFD in all three.
 */
#ifndef HOLLOW_SERVE_BUF_H
#define HOLLOW_SERVE_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sbuf {
    char *data;
    size_t len, cap_alloc, cap;
    bool over; /* the cap was reached, or an allocation failed */
} sbuf;

void sb_init(sbuf *b, size_t cap);
void sb_free(sbuf *b);
/* hand the bytes over (the caller frees them with free()); b is reset */
char *sb_take(sbuf *b, size_t *len);

void sb_put(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* `n` bytes of user text, escaped for HTML (text and quoted attributes) */
void sb_html(sbuf *b, const char *s, size_t n);
void sb_htmls(sbuf *b, const char *s);
/* a JSON string, quotes included */
void sb_json(sbuf *b, const char *s, size_t n);
void sb_jsons(sbuf *b, const char *s);
/* percent-encoded (everything but unreserved characters) */
void sb_url(sbuf *b, const char *s);

#endif
