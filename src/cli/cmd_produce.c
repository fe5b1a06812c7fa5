/*
 * hollow-cli produce [store options] [-schema FILE] -data [TYPE=]FILE...
 *
 * One producer cycle over a store: the data files are the whole new
 * version (Hollow's model), imported through hollow/import.h into the
 * producer's write state. When the store already announces a version the
 * producer restores from it first, so the cycle publishes a delta and a
 * reverse delta, and publishes nothing when the data did not change. The
 * version is printed alone on stdout; everything else goes to stderr.
 *
 * A failed import is the populate callback's error: the producer rolls
 * the cycle back, so nothing is published or announced.
 *
 * The store is opened in one place, open_store(), so that other stores
 * (the in-memory sample of --store memory) slot in there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "hollow/error.h"
#include "hollow/import.h"
#include "hollow/producer.h"
#include "hollow/read.h"
#include "hollow/schema.h"
#include "opt.h"
#include "sample.h"
#include "store_opts.h"

static const char USAGE[] =
    "usage: hollow-cli produce [--store memory] [--verbose]\n"
    "       hollow-cli produce [--store memory] [--schema FILE] --data ...\n"
    "       hollow-cli produce --store fs --dir DIR [--schema FILE]\n"
    "                          --data [TYPE=]FILE [--data ...] [--format F]\n"
    "                          [--strict] [--verbose] [-I DIR]...\n"
    "                          [--primary-key TYPE=F[,F]]...\n"
    "\n"
    "Publish one version whose records are the data files' (the whole\n"
    "dataset: records absent from them are removed). When the store\n"
    "announces a version already, the new one comes with a delta and a\n"
    "reverse delta from it; unchanged data publishes nothing. Prints the\n"
    "version (new, or the current one when nothing changed) on stdout.\n"
    "On the memory store (the default without --dir: the built-in Movies\n"
    "sample, versions 1-3), no --data publishes the sample's next version\n"
    "(the dataset's version-2 rule applied to the latest); versions there\n"
    "are numbered 1, 2, 3, ...\n"
    "\n"
    "  --schema FILE   the data model: FILE.capnp (Cap'n Proto) or the\n"
    "                  Hollow schema language; without it the schema is\n"
    "                  inferred from the data (hollow-cli schema --infer\n"
    "                  prints what it infers)\n"
    "  --data [TYPE=]FILE  records of OBJECT type TYPE (default: the\n"
    "                  schema's root type, the one no other type references);\n"
    "                  repeatable; FILE - is standard input (needs --format\n"
    "                  and --schema)\n"
    "  --format F      json, jsonl or csv for every data file (default: by\n"
    "                  extension: .json, .jsonl/.ndjson, .csv)\n"
    "  --strict        an unknown field (a key or column the type lacks) is\n"
    "                  an error; without it it is ignored and counted\n"
    "  --verbose       per type the records added, removed and kept, and\n"
    "                  each blob written with its size, on stderr\n"
    "  -I DIR          .capnp: search DIR for absolute imports (repeatable)\n"
    "  --primary-key TYPE=F[,F]  the primary key of TYPE (repeatable)\n"
    "  --help          this text\n"
    "\n"
    "Store options:\n%s"
    "\n"
    "Exit 0 on success; 1 when the data or the store fails (data errors\n"
    "read FILE:LINE[:COLUMN]: what; nothing is published then); 2 for a\n"
    "usage error.\n";

#define CMD "produce"

/* one -data argument */
typedef struct data_arg {
    const char *type; /* NULL: the root type */
    const char *path; /* "-": standard input */
} data_arg;

typedef struct produce_args {
    cli_store_opts store;
    const char *schema;
    data_arg *data;
    int ndata;
    const char **dirs; /* NULL-terminated, for .capnp */
    const char **keys; /* NULL-terminated "TYPE=F[,F]" */
    int nkeys;
    hollow_import_format format;
    bool strict, verbose;
} produce_args;

/* what the populate callback needs and reports */
typedef struct produce_run {
    const produce_args *a;
    hollow_import_stats *stats; /* one per data file */
    const char **types;         /* the type each file fills (for -verbose) */
    char **owned;               /* names found by inferred_type() */
    char *stdin_data;           /* standard input, read once */
    size_t stdin_len;
    bool progress;              /* stderr is a terminal */
} produce_run;

/* ------------------------------------------------------------ helpers */

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
                    s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* -data TYPE=FILE when the text before the first '=' is an identifier */
static data_arg parse_data(const char *v)
{
    data_arg d = {NULL, v};
    const char *eq = strchr(v, '=');
    if (eq != NULL && is_ident(v, (size_t)(eq - v)) && eq[1] != '\0') {
        size_t n = (size_t)(eq - v);
        char *t = malloc(n + 1);
        if (t != NULL) {
            memcpy(t, v, n);
            t[n] = '\0';
            d.type = t;
            d.path = eq + 1;
        }
    }
    return d;
}

static bool parse_format(hollow_import_format *out, const char *v)
{
    if (strcmp(v, "json") == 0)
        *out = HOLLOW_IMPORT_JSON;
    else if (strcmp(v, "jsonl") == 0 || strcmp(v, "ndjson") == 0)
        *out = HOLLOW_IMPORT_JSONL;
    else if (strcmp(v, "csv") == 0)
        *out = HOLLOW_IMPORT_CSV;
    else
        return false;
    return true;
}

/* the whole of `f` in a malloc'd buffer, or NULL with errno set */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
    }
    if (ferror(f)) {
        free(buf);
        if (errno == 0)
            errno = EIO;
        return NULL;
    }
    *len = n;
    return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------- schema */

/*
 * --primary-key on a Hollow-language or inferred schema: a copy of the
 * list in which each named OBJECT type carries the key. The .capnp parser
 * takes the keys itself.
 */
static int apply_keys(hollow_schema_list **l, const char *const *keys, int n)
{
    if (n == 0)
        return 0;
    for (int k = 0; k < n; k++) {
        const char *eq = strchr(keys[k], '=');
        if (eq == NULL || eq == keys[k] || eq[1] == '\0')
            return cli_fail(CMD, 2, "--primary-key %s: want TYPE=FIELD[,FIELD]",
                            keys[k]);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - keys[k]), keys[k]);
        const hollow_schema *s = hollow_schema_list_find(*l, name);
        if (s == NULL || hollow_schema_kind_of(s) != HOLLOW_SCHEMA_OBJECT)
            return cli_fail(CMD, 2, "--primary-key %s: no OBJECT type %s in the "
                            "schema", keys[k], name);
    }
    hollow_schema_list *out = NULL;
    if (hollow_schema_list_new(&out) < 0)
        return cli_fail_hollow(CMD, "schema");
    for (size_t i = 0; i < hollow_schema_list_count(*l); i++) {
        hollow_schema *c = NULL;
        const hollow_schema *s = hollow_schema_list_get(*l, i);
        if (hollow_schema_clone(&c, s) < 0)
            goto fail;
        for (int k = 0; k < n; k++) {
            const char *eq = strchr(keys[k], '=');
            size_t nl = (size_t)(eq - keys[k]);
            if (strlen(hollow_schema_name(s)) != nl ||
                memcmp(hollow_schema_name(s), keys[k], nl) != 0)
                continue;
            /* the fields, split on commas */
            char buf[1024];
            const char *paths[64];
            size_t np = 0;
            snprintf(buf, sizeof buf, "%s", eq + 1);
            for (char *save = NULL, *t = strtok_r(buf, ",", &save);
                 t != NULL && np < 64; t = strtok_r(NULL, ",", &save))
                paths[np++] = t;
            if (hollow_schema_set_key(c, paths, np) < 0) {
                hollow_schema_free(c);
                hollow_schema_list_free(out);
                return cli_fail_hollow(CMD, "--primary-key %s", keys[k]);
            }
        }
        if (hollow_schema_list_add(out, c) < 0)
            goto fail;
    }
    if (hollow_schema_list_validate(out) < 0) {
        hollow_schema_list_free(out);
        return cli_fail_hollow(CMD, "--primary-key");
    }
    hollow_schema_list_free(*l);
    *l = out;
    return 0;
fail:
    hollow_schema_list_free(out);
    return cli_fail_hollow(CMD, "schema");
}

/* -schema FILE: .capnp through libcapnp, else the Hollow schema language */
static int load_schema(hollow_schema_list **out, const produce_args *a)
{
    *out = NULL;
    if (ends_with(a->schema, ".capnp")) {
        hollow_capnp_options co = HOLLOW_CAPNP_OPTIONS_INIT;
        co.import_dirs = a->dirs;
        co.primary_keys = a->keys;
        /* the message reads "FILE:LINE: ..." or "FILE: ..." already */
        if (hollow_schema_parse_capnp(out, a->schema, &co) < 0)
            return cli_fail(CMD, 1, "%s", hollow_error_last()->message);
        return 0;
    }
    FILE *f = fopen(a->schema, "rb");
    size_t len = 0;
    char *text = f != NULL ? read_all(f, &len) : NULL;
    int err = errno;
    if (f != NULL)
        fclose(f);
    if (text == NULL)
        return cli_fail(CMD, 1, "cannot read %s: %s", a->schema,
                        strerror(err ? err : EIO));
    int rc = hollow_schema_parse(out, text, len);
    free(text);
    if (rc == 0 && (rc = hollow_schema_list_validate(*out)) < 0) {
        hollow_schema_list_free(*out);
        *out = NULL;
    }
    if (rc < 0) {
        /* parse errors read "line L:C: ..."; print them as FILE:L:C: ... */
        const char *msg = hollow_error_last()->message;
        if (strncmp(msg, "line ", 5) == 0)
            return cli_fail(CMD, 1, "%s:%s", a->schema, msg + 5);
        return cli_fail(CMD, 1, "%s: %s", a->schema, msg);
    }
    if ((rc = apply_keys(out, a->keys, a->nkeys)) != 0) {
        hollow_schema_list_free(*out);
        *out = NULL;
    }
    return rc;
}

/* no -schema: inferred from the data files, and said so */
static int infer_schema(hollow_schema_list **out, const produce_args *a)
{
    hollow_import_source *src = calloc((size_t)a->ndata, sizeof *src);
    if (src == NULL)
        return cli_fail(CMD, 1, "out of memory");
    for (int i = 0; i < a->ndata; i++) {
        src[i].type = a->data[i].type;
        src[i].path = a->data[i].path;
        src[i].format = a->format;
    }
    hollow_import_options io = HOLLOW_IMPORT_OPTIONS_INIT;
    io.format = a->format;
    int rc = hollow_import_infer(out, src, (size_t)a->ndata, &io);
    free(src);
    if (rc < 0)
        return cli_fail(CMD, 1, "%s", hollow_error_last()->message);
    fprintf(stderr, "hollow-cli produce: no --schema: the schema is inferred "
                    "from the data (hollow-cli schema --infer prints it)\n");
    if ((rc = apply_keys(out, a->keys, a->nkeys)) != 0) {
        hollow_schema_list_free(*out);
        *out = NULL;
    }
    return rc;
}

/*
 * The type name inference gives the records of `d` (untyped): the root
 * type of the schema inferred from that file alone. 0 with *out
 * malloc'd, or 1 after printing why.
 */
static int inferred_type(char **out, const data_arg *d,
                         hollow_import_format format)
{
    hollow_import_source src = {NULL, d->path, format};
    hollow_import_options io = HOLLOW_IMPORT_OPTIONS_INIT;
    io.format = format;
    hollow_schema_list *one = NULL;
    const char *root = NULL;
    *out = NULL;
    if (hollow_import_infer(&one, &src, 1, &io) < 0 ||
        hollow_import_root_type(&root, one) < 0 ||
        (*out = strdup(root)) == NULL) {
        hollow_schema_list_free(one);
        return cli_fail(CMD, 1, "%s: %s", d->path, hollow_error_last()->message);
    }
    hollow_schema_list_free(one);
    return 0;
}

/* -------------------------------------------------------------- store */

/*
 * Open the blob store and announcer the options name: 0, 1 or 2 (usage)
 * after printing why. The one place a new kind of store is added.
 */
static int open_store(hollow_blobstore **bs, hollow_announcer **an,
                      const cli_store_opts *o)
{
    const char *where = NULL;
    *an = NULL;
    *bs = NULL;
    /* a producer starts a store: make its directory (and parents) */
    if (strcmp(o->store, "fs") == 0 && o->dir != NULL && o->dir[0] != '\0') {
        char path[4096];
        snprintf(path, sizeof path, "%s", o->dir);
        for (char *c = path + 1;; c++) {
            if (*c != '/' && *c != '\0')
                continue;
            char was = *c;
            *c = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return cli_fail(CMD, 1, "cannot create %s: %s", path,
                                strerror(errno));
            *c = was;
            if (was == '\0')
                break;
        }
    }
    int rc = cli_store_open(bs, o, CMD, &where);
    if (rc != 0)
        return rc;
    if ((rc = cli_announcer_open(an, o, *bs, false, CMD)) != 0) {
        cli_store_close(*bs);
        *bs = NULL;
    }
    return rc;
}

static void close_store(hollow_blobstore *bs, hollow_announcer *an)
{
    cli_announcer_close(an);
    cli_store_close(bs);
}

/* ----------------------------------------------------------- populate */

static void progress(uint64_t done, uint64_t total, void *payload)
{
    const char *name = payload;
    if (total == 0)
        return;
    int pct = (int)(done * 100 / total), bar = pct * 30 / 100;
    fprintf(stderr, "\r%-24.24s [%.*s%*s] %3d%% %8.1f MB", name, bar,
            "##############################", 30 - bar, "", pct,
            (double)done / 1e6);
    fflush(stderr);
}

/* The producer's populate callback: every data file, in order. */
static int populate(hollow_write_state *ws, void *payload)
{
    produce_run *r = payload;
    const produce_args *a = r->a;
    for (int i = 0; i < a->ndata; i++) {
        hollow_import_options io = HOLLOW_IMPORT_OPTIONS_INIT;
        io.format = a->format;
        io.strict = a->strict;
        if (r->progress) {
            io.progress = progress;
            const char *base = strrchr(a->data[i].path, '/');
            io.progress_payload = (void *)(base != NULL ? base + 1 : a->data[i].path);
        }
        memset(&r->stats[i], 0, sizeof r->stats[i]);
        int rc;
        if (strcmp(a->data[i].path, "-") == 0)
            rc = hollow_import_buffer(&r->stats[i], ws, r->types[i], "-",
                                      r->stdin_data, r->stdin_len, &io);
        else
            rc = hollow_import_file(&r->stats[i], ws, r->types[i],
                                    a->data[i].path, &io);
        if (r->progress)
            fputs("\r\033[K", stderr);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------- report */

static void count_type(size_t *added, size_t *removed, size_t *kept,
                       const hollow_type *before, const hollow_type *after)
{
    *added = *removed = *kept = 0;
    /* an ordinal populated in both states holds the same record: the
     * write state keeps the ordinals of unchanged records */
    for (hollow_ordinal o = hollow_type_next_ordinal(after, 0); o >= 0;
         o = hollow_type_next_ordinal(after, o + 1)) {
        if (before != NULL && hollow_type_is_populated(before, o))
            (*kept)++;
        else
            (*added)++;
    }
    if (before != NULL)
        for (hollow_ordinal o = hollow_type_next_ordinal(before, 0); o >= 0;
             o = hollow_type_next_ordinal(before, o + 1))
            if (after == NULL || !hollow_type_is_populated(after, o))
                (*removed)++;
}

/* -verbose: what each file gave, per type the changes, the blobs */
static void report(const produce_run *r, hollow_producer *p,
                   const hollow_read_state *before, int64_t prev_version,
                   int64_t version)
{
    const produce_args *a = r->a;
    for (int i = 0; i < a->ndata; i++)
        fprintf(stderr, "%s: %llu records into %s, %llu bytes, %llu unknown "
                "fields ignored\n", a->data[i].path,
                (unsigned long long)r->stats[i].records,
                r->types[i] != NULL ? r->types[i] : "the root type",
                (unsigned long long)r->stats[i].bytes,
                (unsigned long long)r->stats[i].unknown_fields);
    if (version == prev_version) {
        fprintf(stderr, "no change: version %lld already holds this data; "
                "nothing published\n", (long long)version);
        return;
    }
    hollow_read_state *after = hollow_producer_acquire_state(p);
    if (after == NULL)
        return;
    for (size_t i = 0; i < hollow_read_state_type_count(after); i++) {
        const hollow_type *t = hollow_read_state_type_sorted(after, i);
        const char *name = hollow_type_name(t);
        const hollow_type *b = before ? hollow_read_state_type(before, name) : NULL;
        size_t add, rem, kept;
        count_type(&add, &rem, &kept, b, t);
        fprintf(stderr, "%s: %zu added, %zu removed, %zu kept\n", name, add,
                rem, kept);
    }
    /* types the new version no longer has */
    for (size_t i = 0; before && i < hollow_read_state_type_count(before); i++) {
        const hollow_type *t = hollow_read_state_type_sorted(before, i);
        if (hollow_read_state_type(after, hollow_type_name(t)) == NULL)
            fprintf(stderr, "%s: 0 added, %zu removed, 0 kept\n",
                    hollow_type_name(t), hollow_type_record_count(t));
    }
    hollow_read_state_release(after);
    hollow_producer_blob blobs[HOLLOW_PRODUCER_MAX_BLOBS];
    size_t n = hollow_producer_last_blobs(p, blobs, HOLLOW_PRODUCER_MAX_BLOBS);
    for (size_t i = 0; i < n && i < HOLLOW_PRODUCER_MAX_BLOBS; i++) {
        char name[HOLLOW_BLOB_NAME_MAX];
        if (hollow_blob_key_name(name, sizeof name, &blobs[i].key) == 0)
            fprintf(stderr, "wrote %s: %llu bytes\n", name,
                    (unsigned long long)blobs[i].size);
    }
}

/* ---------------------------------------------------------------- run */

static int produce(const produce_args *a)
{
    hollow_schema_list *schemas = NULL;
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    hollow_producer *p = NULL;
    hollow_read_state *before = NULL;
    produce_run r = {a, NULL, NULL, NULL, NULL, 0, isatty(2) == 1};
    int rc;

    /* standard input is read once, before anything is opened */
    for (int i = 0; i < a->ndata; i++)
        if (strcmp(a->data[i].path, "-") == 0) {
            errno = 0;
            r.stdin_data = read_all(stdin, &r.stdin_len);
            if (r.stdin_data == NULL) {
                rc = cli_fail(CMD, 1, "cannot read standard input: %s",
                              strerror(errno ? errno : EIO));
                goto done;
            }
        }
    rc = a->schema != NULL ? load_schema(&schemas, a) : infer_schema(&schemas, a);
    if (rc != 0)
        goto done;
    /* each file's type, checked before the store is touched: an unknown
     * or ambiguous one is a usage error */
    r.stats = calloc((size_t)a->ndata, sizeof *r.stats);
    r.types = calloc((size_t)a->ndata, sizeof *r.types);
    r.owned = calloc((size_t)a->ndata, sizeof *r.owned);
    if (r.stats == NULL || r.types == NULL || r.owned == NULL) {
        rc = cli_fail(CMD, 1, "out of memory");
        goto done;
    }
    for (int i = 0; i < a->ndata; i++) {
        const char *t = a->data[i].type;
        if (t == NULL && a->schema == NULL && a->ndata > 1) {
            /* several inferred files: each fills the type inferred for it
             * alone (the library names it after the file) */
            if ((rc = inferred_type(&r.owned[i], &a->data[i], a->format)) != 0)
                goto done;
            t = r.owned[i];
        } else if (t == NULL) {
            if (hollow_import_root_type(&t, schemas) < 0) {
                rc = cli_fail(CMD, 2, "%s: %s (--data TYPE=%s)",
                              a->data[i].path, hollow_error_last()->message,
                              a->data[i].path);
                goto done;
            }
        } else {
            const hollow_schema *s = hollow_schema_list_find(schemas, t);
            if (s == NULL || hollow_schema_kind_of(s) != HOLLOW_SCHEMA_OBJECT) {
                rc = cli_fail(CMD, 2, "--data %s=%s: the schema has no OBJECT "
                              "type %s", t, a->data[i].path, t);
                goto done;
            }
        }
        r.types[i] = t;
    }
    if ((rc = open_store(&bs, &an, &a->store)) != 0)
        goto done;
    rc = 1;
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = an;
    po.schemas = schemas;
    if (cli_sample_is_store(bs)) {
        /* the sample's versions go on 1, 2, 3, ...; its own producer
         * holds no lease, so neither does this one */
        po.minter = cli_sample_mint;
        po.lease_ttl_ms = HOLLOW_PRODUCER_NO_LEASE;
    }
    if (hollow_producer_new(&p, &po) < 0) {
        cli_fail_hollow(CMD, "producer");
        goto done;
    }
    /* continue the announced chain: the cycle then publishes a delta */
    int64_t announced = 0;
    int arc = hollow_announcer_latest(&announced, an);
    if (arc < 0 && arc != HOLLOW_ENOTFOUND) {
        cli_fail_hollow(CMD, "the announced version");
        goto done;
    }
    if (arc == 0 && announced > 0) {
        if (hollow_producer_restore(p, HOLLOW_VERSION_LATEST) < 0) {
            cli_fail_hollow(CMD, "restoring version %lld", (long long)announced);
            goto done;
        }
        before = hollow_producer_acquire_state(p);
    }
    int64_t prev = hollow_producer_version(p), version = 0;
    if (hollow_producer_run_cycle(&version, p, populate, &r) != 0) {
        /* data errors read "FILE:LINE[:COLUMN]: what" */
        fprintf(stderr, "hollow-cli produce: %s\n", hollow_error_last()->message);
        goto done;
    }
    if (version == 0) {
        cli_fail(CMD, 1, "the data holds no records; nothing published");
        goto done;
    }
    /* an S3 store may still be uploading: wait a while, then say so */
    if (strcmp(a->store.store, "s3") == 0 &&
        hollow_blobstore_s3_flush(bs, 60000) < 0)
        fprintf(stderr, "hollow-cli produce: warning: %s; they stay in the "
                "cache's journal for the next process\n",
                hollow_error_last()->message);
    if (a->verbose)
        report(&r, p, before, prev, version);
    printf("%lld\n", (long long)version);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_fail(CMD, 1, "cannot write to standard output: %s",
                 strerror(errno));
        goto done;
    }
    rc = 0;
done:
    hollow_read_state_release(before);
    hollow_producer_free(p);
    close_store(bs, an);
    hollow_schema_list_free(schemas);
    free(r.stats);
    free(r.types);
    for (int i = 0; r.owned != NULL && i < a->ndata; i++)
        free(r.owned[i]);
    free(r.owned);
    free(r.stdin_data);
    return rc;
}

int cmd_produce(int argc, char **argv)
{
    enum { O_SCHEMA = 1, O_DATA, O_FORMAT, O_STRICT, O_VERBOSE, O_KEY,
           O_IMPORT, O_HELP };
    static const opt_spec specs[] = {
        {"schema", OPT_VALUE, O_SCHEMA}, {"data", OPT_VALUE, O_DATA},
        {"format", OPT_VALUE, O_FORMAT}, {"strict", OPT_FLAG, O_STRICT},
        {"verbose", OPT_FLAG, O_VERBOSE}, {"v", OPT_FLAG, O_VERBOSE},
        {"primary-key", OPT_VALUE, O_KEY}, {"I", OPT_VALUE, O_IMPORT},
        {"help", OPT_FLAG, O_HELP}, {"h", OPT_FLAG, O_HELP},
        CLI_STORE_SPECS};
    produce_args a;
    memset(&a, 0, sizeof a);
    a.store = (cli_store_opts)CLI_STORE_OPTS_INIT;
    a.format = HOLLOW_IMPORT_AUTO;
    /* lists sized by argc (opt.h) */
    a.data = calloc((size_t)argc + 1, sizeof *a.data);
    a.dirs = calloc((size_t)argc + 1, sizeof *a.dirs);
    a.keys = calloc((size_t)argc + 1, sizeof *a.keys);
    int ndirs = 0, k, rc = 2, nstdin = 0;
    const char *v;
    opt_state st;
    opt_init(&st, argc, argv, CMD);
    if (a.data == NULL || a.dirs == NULL || a.keys == NULL) {
        rc = cli_fail(CMD, 1, "out of memory");
        goto done;
    }
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_SCHEMA: a.schema = v; break;
        case O_DATA:
            a.data[a.ndata] = parse_data(v);
            nstdin += strcmp(a.data[a.ndata].path, "-") == 0;
            a.ndata++;
            break;
        case O_FORMAT:
            if (!parse_format(&a.format, v)) {
                cli_fail(CMD, 2, "--format %s: want json, jsonl or csv", v);
                goto done;
            }
            break;
        case O_STRICT: a.strict = true; break;
        case O_VERBOSE: a.verbose = true; break;
        case O_KEY: a.keys[a.nkeys++] = v; break;
        case O_IMPORT: a.dirs[ndirs++] = v; break;
        case O_HELP:
            printf(USAGE, CLI_STORE_USAGE);
            rc = 0;
            goto done;
        case OPT_POSITIONAL:
            cli_fail(CMD, 2, "unexpected argument %s (data files go with "
                     "--data)", v);
            goto done;
        default:
            if (cli_store_option(&a.store, k, v))
                break;
            goto done; /* OPT_ERROR: printed */
        }
    }
    if (a.ndata == 0 && cli_store_is_memory(&a.store) && a.schema == NULL &&
        a.nkeys == 0 && ndirs == 0) {
        /* the sample's next version (sample.h) */
        int64_t version = 0;
        if ((rc = cli_sample_produce_next(&version, a.verbose, CMD)) == 0) {
            printf("%lld\n", (long long)version);
            rc = cli_finish_output(CMD, 0);
        }
        goto done;
    }
    if (a.ndata == 0) {
        fprintf(stderr, USAGE, CLI_STORE_USAGE);
        goto done;
    }
    /* before any data is read (the store's other checks come when it is
     * opened, after the data's types are known) */
    if (!cli_store_is_memory(&a.store) && strcmp(a.store.store, "fs") == 0 &&
        a.store.dir == NULL) {
        cli_fail(CMD, 2, "--store fs needs --dir DIR (see --help)");
        goto done;
    }
    if (nstdin > 1) {
        cli_fail(CMD, 2, "standard input (--data -) can be read only once");
        goto done;
    }
    if (nstdin == 1 && a.format == HOLLOW_IMPORT_AUTO) {
        cli_fail(CMD, 2, "--data - (standard input) needs --format");
        goto done;
    }
    if (nstdin == 1 && a.schema == NULL) {
        cli_fail(CMD, 2, "--data - (standard input) needs --schema: inferring "
                 "a schema would read it twice");
        goto done;
    }
    for (int i = 0; i < a.ndata; i++)
        if (a.format == HOLLOW_IMPORT_AUTO && strcmp(a.data[i].path, "-") != 0 &&
            hollow_import_format_of(a.data[i].path) == HOLLOW_IMPORT_AUTO) {
            cli_fail(CMD, 2, "%s: unknown format (.json, .jsonl, .ndjson or "
                     ".csv; or give --format)", a.data[i].path);
            goto done;
        }
    rc = produce(&a);
done:
    for (int i = 0; a.data != NULL && i < a.ndata; i++)
        free((char *)a.data[i].type);
    free(a.data);
    free(a.dirs);
    free(a.keys);
    return rc;
}
