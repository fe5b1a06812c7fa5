/*
 * OBJECT field accessors (blob-format.md §6.1, §6.4).
 *
 * A field value is read(j * Wrec + off_f, W_f) from the shard's fixed-length
 * words. Null sentinels differ by type: all ones of the width for INT, LONG,
 * REFERENCE and BOOLEAN; fixed NaN payloads for FLOAT and DOUBLE; the top bit
 * for STRING and BYTES. Nothing here allocates.
 */
#include <math.h>
#include <string.h>

#include "access.h"
#include "blob/format.h"
#include "common/reader.h"
#include "common/text.h"

/*
 * Check the arguments and the field, locate the slot and read its raw bits. 0, HOLLOW_NULL
 * when the bits are the null of the field's type (§6.1: all ones of the
 * width, or the null NaN of FLOAT and DOUBLE), or an error.
 */
static int raw_value(uint64_t *raw, const void *out, const hollow_type *t,
                     hollow_ordinal o, size_t f, hollow_field_type want)
{
    HOLLOW__ARG_NOT_NULL(out); /* the caller's out parameter */
    HOLLOW__ARG_NOT_NULL(t);
    const hollow__shard *s = NULL;
    uint32_t j = 0;
    int rc;
    if ((rc = hollow__schema_check_field(t->schema, f, want)) < 0 ||
        (rc = hollow__locate(&s, &j, t, o)) < 0)
        return rc;
    unsigned w = s->widths[f];
    *raw = hollow__field_raw(s, j, f);
    switch (want) {
    case HOLLOW_FIELD_FLOAT:
        return w > 0 && (uint32_t)*raw == HOLLOW__FLOAT_NULL ? HOLLOW_NULL : 0;
    case HOLLOW_FIELD_DOUBLE:
        return w > 0 && *raw == HOLLOW__DOUBLE_NULL ? HOLLOW_NULL : 0;
    default: return *raw == hollow__ones(w) ? HOLLOW_NULL : 0;
    }
}

int hollow_object_int(int32_t *out, const hollow_type *t, hollow_ordinal o,
                      size_t field)
{
    uint64_t raw;
    int rc = raw_value(&raw, out, t, o, field, HOLLOW_FIELD_INT);
    if (rc == HOLLOW_NULL)
        *out = INT32_MIN; /* Java's null int (§6.1) */
    else if (rc == 0)
        *out = hollow__unzigzag32((uint32_t)raw);
    return rc;
}

int hollow_object_long(int64_t *out, const hollow_type *t, hollow_ordinal o,
                       size_t field)
{
    uint64_t raw;
    int rc = raw_value(&raw, out, t, o, field, HOLLOW_FIELD_LONG);
    if (rc == HOLLOW_NULL)
        *out = INT64_MIN;
    else if (rc == 0)
        *out = hollow__unzigzag64(raw);
    return rc;
}

int hollow_object_float(float *out, const hollow_type *t, hollow_ordinal o,
                        size_t field)
{
    uint64_t raw;
    int rc = raw_value(&raw, out, t, o, field, HOLLOW_FIELD_FLOAT);
    if (rc == HOLLOW_NULL) {
        *out = NAN;
    } else if (rc == 0) {
        uint32_t bits = (uint32_t)raw;
        memcpy(out, &bits, 4);
    }
    return rc;
}

int hollow_object_double(double *out, const hollow_type *t, hollow_ordinal o,
                         size_t field)
{
    uint64_t raw;
    int rc = raw_value(&raw, out, t, o, field, HOLLOW_FIELD_DOUBLE);
    if (rc == HOLLOW_NULL)
        *out = NAN;
    else if (rc == 0)
        memcpy(out, &raw, 8);
    return rc;
}

int hollow_object_bool(bool *out, const hollow_type *t, hollow_ordinal o,
                       size_t field)
{
    uint64_t raw;
    int rc = raw_value(&raw, out, t, o, field, HOLLOW_FIELD_BOOLEAN);
    if (rc == HOLLOW_NULL)
        *out = false;
    if (rc != 0)
        return rc;
    if (raw > 1)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "type %s ordinal %d: boolean value %llu",
                                 t->schema->name, (int)o,
                                 (unsigned long long)raw);
    *out = raw == 1;
    return 0;
}

int hollow_object_ref(hollow_ordinal *out, const hollow_type *t,
                      hollow_ordinal o, size_t field)
{
    uint64_t raw;
    int rc = raw_value(&raw, out, t, o, field, HOLLOW_FIELD_REFERENCE);
    if (rc == HOLLOW_NULL)
        *out = HOLLOW_ORDINAL_NONE;
    if (rc != 0)
        return rc;
    if (raw > INT32_MAX)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "type %s ordinal %d: reference %llu too large",
                                 t->schema->name, (int)o,
                                 (unsigned long long)raw);
    *out = (hollow_ordinal)raw;
    return 0;
}

static int var_bytes(const uint8_t **p, size_t *len, const hollow_type *t,
                     hollow_ordinal o, size_t f, hollow_field_type want)
{
    const hollow__shard *s = NULL;
    uint32_t j = 0;
    int rc;
    if ((rc = hollow__schema_check_field(t->schema, f, want)) < 0 ||
        (rc = hollow__locate(&s, &j, t, o)) < 0)
        return rc;
    return hollow__var_range(p, len, t, s, j, f);
}

/* a borrowed view of a BYTES or STRING field's stored bytes */
static int stored_view(hollow_bytes *out, const hollow_type *t, hollow_ordinal o,
                       size_t field, hollow_field_type want)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(t);
    out->ptr = NULL;
    out->len = 0;
    return var_bytes(&out->ptr, &out->len, t, o, field, want);
}

int hollow_object_bytes(hollow_bytes *out, const hollow_type *t,
                        hollow_ordinal o, size_t field)
{
    return stored_view(out, t, o, field, HOLLOW_FIELD_BYTES);
}

int hollow_object_string_raw(hollow_bytes *out, const hollow_type *t,
                             hollow_ordinal o, size_t field)
{
    return stored_view(out, t, o, field, HOLLOW_FIELD_STRING);
}

int hollow_object_string_length(size_t *units, const hollow_type *t,
                                hollow_ordinal o, size_t field)
{
    HOLLOW__ARG_NOT_NULL(units);
    HOLLOW__ARG_NOT_NULL(t);
    const hollow__shard *s = NULL;
    const uint8_t *p = NULL;
    uint32_t j = 0;
    size_t n = 0;
    *units = 0;
    int rc;
    if ((rc = hollow__schema_check_field(t->schema, field,
                                         HOLLOW_FIELD_STRING)) < 0 ||
        (rc = hollow__locate(&s, &j, t, o)) < 0 ||
        (rc = hollow__var_range(&p, &n, t, s, j, field)) != 0)
        return rc;
    /* the cursor's branch-free count (read.h), bounded by the buffer */
    *units = hollow_cursor_units_(p, n, s->var[field] + s->var_len[field]);
    return 0;
}

static int bad_string(const hollow_type *t, hollow_ordinal o)
{
    return hollow__error_set(HOLLOW_ECORRUPT,
                             "type %s ordinal %d: string bytes are not varint "
                             "UTF-16 code units",
                             t->schema->name, (int)o);
}

/* next code unit of a stored string, or -1 if malformed */
static inline long next_unit(const uint8_t *p, size_t len, size_t *i)
{
    if (p[*i] < 0x80)
        return p[(*i)++];
    uint32_t u;
    size_t n = hollow__vint_decode(p + *i, len - *i, &u);
    if (n == 0 || u > 0xFFFF)
        return -1;
    *i += n;
    return (long)u;
}

int hollow_object_string_utf16(uint16_t *buf, size_t cap, size_t *len,
                               const hollow_type *t, hollow_ordinal o,
                               size_t field)
{
    HOLLOW__ARG_NOT_NULL(len);
    HOLLOW__ARG_NOT_NULL(t);
    if (buf == NULL && cap > 0)
        return hollow__error_null("buf");
    const uint8_t *p = NULL;
    size_t n = 0;
    *len = 0;
    int rc = var_bytes(&p, &n, t, o, field, HOLLOW_FIELD_STRING);
    if (rc != 0)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        long u = next_unit(p, n, &i);
        if (u < 0)
            return bad_string(t, o);
        if (k < cap)
            buf[k] = (uint16_t)u;
        k++;
    }
    *len = k;
    if (k > cap)
        return hollow__error_set(HOLLOW_ERANGE,
                                 "string of %zu code units, buffer holds %zu", k,
                                 cap);
    return 0;
}

int hollow_object_string(hollow_str *out, char *buf, size_t cap,
                         const hollow_type *t, hollow_ordinal o, size_t field)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(t);
    if (buf == NULL && cap > 0)
        return hollow__error_null("buf");
    const uint8_t *p = NULL;
    size_t n = 0;
    out->ptr = NULL;
    out->len = 0;
    int rc = var_bytes(&p, &n, t, o, field, HOLLOW_FIELD_STRING);
    if (rc != 0)
        return rc;
    size_t i = 0;
    while (i < n && p[i] < 0x80)
        i++;
    if (i == n) { /* ASCII: the stored bytes are the UTF-8 (§6.4) */
        out->ptr = (const char *)p;
        out->len = n;
        return 0;
    }
    size_t o8 = 0;
    uint16_t pair[2];
    for (i = 0; i < n;) {
        long u = next_unit(p, n, &i);
        if (u < 0)
            return bad_string(t, o);
        size_t cnt = 1;
        pair[0] = (uint16_t)u;
        if (u >= 0xD800 && u <= 0xDBFF && i < n) {
            size_t save = i;
            long v = next_unit(p, n, &i);
            if (v >= 0xDC00 && v <= 0xDFFF) {
                pair[1] = (uint16_t)v;
                cnt = 2;
            } else {
                i = save;
            }
        }
        char tmp[4];
        size_t k = hollow__utf16_to_utf8(tmp, pair, cnt, 0);
        if (o8 + k <= cap)
            memcpy(buf + o8, tmp, k);
        o8 += k;
    }
    out->len = o8;
    if (o8 > cap)
        return hollow__error_set(HOLLOW_ERANGE,
                                 "string needs %zu bytes, buffer holds %zu", o8,
                                 cap);
    out->ptr = buf;
    return 0;
}

int hollow_object_value(hollow_value *out, const hollow_type *t,
                        hollow_ordinal o, size_t field)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(t);
    memset(out, 0, sizeof *out);
    const hollow_schema *s = t->schema;
    if (s->kind != HOLLOW_SCHEMA_OBJECT || field >= s->field_count)
        return hollow__error_set(HOLLOW_EINVAL, "type %s has no field %zu",
                                 s->name, field);
    out->type = s->fields[field].type;
    int rc;
    switch (out->type) {
    case HOLLOW_FIELD_INT: rc = hollow_object_int(&out->u.i, t, o, field); break;
    case HOLLOW_FIELD_LONG: rc = hollow_object_long(&out->u.l, t, o, field); break;
    case HOLLOW_FIELD_FLOAT: rc = hollow_object_float(&out->u.f, t, o, field); break;
    case HOLLOW_FIELD_DOUBLE:
        rc = hollow_object_double(&out->u.d, t, o, field);
        break;
    case HOLLOW_FIELD_BOOLEAN: rc = hollow_object_bool(&out->u.b, t, o, field); break;
    case HOLLOW_FIELD_STRING:
        rc = hollow_object_string_raw(&out->u.bytes, t, o, field);
        break;
    case HOLLOW_FIELD_BYTES: rc = hollow_object_bytes(&out->u.bytes, t, o, field); break;
    case HOLLOW_FIELD_REFERENCE:
        rc = hollow_object_ref(&out->u.ref, t, o, field);
        break;
    default: return hollow__error_set(HOLLOW_EINVAL, "bad field type");
    }
    out->is_null = rc == HOLLOW_NULL;
    return rc;
}
