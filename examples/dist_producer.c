/*
 * A producer for the distributed run (scripts/run-distributed.sh,
 * docs/deployment.md): N cycles of a small dataset that changes every
 * cycle, over a filesystem or S3 blob store, announced through the
 * filesystem, S3 or a Redis server. Public API only.
 *
 *   dist_producer --store fs --dir DIR [options]
 *   dist_producer --store s3 --endpoint HOST:PORT --bucket B [--prefix P]
 *                 [--region R] [--cache-dir D] [--tls] [--ca-file F]
 *                 [--s3-strict] [options]
 *   options: [--announcer fs|s3|redis://HOST:PORT[/db]] [--redis-prefix P]
 *            [--cycles N] [--interval-ms MS] [--step]
 *
 * After each cycle it prints the version it made current as hollow-cli
 * consume --follow prints what a consumer reached:
 * `version V checksum XXXXXXXX Actor=a Movie=m`, so the two compare line
 * for line. --step waits for a line on stdin before each cycle (a test
 * paces the producer with it); EOF ends the run. S3 keys come from the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the Redis
 * password from HOLLOW_REDIS_PASSWORD or the URL.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hollow/hollow.h"

static const char SCHEMA[] =
    "Actor @PrimaryKey(name) { string name; }\n"
    "Movie @PrimaryKey(id) { long id; string title; int year; Actor lead; }\n";

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

typedef struct args {
    const char *store, *dir, *endpoint, *bucket, *prefix, *region, *cache_dir;
    const char *ca_file, *announcer, *redis_prefix;
    bool tls, strict, step;
    long cycles, interval_ms;
} args;

static int usage(const char *msg)
{
    if (msg != NULL)
        fprintf(stderr, "dist_producer: %s\n", msg);
    fprintf(stderr,
            "usage: dist_producer --store fs --dir DIR | --store s3 --endpoint "
            "HOST:PORT --bucket B\n"
            "         [--prefix P] [--region R] [--cache-dir D] [--tls] "
            "[--ca-file F] [--s3-strict]\n"
            "         [--announcer fs|s3|redis://HOST:PORT[/db]] [--redis-prefix P]\n"
            "         [--cycles N] [--interval-ms MS] [--step]\n");
    return 2;
}

/* --name VALUE or --name=VALUE; a flag takes no value */
static int parse(args *a, int argc, char **argv)
{
    const struct {
        const char *name;
        const char **value;
    } values[] = {{"store", &a->store},         {"dir", &a->dir},
                  {"endpoint", &a->endpoint},   {"bucket", &a->bucket},
                  {"prefix", &a->prefix},       {"region", &a->region},
                  {"cache-dir", &a->cache_dir}, {"ca-file", &a->ca_file},
                  {"announcer", &a->announcer},
                  {"redis-prefix", &a->redis_prefix}};
    const struct {
        const char *name;
        bool *flag;
    } flags[] = {{"tls", &a->tls}, {"s3-strict", &a->strict}, {"step", &a->step}};
    const char *cycles = NULL, *interval = NULL;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (arg[0] != '-')
            return usage("unexpected argument");
        const char *name = arg + (arg[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        bool known = false;
        for (size_t k = 0; !known && k < sizeof flags / sizeof *flags; k++)
            if (strlen(flags[k].name) == len && strncmp(name, flags[k].name, len) == 0)
                known = *flags[k].flag = true;
        if (known)
            continue;
        const char **slot = NULL;
        for (size_t k = 0; slot == NULL && k < sizeof values / sizeof *values; k++)
            if (strlen(values[k].name) == len &&
                strncmp(name, values[k].name, len) == 0)
                slot = values[k].value;
        if (slot == NULL && len == 6 && strncmp(name, "cycles", 6) == 0)
            slot = &cycles;
        if (slot == NULL && len == 11 && strncmp(name, "interval-ms", 11) == 0)
            slot = &interval;
        if (slot == NULL)
            return usage("unknown option");
        const char *v = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (v == NULL)
            return usage("an option needs a value");
        *slot = v;
    }
    if (cycles != NULL)
        a->cycles = strtol(cycles, NULL, 10);
    if (interval != NULL)
        a->interval_ms = strtol(interval, NULL, 10);
    if (a->cycles < 1 || a->interval_ms < 0)
        return usage("--cycles needs N >= 1, --interval-ms MS >= 0");
    if (strcmp(a->store, "fs") == 0 ? a->dir == NULL
                                    : strcmp(a->store, "s3") != 0)
        return usage("--store fs needs --dir; --store is fs or s3");
    return 0;
}

static int open_store(hollow_blobstore **bs, const args *a)
{
    if (strcmp(a->store, "fs") == 0) {
        hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
        o.dir = a->dir;
        o.create_dir = true;
        return hollow_blobstore_fs_new(bs, &o);
    }
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = a->endpoint;
    o.bucket = a->bucket;
    o.prefix = a->prefix;
    o.region = a->region;
    o.cache_dir = a->cache_dir;
    o.ca_file = a->ca_file;
    if (a->tls)
        o.use_tls = 1;
    o.strict = a->strict;
    return hollow_blobstore_s3_new(bs, &o);
}

static int open_announcer(hollow_announcer **an, const args *a,
                          hollow_blobstore *bs)
{
    const char *spec = a->announcer != NULL ? a->announcer : a->store;
    if (strcmp(spec, "fs") == 0) {
        if (a->dir == NULL)
            return hollow_announcer_inproc_new(an, NULL) < 0 ? -1 : -2;
        hollow_announcer_fs_options o = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
        o.dir = a->dir;
        return hollow_announcer_fs_new(an, &o);
    }
    if (strcmp(spec, "s3") == 0) {
        hollow_announcer_s3_options o = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
        o.store = bs;
        return hollow_announcer_s3_new(an, &o);
    }
    hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = spec;
    o.key_prefix = a->redis_prefix;
    o.password = getenv("HOLLOW_REDIS_PASSWORD");
    return hollow_announcer_redis_new(an, &o);
}

/* cycle c (1, 2, ...): 5 + c movies, 2 + c / 2 actors, and one title that
 * names the cycle, so every cycle changes the data */
static int populate(hollow_write_state *ws, void *payload)
{
    long c = *(const long *)payload;
    long actors = 2 + c / 2, movies = 5 + c;
    hollow_ordinal *actor = calloc((size_t)actors, sizeof *actor);
    hollow_record *r = NULL;
    int rc = actor == NULL ? HOLLOW_ENOMEM : 0;
    char text[64];
    for (long i = 0; rc == 0 && i < actors; i++) {
        snprintf(text, sizeof text, "Actor %ld", i);
        rc = hollow_record_new(&r, ws, "Actor");
        if (rc == 0)
            rc = hollow_record_set_string(r, 0, text, strlen(text));
        if (rc == 0)
            rc = hollow_write_state_add(&actor[i], ws, r);
        hollow_record_free(r);
        r = NULL;
    }
    hollow_ordinal o;
    for (long i = 0; rc == 0 && i < movies; i++) {
        if (i == c % movies)
            snprintf(text, sizeof text, "Movie %ld, cut of cycle %ld", i, c);
        else
            snprintf(text, sizeof text, "Movie %ld", i);
        rc = hollow_record_new(&r, ws, "Movie");
        if (rc == 0)
            rc = hollow_record_set_long(r, 0, i);
        if (rc == 0)
            rc = hollow_record_set_string(r, 1, text, strlen(text));
        if (rc == 0)
            rc = hollow_record_set_int(r, 2, (int32_t)(1990 + i % 30));
        if (rc == 0)
            rc = hollow_record_set_ref(r, 3, actor[i % actors]);
        if (rc == 0)
            rc = hollow_write_state_add(&o, ws, r);
        hollow_record_free(r);
        r = NULL;
    }
    free(actor);
    return rc;
}

/* the line hollow-cli consume --follow prints for the same state */
static void print_state(hollow_read_state *rs)
{
    uint32_t sum = 0;
    printf("version %lld checksum ", (long long)hollow_read_state_version(rs));
    if (hollow_read_state_checksum(&sum, rs) == 0)
        printf("%08" PRIx32, sum);
    else
        printf("unknown");
    for (size_t i = 0; i < hollow_read_state_type_count(rs); i++) {
        const hollow_type *t = hollow_read_state_type_sorted(rs, i);
        printf(" %s=%zu", hollow_type_name(t), hollow_type_record_count(t));
    }
    putchar('\n');
    fflush(stdout);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (!stopping && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int main(int argc, char **argv)
{
    args a = {.store = "fs", .cycles = 5, .interval_ms = 1000};
    int rc = parse(&a, argc, argv);
    if (rc != 0)
        return rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* only sets a flag: the loop stops */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    hollow_schema_list *schemas = NULL;
    hollow_producer *p = NULL;
    rc = 1;
    if (open_store(&bs, &a) < 0) {
        fprintf(stderr, "dist_producer: store: %s\n", hollow_error_last()->message);
        goto done;
    }
    int arc = open_announcer(&an, &a, bs);
    if (arc < 0) {
        fprintf(stderr, "dist_producer: announcer: %s\n",
                arc == -2 ? "--announcer fs needs --store fs --dir DIR"
                          : hollow_error_last()->message);
        goto done;
    }
    if (hollow_schema_parse(&schemas, SCHEMA, strlen(SCHEMA)) < 0) {
        fprintf(stderr, "dist_producer: schema: %s\n", hollow_error_last()->message);
        goto done;
    }
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = an;
    po.schemas = schemas;
    po.num_states_between_snapshots = 4;
    po.lease_owner = "dist_producer";
    if (hollow_producer_new(&p, &po) < 0) {
        fprintf(stderr, "dist_producer: %s\n", hollow_error_last()->message);
        goto done;
    }
    /* a restarted producer continues the announced chain */
    int64_t announced = 0;
    if (hollow_announcer_latest(&announced, an) == 0 && announced > 0 &&
        hollow_producer_restore(p, HOLLOW_VERSION_LATEST) < 0) {
        fprintf(stderr, "dist_producer: restore: %s\n",
                hollow_error_last()->message);
        goto done;
    }
    rc = 0;
    char line[64];
    for (long c = 1; c <= a.cycles && !stopping; c++) {
        if (a.step && fgets(line, sizeof line, stdin) == NULL)
            break;
        if (!a.step && c > 1)
            sleep_ms(a.interval_ms);
        if (stopping)
            break;
        int64_t v = 0;
        if (hollow_producer_run_cycle(&v, p, populate, &c) < 0) {
            fprintf(stderr, "dist_producer: cycle %ld: %s\n", c,
                    hollow_error_last()->message);
            rc = 1;
            break;
        }
        hollow_read_state *rs = hollow_producer_acquire_state(p);
        if (rs != NULL)
            print_state(rs);
        hollow_read_state_release(rs);
    }
    /* S3: wait for the pending uploads (and the announcement behind them) */
    if (strcmp(a.store, "s3") == 0 && hollow_blobstore_s3_flush(bs, 30000) < 0) {
        fprintf(stderr, "dist_producer: %s\n", hollow_error_last()->message);
        rc = 1;
    }
done:
    hollow_producer_free(p);
    hollow_schema_list_free(schemas);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    return rc;
}
