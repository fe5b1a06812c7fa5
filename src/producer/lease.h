/*
 * The single-producer lease (architecture.md §4): held in the announcer's
 * backend, renewed by a renewer thread while held, checked again right
 * before announcing. See lease.c.
 */
#ifndef HOLLOW_SRC_PRODUCER_LEASE_H
#define HOLLOW_SRC_PRODUCER_LEASE_H

#include "hollow/announcer.h"
#include "hollow/blobstore.h"
#include "hollow/producer.h"

typedef struct hollow__lease hollow__lease;

int hollow__lease_new(hollow__lease **out, hollow_announcer *a,
                      hollow_blobstore *bs, const char *owner, int64_t ttl_ms);
void hollow__lease_free(hollow__lease *l);
/* take or renew the lease; HOLLOW_ESTATE (holder named) if another has it */
int hollow__lease_acquire(hollow__lease *l);
/* still ours and not expired; HOLLOW_ESTATE otherwise */
int hollow__lease_check(hollow__lease *l);
bool hollow__lease_held(hollow__lease *l);
/* "<label>#<random token>": unique to this producer instance */
const char *hollow__lease_owner(const hollow__lease *l);

/* for tests: the renewer's successful renewals so far; waiting (up to
 * timeout_ms) until there are at least `n`, true if there are */
uint64_t hollow__lease_renewals(hollow__lease *l);
bool hollow__lease_wait_renewals(hollow__lease *l, uint64_t n, int timeout_ms);
/* for tests: a producer's lease, NULL if it has none (producer.c) */
hollow__lease *hollow__producer_lease(hollow_producer *p);

#endif
