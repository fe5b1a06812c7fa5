/*
 * Built against an installed libhollow, outside the source tree, by
 * tests/install/run_install_test.sh (with pkg-config, pkg-config --static
 * and find_package(hollow)): load a snapshot and print one field.
 *
 *   print_field SNAPSHOT
 */
#include <stdio.h>

#include <hollow/hollow.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: print_field SNAPSHOT\n", stderr);
        return 2;
    }
    if (hollow_version_number() != HOLLOW_VERSION_NUMBER) {
        fprintf(stderr, "print_field: headers %s, library %s\n",
                HOLLOW_VERSION_STRING, hollow_version_string());
        return 1;
    }
    hollow_read_state *rs;
    if (hollow_read_state_open(&rs, argv[1], NULL) < 0) {
        fprintf(stderr, "print_field: %s\n", hollow_error_last()->message);
        return 1;
    }
    const hollow_type *prims = hollow_read_state_type(rs, "Prims");
    const hollow_schema *schema = hollow_type_schema(prims);
    int id = hollow_schema_field_index(schema, "id");
    int s = hollow_schema_field_index(schema, "s");
    int32_t idv = 0;
    hollow_str sv = {0};
    char buf[64];
    int rc = 1;
    if (id >= 0 && s >= 0 &&
        hollow_object_int(&idv, prims, 1, (size_t)id) == 0 &&
        hollow_object_string(&sv, buf, sizeof buf, prims, 1, (size_t)s) == 0) {
        printf("libhollow %s: Prims has %zu records; ordinal 1: id %d, s \"%.*s\"\n",
               hollow_version_string(), hollow_type_record_count(prims), (int)idv,
               (int)sv.len, sv.ptr);
        rc = 0;
    } else {
        fprintf(stderr, "print_field: no Prims with id and s in %s\n", argv[1]);
    }
    hollow_read_state_release(rs);
    return rc;
}
