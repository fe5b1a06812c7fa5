/*
 * CSV (RFC 4180) into value trees: a header row names the columns, then
 * every row becomes an object node whose keys are the column names and
 * whose values are TEXT nodes (parsed later by the field's type) or NULL
 * for an empty unquoted cell. Quoted cells may hold commas, doubled quotes
 * and line ends; lines end with LF or CRLF; empty lines are skipped; a
 * UTF-8 byte order mark at the start is skipped. The input is checked as
 * UTF-8 first, so cells are valid UTF-8.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "import/import_int.h"

typedef struct csv {
    const hollow__isource *src;
    const char *p;
    size_t pos, len;
    hollow__itree *t;
    char *cell;
    size_t cell_cap;
} csv;

static int cell_reserve(csv *c, size_t n)
{
    if (n <= c->cell_cap)
        return 0;
    size_t cap = c->cell_cap ? c->cell_cap : 256;
    while (cap < n)
        cap *= 2;
    char *b = hollow__realloc(c->cell, cap);
    HOLLOW_CHECK_ALLOC(b);
    c->cell = b;
    c->cell_cap = cap;
    return 0;
}

static bool at_line_end(const csv *c)
{
    return c->pos >= c->len || c->p[c->pos] == '\n' ||
           (c->p[c->pos] == '\r' && c->pos + 1 < c->len &&
            c->p[c->pos + 1] == '\n');
}

static void skip_line_end(csv *c)
{
    if (c->pos < c->len && c->p[c->pos] == '\r')
        c->pos++;
    if (c->pos < c->len && c->p[c->pos] == '\n')
        c->pos++;
}

/*
 * One cell at c->pos: *start and *len give its text (in the input, or in c->cell
 * when quotes were undoubled), *quoted. Leaves c->pos on the ',' or the
 * line end after it.
 */
static int read_cell(csv *c, const char **start, size_t *len, bool *quoted)
{
    size_t begin = c->pos;
    *quoted = false;
    if (c->pos < c->len && c->p[c->pos] == '"') {
        *quoted = true;
        size_t n = 0;
        c->pos++;
        for (;;) {
            const char *q = c->pos < c->len
                                ? memchr(c->p + c->pos, '"', c->len - c->pos)
                                : NULL;
            if (q == NULL)
                return hollow__import_error_at(HOLLOW_EINVAL, c->src, begin,
                                               "unterminated quoted cell");
            size_t run = (size_t)(q - (c->p + c->pos));
            HOLLOW_TRY(cell_reserve(c, n + run + 1));
            memcpy(c->cell + n, c->p + c->pos, run);
            n += run;
            c->pos += run + 1;
            if (c->pos < c->len && c->p[c->pos] == '"') {
                c->cell[n++] = '"';
                c->pos++;
                continue;
            }
            break;
        }
        if (c->pos < c->len && c->p[c->pos] != ',' && !at_line_end(c))
            return hollow__import_error_at(HOLLOW_EINVAL, c->src, c->pos,
                                           "unexpected character after a "
                                           "quoted cell");
        *start = c->cell;
        *len = n;
        return 0;
    }
    while (c->pos < c->len && c->p[c->pos] != ',' && !at_line_end(c)) {
        if (c->p[c->pos] == '"')
            return hollow__import_error_at(HOLLOW_EINVAL, c->src, c->pos,
                                           "quote inside an unquoted cell");
        c->pos++;
    }
    *start = c->p + begin;
    *len = c->pos - begin;
    return 0;
}

static int push_text(csv *c, uint8_t kind, const char *s, size_t len,
                     uint64_t off, bool quoted)
{
    if (len > UINT32_MAX)
        return hollow__import_error_at(HOLLOW_EINVAL, c->src, off,
                                       "cell longer than 4 GiB");
    hollow__inode *n = hollow__itree_push(c->t);
    HOLLOW_CHECK_ALLOC(n);
    n->kind = kind;
    n->quoted = quoted;
    n->len = (uint32_t)len;
    n->aux = 0;
    n->span = 0;
    n->off = off;
    n->v.s = 0;
    uint64_t so;
    if (hollow__itree_chars(c->t, &so, s, len) < 0)
        return hollow__error_oom();
    c->t->nodes[c->t->count - 1].v.s = so;
    return 0;
}

typedef struct column {
    uint64_t off, len; /* name in `names` */
} column;

int hollow__csv_each(const hollow__isource *src, hollow__itree *t,
                     hollow__csv_row_fn fn, void *payload)
{
    csv c = {src, src->data, 0, src->len, t, NULL, 0};
    size_t bad = hollow__utf8_invalid_at(src->data, src->len);
    if (bad < src->len)
        return hollow__import_error_at(HOLLOW_EINVAL, src, bad,
                                       "invalid UTF-8");
    if (c.len >= 3 && memcmp(c.p, "\xEF\xBB\xBF", 3) == 0)
        c.pos = 3;

    /* the header: names kept in their own tree */
    hollow__itree names;
    hollow__itree_init(&names);
    column *cols = NULL;
    size_t ncols = 0, cols_cap = 0;
    int rc = 0;
    while (c.pos < c.len && at_line_end(&c))
        skip_line_end(&c);
    if (c.pos >= c.len) {
        rc =
            hollow__import_error_at(HOLLOW_EINVAL, src, c.pos, "no header row");
        goto done;
    }
    for (;;) {
        const char *s;
        size_t len;
        bool quoted;
        size_t at = c.pos;
        if ((rc = read_cell(&c, &s, &len, &quoted)) < 0)
            goto done;
        if (len == 0) {
            rc = hollow__import_error_at(HOLLOW_EINVAL, src, at,
                                         "empty column name in the header");
            goto done;
        }
        for (size_t i = 0; i < ncols; i++)
            if (cols[i].len == len &&
                memcmp(names.chars + cols[i].off, s, len) == 0) {
                rc = hollow__import_error_at(HOLLOW_EINVAL, src, at,
                                             "column '%.*s' named twice",
                                             (int)(len > 60 ? 60 : len), s);
                goto done;
            }
        if (ncols == cols_cap) {
            size_t cap = cols_cap ? cols_cap * 2 : 16;
            column *nc = hollow__reallocarray(cols, cap, sizeof *nc);
            if (nc == NULL) {
                rc = hollow__error_oom();
                goto done;
            }
            cols = nc;
            cols_cap = cap;
        }
        if (hollow__itree_chars(&names, &cols[ncols].off, s, len) < 0) {
            rc = hollow__error_oom();
            goto done;
        }
        cols[ncols++].len = len;
        if (c.pos < c.len && c.p[c.pos] == ',') {
            c.pos++;
            continue;
        }
        skip_line_end(&c);
        break;
    }
    if (ncols > UINT32_MAX / 2) {
        rc = hollow__import_error_at(HOLLOW_EINVAL, src, 0, "too many columns");
        goto done;
    }

    /* the rows */
    while (c.pos < c.len) {
        if (at_line_end(&c)) {
            skip_line_end(&c);
            continue;
        }
        size_t row_at = c.pos;
        hollow__itree_clear(t);
        hollow__inode *obj = hollow__itree_push(t);
        if (obj == NULL) {
            rc = hollow__error_oom();
            goto done;
        }
        memset(obj, 0, sizeof *obj);
        obj->kind = HOLLOW__I_OBJECT;
        obj->off = row_at;
        obj->len = (uint32_t)ncols;
        size_t k = 0;
        for (;;) {
            const char *s;
            size_t len;
            bool quoted;
            size_t at = c.pos;
            if ((rc = read_cell(&c, &s, &len, &quoted)) < 0)
                goto done;
            if (k >= ncols) {
                rc = hollow__import_error_at(HOLLOW_EINVAL, src, at,
                                             "more cells than the header's "
                                             "%zu columns",
                                             ncols);
                goto done;
            }
            if ((rc = push_text(&c, HOLLOW__I_STRING, names.chars + cols[k].off,
                                cols[k].len, at, false)) < 0 ||
                (rc = push_text(
                     &c, len == 0 && !quoted ? HOLLOW__I_NULL : HOLLOW__I_TEXT,
                     s, len, at, quoted)) < 0)
                goto done;
            k++;
            if (c.pos < c.len && c.p[c.pos] == ',') {
                c.pos++;
                continue;
            }
            skip_line_end(&c);
            break;
        }
        if (k < ncols) {
            rc = hollow__import_error_at(HOLLOW_EINVAL, src, row_at,
                                         "%zu cells, the header has %zu "
                                         "columns",
                                         k, ncols);
            goto done;
        }
        t->nodes[0].aux = (uint32_t)t->count;
        if ((rc = fn(t, payload)) != 0)
            goto done;
    }
done:
    hollow__itree_free(&names);
    hollow__free(cols);
    hollow__free(c.cell);
    return rc;
}
