/* The store and announcer options of hollow-cli (store_opts.h). */
#include "store_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

const char CLI_STORE_USAGE[] =
    "  --store memory|fs|s3  the blob store: memory is a built-in sample\n"
    "                  (the Movies dataset, versions 1, 2 and 3, kept for\n"
    "                  the process: `hollow-cli shell` works on it); the\n"
    "                  default is memory, or fs when --dir is given\n"
    "  --dir DIR       fs: the store's directory\n"
    "  --endpoint HOST:PORT  s3: the server (or http[s]://HOST[:PORT])\n"
    "  --bucket B      s3: the bucket\n"
    "  --prefix P      s3: the key prefix inside the bucket\n"
    "  --region R      s3: the region (default $AWS_REGION, else us-east-1)\n"
    "  --cache-dir D   s3: the local blob cache (default ~/.cache/hollow/...)\n"
    "  --tls           s3: always use TLS (default: on, except loopback and\n"
    "                  http:// endpoints); certificates are always verified\n"
    "  --ca-file F     s3: a PEM CA bundle instead of the system's\n"
    "  --s3-strict     s3: fail instead of keeping puts pending\n"
    "                  s3 keys come from the environment only:\n"
    "                  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and\n"
    "                  AWS_SESSION_TOKEN\n"
    "  --announcer A   fs, s3 or redis://HOST:PORT[/db] (default: the\n"
    "                  store's own); the Redis password comes from\n"
    "                  $HOLLOW_REDIS_PASSWORD or the URL\n"
    "  --redis-prefix P  the Redis announcer's key prefix (default hollow:);\n"
    "                  one per dataset sharing a Redis db\n";

bool cli_store_option(cli_store_opts *o, int id, const char *v)
{
    switch (id) {
    case CLI_O_STORE: o->store = v; o->store_set = true; return true;
    case CLI_O_DIR: o->dir = v; return true;
    case CLI_O_ENDPOINT: o->endpoint = v; return true;
    case CLI_O_BUCKET: o->bucket = v; return true;
    case CLI_O_PREFIX: o->prefix = v; return true;
    case CLI_O_REGION: o->region = v; return true;
    case CLI_O_CACHE_DIR: o->cache_dir = v; return true;
    case CLI_O_TLS: o->tls = true; return true;
    case CLI_O_CA_FILE: o->ca_file = v; return true;
    case CLI_O_S3_STRICT: o->s3_strict = true; return true;
    case CLI_O_ANNOUNCER: o->announcer = v; return true;
    case CLI_O_REDIS_PREFIX: o->redis_prefix = v; return true;
    default: return false;
    }
}

static bool is_s3(const cli_store_opts *o)
{
    return strcmp(o->store, "s3") == 0;
}

static bool has_s3_option(const cli_store_opts *o)
{
    return o->endpoint != NULL || o->bucket != NULL || o->prefix != NULL ||
           o->region != NULL || o->cache_dir != NULL || o->tls ||
           o->ca_file != NULL || o->s3_strict;
}

bool cli_store_is_memory(const cli_store_opts *o)
{
    if (o->store_set)
        return strcmp(o->store, "memory") == 0;
    return o->dir == NULL && !has_s3_option(o);
}

/* the s3-only options given with --store fs, or --dir with s3 */
static const char *misplaced(const cli_store_opts *o)
{
    if (is_s3(o))
        return o->dir != NULL ? "--dir" : NULL;
    if (o->endpoint != NULL) return "--endpoint";
    if (o->bucket != NULL) return "--bucket";
    if (o->prefix != NULL) return "--prefix";
    if (o->region != NULL) return "--region";
    if (o->cache_dir != NULL) return "--cache-dir";
    if (o->tls) return "--tls";
    if (o->ca_file != NULL) return "--ca-file";
    if (o->s3_strict) return "--s3-strict";
    return NULL;
}

int cli_store_open(hollow_blobstore **out, const cli_store_opts *o,
                   const char *cmd, const char **where)
{
    *out = NULL;
    if (cli_store_is_memory(o)) {
        if (o->dir != NULL || has_s3_option(o))
            return cli_fail(cmd, 2, "--store memory takes no --dir or s3 "
                            "option");
        *where = "the memory store";
        return cli_sample_open(out, NULL, cmd);
    }
    if (strcmp(o->store, "fs") != 0 && !is_s3(o))
        return cli_fail(cmd, 2, "--store %s: unknown store (memory, fs or s3)",
                        o->store);
    const char *bad = misplaced(o);
    if (bad != NULL)
        return cli_fail(cmd, 2, "%s does not apply to --store %s", bad, o->store);
    if (!is_s3(o)) {
        if (o->dir == NULL)
            return cli_fail(cmd, 2, "--store fs needs --dir DIR (see --help)");
        *where = o->dir;
        hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
        so.dir = o->dir;
        if (hollow_blobstore_fs_new(out, &so) < 0)
            return cli_fail_hollow(cmd, "%s", o->dir);
        return 0;
    }
    if (o->bucket == NULL)
        return cli_fail(cmd, 2, "--store s3 needs --bucket B (see --help)");
    if (o->endpoint == NULL && getenv("AWS_ENDPOINT_URL") == NULL)
        return cli_fail(cmd, 2, "--store s3 needs --endpoint HOST:PORT (or "
                        "$AWS_ENDPOINT_URL)");
    *where = o->bucket;
    /* the keys stay NULL: the store reads them from the environment */
    hollow_blobstore_s3_options so = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    so.endpoint = o->endpoint;
    so.bucket = o->bucket;
    so.prefix = o->prefix;
    so.region = o->region;
    so.cache_dir = o->cache_dir;
    so.ca_file = o->ca_file;
    so.use_tls = o->tls ? 1 : -1;
    so.strict = o->s3_strict;
    if (hollow_blobstore_s3_new(out, &so) < 0)
        return cli_fail_hollow(cmd, "s3 bucket %s", o->bucket);
    return 0;
}

int cli_announcer_open(hollow_announcer **out, const cli_store_opts *o,
                       hollow_blobstore *bs, bool follow, const char *cmd)
{
    *out = NULL;
    if (cli_store_is_memory(o)) {
        if (o->announcer != NULL && strcmp(o->announcer, "memory") != 0)
            return cli_fail(cmd, 2, "--store memory has its own in-process "
                            "announcer; --announcer %s does not apply",
                            strchr(o->announcer, '@') != NULL ? "URL"
                                                              : o->announcer);
        return cli_sample_open(NULL, out, cmd);
    }
    const char *spec = o->announcer != NULL ? o->announcer : o->store;
    bool redis = strncmp(spec, "redis://", 8) == 0 ||
                 strncmp(spec, "rediss://", 9) == 0;
    if (o->redis_prefix != NULL && !redis)
        return cli_fail(cmd, 2, "--redis-prefix goes with --announcer "
                        "redis://HOST:PORT");
    if (strcmp(spec, "fs") == 0) {
        if (is_s3(o) || o->dir == NULL)
            return cli_fail(cmd, 2, "--announcer fs needs --store fs --dir DIR");
        hollow_announcer_fs_options ao = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
        ao.dir = o->dir;
        ao.force_polling = !follow; /* read once: no inotify watch needed */
        if (hollow_announcer_fs_new(out, &ao) < 0)
            return cli_fail_hollow(cmd, "the announcer over %s", o->dir);
        return 0;
    }
    if (strcmp(spec, "s3") == 0) {
        if (bs == NULL || !is_s3(o))
            return cli_fail(cmd, 2, "--announcer s3 needs --store s3");
        hollow_announcer_s3_options ao = HOLLOW_ANNOUNCER_S3_OPTIONS_INIT;
        ao.store = bs;
        if (hollow_announcer_s3_new(out, &ao) < 0)
            return cli_fail_hollow(cmd, "the S3 announcer");
        return 0;
    }
    if (redis) {
        hollow_announcer_redis_options ro = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
        ro.url = spec;
        ro.key_prefix = o->redis_prefix;
        ro.password = getenv("HOLLOW_REDIS_PASSWORD");
        /* the message never holds the password: the URL is not repeated */
        if (hollow_announcer_redis_new(out, &ro) < 0)
            return cli_fail_hollow(cmd, "the Redis announcer");
        return 0;
    }
    /* a URL with credentials is not echoed: it may hold a password */
    return cli_fail(cmd, 2, "--announcer %s: unknown announcer (fs, s3 or "
                    "redis://HOST:PORT[/db])",
                    strchr(spec, '@') != NULL ? "URL" : spec);
}

void cli_store_close(hollow_blobstore *bs)
{
    if (!cli_sample_is_store(bs)) /* the sample lives for the process */
        hollow_blobstore_free(bs);
}

void cli_announcer_close(hollow_announcer *an)
{
    if (!cli_sample_is_announcer(an))
        hollow_announcer_free(an);
}

int cli_versions_add(int64_t version, void *payload)
{
    cli_versions *l = payload;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *p = realloc(l->v, cap * sizeof *p);
        if (p == NULL)
            return HOLLOW_ENOMEM;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = version;
    return 0;
}
