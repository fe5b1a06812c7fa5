/*
 * The update planner of the consumer: which blobs, in which order, take a
 * consumer from its version to a target (architecture.md §4).
 */
#ifndef HOLLOW_SRC_CONSUMER_PLAN_H
#define HOLLOW_SRC_CONSUMER_PLAN_H

#include "hollow/blobstore.h"

typedef struct hollow__plan {
    hollow_blob_key *steps; /* a snapshot first (or none), then deltas */
    size_t count;
} hollow__plan;

/* the blobs of a store, as listed once per refresh */
typedef struct hollow__catalog {
    hollow_blob_key *keys;
    size_t count, cap;
} hollow__catalog;

int hollow__catalog_load(hollow__catalog *c, hollow_blobstore *bs);
void hollow__catalog_free(hollow__catalog *c);
/* leave `key` out of later plans (a blob that failed to load) */
void hollow__catalog_remove(hollow__catalog *c, const hollow_blob_key *key);
/* the largest version any blob leads to (0 if none) */
int64_t hollow__catalog_latest(const hollow__catalog *c);

/*
 * Plan from `from` (0: nothing loaded) to `to`: the shortest chain of
 * deltas and reverse deltas when one exists and has at most `limit` steps,
 * else the snapshot with the shortest chain after it.
 * @return 0; HOLLOW_ENOTFOUND if nothing reaches `to`; HOLLOW_ENOMEM.
 */
int hollow__plan_make(hollow__plan *out, const hollow__catalog *c, int64_t from,
                      int64_t to, uint32_t limit, bool allow_chain);
void hollow__plan_free(hollow__plan *p);

#endif
