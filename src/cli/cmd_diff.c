/*
 * hollow-cli diff [store options] --version A --target B [--type T]
 *                 [--json] [--verbose] [--limit N] [--exit-code]
 * hollow-cli diff SNAPSHOT_A SNAPSHOT_B [same options]
 *
 * The differences between two versions of a store (a consumer refreshed to
 * A, then to B: the untouched shards are shared, so only what the deltas
 * touched is compared) or between two snapshot files, through
 * include/hollow/diff.h. Prints a summary per type; --verbose lists the
 * changed records with `path: old → new` per value, and the keys added and
 * removed (--limit N per type); --json prints the same as one document
 * (docs/cli.md). Exit 0 whether or not there are differences; with
 * --exit-code as diff(1): 0 the same, 1 different, 2 trouble.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hollow/consumer.h"
#include "hollow/diff.h"
#include "json_out.h"
#include "opt.h"
#include "store_opts.h"

static const char USAGE[] =
    "usage: hollow-cli diff [store options] --version A --target B [--type T]\n"
    "                       [--json] [--verbose] [--limit N] [--exit-code]\n"
    "       hollow-cli diff SNAPSHOT_A SNAPSHOT_B [--type T] [--json]\n"
    "                       [--verbose] [--limit N] [--exit-code]\n"
    "\n"
    "Show what differs between versions A and B of a blob store, or between\n"
    "two snapshot files (- for one read from standard input): per type\n"
    "with a primary key, the records added, removed, changed and unchanged\n"
    "(matched by key; a change inside a referenced record or a LIST/SET/MAP\n"
    "element is a change of the keyed record that reaches it, at a path\n"
    "such as actors[id=42].name).\n"
    "\n"
    "%s"
    "  --version A     the old version (0: the latest)\n"
    "  --target B      the new version (0: the latest)\n"
    "  --type T        compare only type T; a type without a primary key is\n"
    "                  matched by identical content (only added/removed)\n"
    "  --verbose       list each changed record by key with `path: old → new`,\n"
    "                  and the keys added and removed\n"
    "  --limit N       with --verbose: at most N records per type (default\n"
    "                  20; 0: all)\n"
    "  --json          one JSON document (shape in docs/cli.md)\n"
    "  --exit-code     exit as diff(1): 0 the same, 1 different, 2 trouble\n"
    "  --help          this text\n";

/* ---------------------------------------------------------------- output */

static const char *KIND[] = {"changed", "added", "removed"};

static void print_text(const hollow_diff *d, const char *from, const char *to,
                       bool verbose, size_t limit)
{
    printf("diff %s -> %s\n", from, to);
    size_t n = hollow_diff_type_count(d);
    if (n == 0)
        printf("no type with a primary key to compare (try --type T)\n");
    for (size_t i = 0; i < n; i++) {
        hollow_diff_type t;
        if (hollow_diff_type_at(&t, d, i) < 0)
            continue;
        if (t.match == HOLLOW_DIFF_BY_KEY)
            printf("%s (key %s): %zu added, %zu removed, %zu changed, %zu "
                   "unchanged\n", t.name, t.key, t.added, t.removed, t.changed,
                   t.unchanged);
        else
            printf("%s (by content): %zu added, %zu removed, %zu unchanged\n",
                   t.name, t.added, t.removed, t.unchanged);
        if (!verbose)
            continue;
        size_t shown = limit == 0 || limit > t.record_count ? t.record_count
                                                            : limit;
        for (size_t r = 0; r < shown; r++) {
            hollow_diff_record rec;
            if (hollow_diff_record_at(&rec, d, i, r) < 0)
                continue;
            printf("  %s %s\n", KIND[rec.kind], rec.key);
            for (size_t c = 0; c < rec.change_count; c++) {
                const hollow_diff_change *ch = &rec.changes[c];
                printf("    %s: %s \u2192 %s\n", ch->path,
                       ch->old_value ? ch->old_value : "(none)",
                       ch->new_value ? ch->new_value : "(none)");
            }
        }
        if (shown < t.record_count)
            printf("  ... %zu more (--limit)\n", t.record_count - shown);
    }
}

static void print_json(const hollow_diff *d, const char *from, const char *to,
                       bool from_is_text, bool verbose, size_t limit)
{
    if (from_is_text) {
        printf("{\"from\":");
        json_string(stdout, from);
        printf(",\"to\":");
        json_string(stdout, to);
    } else {
        printf("{\"from\":%s,\"to\":%s", from, to);
    }
    printf(",\"different\":%s,\"types\":[",
           hollow_diff_has_differences(d) ? "true" : "false");
    for (size_t i = 0; i < hollow_diff_type_count(d); i++) {
        hollow_diff_type t;
        if (hollow_diff_type_at(&t, d, i) < 0)
            continue;
        printf("%s{\"type\":", i ? "," : "");
        json_string(stdout, t.name);
        printf(",\"match\":\"%s\",\"key\":",
               t.match == HOLLOW_DIFF_BY_KEY ? "key" : "content");
        json_string(stdout, t.key);
        printf(",\"added\":%zu,\"removed\":%zu,\"changed\":%zu,"
               "\"unchanged\":%zu", t.added, t.removed, t.changed, t.unchanged);
        if (verbose) {
            size_t shown = limit == 0 || limit > t.record_count ? t.record_count
                                                                : limit;
            printf(",\"records\":[");
            for (size_t r = 0; r < shown; r++) {
                hollow_diff_record rec;
                if (hollow_diff_record_at(&rec, d, i, r) < 0)
                    continue;
                printf("%s{\"kind\":\"%s\",\"key\":", r ? "," : "",
                       KIND[rec.kind]);
                json_string(stdout, rec.key);
                if (rec.kind == HOLLOW_DIFF_CHANGED) {
                    printf(",\"changes\":[");
                    for (size_t c = 0; c < rec.change_count; c++) {
                        const hollow_diff_change *ch = &rec.changes[c];
                        printf("%s{\"path\":", c ? "," : "");
                        json_string(stdout, ch->path);
                        /* the values are JSON text already */
                        printf(",\"old\":%s,\"new\":%s}",
                               ch->old_value ? ch->old_value : "null",
                               ch->new_value ? ch->new_value : "null");
                    }
                    printf("]");
                }
                printf("}");
            }
            printf("],\"more\":%zu", t.record_count - shown);
        }
        printf("}");
    }
    printf("]}\n");
}

/* ---------------------------------------------------------------- states */

typedef cli_versions versions;

/* "no version 5; versions are 1, 2, 3" unless `v` is listed */
static int check_version(const versions *vs, int64_t v, const char *opt)
{
    for (size_t i = 0; i < vs->n; i++)
        if (vs->v[i] == v)
            return 0;
    if (vs->n == 0)
        return cli_fail("diff", 1, "no version %lld (%s); the store has no "
                        "versions", (long long)v, opt);
    char list[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < vs->n && len + 32 < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%lld",
                                i ? ", " : "", (long long)vs->v[i]);
    if (len + 32 >= sizeof list)
        snprintf(list + len, sizeof list - len, ", ...");
    return cli_fail("diff", 1, "no version %lld; versions are %s", (long long)v,
                    list);
}

/*
 * Versions `a` and `b` of the store (0: the latest: the announced one, else
 * the newest listed), through one consumer so that B shares A's untouched
 * shards. 0, or the exit code after a message.
 */
static int load_from_store(hollow_read_state **sa, hollow_read_state **sb,
                           int64_t *a, int64_t *b, const cli_store_opts *so)
{
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    hollow_consumer *c = NULL;
    versions vs = {NULL, 0, 0};
    const char *where = "";
    int rc = cli_store_open(&bs, so, "diff", &where);
    if (rc != 0)
        return rc;
    rc = 1;
    if (hollow_blobstore_list_versions(bs, cli_versions_add, &vs) < 0) {
        cli_fail_hollow("diff", "%s", where);
        goto done;
    }
    int64_t latest = vs.n ? vs.v[vs.n - 1] : 0;
    if ((*a == 0 || *b == 0) &&
        cli_announcer_open(&an, so, bs, false, "diff") == 0) {
        int64_t announced = 0;
        if (hollow_announcer_latest(&announced, an) == 0 && announced > 0)
            latest = announced;
    }
    if (*a == 0)
        *a = latest;
    if (*b == 0)
        *b = latest;
    if ((rc = check_version(&vs, *a, "--version")) != 0 ||
        (rc = check_version(&vs, *b, "--target")) != 0)
        goto done;
    rc = 1;
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    if (hollow_consumer_new(&c, &co) < 0) {
        cli_fail_hollow("diff", "%s", where);
        goto done;
    }
    if (hollow_consumer_refresh(c, *a) < 0) {
        cli_fail_hollow("diff", "version %lld", (long long)*a);
        goto done;
    }
    *sa = hollow_consumer_acquire_state(c); /* kept while refreshing to B */
    if (hollow_consumer_refresh(c, *b) < 0) {
        cli_fail_hollow("diff", "version %lld", (long long)*b);
        goto done;
    }
    *sb = hollow_consumer_acquire_state(c);
    rc = 0;
done:
    hollow_consumer_free(c);
    cli_announcer_close(an);
    cli_store_close(bs);
    free(vs.v);
    return rc;
}

/* a snapshot file, or standard input for "-" */
static int load_file(hollow_read_state **out, const char *path)
{
    if (strcmp(path, "-") != 0) {
        if (hollow_read_state_open(out, path, NULL) < 0)
            return cli_fail_hollow("diff", "cannot read %s", path);
        return 0;
    }
    size_t len = 0, cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len, stdin);
        len += n;
        if (n == 0)
            break;
        if (len == cap) {
            uint8_t *p = realloc(buf, cap * 2);
            if (p == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    if (buf == NULL)
        return cli_fail("diff", 1, "out of memory reading standard input");
    int rc = 0;
    if (ferror(stdin))
        rc = cli_fail("diff", 1, "cannot read standard input");
    else if (hollow_read_state_from_snapshot(out, buf, len, NULL) < 0)
        rc = cli_fail_hollow("diff", "cannot read standard input");
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ main */

int cmd_diff(int argc, char **argv)
{
    enum {
        O_VERSION = 1, O_TARGET, O_TYPE, O_JSON, O_VERBOSE, O_LIMIT,
        O_EXIT_CODE, O_HELP
    };
    static const opt_spec specs[] = {
        CLI_STORE_SPECS,
        {"version", OPT_VALUE, O_VERSION}, {"target", OPT_VALUE, O_TARGET},
        {"type", OPT_VALUE, O_TYPE},       {"json", OPT_FLAG, O_JSON},
        {"verbose", OPT_FLAG, O_VERBOSE},  {"v", OPT_FLAG, O_VERBOSE},
        {"limit", OPT_VALUE, O_LIMIT},     {"exit-code", OPT_FLAG, O_EXIT_CODE},
        {"help", OPT_FLAG, O_HELP},        {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "diff");
    cli_store_opts so = CLI_STORE_OPTS_INIT;
    const char *files[2] = {NULL, NULL}, *v;
    int nfiles = 0, k;
    int64_t va = -1, vb = -1;
    bool json = false, verbose = false, exit_code = false, store_given = false;
    bool different = false;
    size_t limit = 20;
    hollow_diff_options dopts = HOLLOW_DIFF_OPTIONS_INIT;
    hollow_read_state *sa = NULL, *sb = NULL;
    hollow_diff *d = NULL;
    int rc = 1;

    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_VERSION:
        case O_TARGET: {
            int64_t x;
            if ((rc = opt_version(&x, "diff", k == O_VERSION ? "version"
                                                            : "target", v)) != 0)
                goto done;
            *(k == O_VERSION ? &va : &vb) = x;
            break;
        }
        case O_TYPE: dopts.type = v; break;
        case O_JSON: json = true; break;
        case O_VERBOSE: verbose = true; break;
        case O_LIMIT: {
            char *end;
            long long x = strtoll(v, &end, 10);
            if (*v == '\0' || *end != '\0' || x < 0) {
                rc = cli_fail("diff", 2, "--limit needs a count (0: all)");
                goto done;
            }
            limit = (size_t)x;
            break;
        }
        case O_EXIT_CODE: exit_code = true; break;
        case O_HELP: printf(USAGE, CLI_STORE_USAGE); rc = 0; goto done;
        case OPT_POSITIONAL:
            if (nfiles == 2) {
                rc = cli_fail("diff", 2, "unexpected argument %s", v);
                goto done;
            }
            files[nfiles++] = v;
            break;
        default:
            if (k > 0 && cli_store_option(&so, k, v)) {
                store_given = true;
                break;
            }
            rc = 2;
            goto done;
        }
    }
    char from[64], to[64];
    if (nfiles > 0) {
        if (nfiles == 2 && strcmp(files[0], "-") == 0 &&
            strcmp(files[1], "-") == 0) {
            rc = cli_fail("diff", 2, "only one of the snapshots can be - "
                          "(standard input)");
            goto done;
        }
        if (nfiles != 2 || store_given || va >= 0 || vb >= 0) {
            rc = cli_fail("diff", 2, "give two snapshot files, or store "
                          "options with --version and --target");
            goto done;
        }
        if ((rc = load_file(&sa, files[0])) != 0 ||
            (rc = load_file(&sb, files[1])) != 0)
            goto done;
    } else {
        if (va < 0 || vb < 0) {
            rc = cli_fail("diff", 2, "give --version A and --target B (0: the "
                          "latest), or two snapshot files");
            goto done;
        }
        if ((rc = load_from_store(&sa, &sb, &va, &vb, &so)) != 0)
            goto done;
        snprintf(from, sizeof from, "%lld", (long long)va);
        snprintf(to, sizeof to, "%lld", (long long)vb);
    }
    rc = 1;
    if (hollow_diff_new(&d, sa, sb, &dopts) < 0) {
        cli_fail_hollow("diff", "%s", dopts.type ? dopts.type : "the diff");
        goto done;
    }
    const char *fa = nfiles ? files[0] : from, *fb = nfiles ? files[1] : to;
    if (json)
        print_json(d, fa, fb, nfiles > 0, verbose, limit);
    else
        print_text(d, fa, fb, verbose, limit);
    if ((rc = cli_finish_output("diff", 0)) != 0)
        goto done;
    rc = 0;
    different = hollow_diff_has_differences(d);
done:
    hollow_diff_free(d);
    hollow_read_state_release(sa);
    hollow_read_state_release(sb);
    /* diff(1): trouble is 2, whatever the kind */
    if (exit_code)
        rc = rc != 0 ? 2 : different ? 1 : 0;
    return rc;
}
