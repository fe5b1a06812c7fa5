/*
 * The write state and snapshot writer against Java's bytes: each vector
 * scenario's first-version records, decoded from Java's snapshot and added
 * type by type in ordinal order through the public API, with Java's tags,
 * must give back Java's snapshot byte for byte (vectors README, "Reproducing
 * the blobs with a C writer"). Also: deduplication, ordinal assignment,
 * the write-side checksum, and bad input.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/dump.h"
#include "hollow/read.h"
#include "hollow/write.h"
#include "testhelp.h"

static const char *SCENARIOS[] = HT_GOLDEN_SCENARIOS;

static uint64_t target_size(const char *scenario)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/manifest.json", HOLLOW_GOLDEN_DIR,
             scenario);
    json_error_t err;
    json_t *m = json_load_file(path, 0, &err);
    ck_assert_ptr_nonnull(m);
    json_int_t v = json_integer_value(json_object_get(m, "targetMaxTypeShardSize"));
    json_decref(m);
    return (uint64_t)v;
}

START_TEST(write_reproduces_java_first_snapshot)
{
    const char *sc = SCENARIOS[_i];
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/snapshot-20250101000000001",
             HOLLOW_GOLDEN_DIR, sc);
    size_t jlen;
    uint8_t *java = ht_read_file(path, &jlen);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, java, jlen, NULL));

    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_list_new(&l));
    for (size_t i = 0; i < hollow_read_state_type_count(rs); i++) {
        hollow_schema *copy = NULL;
        HT_OK(hollow_schema_clone(&copy, hollow_type_schema(
                                             hollow_read_state_type_at(rs, i))));
        HT_OK(hollow_schema_list_add(l, copy));
    }
    hollow_write_options opts = HOLLOW_WRITE_OPTIONS_INIT;
    opts.target_shard_size = target_size(sc);
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &opts));
    /* tags come from Java's blob (vectors README) */
    hollow_write_state_set_randomized_tag(ws, hollow_read_state_randomized_tag(rs));
    for (size_t i = 0; i < hollow_read_state_header_tag_count(rs); i++) {
        const char *k, *v;
        HT_OK(hollow_read_state_header_tag_at(rs, i, &k, &v));
        HT_OK(hollow_write_state_set_header_tag(ws, k, v));
    }
    /* type by type in write order, records in ordinal order */
    const hollow_schema_list *order = hollow_write_state_schemas(ws);
    for (size_t i = 0; i < hollow_schema_list_count(order); i++) {
        const char *name = hollow_schema_name(hollow_schema_list_get(order, i));
        const hollow_type *t = hollow_read_state_type(rs, name);
        hollow_record *r = NULL;
        HT_OK(hollow_record_new(&r, ws, name));
        for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0;
             o = hollow_type_next_ordinal(t, o + 1)) {
            ht_copy_record(r, t, o);
            hollow_ordinal got;
            HT_OK(hollow_write_state_add(&got, ws, r));
            ck_assert_msg(got == o, "%s %s: ordinal %d, Java gave %d", sc, name,
                          (int)got, (int)o);
        }
        hollow_record_free(r);
    }
    uint32_t wck, rck;
    HT_OK(hollow_write_state_checksum(&wck, ws));
    HT_OK(hollow_read_state_checksum(&rck, rs));
    ck_assert_uint_eq(wck, rck);
    ht_mem out = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &out));
    size_t i = 0;
    while (i < jlen && i < out.len && java[i] == out.p[i])
        i++;
    ck_assert_msg(out.len == jlen && i == jlen,
                  "%s: %zu bytes written, Java wrote %zu; first difference at "
                  "byte %zu", sc, out.len, jlen, i);
    free(out.p);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
    hollow_read_state_release(rs);
    free(java);
}
END_TEST

/* ------------------------------------------------- ordinals and dedup */

static hollow_write_state *movie_state(void)
{
    static const char text[] =
        "Movie @PrimaryKey(id) { int id; string title; }\n"
        "SetOfMovie Set<Movie>;\n";
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, text, sizeof text - 1));
    hollow_write_options o = HOLLOW_WRITE_OPTIONS_INIT;
    o.target_shard_size = UINT64_MAX;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &o));
    hollow_schema_list_free(l);
    return ws;
}

static hollow_ordinal add_movie(hollow_write_state *ws, int32_t id,
                                const char *title)
{
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "Movie"));
    HT_OK(hollow_record_set_int(r, 0, id));
    if (title != NULL)
        HT_OK(hollow_record_set_string(r, 1, title, strlen(title)));
    hollow_ordinal o;
    HT_OK(hollow_write_state_add(&o, ws, r));
    hollow_record_free(r);
    return o;
}

/* §6.6 worked example 1, written by us */
START_TEST(write_worked_example_1)
{
    hollow_write_state *ws = movie_state();
    ck_assert_int_eq(add_movie(ws, 1, "Up"), 0);
    ck_assert_int_eq(add_movie(ws, 2, "Heat"), 1);
    ck_assert_int_eq(add_movie(ws, -1, NULL), 2);
    ck_assert_int_eq(add_movie(ws, 2, "Heat"), 1); /* identical: same record */
    hollow_write_state_set_randomized_tag(ws, 0x1111111111111111);
    ht_mem out = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &out));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, out.p, out.len, NULL));
    const hollow_type *t = hollow_read_state_type(rs, "Movie");
    ck_assert_uint_eq(hollow_type_record_count(t), 3);
    /* the Movie section: 02 | 03 04 | 01 | 1C5A12 | 00 | 06 "UpHeat" */
    static const uint8_t shard[] = {0x02, 0x03, 0x04, 0x01, 0, 0, 0, 0, 0,
                                    0x1C, 0x5A, 0x12, 0x00, 0x06, 'U', 'p',
                                    'H', 'e', 'a', 't'};
    bool found = false;
    for (size_t i = 0; i + sizeof shard <= out.len && !found; i++)
        found = memcmp(out.p + i, shard, sizeof shard) == 0;
    ck_assert_msg(found, "the §6.6 shard bytes are not in the blob");
    hollow_read_state_release(rs);
    hollow_write_state_free(ws);
    free(out.p);
}
END_TEST

START_TEST(write_rejects_wrong_field_types)
{
    hollow_write_state *ws = movie_state();
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "Movie"));
    ck_assert_int_eq(hollow_record_set_long(r, 0, 5), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_record_set_int(r, 7, 5), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_record_add_element(r, 1), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_record_set_string(r, 1, "\xff", 1), HOLLOW_EINVAL);
    hollow_record_free(r);
    ck_assert_int_eq(hollow_record_new(&r, ws, "Nope"), HOLLOW_ENOTFOUND);
    ck_assert_ptr_null(r);
    hollow_write_state_free(ws);
}
END_TEST

static hollow_read_state *snapshot_of(hollow_write_state *ws)
{
    ht_mem out = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &out));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, out.p, out.len, NULL));
    free(out.p);
    return rs;
}

static void expect_tag(const hollow_read_state *rs, const char *key,
                       const char *value)
{
    const char *v = hollow_read_state_header_tag(rs, key);
    ck_assert_msg(v != NULL && strcmp(v, value) == 0,
                  "header tag '%s' is '%s', expected '%s'", key,
                  v ? v : "(absent)", value);
}

/* as in Java, a rollback keeps the header tags set in the undone cycle;
 * the reverse delta still carries those of the last written state */
START_TEST(write_rollback_keeps_header_tags)
{
    hollow_write_state *ws = movie_state();
    add_movie(ws, 1, "Up");
    HT_OK(hollow_write_state_set_header_tag(ws, "a", "1"));
    hollow_read_state *v1 = snapshot_of(ws);
    HT_OK(hollow_write_state_prepare_cycle(ws));
    /* the same records again: nothing to publish */
    add_movie(ws, 1, "Up");
    HT_OK(hollow_write_state_set_header_tag(ws, "a", "2"));
    HT_OK(hollow_write_state_set_header_tag(ws, "b", "3"));
    ck_assert(!hollow_write_state_has_changes(ws));
    HT_OK(hollow_write_state_rollback(ws));
    HT_OK(hollow_write_state_prepare_cycle(ws));
    add_movie(ws, 1, "Up");
    add_movie(ws, 2, "Heat");
    ck_assert(hollow_write_state_has_changes(ws));
    hollow_read_state *v2 = snapshot_of(ws);
    ck_assert_uint_eq(hollow_read_state_header_tag_count(v2), 2);
    expect_tag(v2, "a", "2");
    expect_tag(v2, "b", "3");
    ht_mem rev = {0};
    HT_OK(hollow_write_state_write_reverse_delta(ws, ht_mem_sink, &rev));
    hollow_read_state *back = NULL;
    HT_OK(hollow_read_state_apply_delta(&back, v2, rev.p, rev.len));
    ck_assert_uint_eq(hollow_read_state_header_tag_count(back), 1);
    expect_tag(back, "a", "1");
    hollow_read_state_release(back);
    hollow_read_state_release(v2);
    hollow_read_state_release(v1);
    hollow_write_state_free(ws);
    free(rev.p);
}
END_TEST

/* INT32_MIN is null, every NaN is one NaN (§6.1): identity follows */
START_TEST(write_java_value_rules)
{
    static const char text[] = "T { int i; double d; }";
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, text, sizeof text - 1));
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "T"));
    hollow_ordinal a, b;
    HT_OK(hollow_record_set_int(r, 0, INT32_MIN));
    HT_OK(hollow_record_set_double(r, 1, nan("1")));
    HT_OK(hollow_write_state_add(&a, ws, r));
    hollow_record_reset(r);
    HT_OK(hollow_record_set_null(r, 0));
    HT_OK(hollow_record_set_double(r, 1, -nan("2")));
    HT_OK(hollow_write_state_add(&b, ws, r));
    ck_assert_int_eq(a, b);
    hollow_record_free(r);
    hollow_write_state_free(ws);
    hollow_schema_list_free(l);
}
END_TEST

static Suite *write_suite(void)
{
    Suite *s = suite_create("write");
    TCase *tc = tcase_create("golden");
    tcase_add_loop_test(tc, write_reproduces_java_first_snapshot, 0,
                        (int)(sizeof SCENARIOS / sizeof *SCENARIOS));
    suite_add_tcase(s, tc);
    tc = tcase_create("records");
    tcase_add_test(tc, write_worked_example_1);
    tcase_add_test(tc, write_rejects_wrong_field_types);
    tcase_add_test(tc, write_java_value_rules);
    tcase_add_test(tc, write_rollback_keeps_header_tags);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(write_suite()); }
