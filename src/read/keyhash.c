/*
 * Hash-key hashing and matching on the read side (blob-format.md §4.2,
 * §11.5). A key path is resolved against the read state's types into hops;
 * following it from an element record reads one REFERENCE per non-final hop
 * and the key value at the last hop.
 */
#include "keyhash.h"

#include <string.h>

#include "access.h"
#include "common/alloc.h"
#include "common/hash.h"
#include "common/reader.h"
#include "common/text.h"

static const hollow_type *type_named(const hollow_type *from, const char *name)
{
    return name ? hollow_read_state_type(from->state, name) : NULL;
}

int hollow__key_path_resolve(hollow__key_hop *hops, const hollow_type *start,
                             const char *path)
{
    const hollow_type *t = start;
    size_t n = 0;
    const char *p = path;
    size_t plen = strlen(path);
    bool no_expand = plen > 0 && path[plen - 1] == '!';
    if (no_expand)
        plen--;
    const char *end = path + plen;
    while (p <= end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *seg_end = dot ? dot : end;
        if (t == NULL || t->schema->kind != HOLLOW_SCHEMA_OBJECT)
            return hollow__error_set(HOLLOW_EINVAL,
                                     "key path %s: segment does not start at an "
                                     "OBJECT type", path);
        size_t f;
        size_t seglen = (size_t)(seg_end - p);
        for (f = 0; f < t->schema->field_count; f++)
            if (strlen(t->schema->fields[f].name) == seglen &&
                memcmp(t->schema->fields[f].name, p, seglen) == 0)
                break;
        if (f == t->schema->field_count)
            return hollow__error_set(HOLLOW_EINVAL,
                                     "key path %s: type %s has no field %.*s",
                                     path, t->schema->name, (int)seglen, p);
        if (n >= HOLLOW__KEY_MAX_HOPS)
            return hollow__error_set(HOLLOW_EINVAL, "key path %s too long", path);
        hops[n].type = t;
        hops[n].field = f;
        n++;
        const hollow__field *fd = &t->schema->fields[f];
        if (dot == NULL) {
            if (fd->type != HOLLOW_FIELD_REFERENCE || no_expand)
                return (int)n;
            /* auto-expansion (§4.2) */
            const hollow_type *target = type_named(t, fd->ref_type);
            while (target != NULL && target->schema->kind == HOLLOW_SCHEMA_OBJECT) {
                const hollow_schema *ts = target->schema;
                size_t g;
                if (ts->field_count == 1) {
                    g = 0;
                } else if (ts->key_count == 1) {
                    int gi = hollow_schema_field_index(ts, ts->key_paths[0]);
                    if (gi < 0) /* multi-segment primary key: resolve it */
                        return hollow__error_set(HOLLOW_EINVAL,
                                                 "key path %s: cannot expand "
                                                 "through %s",
                                                 path, ts->name);
                    g = (size_t)gi;
                } else {
                    break;
                }
                if (n >= HOLLOW__KEY_MAX_HOPS)
                    return hollow__error_set(HOLLOW_EINVAL, "key path %s too "
                                             "long", path);
                hops[n].type = target;
                hops[n].field = g;
                n++;
                if (ts->fields[g].type != HOLLOW_FIELD_REFERENCE)
                    return (int)n;
                target = type_named(target, ts->fields[g].ref_type);
            }
            return hollow__error_set(HOLLOW_EINVAL,
                                     "key path %s ends on a reference that "
                                     "cannot be expanded", path);
        }
        if (fd->type != HOLLOW_FIELD_REFERENCE)
            return hollow__error_set(HOLLOW_EINVAL,
                                     "key path %s: %s.%s is not a reference",
                                     path, t->schema->name, fd->name);
        t = type_named(t, fd->ref_type);
        p = dot + 1;
    }
    return hollow__error_set(HOLLOW_EINVAL, "empty key path");
}

/* the type holding the key records of a SET/MAP */
static const hollow_type *key_type(const hollow_type *coll)
{
    return type_named(coll, coll->schema->elem_type);
}

/* follow the hops from `o`; leaves the last hop's type and ordinal */
static int follow(hollow_ordinal *last, const hollow__key_hop *hops, int n,
                  hollow_ordinal o)
{
    for (int i = 0; i + 1 < n; i++) {
        hollow_ordinal next;
        int rc = hollow_object_ref(&next, hops[i].type, o, hops[i].field);
        if (rc < 0)
            return rc;
        if (rc == HOLLOW_NULL)
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "null reference inside a hash key path");
        o = next;
    }
    *last = o;
    return 0;
}

static uint32_t fold64(uint64_t v) { return (uint32_t)(v ^ (v >> 32)); }

/* §11.5 fieldHash of the stored value */
static int record_field_hash(uint32_t *out, const hollow__key_hop *hop,
                             hollow_ordinal o, bool last_is_ordinal)
{
    const hollow__shard *s = NULL;
    uint32_t j = 0;
    int rc = hollow__locate(&s, &j, hop->type, o);
    if (rc < 0)
        return rc;
    hollow_value v;
    hollow_field_type ft = hop->type->schema->fields[hop->field].type;
    if (ft == HOLLOW_FIELD_FLOAT || ft == HOLLOW_FIELD_DOUBLE) {
        uint64_t raw = hollow__field_raw(s, j, hop->field);
        *out = ft == HOLLOW_FIELD_FLOAT ? (uint32_t)raw : fold64(raw);
        return 0;
    }
    rc = hollow_object_value(&v, hop->type, o, hop->field);
    if (rc < 0)
        return rc;
    (void)last_is_ordinal;
    switch (ft) {
    case HOLLOW_FIELD_INT: *out = v.is_null ? 0 : (uint32_t)v.u.i; break;
    case HOLLOW_FIELD_LONG: *out = v.is_null ? 0 : fold64((uint64_t)v.u.l); break;
    case HOLLOW_FIELD_BOOLEAN: *out = v.is_null ? 0 : (v.u.b ? 1231 : 1237); break;
    case HOLLOW_FIELD_REFERENCE: *out = v.is_null ? 0 : (uint32_t)v.u.ref; break;
    case HOLLOW_FIELD_BYTES:
        *out = hollow__murmur(v.u.bytes.ptr, v.u.bytes.len);
        break;
    case HOLLOW_FIELD_STRING: {
        uint32_t h = 0;
        for (size_t i = 0; i < v.u.bytes.len;) {
            uint32_t u;
            size_t k = hollow__vint_decode(v.u.bytes.ptr + i,
                                           v.u.bytes.len - i, &u);
            if (k == 0)
                return hollow__error_set(HOLLOW_ECORRUPT, "bad string bytes");
            h = 31u * h + (uint16_t)u;
            i += k;
        }
        *out = h;
        break;
    }
    default: *out = 0; break;
    }
    return 0;
}

int hollow__keyhash_of_record(uint32_t *out, const hollow_type *coll,
                              hollow_ordinal elem)
{
    const hollow_schema *cs = coll->schema;
    if (cs->key_count == 0) {
        *out = hollow__hash_int((uint32_t)elem);
        return 0;
    }
    const hollow_type *kt = key_type(coll);
    if (kt == NULL) /* §11.5: unresolvable keys fall back to ordinals */
        return *out = hollow__hash_int((uint32_t)elem), 0;
    uint32_t h = 0;
    for (size_t i = 0; i < cs->key_count; i++) {
        hollow__key_hop hops[HOLLOW__KEY_MAX_HOPS];
        int n = hollow__key_path_resolve(hops, kt, cs->key_paths[i]);
        if (n < 0)
            return n;
        hollow_ordinal o = 0;
        uint32_t fh = 0;
        int rc;
        if ((rc = follow(&o, hops, n, elem)) < 0 ||
            (rc = record_field_hash(&fh, &hops[n - 1], o, false)) < 0)
            return rc;
        h = (h * 31u) ^ hollow__hash_int(fh);
    }
    *out = h;
    return 0;
}

static int check_probe(const hollow__key_hop *hop, const hollow_value *v)
{
    hollow_field_type ft = hop->type->schema->fields[hop->field].type;
    if (v->type != ft)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "key field %s.%s is %s, probe value is %s",
                                 hop->type->schema->name,
                                 hop->type->schema->fields[hop->field].name,
                                 hollow_field_type_name(ft),
                                 hollow_field_type_name(v->type));
    return 0;
}

static int probe_field_hash(uint32_t *out, const hollow_value *v)
{
    switch (v->type) {
    case HOLLOW_FIELD_INT: *out = v->is_null ? 0 : (uint32_t)v->u.i; break;
    case HOLLOW_FIELD_LONG: *out = v->is_null ? 0 : fold64((uint64_t)v->u.l); break;
    case HOLLOW_FIELD_BOOLEAN: *out = v->is_null ? 0 : (v->u.b ? 1231 : 1237); break;
    case HOLLOW_FIELD_REFERENCE: *out = (uint32_t)v->u.ref; break;
    case HOLLOW_FIELD_FLOAT: {
        uint32_t b = 0x7FC00001u;
        if (!v->is_null)
            memcpy(&b, &v->u.f, 4);
        *out = b;
        break;
    }
    case HOLLOW_FIELD_DOUBLE: {
        uint64_t b = 0x7FF8000000000001ull;
        if (!v->is_null)
            memcpy(&b, &v->u.d, 8);
        *out = fold64(b);
        break;
    }
    case HOLLOW_FIELD_BYTES: *out = hollow__murmur(v->u.bytes.ptr, v->u.bytes.len); break;
    case HOLLOW_FIELD_STRING: {
        long k = hollow__utf8_to_utf16(NULL, v->u.str.ptr, v->u.str.len);
        if (k < 0)
            return hollow__error_set(HOLLOW_EINVAL, "probe string is not UTF-8");
        uint32_t h = 0;
        uint16_t tmp[2];
        const char *p = v->u.str.ptr;
        size_t left = v->u.str.len;
        /* decode one character at a time: no allocation */
        while (left > 0) {
            size_t clen = 1;
            uint8_t b = (uint8_t)*p;
            if (b >= 0xF0) clen = 4;
            else if (b >= 0xE0) clen = 3;
            else if (b >= 0xC0) clen = 2;
            long u = hollow__utf8_to_utf16(tmp, p, clen);
            for (long i = 0; i < u; i++)
                h = 31u * h + tmp[i];
            p += clen;
            left -= clen;
        }
        *out = h;
        break;
    }
    default: *out = 0; break;
    }
    return 0;
}

static int resolve_all(const hollow_type *coll, size_t count,
                       const hollow_type **kt)
{
    const hollow_schema *cs = coll->schema;
    if (cs->key_count == 0)
        return hollow__error_set(HOLLOW_EINVAL, "type %s has no hash key",
                                 cs->name);
    if (count != cs->key_count)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "type %s: hash key has %zu fields, %zu values "
                                 "given",
                                 cs->name, cs->key_count, count);
    *kt = key_type(coll);
    if (*kt == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "type %s: key type %s absent",
                                 cs->name, cs->elem_type);
    return 0;
}

int hollow__keyhash_of_values(uint32_t *out, const hollow_type *coll,
                              const hollow_value *keys, size_t count)
{
    const hollow_type *kt;
    int rc = resolve_all(coll, count, &kt);
    if (rc < 0)
        return rc;
    uint32_t h = 0;
    for (size_t i = 0; i < count; i++) {
        hollow__key_hop hops[HOLLOW__KEY_MAX_HOPS];
        int n = hollow__key_path_resolve(hops, kt, coll->schema->key_paths[i]);
        if (n < 0)
            return n;
        uint32_t fh = 0;
        if ((rc = check_probe(&hops[n - 1], &keys[i])) < 0 ||
            (rc = probe_field_hash(&fh, &keys[i])) < 0)
            return rc;
        h = (h * 31u) ^ hollow__hash_int(fh);
    }
    *out = h;
    return 0;
}

/* compare a stored STRING (varint units) with a UTF-8 probe */
static bool string_equals(hollow_bytes stored, hollow_str probe)
{
    size_t i = 0;
    const char *p = probe.ptr;
    size_t left = probe.len;
    uint16_t tmp[2];
    while (left > 0) {
        size_t clen = 1;
        uint8_t b = (uint8_t)*p;
        if (b >= 0xF0) clen = 4;
        else if (b >= 0xE0) clen = 3;
        else if (b >= 0xC0) clen = 2;
        if (clen > left)
            return false;
        long u = hollow__utf8_to_utf16(tmp, p, clen);
        if (u < 0)
            return false;
        for (long k = 0; k < u; k++) {
            uint32_t s;
            size_t n = hollow__vint_decode(stored.ptr + i, stored.len - i, &s);
            if (n == 0 || s != tmp[k])
                return false;
            i += n;
        }
        p += clen;
        left -= clen;
    }
    return i == stored.len;
}

int hollow__keyhash_equals(bool *out, const hollow_type *coll, hollow_ordinal elem,
                           const hollow_value *keys, size_t count)
{
    const hollow_type *kt;
    *out = false;
    int rc = resolve_all(coll, count, &kt);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count; i++) {
        hollow__key_hop hops[HOLLOW__KEY_MAX_HOPS];
        int n = hollow__key_path_resolve(hops, kt, coll->schema->key_paths[i]);
        if (n < 0)
            return n;
        hollow_ordinal o = 0;
        if ((rc = follow(&o, hops, n, elem)) < 0)
            return rc;
        hollow_value v;
        rc = hollow_object_value(&v, hops[n - 1].type, o, hops[n - 1].field);
        if (rc < 0)
            return rc;
        const hollow_value *k = &keys[i];
        if (v.is_null || k->is_null) {
            if (v.is_null != k->is_null)
                return 0;
            continue;
        }
        bool eq;
        switch (v.type) {
        case HOLLOW_FIELD_INT: eq = v.u.i == k->u.i; break;
        case HOLLOW_FIELD_LONG: eq = v.u.l == k->u.l; break;
        case HOLLOW_FIELD_BOOLEAN: eq = v.u.b == k->u.b; break;
        case HOLLOW_FIELD_REFERENCE: eq = v.u.ref == k->u.ref; break;
        case HOLLOW_FIELD_FLOAT: eq = memcmp(&v.u.f, &k->u.f, 4) == 0; break;
        case HOLLOW_FIELD_DOUBLE: eq = memcmp(&v.u.d, &k->u.d, 8) == 0; break;
        case HOLLOW_FIELD_BYTES:
            eq = v.u.bytes.len == k->u.bytes.len &&
                 (v.u.bytes.len == 0 ||
                  memcmp(v.u.bytes.ptr, k->u.bytes.ptr, v.u.bytes.len) == 0);
            break;
        case HOLLOW_FIELD_STRING: eq = string_equals(v.u.bytes, k->u.str); break;
        default: eq = false; break;
        }
        if (!eq)
            return 0;
    }
    *out = true;
    return 0;
}
