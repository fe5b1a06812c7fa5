/*
 * The canonical dump (hollow-dump/1) and the deep dump (hollow-deep/1),
 * byte for byte as docs/dump-format.md (the golden vectors' README) defines
 * them.
 *
 * Text is built in a hollow__buf and handed to the caller's write function
 * in pieces of about 64 KiB. Strings are escaped from UTF-16 code units, so
 * lone surrogates print as \udXXX and pairs as one 4-byte UTF-8 sequence.
 *
 * The deep dump replaces references by the referenced records' text,
 * recursively. Each record's deep text is computed once and memoized in a
 * hash map keyed by (type, ordinal); an entry marked "in progress" that is
 * met again means a reference cycle, which only a hostile blob can hold,
 * and the depth is bounded so that a long chain cannot exhaust the stack.
 */
#include "hollow/dump.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/array.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/reader.h"
#include "common/shortest.h"
#include "common/text.h"
#include "read/read_int.h"

#define FLUSH_AT (64 * 1024)
#define MAX_DEPTH 2000
/* a DAG of shared references can make deep text exponential in the number
 * of records (a hostile blob); no real record's deep text comes near this */
#define MAX_DEEP_TEXT ((size_t)16 << 20)

size_t hollow_format_double(char *buf, size_t cap, double v)
{
    if (buf == NULL)
        return 0;
    return hollow__shortest_double(v, buf, cap);
}

size_t hollow_format_float(char *buf, size_t cap, float v)
{
    if (buf == NULL)
        return 0;
    return hollow__shortest_float(v, buf, cap);
}

/* ------------------------------------------------------------ output */

typedef struct dump_out {
    hollow__buf b;
    hollow_write_fn fn;
    void *payload;
    uint16_t *units; /* scratch for string decoding */
    size_t units_cap;
} dump_out;

static int flush(dump_out *o, bool force)
{
    int rc = hollow__buf_check(&o->b);
    if (rc < 0)
        return rc;
    if (o->b.len == 0 || (!force && o->b.len < FLUSH_AT))
        return 0;
    rc = o->fn(o->payload, (const char *)o->b.ptr, o->b.len);
    o->b.len = 0;
    return rc;
}

static const char HEX[] = "0123456789abcdef";

/* JSON string body of UTF-16 units, escaped as the dump contract says */
static void json_units(hollow__buf *b, const uint16_t *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            hollow__buf_putc(b, (uint8_t)c);
            continue;
        }
        switch (c) {
        case '"': hollow__buf_put(b, "\\\"", 2); continue;
        case '\\': hollow__buf_put(b, "\\\\", 2); continue;
        case '\b': hollow__buf_put(b, "\\b", 2); continue;
        case '\f': hollow__buf_put(b, "\\f", 2); continue;
        case '\n': hollow__buf_put(b, "\\n", 2); continue;
        case '\r': hollow__buf_put(b, "\\r", 2); continue;
        case '\t': hollow__buf_put(b, "\\t", 2); continue;
        default: break;
        }
        bool hi = c >= 0xD800 && c <= 0xDBFF, lo = c >= 0xDC00 && c <= 0xDFFF;
        if (c < 0x20 ||
            (hi && !(i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF)) ||
            lo) {
            char e[6] = {'\\', 'u', HEX[c >> 12], HEX[(c >> 8) & 15],
                         HEX[(c >> 4) & 15], HEX[c & 15]};
            hollow__buf_put(b, e, 6);
            continue;
        }
        char tmp[4];
        size_t k;
        if (hi) { /* a valid pair: one 4-byte sequence */
            k = hollow__utf16_to_utf8(tmp, u + i, 2, 0);
            i++;
        } else {
            k = hollow__utf16_to_utf8(tmp, u + i, 1, 0);
        }
        hollow__buf_put(b, tmp, k);
    }
}

static int ensure_units(dump_out *o, size_t n)
{
    if (n <= o->units_cap)
        return 0;
    uint16_t *u = hollow__reallocarray(o->units, n, sizeof *u);
    HOLLOW_CHECK_ALLOC(u);
    o->units = u;
    o->units_cap = n;
    return 0;
}

/* a NUL-terminated UTF-8 name or tag as a JSON string */
static int json_name(dump_out *o, hollow__buf *b, const char *s)
{
    size_t n = strlen(s);
    int rc = ensure_units(o, n + 1);
    if (rc < 0)
        return rc;
    long k = hollow__utf8_to_utf16(o->units, s, n);
    if (k < 0)
        return hollow__error_set(HOLLOW_ECORRUPT, "name is not UTF-8");
    hollow__buf_putc(b, '"');
    json_units(b, o->units, (size_t)k);
    hollow__buf_putc(b, '"');
    return 0;
}

/* a stored STRING (varint code units, §6.4) as a JSON string */
static int json_stored(dump_out *o, hollow__buf *b, const uint8_t *p, size_t len)
{
    int rc = ensure_units(o, len + 1);
    if (rc < 0)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        uint32_t u;
        size_t n = hollow__vint_decode(p + i, len - i, &u);
        if (n == 0 || u > 0xFFFF)
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "string bytes are not varint UTF-16 code "
                                     "units");
        o->units[k++] = (uint16_t)u;
        i += n;
    }
    hollow__buf_putc(b, '"');
    json_units(b, o->units, k);
    hollow__buf_putc(b, '"');
    return 0;
}

static void json_float_text(hollow__buf *b, const char *s, size_t n)
{
    /* NaN and infinities are JSON strings */
    if (n > 0 && (s[n - 1] == 'N' || s[n - 1] == 'y')) {
        hollow__buf_putc(b, '"');
        hollow__buf_put(b, s, n);
        hollow__buf_putc(b, '"');
    } else {
        hollow__buf_put(b, s, n);
    }
}

/* one primitive field value; references print as ordinals */
static int field_value(dump_out *o, hollow__buf *b, const hollow_type *t,
                       hollow_ordinal ord, size_t f, hollow_ordinal *ref)
{
    hollow_value v;
    int rc = hollow_object_value(&v, t, ord, f);
    if (rc < 0)
        return rc;
    if (ref != NULL)
        *ref = HOLLOW_ORDINAL_NONE;
    if (v.is_null) {
        hollow__buf_puts(b, "null");
        return 0;
    }
    char tmp[40];
    size_t n;
    switch (v.type) {
    case HOLLOW_FIELD_INT: hollow__buf_printf(b, "%d", (int)v.u.i); break;
    case HOLLOW_FIELD_LONG: hollow__buf_printf(b, "%lld", (long long)v.u.l); break;
    case HOLLOW_FIELD_BOOLEAN: hollow__buf_puts(b, v.u.b ? "true" : "false"); break;
    case HOLLOW_FIELD_FLOAT:
        n = hollow__shortest_float(v.u.f, tmp, sizeof tmp);
        json_float_text(b, tmp, n);
        break;
    case HOLLOW_FIELD_DOUBLE:
        n = hollow__shortest_double(v.u.d, tmp, sizeof tmp);
        json_float_text(b, tmp, n);
        break;
    case HOLLOW_FIELD_STRING: return json_stored(o, b, v.u.bytes.ptr, v.u.bytes.len);
    case HOLLOW_FIELD_BYTES:
        hollow__buf_putc(b, '"');
        for (size_t i = 0; i < v.u.bytes.len; i++) {
            char h[2] = {HEX[v.u.bytes.ptr[i] >> 4], HEX[v.u.bytes.ptr[i] & 15]};
            hollow__buf_put(b, h, 2);
        }
        hollow__buf_putc(b, '"');
        break;
    case HOLLOW_FIELD_REFERENCE:
        if (ref != NULL)
            *ref = v.u.ref;
        else
            hollow__buf_printf(b, "%d", (int)v.u.ref);
        break;
    }
    return 0;
}

/* ---------------------------------------------------- canonical dump */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_pair(const void *a, const void *b)
{
    const int32_t *x = a, *y = b;
    if (x[0] != y[0])
        return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* collect SET elements or MAP entries (pairs) into a growing int array */
static int collect(int32_t **arr, size_t *cap, size_t *n, const hollow_type *t,
                   hollow_ordinal ord, bool is_map)
{
    hollow_iter it;
    int rc = is_map ? hollow_map_iter_init(&it, t, ord)
                    : hollow_set_iter_init(&it, t, ord);
    if (rc < 0)
        return rc;
    size_t width = is_map ? 2 : 1;
    *n = 0;
    hollow_ordinal k, v;
    while (is_map ? hollow_map_iter_next(&it, &k, &v)
                  : hollow_set_iter_next(&it, &k)) {
        HOLLOW_TRY(hollow__grow(*arr, *cap, (*n + 1) * width, 64));
        (*arr)[*n * width] = k;
        if (is_map)
            (*arr)[*n * width + 1] = v;
        (*n)++;
    }
    if (*n > 1) /* qsort must not see a NULL array, even when empty */
        qsort(*arr, *n, width * sizeof(int32_t), is_map ? cmp_pair : cmp_i32);
    return 0;
}

struct deep_ctx;
static int object_json(dump_out *o, hollow__buf *b, const hollow_type *t,
                       hollow_ordinal ord, struct deep_ctx *deep);

static int canonical_record(dump_out *o, const hollow_type *t, hollow_ordinal ord,
                            int32_t **arr, size_t *cap)
{
    hollow__buf *b = &o->b;
    const hollow_schema *s = t->schema;
    int rc = 0;
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        rc = object_json(o, b, t, ord, NULL);
        break;
    case HOLLOW_SCHEMA_LIST: {
        uint32_t n;
        if ((rc = hollow_list_size(&n, t, ord)) < 0)
            break;
        hollow__buf_putc(b, '[');
        for (uint32_t i = 0; i < n && rc >= 0; i++) {
            hollow_ordinal e;
            if ((rc = hollow_list_get(&e, t, ord, i)) >= 0)
                hollow__buf_printf(b, i ? ",%d" : "%d", (int)e);
        }
        hollow__buf_putc(b, ']');
        break;
    }
    case HOLLOW_SCHEMA_SET:
    case HOLLOW_SCHEMA_MAP: {
        bool is_map = s->kind == HOLLOW_SCHEMA_MAP;
        size_t n;
        if ((rc = collect(arr, cap, &n, t, ord, is_map)) < 0)
            break;
        hollow__buf_putc(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (is_map)
                hollow__buf_printf(b, i ? ",[%d,%d]" : "[%d,%d]",
                                   (int)(*arr)[2 * i], (int)(*arr)[2 * i + 1]);
            else
                hollow__buf_printf(b, i ? ",%d" : "%d", (int)(*arr)[i]);
        }
        hollow__buf_putc(b, ']');
        break;
    }
    }
    return rc < 0 ? rc : 0;
}

int hollow_dump_record(const hollow_type *t, hollow_ordinal ord,
                       hollow_write_fn fn, void *payload)
{
    if (t == NULL || fn == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    dump_out o = {HOLLOW__BUF_INIT, fn, payload, NULL, 0};
    int32_t *arr = NULL;
    size_t cap = 0;
    int rc = canonical_record(&o, t, ord, &arr, &cap);
    if (rc >= 0)
        rc = flush(&o, true);
    hollow__free(arr);
    hollow__free(o.units);
    hollow__buf_free(&o.b);
    return rc;
}

static const char *kind_name(hollow_schema_kind k)
{
    switch (k) {
    case HOLLOW_SCHEMA_OBJECT: return "OBJECT";
    case HOLLOW_SCHEMA_LIST: return "LIST";
    case HOLLOW_SCHEMA_SET: return "SET";
    default: return "MAP";
    }
}

/* a header tag's key and index, for qsort (which has no context pointer) */
typedef struct tag_ref {
    const char *key;
    size_t idx;
} tag_ref;

static int tag_ref_cmp(const void *a, const void *b)
{
    const tag_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * Header tag indexes sorted by key bytes; the last of equal keys wins.
 * O(n log n): a blob may carry 32767 tags (docs/limits.md).
 */
static int sorted_tags(size_t **out, size_t *count, const hollow_read_state *rs)
{
    size_t n = rs->tag_count, k = 0;
    size_t *idx = hollow__calloc(n ? n : 1, sizeof *idx);
    tag_ref *refs = hollow__calloc(n ? n : 1, sizeof *refs);
    if (idx == NULL || refs == NULL) {
        hollow__free(idx);
        hollow__free(refs);
        return hollow__error_oom();
    }
    for (size_t i = 0; i < n; i++) {
        refs[i].key = rs->tag_keys[i];
        refs[i].idx = i;
    }
    qsort(refs, n, sizeof *refs, tag_ref_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(refs[i].key, refs[i + 1].key) == 0)
            continue; /* a later tag of the same key follows */
        idx[k++] = refs[i].idx;
    }
    hollow__free(refs);
    *out = idx;
    *count = k;
    return 0;
}

int hollow_dump_canonical(const hollow_read_state *rs, hollow_write_fn fn,
                          void *payload)
{
    if (rs == NULL || fn == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    dump_out o = {HOLLOW__BUF_INIT, fn, payload, NULL, 0};
    hollow__buf *b = &o.b;
    int32_t *arr = NULL;
    size_t cap = 0, ntags = 0;
    size_t *tags = NULL;
    char *text = NULL;
    int rc;

    hollow__buf_puts(b, "{\"format\":\"hollow-dump/1\",\n\"headerTags\":{");
    if ((rc = sorted_tags(&tags, &ntags, rs)) < 0)
        goto done;
    for (size_t i = 0; i < ntags; i++) {
        if (i > 0)
            hollow__buf_putc(b, ',');
        if ((rc = json_name(&o, b, rs->tag_keys[tags[i]])) < 0)
            goto done;
        hollow__buf_putc(b, ':');
        if ((rc = json_name(&o, b, rs->tag_values[tags[i]])) < 0)
            goto done;
    }
    hollow__buf_printf(b, "},\n\"randomizedTag\":%lld,\n\"schemas\":[\n",
                       (long long)rs->tag);
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_type *t = hollow_read_state_type_sorted(rs, i);
        size_t n = hollow_schema_print(NULL, 0, t->schema);
        hollow__free(text);
        if ((text = hollow__malloc(n + 1)) == NULL) {
            rc = hollow__error_oom();
            goto done;
        }
        hollow_schema_print(text, n + 1, t->schema);
        if ((rc = json_name(&o, b, text)) < 0)
            goto done;
        hollow__buf_puts(b, i + 1 < rs->type_count ? ",\n" : "\n");
    }
    hollow__buf_puts(b, "],\n\"types\":[\n");
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_type *t = hollow_read_state_type_sorted(rs, i);
        hollow__buf_puts(b, "{\"name\":");
        if ((rc = json_name(&o, b, t->schema->name)) < 0)
            goto done;
        hollow__buf_printf(b,
                           ",\"kind\":\"%s\",\"numShards\":%u,\"count\":%u,"
                           "\"records\":[\n",
                           kind_name(t->schema->kind), t->shard_count, t->count);
        bool first = true;
        for (hollow_ordinal ord = hollow_type_next_ordinal(t, 0); ord >= 0;
             ord = hollow_type_next_ordinal(t, ord + 1)) {
            if (!first)
                hollow__buf_puts(b, ",\n");
            first = false;
            hollow__buf_printf(b, "[%d,", (int)ord);
            if ((rc = canonical_record(&o, t, ord, &arr, &cap)) < 0) {
                hollow__error_prefix("type %s ordinal %d", t->schema->name,
                                     (int)ord);
                goto done;
            }
            hollow__buf_putc(b, ']');
            if ((rc = flush(&o, false)) != 0)
                goto done;
        }
        hollow__buf_puts(b, first ? "]}" : "\n]}");
        hollow__buf_puts(b, i + 1 < rs->type_count ? ",\n" : "\n");
    }
    hollow__buf_puts(b, "]}\n");
    rc = flush(&o, true);
done:
    hollow__free(text);
    hollow__free(tags);
    hollow__free(arr);
    hollow__free(o.units);
    hollow__buf_free(b);
    return rc;
}

/* --------------------------------------------------------- deep dump */

typedef struct memo_entry {
    const hollow_type *type; /* NULL = empty slot */
    hollow_ordinal ord;
    char *text;              /* NULL while in progress */
    size_t len;
} memo_entry;

typedef struct deep_ctx {
    dump_out *o;
    const hollow_read_state *rs;
    memo_entry *memo;
    size_t memo_cap, memo_count;
    int depth;
    size_t held;   /* bytes of deep text held (memo and records) */
    size_t limit;  /* what a hostile DAG may make us hold at most */
} deep_ctx;

/* free the memo and the output of a deep dump */
static void deep_free(deep_ctx *c)
{
    for (size_t i = 0; i < c->memo_cap; i++)
        hollow__free(c->memo[i].text);
    hollow__free(c->memo);
    hollow__free(c->o->units);
    hollow__buf_free(&c->o->b);
}

/* count text the deep dump holds; HOLLOW_ERANGE past the limit */
static int hold(deep_ctx *c, size_t n)
{
    c->held += n;
    if (c->held > c->limit)
        return hollow__error_set(HOLLOW_ERANGE,
                                 "the deep dump would hold more than %zu bytes "
                                 "of text (shared references multiply it)",
                                 c->limit);
    return 0;
}

static size_t memo_slot(const deep_ctx *c, const hollow_type *t,
                        hollow_ordinal ord)
{
    uint64_t h = ((uint64_t)(uintptr_t)t * 0x9E3779B97F4A7C15ull) ^
                 ((uint64_t)(uint32_t)ord * 0xC2B2AE3D27D4EB4Full);
    h ^= h >> 29;
    size_t i = (size_t)h & (c->memo_cap - 1);
    while (c->memo[i].type != NULL &&
           !(c->memo[i].type == t && c->memo[i].ord == ord))
        i = (i + 1) & (c->memo_cap - 1);
    return i;
}

static int memo_grow(deep_ctx *c)
{
    size_t ncap = c->memo_cap ? c->memo_cap * 2 : 1024;
    memo_entry *old = c->memo;
    size_t ocap = c->memo_cap;
    c->memo = hollow__calloc(ncap, sizeof *c->memo);
    if (c->memo == NULL) {
        c->memo = old;
        return hollow__error_oom();
    }
    c->memo_cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].type != NULL)
            c->memo[memo_slot(c, old[i].type, old[i].ord)] = old[i];
    hollow__free(old);
    return 0;
}

typedef struct piece {
    char *p;
    size_t n;
} piece;

static int cmp_piece(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    if (c != 0)
        return c;
    return (x->n > y->n) - (x->n < y->n);
}

static int deep_value(deep_ctx *c, hollow__buf *b, const hollow_type *t,
                      hollow_ordinal ord);

/* the deep text of a referenced record of type `name` */
static int deep_ref(deep_ctx *c, hollow__buf *b, const char *name,
                    hollow_ordinal ord)
{
    const hollow_type *t = name ? hollow_read_state_type(c->rs, name) : NULL;
    if (t == NULL) {
        hollow__buf_puts(b, "{\"$missingType\":");
        int rc = json_name(c->o, b, name ? name : "");
        if (rc < 0)
            return rc;
        hollow__buf_printf(b, ",\"$ordinal\":%d}", (int)ord);
        return 0;
    }
    return deep_value(c, b, t, ord);
}

/* render into separate pieces, sort them, join with ',' */
static int sorted_join(hollow__buf *b, piece *ps, size_t n)
{
    if (n > 1)
        qsort(ps, n, sizeof *ps, cmp_piece);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            hollow__buf_putc(b, ',');
        hollow__buf_put(b, ps[i].p, ps[i].n);
    }
    return 0;
}

static void free_pieces(piece *ps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hollow__free(ps[i].p);
    hollow__free(ps);
}

static int deep_collection(deep_ctx *c, hollow__buf *b, const hollow_type *t,
                           hollow_ordinal ord)
{
    const hollow_schema *s = t->schema;
    bool is_map = s->kind == HOLLOW_SCHEMA_MAP;
    hollow_iter it;
    int rc = is_map ? hollow_map_iter_init(&it, t, ord)
                    : hollow_set_iter_init(&it, t, ord);
    if (rc < 0)
        return rc;
    piece *ps = NULL;
    size_t n = 0, cap = 0;
    hollow_ordinal k, v;
    while (is_map ? hollow_map_iter_next(&it, &k, &v)
                  : hollow_set_iter_next(&it, &k)) {
        hollow__buf pb = HOLLOW__BUF_INIT;
        if (is_map) {
            hollow__buf_putc(&pb, '[');
            rc = deep_ref(c, &pb, s->elem_type, k);
            hollow__buf_putc(&pb, ',');
            if (rc >= 0)
                rc = deep_ref(c, &pb, s->value_type, v);
            hollow__buf_putc(&pb, ']');
        } else {
            rc = deep_ref(c, &pb, s->elem_type, k);
        }
        if (rc >= 0)
            rc = hollow__buf_check(&pb);
        if (rc >= 0)
            rc = hollow__grow(ps, cap, n + 1, 16);
        if (rc < 0) {
            hollow__buf_free(&pb);
            free_pieces(ps, n);
            return rc;
        }
        ps[n].n = pb.len;
        ps[n].p = (char *)hollow__buf_detach(&pb, NULL);
        n++;
    }
    hollow__buf_putc(b, '[');
    sorted_join(b, ps, n);
    hollow__buf_putc(b, ']');
    free_pieces(ps, n);
    return 0;
}

/*
 * An OBJECT record as {"field":value,...}. With `deep` (a deep dump),
 * references are followed; without, they are ordinals.
 */
static int object_json(dump_out *o, hollow__buf *b, const hollow_type *t,
                       hollow_ordinal ord, deep_ctx *deep)
{
    const hollow_schema *s = t->schema;
    int rc = 0;
    hollow__buf_putc(b, '{');
    for (size_t f = 0; f < s->field_count && rc >= 0; f++) {
        if (f > 0)
            hollow__buf_putc(b, ',');
        if ((rc = json_name(o, b, s->fields[f].name)) < 0)
            break;
        hollow__buf_putc(b, ':');
        if (deep != NULL && s->fields[f].type == HOLLOW_FIELD_REFERENCE) {
            hollow_ordinal r;
            if ((rc = field_value(o, b, t, ord, f, &r)) >= 0 && r >= 0)
                rc = deep_ref(deep, b, s->fields[f].ref_type, r);
        } else {
            rc = field_value(o, b, t, ord, f, NULL);
        }
    }
    hollow__buf_putc(b, '}');
    return rc;
}

static int deep_render(deep_ctx *c, hollow__buf *b, const hollow_type *t,
                       hollow_ordinal ord)
{
    const hollow_schema *s = t->schema;
    int rc = 0;
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        rc = object_json(c->o, b, t, ord, c);
        return rc < 0 ? rc : 0;
    case HOLLOW_SCHEMA_LIST: {
        uint32_t n;
        if ((rc = hollow_list_size(&n, t, ord)) < 0)
            return rc;
        hollow__buf_putc(b, '[');
        for (uint32_t i = 0; i < n; i++) {
            hollow_ordinal e;
            if ((rc = hollow_list_get(&e, t, ord, i)) < 0)
                return rc;
            if (i > 0)
                hollow__buf_putc(b, ',');
            if ((rc = deep_ref(c, b, s->elem_type, e)) < 0)
                return rc;
        }
        hollow__buf_putc(b, ']');
        return 0;
    }
    default:
        return deep_collection(c, b, t, ord);
    }
}

static int deep_value(deep_ctx *c, hollow__buf *b, const hollow_type *t,
                      hollow_ordinal ord)
{
    if (!hollow_type_is_populated(t, ord))
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "reference to unpopulated ordinal %d of type %s",
                                 (int)ord, t->schema->name);
    if ((c->memo_count + 1) * 2 > c->memo_cap) {
        int rc = memo_grow(c);
        if (rc < 0)
            return rc;
    }
    size_t i = memo_slot(c, t, ord);
    if (c->memo[i].type != NULL) {
        if (c->memo[i].text == NULL)
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "reference cycle through %s ordinal %d",
                                     t->schema->name, (int)ord);
        if (b->len + c->memo[i].len > MAX_DEEP_TEXT)
            return hollow__error_set(HOLLOW_ERANGE,
                                     "deep text through %s ordinal %d exceeds "
                                     "%zu bytes",
                                     t->schema->name, (int)ord, MAX_DEEP_TEXT);
        hollow__buf_put(b, c->memo[i].text, c->memo[i].len);
        return 0;
    }
    if (c->depth >= MAX_DEPTH)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "references nested deeper than %d", MAX_DEPTH);
    c->memo[i].type = t;
    c->memo[i].ord = ord;
    c->memo_count++;
    hollow__buf rb = HOLLOW__BUF_INIT;
    c->depth++;
    int rc = deep_render(c, &rb, t, ord);
    c->depth--;
    if (rc >= 0)
        rc = hollow__buf_check(&rb);
    if (rc >= 0 && (rb.len > MAX_DEEP_TEXT || b->len + rb.len > MAX_DEEP_TEXT))
        rc = hollow__error_set(HOLLOW_ERANGE,
                               "deep text of %s ordinal %d exceeds %zu bytes",
                               t->schema->name, (int)ord, MAX_DEEP_TEXT);
    if (rc < 0) {
        hollow__buf_free(&rb);
        return rc;
    }
    hollow__buf_put(b, rb.ptr, rb.len);
    /* the memo may have been rehashed by the recursion: find the slot again */
    if ((rc = hold(c, rb.len)) < 0) {
        hollow__buf_free(&rb);
        return rc;
    }
    i = memo_slot(c, t, ord);
    c->memo[i].len = rb.len;
    c->memo[i].text = (char *)hollow__buf_detach(&rb, NULL);
    if (c->memo[i].text == NULL) /* empty text cannot occur; keep non-NULL */
        c->memo[i].text = hollow__strdup("");
    return c->memo[i].text ? 0 : hollow__error_oom();
}

int hollow_dump_deep(const hollow_read_state *rs, const char *type,
                     hollow_write_fn fn, void *payload)
{
    if (rs == NULL || type == NULL || fn == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    const hollow_type *t = hollow_read_state_type(rs, type);
    if (t == NULL)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no type %s in the state",
                                 type);
    dump_out o = {HOLLOW__BUF_INIT, fn, payload, NULL, 0};
    /* a deep dump is far larger than its state only when references are
     * shared many times over; real data stays well within this */
    size_t mem = hollow_read_state_memory(rs);
    size_t limit = (size_t)32 << 20;
    if (mem < SIZE_MAX / 64 && mem * 64 > limit)
        limit = mem * 64;
    deep_ctx c = {&o, rs, NULL, 0, 0, 0, 0, limit};
    piece *ps = NULL;
    size_t n = 0;
    int rc = 0;
    ps = hollow__calloc(t->count ? t->count : 1, sizeof *ps);
    if (ps == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    for (hollow_ordinal ord = hollow_type_next_ordinal(t, 0);
         ord >= 0 && n < t->count; ord = hollow_type_next_ordinal(t, ord + 1)) {
        hollow__buf pb = HOLLOW__BUF_INIT;
        rc = deep_value(&c, &pb, t, ord);
        if (rc >= 0)
            rc = hollow__buf_check(&pb);
        if (rc >= 0)
            rc = hold(&c, pb.len);
        if (rc < 0) {
            hollow__buf_free(&pb);
            hollow__error_prefix("type %s ordinal %d", type, (int)ord);
            goto done;
        }
        ps[n].n = pb.len;
        ps[n].p = (char *)hollow__buf_detach(&pb, NULL);
        n++;
    }
    if (n > 1)
        qsort(ps, n, sizeof *ps, cmp_piece);
    hollow__buf_puts(&o.b, "{\"format\":\"hollow-deep/1\",\"type\":");
    if ((rc = json_name(&o, &o.b, type)) < 0)
        goto done;
    hollow__buf_printf(&o.b, ",\"count\":%zu,\"records\":[\n", n);
    for (size_t i = 0; i < n; i++) {
        hollow__buf_put(&o.b, ps[i].p, ps[i].n);
        hollow__buf_puts(&o.b, i + 1 < n ? ",\n" : "\n");
        if ((rc = flush(&o, false)) != 0)
            goto done;
    }
    hollow__buf_puts(&o.b, "]}\n");
    rc = flush(&o, true);
done:
    free_pieces(ps, n);
    deep_free(&c);
    return rc;
}

int hollow_dump_deep_record(const hollow_type *t, hollow_ordinal o,
                            hollow_write_fn fn, void *payload)
{
    if (t == NULL || fn == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    if (!hollow_type_is_populated(t, o))
        return hollow__error_set(HOLLOW_ENOTFOUND, "type %s has no record %d",
                                 t->schema->name, (int)o);
    dump_out out = {HOLLOW__BUF_INIT, fn, payload, NULL, 0};
    deep_ctx c = {&out, t->state, NULL, 0, 0, 0, 0, (size_t)32 << 20};
    size_t mem = hollow_read_state_memory(t->state);
    if (mem < SIZE_MAX / 64 && mem * 64 > c.limit)
        c.limit = mem * 64;
    int rc = deep_value(&c, &out.b, t, o);
    if (rc >= 0)
        rc = flush(&out, true);
    deep_free(&c);
    return rc;
}
