/*
 * Fuzz target: snapshot decoding and every read path over the result
 * (blob-format.md §3, §5-§8, §11, §12; style.md B1.2).
 *
 * Any input may fail to load; that is fine, as long as the failure is a
 * clean HOLLOW_ECORRUPT / HOLLOW_EVERSION / HOLLOW_ERANGE (a hard limit of
 * docs/limits.md) / HOLLOW_ENOMEM with a message
 * and no state. When the input loads, the target walks everything a
 * consumer can reach through the public API:
 *
 *   - the canonical dump, the deep dump of every type and the checksum;
 *   - per type: shard count, max ordinal, record count, populated ordinals
 *     (next_ordinal agrees with is_populated and with the record count);
 *   - per populated ordinal (and the last slot, and one past it): every
 *     typed accessor of every OBJECT field (plus one of the wrong type),
 *     STRING as UTF-8 with a too-small and a big enough buffer and as
 *     UTF-16; LIST size and elements; SET/MAP size, iteration, contains /
 *     get of the iterated elements and keys and of absent ones, and
 *     hash-key lookups (set_find / map_find) with the key values read from
 *     the element or key record when the key paths are plain fields;
 *   - per OBJECT type: its primary key index, and a unique key index on
 *     each fixed-width field (src/index/fixed.c), each record found by its
 *     value at an ordinal no larger than its own holding an equal value.
 *
 * Return codes are checked against what read.h documents; anything else
 * aborts. Work per record is capped, so that a hostile blob with huge
 * collections does not turn every input into a timeout: the point is to
 * reach each code path with hostile values, not to scan big data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blob_mutator.h"
#include "hollow/dump.h"
#include "hollow/error.h"
#include "hollow/index.h"
#include "hollow/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

/* per-record and per-type caps on the work done (see the file comment) */
#define MAX_ELEMS 64
#define MAX_RECORDS 4096

/* the sink of every dump: counts bytes so the output is not dead */
static int sink(void *payload, const char *p, size_t n)
{
    size_t *total = payload;
    CHECK(n == 0 || p != NULL);
    *total += n;
    return 0;
}

/* a failure leaves its code and a message */
static void check_error_set(int rc)
{
    if (rc < 0)
        CHECK(hollow_error_last()->code == rc &&
              hollow_error_last()->message[0] != '\0');
}

/* an accessor result: success, null, or one of the documented errors */
static void check_access_rc(int rc)
{
    CHECK(rc == HOLLOW_OK || rc == HOLLOW_NULL || rc == HOLLOW_EINVAL ||
          rc == HOLLOW_ENOTFOUND || rc == HOLLOW_ECORRUPT);
    check_error_set(rc);
}

/* the field accessor of `type`, called for field f */
static int read_typed(const hollow_type *t, hollow_ordinal o, size_t f,
                      hollow_field_type type)
{
    int32_t i;
    int64_t l;
    float fl;
    double d;
    bool b;
    hollow_ordinal r;
    hollow_bytes by;
    switch (type) {
    case HOLLOW_FIELD_INT: return hollow_object_int(&i, t, o, f);
    case HOLLOW_FIELD_LONG: return hollow_object_long(&l, t, o, f);
    case HOLLOW_FIELD_FLOAT: return hollow_object_float(&fl, t, o, f);
    case HOLLOW_FIELD_DOUBLE: return hollow_object_double(&d, t, o, f);
    case HOLLOW_FIELD_BOOLEAN: return hollow_object_bool(&b, t, o, f);
    case HOLLOW_FIELD_BYTES: return hollow_object_bytes(&by, t, o, f);
    case HOLLOW_FIELD_STRING: return hollow_object_string_raw(&by, t, o, f);
    case HOLLOW_FIELD_REFERENCE: {
        int rc = hollow_object_ref(&r, t, o, f);
        if (rc == HOLLOW_OK)
            CHECK(r >= 0);
        if (rc == HOLLOW_NULL)
            CHECK(r == HOLLOW_ORDINAL_NONE);
        return rc;
    }
    }
    return HOLLOW_EINVAL;
}

/* STRING field: UTF-8 with a 1-byte buffer, then a big enough one; UTF-16 */
static void touch_string(const hollow_type *t, hollow_ordinal o, size_t f)
{
    char small[1];
    hollow_str s;
    int rc = hollow_object_string(&s, small, sizeof small, t, o, f);
    CHECK(rc == HOLLOW_OK || rc == HOLLOW_NULL || rc == HOLLOW_ERANGE ||
          rc == HOLLOW_ECORRUPT || rc == HOLLOW_ENOTFOUND);
    if (rc == HOLLOW_OK)
        CHECK(s.len <= 1 || s.ptr != small);
    if (rc != HOLLOW_ERANGE)
        return;
    size_t need = s.len;
    CHECK(need > sizeof small);
    char *big = malloc(need);
    CHECK(big != NULL);
    rc = hollow_object_string(&s, big, need, t, o, f);
    CHECK(rc == HOLLOW_OK && s.len == need && s.ptr == big);
    free(big);

    size_t units = 0;
    rc = hollow_object_string_utf16(NULL, 0, &units, t, o, f);
    CHECK(rc == HOLLOW_ERANGE || rc == HOLLOW_OK);
    uint16_t *u = malloc((units ? units : 1) * sizeof *u);
    CHECK(u != NULL);
    size_t got = 0;
    rc = hollow_object_string_utf16(u, units, &got, t, o, f);
    CHECK(rc == HOLLOW_OK && got == units);
    free(u);
}

static void touch_object(const hollow_type *t, hollow_ordinal o)
{
    const hollow_schema *s = hollow_type_schema(t);
    size_t nf = hollow_schema_field_count(s);
    for (size_t f = 0; f < nf; f++) {
        hollow_field_type ft = hollow_schema_field_type(s, f);
        hollow_value v;
        int rc = hollow_object_value(&v, t, o, f);
        check_access_rc(rc);
        if (rc >= 0)
            CHECK(v.type == ft && v.is_null == (rc == HOLLOW_NULL));
        int rc2 = read_typed(t, o, f, ft);
        check_access_rc(rc2);
        CHECK(rc2 == rc); /* the generic and the typed read agree */
        /* a wrong-typed read is refused before the record is looked at */
        hollow_field_type wrong = (hollow_field_type)((ft + 1) % 8);
        CHECK(read_typed(t, o, f, wrong) == HOLLOW_EINVAL);
        if (ft == HOLLOW_FIELD_STRING)
            touch_string(t, o, f);
    }
    CHECK(read_typed(t, o, nf, HOLLOW_FIELD_INT) == HOLLOW_EINVAL);
}

static void touch_list(const hollow_type *t, hollow_ordinal o)
{
    uint32_t n = 0;
    int rc = hollow_list_size(&n, t, o);
    check_access_rc(rc);
    if (rc < 0)
        return;
    hollow_ordinal e;
    for (uint32_t i = 0; i < n && i < MAX_ELEMS; i++) {
        rc = hollow_list_get(&e, t, o, i);
        check_access_rc(rc);
        CHECK(rc != HOLLOW_ENOTFOUND);
        if (rc == HOLLOW_OK)
            CHECK(e >= 0);
    }
    CHECK(hollow_list_get(&e, t, o, n) == HOLLOW_ENOTFOUND);
}

/*
 * Probe values for a hash-keyed SET/MAP from element/key record `elem`,
 * when every key path is a plain non-reference field of the key type.
 * STRING probes are UTF-8 in `strbuf` (freed by the caller).
 */
static bool key_values(hollow_value *keys, size_t nk, char **strbuf,
                       const hollow_type *kt, hollow_ordinal elem,
                       const hollow_schema *coll)
{
    const hollow_schema *ks = hollow_type_schema(kt);
    for (size_t i = 0; i < nk; i++) {
        int f = hollow_schema_field_index(ks, hollow_schema_key_path(coll, i));
        if (f < 0)
            return false;
        hollow_field_type ft = hollow_schema_field_type(ks, (size_t)f);
        if (ft == HOLLOW_FIELD_REFERENCE)
            return false;
        int rc = hollow_object_value(&keys[i], kt, elem, (size_t)f);
        if (rc < 0)
            return false;
        if (ft == HOLLOW_FIELD_STRING && rc == HOLLOW_OK) {
            hollow_str s;
            size_t cap = keys[i].u.bytes.len * 3 + 1;
            strbuf[i] = malloc(cap);
            CHECK(strbuf[i] != NULL);
            rc = hollow_object_string(&s, strbuf[i], cap, kt, elem, (size_t)f);
            if (rc != HOLLOW_OK)
                return false;
            keys[i].u.str = s;
        }
    }
    return true;
}

static void keyed_lookup(const hollow_read_state *rs, const hollow_type *t,
                         hollow_ordinal o, hollow_ordinal elem, bool is_map)
{
    const hollow_schema *s = hollow_type_schema(t);
    size_t nk = hollow_schema_key_count(s);
    const char *kname = hollow_schema_element_type(s);
    const hollow_type *kt = kname ? hollow_read_state_type(rs, kname) : NULL;
    if (nk == 0 || nk > 8 || kt == NULL ||
        hollow_type_kind(kt) != HOLLOW_SCHEMA_OBJECT || elem < 0)
        return;
    hollow_value keys[8];
    char *strbuf[8] = {NULL};
    memset(keys, 0, sizeof keys);
    if (key_values(keys, nk, strbuf, kt, elem, s)) {
        hollow_ordinal k = 0, v = 0;
        int rc = is_map ? hollow_map_find(&k, &v, t, o, keys, nk)
                        : hollow_set_find(&k, t, o, keys, nk);
        check_access_rc(rc);
        CHECK(rc != HOLLOW_NULL);
        if (rc < 0)
            CHECK(k == HOLLOW_ORDINAL_NONE);
    }
    for (size_t i = 0; i < nk; i++)
        free(strbuf[i]);
}

static void touch_set_map(const hollow_read_state *rs, const hollow_type *t,
                          hollow_ordinal o, bool is_map)
{
    uint32_t n = 0;
    int rc = is_map ? hollow_map_size(&n, t, o) : hollow_set_size(&n, t, o);
    check_access_rc(rc);
    hollow_iter it;
    rc = is_map ? hollow_map_iter_init(&it, t, o)
                : hollow_set_iter_init(&it, t, o);
    check_access_rc(rc);
    if (rc < 0)
        return;
    hollow_ordinal k, v;
    size_t seen = 0;
    while (is_map ? hollow_map_iter_next(&it, &k, &v)
                  : hollow_set_iter_next(&it, &k)) {
        if (seen++ >= MAX_ELEMS)
            continue; /* still iterate to the end: it must terminate */
        if (is_map) {
            hollow_ordinal got;
            rc = hollow_map_get(&got, t, o, k);
            check_access_rc(rc);
        } else {
            bool has = false;
            rc = hollow_set_contains(&has, t, o, k);
            check_access_rc(rc);
        }
        if (seen <= 4)
            keyed_lookup(rs, t, o, k, is_map);
    }
    /* absent (or at least unlikely) elements and keys */
    hollow_ordinal probes[] = {HOLLOW_ORDINAL_NONE, 0, 1, 7, 1000, INT32_MAX};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        if (is_map) {
            hollow_ordinal got;
            rc = hollow_map_get(&got, t, o, probes[i]);
            check_access_rc(rc);
            if (rc < 0)
                CHECK(got == HOLLOW_ORDINAL_NONE);
        } else {
            bool has = true;
            rc = hollow_set_contains(&has, t, o, probes[i]);
            check_access_rc(rc);
            if (probes[i] < 0)
                CHECK(rc == HOLLOW_OK && !has);
        }
    }
    /* a keyed lookup on a set without key, or with the wrong count */
    hollow_value none;
    memset(&none, 0, sizeof none);
    hollow_ordinal k2, v2;
    rc = is_map ? hollow_map_find(&k2, &v2, t, o, &none, 1)
                : hollow_set_find(&k2, t, o, &none, 1);
    check_access_rc(rc);
}

static void touch_record(const hollow_read_state *rs, const hollow_type *t,
                         hollow_ordinal o)
{
    switch (hollow_type_kind(t)) {
    case HOLLOW_SCHEMA_OBJECT: touch_object(t, o); break;
    case HOLLOW_SCHEMA_LIST: touch_list(t, o); break;
    case HOLLOW_SCHEMA_SET: touch_set_map(rs, t, o, false); break;
    case HOLLOW_SCHEMA_MAP: touch_set_map(rs, t, o, true); break;
    }
    size_t total = 0;
    int rc = hollow_dump_record(t, o, sink, &total);
    CHECK(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT || rc == HOLLOW_ENOMEM ||
          rc == HOLLOW_ENOTFOUND);
}

/* the same value, bit for bit (an index tells -0.0 from 0.0, NaNs apart) */
static bool same_value(const hollow_value *a, const hollow_value *b)
{
    if (a->type != b->type || a->is_null != b->is_null)
        return false;
    if (a->is_null)
        return true;
    switch (a->type) {
    case HOLLOW_FIELD_INT: return a->u.i == b->u.i;
    case HOLLOW_FIELD_LONG: return a->u.l == b->u.l;
    case HOLLOW_FIELD_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case HOLLOW_FIELD_DOUBLE: return memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
    case HOLLOW_FIELD_BOOLEAN: return a->u.b == b->u.b;
    default: return a->u.ref == b->u.ref;
    }
}

/* an index build's result: built, or one of index.h's errors */
static void check_index_rc(int rc)
{
    CHECK(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT || rc == HOLLOW_ENOMEM ||
          rc == HOLLOW_EINVAL || rc == HOLLOW_ENOTFOUND);
    check_error_set(rc);
}

/* a unique key index on each fixed-width field, and the primary key */
static void touch_indexes(const hollow_read_state *rs, const hollow_type *t)
{
    const hollow_schema *s = hollow_type_schema(t);
    hollow_index *ix = NULL;
    int rc = hollow_index_primary_key_new(&ix, rs, hollow_type_name(t), NULL, 0);
    check_index_rc(rc);
    hollow_index_release(ix);
    size_t nf = hollow_schema_field_count(s);
    for (size_t f = 0; f < nf && f < 8; f++) {
        hollow_field_type ft = hollow_schema_field_type(s, f);
        if (ft == HOLLOW_FIELD_STRING || ft == HOLLOW_FIELD_BYTES)
            continue;
        char path[256];
        const char *name = hollow_schema_field_name(s, f);
        if (strlen(name) + 2 > sizeof path)
            continue;
        /* "!": the reference itself, not the referenced record's key */
        strcpy(path, name);
        if (ft == HOLLOW_FIELD_REFERENCE)
            strcat(path, "!");
        const char *paths[1] = {path};
        ix = NULL;
        rc = hollow_index_unique_key_new(&ix, rs, hollow_type_name(t), paths, 1);
        check_index_rc(rc);
        if (rc < 0) {
            CHECK(ix == NULL);
            continue;
        }
        size_t visited = 0;
        for (hollow_ordinal o = hollow_type_next_ordinal(t, 0);
             o >= 0 && visited < MAX_RECORDS;
             o = o == INT32_MAX ? -1 : hollow_type_next_ordinal(t, o + 1)) {
            visited++;
            hollow_value v, w;
            rc = hollow_object_value(&v, t, o, f);
            CHECK(rc == HOLLOW_OK || rc == HOLLOW_NULL); /* the build read it */
            int r = hollow_index_find(ix, &v, 1);
            CHECK(r >= 0 && r <= o && hollow_type_is_populated(t, r));
            rc = hollow_object_value(&w, t, r, f);
            CHECK((rc == HOLLOW_OK || rc == HOLLOW_NULL) && same_value(&v, &w));
        }
        hollow_index_release(ix);
    }
}

static void touch_type(const hollow_read_state *rs, const hollow_type *t)
{
    uint32_t n = hollow_type_shard_count(t);
    CHECK(n >= 1 && (n & (n - 1)) == 0);
    hollow_ordinal max = hollow_type_max_ordinal(t);
    CHECK(max >= -1);
    size_t count = 0, visited = 0;
    hollow_ordinal prev = -1;
    for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0;
         o = hollow_type_next_ordinal(t, o + 1)) {
        CHECK(o > prev && o <= max);
        CHECK(hollow_type_is_populated(t, o));
        prev = o;
        count++;
        if (visited++ < MAX_RECORDS)
            touch_record(rs, t, o);
        if (o == INT32_MAX)
            break;
    }
    CHECK(count == hollow_type_record_count(t));
    CHECK(!hollow_type_is_populated(t, HOLLOW_ORDINAL_NONE));
    /* the last slot may be unpopulated: readable anyway; one past: absent */
    if (max >= 0)
        touch_record(rs, t, max);
    if (max < INT32_MAX) {
        int32_t i;
        CHECK(hollow_object_int(&i, t, max + 1, 0) ==
              (hollow_type_kind(t) == HOLLOW_SCHEMA_OBJECT &&
                       hollow_schema_field_count(hollow_type_schema(t)) > 0 &&
                       hollow_schema_field_type(hollow_type_schema(t), 0) ==
                           HOLLOW_FIELD_INT
                   ? HOLLOW_ENOTFOUND
                   : HOLLOW_EINVAL));
    }
    uint32_t c;
    int rc = hollow_type_checksum(&c, t);
    CHECK(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT || rc == HOLLOW_ENOMEM);
    if (hollow_type_kind(t) == HOLLOW_SCHEMA_OBJECT)
        touch_indexes(rs, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hollow_read_state *rs = (hollow_read_state *)&rs; /* must become NULL */
    int rc = hollow_read_state_from_snapshot(&rs, data, size, NULL);
    if (rc != HOLLOW_OK) {
        CHECK(rs == NULL);
        CHECK(rc == HOLLOW_ECORRUPT || rc == HOLLOW_EVERSION ||
              rc == HOLLOW_ERANGE || rc == HOLLOW_ENOMEM);
        CHECK(hollow_error_last()->code == rc);
        CHECK(hollow_error_last()->message[0] != '\0');
        return 0;
    }
    CHECK(rs != NULL);

    size_t total = 0;
    rc = hollow_dump_canonical(rs, sink, &total);
    CHECK(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT || rc == HOLLOW_ENOMEM);
    if (rc == HOLLOW_OK)
        CHECK(total > 0);

    size_t nt = hollow_read_state_type_count(rs);
    for (size_t i = 0; i < nt; i++) {
        const hollow_type *t = hollow_read_state_type_at(rs, i);
        CHECK(t != NULL);
        CHECK(hollow_read_state_type(rs, hollow_type_name(t)) == t);
        CHECK(hollow_read_state_type_sorted(rs, i) != NULL);
        total = 0;
        rc = hollow_dump_deep(rs, hollow_type_name(t), sink, &total);
        CHECK(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT || rc == HOLLOW_ERANGE ||
              rc == HOLLOW_ENOMEM);
        touch_type(rs, t);
    }
    CHECK(hollow_read_state_type_at(rs, nt) == NULL);

    uint32_t c1, c2;
    int rc1 = hollow_read_state_checksum(&c1, rs);
    CHECK(rc1 == HOLLOW_OK || rc1 == HOLLOW_ECORRUPT || rc1 == HOLLOW_ENOMEM);
    int rc2 = hollow_read_state_checksum(&c2, rs);
    CHECK(rc1 == rc2 && (rc1 != HOLLOW_OK || c1 == c2));

    size_t ntags = hollow_read_state_header_tag_count(rs);
    for (size_t i = 0; i < ntags; i++) {
        const char *k = NULL, *v = NULL;
        CHECK(hollow_read_state_header_tag_at(rs, i, &k, &v) == HOLLOW_OK);
        CHECK(k != NULL && v != NULL && hollow_read_state_header_tag(rs, k));
    }
    CHECK(hollow_read_state_header_tag_at(rs, ntags, NULL, NULL) ==
          HOLLOW_ENOTFOUND);
    (void)hollow_read_state_memory(rs);

    /* a second reference outlives the first release */
    hollow_read_state_acquire(rs);
    hollow_read_state_release(rs);
    CHECK(hollow_read_state_type_count(rs) == nt);
    hollow_read_state_release(rs);
    return 0;
}

#ifdef HOLLOW_LIBFUZZER
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

/* shard, type and tag counts (blob_mutator.h) */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed)
{
    return hollow_fuzz_blob_mutate(data, size, max_size, seed, 0);
}
#endif
