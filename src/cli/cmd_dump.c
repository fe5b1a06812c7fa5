/*
 * hollow-cli dump [--deep TYPE] [--mmap] SNAPSHOT [DELTA...]
 *
 * Prints the canonical dump (hollow-dump/1) of the state a snapshot and any
 * number of deltas or reverse deltas lead to, or with --deep the deep dump
 * (hollow-deep/1) of one type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hollow/dump.h"
#include "hollow/read.h"
#include "opt.h"

static const char USAGE[] =
    "usage: hollow-cli dump [--deep TYPE] [--mmap] SNAPSHOT [DELTA...]\n"
    "\n"
    "Print the canonical dump (hollow-dump/1) of the state that SNAPSHOT and\n"
    "the deltas or reverse deltas after it, applied in order, lead to; or\n"
    "with --deep TYPE the deep dump (hollow-deep/1) of that type.\n"
    "\n"
    "  --deep TYPE   deep dump of TYPE instead of the canonical dump\n"
    "  --mmap        map the snapshot instead of reading it into memory\n"
    "  --help        this text\n";

int cmd_dump(int argc, char **argv)
{
    enum { O_DEEP = 1, O_MMAP, O_HELP };
    static const opt_spec specs[] = {{"deep", OPT_VALUE, O_DEEP},
                                     {"mmap", OPT_FLAG, O_MMAP},
                                     {"help", OPT_FLAG, O_HELP},
                                     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "dump");
    const char *deep = NULL, *snapshot = NULL, *v;
    const char **deltas = calloc((size_t)argc + 1, sizeof *deltas);
    int ndeltas = 0;
    if (deltas == NULL)
        return cli_fail("dump", 1, "out of memory");
    bool mmap_mode = false;
    int k;
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_DEEP: deep = v; break;
        case O_MMAP: mmap_mode = true; break;
        case O_HELP: fputs(USAGE, stdout); free(deltas); return 0;
        case OPT_POSITIONAL:
            if (snapshot == NULL)
                snapshot = v;
            else
                deltas[ndeltas++] = v;
            break;
        default: free(deltas); return 2;
        }
    }
    if (snapshot == NULL) {
        fputs(USAGE, stderr);
        free(deltas);
        return 2;
    }
    hollow_read_options opts = HOLLOW_READ_OPTIONS_INIT;
    opts.memory_mode = mmap_mode ? HOLLOW_MEMORY_MMAP : HOLLOW_MEMORY_HEAP;
    hollow_read_state *rs = NULL;
    if (hollow_read_state_open(&rs, snapshot, &opts) < 0) {
        free(deltas);
        return cli_fail_hollow("dump", "%s", snapshot);
    }
    for (int i = 0; i < ndeltas; i++) {
        hollow_read_state *next = NULL;
        if (hollow_read_state_apply_delta_file(&next, rs, deltas[i]) < 0) {
            hollow_read_state_release(rs);
            int code = cli_fail_hollow("dump", "%s", deltas[i]);
            free(deltas);
            return code;
        }
        hollow_read_state_release(rs);
        rs = next;
    }
    free(deltas);
    int rc;
    if (deep != NULL) {
        if (hollow_read_state_type(rs, deep) == NULL) {
            hollow_read_state_release(rs);
            return cli_fail("dump", 1, "type %s is not in the state", deep);
        }
        rc = hollow_dump_deep(rs, deep, cli_write_file, stdout);
    } else {
        rc = hollow_dump_canonical(rs, cli_write_file, stdout);
    }
    hollow_read_state_release(rs);
    if (rc != 0)
        return cli_fail_hollow("dump", "%s", snapshot);
    return cli_finish_output("dump", 0);
}
