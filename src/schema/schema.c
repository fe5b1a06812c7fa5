/*
 * Schemas and schema lists: construction, inspection, comparison, copies
 * (blob-format.md §4).
 *
 * A hollow_schema owns every string it points to. The invariants below are
 * established by the constructors here, by the text parser (parse.c) and by
 * the binary decoder (codec.c), and every other file relies on them:
 *
 *   - all names (type, field, referenced types, key paths) pass
 *     hollow__schema_name_ok(): non-empty, valid (lenient) UTF-8, encodable
 *     as a mutf string;
 *   - OBJECT: field names are unique; ref_type is set exactly for
 *     REFERENCE fields; elem_type and value_type are NULL;
 *   - LIST/SET: elem_type set, value_type NULL; MAP: both set;
 *   - LIST: never a key; key_count == 0 iff key_paths == NULL.
 *
 * A hollow_schema_list is an ordered array of owned schemas with unique
 * names. Lookups are linear: a dataset has tens to hundreds of types, and
 * the hot paths (validation, sorting) build their own sorted index.
 */
#include "schema/schema_int.h"

#include <string.h>

#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "common/text.h"

/* ---------------------------------------------------------------- names */

bool hollow__schema_name_ok(const char *s, size_t len)
{
    if (s == NULL || len == 0 || hollow__utf8_to_utf16(NULL, s, len) < 0)
        return false;
    /* A valid (lenient) UTF-8 name takes as many bytes in modified UTF-8,
     * except that each 4-byte sequence becomes two 3-byte surrogates. */
    size_t mutf_len = len;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xF8) == 0xF0)
            mutf_len += 2;
    return mutf_len <= 0xFFFF;
}

/*
 * Next UTF-16 code unit of a NUL-terminated lenient UTF-8 string, or -1 at
 * its end. A supplementary character yields its high surrogate and leaves
 * the low one in *pending. Malformed bytes (impossible for checked names)
 * yield themselves, so that the order stays total.
 */
static int32_t next_unit(const unsigned char **p, int32_t *pending)
{
    if (*pending >= 0) {
        int32_t u = *pending;
        *pending = -1;
        return u;
    }
    const unsigned char *s = *p;
    if (s[0] == 0)
        return -1;
    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80) {
        *p = s + 2;
        return ((s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if ((s[0] & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 &&
        (s[2] & 0xC0) == 0x80) {
        *p = s + 3;
        return ((s[0] & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    if ((s[0] & 0xF8) == 0xF0 && (s[1] & 0xC0) == 0x80 &&
        (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
        int32_t c = ((s[0] & 0x07) << 18) | ((s[1] & 0x3F) << 12) |
                    ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        *p = s + 4;
        c -= 0x10000;
        *pending = 0xDC00 + (c & 0x3FF);
        return 0xD800 + ((c >> 10) & 0x3FF);
    }
    *p = s + 1;
    return s[0];
}

int hollow__schema_name_cmp(const char *a, const char *b)
{
    const unsigned char *pa = (const unsigned char *)a;
    const unsigned char *pb = (const unsigned char *)b;
    int32_t qa = -1, qb = -1;
    for (;;) {
        int32_t ua = next_unit(&pa, &qa);
        int32_t ub = next_unit(&pb, &qb);
        if (ua != ub)
            return ua < ub ? -1 : 1;
        if (ua < 0)
            return 0;
    }
}

static int check_name(const char *s, const char *what)
{
    if (s == NULL || !hollow__schema_name_ok(s, strlen(s)))
        return hollow__error_set(HOLLOW_EINVAL,
                                 "%s must be non-empty UTF-8 of at most 65535 "
                                 "bytes",
                                 what);
    return 0;
}

/* --------------------------------------------------------------- build */

/* A schema of `kind` with copies of the given names (NULLs stay NULL). */
static int schema_new(hollow_schema **out, hollow_schema_kind kind,
                      const char *name, const char *elem, const char *value)
{
    int rc = HOLLOW_ENOMEM;
    hollow_schema *s = hollow__calloc(1, sizeof *s);
    if (s == NULL)
        goto done;
    s->kind = kind;
    if ((s->name = hollow__strdup(name)) == NULL)
        goto done;
    if (elem != NULL && (s->elem_type = hollow__strdup(elem)) == NULL)
        goto done;
    if (value != NULL && (s->value_type = hollow__strdup(value)) == NULL)
        goto done;
    rc = 0;
done:
    if (rc < 0) {
        hollow_schema_free(s);
        s = NULL;
        rc = hollow__error_oom();
    }
    *out = s;
    return rc;
}

int hollow_schema_object_new(hollow_schema **out, const char *name)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "out is NULL");
    *out = NULL;
    HOLLOW_TRY(check_name(name, "type name"));
    return schema_new(out, HOLLOW_SCHEMA_OBJECT, name, NULL, NULL);
}

int hollow_schema_list_type_new(hollow_schema **out, const char *name,
                                const char *element_type)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "out is NULL");
    *out = NULL;
    HOLLOW_TRY(check_name(name, "type name"));
    HOLLOW_TRY(check_name(element_type, "element type name"));
    return schema_new(out, HOLLOW_SCHEMA_LIST, name, element_type, NULL);
}

int hollow_schema_set_type_new(hollow_schema **out, const char *name,
                               const char *element_type)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "out is NULL");
    *out = NULL;
    HOLLOW_TRY(check_name(name, "type name"));
    HOLLOW_TRY(check_name(element_type, "element type name"));
    return schema_new(out, HOLLOW_SCHEMA_SET, name, element_type, NULL);
}

int hollow_schema_map_type_new(hollow_schema **out, const char *name,
                               const char *key_type, const char *value_type)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "out is NULL");
    *out = NULL;
    HOLLOW_TRY(check_name(name, "type name"));
    HOLLOW_TRY(check_name(key_type, "key type name"));
    HOLLOW_TRY(check_name(value_type, "value type name"));
    return schema_new(out, HOLLOW_SCHEMA_MAP, name, key_type, value_type);
}

int hollow_schema_add_field(hollow_schema *s, const char *name,
                            hollow_field_type type, const char *ref_type)
{
    HOLLOW__ARG_NOT_NULL(s);
    if (s->kind != HOLLOW_SCHEMA_OBJECT)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "fields belong to OBJECT schemas only");
    HOLLOW_TRY(check_name(name, "field name"));
    if ((unsigned)type > HOLLOW_FIELD_REFERENCE)
        return hollow__error_set(HOLLOW_EINVAL, "field %s: bad field type %d",
                                 name, (int)type);
    if (type == HOLLOW_FIELD_REFERENCE)
        HOLLOW_TRY(check_name(ref_type, "referenced type name"));
    else if (ref_type != NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "field %s: only a REFERENCE field names a "
                                 "referenced type",
                                 name);
    if (hollow_schema_field_index(s, name) >= 0)
        return hollow__error_set(HOLLOW_EEXISTS, "type %s already has field %s",
                                 s->name, name);
    /* F is an i16 in the binary encoding (§4.1) */
    if (s->field_count >= INT16_MAX)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "type %s: more than %d fields", s->name,
                                 INT16_MAX);
    HOLLOW_TRY(hollow__grow(s->fields, s->field_cap, s->field_count + 1, 8));
    hollow__field *f = &s->fields[s->field_count];
    f->name = hollow__strdup(name);
    f->type = type;
    f->ref_type = ref_type != NULL ? hollow__strdup(ref_type) : NULL;
    if (f->name == NULL || (ref_type != NULL && f->ref_type == NULL)) {
        hollow__free(f->name);
        hollow__free(f->ref_type);
        return hollow__error_oom();
    }
    s->field_count++;
    return 0;
}

static void free_paths(char **paths, size_t count)
{
    if (paths == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        hollow__free(paths[i]);
    hollow__free(paths);
}

int hollow_schema_set_key(hollow_schema *s, const char *const *paths,
                          size_t count)
{
    HOLLOW__ARG_NOT_NULL(s);
    if (s->kind == HOLLOW_SCHEMA_LIST)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "a LIST schema cannot have a key");
    if (count > 0 && paths == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "key paths are NULL");
    for (size_t i = 0; i < count; i++)
        HOLLOW_TRY(check_name(paths[i], "key path"));

    /* Build the new key completely before touching s, so that a failure
     * leaves the schema as it was (style.md B4.5). */
    char **copy = NULL;
    if (count > 0) {
        copy = hollow__calloc(count, sizeof *copy);
        HOLLOW_CHECK_ALLOC(copy);
        for (size_t i = 0; i < count; i++) {
            if ((copy[i] = hollow__strdup(paths[i])) == NULL) {
                free_paths(copy, i);
                return hollow__error_oom();
            }
        }
    }
    free_paths(s->key_paths, s->key_count);
    s->key_paths = copy;
    s->key_count = count;
    return 0;
}

void hollow_schema_free(hollow_schema *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->field_count; i++) {
        hollow__free(s->fields[i].name);
        hollow__free(s->fields[i].ref_type);
    }
    hollow__free(s->fields);
    free_paths(s->key_paths, s->key_count);
    hollow__free(s->name);
    hollow__free(s->elem_type);
    hollow__free(s->value_type);
    hollow__free(s);
}

int hollow__schema_clone(hollow_schema **out, const hollow_schema *s)
{
    hollow_schema *c = NULL;
    int rc = schema_new(&c, s->kind, s->name, s->elem_type, s->value_type);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < s->field_count; i++) {
        const hollow__field *f = &s->fields[i];
        rc = hollow_schema_add_field(c, f->name, f->type, f->ref_type);
        if (rc < 0)
            goto done;
    }
    if (s->key_count > 0)
        rc = hollow_schema_set_key(c, (const char *const *)s->key_paths,
                                   s->key_count);
done:
    if (rc < 0) {
        hollow_schema_free(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

/* ------------------------------------------------------------- inspect */

/* NULL schemas give the documented sentinels (schema.h) */
const char *hollow_schema_name(const hollow_schema *s)
{
    return s ? s->name : NULL;
}

hollow_schema_kind hollow_schema_kind_of(const hollow_schema *s)
{
    return s ? s->kind : HOLLOW_SCHEMA_OBJECT;
}

size_t hollow_schema_field_count(const hollow_schema *s)
{
    return s && s->kind == HOLLOW_SCHEMA_OBJECT ? s->field_count : 0;
}

const char *hollow_schema_field_name(const hollow_schema *s, size_t i)
{
    return s && i < s->field_count ? s->fields[i].name : NULL;
}

hollow_field_type hollow_schema_field_type(const hollow_schema *s, size_t i)
{
    return s && i < s->field_count ? s->fields[i].type : HOLLOW_FIELD_INT;
}

const char *hollow_schema_field_ref_type(const hollow_schema *s, size_t i)
{
    return s && i < s->field_count ? s->fields[i].ref_type : NULL;
}

int hollow_schema_field_index(const hollow_schema *s, const char *name)
{
    if (s == NULL || name == NULL)
        return -1;
    for (size_t i = 0; i < s->field_count; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (int)i; /* field_count < INT16_MAX */
    return -1;
}

const char *hollow_schema_element_type(const hollow_schema *s)
{
    return s ? s->elem_type : NULL;
}

const char *hollow_schema_value_type(const hollow_schema *s)
{
    return s ? s->value_type : NULL;
}

size_t hollow_schema_key_count(const hollow_schema *s)
{
    return s ? s->key_count : 0;
}

const char *hollow_schema_key_path(const hollow_schema *s, size_t i)
{
    return s && i < s->key_count ? s->key_paths[i] : NULL;
}

int hollow__schema_check_field(const hollow_schema *s, size_t f,
                               hollow_field_type want)
{
    if (s->kind != HOLLOW_SCHEMA_OBJECT || f >= s->field_count)
        return hollow__error_set(HOLLOW_EINVAL, "type %s has no field %zu",
                                 s->name, f);
    if (s->fields[f].type != want)
        return hollow__error_set(HOLLOW_EINVAL, "field %s.%s is %s, not %s",
                                 s->name, s->fields[f].name,
                                 hollow_field_type_name(s->fields[f].type),
                                 hollow_field_type_name(want));
    return 0;
}

const char *hollow_field_type_name(hollow_field_type t)
{
    /* the spellings of the binary encoding (§4.1), indexed by enum value */
    static const char *const names[] = {"INT",     "LONG",   "FLOAT",
                                        "DOUBLE",  "BOOLEAN", "STRING",
                                        "BYTES",   "REFERENCE"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

bool hollow_schema_equal(const hollow_schema *a, const hollow_schema *b)
{
    if (a == b)
        return true;
    if (a == NULL || b == NULL)
        return false;
    if (a->kind != b->kind || !str_eq(a->name, b->name) ||
        !str_eq(a->elem_type, b->elem_type) ||
        !str_eq(a->value_type, b->value_type) ||
        a->field_count != b->field_count || a->key_count != b->key_count)
        return false;
    for (size_t i = 0; i < a->field_count; i++) {
        const hollow__field *fa = &a->fields[i], *fb = &b->fields[i];
        if (fa->type != fb->type || !str_eq(fa->name, fb->name) ||
            !str_eq(fa->ref_type, fb->ref_type))
            return false;
    }
    for (size_t i = 0; i < a->key_count; i++)
        if (!str_eq(a->key_paths[i], b->key_paths[i]))
            return false;
    return true;
}

/* ---------------------------------------------------------------- lists */

int hollow_schema_list_new(hollow_schema_list **out)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "out is NULL");
    *out = hollow__calloc(1, sizeof **out);
    HOLLOW_CHECK_ALLOC(*out);
    return 0;
}

int hollow_schema_list_add(hollow_schema_list *l, hollow_schema *s)
{
    int rc = 0;
    if (l == NULL || s == NULL) {
        rc = hollow__error_set(HOLLOW_EINVAL, "list or schema is NULL");
        goto done;
    }
    if (hollow_schema_list_find(l, s->name) != NULL) {
        rc = hollow__error_set(HOLLOW_EEXISTS, "type %s is already in the list",
                               s->name);
        goto done;
    }
    if ((rc = hollow__grow(l->items, l->cap, l->count + 1, 16)) < 0)
        goto done;
    l->items[l->count++] = s;
done:
    if (rc < 0)
        hollow_schema_free(s); /* the list owns s even on failure */
    return rc;
}

size_t hollow_schema_list_count(const hollow_schema_list *l)
{
    return l ? l->count : 0;
}

const hollow_schema *hollow_schema_list_get(const hollow_schema_list *l,
                                            size_t i)
{
    return l && i < l->count ? l->items[i] : NULL;
}

const hollow_schema *hollow_schema_list_find(const hollow_schema_list *l,
                                             const char *name)
{
    if (l == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i]->name, name) == 0)
            return l->items[i];
    return NULL;
}

void hollow_schema_list_free(hollow_schema_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++)
        hollow_schema_free(l->items[i]);
    hollow__free(l->items);
    hollow__free(l);
}

int hollow_schema_clone(hollow_schema **out, const hollow_schema *s)
{
    if (out == NULL || s == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    return hollow__schema_clone(out, s);
}
