/*
 * What the S3 announcer (src/announcer/s3.c) needs of the S3 store
 * (src/blobstore/s3.c): the announced.version object, written through the
 * store so that it queues behind pending blobs.
 */
#ifndef HOLLOW_SRC_BLOBSTORE_S3_INT_H
#define HOLLOW_SRC_BLOBSTORE_S3_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "hollow/sys/blobstore.h"

/* true when `bs` is an S3 store */
bool hollow__s3_store_is(const hollow_blobstore *bs);

/*
 * Announce `version`: write `[prefix/]announced.version` (decimal text).
 * When entries are pending, or S3 cannot be reached, the announcement is
 * added to the pending journal instead (after the blobs before it) and
 * 0 is returned (a warning is logged); in strict mode the unreachable
 * case fails with HOLLOW_EIO.
 */
int hollow__s3_store_announce(hollow_blobstore *bs, int64_t version);

/*
 * Read `[prefix/]announced.version`. `etag` (in/out, 128 bytes): the etag
 * of the last read, "" at first; when the object has not changed, returns
 * 1 and leaves *version_out alone. A pending announcement of this store's
 * journal newer than the object counts as announced. HOLLOW_ENOTFOUND if
 * nothing was announced; HOLLOW_ECORRUPT if the object is not a version.
 */
int hollow__s3_store_read_announced(hollow_blobstore *bs, int64_t *version_out,
                                    char *etag);

#endif
