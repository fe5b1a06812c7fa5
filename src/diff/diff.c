/*
 * Diff: the differences between two read states (include/hollow/diff.h).
 *
 * Two passes.
 *
 * 1. Dirty bits. For each type present in both states, one bit per ordinal
 *    says "this ordinal may not hold the same record (deeply) in the two
 *    states". The walk of read/changed.c visits only the shards the states
 *    do not share: a removed or added ordinal is dirty. A kept ordinal
 *    (populated in both) is clean when the new state is the old one plus
 *    one delta (its origin tag is the old state's tag): a delta only
 *    removes and adds ordinals, so a kept one holds the same record and
 *    reaches the same records (unless a type it reaches changed schema:
 *    the same bytes then read as another value). Otherwise (several
 *    deltas, which may reuse a freed ordinal, or two unrelated states) a
 *    kept ordinal is compared shallowly: equal values, and references to
 *    clean ordinals, so types are done referenced-first. A type whose schema differs, or that is on
 *    a reference cycle, is dirty throughout.
 *
 *    Invariant: a clean ordinal of a type holds deeply equal records in
 *    both states, so the deep compare stops there.
 *
 * 2. Records. The candidates of a diffed type are its dirty ordinals. Each
 *    gets its key text (primary key values, or its whole JSON text when
 *    matched by content); the two sides are sorted by key and merged. A
 *    matched pair is compared deeply (compare()), which appends one change
 *    per differing value at its path. Everything else is unchanged, so
 *    unchanged = records of the new state - added - changed.
 */
#include "hollow/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/array.h"
#include "common/buf.h"
#include "common/error.h"
#include "hollow/dump.h"
#include "read/read_int.h"

/* a reference chain deeper than this is taken for a cycle (a bad blob) */
#define MAX_DEPTH 256

typedef struct dtype {
    const hollow_type *a, *b; /* old, new (both non-NULL) */
    uint64_t *dirty;          /* bits by ordinal; NULL if all_dirty */
    size_t nbits;
    bool all_dirty;
    bool deep_schema; /* it or a type it reaches changed schema */
    int mark; /* 0 not done, 1 in progress, 2 done */
} dtype;

typedef hollow__array(hollow_diff_change) change_list;
typedef hollow__array(hollow_diff_record) record_list;

typedef struct type_result {
    char *name;
    char *key; /* key paths joined by "," */
    hollow_diff_match match;
    size_t added, removed, changed, unchanged;
    record_list records;
} type_result;

struct hollow_diff {
    hollow_read_state *from, *to;
    dtype *dt; /* by index of the new state's types */
    size_t dt_count;
    bool one_delta;
    type_result *types;
    size_t type_count;
    /* every change of every record, in one array; records point into it
     * once it is complete (see finish()) */
    change_list changes;
};

/* =========================================================== helpers */

static bool bit_get(const uint64_t *bits, size_t nbits, size_t i)
{
    return i < nbits && ((bits[i >> 6] >> (i & 63)) & 1);
}

/* the dtype of a new-state type, or NULL */
static dtype *dtype_of(hollow_diff *d, const hollow_type *b)
{
    if (b == NULL || d->dt == NULL)
        return NULL;
    if (b < d->to->types || b >= d->to->types + d->to->type_count)
        return NULL;
    dtype *x = &d->dt[b - d->to->types];
    return x->a != NULL ? x : NULL;
}

/* ordinal o is the same record (deeply) in both states */
static bool is_clean(hollow_diff *d, const hollow_type *a, hollow_ordinal oa,
                     const hollow_type *b, hollow_ordinal ob)
{
    if (oa != ob || oa < 0)
        return false;
    dtype *x = dtype_of(d, b);
    if (x == NULL || x->a != a || x->mark != 2 || x->all_dirty)
        return false;
    return !bit_get(x->dirty, x->nbits, (size_t)oa);
}

static const hollow_type *ref_type(const hollow_read_state *rs,
                                   const hollow_schema *s, size_t f)
{
    const char *name = hollow_schema_field_ref_type(s, f);
    return name ? hollow_read_state_type(rs, name) : NULL;
}

static const hollow_type *elem_type(const hollow_read_state *rs,
                                    const hollow_type *t)
{
    const char *name = hollow_schema_element_type(hollow_type_schema(t));
    return name ? hollow_read_state_type(rs, name) : NULL;
}

static const hollow_type *value_type(const hollow_read_state *rs,
                                     const hollow_type *t)
{
    const char *name = hollow_schema_value_type(hollow_type_schema(t));
    return name ? hollow_read_state_type(rs, name) : NULL;
}

/* ======================================================= dirty bits */

static int mark_dirty(void *ctx, hollow_ordinal o, unsigned what)
{
    dtype *x = ctx;
    (void)what;
    x->dirty[(uint32_t)o >> 6] |= 1ull << ((uint32_t)o & 63);
    return 0;
}

static int dtype_done(hollow_diff *d, const hollow_type *b);

/* two referenced ordinals (NONE for null) are the same deeply */
static bool same_ref(hollow_diff *d, const hollow_type *ta, hollow_ordinal oa,
                     const hollow_type *tb, hollow_ordinal ob)
{
    if (oa == HOLLOW_ORDINAL_NONE || ob == HOLLOW_ORDINAL_NONE)
        return oa == ob;
    return ta != NULL && tb != NULL && is_clean(d, ta, oa, tb, ob);
}

/*
 * Shallow compare of kept ordinal o (see the top of the file): equal
 * values and references to clean ordinals. *same false also on a read
 * error of either record (it is then compared, and reported, deeply).
 */
static int kept_same(bool *same, hollow_diff *d, dtype *x, hollow_ordinal o)
{
    const hollow_type *a = x->a, *b = x->b;
    const hollow_schema *s = hollow_type_schema(b);
    *same = false;
    switch (hollow_type_kind(b)) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < hollow_schema_field_count(s); f++) {
            hollow_value va, vb;
            if (hollow_object_value(&va, a, o, f) < 0 ||
                hollow_object_value(&vb, b, o, f) < 0)
                return 0;
            if (va.is_null != vb.is_null)
                return 0;
            if (va.is_null)
                continue;
            switch (vb.type) {
            case HOLLOW_FIELD_STRING:
            case HOLLOW_FIELD_BYTES:
                if (va.u.bytes.len != vb.u.bytes.len ||
                    (vb.u.bytes.len &&
                     memcmp(va.u.bytes.ptr, vb.u.bytes.ptr, vb.u.bytes.len)))
                    return 0;
                break;
            case HOLLOW_FIELD_REFERENCE:
                if (!same_ref(d, ref_type(d->from, s, f), va.u.ref,
                              ref_type(d->to, s, f), vb.u.ref))
                    return 0;
                break;
            case HOLLOW_FIELD_INT: if (va.u.i != vb.u.i) return 0; break;
            case HOLLOW_FIELD_LONG: if (va.u.l != vb.u.l) return 0; break;
            case HOLLOW_FIELD_BOOLEAN: if (va.u.b != vb.u.b) return 0; break;
            case HOLLOW_FIELD_FLOAT:
                if (memcmp(&va.u.f, &vb.u.f, sizeof va.u.f)) return 0;
                break;
            case HOLLOW_FIELD_DOUBLE:
                if (memcmp(&va.u.d, &vb.u.d, sizeof va.u.d)) return 0;
                break;
            }
        }
        break;
    case HOLLOW_SCHEMA_LIST: {
        uint32_t na, nb;
        if (hollow_list_size(&na, a, o) < 0 || hollow_list_size(&nb, b, o) < 0 ||
            na != nb)
            return 0;
        const hollow_type *ea = elem_type(d->from, a), *eb = elem_type(d->to, b);
        for (uint32_t i = 0; i < nb; i++) {
            hollow_ordinal p, q;
            if (hollow_list_get(&p, a, o, i) < 0 ||
                hollow_list_get(&q, b, o, i) < 0 || !same_ref(d, ea, p, eb, q))
                return 0;
        }
        break;
    }
    case HOLLOW_SCHEMA_SET:
    case HOLLOW_SCHEMA_MAP: {
        bool map = hollow_type_kind(b) == HOLLOW_SCHEMA_MAP;
        uint32_t na, nb;
        int ra = map ? hollow_map_size(&na, a, o) : hollow_set_size(&na, a, o);
        int rb = map ? hollow_map_size(&nb, b, o) : hollow_set_size(&nb, b, o);
        if (ra < 0 || rb < 0 || na != nb)
            return 0;
        const hollow_type *ea = elem_type(d->from, a), *eb = elem_type(d->to, b);
        const hollow_type *va = map ? value_type(d->from, a) : NULL;
        const hollow_type *vb = map ? value_type(d->to, b) : NULL;
        hollow_iter ia, ib;
        if ((map ? hollow_map_iter_init(&ia, a, o) : hollow_set_iter_init(&ia, a, o)) < 0 ||
            (map ? hollow_map_iter_init(&ib, b, o) : hollow_set_iter_init(&ib, b, o)) < 0)
            return 0;
        /* the same elements hash to the same buckets: compare in order */
        for (;;) {
            hollow_ordinal ka, kb, xa = HOLLOW_ORDINAL_NONE, xb = HOLLOW_ORDINAL_NONE;
            bool more_a = map ? hollow_map_iter_next(&ia, &ka, &xa)
                              : hollow_set_iter_next(&ia, &ka);
            bool more_b = map ? hollow_map_iter_next(&ib, &kb, &xb)
                              : hollow_set_iter_next(&ib, &kb);
            if (more_a != more_b)
                return 0;
            if (!more_a)
                break;
            if (!same_ref(d, ea, ka, eb, kb) ||
                (map && !same_ref(d, va, xa, vb, xb)))
                return 0;
        }
        break;
    }
    }
    *same = true;
    return 0;
}

typedef struct kept_ctx {
    hollow_diff *d;
    dtype *x;
} kept_ctx;

static int check_kept(void *ctx, hollow_ordinal o, unsigned what)
{
    kept_ctx *k = ctx;
    bool same = true;
    if (what == HOLLOW__ORD_KEPT) {
        int rc = kept_same(&same, k->d, k->x, o);
        if (rc < 0)
            return rc;
    }
    if (!same || what != HOLLOW__ORD_KEPT)
        mark_dirty(k->x, o, what);
    return 0;
}

/* make sure the types a record of `b` references are done first */
static int deps_done(hollow_diff *d, const hollow_type *b)
{
    const hollow_schema *s = hollow_type_schema(b);
    int rc = 0;
    if (hollow_type_kind(b) == HOLLOW_SCHEMA_OBJECT) {
        for (size_t f = 0; f < hollow_schema_field_count(s) && rc == 0; f++)
            if (hollow_schema_field_type(s, f) == HOLLOW_FIELD_REFERENCE)
                rc = dtype_done(d, ref_type(d->to, s, f));
    } else {
        rc = dtype_done(d, elem_type(d->to, b));
        if (rc == 0 && hollow_type_kind(b) == HOLLOW_SCHEMA_MAP)
            rc = dtype_done(d, value_type(d->to, b));
    }
    return rc;
}

static bool schema_changed_below(hollow_diff *d, const hollow_type *t)
{
    if (t == NULL)
        return false;
    dtype *x = dtype_of(d, t);
    return x == NULL || x->all_dirty || x->deep_schema;
}

/*
 * Whether a type that b references changed schema (or is new): b's kept
 * records then keep their bytes but not their deep values, and one delta
 * is no proof that they are the same.
 */
static bool deps_schema_changed(hollow_diff *d, const hollow_type *b)
{
    const hollow_schema *s = hollow_type_schema(b);
    if (hollow_type_kind(b) == HOLLOW_SCHEMA_OBJECT) {
        for (size_t f = 0; f < hollow_schema_field_count(s); f++)
            if (hollow_schema_field_type(s, f) == HOLLOW_FIELD_REFERENCE &&
                schema_changed_below(d, ref_type(d->to, s, f)))
                return true;
        return false;
    }
    return schema_changed_below(d, elem_type(d->to, b)) ||
           (hollow_type_kind(b) == HOLLOW_SCHEMA_MAP &&
            schema_changed_below(d, value_type(d->to, b)));
}

/* compute the dirty bits of new-state type b (and of what it references) */
static int dtype_done(hollow_diff *d, const hollow_type *b)
{
    dtype *x = dtype_of(d, b);
    if (x == NULL || x->mark == 2)
        return 0;
    if (x->mark == 1) {
        x->all_dirty = true; /* a cycle: no shortcut through this type */
        return 0;
    }
    x->mark = 1;
    /* referenced types first, also under a changed schema: the deep
     * compare stops at their clean ordinals */
    int rc = deps_done(d, b);
    if (rc < 0)
        return rc;
    x->deep_schema = deps_schema_changed(d, b);
    if (!hollow_schema_equal(hollow_type_schema(x->a), hollow_type_schema(b))) {
        x->all_dirty = true;
    } else {
        int32_t max = x->a->max_ordinal > b->max_ordinal ? x->a->max_ordinal
                                                         : b->max_ordinal;
        x->nbits = (size_t)(max + 1);
        x->dirty = hollow__calloc(x->nbits / 64 + 1, sizeof *x->dirty);
        HOLLOW_CHECK_ALLOC(x->dirty);
        if (d->one_delta && !x->deep_schema) {
            rc = hollow__type_changed_ordinals(
                NULL, x->a, b, HOLLOW__ORD_REMOVED | HOLLOW__ORD_ADDED,
                mark_dirty, x);
        } else {
            kept_ctx k = {d, x};
            rc = hollow__type_changed_ordinals(
                NULL, x->a, b,
                HOLLOW__ORD_REMOVED | HOLLOW__ORD_ADDED | HOLLOW__ORD_KEPT,
                check_kept, &k);
        }
    }
    x->mark = 2;
    return rc;
}

/* ============================================================== text */

static void json_string(hollow__buf *b, const char *s, size_t n)
{
    hollow__buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            hollow__buf_putc(b, '\\');
            hollow__buf_putc(b, c);
        } else if (c < 0x20) {
            hollow__buf_printf(b, "\\u%04x", c);
        } else {
            hollow__buf_putc(b, c);
        }
    }
    hollow__buf_putc(b, '"');
}

static void json_float_text(hollow__buf *b, const char *s, size_t n)
{
    /* NaN and infinities are JSON strings, as in the dumps */
    bool word = n > 0 && (s[n - 1] == 'N' || s[n - 1] == 'y');
    if (word)
        hollow__buf_putc(b, '"');
    hollow__buf_put(b, s, n);
    if (word)
        hollow__buf_putc(b, '"');
}

static int render(hollow__buf *b, const hollow_read_state *rs,
                  const hollow_type *t, hollow_ordinal o, int depth);

/* field f of OBJECT record o as JSON (references followed) */
static int render_field(hollow__buf *b, const hollow_read_state *rs,
                        const hollow_type *t, hollow_ordinal o, size_t f,
                        int depth)
{
    hollow_value v;
    const hollow_schema *s = hollow_type_schema(t);
    int rc = hollow_object_value(&v, t, o, f);
    if (rc < 0)
        return rc;
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
        n = hollow_format_float(tmp, sizeof tmp, v.u.f);
        json_float_text(b, tmp, n);
        break;
    case HOLLOW_FIELD_DOUBLE:
        n = hollow_format_double(tmp, sizeof tmp, v.u.d);
        json_float_text(b, tmp, n);
        break;
    case HOLLOW_FIELD_STRING: {
        hollow_str str;
        char small[256];
        rc = hollow_object_string(&str, small, sizeof small, t, o, f);
        if (rc == HOLLOW_ERANGE) {
            size_t need = str.len;
            char *big = hollow__malloc(need ? need : 1);
            HOLLOW_CHECK_ALLOC(big);
            rc = hollow_object_string(&str, big, need, t, o, f);
            if (rc == 0)
                json_string(b, str.ptr, str.len);
            hollow__free(big);
            return rc < 0 ? rc : 0;
        }
        if (rc < 0)
            return rc;
        json_string(b, str.ptr, str.len);
        break;
    }
    case HOLLOW_FIELD_BYTES:
        hollow__buf_putc(b, '"');
        for (size_t i = 0; i < v.u.bytes.len; i++)
            hollow__buf_printf(b, "%02x", v.u.bytes.ptr[i]);
        hollow__buf_putc(b, '"');
        break;
    case HOLLOW_FIELD_REFERENCE: {
        const hollow_type *rt = ref_type(rs, s, f);
        if (rt == NULL)
            return hollow__error_set(HOLLOW_ECORRUPT, "type %s field %s "
                                     "references a type the state lacks",
                                     hollow_type_name(t),
                                     hollow_schema_field_name(s, f));
        return render(b, rs, rt, v.u.ref, depth + 1);
    }
    }
    return 0;
}

static int cmp_text(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* the texts of the elements (SET) or [key,value] entries (MAP) of o, sorted */
static int element_texts(char ***out, size_t *n, const hollow_read_state *rs,
                         const hollow_type *t, hollow_ordinal o, int depth)
{
    bool map = hollow_type_kind(t) == HOLLOW_SCHEMA_MAP;
    const hollow_type *et = elem_type(rs, t), *vt = map ? value_type(rs, t) : NULL;
    uint32_t size;
    int rc = map ? hollow_map_size(&size, t, o) : hollow_set_size(&size, t, o);
    if (rc < 0)
        return rc;
    if (et == NULL || (map && vt == NULL))
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s: element type "
                                 "missing from the state", hollow_type_name(t));
    char **v = hollow__calloc(size ? size : 1, sizeof *v);
    HOLLOW_CHECK_ALLOC(v);
    hollow_iter it;
    size_t k = 0;
    rc = map ? hollow_map_iter_init(&it, t, o) : hollow_set_iter_init(&it, t, o);
    hollow_ordinal e, val = HOLLOW_ORDINAL_NONE;
    while (rc == 0 && k < size &&
           (map ? hollow_map_iter_next(&it, &e, &val)
                : hollow_set_iter_next(&it, &e))) {
        hollow__buf eb = HOLLOW__BUF_INIT;
        if (map)
            hollow__buf_putc(&eb, '[');
        rc = render(&eb, rs, et, e, depth + 1);
        if (rc == 0 && map) {
            hollow__buf_putc(&eb, ',');
            rc = render(&eb, rs, vt, val, depth + 1);
            hollow__buf_putc(&eb, ']');
        }
        if (rc == 0 && (v[k] = hollow__buf_cstr(&eb)) == NULL)
            rc = hollow__error_oom();
        if (rc < 0)
            hollow__buf_free(&eb);
        else
            k++;
    }
    if (rc == 0)
        if (k > 1)
            qsort(v, k, sizeof *v, cmp_text);
    if (rc < 0) {
        for (size_t i = 0; i < k; i++)
            hollow__free(v[i]);
        hollow__free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

static void free_texts(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hollow__free(v[i]);
    hollow__free(v);
}

/* an OBJECT type of one field stands for that field's value */
static bool is_wrapper(const hollow_type *t)
{
    return t != NULL && hollow_type_kind(t) == HOLLOW_SCHEMA_OBJECT &&
           hollow_schema_field_count(hollow_type_schema(t)) == 1;
}

/* record o of t as JSON (diff.h: Paths and values); NONE is null */
static int render(hollow__buf *b, const hollow_read_state *rs,
                  const hollow_type *t, hollow_ordinal o, int depth)
{
    if (o == HOLLOW_ORDINAL_NONE) {
        hollow__buf_puts(b, "null");
        return 0;
    }
    if (depth > MAX_DEPTH)
        return hollow__error_set(HOLLOW_ECORRUPT, "references nest deeper "
                                 "than %d (a cycle?)", MAX_DEPTH);
    const hollow_schema *s = hollow_type_schema(t);
    int rc = 0;
    switch (hollow_type_kind(t)) {
    case HOLLOW_SCHEMA_OBJECT:
        if (is_wrapper(t))
            return render_field(b, rs, t, o, 0, depth);
        hollow__buf_putc(b, '{');
        for (size_t f = 0; f < hollow_schema_field_count(s) && rc == 0; f++) {
            if (f)
                hollow__buf_putc(b, ',');
            const char *name = hollow_schema_field_name(s, f);
            json_string(b, name, strlen(name));
            hollow__buf_putc(b, ':');
            rc = render_field(b, rs, t, o, f, depth);
        }
        hollow__buf_putc(b, '}');
        return rc;
    case HOLLOW_SCHEMA_LIST: {
        uint32_t n;
        const hollow_type *et = elem_type(rs, t);
        if ((rc = hollow_list_size(&n, t, o)) < 0)
            return rc;
        if (et == NULL && n > 0)
            return hollow__error_set(HOLLOW_ECORRUPT, "type %s: element type "
                                     "missing from the state", hollow_type_name(t));
        hollow__buf_putc(b, '[');
        for (uint32_t i = 0; i < n && rc == 0; i++) {
            hollow_ordinal e;
            if (i)
                hollow__buf_putc(b, ',');
            if ((rc = hollow_list_get(&e, t, o, i)) == 0)
                rc = render(b, rs, et, e, depth + 1);
        }
        hollow__buf_putc(b, ']');
        return rc;
    }
    case HOLLOW_SCHEMA_SET:
    case HOLLOW_SCHEMA_MAP: {
        char **v = NULL;
        size_t n = 0;
        if ((rc = element_texts(&v, &n, rs, t, o, depth)) < 0)
            return rc;
        hollow__buf_putc(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                hollow__buf_putc(b, ',');
            hollow__buf_puts(b, v[i]);
        }
        hollow__buf_putc(b, ']');
        free_texts(v, n);
        return 0;
    }
    }
    return 0;
}

static int render_cstr(char **out, const hollow_read_state *rs,
                       const hollow_type *t, hollow_ordinal o)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    int rc = render(&b, rs, t, o, 0);
    if (rc == 0 && (*out = hollow__buf_cstr(&b)) == NULL)
        rc = hollow__error_oom();
    if (rc < 0)
        hollow__buf_free(&b);
    return rc;
}

/*
 * The value at dot path `path` from record o of t, as JSON, appended to b
 * (a key path: §4.2). A null reference on the way gives null.
 */
static int render_path(hollow__buf *b, const hollow_read_state *rs,
                       const hollow_type *t, hollow_ordinal o, const char *path)
{
    for (;;) {
        if (o == HOLLOW_ORDINAL_NONE) {
            hollow__buf_puts(b, "null");
            return 0;
        }
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const hollow_schema *s = hollow_type_schema(t);
        int f = -1;
        for (size_t i = 0; i < hollow_schema_field_count(s); i++) {
            const char *fn = hollow_schema_field_name(s, i);
            if (strlen(fn) == len && memcmp(fn, path, len) == 0)
                f = (int)i;
        }
        if (hollow_type_kind(t) != HOLLOW_SCHEMA_OBJECT || f < 0)
            return hollow__error_set(HOLLOW_ENOTFOUND, "type %s has no field "
                                     "%.*s (key path)", hollow_type_name(t),
                                     (int)len, path);
        if (dot == NULL)
            return render_field(b, rs, t, o, (size_t)f, 0);
        if (hollow_schema_field_type(s, (size_t)f) != HOLLOW_FIELD_REFERENCE)
            return hollow__error_set(HOLLOW_ENOTFOUND, "key path %s goes "
                                     "through a field that is not a "
                                     "reference", path);
        hollow_ordinal next;
        int rc = hollow_object_ref(&next, t, o, (size_t)f);
        if (rc < 0)
            return rc;
        t = ref_type(rs, s, (size_t)f);
        if (t == NULL)
            return hollow__error_set(HOLLOW_ECORRUPT, "key path %s: type "
                                     "missing from the state", path);
        o = rc == HOLLOW_NULL ? HOLLOW_ORDINAL_NONE : next;
        path = dot + 1;
    }
}

/* the key text "p=json,..." of record o under key schema ks (paths) */
static int key_text(hollow__buf *b, const hollow_read_state *rs,
                    const hollow_schema *ks, const hollow_type *t,
                    hollow_ordinal o)
{
    int rc = 0;
    for (size_t i = 0; i < hollow_schema_key_count(ks) && rc == 0; i++) {
        const char *p = hollow_schema_key_path(ks, i);
        if (i)
            hollow__buf_putc(b, ',');
        hollow__buf_printf(b, "%s=", p);
        rc = render_path(b, rs, t, o, p);
    }
    return rc;
}

/* ======================================================= deep compare */

typedef struct cmp_ctx {
    hollow_diff *d;
    int depth;
} cmp_ctx;

static int add_change(hollow_diff *d, const hollow__buf *path, char *old_v,
                      char *new_v)
{
    hollow_diff_change *c = hollow__array_push(&d->changes, 64);
    char *p = hollow__strndup(path->len ? (const char *)path->ptr : "",
                              path->len);
    if (c == NULL || p == NULL) {
        if (c != NULL)
            d->changes.n--;
        hollow__free(p);
        hollow__free(old_v);
        hollow__free(new_v);
        return hollow__error_oom();
    }
    c->path = p;
    c->old_value = old_v;
    c->new_value = new_v;
    return 0;
}

/* a change of the whole value at `path`: old record (or NULL), new (or NULL) */
static int add_whole(hollow_diff *d, const hollow__buf *path,
                     const hollow_type *ta, hollow_ordinal oa,
                     const hollow_type *tb, hollow_ordinal ob)
{
    char *ov = NULL, *nv = NULL;
    int rc = 0;
    if (ta != NULL && (rc = render_cstr(&ov, d->from, ta, oa)) < 0)
        return rc;
    if (tb != NULL && (rc = render_cstr(&nv, d->to, tb, ob)) < 0) {
        hollow__free(ov);
        return rc;
    }
    if (ov != NULL && nv != NULL && strcmp(ov, nv) == 0) {
        hollow__free(ov);
        hollow__free(nv);
        return 0;
    }
    return add_change(d, path, ov, nv);
}

static int compare(cmp_ctx *c, hollow__buf *path, const hollow_type *ta,
                   hollow_ordinal oa, const hollow_type *tb, hollow_ordinal ob);

/* a selector: the element's key text under the collection's key, else its JSON */
typedef struct sel {
    char *text;
    hollow_ordinal e, v; /* element (or map key) and map value */
} sel;

static int cmp_sel(const void *x, const void *y)
{
    return strcmp(((const sel *)x)->text, ((const sel *)y)->text);
}

static void free_sels(sel *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hollow__free(v[i].text);
    hollow__free(v);
}

/* the schema whose key paths select elements of collection t, or NULL */
static const hollow_schema *selector_key(const hollow_type *t,
                                         const hollow_type *et)
{
    const hollow_schema *s = hollow_type_schema(t);
    if (hollow_schema_key_count(s) > 0)
        return s;
    if (et != NULL && hollow_type_kind(et) == HOLLOW_SCHEMA_OBJECT &&
        hollow_schema_key_count(hollow_type_schema(et)) > 0)
        return hollow_type_schema(et);
    return NULL;
}

static int selectors(sel **out, size_t *n, const hollow_read_state *rs,
                     const hollow_type *t, hollow_ordinal o)
{
    bool map = hollow_type_kind(t) == HOLLOW_SCHEMA_MAP;
    const hollow_type *et = elem_type(rs, t);
    const hollow_schema *ks = selector_key(t, et);
    uint32_t size;
    int rc = map ? hollow_map_size(&size, t, o) : hollow_set_size(&size, t, o);
    if (rc < 0)
        return rc;
    if (et == NULL)
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s: element type "
                                 "missing from the state", hollow_type_name(t));
    sel *v = hollow__calloc(size ? size : 1, sizeof *v);
    HOLLOW_CHECK_ALLOC(v);
    hollow_iter it;
    size_t k = 0;
    rc = map ? hollow_map_iter_init(&it, t, o) : hollow_set_iter_init(&it, t, o);
    hollow_ordinal e, val = HOLLOW_ORDINAL_NONE;
    while (rc == 0 && k < size &&
           (map ? hollow_map_iter_next(&it, &e, &val)
                : hollow_set_iter_next(&it, &e))) {
        hollow__buf b = HOLLOW__BUF_INIT;
        if (ks != NULL && !is_wrapper(et))
            rc = key_text(&b, rs, ks, et, e);
        else
            rc = render(&b, rs, et, e, 0);
        if (rc == 0 && (v[k].text = hollow__buf_cstr(&b)) == NULL)
            rc = hollow__error_oom();
        if (rc < 0) {
            hollow__buf_free(&b);
            break;
        }
        v[k].e = e;
        v[k].v = val;
        k++;
    }
    if (rc < 0) {
        free_sels(v, k);
        return rc;
    }
    if (k > 1)
        qsort(v, k, sizeof *v, cmp_sel);
    *out = v;
    *n = k;
    return 0;
}

/* SET elements or MAP entries, matched by selector */
static int compare_keyed(cmp_ctx *c, hollow__buf *path, const hollow_type *ta,
                         hollow_ordinal oa, const hollow_type *tb,
                         hollow_ordinal ob)
{
    hollow_diff *d = c->d;
    bool map = hollow_type_kind(tb) == HOLLOW_SCHEMA_MAP;
    const hollow_type *eta = elem_type(d->from, ta), *etb = elem_type(d->to, tb);
    const hollow_type *vta = map ? value_type(d->from, ta) : NULL;
    const hollow_type *vtb = map ? value_type(d->to, tb) : NULL;
    bool by_content = selector_key(tb, etb) == NULL || is_wrapper(etb);
    sel *sa = NULL, *sb = NULL;
    size_t na = 0, nb = 0, i = 0, j = 0;
    int rc = selectors(&sa, &na, d->from, ta, oa);
    if (rc == 0)
        rc = selectors(&sb, &nb, d->to, tb, ob);
    size_t base = path->len;
    while (rc == 0 && (i < na || j < nb)) {
        int k = i == na ? 1 : j == nb ? -1 : strcmp(sa[i].text, sb[j].text);
        const char *text = k <= 0 ? sa[i].text : sb[j].text;
        path->len = base;
        hollow__buf_printf(path, "[%s]", text);
        if ((rc = hollow__buf_check(path)) < 0)
            break;
        if (k == 0) {
            if (map)
                rc = compare(c, path, vta, sa[i].v, vtb, sb[j].v);
            else if (!by_content)
                rc = compare(c, path, eta, sa[i].e, etb, sb[j].e);
            i++;
            j++;
        } else if (k < 0) {
            rc = map ? add_whole(d, path, vta, sa[i].v, NULL, 0)
                     : add_whole(d, path, eta, sa[i].e, NULL, 0);
            i++;
        } else {
            rc = map ? add_whole(d, path, NULL, 0, vtb, sb[j].v)
                     : add_whole(d, path, NULL, 0, etb, sb[j].e);
            j++;
        }
    }
    path->len = base;
    free_sels(sa, na);
    free_sels(sb, nb);
    return rc;
}

static int field_ref(hollow_ordinal *out, const hollow_type *t,
                     hollow_ordinal o, size_t f)
{
    int rc = hollow_object_ref(out, t, o, f);
    if (rc == HOLLOW_NULL)
        *out = HOLLOW_ORDINAL_NONE;
    return rc < 0 ? rc : 0;
}

/* field fa of a (or none: SIZE_MAX) against field fb of b at path */
static int compare_field(cmp_ctx *c, hollow__buf *path, const hollow_type *ta,
                         hollow_ordinal oa, size_t fa, const hollow_type *tb,
                         hollow_ordinal ob, size_t fb)
{
    hollow_diff *d = c->d;
    const hollow_schema *sa = ta ? hollow_type_schema(ta) : NULL;
    const hollow_schema *sb = tb ? hollow_type_schema(tb) : NULL;
    bool ra = sa && fa != SIZE_MAX &&
              hollow_schema_field_type(sa, fa) == HOLLOW_FIELD_REFERENCE;
    bool rb = sb && fb != SIZE_MAX &&
              hollow_schema_field_type(sb, fb) == HOLLOW_FIELD_REFERENCE;
    int rc;
    if (ra && rb) {
        hollow_ordinal x, y;
        if ((rc = field_ref(&x, ta, oa, fa)) < 0 ||
            (rc = field_ref(&y, tb, ob, fb)) < 0)
            return rc;
        return compare(c, path, ref_type(d->from, sa, fa), x,
                       ref_type(d->to, sb, fb), y);
    }
    hollow__buf x = HOLLOW__BUF_INIT, y = HOLLOW__BUF_INIT;
    rc = 0;
    if (sa && fa != SIZE_MAX)
        rc = render_field(&x, d->from, ta, oa, fa, c->depth);
    if (rc == 0 && sb && fb != SIZE_MAX)
        rc = render_field(&y, d->to, tb, ob, fb, c->depth);
    if (rc == 0 && (rc = hollow__buf_check(&x)) == 0 &&
        (rc = hollow__buf_check(&y)) == 0) {
        bool has_x = sa && fa != SIZE_MAX, has_y = sb && fb != SIZE_MAX;
        if (has_x != has_y || x.len != y.len ||
            (x.len && memcmp(x.ptr, y.ptr, x.len) != 0)) {
            char *xs = has_x ? hollow__buf_cstr(&x) : NULL;
            char *ys = has_y ? hollow__buf_cstr(&y) : NULL;
            if ((has_x && xs == NULL) || (has_y && ys == NULL))
                rc = hollow__error_oom();
            else {
                x = (hollow__buf)HOLLOW__BUF_INIT;
                y = (hollow__buf)HOLLOW__BUF_INIT;
                rc = add_change(d, path, xs, ys);
            }
        }
    }
    hollow__buf_free(&x);
    hollow__buf_free(&y);
    return rc;
}

static int compare_object(cmp_ctx *c, hollow__buf *path, const hollow_type *ta,
                          hollow_ordinal oa, const hollow_type *tb,
                          hollow_ordinal ob)
{
    const hollow_schema *sa = hollow_type_schema(ta), *sb = hollow_type_schema(tb);
    size_t base = path->len;
    int rc = 0;
    if (is_wrapper(ta) && is_wrapper(tb) &&
        strcmp(hollow_schema_field_name(sa, 0), hollow_schema_field_name(sb, 0)) == 0)
        return compare_field(c, path, ta, oa, 0, tb, ob, 0);
    for (size_t f = 0; f < hollow_schema_field_count(sb) && rc == 0; f++) {
        const char *name = hollow_schema_field_name(sb, f);
        int g = hollow_schema_field_index(sa, name);
        path->len = base;
        hollow__buf_printf(path, "%s%s", base ? "." : "", name);
        if ((rc = hollow__buf_check(path)) < 0)
            break;
        rc = compare_field(c, path, ta, oa, g < 0 ? SIZE_MAX : (size_t)g, tb,
                           ob, f);
    }
    for (size_t g = 0; g < hollow_schema_field_count(sa) && rc == 0; g++) {
        const char *name = hollow_schema_field_name(sa, g);
        if (hollow_schema_field_index(sb, name) >= 0)
            continue;
        path->len = base;
        hollow__buf_printf(path, "%s%s", base ? "." : "", name);
        if ((rc = hollow__buf_check(path)) == 0)
            rc = compare_field(c, path, ta, oa, g, NULL, 0, SIZE_MAX);
    }
    path->len = base;
    return rc;
}

static int compare_list(cmp_ctx *c, hollow__buf *path, const hollow_type *ta,
                        hollow_ordinal oa, const hollow_type *tb,
                        hollow_ordinal ob)
{
    hollow_diff *d = c->d;
    uint32_t na, nb;
    int rc;
    if ((rc = hollow_list_size(&na, ta, oa)) < 0 ||
        (rc = hollow_list_size(&nb, tb, ob)) < 0)
        return rc;
    const hollow_type *eta = elem_type(d->from, ta), *etb = elem_type(d->to, tb);
    size_t base = path->len;
    uint32_t n = na > nb ? na : nb;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        hollow_ordinal x = HOLLOW_ORDINAL_NONE, y = HOLLOW_ORDINAL_NONE;
        if (i < na && (rc = hollow_list_get(&x, ta, oa, i)) < 0)
            break;
        if (i < nb && (rc = hollow_list_get(&y, tb, ob, i)) < 0)
            break;
        path->len = base;
        hollow__buf_printf(path, "[%u]", (unsigned)i);
        if ((rc = hollow__buf_check(path)) < 0)
            break;
        if (i < na && i < nb)
            rc = compare(c, path, eta, x, etb, y);
        else
            rc = add_whole(d, path, i < na ? eta : NULL, x,
                           i < nb ? etb : NULL, y);
    }
    path->len = base;
    return rc;
}

/*
 * Compare record oa of ta (old state) with ob of tb (new state) at `path`,
 * appending a change per differing value. NONE is null; a NULL type is
 * a value absent on that side.
 */
static int compare(cmp_ctx *c, hollow__buf *path, const hollow_type *ta,
                   hollow_ordinal oa, const hollow_type *tb, hollow_ordinal ob)
{
    hollow_diff *d = c->d;
    if (oa == HOLLOW_ORDINAL_NONE && ob == HOLLOW_ORDINAL_NONE)
        return 0;
    if (ta != NULL && tb != NULL && is_clean(d, ta, oa, tb, ob))
        return 0;
    if (ta == NULL || tb == NULL || oa == HOLLOW_ORDINAL_NONE ||
        ob == HOLLOW_ORDINAL_NONE || hollow_type_kind(ta) != hollow_type_kind(tb))
        return add_whole(d, path, ta, oa, tb, ob);
    if (c->depth > MAX_DEPTH)
        return hollow__error_set(HOLLOW_ECORRUPT, "references nest deeper "
                                 "than %d (a cycle?)", MAX_DEPTH);
    c->depth++;
    int rc;
    switch (hollow_type_kind(tb)) {
    case HOLLOW_SCHEMA_OBJECT: rc = compare_object(c, path, ta, oa, tb, ob); break;
    case HOLLOW_SCHEMA_LIST: rc = compare_list(c, path, ta, oa, tb, ob); break;
    default: rc = compare_keyed(c, path, ta, oa, tb, ob); break;
    }
    c->depth--;
    return rc;
}

/* =========================================================== records */

typedef struct cand {
    char *key;
    hollow_ordinal o;
} cand;

typedef hollow__array(cand) cand_list;

typedef struct collect_ctx {
    const hollow_read_state *rs;
    const hollow_type *t;
    const hollow_schema *ks; /* NULL: by content */
    dtype *x;                /* KEPT ordinals: only the dirty ones */
    cand_list *out;
} collect_ctx;

static int add_cand(collect_ctx *k, hollow_ordinal o)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    int rc = k->ks ? key_text(&b, k->rs, k->ks, k->t, o)
                   : render(&b, k->rs, k->t, o, 0);
    cand *c = rc == 0 ? hollow__array_push(k->out, 64) : NULL;
    if (rc == 0 && c == NULL)
        rc = hollow__error_oom();
    if (rc == 0 && (c->key = hollow__buf_cstr(&b)) == NULL) {
        k->out->n--;
        rc = hollow__error_oom();
    }
    if (rc < 0) {
        hollow__buf_free(&b);
        return rc;
    }
    c->o = o;
    return 0;
}

static int collect_cb(void *ctx, hollow_ordinal o, unsigned what)
{
    collect_ctx *k = ctx;
    if (what == HOLLOW__ORD_KEPT && k->x != NULL && !k->x->all_dirty &&
        !bit_get(k->x->dirty, k->x->nbits, (size_t)o))
        return 0;
    return add_cand(k, o);
}

static int cmp_cand(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    int k = strcmp(a->key, b->key);
    return k ? k : (a->o > b->o) - (a->o < b->o);
}

static void free_cands(cand_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        hollow__free(l->v[i].key);
    hollow__array_free(l);
}

/* every populated ordinal of t as a candidate */
static int collect_all(collect_ctx *k)
{
    int rc = 0;
    for (hollow_ordinal o = hollow_type_next_ordinal(k->t, 0); o >= 0 && rc == 0;
         o = hollow_type_next_ordinal(k->t, o + 1))
        rc = add_cand(k, o);
    return rc;
}

static int push_record(type_result *r, hollow_diff_kind kind, const char *key,
                       hollow_ordinal from, hollow_ordinal to, size_t first,
                       size_t count)
{
    hollow_diff_record *rec = hollow__array_push(&r->records, 16);
    char *k = hollow__strdup(key);
    if (rec == NULL || k == NULL) {
        if (rec != NULL)
            r->records.n--;
        hollow__free(k);
        return hollow__error_oom();
    }
    rec->kind = kind;
    rec->key = k;
    rec->from_ordinal = from;
    rec->to_ordinal = to;
    /* index into d->changes until finish() makes it a pointer */
    rec->changes = (const hollow_diff_change *)(uintptr_t)first;
    rec->change_count = count;
    return 0;
}

static int cmp_record(const void *x, const void *y)
{
    const hollow_diff_record *a = x, *b = y;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    return strcmp(a->key, b->key);
}

/* diff one type: a (old) and b (new) may each be NULL, not both */
static int diff_type(hollow_diff *d, type_result *r, const hollow_type *a,
                     const hollow_type *b, bool by_key)
{
    const hollow_type *any = b ? b : a;
    const hollow_schema *ks = by_key ? hollow_type_schema(any) : NULL;
    cand_list ca = HOLLOW__ARRAY_INIT, cb = HOLLOW__ARRAY_INIT;
    int rc = 0;
    r->match = by_key ? HOLLOW_DIFF_BY_KEY : HOLLOW_DIFF_BY_CONTENT;
    if (a != NULL && b != NULL) {
        dtype *x = dtype_of(d, b);
        if (x != NULL && !x->all_dirty && x->mark == 2) {
            collect_ctx kc = {d->from, a, ks, x, &ca};
            rc = hollow__type_changed_ordinals(
                NULL, a, b, HOLLOW__ORD_REMOVED | HOLLOW__ORD_KEPT, collect_cb,
                &kc);
            /* keys of removed and dirty kept records from the old state,
             * of added and dirty kept ones from the new */
            collect_ctx kd = {d->to, b, ks, x, &cb};
            if (rc == 0)
                rc = hollow__type_changed_ordinals(
                    NULL, a, b, HOLLOW__ORD_ADDED | HOLLOW__ORD_KEPT,
                    collect_cb, &kd);
        } else {
            collect_ctx kc = {d->from, a, ks, NULL, &ca};
            collect_ctx kd = {d->to, b, ks, NULL, &cb};
            rc = collect_all(&kc);
            if (rc == 0)
                rc = collect_all(&kd);
        }
    } else if (a != NULL) {
        collect_ctx kc = {d->from, a, ks, NULL, &ca};
        rc = collect_all(&kc);
    } else {
        collect_ctx kd = {d->to, b, ks, NULL, &cb};
        rc = collect_all(&kd);
    }
    if (rc == 0) {
        if (ca.n > 1)
            qsort(ca.v, ca.n, sizeof *ca.v, cmp_cand);
        if (cb.n > 1)
            qsort(cb.v, cb.n, sizeof *cb.v, cmp_cand);
    }
    hollow__buf path = HOLLOW__BUF_INIT;
    size_t i = 0, j = 0;
    while (rc == 0 && (i < ca.n || j < cb.n)) {
        int k = i == ca.n ? 1 : j == cb.n ? -1 : strcmp(ca.v[i].key, cb.v[j].key);
        if (k == 0) {
            size_t first = d->changes.n;
            if (by_key) {
                cmp_ctx c = {d, 0};
                path.len = 0;
                rc = compare(&c, &path, a, ca.v[i].o, b, cb.v[j].o);
            }
            size_t n = d->changes.n - first;
            if (rc == 0 && n > 0) {
                r->changed++;
                rc = push_record(r, HOLLOW_DIFF_CHANGED, cb.v[j].key, ca.v[i].o,
                                 cb.v[j].o, first, n);
            }
            i++;
            j++;
        } else if (k < 0) {
            r->removed++;
            rc = push_record(r, HOLLOW_DIFF_REMOVED, ca.v[i].key, ca.v[i].o,
                             HOLLOW_ORDINAL_NONE, 0, 0);
            i++;
        } else {
            r->added++;
            rc = push_record(r, HOLLOW_DIFF_ADDED, cb.v[j].key,
                             HOLLOW_ORDINAL_NONE, cb.v[j].o, 0, 0);
            j++;
        }
    }
    hollow__buf_free(&path);
    free_cands(&ca);
    free_cands(&cb);
    if (rc < 0)
        return rc;
    size_t total = b ? hollow_type_record_count(b) : 0;
    r->unchanged = total >= r->added + r->changed ? total - r->added - r->changed
                                                  : 0;
    if (r->records.n > 1)
        qsort(r->records.v, r->records.n, sizeof *r->records.v, cmp_record);
    return 0;
}

/* ============================================================== API */

static int cmp_name(const void *x, const void *y)
{
    return strcmp(((const type_result *)x)->name, ((const type_result *)y)->name);
}

static bool has_key(const hollow_type *t)
{
    return t != NULL && hollow_type_kind(t) == HOLLOW_SCHEMA_OBJECT &&
           hollow_schema_key_count(hollow_type_schema(t)) > 0;
}

static int add_result(hollow_diff *d, size_t *cap, const char *name,
                      const hollow_type *keyed)
{
    if (hollow__grow(d->types, *cap, d->type_count + 1, 8) < 0)
        return HOLLOW_ENOMEM;
    type_result *r = &d->types[d->type_count];
    memset(r, 0, sizeof *r);
    r->name = hollow__strdup(name);
    hollow__buf k = HOLLOW__BUF_INIT;
    if (keyed != NULL) {
        const hollow_schema *s = hollow_type_schema(keyed);
        for (size_t i = 0; i < hollow_schema_key_count(s); i++)
            hollow__buf_printf(&k, "%s%s", i ? "," : "",
                               hollow_schema_key_path(s, i));
    }
    r->key = hollow__buf_cstr(&k);
    if (r->name == NULL || r->key == NULL) {
        hollow__free(r->name);
        hollow__free(r->key);
        hollow__buf_free(&k);
        return hollow__error_oom();
    }
    d->type_count++;
    return 0;
}

/* the types to diff: opts->type, or every keyed type of either state */
static int choose_types(hollow_diff *d, const char *only)
{
    size_t cap = 0;
    if (only != NULL) {
        const hollow_type *a = hollow_read_state_type(d->from, only);
        const hollow_type *b = hollow_read_state_type(d->to, only);
        if (a == NULL && b == NULL)
            return hollow__error_set(HOLLOW_ENOTFOUND, "no type %s in either "
                                     "state", only);
        return add_result(d, &cap, only, has_key(b) ? b : has_key(a) ? a : NULL);
    }
    for (size_t i = 0; i < d->to->type_count; i++) {
        const hollow_type *b = &d->to->types[i];
        int rc;
        if (has_key(b) && (rc = add_result(d, &cap, hollow_type_name(b), b)) < 0)
            return rc;
    }
    for (size_t i = 0; i < d->from->type_count; i++) {
        const hollow_type *a = &d->from->types[i];
        int rc;
        if (has_key(a) && !has_key(hollow_read_state_type(d->to, hollow_type_name(a))) &&
            (rc = add_result(d, &cap, hollow_type_name(a), a)) < 0)
            return rc;
    }
    if (d->type_count > 1)
        qsort(d->types, d->type_count, sizeof *d->types, cmp_name);
    return 0;
}

/* turn the records' change indexes into pointers, now the array is final */
static void finish(hollow_diff *d)
{
    for (size_t t = 0; t < d->type_count; t++)
        for (size_t i = 0; i < d->types[t].records.n; i++) {
            hollow_diff_record *r = &d->types[t].records.v[i];
            uintptr_t first = (uintptr_t)r->changes;
            r->changes = r->change_count ? d->changes.v + first : NULL;
        }
}

int hollow_diff_new(hollow_diff **out, const hollow_read_state *from,
                    const hollow_read_state *to, const hollow_diff_options *opts)
{
    HOLLOW__ARG_NOT_NULL(out);
    *out = NULL;
    HOLLOW__ARG_NOT_NULL(from);
    HOLLOW__ARG_NOT_NULL(to);
    hollow_diff_options defaults = HOLLOW_DIFF_OPTIONS_INIT;
    if (opts == NULL)
        opts = &defaults;
    int rc = hollow__check_options_version("diff", opts->version,
                                           HOLLOW_DIFF_OPTIONS_VERSION);
    if (rc < 0)
        return rc;
    hollow_diff *d = hollow__calloc(1, sizeof *d);
    HOLLOW_CHECK_ALLOC(d);
    d->from = hollow_read_state_acquire(from);
    d->to = hollow_read_state_acquire(to);
    d->one_delta = hollow_read_state_origin_tag(to) ==
                       hollow_read_state_randomized_tag(from) &&
                   from != to;
    d->dt_count = to->type_count;
    d->dt = hollow__calloc(d->dt_count ? d->dt_count : 1, sizeof *d->dt);
    if (d->dt == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    for (size_t i = 0; i < d->dt_count; i++) {
        d->dt[i].b = &to->types[i];
        d->dt[i].a = hollow_read_state_type(from, hollow_type_name(&to->types[i]));
    }
    if ((rc = choose_types(d, opts->type)) < 0)
        goto done;
    for (size_t i = 0; i < d->type_count && rc == 0; i++) {
        type_result *r = &d->types[i];
        const hollow_type *a = hollow_read_state_type(from, r->name);
        const hollow_type *b = hollow_read_state_type(to, r->name);
        bool by_key = r->key[0] != '\0';
        if (b != NULL && (rc = dtype_done(d, b)) < 0)
            break;
        rc = diff_type(d, r, a, b, by_key);
    }
done:
    if (rc < 0) {
        finish(d);
        hollow_diff_free(d);
        return rc;
    }
    finish(d);
    *out = d;
    return 0;
}

void hollow_diff_free(hollow_diff *d)
{
    if (d == NULL)
        return;
    for (size_t t = 0; t < d->type_count; t++) {
        type_result *r = &d->types[t];
        for (size_t i = 0; i < r->records.n; i++)
            hollow__free((char *)r->records.v[i].key);
        hollow__array_free(&r->records);
        hollow__free(r->name);
        hollow__free(r->key);
    }
    hollow__free(d->types);
    for (size_t i = 0; i < d->changes.n; i++) {
        hollow__free((char *)d->changes.v[i].path);
        hollow__free((char *)d->changes.v[i].old_value);
        hollow__free((char *)d->changes.v[i].new_value);
    }
    hollow__array_free(&d->changes);
    for (size_t i = 0; i < d->dt_count; i++)
        hollow__free(d->dt[i].dirty);
    hollow__free(d->dt);
    hollow_read_state_release(d->from);
    hollow_read_state_release(d->to);
    hollow__free(d);
}

size_t hollow_diff_type_count(const hollow_diff *d)
{
    return d ? d->type_count : 0;
}

int hollow_diff_type_at(hollow_diff_type *out, const hollow_diff *d, size_t i)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(d);
    if (i >= d->type_count)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no diffed type %zu (of %zu)",
                                 i, d->type_count);
    const type_result *r = &d->types[i];
    out->name = r->name;
    out->match = r->match;
    out->key = r->key;
    out->added = r->added;
    out->removed = r->removed;
    out->changed = r->changed;
    out->unchanged = r->unchanged;
    out->record_count = r->records.n;
    return 0;
}

int hollow_diff_record_at(hollow_diff_record *out, const hollow_diff *d,
                          size_t i, size_t r)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(d);
    if (i >= d->type_count || r >= d->types[i].records.n)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no diff record %zu of "
                                 "type %zu", r, i);
    *out = d->types[i].records.v[r];
    return 0;
}

bool hollow_diff_has_differences(const hollow_diff *d)
{
    for (size_t t = 0; d != NULL && t < d->type_count; t++)
        if (d->types[t].records.n > 0)
            return true;
    return false;
}
