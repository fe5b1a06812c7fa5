/*
 * The Movies dataset (bench-dataset.md) imported from the JSON lines that
 * `hollow-bench movies --jsonl` writes gives the same deep dump of Movie as
 * the C populate of bench/movies_populate.c, for both versions: import is
 * tied to the byte-exact core by its data, whatever ordinals it gives.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "movies_gen.h"
#include "movies_populate.h"
#include "testhelp.h"

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

static char *movie_dump(hollow_write_state *ws)
{
    text blob = {NULL, 0}, dump = {NULL, 0};
    HT_OK(hollow_write_state_write_snapshot(ws, blob_sink, &blob));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, blob.p, blob.len, NULL));
    HT_OK(hollow_dump_deep(rs, "Movie", text_sink, &dump));
    hollow_read_state_free(rs);
    free(blob.p);
    return dump.p;
}

START_TEST(import_movies_equals_populate)
{
    movies_data d;
    ck_assert_int_eq(movies_data_generate(&d, 8000, 42), 0);
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, movies_schema_text,
                              strlen(movies_schema_text)));
    for (int version = 1; version <= 2; version++) {
        /* the JSON lines, as hollow-bench movies --jsonl writes them */
        size_t count = version == 1 ? d.v1_count : d.v2_count, len = 0;
        char *lines = malloc(count * MOVIES_JSON_MAX);
        for (size_t i = 0; i < count; i++) {
            const movies_movie *m = version == 1 ? &d.v1[i] : d.v2[i];
            size_t n = movies_json_line(lines + len, MOVIES_JSON_MAX - 1,
                                        d.actors, m, hollow_format_double);
            ck_assert_uint_gt(n, 0);
            len += n;
            lines[len++] = '\n';
        }
        hollow_write_state *a = NULL, *b = NULL;
        HT_OK(hollow_write_state_new(&a, l, NULL));
        HT_OK(hollow_write_state_new(&b, l, NULL));
        hollow_import_options o = HOLLOW_IMPORT_OPTIONS_INIT;
        o.threads = 3;
        o.strict = true;
        hollow_import_stats st;
        HT_OK(hollow_import_buffer(&st, a, NULL, "v.jsonl", lines, len, &o));
        ck_assert_uint_eq(st.records, count);
        movies_writer w;
        HT_OK(movies_writer_init(&w, b, d.actor_count));
        HT_OK(movies_populate(&w, &d, version));
        movies_writer_free(&w);
        char *da = movie_dump(a), *db = movie_dump(b);
        ck_assert_uint_eq(strlen(da), strlen(db));
        ck_assert(strcmp(da, db) == 0);
        free(da);
        free(db);
        hollow_write_state_free(a);
        hollow_write_state_free(b);
        free(lines);
    }
    hollow_schema_list_free(l);
    movies_data_free(&d);
}
END_TEST

static Suite *import_movies_suite(void)
{
    Suite *s = suite_create("import_movies");
    TCase *tc = tcase_create("movies");
    tcase_add_test(tc, import_movies_equals_populate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(import_movies_suite()); }
