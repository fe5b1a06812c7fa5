/*
 * hollow-cli: the command-line tool. It uses only the public API (style.md
 * B1.5). Commands are `hollow-cli <verb> [options]`, or the Go tool's form
 * `hollow-cli -command=<verb> [options]`. Exit codes: 0 ok, 1 failure,
 * 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "hollow/common.h"
#include "opt.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"consume", cmd_consume, "refresh a consumer over a blob store; counts or dump"},
    {"diff", cmd_diff, "what differs between two versions or two snapshots"},
    {"dump", cmd_dump, "print the canonical or deep dump of a state"},
    {"filter", cmd_filter, "rewrite a snapshot, keeping or dropping types"},
    {"gc", cmd_gc, "remove unannounced leftovers and old versions of a store"},
    {"help", cmd_help, "describe a command: help COMMAND"},
    {"inspect", cmd_inspect, "show a blob of any kind, or a store's versions and plans"},
    {"pin", cmd_pin, "pin every consumer of a shared announcer to a version"},
    {"produce", cmd_produce, "publish a version from JSON, JSON lines or CSV files"},
    {"schema", cmd_schema, "validate schema files (line:column errors)"},
    {"serve", cmd_serve, "the explorer: a web UI over a store it follows"},
    {"shell", cmd_shell, "commands on the memory store, one per line"},
    {"unpin", cmd_unpin, "remove the pin of a shared announcer"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

void cli_usage(FILE *f)
{
    fprintf(f, "usage: hollow-cli <command> [options] [args]\n"
               "       hollow-cli -command=<command> [options] [args]\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nWithout --store or --dir, a command works on the memory store:\n"
               "a built-in sample (the Movies dataset, versions 1, 2, 3).\n"
               "`--version 0` (or -version=0) means the latest version.\n"
               "`hollow-cli help <command>` or `hollow-cli <command> --help`\n"
               "describes a command.\n");
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

bool cli_is_command(const char *name)
{
    return find(name) != NULL;
}

int cli_run_command(int argc, char **argv)
{
    const command *c = find(argv[0]);
    if (c == NULL) {
        fprintf(stderr, "hollow-cli: unknown command '%s'\n", argv[0]);
        cli_usage(stderr);
        return 2;
    }
    argv[0] = (char *)c->name;
    return c->fn(argc, argv);
}

/* help [COMMAND]: the command's own --help, exit 0; unknown: exit 2 */
int cmd_help(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        cli_usage(stdout);
        return 0;
    }
    if (argc > 2)
        return cli_fail("help", 2, "one command at a time");
    const command *c = find(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "hollow-cli help: unknown command '%s'\n", argv[1]);
        cli_usage(stderr);
        return 2;
    }
    if (c->fn == cmd_help) {
        cli_usage(stdout);
        return 0;
    }
    char help[] = "--help";
    char *av[] = {(char *)c->name, help, NULL};
    return c->fn(2, av);
}

/* the command run, for the message of a failed write to stdout */
static const char *ran;

static int run(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return 2;
    }
    /* Go form: -command=X (or --command X) anywhere; remove it from argv */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *name = NULL;
        int drop = 1;
        if (strncmp(a, "-command=", 9) == 0)
            name = a + 9;
        else if (strncmp(a, "--command=", 10) == 0)
            name = a + 10;
        else if ((strcmp(a, "-command") == 0 || strcmp(a, "--command") == 0) &&
                 i + 1 < argc) {
            name = argv[i + 1];
            drop = 2;
        }
        if (name == NULL)
            continue;
        const command *c = find(name);
        if (c == NULL) {
            fprintf(stderr, "hollow-cli: unknown command '%s'\n", name);
            cli_usage(stderr);
            return 2;
        }
        /* argv without the -command option, with the verb as argv[0]:
         * shifted in place, so any number of arguments fits */
        for (int j = i + drop; j <= argc; j++) /* with the final NULL */
            argv[j - drop] = argv[j];
        argc -= drop;
        argv[0] = (char *)c->name;
        ran = c->name;
        return c->fn(argc, argv);
    }
    const char *verb = argv[1];
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        cli_usage(stdout);
        return 0;
    }
    if (strcmp(verb, "--version") == 0 || strcmp(verb, "-version") == 0) {
        printf("hollow-cli %s\n", hollow_version_string());
        return 0;
    }
    if (cli_is_command(verb))
        ran = verb;
    return cli_run_command(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    /* a full disk or closed pipe on stdout is a failure, not exit 0 */
    return cli_finish_output(ran, rc);
}
