/*
 * Record builders and the identity encoding of records (blob-format.md
 * §10.2). Two records of a type are one record iff their identity bytes
 * are equal; the bytes also carry every value the blob writer needs.
 *
 *   OBJECT  fields in schema order; null is 80 (FLOAT 7F C0 00 01, DOUBLE
 *           7F F8 00 00 00 00 00 01); INT vint(zz32), LONG vlong(zz64),
 *           REFERENCE vint(ordinal), BOOLEAN 00/01, FLOAT/DOUBLE canonical
 *           bits big-endian, STRING vint(byte length) + varint code units,
 *           BYTES vint(length) + bytes
 *   LIST    vint(size), vint(element)...
 *   SET     vint(size), per element ascending: vint(gap), vint(bucket)
 *   MAP     vint(size), per entry by key then value: vint(key gap),
 *           vint(value), vint(bucket)        bucket = hashInt(o) & (t-1)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blob/format.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/reader.h"
#include "common/text.h"
#include "write_int.h"

int hollow_record_new(hollow_record **out, const hollow_write_state *ws,
                      const char *type)
{
    if (out == NULL || ws == NULL || type == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = NULL;
    hollow__wtype *t = hollow__ws_type(ws, type);
    if (t == NULL)
        return hollow__error_set(HOLLOW_ENOTFOUND,
                                 "the write state has no type %s", type);
    hollow_record *r = hollow__calloc(1, sizeof *r);
    HOLLOW_CHECK_ALLOC(r);
    r->schema = t->schema;
    r->type = t->index;
    size_t nf = t->schema->field_count;
    r->fields = hollow__calloc(nf ? nf : 1, sizeof *r->fields);
    if (r->fields == NULL) {
        hollow__free(r);
        return hollow__error_oom();
    }
    *out = r;
    return 0;
}

void hollow_record_free(hollow_record *r)
{
    if (r == NULL)
        return;
    hollow__free(r->fields);
    hollow__free(r->elems);
    hollow__buf_free(&r->data);
    hollow__buf_free(&r->scratch);
    hollow__free(r);
}

void hollow_record_reset(hollow_record *r)
{
    if (r == NULL)
        return;
    memset(r->fields, 0, r->schema->field_count * sizeof *r->fields);
    r->data.len = 0;
    r->data.oom = 0;
    r->elem_count = 0;
}

const hollow_schema *hollow_record_schema(const hollow_record *r)
{
    if (r == NULL)
        return NULL;
    return r->schema;
}

/* hollow__schema_check_field, its passing case inline (one call per
 * field set, millions per populate) */
static inline int check_field(const hollow_schema *s, size_t f,
                              hollow_field_type t)
{
    if (s->kind == HOLLOW_SCHEMA_OBJECT && f < s->field_count &&
        s->fields[f].type == t)
        return 0;
    return hollow__schema_check_field(s, f, t);
}

static int set_fixed(hollow_record *r, size_t f, hollow_field_type t,
                     bool is_null, uint64_t v)
{
    int rc = check_field(r->schema, f, t);
    if (rc < 0)
        return rc;
    r->fields[f].set = true;
    r->fields[f].is_null = is_null;
    r->fields[f].v = v;
    return 0;
}

int hollow_record_set_int(hollow_record *r, size_t field, int32_t v)
{
    HOLLOW__ARG_NOT_NULL(r);
    return set_fixed(r, field, HOLLOW_FIELD_INT, v == INT32_MIN,
                     hollow__zigzag32(v));
}

int hollow_record_set_long(hollow_record *r, size_t field, int64_t v)
{
    HOLLOW__ARG_NOT_NULL(r);
    return set_fixed(r, field, HOLLOW_FIELD_LONG, v == INT64_MIN,
                     hollow__zigzag64(v));
}

int hollow_record_set_float(hollow_record *r, size_t field, float v)
{
    HOLLOW__ARG_NOT_NULL(r);
    uint32_t bits;
    if (isnan(v))
        bits = 0x7FC00000u; /* Java's canonical NaN (§6.1) */
    else
        memcpy(&bits, &v, 4);
    return set_fixed(r, field, HOLLOW_FIELD_FLOAT, false, bits);
}

int hollow_record_set_double(hollow_record *r, size_t field, double v)
{
    HOLLOW__ARG_NOT_NULL(r);
    uint64_t bits;
    if (isnan(v))
        bits = 0x7FF8000000000000ull;
    else
        memcpy(&bits, &v, 8);
    return set_fixed(r, field, HOLLOW_FIELD_DOUBLE, false, bits);
}

int hollow_record_set_bool(hollow_record *r, size_t field, bool v)
{
    HOLLOW__ARG_NOT_NULL(r);
    return set_fixed(r, field, HOLLOW_FIELD_BOOLEAN, false, v ? 1 : 0);
}

int hollow_record_set_ref(hollow_record *r, size_t field, hollow_ordinal o)
{
    HOLLOW__ARG_NOT_NULL(r);
    if (o < 0)
        return hollow__error_set(HOLLOW_EINVAL, "negative ordinal %d", (int)o);
    return set_fixed(r, field, HOLLOW_FIELD_REFERENCE, false, (uint64_t)o);
}

int hollow_record_set_null(hollow_record *r, size_t field)
{
    HOLLOW__ARG_NOT_NULL(r);
    const hollow_schema *s = r->schema;
    if (s->kind != HOLLOW_SCHEMA_OBJECT || field >= s->field_count)
        return hollow__error_set(HOLLOW_EINVAL, "type %s has no field %zu",
                                 s->name, field);
    r->fields[field].set = true;
    r->fields[field].is_null = true;
    return 0;
}

static int set_var(hollow_record *r, size_t f, hollow_field_type t,
                   const void *p, size_t n)
{
    int rc = check_field(r->schema, f, t);
    if (rc < 0)
        return rc;
    r->fields[f].set = true;
    r->fields[f].is_null = false;
    r->fields[f].off = r->data.len;
    r->fields[f].len = n;
    hollow__buf_put(&r->data, p, n);
    return hollow__buf_check(&r->data);
}

int hollow_record_set_bytes(hollow_record *r, size_t field, const void *data,
                            size_t len)
{
    HOLLOW__ARG_NOT_NULL(r);
    if (data == NULL && len > 0)
        return hollow__error_null("data");
    return set_var(r, field, HOLLOW_FIELD_BYTES, data, len);
}

int hollow_record_set_string_utf16(hollow_record *r, size_t field,
                                   const uint16_t *units, size_t n)
{
    HOLLOW__ARG_NOT_NULL(r);
    if (units == NULL && n > 0)
        return hollow__error_null("units");
    int rc = check_field(r->schema, field, HOLLOW_FIELD_STRING);
    if (rc < 0)
        return rc;
    r->fields[field].set = true;
    r->fields[field].is_null = false;
    r->fields[field].off = r->data.len;
    for (size_t i = 0; i < n; i++) /* §6.4: each code unit as a vint */
        hollow__buf_vint(&r->data, units[i]);
    r->fields[field].len = r->data.len - r->fields[field].off;
    return hollow__buf_check(&r->data);
}

int hollow_record_set_string(hollow_record *r, size_t field, const char *utf8,
                             size_t len)
{
    HOLLOW__ARG_NOT_NULL(r);
    if (utf8 == NULL && len > 0)
        return hollow__error_null("utf8");
    int rc = check_field(r->schema, field, HOLLOW_FIELD_STRING);
    if (rc < 0)
        return rc;
    size_t i = 0;
    while (i < len && (uint8_t)utf8[i] < 0x80 && utf8[i] != 0)
        i++;
    if (i == len) /* ASCII: the bytes are already the encoding */
        return set_var(r, field, HOLLOW_FIELD_STRING, utf8, len);
    uint16_t stackbuf[256];
    uint16_t *u = len <= 256 ? stackbuf : hollow__mallocarray(len, sizeof *u);
    HOLLOW_CHECK_ALLOC(u);
    long n = hollow__utf8_to_utf16(u, utf8, len);
    if (n < 0)
        rc = hollow__error_set(HOLLOW_EINVAL, "string for %s.%s is not UTF-8",
                               r->schema->name, r->schema->fields[field].name);
    else
        rc = hollow_record_set_string_utf16(r, field, u, (size_t)n);
    if (u != stackbuf)
        hollow__free(u);
    return rc;
}

static int push(hollow_record *r, int32_t a, int32_t b, bool pair)
{
    size_t need = r->elem_count + (pair ? 2 : 1);
    HOLLOW_TRY(hollow__grow(r->elems, r->elem_cap, need, 16));
    r->elems[r->elem_count++] = a;
    if (pair)
        r->elems[r->elem_count++] = b;
    return 0;
}

int hollow_record_add_element(hollow_record *r, hollow_ordinal e)
{
    HOLLOW__ARG_NOT_NULL(r);
    hollow_schema_kind k = r->schema->kind;
    if (k != HOLLOW_SCHEMA_LIST && k != HOLLOW_SCHEMA_SET)
        return hollow__error_set(HOLLOW_EINVAL, "type %s is not a LIST or SET",
                                 r->schema->name);
    if (e < 0)
        return hollow__error_set(HOLLOW_EINVAL, "negative ordinal %d", (int)e);
    return push(r, e, 0, false);
}

int hollow_record_put_entry(hollow_record *r, hollow_ordinal key,
                            hollow_ordinal value)
{
    HOLLOW__ARG_NOT_NULL(r);
    if (r->schema->kind != HOLLOW_SCHEMA_MAP)
        return hollow__error_set(HOLLOW_EINVAL, "type %s is not a MAP",
                                 r->schema->name);
    if (key < 0 || value < 0)
        return hollow__error_set(HOLLOW_EINVAL, "negative ordinal");
    return push(r, key, value, true);
}

/* ------------------------------------------------------- encoding */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* MAP entries carry their insertion index so that the last put wins */
typedef struct entry {
    int32_t key, value;
    size_t seq;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* small arrays sort faster by insertion than through qsort */
#define SMALL_SORT 16

static void sort_i32(int32_t *a, size_t n)
{
    if (n > SMALL_SORT) {
        qsort(a, n, sizeof *a, cmp_i32);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        int32_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* by key, then insertion order (insertion sort is stable) */
static void sort_entries(entry *es, size_t n)
{
    if (n > SMALL_SORT) {
        qsort(es, n, sizeof *es, cmp_entry);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        entry v = es[i];
        size_t j = i;
        for (; j > 0 && es[j - 1].key > v.key; j--)
            es[j] = es[j - 1];
        es[j] = v;
    }
}

/* hollow__vlong_encode inline: 7-bit groups, the most significant first,
 * each but the last with its high bit set */
static inline size_t venc(uint8_t *q, uint64_t v)
{
    if (v < 0x80) {
        q[0] = (uint8_t)v;
        return 1;
    }
    size_t n = (size_t)(64 - __builtin_clzll(v) + 6) / 7;
    for (size_t i = 0; i + 1 < n; i++)
        q[i] = (uint8_t)((v >> (7 * (n - 1 - i))) | 0x80);
    q[n - 1] = (uint8_t)(v & 0x7F);
    return n;
}

static uint8_t *put_be32(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)(v >> 24);
    q[1] = (uint8_t)(v >> 16);
    q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
    return q + 4;
}

static uint8_t *put_be64(uint8_t *q, uint64_t v)
{
    return put_be32(put_be32(q, (uint32_t)(v >> 32)), (uint32_t)v);
}

/* room for n more vints (5 bytes at most each) at b->ptr + b->len; NULL
 * when out of memory (b->oom is then set) */
static uint8_t *reserve_vints(hollow__buf *b, size_t n)
{
    size_t most;
    if (__builtin_mul_overflow(n, (size_t)5, &most)) {
        b->oom = 1;
        return NULL;
    }
    if (hollow__buf_grow(b, most ? most : 1) < 0)
        return NULL;
    return b->ptr + b->len;
}

/* the bytes are written straight into room reserved once for the most
 * the record can take (10 a fixed field, 5 + the bytes a var one) */
static void encode_object(hollow_record *r, hollow__buf *b)
{
    const hollow_schema *s = r->schema;
    size_t most = 0;
    for (size_t f = 0; f < s->field_count; f++)
        most += 10 + (r->fields[f].set && !r->fields[f].is_null &&
                              (s->fields[f].type == HOLLOW_FIELD_STRING ||
                               s->fields[f].type == HOLLOW_FIELD_BYTES)
                          ? r->fields[f].len
                          : 0);
    if (hollow__buf_grow(b, most ? most : 1) < 0)
        return; /* b->oom is set: hollow__buf_check() reports it */
    uint8_t *q = b->ptr + b->len;
    for (size_t f = 0; f < s->field_count; f++) {
        const hollow__rfield *v = &r->fields[f];
        hollow_field_type t = s->fields[f].type;
        if (!v->set || v->is_null) {
            if (t == HOLLOW_FIELD_FLOAT)
                q = put_be32(q, HOLLOW__FLOAT_NULL);
            else if (t == HOLLOW_FIELD_DOUBLE)
                q = put_be64(q, HOLLOW__DOUBLE_NULL);
            else
                *q++ = 0x80;
            continue;
        }
        switch (t) {
        case HOLLOW_FIELD_INT:
        case HOLLOW_FIELD_REFERENCE: q += venc(q, (uint32_t)v->v); break;
        case HOLLOW_FIELD_LONG: q += venc(q, v->v); break;
        case HOLLOW_FIELD_BOOLEAN: *q++ = (uint8_t)v->v; break;
        case HOLLOW_FIELD_FLOAT: q = put_be32(q, (uint32_t)v->v); break;
        case HOLLOW_FIELD_DOUBLE: q = put_be64(q, v->v); break;
        case HOLLOW_FIELD_STRING:
        case HOLLOW_FIELD_BYTES:
            q += venc(q, (uint32_t)v->len);
            /* an empty value may have no data buffer: no NULL + 0 */
            if (v->len > 0)
                memcpy(q, r->data.ptr + v->off, v->len);
            q += v->len;
            break;
        }
    }
    b->len = (size_t)(q - b->ptr);
}

int hollow__record_encode(hollow_record *r)
{
    hollow__buf *b = &r->scratch;
    b->len = 0;
    b->oom = 0;
    switch (r->schema->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        encode_object(r, b);
        break;
    case HOLLOW_SCHEMA_LIST: {
        uint8_t *q = reserve_vints(b, r->elem_count + 1);
        if (q == NULL)
            break;
        q += venc(q, (uint32_t)r->elem_count);
        for (size_t i = 0; i < r->elem_count; i++)
            q += venc(q, (uint32_t)r->elems[i]);
        b->len = (size_t)(q - b->ptr);
        break;
    }
    case HOLLOW_SCHEMA_SET: {
        /* sorted and without duplicates (a SET holds an ordinal once) */
        sort_i32(r->elems, r->elem_count);
        size_t n = 0;
        for (size_t i = 0; i < r->elem_count; i++)
            if (n == 0 || r->elems[i] != r->elems[n - 1])
                r->elems[n++] = r->elems[i];
        r->elem_count = n;
        uint32_t t = hollow__hash_table_size((uint32_t)n);
        if (t == 0)
            return hollow__error_set(HOLLOW_ERANGE, "set of %zu elements is too "
                                     "large", n);
        uint8_t *q = reserve_vints(b, 2 * n + 1);
        if (q == NULL)
            break;
        q += venc(q, (uint32_t)n);
        int32_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            q += venc(q, (uint32_t)(r->elems[i] - prev));
            q += venc(q, hollow__hash_int((uint32_t)r->elems[i]) &
                                            (t - 1));
            prev = r->elems[i];
        }
        b->len = (size_t)(q - b->ptr);
        break;
    }
    case HOLLOW_SCHEMA_MAP: {
        size_t n = r->elem_count / 2;
        entry small[SMALL_SORT];
        entry *es = n <= SMALL_SORT ? small : hollow__calloc(n, sizeof *es);
        HOLLOW_CHECK_ALLOC(es);
        for (size_t i = 0; i < n; i++) {
            es[i].key = r->elems[2 * i];
            es[i].value = r->elems[2 * i + 1];
            es[i].seq = i;
        }
        sort_entries(es, n);
        /* the last put of a key wins; the keys left are distinct, so the
         * entries are in key-then-value order */
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (m > 0 && es[m - 1].key == es[i].key)
                es[m - 1] = es[i];
            else
                es[m++] = es[i];
        }
        uint32_t t = hollow__hash_table_size((uint32_t)m);
        if (t == 0) {
            if (es != small)
                hollow__free(es);
            return hollow__error_set(HOLLOW_ERANGE, "map of %zu entries is too "
                                     "large", m);
        }
        uint8_t *q = reserve_vints(b, 3 * m + 1);
        int32_t prev = 0;
        if (q != NULL) {
            q += venc(q, (uint32_t)m);
            for (size_t i = 0; i < m; i++) {
                q += venc(q, (uint32_t)(es[i].key - prev));
                q += venc(q, (uint32_t)es[i].value);
                q += hollow__vint_encode(
                    q, hollow__hash_int((uint32_t)es[i].key) & (t - 1));
                prev = es[i].key;
            }
            b->len = (size_t)(q - b->ptr);
        }
        if (es != small)
            hollow__free(es);
        break;
    }
    }
    return hollow__buf_check(b);
}

/* ------------------------------------------------------- decoding */

size_t hollow__wdecode_field(hollow__wval *out, const uint8_t *p,
                             hollow_field_type t)
{
    uint32_t u32;
    size_t n;
    out->bytes = NULL;
    out->len = 0;
    out->v = 0;
    switch (t) {
    case HOLLOW_FIELD_FLOAT:
        out->v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
                 ((uint32_t)p[2] << 8) | p[3];
        out->is_null = out->v == HOLLOW__FLOAT_NULL;
        return 4;
    case HOLLOW_FIELD_DOUBLE:
        for (int i = 0; i < 8; i++)
            out->v = (out->v << 8) | p[i];
        out->is_null = out->v == HOLLOW__DOUBLE_NULL;
        return 8;
    default:
        break;
    }
    if (p[0] == 0x80) {
        out->is_null = true;
        return 1;
    }
    out->is_null = false;
    switch (t) {
    case HOLLOW_FIELD_BOOLEAN:
        out->v = p[0];
        return 1;
    case HOLLOW_FIELD_LONG: {
        uint64_t acc = 0;
        size_t i = 0;
        do {
            acc = (acc << 7) | (p[i] & 0x7F);
        } while (p[i++] & 0x80);
        out->v = acc;
        return i;
    }
    case HOLLOW_FIELD_STRING:
    case HOLLOW_FIELD_BYTES:
        n = hollow__vint_decode(p, 5, &u32);
        out->bytes = p + n;
        out->len = u32;
        return n + u32;
    default: /* INT, REFERENCE */
        n = hollow__vint_decode(p, 5, &u32);
        out->v = u32;
        return n;
    }
}
