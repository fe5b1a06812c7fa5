/*
 * hollow-cli filter [--include TYPE]... [--exclude TYPE]... IN OUT
 *
 * Rewrites a snapshot through the write state. --include keeps the named
 * types and everything they reference; --exclude drops a type, and is
 * refused, naming the referrers, when a kept type references it. With no
 * option the output holds the same state (for the first version of a
 * chain, the very bytes Java wrote).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hollow/read.h"
#include "hollow/write.h"
#include "opt.h"

static const char USAGE[] =
    "usage: hollow-cli filter [--include TYPE]... [--exclude TYPE]... IN OUT\n"
    "\n"
    "Rewrite snapshot IN into OUT through the write state.\n"
    "\n"
    "  --include TYPE  keep TYPE and every type it references (repeatable)\n"
    "  --exclude TYPE  drop TYPE; refused if a kept type references it\n"
    "  --help          this text\n";

/* how many type references `s` has (an OBJECT: one per REFERENCE field) */
static size_t ref_count(const hollow_schema *s)
{
    size_t n = 0;
    switch (hollow_schema_kind_of(s)) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < hollow_schema_field_count(s); f++)
            n += hollow_schema_field_type(s, f) == HOLLOW_FIELD_REFERENCE;
        return n;
    case HOLLOW_SCHEMA_MAP: return 2;
    default: return 1;
    }
}

/* the name of the type of reference `i` < ref_count(s) (may be NULL) */
static const char *ref_at(const hollow_schema *s, size_t i)
{
    switch (hollow_schema_kind_of(s)) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < hollow_schema_field_count(s); f++)
            if (hollow_schema_field_type(s, f) == HOLLOW_FIELD_REFERENCE &&
                i-- == 0)
                return hollow_schema_field_ref_type(s, f);
        return NULL;
    case HOLLOW_SCHEMA_MAP:
        return i == 0 ? hollow_schema_element_type(s) : hollow_schema_value_type(s);
    default: return hollow_schema_element_type(s);
    }
}

static int find(const hollow_read_state *rs, const char *name)
{
    for (size_t i = 0; i < hollow_read_state_type_count(rs); i++)
        if (strcmp(hollow_type_name(hollow_read_state_type_at(rs, i)), name) == 0)
            return (int)i;
    return -1;
}

static int sink(void *payload, const void *data, size_t len)
{
    return fwrite(data, 1, len, payload) == len ? 0 : -1;
}

int cmd_filter(int argc, char **argv)
{
    enum { O_INCLUDE = 1, O_EXCLUDE, O_HELP };
    static const opt_spec specs[] = {{"include", OPT_VALUE, O_INCLUDE},
                                     {"exclude", OPT_VALUE, O_EXCLUDE},
                                     {"help", OPT_FLAG, O_HELP},
                                     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "filter");
    /* each name is an argument: argc bounds their number */
    const char **inc = calloc((size_t)argc + 1, sizeof *inc);
    const char **exc = calloc((size_t)argc + 1, sizeof *exc);
    const char *files[2], *v;
    int ninc = 0, nexc = 0, nfiles = 0, k;
    int rc = 1;
    hollow_read_state *rs = NULL;
    bool *keep = NULL;
    hollow_schema_list *l = NULL;
    hollow_write_state *ws = NULL;
    FILE *out = NULL;
    char *referrers = NULL;
    size_t referrers_len = 0;
    if (inc == NULL || exc == NULL) {
        cli_fail("filter", 1, "out of memory");
        goto done;
    }
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_INCLUDE: inc[ninc++] = v; break;
        case O_EXCLUDE: exc[nexc++] = v; break;
        case O_HELP: fputs(USAGE, stdout); rc = 0; goto done;
        case OPT_POSITIONAL:
            if (nfiles == 2) {
                rc = cli_fail("filter", 2, "expected IN and OUT only");
                goto done;
            }
            files[nfiles++] = v;
            break;
        default: rc = 2; goto done;
        }
    }
    if (nfiles != 2) {
        fputs(USAGE, stderr);
        rc = 2;
        goto done;
    }
    if (hollow_read_state_open(&rs, files[0], NULL) < 0) {
        cli_fail_hollow("filter", "%s", files[0]);
        goto done;
    }
    size_t nt = hollow_read_state_type_count(rs);
    keep = calloc(nt ? nt : 1, sizeof *keep);
    if (keep == NULL) {
        cli_fail("filter", 1, "out of memory");
        goto done;
    }
    for (int i = 0; i < ninc + nexc; i++) {
        const char *name = i < ninc ? inc[i] : exc[i - ninc];
        if (find(rs, name) < 0) {
            cli_fail("filter", 1, "type %s is not in %s", name, files[0]);
            goto done;
        }
    }
    for (size_t i = 0; i < nt; i++)
        keep[i] = ninc == 0;
    for (int i = 0; i < ninc; i++)
        keep[find(rs, inc[i])] = true;
    /* --include: close over references */
    for (bool grew = ninc > 0; grew;) {
        grew = false;
        for (size_t i = 0; i < nt; i++) {
            if (!keep[i])
                continue;
            const hollow_schema *s = hollow_type_schema(hollow_read_state_type_at(rs, i));
            for (size_t j = 0, n = ref_count(s); j < n; j++) {
                const char *r = ref_at(s, j);
                int t = r ? find(rs, r) : -1;
                if (t >= 0 && !keep[t])
                    keep[t] = grew = true;
            }
        }
    }
    for (int i = 0; i < nexc; i++)
        keep[find(rs, exc[i])] = false;
    /* --exclude: refuse when a kept type references a dropped one */
    for (int i = 0; i < nexc; i++) {
        /* every referrer named, however many: a memory stream grows */
        FILE *names = open_memstream(&referrers, &referrers_len);
        if (names == NULL) {
            cli_fail("filter", 1, "out of memory");
            goto done;
        }
        bool any = false;
        for (size_t j = 0; j < nt; j++) {
            if (!keep[j])
                continue;
            const hollow_schema *s = hollow_type_schema(hollow_read_state_type_at(rs, j));
            for (size_t x = 0, n = ref_count(s); x < n; x++) {
                const char *r = ref_at(s, x);
                if (r && strcmp(r, exc[i]) == 0) {
                    fprintf(names, "%s%s", any ? ", " : "", hollow_schema_name(s));
                    any = true;
                    break;
                }
            }
        }
        if (fclose(names) != 0 || referrers == NULL) {
            cli_fail("filter", 1, "out of memory");
            goto done;
        }
        if (any) {
            cli_fail("filter", 1, "cannot exclude %s: referenced by %s", exc[i],
                     referrers);
            goto done;
        }
        free(referrers);
        referrers = NULL;
    }
    if (hollow_schema_list_new(&l) < 0)
        goto fail;
    for (size_t i = 0; i < nt; i++) {
        hollow_schema *copy = NULL;
        if (!keep[i])
            continue;
        if (hollow_schema_clone(&copy, hollow_type_schema(
                                           hollow_read_state_type_at(rs, i))) < 0 ||
            hollow_schema_list_add(l, copy) < 0)
            goto fail;
    }
    if (hollow_write_state_new(&ws, l, NULL) < 0 ||
        hollow_write_state_copy_from(ws, rs) < 0)
        goto fail;
    if ((out = fopen(files[1], "wb")) == NULL) {
        cli_fail("filter", 1, "cannot create %s: %s", files[1], strerror(errno));
        goto done;
    }
    if (hollow_write_state_write_snapshot(ws, sink, out) != 0) {
        if (ferror(out))
            cli_fail("filter", 1, "cannot write %s: %s", files[1], strerror(errno));
        else
            cli_fail_hollow("filter", "%s", files[1]);
        goto done;
    }
    if (fclose(out) != 0) {
        out = NULL;
        cli_fail("filter", 1, "cannot write %s: %s", files[1], strerror(errno));
        goto done;
    }
    out = NULL;
    rc = 0;
    goto done;
fail:
    cli_fail_hollow("filter", "%s", files[0]);
done:
    if (out != NULL)
        fclose(out);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    free(keep);
    free(referrers);
    free(inc);
    free(exc);
    hollow_read_state_release(rs);
    return rc;
}
