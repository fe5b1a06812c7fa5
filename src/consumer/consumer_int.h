/*
 * The consumer's internal functions, for tests.
 */
#ifndef HOLLOW_SRC_CONSUMER_CONSUMER_INT_H
#define HOLLOW_SRC_CONSUMER_CONSUMER_INT_H

#include <stdbool.h>

#include "hollow/consumer.h"

/* wait (up to timeout_ms) until the watcher has acted on every
 * announcement heard so far (refreshed, or found nothing to do); true if
 * it has. With the announcer drained first, a version it did not follow
 * then is one it will not follow. */
bool hollow__consumer_wait_watcher(hollow_consumer *c, int timeout_ms);

#endif
