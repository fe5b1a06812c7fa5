/*
 * hollow-cli schema [--print] FILE...
 * hollow-cli schema --infer --data [TYPE=]FILE...
 *
 * Parses and validates Hollow schema files (the textual language of
 * blob-format.md §4.3). Errors name FILE:line:column. With --print the
 * canonical text of the schemas is printed, as Java prints it. A file
 * ending in .capnp is a Cap'n Proto schema, compiled by libcapnp and
 * mapped to Hollow schemas (docs/schema-capnp.md); its errors name
 * FILE:line, the line `capnp compile` reports. With --infer the files are
 * data files (JSON, JSON lines, CSV) and the schema inferred from them
 * (hollow_import_infer()) is printed, ready for `produce --schema`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hollow/error.h"
#include "hollow/import.h"
#include "hollow/schema.h"
#include "opt.h"

static const char USAGE[] =
    "usage: hollow-cli schema [--print] [--verbose] [-I DIR]...\n"
    "                         [--primary-key TYPE=F[,F]]... FILE...\n"
    "       hollow-cli schema --infer [--format F] --data [TYPE=]FILE...\n"
    "\n"
    "Parse and validate Hollow schema files; errors are reported as\n"
    "FILE:line:column: message. Exit 0 if every file is valid. FILE.capnp\n"
    "is a Cap'n Proto schema, mapped to Hollow schemas (errors: FILE:line).\n"
    "With --infer the files are data files (.json, .jsonl, .ndjson, .csv)\n"
    "and the schema inferred from them is printed in the Hollow schema\n"
    "language, to edit and pass to `hollow-cli produce --schema`.\n"
    "\n"
    "  --print     print the canonical text of the schemas\n"
    "  -I DIR      .capnp: search DIR for absolute imports (repeatable)\n"
    "  --primary-key TYPE=F[,F]  .capnp: primary key of TYPE (repeatable)\n"
    "  --verbose   print each schema's name, kind, fields and key, and the\n"
    "              root type (the one OBJECT type nothing references)\n"
    "  --data F    same as giving F as an argument (the Go tool's flag)\n"
    "  --infer     the files are data: print the schema inferred from them;\n"
    "              TYPE=FILE names the type of FILE's records (default: the\n"
    "              file's base name, movies.csv: Movies); - is standard\n"
    "              input (needs --format)\n"
    "  --format F  --infer: json, jsonl or csv (default: by extension)\n"
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

/*
 * --verbose: each schema's name and kind, then what it holds (an OBJECT's
 * fields and primary key, a collection's element, key and value types),
 * then the root type produce fills by default.
 */
static void print_verbose(const char *path, const hollow_schema_list *l)
{
    static const char *kinds[] = {"OBJECT", "LIST", "SET", "MAP"};
    for (size_t i = 0; i < hollow_schema_list_count(l); i++) {
        const hollow_schema *s = hollow_schema_list_get(l, i);
        hollow_schema_kind k = hollow_schema_kind_of(s);
        printf("%s: %s %s", path, hollow_schema_name(s), kinds[k]);
        if (k == HOLLOW_SCHEMA_OBJECT) {
            size_t n = hollow_schema_field_count(s);
            printf(", %zu field%s:", n, n == 1 ? "" : "s");
            for (size_t f = 0; f < n; f++) {
                /* as the schema language writes them: "long id" */
                char tn[32];
                const char *ref = hollow_schema_field_ref_type(s, f);
                snprintf(tn, sizeof tn, "%s",
                         hollow_field_type_name(hollow_schema_field_type(s, f)));
                for (char *c = tn; *c; c++)
                    *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
                printf("%s %s %s", f == 0 ? "" : ",", ref != NULL ? ref : tn,
                       hollow_schema_field_name(s, f));
            }
        } else if (k == HOLLOW_SCHEMA_MAP) {
            printf(" of %s to %s", hollow_schema_element_type(s),
                   hollow_schema_value_type(s));
        } else {
            printf(" of %s", hollow_schema_element_type(s));
        }
        size_t nk = hollow_schema_key_count(s);
        for (size_t j = 0; j < nk; j++)
            printf("%s%s", j == 0 ? (k == HOLLOW_SCHEMA_OBJECT ? "; primary key "
                                                               : "; hash key ")
                                  : ",",
                   hollow_schema_key_path(s, j));
        putchar('\n');
    }
    const char *root = NULL;
    if (hollow_import_root_type(&root, l) == 0)
        printf("%s: root type %s\n", path, root);
    else
        printf("%s: no single root type (%s)\n", path,
               hollow_error_last()->message);
}

/* --infer: the schema of data files, printed in the schema language */
static int infer(const char **files, int nfiles, hollow_import_format format)
{
    hollow_import_source *src = calloc((size_t)nfiles, sizeof *src);
    char **types = calloc((size_t)nfiles, sizeof *types);
    int rc = 1;
    if (src == NULL || types == NULL) {
        cli_fail("schema", 1, "out of memory");
        goto done;
    }
    for (int i = 0; i < nfiles; i++) {
        /* TYPE=FILE when the text before the first '=' is an identifier */
        const char *f = files[i], *eq = strchr(f, '=');
        size_t n = eq != NULL ? (size_t)(eq - f) : 0;
        bool ident = n > 0 && !(f[0] >= '0' && f[0] <= '9') && eq[1] != '\0';
        for (size_t j = 0; ident && j < n; j++)
            ident = (f[j] >= 'a' && f[j] <= 'z') || (f[j] >= 'A' && f[j] <= 'Z') ||
                    (f[j] >= '0' && f[j] <= '9') || f[j] == '_';
        if (ident && (types[i] = malloc(n + 1)) != NULL) {
            memcpy(types[i], f, n);
            types[i][n] = '\0';
            f = eq + 1;
        }
        src[i].type = types[i];
        src[i].path = f;
        src[i].format = format;
        if (strcmp(f, "-") == 0 && format == HOLLOW_IMPORT_AUTO) {
            rc = cli_fail("schema", 2, "--data - (standard input) needs --format");
            goto done;
        }
        if (format == HOLLOW_IMPORT_AUTO && strcmp(f, "-") != 0 &&
            hollow_import_format_of(f) == HOLLOW_IMPORT_AUTO) {
            rc = cli_fail("schema", 2, "%s: unknown format (.json, .jsonl, "
                          ".ndjson or .csv; or give --format)", f);
            goto done;
        }
    }
    hollow_import_options io = HOLLOW_IMPORT_OPTIONS_INIT;
    io.format = format;
    hollow_schema_list *l = NULL;
    if (hollow_import_infer(&l, src, (size_t)nfiles, &io) < 0) {
        /* the message reads "FILE:LINE[:COLUMN]: ..." */
        cli_fail("schema", 1, "%s", hollow_error_last()->message);
        goto done;
    }
    char *out = NULL;
    if (hollow_schema_list_print(&out, l) < 0) {
        hollow_schema_list_free(l);
        cli_fail_hollow("schema", "printing the schema");
        goto done;
    }
    fputs(out, stdout);
    hollow_free(out);
    hollow_schema_list_free(l);
    rc = fflush(stdout) == 0 ? 0 : cli_fail("schema", 1, "cannot write to "
                                            "standard output");
done:
    for (int i = 0; types != NULL && i < nfiles; i++)
        free(types[i]);
    free(types);
    free(src);
    return rc;
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
    if (verbose)
        print_verbose(path, l);
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
    enum { O_PRINT = 1, O_VERBOSE, O_DATA, O_HELP, O_IMPORT, O_KEY, O_INFER,
           O_FORMAT };
    static const opt_spec specs[] = {{"print", OPT_FLAG, O_PRINT},
                                     {"infer", OPT_FLAG, O_INFER},
                                     {"format", OPT_VALUE, O_FORMAT},
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
    bool print = false, verbose = false, infer_data = false;
    hollow_import_format format = HOLLOW_IMPORT_AUTO;
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
        case O_INFER: infer_data = true; break;
        case O_FORMAT:
            if (strcmp(v, "json") == 0)
                format = HOLLOW_IMPORT_JSON;
            else if (strcmp(v, "jsonl") == 0 || strcmp(v, "ndjson") == 0)
                format = HOLLOW_IMPORT_JSONL;
            else if (strcmp(v, "csv") == 0)
                format = HOLLOW_IMPORT_CSV;
            else {
                rc = cli_fail("schema", 2, "--format %s: want json, jsonl or "
                              "csv", v);
                goto done;
            }
            break;
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
    if (infer_data) {
        if (print || ndirs > 0 || nkeys > 0) {
            rc = cli_fail("schema", 2, "--infer prints the inferred schema; "
                          "it takes no --print, -I or --primary-key");
            goto done;
        }
        rc = infer(files, nfiles, format);
        goto done;
    }
    if (format != HOLLOW_IMPORT_AUTO) {
        rc = cli_fail("schema", 2, "--format goes with --infer");
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
