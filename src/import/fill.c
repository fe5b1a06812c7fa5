/*
 * Value trees into a write state, by the schemas (docs/import.md has every
 * rule this file implements).
 *
 * A plan per type of the schema list holds what the walk needs without
 * looking names up again: field names and types, the plans of referenced
 * types, element/key/value plans, and whether the type is a one-field
 * "wrapper" (String { string value; }) that takes a bare value. Records
 * are reused: each plan keeps a stack of hollow_records, one per level at
 * which the type is being filled at once (a type can contain itself).
 *
 * A record's references are added before the record (a depth-first walk
 * in document order), so the ordinals the write state gives depend only on
 * the records and their order.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/shortest.h"
#include "import/import_int.h"

typedef struct plan plan;

/*
 * The memo of a type: the text of a JSON value already filled (a span of
 * the source) -> its ordinal, so that a value met again (an actor in every
 * movie, the same list of genres) is not filled and added again: the same
 * text gives the same record, which the write state would dedup to the
 * same ordinal anyway. A type whose values rarely repeat stops using it.
 */
#define MEMO_KEY 48 /* longer texts are not memoized */
typedef struct memo_entry {
    uint32_t hash;
    uint32_t len;     /* 0: empty slot */
    uint32_t unknown; /* unknown keys inside, counted again on a hit */
    hollow_ordinal ordinal;
    char key[MEMO_KEY]; /* the text, kept here: one cache line a probe */
} memo_entry;
_Static_assert(sizeof(memo_entry) == 64, "a memo entry is one cache line");

struct memo {
    memo_entry *slots; /* in `raw`, aligned to 64 bytes */
    void *raw;
    size_t cap, count;
    uint64_t lookups, hits;
};

#define MEMO_MAX (1u << 17) /* entries; then no more are added */
/* lookups before judging the hit rate: values drawn from a large pool
 * (100 000 actors) repeat rarely at first, so judge late and leniently */
#define MEMO_TRIAL 65536
/* elements of a collection whose memo slots are prefetched */
#define PREFETCH_ELEMS 16
/* root records added in one batch */
#define FILL_BATCH 64

struct plan {
    const hollow_schema *s;
    const char *name;
    hollow_schema_kind kind;
    size_t nfields;
    hollow_field_type *ftype;
    plan **fref;
    const char **fname;
    size_t *fname_len;
    bool wrapper; /* an OBJECT of one field: takes a bare value */
    plan *elem, *key, *val;
    struct memo *memo;    /* NULL: not (or no longer) memoized */
    hollow_record **recs; /* stack, `depth` in use */
    uint8_t **seen;       /* per stacked record: fields given */
    size_t depth, cap;
};

struct hollow__filler {
    hollow_write_state *ws;
    const hollow_schema_list *schemas;
    plan *plans;
    size_t nplans;
    plan *root;
    hollow__isource src;
    bool strict;
    uint64_t unknown;
    hollow__jparser *jp; /* for CSV cells that hold JSON */
    hollow__itree cell;
    char *scratch;
    size_t scratch_cap;
    /* records of the root type, when no type references it, are added a
     * batch at a time (hollow_write_state_add_batch: their table slots
     * are fetched from memory ahead); `batch_off`: each one's source */
    bool defer;
    size_t nbatch;
    hollow_record *batch[FILL_BATCH];
    uint64_t batch_off[FILL_BATCH];
};

/* ------------------------------------------------------------- errors */

int hollow__import_error_at(int code, const hollow__isource *src, uint64_t off,
                            const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (off > src->len)
        off = src->len;
    uint64_t line = 1, line_start = 0;
    const char *p = src->data, *end = src->data + off;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        line++;
        line_start = (uint64_t)(nl + 1 - src->data);
        p = nl + 1;
    }
    return hollow__error_set(code, "%s:%llu:%llu: %s", src->name,
                             (unsigned long long)line,
                             (unsigned long long)(off - line_start + 1), msg);
}

#define FAIL(f, n, ...) \
    hollow__import_error_at(HOLLOW_EINVAL, &(f)->src, (n)->off, __VA_ARGS__)

static const char *kind_name(const hollow__inode *n)
{
    switch (n->kind) {
    case HOLLOW__I_NULL:
        return "null";
    case HOLLOW__I_FALSE:
    case HOLLOW__I_TRUE:
        return "a boolean";
    case HOLLOW__I_INT:
    case HOLLOW__I_UINT:
    case HOLLOW__I_BIGINT:
        return "an integer";
    case HOLLOW__I_DOUBLE:
        return "a number";
    case HOLLOW__I_STRING:
        return "a string";
    case HOLLOW__I_TEXT:
        return "a cell";
    case HOLLOW__I_ARRAY:
        return "an array";
    default:
        return "an object";
    }
}

/* -------------------------------------------------------------- plans */

static void memo_free(struct memo *m)
{
    if (m != NULL) {
        hollow__free(m->raw);
        hollow__free(m);
    }
}

static void plan_clear(plan *p)
{
    memo_free(p->memo);
    for (size_t i = 0; i < p->cap; i++) {
        hollow_record_free(p->recs[i]);
        hollow__free(p->seen[i]);
    }
    hollow__free(p->recs);
    hollow__free(p->seen);
    hollow__free(p->ftype);
    hollow__free(p->fref);
    hollow__free(p->fname);
    hollow__free(p->fname_len);
}

static plan *plan_of(hollow__filler *f, const char *name)
{
    for (size_t i = 0; i < f->nplans; i++)
        if (strcmp(f->plans[i].name, name) == 0)
            return &f->plans[i];
    return NULL;
}

static int plan_init(hollow__filler *f, plan *p)
{
    if (p->kind != HOLLOW_SCHEMA_OBJECT) {
        p->memo = hollow__calloc(1, sizeof *p->memo);
        if (p->memo == NULL)
            return hollow__error_oom();
    }
    if (p->kind == HOLLOW_SCHEMA_LIST || p->kind == HOLLOW_SCHEMA_SET) {
        p->elem = plan_of(f, hollow_schema_element_type(p->s));
        return p->elem != NULL
                   ? 0
                   : hollow__error_set(HOLLOW_EINVAL,
                                       "type %s: unknown element type",
                                       p->name);
    }
    if (p->kind == HOLLOW_SCHEMA_MAP) {
        p->key = plan_of(f, hollow_schema_element_type(p->s));
        p->val = plan_of(f, hollow_schema_value_type(p->s));
        return p->key != NULL && p->val != NULL
                   ? 0
                   : hollow__error_set(HOLLOW_EINVAL,
                                       "type %s: unknown key or value type",
                                       p->name);
    }
    p->memo = hollow__calloc(1, sizeof *p->memo);
    if (p->memo == NULL)
        return hollow__error_oom();
    size_t n = hollow_schema_field_count(p->s);
    p->nfields = n;
    p->wrapper = n == 1;
    p->ftype = hollow__calloc(n ? n : 1, sizeof *p->ftype);
    p->fref = hollow__calloc(n ? n : 1, sizeof *p->fref);
    p->fname = hollow__calloc(n ? n : 1, sizeof *p->fname);
    p->fname_len = hollow__calloc(n ? n : 1, sizeof *p->fname_len);
    if (!p->ftype || !p->fref || !p->fname || !p->fname_len)
        return hollow__error_oom();
    for (size_t i = 0; i < n; i++) {
        p->ftype[i] = hollow_schema_field_type(p->s, i);
        p->fname[i] = hollow_schema_field_name(p->s, i);
        p->fname_len[i] = strlen(p->fname[i]);
        if (p->ftype[i] == HOLLOW_FIELD_REFERENCE) {
            p->fref[i] = plan_of(f, hollow_schema_field_ref_type(p->s, i));
            if (p->fref[i] == NULL)
                return hollow__error_set(
                    HOLLOW_EINVAL, "type %s field %s: unknown type %s", p->name,
                    p->fname[i], hollow_schema_field_ref_type(p->s, i));
        }
    }
    return 0;
}

/* a record of plan p for one more level of nesting (reset) */
static int acquire(hollow_record **out, hollow__filler *f, plan *p)
{
    if (p->depth == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 2;
        hollow_record **recs = hollow__reallocarray(p->recs, cap, sizeof *recs);
        if (recs == NULL)
            return hollow__error_oom();
        p->recs = recs;
        uint8_t **seen = hollow__reallocarray(p->seen, cap, sizeof *seen);
        if (seen == NULL)
            return hollow__error_oom();
        p->seen = seen;
        for (size_t i = p->cap; i < cap; i++) {
            p->recs[i] = NULL;
            p->seen[i] = NULL;
        }
        p->cap = cap;
    }
    if (p->recs[p->depth] == NULL)
        HOLLOW_TRY(hollow_record_new(&p->recs[p->depth], f->ws, p->name));
    else
        hollow_record_reset(p->recs[p->depth]);
    if (p->kind == HOLLOW_SCHEMA_OBJECT && p->seen[p->depth] == NULL) {
        p->seen[p->depth] = hollow__calloc(p->nfields ? p->nfields : 1, 1);
        if (p->seen[p->depth] == NULL)
            return hollow__error_oom();
    } else if (p->seen[p->depth] != NULL) {
        memset(p->seen[p->depth], 0, p->nfields);
    }
    *out = p->recs[p->depth++];
    return 0;
}

int hollow__filler_new(hollow__filler **out, hollow_write_state *ws,
                       const char *type, const hollow__isource *src,
                       bool strict)
{
    *out = NULL;
    hollow__filler *f = hollow__calloc(1, sizeof *f);
    HOLLOW_CHECK_ALLOC(f);
    f->ws = ws;
    f->schemas = hollow_write_state_schemas(ws);
    f->src = *src;
    f->strict = strict;
    hollow__itree_init(&f->cell);
    int rc = 0;
    f->nplans = hollow_schema_list_count(f->schemas);
    f->plans = hollow__calloc(f->nplans ? f->nplans : 1, sizeof *f->plans);
    if (f->plans == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    for (size_t i = 0; i < f->nplans; i++) {
        f->plans[i].s = hollow_schema_list_get(f->schemas, i);
        f->plans[i].name = hollow_schema_name(f->plans[i].s);
        f->plans[i].kind = hollow_schema_kind_of(f->plans[i].s);
    }
    for (size_t i = 0; i < f->nplans && rc == 0; i++)
        rc = plan_init(f, &f->plans[i]);
    if (rc < 0)
        goto done;
    f->root = plan_of(f, type);
    if (f->root == NULL) {
        rc = hollow__error_set(HOLLOW_EINVAL, "no type %s in the schema", type);
        goto done;
    }
    if (f->root->kind != HOLLOW_SCHEMA_OBJECT) {
        rc = hollow__error_set(HOLLOW_EINVAL,
                               "type %s is not an OBJECT type: records are "
                               "objects",
                               type);
        goto done;
    }
    /* a root record can wait for its batch when no record refers to it:
     * then the root type's adds keep their order among themselves */
    f->defer = true;
    for (size_t i = 0; i < f->nplans; i++) {
        const plan *p = &f->plans[i];
        if (p->elem == f->root || p->key == f->root || p->val == f->root)
            f->defer = false;
        for (size_t k = 0; p->fref != NULL && k < p->nfields; k++)
            if (p->fref[k] == f->root)
                f->defer = false;
    }
done:
    if (rc < 0)
        hollow__filler_free(f);
    else
        *out = f;
    return rc;
}

void hollow__filler_free(hollow__filler *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nplans; i++)
        plan_clear(&f->plans[i]);
    hollow__free(f->plans);
    hollow__jparser_free(f->jp);
    hollow__itree_free(&f->cell);
    hollow__free(f->scratch);
    for (size_t i = 0; i < FILL_BATCH; i++)
        hollow_record_free(f->batch[i]);
    hollow__free(f);
}

uint64_t hollow__filler_unknown(const hollow__filler *f) { return f->unknown; }

/* ------------------------------------------------------------- scalars */

/* "Type.field" for messages, built only on the error paths */
#define WHERE where_of(where_buf, p, fi)
static const char *where_of(char *buf, const plan *p, size_t fi)
{
    snprintf(buf, 160, "%s.%s", p->name, p->fname[fi]);
    return buf;
}

static int int_text(int64_t *out, bool *range, const char *p, size_t len)
{
    size_t i = 0;
    bool neg = false;
    *range = false;
    if (i < len && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    if (i == len)
        return -1;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (limit - d) / 10)
            *range = true;
        else
            v = v * 10 + d;
    }
    if (*range)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* an integer from node n for a field of `what` type (in messages) */
static int get_integer(int64_t *out, hollow__filler *f, const hollow__itree *t,
                       const hollow__inode *n, const plan *p, size_t fi,
                       const char *what)
{
    char where_buf[160];
    switch (n->kind) {
    case HOLLOW__I_INT:
        *out = n->v.i;
        return 0;
    case HOLLOW__I_UINT:
    case HOLLOW__I_BIGINT:
        return FAIL(f, n, "%s: integer out of range of %s", WHERE, what);
    case HOLLOW__I_DOUBLE:
        return FAIL(f, n,
                    "%s: expected an integer (%s), got a number with "
                    "a fraction or an exponent",
                    WHERE, what);
    case HOLLOW__I_TEXT: {
        bool range;
        if (int_text(out, &range, hollow__itree_str(t, n), n->len) == 0)
            return 0;
        if (range)
            return FAIL(f, n, "%s: integer out of range of %s", WHERE, what);
        return FAIL(f, n, "%s: expected an integer (%s), got '%.*s'", WHERE,
                    what, (int)(n->len > 40 ? 40 : n->len),
                    hollow__itree_str(t, n));
    }
    default:
        return FAIL(f, n, "%s: expected an integer (%s), got %s", WHERE, what,
                    kind_name(n));
    }
}

static int get_double(double *out, hollow__filler *f, const hollow__itree *t,
                      const hollow__inode *n, const plan *p, size_t fi,
                      bool *is_text)
{
    char where_buf[160];
    *is_text = false;
    switch (n->kind) {
    case HOLLOW__I_INT:
        *out = (double)n->v.i;
        return 0;
    case HOLLOW__I_UINT:
        *out = (double)n->v.u;
        return 0;
    case HOLLOW__I_BIGINT:
    case HOLLOW__I_DOUBLE:
        *out = n->v.d;
        return 0;
    case HOLLOW__I_TEXT:
        *is_text = true;
        if (hollow__parse_double(out, hollow__itree_str(t, n), n->len))
            return 0;
        return FAIL(f, n, "%s: expected a number, got '%.*s'", WHERE,
                    (int)(n->len > 40 ? 40 : n->len), hollow__itree_str(t, n));
    default:
        return FAIL(f, n, "%s: expected a number, got %s", WHERE, kind_name(n));
    }
}

static int base64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int scratch_reserve(hollow__filler *f, size_t n)
{
    if (n <= f->scratch_cap)
        return 0;
    char *p = hollow__realloc(f->scratch, n);
    HOLLOW_CHECK_ALLOC(p);
    f->scratch = p;
    f->scratch_cap = n;
    return 0;
}

/* standard base64 (RFC 4648 §4), padding optional */
static int set_base64(hollow__filler *f, hollow_record *r, size_t fi,
                      const char *s, size_t len, const hollow__inode *n,
                      const plan *p)
{
    char where_buf[160];
    while (len > 0 && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return FAIL(f, n, "%s: malformed base64", WHERE);
    HOLLOW_TRY(scratch_reserve(f, len / 4 * 3 + 3));
    size_t out = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = base64_value((unsigned char)s[i]);
        if (v < 0)
            return FAIL(f, n, "%s: malformed base64", WHERE);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            f->scratch[out++] = (char)((acc >> bits) & 0xFF);
        }
    }
    return hollow_record_set_bytes(r, fi, f->scratch, out);
}

static int fill_ref(hollow_ordinal *out, hollow__filler *f, plan *p,
                    const hollow__itree *t, const hollow__inode *n, int depth);
static int fill_ref_hashed(hollow_ordinal *out, hollow__filler *f, plan *p,
                           const hollow__itree *t, const hollow__inode *n,
                           int depth, uint32_t h);
static uint32_t memo_hash(const hollow__filler *f, const hollow__inode *n);

static bool empty_text(const hollow__inode *n)
{
    return n->kind == HOLLOW__I_TEXT && n->len == 0;
}

/* field fi of OBJECT record r (plan p) from node n */
static int set_field(hollow__filler *f, plan *p, hollow_record *r, size_t fi,
                     const hollow__itree *t, const hollow__inode *n, int depth)
{
    hollow_field_type ft = p->ftype[fi];
    if (n->kind == HOLLOW__I_NULL)
        return 0;
    if (empty_text(n) && ft != HOLLOW_FIELD_STRING && ft != HOLLOW_FIELD_BYTES)
        return 0;
    char where_buf[160];
    switch (ft) {
    case HOLLOW_FIELD_INT: {
        int64_t v;
        HOLLOW_TRY(get_integer(&v, f, t, n, p, fi, "int"));
        if (v == INT32_MIN)
            return FAIL(f, n,
                        "%s: -2147483648 is Hollow's null of an int "
                        "field: use null",
                        WHERE);
        if (v < INT32_MIN || v > INT32_MAX)
            return FAIL(f, n, "%s: integer out of range of int", WHERE);
        return hollow_record_set_int(r, fi, (int32_t)v);
    }
    case HOLLOW_FIELD_LONG: {
        int64_t v;
        HOLLOW_TRY(get_integer(&v, f, t, n, p, fi, "long"));
        if (v == INT64_MIN)
            return FAIL(f, n,
                        "%s: -9223372036854775808 is Hollow's null of "
                        "a long field: use null",
                        WHERE);
        return hollow_record_set_long(r, fi, v);
    }
    case HOLLOW_FIELD_FLOAT: {
        double d;
        bool text;
        float v;
        HOLLOW_TRY(get_double(&d, f, t, n, p, fi, &text));
        if (n->kind == HOLLOW__I_DOUBLE) {
            uint32_t bits = n->aux;
            memcpy(&v, &bits, sizeof v);
        } else if (text) {
            hollow__parse_float(&v, hollow__itree_str(t, n), n->len);
        } else {
            v = n->kind == HOLLOW__I_INT    ? (float)n->v.i
                : n->kind == HOLLOW__I_UINT ? (float)n->v.u
                                            : (float)d;
        }
        if (isinf(v) && !isinf(d))
            return FAIL(f, n, "%s: number out of range of float", WHERE);
        return hollow_record_set_float(r, fi, v);
    }
    case HOLLOW_FIELD_DOUBLE: {
        double d;
        bool text;
        HOLLOW_TRY(get_double(&d, f, t, n, p, fi, &text));
        if (isinf(d) && n->kind != HOLLOW__I_TEXT)
            return FAIL(f, n, "%s: number out of range of double", WHERE);
        return hollow_record_set_double(r, fi, d);
    }
    case HOLLOW_FIELD_BOOLEAN:
        if (n->kind == HOLLOW__I_TRUE || n->kind == HOLLOW__I_FALSE)
            return hollow_record_set_bool(r, fi, n->kind == HOLLOW__I_TRUE);
        if (n->kind == HOLLOW__I_TEXT) {
            const char *s = hollow__itree_str(t, n);
            if (n->len == 4 && strncasecmp(s, "true", 4) == 0)
                return hollow_record_set_bool(r, fi, true);
            if (n->len == 5 && strncasecmp(s, "false", 5) == 0)
                return hollow_record_set_bool(r, fi, false);
            return FAIL(f, n, "%s: expected true or false, got '%.*s'", WHERE,
                        (int)(n->len > 40 ? 40 : n->len), s);
        }
        return FAIL(f, n, "%s: expected a boolean, got %s", WHERE,
                    kind_name(n));
    case HOLLOW_FIELD_STRING: {
        char num[40];
        size_t len;
        switch (n->kind) {
        case HOLLOW__I_STRING:
        case HOLLOW__I_TEXT:
            if (hollow_record_set_string(r, fi, hollow__itree_str(t, n),
                                         n->len) < 0)
                return FAIL(f, n, "%s: invalid UTF-8", WHERE);
            return 0;
        case HOLLOW__I_TRUE:
        case HOLLOW__I_FALSE:
            return n->kind == HOLLOW__I_TRUE
                       ? hollow_record_set_string(r, fi, "true", 4)
                       : hollow_record_set_string(r, fi, "false", 5);
        case HOLLOW__I_INT:
            len = (size_t)snprintf(num, sizeof num, "%lld", (long long)n->v.i);
            return hollow_record_set_string(r, fi, num, len);
        case HOLLOW__I_UINT:
            len = (size_t)snprintf(num, sizeof num, "%llu",
                                   (unsigned long long)n->v.u);
            return hollow_record_set_string(r, fi, num, len);
        case HOLLOW__I_DOUBLE:
            len = hollow__shortest_double(n->v.d, num, sizeof num);
            return hollow_record_set_string(r, fi, num, len);
        default:
            return FAIL(f, n, "%s: expected a string, got %s", WHERE,
                        kind_name(n));
        }
    }
    case HOLLOW_FIELD_BYTES:
        if (n->kind != HOLLOW__I_STRING && n->kind != HOLLOW__I_TEXT)
            return FAIL(f, n, "%s: expected a base64 string, got %s", WHERE,
                        kind_name(n));
        return set_base64(f, r, fi, hollow__itree_str(t, n), n->len, n, p);
    case HOLLOW_FIELD_REFERENCE: {
        hollow_ordinal o;
        HOLLOW_TRY(fill_ref(&o, f, p->fref[fi], t, n, depth + 1));
        return hollow_record_set_ref(r, fi, o);
    }
    }
    return FAIL(f, n, "%s: unknown field type", WHERE);
}

/* --------------------------------------------------------- records */

static int find_field(const plan *p, const char *name, size_t len, size_t hint)
{
    if (hint < p->nfields && p->fname_len[hint] == len &&
        memcmp(p->fname[hint], name, len) == 0)
        return (int)hint;
    for (size_t i = 0; i < p->nfields; i++)
        if (p->fname_len[i] == len && memcmp(p->fname[i], name, len) == 0)
            return (int)i;
    return -1;
}

static int add(hollow_ordinal *out, hollow__filler *f, plan *p,
               hollow_record *r, const hollow__inode *n)
{
    int rc = hollow_write_state_add(out, f->ws, r);
    p->depth--;
    if (rc < 0)
        return hollow__import_error_at(rc, &f->src, n->off, "%s: %s", p->name,
                                       hollow_error_last()->message);
    return 0;
}

/* the fields of object n into r, the plan's record at the top of its
 * stack */
static int fill_fields(hollow__filler *f, plan *p, hollow_record *r,
                       const hollow__itree *t, const hollow__inode *n,
                       int depth)
{
    uint8_t *seen = p->seen[p->depth - 1];
    size_t i = (size_t)(n - t->nodes) + 1, hint = 0;
    /* the memo slots of the referenced values, fetched from memory
     * together before the fields are filled one by one */
    for (uint32_t k = 0; k < n->len; k++) {
        const hollow__inode *key = &t->nodes[i];
        const hollow__inode *val = &t->nodes[i + 1];
        i = hollow__itree_next(t, i + 1);
        int fi = find_field(p, hollow__itree_str(t, key), key->len, hint);
        if (fi < 0)
            continue;
        hint = (size_t)fi + 1;
        const struct memo *m =
            p->ftype[fi] == HOLLOW_FIELD_REFERENCE ? p->fref[fi]->memo : NULL;
        if (m != NULL && m->cap > 0 && val->span > 0 && val->span <= MEMO_KEY)
            __builtin_prefetch(&m->slots[memo_hash(f, val) & (m->cap - 1)]);
    }
    i = (size_t)(n - t->nodes) + 1;
    hint = 0;
    int rc = 0;
    for (uint32_t k = 0; k < n->len && rc == 0; k++) {
        const hollow__inode *key = &t->nodes[i];
        const hollow__inode *val = &t->nodes[i + 1];
        i = hollow__itree_next(t, i + 1);
        int fi = find_field(p, hollow__itree_str(t, key), key->len, hint);
        if (fi < 0) {
            f->unknown++;
            if (f->strict)
                rc = FAIL(f, key, "%s has no field '%.*s'", p->name,
                          (int)(key->len > 60 ? 60 : key->len),
                          hollow__itree_str(t, key));
            continue;
        }
        if (seen[fi]) {
            rc = FAIL(f, key, "%s.%s given twice", p->name, p->fname[fi]);
            continue;
        }
        seen[fi] = 1;
        hint = (size_t)fi + 1;
        rc = set_field(f, p, r, (size_t)fi, t, val, depth);
    }
    return rc;
}

static int fill_object(hollow_ordinal *out, hollow__filler *f, plan *p,
                       const hollow__itree *t, const hollow__inode *n,
                       int depth)
{
    hollow_record *r;
    HOLLOW_TRY(acquire(&r, f, p));
    int rc = fill_fields(f, p, r, t, n, depth);
    if (rc < 0) {
        p->depth--;
        return rc;
    }
    return add(out, f, p, r, n);
}

/* a one-field type from a bare value */
static int fill_wrapper(hollow_ordinal *out, hollow__filler *f, plan *p,
                        const hollow__itree *t, const hollow__inode *n,
                        int depth)
{
    hollow_record *r;
    HOLLOW_TRY(acquire(&r, f, p));
    int rc = set_field(f, p, r, 0, t, n, depth);
    if (rc < 0) {
        p->depth--;
        return rc;
    }
    return add(out, f, p, r, n);
}

/* a CSV cell's JSON, parsed into f->cell, then filled */
static int fill_json_cell(hollow_ordinal *out, hollow__filler *f, plan *p,
                          const hollow__itree *t, const hollow__inode *n,
                          int depth)
{
    if (f->cell.count > 0)
        return FAIL(f, n, "%s: JSON inside JSON cell", p->name);
    if (f->jp == NULL)
        HOLLOW_TRY(hollow__jparser_new(&f->jp));
    size_t cap;
    if (hollow__add_overflow(n->len, HOLLOW__IMPORT_PADDING, &cap))
        return hollow__error_oom();
    HOLLOW_TRY(scratch_reserve(f, cap));
    memcpy(f->scratch, hollow__itree_str(t, n), n->len);
    memset(f->scratch + n->len, 0, HOLLOW__IMPORT_PADDING);
    hollow__jerror err;
    uint64_t base = n->off + (n->quoted ? 1 : 0);
    int rc = hollow__json_parse(f->jp, &f->cell, f->scratch, n->len, cap, base,
                                &err);
    /* the cell's text is not in the source: no memo for its values */
    for (size_t i = 0; rc == 0 && i < f->cell.count; i++)
        f->cell.nodes[i].span = 0;
    if (rc == 0)
        rc = fill_ref(out, f, p, &f->cell, &f->cell.nodes[0], depth);
    else if (rc == HOLLOW_ENOMEM)
        rc = hollow__error_oom();
    else
        rc = hollow__import_error_at(rc, &f->src, base + err.off,
                                     "%s: in the cell's JSON: %s", p->name,
                                     err.message);
    hollow__itree_clear(&f->cell);
    return rc;
}

static bool scalar_wrapper(const plan *p)
{
    return p->kind == HOLLOW_SCHEMA_OBJECT && p->wrapper &&
           p->ftype[0] != HOLLOW_FIELD_REFERENCE;
}

static const char *skip_space(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* a CSV cell "a,b,c" for a LIST or SET of scalars */
static int fill_split(hollow_record *r, hollow__filler *f, plan *p,
                      const hollow__itree *t, const hollow__inode *n, int depth)
{
    const char *base = hollow__itree_str(t, n);
    const char *s = base, *end = base + n->len;
    for (;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *e = comma != NULL ? comma : end;
        const char *b = skip_space(s, e);
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        hollow__inode item = *n;
        item.len = (uint32_t)(e - b);
        item.v.s = n->v.s + (uint64_t)(b - base);
        item.quoted = 1;
        if (item.len == 0)
            return FAIL(f, n, "%s: empty element in '%.*s'", p->name,
                        (int)(n->len > 40 ? 40 : n->len), base);
        hollow_ordinal o;
        HOLLOW_TRY(fill_wrapper(&o, f, p->elem, t, &item, depth + 1));
        HOLLOW_TRY(hollow_record_add_element(r, o));
        if (comma == NULL)
            return 0;
        s = comma + 1;
    }
}

static int fill_collection(hollow_ordinal *out, hollow__filler *f, plan *p,
                           const hollow__itree *t, const hollow__inode *n,
                           int depth)
{
    hollow_record *r;
    HOLLOW_TRY(acquire(&r, f, p));
    int rc = 0;
    if (n->kind == HOLLOW__I_TEXT) {
        rc = fill_split(r, f, p, t, n, depth);
    } else {
        /* the elements' memo slots, fetched from memory all at once: a
         * memo of many values (actors) misses the cache on most probes */
        uint32_t hash[PREFETCH_ELEMS] = {0};
        size_t i = (size_t)(n - t->nodes) + 1;
        const struct memo *m = p->elem->memo;
        if (m != NULL && m->cap > 0)
            for (uint32_t k = 0; k < n->len && k < PREFETCH_ELEMS; k++) {
                const hollow__inode *e = &t->nodes[i];
                i = hollow__itree_next(t, i);
                if (e->span == 0 || e->span > MEMO_KEY)
                    continue;
                hash[k] = memo_hash(f, e);
                __builtin_prefetch(&m->slots[hash[k] & (m->cap - 1)]);
            }
        i = (size_t)(n - t->nodes) + 1;
        for (uint32_t k = 0; k < n->len && rc == 0; k++) {
            const hollow__inode *e = &t->nodes[i];
            i = hollow__itree_next(t, i);
            hollow_ordinal o;
            if (e->kind == HOLLOW__I_NULL) {
                rc = FAIL(f, e, "%s: null element", p->name);
                break;
            }
            rc = fill_ref_hashed(&o, f, p->elem, t, e, depth + 1,
                                 k < PREFETCH_ELEMS ? hash[k] : 0);
            if (rc == 0)
                rc = hollow_record_add_element(r, o);
        }
    }
    if (rc < 0) {
        p->depth--;
        return rc;
    }
    return add(out, f, p, r, n);
}

/* a map key from an object's key: its text parsed by the key type */
static int fill_key(hollow_ordinal *out, hollow__filler *f, plan *kp,
                    const hollow__itree *t, const hollow__inode *key, int depth)
{
    if (!scalar_wrapper(kp))
        return FAIL(f, key,
                    "map key type %s is not a one-field type: give "
                    "the map as an array of [key, value] pairs",
                    kp->name);
    hollow__inode text = *key;
    text.kind = HOLLOW__I_TEXT;
    text.quoted = 1;
    return fill_wrapper(out, f, kp, t, &text, depth);
}

static int fill_map(hollow_ordinal *out, hollow__filler *f, plan *p,
                    const hollow__itree *t, const hollow__inode *n, int depth)
{
    hollow_record *r;
    HOLLOW_TRY(acquire(&r, f, p));
    size_t i = (size_t)(n - t->nodes) + 1;
    int rc = 0;
    for (uint32_t k = 0; k < n->len && rc == 0; k++) {
        hollow_ordinal ko, vo;
        const hollow__inode *kn, *vn;
        if (n->kind == HOLLOW__I_OBJECT) {
            kn = &t->nodes[i];
            vn = &t->nodes[i + 1];
            i = hollow__itree_next(t, i + 1);
            if ((rc = fill_key(&ko, f, p->key, t, kn, depth + 1)) < 0)
                break;
        } else {
            const hollow__inode *pair = &t->nodes[i];
            i = hollow__itree_next(t, i);
            if (pair->kind != HOLLOW__I_ARRAY || pair->len != 2) {
                rc = FAIL(f, pair, "%s: expected a [key, value] pair, got %s",
                          p->name, kind_name(pair));
                break;
            }
            size_t pi = (size_t)(pair - t->nodes) + 1;
            kn = &t->nodes[pi];
            vn = &t->nodes[hollow__itree_next(t, pi)];
            if (kn->kind == HOLLOW__I_NULL) {
                rc = FAIL(f, kn, "%s: null key", p->name);
                break;
            }
            if ((rc = fill_ref(&ko, f, p->key, t, kn, depth + 1)) < 0)
                break;
        }
        if (vn->kind == HOLLOW__I_NULL) {
            rc = FAIL(f, vn, "%s: null value", p->name);
            break;
        }
        if ((rc = fill_ref(&vo, f, p->val, t, vn, depth + 1)) < 0)
            break;
        rc = hollow_record_put_entry(r, ko, vo);
    }
    if (rc < 0) {
        p->depth--;
        return rc;
    }
    return add(out, f, p, r, n);
}

/* --------------------------------------------------------------- memo */

/* the slot of `key` in m: its entry, or the empty slot where it goes */
static memo_entry *memo_slot(struct memo *m, const char *key, uint32_t len,
                             uint32_t h)
{
    size_t i = h & (m->cap - 1);
    for (;;) {
        memo_entry *e = &m->slots[i];
        if (e->len == 0 ||
            (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0))
            return e;
        i = (i + 1) & (m->cap - 1);
    }
}

/* the memo hash of a value with a span (its source text) */
static uint32_t memo_hash(const hollow__filler *f, const hollow__inode *n)
{
    return hollow__murmur((const uint8_t *)f->src.data + n->off, n->span);
}

/* *h: the value's memo_hash(), or 0 to compute it here */
static memo_entry *memo_find(plan *p, const hollow__filler *f,
                             const hollow__inode *n, uint32_t *h)
{
    struct memo *m = p->memo;
    if (m->lookups == MEMO_TRIAL && m->hits < MEMO_TRIAL / 8) {
        memo_free(m);
        p->memo = NULL;
        return NULL;
    }
    m->lookups++;
    const char *key = f->src.data + n->off;
    if (*h == 0)
        *h = memo_hash(f, n);
    if (m->cap == 0)
        return NULL;
    memo_entry *e = memo_slot(m, key, n->span, *h);
    if (e->len == 0)
        return NULL;
    m->hits++;
    return e;
}

static void memo_add(plan *p, const hollow__filler *f, const hollow__inode *n,
                     uint32_t h, hollow_ordinal o, uint64_t unknown)
{
    struct memo *m = p->memo;
    if (m == NULL || m->count >= MEMO_MAX || unknown > UINT32_MAX)
        return;
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        /* one more entry's room to align: a probe reads one cache line */
        void *raw = hollow__calloc(cap + 1, sizeof(memo_entry));
        if (raw == NULL)
            return; /* the memo is only a shortcut */
        memo_entry *slots =
            (memo_entry *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
        struct memo grown = {slots, raw, cap, 0, 0, 0};
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].len != 0)
                *memo_slot(&grown, m->slots[i].key, m->slots[i].len,
                           m->slots[i].hash) = m->slots[i];
        hollow__free(m->raw);
        m->slots = slots;
        m->raw = raw;
        m->cap = cap;
    }
    const char *key = f->src.data + n->off;
    memo_entry *e = memo_slot(m, key, n->span, h);
    if (e->len != 0)
        return;
    e->hash = h;
    e->len = n->span;
    e->unknown = (uint32_t)unknown;
    e->ordinal = o;
    memcpy(e->key, key, n->span);
    m->count++;
}

static int fill_ref_now(hollow_ordinal *out, hollow__filler *f, plan *p,
                        const hollow__itree *t, const hollow__inode *n,
                        int depth);

/* fill_ref_now() through the type's memo when the value has a span; h is
 * its memo_hash() if known, else 0 */
static int fill_ref_hashed(hollow_ordinal *out, hollow__filler *f, plan *p,
                           const hollow__itree *t, const hollow__inode *n,
                           int depth, uint32_t h)
{
    if (p->memo == NULL || n->span == 0 || n->span > MEMO_KEY)
        return fill_ref_now(out, f, p, t, n, depth);
    memo_entry *e = memo_find(p, f, n, &h);
    if (e != NULL) {
        *out = e->ordinal;
        f->unknown += e->unknown;
        return 0;
    }
    uint64_t unknown = f->unknown;
    int rc = fill_ref_now(out, f, p, t, n, depth);
    if (rc == 0)
        memo_add(p, f, n, h, *out, f->unknown - unknown);
    return rc;
}

static int fill_ref(hollow_ordinal *out, hollow__filler *f, plan *p,
                    const hollow__itree *t, const hollow__inode *n, int depth)
{
    return fill_ref_hashed(out, f, p, t, n, depth, 0);
}

static int fill_ref_now(hollow_ordinal *out, hollow__filler *f, plan *p,
                        const hollow__itree *t, const hollow__inode *n,
                        int depth)
{
    if (depth > 2 * HOLLOW__IMPORT_MAX_DEPTH + 4)
        return FAIL(f, n, "%s: nested too deeply", p->name);
    switch (p->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        if (n->kind == HOLLOW__I_OBJECT)
            return fill_object(out, f, p, t, n, depth);
        if (p->wrapper && !(n->kind == HOLLOW__I_TEXT &&
                            p->ftype[0] == HOLLOW_FIELD_REFERENCE &&
                            !scalar_wrapper(p->fref[0])))
            return fill_wrapper(out, f, p, t, n, depth);
        if (n->kind == HOLLOW__I_TEXT)
            return fill_json_cell(out, f, p, t, n, depth);
        return FAIL(f, n, "%s: expected an object, got %s", p->name,
                    kind_name(n));
    case HOLLOW_SCHEMA_LIST:
    case HOLLOW_SCHEMA_SET:
        if (n->kind == HOLLOW__I_ARRAY)
            return fill_collection(out, f, p, t, n, depth);
        if (n->kind == HOLLOW__I_TEXT) {
            const char *s = hollow__itree_str(t, n);
            const char *b = skip_space(s, s + n->len);
            if (scalar_wrapper(p->elem) && (b == s + n->len || *b != '['))
                return fill_collection(out, f, p, t, n, depth);
            return fill_json_cell(out, f, p, t, n, depth);
        }
        return FAIL(f, n, "%s: expected an array, got %s", p->name,
                    kind_name(n));
    case HOLLOW_SCHEMA_MAP:
        if (n->kind == HOLLOW__I_OBJECT || n->kind == HOLLOW__I_ARRAY)
            return fill_map(out, f, p, t, n, depth);
        if (n->kind == HOLLOW__I_TEXT)
            return fill_json_cell(out, f, p, t, n, depth);
        return FAIL(f, n,
                    "%s: expected an object or an array of [key, value] "
                    "pairs, got %s",
                    p->name, kind_name(n));
    }
    return FAIL(f, n, "%s: unknown kind of type", p->name);
}

int hollow__filler_flush(hollow__filler *f)
{
    if (f->nbatch == 0)
        return 0;
    hollow_ordinal out[FILL_BATCH];
    size_t n = f->nbatch;
    f->nbatch = 0;
    int rc = hollow_write_state_add_batch(out, f->ws, f->batch, n);
    if (rc == 0)
        return 0;
    size_t k = 0;
    while (k + 1 < n && out[k] != HOLLOW_ORDINAL_NONE)
        k++;
    return hollow__import_error_at(rc, &f->src, f->batch_off[k], "%s: %s",
                                   f->root->name, hollow_error_last()->message);
}

/* fill a root record, and keep it for the next batch */
static int fill_deferred(hollow__filler *f, const hollow__itree *t,
                         const hollow__inode *n)
{
    plan *p = f->root;
    hollow_record *r;
    HOLLOW_TRY(acquire(&r, f, p));
    int rc = fill_fields(f, p, r, t, n, 0);
    p->depth--;
    if (rc < 0)
        return rc;
    /* the filled record joins the batch; the batch slot's old record
     * (added already) becomes the plan's record to fill next */
    p->recs[p->depth] = f->batch[f->nbatch];
    f->batch[f->nbatch] = r;
    f->batch_off[f->nbatch++] = n->off;
    return f->nbatch == FILL_BATCH ? hollow__filler_flush(f) : 0;
}

int hollow__filler_add(hollow__filler *f, const hollow__itree *t, size_t i)
{
    const hollow__inode *n = &t->nodes[i];
    int rc;
    if (n->kind != HOLLOW__I_OBJECT) {
        rc = FAIL(f, n, "a record must be an object, got %s", kind_name(n));
    } else if (f->defer) {
        rc = fill_deferred(f, t, n);
    } else {
        hollow_ordinal o;
        rc = fill_object(&o, f, f->root, t, n, 0);
    }
    if (rc < 0) {
        /* the records before this one come first, with their errors */
        int frc = hollow__filler_flush(f);
        if (frc < 0)
            return frc;
    }
    return rc;
}
