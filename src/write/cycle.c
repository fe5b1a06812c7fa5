/*
 * Cycles of the write state (blob-format.md §10.1, §10.4, §10.6, §10.10):
 * starting a cycle, rolling one back, telling whether it changed anything,
 * and restoring a write state from a read state so that a restarted
 * producer continues the chain.
 *
 * Two bit sets per type swap roles at each cycle start, as Java's do, so
 * that their segment counts (which decide the populated bit set's length in
 * a snapshot, §10.9) follow Java's history.
 */
#include <stdlib.h>
#include <string.h>

#include "blob/format.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "common/hash.h"
#include "write_int.h"

/* ------------------------------------------- rule 1 projections (§10.6) */

/* restored records by the bytes of the fields both schemas share */
typedef struct hollow__wproj {
    hollow__buf keys;   /* concatenated projections */
    uint64_t *off;
    uint32_t *len;
    uint32_t *ord;
    size_t count, cap;
    int32_t *table;     /* -> index, -1 empty */
    uint32_t table_cap;
} hollow__wproj;

static void proj_free(hollow__wproj *p)
{
    if (p == NULL)
        return;
    hollow__buf_free(&p->keys);
    hollow__free(p->off);
    hollow__free(p->len);
    hollow__free(p->ord);
    hollow__free(p->table);
    hollow__free(p);
}

void hollow__wtype_restore_free(hollow__wtype *t)
{
    proj_free(t->proj);
    t->proj = NULL;
    hollow__free(t->common);
    t->common = NULL;
}

/* the projection of OBJECT identity bytes p (schema s) onto the common
 * fields: their encodings in the new schema's field order */
static void project(hollow__buf *out, const hollow_schema *s, const uint8_t *p,
                    const int *want, size_t nwant)
{
    size_t nf = s->field_count;
    const uint8_t *at[256];
    size_t ln[256];
    out->len = 0;
    for (size_t f = 0; f < nf && f < 256; f++) {
        hollow__wval v;
        at[f] = p;
        ln[f] = hollow__wdecode_field(&v, p, s->fields[f].type);
        p += ln[f];
    }
    for (size_t i = 0; i < nwant; i++)
        if (want[i] >= 0 && (size_t)want[i] < 256)
            hollow__buf_put(out, at[want[i]], ln[want[i]]);
}

static int proj_add(hollow__wproj *p, const uint8_t *k, size_t n, uint32_t ord)
{
    /* three arrays of one capacity: p->cap moves once all have grown */
    size_t c_off = p->cap, c_len = p->cap, c_ord = p->cap;
    HOLLOW_TRY(hollow__grow(p->off, c_off, p->count + 1, 256));
    HOLLOW_TRY(hollow__grow(p->len, c_len, p->count + 1, 256));
    HOLLOW_TRY(hollow__grow(p->ord, c_ord, p->count + 1, 256));
    p->cap = c_off;
    p->off[p->count] = p->keys.len;
    p->len[p->count] = (uint32_t)n;
    p->ord[p->count] = ord;
    p->count++;
    hollow__buf_put(&p->keys, k, n);
    return hollow__buf_check(&p->keys);
}

static int proj_index(hollow__wproj *p)
{
    uint32_t cap = 64;
    while (cap < p->count * 2 + 1)
        cap *= 2;
    p->table = hollow__mallocarray(cap, sizeof *p->table);
    HOLLOW_CHECK_ALLOC(p->table);
    memset(p->table, 0xFF, (size_t)cap * sizeof *p->table);
    p->table_cap = cap;
    for (size_t i = 0; i < p->count; i++) {
        uint32_t h = hollow__murmur(p->keys.ptr + p->off[i], p->len[i]);
        uint32_t at = h & (cap - 1);
        while (p->table[at] >= 0) {
            size_t j = (size_t)p->table[at];
            if (p->len[j] == p->len[i] &&
                memcmp(p->keys.ptr + p->off[j], p->keys.ptr + p->off[i],
                       p->len[i]) == 0)
                break; /* the first restored record keeps the key */
            at = (at + 1) & (cap - 1);
        }
        if (p->table[at] < 0)
            p->table[at] = (int32_t)i;
    }
    return 0;
}

/* the restored ordinal whose common fields equal those of bytes p, or -1 */
int32_t hollow__wproj_find(const hollow__wtype *t, const uint8_t *p,
                           hollow__buf *scratch)
{
    const hollow__wproj *pj = t->proj;
    const hollow_schema *s = t->schema;
    /* the new record's common fields, in new field order */
    int want[256];
    size_t nwant = 0;
    for (size_t f = 0; f < s->field_count && f < 256; f++)
        if (t->common[f] >= 0)
            want[nwant++] = (int)f;
    project(scratch, s, p, want, nwant);
    if (scratch->oom)
        return -1;
    uint32_t h = hollow__murmur(scratch->ptr, scratch->len);
    uint32_t at = h & (pj->table_cap - 1);
    while (pj->table[at] >= 0) {
        size_t j = (size_t)pj->table[at];
        if (pj->len[j] == scratch->len &&
            memcmp(pj->keys.ptr + pj->off[j], scratch->ptr, scratch->len) == 0)
            return (int32_t)pj->ord[j];
        at = (at + 1) & (pj->table_cap - 1);
    }
    return -1;
}

/* ------------------------------------------------------------- tags */

/* §10.10: refill `dst` with the tags of `src` in `order`, sizing the
 * table as Java's bulk copy into an emptied map does (never shrinking) */
static int refill_tags(hollow__wtags *dst, const hollow__wtags *src,
                       const size_t *order)
{
    uint32_t keep = dst->table_size;
    hollow__wtags_clear(dst);
    dst->table_size = keep;
    size_t k = src->count;
    if (k == 0)
        return 0;
    uint32_t c = 1;
    while (c < k + k / 2 + 1)
        c *= 2;
    uint32_t n = dst->table_size ? dst->table_size : c;
    while (c > n - n / 4)
        n *= 2;
    for (size_t i = 0; i < k; i++) {
        int rc = hollow__wtags_put(dst, src->items[order[i]].key,
                                   src->items[order[i]].value);
        if (rc < 0)
            return rc;
    }
    dst->table_size = n; /* bulk copies size the table once */
    dst->verbatim = false;
    return 0;
}

/* -------------------------------------------------------------- cycles */

static void rebuild_table(hollow__wtype *t);

static int save_for_rollback(hollow__wtype *t, const hollow__wbits *replaced)
{
    hollow__free(t->saved_free);
    t->saved_free = NULL;
    size_t n = t->free_count;
    if (n > 0) {
        t->saved_free = hollow__mallocarray(n, sizeof *t->saved_free);
        HOLLOW_CHECK_ALLOC(t->saved_free);
        memcpy(t->saved_free, t->free_list, n * sizeof *t->saved_free);
    }
    t->saved_free_count = n;
    t->saved_free_head = t->free_head;
    t->saved_from_back = t->free_from_back;
    t->saved_next = t->next_ordinal;
    t->saved_pool_len = t->pool.len;
    t->new_count = 0;
    /* the contents of the set that becomes the new cur */
    hollow__free(t->saved_prev.words);
    t->saved_prev = *replaced;
    t->saved_prev.words = NULL;
    if (replaced->nwords > 0) {
        t->saved_prev.words = hollow__mallocarray(replaced->nwords, 8);
        HOLLOW_CHECK_ALLOC(t->saved_prev.words);
        memcpy(t->saved_prev.words, replaced->words, (size_t)replaced->nwords * 8);
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int free_push(hollow__wtype *t, uint32_t o)
{
    HOLLOW_TRY(hollow__grow(t->free_list, t->free_cap, t->free_count + 1, 256));
    t->free_list[t->free_count++] = o;
    return 0;
}

int hollow_write_state_prepare_cycle(hollow_write_state *ws)
{
    if (ws == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    int rc = 0;
    for (size_t i = 0; i < ws->type_count && rc == 0; i++) {
        hollow__wtype *t = &ws->types[i];
        hollow__wbits *cur = hollow__wcur(t), *prev = hollow__wprev(t);
        /* compact the leftover free list, then free what left the map */
        size_t keep = 0;
        for (size_t k = t->free_head; k < t->free_count; k++)
            t->free_list[keep++] = t->free_list[k];
        t->free_count = keep;
        t->free_head = 0;
        t->free_from_back = false;
        /* the table holds one entry per record, unless the cycle after a
         * restore left stale or duplicate entries: then rebuild it */
        bool rebuild = ws->restored_cycle || t->proj != NULL;
        hollow__wrun_begin(t);
        for (uint32_t o = 0; o < t->next_ordinal && rc == 0; o++)
            if (t->off[o] != HOLLOW__NO_RECORD && !hollow__wbits_has(cur, o)) {
                hollow__wrun_remove(t, o);
                if (!rebuild)
                    hollow__ws_table_remove(t, o);
                t->off[o] = HOLLOW__NO_RECORD;
                rc = free_push(t, o);
            }
        /* §10.4: the whole free list is consumed in ascending order */
        if (t->free_count > 1)
            qsort(t->free_list, t->free_count, sizeof *t->free_list, cmp_u32);
        if (rebuild)
            rebuild_table(t);
        /* a rollback returns to this point: the free list as it is now
         * (with what just left the map), the set about to become cur */
        if (rc == 0 && (rc = save_for_rollback(t, prev)) < 0)
            break;
        /* prev := cur; cur := the other set, emptied (Java swaps them) */
        hollow__wbits_clear_all(prev);
        t->cur_bits = 1 - t->cur_bits;
        /* the previous state has the count its blobs were written with,
         * even if a new count was pinned since (that is then a change);
         * after a rolled-back cycle it stays the last written one */
        if (ws->written)
            t->prev_shard_count = t->cycle_shards ? t->cycle_shards
                                                  : t->shard_count;
        hollow__wtype_restore_free(t);
    }
    if (rc < 0)
        return rc;
    hollow__wrun_end(ws);
    if (ws->written) {
        size_t *order = hollow__wtags_order(&ws->tags);
        HOLLOW_CHECK_ALLOC(order);
        rc = refill_tags(&ws->prev_tags, &ws->tags, order);
        hollow__free(order);
        ws->saved_prev_tag = ws->prev_tag;
        ws->saved_has_history = ws->has_history;
        ws->prev_tag = hollow_write_state_randomized_tag(ws);
        ws->has_history = true;
    }
    ws->tag_set = false;
    ws->written = false;
    ws->shards_chosen = false;
    ws->restored_cycle = false;
    return rc;
}

static void rebuild_table(hollow__wtype *t)
{
    if (t->table != NULL)
        memset(t->table, 0xFF, (size_t)t->table_cap * sizeof *t->table);
    t->table_count = 0;
    for (uint32_t o = 0; o < t->next_ordinal; o++) {
        if (t->off[o] == HOLLOW__NO_RECORD)
            continue;
        const uint8_t *p = t->pool.ptr + t->off[o];
        uint32_t h = hollow__ws_hash(p, t->len[o]);
        uint32_t at = h & (t->table_cap - 1);
        while (t->table[at].ord >= 0)
            at = (at + 1) & (t->table_cap - 1);
        t->table[at].ord = (int32_t)o;
        t->table[at].hash = h;
        t->table_count++;
    }
}

int hollow_write_state_rollback(hollow_write_state *ws)
{
    if (ws == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    for (size_t i = 0; i < ws->type_count; i++) {
        hollow__wtype *t = &ws->types[i];
        hollow__wrun_invalidate(t);
        for (size_t k = 0; k < t->new_count; k++)
            t->off[t->new_ords[k]] = HOLLOW__NO_RECORD;
        t->new_count = 0;
        t->pool.len = t->saved_pool_len;
        t->next_ordinal = t->saved_next;
        t->free_count = 0;
        t->free_head = 0;
        for (size_t k = 0; k < t->saved_free_count; k++)
            free_push(t, t->saved_free[k]); /* fits: the list only grew */
        t->free_head = t->saved_free_head;
        t->free_from_back = t->saved_from_back;
        /* cur goes back to being prev's pair: restore what it held */
        hollow__wbits *cur = hollow__wcur(t);
        hollow__wbits_clear_all(cur);
        for (uint32_t w = 0; w < t->saved_prev.nwords; w++)
            for (uint64_t bits = t->saved_prev.words[w]; bits; bits &= bits - 1)
                hollow__wbits_set(cur, w * 64 + (uint32_t)__builtin_ctzll(bits));
        if (t->saved_prev.segments > cur->segments)
            cur->segments = t->saved_prev.segments;
        t->cur_bits = 1 - t->cur_bits;
        rebuild_table(t);
        /* a shard count chosen for the undone cycle is undone too (a pinned
         * one stays): the next cycle steps from the last written count */
        if (!t->shards_fixed)
            t->shard_count = t->prev_shard_count;
    }
    /* the previous state stays the last one written; a new tag next time */
    ws->tag_set = false;
    ws->written = false;
    ws->shards_chosen = false;
    return 0;
}

bool hollow_write_state_has_changes(hollow_write_state *ws)
{
    if (ws == NULL)
        return false;
    if (hollow__ws_choose_shards(ws) < 0)
        return true; /* let the write report the error */
    for (size_t i = 0; i < ws->type_count; i++) {
        hollow__wtype *t = &ws->types[i];
        if (hollow__wbits_differ(hollow__wcur(t), hollow__wprev(t)))
            return true;
        if (t->prev_shard_count != 0 && t->prev_shard_count != t->shard_count &&
            ws->has_history)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ restore */

/* the identity bytes of a read record (state.c) */
int hollow__encode_read_record(hollow__buf *b, const hollow_type *t,
                               hollow_ordinal o, int32_t **scratch,
                               size_t *scap);

/* a restored record's fields projected onto the new schema: common fields
 * (same name and type) keep their encoding, the others are null */
static void project_to(hollow__buf *out, const hollow_schema *ns,
                       const hollow_schema *os, const uint8_t *p,
                       const int *common)
{
    const uint8_t *at[256];
    size_t ln[256];
    for (size_t f = 0; f < os->field_count && f < 256; f++) {
        hollow__wval v;
        at[f] = p;
        ln[f] = hollow__wdecode_field(&v, p, os->fields[f].type);
        p += ln[f];
    }
    out->len = 0;
    for (size_t f = 0; f < ns->field_count; f++) {
        if (common[f] >= 0) {
            hollow__buf_put(out, at[common[f]], ln[common[f]]);
        } else if (ns->fields[f].type == HOLLOW_FIELD_FLOAT) {
            hollow__buf_be32(out, HOLLOW__FLOAT_NULL);
        } else if (ns->fields[f].type == HOLLOW_FIELD_DOUBLE) {
            hollow__buf_be64(out, HOLLOW__DOUBLE_NULL);
        } else {
            hollow__buf_putc(out, 0x80);
        }
    }
}

static int restore_type(hollow_write_state *ws, hollow__wtype *t,
                        const hollow_type *rt)
{
    (void)ws;
    const hollow_schema *ns = t->schema, *os = hollow_type_schema(rt);
    if (ns->kind != os->kind)
        return 0; /* a kind change: the type starts empty */
    bool same = hollow_schema_equal(ns, os);
    if (!same && (ns->kind != HOLLOW_SCHEMA_OBJECT || os->field_count > 256 ||
                  ns->field_count > 256))
        return 0;
    int rc = 0;
    if (!same) {
        t->common = hollow__calloc(ns->field_count ? ns->field_count : 1,
                                   sizeof *t->common);
        t->proj = hollow__calloc(1, sizeof *t->proj);
        if (t->common == NULL || t->proj == NULL)
            return hollow__error_oom();
        for (size_t f = 0; f < ns->field_count; f++) {
            int of = hollow_schema_field_index(os, ns->fields[f].name);
            t->common[f] = -1;
            if (of >= 0 && os->fields[of].type == ns->fields[f].type &&
                (ns->fields[f].type != HOLLOW_FIELD_REFERENCE ||
                 strcmp(os->fields[of].ref_type, ns->fields[f].ref_type) == 0))
                t->common[f] = of;
        }
    }
    hollow__buf b = HOLLOW__BUF_INIT, pb = HOLLOW__BUF_INIT, kb = HOLLOW__BUF_INIT;
    int32_t *scratch = NULL;
    size_t scap = 0;
    hollow__wbits *prev = hollow__wprev(t);
    int32_t max = -1;
    int want[256];
    size_t nwant = 0;
    if (!same)
        for (size_t f = 0; f < ns->field_count; f++)
            if (t->common[f] >= 0)
                want[nwant++] = t->common[f];
    for (hollow_ordinal o = hollow_type_next_ordinal(rt, 0); o >= 0 && rc == 0;
         o = hollow_type_next_ordinal(rt, o + 1)) {
        if ((rc = hollow__encode_read_record(&b, rt, o, &scratch, &scap)) < 0)
            break;
        const uint8_t *p = b.ptr;
        size_t n = b.len;
        if (!same) {
            project_to(&pb, ns, os, b.ptr, t->common);
            project(&kb, os, b.ptr, want, nwant);
            if ((rc = hollow__buf_check(&pb)) < 0 || (rc = hollow__buf_check(&kb)) < 0 ||
                (rc = proj_add(t->proj, kb.ptr, kb.len, (uint32_t)o)) < 0)
                break;
            p = pb.ptr;
            n = pb.len;
        }
        if ((rc = hollow__ws_restore_at(t, p, n, (uint32_t)o)) < 0 ||
            (rc = hollow__wbits_set(prev, (uint32_t)o)) < 0)
            break;
        max = o;
    }
    if (rc == 0 && !same)
        rc = proj_index(t->proj);
    /* §10.6 rule 2: holes below the top, pushed ascending, taken from the
     * end (highest first); rule 3: then fresh ordinals after the top */
    for (int32_t o = 0; o < max && rc == 0; o++)
        if (!hollow__wbits_has(prev, (uint32_t)o))
            rc = free_push(t, (uint32_t)o);
    t->free_from_back = true;
    t->next_ordinal = (uint32_t)(max + 1);
    t->shard_count = hollow_type_shard_count(rt);
    t->prev_shard_count = t->shard_count;
    t->cycle_shards = t->shard_count;
    hollow__buf_free(&b);
    hollow__buf_free(&pb);
    hollow__buf_free(&kb);
    hollow__free(scratch);
    return rc;
}

int hollow_write_state_restore(hollow_write_state *ws, const hollow_read_state *rs)
{
    if (ws == NULL || rs == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    HOLLOW_TRY(hollow__ws_check_unused(ws));
    int rc = 0;
    for (size_t i = 0; i < ws->type_count && rc == 0; i++) {
        hollow__wtype *t = &ws->types[i];
        hollow__wrun_invalidate(t);
        const hollow_type *rt = hollow_read_state_type(rs, t->schema->name);
        if (rt != NULL) {
            rc = restore_type(ws, t, rt);
            if (rc < 0)
                hollow__error_prefix("restoring type %s", t->schema->name);
        }
        /* a rollback of the first cycle comes back here: the restored
         * records as the current state's pair, the holes still free */
        if (rc == 0)
            rc = save_for_rollback(t, hollow__wcur(t));
    }
    if (rc < 0)
        return rc;
    /* §10.10: the restored tags as Java's plain map holds them (16
     * buckets, blob order within a bucket) become the previous tags */
    hollow__wtags src = {0};
    for (size_t i = 0; i < hollow_read_state_header_tag_count(rs) && rc == 0; i++) {
        const char *k, *v;
        hollow_read_state_header_tag_at(rs, i, &k, &v);
        rc = hollow__wtags_put(&src, k, v);
    }
    src.table_size = 16;
    size_t *order = rc == 0 ? hollow__wtags_order(&src) : NULL;
    if (rc == 0 && order == NULL)
        rc = hollow__error_oom();
    if (rc == 0)
        rc = refill_tags(&ws->prev_tags, &src, order);
    hollow__free(order);
    hollow__wtags_clear(&src);
    ws->prev_tag = hollow_read_state_randomized_tag(rs);
    ws->has_history = true;
    ws->restored_cycle = true;
    ws->tag_set = false;
    ws->written = false;
    ws->shards_chosen = false;
    return rc;
}
