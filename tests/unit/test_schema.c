/*
 * Unit tests of src/schema: building and inspecting schemas, the text
 * parser and canonical printer (blob-format.md §4.3), the binary codec
 * (§4.1), the schema hash (§11.7), validation and key path resolution
 * (§4.2), and the schema sorter (§3.8).
 *
 * Java ground truth: the golden vectors' schema.hollow files (kept
 * verbatim as seeds of the schema_text fuzz corpus, read from there), the
 * schema order, the `hollow.schema.hash` tag and the SHA-256 of the schema
 * envelope of their header blobs, and the Java bytes of one envelope.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/error.h"
#include "hollow/schema.h"
#include "schema/schema_int.h"
#include "testhelp.h"

#define CORPUS_DIR HOLLOW_TESTS_DIR "/../fuzz/corpus/schema_text/"

/* ------------------------------------------------------------ helpers */

/* Parse from an exact-size heap copy, so that ASan catches any read past
 * `len` (the parser must not rely on a NUL). */
static int parse_exact(hollow_schema_list **out, const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    int rc = hollow_schema_parse(out, copy, len);
    free(copy);
    return rc;
}

static hollow_schema_list *parse_ok(const char *text)
{
    hollow_schema_list *l = NULL;
    HT_OK(parse_exact(&l, text, strlen(text)));
    ck_assert_ptr_nonnull(l);
    return l;
}

static void expect_error(const char *text, int code, const char *message)
{
    hollow_schema_list *l = (hollow_schema_list *)1;
    int rc = parse_exact(&l, text, strlen(text));
    ck_assert_msg(rc == code, "parsing \"%s\": rc %d, expected %d (%s)", text,
                  rc, code, hollow_error_last()->message);
    ck_assert_ptr_null(l);
    ck_assert_str_eq(hollow_error_last()->message, message);
}

/* canonical text of s, malloc'd */
static char *print_one(const hollow_schema *s)
{
    size_t n = hollow_schema_print(NULL, 0, s);
    char *text = malloc(n + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(hollow_schema_print(text, n + 1, s), n);
    return text;
}

static void expect_print(const hollow_schema *s, const char *want)
{
    char *text = print_one(s);
    ck_assert_str_eq(text, want);
    free(text);
}

static char *read_corpus(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", CORPUS_DIR, name);
    return (char *)ht_read_file(path, len);
}

static void expect_validate_error(const char *text, const char *message)
{
    hollow_schema_list *l = parse_ok(text);
    ck_assert_int_eq(hollow_schema_list_validate(l), HOLLOW_EINVAL);
    ck_assert_str_eq(hollow_error_last()->message, message);
    hollow_schema_list_free(l);
}

/* the list's names joined by spaces */
static void expect_order(const hollow_schema_list *l, const char *want)
{
    char got[1024] = "";
    for (size_t i = 0; i < hollow_schema_list_count(l); i++) {
        if (i > 0)
            strcat(got, " ");
        strcat(got, hollow_schema_name(hollow_schema_list_get(l, i)));
    }
    ck_assert_str_eq(got, want);
}

/* What Java wrote for each golden vector: the schema text file, the
 * header's schema order (§3.8), its hollow.schema.hash tag (§11.7), and the
 * length E and SHA-256 of its schema envelope (§3.1). */
static const struct vector {
    const char *file;
    const char *order;
    int32_t hash;
    size_t envelope_len;
    const char *envelope_sha256;
} vectors[] = {
    {"vector_a_primitives.hollow", "Flags Prims", 242885321, 132,
     "3d87b23651721def4a89731fdd2c86406b2b9d85a66abd69738d4bd9238c1cbe"},
    {"vector_b_collections.hollow",
     "String HashedSetOfString ListOfString ListOfListOfString "
     "MapOfStringToString Person ListOfPerson MapOfPersonToListOfString "
     "MapOfStringToPerson SetOfPerson SetOfString Group",
     -1245469504, 828,
     "83b43e9a64122c0fc5c4a32e8e79f1303d521f6c428ad1a5bf0d567e8e8851fb"},
    {"vector_c_primary_keys.hollow", "Country Studio Film Award", -2049206509,
     346, "3110b3e5ce43700f1733c9940bc099f23cd22d1baceaf5a87bcea407270acc0f"},
    {"vector_d_sharding.hollow",
     "Integer Tag ListOfTag MapOfTagToInteger SetOfTag Item", 1611722989, 274,
     "f93fb18b5bc60e59aa612330b609dc506e2844a5679664628f18a68b620e1314"},
    {"vector_e_schema_change_v1.hollow", "Actor Movie", -2045141175, 104,
     "6f39e9320bd001f38d21eaf7917774ee9cc597df6571843092dee57f08315dca"},
    {"vector_e_schema_change_v2.hollow", "Actor Movie Review", 323224415, 170,
     "049f3761c158cdc67cb0bd06423bb3890c7e8d350c30205ffbc9f2ad7962f3da"},
    {"vector_e_schema_change_v3.hollow", "Movie Review", -895327724, 108,
     "ce599515b32b2b508775526f88b50868f1aa1ab6a70e26a5ace596d257691177"},
    {"vector_f_random_large.hollow",
     "Double Genre ListOfGenre Network Person SetOfPerson String "
     "MapOfStringToDouble Show",
     1858883865, 501,
     "34e5a57bd50177eb5c5804887489e27c610f3d9be8fbc68af2bcfcaea828d38e"},
};
#define VECTOR_COUNT (sizeof vectors / sizeof vectors[0])

/* The schemas of §4.3 / §11.7. */
static const char spec_schemas[] =
    "Actor {\n\tString name;\n\tint birthYear;\n}\n"
    "ListOfActor List<Actor>;\n"
    "MapOfStringToInteger Map<String,Integer> @HashKey(value);\n"
    "Movie @PrimaryKey(id, title.value) {\n\tint id;\n\tString title;\n"
    "\tlong revenue;\n\tListOfActor cast;\n\tbytes poster;\n}\n"
    "SetOfActor Set<Actor> @HashKey(name, birthYear);\n";

/* --------------------------------------------------------------- build */

START_TEST(schema_object_build_and_inspect)
{
    hollow_schema *s = NULL;
    HT_OK(hollow_schema_object_new(&s, "Movie"));
    HT_OK(hollow_schema_add_field(s, "id", HOLLOW_FIELD_LONG, NULL));
    HT_OK(hollow_schema_add_field(s, "title", HOLLOW_FIELD_REFERENCE,
                                  "String"));
    const char *key[] = {"id"};
    HT_OK(hollow_schema_set_key(s, key, 1));

    ck_assert_str_eq(hollow_schema_name(s), "Movie");
    ck_assert_int_eq(hollow_schema_kind_of(s), HOLLOW_SCHEMA_OBJECT);
    ck_assert_uint_eq(hollow_schema_field_count(s), 2);
    ck_assert_str_eq(hollow_schema_field_name(s, 1), "title");
    ck_assert_ptr_null(hollow_schema_field_name(s, 2));
    ck_assert_int_eq(hollow_schema_field_type(s, 0), HOLLOW_FIELD_LONG);
    ck_assert_int_eq(hollow_schema_field_type(s, 9), HOLLOW_FIELD_INT);
    ck_assert_ptr_null(hollow_schema_field_ref_type(s, 0));
    ck_assert_str_eq(hollow_schema_field_ref_type(s, 1), "String");
    ck_assert_int_eq(hollow_schema_field_index(s, "title"), 1);
    ck_assert_int_eq(hollow_schema_field_index(s, "nope"), -1);
    ck_assert_ptr_null(hollow_schema_element_type(s));
    ck_assert_ptr_null(hollow_schema_value_type(s));
    ck_assert_uint_eq(hollow_schema_key_count(s), 1);
    ck_assert_str_eq(hollow_schema_key_path(s, 0), "id");
    ck_assert_ptr_null(hollow_schema_key_path(s, 1));
    expect_print(s, "Movie @PrimaryKey(id) {\n\tlong id;\n\tString title;\n}");
    hollow_schema_free(s);
}
END_TEST

START_TEST(schema_rejects_duplicate_field)
{
    hollow_schema *s = NULL;
    HT_OK(hollow_schema_object_new(&s, "Movie"));
    HT_OK(hollow_schema_add_field(s, "id", HOLLOW_FIELD_LONG, NULL));
    ck_assert_int_eq(hollow_schema_add_field(s, "id", HOLLOW_FIELD_INT, NULL),
                     HOLLOW_EEXISTS);
    ck_assert_str_eq(hollow_error_last()->message,
                     "type Movie already has field id");
    ck_assert_uint_eq(hollow_schema_field_count(s), 1);
    hollow_schema_free(s);
}
END_TEST

START_TEST(schema_build_rejects_bad_arguments)
{
    hollow_schema *s = (hollow_schema *)1;
    ck_assert_int_eq(hollow_schema_object_new(&s, ""), HOLLOW_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(hollow_schema_object_new(&s, NULL), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_schema_object_new(&s, "bad\xff"), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_schema_list_type_new(&s, "L", ""), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_schema_set_type_new(&s, "", "A"), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_schema_map_type_new(&s, "M", "K", NULL),
                     HOLLOW_EINVAL);

    HT_OK(hollow_schema_object_new(&s, "A"));
    ck_assert_int_eq(hollow_schema_add_field(s, "", HOLLOW_FIELD_INT, NULL),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_schema_add_field(s, "r", HOLLOW_FIELD_REFERENCE,
                                             NULL),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_schema_add_field(s, "i", HOLLOW_FIELD_INT, "B"),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_schema_add_field(s, "i", (hollow_field_type)8,
                                             NULL),
                     HOLLOW_EINVAL);
    const char *empty[] = {"id", ""};
    ck_assert_int_eq(hollow_schema_set_key(s, empty, 2), HOLLOW_EINVAL);
    ck_assert_uint_eq(hollow_schema_key_count(s), 0);
    ck_assert_uint_eq(hollow_schema_field_count(s), 0);
    hollow_schema_free(s);

    HT_OK(hollow_schema_list_type_new(&s, "L", "A"));
    const char *key[] = {"x"};
    ck_assert_int_eq(hollow_schema_set_key(s, key, 1), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_schema_add_field(s, "x", HOLLOW_FIELD_INT, NULL),
                     HOLLOW_EINVAL);
    hollow_schema_free(s);

    /* a name is limited by its modified UTF-8 length (§1.4) */
    char *big = malloc(70000);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', 69999);
    big[69999] = '\0';
    ck_assert_int_eq(hollow_schema_object_new(&s, big), HOLLOW_EINVAL);
    big[65535] = '\0';
    HT_OK(hollow_schema_object_new(&s, big));
    hollow_schema_free(s);
    /* 16383 emoji are 65532 bytes of UTF-8 but 98298 of modified UTF-8 */
    for (int i = 0; i < 16383; i++)
        memcpy(big + 4 * i, "\xf0\x9f\x98\x80", 4);
    big[4 * 16383] = '\0';
    ck_assert_int_eq(hollow_schema_object_new(&s, big), HOLLOW_EINVAL);
    free(big);
    hollow_schema_free(NULL);
}
END_TEST

START_TEST(schema_collection_accessors)
{
    hollow_schema *l = NULL, *s = NULL, *m = NULL;
    HT_OK(hollow_schema_list_type_new(&l, "ListOfActor", "Actor"));
    HT_OK(hollow_schema_set_type_new(&s, "SetOfActor", "Actor"));
    HT_OK(hollow_schema_map_type_new(&m, "MapOfStringToInteger", "String",
                                     "Integer"));
    ck_assert_int_eq(hollow_schema_kind_of(l), HOLLOW_SCHEMA_LIST);
    ck_assert_int_eq(hollow_schema_kind_of(s), HOLLOW_SCHEMA_SET);
    ck_assert_int_eq(hollow_schema_kind_of(m), HOLLOW_SCHEMA_MAP);
    ck_assert_str_eq(hollow_schema_element_type(l), "Actor");
    ck_assert_ptr_null(hollow_schema_value_type(l));
    ck_assert_str_eq(hollow_schema_element_type(m), "String");
    ck_assert_str_eq(hollow_schema_value_type(m), "Integer");
    ck_assert_uint_eq(hollow_schema_field_count(m), 0);

    const char *set_key[] = {"name", "birthYear"};
    const char *map_key[] = {"value"};
    HT_OK(hollow_schema_set_key(s, set_key, 2));
    HT_OK(hollow_schema_set_key(m, map_key, 1));
    expect_print(l, "ListOfActor List<Actor>;");
    expect_print(s, "SetOfActor Set<Actor> @HashKey(name, birthYear);");
    expect_print(m,
                 "MapOfStringToInteger Map<String,Integer> @HashKey(value);");
    /* count 0 removes the key */
    HT_OK(hollow_schema_set_key(s, NULL, 0));
    ck_assert_uint_eq(hollow_schema_key_count(s), 0);
    expect_print(s, "SetOfActor Set<Actor>;");
    hollow_schema_free(l);
    hollow_schema_free(s);
    hollow_schema_free(m);
}
END_TEST

START_TEST(schema_equal_and_clone)
{
    hollow_schema_list *l = parse_ok(spec_schemas);
    hollow_schema_list *m = parse_ok(spec_schemas);
    for (size_t i = 0; i < hollow_schema_list_count(l); i++) {
        const hollow_schema *a = hollow_schema_list_get(l, i);
        hollow_schema *c = NULL;
        HT_OK(hollow__schema_clone(&c, a));
        ck_assert(c != a);
        ck_assert(hollow_schema_equal(a, c));
        ck_assert(hollow_schema_equal(a, hollow_schema_list_get(m, i)));
        for (size_t j = 0; j < hollow_schema_list_count(l); j++)
            ck_assert(hollow_schema_equal(a, hollow_schema_list_get(l, j)) ==
                      (i == j));
        hollow_schema_free(c);
    }
    hollow_schema_list_free(l);
    hollow_schema_list_free(m);

    /* each kind of difference */
    const char *const variants[] = {
        "A { int x; }",   "A { long x; }",   "A { int y; }",
        "A { B x; }",     "A { C x; }",      "A @PrimaryKey(x) { int x; }",
        "A { int x; int z; }", "A List<B>;", "A Set<B>;",
        "A Set<B> @HashKey(x);", "A Set<B> @HashKey(y);", "A Map<B,C>;",
        "A Map<C,B>;",   "B { int x; }",
    };
    size_t n = sizeof variants / sizeof variants[0];
    for (size_t i = 0; i < n; i++) {
        hollow_schema_list *li = parse_ok(variants[i]);
        for (size_t j = 0; j < n; j++) {
            hollow_schema_list *lj = parse_ok(variants[j]);
            ck_assert_msg(hollow_schema_equal(hollow_schema_list_get(li, 0),
                                              hollow_schema_list_get(lj, 0)) ==
                              (i == j),
                          "%s vs %s", variants[i], variants[j]);
            hollow_schema_list_free(lj);
        }
        hollow_schema_list_free(li);
    }
}
END_TEST

START_TEST(schema_list_add_find_get)
{
    hollow_schema_list *l = NULL;
    hollow_schema *a = NULL, *b = NULL, *dup = NULL;
    HT_OK(hollow_schema_list_new(&l));
    ck_assert_uint_eq(hollow_schema_list_count(l), 0);
    HT_OK(hollow_schema_object_new(&a, "A"));
    HT_OK(hollow_schema_list_type_new(&b, "B", "A"));
    HT_OK(hollow_schema_list_add(l, a));
    HT_OK(hollow_schema_list_add(l, b));
    HT_OK(hollow_schema_set_type_new(&dup, "A", "B"));
    /* the list takes (and here frees) the schema even on failure */
    ck_assert_int_eq(hollow_schema_list_add(l, dup), HOLLOW_EEXISTS);
    ck_assert_str_eq(hollow_error_last()->message,
                     "type A is already in the list");
    ck_assert_int_eq(hollow_schema_list_add(l, NULL), HOLLOW_EINVAL);
    ck_assert_uint_eq(hollow_schema_list_count(l), 2);
    ck_assert_ptr_eq(hollow_schema_list_get(l, 0), a);
    ck_assert_ptr_eq(hollow_schema_list_get(l, 1), b);
    ck_assert_ptr_null(hollow_schema_list_get(l, 2));
    ck_assert_ptr_eq(hollow_schema_list_find(l, "B"), b);
    ck_assert_ptr_null(hollow_schema_list_find(l, "C"));
    /* many schemas: the array grows */
    for (int i = 0; i < 100; i++) {
        char name[16];
        hollow_schema *s = NULL;
        snprintf(name, sizeof name, "T%d", i);
        HT_OK(hollow_schema_object_new(&s, name));
        HT_OK(hollow_schema_list_add(l, s));
    }
    ck_assert_uint_eq(hollow_schema_list_count(l), 102);
    ck_assert_str_eq(hollow_schema_name(hollow_schema_list_find(l, "T99")),
                     "T99");
    hollow_schema_list_free(l);
    hollow_schema_list_free(NULL);
}
END_TEST

START_TEST(schema_field_type_names)
{
    const char *want[] = {"INT",    "LONG",  "FLOAT",    "DOUBLE",
                          "BOOLEAN", "STRING", "BYTES", "REFERENCE"};
    for (int t = 0; t < 8; t++)
        ck_assert_str_eq(hollow_field_type_name((hollow_field_type)t),
                         want[t]);
    ck_assert_ptr_null(hollow_field_type_name((hollow_field_type)8));
}
END_TEST

/* --------------------------------------------------------------- parse */

START_TEST(schema_parse_vectors_round_trip)
{
    for (size_t v = 0; v < VECTOR_COUNT; v++) {
        size_t len;
        char *text = read_corpus(vectors[v].file, &len);
        hollow_schema_list *l = NULL;
        HT_OK(parse_exact(&l, text, len));
        char *printed = NULL;
        HT_OK(hollow_schema_list_print(&printed, l));
        ck_assert_msg(strlen(printed) == len && memcmp(printed, text, len) == 0,
                      "%s does not print back byte for byte:\n%s",
                      vectors[v].file, printed);
        HT_OK(hollow_schema_list_validate(l));
        hollow_free(printed);
        hollow_schema_list_free(l);
        free(text);
    }
}
END_TEST

START_TEST(schema_parse_spec_examples_print)
{
    hollow_schema_list *l = parse_ok(spec_schemas);
    static const char *const want[] = {
        "Actor {\n\tString name;\n\tint birthYear;\n}",
        "ListOfActor List<Actor>;",
        "MapOfStringToInteger Map<String,Integer> @HashKey(value);",
        ("Movie @PrimaryKey(id, title.value) {\n\tint id;\n\tString title;\n"
         "\tlong revenue;\n\tListOfActor cast;\n\tbytes poster;\n}"),
        "SetOfActor Set<Actor> @HashKey(name, birthYear);",
    };
    ck_assert_uint_eq(hollow_schema_list_count(l), 5);
    for (size_t i = 0; i < 5; i++)
        expect_print(hollow_schema_list_get(l, i), want[i]);
    const hollow_schema *movie = hollow_schema_list_find(l, "Movie");
    ck_assert_int_eq(hollow_schema_field_type(movie, 1),
                     HOLLOW_FIELD_REFERENCE);
    ck_assert_str_eq(hollow_schema_field_ref_type(movie, 1), "String");
    ck_assert_int_eq(hollow_schema_field_type(movie, 4), HOLLOW_FIELD_BYTES);
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(schema_parse_tokens)
{
    /* comments, stray tokens, odd spacing, words with '.' and '-', control
     * characters and NUL as whitespace, upper-case STRING as a reference */
    static const char text[] =
        "// line comment\n"
        "/* block\n comment */ ;;; 42 , }\n"
        "Movie/*x*/@PrimaryKey ( id ) {int id ; // trailing\n"
        "\x01 STRING title;\tlong x-y.z_9 ; } ; ;\n"
        "SetOfMovie Set < Movie > @HashKey ( ) ;\n"
        "ListOfMovie List<Movie>;;";
    hollow_schema_list *l = NULL;
    HT_OK(parse_exact(&l, text, sizeof text - 1));
    ck_assert_uint_eq(hollow_schema_list_count(l), 3);
    const hollow_schema *m = hollow_schema_list_get(l, 0);
    expect_print(m, "Movie @PrimaryKey(id) {\n\tint id;\n\tSTRING title;\n"
                    "\tlong x-y.z_9;\n}");
    ck_assert_int_eq(hollow_schema_field_type(m, 1), HOLLOW_FIELD_REFERENCE);
    /* an empty @HashKey() is no key */
    expect_print(hollow_schema_list_get(l, 1), "SetOfMovie Set<Movie>;");
    expect_print(hollow_schema_list_get(l, 2), "ListOfMovie List<Movie>;");
    hollow_schema_list_free(l);

    /* every primitive word, and the case-sensitivity of each */
    l = parse_ok("P { int a; long b; float c; double d; boolean e; "
                 "string f; bytes g; Int h; Bytes i; }");
    const hollow_schema *p = hollow_schema_list_get(l, 0);
    for (int t = 0; t < 7; t++)
        ck_assert_int_eq(hollow_schema_field_type(p, (size_t)t), t);
    ck_assert_int_eq(hollow_schema_field_type(p, 7), HOLLOW_FIELD_REFERENCE);
    ck_assert_str_eq(hollow_schema_field_ref_type(p, 8), "Bytes");
    hollow_schema_list_free(l);

    /* a NUL byte is whitespace too: the text is length-bounded */
    static const char nul[] = "A {\0int\0x;}";
    HT_OK(parse_exact(&l, nul, sizeof nul - 1));
    expect_print(hollow_schema_list_get(l, 0), "A {\n\tint x;\n}");
    hollow_schema_list_free(l);

    /* empty input, comments only, NULL with length 0 */
    l = parse_ok("");
    ck_assert_uint_eq(hollow_schema_list_count(l), 0);
    hollow_schema_list_free(l);
    l = parse_ok(" // nothing\n/* here */ ;");
    ck_assert_uint_eq(hollow_schema_list_count(l), 0);
    hollow_schema_list_free(l);
    HT_OK(hollow_schema_parse(&l, NULL, 0));
    ck_assert_uint_eq(hollow_schema_list_count(l), 0);
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(schema_parse_unicode_words)
{
    /* letters from U+00A0 on start words; digits cannot */
    hollow_schema_list *l =
        parse_ok("Caf\xc3\xa9 {\n\tstring na\xc3\xafve;\n"
                 "\t\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80;\n}\n"
                 "\xe6\x97\xa5\xe6\x9c\xac { int \xc2\xa0x1; }\n"
                 "9Bad { int y; }");
    ck_assert_uint_eq(hollow_schema_list_count(l), 3);
    const hollow_schema *cafe = hollow_schema_list_get(l, 0);
    ck_assert_str_eq(hollow_schema_name(cafe), "Caf\xc3\xa9");
    ck_assert_str_eq(hollow_schema_field_ref_type(cafe, 1),
                     "\xe6\x97\xa5\xe6\x9c\xac");
    ck_assert_str_eq(hollow_schema_field_name(cafe, 1), "\xf0\x9f\x98\x80");
    ck_assert_str_eq(hollow_schema_field_name(hollow_schema_list_get(l, 1), 0),
                     "\xc2\xa0x1");
    /* "9" is a stray token skipped before the declaration "Bad" */
    ck_assert_str_eq(hollow_schema_name(hollow_schema_list_get(l, 2)), "Bad");
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(schema_parse_keywords_second_word_only)
{
    hollow_schema_list *l = parse_ok("List {\n\tint Set;\n\tMap List;\n}\n"
                                     "Map @PrimaryKey() { List Map; }\n"
                                     "Set Set<Set>;");
    ck_assert_uint_eq(hollow_schema_list_count(l), 3);
    const hollow_schema *a = hollow_schema_list_get(l, 0);
    ck_assert_int_eq(hollow_schema_kind_of(a), HOLLOW_SCHEMA_OBJECT);
    ck_assert_str_eq(hollow_schema_name(a), "List");
    ck_assert_str_eq(hollow_schema_field_ref_type(a, 1), "Map");
    ck_assert_uint_eq(hollow_schema_key_count(hollow_schema_list_get(l, 1)),
                      0);
    expect_print(hollow_schema_list_get(l, 2), "Set Set<Set>;");
    HT_OK(hollow_schema_list_validate(l));
    hollow_schema_list_free(l);
}
END_TEST

/* semantic errors carry the position of the declaration they are about */
START_TEST(schema_parse_validated_positions)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"A { int x; }\n  Movie @PrimaryKey(id) {\n  long id;\n  Nope n;\n}",
         "line 2:3: type Movie: field n references unknown type Nope"},
        {"A @PrimaryKey(zz) {\n  long id;\n}",
         "line 1:1: type A: key path zz: type A has no field zz"},
        {"A { int x; }\nL List<B>;", "line 2:1: type L: element references "
                                     "unknown type B"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hollow_schema_list *l = (hollow_schema_list *)1;
        ck_assert_int_eq(hollow_schema_parse_validated(&l, cases[i].text,
                                                       strlen(cases[i].text)),
                         HOLLOW_EINVAL);
        ck_assert_ptr_null(l);
        ck_assert_str_eq(hollow_error_last()->message, cases[i].message);
    }
    /* a valid text gives the same list as hollow_schema_parse() */
    const char *ok = "A { B b; }\nB { int x; }";
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse_validated(&l, ok, strlen(ok)));
    ck_assert_uint_eq(hollow_schema_list_count(l), 2);
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(schema_parse_error_messages)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"Movie {\n\tint id\n\tstring title;\n}",
         "line 3:2: expected ';' after field 'id', found 'string'"},
        {"Movie @HashKey(id) {}",
         "line 1:8: expected 'PrimaryKey' after '@', found 'HashKey'"},
        {"X", "line 1:2: expected '{', '@PrimaryKey', 'List', 'Set' or 'Map' "
              "after type name 'X', found end of input"},
        {"X Lisst<A>;", "line 1:3: expected '{', '@PrimaryKey', 'List', 'Set' "
                        "or 'Map' after type name 'X', found 'Lisst'"},
        {"X ;", "line 1:3: expected '{', '@PrimaryKey', 'List', 'Set' or "
                "'Map' after type name 'X', found ';'"},
        {"X {\n int", "line 2:5: expected a field name after 'int', found "
                      "end of input"},
        {"X { 1 }", "line 1:5: expected a field type or '}', found '1'"},
        {"X {\x7f}", "line 1:4: expected a field type or '}', found U+007F"},
        {"X { int a; ", "line 1:12: expected a field type or '}', found end "
                        "of input"},
        {"X @PrimaryKey id) {}",
         "line 1:15: expected '(' after '@PrimaryKey', found 'id'"},
        {"X @PrimaryKey(id) ;",
         "line 1:19: expected '{' after @PrimaryKey(...), found ';'"},
        {"X @PrimaryKey(,) {}",
         "line 1:15: expected a key path or ')', found ','"},
        {"X @PrimaryKey(a b) {}",
         "line 1:17: expected ',' or ')' in @PrimaryKey, found 'b'"},
        {"X @PrimaryKey(a!) {}",
         "line 1:16: expected ',' or ')' in @PrimaryKey, found '!'"},
        {"S Set<A> @HashKey(a,);",
         "line 1:21: expected a key path, found ')'"},
        {"S Set<A> @PrimaryKey(a);",
         "line 1:11: expected 'HashKey' after '@', found 'PrimaryKey'"},
        {"S Set<A> x;", "line 1:10: expected '@HashKey' or ';', found 'x'"},
        {"S Set<A> @HashKey(a) x", "line 1:22: expected ';', found 'x'"},
        {"M Map<K,V> @HashKey a;",
         "line 1:21: expected '(' after '@HashKey', found 'a'"},
        {"L List<A> @HashKey(x);", "line 1:11: expected ';', found '@'"},
        {"L List A;", "line 1:8: expected '<' after 'List', found 'A'"},
        {"L List<>;", "line 1:8: expected an element type name, found '>'"},
        {"L List<A;", "line 1:9: expected '>', found ';'"},
        {"M Map<>;", "line 1:7: expected a key type name, found '>'"},
        {"M Map<String Integer>;",
         "line 1:14: expected ',' after the map key type, found 'Integer'"},
        {"M Map<K,>;", "line 1:9: expected a value type name, found '>'"},
        {"M Map<K,V;", "line 1:10: expected '>', found ';'"},
        {"A { int x; }\n/* open\nB { int y; }",
         "line 2:1: unterminated comment"},
        {"A { int x; }\n  /*/", "line 2:3: unterminated comment"},
        {"Movie {\n\tint \xff;\n}", "line 2:6: invalid UTF-8"},
        {"A\xc0\x80 {}", "line 1:2: invalid UTF-8"},        /* overlong */
        {"A\xed\xa0\x80 {}", "line 1:2: invalid UTF-8"},    /* surrogate */
        {"A\xf4\x90\x80\x80 {}", "line 1:2: invalid UTF-8"}, /* > U+10FFFF */
        {"A\xe6\x97", "line 1:2: invalid UTF-8"},           /* truncated */
        {"// \xe6\x97\n", "line 1:4: invalid UTF-8"},
        /* columns count characters, not bytes */
        {"Caf\xc3\xa9 List<\xe6\x97\xa5\xe6\x9c\xac> x",
         "line 1:15: expected ';', found 'x'"},
        {"\xf0\x9f\x98\x80 { int a }", "line 1:11: expected ';' after field "
                                       "'a', found '}'"},
        /* LF, CR and CRLF each end one line */
        {"X {\r\n\tint a;\r\n\tint b\r}",
         "line 4:1: expected ';' after field 'b', found '}'"},
        {"X {\r\r\n\n\t?", "line 4:2: expected a field type or '}', found '?'"},
        /* long words are clipped in messages */
        {"X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
         "line 1:3: expected '{', '@PrimaryKey', 'List', 'Set' or 'Map' "
         "after type name 'X', found "
         "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].text, HOLLOW_EPARSE, cases[i].message);
}
END_TEST

START_TEST(schema_parse_duplicates)
{
    expect_error("A { int x; }\nB List<A>;\n  A { }", HOLLOW_EEXISTS,
                 "line 3:3: type 'A' is already declared");
    expect_error("A {\n\tint x;\n\tlong x;\n}", HOLLOW_EEXISTS,
                 "line 3:7: field 'x' is already declared in type 'A'");
    expect_error("A List<B>;\nA Map<B,C>;", HOLLOW_EEXISTS,
                 "line 2:1: type 'A' is already declared");
}
END_TEST

START_TEST(schema_parse_long_name)
{
    size_t n = 65536 + 10;
    char *text = malloc(n + 8);
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', n);
    memcpy(text + n, " {}", 3);
    hollow_schema_list *l = NULL;
    ck_assert_int_eq(parse_exact(&l, text, n + 3), HOLLOW_EPARSE);
    ck_assert_str_eq(hollow_error_last()->message,
                     "line 1:1: name longer than 65535 bytes of modified "
                     "UTF-8");
    /* 65535 bytes is the most a name can have */
    memcpy(text + 65535, " {}", 3);
    HT_OK(parse_exact(&l, text, 65535 + 3));
    ck_assert_uint_eq(strlen(hollow_schema_name(hollow_schema_list_get(l, 0))),
                      65535);
    hollow_schema_list_free(l);
    free(text);
}
END_TEST

/* Every prefix of a real schema file either parses or fails with EPARSE
 * and a "line L:C: " message, without reading past the prefix. */
START_TEST(schema_parse_every_prefix)
{
    const char *files[] = {"vector_b_collections.hollow",
                           "unicode_names.hollow", "comments_strays.hollow"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        char *text = read_corpus(files[f], &len);
        for (size_t k = 0; k <= len; k++) {
            hollow_schema_list *l = NULL;
            int rc = parse_exact(&l, text, k);
            if (rc == HOLLOW_OK) {
                hollow_schema_list_free(l);
                continue;
            }
            ck_assert_msg(rc == HOLLOW_EPARSE, "%s[0..%zu): rc %d (%s)",
                          files[f], k, rc, hollow_error_last()->message);
            size_t line, col;
            ck_assert_int_eq(sscanf(hollow_error_last()->message,
                                    "line %zu:%zu: ", &line, &col),
                             2);
            ck_assert(line >= 1 && col >= 1);
        }
        free(text);
    }
}
END_TEST

/* --------------------------------------------------------------- print */

START_TEST(schema_print_truncates_like_snprintf)
{
    hollow_schema *s = NULL;
    HT_OK(hollow_schema_list_type_new(&s, "A", "Bcdef"));
    const char *full = "A List<Bcdef>;";
    size_t n = strlen(full);
    ck_assert_uint_eq(hollow_schema_print(NULL, 0, s), n);
    char buf[32];
    for (size_t cap = 1; cap < sizeof buf; cap++) {
        memset(buf, '#', sizeof buf);
        ck_assert_uint_eq(hollow_schema_print(buf, cap, s), n);
        size_t kept = cap - 1 < n ? cap - 1 : n;
        ck_assert_uint_eq(strlen(buf), kept);
        ck_assert(memcmp(buf, full, kept) == 0);
        ck_assert_int_eq(buf[cap], '#'); /* nothing written past cap */
    }
    hollow_schema_free(s);
}
END_TEST

START_TEST(schema_list_print_layout)
{
    hollow_schema_list *l = NULL;
    char *text = NULL;
    HT_OK(hollow_schema_list_new(&l));
    HT_OK(hollow_schema_list_print(&text, l));
    ck_assert_str_eq(text, "");
    hollow_free(text);
    hollow_schema_list_free(l);

    l = parse_ok("A{}B List<A>;");
    HT_OK(hollow_schema_list_print(&text, l));
    ck_assert_str_eq(text, "A {\n}\n\nB List<A>;\n\n");
    hollow_free(text);
    hollow_schema_list_free(l);
}
END_TEST

/* --------------------------------------------------------------- codec */

static hollow_schema_list *decode_all(const uint8_t *p, size_t len,
                                      size_t count)
{
    hollow_schema_list *l = NULL;
    hollow__reader r;
    HT_OK(hollow_schema_list_new(&l));
    hollow__reader_init(&r, p, len, 0);
    for (size_t i = 0; i < count; i++) {
        hollow_schema *s = NULL;
        HT_OK(hollow__schema_read(&s, &r));
        HT_OK(hollow_schema_list_add(l, s));
    }
    ck_assert_uint_eq(hollow__reader_left(&r), 0);
    return l;
}

static void expect_encoding(const hollow_schema *s, const uint8_t *want,
                            size_t len)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    hollow__schema_write(&b, s);
    HT_OK(hollow__buf_check(&b));
    ck_assert_uint_eq(b.len, len);
    ck_assert(memcmp(b.ptr, want, len) == 0);
    hollow_schema_list *l = decode_all(want, len, 1);
    ck_assert(hollow_schema_equal(hollow_schema_list_get(l, 0), s));
    hollow_schema_list_free(l);
    hollow__buf_free(&b);
}

START_TEST(schema_codec_spec_example_bytes)
{
    static const uint8_t movie[] = {
        0x06,                                     /* OBJECT with key */
        0x00, 0x05, 'M', 'o', 'v', 'i', 'e',      /* "Movie" */
        0x01,                                     /* 1 key path */
        0x00, 0x02, 'i', 'd',                     /* "id" */
        0x00, 0x02,                               /* 2 fields */
        0x00, 0x02, 'i', 'd', 0x00, 0x03, 'I', 'N', 'T',
        0x00, 0x05, 't', 'i', 't', 'l', 'e',
        0x00, 0x06, 'S', 'T', 'R', 'I', 'N', 'G'};
    static const uint8_t set[] = {0x01, 0x00, 0x0C, 'S', 'e', 't', 'O', 'f',
                                  'I',  'n',  't',  'e', 'g', 'e', 'r', 0x00,
                                  0x07, 'I',  'n',  't', 'e', 'g', 'e', 'r'};
    static const uint8_t map[] = {
        0x03, 0x00, 0x15, 'M', 'a', 'p', 'O', 'f', 'I', 'n', 't', 'e', 'g',
        'e',  'r',  'T',  'o', 'I', 'n', 't', 'e', 'g', 'e', 'r', 0x00, 0x07,
        'I',  'n',  't',  'e', 'g', 'e', 'r', 0x00, 0x07, 'I', 'n', 't', 'e',
        'g',  'e',  'r'};
    hollow_schema_list *l =
        parse_ok("Movie @PrimaryKey(id) { int id; string title; }\n"
                 "SetOfInteger Set<Integer>;\n"
                 "MapOfIntegerToInteger Map<Integer,Integer>;");
    expect_encoding(hollow_schema_list_get(l, 0), movie, sizeof movie);
    expect_encoding(hollow_schema_list_get(l, 1), set, sizeof set);
    expect_encoding(hollow_schema_list_get(l, 2), map, sizeof map);
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(schema_codec_kind_ids)
{
    static const struct {
        const char *text;
        uint8_t id;
    } cases[] = {
        {"A { int x; }", 0},           {"A Set<B>;", 1},
        {"A List<B>;", 2},             {"A Map<B,C>;", 3},
        {"A Set<B> @HashKey(x);", 4},  {"A Map<B,C> @HashKey(x);", 5},
        {"A @PrimaryKey(x) { int x; }", 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hollow_schema_list *l = parse_ok(cases[i].text);
        hollow__buf b = HOLLOW__BUF_INIT;
        hollow__schema_write(&b, hollow_schema_list_get(l, 0));
        HT_OK(hollow__buf_check(&b));
        ck_assert_uint_eq(b.ptr[0], cases[i].id);
        hollow__buf_free(&b);
        hollow_schema_list_free(l);
    }
}
END_TEST

/* The schema envelope of e_schema_change's first header blob, as Java wrote
 * it: vint S = 2, Actor and Movie, vint X = 0. */
static const uint8_t java_envelope[] = {
    0x02, 0x06, 0x00, 0x05, 0x41, 0x63, 0x74, 0x6F, 0x72, 0x01, 0x00, 0x02,
    0x69, 0x64, 0x00, 0x02, 0x00, 0x02, 0x69, 0x64, 0x00, 0x03, 0x49, 0x4E,
    0x54, 0x00, 0x04, 0x6E, 0x61, 0x6D, 0x65, 0x00, 0x06, 0x53, 0x54, 0x52,
    0x49, 0x4E, 0x47, 0x06, 0x00, 0x05, 0x4D, 0x6F, 0x76, 0x69, 0x65, 0x01,
    0x00, 0x02, 0x69, 0x64, 0x00, 0x03, 0x00, 0x02, 0x69, 0x64, 0x00, 0x04,
    0x4C, 0x4F, 0x4E, 0x47, 0x00, 0x05, 0x74, 0x69, 0x74, 0x6C, 0x65, 0x00,
    0x06, 0x53, 0x54, 0x52, 0x49, 0x4E, 0x47, 0x00, 0x04, 0x6C, 0x65, 0x61,
    0x64, 0x00, 0x09, 0x52, 0x45, 0x46, 0x45, 0x52, 0x45, 0x4E, 0x43, 0x45,
    0x00, 0x05, 0x41, 0x63, 0x74, 0x6F, 0x72, 0x00,
};

START_TEST(schema_codec_java_envelope)
{
    /* skip S (1 byte) and X (the last byte) */
    hollow_schema_list *got =
        decode_all(java_envelope + 1, sizeof java_envelope - 2, 2);
    size_t len;
    char *text = read_corpus("vector_e_schema_change_v1.hollow", &len);
    hollow_schema_list *want = NULL;
    HT_OK(parse_exact(&want, text, len));
    HT_OK(hollow_schema_list_sort(want));
    for (size_t i = 0; i < 2; i++)
        ck_assert(hollow_schema_equal(hollow_schema_list_get(got, i),
                                      hollow_schema_list_get(want, i)));
    hollow_schema_list_free(got);
    hollow_schema_list_free(want);
    free(text);
}
END_TEST

/* Parse each vector's text, sort it as Java does, and encode the header's
 * schema envelope: it must be Java's, byte for byte (by SHA-256). */
START_TEST(schema_codec_vectors_match_java_envelopes)
{
    for (size_t v = 0; v < VECTOR_COUNT; v++) {
        size_t len;
        char *text = read_corpus(vectors[v].file, &len);
        hollow_schema_list *l = NULL;
        HT_OK(parse_exact(&l, text, len));
        HT_OK(hollow_schema_list_sort(l));
        hollow__buf b = HOLLOW__BUF_INIT;
        hollow__buf_vint(&b, (uint32_t)hollow_schema_list_count(l));
        for (size_t i = 0; i < hollow_schema_list_count(l); i++)
            hollow__schema_write(&b, hollow_schema_list_get(l, i));
        hollow__buf_vint(&b, 0);
        HT_OK(hollow__buf_check(&b));
        char sha[65];
        ht_sha256_hex(b.ptr, b.len, sha);
        ck_assert_msg(b.len == vectors[v].envelope_len, "%s: %zu bytes",
                      vectors[v].file, b.len);
        ck_assert_str_eq(sha, vectors[v].envelope_sha256);

        /* and everything decodes back */
        hollow_schema_list *back =
            decode_all(b.ptr + 1, b.len - 2, hollow_schema_list_count(l));
        for (size_t i = 0; i < hollow_schema_list_count(l); i++)
            ck_assert(hollow_schema_equal(hollow_schema_list_get(back, i),
                                          hollow_schema_list_get(l, i)));
        hollow_schema_list_free(back);
        hollow__buf_free(&b);
        hollow_schema_list_free(l);
        free(text);
    }
}
END_TEST

START_TEST(schema_codec_unicode_names)
{
    hollow_schema *s = NULL;
    /* é is 2 bytes, U+1F600 two 3-byte surrogates, NUL (C0 80) 2 bytes */
    HT_OK(hollow_schema_object_new(&s, "caf\xc3\xa9"));
    HT_OK(hollow_schema_add_field(s, "\xf0\x9f\x98\x80", HOLLOW_FIELD_INT,
                                  NULL));
    HT_OK(hollow_schema_add_field(s, "nul\xc0\x80", HOLLOW_FIELD_INT, NULL));
    static const uint8_t want[] = {
        0x00, 0x00, 0x05, 'c', 'a', 'f', 0xC3, 0xA9, 0x00, 0x02,
        0x00, 0x06, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80, 0x00, 0x03,
        'I',  'N',  'T',  0x00, 0x05, 'n', 'u', 'l', 0xC0, 0x80,
        0x00, 0x03, 'I',  'N',  'T'};
    expect_encoding(s, want, sizeof want);
    hollow_schema_free(s);
}
END_TEST

/* A truncated encoding fails cleanly at every length. */
START_TEST(schema_codec_truncated_every_offset)
{
    hollow_schema_list *l =
        parse_ok("Movie @PrimaryKey(id, title.value) { int id; String title;"
                 " ListOfActor cast; bytes b; }\n"
                 "L List<Movie>;\nS Set<Movie> @HashKey(id, title);\n"
                 "M Map<Movie,L> @HashKey(id);\nN Map<Movie,L>;\nT Set<L>;");
    for (size_t i = 0; i < hollow_schema_list_count(l); i++) {
        hollow__buf b = HOLLOW__BUF_INIT;
        hollow__schema_write(&b, hollow_schema_list_get(l, i));
        HT_OK(hollow__buf_check(&b));
        for (size_t cut = 0; cut < b.len; cut++) {
            uint8_t *p = malloc(cut ? cut : 1);
            ck_assert_ptr_nonnull(p);
            memcpy(p, b.ptr, cut);
            hollow__reader r;
            hollow__reader_init(&r, p, cut, 0);
            hollow_schema *s = (hollow_schema *)1;
            int rc = hollow__schema_read(&s, &r);
            ck_assert_msg(rc == HOLLOW_ECORRUPT, "schema %zu cut at %zu: %d",
                          i, cut, rc);
            ck_assert_ptr_null(s);
            ck_assert_ptr_nonnull(strstr(hollow_error_last()->message,
                                         "offset"));
            free(p);
        }
        hollow__buf_free(&b);
    }
    hollow_schema_list_free(l);
}
END_TEST

static void expect_corrupt(const uint8_t *p, size_t len, size_t base,
                           const char *message)
{
    hollow__reader r;
    hollow__reader_init(&r, p, len, base);
    hollow_schema *s = (hollow_schema *)1;
    ck_assert_int_eq(hollow__schema_read(&s, &r), HOLLOW_ECORRUPT);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(hollow_error_last()->message, message);
}

START_TEST(schema_codec_rejects_corrupt)
{
    static const uint8_t kind7[] = {0x07, 0x00, 0x01, 'A'};
    expect_corrupt(kind7, sizeof kind7, 100,
                   "unknown schema kind id 7 at offset 100");
    static const uint8_t empty_name[] = {0x02, 0x00, 0x00, 0x00, 0x01, 'B'};
    expect_corrupt(empty_name, sizeof empty_name, 0,
                   "empty schema type name at offset 1");
    static const uint8_t empty_elem[] = {0x02, 0x00, 0x01, 'A', 0x00, 0x00};
    expect_corrupt(empty_elem, sizeof empty_elem, 0,
                   "schema A: empty element type name at offset 4");
    static const uint8_t bad_type[] = {0x00, 0x00, 0x01, 'A', 0x00, 0x01,
                                       0x00, 0x01, 'x',  0x00, 0x03, 'I',
                                       'n',  't'};
    expect_corrupt(bad_type, sizeof bad_type, 0,
                   "schema A: field x: unknown field type 'Int' at offset 9");
    static const uint8_t neg_fields[] = {0x00, 0x00, 0x01, 'A', 0xFF, 0xFF};
    expect_corrupt(neg_fields, sizeof neg_fields, 0,
                   "schema A: negative field count -1 at offset 4");
    static const uint8_t many_fields[] = {0x00, 0x00, 0x01, 'A', 0x00, 0x03,
                                          0x00, 0x01, 'x',  0x00, 0x03, 'I',
                                          'N',  'T'};
    expect_corrupt(many_fields, sizeof many_fields, 0,
                   "schema A: field count 3 at offset 4 exceeds the 8 bytes "
                   "left");
    static const uint8_t dup_field[] = {
        0x00, 0x00, 0x01, 'A', 0x00, 0x02, 0x00, 0x01, 'x', 0x00, 0x03, 'I',
        'N',  'T',  0x00, 0x01, 'x', 0x00, 0x04, 'L', 'O', 'N', 'G'};
    expect_corrupt(dup_field, sizeof dup_field, 0,
                   "schema A: duplicate field x at offset 14");
    static const uint8_t many_paths[] = {0x04, 0x00, 0x01, 'S', 0x00,
                                         0x01, 'A',  0x03, 0x00, 0x01,
                                         'x',  0x00, 0x01};
    expect_corrupt(many_paths, sizeof many_paths, 0,
                   "schema S: key path count 3 out of range [0, 2] at "
                   "offset 7");
    static const uint8_t neg_paths[] = {0x05, 0x00, 0x01, 'M', 0x00, 0x01,
                                        'A',  0x00, 0x01, 'B', 0x8F, 0xFF,
                                        0xFF, 0xFF, 0x7F};
    expect_corrupt(neg_paths, sizeof neg_paths, 0,
                   "schema M: key path count -1 out of range [0, 2] at "
                   "offset 10");
    static const uint8_t long_paths[] = {0x06, 0x00, 0x01, 'A', 0x80, 0x01,
                                         0x00, 0x01, 'x',  0x00, 0x00};
    expect_corrupt(long_paths, sizeof long_paths, 0,
                   "schema A: non-minimal varint for key path count at "
                   "offset 4");
    static const uint8_t bad_mutf[] = {0x02, 0x00, 0x02, 0xC3, 0x28};
    expect_corrupt(bad_mutf, sizeof bad_mutf, 0,
                   "bad modified UTF-8 in schema type name at offset 1");
    static const uint8_t truncated[] = {0x03, 0x00, 0x01, 'M', 0x00,
                                        0x01, 'K',  0x00, 0x05, 'V'};
    expect_corrupt(truncated, sizeof truncated, 0,
                   "schema M: truncated blob: map value type name needs 5 "
                   "bytes at offset 9, 1 left");

    /* Java never writes a keyed kind with P = 0; it reads as no key */
    static const uint8_t keyed0[] = {0x04, 0x00, 0x01, 'S', 0x00,
                                     0x01, 'A',  0x00};
    hollow_schema_list *l = decode_all(keyed0, sizeof keyed0, 1);
    expect_print(hollow_schema_list_get(l, 0), "S Set<A>;");
    hollow_schema_list_free(l);
}
END_TEST

/* ---------------------------------------------------------------- hash */

START_TEST(schema_hash_spec_vector)
{
    hollow_schema_list *l = parse_ok(spec_schemas);
    int32_t h = 0;
    HT_OK(hollow_schema_list_hash(&h, l));
    ck_assert_int_eq(h, -1714548409);
    /* the order of the list does not matter */
    HT_OK(hollow_schema_list_sort(l));
    HT_OK(hollow_schema_list_hash(&h, l));
    ck_assert_int_eq(h, -1714548409);
    hollow_schema_list_free(l);

    l = parse_ok("SetOfActor Set<Actor> @HashKey(name, birthYear);\n"
                 "Movie @PrimaryKey(id, title.value) {\n\tint id;\n"
                 "\tString title;\n\tlong revenue;\n\tListOfActor cast;\n"
                 "\tbytes poster;\n}\nListOfActor List<Actor>;\n"
                 "Actor {\n\tString name;\n\tint birthYear;\n}\n"
                 "MapOfStringToInteger Map<String,Integer> @HashKey(value);");
    HT_OK(hollow_schema_list_hash(&h, l));
    ck_assert_int_eq(h, -1714548409);
    hollow_schema_list_free(l);

    /* the empty list hashes the empty string (§11.4) */
    HT_OK(hollow_schema_list_new(&l));
    HT_OK(hollow_schema_list_hash(&h, l));
    ck_assert_int_eq(h, 130510007);
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(schema_hash_vectors)
{
    for (size_t v = 0; v < VECTOR_COUNT; v++) {
        size_t len;
        char *text = read_corpus(vectors[v].file, &len);
        hollow_schema_list *l = NULL;
        int32_t h = 0;
        HT_OK(parse_exact(&l, text, len));
        HT_OK(hollow_schema_list_hash(&h, l));
        ck_assert_msg(h == vectors[v].hash, "%s: %d", vectors[v].file, h);
        hollow_schema_list_free(l);
        free(text);
    }
}
END_TEST

START_TEST(schema_hash_non_ascii)
{
    /* Java compares UTF-16 code units: U+1F600 (surrogates D83D DE00)
     * sorts before U+FFFF, unlike in UTF-8 byte order. */
    ck_assert_int_lt(hollow__schema_name_cmp("\xf0\x9f\x98\x80",
                                             "\xef\xbf\xbf"),
                     0);
    ck_assert_int_gt(hollow__schema_name_cmp("\xef\xbf\xbf",
                                             "\xf0\x9f\x98\x80"),
                     0);
    ck_assert_int_lt(hollow__schema_name_cmp("A", "B"), 0);
    ck_assert_int_lt(hollow__schema_name_cmp("A", "AB"), 0);
    ck_assert_int_lt(hollow__schema_name_cmp("Z", "a"), 0);
    ck_assert_int_eq(hollow__schema_name_cmp("caf\xc3\xa9", "caf\xc3\xa9"),
                     0);
    ck_assert_int_lt(hollow__schema_name_cmp("nul\xc0\x80", "nul\x01"), 0);

    hollow_schema_list *a = parse_ok("\xef\xbf\xbf { int x; }\n"
                                     "\xf0\x9f\x98\x80 { int y; }");
    hollow_schema_list *b = parse_ok("\xf0\x9f\x98\x80 { int y; }\n"
                                     "\xef\xbf\xbf { int x; }");
    int32_t ha, hb;
    HT_OK(hollow_schema_list_hash(&ha, a));
    HT_OK(hollow_schema_list_hash(&hb, b));
    ck_assert_int_eq(ha, hb);
    HT_OK(hollow_schema_list_sort(a));
    expect_order(a, "\xf0\x9f\x98\x80 \xef\xbf\xbf");
    hollow_schema_list_free(a);
    hollow_schema_list_free(b);
}
END_TEST

/* ------------------------------------------------------------ validate */

START_TEST(schema_validate_unknown_references)
{
    expect_validate_error("Movie { int id; ListOfActor cast; }",
                          "type Movie: field cast references unknown type "
                          "ListOfActor");
    expect_validate_error("L List<A>;",
                          "type L: element references unknown type A");
    expect_validate_error("S Set<A>;",
                          "type S: element references unknown type A");
    expect_validate_error("A { int x; }\nM Map<K,A>;",
                          "type M: map key references unknown type K");
    expect_validate_error("A { int x; }\nM Map<A,V>;",
                          "type M: map value references unknown type V");
    /* references are checked for all types before any key path */
    expect_validate_error("A @PrimaryKey(nope) { int x; }\nB { C c; }",
                          "type B: field c references unknown type C");
}
END_TEST

START_TEST(schema_validate_key_paths)
{
    expect_validate_error("A @PrimaryKey(y) { int x; }",
                          "type A: key path y: type A has no field y");
    expect_validate_error("A @PrimaryKey(x.y) { int x; }",
                          "type A: key path x.y: field x of type A is not a "
                          "REFERENCE");
    expect_validate_error("B { int p; int q; }\nA @PrimaryKey(b) { B b; }",
                          "type A: key path b: it ends on a reference to "
                          "type B, which has neither exactly one field nor a "
                          "single-field primary key");
    expect_validate_error("B @PrimaryKey(p, q) { int p; int q; }\n"
                          "A @PrimaryKey(b) { B b; }",
                          "type A: key path b: it ends on a reference to "
                          "type B, which has neither exactly one field nor a "
                          "single-field primary key");
    expect_validate_error("Z { Z z; }\nA @PrimaryKey(z) { Z z; int k; }",
                          "type A: key path z: expanding it through type Z "
                          "never ends");
    expect_validate_error("A @PrimaryKey(b) { B b; int x; }\n"
                          "B @PrimaryKey(a) { A a; int y; }",
                          "type A: key path b: expanding it through type B "
                          "never ends");
    expect_validate_error("A { int x; }\nL List<A>;\nS Set<L> @HashKey(x);",
                          "type S: key path x: type L is a LIST, not an "
                          "OBJECT");
    expect_validate_error("A { L l; }\nL List<A>;\nB @PrimaryKey(a.l.x) "
                          "{ A a; }",
                          "type B: key path a.l.x: type L is a LIST, not an "
                          "OBJECT");
    expect_validate_error("A { int x; }\nS Set<A> @HashKey(x, y);",
                          "type S: key path y: type A has no field y");
    expect_validate_error("A { L l; int k; }\nL List<A>;\n"
                          "B @PrimaryKey(a.l) { A a; }",
                          "type B: key path a.l: type L is a LIST, not an "
                          "OBJECT");

    /* paths set through the API may hold '!' and empty segments */
    hollow_schema_list *l = parse_ok("A { B b; int k; }\nB { int p; int q; }");
    hollow_schema *a = l->items[0];
    const char *bang[] = {"b!"};
    HT_OK(hollow_schema_set_key(a, bang, 1));
    HT_OK(hollow_schema_list_validate(l));
    const char *empty[] = {"b..p"};
    HT_OK(hollow_schema_set_key(a, empty, 1));
    ck_assert_int_eq(hollow_schema_list_validate(l), HOLLOW_EINVAL);
    ck_assert_str_eq(hollow_error_last()->message,
                     "type A: key path b..p: empty field name");
    const char *bang_only[] = {"!"};
    HT_OK(hollow_schema_set_key(a, bang_only, 1));
    ck_assert_int_eq(hollow_schema_list_validate(l), HOLLOW_EINVAL);
    ck_assert_str_eq(hollow_error_last()->message,
                     "type A: key path !: empty field name");
    hollow_schema_list_free(l);

    /* a name declared twice (impossible through the API) */
    l = parse_ok("A { int x; }\nB { int y; }");
    l->items[1]->name[0] = 'A';
    ck_assert_int_eq(hollow_schema_list_validate(l), HOLLOW_EINVAL);
    ck_assert_str_eq(hollow_error_last()->message, "type A: declared twice");
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(schema_validate_vectors_and_spec)
{
    hollow_schema_list *l = parse_ok(spec_schemas);
    /* String and Integer are missing from the §11.7 five */
    ck_assert_int_eq(hollow_schema_list_validate(l), HOLLOW_EINVAL);
    ck_assert_str_eq(hollow_error_last()->message,
                     "type Actor: field name references unknown type String");
    hollow_schema_list_free(l);
    size_t len;
    char *text = read_corpus("spec_examples.hollow", &len);
    HT_OK(parse_exact(&l, text, len));
    HT_OK(hollow_schema_list_validate(l));
    hollow_schema_list_free(l);
    free(text);
}
END_TEST

static void expect_hops(const hollow__schema_key_path *p, const char *want)
{
    char got[512] = "";
    for (size_t i = 0; i < p->hop_count; i++) {
        const hollow_schema *s = p->hops[i].schema;
        if (i > 0)
            strcat(got, " ");
        strcat(got, hollow_schema_name(s));
        strcat(got, ".");
        strcat(got, hollow_schema_field_name(s, p->hops[i].field));
    }
    ck_assert_str_eq(got, want);
}

static void expect_resolve(const hollow_schema_list *l, const char *type,
                           const char *path, const char *want, bool ordinal)
{
    hollow__schema_key_path p;
    HT_OK(hollow__schema_key_path_resolve(&p, l, type, path));
    expect_hops(&p, want);
    ck_assert(p.ordinal == ordinal);
    hollow__schema_key_path_clear(&p);
    ck_assert_ptr_null(p.hops);
}

START_TEST(schema_key_path_resolve_expansion)
{
    hollow_schema_list *l =
        parse_ok("String { string value; }\n"
                 "Actor { String name; int birthYear; }\n"
                 "Country @PrimaryKey(code) { string code; string name; }\n"
                 "Studio { string name; Country country; }\n"
                 "Film @PrimaryKey(title, year) { string title; int year; "
                 "Studio studio; }\n"
                 "Award { Film film; string category; }\n"
                 "U { int x; }\nV { U u; }\nW { V v; }\n"
                 "Host @PrimaryKey(w) { W w; Actor a; }\n"
                 "Guest { Host host; int k; }\n"
                 "ListOfActor List<Actor>;\n"
                 "Cast { ListOfActor actors; int n; }");
    HT_OK(hollow_schema_list_validate(l));
    /* §4.2's example: name means name.value */
    expect_resolve(l, "Actor", "name", "Actor.name String.value", false);
    expect_resolve(l, "Actor", "name.value", "Actor.name String.value", false);
    expect_resolve(l, "Actor", "birthYear", "Actor.birthYear", false);
    /* multi-hop, and expansion through a single-field primary key */
    expect_resolve(l, "Award", "film.title", "Award.film Film.title", false);
    expect_resolve(l, "Studio", "country", "Studio.country Country.code",
                   false);
    expect_resolve(l, "Award", "film.studio.country",
                   "Award.film Film.studio Studio.country Country.code",
                   false);
    /* chains of single-field types, and a primary key that expands */
    expect_resolve(l, "W", "v", "W.v V.u U.x", false);
    expect_resolve(l, "Guest", "host", "Guest.host Host.w W.v V.u U.x",
                   false);
    /* '!' stops expansion: the key is the ordinal (of any kind of type) */
    expect_resolve(l, "Actor", "name!", "Actor.name", true);
    expect_resolve(l, "Cast", "actors!", "Cast.actors", true);
    expect_resolve(l, "Actor", "birthYear!", "Actor.birthYear", false);
    expect_resolve(l, "Award", "film.studio!", "Award.film Film.studio", true);

    hollow__schema_key_path p = {(hollow__schema_hop *)1, 9, true};
    ck_assert_int_eq(hollow__schema_key_path_resolve(&p, l, "Award", "film"),
                     HOLLOW_EINVAL);
    ck_assert_ptr_null(p.hops);
    ck_assert_uint_eq(p.hop_count, 0);
    ck_assert_int_eq(hollow__schema_key_path_resolve(&p, l, "Nope", "x"),
                     HOLLOW_EINVAL);
    ck_assert_str_eq(hollow_error_last()->message,
                     "key path x: unknown type Nope");
    ck_assert_int_eq(hollow__schema_key_path_resolve(&p, l, "Cast", "actors"),
                     HOLLOW_EINVAL);
    ck_assert_str_eq(hollow_error_last()->message,
                     "key path actors: type ListOfActor is a LIST, not an "
                     "OBJECT");
    hollow_schema_list_free(l);
}
END_TEST

START_TEST(schema_key_resolve_all_roots)
{
    size_t len;
    char *text = read_corpus("vector_b_collections.hollow", &len);
    hollow_schema_list *l = NULL;
    HT_OK(parse_exact(&l, text, len));
    free(text);

    static const struct {
        const char *type, *root, *hops;
    } cases[] = {
        {"HashedSetOfString", "String", "String.value"},
        {"SetOfPerson", "Person", "Person.id"},
        {"MapOfStringToPerson", "String", "String.value"},
        {"Group", "Group", "Group.name"},
        {"Person", "Person", "Person.id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const hollow_schema *s = hollow_schema_list_find(l, cases[i].type);
        ck_assert_str_eq(hollow__schema_key_root(s), cases[i].root);
        hollow__schema_key_path *paths = NULL;
        HT_OK(hollow__schema_key_resolve_all(&paths, l, s));
        ck_assert_uint_eq(hollow_schema_key_count(s), 1);
        expect_hops(&paths[0], cases[i].hops);
        hollow__schema_key_paths_free(paths, hollow_schema_key_count(s));
    }
    const hollow_schema *list = hollow_schema_list_find(l, "ListOfString");
    ck_assert_ptr_null(hollow__schema_key_root(list));
    const hollow_schema *plain = hollow_schema_list_find(l, "SetOfString");
    hollow__schema_key_path *none = (hollow__schema_key_path *)1;
    HT_OK(hollow__schema_key_resolve_all(&none, l, plain));
    ck_assert_ptr_null(none);
    hollow__schema_key_paths_free(NULL, 0);
    hollow_schema_list_free(l);
}
END_TEST

/* ---------------------------------------------------------------- sort */

START_TEST(schema_sort_vectors)
{
    for (size_t v = 0; v < VECTOR_COUNT; v++) {
        size_t len;
        char *text = read_corpus(vectors[v].file, &len);
        hollow_schema_list *l = NULL;
        HT_OK(parse_exact(&l, text, len));
        HT_OK(hollow_schema_list_sort(l));
        expect_order(l, vectors[v].order);
        /* sorting is idempotent */
        HT_OK(hollow_schema_list_sort(l));
        expect_order(l, vectors[v].order);
        hollow_schema_list_free(l);
        free(text);
    }
}
END_TEST

START_TEST(schema_sort_spec_model)
{
    /* §3.8: the input order plays no part */
    static const char *const texts[] = {
        "C { int x; }\nZ { Z z; }\nA { Z z; }\nB { A a; C c; }\n"
        "D { C c; }\nE { F f; }\nF { E e; }",
        "F { E e; }\nE { F f; }\nD { C c; }\nB { A a; C c; }\nA { Z z; }\n"
        "Z { Z z; }\nC { int x; }",
    };
    for (size_t i = 0; i < 2; i++) {
        hollow_schema_list *l = parse_ok(texts[i]);
        HT_OK(hollow_schema_list_sort(l));
        expect_order(l, "C D A B E F Z");
        hollow_schema_list_free(l);
    }
    /* types outside the list are not dependencies; small lists */
    hollow_schema_list *l = parse_ok("B List<Missing>;\nA Map<B,Other>;");
    HT_OK(hollow_schema_list_sort(l));
    expect_order(l, "B A");
    hollow_schema_list_free(l);
    l = parse_ok("");
    HT_OK(hollow_schema_list_sort(l));
    hollow_schema_list_free(l);
    l = parse_ok("Self { Self s; }");
    HT_OK(hollow_schema_list_sort(l));
    expect_order(l, "Self");
    hollow_schema_list_free(l);
}
END_TEST

/* ----------------------------------------------------------------- oom */

/* An allocator that fails once `oom_left` more allocations have been made
 * (never when it is negative). */
static long oom_left = -1;

static void *oom_malloc(void *opaque, size_t n)
{
    (void)opaque;
    if (oom_left == 0)
        return NULL;
    if (oom_left > 0)
        oom_left--;
    return malloc(n ? n : 1);
}

static void *oom_realloc(void *opaque, void *p, size_t n)
{
    (void)opaque;
    if (oom_left == 0)
        return NULL;
    if (oom_left > 0)
        oom_left--;
    return realloc(p, n ? n : 1);
}

static void oom_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

/* Everything the module does, on one text; returns the first error. */
static int exercise(const char *text, size_t len)
{
    hollow_schema_list *l = NULL;
    hollow_schema *copy = NULL, *back = NULL;
    hollow__schema_key_path *paths = NULL;
    hollow__buf b = HOLLOW__BUF_INIT;
    char *printed = NULL;
    int32_t h;
    int rc;

    if ((rc = hollow_schema_parse(&l, text, len)) < 0 ||
        (rc = hollow_schema_list_validate(l)) < 0 ||
        (rc = hollow_schema_list_print(&printed, l)) < 0 ||
        (rc = hollow_schema_list_hash(&h, l)) < 0 ||
        (rc = hollow_schema_list_sort(l)) < 0)
        goto done;
    for (size_t i = 0; i < hollow_schema_list_count(l); i++) {
        const hollow_schema *s = hollow_schema_list_get(l, i);
        hollow__reader r;
        if ((rc = hollow__schema_key_resolve_all(&paths, l, s)) < 0)
            goto done;
        hollow__schema_key_paths_free(paths, hollow_schema_key_count(s));
        paths = NULL;
        if ((rc = hollow__schema_clone(&copy, s)) < 0)
            goto done;
        hollow_schema_free(copy);
        copy = NULL;
        b.len = 0;
        hollow__schema_write(&b, s);
        if ((rc = hollow__buf_check(&b)) < 0)
            goto done;
        hollow__reader_init(&r, b.ptr, b.len, 0);
        if ((rc = hollow__schema_read(&back, &r)) < 0)
            goto done;
        ck_assert(hollow_schema_equal(back, s));
        hollow_schema_free(back);
        back = NULL;
    }
done:
    hollow__buf_free(&b);
    hollow_free(printed);
    hollow_schema_list_free(l);
    return rc;
}

/* Fail each allocation in turn: every failure is a clean HOLLOW_ENOMEM
 * (and, under ASan, leaks nothing). */
START_TEST(schema_oom_every_allocation)
{
    size_t len;
    char *text = read_corpus("vector_b_collections.hollow", &len);
    hollow_allocator a = {oom_malloc, oom_realloc, oom_free, NULL};
    hollow_set_allocator(&a);
    long n;
    for (n = 0;; n++) {
        oom_left = n;
        int rc = exercise(text, len);
        if (rc == HOLLOW_OK)
            break;
        ck_assert_msg(rc == HOLLOW_ENOMEM, "allocation %ld: rc %d (%s)", n,
                      rc, hollow_error_last()->message);
        ck_assert_str_eq(hollow_error_last()->message, "out of memory");
    }
    oom_left = -1;
    hollow_set_allocator(NULL);
    ck_assert_int_gt(n, 100);
    free(text);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *schema_suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc;

    tc = tcase_create("build");
    tcase_add_test(tc, schema_object_build_and_inspect);
    tcase_add_test(tc, schema_rejects_duplicate_field);
    tcase_add_test(tc, schema_build_rejects_bad_arguments);
    tcase_add_test(tc, schema_collection_accessors);
    tcase_add_test(tc, schema_equal_and_clone);
    tcase_add_test(tc, schema_list_add_find_get);
    tcase_add_test(tc, schema_field_type_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_test(tc, schema_parse_vectors_round_trip);
    tcase_add_test(tc, schema_parse_spec_examples_print);
    tcase_add_test(tc, schema_parse_tokens);
    tcase_add_test(tc, schema_parse_unicode_words);
    tcase_add_test(tc, schema_parse_keywords_second_word_only);
    tcase_add_test(tc, schema_parse_validated_positions);
    tcase_add_test(tc, schema_parse_error_messages);
    tcase_add_test(tc, schema_parse_duplicates);
    tcase_add_test(tc, schema_parse_long_name);
    tcase_add_test(tc, schema_parse_every_prefix);
    suite_add_tcase(s, tc);

    tc = tcase_create("print");
    tcase_add_test(tc, schema_print_truncates_like_snprintf);
    tcase_add_test(tc, schema_list_print_layout);
    suite_add_tcase(s, tc);

    tc = tcase_create("codec");
    tcase_add_test(tc, schema_codec_spec_example_bytes);
    tcase_add_test(tc, schema_codec_kind_ids);
    tcase_add_test(tc, schema_codec_java_envelope);
    tcase_add_test(tc, schema_codec_vectors_match_java_envelopes);
    tcase_add_test(tc, schema_codec_unicode_names);
    tcase_add_test(tc, schema_codec_truncated_every_offset);
    tcase_add_test(tc, schema_codec_rejects_corrupt);
    suite_add_tcase(s, tc);

    tc = tcase_create("hash");
    tcase_add_test(tc, schema_hash_spec_vector);
    tcase_add_test(tc, schema_hash_vectors);
    tcase_add_test(tc, schema_hash_non_ascii);
    suite_add_tcase(s, tc);

    tc = tcase_create("validate");
    tcase_add_test(tc, schema_validate_unknown_references);
    tcase_add_test(tc, schema_validate_key_paths);
    tcase_add_test(tc, schema_validate_vectors_and_spec);
    tcase_add_test(tc, schema_key_path_resolve_expansion);
    tcase_add_test(tc, schema_key_resolve_all_roots);
    suite_add_tcase(s, tc);

    tc = tcase_create("sort");
    tcase_add_test(tc, schema_sort_vectors);
    tcase_add_test(tc, schema_sort_spec_model);
    suite_add_tcase(s, tc);

    tc = tcase_create("oom");
    tcase_add_test(tc, schema_oom_every_allocation);
    suite_add_tcase(s, tc);

    return s;
}

int main(void) { return ht_run_suite(schema_suite()); }
