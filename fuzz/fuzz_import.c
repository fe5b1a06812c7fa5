/*
 * Fuzz target: record import (docs/import.md) of JSON, JSON lines and CSV.
 *
 * The first byte picks the format (its value mod 3: .json, .jsonl, .csv),
 * the strict option (bit 2) and the thread count (bit 3: one or three
 * parsing threads); the rest is the data, imported into a write state of a
 * schema that has every field type, lists, a set, maps from objects and
 * from pairs, one-field wrappers and a self-referencing type. Any error
 * code is fine; a crash, a sanitizer report, a leak or an abort() below is
 * a bug. What must hold: a failed import leaves a message of the form
 * NAME:LINE:COLUMN (or an out-of-memory error), the statistics count no
 * more bytes than given, and when it succeeds the state writes a snapshot.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/error.h"
#include "hollow/import.h"
#include "hollow/schema.h"
#include "hollow/write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)  \
    do {             \
        if (!(cond)) \
            abort(); \
    } while (0)

static const char SCHEMA[] =
    "R { int i; long l; float f; double d; boolean b; string s; bytes y; "
    "ListOfString tags; SetOfInteger n; MapOfStringToNode m; "
    "MapOfIntegerToDouble k; Node node; ListOfNode nodes; }\n"
    "Node { int x; string name; Node next; ListOfString tags; }\n"
    "String { string value; }\nInteger { int value; }\n"
    "Double { double value; }\n"
    "ListOfString List<String>;\nSetOfInteger Set<Integer>;\n"
    "ListOfNode List<Node>;\nMapOfStringToNode Map<String,Node>;\n"
    "MapOfIntegerToDouble Map<Integer,Double>;\n";

static int sink(void *payload, const void *p, size_t len)
{
    (void)payload;
    (void)p;
    (void)len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"f.json", "f.jsonl", "f.csv"};
    if (size < 1 || size > (1u << 20))
        return 0;
    hollow_schema_list *l = NULL;
    CHECK(hollow_schema_parse(&l, SCHEMA, sizeof SCHEMA - 1) == HOLLOW_OK);
    hollow_write_state *ws = NULL;
    CHECK(hollow_write_state_new(&ws, l, NULL) == HOLLOW_OK);
    hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
    o.strict = (data[0] & 4) != 0;
    o.threads = (data[0] & 8) != 0 ? 3 : 1;
    const char *name = names[data[0] % 3];
    /* an exact-size copy, so that reading past the end is caught */
    uint8_t *copy = malloc(size - 1 > 0 ? size - 1 : 1);
    CHECK(copy != NULL);
    memcpy(copy, data + 1, size - 1);
    hollow_import_stats st;
    int rc = hollow_import_buffer(&st, ws, NULL, name, copy, size - 1, &o);
    CHECK(st.bytes <= size - 1);
    if (rc == HOLLOW_OK) {
        CHECK(hollow_write_state_write_snapshot(ws, sink, NULL) == HOLLOW_OK);
    } else {
        const char *msg = hollow_error_last()->message;
        CHECK(rc == HOLLOW_ENOMEM || strncmp(msg, name, strlen(name)) == 0);
    }
    free(copy);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    return 0;
}
