/*
 * hollow-cli serve [store options] [--listen HOST:PORT] [--allow-pin]
 *                  [--history-max N] [--poll-ms MS]
 *
 * The explorer (docs/explorer.md): a consumer that follows the store
 * (with its announcer; `--announcer none` polls the store's listing
 * instead) and an HTTP server over it, src/cli/serve/. Runs until SIGINT
 * or SIGTERM: the signals are blocked in every thread and taken by
 * sigwait here, so the server and the consumer are stopped in order.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "hollow/consumer.h"
#include "opt.h"
#include "serve/serve.h"
#include "serve/server.h"
#include "store_opts.h"

static const char USAGE[] =
    "usage: hollow-cli serve [store options] [--listen HOST:PORT]\n"
    "                        [--allow-pin] [--history-max N] [--poll-ms MS]\n"
    "\n"
    "Serve the explorer, a web UI over a consumer that follows the store:\n"
    "types, records (deep, by key), the diff of two versions, the history\n"
    "of a record, the versions, and /metrics. Every page is also JSON\n"
    "(?format=json or Accept: application/json). See docs/explorer.md.\n"
    "\n"
    "%s"
    "  (--announcer none: poll the store's listing every --poll-ms)\n"
    "  --listen H:P    where to listen (default 127.0.0.1:7070; port 0 picks\n"
    "                  a free one; the address is printed on stdout)\n"
    "  --allow-pin     pin and unpin buttons (off: the UI is read-only)\n"
    "  --history-max N the deepest history a page may ask for (default 50)\n"
    "  --poll-ms MS    the polling period without an announcer (default 1000)\n"
    "  --help          this text\n";

typedef struct poller {
    hollow_consumer *c;
    unsigned ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
} poller;

/* without an announcer: refresh to the newest listed version now and then */
static void *poll_main(void *arg)
{
    poller *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        pthread_mutex_unlock(&p->mu);
        /* a failure is kept for hollow_consumer_last_error(); retried */
        (void)hollow_consumer_refresh(p->c, HOLLOW_VERSION_LATEST);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += p->ms / 1000;
        ts.tv_nsec += (long)(p->ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&p->mu);
        while (!p->stop &&
               pthread_cond_timedwait(&p->cv, &p->mu, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int newest_version(int64_t version, void *payload)
{
    *(int64_t *)payload = version; /* ascending: the last is the newest */
    return 0;
}

static bool parse_uint(const char *v, unsigned long max, unsigned *out)
{
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || x > max)
        return false;
    *out = (unsigned)x;
    return true;
}

int cmd_serve(int argc, char **argv)
{
    enum {
        O_LISTEN = 1,
        O_ALLOW_PIN,
        O_HISTORY_MAX,
        O_POLL_MS,
        O_HELP
    };
    static const opt_spec specs[] = {CLI_STORE_SPECS,
                                     {"listen", OPT_VALUE, O_LISTEN},
                                     {"allow-pin", OPT_FLAG, O_ALLOW_PIN},
                                     {"history-max", OPT_VALUE, O_HISTORY_MAX},
                                     {"poll-ms", OPT_VALUE, O_POLL_MS},
                                     {"help", OPT_FLAG, O_HELP},
                                     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "serve");
    cli_store_opts so = CLI_STORE_OPTS_INIT;
    const char *listen = "127.0.0.1:7070", *v;
    unsigned history_max = 50, poll_ms = 1000;
    bool allow_pin = false;
    int k;
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_LISTEN:
            listen = v;
            break;
        case O_ALLOW_PIN:
            allow_pin = true;
            break;
        case O_HISTORY_MAX:
            if (!parse_uint(v, 1000, &history_max) || history_max == 0)
                return cli_fail("serve", 2, "--history-max takes 1 to 1000");
            break;
        case O_POLL_MS:
            if (!parse_uint(v, 3600000, &poll_ms) || poll_ms < 10)
                return cli_fail("serve", 2, "--poll-ms takes 10 to 3600000");
            break;
        case O_HELP:
            printf(USAGE, CLI_STORE_USAGE);
            return 0;
        case OPT_POSITIONAL:
            return cli_fail("serve", 2, "unexpected argument %s", v);
        default:
            if (k > 0 && cli_store_option(&so, k, v))
                break;
            return 2;
        }
    }
    bool polling = so.announcer != NULL && strcmp(so.announcer, "none") == 0;
    if (polling)
        so.announcer = NULL;

    /* every thread started from here on inherits the blocked signals */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    signal(SIGPIPE, SIG_IGN);

    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    serve_server *srv = NULL;
    serve_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    serve_caches_init(&ctx);
    poller pl = {NULL, poll_ms, PTHREAD_MUTEX_INITIALIZER,
                 PTHREAD_COND_INITIALIZER, false};
    pthread_t poll_thread;
    bool poll_started = false;
    const char *where = "";
    int rc = cli_store_open(&bs, &so, "serve", &where);
    if (rc != 0)
        goto done;
    if (!polling && (rc = cli_announcer_open(&an, &so, bs, true, "serve")) != 0)
        goto done;
    rc = 1;
    ctx.bs = bs;
    ctx.an = an;
    ctx.store_name = cli_store_is_memory(&so) ? "memory" : where;
    ctx.allow_pin = allow_pin;
    ctx.history_max = history_max;
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.announcer = an;
    co.follow = an != NULL;
    co.listener = serve_on_refresh;
    co.listener_payload = &ctx;
    /* a refresh applies types on one thread, leaving the other cores to
     * the requests: page latency matters more here than refresh time */
    co.threads = 1;
    if (hollow_consumer_new(&ctx.consumer, &co) < 0) {
        cli_fail_hollow("serve", "the consumer over %s", where);
        goto done;
    }
    int64_t announced = 0;
    if (an != NULL && hollow_announcer_latest(&announced, an) ==
                          HOLLOW_ENOTFOUND) {
        /* nothing announced yet (a directory hollow-bench wrote): show the
         * newest version the store has until something is announced */
        int64_t newest = 0;
        if (hollow_blobstore_list_versions(bs, newest_version, &newest) == 0 &&
            newest > 0 && hollow_consumer_refresh(ctx.consumer, newest) < 0)
            fprintf(stderr, "hollow-cli serve: version %lld: %s\n",
                    (long long)newest, hollow_error_last()->message);
    }
    if (serve_warmer_start(&ctx) != 0) {
        cli_fail("serve", 1, "cannot start the index thread");
        goto done;
    }
    if (polling) {
        pl.c = ctx.consumer;
        if (pthread_create(&poll_thread, NULL, poll_main, &pl) != 0) {
            cli_fail("serve", 1, "cannot start the polling thread");
            goto done;
        }
        poll_started = true;
    }
    char err[512];
    if ((rc = serve_start(&srv, &ctx, listen, err, sizeof err)) != 0) {
        cli_fail("serve", rc, "%s", err);
        goto done;
    }
    /* the host as given (an IPv6 one in brackets), the port as bound */
    printf("serving %s on http://%.*s:%u/\n", ctx.store_name,
           (int)(strrchr(listen, ':') - listen), listen, serve_port(srv));
    fflush(stdout);
    int sig = 0;
    rc = sigwait(&set, &sig) == 0 ? 0 : cli_fail("serve", 1, "sigwait failed");
done:
    serve_stop(srv);
    if (poll_started) {
        pthread_mutex_lock(&pl.mu);
        pl.stop = true;
        pthread_cond_signal(&pl.cv);
        pthread_mutex_unlock(&pl.mu);
        pthread_join(poll_thread, NULL);
    }
    serve_warmer_stop(&ctx);
    hollow_consumer_free(ctx.consumer);
    serve_caches_clear(&ctx);
    cli_announcer_close(an);
    cli_store_close(bs);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
