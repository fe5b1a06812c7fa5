/* Seeded random Hollow states and their model (see randstate.h). */
#include "randstate.h"

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hollow/dump.h"
#include "testhelp.h"

/* ------------------------------------------------------------ utilities */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    ck_assert_msg(p != NULL, "out of memory");
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    ck_assert_msg(p != NULL, "out of memory");
    return p;
}

static void *xdup(const void *p, size_t n)
{
    void *q = xcalloc(n ? n : 1, 1);
    if (n > 0)
        memcpy(q, p, n);
    return q;
}

static char *xstrdup(const char *s) { return xdup(s, strlen(s) + 1); }

static char *xprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ck_assert(n >= 0);
    char *s = xcalloc((size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

uint64_t rs_rand(uint64_t *rng) { return ht_rand(rng); }

uint32_t rs_below(uint64_t *rng, uint32_t n)
{
    return n <= 1 ? 0 : (uint32_t)(rs_rand(rng) % n);
}

bool rs_chance(uint64_t *rng, int pct) { return (int)rs_below(rng, 100) < pct; }

void rs_buf_put(rs_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->len + n)
            nc *= 2;
        b->p = xrealloc(b->p, nc);
        b->cap = nc;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void rs_buf_free(rs_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int rs_buf_sink(void *payload, const void *data, size_t len)
{
    rs_buf_put(payload, data, len);
    return 0;
}

int rs_buf_text_sink(void *payload, const char *data, size_t len)
{
    rs_buf_put(payload, data, len);
    return 0;
}

size_t rs_wtf8(char *out, const uint16_t *u, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = u[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 &&
            u[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00u);
            i++;
        }
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    return o;
}

static const char *field_type_word(hollow_field_type t)
{
    static const char *const w[] = {"int",     "long",   "float", "double",
                                    "boolean", "string", "bytes", "ref"};
    return (unsigned)t < 8 ? w[t] : "?";
}

static const char *kind_word(hollow_schema_kind k)
{
    switch (k) {
    case HOLLOW_SCHEMA_OBJECT: return "OBJECT";
    case HOLLOW_SCHEMA_LIST: return "LIST";
    case HOLLOW_SCHEMA_SET: return "SET";
    case HOLLOW_SCHEMA_MAP: return "MAP";
    }
    return "?";
}

/* --------------------------------------------------------------- schema */

/* name prefixes: ASCII, Latin-1, Greek, CJK, a fullwidth letter (U+FF21)
 * and a supplementary character (U+1D538): U+FF21 sorts before U+1D538 in
 * UTF-8 byte order and after it in UTF-16 order (Java's sorter, §3.8) */
static const char *const PREFIX[] = {"T",
                                     "Movie",
                                     "_x",
                                     "a",
                                     "Z",
                                     "\xc3\xa9t\xc3\xa9",
                                     "\xce\xa9",
                                     "\xe6\x97\xa5",
                                     "\xef\xbc\xa1",
                                     "\xf0\x9d\x94\xb8",
                                     "b-c",
                                     "\xc2\xaa"};
#define NPREFIX (sizeof PREFIX / sizeof *PREFIX)

static const hollow_field_type PRIMS[] = {
    HOLLOW_FIELD_INT,    HOLLOW_FIELD_LONG,    HOLLOW_FIELD_FLOAT,
    HOLLOW_FIELD_DOUBLE, HOLLOW_FIELD_BOOLEAN, HOLLOW_FIELD_STRING,
    HOLLOW_FIELD_BYTES};

typedef struct pathvec {
    rs_path *v;
    size_t n, cap;
} pathvec;

static void path_free(rs_path *p)
{
    free(p->text);
    free(p->hops);
    memset(p, 0, sizeof *p);
}

static void path_copy(rs_path *dst, const rs_path *src)
{
    dst->text = xstrdup(src->text);
    dst->hops = xdup(src->hops, src->nhops * sizeof *src->hops);
    dst->nhops = src->nhops;
    dst->final_type = src->final_type;
}

static void pathvec_push(pathvec *pv, const char *text, const rs_hop *hops,
                         size_t nhops, hollow_field_type ft)
{
    if (pv->n == pv->cap) {
        pv->cap = pv->cap ? 2 * pv->cap : 16;
        pv->v = xrealloc(pv->v, pv->cap * sizeof *pv->v);
    }
    rs_path *p = &pv->v[pv->n++];
    p->text = xstrdup(text);
    p->hops = xdup(hops, nhops * sizeof *hops);
    p->nhops = nhops;
    p->final_type = ft;
}

static void pathvec_free(pathvec *pv)
{
    for (size_t i = 0; i < pv->n; i++)
        path_free(&pv->v[i]);
    free(pv->v);
}

/* a REFERENCE field that may be on a key path: to an earlier type */
static bool forward_ref(const rs_field *f, int owner)
{
    return f->type == HOLLOW_FIELD_REFERENCE && f->ref < owner;
}

/*
 * Auto-expansion (§4.2) of a path ending on field `f` of type `owner`:
 * appends hops to hops[*n]; false if the path cannot be expanded. Written
 * from the spec, independently of the library's resolver.
 */
static bool expand(const rs_schema *s, int owner, const rs_field *f,
                   rs_hop *hops, size_t *n, size_t cap, hollow_field_type *ft)
{
    for (int steps = 0; steps < 64; steps++) {
        if (!forward_ref(f, owner))
            return false;
        const rs_type *t = &s->types[f->ref];
        if (t->kind != HOLLOW_SCHEMA_OBJECT)
            return false;
        if (t->nfields == 1) {
            if (*n >= cap)
                return false;
            hops[(*n)++] = (rs_hop){f->ref, 0};
            if (t->fields[0].type != HOLLOW_FIELD_REFERENCE) {
                *ft = t->fields[0].type;
                return true;
            }
            owner = f->ref;
            f = &t->fields[0];
            continue;
        }
        if (t->nkeys == 1) {
            const rs_path *k = &t->keys[0];
            if (*n + k->nhops > cap)
                return false;
            memcpy(hops + *n, k->hops, k->nhops * sizeof *hops);
            *n += k->nhops;
            *ft = k->final_type;
            return true;
        }
        return false;
    }
    return false;
}

#define MAX_HOPS 24

/* every key path candidate starting at OBJECT type `t`, up to `depth`
 * references deep */
static void candidates(const rs_schema *s, int t, const char *prefix,
                       rs_hop *hops, size_t nhops, int depth, pathvec *out)
{
    const rs_type *ty = &s->types[t];
    for (size_t i = 0; i < ty->nfields && out->n < 200; i++) {
        const rs_field *f = &ty->fields[i];
        char *text = xprintf("%s%s", prefix, f->name);
        hops[nhops] = (rs_hop){t, (int)i};
        if (f->type != HOLLOW_FIELD_REFERENCE) {
            pathvec_push(out, text, hops, nhops + 1, f->type);
        } else if (forward_ref(f, t)) {
            char *bang = xprintf("%s!", text);
            pathvec_push(out, bang, hops, nhops + 1, HOLLOW_FIELD_REFERENCE);
            free(bang);
            rs_hop ex[MAX_HOPS];
            size_t n = nhops + 1;
            hollow_field_type ft;
            memcpy(ex, hops, n * sizeof *ex);
            if (expand(s, t, f, ex, &n, MAX_HOPS, &ft))
                pathvec_push(out, text, ex, n, ft);
            if (depth > 0 && s->types[f->ref].kind == HOLLOW_SCHEMA_OBJECT &&
                nhops + 2 < MAX_HOPS) {
                char *p2 = xprintf("%s.", text);
                candidates(s, f->ref, p2, hops, nhops + 1, depth - 1, out);
                free(p2);
            }
        }
        free(text);
    }
}

/* choose 1..max distinct key paths of OBJECT type `t`; 0 if none */
static size_t choose_keys(const rs_schema *s, int t, uint64_t *rng, size_t max,
                          bool allow_bang, rs_path **out)
{
    pathvec pv = {0};
    rs_hop hops[MAX_HOPS];
    candidates(s, t, "", hops, 0, 2, &pv);
    size_t want = 1 + rs_below(rng, (uint32_t)max);
    rs_path *keys = xcalloc(want, sizeof *keys);
    size_t n = 0;
    for (size_t tries = 0; n < want && tries < 20 && pv.n > 0; tries++) {
        const rs_path *c = &pv.v[rs_below(rng, (uint32_t)pv.n)];
        bool bang = c->text[strlen(c->text) - 1] == '!';
        if (bang && !allow_bang)
            continue;
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            dup |= strcmp(keys[i].text, c->text) == 0;
        if (!dup)
            path_copy(&keys[n++], c);
    }
    pathvec_free(&pv);
    if (n == 0) {
        free(keys);
        keys = NULL;
    }
    *out = keys;
    return n;
}

/* a type whose reference auto-expands: one field, or a one-path key */
static bool expandable(const rs_schema *s, int t)
{
    const rs_type *ty = &s->types[t];
    if (ty->kind != HOLLOW_SCHEMA_OBJECT)
        return false;
    rs_field probe = {.type = HOLLOW_FIELD_REFERENCE, .ref = t};
    rs_hop hops[MAX_HOPS];
    size_t n = 0;
    hollow_field_type ft;
    return expand(s, t + 1, &probe, hops, &n, MAX_HOPS, &ft);
}

static int random_earlier(uint64_t *rng, int t, const rs_schema *s,
                          int want_kind, bool want_collection)
{
    /* a few tries for a preferred kind, then anything */
    for (int i = 0; i < 12 && t > 0; i++) {
        int c = (int)rs_below(rng, (uint32_t)t);
        hollow_schema_kind k = s->types[c].kind;
        if (want_kind >= 0 && (int)k != want_kind)
            continue;
        if (want_collection && k == HOLLOW_SCHEMA_OBJECT)
            continue;
        if (want_kind == HOLLOW_SCHEMA_OBJECT && s->types[c].nfields == 0)
            continue;
        return c;
    }
    return t > 0 ? (int)rs_below(rng, (uint32_t)t) : -1;
}

static void add_field(rs_type *ty, hollow_field_type ft, int ref, uint64_t *rng)
{
    rs_field *f = &ty->fields[ty->nfields];
    f->name =
        xprintf("%sf%u", PREFIX[rs_below(rng, NPREFIX)], (unsigned)ty->nfields);
    f->type = ft;
    f->ref = ref;
    int r = (int)rs_below(rng, 100);
    f->null_pct = r < 30 ? 0 : r < 80 ? 10 : r < 97 ? 40 : 100;
    f->narrow = rs_chance(rng, 30);
    ty->nfields++;
}

static hollow_field_type random_prim(uint64_t *rng)
{
    return PRIMS[rs_below(rng, sizeof PRIMS / sizeof *PRIMS)];
}

/* the kinds of the types: a fixed start that covers every feature in
 * every state, then random ones */
enum { K_ALLPRIM = 10, K_SINGLE, K_REFS, K_KEYED_SET, K_KEYED_MAP, K_NESTED };

static int plan_kind(uint64_t *rng, size_t t)
{
    static const int fixed[] = {K_ALLPRIM, K_SINGLE,    K_REFS,     K_SINGLE,
                                K_NESTED,  K_KEYED_SET, K_KEYED_MAP};
    if (t < sizeof fixed / sizeof *fixed)
        return fixed[t];
    int r = (int)rs_below(rng, 100);
    return r < 35   ? HOLLOW_SCHEMA_OBJECT
           : r < 45 ? K_SINGLE
           : r < 60 ? HOLLOW_SCHEMA_LIST
           : r < 72 ? HOLLOW_SCHEMA_SET
           : r < 80 ? K_KEYED_SET
           : r < 90 ? HOLLOW_SCHEMA_MAP
                    : K_KEYED_MAP;
}

static void gen_object(rs_schema *s, int t, int plan, uint64_t *rng)
{
    rs_type *ty = &s->types[t];
    int n = (int)s->ntypes;
    ty->kind = HOLLOW_SCHEMA_OBJECT;
    ty->fields = xcalloc(16, sizeof *ty->fields);
    if (plan == K_SINGLE) {
        /* a reference to an expandable type, or one value field */
        int target = -1;
        for (int i = 0; i < 8 && t > 0 && rs_chance(rng, 60); i++) {
            int c = (int)rs_below(rng, (uint32_t)t);
            if (expandable(s, c)) {
                target = c;
                break;
            }
        }
        if (target >= 0)
            add_field(ty, HOLLOW_FIELD_REFERENCE, target, rng);
        else
            add_field(ty, random_prim(rng), -1, rng);
        if (ty->fields[0].null_pct > 10) /* keep some distinct records */
            ty->fields[0].null_pct = 10;
    } else {
        size_t nf;
        if (plan == K_ALLPRIM) {
            hollow_field_type order[7];
            memcpy(order, PRIMS, sizeof order);
            for (size_t i = 7; i > 1; i--) {
                size_t j = rs_below(rng, (uint32_t)i);
                hollow_field_type x = order[i - 1];
                order[i - 1] = order[j];
                order[j] = x;
            }
            for (size_t i = 0; i < 7; i++)
                add_field(ty, order[i], -1, rng);
            nf = 7 + rs_below(rng, 3);
        } else {
            int r = (int)rs_below(rng, 100);
            nf = r < 5 ? 0 : r < 10 ? 1 : 2 + rs_below(rng, 7);
        }
        while (ty->nfields < nf) {
            bool ref = t > 0 && rs_chance(rng, plan == K_REFS ? 70 : 35);
            if (!ref) {
                add_field(ty, random_prim(rng), -1, rng);
                continue;
            }
            int r = (int)rs_below(rng, 100);
            int target;
            if (r < 10)
                target = t; /* self reference */
            else if (r < 16 && t + 1 < n)
                target = t + 1 +
                         (int)rs_below(
                             rng, (uint32_t)(n - t - 1)); /* forward: null */
            else
                target = random_earlier(rng, t, s, -1, false);
            add_field(ty, HOLLOW_FIELD_REFERENCE, target, rng);
        }
    }
    /* primary key: metadata, but a one-path key makes the type expandable */
    if (ty->nfields > 0 && rs_chance(rng, plan == K_REFS ? 60 : 30))
        ty->nkeys = choose_keys(s, t, rng, rs_chance(rng, 70) ? 1 : 3,
                                rs_chance(rng, 20), &ty->keys);
}

static void mark_key_nonnull(rs_schema *s, const rs_path *p)
{
    for (size_t i = 0; i < p->nhops; i++) {
        rs_field *f = &s->types[p->hops[i].type].fields[p->hops[i].field];
        /* every REFERENCE hop (also a final '!') and a final STRING/BYTES */
        if (f->type == HOLLOW_FIELD_REFERENCE ||
            (i + 1 == p->nhops && (f->type == HOLLOW_FIELD_STRING ||
                                   f->type == HOLLOW_FIELD_BYTES))) {
            f->nonnull = true;
            f->null_pct = 0;
        }
    }
}

static void gen_collection(rs_schema *s, int t, int plan, uint64_t *rng)
{
    rs_type *ty = &s->types[t];
    bool keyed = plan == K_KEYED_SET || plan == K_KEYED_MAP;
    ty->kind = plan == K_KEYED_SET   ? HOLLOW_SCHEMA_SET
               : plan == K_KEYED_MAP ? HOLLOW_SCHEMA_MAP
               : plan == K_NESTED    ? HOLLOW_SCHEMA_LIST
                                     : (hollow_schema_kind)plan;
    ty->value = -1;
    if (keyed) {
        ty->elem = random_earlier(rng, t, s, HOLLOW_SCHEMA_OBJECT, false);
    } else if (plan == K_NESTED) {
        /* a collection of collections */
        ty->elem = random_earlier(rng, t, s, -1, true);
        ty->kind = (hollow_schema_kind)(1 + rs_below(rng, 3));
    } else if (rs_chance(rng, 6) && ty->kind != HOLLOW_SCHEMA_MAP) {
        ty->elem = t; /* a list of lists of its own type */
    } else {
        ty->elem = random_earlier(rng, t, s, -1, rs_chance(rng, 25));
    }
    if (ty->kind == HOLLOW_SCHEMA_MAP)
        ty->value = rs_chance(rng, 5)
                        ? t
                        : random_earlier(rng, t, s, -1, rs_chance(rng, 30));
    if (ty->kind != HOLLOW_SCHEMA_LIST && ty->elem != t &&
        s->types[ty->elem].kind == HOLLOW_SCHEMA_OBJECT &&
        s->types[ty->elem].nfields > 0 && (keyed || rs_chance(rng, 15))) {
        ty->nkeys = choose_keys(s, ty->elem, rng, 3, true, &ty->keys);
        for (size_t i = 0; i < ty->nkeys; i++)
            mark_key_nonnull(s, &ty->keys[i]);
    }
}

rs_schema *rs_schema_gen(uint64_t *rng, const rs_schema_opts *o)
{
    rs_schema *s = xcalloc(1, sizeof *s);
    size_t n = o->min_types +
               rs_below(rng, (uint32_t)(o->max_types - o->min_types + 1));
    s->ntypes = n;
    s->types = xcalloc(n, sizeof *s->types);
    int *plan = xcalloc(n, sizeof *plan);
    for (size_t t = 0; t < n; t++) {
        plan[t] = plan_kind(rng, t);
        const char *letter =
            plan[t] == HOLLOW_SCHEMA_LIST || plan[t] == K_NESTED     ? "L"
            : plan[t] == HOLLOW_SCHEMA_SET || plan[t] == K_KEYED_SET ? "S"
            : plan[t] == HOLLOW_SCHEMA_MAP || plan[t] == K_KEYED_MAP ? "M"
                                                                     : "O";
        s->types[t].name = xprintf("%s%s%u", PREFIX[rs_below(rng, NPREFIX)],
                                   letter, (unsigned)t);
        s->types[t].elem = -1;
        s->types[t].value = -1;
    }
    for (size_t t = 0; t < n; t++) {
        int p = plan[t];
        if (p == HOLLOW_SCHEMA_OBJECT || p == K_ALLPRIM || p == K_SINGLE ||
            p == K_REFS)
            gen_object(s, (int)t, p, rng);
        else
            gen_collection(s, (int)t, p, rng);
    }
    free(plan);

    /* records, shards */
    switch (o->target_mode) {
    case 0: s->target_shard_size = 0; break;
    case 1: s->target_shard_size = UINT64_MAX; break;
    default: s->target_shard_size = (uint64_t)64 << rs_below(rng, 8); break;
    }
    for (size_t t = 0; t < n; t++) {
        rs_type *ty = &s->types[t];
        int r = (int)rs_below(rng, 100);
        size_t max = o->max_records;
        ty->dup_pct = (int)rs_below(rng, 30);
        ty->count = rs_chance(rng, t == 0 ? 0 : o->empty_pct) ? 0
                    : r < 35 && t > 0                         ? rs_below(rng, 9)
                    : r < 70
                        ? rs_below(rng, (uint32_t)(max < 60 ? max : 60) + 1)
                        : rs_below(rng, (uint32_t)max + 1);
        if (t == 0 && o->first_records > 0) {
            ty->count = o->first_records;
            ty->dup_pct = (int)rs_below(rng, 5);
        } else if (t == 0) { /* the type with every field type: many records */
            ty->count = max / 4 + rs_below(rng, (uint32_t)(max / 2 + 1));
        }
        r = (int)rs_below(rng, 100);
        ty->max_size = r < 55 ? 3 : r < 85 ? 8 : r < 98 ? 40 : 300;
        bool pin =
            o->shard_mode == 0 || (o->shard_mode == 2 && rs_chance(rng, 50));
        if (pin) {
            if (rs_chance(rng, 30)) { /* more shards than records */
                uint32_t k = 1;
                while (k <= ty->count && k < 64)
                    k *= 2;
                ty->shards = k;
            } else {
                ty->shards = 1u << rs_below(rng, 7);
            }
        }
    }
    /* a non-null reference needs a record to point to, also in a later
     * cycle where the referencing type may get records (rs_state_evolve) */
    for (size_t t = 0; t < n; t++) {
        rs_type *ty = &s->types[t];
        for (size_t i = 0; i < ty->nfields; i++)
            if (ty->fields[i].nonnull &&
                ty->fields[i].type == HOLLOW_FIELD_REFERENCE)
                s->types[ty->fields[i].ref].min_count = 1;
    }
    for (size_t t = 0; t < n; t++)
        if (s->types[t].count < s->types[t].min_count)
            s->types[t].count = s->types[t].min_count;

    s->list_order = xcalloc(n, sizeof *s->list_order);
    for (size_t i = 0; i < n; i++)
        s->list_order[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = rs_below(rng, (uint32_t)i);
        uint32_t x = s->list_order[i - 1];
        s->list_order[i - 1] = s->list_order[j];
        s->list_order[j] = x;
    }
    return s;
}

void rs_schema_free(rs_schema *s)
{
    if (s == NULL)
        return;
    for (size_t t = 0; t < s->ntypes; t++) {
        rs_type *ty = &s->types[t];
        free(ty->name);
        for (size_t i = 0; i < ty->nfields; i++)
            free(ty->fields[i].name);
        free(ty->fields);
        for (size_t i = 0; i < ty->nkeys; i++)
            path_free(&ty->keys[i]);
        free(ty->keys);
    }
    free(s->types);
    free(s->list_order);
    free(s);
}

hollow_schema_list *rs_schema_list(const rs_schema *s)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_list_new(&l));
    for (size_t i = 0; i < s->ntypes; i++) {
        const rs_type *ty = &s->types[s->list_order[i]];
        hollow_schema *sc = NULL;
        switch (ty->kind) {
        case HOLLOW_SCHEMA_OBJECT:
            HT_OK(hollow_schema_object_new(&sc, ty->name));
            for (size_t f = 0; f < ty->nfields; f++) {
                const rs_field *fd = &ty->fields[f];
                HT_OK(hollow_schema_add_field(sc, fd->name, fd->type,
                                              fd->type == HOLLOW_FIELD_REFERENCE
                                                  ? s->types[fd->ref].name
                                                  : NULL));
            }
            break;
        case HOLLOW_SCHEMA_LIST:
            HT_OK(hollow_schema_list_type_new(&sc, ty->name,
                                              s->types[ty->elem].name));
            break;
        case HOLLOW_SCHEMA_SET:
            HT_OK(hollow_schema_set_type_new(&sc, ty->name,
                                             s->types[ty->elem].name));
            break;
        case HOLLOW_SCHEMA_MAP:
            HT_OK(hollow_schema_map_type_new(&sc, ty->name,
                                             s->types[ty->elem].name,
                                             s->types[ty->value].name));
            break;
        }
        if (ty->nkeys > 0) {
            const char *paths[8];
            ck_assert(ty->nkeys <= 8);
            for (size_t k = 0; k < ty->nkeys; k++)
                paths[k] = ty->keys[k].text;
            HT_OK(hollow_schema_set_key(sc, paths, ty->nkeys));
        }
        HT_OK(hollow_schema_list_add(l, sc));
    }
    HT_OK(hollow_schema_list_validate(l));
    return l;
}

hollow_write_state *rs_write_state_new(const rs_schema *s)
{
    hollow_schema_list *l = rs_schema_list(s);
    hollow_write_options o = HOLLOW_WRITE_OPTIONS_INIT;
    o.target_shard_size = s->target_shard_size;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &o));
    hollow_schema_list_free(l);
    for (size_t t = 0; t < s->ntypes; t++)
        if (s->types[t].shards != 0)
            HT_OK(hollow_write_state_set_shard_count(ws, s->types[t].name,
                                                     s->types[t].shards));
    return ws;
}

void rs_schema_describe(const rs_schema *s, FILE *out)
{
    fprintf(out, "target shard size %llu\n",
            (unsigned long long)s->target_shard_size);
    for (size_t t = 0; t < s->ntypes; t++) {
        const rs_type *ty = &s->types[t];
        fprintf(out,
                "[%zu] %s %s: %zu records, shards %u, max size %u, dup %d%%\n",
                t, kind_word(ty->kind), ty->name, ty->count, ty->shards,
                ty->max_size, ty->dup_pct);
        for (size_t f = 0; f < ty->nfields; f++) {
            const rs_field *fd = &ty->fields[f];
            fprintf(out, "    %s %s%s%s null %d%%%s%s\n",
                    field_type_word(fd->type), fd->name,
                    fd->type == HOLLOW_FIELD_REFERENCE ? " -> " : "",
                    fd->type == HOLLOW_FIELD_REFERENCE ? s->types[fd->ref].name
                                                       : "",
                    fd->null_pct, fd->nonnull ? " nonnull" : "",
                    fd->narrow ? " narrow" : "");
        }
        if (ty->elem >= 0)
            fprintf(out, "    of %s%s%s\n", s->types[ty->elem].name,
                    ty->value >= 0 ? " -> " : "",
                    ty->value >= 0 ? s->types[ty->value].name : "");
        for (size_t k = 0; k < ty->nkeys; k++) {
            fprintf(out, "    key %s =", ty->keys[k].text);
            for (size_t h = 0; h < ty->keys[k].nhops; h++)
                fprintf(out, " %s.%s", s->types[ty->keys[k].hops[h].type].name,
                        s->types[ty->keys[k].hops[h].type]
                            .fields[ty->keys[k].hops[h].field]
                            .name);
            fprintf(out, " (%s)\n", field_type_word(ty->keys[k].final_type));
        }
    }
}

/* --------------------------------------------------------------- values */

static float f_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static double d_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static uint32_t bits_f(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static uint64_t bits_d(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

static uint16_t random_unit(uint64_t *rng, uint16_t *second)
{
    int r = (int)rs_below(rng, 100);
    *second = 0;
    if (r < 32)
        return (uint16_t)(0x20 + rs_below(rng, 0x5F));
    if (r < 35) /* control characters, DEL: escaped in the dumps */
        return rs_chance(rng, 10) ? 0x7F : (uint16_t)(1 + rs_below(rng, 0x1F));
    if (r < 40)
        return 0;
    if (r < 50)
        return (uint16_t)(0x80 + rs_below(rng, 0x780));
    if (r < 60)
        return (uint16_t)(0x800 + rs_below(rng, 0x3800));
    if (r < 70)
        return (uint16_t)(0x4000 + rs_below(rng, 0xD800 - 0x4000));
    if (r < 80)
        return (uint16_t)(0xE000 + rs_below(rng, 0x2000));
    if (r < 90) { /* a supplementary character: a surrogate pair */
        uint32_t c = 0x10000 + rs_below(rng, 0x100000);
        *second = (uint16_t)(0xDC00 + (c & 0x3FF));
        return (uint16_t)(0xD800 + ((c - 0x10000) >> 10));
    }
    if (r < 95)
        return (uint16_t)(0xD800 + rs_below(rng, 0x400)); /* lone high */
    return (uint16_t)(0xDC00 + rs_below(rng, 0x400));     /* lone low */
}

static void gen_string(uint64_t *rng, bool narrow, rs_value *v)
{
    static const uint16_t p1[] = {'a'}, p2[] = {'A', 'b'}, p3[] = {0xE9},
                          p4[] = {0x65E5, 0x672C}, p5[] = {0}, p6[] = {0xD800},
                          p7[] = {0xD83D, 0xDE00}, p8[] = {0xDC00, 'x', 0xD800};
    static const uint16_t *const pool[] = {NULL, p1, p2, p3, p4,
                                           p5,   p6, p7, p8};
    static const size_t plen[] = {0, 1, 2, 1, 2, 1, 1, 2, 3};
    if (narrow) {
        size_t i = rs_below(rng, 9);
        v->len = plen[i];
        v->data = xdup(pool[i], plen[i] * 2);
        return;
    }
    int r = (int)rs_below(rng, 100);
    size_t n = r < 10   ? 0
               : r < 30 ? 1 + rs_below(rng, 12)
               : r < 97 ? 1 + rs_below(rng, 16)
                        : 100 + rs_below(rng, 300);
    uint16_t *u = xcalloc(n + 1, 2);
    size_t k = 0;
    while (k < n) {
        uint16_t second;
        uint16_t c = r < 30 ? (uint16_t)(0x20 + rs_below(rng, 0x5F))
                            : random_unit(rng, &second);
        if (r < 30)
            second = 0;
        u[k++] = c;
        if (second != 0 && k < n)
            u[k++] = second;
    }
    v->data = u;
    v->len = n;
}

static void gen_bytes(uint64_t *rng, bool narrow, rs_value *v)
{
    static const uint8_t b1[] = {0}, b2[] = {1, 2, 3}, b3[] = {0xFF};
    static const uint8_t *const pool[] = {NULL, b1, b2, b3};
    static const size_t plen[] = {0, 1, 3, 1};
    if (narrow) {
        size_t i = rs_below(rng, 4);
        v->len = plen[i];
        v->data = xdup(pool[i], plen[i]);
        return;
    }
    int r = (int)rs_below(rng, 100);
    size_t n = r < 10   ? 0
               : r < 95 ? 1 + rs_below(rng, 24)
                        : 100 + rs_below(rng, 500);
    uint8_t *p = xcalloc(n + 1, 1);
    bool zeros = rs_chance(rng, 30);
    for (size_t i = 0; i < n; i++)
        p[i] = zeros && rs_chance(rng, 50) ? 0 : (uint8_t)rs_rand(rng);
    v->data = p;
    v->len = n;
}

static int32_t gen_int(uint64_t *rng, bool narrow)
{
    static const int32_t ext[] = {INT32_MAX, INT32_MIN + 1, -1,      0,
                                  1,         INT32_MAX - 1, 1 << 30, -(1 << 30),
                                  INT32_MIN};
    if (narrow)
        return rs_chance(rng, 5) ? INT32_MIN : (int32_t)rs_below(rng, 7) - 3;
    int r = (int)rs_below(rng, 100);
    if (r < 15)
        return ext[rs_below(rng, sizeof ext / sizeof *ext)];
    if (r < 55)
        return (int32_t)(uint32_t)rs_rand(rng);
    /* one draw per statement: the order of draws in one expression is
     * unspecified, and a seed must replay the same in every build */
    uint64_t x = rs_rand(rng);
    uint32_t v = (uint32_t)(x >> (32 + rs_below(rng, 32)));
    return rs_chance(rng, 50) ? -(int32_t)(v >> 1) : (int32_t)(v >> 1);
}

static int64_t gen_long(uint64_t *rng, bool narrow)
{
    static const int64_t ext[] = {INT64_MAX,
                                  INT64_MIN + 1,
                                  -1,
                                  0,
                                  1,
                                  (int64_t)INT32_MAX + 1,
                                  (int64_t)INT32_MIN - 1,
                                  INT64_MIN,
                                  INT64_MAX - 1};
    if (narrow)
        return rs_chance(rng, 5) ? INT64_MIN : (int64_t)rs_below(rng, 7) - 3;
    int r = (int)rs_below(rng, 100);
    if (r < 15)
        return ext[rs_below(rng, sizeof ext / sizeof *ext)];
    if (r < 55)
        return (int64_t)rs_rand(rng);
    uint64_t x = rs_rand(rng); /* one draw per statement, as above */
    uint64_t v = x >> rs_below(rng, 64);
    return rs_chance(rng, 50) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
}

static uint32_t random_nan_f(uint64_t *rng)
{
    uint32_t payload = (uint32_t)rs_rand(rng) & 0x7FFFFF;
    if (payload == 0)
        payload = 1;
    return (rs_chance(rng, 50) ? 0x80000000u : 0) | 0x7F800000u | payload;
}

static uint64_t random_nan_d(uint64_t *rng)
{
    uint64_t payload = rs_rand(rng) & 0xFFFFFFFFFFFFFull;
    if (payload == 0)
        payload = 1;
    return (rs_chance(rng, 50) ? 0x8000000000000000ull : 0) |
           0x7FF0000000000000ull | payload;
}

static float gen_float(uint64_t *rng, bool narrow)
{
    static const uint32_t spec[] = {
        0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7F7FFFFF, 0xFF7FFFFF,
        0x00800000, 0x00000001, 0x80000001, 0x007FFFFF, 0x7FC00000, 0x7FC00001,
        0xFFC00000, 0x7F800001, 0xFFFFFFFF, 0x3FC00000, 0x807FFFFF};
    static const uint32_t nar[] = {0x00000000, 0x80000000, 0x3FC00000,
                                   0x7FC00000, 0x7FC12345, 0x7F800000};
    if (narrow)
        return f_bits(nar[rs_below(rng, 6)]);
    int r = (int)rs_below(rng, 100);
    if (r < 35)
        return f_bits(spec[rs_below(rng, sizeof spec / sizeof *spec)]);
    if (r < 45)
        return f_bits((uint32_t)rs_rand(rng) & 0x807FFFFFu); /* subnormal */
    if (r < 50)
        return f_bits(random_nan_f(rng));
    if (r < 80)
        return f_bits((uint32_t)rs_rand(rng));
    return (float)((int)rs_below(rng, 2001) - 1000) / 8.0f;
}

static double gen_double(uint64_t *rng, bool narrow)
{
    static const uint64_t spec[] = {
        0x0000000000000000ull, 0x8000000000000000ull, 0x7FF0000000000000ull,
        0xFFF0000000000000ull, 0x7FEFFFFFFFFFFFFFull, 0xFFEFFFFFFFFFFFFFull,
        0x0010000000000000ull, 0x0000000000000001ull, 0x8000000000000001ull,
        0x000FFFFFFFFFFFFFull, 0x7FF8000000000000ull, 0x7FF8000000000001ull,
        0xFFF8000000000000ull, 0x7FF0000000000001ull, 0xFFFFFFFFFFFFFFFFull,
        0x3FF8000000000000ull, 0x3FB999999999999Aull};
    static const uint64_t nar[] = {0,
                                   0x8000000000000000ull,
                                   0x3FF8000000000000ull,
                                   0x7FF8000000000000ull,
                                   0x7FF8000000012345ull,
                                   0xFFF0000000000000ull};
    if (narrow)
        return d_bits(nar[rs_below(rng, 6)]);
    int r = (int)rs_below(rng, 100);
    if (r < 35)
        return d_bits(spec[rs_below(rng, sizeof spec / sizeof *spec)]);
    if (r < 45)
        return d_bits(rs_rand(rng) & 0x800FFFFFFFFFFFFFull);
    if (r < 50)
        return d_bits(random_nan_d(rng));
    if (r < 80)
        return d_bits(rs_rand(rng));
    return (double)((int)rs_below(rng, 20001) - 10000) / 16.0;
}

static void value_free(rs_value *v)
{
    free(v->data);
    v->data = NULL;
}

static void value_copy(rs_value *dst, const rs_value *src, hollow_field_type t)
{
    *dst = *src;
    if (src->data != NULL)
        dst->data =
            xdup(src->data, src->len * (t == HOLLOW_FIELD_STRING ? 2 : 1));
}

static size_t nrecs(const rs_state *st, int t) { return st->types[t].n; }

/* a fresh value of field f of type t; `k` = index the record will get */
static void gen_value(const rs_state *st, uint64_t *rng, int t, size_t fi,
                      size_t k, rs_value *v)
{
    const rs_field *f = &st->schema->types[t].fields[fi];
    memset(v, 0, sizeof *v);
    v->how = RS_SET;
    v->decoy = rs_chance(rng, 12);
    if (!f->nonnull && rs_chance(rng, f->null_pct)) {
        int r = (int)rs_below(rng, 3);
        if (r == 2 && f->type == HOLLOW_FIELD_INT)
            v->u.i = INT32_MIN;
        else if (r == 2 && f->type == HOLLOW_FIELD_LONG)
            v->u.l = INT64_MIN;
        else
            v->how = r == 0 ? RS_SET_NULL : RS_UNSET;
        if (v->how == RS_UNSET)
            v->decoy = false;
        return;
    }
    switch (f->type) {
    case HOLLOW_FIELD_INT: v->u.i = gen_int(rng, f->narrow); break;
    case HOLLOW_FIELD_LONG: v->u.l = gen_long(rng, f->narrow); break;
    case HOLLOW_FIELD_FLOAT: v->u.f = gen_float(rng, f->narrow); break;
    case HOLLOW_FIELD_DOUBLE: v->u.d = gen_double(rng, f->narrow); break;
    case HOLLOW_FIELD_BOOLEAN: v->u.b = rs_chance(rng, 50); break;
    case HOLLOW_FIELD_STRING:
        gen_string(rng, f->narrow, v);
        v->via = rs_chance(rng, 40);
        break;
    case HOLLOW_FIELD_BYTES: gen_bytes(rng, f->narrow, v); break;
    case HOLLOW_FIELD_REFERENCE: {
        size_t avail = f->ref < t ? nrecs(st, f->ref) : f->ref == t ? k : 0;
        if (avail == 0) {
            ck_assert_msg(!f->nonnull,
                          "%s: type %s field %s: no record to reference",
                          st->ctx, st->schema->types[t].name, f->name);
            v->how = RS_SET_NULL;
            break;
        }
        v->u.ref = (int32_t)rs_below(rng, (uint32_t)avail);
        break;
    }
    }
}

static void rec_free(rs_rec *r, const rs_type *ty)
{
    if (r->vals != NULL)
        for (size_t f = 0; f < ty->nfields; f++)
            value_free(&r->vals[f]);
    free(r->vals);
    free(r->elems);
    free(r->canon);
    memset(r, 0, sizeof *r);
}

static void rec_copy(rs_rec *dst, const rs_rec *src, const rs_type *ty)
{
    memset(dst, 0, sizeof *dst);
    if (ty->kind == HOLLOW_SCHEMA_OBJECT) {
        dst->vals = xcalloc(ty->nfields, sizeof *dst->vals);
        for (size_t f = 0; f < ty->nfields; f++)
            value_copy(&dst->vals[f], &src->vals[f], ty->fields[f].type);
    }
    size_t per = ty->kind == HOLLOW_SCHEMA_MAP ? 2 : 1;
    dst->elems = xdup(src->elems, src->n * per * sizeof *src->elems);
    dst->n = src->n;
    dst->ord = -1;
}

static uint32_t gen_size(uint64_t *rng, uint32_t max)
{
    int r = (int)rs_below(rng, 100);
    if (r < 20 || max == 0)
        return 0;
    if (r < 70)
        return 1 + rs_below(rng, max < 3 ? max : 3);
    return 1 + rs_below(rng, max);
}

static void shuffle(uint64_t *rng, int32_t *a, size_t n, size_t per)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rs_below(rng, (uint32_t)i);
        for (size_t p = 0; p < per; p++) {
            int32_t x = a[(i - 1) * per + p];
            a[(i - 1) * per + p] = a[j * per + p];
            a[j * per + p] = x;
        }
    }
}

/* element counts available to record k of collection type t */
static size_t avail_of(const rs_state *st, int t, int target, size_t k)
{
    return target < t ? nrecs(st, target) : target == t ? k : 0;
}

static void gen_elems(const rs_state *st, uint64_t *rng, int t, size_t k,
                      rs_rec *r)
{
    const rs_type *ty = &st->schema->types[t];
    size_t ne = avail_of(st, t, ty->elem, k);
    size_t nv =
        ty->kind == HOLLOW_SCHEMA_MAP ? avail_of(st, t, ty->value, k) : 1;
    uint32_t m = ne == 0 || nv == 0 ? 0 : gen_size(rng, ty->max_size);
    size_t per = ty->kind == HOLLOW_SCHEMA_MAP ? 2 : 1;
    /* SET repeats and MAP puts that a later put overrides */
    size_t extra = ty->kind != HOLLOW_SCHEMA_LIST && m > 0 && rs_chance(rng, 25)
                       ? 1 + rs_below(rng, 4)
                       : 0;
    r->elems = xcalloc((m + extra) * per, sizeof *r->elems);
    for (size_t i = 0; i < m; i++) {
        r->elems[i * per] = (int32_t)rs_below(rng, (uint32_t)ne);
        if (per == 2)
            r->elems[i * per + 1] = (int32_t)rs_below(rng, (uint32_t)nv);
    }
    r->n = m;
    if (ty->kind == HOLLOW_SCHEMA_SET) {
        for (size_t i = 0; i < extra; i++)
            r->elems[r->n++] = r->elems[rs_below(rng, m)];
        shuffle(rng, r->elems, r->n, 1);
    } else if (ty->kind == HOLLOW_SCHEMA_MAP) {
        shuffle(rng, r->elems, r->n, 2);
        /* decoys: a put of an existing key with another value, moved
         * before the key's last put */
        for (size_t i = 0; i < extra; i++) {
            size_t at = rs_below(rng, (uint32_t)r->n);
            memmove(r->elems + (at + 1) * 2, r->elems + at * 2,
                    (r->n - at) * 2 * sizeof *r->elems);
            r->elems[at * 2] =
                r->elems[(at + 1 + rs_below(rng, (uint32_t)(r->n - at))) * 2];
            r->elems[at * 2 + 1] = (int32_t)rs_below(rng, (uint32_t)nv);
            r->n++;
        }
    }
}

/* change one thing of record r (index k) of type t */
static void mutate_one(const rs_state *st, uint64_t *rng, int t, size_t k,
                       rs_rec *r)
{
    const rs_type *ty = &st->schema->types[t];
    if (ty->kind == HOLLOW_SCHEMA_OBJECT) {
        if (ty->nfields == 0)
            return;
        size_t f = rs_below(rng, (uint32_t)ty->nfields);
        const rs_field *fd = &ty->fields[f];
        rs_value *v = &r->vals[f];
        /* near values: 0.0 <-> -0.0, "" <-> null, null <-> 0 */
        if (v->how == RS_SET && rs_chance(rng, 50)) {
            switch (fd->type) {
            case HOLLOW_FIELD_FLOAT:
                v->u.f = f_bits(bits_f(v->u.f) ^ 0x80000000u);
                return;
            case HOLLOW_FIELD_DOUBLE:
                v->u.d = d_bits(bits_d(v->u.d) ^ 0x8000000000000000ull);
                return;
            case HOLLOW_FIELD_INT: v->u.i = v->u.i == 0 ? INT32_MIN : 0; return;
            case HOLLOW_FIELD_LONG:
                v->u.l = v->u.l == 0 ? INT64_MIN : 0;
                return;
            case HOLLOW_FIELD_BOOLEAN: v->u.b = !v->u.b; return;
            case HOLLOW_FIELD_STRING:
            case HOLLOW_FIELD_BYTES:
                if (!fd->nonnull && v->len == 0) {
                    value_free(v);
                    v->how = RS_SET_NULL;
                    return;
                }
                break;
            case HOLLOW_FIELD_REFERENCE: break;
            }
        }
        value_free(v);
        gen_value(st, rng, t, f, k, v);
        return;
    }
    size_t per = ty->kind == HOLLOW_SCHEMA_MAP ? 2 : 1;
    size_t ne = avail_of(st, t, ty->elem, k);
    size_t nv = per == 2 ? avail_of(st, t, ty->value, k) : 1;
    if (r->n > 0 && (rs_chance(rng, 40) || ne == 0 || nv == 0)) {
        size_t at = rs_below(rng, (uint32_t)r->n); /* remove one */
        memmove(r->elems + at * per, r->elems + (at + 1) * per,
                (r->n - at - 1) * per * sizeof *r->elems);
        r->n--;
        return;
    }
    if (ne == 0 || nv == 0)
        return;
    r->elems = xrealloc(r->elems, (r->n + 1) * per * sizeof *r->elems);
    r->elems[r->n * per] = (int32_t)rs_below(rng, (uint32_t)ne);
    if (per == 2)
        r->elems[r->n * per + 1] = (int32_t)rs_below(rng, (uint32_t)nv);
    r->n++;
}

/* a copy of record j that is the same record (§10.2) through other calls */
static void same_record(const rs_state *st, uint64_t *rng, int t, rs_rec *r)
{
    const rs_type *ty = &st->schema->types[t];
    if (ty->kind == HOLLOW_SCHEMA_OBJECT) {
        for (size_t f = 0; f < ty->nfields; f++) {
            rs_value *v = &r->vals[f];
            hollow_field_type ft = ty->fields[f].type;
            v->decoy = v->how != RS_UNSET && rs_chance(rng, 20);
            bool null = v->how != RS_SET ||
                        (ft == HOLLOW_FIELD_INT && v->u.i == INT32_MIN) ||
                        (ft == HOLLOW_FIELD_LONG && v->u.l == INT64_MIN);
            if (null && !ty->fields[f].nonnull) {
                value_free(v);
                memset(&v->u, 0, sizeof v->u);
                int how = (int)rs_below(rng, 3);
                v->how = how == 2 ? RS_SET : (uint8_t)how;
                if (v->how == RS_SET && ft == HOLLOW_FIELD_INT)
                    v->u.i = INT32_MIN;
                else if (v->how == RS_SET && ft == HOLLOW_FIELD_LONG)
                    v->u.l = INT64_MIN;
                else if (v->how == RS_SET)
                    v->how = RS_SET_NULL;
                if (v->how == RS_UNSET)
                    v->decoy = false;
            } else if (ft == HOLLOW_FIELD_FLOAT && isnan(v->u.f)) {
                v->u.f = f_bits(random_nan_f(rng));
            } else if (ft == HOLLOW_FIELD_DOUBLE && isnan(v->u.d)) {
                v->u.d = d_bits(random_nan_d(rng));
            } else if (ft == HOLLOW_FIELD_STRING) {
                v->via = !v->via;
            }
        }
    } else if (ty->kind == HOLLOW_SCHEMA_SET && r->n > 0) {
        size_t extra = rs_below(rng, 3);
        r->elems = xrealloc(r->elems, (r->n + extra) * sizeof *r->elems);
        for (size_t i = 0; i < extra; i++)
            r->elems[r->n + i] = r->elems[rs_below(rng, (uint32_t)r->n)];
        r->n += extra;
        shuffle(rng, r->elems, r->n, 1);
    }
    /* MAP: the last put of each key decides; reordering would not keep
     * the record, LIST: the order is the record */
}

static rs_rec *push_rec(rs_state *st, int t)
{
    rs_recs *rv = &st->types[t];
    if (rv->n == rv->cap) {
        rv->cap = rv->cap ? 2 * rv->cap : 16;
        rv->v = xrealloc(rv->v, rv->cap * sizeof *rv->v);
    }
    rs_rec *r = &rv->v[rv->n++];
    memset(r, 0, sizeof *r);
    r->ord = -1;
    return r;
}

/* a new record of type t at the end of st (fresh, or a repeat) */
static void gen_record(rs_state *st, uint64_t *rng, int t)
{
    const rs_type *ty = &st->schema->types[t];
    size_t k = nrecs(st, t);
    rs_rec tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.ord = -1;
    if (k > 0 && rs_chance(rng, ty->dup_pct)) {
        rec_copy(&tmp, &st->types[t].v[rs_below(rng, (uint32_t)k)], ty);
        if (rs_chance(rng, 25))
            mutate_one(st, rng, t, k, &tmp);
        else
            same_record(st, rng, t, &tmp);
    } else if (ty->kind == HOLLOW_SCHEMA_OBJECT) {
        tmp.vals = xcalloc(ty->nfields, sizeof *tmp.vals);
        for (size_t f = 0; f < ty->nfields; f++)
            gen_value(st, rng, t, f, k, &tmp.vals[f]);
    } else {
        gen_elems(st, rng, t, k, &tmp);
    }
    *push_rec(st, t) = tmp;
}

static char *random_tag_text(uint64_t *rng)
{
    uint16_t u[24];
    size_t n = 1 + rs_below(rng, 12);
    for (size_t i = 0; i < n; i++) {
        uint16_t second;
        u[i] = random_unit(rng, &second);
        if (second != 0 && i + 1 < n)
            u[++i] = second;
        else if (u[i] == 0 || (u[i] >= 0xD800 && u[i] <= 0xDFFF))
            u[i] = (uint16_t)('a' +
                              rs_below(rng, 26)); /* C strings, valid UTF-8 */
    }
    char *s = xcalloc(3 * n + 1, 1);
    rs_wtf8(s, u, n);
    return s;
}

void rs_state_put_tag(rs_state *st, const char *key, const char *value)
{
    for (size_t i = 0; i < st->ntags; i++)
        if (strcmp(st->tag_keys[i], key) == 0) {
            free(st->tag_values[i]);
            st->tag_values[i] = xstrdup(value);
            return;
        }
    st->tag_keys =
        xrealloc(st->tag_keys, (st->ntags + 1) * sizeof *st->tag_keys);
    st->tag_values =
        xrealloc(st->tag_values, (st->ntags + 1) * sizeof *st->tag_values);
    st->tag_keys[st->ntags] = xstrdup(key);
    st->tag_values[st->ntags] = xstrdup(value);
    st->ntags++;
}

static void gen_tags(rs_state *st, uint64_t *rng)
{
    int r = (int)rs_below(rng, 100);
    size_t n = r < 20   ? 0
               : r < 70 ? 1 + rs_below(rng, 6)
                        : 6 + rs_below(rng, 20);
    for (size_t i = 0; i < n; i++) {
        char *k = random_tag_text(rng);
        char *v = rs_chance(rng, 10) ? xstrdup("") : random_tag_text(rng);
        rs_state_put_tag(st, k, v);
        free(k);
        free(v);
    }
    if (rs_chance(rng, 30)) {
        st->tag_extra = random_tag_text(rng);
        for (size_t i = 0; i < st->ntags; i++)
            if (strcmp(st->tag_keys[i], st->tag_extra) == 0) {
                free(st->tag_extra);
                st->tag_extra = NULL;
                break;
            }
    }
    st->has_tag = rs_chance(rng, 50);
    if (st->has_tag) {
        /* as Java draws them: upper 32 bits neither all 0 nor all 1 */
        uint64_t x;
        do
            x = rs_rand(rng);
        while ((x >> 32) == 0 || (x >> 32) == 0xFFFFFFFFu);
        st->tag = (int64_t)x;
    }
}

rs_state *rs_state_new(const rs_schema *schema, const char *ctx)
{
    rs_state *st = xcalloc(1, sizeof *st);
    st->schema = schema;
    st->types = xcalloc(schema->ntypes, sizeof *st->types);
    snprintf(st->ctx, sizeof st->ctx, "%s", ctx);
    return st;
}

void rs_state_free(rs_state *st)
{
    if (st == NULL)
        return;
    for (size_t t = 0; t < st->schema->ntypes; t++) {
        for (size_t i = 0; i < st->types[t].n; i++)
            rec_free(&st->types[t].v[i], &st->schema->types[t]);
        free(st->types[t].v);
    }
    free(st->types);
    for (size_t i = 0; i < st->ntags; i++) {
        free(st->tag_keys[i]);
        free(st->tag_values[i]);
    }
    free(st->tag_keys);
    free(st->tag_values);
    free(st->tag_extra);
    free(st);
}

void rs_state_gen(rs_state *st, uint64_t *rng)
{
    for (size_t t = 0; t < st->schema->ntypes; t++)
        for (size_t k = 0; k < st->schema->types[t].count; k++)
            gen_record(st, rng, (int)t);
    gen_tags(st, rng);
}

rs_state *rs_state_evolve(const rs_state *prev, uint64_t *rng, const char *ctx)
{
    const rs_schema *s = prev->schema;
    rs_state *st = rs_state_new(s, ctx);
    int32_t **map = xcalloc(s->ntypes, sizeof *map);
    for (size_t t = 0; t < s->ntypes; t++) {
        const rs_type *ty = &s->types[t];
        const rs_recs *old = &prev->types[t];
        map[t] = xcalloc(old->n, sizeof *map[t]);
        bool drop_all = rs_chance(rng, 5) && ty->min_count == 0;
        for (size_t j = 0; j < old->n; j++) {
            int r = (int)rs_below(rng, 100);
            map[t][j] = -1;
            if (drop_all || r < 20)
                continue;
            size_t k = nrecs(st, (int)t);
            rs_rec nr;
            rec_copy(&nr, &old->v[j], ty);
            /* references follow their records; a dropped target makes the
             * reference null (or another record when it must not be) */
            if (ty->kind == HOLLOW_SCHEMA_OBJECT) {
                for (size_t f = 0; f < ty->nfields; f++) {
                    const rs_field *fd = &ty->fields[f];
                    rs_value *v = &nr.vals[f];
                    if (fd->type != HOLLOW_FIELD_REFERENCE || v->how != RS_SET)
                        continue;
                    int32_t to = map[fd->ref][v->u.ref];
                    if (to < 0 && fd->nonnull) {
                        ck_assert(nrecs(st, fd->ref) > 0);
                        to = (int32_t)rs_below(rng,
                                               (uint32_t)nrecs(st, fd->ref));
                    }
                    if (to < 0)
                        v->how = RS_SET_NULL;
                    else
                        v->u.ref = to;
                }
            } else {
                size_t per = ty->kind == HOLLOW_SCHEMA_MAP ? 2 : 1, w = 0;
                for (size_t i = 0; i < nr.n; i++) {
                    int32_t a = map[ty->elem][nr.elems[i * per]];
                    int32_t b =
                        per == 2 ? map[ty->value][nr.elems[i * per + 1]] : 0;
                    if (a < 0 || b < 0)
                        continue;
                    nr.elems[w * per] = a;
                    if (per == 2)
                        nr.elems[w * per + 1] = b;
                    w++;
                }
                nr.n = w;
            }
            if (r < 35)
                mutate_one(st, rng, (int)t, k, &nr);
            *push_rec(st, (int)t) = nr;
            map[t][j] = (int32_t)k;
        }
        size_t fresh = rs_below(rng, (uint32_t)(old->n / 4 + 4));
        for (size_t i = 0; i < fresh || nrecs(st, (int)t) < ty->min_count; i++)
            gen_record(st, rng, (int)t);
    }
    for (size_t t = 0; t < s->ntypes; t++)
        free(map[t]);
    free(map);
    /* header tags: every earlier tag again (a write state may keep them
     * from cycle to cycle, as Java's does), some with new values, new ones */
    for (size_t i = 0; i < prev->ntags; i++) {
        char *v = rs_chance(rng, 30) ? random_tag_text(rng)
                                     : xstrdup(prev->tag_values[i]);
        rs_state_put_tag(st, prev->tag_keys[i], v);
        free(v);
    }
    size_t ntags = st->ntags;
    gen_tags(st, rng);
    if (st->ntags > ntags + 3) { /* a few new ones only */
        for (size_t i = ntags + 3; i < st->ntags; i++) {
            free(st->tag_keys[i]);
            free(st->tag_values[i]);
        }
        st->ntags = ntags + 3;
    }
    return st;
}

/* ------------------------------------------------------ canonical model */

typedef struct cval {
    bool null;
    uint64_t bits;
    const void *data;
    size_t len;
} cval;

static hollow_ordinal ord_of(const rs_state *st, int t, int32_t idx)
{
    ck_assert_msg(idx >= 0 && (size_t)idx < st->types[t].n,
                  "%s: type %s: record index %d out of range", st->ctx,
                  st->schema->types[t].name, idx);
    hollow_ordinal o = st->types[t].v[idx].ord;
    ck_assert_msg(o >= 0, "%s: type %s record %d has no ordinal yet", st->ctx,
                  st->schema->types[t].name, idx);
    return o;
}

static cval canon_value(const rs_state *st, const rs_field *f,
                        const rs_value *v)
{
    cval c = {v->how != RS_SET, 0, NULL, 0};
    if (c.null)
        return c;
    switch (f->type) {
    case HOLLOW_FIELD_INT:
        c.null = v->u.i == INT32_MIN;
        c.bits = (uint64_t)(int64_t)v->u.i;
        break;
    case HOLLOW_FIELD_LONG:
        c.null = v->u.l == INT64_MIN;
        c.bits = (uint64_t)v->u.l;
        break;
    case HOLLOW_FIELD_FLOAT:
        c.bits = isnan(v->u.f) ? 0x7FC00000u : bits_f(v->u.f);
        break;
    case HOLLOW_FIELD_DOUBLE:
        c.bits = isnan(v->u.d) ? 0x7FF8000000000000ull : bits_d(v->u.d);
        break;
    case HOLLOW_FIELD_BOOLEAN: c.bits = v->u.b; break;
    case HOLLOW_FIELD_STRING:
    case HOLLOW_FIELD_BYTES:
        c.data = v->data;
        c.len = v->len;
        break;
    case HOLLOW_FIELD_REFERENCE:
        c.bits = (uint64_t)ord_of(st, f->ref, v->u.ref);
        break;
    }
    if (c.null)
        c.bits = 0;
    return c;
}

static bool cval_eq(hollow_field_type t, const cval *a, const cval *b)
{
    if (a->null || b->null)
        return a->null == b->null;
    if (t == HOLLOW_FIELD_STRING || t == HOLLOW_FIELD_BYTES) {
        size_t unit = t == HOLLOW_FIELD_STRING ? 2 : 1;
        return a->len == b->len &&
               (a->len == 0 || memcmp(a->data, b->data, a->len * unit) == 0);
    }
    return a->bits == b->bits;
}

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

/* LIST: ordinals in order; SET: sorted unique; MAP: (key, value) sorted by
 * key, the last put of a key winning */
static void make_canon(const rs_state *st, int t, rs_rec *r)
{
    const rs_type *ty = &st->schema->types[t];
    free(r->canon);
    r->canon = NULL;
    r->ncanon = 0;
    if (ty->kind == HOLLOW_SCHEMA_OBJECT)
        return;
    size_t per = ty->kind == HOLLOW_SCHEMA_MAP ? 2 : 1;
    int32_t *c = xcalloc(r->n * per + 1, sizeof *c);
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        int32_t e = ord_of(st, ty->elem, r->elems[i * per]);
        if (ty->kind == HOLLOW_SCHEMA_LIST) {
            c[n++] = e;
        } else if (ty->kind == HOLLOW_SCHEMA_SET) {
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = c[j] == e;
            if (!seen)
                c[n++] = e;
        } else {
            int32_t v = ord_of(st, ty->value, r->elems[i * 2 + 1]);
            size_t j;
            for (j = 0; j < n; j++)
                if (c[j * 2] == e)
                    break;
            c[j * 2] = e;
            c[j * 2 + 1] = v;
            if (j == n)
                n++;
        }
    }
    if (ty->kind == HOLLOW_SCHEMA_SET)
        qsort(c, n, sizeof *c, cmp_i32);
    else if (ty->kind == HOLLOW_SCHEMA_MAP)
        qsort(c, n, 2 * sizeof *c, cmp_pair);
    r->canon = c;
    r->ncanon = n;
}

/* the same record (§10.2)? a of state sa, b of state sb, both of type t */
static bool rec_eq(const rs_state *sa, const rs_rec *a, const rs_state *sb,
                   const rs_rec *b, int t)
{
    const rs_type *ty = &sa->schema->types[t];
    if (ty->kind != HOLLOW_SCHEMA_OBJECT) {
        size_t per = ty->kind == HOLLOW_SCHEMA_MAP ? 2 : 1;
        return a->ncanon == b->ncanon &&
               (a->ncanon == 0 ||
                memcmp(a->canon, b->canon,
                       a->ncanon * per * sizeof *a->canon) == 0);
    }
    for (size_t f = 0; f < ty->nfields; f++) {
        cval x = canon_value(sa, &ty->fields[f], &a->vals[f]);
        cval y = canon_value(sb, &ty->fields[f], &b->vals[f]);
        if (!cval_eq(ty->fields[f].type, &x, &y))
            return false;
    }
    return true;
}

size_t rs_state_distinct(const rs_state *st, int t)
{
    const rs_recs *rv = &st->types[t];
    int32_t *o = xcalloc(rv->n + 1, sizeof *o);
    for (size_t i = 0; i < rv->n; i++)
        o[i] = rv->v[i].ord;
    qsort(o, rv->n, sizeof *o, cmp_i32);
    size_t n = 0;
    for (size_t i = 0; i < rv->n; i++)
        n += i == 0 || o[i] != o[i - 1];
    free(o);
    return n;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xFF51AFD7ED558CCDull;
}

/* a hash of the record's identity (equal records, equal hashes) */
static uint64_t rec_hash(const rs_state *st, const rs_rec *r, int t)
{
    const rs_type *ty = &st->schema->types[t];
    uint64_t h = 0x1234567u + (uint64_t)t;
    if (ty->kind != HOLLOW_SCHEMA_OBJECT) {
        size_t per = ty->kind == HOLLOW_SCHEMA_MAP ? 2 : 1;
        h = mix(h, r->ncanon);
        for (size_t i = 0; i < r->ncanon * per; i++)
            h = mix(h, (uint32_t)r->canon[i]);
        return h;
    }
    for (size_t f = 0; f < ty->nfields; f++) {
        cval c = canon_value(st, &ty->fields[f], &r->vals[f]);
        h = mix(h, c.null ? 0xABCDu : c.bits);
        size_t n = c.len * (ty->fields[f].type == HOLLOW_FIELD_STRING ? 2 : 1);
        h = mix(h, n);
        for (size_t i = 0; !c.null && i < n; i++)
            h = mix(h, ((const uint8_t *)c.data)[i]);
    }
    return h;
}

/* distinct records of one type by identity hash: record indexes */
typedef struct rtab {
    uint64_t *h;
    int32_t *idx; /* -1: empty */
    size_t cap;
} rtab;

static void rtab_init(rtab *tb, size_t n)
{
    tb->cap = 64;
    while (tb->cap < 2 * n + 2)
        tb->cap *= 2;
    tb->h = xcalloc(tb->cap, sizeof *tb->h);
    tb->idx = xcalloc(tb->cap, sizeof *tb->idx);
    for (size_t i = 0; i < tb->cap; i++)
        tb->idx[i] = -1;
}

static void rtab_free(rtab *tb)
{
    free(tb->h);
    free(tb->idx);
}

/* the record of `sa` (table `tb`) equal to record r of `sb`, or -1; with
 * `insert`, r's index `ri` is added when none is */
static int32_t rtab_find(rtab *tb, const rs_state *sa, const rs_state *sb,
                         const rs_rec *r, int t, uint64_t h, bool insert,
                         int32_t ri)
{
    size_t at = (size_t)h & (tb->cap - 1);
    while (tb->idx[at] >= 0) {
        if (tb->h[at] == h &&
            rec_eq(sa, &sa->types[t].v[tb->idx[at]], sb, r, t))
            return tb->idx[at];
        at = (at + 1) & (tb->cap - 1);
    }
    if (insert) {
        tb->h[at] = h;
        tb->idx[at] = ri;
    }
    return -1;
}

/* ----------------------------------------------------------------- add */

static void set_value(const rs_state *st, hollow_record *hr, int t, size_t f,
                      const rs_value *v, char *scratch)
{
    const rs_type *ty = &st->schema->types[t];
    const rs_field *fd = &ty->fields[f];
    if (v->decoy) { /* a first value the second call must replace */
        switch (fd->type) {
        case HOLLOW_FIELD_INT: HT_OK(hollow_record_set_int(hr, f, 77)); break;
        case HOLLOW_FIELD_LONG:
            HT_OK(hollow_record_set_long(hr, f, -77));
            break;
        case HOLLOW_FIELD_FLOAT:
            HT_OK(hollow_record_set_float(hr, f, 7.5f));
            break;
        case HOLLOW_FIELD_DOUBLE:
            HT_OK(hollow_record_set_double(hr, f, -7.5));
            break;
        case HOLLOW_FIELD_BOOLEAN:
            HT_OK(hollow_record_set_bool(hr, f, true));
            break;
        case HOLLOW_FIELD_STRING:
            HT_OK(hollow_record_set_string(hr, f, "decoy", 5));
            break;
        case HOLLOW_FIELD_BYTES:
            HT_OK(hollow_record_set_bytes(hr, f, "\1\2", 2));
            break;
        case HOLLOW_FIELD_REFERENCE:
            HT_OK(hollow_record_set_null(hr, f));
            break;
        }
    }
    if (v->how == RS_UNSET)
        return;
    if (v->how == RS_SET_NULL) {
        HT_OK(hollow_record_set_null(hr, f));
        return;
    }
    switch (fd->type) {
    case HOLLOW_FIELD_INT: HT_OK(hollow_record_set_int(hr, f, v->u.i)); break;
    case HOLLOW_FIELD_LONG: HT_OK(hollow_record_set_long(hr, f, v->u.l)); break;
    case HOLLOW_FIELD_FLOAT:
        HT_OK(hollow_record_set_float(hr, f, v->u.f));
        break;
    case HOLLOW_FIELD_DOUBLE:
        HT_OK(hollow_record_set_double(hr, f, v->u.d));
        break;
    case HOLLOW_FIELD_BOOLEAN:
        HT_OK(hollow_record_set_bool(hr, f, v->u.b));
        break;
    case HOLLOW_FIELD_STRING:
        if (v->via) {
            size_t n = rs_wtf8(scratch, v->data, v->len);
            HT_OK(hollow_record_set_string(hr, f, scratch, n));
        } else {
            HT_OK(hollow_record_set_string_utf16(hr, f, v->data, v->len));
        }
        break;
    case HOLLOW_FIELD_BYTES:
        HT_OK(hollow_record_set_bytes(hr, f, v->data, v->len));
        break;
    case HOLLOW_FIELD_REFERENCE:
        HT_OK(hollow_record_set_ref(hr, f, ord_of(st, fd->ref, v->u.ref)));
        break;
    }
}

static void fill_record(const rs_state *st, hollow_record *hr, int t,
                        const rs_rec *r, bool reverse, char *scratch)
{
    const rs_type *ty = &st->schema->types[t];
    hollow_record_reset(hr);
    switch (ty->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        /* fields in reverse order every other record: order must not matter */
        for (size_t i = 0; i < ty->nfields; i++) {
            size_t f = reverse ? ty->nfields - 1 - i : i;
            set_value(st, hr, t, f, &r->vals[f], scratch);
        }
        break;
    case HOLLOW_SCHEMA_LIST:
    case HOLLOW_SCHEMA_SET:
        for (size_t i = 0; i < r->n; i++)
            HT_OK(hollow_record_add_element(hr,
                                            ord_of(st, ty->elem, r->elems[i])));
        break;
    case HOLLOW_SCHEMA_MAP:
        for (size_t i = 0; i < r->n; i++)
            HT_OK(hollow_record_put_entry(
                hr, ord_of(st, ty->elem, r->elems[2 * i]),
                ord_of(st, ty->value, r->elems[2 * i + 1])));
        break;
    }
}

static size_t max_string_units(const rs_state *st)
{
    size_t m = 16;
    for (size_t t = 0; t < st->schema->ntypes; t++) {
        const rs_type *ty = &st->schema->types[t];
        for (size_t f = 0; f < ty->nfields; f++)
            if (ty->fields[f].type == HOLLOW_FIELD_STRING)
                for (size_t i = 0; i < st->types[t].n; i++)
                    if (st->types[t].v[i].vals[f].len > m)
                        m = st->types[t].v[i].vals[f].len;
    }
    return m;
}

void rs_state_add(rs_state *st, hollow_write_state *ws, const rs_state *prev,
                  bool fresh)
{
    const rs_schema *s = st->schema;
    char *scratch = xcalloc(3 * max_string_units(st) + 16, 1);

    for (size_t i = 0; i < st->ntags; i++) {
        HT_OK(hollow_write_state_set_header_tag(ws, st->tag_keys[i],
                                                st->tag_values[i]));
        if (st->tag_extra != NULL && i == st->ntags / 2)
            HT_OK(hollow_write_state_set_header_tag(ws, st->tag_extra, "gone"));
    }
    if (st->ntags > 1) /* re-setting a key keeps its place */
        HT_OK(hollow_write_state_set_header_tag(ws, st->tag_keys[0],
                                                st->tag_values[0]));
    if (st->tag_extra != NULL)
        HT_OK(hollow_write_state_remove_header_tag(ws, st->tag_extra));
    if (st->has_tag)
        hollow_write_state_set_randomized_tag(ws, st->tag);

    for (size_t ti = 0; ti < s->ntypes; ti++) {
        int t = (int)ti;
        const rs_type *ty = &s->types[t];
        rs_recs *rv = &st->types[t];
        hollow_record *hr = NULL;
        hollow_ordinal next = 0;
        rtab cur, old;
        /* ordinals taken: by this cycle's records (1), by the previous
         * cycle's (2) */
        size_t ucap = 1024;
        uint8_t *used = xcalloc(ucap, 1);
        rtab_init(&cur, rv->n);
        rtab_init(&old, prev != NULL ? prev->types[t].n : 0);
        for (size_t j = 0; prev != NULL && j < prev->types[t].n; j++) {
            const rs_rec *pr = &prev->types[t].v[j];
            rtab_find(&old, prev, prev, pr, t, rec_hash(prev, pr, t), true,
                      (int32_t)j);
            while ((size_t)pr->ord >= ucap) {
                used = xrealloc(used, 2 * ucap);
                memset(used + ucap, 0, ucap);
                ucap *= 2;
            }
            used[pr->ord] |= 2;
        }
        HT_OK(hollow_record_new(&hr, ws, ty->name));
        for (size_t k = 0; k < rv->n; k++) {
            rs_rec *r = &rv->v[k];
            make_canon(st, t, r);
            uint64_t h = rec_hash(st, r, t);
            hollow_ordinal expect = -1;
            const char *why = "a new record";
            int32_t j = rtab_find(&cur, st, st, r, t, h, true, (int32_t)k);
            if (j >= 0) {
                expect = rv->v[j].ord;
                why = "equal to an earlier record of this cycle";
            } else if (prev != NULL && (j = rtab_find(&old, prev, st, r, t, h,
                                                      false, 0)) >= 0) {
                expect = prev->types[t].v[j].ord;
                why = "equal to a record of the previous cycle";
            }
            if (k % 5 == 4) { /* sometimes a fresh record object */
                hollow_record_free(hr);
                hr = NULL;
                HT_OK(hollow_record_new(&hr, ws, ty->name));
            }
            fill_record(st, hr, t, r, (k & 1) != 0, scratch);
            hollow_ordinal o = -1;
            int rc = hollow_write_state_add(&o, ws, hr);
            ck_assert_msg(
                rc == 0, "%s: type %s record %zu: add returned %d: %s", st->ctx,
                ty->name, k, rc, hollow_error_last()->message);
            ck_assert_msg(o >= 0, "%s: type %s record %zu: ordinal %d", st->ctx,
                          ty->name, k, o);
            r->ord = o;
            while ((size_t)o >= ucap) {
                used = xrealloc(used, 2 * ucap);
                memset(used + ucap, 0, ucap);
                ucap *= 2;
            }
            if (expect >= 0) {
                ck_assert_msg(
                    o == expect,
                    "%s: type %s record %zu (%s) got ordinal %d, expected %d",
                    st->ctx, ty->name, k, why, o, expect);
                used[o] |= 1;
                continue;
            }
            if (fresh)
                ck_assert_msg(
                    o == next,
                    "%s: type %s record %zu (a new record) got ordinal %d, "
                    "expected the next one, %d",
                    st->ctx, ty->name, k, o, next);
            next++;
            ck_assert_msg(
                !(used[o] & 1),
                "%s: type %s record %zu (a new record) got ordinal %d of "
                "another record of this cycle",
                st->ctx, ty->name, k, o);
            ck_assert_msg(
                !(used[o] & 2),
                "%s: type %s record %zu (a new record) got ordinal %d, "
                "populated in the previous cycle",
                st->ctx, ty->name, k, o);
            used[o] |= 1;
        }
        hollow_record_free(hr);
        rtab_free(&cur);
        rtab_free(&old);
        free(used);
    }
    free(scratch);
}

/* ---------------------------------------------------------------- check */

/* the ordinal -> a record index of that ordinal, per type */
typedef struct ordidx {
    int32_t **idx;
    hollow_ordinal *max;
} ordidx;

static ordidx ordidx_make(const rs_state *st)
{
    ordidx m;
    size_t n = st->schema->ntypes;
    m.idx = xcalloc(n, sizeof *m.idx);
    m.max = xcalloc(n, sizeof *m.max);
    for (size_t t = 0; t < n; t++) {
        const rs_recs *rv = &st->types[t];
        hollow_ordinal mx = -1;
        for (size_t i = 0; i < rv->n; i++)
            if (rv->v[i].ord > mx)
                mx = rv->v[i].ord;
        m.max[t] = mx;
        m.idx[t] = xcalloc((size_t)(mx + 1) + 1, sizeof **m.idx);
        for (hollow_ordinal o = 0; o <= mx; o++)
            m.idx[t][o] = -1;
        for (size_t i = rv->n; i-- > 0;)
            m.idx[t][rv->v[i].ord] = (int32_t)i;
    }
    return m;
}

static void ordidx_free(ordidx *m, size_t n)
{
    for (size_t t = 0; t < n; t++)
        free(m->idx[t]);
    free(m->idx);
    free(m->max);
}

static bool populated(const ordidx *m, int t, hollow_ordinal o)
{
    return o >= 0 && o <= m->max[t] && m->idx[t][o] >= 0;
}

/* the key value of path p for record idx of the keyed type */
static cval key_value(const rs_state *st, const rs_path *p, int32_t idx)
{
    const rs_schema *s = st->schema;
    for (size_t h = 0; h + 1 < p->nhops; h++) {
        const rs_field *f = &s->types[p->hops[h].type].fields[p->hops[h].field];
        const rs_value *v =
            &st->types[p->hops[h].type].v[idx].vals[p->hops[h].field];
        ck_assert_msg(
            f->type == HOLLOW_FIELD_REFERENCE && v->how == RS_SET,
            "%s: key path %s: null reference at hop %zu (generator bug)",
            st->ctx, p->text, h);
        idx = v->u.ref;
    }
    const rs_hop *last = &p->hops[p->nhops - 1];
    const rs_field *f = &s->types[last->type].fields[last->field];
    return canon_value(st, f, &st->types[last->type].v[idx].vals[last->field]);
}

static bool key_tuple_eq(const rs_state *st, const rs_type *coll, int32_t a,
                         int32_t b)
{
    for (size_t k = 0; k < coll->nkeys; k++) {
        cval x = key_value(st, &coll->keys[k], a);
        cval y = key_value(st, &coll->keys[k], b);
        if (!cval_eq(coll->keys[k].final_type, &x, &y))
            return false;
    }
    return true;
}

/* probe values for hollow_set_find / hollow_map_find */
static void key_probe(const rs_state *st, const rs_type *coll, int32_t idx,
                      hollow_value *out, char **bufs)
{
    for (size_t k = 0; k < coll->nkeys; k++) {
        const rs_path *p = &coll->keys[k];
        cval c = key_value(st, p, idx);
        hollow_value *v = &out[k];
        memset(v, 0, sizeof *v);
        v->type = p->final_type;
        v->is_null = c.null;
        switch (p->final_type) {
        case HOLLOW_FIELD_INT: v->u.i = (int32_t)(uint32_t)c.bits; break;
        case HOLLOW_FIELD_LONG: v->u.l = (int64_t)c.bits; break;
        case HOLLOW_FIELD_FLOAT: v->u.f = f_bits((uint32_t)c.bits); break;
        case HOLLOW_FIELD_DOUBLE: v->u.d = d_bits(c.bits); break;
        case HOLLOW_FIELD_BOOLEAN: v->u.b = c.bits != 0; break;
        case HOLLOW_FIELD_REFERENCE: v->u.ref = (hollow_ordinal)c.bits; break;
        case HOLLOW_FIELD_BYTES:
            v->u.bytes.ptr = c.data;
            v->u.bytes.len = c.len;
            break;
        case HOLLOW_FIELD_STRING:
            bufs[k] = xcalloc(3 * c.len + 1, 1);
            v->u.str.len = rs_wtf8(bufs[k], c.data, c.len);
            v->u.str.ptr = bufs[k];
            break;
        }
    }
}

static void check_object(const rs_state *st, const hollow_type *rt, int t,
                         const rs_rec *r, size_t k)
{
    const rs_type *ty = &st->schema->types[t];
    hollow_ordinal o = r->ord;
    for (size_t f = 0; f < ty->nfields; f++) {
        const rs_field *fd = &ty->fields[f];
        cval c = canon_value(st, fd, &r->vals[f]);
        int want = c.null ? HOLLOW_NULL : 0;
        int rc;
        hollow_value hv;
        rc = hollow_object_value(&hv, rt, o, f);
        ck_assert_msg(rc == want && hv.type == fd->type && hv.is_null == c.null,
                      "%s: type %s ordinal %d (record %zu) field %s: "
                      "hollow_object_value rc %d "
                      "type %d null %d, expected rc %d type %d null %d",
                      st->ctx, ty->name, o, k, fd->name, rc, (int)hv.type,
                      (int)hv.is_null, want, (int)fd->type, (int)c.null);
        switch (fd->type) {
        case HOLLOW_FIELD_INT: {
            int32_t x = 0;
            rc = hollow_object_int(&x, rt, o, f);
            ck_assert_msg(rc == want &&
                              (c.null || x == (int32_t)(uint32_t)c.bits),
                          "%s: type %s ordinal %d field %s: int rc %d value "
                          "%d, expected rc %d value %d",
                          st->ctx, ty->name, o, fd->name, rc, x, want,
                          (int32_t)(uint32_t)c.bits);
            break;
        }
        case HOLLOW_FIELD_LONG: {
            int64_t x = 0;
            rc = hollow_object_long(&x, rt, o, f);
            ck_assert_msg(rc == want && (c.null || x == (int64_t)c.bits),
                          "%s: type %s ordinal %d field %s: long rc %d value "
                          "%lld, expected rc %d "
                          "value %lld",
                          st->ctx, ty->name, o, fd->name, rc, (long long)x,
                          want, (long long)(int64_t)c.bits);
            break;
        }
        case HOLLOW_FIELD_FLOAT: {
            float x = 0;
            rc = hollow_object_float(&x, rt, o, f);
            ck_assert_msg(
                rc == want &&
                    (c.null ? isnan(x) : bits_f(x) == (uint32_t)c.bits),
                "%s: type %s ordinal %d field %s: float rc %d bits 0x%08x, "
                "expected rc %d "
                "bits 0x%08x",
                st->ctx, ty->name, o, fd->name, rc, bits_f(x), want,
                (uint32_t)c.bits);
            break;
        }
        case HOLLOW_FIELD_DOUBLE: {
            double x = 0;
            rc = hollow_object_double(&x, rt, o, f);
            ck_assert_msg(rc == want &&
                              (c.null ? isnan(x) : bits_d(x) == c.bits),
                          "%s: type %s ordinal %d field %s: double rc %d bits "
                          "0x%016llx, expected rc "
                          "%d bits 0x%016llx",
                          st->ctx, ty->name, o, fd->name, rc,
                          (unsigned long long)bits_d(x), want,
                          (unsigned long long)c.bits);
            break;
        }
        case HOLLOW_FIELD_BOOLEAN: {
            bool x = false;
            rc = hollow_object_bool(&x, rt, o, f);
            ck_assert_msg(rc == want && (c.null || x == (c.bits != 0)),
                          "%s: type %s ordinal %d field %s: boolean rc %d "
                          "value %d, expected rc %d "
                          "value %d",
                          st->ctx, ty->name, o, fd->name, rc, (int)x, want,
                          (int)c.bits);
            break;
        }
        case HOLLOW_FIELD_REFERENCE: {
            hollow_ordinal x = 0;
            rc = hollow_object_ref(&x, rt, o, f);
            ck_assert_msg(rc == want && (c.null ? x == HOLLOW_ORDINAL_NONE
                                                : x == (hollow_ordinal)c.bits),
                          "%s: type %s ordinal %d field %s: reference rc %d "
                          "ordinal %d, expected rc "
                          "%d ordinal %d",
                          st->ctx, ty->name, o, fd->name, rc, x, want,
                          c.null ? -1 : (hollow_ordinal)c.bits);
            break;
        }
        case HOLLOW_FIELD_BYTES: {
            hollow_bytes b = {NULL, 0};
            rc = hollow_object_bytes(&b, rt, o, f);
            ck_assert_msg(
                rc == want,
                "%s: type %s ordinal %d field %s: bytes rc %d, expected %d",
                st->ctx, ty->name, o, fd->name, rc, want);
            if (!c.null)
                ck_assert_msg(
                    b.len == c.len &&
                        (c.len == 0 || memcmp(b.ptr, c.data, c.len) == 0),
                    "%s: type %s ordinal %d field %s: bytes of length %zu "
                    "differ from the "
                    "%zu written",
                    st->ctx, ty->name, o, fd->name, b.len, c.len);
            break;
        }
        case HOLLOW_FIELD_STRING: {
            size_t cap = c.len + 1, n = 0;
            uint16_t *u = xcalloc(cap, sizeof *u);
            rc = hollow_object_string_utf16(u, cap, &n, rt, o, f);
            ck_assert_msg(
                rc == want,
                "%s: type %s ordinal %d field %s: string rc %d, expected %d",
                st->ctx, ty->name, o, fd->name, rc, want);
            if (!c.null) {
                ck_assert_msg(
                    n == c.len,
                    "%s: type %s ordinal %d field %s: %zu code units, "
                    "expected %zu",
                    st->ctx, ty->name, o, fd->name, n, c.len);
                for (size_t i = 0; i < n; i++)
                    ck_assert_msg(u[i] == ((const uint16_t *)c.data)[i],
                                  "%s: type %s ordinal %d field %s: code unit "
                                  "%zu is 0x%04x, expected "
                                  "0x%04x",
                                  st->ctx, ty->name, o, fd->name, i, u[i],
                                  ((const uint16_t *)c.data)[i]);
                if (c.len > 0) { /* too small a buffer */
                    rc = hollow_object_string_utf16(u, c.len - 1, &n, rt, o, f);
                    ck_assert_msg(rc == HOLLOW_ERANGE && n == c.len,
                                  "%s: type %s ordinal %d field %s: string "
                                  "into %zu units: rc %d "
                                  "needed %zu, expected HOLLOW_ERANGE and %zu",
                                  st->ctx, ty->name, o, fd->name, c.len - 1, rc,
                                  n, c.len);
                }
                /* as UTF-8 (WTF-8 for lone surrogates) */
                char *want8 = xcalloc(3 * c.len + 1, 1),
                     *buf = xcalloc(3 * c.len + 1, 1);
                size_t n8 = rs_wtf8(want8, c.data, c.len);
                hollow_str s8 = {NULL, 0};
                rc = hollow_object_string(&s8, buf, 3 * c.len + 1, rt, o, f);
                ck_assert_msg(rc == 0 && s8.len == n8 &&
                                  (n8 == 0 || memcmp(s8.ptr, want8, n8) == 0),
                              "%s: type %s ordinal %d field %s: "
                              "hollow_object_string rc %d, %zu bytes, "
                              "expected the %zu bytes of the WTF-8 form",
                              st->ctx, ty->name, o, fd->name, rc, s8.len, n8);
                free(want8);
                free(buf);
            }
            free(u);
            break;
        }
        }
    }
}

static void check_collection(const rs_state *st, const ordidx *m,
                             const hollow_type *rt, int t, const rs_rec *r,
                             size_t k, uint64_t *rng)
{
    const rs_type *ty = &st->schema->types[t];
    hollow_ordinal o = r->ord;
    uint32_t n = 0;
    int rc;
    if (ty->kind == HOLLOW_SCHEMA_LIST) {
        rc = hollow_list_size(&n, rt, o);
        ck_assert_msg(rc == 0 && n == r->ncanon,
                      "%s: type %s ordinal %d (record %zu): list size rc %d "
                      "%u, expected %zu",
                      st->ctx, ty->name, o, k, rc, n, r->ncanon);
        for (uint32_t i = 0; i < n; i++) {
            hollow_ordinal e = -1;
            rc = hollow_list_get(&e, rt, o, i);
            ck_assert_msg(
                rc == 0 && e == r->canon[i],
                "%s: type %s ordinal %d: element %u is %d (rc %d), expected %d",
                st->ctx, ty->name, o, i, e, rc, r->canon[i]);
        }
        hollow_ordinal e = -1;
        rc = hollow_list_get(&e, rt, o, n);
        ck_assert_msg(
            rc == HOLLOW_ENOTFOUND,
            "%s: type %s ordinal %d: element %u past the end: rc %d, expected "
            "HOLLOW_ENOTFOUND",
            st->ctx, ty->name, o, n, rc);
        return;
    }
    bool is_map = ty->kind == HOLLOW_SCHEMA_MAP;
    size_t per = is_map ? 2 : 1;
    rc = is_map ? hollow_map_size(&n, rt, o) : hollow_set_size(&n, rt, o);
    ck_assert_msg(
        rc == 0 && n == r->ncanon,
        "%s: type %s ordinal %d (record %zu): size rc %d %u, expected %zu",
        st->ctx, ty->name, o, k, rc, n, r->ncanon);
    /* iteration: every element once, as a set */
    int32_t *got = xcalloc(per * (r->ncanon + 1), sizeof *got);
    size_t ng = 0;
    hollow_iter it;
    hollow_ordinal a, b;
    if (is_map) {
        HT_OK(hollow_map_iter_init(&it, rt, o));
        while (hollow_map_iter_next(&it, &a, &b)) {
            ck_assert_msg(
                ng < r->ncanon,
                "%s: type %s ordinal %d: iteration gives more than %zu "
                "entries",
                st->ctx, ty->name, o, r->ncanon);
            got[2 * ng] = a;
            got[2 * ng + 1] = b;
            ng++;
        }
        qsort(got, ng, 2 * sizeof *got, cmp_pair);
    } else {
        HT_OK(hollow_set_iter_init(&it, rt, o));
        while (hollow_set_iter_next(&it, &a)) {
            ck_assert_msg(
                ng < r->ncanon,
                "%s: type %s ordinal %d: iteration gives more than %zu "
                "elements",
                st->ctx, ty->name, o, r->ncanon);
            got[ng++] = a;
        }
        qsort(got, ng, sizeof *got, cmp_i32);
    }
    ck_assert_msg(ng == r->ncanon,
                  "%s: type %s ordinal %d: iteration gives %zu, expected %zu",
                  st->ctx, ty->name, o, ng, r->ncanon);
    for (size_t i = 0; i < ng * per; i++)
        ck_assert_msg(
            got[i] == r->canon[i],
            "%s: type %s ordinal %d: %s %zu (sorted) is %d, expected %d",
            st->ctx, ty->name, o, is_map ? "entry ordinal" : "element", i,
            got[i], r->canon[i]);
    free(got);
    /* lookups by ordinal */
    for (size_t i = 0; i < r->ncanon; i++) {
        hollow_ordinal e = r->canon[i * per];
        if (is_map) {
            hollow_ordinal v = -1;
            rc = hollow_map_get(&v, rt, o, e);
            ck_assert_msg(rc == 0 && v == r->canon[i * 2 + 1],
                          "%s: type %s ordinal %d: hollow_map_get(key %d) rc "
                          "%d value %d, expected %d",
                          st->ctx, ty->name, o, e, rc, v, r->canon[i * 2 + 1]);
        } else {
            bool in = false;
            rc = hollow_set_contains(&in, rt, o, e);
            ck_assert_msg(
                rc == 0 && in,
                "%s: type %s ordinal %d: hollow_set_contains(%d) rc %d says %d",
                st->ctx, ty->name, o, e, rc, (int)in);
        }
    }
    /* absent ordinals: populated ones for hash-keyed types (the key is read
     * from the probe record), any for the others */
    for (int i = 0; i < 3; i++) {
        hollow_ordinal e =
            (hollow_ordinal)rs_below(rng, (uint32_t)(m->max[ty->elem] + 4));
        if (ty->nkeys > 0 && !populated(m, ty->elem, e))
            continue;
        bool member = false;
        for (size_t j = 0; j < r->ncanon; j++)
            member |= r->canon[j * per] == e;
        if (member)
            continue;
        if (is_map) {
            hollow_ordinal v = -1;
            rc = hollow_map_get(&v, rt, o, e);
            ck_assert_msg(rc == HOLLOW_ENOTFOUND,
                          "%s: type %s ordinal %d: hollow_map_get(absent key "
                          "%d) rc %d value %d",
                          st->ctx, ty->name, o, e, rc, v);
        } else {
            bool in = true;
            rc = hollow_set_contains(&in, rt, o, e);
            ck_assert_msg(rc == 0 && !in,
                          "%s: type %s ordinal %d: hollow_set_contains(absent "
                          "%d) rc %d says %d",
                          st->ctx, ty->name, o, e, rc, (int)in);
        }
    }
    if (ty->nkeys == 0)
        return;
    /* lookups by key values */
    hollow_value keys[8];
    char *bufs[8];
    for (size_t i = 0; i < r->ncanon; i++) {
        hollow_ordinal e = r->canon[i * per];
        int32_t idx = m->idx[ty->elem][e];
        memset(bufs, 0, sizeof bufs);
        key_probe(st, ty, idx, keys, bufs);
        hollow_ordinal found = -1, fv = -1;
        rc = is_map ? hollow_map_find(&found, &fv, rt, o, keys, ty->nkeys)
                    : hollow_set_find(&found, rt, o, keys, ty->nkeys);
        ck_assert_msg(
            rc == 0,
            "%s: type %s ordinal %d: %s with the key of %s %d: rc %d (%s)",
            st->ctx, ty->name, o,
            is_map ? "hollow_map_find" : "hollow_set_find",
            is_map ? "key" : "element", e, rc, hollow_error_last()->message);
        size_t at = r->ncanon;
        for (size_t j = 0; j < r->ncanon; j++)
            if (r->canon[j * per] == found)
                at = j;
        ck_assert_msg(at < r->ncanon &&
                          key_tuple_eq(st, ty, m->idx[ty->elem][found], idx) &&
                          (!is_map || fv == r->canon[at * 2 + 1]),
                      "%s: type %s ordinal %d: find with the key of %d gave %d "
                      "(value %d), not a "
                      "member with that key",
                      st->ctx, ty->name, o, e, found, fv);
        for (size_t q = 0; q < ty->nkeys; q++)
            free(bufs[q]);
    }
    /* a key no member has */
    for (int tries = 0; tries < 4 && st->types[ty->elem].n > 0; tries++) {
        int32_t idx = (int32_t)rs_below(rng, (uint32_t)st->types[ty->elem].n);
        bool clash = false;
        for (size_t j = 0; j < r->ncanon && !clash; j++)
            clash =
                key_tuple_eq(st, ty, m->idx[ty->elem][r->canon[j * per]], idx);
        if (clash)
            continue;
        memset(bufs, 0, sizeof bufs);
        key_probe(st, ty, idx, keys, bufs);
        hollow_ordinal found = -1, fv = -1;
        rc = is_map ? hollow_map_find(&found, &fv, rt, o, keys, ty->nkeys)
                    : hollow_set_find(&found, rt, o, keys, ty->nkeys);
        ck_assert_msg(rc == HOLLOW_ENOTFOUND,
                      "%s: type %s ordinal %d: find with the key of non-member "
                      "%d: rc %d found %d",
                      st->ctx, ty->name, o, st->types[ty->elem].v[idx].ord, rc,
                      found);
        for (size_t q = 0; q < ty->nkeys; q++)
            free(bufs[q]);
        break;
    }
}

void rs_state_check(const rs_state *st, const hollow_read_state *rs,
                    int64_t tag, const rs_state *prev)
{
    const rs_schema *s = st->schema;
    uint64_t rng = 0x5EED0000u ^ s->ntypes;
    ordidx m = ordidx_make(st);
    hollow_schema_list *l = rs_schema_list(s);

    ck_assert_msg(hollow_read_state_type_count(rs) == s->ntypes,
                  "%s: the read state has %zu types, expected %zu", st->ctx,
                  hollow_read_state_type_count(rs), s->ntypes);
    ck_assert_msg(hollow_read_state_randomized_tag(rs) == tag,
                  "%s: randomized tag %lld, expected %lld", st->ctx,
                  (long long)hollow_read_state_randomized_tag(rs),
                  (long long)tag);
    ck_assert_msg(hollow_read_state_header_tag_count(rs) == st->ntags,
                  "%s: %zu header tags, expected %zu", st->ctx,
                  hollow_read_state_header_tag_count(rs), st->ntags);
    for (size_t i = 0; i < st->ntags; i++) {
        const char *v = hollow_read_state_header_tag(rs, st->tag_keys[i]);
        ck_assert_msg(v != NULL && strcmp(v, st->tag_values[i]) == 0,
                      "%s: header tag '%s' is '%s', expected '%s'", st->ctx,
                      st->tag_keys[i], v ? v : "(absent)", st->tag_values[i]);
    }
    for (size_t ti = 0; ti < s->ntypes; ti++) {
        int t = (int)ti;
        const rs_type *ty = &s->types[t];
        const hollow_type *rt = hollow_read_state_type(rs, ty->name);
        ck_assert_msg(rt != NULL, "%s: type %s is missing", st->ctx, ty->name);
        ck_assert_msg(hollow_type_kind(rt) == ty->kind,
                      "%s: type %s is a %s, expected %s", st->ctx, ty->name,
                      kind_word(hollow_type_kind(rt)), kind_word(ty->kind));
        ck_assert_msg(
            hollow_schema_equal(hollow_type_schema(rt),
                                hollow_schema_list_find(l, ty->name)),
            "%s: type %s: the schema read differs from the one written",
            st->ctx, ty->name);
        uint32_t shards = hollow_type_shard_count(rt);
        if (ty->shards != 0)
            ck_assert_msg(shards == ty->shards,
                          "%s: type %s has %u shards, pinned to %u", st->ctx,
                          ty->name, shards, ty->shards);
        else if (s->target_shard_size == UINT64_MAX)
            ck_assert_msg(
                shards == 1,
                "%s: type %s has %u shards, expected 1 (target UINT64_MAX)",
                st->ctx, ty->name, shards);
        size_t distinct = rs_state_distinct(st, t);
        ck_assert_msg(hollow_type_record_count(rt) == distinct,
                      "%s: type %s has %zu records, expected %zu", st->ctx,
                      ty->name, hollow_type_record_count(rt), distinct);
        /* slots: up to the largest ordinal of the retained set (§6.2) */
        hollow_ordinal retained = m.max[t];
        for (size_t k = 0; prev != NULL && k < prev->types[t].n; k++)
            if (prev->types[t].v[k].ord > retained)
                retained = prev->types[t].v[k].ord;
        hollow_ordinal mo = hollow_type_max_ordinal(rt);
        ck_assert_msg(
            prev == NULL ? mo == m.max[t] : mo >= m.max[t] && mo <= retained,
            "%s: type %s: max ordinal %d, expected %d (largest of the retained "
            "set %d)",
            st->ctx, ty->name, mo, m.max[t], retained);
        for (hollow_ordinal o = 0; o <= mo + 2; o++)
            ck_assert_msg(
                hollow_type_is_populated(rt, o) == populated(&m, t, o),
                "%s: type %s: ordinal %d populated %d, expected %d", st->ctx,
                ty->name, o, (int)hollow_type_is_populated(rt, o),
                (int)populated(&m, t, o));
        size_t it = 0;
        for (hollow_ordinal o = hollow_type_next_ordinal(rt, 0); o >= 0;
             o = hollow_type_next_ordinal(rt, o + 1)) {
            ck_assert_msg(populated(&m, t, o),
                          "%s: type %s: next_ordinal gives %d, not a record",
                          st->ctx, ty->name, o);
            it++;
        }
        ck_assert_msg(it == distinct,
                      "%s: type %s: next_ordinal visits %zu, expected %zu",
                      st->ctx, ty->name, it, distinct);
        for (size_t k = 0; k < st->types[t].n; k++) {
            const rs_rec *r = &st->types[t].v[k];
            if (ty->kind == HOLLOW_SCHEMA_OBJECT)
                check_object(st, rt, t, r, k);
            else
                check_collection(st, &m, rt, t, r, k, &rng);
        }
    }
    hollow_schema_list_free(l);
    ordidx_free(&m, s->ntypes);
}

/* -------------------------------------------------------------- python */

void rs_dump(rs_buf *out, const hollow_read_state *rs, const char *ctx)
{
    out->len = 0;
    int rc = hollow_dump_canonical(rs, rs_buf_text_sink, out);
    ck_assert_msg(rc == 0, "%s: hollow_dump_canonical returned %d: %s", ctx, rc,
                  hollow_error_last()->message);
}

int rs_run(const char *cmd, rs_buf *out)
{
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        rs_buf_put(out, buf, n);
    int status = pclose(p);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *command(const char *tool, const char *opts,
                     const char *const *files, size_t n, const char *tail)
{
    rs_buf b = {0};
    char *head =
        xprintf("%s '%s/tools/%s' %s", HOLLOW_PYTHON, HOLLOW_TESTS_DIR, tool,
                opts);
    rs_buf_put(&b, head, strlen(head));
    free(head);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(strchr(files[i], '\'') == NULL, "quote in %s", files[i]);
        char *f = xprintf(" '%s'", files[i]);
        rs_buf_put(&b, f, strlen(f));
        free(f);
    }
    rs_buf_put(&b, tail, strlen(tail) + 1);
    return (char *)b.p;
}

void rs_check_python_dump(const char *ctx, const char *const *files, size_t n,
                          const rs_buf *c_dump)
{
    char *cmd = command("hollow_read.py", "", files, n, "");
    rs_buf py = {0};
    int status = rs_run(cmd, &py);
    ck_assert_msg(status == 0, "%s: %s exited with %d", ctx, cmd, status);
    if (py.len != c_dump->len || memcmp(py.p, c_dump->p, py.len) != 0) {
        size_t i = 0, line = 1, start = 0;
        while (i < py.len && i < c_dump->len && py.p[i] == c_dump->p[i]) {
            if (py.p[i] == '\n') {
                line++;
                start = i + 1;
            }
            i++;
        }
        size_t pe = start, ce = start;
        while (pe < py.len && py.p[pe] != '\n' && pe - start < 300)
            pe++;
        while (ce < c_dump->len && c_dump->p[ce] != '\n' && ce - start < 300)
            ce++;
        ck_abort_msg(
            "%s: the dumps differ (python %zu bytes, C %zu bytes) at line "
            "%zu:\n"
            "python: %.*s\nC:      %.*s",
            ctx, py.len, c_dump->len, line, (int)(pe - start),
            start < py.len ? (const char *)py.p + start : "", (int)(ce - start),
            start < c_dump->len ? (const char *)c_dump->p + start : "");
    }
    rs_buf_free(&py);
    free(cmd);
}

void rs_check_lint(const char *ctx, const char *opts, const char *const *files,
                   size_t n, rs_buf *out)
{
    char *cmd = command("hollow_lint.py", opts, files, n, " 2>&1");
    rs_buf o = {0};
    int status = rs_run(cmd, &o);
    if (status != 0) {
        fprintf(stderr, "%s: %s\n%.*s\n", ctx, cmd, (int)o.len,
                o.p ? (char *)o.p : "");
        ck_abort_msg("%s: hollow_lint.py exited with %d:\n%.*s", ctx, status,
                     (int)(o.len < 3000 ? o.len : 3000),
                     o.p ? (char *)o.p : "");
    }
    if (out != NULL)
        rs_buf_put(out, o.p, o.len);
    rs_buf_free(&o);
    free(cmd);
}

int rs_lint_count(const rs_buf *out, const char *level)
{
    /* "checked N blob(s): X MUST violation(s), Y SHOULD finding(s), Z note(s)"
     */
    const char *p = (const char *)out->p, *end = p + out->len;
    size_t ll = strlen(level);
    for (const char *line = p; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (len > 8 && memcmp(line, "checked ", 8) == 0) {
            for (const char *q = line; q + ll + 1 < line + len; q++)
                if (*q == ' ' && memcmp(q + 1, level, ll) == 0) {
                    const char *d = q;
                    while (d > line && d[-1] >= '0' && d[-1] <= '9')
                        d--;
                    if (d < q)
                        return atoi(d);
                }
        }
        line += len + 1;
    }
    return -1;
}
