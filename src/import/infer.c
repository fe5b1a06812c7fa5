/*
 * hollow_import_infer(): schemas from data (docs/import.md, "Inference").
 *
 * Every record is walked into shapes: a shape records which kinds of
 * value a place held (null, boolean, int, long, double, string, array,
 * object), an array's element shape, and for objects the object type they
 * belong to. Object types are found by name (the field's name, capitalized)
 * and every object under that name is merged into one field list, in the
 * order fields are first seen. The schemas are then built from the merged
 * shapes: root types first (in source order), then object types in the
 * order first seen, then list and wrapper types as fields need them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "import/import_int.h"

enum {
    K_NULL = 1,
    K_BOOL = 2,
    K_INT = 4,
    K_LONG = 8,
    K_DOUBLE = 16,
    K_STRING = 32,
    K_ARRAY = 64,
    K_OBJECT = 128
};

typedef struct shape shape;
typedef struct otype otype;

typedef struct sfield {
    char *name;
    shape *s;
} sfield;

struct otype {
    char *name;
    sfield *fields;
    size_t nfields, cap;
};

struct shape {
    unsigned kinds;
    otype *obj;  /* K_OBJECT */
    shape *elem; /* K_ARRAY */
    char *hint;  /* the field name the shape is under (type names) */
    bool singular; /* an array's elements: "items" -> type Item */
};

typedef struct infer {
    shape **shapes;
    size_t nshapes, shapes_cap;
    otype **types;
    size_t ntypes, types_cap;
    size_t nroots;
    hollow__isource src;
    otype *root;
    hollow__jparser *jp;
    hollow__itree cell;
    char *scratch;
    size_t scratch_cap;
} infer;

/* -------------------------------------------------------------- names */

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') ||
                    (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static const char *const reserved[] = {"String", "Integer", "Long",
                                       "Double", "Boolean", NULL};

/* "person_data" -> "PersonData"; a type name from any text */
static char *type_name(const char *s, size_t n, bool singular)
{
    if (singular && n > 3 && s[n - 1] == 's' && s[n - 2] != 's')
        n--;
    char *out = hollow__malloc(n + 16);
    if (out == NULL)
        return NULL;
    size_t k = 0;
    bool up = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9');
        if (!alnum) {
            up = true;
            continue;
        }
        if (k == 0 && c >= '0' && c <= '9')
            out[k++] = 'T';
        out[k++] = up && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        up = false;
    }
    if (k == 0)
        out[k++] = 'T';
    out[k] = '\0';
    for (size_t i = 0; reserved[i] != NULL; i++)
        if (strcmp(out, reserved[i]) == 0)
            strcat(out, "Record");
    if (strncmp(out, "ListOf", 6) == 0)
        strcat(out, "Record");
    return out;
}

/* ------------------------------------------------------------- shapes */

static shape *shape_new(infer *x, const char *hint)
{
    if (x->nshapes == x->shapes_cap) {
        size_t cap = x->shapes_cap ? x->shapes_cap * 2 : 64;
        shape **s = hollow__reallocarray(x->shapes, cap, sizeof *s);
        if (s == NULL)
            return NULL;
        x->shapes = s;
        x->shapes_cap = cap;
    }
    shape *s = hollow__calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->hint = hollow__strdup(hint);
    if (s->hint == NULL) {
        hollow__free(s);
        return NULL;
    }
    x->shapes[x->nshapes++] = s;
    return s;
}

static otype *otype_of(infer *x, char *name)
{
    for (size_t i = 0; i < x->ntypes; i++)
        if (strcmp(x->types[i]->name, name) == 0) {
            hollow__free(name);
            return x->types[i];
        }
    if (x->ntypes == x->types_cap) {
        size_t cap = x->types_cap ? x->types_cap * 2 : 16;
        otype **t = hollow__reallocarray(x->types, cap, sizeof *t);
        if (t == NULL) {
            hollow__free(name);
            return NULL;
        }
        x->types = t;
        x->types_cap = cap;
    }
    otype *o = hollow__calloc(1, sizeof *o);
    if (o == NULL) {
        hollow__free(name);
        return NULL;
    }
    o->name = name;
    x->types[x->ntypes++] = o;
    return o;
}

static shape *field_of(infer *x, otype *o, const char *name, size_t len)
{
    for (size_t i = 0; i < o->nfields; i++)
        if (strlen(o->fields[i].name) == len &&
            memcmp(o->fields[i].name, name, len) == 0)
            return o->fields[i].s;
    if (o->nfields == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        sfield *f = hollow__reallocarray(o->fields, cap, sizeof *f);
        if (f == NULL)
            return NULL;
        o->fields = f;
        o->cap = cap;
    }
    char *n = hollow__strndup(name, len);
    if (n == NULL)
        return NULL;
    shape *s = shape_new(x, n);
    if (s == NULL) {
        hollow__free(n);
        return NULL;
    }
    o->fields[o->nfields].name = n;
    o->fields[o->nfields++].s = s;
    return s;
}

static int walk(infer *x, shape *s, const hollow__itree *t, size_t i,
                int depth);

static int walk_object(infer *x, otype *o, const hollow__itree *t, size_t i,
                       int depth)
{
    const hollow__inode *n = &t->nodes[i];
    size_t k = i + 1;
    for (uint32_t c = 0; c < n->len; c++) {
        const hollow__inode *key = &t->nodes[k];
        const char *name = hollow__itree_str(t, key);
        if (!is_ident(name, key->len))
            return hollow__import_error_at(
                HOLLOW_EINVAL, &x->src, key->off,
                "key '%.*s' is not a field name (letters, digits, _): give "
                "a schema",
                (int)(key->len > 60 ? 60 : key->len), name);
        shape *fs = field_of(x, o, name, key->len);
        HOLLOW_CHECK_ALLOC(fs);
        HOLLOW_TRY(walk(x, fs, t, k + 1, depth + 1));
        k = hollow__itree_next(t, k + 1);
    }
    return 0;
}

static bool int_syntax(const char *p, size_t n)
{
    size_t i = p[0] == '-' ? 1 : 0;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* a CSV cell: its kind by its text, or its JSON when it holds some */
static int walk_text(infer *x, shape *s, const hollow__inode *n,
                     const hollow__itree *t, int depth)
{
    const char *p = hollow__itree_str(t, n);
    double d;
    if (n->len == 0) {
        s->kinds |= K_NULL;
        return 0;
    }
    if (int_syntax(p, n->len) && n->len < 21) {
        char buf[24];
        memcpy(buf, p, n->len);
        buf[n->len] = '\0';
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            s->kinds |= v >= -2147483647LL && v <= 2147483647LL ? K_INT
                                                                : K_LONG;
            return 0;
        }
    }
    if (hollow__parse_double(&d, p, n->len)) {
        s->kinds |= K_DOUBLE;
        return 0;
    }
    if ((n->len == 4 && strncasecmp(p, "true", 4) == 0) ||
        (n->len == 5 && strncasecmp(p, "false", 5) == 0)) {
        s->kinds |= K_BOOL;
        return 0;
    }
    if ((p[0] == '[' || p[0] == '{') && x->cell.count == 0) {
        size_t cap = n->len + HOLLOW__IMPORT_PADDING;
        if (cap > x->scratch_cap) {
            char *b = hollow__realloc(x->scratch, cap);
            HOLLOW_CHECK_ALLOC(b);
            x->scratch = b;
            x->scratch_cap = cap;
        }
        memcpy(x->scratch, p, n->len);
        memset(x->scratch + n->len, 0, HOLLOW__IMPORT_PADDING);
        if (x->jp == NULL)
            HOLLOW_TRY(hollow__jparser_new(&x->jp));
        hollow__jerror err;
        int rc = hollow__json_parse(x->jp, &x->cell, x->scratch, n->len, cap,
                                    n->off + (n->quoted ? 1 : 0), &err);
        if (rc == HOLLOW_ENOMEM)
            return hollow__error_oom();
        if (rc == 0) {
            rc = walk(x, s, &x->cell, 0, depth);
            hollow__itree_clear(&x->cell);
            return rc;
        }
        hollow__itree_clear(&x->cell);
    }
    s->kinds |= K_STRING;
    return 0;
}

static int walk(infer *x, shape *s, const hollow__itree *t, size_t i,
                int depth)
{
    const hollow__inode *n = &t->nodes[i];
    if (depth > HOLLOW__IMPORT_MAX_DEPTH + 2)
        return hollow__import_error_at(HOLLOW_EINVAL, &x->src, n->off,
                                       "nested too deeply");
    switch (n->kind) {
    case HOLLOW__I_NULL:
        s->kinds |= K_NULL;
        return 0;
    case HOLLOW__I_TRUE:
    case HOLLOW__I_FALSE:
        s->kinds |= K_BOOL;
        return 0;
    case HOLLOW__I_INT:
        s->kinds |= n->v.i > INT32_MIN && n->v.i <= INT32_MAX ? K_INT : K_LONG;
        return 0;
    case HOLLOW__I_UINT:
    case HOLLOW__I_BIGINT:
    case HOLLOW__I_DOUBLE:
        s->kinds |= K_DOUBLE;
        return 0;
    case HOLLOW__I_STRING:
        s->kinds |= K_STRING;
        return 0;
    case HOLLOW__I_TEXT:
        return walk_text(x, s, n, t, depth);
    case HOLLOW__I_ARRAY: {
        s->kinds |= K_ARRAY;
        if (s->elem == NULL) {
            s->elem = shape_new(x, s->hint);
            HOLLOW_CHECK_ALLOC(s->elem);
            s->elem->singular = true;
        }
        size_t k = i + 1;
        for (uint32_t c = 0; c < n->len; c++) {
            HOLLOW_TRY(walk(x, s->elem, t, k, depth + 1));
            k = hollow__itree_next(t, k);
        }
        return 0;
    }
    default:
        s->kinds |= K_OBJECT;
        if (s->obj == NULL) {
            char *name = type_name(s->hint, strlen(s->hint), s->singular);
            HOLLOW_CHECK_ALLOC(name);
            s->obj = otype_of(x, name);
            HOLLOW_CHECK_ALLOC(s->obj);
        }
        return walk_object(x, s->obj, t, i, depth);
    }
}

static int record_fn(hollow__itree *t, void *payload)
{
    infer *x = payload;
    if (t->count == 0 || t->nodes[0].kind != HOLLOW__I_OBJECT)
        return hollow__import_error_at(HOLLOW_EINVAL, &x->src,
                                       t->count ? t->nodes[0].off : 0,
                                       "a record must be an object");
    return walk_object(x, x->root, t, 0, 0);
}

/* ------------------------------------------------------------- schemas */

typedef struct emit {
    infer *x;
    hollow_schema_list *list;
    char **names; /* of the types added or being added */
    size_t nnames, cap;
} emit;

static bool emitted(const emit *e, const char *name)
{
    for (size_t i = 0; i < e->nnames; i++)
        if (strcmp(e->names[i], name) == 0)
            return true;
    return false;
}

static int mark(emit *e, const char *name)
{
    if (e->nnames == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        char **n = hollow__reallocarray(e->names, cap, sizeof *n);
        HOLLOW_CHECK_ALLOC(n);
        e->names = n;
        e->cap = cap;
    }
    e->names[e->nnames] = hollow__strdup(name);
    HOLLOW_CHECK_ALLOC(e->names[e->nnames]);
    e->nnames++;
    return 0;
}

static int add_schema(emit *e, hollow_schema *s)
{
    int rc = hollow_schema_list_add(e->list, s);
    if (rc < 0)
        hollow_schema_free(s);
    return rc;
}

static int emit_object(emit *e, otype *o);

/* a scalar shape's field type; -1 for a conflict of containers */
static int scalar_type(unsigned k)
{
    k &= ~(unsigned)K_NULL;
    if (k == 0 || (k & K_STRING))
        return HOLLOW_FIELD_STRING;
    if (k == K_BOOL)
        return HOLLOW_FIELD_BOOLEAN;
    if (k & K_BOOL)
        return HOLLOW_FIELD_STRING;
    if (k == K_INT)
        return HOLLOW_FIELD_INT;
    if ((k & K_DOUBLE) == 0)
        return HOLLOW_FIELD_LONG;
    return HOLLOW_FIELD_DOUBLE;
}

static const char *wrapper_name(hollow_field_type t)
{
    switch (t) {
    case HOLLOW_FIELD_INT:
        return "Integer";
    case HOLLOW_FIELD_LONG:
        return "Long";
    case HOLLOW_FIELD_DOUBLE:
        return "Double";
    case HOLLOW_FIELD_BOOLEAN:
        return "Boolean";
    default:
        return "String";
    }
}

/*
 * The type a shape needs as a reference (an element, or a field holding an
 * object or an array): *name receives it (owned by the caller), and the
 * type and what it needs are emitted.
 */
static int ref_type(char **name, emit *e, shape *s, const char *where)
{
    unsigned k = s->kinds & ~(unsigned)K_NULL;
    *name = NULL;
    if ((k & (K_ARRAY | K_OBJECT)) != 0 && (k & ~(unsigned)K_ARRAY) != 0 &&
        (k & ~(unsigned)K_OBJECT) != 0)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "%s: %s holds objects or arrays and other "
                                 "values: give a schema",
                                 e->x->src.name, where);
    if (k == K_OBJECT) {
        *name = hollow__strdup(s->obj->name);
        HOLLOW_CHECK_ALLOC(*name);
        return emit_object(e, s->obj);
    }
    if (k == K_ARRAY) {
        char *elem;
        HOLLOW_TRY(ref_type(&elem, e, s->elem, where));
        size_t n = strlen(elem) + 7;
        *name = hollow__malloc(n);
        if (*name == NULL) {
            hollow__free(elem);
            return hollow__error_oom();
        }
        snprintf(*name, n, "ListOf%s", elem);
        int rc = 0;
        if (!emitted(e, *name)) {
            hollow_schema *ls;
            rc = mark(e, *name);
            if (rc == 0)
                rc = hollow_schema_list_type_new(&ls, *name, elem);
            if (rc == 0)
                rc = add_schema(e, ls);
        }
        hollow__free(elem);
        if (rc < 0) {
            hollow__free(*name);
            *name = NULL;
        }
        return rc;
    }
    /* a scalar in a reference position: its wrapper type */
    hollow_field_type ft = (hollow_field_type)scalar_type(k);
    const char *w = wrapper_name(ft);
    *name = hollow__strdup(w);
    HOLLOW_CHECK_ALLOC(*name);
    if (emitted(e, w))
        return 0;
    hollow_schema *ws;
    HOLLOW_TRY(mark(e, w));
    HOLLOW_TRY(hollow_schema_object_new(&ws, w));
    int rc = hollow_schema_add_field(ws, "value", ft, NULL);
    if (rc < 0) {
        hollow_schema_free(ws);
        return rc;
    }
    return add_schema(e, ws);
}

static int emit_object(emit *e, otype *o)
{
    if (emitted(e, o->name))
        return 0;
    HOLLOW_TRY(mark(e, o->name));
    hollow_schema *s;
    HOLLOW_TRY(hollow_schema_object_new(&s, o->name));
    /* added first so that its position is before the types it needs */
    HOLLOW_TRY(add_schema(e, s));
    for (size_t i = 0; i < o->nfields; i++) {
        shape *fs = o->fields[i].s;
        unsigned k = fs->kinds & ~(unsigned)K_NULL;
        int rc;
        if (k & (K_ARRAY | K_OBJECT)) {
            char where[300], *ref;
            snprintf(where, sizeof where, "%s.%s", o->name, o->fields[i].name);
            HOLLOW_TRY(ref_type(&ref, e, fs, where));
            rc = hollow_schema_add_field(s, o->fields[i].name,
                                         HOLLOW_FIELD_REFERENCE, ref);
            hollow__free(ref);
        } else {
            rc = hollow_schema_add_field(
                s, o->fields[i].name, (hollow_field_type)scalar_type(k), NULL);
        }
        HOLLOW_TRY(rc);
    }
    return 0;
}

/* ------------------------------------------------------------- sources */

static int infer_source(infer *x, const hollow_import_source *src,
                        const hollow_import_options *opts)
{
    const char *path = src->path;
    bool std_in = strcmp(path, "-") == 0;
    hollow_import_format format = src->format != HOLLOW_IMPORT_AUTO
                                      ? src->format
                                      : opts->format;
    if (format == HOLLOW_IMPORT_AUTO)
        format = hollow_import_format_of(path);
    if (format == HOLLOW_IMPORT_AUTO)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "%s: unknown format (not .json, .jsonl, "
                                 ".ndjson or .csv): give the format",
                                 path);
    /* the root type: named, or after the file's base name */
    char *name;
    if (src->type != NULL) {
        if (!is_ident(src->type, strlen(src->type)))
            return hollow__error_set(HOLLOW_EINVAL,
                                     "type name '%s' is not an identifier",
                                     src->type);
        name = hollow__strdup(src->type);
    } else {
        const char *base = strrchr(path, '/');
        base = base != NULL ? base + 1 : path;
        const char *dot = strrchr(base, '.');
        size_t n = dot != NULL && dot != base ? (size_t)(dot - base)
                                              : strlen(base);
        name = type_name(base, std_in ? 0 : n, false);
        if (name != NULL && std_in) {
            hollow__free(name);
            name = hollow__strdup("Record");
        }
    }
    HOLLOW_CHECK_ALLOC(name);
    x->root = otype_of(x, name);
    HOLLOW_CHECK_ALLOC(x->root);

    char *data = NULL;
    size_t len = 0;
    HOLLOW_TRY(hollow__import_read(&data, &len, path));
    x->src.name = std_in ? "<stdin>" : path;
    x->src.data = data;
    x->src.len = len;
    hollow__itree t;
    hollow__itree_init(&t);
    hollow__jerror err;
    err.code = 0;
    int rc = 0;
    if (format == HOLLOW_IMPORT_CSV) {
        rc = hollow__csv_each(&x->src, &t, record_fn, x);
    } else {
        hollow__jparser *p = NULL;
        rc = hollow__jparser_new(&p);
        if (rc == 0 && format == HOLLOW_IMPORT_JSON) {
            rc = hollow__json_each(p, &t, data, len,
                                   len + HOLLOW__IMPORT_PADDING, record_fn, x,
                                   &err);
        } else if (rc == 0) {
            for (size_t pos = 0; pos < len && rc == 0;) {
                const char *nl = memchr(data + pos, '\n', len - pos);
                size_t e = nl != NULL ? (size_t)(nl - data) : len;
                size_t i = pos;
                while (i < e && strchr(" \t\r", data[i]) != NULL)
                    i++;
                if (i < e) {
                    hollow__itree_clear(&t);
                    rc = hollow__json_parse(p, &t, data + pos, e - pos,
                                            len + HOLLOW__IMPORT_PADDING - pos,
                                            pos, &err);
                    if (rc != 0)
                        err.off += pos;
                    else
                        rc = record_fn(&t, x);
                }
                pos = e + 1;
            }
        }
        hollow__jparser_free(p);
    }
    if (rc != 0 && err.code != 0)
        rc = err.code == HOLLOW_ENOMEM
                 ? hollow__error_oom()
                 : hollow__import_error_at(err.code, &x->src, err.off, "%s",
                                           err.message);
    hollow__itree_free(&t);
    hollow__free(data);
    x->src.data = NULL;
    x->src.len = 0;
    return rc;
}

int hollow_import_infer(hollow_schema_list **out,
                        const hollow_import_source *sources, size_t n,
                        const hollow_import_options *opts)
{
    static const hollow_import_options defaults = HOLLOW_IMPORT_OPTIONS_INIT;
    HOLLOW__ARG_NOT_NULL(out);
    *out = NULL;
    if (n > 0)
        HOLLOW__ARG_NOT_NULL(sources);
    if (opts == NULL)
        opts = &defaults;
    HOLLOW_TRY(hollow__check_options_version("import options", opts->version,
                                             HOLLOW_IMPORT_OPTIONS_VERSION));
    if (n == 0)
        return hollow__error_set(HOLLOW_EINVAL, "no data file to infer from");
    infer x;
    memset(&x, 0, sizeof x);
    hollow__itree_init(&x.cell);
    emit e;
    memset(&e, 0, sizeof e);
    e.x = &x;
    otype **roots = hollow__calloc(n, sizeof *roots);
    int rc = roots != NULL ? 0 : hollow__error_oom();
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (sources[i].path == NULL) {
            rc = hollow__error_null("sources[].path");
            break;
        }
        rc = infer_source(&x, &sources[i], opts);
        roots[i] = x.root;
    }
    if (rc == 0)
        rc = hollow_schema_list_new(&e.list);
    x.src.name = "data";
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = emit_object(&e, roots[i]);
    for (size_t i = 0; i < x.ntypes && rc == 0; i++)
        rc = emit_object(&e, x.types[i]);
    if (rc == 0)
        rc = hollow_schema_list_validate(e.list);
    if (rc == 0) {
        *out = e.list;
        e.list = NULL;
    }
    hollow_schema_list_free(e.list);
    for (size_t i = 0; i < e.nnames; i++)
        hollow__free(e.names[i]);
    hollow__free(e.names);
    hollow__free(roots);
    for (size_t i = 0; i < x.nshapes; i++) {
        hollow__free(x.shapes[i]->hint);
        hollow__free(x.shapes[i]);
    }
    hollow__free(x.shapes);
    for (size_t i = 0; i < x.ntypes; i++) {
        hollow__free(x.types[i]->name);
        for (size_t j = 0; j < x.types[i]->nfields; j++)
            hollow__free(x.types[i]->fields[j].name);
        hollow__free(x.types[i]->fields);
        hollow__free(x.types[i]);
    }
    hollow__free(x.types);
    hollow__jparser_free(x.jp);
    hollow__itree_free(&x.cell);
    hollow__free(x.scratch);
    return rc;
}
