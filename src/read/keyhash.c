/*
 * Hash-key hashing and matching on the read side (blob-format.md §4.2,
 * §11.5). A key path is resolved against the read state's types into hops;
 * following it from an element record reads one REFERENCE per non-final hop
 * and the key value at the last hop.
 */
#include "keyhash.h"

#include <string.h>

#include "access.h"
#include "blob/format.h"
#include "common/alloc.h"
#include "common/hash.h"
#include "common/reader.h"
#include "common/text.h"

/* follow the hops from `o`; leaves the last hop's ordinal */
static int follow(hollow_ordinal *last, const hollow__key_hop *hops, size_t n,
                  hollow_ordinal o)
{
    for (size_t i = 0; i + 1 < n; i++) {
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
                             hollow_ordinal o)
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
    if (coll->keys == NULL) { /* no hash key, or one that did not resolve */
        *out = hollow__hash_int((uint32_t)elem);
        return 0;
    }
    uint32_t h = 0;
    for (size_t i = 0; i < cs->key_count; i++) {
        const hollow__key_path *kp = &coll->keys[i];
        hollow_ordinal o = 0;
        uint32_t fh = 0;
        int rc;
        if ((rc = follow(&o, kp->hops, kp->hop_count, elem)) < 0 ||
            (rc = record_field_hash(&fh, &kp->hops[kp->hop_count - 1], o)) < 0)
            return rc;
        h = (h * 31u) ^ hollow__hash_int(fh);
    }
    *out = h;
    return 0;
}

static int check_probe(const hollow__key_hop *hop, const hollow_value *v)
{
    hollow_field_type ft = hop->type->schema->fields[hop->field].type;
    if (hollow_field_type_name(v->type) == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "probe value for key field %s.%s has unknown "
                                 "field type %d",
                                 hop->type->schema->name,
                                 hop->type->schema->fields[hop->field].name,
                                 (int)v->type);
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
        uint32_t b = HOLLOW__FLOAT_NULL;
        if (!v->is_null)
            memcpy(&b, &v->u.f, 4);
        *out = b;
        break;
    }
    case HOLLOW_FIELD_DOUBLE: {
        uint64_t b = HOLLOW__DOUBLE_NULL;
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
            size_t clen = hollow__utf8_seq_len((uint8_t)*p);
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

static int check_keys(const hollow_type *coll, size_t count)
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
    if (coll->keys == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "type %s: hash key does not resolve against "
                                 "the state's types",
                                 cs->name);
    return 0;
}

int hollow__keyhash_of_values(uint32_t *out, const hollow_type *coll,
                              const hollow_value *keys, size_t count)
{
    int rc = check_keys(coll, count);
    if (rc < 0)
        return rc;
    uint32_t h = 0;
    for (size_t i = 0; i < count; i++) {
        const hollow__key_path *kp = &coll->keys[i];
        uint32_t fh = 0;
        if ((rc = check_probe(&kp->hops[kp->hop_count - 1], &keys[i])) < 0 ||
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
        size_t clen = hollow__utf8_seq_len((uint8_t)*p);
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
    *out = false;
    int rc = check_keys(coll, count);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count; i++) {
        const hollow__key_path *kp = &coll->keys[i];
        const hollow__key_hop *last = &kp->hops[kp->hop_count - 1];
        hollow_ordinal o = 0;
        if ((rc = follow(&o, kp->hops, kp->hop_count, elem)) < 0)
            return rc;
        hollow_value v;
        rc = hollow_object_value(&v, last->type, o, last->field);
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
