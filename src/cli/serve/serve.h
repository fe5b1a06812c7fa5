/*
 * hollow-cli serve: the explorer, an HTTP server over a consumer that
 * follows a store (docs/explorer.md). One component per file:
 *
 *   server.c   libmicrohttpd, routing, the request's format and limits
 *   pages.c    Types, Records (paged, deep, lookup by key), Versions, pin
 *   record.c   one record rendered deep, as HTML or JSON
 *   history.c  the diff cache and the history of a key (states of past
 *              versions, the index cache)
 *   assets.c   the stylesheet and script compiled into the binary
 *   buf.c      the bounded response buffer and its escaping
 *
 * Threads: libmicrohttpd runs one thread per connection. A request pins the
 * published state with hollow_consumer_acquire_state() for as long as it
 * renders and releases it before the response is sent, so a slow client
 * holds no state and never the consumer's lock. The caches have their own
 * mutex; the slow work (loading a past version, computing a diff) runs
 * under the cache's `work` mutex only, never the consumer's.
 */
#ifndef HOLLOW_SERVE_H
#define HOLLOW_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "hollow/announcer.h"
#include "hollow/blobstore.h"
#include "hollow/consumer.h"
#include "hollow/diff.h"
#include "hollow/index.h"

/* bounds of every request */
#define SERVE_MAX_RESPONSE (16u << 20) /* bytes of one response */
#define SERVE_MAX_PAGE 200             /* records of one page */
#define SERVE_DEFAULT_PAGE 20
#define SERVE_MAX_DEPTH 8     /* nesting rendered deep */
#define SERVE_MAX_NODES 20000 /* values rendered in one response */
#define SERVE_DIFFS 4         /* diffs kept */
#define SERVE_STATES 8        /* past states kept */
#define SERVE_INDEXES 16      /* indexes kept */

typedef struct serve_diff {
    int64_t from, to;
    hollow_diff *diff;
    unsigned refs; /* requests using it, plus one while cached */
    uint64_t used;
} serve_diff;

typedef struct serve_state {
    int64_t version;
    hollow_read_state *rs;
    uint64_t used;
} serve_state;

typedef struct serve_index {
    char *type, *path; /* path NULL: the primary key */
    hollow_index *ix;  /* over some state; derived when it moves on */
    uint64_t used;
} serve_index;

typedef struct serve_ctx {
    hollow_consumer *consumer;
    hollow_blobstore *bs;
    hollow_announcer *an; /* may be NULL (polling) */
    const char *store_name;
    bool allow_pin;
    unsigned history_max;

    pthread_mutex_t lock;   /* the caches below and `pinned` */
    pthread_mutex_t work;   /* one slow computation at a time */
    pthread_mutex_t ixwork; /* one index build or derivation at a time */
    pthread_cond_t warm_cv; /* wakes the warmer (under `lock`) */
    pthread_t warm_thread;
    bool warm_started, warm_stop;
    int64_t warm_version; /* a refresh to warm for, 0: none */
    int64_t pinned;       /* 0: not pinned */
    uint64_t clock;       /* LRU stamps */
    serve_diff *diffs[SERVE_DIFFS];
    serve_state states[SERVE_STATES];
    serve_index indexes[SERVE_INDEXES];
    uint64_t requests, failures; /* counted for /metrics */
} serve_ctx;

/* a parsed request: the route's page writes into `out` */
typedef struct serve_req {
    serve_ctx *ctx;
    const char *path; /* after the route's prefix */
    void *conn;       /* struct MHD_Connection * */
    bool json;
    bool post;
    sbuf *out;
    int status;               /* 200 unless a page sets another */
    const char *content_type; /* NULL: HTML or JSON by `json` */
    const char *location;     /* a redirect's target, or NULL */
} serve_req;

/* a query argument, or NULL */
const char *serve_arg(serve_req *r, const char *name);
/* an unsigned argument: `def` when absent; false (and a 400 page) when bad */
bool serve_arg_u64(serve_req *r, const char *name, uint64_t def, uint64_t max,
                   uint64_t *out);
bool serve_arg_version(serve_req *r, const char *name, int64_t *out);

/* page frame: the header (title escaped) and navigation, and its end */
void page_begin(serve_req *r, const char *title);
void page_end(serve_req *r);
/* an error page (HTML or JSON) with status `status` */
void page_error(serve_req *r, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* pages.c */
void page_types(serve_req *r);
void page_type(serve_req *r, const char *type, const char *ordinal);
void page_versions(serve_req *r);
void page_pin(serve_req *r, bool pin);
void page_diff(serve_req *r);
void page_history(serve_req *r, const char *type);
void page_metrics(serve_req *r);

/* record.c: record `o` of `t` deep, as HTML (nested, collapsible, links)
 * or JSON; `*budget` counts down the values rendered */
void record_render(serve_req *r, const hollow_read_state *rs,
                   const hollow_type *t, hollow_ordinal o, unsigned depth,
                   long *budget);
/* one field of an OBJECT record as JSON text (for history comparisons) */
void record_field_json(sbuf *b, const hollow_read_state *rs,
                       const hollow_type *t, hollow_ordinal o, size_t field,
                       long *budget);

/* history.c */
void serve_caches_init(serve_ctx *ctx);
void serve_caches_clear(serve_ctx *ctx);
/* the thread that derives the kept indexes after each refresh: start it
 * after the consumer; stop it before freeing the consumer */
int serve_warmer_start(serve_ctx *ctx);
void serve_warmer_stop(serve_ctx *ctx);
/* consumer listener: keeps each published state for history and diffs */
void serve_on_refresh(const hollow_refresh_event *ev, void *payload);
/* the diff of two versions, computed once; release with serve_diff_release.
 * NULL with a message in `err` */
serve_diff *serve_diff_get(serve_ctx *ctx, int64_t from, int64_t to, char *err,
                           size_t cap);
void serve_diff_release(serve_ctx *ctx, serve_diff *d);
/*
 * The states of versions `vs[0..n)` (ascending) into `out` (one reference
 * each), kept ones or loaded by a private consumer. Call with ctx->work
 * held. false with a message in `err`.
 */
bool serve_states_get(serve_ctx *ctx, const int64_t *vs, size_t n,
                      hollow_read_state **out, char *err, size_t cap);
/*
 * The index over `rs` for `type` by primary key (path NULL) or hash on
 * `path`; one reference for the caller. NULL with a message in `err`.
 */
hollow_index *serve_index_get(serve_ctx *ctx, const hollow_read_state *rs,
                              const char *type, const char *path, char *err,
                              size_t cap);
/*
 * The key text `key` ("42", or "a,b" for several key fields) as probe
 * values of `ix`'s paths into `vals` (strings borrowed from `key` copies
 * kept in `scratch`). false with a message in `err`.
 */
bool serve_parse_key(hollow_value *vals, size_t *count, char *scratch,
                     size_t scratch_cap, const hollow_index *ix,
                     const char *key, char *err, size_t cap);

extern const char SERVE_CSS[];
extern const char SERVE_JS[];

#endif
