/*
 * The in-process announcer: a producer and its consumers in one process.
 * It is a delivery hub (hub.c) and nothing more: announce() accepts the
 * version into the hub's bounded queue and the hub's worker thread (the
 * "delivery worker", started here and joined in free) delivers it. All
 * delivery state lives in the hub; this file adapts the vtable and keeps
 * the producer lease (an owner name and an expiry on the lease clock,
 * common/clock.h, under its own mutex).
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "hollow/sys/announcer.h"
#include "hub.h"

typedef struct inproc {
    hollow_announcer parent; /* must come first */
    hollow__hub hub;
    hollow__mutex lease_lock; /* guards the lease fields */
    bool lease_set;
    int64_t lease_expiry_ns; /* hollow__clock_ns() */
    char lease_owner[HOLLOW_LEASE_OWNER_MAX];
} inproc;

#define HUB(a) (&((inproc *)(a))->hub)

static int ip_announce(hollow_announcer *a, int64_t version)
{
    return hollow__hub_announce(HUB(a), version);
}

static int ip_latest(int64_t *out, hollow_announcer *a)
{
    return hollow__hub_latest(out, HUB(a));
}

static int ip_subscribe(hollow_subscription_id *id_out, hollow_announcer *a,
                        hollow_announcement_cb cb, void *payload)
{
    return hollow__hub_subscribe(id_out, HUB(a), cb, payload);
}

static int ip_subscribe_fd(int *fd_out, hollow_subscription_id *id_out,
                           hollow_announcer *a)
{
    return hollow__hub_subscribe_fd(fd_out, id_out, HUB(a));
}

static int ip_unsubscribe(hollow_announcer *a, hollow_subscription_id id)
{
    return hollow__hub_unsubscribe(HUB(a), id);
}

hollow__hub *hollow__inproc_hub(hollow_announcer *a) { return HUB(a); }

static int ip_pin(hollow_announcer *a, int64_t version)
{
    return hollow__hub_pin(HUB(a), version);
}

static int ip_unpin(hollow_announcer *a) { return hollow__hub_unpin(HUB(a)); }

static int ip_wait(hollow_announcer *a, int64_t version, int timeout_ms)
{
    return hollow__hub_wait(HUB(a), version, timeout_ms);
}

static int ip_drain(hollow_announcer *a, int timeout_ms)
{
    return hollow__hub_drain(HUB(a), timeout_ms);
}

static int ip_stats(hollow_announcer_stats *out, hollow_announcer *a)
{
    hollow__hub_stats(out, HUB(a));
    return 0;
}

/* the producer lease: a field of the announcer, on the lease clock */
static int ip_lease(hollow_announcer *a, hollow_lease_op op, const char *owner,
                    int64_t ttl_ms, char *holder, size_t holder_cap)
{
    inproc *ip = (inproc *)a;
    int rc = 0;
    hollow__mutex_lock(&ip->lease_lock);
    int64_t now = hollow__clock_ns();
    bool live = ip->lease_set && ip->lease_expiry_ns > now;
    bool mine = live && strcmp(ip->lease_owner, owner) == 0;
    if (live && !mine) {
        if (holder != NULL)
            snprintf(holder, holder_cap, "%s", ip->lease_owner);
        rc = hollow__error_set(HOLLOW_ESTATE,
                               "the lease is held by %s for %lld ms more",
                               ip->lease_owner,
                               (long long)((ip->lease_expiry_ns - now) / 1000000));
    } else if (op == HOLLOW_LEASE_ACQUIRE) {
        snprintf(ip->lease_owner, sizeof ip->lease_owner, "%s", owner);
        ip->lease_expiry_ns = now + ttl_ms * 1000000;
        ip->lease_set = true;
    } else if (op == HOLLOW_LEASE_CHECK && !mine) {
        rc = hollow__error_set(HOLLOW_ESTATE, "%s does not hold the lease",
                               owner);
    } else if (op == HOLLOW_LEASE_RELEASE) {
        ip->lease_set = false;
    }
    hollow__mutex_unlock(&ip->lease_lock);
    return rc;
}

/* compare-and-announce under the lease mutex (serialised with ip_lease) */
static int ip_announce_if(hollow_announcer *a, int64_t expected,
                          const char *owner, int64_t version)
{
    inproc *ip = (inproc *)a;
    int rc = 0;
    hollow__mutex_lock(&ip->lease_lock);
    if (owner != NULL && !(ip->lease_set &&
                           ip->lease_expiry_ns > hollow__clock_ns() &&
                           strcmp(ip->lease_owner, owner) == 0))
        rc = hollow__error_set(HOLLOW_ESTATE, "%s does not hold the lease",
                               owner);
    if (rc == 0) {
        hollow_announcer_stats st;
        hollow__hub_stats(&st, HUB(a));
        int64_t cur = st.has_latest ? st.latest : 0;
        if (cur != expected)
            rc = hollow__error_set(HOLLOW_ESTATE, "version %lld is announced, "
                                   "not %lld: another producer announced "
                                   "meanwhile", (long long)cur,
                                   (long long)expected);
    }
    if (rc == 0)
        rc = hollow__hub_announce(HUB(a), version);
    hollow__mutex_unlock(&ip->lease_lock);
    return rc;
}

static void ip_free(hollow_announcer *a)
{
    hollow__hub_destroy(HUB(a));
    hollow__mutex_destroy(&((inproc *)a)->lease_lock);
    hollow__free(a);
}

int hollow_announcer_inproc_new(hollow_announcer **out,
                                const hollow_announcer_inproc_options *opts)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "announcer: out is NULL");
    *out = NULL;
    hollow_announcer_inproc_options defaults =
        HOLLOW_ANNOUNCER_INPROC_OPTIONS_INIT;
    if (opts == NULL)
        opts = &defaults;
    HOLLOW_TRY(hollow__check_options_version(
        "announcer", opts->version, HOLLOW_ANNOUNCER_INPROC_OPTIONS_VERSION));
    inproc *ip = hollow__calloc(1, sizeof *ip);
    HOLLOW_CHECK_ALLOC(ip);
    if (hollow__mutex_init(&ip->lease_lock) != 0) {
        hollow__free(ip);
        return hollow__error_set(HOLLOW_ERROR, "announcer: mutex init failed");
    }
    int rc = hollow__hub_init(&ip->hub, opts->queue_capacity, opts->spin_us);
    if (rc < 0) {
        hollow__mutex_destroy(&ip->lease_lock);
        hollow__free(ip);
        return rc;
    }
    ip->parent.version = HOLLOW_ANNOUNCER_VERSION;
    ip->parent.announce = ip_announce;
    ip->parent.latest = ip_latest;
    ip->parent.subscribe = ip_subscribe;
    ip->parent.subscribe_fd = ip_subscribe_fd;
    ip->parent.unsubscribe = ip_unsubscribe;
    ip->parent.pin = ip_pin;
    ip->parent.unpin = ip_unpin;
    ip->parent.wait_for_version = ip_wait;
    ip->parent.drain = ip_drain;
    ip->parent.stats = ip_stats;
    ip->parent.free = ip_free;
    ip->parent.lease = ip_lease;
    ip->parent.announce_if = ip_announce_if;
    *out = &ip->parent;
    return 0;
}
