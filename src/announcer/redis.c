/*
 * The Redis announcer (hiredis 0.14, blocking API). docs/announcers.md
 * describes the keys and what each script does; with P the key prefix:
 *
 *     P latest    the announced version (decimal text); only ever raised
 *     P pin       the pinned version, absent when nothing is pinned
 *     P lease     the producer lease: the owner's name, with a PX expiry
 *     P announce  channel: each version that raised P latest
 *     P pin       channel: each pin (the version) and unpin ("0")
 *
 * Versions are compared in the scripts as digit strings (length, then
 * bytes), never with tonumber(): Lua numbers are doubles and Java-minted
 * versions (17 digits) lose their last digits in them.
 *
 * Connections. Commands share one connection under `cmd_lock`; a call
 * that finds it broken (or breaks it) reconnects and retries once. Every
 * script is safe to run twice (announcing a version already stored does
 * nothing), so a retry after a lost reply cannot do harm. The watcher
 * thread owns a second connection in subscribed mode.
 *
 * The watcher never blocks inside hiredis: it poll(2)s the socket and a
 * wake-up pipe, then feeds what arrived to hiredis's reader. So free()
 * stops it at once through the pipe, and no read timeout ever poisons the
 * context (services.md §3). When idle for PING_MS it sends a PING; no
 * answer within the command timeout, or any read error, closes the
 * connection. It then reconnects with backoff (BACKOFF_MIN_MS doubling up
 * to BACKOFF_MAX_MS), SUBSCRIBEs again and only then reads P latest and
 * P pin on the command connection, so that nothing published between the
 * two is lost.
 *
 * Feeding the hub. `feed_lock` guards `last_fed`, the newest version
 * handed to the hub. Announcements reach the hub from two places: our own
 * announce() (at once, so wait_for_version and latest see it) and the
 * watcher (everyone's, ours included). Both feed a version only when it is
 * above `last_fed`; since P latest only rises, that delivers each version
 * once and never an older one after a newer one. Pins come only through
 * the watcher, in the order Redis published them.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "hollow/sys/announcer.h"
#include "hub.h"

#define DEFAULT_PREFIX "hollow:"
#define DEFAULT_TIMEOUT_MS 2000
#define PING_MS 1000
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define RETRY_MS 10

typedef struct redis_ann {
    hollow_announcer parent; /* must come first */
    hollow__hub hub;

    char *host;
    int port;
    char *user;     /* ACL user from the URL, or NULL */
    char *password; /* never put into a message */
    int db;
    unsigned int connect_ms;
    unsigned int command_ms;
    char *k_latest, *k_announce, *k_pin, *k_lease;

    hollow__mutex cmd_lock; /* guards cmd */
    redisContext *cmd;

    hollow__mutex feed_lock; /* guards the three below and feeding the hub */
    bool has_fed;
    int64_t last_fed;
    bool pin_lost; /* pinned here, but Redis lost its data: lifted by the
                      next announcement rather than at once */

    int wake[2]; /* free() writes to wake[1] to stop the watcher */
    redisContext *sub; /* the watcher's; set up by _new, then its alone */
    hollow__thread watcher;
} redis_ann;

#define RA(a) ((redis_ann *)(a))

/* ------------------------------------------------------------------ */
/* Scripts                                                             */
/* ------------------------------------------------------------------ */

/* digit strings: a > b, both canonical decimals */
#define LUA_NEWER                                                             \
    "local function newer(a, b)\n"                                            \
    "  if #a ~= #b then return #a > #b end\n"                                 \
    "  return a > b\n"                                                        \
    "end\n"                                                                   \
    "local function num(s)\n"                                                 \
    "  if s and string.match(s, '^%d+$') then return s end\n"                 \
    "  return nil\n"                                                          \
    "end\n"

/* KEYS: latest, announce channel; ARGV: version. 1 when it raised latest */
static const char LUA_ANNOUNCE[] =
    LUA_NEWER
    "local cur = num(redis.call('GET', KEYS[1]))\n"
    "if cur and not newer(ARGV[1], cur) then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "redis.call('PUBLISH', KEYS[2], ARGV[1])\n"
    "return 1\n";

/*
 * KEYS: latest, announce channel, lease; ARGV: version, expected, owner
 * ("" for none). {1} announced (or already announced: a retry); {-1, holder}
 * the lease is not ours; {-2, current} latest is not `expected`; {-3, cur}
 * latest is not older than the version. A missing latest counts as 0.
 */
static const char LUA_ANNOUNCE_IF[] =
    LUA_NEWER
    "if ARGV[3] ~= '' then\n"
    "  local o = redis.call('GET', KEYS[3])\n"
    "  if o ~= ARGV[3] then return {-1, o or ''} end\n"
    "end\n"
    "local cur = num(redis.call('GET', KEYS[1])) or '0'\n"
    "if cur == ARGV[1] then return {1} end\n"
    "if cur ~= ARGV[2] then return {-2, cur} end\n"
    "if not newer(ARGV[1], cur) then return {-3, cur} end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "redis.call('PUBLISH', KEYS[2], ARGV[1])\n"
    "return {1}\n";

/* KEYS: lease; ARGV: owner, ttl ms. {1} taken or renewed; {0, holder, pttl} */
static const char LUA_LEASE_ACQUIRE[] =
    "local o = redis.call('GET', KEYS[1])\n"
    "if o == false or o == ARGV[1] then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "  return {1}\n"
    "end\n"
    "return {0, o, redis.call('PTTL', KEYS[1])}\n";

/* KEYS: lease; ARGV: owner. {1} ours and live; {0, holder or ''} */
static const char LUA_LEASE_CHECK[] =
    "local o = redis.call('GET', KEYS[1])\n"
    "if o == ARGV[1] and redis.call('PTTL', KEYS[1]) > 0 then return {1} end\n"
    "return {0, o or ''}\n";

/* KEYS: lease; ARGV: owner. {1} released or nobody's; {0, holder} */
static const char LUA_LEASE_RELEASE[] =
    "local o = redis.call('GET', KEYS[1])\n"
    "if o == false then return {1} end\n"
    "if o ~= ARGV[1] then return {0, o} end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return {1}\n";

/* KEYS: pin (key and channel); ARGV: version */
static const char LUA_PIN[] =
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "redis.call('PUBLISH', KEYS[1], ARGV[1])\n"
    "return 1\n";

/* KEYS: pin (key and channel). 0 when nothing was pinned */
static const char LUA_UNPIN[] =
    "if redis.call('DEL', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('PUBLISH', KEYS[1], '0')\n"
    "return 1\n";

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static struct timeval tv_ms(unsigned int ms)
{
    struct timeval tv;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    return tv;
}

/* an error reply's text, one line, at most 200 bytes */
static void reply_text(char *out, size_t cap, const redisReply *r)
{
    size_t n = r->len < cap - 1 ? r->len : cap - 1;
    if (n > 200)
        n = 200;
    for (size_t i = 0; i < n; i++)
        out[i] = r->str[i] >= 0x20 && r->str[i] < 0x7f ? r->str[i] : '?';
    out[n] = '\0';
}

/* the error for an error reply; says what a refused password means
 * without quoting anything that could hold it */
static int refused(const redis_ann *ra, const char *what, const redisReply *r)
{
    char msg[256];
    reply_text(msg, sizeof msg, r);
    if (strncmp(msg, "WRONGPASS", 9) == 0 ||
        strncmp(msg, "ERR invalid password", 20) == 0)
        return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: the password "
                                 "was refused (WRONGPASS)", ra->host, ra->port);
    if (strncmp(msg, "NOAUTH", 6) == 0)
        return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: the server "
                                 "needs a password (NOAUTH); give one in the "
                                 "URL or the options", ra->host, ra->port);
    return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: %s: %s", ra->host,
                             ra->port, what, msg);
}

/* run one command during set-up; the reply must not be an error */
static int setup_cmd(redis_ann *ra, redisContext *c, const char *what, int argc,
                     const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (r == NULL)
        return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: %s: %s",
                                 ra->host, ra->port, what, c->errstr);
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR)
        rc = refused(ra, what, r);
    freeReplyObject(r);
    return rc;
}

/*
 * Connect, AUTH, SELECT; `read_ms` is the read timeout (0: none). On
 * failure returns NULL with the error set.
 */
static redisContext *connect_to(redis_ann *ra, unsigned int read_ms)
{
    redisContext *c =
        redisConnectWithTimeout(ra->host, ra->port, tv_ms(ra->connect_ms));
    if (c == NULL) {
        hollow__error_oom();
        return NULL;
    }
    if (c->err) {
        hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: cannot connect: %s",
                          ra->host, ra->port, c->errstr);
        redisFree(c);
        return NULL;
    }
    int rc = 0;
    if (redisSetTimeout(c, tv_ms(read_ms)) != REDIS_OK ||
        redisEnableKeepAlive(c) != REDIS_OK)
        rc = hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: socket options: "
                               "%s", ra->host, ra->port, c->errstr);
    if (rc == 0 && ra->password != NULL) {
        const char *argv[3] = { "AUTH", NULL, NULL };
        int argc = 2;
        if (ra->user != NULL) {
            argv[1] = ra->user;
            argv[2] = ra->password;
            argc = 3;
        } else {
            argv[1] = ra->password;
        }
        rc = setup_cmd(ra, c, "AUTH", argc, argv);
    }
    if (rc == 0 && ra->db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", ra->db);
        const char *argv[2] = { "SELECT", db };
        rc = setup_cmd(ra, c, "SELECT", 2, argv);
    }
    if (rc < 0) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/*
 * Run a command on the shared connection; reconnects and retries once
 * when the connection is (or turns out) broken. On success *out is the
 * reply (free with freeReplyObject), possibly an error reply.
 */
static int command(redisReply **out, redis_ann *ra, int argc, const char **argv,
                   const size_t *lens)
{
    *out = NULL;
    int rc = 0;
    hollow__mutex_lock(&ra->cmd_lock);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ra->cmd == NULL && (ra->cmd = connect_to(ra, ra->command_ms)) == NULL) {
            rc = hollow_error_last()->code;
            if (rc >= 0)
                rc = HOLLOW_EBACKEND;
            continue;
        }
        redisReply *r = redisCommandArgv(ra->cmd, argc, argv, lens);
        if (r != NULL) {
            *out = r;
            rc = 0;
            break;
        }
        rc = hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: %s: %s", ra->host,
                               ra->port, argv[0], ra->cmd->errstr);
        redisFree(ra->cmd); /* a failed context is unusable (services.md §3) */
        ra->cmd = NULL;
    }
    hollow__mutex_unlock(&ra->cmd_lock);
    return rc;
}

/* EVAL a script with its keys and string arguments */
static int eval(redisReply **out, redis_ann *ra, const char *script, int nkeys,
                const char *const *keys, int nargs, const char *const *args)
{
    const char *argv[12];
    char nk[8];
    snprintf(nk, sizeof nk, "%d", nkeys);
    int argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = script;
    argv[argc++] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[argc++] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[argc++] = args[i];
    HOLLOW_TRY(command(out, ra, argc, argv, NULL));
    if ((*out)->type == REDIS_REPLY_ERROR) {
        char msg[256];
        reply_text(msg, sizeof msg, *out);
        freeReplyObject(*out);
        *out = NULL;
        return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: script failed: "
                                 "%s", ra->host, ra->port, msg);
    }
    return 0;
}

static bool parse_digits(int64_t *out, const char *p, size_t len)
{
    int64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        int d = p[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* GET a version key: 0 and *out; HOLLOW_ENOTFOUND when absent */
static int get_version(int64_t *out, redis_ann *ra, const char *key)
{
    const char *argv[2] = { "GET", key };
    redisReply *r;
    HOLLOW_TRY(command(&r, ra, 2, argv, NULL));
    int rc = 0;
    if (r->type == REDIS_REPLY_NIL) {
        rc = hollow__error_set(HOLLOW_ENOTFOUND, "nothing announced yet (%s "
                               "is not set)", key);
    } else if (r->type != REDIS_REPLY_STRING ||
               !parse_digits(out, r->str, r->len)) {
        char msg[256] = "";
        if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_ERROR)
            reply_text(msg, sizeof msg, r);
        rc = hollow__error_set(r->type == REDIS_REPLY_ERROR ? HOLLOW_EBACKEND
                                                            : HOLLOW_ECORRUPT,
                               "redis key %s does not hold a version: \"%s\"",
                               key, msg);
    }
    freeReplyObject(r);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Feeding the hub                                                     */
/* ------------------------------------------------------------------ */

/* hand `v` to the hub if newer than what it had; false if the queue is
 * full (retry later) */
static bool feed_announce(redis_ann *ra, int64_t v)
{
    bool ok = true;
    hollow__mutex_lock(&ra->feed_lock);
    if (!ra->has_fed || v > ra->last_fed) {
        if (hollow__hub_announce(&ra->hub, v) == 0) {
            ra->has_fed = true;
            ra->last_fed = v;
            /* the pin Redis forgot ends with this version, not the old one */
            if (ra->pin_lost && hollow__hub_unpin(&ra->hub) == 0)
                ra->pin_lost = false;
        } else {
            ok = false;
        }
    }
    hollow__mutex_unlock(&ra->feed_lock);
    hollow_error_clear();
    return ok;
}

/* apply a pin message (0: unpin); false if the queue is full */
static bool feed_pin(redis_ann *ra, int64_t v)
{
    int rc = 0;
    hollow__mutex_lock(&ra->feed_lock);
    int64_t cur;
    bool pinned = hollow__hub_pinned(&cur, &ra->hub);
    ra->pin_lost = false;
    if (v > 0 && (!pinned || cur != v))
        rc = hollow__hub_pin(&ra->hub, v);
    else if (v == 0 && pinned)
        rc = hollow__hub_unpin(&ra->hub);
    hollow__mutex_unlock(&ra->feed_lock);
    hollow_error_clear();
    return rc != HOLLOW_EBACKEND;
}

/* read P latest and P pin and bring the hub up to them; false on a full
 * queue; Redis errors are ignored (the watcher tries again later) */
static bool catch_up(redis_ann *ra)
{
    int64_t v;
    bool ok = true;
    int lrc = get_version(&v, ra, ra->k_latest);
    if (lrc == 0)
        ok = feed_announce(ra, v);
    int rc = get_version(&v, ra, ra->k_pin);
    if (rc == 0 && ok) {
        ok = feed_pin(ra, v);
    } else if (rc == HOLLOW_ENOTFOUND && ok && lrc == 0) {
        ok = feed_pin(ra, 0); /* unpinned meanwhile: resume the latest */
    } else if (rc == HOLLOW_ENOTFOUND && lrc == HOLLOW_ENOTFOUND) {
        /* Redis lost everything (restarted empty): going back to the
         * latest we knew could undo an operator's pin away from it, so
         * stay pinned until the producer announces again */
        hollow__mutex_lock(&ra->feed_lock);
        int64_t cur;
        ra->pin_lost = hollow__hub_pinned(&cur, &ra->hub);
        hollow__mutex_unlock(&ra->feed_lock);
    }
    hollow_error_clear();
    return ok;
}

/* ------------------------------------------------------------------ */
/* The watcher                                                         */
/* ------------------------------------------------------------------ */

/* SUBSCRIBE on `c` and wait for both confirmations */
static int subscribe_all(redis_ann *ra, redisContext *c)
{
    const char *argv[3] = { "SUBSCRIBE", ra->k_announce, ra->k_pin };
    if (redisAppendCommandArgv(c, 3, argv, NULL) != REDIS_OK)
        return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: SUBSCRIBE: %s",
                                 ra->host, ra->port, c->errstr);
    for (int i = 0; i < 2; i++) {
        void *reply = NULL;
        if (redisGetReply(c, &reply) != REDIS_OK)
            return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: SUBSCRIBE: "
                                     "%s", ra->host, ra->port, c->errstr);
        redisReply *r = reply;
        bool good = r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                    r->element[0]->type == REDIS_REPLY_STRING &&
                    strcmp(r->element[0]->str, "subscribe") == 0;
        int rc = good ? 0
                 : r->type == REDIS_REPLY_ERROR
                     ? refused(ra, "SUBSCRIBE", r)
                     : hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: "
                                         "SUBSCRIBE: unexpected reply",
                                         ra->host, ra->port);
        freeReplyObject(r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* a connection for the watcher, subscribed; the command timeout bounds
 * the SUBSCRIBE, then no read timeout (the watcher polls on its own) */
static redisContext *subscribed(redis_ann *ra)
{
    redisContext *c = connect_to(ra, ra->command_ms);
    if (c == NULL)
        return NULL;
    int rc = subscribe_all(ra, c);
    if (rc == 0 && redisSetTimeout(c, tv_ms(0)) != REDIS_OK)
        rc = hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: socket "
                               "options: %s", ra->host, ra->port, c->errstr);
    if (rc < 0) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* wait up to ms on the wake-up pipe; true when free() asked us to stop */
static bool stop_requested(redis_ann *ra, int ms)
{
    struct pollfd p = { ra->wake[0], POLLIN, 0 };
    return poll(&p, 1, ms) > 0;
}

/* what a reply on the subscriber connection says; -1 unknown */
enum { MSG_OTHER, MSG_ANNOUNCE, MSG_PIN };
static int classify(int64_t *v, const redis_ann *ra, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "message") != 0 ||
        r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return MSG_OTHER;
    if (!parse_digits(v, r->element[2]->str, r->element[2]->len))
        return MSG_OTHER;
    if (strcmp(r->element[1]->str, ra->k_announce) == 0)
        return MSG_ANNOUNCE;
    if (strcmp(r->element[1]->str, ra->k_pin) == 0)
        return MSG_PIN;
    return MSG_OTHER;
}

/* deliver one reply; retries while the hub's queue is full. false: stop */
static bool handle(redis_ann *ra, redisReply *r)
{
    int64_t v = 0;
    int kind = classify(&v, ra, r);
    for (;;) {
        bool ok = kind == MSG_ANNOUNCE ? feed_announce(ra, v)
                  : kind == MSG_PIN    ? feed_pin(ra, v)
                                       : true;
        if (ok)
            return true;
        if (stop_requested(ra, RETRY_MS))
            return false;
    }
}

/*
 * Read from the subscribed connection until it fails or free() asks us to
 * stop. Returns true to stop.
 */
static bool listen_on(redis_ann *ra, redisContext *c)
{
    int64_t ping_sent = 0; /* ms; 0: no PING outstanding */
    int64_t last_io = hollow__clock_ns() / 1000000;
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK)
            return false; /* a protocol error: reconnect */
        if (reply != NULL) {
            redisReply *r = reply;
            if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
                r->element[0]->type == REDIS_REPLY_STRING &&
                strcmp(r->element[0]->str, "pong") == 0)
                ping_sent = 0;
            bool go_on = handle(ra, r);
            freeReplyObject(r);
            if (!go_on)
                return true;
            continue;
        }
        int64_t now = hollow__clock_ns() / 1000000;
        int wait = (int)(last_io + PING_MS - now);
        if (ping_sent != 0)
            wait = (int)(ping_sent + ra->command_ms - now);
        if (wait < 0)
            wait = 0;
        struct pollfd p[2] = { { ra->wake[0], POLLIN, 0 }, { c->fd, POLLIN, 0 } };
        int n = poll(p, 2, wait);
        if (n < 0 && errno != EINTR)
            return false;
        if (p[0].revents != 0)
            return true;
        now = hollow__clock_ns() / 1000000;
        if (p[1].revents != 0) {
            if (redisBufferRead(c) != REDIS_OK)
                return false; /* closed or reset: reconnect */
            last_io = now;
            continue;
        }
        if (ping_sent != 0 && now - ping_sent >= (int64_t)ra->command_ms)
            return false; /* no PONG in time: a dead peer */
        if (ping_sent == 0 && now - last_io >= PING_MS) {
            const char *argv[1] = { "PING" };
            int done = 0;
            if (redisAppendCommandArgv(c, 1, argv, NULL) != REDIS_OK)
                return false;
            while (!done)
                if (redisBufferWrite(c, &done) != REDIS_OK)
                    return false;
            ping_sent = now;
        }
    }
}

static void *watcher_main(void *arg)
{
    redis_ann *ra = arg;
    redisContext *c = ra->sub;
    ra->sub = NULL;
    int backoff = BACKOFF_MIN_MS;
    for (;;) {
        if (c != NULL) {
            bool stop = listen_on(ra, c);
            redisFree(c);
            c = NULL;
            if (stop)
                break;
            hollow__log(HOLLOW_LOG_WARN, "redis announcer: lost the "
                        "subscription to %s:%d; reconnecting", ra->host,
                        ra->port);
            backoff = BACKOFF_MIN_MS;
        }
        if (stop_requested(ra, backoff))
            break;
        if ((c = subscribed(ra)) == NULL) {
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            hollow_error_clear();
            continue;
        }
        hollow__log(HOLLOW_LOG_INFO, "redis announcer: subscribed again to "
                    "%s:%d", ra->host, ra->port);
        /* subscribed first, so nothing published from now on is missed */
        while (!catch_up(ra))
            if (stop_requested(ra, RETRY_MS))
                goto out;
    }
out:
    if (c != NULL)
        redisFree(c);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The vtable                                                          */
/* ------------------------------------------------------------------ */

static void fmt_version(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%lld", (long long)v);
}

static int ra_announce(hollow_announcer *a, int64_t version)
{
    redis_ann *ra = RA(a);
    HOLLOW_TRY(hollow__hub_check_room(&ra->hub, true));
    char v[24];
    fmt_version(v, version);
    const char *keys[2] = { ra->k_latest, ra->k_announce };
    const char *args[1] = { v };
    redisReply *r;
    HOLLOW_TRY(eval(&r, ra, LUA_ANNOUNCE, 2, keys, 1, args));
    bool raised = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    /* a version not above the stored latest does nothing (documented) */
    if (raised)
        feed_announce(ra, version);
    return 0;
}

static int ra_latest(int64_t *out, hollow_announcer *a)
{
    redis_ann *ra = RA(a);
    int rc = get_version(out, ra, ra->k_pin);
    if (rc != HOLLOW_ENOTFOUND)
        return rc;
    hollow_error_clear();
    return get_version(out, ra, ra->k_latest);
}

static int ra_subscribe(hollow_subscription_id *id_out, hollow_announcer *a,
                        hollow_announcement_cb cb, void *payload)
{
    return hollow__hub_subscribe(id_out, &RA(a)->hub, cb, payload);
}

static int ra_subscribe_fd(int *fd_out, hollow_subscription_id *id_out,
                           hollow_announcer *a)
{
    return hollow__hub_subscribe_fd(fd_out, id_out, &RA(a)->hub);
}

static int ra_unsubscribe(hollow_announcer *a, hollow_subscription_id id)
{
    return hollow__hub_unsubscribe(&RA(a)->hub, id);
}

static int ra_pin(hollow_announcer *a, int64_t version)
{
    redis_ann *ra = RA(a);
    if (version == 0)
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: version 0 "
                                 "cannot be pinned (0 on the pin channel means "
                                 "unpin)");
    char v[24];
    fmt_version(v, version);
    const char *keys[1] = { ra->k_pin };
    const char *args[1] = { v };
    redisReply *r;
    HOLLOW_TRY(eval(&r, ra, LUA_PIN, 1, keys, 1, args));
    freeReplyObject(r);
    return 0; /* subscribers hear it through the watcher, as everyone does */
}

static int ra_unpin(hollow_announcer *a)
{
    redis_ann *ra = RA(a);
    const char *keys[1] = { ra->k_pin };
    redisReply *r;
    HOLLOW_TRY(eval(&r, ra, LUA_UNPIN, 1, keys, 0, NULL));
    bool was = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    if (!was)
        return hollow__error_set(HOLLOW_ESTATE, "no version is pinned");
    return 0;
}

static int ra_wait(hollow_announcer *a, int64_t version, int timeout_ms)
{
    redis_ann *ra = RA(a);
    catch_up(ra); /* at once rather than at the next message */
    return hollow__hub_wait(&ra->hub, version, timeout_ms);
}

static int ra_drain(hollow_announcer *a, int timeout_ms)
{
    return hollow__hub_drain(&RA(a)->hub, timeout_ms);
}

static int ra_stats(hollow_announcer_stats *out, hollow_announcer *a)
{
    hollow__hub_stats(out, &RA(a)->hub);
    return 0;
}

/* the {code, text, ...} reply of a script; text copied into buf */
static long long script_result(const redisReply *r, char *buf, size_t cap)
{
    if (cap > 0)
        buf[0] = '\0';
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_INTEGER)
        return LLONG_MIN;
    if (r->elements >= 2 && r->element[1]->type == REDIS_REPLY_STRING &&
        cap > 0) {
        size_t n = r->element[1]->len < cap - 1 ? r->element[1]->len : cap - 1;
        memcpy(buf, r->element[1]->str, n);
        buf[n] = '\0';
    }
    return r->element[0]->integer;
}

static int ra_lease(hollow_announcer *a, hollow_lease_op op, const char *owner,
                    int64_t ttl_ms, char *holder, size_t holder_cap)
{
    redis_ann *ra = RA(a);
    const char *keys[1] = { ra->k_lease };
    char ttl[24];
    fmt_version(ttl, ttl_ms);
    const char *args[2] = { owner, ttl };
    const char *script = op == HOLLOW_LEASE_ACQUIRE ? LUA_LEASE_ACQUIRE
                         : op == HOLLOW_LEASE_CHECK ? LUA_LEASE_CHECK
                                                    : LUA_LEASE_RELEASE;
    redisReply *r;
    HOLLOW_TRY(eval(&r, ra, script, 1, keys, op == HOLLOW_LEASE_ACQUIRE ? 2 : 1,
                    args));
    char cur[HOLLOW_LEASE_OWNER_MAX];
    long long code = script_result(r, cur, sizeof cur);
    long long pttl = r->type == REDIS_REPLY_ARRAY && r->elements >= 3 &&
                             r->element[2]->type == REDIS_REPLY_INTEGER
                         ? r->element[2]->integer
                         : -1;
    freeReplyObject(r);
    if (code == 1)
        return 0;
    if (code != 0)
        return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: unexpected "
                                 "reply from the lease script", ra->host,
                                 ra->port);
    if (op == HOLLOW_LEASE_CHECK && (cur[0] == '\0' || strcmp(cur, owner) == 0))
        return hollow__error_set(HOLLOW_ESTATE, "%s does not hold the lease",
                                 owner);
    if (holder != NULL && holder_cap > 0)
        snprintf(holder, holder_cap, "%s", cur);
    if (pttl >= 0)
        return hollow__error_set(HOLLOW_ESTATE, "the lease is held by %s for "
                                 "%lld ms more", cur, pttl);
    return hollow__error_set(HOLLOW_ESTATE, "the lease is held by %s", cur);
}

static int ra_announce_if(hollow_announcer *a, int64_t expected,
                          const char *owner, int64_t version)
{
    redis_ann *ra = RA(a);
    HOLLOW_TRY(hollow__hub_check_room(&ra->hub, true));
    char v[24], e[24];
    fmt_version(v, version);
    fmt_version(e, expected);
    const char *keys[3] = { ra->k_latest, ra->k_announce, ra->k_lease };
    const char *args[3] = { v, e, owner != NULL ? owner : "" };
    redisReply *r;
    HOLLOW_TRY(eval(&r, ra, LUA_ANNOUNCE_IF, 3, keys, 3, args));
    char cur[HOLLOW_LEASE_OWNER_MAX];
    long long code = script_result(r, cur, sizeof cur);
    freeReplyObject(r);
    switch (code) {
    case 1:
        feed_announce(ra, version);
        return 0;
    case -1:
        return hollow__error_set(HOLLOW_ESTATE, "%s does not hold the lease%s%s",
                                 owner, cur[0] ? " (held by " : "",
                                 cur[0] ? cur : "");
    case -2:
        return hollow__error_set(HOLLOW_ESTATE, "version %s is announced, not "
                                 "%lld: another producer announced meanwhile",
                                 cur, (long long)expected);
    case -3:
        return hollow__error_set(HOLLOW_ESTATE, "version %lld is not newer "
                                 "than the announced %s", (long long)version,
                                 cur);
    default:
        return hollow__error_set(HOLLOW_EBACKEND, "redis %s:%d: unexpected "
                                 "reply from the announce script", ra->host,
                                 ra->port);
    }
}

/* ------------------------------------------------------------------ */
/* Options and set-up                                                  */
/* ------------------------------------------------------------------ */

static void release(redis_ann *ra)
{
    if (ra->cmd != NULL)
        redisFree(ra->cmd);
    if (ra->sub != NULL)
        redisFree(ra->sub);
    if (ra->wake[0] >= 0)
        close(ra->wake[0]);
    if (ra->wake[1] >= 0)
        close(ra->wake[1]);
    if (ra->password != NULL) {
        /* not left behind in freed memory */
        volatile char *p = ra->password;
        while (*p)
            *p++ = '\0';
    }
    hollow__free(ra->password);
    hollow__free(ra->user);
    hollow__free(ra->host);
    hollow__free(ra->k_latest);
    hollow__free(ra->k_announce);
    hollow__free(ra->k_pin);
    hollow__free(ra->k_lease);
    hollow__free(ra);
}

static void ra_free(hollow_announcer *a)
{
    redis_ann *ra = RA(a);
    char c = 1;
    while (write(ra->wake[1], &c, 1) < 0 && errno == EINTR)
        ;
    hollow__thread_join(ra->watcher);
    hollow__hub_destroy(&ra->hub);
    hollow__mutex_destroy(&ra->feed_lock);
    hollow__mutex_destroy(&ra->cmd_lock);
    release(ra);
}

static char *dup_n(const char *p, size_t n)
{
    char *s = hollow__malloc(n + 1);
    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* a percent-decoded copy of p[0..n) (user names, passwords) */
static char *dup_decoded(const char *p, size_t n)
{
    char *s = dup_n(p, n);
    if (s == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (p[i] == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 &&
            (lo = hexval(p[i + 2])) >= 0) {
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[o++] = p[i];
        }
    }
    s[o] = '\0';
    return s;
}

static bool parse_int(int *out, const char *p, size_t n, int max)
{
    int64_t v;
    if (!parse_digits(&v, p, n) || v > max)
        return false;
    *out = (int)v;
    return true;
}

/*
 * redis://[[user]:password@]host[:port][/db]. The messages never quote the
 * URL: it may hold the password.
 */
static int parse_url(redis_ann *ra, const char *url)
{
    static const char scheme[] = "redis://";
    if (strncmp(url, "rediss://", 9) == 0)
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: rediss:// "
                                 "(TLS) is not supported: hiredis 0.14 has no "
                                 "TLS; use redis:// over a trusted network or "
                                 "a TLS tunnel");
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: the URL must "
                                 "start with redis://");
    const char *p = url + sizeof scheme - 1;
    const char *end = p + strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q; /* the last one: a password may hold '@' unescaped */
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL)
            return hollow__error_set(HOLLOW_EINVAL, "redis announcer: bad URL: "
                                     "credentials must be [user]:password@");
        if (colon > p && (ra->user = dup_decoded(p, (size_t)(colon - p))) == NULL)
            return hollow__error_oom();
        if ((ra->password = dup_decoded(colon + 1, (size_t)(at - colon - 1))) ==
            NULL)
            return hollow__error_oom();
        p = at + 1;
    }
    const char *host_end;
    const char *port_start = NULL;
    if (*p == '[') { /* [IPv6] */
        const char *close_br = memchr(p, ']', (size_t)(end - p));
        if (close_br == NULL)
            return hollow__error_set(HOLLOW_EINVAL, "redis announcer: bad URL: "
                                     "unclosed [ in the host");
        if ((ra->host = dup_n(p + 1, (size_t)(close_br - p - 1))) == NULL)
            return hollow__error_oom();
        host_end = close_br + 1;
        if (host_end < end && *host_end != ':')
            return hollow__error_set(HOLLOW_EINVAL, "redis announcer: bad URL "
                                     "after the host");
    } else {
        host_end = memchr(p, ':', (size_t)(end - p));
        if (host_end == NULL)
            host_end = end;
        if ((ra->host = dup_n(p, (size_t)(host_end - p))) == NULL)
            return hollow__error_oom();
    }
    if (ra->host[0] == '\0')
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: bad URL: no "
                                 "host");
    if (host_end < end && *host_end == ':')
        port_start = host_end + 1;
    if (port_start != NULL &&
        (!parse_int(&ra->port, port_start, (size_t)(end - port_start), 65535) ||
         ra->port == 0))
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: bad URL: the "
                                 "port must be 1-65535");
    if (*end == '/' && end[1] != '\0') {
        const char *db = end + 1;
        size_t n = strcspn(db, "?#");
        if (!parse_int(&ra->db, db, n, INT_MAX) || db[n] != '\0')
            return hollow__error_set(HOLLOW_EINVAL, "redis announcer: bad URL: "
                                     "the path must be a database number");
    } else if (*end == '?' || *end == '#') {
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: bad URL: "
                                 "query strings are not supported");
    }
    return 0;
}

static char *key(const char *prefix, const char *name)
{
    size_t a = strlen(prefix), b = strlen(name);
    char *s = hollow__malloc(a + b + 1);
    if (s != NULL) {
        memcpy(s, prefix, a);
        memcpy(s + a, name, b + 1);
    }
    return s;
}

int hollow_announcer_redis_new(hollow_announcer **out,
                               const hollow_announcer_redis_options *opts)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: out is NULL");
    *out = NULL;
    if (opts == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: no options");
    HOLLOW_TRY(hollow__check_options_version(
        "redis announcer", opts->version, HOLLOW_ANNOUNCER_REDIS_OPTIONS_VERSION));
    if (opts->port < 0 || opts->port > 65535 || opts->db < 0)
        return hollow__error_set(HOLLOW_EINVAL, "redis announcer: bad port or "
                                 "database number");
    redis_ann *ra = hollow__calloc(1, sizeof *ra);
    HOLLOW_CHECK_ALLOC(ra);
    ra->wake[0] = ra->wake[1] = -1;
    ra->port = opts->port ? opts->port : 6379;
    ra->db = opts->db;
    ra->connect_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms
                                              : DEFAULT_TIMEOUT_MS;
    ra->command_ms = opts->command_timeout_ms ? opts->command_timeout_ms
                                              : DEFAULT_TIMEOUT_MS;
    int rc = 0;
    if (opts->url != NULL) {
        if ((rc = parse_url(ra, opts->url)) < 0)
            goto fail;
    } else if ((ra->host = key(opts->host ? opts->host : "127.0.0.1", "")) ==
               NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    if (ra->password == NULL && opts->password != NULL &&
        (ra->password = key(opts->password, "")) == NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    const char *prefix = opts->key_prefix ? opts->key_prefix : DEFAULT_PREFIX;
    if ((ra->k_latest = key(prefix, "latest")) == NULL ||
        (ra->k_announce = key(prefix, "announce")) == NULL ||
        (ra->k_pin = key(prefix, "pin")) == NULL ||
        (ra->k_lease = key(prefix, "lease")) == NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    if (pipe2(ra->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "redis announcer: pipe");
        goto fail;
    }
    /* both connections now, so a bad address or password fails here */
    if ((ra->cmd = connect_to(ra, ra->command_ms)) == NULL ||
        (ra->sub = subscribed(ra)) == NULL) {
        rc = hollow_error_last()->code;
        goto fail;
    }
    /* subscribed first, then read: what Redis holds now is the latest,
     * not an announcement */
    if (hollow__mutex_init(&ra->cmd_lock) != 0) {
        rc = hollow__error_set(HOLLOW_ERROR, "redis announcer: mutex init "
                               "failed");
        goto fail;
    }
    if (hollow__mutex_init(&ra->feed_lock) != 0) {
        hollow__mutex_destroy(&ra->cmd_lock);
        rc = hollow__error_set(HOLLOW_ERROR, "redis announcer: mutex init "
                               "failed");
        goto fail;
    }
    int64_t latest = 0, pin = 0;
    bool has_latest = false, has_pin = false;
    if ((rc = get_version(&latest, ra, ra->k_latest)) == 0)
        has_latest = true;
    else if (rc != HOLLOW_ENOTFOUND)
        goto fail_locks;
    if ((rc = get_version(&pin, ra, ra->k_pin)) == 0)
        has_pin = pin > 0;
    else if (rc != HOLLOW_ENOTFOUND)
        goto fail_locks;
    hollow_error_clear();
    if ((rc = hollow__hub_init(&ra->hub, opts->queue_capacity, opts->spin_us)) < 0)
        goto fail_locks;
    if (has_latest) {
        hollow__hub_set_latest(&ra->hub, latest);
        ra->has_fed = true;
        ra->last_fed = latest;
    }
    if (has_pin)
        hollow__hub_pin(&ra->hub, pin); /* no subscriber yet: not delivered */
    int err = hollow__thread_create(&ra->watcher, watcher_main, ra);
    if (err != 0) {
        hollow__hub_destroy(&ra->hub);
        rc = hollow__error_set_os(HOLLOW_ERROR, err, "cannot start the redis "
                                  "announcer's watcher");
        goto fail_locks;
    }
    ra->parent.version = HOLLOW_ANNOUNCER_VERSION;
    ra->parent.announce = ra_announce;
    ra->parent.latest = ra_latest;
    ra->parent.subscribe = ra_subscribe;
    ra->parent.subscribe_fd = ra_subscribe_fd;
    ra->parent.unsubscribe = ra_unsubscribe;
    ra->parent.pin = ra_pin;
    ra->parent.unpin = ra_unpin;
    ra->parent.wait_for_version = ra_wait;
    ra->parent.drain = ra_drain;
    ra->parent.stats = ra_stats;
    ra->parent.free = ra_free;
    ra->parent.lease = ra_lease;
    ra->parent.announce_if = ra_announce_if;
    *out = &ra->parent;
    return 0;
fail_locks:
    hollow__mutex_destroy(&ra->feed_lock);
    hollow__mutex_destroy(&ra->cmd_lock);
fail:
    if (rc >= 0)
        rc = HOLLOW_EBACKEND;
    release(ra);
    return rc;
}
