/*
 * The delivery hub shared by the announcers (src/announcer/hub.c): a
 * bounded queue of versions, a compact subscriber array, the pin, the
 * latest version and the delivery worker thread. An announcer embeds one
 * hub and feeds it; see hub.c for the layout and the locking rules.
 */
#ifndef HOLLOW_SRC_ANNOUNCER_HUB_H
#define HOLLOW_SRC_ANNOUNCER_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/thread.h"
#include "hollow/announcer.h"

/* one subscriber: 32 bytes */
typedef struct hollow__hub_sub {
    hollow_announcement_cb fn; /* NULL: a descriptor subscriber */
    union {
        void *payload; /* fn's payload */
        int fd;        /* write end of the subscriber's pipe */
    } u;
    uint64_t id;        /* 0: removed, compacted away after the batch */
    uint64_t start_seq; /* first announcement (sequence) it receives */
} hollow__hub_sub;

typedef struct hollow__hub {
    hollow__mutex lock;
    hollow__cond work;    /* the worker waits here */
    hollow__cond idle;    /* unsubscribe and drain wait for a batch's end */
    hollow__cond changed; /* wait_for_version waits for the latest */
    hollow__thread worker;

    /* queue: ring[seq % cap] for popped <= seq < pushed */
    int64_t *ring;
    size_t cap;
    uint64_t pushed;
    uint64_t popped;
    atomic_uint_fast64_t pushed_pub; /* == pushed, for the spinning worker */
    int64_t *batch;                  /* the worker's copy of a batch */
    unsigned int spin_us;

    /* subscribers; see hub.c for who may touch `subs` when */
    hollow__hub_sub *subs;
    size_t nsubs;
    size_t subs_cap;
    hollow__hub_sub *pending; /* added while the worker iterates */
    size_t npending;
    size_t pending_cap;
    size_t count; /* current subscriptions */
    uint64_t next_id;

    bool iterating; /* the worker is delivering a batch (lock released) */
    bool sleeping;  /* the worker waits on `work` for announcements */
    bool stop;
    unsigned int unsub_waiters;

    /* versions */
    bool has_latest;
    int64_t latest;
    bool pinned;
    int64_t pinned_version;

    /* counters */
    uint64_t announced;
    uint64_t dropped;
    uint64_t delivered;
    uint64_t lost;
    uint64_t removed;
} hollow__hub;

/* set up and start the worker; on failure nothing is left to destroy */
int hollow__hub_init(hollow__hub *h, size_t capacity, unsigned int spin_us);
/* deliver what is queued, stop and join the worker, close pipes, free */
void hollow__hub_destroy(hollow__hub *h);

/* accept `version` as the latest and queue it (held back while pinned);
 * HOLLOW_EBACKEND if the queue is full */
int hollow__hub_announce(hollow__hub *h, int64_t version);
/* 0 if an announce would be accepted now, else HOLLOW_EBACKEND (counted
 * as dropped when `count_drop`) */
int hollow__hub_check_room(hollow__hub *h, bool count_drop);
/* the latest version without delivering it (a version found at start) */
void hollow__hub_set_latest(hollow__hub *h, int64_t version);
/* the effective latest (pinned first); HOLLOW_ENOTFOUND if none */
int hollow__hub_latest(int64_t *out, hollow__hub *h);
/* true and *out = the pinned version when pinned */
bool hollow__hub_pinned(int64_t *out, hollow__hub *h);

int hollow__hub_subscribe(hollow_subscription_id *id_out, hollow__hub *h,
                          hollow_announcement_cb cb, void *payload);
int hollow__hub_subscribe_fd(int *fd_out, hollow_subscription_id *id_out,
                             hollow__hub *h);
int hollow__hub_unsubscribe(hollow__hub *h, hollow_subscription_id id);
int hollow__hub_pin(hollow__hub *h, int64_t version);
int hollow__hub_unpin(hollow__hub *h);
int hollow__hub_wait(hollow__hub *h, int64_t version, int timeout_ms);
int hollow__hub_drain(hollow__hub *h, int timeout_ms);
void hollow__hub_stats(hollow_announcer_stats *out, hollow__hub *h);

/* for tests: unsubscribe() calls waiting for a batch to end */
unsigned int hollow__hub_unsub_waiters(hollow__hub *h);
/* for tests: the hub of an in-process announcer (inproc.c) */
hollow__hub *hollow__inproc_hub(hollow_announcer *a);

#endif
