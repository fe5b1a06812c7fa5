/* The store and announcer options of hollow-cli (store_opts.h). */
#include "store_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char CLI_STORE_USAGE[] =
    "  --store fs|s3   the blob store (default fs)\n"
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
    "                  s3 keys come from AWS_ACCESS_KEY_ID,\n"
    "                  AWS_SECRET_ACCESS_KEY (, AWS_SESSION_TOKEN) only\n"
    "  --announcer A   fs, s3 or redis://HOST:PORT[/db] (default: the\n"
    "                  store's own); the Redis password comes from\n"
    "                  $HOLLOW_REDIS_PASSWORD or the URL\n";

bool cli_store_option(cli_store_opts *o, int id, const char *v)
{
    switch (id) {
    case CLI_O_STORE: o->store = v; return true;
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
    default: return false;
    }
}

static bool is_s3(const cli_store_opts *o)
{
    return strcmp(o->store, "s3") == 0;
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
    if (strcmp(o->store, "fs") != 0 && !is_s3(o))
        return cli_fail(cmd, 2, "--store %s: unknown store (fs or s3)", o->store);
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
    return cli_fail(cmd, 2, "--store s3: not built into this hollow-cli");
}

bool cli_announcer_is_fs(const char *spec, const char *store)
{
    if (spec == NULL)
        return store == NULL || strcmp(store, "fs") == 0;
    return strcmp(spec, "fs") == 0;
}

int cli_announcer_open(hollow_announcer **out, const cli_store_opts *o,
                       hollow_blobstore *bs, bool follow, const char *cmd)
{
    (void)bs;
    *out = NULL;
    const char *spec = o->announcer != NULL ? o->announcer : o->store;
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
    return cli_fail(cmd, 2, "--announcer %s: unknown announcer (fs, s3 or "
                    "redis://HOST:PORT[/db])", spec);
}
