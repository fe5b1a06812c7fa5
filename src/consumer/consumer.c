/*
 * The consumer (architecture.md §4): refreshes by the planner's blob chain,
 * publishes each new read state through a hollow_state_holder (readers are
 * never blocked), optionally follows an announcer on its watcher thread.
 *
 * A refresh builds every intermediate state aside; only the final one is
 * published, and only when every step succeeded. If a step fails (a
 * delta that does not start from the state, a damaged or missing blob),
 * the refresh is planned again without what failed (see the loop in
 * hollow_consumer_refresh).
 *
 * The watcher: the announcer's worker thread calls announced(), which only
 * records the version and signals; the watcher thread does the refreshing,
 * so a slow refresh never holds up the announcer.
 */
#include "hollow/consumer.h"

#include <stdio.h>
#include <string.h>

#include "blob/blob_int.h"
#include "blobstore/blobstore_int.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/cell.h"
#include "common/error.h"
#include "common/log.h"
#include "common/thread.h"
#include "consumer_int.h"
#include "metrics/stats.h"
#include "plan.h"
#include "read/read_int.h"

/* an index the consumer keeps current, published in its own cell */
typedef struct kept_index {
    hollow_index_kind kind;
    char *type;
    char **paths;
    size_t count;
    hollow__cell cell;
} kept_index;

typedef struct listener {
    hollow_refresh_listener_fn fn;
    void *payload;
} listener;

struct hollow_consumer {
    hollow_consumer_options opts;
    char **filter;                 /* owned copy of the type filter */
    hollow_state_holder *holder;
    hollow__mutex refresh_mu;      /* one refresh at a time */
    hollow__mutex mu;              /* everything below */
    hollow__cond cond;             /* watcher wake-ups and version waits */
    int64_t pinned;                /* 0 = not pinned */
    bool pending;                  /* the watcher has work */
    uint64_t heard;                /* announcements heard */
    uint64_t handled;              /* of those, how many the watcher acted on */
    bool stop;
    int last_error;
    char last_msg[256];
    listener *listeners;
    size_t listener_count;
    hollow__thread watcher;
    bool watcher_started;
    hollow_subscription_id sub;
    /* kept indexes: appended under refresh_mu, read by anyone (the count
     * is published after the slot is filled) */
    kept_index *indexes[HOLLOW_CONSUMER_MAX_INDEXES];
    atomic_size_t index_count;
    hollow__consumer_counters counters; /* hollow_consumer_stats_get() */
};

static void retain_index(void *ix) { hollow_index_acquire(ix); }
static void release_index(void *ix) { hollow_index_release(ix); }

static int build_index(hollow_index **out, const kept_index *k,
                       const hollow_read_state *rs)
{
    /* no paths: the type's @PrimaryKey (primary key indexes) */
    const char *const *paths = k->count ? (const char *const *)k->paths : NULL;
    switch (k->kind) {
    case HOLLOW_INDEX_PRIMARY_KEY:
        return hollow_index_primary_key_new(out, rs, k->type, paths, k->count);
    case HOLLOW_INDEX_UNIQUE_KEY:
        return hollow_index_unique_key_new(out, rs, k->type, paths, k->count);
    default:
        return hollow_index_hash_new(out, rs, k->type, paths, k->count);
    }
}

/* every kept index for `next`, derived from the published ones */
static int derive_indexes(hollow_index **out, hollow_consumer *c,
                          const hollow_read_state *next)
{
    int rc = 0;
    size_t n = atomic_load(&c->index_count);
    for (size_t i = 0; i < n && rc == 0; i++) {
        kept_index *k = c->indexes[i];
        hollow_index *old = hollow__cell_acquire(&k->cell);
        rc = old != NULL ? hollow_index_derive(&out[i], old, next)
                         : build_index(&out[i], k, next);
        hollow_index_release(old);
        if (rc < 0)
            hollow__error_prefix("index of %s", k->type);
    }
    if (rc < 0)
        for (size_t i = 0; i < n; i++) {
            hollow_index_release(out[i]);
            out[i] = NULL;
        }
    return rc;
}

/* ------------------------------------------------------------ loading */

static int fetch(uint8_t **out, size_t *len, hollow_blobstore *bs,
                 const hollow_blob_key *key)
{
    hollow_stream *s = NULL;
    int rc = hollow_blobstore_get(&s, bs, key);
    if (rc < 0)
        return rc;
    rc = hollow__stream_read_all(out, len, s);
    hollow_stream_close(s);
    return rc;
}

static int load_snapshot(hollow_read_state **out, hollow_consumer *c,
                         const hollow_blob_key *key)
{
    hollow_read_options ro = HOLLOW_READ_OPTIONS_INIT;
    ro.type_filter = (const char *const *)c->filter;
    if (c->opts.memory_mode == HOLLOW_MEMORY_MMAP) {
        char path[4096];
        int rc = hollow_blobstore_get_file(path, sizeof path,
                                           c->opts.blobstore, key);
        if (rc == 0) {
            ro.memory_mode = HOLLOW_MEMORY_MMAP;
            return hollow_read_state_open(out, path, &ro);
        }
        if (rc != HOLLOW_ENOTSUPPORTED)
            return rc; /* a store with files that failed: not a fallback */
        hollow_error_clear(); /* a store without files: read it into memory */
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = fetch(&data, &len, c->opts.blobstore, key);
    if (rc == 0)
        rc = hollow_read_state_from_snapshot(out, data, len, &ro);
    hollow__free(data);
    return rc;
}

/* the plan as listeners see it, every step named (replaces *out, which
 * stays NULL only when out of memory) */
static void describe(char **out, const hollow__plan *p)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    for (size_t i = 0; i < p->count; i++) {
        char name[HOLLOW_BLOB_NAME_MAX];
        hollow_blob_key_name(name, sizeof name, &p->steps[i]);
        hollow__buf_printf(&b, "%s%s", i ? ", " : "", name);
    }
    if (p->count == 0)
        hollow__buf_puts(&b, "nothing to do");
    hollow__free(*out);
    if ((*out = hollow__buf_cstr(&b)) == NULL)
        hollow__buf_free(&b);
}

/* what listeners get when describe() ran out of memory, or before a plan */
#define PLAN_TEXT(desc) ((desc) != NULL ? (desc) : "")

/* run a plan from `base` (may be NULL); *out is the final state, *failed
 * the step that failed */
static int run_plan(hollow_read_state **out, hollow_consumer *c,
                    hollow_read_state *base, const hollow__plan *p,
                    size_t *failed)
{
    hollow_read_state *rs = base;
    if (rs != NULL)
        hollow_read_state_acquire(rs);
    int rc = 0;
    for (size_t i = 0; i < p->count && rc == 0; i++) {
        const hollow_blob_key *k = &p->steps[i];
        hollow_read_state *next = NULL;
        if (k->kind == HOLLOW_BLOB_SNAPSHOT) {
            rc = load_snapshot(&next, c, k);
        } else {
            uint8_t *data = NULL;
            size_t len = 0;
            rc = rs == NULL ? hollow__error_set(HOLLOW_ECHAIN, "a delta without "
                                                "a state to apply it to")
                            : fetch(&data, &len, c->opts.blobstore, k);
            if (rc == 0)
                rc = hollow__delta_apply(&next, rs, data, len, c->opts.threads);
            if (rc == 0 && (rc = hollow__read_state_settle(next)) < 0) {
                hollow_read_state_release(next);
                next = NULL;
            }
            hollow__free(data);
        }
        if (rc < 0) {
            char name[HOLLOW_BLOB_NAME_MAX];
            hollow_blob_key_name(name, sizeof name, k);
            hollow__error_prefix("%s", name);
            *failed = i;
            break;
        }
        hollow__read_state_set_version(next, k->version);
        hollow_read_state_release(rs);
        rs = next;
    }
    if (rc < 0) {
        hollow_read_state_release(rs);
        return rc;
    }
    *out = rs;
    return 0;
}

/* ------------------------------------------------------------ changes */

static int count_change(void *ctx, hollow_ordinal o, unsigned what)
{
    hollow_type_change *ch = ctx;
    (void)o;
    if (what == HOLLOW__ORD_ADDED)
        ch->added++;
    else
        ch->removed++;
    return 0;
}

/* what changed per type between two states (read/changed.c's walk) */
static hollow_type_change *changes_of(size_t *count, const hollow_read_state *old,
                                      const hollow_read_state *now)
{
    hollow_type_change *ch = hollow__calloc(now->type_count ? now->type_count : 1,
                                            sizeof *ch);
    if (ch == NULL)
        return NULL;
    for (size_t i = 0; i < now->type_count; i++) {
        const hollow_type *t = &now->types[i];
        const hollow_type *o = old ? hollow_read_state_type(old, t->schema->name)
                                   : NULL;
        ch[i].type = t->schema->name;
        if (o == NULL) {
            ch[i].added = t->count;
            continue;
        }
        hollow__type_changed_ordinals(NULL, o, t,
                                      HOLLOW__ORD_ADDED | HOLLOW__ORD_REMOVED,
                                      count_change, &ch[i]);
    }
    *count = now->type_count;
    return ch;
}

/*
 * Listeners run with refresh_mu held, so a listener that calls a function
 * taking it (refresh, pin, add_listener, add_index) on the same consumer
 * would wait for itself. Each thread keeps the consumers whose listeners
 * it is running (a stack: a listener may refresh another consumer, whose
 * listener...), and those entry points refuse with HOLLOW_ESTATE instead.
 */
typedef struct notifying {
    const hollow_consumer *c;
    struct notifying *up;
} notifying;

static _Thread_local notifying *tl_notifying;

static bool in_listener(const hollow_consumer *c)
{
    for (const notifying *n = tl_notifying; n != NULL; n = n->up)
        if (n->c == c)
            return true;
    return false;
}

static int reentry_error(const char *call)
{
    return hollow__error_set(HOLLOW_ESTATE, "%s called from a refresh listener "
                             "of the same consumer: it would wait for the "
                             "refresh that runs the listener", call);
}

static void notify(hollow_consumer *c, const hollow_refresh_event *ev)
{
    notifying frame = {c, tl_notifying};
    tl_notifying = &frame;
    for (size_t i = 0; i < c->listener_count; i++)
        c->listeners[i].fn(ev, c->listeners[i].payload);
    tl_notifying = frame.up;
}

/* ------------------------------------------------------------ refresh */

static int latest_version(int64_t *out, hollow_consumer *c,
                          const hollow__catalog *cat)
{
    hollow__mutex_lock(&c->mu);
    int64_t pinned = c->pinned;
    hollow__mutex_unlock(&c->mu);
    if (pinned > 0) {
        *out = pinned;
        return 0;
    }
    if (c->opts.announcer != NULL) {
        int rc = hollow_announcer_latest(out, c->opts.announcer);
        if (rc < 0)
            return rc;
        if (*out <= 0)
            return hollow__error_set(HOLLOW_ENOTFOUND, "nothing announced yet");
        return 0;
    }
    *out = hollow__catalog_latest(cat);
    if (*out <= 0)
        return hollow__error_set(HOLLOW_ENOTFOUND, "the blob store is empty");
    return 0;
}

static int refresh(hollow_consumer *c, int64_t version,
                   hollow__refresh_outcome *outcome)
{
    if (c == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    if (in_listener(c))
        return reentry_error("hollow_consumer_refresh");
    hollow__mutex_lock(&c->refresh_mu);
    outcome->start_us = hollow__stats_now_us();
    hollow__catalog cat;
    hollow__plan plan = {0};
    hollow_read_state *cur = hollow_state_holder_acquire(c->holder);
    hollow_read_state *next = NULL;
    int64_t from = cur ? hollow_read_state_version(cur) : 0;
    bool refreshed = false;
    char *desc = NULL;
    int rc = hollow__catalog_load(&cat, c->opts.blobstore);
    if (rc == 0 && version == HOLLOW_VERSION_LATEST &&
        (rc = latest_version(&version, c, &cat)) == HOLLOW_ENOTFOUND)
        outcome->kind = HOLLOW__REFRESH_NOTHING_YET;
    if (rc < 0)
        goto done;
    if (version == from && cur != NULL)
        goto done; /* already there */
    uint32_t limit = c->opts.double_snapshot_limit ? c->opts.double_snapshot_limit
                                                   : 32;
    /*
     * When a plan fails the next is tried: a blob that cannot be read (a
     * damaged one, one deleted meanwhile) is left out; after a chain from
     * our state that does not fit, a snapshot; after a snapshot whose
     * chain does not fit (a randomized-tag mismatch), another snapshot.
     * Only when no plan is left does the refresh fail, with the first
     * failure's error.
     */
    bool allow_chain = true, started = false;
    int first_rc = 0;
    char first_msg[512] = "";
    for (int attempt = 0; attempt < 64; attempt++) {
        hollow__plan_free(&plan);
        rc = hollow__plan_make(&plan, &cat, from, version, limit, allow_chain);
        if (rc < 0)
            break;
        describe(&desc, &plan);
        if (!started) {
            hollow_refresh_event ev = {from, version, false, 0, PLAN_TEXT(desc),
                                       NULL, 0, NULL};
            notify(c, &ev);
            started = true;
        }
        bool chain = plan.count > 0 && plan.steps[0].kind != HOLLOW_BLOB_SNAPSHOT;
        size_t failed = 0;
        rc = run_plan(&next, c, chain ? cur : NULL, &plan, &failed);
        if (rc == 0 || (rc != HOLLOW_ECHAIN && rc != HOLLOW_ECORRUPT &&
                        rc != HOLLOW_EIO && rc != HOLLOW_ENOTFOUND &&
                        rc != HOLLOW_EVERSION))
            break;
        if (first_rc == 0) {
            first_rc = rc;
            snprintf(first_msg, sizeof first_msg, "%s",
                     hollow_error_last()->message);
        }
        if (chain)
            allow_chain = false; /* the chain may not fit our state at all */
        else if (rc == HOLLOW_ECHAIN)
            /* a delta that does not fit what the snapshot gave: take
             * another snapshot (a stale one, under a reused name, is the
             * usual cause) */
            hollow__catalog_remove(&cat, &plan.steps[0]);
        if (rc != HOLLOW_ECHAIN)
            hollow__catalog_remove(&cat, &plan.steps[failed]);
    }
    if (rc < 0 && first_rc != 0) {
        /* report the blob that failed, not that nothing else was left */
        rc = hollow__error_set(first_rc, "%s (no other plan reaches version "
                               "%lld)", first_msg, (long long)version);
    }
    hollow_index **ixs = NULL;
    size_t nix = atomic_load(&c->index_count);
    if (rc == 0 && nix > 0) {
        ixs = hollow__calloc(nix, sizeof *ixs);
        rc = ixs == NULL ? hollow__error_oom() : derive_indexes(ixs, c, next);
    }
    if (rc == 0) {
        size_t nch = 0;
        hollow_type_change *ch = changes_of(&nch, cur, next);
        /* the indexes first: each answers for its own state anyway */
        for (size_t i = 0; i < nix; i++)
            hollow__cell_publish(&c->indexes[i]->cell, ixs[i]);
        hollow_read_state_acquire(next);
        hollow_state_holder_publish(c->holder, next);
        hollow_refresh_event ev = {from, version, true, 0, PLAN_TEXT(desc), ch,
                                   ch ? nch : 0, next};
        notify(c, &ev);
        refreshed = true;
        outcome->kind = (int)hollow__refresh_kind_of(plan.steps, plan.count,
                                                     cur != NULL);
        hollow__free(ch);
        hollow__mutex_lock(&c->mu);
        hollow__cond_broadcast(&c->cond);
        hollow__mutex_unlock(&c->mu);
    } else {
        char msg[512]; /* the size of the thread's error message */
        snprintf(msg, sizeof msg, "%s", hollow_error_last()->message);
        hollow_refresh_event ev = {from, version, true, rc, PLAN_TEXT(desc), NULL,
                                   0, NULL};
        notify(c, &ev);
        hollow__error_set(rc, "%s", msg); /* listeners may have clobbered it */
    }
    hollow__free(ixs);
done:
    hollow_read_state_release(next);
    hollow_read_state_release(cur);
    hollow__plan_free(&plan);
    hollow__catalog_free(&cat);
    hollow__mutex_unlock(&c->refresh_mu);
    /* outside the lock: the log callback may call into this consumer */
    if (refreshed)
        hollow__log(HOLLOW_LOG_INFO, "consumer refreshed %lld -> %lld: %s",
                    (long long)from, (long long)version, PLAN_TEXT(desc));
    hollow__free(desc);
    return rc;
}

/* every refresh (the watcher's and pin's too) is counted here */
int hollow_consumer_refresh(hollow_consumer *c, int64_t version)
{
    hollow__refresh_outcome o = {-1, 0};
    int rc = refresh(c, version, &o);
    if (c != NULL)
        hollow__consumer_counters_record(&c->counters, rc, &o);
    return rc;
}

hollow__consumer_counters *hollow__consumer_counters_of(hollow_consumer *c)
{
    return &c->counters;
}

int64_t hollow_consumer_version(hollow_consumer *c)
{
    if (c == NULL)
        return 0;
    hollow_read_state *rs = hollow_state_holder_acquire(c->holder);
    int64_t v = rs ? hollow_read_state_version(rs) : 0;
    hollow_read_state_release(rs);
    return v;
}

hollow_read_state *hollow_consumer_acquire_state(hollow_consumer *c)
{
    if (c == NULL)
        return NULL;
    return hollow_state_holder_acquire(c->holder);
}

/* ------------------------------------------------------------ watcher */

static int announced(int64_t version, void *payload)
{
    hollow_consumer *c = payload;
    (void)version; /* the refresh reads the latest itself */
    hollow__mutex_lock(&c->mu);
    c->heard++;
    c->pending = true;
    hollow__cond_broadcast(&c->cond);
    hollow__mutex_unlock(&c->mu);
    return 0;
}

static bool nothing_announced(hollow_consumer *c)
{
    hollow__mutex_lock(&c->mu);
    bool pinned = c->pinned > 0;
    hollow__mutex_unlock(&c->mu);
    int64_t v = 0;
    int rc = hollow_announcer_latest(&v, c->opts.announcer);
    return !pinned && (rc == HOLLOW_ENOTFOUND || (rc == 0 && v <= 0));
}

/*
 * Nobody else hears of a failure on the watcher thread (but through
 * hollow_consumer_last_error()): the published state stays, and the next
 * announcement tries again. Waiting for a first announcement is no failure.
 */
static void log_watcher_failure(hollow_consumer *c, int rc)
{
    if (!hollow__log_enabled(HOLLOW_LOG_WARN))
        return;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", hollow_error_last()->message);
    bool waiting = rc == HOLLOW_ENOTFOUND && nothing_announced(c);
    hollow__log(waiting ? HOLLOW_LOG_DEBUG : HOLLOW_LOG_WARN,
                "consumer watcher: refresh failed (%s): %s",
                hollow_strerror(rc), msg);
}

static void *watch(void *arg)
{
    hollow_consumer *c = arg;
    for (;;) {
        hollow__mutex_lock(&c->mu);
        while (!c->pending && !c->stop)
            hollow__cond_wait(&c->cond, &c->mu);
        if (c->stop) {
            hollow__mutex_unlock(&c->mu);
            break;
        }
        c->pending = false;
        uint64_t taken = c->heard;
        hollow__mutex_unlock(&c->mu);
        /* the target (pinned, else announced) is read inside the refresh,
         * under its lock, so a pin made meanwhile is never undone */
        int rc = hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST);
        hollow__mutex_lock(&c->mu);
        c->handled = taken;
        c->last_error = rc < 0 ? rc : 0;
        if (rc < 0)
            snprintf(c->last_msg, sizeof c->last_msg, "%s",
                     hollow_error_last()->message);
        hollow__cond_broadcast(&c->cond);
        hollow__mutex_unlock(&c->mu);
        if (rc < 0)
            log_watcher_failure(c, rc);
    }
    return NULL;
}

bool hollow__consumer_wait_watcher(hollow_consumer *c, int timeout_ms)
{
    struct timespec deadline = hollow__deadline_ms(timeout_ms);
    hollow__mutex_lock(&c->mu);
    uint64_t n = c->heard;
    bool timed_out = false;
    while (c->handled < n && !timed_out)
        timed_out = hollow__cond_wait_until(&c->cond, &c->mu, &deadline);
    bool ok = c->handled >= n;
    hollow__mutex_unlock(&c->mu);
    return ok;
}

int hollow_consumer_last_error(hollow_consumer *c, char *msg, size_t cap)
{
    HOLLOW__ARG_NOT_NULL(c);
    hollow__mutex_lock(&c->mu);
    int rc = c->last_error;
    if (msg != NULL && cap > 0)
        snprintf(msg, cap, "%s", rc ? c->last_msg : "");
    hollow__mutex_unlock(&c->mu);
    return rc;
}

int hollow_consumer_wait_for_version(hollow_consumer *c, int64_t version,
                                     int timeout_ms)
{
    HOLLOW__ARG_NOT_NULL(c);
    if (in_listener(c) && hollow_consumer_version(c) < version)
        return hollow__error_set(HOLLOW_ESTATE, "hollow_consumer_wait_for_"
                                 "version called from a refresh listener of "
                                 "the same consumer: version %lld cannot come "
                                 "before the listener returns",
                                 (long long)version);
    struct timespec deadline = hollow__deadline_ms(timeout_ms);
    hollow__mutex_lock(&c->mu);
    for (;;) {
        hollow__mutex_unlock(&c->mu);
        int64_t v = hollow_consumer_version(c);
        hollow__mutex_lock(&c->mu);
        if (v >= version)
            break;
        if (hollow__cond_wait_until(&c->cond, &c->mu, &deadline)) {
            hollow__mutex_unlock(&c->mu);
            if (hollow_consumer_version(c) >= version)
                return 0;
            return hollow__error_set(HOLLOW_ENOTFOUND,
                                     "timed out waiting for version %lld",
                                     (long long)version);
        }
    }
    hollow__mutex_unlock(&c->mu);
    return 0;
}

int hollow_consumer_pin(hollow_consumer *c, int64_t version)
{
    HOLLOW__ARG_NOT_NULL(c);
    if (version <= 0)
        return hollow__error_set(HOLLOW_EINVAL, "cannot pin version %lld",
                                 (long long)version);
    if (in_listener(c))
        return reentry_error("hollow_consumer_pin");
    hollow__mutex_lock(&c->mu);
    int64_t was = c->pinned;
    c->pinned = version;
    hollow__mutex_unlock(&c->mu);
    int rc = hollow_consumer_refresh(c, version);
    if (rc < 0) { /* a version we cannot reach: stay as we were */
        hollow__mutex_lock(&c->mu);
        c->pinned = was;
        hollow__mutex_unlock(&c->mu);
    }
    return rc;
}

int hollow_consumer_unpin(hollow_consumer *c)
{
    HOLLOW__ARG_NOT_NULL(c);
    hollow__mutex_lock(&c->mu);
    c->pinned = 0;
    bool follow = c->watcher_started;
    if (follow) {
        c->pending = true;
        hollow__cond_broadcast(&c->cond);
    }
    hollow__mutex_unlock(&c->mu);
    return 0;
}

static void kept_free(kept_index *k)
{
    if (k == NULL)
        return;
    hollow__cell_destroy(&k->cell);
    for (size_t i = 0; i < k->count; i++)
        hollow__free(k->paths[i]);
    hollow__free(k->paths);
    hollow__free(k->type);
    hollow__free(k);
}

int hollow_consumer_add_index(int *handle, hollow_consumer *c,
                              hollow_index_kind kind, const char *type,
                              const char *const *paths, size_t count)
{
    if (handle == NULL || c == NULL || type == NULL || (count > 0 && paths == NULL))
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    if (kind != HOLLOW_INDEX_PRIMARY_KEY && kind != HOLLOW_INDEX_UNIQUE_KEY &&
        kind != HOLLOW_INDEX_HASH)
        return hollow__error_set(HOLLOW_EINVAL, "unknown index kind %d",
                                 (int)kind);
    if (in_listener(c))
        return reentry_error("hollow_consumer_add_index");
    kept_index *k = hollow__calloc(1, sizeof *k);
    HOLLOW_CHECK_ALLOC(k);
    k->kind = kind;
    k->type = hollow__strdup(type);
    k->paths = hollow__calloc(count ? count : 1, sizeof *k->paths);
    int rc = k->type && k->paths ? 0 : hollow__error_oom();
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if ((k->paths[i] = hollow__strdup(paths[i])) == NULL)
            rc = hollow__error_oom();
        k->count = i + 1;
    }
    if (rc == 0 && hollow__cell_init(&k->cell, retain_index, release_index) != 0)
        rc = hollow__error_set(HOLLOW_ERROR, "cannot create a mutex");
    if (rc < 0) {
        hollow__free(k->type);
        for (size_t i = 0; i < k->count; i++)
            hollow__free(k->paths[i]);
        hollow__free(k->paths);
        hollow__free(k);
        return rc;
    }
    hollow__mutex_lock(&c->refresh_mu);
    hollow_read_state *cur = hollow_state_holder_acquire(c->holder);
    hollow_index *ix = NULL;
    if (cur != NULL && (rc = build_index(&ix, k, cur)) == 0)
        hollow__cell_publish(&k->cell, ix);
    hollow_read_state_release(cur);
    size_t n = atomic_load(&c->index_count);
    if (rc == 0 && n == sizeof c->indexes / sizeof *c->indexes)
        rc = hollow__error_set(HOLLOW_ERANGE, "a consumer keeps at most %zu "
                               "indexes", n);
    if (rc == 0) {
        c->indexes[n] = k;
        *handle = (int)n;
        atomic_store(&c->index_count, n + 1); /* publishes the slot */
    }
    hollow__mutex_unlock(&c->refresh_mu);
    if (rc < 0)
        kept_free(k);
    return rc;
}

hollow_index *hollow_consumer_acquire_index(hollow_consumer *c, int handle)
{
    if (c == NULL)
        return NULL;
    /* slots below the count are filled and never change */
    size_t n = atomic_load(&c->index_count);
    kept_index *k = handle >= 0 && (size_t)handle < n ? c->indexes[handle] : NULL;
    return k ? hollow__cell_acquire(&k->cell) : NULL;
}

int hollow_consumer_add_listener(hollow_consumer *c, hollow_refresh_listener_fn fn,
                                 void *payload)
{
    HOLLOW__ARG_NOT_NULL(c);
    HOLLOW__ARG_NOT_NULL(fn);
    if (in_listener(c))
        return reentry_error("hollow_consumer_add_listener");
    /* refreshes read the listeners under refresh_mu */
    hollow__mutex_lock(&c->refresh_mu);
    listener *l = hollow__reallocarray(c->listeners, c->listener_count + 1,
                                       sizeof *l);
    if (l != NULL) {
        c->listeners = l;
        l[c->listener_count].fn = fn;
        l[c->listener_count].payload = payload;
        c->listener_count++;
    }
    hollow__mutex_unlock(&c->refresh_mu);
    return l != NULL ? 0 : hollow__error_oom();
}

/* ------------------------------------------------------------ life */

static void free_filter(char **f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; f[i] != NULL; i++)
        hollow__free(f[i]);
    hollow__free(f);
}

int hollow_consumer_new(hollow_consumer **out, const hollow_consumer_options *opts)
{
    if (out == NULL || opts == NULL || opts->blobstore == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "a consumer needs a blob store");
    *out = NULL;
    if (opts->version != HOLLOW_CONSUMER_OPTIONS_VERSION)
        return hollow__check_options_version("consumer", opts->version,
                                             HOLLOW_CONSUMER_OPTIONS_VERSION);
    if (opts->memory_mode != HOLLOW_MEMORY_HEAP &&
        opts->memory_mode != HOLLOW_MEMORY_MMAP)
        return hollow__error_set(HOLLOW_EINVAL, "unknown memory mode %d",
                                 (int)opts->memory_mode);
    if (opts->follow && opts->announcer == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "following needs an announcer");
    hollow_consumer *c = hollow__calloc(1, sizeof *c);
    HOLLOW_CHECK_ALLOC(c);
    c->opts = *opts;
    atomic_init(&c->index_count, 0);
    int rc = 0;
    if (opts->type_filter != NULL) {
        size_t n = 0;
        while (opts->type_filter[n] != NULL)
            n++;
        c->filter = hollow__calloc(n + 1, sizeof *c->filter);
        for (size_t i = 0; c->filter != NULL && i < n; i++)
            if ((c->filter[i] = hollow__strdup(opts->type_filter[i])) == NULL) {
                free_filter(c->filter);
                c->filter = NULL;
            }
        if (c->filter == NULL) {
            hollow__free(c);
            return hollow__error_oom();
        }
    }
    c->opts.type_filter = NULL;
    if ((rc = hollow_state_holder_new(&c->holder)) < 0) {
        free_filter(c->filter);
        hollow__free(c);
        return rc;
    }
    hollow__mutex_init(&c->refresh_mu);
    hollow__mutex_init(&c->mu);
    hollow__cond_init(&c->cond);
    if (opts->listener != NULL &&
        (rc = hollow_consumer_add_listener(c, opts->listener,
                                           opts->listener_payload)) < 0) {
        hollow_consumer_free(c);
        return rc;
    }
    if (opts->follow) {
        c->pending = true; /* a first refresh to whatever is announced */
        if (hollow__thread_create(&c->watcher, watch, c) != 0) {
            hollow_consumer_free(c);
            return hollow__error_set(HOLLOW_ERROR, "cannot start the watcher");
        }
        c->watcher_started = true;
        rc = hollow_announcer_subscribe(&c->sub, c->opts.announcer, announced, c);
        if (rc < 0) {
            hollow_consumer_free(c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

void hollow_consumer_free(hollow_consumer *c)
{
    if (c == NULL)
        return;
    if (c->sub != 0)
        hollow_announcer_unsubscribe(c->opts.announcer, c->sub);
    if (c->watcher_started) {
        hollow__mutex_lock(&c->mu);
        c->stop = true;
        hollow__cond_broadcast(&c->cond);
        hollow__mutex_unlock(&c->mu);
        hollow__thread_join(c->watcher);
    }
    for (size_t i = 0; i < atomic_load(&c->index_count); i++)
        kept_free(c->indexes[i]);
    hollow_state_holder_free(c->holder);
    hollow__cond_destroy(&c->cond);
    hollow__mutex_destroy(&c->mu);
    hollow__mutex_destroy(&c->refresh_mu);
    hollow__free(c->listeners);
    free_filter(c->filter);
    hollow__free(c);
}
