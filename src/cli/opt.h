/*
 * Command-line options for hollow-cli (style.md B12): long options as
 * `--flag value` or `--flag=value`, and the single-dash Go form
 * `-flag=value` / `-flag value` of the tool's original users. `--` ends the
 * options. Everything else is a positional argument.
 */
#ifndef HOLLOW_CLI_OPT_H
#define HOLLOW_CLI_OPT_H

#include <stdbool.h>
#include <stdio.h>

typedef struct opt_spec {
    const char *name;  /* without dashes */
    bool takes_value;
} opt_spec;

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
 * Next option: the index of the matching spec (with *value set when it
 * takes one, or to NULL), OPT_POSITIONAL with *value = the argument,
 * OPT_END, or OPT_ERROR after printing "hollow-cli <cmd>: ..." to stderr.
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

/* a write function for the dump API that writes to a FILE* */
int cli_write_file(void *payload, const char *data, size_t len);

#endif
