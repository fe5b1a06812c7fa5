/*
 * The producer (architecture.md §4, blob-format.md §10.7, §13): cycles over
 * a write state that publish a version's blobs and announce it.
 *
 * A cycle: start the write state's cycle, set Java's header tags, let the
 * caller populate, decide whether anything changed, write the blobs into
 * memory, check them (the previous state plus the delta must hold the
 * snapshot's records, or give the write state's checksum when there is no
 * snapshot; the reverse delta must lead back), run the validators on the
 * new state, put the blobs (header, delta, reverse delta, snapshot: Java's
 * order; with threads, beside the check and the validators, the header
 * first), and announce once all of that succeeded. Any failure before
 * the announcement rolls the write state back and deletes the blobs the
 * cycle wrote, so the next cycle starts from the last announced version
 * again.
 *
 * One linear history (issue 12): a cycle first takes the lease (by
 * default), restores from the announced version if another producer
 * announced since our last version, mints above every version the store
 * names, claims that name by creating the header blob exclusively, and
 * announces with announce_if (only while its base is still announced and
 * it holds the lease).
 */
#include "hollow/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blob/blob_int.h"
#include "blobstore/blobstore_int.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/thread.h"
#include "hollow/consumer.h"
#include "lease.h"
#include "metrics/stats.h"
#include "read/read_int.h"

typedef struct validator {
    hollow_validator_fn fn;
    void *payload;
} validator;

typedef struct app_tag {
    char *key, *value;
} app_tag;

struct hollow_producer {
    hollow_producer_options opts;
    hollow_schema_list *schemas;
    hollow_write_state *ws;
    hollow_read_state *state;    /* the last announced version's state */
    size_t snap_hint;            /* the last snapshot's size */
    int64_t version;             /* last announced (or restored), 0 none */
    uint64_t chain_counter;      /* hollow.delta.chain.version.counter */
    uint32_t since_snapshot;     /* versions written since the last snapshot */
    bool ran;                    /* a cycle ran (restore is then refused) */
    bool after_restore;          /* the next cycle is the first after one */
    bool schema_changed;         /* after a restore with another data model */
    validator *validators;
    size_t validator_count;
    app_tag *tags;
    size_t tag_count;
    hollow__lease *lease;
    bool lease_default;          /* no ttl given: dropped if unsupported */
    bool listed;                 /* the store's largest version was read */
    hollow_producer_blob last[HOLLOW_PRODUCER_MAX_BLOBS]; /* last cycle's */
    size_t last_count;
    hollow__producer_counters counters; /* hollow_producer_stats_get() */
};

/* ------------------------------------------------------------- minting */

int64_t hollow_version_mint_default(int64_t previous, void *payload)
{
    (void)payload;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int64_t stamp = (int64_t)(tm.tm_year + 1900) * 10000000000LL +
                    (int64_t)(tm.tm_mon + 1) * 100000000LL +
                    (int64_t)tm.tm_mday * 1000000LL + tm.tm_hour * 10000LL +
                    tm.tm_min * 100LL + tm.tm_sec;
    int64_t v = stamp * 1000 + 1;
    return v > previous ? v : previous + 1;
}

/* ------------------------------------------------------------- life */

int hollow_producer_new(hollow_producer **out, const hollow_producer_options *opts)
{
    if (out == NULL || opts == NULL || opts->blobstore == NULL ||
        opts->schemas == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "a producer needs a blob store and schemas");
    *out = NULL;
    if (opts->version != HOLLOW_PRODUCER_OPTIONS_VERSION)
        return hollow__check_options_version("producer", opts->version,
                                             HOLLOW_PRODUCER_OPTIONS_VERSION);
    hollow_producer *p = hollow__calloc(1, sizeof *p);
    HOLLOW_CHECK_ALLOC(p);
    p->opts = *opts;
    p->opts.schemas = NULL;
    int rc = hollow_schema_list_new(&p->schemas);
    for (size_t i = 0; rc == 0 && i < hollow_schema_list_count(opts->schemas); i++) {
        hollow_schema *s = NULL;
        rc = hollow_schema_clone(&s, hollow_schema_list_get(opts->schemas, i));
        if (rc == 0)
            rc = hollow_schema_list_add(p->schemas, s);
    }
    if (rc == 0)
        rc = hollow_write_state_new(&p->ws, p->schemas, &opts->write);
    /* single producer by default wherever there is an announcer to hold
     * the lease; a negative ttl opts out */
    int64_t ttl = opts->lease_ttl_ms;
    if (ttl == 0 && opts->announcer != NULL) {
        ttl = HOLLOW_PRODUCER_DEFAULT_LEASE_TTL_MS;
        p->lease_default = true;
    }
    if (rc == 0 && ttl > 0)
        rc = hollow__lease_new(&p->lease, opts->announcer, opts->blobstore,
                               opts->lease_owner, ttl);
    if (rc < 0) {
        hollow_producer_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void hollow_producer_free(hollow_producer *p)
{
    if (p == NULL)
        return;
    hollow__lease_free(p->lease);
    hollow_write_state_free(p->ws);
    hollow_schema_list_free(p->schemas);
    hollow_read_state_release(p->state);
    for (size_t i = 0; i < p->tag_count; i++) {
        hollow__free(p->tags[i].key);
        hollow__free(p->tags[i].value);
    }
    hollow__free(p->tags);
    hollow__free(p->validators);
    hollow__free(p);
}

int hollow_producer_add_validator(hollow_producer *p, hollow_validator_fn fn,
                                  void *payload)
{
    HOLLOW__ARG_NOT_NULL(p);
    HOLLOW__ARG_NOT_NULL(fn);
    validator *v = hollow__reallocarray(p->validators, p->validator_count + 1,
                                        sizeof *v);
    HOLLOW_CHECK_ALLOC(v);
    p->validators = v;
    v[p->validator_count].fn = fn;
    v[p->validator_count].payload = payload;
    p->validator_count++;
    return 0;
}

int hollow_producer_set_header_tag(hollow_producer *p, const char *key,
                                   const char *value)
{
    HOLLOW__ARG_NOT_NULL(p);
    HOLLOW__ARG_NOT_NULL(key);
    HOLLOW__ARG_NOT_NULL(value);
    for (size_t i = 0; i < p->tag_count; i++)
        if (strcmp(p->tags[i].key, key) == 0) {
            char *v = hollow__strdup(value);
            HOLLOW_CHECK_ALLOC(v);
            hollow__free(p->tags[i].value);
            p->tags[i].value = v;
            return 0;
        }
    app_tag *t = hollow__reallocarray(p->tags, p->tag_count + 1, sizeof *t);
    HOLLOW_CHECK_ALLOC(t);
    p->tags = t;
    t[p->tag_count].key = hollow__strdup(key);
    t[p->tag_count].value = hollow__strdup(value);
    if (t[p->tag_count].key == NULL || t[p->tag_count].value == NULL) {
        hollow__free(t[p->tag_count].key);
        hollow__free(t[p->tag_count].value);
        return hollow__error_oom();
    }
    p->tag_count++;
    return 0;
}

int64_t hollow_producer_version(const hollow_producer *p)
{
    return p ? p->version : 0;
}

hollow_read_state *hollow_producer_acquire_state(hollow_producer *p)
{
    if (p == NULL)
        return NULL;
    if (p->state != NULL)
        hollow_read_state_acquire(p->state);
    return p->state;
}

bool hollow_producer_is_primary(hollow_producer *p)
{
    if (p == NULL)
        return false;
    return p->lease == NULL || hollow__lease_held(p->lease);
}

hollow__lease *hollow__producer_lease(hollow_producer *p) { return p->lease; }

/* ------------------------------------------------------------- cycle */

static int restore_at(hollow_producer *p, int64_t version);

/* the announced version, pins aside; 0 when nothing was announced */
static int announced_version(int64_t *out, hollow_announcer *a)
{
    hollow_announcer_stats st;
    if (hollow_announcer_stats_get(&st, a) == 0 && st.pinned) {
        *out = st.has_latest ? st.latest : 0;
        return 0;
    }
    hollow_error_clear();
    int rc = hollow_announcer_latest(out, a);
    if (rc == HOLLOW_ENOTFOUND) {
        hollow_error_clear();
        *out = 0;
        return 0;
    }
    return rc < 0 ? hollow__error_prefix("reading the announced version") : 0;
}

static int max_version_cb(const hollow_blob_key *k, void *payload)
{
    int64_t *max = payload;
    if (k->version > *max)
        *max = k->version;
    if (k->from_version > *max)
        *max = k->from_version;
    return 0;
}

/* what a failed cycle put, deleted again (best effort: it is garbage) */
static void remove_written(hollow_producer *p, const hollow_blob_key *keys,
                           size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hollow_blobstore_delete(p->opts.blobstore, &keys[i]) < 0)
            hollow_error_clear();
}

static int mem_sink(void *payload, const void *data, size_t len)
{
    hollow__buf *b = payload;
    hollow__buf_put(b, data, len);
    return hollow__buf_check(b);
}

/* Java's producer tags (§10.7), then the application's */
static int set_tags(hollow_producer *p, int64_t version, int64_t cycle_start_ms)
{
    hollow_write_state *ws = p->ws;
    char buf[64];
    int32_t hash = 0;
    int rc = hollow_schema_list_hash(&hash, p->schemas);
    if (rc < 0)
        return rc;
    snprintf(buf, sizeof buf, "%lld", (long long)version);
    if ((rc = hollow_write_state_set_header_tag(ws, "hollow.blob.to.version", buf)) < 0)
        return rc;
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)(p->chain_counter + 1));
    if ((rc = hollow_write_state_set_header_tag(
             ws, "hollow.delta.chain.version.counter", buf)) < 0)
        return rc;
    if ((rc = hollow_write_state_set_header_tag(
             ws, "hollow.partitioned.ordinal.map", "false")) < 0)
        return rc;
    snprintf(buf, sizeof buf, "%lld", (long long)cycle_start_ms);
    if ((rc = hollow_write_state_set_header_tag(ws, "hollow.metric.cycle.start",
                                                buf)) < 0)
        return rc;
    snprintf(buf, sizeof buf, "%d", (int)hash);
    if ((rc = hollow_write_state_set_header_tag(ws, "hollow.schema.hash", buf)) < 0)
        return rc;
    rc = p->schema_changed
             ? hollow_write_state_set_header_tag(
                   ws, "hollow.schema.changedFromPriorVersion", "true")
             : hollow_write_state_remove_header_tag(
                   ws, "hollow.schema.changedFromPriorVersion");
    for (size_t i = 0; i < p->tag_count && rc == 0; i++)
        rc = hollow_write_state_set_header_tag(ws, p->tags[i].key, p->tags[i].value);
    return rc;
}

static int resharding_tag(hollow_producer *p)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < hollow_schema_list_count(p->schemas) && rc == 0; i++) {
        const char *name = hollow_schema_name(hollow_schema_list_get(p->schemas, i));
        uint32_t now, before;
        rc = hollow_write_state_shard_counts(&now, &before, p->ws, name);
        if (rc == 0 && before != 0 && before != now)
            hollow__buf_printf(&b, "%s%s:(%u,%u)", b.len ? " " : "", name,
                               before, now);
    }
    if (rc == 0 && (rc = hollow__buf_check(&b)) == 0)
        rc = b.len > 0 ? hollow_write_state_set_header_tag(
                             p->ws, "hollow.type.resharding.invoked",
                             hollow__buf_cstr(&b))
                       : hollow_write_state_remove_header_tag(
                             p->ws, "hollow.type.resharding.invoked");
    hollow__buf_free(&b);
    return rc;
}

static int checksum_of(uint32_t *out, const hollow_read_state *rs)
{
    return hollow_read_state_checksum(out, rs);
}

/* two states' checksums over the types and fields both schemas have, as
 * Java compares states across a data-model change (§12) */
static int checksums_common(uint32_t *a, uint32_t *b, const hollow_read_state *x,
                            const hollow_read_state *y)
{
    int rc = hollow_read_state_checksum_common(a, x, y);
    if (rc == 0)
        rc = hollow_read_state_checksum_common(b, y, x);
    return rc;
}

/* what the integrity check loads: the snapshot read back (task 0) and the
 * previous state plus the delta (task 1) side by side, then that plus the
 * reverse delta (back_task) beside the first comparison */
typedef struct verify_job {
    hollow_producer *p;
    hollow__mapping *snap; /* the written snapshot, or NULL */
    const hollow__buf *delta, *reverse;
    hollow_read_state *from_snap, *from_delta, *back;
} verify_job;

static int load_task(void *ctx, size_t i)
{
    verify_job *j = ctx;
    if (i == 0) {
        if (j->snap == NULL)
            return 0;
        /* the shards point into the written bytes (no copy) */
        hollow__blob_source src = {j->snap->addr, j->snap->len, j->snap, NULL};
        return hollow__snapshot_read(&j->from_snap, &src);
    }
    if (j->p->state == NULL || j->delta->len == 0)
        return 0;
    return hollow_read_state_apply_delta(&j->from_delta, j->p->state,
                                         j->delta->ptr, j->delta->len);
}

static int back_task(void *ctx, size_t i)
{
    verify_job *j = ctx;
    (void)i;
    return hollow_read_state_apply_delta(&j->back, j->from_delta,
                                         j->reverse->ptr, j->reverse->len);
}

/* the checks of a cycle with a new data model: the chain keeps the old
 * schemas, so states are compared on what both have (§12) */
static int verify_schema_change(verify_job *j)
{
    hollow_producer *p = j->p;
    uint32_t want, got, prev;
    int rc = hollow_write_state_checksum(&want, p->ws);
    if (rc < 0 || (rc = checksum_of(&got, j->from_snap)) < 0)
        return rc;
    if (got != want)
        return hollow__error_set(HOLLOW_ERROR, "integrity check: the snapshot "
                                 "reads back with checksum %08x, not %08x",
                                 got, want);
    if (j->from_delta == NULL)
        return 0;
    if ((rc = checksums_common(&got, &want, j->from_delta, j->from_snap)) < 0)
        return rc;
    if (got != want)
        return hollow__error_set(HOLLOW_ERROR, "integrity check: the previous "
                                 "state plus the delta has checksum %08x, not "
                                 "%08x", got, want);
    /* fields the new model dropped come back null (§9.8): compare what the
     * new model has */
    if ((rc = hollow_read_state_checksum_common(&got, j->back, j->from_snap)) < 0 ||
        (rc = hollow_read_state_checksum_common(&prev, p->state, j->from_snap)) < 0)
        return rc;
    if (got != prev)
        return hollow__error_set(HOLLOW_ERROR, "integrity check: the reverse "
                                 "delta leads to checksum %08x, not the previous "
                                 "state's %08x", got, prev);
    return 0;
}

/*
 * The integrity check: what consumers will load equals what was written.
 * The previous state plus the delta must hold the snapshot's records (or,
 * without a snapshot, give the write state's checksum; with only a
 * snapshot, it must give that), and the reverse delta must lead back to
 * the previous state. States at hand are compared record by record
 * (hollow__read_states_equal: ordinal ranges in parallel, shared shards
 * skipped); the write state only by checksum.
 */
static int verify(hollow_read_state **next, hollow_producer *p,
                  hollow__mapping *snap, const hollow__buf *delta,
                  const hollow__buf *reverse)
{
    unsigned threads = hollow__threads_or_cores(p->opts.write.threads);
    verify_job j = {p, snap, delta, reverse, NULL, NULL, NULL};
    char why[256];
    bool same;
    int rc = hollow__parallel_for(threads, 2, load_task, &j);
    if (rc < 0)
        goto done;
    bool beside = j.from_snap != NULL && j.from_delta != NULL &&
                  !p->schema_changed;
    if (j.from_delta != NULL && !beside && (rc = back_task(&j, 0)) < 0)
        goto done;
    if (p->schema_changed && j.from_snap != NULL) {
        if ((rc = verify_schema_change(&j)) < 0)
            goto done;
    } else {
        if (j.from_snap == NULL || j.from_delta == NULL) {
            /* one of the two: the write state's checksum is the reference */
            const hollow_read_state *got_of = j.from_snap ? j.from_snap
                                                          : j.from_delta;
            uint32_t got, want;
            if ((rc = hollow__read_states_checksum(&got, &got_of, 1,
                                                   threads)) < 0 ||
                (rc = hollow_write_state_checksum(&want, p->ws)) < 0)
                goto done;
            if (got != want) {
                rc = hollow__error_set(HOLLOW_ERROR, "integrity check: %s has "
                                       "checksum %08x, not %08x",
                                       j.from_snap ? "the snapshot read back"
                                                   : "the previous state plus "
                                                     "the delta",
                                       got, want);
                goto done;
            }
        } else {
            if ((rc = hollow__read_states_equal_beside(
                     &same, why, sizeof why, j.from_delta, j.from_snap,
                     threads, back_task, &j)) < 0)
                goto done;
            if (!same) {
                rc = hollow__error_set(HOLLOW_ERROR, "integrity check: the "
                                       "previous state plus the delta differs "
                                       "from the snapshot: %s", why);
                goto done;
            }
        }
        if (j.from_delta != NULL) {
            if ((rc = hollow__read_states_equal(&same, why, sizeof why, j.back,
                                                p->state, threads)) < 0)
                goto done;
            if (!same) {
                rc = hollow__error_set(HOLLOW_ERROR, "integrity check: the "
                                       "reverse delta does not lead back to the "
                                       "previous state: %s", why);
                goto done;
            }
        }
    }
    /* consumers following the chain hold the delta's result; after a new
     * data model, the snapshot's state is the one with the new schemas */
    *next = j.from_delta != NULL && !p->schema_changed ? j.from_delta : j.from_snap;
    if (*next == NULL)
        *next = j.from_delta;
    if (*next == j.from_delta)
        j.from_delta = NULL;
    else if (*next == j.from_snap)
        j.from_snap = NULL;
done:
    hollow_read_state_release(j.from_snap);
    hollow_read_state_release(j.from_delta);
    hollow_read_state_release(j.back);
    return rc;
}

/* the blobs after the header, put in Java's order: delta, reverse delta,
 * snapshot; `done` counts those put, `msg` keeps a failure's message */
typedef struct put_job {
    hollow_blobstore *store;
    hollow_blob_key keys[3];
    const void *data[3];
    size_t len[3];
    size_t count, done;
    int rc;
    char msg[512];
} put_job;

static void put_add(put_job *j, hollow_blob_key key, const void *data,
                    size_t len)
{
    j->keys[j->count] = key;
    j->data[j->count] = data;
    j->len[j->count++] = len;
}

static void put_all(put_job *j)
{
    for (; j->done < j->count; j->done++)
        if ((j->rc = hollow_blobstore_put_bytes(j->store, &j->keys[j->done],
                                                j->data[j->done],
                                                j->len[j->done])) < 0) {
            snprintf(j->msg, sizeof j->msg, "%s", hollow_error_last()->message);
            return;
        }
}

static void *put_thread(void *arg)
{
    put_all(arg);
    return NULL;
}

/* an OOM inside the write state leaves it unusable; say so plainly */
static int rolled_back(hollow_producer *p, int rc)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", hollow_error_last()->message);
    hollow_write_state_rollback(p->ws);
    hollow__error_set(rc, "%s", msg);
    return rc;
}

static int run_cycle(int64_t *version_out, hollow_producer *p,
                     hollow_populate_fn populate, void *payload)
{
    if (version_out == NULL || p == NULL || populate == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *version_out = p->version;
    p->last_count = 0;
    int rc;
    if (p->lease != NULL && (rc = hollow__lease_acquire(p->lease)) < 0) {
        if (rc != HOLLOW_ENOTSUPPORTED || !p->lease_default)
            return rc;
        /* the default lease, and an announcer without leases */
        hollow_error_clear();
        hollow__lease_free(p->lease);
        p->lease = NULL;
    }
    /* one linear history: a base that is no longer the announced version
     * (another producer announced since, e.g. while our lease had lapsed)
     * is replaced by the announced version before anything is built on it */
    int64_t announced = 0;
    if (p->opts.announcer != NULL) {
        if ((rc = announced_version(&announced, p->opts.announcer)) < 0)
            return rc;
        if (announced > 0 && announced != p->version && !p->after_restore) {
            if ((rc = restore_at(p, announced)) < 0)
                return rc;
            *version_out = p->version;
        }
    }
    p->ran = true;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t cycle_start = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    hollow_version_minter_fn mint = p->opts.minter ? p->opts.minter
                                                   : hollow_version_mint_default;
    /* never a version name the store already has (leftovers of a crashed
     * cycle, another producer's) or one not above the announced one */
    int64_t floor = p->version > announced ? p->version : announced;
    /* the store's names once per producer (a crashed cycle's leftovers
     * always include its claimed header, which the claim below skips) */
    if (!p->listed) {
        if ((rc = hollow_blobstore_list(p->opts.blobstore, max_version_cb,
                                        &floor)) < 0)
            return rc;
        p->listed = true;
    }
    int64_t version = mint(floor, p->opts.minter_payload);
    if (version <= floor)
        return hollow__error_set(HOLLOW_EINVAL, "the minter gave version %lld "
                                 "after %lld", (long long)version,
                                 (long long)floor);
    /* a restore already started the first cycle (§10.6) */
    bool restored = p->after_restore;
    p->after_restore = false;
    if ((!restored && (rc = hollow_write_state_prepare_cycle(p->ws)) < 0) ||
        (rc = set_tags(p, version, cycle_start)) < 0)
        return rolled_back(p, rc);
    hollow_error_clear(); /* so that a callback's own failure is told apart */
    if ((rc = populate(p->ws, payload)) != 0) {
        /* a callback that failed without a message of this thread (on
         * another thread, or of its own): say so, not a stale message */
        if (hollow_error_last()->code != rc)
            hollow__error_set(rc < 0 ? rc : HOLLOW_ERROR,
                              "the populate callback failed (returned %d%s%s)",
                              rc, rc < 0 ? ": " : "",
                              rc < 0 ? hollow_strerror(rc) : "");
        return rolled_back(p, rc);
    }
    if (!hollow_write_state_has_changes(p->ws)) {
        /* an empty first cycle, or the same data again: nothing to publish */
        hollow_write_state_rollback(p->ws);
        return 0;
    }
    /* §10.7: the types whose shard count changed, "Type:(old,new) ..." */
    if ((rc = resharding_tag(p)) < 0)
        return rolled_back(p, rc);
    bool first = p->state == NULL;
    /* a new data model: consumers of the chain keep the old schemas, so a
     * snapshot lets them move to the new one */
    bool snapshot_due = first || p->schema_changed ||
                        p->since_snapshot >= p->opts.num_states_between_snapshots;
    hollow__buf header = HOLLOW__BUF_INIT, snap = HOLLOW__BUF_INIT,
                delta = HOLLOW__BUF_INIT, reverse = HOLLOW__BUF_INIT;
    hollow_read_state *next = NULL;
    hollow__mapping *snap_keep = NULL; /* the snapshot's bytes, once written */
    put_job puts = {.store = p->opts.blobstore};
    hollow__thread put_th;
    bool put_started = false;
    hollow_blob_key written[4];
    size_t nwritten = 0;
    /* the header goes first and is created only if its name is free: that
     * claims the version name, so two producers never write blobs under
     * one version; when it is taken, the next version is minted and the
     * tags follow it */
    for (int attempt = 0;; attempt++) {
        header.len = 0;
        if ((rc = hollow_write_state_write_header(p->ws, mem_sink, &header)) < 0)
            goto fail;
        hollow_blob_key hk = hollow_blob_key_header(version);
        rc = hollow__blobstore_put_new(p->opts.blobstore, &hk, header.ptr,
                                       header.len);
        if (rc == 0) {
            written[nwritten++] = hk;
            break;
        }
        if (rc != HOLLOW_EEXISTS || attempt == 100)
            goto fail;
        int64_t again = mint(version, p->opts.minter_payload);
        if (again <= version) {
            rc = hollow__error_set(HOLLOW_EEXISTS, "version %lld is taken and "
                                   "the minter gave %lld after it",
                                   (long long)version, (long long)again);
            goto fail;
        }
        version = again;
        if ((rc = set_tags(p, version, cycle_start)) < 0 ||
            (rc = resharding_tag(p)) < 0)
            goto fail;
    }
    if (!first && ((rc = hollow_write_state_write_delta(p->ws, mem_sink, &delta)) < 0 ||
                   (rc = hollow_write_state_write_reverse_delta(p->ws, mem_sink,
                                                                &reverse)) < 0))
        goto fail;
    /* room for the snapshot at once: regrowing copies what it holds */
    if (snapshot_due && p->snap_hint > 0)
        hollow__buf_grow(&snap, p->snap_hint + p->snap_hint / 8);
    if (snapshot_due &&
        (rc = hollow_write_state_write_snapshot(p->ws, mem_sink, &snap)) < 0)
        goto fail;
    if (snapshot_due) {
        /* the bytes move into a mapping: the state read back points into
         * them and the put reads them, however long either needs them */
        snap_keep = hollow__calloc(1, sizeof *snap_keep);
        if (snap_keep == NULL) {
            rc = hollow__error_oom();
            goto fail;
        }
        atomic_init(&snap_keep->refs, 1);
        snap_keep->addr = snap_keep->base = snap.ptr;
        snap_keep->len = snap.len;
        snap_keep->base_len = snap.cap;
        snap.ptr = NULL;
        snap.cap = 0;
    }
    if (!first) {
        put_add(&puts, hollow_blob_key_delta(p->version, version), delta.ptr,
                delta.len);
        put_add(&puts, hollow_blob_key_reverse_delta(version, p->version),
                reverse.ptr, reverse.len);
    }
    if (snapshot_due)
        put_add(&puts, hollow_blob_key_snapshot(version), snap_keep->addr,
                snap_keep->len);
    /* with more than one thread, the puts (mostly waiting on fsync) run
     * beside the integrity check and the validators; a failure of either
     * deletes what was put, and nothing is announced before both end */
    put_started = hollow__threads_or_cores(p->opts.write.threads) > 1 &&
                  hollow__thread_create(&put_th, put_thread, &puts) == 0;
    if ((rc = verify(&next, p, snap_keep, &delta, &reverse)) < 0) {
        if (rc == HOLLOW_ERROR) /* the states differ */
            atomic_fetch_add(&p->counters.integrity_failures, 1);
        goto fail;
    }
    hollow__read_state_set_version(next, version);
    for (size_t i = 0; i < p->validator_count; i++) {
        char why[256] = "";
        if (p->validators[i].fn(next, version, why, sizeof why,
                                p->validators[i].payload) != 0) {
            rc = hollow__error_set(HOLLOW_ERROR, "validator %zu failed for "
                                   "version %lld: %s", i + 1, (long long)version,
                                   why[0] ? why : "(no reason given)");
            atomic_fetch_add(&p->counters.validation_failures, 1);
            goto fail;
        }
    }
    if (put_started) {
        hollow__thread_join(put_th);
        put_started = false;
    } else {
        put_all(&puts);
    }
    for (size_t i = 0; i < puts.done; i++)
        written[nwritten++] = puts.keys[i];
    if ((rc = puts.rc) < 0) {
        hollow__error_set(rc, "%s", puts.msg);
        goto fail;
    }
    /* announce only while primary and while our base is still the
     * announced version: checked and announced in one step */
    if (p->opts.announcer != NULL &&
        (rc = hollow_announcer_announce_if(
             p->opts.announcer, announced,
             p->lease ? hollow__lease_owner(p->lease) : NULL, version)) < 0) {
        if (p->lease != NULL && rc == HOLLOW_ESTATE) {
            /* say which: the lease was lost, or the base was replaced */
            char msg[512];
            snprintf(msg, sizeof msg, "%s", hollow_error_last()->message);
            if (hollow__lease_check(p->lease) == 0)
                hollow__error_set(rc, "%s", msg);
        }
        goto fail;
    }
    hollow_read_state_release(p->state);
    p->state = next;
    if (snapshot_due)
        p->snap_hint = snap_keep->len;
    next = NULL;
    p->version = version;
    p->chain_counter++;
    p->since_snapshot = snapshot_due ? 0 : p->since_snapshot + 1;
    p->schema_changed = false;
    *version_out = version;
    /* the report of hollow_producer_last_blobs(), in the order written */
    for (size_t i = 0; i < nwritten; i++) {
        hollow_blob_kind k = written[i].kind;
        p->last[i].key = written[i];
        p->last[i].size = k == HOLLOW_BLOB_HEADER ? header.len
                          : k == HOLLOW_BLOB_DELTA ? delta.len
                          : k == HOLLOW_BLOB_REVERSE_DELTA ? reverse.len
                                                           : snap_keep->len;
    }
    p->last_count = nwritten;
    rc = 0;
    goto done;
fail:
    if (put_started) {
        hollow__thread_join(put_th);
        for (size_t i = 0; i < puts.done; i++)
            written[nwritten++] = puts.keys[i];
    }
    if (nwritten > 0) {
        /* keep what an announcement that reported a failure still made
         * current (e.g. the directory fsync after the rename failed) */
        int64_t now_ann = -1;
        char msg[512];
        snprintf(msg, sizeof msg, "%s", hollow_error_last()->message);
        if (p->opts.announcer == NULL ||
            announced_version(&now_ann, p->opts.announcer) < 0 ||
            now_ann != version)
            remove_written(p, written, nwritten);
        hollow__error_set(rc, "%s", msg);
    }
    rolled_back(p, rc);
done:
    hollow_read_state_release(next);
    if (snap_keep != NULL)
        hollow__mapping_release(snap_keep);
    hollow__buf_free(&header);
    hollow__buf_free(&snap);
    hollow__buf_free(&delta);
    hollow__buf_free(&reverse);
    return rc;
}

/* every cycle is counted here */
int hollow_producer_run_cycle(int64_t *version_out, hollow_producer *p,
                              hollow_populate_fn populate, void *payload)
{
    uint64_t start = hollow__stats_now_us();
    int rc = run_cycle(version_out, p, populate, payload);
    if (p == NULL || version_out == NULL || populate == NULL)
        return rc;
    hollow__producer_counters *k = &p->counters;
    hollow__histogram_observe(&k->duration, hollow__stats_now_us() - start);
    atomic_fetch_add(&k->cycles, 1);
    if (rc != 0)
        atomic_fetch_add(&k->failures, 1);
    else if (p->last_count > 0)
        atomic_fetch_add(&k->published, 1);
    for (size_t i = 0; rc == 0 && i < p->last_count; i++) {
        atomic_fetch_add(&k->blobs[p->last[i].key.kind], 1);
        atomic_fetch_add(&k->blob_bytes[p->last[i].key.kind], p->last[i].size);
    }
    atomic_store(&k->version, p->version);
    return rc;
}

hollow__producer_counters *hollow__producer_counters_of(hollow_producer *p)
{
    return &p->counters;
}

size_t hollow_producer_last_blobs(const hollow_producer *p,
                                  hollow_producer_blob *out, size_t cap)
{
    if (p == NULL)
        return 0;
    for (size_t i = 0; i < p->last_count && i < cap && out != NULL; i++)
        out[i] = p->last[i];
    return p->last_count;
}

/* ------------------------------------------------------------- restore */

/*
 * Load `version` (or the announced one) as a consumer would and make it
 * the producer's base, in a fresh write state: the next cycle publishes a
 * delta from it. On failure the producer is as before.
 */
static int restore_at(hollow_producer *p, int64_t version)
{
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = p->opts.blobstore;
    co.announcer = p->opts.announcer;
    hollow_consumer *c = NULL;
    int rc = hollow_consumer_new(&c, &co);
    if (rc < 0)
        return rc;
    rc = hollow_consumer_refresh(c, version);
    hollow_read_state *rs = rc == 0 ? hollow_consumer_acquire_state(c) : NULL;
    hollow_consumer_free(c);
    if (rc < 0)
        return hollow__error_prefix("restoring the producer");
    hollow_write_state *ws = NULL;
    if ((rc = hollow_write_state_new(&ws, p->schemas, &p->opts.write)) < 0 ||
        (rc = hollow_write_state_restore(ws, rs)) < 0) {
        hollow_write_state_free(ws);
        hollow_read_state_release(rs);
        return rc;
    }
    hollow_write_state_free(p->ws);
    p->ws = ws;
    /* the chain goes on: its counter, and whether the data model changed */
    const char *counter = hollow_read_state_header_tag(rs,
                                                       "hollow.delta.chain.version.counter");
    p->chain_counter = counter ? strtoull(counter, NULL, 10) : 0;
    const char *hash = hollow_read_state_header_tag(rs, "hollow.schema.hash");
    int32_t ours = 0;
    hollow_schema_list_hash(&ours, p->schemas);
    char buf[32];
    snprintf(buf, sizeof buf, "%d", (int)ours);
    p->schema_changed = hash == NULL || strcmp(hash, buf) != 0;
    p->after_restore = true;
    hollow_read_state_release(p->state);
    p->state = rs;
    p->version = hollow_read_state_version(rs);
    atomic_store(&p->counters.version, p->version);
    p->since_snapshot = 0;
    return 0;
}

int hollow_producer_restore(hollow_producer *p, int64_t version)
{
    if (p == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    if (p->ran || p->state != NULL)
        return hollow__error_set(HOLLOW_ESTATE, "the producer already ran a "
                                 "cycle; restore a fresh one");
    return restore_at(p, version);
}
