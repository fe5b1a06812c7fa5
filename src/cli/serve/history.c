/*
 * The explorer's caches (serve.h): the states of past versions, the diffs
 * of version pairs and the key indexes.
 *
 * States: the consumer's listener keeps each state it publishes (the last
 * SERVE_STATES, least recently used out), so the diff of recent versions
 * and the history of a key usually need no blob at all. A version not
 * kept is loaded by a private consumer over the same store, walking
 * forward by deltas, under the `work` mutex (one slow load at a time;
 * the serving consumer is never involved, so it keeps refreshing).
 *
 * Diffs: computed once per (from, to) and kept (SERVE_DIFFS); a page of a
 * diff reads the kept result. Reference counted, so a request keeps its
 * diff while another evicts it.
 *
 * Indexes: per (type, path) the index of the state asked last, derived
 * (hollow_index_derive) when the state moves on, by the warmer thread
 * right after each refresh, so a lookup after a refresh finds it ready.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

void serve_caches_init(serve_ctx *ctx)
{
    pthread_mutex_init(&ctx->lock, NULL);
    pthread_mutex_init(&ctx->work, NULL);
    pthread_mutex_init(&ctx->ixwork, NULL);
    pthread_cond_init(&ctx->warm_cv, NULL);
}

static void diff_unref(serve_diff *d)
{
    if (d != NULL && --d->refs == 0) {
        hollow_diff_free(d->diff);
        free(d);
    }
}

void serve_caches_clear(serve_ctx *ctx)
{
    for (size_t i = 0; i < SERVE_DIFFS; i++) {
        diff_unref(ctx->diffs[i]);
        ctx->diffs[i] = NULL;
    }
    for (size_t i = 0; i < SERVE_STATES; i++) {
        hollow_read_state_release(ctx->states[i].rs);
        ctx->states[i].rs = NULL;
    }
    for (size_t i = 0; i < SERVE_INDEXES; i++) {
        hollow_index_release(ctx->indexes[i].ix);
        free(ctx->indexes[i].type);
        free(ctx->indexes[i].path);
        memset(&ctx->indexes[i], 0, sizeof ctx->indexes[i]);
    }
    pthread_mutex_destroy(&ctx->lock);
    pthread_mutex_destroy(&ctx->work);
    pthread_mutex_destroy(&ctx->ixwork);
    pthread_cond_destroy(&ctx->warm_cv);
}

/* ------------------------------------------------------------ states */

/* keep `rs` (one reference taken) as version `v`; under ctx->lock */
static void state_put_locked(serve_ctx *ctx, int64_t v,
                             const hollow_read_state *rs)
{
    size_t slot = 0;
    for (size_t i = 0; i < SERVE_STATES; i++) {
        if (ctx->states[i].rs != NULL && ctx->states[i].version == v) {
            ctx->states[i].used = ++ctx->clock;
            return;
        }
        if (ctx->states[i].rs == NULL ||
            (ctx->states[slot].rs != NULL &&
             ctx->states[i].used < ctx->states[slot].used))
            slot = i;
    }
    hollow_read_state_release(ctx->states[slot].rs);
    ctx->states[slot].rs = hollow_read_state_acquire(rs);
    ctx->states[slot].version = v;
    ctx->states[slot].used = ++ctx->clock;
}

void serve_on_refresh(const hollow_refresh_event *ev, void *payload)
{
    serve_ctx *ctx = payload;
    if (!ev->done || ev->result != 0 || ev->state == NULL)
        return;
    pthread_mutex_lock(&ctx->lock);
    state_put_locked(ctx, hollow_read_state_version(ev->state), ev->state);
    ctx->warm_version = hollow_read_state_version(ev->state);
    pthread_cond_signal(&ctx->warm_cv);
    pthread_mutex_unlock(&ctx->lock);
}

static hollow_read_state *state_cached(serve_ctx *ctx, int64_t v)
{
    hollow_read_state *rs = NULL;
    pthread_mutex_lock(&ctx->lock);
    for (size_t i = 0; i < SERVE_STATES; i++)
        if (ctx->states[i].rs != NULL && ctx->states[i].version == v) {
            ctx->states[i].used = ++ctx->clock;
            rs = hollow_read_state_acquire(ctx->states[i].rs);
            break;
        }
    pthread_mutex_unlock(&ctx->lock);
    if (rs == NULL) {
        hollow_read_state *cur = hollow_consumer_acquire_state(ctx->consumer);
        if (cur != NULL && hollow_read_state_version(cur) == v)
            return cur;
        hollow_read_state_release(cur);
    }
    return rs;
}

/*
 * The states of versions `vs[0..n)` (ascending) into `out`, from the cache
 * or loaded by a private consumer walking forward. Call with ctx->work
 * held. false with a message in `err` (the states got so far released).
 */
bool serve_states_get(serve_ctx *ctx, const int64_t *vs, size_t n,
                      hollow_read_state **out, char *err, size_t cap)
{
    hollow_consumer *walker = NULL;
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (size_t i = 0; i < n && ok; i++) {
        if ((out[i] = state_cached(ctx, vs[i])) != NULL)
            continue;
        if (walker == NULL) {
            hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
            co.blobstore = ctx->bs;
            co.threads = 1;
            if (hollow_consumer_new(&walker, &co) < 0) {
                snprintf(err, cap, "%s", hollow_error_last()->message);
                ok = false;
                break;
            }
        }
        if (hollow_consumer_refresh(walker, vs[i]) < 0) {
            snprintf(err, cap, "version %" PRId64 ": %s", vs[i],
                     hollow_error_last()->message);
            ok = false;
            break;
        }
        out[i] = hollow_consumer_acquire_state(walker);
        pthread_mutex_lock(&ctx->lock);
        state_put_locked(ctx, vs[i], out[i]);
        pthread_mutex_unlock(&ctx->lock);
    }
    hollow_consumer_free(walker);
    if (!ok)
        for (size_t i = 0; i < n; i++) {
            hollow_read_state_release(out[i]);
            out[i] = NULL;
        }
    return ok;
}

/* ------------------------------------------------------------ diffs */

serve_diff *serve_diff_get(serve_ctx *ctx, int64_t from, int64_t to, char *err,
                           size_t cap)
{
    serve_diff *d = NULL;
    for (int pass = 0; pass < 2; pass++) {
        pthread_mutex_lock(&ctx->lock);
        for (size_t i = 0; i < SERVE_DIFFS; i++)
            if (ctx->diffs[i] != NULL && ctx->diffs[i]->from == from &&
                ctx->diffs[i]->to == to) {
                d = ctx->diffs[i];
                d->refs++;
                d->used = ++ctx->clock;
                break;
            }
        pthread_mutex_unlock(&ctx->lock);
        if (d != NULL) {
            if (pass == 1)
                pthread_mutex_unlock(&ctx->work);
            return d;
        }
        if (pass == 0)
            pthread_mutex_lock(&ctx->work); /* then look again */
    }
    /* computed once: other requests for it wait on `work`, then find it */
    int64_t vs[2] = {from < to ? from : to, from < to ? to : from};
    hollow_read_state *st[2];
    if (!serve_states_get(ctx, vs, from == to ? 1 : 2, st, err, cap)) {
        pthread_mutex_unlock(&ctx->work);
        return NULL;
    }
    if (from == to)
        st[1] = hollow_read_state_acquire(st[0]);
    hollow_read_state *sf = from <= to ? st[0] : st[1];
    hollow_read_state *stt = from <= to ? st[1] : st[0];
    hollow_diff *hd = NULL;
    int rc = hollow_diff_new(&hd, sf, stt, NULL);
    hollow_read_state_release(st[0]);
    hollow_read_state_release(st[1]);
    if (rc < 0) {
        snprintf(err, cap, "the diff: %s", hollow_error_last()->message);
        pthread_mutex_unlock(&ctx->work);
        return NULL;
    }
    d = calloc(1, sizeof *d);
    if (d == NULL) {
        hollow_diff_free(hd);
        snprintf(err, cap, "out of memory");
        pthread_mutex_unlock(&ctx->work);
        return NULL;
    }
    d->from = from;
    d->to = to;
    d->diff = hd;
    d->refs = 2; /* the cache's and the caller's */
    pthread_mutex_lock(&ctx->lock);
    size_t slot = 0;
    for (size_t i = 0; i < SERVE_DIFFS; i++)
        if (ctx->diffs[i] == NULL ||
            (ctx->diffs[slot] != NULL &&
             ctx->diffs[i]->used < ctx->diffs[slot]->used))
            slot = i;
    diff_unref(ctx->diffs[slot]);
    ctx->diffs[slot] = d;
    d->used = ++ctx->clock;
    pthread_mutex_unlock(&ctx->lock);
    pthread_mutex_unlock(&ctx->work);
    return d;
}

void serve_diff_release(serve_ctx *ctx, serve_diff *d)
{
    pthread_mutex_lock(&ctx->lock);
    diff_unref(d);
    pthread_mutex_unlock(&ctx->lock);
}

/* ------------------------------------------------------------ indexes */

static bool same(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* the kept index for (type, path), one reference; under neither lock */
static hollow_index *index_cached(serve_ctx *ctx, const char *type,
                                  const char *path)
{
    hollow_index *ix = NULL;
    pthread_mutex_lock(&ctx->lock);
    for (size_t i = 0; i < SERVE_INDEXES; i++) {
        serve_index *e = &ctx->indexes[i];
        if (e->ix != NULL && strcmp(e->type, type) == 0 &&
            same(e->path, path)) {
            e->used = ++ctx->clock;
            ix = e->ix;
            hollow_index_acquire(ix);
            break;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return ix;
}

hollow_index *serve_index_get(serve_ctx *ctx, const hollow_read_state *rs,
                              const char *type, const char *path, char *err,
                              size_t cap)
{
    hollow_index *old = index_cached(ctx, type, path), *ix = NULL;
    if (old != NULL && hollow_index_state(old) == rs)
        return old;
    /* one derivation at a time: a request that comes while the warmer (or
     * another request) derives the index for this state waits for it and
     * finds it kept, instead of deriving it again */
    pthread_mutex_lock(&ctx->ixwork);
    hollow_index_release(old);
    old = index_cached(ctx, type, path);
    if (old != NULL && hollow_index_state(old) == rs) {
        pthread_mutex_unlock(&ctx->ixwork);
        return old;
    }
    int rc;
    if (old != NULL) {
        rc = hollow_index_derive(&ix, old, rs);
    } else if (path == NULL) {
        rc = hollow_index_primary_key_new(&ix, rs, type, NULL, 0);
    } else {
        const char *paths[1] = {path};
        rc = hollow_index_hash_new(&ix, rs, type, paths, 1);
    }
    hollow_index_release(old);
    if (rc < 0) {
        snprintf(err, cap, "%s", hollow_error_last()->message);
        pthread_mutex_unlock(&ctx->ixwork);
        return NULL;
    }
    /* kept for the state asked last: the next refresh derives from it by
     * one delta (or reverse delta), a patch */
    pthread_mutex_lock(&ctx->lock);
    size_t slot = 0;
    bool found = false;
    for (size_t i = 0; i < SERVE_INDEXES && !found; i++) {
        serve_index *e = &ctx->indexes[i];
        if (e->ix != NULL && strcmp(e->type, type) == 0 &&
            same(e->path, path)) {
            slot = i;
            found = true;
        } else if (e->ix == NULL || (ctx->indexes[slot].ix != NULL &&
                                     e->used < ctx->indexes[slot].used)) {
            slot = i;
        }
    }
    serve_index *e = &ctx->indexes[slot];
    char *t = found ? e->type : strdup(type);
    char *p = found ? e->path : path ? strdup(path) : NULL;
    if (t != NULL && (path == NULL || p != NULL)) {
        if (!found) {
            free(e->type);
            free(e->path);
        }
        hollow_index_release(e->ix);
        e->type = t;
        e->path = p;
        e->ix = ix;
        hollow_index_acquire(ix);
        e->used = ++ctx->clock;
    } else if (!found) {
        free(t);
        free(p);
    }
    pthread_mutex_unlock(&ctx->lock);
    pthread_mutex_unlock(&ctx->ixwork);
    return ix;
}

/* ------------------------------------------------------------ warmer */

/*
 * After a refresh, the warmer thread derives every kept index for the new
 * state, so that the first lookup after a refresh finds its index ready
 * rather than paying for the patch (or, for an index left two states
 * behind, a rebuild).
 */
static void *warm_main(void *arg)
{
    serve_ctx *ctx = arg;
    pthread_mutex_lock(&ctx->lock);
    for (;;) {
        while (!ctx->warm_stop && ctx->warm_version == 0)
            pthread_cond_wait(&ctx->warm_cv, &ctx->lock);
        if (ctx->warm_stop)
            break;
        ctx->warm_version = 0;
        pthread_mutex_unlock(&ctx->lock);
        hollow_read_state *rs = hollow_consumer_acquire_state(ctx->consumer);
        for (size_t i = 0; rs != NULL && i < SERVE_INDEXES; i++) {
            char type[256], path[256];
            bool has_path = false, have = false;
            pthread_mutex_lock(&ctx->lock);
            serve_index *e = &ctx->indexes[i];
            if (e->ix != NULL && strlen(e->type) < sizeof type &&
                (e->path == NULL || strlen(e->path) < sizeof path)) {
                snprintf(type, sizeof type, "%s", e->type);
                has_path = e->path != NULL;
                if (has_path)
                    snprintf(path, sizeof path, "%s", e->path);
                have = true;
            }
            pthread_mutex_unlock(&ctx->lock);
            char err[256];
            if (have && hollow_read_state_type(rs, type) != NULL)
                hollow_index_release(serve_index_get(
                    ctx, rs, type, has_path ? path : NULL, err, sizeof err));
        }
        hollow_read_state_release(rs);
        pthread_mutex_lock(&ctx->lock);
    }
    pthread_mutex_unlock(&ctx->lock);
    return NULL;
}

int serve_warmer_start(serve_ctx *ctx)
{
    if (pthread_create(&ctx->warm_thread, NULL, warm_main, ctx) != 0)
        return -1;
    ctx->warm_started = true;
    return 0;
}

void serve_warmer_stop(serve_ctx *ctx)
{
    if (!ctx->warm_started)
        return;
    pthread_mutex_lock(&ctx->lock);
    ctx->warm_stop = true;
    pthread_cond_signal(&ctx->warm_cv);
    pthread_mutex_unlock(&ctx->lock);
    pthread_join(ctx->warm_thread, NULL);
    ctx->warm_started = false;
}

bool serve_parse_key(hollow_value *vals, size_t *count, char *scratch,
                     size_t scratch_cap, const hollow_index *ix,
                     const char *key, char *err, size_t cap)
{
    size_t n = hollow_index_path_count(ix);
    size_t klen = strlen(key);
    if (klen >= scratch_cap) {
        snprintf(err, cap, "the key is too long");
        return false;
    }
    memcpy(scratch, key, klen + 1);
    char *p = scratch;
    for (size_t i = 0; i < n; i++) {
        /* several key fields: comma separated; the last takes the rest */
        char *part = p;
        if (i + 1 < n) {
            char *comma = strchr(p, ',');
            if (comma == NULL) {
                snprintf(err, cap,
                         "the key has %zu fields (%s...): give "
                         "them separated by commas",
                         n, hollow_index_path(ix, 0));
                return false;
            }
            *comma = '\0';
            p = comma + 1;
        }
        hollow_field_type ft = hollow_index_path_type(ix, i);
        char *end = NULL;
        errno = 0;
        switch (ft) {
        case HOLLOW_FIELD_INT: {
            long long x = strtoll(part, &end, 10);
            if (x < INT32_MIN || x > INT32_MAX)
                end = part;
            vals[i] = hollow_key_int((int32_t)x);
            break;
        }
        case HOLLOW_FIELD_LONG:
            vals[i] = hollow_key_long(strtoll(part, &end, 10));
            break;
        case HOLLOW_FIELD_FLOAT:
            vals[i] = hollow_key_float(strtof(part, &end));
            break;
        case HOLLOW_FIELD_DOUBLE:
            vals[i] = hollow_key_double(strtod(part, &end));
            break;
        case HOLLOW_FIELD_BOOLEAN:
            if (strcmp(part, "true") == 0 || strcmp(part, "false") == 0) {
                vals[i] = hollow_key_bool(part[0] == 't');
                end = part + strlen(part);
            }
            break;
        case HOLLOW_FIELD_STRING:
            vals[i] = hollow_key_string(part, strlen(part));
            end = part + strlen(part);
            break;
        default:
            snprintf(err, cap, "cannot look up by %s (a %s)",
                     hollow_index_path(ix, i), hollow_field_type_name(ft));
            return false;
        }
        if (end == NULL || (end == part && ft != HOLLOW_FIELD_STRING) ||
            *end != '\0' || errno == ERANGE) {
            snprintf(err, cap, "%s is a %s: '%s' is not one",
                     hollow_index_path(ix, i), hollow_field_type_name(ft),
                     part);
            return false;
        }
    }
    *count = n;
    return true;
}
