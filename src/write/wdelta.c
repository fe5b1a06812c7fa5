/*
 * The delta and reverse-delta writers (blob-format.md §9.2-§9.3, §9.7-§9.8,
 * §10.5) and the header blob (§3.6).
 *
 * Both deltas of a cycle carry the same types: those whose populated set
 * changed, or whose shard count did, in write order, with the newer
 * state's schemas. A delta shard lists its removed and added shard
 * ordinals and holds the added records in the snapshot shard layout, one
 * slot per added record, with the retained set's statistics (§9.5). The
 * reverse delta swaps the roles of the two states and, when the shard
 * count changed, uses the previous count with LIST/SET/MAP totals and
 * pointer widths recomputed for it.
 */
#include <string.h>

#include "blob/format.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "write_int.h"

static bool shards_changed(const hollow_write_state *ws, const hollow__wtype *t)
{
    return ws->has_history && t->prev_shard_count != 0 &&
           t->prev_shard_count != t->shard_count;
}

/* §1.6: vlong byte count, then the gaps as vints */
static void gap_list(hollow__buf *b, const uint32_t *v, size_t n)
{
    hollow__buf tmp = HOLLOW__BUF_INIT;
    uint32_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        hollow__buf_vint(&tmp, v[i] - prev);
        prev = v[i];
    }
    if (tmp.oom)
        b->oom = 1;
    hollow__buf_vlong(b, tmp.len);
    hollow__buf_put(b, tmp.ptr, tmp.len);
    hollow__buf_free(&tmp);
}

typedef hollow__array(uint32_t) ords;

static int ords_push(ords *o, uint32_t x)
{
    uint32_t *slot = hollow__array_push(o, 256);
    HOLLOW_CHECK_ALLOC(slot);
    *slot = x;
    return 0;
}

static int delta_section(hollow__buf *b, hollow_write_state *ws, hollow__wtype *t,
                         bool reverse, hollow_sink_fn fn, void *payload)
{
    uint32_t n = t->shard_count;
    if (reverse && shards_changed(ws, t))
        n = t->prev_shard_count;
    hollow__wstats st;
    int rc = hollow__wstats_compute(&st, ws, t, n, true);
    if (rc < 0)
        return rc;
    const hollow__wbits *cur = hollow__wcur(t), *prev = hollow__wprev(t);
    const hollow__wbits *from = reverse ? cur : prev, *to = reverse ? prev : cur;
    hollow__schema_write(b, t->schema);
    hollow__wenvelope(b, n);
    if (n > 1)
        hollow__buf_vint(b, (uint32_t)st.max_ordinal);
    uint32_t bits = (uint32_t)__builtin_ctz(n);
    wctx c = {ws, t, &st, n, bits, st.max_ordinal, to, 0, false};
    ords removed = {0}, added = {0}, added_ords = {0};
    for (uint32_t s = 0; s < n && rc == 0; s++) {
        int32_t m = hollow__max_shard_ordinal(st.max_ordinal, n, s);
        removed.n = added.n = added_ords.n = 0;
        for (int64_t j = 0; j <= m && rc == 0; j++) {
            uint32_t o = (uint32_t)(((uint64_t)j << bits) | s);
            bool f = hollow__wbits_has(from, o), tt = hollow__wbits_has(to, o);
            if (f && !tt)
                rc = ords_push(&removed, (uint32_t)j);
            else if (tt && !f && (rc = ords_push(&added, (uint32_t)j)) == 0)
                rc = ords_push(&added_ords, o);
        }
        if (rc < 0)
            break;
        hollow__buf_vint(b, (uint32_t)m);
        gap_list(b, removed.v, removed.n);
        gap_list(b, added.v, added.n);
        hollow__wshard_body(b, &c, s, added_ords.v ? added_ords.v : (uint32_t *)"",
                            added_ords.n);
        rc = hollow__wflush(b, fn, payload, false);
    }
    hollow__free(removed.v);
    hollow__free(added.v);
    hollow__free(added_ords.v);
    hollow__wstats_free(&st);
    return rc;
}

static int write_delta(hollow_write_state *ws, bool reverse, hollow_sink_fn fn,
                       void *payload)
{
    if (ws == NULL || fn == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    if (!ws->has_history)
        return hollow__error_set(HOLLOW_ESTATE,
                                 "no previous state to write a delta from");
    int rc = hollow__ws_choose_shards(ws);
    if (rc < 0)
        return rc;
    hollow__wtype **changed = hollow__calloc(ws->type_count ? ws->type_count : 1,
                                             sizeof *changed);
    HOLLOW_CHECK_ALLOC(changed);
    size_t k = 0;
    for (size_t i = 0; i < ws->type_count; i++) {
        hollow__wtype *t = &ws->types[i];
        if (hollow__wbits_differ(hollow__wcur(t), hollow__wprev(t)) || shards_changed(ws, t))
            changed[k++] = t;
    }
    hollow__buf b = HOLLOW__BUF_INIT;
    int64_t tag = hollow_write_state_randomized_tag(ws);
    if (reverse)
        hollow__wheader(&b, ws, tag, ws->prev_tag, changed, k, &ws->prev_tags);
    else
        hollow__wheader(&b, ws, ws->prev_tag, tag, changed, k, &ws->tags);
    hollow__buf_vint(&b, (uint32_t)k);
    rc = hollow__wsections(&b, ws, changed, k, delta_section, reverse, fn,
                           payload);
    if (rc == 0)
        rc = hollow__wflush(&b, fn, payload, true);
    hollow__buf_free(&b);
    hollow__free(changed);
    ws->written = true;
    return rc;
}

int hollow_write_state_write_delta(hollow_write_state *ws, hollow_sink_fn fn,
                                   void *payload)
{
    return write_delta(ws, false, fn, payload);
}

int hollow_write_state_write_reverse_delta(hollow_write_state *ws,
                                           hollow_sink_fn fn, void *payload)
{
    return write_delta(ws, true, fn, payload);
}

int hollow_write_state_write_header(hollow_write_state *ws, hollow_sink_fn fn,
                                    void *payload)
{
    if (ws == NULL || fn == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    hollow__wtype **all = hollow__ws_type_list(ws);
    HOLLOW_CHECK_ALLOC(all);
    hollow__buf b = HOLLOW__BUF_INIT;
    int64_t tag = hollow_write_state_randomized_tag(ws);
    hollow__wheader(&b, ws, ws->has_history ? ws->prev_tag : -1, tag, all,
                    ws->type_count, &ws->tags);
    hollow__buf_vint(&b, (uint32_t)ws->type_count); /* §3.6 */
    int rc = hollow__wflush(&b, fn, payload, true);
    hollow__buf_free(&b);
    hollow__free(all);
    ws->written = true;
    return rc;
}
