/*
 * hollow-cli shell
 *
 * Reads commands, one per line, and runs them on one memory store (the
 * built-in sample, sample.h) that lives as long as the shell: what
 * `produce` publishes, `consume`, `inspect` and `diff` see next. A line is
 * split into words as a shell would (blanks; '...' and "..." quotes; a
 * backslash escapes the next character) and the words run as the
 * hollow-cli command they name, with the same options. On a terminal the
 * line is edited with libedit (history, arrows); from a pipe lines are
 * read plainly and no prompt is printed, so a script's output is only the
 * commands' output. The exit code is the last command's, as sh's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "commands.h"
#include "hollow/announcer.h"
#include "hollow/blobstore.h"
#include "hollow/error.h"
#include "opt.h"
#include "sample.h"
#include "store_opts.h"

bool cli_in_shell;

static const char USAGE[] =
    "usage: hollow-cli shell\n"
    "\n"
    "Run hollow-cli commands, one per line, on the memory store: a built-in\n"
    "sample (the Movies dataset in versions 1, 2 and 3) kept while the\n"
    "shell runs. Each line is a command with the same options as on the\n"
    "command line; a line starting with # is a comment. On a terminal lines\n"
    "are edited with history; from a pipe they are read as they come, so\n"
    "the shell can be scripted. The exit code is the last command's.\n"
    "\n"
    "commands:\n"
    "  produce [options]   publish the sample's next version (or data)\n"
    "  consume [options]   load a version: counts, dump or query\n"
    "  inspect [options]   the store's versions, or one version's types\n"
    "  diff [options]      the differences between two versions\n"
    "  schema [options] FILE...  validate schema files\n"
    "  pin VERSION         pin the announcer: consumers see VERSION\n"
    "  unpin               back to the latest announced version\n"
    "  versions [store options]  every version, announced and pinned\n"
    "  help [COMMAND]      this list, or COMMAND's options\n"
    "  quit                leave (also exit, or end of input)\n";

static const char VERSIONS_USAGE[] =
    "usage: versions [store options]\n"
    "\n"
    "List every version of the store with its blobs, and mark the\n"
    "announced and the pinned version.\n"
    "\n"
    "%s"
    "  --help          this text\n";

/* the commands the shell runs through cli_run_command() */
static const char *const RUN[] = {"produce", "consume", "inspect", "diff",
                                  "schema",  "pin",     "unpin"};
#define NRUN (sizeof RUN / sizeof RUN[0])

/* ------------------------------------------------------------- versions */

typedef struct version_row {
    int64_t version;
    bool snapshot, delta, reverse, header;
} version_row;

typedef struct version_rows {
    version_row *rows;
    size_t count, cap;
    bool oom;
} version_rows;

static version_row *row_of(version_rows *vr, int64_t v)
{
    for (size_t i = 0; i < vr->count; i++)
        if (vr->rows[i].version == v)
            return &vr->rows[i];
    if (vr->count == vr->cap) {
        size_t cap = vr->cap ? vr->cap * 2 : 16;
        version_row *r = realloc(vr->rows, cap * sizeof *r);
        if (r == NULL) {
            vr->oom = true;
            return NULL;
        }
        vr->rows = r;
        vr->cap = cap;
    }
    version_row *r = &vr->rows[vr->count++];
    memset(r, 0, sizeof *r);
    r->version = v;
    return r;
}

static int collect_blob(const hollow_blob_key *key, void *payload)
{
    version_rows *vr = payload;
    /* a delta and a reverse delta belong to the newer of their versions */
    int64_t v = key->kind == HOLLOW_BLOB_REVERSE_DELTA ? key->from_version
                                                       : key->version;
    version_row *r = row_of(vr, v);
    if (r == NULL)
        return HOLLOW_ENOMEM;
    switch (key->kind) {
    case HOLLOW_BLOB_SNAPSHOT: r->snapshot = true; break;
    case HOLLOW_BLOB_DELTA: r->delta = true; break;
    case HOLLOW_BLOB_REVERSE_DELTA: r->reverse = true; break;
    case HOLLOW_BLOB_HEADER: r->header = true; break;
    }
    return 0;
}

static int cmp_rows(const void *a, const void *b)
{
    const version_row *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static int cmd_versions(int argc, char **argv)
{
    enum { O_HELP = 1 };
    static const opt_spec specs[] = {CLI_STORE_SPECS,
                                     {"help", OPT_FLAG, O_HELP},
                                     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "versions");
    cli_store_opts so = CLI_STORE_OPTS_INIT;
    const char *v, *where = "";
    int k;
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        if (k == O_HELP) {
            printf(VERSIONS_USAGE, CLI_STORE_USAGE);
            return 0;
        }
        if (k == OPT_POSITIONAL)
            return cli_fail("versions", 2, "unexpected argument %s", v);
        if (k < 0 || !cli_store_option(&so, k, v))
            return 2;
    }
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    int rc = cli_store_open(&bs, &so, "versions", &where);
    if (rc != 0)
        return rc;
    if ((rc = cli_announcer_open(&an, &so, bs, false, "versions")) != 0) {
        cli_store_close(bs);
        return rc;
    }
    version_rows vr = {NULL, 0, 0, false};
    int lrc = hollow_blobstore_list(bs, collect_blob, &vr);
    hollow_announcer_stats stats;
    memset(&stats, 0, sizeof stats);
    int64_t latest = 0;
    bool has_latest = hollow_announcer_latest(&latest, an) == 0 && latest > 0;
    int src = hollow_announcer_stats_get(&stats, an);
    if (lrc < 0) {
        rc = cli_fail_hollow("versions", "%s", where);
    } else if (vr.count == 0) {
        printf("no versions in %s\n", where);
    } else {
        qsort(vr.rows, vr.count, sizeof *vr.rows, cmp_rows);
        for (size_t i = 0; i < vr.count; i++) {
            const version_row *r = &vr.rows[i];
            int64_t announced = src == 0 && stats.has_latest ? stats.latest
                                                            : latest;
            printf("%-20lld %s%s%s%s", (long long)r->version,
                   r->snapshot ? " snapshot" : "", r->delta ? " delta" : "",
                   r->reverse ? " reverse-delta" : "",
                   r->header ? " header" : "");
            if ((src == 0 || has_latest) && r->version == announced)
                printf("  (announced)");
            if (src == 0 && stats.pinned && r->version == stats.pinned_version)
                printf("  (pinned)");
            putchar('\n');
        }
        if (src == 0 && stats.pinned)
            printf("pinned to %lld: consumers see it until unpin\n",
                   (long long)stats.pinned_version);
    }
    free(vr.rows);
    cli_announcer_close(an);
    cli_store_close(bs);
    return rc;
}

/* ------------------------------------------------------------ the line */

/*
 * Split `line` into words in place (the words point into it), at most
 * `cap` - 1 of them, NULL-terminated: blanks separate words, quotes group,
 * a backslash escapes the next character (outside single quotes). -1 with
 * *why set for an unterminated quote or too many words.
 */
static int split_line(char *line, char **words, int cap, const char **why)
{
    int n = 0;
    char *r = line, *w = line;
    for (;;) {
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
            r++;
        if (*r == '\0')
            break;
        if (n == cap - 1) {
            *why = "too many words on the line";
            return -1;
        }
        words[n++] = w;
        char quote = 0;
        while (*r != '\0') {
            char c = *r;
            if (quote == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
                break;
            r++;
            if (quote == 0 && (c == '\'' || c == '"')) {
                quote = c;
            } else if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote != '\'' && *r != '\0') {
                *w++ = *r++;
            } else {
                *w++ = c;
            }
        }
        if (quote != 0) {
            *why = quote == '\'' ? "unterminated ' quote"
                                 : "unterminated \" quote";
            return -1;
        }
        if (*r != '\0')
            r++;
        *w++ = '\0';
    }
    words[n] = NULL;
    return n;
}

static bool is_run(const char *name)
{
    for (size_t i = 0; i < NRUN; i++)
        if (strcmp(RUN[i], name) == 0)
            return true;
    return false;
}

static int shell_help(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(argv[1], "versions") == 0) {
        printf(VERSIONS_USAGE, CLI_STORE_USAGE);
        return 0;
    }
    if (strcmp(argv[1], "quit") == 0 || strcmp(argv[1], "exit") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (!is_run(argv[1]) || !cli_is_command(argv[1]))
        return cli_fail("shell", 2, "help %s: not a shell command (help "
                        "lists them)", argv[1]);
    return cmd_help(argc, argv);
}

/* run one split line; *quit set by quit/exit */
static int run_words(int argc, char **argv, bool *quit)
{
    /* the Go tool's -command=VERB form works here too */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *name = strncmp(a, "-command=", 9) == 0    ? a + 9
                           : strncmp(a, "--command=", 10) == 0 ? a + 10
                                                               : NULL;
        if (name == NULL)
            continue;
        memmove(&argv[1], &argv[0], (size_t)i * sizeof *argv);
        argv[0] = (char *)name;
        break;
    }
    const char *name = argv[0];
    if (strcmp(name, "quit") == 0 || strcmp(name, "exit") == 0) {
        *quit = true;
        return 0;
    }
    if (strcmp(name, "help") == 0)
        return shell_help(argc, argv);
    if (strcmp(name, "versions") == 0)
        return cmd_versions(argc, argv);
    if (!is_run(name) || !cli_is_command(name))
        return cli_fail("shell", 2, "%s: not a shell command (help lists "
                        "them)", name);
    if (strcmp(name, "consume") == 0)
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--follow") == 0 ||
                strcmp(argv[i], "-follow") == 0)
                return cli_fail("shell", 2, "consume --follow runs until a "
                                "signal; run it outside the shell");
    return cli_run_command(argc, argv);
}

/* one line: 0..2 the command's exit code */
static int run_line(char *line, bool *quit)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '\n' || *p == '#')
        return -1; /* nothing ran */
    /* words fit in half the line's length plus one */
    int cap = (int)(strlen(p) / 2 + 2);
    char **words = malloc((size_t)cap * sizeof *words);
    if (words == NULL)
        return cli_fail("shell", 1, "out of memory");
    const char *why = NULL;
    int n = split_line(p, words, cap, &why);
    int rc;
    if (n < 0)
        rc = cli_fail("shell", 2, "%s", why);
    else if (n == 0)
        rc = -1;
    else
        rc = run_words(n, words, quit);
    if (rc >= 0) {
        const char *name = n > 0 ? words[0] : "shell";
        rc = cli_finish_output(name, rc);
    }
    free(words);
    /* what a command set for itself does not reach the next one */
    hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL);
    hollow_error_clear();
    fflush(stderr);
    return rc;
}

int cmd_shell(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
                     strcmp(argv[1], "-h") == 0 ||
                     strcmp(argv[1], "-help") == 0)) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (argc > 1)
        return cli_fail("shell", 2, "unexpected argument %s (commands come "
                        "one per line on standard input)", argv[1]);
    if (cli_in_shell)
        return cli_fail("shell", 2, "already in the shell");
    if (cli_sample_open(NULL, NULL, "shell") != 0)
        return 1;
    cli_in_shell = true;
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    int last = 0;
    bool quit = false;
    if (tty) {
        printf("hollow-cli shell on the memory store (the Movies sample, "
               "versions 1, 2, 3).\n`help` lists the commands, `quit` "
               "leaves.\n");
        using_history();
        while (!quit) {
            char *line = readline("hollow> ");
            if (line == NULL)
                break;
            if (line[0] != '\0')
                add_history(line);
            int rc = run_line(line, &quit);
            free(line);
            if (rc >= 0)
                last = rc;
        }
        if (!quit)
            putchar('\n');
        clear_history();
    } else {
        char *line = NULL;
        size_t cap = 0;
        while (!quit && getline(&line, &cap, stdin) >= 0) {
            int rc = run_line(line, &quit);
            if (rc >= 0)
                last = rc;
        }
        free(line);
        if (ferror(stdin))
            last = cli_fail("shell", 1, "cannot read standard input: %s",
                            strerror(errno));
    }
    cli_in_shell = false;
    return last;
}
