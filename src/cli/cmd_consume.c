/*
 * hollow-cli consume --store fs --dir DIR [--version V] [--dump]
 *                    [--deep TYPE] [--mmap] [--type T]...
 *
 * Refreshes a consumer over a filesystem blob store to version V (default:
 * the version in DIR/announced.version, else the latest the store
 * reaches), then prints the version and each type's record count, or the
 * canonical (--dump) or deep (--deep TYPE) dump of that state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hollow/consumer.h"
#include "hollow/dump.h"
#include "opt.h"

static const char USAGE[] =
    "usage: hollow-cli consume --store fs --dir DIR [--version V] [--dump]\n"
    "                          [--deep TYPE] [--mmap] [--type T]...\n"
    "\n"
    "Refresh a consumer over a filesystem blob store (Java's publisher\n"
    "layout) to version V, by default the announced one, and print the\n"
    "version and the record count of each type.\n"
    "\n"
    "  --store fs      the blob store (only fs: a directory)\n"
    "  --dir DIR       the store's directory\n"
    "  --version V     the version to reach (default: announced, or latest)\n"
    "  --dump          print the canonical dump of the state instead\n"
    "  --deep TYPE     print the deep dump of TYPE instead\n"
    "  --mmap          map snapshots instead of reading them into memory\n"
    "  --type T        load only type T and what it references (repeatable)\n"
    "  --verbose       print the refresh plan on stderr\n"
    "  --help          this text\n";

static void on_refresh(const hollow_refresh_event *ev, void *payload)
{
    (void)payload;
    if (!ev->done)
        fprintf(stderr, "refresh %lld -> %lld: %s\n", (long long)ev->from_version,
                (long long)ev->to_version, ev->plan);
}

int cmd_consume(int argc, char **argv)
{
    static const opt_spec specs[] = {
        {"store", true}, {"dir", true},   {"version", true}, {"dump", false},
        {"deep", true},  {"mmap", false}, {"type", true},    {"verbose", false},
        {"help", false}, {"h", false}};
    opt_state st;
    opt_init(&st, argc, argv, "consume");
    const char *store = "fs", *dir = NULL, *deep = NULL, *v;
    const char *types[65] = {0};
    int ntypes = 0, k;
    int64_t version = HOLLOW_VERSION_LATEST;
    bool dump = false, mmap_mode = false, verbose = false;
    while ((k = opt_next(&st, specs, 10, &v)) != OPT_END) {
        switch (k) {
        case 0: store = v; break;
        case 1: dir = v; break;
        case 2: {
            char *end;
            long long x = strtoll(v, &end, 10);
            if (*v == '\0' || *end != '\0' || x < 0)
                return cli_fail("consume", 2, "--version needs a version number");
            version = x == 0 ? HOLLOW_VERSION_LATEST : x; /* Go tool: 0 = latest */
            break;
        }
        case 3: dump = true; break;
        case 4: deep = v; break;
        case 5: mmap_mode = true; break;
        case 6:
            if (ntypes == 64)
                return cli_fail("consume", 2, "too many --type");
            types[ntypes++] = v;
            break;
        case 7: verbose = true; break;
        case 8:
        case 9: fputs(USAGE, stdout); return 0;
        case OPT_POSITIONAL:
            return cli_fail("consume", 2, "unexpected argument %s", v);
        default: return 2;
        }
    }
    if (strcmp(store, "fs") != 0)
        return cli_fail("consume", 2, "--store %s: this command reads a "
                        "filesystem store only (--store fs --dir DIR)", store);
    if (dir == NULL) {
        fputs(USAGE, stderr);
        return 2;
    }
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    hollow_consumer *c = NULL;
    hollow_read_state *rs = NULL;
    int rc = 1;
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    if (hollow_blobstore_fs_new(&bs, &so) < 0) {
        cli_fail_hollow("consume", "%s", dir);
        goto done;
    }
    /* the announced version, if the directory has one */
    hollow_announcer_fs_options ao = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    ao.dir = dir;
    if (version == HOLLOW_VERSION_LATEST && hollow_announcer_fs_new(&an, &ao) == 0) {
        int64_t latest = 0;
        if (hollow_announcer_latest(&latest, an) == 0 && latest > 0)
            version = latest;
    }
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.memory_mode = mmap_mode ? HOLLOW_MEMORY_MMAP : HOLLOW_MEMORY_HEAP;
    co.type_filter = ntypes > 0 ? types : NULL;
    if (hollow_consumer_new(&c, &co) < 0) {
        cli_fail_hollow("consume", "%s", dir);
        goto done;
    }
    if (verbose)
        hollow_consumer_add_listener(c, on_refresh, NULL);
    if (hollow_consumer_refresh(c, version) < 0) {
        cli_fail_hollow("consume", "%s", dir);
        goto done;
    }
    rs = hollow_consumer_acquire_state(c);
    if (deep != NULL) {
        if (hollow_read_state_type(rs, deep) == NULL) {
            cli_fail("consume", 1, "type %s is not in the state", deep);
            goto done;
        }
        if (hollow_dump_deep(rs, deep, cli_write_file, stdout) != 0) {
            cli_fail_hollow("consume", "%s", dir);
            goto done;
        }
    } else if (dump) {
        if (hollow_dump_canonical(rs, cli_write_file, stdout) != 0) {
            cli_fail_hollow("consume", "%s", dir);
            goto done;
        }
    } else {
        printf("version %lld\n", (long long)hollow_read_state_version(rs));
        for (size_t i = 0; i < hollow_read_state_type_count(rs); i++) {
            const hollow_type *t = hollow_read_state_type_sorted(rs, i);
            printf("%s %zu\n", hollow_type_name(t), hollow_type_record_count(t));
        }
    }
    rc = fflush(stdout) == 0 ? 0 : cli_fail("consume", 1, "cannot write the output");
done:
    hollow_read_state_release(rs);
    hollow_consumer_free(c);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    return rc;
}
