/*
 * hollow_schema_parse_capnp(): .capnp schemas mapped to Hollow schemas.
 * The real Cap'n Proto compiler (`capnp compile -o-`, Debian capnproto)
 * is the oracle for what a valid file is and on which line an invalid one
 * fails; the mapping rules are checked on the printed schemas and through
 * the inspection API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hollow/schema.h"
#include "testhelp.h"

#define FIXTURES HOLLOW_TESTS_DIR "/fixtures/capnp"
#define INCLUDE_DIR HOLLOW_TESTS_DIR "/../include"

static const char *const VALID[] = {"common.capnp", "imports.capnp",
                                    "movies.capnp", "people.capnp"};
static const char *const INVALID[] = {
    "duplicate_field.capnp", "no_file_id.capnp",   "skipped_ordinal.capnp",
    "syntax_error.capnp",    "unknown_type.capnp", "unterminated.capnp"};

/* Run `capnp compile -o- [-I inc] path`: its exit status, and the line of
 * its first "FILE:LINE:..." error (0 when none). */
static int oracle(const char *path, const char *inc, int *line)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "capnp compile -o- %s%s '%s' 2>&1 >/dev/null",
             inc ? "-I " : "", inc ? inc : "", path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char first[4096] = "";
    if (fgets(first, sizeof first, p) == NULL)
        first[0] = '\0';
    char rest[4096];
    while (fgets(rest, sizeof rest, p) != NULL)
        ;
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st), "capnp did not run: %s", cmd);
    const char *at = strstr(first, ".capnp:");
    *line = at ? atoi(at + 7) : 0;
    return WEXITSTATUS(st);
}

/* the line in our "FILE:LINE: message" */
static int our_line(void)
{
    const char *at = strstr(hollow_error_last()->message, ".capnp:");
    return at ? atoi(at + 7) : 0;
}

static hollow_schema_list *parse_ok(const char *path,
                                    const hollow_capnp_options *o)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse_capnp(&l, path, o));
    ck_assert_ptr_nonnull(l);
    return l;
}

static char *print_list(const hollow_schema_list *l)
{
    char *text = NULL;
    HT_OK(hollow_schema_list_print(&text, l));
    return text;
}

/* write `text` as dir/name and return the path (static buffer) */
static const char *put(const char *dir, const char *name, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ht_write_file(path, text, strlen(text));
    return path;
}

/* ------------------------------------------------------------ fixtures */

START_TEST(capnp_valid_fixtures_match_compiler)
{
    for (size_t i = 0; i < sizeof VALID / sizeof *VALID; i++) {
        char path[1024];
        int line;
        snprintf(path, sizeof path, "%s/%s", FIXTURES, VALID[i]);
        ck_assert_int_eq(oracle(path, NULL, &line), 0);
        hollow_schema_list *l = parse_ok(path, NULL);
        ck_assert_uint_gt(hollow_schema_list_count(l), 0);
        hollow_schema_list_free(l);
    }
}
END_TEST

START_TEST(capnp_invalid_fixtures_match_compiler_line)
{
    for (size_t i = 0; i < sizeof INVALID / sizeof *INVALID; i++) {
        char path[1024];
        int line = 0;
        snprintf(path, sizeof path, "%s/invalid/%s", FIXTURES, INVALID[i]);
        ck_assert_int_eq(oracle(path, NULL, &line), 1);
        ck_assert_int_gt(line, 0);
        hollow_schema_list *l = NULL;
        ck_assert_int_eq(hollow_schema_parse_capnp(&l, path, NULL),
                         HOLLOW_EPARSE);
        ck_assert_ptr_null(l);
        const char *msg = hollow_error_last()->message;
        ck_assert_msg(strncmp(msg, path, strlen(path)) == 0, "%s", msg);
        ck_assert_msg(our_line() == line, "%s: compiler line %d, ours: %s",
                      INVALID[i], line, msg);
    }
}
END_TEST

START_TEST(capnp_people_mapping)
{
    hollow_schema_list *l = parse_ok(FIXTURES "/people.capnp", NULL);
    char *text = print_list(l);
    ck_assert_str_eq(text, "Person {\n\tlong id;\n\tstring name;\n"
                           "\tstring email;\n\tstring phone;\n"
                           "\tAddress address;\n\tlong birthDate;\n"
                           "\tboolean isActive;\n\tRole role;\n}\n\n"
                           "Address {\n\tstring street;\n\tstring city;\n"
                           "\tstring state;\n\tstring zipCode;\n"
                           "\tstring country;\n}\n\n"
                           "Role {\n\tstring _name;\n}\n\n");
    hollow_free(text);
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(capnp_movies_mapping)
{
    hollow_schema_list *l = parse_ok(FIXTURES "/movies.capnp", NULL);
    const hollow_schema *m = hollow_schema_list_find(l, "Movie");
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(hollow_schema_field_type(m, 0), HOLLOW_FIELD_LONG);
    ck_assert_int_eq(hollow_schema_field_type(m, 2), HOLLOW_FIELD_INT);
    ck_assert_str_eq(hollow_schema_field_ref_type(m, 3), "ListOfString");
    ck_assert_str_eq(hollow_schema_field_ref_type(m, 4), "ListOfRating");
    ck_assert_int_eq(hollow_schema_field_type(m, 5), HOLLOW_FIELD_BYTES);
    ck_assert_int_eq(hollow_schema_field_type(m, 6), HOLLOW_FIELD_DOUBLE);
    const hollow_schema *ls = hollow_schema_list_find(l, "ListOfString");
    ck_assert_int_eq(hollow_schema_kind_of(ls), HOLLOW_SCHEMA_LIST);
    ck_assert_str_eq(hollow_schema_element_type(ls), "String");
    const hollow_schema *s = hollow_schema_list_find(l, "String");
    ck_assert_uint_eq(hollow_schema_field_count(s), 1);
    ck_assert_str_eq(hollow_schema_field_name(s, 0), "value");
    ck_assert_int_eq(hollow_schema_field_type(s, 0), HOLLOW_FIELD_STRING);
    const hollow_schema *r = hollow_schema_list_find(l, "Rating");
    ck_assert_int_eq(hollow_schema_field_type(r, 2), HOLLOW_FIELD_FLOAT);
    ck_assert_int_eq(hollow_schema_field_type(r, 3), HOLLOW_FIELD_LONG);
    ck_assert_uint_eq(hollow_schema_list_count(l), 5);
    hollow_schema_list_free(l);
}
END_TEST

/* -------------------------------------------------------------- mapping */

START_TEST(capnp_every_scalar_and_list)
{
    char dir[512];
    ht_tmpdir(dir, sizeof dir, "capnp");
    const char *p =
        put(dir, "all.capnp",
            "@0xd6b3f1c2a4e58990;\n"
            "struct All {\n"
            "  b @0 :Bool; i8 @1 :Int8; i16 @2 :Int16; i32 @3 :Int32;\n"
            "  u8 @4 :UInt8; u16 @5 :UInt16; i64 @6 :Int64; u32 @7 :UInt32;\n"
            "  u64 @8 :UInt64; f32 @9 :Float32; f64 @10 :Float64;\n"
            "  t @11 :Text; d @12 :Data; s @13 :Inner; e @14 :Color;\n"
            "  lb @15 :List(Bool); li @16 :List(Int16); lu @17 :List(UInt8);\n"
            "  ll @18 :List(Int64); lw @19 :List(UInt32);\n"
            "  lf @20 :List(Float32); ld @21 :List(Float64);\n"
            "  lt @22 :List(Text); ls @23 :List(Inner); le @24 :List(Color);\n"
            "  lll @25 :List(List(Text));\n"
            "  struct Inner { x @0 :Int32; }\n"
            "}\n"
            "enum Color { red @0; green @1; }\n");
    int line;
    ck_assert_int_eq(oracle(p, NULL, &line), 0);
    hollow_schema_list *l = parse_ok(p, NULL);
    const hollow_schema *a = hollow_schema_list_find(l, "All");
    static const hollow_field_type want[] = {
        HOLLOW_FIELD_BOOLEAN, HOLLOW_FIELD_INT,    HOLLOW_FIELD_INT,
        HOLLOW_FIELD_INT,     HOLLOW_FIELD_INT,    HOLLOW_FIELD_INT,
        HOLLOW_FIELD_LONG,    HOLLOW_FIELD_LONG,   HOLLOW_FIELD_LONG,
        HOLLOW_FIELD_FLOAT,   HOLLOW_FIELD_DOUBLE, HOLLOW_FIELD_STRING,
        HOLLOW_FIELD_BYTES};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        ck_assert_msg(hollow_schema_field_type(a, i) == want[i], "field %s",
                      hollow_schema_field_name(a, i));
    static const char *const refs[][2] = {{"s", "Inner"},
                                          {"e", "Color"},
                                          {"lb", "ListOfBoolean"},
                                          {"li", "ListOfInteger"},
                                          {"lu", "ListOfInteger"},
                                          {"ll", "ListOfLong"},
                                          {"lw", "ListOfLong"},
                                          {"lf", "ListOfFloat"},
                                          {"ld", "ListOfDouble"},
                                          {"lt", "ListOfString"},
                                          {"ls", "ListOfInner"},
                                          {"le", "ListOfColor"},
                                          {"lll", "ListOfListOfString"}};
    for (size_t i = 0; i < sizeof refs / sizeof *refs; i++) {
        int f = hollow_schema_field_index(a, refs[i][0]);
        ck_assert_int_ge(f, 0);
        ck_assert_int_eq(hollow_schema_field_type(a, (size_t)f),
                         HOLLOW_FIELD_REFERENCE);
        ck_assert_str_eq(hollow_schema_field_ref_type(a, (size_t)f),
                         refs[i][1]);
    }
    static const struct {
        const char *name;
        hollow_field_type type;
    } wrappers[] = {
        {"Boolean", HOLLOW_FIELD_BOOLEAN}, {"Integer", HOLLOW_FIELD_INT},
        {"Long", HOLLOW_FIELD_LONG},       {"Float", HOLLOW_FIELD_FLOAT},
        {"Double", HOLLOW_FIELD_DOUBLE},   {"String", HOLLOW_FIELD_STRING}};
    for (size_t i = 0; i < sizeof wrappers / sizeof *wrappers; i++) {
        const hollow_schema *w = hollow_schema_list_find(l, wrappers[i].name);
        ck_assert_msg(w != NULL, "no %s", wrappers[i].name);
        ck_assert_uint_eq(hollow_schema_field_count(w), 1);
        ck_assert_str_eq(hollow_schema_field_name(w, 0), "value");
        ck_assert_int_eq(hollow_schema_field_type(w, 0), wrappers[i].type);
    }
    const hollow_schema *lll = hollow_schema_list_find(l, "ListOfListOfString");
    ck_assert_str_eq(hollow_schema_element_type(lll), "ListOfString");
    const hollow_schema *c = hollow_schema_list_find(l, "Color");
    ck_assert_str_eq(hollow_schema_field_name(c, 0), "_name");
    ck_assert_int_eq(hollow_schema_field_type(c, 0), HOLLOW_FIELD_STRING);
    ck_assert_ptr_nonnull(hollow_schema_list_find(l, "Inner"));
    /* the printed text reads back to an equal list */
    char *text = print_list(l);
    hollow_schema_list *back = NULL;
    HT_OK(hollow_schema_parse(&back, text, strlen(text)));
    ck_assert_uint_eq(hollow_schema_list_count(back),
                      hollow_schema_list_count(l));
    hollow_schema_list_free(back);
    hollow_free(text);
    hollow_schema_list_free(l);
    ht_remove_dir(dir);
}
END_TEST

/* Each refused feature: the compiler accepts the file, we name the file,
 * struct and field. */
START_TEST(capnp_unsupported_features_named)
{
    static const struct {
        const char *body;
        const char *message;
    } cases[] = {
        {"struct Person { id @0 :UInt32; pet :union { dog @1 :Text; "
         "cat @2 :Text; } }",
         "struct Person field pet: unions are not supported"},
        {"struct Person { id @0 :UInt32; union { dog @1 :Text; "
         "cat @2 :Text; } }",
         "struct Person field dog: unions are not supported"},
        {"struct Person { id @0 :UInt32; home :group { city @1 :Text; } }",
         "struct Person field home: groups are not supported"},
        {"interface Svc { ping @0 (); }\n"
         "struct Person { id @0 :UInt32; svc @1 :Svc; }",
         "interface Svc: interfaces are not supported"},
        {"struct Person { id @0 :UInt32; any @1 :AnyPointer; }",
         "struct Person field any: AnyPointer is not supported"},
        {"struct Person { id @0 :UInt32; nothing @1 :Void; }",
         "struct Person field nothing: Void is not supported"},
        {"struct Person { id @0 :UInt32; blobs @1 :List(Data); }",
         "struct Person field blobs: List(Data) is not supported"},
        {"struct Box(T) { v @0 :T; }\n"
         "struct Person { id @0 :UInt32; b @1 :Box(Text); }",
         "generic structs are not supported"},
        {"struct String { v @0 :Text; }\n"
         "struct Person { tags @0 :List(Text); }",
         "two types are named String"},
    };
    char dir[512];
    ht_tmpdir(dir, sizeof dir, "capnp");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[1024];
        snprintf(text, sizeof text, "@0xd6b3f1c2a4e58991;\n%s\n",
                 cases[i].body);
        const char *p = put(dir, "people.capnp", text);
        int line;
        ck_assert_msg(oracle(p, NULL, &line) == 0, "compiler refused %zu", i);
        hollow_schema_list *l = NULL;
        ck_assert_int_eq(hollow_schema_parse_capnp(&l, p, NULL), HOLLOW_EINVAL);
        ck_assert_ptr_null(l);
        const char *msg = hollow_error_last()->message;
        ck_assert_msg(strncmp(msg, p, strlen(p)) == 0, "%s", msg);
        ck_assert_msg(strstr(msg, cases[i].message) != NULL, "case %zu: %s", i,
                      msg);
    }
    ht_remove_dir(dir);
}
END_TEST

/* ---------------------------------------------------------- primary key */

START_TEST(capnp_primary_key_annotation_and_option)
{
    char dir[512];
    ht_tmpdir(dir, sizeof dir, "capnp");
    const char *p =
        put(dir, "keyed.capnp",
            "@0xd6b3f1c2a4e58992;\n"
            "using Hollow = import \"/hollow/hollow.capnp\";\n"
            "struct Movie $Hollow.primaryKey(\"id, title\") {\n"
            "  id @0 :UInt32; title @1 :Text; studio @2 :Studio;\n"
            "}\n"
            "struct Studio $Hollow.primaryKey(\"name\") { name @0 :Text; }\n");
    int line;
    ck_assert_int_eq(oracle(p, INCLUDE_DIR, &line), 0);
    const char *dirs[] = {INCLUDE_DIR, NULL};
    hollow_capnp_options o = HOLLOW_CAPNP_OPTIONS_INIT;
    o.import_dirs = dirs;
    hollow_schema_list *l = parse_ok(p, &o);
    const hollow_schema *m = hollow_schema_list_find(l, "Movie");
    ck_assert_uint_eq(hollow_schema_key_count(m), 2);
    ck_assert_str_eq(hollow_schema_key_path(m, 0), "id");
    ck_assert_str_eq(hollow_schema_key_path(m, 1), "title");
    char *text = print_list(l);
    ck_assert_ptr_nonnull(strstr(text, "Movie @PrimaryKey(id, title) {"));
    ck_assert_ptr_nonnull(strstr(text, "Studio @PrimaryKey(name) {"));
    hollow_free(text);
    hollow_schema_list_free(l);

    /* the option replaces the annotation of its type only */
    const char *keys[] = {"Movie=studio.name", NULL};
    o.primary_keys = keys;
    l = parse_ok(p, &o);
    m = hollow_schema_list_find(l, "Movie");
    ck_assert_uint_eq(hollow_schema_key_count(m), 1);
    ck_assert_str_eq(hollow_schema_key_path(m, 0), "studio.name");
    ck_assert_uint_eq(
        hollow_schema_key_count(hollow_schema_list_find(l, "Studio")), 1);
    hollow_schema_list_free(l);

    /* bad options */
    static const char *const bad[][2] = {
        {"Movie", "expected TYPE=field"},
        {"Movie=", "expected TYPE=field"},
        {"=id", "expected TYPE=field"},
        {"Movie=id,,title", "expected TYPE=field"},
        {"Nope=id", "primary key for Nope"},
        {"Movie=nope", "nope"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *k[] = {bad[i][0], NULL};
        o.primary_keys = k;
        l = NULL;
        ck_assert_int_eq(hollow_schema_parse_capnp(&l, p, &o), HOLLOW_EINVAL);
        ck_assert_ptr_null(l);
        ck_assert_msg(strstr(hollow_error_last()->message, bad[i][1]) != NULL,
                      "%s: %s", bad[i][0], hollow_error_last()->message);
    }

    /* without the import dir the compiler and we both refuse the import */
    ck_assert_int_eq(oracle(p, NULL, &line), 1);
    l = NULL;
    ck_assert_int_eq(hollow_schema_parse_capnp(&l, p, NULL), HOLLOW_EPARSE);
    ck_assert_int_eq(our_line(), line);
    ht_remove_dir(dir);
}
END_TEST

/* -------------------------------------------------------------- imports */

START_TEST(capnp_imports_relative_and_search_path)
{
    hollow_schema_list *l = parse_ok(FIXTURES "/imports.capnp", NULL);
    const hollow_schema *o = hollow_schema_list_find(l, "Order");
    ck_assert_str_eq(hollow_schema_field_ref_type(o, 1), "Timestamp");
    ck_assert_ptr_nonnull(hollow_schema_list_find(l, "Timestamp"));
    ck_assert_str_eq(hollow_schema_element_type(
                         hollow_schema_list_find(l, "ListOfOrderLine")),
                     "OrderLine");
    hollow_schema_list_free(l);

    /* an absolute import found through the search path */
    char dir[512], lib[600];
    ht_tmpdir(dir, sizeof dir, "capnp");
    snprintf(lib, sizeof lib, "%s/lib", dir);
    ck_assert_int_eq(mkdir(lib, 0755), 0);
    put(lib, "when.capnp",
        "@0xd6b3f1c2a4e58993;\nstruct When { at @0 :Int64; }\n");
    const char *p = put(dir, "main.capnp",
                        "@0xd6b3f1c2a4e58994;\n"
                        "using W = import \"/when.capnp\";\n"
                        "struct Event { when @0 :W.When; }\n");
    int line;
    ck_assert_int_eq(oracle(p, lib, &line), 0);
    const char *dirs[] = {"/nonexistent-first-is-error", NULL};
    hollow_capnp_options opt = HOLLOW_CAPNP_OPTIONS_INIT;
    opt.import_dirs = dirs;
    l = NULL;
    ck_assert_int_eq(hollow_schema_parse_capnp(&l, p, &opt), HOLLOW_EIO);
    dirs[0] = lib;
    l = parse_ok(p, &opt);
    ck_assert_str_eq(
        hollow_schema_field_ref_type(hollow_schema_list_find(l, "Event"), 0),
        "When");
    hollow_schema_list_free(l);

    /* without it: the compiler's verdict and line */
    ck_assert_int_eq(oracle(p, NULL, &line), 1);
    ck_assert_int_eq(hollow_schema_parse_capnp(&l, p, NULL), HOLLOW_EPARSE);
    ck_assert_int_eq(our_line(), line);

    /* an error inside an imported file names that file and its line */
    put(lib, "when.capnp",
        "@0xd6b3f1c2a4e58993;\nstruct When {\n  at @0 :Int65;\n}\n");
    ck_assert_int_eq(oracle(p, lib, &line), 1);
    ck_assert_int_eq(hollow_schema_parse_capnp(&l, p, &opt), HOLLOW_EPARSE);
    ck_assert_msg(strstr(hollow_error_last()->message, "when.capnp:3: ") !=
                      NULL,
                  "%s", hollow_error_last()->message);
    ck_assert_int_eq(line, 3);
    ht_remove_dir(dir);
}
END_TEST

/* --------------------------------------------------------------- errors */

START_TEST(capnp_bad_arguments)
{
    hollow_schema_list *l = (hollow_schema_list *)1;
    ck_assert_int_eq(hollow_schema_parse_capnp(&l, NULL, NULL), HOLLOW_EINVAL);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(hollow_schema_parse_capnp(NULL, "x.capnp", NULL),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(
        hollow_schema_parse_capnp(&l, "/nonexistent/x.capnp", NULL),
        HOLLOW_EIO);
    ck_assert_ptr_nonnull(
        strstr(hollow_error_last()->message, "/nonexistent/x.capnp"));
    hollow_capnp_options o = HOLLOW_CAPNP_OPTIONS_INIT;
    o.version = 99;
    ck_assert_int_eq(
        hollow_schema_parse_capnp(&l, FIXTURES "/people.capnp", &o),
        HOLLOW_EINVAL);
    /* a directory is not a schema file */
    ck_assert_int_lt(hollow_schema_parse_capnp(&l, FIXTURES, NULL), 0);
    ck_assert_ptr_null(l);
}
END_TEST

static Suite *capnp_suite(void)
{
    Suite *s = suite_create("schema_capnp");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, capnp_valid_fixtures_match_compiler);
    tcase_add_test(tc, capnp_invalid_fixtures_match_compiler_line);
    tcase_add_test(tc, capnp_people_mapping);
    tcase_add_test(tc, capnp_movies_mapping);
    suite_add_tcase(s, tc);
    tc = tcase_create("mapping");
    tcase_add_test(tc, capnp_every_scalar_and_list);
    tcase_add_test(tc, capnp_unsupported_features_named);
    suite_add_tcase(s, tc);
    tc = tcase_create("keys");
    tcase_add_test(tc, capnp_primary_key_annotation_and_option);
    suite_add_tcase(s, tc);
    tc = tcase_create("imports");
    tcase_add_test(tc, capnp_imports_relative_and_search_path);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, capnp_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(capnp_suite()); }
