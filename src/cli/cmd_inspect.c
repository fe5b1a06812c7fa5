/*
 * hollow-cli inspect [--records N] [--mmap] SNAPSHOT
 *
 * A quick look at a snapshot: its tags, each type with kind, shard count and
 * record count, and the first N records of each type.
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "hollow/dump.h"
#include "hollow/read.h"
#include "opt.h"

static const char USAGE[] =
    "usage: hollow-cli inspect [--records N] [--mmap] SNAPSHOT\n"
    "\n"
    "Show a snapshot's randomized tag, header tags, and per type its kind,\n"
    "shard count and record count, with its first N records (default 3).\n"
    "\n"
    "  --records N   records to show per type (0 for none)\n"
    "  --mmap        map the snapshot instead of reading it into memory\n"
    "  --verbose     accepted for the Go tool's users; shows all header tags\n"
    "  --help        this text\n";

int cmd_inspect(int argc, char **argv)
{
    enum { O_RECORDS = 1, O_MMAP, O_VERBOSE, O_HELP };
    static const opt_spec specs[] = {{"records", OPT_VALUE, O_RECORDS},
                                     {"mmap", OPT_FLAG, O_MMAP},
                                     {"verbose", OPT_FLAG, O_VERBOSE},
                                     {"help", OPT_FLAG, O_HELP},
                                     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "inspect");
    const char *path = NULL, *v;
    long records = 3;
    bool mmap_mode = false;
    int k;
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_RECORDS: {
            char *end;
            records = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || records < 0)
                return cli_fail("inspect", 2, "--records needs a number >= 0");
            break;
        }
        case O_MMAP: mmap_mode = true; break;
        case O_VERBOSE: break;
        case O_HELP: fputs(USAGE, stdout); return 0;
        case OPT_POSITIONAL:
            if (path != NULL)
                return cli_fail("inspect", 2, "more than one blob given");
            path = v;
            break;
        default: return 2;
        }
    }
    if (path == NULL) {
        fputs(USAGE, stderr);
        return 2;
    }
    hollow_read_options opts = HOLLOW_READ_OPTIONS_INIT;
    opts.memory_mode = mmap_mode ? HOLLOW_MEMORY_MMAP : HOLLOW_MEMORY_HEAP;
    hollow_read_state *rs = NULL;
    if (hollow_read_state_open(&rs, path, &opts) < 0)
        return cli_fail_hollow("inspect", "%s", path);
    printf("snapshot %s\n", path);
    printf("randomized tag %lld (origin %lld)\n",
           (long long)hollow_read_state_randomized_tag(rs),
           (long long)hollow_read_state_origin_tag(rs));
    for (size_t i = 0; i < hollow_read_state_header_tag_count(rs); i++) {
        const char *key, *val;
        hollow_read_state_header_tag_at(rs, i, &key, &val);
        printf("tag %s = %s\n", key, val);
    }
    static const char *kinds[] = {"OBJECT", "LIST", "SET", "MAP"};
    int rc = 0;
    for (size_t i = 0; i < hollow_read_state_type_count(rs) && rc == 0; i++) {
        const hollow_type *t = hollow_read_state_type_at(rs, i);
        printf("type %-28s %-6s shards %-3u records %zu\n", hollow_type_name(t),
               kinds[hollow_type_kind(t)], hollow_type_shard_count(t),
               hollow_type_record_count(t));
        long shown = 0;
        for (hollow_ordinal o = hollow_type_next_ordinal(t, 0);
             o >= 0 && shown < records && rc == 0;
             o = hollow_type_next_ordinal(t, o + 1), shown++) {
            printf("  [%d] ", (int)o);
            rc = hollow_dump_record(t, o, cli_write_file, stdout);
            putchar('\n');
        }
    }
    hollow_read_state_release(rs);
    if (rc != 0)
        return cli_fail_hollow("inspect", "%s", path);
    return 0;
}
