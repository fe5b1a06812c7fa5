/*
 * make_wide_snapshot OUT: writes a snapshot that no golden vector has, for
 * run_cli_tests.sh: a type `Wide` with 70 references (to types L0..L69),
 * and 40 types with long names that each reference L0, so that
 * `filter --include Wide` must follow more than 64 references and
 * `filter --exclude L0` must name more than 1024 bytes of referrers; and
 * a type `Blob` whose primary key is a BYTES field, with one record whose
 * key is the 5000 bytes i & 0xff, for `consume --query` with a long key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"

#define LEAVES 70
#define REFERRERS 40
#define BLOB_KEY_LEN 5000

static int sink(void *payload, const void *data, size_t len)
{
    return fwrite(data, 1, len, payload) == len ? 0 : -1;
}

static int fail(const char *what)
{
    fprintf(stderr, "make_wide_snapshot: %s: %s\n", what,
            hollow_error_last()->message);
    return 1;
}

/* add one record of `type` with its first field set to `v` (an int) or to
 * the ordinals `refs` (references), return its ordinal or -1 */
static hollow_ordinal add(hollow_write_state *ws, const char *type, int v,
                          const hollow_ordinal *refs, size_t nrefs)
{
    hollow_record *r = NULL;
    hollow_ordinal o = -1;
    if (hollow_record_new(&r, ws, type) < 0)
        return -1;
    int rc = refs == NULL ? hollow_record_set_int(r, 0, v) : 0;
    for (size_t i = 0; rc == 0 && i < nrefs; i++)
        rc = hollow_record_set_ref(r, i, refs[i]);
    if (rc == 0)
        rc = hollow_write_state_add(&o, ws, r);
    hollow_record_free(r);
    return rc < 0 ? -1 : o;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_wide_snapshot OUT\n");
        return 2;
    }
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    if (text == NULL)
        return 1;
    for (int i = 0; i < LEAVES; i++)
        n += (size_t)snprintf(text + n, cap - n, "L%d { int v; }\n", i);
    n += (size_t)snprintf(text + n, cap - n, "Wide {");
    for (int i = 0; i < LEAVES; i++)
        n += (size_t)snprintf(text + n, cap - n, " L%d r%d;", i, i);
    n += (size_t)snprintf(text + n, cap - n, " }\n");
    for (int i = 0; i < REFERRERS; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "Referrer_type_with_a_rather_long_name_%02d { L0 x; }\n",
                              i);
    n += (size_t)snprintf(text + n, cap - n,
                          "Blob @PrimaryKey(key) { bytes key; }\n");
    hollow_schema_list *l = NULL;
    hollow_write_state *ws = NULL;
    int rc = 1;
    if (hollow_schema_parse(&l, text, n) < 0) {
        rc = fail("schema");
        goto done;
    }
    if (hollow_write_state_new(&ws, l, NULL) < 0) {
        rc = fail("write state");
        goto done;
    }
    hollow_ordinal leaves[LEAVES];
    char name[64];
    for (int i = 0; i < LEAVES; i++) {
        snprintf(name, sizeof name, "L%d", i);
        if ((leaves[i] = add(ws, name, i, NULL, 0)) < 0) {
            rc = fail(name);
            goto done;
        }
    }
    if (add(ws, "Wide", 0, leaves, LEAVES) < 0) {
        rc = fail("Wide");
        goto done;
    }
    for (int i = 0; i < REFERRERS; i++) {
        snprintf(name, sizeof name, "Referrer_type_with_a_rather_long_name_%02d", i);
        if (add(ws, name, 0, leaves, 1) < 0) {
            rc = fail(name);
            goto done;
        }
    }
    uint8_t key[BLOB_KEY_LEN];
    for (int i = 0; i < BLOB_KEY_LEN; i++)
        key[i] = (uint8_t)(i & 0xff);
    hollow_record *r = NULL;
    hollow_ordinal o;
    if (hollow_record_new(&r, ws, "Blob") < 0 ||
        hollow_record_set_bytes(r, 0, key, sizeof key) < 0 ||
        hollow_write_state_add(&o, ws, r) < 0) {
        hollow_record_free(r);
        rc = fail("Blob");
        goto done;
    }
    hollow_record_free(r);
    FILE *f = fopen(argv[1], "wb");
    if (f == NULL) {
        perror(argv[1]);
        goto done;
    }
    int wrc = hollow_write_state_write_snapshot(ws, sink, f);
    if (fclose(f) != 0 || wrc != 0) {
        rc = fail(argv[1]);
        goto done;
    }
    rc = 0;
done:
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    free(text);
    return rc;
}
