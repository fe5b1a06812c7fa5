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

/* the names of the types `s` references */
static size_t refs_of(const hollow_schema *s, const char **out, size_t cap)
{
    size_t n = 0;
    switch (hollow_schema_kind_of(s)) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < hollow_schema_field_count(s) && n < cap; f++)
            if (hollow_schema_field_type(s, f) == HOLLOW_FIELD_REFERENCE)
                out[n++] = hollow_schema_field_ref_type(s, f);
        break;
    case HOLLOW_SCHEMA_MAP:
        if (n + 1 < cap) {
            out[n++] = hollow_schema_element_type(s);
            out[n++] = hollow_schema_value_type(s);
        }
        break;
    default:
        if (n < cap)
            out[n++] = hollow_schema_element_type(s);
        break;
    }
    return n;
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
    static const opt_spec specs[] = {{"include", true}, {"exclude", true},
                                     {"help", false}, {"h", false}};
    opt_state st;
    opt_init(&st, argc, argv, "filter");
    const char *inc[256], *exc[256], *files[2], *v;
    int ninc = 0, nexc = 0, nfiles = 0, k;
    while ((k = opt_next(&st, specs, 4, &v)) != OPT_END) {
        switch (k) {
        case 0:
            if (ninc == 256)
                return cli_fail("filter", 2, "too many --include");
            inc[ninc++] = v;
            break;
        case 1:
            if (nexc == 256)
                return cli_fail("filter", 2, "too many --exclude");
            exc[nexc++] = v;
            break;
        case 2:
        case 3: fputs(USAGE, stdout); return 0;
        case OPT_POSITIONAL:
            if (nfiles == 2)
                return cli_fail("filter", 2, "expected IN and OUT only");
            files[nfiles++] = v;
            break;
        default: return 2;
        }
    }
    if (nfiles != 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    hollow_read_state *rs = NULL;
    if (hollow_read_state_open(&rs, files[0], NULL) < 0)
        return cli_fail_hollow("filter", "%s", files[0]);
    size_t nt = hollow_read_state_type_count(rs);
    bool *keep = calloc(nt ? nt : 1, sizeof *keep);
    int rc = 1;
    hollow_schema_list *l = NULL;
    hollow_write_state *ws = NULL;
    FILE *out = NULL;
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
            const char *r[64];
            size_t n = refs_of(hollow_type_schema(hollow_read_state_type_at(rs, i)),
                               r, 64);
            for (size_t j = 0; j < n; j++) {
                int t = r[j] ? find(rs, r[j]) : -1;
                if (t >= 0 && !keep[t])
                    keep[t] = grew = true;
            }
        }
    }
    for (int i = 0; i < nexc; i++)
        keep[find(rs, exc[i])] = false;
    /* --exclude: refuse when a kept type references a dropped one */
    for (int i = 0; i < nexc; i++) {
        char referrers[1024] = "";
        for (size_t j = 0; j < nt; j++) {
            if (!keep[j])
                continue;
            const hollow_schema *s = hollow_type_schema(hollow_read_state_type_at(rs, j));
            const char *r[64];
            size_t n = refs_of(s, r, 64);
            for (size_t x = 0; x < n; x++)
                if (r[x] && strcmp(r[x], exc[i]) == 0) {
                    size_t used = strlen(referrers);
                    snprintf(referrers + used, sizeof referrers - used, "%s%s",
                             used ? ", " : "", hollow_schema_name(s));
                    break;
                }
        }
        if (referrers[0] != '\0') {
            cli_fail("filter", 1, "cannot exclude %s: referenced by %s", exc[i],
                     referrers);
            goto done;
        }
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
    hollow_read_state_release(rs);
    return rc;
}
