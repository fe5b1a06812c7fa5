/*
 * The record import's private parts (docs/import.md).
 *
 * Every format is first turned into a value tree (hollow__itree), the
 * same for JSON, JSON lines and CSV: a flat array of nodes in document
 * order, a container followed by its children (an object's children are
 * key, value, key, value...), with `end` the index just past a container's
 * subtree so that a reader can skip it. Strings live in the tree's own
 * character arena, so a tree outlives the parser's buffers and can be
 * filled into the write state on another thread than the one that parsed
 * it. Each node keeps the byte offset of its value in the source, which
 * is how every error gets its LINE:COLUMN.
 */
#ifndef HOLLOW_SRC_IMPORT_IMPORT_INT_H
#define HOLLOW_SRC_IMPORT_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hollow/import.h"

#ifdef __cplusplus
extern "C" {
#endif

/* nesting deeper than this is refused (keeps recursion bounded) */
#define HOLLOW__IMPORT_MAX_DEPTH 64
/* readable zero bytes after every buffer simdjson parses */
#define HOLLOW__IMPORT_PADDING 64

typedef enum hollow__ikind {
    HOLLOW__I_NULL = 0,
    HOLLOW__I_FALSE,
    HOLLOW__I_TRUE,
    HOLLOW__I_INT,    /* v.i: an integer literal that fits int64 */
    HOLLOW__I_UINT,   /* v.u: an integer literal above INT64_MAX */
    HOLLOW__I_BIGINT, /* v.d: an integer literal beyond uint64 (its double) */
    HOLLOW__I_DOUBLE, /* v.d, and aux: the float nearest the literal (bits) */
    HOLLOW__I_STRING, /* v.s: arena offset, len bytes of UTF-8 */
    HOLLOW__I_TEXT,   /* a CSV cell: as STRING, parsed by the field's type */
    HOLLOW__I_ARRAY,  /* len children, aux: index past the subtree */
    HOLLOW__I_OBJECT  /* len key/value pairs, aux: index past the subtree */
} hollow__ikind;

typedef struct hollow__inode {
    uint8_t kind;
    uint8_t quoted; /* TEXT: the cell was quoted */
    uint32_t len;
    uint32_t aux;
    /* JSON from the source: the bytes of the value's text from `off` (to
     * the next comma or bracket; 0: unknown), a key for the filler's memo */
    uint32_t span;
    uint64_t off; /* byte offset of the value in the source */
    union {
        int64_t i;
        uint64_t u;
        double d;
        uint64_t s;
    } v;
} hollow__inode;

typedef struct hollow__itree {
    hollow__inode *nodes;
    size_t count, cap;
    char *chars;
    size_t chars_len, chars_cap;
} hollow__itree;

void hollow__itree_init(hollow__itree *t);
void hollow__itree_clear(hollow__itree *t);
void hollow__itree_free(hollow__itree *t);
/* append a node (NULL: out of memory) */
hollow__inode *hollow__itree_push(hollow__itree *t);
/* copy `len` bytes into the arena; *off receives their offset */
int hollow__itree_chars(hollow__itree *t, uint64_t *off, const char *p,
                        size_t len);
static inline const char *hollow__itree_str(const hollow__itree *t,
                                            const hollow__inode *n)
{
    return t->chars + n->v.s;
}
/* the index just past node i's subtree */
static inline size_t hollow__itree_next(const hollow__itree *t, size_t i)
{
    uint8_t k = t->nodes[i].kind;
    return k == HOLLOW__I_ARRAY || k == HOLLOW__I_OBJECT ? t->nodes[i].aux
                                                         : i + 1;
}

/* ------------------------------------------------------ json.cc (simdjson) */

typedef struct hollow__jparser hollow__jparser;

int hollow__jparser_new(hollow__jparser **out);
void hollow__jparser_free(hollow__jparser *p);

/*
 * What a JSON parse found wrong: a message (static text or a short
 * formatted one) and the byte offset it concerns, relative to `base` of
 * the call. code 0: nothing.
 */
typedef struct hollow__jerror {
    int code;
    uint64_t off;
    char message[160];
} hollow__jerror;

/*
 * Parse one JSON document, data[0..len) (data + len .. data + cap must be
 * readable: cap >= len + HOLLOW__IMPORT_PADDING), appending its value to
 * `t`; node offsets are `base` + the offset in data. 0, or an error code
 * with *err filled (HOLLOW_EINVAL for malformed JSON, HOLLOW_ENOMEM).
 */
int hollow__json_parse(hollow__jparser *p, hollow__itree *t, const char *data,
                       size_t len, size_t cap, uint64_t base,
                       hollow__jerror *err);

/*
 * A .json file: one record, or an array whose elements are the records.
 * Each record is parsed into `t` (cleared first) and handed to `fn`; a
 * non-zero return from fn stops and is returned. Errors as above.
 */
typedef int (*hollow__json_record_fn)(hollow__itree *t, void *payload);
int hollow__json_each(hollow__jparser *p, hollow__itree *t, const char *data,
                      size_t len, size_t cap, hollow__json_record_fn fn,
                      void *payload, hollow__jerror *err);

/* ----------------------------------------------------- number.cc (exact) */

/* decimal text -> nearest double / float (libdouble-conversion); false if
 * the text is not a number (JSON syntax, or NaN/Infinity/-Infinity) */
bool hollow__parse_double(double *out, const char *p, size_t len);
bool hollow__parse_float(float *out, const char *p, size_t len);

/* ------------------------------------------------------------- utilities */

/* offset of the first byte that is not valid UTF-8, or len if none */
size_t hollow__utf8_invalid_at(const char *p, size_t len);

/* the whole file `path` ("-": standard input) into a buffer followed by
 * HOLLOW__IMPORT_PADDING zero bytes; free it with hollow__free() */
int hollow__import_read(char **out, size_t *len, const char *path);

/* a source: its name and bytes, for positions in messages */
typedef struct hollow__isource {
    const char *name;
    const char *data;
    size_t len;
} hollow__isource;

/* set "NAME:LINE:COLUMN: <msg>" for byte offset `off`; returns code */
int hollow__import_error_at(int code, const hollow__isource *src, uint64_t off,
                            const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ------------------------------------------------------------ fill.c */

typedef struct hollow__filler hollow__filler;

int hollow__filler_new(hollow__filler **out, hollow_write_state *ws,
                       const char *type, const hollow__isource *src,
                       bool strict);
void hollow__filler_free(hollow__filler *f);
/* add the record at node `i` of `t` (an object) and what it references */
int hollow__filler_add(hollow__filler *f, const hollow__itree *t, size_t i);
/* add the root records the filler still holds (call once the last record
 * is filled: a filler may keep records for a batched add); 0 or the error */
int hollow__filler_flush(hollow__filler *f);
uint64_t hollow__filler_unknown(const hollow__filler *f);

/* ------------------------------------------------------------ csv.c */

typedef int (*hollow__csv_row_fn)(hollow__itree *t, void *payload);
/*
 * Parse the CSV of `src`: the header row, then each row as an object node
 * (keys: the header's names) of TEXT cells (NULL for an empty unquoted
 * cell), handed to `fn` in `t` (cleared for each row); *rows counts them.
 * A non-zero return from fn stops and is returned. Errors are set with
 * their position.
 */
int hollow__csv_each(const hollow__isource *src, hollow__itree *t,
                     hollow__csv_row_fn fn, void *payload);

#ifdef __cplusplus
}
#endif

#endif
