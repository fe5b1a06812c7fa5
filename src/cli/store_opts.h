/*
 * The blob store and announcer options shared by the hollow-cli commands
 * that open a store: `--store memory` (the built-in sample, the default
 * without --dir), `--store fs --dir DIR`, or `--store s3 --endpoint
 * HOST:PORT --bucket B [--prefix P] [--region R] [--cache-dir D] [--tls]
 * [--ca-file F] [--s3-strict]` (keys from the environment only), and
 * `--announcer fs|s3|redis://HOST:PORT[/db]` [--redis-prefix P]. A command adds
 * CLI_STORE_SPECS to its option table and passes every id it does not know
 * to cli_store_option().
 */
#ifndef HOLLOW_CLI_STORE_OPTS_H
#define HOLLOW_CLI_STORE_OPTS_H

#include <stdbool.h>

#include "hollow/announcer.h"
#include "hollow/blobstore.h"
#include "opt.h"

/* ids far above any command's own enum */
enum {
    CLI_O_STORE = 1000, CLI_O_DIR, CLI_O_ENDPOINT, CLI_O_BUCKET, CLI_O_PREFIX,
    CLI_O_REGION, CLI_O_CACHE_DIR, CLI_O_TLS, CLI_O_CA_FILE, CLI_O_S3_STRICT,
    CLI_O_ANNOUNCER, CLI_O_REDIS_PREFIX
};

#define CLI_STORE_SPECS                                                        \
    {"store", OPT_VALUE, CLI_O_STORE}, {"dir", OPT_VALUE, CLI_O_DIR},          \
    {"endpoint", OPT_VALUE, CLI_O_ENDPOINT},                                   \
    {"bucket", OPT_VALUE, CLI_O_BUCKET}, {"prefix", OPT_VALUE, CLI_O_PREFIX},  \
    {"region", OPT_VALUE, CLI_O_REGION},                                       \
    {"cache-dir", OPT_VALUE, CLI_O_CACHE_DIR}, {"tls", OPT_FLAG, CLI_O_TLS},   \
    {"ca-file", OPT_VALUE, CLI_O_CA_FILE},                                     \
    {"s3-strict", OPT_FLAG, CLI_O_S3_STRICT},                                  \
    {"announcer", OPT_VALUE, CLI_O_ANNOUNCER},                                 \
    {"redis-prefix", OPT_VALUE, CLI_O_REDIS_PREFIX}

/* the usage lines of those options, for a command's --help */
extern const char CLI_STORE_USAGE[];

typedef struct cli_store_opts {
    const char *store;     /* "fs" (default) or "s3" */
    const char *dir;
    const char *endpoint;
    const char *bucket;
    const char *prefix;
    const char *region;
    const char *cache_dir;
    const char *ca_file;
    bool tls;
    bool s3_strict;
    const char *announcer; /* NULL: the store's own (fs or s3) */
    const char *redis_prefix; /* the Redis key prefix; NULL: "hollow:" */
    bool store_set;        /* --store was given: without it and without
                              --dir or an s3 option, the store is memory */
} cli_store_opts;

#define CLI_STORE_OPTS_INIT                                                    \
    {"fs", NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, false, NULL, NULL, \
     false}

/* whether the options name the memory store (the sample, sample.h):
 * `--store memory`, or no --store, no --dir and no s3 option */
bool cli_store_is_memory(const cli_store_opts *o);

/* take option `id` with value `v`: true if it is one of CLI_STORE_SPECS */
bool cli_store_option(cli_store_opts *o, int id, const char *v);

/*
 * Check the options (a usage error prints the message and returns 2) and
 * open the store: 0, or 1 after printing why it failed. `where` receives a
 * short name of the store for messages (the dir, or the bucket).
 */
int cli_store_open(hollow_blobstore **out, const cli_store_opts *o,
                   const char *cmd, const char **where);

/*
 * Open the announcer `o->announcer` names (by default the store's own:
 * fs over the store's dir, s3 over `bs`). `follow`: a long-lived watcher
 * (inotify for fs); else the fs announcer polls, made to be read once.
 * 0, 2 for a usage error, 1 after printing why it failed.
 */
int cli_announcer_open(hollow_announcer **out, const cli_store_opts *o,
                       hollow_blobstore *bs, bool follow, const char *cmd);

/*
 * Free what cli_store_open() and cli_announcer_open() gave; NULL is a no-op.
 * Commands call these, never the library's free functions, so that a store
 * kept for the whole process (the sample behind --store memory, sample.h)
 * survives one command.
 */
void cli_store_close(hollow_blobstore *bs);
void cli_announcer_close(hollow_announcer *an);

/* a store's versions, filled by hollow_blobstore_list_versions() with
 * cli_versions_add as its callback; free(v) when done */
typedef struct cli_versions {
    int64_t *v;
    size_t n, cap;
} cli_versions;
int cli_versions_add(int64_t version, void *payload);

#endif
