/*
 * hollow-cli schema [--print] FILE...
 *
 * Parses and validates Hollow schema files (the textual language of
 * blob-format.md §4.3). Errors name FILE:line:column. With --print the
 * canonical text of the schemas is printed, as Java prints it. A file
 * ending in .capnp is a Cap'n Proto schema, compiled by libcapnp and
 * mapped to Hollow schemas (docs/schema-capnp.md); its errors name
 * FILE:line, the line `capnp compile` reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hollow/error.h"
#include "hollow/schema.h"
#include "opt.h"

static const char USAGE[] =
    "usage: hollow-cli schema [--print] [--verbose] [-I DIR]...\n"
    "                         [--primary-key TYPE=F[,F]]... FILE...\n"
    "\n"
    "Parse and validate Hollow schema files; errors are reported as\n"
    "FILE:line:column: message. Exit 0 if every file is valid. FILE.capnp\n"
    "is a Cap'n Proto schema, mapped to Hollow schemas (errors: FILE:line).\n"
    "\n"
    "  --print     print the canonical text of the schemas\n"
    "  -I DIR      .capnp: search DIR for absolute imports (repeatable)\n"
    "  --primary-key TYPE=F[,F]  .capnp: primary key of TYPE (repeatable)\n"
    "  --verbose   print each schema's name and kind\n"
    "  --data F    same as giving F as an argument (the Go tool's flag)\n"
    "  --help      this text\n";

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0, k;
    char *buf = malloc(cap);
    while (buf != NULL && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static bool is_capnp(const char *path)
{
    size_t n = strlen(path);
    return n > 6 && strcmp(path + n - 6, ".capnp") == 0;
}

static int check_file(const char *path, bool print, bool verbose,
                      const hollow_capnp_options *capnp)
{
    hollow_schema_list *l = NULL;
    int rc;
    if (is_capnp(path)) {
        /* the message already reads "FILE:LINE: ..." or "FILE: ..." */
        if (hollow_schema_parse_capnp(&l, path, capnp) < 0)
            return cli_fail("schema", 1, "%s", hollow_error_last()->message);
        goto parsed;
    }
    size_t len = 0;
    errno = 0;
    char *text = slurp(path, &len);
    if (text == NULL)
        return cli_fail("schema", 1, "cannot read %s: %s", path,
                        strerror(errno ? errno : EIO));
    /* validation errors too name the declaration they are about */
    rc = hollow_schema_parse_validated(&l, text, len);
    free(text);
    if (rc < 0) {
        /* errors read "line L:C: ..."; print them as FILE:L:C: ... */
        const char *msg = hollow_error_last()->message;
        if (strncmp(msg, "line ", 5) == 0)
            return cli_fail("schema", 1, "%s:%s", path, msg + 5);
        return cli_fail("schema", 1, "%s: %s", path, msg);
    }
parsed:
    if (hollow_schema_list_validate(l) < 0) {
        hollow_schema_list_free(l);
        return cli_fail_hollow("schema", "%s", path);
    }
    static const char *kinds[] = {"OBJECT", "LIST", "SET", "MAP"};
    if (verbose)
        for (size_t i = 0; i < hollow_schema_list_count(l); i++) {
            const hollow_schema *s = hollow_schema_list_get(l, i);
            printf("%s: %s %s\n", path, hollow_schema_name(s),
                   kinds[hollow_schema_kind_of(s)]);
        }
    if (print) {
        char *out = NULL;
        if (hollow_schema_list_print(&out, l) < 0) {
            hollow_schema_list_free(l);
            return cli_fail_hollow("schema", "%s", path);
        }
        fputs(out, stdout);
        hollow_free(out);
    } else {
        printf("%s: ok, %zu schemas\n", path, hollow_schema_list_count(l));
    }
    hollow_schema_list_free(l);
    return 0;
}

int cmd_schema(int argc, char **argv)
{
    enum { O_PRINT = 1, O_VERBOSE, O_DATA, O_HELP, O_IMPORT, O_KEY };
    static const opt_spec specs[] = {{"print", OPT_FLAG, O_PRINT},
                                     {"I", OPT_VALUE, O_IMPORT},
                                     {"primary-key", OPT_VALUE, O_KEY},
                                     {"verbose", OPT_FLAG, O_VERBOSE},
                                     {"data", OPT_VALUE, O_DATA},
                                     {"help", OPT_FLAG, O_HELP},
                                     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "schema");
    /* every file is an argument: argc bounds their number */
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    /* NULL-terminated lists for hollow_capnp_options */
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    const char **keys = calloc((size_t)argc + 1, sizeof *keys);
    int ndirs = 0, nkeys = 0;
    const char *v;
    int nfiles = 0, k, rc = 0;
    bool print = false, verbose = false;
    if (files == NULL || dirs == NULL || keys == NULL) {
        free(files);
        free(dirs);
        free(keys);
        return cli_fail("schema", 1, "out of memory");
    }
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_PRINT: print = true; break;
        case O_VERBOSE: verbose = true; break;
        case O_IMPORT: dirs[ndirs++] = v; break;
        case O_KEY: keys[nkeys++] = v; break;
        case O_DATA:
        case OPT_POSITIONAL: files[nfiles++] = v; break;
        case O_HELP: rc = 0; fputs(USAGE, stdout); goto done;
        default: rc = 2; goto done;
        }
    }
    if (nfiles == 0) {
        fputs(USAGE, stderr);
        rc = 2;
        goto done;
    }
    hollow_capnp_options capnp = HOLLOW_CAPNP_OPTIONS_INIT;
    capnp.import_dirs = dirs;
    capnp.primary_keys = keys;
    for (int i = 0; i < nfiles; i++)
        rc |= check_file(files[i], print, verbose, &capnp);
    rc = rc ? 1 : 0;
done:
    free(files);
    free(dirs);
    free(keys);
    return rc;
}
