/*
 * Whole-list checks on schemas: reference validation, key path resolution
 * with auto-expansion (blob-format.md §4.2), and Java's schema sorter
 * (§3.8).
 *
 * Key paths. A path is a list of field names starting at the keyed type;
 * every segment but the last must be a REFERENCE, and the path continues in
 * the referenced OBJECT. A path that ends on a REFERENCE is extended:
 *
 *   while the target type is an OBJECT with exactly one field:
 *       append that field (and stop once it is not a REFERENCE);
 *   else if the target has a single-path primary key:
 *       append that key's own (expanded) path and stop;
 *   else: the path is invalid.
 *
 * A trailing '!' disables the expansion (the key is then the ordinal). The
 * expansion can loop (`Z { Z z; }`, or two types whose single-field primary
 * keys reference each other); since each step is determined by the type it
 * enters, entering more types than the list holds proves a loop.
 *
 * Sorting. The dependencies of a type are the types named by its REFERENCE
 * fields, its element type, its map key and value types, restricted to
 * types in the list (a self-reference counts). Java repeatedly emits the
 * smallest name, in UTF-16 order, among the types whose dependencies were
 * all emitted, then appends whatever is left (cycles and everything that
 * depends on them) in name order. That is Kahn's algorithm with a min-heap
 * over name ranks, so it runs in O((types + edges) log types).
 */
#include "schema/schema_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"

static const char *kind_name(hollow_schema_kind k)
{
    switch (k) {
    case HOLLOW_SCHEMA_OBJECT: return "OBJECT";
    case HOLLOW_SCHEMA_LIST: return "LIST";
    case HOLLOW_SCHEMA_SET: return "SET";
    case HOLLOW_SCHEMA_MAP: return "MAP";
    }
    return "?";
}

/* --------------------------------------------------------- key paths */

void hollow__schema_key_path_clear(hollow__schema_key_path *p)
{
    if (p == NULL)
        return;
    hollow__free(p->hops);
    memset(p, 0, sizeof *p);
}

void hollow__schema_key_paths_free(hollow__schema_key_path *paths, size_t count)
{
    if (paths == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        hollow__schema_key_path_clear(&paths[i]);
    hollow__free(paths);
}

const char *hollow__schema_key_root(const hollow_schema *s)
{
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT: return s->name;
    case HOLLOW_SCHEMA_SET:
    case HOLLOW_SCHEMA_MAP: return s->elem_type;
    case HOLLOW_SCHEMA_LIST: break;
    }
    return NULL;
}

/* State of one resolution: the path text (for messages) and the hops. */
typedef struct resolver {
    const hollow_schema_list *l;
    const char *path;      /* the whole path, for messages */
    hollow__schema_hop *hops;
    size_t count, cap;
    size_t expansions;     /* types entered by auto-expansion */
    bool sorted;           /* l->items sorted by name: binary search */
} resolver;

static long find_sorted(hollow_schema *const *sorted, size_t n,
                        const char *name);

/* the type named `name` in the resolver's list, or NULL */
static const hollow_schema *find_type(const resolver *rv, const char *name)
{
    if (!rv->sorted)
        return hollow_schema_list_find(rv->l, name);
    long i = find_sorted(rv->l->items, rv->l->count, name);
    return i < 0 ? NULL : rv->l->items[i];
}

static int fail(const resolver *rv, const char *fmt, ...) HOLLOW__PRINTF(2, 3);

static int fail(const resolver *rv, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hollow__error_set(HOLLOW_EINVAL, "key path %s: %s", rv->path, msg);
}

static int push(resolver *rv, const hollow_schema *s, size_t field)
{
    HOLLOW_TRY(hollow__grow(rv->hops, rv->cap, rv->count + 1, 4));
    rv->hops[rv->count].schema = s;
    rv->hops[rv->count].field = field;
    rv->count++;
    return 0;
}

/* The OBJECT type a path enters: `name`, referenced from `from` (a
 * description for messages, NULL at the start of the path). */
static int enter(const resolver *rv, const hollow_schema **out,
                 const char *name, const char *from)
{
    const hollow_schema *t = find_type(rv, name);
    if (t == NULL)
        return from != NULL
                   ? fail(rv, "%s references unknown type %s", from, name)
                   : fail(rv, "unknown type %s", name);
    if (t->kind != HOLLOW_SCHEMA_OBJECT)
        return fail(rv, "type %s is a %s, not an OBJECT", name,
                    kind_name(t->kind));
    *out = t;
    return 0;
}

static int walk(resolver *rv, const hollow_schema *start, const char *path,
                size_t len);

/*
 * Extend a path whose last hop is the REFERENCE field `f` of `s` until it
 * ends on a value field (§4.2).
 */
static int expand(resolver *rv, const hollow_schema *s, const hollow__field *f)
{
    for (;;) {
        const hollow_schema *t = NULL;
        char from[300];
        snprintf(from, sizeof from, "field %s of type %s", f->name, s->name);
        HOLLOW_TRY(enter(rv, &t, f->ref_type, from));
        if (++rv->expansions > rv->l->count)
            return fail(rv, "expanding it through type %s never ends",
                        t->name);
        if (t->field_count == 1) {
            HOLLOW_TRY(push(rv, t, 0));
            if (t->fields[0].type != HOLLOW_FIELD_REFERENCE)
                return 0;
            s = t;
            f = &t->fields[0];
            continue;
        }
        if (t->key_count == 1)
            return walk(rv, t, t->key_paths[0], strlen(t->key_paths[0]));
        return fail(rv,
                    "it ends on a reference to type %s, which has neither "
                    "exactly one field nor a single-field primary key",
                    t->name);
    }
}

/*
 * Follow path[0..len) from the OBJECT `start`, appending hops, and expand
 * its end unless it ends in '!'. Used for the caller's path and, from
 * expand(), for a primary key path of a type reached by expansion.
 */
static int walk(resolver *rv, const hollow_schema *start, const char *path,
                size_t len)
{
    bool no_expand = len > 0 && path[len - 1] == '!';
    if (no_expand)
        len--;
    const hollow_schema *s = start;
    size_t pos = 0;
    for (;;) {
        const char *seg = path + pos;
        const char *dot = memchr(seg, '.', len - pos);
        size_t seg_len = dot != NULL ? (size_t)(dot - seg) : len - pos;
        if (seg_len == 0)
            return fail(rv, "empty field name");
        size_t i;
        for (i = 0; i < s->field_count; i++)
            if (strlen(s->fields[i].name) == seg_len &&
                memcmp(s->fields[i].name, seg, seg_len) == 0)
                break;
        if (i == s->field_count)
            return fail(rv, "type %s has no field %.*s", s->name,
                        (int)seg_len, seg);
        const hollow__field *f = &s->fields[i];
        HOLLOW_TRY(push(rv, s, i));
        if (dot == NULL) {
            if (f->type != HOLLOW_FIELD_REFERENCE)
                return 0;
            if (no_expand) /* the key is the ordinal, of any kind */
                return find_type(rv, f->ref_type) != NULL
                           ? 0
                           : fail(rv,
                                  "field %s of type %s references unknown "
                                  "type %s",
                                  f->name, s->name, f->ref_type);
            return expand(rv, s, f);
        }
        if (f->type != HOLLOW_FIELD_REFERENCE)
            return fail(rv, "field %s of type %s is not a REFERENCE",
                        f->name, s->name);
        char from[300];
        snprintf(from, sizeof from, "field %s of type %s", f->name, s->name);
        HOLLOW_TRY(enter(rv, &s, f->ref_type, from));
        pos += seg_len + 1;
    }
}

static int resolve_path(hollow__schema_key_path *out,
                        const hollow_schema_list *l, bool sorted,
                        const char *type, const char *path)
{
    resolver rv = {l, path, NULL, 0, 0, 0, sorted};
    const hollow_schema *start = NULL;
    const hollow__schema_hop *last;
    size_t len = strlen(path);
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = enter(&rv, &start, type, NULL)) < 0)
        goto done;
    if ((rc = walk(&rv, start, path, len)) < 0)
        goto done;
    /* Only a '!' (here or in a primary key met during expansion) can leave
     * a REFERENCE as the last hop. */
    last = &rv.hops[rv.count - 1];
    out->ordinal =
        last->schema->fields[last->field].type == HOLLOW_FIELD_REFERENCE;
    out->hops = rv.hops;
    out->hop_count = rv.count;
    rv.hops = NULL;
done:
    hollow__free(rv.hops);
    return rc;
}

int hollow__schema_key_path_resolve(hollow__schema_key_path *out,
                                    const hollow_schema_list *l,
                                    const char *type, const char *path)
{
    return resolve_path(out, l, false, type, path);
}

static int resolve_all(hollow__schema_key_path **out,
                       const hollow_schema_list *l, bool sorted,
                       const hollow_schema *s)
{
    hollow__schema_key_path *paths = NULL;
    size_t n = 0;
    int rc = 0;

    *out = NULL;
    if (s->key_count == 0)
        return 0;
    paths = hollow__calloc(s->key_count, sizeof *paths);
    if (paths == NULL)
        return hollow__error_oom();
    const char *root = hollow__schema_key_root(s);
    for (; n < s->key_count; n++)
        if ((rc = resolve_path(&paths[n], l, sorted, root,
                               s->key_paths[n])) < 0)
            break;
    if (rc < 0) {
        hollow__schema_key_paths_free(paths, n);
        return rc;
    }
    *out = paths;
    return 0;
}

int hollow__schema_key_resolve_all(hollow__schema_key_path **out,
                                   const hollow_schema_list *l,
                                   const hollow_schema *s)
{
    return resolve_all(out, l, false, s);
}

int hollow__schema_key_resolve_all_sorted(hollow__schema_key_path **out,
                                          const hollow_schema_list *l,
                                          const hollow_schema *s)
{
    return resolve_all(out, l, true, s);
}

/* -------------------------------------------------------- validation */

static int by_name(const void *a, const void *b)
{
    const hollow_schema *sa = *(const hollow_schema *const *)a;
    const hollow_schema *sb = *(const hollow_schema *const *)b;
    return hollow__schema_name_cmp(sa->name, sb->name);
}

/* rank of `name` in the name-sorted array, or -1 */
static long find_sorted(hollow_schema *const *sorted, size_t n,
                        const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = hollow__schema_name_cmp(sorted[mid]->name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* a copy of the list's items sorted by name, in *out (NULL when empty) */
static int sort_by_name(hollow_schema ***out, const hollow_schema_list *l)
{
    *out = NULL;
    if (l->count == 0)
        return 0;
    hollow_schema **sorted = hollow__mallocarray(l->count, sizeof *sorted);
    HOLLOW_CHECK_ALLOC(sorted);
    memcpy(sorted, l->items, l->count * sizeof *sorted);
    qsort(sorted, l->count, sizeof *sorted, by_name);
    *out = sorted;
    return 0;
}

static int check_refs(const hollow_schema *s, hollow_schema *const *sorted,
                      size_t n)
{
    for (size_t i = 0; i < s->field_count; i++) {
        const hollow__field *f = &s->fields[i];
        if (f->type == HOLLOW_FIELD_REFERENCE &&
            find_sorted(sorted, n, f->ref_type) < 0)
            return hollow__error_set(HOLLOW_EINVAL,
                                     "type %s: field %s references unknown "
                                     "type %s",
                                     s->name, f->name, f->ref_type);
    }
    if (s->elem_type != NULL && find_sorted(sorted, n, s->elem_type) < 0)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "type %s: %s references unknown type %s",
                                 s->name,
                                 s->kind == HOLLOW_SCHEMA_MAP ? "map key"
                                                              : "element",
                                 s->elem_type);
    if (s->value_type != NULL && find_sorted(sorted, n, s->value_type) < 0)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "type %s: map value references unknown "
                                 "type %s",
                                 s->name, s->value_type);
    return 0;
}

int hollow_schema_list_validate(const hollow_schema_list *l)
{
    return hollow__schema_list_validate_at(l, NULL);
}

int hollow__schema_list_validate_at(const hollow_schema_list *l,
                                    const hollow_schema **bad)
{
    hollow_schema **sorted = NULL;
    const hollow_schema *culprit = NULL;
    int rc;

    if (bad != NULL)
        *bad = NULL;
    if (l == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "list is NULL");
    if ((rc = sort_by_name(&sorted, l)) < 0)
        return rc;
    /* First names and references of every type, then keys: a key path
     * problem is often the consequence of a missing type. */
    for (size_t i = 1; i < l->count; i++) {
        if (hollow__schema_name_cmp(sorted[i - 1]->name, sorted[i]->name) ==
            0) {
            rc = hollow__error_set(HOLLOW_EINVAL, "type %s: declared twice",
                                   sorted[i]->name);
            culprit = sorted[i];
            goto done;
        }
    }
    for (size_t i = 0; i < l->count; i++)
        if ((rc = check_refs(l->items[i], sorted, l->count)) < 0) {
            culprit = l->items[i];
            goto done;
        }
    for (size_t i = 0; i < l->count; i++) {
        const hollow_schema *s = l->items[i];
        hollow__schema_key_path *paths = NULL;
        if ((rc = hollow__schema_key_resolve_all(&paths, l, s)) < 0) {
            if (rc != HOLLOW_ENOMEM) {
                hollow__error_prefix("type %s", s->name);
                culprit = s;
            }
            goto done;
        }
        hollow__schema_key_paths_free(paths, s->key_count);
    }
done:
    hollow__free(sorted);
    if (bad != NULL)
        *bad = culprit;
    return rc;
}

/* ------------------------------------------------------------ sorting */

/* min-heap of name ranks */
static void heap_push(size_t *heap, size_t *n, size_t v)
{
    size_t i = (*n)++;
    while (i > 0 && heap[(i - 1) / 2] > v) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = v;
}

static size_t heap_pop(size_t *heap, size_t *n)
{
    size_t top = heap[0], v = heap[--*n], i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && heap[c + 1] < heap[c])
            c++;
        if (heap[c] >= v)
            break;
        heap[i] = heap[c];
        i = c;
    }
    if (*n > 0)
        heap[i] = v;
    return top;
}

/* the names `s` depends on (§3.8), through a callback-free array */
static size_t deps_of(const hollow_schema *s, const char **out)
{
    size_t k = 0;
    for (size_t i = 0; i < s->field_count; i++)
        if (s->fields[i].type == HOLLOW_FIELD_REFERENCE)
            out[k++] = s->fields[i].ref_type;
    if (s->elem_type != NULL)
        out[k++] = s->elem_type;
    if (s->value_type != NULL)
        out[k++] = s->value_type;
    return k;
}

int hollow_schema_list_sort(hollow_schema_list *l)
{
    hollow_schema **sorted = NULL;
    size_t *indeg = NULL, *first = NULL, *succ = NULL, *heap = NULL;
    const char **names = NULL;
    bool *emitted = NULL;
    size_t n, edges = 0, max_deps = 2, out = 0, heap_n = 0;
    int rc;

    if (l == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "list is NULL");
    n = l->count;
    if (n < 2)
        return 0;
    if ((rc = sort_by_name(&sorted, l)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        edges += sorted[i]->field_count + 2;
        if (sorted[i]->field_count + 2 > max_deps)
            max_deps = sorted[i]->field_count + 2;
    }
    indeg = hollow__calloc(n, sizeof *indeg);
    first = hollow__calloc(n + 1, sizeof *first);
    succ = hollow__mallocarray(edges, sizeof *succ);
    heap = hollow__mallocarray(n, sizeof *heap);
    names = hollow__mallocarray(max_deps, sizeof *names);
    emitted = hollow__calloc(n, sizeof *emitted);
    if (indeg == NULL || first == NULL || succ == NULL || heap == NULL ||
        names == NULL || emitted == NULL) {
        rc = hollow__error_oom();
        goto done;
    }

    /* Successor lists in CSR form: first[d]..first[d+1] holds the types
     * depending on d, one entry per dependency edge (duplicates kept, so
     * that each emitted edge decrements the in-degree it added). */
    for (size_t r = 0; r < n; r++) {
        size_t k = deps_of(sorted[r], names);
        for (size_t j = 0; j < k; j++) {
            long d = find_sorted(sorted, n, names[j]);
            if (d >= 0) {
                first[d + 1]++;
                indeg[r]++;
            }
        }
    }
    for (size_t d = 0; d < n; d++)
        first[d + 1] += first[d];
    {
        size_t *fill = heap; /* borrow the heap as a cursor per type */
        memcpy(fill, first, n * sizeof *fill);
        for (size_t r = 0; r < n; r++) {
            size_t k = deps_of(sorted[r], names);
            for (size_t j = 0; j < k; j++) {
                long d = find_sorted(sorted, n, names[j]);
                if (d >= 0)
                    succ[fill[d]++] = r;
            }
        }
    }

    for (size_t r = 0; r < n; r++)
        if (indeg[r] == 0)
            heap_push(heap, &heap_n, r);
    while (heap_n > 0) {
        size_t r = heap_pop(heap, &heap_n);
        emitted[r] = true;
        l->items[out++] = sorted[r];
        for (size_t e = first[r]; e < first[r + 1]; e++)
            if (--indeg[succ[e]] == 0)
                heap_push(heap, &heap_n, succ[e]);
    }
    /* what is left is on or behind a cycle: append in name order */
    for (size_t r = 0; r < n; r++)
        if (!emitted[r])
            l->items[out++] = sorted[r];
done:
    hollow__free(sorted);
    hollow__free(indeg);
    hollow__free(first);
    hollow__free(succ);
    hollow__free(heap);
    hollow__free(names);
    hollow__free(emitted);
    return rc;
}
