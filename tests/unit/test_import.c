/*
 * Record import (docs/import.md): every value rule and every error, through
 * a real write state. Each import writes a snapshot, loads it with the read
 * API and compares the deep dump of the imported type with the expected
 * records; errors are checked by code and by the message's position.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "testhelp.h"

#define HOLLOW_FIXTURES_DIR HOLLOW_TESTS_DIR "/fixtures"

/* ------------------------------------------------------------- helpers */

typedef struct text {
    char *p;
    size_t len;
} text;

static int text_sink(void *payload, const char *data, size_t len)
{
    text *t = payload;
    t->p = realloc(t->p, t->len + len + 1);
    memcpy(t->p + t->len, data, len);
    t->len += len;
    t->p[t->len] = '\0';
    return 0;
}

static int blob_sink(void *payload, const void *data, size_t len)
{
    return text_sink(payload, data, len);
}

static hollow_schema_list *schemas(const char *dsl)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, dsl, strlen(dsl)));
    return l;
}

/* the deep dump of `type` after writing the snapshot of ws */
static char *deep_dump(hollow_write_state *ws, const char *type)
{
    text blob = {NULL, 0}, dump = {NULL, 0};
    HT_OK(hollow_write_state_write_snapshot(ws, blob_sink, &blob));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, blob.p, blob.len, NULL));
    HT_OK(hollow_dump_deep(rs, type, text_sink, &dump));
    hollow_read_state_free(rs);
    free(blob.p);
    /* keep the records, one a line: drop the header line, the closing
     * "]}" and the commas between records */
    ck_assert_ptr_nonnull(dump.p);
    char *out = calloc(1, dump.len + 1), *o = out;
    const char *p = strchr(dump.p, '\n');
    ck_assert_ptr_nonnull(p);
    for (p++; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (n > 0 && p[n - 1] == ',')
            n--;
        if (!(n == 2 && memcmp(p, "]}", 2) == 0)) {
            memcpy(o, p, n);
            o += n;
            *o++ = '\n';
        }
        p += nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
    }
    free(dump.p);
    return out;
}

/*
 * Import `data` (named `name`, which gives the format) into a new write
 * state of `dsl` and return the deep dump of `type`, or NULL with *rc the
 * failing code. stats may be NULL.
 */
static char *import_as(const char *dsl, const char *type, const char *name,
                       const char *data, const hollow_import_options *opts,
                       int *rc, hollow_import_stats *stats)
{
    hollow_schema_list *l = schemas(dsl);
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    hollow_import_stats st;
    *rc = hollow_import_buffer(stats != NULL ? stats : &st, ws, type, name,
                               data, strlen(data), opts);
    char *out = NULL;
    if (*rc == 0)
        out = deep_dump(ws, type);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    return out;
}

#define EXPECT_DUMP(dsl, type, name, data, expected)                   \
    do {                                                               \
        int rc_;                                                       \
        char *d_ = import_as(dsl, type, name, data, NULL, &rc_, NULL); \
        ck_assert_msg(d_ != NULL, "import failed %d: %s", rc_,         \
                      hollow_error_last()->message);                   \
        ck_assert_str_eq(d_, expected);                                \
        free(d_);                                                      \
    } while (0)

/* the import fails with `code` and a message that contains `msg` */
#define EXPECT_ERROR(dsl, type, name, data, code, msg)                         \
    do {                                                                       \
        int rc_;                                                               \
        char *d_ = import_as(dsl, type, name, data, NULL, &rc_, NULL);         \
        ck_assert_msg(d_ == NULL, "import of %s succeeded: %s", name, d_);     \
        ck_assert_int_eq(rc_, code);                                           \
        ck_assert_msg(strstr(hollow_error_last()->message, msg) != NULL,       \
                      "message '%s' lacks '%s'", hollow_error_last()->message, \
                      msg);                                                    \
    } while (0)

static const char *const SCALARS =
    "T { int i; long l; float f; double d; boolean b; string s; bytes y; }";

/* ------------------------------------------------------------- scalars */

START_TEST(import_scalars_json)
{
    EXPECT_DUMP(
        SCALARS, "T", "a.jsonl",
        "{\"i\":-2147483647,\"l\":9223372036854775807,\"f\":0.1,"
        "\"d\":0.1,\"b\":true,\"s\":\"h\\u00e9\",\"y\":\"AAEC/w==\"}\n",
        "{\"i\":-2147483647,\"l\":9223372036854775807,\"f\":0.1,"
        "\"d\":0.1,\"b\":true,\"s\":\"h\xc3\xa9\",\"y\":\"000102ff\"}\n");
    /* integers into FLOAT and DOUBLE; an exponent; -0 */
    EXPECT_DUMP(SCALARS, "T", "a.jsonl",
                "{\"f\":16777217,\"d\":9007199254740993,\"i\":0}\n"
                "{\"d\":-0.0,\"f\":1e-3}\n",
                "{\"i\":0,\"l\":null,\"f\":16777216,\"d\":9007199254740992,"
                "\"b\":null,\"s\":null,\"y\":null}\n"
                "{\"i\":null,\"l\":null,\"f\":0.001,\"d\":-0,\"b\":null,"
                "\"s\":null,\"y\":null}\n");
}
END_TEST

START_TEST(import_nulls_and_missing)
{
    EXPECT_DUMP(SCALARS, "T", "a.json", "[{\"i\":null,\"s\":null},{}]",
                "{\"i\":null,\"l\":null,\"f\":null,\"d\":null,\"b\":null,"
                "\"s\":null,\"y\":null}\n");
}
END_TEST

START_TEST(import_exact_doubles)
{
    /* the nearest double: 2^-1074 halves, long mantissas */
    EXPECT_DUMP("T { double d; }", "T", "a.jsonl",
                "{\"d\":2.2250738585072011e-308}\n"
                "{\"d\":0.30000000000000004}\n"
                "{\"d\":1.7976931348623157e308}\n",
                "{\"d\":0.30000000000000004}\n"
                "{\"d\":1.7976931348623157e+308}\n"
                "{\"d\":2.225073858507201e-308}\n");
    /* more than 19 digits (simdjson 3.0.1's get_number() gives 0 there) */
    EXPECT_DUMP("T { double d; }", "T", "a.jsonl",
                "{\"d\":3.14159265358979323846264338327950288}\n"
                "{\"d\":123456789012345678901.5}\n",
                "{\"d\":123456789012345680000}\n{\"d\":3.141592653589793}\n");
    /* a float from a double exactly between two floats: 1+2^-24 is the
     * midpoint of 1 and 1+2^-23; the text above it must round up */
    EXPECT_DUMP("T { float f; }", "T", "a.jsonl",
                "{\"f\":1.00000005960464477539062500000001}\n",
                "{\"f\":1.0000001}\n");
    EXPECT_DUMP("T { float f; }", "T", "a.jsonl",
                "{\"f\":1.000000059604644775390625}\n", "{\"f\":1}\n");
}
END_TEST

START_TEST(import_numbers_into_strings)
{
    EXPECT_DUMP("T { string s; }", "T", "a.jsonl",
                "{\"s\":12}\n{\"s\":1.5}\n{\"s\":false}\n"
                "{\"s\":18446744073709551615}\n",
                "{\"s\":\"1.5\"}\n{\"s\":\"12\"}\n"
                "{\"s\":\"18446744073709551615\"}\n{\"s\":\"false\"}\n");
}
END_TEST

START_TEST(import_range_errors)
{
    EXPECT_ERROR(SCALARS, "T", "r.jsonl", "{\"i\":2147483648}", HOLLOW_EINVAL,
                 "r.jsonl:1:6: T.i: integer out of range of int");
    EXPECT_ERROR(SCALARS, "T", "r.jsonl", "{\"i\":-2147483648}", HOLLOW_EINVAL,
                 "r.jsonl:1:6: T.i: -2147483648 is Hollow's null");
    EXPECT_ERROR(SCALARS, "T", "r.jsonl", "{}\n{\"l\":9223372036854775808}",
                 HOLLOW_EINVAL,
                 "r.jsonl:2:6: T.l: integer out of range of long");
    EXPECT_ERROR(SCALARS, "T", "r.jsonl", "{\"l\":-9223372036854775808}",
                 HOLLOW_EINVAL, "T.l: -9223372036854775808 is Hollow's null");
    EXPECT_ERROR(SCALARS, "T", "r.jsonl",
                 "{\"l\":123456789012345678901234567890}", HOLLOW_EINVAL,
                 "T.l: integer out of range of long");
    EXPECT_ERROR(
        SCALARS, "T", "r.jsonl", "{\"i\":3.0}", HOLLOW_EINVAL,
        "T.i: expected an integer (int), got a number with a fraction");
    EXPECT_ERROR(SCALARS, "T", "r.jsonl", "{\"i\":1e2}", HOLLOW_EINVAL,
                 "T.i: expected an integer");
    EXPECT_ERROR(SCALARS, "T", "r.jsonl", "{\"f\":1e39}", HOLLOW_EINVAL,
                 "T.f: number out of range of float");
    EXPECT_ERROR(SCALARS, "T", "r.jsonl", "{\"d\":1e400}", HOLLOW_EINVAL,
                 "r.jsonl:1:6");
}
END_TEST

START_TEST(import_type_errors)
{
    EXPECT_ERROR(SCALARS, "T", "t.jsonl", "{\"i\":\"12\"}", HOLLOW_EINVAL,
                 "t.jsonl:1:6: T.i: expected an integer (int), got a string");
    EXPECT_ERROR(SCALARS, "T", "t.jsonl", "{\"b\":1}", HOLLOW_EINVAL,
                 "T.b: expected a boolean, got an integer");
    EXPECT_ERROR(SCALARS, "T", "t.jsonl", "{\"s\":[1]}", HOLLOW_EINVAL,
                 "T.s: expected a string, got an array");
    EXPECT_ERROR(SCALARS, "T", "t.jsonl", "{\"d\":{}}", HOLLOW_EINVAL,
                 "T.d: expected a number, got an object");
    EXPECT_ERROR(SCALARS, "T", "t.jsonl", "{\"y\":\"a$==\"}", HOLLOW_EINVAL,
                 "T.y: malformed base64");
    EXPECT_ERROR(SCALARS, "T", "t.jsonl", "[1]", HOLLOW_EINVAL,
                 "t.jsonl:1:1: a record must be an object, got an array");
    EXPECT_ERROR(SCALARS, "T", "t.jsonl", "{\"i\":1,\"i\":2}", HOLLOW_EINVAL,
                 "t.jsonl:1:8: T.i given twice");
}
END_TEST

/* ---------------------------------------------------- references, lists */

static const char *const MOVIES =
    "Movie { long id; string title; ListOfString genres; SetOfActor actors; "
    "MapOfStringToDouble ratings; Studio studio; }\n"
    "Actor { int id; string name; }\n"
    "Studio { string name; Country country; }\n"
    "Country { string code; }\n"
    "String { string value; }\n"
    "Double { double value; }\n"
    "ListOfString List<String>;\n"
    "SetOfActor Set<Actor>;\n"
    "MapOfStringToDouble Map<String,Double>;\n";

START_TEST(import_nested_lists_sets_maps)
{
    /* a map as [key, value] pairs (hollow-bench --jsonl) and as an object */
    EXPECT_DUMP(
        MOVIES, "Movie", "m.jsonl",
        "{\"id\":1,\"title\":\"A\",\"genres\":[\"Drama\",\"Drama\",\"War\"],"
        "\"actors\":[{\"id\":2,\"name\":\"B\"},{\"id\":1,\"name\":\"C\"},"
        "{\"id\":2,\"name\":\"B\"}],\"ratings\":[[\"imdb\",7.5],[\"tmdb\",6]],"
        "\"studio\":{\"name\":\"S\",\"country\":{\"code\":\"FR\"}}}\n"
        "{\"id\":2,\"genres\":[],\"ratings\":{\"rt\":90,\"imdb\":8.25}}\n",
        "{\"id\":1,\"title\":\"A\",\"genres\":[{\"value\":\"Drama\"},"
        "{\"value\":\"Drama\"},{\"value\":\"War\"}],\"actors\":[{\"id\":1,"
        "\"name\":\"C\"},{\"id\":2,\"name\":\"B\"}],\"ratings\":[[{\"value\":"
        "\"imdb\"},{\"value\":7.5}],[{\"value\":\"tmdb\"},{\"value\":6}]],"
        "\"studio\":{\"name\":\"S\",\"country\":{\"code\":\"FR\"}}}\n"
        "{\"id\":2,\"title\":null,\"genres\":[],\"actors\":null,\"ratings\":"
        "[[{\"value\":\"imdb\"},{\"value\":8.25}],[{\"value\":\"rt\"},"
        "{\"value\":90}]],\"studio\":null}\n");
}
END_TEST

START_TEST(import_map_scalar_keys)
{
    /* object keys parsed by the key type: Integer keys */
    EXPECT_DUMP("T { MapOfIntegerToString m; }\nInteger { int value; }\n"
                "String { string value; }\n"
                "MapOfIntegerToString Map<Integer,String>;\n",
                "T", "k.json", "{\"m\":{\"7\":\"a\",\"-1\":\"b\"}}",
                "{\"m\":[[{\"value\":-1},{\"value\":\"b\"}],[{\"value\":7},"
                "{\"value\":\"a\"}]]}\n");
    EXPECT_ERROR(
        "T { MapOfIntegerToString m; }\nInteger { int value; }\n"
        "String { string value; }\n"
        "MapOfIntegerToString Map<Integer,String>;\n",
        "T", "k.json", "{\"m\":{\"x\":\"a\"}}", HOLLOW_EINVAL,
        "k.json:1:7: Integer.value: expected an integer (int), got 'x'");
}
END_TEST

START_TEST(import_reference_errors)
{
    EXPECT_ERROR(MOVIES, "Movie", "e.jsonl", "{\"studio\":\"x\"}",
                 HOLLOW_EINVAL,
                 "e.jsonl:1:11: Studio: expected an object, got a string");
    EXPECT_ERROR(MOVIES, "Movie", "e.jsonl", "{\"genres\":\"x\"}",
                 HOLLOW_EINVAL,
                 "ListOfString: expected an array, got a string");
    EXPECT_ERROR(MOVIES, "Movie", "e.jsonl", "{\"genres\":[null]}",
                 HOLLOW_EINVAL, "e.jsonl:1:12: ListOfString: null element");
    EXPECT_ERROR(MOVIES, "Movie", "e.jsonl", "{\"ratings\":[[\"a\"]]}",
                 HOLLOW_EINVAL, "expected a [key, value] pair");
    EXPECT_ERROR(MOVIES, "Movie", "e.jsonl", "{\"ratings\":[[\"a\",null]]}",
                 HOLLOW_EINVAL, "MapOfStringToDouble: null value");
    EXPECT_ERROR(MOVIES, "Movie", "e.jsonl", "{\"ratings\":7}", HOLLOW_EINVAL,
                 "MapOfStringToDouble: expected an object or an array");
    EXPECT_ERROR("T { MapOfAToA m; }\nA { int x; int y; }\n"
                 "MapOfAToA Map<A,A>;\n",
                 "T", "e.json", "{\"m\":{\"k\":{\"x\":1}}}", HOLLOW_EINVAL,
                 "map key type A is not a one-field type");
}
END_TEST

/* --------------------------------------------------------- unknown keys */

START_TEST(import_unknown_fields)
{
    int rc;
    hollow_import_stats st;
    char *d = import_as("T { int a; }", "T", "u.jsonl",
                        "{\"a\":1,\"b\":2,\"c\":{\"x\":[1]}}\n{\"z\":null}\n",
                        NULL, &rc, &st);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(d, "{\"a\":1}\n{\"a\":null}\n");
    ck_assert_uint_eq(st.unknown_fields, 3);
    ck_assert_uint_eq(st.records, 2);
    free(d);
    /* a repeated value counts its unknown keys each time */
    d = import_as("T { ListOfA l; }\nA { int x; }\nListOfA List<A>;", "T",
                  "u.json",
                  "[{\"l\":[{\"x\":1,\"q\":2},{\"x\":1,\"q\":2}]},"
                  "{\"l\":[{\"x\":1,\"q\":2}]}]",
                  NULL, &rc, &st);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(st.unknown_fields, 3);
    ck_assert_str_eq(d, "{\"l\":[{\"x\":1},{\"x\":1}]}\n{\"l\":[{\"x\":1}]}\n");
    free(d);
    /* values whose texts differ only at their end stay apart */
    d = import_as("T { ListOfA l; }\nA { int x; }\nListOfA List<A>;", "T",
                  "u.jsonl",
                  "{\"l\":[{\"x\":1},{\"x\":12}]}\n{\"l\":[{\"x\":1},"
                  "{\"x\":12} ]}\n{\"l\":[{\"x\":1},{\"x\":1}]}\n",
                  NULL, &rc, &st);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(d, "{\"l\":[{\"x\":1},{\"x\":12}]}\n"
                        "{\"l\":[{\"x\":1},{\"x\":1}]}\n");
    free(d);
    hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
    o.strict = true;
    d = import_as("T { int a; }", "T", "u.jsonl",
                  "{\"a\":1}\n{\"a\":1,\"b\":2}", &o, &rc, &st);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(rc, HOLLOW_EINVAL);
    ck_assert_str_eq(hollow_error_last()->message,
                     "u.jsonl:2:8: T has no field 'b'");
}
END_TEST

/* ------------------------------------------------------- malformed input */

START_TEST(import_malformed_json)
{
    EXPECT_ERROR("T { int a; }", "T", "m.jsonl", "{\"a\":1}\n{\"a\":}\n",
                 HOLLOW_EINVAL, "m.jsonl:2:");
    EXPECT_ERROR("T { int a; }", "T", "m.jsonl", "{\"a\":1} x\n", HOLLOW_EINVAL,
                 "m.jsonl:1:");
    EXPECT_ERROR("T { int a; }", "T", "m.json", "[{\"a\":1},\n {\"a\":2]",
                 HOLLOW_EINVAL, "m.json:");
    EXPECT_ERROR("T { int a; }", "T", "m.json", "", HOLLOW_EINVAL,
                 "m.json:1:1: malformed JSON");
    EXPECT_ERROR("T { int a; }", "T", "m.json", "7", HOLLOW_EINVAL,
                 "expected an array of records or one record");
    EXPECT_ERROR("T { string s; }", "T", "m.jsonl", "{\"s\":\"\\q\"}",
                 HOLLOW_EINVAL, "m.jsonl:1:");
}
END_TEST

START_TEST(import_invalid_utf8)
{
    EXPECT_ERROR("T { string s; }", "T", "u.jsonl",
                 "{\"s\":\"ok\"}\n{\"s\":\"a\xff\"}\n", HOLLOW_EINVAL,
                 "u.jsonl:2:8: invalid UTF-8");
    EXPECT_ERROR("T { string s; }", "T", "u.csv", "s\nok\nb\xc3\x28\n",
                 HOLLOW_EINVAL, "u.csv:3:2: invalid UTF-8");
    /* an encoded surrogate is not UTF-8 */
    EXPECT_ERROR("T { string s; }", "T", "u.csv", "s\n\xed\xa0\x80\n",
                 HOLLOW_EINVAL, "u.csv:2:1: invalid UTF-8");
}
END_TEST

START_TEST(import_depth_limit)
{
    char buf[4096];
    size_t n = 0;
    n += (size_t)sprintf(buf + n, "{\"a\":");
    for (int i = 0; i < 200; i++)
        buf[n++] = '[';
    for (int i = 0; i < 200; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    buf[n] = '\0';
    EXPECT_ERROR("T { int a; }", "T", "d.jsonl", buf, HOLLOW_EINVAL,
                 "nesting deeper than");
}
END_TEST

/* ------------------------------------------------------------------ CSV */

START_TEST(import_csv_cells)
{
    EXPECT_DUMP(SCALARS, "T", "c.csv",
                "i,l,f,d,b,s,y\r\n"
                "1,-5,0.5,1e3,TRUE,\"a,\"\"b\"\"\nc\",AAE=\r\n"
                ",,,,,,\n"
                "\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n"
                "\n"
                "2,3,NaN,-Infinity,false,x,\n",
                "{\"i\":1,\"l\":-5,\"f\":0.5,\"d\":1000,\"b\":true,\"s\":"
                "\"a,\\\"b\\\"\\nc\",\"y\":\"0001\"}\n"
                "{\"i\":2,\"l\":3,\"f\":\"NaN\",\"d\":\"-Infinity\","
                "\"b\":false,\"s\":\"x\",\"y\":null}\n"
                "{\"i\":null,\"l\":null,\"f\":null,\"d\":null,\"b\":null,"
                "\"s\":\"\",\"y\":\"\"}\n"
                "{\"i\":null,\"l\":null,\"f\":null,\"d\":null,\"b\":null,"
                "\"s\":null,\"y\":null}\n");
}
END_TEST

START_TEST(import_csv_lists_and_json_cells)
{
    EXPECT_DUMP(
        "M { int id; ListOfString genres; SetOfInteger n; "
        "ListOfItem items; Item best; }\n"
        "Item { int q; string name; }\nString { string value; }\n"
        "Integer { int value; }\nListOfString List<String>;\n"
        "SetOfInteger Set<Integer>;\nListOfItem List<Item>;\n",
        "M", "c.csv",
        "id,genres,n,items,best\n"
        "1,\"Crime, Drama\",\"3,1\",\"[{\"\"q\"\":2,\"\"name\"\":\"\"x\"\"}]\","
        "\"{\"\"q\"\":1}\"\n"
        "2,\"[\"\"a,b\"\"]\",,[],\n",
        "{\"id\":1,\"genres\":[{\"value\":\"Crime\"},{\"value\":"
        "\"Drama\"}],\"n\":[{\"value\":1},{\"value\":3}],\"items\":"
        "[{\"q\":2,\"name\":\"x\"}],\"best\":{\"q\":1,\"name\":null}}\n"
        "{\"id\":2,\"genres\":[{\"value\":\"a,b\"}],\"n\":null,"
        "\"items\":[],\"best\":null}\n");
}
END_TEST

START_TEST(import_csv_errors)
{
    const char *dsl = "T { int a; string b; }";
    EXPECT_ERROR(dsl, "T", "e.csv", "a,b\n1,\"x\n", HOLLOW_EINVAL,
                 "e.csv:2:3: unterminated quoted cell");
    EXPECT_ERROR(dsl, "T", "e.csv", "a,b\n1,\"x\"y\n", HOLLOW_EINVAL,
                 "e.csv:2:6: unexpected character after a quoted cell");
    EXPECT_ERROR(dsl, "T", "e.csv", "a,b\n1,x\"y\n", HOLLOW_EINVAL,
                 "e.csv:2:4: quote inside an unquoted cell");
    EXPECT_ERROR(dsl, "T", "e.csv", "a,b\n1,2,3\n", HOLLOW_EINVAL,
                 "e.csv:2:5: more cells than the header's 2 columns");
    EXPECT_ERROR(dsl, "T", "e.csv", "a,b\n1\n", HOLLOW_EINVAL,
                 "e.csv:2:1: 1 cells, the header has 2 columns");
    EXPECT_ERROR(dsl, "T", "e.csv", "a,b\n1,x\nz,y\n", HOLLOW_EINVAL,
                 "e.csv:3:1: T.a: expected an integer (int), got 'z'");
    EXPECT_ERROR(dsl, "T", "e.csv", "a,b\n99999999999,x\n", HOLLOW_EINVAL,
                 "e.csv:2:1: T.a: integer out of range of int");
    EXPECT_ERROR(dsl, "T", "e.csv", "a,a\n", HOLLOW_EINVAL,
                 "e.csv:1:3: column 'a' named twice");
    EXPECT_ERROR(dsl, "T", "e.csv", "", HOLLOW_EINVAL,
                 "e.csv:1:1: no header row");
    EXPECT_ERROR("T { boolean b; }", "T", "e.csv", "b\nyes\n", HOLLOW_EINVAL,
                 "e.csv:2:1: T.b: expected true or false, got 'yes'");
    EXPECT_ERROR("T { double d; }", "T", "e.csv", "d\n1.5x\n", HOLLOW_EINVAL,
                 "T.d: expected a number, got '1.5x'");
    EXPECT_ERROR("T { ListOfI l; }\nI { int a; int b; }\nListOfI List<I>;", "T",
                 "e.csv", "l\n\"[{\"\"a\"\":x}]\"\n", HOLLOW_EINVAL,
                 "e.csv:2:");
    EXPECT_ERROR("T { ListOfInteger l; }\nInteger { int value; }\n"
                 "ListOfInteger List<Integer>;",
                 "T", "e.csv", "l\n\"1,,2\"\n", HOLLOW_EINVAL,
                 "ListOfInteger: empty element");
    /* unknown columns: counted, or an error with strict */
    int rc;
    hollow_import_stats st;
    char *d =
        import_as(dsl, "T", "u.csv", "a,zz,b\n1,2,x\n3,,y\n", NULL, &rc, &st);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(st.unknown_fields, 2);
    free(d);
    hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
    o.strict = true;
    d = import_as(dsl, "T", "u.csv", "a,zz,b\n1,2,x\n", &o, &rc, &st);
    ck_assert_ptr_null(d);
    ck_assert_str_eq(hollow_error_last()->message,
                     "u.csv:2:3: T has no field 'zz'");
}
END_TEST

/* --------------------------------------------------- API, threads, files */

START_TEST(import_root_type)
{
    hollow_schema_list *l = schemas(MOVIES);
    const char *root = NULL;
    HT_OK(hollow_import_root_type(&root, l));
    ck_assert_str_eq(root, "Movie");
    hollow_schema_list_free(l);
    l = schemas("A { int x; }\nB { int y; }\nC { A a; }");
    ck_assert_int_eq(hollow_import_root_type(&root, l), HOLLOW_EINVAL);
    ck_assert_ptr_null(root);
    ck_assert_str_eq(hollow_error_last()->message,
                     "several root types (B, C): name the type");
    hollow_schema_list_free(l);
    l = schemas("ListOfA List<A>;\nA { ListOfA kids; }");
    ck_assert_int_eq(hollow_import_root_type(&root, l), HOLLOW_ENOTFOUND);
    hollow_schema_list_free(l);
    /* type NULL: the root */
    l = schemas("A { B b; }\nB { int x; }");
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    HT_OK(hollow_import_buffer(NULL, ws, NULL, "r.jsonl", "{\"b\":{\"x\":1}}",
                               13, NULL));
    char *d = deep_dump(ws, "A");
    ck_assert_str_eq(d, "{\"b\":{\"x\":1}}\n");
    free(d);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(import_api_errors)
{
    hollow_schema_list *l = schemas("A { int x; }\nL List<A>;");
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    ck_assert_int_eq(
        hollow_import_buffer(NULL, ws, "A", "x.txt", "{}", 2, NULL),
        HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(
        strstr(hollow_error_last()->message, "unknown format"));
    ck_assert_int_eq(
        hollow_import_buffer(NULL, ws, "Nope", "x.json", "{}", 2, NULL),
        HOLLOW_EINVAL);
    ck_assert_int_eq(
        hollow_import_buffer(NULL, ws, "L", "x.json", "{}", 2, NULL),
        HOLLOW_EINVAL);
    hollow_import_stats st;
    ck_assert_int_eq(
        hollow_import_file(&st, ws, "A", "/nonexistent/x.json", NULL),
        HOLLOW_EIO);
    ck_assert_int_eq(hollow_import_file(&st, ws, "A", "-", NULL),
                     HOLLOW_EINVAL);
    hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
    o.version = 99;
    ck_assert_int_eq(hollow_import_buffer(NULL, ws, "A", "x.json", "{}", 2, &o),
                     HOLLOW_EINVAL);
    o = (hollow_import_options)HOLLOW_IMPORT_OPTIONS_INIT;
    o.format = HOLLOW_IMPORT_JSONL;
    HT_OK(hollow_import_buffer(&st, ws, "A", "x.txt", "{\"x\":1}\n\n  \n{}", 14,
                               &o));
    ck_assert_uint_eq(st.records, 2);
    ck_assert_uint_eq(st.bytes, 14);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    ck_assert_int_eq(hollow_import_format_of("a.JSON"), HOLLOW_IMPORT_JSON);
    ck_assert_int_eq(hollow_import_format_of("a.ndjson"), HOLLOW_IMPORT_JSONL);
    ck_assert_int_eq(hollow_import_format_of("a.jsonl"), HOLLOW_IMPORT_JSONL);
    ck_assert_int_eq(hollow_import_format_of("a.Csv"), HOLLOW_IMPORT_CSV);
    ck_assert_int_eq(hollow_import_format_of("a.txt"), HOLLOW_IMPORT_AUTO);
}
END_TEST

/* "-" reads standard input (each Check test runs in its own process) */
START_TEST(import_stdin)
{
    char dir[256], path[512];
    ht_tmpdir(dir, sizeof dir, "import");
    snprintf(path, sizeof path, "%s/in", dir);
    ht_write_file(path, "a\n1\n2\n", 6);
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    hollow_schema_list *l = schemas("T { int a; }");
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
    o.format = HOLLOW_IMPORT_CSV;
    hollow_import_stats st;
    HT_OK(hollow_import_file(&st, ws, "T", "-", &o));
    ck_assert_uint_eq(st.records, 2);
    char *d = deep_dump(ws, "T");
    ck_assert_str_eq(d, "{\"a\":1}\n{\"a\":2}\n");
    free(d);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    ht_remove_dir(dir);
}
END_TEST

static void progress_cb(uint64_t done, uint64_t total, void *payload)
{
    uint64_t *last = payload;
    ck_assert_uint_le(done, total);
    ck_assert_uint_ge(done, *last);
    *last = done;
}

/* several MiB of JSON lines: the same ordinals with 1 and 4 threads, and
 * an error in a late chunk reported at its line */
START_TEST(import_threads_keep_file_order)
{
    const char *dsl = "R { long id; string name; ListOfString tags; }\n"
                      "String { string value; }\nListOfString List<String>;";
    size_t cap = 6u << 20, n = 0;
    char *data = malloc(cap + 200);
    uint64_t lines = 0;
    while (n < cap) {
        n += (size_t)sprintf(
            data + n,
            "{\"id\":%llu,\"name\":\"n%llu\",\"tags\":"
            "[\"t%llu\",\"u%llu\"]}\n",
            (unsigned long long)lines, (unsigned long long)(lines % 977),
            (unsigned long long)(lines % 13), (unsigned long long)(lines % 7));
        lines++;
    }
    uint32_t sums[2];
    for (int k = 0; k < 2; k++) {
        hollow_schema_list *l = schemas(dsl);
        hollow_write_state *ws = NULL;
        HT_OK(hollow_write_state_new(&ws, l, NULL));
        hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
        o.threads = k == 0 ? 1 : 4;
        uint64_t last = 0;
        o.progress = progress_cb;
        o.progress_payload = &last;
        hollow_import_stats st;
        HT_OK(hollow_import_buffer(&st, ws, NULL, "big.jsonl", data, n, &o));
        ck_assert_uint_eq(st.records, lines);
        ck_assert_uint_eq(last, n);
        HT_OK(hollow_write_state_checksum(&sums[k], ws));
        hollow_write_state_free(ws);
        hollow_schema_list_free(l);
    }
    ck_assert_uint_eq(sums[0], sums[1]);
    /* a bad line near the end */
    memcpy(data + n - 40, "\n{\"id\":x}", 9);
    hollow_schema_list *l = schemas(dsl);
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
    o.threads = 3;
    ck_assert_int_eq(
        hollow_import_buffer(NULL, ws, NULL, "big.jsonl", data, n, &o),
        HOLLOW_EINVAL);
    char want[64];
    snprintf(want, sizeof want, "big.jsonl:%llu:", (unsigned long long)lines);
    ck_assert_msg(strncmp(hollow_error_last()->message, want, strlen(want)) ==
                      0,
                  "%s", hollow_error_last()->message);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    free(data);
}
END_TEST

/* --------------------------------------------------------- inference */

static hollow_schema_list *infer_text(const char *name, const char *data)
{
    char dir[256], path[512];
    ht_tmpdir(dir, sizeof dir, "import");
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ht_write_file(path, data, strlen(data));
    hollow_import_source src = {NULL, path, HOLLOW_IMPORT_AUTO};
    hollow_schema_list *l = NULL;
    int rc = hollow_import_infer(&l, &src, 1, NULL);
    ht_remove_dir(dir);
    return rc == 0 ? l : NULL;
}

static void expect_schema(hollow_schema_list *l, const char *want)
{
    ck_assert_msg(l != NULL, "inference failed: %s",
                  hollow_error_last()->message);
    char *txt = NULL;
    HT_OK(hollow_schema_list_print(&txt, l));
    ck_assert_str_eq(txt, want);
    /* the text parses back to the same schemas */
    hollow_schema_list *back = schemas(txt);
    ck_assert_uint_eq(hollow_schema_list_count(back),
                      hollow_schema_list_count(l));
    for (size_t i = 0; i < hollow_schema_list_count(l); i++)
        ck_assert(hollow_schema_equal(
            hollow_schema_list_get(l, i),
            hollow_schema_list_find(
                back, hollow_schema_name(hollow_schema_list_get(l, i)))));
    hollow_schema_list_free(back);
    hollow_free(txt);
    hollow_schema_list_free(l);
}

START_TEST(import_infer_rules)
{
    expect_schema(
        infer_text("my-data.jsonl",
                   "{\"a\":1,\"b\":3000000000,\"c\":1.5,\"d\":true,\"e\":\"x\","
                   "\"f\":null,\"g\":[\"s\"],\"h\":{\"k\":1},\"i\":1}\n"
                   "{\"a\":2,\"c\":2,\"e\":3,\"g\":[],\"i\":2.5,\"j\":[[1]],"
                   "\"items\":[{\"q\":1}],\"m\":1,\"n\":[true, 1]}\n"
                   "{\"m\":4294967296,\"d\":false}\n"),
        "MyData {\n\tint a;\n\tlong b;\n\tdouble c;\n\tboolean d;\n\tstring "
        "e;\n\tstring f;\n\tListOfString g;\n\tH h;\n\tdouble i;\n\t"
        "ListOfListOfInteger j;\n\tListOfItem items;\n\tlong m;\n\t"
        "ListOfString n;\n}\n\n"
        "String {\n\tstring value;\n}\n\nListOfString List<String>;\n\n"
        "H {\n\tint k;\n}\n\nInteger {\n\tint value;\n}\n\n"
        "ListOfInteger List<Integer>;\n\nListOfListOfInteger "
        "List<ListOfInteger>;\n\nItem {\n\tint q;\n}\n\nListOfItem "
        "List<Item>;\n\n");
    ck_assert_ptr_null(infer_text("x.jsonl", "{\"a\":1}\n{\"a\":[1]}\n"));
    ck_assert_ptr_nonnull(
        strstr(hollow_error_last()->message, "X.a holds objects or arrays"));
    ck_assert_ptr_null(infer_text("x.jsonl", "{\"a b\":1}\n"));
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message,
                                 ":1:2: key 'a b' is not a field name"));
    ck_assert_ptr_null(infer_text("x.jsonl", "{\"a\":1}\n[]\n"));
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message,
                                 ":2:1: a record must be an object"));
    ck_assert_ptr_null(infer_text("x.jsonl", "{\"a\":1}\n{\"a\":\n"));
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "x.jsonl:2:"));
}
END_TEST

START_TEST(import_infer_csv)
{
    expect_schema(
        infer_text("t.csv", "a,b,c,d,e,f,g\n1,-5000000000,1.5,TRUE,x,,"
                            "\"[{\"\"p\"\":1}]\"\n2,3,4,false,5,,[]\n"),
        "T {\n\tint a;\n\tlong b;\n\tdouble c;\n\tboolean d;\n\tstring e;\n\t"
        "string f;\n\tListOfG g;\n}\n\nG {\n\tint p;\n}\n\nListOfG "
        "List<G>;\n\n");
}
END_TEST

/* two sources: each its root type; an object type met in both merges */
START_TEST(import_infer_two_sources)
{
    char dir[256], a[512], b[512];
    ht_tmpdir(dir, sizeof dir, "import");
    snprintf(a, sizeof a, "%s/a.jsonl", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    ht_write_file(a, "{\"id\":1,\"address\":{\"city\":\"X\"}}\n", 32);
    ht_write_file(b, "n,address\n1,\"{\"\"zip\"\":7}\"\n", 26);
    hollow_import_source src[2] = {{"Person", a, HOLLOW_IMPORT_AUTO},
                                   {NULL, b, HOLLOW_IMPORT_AUTO}};
    hollow_schema_list *l = NULL;
    HT_OK(hollow_import_infer(&l, src, 2, NULL));
    ht_remove_dir(dir);
    expect_schema(l, "Person {\n\tint id;\n\tAddress address;\n}\n\n"
                     "Address {\n\tstring city;\n\tint zip;\n}\n\n"
                     "B {\n\tint n;\n\tAddress address;\n}\n\n");
    hollow_import_source bad = {"no name", "x.json", HOLLOW_IMPORT_AUTO};
    ck_assert_int_eq(hollow_import_infer(&l, &bad, 1, NULL), HOLLOW_EINVAL);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(hollow_import_infer(&l, src, 0, NULL), HOLLOW_EINVAL);
}
END_TEST

/* every go-hollow fixture: inferred, printed, parsed back, imported */
START_TEST(import_go_hollow_fixtures)
{
    static const struct {
        const char *file;
        uint64_t records;
    } fixtures[] = {
        {"customers.csv", 30},
        {"devices.csv", 20},
        {"metrics.csv", 48},
        {"movies.csv", 50},
        {"orders.csv", 20},
        {"ratings.csv", 54},
        {"person_data.json", 3},
        {"person_data_v2.json", 4},
        {"realistic_dataset.json", 12},
        {"simple_test.json", 1},
        {"test_data.json", 5},
    };
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/go-hollow/%s", HOLLOW_FIXTURES_DIR,
                 fixtures[i].file);
        hollow_import_source src = {NULL, path, HOLLOW_IMPORT_AUTO};
        hollow_schema_list *l = NULL;
        HT_OK(hollow_import_infer(&l, &src, 1, NULL));
        char *txt = NULL;
        HT_OK(hollow_schema_list_print(&txt, l));
        hollow_schema_list *back = schemas(txt);
        hollow_free(txt);
        hollow_schema_list_free(l);
        hollow_write_state *ws = NULL;
        HT_OK(hollow_write_state_new(&ws, back, NULL));
        hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
        o.strict = true;
        hollow_import_stats st;
        HT_OK(hollow_import_file(&st, ws, NULL, path, &o));
        ck_assert_uint_eq(st.records, fixtures[i].records);
        ck_assert_uint_eq(st.unknown_fields, 0);
        const char *root = NULL;
        HT_OK(hollow_import_root_type(&root, back));
        char *dump = deep_dump(ws, root);
        size_t lines = 0;
        for (const char *p = dump; *p; p++)
            lines += *p == '\n';
        /* records may be equal (then one record), never more */
        ck_assert_uint_le(lines, fixtures[i].records);
        ck_assert_uint_gt(lines, 0);
        free(dump);
        hollow_write_state_free(ws);
        hollow_schema_list_free(back);
    }
}
END_TEST

/* orders.csv with a hand-written schema: the items cell's JSON */
START_TEST(import_go_hollow_orders)
{
    char path[512];
    snprintf(path, sizeof path, "%s/go-hollow/orders.csv", HOLLOW_FIXTURES_DIR);
    hollow_schema_list *l = schemas(
        "Order { long id; long customerId; long amount; string currency; "
        "string status; long timestamp; ListOfItem items; }\n"
        "Item { long productId; int quantity; long pricePerUnit; string "
        "productName; }\nListOfItem List<Item>;\n");
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    hollow_import_stats st;
    HT_OK(hollow_import_file(&st, ws, "Order", path, NULL));
    char *dump = deep_dump(ws, "Order");
    ck_assert_ptr_nonnull(strstr(
        dump, "{\"id\":2001,\"customerId\":1001,\"amount\":2499,\"currency\":"
              "\"USD\",\"status\":\"delivered\",\"timestamp\":1577836800,"
              "\"items\":[{\"productId\":5001,\"quantity\":1,\"pricePerUnit\":"
              "2499,\"productName\":\"Laptop\"}]}\n"));
    free(dump);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
}
END_TEST

static Suite *import_suite(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, import_scalars_json);
    tcase_add_test(tc, import_nulls_and_missing);
    tcase_add_test(tc, import_exact_doubles);
    tcase_add_test(tc, import_numbers_into_strings);
    tcase_add_test(tc, import_range_errors);
    tcase_add_test(tc, import_type_errors);
    tcase_add_test(tc, import_nested_lists_sets_maps);
    tcase_add_test(tc, import_map_scalar_keys);
    tcase_add_test(tc, import_reference_errors);
    tcase_add_test(tc, import_unknown_fields);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, import_malformed_json);
    tcase_add_test(tc, import_invalid_utf8);
    tcase_add_test(tc, import_depth_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("csv");
    tcase_add_test(tc, import_csv_cells);
    tcase_add_test(tc, import_csv_lists_and_json_cells);
    tcase_add_test(tc, import_csv_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, import_root_type);
    tcase_add_test(tc, import_api_errors);
    tcase_add_test(tc, import_stdin);
    tcase_add_test(tc, import_threads_keep_file_order);
    suite_add_tcase(s, tc);
    tc = tcase_create("infer");
    tcase_add_test(tc, import_infer_rules);
    tcase_add_test(tc, import_infer_csv);
    tcase_add_test(tc, import_infer_two_sources);
    tcase_add_test(tc, import_go_hollow_fixtures);
    tcase_add_test(tc, import_go_hollow_orders);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(import_suite()); }
