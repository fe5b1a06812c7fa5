/*
 * Internals shared by the blob store sources (src/blobstore/) and by the
 * producer and consumer that read whole blobs: key checks and ordering,
 * exact file-name parsing without touching the thread-local error, and
 * streams over a descriptor or read whole into memory.
 */
#ifndef HOLLOW_SRC_BLOBSTORE_INT_H
#define HOLLOW_SRC_BLOBSTORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hollow/sys/blobstore.h"

/* a known kind and non-negative versions */
bool hollow__blob_key_is_valid(const hollow_blob_key *k);
/* the key with from_version 0 for snapshots and headers */
hollow_blob_key hollow__blob_key_normal(const hollow_blob_key *k);
/* order by (version, kind, from_version); keys must be normal */
int hollow__blob_key_cmp(const hollow_blob_key *a, const hollow_blob_key *b);
/* hollow_blob_key_parse() without setting an error: true on a match */
bool hollow__blob_key_match(hollow_blob_key *out, const char *name);

/* a memory stream's unread bytes (borrowed, now consumed), so that a put
 * writes them without copying; false for any other stream */
bool hollow__stream_peek_memory(const uint8_t **ptr, size_t *len,
                                hollow_stream *s);

/* a stream over an open descriptor, which it owns (closed with it) */
int hollow__stream_from_fd(hollow_stream **out, int fd, int64_t size_hint);
/*
 * Read `s` to its end into one hollow__malloc'd block (*out, *len_out;
 * free with hollow__free). *out is never NULL on success, even when the
 * stream is empty.
 */
int hollow__stream_read_all(uint8_t **out, size_t *len_out, hollow_stream *s);

/*
 * Store a blob only if nothing is stored under its key (the producer
 * claims a version name this way): HOLLOW_EEXISTS if something is. Atomic
 * in the filesystem store (link(2)) and the memory store; for other
 * backends a look-up before the put (not atomic).
 */
int hollow__blobstore_put_new(hollow_blobstore *bs, const hollow_blob_key *key,
                              const void *data, size_t len);
/* the two backends' exclusive puts; HOLLOW_ENOTSUPPORTED (no error set)
 * for a store of another kind */
int hollow__fs_put_new(hollow_blobstore *bs, const hollow_blob_key *key,
                       hollow_stream *src);
int hollow__mem_put_new(hollow_blobstore *bs, const hollow_blob_key *key,
                        hollow_stream *src);
/* the S3 store's claim: refused when the cache or S3 has the name (a
 * look-up, then the put; not atomic against another process) */
int hollow__s3_put_new(hollow_blobstore *bs, const hollow_blob_key *key,
                       hollow_stream *src);

#endif
