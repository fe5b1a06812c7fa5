/*
 * Binary schema encoding (blob-format.md §4.1), as found in blob headers
 * and at the start of every type section:
 *
 *   u8 kind id | mutf type name | kind-specific part
 *
 *   id  kind                 part
 *   0   OBJECT               i16 F, F x (mutf name, mutf TYPE [, mutf ref])
 *   6   OBJECT + primary key vint P, P x mutf path, then as id 0
 *   2   LIST                 mutf element
 *   1   SET                  mutf element
 *   4   SET + hash key       mutf element, vint P, P x mutf path
 *   3   MAP                  mutf key, mutf value
 *   5   MAP + hash key       mutf key, mutf value, vint P, P x mutf path
 *
 * The bytes are untrusted. Every count is checked against what the bytes
 * left could possibly hold before anything is allocated for it (a mutf
 * string takes at least 2 bytes, a field at least 4), so a blob can never
 * make us allocate more than a small multiple of its own size. The decoded
 * schema is built through the public constructors, which enforce the
 * invariants of schema.c; their EINVAL/EEXISTS become ECORRUPT here.
 */
#include "schema/schema_int.h"

#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

enum {
    KIND_OBJECT = 0,
    KIND_SET = 1,
    KIND_LIST = 2,
    KIND_MAP = 3,
    KIND_SET_KEYED = 4,
    KIND_MAP_KEYED = 5,
    KIND_OBJECT_KEYED = 6
};

/* ------------------------------------------------------------- encode */

static void write_key(hollow__buf *b, const hollow_schema *s)
{
    hollow__buf_vint(b, (uint32_t)s->key_count);
    for (size_t i = 0; i < s->key_count; i++)
        hollow__buf_mutf(b, s->key_paths[i]);
}

void hollow__schema_write(hollow__buf *b, const hollow_schema *s)
{
    bool keyed = s->key_count > 0;
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        hollow__buf_putc(b, keyed ? KIND_OBJECT_KEYED : KIND_OBJECT);
        hollow__buf_mutf(b, s->name);
        if (keyed)
            write_key(b, s);
        hollow__buf_be16(b, (uint16_t)s->field_count);
        for (size_t i = 0; i < s->field_count; i++) {
            const hollow__field *f = &s->fields[i];
            hollow__buf_mutf(b, f->name);
            hollow__buf_mutf(b, hollow_field_type_name(f->type));
            if (f->type == HOLLOW_FIELD_REFERENCE)
                hollow__buf_mutf(b, f->ref_type);
        }
        break;
    case HOLLOW_SCHEMA_LIST:
        hollow__buf_putc(b, KIND_LIST);
        hollow__buf_mutf(b, s->name);
        hollow__buf_mutf(b, s->elem_type);
        break;
    case HOLLOW_SCHEMA_SET:
        hollow__buf_putc(b, keyed ? KIND_SET_KEYED : KIND_SET);
        hollow__buf_mutf(b, s->name);
        hollow__buf_mutf(b, s->elem_type);
        if (keyed)
            write_key(b, s);
        break;
    case HOLLOW_SCHEMA_MAP:
        hollow__buf_putc(b, keyed ? KIND_MAP_KEYED : KIND_MAP);
        hollow__buf_mutf(b, s->name);
        hollow__buf_mutf(b, s->elem_type);
        hollow__buf_mutf(b, s->value_type);
        if (keyed)
            write_key(b, s);
        break;
    }
}

/* ------------------------------------------------------------- decode */

/*
 * A mutf name that must be non-empty. The reader already rejects malformed
 * modified UTF-8, and a mutf string cannot exceed 65535 bytes, so the
 * result always passes hollow__schema_name_ok().
 */
static int read_name(hollow__reader *r, char **out, const char *what)
{
    size_t at = hollow__reader_offset(r);
    int rc = hollow__reader_mutf(r, out, what);
    if (rc < 0)
        return rc;
    if ((*out)[0] == '\0') {
        hollow__free(*out);
        *out = NULL;
        return hollow__error_set(HOLLOW_ECORRUPT, "empty %s at offset %zu",
                                 what, at);
    }
    return 0;
}

/* Field type names as Java spells them (§4.1); anything else is corrupt. */
static int parse_field_type(hollow_field_type *out, const char *name)
{
    for (int t = HOLLOW_FIELD_INT; t <= HOLLOW_FIELD_REFERENCE; t++) {
        if (strcmp(name, hollow_field_type_name((hollow_field_type)t)) == 0) {
            *out = (hollow_field_type)t;
            return 0;
        }
    }
    return -1;
}

/* vint P and P key paths into s (§4.1 ids 4, 5, 6) */
static int read_key(hollow_schema *s, hollow__reader *r)
{
    uint32_t count;
    char **paths = NULL;
    size_t n = 0;
    /* the count takes at least a byte, each path at least 2 */
    size_t left = hollow__reader_left(r);
    size_t max = left > 0 ? (left - 1) / 2 : 0;
    int rc = hollow__reader_count(r, &count,
                                  max > INT32_MAX ? INT32_MAX : (uint32_t)max,
                                  "key path count");
    if (rc < 0)
        return rc;
    if (count > 0 && (paths = hollow__calloc(count, sizeof *paths)) == NULL)
        return hollow__error_oom();
    for (; n < count; n++)
        if ((rc = read_name(r, &paths[n], "key path")) < 0)
            goto done;
    rc = hollow_schema_set_key(s, (const char *const *)paths, count);
done:
    for (size_t i = 0; i < n; i++)
        hollow__free(paths[i]);
    hollow__free(paths);
    return rc;
}

static int read_fields(hollow_schema *s, hollow__reader *r)
{
    uint32_t count;
    size_t at = hollow__reader_offset(r);
    int rc = hollow__reader_count16(r, &count, "field count");
    if (rc < 0)
        return rc;
    /* each field is at least two mutf strings of 2 bytes */
    if ((size_t)count > hollow__reader_left(r) / 4)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "field count %d at offset %zu exceeds the %zu "
                                 "bytes left",
                                 (int)count, at, hollow__reader_left(r));
    for (uint32_t i = 0; i < count; i++) {
        char *name = NULL, *type_name = NULL, *ref = NULL;
        hollow_field_type type = HOLLOW_FIELD_INT;
        size_t type_at = 0, name_at = hollow__reader_offset(r);
        if ((rc = read_name(r, &name, "field name")) < 0)
            goto next;
        type_at = hollow__reader_offset(r);
        if ((rc = read_name(r, &type_name, "field type")) < 0)
            goto next;
        if (parse_field_type(&type, type_name) < 0) {
            rc = hollow__error_set(HOLLOW_ECORRUPT,
                                   "field %s: unknown field type '%s' at "
                                   "offset %zu",
                                   name, type_name, type_at);
            goto next;
        }
        if (type == HOLLOW_FIELD_REFERENCE &&
            (rc = read_name(r, &ref, "referenced type name")) < 0)
            goto next;
        rc = hollow_schema_add_field(s, name, type, ref);
        if (rc == HOLLOW_EEXISTS)
            rc = hollow__error_set(HOLLOW_ECORRUPT,
                                   "duplicate field %s at offset %zu", name,
                                   name_at);
    next:
        hollow__free(name);
        hollow__free(type_name);
        hollow__free(ref);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int hollow__schema_read(hollow_schema **out, hollow__reader *r)
{
    hollow_schema *s = NULL;
    char *name = NULL, *elem = NULL, *value = NULL;
    uint8_t id;
    size_t at = hollow__reader_offset(r);
    int rc = hollow__reader_u8(r, &id, "schema kind id");
    if (rc < 0)
        goto done;
    if (id > KIND_OBJECT_KEYED) {
        rc = hollow__error_set(HOLLOW_ECORRUPT,
                               "unknown schema kind id %u at offset %zu",
                               (unsigned)id, at);
        goto done;
    }
    if ((rc = read_name(r, &name, "schema type name")) < 0)
        goto done;

    switch (id) {
    case KIND_OBJECT:
    case KIND_OBJECT_KEYED:
        if ((rc = hollow_schema_object_new(&s, name)) < 0)
            goto done;
        if (id == KIND_OBJECT_KEYED && (rc = read_key(s, r)) < 0)
            goto done;
        rc = read_fields(s, r);
        break;
    case KIND_LIST:
        if ((rc = read_name(r, &elem, "element type name")) < 0)
            goto done;
        rc = hollow_schema_list_type_new(&s, name, elem);
        break;
    case KIND_SET:
    case KIND_SET_KEYED:
        if ((rc = read_name(r, &elem, "element type name")) < 0 ||
            (rc = hollow_schema_set_type_new(&s, name, elem)) < 0)
            goto done;
        if (id == KIND_SET_KEYED)
            rc = read_key(s, r);
        break;
    default: /* KIND_MAP, KIND_MAP_KEYED */
        if ((rc = read_name(r, &elem, "map key type name")) < 0 ||
            (rc = read_name(r, &value, "map value type name")) < 0 ||
            (rc = hollow_schema_map_type_new(&s, name, elem, value)) < 0)
            goto done;
        if (id == KIND_MAP_KEYED)
            rc = read_key(s, r);
        break;
    }
done:
    if (rc < 0 && rc != HOLLOW_ENOMEM && name != NULL)
        hollow__error_prefix("schema %s", name);
    if (rc < 0) {
        hollow_schema_free(s);
        s = NULL;
    }
    hollow__free(name);
    hollow__free(elem);
    hollow__free(value);
    *out = s;
    return rc;
}
