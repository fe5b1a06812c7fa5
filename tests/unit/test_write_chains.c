/*
 * Seeded random delta chains through the writer's cycles (issue 5).
 *
 * Each chain is a random schema (tests/helpers/randstate.h: OBJECT types
 * with every field type, LIST, SET and MAP types, nested collections, self
 * references, hash keys of every shape) taken through 50+ cycles. Every
 * cycle's records are a mutation of the previous cycle's (evolve() below):
 * records kept (references follow them), removed, modified (a changed
 * copy: a new record), added, duplicated; some types frozen for a cycle,
 * some emptied and refilled later, record counts that grow and shrink in
 * waves so that shard counts chosen from a small target shard size go up
 * and down (resharding), pinned shard counts of 1..64 re-pinned now and
 * then. Some cycles change nothing and must be rolled back; some cycles are
 * started, filled and abandoned (rolled back) before the real one; some
 * change only a pinned shard count.
 *
 * Every written cycle goes into a directory as Java's filesystem publisher
 * names the files (snapshot-V, delta-P-V, reversedelta-V-P, header-V; a
 * cycle without changes consumes its version number, as in Java), and is
 * checked:
 *   - the snapshot reads back as the model (rs_state_check), and new
 *     records took the ordinals Java gives them (§10.4: not a MUST, so a
 *     difference fails the chain only at its end, after the other checks);
 *   - hollow_write_state_has_changes() is true when populated ordinals or
 *     a shard count changed, false when the same records came again;
 *   - hollow_write_state_checksum() equals the read snapshot's checksum;
 *   - read(snapshot N-1) + delta equals read(snapshot N): canonical dump
 *     and checksum;
 *   - read(snapshot N) + reverse delta equals read(snapshot N-1): dump and
 *     checksum (shard counts are the previous state's);
 *   - every delta applied (bulk copies, threads) builds byte for byte the
 *     shards the record-by-record reference path builds, and each chain
 *     takes both paths (hollow__delta_counts);
 *   - a consumer that follows the whole chain forward from the first
 *     snapshot equals every snapshot (dump, checksum);
 *   - shard counts: pinned ones as pinned, chosen ones moving one step per
 *     version with resharding, never without.
 * At the end of a chain a consumer walks the reverse deltas back from the
 * last snapshot (dump and checksum of every version), the Python reader
 * must dump the forward chain and the reverse chain exactly as the C
 * reader does, and the linter must find no MUST violation in the directory.
 * Half the chains read their blobs from memory, the others from the files
 * (snapshots mapped, deltas applied from the files).
 *
 * HOLLOW_TEST_SEED repeats a run; HOLLOW_TEST_CHAIN=N (or N-M) runs only
 * those chains; HOLLOW_TEST_SCALE multiplies the number of cycles;
 * HOLLOW_TEST_VERBOSE=1 prints each schema, one line per cycle and the
 * linter's full report (SHOULD findings too); HOLLOW_TEST_KEEP=1 keeps the
 * chain directories (a failing chain always keeps its directory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hollow/dump.h"
#include "hollow/read.h"
#include "hollow/write.h"
#include "randstate.h"
#include "same_state.h"
#include "testhelp.h"

#define CYCLES 60

static uint64_t g_seed;
static int g_cycles;

/* ---------------------------------------------------------- the chains */

typedef struct chain_cfg {
    const char *what;
    int shard_mode;  /* rs_schema_opts: 0 every type pinned, 1 none, 2 some */
    int target_mode; /* 0 HollowProducer's 16 MiB, 1 UINT64_MAX, 2 small */
    bool resharding; /* hollow_write_options.resharding */
    int repin_pct;   /* chance per cycle of re-pinning a pinned type */
    size_t max_types;
    size_t cap0, cap; /* largest record count of type 0, of the others */
    bool files;       /* read through files (mmap) rather than memory */
} chain_cfg;

static const chain_cfg CFG[] = {
    {"every type pinned 1..64, re-pinned", 0, 2, true, 8, 12, 300, 80, false},
    {"shards from a small target, resharding", 1, 2, true, 0, 10, 400, 120,
     true},
    {"some pinned, resharding", 2, 2, true, 6, 14, 300, 100, false},
    {"shards from a small target, no resharding", 1, 2, false, 0, 10, 300, 100,
     true},
    {"16 MiB target, some pinned, re-pinned", 2, 0, true, 8, 12, 250, 80,
     false},
    {"many types, resharding", 1, 2, true, 0, 19, 300, 80, true},
    {"one shard (UINT64_MAX), some pinned", 2, 1, true, 6, 10, 250, 80, false},
    {"every type pinned, no resharding, re-pinned", 0, 2, false, 10, 12, 250,
     80, true},
    {"larger types, some pinned, resharding", 2, 2, true, 5, 10, 1200, 250,
     true},
    {"many types, every type pinned, re-pinned", 0, 2, true, 8, 19, 300, 60,
     false},
};
#define NCHAINS ((int)(sizeof CFG / sizeof *CFG))

/* record-count dynamics of one type */
typedef struct tdyn {
    size_t goal; /* record count aimed at */
    int trend;   /* -1 shrinking, 0 steady, 1 growing */
    size_t cap;
    bool emptied; /* emptied in the last cycle: refill */
} tdyn;

typedef struct chain {
    int idx;
    const chain_cfg *cfg;
    uint64_t rng;
    rs_schema *sc;
    tdyn *dyn;
    int64_t last_tag; /* randomized tag of the last written version */
    /* what the chain went through */
    unsigned written, unchanged, shard_only, abandoned, repins, emptied, frozen,
        dups, modified, removed, added;
    unsigned shard_changes, pinned_changes, reshard_up, reshard_down;
    uint32_t shard_mask; /* bit k: a type had 2^k shards */
    size_t max_records;
    char ord_fail[512]; /* the first new record with another ordinal */
} chain;

static bool env_on(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

/* ------------------------------------------------------- record copies */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    ck_assert_msg(p != NULL, "out of memory");
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    ck_assert_msg(p != NULL, "out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    ck_assert_msg(p != NULL, "out of memory");
    return p;
}

static size_t unit_of(hollow_field_type ft)
{
    return ft == HOLLOW_FIELD_STRING ? 2 : 1;
}

static void val_free(rs_value *v)
{
    free(v->data);
    v->data = NULL;
}

static void val_copy(rs_value *dst, const rs_value *src, hollow_field_type ft)
{
    *dst = *src;
    dst->data = NULL;
    if (src->data != NULL) {
        size_t n = src->len * unit_of(ft);
        dst->data = xmalloc(n);
        if (n > 0)
            memcpy(dst->data, src->data, n);
    }
}

static size_t per_of(const rs_type *ty)
{
    return ty->kind == HOLLOW_SCHEMA_MAP ? 2 : 1;
}

static void rec_copy(rs_rec *dst, const rs_rec *src, const rs_type *ty)
{
    memset(dst, 0, sizeof *dst);
    if (ty->kind == HOLLOW_SCHEMA_OBJECT) {
        dst->vals = xcalloc(ty->nfields, sizeof *dst->vals);
        for (size_t f = 0; f < ty->nfields; f++)
            val_copy(&dst->vals[f], &src->vals[f], ty->fields[f].type);
    }
    size_t m = src->n * per_of(ty);
    dst->elems = xcalloc(m, sizeof *dst->elems);
    if (m > 0)
        memcpy(dst->elems, src->elems, m * sizeof *dst->elems);
    dst->n = src->n;
    dst->ord = -1;
}

static rs_rec *push(rs_state *st, int t)
{
    rs_recs *rv = &st->types[t];
    if (rv->n == rv->cap) {
        rv->cap = rv->cap ? 2 * rv->cap : 16;
        rv->v = xrealloc(rv->v, rv->cap * sizeof *rv->v);
    }
    rs_rec *r = &rv->v[rv->n++];
    memset(r, 0, sizeof *r);
    r->ord = -1;
    return r;
}

/* records a reference of type t's record k can point to in `st` */
static size_t avail(const rs_state *st, int t, int target, size_t k)
{
    return target < t ? st->types[target].n : target == t ? k : 0;
}

/* point the references of record r (index k of type t, content from
 * another state) at random records of `st` */
static void rehome(const rs_state *st, uint64_t *rng, int t, size_t k,
                   rs_rec *r)
{
    const rs_type *ty = &st->schema->types[t];
    if (ty->kind == HOLLOW_SCHEMA_OBJECT) {
        for (size_t f = 0; f < ty->nfields; f++) {
            const rs_field *fd = &ty->fields[f];
            rs_value *v = &r->vals[f];
            if (fd->type != HOLLOW_FIELD_REFERENCE || v->how != RS_SET)
                continue;
            size_t n = avail(st, t, fd->ref, k);
            ck_assert_msg(n > 0 || !fd->nonnull,
                          "%s: type %s field %s: no record to reference",
                          st->ctx, ty->name, fd->name);
            if (n == 0)
                v->how = RS_SET_NULL;
            else
                v->u.ref = (int32_t)rs_below(rng, (uint32_t)n);
        }
        return;
    }
    size_t per = per_of(ty), w = 0;
    size_t ne = avail(st, t, ty->elem, k);
    size_t nv = per == 2 ? avail(st, t, ty->value, k) : 1;
    for (size_t i = 0; i < r->n && ne > 0 && nv > 0; i++, w++) {
        r->elems[w * per] = (int32_t)rs_below(rng, (uint32_t)ne);
        if (per == 2)
            r->elems[w * per + 1] = (int32_t)rs_below(rng, (uint32_t)nv);
    }
    r->n = w;
}

static uint16_t *units(uint64_t *rng, size_t n)
{
    uint16_t *u = xcalloc(n + 1, 2);
    for (size_t i = 0; i < n; i++)
        u[i] = rs_chance(rng, 80) ? (uint16_t)('a' + rs_below(rng, 26))
                                  : (uint16_t)(0x80 + rs_below(rng, 0xD000));
    return u;
}

/* change one thing of record r (index k of type t of `st`): a new value
 * from a donor record or a small tweak of the old one */
static void mutate(const rs_state *st, const rs_state *donor, uint64_t *rng,
                   int t, size_t k, rs_rec *r)
{
    const rs_type *ty = &st->schema->types[t];
    if (ty->kind != HOLLOW_SCHEMA_OBJECT) {
        size_t per = per_of(ty);
        size_t ne = avail(st, t, ty->elem, k);
        size_t nv = per == 2 ? avail(st, t, ty->value, k) : 1;
        if (r->n > 0 && (rs_chance(rng, 45) || ne == 0 || nv == 0)) {
            size_t at = rs_below(rng, (uint32_t)r->n);
            memmove(r->elems + at * per, r->elems + (at + 1) * per,
                    (r->n - at - 1) * per * sizeof *r->elems);
            r->n--;
            return;
        }
        if (ne == 0 || nv == 0)
            return;
        r->elems = xrealloc(r->elems, (r->n + 1) * per * sizeof *r->elems);
        size_t at = ty->kind == HOLLOW_SCHEMA_LIST
                        ? rs_below(rng, (uint32_t)r->n + 1)
                        : r->n;
        memmove(r->elems + (at + 1) * per, r->elems + at * per,
                (r->n - at) * per * sizeof *r->elems);
        r->elems[at * per] = (int32_t)rs_below(rng, (uint32_t)ne);
        if (per == 2)
            r->elems[at * per + 1] = (int32_t)rs_below(rng, (uint32_t)nv);
        r->n++;
        return;
    }
    if (ty->nfields == 0)
        return;
    size_t f = rs_below(rng, (uint32_t)ty->nfields);
    const rs_field *fd = &ty->fields[f];
    rs_value *v = &r->vals[f];
    const rs_recs *dv = &donor->types[t];
    if (dv->n > 0 && rs_chance(rng, 40)) {
        val_free(v);
        val_copy(v, &dv->v[rs_below(rng, (uint32_t)dv->n)].vals[f], fd->type);
        if (fd->type == HOLLOW_FIELD_REFERENCE && v->how == RS_SET) {
            size_t n = avail(st, t, fd->ref, k);
            if (n == 0)
                v->how = RS_SET_NULL;
            else
                v->u.ref = (int32_t)rs_below(rng, (uint32_t)n);
        }
        return;
    }
    bool null = v->how != RS_SET;
    if (!null && !fd->nonnull && rs_chance(rng, 15)) {
        val_free(v);
        v->how = RS_SET_NULL;
        return;
    }
    switch (fd->type) {
    case HOLLOW_FIELD_INT:
        v->u.i = null ? (int32_t)rs_below(rng, 1000)
                      : (int32_t)((uint32_t)v->u.i ^ (1u << rs_below(rng, 31)));
        break;
    case HOLLOW_FIELD_LONG:
        v->u.l =
            null ? (int64_t)rs_below(rng, 1000)
                 : (int64_t)((uint64_t)v->u.l ^ (1ull << rs_below(rng, 63)));
        break;
    case HOLLOW_FIELD_FLOAT: {
        uint32_t b;
        memcpy(&b, &v->u.f, 4);
        b = null ? 0x3F800000u : b ^ (1u << rs_below(rng, 32));
        memcpy(&v->u.f, &b, 4);
        break;
    }
    case HOLLOW_FIELD_DOUBLE: {
        uint64_t b;
        memcpy(&b, &v->u.d, 8);
        b = null ? 0x3FF0000000000000ull : b ^ (1ull << rs_below(rng, 64));
        memcpy(&v->u.d, &b, 8);
        break;
    }
    case HOLLOW_FIELD_BOOLEAN:
        v->u.b = null ? rs_chance(rng, 50) : !v->u.b;
        break;
    case HOLLOW_FIELD_STRING:
    case HOLLOW_FIELD_BYTES: {
        size_t u = unit_of(fd->type);
        if (null || v->len == 0 || rs_chance(rng, 30)) {
            val_free(v);
            v->len = rs_below(rng, 6);
            if (fd->type == HOLLOW_FIELD_STRING) {
                v->data = units(rng, v->len);
            } else {
                v->data = xcalloc(v->len + 1, 1);
                for (size_t i = 0; i < v->len; i++)
                    ((uint8_t *)v->data)[i] = (uint8_t)rs_rand(rng);
            }
        } else {
            /* one unit or byte changed, or one appended */
            size_t at = rs_below(rng, (uint32_t)v->len + 1);
            if (at == v->len) {
                v->data = xrealloc(v->data, (v->len + 1) * u);
                v->len++;
            }
            if (u == 2)
                ((uint16_t *)v->data)[at] ^=
                    (uint16_t)(1 + rs_below(rng, 0x7F));
            else
                ((uint8_t *)v->data)[at] ^= (uint8_t)(1 + rs_below(rng, 0xFF));
        }
        break;
    }
    case HOLLOW_FIELD_REFERENCE: {
        size_t n = avail(st, t, fd->ref, k);
        if (n == 0) {
            ck_assert(!fd->nonnull);
            v->how = RS_SET_NULL;
            return;
        }
        v->u.ref = (int32_t)rs_below(rng, (uint32_t)n);
        break;
    }
    }
    v->how = RS_SET;
}

/* ------------------------------------------------------------- evolving */

enum { KEEP = 0, DROP = 1, MODIFY = 2 };

static bool has_tag_key(const rs_state *st, const char *key)
{
    for (size_t i = 0; i < st->ntags; i++)
        if (strcmp(st->tag_keys[i], key) == 0)
            return true;
    return false;
}

/* a randomized tag as Java draws them, not the last one's upper half */
static int64_t random_tag(chain *ch)
{
    uint64_t x;
    do
        x = rs_rand(&ch->rng);
    while ((x >> 32) == 0 || (x >> 32) == 0xFFFFFFFFu ||
           (x >> 32) == ((uint64_t)ch->last_tag >> 32));
    return (int64_t)x;
}

/*
 * A rollback leaves the header tags as the undone cycle set them (Java's
 * resetToLastPrepareForNextCycle does not touch them): the next cycle
 * starts from `undone`'s tags, a superset of prev's keys.
 */
static void keep_tags(rs_state *prev, const rs_state *undone)
{
    for (size_t i = 0; i < undone->ntags; i++)
        rs_state_put_tag(prev, undone->tag_keys[i], undone->tag_values[i]);
}

/* the same state again: every record and tag as in `prev` */
static rs_state *same_state(const rs_state *prev, const char *ctx)
{
    const rs_schema *s = prev->schema;
    rs_state *st = rs_state_new(s, ctx);
    for (size_t t = 0; t < s->ntypes; t++)
        for (size_t j = 0; j < prev->types[t].n; j++)
            rec_copy(push(st, (int)t), &prev->types[t].v[j], &s->types[t]);
    for (size_t i = 0; i < prev->ntags; i++)
        rs_state_put_tag(st, prev->tag_keys[i], prev->tag_values[i]);
    return st;
}

/*
 * The next cycle's records: per type, a record-count goal that grows and
 * shrinks in waves; the type frozen (every record kept), emptied, or
 * churned (records removed, modified, kept; new ones added up to the goal,
 * a few of them repeats). New records and new values come from a donor
 * state generated by rs_state_gen with the same schema, their references
 * pointed at records of the new state. Header tags: all of prev's (a write
 * state may keep them), some with new values, sometimes a few new ones.
 * With `count`, the chain's statistics are updated.
 */
static rs_state *evolve(chain *ch, const rs_state *prev, const char *ctx,
                        bool count)
{
    rs_schema *s = ch->sc;
    uint64_t *rng = &ch->rng;
    size_t nt = s->ntypes;
    uint8_t **plan = xcalloc(nt, sizeof *plan);
    size_t *adds = xcalloc(nt, sizeof *adds);
    int32_t **map = xcalloc(nt, sizeof *map);

    for (size_t t = 0; t < nt; t++) {
        tdyn *d = &ch->dyn[t];
        const rs_type *ty = &s->types[t];
        size_t n = prev->types[t].n;
        plan[t] = xcalloc(n, 1);
        if (d->emptied) {
            d->goal = 1 + rs_below(rng, (uint32_t)d->cap);
            d->trend = 1;
            d->emptied = false;
        } else if (rs_chance(rng, 25)) {
            d->trend = (int)rs_below(rng, 3) - 1;
        }
        if (d->trend > 0) {
            d->goal +=
                d->goal / 2 + 1 + rs_below(rng, (uint32_t)d->goal / 2 + 2);
            if (d->goal >= d->cap) {
                d->goal = d->cap;
                d->trend = -1;
            }
        } else if (d->trend < 0) {
            d->goal = d->goal * (35 + rs_below(rng, 40)) / 100;
            if (d->goal <= 2)
                d->trend = 1;
        }
        int r = (int)rs_below(rng, 100);
        if (r < 4 && ty->min_count == 0 && n > 0) { /* emptied */
            memset(plan[t], DROP, n);
            d->emptied = true;
            if (count) {
                ch->emptied++;
                ch->removed += (unsigned)n;
            }
            continue;
        }
        if (r < 20) { /* frozen: every record kept as it was */
            if (count)
                ch->frozen++;
            continue;
        }
        int drop_pct =
            n > d->goal ? (int)(100 * (n - d->goal) / n) + (int)rs_below(rng, 8)
                        : (int)rs_below(rng, 25);
        int mod_pct = (int)rs_below(rng, 30);
        size_t kept = 0;
        for (size_t j = 0; j < n; j++) {
            int x = (int)rs_below(rng, 100);
            plan[t][j] = x < drop_pct             ? DROP
                         : x < drop_pct + mod_pct ? MODIFY
                                                  : KEEP;
            kept += plan[t][j] != DROP;
            if (count) {
                ch->removed += plan[t][j] == DROP;
                ch->modified += plan[t][j] == MODIFY;
            }
        }
        adds[t] =
            (d->goal > kept ? d->goal - kept : 0) +
            (rs_chance(rng, 70) ? rs_below(rng, (uint32_t)kept / 8 + 2) : 0);
    }

    /* the donor: fresh records and values of every type */
    for (size_t t = 0; t < nt; t++)
        s->types[t].count = adds[t] + s->types[t].min_count + 2;
    rs_state *donor = rs_state_new(s, ctx);
    rs_state_gen(donor, rng);

    rs_state *st = rs_state_new(s, ctx);
    for (size_t t = 0; t < nt; t++) {
        const rs_type *ty = &s->types[t];
        const rs_recs *old = &prev->types[t];
        int ti = (int)t;
        map[t] = xcalloc(old->n, sizeof *map[t]);
        for (size_t j = 0; j < old->n; j++) {
            map[t][j] = -1;
            if (plan[t][j] == DROP)
                continue;
            size_t k = st->types[t].n;
            rs_rec nr;
            rec_copy(&nr, &old->v[j], ty);
            /* references follow their records; a dropped target makes
             * the reference null (another record when it must not be) */
            if (ty->kind == HOLLOW_SCHEMA_OBJECT) {
                for (size_t f = 0; f < ty->nfields; f++) {
                    const rs_field *fd = &ty->fields[f];
                    rs_value *v = &nr.vals[f];
                    if (fd->type != HOLLOW_FIELD_REFERENCE || v->how != RS_SET)
                        continue;
                    int32_t to = map[fd->ref][v->u.ref];
                    if (to < 0 && fd->nonnull) {
                        size_t n = avail(st, ti, fd->ref, k);
                        ck_assert_msg(n > 0, "%s: type %s: nothing to refer to",
                                      ctx, ty->name);
                        to = (int32_t)rs_below(rng, (uint32_t)n);
                    }
                    if (to < 0)
                        v->how = RS_SET_NULL;
                    else
                        v->u.ref = to;
                }
            } else {
                size_t per = per_of(ty), w = 0;
                for (size_t i = 0; i < nr.n; i++) {
                    int32_t a = map[ty->elem][nr.elems[i * per]];
                    int32_t b =
                        per == 2 ? map[ty->value][nr.elems[i * per + 1]] : 0;
                    if (a < 0 || b < 0)
                        continue;
                    nr.elems[w * per] = a;
                    if (per == 2)
                        nr.elems[w * per + 1] = b;
                    w++;
                }
                nr.n = w;
            }
            if (plan[t][j] == MODIFY)
                mutate(st, donor, rng, ti, k, &nr);
            *push(st, ti) = nr;
            map[t][j] = (int32_t)k;
        }
        /* new records: donor records (moved out of the donor), now and
         * then a repeat of a record of this state */
        rs_recs *dv = &donor->types[t];
        size_t used = 0;
        for (size_t i = 0; i < adds[t] || st->types[t].n < ty->min_count; i++) {
            size_t k = st->types[t].n;
            rs_rec nr;
            if ((k > 0 && rs_chance(rng, 6)) || used == dv->n) {
                ck_assert(k > 0);
                rec_copy(&nr, &st->types[t].v[rs_below(rng, (uint32_t)k)], ty);
                if (count)
                    ch->dups++;
            } else {
                nr = dv->v[used];
                memset(&dv->v[used], 0, sizeof dv->v[used]);
                used++;
                free(nr.canon);
                nr.canon = NULL;
                nr.ncanon = 0;
                nr.ord = -1;
                rehome(st, rng, ti, k, &nr);
                if (count)
                    ch->added++;
            }
            *push(st, ti) = nr;
        }
    }

    /* header tags */
    for (size_t i = 0; i < prev->ntags; i++)
        rs_state_put_tag(
            st, prev->tag_keys[i],
            rs_chance(rng, 10) && donor->ntags > 0
                ? donor->tag_values[rs_below(rng, (uint32_t)donor->ntags)]
                : prev->tag_values[i]);
    if (rs_chance(rng, 15))
        for (size_t i = 0; i < donor->ntags && i < 3; i++)
            rs_state_put_tag(st, donor->tag_keys[i], donor->tag_values[i]);
    if (donor->tag_extra != NULL && !has_tag_key(st, donor->tag_extra)) {
        st->tag_extra = donor->tag_extra; /* set, then removed */
        donor->tag_extra = NULL;
    }
    st->has_tag = rs_chance(rng, 30);
    if (st->has_tag)
        st->tag = random_tag(ch);

    for (size_t t = 0; t < nt; t++) {
        free(plan[t]);
        free(map[t]);
    }
    free(plan);
    free(map);
    free(adds);
    rs_state_free(donor);
    return st;
}

/* ----------------------------------------------------------------- checks */

/* did any type's set of ordinals change? */
static bool ordinals_changed(const rs_state *a, const rs_state *b)
{
    for (size_t t = 0; t < a->schema->ntypes; t++) {
        hollow_ordinal max = -1;
        for (size_t k = 0; k < a->types[t].n; k++)
            if (a->types[t].v[k].ord > max)
                max = a->types[t].v[k].ord;
        for (size_t k = 0; k < b->types[t].n; k++)
            if (b->types[t].v[k].ord > max)
                max = b->types[t].v[k].ord;
        uint8_t *in = xcalloc((size_t)max + 2, 1);
        for (size_t k = 0; k < a->types[t].n; k++)
            in[a->types[t].v[k].ord] |= 1;
        for (size_t k = 0; k < b->types[t].n; k++)
            in[b->types[t].v[k].ord] |= 2;
        bool diff = false;
        for (hollow_ordinal o = 0; o <= max && !diff; o++)
            diff = in[o] == 1 || in[o] == 2;
        free(in);
        if (diff)
            return true;
    }
    return false;
}

/*
 * §10.4: a new record (not a record of the previous state, not a repeat of
 * one added earlier in this cycle) takes the smallest free ordinal: the
 * ordinals not populated in the previous state, in ascending order, in the
 * order the records were added. Not a MUST (the blobs stay valid): the
 * first difference is kept in ch->ord_fail and fails the chain at its end,
 * after every other check.
 */
static void check_new_ordinals(chain *ch, const rs_state *st,
                               const rs_state *prev)
{
    const rs_schema *s = st->schema;
    for (size_t t = 0; t < s->ntypes; t++) {
        const rs_recs *rv = &st->types[t];
        const rs_recs *pv = &prev->types[t];
        hollow_ordinal max = -1;
        for (size_t k = 0; k < rv->n; k++)
            if (rv->v[k].ord > max)
                max = rv->v[k].ord;
        for (size_t k = 0; k < pv->n; k++)
            if (pv->v[k].ord > max)
                max = pv->v[k].ord;
        uint8_t *in = xcalloc((size_t)max + 2, 1);
        for (size_t k = 0; k < pv->n; k++)
            in[pv->v[k].ord] = 2;
        hollow_ordinal next = 0;
        while (next <= max && in[next] != 0)
            next++;
        for (size_t k = 0; k < rv->n; k++) {
            hollow_ordinal o = rv->v[k].ord;
            if (in[o] != 0)
                continue; /* previous state's, or already added */
            if (o != next && ch->ord_fail[0] == '\0')
                snprintf(ch->ord_fail, sizeof ch->ord_fail,
                         "%s: type %s record %zu is new and got ordinal %d; "
                         "the smallest free ordinal is %d (§10.4)",
                         st->ctx, s->types[t].name, k, o, next);
            in[o] = 1;
            while (next <= max && in[next] != 0)
                next++;
        }
        free(in);
    }
}

static void dump_of(rs_buf *out, const hollow_read_state *rs, const char *ctx)
{
    rs_dump(out, rs, ctx);
}

static uint32_t checksum_of(const hollow_read_state *rs, const char *ctx)
{
    uint32_t c = 0;
    int rc = hollow_read_state_checksum(&c, rs);
    ck_assert_msg(rc == 0, "%s: hollow_read_state_checksum returned %d: %s",
                  ctx, rc, hollow_error_last()->message);
    return c;
}

/* the producer's integrity check (hollow__read_states_equal) must say what
 * the checksums say, on one thread and on two */
static void equal_as_checksums(const hollow_read_state *a,
                               const hollow_read_state *b, uint32_t sa,
                               uint32_t sb, const char *ctx, const char *what)
{
    for (unsigned threads = 1; threads <= 2; threads++) {
        bool same = sa != sb;
        char why[256];
        int rc = hollow__read_states_equal(&same, why, sizeof why, a, b,
                                           threads);
        ck_assert_msg(rc == 0, "%s: %s: hollow__read_states_equal returned "
                      "%d: %s", ctx, what, rc, hollow_error_last()->message);
        ck_assert_msg(same == (sa == sb), "%s: %s: equal says %d (%s), "
                      "checksums 0x%08x and 0x%08x", ctx, what, (int)same,
                      why, sa, sb);
    }
}

/* the first line where two dumps differ */
static void same_dump(const rs_buf *got, const rs_buf *want, const char *ctx,
                      const char *what)
{
    if (got->len == want->len && memcmp(got->p, want->p, got->len) == 0)
        return;
    size_t i = 0, line = 1, start = 0;
    while (i < got->len && i < want->len && got->p[i] == want->p[i]) {
        if (got->p[i] == '\n') {
            line++;
            start = i + 1;
        }
        i++;
    }
    size_t ge = start, we = start;
    while (ge < got->len && got->p[ge] != '\n' && ge - start < 300)
        ge++;
    while (we < want->len && want->p[we] != '\n' && we - start < 300)
        we++;
    ck_abort_msg("%s: %s: the dumps differ (%zu bytes, expected %zu) at line "
                 "%zu:\ngot:      %.*s\nexpected: %.*s",
                 ctx, what, got->len, want->len, line, (int)(ge - start),
                 start < got->len ? (const char *)got->p + start : "",
                 (int)(we - start),
                 start < want->len ? (const char *)want->p + start : "");
}

static void dump_sha(const rs_buf *dump, char out[65])
{
    ht_sha256_hex(dump->p, dump->len, out);
}

/* ------------------------------------------------------------ the test */

static void path_of(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void put_file(const char *dir, const char *name, const rs_buf *b)
{
    char p[400];
    path_of(p, sizeof p, dir, name);
    ht_write_file(p, b->p, b->len);
}

static hollow_read_state *load_snapshot(const chain *ch, const char *dir,
                                        const char *name, const rs_buf *blob,
                                        const char *ctx)
{
    hollow_read_state *rs = NULL;
    int rc;
    if (ch->cfg->files) {
        char p[400];
        hollow_read_options ro = HOLLOW_READ_OPTIONS_INIT;
        ro.memory_mode = HOLLOW_MEMORY_MMAP;
        path_of(p, sizeof p, dir, name);
        rc = hollow_read_state_open(&rs, p, &ro);
    } else {
        rc = hollow_read_state_from_snapshot(&rs, blob->p, blob->len, NULL);
    }
    ck_assert_msg(rc == 0, "%s: reading %s returned %d: %s", ctx, name, rc,
                  hollow_error_last()->message);
    return rs;
}

static hollow_read_state *apply(const chain *ch, const hollow_read_state *rs,
                                const char *dir, const char *name,
                                const rs_buf *blob, const char *ctx)
{
    hollow_read_state *out = NULL;
    int rc;
    if (ch->cfg->files) {
        char p[400];
        path_of(p, sizeof p, dir, name);
        rc = hollow_read_state_apply_delta_file(&out, rs, p);
    } else {
        rc = hollow_read_state_apply_delta(&out, rs, blob->p, blob->len);
    }
    ck_assert_msg(rc == 0, "%s: applying %s returned %d: %s", ctx, name, rc,
                  hollow_error_last()->message);
    /* the bulk copies and the threads build what the reference path does */
    same_as_reference(out, rs, blob->p, blob->len, ctx);
    return out;
}

static hollow_write_state *chain_write_state(const chain *ch)
{
    hollow_schema_list *l = rs_schema_list(ch->sc);
    hollow_write_options o = HOLLOW_WRITE_OPTIONS_INIT;
    o.target_shard_size = ch->sc->target_shard_size;
    o.resharding = ch->cfg->resharding;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &o));
    hollow_schema_list_free(l);
    for (size_t t = 0; t < ch->sc->ntypes; t++)
        if (ch->sc->types[t].shards != 0)
            HT_OK(hollow_write_state_set_shard_count(ws, ch->sc->types[t].name,
                                                     ch->sc->types[t].shards));
    return ws;
}

/* re-pin a random pinned type to another shard count; false if none */
static bool repin(chain *ch, hollow_write_state *ws)
{
    size_t pinned = 0;
    for (size_t t = 0; t < ch->sc->ntypes; t++)
        pinned += ch->sc->types[t].shards != 0;
    if (pinned == 0)
        return false;
    size_t pick = rs_below(&ch->rng, (uint32_t)pinned);
    for (size_t t = 0; t < ch->sc->ntypes; t++) {
        rs_type *ty = &ch->sc->types[t];
        if (ty->shards == 0 || pick-- != 0)
            continue;
        uint32_t n;
        do
            n = 1u << rs_below(&ch->rng, 7);
        while (n == ty->shards);
        ty->shards = n;
        HT_OK(hollow_write_state_set_shard_count(ws, ty->name, n));
        ch->repins++;
        return true;
    }
    return false;
}

static unsigned log2u(uint32_t n)
{
    unsigned k = 0;
    while (n > 1) {
        n >>= 1;
        k++;
    }
    return k;
}

/* the chain's summary line */
static void describe(const chain *ch, FILE *f, double secs, double py_secs)
{
    const rs_schema *s = ch->sc;
    unsigned obj = 0, lst = 0, set = 0, map = 0, kset = 0, kmap = 0, fields = 0;
    for (size_t t = 0; t < s->ntypes; t++) {
        const rs_type *ty = &s->types[t];
        switch (ty->kind) {
        case HOLLOW_SCHEMA_OBJECT:
            obj++;
            fields += (unsigned)ty->nfields;
            break;
        case HOLLOW_SCHEMA_LIST: lst++; break;
        case HOLLOW_SCHEMA_SET:
            set++;
            kset += ty->nkeys > 0;
            break;
        case HOLLOW_SCHEMA_MAP:
            map++;
            kmap += ty->nkeys > 0;
            break;
        }
    }
    char shards[128] = "";
    size_t o = 0;
    for (unsigned k = 0; k < 31; k++)
        if (ch->shard_mask & (1u << k))
            o += (size_t)snprintf(shards + o, sizeof shards - o, "%s%u",
                                  o ? "," : "", 1u << k);
    fprintf(f,
            "chain %d (%s): %zu types (%u OBJECT with %u fields, %u LIST, %u "
            "SET (%u hash-keyed), %u MAP (%u hash-keyed)), target %llu; %d "
            "cycles: %u written (%u with only shard-count changes), %u "
            "unchanged and rolled back, %u abandoned and rolled back; records "
            "%u added, %u removed, %u modified, %u repeated, up to %zu in a "
            "type; %u types frozen, %u emptied; shard counts {%s}, %u changes "
            "(%u by re-pinning, %u up and %u down by resharding); %.1f s "
            "(Python %.1f s)\n",
            ch->idx, ch->cfg->what, s->ntypes, obj, fields, lst, set, kset, map,
            kmap, (unsigned long long)s->target_shard_size, g_cycles,
            ch->written, ch->shard_only, ch->unchanged, ch->abandoned,
            ch->added, ch->removed, ch->modified, ch->dups, ch->max_records,
            ch->frozen, ch->emptied, shards, ch->shard_changes,
            ch->pinned_changes, ch->reshard_up, ch->reshard_down, secs,
            py_secs);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(write_chain)
{
    double t0 = now();
    chain ch;
    memset(&ch, 0, sizeof ch);
    ch.idx = _i;
    ch.cfg = &CFG[_i % NCHAINS];
    ch.rng = g_seed ^ (0xD6E8FEB86659FD93ull * (uint64_t)(_i + 1));
    rs_rand(&ch.rng);
    bool verbose = env_on("HOLLOW_TEST_VERBOSE");

    char dir[256], ctx[320], name[96], name2[96];
    snprintf(name, sizeof name, "hollow_chain%d", _i);
    ht_tmpdir(dir, sizeof dir, name);

    /* the schema */
    rs_schema_opts so;
    memset(&so, 0, sizeof so);
    so.min_types = 7;
    so.max_types = ch.cfg->max_types;
    so.max_records = ch.cfg->cap;
    so.shard_mode = ch.cfg->shard_mode;
    so.target_mode = ch.cfg->target_mode;
    so.empty_pct = 10;
    ch.sc = rs_schema_gen(&ch.rng, &so);
    rs_schema *sc = ch.sc;
    if (ch.cfg->target_mode == 2) /* from 1 shard to 64 and more */
        sc->target_shard_size = (uint64_t)64 << rs_below(&ch.rng, 4);
    ch.dyn = xcalloc(sc->ntypes, sizeof *ch.dyn);
    for (size_t t = 0; t < sc->ntypes; t++) {
        tdyn *d = &ch.dyn[t];
        d->cap = t == 0 ? ch.cfg->cap0
                        : 4 + rs_below(&ch.rng, (uint32_t)ch.cfg->cap - 3);
        if (sc->types[t].count > d->cap)
            sc->types[t].count = d->cap;
        d->goal = sc->types[t].count;
        d->trend = (int)rs_below(&ch.rng, 3) - 1;
    }
    snprintf(ctx, sizeof ctx, "seed %llu chain %d (%s)",
             (unsigned long long)g_seed, _i, dir);
    if (verbose) {
        fprintf(stderr, "== %s: %s\n", ctx, ch.cfg->what);
        rs_schema_describe(sc, stderr);
    }

    hollow_write_state *ws = chain_write_state(&ch);
    int ncycles = g_cycles;
    int64_t *versions = xcalloc((size_t)ncycles, sizeof *versions);
    uint32_t *sums = xcalloc((size_t)ncycles, sizeof *sums);
    char(*shas)[65] = xcalloc((size_t)ncycles, sizeof *shas);
    uint32_t *shards = xcalloc(sc->ntypes, sizeof *shards);
    size_t nv = 0; /* versions written */

    rs_state *prev = NULL;
    hollow_read_state *prev_rs = NULL;
    hollow_read_state *fwd = NULL;
    rs_buf prev_dump = {0}, dump = {0}, d2 = {0};

    for (int c = 0; c < ncycles; c++) {
        int64_t version = c + 1;
        snprintf(ctx, sizeof ctx, "seed %llu chain %d version %lld (%s)",
                 (unsigned long long)g_seed, _i, (long long)version, dir);
        rs_state *st = NULL;
        bool expect_same = false, repinned = false, early = false;
        if (c == 0) {
            st = rs_state_new(sc, ctx);
            rs_state_gen(st, &ch.rng);
        } else {
            /* the same records again, sometimes with a re-pinned shard
             * count; a re-pin before or after prepare_cycle */
            bool again = rs_chance(&ch.rng, 9);
            bool pin = ch.cfg->repin_pct > 0 &&
                       rs_chance(&ch.rng, again ? 50 : ch.cfg->repin_pct);
            bool pin_early = pin && rs_chance(&ch.rng, 50);
            if (pin_early)
                early = repinned = repin(&ch, ws);
            if (rs_chance(&ch.rng, 6)) {
                /* a cycle filled, then abandoned */
                rs_state *gone = evolve(&ch, prev, ctx, false);
                gone->has_tag = false;
                HT_OK(hollow_write_state_prepare_cycle(ws));
                rs_state_add(gone, ws, prev, false);
                check_new_ordinals(&ch, gone, prev);
                (void)hollow_write_state_has_changes(ws);
                HT_OK(hollow_write_state_rollback(ws));
                keep_tags(prev, gone);
                rs_state_free(gone);
                ch.abandoned++;
                if (verbose)
                    fprintf(stderr, "%s: a cycle filled and abandoned\n", ctx);
            }
            HT_OK(hollow_write_state_prepare_cycle(ws));
            if (pin && !pin_early)
                repinned = repin(&ch, ws);
            if (again) {
                st = same_state(prev, ctx);
                expect_same = true;
            } else {
                st = evolve(&ch, prev, ctx, true);
            }
        }
        rs_state_add(st, ws, prev, c == 0);
        if (prev != NULL)
            check_new_ordinals(&ch, st, prev);
        bool model_changed = prev == NULL || ordinals_changed(st, prev);
        ck_assert_msg(!expect_same || !model_changed,
                      "%s: the same records again got other ordinals", ctx);
        bool changes = hollow_write_state_has_changes(ws);
        ck_assert_msg(changes || !model_changed,
                      "%s: hollow_write_state_has_changes() is false, but "
                      "populated ordinals changed",
                      ctx);
        ck_assert_msg(changes || !repinned,
                      "%s: hollow_write_state_has_changes() is false after "
                      "re-pinning a shard count",
                      ctx);
        if (!changes) { /* nothing to publish: the version is skipped */
            HT_OK(hollow_write_state_rollback(ws));
            keep_tags(prev, st);
            ch.unchanged++;
            rs_state_free(st);
            if (verbose)
                fprintf(stderr, "%s: no change, rolled back\n", ctx);
            continue;
        }

        int64_t tag = hollow_write_state_randomized_tag(ws);
        if (st->has_tag)
            ck_assert_msg(tag == st->tag, "%s: randomized tag %lld, set %lld",
                          ctx, (long long)tag, (long long)st->tag);
        uint32_t wsum = 0, wsum2 = 0;
        HT_OK(hollow_write_state_checksum(&wsum, ws));
        rs_buf snap = {0}, delta = {0}, rev = {0}, header = {0};
        HT_OK(hollow_write_state_write_header(ws, rs_buf_sink, &header));
        HT_OK(hollow_write_state_write_snapshot(ws, rs_buf_sink, &snap));
        if (prev != NULL) {
            HT_OK(hollow_write_state_write_delta(ws, rs_buf_sink, &delta));
            HT_OK(
                hollow_write_state_write_reverse_delta(ws, rs_buf_sink, &rev));
        }
        HT_OK(hollow_write_state_checksum(&wsum2, ws));
        ck_assert_msg(wsum2 == wsum,
                      "%s: write checksum 0x%08x after writing, 0x%08x before",
                      ctx, wsum2, wsum);
        snprintf(name, sizeof name, "header-%lld", (long long)version);
        put_file(dir, name, &header);
        snprintf(name, sizeof name, "snapshot-%lld", (long long)version);
        put_file(dir, name, &snap);
        char dname[96] = "", rname[96] = "";
        if (prev != NULL) {
            snprintf(dname, sizeof dname, "delta-%lld-%lld",
                     (long long)versions[nv - 1], (long long)version);
            snprintf(rname, sizeof rname, "reversedelta-%lld-%lld",
                     (long long)version, (long long)versions[nv - 1]);
            put_file(dir, dname, &delta);
            put_file(dir, rname, &rev);
        }

        /* (c) the snapshot: the model, the write-side checksum */
        hollow_read_state *rs = load_snapshot(&ch, dir, name, &snap, ctx);
        rs_state_check(st, rs, tag, prev);
        uint32_t rsum = checksum_of(rs, ctx);
        ck_assert_msg(rsum == wsum,
                      "%s: snapshot checksum 0x%08x, write state 0x%08x", ctx,
                      rsum, wsum);
        dump_of(&dump, rs, ctx);

        /* shard counts */
        bool shard_change = false;
        for (size_t t = 0; t < sc->ntypes; t++) {
            const rs_type *ty = &sc->types[t];
            const hollow_type *rt = hollow_read_state_type(rs, ty->name);
            uint32_t n = hollow_type_shard_count(rt);
            ch.shard_mask |= 1u << log2u(n);
            if (c > 0 && n != shards[t]) {
                shard_change = true;
                ch.shard_changes++;
                if (ty->shards != 0) {
                    ch.pinned_changes++;
                } else {
                    ck_assert_msg(ch.cfg->resharding,
                                  "%s: type %s went from %u to %u shards "
                                  "without resharding",
                                  ctx, ty->name, shards[t], n);
                    ck_assert_msg(n == 2 * shards[t] || 2 * n == shards[t],
                                  "%s: type %s went from %u to %u shards, "
                                  "not one step",
                                  ctx, ty->name, shards[t], n);
                    if (n > shards[t])
                        ch.reshard_up++;
                    else
                        ch.reshard_down++;
                }
            }
            shards[t] = n;
            if (st->types[t].n > ch.max_records)
                ch.max_records = st->types[t].n;
        }
        ck_assert_msg(model_changed || shard_change,
                      "%s: hollow_write_state_has_changes() is true, but "
                      "neither records nor shard counts changed",
                      ctx);
        if (!model_changed)
            ch.shard_only++;

        if (prev != NULL) {
            /* (a) previous snapshot + delta */
            hollow_read_state *next =
                apply(&ch, prev_rs, dir, dname, &delta, ctx);
            dump_of(&d2, next, ctx);
            same_dump(&d2, &dump, ctx, "previous snapshot + delta vs snapshot");
            rsum = checksum_of(next, ctx);
            ck_assert_msg(rsum == wsum,
                          "%s: previous snapshot + delta: checksum 0x%08x, "
                          "snapshot 0x%08x",
                          ctx, rsum, wsum);
            equal_as_checksums(next, rs, rsum, wsum, ctx,
                               "previous snapshot + delta vs snapshot");
            equal_as_checksums(prev_rs, rs, sums[nv - 1], wsum, ctx,
                               "previous snapshot vs snapshot");
            hollow_read_state_release(next);
            /* (b) snapshot + reverse delta */
            hollow_read_state *back = apply(&ch, rs, dir, rname, &rev, ctx);
            dump_of(&d2, back, ctx);
            same_dump(&d2, &prev_dump, ctx,
                      "snapshot + reverse delta vs previous snapshot");
            rsum = checksum_of(back, ctx);
            ck_assert_msg(rsum == sums[nv - 1],
                          "%s: snapshot + reverse delta: checksum 0x%08x, "
                          "previous snapshot 0x%08x",
                          ctx, rsum, sums[nv - 1]);
            equal_as_checksums(back, prev_rs, rsum, sums[nv - 1], ctx,
                               "snapshot + reverse delta vs previous snapshot");
            hollow_read_state_release(back);
            /* (d) the consumer that followed the chain from version 1 */
            hollow_read_state *f2 = apply(&ch, fwd, dir, dname, &delta, ctx);
            hollow_read_state_release(fwd);
            fwd = f2;
            dump_of(&d2, fwd, ctx);
            same_dump(&d2, &dump, ctx, "chain from version 1 vs snapshot");
            rsum = checksum_of(fwd, ctx);
            ck_assert_msg(rsum == wsum,
                          "%s: chain from version 1: checksum 0x%08x, "
                          "snapshot 0x%08x",
                          ctx, rsum, wsum);
        } else {
            fwd = rs;
            hollow_read_state_acquire(fwd);
        }
        if (verbose) {
            fprintf(stderr, "%s: %s%s%zu/%zu/%zu bytes; records/shards", ctx,
                    !model_changed ? "shards only; " : "",
                    !repinned ? ""
                    : early   ? "re-pinned before prepare_cycle; "
                              : "re-pinned; ",
                    snap.len, delta.len, rev.len);
            for (size_t t = 0; t < sc->ntypes; t++)
                fprintf(stderr, " %zu/%u", rs_state_distinct(st, (int)t),
                        shards[t]);
            fprintf(stderr, "\n");
        }

        versions[nv] = version;
        sums[nv] = wsum;
        dump_sha(&dump, shas[nv]);
        nv++;
        ch.written++;
        ch.last_tag = tag;
        hollow_read_state_release(prev_rs);
        prev_rs = rs;
        rs_buf tmpb = prev_dump;
        prev_dump = dump;
        dump = tmpb;
        rs_state_free(prev);
        prev = st;
        rs_buf_free(&snap);
        rs_buf_free(&delta);
        rs_buf_free(&rev);
        rs_buf_free(&header);
    }
    snprintf(ctx, sizeof ctx, "seed %llu chain %d (%s)",
             (unsigned long long)g_seed, _i, dir);
    ck_assert_msg(nv >= 2, "%s: only %zu versions written", ctx, nv);
    {
        char p[400];
        char text[32];
        int n =
            snprintf(text, sizeof text, "%lld", (long long)versions[nv - 1]);
        path_of(p, sizeof p, dir, "announced.version");
        ht_write_file(p, text, (size_t)n);
    }

    /* a consumer walking the reverse deltas back from the last snapshot */
    hollow_read_state *bwd = NULL;
    snprintf(name, sizeof name, "snapshot-%lld", (long long)versions[nv - 1]);
    {
        char p[400];
        path_of(p, sizeof p, dir, name);
        HT_OK(hollow_read_state_open(&bwd, p, NULL));
    }
    for (size_t i = nv - 1; i > 0; i--) {
        char p[400], sha[65];
        snprintf(name2, sizeof name2, "reversedelta-%lld-%lld",
                 (long long)versions[i], (long long)versions[i - 1]);
        path_of(p, sizeof p, dir, name2);
        hollow_read_state *b2 = NULL;
        int rc = hollow_read_state_apply_delta_file(&b2, bwd, p);
        ck_assert_msg(rc == 0, "%s: walking back: %s returned %d: %s", ctx,
                      name2, rc, hollow_error_last()->message);
        hollow_read_state_release(bwd);
        bwd = b2;
        dump_of(&d2, bwd, ctx);
        dump_sha(&d2, sha);
        ck_assert_msg(strcmp(sha, shas[i - 1]) == 0,
                      "%s: walking back from version %lld: version %lld dumps "
                      "differently from its snapshot",
                      ctx, (long long)versions[nv - 1],
                      (long long)versions[i - 1]);
        uint32_t s = checksum_of(bwd, ctx);
        ck_assert_msg(s == sums[i - 1],
                      "%s: walking back from version %lld: version %lld "
                      "checksum 0x%08x, snapshot 0x%08x",
                      ctx, (long long)versions[nv - 1],
                      (long long)versions[i - 1], s, sums[i - 1]);
    }

    /* the Python reader: forward chain, reverse chain; the linter */
    double p0 = now();
    char **paths = xcalloc(nv, sizeof *paths);
    for (size_t i = 0; i < nv; i++) {
        paths[i] = xcalloc(400, 1);
        if (i == 0)
            snprintf(name, sizeof name, "snapshot-%lld",
                     (long long)versions[0]);
        else
            snprintf(name, sizeof name, "delta-%lld-%lld",
                     (long long)versions[i - 1], (long long)versions[i]);
        path_of(paths[i], 400, dir, name);
    }
    rs_buf fdump = {0};
    dump_of(&fdump, fwd, ctx);
    same_dump(&fdump, &prev_dump, ctx, "chain from version 1 vs last snapshot");
    rs_check_python_dump(ctx, (const char *const *)paths, nv, &fdump);
    for (size_t i = 0; i < nv; i++) {
        size_t v = nv - 1 - i;
        if (i == 0)
            snprintf(name, sizeof name, "snapshot-%lld",
                     (long long)versions[v]);
        else
            snprintf(name, sizeof name, "reversedelta-%lld-%lld",
                     (long long)versions[v + 1], (long long)versions[v]);
        path_of(paths[i], 400, dir, name);
    }
    rs_buf bdump = {0};
    dump_of(&bdump, bwd, ctx);
    rs_check_python_dump(ctx, (const char *const *)paths, nv, &bdump);
    char lopts[400];
    snprintf(lopts, sizeof lopts, "--must-only --dir '%s'", dir);
    rs_check_lint(ctx, lopts, NULL, 0, NULL);
    if (verbose) {
        rs_buf lint = {0};
        snprintf(lopts, sizeof lopts, "--dir '%s'", dir);
        rs_check_lint(ctx, lopts, NULL, 0, &lint);
        fprintf(stderr, "%s: lint:\n%.*s", ctx, (int)lint.len,
                lint.p ? (char *)lint.p : "");
        rs_buf_free(&lint);
    }
    double p1 = now();
    describe(&ch, stderr, p1 - t0, p1 - p0);
    /* both delta paths ran: runs copied in bulk, records re-encoded */
    uint64_t bulk, rebuilt;
    hollow__delta_counts(&bulk, &rebuilt);
    fprintf(stderr, "%s: shards rebuilt by delta: %llu in bulk, %llu record "
            "by record\n", ctx, (unsigned long long)bulk,
            (unsigned long long)rebuilt);
    ck_assert_msg(bulk > 0 && rebuilt > 0, "%s: a delta path never ran", ctx);
    ck_assert_msg(ch.ord_fail[0] == '\0', "%s", ch.ord_fail);

    /* clean up (a failed chain keeps its directory) */
    if (!env_on("HOLLOW_TEST_KEEP")) {
        char p[400];
        for (size_t i = 0; i < nv; i++) {
            snprintf(name, sizeof name, "snapshot-%lld",
                     (long long)versions[i]);
            path_of(p, sizeof p, dir, name);
            unlink(p);
            snprintf(name, sizeof name, "header-%lld", (long long)versions[i]);
            path_of(p, sizeof p, dir, name);
            unlink(p);
            if (i == 0)
                continue;
            snprintf(name, sizeof name, "delta-%lld-%lld",
                     (long long)versions[i - 1], (long long)versions[i]);
            path_of(p, sizeof p, dir, name);
            unlink(p);
            snprintf(name, sizeof name, "reversedelta-%lld-%lld",
                     (long long)versions[i], (long long)versions[i - 1]);
            path_of(p, sizeof p, dir, name);
            unlink(p);
        }
        path_of(p, sizeof p, dir, "announced.version");
        unlink(p);
        rmdir(dir);
    }

    for (size_t i = 0; i < nv; i++)
        free(paths[i]);
    free(paths);
    rs_buf_free(&fdump);
    rs_buf_free(&bdump);
    rs_buf_free(&prev_dump);
    rs_buf_free(&dump);
    rs_buf_free(&d2);
    hollow_read_state_release(bwd);
    hollow_read_state_release(fwd);
    hollow_read_state_release(prev_rs);
    hollow_write_state_free(ws);
    rs_state_free(prev);
    free(versions);
    free(sums);
    free(shas);
    free(shards);
    free(ch.dyn);
    rs_schema_free(sc);
}
END_TEST

/* "N" or "N-M" */
static void range(const char *text, int *from, int *to)
{
    char *end = NULL;
    *from = (int)strtol(text, &end, 10);
    *to = end != NULL && *end == '-' ? (int)strtol(end + 1, NULL, 10) + 1
                                     : *from + 1;
}

int main(void)
{
    g_seed = ht_seed("test_write_chains");
    g_cycles = CYCLES * ht_scale();
    int from = 0, to = NCHAINS;
    const char *only = getenv("HOLLOW_TEST_CHAIN");
    if (only != NULL && *only != '\0')
        range(only, &from, &to);
    Suite *s = suite_create("write_chains");
    TCase *tc = tcase_create("chains");
    tcase_set_timeout(tc, 1800);
    tcase_add_loop_test(tc, write_chain, from, to);
    suite_add_tcase(s, tc);
    return ht_run_suite(s);
}
