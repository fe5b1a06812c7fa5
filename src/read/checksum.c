/*
 * Java's HollowChecksum (blob-format.md §12): a test oracle that two
 * implementations (or a chain and a snapshot) hold the same state. It
 * visits shard by shard, populated ordinals ascending, OBJECT fields in
 * ascending name order, SET/MAP buckets by index, so it depends on shard
 * counts and bucket placement.
 */
#include <stdatomic.h>
#include <stdio.h>
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

/* ------------------------------------------- two states, side by side */

/*
 * Whether two states hold the same records, as equal checksums would say,
 * but compared value by value: no hash chain, so ordinal ranges of one
 * type run in parallel, and shards the states share are skipped. The
 * producer's integrity check uses it where both states are at hand.
 * Values are compared as the checksum sees them: populated ordinals,
 * OBJECT fields by name with nulls normalised, var-length bytes, LIST
 * elements, SET/MAP non-empty buckets by index. States that differ in
 * layout (types, fields, shard counts) are compared by checksum instead.
 */

#define EQ_CHUNK_WORDS 1024 /* populated words per task: 64 K slots */

typedef struct eq_type {
    const hollow_type *a, *b;
    size_t *field_b; /* OBJECT: b's field index of each of a's fields */
} eq_type;

typedef struct eq_task {
    uint32_t type, shard, w0, w1;
} eq_task;

typedef struct eq_job {
    eq_type *types;
    eq_task *tasks;
    int32_t *diff; /* per task: the first differing ordinal, or -1 */
    atomic_bool found;
    hollow__task_fn beside; /* task 0 when set, the comparison after it */
    void *beside_ctx;
} eq_job;

static bool eq_layout(eq_type *e)
{
    const hollow_schema *sa = e->a->schema, *sb = e->b->schema;
    if (strcmp(sa->name, sb->name) != 0 || sa->kind != sb->kind ||
        e->a->shard_count != e->b->shard_count)
        return false;
    if (sa->kind != HOLLOW_SCHEMA_OBJECT)
        return true;
    if (sa->field_count != sb->field_count)
        return false;
    for (size_t f = 0; f < sa->field_count; f++) {
        int g = hollow_schema_field_index(sb, sa->fields[f].name);
        if (g < 0 || !field_shared(sa, f, sb))
            return false;
        e->field_b[f] = (size_t)g;
    }
    return true;
}

/* the next non-empty bucket at or after b, or end */
static uint64_t next_bucket(const hollow__shard *s, uint64_t b, uint64_t end,
                            uint64_t width)
{
    uint64_t empty = hollow__ones(s->elem_bits);
    while (b < end && hollow__bits_read(s->elems, b * width, s->elem_bits) == empty)
        b++;
    return b;
}

/* whether bits [pa, pa + n) of a equal bits [pb, pb + n) of b */
static bool bits_equal(const uint8_t *a, uint64_t pa, const uint8_t *b,
                       uint64_t pb, uint64_t n)
{
    for (; n >= 64; n -= 64, pa += 64, pb += 64)
        if (hollow__bits_read(a, pa, 64) != hollow__bits_read(b, pb, 64))
            return false;
    return n == 0 || hollow__bits_read(a, pa, (unsigned)n) ==
                         hollow__bits_read(b, pb, (unsigned)n);
}

/*
 * What a task knows of its two OBJECT shards: when their layouts are the
 * same (fields in one order, equal widths), a record's fixed fields are
 * compared a 64-bit chunk at a time, masked to leave out the var-length
 * pointers (which ghost records shift); var-length values one by one.
 */
#define EQ_MAX_CHUNKS 8
typedef struct eq_shape {
    bool same;
    uint32_t chunks;
    uint64_t mask[EQ_MAX_CHUNKS];
} eq_shape;

static void eq_shape_of(eq_shape *sh, const eq_type *e, const hollow__shard *sa,
                        const hollow__shard *sb)
{
    const hollow_schema *sc = e->a->schema;
    sh->same = false;
    if (sc->kind != HOLLOW_SCHEMA_OBJECT || sa->rec_bits != sb->rec_bits ||
        sa->rec_bits > 64 * EQ_MAX_CHUNKS)
        return;
    sh->chunks = (sa->rec_bits + 63) / 64;
    for (uint32_t c = 0; c < sh->chunks; c++)
        sh->mask[c] = ~(uint64_t)0;
    for (size_t f = 0; f < sc->field_count; f++) {
        if (e->field_b[f] != f || sa->widths[f] != sb->widths[f] ||
            sa->offsets[f] != sb->offsets[f])
            return;
        hollow_field_type ft = sc->fields[f].type;
        if (ft != HOLLOW_FIELD_STRING && ft != HOLLOW_FIELD_BYTES)
            continue;
        for (uint32_t b = 0; b < sa->widths[f]; b++) {
            uint32_t at = sa->offsets[f] + b;
            sh->mask[at / 64] &= ~((uint64_t)1 << (at % 64));
        }
    }
    sh->same = true;
}

/* var-length field f (g in b) of slot j: 1 if they differ */
static int var_differs(const eq_type *e, const hollow__shard *sa,
                       const hollow__shard *sb, uint32_t j, size_t f, size_t g)
{
    const uint8_t *pa = NULL, *pb = NULL;
    size_t la = 0, lb = 0;
    int na = hollow__var_range(&pa, &la, e->a, sa, j, f);
    int nb = hollow__var_range(&pb, &lb, e->b, sb, j, g);
    if (na < 0 || nb < 0)
        return na < 0 ? na : nb;
    return na != nb || la != lb || (la > 0 && memcmp(pa, pb, la) != 0);
}

/* 1 if slot j of sa (type ta) and of sb (tb) differ, 0 if not, or an error */
static int record_differs(const eq_type *e, const eq_shape *sh,
                          const hollow__shard *sa, const hollow__shard *sb,
                          uint32_t j)
{
    const hollow_type *ta = e->a, *tb = e->b;
    const hollow_schema *sc = ta->schema;
    int rc;
    if (sc->kind == HOLLOW_SCHEMA_OBJECT && sh->same) {
        uint64_t at = (uint64_t)j * sa->rec_bits;
        for (uint32_t c = 0; c < sh->chunks; c++) {
            uint32_t n = sa->rec_bits - c * 64 < 64 ? sa->rec_bits - c * 64 : 64;
            uint64_t x = hollow__bits_read(sa->fixed, at + c * 64, n) ^
                         hollow__bits_read(sb->fixed, at + c * 64, n);
            if (x & sh->mask[c])
                return 1;
        }
        for (size_t f = 0; f < sc->field_count; f++) {
            hollow_field_type ft = sc->fields[f].type;
            if ((ft == HOLLOW_FIELD_STRING || ft == HOLLOW_FIELD_BYTES) &&
                (rc = var_differs(e, sa, sb, j, f, f)) != 0)
                return rc;
        }
        return 0;
    }
    if (sc->kind == HOLLOW_SCHEMA_OBJECT) {
        for (size_t f = 0; f < sc->field_count; f++) {
            size_t g = e->field_b[f];
            hollow_field_type ft = sc->fields[f].type;
            if (ft == HOLLOW_FIELD_STRING || ft == HOLLOW_FIELD_BYTES) {
                if ((rc = var_differs(e, sa, sb, j, f, g)) != 0)
                    return rc;
            } else {
                uint64_t ra = hollow__field_raw(sa, j, f);
                uint64_t rb = hollow__field_raw(sb, j, g);
                bool nula = ra == hollow__ones(sa->widths[f]);
                bool nulb = rb == hollow__ones(sb->widths[g]);
                if (nula != nulb || (!nula && ra != rb))
                    return 1;
            }
        }
        return 0;
    }
    uint64_t a0, a1, b0, b1;
    if ((rc = hollow__coll_range(&a0, &a1, ta, sa, j, HOLLOW_ORDINAL_NONE)) < 0 ||
        (rc = hollow__coll_range(&b0, &b1, tb, sb, j, HOLLOW_ORDINAL_NONE)) < 0)
        return rc;
    if (sc->kind == HOLLOW_SCHEMA_LIST) {
        if (a1 - a0 != b1 - b0)
            return 1;
        if (sa->elem_bits == sb->elem_bits)
            return !bits_equal(sa->elems, a0 * sa->elem_bits, sb->elems,
                               b0 * sb->elem_bits, (a1 - a0) * sa->elem_bits);
        for (uint64_t i = 0; i < a1 - a0; i++)
            if (hollow__bits_read(sa->elems, (a0 + i) * sa->elem_bits, sa->elem_bits) !=
                hollow__bits_read(sb->elems, (b0 + i) * sb->elem_bits, sb->elem_bits))
                return 1;
        return 0;
    }
    /* SET/MAP: the non-empty buckets, by index within the record; equal
     * bits say so at once (an empty bucket's value bits included) */
    bool is_map = sc->kind == HOLLOW_SCHEMA_MAP;
    uint64_t wa = is_map ? (uint64_t)sa->elem_bits + sa->value_bits : sa->elem_bits;
    uint64_t wb = is_map ? (uint64_t)sb->elem_bits + sb->value_bits : sb->elem_bits;
    if (sa->elem_bits == sb->elem_bits && wa == wb && a1 - a0 == b1 - b0 &&
        bits_equal(sa->elems, a0 * wa, sb->elems, b0 * wb, (a1 - a0) * wa))
        return 0;
    uint64_t x = a0, y = b0;
    for (;;) {
        x = next_bucket(sa, x, a1, wa);
        y = next_bucket(sb, y, b1, wb);
        if (x == a1 || y == b1)
            return x == a1 && y == b1 ? 0 : 1;
        if (x - a0 != y - b0 ||
            hollow__bits_read(sa->elems, x * wa, sa->elem_bits) !=
                hollow__bits_read(sb->elems, y * wb, sb->elem_bits))
            return 1;
        if (is_map && hollow__bits_read(sa->elems, x * wa + sa->elem_bits,
                                        sa->value_bits) !=
                          hollow__bits_read(sb->elems, y * wb + sb->elem_bits,
                                            sb->value_bits))
            return 1;
        x++;
        y++;
    }
}

static int eq_task_run(void *ctx, size_t i)
{
    eq_job *j = ctx;
    if (j->beside != NULL) {
        if (i == 0)
            return j->beside(j->beside_ctx, 0);
        i--;
    }
    j->diff[i] = -1;
    if (atomic_load_explicit(&j->found, memory_order_relaxed))
        return 0;
    const eq_task *k = &j->tasks[i];
    const eq_type *e = &j->types[k->type];
    const hollow__shard *sa = e->a->shards[k->shard];
    const hollow__shard *sb = e->b->shards[k->shard];
    eq_shape sh = {0};
    eq_shape_of(&sh, e, sa, sb);
    for (uint32_t w = k->w0; w < k->w1; w++) {
        uint64_t pa = w < sa->pop_words ? sa->populated[w] : 0;
        uint64_t pb = w < sb->pop_words ? sb->populated[w] : 0;
        uint64_t word = pa;
        if (pa != pb)
            word = (pa ^ pb) & -(pa ^ pb); /* the lowest differing slot */
        while (word) {
            uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(word);
            word &= word - 1;
            int rc = pa != pb ? 1 : record_differs(e, &sh, sa, sb, slot);
            if (rc < 0)
                return rc;
            if (rc > 0) {
                j->diff[i] = (int32_t)(((uint64_t)slot << e->a->shard_bits) |
                                       k->shard);
                atomic_store(&j->found, true);
                return 0;
            }
        }
    }
    return 0;
}

/* the tasks of one type pair: chunks of populated words of unshared shards */
static int eq_plan(eq_task **tasks, size_t *n, size_t *cap, const eq_type *e,
                   uint32_t type)
{
    for (uint32_t s = 0; s < e->a->shard_count; s++) {
        const hollow__shard *sa = e->a->shards[s], *sb = e->b->shards[s];
        if (sa == sb)
            continue;
        uint32_t words = sa->pop_words > sb->pop_words ? sa->pop_words
                                                       : sb->pop_words;
        for (uint32_t w = 0; w < words; w += EQ_CHUNK_WORDS) {
            if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 64;
                eq_task *t = hollow__reallocarray(*tasks, c, sizeof *t);
                HOLLOW_CHECK_ALLOC(t);
                *tasks = t;
                *cap = c;
            }
            uint32_t end = words - w < EQ_CHUNK_WORDS ? words : w + EQ_CHUNK_WORDS;
            (*tasks)[(*n)++] = (eq_task){type, s, w, end};
        }
    }
    return 0;
}

int hollow__read_states_equal(bool *equal, char *why, size_t why_len,
                              const hollow_read_state *a,
                              const hollow_read_state *b, unsigned threads)
{
    return hollow__read_states_equal_beside(equal, why, why_len, a, b, threads,
                                            NULL, NULL);
}

int hollow__read_states_equal_beside(bool *equal, char *why, size_t why_len,
                                     const hollow_read_state *a,
                                     const hollow_read_state *b,
                                     unsigned threads, hollow__task_fn beside,
                                     void *beside_ctx)
{
    *equal = false;
    if (why_len > 0)
        why[0] = '\0';
    size_t nt = a->type_count;
    eq_job j = {NULL, NULL, NULL, false, beside, beside_ctx};
    size_t ntasks = 0, cap = 0;
    bool same_layout = nt == b->type_count;
    int rc = 0;
    j.types = hollow__calloc(nt ? nt : 1, sizeof *j.types);
    HOLLOW_CHECK_ALLOC(j.types);
    for (size_t i = 0; i < nt && same_layout && rc == 0; i++) {
        eq_type *e = &j.types[i];
        e->a = hollow_read_state_type_sorted(a, i);
        e->b = hollow_read_state_type_sorted(b, i);
        size_t nf = e->a->schema->field_count;
        e->field_b = hollow__calloc(nf ? nf : 1, sizeof *e->field_b);
        if (e->field_b == NULL)
            rc = hollow__error_oom();
        else if (!eq_layout(e))
            same_layout = false;
        else
            rc = eq_plan(&j.tasks, &ntasks, &cap, e, (uint32_t)i);
    }
    if (rc == 0 && !same_layout) {
        uint32_t sums[2];
        const hollow_read_state *both[2] = {a, b};
        if (beside != NULL && (rc = beside(beside_ctx, 0)) < 0)
            goto done;
        rc = hollow__read_states_checksum(sums, both, 2, threads);
        *equal = rc == 0 && sums[0] == sums[1];
        if (rc == 0 && !*equal && why_len > 0)
            snprintf(why, why_len, "checksum %08x, not %08x", sums[0], sums[1]);
        goto done;
    }
    if (rc == 0 && ntasks > 0) {
        j.diff = hollow__calloc(ntasks, sizeof *j.diff);
        rc = j.diff ? hollow__parallel_for(threads, ntasks + (beside != NULL),
                                           eq_task_run, &j)
                    : hollow__error_oom();
    } else if (rc == 0 && beside != NULL) {
        rc = beside(beside_ctx, 0);
    }
    if (rc < 0)
        goto done;
    *equal = true;
    for (size_t i = 0; i < ntasks; i++)
        if (j.diff[i] >= 0) {
            *equal = false;
            if (why_len > 0)
                snprintf(why, why_len, "type %s differs at ordinal %d",
                         j.types[j.tasks[i].type].a->schema->name,
                         (int)j.diff[i]);
            break;
        }
done:
    for (size_t i = 0; i < nt; i++)
        hollow__free(j.types[i].field_b);
    hollow__free(j.types);
    hollow__free(j.tasks);
    hollow__free(j.diff);
    return rc;
}
