/*
 * Statistics of a type over the retained set (blob-format.md §6.2, §7.1,
 * §8.2, §8.5, §10.5) and Java's choice of shard counts (§10.8).
 *
 * The retained set is every record in the type's ordinal map: the records
 * of the previous state and of the current one (the map drops the others
 * at each cycle start). Its statistics are maxima and sums, so they are
 * kept as counts that follow the map: per field (OBJECT) or for elements,
 * values and sizes (LIST/SET/MAP), how many records or entries need each
 * bit length, plus byte and entry totals. A record entering the map is
 * counted when the next blob is written (the write state lists what a
 * cycle added), one leaving it is uncounted at the cycle start, so a
 * delta costs what changed, not the whole state.
 *
 * The same per-type structure memoises SET/MAP bucket hashes by element
 * ordinal (hashing a key field means decoding the element's record).
 */
#include <string.h>

#include "common/alloc.h"
#include "common/bits.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/parallel.h"
#include "common/reader.h"
#include "write_int.h"

#define HB 65 /* bit lengths 0..64 */

typedef struct hollow__wrun {
    bool valid;
    size_t seen;         /* t->new_ords[0, seen) are counted */
    uint64_t count;      /* records counted */
    /* OBJECT: [field * HB + width]; otherwise elements [0, HB), values
     * [HB, 2 HB), sizes [2 HB, 3 HB), by bit length */
    uint64_t *hist;
    uint64_t *var_total; /* OBJECT per field */
    uint64_t *totals;    /* LIST/SET/MAP: T_s / B_s for totals_n shards */
    uint32_t totals_n;
    /* bucket hashes of element ordinals [0, hash_cap) */
    uint32_t *hash;
    uint64_t *known;
    uint32_t hash_cap;
} hollow__wrun;

void hollow__wstats_free(hollow__wstats *s)
{
    hollow__free(s->widths);
    hollow__free(s->var_total);
    hollow__free(s->totals);
    memset(s, 0, sizeof *s);
}

static size_t read_vint(const uint8_t *p, uint32_t *v)
{
    return hollow__wvint(p, v);
}

void hollow__wrun_free(hollow__wtype *t)
{
    hollow__wrun *r = t->run;
    if (r == NULL)
        return;
    hollow__free(r->hist);
    hollow__free(r->var_total);
    hollow__free(r->totals);
    hollow__free(r->hash);
    hollow__free(r->known);
    hollow__free(r);
    t->run = NULL;
}

static size_t field_count(const hollow__wtype *t)
{
    return t->schema->kind == HOLLOW_SCHEMA_OBJECT ? t->schema->field_count : 0;
}

/* count record o in (d = 1) or out (d = UINT64_MAX, i.e. -1) */
static void count_record(hollow__wrun *r, const hollow__wtype *t, uint32_t o,
                         uint64_t d)
{
    const hollow_schema *s = t->schema;
    size_t len;
    const uint8_t *p = hollow__wrec(t, o, &len);
    uint64_t *h = r->hist;
    r->count += d;
    if (s->kind == HOLLOW_SCHEMA_OBJECT) {
        for (size_t f = 0; f < s->field_count; f++) {
            hollow__wval v;
            hollow_field_type ft = s->fields[f].type;
            p += hollow__wfield(&v, p, ft);
            unsigned n;
            switch (ft) {
            case HOLLOW_FIELD_STRING:
            case HOLLOW_FIELD_BYTES:
                r->var_total[f] += d * (v.is_null ? 0 : v.len);
                continue;
            case HOLLOW_FIELD_BOOLEAN: n = 2; break;
            case HOLLOW_FIELD_FLOAT: n = 32; break;
            case HOLLOW_FIELD_DOUBLE: n = 64; break;
            default: /* INT, LONG, REFERENCE: bitlen(value + 1), 64-bit */
                n = v.is_null ? 1 : hollow__bitlen(v.v + 1);
                break;
            }
            h[f * HB + n] += d;
        }
        return;
    }
    uint32_t size;
    p += read_vint(p, &size);
    h[2 * HB + hollow__bitlen(size)] += d;
    uint32_t shard = o & (r->totals_n - 1);
    if (s->kind == HOLLOW_SCHEMA_LIST) {
        r->totals[shard] += d * size;
        for (uint32_t i = 0; i < size; i++) {
            uint32_t e;
            p += read_vint(p, &e);
            h[hollow__bitlen(e)] += d;
        }
        return;
    }
    r->totals[shard] += d * hollow__hash_table_size(size);
    bool is_map = s->kind == HOLLOW_SCHEMA_MAP;
    uint32_t prev = 0;
    for (uint32_t i = 0; i < size; i++) {
        uint32_t gap, val, bucket;
        p += read_vint(p, &gap);
        uint32_t e = prev + gap;
        prev = e;
        if (is_map) {
            p += read_vint(p, &val);
            h[HB + hollow__bitlen(val)] += d;
        }
        p += read_vint(p, &bucket);
        h[hollow__bitlen((uint64_t)e + 1)] += d;
    }
}

static int run_get(hollow__wrun **out, hollow__wtype *t)
{
    if (t->run == NULL) {
        hollow__wrun *r = hollow__calloc(1, sizeof *r);
        HOLLOW_CHECK_ALLOC(r);
        size_t nf = field_count(t);
        r->hist = hollow__calloc((nf ? nf : 3) * HB, sizeof *r->hist);
        r->var_total = hollow__calloc(nf ? nf : 1, sizeof *r->var_total);
        t->run = r;
        if (r->hist == NULL || r->var_total == NULL) {
            hollow__wrun_free(t);
            return hollow__error_oom();
        }
    }
    *out = t->run;
    return 0;
}

/* counts of a range of ordinals, made on several threads (rebuild) */
typedef struct count_job {
    hollow__wtype *t;
    hollow__wrun *part; /* per range */
    uint32_t per;       /* ordinals per range */
} count_job;

static int count_range(void *ctx, size_t k)
{
    count_job *J = ctx;
    uint32_t lo = (uint32_t)k * J->per, hi = J->t->next_ordinal;
    if (hi - lo > J->per)
        hi = lo + J->per;
    for (uint32_t o = lo; o < hi; o++)
        if (J->t->off[o] != HOLLOW__NO_RECORD)
            count_record(&J->part[k], J->t, o, 1);
    return 0;
}

#define COUNT_MIN 65536 /* ordinals worth a thread */

/* count every record into r (zeroed), on up to `threads` threads: each
 * range into its own counts, added up after */
static int count_all(hollow__wrun *r, hollow__wtype *t, unsigned threads)
{
    uint32_t ranges = t->next_ordinal / COUNT_MIN;
    if (ranges > threads)
        ranges = threads;
    if (ranges <= 1) {
        for (uint32_t o = 0; o < t->next_ordinal; o++)
            if (t->off[o] != HOLLOW__NO_RECORD)
                count_record(r, t, o, 1);
        return 0;
    }
    size_t nf = field_count(t), nh = (nf ? nf : 3) * HB, nv = nf ? nf : 1;
    count_job J = {t, hollow__calloc(ranges, sizeof *J.part),
                   (t->next_ordinal + ranges - 1) / ranges};
    uint64_t *mem = hollow__calloc((size_t)ranges * (nh + nv + r->totals_n),
                                   sizeof *mem);
    int rc = 0;
    if (J.part == NULL || mem == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    for (uint32_t k = 0; k < ranges; k++) {
        uint64_t *m = mem + (size_t)k * (nh + nv + r->totals_n);
        J.part[k] = (hollow__wrun){.hist = m, .var_total = m + nh,
                                   .totals = m + nh + nv,
                                   .totals_n = r->totals_n};
    }
    rc = hollow__parallel_for(threads, ranges, count_range, &J);
    for (uint32_t k = 0; k < ranges && rc == 0; k++) {
        r->count += J.part[k].count;
        for (size_t i = 0; i < nh; i++)
            r->hist[i] += J.part[k].hist[i];
        for (size_t i = 0; i < nv; i++)
            r->var_total[i] += J.part[k].var_total[i];
        for (uint32_t i = 0; i < r->totals_n; i++)
            r->totals[i] += J.part[k].totals[i];
    }
done:
    hollow__free(J.part);
    hollow__free(mem);
    return rc;
}

/* count the whole map again, totals for n shards */
static int rebuild(hollow__wrun *r, hollow__wtype *t, uint32_t n,
                   unsigned threads)
{
    size_t nf = field_count(t);
    r->valid = false;
    if (n != r->totals_n || r->totals == NULL) {
        uint64_t *tot = hollow__reallocarray(r->totals, n, sizeof *tot);
        HOLLOW_CHECK_ALLOC(tot);
        r->totals = tot;
        r->totals_n = n;
    }
    memset(r->totals, 0, (size_t)n * sizeof *r->totals);
    memset(r->hist, 0, (nf ? nf : 3) * HB * sizeof *r->hist);
    memset(r->var_total, 0, (nf ? nf : 1) * sizeof *r->var_total);
    r->count = 0;
    HOLLOW_TRY(count_all(r, t, threads));
    r->seen = t->new_count;
    r->valid = true;
    return 0;
}

/* the counts, brought up to date with the map */
static int run_sync(hollow__wrun **out, hollow__wtype *t, uint32_t n,
                    unsigned threads)
{
    hollow__wrun *r = NULL;
    HOLLOW_TRY(run_get(&r, t));
    if (r->valid && r->seen <= t->new_count) {
        for (size_t i = r->seen; i < t->new_count; i++)
            count_record(r, t, t->new_ords[i], 1);
        r->seen = t->new_count;
    } else {
        r->valid = false;
    }
    /* a finer shard count than the totals were kept for, or counts that
     * lost track of the map (should not happen): count everything */
    if (!r->valid || n > r->totals_n || r->count != t->table_count)
        HOLLOW_TRY(rebuild(r, t,
                           n > r->totals_n ? n : r->totals_n ? r->totals_n : n,
                           threads));
    *out = r;
    return 0;
}

void hollow__wrun_begin(hollow__wtype *t)
{
    hollow__wrun *r = t->run;
    /* records added since the last count would be uncounted unseen */
    if (r != NULL && r->valid && r->seen != t->new_count)
        r->valid = false;
}

void hollow__wrun_remove(hollow__wtype *t, uint32_t o)
{
    hollow__wrun *r = t->run;
    if (r != NULL && r->valid)
        count_record(r, t, o, UINT64_MAX);
}

/* memoised hashes whose key path reaches records that left the map */
static void forget_hashes(hollow_write_state *ws, hollow__wtype *t)
{
    hollow__wrun *r = t->run;
    if (r == NULL || r->hash_cap == 0)
        return;
    bool one_hop = true;
    for (size_t k = 0; k < t->schema->key_count; k++)
        one_hop = one_hop && t->keys[k].hop_count == 1;
    if (!one_hop) {
        memset(r->known, 0, (size_t)(r->hash_cap + 63) / 64 * 8);
        return;
    }
    const hollow__wtype *et = &ws->types[t->keys[0].hops[0].type];
    for (uint32_t w = 0; w < (r->hash_cap + 63) / 64; w++)
        for (uint64_t bits = r->known[w]; bits; bits &= bits - 1) {
            uint32_t e = w * 64 + (uint32_t)__builtin_ctzll(bits);
            if (e >= et->next_ordinal || et->off[e] == HOLLOW__NO_RECORD)
                r->known[w] &= ~((uint64_t)1 << (e & 63));
        }
}

void hollow__wrun_end(hollow_write_state *ws)
{
    for (size_t i = 0; i < ws->type_count; i++) {
        hollow__wtype *t = &ws->types[i];
        if (t->run == NULL)
            continue;
        t->run->seen = 0; /* the cycle's list of added records starts over */
        if (t->keys != NULL)
            forget_hashes(ws, t);
    }
}

void hollow__wrun_invalidate(hollow__wtype *t)
{
    hollow__wrun *r = t->run;
    if (r == NULL)
        return;
    r->valid = false;
    if (r->hash_cap > 0)
        memset(r->known, 0, (size_t)(r->hash_cap + 63) / 64 * 8);
}

bool hollow__wrun_hash(uint32_t *out, const hollow__wtype *t, uint32_t e)
{
    const hollow__wrun *r = t->run;
    if (r == NULL || e >= r->hash_cap ||
        !((r->known[e >> 6] >> (e & 63)) & 1))
        return false;
    *out = r->hash[e];
    return true;
}

void hollow__wrun_hash_put(const hollow__wtype *t, uint32_t e, uint32_t h,
                           uint32_t hint)
{
    hollow__wrun *r = t->run;
    if (r == NULL)
        return;
    if (e >= r->hash_cap) {
        uint64_t cap = r->hash_cap ? r->hash_cap : 1024;
        while (cap <= e || cap < hint)
            cap *= 2;
        if (cap > UINT32_MAX - 64)
            return;
        size_t words = (size_t)(cap + 63) / 64, had = (r->hash_cap + 63) / 64;
        uint32_t *nh = hollow__reallocarray(r->hash, cap, sizeof *nh);
        if (nh == NULL)
            return; /* memo is optional */
        r->hash = nh;
        uint64_t *nk = hollow__reallocarray(r->known, words, sizeof *nk);
        if (nk == NULL)
            return;
        memset(nk + had, 0, (words - had) * sizeof *nk);
        r->known = nk;
        r->hash_cap = (uint32_t)cap;
    }
    r->hash[e] = h;
    r->known[e >> 6] |= (uint64_t)1 << (e & 63);
}

/* memoised hashes of elements, filled on several threads (hash_fill) */
typedef struct fill_job {
    const hollow_write_state *ws;
    const hollow__wtype *t, *et;
    uint32_t per; /* elements per range, a multiple of 64: ranges own
                   * whole words of `known` */
} fill_job;

static int fill_range(void *ctx, size_t k)
{
    fill_job *J = ctx;
    hollow__wrun *r = J->t->run;
    uint32_t lo = (uint32_t)k * J->per, hi = J->et->next_ordinal;
    if (hi - lo > J->per)
        hi = lo + J->per;
    for (uint32_t e = lo; e < hi; e++) {
        uint32_t h;
        if (((r->known[e >> 6] >> (e & 63)) & 1) ||
            J->et->off[e] == HOLLOW__NO_RECORD ||
            !hollow__wbucket_hash_calc(&h, J->ws, J->t, e))
            continue;
        r->hash[e] = h;
        r->known[e >> 6] |= (uint64_t)1 << (e & 63);
    }
    return 0;
}

int hollow__wrun_hash_fill(hollow_write_state *ws, hollow__wtype *t,
                           unsigned threads)
{
    const hollow__wtype *et = &ws->types[t->keys[0].hops[0].type];
    uint32_t n = et->next_ordinal;
    hollow__wrun *r;
    HOLLOW_TRY(run_get(&r, t));
    if (n == 0)
        return 0;
    /* grow the memo to every element (a no-op put sizes it) */
    if (r->hash_cap < n) {
        hollow__wrun_hash_put(t, n - 1, 0, n);
        if (r->hash_cap < n)
            return 0; /* no memo: chunks compute what they need */
        r->known[(n - 1) >> 6] &= ~((uint64_t)1 << ((n - 1) & 63));
    }
    uint32_t per = (n / (threads * 4) + 64) & ~(uint32_t)63;
    if (per < COUNT_MIN)
        per = COUNT_MIN;
    fill_job J = {ws, t, et, per};
    return hollow__parallel_for(threads, (n + per - 1) / per, fill_range, &J);
}

hollow__wmemo hollow__wrun_memo(const hollow__wtype *t)
{
    const hollow__wrun *r = t->run;
    if (r == NULL)
        return (hollow__wmemo){NULL, NULL, 0};
    return (hollow__wmemo){r->hash, r->known, r->hash_cap};
}

int hollow__wstats_compute(hollow__wstats *out, hollow_write_state *ws,
                           hollow__wtype *t, uint32_t shards, bool use_prev)
{
    (void)use_prev;
    memset(out, 0, sizeof *out);
    hollow__wrun *r;
    int rc = run_sync(&r, t, shards,
                      hollow__threads_or_cores(ws->opts.threads));
    if (rc < 0)
        return rc;
    const hollow_schema *s = t->schema;
    size_t nf = field_count(t);
    out->shards = shards;
    out->widths = hollow__calloc(nf ? nf : 1, 1);
    out->var_total = hollow__calloc(nf ? nf : 1, sizeof *out->var_total);
    out->totals = hollow__calloc(shards, sizeof *out->totals);
    if (!out->widths || !out->var_total || !out->totals) {
        hollow__wstats_free(out);
        return hollow__error_oom();
    }
    int32_t M = -1;
    for (uint32_t o = t->next_ordinal; o > 0; o--)
        if (t->off[o - 1] != HOLLOW__NO_RECORD) {
            M = (int32_t)(o - 1);
            break;
        }
    out->max_ordinal = M;
    /* the highest bit length with a count */
    unsigned top[3] = {0, 0, 0};
    if (s->kind != HOLLOW_SCHEMA_OBJECT) {
        for (unsigned k = 0; k < 3; k++)
            for (unsigned b = HB; b > 0; b--)
                if (r->hist[k * HB + b - 1] != 0) {
                    top[k] = b - 1;
                    break;
                }
        for (uint32_t i = 0; i < r->totals_n; i++) /* fold: n divides it */
            out->totals[i & (shards - 1)] += r->totals[i];
    }
    uint64_t max_total = 0;
    for (uint32_t i = 0; i < shards; i++) {
        out->total += out->totals[i];
        if (out->totals[i] > max_total)
            max_total = out->totals[i];
    }
    uint8_t *w = out->widths;
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < nf; f++) {
            hollow_field_type ft = s->fields[f].type;
            out->var_total[f] = r->var_total[f];
            if (ft == HOLLOW_FIELD_STRING || ft == HOLLOW_FIELD_BYTES) {
                w[f] = (uint8_t)(hollow__bitlen(out->var_total[f] + 1) + 1);
            } else {
                for (unsigned b = HB; b > 0; b--)
                    if (r->hist[f * HB + b - 1] != 0) {
                        w[f] = (uint8_t)(b - 1);
                        break;
                    }
            }
            out->rec_bits += w[f];
        }
        break;
    case HOLLOW_SCHEMA_LIST:
        /* bitlen(max element), 1 when it is 0 */
        out->elem_bits = (uint8_t)(top[0] ? top[0] : 1);
        out->ptr_bits = (uint8_t)(max_total == 0 ? 1 : hollow__bitlen(max_total));
        break;
    case HOLLOW_SCHEMA_SET:
        /* bitlen(max element + 1), and bitlen(1) with no element */
        out->elem_bits = (uint8_t)(top[0] ? top[0] : 1);
        out->size_bits = (uint8_t)top[2];
        out->ptr_bits = (uint8_t)hollow__bitlen(max_total);
        break;
    case HOLLOW_SCHEMA_MAP:
        out->elem_bits = (uint8_t)(top[0] ? top[0] : 1);
        out->value_bits = (uint8_t)(top[1] ? top[1] : 1);
        out->size_bits = (uint8_t)top[2];
        out->ptr_bits = (uint8_t)hollow__bitlen(max_total);
        break;
    }
    return 0;
}

uint64_t hollow__wstats_projected(const hollow__wstats *s, const hollow__wtype *t)
{
    uint64_t slots = (uint64_t)((int64_t)s->max_ordinal + 1);
    switch (t->schema->kind) {
    case HOLLOW_SCHEMA_OBJECT: {
        uint64_t v = (uint64_t)s->rec_bits * slots / 8;
        for (size_t f = 0; f < t->schema->field_count; f++)
            v += s->var_total[f];
        return v;
    }
    case HOLLOW_SCHEMA_LIST: {
        uint64_t c = s->total;
        uint64_t pg = c == 0 ? 1 : hollow__bitlen(c);
        /* (sic: +1 inside, and M, not M+1, §10.8) */
        return (uint64_t)s->elem_bits * c / 8 +
               (uint64_t)((int64_t)pg * s->max_ordinal + 1) / 8;
    }
    case HOLLOW_SCHEMA_SET:
        return ((uint64_t)s->size_bits + hollow__bitlen(s->total)) * slots / 8 +
               (uint64_t)s->elem_bits * s->total / 8;
    default:
        return ((uint64_t)s->size_bits + hollow__bitlen(s->total)) * slots / 8 +
               ((uint64_t)s->elem_bits + s->value_bits) * s->total / 8;
    }
}

/* §10.8: the smallest power of two n with target * n >= projected */
static uint32_t shards_for(uint64_t projected, uint64_t target)
{
    uint32_t n = 1;
    while (n < (1u << 30) && (__uint128_t)target * n < projected)
        n *= 2;
    return n;
}

int hollow__ws_choose_shards(hollow_write_state *ws)
{
    if (ws->shards_chosen) /* once per cycle: resharding moves one step */
        return 0;
    uint64_t target = ws->opts.target_shard_size ? ws->opts.target_shard_size
                                                 : 16u * 1024 * 1024;
    for (size_t i = 0; i < ws->type_count; i++) {
        hollow__wtype *t = &ws->types[i];
        if (t->shards_fixed && t->shard_count != 0)
            continue;
        if (t->shard_count != 0 && !ws->opts.resharding)
            continue;
        if (target == UINT64_MAX) {
            t->shard_count = 1;
            continue;
        }
        hollow__wstats st;
        int rc = hollow__wstats_compute(&st, ws, t, 1, true);
        if (rc < 0)
            return rc;
        uint32_t want = shards_for(hollow__wstats_projected(&st, t), target);
        hollow__wstats_free(&st);
        if (t->shard_count == 0)
            t->shard_count = want;
        else if (want > t->shard_count) /* one step per version */
            t->shard_count *= 2;
        else if (want < t->shard_count)
            t->shard_count /= 2;
    }
    for (size_t i = 0; i < ws->type_count; i++)
        ws->types[i].cycle_shards = ws->types[i].shard_count;
    ws->shards_chosen = true;
    return 0;
}
