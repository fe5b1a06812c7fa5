/*
 * hollow-cli pin --announcer URL V
 * hollow-cli unpin --announcer URL
 *
 * Pin every consumer that follows a shared announcer to version V, and
 * let them go back to the latest version. Both commands live here: they
 * differ by one call. Only an announcer that stores its pin where every
 * consumer sees it (Redis) makes sense: the filesystem and S3 announcers
 * keep a pin in the announcer object of one process, which would end with
 * this command, so they are refused as a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hollow/announcer.h"
#include "opt.h"
#include "sample.h"
#include "store_opts.h"

static const char PIN_USAGE[] =
    "usage: hollow-cli pin --announcer redis://HOST:PORT[/db]\n"
    "                      [--redis-prefix P] VERSION\n"
    "\n"
    "Pin every consumer following the announcer to VERSION, until unpin.\n"
    "The Redis password comes from $HOLLOW_REDIS_PASSWORD or the URL.\n"
    "\n"
    "  --announcer URL  the shared announcer (redis://...; the filesystem\n"
    "                   and S3 announcers keep pins in one process only)\n"
    "  --redis-prefix P the Redis key prefix (default hollow:)\n"
    "  --help           this text\n"
    "In `hollow-cli shell`, without --announcer: the memory store's.\n";

static const char UNPIN_USAGE[] =
    "usage: hollow-cli unpin --announcer redis://HOST:PORT[/db]\n"
    "                        [--redis-prefix P]\n"
    "\n"
    "Remove the pin: consumers following the announcer go back to the\n"
    "latest announced version.\n"
    "\n"
    "  --announcer URL  the shared announcer (redis://...)\n"
    "  --redis-prefix P the Redis key prefix (default hollow:)\n"
    "  --help           this text\n"
    "In `hollow-cli shell`, without --announcer: the memory store's.\n";

static int run(int argc, char **argv, bool pin)
{
    const char *cmd = pin ? "pin" : "unpin";
    const char *usage = pin ? PIN_USAGE : UNPIN_USAGE;
    enum { O_ANNOUNCER = 1, O_PREFIX, O_HELP };
    static const opt_spec specs[] = {{"announcer", OPT_VALUE, O_ANNOUNCER},
                                     {"redis-prefix", OPT_VALUE, O_PREFIX},
                                     {"help", OPT_FLAG, O_HELP},
                                     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, cmd);
    const char *spec = NULL, *prefix = NULL, *vtext = NULL, *v;
    int k;
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_ANNOUNCER: spec = v; break;
        case O_PREFIX: prefix = v; break;
        case O_HELP: fputs(usage, stdout); return 0;
        case OPT_POSITIONAL:
            if (!pin || vtext != NULL)
                return cli_fail(cmd, 2, "unexpected argument %s", v);
            vtext = v;
            break;
        default: return 2;
        }
    }
    if (pin && vtext == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    if (spec == NULL && !cli_in_shell) {
        fputs(usage, stderr);
        return 2;
    }
    int64_t version = 0;
    if (pin) {
        int rc = opt_version(&version, cmd, "version", vtext);
        if (rc != 0)
            return rc;
        if (version == 0)
            return cli_fail(cmd, 2, "%s is not a version (a number > 0)", vtext);
    }
    if (spec != NULL && (strcmp(spec, "fs") == 0 || strcmp(spec, "s3") == 0))
        return cli_fail(cmd, 2, "--announcer %s keeps a pin in the announcer "
                        "object of one process, not where other consumers see "
                        "it; pin through a shared announcer "
                        "(--announcer redis://HOST:PORT)", spec);
    cli_store_opts so = CLI_STORE_OPTS_INIT;
    so.store_set = true; /* no store: the announcer alone, never the sample */
    so.announcer = spec;
    so.redis_prefix = prefix;
    hollow_announcer *an = NULL;
    /* in the shell, without --announcer: the memory store's announcer,
     * which every command of the shell reads */
    int rc = spec == NULL ? cli_sample_open(NULL, &an, cmd)
                          : cli_announcer_open(&an, &so, NULL, false, cmd);
    if (rc != 0)
        return rc;
    if (pin) {
        if (hollow_announcer_pin(an, version) < 0)
            rc = cli_fail_hollow(cmd, "pin %lld", (long long)version);
        else
            printf("pinned %lld\n", (long long)version);
    } else {
        int urc = hollow_announcer_unpin(an);
        if (urc == HOLLOW_ESTATE)
            fprintf(stderr, "hollow-cli unpin: nothing was pinned\n");
        else if (urc < 0)
            rc = cli_fail_hollow(cmd, "unpin");
        else
            printf("unpinned\n");
    }
    cli_announcer_close(an);
    return rc;
}

int cmd_pin(int argc, char **argv)
{
    return run(argc, argv, true);
}

int cmd_unpin(int argc, char **argv)
{
    return run(argc, argv, false);
}
