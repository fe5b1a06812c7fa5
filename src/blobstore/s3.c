/*
 * The S3 blob store: blobs in an S3 bucket under the seed's folders, a
 * local cache in front of it, and a pending journal so that nothing a put
 * accepted is lost while S3 is unreachable.
 *
 *     s3://<bucket>/[<prefix>/]snapshots/snapshot-<v>
 *                              deltas/delta-<from>-<to>
 *                              reverse/reversedelta-<from>-<to>
 *                              headers/header-<v>
 *                              announced.version   (src/announcer/s3.c)
 *
 * The part after the prefix is the blob's "relkey": its name in the cache
 * dir and in the journal (s3_cache.h). The network is s3_client.c; the
 * cache and journal are s3_cache.c. This file joins them:
 *
 *  - put: the stream goes to a cache temporary file, hashed (SHA-256) on
 *    the way, is committed to the cache and uploaded from there. When S3
 *    cannot be reached (HOLLOW_EIO from the client) the blob stays in the
 *    cache, a journal entry queues it, a warning is logged and the put
 *    succeeds; strict mode removes it from the cache and fails instead.
 *  - get / get_file: the cache first (a file that no longer matches its
 *    sidecar is dropped and fetched again), else a download into a cache
 *    temporary file (the client checks the object's x-amz-meta-sha256)
 *    committed to the cache.
 *  - list: ListObjectsV2 of the four folders, plus the pending blobs; the
 *    cache's blobs instead while S3 is unreachable.
 *  - the retrier thread uploads the journal's entries strictly in order,
 *    one retrier per cache dir (the journal lock), with backoff, hashing
 *    each blob first (a damaged one is dropped, and so are the
 *    announcements after it that would need it).
 *
 * Invariants: a file is in the cache only whole and verified; a journal
 * entry's bytes are the cache file of its relkey while the file's hash is
 * the entry's (a later put of the same key supersedes the entry, which is
 * then dropped, since the newer bytes went up or are queued after it); an
 * announcement is queued whenever anything is pending, so it is never
 * uploaded before the blobs put before it.
 *
 * Threads: every call is safe from any number of threads. Mutable state:
 * atomic counters, the retrier's kick/stop flags under `mu`, and the memo
 * of the last announced.version read under `memo_mu`.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "blobstore_int.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/text.h"
#include "common/log.h"
#include "common/thread.h"
#include "s3_cache.h"
#include "s3_client.h"
#include "s3_int.h"

#define COPY_CHUNK (256 * 1024)
#define OBJKEY_MAX 1024
#define PREFIX_MAX 512
#define ANNOUNCED_RELKEY "announced.version"
#define LOCK_RETRY_MS 2000 /* another process is the retrier: ask again */
#define IDLE_POLL_MS 1000  /* other processes may queue into our journal */

#define DEFAULT_ENDPOINT "localhost:9000"
#define DEFAULT_REGION "us-east-1"
#define DEFAULT_BUCKET "hollow-test"
#define DEFAULT_KEY "minioadmin"
#define DEFAULT_CACHE_MAX (UINT64_C(4) << 30)
#define DEFAULT_PART_SIZE (UINT64_C(16) << 20)
#define MIN_PART_SIZE (UINT64_C(5) << 20)

typedef struct s3_store {
    hollow_blobstore parent; /* must come first */
    hollow__s3 *cli;
    hollow__s3_cache *cache;
    char *prefix; /* "" or "p/q/" (with its trailing '/') */
    char *where;  /* "<bucket>/<prefix>" for messages */
    bool strict;
    uint32_t retry_min_ms;
    uint32_t retry_max_ms;

    hollow__mutex mu;     /* guards the retrier flags below */
    hollow__cond wake;    /* the retrier waits here */
    hollow__cond idle;    /* flush waits here for a retrier pass */
    bool kicked;
    bool stop;
    bool thread_started;
    hollow__thread retrier;

    hollow__mutex memo_mu; /* the last announced.version read */
    char memo_etag[128];
    int64_t memo_version;

    atomic_uint_fast64_t hits, misses, bytes_up, bytes_down, uploads, retries;
    atomic_bool list_offline; /* the last list fell back to the cache */
} s3_store;

static void s3_free(hollow_blobstore *bs);

bool hollow__s3_store_is(const hollow_blobstore *bs)
{
    return bs != NULL && bs->free == s3_free;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

static const char *const folder_of[] = {"snapshots/", "deltas/", "reverse/",
                                        "headers/"};

/* "snapshots/snapshot-5", ... */
static int relkey_of(char *buf, size_t cap, const hollow_blob_key *key)
{
    char name[HOLLOW_BLOB_NAME_MAX];
    HOLLOW_TRY(hollow_blob_key_name(name, sizeof name, key));
    int n = snprintf(buf, cap, "%s%s", folder_of[key->kind], name);
    if (n < 0 || (size_t)n >= cap)
        return hollow__error_set(HOLLOW_ERANGE, "s3 relkey too long");
    return 0;
}

/* the key of a relkey, if it is a blob in its own folder */
static bool relkey_parse(hollow_blob_key *out, const char *relkey)
{
    for (int k = 0; k < 4; k++) {
        size_t fl = strlen(folder_of[k]);
        if (strncmp(relkey, folder_of[k], fl) == 0)
            return hollow__blob_key_match(out, relkey + fl) &&
                   (int)out->kind == k;
    }
    return false;
}

static int objkey_of(char *buf, size_t cap, const s3_store *s,
                     const char *relkey)
{
    int n = snprintf(buf, cap, "%s%s", s->prefix, relkey);
    if (n < 0 || (size_t)n >= cap)
        return hollow__error_set(HOLLOW_ERANGE, "s3 object key too long");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Hashing                                                             */
/* ------------------------------------------------------------------ */

static void hex_of(char *out, const unsigned char *md, unsigned int len)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * len] = '\0';
}

static int write_all(int fd, const uint8_t *p, size_t len, const char *path)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return hollow__error_set_os(HOLLOW_EIO, n < 0 ? errno : EIO,
                                        "write %s", path);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Copy `src` into the open file `fd`, hashing it: *size_out and
 * sha_hex (65 bytes) describe what was written.
 */
static int copy_hashing(int64_t *size_out, char *sha_hex, hollow_stream *src,
                        int fd, const char *path)
{
    uint8_t *buf = hollow__malloc(COPY_CHUNK);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = 0;
    if (buf == NULL || md == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = hollow__error_set(HOLLOW_ERROR, "sha-256 unavailable");
        goto done;
    }
    int64_t total = 0;
    for (;;) {
        size_t n;
        if ((rc = hollow_stream_read(&n, src, buf, COPY_CHUNK)) < 0)
            goto done;
        if (n == 0)
            break;
        EVP_DigestUpdate(md, buf, n);
        if ((rc = write_all(fd, buf, n, path)) < 0)
            goto done;
        total += (int64_t)n;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(md, digest, &dlen);
    hex_of(sha_hex, digest, dlen);
    *size_out = total;
done:
    EVP_MD_CTX_free(md);
    hollow__free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The retrier                                                         */
/* ------------------------------------------------------------------ */

static void kick(s3_store *s)
{
    hollow__mutex_lock(&s->mu);
    s->kicked = true;
    hollow__cond_signal(&s->wake);
    hollow__mutex_unlock(&s->mu);
}

#define DAMAGED 1 /* upload_entry(): the blob's bytes are not the entry's */

/* the newest version a blob belongs to (a reverse delta's from_version) */
static int64_t blob_version(const char *relkey)
{
    hollow_blob_key k;
    if (!relkey_parse(&k, relkey))
        return INT64_MIN; /* not a blob name: blocks every later one */
    return k.from_version > k.version ? k.from_version : k.version;
}

/*
 * Upload one journal entry. A blob whose cache file is gone (removed) or
 * holds other bytes (put again since) is superseded: done, nothing sent.
 * A blob's file is hashed first, verify_cache or not: one that no longer
 * matches the entry's size and SHA-256 is removed, not sent (DAMAGED).
 * (No HEAD probe first during an outage: s3rver answers 500 to a HEAD of
 * an object whose write a crash cut, which only the PUT repairs.)
 */
static int upload_entry(s3_store *s, const hollow__s3_entry *e)
{
    char objkey[OBJKEY_MAX];
    HOLLOW_TRY(objkey_of(objkey, sizeof objkey, s, e->relkey));
    if (e->kind == HOLLOW__S3_ENTRY_ANNOUNCE) {
        atomic_fetch_add(&s->retries, 1);
        char text[32];
        int n = snprintf(text, sizeof text, "%lld", (long long)e->version);
        HOLLOW_TRY(hollow__s3_put_bytes(s->cli, objkey, text, (size_t)n));
        atomic_fetch_add(&s->uploads, 1);
        atomic_fetch_add(&s->bytes_up, (uint64_t)n);
        return 0;
    }
    char path[PATH_MAX];
    char sha[65];
    int64_t size = 0;
    int rc = hollow__s3_cache_verify(s->cache, e->relkey, path, sizeof path,
                                     &size, sha);
    if (rc == 0 && strcmp(sha, e->sha256) == 0 && size != e->size) {
        hollow__s3_cache_remove(s->cache, e->relkey);
        rc = hollow__error_set(HOLLOW_ECORRUPT, "%" PRId64 " bytes, the "
                               "journal says %" PRId64, size, e->size);
    }
    if (rc == HOLLOW_ECORRUPT) {
        hollow__log(HOLLOW_LOG_ERROR, "s3 store: pending %s%s was damaged "
                    "in the cache and is not uploaded: %s", s->where,
                    e->relkey, hollow_error_last()->message);
        hollow_error_clear();
        return DAMAGED;
    }
    if (rc == HOLLOW_ENOTFOUND || (rc == 0 && strcmp(sha, e->sha256) != 0)) {
        hollow_error_clear();
        return 0;
    }
    if (rc < 0)
        return rc;
    atomic_fetch_add(&s->retries, 1);
    HOLLOW_TRY(hollow__s3_put_file(s->cli, objkey, path, sha));
    atomic_fetch_add(&s->uploads, 1);
    atomic_fetch_add(&s->bytes_up, (uint64_t)size);
    return 0;
}

/*
 * The blob v[at] was damaged: drop the announcements after it of its
 * version or a later one (they would announce a state S3 cannot give),
 * before the blob's own entry is dropped, so that no crash or later pass
 * can send them. `dropped[j]` marks them for the pass.
 */
static void drop_announcements(s3_store *s, const hollow__s3_entry *v,
                               size_t n, size_t at, bool *dropped)
{
    int64_t bv = blob_version(v[at].relkey);
    for (size_t j = at + 1; j < n; j++) {
        if (v[j].kind != HOLLOW__S3_ENTRY_ANNOUNCE || v[j].version < bv ||
            dropped[j])
            continue;
        hollow__log(HOLLOW_LOG_ERROR, "s3 store: version %lld of %s not "
                    "announced: its blob %s was damaged before upload",
                    (long long)v[j].version, s->where, v[at].relkey);
        if (hollow__s3_journal_done(s->cache, v[j].id) < 0)
            hollow_error_clear(); /* already marked, or retried next pass */
        dropped[j] = true;
    }
}

/* one pass over the journal: 0 when it is empty, <0 when an upload failed
 * (warned about once per outage: `*failing` says one is going on) */
static int retry_pass(s3_store *s, bool *failing)
{
    hollow__s3_entry *v = NULL;
    size_t n = 0;
    int rc = hollow__s3_journal_pending(s->cache, &v, &n);
    bool *dropped = NULL;
    if (rc == 0 && (dropped = hollow__calloc(n ? n : 1, sizeof *dropped)) ==
                       NULL)
        rc = hollow__error_oom();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        hollow__mutex_lock(&s->mu);
        bool stop = s->stop;
        hollow__mutex_unlock(&s->mu);
        if (stop)
            break;
        if (dropped[i])
            continue;
        rc = upload_entry(s, &v[i]);
        if (rc == DAMAGED) {
            drop_announcements(s, v, n, i, dropped);
            rc = 0;
        }
        if (rc < 0) {
            hollow__log(*failing ? HOLLOW_LOG_DEBUG : HOLLOW_LOG_WARN,
                        "s3 store: upload of pending %s%s failed, will "
                        "retry: %s", s->where, v[i].relkey,
                        hollow_error_last()->message);
            *failing = true;
        } else if ((rc = hollow__s3_journal_done(s->cache, v[i].id)) ==
                   HOLLOW_ENOTFOUND) {
            hollow_error_clear(); /* already marked: nothing to redo */
            rc = 0;
        } else if (rc < 0) {
            hollow__log(HOLLOW_LOG_WARN, "s3 store: journal: %s",
                        hollow_error_last()->message);
        }
    }
    hollow__free(dropped);
    hollow__free(v);
    if (rc == 0)
        *failing = false;
    return rc;
}

/*
 * The retrier: becomes the cache dir's retrier (the journal lock; asked
 * again every LOCK_RETRY_MS while another process holds it), then
 * uploads the journal in order. A failure waits retry_min_ms, doubling up
 * to retry_max_ms; a put that queues something wakes it at once; with
 * nothing to do it re-reads the journal every IDLE_POLL_MS (other
 * processes append to the same journal). After each pass it wakes flush().
 */
static void *retrier_main(void *arg)
{
    s3_store *s = arg;
    uint32_t backoff = s->retry_min_ms;
    bool failing = false;
    int64_t wait_ms = 0; /* at once: entries a dead process left */
    for (;;) {
        hollow__mutex_lock(&s->mu);
        if (wait_ms > 0 && !s->kicked && !s->stop) {
            struct timespec dl = hollow__deadline_ms(wait_ms);
            while (!s->kicked && !s->stop)
                if (hollow__cond_wait_until(&s->wake, &s->mu, &dl))
                    break;
        }
        bool stop = s->stop;
        s->kicked = false;
        hollow__mutex_unlock(&s->mu);
        if (stop)
            break;
        if (!hollow__s3_journal_try_lock(s->cache)) {
            wait_ms = LOCK_RETRY_MS;
            continue;
        }
        if (retry_pass(s, &failing) < 0) {
            wait_ms = backoff;
            backoff = backoff > s->retry_max_ms / 2 ? s->retry_max_ms
                                                    : backoff * 2;
        } else {
            backoff = s->retry_min_ms;
            wait_ms = IDLE_POLL_MS;
        }
        hollow__mutex_lock(&s->mu);
        hollow__cond_broadcast(&s->idle);
        hollow__mutex_unlock(&s->mu);
    }
    return NULL;
}

/* queue an entry and wake the retrier; a warning says why */
static int enqueue(s3_store *s, hollow__s3_entry *e, const char *why)
{
    HOLLOW_TRY(hollow__s3_journal_add(s->cache, e));
    hollow__log(HOLLOW_LOG_WARN, "s3 store: %s%s kept pending for upload (%s)",
                s->where, e->relkey, why);
    kick(s);
    return 0;
}

/* ------------------------------------------------------------------ */
/* put                                                                 */
/* ------------------------------------------------------------------ */

static int s3_put(hollow_blobstore *bs, const hollow_blob_key *key,
                  hollow_stream *src)
{
    s3_store *s = (s3_store *)bs;
    hollow__s3_entry e;
    memset(&e, 0, sizeof e);
    e.kind = HOLLOW__S3_ENTRY_BLOB;
    HOLLOW_TRY(relkey_of(e.relkey, sizeof e.relkey, key));
    char objkey[OBJKEY_MAX];
    HOLLOW_TRY(objkey_of(objkey, sizeof objkey, s, e.relkey));

    char tmp[PATH_MAX];
    int fd = -1;
    HOLLOW_TRY(hollow__s3_cache_tmp(s->cache, &fd, tmp, sizeof tmp));
    int rc = copy_hashing(&e.size, e.sha256, src, fd, tmp);
    if (close(fd) != 0 && rc == 0)
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "close %s", tmp);
    if (rc < 0) {
        hollow__s3_cache_discard(s->cache, tmp);
        return rc;
    }
    HOLLOW_TRY(hollow__s3_cache_commit(s->cache, e.relkey, tmp, e.size,
                                       e.sha256));
    char path[PATH_MAX];
    rc = hollow__s3_cache_lookup(s->cache, e.relkey, path, sizeof path, NULL,
                                 NULL);
    if (rc == 0)
        rc = hollow__s3_put_file(s->cli, objkey, path, e.sha256);
    if (rc == 0) {
        atomic_fetch_add(&s->uploads, 1);
        atomic_fetch_add(&s->bytes_up, (uint64_t)e.size);
        return 0;
    }
    if (rc == HOLLOW_EIO && !s->strict) {
        char why[256];
        snprintf(why, sizeof why, "%s", hollow_error_last()->message);
        hollow_error_clear();
        return enqueue(s, &e, why);
    }
    /* strict, or refused: nothing of this put stays */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", hollow_error_last()->message);
    hollow__s3_cache_remove(s->cache, e.relkey);
    return hollow__error_set(rc, "%s", msg);
}

/*
 * The producer's exclusive claim of a header name: refused when the cache
 * or S3 has the name. Not atomic against another process (S3 has no
 * create-only put here); the producer's version minting above every name
 * listed is what keeps two producers apart. S3 unreachable: the claim
 * queues like any put (strict: fails).
 */
int hollow__s3_put_new(hollow_blobstore *bs, const hollow_blob_key *key,
                       hollow_stream *src)
{
    if (!hollow__s3_store_is(bs))
        return HOLLOW_ENOTSUPPORTED;
    s3_store *s = (s3_store *)bs;
    char relkey[HOLLOW__S3_RELKEY_MAX];
    char objkey[OBJKEY_MAX];
    char path[PATH_MAX];
    HOLLOW_TRY(relkey_of(relkey, sizeof relkey, key));
    HOLLOW_TRY(objkey_of(objkey, sizeof objkey, s, relkey));
    int rc = hollow__s3_cache_lookup(s->cache, relkey, path, sizeof path, NULL,
                                     NULL);
    if (rc == 0)
        return hollow__error_set(HOLLOW_EEXISTS, "%s%s is already stored",
                                 s->where, relkey);
    hollow__s3_object info;
    rc = hollow__s3_head(s->cli, objkey, &info);
    if (rc == 0)
        return hollow__error_set(HOLLOW_EEXISTS, "%s%s is already stored",
                                 s->where, relkey);
    if (rc != HOLLOW_ENOTFOUND && (rc != HOLLOW_EIO || s->strict))
        return rc;
    hollow_error_clear();
    return s3_put(bs, key, src);
}

/* ------------------------------------------------------------------ */
/* get                                                                 */
/* ------------------------------------------------------------------ */

/*
 * Download `relkey` into the cache. With `rfd`, a read descriptor of the
 * downloaded file is returned too (taken before the commit, so eviction
 * cannot take the bytes from under the caller).
 */
static int fetch(s3_store *s, const char *relkey, int *rfd)
{
    char objkey[OBJKEY_MAX];
    HOLLOW_TRY(objkey_of(objkey, sizeof objkey, s, relkey));
    char tmp[PATH_MAX];
    int fd = -1;
    HOLLOW_TRY(hollow__s3_cache_tmp(s->cache, &fd, tmp, sizeof tmp));
    hollow__s3_object info;
    char sha[65];
    memset(&info, 0, sizeof info);
    int rc = hollow__s3_get_fd(s->cli, objkey, fd, &info, sha);
    struct stat st;
    if (rc == 0 && fstat(fd, &st) != 0)
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "stat %s", tmp);
    if (close(fd) != 0 && rc == 0)
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "close %s", tmp);
    int r = -1;
    if (rc == 0 && rfd != NULL && (r = open(tmp, O_RDONLY | O_CLOEXEC)) < 0)
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "open %s", tmp);
    if (rc < 0) {
        hollow__s3_cache_discard(s->cache, tmp);
        return rc;
    }
    if (info.sha256[0] == '\0')
        hollow__log(HOLLOW_LOG_INFO, "s3 store: %s%s has no x-amz-meta-sha256 "
                    "(written by another tool): accepted unverified", s->where,
                    relkey);
    if ((rc = hollow__s3_cache_commit(s->cache, relkey, tmp,
                                      (int64_t)st.st_size, sha)) < 0) {
        if (r >= 0)
            close(r);
        return rc;
    }
    atomic_fetch_add(&s->misses, 1);
    atomic_fetch_add(&s->bytes_down, (uint64_t)st.st_size);
    if (rfd != NULL)
        *rfd = r;
    return 0;
}

/* the cache's answer for relkey: 0 hit (*size_out, may be NULL, its size),
 * ENOTFOUND miss (a damaged file is dropped by the cache and counts as a
 * miss) */
static int lookup(s3_store *s, const char *relkey, char *path, size_t cap,
                  int64_t *size_out)
{
    int rc = hollow__s3_cache_lookup(s->cache, relkey, path, cap, size_out,
                                     NULL);
    if (rc == HOLLOW_ECORRUPT) {
        hollow__log(HOLLOW_LOG_WARN, "s3 store: %s; fetching it again",
                    hollow_error_last()->message);
        hollow_error_clear();
        rc = HOLLOW_ENOTFOUND;
    } else if (rc == HOLLOW_ENOTFOUND) {
        hollow_error_clear();
    }
    return rc;
}

static int s3_get(hollow_stream **out, hollow_blobstore *bs,
                  const hollow_blob_key *key)
{
    s3_store *s = (s3_store *)bs;
    char relkey[HOLLOW__S3_RELKEY_MAX];
    char path[PATH_MAX];
    HOLLOW_TRY(relkey_of(relkey, sizeof relkey, key));
    int fd = -1;
    int rc = lookup(s, relkey, path, sizeof path, NULL);
    if (rc == 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            atomic_fetch_add(&s->hits, 1);
        else if (errno != ENOENT) /* evicted meanwhile: fetch */
            return hollow__error_set_os(HOLLOW_EIO, errno, "open %s", path);
    } else if (rc != HOLLOW_ENOTFOUND) {
        return rc;
    }
    if (fd < 0)
        HOLLOW_TRY(fetch(s, relkey, &fd));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "stat %s", relkey);
        close(fd);
        return rc;
    }
    if ((rc = hollow__stream_from_fd(out, fd, (int64_t)st.st_size)) < 0)
        close(fd);
    return rc;
}

static int s3_get_file(char *path, size_t cap, hollow_blobstore *bs,
                       const hollow_blob_key *key)
{
    s3_store *s = (s3_store *)bs;
    char relkey[HOLLOW__S3_RELKEY_MAX];
    char p[PATH_MAX];
    HOLLOW_TRY(relkey_of(relkey, sizeof relkey, key));
    int rc = lookup(s, relkey, p, sizeof p, NULL);
    if (rc == 0) {
        atomic_fetch_add(&s->hits, 1);
    } else if (rc == HOLLOW_ENOTFOUND) {
        HOLLOW_TRY(fetch(s, relkey, NULL));
        HOLLOW_TRY(hollow__s3_cache_lookup(s->cache, relkey, p, sizeof p, NULL,
                                           NULL));
    } else {
        return rc;
    }
    size_t n = strlen(p);
    if (n >= cap)
        return hollow__error_set(HOLLOW_ERANGE, "blob path needs %zu bytes, "
                                 "buffer has %zu", n + 1, cap);
    memcpy(path, p, n + 1);
    return 0;
}

/* the cache's size when it holds the blob (pending ones included), else
 * S3's answer to a HEAD: nothing is downloaded */
static int s3_size(int64_t *out, hollow_blobstore *bs,
                   const hollow_blob_key *key)
{
    s3_store *s = (s3_store *)bs;
    char relkey[HOLLOW__S3_RELKEY_MAX];
    char path[PATH_MAX];
    HOLLOW_TRY(relkey_of(relkey, sizeof relkey, key));
    int rc = lookup(s, relkey, path, sizeof path, out);
    if (rc != HOLLOW_ENOTFOUND)
        return rc;
    char objkey[OBJKEY_MAX];
    HOLLOW_TRY(objkey_of(objkey, sizeof objkey, s, relkey));
    hollow__s3_object info;
    memset(&info, 0, sizeof info);
    HOLLOW_TRY(hollow__s3_head(s->cli, objkey, &info));
    *out = info.size;
    return 0;
}

/* ------------------------------------------------------------------ */
/* list, remove                                                        */
/* ------------------------------------------------------------------ */

typedef struct list_ctx {
    size_t skip; /* length of the store's prefix */
    hollow_blob_key_cb cb;
    void *payload;
} list_ctx;

static int list_one(const char *key, int64_t size, void *payload)
{
    (void)size;
    list_ctx *l = payload;
    hollow_blob_key k;
    if (strlen(key) < l->skip || !relkey_parse(&k, key + l->skip))
        return 0; /* not ours: another tool's object */
    return l->cb(&k, l->payload);
}

/* the blobs in the cache dir (*found: how many) */
static int list_cache(s3_store *s, hollow_blob_key_cb cb, void *payload,
                      size_t *found)
{
    char (*v)[HOLLOW__S3_RELKEY_MAX] = NULL;
    size_t n = 0;
    *found = 0;
    HOLLOW_TRY(hollow__s3_cache_list(s->cache, &v, &n));
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        hollow_blob_key k;
        if (relkey_parse(&k, v[i])) {
            rc = cb(&k, payload);
            ++*found;
        }
    }
    hollow__free(v);
    return rc;
}

/*
 * S3's objects of the four folders, then the blobs still pending (the
 * generic list call sorts and removes duplicates). S3 unreachable
 * (HOLLOW_EIO): the cache's blobs instead, with a warning once per outage.
 */
static int s3_list(hollow_blobstore *bs, hollow_blob_key_cb cb, void *payload)
{
    s3_store *s = (s3_store *)bs;
    list_ctx l = {strlen(s->prefix), cb, payload};
    int rc = 0;
    for (int k = 0; rc == 0 && k < 4; k++) {
        char folder[OBJKEY_MAX];
        HOLLOW_TRY(objkey_of(folder, sizeof folder, s, folder_of[k]));
        rc = hollow__s3_list(s->cli, folder, list_one, &l);
    }
    if (rc == HOLLOW_EIO) {
        /* unreachable: what the cache holds lets a consumer start; with
         * nothing cached, S3's error says more than an empty listing */
        char why[512];
        snprintf(why, sizeof why, "%s", hollow_error_last()->message);
        if (!atomic_exchange(&s->list_offline, true))
            hollow__log(HOLLOW_LOG_WARN, "s3 store: S3 unreachable: listing "
                        "the cache for %s (%s)", s->where, why);
        hollow_error_clear();
        size_t found = 0;
        HOLLOW_TRY(list_cache(s, cb, payload, &found));
        if (found == 0)
            return hollow__error_set(HOLLOW_EIO, "%s (and no blob of %s "
                                     "is cached)", why, s->where);
    } else if (rc < 0) {
        return rc;
    } else {
        atomic_store(&s->list_offline, false);
    }
    rc = 0;
    hollow__s3_entry *v = NULL;
    size_t n = 0;
    HOLLOW_TRY(hollow__s3_journal_pending(s->cache, &v, &n));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        hollow_blob_key k;
        if (v[i].kind == HOLLOW__S3_ENTRY_BLOB && relkey_parse(&k, v[i].relkey))
            rc = cb(&k, payload);
    }
    hollow__free(v);
    return rc;
}

/* is `relkey` a pending blob of the journal? */
static bool is_pending(s3_store *s, const char *relkey)
{
    hollow__s3_entry *v = NULL;
    size_t n = 0;
    bool found = false;
    if (hollow__s3_journal_pending(s->cache, &v, &n) == 0)
        for (size_t i = 0; i < n && !found; i++)
            found = v[i].kind == HOLLOW__S3_ENTRY_BLOB &&
                    strcmp(v[i].relkey, relkey) == 0;
    hollow__free(v);
    return found;
}

/*
 * Delete from S3 and the cache. S3 answers a DELETE of a missing object
 * with 204, so a HEAD first tells whether anything was there. A pending
 * blob removed from the cache while S3 is unreachable is simply never
 * uploaded (the retrier drops entries whose file is gone).
 */
static int s3_remove(hollow_blobstore *bs, const hollow_blob_key *key)
{
    s3_store *s = (s3_store *)bs;
    char relkey[HOLLOW__S3_RELKEY_MAX];
    char objkey[OBJKEY_MAX];
    HOLLOW_TRY(relkey_of(relkey, sizeof relkey, key));
    HOLLOW_TRY(objkey_of(objkey, sizeof objkey, s, relkey));
    hollow__s3_object info;
    int head = hollow__s3_head(s->cli, objkey, &info);
    if (head < 0 && head != HOLLOW_ENOTFOUND) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", hollow_error_last()->message);
        bool pending = is_pending(s, relkey);
        if (pending && hollow__s3_cache_remove(s->cache, relkey) == 0)
            return 0;
        return hollow__error_set(head, "%s", msg);
    }
    int cached = hollow__s3_cache_remove(s->cache, relkey);
    if (cached < 0 && cached != HOLLOW_ENOTFOUND)
        return cached;
    if (head == 0)
        return hollow__s3_delete(s->cli, objkey);
    if (cached == 0) {
        hollow_error_clear();
        return 0;
    }
    return hollow__error_set(HOLLOW_ENOTFOUND, "no blob %s%s", s->where,
                             relkey);
}

/* ------------------------------------------------------------------ */
/* stats, flush, announced.version                                     */
/* ------------------------------------------------------------------ */

static int s3_stats(hollow_blobstore_stats *out, hollow_blobstore *bs)
{
    s3_store *s = (s3_store *)bs;
    out->cache_hits = atomic_load(&s->hits);
    out->cache_misses = atomic_load(&s->misses);
    out->bytes_up = atomic_load(&s->bytes_up);
    out->bytes_down = atomic_load(&s->bytes_down);
    out->uploads = atomic_load(&s->uploads);
    out->retries = atomic_load(&s->retries);
    hollow__s3_entry *v = NULL;
    size_t n = 0;
    HOLLOW_TRY(hollow__s3_journal_pending(s->cache, &v, &n));
    out->pending = n;
    out->pending_bytes = 0;
    for (size_t i = 0; i < n; i++)
        out->pending_bytes += (uint64_t)v[i].size;
    hollow__free(v);
    return 0;
}

int hollow_blobstore_s3_flush(hollow_blobstore *bs, int timeout_ms)
{
    if (!hollow__s3_store_is(bs))
        return hollow__error_set(HOLLOW_EINVAL, "flush: not an S3 store");
    s3_store *s = (s3_store *)bs;
    int64_t end = hollow__now_ns() + (int64_t)timeout_ms * 1000000;
    kick(s);
    for (;;) {
        hollow__s3_entry *v = NULL;
        size_t n = 0;
        HOLLOW_TRY(hollow__s3_journal_pending(s->cache, &v, &n));
        hollow__free(v);
        if (n == 0)
            return 0;
        int64_t left = (end - hollow__now_ns()) / 1000000;
        if (timeout_ms >= 0 && left <= 0)
            return hollow__error_set(HOLLOW_ENOTFOUND, "s3 store: %zu "
                                     "entr%s still pending after %d ms", n,
                                     n == 1 ? "y" : "ies", timeout_ms);
        int64_t slice = timeout_ms < 0 || left > 100 ? 100 : left;
        hollow__mutex_lock(&s->mu);
        struct timespec dl = hollow__deadline_ms(slice);
        hollow__cond_wait_until(&s->idle, &s->mu, &dl);
        hollow__mutex_unlock(&s->mu);
    }
}

int hollow__s3_store_announce(hollow_blobstore *bs, int64_t version)
{
    if (!hollow__s3_store_is(bs))
        return hollow__error_set(HOLLOW_EINVAL, "announce: not an S3 store");
    s3_store *s = (s3_store *)bs;
    hollow__s3_entry e;
    memset(&e, 0, sizeof e);
    e.kind = HOLLOW__S3_ENTRY_ANNOUNCE;
    e.version = version;
    snprintf(e.relkey, sizeof e.relkey, "%s", ANNOUNCED_RELKEY);
    hollow__s3_entry *v = NULL;
    size_t n = 0;
    HOLLOW_TRY(hollow__s3_journal_pending(s->cache, &v, &n));
    hollow__free(v);
    if (n > 0) /* after the blobs waiting before it */
        return enqueue(s, &e, "blobs before it are pending");
    char objkey[OBJKEY_MAX];
    char text[32];
    HOLLOW_TRY(objkey_of(objkey, sizeof objkey, s, ANNOUNCED_RELKEY));
    int len = snprintf(text, sizeof text, "%lld", (long long)version);
    int rc = hollow__s3_put_bytes(s->cli, objkey, text, (size_t)len);
    if (rc == 0) {
        atomic_fetch_add(&s->uploads, 1);
        atomic_fetch_add(&s->bytes_up, (uint64_t)len);
        return 0;
    }
    if (rc != HOLLOW_EIO || s->strict)
        return rc;
    char why[256];
    snprintf(why, sizeof why, "%s", hollow_error_last()->message);
    hollow_error_clear();
    return enqueue(s, &e, why);
}

/* the newest pending announcement of the journal; false if none */
static bool pending_announcement(s3_store *s, int64_t *out)
{
    hollow__s3_entry *v = NULL;
    size_t n = 0;
    bool found = false;
    if (hollow__s3_journal_pending(s->cache, &v, &n) == 0)
        for (size_t i = 0; i < n; i++)
            if (v[i].kind == HOLLOW__S3_ENTRY_ANNOUNCE) {
                *out = v[i].version;
                found = true;
            }
    hollow__free(v);
    return found;
}

int hollow__s3_store_read_announced(hollow_blobstore *bs, int64_t *version_out,
                                    char *etag)
{
    if (!hollow__s3_store_is(bs))
        return hollow__error_set(HOLLOW_EINVAL, "not an S3 store");
    s3_store *s = (s3_store *)bs;
    char objkey[OBJKEY_MAX];
    HOLLOW_TRY(objkey_of(objkey, sizeof objkey, s, ANNOUNCED_RELKEY));
    int64_t pv = 0;
    bool has_pending = pending_announcement(s, &pv);
    char buf[64];
    size_t len = 0;
    hollow__s3_object info;
    memset(&info, 0, sizeof info);
    int rc;
    /* s3rver replaces an object's bytes and its metadata in two steps, so a
     * read racing an announcement can see a mismatch: read again */
    for (int attempt = 0;; attempt++) {
        rc = hollow__s3_get_small(s->cli, objkey, etag[0] ? etag : NULL, buf,
                                  sizeof buf, &len, &info);
        if (rc != HOLLOW_ECORRUPT || attempt == 2)
            break;
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (rc == 1) {
        /* unchanged: the object's version is the one read with that etag */
        hollow__mutex_lock(&s->memo_mu);
        bool known = strcmp(s->memo_etag, etag) == 0;
        int64_t ov = s->memo_version;
        hollow__mutex_unlock(&s->memo_mu);
        if (has_pending && (!known || pv > ov)) {
            *version_out = pv;
            return 0;
        }
        return 1;
    }
    if (rc == HOLLOW_ERANGE)
        return hollow__error_set(HOLLOW_ECORRUPT, "%s" ANNOUNCED_RELKEY
                                 " is longer than a version", s->where);
    if (rc < 0) {
        if (has_pending && (rc == HOLLOW_ENOTFOUND || rc == HOLLOW_EIO)) {
            hollow_error_clear();
            *version_out = pv;
            return 0;
        }
        if (rc == HOLLOW_ENOTFOUND)
            return hollow__error_set(HOLLOW_ENOTFOUND, "nothing announced: no "
                                     "%s" ANNOUNCED_RELKEY, s->where);
        return rc;
    }
    int64_t ov;
    if (!hollow__parse_announced_version(&ov, buf, len)) {
        char shown[33];
        size_t k = len < 32 ? len : 32;
        for (size_t i = 0; i < k; i++)
            shown[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '?';
        shown[k] = '\0';
        return hollow__error_set(HOLLOW_ECORRUPT, "%s" ANNOUNCED_RELKEY
                                 " does not hold a version: \"%s\"", s->where,
                                 shown);
    }
    snprintf(etag, 128, "%s", info.etag);
    hollow__mutex_lock(&s->memo_mu);
    snprintf(s->memo_etag, sizeof s->memo_etag, "%s", info.etag);
    s->memo_version = ov;
    hollow__mutex_unlock(&s->memo_mu);
    *version_out = has_pending && pv > ov ? pv : ov;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Options and creation                                                */
/* ------------------------------------------------------------------ */

static const char *pick(const char *given, const char *env1, const char *env2,
                        const char *dflt)
{
    if (given != NULL && given[0] != '\0')
        return given;
    const char *e = env1 ? getenv(env1) : NULL;
    if (e != NULL && e[0] != '\0')
        return e;
    e = env2 ? getenv(env2) : NULL;
    if (e != NULL && e[0] != '\0')
        return e;
    return dflt;
}

static bool is_loopback(const char *hostport)
{
    char host[256];
    size_t n;
    if (hostport[0] == '[') { /* [::1]:9000 */
        const char *e = strchr(hostport, ']');
        n = e ? (size_t)(e - hostport - 1) : 0;
        if (n >= sizeof host)
            return false;
        memcpy(host, hostport + 1, n);
    } else {
        const char *c = strrchr(hostport, ':');
        n = c ? (size_t)(c - hostport) : strlen(hostport);
        if (n >= sizeof host)
            return false;
        memcpy(host, hostport, n);
    }
    host[n] = '\0';
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0;
}

/* [A-Za-z0-9._:-] and brackets: what a host:port holds */
static bool hostport_ok(const char *p)
{
    if (*p == '\0')
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr("._-:[]", *p) != NULL))
            return false;
    return true;
}

/*
 * The base URL from the endpoint and use_tls (-1, 0, 1): "host:port" gets
 * https unless it is loopback or localhost; an http:// or https:// URL
 * keeps its scheme, and an explicit use_tls that contradicts it is an
 * error rather than a silent downgrade. A trailing '/' is dropped; a path
 * is refused (path-style addressing puts the bucket there).
 */
static int resolve_url(char *url, size_t cap, char *hostport, size_t hcap,
                       const char *endpoint, int use_tls)
{
    int scheme = -1; /* -1 none, 0 http, 1 https */
    const char *hp = endpoint;
    if (strncmp(endpoint, "http://", 7) == 0) {
        scheme = 0;
        hp += 7;
    } else if (strncmp(endpoint, "https://", 8) == 0) {
        scheme = 1;
        hp += 8;
    } else if (strstr(endpoint, "://") != NULL) {
        return hollow__error_set(HOLLOW_EINVAL, "s3 endpoint %.200s: only "
                                 "http:// and https:// are supported",
                                 endpoint);
    }
    size_t n = strlen(hp);
    while (n > 0 && hp[n - 1] == '/')
        n--;
    if (n == 0 || n >= hcap)
        return hollow__error_set(HOLLOW_EINVAL, "s3 endpoint %.200s: no host",
                                 endpoint);
    memcpy(hostport, hp, n);
    hostport[n] = '\0';
    if (!hostport_ok(hostport))
        return hollow__error_set(HOLLOW_EINVAL, "s3 endpoint %.200s: expected "
                                 "host:port or http[s]://host[:port]",
                                 endpoint);
    if (use_tls < -1 || use_tls > 1)
        return hollow__error_set(HOLLOW_EINVAL, "s3 use_tls %d: expected -1, 0 "
                                 "or 1", use_tls);
    bool tls;
    if (scheme >= 0 && use_tls >= 0 && scheme != use_tls)
        return hollow__error_set(HOLLOW_EINVAL, "s3 endpoint %.200s "
                                 "contradicts use_tls %d", endpoint, use_tls);
    if (use_tls >= 0)
        tls = use_tls == 1;
    else if (scheme >= 0)
        tls = scheme == 1;
    else
        tls = !is_loopback(hostport);
    int k = snprintf(url, cap, "%s://%s", tls ? "https" : "http", hostport);
    if (k < 0 || (size_t)k >= cap)
        return hollow__error_set(HOLLOW_EINVAL, "s3 endpoint too long");
    return 0;
}

/* S3 bucket names: 3-63 of [a-z0-9.-], starting and ending alphanumeric */
static bool bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || b[0] == '.' || b[0] == '-' || b[n - 1] == '.' ||
        b[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') ||
              b[i] == '.' || b[i] == '-'))
            return false;
    return true;
}

/* [A-Za-z0-9._-] segments joined by single '/', no '/' at either end */
static bool prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n >= PREFIX_MAX || p[0] == '/' || p[n - 1] == '/' ||
        strstr(p, "//") != NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || strchr("._-/", p[i]) != NULL))
            return false;
    /* no "." or ".." segment: a cache dir path must stay under its root */
    for (const char *seg = p; seg != NULL;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') ||
            (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = end ? end + 1 : NULL;
    }
    return true;
}

/* $XDG_CACHE_HOME/hollow/<endpoint>/<bucket>[/<prefix>], else ~/.cache/... */
static int default_cache_dir(char *buf, size_t cap, const char *hostport,
                             const char *bucket, const char *prefix)
{
    const char *base = getenv("XDG_CACHE_HOME");
    const char *sub = "hollow";
    char home_cache[PATH_MAX];
    if (base == NULL || base[0] != '/') { /* relative: ignored, as the spec says */
        const char *home = getenv("HOME");
        if (home == NULL || home[0] == '\0')
            return hollow__error_set(HOLLOW_EINVAL, "s3 store: no cache_dir "
                                     "given and neither XDG_CACHE_HOME nor "
                                     "HOME is set");
        snprintf(home_cache, sizeof home_cache, "%s/.cache", home);
        base = home_cache;
    }
    int n = snprintf(buf, cap, "%s/%s/%s/%s%s%s", base, sub, hostport, bucket,
                     prefix[0] ? "/" : "", prefix);
    if (n < 0 || (size_t)n >= cap)
        return hollow__error_set(HOLLOW_EINVAL, "s3 store: cache dir path too "
                                 "long");
    return 0;
}

static void s3_free(hollow_blobstore *bs)
{
    s3_store *s = (s3_store *)bs;
    if (s->thread_started) {
        hollow__mutex_lock(&s->mu);
        s->stop = true;
        hollow__cond_broadcast(&s->wake);
        hollow__mutex_unlock(&s->mu);
        hollow__thread_join(s->retrier);
    }
    if (s->cli != NULL)
        hollow__s3_free(s->cli);
    if (s->cache != NULL)
        hollow__s3_cache_close(s->cache);
    hollow__cond_destroy(&s->wake);
    hollow__cond_destroy(&s->idle);
    hollow__mutex_destroy(&s->mu);
    hollow__mutex_destroy(&s->memo_mu);
    hollow__free(s->prefix);
    hollow__free(s->where);
    hollow__free(s);
}

/*
 * A cache dir serves one bucket and prefix: relkeys carry neither, so two
 * datasets sharing a dir would read each other's blobs (versions minted in
 * the same second have the same names). The first store to open a dir
 * records its "<bucket>/<prefix>" in ORIGIN_NAME (written whole, then
 * linked into place); a store of another dataset is refused.
 */
#define ORIGIN_NAME ".hollow-s3-origin"

static int claim_cache_dir(const char *dir, const char *where)
{
    char path[PATH_MAX], tmp[PATH_MAX], have[PREFIX_MAX + 260];
    int w1 = snprintf(path, sizeof path, "%s/" ORIGIN_NAME, dir);
    int w2 = snprintf(tmp, sizeof tmp, "%s/" ORIGIN_NAME ".%ld", dir,
                      (long)getpid());
    if (w1 < 0 || (size_t)w1 >= sizeof path || w2 < 0 ||
        (size_t)w2 >= sizeof tmp)
        return hollow__error_set(HOLLOW_EINVAL, "s3 cache_dir too long");
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, have, sizeof have - 1);
            close(fd);
            if (n < 0)
                return hollow__error_set_os(HOLLOW_EIO, errno, "read %s", path);
            have[n] = '\0';
            have[strcspn(have, "\n")] = '\0';
            if (strcmp(have, where) == 0)
                return 0;
            return hollow__error_set(HOLLOW_EINVAL,
                                     "s3 cache dir %s holds the blobs of %s, "
                                     "not %s: give each bucket and prefix its "
                                     "own cache dir", dir, have, where);
        }
        if (errno != ENOENT)
            return hollow__error_set_os(HOLLOW_EIO, errno, "open %s", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            return hollow__error_set_os(HOLLOW_EIO, errno, "create %s", tmp);
        size_t len = strlen(where);
        bool ok = write(fd, where, len) == (ssize_t)len &&
                  write(fd, "\n", 1) == 1 && fsync(fd) == 0;
        int err = errno;
        close(fd);
        if (!ok) {
            unlink(tmp);
            return hollow__error_set_os(HOLLOW_EIO, err, "write %s", tmp);
        }
        int lrc = link(tmp, path); /* EEXIST: another store won; read it */
        err = errno;
        unlink(tmp);
        if (lrc == 0)
            return 0;
        if (err != EEXIST)
            return hollow__error_set_os(HOLLOW_EIO, err, "link %s", path);
    }
    return hollow__error_set(HOLLOW_EIO, "cannot claim s3 cache dir %s", dir);
}

int hollow_blobstore_s3_new(hollow_blobstore **out,
                            const hollow_blobstore_s3_options *opts)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "s3 store: out is NULL");
    *out = NULL;
    hollow_blobstore_s3_options dflt = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    if (opts == NULL)
        opts = &dflt;
    HOLLOW_TRY(hollow__check_options_version(
        "s3 store", opts->version, HOLLOW_BLOBSTORE_S3_OPTIONS_VERSION));

    const char *endpoint =
        pick(opts->endpoint, "AWS_ENDPOINT_URL", NULL, DEFAULT_ENDPOINT);
    char url[320], hostport[256];
    HOLLOW_TRY(resolve_url(url, sizeof url, hostport, sizeof hostport,
                           endpoint, opts->use_tls));
    const char *bucket = pick(opts->bucket, NULL, NULL, DEFAULT_BUCKET);
    if (!bucket_ok(bucket))
        return hollow__error_set(HOLLOW_EINVAL, "s3 bucket name %.80s: expected "
                                 "3-63 of a-z 0-9 . -", bucket);
    const char *prefix = opts->prefix ? opts->prefix : "";
    if (prefix[0] != '\0' && !prefix_ok(prefix))
        return hollow__error_set(HOLLOW_EINVAL, "s3 prefix %.200s: expected "
                                 "[A-Za-z0-9._-] segments joined by '/', none "
                                 "at either end", prefix);
    uint64_t part = opts->part_size ? opts->part_size : DEFAULT_PART_SIZE;
    if (part < MIN_PART_SIZE)
        return hollow__error_set(HOLLOW_EINVAL, "s3 part_size %llu: S3's "
                                 "minimum is 5 MiB", (unsigned long long)part);
    char cache_dir[PATH_MAX];
    if (opts->cache_dir != NULL && opts->cache_dir[0] != '\0') {
        if (strlen(opts->cache_dir) >= sizeof cache_dir)
            return hollow__error_set(HOLLOW_EINVAL, "s3 cache_dir too long");
        snprintf(cache_dir, sizeof cache_dir, "%s", opts->cache_dir);
    } else {
        HOLLOW_TRY(default_cache_dir(cache_dir, sizeof cache_dir, hostport,
                                     bucket, prefix));
    }

    hollow__s3_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.base_url = url;
    cfg.ca_file = opts->ca_file;
    cfg.region = pick(opts->region, "AWS_REGION", "AWS_DEFAULT_REGION",
                      DEFAULT_REGION);
    cfg.bucket = bucket;
    cfg.access_key = pick(opts->access_key, "AWS_ACCESS_KEY_ID", NULL,
                          DEFAULT_KEY);
    cfg.secret_key = pick(opts->secret_key, "AWS_SECRET_ACCESS_KEY", NULL,
                          DEFAULT_KEY);
    cfg.session_token = pick(opts->session_token, "AWS_SESSION_TOKEN", NULL,
                             NULL);
    cfg.connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms
                                                      : 5000;
    cfg.timeout_ms = opts->timeout_ms;
    cfg.part_size = part;

    s3_store *s = hollow__calloc(1, sizeof *s);
    HOLLOW_CHECK_ALLOC(s);
    int rc = 0;
    bool sync_made = false;
    size_t plen = strlen(prefix);
    s->prefix = hollow__malloc(plen + 2);
    s->where = hollow__malloc(strlen(bucket) + plen + 3);
    if (s->prefix == NULL || s->where == NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    snprintf(s->prefix, plen + 2, "%s%s", prefix, plen ? "/" : "");
    snprintf(s->where, strlen(bucket) + plen + 3, "%s/%s", bucket, s->prefix);
    s->strict = opts->strict;
    s->retry_min_ms = opts->retry_min_ms ? opts->retry_min_ms : 200;
    s->retry_max_ms = opts->retry_max_ms ? opts->retry_max_ms : 30000;
    if (s->retry_max_ms < s->retry_min_ms)
        s->retry_max_ms = s->retry_min_ms;
    if (hollow__mutex_init(&s->mu) != 0 || hollow__mutex_init(&s->memo_mu) != 0 ||
        hollow__cond_init(&s->wake) != 0 || hollow__cond_init(&s->idle) != 0) {
        rc = hollow__error_set(HOLLOW_ERROR, "s3 store: mutex init failed");
        goto fail;
    }
    sync_made = true;
    if ((rc = hollow__s3_cache_open(&s->cache, cache_dir,
                                    opts->cache_max_bytes ? opts->cache_max_bytes
                                                          : DEFAULT_CACHE_MAX,
                                    opts->verify_cache)) < 0)
        goto fail;
    if ((rc = claim_cache_dir(cache_dir, s->where)) < 0)
        goto fail;
    if ((rc = hollow__s3_new(&s->cli, &cfg)) < 0)
        goto fail;
    rc = hollow__s3_create_bucket(s->cli);
    if (rc == HOLLOW_EIO && !s->strict) {
        /* S3 may come back later: puts queue meanwhile */
        hollow__log(HOLLOW_LOG_WARN, "s3 store: %s", hollow_error_last()->message);
        hollow_error_clear();
        rc = 0;
    }
    if (rc < 0)
        goto fail;
    int err = hollow__thread_create(&s->retrier, retrier_main, s);
    if (err != 0) {
        rc = hollow__error_set_os(HOLLOW_ERROR, err, "s3 store: cannot start "
                                  "the upload retrier");
        goto fail;
    }
    s->thread_started = true;
    s->parent.version = HOLLOW_BLOBSTORE_VERSION;
    s->parent.put = s3_put;
    s->parent.put_file = NULL;
    s->parent.get = s3_get;
    s->parent.get_file = s3_get_file;
    s->parent.list = s3_list;
    s->parent.remove = s3_remove;
    s->parent.free = s3_free;
    s->parent.stats = s3_stats;
    s->parent.size = s3_size;
    *out = &s->parent;
    return 0;
fail:
    if (sync_made) {
        s3_free(&s->parent);
    } else {
        hollow__free(s->prefix);
        hollow__free(s->where);
        hollow__free(s);
    }
    return rc;
}
