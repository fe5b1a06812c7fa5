/* Option parsing and error helpers shared by the hollow-cli commands. */
#include "opt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/error.h"

void opt_init(opt_state *st, int argc, char **argv, const char *cmd)
{
    st->argc = argc;
    st->argv = argv;
    st->i = 1;
    st->positional_only = false;
    st->cmd = cmd;
}

/* 1 true, 0 false, -1 neither (the spellings of Go's strconv.ParseBool) */
static int parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(v, yes[i]) == 0)
            return 1;
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

int opt_next(opt_state *st, const opt_spec *specs, int nspecs, const char **value)
{
    *value = NULL;
    for (int k = 0; k < nspecs; k++)
        if (specs[k].id <= 0) { /* a table without ids: a bug, say so */
            cli_fail(st->cmd, 2, "internal error: option --%s has no id",
                     specs[k].name);
            return OPT_ERROR;
        }
    if (st->i >= st->argc)
        return OPT_END;
    char *arg = st->argv[st->i++];
    if (st->positional_only || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return OPT_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        st->positional_only = true;
        return opt_next(st, specs, nspecs, value);
    }
    const char *name = arg + (arg[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (int k = 0; k < nspecs; k++) {
        const opt_spec *sp = &specs[k];
        if (strlen(sp->name) != len || memcmp(sp->name, name, len) != 0)
            continue;
        if (sp->arg == OPT_FLAG) {
            if (eq == NULL)
                return sp->id;
            /* Go's flag package: -flag=true is the flag, -flag=false is
             * as if it were absent (strconv.ParseBool's spellings) */
            int b = parse_bool(eq + 1);
            if (b < 0) {
                cli_fail(st->cmd, 2, "option --%s takes true or false, not "
                         "\"%s\"", sp->name, eq + 1);
                return OPT_ERROR;
            }
            return b ? sp->id : opt_next(st, specs, nspecs, value);
        }
        if (eq != NULL) {
            *value = eq + 1;
            return sp->id;
        }
        if (st->i >= st->argc) {
            cli_fail(st->cmd, 2, "option --%s needs a value", sp->name);
            return OPT_ERROR;
        }
        *value = st->argv[st->i++];
        return sp->id;
    }
    cli_fail(st->cmd, 2, "unknown option %s (see --help)", arg);
    return OPT_ERROR;
}

static void vfail(const char *cmd, const char *fmt, va_list ap)
{
    if (cmd != NULL)
        fprintf(stderr, "hollow-cli %s: ", cmd);
    else
        fprintf(stderr, "hollow-cli: ");
    vfprintf(stderr, fmt, ap);
}

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(cmd, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* errno of the last failed cli_write_file(), 0 if none since the last
 * cli_finish_output(): a dump stopped by it has no library message */
static int write_errno;

int cli_fail_hollow(const char *cmd, const char *fmt, ...)
{
    if (write_errno != 0)
        return cli_fail(cmd, 1, "cannot write the output: %s",
                        strerror(write_errno));
    const char *msg = hollow_error_last()->message;
    va_list ap;
    va_start(ap, fmt);
    vfail(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", msg);
    return 1;
}

int opt_version(int64_t *out, const char *cmd, const char *opt,
                const char *text)
{
    /* digits only: strtoll would take spaces, a sign, and clamp */
    bool digits = text[0] != '\0';
    for (const char *p = text; *p != '\0'; p++)
        digits = digits && *p >= '0' && *p <= '9';
    if (!digits)
        return cli_fail(cmd, 2, "--%s %s: not a version (a number, 0 for the "
                        "latest)", opt, text);
    errno = 0;
    long long x = strtoll(text, NULL, 10);
    if (errno == ERANGE)
        return cli_fail(cmd, 2, "--%s %s: too large (versions go up to %lld)",
                        opt, text, (long long)INT64_MAX);
    *out = x;
    return 0;
}

int cli_write_file(void *payload, const char *data, size_t len)
{
    if (fwrite(data, 1, len, payload) == len)
        return 0;
    write_errno = errno != 0 ? errno : EIO;
    return HOLLOW_EIO;
}

int cli_finish_output(const char *cmd, int rc)
{
    errno = 0;
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    int err = write_errno != 0 ? write_errno : errno != 0 ? errno : EIO;
    if (failed && rc == 0) /* a failed command has said why already */
        rc = cli_fail(cmd, 1, "cannot write the output: %s", strerror(err));
    else if (failed)
        rc = rc != 0 ? rc : 1;
    clearerr(stdout);
    write_errno = 0;
    return rc;
}
