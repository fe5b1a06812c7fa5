/*
 * Command-line options for hollow-cli (style.md B12): long options as
 * `--flag value` or `--flag=value`, and the single-dash Go form
 * `-flag=value` / `-flag value` of the tool's original users. A flag (no
 * value) also takes `=true` or `=false` as Go's flag package does:
 * `-verbose=true` is `-verbose`, `-verbose=false` is as if absent. `--`
 * ends the options. Everything else is a positional argument.
 */
#ifndef HOLLOW_CLI_OPT_H
#define HOLLOW_CLI_OPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * How a command declares its options: an enum with one id per option,
 * starting at 1, and a table that gives each name its id. opt_next()
 * returns the id of the option it matched, so the command switches on
 * names and never on positions in the table; aliases share an id:
 *
 *     enum { O_DEEP = 1, O_MMAP, O_HELP };
 *     static const opt_spec specs[] = {
 *         {"deep", OPT_VALUE, O_DEEP},
 *         {"mmap", OPT_FLAG, O_MMAP},
 *         {"help", OPT_FLAG, O_HELP},
 *         {"h", OPT_FLAG, O_HELP},
 *     };
 *     while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END)
 *         switch (k) {
 *         case O_DEEP: deep = v; break;
 *         ...
 *         case OPT_POSITIONAL: ...; break;
 *         default: return 2;   (OPT_ERROR: the message is printed)
 *         }
 *
 * Id 0 is reserved: a spec without an id (a table in the old positional
 * style, {"deep", true}) is refused by -Wmissing-field-initializers at
 * build time and by opt_next() at run time; it never matches the wrong
 * case. Lists of arguments (files, repeated options) go in arrays sized
 * by argc, never in fixed ones.
 */
typedef enum opt_arg {
    OPT_FLAG = 0, /* --name */
    OPT_VALUE = 1 /* --name VALUE or --name=VALUE */
} opt_arg;

typedef struct opt_spec {
    const char *name;  /* without dashes */
    opt_arg arg;
    int id;            /* the command's enum value, >= 1 */
} opt_spec;

#define OPT_COUNT(specs) ((int)(sizeof(specs) / sizeof((specs)[0])))

typedef struct opt_state {
    int argc;
    char **argv;
    int i;             /* next argument */
    bool positional_only;
    const char *cmd;   /* for messages: "hollow-cli <cmd>" */
} opt_state;

#define OPT_END (-1)
#define OPT_POSITIONAL (-2)
#define OPT_ERROR (-3)

/* start after argv[0] (the command name) */
void opt_init(opt_state *st, int argc, char **argv, const char *cmd);

/*
 * Next option: the id of the matching spec (with *value set when it takes
 * one, or to NULL), OPT_POSITIONAL with *value = the argument, OPT_END, or
 * OPT_ERROR after printing "hollow-cli <cmd>: ..." to stderr (unknown
 * option, missing or unexpected value, or a spec without an id).
 */
int opt_next(opt_state *st, const opt_spec *specs, int nspecs, const char **value);

/* print "hollow-cli <cmd>: <message>" to stderr; returns exit code `code` */
int cli_fail(const char *cmd, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* same, with ": <hollow_error_last()->message>" appended; returns 1 */
int cli_fail_hollow(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/*
 * The value of a version option (--version, --target, ...): a decimal
 * number from 0 to INT64_MAX (0 means the latest, for the caller to
 * resolve). 0 with *out set, or 2 after printing "hollow-cli <cmd>: --<opt>
 * ..." (not a number, or too large: never clamped).
 */
int opt_version(int64_t *out, const char *cmd, const char *opt,
                const char *text);

/* a write function for the dump API that writes to a FILE*; a failure
 * makes the next cli_fail_hollow() say "cannot write the output" */
int cli_write_file(void *payload, const char *data, size_t len);

/*
 * End a command's output: flush stdout and check it. A failed write turns
 * exit code `rc` 0 into 1 with "hollow-cli <cmd>: cannot write the output:
 * <reason>" (a command that failed already said why). Returns the exit
 * code; stdout's error flag is cleared for the next command (the shell).
 */
int cli_finish_output(const char *cmd, int rc);

#endif
