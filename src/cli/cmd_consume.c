/*
 * hollow-cli consume [store options] [--version V] [--dump] [--deep TYPE]
 *                    [--mmap] [--type T]... [--query TYPE KEY...]
 * hollow-cli consume [store options] --follow [--json] [--mmap] [--type T]...
 *
 * Refreshes a consumer over a blob store (store_opts.h: a directory, or an
 * S3 bucket) to version V (default: the announced version, else the latest
 * the store reaches; an announced version that cannot be read is an error
 * without --version and a warning with it), then prints the version and
 * each type's record count, or the canonical (--dump) or deep (--deep
 * TYPE) dump of that state, or with --query the record(s) of TYPE whose
 * primary key is KEY... as deep-dump JSON (exit 1 when none matches).
 *
 * With --follow it keeps following the announcer and prints one line per
 * version the consumer reaches until SIGINT or SIGTERM (exit 0). --json
 * prints the summary (each line of --follow) as a JSON object. A --type
 * the state lacks is an error (exit 1), not an empty filter.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "hollow/consumer.h"
#include "hollow/dump.h"
#include "hollow/index.h"
#include "json_out.h"
#include "opt.h"
#include "store_opts.h"

static const char USAGE[] =
    "usage: hollow-cli consume [--store memory] [--version V] [--json] [--dump]\n"
    "       hollow-cli consume --store fs --dir DIR [--version V] [--json] [--dump]\n"
    "                          [--deep TYPE] [--mmap] [--type T]...\n"
    "                          [--query TYPE KEY...]\n"
    "       hollow-cli consume --store s3 --endpoint HOST:PORT --bucket B\n"
    "                          [--prefix P] [--region R] [--cache-dir D]\n"
    "                          [--tls] [--ca-file F] [--s3-strict] ...\n"
    "       hollow-cli consume ... --follow [--json]\n"
    "                          [--announcer fs|s3|redis://HOST:PORT[/db]]\n"
    "\n"
    "Refresh a consumer over a blob store to version V, by default the\n"
    "announced one, and print the version and the record count of each\n"
    "type. With --follow, keep following the announcer and print one line\n"
    "per version reached, until SIGINT or SIGTERM.\n"
    "\n"
    "%s"
    "  --version V     the version to reach (default, or 0: the announced\n"
    "                  version, else the latest the store reaches)\n"
    "  --dump          print the canonical dump of the state instead\n"
    "  --deep TYPE     print the deep dump of TYPE instead\n"
    "  --mmap          map snapshots instead of reading them into memory\n"
    "  --type T        load only type T and what it references (repeatable;\n"
    "                  a type the version lacks is an error)\n"
    "  --query TYPE KEY...  print the record(s) of TYPE whose @PrimaryKey is\n"
    "                  KEY... (one value per key field) as deep-dump JSON\n"
    "  --follow        follow announcements; per version reached print\n"
    "                  `version V checksum XXXXXXXX Type=count ...`\n"
    "  --json          the summary as one JSON object (with --follow: one per\n"
    "                  line): {\"version\":V,\"checksum\":\"XXXXXXXX\",\n"
    "                  \"types\":{\"Type\":count,...}}\n"
    "  --verbose       print the refresh plan, and the library's info lines,\n"
    "                  on stderr\n"
    "  --help          this text\n";

static void on_refresh(const hollow_refresh_event *ev, void *payload)
{
    (void)payload;
    if (!ev->done)
        fprintf(stderr, "refresh %lld -> %lld: %s\n", (long long)ev->from_version,
                (long long)ev->to_version, ev->plan);
}

/* one key value from text, by the type of its key field; a BYTES value
 * is decoded into *bytes (allocated, the caller frees it) */
static int parse_key(hollow_value *out, hollow_field_type t, const char *text,
                     uint8_t **bytes)
{
    char *end = NULL;
    memset(out, 0, sizeof *out);
    out->type = t;
    if (strcmp(text, "null") == 0) {
        out->is_null = true;
        return 0;
    }
    long long num;
    errno = 0; /* a number out of range is refused, never clamped */
    switch (t) {
    case HOLLOW_FIELD_INT:
    case HOLLOW_FIELD_REFERENCE:
        num = strtoll(text, &end, 10);
        if (num < INT32_MIN || num > INT32_MAX)
            return -1;
        if (t == HOLLOW_FIELD_INT)
            out->u.i = (int32_t)num;
        else
            out->u.ref = (hollow_ordinal)num;
        break;
    case HOLLOW_FIELD_LONG: out->u.l = strtoll(text, &end, 10); break;
    case HOLLOW_FIELD_FLOAT: out->u.f = strtof(text, &end); break;
    case HOLLOW_FIELD_DOUBLE: out->u.d = strtod(text, &end); break;
    case HOLLOW_FIELD_BOOLEAN:
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
            return -1;
        out->u.b = text[0] == 't';
        return 0;
    case HOLLOW_FIELD_STRING:
        out->u.str.ptr = text;
        out->u.str.len = strlen(text);
        return 0;
    case HOLLOW_FIELD_BYTES: {
        size_t n = strlen(text);
        if (n % 2 != 0)
            return -1;
        uint8_t *b = *bytes = malloc(n / 2 + 1);
        if (b == NULL)
            return -2;
        for (size_t i = 0; i < n / 2; i++) {
            unsigned x;
            if (sscanf(text + 2 * i, "%2x", &x) != 1)
                return -1;
            b[i] = (uint8_t)x;
        }
        out->u.bytes.ptr = b;
        out->u.bytes.len = n / 2;
        return 0;
    }
    }
    return end != NULL && *end == '\0' && end != text && errno != ERANGE ? 0
                                                                          : -1;
}

/* --query: the record(s) of TYPE with primary key KEY..., as deep JSON */
static int run_query(const hollow_read_state *rs, const char *type,
                     const char *const *keys, int nkeys)
{
    const hollow_type *t = hollow_read_state_type(rs, type);
    if (t == NULL)
        return cli_fail("consume", 1, "type %s is not in the state", type);
    hollow_index *ix = NULL;
    if (hollow_index_primary_key_new(&ix, rs, type, NULL, 0) < 0)
        return cli_fail_hollow("consume", "--query %s", type);
    int rc = 1;
    size_t want = hollow_index_path_count(ix);
    hollow_value *vals = NULL;
    uint8_t **bytes = NULL;
    if ((size_t)nkeys != want) {
        rc = cli_fail("consume", 2, "type %s has %zu key field(s) (%s...), %d "
                      "value(s) given", type, want, hollow_index_path(ix, 0), nkeys);
        goto done;
    }
    vals = calloc(want, sizeof *vals);
    bytes = calloc(want, sizeof *bytes);
    if (vals == NULL || bytes == NULL) {
        rc = cli_fail("consume", 1, "out of memory");
        goto done;
    }
    for (int i = 0; i < nkeys; i++) {
        int prc = parse_key(&vals[i], hollow_index_path_type(ix, (size_t)i),
                            keys[i], &bytes[i]);
        if (prc == -2) {
            rc = cli_fail("consume", 1, "out of memory");
            goto done;
        }
        if (prc < 0) {
            rc = cli_fail("consume", 2, "key %s: \"%s\" is not a %s",
                          hollow_index_path(ix, (size_t)i), keys[i],
                          hollow_field_type_name(hollow_index_path_type(ix, (size_t)i)));
            goto done;
        }
    }
    int o = hollow_index_find(ix, vals, (size_t)nkeys);
    if (o < 0) {
        rc = o == HOLLOW_ENOTFOUND
                 ? cli_fail("consume", 1, "no %s record has that key", type)
                 : cli_fail_hollow("consume", "--query %s", type);
        goto done;
    }
    /* a duplicated key (a producer bug) shows every record that has it */
    hollow_ordinal one = (hollow_ordinal)o;
    hollow_index_matches all = {&one, 1};
    hollow_index_matches dup;
    if (hollow_index_duplicates_of(&dup, ix, one) >= 2)
        all = dup;
    rc = 0;
    for (size_t i = 0; i < all.count && rc == 0; i++) {
        if (hollow_dump_deep_record(t, all.ordinals[i], cli_write_file, stdout) != 0)
            rc = cli_fail_hollow("consume", "--query %s", type);
        else
            fputc('\n', stdout);
    }
done:
    for (size_t i = 0; bytes != NULL && i < want; i++)
        free(bytes[i]);
    free(bytes);
    free(vals);
    hollow_index_release(ix);
    return rc;
}

/* --follow: what the listener prints, and how it stops the command */
typedef struct follow_out {
    bool json;
    bool verbose;
    const char *const *types;       /* --type names, NULL-terminated */
    volatile sig_atomic_t write_failed;
    volatile sig_atomic_t type_missing;
} follow_out;

/*
 * The summary of a state: `version V checksum XXXXXXXX Type=count ...` on
 * one line (--follow), `version V` then `Type count` lines (one-shot), or
 * the JSON object {"version":V,"checksum":"XXXXXXXX"|null,"types":{...}}.
 */
static void print_summary(const hollow_read_state *rs, bool json, bool one_line)
{
    uint32_t sum = 0;
    int crc = hollow_read_state_checksum(&sum, rs);
    size_t n = hollow_read_state_type_count(rs);
    long long version = (long long)hollow_read_state_version(rs);
    if (json) {
        printf("{\"version\":%lld,", version);
        if (crc == 0)
            printf("\"checksum\":\"%08" PRIx32 "\",", sum);
        else
            printf("\"checksum\":null,");
        printf("\"types\":{");
        for (size_t i = 0; i < n; i++) {
            const hollow_type *t = hollow_read_state_type_sorted(rs, i);
            if (i > 0)
                putchar(',');
            json_string(stdout, hollow_type_name(t));
            printf(":%zu", hollow_type_record_count(t));
        }
        printf("}}\n");
    } else if (one_line) {
        printf("version %lld checksum ", version);
        if (crc == 0)
            printf("%08" PRIx32, sum);
        else
            printf("unknown");
        for (size_t i = 0; i < n; i++) {
            const hollow_type *t = hollow_read_state_type_sorted(rs, i);
            printf(" %s=%zu", hollow_type_name(t), hollow_type_record_count(t));
        }
        putchar('\n');
    } else {
        printf("version %lld\n", version);
        for (size_t i = 0; i < n; i++) {
            const hollow_type *t = hollow_read_state_type_sorted(rs, i);
            printf("%s %zu\n", hollow_type_name(t), hollow_type_record_count(t));
        }
    }
    if (crc != 0 && (json || one_line))
        fprintf(stderr, "hollow-cli consume: warning: checksum of version %lld: "
                "%s\n", version, hollow_strerror(crc));
}

/* --type names a type the state lacks: say which, and what it has */
static const char *missing_type(const hollow_read_state *rs,
                                const char *const *types)
{
    for (size_t i = 0; types != NULL && types[i] != NULL; i++)
        if (hollow_read_state_type(rs, types[i]) == NULL)
            return types[i];
    return NULL;
}

static void fail_missing_type(const hollow_read_state *rs, const char *type)
{
    fprintf(stderr, "hollow-cli consume: --type %s: no such type in version "
            "%lld (types:", type, (long long)hollow_read_state_version(rs));
    /* the filter dropped the others: this lists what was loaded */
    size_t n = hollow_read_state_type_count(rs);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "",
                hollow_type_name(hollow_read_state_type_sorted(rs, i)));
    fprintf(stderr, "%s)\n", n ? "" : " none");
}

/* one line per version reached: the listener runs once per refresh that
 * published a new state, so a version is printed once each time it is
 * reached (a pin back to an older version prints it again) */
static void on_follow(const hollow_refresh_event *ev, void *payload)
{
    follow_out *fo = payload;
    if (fo->verbose && !ev->done)
        fprintf(stderr, "refresh %lld -> %lld: %s\n", (long long)ev->from_version,
                (long long)ev->to_version, ev->plan);
    if (!ev->done)
        return;
    if (ev->result != 0 || ev->state == NULL) {
        fprintf(stderr, "hollow-cli consume: refresh to %lld failed: %s\n",
                (long long)ev->to_version, hollow_strerror(ev->result));
        return;
    }
    const hollow_read_state *rs = ev->state;
    const char *missing = missing_type(rs, fo->types);
    if (missing != NULL) {
        if (!fo->type_missing) {
            fail_missing_type(rs, missing);
            fo->type_missing = 1;
            kill(getpid(), SIGTERM); /* ends the command with 1 */
        }
        return;
    }
    print_summary(rs, fo->json, true);
    if (fflush(stdout) != 0 && !fo->write_failed) {
        /* wake the main thread's sigwait: it ends the command with 1 */
        fo->write_failed = 1;
        kill(getpid(), SIGTERM);
    }
}

/*
 * Follow until SIGINT or SIGTERM. The signals are blocked in every thread
 * (cmd_consume sets the mask before the store, the announcer and the
 * consumer start theirs: the S3 store's retrier is one of them) and
 * taken here with sigwait, so no handler runs with a lock held and the
 * consumer is freed (its watcher joined) before we return.
 */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

static int run_follow(hollow_blobstore *bs, hollow_announcer **an,
                      const cli_store_opts *so, hollow_consumer_options *co,
                      follow_out *fo)
{
    sigset_t set;
    stop_signals(&set);
    int rc = cli_announcer_open(an, so, bs, true, "consume");
    if (rc != 0)
        return rc;
    hollow_consumer *c = NULL;
    co->announcer = *an;
    co->follow = true;
    co->listener = on_follow;
    co->listener_payload = fo;
    if (hollow_consumer_new(&c, co) < 0)
        return cli_fail_hollow("consume", "the consumer");
    int sig = 0;
    if (sigwait(&set, &sig) != 0)
        rc = cli_fail("consume", 1, "sigwait failed");
    hollow_consumer_free(c);
    if (fo->write_failed)
        rc = cli_fail("consume", 1, "cannot write the output");
    else if (fo->type_missing)
        rc = 1;
    return rc;
}

int cmd_consume(int argc, char **argv)
{
    enum {
        O_VERSION = 1, O_DUMP, O_DEEP, O_MMAP, O_TYPE, O_VERBOSE, O_HELP,
        O_QUERY, O_FOLLOW, O_JSON
    };
    static const opt_spec specs[] = {
        CLI_STORE_SPECS,
        {"version", OPT_VALUE, O_VERSION}, {"dump", OPT_FLAG, O_DUMP},
        {"deep", OPT_VALUE, O_DEEP},     {"mmap", OPT_FLAG, O_MMAP},
        {"type", OPT_VALUE, O_TYPE},     {"verbose", OPT_FLAG, O_VERBOSE},
        {"help", OPT_FLAG, O_HELP},      {"h", OPT_FLAG, O_HELP},
        {"query", OPT_VALUE, O_QUERY},   {"follow", OPT_FLAG, O_FOLLOW},
        {"json", OPT_FLAG, O_JSON}};
    opt_state st;
    opt_init(&st, argc, argv, "consume");
    cli_store_opts so = CLI_STORE_OPTS_INIT;
    const char *deep = NULL, *where = "", *v;
    /* types and keys are arguments: argc bounds their number; types is
     * NULL-terminated for the consumer's filter */
    const char **types = calloc((size_t)argc + 1, sizeof *types);
    const char **keys = calloc((size_t)argc + 1, sizeof *keys);
    const char *query = NULL;
    int ntypes = 0, nkeys = 0, k;
    int64_t version = HOLLOW_VERSION_LATEST;
    bool dump = false, mmap_mode = false, verbose = false, follow = false;
    bool json = false, version_given = false;
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    hollow_consumer *c = NULL;
    hollow_read_state *rs = NULL;
    int rc = 1;
    if (types == NULL || keys == NULL) {
        cli_fail("consume", 1, "out of memory");
        goto done;
    }
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_VERSION: {
            int64_t x;
            if ((rc = opt_version(&x, "consume", "version", v)) != 0)
                goto done;
            version = x == 0 ? HOLLOW_VERSION_LATEST : x; /* Go tool: 0 = latest */
            version_given = true;
            break;
        }
        case O_DUMP: dump = true; break;
        case O_DEEP: deep = v; break;
        case O_MMAP: mmap_mode = true; break;
        case O_TYPE: types[ntypes++] = v; break;
        case O_VERBOSE: verbose = true; break;
        case O_HELP: printf(USAGE, CLI_STORE_USAGE); rc = 0; goto done;
        case O_QUERY: query = v; break;
        case O_FOLLOW: follow = true; break;
        case O_JSON: json = true; break;
        case OPT_POSITIONAL:
            if (query == NULL) {
                rc = cli_fail("consume", 2, "unexpected argument %s", v);
                goto done;
            }
            keys[nkeys++] = v;
            break;
        default:
            if (k > 0 && cli_store_option(&so, k, v))
                break;
            rc = 2;
            goto done;
        }
    }
    /* --verbose also shows the library's info lines (e.g. an S3 object
     * accepted unverified because another tool wrote it) */
    if (verbose)
        hollow_set_log(HOLLOW_LOG_INFO, NULL, NULL);
    if (follow && (dump || deep != NULL || query != NULL || version_given)) {
        rc = cli_fail("consume", 2, "--follow prints each version reached; it "
                      "does not take --version, --dump, --deep or --query");
        goto done;
    }
    if (json && (dump || deep != NULL || query != NULL)) {
        rc = cli_fail("consume", 2, "--json prints the summary as JSON; --dump, "
                      "--deep and --query print JSON already");
        goto done;
    }
    if (follow) {
        sigset_t set;
        stop_signals(&set);
        if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
            rc = cli_fail("consume", 1, "cannot block SIGINT/SIGTERM");
            goto done;
        }
    }
    if ((rc = cli_store_open(&bs, &so, "consume", &where)) != 0)
        goto done;
    rc = 1;
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.memory_mode = mmap_mode ? HOLLOW_MEMORY_MMAP : HOLLOW_MEMORY_HEAP;
    co.type_filter = ntypes > 0 ? types : NULL;
    if (follow) {
        follow_out fo = {json, verbose, types, 0, 0};
        rc = run_follow(bs, &an, &so, &co, &fo);
        goto done;
    }
    /* the announced version, if there is one; one that cannot be read
     * fails the command (the store's newest version may never have been
     * announced), unless --version says which to load */
    if ((rc = cli_announcer_open(&an, &so, bs, false, "consume")) != 0)
        goto done;
    rc = 1;
    int64_t latest = 0;
    int arc = hollow_announcer_latest(&latest, an);
    if (arc == 0 && latest > 0 && version == HOLLOW_VERSION_LATEST)
        version = latest;
    else if (arc < 0 && arc != HOLLOW_ENOTFOUND) {
        if (version == HOLLOW_VERSION_LATEST) {
            cli_fail_hollow("consume", "the announced version");
            goto done;
        }
        fprintf(stderr, "hollow-cli consume: warning: %s; loading version "
                "%lld as asked\n", hollow_error_last()->message,
                (long long)version);
    }
    if (hollow_consumer_new(&c, &co) < 0) {
        cli_fail_hollow("consume", "%s", where);
        goto done;
    }
    if (verbose)
        hollow_consumer_add_listener(c, on_refresh, NULL);
    if (hollow_consumer_refresh(c, version) < 0) {
        cli_fail_hollow("consume", "%s", where);
        goto done;
    }
    rs = hollow_consumer_acquire_state(c);
    const char *missing = missing_type(rs, types);
    if (missing != NULL) {
        fail_missing_type(rs, missing);
        goto done;
    }
    if (query != NULL) {
        rc = run_query(rs, query, keys, nkeys);
        goto done;
    }
    if (deep != NULL) {
        if (hollow_read_state_type(rs, deep) == NULL) {
            cli_fail("consume", 1, "type %s is not in the state", deep);
            goto done;
        }
        if (hollow_dump_deep(rs, deep, cli_write_file, stdout) != 0) {
            cli_fail_hollow("consume", "%s", where);
            goto done;
        }
    } else if (dump) {
        if (hollow_dump_canonical(rs, cli_write_file, stdout) != 0) {
            cli_fail_hollow("consume", "%s", where);
            goto done;
        }
    } else {
        print_summary(rs, json, false);
    }
    rc = cli_finish_output("consume", 0);
done:
    hollow_read_state_release(rs);
    hollow_consumer_free(c);
    cli_announcer_close(an);
    cli_store_close(bs);
    free(types);
    free(keys);
    return rc;
}
