/*
 * hollow-cli gc --store fs --dir DIR [--keep N] [--dry-run]
 *
 * Blob retention over a filesystem store (hollow_blobstore_gc): removes
 * the blobs of failed or crashed cycles and of forked histories, and with
 * --keep N the versions older than the N newest snapshots of the announced
 * history; never the chain that reaches the announced version. It holds
 * the producer lease while it runs, so no producer starts a cycle
 * meanwhile; when a producer holds it, versions newer than the announced
 * one (that producer's cycle in flight) are left alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "hollow/announcer.h"
#include "hollow/blobstore.h"
#include "opt.h"

static const char USAGE[] =
    "usage: hollow-cli gc --store fs --dir DIR [--keep N] [--dry-run]\n"
    "\n"
    "Remove the blobs no consumer of the announced history needs: leftovers\n"
    "of failed or crashed cycles, and with --keep N every version older\n"
    "than the N newest snapshots of the announced history. The chain that\n"
    "reaches the announced version always stays. Prints each blob removed.\n"
    "\n"
    "  --store fs   the blob store (only fs: a directory)\n"
    "  --dir DIR    the store's directory (with announced.version)\n"
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
    enum { O_STORE = 1, O_DIR, O_KEEP, O_DRY_RUN, O_HELP };
    static const opt_spec specs[] = {
        {"store", OPT_VALUE, O_STORE},  {"dir", OPT_VALUE, O_DIR},
        {"keep", OPT_VALUE, O_KEEP},    {"dry-run", OPT_FLAG, O_DRY_RUN},
        {"help", OPT_FLAG, O_HELP},     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "gc");
    const char *store = "fs", *dir = NULL, *v;
    long keep = 0;
    bool dry = false;
    int k;
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_STORE: store = v; break;
        case O_DIR: dir = v; break;
        case O_KEEP: {
            char *end;
            keep = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || keep < 1 || keep > 1000000)
                return cli_fail("gc", 2, "--keep needs a number >= 1");
            break;
        }
        case O_DRY_RUN: dry = true; break;
        case O_HELP: fputs(USAGE, stdout); return 0;
        case OPT_POSITIONAL: return cli_fail("gc", 2, "unexpected argument %s", v);
        default: return 2;
        }
    }
    if (strcmp(store, "fs") != 0)
        return cli_fail("gc", 2, "--store %s: gc works on a filesystem store "
                        "only (--store fs --dir DIR)", store);
    if (dir == NULL) {
        fputs(USAGE, stderr);
        return 2;
    }
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    int rc = 1;
    bool leased = false;
    const char *owner = "hollow-cli-gc";
    char owner_buf[64];
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    hollow_announcer_fs_options ao = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    ao.dir = dir;
    ao.force_polling = true;
    if (hollow_blobstore_fs_new(&bs, &so) < 0 ||
        hollow_announcer_fs_new(&an, &ao) < 0) {
        cli_fail_hollow("gc", "%s", dir);
        goto done;
    }
    /* hold the lease (a name of our own per run) so that no producer
     * starts a cycle while we look at and change the store */
    snprintf(owner_buf, sizeof owner_buf, "%s#%ld", owner, (long)getpid());
    {
        char holder[HOLLOW_LEASE_OWNER_MAX] = "";
        int lrc = hollow_announcer_lease(an, HOLLOW_LEASE_ACQUIRE, owner_buf,
                                         GC_LEASE_MS, holder, sizeof holder);
        leased = lrc == 0;
        if (!leased && lrc != HOLLOW_ESTATE) {
            cli_fail_hollow("gc", "taking the producer lease in %s", dir);
            goto done;
        }
        if (!leased)
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
    hollow_announcer_stats ast;
    if (hollow_announcer_stats_get(&ast, an) == 0 && ast.pinned)
        go.pinned = ast.pinned_version;
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
        cli_fail_hollow("gc", "%s", dir);
        goto done;
    }
    fprintf(stderr, "hollow-cli gc: announced %lld; %zu blob(s) %s, %zu kept\n",
            (long long)go.announced, res.removed,
            dry ? "would be removed" : "removed", res.kept);
    rc = fflush(stdout) == 0 ? 0 : cli_fail("gc", 1, "cannot write the output");
done:
    if (leased)
        hollow_announcer_lease(an, HOLLOW_LEASE_RELEASE, owner_buf, 1, NULL, 0);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    return rc;
}
