/*
 * Index paths: resolving them over a read state's types, reading the key
 * values they lead to, hashing and comparing those values, and turning
 * probe values into the same form.
 *
 * Resolution (include/hollow/index.h, blob-format.md §4.2). A path is cut
 * into runs at collection boundaries: a run of OBJECT field segments is
 * resolved by the schema module's resolver (hollow__schema_key_path_
 * resolve, which also does the auto-expansion), with a '!' appended when
 * the run ends on the REFERENCE to a LIST, SET or MAP (so that it is not
 * expanded); the collection segment (`element`, `key`, `value`) becomes a
 * hop of its own, and the path goes on in the element type. A path that
 * ends on an element, key or value is expanded as a REFERENCE field would
 * be: the single field of the referenced OBJECT type, or its single-field
 * primary key, again through the resolver.
 *
 *   "actors.element.name" over Movie:
 *     FIELD(Movie.actors) -> ELEMENTS(SetOfActor) -> FIELD(Actor.name)
 *       -> FIELD(String.value)
 *
 * Walks. A single-valued path (primary and unique keys) is read hop by
 * hop. The paths of a hash index are merged into a tree (common leading
 * hops are one node) and walked depth first, so paths through the same
 * collection see the same element; the tuples of values are the cross
 * product of what the branches yield. Every record reached through a
 * reference, element, key or value is checked to be populated (else the
 * path's value is null and the walk is marked dangling) and, when the
 * walk counts, counted in the visit counts of its type.
 *
 * Values. ix_val is a value in canonical form: fixed-width fields as bits
 * that are equal exactly when the values are (zigzag INT/LONG, IEEE bits of
 * FLOAT/DOUBLE), strings in their stored form (§6.4), so that comparing a
 * probe with a record never decodes the record. Hashing covers at most the
 * first IX_HEAD bytes of a var-length value (and its length), so that a
 * STRING probe is encoded once into a bounded stack buffer.
 */
#include <string.h>

#include "index_int.h"

#include "blob/format.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "common/reader.h"
#include "common/text.h"
#include "read/access.h"


/* ========================================================== resolution */

static const char *kind_name(hollow_schema_kind k)
{
    switch (k) {
    case HOLLOW_SCHEMA_LIST: return "LIST";
    case HOLLOW_SCHEMA_SET: return "SET";
    case HOLLOW_SCHEMA_MAP: return "MAP";
    default: return "OBJECT";
    }
}

static bool is_var(hollow_field_type t)
{
    return t == HOLLOW_FIELD_STRING || t == HOLLOW_FIELD_BYTES;
}

typedef hollow__array(ix_hop) hop_vec;

static int hop_push(hop_vec *h, ix_hop hop)
{
    ix_hop *slot = hollow__array_push(h, 8);
    HOLLOW_CHECK_ALLOC(slot);
    *slot = hop;
    return 0;
}

/* the state's type of a schema the resolver returned */
static const hollow_type *state_type(const hollow_read_state *rs,
                                     const hollow_schema *s)
{
    return hollow_read_state_type(rs, s->name);
}

/*
 * Resolve `text` (no '!' handling: the caller appends it) from OBJECT type
 * `from` with the schema resolver and append FIELD hops. *ordinal tells
 * whether the value is the last hop's reference.
 */
static int resolve_run(hop_vec *hops, bool *ordinal,
                       const hollow_read_state *rs,
                       const hollow_schema_list *view, const hollow_type *from,
                       const char *text)
{
    hollow__schema_key_path kp;
    int rc =
        hollow__schema_key_path_resolve(&kp, view, from->schema->name, text);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < kp.hop_count && rc == 0; i++) {
        ix_hop hop;
        memset(&hop, 0, sizeof hop);
        hop.kind = IX_FIELD;
        hop.type = state_type(rs, kp.hops[i].schema);
        hop.field = (uint32_t)kp.hops[i].field;
        hop.ftype = kp.hops[i].schema->fields[kp.hops[i].field].type;
        hop.vslot = -1;
        rc = hop_push(hops, hop);
    }
    *ordinal = kp.ordinal;
    hollow__schema_key_path_clear(&kp);
    return rc;
}

/* the type a followed hop reaches; NULL for ENTRIES and value fields */
static const hollow_type *reached(const hollow_read_state *rs, const ix_hop *h)
{
    const hollow_schema *s = h->type->schema;
    switch (h->kind) {
    case IX_FIELD:
        return h->ftype == HOLLOW_FIELD_REFERENCE
                   ? hollow_read_state_type(rs, s->fields[h->field].ref_type)
                   : NULL;
    case IX_ELEMENTS: return hollow_read_state_type(rs, s->elem_type);
    case IX_KEY: return hollow_read_state_type(rs, s->elem_type);
    case IX_VALUE: return hollow_read_state_type(rs, s->value_type);
    default: return NULL;
    }
}

/*
 * A path ends on a reference to `t` (an element, key or value): expand it
 * as §4.2 expands a REFERENCE field, through the resolver.
 */
static int expand_end(hop_vec *hops, bool *ordinal, const hollow_read_state *rs,
                      const hollow_schema_list *view, const hollow_type *t,
                      const char *path)
{
    const hollow_schema *s = t->schema;
    if (s->kind != HOLLOW_SCHEMA_OBJECT)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "path %s ends on %s type %s: go on with "
                                 "'element', 'key' or 'value', or end it "
                                 "with '!'",
                                 path, kind_name(s->kind), s->name);
    const char *sub;
    if (s->field_count == 1)
        sub = s->fields[0].name;
    else if (s->key_count == 1)
        sub = s->key_paths[0];
    else
        return hollow__error_set(HOLLOW_EINVAL,
                                 "path %s ends on type %s, which has neither "
                                 "exactly one field nor a single-field "
                                 "primary key: name a field or end the path "
                                 "with '!'",
                                 path, s->name);
    int rc = resolve_run(hops, ordinal, rs, view, t, sub);
    if (rc == HOLLOW_EINVAL) /* the resolver's message names only `sub` */
        hollow__error_prefix("path %s", path);
    return rc;
}

static int resolve_path(ix_path *p, const hollow_read_state *rs,
                        const hollow_schema_list *view, const hollow_type *root,
                        const char *text, bool allow_multi)
{
    hop_vec hops = {NULL, 0, 0};
    char *body = NULL, *run = NULL;
    char **segs = NULL;
    bool ordinal = false;
    int rc = 0;
    size_t tl = strlen(text);
    bool bang = tl > 0 && text[tl - 1] == '!';

    memset(p, 0, sizeof *p);
    p->text = hollow__strdup(text);
    body = hollow__strndup(text, bang ? tl - 1 : tl);
    run = hollow__malloc(tl + 2);
    segs = hollow__calloc(tl + 1, sizeof *segs);
    if (p->text == NULL || body == NULL || run == NULL || segs == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    size_t nseg = 0;
    for (char *s = body;;) {
        char *dot = strchr(s, '.');
        segs[nseg++] = s;
        if (dot == NULL)
            break;
        *dot = '\0';
        s = dot + 1;
    }
    for (size_t i = 0; i < nseg; i++)
        if (segs[i][0] == '\0') {
            rc = hollow__error_set(HOLLOW_EINVAL, "path %s: empty segment",
                                   text);
            goto done;
        }

    const hollow_type *cur = root;
    size_t i = 0;
    for (;;) {
        const hollow_schema *s = cur->schema;
        if (s->kind == HOLLOW_SCHEMA_OBJECT) {
            /* the run of OBJECT segments from i: up to the end, or to the
             * REFERENCE that leads into a collection */
            size_t k = i;
            const hollow_schema *sk = s;
            const hollow_type *coll = NULL;
            for (;;) {
                int f = hollow_schema_field_index(sk, segs[k]);
                if (f < 0 || k + 1 == nseg)
                    break; /* the resolver reports a missing field */
                if (sk->fields[f].type != HOLLOW_FIELD_REFERENCE)
                    break;
                const hollow_type *nt =
                    hollow_read_state_type(rs, sk->fields[f].ref_type);
                if (nt == NULL)
                    break;
                if (nt->schema->kind != HOLLOW_SCHEMA_OBJECT) {
                    coll = nt;
                    break;
                }
                sk = nt->schema;
                k++;
            }
            if (coll == NULL)
                k = nseg - 1; /* the resolver takes (or rejects) the rest */
            size_t len = 0;
            for (size_t j = i; j <= k; j++) {
                size_t sl = strlen(segs[j]);
                if (j > i)
                    run[len++] = '.';
                memcpy(run + len, segs[j], sl);
                len += sl;
            }
            if (coll != NULL || (k + 1 == nseg && bang))
                run[len++] = '!';
            run[len] = '\0';
            if ((rc = resolve_run(&hops, &ordinal, rs, view, cur, run)) < 0) {
                if (rc == HOLLOW_EINVAL)
                    hollow__error_prefix("path %s", text);
                goto done;
            }
            if (coll == NULL)
                break;
            cur = coll;
            i = k + 1;
            continue;
        }
        if (!allow_multi) {
            rc = hollow__error_set(HOLLOW_EINVAL,
                                   "path %s goes through %s type %s: a key "
                                   "has one value per record (use a hash "
                                   "index)",
                                   text, kind_name(s->kind), s->name);
            goto done;
        }
        ix_hop hop;
        memset(&hop, 0, sizeof hop);
        hop.type = cur;
        hop.vslot = -1;
        const char *want = s->kind == HOLLOW_SCHEMA_MAP ? "'key' or 'value'"
                                                        : "'element'";
        const char *next_name = NULL;
        if (s->kind != HOLLOW_SCHEMA_MAP && strcmp(segs[i], "element") == 0) {
            hop.kind = IX_ELEMENTS;
            next_name = s->elem_type;
        } else if (s->kind == HOLLOW_SCHEMA_MAP &&
                   (strcmp(segs[i], "key") == 0 ||
                    strcmp(segs[i], "value") == 0)) {
            hop.kind = IX_ENTRIES;
            if ((rc = hop_push(&hops, hop)) < 0)
                goto done;
            bool key = segs[i][0] == 'k';
            hop.kind = key ? IX_KEY : IX_VALUE;
            next_name = key ? s->elem_type : s->value_type;
        } else {
            rc = hollow__error_set(HOLLOW_EINVAL,
                                   "path %s: after %s type %s comes %s, not "
                                   "'%s'",
                                   text, kind_name(s->kind), s->name, want,
                                   segs[i]);
            goto done;
        }
        if ((rc = hop_push(&hops, hop)) < 0)
            goto done;
        cur = hollow_read_state_type(rs, next_name);
        if (cur == NULL) {
            rc = hollow__error_set(HOLLOW_EINVAL,
                                   "path %s: type %s is not in the state",
                                   text, next_name);
            goto done;
        }
        if (++i == nseg) {
            if (bang) {
                ordinal = true;
                break;
            }
            if ((rc = expand_end(&hops, &ordinal, rs, view, cur, text)) < 0)
                goto done;
            break;
        }
    }

    /* what each hop reaches when followed; value type */
    for (size_t h = 0; h < hops.n; h++) {
        hops.v[h].next = reached(rs, &hops.v[h]);
        if (hops.v[h].kind != IX_FIELD)
            p->multi = true;
    }
    const ix_hop *last = &hops.v[hops.n - 1];
    p->vtype = ordinal || last->kind != IX_FIELD ? HOLLOW_FIELD_REFERENCE
                                                 : last->ftype;
    p->hops = hops.v;
    p->nhops = hops.n;
    hops.v = NULL;
done:
    hollow__free(hops.v);
    hollow__free(body);
    hollow__free(run);
    hollow__free(segs);
    return rc;
}

/* the visit slot of type t, added if new */
static int vslot_of(ix_spec *sp, const hollow_type *t)
{
    for (size_t i = 0; i < sp->nvtypes; i++)
        if (sp->vtypes[i] == t)
            return (int)i;
    const hollow_type **v =
        hollow__reallocarray(sp->vtypes, sp->nvtypes + 1, sizeof *v);
    if (v == NULL)
        return hollow__error_oom();
    sp->vtypes = v;
    v[sp->nvtypes] = t;
    return (int)sp->nvtypes++;
}

static bool hop_same_place(const ix_hop *a, const ix_hop *b)
{
    return a->kind == b->kind && a->type == b->type && a->field == b->field;
}

/* merge the paths into the walk tree of a hash index */
static int build_tree(ix_spec *sp)
{
    size_t total = 1;
    for (size_t p = 0; p < sp->npaths; p++)
        total += sp->paths[p].nhops;
    sp->nodes = hollow__calloc(total, sizeof *sp->nodes);
    HOLLOW_CHECK_ALLOC(sp->nodes);
    sp->nnodes = 1;
    sp->nodes[0].hop.vslot = -1;
    for (size_t p = 0; p < sp->npaths; p++) {
        const ix_path *path = &sp->paths[p];
        uint32_t at = 0;
        sp->nodes[0].below |= 1u << p;
        for (size_t h = 0; h < path->nhops; h++) {
            const ix_hop *hop = &path->hops[h];
            ix_node *nd = &sp->nodes[at];
            uint32_t found = UINT32_MAX;
            for (uint32_t k = 0; k < nd->nkids; k++)
                if (hop_same_place(&sp->nodes[nd->kids[k]].hop, hop))
                    found = nd->kids[k];
            if (found == UINT32_MAX) {
                uint32_t *kids =
                    hollow__reallocarray(nd->kids, nd->nkids + 1, sizeof *kids);
                HOLLOW_CHECK_ALLOC(kids);
                nd->kids = kids;
                found = (uint32_t)sp->nnodes++;
                kids[nd->nkids++] = found;
                sp->nodes[found].hop = *hop;
            }
            ix_node *kid = &sp->nodes[found];
            if (hop->vslot >= 0)
                kid->hop.vslot = hop->vslot;
            kid->below |= 1u << p;
            if (h + 1 == path->nhops)
                kid->finals |= 1u << p;
            at = found;
        }
    }
    return 0;
}

int hollow__ix_spec_init(ix_spec *sp, const hollow_read_state *rs,
                         const char *type, const char *const *paths,
                         size_t npaths, bool allow_multi)
{
    memset(sp, 0, sizeof *sp);
    sp->rs = rs;
    if (npaths == 0 || paths == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "an index needs key paths");
    if (npaths > IX_MAX_PATHS)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "an index has at most %d paths, %zu given",
                                 IX_MAX_PATHS, npaths);
    sp->root = hollow_read_state_type(rs, type);
    if (sp->root == NULL)
        return hollow__error_set(HOLLOW_ENOTFOUND, "the state has no type %s",
                                 type);
    if (sp->root->schema->kind != HOLLOW_SCHEMA_OBJECT)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "type %s is a %s: indexes are on OBJECT types",
                                 type, kind_name(sp->root->schema->kind));
    sp->paths = hollow__calloc(npaths, sizeof *sp->paths);
    HOLLOW_CHECK_ALLOC(sp->paths);

    /* a borrowed view of the state's schemas for the resolver */
    size_t n = hollow_read_state_type_count(rs);
    hollow_schema **items = hollow__calloc(n ? n : 1, sizeof *items);
    if (items == NULL)
        return hollow__error_oom();
    for (size_t i = 0; i < n; i++)
        items[i] = (hollow_schema *)hollow_type_schema(
            hollow_read_state_type_at(rs, i));
    hollow_schema_list view = {items, n, n};
    int rc = 0;
    for (size_t p = 0; p < npaths && rc == 0; p++) {
        if (paths[p] == NULL) {
            rc = hollow__error_set(HOLLOW_EINVAL, "path %zu is NULL", p);
            break;
        }
        rc = resolve_path(&sp->paths[p], rs, &view, sp->root, paths[p],
                          allow_multi);
        if (rc == 0)
            sp->npaths = p + 1;
        else
            hollow__free(sp->paths[p].text);
    }
    hollow__free(items);
    if (rc < 0)
        return rc;
    size_t hops = 0;
    for (size_t p = 0; p < npaths; p++)
        hops += sp->paths[p].nhops;
    if (hops >= IX_MAX_NODES)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "the index paths have %zu hops, at most %d "
                                 "are allowed",
                                 hops, IX_MAX_NODES - 1);
    /* visit slots for every followed hop */
    for (size_t p = 0; p < npaths; p++) {
        ix_path *path = &sp->paths[p];
        for (size_t h = 0; h + 1 < path->nhops; h++) {
            ix_hop *hop = &path->hops[h];
            if (hop->next == NULL)
                continue;
            int v = vslot_of(sp, hop->next);
            if (v < 0)
                return v;
            hop->vslot = v;
        }
    }
    if (allow_multi)
        return build_tree(sp);
    return 0;
}

void hollow__ix_spec_clear(ix_spec *sp)
{
    for (size_t p = 0; p < sp->npaths; p++) {
        hollow__free(sp->paths[p].text);
        hollow__free(sp->paths[p].hops);
    }
    hollow__free(sp->paths);
    for (size_t i = 0; i < sp->nnodes; i++)
        hollow__free(sp->nodes[i].kids);
    hollow__free(sp->nodes);
    hollow__free(sp->vtypes);
    memset(sp, 0, sizeof *sp);
}

bool hollow__ix_spec_same(const ix_spec *a, const ix_spec *b)
{
    if (a->npaths != b->npaths || a->nvtypes != b->nvtypes ||
        !hollow_schema_equal(a->root->schema, b->root->schema))
        return false;
    for (size_t p = 0; p < a->npaths; p++) {
        const ix_path *x = &a->paths[p], *y = &b->paths[p];
        if (x->nhops != y->nhops || x->vtype != y->vtype ||
            strcmp(x->text, y->text) != 0)
            return false;
        for (size_t h = 0; h < x->nhops; h++) {
            const ix_hop *u = &x->hops[h], *v = &y->hops[h];
            if (u->kind != v->kind || u->field != v->field ||
                u->vslot != v->vslot ||
                !hollow_schema_equal(u->type->schema, v->type->schema) ||
                (u->next == NULL) != (v->next == NULL) ||
                (u->next != NULL &&
                 !hollow_schema_equal(u->next->schema, v->next->schema)))
                return false;
        }
    }
    for (size_t i = 0; i < a->nvtypes; i++)
        if (strcmp(a->vtypes[i]->schema->name, b->vtypes[i]->schema->name) != 0)
            return false;
    return true;
}

/* ============================================================== values */

/*
 * Field f of record o of OBJECT type t in canonical form. Mirrors the
 * accessors of read/object.c (null sentinels, corrupt values) without their
 * argument checks.
 */
static int read_field(ix_val *v, const hollow_type *t, hollow_ordinal o,
                      uint32_t f, hollow_field_type ft)
{
    const hollow__shard *s = NULL;
    uint32_t j = 0;
    int rc = hollow__locate(&s, &j, t, o);
    if (rc < 0)
        return rc;
    v->utf8 = NULL;
    v->utf8_len = 0;
    v->var = is_var(ft);
    if (v->var) {
        const uint8_t *p = NULL;
        size_t len = 0;
        v->ptr = NULL;
        v->have = 0;
        v->bits = 0;
        rc = hollow__var_range(&p, &len, t, s, j, f);
        if (rc < 0)
            return rc;
        v->null = rc == HOLLOW_NULL;
        if (!v->null) {
            v->ptr = p;
            v->have = len;
            v->bits = len;
        }
        return 0;
    }
    uint64_t raw = hollow__field_raw(s, j, f);
    v->ptr = NULL;
    v->have = 0;
    int r = hollow__ix_fixed_decode(&v->bits, raw, s->widths[f], ft);
    if (r < 0)
        return hollow__ix_bad_fixed(t, o, ft, raw);
    v->null = r == 1;
    return 0;
}

int hollow__ix_bad_fixed(const hollow_type *t, hollow_ordinal o,
                         hollow_field_type ft, uint64_t raw)
{
    if (ft == HOLLOW_FIELD_BOOLEAN)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "type %s ordinal %d: boolean value %llu",
                                 t->schema->name, (int)o,
                                 (unsigned long long)raw);
    return hollow__error_set(HOLLOW_ECORRUPT,
                             "type %s ordinal %d: reference %llu too large",
                             t->schema->name, (int)o, (unsigned long long)raw);
}

static void set_null(ix_val *v)
{
    memset(v, 0, sizeof *v);
    v->null = true;
}

static void set_ordinal(ix_val *v, hollow_ordinal o)
{
    memset(v, 0, sizeof *v);
    v->bits = (uint64_t)(uint32_t)o;
}

/*
 * Enter record `o` of `hop->next` from `hop`: false (and the walk marked
 * dangling) if no record is there; else counted.
 */
static bool visit(ix_walk *w, const ix_hop *hop, hollow_ordinal o)
{
    if (!hollow_type_is_populated(hop->next, o)) {
        w->dangling = true;
        return false;
    }
    if (w->counts != NULL && hop->vslot >= 0) {
        uint32_t *c = w->counts[hop->vslot];
        if ((uint32_t)o < w->count_len[hop->vslot]) {
            if (w->delta > 0)
                c[o]++;
            else if (c[o] > 0)
                c[o]--;
            else
                w->broken = true; /* cannot happen: forces a rebuild */
        } else {
            w->broken = true;
        }
    }
    return true;
}

/* the value of single-valued path p of record o */
static int read_path(ix_walk *w, const ix_path *p, hollow_ordinal o, ix_val *v)
{
    size_t last = p->nhops - 1;
    for (size_t h = 0; h < last; h++) {
        const ix_hop *hop = &p->hops[h];
        ix_val r;
        int rc =
            read_field(&r, hop->type, o, hop->field, HOLLOW_FIELD_REFERENCE);
        if (rc < 0)
            return rc;
        if (r.null || !visit(w, hop, (hollow_ordinal)r.bits)) {
            set_null(v);
            return 0;
        }
        o = (hollow_ordinal)r.bits;
    }
    const ix_hop *hop = &p->hops[last];
    return read_field(v, hop->type, o, hop->field, hop->ftype);
}

int hollow__ix_read_key(ix_walk *w, hollow_ordinal o, ix_val *vals)
{
    const ix_spec *sp = w->sp;
    for (size_t p = 0; p < sp->npaths; p++) {
        int rc = read_path(w, &sp->paths[p], o, &vals[p]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

bool hollow__ix_key_equals(const ix_spec *sp, hollow_ordinal o,
                           const ix_val *probe)
{
    ix_walk w = {sp, NULL, NULL, 0, false, false};
    for (size_t p = 0; p < sp->npaths; p++) {
        ix_val v;
        if (read_path(&w, &sp->paths[p], o, &v) < 0 ||
            !hollow__ix_val_eq(&v, &probe[p]))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------- tuple walks */

typedef struct gen_item {
    uint32_t node;
    hollow_ordinal a, b; /* the record; for KEY/VALUE the entry (a, b) */
} gen_item;

typedef struct gen_ctx {
    ix_walk *w;
    const ix_spec *sp;
    ix_val vals[IX_MAX_PATHS];
    ix_emit_fn emit;
    void *ctx;
} gen_ctx;

static void null_paths(gen_ctx *g, uint32_t mask)
{
    for (size_t p = 0; p < g->sp->npaths; p++)
        if (mask & (1u << p))
            set_null(&g->vals[p]);
}

static int gen(gen_ctx *g, gen_item *st, size_t n);

/*
 * Node nd yielded ordinal `o` (an element, key, value or reference): set
 * the paths ending here, then go on below it (or with null below it if no
 * record is there).
 */
static int gen_ref(gen_ctx *g, const ix_node *nd, hollow_ordinal o,
                   gen_item *st, size_t n)
{
    for (size_t p = 0; p < g->sp->npaths; p++)
        if (nd->finals & (1u << p))
            set_ordinal(&g->vals[p], o);
    if (nd->nkids == 0)
        return gen(g, st, n);
    if (!visit(g->w, &nd->hop, o)) {
        null_paths(g, nd->below & ~nd->finals);
        return gen(g, st, n);
    }
    for (uint32_t k = 0; k < nd->nkids; k++) {
        st[n + k].node = nd->kids[k];
        st[n + k].a = o;
        st[n + k].b = 0;
    }
    return gen(g, st, n + nd->nkids);
}

/*
 * Depth-first enumeration of the tuples. st[0 .. n) are the pending nodes
 * (with the record each applies to); the last one is expanded, its
 * children pushed in its place. gen() leaves st[0 .. n) as it found it, so
 * a caller can push the next element's children at the same place.
 */
static int gen(gen_ctx *g, gen_item *st, size_t n)
{
    if (n == 0)
        return g->emit(g->ctx, g->vals);
    gen_item it = st[n - 1];
    const ix_node *nd = &g->sp->nodes[it.node];
    const ix_hop *hop = &nd->hop;
    int rc = 0;
    n--;
    switch (hop->kind) {
    case IX_FIELD: {
        ix_val v;
        if ((rc = read_field(&v, hop->type, it.a, hop->field, hop->ftype)) < 0)
            break;
        if (nd->nkids == 0 || v.null) {
            for (size_t p = 0; p < g->sp->npaths; p++)
                if (nd->finals & (1u << p))
                    g->vals[p] = v;
            if (nd->nkids > 0)
                null_paths(g, nd->below & ~nd->finals);
            rc = gen(g, st, n);
            break;
        }
        rc = gen_ref(g, nd, (hollow_ordinal)v.bits, st, n);
        break;
    }
    case IX_ELEMENTS:
        if (hop->type->schema->kind == HOLLOW_SCHEMA_LIST) {
            uint32_t size = 0;
            if ((rc = hollow_list_size(&size, hop->type, it.a)) < 0)
                break;
            for (uint32_t i = 0; i < size && rc == 0; i++) {
                hollow_ordinal e;
                if ((rc = hollow_list_get(&e, hop->type, it.a, i)) < 0)
                    break;
                rc = gen_ref(g, nd, e, st, n);
            }
        } else {
            hollow_iter iter;
            hollow_ordinal e;
            if ((rc = hollow_set_iter_init(&iter, hop->type, it.a)) < 0)
                break;
            while (rc == 0 && hollow_set_iter_next(&iter, &e)) {
                if (e < 0) {
                    rc = hollow__error_set(HOLLOW_ECORRUPT,
                                           "set %s ordinal %d: element "
                                           "ordinal too large",
                                           hop->type->schema->name, (int)it.a);
                    break;
                }
                rc = gen_ref(g, nd, e, st, n);
            }
        }
        break;
    case IX_ENTRIES: {
        hollow_iter iter;
        hollow_ordinal k, v;
        if ((rc = hollow_map_iter_init(&iter, hop->type, it.a)) < 0)
            break;
        while (rc == 0 && hollow_map_iter_next(&iter, &k, &v)) {
            if (k < 0 || v < 0) {
                rc = hollow__error_set(HOLLOW_ECORRUPT,
                                       "map %s ordinal %d: entry ordinal too "
                                       "large",
                                       hop->type->schema->name, (int)it.a);
                break;
            }
            for (uint32_t c = 0; c < nd->nkids; c++) {
                st[n + c].node = nd->kids[c];
                st[n + c].a = k;
                st[n + c].b = v;
            }
            rc = gen(g, st, n + nd->nkids);
        }
        break;
    }
    default: /* IX_KEY, IX_VALUE */
        rc = gen_ref(g, nd, hop->kind == IX_KEY ? it.a : it.b, st, n);
        break;
    }
    st[n] = it;
    return rc;
}

int hollow__ix_walk_tuples(ix_walk *w, hollow_ordinal o, ix_emit_fn emit,
                           void *ctx)
{
    gen_ctx g;
    const ix_spec *sp = w->sp;
    gen_item st[IX_MAX_NODES + 1]; /* at most one pending item per node */
    g.w = w;
    g.sp = sp;
    g.emit = emit;
    g.ctx = ctx;
    memset(g.vals, 0, sizeof g.vals);
    const ix_node *root = &sp->nodes[0];
    for (uint32_t k = 0; k < root->nkids; k++) {
        st[k].node = root->kids[k];
        st[k].a = o;
        st[k].b = 0;
    }
    return gen(&g, st, root->nkids);
}

/* ========================================================= hash, equal */

/* hash of the first min(total, IX_HEAD) bytes and the length */
static uint64_t bytes_hash(const uint8_t *p, uint64_t total)
{
    size_t n = total < IX_HEAD ? (size_t)total : IX_HEAD;
    uint64_t h = total * 0x9E3779B97F4A7C15ull ^ 0x2545F4914F6CDD1Dull;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
        h ^= h >> 29;
    }
    return h;
}

uint32_t hollow__ix_hash(const ix_val *vals, size_t n)
{
    uint64_t h = IX_HASH_SEED;
    for (size_t i = 0; i < n; i++) {
        const ix_val *v = &vals[i];
        uint64_t c;
        if (v->null)
            c = IX_HASH_NULL;
        else if (v->var)
            c = bytes_hash(v->ptr, v->bits);
        else
            c = v->bits;
        h = hollow__mix64(h ^ c);
    }
    return (uint32_t)(h >> 32);
}

/* encode one UTF-8 character of s[0..left) as stored bytes into out (at
 * most 6); returns bytes consumed from s, 0 if malformed */
static size_t encode_char(uint8_t *out, size_t *outlen, const char *s,
                          size_t left)
{
    size_t clen = hollow__utf8_seq_len((uint8_t)s[0]);
    if (clen > left)
        return 0;
    uint16_t u[2];
    long k = hollow__utf8_to_utf16(u, s, clen);
    if (k <= 0)
        return 0;
    size_t n = 0;
    for (long i = 0; i < k; i++)
        n += hollow__vint_encode(out + n, u[i]);
    *outlen = n;
    return clen;
}

/* a stored string equals a UTF-8 probe (re-encoded on the fly) */
static bool stream_eq(const uint8_t *stored, size_t len, const char *utf8,
                      size_t ulen)
{
    size_t at = 0;
    while (ulen > 0) {
        uint8_t tmp[12];
        size_t n = 0;
        size_t used = encode_char(tmp, &n, utf8, ulen);
        if (used == 0 || at + n > len || memcmp(stored + at, tmp, n) != 0)
            return false;
        at += n;
        utf8 += used;
        ulen -= used;
    }
    return at == len;
}

bool hollow__ix_val_eq(const ix_val *rec, const ix_val *probe)
{
    if (rec->null || probe->null)
        return rec->null == probe->null;
    if (rec->bits != probe->bits)
        return false; /* fixed-width bits, or var-length lengths */
    if (!probe->var)
        return true;
    if (probe->have > 0 && memcmp(rec->ptr, probe->ptr, probe->have) != 0)
        return false;
    if (probe->utf8 == NULL)
        return true; /* the whole value was compared */
    return rec->have == rec->bits &&
           stream_eq(rec->ptr, rec->have, probe->utf8, probe->utf8_len);
}

/* ============================================================== probes */

static const char *type_name(hollow_field_type t)
{
    const char *n = hollow_field_type_name(t);
    return n != NULL ? n : "?";
}

int hollow__ix_probe(ix_val *out, uint8_t *heads, const ix_spec *sp,
                     const hollow_value *keys, size_t count, bool stored)
{
    if (count != sp->npaths || (count > 0 && keys == NULL))
        return hollow__error_set(HOLLOW_EINVAL,
                                 "the index has %zu paths, %zu values given",
                                 sp->npaths, count);
    for (size_t i = 0; i < count; i++) {
        const hollow_value *k = &keys[i];
        hollow_field_type want = sp->paths[i].vtype;
        ix_val *v = &out[i];
        memset(v, 0, sizeof *v);
        v->var = is_var(want);
        if (k->type != want)
            return hollow__error_set(HOLLOW_EINVAL,
                                     "path %s has %s values, value %zu is %s",
                                     sp->paths[i].text, type_name(want), i,
                                     type_name(k->type));
        if (k->is_null) {
            set_null(v);
            continue;
        }
        if (want == HOLLOW_FIELD_BYTES || (want == HOLLOW_FIELD_STRING && stored)) {
            /* bytes as they are stored (a STRING's when `stored`) */
            if (k->u.bytes.len > 0 && k->u.bytes.ptr == NULL)
                return hollow__error_set(HOLLOW_EINVAL, "value %zu: NULL %s", i,
                                         want == HOLLOW_FIELD_BYTES ? "bytes"
                                                                    : "string");
            v->ptr = k->u.bytes.ptr;
            v->have = v->bits = k->u.bytes.len;
            continue;
        }
        switch (want) {
        case HOLLOW_FIELD_INT: {
            v->null = k->u.i == INT32_MIN;
            v->bits = v->null ? 0 : hollow__zigzag32(k->u.i);
            break;
        }
        case HOLLOW_FIELD_LONG: {
            v->null = k->u.l == INT64_MIN;
            v->bits = v->null ? 0 : hollow__zigzag64(k->u.l);
            break;
        }
        case HOLLOW_FIELD_FLOAT: {
            uint32_t b;
            memcpy(&b, &k->u.f, 4);
            v->bits = b;
            break;
        }
        case HOLLOW_FIELD_DOUBLE: memcpy(&v->bits, &k->u.d, 8); break;
        case HOLLOW_FIELD_BOOLEAN: v->bits = k->u.b ? 1 : 0; break;
        case HOLLOW_FIELD_REFERENCE:
            v->null = k->u.ref < 0;
            v->bits = v->null ? 0 : (uint64_t)(uint32_t)k->u.ref;
            break;
        default: { /* STRING, not in stored form */
            uint8_t *head = heads + i * IX_HEAD;
            const char *s = k->u.str.ptr;
            size_t left = k->u.str.len;
            size_t total = 0, have = 0;
            if (left > 0 && s == NULL)
                return hollow__error_set(HOLLOW_EINVAL, "value %zu: NULL "
                                         "string", i);
            while (left > 0) {
                uint8_t tmp[12];
                size_t n = 0;
                size_t used = encode_char(tmp, &n, s, left);
                if (used == 0)
                    return hollow__error_set(HOLLOW_EINVAL,
                                             "value %zu for path %s is not "
                                             "UTF-8",
                                             i, sp->paths[i].text);
                for (size_t b = 0; b < n && have < IX_HEAD; b++)
                    head[have++] = tmp[b];
                total += n;
                s += used;
                left -= used;
            }
            v->ptr = head;
            v->have = have;
            v->bits = total;
            if (have < total) {
                v->utf8 = k->u.str.ptr;
                v->utf8_len = k->u.str.len;
            }
            break;
        }
        }
    }
    return 0;
}
