/*
 * Fuzz target: the textual schema parser (blob-format.md §4.3).
 *
 * Any input may fail to parse; that is fine. A crash, a sanitizer report,
 * a leak or an abort() below is a bug. When the text parses, the target
 * checks the properties the rest of the library relies on:
 *
 *   - the canonical text of each schema parses back to an equal schema,
 *     and so does the whole list printed as a schema.hollow file;
 *   - the binary encoding (§4.1) decodes back to an equal schema and
 *     consumes exactly the bytes written;
 *   - validation either fails with HOLLOW_EINVAL or every key path
 *     resolves; hashing and sorting succeed and sorting keeps every schema.
 *
 * The input is copied into a buffer of exactly `size` bytes, so reading
 * past the end (the text is not NUL-terminated) is caught by ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/error.h"
#include "hollow/schema.h"
#include "schema/schema_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

/* parse `text` and require exactly the schemas of `want` */
static void check_reparse(const char *text, size_t len,
                          const hollow_schema *const *want, size_t count)
{
    hollow_schema_list *l = NULL;
    CHECK(hollow_schema_parse(&l, text, len) == HOLLOW_OK);
    CHECK(hollow_schema_list_count(l) == count);
    for (size_t i = 0; i < count; i++)
        CHECK(hollow_schema_equal(hollow_schema_list_get(l, i), want[i]));
    hollow_schema_list_free(l);
}

static void check_schema(const hollow_schema *s)
{
    /* canonical text round trip, with the size query of snprintf style */
    size_t n = hollow_schema_print(NULL, 0, s);
    char *text = malloc(n + 1);
    CHECK(text != NULL);
    CHECK(hollow_schema_print(text, n + 1, s) == n);
    CHECK(strlen(text) == n);
    check_reparse(text, n, &s, 1);
    free(text);

    /* binary round trip */
    hollow__buf b = HOLLOW__BUF_INIT;
    hollow__schema_write(&b, s);
    CHECK(hollow__buf_check(&b) == 0);
    hollow__reader r;
    hollow__reader_init(&r, b.ptr, b.len, 0);
    hollow_schema *back = NULL;
    CHECK(hollow__schema_read(&back, &r) == HOLLOW_OK);
    CHECK(hollow__reader_left(&r) == 0);
    CHECK(hollow_schema_equal(back, s));
    hollow_schema_free(back);
    hollow__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);

    hollow_schema_list *l = NULL;
    int rc = hollow_schema_parse(&l, copy, size);
    free(copy);
    if (rc != HOLLOW_OK) {
        CHECK(l == NULL);
        CHECK(rc == HOLLOW_EPARSE || rc == HOLLOW_EEXISTS ||
              rc == HOLLOW_ENOMEM);
        return 0;
    }

    size_t count = hollow_schema_list_count(l);
    for (size_t i = 0; i < count; i++)
        check_schema(hollow_schema_list_get(l, i));

    char *all = NULL;
    CHECK(hollow_schema_list_print(&all, l) == HOLLOW_OK);
    check_reparse(all, strlen(all), (const hollow_schema *const *)l->items,
                  count);
    hollow_free(all);

    rc = hollow_schema_list_validate(l);
    CHECK(rc == HOLLOW_OK || rc == HOLLOW_EINVAL);
    if (rc == HOLLOW_OK) {
        for (size_t i = 0; i < count; i++) {
            const hollow_schema *s = hollow_schema_list_get(l, i);
            hollow__schema_key_path *paths = NULL;
            CHECK(hollow__schema_key_resolve_all(&paths, l, s) == HOLLOW_OK);
            hollow__schema_key_paths_free(paths, hollow_schema_key_count(s));
        }
    }

    int32_t h1, h2;
    CHECK(hollow_schema_list_hash(&h1, l) == HOLLOW_OK);
    CHECK(hollow_schema_list_sort(l) == HOLLOW_OK);
    CHECK(hollow_schema_list_count(l) == count);
    CHECK(hollow_schema_list_hash(&h2, l) == HOLLOW_OK);
    CHECK(h1 == h2); /* the hash sorts by name itself */

    hollow_schema_list_free(l);
    return 0;
}
