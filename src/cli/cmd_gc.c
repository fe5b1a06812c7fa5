/*
 * hollow-cli gc [store options] [--keep N] [--dry-run]
 *
 * Blob retention over a blob store (hollow_blobstore_gc; the store and
 * announcer options of store_opts.h): removes
 * the blobs of failed or crashed cycles and of forked histories, and with
 * --keep N the versions older than the N newest snapshots of the announced
 * history; never the chain that reaches the announced version. It holds
 * the producer lease while it runs, so no producer starts a cycle
 * meanwhile; when a producer holds it, versions newer than the announced
 * one (that producer's cycle in flight) are left alone. A version pinned
 * through the announcer (Redis) keeps its chain too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "hollow/announcer.h"
#include "hollow/blobstore.h"
#include "opt.h"
#include "store_opts.h"

static const char USAGE[] =
    "usage: hollow-cli gc --store fs --dir DIR [--keep N] [--dry-run]\n"
    "       hollow-cli gc --store s3 --endpoint HOST:PORT --bucket B ...\n"
    "                     [--announcer s3|redis://HOST:PORT[/db]]\n"
    "       hollow-cli gc [--keep N] [--dry-run]   (the memory sample)\n"
    "\n"
    "Remove the blobs no consumer of the announced history needs: leftovers\n"
    "of failed or crashed cycles, and with --keep N every version older\n"
    "than the N newest snapshots of the announced history. The chain that\n"
    "reaches the announced version always stays, and so does the chain of\n"
    "a version pinned through the announcer. Prints each blob removed.\n"
    "\n"
    "%s"
    "  --keep N     keep the N newest snapshots of the history (N >= 1);\n"
    "               without it, all of the announced history stays\n"
    "  --dry-run    print what would be removed, remove nothing\n"
    "  --help       this text\n";

typedef struct gc_run {
    const char *verb;
    hollow_announcer *an;
    const char *owner; /* our lease owner, NULL without the lease */
    int64_t announced;
    size_t seen;
} gc_run;

#define GC_LEASE_MS 60000

/* print each blob; keep our lease renewed, and before removing a version
 * newer than the announced one make sure it is still ours (else a producer
 * may be writing that version now) */
static int print_removed(const hollow_blob_key *k, void *payload)
{
    gc_run *g = payload;
    if (g->owner != NULL) {
        bool newer = k->version > g->announced || k->from_version > g->announced;
        if ((++g->seen % 64 == 0 || newer) &&
            hollow_announcer_lease(g->an, HOLLOW_LEASE_ACQUIRE, g->owner,
                                   GC_LEASE_MS, NULL, 0) < 0)
            return cli_fail_hollow("gc", "the producer lease was lost; "
                                   "stopped");
    }
    char name[HOLLOW_BLOB_NAME_MAX];
    if (hollow_blob_key_name(name, sizeof name, k) == 0)
        printf("%s %s\n", g->verb, name);
    return 0;
}

int cmd_gc(int argc, char **argv)
{
    enum { O_KEEP = 1, O_DRY_RUN, O_HELP };
    static const opt_spec specs[] = {
        CLI_STORE_SPECS,
        {"keep", OPT_VALUE, O_KEEP},    {"dry-run", OPT_FLAG, O_DRY_RUN},
        {"help", OPT_FLAG, O_HELP},     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "gc");
    cli_store_opts so = CLI_STORE_OPTS_INIT;
    const char *where = "", *v;
    long keep = 0;
    bool dry = false;
    int k;
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_KEEP: {
            char *end;
            keep = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || keep < 1 || keep > 1000000)
                return cli_fail("gc", 2, "--keep needs a number >= 1");
            break;
        }
        case O_DRY_RUN: dry = true; break;
        case O_HELP: printf(USAGE, CLI_STORE_USAGE); return 0;
        case OPT_POSITIONAL: return cli_fail("gc", 2, "unexpected argument %s", v);
        default:
            if (k > 0 && cli_store_option(&so, k, v))
                break;
            return 2;
        }
    }
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    int rc;
    bool leased = false;
    const char *owner = "hollow-cli-gc";
    char owner_buf[64];
    if ((rc = cli_store_open(&bs, &so, "gc", &where)) != 0 ||
        (rc = cli_announcer_open(&an, &so, bs, false, "gc")) != 0)
        goto done;
    rc = 1;
    /* hold the lease (a name of our own per run) so that no producer
     * starts a cycle while we look at and change the store */
    snprintf(owner_buf, sizeof owner_buf, "%s#%ld", owner, (long)getpid());
    {
        char holder[HOLLOW_LEASE_OWNER_MAX] = "";
        int lrc = hollow_announcer_lease(an, HOLLOW_LEASE_ACQUIRE, owner_buf,
                                         GC_LEASE_MS, holder, sizeof holder);
        leased = lrc == 0;
        if (lrc == HOLLOW_ENOTSUPPORTED)
            fprintf(stderr, "hollow-cli gc: this announcer keeps no lease: "
                    "versions newer than the announced one stay (run gc "
                    "while no producer runs)\n");
        else if (!leased && lrc != HOLLOW_ESTATE) {
            cli_fail_hollow("gc", "taking the producer lease in %s", where);
            goto done;
        } else if (!leased)
            fprintf(stderr, "hollow-cli gc: producer %s holds the lease: "
                    "versions newer than the announced one stay\n", holder);
    }
    hollow_gc_options go = HOLLOW_GC_OPTIONS_INIT;
    int arc = hollow_announcer_latest(&go.announced, an);
    if (arc < 0) {
        cli_fail_hollow("gc", "the announced version (gc keeps what it "
                        "reaches, so it needs one)");
        goto done;
    }
    /* latest() is the pinned version while pinned: keep both chains */
    hollow_announcer_stats ast;
    if (hollow_announcer_stats_get(&ast, an) == 0 && ast.pinned) {
        go.pinned = ast.pinned_version;
        if (ast.has_latest)
            go.announced = ast.latest;
    }
    go.keep_snapshots = (uint32_t)keep;
    go.remove_newer = leased;
    go.dry_run = dry;
    hollow_gc_result res;
    gc_run g = {dry ? "would remove" : "removed", an, leased ? owner_buf : NULL,
                go.announced, 0};
    int grc = hollow_blobstore_gc(&res, bs, &go, print_removed, &g);
    if (grc == 1)
        goto done; /* the callback said why */
    if (grc < 0) {
        cli_fail_hollow("gc", "%s", where);
        goto done;
    }
    if (go.pinned > 0)
        fprintf(stderr, "hollow-cli gc: pinned %lld: its chain stays\n",
                (long long)go.pinned);
    fprintf(stderr, "hollow-cli gc: announced %lld; %zu blob(s) %s, %zu kept\n",
            (long long)go.announced, res.removed,
            dry ? "would be removed" : "removed", res.kept);
    rc = cli_finish_output("gc", 0);
done:
    if (leased)
        hollow_announcer_lease(an, HOLLOW_LEASE_RELEASE, owner_buf, 1, NULL, 0);
    cli_announcer_close(an);
    cli_store_close(bs);
    return rc;
}
