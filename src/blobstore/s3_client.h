/*
 * The S3 REST client under the S3 store and announcer (s3_client.c):
 * libcurl with CURLOPT_AWS_SIGV4, path-style addressing, the payload's
 * real SHA-256 in x-amz-content-sha256 (OpenSSL), query strings built
 * already canonical (services.md §2.1 lists curl 7.88's SigV4 traps).
 *
 * Keys here are whole object keys (the store adds its prefix and folder).
 * Keep them to [A-Za-z0-9/._-].
 *
 * Errors: every call returns 0 or a negative hollow_error_code and sets
 * the thread-local error. The message says what S3 said (HTTP status, its
 * <Code> and <Message>) and names the bucket or key; it never contains a
 * secret key, a session token or a signature.
 *   HOLLOW_ENOTFOUND  404 (NoSuchKey, NoSuchBucket)
 *   HOLLOW_EIO        S3 could not be reached or failed in a way worth
 *                     retrying: connection refused or reset, timeout,
 *                     5xx, 429/SlowDown. The store queues such puts.
 *   HOLLOW_EBACKEND   S3 refused: 403 (SignatureDoesNotMatch,
 *                     AccessDenied, ...), other 4xx, a certificate that
 *                     does not verify. Retrying will not help.
 *   HOLLOW_ECORRUPT   a download whose SHA-256 does not match the
 *                     object's x-amz-meta-sha256
 *
 * Threads: a hollow__s3 is safe from any number of threads at once (each
 * call uses its own curl easy handle, or one from a locked pool).
 */
#ifndef HOLLOW_SRC_BLOBSTORE_S3_CLIENT_H
#define HOLLOW_SRC_BLOBSTORE_S3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hollow__s3 hollow__s3;

/* everything resolved by the caller (no environment lookups here);
 * strings are copied */
typedef struct hollow__s3_config {
    const char *base_url;      /* "http://host:port" or "https://host:port" */
    const char *ca_file;       /* NULL: the system's CAs (TLS only) */
    const char *region;
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL: none */
    uint32_t connect_timeout_ms; /* 0: libcurl's default (300 s) */
    uint32_t timeout_ms;       /* 0: none; stalled < 1 KB/s for 30 s fails */
    uint64_t part_size;        /* multipart threshold and part size */
} hollow__s3_config;

/* what a GET or HEAD learned about an object */
typedef struct hollow__s3_object {
    int64_t size;
    char etag[128];   /* as sent, quotes included */
    char sha256[65];  /* x-amz-meta-sha256, lower-case hex; "" if absent */
} hollow__s3_object;

/* calls curl_global_init once per process (thread-safe) */
int hollow__s3_new(hollow__s3 **out, const hollow__s3_config *cfg);
void hollow__s3_free(hollow__s3 *s);

/* create the bucket; 0 also when it exists and is ours */
int hollow__s3_create_bucket(hollow__s3 *s);

/*
 * Upload the file at `path` (streamed, never read whole into memory),
 * with `sha256_hex` (the file's SHA-256) as x-amz-meta-sha256. Above
 * part_size: multipart, each part with its own payload hash; a multipart
 * upload that fails is aborted (AbortMultipartUpload) before returning.
 */
int hollow__s3_put_file(hollow__s3 *s, const char *key, const char *path,
                        const char *sha256_hex);

/* upload a small object from memory (x-amz-meta-sha256 set too) */
int hollow__s3_put_bytes(hollow__s3 *s, const char *key, const void *data,
                         size_t len);

/*
 * Download an object into `fd` (written from its current offset,
 * streamed), hashing it on the way: when the object has
 * x-amz-meta-sha256 and the bytes do not match, HOLLOW_ECORRUPT.
 * `info` (may be NULL) receives size, etag and the metadata hash;
 * `sha256_out` (may be NULL, else 65 bytes) the hash of what was written.
 * On failure `fd` may hold part of the object: download to a temporary file.
 */
int hollow__s3_get_fd(hollow__s3 *s, const char *key, int fd,
                      hollow__s3_object *info, char *sha256_out);

/*
 * Download a small object (at most `cap` bytes, else HOLLOW_ERANGE) into
 * `buf`. With `if_none_match` (an etag; may be NULL) a 304 returns 1 and
 * leaves `buf` alone. `info` may be NULL.
 */
int hollow__s3_get_small(hollow__s3 *s, const char *key,
                         const char *if_none_match, void *buf, size_t cap,
                         size_t *len_out, hollow__s3_object *info);

/* HEAD an object */
int hollow__s3_head(hollow__s3 *s, const char *key, hollow__s3_object *info);

/* called once per object; a non-zero return stops the listing and is
 * returned */
typedef int (*hollow__s3_list_cb)(const char *key, int64_t size,
                                  void *payload);

/* every object whose key starts with `prefix` (ListObjectsV2, all pages,
 * continuation tokens followed) */
int hollow__s3_list(hollow__s3 *s, const char *prefix, hollow__s3_list_cb cb,
                    void *payload);

/* DELETE an object (S3 answers 204 whether or not it existed) */
int hollow__s3_delete(hollow__s3 *s, const char *key);

#endif
