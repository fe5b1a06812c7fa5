/*
 * Java's HollowChecksum (blob-format.md §12): a test oracle that two
 * implementations (or a chain and a snapshot) hold the same state. It
 * visits shard by shard, populated ordinals ascending, OBJECT fields in
 * ascending name order, SET/MAP buckets by index, so it depends on shard
 * counts and bucket placement.
 */
#include <string.h>

#include "access.h"
#include "common/alloc.h"
#include "common/hash.h"
#include "common/parallel.h"

static int object_record(hollow__checksum *k, const hollow_type *t, const hollow__shard *s,
                         uint32_t j, const size_t *order, size_t nfields)
{
    const hollow_schema *sc = t->schema;
    for (size_t i = 0; i < nfields; i++) {
        size_t f = order[i];
        hollow_field_type ft = sc->fields[f].type;
        if (ft == HOLLOW_FIELD_STRING || ft == HOLLOW_FIELD_BYTES) {
            const uint8_t *p = NULL;
            size_t len = 0;
            int rc = hollow__var_range(&p, &len, t, s, j, f);
            if (rc < 0)
                return rc;
            hollow__checksum_int(k, rc == HOLLOW_NULL ? 0xFFFFFFFFu
                                           : hollow__murmur(p ? p : (const uint8_t *)"", len));
        } else {
            uint64_t raw = hollow__field_raw(s, j, f);
            if (raw == hollow__ones(s->widths[f]))
                hollow__checksum_int(k, 0x7FFFFFFFu);
            else
                hollow__checksum_long(k, raw);
        }
    }
    return 0;
}

static int collection_record(hollow__checksum *k, const hollow_type *t, hollow_ordinal o)
{
    int rc;
    switch (t->schema->kind) {
    case HOLLOW_SCHEMA_LIST: {
        uint32_t n;
        if ((rc = hollow_list_size(&n, t, o)) < 0)
            return rc;
        for (uint32_t i = 0; i < n; i++) {
            hollow_ordinal e;
            if ((rc = hollow_list_get(&e, t, o, i)) < 0)
                return rc;
            hollow__checksum_int(k, (uint32_t)e);
        }
        return 0;
    }
    case HOLLOW_SCHEMA_SET:
    case HOLLOW_SCHEMA_MAP: {
        bool is_map = t->schema->kind == HOLLOW_SCHEMA_MAP;
        hollow_iter it;
        rc = is_map ? hollow_map_iter_init(&it, t, o)
                    : hollow_set_iter_init(&it, t, o);
        if (rc < 0)
            return rc;
        const hollow__shard *s = it.shard_;
        uint64_t start = it.pos_;
        uint64_t width = is_map ? (uint64_t)s->elem_bits + s->value_bits
                                : s->elem_bits;
        for (uint64_t b = start; b < it.end_; b++) {
            uint64_t key = hollow__bits_read(s->elems, b * width, s->elem_bits);
            if (key == hollow__ones(s->elem_bits))
                continue;
            hollow__checksum_int(k, (uint32_t)(b - start));
            hollow__checksum_int(k, (uint32_t)key);
            if (is_map)
                hollow__checksum_int(k, (uint32_t)hollow__bits_read(
                                 s->elems, b * width + s->elem_bits,
                                 s->value_bits));
        }
        return 0;
    }
    default: return 0;
    }
}

/* whether field f of s is in `with` with the same type */
static bool field_shared(const hollow_schema *s, size_t f, const hollow_schema *with)
{
    int g = hollow_schema_field_index(with, s->fields[f].name);
    if (g < 0 || with->fields[g].type != s->fields[f].type)
        return false;
    return s->fields[f].type != HOLLOW_FIELD_REFERENCE ||
           strcmp(s->fields[f].ref_type, with->fields[g].ref_type) == 0;
}

/* the checksum of t over its fields that `with` shares (NULL: all) */
static int type_checksum(uint32_t *out, const hollow_type *t,
                         const hollow_schema *with)
{
    const hollow_schema *sc = t->schema;
    size_t nf = sc->kind == HOLLOW_SCHEMA_OBJECT ? sc->field_count : 0;
    size_t *order = hollow__calloc(nf ? nf : 1, sizeof *order);
    HOLLOW_CHECK_ALLOC(order);
    size_t kept = 0;
    for (size_t v = 0; v < nf; v++) { /* field indexes by ascending name */
        if (with != NULL && !field_shared(sc, v, with))
            continue;
        size_t j = kept++;
        while (j > 0 && strcmp(sc->fields[order[j - 1]].name,
                               sc->fields[v].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    hollow__checksum k = {0};
    int rc = 0;
    for (uint32_t s = 0; s < t->shard_count && rc >= 0; s++) {
        const hollow__shard *sh = t->shards[s];
        for (uint32_t w = 0; w < sh->pop_words && rc >= 0; w++) {
            uint64_t word = sh->populated[w];
            while (word && rc >= 0) {
                uint32_t j = w * 64 + (uint32_t)__builtin_ctzll(word);
                word &= word - 1;
                hollow_ordinal o =
                    (hollow_ordinal)(((uint64_t)j << t->shard_bits) | s);
                hollow__checksum_int(&k, (uint32_t)o);
                rc = sc->kind == HOLLOW_SCHEMA_OBJECT
                         ? object_record(&k, t, sh, j, order, kept)
                         : collection_record(&k, t, o);
            }
        }
    }
    hollow__free(order);
    if (rc < 0)
        return rc;
    *out = k.c;
    return 0;
}

int hollow_type_checksum(uint32_t *out, const hollow_type *t)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(t);
    return type_checksum(out, t, NULL);
}

/* the checksum of rs over the types (and fields) `with` also has, or over
 * all of rs when `with` is NULL */
static int state_checksum(uint32_t *out, const hollow_read_state *rs,
                          const hollow_read_state *with);

int hollow_read_state_checksum(uint32_t *out, const hollow_read_state *rs)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(rs);
    return state_checksum(out, rs, NULL);
}

int hollow_read_state_checksum_common(uint32_t *out, const hollow_read_state *rs,
                                      const hollow_read_state *with)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(rs);
    HOLLOW__ARG_NOT_NULL(with);
    return state_checksum(out, rs, with);
}

static int state_checksum(uint32_t *out, const hollow_read_state *rs,
                          const hollow_read_state *with)
{
    hollow__checksum k = {0};
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_type *t = hollow_read_state_type_sorted(rs, i);
        const hollow_schema *ws = NULL;
        if (with != NULL) {
            const hollow_type *w = hollow_read_state_type(with, t->schema->name);
            if (w == NULL || w->schema->kind != t->schema->kind)
                continue;
            ws = w->schema;
        }
        uint32_t c;
        int rc = type_checksum(&c, t, ws);
        if (rc < 0)
            return rc;
        hollow__checksum_int(&k, c);
    }
    *out = k.c;
    return 0;
}

/* ------------------------------------------------- several, in parallel */

typedef struct sums_job {
    const hollow_read_state *const *states;
    size_t n;
    size_t *first;  /* the task of each state's first type; [n] = all */
    uint32_t *sums; /* by task: a type's checksum */
} sums_job;

static int sum_task(void *ctx, size_t i)
{
    sums_job *j = ctx;
    size_t s = 0;
    while (j->first[s + 1] <= i)
        s++;
    const hollow_type *t = hollow_read_state_type_sorted(j->states[s],
                                                         i - j->first[s]);
    return type_checksum(&j->sums[i], t, NULL);
}

int hollow__read_states_checksum(uint32_t *out,
                                 const hollow_read_state *const *states,
                                 size_t n, unsigned threads)
{
    sums_job j = {states, n, hollow__calloc(n + 1, sizeof *j.first), NULL};
    HOLLOW_CHECK_ALLOC(j.first);
    for (size_t s = 0; s < n; s++)
        j.first[s + 1] = j.first[s] + states[s]->type_count;
    j.sums = hollow__calloc(j.first[n] ? j.first[n] : 1, sizeof *j.sums);
    int rc = j.sums ? hollow__parallel_for(threads, j.first[n], sum_task, &j)
                    : hollow__error_oom();
    for (size_t s = 0; s < n && rc == 0; s++) {
        hollow__checksum k = {0};
        for (size_t i = j.first[s]; i < j.first[s + 1]; i++)
            hollow__checksum_int(&k, j.sums[i]);
        out[s] = k.c;
    }
    hollow__free(j.first);
    hollow__free(j.sums);
    return rc;
}
