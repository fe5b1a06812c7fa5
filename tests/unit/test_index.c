/*
 * Indexes (issue 8): primary key, unique key and hash indexes against a
 * brute-force scan of the same state.
 *
 * The brute force here is independent of src/index: it resolves paths
 * with its own small resolver (auto-expansion of §4.2, `element`, `key`,
 * `value`, `!`), reads values with the public accessors, and expresses the
 * "paths through the same collection see the same element" rule as
 * bindings: each value a path yields carries the element index it took at
 * each collection (named by the hops leading to it), and a tuple combines
 * one value per path whose bindings agree.
 *
 * Property tests: seeded random chains (write API: snapshots, deltas,
 * reverse deltas, pinned shard counts 1..64 or resharding with small
 * target sizes), walked forwards, backwards and through snapshot reloads;
 * after every step every index, built fresh and derived from the previous
 * step's, answers every present key and some absent ones exactly as the
 * brute force does, and reports the same duplicates. Golden vectors: on
 * every snapshot, and along every chain, the primary key index of every
 * @PrimaryKey type finds every record by its key.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/index.h"
#include "hollow/read.h"
#include "hollow/schema.h"
#include "hollow/write.h"
#include "index/index_int.h" /* visit counts, to compare derived and fresh */
#include "testhelp.h"

/* ====================================================== brute force */

enum { TH_FIELD, TH_ELEMENTS, TH_KEY, TH_VALUE };

typedef struct th_hop {
    int kind;
    const hollow_type *type;
    size_t field;
    char sig[512]; /* identity of the hops up to here (collections) */
} th_hop;

typedef struct tpath {
    th_hop hops[48];
    int n;
    hollow_field_type vtype;
} tpath;

static const hollow_type *type_of(const hollow_read_state *rs, const char *name)
{
    const hollow_type *t = hollow_read_state_type(rs, name);
    ck_assert_msg(t != NULL, "no type %s", name);
    return t;
}

static void th_push(tpath *p, int kind, const hollow_type *t, size_t field)
{
    ck_assert_int_lt(p->n, 48);
    th_hop *h = &p->hops[p->n];
    h->kind = kind;
    h->type = t;
    h->field = field;
    const char *prev = p->n > 0 ? p->hops[p->n - 1].sig : "";
    /* a map's key and value hops are one entry */
    snprintf(h->sig, sizeof h->sig, "%s|%d:%s:%zu", prev,
             kind == TH_VALUE ? TH_KEY : kind, hollow_type_name(t), field);
    p->n++;
}

static bool tp_walk(tpath *p, const hollow_read_state *rs, const hollow_type *t,
                    const char *path);

/* the path ends on a reference to t: expand (§4.2) */
static bool tp_expand(tpath *p, const hollow_read_state *rs, const hollow_type *t)
{
    for (;;) {
        const hollow_schema *s = hollow_type_schema(t);
        if (hollow_schema_kind_of(s) != HOLLOW_SCHEMA_OBJECT)
            return false;
        if (hollow_schema_field_count(s) == 1) {
            th_push(p, TH_FIELD, t, 0);
            if (hollow_schema_field_type(s, 0) != HOLLOW_FIELD_REFERENCE) {
                p->vtype = hollow_schema_field_type(s, 0);
                return true;
            }
            t = type_of(rs, hollow_schema_field_ref_type(s, 0));
            continue;
        }
        if (hollow_schema_key_count(s) == 1)
            return tp_walk(p, rs, t, hollow_schema_key_path(s, 0));
        return false;
    }
}

static bool tp_walk(tpath *p, const hollow_read_state *rs, const hollow_type *t,
                    const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    size_t len = strlen(buf);
    bool bang = len > 0 && buf[len - 1] == '!';
    if (bang)
        buf[--len] = '\0';
    char *save = NULL;
    char *seg = strtok_r(buf, ".", &save);
    while (seg != NULL) {
        char *next = strtok_r(NULL, ".", &save);
        bool last = next == NULL;
        const hollow_schema *s = hollow_type_schema(t);
        const hollow_type *to = NULL;
        switch (hollow_schema_kind_of(s)) {
        case HOLLOW_SCHEMA_OBJECT: {
            int f = hollow_schema_field_index(s, seg);
            if (f < 0)
                return false;
            th_push(p, TH_FIELD, t, (size_t)f);
            hollow_field_type ft = hollow_schema_field_type(s, (size_t)f);
            if (ft != HOLLOW_FIELD_REFERENCE) {
                p->vtype = ft;
                return last;
            }
            to = type_of(rs, hollow_schema_field_ref_type(s, (size_t)f));
            break;
        }
        case HOLLOW_SCHEMA_MAP:
            if (strcmp(seg, "key") == 0) {
                th_push(p, TH_KEY, t, 0);
                to = type_of(rs, hollow_schema_element_type(s));
            } else if (strcmp(seg, "value") == 0) {
                th_push(p, TH_VALUE, t, 0);
                to = type_of(rs, hollow_schema_value_type(s));
            } else {
                return false;
            }
            break;
        default:
            if (strcmp(seg, "element") != 0)
                return false;
            th_push(p, TH_ELEMENTS, t, 0);
            to = type_of(rs, hollow_schema_element_type(s));
            break;
        }
        if (last) {
            if (bang) {
                p->vtype = HOLLOW_FIELD_REFERENCE;
                return true;
            }
            return tp_expand(p, rs, to);
        }
        t = to;
        seg = next;
    }
    return false;
}

static void tp_resolve(tpath *p, const hollow_read_state *rs, const char *root,
                       const char *path)
{
    memset(p, 0, sizeof *p);
    ck_assert_msg(tp_walk(p, rs, type_of(rs, root), path),
                  "test resolver: path %s of %s", path, root);
}

/* a value as the brute force sees it */
typedef struct tval {
    hollow_field_type t;
    bool null;
    uint64_t bits;   /* INT/LONG value, FLOAT/DOUBLE bits, BOOL, REF */
    uint8_t *raw;    /* STRING stored form, BYTES */
    size_t rawlen;
    char *utf8;      /* STRING */
    size_t utf8len;
} tval;

typedef struct bind {
    const char *sig;
    uint32_t idx;
} bind;

typedef struct pval {   /* one value of one path, with its bindings */
    tval v;
    bind b[8];
    int nb;
} pval;

typedef struct pvals {
    pval *v;
    size_t n, cap;
} pvals;

static void pvals_push(pvals *l, const tval *v, const bind *b, int nb)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        ck_assert_ptr_nonnull(l->v);
    }
    pval *p = &l->v[l->n++];
    p->v = *v;
    memcpy(p->b, b, (size_t)nb * sizeof *b);
    p->nb = nb;
}

static void tval_null(tval *v, hollow_field_type t)
{
    memset(v, 0, sizeof *v);
    v->t = t;
    v->null = true;
}

static void tval_read(tval *v, const hollow_type *t, hollow_ordinal o, size_t f)
{
    hollow_value hv;
    memset(v, 0, sizeof *v);
    int rc = hollow_object_value(&hv, t, o, f);
    HT_OK(rc);
    v->t = hv.type;
    v->null = hv.is_null;
    if (v->null)
        return;
    switch (hv.type) {
    case HOLLOW_FIELD_INT: v->bits = (uint64_t)(int64_t)hv.u.i; break;
    case HOLLOW_FIELD_LONG: v->bits = (uint64_t)hv.u.l; break;
    case HOLLOW_FIELD_FLOAT: {
        uint32_t b;
        memcpy(&b, &hv.u.f, 4);
        v->bits = b;
        break;
    }
    case HOLLOW_FIELD_DOUBLE: memcpy(&v->bits, &hv.u.d, 8); break;
    case HOLLOW_FIELD_BOOLEAN: v->bits = hv.u.b; break;
    case HOLLOW_FIELD_REFERENCE: v->bits = (uint64_t)hv.u.ref; break;
    case HOLLOW_FIELD_BYTES:
    case HOLLOW_FIELD_STRING:
        v->raw = (uint8_t *)hv.u.bytes.ptr;
        v->rawlen = hv.u.bytes.len;
        if (hv.type == HOLLOW_FIELD_STRING) {
            size_t cap = 3 * v->rawlen + 1;
            char *buf = malloc(cap);
            hollow_str s;
            HT_OK(hollow_object_string(&s, buf, cap, t, o, f));
            v->utf8 = malloc(s.len + 1);
            memcpy(v->utf8, s.ptr, s.len);
            v->utf8len = s.len;
            free(buf);
        }
        break;
    }
}

static void tval_ordinal(tval *v, hollow_ordinal o)
{
    memset(v, 0, sizeof *v);
    v->t = HOLLOW_FIELD_REFERENCE;
    v->bits = (uint64_t)o;
}

/* the values path p yields from hop h on record o (bindings so far) */
static void tp_eval(const tpath *p, int h, hollow_ordinal o, bind *b, int nb,
                    pvals *out)
{
    const th_hop *hop = &p->hops[h];
    bool last = h + 1 == p->n;
    tval v;
    switch (hop->kind) {
    case TH_FIELD: {
        if (last) {
            tval_read(&v, hop->type, o, hop->field);
            pvals_push(out, &v, b, nb);
            return;
        }
        hollow_ordinal r;
        int rc = hollow_object_ref(&r, hop->type, o, hop->field);
        HT_OK(rc);
        const hollow_type *to = p->hops[h + 1].type;
        if (rc == HOLLOW_NULL || !hollow_type_is_populated(to, r)) {
            tval_null(&v, p->vtype);
            pvals_push(out, &v, b, nb);
            return;
        }
        tp_eval(p, h + 1, r, b, nb, out);
        return;
    }
    case TH_ELEMENTS: {
        hollow_ordinal e[4096];
        uint32_t n = 0;
        if (hollow_schema_kind_of(hollow_type_schema(hop->type)) ==
            HOLLOW_SCHEMA_LIST) {
            HT_OK(hollow_list_size(&n, hop->type, o));
            ck_assert_uint_le(n, 4096);
            for (uint32_t i = 0; i < n; i++)
                HT_OK(hollow_list_get(&e[i], hop->type, o, i));
        } else {
            hollow_iter it;
            HT_OK(hollow_set_iter_init(&it, hop->type, o));
            while (hollow_set_iter_next(&it, &e[n]))
                ck_assert_uint_lt(++n, 4096);
        }
        for (uint32_t i = 0; i < n; i++) {
            b[nb].sig = hop->sig;
            b[nb].idx = i;
            if (last) {
                tval_ordinal(&v, e[i]);
                pvals_push(out, &v, b, nb + 1);
            } else if (!hollow_type_is_populated(p->hops[h + 1].type, e[i])) {
                tval_null(&v, p->vtype);
                pvals_push(out, &v, b, nb + 1);
            } else {
                tp_eval(p, h + 1, e[i], b, nb + 1, out);
            }
        }
        return;
    }
    default: { /* TH_KEY, TH_VALUE */
        hollow_iter it;
        hollow_ordinal k, val;
        uint32_t i = 0;
        HT_OK(hollow_map_iter_init(&it, hop->type, o));
        while (hollow_map_iter_next(&it, &k, &val)) {
            hollow_ordinal x = hop->kind == TH_KEY ? k : val;
            b[nb].sig = hop->sig;
            b[nb].idx = i++;
            if (last) {
                tval_ordinal(&v, x);
                pvals_push(out, &v, b, nb + 1);
            } else if (!hollow_type_is_populated(p->hops[h + 1].type, x)) {
                tval_null(&v, p->vtype);
                pvals_push(out, &v, b, nb + 1);
            } else {
                tp_eval(p, h + 1, x, b, nb + 1, out);
            }
        }
        return;
    }
    }
}

/* canonical text of a value, for grouping */
static void key_text(char **buf, size_t *len, size_t *cap, const tval *v)
{
    char tmp[64];
    long long sv = (long long)(int64_t)v->bits;
    unsigned long long uv = (unsigned long long)v->bits;
    bool var = v->t == HOLLOW_FIELD_STRING || v->t == HOLLOW_FIELD_BYTES;
    if (v->null)
        snprintf(tmp, sizeof tmp, "N|");
    else if (var)
        snprintf(tmp, sizeof tmp, "%c", v->t == HOLLOW_FIELD_STRING ? 'S' : 'Y');
    else if (v->t == HOLLOW_FIELD_INT || v->t == HOLLOW_FIELD_LONG)
        snprintf(tmp, sizeof tmp, "%c%lld|", v->t == HOLLOW_FIELD_INT ? 'I' : 'L',
                 sv);
    else if (v->t == HOLLOW_FIELD_FLOAT || v->t == HOLLOW_FIELD_DOUBLE)
        snprintf(tmp, sizeof tmp, "%c%llx|",
                 v->t == HOLLOW_FIELD_FLOAT ? 'F' : 'D', uv);
    else
        snprintf(tmp, sizeof tmp, "%c%llu|",
                 v->t == HOLLOW_FIELD_BOOLEAN ? 'B' : 'R', uv);
    size_t need = strlen(tmp) + (v->raw ? 2 * v->rawlen : 0) + 2;
    if (*len + need + 1 > *cap) {
        *cap = (*len + need + 1) * 2;
        *buf = realloc(*buf, *cap);
    }
    *len += (size_t)sprintf(*buf + *len, "%s", tmp);
    if (!v->null && var) {
        for (size_t i = 0; i < v->rawlen; i++)
            *len += (size_t)sprintf(*buf + *len, "%02x", v->raw[i]);
        *len += (size_t)sprintf(*buf + *len, "|");
    }
}

/* one expected (tuple, record) */
typedef struct entry {
    char *key;
    hollow_ordinal o;
    tval vals[HOLLOW_INDEX_MAX_PATHS];
} entry;

typedef struct expect {
    entry *e;
    size_t n, cap;
    size_t np;
    hollow_field_type vtypes[HOLLOW_INDEX_MAX_PATHS];
} expect;

static void expect_free(expect *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->e[i].key);
        for (size_t p = 0; p < x->np; p++)
            free(x->e[i].vals[p].utf8);
    }
    free(x->e);
    memset(x, 0, sizeof *x);
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->o > y->o) - (x->o < y->o);
}

static bool binds_agree(const pval *const *pick, size_t n)
{
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++)
            for (int i = 0; i < pick[a]->nb; i++)
                for (int j = 0; j < pick[b]->nb; j++)
                    if (strcmp(pick[a]->b[i].sig, pick[b]->b[j].sig) == 0 &&
                        pick[a]->b[i].idx != pick[b]->b[j].idx)
                        return false;
    return true;
}

static void expect_add(expect *x, const pval *const *pick, hollow_ordinal o)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (size_t p = 0; p < x->np; p++)
        key_text(&buf, &len, &cap, &pick[p]->v);
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 256;
        x->e = realloc(x->e, x->cap * sizeof *x->e);
    }
    entry *e = &x->e[x->n++];
    e->key = buf ? buf : strdup("");
    e->o = o;
    for (size_t p = 0; p < x->np; p++) {
        e->vals[p] = pick[p]->v;
        if (e->vals[p].utf8 != NULL) {
            e->vals[p].utf8 = malloc(e->vals[p].utf8len + 1);
            memcpy(e->vals[p].utf8, pick[p]->v.utf8, e->vals[p].utf8len);
        }
    }
}

/* all combinations of one value per path whose bindings agree */
static void combine(expect *x, pvals *per, size_t p, const pval **pick,
                    hollow_ordinal o)
{
    if (p == x->np) {
        if (binds_agree(pick, x->np))
            expect_add(x, pick, o);
        return;
    }
    for (size_t i = 0; i < per[p].n; i++) {
        pick[p] = &per[p].v[i];
        combine(x, per, p + 1, pick, o);
    }
}

/*
 * The brute force: every (tuple, record) of `type`'s records for the
 * paths, sorted by tuple then record, repeats removed.
 */
static void brute(expect *x, const hollow_read_state *rs, const char *type,
                  const char *const *paths, size_t np)
{
    tpath tp[HOLLOW_INDEX_MAX_PATHS];
    memset(x, 0, sizeof *x);
    x->np = np;
    for (size_t p = 0; p < np; p++) {
        tp_resolve(&tp[p], rs, type, paths[p]);
        x->vtypes[p] = tp[p].vtype;
    }
    const hollow_type *t = type_of(rs, type);
    for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0;
         o = hollow_type_next_ordinal(t, o + 1)) {
        pvals per[HOLLOW_INDEX_MAX_PATHS];
        memset(per, 0, sizeof per);
        for (size_t p = 0; p < np; p++) {
            bind b[8];
            tp_eval(&tp[p], 0, o, b, 0, &per[p]);
        }
        const pval *pick[HOLLOW_INDEX_MAX_PATHS];
        combine(x, per, 0, pick, o);
        for (size_t p = 0; p < np; p++) {
            for (size_t i = 0; i < per[p].n; i++)
                free(per[p].v[i].v.utf8);
            free(per[p].v);
        }
    }
    qsort(x->e, x->n, sizeof *x->e, cmp_entry);
    size_t k = 0;
    for (size_t i = 0; i < x->n; i++) {
        if (k > 0 && x->e[i].o == x->e[k - 1].o &&
            strcmp(x->e[i].key, x->e[k - 1].key) == 0) {
            free(x->e[i].key);
            for (size_t p = 0; p < np; p++)
                free(x->e[i].vals[p].utf8);
            continue;
        }
        x->e[k++] = x->e[i];
    }
    x->n = k;
}

/* probe values from brute-force values; `stored`: STRING as stored bytes */
static void probe_of(hollow_value *out, const tval *v, hollow_field_type t,
                     bool stored, uint64_t *rng)
{
    memset(out, 0, sizeof *out);
    out->type = t;
    if (v->null) {
        out->is_null = true;
        /* INT32_MIN / INT64_MIN are the null value too */
        if (t == HOLLOW_FIELD_INT && (ht_rand(rng) & 1)) {
            out->is_null = false;
            out->u.i = INT32_MIN;
        } else if (t == HOLLOW_FIELD_LONG && (ht_rand(rng) & 1)) {
            out->is_null = false;
            out->u.l = INT64_MIN;
        }
        return;
    }
    switch (t) {
    case HOLLOW_FIELD_INT: out->u.i = (int32_t)(int64_t)v->bits; break;
    case HOLLOW_FIELD_LONG: out->u.l = (int64_t)v->bits; break;
    case HOLLOW_FIELD_FLOAT: {
        uint32_t b = (uint32_t)v->bits;
        memcpy(&out->u.f, &b, 4);
        break;
    }
    case HOLLOW_FIELD_DOUBLE: memcpy(&out->u.d, &v->bits, 8); break;
    case HOLLOW_FIELD_BOOLEAN: out->u.b = v->bits != 0; break;
    case HOLLOW_FIELD_REFERENCE: out->u.ref = (hollow_ordinal)v->bits; break;
    case HOLLOW_FIELD_BYTES:
        out->u.bytes.ptr = v->raw;
        out->u.bytes.len = v->rawlen;
        break;
    default:
        if (stored) {
            out->u.bytes.ptr = v->raw;
            out->u.bytes.len = v->rawlen;
        } else {
            out->u.str.ptr = v->utf8;
            out->u.str.len = v->utf8len;
        }
        break;
    }
}

/* a value probably no record has: v changed a little (scratch: 8 KiB) */
static void absent_of(tval *out, const tval *v, hollow_field_type t,
                      uint8_t *scratch, uint64_t *rng)
{
    *out = *v;
    out->t = t;
    out->null = false;
    if (t == HOLLOW_FIELD_STRING || t == HOLLOW_FIELD_BYTES) {
        /* one more ASCII character: its stored form is that byte too */
        uint8_t c = (uint8_t)('~' - (ht_rand(rng) % 3));
        size_t nu = v->null ? 0 : v->utf8len, nr = v->null ? 0 : v->rawlen;
        ck_assert_uint_lt(nr, 4000);
        if (nu > 0)
            memcpy(scratch, v->utf8, nu);
        scratch[nu] = c;
        if (nr > 0)
            memcpy(scratch + 4096, v->raw, nr);
        scratch[4096 + nr] = c;
        out->utf8 = (char *)scratch;
        out->utf8len = nu + 1;
        out->raw = scratch + 4096;
        out->rawlen = nr + 1;
        return;
    }
    /* (never the pattern a probe would take for null) */
    uint64_t b = v->null ? 0 : v->bits;
    switch (t) {
    case HOLLOW_FIELD_BOOLEAN: out->bits = v->null ? 1 : !v->bits; break;
    case HOLLOW_FIELD_REFERENCE: out->bits = b + 100003; break;
    case HOLLOW_FIELD_INT: {
        int32_t i = (int32_t)((uint32_t)b + 77777u);
        out->bits = (uint64_t)(int64_t)(i == INT32_MIN ? i + 1 : i);
        break;
    }
    case HOLLOW_FIELD_FLOAT:
        out->bits = (uint32_t)(b + 1000003);
        out->bits += out->bits == 0x7FC00001u;
        break;
    case HOLLOW_FIELD_DOUBLE:
        out->bits = b + 1000003;
        out->bits += out->bits == 0x7FF8000000000001ull;
        break;
    default: /* LONG */
        out->bits = b + 1000003;
        out->bits += out->bits == (uint64_t)INT64_MIN;
        break;
    }
}

/* the records of tuple text `key` in the brute force: [*at, *at + n) */
static size_t expect_find(const expect *x, const char *key, size_t *at)
{
    entry probe;
    probe.key = (char *)key;
    probe.o = -1;
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_entry(&x->e[mid], &probe) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    size_t n = 0;
    while (lo + n < x->n && strcmp(x->e[lo + n].key, key) == 0)
        n++;
    return n;
}

typedef struct iref {  /* an index, how it was made, for messages */
    const hollow_index *ix;
    const char *what;
} iref;

/*
 * Check a primary or unique key index against the brute force: every key
 * found, as its smallest record; duplicates as the brute force groups
 * them; key count; some absent keys not found.
 */
static void check_pk(const iref *r, const expect *x, uint64_t *rng)
{
    const hollow_index *ix = r->ix;
    size_t np = x->np;
    size_t keys = 0;
    typedef struct grp {
        size_t at, n;
    } grp;
    grp *dups = calloc(x->n + 1, sizeof *dups);
    size_t ndups = 0;
    static uint8_t scratch[8192];
    for (size_t i = 0; i < x->n;) {
        size_t j = i + 1;
        while (j < x->n && strcmp(x->e[j].key, x->e[i].key) == 0)
            j++;
        keys++;
        hollow_value k[HOLLOW_INDEX_MAX_PATHS];
        bool stored = ht_rand(rng) & 1;
        for (size_t p = 0; p < np; p++)
            probe_of(&k[p], &x->e[i].vals[p], x->vtypes[p], stored, rng);
        int o = stored ? hollow_index_find_stored(ix, k, np)
                       : hollow_index_find(ix, k, np);
        ck_assert_msg(o == x->e[i].o, "%s: key %s: found %d, want %d (%s)",
                      r->what, x->e[i].key, o, (int)x->e[i].o,
                      o < 0 ? hollow_error_last()->message : "");
        if (j - i > 1) {
            dups[ndups].at = i;
            dups[ndups].n = j - i;
            ndups++;
        }
        /* an absent key now and then */
        if (ht_rand(rng) % 3 == 0) {
            tval av[HOLLOW_INDEX_MAX_PATHS];
            size_t which = ht_rand(rng) % np;
            for (size_t p = 0; p < np; p++)
                av[p] = x->e[i].vals[p];
            absent_of(&av[which], &x->e[i].vals[which], x->vtypes[which],
                      scratch, rng);
            char *buf = NULL;
            size_t len = 0, cap = 0;
            for (size_t p = 0; p < np; p++)
                key_text(&buf, &len, &cap, &av[p]);
            stored = ht_rand(rng) & 1;
            for (size_t p = 0; p < np; p++)
                probe_of(&k[p], &av[p], x->vtypes[p], stored, rng);
            int a = stored ? hollow_index_find_stored(ix, k, np)
                           : hollow_index_find(ix, k, np);
            size_t at;
            int want = expect_find(x, buf, &at) > 0 ? x->e[at].o
                                                    : HOLLOW_ENOTFOUND;
            ck_assert_msg(a == want, "%s: absent key %s: %d, want %d", r->what,
                          buf, a, want);
            free(buf);
        }
        i = j;
    }
    ck_assert_msg(hollow_index_key_count(ix) == keys, "%s: %zu keys, want %zu",
                  r->what, hollow_index_key_count(ix), keys);
    /* duplicates, ordered by smallest ordinal */
    for (size_t a = 1; a < ndups; a++)
        for (size_t b = a; b > 0 && x->e[dups[b - 1].at].o > x->e[dups[b].at].o;
             b--) {
            grp g = dups[b];
            dups[b] = dups[b - 1];
            dups[b - 1] = g;
        }
    ck_assert_msg(hollow_index_duplicate_count(ix) == ndups,
                  "%s: %zu duplicated keys, want %zu", r->what,
                  hollow_index_duplicate_count(ix), ndups);
    for (size_t d = 0; d < ndups; d++) {
        hollow_index_matches m;
        HT_OK(hollow_index_duplicate_at(&m, ix, d));
        ck_assert_msg(m.count == dups[d].n, "%s: duplicate %zu has %zu, want %zu",
                      r->what, d, m.count, dups[d].n);
        for (size_t i = 0; i < m.count; i++)
            ck_assert_int_eq(m.ordinals[i], x->e[dups[d].at + i].o);
        /* the same group from any of its records */
        hollow_index_matches of;
        size_t pick = ht_rand(rng) % m.count;
        ck_assert_int_eq(hollow_index_duplicates_of(&of, ix, m.ordinals[pick]),
                         (int)m.count);
        ck_assert_ptr_eq(of.ordinals, m.ordinals);
    }
    /* a record whose key is not duplicated has no group */
    for (size_t i = 0; i < x->n; i++) {
        bool dup = (i > 0 && strcmp(x->e[i - 1].key, x->e[i].key) == 0) ||
                   (i + 1 < x->n && strcmp(x->e[i + 1].key, x->e[i].key) == 0);
        if (!dup) {
            hollow_index_matches of;
            ck_assert_int_eq(hollow_index_duplicates_of(&of, ix, x->e[i].o), 0);
            ck_assert_uint_eq(of.count, 0);
            break;
        }
    }
    hollow_index_matches m;
    ck_assert_int_eq(hollow_index_duplicate_at(&m, ix, ndups), HOLLOW_ENOTFOUND);
    free(dups);
}

/* Check a hash index: every tuple's records; key count; absent tuples. */
static void check_hash(const iref *r, const expect *x, uint64_t *rng)
{
    const hollow_index *ix = r->ix;
    size_t np = x->np;
    size_t keys = 0;
    static uint8_t scratch[8192];
    for (size_t i = 0; i < x->n;) {
        size_t j = i + 1;
        while (j < x->n && strcmp(x->e[j].key, x->e[i].key) == 0)
            j++;
        keys++;
        hollow_value k[HOLLOW_INDEX_MAX_PATHS];
        bool stored = ht_rand(rng) & 1;
        for (size_t p = 0; p < np; p++)
            probe_of(&k[p], &x->e[i].vals[p], x->vtypes[p], stored, rng);
        hollow_index_matches m;
        int n = stored ? hollow_index_match_stored(&m, ix, k, np)
                       : hollow_index_match(&m, ix, k, np);
        ck_assert_msg(n == (int)(j - i), "%s: tuple %s: %d records, want %zu (%s)",
                      r->what, x->e[i].key, n, j - i,
                      n < 0 ? hollow_error_last()->message : "");
        ck_assert_uint_eq(m.count, j - i);
        for (size_t a = 0; a < m.count; a++)
            ck_assert_msg(m.ordinals[a] == x->e[i + a].o,
                          "%s: tuple %s: record %zu is %d, want %d", r->what,
                          x->e[i].key, a, m.ordinals[a], x->e[i + a].o);
        if (ht_rand(rng) % 3 == 0) {
            tval av[HOLLOW_INDEX_MAX_PATHS];
            size_t which = ht_rand(rng) % np;
            for (size_t p = 0; p < np; p++)
                av[p] = x->e[i].vals[p];
            absent_of(&av[which], &x->e[i].vals[which], x->vtypes[which],
                      scratch, rng);
            stored = ht_rand(rng) & 1;
            for (size_t p = 0; p < np; p++)
                probe_of(&k[p], &av[p], x->vtypes[p], stored, rng);
            n = stored ? hollow_index_match_stored(&m, ix, k, np)
                       : hollow_index_match(&m, ix, k, np);
            char *buf = NULL;
            size_t len = 0, cap = 0;
            for (size_t p = 0; p < np; p++)
                key_text(&buf, &len, &cap, &av[p]);
            size_t at;
            size_t want = expect_find(x, buf, &at);
            ck_assert_msg(n == (int)want, "%s: absent tuple %s: %d, want %zu",
                          r->what, buf, n, want);
            for (size_t a = 0; a < want; a++)
                ck_assert_int_eq(m.ordinals[a], x->e[at + a].o);
            free(buf);
        }
        i = j;
    }
    ck_assert_msg(hollow_index_key_count(ix) == keys, "%s: %zu keys, want %zu",
                  r->what, hollow_index_key_count(ix), keys);
    ck_assert_uint_eq(hollow_index_duplicate_count(ix), 0);
}

static void check_index(const iref *r, const expect *x, uint64_t *rng)
{
    if (hollow_index_kind_of(r->ix) == HOLLOW_INDEX_HASH)
        check_hash(r, x, rng);
    else
        check_pk(r, x, rng);
}

/* ================================================= random datasets */

static const char SCHEMA[] =
    "Str { string value; }\n"
    "Tag @PrimaryKey(name) { string name; int weight; Str label; }\n"
    "ListOfStr List<Str>;\n"
    "SetOfTag Set<Tag> @HashKey(name);\n"
    "MapOfStrToTag Map<Str, Tag>;\n"
    "Item @PrimaryKey(id) { int id; long big; float f; double d; boolean b; "
    "string s; bytes by; Str title; Tag tag; ListOfStr words; SetOfTag tags; "
    "MapOfStrToTag attrs; }\n";

#define NSTR 14
#define NTAG 10

static const char *STRS[NSTR] = {
    "", "a", "Up", "Heat", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
    "\xf0\x9f\x98\x80 grin", "night", "day", "war", "Up ", "a\xc3\xa9",
    NULL, /* long: filled at run time */
    "x",
};

static char long_str[600];

static const char *str_at(int i)
{
    if (i == 12) {
        if (long_str[0] == '\0') {
            /* 150 x U+00E9: 300 bytes of UTF-8, 300 stored bytes */
            for (int k = 0; k < 150; k++)
                memcpy(long_str + 2 * k, "\xc3\xa9", 2);
            long_str[300] = '\0';
        }
        return long_str;
    }
    return STRS[i];
}

typedef struct m_tag {
    int name, weight, label; /* label: string index or -1 */
} m_tag;

typedef struct m_item {
    int32_t id;
    int id_null;
    int64_t big;
    int big_null;
    int f, d;   /* index into the float / double pools, -1 null */
    int b;      /* 0, 1, -1 null */
    int s;      /* string index, -1 null */
    int bylen;  /* -1 null */
    uint8_t by[4];
    int title, tag; /* string / tag index or -1 */
    int nwords, words[5];
    int ntags, tags[4];
    int nattrs, akeys[4], avals[4];
} m_item;

static const float FLOATS[] = {0.0f, -0.0f, 1.5f, 2.5f, INFINITY, NAN, -7.25f};
static const double DOUBLES[] = {0.0, -0.0, 1.5, 1e300, -INFINITY, NAN, 3.0};
#define NFLOATS 7
#define NDOUBLES 7

typedef struct model {
    m_item *items;
    size_t n, cap;
    m_tag tags[NTAG];
} model;

static uint32_t below(uint64_t *rng, uint32_t n)
{
    return (uint32_t)(ht_rand(rng) % n);
}

static void gen_item(m_item *it, uint64_t *rng, size_t scale)
{
    memset(it, 0, sizeof *it);
    it->id = (int32_t)below(rng, (uint32_t)(scale + scale / 4 + 1));
    it->id_null = below(rng, 40) == 0;
    it->big = below(rng, 6) == 0 ? INT64_MIN : (int64_t)below(rng, 20) - 5;
    it->big_null = below(rng, 10) == 0;
    it->f = below(rng, 8) == 0 ? -1 : (int)below(rng, NFLOATS);
    it->d = below(rng, 8) == 0 ? -1 : (int)below(rng, NDOUBLES);
    it->b = (int)below(rng, 3) - 1;
    it->s = below(rng, 10) == 0 ? -1 : (int)below(rng, NSTR);
    it->bylen = (int)below(rng, 5) - 1;
    for (int i = 0; i < 4; i++)
        it->by[i] = (uint8_t)below(rng, 3);
    it->title = below(rng, 6) == 0 ? -1 : (int)below(rng, NSTR);
    it->tag = below(rng, 6) == 0 ? -1 : (int)below(rng, NTAG);
    it->nwords = (int)below(rng, 5);
    for (int i = 0; i < it->nwords; i++)
        it->words[i] = (int)below(rng, NSTR);
    it->ntags = (int)below(rng, 4);
    for (int i = 0; i < it->ntags; i++)
        it->tags[i] = (int)below(rng, NTAG);
    it->nattrs = (int)below(rng, 4);
    for (int i = 0; i < it->nattrs; i++) {
        it->akeys[i] = (int)below(rng, NSTR);
        it->avals[i] = (int)below(rng, NTAG);
    }
}

static void model_push(model *m, const m_item *it)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->items = realloc(m->items, m->cap * sizeof *m->items);
    }
    m->items[m->n++] = *it;
}

/*
 * The next cycle: drop, modify, add items; change a tag now and then.
 * With `swing`, halve or double the items now and then, so that shard
 * counts chosen from a small target size change (resharding, §9.7).
 */
static void model_evolve(model *m, uint64_t *rng, size_t scale, bool swing)
{
    int drop = 12;
    size_t add = below(rng, (uint32_t)(scale / 5 + 2));
    if (swing && below(rng, 2) == 0) {
        if (below(rng, 2) == 0)
            drop = 50;
        else
            add += m->n;
    }
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        uint32_t r = below(rng, 100);
        if (r < (uint32_t)drop)
            continue;
        m->items[k] = m->items[i];
        if (r < 22) {
            m_item fresh;
            gen_item(&fresh, rng, scale);
            switch (below(rng, 6)) {
            case 0: m->items[k].s = fresh.s; break;
            case 1: m->items[k].tag = fresh.tag; break;
            case 2:
                m->items[k].nwords = fresh.nwords;
                memcpy(m->items[k].words, fresh.words, sizeof fresh.words);
                break;
            case 3: m->items[k].big = fresh.big; break;
            case 4:
                m->items[k].nattrs = fresh.nattrs;
                memcpy(m->items[k].akeys, fresh.akeys, sizeof fresh.akeys);
                memcpy(m->items[k].avals, fresh.avals, sizeof fresh.avals);
                break;
            default: m->items[k].id = fresh.id; break;
            }
        }
        k++;
    }
    m->n = k;
    for (size_t i = 0; i < add; i++) {
        m_item it;
        gen_item(&it, rng, scale);
        model_push(m, &it);
    }
    if (below(rng, 3) == 0) {
        int t = (int)below(rng, NTAG);
        m->tags[t].weight = (int)below(rng, 4);
        m->tags[t].label = below(rng, 3) == 0 ? -1 : (int)below(rng, NSTR);
    }
}

typedef struct writer {
    hollow_write_state *ws;
    hollow_record *str, *tag, *list, *set, *map, *item;
    hollow_ordinal sord[NSTR], tord[NTAG];
} writer;

static size_t fidx(const hollow_record *r, const char *name)
{
    int f = hollow_schema_field_index(hollow_record_schema(r), name);
    ck_assert_int_ge(f, 0);
    return (size_t)f;
}

static hollow_ordinal add_str(writer *w, int i)
{
    if (w->sord[i] >= 0)
        return w->sord[i];
    const char *s = str_at(i);
    hollow_record_reset(w->str);
    HT_OK(hollow_record_set_string(w->str, 0, s, strlen(s)));
    HT_OK(hollow_write_state_add(&w->sord[i], w->ws, w->str));
    return w->sord[i];
}

static hollow_ordinal add_tag(writer *w, const model *m, int i)
{
    if (w->tord[i] >= 0)
        return w->tord[i];
    const m_tag *t = &m->tags[i];
    hollow_ordinal label = t->label >= 0 ? add_str(w, t->label) : -1;
    hollow_record *r = w->tag;
    hollow_record_reset(r);
    const char *name = str_at(t->name);
    HT_OK(hollow_record_set_string(r, fidx(r, "name"), name, strlen(name)));
    HT_OK(hollow_record_set_int(r, fidx(r, "weight"), t->weight));
    if (label >= 0)
        HT_OK(hollow_record_set_ref(r, fidx(r, "label"), label));
    HT_OK(hollow_write_state_add(&w->tord[i], w->ws, r));
    return w->tord[i];
}

static void add_item(writer *w, const model *m, const m_item *it)
{
    hollow_ordinal o;
    hollow_record *r;
    /* collections first */
    hollow_ordinal words = -1, tags = -1, attrs = -1;
    hollow_record_reset(w->list);
    for (int i = 0; i < it->nwords; i++)
        HT_OK(hollow_record_add_element(w->list, add_str(w, it->words[i])));
    HT_OK(hollow_write_state_add(&words, w->ws, w->list));
    hollow_record_reset(w->set);
    for (int i = 0; i < it->ntags; i++)
        HT_OK(hollow_record_add_element(w->set, add_tag(w, m, it->tags[i])));
    HT_OK(hollow_write_state_add(&tags, w->ws, w->set));
    hollow_record_reset(w->map);
    for (int i = 0; i < it->nattrs; i++)
        HT_OK(hollow_record_put_entry(w->map, add_str(w, it->akeys[i]),
                                      add_tag(w, m, it->avals[i])));
    HT_OK(hollow_write_state_add(&attrs, w->ws, w->map));
    hollow_ordinal title = it->title >= 0 ? add_str(w, it->title) : -1;
    hollow_ordinal tag = it->tag >= 0 ? add_tag(w, m, it->tag) : -1;

    r = w->item;
    hollow_record_reset(r);
    if (!it->id_null)
        HT_OK(hollow_record_set_int(r, fidx(r, "id"), it->id));
    if (!it->big_null)
        HT_OK(hollow_record_set_long(r, fidx(r, "big"), it->big));
    if (it->f >= 0)
        HT_OK(hollow_record_set_float(r, fidx(r, "f"), FLOATS[it->f]));
    if (it->d >= 0)
        HT_OK(hollow_record_set_double(r, fidx(r, "d"), DOUBLES[it->d]));
    if (it->b >= 0)
        HT_OK(hollow_record_set_bool(r, fidx(r, "b"), it->b == 1));
    if (it->s >= 0) {
        const char *s = str_at(it->s);
        HT_OK(hollow_record_set_string(r, fidx(r, "s"), s, strlen(s)));
    }
    if (it->bylen >= 0)
        HT_OK(hollow_record_set_bytes(r, fidx(r, "by"), it->by, (size_t)it->bylen));
    if (title >= 0)
        HT_OK(hollow_record_set_ref(r, fidx(r, "title"), title));
    if (tag >= 0)
        HT_OK(hollow_record_set_ref(r, fidx(r, "tag"), tag));
    HT_OK(hollow_record_set_ref(r, fidx(r, "words"), words));
    HT_OK(hollow_record_set_ref(r, fidx(r, "tags"), tags));
    HT_OK(hollow_record_set_ref(r, fidx(r, "attrs"), attrs));
    HT_OK(hollow_write_state_add(&o, w->ws, r));
}

static void writer_cycle(writer *w, const model *m)
{
    for (int i = 0; i < NSTR; i++)
        w->sord[i] = -1;
    for (int i = 0; i < NTAG; i++)
        w->tord[i] = -1;
    for (size_t i = 0; i < m->n; i++)
        add_item(w, m, &m->items[i]);
}

/* one chain: versions 0..nv-1, each with its snapshot, delta from the
 * previous version and reverse delta to it */
typedef struct chain {
    int nv;
    ht_mem snap[16], delta[16], rev[16];
} chain;

static void chain_free(chain *c)
{
    for (int v = 0; v < c->nv; v++) {
        free(c->snap[v].p);
        free(c->delta[v].p);
        free(c->rev[v].p);
    }
}

static const char *TYPES[] = {"Str", "Tag", "ListOfStr", "SetOfTag",
                              "MapOfStrToTag", "Item"};

static void make_chain(chain *c, uint64_t *rng, size_t scale, int nv)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, SCHEMA, strlen(SCHEMA)));
    hollow_write_options opts = HOLLOW_WRITE_OPTIONS_INIT;
    int mode = (int)below(rng, 3);
    if (mode == 1) {
        opts.resharding = true;
        opts.target_shard_size = 64u << below(rng, 5);
    }
    writer w;
    memset(&w, 0, sizeof w);
    HT_OK(hollow_write_state_new(&w.ws, l, &opts));
    if (mode == 0)
        for (size_t t = 0; t < sizeof TYPES / sizeof *TYPES; t++)
            HT_OK(hollow_write_state_set_shard_count(w.ws, TYPES[t],
                                                     1u << below(rng, 7)));
    else if (mode == 2)
        HT_OK(hollow_write_state_set_shard_count(w.ws, "Item",
                                                 1u << below(rng, 7)));
    HT_OK(hollow_record_new(&w.str, w.ws, "Str"));
    HT_OK(hollow_record_new(&w.tag, w.ws, "Tag"));
    HT_OK(hollow_record_new(&w.list, w.ws, "ListOfStr"));
    HT_OK(hollow_record_new(&w.set, w.ws, "SetOfTag"));
    HT_OK(hollow_record_new(&w.map, w.ws, "MapOfStrToTag"));
    HT_OK(hollow_record_new(&w.item, w.ws, "Item"));

    model m;
    memset(&m, 0, sizeof m);
    for (int t = 0; t < NTAG; t++) {
        m.tags[t].name = t % NSTR;
        m.tags[t].weight = (int)below(rng, 4);
        m.tags[t].label = below(rng, 3) == 0 ? -1 : (int)below(rng, NSTR);
    }
    size_t n0 = scale / 2 + below(rng, (uint32_t)scale);
    for (size_t i = 0; i < n0; i++) {
        m_item it;
        gen_item(&it, rng, scale);
        model_push(&m, &it);
    }
    memset(c, 0, sizeof *c);
    c->nv = nv;
    for (int v = 0; v < nv; v++) {
        if (v > 0) {
            HT_OK(hollow_write_state_prepare_cycle(w.ws));
            model_evolve(&m, rng, scale, mode == 1);
        }
        writer_cycle(&w, &m);
        HT_OK(hollow_write_state_write_snapshot(w.ws, ht_mem_sink, &c->snap[v]));
        if (v > 0) {
            HT_OK(hollow_write_state_write_delta(w.ws, ht_mem_sink, &c->delta[v]));
            HT_OK(hollow_write_state_write_reverse_delta(w.ws, ht_mem_sink,
                                                         &c->rev[v]));
        }
    }
    free(m.items);
    hollow_record_free(w.str);
    hollow_record_free(w.tag);
    hollow_record_free(w.list);
    hollow_record_free(w.set);
    hollow_record_free(w.map);
    hollow_record_free(w.item);
    hollow_write_state_free(w.ws);
    hollow_schema_list_free(l);
}

/* ===================================================== index defs */

typedef struct idef {
    hollow_index_kind kind;
    const char *paths[4];
    size_t n;
} idef;

static const idef DEFS[] = {
    {HOLLOW_INDEX_PRIMARY_KEY, {NULL}, 0}, /* @PrimaryKey(id) */
    {HOLLOW_INDEX_PRIMARY_KEY, {"big"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"f"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"d"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"b"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"s"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"by"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"s", "id"}, 2},
    {HOLLOW_INDEX_UNIQUE_KEY, {"title", "b"}, 2},
    {HOLLOW_INDEX_UNIQUE_KEY, {"tag.name", "tag.weight"}, 2},
    {HOLLOW_INDEX_UNIQUE_KEY, {"tag.label"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"tag"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"tag!"}, 1},
    {HOLLOW_INDEX_UNIQUE_KEY, {"title!", "id", "words!"}, 3},
    {HOLLOW_INDEX_HASH, {"words.element"}, 1},
    {HOLLOW_INDEX_HASH, {"tags.element.name"}, 1},
    {HOLLOW_INDEX_HASH, {"tags.element.name", "tags.element.weight"}, 2},
    {HOLLOW_INDEX_HASH, {"attrs.key"}, 1},
    {HOLLOW_INDEX_HASH, {"attrs.value.label"}, 1},
    {HOLLOW_INDEX_HASH, {"attrs.key", "attrs.value.weight"}, 2},
    {HOLLOW_INDEX_HASH, {"words.element", "b"}, 2},
    {HOLLOW_INDEX_HASH, {"tags.element!"}, 1},
    {HOLLOW_INDEX_HASH, {"title"}, 1},
    {HOLLOW_INDEX_HASH, {"words.element", "tags.element.name"}, 2},
    {HOLLOW_INDEX_HASH, {"attrs.value!", "attrs.key", "tag.label"}, 3},
};
#define NDEFS (sizeof DEFS / sizeof *DEFS)

static int build_def(hollow_index **out, const idef *d,
                     const hollow_read_state *rs)
{
    switch (d->kind) {
    case HOLLOW_INDEX_PRIMARY_KEY:
        return hollow_index_primary_key_new(out, rs, "Item",
                                            d->n ? d->paths : NULL, d->n);
    case HOLLOW_INDEX_UNIQUE_KEY:
        return hollow_index_unique_key_new(out, rs, "Item", d->paths, d->n);
    default:
        return hollow_index_hash_new(out, rs, "Item", d->paths, d->n);
    }
}

static void def_name(char *buf, size_t cap, const idef *d)
{
    int n = snprintf(buf, cap, "%s(", d->kind == HOLLOW_INDEX_HASH ? "hash"
                                      : d->kind == HOLLOW_INDEX_UNIQUE_KEY
                                          ? "unique"
                                          : "pk");
    if (d->n == 0)
        n += snprintf(buf + n, cap - (size_t)n, "@PrimaryKey");
    for (size_t p = 0; p < d->n; p++)
        n += snprintf(buf + n, cap - (size_t)n, "%s%s", p ? ", " : "",
                      d->paths[p]);
    snprintf(buf + n, cap - (size_t)n, ")");
}

/* the brute force of a def over a state */
static void brute_def(expect *x, const idef *d, const hollow_read_state *rs)
{
    if (d->n > 0) {
        brute(x, rs, "Item", d->paths, d->n);
        return;
    }
    const hollow_schema *s = hollow_type_schema(type_of(rs, "Item"));
    const char *paths[HOLLOW_INDEX_MAX_PATHS];
    size_t n = hollow_schema_key_count(s);
    for (size_t p = 0; p < n; p++)
        paths[p] = hollow_schema_key_path(s, p);
    brute(x, rs, "Item", paths, n);
}

/* ========================================================= property */

typedef struct stats {
    long steps, checks, patched, built;
    long resharded; /* steps where a type's shard count changed */
    long reshard_patched; /* derivations patched over such steps */
    uint32_t max_shards;
    bool in_reshard;
} stats;

/* check fresh and derived indexes of every def on `rs`; prev[] advance */
static void step_check(hollow_index **prev, const hollow_read_state *rs,
                       const char *ctx, uint64_t *rng, stats *st)
{
    for (size_t d = 0; d < NDEFS; d++) {
        char name[256], what[512];
        def_name(name, sizeof name, &DEFS[d]);
        expect x;
        brute_def(&x, &DEFS[d], rs);
        hollow_index *fresh = NULL, *derived = NULL;
        HT_OK(build_def(&fresh, &DEFS[d], rs));
        ck_assert_int_eq(hollow_index_origin_of(fresh), HOLLOW_INDEX_BUILT);
        ck_assert_ptr_eq(hollow_index_state(fresh), rs);
        ck_assert_uint_gt(hollow_index_memory(fresh), 0);
        snprintf(what, sizeof what, "%s fresh %s", ctx, name);
        iref r = {fresh, what};
        check_index(&r, &x, rng);
        st->checks++;
        if (prev[d] != NULL) {
            HT_OK(hollow_index_derive(&derived, prev[d], rs));
            ck_assert_ptr_eq(hollow_index_state(derived), rs);
            if (hollow_index_origin_of(derived) == HOLLOW_INDEX_PATCHED) {
                st->patched++;
                st->reshard_patched += st->in_reshard;
            } else
                st->built++;
            snprintf(what, sizeof what, "%s derived (%s) %s", ctx,
                     hollow_index_origin_of(derived) == HOLLOW_INDEX_PATCHED
                         ? "patched"
                         : "rebuilt",
                     name);
            iref rd = {derived, what};
            check_index(&rd, &x, rng);
            st->checks++;
            /* the visit counts a patch keeps equal a fresh count */
            ck_assert_uint_eq(derived->spec.nvtypes, fresh->spec.nvtypes);
            for (size_t v = 0; v < fresh->spec.nvtypes; v++) {
                ck_assert_uint_eq(derived->count_len[v], fresh->count_len[v]);
                ck_assert_msg(memcmp(derived->counts[v], fresh->counts[v],
                                     fresh->count_len[v] * sizeof(uint32_t)) == 0,
                              "%s: visit counts of %s differ", what,
                              hollow_type_name(fresh->spec.vtypes[v]));
            }
            ck_assert(!derived->dangling && !fresh->dangling);
            hollow_index_release(prev[d]);
            /* go on from the derived one mostly, to chain patches */
            if (ht_rand(rng) % 4 == 0) {
                prev[d] = fresh;
                hollow_index_release(derived);
            } else {
                prev[d] = derived;
                hollow_index_release(fresh);
            }
        } else {
            prev[d] = fresh;
        }
        expect_free(&x);
    }
}

/*
 * Walk a chain: from the first snapshot, forward deltas, reverse deltas,
 * reloading the current version's snapshot (a double snapshot), jumping
 * to another version's snapshot or to the next version's (whose origin is
 * the current state).
 */
static void walk_chain(const chain *c, uint64_t *rng, int steps,
                       const char *ctx, stats *st)
{
    hollow_index *prev[NDEFS];
    memset(prev, 0, sizeof prev);
    hollow_read_state *rs = NULL;
    int v = 0;
    HT_OK(hollow_read_state_from_snapshot(&rs, c->snap[0].p, c->snap[0].len, NULL));
    char what[256];
    snprintf(what, sizeof what, "%s v0 snapshot", ctx);
    step_check(prev, rs, what, rng, st);
    for (int s = 0; s < steps; s++) {
        hollow_read_state *next = NULL;
        uint32_t r = below(rng, 100);
        const char *how;
        int nvv = v;
        if (r < 45 && v + 1 < c->nv) {
            nvv = v + 1;
            HT_OK(hollow_read_state_apply_delta(&next, rs, c->delta[nvv].p,
                                                c->delta[nvv].len));
            how = "delta";
        } else if (r < 75 && v > 0) {
            nvv = v - 1;
            HT_OK(hollow_read_state_apply_delta(&next, rs, c->rev[v].p,
                                                c->rev[v].len));
            how = "reverse delta";
        } else if (r < 82 && v + 1 < c->nv) {
            nvv = v + 1;
            HT_OK(hollow_read_state_from_snapshot(&next, c->snap[nvv].p,
                                                  c->snap[nvv].len, NULL));
            how = "next snapshot";
        } else if (r < 90) {
            HT_OK(hollow_read_state_from_snapshot(&next, c->snap[v].p,
                                                  c->snap[v].len, NULL));
            how = "same snapshot";
        } else {
            nvv = (int)below(rng, (uint32_t)c->nv);
            HT_OK(hollow_read_state_from_snapshot(&next, c->snap[nvv].p,
                                                  c->snap[nvv].len, NULL));
            how = "other snapshot";
        }
        snprintf(what, sizeof what, "%s step %d: %s v%d -> v%d", ctx, s, how,
                 v, nvv);
        bool reshard = false;
        for (size_t t = 0; t < sizeof TYPES / sizeof *TYPES; t++) {
            uint32_t a = hollow_type_shard_count(type_of(rs, TYPES[t]));
            uint32_t b = hollow_type_shard_count(type_of(next, TYPES[t]));
            reshard |= a != b;
            if (b > st->max_shards)
                st->max_shards = b;
        }
        st->resharded += reshard;
        st->in_reshard = reshard;
        hollow_read_state_release(rs);
        rs = next;
        v = nvv;
        step_check(prev, rs, what, rng, st);
        st->steps++;
    }
    for (size_t d = 0; d < NDEFS; d++)
        hollow_index_release(prev[d]);
    hollow_read_state_release(rs);
}

START_TEST(index_random_chains)
{
    uint64_t seed = ht_seed("index_random_chains");
    uint64_t rng = seed;
    stats st = {0, 0, 0, 0, 0, 0, 0, false};
    int chains = 6 * ht_scale();
    for (int i = 0; i < chains; i++) {
        chain c;
        size_t scale = 20 + below(&rng, 120);
        make_chain(&c, &rng, scale, 3 + (int)below(&rng, 5));
        char ctx[128];
        snprintf(ctx, sizeof ctx, "seed %llu chain %d (%zu)",
                 (unsigned long long)seed, i, scale);
        walk_chain(&c, &rng, 8 + (int)below(&rng, 6), ctx, &st);
        chain_free(&c);
    }
    fprintf(stderr, "index_random_chains: %ld steps (%ld changing shard "
            "counts, up to %u shards), %ld index checks, %ld derivations "
            "patched (%ld over a shard count change), %ld rebuilt\n",
            st.steps, st.resharded, st.max_shards, st.checks, st.patched,
            st.reshard_patched, st.built);
    ck_assert_int_gt(st.patched, 0);
}
END_TEST

/* records of type `name` populated in exactly one of two states */
static size_t changed_records(const hollow_read_state *a,
                              const hollow_read_state *b, const char *name)
{
    const hollow_type *x = type_of(a, name), *y = type_of(b, name);
    hollow_ordinal max = hollow_type_max_ordinal(x) > hollow_type_max_ordinal(y)
                             ? hollow_type_max_ordinal(x)
                             : hollow_type_max_ordinal(y);
    size_t n = 0;
    for (hollow_ordinal o = 0; o <= max; o++)
        n += hollow_type_is_populated(x, o) != hollow_type_is_populated(y, o);
    return n;
}

/*
 * A forward-only chain: every derivation along deltas patches, unless the
 * delta changed more records than the new state holds (then a build is
 * cheaper).
 */
START_TEST(index_derive_patches_deltas)
{
    uint64_t seed = ht_seed("index_derive_patches_deltas");
    uint64_t rng = seed;
    stats st = {0, 0, 0, 0, 0, 0, 0, false};
    chain c;
    make_chain(&c, &rng, 150, 6);
    hollow_index *prev[NDEFS];
    memset(prev, 0, sizeof prev);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, c.snap[0].p, c.snap[0].len, NULL));
    step_check(prev, rs, "v0", &rng, &st);
    for (int v = 1; v < c.nv; v++) {
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta(&next, rs, c.delta[v].p,
                                            c.delta[v].len));
        bool patch = changed_records(rs, next, "Item") <=
                     hollow_type_record_count(type_of(next, "Item"));
        hollow_read_state_release(rs);
        rs = next;
        for (size_t d = 0; d < NDEFS; d++) {
            hollow_index *ix = NULL;
            HT_OK(hollow_index_derive(&ix, prev[d], rs));
            char name[256];
            def_name(name, sizeof name, &DEFS[d]);
            ck_assert_msg((hollow_index_origin_of(ix) == HOLLOW_INDEX_PATCHED) ==
                              patch,
                          "seed %llu v%d %s: %s", (unsigned long long)seed, v,
                          name, patch ? "rebuilt" : "patched");
            st.patched += patch;
            hollow_index_release(ix);
        }
        char what[64];
        snprintf(what, sizeof what, "seed %llu v%d", (unsigned long long)seed, v);
        step_check(prev, rs, what, &rng, &st);
    }
    for (size_t d = 0; d < NDEFS; d++)
        hollow_index_release(prev[d]);
    hollow_read_state_release(rs);
    chain_free(&c);
    ck_assert_int_gt(st.patched, 0);
}
END_TEST

/* ============================================================ golden */

static const char *SCENARIOS[] = HT_GOLDEN_SCENARIOS;
#define NSCEN (sizeof SCENARIOS / sizeof *SCENARIOS)

static uint8_t *load_blob(const char *scenario, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", HOLLOW_GOLDEN_DIR, scenario, name);
    return ht_read_file(path, len);
}

static long derivations;

/*
 * Every @PrimaryKey type of rs: its primary key index finds every record
 * by the key values read back from the record (the smallest record of a
 * duplicated key), and the derived index `prev` (if any) does the same.
 */
static long check_pk_types(const hollow_read_state *rs, hollow_index **prev,
                           size_t nprev, const char *ctx, uint64_t *rng,
                           long *patched)
{
    long records = 0;
    size_t k = 0;
    for (size_t t = 0; t < hollow_read_state_type_count(rs); t++) {
        const hollow_type *ty = hollow_read_state_type_at(rs, t);
        const hollow_schema *s = hollow_type_schema(ty);
        if (hollow_schema_kind_of(s) != HOLLOW_SCHEMA_OBJECT ||
            hollow_schema_key_count(s) == 0)
            continue;
        const char *paths[HOLLOW_INDEX_MAX_PATHS];
        size_t n = hollow_schema_key_count(s);
        for (size_t p = 0; p < n; p++)
            paths[p] = hollow_schema_key_path(s, p);
        expect x;
        brute(&x, rs, hollow_type_name(ty), paths, n);
        ck_assert_uint_eq(x.n, hollow_type_record_count(ty));
        records += (long)x.n;
        hollow_index *ix = NULL;
        HT_OK(hollow_index_primary_key_new(&ix, rs, hollow_type_name(ty), NULL, 0));
        char what[512];
        snprintf(what, sizeof what, "%s %s", ctx, hollow_type_name(ty));
        iref r = {ix, what};
        check_pk(&r, &x, rng);
        /* every record by its own key */
        for (size_t i = 0; i < x.n; i++) {
            hollow_value kv[HOLLOW_INDEX_MAX_PATHS];
            for (size_t p = 0; p < n; p++)
                probe_of(&kv[p], &x.e[i].vals[p], x.vtypes[p], false, rng);
            int o = hollow_index_find(ix, kv, n);
            size_t first = i;
            while (first > 0 && strcmp(x.e[first - 1].key, x.e[i].key) == 0)
                first--;
            ck_assert_msg(o == x.e[first].o, "%s: record %d: found %d", what,
                          x.e[i].o, o);
        }
        if (prev != NULL) {
            ck_assert_uint_lt(k, nprev);
            hollow_index *d = NULL;
            if (prev[k] != NULL &&
                strcmp(hollow_index_type_name(prev[k]), hollow_type_name(ty)) == 0) {
                HT_OK(hollow_index_derive(&d, prev[k], rs));
                *patched += hollow_index_origin_of(d) == HOLLOW_INDEX_PATCHED;
                derivations++;
                snprintf(what, sizeof what, "%s %s derived", ctx,
                         hollow_type_name(ty));
                iref rd = {d, what};
                check_pk(&rd, &x, rng);
                hollow_index_release(d);
            }
            hollow_index_release(prev[k]);
            prev[k] = ix;
        } else {
            hollow_index_release(ix);
        }
        k++;
        expect_free(&x);
    }
    return records;
}

START_TEST(index_golden_snapshots)
{
    uint64_t rng = 8;
    long records = 0;
    for (size_t s = 0; s < NSCEN; s++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/manifest.json", HOLLOW_GOLDEN_DIR,
                 SCENARIOS[s]);
        json_error_t err;
        json_t *m = json_load_file(path, 0, &err);
        ck_assert_ptr_nonnull(m);
        json_t *snaps = json_object_get(m, "snapshotVersions");
        for (size_t i = 0; i < json_array_size(snaps); i++) {
            char name[128];
            snprintf(name, sizeof name, "snapshot-%lld",
                     (long long)json_integer_value(json_array_get(snaps, i)));
            size_t len;
            uint8_t *b = load_blob(SCENARIOS[s], name, &len);
            hollow_read_state *rs = NULL;
            HT_OK(hollow_read_state_from_snapshot(&rs, b, len, NULL));
            char ctx[256];
            snprintf(ctx, sizeof ctx, "%s %s", SCENARIOS[s], name);
            records += check_pk_types(rs, NULL, 0, ctx, &rng, NULL);
            hollow_read_state_release(rs);
            free(b);
        }
        json_decref(m);
    }
    fprintf(stderr, "index_golden_snapshots: %ld records found by key\n",
            records);
    ck_assert_int_gt(records, 20000);
}
END_TEST

/* along each chain (snapshot, deltas, reverse deltas), fresh and derived */
START_TEST(index_golden_chains)
{
    uint64_t rng = 9;
    long records = 0, patched = 0;
    for (size_t s = 0; s < NSCEN; s++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/manifest.json", HOLLOW_GOLDEN_DIR,
                 SCENARIOS[s]);
        json_error_t err;
        json_t *m = json_load_file(path, 0, &err);
        ck_assert_ptr_nonnull(m);
        json_t *vs = json_object_get(m, "versions");
        size_t nv = json_array_size(vs);
        char name[128];
        snprintf(name, sizeof name, "snapshot-%lld",
                 (long long)json_integer_value(json_array_get(vs, 0)));
        size_t len;
        uint8_t *b = load_blob(SCENARIOS[s], name, &len);
        hollow_read_state *rs = NULL;
        HT_OK(hollow_read_state_from_snapshot(&rs, b, len, NULL));
        free(b);
        hollow_index *prev[64];
        memset(prev, 0, sizeof prev);
        records += check_pk_types(rs, prev, 64, SCENARIOS[s], &rng, &patched);
        for (size_t step = 0; step < 2 * (nv - 1); step++) {
            bool fwd = step + 1 < nv;
            size_t a = fwd ? step : 2 * nv - 2 - step;
            size_t z = fwd ? a + 1 : a - 1;
            snprintf(name, sizeof name, "%s-%lld-%lld",
                     fwd ? "delta" : "reversedelta",
                     (long long)json_integer_value(json_array_get(vs, a)),
                     (long long)json_integer_value(json_array_get(vs, z)));
            b = load_blob(SCENARIOS[s], name, &len);
            hollow_read_state *next = NULL;
            HT_OK(hollow_read_state_apply_delta(&next, rs, b, len));
            free(b);
            hollow_read_state_release(rs);
            rs = next;
            char ctx[256];
            snprintf(ctx, sizeof ctx, "%s %s", SCENARIOS[s], name);
            records += check_pk_types(rs, prev, 64, ctx, &rng, &patched);
        }
        for (size_t i = 0; i < 64; i++)
            hollow_index_release(prev[i]);
        hollow_read_state_release(rs);
        json_decref(m);
    }
    fprintf(stderr, "index_golden_chains: %ld records found by key, %ld of "
            "%ld derivations patched\n", records, patched, derivations);
    ck_assert_int_gt(patched, 0);
}
END_TEST

/* ===================================================== API behaviour */

/* =================================================== large fixed keys */

/*
 * A one-field fixed-width key over more records than one thread builds
 * (fixed.c): several pieces, shards and table regions, with entries that
 * spill past their region. Every record finds the smallest ordinal of its
 * key, the duplicate groups are those of a sort of (key, ordinal), and the
 * table is the same whatever the number of threads.
 */
static const char BIG_SCHEMA[] =
    "Ref { int v; }\n"
    "Big @PrimaryKey(id) { long id; int k; boolean b; double d; Ref r; }\n";
#define BIG_N 150000
#define BIG_REFS 3000

typedef struct big_key {
    int null;
    uint64_t bits;
    hollow_ordinal o;
} big_key;

static int cmp_big_key(const void *a, const void *b)
{
    const big_key *x = a, *y = b;
    if (x->null != y->null)
        return x->null - y->null;
    if (x->bits != y->bits)
        return x->bits < y->bits ? -1 : 1;
    return (x->o > y->o) - (x->o < y->o);
}

static uint64_t value_bits(const hollow_value *v)
{
    uint64_t b = 0;
    switch (v->type) {
    case HOLLOW_FIELD_LONG: return (uint64_t)v->u.l;
    case HOLLOW_FIELD_INT: return (uint64_t)(uint32_t)v->u.i;
    case HOLLOW_FIELD_BOOLEAN: return v->u.b;
    case HOLLOW_FIELD_DOUBLE: memcpy(&b, &v->u.d, 8); return b;
    default: return (uint64_t)(uint32_t)v->u.ref;
    }
}

static hollow_read_state *big_state(uint64_t *rng)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, BIG_SCHEMA, strlen(BIG_SCHEMA)));
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    HT_OK(hollow_write_state_set_shard_count(ws, "Big", 4));
    hollow_record *ref = NULL, *big = NULL;
    HT_OK(hollow_record_new(&ref, ws, "Ref"));
    HT_OK(hollow_record_new(&big, ws, "Big"));
    hollow_ordinal refs[BIG_REFS];
    for (int i = 0; i < BIG_REFS; i++) {
        hollow_record_reset(ref);
        HT_OK(hollow_record_set_int(ref, 0, i));
        HT_OK(hollow_write_state_add(&refs[i], ws, ref));
    }
    for (int i = 0; i < BIG_N; i++) {
        hollow_record_reset(big);
        /* ids drawn from fewer values than records: many duplicates; the
         * record count stays BIG_N as k makes every record distinct */
        if (below(rng, 50) != 0)
            HT_OK(hollow_record_set_long(big, fidx(big, "id"),
                                         (int64_t)below(rng, BIG_N / 2) -
                                             1000));
        HT_OK(hollow_record_set_int(big, fidx(big, "k"), i - BIG_N / 3));
        if (below(rng, 5) != 0)
            HT_OK(hollow_record_set_bool(big, fidx(big, "b"),
                                         below(rng, 2) == 0));
        if (below(rng, 7) != 0)
            HT_OK(hollow_record_set_double(big, fidx(big, "d"),
                                           DOUBLES[below(rng, NDOUBLES)] *
                                               (double)below(rng, 40)));
        if (below(rng, 30) != 0)
            HT_OK(hollow_record_set_ref(big, fidx(big, "r"),
                                        refs[below(rng, BIG_REFS)]));
        hollow_ordinal o;
        HT_OK(hollow_write_state_add(&o, ws, big));
    }
    ht_mem snap = {NULL, 0, 0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &snap));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, snap.p, snap.len, NULL));
    free(snap.p);
    hollow_record_free(ref);
    hollow_record_free(big);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    return rs;
}

/* the raw table of hollow__ix_build_fixed() on `threads` threads */
static uint64_t *raw_table(hollow_index *ix, unsigned threads, size_t *nextras)
{
    uint64_t *kept = ix->slots;
    uint32_t cap = ix->cap, used = ix->used;
    ix_hpair *extras = NULL;
    HT_OK(hollow__ix_build_fixed(ix, threads, &extras, nextras));
    hollow_free(extras);
    uint64_t *raw = ix->slots;
    ix->slots = kept;
    ix->cap = cap;
    ix->used = used;
    return raw;
}

START_TEST(index_fixed_large)
{
    uint64_t rng = ht_seed("index_fixed_large");
    hollow_read_state *rs = big_state(&rng);
    const hollow_type *t = hollow_read_state_type(rs, "Big");
    ck_assert_uint_eq(hollow_type_shard_count(t), 4);
    static const char *const FIELDS[] = {"id", "k", "b", "d", "r"};
    static const char *const PATHS[] = {"id", "k", "b", "d", "r!"};
    big_key *keys = malloc(BIG_N * sizeof *keys);
    ck_assert_ptr_nonnull(keys);
    for (size_t f = 0; f < 5; f++) {
        hollow_index *ix = NULL;
        HT_OK(hollow_index_unique_key_new(&ix, rs, "Big", &PATHS[f], 1));
        ck_assert_msg(ix->fast_fixed, "%s", PATHS[f]);
        size_t field = (size_t)hollow_schema_field_index(
            hollow_type_schema(t), FIELDS[f]);
        size_t n = 0;
        for (hollow_ordinal o = 0; o <= hollow_type_max_ordinal(t); o++) {
            if (!hollow_type_is_populated(t, o))
                continue;
            hollow_value v;
            int rc = hollow_object_value(&v, t, o, field);
            ck_assert(rc == 0 || rc == HOLLOW_NULL);
            keys[n].null = v.is_null;
            keys[n].bits = v.is_null ? 0 : value_bits(&v);
            keys[n].o = o;
            n++;
        }
        ck_assert_uint_eq(n, BIG_N);
        qsort(keys, n, sizeof *keys, cmp_big_key);
        size_t groups = 0, distinct = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && keys[j].null == keys[i].null &&
                   keys[j].bits == keys[i].bits)
                j++;
            distinct++;
            groups += j - i > 1;
            for (size_t k = i; k < j; k++) {
                hollow_value v;
                int rc = hollow_object_value(&v, t, keys[k].o, field);
                ck_assert(rc == 0 || rc == HOLLOW_NULL);
                int got = hollow_index_find(ix, &v, 1);
                ck_assert_msg(got == keys[i].o,
                              "%s of ordinal %d: found %d, want %d", FIELDS[f],
                              (int)keys[k].o, got, (int)keys[i].o);
            }
            i = j;
        }
        ck_assert_uint_eq(hollow_index_key_count(ix), distinct);
        ck_assert_uint_eq(hollow_index_duplicate_count(ix), groups);
        /* ordered by smallest ordinal, each group ascending and whole */
        hollow_ordinal prev = -1;
        size_t members = 0;
        for (size_t g = 0; g < groups; g++) {
            hollow_index_matches m;
            HT_OK(hollow_index_duplicate_at(&m, ix, g));
            ck_assert_int_gt(m.ordinals[0], prev);
            prev = m.ordinals[0];
            members += m.count;
            for (size_t i = 1; i < m.count; i++)
                ck_assert_int_lt(m.ordinals[i - 1], m.ordinals[i]);
        }
        size_t want_members = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && keys[j].null == keys[i].null &&
                   keys[j].bits == keys[i].bits)
                j++;
            want_members += j - i > 1 ? j - i : 0;
            i = j;
        }
        ck_assert_uint_eq(members, want_members);
        /* the same table on 1, 2 and 3 threads */
        size_t e1, e2, e3;
        uint64_t *a = raw_table(ix, 1, &e1);
        uint64_t *b = raw_table(ix, 2, &e2);
        uint64_t *c = raw_table(ix, 3, &e3);
        size_t bytes = (size_t)ix->cap * 2 * sizeof *a;
        ck_assert(memcmp(a, b, bytes) == 0 && memcmp(a, c, bytes) == 0);
        ck_assert_uint_eq(e1, e2);
        ck_assert_uint_eq(e1, e3);
        ck_assert_uint_eq(e1, BIG_N - distinct);
        hollow_free(a);
        hollow_free(b);
        hollow_free(c);
        hollow_index_release(ix);
    }
    free(keys);
    hollow_read_state_release(rs);
}
END_TEST

static hollow_read_state *one_state(uint64_t seed, chain *c)
{
    uint64_t rng = seed;
    make_chain(c, &rng, 60, 2);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, c->snap[0].p, c->snap[0].len, NULL));
    return rs;
}

static void expect_error(int rc, int code, const char *needle)
{
    ck_assert_int_eq(rc, code);
    if (needle != NULL)
        ck_assert_msg(strstr(hollow_error_last()->message, needle) != NULL,
                      "message \"%s\" lacks \"%s\"",
                      hollow_error_last()->message, needle);
}

START_TEST(index_api_errors)
{
    chain c;
    hollow_read_state *rs = one_state(5, &c);
    hollow_index *ix = (hollow_index *)&c; /* must be reset to NULL */
    const char *p1[] = {"nope"};
    expect_error(hollow_index_primary_key_new(&ix, rs, "Nope", NULL, 0),
                 HOLLOW_ENOTFOUND, "Nope");
    ck_assert_ptr_null(ix);
    expect_error(hollow_index_primary_key_new(&ix, rs, "Str", NULL, 0),
                 HOLLOW_EINVAL, "no primary key");
    expect_error(hollow_index_hash_new(&ix, rs, "ListOfStr", p1, 1),
                 HOLLOW_EINVAL, "OBJECT");
    expect_error(hollow_index_unique_key_new(&ix, rs, "Item", NULL, 0),
                 HOLLOW_EINVAL, NULL);
    expect_error(hollow_index_unique_key_new(&ix, rs, "Item", p1, 1),
                 HOLLOW_EINVAL, "nope");
    const char *p2[] = {"words.element"};
    expect_error(hollow_index_unique_key_new(&ix, rs, "Item", p2, 1),
                 HOLLOW_EINVAL, "hash index");
    const char *p3[] = {"words"};
    expect_error(hollow_index_hash_new(&ix, rs, "Item", p3, 1), HOLLOW_EINVAL,
                 "words");
    const char *p4[] = {"words.value"};
    expect_error(hollow_index_hash_new(&ix, rs, "Item", p4, 1), HOLLOW_EINVAL,
                 "'element'");
    const char *p5[] = {"attrs.element"};
    expect_error(hollow_index_hash_new(&ix, rs, "Item", p5, 1), HOLLOW_EINVAL,
                 "'key' or 'value'");
    const char *p6[] = {"tags.element"}; /* Tag: PK(name) expands */
    HT_OK(hollow_index_hash_new(&ix, rs, "Item", p6, 1));
    ck_assert_int_eq(hollow_index_path_type(ix, 0), HOLLOW_FIELD_STRING);
    hollow_index_release(ix);
    const char *p7[] = {"id.x"};
    expect_error(hollow_index_unique_key_new(&ix, rs, "Item", p7, 1),
                 HOLLOW_EINVAL, "id");
    const char *p8[] = {"a..b"};
    expect_error(hollow_index_unique_key_new(&ix, rs, "Item", p8, 1),
                 HOLLOW_EINVAL, "empty");
    const char *many[HOLLOW_INDEX_MAX_PATHS + 1];
    for (size_t i = 0; i <= HOLLOW_INDEX_MAX_PATHS; i++)
        many[i] = "id";
    expect_error(hollow_index_unique_key_new(&ix, rs, "Item", many,
                                             HOLLOW_INDEX_MAX_PATHS + 1),
                 HOLLOW_EINVAL, "at most");

    /* lookups of the wrong shape */
    HT_OK(hollow_index_primary_key_new(&ix, rs, "Item", NULL, 0));
    ck_assert_int_eq(hollow_index_kind_of(ix), HOLLOW_INDEX_PRIMARY_KEY);
    ck_assert_str_eq(hollow_index_type_name(ix), "Item");
    ck_assert_uint_eq(hollow_index_path_count(ix), 1);
    ck_assert_str_eq(hollow_index_path(ix, 0), "id");
    ck_assert_ptr_null(hollow_index_path(ix, 1));
    ck_assert_int_eq(hollow_index_path_type(ix, 0), HOLLOW_FIELD_INT);
    hollow_value k[2] = {hollow_key_long(1), hollow_key_int(1)};
    expect_error(hollow_index_find(ix, k, 1), HOLLOW_EINVAL, "INT");
    expect_error(hollow_index_find(ix, k, 2), HOLLOW_EINVAL, "1 paths");
    hollow_index_matches m;
    expect_error(hollow_index_match(&m, ix, k + 1, 1), HOLLOW_EINVAL,
                 "not a hash index");
    /* a miss leaves the last error alone */
    hollow_error_clear();
    hollow_value miss = hollow_key_int(-123456);
    ck_assert_int_eq(hollow_index_find(ix, &miss, 1), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_error_last()->code, 0);
    /* deriving for the same state shares the index */
    hollow_index *same = NULL;
    HT_OK(hollow_index_derive(&same, ix, rs));
    ck_assert_ptr_eq(same, ix);
    hollow_index_release(same);
    hollow_index_release(ix);

    const char *ps[] = {"s"};
    HT_OK(hollow_index_unique_key_new(&ix, rs, "Item", ps, 1));
    hollow_value bad = hollow_key_string("\xff\xfe", 2);
    expect_error(hollow_index_find(ix, &bad, 1), HOLLOW_EINVAL, "UTF-8");
    expect_error(hollow_index_match(&m, ix, &bad, 1), HOLLOW_EINVAL, NULL);
    hollow_index_release(ix);

    HT_OK(hollow_index_hash_new(&ix, rs, "Item", p2, 1));
    expect_error(hollow_index_find(ix, &bad, 1), HOLLOW_EINVAL,
                 "not a primary or unique key index");
    expect_error(hollow_index_match(&m, ix, &bad, 1), HOLLOW_EINVAL, "UTF-8");
    hollow_value absent = hollow_key_string("zzz-absent", 10);
    ck_assert_int_eq(hollow_index_match(&m, ix, &absent, 1), 0);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_ptr_null(m.ordinals);
    ck_assert_uint_eq(hollow_index_duplicate_count(ix), 0);
    hollow_index_release(ix);

    hollow_index_release(NULL);
    hollow_index_free(NULL);
    ck_assert_int_eq(hollow_index_derive(&ix, NULL, rs), HOLLOW_EINVAL);
    hollow_read_state_release(rs);
    chain_free(&c);
}
END_TEST

/* an index keeps its state alive and answers for it after newer states */
START_TEST(index_outlives_state_reference)
{
    chain c;
    uint64_t rng = 11;
    make_chain(&c, &rng, 80, 3);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, c.snap[0].p, c.snap[0].len, NULL));
    hollow_index *ix = NULL;
    HT_OK(hollow_index_primary_key_new(&ix, rs, "Item", NULL, 0));
    expect x;
    brute_def(&x, &DEFS[0], rs);
    hollow_read_state *next = NULL;
    HT_OK(hollow_read_state_apply_delta(&next, rs, c.delta[1].p, c.delta[1].len));
    hollow_read_state_release(rs); /* the index still holds it */
    hollow_index *ix2 = NULL;
    HT_OK(hollow_index_derive(&ix2, ix, next));
    iref r = {ix, "old index after derive"};
    check_pk(&r, &x, &rng);
    expect_free(&x);
    brute_def(&x, &DEFS[0], next);
    iref r2 = {ix2, "new index"};
    check_pk(&r2, &x, &rng);
    expect_free(&x);
    hollow_index_release(ix);
    hollow_index_release(ix2);
    hollow_read_state_release(next);
    chain_free(&c);
}
END_TEST

/* strings: every pool string, UTF-8 and stored probes, long ones */
START_TEST(index_string_keys)
{
    chain c;
    hollow_read_state *rs = one_state(21, &c);
    const char *ps[] = {"s"};
    hollow_index *ix = NULL;
    HT_OK(hollow_index_unique_key_new(&ix, rs, "Item", ps, 1));
    const hollow_type *item = hollow_read_state_type(rs, "Item");
    size_t sf = (size_t)hollow_schema_field_index(hollow_type_schema(item), "s");
    int found = 0;
    for (int i = 0; i < NSTR; i++) {
        const char *s = str_at(i);
        hollow_value k = hollow_key_string(s, strlen(s));
        int o = hollow_index_find(ix, &k, 1);
        if (o < 0) {
            ck_assert_int_eq(o, HOLLOW_ENOTFOUND);
            continue;
        }
        found++;
        hollow_bytes raw;
        HT_OK(hollow_object_string_raw(&raw, item, o, sf));
        char buf[1024];
        hollow_str got;
        HT_OK(hollow_object_string(&got, buf, sizeof buf, item, o, sf));
        ck_assert_uint_eq(got.len, strlen(s));
        ck_assert(memcmp(got.ptr, s, got.len) == 0);
        hollow_value st;
        st.type = HOLLOW_FIELD_STRING;
        st.is_null = false;
        st.u.bytes = raw;
        ck_assert_int_eq(hollow_index_find_stored(ix, &st, 1), o);
        /* one more or one less character is another key */
        char longer[700];
        snprintf(longer, sizeof longer, "%s.", s);
        k = hollow_key_string(longer, strlen(longer));
        ck_assert_int_eq(hollow_index_find(ix, &k, 1), HOLLOW_ENOTFOUND);
    }
    ck_assert_int_gt(found, 5);
    hollow_index_release(ix);
    hollow_read_state_release(rs);
    chain_free(&c);
}
END_TEST

/* ================================================================ OOM */

/* fails once `oom_left` more allocations have been made (never if < 0) */
static long oom_left = -1;

static void *oom_malloc(void *opaque, size_t n)
{
    (void)opaque;
    if (oom_left == 0)
        return NULL;
    if (oom_left > 0)
        oom_left--;
    return malloc(n ? n : 1);
}

static void *oom_realloc(void *opaque, void *p, size_t n)
{
    (void)opaque;
    if (oom_left == 0)
        return NULL;
    if (oom_left > 0)
        oom_left--;
    return realloc(p, n ? n : 1);
}

static void oom_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

/* build on a, derive for b (a patch), for a few kinds of index */
static int oom_exercise(const hollow_read_state *a, const hollow_read_state *b)
{
    static const size_t defs[] = {0, 5, 9, 13, 16, 19, 24};
    int rc = 0;
    for (size_t i = 0; i < sizeof defs / sizeof *defs && rc == 0; i++) {
        hollow_index *x = NULL, *y = NULL;
        rc = build_def(&x, &DEFS[defs[i]], a);
        if (rc == 0)
            rc = hollow_index_derive(&y, x, b);
        hollow_index_release(x);
        hollow_index_release(y);
    }
    return rc;
}

/* Fail each allocation in turn: a clean HOLLOW_ENOMEM every time (and,
 * under ASan, no leak). */
START_TEST(index_oom_every_allocation)
{
    hollow_allocator al = {oom_malloc, oom_realloc, oom_free, NULL};
    hollow_set_allocator(&al);
    chain c;
    uint64_t rng = 31;
    make_chain(&c, &rng, 24, 2);
    hollow_read_state *a = NULL, *b = NULL;
    HT_OK(hollow_read_state_from_snapshot(&a, c.snap[0].p, c.snap[0].len, NULL));
    HT_OK(hollow_read_state_apply_delta(&b, a, c.delta[1].p, c.delta[1].len));
    long n;
    for (n = 0;; n++) {
        oom_left = n;
        int rc = oom_exercise(a, b);
        if (rc == HOLLOW_OK)
            break;
        ck_assert_msg(rc == HOLLOW_ENOMEM, "allocation %ld: rc %d (%s)", n, rc,
                      hollow_error_last()->message);
        ck_assert_str_eq(hollow_error_last()->message, "out of memory");
    }
    oom_left = -1;
    fprintf(stderr, "index_oom_every_allocation: %ld allocations\n", n);
    ck_assert_int_gt(n, 50);
    hollow_read_state_release(a);
    hollow_read_state_release(b);
    chain_free(&c);
    hollow_set_allocator(NULL);
}
END_TEST

static Suite *index_suite(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, index_api_errors);
    tcase_add_test(tc, index_outlives_state_reference);
    tcase_add_test(tc, index_string_keys);
    tcase_add_test(tc, index_oom_every_allocation);
    suite_add_tcase(s, tc);
    tc = tcase_create("property");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, index_random_chains);
    tcase_add_test(tc, index_derive_patches_deltas);
    tcase_add_test(tc, index_fixed_large);
    suite_add_tcase(s, tc);
    tc = tcase_create("golden");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, index_golden_snapshots);
    tcase_add_test(tc, index_golden_chains);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(index_suite()); }
